import base64

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from .credit_access import check_collection_user

# Documents whose late payment a cause explains: posted customer invoices still open.
OPEN_PAYMENT_STATES = ("not_paid", "partial")


class CreditLateCause(models.Model):
    """Why a customer pays late: the first question before escalating.

    An administrative cause (the invoice went astray, a dispute, a missing
    purchase order number) has a fix the user can apply at once; a financial one
    (the customer is short of cash) calls for a payment plan."""

    _name = "credit.late.cause"
    _description = "Cause of Late Payment"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    kind = fields.Selection(
        [("administrative", "Administrative"), ("financial", "Financial")],
        help="Administrative: the invoice or the process is at fault, and a fix "
        "gets it paid. Financial: the customer lacks the cash. Empty when the "
        "cause is not known yet.",
    )
    fix = fields.Selection(
        [
            ("resend", "Resend the Invoice to Another Contact"),
            ("hold_credit_note", "Hold Until the Credit Note"),
            ("billing_address", "Correct the Billing Address"),
        ],
        string="Proposed Fix",
        help="What the user is offered when recording this administrative cause.",
    )
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        index=True,
        help="Leave empty to share the cause between all the companies.",
    )

    @api.onchange("kind")
    def _onchange_kind(self):
        if self.kind != "administrative":
            self.fix = False

    @api.constrains("kind", "fix")
    def _check_fix(self):
        for cause in self:
            if cause.fix and cause.kind != "administrative":
                raise UserError(
                    self.env._(
                        "The cause %(cause)s proposes a fix: only an administrative "
                        "cause can. Set its kind to Administrative or clear the fix.",
                        cause=cause.display_name,
                    )
                )


class AccountMove(models.Model):
    _inherit = "account.move"  # pylint: disable=consider-merging-classes-inherited

    late_cause_id = fields.Many2one(
        "credit.late.cause",
        string="Cause of Late Payment",
        check_company=True,
        copy=False,
        tracking=True,
        index="btree_not_null",
    )
    late_cause_kind = fields.Selection(
        related="late_cause_id.kind", string="Cause Kind", store=True
    )
    late_cause_note = fields.Text(string="Cause Note", copy=False)
    late_cause_date = fields.Date(string="Cause Recorded On", copy=False)
    late_cause_user_id = fields.Many2one(
        "res.users", string="Cause Recorded By", copy=False
    )

    @property
    def _credit_protected_fields(self):
        # Composes with every other extension of the tuple, whatever the order.
        return (
            *super()._credit_protected_fields,
            "late_cause_id",
            "late_cause_note",
            "late_cause_date",
            "late_cause_user_id",
        )

    def action_record_late_cause(self):
        """Open the wizard recording why these invoices are paid late."""
        check_collection_user(self.env, self.env._("Recording a cause of late payment"))
        self._check_late_cause_moves()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Record the Cause"),
            "res_model": "credit.late.cause.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"active_model": "account.move", "active_ids": self.ids},
        }

    def _check_late_cause_moves(self):
        wrong = self.filtered(
            lambda move: move.move_type != "out_invoice" or move.state != "posted"
        )
        if wrong or not self:
            raise UserError(
                self.env._(
                    "A cause of late payment is recorded on posted customer "
                    "invoices: %(move)s is not one. Select posted customer invoices.",
                    move=wrong[:1].display_name or self.env._("nothing"),
                )
            )

    def _credit_record_late_cause(self, cause, note=False):
        """Record ``cause`` (with ``note``) on the invoices and say so in their
        chatter, in one write."""
        check_collection_user(self.env, self.env._("Recording a cause of late payment"))
        if not self:
            return self
        self._check_late_cause_moves()
        self.write(
            {
                "late_cause_id": cause.id,
                "late_cause_note": note or False,
                "late_cause_date": fields.Date.context_today(self),
                "late_cause_user_id": self.env.user.id,
            }
        )
        body = Markup("<p>%s</p>") % self.env._(
            "Cause of late payment: %(cause)s.", cause=cause.display_name
        )
        if note:
            body += Markup("<p>%s</p>") % note
        self._message_log_batch(dict.fromkeys(self.ids, body))
        return self

    def _credit_log(self, message):
        self._message_log_batch(dict.fromkeys(self.ids, Markup("<p>%s</p>") % message))

    def _credit_resend_invoices(self, contact):
        """Send each invoice again by email, with Odoo's invoice template, to
        ``contact`` (another contact of the customer)."""
        if not contact.email:
            raise UserError(
                self.env._(
                    "%(contact)s has no email address: add one to the contact, or "
                    "choose another contact to resend the invoices to.",
                    contact=contact.display_name,
                )
            )
        template = self.env.ref("account.email_template_edi_invoice")
        # Rendered here rather than through the composer, which would add the
        # template's recipients (the invoice's customer) to the chosen contact.
        rendered = template._generate_template(
            self.ids,
            (
                "subject",
                "body_html",
                "email_from",
                "attachment_ids",
                "report_template_ids",
            ),
        )
        for move in self:
            values = rendered[move.id]
            move.with_context(no_new_invoice=True).message_post(
                body=values["body_html"],
                subject=values["subject"],
                email_from=values.get("email_from") or None,
                partner_ids=contact.ids,
                attachment_ids=values.get("attachment_ids") or [],
                attachments=[
                    (name, base64.b64decode(content))
                    for name, content in values.get("attachments", [])
                ],
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                email_layout_xmlid=(
                    "mail.mail_notification_layout_with_responsible_signature"
                ),
            )
        self.filtered(lambda move: not move.is_move_sent).is_move_sent = True
        self._credit_log(
            self.env._(
                "Invoice sent again to %(contact)s (%(email)s).",
                contact=contact.display_name,
                email=contact.email,
            )
        )


