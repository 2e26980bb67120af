from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    dunning_auto = fields.Boolean(related="company_id.dunning_auto", readonly=False)
    dunning_tolerance = fields.Monetary(
        related="company_id.dunning_tolerance", readonly=False
    )
    dunning_show_penalties = fields.Boolean(
        related="company_id.dunning_show_penalties", readonly=False
    )
    penalty_interest_account_id = fields.Many2one(
        related="company_id.penalty_interest_account_id", readonly=False
    )
    penalty_indemnity_account_id = fields.Many2one(
        related="company_id.penalty_indemnity_account_id", readonly=False
    )
    legal_form = fields.Char(related="company_id.legal_form", readonly=False)
    share_capital = fields.Monetary(related="company_id.share_capital", readonly=False)
    rcs_city = fields.Char(related="company_id.rcs_city", readonly=False)
    company_siret = fields.Char(related="company_id.siret", readonly=False)
