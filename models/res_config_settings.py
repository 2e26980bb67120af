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
    credit_court_fee = fields.Monetary(
        related="company_id.credit_court_fee", readonly=False
    )
    credit_tae_rate = fields.Float(related="company_id.credit_tae_rate", readonly=False)
    credit_tae_threshold = fields.Monetary(
        related="company_id.credit_tae_threshold", readonly=False
    )
    credit_large_company = fields.Boolean(
        related="company_id.credit_large_company", readonly=False
    )
    credit_legal_representative = fields.Char(
        related="company_id.credit_legal_representative", readonly=False
    )
    credit_court_correspondence_address = fields.Text(
        related="company_id.credit_court_correspondence_address", readonly=False
    )
    credit_aging_limit_1 = fields.Integer(
        related="company_id.credit_aging_limit_1", readonly=False
    )
    credit_aging_limit_2 = fields.Integer(
        related="company_id.credit_aging_limit_2", readonly=False
    )
    credit_aging_limit_3 = fields.Integer(
        related="company_id.credit_aging_limit_3", readonly=False
    )
    credit_late_payer_days = fields.Integer(
        related="company_id.credit_late_payer_days", readonly=False
    )
    payment_plan_user_suspend = fields.Boolean(
        related="company_id.payment_plan_user_suspend", readonly=False
    )
    payment_plan_grace_days = fields.Integer(
        related="company_id.payment_plan_grace_days", readonly=False
    )
    payment_plan_reminder_days = fields.Integer(
        related="company_id.payment_plan_reminder_days", readonly=False
    )
    payment_plan_mail_template_id = fields.Many2one(
        related="company_id.payment_plan_mail_template_id", readonly=False
    )
