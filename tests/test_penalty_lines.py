from datetime import date

from freezegun import freeze_time
from psycopg2.errors import UniqueViolation

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, new_test_user, tagged
from odoo.tools import mute_logger

from .common import CreditCollectionCommon


@tagged("post_install", "-at_install")
class TestPenaltyLines(CreditCollectionCommon):
    """compute_late_penalties on real invoices, payments and credit notes."""

    def lines(self, move, kind="interest"):
        return move.penalty_line_ids.filtered(
            lambda line: line.kind == kind and line.state == "draft"
        ).sorted("date_from")

    def test_example_a_on_a_real_invoice(self):
        """LAW.md example A: 10,000 due 2026-01-31, paid 2026-04-15."""
        invoice = self.make_invoice(amount=10000, due=date(2026, 1, 31))
        self.pay(invoice, 10000, on=date(2026, 4, 15))
        lines = invoice.compute_late_penalties(date(2026, 5, 31))
        indemnity = lines.filtered(lambda line: line.kind == "indemnity")
        self.assertEqual(
            (indemnity.amount, indemnity.currency_id), (40.0, self.company.currency_id)
        )
        self.assertRecordValues(
            lines - indemnity,
            [
                {
                    "kind": "interest",
                    "date_from": date(2026, 2, 1),
                    "date_to": date(2026, 4, 15),
                    "days": 74,
                    "base_amount": 10000.0,
                    "rate": 12.15,
                    "amount": 246.33,
                }
            ],
        )

    def test_example_b_across_two_half_years(self):
        invoice = self.make_invoice(amount=5000, due=date(2025, 5, 31))
        self.pay(invoice, 5000, on=date(2025, 8, 20))
        invoice.compute_late_penalties(date(2025, 9, 30))
        self.assertEqual(self.lines(invoice).mapped("amount"), [54.04, 84.88])
        self.assertEqual(self.lines(invoice).mapped("rate"), [13.15, 12.15])

    def test_partial_payment_and_credit_note_lower_the_base(self):
        invoice = self.make_invoice(amount=1000, due=date(2026, 1, 31))
        self.pay(invoice, 400, on=date(2026, 2, 10))
        refund = self.make_invoice(
            amount=100, due=date(2026, 2, 20), move_type="out_refund"
        )
        (invoice.line_ids + refund.line_ids).filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        ).reconcile()
        invoice.compute_late_penalties(date(2026, 3, 31))
        lines = self.lines(invoice)
        self.assertEqual(lines.mapped("base_amount"), [1000.0, 600.0, 500.0])
        self.assertEqual(
            lines.mapped("date_to"),
            [date(2026, 2, 10), date(2026, 2, 20), date(2026, 3, 31)],
        )
        self.assertEqual(lines.mapped("amount"), [3.33, 2.0, 6.49])

    def test_paid_on_time_owes_nothing(self):
        invoice = self.make_invoice(amount=1000, due=date(2026, 1, 31))
        self.pay(invoice, 1000, on=date(2026, 1, 31))
        self.assertFalse(invoice.compute_late_penalties(date(2026, 3, 31)))

    def test_installments_each_from_their_own_due_date(self):
        invoice = self.make_invoice(
            amount=1000, invoice_date=date(2026, 1, 1), term=self.split_term, due=None
        )
        invoice.compute_late_penalties(date(2026, 3, 31))
        lines = self.lines(invoice)
        self.assertEqual(
            lines.mapped("date_from"), [date(2026, 2, 1), date(2026, 3, 3)]
        )
        self.assertEqual(lines.mapped("amount"), [9.82, 4.83])
        self.assertEqual(
            len(self.lines(invoice, "indemnity")), 1, "one indemnity per invoice"
        )

    def test_refresh_keeps_invoiced_and_waived_lines(self):
        invoice = self.make_invoice(amount=10000, due=date(2026, 1, 31))
        first = invoice.compute_late_penalties(date(2026, 2, 28))
        interest = first.filtered(lambda line: line.kind == "interest")
        indemnity = first - interest
        interest.action_waive("Goodwill")
        self.assertIn("Goodwill", invoice.message_ids[0].body)
        indemnity._create_penalty_invoices(date(2026, 3, 1))
        again = invoice.compute_late_penalties(date(2026, 3, 31))
        self.assertEqual(interest.state, "waived")
        self.assertEqual(indemnity.state, "invoiced")
        self.assertRecordValues(
            again,
            [
                {
                    "kind": "interest",
                    "date_from": date(2026, 3, 1),
                    "date_to": date(2026, 3, 31),
                    "days": 31,
                    "amount": 103.19,
                },
            ],
        )
        # A later refresh replaces the draft line, never duplicates it.
        latest = invoice.compute_late_penalties(date(2026, 4, 15))
        self.assertFalse(again.exists())
        self.assertEqual(latest.mapped("days"), [46])

    def test_consumer_owes_legal_interest_only_after_formal_notice(self):
        consumer = self.env["res.partner"].create(
            {"name": "Sophie Bernard", "debtor_type": "consumer"}
        )
        invoice = self.make_invoice(
            partner=consumer, amount=1200, due=date(2026, 2, 15)
        )
        self.assertFalse(invoice.compute_late_penalties(date(2026, 5, 9)))
        invoice.formal_notice_received_date = date(2026, 3, 10)
        self.pay(invoice, 1200, on=date(2026, 5, 9))
        lines = invoice.compute_late_penalties(date(2026, 5, 31))
        self.assertRecordValues(
            lines, [{"kind": "interest", "days": 60, "rate": 2.62, "amount": 5.17}]
        )

    def test_contractual_rule_floor_and_validation(self):
        rule = self.env["credit.penalty.rule"].create(
            {"name": "CGV 5 %", "regime": "b2b_contractual", "contractual_rate": 5.0}
        )
        self.customer.with_company(self.company).penalty_rule_id = rule
        invoice = self.make_invoice(amount=10000, due=date(2026, 1, 31))
        lines = invoice.compute_late_penalties(date(2026, 4, 15))
        interest = lines.filtered(lambda line: line.kind == "interest")
        self.assertEqual(
            (interest.rate, interest.amount, interest.floor_applied),
            (7.86, 159.35, True),
        )
        with self.assertRaisesMessage(ValidationError, "has none"):
            self.env["credit.penalty.rule"].create(
                {"name": "No rate", "regime": "b2b_contractual"}
            )
        with self.assertRaisesMessage(ValidationError, "between 0 and 100"):
            rule.contractual_rate = 120

    def test_missing_rate_stops_with_the_half_year(self):
        invoice = self.make_invoice(amount=1000, due=date(2026, 6, 15))
        other = self.make_invoice(amount=1000, due=date(2026, 1, 31))
        with self.assertRaisesMessage(UserError, "2026-H2"):
            (other + invoice).compute_late_penalties(date(2026, 7, 10))
        self.assertFalse((other + invoice).penalty_line_ids, "nothing half-written")

    def test_bad_input(self):
        refund = self.make_invoice(
            amount=100, due=date(2026, 1, 31), move_type="out_refund"
        )
        with self.assertRaisesMessage(UserError, "is a credit note"):
            refund.compute_late_penalties(date(2026, 3, 1))
        rate = self.env["credit.reference.rate"].search([], limit=1)
        with self.assertRaisesMessage(ValidationError, "between 0"):
            rate.rate = -1
        with self.assertRaisesMessage(ValidationError, "between 0"):
            rate.rate = 101
        with self.assertRaisesMessage(ValidationError, "1 January or 1 July"):
            rate.date_from = date(2026, 2, 1)
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaises(UniqueViolation),
            self.cr.savepoint(),
        ):
            rate.copy()

    def test_invoice_without_due_date(self):
        invoice = self.make_invoice(amount=1000, due=date(2026, 1, 31))
        installment = self.term_lines(invoice)
        self.env.flush_all()
        self.cr.execute(
            "UPDATE account_move_line SET date_maturity = NULL WHERE id = %s",
            [installment.id],
        )
        installment.invalidate_recordset(["date_maturity"])
        with self.assertRaisesMessage(UserError, "has no due date"):
            invoice.compute_late_penalties(date(2026, 3, 31))
        self.assertFalse(invoice.penalty_line_ids)

    def test_foreign_currency_invoice_in_its_own_currency(self):
        usd = self.setup_other_currency("USD")
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.customer.id,
                "currency_id": usd.id,
                "invoice_date": date(2026, 1, 31),
                "invoice_date_due": date(2026, 1, 31),
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Service",
                            "price_unit": 10000,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
        invoice.action_post()
        lines = invoice.compute_late_penalties(date(2026, 4, 15))
        interest = lines.filtered(lambda line: line.kind == "interest")
        self.assertEqual(
            (interest.currency_id, interest.base_amount, interest.amount),
            (usd, 10000.0, 246.33),
        )

    def test_multi_company_isolation(self):
        other = self.setup_other_company(name="Other FR")["company"]
        invoice = self.make_invoice(amount=1000, due=date(2026, 1, 31))
        invoice.compute_late_penalties(date(2026, 3, 31))
        outsider = new_test_user(
            self.env,
            login="outsider",
            groups="l10n_fr_credit_collection.group_credit_collection_manager",
            company_id=other.id,
            company_ids=[other.id],
        )
        self.assertFalse(self.env(user=outsider)["credit.penalty.line"].search([]))

    def test_only_managers_waive_or_edit_rates(self):
        collector = new_test_user(
            self.env,
            login="collector",
            groups="l10n_fr_credit_collection.group_credit_collection_user",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        invoice = self.make_invoice(amount=1000, due=date(2026, 1, 31))
        lines = invoice.with_user(collector).compute_late_penalties(date(2026, 3, 31))
        self.assertTrue(lines)
        with self.assertRaises(AccessError):
            lines.with_user(collector).action_waive("Because")
        with self.assertRaises(AccessError):
            lines.with_user(collector).write({"state": "waived"})
        rate = self.env["credit.reference.rate"].search([], limit=1)
        with self.assertRaises(AccessError):
            rate.with_user(collector).rate = 1.0
        self.assertEqual(set(lines.mapped("state")), {"draft"})

    def test_penalty_invoice_round_trip(self):
        invoice = self.make_invoice(amount=10000, due=date(2026, 1, 31))
        invoice_b = self.make_invoice(
            partner=self.customer_b, amount=5000, due=date(2026, 1, 31)
        )
        lines = (invoice + invoice_b).compute_late_penalties(date(2026, 4, 15))
        wizard = (
            self.env["credit.penalty.invoice.wizard"]
            .with_context(active_model="credit.penalty.line", active_ids=lines.ids)
            .create({"invoice_date": date(2026, 4, 16)})
        )
        wizard.action_create_invoices()
        penalty_invoices = lines.penalty_move_id
        self.assertEqual(len(penalty_invoices), 2)
        mine = penalty_invoices.filtered(lambda move: move.partner_id == self.customer)
        self.assertAlmostEqual(mine.amount_total, 286.33)
        self.assertFalse(mine.invoice_line_ids.tax_ids)
        self.assertEqual(
            mine.invoice_line_ids.product_id,
            self.env.ref("l10n_fr_credit_collection.product_penalty_interest")
            + self.env.ref("l10n_fr_credit_collection.product_penalty_indemnity"),
        )
        statement = self.env["ir.attachment"].search(
            [("res_model", "=", "account.move"), ("res_id", "=", mine.id)]
        )
        self.assertEqual(len(statement), 1)
        self.assertIn(b"246", statement.raw)
        self.assertEqual(set(lines.mapped("state")), {"invoiced"})
        mine.action_post()
        mine.button_draft()
        mine.button_cancel()
        mine_lines = lines.filtered(lambda line: line.partner_id == self.customer)
        self.assertEqual(set(mine_lines.mapped("state")), {"draft"})
        self.assertFalse(mine_lines.penalty_move_id)

    def test_penalty_invoice_bad_input(self):
        other = self.setup_other_company(name="Other FR")["company"]
        self.env.user.company_ids |= other
        invoice = self.make_invoice(amount=1000, due=date(2026, 1, 31))
        lines = invoice.compute_late_penalties(date(2026, 3, 31))
        invoice_other = self.make_invoice(due=date(2026, 1, 31), company=other)
        foreign = invoice_other.with_company(other).compute_late_penalties(
            date(2026, 3, 31)
        )
        with self.assertRaisesMessage(UserError, "several companies"):
            (lines + foreign)._create_penalty_invoices(date(2026, 4, 1))
        self.assertFalse(lines.penalty_move_id)
        lines.action_waive("Gesture")
        with self.assertRaisesMessage(UserError, "not to invoice"):
            lines._create_penalty_invoices(date(2026, 4, 1))

    def test_cron_computes_every_open_late_invoice(self):
        late = self.make_invoice(amount=1000, due=date(2026, 1, 31))
        on_time = self.make_invoice(
            partner=self.customer_b, amount=1000, due=date(2099, 1, 31)
        )
        with freeze_time("2026-03-31"):
            self.env["account.move"]._cron_compute_late_penalties()
        self.assertTrue(late.penalty_line_ids)
        self.assertFalse(on_time.penalty_line_ids)

    def test_waive_wizard_needs_a_reason(self):
        invoice = self.make_invoice(amount=1000, due=date(2026, 1, 31))
        lines = invoice.compute_late_penalties(date(2026, 3, 31))
        with self.assertRaisesMessage(UserError, "Give the reason"):
            lines.action_waive("")
        self.assertEqual(set(lines.mapped("state")), {"draft"})
        wizard = Form(
            self.env["credit.penalty.waive.wizard"].with_context(
                active_model="credit.penalty.line", active_ids=lines.ids
            )
        )
        wizard.reason = "Long-standing customer"
        wizard.save().action_waive()
        self.assertEqual(set(lines.mapped("state")), {"waived"})
        self.assertEqual(set(lines.mapped("waive_reason")), {"Long-standing customer"})

    def test_list_action_computes_the_selected_invoices(self):
        invoice = self.make_invoice(amount=1000, due=date(2026, 1, 31))
        refund = self.make_invoice(
            amount=10, due=date(2026, 1, 31), move_type="out_refund"
        )
        action = self.env.ref(
            "l10n_fr_credit_collection.action_account_move_compute_penalties"
        )
        with freeze_time("2026-03-31"):
            result = action.with_context(
                active_model="account.move", active_ids=(invoice + refund).ids
            ).run()
        self.assertEqual(result["res_model"], "credit.penalty.line")
        lines = self.env["credit.penalty.line"].search(result["domain"])
        self.assertEqual(lines.move_id, invoice)
        self.assertEqual(lines.filtered(lambda line: line.kind == "interest").days, 59)
