from odoo import _, api, fields, models
from odoo.exceptions import UserError


class CreditDunningHoldWizard(models.TransientModel):
    _name = "credit.dunning.hold.wizard"
    _description = "Put Invoices on Dunning Hold"

    move_ids = fields.Many2many("account.move", string="Invoices", required=True)
    hold_type = fields.Selection(
        [("dispute", "Dispute"), ("promise", "Promise to Pay")],
        required=True,
        default="dispute",
    )
    reason = fields.Char(required=True)
    until = fields.Date(
        help="For a promise to pay, the date the customer promised to pay by. The "
        "hold ends by itself after it.",
    )
    late_cause_id = fields.Many2one(
        "credit.late.cause",
        string="Cause of Late Payment",
        help="Optional: recorded on the invoices, with the reason of the hold as "
        "note.",
    )

    @api.model
    def default_get(self, fields_list):
        vals = super().default_get(fields_list)
        context = self.env.context
        if context.get("active_model") == "account.move" and context.get("active_ids"):
            vals["move_ids"] = [fields.Command.set(context["active_ids"])]
        return vals

    def action_apply(self):
        self.ensure_one()
        if not self.move_ids:
            raise UserError(_("Select the invoices to put on hold."))
        self.move_ids._set_dunning_hold(self.hold_type, self.reason, self.until)
        if self.late_cause_id:
            # The cause explains the invoices (not the credit notes held with them).
            self.move_ids.filtered(
                lambda move: move.move_type == "out_invoice" and move.state == "posted"
            )._credit_record_late_cause(self.late_cause_id, self.reason)
        return {"type": "ir.actions.act_window_close"}
