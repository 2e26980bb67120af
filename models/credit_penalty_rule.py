from datetime import date

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.misc import formatLang

from ..engine.penalties import (
    B2B_CONTRACTUAL,
    B2B_LEGAL,
    B2C_LEGAL,
    RECOVERY_INDEMNITY,
    MissingRate,
    Regime,
    contractual_floor,
    half_year_label,
    to_decimal,
)


class CreditPenaltyRule(models.Model):
    """How late-payment penalties are claimed from a customer."""

    _name = "credit.penalty.rule"
    _inherit = ["credit.company.default.mixin"]
    _description = "Penalty Rule"
    _company_default_template = "l10n_fr_credit_collection.credit_penalty_rule_legal"
    currency_id = fields.Many2one(related="company_id.currency_id")
    is_default = fields.Boolean(string="Default Rule")
    regime = fields.Selection(
        [
            (B2B_LEGAL, "Professional: ECB rate + 10 points"),
            (B2B_CONTRACTUAL, "Professional: contractual rate"),
            (B2C_LEGAL, "Consumer: legal interest rate after formal notice"),
        ],
        required=True,
        default=B2B_LEGAL,
    )
    contractual_rate = fields.Float(string="Contractual Rate (%)", digits=(16, 4))
    indemnity_enabled = fields.Boolean(
        string="Recovery Indemnity",
        default=True,
        help="Claim the recovery indemnity, fixed at 40 EUR by art. D441-5 C. com., "
        "once per invoice paid late, from professional debtors only.",
    )
    min_days_late = fields.Integer(
        string="Minimum Delay (days)",
        help="No penalty is claimed for an installment paid less late than this.",
    )
    min_amount = fields.Monetary(
        string="Minimum Amount per Line", currency_field="currency_id"
    )
    day_count = fields.Selection(
        [
            ("actual_365", "Actual days / 365"),
            ("actual_actual", "Actual days / actual"),
        ],
        required=True,
        default="actual_365",
    )
    floor_warning = fields.Html(compute="_compute_floor_warning")
    penal_clause = fields.Boolean(
        string="Penal Clause in the Customer's Terms",
        help="The terms the customer accepted include a penal clause (clause "
        "pénale): a fixed percentage of the principal, claimed in the formal notice "
        "and the court request only, on a line of its own. Against a consumer, a "
        "court may find such a clause unfair.",
    )
    penal_clause_percent = fields.Float(
        string="Penal Clause (% of Principal)",
        digits=(16, 2),
        help="Percentage of the overdue principal the clause sets.",
    )
    penal_clause_min_amount = fields.Monetary(
        string="Penal Clause Minimum",
        currency_field="currency_id",
        help="Minimum amount the clause sets, if any.",
    )

    _sql_constraints = [
        (
            "default_unique",
            "EXCLUDE (company_id WITH =) WHERE (is_default AND active)",
            "A company has only one default penalty rule.",
        ),
    ]

    @api.constrains("regime", "contractual_rate")
    def _check_contractual_rate(self):
        for rule in self:
            if rule.regime == B2B_CONTRACTUAL and not rule.contractual_rate:
                raise ValidationError(
                    _(
                        "The penalty rule %(rule)s uses a contractual rate but has "
                        "none. Enter the rate of your terms of sale.",
                        rule=rule.name,
                    )
                )
            if not 0 <= rule.contractual_rate <= 100:
                raise ValidationError(
                    _(
                        "The contractual rate of %(rule)s is %(rate)s %%: it must be "
                        "between 0 and 100 %%.",
                        rule=rule.name,
                        rate=rule.contractual_rate,
                    )
                )

    @api.constrains("penal_clause", "penal_clause_percent", "penal_clause_min_amount")
    def _check_penal_clause(self):
        for rule in self:
            if rule.penal_clause and rule.penal_clause_percent <= 0:
                raise ValidationError(
                    _(
                        "The penalty rule %(rule)s has a penal clause without its "
                        "percentage. Enter the percentage of the principal your terms "
                        "of sale set.",
                        rule=rule.name,
                    )
                )
            if rule.penal_clause_min_amount < 0:
                raise ValidationError(
                    _(
                        "The minimum of the penal clause of %(rule)s cannot be "
                        "negative.",
                        rule=rule.name,
                    )
                )

    def _get_penal_clause_amount(self, principal, currency):
        """The penal clause (clause pénale) of the customer's terms on ``principal``
        in ``currency``: the percentage of the principal, and never less than the
        minimum; 0.0 when the terms have no such clause or nothing is owed.

        C. civ. 1231-5: the amount agreed is owed as such (al. 1), but the judge
        may moderate or increase it when it is manifestly excessive or derisory
        (al. 2); it is incurred only once the debtor is put on notice (al. 5). So
        it is claimed in the formal notice and the court request only, never in a
        reminder, a penalty line or a penalty invoice, and on a line of its own:
        it is not interest.
        """
        self.ensure_one()
        if not self.penal_clause:
            return 0.0
        return self._compute_penal_clause(
            principal,
            currency,
            self.penal_clause_percent,
            self.penal_clause_min_amount,
            self.company_id or self.env.company,
        )

    @api.model
    def _compute_penal_clause(
        self, principal, currency, percent, minimum, company, day=None
    ):
        """The penal clause of ``percent`` % with ``minimum`` (in the company's
        currency, converted at ``day`` for a principal in another currency)."""
        if principal <= 0 or percent <= 0:
            return 0.0
        if minimum and currency != company.currency_id:
            minimum = company.currency_id._convert(
                minimum,
                currency,
                company,
                day or fields.Date.context_today(self),
                round=False,
            )
        return currency.round(max(principal * percent / 100, minimum or 0.0))

    @api.depends("regime", "contractual_rate")
    def _compute_floor_warning(self):
        table = self.env["credit.reference.rate"]._get_rate_table()
        today = fields.Date.context_today(self)
        half_years = [
            date(year, month, 1)
            for year in range(2015, today.year + 1)
            for month in (1, 7)
            if date(year, month, 1) <= today
        ]
        for rule in self:
            rule.floor_warning = False
            if rule.regime != B2B_CONTRACTUAL or not rule.contractual_rate:
                continue
            below = []
            for start in half_years[-4:]:
                try:
                    floor = contractual_floor(table, start)
                except MissingRate:
                    continue
                if to_decimal(rule.contractual_rate) < floor:
                    below.append(
                        _(
                            "%(half_year)s: floor %(floor)s %%",
                            half_year=half_year_label(start),
                            floor=formatLang(self.env, float(floor), digits=2),
                        )
                    )
            if below:
                rule.floor_warning = Markup("%s<ul>%s</ul>") % (
                    _(
                        "The contractual rate is below the legal floor (3 times the "
                        "legal interest rate, art. L441-10 C. com.) in these "
                        "half-years: the floor applies instead."
                    ),
                    Markup().join(Markup("<li>%s</li>") % line for line in below),
                )

    def _engine_regime(self, debtor_type, uplift_from=None):
        """The engine regime of this rule for a debtor: consumers always owe the
        legal interest rate (a B2B regime never applies to them)."""
        self.ensure_one()
        regime = B2C_LEGAL if debtor_type == "consumer" else self.regime
        return Regime(
            regime,
            contractual_rate=to_decimal(self.contractual_rate)
            if regime == B2B_CONTRACTUAL
            else None,
            judgment_uplift_from=uplift_from if regime == B2C_LEGAL else None,
        )

    @api.model
    def _get_company_default(self, company):
        return super()._get_company_default(company) or self._get_builtin_default(
            company
        )

    @api.model
    def _get_builtin_default(self, company):
        """The law's defaults when the company configured no rule: ECB + 10 points and
        the 40 EUR indemnity (a new record, never saved)."""
        return self.new({"name": _("Legal default"), "company_id": company.id})

    def _get_invoice_mention(self, debtor_type, payment_term=None):
        """Payment mentions of art. L441-9 C. com. for an invoice PDF: the penalty
        rate, the fixed 40 EUR indemnity (D441-5, whatever the rule claims: the law
        requires the mention) and the early-payment discount terms.

        The discount is stated by its terms only: when the invoice is still
        eligible, Odoo's own line already prints the discounted amount and its date.
        """
        self.ensure_one()
        if debtor_type == "consumer":
            mention = _(
                "In case of late payment, interest at the legal interest rate is due "
                "from the day after receipt of a formal notice (art. 1231-6 and "
                "1344-1 of the Civil Code)."
            )
        else:
            if self.regime == B2B_CONTRACTUAL:
                rate_text = _(
                    "%(rate)s %% per year, and never less than three times the legal "
                    "interest rate",
                    rate=formatLang(self.env, self.contractual_rate, digits=2),
                )
            else:
                rate_text = _(
                    "the rate applied by the European Central Bank to its most recent "
                    "refinancing operation, increased by 10 percentage points"
                )
            currency = self.env.ref("base.EUR")
            mention = _(
                "In case of late payment, penalties are due from the day after the due "
                "date, without any reminder, at %(rate)s (art. L441-10 of the "
                "Commercial Code).",
                rate=rate_text,
            )
            mention += " " + _(
                "Any professional customer paying late also owes a fixed recovery "
                "indemnity of %(amount)s (art. D441-5 of the Commercial Code).",
                amount=currency.format(float(RECOVERY_INDEMNITY)),
            )
        if payment_term and payment_term.early_discount:
            percent = payment_term.discount_percentage
            discount = _(
                "Discount of %(percent)s %% for payment within %(days)s days.",
                percent=formatLang(
                    self.env, percent, digits=0 if percent.is_integer() else 2
                ),
                days=payment_term.discount_days,
            )
        else:
            discount = _("No discount for early payment.")
        return f"{mention} {discount}"
