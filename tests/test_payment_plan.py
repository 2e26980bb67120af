from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import CreditCollectionCommon

USER = "l10n_fr_credit_collection.group_credit_collection_user"
MANAGER = "l10n_fr_credit_collection.group_credit_collection_manager"
BILLING = "account.group_account_invoice"
CONTACTS = "base.group_partner_manager"


@tagged("post_install", "-at_install")
class TestPaymentPlan(CreditCollectionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write(
            {"payment_plan_grace_days": 5, "payment_plan_reminder_days": 3}
        )
        one = {"company_id": cls.company.id, "company_ids": [cls.company.id]}
        cls.collector = new_test_user(
            cls.env, login="plan_collector", groups=f"{USER},{CONTACTS}", **one
        )
        cls.billing = new_test_user(
            cls.env, login="plan_billing", groups=f"{BILLING},{CONTACTS}", **one
        )
        cls.plain = new_test_user(
            cls.env, login="plan_plain", groups=f"base.group_user,{CONTACTS}", **one
        )
        cls.consumer = cls.env["res.partner"].create(
            {
                "name": "Sophie Bernard",
                "email": "sophie@example.com",
                "debtor_type": "consumer",
            }
        )

    # ------------------------------------------------------------------ helpers

    def wizard(self, moves=None, partner=None, user=None, **vals):
        env = self.env(user=user) if user else self.env
        if partner:
            context = {"active_model": "res.partner", "active_ids": partner.ids}
        else:
            context = {"active_model": "account.move", "active_ids": moves.ids}
        return env["credit.payment.plan.wizard"].with_context(**context).create(vals)

    def make_plan(self, moves, start=True, **vals):
        vals.setdefault("first_date", date(2026, 5, 1))
        wizard = self.wizard(moves, **vals)
        action = wizard.action_create_plan()
        plan = self.env["credit.payment.plan"].browse(action["res_id"])
        if start:
            plan.action_start()
        return plan

    def refresh(self, *records):
        for record in records:
            record.invalidate_recordset()

    def send_letters(self, run, on):
        with freeze_time(on):
            letters = run.letter_ids
            letters.filtered(lambda letter: letter.state == "to_send").action_send()
            letters.filtered(lambda letter: letter.state == "to_print").action_print()
        return letters

    # ------------------------------------------------------------------ creation

    @freeze_time("2026-04-10")
    def test_plan_from_invoices(self):
        """From a selection of invoices: equal installments summing to the open
        balance, odd cents on the last one; the plan starts as a draft."""
        first = self.make_invoice(amount=600.0)
        second = self.make_invoice(amount=400.01, due=date(2026, 4, 5))
        wizard = self.wizard(first | second, first_date=date(2026, 5, 1))
        self.assertEqual(wizard.partner_id, self.customer)
        self.assertAlmostEqual(wizard.amount_covered, 1000.01)
        plan = self.env["credit.payment.plan"].browse(
            wizard.action_create_plan()["res_id"]
        )
        self.assertEqual(plan.state, "draft")
        self.assertEqual(plan.move_ids, first | second)
        self.assertEqual(plan.line_ids.mapped("amount"), [333.33, 333.33, 333.35])
        self.assertEqual(
            plan.line_ids.mapped("date"),
            [date(2026, 5, 1), date(2026, 6, 1), date(2026, 7, 1)],
        )
        self.assertAlmostEqual(plan.amount_total, 1000.01)
        self.assertTrue(plan.name.startswith("ECH/"))
        plan.action_start()
        self.assertEqual(plan.state, "running")
        self.assertEqual(plan.start_date, date(2026, 4, 10))

    @freeze_time("2026-04-10")
    def test_plan_from_customer_with_down_payment(self):
        invoice = self.make_invoice(amount=1000.0)
        self.make_invoice(partner=self.customer_b, amount=50.0)
        wizard = self.wizard(
            partner=self.customer,
            first_date=date(2026, 4, 15),
            installment_count=2,
            down_payment=200.0,
        )
        self.assertEqual(wizard.move_ids, invoice)
        plan = self.env["credit.payment.plan"].browse(
            wizard.action_create_plan()["res_id"]
        )
        self.assertEqual(plan.line_ids.mapped("amount"), [200.0, 400.0, 400.0])
        self.assertEqual(
            plan.line_ids.mapped("date"),
            [date(2026, 4, 15), date(2026, 5, 15), date(2026, 6, 15)],
        )
        self.assertEqual(self.customer.payment_plan_count, 1)

    @freeze_time("2026-04-10")
    def test_signature_records_an_acknowledgment(self):
        """Signed by the customer: an interruption of prescription (C. civ. 2240)
        on each invoice of the plan."""
        invoice = self.make_invoice()
        plan = self.make_plan(invoice)
        plan.signed_date = date(2026, 4, 9)
        interruption = self.env["credit.prescription.interruption"].search(
            [("move_id", "=", invoice.id)]
        )
        self.assertEqual(interruption.kind, "acknowledgment")
        self.assertEqual(interruption.date, date(2026, 4, 9))
        with self.assertRaisesMessage(ValidationError, "in the future"):
            plan.signed_date = date(2026, 4, 11)

    # ------------------------------------------------------------------ follow-up

    def test_dunning_exclusion_while_respected(self):
        invoice = self.make_invoice()
        with freeze_time("2026-04-10"):
            plan = self.make_plan(invoice)
        run = self.run_dunning(date(2026, 4, 20))
        self.assertFalse(run.letter_ids, "a kept plan pauses the dunning")
        with freeze_time("2026-04-21"):
            plan.action_cancel()
        run = self.run_dunning(date(2026, 4, 21))
        self.assertEqual(run.letter_ids.partner_id, self.customer)

    def test_penalties_pause_while_the_plan_runs(self):
        invoice = self.make_invoice()
        with freeze_time("2026-04-10"):
            plan = self.make_plan(invoice)
        with self.assertRaisesMessage(UserError, plan.name):
            invoice.compute_late_penalties(date(2026, 4, 20))
        candidates = self.env["account.move"]._search_penalty_candidates(
            self.company, date(2026, 4, 20)
        )
        self.assertNotIn(invoice, candidates)
        lines, _report = invoice._compute_late_penalties_batch(date(2026, 4, 20))
        self.assertFalse(lines)

    def test_payment_keeps_the_plan_alive(self):
        invoice = self.make_invoice(amount=900.0)
        with freeze_time("2026-04-10"):
            plan = self.make_plan(invoice)
        # An early payment of the first installment.
        self.pay(invoice, 300.0, on=date(2026, 4, 25))
        self.refresh(plan, plan.line_ids)
        self.assertEqual(plan.amount_paid, 300.0)
        self.assertEqual(plan.line_ids.mapped("paid"), [True, False, False])
        self.assertEqual(plan.next_due_date, date(2026, 6, 1))
        with freeze_time("2026-05-20"):
            result = self.env["credit.payment.plan"]._cron_follow_payment_plans()
        self.assertEqual(plan.state, "running")
        self.assertEqual(result["breached"], 0)

    def test_reminder_before_each_installment(self):
        invoice = self.make_invoice(amount=900.0)
        with freeze_time("2026-04-10"):
            plan = self.make_plan(invoice)
        Plan = self.env["credit.payment.plan"]
        self.assertEqual(
            Plan._cron_follow_payment_plans(date(2026, 4, 27))["reminded"], 0
        )
        self.assertEqual(
            Plan._cron_follow_payment_plans(date(2026, 4, 28))["reminded"], 1
        )
        self.assertTrue(plan.line_ids[0].reminder_sent)
        mail = self.env["mail.mail"].search(
            [
                ("model", "=", "credit.payment.plan.line"),
                ("res_id", "=", plan.line_ids[0].id),
            ]
        )
        self.assertEqual(mail.recipient_ids, self.customer)
        # Once only.
        self.assertEqual(
            Plan._cron_follow_payment_plans(date(2026, 4, 29))["reminded"], 0
        )

    def test_missed_installment_breaks_the_plan(self):
        """Unpaid after the grace period (exclusive end): the user is told, the
        suspended penalties come back to invoice, and the next run continues
        from the level after the last letter sent (here the second reminder,
        not the formal notice)."""
        invoice = self.make_invoice(amount=900.0)
        first_run = self.run_dunning(date(2026, 4, 7))
        self.assertEqual(first_run.letter_ids.level_id, self.first)
        self.send_letters(first_run, date(2026, 4, 7))
        penalties = invoice.compute_late_penalties(date(2026, 4, 10))
        self.assertTrue(penalties)
        with freeze_time("2026-04-10"):
            plan = self.make_plan(
                invoice, first_date=date(2026, 4, 15), penalty_treatment="suspend"
            )
        self.assertEqual(set(penalties.mapped("state")), {"suspended"})
        self.assertEqual(plan.suspended_penalty_ids, penalties)
        Plan = self.env["credit.payment.plan"]
        Plan._cron_follow_payment_plans(date(2026, 4, 20))  # last day of grace
        self.assertEqual(plan.state, "running")
        Plan._cron_follow_payment_plans(date(2026, 4, 21))
        self.assertEqual(plan.state, "breached")
        self.assertEqual(plan.missed_line_id, plan.line_ids[0])
        self.assertEqual(set(penalties.mapped("state")), {"draft"})
        activity = plan.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertIn("unpaid", activity.note)
        self.assertIn("penalties", plan.message_ids[0].body)
        run = self.run_dunning(date(2026, 4, 25))
        self.assertEqual(run.letter_ids.partner_id, self.customer)
        self.assertEqual(run.letter_ids.level_id, self.second)

    def test_a_long_plan_broken_resumes_one_level_up_not_at_the_notice(self):
        """Broken after months, when the delay already reached the formal notice's
        35 days: the next run sends the level after the last letter (the second
        reminder), not the formal notice (no jump, no burst)."""
        invoice = self.make_invoice(amount=900.0)
        first_run = self.run_dunning(date(2026, 4, 7))
        self.assertEqual(first_run.letter_ids.level_id, self.first)
        self.send_letters(first_run, date(2026, 4, 7))
        with freeze_time("2026-04-10"):
            plan = self.make_plan(invoice, first_date=date(2026, 6, 1))
        Plan = self.env["credit.payment.plan"]
        Plan._cron_follow_payment_plans(date(2026, 7, 1))
        self.assertEqual(plan.state, "breached")
        run = self.run_dunning(date(2026, 7, 10))
        self.assertEqual(run.letter_ids.level_id, self.second)
        self.send_letters(run, date(2026, 7, 10))
        # The formal notice comes next, once the second letter's interval passed.
        self.assertEqual(
            self.run_dunning(date(2026, 8, 20)).letter_ids.level_id, self.notice
        )

    def test_consumer_breach_prepares_a_formal_notice(self):
        invoice = self.make_invoice(partner=self.consumer, amount=600.0)
        with freeze_time("2026-04-10"):
            plan = self.make_plan(invoice)
        self.env["credit.payment.plan"]._cron_follow_payment_plans(date(2026, 5, 7))
        self.assertEqual(plan.state, "breached")
        letter = plan.notice_letter_id
        self.assertTrue(letter)
        self.assertEqual(letter.state, "draft")
        self.assertEqual(letter.level_id, self.notice)
        self.assertEqual(letter.partner_id, self.consumer)
        self.assertIn(invoice, letter.move_ids)
        self.assertIn("consumer", plan.activity_ids.note)
        self.assertIn(letter.name, plan.activity_ids.note)
        # The letter waits for review: a run sends nothing else about the items.
        run = self.run_dunning(date(2026, 5, 8))
        self.assertFalse(run.letter_ids)

    def test_done_when_paid_waives_suspended_penalties(self):
        invoice = self.make_invoice(amount=900.0)
        penalties = invoice.compute_late_penalties(date(2026, 4, 10))
        with freeze_time("2026-04-10"):
            plan = self.make_plan(invoice, penalty_treatment="suspend")
        self.pay(invoice, 900.0, on=date(2026, 5, 2))
        result = self.env["credit.payment.plan"]._cron_follow_payment_plans(
            date(2026, 5, 3)
        )
        self.assertEqual(result["done"], 1)
        self.assertEqual(plan.state, "done")
        self.assertEqual(set(penalties.mapped("state")), {"waived"})
        self.assertEqual(set(penalties.mapped("waive_reason")), {"payment plan kept"})

    def test_keep_invoices_the_accrued_penalties(self):
        invoice = self.make_invoice(amount=900.0)
        penalties = invoice.compute_late_penalties(date(2026, 4, 10))
        accrued = sum(penalties.mapped("amount"))
        with freeze_time("2026-04-10"):
            wizard = self.wizard(invoice, first_date=date(2026, 5, 1))
            self.assertAlmostEqual(wizard.amount_covered, 900.0 + accrued)
            plan = self.env["credit.payment.plan"].browse(
                wizard.action_create_plan()["res_id"]
            )
            plan.action_start()
        self.assertEqual(set(penalties.mapped("state")), {"invoiced"})
        penalty_invoice = penalties.penalty_move_id
        self.assertEqual(penalty_invoice.state, "posted")
        self.assertIn(penalty_invoice, plan.move_ids)
        self.assertAlmostEqual(plan.amount_total, 900.0 + accrued)

    # ------------------------------------------------------------------ sources

    @freeze_time("2026-04-10")
    def test_promise_to_pay_becomes_a_one_installment_plan(self):
        invoice = self.make_invoice(amount=500.0)
        invoice._set_dunning_hold("promise", "Paiement promis", date(2026, 4, 30))
        action = invoice.action_promise_to_payment_plan()
        wizard = (
            self.env["credit.payment.plan.wizard"]
            .with_context(**action["context"])
            .create({})
        )
        plan = self.env["credit.payment.plan"].browse(
            wizard.action_create_plan()["res_id"]
        )
        self.assertEqual(len(plan.line_ids), 1)
        self.assertEqual(plan.line_ids.date, date(2026, 4, 30))
        self.assertEqual(plan.line_ids.amount, 500.0)
        plan.action_start()
        self.assertFalse(invoice.dunning_hold, "the plan replaces the promise")
        other = self.make_invoice(amount=100.0)
        with self.assertRaisesMessage(UserError, "promise to pay"):
            other.action_promise_to_payment_plan()

    # ------------------------------------------------------------------ document

    @freeze_time("2026-04-10")
    def test_plan_document(self):
        self.setup_document_identity()
        invoice = self.make_invoice(partner=self.customer_b, amount=1000.0)
        plan = self.make_plan(invoice)
        data = plan._get_plan_data()
        self.assertEqual(len(data["schedule"]), 3)
        html, _type = self.env["ir.actions.report"]._render_qweb_html(
            "l10n_fr_credit_collection.action_report_payment_plan", plan.ids
        )
        html = html.decode()
        for text in (
            "Déchéance du terme",
            "2240 du Code civil",
            "la totalité du solde",
            "Le débiteur",
            invoice.name,
            "Garage Dupont",
            "Fournil Lyonnais",
            "ni mise en demeure préalable",
        ):
            self.assertIn(text, html)
        consumer_plan = self.make_plan(
            self.make_invoice(partner=self.consumer, amount=300.0)
        )
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html(
                "l10n_fr_credit_collection.action_report_payment_plan",
                consumer_plan.ids,
            )[0]
            .decode()
        )
        self.assertIn("sans frais", html)
        self.assertIn("mise en demeure de payer", html)

    # ------------------------------------------------------------------ bad input

    @freeze_time("2026-04-10")
    def test_amounts_must_sum_to_the_covered_balance(self):
        invoice = self.make_invoice(amount=1000.0)
        wizard = self.wizard(
            invoice,
            amount_mode="manual",
            line_ids=[
                Command.create({"date": date(2026, 5, 1), "amount": 500.0}),
                Command.create({"date": date(2026, 6, 1), "amount": 400.0}),
            ],
        )
        with self.assertRaisesMessage(UserError, "sum to"):
            wizard.action_create_plan()
        self.assertFalse(self.env["credit.payment.plan"].search([]))

    @freeze_time("2026-04-10")
    def test_dates_out_of_order_or_in_the_past(self):
        invoice = self.make_invoice(amount=1000.0)
        wizard = self.wizard(
            invoice,
            amount_mode="manual",
            line_ids=[
                Command.create({"date": date(2026, 6, 1), "amount": 500.0}),
                Command.create({"date": date(2026, 5, 1), "amount": 500.0}),
            ],
        )
        with self.assertRaisesMessage(UserError, "date order"):
            wizard.action_create_plan()
        past = self.wizard(invoice, first_date=date(2026, 4, 1))
        with self.assertRaisesMessage(UserError, "in the past"):
            past.action_create_plan()
        self.assertFalse(self.env["credit.payment.plan"].search([]))

    @freeze_time("2026-04-10")
    def test_items_of_another_customer_or_taken_or_paid(self):
        mine = self.make_invoice()
        theirs = self.make_invoice(partner=self.customer_b)
        with self.assertRaisesMessage(UserError, "several customers"):
            self.wizard(mine | theirs)
        with self.assertRaisesMessage(ValidationError, "one customer"):
            self.env["credit.payment.plan"].create(
                {
                    "partner_id": self.customer.id,
                    "currency_id": self.company.currency_id.id,
                    "move_ids": [Command.set((mine | theirs).ids)],
                }
            )
        self.make_plan(mine, start=False)
        with self.assertRaisesMessage(ValidationError, "already covered"):
            self.make_plan(mine, start=False)
        paid = self.make_invoice(amount=100.0)
        self.pay(paid, 100.0)
        with self.assertRaisesMessage(UserError, "already paid"):
            self.make_plan(paid)

    @freeze_time("2026-04-10")
    def test_consumer_plan_bears_no_interest(self):
        invoice = self.make_invoice(partner=self.consumer, amount=300.0)
        with self.assertRaisesMessage(UserError, "no interest and no fee"):
            self.make_plan(invoice, penalties_running=True)

    @freeze_time("2026-04-10")
    def test_suspension_by_a_user_follows_the_company_setting(self):
        invoice = self.make_invoice(amount=300.0)
        wizard = self.wizard(invoice, user=self.collector, penalty_treatment="suspend")
        wizard = wizard.with_user(self.collector)
        with self.assertRaisesMessage(AccessError, "Users May Suspend Penalties"):
            wizard.action_create_plan()
        self.company.payment_plan_user_suspend = True
        action = wizard.action_create_plan()
        plan = self.env["credit.payment.plan"].browse(action["res_id"])
        self.assertEqual(plan.penalty_treatment, "suspend")
        plan.with_user(self.collector).action_start()
        self.assertEqual(plan.state, "running")
        # A started plan's schedule is what the customer agreed.
        with self.assertRaisesMessage(UserError, "can no longer change"):
            plan.line_ids[0].with_user(self.collector).amount = 10.0

    # ------------------------------------------------------------------ rights

    @freeze_time("2026-04-10")
    def test_access_rights(self):
        invoice = self.make_invoice(amount=300.0)
        plan = self.make_plan(invoice)
        # Billing reads, never proposes nor changes.
        self.assertEqual(plan.with_user(self.billing).state, "running")
        with self.assertRaises(AccessError):
            plan.with_user(self.billing).write({"user_id": self.billing.id})
        with self.assertRaises(AccessError):
            invoice.with_user(self.billing).action_open_payment_plan_wizard()
        # No accounting group: nothing.
        with self.assertRaises(AccessError):
            plan.with_user(self.plain).read(["state"])
        # A collection user proposes and starts, but does not delete.
        other = self.make_invoice(amount=200.0)
        wizard = self.wizard(other, user=self.collector, first_date=date(2026, 5, 1))
        action = wizard.with_user(self.collector).action_create_plan()
        mine = self.env["credit.payment.plan"].browse(action["res_id"])
        mine.with_user(self.collector).action_start()
        with self.assertRaises(AccessError):
            mine.with_user(self.collector).unlink()
        with self.assertRaisesMessage(UserError, "cancel it instead"):
            mine.unlink()

    def test_multi_company(self):
        company_b = self.setup_other_company(name="Autre FR")["company"]
        invoice_b = self.make_invoice(amount=400.0, company=company_b)
        with freeze_time("2026-04-10"):
            plan_b = self.make_plan(invoice_b)
            invoice = self.make_invoice(amount=400.0)
            plan = self.make_plan(invoice)
        self.assertEqual(plan_b.company_id, company_b)
        Plan = self.env["credit.payment.plan"].with_user(self.collector)
        self.assertEqual(Plan.search([]), plan)
        result = self.env["credit.payment.plan"]._cron_follow_payment_plans(
            date(2026, 5, 7)
        )
        self.assertEqual(result["breached"], 2)
        self.assertEqual((plan | plan_b).mapped("state"), ["breached", "breached"])
