from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    dunning_auto = fields.Boolean(
        string="Automatic Dunning",
        help="Run the dunning every day for this company. Letters of policies that "
        "send without review leave at once; the others wait for a user.",
    )
    dunning_tolerance = fields.Monetary(
        currency_field="currency_id",
        help="Open items whose balance is below this amount never trigger a "
        "reminder, and a customer whose open balance is below it gets none.",
    )
    dunning_show_penalties = fields.Boolean(
        string="Show Penalties on Letters",
        help="Dunning letters and formal notices show the late-payment penalties and "
        "indemnities accrued on the date of the run.",
    )
    penalty_interest_account_id = fields.Many2one(
        "account.account",
        string="Penalty Income Account",
        check_company=True,
        help="Income account of late-payment penalty lines on penalty invoices "
        "(French chart: 7638). Empty: the product's account.",
    )
    penalty_indemnity_account_id = fields.Many2one(
        "account.account",
        string="Indemnity Income Account",
        check_company=True,
        help="Income account of recovery indemnity lines on penalty invoices. Empty: "
        "the product's account.",
    )
