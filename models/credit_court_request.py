import logging
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools.misc import format_date

from ..engine.court import is_overseas, normalize_country
from ..engine.deadlines import (
    ABROAD,
    METROPOLITAN,
    OVERSEAS,
    Deadline,
    court_fee_deadline,
    enforcement_date,
    european_opposition_deadline,
    lawyer_deadline,
    needs_lawyer,
    opposition_deadline,
    service_deadline,
    title_expiry,
)

# The deadline mixin must be defined before this model, which res_partner.py
# imports early (for LEGAL_NATURES).
from . import credit_legal_deadline_mixin  # noqa: F401
from .credit_access import check_collection_user, internal

_logger = logging.getLogger(__name__)

# Legal nature of a debtor: it decides the competent court (engine/court.py).
LEGAL_NATURES = [
    ("trader", "Trader or Commercial Company"),
    ("artisan", "Artisan"),
    ("liberal", "Liberal Profession"),
    ("civil_company", "Civil Company"),
    ("association", "Association"),
    ("farmer", "Farmer"),
    ("consumer", "Consumer"),
]

# Court types (engine/court.py decides which one applies to a debtor).
COURT_TYPES = [
    ("commerce", "Commercial Court"),
    ("tae", "Economic Activities Court"),
    ("tj_commercial", "Judicial Court, Commercial Chamber"),
    ("mixed_commerce", "Mixed Commercial Court"),
    ("tj", "Judicial Court"),
    ("european_order", "European Order for Payment"),
]

CLAIM_KINDS = [
    ("principal", "Principal"),
    ("penalty_invoice", "Penalty Invoice"),
    ("interest", "Late-Payment Penalties or Interest"),
    ("indemnity", "Fixed Recovery Indemnity"),
    ("compensation", "Additional Compensation"),
    ("penal_clause", "Penal Clause"),
    ("court_fee", "Court Fee"),
    ("tae_contribution", "Economic Justice Contribution"),
    ("other", "Other Costs"),
]

# A case is open from filing until it is closed: dunning and penalty invoicing stop
# for its items, and the customer and the invoices show it.
OPEN_CASE_STATES = ("filed", "order_issued", "served", "opposed", "enforceable")
# Courts whose greffe charges a fee to pay within 15 days of the request (CPC 1425):
# the commercial courts and the economic activities courts. The judicial court's
# commercial chamber and the mixed commercial courts have the State's greffe and
# charge none (LAW.md §3.7), as the court request wizard's claim lines already say.
FEE_COURT_TYPES = ("commerce", "tae")
COURT_STEPS = [
    ("filed", "Filed"),
    ("court_fee_paid", "Court Fee Paid"),
    ("order_issued", "Order Issued"),
    ("rejected", "Rejected"),
    ("served", "Served"),
    ("personal_act", "Act in Person"),
    ("opposed", "Opposed"),
    ("enforceable", "Enforceable"),
    ("paid", "Paid"),
    ("abandoned", "Abandoned"),
    ("lapsed", "Lapsed"),
    ("cancelled", "Cancelled"),
    ("draft", "Reset to Draft"),
]
# The states a case must be in for each step the step wizard records. An opposed
# case becomes enforceable once the judgment on the opposition is enforceable or
# the opposition is withdrawn (the user says which in the note); an order cannot be
# opposed before it is served, nor served before it is issued.
STEP_FROM_STATES = {
    "court_fee_paid": OPEN_CASE_STATES,
    "order_issued": ("filed",),
    "rejected": ("filed",),
    "served": ("order_issued",),
    "personal_act": ("served",),
    "opposed": ("served",),
    "enforceable": ("served", "opposed"),
    "paid": OPEN_CASE_STATES,
    "abandoned": OPEN_CASE_STATES,
    "lapsed": ("filed", "order_issued"),
}
# What a small-claims case may record here: its own steps live with its procedure.
SMALL_CLAIMS_STEPS = ("paid", "abandoned")
STEP_STATE = {
    "order_issued": "order_issued",
    "rejected": "rejected",
    "served": "served",
    "opposed": "opposed",
    "enforceable": "enforceable",
    "paid": "paid",
    "abandoned": "abandoned",
    "lapsed": "lapsed",
}
STEP_DATE_FIELD = {
    "court_fee_paid": "court_fee_paid_date",
    "order_issued": "order_date",
    "rejected": "rejected_date",
    "served": "served_date",
    "personal_act": "personal_act_date",
    "opposed": "opposition_date",
    "enforceable": "enforceable_date",
    "paid": "paid_date",
    "abandoned": "abandoned_date",
    "lapsed": "lapsed_date",
}
# The activities of every legal deadline a court case may have open.
CASE_DEADLINE_KEYS = (
    "court_fee",
    "service",
    "opposition",
    "eop_opposition",
    "enforcement",
    "lawyer",
    "title",
    "small_claims",
)


