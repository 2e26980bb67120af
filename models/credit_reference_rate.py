import csv
import io
import logging
from datetime import date

import psycopg2
import requests
from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_date, mute_logger

from ..engine.penalties import (
    ECB_MRO,
    LEGAL_PRIVATE,
    LEGAL_PROFESSIONAL,
    RateTable,
    half_year_label,
    half_year_start,
    next_half_year,
)

_logger = logging.getLogger(__name__)

RATE_KINDS = [
    ("ecb_mro", "ECB main refinancing rate"),
    ("legal_professional", "Legal interest rate, other cases"),
    ("legal_private", "Legal interest rate, private creditor"),
]
# The kinds the penalty computation reads (B2B legal rate, contractual floor, B2C
# interest): a half-year without one of them is reported to the managers.
REQUIRED_KINDS = (ECB_MRO, LEGAL_PROFESSIONAL)

ECB_KEY_RATES_URL = (
    "https://www.ecb.europa.eu/stats/policy_and_exchange_rates/"
    "key_ecb_interest_rates/html/index.en.html"
)
LEGAL_RATE_URL = "https://www.banque-france.fr/fr/statistiques/taux-et-cours"
LEGIFRANCE_URL = "https://www.legifrance.gouv.fr/"
PUBLICATION_URLS = {
    ECB_MRO: ECB_KEY_RATES_URL,
    LEGAL_PROFESSIONAL: LEGAL_RATE_URL,
    LEGAL_PRIVATE: LEGAL_RATE_URL,
}

# ECB Data Portal: main refinancing operations, fixed rate, by date of change.
ECB_MRO_SERIES = "FM.B.U2.EUR.4F.KR.MRR_FR.LEV"
ECB_MRO_URL = (
    "https://data-api.ecb.europa.eu/service/data/FM/B.U2.EUR.4F.KR.MRR_FR.LEV"
    "?format=csvdata"
)
ECB_FETCH_TIMEOUT = 30  # seconds
# The fetch fills the half-years from the first one of the shipped table (two legal
# rates since 2015); older claims are prescribed.
ECB_FETCH_FIRST_HALF_YEAR = date(2015, 1, 1)
# The arrêté fixing the legal rates and the ECB figures are out by the end of June
# and of December: the managers are reminded from the 25th of these months on.
REMINDER_DAY = 25


