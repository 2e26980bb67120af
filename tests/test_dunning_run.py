from datetime import date
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import CreditCollectionCommon


@tagged("post_install", "-at_install")
class TestDunningRun(CreditCollectionCommon):
    def test_level_follows_the_delay_of_each_installment(self):
        """An item 8 days late gets the first reminder; one due in 3 days the
        courtesy reminder; the letter is at the highest level reached."""
        late = self.make_invoice(due=date(2026, 3, 23))
        soon = self.make_invoice(due=date(2026, 4, 3))
        run = self.run_dunning(date(2026, 3, 31))
        letter = run.letter_ids
        self.assertEqual(len(letter), 1)
        self.assertEqual(letter.level_id, self.first)
        self.assertEqual(self.items(letter, self.first), self.term_lines(late))
        self.assertEqual(self.items(letter, self.courtesy), self.term_lines(soon))
        self.assertEqual(late.dunning_level_id, self.first)
        self.assertEqual(soon.dunning_level_id, self.courtesy)
        self.assertEqual(run.state, "computed")
        self.assertEqual(letter.state, "to_send")

    def test_one_letter_per_customer_lists_deductions(self):
        """Credit notes and unmatched payments are listed as deductions and the
        totals are the open balance."""
        invoice = self.make_invoice(amount=1000, due=date(2026, 3, 1))
        refund = self.make_invoice(
            amount=150, due=date(2026, 3, 5), move_type="out_refund"
        )
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.customer.id,
                "amount": 100.0,
                "date": date(2026, 3, 10),
            }
        )
        payment.action_post()
        other = self.make_invoice(
            partner=self.customer_b, amount=500, due=date(2026, 3, 1)
        )
        run = self.run_dunning(date(2026, 3, 31))
        self.assertEqual(len(run.letter_ids), 2)
        letter = run.letter_ids.filtered(
            lambda letter: letter.partner_id == self.customer
        )
        kinds = {line.kind: line for line in letter.line_ids}
        self.assertEqual(set(kinds), {"invoice", "refund", "payment"})
        self.assertEqual(kinds["invoice"].move_id, invoice)
        self.assertEqual(kinds["refund"].move_id, refund)
        self.assertAlmostEqual(kinds["refund"].amount_residual, -150.0)
        self.assertAlmostEqual(kinds["payment"].amount_residual, -100.0)
        self.assertAlmostEqual(letter.amount_due, 750.0)
        self.assertEqual(self.items(letter, self.second), self.term_lines(invoice))
        self.assertFalse(kinds["refund"].level_id)
        other_letter = run.letter_ids - letter
        self.assertEqual(other_letter.line_ids.move_id, other)

    def test_old_debt_starts_below_formal_notice_then_escalates(self):
        """A 200-day-old debt first gets the highest ordinary reminder, and the
        formal notice only on a later run."""
        invoice = self.make_invoice(due=date(2025, 9, 1))
        first_run = self.run_dunning(date(2026, 3, 20))
        self.assertEqual(first_run.letter_ids.level_id, self.second)
        second_run = self.run_dunning(date(2026, 3, 21))
        self.assertEqual(second_run.letter_ids.level_id, self.notice)
        self.assertEqual(invoice.dunning_level_id, self.notice)
        third_run = self.run_dunning(date(2026, 6, 1))
        self.assertFalse(third_run.letter_ids, "no level left: nothing is sent again")

    def test_same_level_never_twice_and_next_run_escalates(self):
        invoice = self.make_invoice(due=date(2026, 3, 1))
        self.assertEqual(
            self.run_dunning(date(2026, 3, 9)).letter_ids.level_id, self.first
        )
        self.assertFalse(self.run_dunning(date(2026, 3, 15)).letter_ids)
        self.assertEqual(
            self.run_dunning(date(2026, 3, 22)).letter_ids.level_id, self.second
        )
        self.assertEqual(invoice.dunning_letter_count, 2)

    def test_running_twice_on_the_same_date_creates_nothing(self):
        self.make_invoice(due=date(2026, 3, 1))
        first = self.run_dunning(date(2026, 3, 10))
        self.assertEqual(len(first.letter_ids), 1)
        # A new late invoice of the same customer appears the same day: still one
        # letter per customer and day.
        self.make_invoice(due=date(2026, 2, 1))
        again = self.run_dunning(date(2026, 3, 10))
        self.assertFalse(again.letter_ids)

    def test_run_dated_before_the_last_run_is_refused(self):
        self.make_invoice(due=date(2026, 3, 1))
        self.run_dunning(date(2026, 3, 10))
        run = self.env["credit.dunning.run"].create({"date": date(2026, 3, 9)})
        with self.assertRaisesMessage(UserError, "before the last run"):
            run.action_compute()
        self.assertEqual(run.state, "draft")
        self.assertFalse(run.letter_ids)

    def test_installments_are_dunned_by_their_own_due_date(self):
        invoice = self.make_invoice(
            amount=2000, invoice_date=date(2026, 1, 1), term=self.split_term, due=None
        )
        first_installment, second_installment = self.term_lines(invoice).sorted(
            "date_maturity"
        )
        self.assertEqual(first_installment.date_maturity, date(2026, 1, 31))
        letter = self.run_dunning(date(2026, 2, 10)).letter_ids
        self.assertEqual(self.items(letter, self.first), first_installment)
        self.assertFalse(self.items(letter, self.courtesy))
        self.assertIn(second_installment, self.items(letter))
        self.assertEqual(first_installment.dunning_level_id, self.first)
        self.assertFalse(second_installment.dunning_level_id)

    def test_paid_and_partially_paid_items(self):
        paid = self.make_invoice(due=date(2026, 3, 1))
        self.pay(paid, 1000.0, on=date(2026, 3, 5))
        partial = self.make_invoice(
            partner=self.customer_b, amount=1000, due=date(2026, 3, 1)
        )
        self.pay(partial, 400.0, on=date(2026, 3, 5))
        run = self.run_dunning(date(2026, 3, 10))
        self.assertEqual(run.letter_ids.partner_id, self.customer_b)
        self.assertAlmostEqual(run.letter_ids.amount_due, 600.0)

    def test_holds_exclusions_and_tolerance(self):
        held = self.make_invoice(due=date(2026, 3, 1))
        held._set_dunning_hold("dispute", "Damaged goods")
        promised = self.make_invoice(partner=self.customer_b, due=date(2026, 3, 1))
        promised._set_dunning_hold("promise", "Pays on the 15th", date(2026, 3, 15))
        excluded = self.env["res.partner"].create(
            {"name": "Excluded", "dunning_excluded": True, "email": "x@x.example"}
        )
        self.make_invoice(partner=excluded, due=date(2026, 3, 1))
        small = self.env["res.partner"].create(
            {"name": "Small", "email": "s@s.example"}
        )
        self.make_invoice(partner=small, amount=4.0, due=date(2026, 3, 1))
        self.company.dunning_tolerance = 5.0
        self.assertFalse(self.run_dunning(date(2026, 3, 10)).letter_ids)
        # The promise ended on the 15th: from the 16th the item is dunned again.
        letters = self.run_dunning(date(2026, 3, 16)).letter_ids
        self.assertEqual(letters.partner_id, self.customer_b)
        self.assertEqual(letters.line_ids.move_id, promised)

    def test_excluded_items_hook(self):
        """The factoring feature plugs its exclusion into this hook."""
        invoice = self.make_invoice(due=date(2026, 3, 1))
        other = self.make_invoice(due=date(2026, 3, 2))
        with patch.object(
            type(self.env["account.move.line"]),
            "_get_dunning_excluded_domain",
            lambda self: [("move_id", "!=", invoice.id)],
        ):
            letter = self.run_dunning(date(2026, 3, 10)).letter_ids
        self.assertEqual(letter.line_ids.move_id, other)

    def test_policy_priority_invoice_then_customer_then_company(self):
        def single_level_policy(name, delay):
            return self.env["credit.dunning.policy"].create(
                {
                    "name": name,
                    "level_ids": [
                        Command.create(
                            {"name": name, "delay_days": delay, "send_email": True}
                        )
                    ],
                }
            )

        customer_policy = single_level_policy("Customer policy", 1)
        invoice_policy = single_level_policy("Invoice policy", 2)
        self.customer_b.with_company(self.company).dunning_policy_id = customer_policy
        by_default = self.make_invoice(due=date(2026, 3, 1))
        by_customer = self.make_invoice(partner=self.customer_b, due=date(2026, 3, 1))
        by_invoice = self.make_invoice(partner=self.customer_b, due=date(2026, 2, 27))
        by_invoice.dunning_policy_id = invoice_policy
        run = self.run_dunning(date(2026, 3, 10))
        self.assertEqual(self.term_lines(by_default).dunning_level_id, self.first)
        self.assertEqual(
            self.term_lines(by_customer).dunning_level_id, customer_policy.level_ids
        )
        self.assertEqual(
            self.term_lines(by_invoice).dunning_level_id, invoice_policy.level_ids
        )
        self.assertEqual(len(run.letter_ids), 2)

    def test_company_without_policy(self):
        self.policy.is_default = False
        self.make_invoice(due=date(2026, 3, 1))
        run = self.env["credit.dunning.run"].create({"date": date(2026, 3, 10)})
        with self.assertRaisesMessage(UserError, "has no dunning policy"):
            run.action_compute()
        self.assertFalse(
            self.env["credit.dunning.letter"].search([("run_id", "=", run.id)])
        )

    def test_multi_company_isolation(self):
        other = self.setup_other_company(name="Other FR")["company"]
        self.make_invoice(due=date(2026, 3, 1))
        with_other = self.env["credit.dunning.run"].with_company(other)
        run = with_other.create({"date": date(2026, 3, 10), "company_id": other.id})
        # The other company has invoices of none of our customers and no policy.
        run.action_compute()
        self.assertFalse(run.letter_ids)
        mine = self.run_dunning(date(2026, 3, 10))
        self.assertEqual(len(mine.letter_ids), 1)
        self.assertEqual(mine.letter_ids.company_id, self.company)

    def test_cancelled_letter_gives_the_level_back(self):
        invoice = self.make_invoice(due=date(2026, 3, 1))
        letter = self.run_dunning(date(2026, 3, 9)).letter_ids
        self.assertEqual(invoice.dunning_level_id, self.first)
        letter.action_cancel()
        self.assertFalse(invoice.dunning_level_id)
        self.assertEqual(
            self.run_dunning(date(2026, 3, 10)).letter_ids.level_id, self.first
        )

    @freeze_time("2026-03-10")
    def test_cron_runs_companies_with_automatic_dunning(self):
        self.make_invoice(due=date(2026, 3, 1))
        Run = self.env["credit.dunning.run"]
        Run._cron_daily()
        self.assertFalse(Run.search([("company_id", "=", self.company.id)]))
        self.company.dunning_auto = True
        self.policy.auto_send = True
        Run._cron_daily()
        run = Run.search([("company_id", "=", self.company.id)])
        self.assertEqual(run.date, date(2026, 3, 10))
        self.assertEqual(run.letter_ids.state, "sent")
        self.assertEqual(run.state, "done")

    @freeze_time("2026-03-10")
    def test_cron_leaves_letters_for_review(self):
        self.make_invoice(due=date(2026, 3, 1))
        self.company.dunning_auto = True
        self.env["credit.dunning.run"]._cron_daily()
        letter = self.env["credit.dunning.letter"].search(
            [("company_id", "=", self.company.id)]
        )
        self.assertEqual(letter.state, "to_send")