class CreditCourtRequest(models.Model):
    """One injonction de payer request (CPC 1405 to 1425) against one debtor: the
    items claimed, the claim as of a date, the court, the supporting documents.

    The claim is computed once, by the court request wizard, and stored in
    ``claim_line_ids``: the documents print these lines, so a reprint never
    changes what was filed. ``_get_claim_data`` is the one data builder of the
    request, its décompte annex and its bordereau.
    """

    _name = "credit.court.request"
    _description = "Court Request (Injonction de Payer)"
    # The deadline mixin brings mail.activity.mixin (listing both breaks the MRO).
    _inherit = ["mail.thread", "credit.legal.deadline.mixin"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(required=True, readonly=True, copy=False, default="/")
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(
        "res.currency",
        required=True,
        default=lambda self: self.env.company.currency_id,
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Debtor",
        required=True,
        index=True,
        check_company=True,
        tracking=True,
    )
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        default=lambda self: self.env.user,
        tracking=True,
    )
    # The case's life after filing (issue "court case follow-up"): an order issued
    # in full or in part, or rejected; served; opposed, or enforceable; lapsed when a
    # deadline was missed; paid; abandoned by the creditor. A small-claims attempt
    # ends enforceable (an agreement is a title, CPCE L125-1) or failed.
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("filed", "Filed"),
            ("order_issued", "Order Issued"),
            ("rejected", "Rejected"),
            ("served", "Served"),
            ("opposed", "Opposed"),
            ("enforceable", "Enforceable"),
            ("failed", "Failed"),
            ("lapsed", "Lapsed"),
            ("paid", "Paid"),
            ("abandoned", "Abandoned"),
            ("cancelled", "Cancelled"),
        ],
        default="draft",
        required=True,
        index=True,
        tracking=True,
    )
    procedure = fields.Selection(
        [
            ("injonction", "Injonction de Payer"),
            ("european_order", "European Order for Payment"),
            ("small_claims", "Small-Claims Procedure"),
        ],
        default="injonction",
        required=True,
    )
    as_of_date = fields.Date(string="Claim As Of", required=True, tracking=True)
    debtor_legal_nature = fields.Selection(
        LEGAL_NATURES, string="Debtor's Legal Nature"
    )
    court_type = fields.Selection(COURT_TYPES, tracking=True)
    court_name = fields.Char(tracking=True)
    court_address = fields.Text()
    referral_requested = fields.Boolean(
        string="Referral if Opposed (art. 1408)",
        help="Ask that, if the debtor opposes, the case go straight to the court "
        "competent on the merits (CPC 1408).",
    )
    referral_court = fields.Char()
    correspondence_address = fields.Text(
        help="Address where the court notifies an opposition (CPC 1418): confirmed "
        "by the user in the wizard.",
    )
    move_ids = fields.Many2many(
        "account.move",
        "credit_court_request_move_rel",
        "request_id",
        "move_id",
        string="Documents Claimed",
        check_company=True,
        help="Invoices, penalty invoices, credit notes and payments of the claim.",
    )
    penalty_line_ids = fields.Many2many(
        "credit.penalty.line",
        "credit_court_request_penalty_line_rel",
        "request_id",
        "line_id",
        string="Penalty Lines",
        help="The penalty lines claimed: the décompte annex prints them.",
    )
    letter_ids = fields.Many2many(
        "credit.dunning.letter",
        "credit_court_request_letter_rel",
        "request_id",
        "letter_id",
        string="Formal Notices",
    )
    claim_line_ids = fields.One2many(
        "credit.court.request.line", "request_id", string="Claim"
    )
    document_ids = fields.One2many(
        "credit.court.request.document", "request_id", string="Supporting Documents"
    )
    amount_principal = fields.Monetary(string="Principal", readonly=True)
    amount_penalties = fields.Monetary(string="Penalties or Interest", readonly=True)
    amount_indemnity = fields.Monetary(string="Recovery Indemnities", readonly=True)
    amount_penal_clause = fields.Monetary(string="Penal Clause", readonly=True)
    amount_costs = fields.Monetary(string="Costs", readonly=True)
    amount_total = fields.Monetary(string="Total Claimed", readonly=True)
    interest_running_text = fields.Text(
        string="Running Interest",
        readonly=True,
        help="The rate at which penalties or interest keep running until full "
        "payment, as printed in the request.",
    )
    claim_nature = fields.Text(
        string="Nature and Origin of the Claim",
        help="Contract, orders, deliveries, invoices, reminders and formal notice.",
    )
    findings = fields.Html(
        string="Checks", readonly=True, help="The wizard's findings at creation."
    )
    filed_date = fields.Date(tracking=True, copy=False)
    # The case follow-up: each step is recorded by the step wizard, which also logs
    # it in ``step_ids`` and schedules the deadlines it starts.
    court_fee_paid_date = fields.Date(copy=False, readonly=True)
    order_date = fields.Date(copy=False, readonly=True, tracking=True)
    order_reference = fields.Char(copy=False, readonly=True)
    grant = fields.Selection(
        [("full", "In Full"), ("partial", "In Part")],
        copy=False,
        readonly=True,
        help="The judge may grant only part of the claim; the creditor cannot "
        "appeal, but may sue for the remainder on the merits (CPC 1409).",
    )
    amount_granted = fields.Monetary(copy=False, readonly=True)
    amount_claim_remainder = fields.Monetary(
        string="Claim's Remainder",
        compute="_compute_amount_claim_remainder",
        help="The part of the claim the order did not grant.",
    )
    rejected_date = fields.Date(copy=False, readonly=True)
    served_date = fields.Date(copy=False, readonly=True, tracking=True)
    served_in_person = fields.Boolean(copy=False, readonly=True)
    personal_act_date = fields.Date(
        string="First Act in Person",
        copy=False,
        readonly=True,
        help="First act served to the debtor in person, or first enforcement "
        "measure making the debtor's assets unavailable: when service was not made "
        "in person, the opposition window runs from it.",
    )
    opposition_date = fields.Date(copy=False, readonly=True, tracking=True)
    opposition_notified_date = fields.Date(
        string="Opposition Notified",
        copy=False,
        readonly=True,
        help="Day the court notified the opposition to the creditor.",
    )
    enforceable_date = fields.Date(copy=False, readonly=True, tracking=True)
    lapsed_date = fields.Date(copy=False, readonly=True)
    paid_date = fields.Date(copy=False, readonly=True)
    abandoned_date = fields.Date(copy=False, readonly=True)
    debtor_location = fields.Selection(
        [
            (METROPOLITAN, "Metropolitan France"),
            (OVERSEAS, "Overseas France"),
            (ABROAD, "Abroad"),
        ],
        compute="_compute_debtor_location",
        store=True,
        readonly=False,
        help="Where the debtor lives, from its address: the opposition window is "
        "one month longer overseas and two months longer abroad when the court "
        "sits in metropolitan France (CPC 643). Choose Metropolitan France when "
        "the court sits in the debtor's own overseas territory.",
    )
    court_fee_deadline = fields.Date(compute="_compute_deadlines", store=True)
    service_deadline = fields.Date(compute="_compute_deadlines", store=True)
    opposition_deadline = fields.Date(compute="_compute_deadlines", store=True)
    enforceable_from = fields.Date(compute="_compute_deadlines", store=True)
    lawyer_deadline = fields.Date(compute="_compute_deadlines", store=True)
    title_expiry_date = fields.Date(
        string="Title Expires", compute="_compute_deadlines", store=True
    )
    needs_lawyer = fields.Boolean(
        compute="_compute_deadlines",
        store=True,
        help="After an opposition before the judicial court, a lawyer is mandatory "
        "above 10,000 EUR.",
    )
    opposition_window_open = fields.Boolean(
        compute="_compute_opposition_window_open",
        help="Served, but not to the debtor in person: the opposition window stays "
        "open until an act in person is recorded.",
    )
    step_ids = fields.One2many(
        "credit.court.request.step", "request_id", string="Steps", readonly=True
    )
    payment_partial_ids = fields.Many2many(
        "account.partial.reconcile",
        string="Payments Received",
        compute="_compute_payments",
        help="Payments and credit notes matched with the claimed invoices after the "
        "claim's date.",
    )
    amount_paid = fields.Monetary(
        string="Paid Since the Claim", compute="_compute_payments"
    )
    amount_remaining = fields.Monetary(
        string="Remaining Due",
        compute="_compute_payments",
        help="What remains of the amount granted (the whole claim until an order "
        "grants part of it) once the payments received are deducted.",
    )
    claim_line_count = fields.Integer(compute="_compute_counts")
    document_count = fields.Integer(compute="_compute_counts")

    # A filed or cancelled request is a record of what was filed: what it claims,
    # from whom and before which court no longer changes.
    _court_request_locked_fields = {
        "company_id",
        "currency_id",
        "partner_id",
        "procedure",
        "as_of_date",
        "debtor_legal_nature",
        "court_type",
        "court_name",
        "court_address",
        "referral_requested",
        "referral_court",
        "correspondence_address",
        "move_ids",
        "penalty_line_ids",
        "letter_ids",
        "claim_line_ids",
        "document_ids",
        "amount_principal",
        "amount_penalties",
        "amount_indemnity",
        "amount_penal_clause",
        "amount_costs",
        "amount_total",
        "interest_running_text",
        "claim_nature",
        "findings",
    }

    @api.depends("claim_line_ids", "document_ids")
    def _compute_counts(self):
        for request in self:
            request.claim_line_count = len(request.claim_line_ids)
            request.document_count = len(request.document_ids)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                company = self.env["res.company"].browse(
                    vals.get("company_id") or self.env.company.id
                )
                vals["name"] = self.env["ir.sequence"].with_company(
                    company
                ).next_by_code("credit.court.request") or _("New")
        return super().create(vals_list)

    def write(self, vals):
        locked = self.filtered(lambda request: request.state != "draft")
        if locked and set(vals) & self._court_request_locked_fields:
            raise UserError(
                _(
                    "The court request %(request)s is %(state)s: it can no longer be "
                    "changed. Cancel it and prepare a new one.",
                    request=locked[0].display_name,
                    state=dict(self._fields["state"]._description_selection(self.env))[
                        locked[0].state
                    ],
                )
            )
        res = super().write(vals)
        if "debtor_location" in vals:
            # The opposition window and the enforcement date move with it.
            self.filtered(
                lambda request: request.state == "served"
            )._schedule_court_step("personal_act")
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_filed(self):
        if any(request.state not in ("draft", "cancelled") for request in self):
            raise UserError(
                _("A filed court request cannot be deleted: cancel it instead.")
            )

    # ------------------------------------------------------------------ follow-up

    @api.depends("grant", "amount_granted", "amount_total")
    def _compute_amount_claim_remainder(self):
        for request in self:
            request.amount_claim_remainder = (
                request.amount_total - request.amount_granted
                if request.grant == "partial"
                else 0.0
            )

    @api.depends("partner_id")
    def _compute_debtor_location(self):
        for request in self:
            partner = request.partner_id.commercial_partner_id
            code = partner.country_id.code
            if is_overseas(code, partner.zip or None):
                request.debtor_location = OVERSEAS
            elif normalize_country(code) != "FR":
                request.debtor_location = ABROAD
            else:
                request.debtor_location = METROPOLITAN

    @api.depends(
        "procedure",
        "court_type",
        "amount_total",
        "filed_date",
        "order_date",
        "served_date",
        "served_in_person",
        "personal_act_date",
        "debtor_location",
        "opposition_notified_date",
        "enforceable_date",
    )
    def _compute_deadlines(self):
        for request in self:
            deadlines = request._get_court_deadlines()
            request.court_fee_deadline = _deadline_date(deadlines["court_fee"])
            request.service_deadline = _deadline_date(deadlines["service"])
            request.opposition_deadline = _deadline_date(deadlines["opposition"])
            request.enforceable_from = _deadline_date(deadlines["enforcement"])
            request.lawyer_deadline = _deadline_date(deadlines["lawyer"])
            request.title_expiry_date = _deadline_date(deadlines["title"])
            request.needs_lawyer = request.procedure == "injonction" and needs_lawyer(
                request.court_type, request.amount_total
            )

    @api.depends("state", "procedure", "served_in_person", "personal_act_date")
    def _compute_opposition_window_open(self):
        for request in self:
            request.opposition_window_open = (
                request.state == "served"
                and request.procedure == "injonction"
                and not request.served_in_person
                and not request.personal_act_date
            )

    def _get_court_deadlines(self):
        """The legal deadlines of the case, as the engine computes them:
        ``{"court_fee", "service", "opposition", "enforcement", "lawyer", "title":
        Deadline or None}`` (None: the deadline does not run, or not yet).

        A European order is served by the court, opposed within 30 days of
        service and then declared enforceable (Reg. (EC) 1896/2006 art. 16, 18);
        an injonction de payer follows CPC 1411 to 1422. A small-claims case has
        its own deadline (credit_court_procedures.py)."""
        self.ensure_one()
        result = dict.fromkeys(
            ("court_fee", "service", "opposition", "enforcement", "lawyer", "title")
        )
        if self.procedure == "small_claims":
            return result
        european = self.procedure == "european_order"
        if self.filed_date and self.court_type in FEE_COURT_TYPES and not european:
            result["court_fee"] = court_fee_deadline(self.filed_date)
        if self.order_date and not european:
            result["service"] = service_deadline(self.order_date)
        if self.served_date and european:
            result["opposition"] = european_opposition_deadline(self.served_date)
            result["enforcement"] = self._european_enforcement(result["opposition"])
        elif self.served_date and self.order_date:
            location = self.debtor_location or METROPOLITAN
            personal_act = self.personal_act_date or None
            result["opposition"] = opposition_deadline(
                self.served_date, self.served_in_person, location, personal_act
            )
            result["enforcement"] = enforcement_date(
                self.order_date,
                self.served_date,
                self.served_in_person,
                location,
                personal_act,
            )
        if (
            self.opposition_notified_date
            and not european
            and needs_lawyer(self.court_type, self.amount_total)
        ):
            result["lawyer"] = lawyer_deadline(self.opposition_notified_date)
        if self.enforceable_date:
            result["title"] = title_expiry(self.enforceable_date)
        return result

    @staticmethod
    def _european_enforcement(opposition):
        """Without an opposition within the 30 days, the court declares the
        European order enforceable on form G (Reg. (EC) 1896/2006 art. 18): the
        creditor asks for it from the next day."""
        return Deadline(
            opposition.date + timedelta(days=1),
            "enforcement",
            "Reg. (EC) 1896/2006 art. 18",
            "ask for the declaration of enforceability once 30 days have passed "
            "after service without opposition",
        )

    # ------------------------------------------------------------------ payments

    def _get_amount_granted_total(self):
        """What the debtor owes under the case: the amount granted by a partial
        order, else the whole claim (principal and accessories)."""
        self.ensure_one()
        return self.amount_granted if self.grant == "partial" else self.amount_total

    def _read_court_payments(self):
        """``{request id: (amount, last date, partial ids)}``: the payments and
        credit notes matched with the claimed invoices' receivable items and dated
        after the claim's date, in one query for all of ``self``. A document of the
        claim itself (a credit note or payment already deducted) never counts."""
        ids = [request_id for request_id in self._origin.ids if request_id]
        if not ids:
            return {}
        self.env["account.partial.reconcile"].flush_model(
            ["debit_move_id", "credit_move_id", "amount"]
        )
        self.env["account.move.line"].flush_model(["move_id", "display_type", "date"])
        self.flush_model(["as_of_date", "move_ids"])
        rows = self.env.execute_query(
            SQL(
                """
                SELECT rel.request_id, apr.id, apr.amount, pay.date
                  FROM credit_court_request_move_rel rel
                  JOIN credit_court_request req ON req.id = rel.request_id
                  JOIN account_move_line inv
                    ON inv.move_id = rel.move_id
                   AND inv.display_type = 'payment_term'
                  JOIN account_partial_reconcile apr ON apr.debit_move_id = inv.id
                  JOIN account_move_line pay ON pay.id = apr.credit_move_id
                 WHERE rel.request_id = ANY(%s)
                   AND pay.date > req.as_of_date
                   AND NOT EXISTS (
                        SELECT 1
                          FROM credit_court_request_move_rel own
                         WHERE own.request_id = rel.request_id
                           AND own.move_id = pay.move_id
                   )
              ORDER BY rel.request_id, pay.date, apr.id
                """,
                ids,
            )
        )
        result = {}
        for request_id, partial_id, amount, day in rows:
            total, last, partial_ids = result.get(request_id, (0.0, None, []))
            result[request_id] = (total + amount, max(last or day, day), partial_ids)
            partial_ids.append(partial_id)
        return result

    @api.depends("move_ids", "as_of_date", "grant", "amount_granted", "amount_total")
    def _compute_payments(self):
        figures = self._read_court_payments()
        for request in self:
            amount, _last, partial_ids = figures.get(
                request._origin.id, (0.0, None, [])
            )
            request.payment_partial_ids = [fields.Command.set(partial_ids)]
            request.amount_paid = amount
            request.amount_remaining = max(
                request.currency_id.round(request._get_amount_granted_total() - amount),
                0.0,
            )

    def _get_covered_cases(self):
        """``{case id: day of the last payment}`` of the cases of ``self`` whose
        amount granted is covered by the payments received."""
        figures = self._read_court_payments()
        covered = {}
        for case in self:
            amount, last, _partial_ids = figures.get(case.id, (0.0, None, []))
            due = case._get_amount_granted_total()
            if amount and case.currency_id.compare_amounts(amount, due) >= 0:
                covered[case.id] = last
        return covered

    def _close_as_paid(self, dates):
        """Close the cases as paid on the day of their last payment (never before
        filing), log the step and close their open deadlines."""
        by_day = {}
        for case in self:
            day = max(dates[case.id], case.filed_date or dates[case.id])
            by_day.setdefault(day, self.browse())
            by_day[day] |= case
        for day, cases in by_day.items():
            cases.write({"state": "paid", "paid_date": day})
            cases._log_court_step(
                "paid",
                day,
                self.env._("Closed: the payments received cover the amount granted."),
            )
        self._schedule_court_step("paid")
        return True

    @api.model
    def _cron_close_paid_cases(self):
        """Daily: close as paid the open cases whose amount granted is covered.
        Two queries find them, whatever their number; a case that fails to close
        is logged and never stops the others."""
        cases = self.sudo().search([("state", "in", OPEN_CASE_STATES)])
        covered = cases._get_covered_cases()
        if not covered:
            return True
        to_close = cases.browse(list(covered))
        try:
            with self.env.cr.savepoint():
                to_close._close_as_paid(covered)
        except Exception:  # noqa: BLE001 - retried case by case below
            for case in to_close:
                try:
                    with self.env.cr.savepoint():
                        case._close_as_paid(covered)
                except Exception:
                    _logger.exception(
                        "The court case %s could not be closed as paid.",
                        case.display_name,
                    )
        return True

    def action_close_if_paid(self):
        """Close the selected open cases whose amount granted is covered."""
        check_collection_user(self.env, self.env._("Closing a court case"))
        cases = self.filtered(lambda case: case.state in OPEN_CASE_STATES)
        covered = cases._get_covered_cases()
        missing = cases.filtered(lambda case: case.id not in covered)
        if missing or not cases:
            case = missing[:1] or self[:1]
            raise UserError(
                self.env._(
                    "The payments received on %(request)s after %(date)s "
                    "(%(paid)s) do not cover the amount granted (%(granted)s): "
                    "record the payments, or the step Paid with its date.",
                    request=case.display_name,
                    date=format_date(self.env, case.as_of_date),
                    paid=case.currency_id.format(case.amount_paid),
                    granted=case.currency_id.format(case._get_amount_granted_total()),
                )
            )
        cases._close_as_paid(covered)
        return True

    # ------------------------------------------------------------------ steps

    def _court_step_label(self, step):
        return dict(
            self.env["credit.court.request.step"]
            ._fields["step"]
            ._description_selection(self.env)
        )[step]

    def _court_state_label(self, state=None):
        return dict(self._fields["state"]._description_selection(self.env))[
            state or self.state
        ]

    def action_open_step_wizard(self):
        """Open the step wizard for the step in the context (header buttons)."""
        self.ensure_one()
        check_collection_user(self.env, self.env._("Recording a step of a court case"))
        step = self.env.context.get("court_step")
        if step not in STEP_FROM_STATES:
            raise UserError(self.env._("Choose the step to record."))
        return {
            "type": "ir.actions.act_window",
            "name": self._court_step_label(step),
            "res_model": "credit.court.step.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_request_id": self.id, "default_step": step},
        }

    def _apply_court_step(self, step, day, **options):
        """Record one step of the case on each request of ``self``: check it,
        write its data and state, log it and schedule or close its deadlines.
        Everything is checked before anything is written.

        :param step: a key of ``STEP_FROM_STATES``
        :param day: the day the step happened
        :param options: ``in_person`` (service), ``grant``, ``amount_granted`` and
            ``reference`` (order), ``notified_date`` (opposition), ``note``
        """
        check_collection_user(self.env, self.env._("Recording a step of a court case"))
        day = fields.Date.to_date(day)
        values = {
            request: request._check_court_step(step, day, options) for request in self
        }
        for request, vals in values.items():
            request.write(vals)
        self._log_court_step(step, day, options.get("note"))
        self._schedule_court_step(step)
        if step == "enforceable":
            self._write_judgment_enforceable_date()
        return True

    def _check_court_step(self, step, day, options):
        """The values to write for one step, or a UserError naming the request
        and the fix (dates out of order, step skipped, missing details)."""
        self.ensure_one()
        _ = self.env._
        label = self._court_step_label(step)
        if not day:
            raise UserError(
                _(
                    'Enter the date of the step "%(step)s" of %(request)s.',
                    step=label,
                    request=self.display_name,
                )
            )
        if day > fields.Date.context_today(self):
            raise UserError(
                _(
                    'The date %(date)s of the step "%(step)s" of %(request)s is in '
                    "the future: enter the day it happened.",
                    date=format_date(self.env, day),
                    step=label,
                    request=self.display_name,
                )
            )
        if self.procedure == "small_claims" and step not in SMALL_CLAIMS_STEPS:
            raise UserError(
                _(
                    "%(request)s follows the small-claims procedure: the step "
                    '"%(step)s" belongs to an injonction de payer or a European '
                    "order.",
                    request=self.display_name,
                    step=label,
                )
            )
        allowed = STEP_FROM_STATES[step]
        if self.state not in allowed:
            raise UserError(
                _(
                    '%(request)s is %(state)s: the step "%(step)s" can only be '
                    "recorded on a case that is %(states)s. Record the missing "
                    "steps first.",
                    request=self.display_name,
                    state=self._court_state_label(),
                    step=label,
                    states=", ".join(self._court_state_label(s) for s in allowed),
                )
            )
        previous = self._previous_step_date(step)
        if previous and day < previous[1]:
            raise UserError(
                _(
                    'The step "%(step)s" of %(request)s on %(date)s cannot come '
                    "before %(previous)s (%(previous_date)s): check the dates.",
                    step=label,
                    request=self.display_name,
                    date=format_date(self.env, day),
                    previous=previous[0],
                    previous_date=format_date(self.env, previous[1]),
                )
            )
        vals = {STEP_DATE_FIELD[step]: day}
        if step in STEP_STATE:
            vals["state"] = STEP_STATE[step]
        check = getattr(self, f"_check_court_step_{step}", None)
        if check:
            vals.update(check(day, options) or {})
        return vals

    def _previous_step_date(self, step):
        """``(label, date)`` of the step the new one cannot precede."""
        fname = {
            "court_fee_paid": "filed_date",
            "order_issued": "filed_date",
            "rejected": "filed_date",
            "served": "order_date",
            "personal_act": "served_date",
            "opposed": "served_date",
            "enforceable": "opposition_date"
            if self.state == "opposed"
            else "served_date",
            "paid": "filed_date",
            "abandoned": "filed_date",
            "lapsed": "filed_date",
        }[step]
        if not self[fname]:
            return None
        return self._fields[fname]._description_string(self.env), self[fname]

    def _check_court_step_court_fee_paid(self, day, options):
        _ = self.env._
        if self.court_type not in FEE_COURT_TYPES or self.procedure != "injonction":
            raise UserError(
                _(
                    "%(request)s is before a court that charges no fee: there is no "
                    "court fee to record.",
                    request=self.display_name,
                )
            )
        if self.court_fee_paid_date:
            raise UserError(
                _(
                    "The court fee of %(request)s was already recorded as paid on "
                    "%(date)s.",
                    request=self.display_name,
                    date=format_date(self.env, self.court_fee_paid_date),
                )
            )
        return {}

    def _check_court_step_order_issued(self, day, options):
        _ = self.env._
        grant = options.get("grant")
        if grant not in ("full", "partial"):
            raise UserError(
                _(
                    "Say whether the order of %(request)s grants the claim in full "
                    "or in part.",
                    request=self.display_name,
                )
            )
        amount = self.amount_total
        if grant == "partial":
            amount = options.get("amount_granted") or 0.0
            currency = self.currency_id
            if (
                currency.compare_amounts(amount, 0.0) <= 0
                or currency.compare_amounts(amount, self.amount_total) >= 0
            ):
                raise UserError(
                    _(
                        "The amount granted by the order of %(request)s must be "
                        "more than zero and less than the claim (%(total)s); for "
                        "the whole claim, choose a grant in full.",
                        request=self.display_name,
                        total=currency.format(self.amount_total),
                    )
                )
        return {
            "grant": grant,
            "amount_granted": amount,
            "order_reference": options.get("reference") or False,
        }

    def _check_court_step_served(self, day, options):
        deadline = self._get_court_deadlines()["service"]
        if deadline and day > deadline.date:
            raise UserError(
                self.env._(
                    "The order of %(request)s had to be served by %(date)s "
                    "(%(article)s): it lapsed. Record the step Lapsed instead.",
                    request=self.display_name,
                    date=format_date(self.env, deadline.date),
                    article=deadline.article,
                )
            )
        return {"served_in_person": bool(options.get("in_person"))}

    def _check_court_step_personal_act(self, day, options):
        _ = self.env._
        if self.procedure != "injonction" or self.served_in_person:
            raise UserError(
                _(
                    "The opposition window of %(request)s already runs from "
                    "service: there is no act in person to record.",
                    request=self.display_name,
                )
            )
        if self.personal_act_date:
            raise UserError(
                _(
                    "The first act in person of %(request)s was already recorded "
                    "on %(date)s: only the first one starts the opposition window.",
                    request=self.display_name,
                    date=format_date(self.env, self.personal_act_date),
                )
            )
        return {}

    def _check_court_step_opposed(self, day, options):
        _ = self.env._
        notified = fields.Date.to_date(options.get("notified_date"))
        if not notified:
            raise UserError(
                _(
                    "Enter the day the court notified you of the opposition to "
                    "%(request)s: the lawyer's deadline runs from it.",
                    request=self.display_name,
                )
            )
        if notified < day or notified > fields.Date.context_today(self):
            raise UserError(
                _(
                    "The opposition to %(request)s was notified on %(date)s: that "
                    "day must be between the opposition and today.",
                    request=self.display_name,
                    date=format_date(self.env, notified),
                )
            )
        return {"opposition_notified_date": notified}

    def _check_court_step_enforceable(self, day, options):
        _ = self.env._
        if self.state == "opposed":
            if not options.get("note"):
                raise UserError(
                    _(
                        "%(request)s was opposed: say in the note what made it "
                        "enforceable (the judgment on the opposition, or the "
                        "opposition withdrawn).",
                        request=self.display_name,
                    )
                )
            return {}
        deadline = self._get_court_deadlines()["enforcement"]
        if not deadline:
            raise UserError(
                _(
                    "The opposition window of %(request)s is still open: the order "
                    "was not served to the debtor in person. Record the first act "
                    "in person or enforcement measure first (Act in Person).",
                    request=self.display_name,
                )
            )
        if day < deadline.date:
            raise UserError(
                _(
                    "The order of %(request)s can be enforced from %(date)s only "
                    "(%(article)s): enter that day or a later one.",
                    request=self.display_name,
                    date=format_date(self.env, deadline.date),
                    article=deadline.article,
                )
            )
        return {}

    def _check_court_step_lapsed(self, day, options):
        _ = self.env._
        deadlines = self._get_court_deadlines()
        if self.state == "filed":
            deadline = not self.court_fee_paid_date and deadlines["court_fee"]
        else:
            deadline = deadlines["service"]
        if not deadline:
            raise UserError(
                _(
                    "%(request)s cannot lapse: no deadline of its current step "
                    "runs (no court fee to pay, or an order served by the court). "
                    "Record the next step, a rejection or an abandonment instead.",
                    request=self.display_name,
                )
            )
        if day <= deadline.date:
            raise UserError(
                _(
                    "%(request)s lapses only after %(date)s (%(article)s): enter a "
                    "later day.",
                    request=self.display_name,
                    date=format_date(self.env, deadline.date),
                    article=deadline.article,
                )
            )
        return {}

    def _log_court_step(self, step, day, note=None):
        """One line of the case's step log per request: the log is written here
        only (users read it, managers may delete it)."""
        self.env["credit.court.request.step"].sudo().create(
            [
                {
                    "request_id": request.id,
                    "step": step,
                    "state": request.state,
                    "date": day,
                    "user_id": self.env.uid,
                    "note": note or False,
                }
                for request in self
            ]
        )

    def _schedule_court_step(self, step):
        """Schedule the deadlines the step starts and close those it ends."""
        closing = ("rejected", "paid", "abandoned", "lapsed", "cancelled", "draft")
        if step in closing:
            self._cancel_legal_deadline(CASE_DEADLINE_KEYS)
            return
        ended = {
            "court_fee_paid": ("court_fee",),
            "order_issued": ("court_fee",),
            "served": ("service",),
            "enforceable": ("opposition", "eop_opposition", "enforcement", "lawyer"),
        }.get(step, ())
        if ended:
            self._done_legal_deadline(ended)
        if step == "opposed":
            self._cancel_legal_deadline(("opposition", "eop_opposition", "enforcement"))
        started = {
            "filed": ("court_fee",),
            "order_issued": ("service",),
            "served": ("opposition", "enforcement"),
            "personal_act": ("opposition", "enforcement"),
            "opposed": ("lawyer",),
            "enforceable": ("title",),
        }.get(step, ())
        for request in self:
            deadlines = request._get_court_deadlines()
            for name in started:
                if deadlines[name]:
                    request._schedule_legal_deadline(deadlines[name])

    def _write_judgment_enforceable_date(self):
        """The claimed invoices' judgment becomes enforceable on the case's date
        (the +5 points of the consumer rate start two months later, C. mon. fin.
        L313-3); an earlier date already there is kept."""
        for request in self:
            day = request.enforceable_date
            invoices = request.move_ids.filtered(
                lambda move, day=day: move.move_type == "out_invoice"
                and (
                    not move.judgment_enforceable_date
                    or move.judgment_enforceable_date > day
                )
            )
            if invoices:
                internal(invoices).write({"judgment_enforceable_date": day})

    # ------------------------------------------------------------------ actions

    def action_mark_filed(self):
        check_collection_user(self.env, _("Filing a court request"))
        not_draft = self.filtered(lambda request: request.state != "draft")
        if not_draft:
            raise UserError(
                _(
                    "Only a draft court request can be marked as filed: %(request)s "
                    "is not a draft.",
                    request=not_draft[0].display_name,
                )
            )
        today = fields.Date.context_today(self)
        self.write({"state": "filed", "filed_date": today})
        self._log_court_step("filed", today)
        self._schedule_court_step("filed")
        # Filing a claim in court interrupts prescription (C. civ. 2241).
        for request in self.filtered(lambda req: req.procedure != "small_claims"):
            request.move_ids._record_prescription_interruption(
                request.filed_date, "court_claim", request
            )
        return True

    def action_cancel(self):
        check_collection_user(self.env, _("Cancelling a court request"))
        started = self.filtered(
            lambda request: request.state not in ("draft", "filed", "cancelled")
        )
        if started:
            raise UserError(
                _(
                    "%(request)s is %(state)s: only a draft or a filed request can "
                    "be cancelled. Record the step Abandoned instead.",
                    request=started[0].display_name,
                    state=started[0]._court_state_label(),
                )
            )
        requests = self.filtered(lambda request: request.state != "cancelled")
        requests.write({"state": "cancelled"})
        requests._log_court_step("cancelled", fields.Date.context_today(self))
        requests._schedule_court_step("cancelled")
        return True

    def action_reset_to_draft(self):
        check_collection_user(self.env, _("Reopening a court request"))
        requests = self.filtered(lambda request: request.state == "cancelled")
        requests.write(
            {"state": "draft", "filed_date": False, "court_fee_paid_date": False}
        )
        requests._log_court_step("draft", fields.Date.context_today(self))
        return True


