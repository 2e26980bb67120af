from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .credit_access import check_collection_user

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
    _inherit = ["mail.thread", "mail.activity.mixin"]
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
    state = fields.Selection(
        [("draft", "Draft"), ("filed", "Filed"), ("cancelled", "Cancelled")],
        default="draft",
        required=True,
        index=True,
        tracking=True,
    )
    procedure = fields.Selection(
        [
            ("injonction", "Injonction de Payer"),
            ("european_order", "European Order for Payment"),
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
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_filed(self):
        if any(request.state == "filed" for request in self):
            raise UserError(
                _("A filed court request cannot be deleted: cancel it instead.")
            )

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
        self.write({"state": "filed", "filed_date": fields.Date.context_today(self)})
        return True

    def action_cancel(self):
        check_collection_user(self.env, _("Cancelling a court request"))
        self.write({"state": "cancelled"})
        return True

    def action_reset_to_draft(self):
        check_collection_user(self.env, _("Reopening a court request"))
        self.filtered(lambda request: request.state == "cancelled").write(
            {"state": "draft", "filed_date": False}
        )
        return True


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
