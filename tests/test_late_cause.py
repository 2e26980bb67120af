from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, new_test_user, tagged

from .common import CreditCollectionCommon

TODAY = date(2026, 6, 15)
XMLID = "l10n_fr_credit_collection.credit_late_cause_"


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestLateCause(CreditCollectionCommon):
    """Causes of late payment on a small ledger (today 15 June 2026):

    ====  ========  ======  ==========
    inv   customer  amount  due
    ====  ========  ======  ==========
    a1    Martin    1000    2026-03-01
    a2    Martin     500    2026-05-15
    b1    Dupont     800    2026-04-01
    a3    Martin     300    2026-07-01 (not due)
    ====  ========  ======  ==========
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with freeze_time(TODAY):
            cls.a1 = cls.make_invoice(due=date(2026, 3, 1), amount=1000)
            cls.a2 = cls.make_invoice(due=date(2026, 5, 15), amount=500)
            cls.b1 = cls.make_invoice(
                partner=cls.customer_b, due=date(2026, 4, 1), amount=800
            )
            cls.a3 = cls.make_invoice(due=date(2026, 7, 1), amount=300)
        cls.accounting = cls.env["res.partner"].create(
            {
                "name": "Service comptable Martin",
                "parent_id": cls.customer.id,
                "type": "invoice",
                "email": "ap@martin.example",
            }
        )
        cls.not_received = cls.env.ref(XMLID + "invoice_not_received")
        cls.cash_flow = cls.env.ref(XMLID + "cash_flow")
        cls.credit_note = cls.env.ref(XMLID + "waiting_credit_note")
        cls.address = cls.env.ref(XMLID + "wrong_billing_address")
        cls.dispute = cls.env.ref(XMLID + "dispute")

    def wizard(self, moves, env=None, **values):
        env = env or self.env
        form = Form(
            env["credit.late.cause.wizard"].with_context(
                active_model="account.move", active_ids=moves.ids
            )
        )
        for name, value in values.items():
            setattr(form, name, value)
        return form.save()

    def overdue_by_cause(self, env=None):
        Analysis = (env or self.env)["credit.late.cause.analysis"]
        action = Analysis.action_open_overdue()
        return {
            cause: amount
            for cause, amount in Analysis._read_group(
                action["domain"], ["late_cause_id"], ["amount_residual:sum"]
            )
        }

    # ------------------------------------------------------------------ recording

    def test_shipped_causes(self):
        causes = self.env["credit.late.cause"].search([("company_id", "=", False)])
        self.assertGreaterEqual(len(causes), 9)
        self.assertEqual(self.cash_flow.kind, "financial")
        self.assertEqual(self.not_received.fix, "resend")
        self.assertEqual(self.credit_note.fix, "hold_credit_note")
        self.assertEqual(self.address.fix, "billing_address")
        with self.assertRaisesMessage(UserError, "only an administrative cause"):
            self.cash_flow.fix = "resend"

    def test_record_cause_on_several_invoices(self):
        action = (self.a1 + self.b1).action_record_late_cause()
        self.assertEqual(action["res_model"], "credit.late.cause.wizard")
        self.wizard(
            self.a1 + self.b1, cause_id=self.cash_flow, note="Waiting for a bank loan"
        ).action_apply()
        for move in self.a1 + self.b1:
            self.assertEqual(move.late_cause_id, self.cash_flow)
            self.assertEqual(move.late_cause_kind, "financial")
            self.assertEqual(move.late_cause_note, "Waiting for a bank loan")
            self.assertEqual(move.late_cause_date, TODAY)
            self.assertEqual(move.late_cause_user_id, self.env.user)
            self.assertIn("Cash-flow difficulties", move.message_ids[0].body)
            self.assertIn("Waiting for a bank loan", move.message_ids[0].body)
        self.assertFalse(self.a2.late_cause_id)

    def test_only_posted_customer_invoices(self):
        bill = self.init_invoice("in_invoice", amounts=[100], post=True)
        with self.assertRaisesMessage(UserError, "posted customer invoices"):
            bill.action_record_late_cause()
        draft = self.make_invoice(post=False)
        with self.assertRaisesMessage(UserError, "posted customer invoices"):
            draft._credit_record_late_cause(self.cash_flow)

    # ------------------------------------------------------------------ fixes

    def test_fix_resend_to_another_contact(self):
        self.wizard(
            self.a1 + self.a2,
            cause_id=self.not_received,
            note="Sent to the shop, not to accounting",
            contact_id=self.accounting,
        ).action_apply()
        for move in self.a1 + self.a2:
            self.assertEqual(move.late_cause_id, self.not_received)
            sent = move.message_ids.filtered(
                lambda message: self.accounting in message.partner_ids
            )
            self.assertEqual(len(sent), 1)
            self.assertEqual(sent.message_type, "comment")
            self.assertIn(move.name, sent.subject)
            self.assertTrue(move.is_move_sent)
            self.assertIn("sent again to", move.message_ids[0].body)
            # The contact, and the invoice's followers as for any invoice sent.
            self.assertIn(self.accounting, sent.notification_ids.res_partner_id)
            self.assertTrue(sent.attachment_ids)

    def test_fix_resend_checks_first(self):
        with self.assertRaisesMessage(UserError, "invoices of one customer"):
            self.wizard(
                self.a1 + self.b1,
                cause_id=self.not_received,
                contact_id=self.accounting,
            ).action_apply()
        self.accounting.email = False
        with self.assertRaisesMessage(UserError, "has no email address"):
            self.wizard(
                self.a1, cause_id=self.not_received, contact_id=self.accounting
            ).action_apply()
        self.assertFalse((self.a1 + self.b1).late_cause_id)
        # Without the fix, the cause alone is recorded.
        self.wizard(
            self.a1 + self.b1,
            cause_id=self.not_received,
            apply_fix=False,
        ).action_apply()
        self.assertEqual((self.a1 + self.b1).late_cause_id, self.not_received)

    def test_fix_hold_until_credit_note(self):
        wizard = self.wizard(self.a1 + self.a2, cause_id=self.credit_note)
        self.assertEqual(wizard.hold_reason, "Waiting for a credit note")
        wizard.hold_reason = "Credit note for the damaged goods"
        wizard.action_apply()
        for move in self.a1 + self.a2:
            self.assertEqual(move.late_cause_id, self.credit_note)
            self.assertTrue(move.dunning_hold)
            self.assertEqual(move.dunning_hold_type, "dispute")
            self.assertEqual(
                move.dunning_hold_reason, "Credit note for the damaged goods"
            )
        letters = self.run_dunning(TODAY).letter_ids
        self.assertNotIn(self.a1, letters.line_ids.move_id)

    def test_fix_billing_address(self):
        wizard = self.wizard(self.a1, cause_id=self.address)
        # The customer's invoice address is proposed.
        self.assertEqual(wizard.address_partner_id, self.accounting)
        action = wizard.action_apply()
        self.assertEqual(action["res_model"], "res.partner")
        self.assertEqual(action["res_id"], self.accounting.id)
        self.assertEqual(self.a1.late_cause_id, self.address)
        self.assertIn("Billing address to correct", self.a1.message_ids[0].body)
        wizard = self.wizard(self.a1, cause_id=self.address)
        wizard.address_partner_id = self.customer_b
        with self.assertRaisesMessage(UserError, "whose billing address"):
            wizard.action_apply()

    # ------------------------------------------------------------------ elsewhere

    def test_hold_wizard_records_the_cause(self):
        form = Form(
            self.env["credit.dunning.hold.wizard"].with_context(
                active_model="account.move", active_ids=(self.a1 + self.b1).ids
            )
        )
        form.reason = "Delivery disputed"
        form.late_cause_id = self.dispute
        form.save().action_apply()
        for move in self.a1 + self.b1:
            self.assertTrue(move.dunning_hold)
            self.assertEqual(move.late_cause_id, self.dispute)
            self.assertEqual(move.late_cause_note, "Delivery disputed")
        # Without a cause, the hold alone.
        form = Form(
            self.env["credit.dunning.hold.wizard"].with_context(
                active_model="account.move", active_ids=self.a2.ids
            )
        )
        form.reason = "Promised"
        form.save().action_apply()
        self.assertTrue(self.a2.dunning_hold)
        self.assertFalse(self.a2.late_cause_id)

    def test_call_feedback_on_invoice(self):
        activity = self.a1.activity_schedule(
            "mail.mail_activity_data_call", user_id=self.env.user.id
        )
        self.assertTrue(activity.credit_late_cause_enabled)
        activity.credit_late_cause_id = self.cash_flow
        activity.action_feedback(feedback="Pays at the end of the month")
        self.assertEqual(self.a1.late_cause_id, self.cash_flow)
        self.assertEqual(self.a1.late_cause_note, "Pays at the end of the month")
        # A call marked done without a cause changes nothing.
        self.a2.activity_schedule(
            "mail.mail_activity_data_call", user_id=self.env.user.id
        ).action_feedback(feedback="No answer")
        self.assertFalse(self.a2.late_cause_id)

    def test_call_feedback_on_dunning_letter(self):
        letter = self.run_dunning(TODAY).letter_ids.filtered(
            lambda letter: letter.partner_id == self.customer
        )
        letter._schedule_calls()
        activity = letter.activity_id
        self.assertEqual(activity.res_model, "res.partner")
        self.assertTrue(activity.credit_late_cause_enabled)
        other = self.customer.activity_schedule(
            "mail.mail_activity_data_todo", user_id=self.env.user.id
        )
        self.assertFalse(other.credit_late_cause_enabled)
        activity.credit_late_cause_id = self.not_received
        activity.action_feedback(feedback="<p>The invoices went to the shop</p>")
        invoices = letter.line_ids.filtered("level_id").move_id
        self.assertEqual(invoices, self.a1 + self.a2)
        self.assertEqual(invoices.late_cause_id, self.not_received)
        self.assertEqual(
            invoices.mapped("late_cause_note"), ["The invoices went to the shop"] * 2
        )
        self.assertFalse(self.a3.late_cause_id)

    # ------------------------------------------------------------------ figures

    def test_pivot_by_cause(self):
        self.a1._credit_record_late_cause(self.not_received)
        (self.a2 + self.b1)._credit_record_late_cause(self.cash_flow)
        self.a3._credit_record_late_cause(self.cash_flow)  # not due: not counted
        figures = self.overdue_by_cause()
        self.assertEqual(
            figures,
            {self.not_received: 1000.0, self.cash_flow: 1300.0},
        )
        Analysis = self.env["credit.late.cause.analysis"]
        domain = Analysis.action_open_overdue()["domain"]
        by_customer = dict(
            Analysis._read_group(
                domain + [("late_cause_id", "=", self.cash_flow.id)],
                ["partner_id"],
                ["amount_residual:sum"],
            )
        )
        self.assertEqual(by_customer, {self.customer: 500.0, self.customer_b: 800.0})
        # A partial payment lowers the open amount of its cause.
        self.pay(self.b1, 300, on=TODAY)
        self.assertEqual(self.overdue_by_cause()[self.cash_flow], 1000.0)

    def test_overview_by_cause(self):
        self.a1._credit_record_late_cause(self.not_received)
        self.b1._credit_record_late_cause(self.cash_flow)
        action = self.env["credit.overview"].action_open_overview()
        overview = self.env["credit.overview"].browse(action["res_id"])
        lines = {line.late_cause_id: line for line in overview.cause_line_ids}
        self.assertEqual(lines[self.not_received].amount_overdue, 1000.0)
        self.assertEqual(lines[self.cash_flow].amount_overdue, 800.0)
        no_cause = lines[self.env["credit.late.cause"]]
        self.assertEqual(no_cause.amount_overdue, 500.0)
        self.assertEqual(no_cause.name, "No Cause Recorded")
        self.assertAlmostEqual(
            sum(overview.cause_line_ids.mapped("amount_overdue")),
            overview.amount_overdue,
        )
        items = self.env["account.move.line"].search(
            lines[self.cash_flow].action_open_items()["domain"]
        )
        self.assertEqual(items.move_id, self.b1)

    # ------------------------------------------------------------------ access

    def test_access_rights(self):
        company_vals = {
            "company_id": self.company.id,
            "company_ids": [Command.set(self.company.ids)],
        }
        collector = new_test_user(
            self.env,
            login="cc_cause_collector",
            groups="base.group_user,account.group_account_invoice,"
            "l10n_fr_credit_collection.group_credit_collection_user",
            **company_vals,
        )
        self.wizard(
            self.a1, env=self.env(user=collector), cause_id=self.cash_flow
        ).action_apply()
        self.assertEqual(self.a1.late_cause_id, self.cash_flow)
        self.assertIn(self.cash_flow, self.overdue_by_cause(self.env(user=collector)))
        # Users may read the causes, only managers change them.
        with self.assertRaises(AccessError):
            self.cash_flow.with_user(collector).name = "Renamed"

        clerk = new_test_user(
            self.env,
            login="cc_cause_clerk",
            groups="base.group_user,account.group_account_invoice",
            **company_vals,
        )
        move = self.a1.with_user(clerk)
        self.assertEqual(move.late_cause_id.name, "Cash-flow difficulties")
        with self.assertRaises(AccessError):
            move.late_cause_id = self.not_received
        with self.assertRaises(AccessError):
            move.late_cause_note = "Changed"
        with self.assertRaises(AccessError):
            move.action_record_late_cause()
        with self.assertRaises(AccessError):
            self.env(user=clerk)["credit.late.cause.wizard"].create(
                {"move_ids": [Command.set(self.a1.ids)], "cause_id": self.dispute.id}
            )
        with self.assertRaises(AccessError):
            self.overdue_by_cause(self.env(user=clerk))
        # The clerk's ordinary work on the invoice is not blocked.
        move.ref = "PO-42"

        nobody = new_test_user(
            self.env, login="cc_cause_nobody", groups="base.group_user", **company_vals
        )
        with self.assertRaises(AccessError):
            self.a1.with_user(nobody).read(["late_cause_id"])
        with self.assertRaises(AccessError):
            self.env(user=nobody)["credit.late.cause.analysis"].search([])

    def test_multi_company(self):
        other = self.setup_other_company(name="Autre Recouvrement")["company"]
        Cause = self.env["credit.late.cause"]
        own = Cause.create({"name": "Own cause", "company_id": self.company.id})
        foreign = Cause.create({"name": "Foreign cause", "company_id": other.id})
        user = new_test_user(
            self.env,
            login="cc_cause_single",
            groups="base.group_user,account.group_account_invoice,"
            "l10n_fr_credit_collection.group_credit_collection_user",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        visible = Cause.with_user(user).search([])
        self.assertIn(own, visible)
        self.assertIn(self.cash_flow, visible)
        self.assertNotIn(foreign, visible)
        with self.assertRaises(UserError):
            self.a1._credit_record_late_cause(foreign)
        self.assertFalse(self.a1.late_cause_id)
        # The other company's overdue items stay out of this company's figures.
        with freeze_time(TODAY):
            theirs = self.make_invoice(due=date(2026, 3, 1), amount=7000, company=other)
        theirs.with_company(other)._credit_record_late_cause(self.cash_flow)
        self.b1._credit_record_late_cause(self.cash_flow)
        self.assertEqual(
            self.overdue_by_cause(self.env(user=user))[self.cash_flow], 800.0
        )
        overview = self.env["credit.overview"].browse(
            self.env["credit.overview"].action_open_overview()["res_id"]
        )
        line = overview.cause_line_ids.filtered(
            lambda line: line.late_cause_id == self.cash_flow
        )
        self.assertEqual(line.amount_overdue, 800.0)