def _deadline_date(deadline):
    return deadline.date if deadline else False


class CreditCourtRequestLine(models.Model):
    """One line of the claim (montant, fondement, documents justificatifs)."""

    _name = "credit.court.request.line"
    _description = "Court Request Claim Line"
    _order = "request_id, sequence, id"

    request_id = fields.Many2one(
        "credit.court.request", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="request_id.company_id", store=True)
    currency_id = fields.Many2one(related="request_id.currency_id", store=True)
    sequence = fields.Integer(default=10)
    kind = fields.Selection(CLAIM_KINDS, required=True)
    move_id = fields.Many2one("account.move", string="Document")
    name = fields.Char(string="Description", required=True)
    basis = fields.Char(string="Legal or Contractual Basis")
    evidence = fields.Char(string="Supporting Documents")
    amount = fields.Monetary(required=True)


class CreditCourtRequestDocument(models.Model):
    """One supporting document of the bordereau des pièces, numbered by sequence."""

    _name = "credit.court.request.document"
    _description = "Court Request Supporting Document"
    _order = "request_id, sequence, id"

    request_id = fields.Many2one(
        "credit.court.request", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="request_id.company_id", store=True)
    sequence = fields.Integer(default=10)
    name = fields.Char(string="Document", required=True)
    kind = fields.Selection(
        [
            ("contract", "Contract, Order or Terms"),
            ("invoice", "Invoice"),
            ("formal_notice", "Formal Notice"),
            ("receipt", "Acknowledgment of Receipt"),
            ("statement", "Statement of Account"),
            ("other", "Other"),
        ],
        required=True,
        default="other",
    )
    move_id = fields.Many2one("account.move", string="Invoice")
    letter_id = fields.Many2one("credit.dunning.letter", string="Letter")
    attachment_id = fields.Many2one("ir.attachment", string="File")
    included = fields.Boolean(default=True)
