from odoo import fields, models


class CreditDunningLetterCancelWizard(models.TransientModel):
    """Cancel sent letters with a reason: they stay in the history, logged."""

    _name = "credit.dunning.letter.cancel.wizard"
    _description = "Cancel Sent Dunning Letters"

    letter_ids = fields.Many2many(
        "credit.dunning.letter", string="Letters", required=True
    )
    reason = fields.Char(required=True)

    def default_get(self, fields_list):
        vals = super().default_get(fields_list)
        if self.env.context.get("active_model") == "credit.dunning.letter":
            vals["letter_ids"] = [
                fields.Command.set(self.env.context.get("active_ids", []))
            ]
        return vals

    def action_apply(self):
        self.ensure_one()
        self.letter_ids.action_cancel_sent(self.reason)
        return {"type": "ir.actions.act_window_close"}
