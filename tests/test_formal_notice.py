import base64
import re
from datetime import date
from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import CreditCollectionCommon

LETTER = "l10n_fr_credit_collection.action_report_dunning_letter"
# Words of a court or bailiff act a formal notice must never borrow (C. pén.
# 433-13): in English and in French, whatever the language of the letter.
COURT_WORDS = (
    "sommation",
    "commandement",
    "peuple français",
    "huissier",
    "summons",
    "in the name of the french people",
)


@tagged("post_install", "-at_install")
class TestFormalNotice(CreditCollectionCommon):
    """The formal notice (mise en demeure): its nine points, the penal clause, the
    registered letter that carries it and the registered electronic letter hook."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_document_identity(company_vals={"dunning_show_penalties": True})
        cls.consumer = cls.env["res.partner"].create(
            {
                "name": "Sophie Bernard",
                "debtor_type": "consumer",
                "street": "8 rue des Lilas",
                "zip": "31000",
                "city": "Toulouse",
            }
        )
        cls.env.user.name = "Claire Moreau"
        cls.env.user.partner_id.function = "Credit Manager"
        cls.penal_rule = cls.env["credit.penalty.rule"].create(
            {
                "name": "Terms with a penal clause",
                "company_id": cls.company.id,
                "penal_clause": True,
                "penal_clause_percent": 10.0,
                "penal_clause_min_amount": 150.0,
            }
        )
        common = {"company_id": cls.company.id, "company_ids": [cls.company.id]}
        cls.collector = new_test_user(
            cls.env,
            login="fn_collector",
            groups="l10n_fr_credit_collection.group_credit_collection_user",
            **common,
        )
        cls.billing = new_test_user(
            cls.env,
            login="fn_billing",
            groups="account.group_account_invoice",
            **common,
        )

    # ------------------------------------------------------------------ helpers

    def _html(self, letter):
        return (
            self.env["ir.actions.report"]
            ._render_qweb_html(LETTER, letter.ids)[0]
            .decode()
        )

    def _send(self, letters, on):
        with freeze_time(on):
            letters.filtered(lambda letter: letter.state == "to_send").action_send()
            letters.filtered(lambda letter: letter.state == "to_print").action_print()

    def _formal_notice(self, partner=None):
        """A formal notice sent on 15 Mar 2026: 10,000 overdue since 31 Jan, a
        credit note of 300 still open, 2,000 not yet due; a first reminder sent on
        10 Feb. Returns (reminder, notice)."""
        partner = partner or self.customer_b
        self.overdue = self.make_invoice(
            partner=partner, amount=10000, due=date(2026, 1, 31)
        )
        self.refund = self.make_invoice(
            partner=partner,
            amount=300,
            due=date(2026, 2, 5),
            move_type="out_refund",
        )
        self.not_due = self.make_invoice(
            partner=partner,
            amount=2000,
            due=date(2026, 4, 30),
            invoice_date=date(2026, 1, 30),
        )
        reminder = self.run_dunning(date(2026, 2, 10)).letter_ids
        self._send(reminder, "2026-02-10")
        notice = self.run_dunning(date(2026, 3, 15)).letter_ids
        self.assertTrue(notice.is_formal_notice)
        self._send(notice, "2026-03-15")
        self.assertEqual(notice.state, "sent")
        return reminder, notice

    def _demand(self, html):
        return html[html.index("o_credit_formal_notice_demand") :]

    def _record(self, letter, user=None, **values):
        letter = letter.with_user(user or self.collector).with_context(
            tracking_disable=False, mail_notrack=False
        )
        action = letter.action_open_registered_wizard()
        wizard = (
            self.env["credit.dunning.registered.wizard"]
            .with_user(user or self.collector)
            .with_context(
                **action["context"], tracking_disable=False, mail_notrack=False
            )
            .create(values)
        )
        return wizard.action_apply()

    # ------------------------------------------------------------------ penal clause

    def test_penal_clause_amount(self):
        eur = self.company.currency_id
        rule = self.penal_rule
        self.assertEqual(rule._get_penal_clause_amount(5000.0, eur), 500.0)
        # The minimum when the percentage gives less.
        self.assertEqual(rule._get_penal_clause_amount(1000.0, eur), 150.0)
        # Rounded by the currency.
        rule.penal_clause_min_amount = 0.0
        self.assertEqual(rule._get_penal_clause_amount(1234.567, eur), 123.46)
        # Nothing owed, nothing claimed, whatever the minimum.
        rule.penal_clause_min_amount = 150.0
        self.assertEqual(rule._get_penal_clause_amount(0.0, eur), 0.0)
        self.assertEqual(rule._get_penal_clause_amount(-800.0, eur), 0.0)
        # The customer's terms have no penal clause.
        rule.penal_clause = False
        self.assertEqual(rule._get_penal_clause_amount(5000.0, eur), 0.0)
        legal = self.env["credit.penalty.rule"]._get_company_default(self.company)
        self.assertEqual(legal._get_penal_clause_amount(5000.0, eur), 0.0)

    def test_penal_clause_needs_a_percentage_and_a_positive_minimum(self):
        with self.assertRaisesMessage(ValidationError, "penal clause without its"):
            self.penal_rule.penal_clause_percent = 0.0
        with self.assertRaisesMessage(ValidationError, "cannot be negative"):
            self.penal_rule.penal_clause_min_amount = -1.0
        # Without a penal clause, no percentage is needed.
        self.penal_rule.write({"penal_clause": False, "penal_clause_percent": 0.0})

    def test_penal_clause_on_the_formal_notice_only_and_frozen(self):
        self.customer_b.with_company(self.company).penalty_rule_id = self.penal_rule
        reminder, notice = self._formal_notice()
        # The reminder claims penalties but never the penal clause (C. civ. 1231-5).
        reminder_totals = reminder._get_letter_data()["totals"][0]
        self.assertTrue(reminder_totals["penalties"])
        self.assertEqual(reminder_totals["penal_clause"], 0.0)
        self.assertFalse(reminder.penal_clause_percent)
        self.assertNotIn("Penal clause", self._html(reminder))
        # The notice: 10 % of the principal of 9,700 (above the 150 minimum).
        totals = notice._get_letter_data()["totals"][0]
        self.assertEqual(totals["penal_clause"], 970.0)
        # 9,700 + 143.14 interest + 40 indemnity + 970 penal clause.
        self.assertEqual(totals["demanded"], 10853.14)
        self.assertEqual(totals["interest"], 143.14)
        demand = self._demand(self._html(notice))
        self.assertIn(
            "Penal clause of our terms of sale (art. 1231-5 of the Civil Code): 10 % "
            "of the principal, minimum 150.00\N{NO-BREAK SPACE}€",
            demand,
        )
        self.assertIn("970.00", demand)
        self.assertIn("We demand payment of 10,853.14", demand)
        # Not in the penalty lines: those are interest and indemnity only.
        self.assertEqual(
            set(self.overdue.penalty_line_ids.mapped("kind")), {"interest", "indemnity"}
        )
        # A later change of the rule never changes what the notice claimed.
        self.penal_rule.write(
            {"penal_clause_percent": 20.0, "penal_clause_min_amount": 5000.0}
        )
        self.assertEqual(notice._get_letter_data()["totals"][0]["penal_clause"], 970.0)
        self.assertIn("10,853.14", self._html(notice))
        with self.assertRaises(AccessError):
            notice.with_user(self.collector).penal_clause_percent = 20.0

    # ------------------------------------------------------------------ nine points

    def test_formal_notice_prints_the_nine_points_for_a_professional(self):
        __, notice = self._formal_notice()
        html = self._html(notice)
        page = html[html.index('class="page o_credit_dunning_letter"') :]
        expected = (
            # 1. the subject line
            "Subject: FORMAL NOTICE TO PAY (MISE EN DEMEURE)",
            "Registered letter with acknowledgement of receipt",
            # 2. the date
            "03/15/2026",
            # 3. creditor and debtor, with registry mentions and SIREN
            "Fournil Lyonnais",
            "SAS with a share capital of 50,000.00",
            "RCS Lyon 732 829 320",
            "Garage Dupont",
            "3 avenue des Tilleuls",
            "SIREN 552 100 554",
            # 4. each invoice: number, date, due date, amount, balance due
            self.overdue.name,
            self.not_due.name,
            "01/30/2026",
            "01/31/2026",
            "04/30/2026",
            "10,000.00",
            "2,000.00",
            # 5. the total demanded, broken down
            "Principal: balance of the overdue invoices",
            "9,700.00",
            "Late-payment penalties (art. L441-10 of the Commercial Code)",
            "from 02/01/2026 at 12.15 % per year",
            "143.14",
            "(art. D441-5 of the Commercial Code): 1 × 40.00",
            "9,883.14",
            # 6. the demand, with its deadline
            "We demand payment of 9,883.14\N{NO-BREAK SPACE}€ by 03/23/2026",
            # 7. payment means and bank details
            "IBAN FR76 3000 6000 0112 3456 7890 189 - BIC AGRIFRPP",
            # 8. the consequences
            "Failing payment in full by 03/23/2026, we will apply to the competent "
            "court for an order for payment (injonction de payer), without further "
            "notice.",
            "Late-payment penalties keep running until payment in full",
            "costs of the proceedings",
            # 9. the signature, for the company
            "For Fournil Lyonnais,",
            "Claire Moreau",
            "Credit Manager",
        )
        for text in expected:
            self.assertIn(text, page)
        self.assertNotIn("Penal clause", page)
        self.assertNotIn("Interest at the legal rate", page)
        self._assert_no_court_words(page)

    def test_formal_notice_to_a_consumer_speaks_of_legal_interest(self):
        # An earlier notice was received on 10 Feb: legal interest runs from 11 Feb.
        invoice = self.make_invoice(
            partner=self.consumer, amount=5000, due=date(2026, 1, 31)
        )
        invoice.formal_notice_received_date = date(2026, 2, 10)
        self._send(self.run_dunning(date(2026, 2, 10)).letter_ids, "2026-02-10")
        notice = self.run_dunning(date(2026, 3, 15)).letter_ids
        self._send(notice, "2026-03-15")
        html = self._html(notice)
        page = html[html.index('class="page o_credit_dunning_letter"') :]
        # 5,000 at 2.62 % from 11 Feb to 15 Mar 2026: 33 days.
        interest = round(5000 * 0.0262 * 33 / 365, 2)
        self.assertEqual(interest, 11.84)
        for text in (
            "MISE EN DEMEURE",
            "Sophie Bernard",
            "8 rue des Lilas",
            invoice.name,
            "Interest at the legal rate (art. 1231-6 of the Civil Code)",
            "from 02/11/2026 at 2.62 % per year",
            "11.84",
            "5,011.84",
            "by 03/23/2026",
            "Interest at the legal rate runs from the day after you receive this "
            "notice until payment in full",
            "costs of the proceedings",
            "FR76 3000 6000 0112 3456 7890 189",
            "For Fournil Lyonnais,",
        ):
            self.assertIn(text, page)
        # No 40 EUR, no commercial penalties against a consumer.
        for text in ("D441-5", "L441-10", "40.00", "Late-payment penalties"):
            self.assertNotIn(text, page)
        self._assert_no_court_words(page)

    def test_formal_notice_in_french_borrows_no_court_words(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(
            ["l10n_fr_credit_collection"], ["fr_FR"], overwrite=True
        )
        self.customer_b.lang = "fr_FR"
        __, notice = self._formal_notice()
        html = self._html(notice)
        self.assertIn("MISE EN DEMEURE", html)
        self.assertIn("15/03/2026", html)
        self._assert_no_court_words(html)

    def _assert_no_court_words(self, html):
        text = re.sub(r"<[^>]+>", " ", html).lower()
        for word in COURT_WORDS:
            self.assertNotIn(word, text)

    def test_email_of_a_formal_notice_says_it_is_a_copy(self):
        reminder, notice = self._formal_notice()
        template = self.env.ref(
            "l10n_fr_credit_collection.mail_template_dunning_letter"
        )
        body = template._render_field("body_html", notice.ids)[notice.id]
        self.assertIn("This email is a copy of our formal notice", body)
        self.assertIn("the registered letter is the formal notice itself", body)
        self.assertIn(self.overdue.name, body)
        reminder_body = template._render_field("body_html", reminder.ids)[reminder.id]
        self.assertIn(self.overdue.name, reminder_body)
        self.assertNotIn("copy of our formal notice", reminder_body)

    # ------------------------------------------------------------------ LRAR

    def test_collection_user_records_the_registered_letter_of_a_sent_notice(self):
        __, notice = self._formal_notice()
        # An earlier notice was already received for the invoice not yet due.
        self.not_due.formal_notice_received_date = date(2026, 3, 1)
        receipt = base64.b64encode(b"%PDF-1.4 signed receipt")
        with freeze_time("2026-03-20"):
            self._record(
                notice,
                registered_number="1A 234 567 8901 2",
                registered_sent_date=date(2026, 3, 16),
                registered_received_date=date(2026, 3, 18),
                receipt_file=receipt,
                receipt_filename="AR.pdf",
            )
        self.assertEqual(notice.registered_number, "1A 234 567 8901 2")
        self.assertEqual(notice.registered_sent_date, date(2026, 3, 16))
        self.assertEqual(notice.registered_received_date, date(2026, 3, 18))
        attachment = notice.registered_receipt_attachment_id
        self.assertEqual(
            (attachment.name, attachment.res_model, attachment.res_id),
            ("AR.pdf", "credit.dunning.letter", notice.id),
        )
        self.assertEqual(attachment.raw, b"%PDF-1.4 signed receipt")
        # The received date starts the interest of the invoices; an earlier one
        # is kept, and a credit note gets none.
        self.assertEqual(self.overdue.formal_notice_received_date, date(2026, 3, 18))
        self.assertEqual(self.not_due.formal_notice_received_date, date(2026, 3, 1))
        self.assertFalse(self.refund.formal_notice_received_date)
        # Tracked in the chatter.
        self.env.flush_all()
        self.env.cr.precommit.run()
        tracked = notice.message_ids.tracking_value_ids.field_id.mapped("name")
        self.assertIn("registered_received_date", tracked)
        self.assertIn("registered_number", tracked)
        # The number is printed on a reprint.
        self.assertIn(
            "Registered letter with acknowledgement of receipt no. 1A 234 567 8901 2",
            self._html(notice),
        )
        # Everything else of the sent notice stays locked.
        as_collector = notice.with_user(self.collector)
        for vals in (
            {"date": date(2026, 3, 16)},
            {"contact_id": self.customer.id},
            {"user_id": self.collector.id},
            {"amount_overdue": 1.0},
        ):
            with self.assertRaisesMessage(AccessError, "was sent"):
                as_collector.write(vals)
        # Not yet received filter.
        pending = self.env["credit.dunning.letter"].search(
            [
                ("level_id.is_formal_notice", "=", True),
                ("state", "in", ("sent", "to_print")),
                ("registered_received_date", "=", False),
            ]
        )
        self.assertNotIn(notice, pending)

    def test_plain_user_cannot_record_the_registered_letter(self):
        __, notice = self._formal_notice()
        with self.assertRaises(AccessError):
            notice.with_user(self.billing).write({"registered_number": "1A 000"})
        with self.assertRaises(AccessError):
            self.env["credit.dunning.registered.wizard"].with_user(self.billing).create(
                {"letter_id": notice.id}
            )
        with self.assertRaises(AccessError):
            notice.with_user(self.billing).action_open_registered_wizard()
        self.assertFalse(notice.registered_number)

    def test_registered_letter_dates_are_checked(self):
        reminder, notice = self._formal_notice()
        cases = (
            (
                {
                    "registered_number": "1A",
                    "registered_sent_date": date(2026, 3, 10),
                },
                "before the letter's date (03/15/2026)",
            ),
            (
                {
                    "registered_number": "1A",
                    "registered_sent_date": date(2026, 3, 16),
                    "registered_received_date": date(2026, 3, 15),
                },
                "before it was posted (03/16/2026)",
            ),
            (
                {
                    "registered_number": "1A",
                    "registered_sent_date": date(2026, 3, 16),
                    "registered_received_date": date(2026, 3, 25),
                },
                "03/25/2026 is in the future",
            ),
            (
                {"registered_sent_date": date(2026, 3, 16)},
                "Enter the number of the registered letter",
            ),
            (
                {
                    "registered_number": "1A",
                    "registered_sent_date": False,
                    "registered_received_date": date(2026, 3, 18),
                },
                "posted before the day it was received",
            ),
        )
        with freeze_time("2026-03-20"):
            for values, message in cases:
                with self.assertRaisesMessage(ValidationError, message):
                    self._record(notice, **values)
        self.assertFalse(notice.registered_number)
        self.assertFalse(self.overdue.formal_notice_received_date)
        with self.assertRaisesMessage(UserError, "is not a formal notice"):
            reminder.with_user(self.collector).action_open_registered_wizard()
        with self.assertRaisesMessage(ValidationError, "is not a formal notice"):
            reminder.write({"registered_number": "1A"})

    # ------------------------------------------------------------------ LRE

    def test_registered_electronic_letter_needs_a_provider_and_consent(self):
        __, notice = self._formal_notice()
        with self.assertRaisesMessage(UserError, "No qualified registered electronic"):
            notice.action_send_registered_electronic()
        Letter = type(self.env["credit.dunning.letter"])
        with patch.object(
            Letter, "_get_registered_electronic_provider", return_value=True
        ):
            # A professional needs no consent: the provider's hook is reached.
            with self.assertRaisesMessage(UserError, "provider cannot send"):
                notice.action_send_registered_electronic()
            self.customer_b.debtor_type = "consumer"
            with self.assertRaisesMessage(UserError, "did not consent beforehand"):
                notice.action_send_registered_electronic()
            with patch.object(
                Letter, "_has_registered_electronic_consent", return_value=True
            ):
                with self.assertRaisesMessage(UserError, "provider cannot send"):
                    notice.action_send_registered_electronic()
