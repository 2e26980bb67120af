from odoo import _, api, fields, models


class CreditPenaltyInvoiceWizard(models.TransientModel):
    _name = "credit.penalty.invoice.wizard"
    _description = "Invoice Penalty Lines"

    line_ids = fields.Many2many("credit.penalty.line", string="Lines", required=True)
    invoice_date = fields.Date(required=True, default=fields.Date.context_today)
    unmatched_warning = fields.Text(compute="_compute_unmatched_warning")
    confirm_unmatched = fields.Boolean(
        string="Invoice Despite Unmatched Credits",
        help="I checked the customer's unmatched payments and credit notes: these "
        "penalties are due.",
    )

    @api.depends("line_ids")
    def _compute_unmatched_warning(self):
        for wizard in self:
            flagged = wizard.line_ids.filtered("unmatched_credit_amount")
            wizard.unmatched_warning = flagged and _(
                "%(count)s of these lines ran while the customer had unmatched "
                "payments or credit notes (%(customers)s): they may have settled the "
                "invoices. Match them first, or confirm below that the penalties are "
                "due.",
                count=len(flagged),
                customers=", ".join(flagged.partner_id.mapped("display_name")),
            )

    def default_get(self, fields_list):
        vals = super().default_get(fields_list)
        context = self.env.context
        ids = context.get("active_ids", [])
        if context.get("active_model") == "credit.penalty.line":
            vals["line_ids"] = [fields.Command.set(ids)]
        elif context.get("active_model") == "account.move":
            lines = self.env["credit.penalty.line"].search(
                [("move_id", "in", ids), ("state", "=", "draft")]
            )
            vals["line_ids"] = [fields.Command.set(lines.ids)]
        return vals

    def action_create_invoices(self):
        self.ensure_one()
        invoices = self.line_ids._create_penalty_invoices(
            self.invoice_date, confirm_unmatched=self.confirm_unmatched
        )
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [("id", "in", invoices.ids)]
        if len(invoices) == 1:
            action.update({"views": [(False, "form")], "res_id": invoices.id})
        return action
