from datetime import date
from unittest.mock import patch

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time
from lxml import etree

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from .common import CreditCollectionCommon

USER = "l10n_fr_credit_collection.group_credit_collection_user"
MANAGER = "l10n_fr_credit_collection.group_credit_collection_manager"
BILLING = "account.group_account_invoice"
LOGGER = "odoo.addons.l10n_fr_credit_collection.models.credit_company_job"
TODAY = date(2026, 11, 30)


@tagged("post_install", "-at_install")
class TestPrescription(CreditCollectionCommon):
    """Prescription per invoice (LAW.md §8): 5 years between professionals, 2
    against a consumer, from the delivery date else the invoice date, a new period
    from each interruption; the watch list and its activity 90 days before."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name="Other FR")["company"]
        one = {"company_id": cls.company.id, "company_ids": [cls.company.id]}
        cls.collector = new_test_user(cls.env, login="pw_collector", groups=USER, **one)
        cls.manager = new_test_user(cls.env, login="pw_manager", groups=MANAGER, **one)
        cls.billing = new_test_user(cls.env, login="pw_billing", groups=BILLING, **one)
        cls.plain = new_test_user(
            cls.env, login="pw_plain", groups="base.group_user", **one
        )
        cls.consumer = cls.env["res.partner"].create(
            {"name": "Jeanne Petit", "debtor_type": "consumer"}
        )
        cls.Move = cls.env["account.move"]

    def invoice(self, invoice_date, partner=None, amount=1000.0, delivery=None, **kw):
        move = self.make_invoice(
            partner=partner,
            invoice_date=invoice_date,
            due=invoice_date + relativedelta(days=30),
            amount=amount,
            post=False,
            **kw,
        )
        if delivery:
            move.delivery_date = delivery
        move.action_post()
        return move

    def cron(self, on=TODAY):
        with freeze_time(on):
            self.Move._cron_prescription_watch()

    def prescription_activities(self, moves):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "account.move"),
                ("res_id", "in", moves.ids),
                ("credit_deadline_key", "=", "prescription"),
            ]
        )

    # ------------------------------------------------------------ the date

    def test_start_from_delivery_date_else_invoice_date(self):
        delivered = self.invoice(date(2022, 3, 10), delivery=date(2022, 2, 15))
        invoiced = self.invoice(date(2022, 3, 10))
        dates = (delivered | invoiced)._get_prescription_dates()
        self.assertEqual(dates[delivered.id], date(2027, 2, 15))
        self.assertEqual(dates[invoiced.id], date(2027, 3, 10))
        self.assertEqual(delivered.credit_prescription_start_date, date(2022, 2, 15))
        self.assertEqual(invoiced.credit_prescription_start_date, date(2022, 3, 10))
        # Stored by the daily job, never from the due date (10 April).
        self.assertFalse(invoiced.credit_prescription_date)
        self.cron()
        self.assertEqual(delivered.credit_prescription_date, date(2027, 2, 15))
        self.assertEqual(invoiced.credit_prescription_date, date(2027, 3, 10))
        with freeze_time(TODAY):
            self.assertEqual(invoiced.credit_prescription_days_left, 100)

    def test_professional_five_years_consumer_two_years(self):
        professional = self.invoice(date(2023, 1, 10))
        consumer = self.invoice(date(2023, 1, 10), partner=self.consumer)
        self.cron()
        self.assertEqual(professional.credit_prescription_date, date(2028, 1, 10))
        self.assertEqual(consumer.credit_prescription_date, date(2025, 1, 10))
        self.assertEqual(consumer.credit_debtor_type, "consumer")
        with freeze_time(TODAY):
            self.assertEqual(consumer.credit_prescription_days_left, -689)

    def test_acknowledgment_starts_a_new_period(self):
        move = self.invoice(date(2025, 1, 20), partner=self.consumer)
        self.cron()
        self.assertEqual(move.credit_prescription_date, date(2027, 1, 20))
        with freeze_time(TODAY):
            interruption = move._record_prescription_interruption(
                date(2026, 6, 15), "acknowledgment", note="Signed letter"
            )
        self.assertEqual(interruption.move_id, move)
        self.assertEqual(interruption.partner_id, self.consumer)
        self.assertEqual(interruption.company_id, self.company)
        self.assertEqual(interruption.user_id, self.env.user)
        # Updated at once, without waiting for the daily job.
        self.assertEqual(move.credit_prescription_date, date(2028, 6, 15))
        self.assertEqual(move.credit_prescription_last_interruption, date(2026, 6, 15))
        self.assertEqual(move.credit_prescription_interruption_ids, interruption)
        # The next run keeps it.
        self.cron()
        self.assertEqual(move.credit_prescription_date, date(2028, 6, 15))

    def test_reference_offers_only_models_present(self):
        selection = self.env["credit.prescription.interruption"]._selection_reference()
        self.assertIn("credit.court.request", [model for model, _label in selection])
        for model, _label in selection:
            self.assertIn(model, self.env)

    def test_partial_payment_interrupts_not_a_credit_note(self):
        move = self.invoice(date(2025, 1, 20), partner=self.consumer)
        self.pay(move, 300.0, on=date(2026, 3, 5))
        refund = self.make_invoice(
            partner=self.consumer,
            move_type="out_refund",
            amount=100.0,
            invoice_date=date(2026, 5, 1),
            due=date(2026, 5, 1),
        )
        (move | refund).line_ids.filtered(
            lambda line: line.account_type == "asset_receivable"
        ).reconcile()
        self.assertEqual(move.amount_residual, 600.0)
        self.cron()
        self.assertEqual(move.credit_prescription_date, date(2028, 3, 5))
        self.assertEqual(move.credit_prescription_last_interruption, date(2026, 3, 5))
        self.assertFalse(refund.credit_prescription_date)
        # Paid in full: no longer watched.
        self.pay(move, 600.0, on=date(2026, 11, 2))
        self.cron()
        self.assertFalse(move.credit_prescription_date)
        self.assertFalse(move.credit_prescription_last_interruption)

    def test_interruption_after_expiry_revives_nothing(self):
        move = self.invoice(date(2023, 1, 10), partner=self.consumer)
        with freeze_time(TODAY):
            move._record_prescription_interruption(date(2025, 3, 1), "acknowledgment")
        self.assertEqual(move.credit_prescription_date, date(2025, 1, 10))
        self.assertFalse(move.credit_prescription_last_interruption)

    # ------------------------------------------------------------ the watch list

    def test_watch_list_domain(self):
        soon = self.invoice(date(2021, 12, 15))  # 15 December 2026
        later = self.invoice(date(2024, 1, 5))  # 5 January 2029
        prescribed = self.invoice(date(2021, 6, 1))  # 1 June 2026
        paid = self.invoice(date(2021, 12, 20))
        self.pay(paid, 1000.0, on=date(2026, 1, 5))
        draft = self.make_invoice(invoice_date=date(2021, 12, 15), post=False)
        self.cron()
        action = self.env.ref(
            "l10n_fr_credit_collection.action_credit_prescription_watch"
        )
        self.assertEqual(
            safe_eval(action.context)["search_default_prescription_soon"], 1
        )
        arch = etree.fromstring(
            self.env.ref(
                "l10n_fr_credit_collection.view_move_prescription_watch_search"
            ).arch
        )
        filters = {
            node.get("name"): safe_eval(
                node.get("domain"),
                {"context_today": lambda: TODAY, "relativedelta": relativedelta},
            )
            for node in arch.iter("filter")
            if node.get("domain")
        }
        base = safe_eval(action.domain) + [("company_id", "=", self.company.id)]
        candidates = soon | later | prescribed | paid | draft
        base += [("id", "in", candidates.ids)]
        self.assertEqual(
            self.Move.search(base + filters["prescription_soon"]),
            soon,
        )
        self.assertEqual(self.Move.search(base + filters["prescribed"]), prescribed)
        self.assertEqual(self.Move.search(base), soon | later | prescribed)

    def test_wizard_records_and_checks_the_date(self):
        move = self.invoice(date(2024, 5, 2))
        action = move.with_user(
            self.collector
        ).action_open_prescription_interruption_wizard()
        Wizard = (
            self.env[action["res_model"]]
            .with_user(self.collector)
            .with_context(**action["context"])
        )
        with freeze_time(TODAY):
            future = Wizard.create({"date": date(2026, 12, 1), "kind": "court_claim"})
            with self.assertRaisesMessage(ValidationError, "in the future"):
                future.action_record()
            early = Wizard.create({"date": date(2024, 5, 1), "kind": "acknowledgment"})
            with self.assertRaisesMessage(ValidationError, "before"):
                early.action_record()
            self.assertFalse(move.sudo().credit_prescription_interruption_ids)
            wizard = Wizard.create(
                {"date": date(2026, 10, 1), "kind": "acknowledgment", "note": "Email"}
            )
            self.assertEqual(wizard.move_ids, move)
            wizard.action_record()
        interruption = move.sudo().credit_prescription_interruption_ids
        self.assertEqual(interruption.kind, "acknowledgment")
        self.assertEqual(interruption.user_id, self.collector)
        self.assertEqual(move.credit_prescription_date, date(2031, 10, 1))

    # ------------------------------------------------------------ the activity

    def test_cron_activity_90_days_before(self):
        move = self.invoice(date(2022, 1, 20))  # prescribed on 20 January 2027
        move.invoice_user_id = self.collector
        self.cron(date(2026, 10, 21))
        self.assertFalse(self.prescription_activities(move))
        self.cron(date(2026, 10, 22))  # 90 days before
        activity = self.prescription_activities(move)
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.date_deadline, date(2026, 10, 22))
        self.assertEqual(activity.user_id, self.collector)
        self.assertEqual(activity.summary, "Claim about to be prescribed")
        self.assertIn("C. com. L110-4", str(activity.note))
        self.assertIn("2027-01-20", str(activity.note))
        # No duplicate on the next runs.
        self.cron(date(2026, 10, 23))
        self.cron(date(2026, 10, 23))
        self.assertEqual(self.prescription_activities(move), activity)
        # Once done, the same date does not come back.
        activity.action_feedback(feedback="Court request prepared")
        self.cron(date(2026, 10, 24))
        self.assertFalse(self.prescription_activities(move))

    def test_activity_due_today_and_removed_by_interruption(self):
        move = self.invoice(date(2022, 1, 20))
        move.invoice_user_id = False
        self.cron(date(2026, 12, 1))
        activity = self.prescription_activities(move)
        self.assertEqual(activity.date_deadline, date(2026, 12, 1))
        self.assertEqual(activity.user_id, self.env.user)
        with freeze_time(date(2026, 12, 2)):
            move._record_prescription_interruption(date(2026, 12, 2), "court_claim")
        self.assertEqual(move.credit_prescription_date, date(2031, 12, 2))
        self.assertFalse(self.prescription_activities(move))
        # A claim already prescribed gets no "about to be prescribed" activity.
        old = self.invoice(date(2020, 1, 20))
        self.cron(date(2026, 12, 3))
        self.assertFalse(self.prescription_activities(old))

    def test_query_count_does_not_grow(self):
        for year in (2022, 2023):
            self.invoice(date(year, 6, 1))

        def count_queries():
            self.env.flush_all()
            self.env.invalidate_all()
            start = self.env.cr.sql_log_count
            with freeze_time(TODAY):
                self.Move._refresh_company_prescription(self.company, TODAY)
            self.env.flush_all()
            return self.env.cr.sql_log_count - start

        count_queries()
        before = count_queries()
        for month in range(1, 7):
            self.pay(self.invoice(date(2024, month, 3)), 100.0, on=date(2025, 1, 5))
        count_queries()
        self.assertEqual(count_queries(), before)

    # ------------------------------------------------------------ rights

    def test_rights(self):
        move = self.invoice(date(2024, 5, 2))
        Interruption = self.env["credit.prescription.interruption"]
        with freeze_time(TODAY):
            interruption = move.with_user(
                self.collector
            )._record_prescription_interruption(date(2026, 1, 5), "acknowledgment")
        self.assertEqual(interruption.env.user, self.collector)
        self.assertEqual(interruption.date, date(2026, 1, 5))
        # A collection user reads them but never changes the audit trail.
        with self.assertRaises(AccessError):
            interruption.write({"date": date(2026, 1, 6)})
        with self.assertRaises(AccessError):
            interruption.unlink()
        with self.assertRaises(AccessError):
            Interruption.with_user(self.collector).create(
                {"move_id": move.id, "date": date(2026, 1, 6), "kind": "other"}
            )
        # Billing and plain users neither read nor record them.
        for user in (self.billing, self.plain):
            with self.assertRaises(AccessError):
                interruption.with_user(user).read(["date"])
            with self.assertRaises(AccessError):
                move.with_user(user)._record_prescription_interruption(
                    date(2026, 1, 6), "acknowledgment"
                )
        with self.assertRaises(AccessError):
            move.with_user(self.billing).action_open_prescription_interruption_wizard()
        # A manager corrects them.
        interruption.with_user(self.manager).write({"date": date(2026, 1, 6)})
        interruption.with_user(self.manager).unlink()
        self.assertFalse(Interruption.search([("move_id", "=", move.id)]))

    # ------------------------------------------------------------ companies

    def test_multi_company(self):
        move_b = self.init_invoice(
            "out_invoice",
            partner=self.customer,
            invoice_date=date(2022, 2, 1),
            amounts=[500.0],
            taxes=[],
            company=self.company_b,
            post=True,
        )
        move_a = self.invoice(date(2022, 2, 1))
        with freeze_time(TODAY):
            interruption_b = move_b._record_prescription_interruption(
                date(2026, 2, 1), "acknowledgment"
            )
        self.assertEqual(interruption_b.company_id, self.company_b)
        Interruption = self.env["credit.prescription.interruption"]
        self.assertFalse(
            Interruption.with_user(self.collector).search(
                [("move_id", "in", (move_a | move_b).ids)]
            )
        )
        # One company's failure never stops the others.
        original = type(self.Move)._refresh_company_prescription

        def refresh(model, company, today):
            if company == self.company_b:
                raise ValueError("broken company")
            return original(model, company, today)

        with (
            patch.object(type(self.Move), "_refresh_company_prescription", refresh),
            self.assertLogs(LOGGER, level="WARNING") as logs,
        ):
            self.cron()
        self.assertIn("broken company", logs.output[0])
        self.assertEqual(move_a.credit_prescription_date, date(2027, 2, 1))
        self.cron()
        self.assertEqual(move_b.credit_prescription_date, date(2031, 2, 1))
        self.assertEqual(move_b.credit_prescription_last_interruption, date(2026, 2, 1))

    def test_invoice_form_shows_the_tab_to_collection_users(self):
        move = self.invoice(date(2024, 5, 2))
        views = self.Move.with_user(self.collector).get_views([(False, "form")])
        self.assertIn(
            "credit_prescription_interruption_ids", views["views"]["form"]["arch"]
        )
        views = self.Move.with_user(self.billing).get_views([(False, "form")])
        self.assertNotIn(
            "credit_prescription_interruption_ids", views["views"]["form"]["arch"]
        )
        self.assertTrue(move.with_user(self.billing).read(["credit_prescription_date"]))
