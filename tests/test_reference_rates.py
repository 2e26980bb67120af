from datetime import date
from unittest.mock import patch

import requests
from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import file_open

from .common import CreditCollectionCommon

RATE_MODULE = "odoo.addons.l10n_fr_credit_collection.models.credit_reference_rate"
ECB_URL = (
    "https://data-api.ecb.europa.eu/service/data/FM/B.U2.EUR.4F.KR.MRR_FR.LEV"
    "?format=csvdata"
)
H1_2026 = date(2026, 1, 1)
H2_2026 = date(2026, 7, 1)
H1_2027 = date(2027, 1, 1)


def ecb_response(content, status=200):
    """A real ``requests.Response`` carrying ``content``, as the ECB would send it."""
    response = requests.Response()
    response.status_code = status
    response._content = content
    response.url = ECB_URL
    response.headers["Content-Type"] = "text/csv"
    return response


class ReferenceRateCommon(CreditCollectionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Rate = cls.env["credit.reference.rate"]
        cls.activity_type = cls.env.ref(
            "l10n_fr_credit_collection.mail_activity_type_reference_rates"
        )
        cls.collection_user = new_test_user(
            cls.env,
            login="collection_user",
            groups="base.group_user,"
            "l10n_fr_credit_collection.group_credit_collection_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    def rate_activities(self, companies, start=None):
        domain = [
            ("res_model", "=", "res.partner"),
            ("res_id", "in", companies.partner_id.ids),
            ("credit_rate_half_year", "!=", False),
        ]
        if start:
            domain.append(("credit_rate_half_year", "=", start))
        return self.env["mail.activity"].sudo().search(domain)

    def add_rates(self, start, kinds=("ecb_mro", "legal_professional")):
        return self.Rate.create(
            [{"kind": kind, "date_from": start, "rate": 2.0} for kind in kinds]
        )


@tagged("post_install", "-at_install")
class TestReferenceRateReminders(ReferenceRateCommon):
    """The managers are told once per company and half-year which rates to add."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create({"name": "Société B"})
        cls.manager_b = new_test_user(
            cls.env,
            login="manager_b",
            groups="base.group_user,"
            "l10n_fr_credit_collection.group_credit_collection_manager",
            company_id=cls.company_b.id,
            company_ids=[Command.set(cls.company_b.ids)],
        )
        cls.plain_user = new_test_user(
            cls.env,
            login="plain_user",
            groups="base.group_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        # the test user gets the companies it creates: manager_b is then the only
        # Credit Collection manager of company B
        cls.env.user.company_ids -= cls.company_b
        cls.companies = cls.company | cls.company_b

    @freeze_time("2026-08-03")
    def test_notify_once_per_company_and_half_year(self):
        """Two calls by a user without rights (as a job runs), two companies, a
        pair repeated: one activity per company for 2026-H2, never a second."""
        Rate = self.Rate.with_user(self.plain_user)
        missing = [
            (self.company, H2_2026),
            (self.company_b, H2_2026),
            (self.company, H2_2026),
        ]
        created = Rate._notify_missing_rates(missing)
        self.assertEqual(len(created), 2)
        self.assertFalse(Rate._notify_missing_rates(missing))
        activities = self.rate_activities(self.companies)
        self.assertEqual(activities, created)
        self.assertEqual(
            set(activities.mapped("res_id")), set(self.companies.partner_id.ids)
        )
        for activity in activities:
            company = self.companies.filtered(
                lambda c, a=activity: c.partner_id.id == a.res_id
            )
            user = activity.user_id
            self.assertIn(user, company._credit_manager_users())
            self.assertTrue(
                user.has_group(
                    "l10n_fr_credit_collection.group_credit_collection_manager"
                )
            )
            self.assertFalse(user._is_superuser())
            self.assertIn(company, user.company_ids)
            self.assertEqual(activity.activity_type_id, self.activity_type)
            self.assertEqual(activity.credit_rate_half_year, H2_2026)
            self.assertEqual(activity.date_deadline, date(2026, 8, 3))
            self.assertIn("2026-H2", activity.summary)
            note = str(activity.note)
            self.assertIn("Credit Collection &gt; Configuration &gt; Reference", note)
            self.assertIn("ECB main refinancing rate", note)
            self.assertIn("Legal interest rate, other cases", note)
            self.assertIn("key_ecb_interest_rates", note)
            self.assertIn("Journal officiel", note)
            self.assertIn("legifrance.gouv.fr", note)
        self.assertEqual(
            activities.filtered(
                lambda a: a.res_id == self.company_b.partner_id.id
            ).user_id,
            self.manager_b,
        )
        # the manager can open the record that carries the activity
        self.company_b.partner_id.with_user(self.manager_b).check_access("read")

    @freeze_time("2026-08-03")
    def test_concurrent_job_never_duplicates_the_activity(self):
        """A job that created the activity between our search and our insert (the
        other transaction committed): the unique index refuses the second one and
        the notification skips it instead of failing."""
        first = self.Rate._notify_missing_rates([(self.company, H2_2026)])
        vals = self.Rate._prepare_rate_activity_vals(
            self.company,
            H2_2026,
            ["ecb_mro"],
            first.user_id,
            self.env["ir.model"]._get_id("res.partner"),
        )
        self.assertFalse(self.Rate._create_rate_activities([vals]))
        self.assertEqual(self.rate_activities(self.company), first)

    def test_half_year_with_its_rates_is_not_notified(self):
        self.assertFalse(self.Rate._notify_missing_rates([(self.company, H1_2026)]))

    @freeze_time("2026-08-03")
    def test_adding_the_rates_closes_the_activity(self):
        self.Rate._notify_missing_rates([(self.company, H2_2026)])
        self.assertTrue(self.rate_activities(self.company))
        self.add_rates(H2_2026, kinds=["ecb_mro"])
        self.assertTrue(self.rate_activities(self.company), "one rate still missing")
        self.add_rates(H2_2026, kinds=["legal_professional"])
        self.assertFalse(self.rate_activities(self.company))

    @freeze_time("2026-08-03")
    def test_done_activity_comes_back_while_rates_are_missing(self):
        activity = self.Rate._notify_missing_rates([(self.company, H2_2026)])
        activity.action_feedback()
        again = self.Rate._notify_missing_rates([(self.company, H2_2026)])
        self.assertEqual(len(again), 1)

    def test_reminder_dates_june(self):
        """Nothing on 24 June; from 25 June, 2026-H2 for every company, once."""
        cron = self.Rate.with_user(self.plain_user)._cron_remind_missing_rates
        with freeze_time("2026-06-24"):
            cron()
            self.assertFalse(self.rate_activities(self.companies))
        with freeze_time("2026-06-25"):
            cron()
            activities = self.rate_activities(self.companies)
            self.assertEqual(len(activities), 2)
            self.assertEqual(set(activities.mapped("credit_rate_half_year")), {H2_2026})
            self.assertEqual(set(activities.mapped("date_deadline")), {H2_2026})
        with freeze_time("2026-06-26"):
            cron()
            self.assertEqual(self.rate_activities(self.companies), activities)

    @freeze_time("2026-09-01")
    def test_reminder_current_half_year_missing(self):
        self.Rate._cron_remind_missing_rates()
        activities = self.rate_activities(self.companies)
        self.assertEqual(len(activities), 2)
        self.assertEqual(set(activities.mapped("credit_rate_half_year")), {H2_2026})
        self.assertEqual(set(activities.mapped("date_deadline")), {date(2026, 9, 1)})

    def test_reminder_dates_december(self):
        self.add_rates(H2_2026)
        with freeze_time("2026-12-24"):
            self.Rate._cron_remind_missing_rates()
            self.assertFalse(self.rate_activities(self.companies))
        with freeze_time("2026-12-25"):
            self.Rate._cron_remind_missing_rates()
            activities = self.rate_activities(self.companies)
            self.assertEqual(set(activities.mapped("credit_rate_half_year")), {H1_2027})
            self.assertEqual(len(activities), 2)

    def test_reminder_cron_is_scheduled_daily(self):
        cron = self.env.ref(
            "l10n_fr_credit_collection.ir_cron_credit_reference_rate_reminder"
        )
        self.assertTrue(cron.active)
        self.assertEqual((cron.interval_number, cron.interval_type), (1, "days"))


@tagged("post_install", "-at_install")
class TestEcbRateFetch(ReferenceRateCommon):
    """The ECB rate in one click, from a response recorded from the ECB Data
    Portal (tests/data/ecb_mro_fr.csv: the MRO fixed rate by date of change)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with file_open(
            "l10n_fr_credit_collection/tests/data/ecb_mro_fr.csv", "rb"
        ) as f:
            cls.recorded = f.read()

    def ecb_rows(self):
        return self.Rate.search([("kind", "=", "ecb_mro")])

    def fetch(self, response=None, side_effect=None, user=None):
        rates = self.Rate.with_user(user) if user else self.Rate
        with patch(f"{RATE_MODULE}.requests.get") as get:
            # a Response is falsy when its status is an error
            if response is None:
                response = ecb_response(self.recorded)
            get.return_value = response
            get.side_effect = side_effect
            result = rates.action_fetch_ecb_rates()
        get.assert_called_once()
        self.assertEqual(get.call_args.args[0], ECB_URL)
        self.assertTrue(get.call_args.kwargs.get("timeout"))
        return result

    @freeze_time("2026-03-02")
    def test_fetch_creates_missing_half_years_only(self):
        gap = self.ecb_rows().filtered(
            lambda r: date(2024, 1, 1) <= r.date_from <= date(2025, 7, 1)
        )
        self.assertEqual(len(gap), 4)
        gap.unlink()
        kept = self.ecb_rows().filtered(lambda r: r.date_from == H1_2026)
        kept.write({"rate": 2.16, "source": "Checked by hand"})
        before = self.ecb_rows()

        result = self.fetch()

        created = self.ecb_rows() - before
        self.assertEqual(
            {r.half_year: r.rate for r in created},
            {"2024-H1": 4.5, "2024-H2": 4.25, "2025-H1": 3.15, "2025-H2": 2.15},
        )
        for rate in created:
            self.assertIn(ECB_URL, rate.source)
            self.assertIn("2026-03-02", rate.source)
        self.assertIn("2024-H1", result["params"]["message"])
        # an existing row is never overwritten, a future half-year never created
        self.assertEqual((kept.rate, kept.source), (2.16, "Checked by hand"))
        self.assertFalse(self.ecb_rows().filtered(lambda r: r.date_from == H2_2026))
        # nothing left to add: a second click creates nothing
        rows = self.ecb_rows()
        self.fetch()
        self.assertEqual(self.ecb_rows(), rows)

    @freeze_time("2026-03-02")
    def test_fetch_matches_the_shipped_table(self):
        """From an empty table, the rate in force on each 1 January / 1 July since
        2015 is the one the addon ships (LAW.md, checked by hand)."""
        shipped = {r.date_from: r.rate for r in self.ecb_rows()}
        self.assertEqual(len(shipped), 23)  # 2015-H1 to 2026-H1
        self.ecb_rows().unlink()
        self.fetch()
        self.assertEqual({r.date_from: r.rate for r in self.ecb_rows()}, shipped)

    def test_half_year_created_once_its_reference_date_is_reached(self):
        with freeze_time("2026-06-30"):
            self.fetch()
            self.assertFalse(self.ecb_rows().filtered(lambda r: r.date_from == H2_2026))
        with freeze_time("2026-07-01"):
            self.fetch()
            # the recorded series has no change after 11 June 2025
            row = self.ecb_rows().filtered(lambda r: r.date_from == H2_2026)
            self.assertEqual(row.rate, 2.15)
            self.assertIn("2025-06-11", row.source)

    @freeze_time("2026-03-02")
    def test_bad_responses_write_nothing(self):
        self.ecb_rows().filtered(lambda r: r.date_from >= date(2024, 1, 1)).unlink()
        before = self.ecb_rows()
        broken_value = self.recorded.replace(b",2024-06-12,4.25,", b",2024-06-12,,")
        self.assertNotEqual(broken_value, self.recorded)
        cases = {
            "network": {"side_effect": requests.ConnectionError("Name not resolved")},
            "timeout": {"side_effect": requests.Timeout("Read timed out")},
            "http error": {"response": ecb_response(b"Service Unavailable", 503)},
            "html page": {
                "response": ecb_response(b"<html><body>Maintenance</body></html>")
            },
            "empty series": {"response": ecb_response(self.recorded.split(b"\r\n")[0])},
            "one bad value": {"response": ecb_response(broken_value)},
            "other series": {
                "response": ecb_response(
                    self.recorded.replace(b"KR.MRR_FR.LEV,", b"KR.DFR.LEV,", 1)
                )
            },
        }
        for case, kwargs in cases.items():
            with self.subTest(case=case), self.assertRaises(UserError) as catcher:
                self.fetch(**kwargs)
            self.assertIn("Nothing was changed", str(catcher.exception))
            self.assertEqual(self.ecb_rows(), before)

    def test_collection_user_cannot_fetch(self):
        with (
            patch(f"{RATE_MODULE}.requests.get") as get,
            self.assertRaises(AccessError),
        ):
            self.Rate.with_user(self.collection_user).action_fetch_ecb_rates()
        get.assert_not_called()

        # the button is shown to managers only
        def list_arch(rates):
            return rates.get_views([(False, "list")])["views"]["list"]["arch"]

        self.assertNotIn(
            "action_fetch_ecb_rates",
            list_arch(self.Rate.with_user(self.collection_user)),
        )
        self.assertIn("action_fetch_ecb_rates", list_arch(self.Rate))

    def test_publication_link_per_kind(self):
        rates = self.Rate.search([("date_from", "=", H1_2026)])
        links = {r.kind: r.publication_url for r in rates}
        self.assertIn("ecb.europa.eu", links["ecb_mro"])
        self.assertIn("banque-france.fr", links["legal_professional"])
