from datetime import date
from unittest.mock import patch

from freezegun import freeze_time
from psycopg2.errors import UniqueViolation

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..models.account_move_penalty import PENALTY_LOCK_KEY
from .common import CreditCollectionCommon


@tagged("post_install", "-at_install")
class TestPenaltyJobs(CreditCollectionCommon):
    """Claims never lost or overstated; jobs that survive bad data (issue 6)."""

    def interest(self, move):
        return move.penalty_line_ids.filtered(
            lambda line: line.kind == "interest"
        ).sorted("date_from")

    def cron(self, on):
        with freeze_time(on):
            self.env["account.move"]._cron_compute_late_penalties()

    # ------------------------------------------------------------ lost periods

    def test_an_invoice_paid_between_two_runs_is_claimed_up_to_its_payment(self):
        invoice = self.make_invoice(amount=10000, due=date(2026, 1, 31))
        self.cron("2026-02-28")
        self.assertEqual(self.interest(invoice).mapped("date_to"), [date(2026, 2, 28)])
        self.pay(invoice, 10000, on=date(2026, 3, 20))
        self.assertIn(invoice.payment_state, ("in_payment", "paid"))
        self.cron("2026-03-31")
        lines = self.interest(invoice)
        self.assertEqual(lines.mapped("date_from"), [date(2026, 2, 1)])
        self.assertEqual(lines.mapped("date_to"), [date(2026, 3, 20)])
        self.assertEqual(lines.days, 48)
        # Covered now: the next run leaves it alone (its drafts stay as they are).
        before = lines.ids
        self.cron("2026-04-30")
        self.assertEqual(self.interest(invoice).ids, before)

    def test_a_refresh_rewrites_only_the_lines_that_changed(self):
        invoice = self.make_invoice(amount=10000, due=date(2025, 11, 30))
        self.cron("2026-02-28")
        closed, running = self.interest(invoice)
        indemnity = invoice.penalty_line_ids.filtered(
            lambda line: line.kind == "indemnity"
        )
        self.assertEqual(running.date_to, date(2026, 2, 28))
        # The same day again: nothing to rewrite.
        again = invoice.compute_late_penalties(date(2026, 2, 28))
        self.assertEqual(set(again.ids), {closed.id, running.id, indemnity.id})
        # A month later: the closed half-year and the indemnity stay as they were,
        # the running period is replaced.
        self.cron("2026-03-31")
        closed_after, running_after = self.interest(invoice)
        self.assertEqual(closed_after, closed)
        self.assertTrue(indemnity.exists())
        self.assertFalse(running.exists())
        self.assertEqual(running_after.date_to, date(2026, 3, 31))
        self.assertEqual(
            (closed_after | running_after | indemnity),
            invoice.penalty_line_ids,
        )

    def test_the_days_after_an_invoiced_period_are_claimed_when_paid_late(self):
        invoice = self.make_invoice(amount=1000, due=date(2026, 1, 31))
        self.cron("2026-02-28")
        self.interest(invoice)._create_penalty_invoices(date(2026, 3, 1))
        self.pay(invoice, 1000, on=date(2026, 3, 10))
        self.cron("2026-03-31")
        drafts = self.interest(invoice).filtered(lambda line: line.state == "draft")
        self.assertEqual(
            (drafts.date_from, drafts.date_to), (date(2026, 3, 1), date(2026, 3, 10))
        )

    def test_an_early_installment_is_claimed_while_the_last_is_not_due(self):
        invoice = self.make_invoice(
            amount=1000, invoice_date=date(2026, 1, 1), term=self.split_term, due=None
        )
        self.assertEqual(invoice.invoice_date_due, date(2026, 3, 2))
        self.cron("2026-02-20")
        lines = self.interest(invoice)
        self.assertEqual(lines.mapped("date_maturity"), [date(2026, 1, 31)])
        self.assertEqual(lines.mapped("base_amount"), [500.0])

    # ------------------------------------------------------------ consumers

    def test_consumer_interest_never_starts_before_the_due_date(self):
        self.customer.debtor_type = "consumer"
        invoice = self.make_invoice(amount=1200, due=date(2026, 2, 15))
        invoice.formal_notice_received_date = date(2026, 2, 1)
        invoice.compute_late_penalties(date(2026, 3, 16))
        self.assertEqual(self.interest(invoice).date_from, date(2026, 2, 16))

    def test_judgment_uplift_starts_the_day_after_two_months_expire(self):
        self.customer.debtor_type = "consumer"
        invoice = self.make_invoice(amount=3000, due=date(2025, 12, 31))
        invoice.write(
            {
                "formal_notice_received_date": date(2025, 12, 31),
                "judgment_enforceable_date": date(2026, 1, 15),
            }
        )
        invoice.compute_late_penalties(date(2026, 4, 14))
        self.assertEqual(
            [(line.date_from, line.rate) for line in self.interest(invoice)],
            [(date(2026, 1, 1), 2.62), (date(2026, 3, 16), 7.62)],
        )

    # ------------------------------------------------------------ penalty invoices

    def test_a_penalty_invoice_never_bears_penalties(self):
        invoice = self.make_invoice(amount=10000, due=date(2026, 1, 31))
        lines = invoice.compute_late_penalties(date(2026, 3, 31))
        penalty_invoice = lines._create_penalty_invoices(date(2026, 3, 31))
        penalty_invoice.invoice_date_due = date(2026, 3, 31)
        penalty_invoice.action_post()
        self.assertTrue(penalty_invoice.is_penalty_invoice)
        self.assertFalse(penalty_invoice._get_penalty_mention())
        self.cron("2026-06-30")
        self.assertFalse(penalty_invoice.penalty_line_ids)
        self.assertTrue(
            invoice.penalty_line_ids.filtered(lambda ln: ln.state == "draft")
        )
        with self.assertRaisesMessage(UserError, "is a penalty invoice"):
            penalty_invoice.compute_late_penalties(date(2026, 6, 30))
        with self.assertRaisesMessage(UserError, "other than penalty invoices"):
            penalty_invoice.action_compute_late_penalties()
        # The statement wizard and the letters go through the batch, which skips it.
        _lines, report = penalty_invoice._compute_late_penalties_batch(
            date(2026, 6, 30)
        )
        self.assertFalse(penalty_invoice.penalty_line_ids)

    # ------------------------------------------------------------ unmatched credits

    def test_unmatched_credit_flags_the_lines_and_asks_for_confirmation(self):
        invoice = self.make_invoice(amount=1000, due=date(2026, 1, 31))
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.customer.id,
                "amount": 1000,
                "date": date(2026, 2, 15),
            }
        )
        payment.action_post()
        lines = invoice.compute_late_penalties(date(2026, 3, 31))
        interest = lines.filtered(lambda line: line.kind == "interest")
        self.assertEqual(interest.unmatched_credit_amount, 1000.0)
        self.assertEqual(interest.unmatched_credit_date, date(2026, 2, 15))
        wizard = (
            self.env["credit.penalty.invoice.wizard"]
            .with_context(active_model="credit.penalty.line", active_ids=lines.ids)
            .create({"invoice_date": date(2026, 4, 1)})
        )
        self.assertIn("unmatched", wizard.unmatched_warning)
        with self.assertRaisesMessage(UserError, "Match them first"):
            wizard.action_create_invoices()
        self.assertFalse(lines.penalty_move_id)
        wizard.confirm_unmatched = True
        wizard.action_create_invoices()
        self.assertTrue(lines.penalty_move_id)

    def test_no_flag_without_unmatched_credit(self):
        invoice = self.make_invoice(amount=1000, due=date(2026, 1, 31))
        lines = invoice.compute_late_penalties(date(2026, 3, 31))
        self.assertFalse(any(lines.mapped("unmatched_credit_amount")))

    # ------------------------------------------------------------ indemnity

    def test_indemnity_is_fixed_and_more_needs_proof(self):
        self.assertNotIn("indemnity_amount", self.env["credit.penalty.rule"]._fields)
        invoice = self.make_invoice(amount=1000, due=date(2026, 1, 31))
        lines = invoice.compute_late_penalties(date(2026, 3, 31))
        self.assertEqual(
            lines.filtered(lambda line: line.kind == "indemnity").amount, 40.0
        )
        wizard = (
            self.env["credit.penalty.compensation.wizard"]
            .with_context(active_model="account.move", active_id=invoice.id)
            .create({"amount": 120.0, "reason": "Collection agency fees"})
        )
        with self.assertRaisesMessage(ValidationError, "on proof only"):
            wizard.action_add()
        proof = self.env["ir.attachment"].create(
            {"name": "agency.pdf", "raw": b"%PDF-1.4 agency invoice"}
        )
        wizard.attachment_ids = proof
        costs = wizard.action_add()
        self.assertEqual((costs.kind, costs.amount), ("compensation", 120.0))
        self.assertEqual(proof.res_id, invoice.id)
        # A refresh of the computed lines keeps the costs entered by hand.
        invoice.compute_late_penalties(date(2026, 4, 30))
        self.assertIn(costs, invoice.penalty_line_ids)
        penalty_invoice = invoice.penalty_line_ids._create_penalty_invoices(
            date(2026, 5, 1)
        )
        self.assertIn(
            self.env.ref("l10n_fr_credit_collection.product_penalty_compensation"),
            penalty_invoice.invoice_line_ids.product_id,
        )

    def test_penalty_invoice_refused_without_income_accounts(self):
        self.company.penalty_interest_account_id = False
        invoice = self.make_invoice(amount=1000, due=date(2026, 1, 31))
        lines = invoice.compute_late_penalties(date(2026, 3, 31))
        with self.assertRaisesMessage(UserError, "no income accounts"):
            lines._create_penalty_invoices(date(2026, 4, 1))
        self.assertEqual(set(lines.mapped("state")), {"draft"})

    # ------------------------------------------------------------ concurrency

    def test_a_second_computation_at_once_is_refused(self):
        invoice = self.make_invoice(amount=1000, due=date(2026, 1, 31))
        with self.env.registry.cursor() as other_cursor:
            other_cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)",
                [PENALTY_LOCK_KEY, self.company.id],
            )
            with self.assertRaisesMessage(UserError, "being computed"):
                invoice.compute_late_penalties(date(2026, 3, 31))
            other_cursor.rollback()
        self.assertFalse(invoice.penalty_line_ids)
        self.assertTrue(invoice.compute_late_penalties(date(2026, 3, 31)))

    def test_the_database_refuses_the_same_days_twice(self):
        invoice = self.make_invoice(amount=1000, due=date(2026, 1, 31))
        lines = invoice.compute_late_penalties(date(2026, 3, 31))
        interest = lines.filtered(lambda line: line.kind == "interest")
        indemnity = lines - interest
        columns = ["company_id", "move_id", "date_maturity", "partner_id", "kind"]
        columns += ["state", "date_from", "date_to", "amount", "currency_id"]
        for line in (interest, indemnity):
            vals = line._convert_to_write(line.read(columns)[0])
            vals.pop("id")
            with (
                mute_logger("odoo.sql_db"),
                self.assertRaises(UniqueViolation),
                self.cr.savepoint(),
            ):
                self.env["credit.penalty.line"]._bulk_create([vals])

    # ------------------------------------------------------------ batch jobs

    def test_the_monthly_job_survives_a_missing_half_year(self):
        """2026-H2 is not shipped: the job claims up to 30 June, leaves July on
        for a later run, and tells the managers once."""
        invoice = self.make_invoice(amount=1000, due=date(2026, 5, 31))
        with self.assertRaisesMessage(UserError, "2026-H2"):
            invoice.compute_late_penalties(date(2026, 8, 31))
        self.cron("2026-08-31")
        self.assertEqual(self.interest(invoice).mapped("date_to"), [date(2026, 6, 30)])
        self.cron("2026-09-30")
        self.assertEqual(self.interest(invoice).mapped("date_to"), [date(2026, 6, 30)])
        activities = self.env["mail.activity"].search([("summary", "ilike", "2026-H2")])
        self.assertEqual(len(activities), 1, activities.mapped("summary"))
        # Once the rate is added, the next run claims the rest.
        self.env["credit.reference.rate"].create(
            {"kind": "ecb_mro", "date_from": date(2026, 7, 1), "rate": 2.15}
        )
        self.cron("2026-10-31")
        self.assertEqual(
            self.interest(invoice).mapped("date_to"),
            [date(2026, 6, 30), date(2026, 10, 31)],
        )

    def test_one_bad_invoice_or_company_never_stops_the_others(self):
        other = self.setup_other_company(name="Other FR")["company"]
        self.env.user.company_ids |= other
        good = self.make_invoice(amount=1000, due=date(2026, 1, 31))
        bad = self.make_invoice(partner=self.customer_b, due=date(2026, 1, 31))
        original_invoice = type(
            self.env["account.move"]
        )._prepare_penalty_lines_of_invoice

        def failing_invoice(move, *args):
            if move == bad:
                raise ValueError("corrupt invoice")
            return original_invoice(move, *args)

        with patch.object(
            type(self.env["account.move"]),
            "_prepare_penalty_lines_of_invoice",
            failing_invoice,
        ):
            self.cron("2026-03-31")
            self.cron("2026-03-31")
        self.assertTrue(good.penalty_line_ids)
        self.assertFalse(bad.penalty_line_ids)
        told = self.env["mail.activity"].search(
            [("res_id", "=", self.company.partner_id.id)]
        )
        self.assertEqual(len(told), 1, "one activity, not one per run")
        self.assertIn(bad.name, str(told.note))
        self.assertIn("corrupt invoice", str(told.note))
        # A whole company failing leaves the others computed.
        original = type(self.env["account.move"])._compute_late_penalties_batch

        def failing(moves, as_of):
            if moves.company_id == self.company:
                raise ValueError("broken company")
            return original(moves, as_of)

        other_invoice = self.make_invoice(due=date(2026, 1, 31), company=other)
        with (
            patch.object(
                type(self.env["account.move"]), "_compute_late_penalties_batch", failing
            ),
            mute_logger(
                "odoo.addons.l10n_fr_credit_collection.models.credit_company_job"
            ),
        ):
            self.cron("2026-04-30")
        self.assertTrue(other_invoice.penalty_line_ids)
        self.assertIn(
            "broken company",
            str(
                self.env["mail.activity"]
                .search([("res_id", "=", self.company.partner_id.id)])
                .mapped("note")
            ),
        )

    # ------------------------------------------------------------ history kept

    def test_history_survives_recreated_receivable_lines(self):
        invoice = self.make_invoice(
            amount=1000, invoice_date=date(2026, 1, 1), term=self.split_term, due=None
        )
        invoice.compute_late_penalties(date(2026, 4, 30))
        waived = self.interest(invoice)
        waived.action_waive("Gesture")
        items_before = {line: line.move_line_id for line in waived}
        dues_before = {line: line.move_line_id.date_maturity for line in waived}
        letter = self.run_dunning(date(2026, 4, 10)).letter_ids
        self.assertEqual(len(letter.line_ids), 2)
        # One installment instead of two: Odoo deletes one of the journal items.
        old_items = self.term_lines(invoice)
        invoice.button_draft()
        invoice.write({"invoice_payment_term_id": False})
        invoice.invoice_date_due = date(2026, 1, 31)
        invoice.action_post()
        gone = old_items - old_items.exists()
        self.assertEqual(len(gone), 1)
        detached = waived.filtered(lambda line: items_before[line] == gone)
        self.assertTrue(detached)
        self.assertTrue(detached.exists())
        self.assertEqual(set(detached.mapped("state")), {"waived"})
        self.assertFalse(detached.move_line_id)
        for line in detached:
            self.assertEqual(line.date_maturity, dues_before[line])
        self.assertEqual(len(letter.line_ids), 2)
        self.assertEqual(letter.line_ids.move_id, invoice)
        self.assertIn(letter, invoice.dunning_letter_ids)

    # ------------------------------------------------------------ new companies

    def test_a_new_company_gets_the_standard_policy_and_rule(self):
        company = self.env["res.company"].create({"name": "Nouvelle SARL"})
        policy = self.env["credit.dunning.policy"]._get_company_default(company)
        rule = self.env["credit.penalty.rule"]._get_company_default(company)
        self.assertTrue(policy.id and rule.id)
        self.assertEqual(
            len(policy.level_ids),
            len(
                self.env.ref(
                    "l10n_fr_credit_collection.credit_dunning_policy_standard"
                ).level_ids
            ),
        )
        self.assertEqual(rule.regime, "b2b_legal")
        self.assertEqual(fields.first(policy.level_ids).company_id, company)

    # ------------------------------------------------------------ letters

    def test_a_run_showing_penalties_survives_a_missing_half_year(self):
        self.company.dunning_show_penalties = True
        invoice = self.make_invoice(amount=1000, due=date(2026, 6, 10))
        run = self.run_dunning(date(2026, 7, 20))
        item = run.letter_ids.line_ids.filtered(lambda line: line.move_id == invoice)
        # 20 days of June at 12.15 %, July waits for its rate; and the 40 EUR.
        self.assertEqual(item.penalty_interest, 6.66)
        self.assertEqual(item.penalty_indemnity, 40.0)
        self.assertEqual(item.penalty_start_date, date(2026, 6, 11))
        self.assertEqual(
            self.env["mail.activity"].search_count([("summary", "ilike", "2026-H2")]),
            1,
        )

    def test_letter_penalties_are_frozen_when_sent(self):
        self.company.dunning_show_penalties = True
        invoice = self.make_invoice(amount=10000, due=date(2026, 1, 31))
        run = self.run_dunning(date(2026, 3, 10))
        letter = run.letter_ids
        with freeze_time("2026-03-12"):
            letter.action_send()
        item = letter.line_ids.filtered(lambda line: line.move_id == invoice)
        # 40 days (1 Feb - 12 Mar) at 12.15 % on 10,000: computed on sending day.
        self.assertEqual(item.penalty_interest, 133.15)
        self.assertEqual(item.penalty_rates, "12.15 %")
        frozen = (item.penalty_interest, item.penalty_indemnity, item.penalty_amount)
        invoice.compute_late_penalties(date(2026, 5, 31))
        self.pay(invoice, 10000, on=date(2026, 6, 1))
        self.assertEqual(
            (item.penalty_interest, item.penalty_indemnity, item.penalty_amount),
            frozen,
        )
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html(
                "l10n_fr_credit_collection.action_report_dunning_letter", letter.ids
            )[0]
            .decode()
        )
        self.assertIn("173.15", html)
