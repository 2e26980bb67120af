from datetime import date
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import CreditCollectionCommon

USER = "l10n_fr_credit_collection.group_credit_collection_user"
MANAGER = "l10n_fr_credit_collection.group_credit_collection_manager"
BILLING = "account.group_account_invoice"
CASE_MODULE = "odoo.addons.l10n_fr_credit_collection.models.credit_court_request"


@tagged("post_install", "-at_install")
class TestCourtCase(CreditCollectionCommon):
    """The court case follow-up: each step, its checks, its deadlines as
    activities, the payments closing a case, and what an open case stops."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.collector = new_test_user(
            cls.env,
            login="case_collector",
            groups=f"{USER},base.group_partner_manager",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.customer.country_id = cls.env.ref("base.fr")
        cls.customer.zip = "33000"

    # ------------------------------------------------------------------ helpers

    def make_case(
        self,
        invoices=None,
        court_type="commerce",
        procedure="injonction",
        filed=date(2026, 8, 20),
        total=None,
    ):
        """A request on ``invoices`` (one invoice of 1,000 by default) marked filed
        on ``filed`` by the collector, responsible for it."""
        invoices = invoices or self.make_invoice()
        total = total if total is not None else sum(invoices.mapped("amount_total"))
        case = self.env["credit.court.request"].create(
            {
                "partner_id": invoices.partner_id.id,
                "user_id": self.collector.id,
                "as_of_date": filed,
                "procedure": procedure,
                "court_type": court_type,
                "court_name": "Court",
                "move_ids": [Command.set(invoices.ids)],
                "amount_principal": total,
                "amount_total": total,
                "claim_line_ids": [
                    Command.create(
                        {"kind": "principal", "name": "Principal", "amount": total}
                    )
                ],
            }
        )
        with freeze_time(filed):
            case.with_user(self.collector).action_mark_filed()
        return case

    def step(self, case, step, day, today=None, **options):
        with freeze_time(today or day):
            case.with_user(self.collector)._apply_court_step(step, day, **options)
        case.invalidate_recordset()

    def activity(self, case, key):
        return case.activity_ids.filtered(lambda act: act.credit_deadline_key == key)

    def assertActivity(self, case, key, due, article):
        activity = self.activity(case, key)
        self.assertEqual(len(activity), 1, f"one open activity {key}")
        self.assertEqual(activity.date_deadline, due)
        self.assertEqual(activity.user_id, self.collector)
        self.assertIn(article, str(activity.note))
        return activity

    def served_case(self, order=date(2026, 9, 10), served=date(2026, 10, 1), **kw):
        case = self.make_case(**kw)
        self.step(case, "order_issued", order, grant="full")
        self.step(case, "served", served, in_person=True)
        return case

    # ------------------------------------------------------------------ steps

    def test_filing_schedules_the_court_fee_and_interrupts_prescription(self):
        case = self.make_case(filed=date(2026, 9, 1))
        self.assertEqual(case.state, "filed")
        self.assertActivity(case, "court_fee", date(2026, 9, 16), "CPC 1425")
        self.assertEqual(case.court_fee_deadline, date(2026, 9, 16))
        self.assertEqual(case.step_ids.step, "filed")
        self.assertEqual(case.step_ids.user_id, self.collector)
        self.assertEqual(case.step_ids.date, date(2026, 9, 1))
        interruption = self.env["credit.prescription.interruption"].search(
            [("move_id", "in", case.move_ids.ids)]
        )
        self.assertEqual(interruption.kind, "court_claim")
        self.assertEqual(interruption.date, date(2026, 9, 1))
        # The fee paid closes its activity; a second record is refused.
        self.step(case, "court_fee_paid", date(2026, 9, 5))
        self.assertFalse(self.activity(case, "court_fee"))
        self.assertEqual(case.court_fee_paid_date, date(2026, 9, 5))
        with self.assertRaisesMessage(UserError, "already recorded"):
            self.step(case, "court_fee_paid", date(2026, 9, 6))

    def test_no_court_fee_before_the_judicial_court(self):
        case = self.make_case(court_type="tj")
        self.assertFalse(case.court_fee_deadline)
        self.assertFalse(self.activity(case, "court_fee"))
        with self.assertRaisesMessage(UserError, "charges no fee"):
            self.step(case, "court_fee_paid", date(2026, 8, 25))

    def test_order_issued_new_and_old_regime(self):
        new = self.make_case()
        self.step(new, "order_issued", date(2026, 9, 1), grant="full", reference="IP1")
        self.assertEqual(new.state, "order_issued")
        self.assertEqual(new.amount_granted, new.amount_total)
        self.assertEqual(new.order_reference, "IP1")
        self.assertFalse(self.activity(new, "court_fee"), "the order ends the fee")
        self.assertActivity(
            new, "service", date(2026, 12, 1), "CPC 1411 (décret 2026-96)"
        )
        old = self.make_case()
        self.step(old, "order_issued", date(2026, 8, 31), grant="full")
        activity = self.assertActivity(old, "service", date(2027, 2, 28), "CPC 1411")
        self.assertNotIn("2026-96", str(activity.note))
        self.assertEqual(old.service_deadline, date(2027, 2, 28))

    def test_served_in_person_new_regime(self):
        case = self.served_case()
        self.assertEqual(case.state, "served")
        self.assertFalse(self.activity(case, "service"))
        self.assertActivity(case, "opposition", date(2026, 11, 1), "CPC 1416")
        self.assertActivity(
            case, "enforcement", date(2026, 12, 2), "CPC 1422 (décret 2026-96)"
        )
        self.assertEqual(case.opposition_deadline, date(2026, 11, 1))
        self.assertEqual(case.enforceable_from, date(2026, 12, 2))
        self.assertEqual(
            case.step_ids.mapped("step"), ["served", "order_issued", "filed"]
        )

    def test_window_open_until_an_act_in_person(self):
        case = self.make_case(filed=date(2026, 6, 20))
        self.step(case, "order_issued", date(2026, 7, 1), grant="full")
        self.step(case, "served", date(2026, 7, 20), in_person=False)
        self.assertTrue(case.opposition_window_open)
        self.assertFalse(case.opposition_deadline)
        self.assertFalse(case.enforceable_from, "old regime: after the window only")
        self.assertFalse(self.activity(case, "opposition"))
        with self.assertRaisesMessage(UserError, "still open"):
            self.step(case, "enforceable", date(2026, 8, 30))
        self.step(case, "personal_act", date(2026, 8, 5))
        self.assertFalse(case.opposition_window_open)
        self.assertActivity(case, "opposition", date(2026, 9, 5), "CPC 1416")
        self.assertActivity(case, "enforcement", date(2026, 9, 6), "CPC 1410")
        with self.assertRaisesMessage(UserError, "already recorded"):
            self.step(case, "personal_act", date(2026, 8, 6))
        # Overseas: one more month (CPC 643).
        case.debtor_location = "overseas"
        self.assertEqual(case.opposition_deadline, date(2026, 10, 5))
        with self.assertRaisesMessage(UserError, "can be enforced from"):
            self.step(case, "enforceable", date(2026, 10, 5), today=date(2026, 10, 7))
        self.step(case, "enforceable", date(2026, 10, 6), today=date(2026, 10, 7))
        self.assertEqual(case.state, "enforceable")

    def test_debtor_location_from_the_address(self):
        self.customer.write({"zip": "97200", "city": "Fort-de-France"})
        self.assertEqual(self.make_case().debtor_location, "overseas")
        self.customer.write({"zip": "10115", "country_id": self.env.ref("base.de").id})
        self.assertEqual(self.make_case().debtor_location, "abroad")

    def test_opposed_before_the_judicial_court_needs_a_lawyer(self):
        case = self.served_case(court_type="tj", total=12000.0)
        self.step(
            case,
            "opposed",
            date(2026, 10, 10),
            today=date(2026, 10, 25),
            notified_date=date(2026, 10, 20),
        )
        self.assertEqual(case.state, "opposed")
        self.assertTrue(case.needs_lawyer)
        self.assertActivity(case, "lawyer", date(2026, 11, 4), "CPC 1418")
        self.assertFalse(self.activity(case, "opposition"))
        self.assertFalse(self.activity(case, "enforcement"))
        with self.assertRaisesMessage(UserError, "say in the note"):
            self.step(case, "enforceable", date(2026, 12, 15))
        self.step(case, "enforceable", date(2026, 12, 15), note="Judgment of 15/12")
        self.assertFalse(self.activity(case, "lawyer"))
        self.assertEqual(case.state, "enforceable")

    def test_opposition_below_the_threshold_needs_no_lawyer(self):
        case = self.served_case(court_type="tj", total=9000.0)
        self.step(
            case,
            "opposed",
            date(2026, 10, 10),
            notified_date=date(2026, 10, 12),
            today=date(2026, 10, 12),
        )
        self.assertFalse(case.needs_lawyer)
        self.assertFalse(self.activity(case, "lawyer"))

    def test_european_order_30_days(self):
        case = self.make_case(court_type="european_order", procedure="european_order")
        self.assertFalse(self.activity(case, "court_fee"))
        self.step(case, "order_issued", date(2026, 9, 1), grant="full")
        self.assertFalse(self.activity(case, "service"), "the court serves it")
        self.step(case, "served", date(2026, 10, 1))
        self.assertActivity(
            case, "eop_opposition", date(2026, 10, 31), "Reg. (EC) 1896/2006 art. 16"
        )
        self.assertActivity(
            case, "enforcement", date(2026, 11, 1), "Reg. (EC) 1896/2006 art. 18"
        )
        with self.assertRaisesMessage(UserError, "no act in person"):
            self.step(case, "personal_act", date(2026, 10, 2))
        self.step(case, "enforceable", date(2026, 11, 3))
        self.assertFalse(self.activity(case, "eop_opposition"))

    def test_enforceable_date_written_to_the_invoices(self):
        first = self.make_invoice()
        second = self.make_invoice()
        second.judgment_enforceable_date = date(2026, 11, 1)
        case = self.served_case(invoices=first | second)
        self.step(case, "enforceable", date(2026, 12, 5))
        self.assertEqual(first.judgment_enforceable_date, date(2026, 12, 5))
        self.assertEqual(second.judgment_enforceable_date, date(2026, 11, 1))
        self.assertActivity(case, "title", date(2036, 12, 5), "CPCE L111-4")
        self.assertFalse(self.activity(case, "enforcement"))
        self.assertEqual(case.title_expiry_date, date(2036, 12, 5))

    def test_closing_steps_close_the_deadlines(self):
        case = self.served_case()
        self.step(case, "abandoned", date(2026, 10, 5))
        self.assertEqual(case.state, "abandoned")
        self.assertFalse(case.activity_ids)
        lapsed = self.make_case()
        self.step(lapsed, "order_issued", date(2026, 9, 1), grant="full")
        with self.assertRaisesMessage(UserError, "lapses only after"):
            self.step(lapsed, "lapsed", date(2026, 11, 30))
        self.step(lapsed, "lapsed", date(2026, 12, 2))
        self.assertEqual(lapsed.state, "lapsed")
        self.assertFalse(lapsed.activity_ids)
        rejected = self.make_case()
        self.step(rejected, "rejected", date(2026, 9, 1))
        self.assertFalse(rejected.activity_ids)
        with self.assertRaisesMessage(UserError, "Abandoned instead"):
            self.served_case().action_cancel()

    # ------------------------------------------------------------------ bad input

    def test_bad_dates_and_skipped_steps_write_nothing(self):
        case = self.make_case()
        cases = [
            ("order_issued", date(2026, 8, 1), {"grant": "full"}, "cannot come before"),
            ("order_issued", date(2026, 9, 30), {"grant": "full"}, "in the future"),
            ("served", date(2026, 9, 1), {}, "Record the missing steps first"),
            ("order_issued", date(2026, 9, 1), {}, "in full or in part"),
            (
                "order_issued",
                date(2026, 9, 1),
                {"grant": "partial", "amount_granted": 1000.0},
                "less than the claim",
            ),
        ]
        for step, day, options, message in cases:
            with self.subTest(step=step, message=message):
                with self.assertRaisesMessage(UserError, message):
                    self.step(case, step, day, today=date(2026, 9, 10), **options)
                self.assertEqual(case.state, "filed")
                self.assertEqual(len(case.step_ids), 1)
        self.step(case, "order_issued", date(2026, 9, 1), grant="full")
        with self.assertRaisesMessage(UserError, "cannot come before"):
            self.step(case, "served", date(2026, 8, 31))
        with self.assertRaisesMessage(UserError, "it lapsed"):
            self.step(case, "served", date(2026, 12, 2))
        self.step(case, "served", date(2026, 9, 15), in_person=True)
        with self.assertRaisesMessage(UserError, "cannot come before"):
            self.step(
                case, "opposed", date(2026, 9, 14), notified_date=date(2026, 9, 20)
            )
        with self.assertRaisesMessage(UserError, "between the opposition and today"):
            self.step(
                case,
                "opposed",
                date(2026, 9, 20),
                today=date(2026, 9, 25),
                notified_date=date(2026, 9, 19),
            )
        with self.assertRaisesMessage(UserError, "notified you"):
            self.step(case, "opposed", date(2026, 9, 20))
        self.assertEqual(case.state, "served")
        self.assertFalse(case.opposition_date)
        self.assertEqual(len(case.step_ids), 3)

    def test_small_claims_case_only_closes_here(self):
        case = self.make_case(procedure="small_claims", court_type=False)
        self.assertFalse(case.activity_ids)
        with self.assertRaisesMessage(UserError, "small-claims procedure"):
            self.step(case, "order_issued", date(2026, 9, 1), grant="full")
        self.step(case, "paid", date(2026, 9, 1))
        self.assertEqual(case.state, "paid")

    # ------------------------------------------------------------------ payments

    def test_partial_grant_and_payments_close_the_case(self):
        first = self.make_invoice(amount=2000.0)
        second = self.make_invoice(amount=1000.0)
        case = self.make_case(invoices=first | second)
        other = self.served_case()
        self.pay(first, 200.0, on=date(2026, 8, 1))  # before the claim: ignored
        self.step(
            case,
            "order_issued",
            date(2026, 9, 10),
            grant="partial",
            amount_granted=2000.0,
        )
        self.assertEqual(case.amount_claim_remainder, 1000.0)
        self.assertEqual(case.amount_paid, 0.0)
        self.assertEqual(case.amount_remaining, 2000.0)
        self.pay(first, 1500.0, on=date(2026, 9, 20))
        case.invalidate_recordset()
        self.assertEqual(case.amount_paid, 1500.0)
        self.assertEqual(case.amount_remaining, 500.0)
        self.assertEqual(len(case.payment_partial_ids), 1)
        with self.assertRaisesMessage(UserError, "do not cover"):
            case.action_close_if_paid()
        with freeze_time("2026-10-01"):
            self.env["credit.court.request"]._cron_close_paid_cases()
        self.assertEqual(case.state, "order_issued")
        self.pay(second, 500.0, on=date(2026, 9, 25))
        with freeze_time("2026-10-01"):
            self.env["credit.court.request"]._cron_close_paid_cases()
        self.assertEqual(case.state, "paid")
        self.assertEqual(case.paid_date, date(2026, 9, 25))
        self.assertFalse(case.activity_ids)
        self.assertEqual(case.step_ids[0].step, "paid")
        self.assertEqual(other.state, "served", "an unpaid case stays open")

    def test_cron_reads_in_few_queries_and_a_failure_stops_nothing(self):
        cases = self.served_case() | self.served_case() | self.served_case()
        for case in cases:
            self.pay(case.move_ids, 1000.0, on=date(2026, 10, 2))
        failing = cases[0]
        registry_class = self.env.registry["credit.court.request"]
        original = registry_class._close_as_paid

        def close(records, dates):
            if failing in records:
                raise ValueError("broken case")
            return original(records, dates)

        with (
            patch.object(registry_class, "_close_as_paid", close),
            self.assertLogs(CASE_MODULE, "ERROR") as logs,
            freeze_time("2026-10-03"),
        ):
            self.env["credit.court.request"]._cron_close_paid_cases()
        self.assertIn(failing.name, logs.output[0])
        self.assertEqual(failing.state, "served")
        self.assertEqual(cases[1:].mapped("state"), ["paid", "paid"])
        # Finding the covered cases: the same queries whatever their number.
        cases.invalidate_recordset()
        with self.assertQueryCount(3):
            cases._get_covered_cases()
        cases.invalidate_recordset()
        with self.assertQueryCount(3):
            cases[0]._get_covered_cases()

    # ------------------------------------------------------------------ effects

    def test_open_case_stops_dunning_and_penalty_invoicing(self):
        claimed = self.make_invoice(due=date(2026, 3, 31))
        free = self.make_invoice(due=date(2026, 3, 31))
        with freeze_time("2026-06-15"):
            lines = (claimed | free).compute_late_penalties(date(2026, 6, 15))
        case = self.make_case(invoices=claimed, filed=date(2026, 6, 20))
        Line = self.env["account.move.line"]
        items = Line.search(Line._get_dunning_excluded_domain())
        self.assertNotIn(self.term_lines(claimed), items)
        self.assertIn(self.term_lines(free), items)
        run = self.run_dunning(date(2026, 6, 25))
        dunned = run.letter_ids.line_ids.move_line_id.move_id
        self.assertIn(free, dunned)
        self.assertNotIn(claimed, dunned)
        claimed_lines = lines.filtered(lambda line: line.move_id == claimed)
        with self.assertRaisesMessage(UserError, case.name):
            claimed_lines._create_penalty_invoices(date(2026, 6, 25))
        self.assertEqual(set(claimed_lines.mapped("state")), {"draft"})
        invoices = lines.filtered(
            lambda line: line.move_id == free
        )._create_penalty_invoices(date(2026, 6, 25))
        self.assertEqual(len(invoices), 1)
        # The customer and the invoice show the open case; a closed one no more.
        self.assertEqual(self.customer.open_court_case_count, 1)
        self.assertEqual(claimed.open_court_request_id, case)
        self.assertFalse(free.open_court_request_id)
        self.step(case, "abandoned", date(2026, 6, 30))
        self.customer.invalidate_recordset()
        claimed.invalidate_recordset()
        self.assertEqual(self.customer.open_court_case_count, 0)
        self.assertFalse(claimed.open_court_request_id)
        self.assertIn(
            self.term_lines(claimed), Line.search(Line._get_dunning_excluded_domain())
        )

    # ------------------------------------------------------------------ access

    def test_rights_per_group(self):
        case = self.make_case()
        billing = new_test_user(
            self.env,
            login="case_billing",
            groups=BILLING,
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        plain = new_test_user(
            self.env,
            login="case_plain",
            groups="base.group_user",
            company_id=self.company.id,
        )
        manager = new_test_user(
            self.env, login="case_manager", groups=MANAGER, company_id=self.company.id
        )
        # Billing reads the case and its log, records nothing.
        self.assertEqual(case.with_user(billing).state, "filed")
        self.assertEqual(case.with_user(billing).step_ids.step, "filed")
        with self.assertRaises(AccessError):
            case.with_user(billing).action_open_step_wizard()
        with self.assertRaises(AccessError):
            case.with_user(billing)._apply_court_step(
                "order_issued", date(2026, 8, 25), grant="full"
            )
        # No group: nothing.
        with self.assertRaises(AccessError):
            case.with_user(plain).read(["state"])
        with self.assertRaises(AccessError):
            case.step_ids.with_user(plain).read(["step"])
        # The collector records steps through the wizard, never edits the log.
        with freeze_time("2026-09-02"):
            wizard = (
                self.env["credit.court.step.wizard"]
                .with_user(self.collector)
                .create(
                    {
                        "request_id": case.id,
                        "step": "order_issued",
                        "date": date(2026, 9, 1),
                        "grant": "full",
                    }
                )
            )
            wizard.action_confirm()
        self.assertEqual(case.state, "order_issued")
        self.assertEqual(case.step_ids[0].user_id, self.collector)
        log = case.step_ids.with_user(self.collector)
        with self.assertRaises(AccessError):
            log.write({"note": "changed"})
        with self.assertRaises(AccessError):
            log.unlink()
        with self.assertRaises(AccessError):
            self.env["credit.court.request.step"].with_user(self.collector).create(
                {
                    "request_id": case.id,
                    "step": "paid",
                    "state": "paid",
                    "date": date(2026, 9, 1),
                }
            )
        case.step_ids[0].with_user(manager).unlink()
        self.assertEqual(len(case.step_ids), 1)

    def test_multi_company_isolation(self):
        other = self.setup_other_company(name="Other FR")["company"]
        case = self.make_case()
        user = new_test_user(
            self.env,
            login="case_other",
            groups=USER,
            company_id=other.id,
            company_ids=[other.id],
        )
        self.assertFalse(
            self.env["credit.court.request.step"].with_user(user).search([])
        )
        with self.assertRaises(AccessError):
            case.step_ids.with_user(user).read(["step"])
        self.assertEqual(self.customer.with_user(user).open_court_case_count, 0)
        self.assertEqual(self.customer.open_court_case_count, 1)

    # ------------------------------------------------------------------ demo

    def test_demo_case_is_served_with_its_deadlines(self):
        invoices = self.make_invoice(partner=self.customer_b) | self.make_invoice(
            partner=self.customer_b
        )
        with freeze_time("2026-06-15"):
            case = self.env["credit.collection.demo"]._load_demo_court_case(
                self.customer_b, invoices
            )
        self.assertEqual(case.state, "served")
        self.assertEqual(case.move_ids, invoices)
        self.assertEqual(len(case.step_ids), 4)
        self.assertEqual(
            set(case.activity_ids.mapped("credit_deadline_key")),
            {"opposition", "enforcement"},
        )
