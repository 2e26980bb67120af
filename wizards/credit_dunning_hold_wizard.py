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
        return {"type": "ir.actions.act_window_close"}
