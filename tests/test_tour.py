from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingHttpCommon

from .common import CreditCollectionCommon


@tagged("post_install", "-at_install")
class TestCreditCollectionTour(CreditCollectionCommon, AccountTestInvoicingHttpCommon):
    """The main path of a credit manager, in the browser: see the overdue customer,
    run the dunning, open the letter and send it.

    The browser runs in real time, so the invoice is dated from today's date.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # No onboarding tour of the accounting app running beside this one.
        cls.env.user.sudo().tour_enabled = False
        today = fields.Date.today()
        cls.invoice = cls.make_invoice(
            due=today - timedelta(days=10),
            invoice_date=today - timedelta(days=40),
            amount=1000.0,
            post=False,
        )
        # The customer's reference shows in the invoice's name on the letter,
        # whatever the year in the invoice number.
        cls.invoice.ref = "PO-CC-4471"
        cls.invoice.action_post()

    def test_credit_collection_tour(self):
        user = self.env.user
        self.assertTrue(
            user.has_group("l10n_fr_credit_collection.group_credit_collection_manager")
        )
        self.assertEqual(user.company_id, self.company)
        self.start_tour("/odoo", "l10n_fr_credit_collection_tour", login=user.login)

        run = self.env["credit.dunning.run"].search(
            [("company_id", "=", self.company.id)]
        )
        self.assertEqual(len(run), 1, "the tour created one dunning run")
        letter = run.letter_ids
        self.assertEqual(len(letter), 1)
        self.assertEqual(letter.partner_id, self.customer)
        self.assertEqual(letter.level_id, self.first)
        self.assertEqual(letter.line_ids.move_id, self.invoice)
        self.assertEqual(letter.state, "sent")
        self.assertEqual(letter.sent_date, fields.Date.today())
        self.assertEqual(letter.email_state, "queued")
        self.assertEqual(run.state, "done")
        mails = self.env["mail.mail"].sudo()
        mail = mails.search(
            [("model", "=", "credit.dunning.letter"), ("res_id", "=", letter.id)]
        )
        self.assertEqual(len(mail), 1, "sending queues one email, nothing is sent")
        self.assertEqual(self.invoice.dunning_level_id, self.first)
