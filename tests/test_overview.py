from datetime import date
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from ..hooks import post_init_hook
from ..models.credit_receivable_snapshot import CreditReceivableSnapshot
from .common import CreditCollectionCommon

TODAY = date(2026, 6, 15)
SNAPSHOT_LOGGER = (
    "odoo.addons.l10n_fr_credit_collection.models.credit_receivable_snapshot"
)


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestOverview(CreditCollectionCommon):
    """The overview and the month-end trend on a small hand-built ledger (limits
    30 / 60 / 90 days, today 15 June 2026):

    ========  ======  ==========  ==========  ==============================
    invoice   amount  date        due         as of today
    ========  ======  ==========  ==========  ==============================
    a1        1000    2026-05-21  2026-06-20  not due
    a2         500    2026-05-11  2026-06-10  5 days late: 1-30
    b1         800    2026-04-01  2026-05-01  45 days late: 31-60
    c1         400    2026-03-02  2026-04-01  75 days late: 61-90
    b2         300    2026-01-30  2026-03-01  106 days late: > 90, 100 paid
                                              on 1 June: 200 open
    paid       700    2026-04-15  2026-05-15  paid on 20 May
    ========  ======  ==========  ==========  ==============================
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer_c = cls.env["res.partner"].create(
            {"name": "Menuiserie Leroy", "is_company": True}
        )
        with freeze_time(TODAY):
            cls.a1 = cls.invoice(cls.customer, "2026-05-21", "2026-06-20", 1000)
            cls.a2 = cls.invoice(cls.customer, "2026-05-11", "2026-06-10", 500)
            cls.b1 = cls.invoice(cls.customer_b, "2026-04-01", "2026-05-01", 800)
            cls.c1 = cls.invoice(cls.customer_c, "2026-03-02", "2026-04-01", 400)
            cls.b2 = cls.invoice(cls.customer_b, "2026-01-30", "2026-03-01", 300)
            cls.paid = cls.invoice(cls.customer, "2026-04-15", "2026-05-15", 700)
            cls.pay(cls.b2, 100, on=date(2026, 6, 1))
            cls.pay(cls.paid, 700, on=date(2026, 5, 20))
        cls.other = cls.setup_other_company(name="Other Recouvrement")["company"]
        cls.Overview = cls.env["credit.overview"]
        cls.Snapshot = cls.env["credit.receivable.snapshot"]

    @classmethod
    def invoice(cls, partner, invoice_date, due, amount, company=None):
        return cls.make_invoice(
            partner=partner,
            invoice_date=cls.d(invoice_date),
            due=cls.d(due),
            amount=amount,
            company=company,
        )

    def open_overview(self, env=None):
        env = env or self.env
        action = env["credit.overview"].action_open_overview()
        return env["credit.overview"].browse(action["res_id"])

    def records(self, action):
        return self.env[action["res_model"]].search(action["domain"])

    # ------------------------------------------------------------------ figures

    def test_figures(self):
        overview = self.open_overview()
        self.assertEqual(overview.company_id, self.company)
        self.assertAlmostEqual(overview.amount_open, 2900)
        self.assertAlmostEqual(overview.amount_overdue, 1900)
        self.assertEqual(
            [
                overview.amount_not_due,
                overview.amount_b1,
                overview.amount_b2,
                overview.amount_b3,
                overview.amount_b4,
            ],
            [1000, 500, 800, 400, 200],
        )
        self.assertEqual(
            [overview.label_b1, overview.label_b4], ["1-30 days", "> 90 days"]
        )
        # Sales of the 90 days up to today (after 17 March): a1, a2, b1, paid.
        self.assertAlmostEqual(overview.sales_amount, 3000)
        self.assertAlmostEqual(overview.dso, 87.0)  # 2900 / 3000 x 90
        self.assertEqual(overview.overdue_customer_count, 3)
        self.assertEqual(
            overview.line_ids.mapped("partner_id"),
            self.customer_b | self.customer | self.customer_c,
        )
        self.assertEqual(overview.line_ids.mapped("amount_overdue"), [1000, 500, 400])
        self.assertEqual(overview.line_ids.mapped("amount_open"), [1000, 1500, 400])

    def test_figures_follow_company_limits(self):
        self.company.credit_aging_limit_1 = 10
        overview = self.open_overview()
        self.assertEqual(overview.label_b1, "1-10 days")
        self.assertEqual(overview.label_b2, "11-60 days")
        # a2 (5 days) stays in the first bucket, b1 (45 days) in the second.
        self.assertEqual([overview.amount_b1, overview.amount_b2], [500, 800])

    def test_refresh_replaces_figures(self):
        overview = self.open_overview()
        self.pay(self.b1, 800, on=TODAY)
        self.assertEqual(self.open_overview(), overview, "one overview per company")
        self.assertAlmostEqual(overview.amount_open, 2100)
        self.assertAlmostEqual(overview.amount_b2, 0)
        # Garage Dupont keeps only b2 (200): it moves down to the last rank.
        self.assertEqual(
            overview.line_ids.mapped("partner_id").ids,
            (self.customer | self.customer_c | self.customer_b).ids,
        )
        self.assertEqual(overview.line_ids.mapped("amount_overdue"), [500, 400, 200])
        self.assertEqual(
            self.env["credit.overview.line"].search_count(
                [("overview_id", "=", overview.id)]
            ),
            3,
        )

    def test_to_do_counts(self):
        run = self.env["credit.dunning.run"].create(
            {"date": TODAY, "company_id": self.company.id}
        )
        Letter = self.env["credit.dunning.letter"]
        for partner, state in (
            (self.customer, "draft"),
            (self.customer_b, "to_send"),
            (self.customer_c, "sent"),
        ):
            Letter.create(
                {
                    "name": f"L-{partner.id}",
                    "run_id": run.id,
                    "company_id": self.company.id,
                    "date": TODAY,
                    "partner_id": partner.id,
                    "level_id": self.first.id,
                    "state": state,
                }
            )
        (self.a2 | self.b1)._set_dunning_hold("dispute", "Contested delivery")
        self.paid._set_dunning_hold(
            "promise", "Paid anyway", date(2026, 7, 1)
        )  # paid: not counted
        Penalty = self.env["credit.penalty.line"]
        penalties = Penalty.create(
            [
                {
                    "company_id": self.company.id,
                    "move_id": move.id,
                    "partner_id": move.partner_id.id,
                    "kind": "indemnity",
                    "amount": 40.0,
                    "currency_id": self.company.currency_id.id,
                }
                for move in (self.b1, self.b2)
            ]
        )
        court = self.env["credit.court.request"].create(
            {"partner_id": self.customer_b.id, "as_of_date": TODAY}
        )
        overview = self.open_overview()
        self.assertEqual(overview.letter_count, 2)
        self.assertEqual(overview.hold_count, 2)
        self.assertEqual(overview.penalty_count, 2)
        self.assertAlmostEqual(overview.penalty_amount, 80)
        self.assertTrue(overview.court_enabled)
        self.assertEqual(overview.court_count, 1)

        self.assertEqual(
            sorted(self.records(overview.action_open_letters()).mapped("state")),
            ["draft", "to_send"],
        )
        self.assertEqual(self.records(overview.action_open_holds()), self.a2 | self.b1)
        self.assertEqual(self.records(overview.action_open_penalties()), penalties)
        self.assertEqual(self.records(overview.action_open_court_cases()), court)
        court.action_cancel()
        self.assertEqual(self.open_overview().court_count, 0)

    # ------------------------------------------------------------------ actions

    def test_actions_open_the_records_behind_each_figure(self):
        overview = self.open_overview()

        def documents(action):
            return self.records(action).move_id

        everything = self.a1 | self.a2 | self.b1 | self.c1 | self.b2
        self.assertEqual(documents(overview.action_open_open_items()), everything)
        self.assertEqual(
            documents(overview.action_open_overdue_items()), everything - self.a1
        )
        self.assertEqual(documents(overview.action_open_not_due()), self.a1)
        self.assertEqual(documents(overview.action_open_b1()), self.a2)
        self.assertEqual(documents(overview.action_open_b2()), self.b1)
        self.assertEqual(documents(overview.action_open_b3()), self.c1)
        self.assertEqual(documents(overview.action_open_b4()), self.b2)
        # The figures and the lists agree.
        for action, amount in (
            (overview.action_open_open_items(), overview.amount_open),
            (overview.action_open_b4(), overview.amount_b4),
        ):
            self.assertAlmostEqual(
                sum(self.records(action).mapped("amount_residual")), amount
            )
        self.assertEqual(
            self.records(overview.action_open_sales()),
            self.a1 | self.a2 | self.b1 | self.paid,
        )
        line_b = overview.line_ids.filtered(
            lambda line: line.partner_id == self.customer_b
        )
        self.assertEqual(documents(line_b.action_open_items()), self.b1 | self.b2)
        self.assertEqual(
            self.records(overview.action_open_overdue_customers()),
            self.customer | self.customer_b | self.customer_c,
        )
        trend = overview.action_open_trend()
        self.assertEqual(trend["res_model"], "credit.receivable.trend")

    # ------------------------------------------------------------------ trend

    def test_snapshot_looks_back(self):
        figures = self.Snapshot._compute_month_ends(
            self.company, [date(2026, 4, 30), date(2026, 5, 31)]
        )
        may = figures[date(2026, 5, 31)]
        # b2's payment of 1 June does not count on 31 May; paid's of 20 May does.
        self.assertAlmostEqual(may["amount_open"], 3000)
        self.assertEqual(
            may["buckets"],
            {"not_due": 1500, "b1": 800, "b2": 400, "b3": 0, "b4": 300},
        )
        self.assertAlmostEqual(may["amount_overdue"], 1500)
        # Sales after 2 March (31 May - 90 days): a1, a2, b1, paid.
        self.assertAlmostEqual(may["sales_amount"], 3000)
        self.assertAlmostEqual(may["dso"], 90.0)
        april = figures[date(2026, 4, 30)]
        # paid (payment of 20 May) is still open on 30 April.
        self.assertAlmostEqual(april["amount_open"], 2200)
        self.assertEqual(
            april["buckets"],
            {"not_due": 1500, "b1": 400, "b2": 300, "b3": 0, "b4": 0},
        )

    def test_backfill_twelve_month_ends_idempotent(self):
        self.Snapshot._rebuild_trend(self.company)
        snapshots = self.Snapshot.search([("company_id", "=", self.company.id)])
        self.assertEqual(len(snapshots), 12)
        self.assertEqual(
            sorted(snapshots.mapped("date"))[::11],
            [date(2025, 6, 30), date(2026, 5, 31)],
        )
        may = snapshots.filtered(lambda snap: snap.date == date(2026, 5, 31))
        self.assertEqual(
            [may.amount_open, may.amount_overdue, may.amount_b4, may.dso],
            [3000, 1500, 300, 90.0],
        )
        self.assertEqual(may.aging_limits, "30, 60, 90")
        self.pay(self.c1, 400, on=date(2026, 5, 10))
        self.Snapshot._rebuild_trend(self.company)
        again = self.Snapshot.search([("company_id", "=", self.company.id)])
        self.assertEqual(len(again), 12)
        self.assertFalse(snapshots.exists(), "a rerun replaces the snapshots")
        may = again.filtered(lambda snap: snap.date == date(2026, 5, 31))
        self.assertAlmostEqual(may.amount_open, 2600)
        trend = self.env["credit.receivable.trend"].search(
            [("company_id", "=", self.company.id), ("date", "=", date(2026, 5, 31))]
        )
        self.assertEqual(
            {row.series: row.amount for row in trend if row.kind == "total"},
            {"1_open": 2600, "2_overdue": 1100},
        )

    def test_install_hook_backfills_every_company(self):
        post_init_hook(self.env)
        for company in self.company | self.other:
            self.assertEqual(
                self.Snapshot.search_count([("company_id", "=", company.id)]), 12
            )
        may = self.Snapshot.search(
            [("company_id", "=", self.company.id), ("date", "=", date(2026, 5, 31))]
        )
        self.assertAlmostEqual(may.amount_open, 3000)
        # The trend opened from the menu shows the current company only.
        rows = self.records(self.Snapshot.action_open_trend())
        self.assertEqual(rows.company_id, self.company)
        self.assertEqual(len(rows), 12 * 7)

    def test_rebuild_button_is_for_managers(self):
        user = new_test_user(
            self.env,
            login="cc_overview_user",
            groups="base.group_user,l10n_fr_credit_collection.group_credit_collection_user",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        with self.assertRaises(AccessError):
            self.Snapshot.with_user(user).action_rebuild_trend()
        action = self.Snapshot.action_rebuild_trend()
        self.assertEqual(action["res_model"], "credit.receivable.trend")
        self.assertEqual(
            self.Snapshot.search_count([("company_id", "=", self.company.id)]), 12
        )

    def test_cron_goes_on_when_one_company_fails(self):
        other = self.other
        original = CreditReceivableSnapshot._compute_month_ends

        def failing(model, company, dates):
            if company == self.company:
                raise ValueError("broken ledger")
            return original(model, company, dates)

        with (
            patch.object(CreditReceivableSnapshot, "_compute_month_ends", failing),
            self.assertLogs(SNAPSHOT_LOGGER, "WARNING") as logs,
        ):
            self.Snapshot._cron_take_snapshot()
        self.assertIn("broken ledger", logs.output[0])
        self.assertFalse(self.Snapshot.search([("company_id", "=", self.company.id)]))
        taken = self.Snapshot.search([("company_id", "=", other.id)])
        self.assertEqual(taken.mapped("date"), [date(2026, 5, 31)])
        activity = self.env["mail.activity"].search(
            [
                ("res_model", "=", "res.partner"),
                ("res_id", "=", self.company.partner_id.id),
                ("summary", "=", "Receivables snapshot not taken"),
            ]
        )
        self.assertEqual(len(activity), 1)
        self.assertIn("broken ledger", activity.note)
        # The job runs again: the snapshot of the month is replaced, not doubled.
        self.Snapshot._cron_take_snapshot()
        self.assertEqual(
            self.Snapshot.search_count(
                [("company_id", "in", (self.company | other).ids)]
            ),
            2,
        )

    def test_backfill_query_count_does_not_grow(self):
        def count_queries():
            self.env.flush_all()
            self.env.invalidate_all()
            start = self.env.cr.sql_log_count
            self.Snapshot._rebuild_trend(self.company)
            self.env.flush_all()
            return self.env.cr.sql_log_count - start

        count_queries()
        before = count_queries()
        for index in range(5):
            move = self.invoice(
                self.customer_c, "2025-12-01", "2025-12-31", 100 + index
            )
            self.pay(move, 50, on=date(2026, 2, 1))
        self.assertEqual(count_queries(), before)

    # ------------------------------------------------------------------ companies

    def test_multi_company_isolation(self):
        other = self.other
        self.invoice(self.customer, "2026-05-01", "2026-05-31", 5000, company=other)
        overview = self.open_overview()
        self.assertAlmostEqual(overview.amount_open, 2900)
        other_overview = self.open_overview(
            self.env(context={"allowed_company_ids": [other.id, self.company.id]})
        )
        self.assertEqual(other_overview.company_id, other)
        self.assertAlmostEqual(other_overview.amount_open, 5000)
        self.assertAlmostEqual(other_overview.amount_b1, 5000)
        self.assertNotEqual(other_overview, overview)
        # A user of the first company only sees its own overview and snapshots.
        user = new_test_user(
            self.env,
            login="cc_overview_single",
            groups="base.group_user,l10n_fr_credit_collection.group_credit_collection_user",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        self.assertEqual(
            self.env["credit.overview"].with_user(user).search([]), overview
        )
        with self.assertRaises(AccessError):
            other_overview.with_user(user).read(["amount_open"])

    def test_access(self):
        collector = new_test_user(
            self.env,
            login="cc_overview_collector",
            groups="base.group_user,l10n_fr_credit_collection.group_credit_collection_user",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        overview = self.open_overview(self.env(user=collector))
        self.assertAlmostEqual(overview.amount_open, 2900)
        self.assertEqual(len(overview.line_ids), 3)
        with self.assertRaises(AccessError):
            overview.write({"amount_open": 1})
        clerk = new_test_user(
            self.env,
            login="cc_overview_clerk",
            groups="base.group_user",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        with self.assertRaises(AccessError):
            self.env(user=clerk)["credit.overview"].action_open_overview()
        with self.assertRaises(AccessError):
            self.env(user=clerk)["credit.receivable.snapshot"].search([])
