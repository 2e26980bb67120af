from odoo import Command, api, fields, models
from odoo.exceptions import UserError


class CreditPaymentMatchWizard(models.TransientModel):
    """Match a customer payment or credit note with the open invoices the user
    ticks, through Odoo's own ``reconcile()``.

    Unmatched payments distort the dunning letters and the penalties: an invoice
    already paid still looks open. Odoo Community has no bank reconciliation
    widget (it is Enterprise-only); this wizard and the outstanding credits shown
    on the invoice form are the two ways to match in Community.
    """

    _name = "credit.payment.match.wizard"
    _description = "Match a Payment with Invoices"

    move_line_id = fields.Many2one(
        "account.move.line",
        string="Payment or Credit Note",
        required=True,
        readonly=True,
        ondelete="cascade",
    )
    move_id = fields.Many2one(related="move_line_id.move_id")
    company_id = fields.Many2one(related="move_line_id.company_id")
    partner_id = fields.Many2one(
        related="move_line_id.partner_id.commercial_partner_id", string="Customer"
    )
    date = fields.Date(related="move_line_id.date")
    currency_id = fields.Many2one(related="move_line_id.currency_id")
    company_currency_id = fields.Many2one(related="move_line_id.company_currency_id")
    amount_unmatched = fields.Monetary(
        compute="_compute_amount_unmatched",
        currency_field="company_currency_id",
        string="Unmatched Amount",
    )
    amount_unmatched_currency = fields.Monetary(
        compute="_compute_amount_unmatched",
        currency_field="currency_id",
        string="Unmatched Amount in Currency",
    )
    line_ids = fields.One2many(
        "credit.payment.match.wizard.line", "wizard_id", string="Open Invoices"
    )
    amount_selected = fields.Monetary(
        compute="_compute_amount_selected",
        currency_field="company_currency_id",
        string="Selected",
    )

    @api.model
    def default_get(self, fields_list):
        vals = super().default_get(fields_list)
        context = self.env.context
        line_id = vals.get("move_line_id") or (
            context.get("active_model") == "account.move.line"
            and context.get("active_id")
        )
        if not line_id:
            return vals
        credit = self.env["account.move.line"].browse(line_id)
        self._check_credit_line(credit)
        vals["move_line_id"] = credit.id
        if "line_ids" in fields_list:
            vals["line_ids"] = [
                Command.create({"move_line_id": line.id})
                for line in self._get_candidate_lines(credit)
            ]
        return vals

    @api.depends("move_line_id")
    def _compute_amount_unmatched(self):
        """What is left of the payment or credit note, as a positive amount."""
        for wizard in self:
            wizard.amount_unmatched = -wizard.move_line_id.amount_residual
            wizard.amount_unmatched_currency = (
                -wizard.move_line_id.amount_residual_currency
            )

    @api.depends("line_ids.selected", "line_ids.amount_residual")
    def _compute_amount_selected(self):
        for wizard in self:
            wizard.amount_selected = sum(
                wizard.line_ids.filtered("selected").mapped("amount_residual")
            )

    # ------------------------------------------------------------------ rules

    @api.model
    def _get_candidate_domain(self, credit):
        """The items the payment or credit note can settle: the same customer's
        open receivable debits on its account, in its company and currency."""
        return [
            ("company_id", "=", credit.company_id.id),
            ("parent_state", "=", "posted"),
            ("account_id", "=", credit.account_id.id),
            ("partner_id", "child_of", credit.partner_id.commercial_partner_id.id),
            ("currency_id", "=", credit.currency_id.id),
            ("reconciled", "=", False),
            ("amount_residual", ">", 0),
        ]

    @api.model
    def _get_candidate_lines(self, credit):
        return self.env["account.move.line"].search(
            self._get_candidate_domain(credit), order="date_maturity, date, id"
        )

    @api.model
    def _check_credit_line(self, credit):
        """The item to match must be an open customer payment or credit note."""
        _ = self.env._
        if (
            credit.parent_state != "posted"
            or credit.account_id.account_type != "asset_receivable"
            or credit.reconciled
            or credit.amount_residual >= 0
        ):
            raise UserError(
                _(
                    "%(item)s is not an unmatched customer payment or credit note: "
                    "only a posted receivable item with an amount left to match can "
                    "be matched here.",
                    item=credit.display_name,
                )
            )
        if not credit.partner_id:
            raise UserError(
                _(
                    "%(item)s has no customer: set the customer on its journal "
                    "entry before matching it.",
                    item=credit.display_name,
                )
            )

    def _check_invoice_lines(self, credit, lines):
        """Each ticked item must be an open receivable debit of the same customer,
        company, account and currency as the payment."""
        _ = self.env._
        commercial = credit.partner_id.commercial_partner_id
        for line in lines:
            if line.company_id != credit.company_id:
                raise UserError(
                    _(
                        "%(invoice)s belongs to %(invoice_company)s and %(payment)s "
                        "to %(company)s: match items of one company only.",
                        invoice=line.move_id.display_name,
                        invoice_company=line.company_id.name,
                        payment=credit.move_id.display_name,
                        company=credit.company_id.name,
                    )
                )
            if line.currency_id != credit.currency_id:
                raise UserError(
                    _(
                        "%(invoice)s is in %(invoice_currency)s and %(payment)s in "
                        "%(currency)s: match them from the invoice's outstanding "
                        "credits, where Odoo converts the amounts.",
                        invoice=line.move_id.display_name,
                        invoice_currency=line.currency_id.name,
                        payment=credit.move_id.display_name,
                        currency=credit.currency_id.name,
                    )
                )
            if (
                line.partner_id.commercial_partner_id != commercial
                or line.account_id != credit.account_id
                or line.parent_state != "posted"
                or line.reconciled
                or line.amount_residual <= 0
            ):
                raise UserError(
                    _(
                        "%(invoice)s is not an open receivable item of %(customer)s "
                        "on account %(account)s: untick it.",
                        invoice=line.move_id.display_name,
                        customer=commercial.display_name,
                        account=credit.account_id.display_name,
                    )
                )

    # --------------------------------------------------------------- actions

    def action_match(self):
        """Reconcile the payment or credit note with the ticked invoices; Odoo
        settles the invoices in order of due date and updates their payment
        status."""
        self.ensure_one()
        credit = self.move_line_id
        self._check_credit_line(credit)
        lines = self.line_ids.filtered("selected").move_line_id
        if not lines:
            raise UserError(
                self.env._(
                    "Tick at least one invoice to match with %(item)s.",
                    item=credit.move_id.display_name,
                )
            )
        self._check_invoice_lines(credit, lines)
        (credit | lines).reconcile()
        return {"type": "ir.actions.act_window_close"}

    def action_open_invoices(self):
        """The customer's open invoices: Odoo's invoice form lists the outstanding
        payments and credit notes the user can add to it."""
        self.ensure_one()
        partner = self.partner_id or self.move_line_id.partner_id
        invoices = self.env["account.move"].search(
            [
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("company_id", "=", self.company_id.id),
                ("commercial_partner_id", "=", partner.commercial_partner_id.id),
                ("payment_state", "in", ("not_paid", "partial")),
            ]
        )
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["context"] = {"default_move_type": "out_invoice", "create": False}
        if len(invoices) == 1:
            action.update(
                {
                    "views": [(False, "form")],
                    "view_mode": "form",
                    "res_id": invoices.id,
                }
            )
        else:
            action["domain"] = [("id", "in", invoices.ids)]
        return action


class CreditPaymentMatchWizardLine(models.TransientModel):
    _name = "credit.payment.match.wizard.line"
    _description = "Invoice to Match with a Payment"
    _order = "date_maturity, id"

    wizard_id = fields.Many2one(
        "credit.payment.match.wizard", required=True, ondelete="cascade"
    )
    selected = fields.Boolean(string="Match")
    move_line_id = fields.Many2one(
        "account.move.line", string="Item", required=True, ondelete="cascade"
    )
    move_id = fields.Many2one(related="move_line_id.move_id", string="Document")
    date = fields.Date(related="move_line_id.date")
    date_maturity = fields.Date(
        related="move_line_id.date_maturity", string="Due Date", store=True
    )
    currency_id = fields.Many2one(related="move_line_id.currency_id")
    company_currency_id = fields.Many2one(related="move_line_id.company_currency_id")
    amount_residual = fields.Monetary(
        related="move_line_id.amount_residual",
        currency_field="company_currency_id",
        string="Open Amount",
    )
    amount_residual_currency = fields.Monetary(
        related="move_line_id.amount_residual_currency",
        currency_field="currency_id",
        string="Open Amount in Currency",
    )
