from odoo import _, api, fields, models
from odoo.exceptions import UserError


class CreditPenaltyCompensationWizard(models.TransientModel):
    """Recovery costs above the fixed indemnity, claimed on proof.

    Art. L441-10 II C. com.: "Lorsque les frais de recouvrement exposés sont
    supérieurs au montant de cette indemnité forfaitaire, le créancier peut demander
    une indemnisation complémentaire, sur justification." A separate manual line,
    with its reason and its proof, never a default.
    """

    _name = "credit.penalty.compensation.wizard"
    _description = "Add Recovery Costs"

    move_id = fields.Many2one("account.move", string="Invoice", required=True)
    currency_id = fields.Many2one(related="move_id.company_id.currency_id")
    amount = fields.Monetary(string="Costs Above the 40 EUR Indemnity", required=True)
    reason = fields.Char(string="Costs Justification", required=True)
    attachment_ids = fields.Many2many("ir.attachment", string="Proof")

    @api.model
    def default_get(self, fields_list):
        vals = super().default_get(fields_list)
        if self.env.context.get("active_model") == "account.move":
            vals["move_id"] = self.env.context.get("active_id")
        return vals

    def action_add(self):
        self.ensure_one()
        move = self.move_id
        if (
            move.move_type != "out_invoice"
            or move.state != "posted"
            or move.is_penalty_invoice
        ):
            raise UserError(
                _(
                    "%(move)s is not a posted customer invoice: recovery costs are "
                    "claimed on a posted invoice that is not itself a penalty "
                    "invoice.",
                    move=move.display_name,
                )
            )
        line = self.env["credit.penalty.line"].create(
            {
                "company_id": move.company_id.id,
                "move_id": move.id,
                "partner_id": move.commercial_partner_id.id,
                "kind": "compensation",
                "state": "draft",
                "amount": self.amount,
                "currency_id": move.company_id.currency_id.id,
                "compensation_reason": self.reason,
                "attachment_ids": [fields.Command.set(self.attachment_ids.ids)],
            }
        )
        self.attachment_ids.write({"res_model": "account.move", "res_id": move.id})
        return line
