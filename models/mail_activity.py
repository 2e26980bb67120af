from odoo import fields, models
from odoo.tools import SQL


class MailActivity(models.Model):
    _inherit = "mail.activity"

    credit_rate_half_year = fields.Date(
        string="Missing Rates Half-Year",
        readonly=True,
        copy=False,
        help="Set on the activity asking the managers to add the reference rates "
        "of the half-year starting on this date: one open activity per company and "
        "half-year.",
    )

    def init(self):
        res = super().init()
        # Two jobs at once (the monthly penalties, the daily dunning, the rate
        # reminder) never leave two open activities for one company and half-year.
        self.env.cr.execute(
            SQL(
                """
                CREATE UNIQUE INDEX IF NOT EXISTS mail_activity_credit_rate_uniq
                    ON mail_activity (res_model_id, res_id, credit_rate_half_year)
                 WHERE credit_rate_half_year IS NOT NULL AND active
                """
            )
        )
        return res
