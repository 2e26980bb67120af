from datetime import timedelta
from unittest.mock import patch

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from odoo.addons.l10n_fr_credit_collection.models.res_partner_behaviour import (
    ResPartner,
)

from .common import CreditCollectionCommon

USER = "l10n_fr_credit_collection.group_credit_collection_user"


@tagged("post_install", "-at_install")
class TestPaymentBehaviour(CreditCollectionCommon):
    """The hand-computed example (T = today):

    ======= ========= ======= ======= ========== =========================
    invoice amount    date    due     paid       days late
    ======= ========= ======= ======= ========== =========================
    A       1,000     T-120   T-90    T-80       10
    B       3,000     T-100   T-70    T-40       30
    C       500       T-60    T-30    T-40       0 (early)
    D       2,000     T-50    T-20    open       overdue
    E       1,200     T       T+30    open       not due
    ======= ========= ======= ======= ========== =========================

    average days late = (1,000 x 10 + 3,000 x 30 + 500 x 0) / 4,500 = 22.2;
    late share = 2 / 3 = 66.7 %; open = 3,200, overdue = 2,000; sales of the
    last 90 days = C + D + E = 3,700, DSO = 3,200 / 3,700 x 90 = 77.8 days.
    A penalty invoice P (40, due T-10, paid T-5) is left out of the delays and
    of the sales."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env["res.partner"])
        cls.company_b = cls.setup_other_company(name="Autre Société")["company"]
        cls.env.user.company_ids |= cls.company_b
        day = cls.day
        cls.inv_a = cls.make_invoice(due=day(-90), invoice_date=day(-120), amount=1000)
        cls.inv_b = cls.make_invoice(due=day(-70), invoice_date=day(-100), amount=3000)
        cls.inv_c = cls.make_invoice(due=day(-30), invoice_date=day(-60), amount=500)
        cls.inv_d = cls.make_invoice(due=day(-20), invoice_date=day(-50), amount=2000)
        cls.inv_e = cls.make_invoice(due=day(30), invoice_date=day(0), amount=1200)
        cls.pay(cls.inv_a, 1000, on=day(-80))
        cls.pay(cls.inv_b, 1000, on=day(-60))  # partial: settled by the last one
        cls.pay(cls.inv_b, 2000, on=day(-40))
        cls.pay(cls.inv_c, 500, on=day(-40))
        cls.penalty_invoice = cls.make_invoice(
            due=day(-10), invoice_date=day(-10), amount=40, post=False
        )
        cls.penalty_invoice.sudo().is_penalty_invoice = True
        cls.penalty_invoice.action_post()
        cls.pay(cls.penalty_invoice, 40, on=day(-5))
        currency = cls.company.currency_id
        Line = cls.env["credit.penalty.line"].sudo()
        base = {
            "company_id": cls.company.id,
            "partner_id": cls.customer.id,
            "currency_id": currency.id,
        }
        Line.create(
            [
                dict(
                    base,
                    move_id=cls.inv_a.id,
                    kind="indemnity",
                    amount=40.0,
                    state="invoiced",
                    penalty_move_id=cls.penalty_invoice.id,
                ),
                dict(
                    base,
                    move_id=cls.inv_b.id,
                    kind="interest",
                    date_from=day(-69),
                    date_to=day(-40),
                    amount=25.0,
                    state="waived",
                    waive_reason="Good customer",
                ),
                dict(
                    base,
                    move_id=cls.inv_d.id,
                    kind="interest",
                    date_from=day(-19),
                    date_to=day(-1),
                    amount=15.0,
                ),
            ]
        )
        Letter = cls.env["credit.dunning.letter"].sudo()
        run = cls.env["credit.dunning.run"].create(
            {"date": day(-60), "company_id": cls.company.id}
        )
        letter_base = {
            "company_id": cls.company.id,
            "partner_id": cls.customer.id,
            "run_id": run.id,
        }
        Letter.create(
            [
                dict(
                    letter_base,
                    name="L1",
                    date=day(-60),
                    level_id=cls.first.id,
                    state="sent",
                ),
                dict(
                    letter_base,
                    name="L2",
                    date=day(-50),
                    level_id=cls.second.id,
                    state="sent",
                ),
                dict(
                    letter_base,
                    name="L3",
                    date=day(-10),
                    level_id=cls.notice.id,
                    state="cancelled",
                ),
            ]
        )

    @classmethod
    def day(cls, offset):
        return cls.today + timedelta(days=offset)

    def refresh(self, company=None):
        self.env["res.partner"].with_company(
            company or self.company
        ).sudo()._refresh_payment_behaviour(company or self.company)

    def test_figures_hand_computed(self):
        self.refresh()
        customer = self.customer.with_company(self.company)
        self.assertAlmostEqual(customer.credit_avg_days_late, 22.2)
        self.assertAlmostEqual(customer.credit_late_share, 66.7)
        self.assertAlmostEqual(customer.credit_open_amount, 3200.0)
        self.assertAlmostEqual(customer.credit_overdue_amount, 2000.0)
        self.assertAlmostEqual(customer.credit_dso, 77.8)
        self.assertEqual(customer.credit_max_level_id, self.second)
        self.assertAlmostEqual(customer.credit_penalties_claimed, 40.0)
        self.assertAlmostEqual(customer.credit_penalties_waived, 25.0)
        self.assertTrue(customer.credit_late_payer)
        self.assertTrue(customer.credit_behaviour_date)
        # A customer with nothing has no figures; one whose items are all gone
        # is reset to zeros by the next refresh.
        self.assertFalse(self.customer_b.with_company(self.company).credit_open_amount)
        (self.inv_d | self.inv_e).button_draft()
        self.refresh()
        self.assertEqual(customer.credit_open_amount, 0.0)
        self.assertEqual(customer.credit_overdue_amount, 0.0)
        self.assertAlmostEqual(customer.credit_avg_days_late, 22.2)

    def test_late_payer_threshold(self):
        customer = self.customer.with_company(self.company)
        self.company.credit_late_payer_days = 22
        self.refresh()
        self.assertTrue(customer.credit_late_payer)
        self.company.credit_late_payer_days = 23
        self.refresh()
        self.assertFalse(customer.credit_late_payer)
        self.assertEqual(
            customer.search([("credit_late_payer", "=", True)]) & self.customer,
            self.env["res.partner"],
        )

    def test_per_company(self):
        invoice = self.make_invoice(
            due=self.day(-20),
            invoice_date=self.day(-50),
            amount=100,
            company=self.company_b,
        )
        self.env["account.payment.register"].with_company(self.company_b).with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({"amount": 100, "payment_date": self.day(-15)})._create_payments()
        self.env["res.partner"]._cron_refresh_payment_behaviour()
        self.assertAlmostEqual(
            self.customer.with_company(self.company).credit_avg_days_late, 22.2
        )
        in_b = self.customer.with_company(self.company_b)
        self.assertAlmostEqual(in_b.credit_avg_days_late, 5.0)
        self.assertAlmostEqual(in_b.credit_late_share, 100.0)
        self.assertEqual(in_b.credit_open_amount, 0.0)
        self.assertFalse(in_b.credit_max_level_id)
        self.assertFalse(in_b.credit_late_payer)

    def test_sort_and_search(self):
        on_time = self.customer_b
        invoice = self.make_invoice(
            partner=on_time, due=self.day(-20), invoice_date=self.day(-50), amount=800
        )
        self.pay(invoice, 800, on=self.day(-25))
        self.refresh()
        Partner = self.env["res.partner"].with_company(self.company)
        both = self.customer | on_time
        found = Partner.search(
            [("id", "in", both.ids)], order="credit_avg_days_late desc"
        )
        self.assertEqual(found.ids, [self.customer.id, on_time.id])
        found = Partner.search(
            [("id", "in", both.ids)], order="credit_avg_days_late asc"
        )
        self.assertEqual(found.ids, [on_time.id, self.customer.id])
        self.assertEqual(
            Partner.search([("id", "in", both.ids), ("credit_avg_days_late", ">", 10)]),
            self.customer,
        )
        self.assertEqual(
            Partner.search([("id", "in", both.ids), ("credit_late_payer", "=", False)]),
            on_time,
        )
        self.assertEqual(on_time.with_company(self.company).credit_late_share, 0.0)
        # The group-bys of the customer search view.
        groups = Partner._read_group(
            [("id", "in", both.ids)], ["credit_max_level_id"], ["__count"]
        )
        self.assertEqual(
            dict(groups), {self.second: 1, self.env["credit.dunning.level"]: 1}
        )
        groups = Partner._read_group(
            [("id", "in", both.ids)], ["credit_late_payer"], ["__count"]
        )
        self.assertEqual(dict(groups), {True: 1, False: 1})

    def test_cron_continues_after_failure(self):
        original = ResPartner._compute_payment_behaviour
        company_b = self.company_b

        def failing(self, company, today, partner_ids=None):
            if company == company_b:
                raise ValueError("broken ledger")
            return original(self, company, today, partner_ids)

        summary = "Payment behaviour not refreshed"
        Activity = self.env["mail.activity"]
        activity_domain = [
            ("res_model", "=", "res.partner"),
            ("res_id", "=", company_b.partner_id.id),
            ("summary", "=", summary),
        ]
        with (
            patch.object(ResPartner, "_compute_payment_behaviour", failing),
            self.assertLogs(
                "odoo.addons.l10n_fr_credit_collection.models.res_partner_behaviour",
                level="WARNING",
            ),
        ):
            self.env["res.partner"]._cron_refresh_payment_behaviour()
            self.env["res.partner"]._cron_refresh_payment_behaviour()
        # Companies are refreshed in turn: A's figures are there.
        self.assertAlmostEqual(
            self.customer.with_company(self.company).credit_avg_days_late, 22.2
        )
        activities = Activity.search(activity_domain)
        self.assertEqual(len(activities), 1)
        self.assertIn("broken ledger", str(activities.note))

    def test_query_count_does_not_grow(self):
        def count(partners):
            Partner = self.env["res.partner"].with_company(self.company).sudo()
            Partner._refresh_payment_behaviour(self.company)
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            Partner._refresh_payment_behaviour(self.company)
            return self.env.cr.sql_log_count - before

        def add_customers(number):
            partners = self.env["res.partner"].create(
                [
                    {"name": f"Client {index}", "is_company": True}
                    for index in range(number)
                ]
            )
            moves = self.env["account.move"].create(
                [
                    {
                        "move_type": "out_invoice",
                        "partner_id": partner.id,
                        "invoice_date": self.day(-40),
                        "invoice_date_due": self.day(-10),
                        "invoice_line_ids": [
                            Command.create(
                                {"name": "S", "price_unit": 100, "tax_ids": []}
                            )
                        ],
                    }
                    for partner in partners
                ]
            )
            moves.action_post()
            return partners

        add_customers(3)
        small = count(3)
        add_customers(27)
        large = count(30)
        self.assertGreater(small, 0)
        self.assertEqual(small, large)
        self.assertLessEqual(large, 12)

    def test_filters_and_credit_limit(self):
        self.refresh()
        customer = self.customer.with_company(self.company)
        customer.credit_limit = 6400.0
        self.assertAlmostEqual(customer.credit_limit_use, 50.0)
        self.assertEqual(
            self.customer_b.with_company(self.company).credit_limit_use, 0.0
        )
        Partner = self.env["res.partner"]
        Move = self.env["account.move"]
        self.assertFalse(customer.credit_on_hold)
        self.inv_d.write(
            {
                "dunning_hold": True,
                "dunning_hold_type": "dispute",
                "dunning_hold_reason": "x",
            }
        )
        Partner.invalidate_model(["credit_on_hold"])
        self.assertTrue(customer.credit_on_hold)
        self.assertIn(self.customer, Partner.search([("credit_on_hold", "=", True)]))
        self.assertNotIn(
            self.customer, Partner.search([("credit_on_hold", "=", False)])
        )
        request = self.env["credit.court.request"].create(
            {
                "company_id": self.company.id,
                "partner_id": self.customer.id,
                "as_of_date": self.today,
                "move_ids": [Command.set(self.inv_d.ids)],
            }
        )
        self.assertTrue(self.inv_d.credit_in_court_case)
        self.assertFalse(self.inv_e.credit_in_court_case)
        self.assertEqual(Move.search([("credit_in_court_case", "=", True)]), self.inv_d)
        self.assertNotIn(
            self.inv_d, Move.search([("credit_in_court_case", "!=", True)])
        )
        self.assertIn(
            self.customer, Partner.search([("credit_in_court_case", "=", True)])
        )
        request.sudo().state = "cancelled"
        Move.invalidate_model(["credit_in_court_case"])
        self.assertFalse(self.inv_d.credit_in_court_case)
        self.assertFalse(Move.search([("credit_in_court_case", "=", True)]))

    def test_access(self):
        self.refresh()
        one = {"company_id": self.company.id, "company_ids": [self.company.id]}
        billing = new_test_user(
            self.env, login="billing_g", groups="account.group_account_invoice", **one
        )
        plain = new_test_user(
            self.env, login="plain_g", groups="base.group_user", **one
        )
        collector = new_test_user(self.env, login="collector_g", groups=USER, **one)
        self.assertAlmostEqual(
            self.customer.with_user(billing).credit_avg_days_late, 22.2
        )
        with self.assertRaises(AccessError):
            self.customer.with_user(plain).credit_avg_days_late  # noqa: B018
        with self.assertRaises(AccessError):
            self.customer.with_user(billing).action_refresh_payment_behaviour()
        self.pay(self.inv_d, 2000, on=self.day(-1))
        self.customer.with_user(collector).action_refresh_payment_behaviour()
        self.env.invalidate_all()
        self.assertAlmostEqual(self.customer.credit_open_amount, 1200.0)
