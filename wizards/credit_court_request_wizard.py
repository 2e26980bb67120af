from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.osv.expression import OR
from odoo.tools.misc import format_date, formatLang

from ..engine.court import (
    EU_MEMBER_STATES,
    EUROPEAN_ORDER_EXCLUDED,
    SMALL_CLAIMS_THRESHOLD,
    amicable_attempt_may_be_required,
    court_type,
    normalize_country,
    tae_contribution,
    tae_seat,
)
from ..models.credit_access import check_collection_user
from ..models.credit_court_procedures import (
    EOP_CAUSES,
    EOP_JURISDICTIONS,
    SMALL_CLAIMS_KINDS,
)
from ..models.credit_court_request import COURT_TYPES

OPEN_STATES = ("not_paid", "partial")
WIZARD_COURT_TYPES = COURT_TYPES + [("abroad", "Outside the European Union")]
FINDING_LEVELS = ("blocking", "warning", "info")
# Courts before which the greffe charges a fee (none before the judicial court,
# its commercial chamber or a mixed commercial court: LAW.md §3.7).
FEE_COURTS = ("commerce", "tae")


class CreditCourtRequestWizard(models.TransientModel):
    """Prepare an injonction de payer request (CPC 1405 to 1425) against one debtor:
    pick the items, check that they may go to court, then compute the claim once
    and store it in a ``credit.court.request``."""

    _name = "credit.court.request.wizard"
    _description = "Prepare Court Request"

    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_id = fields.Many2one(
        "res.partner",
        string="Debtor",
        required=True,
        domain="[('is_company', '=', True)]",
    )
    debtor_legal_nature = fields.Selection(related="partner_id.credit_legal_nature")
    as_of_date = fields.Date(
        string="Claim As Of",
        required=True,
        default=fields.Date.context_today,
        help="Day the claim is computed on: penalties are counted up to it.",
    )
    item_ids = fields.One2many(
        "credit.court.request.wizard.item", "wizard_id", string="Items"
    )
    attachment_ids = fields.One2many(
        "credit.court.request.wizard.attachment",
        "wizard_id",
        string="Supporting Documents",
    )
    procedure = fields.Selection(
        [
            ("injonction", "Injonction de Payer"),
            ("european_order", "European Order for Payment"),
            ("small_claims", "Small-Claims Procedure"),
        ],
        compute="_compute_procedure",
        store=True,
        readonly=False,
        help="The injonction de payer before the French court of the debtor; the "
        "European order for payment for a debtor in another member state of the "
        "European Union except Denmark; the small-claims procedure of a "
        "commissaire de justice for a claim of 5,000 EUR or less.",
    )
    eop_jurisdiction = fields.Selection(
        EOP_JURISDICTIONS,
        string="Grounds of Jurisdiction",
        help="Form A, section 3: why the French court has jurisdiction over a "
        "debtor established in another member state (Regulation (EU) 1215/2012).",
    )
    eop_cause = fields.Selection(
        EOP_CAUSES,
        string="Cause of Action",
        default="01",
        help="Form A, section 6: the contract the claim arises from.",
    )
    commissaire_id = fields.Many2one(
        "res.partner",
        string="Commissaire de Justice",
        help="The commissaire de justice who runs the small-claims procedure: he "
        "or she must be established in the area of the court of appeal of the "
        "debtor's domicile (CPCE R125-1).",
    )
    failed_small_claims_id = fields.Many2one(
        "credit.court.request",
        string="Failed Small-Claims Attempt",
        help="The small-claims procedure tried before this request, which failed.",
    )
    court_type = fields.Selection(
        WIZARD_COURT_TYPES,
        compute="_compute_court_type",
        store=True,
        readonly=False,
        help="Chosen from the debtor's legal nature and address, never from a clause "
        "of our terms (art. 1406 CPC).",
    )
    court_name = fields.Char(compute="_compute_court_entry", store=True, readonly=False)
    court_address = fields.Text(
        compute="_compute_court_entry", store=True, readonly=False
    )
    referral_requested = fields.Boolean(
        string="Referral if Opposed (art. 1408)",
        help="Ask that, if the debtor opposes, the case go straight to the court "
        "competent on the merits (CPC 1408).",
    )
    referral_court = fields.Char()
    correspondence_address = fields.Text(
        default=lambda self: self._default_correspondence_address(),
        help="Address where the court notifies an opposition (CPC 1418).",
    )
    correspondence_confirmed = fields.Boolean(
        string="I Confirm This Address",
        help="The court notifies an opposition to this address only: after an "
        "opposition before the judicial court above 10,000 EUR, a lawyer must be "
        "appointed within 15 days of that notification.",
    )
    claim_nature = fields.Text(
        string="Nature and Origin of the Claim",
        default=lambda self: self._court()._(
            "Sale of goods or services under our orders and terms of sale, "
            "invoiced, due and left unpaid despite reminders and a formal notice."
        ),
    )
    findings_html = fields.Html(
        string="Checks", compute="_compute_findings", sanitize=False
    )
    blocking_count = fields.Integer(compute="_compute_findings")
    warning_count = fields.Integer(compute="_compute_findings")
    amount_estimate = fields.Monetary(
        string="Principal Claimed",
        compute="_compute_findings",
        currency_field="currency_id",
        help="Open balance of the ticked items, credit notes and unmatched payments "
        "deducted; penalties are added when the request is created.",
    )

    # ------------------------------------------------------------------ defaults

    def _default_correspondence_address(self):
        company = self.env.company
        if company.credit_court_correspondence_address:
            return company.credit_court_correspondence_address
        address = company.partner_id._display_address(without_company=True)
        lines = [company.name, *address.splitlines()]
        return "\n".join(line for line in lines if line and line.strip())

    @api.model
    def default_get(self, fields_list):
        vals = super().default_get(fields_list)
        context = self.env.context
        model = context.get("active_model")
        active_ids = context.get("active_ids") or (
            [context["active_id"]] if context.get("active_id") else []
        )
        selected = self.env["account.move"]
        if model == "res.partner" and active_ids:
            partner = self.env["res.partner"].browse(active_ids[:1])
        elif model == "account.move" and active_ids:
            selected = self.env["account.move"].browse(active_ids)
            selected.fetch(["move_type", "state", "commercial_partner_id"])
            not_invoices = selected.filtered(
                lambda move: move.move_type != "out_invoice"
            )
            if not_invoices:
                raise UserError(
                    self.env._(
                        "A court request claims customer invoices: %(move)s is not "
                        "one. Select customer invoices of one customer.",
                        move=not_invoices[0].display_name,
                    )
                )
            partner = selected[0].commercial_partner_id
        else:
            return vals
        partner = partner.commercial_partner_id
        vals["partner_id"] = partner.id
        as_of = fields.Date.to_date(vals.get("as_of_date")) or (
            fields.Date.context_today(self)
        )
        notices = self.new({"company_id": self.env.company.id})._get_formal_notices(
            partner
        )[0]
        if "claim_nature" in fields_list and not notices:
            vals["claim_nature"] = self._court()._(
                "Sale of goods or services under our orders and terms of sale, "
                "invoiced, due and left unpaid despite reminders."
            )
        if "item_ids" in fields_list:
            vals["item_ids"] = self._prepare_item_commands(partner, selected, as_of)
        if "attachment_ids" in fields_list:
            moves = self.env["account.move"].browse(
                [command[2]["move_id"] for command in vals.get("item_ids", [])]
            )
            vals["attachment_ids"] = self._prepare_attachment_commands(partner, moves)
        return vals

    @api.model
    def _get_candidate_domain(self, partner):
        return [
            ("commercial_partner_id", "=", partner.id),
            ("company_id", "=", self.env.company.id),
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
            ("payment_state", "in", OPEN_STATES),
        ]

    @api.model
    def _prepare_item_commands(self, partner, selected, as_of):
        """The customer's open invoices and penalty invoices, ticked: the
        selection when there is one, else every overdue one that no exclusion
        refuses (a factor collecting it). Selected items that are not candidates
        (paid, another customer's) are listed too, ticked, so that the checks name
        them."""
        candidates = self.env["account.move"].search_fetch(
            self._get_candidate_domain(partner),
            ["invoice_date_due", "invoice_date", "name"],
            order="invoice_date, name, id",
        )
        excluded = candidates._get_court_exclusion_reason() if not selected else {}
        moves = candidates | selected
        return [
            Command.create(
                {
                    "move_id": move.id,
                    "selected": move in selected
                    if selected
                    else bool(
                        move.invoice_date_due
                        and move.invoice_date_due < as_of
                        and move.id not in excluded
                    ),
                }
            )
            for move in moves
        ]

    @api.model
    def _prepare_attachment_commands(self, partner, moves):
        """The files attached to the invoices and to the customer (signed terms, a
        framework contract), offered as supporting documents. The invoices' own PDF
        is a field attachment (``res_field`` set): not listed, the invoice is
        printed anyway."""
        Attachment = self.env["ir.attachment"]
        domain = [("res_model", "=", "res.partner"), ("res_id", "=", partner.id)]
        if moves:
            domain = OR(
                [
                    domain,
                    [("res_model", "=", "account.move"), ("res_id", "in", moves.ids)],
                ]
            )
        attachments = Attachment.search_fetch(
            domain, ["name", "res_model", "res_id"], order="res_model, res_id, id"
        )
        return [
            Command.create(
                {
                    "attachment_id": attachment.id,
                    "move_id": attachment.res_id
                    if attachment.res_model == "account.move"
                    else False,
                    "selected": True,
                }
            )
            for attachment in attachments
        ]

    # ------------------------------------------------------------------ court

    @api.depends("partner_id")
    def _compute_court_type(self):
        for wizard in self:
            partner = wizard.partner_id.commercial_partner_id
            if not partner:
                wizard.court_type = False
                continue
            wizard.court_type = court_type(
                partner.credit_legal_nature
                or ("consumer" if partner.debtor_type == "consumer" else "trader"),
                partner.country_id.code,
                partner.zip or None,
                partner.city or None,
            )

    @api.depends("court_type")
    def _compute_procedure(self):
        for wizard in self:
            if wizard.court_type == "european_order":
                wizard.procedure = "european_order"
            elif wizard.procedure != "small_claims":
                wizard.procedure = "injonction"

    @api.depends("court_type", "partner_id")
    def _compute_court_entry(self):
        for wizard in self:
            entry = wizard._get_court_directory_entry(
                wizard.court_type, wizard.partner_id.commercial_partner_id
            )
            wizard.court_name = entry and entry.get("name") or False
            wizard.court_address = entry and entry.get("address") or False

    @api.model
    def _get_court_directory_entry(self, court_type, partner):
        """``{"name": ..., "address": ...}`` of the court of ``court_type``
        competent for ``partner`` (the place where the debtor lives or is
        established, art. 1406 CPC), or ``False`` when unknown.

        Extension point for a court directory. Without one, only the pilot
        economic activities courts are named (their seat is known from the
        debtor's address, see ``engine.court.tae_seat``); the user completes the
        address, and names the other courts by hand."""
        if court_type != "tae" or not partner:
            return False
        seat = tae_seat(partner.zip or None, partner.city or None)
        if not seat:
            return False
        return {
            "name": self.env._("Economic Activities Court of %(seat)s", seat=seat),
            "address": False,
        }

    # ------------------------------------------------------------------ findings

    @api.depends(
        "partner_id",
        "as_of_date",
        "item_ids.selected",
        "attachment_ids.selected",
        "court_type",
        "court_name",
        "correspondence_confirmed",
        "correspondence_address",
        "procedure",
        "eop_jurisdiction",
        "commissaire_id",
        "failed_small_claims_id",
    )
    def _compute_findings(self):
        for wizard in self:
            findings = wizard._get_findings()
            wizard.findings_html = wizard._render_findings(findings)
            wizard.blocking_count = sum(
                1 for finding in findings if finding["level"] == "blocking"
            )
            wizard.warning_count = sum(
                1 for finding in findings if finding["level"] == "warning"
            )
            wizard.amount_estimate = wizard._get_principal_estimate()

    def _selected_moves(self):
        return self.item_ids.filtered("selected").move_id

    def _get_findings(self):
        """The checks of the request, as ``[{"level", "message"}]`` with ``level``
        one of ``blocking`` (the request cannot be created), ``warning`` and
        ``info``. Reads in batches: the number of queries does not grow with the
        number of items."""
        self.ensure_one()
        partner = self.partner_id.commercial_partner_id
        moves = self._selected_moves()
        findings = []
        if not partner:
            return [self._finding("blocking", self.env._("Choose the debtor."))]
        moves.fetch(
            [
                "name",
                "move_type",
                "state",
                "payment_state",
                "commercial_partner_id",
                "company_id",
                "currency_id",
                "invoice_date",
                "delivery_date",
                "invoice_origin",
                "ref",
                "is_penalty_invoice",
                "amount_residual",
                "formal_notice_received_date",
            ]
        )
        findings += self._check_as_of(moves)
        findings += self._check_items(partner, moves)
        findings += self._check_collective_procedure(partner, moves)
        findings += self._check_prescription(partner, moves)
        findings += self._check_contractual_basis(partner, moves)
        findings += self._check_formal_notice(partner, moves)
        findings += self._check_debtor(partner)
        findings += self._check_creditor()
        findings += self._check_court(partner)
        findings += self._check_amount(partner, moves)
        if self.procedure in (False, "injonction") and (
            not self.correspondence_address or not self.correspondence_confirmed
        ):
            findings.append(
                self._finding(
                    "blocking",
                    self.env._(
                        "Confirm the correspondence address: the court notifies an "
                        "opposition there (art. 1418 CPC)."
                    ),
                )
            )
        order = {level: index for index, level in enumerate(FINDING_LEVELS)}
        return sorted(findings, key=lambda finding: order[finding["level"]])

    @api.model
    def _finding(self, level, message):
        return {"level": level, "message": message}

    def _check_as_of(self, moves):
        today = fields.Date.context_today(self)
        if self.as_of_date and self.as_of_date > today:
            return [
                self._finding(
                    "blocking",
                    self.env._(
                        "The claim cannot be computed as of %(date)s, a day in the "
                        "future: choose today or an earlier day.",
                        date=format_date(self.env, self.as_of_date),
                    ),
                )
            ]
        last_payment = self._get_last_payment_dates(moves)
        late = {
            move: day
            for move, day in last_payment.items()
            if self.as_of_date and day > self.as_of_date
        }
        return [
            self._finding(
                "blocking",
                self.env._(
                    "%(move)s received a payment on %(date)s, after the claim date: "
                    "choose a claim date on or after it.",
                    move=move.name,
                    date=format_date(self.env, day),
                ),
            )
            for move, day in late.items()
        ]

    def _get_last_payment_dates(self, moves):
        """``{move: last day a payment or credit note was matched}``, one query."""
        if not moves:
            return {}
        groups = self.env["account.partial.reconcile"]._read_group(
            [("debit_move_id.move_id", "in", moves.ids)],
            ["debit_move_id"],
            ["max_date:max"],
        )
        result = {}
        for line, day in groups:
            if day and (line.move_id not in result or day > result[line.move_id]):
                result[line.move_id] = day
        return result

    def _check_items(self, partner, moves):
        _ = self.env._
        if not moves:
            return [self._finding("blocking", _("Tick at least one invoice to claim."))]
        findings = []
        for move in moves:
            if move.commercial_partner_id != partner:
                findings.append(
                    self._finding(
                        "blocking",
                        _(
                            "%(move)s belongs to %(other)s, not to %(debtor)s: a "
                            "request is against one debtor. Untick it.",
                            move=move.name,
                            other=move.commercial_partner_id.display_name,
                            debtor=partner.display_name,
                        ),
                    )
                )
            elif move.move_type != "out_invoice" or move.state != "posted":
                findings.append(
                    self._finding(
                        "blocking",
                        _(
                            "%(move)s is not a posted customer invoice. Untick it.",
                            move=move.display_name,
                        ),
                    )
                )
            elif move.payment_state not in OPEN_STATES or move.amount_residual <= 0:
                findings.append(
                    self._finding(
                        "blocking",
                        _(
                            "%(move)s is paid: nothing is owed on it. Untick it.",
                            move=move.name,
                        ),
                    )
                )
            elif move.company_id != self.company_id:
                findings.append(
                    self._finding(
                        "blocking",
                        _(
                            "%(move)s belongs to the company %(company)s: prepare "
                            "the request from that company.",
                            move=move.name,
                            company=move.company_id.name,
                        ),
                    )
                )
            elif move.currency_id != self.company_id.currency_id:
                findings.append(
                    self._finding(
                        "blocking",
                        _(
                            "%(move)s is in %(currency)s: a request claims amounts "
                            "in %(company_currency)s only.",
                            move=move.name,
                            currency=move.currency_id.name,
                            company_currency=self.company_id.currency_id.name,
                        ),
                    )
                )
        for move_id, reason in moves._get_court_exclusion_reason().items():
            findings.append(
                self._finding(
                    "blocking",
                    _(
                        "%(move)s cannot be claimed: %(reason)s",
                        move=self.env["account.move"].browse(move_id).name,
                        reason=reason,
                    ),
                )
            )
        return findings

    def _check_collective_procedure(self, partner, moves):
        """Claims born before the opening judgment of collective proceedings are
        declared to the mandataire, never claimed in court (C. com. L622-21,
        L622-24); claims born after it are collected normally."""
        _ = self.env._
        opening = partner.collective_procedure_date
        if not opening:
            if partner.collective_procedure:
                return [
                    self._finding(
                        "blocking",
                        _(
                            "%(debtor)s is in collective proceedings but the date "
                            "of the opening judgment is missing: enter it on the "
                            "customer (claims born before it must be declared to "
                            "the mandataire judiciaire instead).",
                            debtor=partner.display_name,
                        ),
                    )
                ]
            return []
        starts = moves._get_prescription_start_date()
        return [
            self._finding(
                "blocking",
                _(
                    "%(move)s was born on %(date)s, before the opening judgment of "
                    "%(opening)s: it must be declared to the mandataire judiciaire "
                    "instead. Untick it.",
                    move=move.name,
                    date=format_date(self.env, starts[move.id]),
                    opening=format_date(self.env, opening),
                ),
            )
            for move in moves
            if starts[move.id] and starts[move.id] < opening
        ]

    def _check_prescription(self, partner, moves):
        """5 years between professionals (C. com. L110-4), 2 years against a
        consumer (C. consom. L218-2), from the delivery or service date, each
        recorded interruption starting a new period (the prescription watch's
        computation)."""
        _ = self.env._
        if not moves or not self.as_of_date:
            return []
        consumer = partner.credit_legal_nature == "consumer"
        dates = moves._get_prescription_dates(consumer=consumer)
        limits = {move: dates[move.id] for move in moves if move.id in dates}
        findings = []
        # The request is filed from today: an action on the returned day is still
        # in time (C. civ. 2228, 2229).
        today = fields.Date.context_today(self)
        soon = today + relativedelta(months=6)
        for move, limit in limits.items():
            if limit < today:
                findings.append(
                    self._finding(
                        "blocking",
                        _(
                            "%(move)s is time-barred: the period to claim it "
                            "ended on %(date)s. Untick it.",
                            move=move.name,
                            date=format_date(self.env, limit),
                        ),
                    )
                )
            elif limit <= soon:
                findings.append(
                    self._finding(
                        "warning",
                        _(
                            "%(move)s will be time-barred on %(date)s: file the "
                            "request and have the order served before then.",
                            move=move.name,
                            date=format_date(self.env, limit),
                        ),
                    )
                )
        running = [limit for limit in limits.values() if limit > soon]
        if running:
            findings.append(
                self._finding(
                    "info",
                    _(
                        "The earliest prescription date of the claim is %(date)s.",
                        date=format_date(self.env, min(running)),
                    ),
                )
            )
        return findings

    def _check_contractual_basis(self, partner, moves):
        """The claim needs a contractual cause (art. 1405 CPC): an order, a
        contract or signed terms for each invoice."""
        ticked = self.attachment_ids.filtered("selected")
        if any(not line.move_id for line in ticked):
            return []  # terms or a contract of the customer: they cover every item
        documented = set(ticked.move_id.ids)
        return [
            self._finding(
                "warning",
                self.env._(
                    "%(move)s has no contractual basis documented (no order "
                    "reference, customer reference or supporting file): attach the "
                    "order, the quote or the signed terms.",
                    move=move.name,
                ),
            )
            for move in moves
            if not move.is_penalty_invoice
            and not move.invoice_origin
            and not move.ref
            and move.id not in documented
        ]

    def _get_formal_notices(self, partner, moves=None):
        """The customer's formal notices sent (by post, email or registered
        letter; not cancelled), and for each item the letters that covered it."""
        Letter = self.env["credit.dunning.letter"]
        sent = [("sent_date", "!=", False)]
        if "registered_sent_date" in Letter._fields:
            sent = OR([sent, [("registered_sent_date", "!=", False)]])
        letters = Letter.search(
            [
                ("partner_id", "=", partner.id),
                ("company_id", "=", self.company_id.id),
                ("state", "!=", "cancelled"),
                ("level_id.is_formal_notice", "=", True),
                *sent,
            ],
            order="date, id",
        )
        covered = defaultdict(set)
        if letters and moves:
            groups = self.env["credit.dunning.letter.line"]._read_group(
                [("letter_id", "in", letters.ids), ("move_id", "in", moves.ids)],
                ["move_id"],
                ["letter_id:array_agg"],
            )
            for move, letter_ids in groups:
                covered[move.id] = set(letter_ids)
        return letters, covered

    @api.model
    def _letter_sent_date(self, letter):
        if "registered_sent_date" in letter._fields:
            return letter.registered_sent_date
        return False

    @api.model
    def _letter_received_date(self, letter):
        if "registered_received_date" in letter._fields:
            return letter.registered_received_date
        return False

    def _check_formal_notice(self, partner, moves):
        """A formal notice is not required to file, but it starts a consumer's
        interest (C. civ. 1231-6, 1344-1) and the judge expects it."""
        _ = self.env._
        if not moves:
            return []
        letters, covered = self._get_formal_notices(partner, moves)
        received_letters = {
            letter.id for letter in letters if self._letter_received_date(letter)
        }
        consumer = partner.credit_legal_nature == "consumer"
        not_sent = moves.filtered(lambda move: not covered.get(move.id))
        not_received = moves.filtered(
            lambda move: covered.get(move.id)
            and not move.formal_notice_received_date
            and not covered[move.id] & received_letters
        )
        findings = []
        if not_sent:
            findings.append(
                self._finding(
                    "warning",
                    _(
                        "No formal notice was sent for %(moves)s: the judge expects "
                        "one before an order for payment.",
                        moves=", ".join(not_sent.mapped("name")),
                    )
                    + (
                        " " + _("A consumer owes no interest without a formal notice.")
                        if consumer
                        else ""
                    ),
                )
            )
        if not_received:
            findings.append(
                self._finding(
                    "warning",
                    _(
                        "The formal notice for %(moves)s has no date of receipt: "
                        "record it with the acknowledgment of receipt.",
                        moves=", ".join(not_received.mapped("name")),
                    )
                    + (
                        " "
                        + _(
                            "A consumer owes interest only from the day after "
                            "receipt: none is claimed without it."
                        )
                        if consumer
                        else ""
                    ),
                )
            )
        return findings

    def _check_debtor(self, partner):
        _ = self.env._
        findings = []
        missing = [
            label
            for fname, label in (
                ("street", _("street")),
                ("zip", _("zip code")),
                ("city", _("city")),
                ("country_id", _("country")),
            )
            if not partner[fname]
        ]
        if missing:
            findings.append(
                self._finding(
                    "blocking",
                    _(
                        "The address of %(debtor)s is incomplete (%(missing)s): the "
                        "competent court follows it (art. 1406 CPC). Complete the "
                        "customer's address.",
                        debtor=partner.display_name,
                        missing=", ".join(missing),
                    ),
                )
            )
        parties = self.env["credit.document.parties"]
        if (
            partner.is_company
            and partner.credit_legal_nature != "consumer"
            and partner.country_id.code in (False, "FR")
            and not parties._get_siren_siret(partner)[0]
        ):
            findings.append(
                self._finding(
                    "warning",
                    _(
                        "%(debtor)s has no SIREN number: it is recommended to "
                        "identify a company debtor. Enter its SIRET on the customer.",
                        debtor=partner.display_name,
                    ),
                )
            )
        return findings

    def _check_creditor(self):
        """Our own identity, which the request must state (art. 54 and 57 CPC,
        R123-237 C. com.)."""
        _ = self.env._
        company = self.company_id
        siren = self.env["credit.document.parties"]._get_siren_siret(
            company.partner_id
        )[0]
        missing = [
            label
            for value, label in (
                (siren or company.company_registry, _("SIREN (SIRET)")),
                (company.rcs_city, _("RCS city")),
                (company.legal_form, _("legal form")),
                (company.credit_legal_representative, _("legal representative")),
            )
            if not value
        ]
        if not missing:
            return []
        return [
            self._finding(
                "blocking",
                _(
                    "The identity of %(company)s is incomplete (%(missing)s): the "
                    "request must state it. Complete it in Settings > Credit "
                    "Collection.",
                    company=company.name,
                    missing=", ".join(missing),
                ),
            )
        ]

    def _check_court(self, partner):
        if self.procedure == "european_order":
            return self._check_european_order(partner)
        if self.procedure == "small_claims":
            return self._check_small_claims(partner)
        _ = self.env._
        if self.court_type == "european_order":
            return [
                self._finding(
                    "blocking",
                    _(
                        "%(debtor)s is established in another member state of the "
                        "European Union: the claim goes through the European order "
                        "for payment (Regulation (EC) 1896/2006). Choose that "
                        "procedure.",
                        debtor=partner.display_name,
                    ),
                )
            ]
        if self.court_type == "abroad":
            return [
                self._finding(
                    "blocking",
                    _(
                        "The debtor is established outside the European Union: no "
                        "French order for payment can be enforced there. The claim "
                        "needs a lawyer in the debtor's country."
                    ),
                )
            ]
        if not self.court_type:
            return [self._finding("blocking", _("Choose the court."))]
        if not self.court_name:
            return [
                self._finding(
                    "warning",
                    _(
                        "Enter the name and address of the court of the place where "
                        "the debtor is established (art. 1406 CPC)."
                    ),
                )
            ]
        return []

    def _check_european_order(self, partner):
        """The European order for payment is for cross-border claims between
        member states except Denmark (Reg. (EC) 1896/2006 art. 2 and 3); a consumer
        is sued only in his or her own member state (art. 6(2)); the application
        states the grounds of jurisdiction (art. 7(2)(f))."""
        _ = self.env._
        country = normalize_country(partner.country_id.code)
        if country not in EU_MEMBER_STATES or country in EUROPEAN_ORDER_EXCLUDED:
            return [
                self._finding(
                    "blocking",
                    _(
                        "%(debtor)s is established in %(country)s: the European "
                        "order for payment is for a debtor in another member state "
                        "of the European Union, Denmark excepted (Regulation (EC) "
                        "1896/2006). Choose the injonction de payer for a debtor in "
                        "France; elsewhere the claim needs a lawyer in the debtor's "
                        "country.",
                        debtor=partner.display_name,
                        country=partner.country_id.name or _("France"),
                    ),
                )
            ]
        findings = []
        if partner.credit_legal_nature == "consumer":
            findings.append(
                self._finding(
                    "blocking",
                    _(
                        "%(debtor)s is a consumer: a European order for payment "
                        "against a consumer is applied for only in the member state "
                        "where the consumer is domiciled (Regulation (EC) 1896/2006, "
                        "art. 6). File it with a court of %(country)s, in its "
                        "language.",
                        debtor=partner.display_name,
                        country=partner.country_id.name,
                    ),
                )
            )
        if not self.eop_jurisdiction:
            findings.append(
                self._finding(
                    "blocking",
                    _(
                        "Choose the grounds on which the French court has "
                        "jurisdiction over the European order for payment (form A, "
                        "section 3): the place of delivery or of the services, a "
                        "branch, or a choice-of-court clause (Regulation (EU) "
                        "1215/2012, art. 7 and 25)."
                    ),
                )
            )
        if not self.court_name:
            findings.append(
                self._finding(
                    "warning",
                    _(
                        "Enter the court seized of the European order for payment: "
                        "the president of the commercial court for a commercial "
                        "claim, else the judicial court (CPC 1424-1 et seq.)."
                    ),
                )
            )
        return findings

    def _check_small_claims(self, partner):
        """The small-claims procedure takes a claim of 5,000 EUR or less, principal
        and interest included (CPCE L125-1, R125-1); the claim's penalties are
        computed when the request is created, where the threshold is checked
        again."""
        _ = self.env._
        findings = []
        total = self._get_principal_estimate()
        if Decimal(str(total)) > SMALL_CLAIMS_THRESHOLD:
            findings.append(
                self._finding(
                    "blocking",
                    self._small_claims_refusal(partner, total),
                )
            )
        if not self.commissaire_id:
            findings.append(
                self._finding(
                    "warning",
                    _(
                        "Choose the commissaire de justice, in the area of the "
                        "court of appeal of the debtor's domicile."
                    ),
                )
            )
        return findings

    def _small_claims_refusal(self, partner, total):
        currency = self.company_id.currency_id
        return self.env._(
            "The claim against %(debtor)s is %(amount)s in principal and interest: "
            "the small-claims procedure takes claims of 5,000 EUR or less (art. "
            "R125-1 CPCE). Choose the injonction de payer.",
            debtor=partner.display_name,
            amount=formatLang(self.env, total, currency_obj=currency),
        )

    def _get_failed_small_claims(self, partner):
        """The failed small-claims attempt on these invoices: the one the wizard
        was opened from, else the customer's last one."""
        if self.failed_small_claims_id.state == "failed":
            return self.failed_small_claims_id
        return self.env["credit.court.request"].search(
            [
                ("partner_id", "=", partner.id),
                ("company_id", "=", self.company_id.id),
                ("procedure", "=", "small_claims"),
                ("state", "=", "failed"),
            ],
            order="small_claims_failure_date desc, id desc",
            limit=1,
        )

    def _get_credits(self, partner):
        """The customer's open credit notes and unmatched payments: receivable
        items with a credit balance, deducted from the principal."""
        return self.env["account.move.line"].search_fetch(
            [
                ("partner_id", "=", partner.id),
                ("company_id", "=", self.company_id.id),
                ("account_type", "=", "asset_receivable"),
                ("parent_state", "=", "posted"),
                ("reconciled", "=", False),
                ("amount_residual", "<", 0),
            ],
            ["move_id", "date", "amount_residual", "name"],
            order="date, id",
        )

    def _get_principal_estimate(self):
        moves = self._selected_moves().filtered(
            lambda move: move.payment_state in OPEN_STATES
        )
        partner = self.partner_id.commercial_partner_id
        if not partner:
            return 0.0
        credits = self._get_credits(partner)
        return sum(moves.mapped("amount_residual")) + sum(
            credits.mapped("amount_residual")
        )

    def _check_amount(self, partner, moves):
        _ = self.env._
        total = self._get_principal_estimate()
        currency = self.company_id.currency_id
        if moves and currency.compare_amounts(total, 0.0) <= 0:
            return [
                self._finding(
                    "blocking",
                    _(
                        "The claim is %(amount)s once the credit notes and "
                        "unmatched payments of the customer are deducted: there is "
                        "nothing to claim.",
                        amount=formatLang(self.env, total, currency_obj=currency),
                    ),
                )
            ]
        if (
            self.procedure in (False, "injonction")
            and self.court_type
            and amicable_attempt_may_be_required(Decimal(str(total)), self.court_type)
        ):
            failed = self._get_failed_small_claims(partner)
            if failed:
                return [
                    self._finding(
                        "info",
                        _(
                            "The claim is 5,000 EUR or less before the judicial "
                            "court: the prior amicable attempt of art. 750-1 CPC is "
                            "met, the small-claims procedure %(request)s having "
                            "failed on %(date)s (exemption 5°).",
                            request=failed.name,
                            date=format_date(
                                self.env,
                                failed.small_claims_failure_date
                                or failed.write_date.date(),
                            ),
                        ),
                    )
                ]
            return [
                self._finding(
                    "warning",
                    _(
                        "The claim is 5,000 EUR or less before the judicial court: "
                        "an amicable attempt (conciliation, mediation) or the "
                        "small-claims procedure of a commissaire de justice may be "
                        "required first (art. 750-1 CPC; whether it applies to an "
                        "order for payment is unsettled)."
                    ),
                )
            ]
        return []

    @api.model
    def _render_findings(self, findings):
        if not findings:
            return Markup('<p class="text-success">%s</p>') % self.env._(
                "Every check passed."
            )
        classes = {
            "blocking": "text-danger",
            "warning": "text-warning",
            "info": "text-muted",
        }
        labels = {
            "blocking": self.env._("Blocking"),
            "warning": self.env._("Warning"),
            "info": self.env._("Note"),
        }
        items = Markup("").join(
            Markup('<li class="%s"><strong>%s:</strong> %s</li>')
            % (classes[finding["level"]], labels[finding["level"]], finding["message"])
            for finding in findings
        )
        return Markup("<ul>%s</ul>") % items

    # ------------------------------------------------------------------ create

    def action_create_request(self):
        """Check, compute the claim once as of the date, and create the request."""
        self.ensure_one()
        check_collection_user(self.env, self.env._("Preparing a court request"))
        findings = self._get_findings()
        blocking = [f["message"] for f in findings if f["level"] == "blocking"]
        if blocking:
            raise UserError(
                self.env._(
                    "The court request cannot be created:\n%(reasons)s",
                    reasons="\n".join("- " + message for message in blocking),
                )
            )
        request = self._create_request(findings)
        return {
            "type": "ir.actions.act_window",
            "res_model": "credit.court.request",
            "res_id": request.id,
            "view_mode": "form",
            "target": "current",
        }

    def _court(self):
        """The environment the texts of the filed documents are written in: the
        language of the French courts, whatever the user's (the claim lines and
        the nature of the claim are stored and printed as they are)."""
        return self.with_context(
            lang=self.env["credit.court.request"]._get_court_lang()
        ).env

    def _create_request(self, findings):
        partner = self.partner_id.commercial_partner_id
        moves = self._selected_moves()
        court = self.with_env(self._court())
        claim_lines, penalty_lines = court._prepare_claim_lines(partner, moves)
        total = sum(line["amount"] for line in claim_lines)
        currency = self.company_id.currency_id
        if currency.compare_amounts(total, 0.0) <= 0:
            raise UserError(
                self.env._(
                    "The claim of %(debtor)s is %(amount)s: there is nothing to "
                    "claim.",
                    debtor=partner.display_name,
                    amount=formatLang(self.env, total, currency_obj=currency),
                )
            )
        letters, covered = self._get_formal_notices(partner, moves)
        letters = letters.filtered(
            lambda letter: any(letter.id in ids for ids in covered.values())
        )
        by_kind = defaultdict(float)
        for line in claim_lines:
            by_kind[line["kind"]] += line["amount"]
        sequence = 0
        for line in claim_lines:
            sequence += 10
            line["sequence"] = sequence
        if self.procedure == "small_claims":
            counted = sum(
                line["amount"]
                for line in claim_lines
                if line["kind"] in SMALL_CLAIMS_KINDS
            )
            if Decimal(str(currency.round(counted))) > SMALL_CLAIMS_THRESHOLD:
                raise UserError(self._small_claims_refusal(partner, counted))
        warnings = [f for f in findings if f["level"] != "blocking"]
        return self.env["credit.court.request"].create(
            {
                "company_id": self.company_id.id,
                "currency_id": currency.id,
                "partner_id": partner.id,
                "as_of_date": self.as_of_date,
                "debtor_legal_nature": partner.credit_legal_nature,
                "court_type": self.court_type,
                "court_name": self.court_name,
                "court_address": self.court_address,
                "referral_requested": self.referral_requested,
                "referral_court": self.referral_court,
                "correspondence_address": self.correspondence_address,
                "claim_nature": self.claim_nature,
                "move_ids": [Command.set(moves.ids)],
                "penalty_line_ids": [Command.set(penalty_lines.ids)],
                "letter_ids": [Command.set(letters.ids)],
                "claim_line_ids": [Command.create(line) for line in claim_lines],
                "document_ids": [
                    Command.create(vals)
                    for vals in court._prepare_document_vals(moves, letters)
                ],
                "amount_principal": currency.round(by_kind["principal"]),
                "amount_penalties": currency.round(
                    by_kind["interest"] + by_kind["penalty_invoice"]
                ),
                "amount_indemnity": currency.round(
                    by_kind["indemnity"] + by_kind["compensation"]
                ),
                "amount_penal_clause": currency.round(by_kind["penal_clause"]),
                "amount_costs": currency.round(
                    by_kind["court_fee"]
                    + by_kind["tae_contribution"]
                    + by_kind["other"]
                ),
                "amount_total": currency.round(total),
                "interest_running_text": court._get_interest_running_text(
                    partner, moves, penalty_lines
                ),
                "findings": self._render_findings(warnings) if warnings else False,
                **self._prepare_procedure_vals(),
            }
        )

    def _prepare_procedure_vals(self):
        """The procedure's own values of the request."""
        vals = {"procedure": self.procedure or "injonction"}
        if self.procedure == "european_order":
            vals.update(
                eop_jurisdiction=self.eop_jurisdiction, eop_cause=self.eop_cause
            )
        elif self.procedure == "small_claims":
            vals["commissaire_id"] = self.commissaire_id.id
        return vals

    def _prepare_claim_lines(self, partner, moves):
        """The claim as of the date, as values of ``credit.court.request.line``, and
        the penalty lines claimed. Penalties come from the penalty engine and the
        penalty statement's data builder: the same figures, never a second
        computation."""
        _ = self.env._
        invoices = moves.filtered(lambda move: not move.is_penalty_invoice)
        penalty_invoices = moves - invoices
        lines = []
        for move in invoices:
            lines.append(
                {
                    "kind": "principal",
                    "move_id": move.id,
                    "name": _(
                        "Invoice %(move)s of %(date)s, balance due",
                        move=move.name,
                        date=format_date(self.env, move.invoice_date),
                    ),
                    "basis": self._get_contract_basis(move),
                    "evidence": _("Invoice %(move)s", move=move.name),
                    "amount": move.amount_residual,
                }
            )
        for credit in self._get_credits(partner):
            credit_move = credit.move_id
            is_refund = credit_move.move_type == "out_refund"
            lines.append(
                {
                    "kind": "principal",
                    "move_id": credit_move.id,
                    "name": (
                        _("Credit note %(move)s, deducted", move=credit_move.name)
                        if is_refund
                        else _(
                            "Payment received on %(date)s, not matched, deducted",
                            date=format_date(self.env, credit.date),
                        )
                    ),
                    "basis": False,
                    "evidence": credit_move.name,
                    "amount": credit.amount_residual,
                }
            )
        for move in penalty_invoices:
            lines.append(
                {
                    "kind": "penalty_invoice",
                    "move_id": move.id,
                    "name": _(
                        "Penalty invoice %(move)s of %(date)s, balance due",
                        move=move.name,
                        date=format_date(self.env, move.invoice_date),
                    ),
                    "basis": _("Art. L441-10 and D441-5 C. com."),
                    "evidence": _("Invoice %(move)s", move=move.name),
                    "amount": move.amount_residual,
                }
            )
        penalty_lines = self.env["credit.penalty.line"]
        if invoices:
            penalty_lines = self._compute_penalties(invoices)
            lines += self._prepare_penalty_claim_lines(partner, invoices, penalty_lines)
            lines += self._prepare_penal_clause_lines(partner, invoices, lines)
        lines += self._prepare_cost_lines(partner, lines)
        return lines, penalty_lines

    def _get_contract_basis(self, move):
        refs = [
            self.env._("Order %(ref)s", ref=move.invoice_origin)
            if move.invoice_origin
            else False,
            self.env._("Customer reference %(ref)s", ref=move.ref) if move.ref else "",
        ]
        refs = [ref for ref in refs if ref]
        return ", ".join(refs) or self.env._("Contract and terms of sale")

    def _compute_penalties(self, invoices):
        """Refresh the draft penalties as of the date (interactive: a missing rate
        stops with its message) and return the lines claimed: the draft lines up to
        the date (invoiced lines are claimed through their penalty invoice)."""
        invoices.compute_late_penalties(self.as_of_date)
        return self.env["credit.penalty.line"].search(
            [
                ("move_id", "in", invoices.ids),
                ("state", "=", "draft"),
                "|",
                ("date_to", "=", False),
                ("date_to", "<=", self.as_of_date),
            ]
        )

    def _prepare_penalty_claim_lines(self, partner, invoices, penalty_lines):
        _ = self.env._
        if not penalty_lines:
            return []
        # The statement's builder reads each invoice's first installment and the
        # invoice itself: prefetched here in the cache it reads from.
        penalty_lines.fetch(
            ["move_id", "move_line_id", "kind", "date_maturity", "amount", "rate"]
        )
        penalty_lines.move_line_id.fetch(["amount_currency", "date_maturity"])
        penalty_lines.move_id.fetch(["name", "invoice_date", "amount_total"])
        data = self.env[
            "report.l10n_fr_credit_collection.report_penalty_statement"
        ]._get_statement_data(partner, self.as_of_date, line_ids=penalty_lines.ids)
        by_name = {move.name: move for move in invoices}
        consumer = partner.credit_legal_nature == "consumer"
        interest_basis = (
            _("Art. 1231-6 and 1344-1 C. civ. (legal interest)")
            if consumer
            else _("Art. L441-10 II C. com.")
        )
        lines = []
        for block in data["currencies"]:
            for invoice in block["invoices"]:
                move = by_name.get(invoice["name"])
                evidence = _(
                    "Invoice %(move)s and statement of penalties", move=invoice["name"]
                )
                for kind, name, basis in (
                    (
                        "interest",
                        _(
                            "Late-payment penalties on invoice %(move)s",
                            move=invoice["name"],
                        ),
                        interest_basis,
                    ),
                    (
                        "indemnity",
                        _(
                            "Fixed recovery indemnity, invoice %(move)s",
                            move=invoice["name"],
                        ),
                        _("Art. L441-10 II and D441-5 C. com."),
                    ),
                    (
                        "compensation",
                        _(
                            "Additional recovery costs, invoice %(move)s",
                            move=invoice["name"],
                        ),
                        _("Art. L441-10 II C. com. (on proof)"),
                    ),
                ):
                    if invoice[kind]:
                        lines.append(
                            {
                                "kind": kind,
                                "move_id": move.id if move else False,
                                "name": name,
                                "basis": basis,
                                "evidence": evidence,
                                "amount": invoice[kind],
                            }
                        )
        return lines

    def _prepare_penal_clause_lines(self, partner, invoices, lines):
        """The penal clause of the customer's terms, on the principal (C. civ.
        1231-5), only when the penalty rule says the terms include one."""
        rule = invoices[:1]._get_penalty_rules()[invoices[:1].id]
        if not hasattr(rule, "_get_penal_clause_amount"):
            return []
        principal = sum(
            line["amount"]
            for line in lines
            if line["kind"] == "principal" and line["move_id"] in invoices.ids
        )
        amount = rule._get_penal_clause_amount(principal, self.company_id.currency_id)
        if not amount:
            return []
        return [
            {
                "kind": "penal_clause",
                "move_id": False,
                "name": self.env._("Penal clause of our terms of sale"),
                "basis": self.env._("Art. 1231-5 C. civ. and terms of sale"),
                "evidence": self.env._("Terms of sale"),
                "amount": amount,
            }
        ]

    def _prepare_cost_lines(self, partner, lines):
        """The court fee and the contribution for economic justice. Recovery costs
        incurred before an enforceable title stay with the creditor (CPCE L111-8):
        nothing else is claimed, and nothing from a consumer."""
        _ = self.env._
        company = self.company_id
        if partner.credit_legal_nature == "consumer":
            return []
        if self.procedure == "small_claims":
            return []  # the costs stay with the creditor (CPCE L125-1)
        costs = []
        if self.court_type in FEE_COURTS and company.credit_court_fee:
            costs.append(
                {
                    "kind": "court_fee",
                    "move_id": False,
                    "name": _("Greffe fee of the request"),
                    "basis": _("Regulated greffe tariff (art. 1425 CPC)"),
                    "evidence": False,
                    "amount": company.credit_court_fee,
                }
            )
        claim = Decimal(str(sum(line["amount"] for line in lines)))
        contribution = tae_contribution(
            claim,
            self.court_type,
            company.credit_large_company,
            Decimal(str(company.credit_tae_rate)),
            Decimal(str(company.credit_tae_threshold)),
        )
        if contribution:
            costs.append(
                {
                    "kind": "tae_contribution",
                    "move_id": False,
                    "name": _("Contribution for economic justice"),
                    "basis": _(
                        "Décret n° 2024-1225 (contribution for economic justice)"
                    ),
                    "evidence": False,
                    "amount": float(contribution),
                }
            )
        return costs

    def _get_interest_running_text(self, partner, moves, penalty_lines):
        """The rate at which penalties keep running until full payment."""
        interest = penalty_lines.filtered(lambda line: line.kind == "interest")
        if not interest:
            return False
        last = interest.sorted(lambda line: (line.date_to, line.id))[-1]
        if partner.credit_legal_nature == "consumer":
            return self.env._(
                "Interest keeps running at the legal rate, %(rate)s %% a year, from "
                "%(date)s until full payment.",
                rate=formatLang(self.env, last.rate, digits=2),
                date=format_date(self.env, self.as_of_date + timedelta(days=1)),
            )
        return self.env._(
            "Penalties keep running at the rate of %(rate)s %% a year from "
            "%(date)s until full payment.",
            rate=formatLang(self.env, last.rate, digits=2),
            date=format_date(self.env, self.as_of_date + timedelta(days=1)),
        )

    def _prepare_document_vals(self, moves, letters):
        """The bordereau des pièces, in order: contract documents, the invoices,
        the formal notices and their acknowledgments of receipt, then the other
        files ticked."""
        _ = self.env._
        ticked = self.attachment_ids.filtered("selected")
        docs = [
            {
                "kind": "contract",
                "name": line.attachment_id.name,
                "attachment_id": line.attachment_id.id,
                "move_id": line.move_id.id,
            }
            for line in ticked
            if line.kind == "contract"
        ]
        docs += [
            {
                "kind": "invoice",
                "name": _(
                    "Invoice %(move)s of %(date)s",
                    move=move.name,
                    date=format_date(self.env, move.invoice_date),
                ),
                "move_id": move.id,
            }
            for move in moves.sorted(lambda move: (move.invoice_date, move.name))
        ]
        for letter in letters:
            docs.append(
                {
                    "kind": "formal_notice",
                    "name": _(
                        "Formal notice %(letter)s of %(date)s",
                        letter=letter.name,
                        date=format_date(
                            self.env,
                            self._letter_sent_date(letter)
                            or letter.sent_date
                            or letter.date,
                        ),
                    ),
                    "letter_id": letter.id,
                }
            )
        for letter in letters:
            receipt = (
                letter.registered_receipt_attachment_id
                if "registered_receipt_attachment_id" in letter._fields
                else False
            )
            if receipt:
                docs.append(
                    {
                        "kind": "receipt",
                        "name": _(
                            "Acknowledgment of receipt of the formal notice "
                            "%(letter)s",
                            letter=letter.name,
                        ),
                        "letter_id": letter.id,
                        "attachment_id": receipt.id,
                    }
                )
        docs += [
            {
                "kind": "other",
                "name": line.attachment_id.name,
                "attachment_id": line.attachment_id.id,
                "move_id": line.move_id.id,
            }
            for line in ticked
            if line.kind != "contract"
        ]
        for index, vals in enumerate(docs, start=1):
            vals["sequence"] = index
        return docs


