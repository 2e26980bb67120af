from datetime import date

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from .common import CreditCollectionCommon

ACTION = "l10n_fr_credit_collection.action_credit_unmatched_payments"


@tagged("post_install", "-at_install")
class TestUnmatchedPayments(CreditCollectionCommon):
    """Two open invoices of Boulangerie Martin (1,000 due 31 Mar, 600 due 30 Apr),
    a payment of 1,200 and a credit note of 200 not matched with them; Garage
    Dupont has an open invoice and an invoice paid in full."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoice_1 = cls.make_invoice(amount=1000, due=date(2026, 3, 31))
        cls.invoice_2 = cls.make_invoice(amount=600, due=date(2026, 4, 30))
        cls.payment = cls.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": cls.customer.id,
                "amount": 1200.0,
                "date": date(2026, 5, 2),
                "journal_id": cls.company_data["default_journal_bank"].id,
            }
        )
        cls.payment.action_post()
        cls.refund = cls.make_invoice(amount=200, move_type="out_refund")
        cls.invoice_other = cls.make_invoice(partner=cls.customer_b, amount=300)
        cls.invoice_paid = cls.make_invoice(partner=cls.customer_b, amount=400)
        cls.paid = cls.pay(cls.invoice_paid, 400)

    @classmethod
    def receivable(cls, move):
        return move.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )

    def unmatched(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(ACTION)
        return self.env["account.move.line"].search(safe_eval(action["domain"]))

    def wizard(self, credit, ticked=()):
        form = Form(
            self.env["credit.payment.match.wizard"].with_context(
                active_model="account.move.line", active_id=credit.id
            )
        )
        for index in range(len(form.line_ids)):
            with form.line_ids.edit(index) as row:
                row.selected = row.move_line_id in ticked
        return form.save()

    def test_unmatched_list(self):
        unmatched = self.unmatched()
        self.assertEqual(
            unmatched
            & self.env["account.move.line"].search(
                [("partner_id", "in", (self.customer | self.customer_b).ids)]
            ),
            self.receivable(self.payment.move_id) | self.receivable(self.refund),
        )
        self.assertFalse(unmatched & self.receivable(self.paid.move_id))

    def test_match_a_payment_with_two_invoices(self):
        self.assertEqual(self.invoice_1.payment_state, "not_paid")
        payment_line = self.receivable(self.payment.move_id)
        wizard = self.wizard(
            payment_line,
            ticked=self.receivable(self.invoice_1) | self.receivable(self.invoice_2),
        )
        # Only the customer's open invoices are offered, in order of due date.
        self.assertEqual(
            wizard.line_ids.move_line_id.move_id, self.invoice_1 | self.invoice_2
        )
        self.assertEqual(
            (wizard.amount_unmatched, wizard.amount_selected), (1200.0, 1600.0)
        )
        wizard.action_match()
        self.assertIn(self.invoice_1.payment_state, ("paid", "in_payment"))
        self.assertEqual(self.invoice_2.payment_state, "partial")
        self.assertEqual(self.invoice_2.amount_residual, 400.0)
        self.assertTrue(payment_line.reconciled)
        self.assertNotIn(payment_line, self.unmatched())

    def test_match_a_credit_note(self):
        refund_line = self.receivable(self.refund)
        wizard = self.wizard(refund_line, ticked=self.receivable(self.invoice_2))
        wizard.action_match()
        self.assertEqual(self.invoice_2.payment_state, "partial")
        self.assertEqual(self.invoice_2.amount_residual, 400.0)
        self.assertEqual(self.invoice_1.payment_state, "not_paid")
        self.assertTrue(refund_line.reconciled)

    def test_nothing_ticked(self):
        wizard = self.wizard(self.receivable(self.payment.move_id))
        with self.assertRaisesMessage(UserError, "Tick at least one invoice"):
            wizard.action_match()
        self.assertFalse(self.receivable(self.payment.move_id).reconciled)

    def test_not_an_unmatched_payment(self):
        for line in (
            self.receivable(self.invoice_1),
            self.receivable(self.paid.move_id),
        ):
            with self.assertRaisesMessage(UserError, "is not an unmatched"):
                self.wizard(line)

    def test_other_currency_or_company_is_refused(self):
        usd = self.setup_other_currency("USD")
        invoice_usd = self.init_invoice(
            "out_invoice",
            partner=self.customer,
            invoice_date=date(2026, 3, 1),
            amounts=[500.0],
            taxes=[],
            currency=usd,
            post=True,
        )
        company_b = self.setup_other_company(name="Other FR")["company"]
        invoice_b = self.init_invoice(
            "out_invoice",
            partner=self.customer,
            invoice_date=date(2026, 3, 1),
            amounts=[500.0],
            taxes=[],
            company=company_b,
            post=True,
        )
        payment_line = self.receivable(self.payment.move_id)
        wizard = self.wizard(payment_line)
        self.assertNotIn(invoice_usd, wizard.line_ids.move_line_id.move_id)
        for invoice, message in (
            (invoice_usd, "is in USD"),
            (invoice_b, "belongs to Other FR"),
            (self.invoice_other, "is not an open receivable item of Boulangerie"),
        ):
            wizard.line_ids = [
                Command.clear(),
                Command.create(
                    {"move_line_id": self.receivable(invoice).id, "selected": True}
                ),
            ]
            with self.assertRaisesMessage(UserError, message):
                wizard.action_match()
        self.assertFalse(payment_line.reconciled)
        self.assertEqual(invoice_usd.payment_state, "not_paid")

    def test_open_customers_invoices(self):
        wizard = self.wizard(self.receivable(self.payment.move_id))
        action = wizard.action_open_invoices()
        self.assertEqual(action["res_model"], "account.move")
        invoices = self.env["account.move"].search(action["domain"])
        self.assertEqual(invoices, self.invoice_1 | self.invoice_2)
        self.invoice_2.button_draft()
        action = wizard.action_open_invoices()
        self.assertEqual(action["res_id"], self.invoice_1.id)

    def test_access(self):
        billing = new_test_user(
            self.env, login="match_billing", groups="account.group_account_invoice"
        )
        with self.assertRaises(AccessError):
            self.env["credit.payment.match.wizard"].with_user(billing).create(
                {"move_line_id": self.receivable(self.payment.move_id).id}
            )
