from datetime import date

from freezegun import freeze_time

from odoo.tests import tagged

from .common import CreditCollectionCommon

REPORT = "l10n_fr_credit_collection.action_report_dunning_letter"


@tagged("post_install", "-at_install")
class TestLetterReport(CreditCollectionCommon):
    def _html(self, letters):
        return (
            self.env["ir.actions.report"]
            ._render_qweb_html(REPORT, letters.ids)[0]
            .decode()
        )

    def test_letter_lists_items_and_totals(self):
        invoice = self.make_invoice(amount=1234.56, due=date(2026, 3, 1))
        refund = self.make_invoice(
            amount=34.56, due=date(2026, 3, 2), move_type="out_refund"
        )
        letter = self.run_dunning(date(2026, 3, 25)).letter_ids
        html = self._html(letter)
        self.assertIn(invoice.name, html)
        self.assertIn(refund.name, html)
        self.assertIn("(credit note)", html)
        self.assertIn("1,200.00", html)
        self.assertIn(letter.name, html)
        self.assertNotIn("FORMAL NOTICE", html)

    def test_formal_notice_letter(self):
        self.make_invoice(due=date(2026, 1, 1))
        reminder = self.run_dunning(date(2026, 2, 20)).letter_ids
        with freeze_time("2026-02-20"):
            reminder.action_send()
            reminder.filtered(lambda letter: letter.state == "to_print").action_print()
        # The notice once the reminder's own deadline (8 days) has passed.
        letter = self.run_dunning(date(2026, 3, 2)).letter_ids
        self.assertTrue(letter.is_formal_notice)
        html = self._html(letter)
        self.assertIn("FORMAL NOTICE TO PAY", html)
        self.assertIn("Registered letter with acknowledgement of receipt", html)
        # Deadline: run date + 8 days.
        self.assertIn("03/10/2026", html)

    def test_batch_print_of_a_run(self):
        self.make_invoice(due=date(2026, 3, 1))
        self.make_invoice(partner=self.customer_b, due=date(2026, 3, 1))
        run = self.run_dunning(date(2026, 3, 25))
        html = self._html(run.letter_ids)
        self.assertEqual(html.count('class="page o_credit_dunning_letter"'), 2)

    def test_letter_speaks_french_to_french_customers(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(
            ["l10n_fr_credit_collection"], ["fr_FR"], overwrite=True
        )
        self.customer.lang = "fr_FR"
        self.make_invoice(due=date(2026, 3, 1))
        letter = self.run_dunning(date(2026, 3, 25)).letter_ids
        html = self._html(letter)
        self.assertIn("Reste dû", html)
        self.assertIn("Madame, Monsieur,", html)
        self.assertNotIn("Balance Due", html)