class CreditReferenceRate(models.Model):
    """One official rate for one half-year; a new row is added every 1 Jan and 1 Jul."""

    _name = "credit.reference.rate"
    _description = "Reference Rate"
    _order = "kind, date_from desc"

    name = fields.Char(compute="_compute_name", store=True)
    kind = fields.Selection(
        RATE_KINDS,
        required=True,
        help="ECB main refinancing rate in force on 1 January or 1 July (ECB key "
        "interest rates page; the Fetch ECB Rate button loads it from the ECB Data "
        "Portal). Legal interest rates: the arrêté published in the Journal officiel "
        "at the end of June and of December (Légifrance, Banque de France).",
    )
    date_from = fields.Date(
        string="Half-Year Start",
        required=True,
        help="1 January for the first half-year, 1 July for the second.",
    )
    half_year = fields.Char(compute="_compute_name", store=True)
    rate = fields.Float(
        string="Rate (%)", digits=(16, 4), required=True, aggregator=None
    )
    source = fields.Char(help="Where the rate was published or checked.")
    publication_url = fields.Char(
        string="Official Publication",
        compute="_compute_publication_url",
        help="Where the official figure of this kind of rate is published.",
    )

    _sql_constraints = [
        (
            "kind_half_year_unique",
            "UNIQUE (kind, date_from)",
            "There is already a rate of this kind for this half-year: edit it instead "
            "of adding a second one.",
        ),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        rates = super().create(vals_list)
        rates._close_rate_activities()
        return rates

    def write(self, vals):
        result = super().write(vals)
        if "kind" in vals or "date_from" in vals:
            self._close_rate_activities()
        return result

    @api.depends("kind")
    def _compute_publication_url(self):
        for rate in self:
            rate.publication_url = PUBLICATION_URLS.get(rate.kind, False)

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

    # ------------------------------------------------------------------ missing rates

    @api.model
    def _missing_kinds(self, half_years):
        """``{half_year_start: [kind, ...]}``: the kinds without a row, in one query.
        A half-year counts as missing only when a kind of ``REQUIRED_KINDS`` lacks."""
        half_years = set(half_years)
        rows = self.sudo().search_fetch(
            [("date_from", "in", list(half_years))], ["kind", "date_from"]
        )
        present = {(row.kind, row.date_from) for row in rows}
        missing = {}
        for start in half_years:
            if any((kind, start) not in present for kind in REQUIRED_KINDS):
                missing[start] = [
                    kind for kind, _label in RATE_KINDS if (kind, start) not in present
                ]
        return missing

    @api.model
    def _notify_missing_rates(self, missing):
        """Tell the managers of each company, once, which half-year's rates to add.

        :param missing: iterable of ``(company, half_year_start)`` pairs, the start
            being 1 January or 1 July
        :return: the activities created; an open one is never duplicated

        One open activity per company and half-year (never one per invoice or per
        run), assigned to a Credit Collection manager of the company, else to its
        first administrator. It sits on the company's partner: the rates are shared
        by all companies and a missing half-year has no row to carry it, while the
        company's partner has activities and every user of the company can open it.
        Scheduled jobs call this with any user: it works as superuser.
        """
        Activity = self.env["mail.activity"].sudo()
        pairs = {(company.id, start) for company, start in missing}
        if not pairs:
            return Activity
        missing_kinds = self._missing_kinds({start for _company, start in pairs})
        pairs = {(company, start) for company, start in pairs if start in missing_kinds}
        if not pairs:
            return Activity
        companies = (
            self.env["res.company"].sudo().browse(sorted({c for c, _s in pairs}))
        )
        partner_model_id = self.env["ir.model"]._get_id("res.partner")
        open_activities = Activity.search_fetch(
            [
                ("res_model_id", "=", partner_model_id),
                ("res_id", "in", companies.partner_id.ids),
                ("credit_rate_half_year", "in", list(missing_kinds)),
            ],
            ["res_id", "credit_rate_half_year"],
        )
        already_open = {(a.res_id, a.credit_rate_half_year) for a in open_activities}
        vals_list = []
        for company in companies:
            starts = sorted(s for c, s in pairs if c == company.id)
            starts = [
                s for s in starts if (company.partner_id.id, s) not in already_open
            ]
            if not starts:
                continue
            user = company._credit_manager_users()[:1]
            if not user:
                _logger.info(
                    "Missing reference rates not notified: %s has no manager.",
                    company.name,
                )
                continue
            lang_self = self.with_context(lang=user.lang or self.env.lang)
            vals_list += [
                lang_self._prepare_rate_activity_vals(
                    company, start, missing_kinds[start], user, partner_model_id
                )
                for start in starts
            ]
        return self._create_rate_activities(vals_list)

    @api.model
    def _prepare_rate_activity_vals(self, company, start, kinds, user, model_id):
        """The activity asking ``user`` to add the ``kinds`` of half-year ``start``,
        in the user's language (the context's)."""
        labels = dict(self._fields["kind"]._description_selection(self.env))
        half_year = half_year_label(start)
        reference_date = format_date(self.env, start)
        if start.month == 7:
            legal_source = _(
                "Legal interest rates: the arrêté published in the Journal officiel at "
                "the end of June:"
            )
        else:
            legal_source = _(
                "Legal interest rates: the arrêté published in the Journal officiel at "
                "the end of December:"
            )
        note = Markup(
            "<p>%s</p><ul>%s</ul><p>%s</p><ul><li>%s <a href='%s'>%s</a></li>"
            "<li>%s <a href='%s'>%s</a>, <a href='%s'>%s</a></li></ul>"
        ) % (
            _(
                "The reference rates of the half-year %(half_year)s (from %(date)s) "
                "are missing: the late-payment penalties and interest of that "
                "half-year are not computed until they are added. Rates to add:",
                half_year=half_year,
                date=reference_date,
            ),
            Markup().join(Markup("<li>%s</li>") % labels[kind] for kind in kinds),
            _(
                "Add them in Credit Collection > Configuration > Reference Rates "
                "(the Fetch ECB Rate button loads the ECB rate). Official sources:"
            ),
            _(
                "ECB main refinancing rate in force on %(date)s:",
                date=reference_date,
            ),
            ECB_KEY_RATES_URL,
            _("ECB key interest rates"),
            legal_source,
            LEGIFRANCE_URL,
            "Légifrance",
            LEGAL_RATE_URL,
            "Banque de France",
        )
        return {
            "res_model_id": model_id,
            "res_id": company.partner_id.id,
            "activity_type_id": self.env.ref(
                "l10n_fr_credit_collection.mail_activity_type_reference_rates"
            ).id,
            "summary": _(
                "Add the reference rates of %(half_year)s", half_year=half_year
            ),
            "note": note,
            "date_deadline": max(start, fields.Date.context_today(self)),
            "user_id": user.id,
            "automated": True,
            "credit_rate_half_year": start,
        }

    @api.model
    def _create_rate_activities(self, vals_list):
        """Create the activities; one that a concurrent job has just created (the
        unique index of ``mail.activity``) is skipped, not duplicated."""
        Activity = self.env["mail.activity"].sudo()
        if not vals_list:
            return Activity
        try:
            with self.env.cr.savepoint(), mute_logger("odoo.sql_db"):
                return Activity.create(vals_list)
        except psycopg2.errors.UniqueViolation:
            _logger.debug("A concurrent job created some of these activities.")
        activities = Activity
        for vals in vals_list:
            try:
                with self.env.cr.savepoint(), mute_logger("odoo.sql_db"):
                    activities |= Activity.create(vals)
            except psycopg2.errors.UniqueViolation:
                continue
        return activities

    def _close_rate_activities(self):
        """Mark done the open activities of the half-years of ``self`` that now have
        every required rate."""
        starts = set(self.mapped("date_from"))
        if not starts:
            return
        Activity = self.env["mail.activity"].sudo()
        activities = Activity.search(
            [
                ("res_model", "=", "res.partner"),
                ("credit_rate_half_year", "in", list(starts)),
            ]
        )
        if not activities:
            return
        missing = self._missing_kinds(set(activities.mapped("credit_rate_half_year")))
        done = activities.filtered(lambda a: a.credit_rate_half_year not in missing)
        if done:
            done.action_feedback(feedback=_("The reference rates were added."))

    @api.model
    def _cron_remind_missing_rates(self):
        """Daily: from 25 June and 25 December, when the official figures come out,
        remind the managers of the half-year starting next 1 July or 1 January, and
        again while the current half-year's rates are missing. Nothing is guessed."""
        today = fields.Date.context_today(self)
        current = half_year_start(today)
        half_years = {current}
        # 25 June in the first half-year, 25 December in the second
        if today >= date(today.year, current.month + 5, REMINDER_DAY):
            half_years.add(next_half_year(current))
        missing = self._missing_kinds(half_years)
        if not missing:
            return self.env["mail.activity"]
        companies = self.env["res.company"].sudo().search([])
        return self._notify_missing_rates(
            (company, start) for company in companies for start in missing
        )

    # ------------------------------------------------------------------ ECB fetch

    def action_fetch_ecb_rates(self):
        """Load the ECB main refinancing rate of every past half-year that has no row
        yet from the ECB Data Portal. Existing rows are never changed, a half-year
        whose reference date is still to come is never created, and an error writes
        nothing."""
        self.check_access("create")
        today = fields.Date.context_today(self)
        changes = self._parse_ecb_mro_csv(self._download_ecb_mro_csv())
        rates = self._create_ecb_mro_rates(changes, today)
        if rates:
            message = _(
                "ECB rate added for %(half_years)s.",
                half_years=", ".join(rates.sorted("date_from").mapped("half_year")),
            )
        else:
            message = _("The ECB rates are up to date: nothing to add.")
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("ECB Rate"),
                "message": message,
                "type": "success" if rates else "info",
                "sticky": False,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    @api.model
    def _download_ecb_mro_csv(self):
        """The series of MRO rate changes, as the ECB Data Portal sends it (CSV)."""
        try:
            response = requests.get(
                ECB_MRO_URL, timeout=ECB_FETCH_TIMEOUT, headers={"Accept": "text/csv"}
            )
            response.raise_for_status()
            return response.content.decode("utf-8-sig")
        except (requests.RequestException, UnicodeDecodeError) as error:
            raise UserError(
                _(
                    "The ECB rate could not be fetched from %(url)s: %(error)s. "
                    "Check that the server can reach the internet and try again, or "
                    "add the rate by hand from the ECB key interest rates page "
                    "(%(page)s). Nothing was changed.",
                    url=ECB_MRO_URL,
                    error=error,
                    page=ECB_KEY_RATES_URL,
                )
            ) from error

    @api.model
    def _parse_ecb_mro_csv(self, text):
        """``[(effective date, rate)]`` sorted by date, from the CSV of the ECB Data
        Portal; columns are read by name (``KEY``, ``TIME_PERIOD``, ``OBS_VALUE``).
        Anything unexpected raises, so that nothing is written from it."""
        unexpected = self._ecb_unexpected_content
        reader = csv.DictReader(io.StringIO(text))
        columns = set(reader.fieldnames or ())
        if not {"TIME_PERIOD", "OBS_VALUE"} <= columns:
            raise unexpected(_("no TIME_PERIOD and OBS_VALUE columns"))
        changes = {}
        for row in reader:
            if row.get("KEY", ECB_MRO_SERIES) != ECB_MRO_SERIES:
                raise unexpected(_("series %(key)s", key=row.get("KEY")))
            try:
                day = date.fromisoformat(row["TIME_PERIOD"])
                rate = float(row["OBS_VALUE"])
            except (TypeError, ValueError):
                raise unexpected(
                    _(
                        "observation %(period)s: %(value)s",
                        period=row.get("TIME_PERIOD"),
                        value=row.get("OBS_VALUE"),
                    )
                ) from None
            if not 0 <= rate <= 100:
                raise unexpected(
                    _("rate %(rate)s on %(date)s", rate=rate, date=day.isoformat())
                )
            changes[day] = rate
        if not changes:
            raise unexpected(_("no observation"))
        return sorted(changes.items())

    @api.model
    def _ecb_unexpected_content(self, detail):
        return UserError(
            _(
                "The ECB Data Portal sent unexpected content for the series "
                "%(series)s (%(detail)s). Nothing was changed: try again later, or "
                "add the rate by hand from the ECB key interest rates page "
                "(%(page)s).",
                series=ECB_MRO_SERIES,
                detail=detail,
                page=ECB_KEY_RATES_URL,
            )
        )

    @api.model
    def _create_ecb_mro_rates(self, changes, today):
        """Create the missing ``ecb_mro`` rows of the half-years whose reference date
        (1 January or 1 July) is on or before ``today``: the rate in force on that
        date is the last change on or before it; a half-year before the first
        change is left alone."""
        existing = set(
            self.sudo()
            .search_fetch([("kind", "=", ECB_MRO)], ["date_from"])
            .mapped("date_from")
        )
        vals_list = []
        start = ECB_FETCH_FIRST_HALF_YEAR
        while start <= today:
            in_force = [(day, rate) for day, rate in changes if day <= start]
            if start not in existing and in_force:
                changed_on, rate = in_force[-1]
                vals_list.append(
                    {
                        "kind": ECB_MRO,
                        "date_from": start,
                        "rate": rate,
                        "source": _(
                            "ECB Data Portal, series %(series)s (%(url)s), fetched on "
                            "%(date)s: rate in force since %(changed_on)s",
                            series=ECB_MRO_SERIES,
                            url=ECB_MRO_URL,
                            date=today.isoformat(),
                            changed_on=changed_on.isoformat(),
                        ),
                    }
                )
            start = next_half_year(start)
        return self.create(vals_list)
