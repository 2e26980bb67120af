"""Court case follow-up after filing: the step log of a case, the open case shown
on the customer and the invoices, and what an open case stops (dunning, penalty
invoicing). The case itself is ``credit.court.request`` (credit_court_request.py).
"""

from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from .credit_court_request import COURT_STEPS, OPEN_CASE_STATES


class CreditCourtRequestStep(models.Model):
    """One step of a court case as it was recorded: the state it reached, the day
    it happened, who recorded it and when. Written only by the case's own code;
    users read it, managers may delete a line recorded by mistake."""

    _name = "credit.court.request.step"
    _description = "Court Case Step"
    _order = "request_id, recorded_on desc, id desc"

    request_id = fields.Many2one(
        "credit.court.request",
        string="Court Case",
        required=True,
        index=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one(related="request_id.company_id", store=True)
    step = fields.Selection(COURT_STEPS, required=True)
    state = fields.Selection(
        selection=lambda self: self.env["credit.court.request"]
        ._fields["state"]
        ._description_selection(self.env),
        string="State Reached",
        required=True,
    )
    date = fields.Date(required=True)
    user_id = fields.Many2one(
        "res.users", string="Recorded By", required=True, default=lambda s: s.env.user
    )
    recorded_on = fields.Datetime(required=True, default=fields.Datetime.now)
    note = fields.Text()


class ResPartner(models.Model):
    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    open_court_case_count = fields.Integer(
        string="Open Court Cases",
        compute="_compute_open_court_case_count",
        groups="account.group_account_invoice",
    )

    def _open_court_case_domain(self):
        return [
            ("partner_id", "in", self.commercial_partner_id.ids),
            ("state", "in", OPEN_CASE_STATES),
            ("company_id", "in", self.env.companies.ids),
        ]

    @api.depends_context("uid", "allowed_company_ids")
    def _compute_open_court_case_count(self):
        counts = dict(
            self.env["credit.court.request"]
            .sudo()
            ._read_group(self._open_court_case_domain(), ["partner_id"], ["__count"])
        )
        for partner in self:
            partner.open_court_case_count = counts.get(
                partner.commercial_partner_id.sudo(), 0
            )

    def action_view_open_court_cases(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "l10n_fr_credit_collection.action_credit_court_request"
        )
        action["domain"] = self._open_court_case_domain()
        action["context"] = {"create": False}
        return action


class AccountMove(models.Model):
    _inherit = "account.move"  # pylint: disable=consider-merging-classes-inherited

    court_request_ids = fields.Many2many(
        "credit.court.request",
        "credit_court_request_move_rel",
        "move_id",
        "request_id",
        string="Court Cases",
        readonly=True,
        copy=False,
        groups="account.group_account_invoice",
    )
    open_court_request_id = fields.Many2one(
        "credit.court.request",
        string="Open Court Case",
        compute="_compute_open_court_request_id",
        groups="account.group_account_invoice",
        help="The filed court case claiming this document: it is no longer dunned "
        "and its penalties are not invoiced.",
    )

    @api.model
    def _get_open_court_case_domain(self):
        """Documents claimed by an open court case (filed, and not closed)."""
        return [("court_request_ids.state", "in", OPEN_CASE_STATES)]

    def _compute_open_court_request_id(self):
        cases = (
            self.env["credit.court.request"]
            .sudo()
            .search_fetch(
                [
                    ("move_ids", "in", self._origin.ids),
                    ("state", "in", OPEN_CASE_STATES),
                ],
                ["move_ids", "company_id"],
                order="id desc",
            )
        )
        by_move = {}
        for case in cases:
            for move_id in case.move_ids.ids:
                by_move.setdefault(move_id, case.id)
        for move in self:
            move.open_court_request_id = by_move.get(move._origin.id, False)

    def action_view_open_court_request(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "credit.court.request",
            "res_id": self.open_court_request_id.id,
            "view_mode": "form",
        }


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _get_dunning_excluded_domain(self):
        """The items of a document claimed by an open court case are not dunned:
        the court now decides (one sub-select, whatever the number of cases)."""
        in_court = (
            self.env["account.move"]
            .sudo()
            ._search(self.env["account.move"]._get_open_court_case_domain())
        )
        return [
            *super()._get_dunning_excluded_domain(),
            ("move_id", "not in", in_court),
        ]


class CreditPenaltyLine(models.Model):
    _inherit = "credit.penalty.line"  # pylint: disable=consider-merging-classes-inherited

    def _check_invoiceable(self, confirm_unmatched):
        """The penalties of an invoice claimed by an open court case are part of
        the claim before the court: they are not invoiced besides it."""
        res = super()._check_invoiceable(confirm_unmatched)
        cases = (
            self.env["credit.court.request"]
            .sudo()
            .search_fetch(
                [
                    ("move_ids", "in", self.move_id.ids),
                    ("state", "in", OPEN_CASE_STATES),
                ],
                ["name", "move_ids"],
                limit=1,
            )
        )
        if cases:
            move = self.move_id.filtered(lambda m: m in cases.move_ids)[:1]
            raise UserError(
                self.env._(
                    "The invoice %(invoice)s is claimed by the court case "
                    "%(case)s: its penalties are part of the claim and cannot be "
                    "invoiced while the case is open. Remove its penalty lines "
                    "from the selection.",
                    invoice=move.display_name,
                    case=cases.display_name,
                )
            )
        return res


class CreditCollectionDemo(models.AbstractModel):
    _inherit = "credit.collection.demo"  # pylint: disable=consider-merging-classes-inherited

    def _load_demo_followups(self, partners, moves):
        res = super()._load_demo_followups(partners, moves)
        dupont = partners[1]
        self._load_demo_court_case(
            dupont,
            moves.filtered(
                lambda move: move.partner_id == dupont
                and move.move_type == "out_invoice"
            ),
        )
        return res

    def _load_demo_court_case(self, partner, invoices):
        """A filed injonction de payer against ``partner`` on ``invoices``, whose
        order was issued and served, so that its legal deadlines show as
        activities. The claim is as of before the customer's last partial
        payment, which the case then shows as received."""
        if not invoices:
            return self.env["credit.court.request"]
        today = fields.Date.context_today(self)
        total = sum(invoices.mapped("amount_total"))
        case = self.env["credit.court.request"].create(
            {
                "company_id": invoices[0].company_id.id,
                "currency_id": invoices[0].currency_id.id,
                "partner_id": partner.id,
                "user_id": self.env.ref("base.user_admin").id,
                "as_of_date": today - timedelta(days=40),
                "debtor_legal_nature": "trader",
                # A trader in Lyon: one of the twelve economic activities courts.
                "court_type": "tae",
                "court_name": "Tribunal des activités économiques de Lyon",
                "move_ids": [fields.Command.set(invoices.ids)],
                "amount_principal": total,
                "amount_total": total,
                "claim_line_ids": [
                    fields.Command.create(
                        {
                            "kind": "principal",
                            "move_id": move.id,
                            "name": move.name,
                            "amount": move.amount_total,
                        }
                    )
                    for move in invoices
                ],
            }
        )
        # The filing and the steps are recorded on their own days.
        filed = today - timedelta(days=35)
        case.write({"state": "filed", "filed_date": filed})
        case._log_court_step("filed", filed)
        invoices._record_prescription_interruption(filed, "court_claim", case)
        case._apply_court_step("court_fee_paid", today - timedelta(days=33))
        case._apply_court_step(
            "order_issued",
            today - timedelta(days=20),
            grant="full",
            reference="IP 2026/0142",
        )
        case._apply_court_step("served", today - timedelta(days=5), in_person=True)
        return case
