from odoo import fields, models


class CreditPenaltyWaiveWizard(models.TransientModel):
    _name = "credit.penalty.waive.wizard"
    _description = "Waive Penalty Lines"

    line_ids = fields.Many2many("credit.penalty.line", string="Lines", required=True)
    reason = fields.Char(required=True)

    def default_get(self, fields_list):
        vals = super().default_get(fields_list)
        if self.env.context.get("active_model") == "credit.penalty.line":
            vals["line_ids"] = [
                fields.Command.set(self.env.context.get("active_ids", []))
            ]
        return vals

    def action_waive(self):
        self.ensure_one()
        self.line_ids.action_waive(self.reason)
        return {"type": "ir.actions.act_window_close"}
