from datetime import date
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import CreditCollectionCommon


@tagged("post_install", "-at_install")
class TestDunningRun(CreditCollectionCommon):
    def send(self, records, on):
        """Send the letters of runs (or letters) on that day, printing the postal
        ones, as a user does after reviewing them."""
        letters = (
            records.letter_ids if records._name == "credit.dunning.run" else records
        )
        with freeze_time(on):
            letters.filtered(lambda letter: letter.state == "to_send").action_send()
            letters.filtered(lambda letter: letter.state == "to_print").action_print()
        self.assertEqual(set(letters.mapped("state")), {"sent"})
        return letters

    def run_and_send(self, on):
        run = self.run_dunning(on)
        if run.letter_ids:
            self.send(run, on)
        return run

    def test_level_follows_the_delay_of_each_installment(self):
        """An item 8 days late gets the first reminder; one due in 3 days the
        courtesy reminder; the letter is at the highest level reached. The items
        take their level once the letter is sent, not before."""
        late = self.make_invoice(due=date(2026, 3, 23))
        soon = self.make_invoice(due=date(2026, 4, 3))
        run = self.run_dunning(date(2026, 3, 31))
        letter = run.letter_ids
        self.assertEqual(len(letter), 1)
        self.assertEqual(letter.level_id, self.first)
        self.assertEqual(self.items(letter, self.first), self.term_lines(late))
        self.assertEqual(self.items(letter, self.courtesy), self.term_lines(soon))
        self.assertEqual(run.state, "computed")
        self.assertEqual(letter.state, "to_send")
        self.assertFalse((late + soon).dunning_level_id, "nothing was sent yet")
        self.send(run, date(2026, 3, 31))
        self.assertEqual(late.dunning_level_id, self.first)
        self.assertEqual(soon.dunning_level_id, self.courtesy)
        self.assertEqual(run.state, "done")

    def test_formal_notice_waits_for_the_deadline_of_the_reminder(self):
        """Three customers got the second reminder, which gives eight days to pay:
        no formal notice goes out before those eight days have passed (it used to
        go out the next day)."""
        third = self.env["res.partner"].create(
            {"name": "Menuiserie Leroy", "email": "compta@leroy.example"}
        )
        customers = self.customer + self.customer_b + third
        invoices = [
            self.make_invoice(partner=customer, due=date(2025, 12, 1))
            for customer in customers
        ]
        reminders = self.run_and_send(date(2026, 3, 20)).letter_ids
        self.assertEqual(len(reminders), 3)
        self.assertEqual(reminders.level_id, self.second)
        self.assertEqual(self.second.payment_deadline_days, 8)
        self.assertEqual(self.notice.min_interval_days, 8)
        for day in range(21, 29):
            run = self.run_dunning(date(2026, 3, day))
            self.assertFalse(run.letter_ids, f"a letter went out on 2026-03-{day}")
        notices = self.run_and_send(date(2026, 3, 29)).letter_ids
        self.assertEqual(len(notices), 3)
        self.assertEqual(notices.level_id, self.notice)
        self.assertEqual(notices.partner_id, customers)
        for invoice in invoices:
            self.assertEqual(invoice.dunning_level_id, self.notice)

    def test_interval_counts_from_the_day_the_letter_was_sent(self):
        """A letter computed on the 20th but printed on the 25th gives its eight
        days from the 25th."""
        self.make_invoice(due=date(2025, 12, 1))
        run = self.run_dunning(date(2026, 3, 20))
        self.send(run, date(2026, 3, 25))
        self.assertEqual(run.letter_ids.sent_date, date(2026, 3, 25))
        self.assertFalse(self.run_dunning(date(2026, 4, 2)).letter_ids)
        self.assertEqual(
            self.run_dunning(date(2026, 4, 3)).letter_ids.level_id, self.notice
        )

    def test_interval_set_by_hand_on_the_level(self):
        self.notice.min_interval_days = 2
        self.make_invoice(due=date(2025, 12, 1))
        self.run_and_send(date(2026, 3, 20))
        self.assertFalse(self.run_dunning(date(2026, 3, 22)).letter_ids)
        self.assertEqual(
            self.run_dunning(date(2026, 3, 23)).letter_ids.level_id, self.notice
        )

    def test_waiting_letter_blocks_a_new_one_but_sets_no_level(self):
        """A letter not sent yet sets no level, and the next runs write no second
        letter about its items, neither at its level nor above, until it is
        sent or cancelled."""
        invoice = self.make_invoice(due=date(2026, 3, 1))
        letter = self.run_dunning(date(2026, 3, 9)).letter_ids
        self.assertEqual(letter.level_id, self.first)
        self.assertFalse(invoice.dunning_level_id)
        self.assertFalse(self.run_dunning(date(2026, 3, 10)).letter_ids)
        letter.action_draft()
        self.assertFalse(self.run_dunning(date(2026, 3, 22)).letter_ids)
        self.assertFalse(invoice.dunning_level_id)
        letter.action_confirm()
        self.send(letter, date(2026, 3, 22))
        self.assertEqual(invoice.dunning_level_id, self.first)
        # The reminder gave eight days from the 22nd.
        self.assertFalse(self.run_dunning(date(2026, 3, 30)).letter_ids)
        self.assertEqual(
            self.run_dunning(date(2026, 3, 31)).letter_ids.level_id, self.second
        )

    def test_waiting_item_is_listed_while_others_escalate(self):
        """An item whose letter waits is still listed, without a level, in the
        letter about the customer's other items."""
        waiting = self.make_invoice(due=date(2026, 3, 1))
        self.run_dunning(date(2026, 3, 9))
        other = self.make_invoice(due=date(2026, 3, 2))
        letter = self.run_dunning(date(2026, 3, 10)).letter_ids
        self.assertEqual(self.items(letter, self.first), self.term_lines(other))
        self.assertIn(self.term_lines(waiting), self.items(letter))
        self.assertFalse(
            letter.line_ids.filtered(lambda line: line.move_id == waiting).level_id
        )

    def test_customer_without_email_is_flagged_when_the_letter_is_computed(self):
        self.customer_b.email = False
        self.make_invoice(due=date(2026, 3, 1))
        self.make_invoice(partner=self.customer_b, due=date(2026, 3, 1))
        letters = self.run_dunning(date(2026, 3, 9)).letter_ids
        with_email = letters.filtered(lambda letter: letter.partner_id == self.customer)
        without = letters - with_email
        self.assertEqual(without.state, "to_send")
        self.assertTrue(without.email_fallback)
        self.assertTrue(without.send_letter, "it will go by post")
        self.assertFalse(with_email.email_fallback)
        self.assertFalse(with_email.send_letter)
        flagged = self.env["credit.dunning.letter"].search(
            [("run_id", "=", letters.run_id.id), ("email_fallback", "=", True)]
        )
        self.assertEqual(flagged, without)

    def test_invoice_contact_with_email_is_no_fallback(self):
        self.customer.email = False
        self.env["res.partner"].create(
            {
                "name": "Comptabilité",
                "type": "invoice",
                "parent_id": self.customer.id,
                "email": "factures@martin.example",
            }
        )
        self.make_invoice(due=date(2026, 3, 1))
        letter = self.run_dunning(date(2026, 3, 9)).letter_ids
        self.assertFalse(letter.email_fallback)
        self.assertEqual(letter.contact_id.email, "factures@martin.example")

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
        formal notice only on a later run, once the reminder's deadline passed."""
        invoice = self.make_invoice(due=date(2025, 9, 1))
        first_run = self.run_and_send(date(2026, 3, 20))
        self.assertEqual(first_run.letter_ids.level_id, self.second)
        self.assertEqual(invoice.dunning_level_id, self.second)
        second_run = self.run_and_send(date(2026, 3, 29))
        self.assertEqual(second_run.letter_ids.level_id, self.notice)
        self.assertEqual(invoice.dunning_level_id, self.notice)
        third_run = self.run_dunning(date(2026, 6, 1))
        self.assertFalse(third_run.letter_ids, "no level left: nothing is sent again")

    def test_same_level_never_twice_and_next_run_escalates(self):
        invoice = self.make_invoice(due=date(2026, 3, 1))
        self.assertEqual(
            self.run_and_send(date(2026, 3, 9)).letter_ids.level_id, self.first
        )
        self.assertFalse(self.run_dunning(date(2026, 3, 15)).letter_ids)
        self.assertEqual(
            self.run_and_send(date(2026, 3, 22)).letter_ids.level_id, self.second
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
        letter = self.run_and_send(date(2026, 2, 10)).letter_ids
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
        run = self.run_and_send(date(2026, 3, 10))
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

    def test_cancelled_letter_frees_its_items(self):
        invoice = self.make_invoice(due=date(2026, 3, 1))
        letter = self.run_dunning(date(2026, 3, 9)).letter_ids
        letter.action_cancel()
        self.assertFalse(invoice.dunning_level_id)
        again = self.run_dunning(date(2026, 3, 10)).letter_ids
        self.assertEqual(again.level_id, self.first)
        self.send(again, date(2026, 3, 10))
        self.assertEqual(invoice.dunning_level_id, self.first)

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

    def _count_compute_queries(self, on):
        run = self.env["credit.dunning.run"].create({"date": on})
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.cr.sql_log_count
        run.action_compute()
        self.env.flush_all()
        return self.cr.sql_log_count - before, run

    def test_compute_queries_do_not_grow_with_the_data(self):
        """Items, history, letters and their items: the same number of queries for
        two customers as for six, with a sent history and a waiting letter."""

        def customers(count, prefix):
            return self.env["res.partner"].create(
                [
                    {"name": f"{prefix} {index}", "email": f"{prefix}{index}@x.example"}
                    for index in range(count)
                ]
            )

        # A first run fills the caches of the registry (access rights, sequences).
        self.make_invoice(partner=customers(1, "warm"), due=date(2026, 1, 1))
        self._count_compute_queries(date(2026, 3, 1))
        for partner in customers(2, "small"):
            self.make_invoice(partner=partner, due=date(2026, 2, 1))
            self.make_invoice(partner=partner, due=date(2026, 2, 20))
        small_count, small = self._count_compute_queries(date(2026, 3, 10))
        self.assertEqual(len(small.letter_ids), 2)
        self.send(small.letter_ids[:1], date(2026, 3, 10))
        for partner in customers(6, "large"):
            self.make_invoice(partner=partner, due=date(2026, 2, 1))
            self.make_invoice(partner=partner, due=date(2026, 2, 20))
        large_count, large = self._count_compute_queries(date(2026, 3, 20))
        self.assertEqual(len(large.letter_ids), 7)
        self.assertEqual(large_count, small_count)
