import io
from datetime import date
from unittest.mock import patch

from odoo.tests import HttpCase, tagged
from odoo.tools.pdf import PdfFileReader

from odoo.addons.mail.tests.common import MockEmail

from ..models import ir_actions_report
from .common import CreditCollectionCommon, cron_pass

LETTER_REPORT = "l10n_fr_credit_collection.action_report_dunning_letter"


class MailQueueCommon(CreditCollectionCommon, MockEmail):
    """Three letters whose emails wait in Odoo's mail queue, PDFs not rendered."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer_c = cls.customer.copy(
            {"name": "Fromagerie Petit", "email": "compta@petit.example"}
        )
        cls.customers = cls.customer + cls.customer_b + cls.customer_c

    def queue_letters(self):
        for customer in self.customers:
            self.make_invoice(partner=customer, due=date(2026, 3, 1))
        run = self.run_dunning(date(2026, 3, 9))
        with self.mock_mail_gateway():
            run.action_send()
        mails = self.env["mail.mail"].search(
            [("model", "=", run.letter_ids._name), ("res_id", "in", run.letter_ids.ids)]
        )
        self.assertEqual(len(mails), 3)
        self.assertTrue(all(mails.mapped("credit_letter_pdf_pending")))
        letters = {mail: run.letter_ids.browse(mail.res_id) for mail in mails}
        return run, mails.sorted("id"), letters


@tagged("post_install", "-at_install")
class TestMailQueuePdfs(MailQueueCommon):
    def test_a_letter_whose_pdf_fails_does_not_stop_the_queue(self):
        run, mails, letters = self.queue_letters()
        broken = letters[mails[1]]
        Report = type(self.env["ir.actions.report"])
        render = Report._render_qweb_pdf

        def render_or_fail(report, report_ref, res_ids=None, data=None):
            if report_ref == LETTER_REPORT and res_ids == broken.ids:
                raise ValueError("the template of the level is broken")
            return render(report, report_ref, res_ids=res_ids, data=data)

        with (
            patch.object(Report, "_render_qweb_pdf", render_or_fail),
            self.mock_mail_gateway(),
        ):
            self.env["mail.mail"].process_email_queue()
        self.assertEqual(len(self._mails), 2)
        self.assertEqual(
            sorted(mail["email_to"][0] for mail in self._mails),
            sorted(
                f'"{c.name}" <{c.email}>' for c in self.customers - broken.partner_id
            ),
        )
        for sent in self._mails:
            self.assertEqual(len(sent["attachments"]), 1)
        self.assertEqual(mails[1].state, "exception")
        self.assertIn(broken.name, mails[1].failure_reason)
        self.assertIn("the template of the level is broken", mails[1].failure_reason)
        self.assertEqual(broken.state, "error")
        self.assertEqual(broken.email_state, "failed")
        self.assertIn("could not be created", broken.error_message)
        for mail in mails[0] + mails[2]:
            self.assertEqual(mail.state, "sent")
            self.assertEqual(letters[mail].email_state, "sent")
        # Once the level is fixed, the retry sends it with its PDF.
        with self.mock_mail_gateway():
            broken.action_retry()
            self.env["mail.mail"].process_email_queue()
        self.assertEqual(len(self._mails), 1)
        self.assertEqual(len(self._mails[0]["attachments"]), 1)
        self.assertEqual(broken.email_state, "sent")
        self.assertEqual(run.state, "done")

    def test_without_wkhtmltopdf_the_letters_say_so(self):
        """No wkhtmltopdf on the server: each email fails with a message that
        names its letter and the cause, nothing is sent without its PDF."""
        _run, mails, letters = self.queue_letters()
        Report = type(self.env["ir.actions.report"])
        with (
            patch.object(Report, "get_wkhtmltopdf_state", lambda self: "install"),
            self.mock_mail_gateway(),
        ):
            self.env["mail.mail"].with_context(
                force_report_rendering=True
            ).process_email_queue()
        self.assertFalse(self._mails)
        self.assertEqual(set(mails.mapped("state")), {"exception"})
        for mail, letter in letters.items():
            self.assertEqual(letter.state, "error")
            self.assertIn(letter.display_name, letter.error_message)
            self.assertIn("Wkhtmltopdf is not installed", letter.error_message)
            self.assertEqual(mail.failure_reason, letter.error_message)

    def test_rendering_stops_at_its_time_limit_and_the_rest_waits(self):
        """One call renders for ``mail_pdf_call_seconds`` at most (its first slice
        of documents always): the emails not reached stay in the queue, still to
        render, and the queue's scheduled action is triggered for them."""
        _run, mails, letters = self.queue_letters()
        self.env["ir.config_parameter"].set_param(
            "l10n_fr_credit_collection.mail_pdf_call_seconds", "0"
        )
        cron = self.env.ref("mail.ir_cron_mail_scheduler_action")
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        # One wkhtmltopdf at a time: slices of two documents.
        with (
            patch.object(ir_actions_report, "PDF_WORKERS", 1),
            self.mock_mail_gateway(),
        ):
            self.env["mail.mail"].process_email_queue()
            self.assertEqual(len(self._mails), 2)
            self.assertEqual(mails[2].state, "outgoing")
            self.assertTrue(mails[2].credit_letter_pdf_pending)
            self.assertFalse(mails[2].attachment_ids)
            self.assertEqual(letters[mails[2]].email_state, "queued")
            self.assertEqual(
                self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]),
                triggers + 1,
            )
            self.env["mail.mail"].process_email_queue()
        self.assertEqual(len(self._mails), 3)
        self.assertEqual({letter.email_state for letter in letters.values()}, {"sent"})

    def test_a_spent_cron_pass_sends_only_the_emails_ready(self):
        """Other jobs used the cron worker's pass: the queue renders no letter,
        sends the emails that need no rendering, and runs again in the worker's
        next pass."""
        _run, mails, letters = self.queue_letters()
        plain = self.env["mail.mail"].create(
            {"subject": "Hello", "body_html": "<p>Hi</p>", "email_to": "a@b.example"}
        )
        cron = self.env.ref("mail.ir_cron_mail_scheduler_action")
        Trigger = self.env["ir.cron.trigger"]
        triggers = Trigger.search_count([("cron_id", "=", cron.id)])
        with cron_pass(100), self.mock_mail_gateway():
            self.env["mail.mail"].process_email_queue()
            self.assertEqual([mail["subject"] for mail in self._mails], ["Hello"])
        self.assertEqual(plain.state, "sent")
        self.assertEqual(set(mails.mapped("state")), {"outgoing"})
        self.assertTrue(all(mails.mapped("credit_letter_pdf_pending")))
        self.assertGreater(Trigger.search_count([("cron_id", "=", cron.id)]), triggers)
        with cron_pass(0), self.mock_mail_gateway():
            self.env["mail.mail"].process_email_queue()
            self.assertEqual(len(self._mails), 3)
        self.assertEqual({letter.email_state for letter in letters.values()}, {"sent"})

    def test_invoices_are_attached_once_rendered_or_as_sent(self):
        """A level that attaches the invoices: the PDF Odoo kept when the invoice
        was sent goes as it is, the others are rendered."""
        self.first.attach_invoices = True
        _run, mails, letters = self.queue_letters()
        kept = letters[mails[0]].line_ids.move_id
        self.env["ir.attachment"].create(
            {
                "name": "Invoice as sent.pdf",
                "raw": b"%PDF-1.4 the invoice as sent",
                "res_model": "account.move",
                "res_id": kept.id,
                "res_field": "invoice_pdf_report_file",
            }
        )
        kept.invalidate_recordset(["invoice_pdf_report_id"])
        self.assertTrue(kept.invoice_pdf_report_id)
        with self.mock_mail_gateway():
            self.env["mail.mail"].process_email_queue()
        self.assertEqual(len(self._mails), 3)
        by_customer = {mail["email_to"][0]: mail for mail in self._mails}
        for mail, letter in letters.items():
            sent = by_customer[
                f'"{letter.partner_id.name}" <{letter.partner_id.email}>'
            ]
            names = [attachment[0] for attachment in sent["attachments"]]
            self.assertEqual(len(names), 2, names)
            self.assertTrue(names[0].startswith(letter.name.replace("/", "-")))
            if mail == mails[0]:
                self.assertEqual(names[1], "Invoice as sent.pdf")
                self.assertEqual(
                    sent["attachments"][1][1], b"%PDF-1.4 the invoice as sent"
                )
            else:
                # Test mode renders the HTML (see _pre_render_qweb_pdf).
                invoice = letter.line_ids.move_id
                self.assertTrue(names[1].endswith(".pdf"), names[1])
                self.assertIn(invoice.name.encode(), sent["attachments"][1][1])


