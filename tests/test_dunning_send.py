from datetime import date

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.mail.tests.common import MockEmail

from .common import CreditCollectionCommon


@tagged("post_install", "-at_install")
class TestDunningSend(CreditCollectionCommon, MockEmail):
    def _letter_for(self, partner, due, on):
        self.make_invoice(partner=partner, due=due)
        run = self.run_dunning(on)
        return run, run.letter_ids

    def test_email_channel_queues_the_template_and_attaches_the_pdf_lazily(self):
        self.first.attach_invoices = True
        run, letter = self._letter_for(
            self.customer, date(2026, 3, 1), date(2026, 3, 9)
        )
        invoice = letter.line_ids.move_id
        with self.mock_mail_gateway():
            run.action_send()
            mail = self._new_mails
            self.assertEqual(len(mail), 1)
            self.assertEqual((mail.model, mail.res_id), (letter._name, letter.id))
            self.assertEqual(mail.recipient_ids, self.customer)
            self.assertTrue(mail.credit_letter_pdf_pending)
            self.assertFalse(mail.attachment_ids, "nothing rendered while preparing")
            self.assertEqual(letter.state, "sent")
            self.assertEqual(letter.email_state, "queued")
            mail.send()
        self.assertEqual(letter.email_state, "sent")
        sent = self._mails[0]
        self.assertIn(letter.name, sent["subject"])
        self.assertIn(invoice.name, sent["body"])
        names = [attachment[0] for attachment in sent["attachments"]]
        self.assertEqual(len(names), 2, names)
        self.assertTrue(any(letter.name.replace("/", "-") in name for name in names))
        self.assertEqual(run.state, "done")

    def test_customer_without_email_gets_a_letter_that_says_so(self):
        """Flagged when computed, waits to be printed once sent, and is sent when
        the run prints its postal letters."""
        self.customer.email = False
        run, letter = self._letter_for(
            self.customer, date(2026, 3, 1), date(2026, 3, 9)
        )
        self.assertTrue(letter.email_fallback)
        self.assertTrue(letter.send_letter)
        with self.mock_mail_gateway():
            run.action_send()
        self.assertFalse(self._new_mails)
        self.assertEqual(letter.state, "to_print")
        self.assertFalse(letter.sent_date)
        self.assertFalse(letter.line_ids.move_id.dunning_level_id)
        self.assertEqual(run.state, "computed")
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html(
                "l10n_fr_credit_collection.action_report_dunning_letter", letter.ids
            )[0]
            .decode()
        )
        self.assertIn("because we have no email address for you", html)
        self.assertEqual(run.print_count, 1)
        with freeze_time("2026-03-11"):
            action = run.action_print_letters()
        self.assertEqual(
            action["report_name"], "l10n_fr_credit_collection.report_dunning_letter"
        )
        self.assertEqual(letter.state, "sent")
        self.assertEqual(letter.sent_date, date(2026, 3, 11))
        self.assertEqual(letter.printed_date, date(2026, 3, 11))
        self.assertEqual(letter.line_ids.move_id.dunning_level_id, self.first)
        self.assertEqual(run.print_count, 0)
        self.assertEqual(run.state, "done")
        with self.assertRaisesMessage(UserError, "waits to be printed"):
            run.action_print_letters()

    def test_email_and_post_level_waits_for_the_print(self):
        """The email goes at sending; the letter is sent, and the invoice at its
        level, once the postal copy is printed from the letter."""
        run, letter = self._letter_for(
            self.customer, date(2026, 1, 1), date(2026, 2, 10)
        )
        self.assertEqual(letter.level_id, self.second)
        invoice = letter.line_ids.move_id
        with self.mock_mail_gateway(), freeze_time("2026-02-10"):
            run.action_send()
            self.assertEqual(len(self._new_mails), 1)
        self.assertEqual(letter.state, "to_print")
        self.assertEqual(letter.email_state, "queued")
        self.assertFalse(invoice.dunning_level_id)
        self.assertFalse(
            any(letter.name in body for body in invoice.message_ids.mapped("body")),
            "logged once it is really sent",
        )
        # Still waiting: the next run writes nothing new about the invoice.
        self.assertFalse(self.run_dunning(date(2026, 3, 1)).letter_ids)
        with freeze_time("2026-02-12"):
            letter.action_print()
        self.assertEqual(letter.state, "sent")
        self.assertEqual(letter.sent_date, date(2026, 2, 12))
        self.assertEqual(invoice.dunning_level_id, self.second)
        self.assertEqual(run.state, "done")
        self.assertTrue(
            any(letter.name in body for body in invoice.message_ids.mapped("body"))
        )
        # A reprint changes nothing.
        with freeze_time("2026-02-20"):
            letter.action_print()
        self.assertEqual(letter.sent_date, date(2026, 2, 12))

    def test_email_failure_after_printing_does_not_ask_to_print_again(self):
        run, letter = self._letter_for(
            self.customer, date(2026, 1, 1), date(2026, 2, 10)
        )
        with self.mock_mail_gateway():
            run.action_send()
            letter.action_print()
            self.assertEqual(letter.state, "sent")
            letter._mark_email_result("mailbox full")
            self.assertEqual(letter.state, "error")
            letter.action_retry()
        self.assertEqual(letter.state, "sent")

    def test_address_found_before_sending_goes_by_email(self):
        self.customer.email = False
        run, letter = self._letter_for(
            self.customer, date(2026, 3, 1), date(2026, 3, 9)
        )
        self.assertTrue(letter.email_fallback)
        self.customer.email = "compta@martin.example"
        with self.mock_mail_gateway():
            run.action_send()
            self.assertEqual(len(self._new_mails), 1)
        self.assertFalse(letter.email_fallback)
        self.assertFalse(letter.send_letter)
        self.assertEqual(letter.state, "sent")

    def test_address_lost_before_sending_goes_by_post(self):
        run, letter = self._letter_for(
            self.customer, date(2026, 3, 1), date(2026, 3, 9)
        )
        self.assertFalse(letter.email_fallback)
        self.customer.email = False
        with self.mock_mail_gateway():
            run.action_send()
        self.assertTrue(letter.email_fallback)
        self.assertEqual(letter.state, "to_print")

    def test_failed_email_puts_the_letter_in_error_and_retry_works(self):
        self.customer.email = "not an email address"
        run, letter = self._letter_for(
            self.customer, date(2026, 3, 1), date(2026, 3, 9)
        )
        with self.mock_mail_gateway():
            run.action_send()
            self._new_mails.send()
        self.assertEqual(letter.state, "error")
        self.assertEqual(letter.email_state, "failed")
        self.assertTrue(letter.error_message)
        self.assertEqual(run.state, "computed")
        self.customer.email = "compta@martin.example"
        with self.mock_mail_gateway():
            letter.action_retry()
            self._new_mails.send()
        self.assertEqual(letter.state, "sent")
        self.assertEqual(letter.email_state, "sent")
        self.assertEqual(run.state, "done")

    def test_phone_level_schedules_a_call_for_the_responsible(self):
        salesman = self.env.user
        self.customer.user_id = salesman
        self.make_invoice(due=date(2026, 1, 1))
        reminder = self.run_dunning(date(2026, 2, 20))
        with freeze_time("2026-02-20"):
            reminder.action_send()
            reminder.action_print_letters()
        run = self.run_dunning(date(2026, 3, 1))
        letter = run.letter_ids
        self.assertEqual(letter.level_id, self.notice)
        run.action_send()
        self.assertEqual(letter.state, "to_print", "the notice goes by post")
        activity = letter.activity_id
        self.assertEqual(activity.res_model, "res.partner")
        self.assertEqual(activity.res_id, self.customer.id)
        self.assertEqual(activity.user_id, salesman)
        self.assertEqual(
            activity.activity_type_id, self.env.ref("mail.mail_activity_data_call")
        )

    def test_sending_is_logged_on_customer_and_invoices(self):
        invoice = self.make_invoice(due=date(2026, 3, 1))
        other = self.make_invoice(due=date(2026, 3, 2))
        run = self.run_dunning(date(2026, 3, 10))
        with self.mock_mail_gateway():
            run.action_send()
        letter = run.letter_ids
        for record in (self.customer, invoice, other):
            bodies = record.message_ids.mapped("body")
            self.assertTrue(
                any(letter.name in body for body in bodies),
                f"{record.display_name} has no log of {letter.name}",
            )

    def test_review_mode_and_hold_back(self):
        run, letter = self._letter_for(
            self.customer, date(2026, 3, 1), date(2026, 3, 9)
        )
        letter.action_draft()
        with self.assertRaisesMessage(UserError, "waits to be sent"):
            run.action_send()
        letter.action_confirm()
        with self.mock_mail_gateway():
            run.action_send()
        self.assertEqual(letter.state, "sent")

    def test_two_letters_of_a_customer_sent_together_share_one_call(self):
        """Letters of one customer from two runs, sent at once from the list."""
        self.make_invoice(due=date(2026, 1, 1))
        first = self.run_dunning(date(2026, 2, 20)).letter_ids
        self.make_invoice(due=date(2026, 1, 5))
        second = self.run_dunning(date(2026, 2, 21)).letter_ids
        (first + second).level_id.create_activity = True
        first.create_activity = second.create_activity = True
        with self.mock_mail_gateway():
            (first + second).action_send()
        self.assertEqual((first + second).mapped("state"), ["to_print", "to_print"])
        self.assertEqual(first.activity_id, second.activity_id)
        self.assertEqual(len(first.activity_id), 1)

    def test_print_menu_of_the_list_marks_postal_letters_sent(self):
        self.customer.email = False
        run, letter = self._letter_for(
            self.customer, date(2026, 3, 1), date(2026, 3, 9)
        )
        with self.mock_mail_gateway():
            run.action_send()
        self.assertEqual(letter.state, "to_print")
        action = (
            self.env.ref("l10n_fr_credit_collection.action_credit_dunning_letter_print")
            .with_context(active_model=letter._name, active_ids=letter.ids)
            .run()
        )
        self.assertEqual(action["type"], "ir.actions.report")
        self.assertEqual(letter.state, "sent")
        self.assertEqual(letter.line_ids.move_id.dunning_level_id, self.first)

    def test_a_large_print_goes_in_batches_of_the_run(self):
        """One click prints at most print_batch_size letters: the PDF is made
        within a request's time limit; the counter shows what is left."""
        self.env["ir.config_parameter"].set_param(
            "l10n_fr_credit_collection.print_batch_size", 2
        )
        customers = self.customer | self.customer_b
        customers |= self.customer.copy({"name": "Fromagerie Petit"})
        customers.email = False
        for customer in customers:
            self.make_invoice(partner=customer, due=date(2026, 3, 1))
        run = self.run_dunning(date(2026, 3, 9))
        with self.mock_mail_gateway():
            run.action_send()
        self.assertEqual(run.print_count, 3)
        letters = run.letter_ids.sorted("id")
        action = run.action_print_letters()
        self.assertEqual(action["context"]["active_ids"], letters[:2].ids)
        self.assertEqual(letters.mapped("state"), ["sent", "sent", "to_print"])
        self.assertEqual(run.print_count, 1)
        action = run.action_print_letters()
        self.assertEqual(action["context"]["active_ids"], letters[2:].ids)
        self.assertEqual(run.state, "done")
        with self.assertRaisesMessage(UserError, "waits to be printed"):
            run.action_print_letters()
