from datetime import date

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import CreditCollectionCommon


@tagged("post_install", "-at_install")
class TestDunningHold(CreditCollectionCommon):
    def test_hold_wizard(self):
        invoices = self.make_invoice(due=date(2026, 3, 1)) + self.make_invoice(
            due=date(2026, 3, 2)
        )
        wizard = Form(
            self.env["credit.dunning.hold.wizard"].with_context(
                active_model="account.move", active_ids=invoices.ids
            )
        )
        wizard.hold_type = "promise"
        wizard.reason = "Will pay after the bank loan"
        wizard.until = date(2026, 3, 20)
        wizard.save().action_apply()
        self.assertEqual(invoices.mapped("dunning_hold"), [True, True])
        self.assertEqual(invoices.mapped("dunning_hold_until"), [date(2026, 3, 20)] * 2)
        self.assertFalse(self.run_dunning(date(2026, 3, 10)).letter_ids)

    def test_promise_needs_a_date_and_leaves_nothing_written(self):
        invoice = self.make_invoice(due=date(2026, 3, 1))
        with self.assertRaisesMessage(UserError, "promise to pay needs the date"):
            invoice._set_dunning_hold("promise", "Soon")
        self.assertFalse(invoice.dunning_hold)

    def test_only_customer_invoices_can_be_held(self):
        bill = self.init_invoice("in_invoice", amounts=[100], post=True)
        with self.assertRaisesMessage(UserError, "not a customer invoice"):
            bill._set_dunning_hold("dispute", "n/a")

    def test_holds_end_by_themselves(self):
        invoice = self.make_invoice(due=date(2026, 3, 1))
        invoice._set_dunning_hold("promise", "Pays on the 15th", date(2026, 3, 15))
        with freeze_time("2026-03-15"):
            self.env["account.move"]._release_expired_dunning_holds()
        self.assertTrue(invoice.dunning_hold)
        with freeze_time("2026-03-16"):
            self.env["credit.dunning.run"]._cron_daily()
        self.assertFalse(invoice.dunning_hold)
        self.assertFalse(invoice.dunning_hold_reason)
        self.assertIn("dunning hold ended", invoice.message_ids[0].body)

    def test_release_button(self):
        invoice = self.make_invoice(due=date(2026, 3, 1))
        invoice._set_dunning_hold("dispute", "Wrong quantity")
        invoice.action_dunning_release()
        self.assertFalse(invoice.dunning_hold)
        self.assertEqual(
            self.run_dunning(date(2026, 3, 10)).letter_ids.line_ids.move_id, invoice
        )
