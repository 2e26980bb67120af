from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    dunning_auto = fields.Boolean(
        string="Automatic Dunning",
        help="Run the dunning every day for this company. Letters of policies that "
        "send without review leave at once; the others wait for a user.",
    )
    dunning_tolerance = fields.Monetary(
        string="Dunning Tolerance",
        currency_field="currency_id",
        help="Open items whose balance is below this amount never trigger a "
        "reminder, and a customer whose open balance is below it gets none.",
    )
