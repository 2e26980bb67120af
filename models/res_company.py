from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..engine.oversight import DEFAULT_LIMITS, check_limits


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
        "(French chart: 763800). Penalty invoices are refused without it.",
    )
    penalty_indemnity_account_id = fields.Many2one(
        "account.account",
        string="Indemnity Income Account",
        check_company=True,
        help="Income account of recovery indemnity and recovery costs lines on "
        "penalty invoices (French chart: 758000). Penalty invoices are refused "
        "without it.",
    )
    # Registry mentions that core lacks (C. com. R123-237 and R123-238), printed in
    # the body of letters, formal notices and penalty statements. The SIRET is the
    # field of l10n_fr.
    legal_form = fields.Char(
        help="Legal form printed on letters and statements, e.g. SAS, SARL, SA.",
    )
    share_capital = fields.Monetary(
        currency_field="currency_id",
        help="Share capital printed on letters and statements (art. R123-238 C. "
        "com.). Leave empty for a sole trader.",
    )
    rcs_city = fields.Char(
        string="RCS City",
        help="City of the registry where the company is registered in the Registre "
        "du commerce et des sociétés, printed as 'RCS <city> <SIREN>'.",
    )

    # Court requests (injonction de payer): the amounts are settings, never
    # hard-coded (LAW.md §3.2 and §3.7).
    credit_court_fee = fields.Monetary(
        string="Commercial Court Fee",
        currency_field="currency_id",
        default=33.47,
        help="Greffe fee of an injonction de payer request before a commercial court "
        "or an economic activities court, claimed from the debtor. Its exact "
        "current amount is unconfirmed: the sources disagree (25.19 EUR under the "
        "tariff of 25 February 2026, 33.47 EUR per Service-Public, 30.23 EUR per "
        "Infogreffe, about 35 EUR per other sites): check it with the greffe. No "
        "greffe fee is due before the judicial court, its commercial chamber "
        "(Alsace-Moselle) or a mixed commercial court (overseas), so none is claimed "
        "there.",
    )
    credit_tae_rate = fields.Float(
        string="Economic Justice Contribution Rate (%)",
        digits=(16, 2),
        default=3.0,
        help="Rate of the contribution for economic justice due before an economic "
        "activities court (décret 2024-1225): 3 % or 5 % of the claim.",
    )
    credit_tae_threshold = fields.Monetary(
        string="Economic Justice Contribution Threshold",
        currency_field="currency_id",
        default=50000.0,
        help="The contribution is due only for a claim above this amount.",
    )
    credit_large_company = fields.Boolean(
        string="250 Employees or More",
        help="Companies with fewer than 250 employees are exempt from the "
        "contribution for economic justice.",
    )
    credit_legal_representative = fields.Char(
        string="Legal Representative",
        help="Name and capacity of the person who signs court requests for the "
        "company, e.g. 'Jeanne Martin, gérante'.",
    )
    credit_court_correspondence_address = fields.Text(
        string="Court Correspondence Address",
        help="Address where the court notifies an opposition (art. 1418 CPC). Empty: "
        "the company's address.",
    )

    # ------------------------------------------------------------------ lead: defaults

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        self.env["credit.dunning.policy"]._create_company_defaults(companies)
        self.env["credit.penalty.rule"]._create_company_defaults(companies)
        return companies

    def _credit_manager_users(self):
        """Credit Collection managers allowed in this company (real internal users),
        else its administrators: who is told when a job could not do its work."""
        self.ensure_one()
        group = self.env.ref(
            "l10n_fr_credit_collection.group_credit_collection_manager"
        )
        users = group.sudo().users.filtered(
            lambda user: not user._is_superuser()
            and user.active
            and not user.share
            and self in user.company_ids
        )
        if not users:
            admins = self.env.ref("base.group_system").sudo().users
            users = admins.filtered(
                lambda user: not user._is_superuser() and self in user.company_ids
            )
        return users.sorted("id")

    def _notify_credit_job_failure(self, summary, note):
        """One open activity for the managers, on the company's partner, per
        summary: a scheduled job tells them once, not once per record or per run
        (an open activity with the same summary gets the new note instead)."""
        self.ensure_one()
        users = self._credit_manager_users()
        if not users:
            return self.env["mail.activity"]
        Activity = self.env["mail.activity"].sudo()
        partner_model = self.env["ir.model"]._get_id("res.partner")
        existing = Activity.search(
            [
                ("res_model_id", "=", partner_model),
                ("res_id", "=", self.partner_id.id),
                ("summary", "=", summary),
            ],
            limit=1,
        )
        body = Markup("<p>%s</p>") % note
        if existing:
            existing.note = body
            return existing
        return Activity.create(
            {
                "res_model_id": partner_model,
                "res_id": self.partner_id.id,
                "activity_type_id": self.env.ref("mail.mail_activity_data_todo").id,
                "summary": summary,
                "note": body,
                "user_id": users[0].id,
            }
        )

    # ------------------------------------------------------------ oversight

    credit_aging_limit_1 = fields.Integer(
        string="Ageing Bucket 1 (days)",
        default=DEFAULT_LIMITS[0],
        help="Upper limit, in days late, of the first bucket of the aged balance.",
    )
    credit_aging_limit_2 = fields.Integer(
        string="Ageing Bucket 2 (days)", default=DEFAULT_LIMITS[1]
    )
    credit_aging_limit_3 = fields.Integer(
        string="Ageing Bucket 3 (days)", default=DEFAULT_LIMITS[2]
    )
    credit_late_payer_days = fields.Integer(
        string="Late Payer Threshold (days)",
        default=15,
        help="A customer whose average delay over the last 12 months, weighted by "
        "amount, passes this number of days is flagged as a late payer.",
    )

    @api.constrains(
        "credit_aging_limit_1", "credit_aging_limit_2", "credit_aging_limit_3"
    )
    def _check_credit_aging_limits(self):
        for company in self:
            try:
                check_limits(company._get_aging_limits())
            except ValueError:
                raise ValidationError(
                    self.env._(
                        "The ageing buckets of %(company)s must be positive and "
                        "increasing (for example 30, 60 and 90 days): correct them "
                        "in the settings.",
                        company=company.name,
                    )
                ) from None

    def _get_aging_limits(self):
        """The upper limits (days late) of the ageing buckets of this company."""
        self.ensure_one()
        return (
            self.credit_aging_limit_1,
            self.credit_aging_limit_2,
            self.credit_aging_limit_3,
        )

    # ------------------------------------------------------------ payment plans

    payment_plan_user_suspend = fields.Boolean(
        string="Users May Suspend Penalties",
        help="Credit collection users may offer, in a payment plan, to suspend the "
        "accrued penalties (waived if the plan is kept to the end). Managers always "
        "can.",
    )
    payment_plan_grace_days = fields.Integer(
        default=5,
        help="Days after an installment's due date before an unpaid installment "
        "breaks the plan (default of new plans).",
    )
    payment_plan_reminder_days = fields.Integer(
        default=3,
        help="Days before each installment's due date when the reminder email goes "
        "(default of new plans).",
    )
    payment_plan_mail_template_id = fields.Many2one(
        "mail.template",
        string="Payment Plan Reminder Template",
        domain="[('model', '=', 'credit.payment.plan.line')]",
        help="Email sent before each installment; empty: the shipped template.",
    )