class CreditCourtRequestWizardItem(models.TransientModel):
    _name = "credit.court.request.wizard.item"
    _description = "Court Request Item"
    _order = "invoice_date, id"

    wizard_id = fields.Many2one(
        "credit.court.request.wizard", required=True, ondelete="cascade"
    )
    move_id = fields.Many2one("account.move", string="Invoice", required=True)
    selected = fields.Boolean(string="To Claim")
    invoice_date = fields.Date(related="move_id.invoice_date")
    invoice_date_due = fields.Date(related="move_id.invoice_date_due")
    is_penalty_invoice = fields.Boolean(related="move_id.is_penalty_invoice")
    currency_id = fields.Many2one(related="move_id.currency_id")
    amount_total = fields.Monetary(related="move_id.amount_total")
    amount_residual = fields.Monetary(related="move_id.amount_residual")
    payment_state = fields.Selection(related="move_id.payment_state")


class CreditCourtRequestWizardAttachment(models.TransientModel):
    _name = "credit.court.request.wizard.attachment"
    _description = "Court Request Supporting File"

    wizard_id = fields.Many2one(
        "credit.court.request.wizard", required=True, ondelete="cascade"
    )
    attachment_id = fields.Many2one("ir.attachment", string="File", required=True)
    move_id = fields.Many2one("account.move", string="Invoice")
    selected = fields.Boolean(string="To Produce")
    kind = fields.Selection(
        [("contract", "Contract, Order or Terms"), ("other", "Other")],
        required=True,
        default="contract",
    )