class CreditLateCauseAnalysis(models.Model):
    """The open posted receivable items with the cause recorded on their
    document: the pivot of overdue amounts by cause and by customer."""

    _name = "credit.late.cause.analysis"
    _description = "Overdue by Cause"
    _auto = False
    # Flushed before the view is read.
    _depends = {
        "account.move.line": [
            "company_id",
            "company_currency_id",
            "move_id",
            "partner_id",
            "account_id",
            "date",
            "date_maturity",
            "amount_residual",
            "parent_state",
            "reconciled",
        ],
        "account.move": ["invoice_user_id", "late_cause_id"],
        "account.account": ["account_type"],
        "credit.late.cause": ["kind"],
    }
    _order = "date_maturity, id"

    company_id = fields.Many2one("res.company", readonly=True)
    company_currency_id = fields.Many2one(
        "res.currency", string="Currency", readonly=True
    )
    move_id = fields.Many2one("account.move", string="Document", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    invoice_user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    late_cause_id = fields.Many2one(
        "credit.late.cause", string="Cause of Late Payment", readonly=True
    )
    late_cause_kind = fields.Selection(
        [("administrative", "Administrative"), ("financial", "Financial")],
        string="Cause Kind",
        readonly=True,
    )
    date_maturity = fields.Date(string="Due Date", readonly=True)
    amount_residual = fields.Monetary(
        string="Open Amount",
        currency_field="company_currency_id",
        readonly=True,
        aggregator="sum",
    )

    @property
    def _table_query(self):
        return SQL(
            """
            SELECT line.id AS id,
                   line.company_id AS company_id,
                   line.company_currency_id AS company_currency_id,
                   line.move_id AS move_id,
                   line.partner_id AS partner_id,
                   move.invoice_user_id AS invoice_user_id,
                   move.late_cause_id AS late_cause_id,
                   cause.kind AS late_cause_kind,
                   COALESCE(line.date_maturity, line.date) AS date_maturity,
                   line.amount_residual AS amount_residual
              FROM account_move_line line
              JOIN account_move move ON move.id = line.move_id
              JOIN account_account account ON account.id = line.account_id
         LEFT JOIN credit_late_cause cause ON cause.id = move.late_cause_id
             WHERE line.parent_state = 'posted'
               AND account.account_type = 'asset_receivable'
               AND NOT line.reconciled
            """
        )

    @api.model
    def _overdue_domain(self):
        today = fields.Date.to_string(fields.Date.context_today(self))
        return [("date_maturity", "<", today)]

    @api.model
    def action_open_overdue(self):
        """The overdue open items of today, by cause and by customer (menu)."""
        check_collection_user(self.env, self.env._("Analysing the causes"))
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "l10n_fr_credit_collection.action_credit_late_cause_analysis"
        )
        action["domain"] = self._overdue_domain()
        return action


class CreditCollectionDemo(models.AbstractModel):
    _inherit = "credit.collection.demo"  # pylint: disable=consider-merging-classes-inherited

    def _load_demo_followups(self, partners, moves):
        res = super()._load_demo_followups(partners, moves)
        ref = self.env.ref
        moves[4]._credit_record_late_cause(
            ref("l10n_fr_credit_collection.credit_late_cause_invoice_not_received"),
            "Le client n'a pas d'adresse email : la facture est partie par courrier "
            "à l'ancienne adresse.",
        )
        moves[5]._credit_record_late_cause(
            ref("l10n_fr_credit_collection.credit_late_cause_cash_flow"),
            "Saison creuse : le client demande un échéancier.",
        )
        return res
