from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..engine.penalties import RateTable, half_year_label

RATE_KINDS = [
    ("ecb_mro", "ECB main refinancing rate"),
    ("legal_professional", "Legal interest rate, other cases"),
    ("legal_private", "Legal interest rate, private creditor"),
]


class CreditReferenceRate(models.Model):
    """One official rate for one half-year; a new row is added every 1 Jan and 1 Jul."""

    _name = "credit.reference.rate"
    _description = "Reference Rate"
    _order = "kind, date_from desc"

    name = fields.Char(compute="_compute_name", store=True)
    kind = fields.Selection(RATE_KINDS, required=True)
    date_from = fields.Date(
        string="Half-Year Start",
        required=True,
        help="1 January for the first half-year, 1 July for the second.",
    )
    half_year = fields.Char(compute="_compute_name", store=True)
    rate = fields.Float(string="Rate (%)", digits=(16, 4), required=True)
    source = fields.Char(help="Where the rate was published or checked.")

    _sql_constraints = [
        (
            "kind_half_year_unique",
            "UNIQUE (kind, date_from)",
            "There is already a rate of this kind for this half-year: edit it instead "
            "of adding a second one.",
        ),
    ]

    @api.depends("kind", "date_from")
    def _compute_name(self):
        labels = dict(self._fields["kind"]._description_selection(self.env))
        for rate in self:
            rate.half_year = (
                half_year_label(rate.date_from) if rate.date_from else False
            )
            rate.name = f"{labels.get(rate.kind, '')} {rate.half_year or ''}".strip()

    @api.constrains("date_from", "rate")
    def _check_rate(self):
        for rate in self:
            if (rate.date_from.month, rate.date_from.day) not in ((1, 1), (7, 1)):
                raise ValidationError(
                    _(
                        "The rate %(rate)s starts on %(date)s: a half-year starts on 1 "
                        "January or 1 July. Correct the start date.",
                        rate=rate.name,
                        date=rate.date_from,
                    )
                )
            if not 0 <= rate.rate <= 100:
                raise ValidationError(
                    _(
                        "The rate %(rate)s is %(value)s %%: a rate must be between 0 "
                        "and 100 %%. Correct it.",
                        rate=rate.name,
                        value=rate.rate,
                    )
                )

    @api.model
    def _get_rate_table(self):
        """Every reference rate, as the engine's table (a few hundred rows)."""
        rows = self.sudo().search_fetch([], ["kind", "date_from", "rate"])
        return RateTable({(row.kind, row.date_from): row.rate for row in rows})