@tagged("post_install", "-at_install")
class TestMailQueueRealPdfs(MailQueueCommon, HttpCase):
    """wkhtmltopdf for real (it fetches the assets from the test server): each
    email carries its own letter, one document per wkhtmltopdf run."""

    def test_each_email_gets_its_own_letter_pdf(self):
        _run, mails, letters = self.queue_letters()
        run_wkhtmltopdf = ir_actions_report._run_wkhtmltopdf
        bodies_of, delays = {}, set()

        def run_and_record(command, bodies, header, footer):
            content, error = run_wkhtmltopdf(command, bodies, header, footer)
            bodies_of[content] = bodies
            delays.add(command[command.index("--javascript-delay") + 1])
            return content, error

        with (
            patch.object(ir_actions_report, "_run_wkhtmltopdf", run_and_record),
            self.mock_mail_gateway(),
        ):
            self.env["mail.mail"].with_context(
                force_report_rendering=True
            ).process_email_queue()
        self.assertEqual(len(self._mails), 3)
        self.assertEqual(len(bodies_of), 3, "one wkhtmltopdf run per letter")
        self.assertEqual(delays, {"200"}, "no JavaScript to wait 1 s for")
        for sent in self._mails:
            letter = next(
                letter
                for letter in letters.values()
                if letter.partner_id.email in sent["email_to"][0]
            )
            ((name, content, mimetype),) = sent["attachments"]
            self.assertEqual(mimetype, "application/pdf")
            self.assertIn(letter.name.replace("/", "-"), name)
            self.assertGreaterEqual(
                PdfFileReader(io.BytesIO(content), strict=False).getNumPages(), 1
            )
            # The PDF was made from this letter's page alone.
            (body,) = bodies_of[content]
            self.assertIn(letter.name, body)
            for other in letters.values():
                if other != letter:
                    self.assertNotIn(other.name, body)
        self.assertEqual({letter.email_state for letter in letters.values()}, {"sent"})

    def test_several_letters_print_in_one_pdf(self):
        """A run's letters printed together: one PDF holding each letter, whatever
        the wkhtmltopdf build (Debian's returns an empty file for several
        documents in one run)."""
        _run, _mails, letters = self.queue_letters()
        letters = self.env["credit.dunning.letter"].union(*letters.values())
        one = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._credit_render_pdf_jobs({1: (LETTER_REPORT, letters[:1])})[1]
        )
        content, kind = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf(LETTER_REPORT, letters.ids)
        )
        self.assertEqual(kind, "pdf")
        pages = PdfFileReader(io.BytesIO(content), strict=False).getNumPages()
        first = PdfFileReader(io.BytesIO(one), strict=False).getNumPages()
        self.assertGreaterEqual(pages, 3 * first)
