from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    dunning_auto = fields.Boolean(related="company_id.dunning_auto", readonly=False)
    dunning_tolerance = fields.Monetary(
        related="company_id.dunning_tolerance", readonly=False
    )
