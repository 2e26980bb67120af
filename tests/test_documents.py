import io
import json
from datetime import date

from freezegun import freeze_time
from openpyxl import load_workbook

from odoo import Command
from odoo.tests import HttpCase, tagged

from ..models.credit_xlsx import XLSX_MIMETYPE
from .common import CreditCollectionCommon

LETTER = "l10n_fr_credit_collection.action_report_dunning_letter"
STATEMENT = "l10n_fr_credit_collection.action_report_penalty_statement"
INVOICE = "account.account_invoices"


@tagged("post_install", "-at_install")
class TestDocuments(CreditCollectionCommon):
    """What a debtor receives: who writes (creditor identity in the body), what is
    demanded, in French as a French reader expects it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_document_identity(
            company_vals={
                "vat": "FR44732829320",
                "phone": "+33 4 78 00 00 00",
                "email": "compta@fournil.example",
            },
            customer_vals={"vat": "FR96552100554"},
        )

    def _html(self, report, ids, data=None):
        return (
            self.env["ir.actions.report"]
            ._render_qweb_html(report, ids, data=data)[0]
            .decode()
        )

    def _french(self, *partners):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(
            ["l10n_fr_credit_collection"], ["fr_FR"], overwrite=True
        )
        for partner in partners:
            partner.lang = "fr_FR"

    def _send(self, letters, on):
        """Send the letters on that day, printing the postal ones, as a user does."""
        with freeze_time(on):
            letters.filtered(lambda letter: letter.state == "to_send").action_send()
            letters.filtered(lambda letter: letter.state == "to_print").action_print()

    def _formal_notice(self):
        """A formal notice to customer B: 10,000 overdue since 31 Jan 2026, a credit
        note of 300 still open, 2,000 not yet due; a first reminder sent on 10 Feb,
        the notice sent on 15 Mar 2026."""
        self.company.dunning_show_penalties = True
        self.overdue = self.make_invoice(
            partner=self.customer_b, amount=10000, due=date(2026, 1, 31)
        )
        self.refund = self.make_invoice(
            partner=self.customer_b,
            amount=300,
            due=date(2026, 2, 5),
            move_type="out_refund",
        )
        self.not_due = self.make_invoice(
            partner=self.customer_b,
            amount=2000,
            due=date(2026, 4, 30),
            invoice_date=date(2026, 1, 30),
        )
        self._send(self.run_dunning(date(2026, 2, 10)).letter_ids, "2026-02-10")
        letter = self.run_dunning(date(2026, 3, 15)).letter_ids
        self.assertTrue(letter.is_formal_notice)
        self._send(letter, "2026-03-15")
        return letter

    # ------------------------------------------------------------------ item 11

    def test_letter_identifies_creditor_and_debtor_in_its_body(self):
        letter = self._formal_notice()
        html = self._html(LETTER, letter.ids)
        page = html[html.index('class="page o_credit_dunning_letter"') :]
        for text in (
            "Fournil Lyonnais",
            "SAS with a share capital of 50,000.00",
            "Registered office: 12 rue de la République, 69002 Lyon",
            "RCS Lyon 732 829 320",
            "SIRET 732 829 320 00074",
            "VAT number: FR44732829320",
            "Phone: +33 4 78 00 00 00",
            "Email: compta@fournil.example",
            # The debtor, with its SIREN.
            "Garage Dupont",
            "3 avenue des Tilleuls",
            "SIREN 552 100 554",
            "VAT number: FR96552100554",
            # Bank details a debtor can copy.
            "FR76 3000 6000 0112 3456 7890 189",
            "AGRIFRPP",
        ):
            self.assertIn(text, page)

    def test_siren_from_company_registry_when_no_siret(self):
        self.customer.company_registry = "484 017 382"
        parties = self.env["credit.document.parties"]._get_parties(
            self.company, self.customer
        )
        self.assertEqual(parties["debtor"]["siren"], "484 017 382")
        self.assertIn("SIREN 484 017 382", parties["debtor"]["lines"])
        self.assertEqual(parties["creditor"]["siren"], "732 829 320")

    def test_formal_notice_states_the_amount_demanded(self):
        letter = self._formal_notice()
        # 10,000 at 12.15 % (ECB 2.15 + 10) from 1 Feb to 15 Mar 2026: 43 days.
        interest = round(10000 * 0.1215 * 43 / 365, 2)
        self.assertEqual(interest, 143.14)
        html = self._html(LETTER, letter.ids)
        demand = html[html.index("o_credit_formal_notice_demand") :]
        # Balance due: 10,000 - 300 + 2,000; principal demanded: 10,000 - 300.
        self.assertIn("11,700.00", html)
        for text in (
            "9,700.00",
            "143.14",
            "12.15 %",
            "02/01/2026",  # first late day, in the language's date format
            "40.00",
            # 9,700 + 143.14 + 40
            "9,883.14",
            "03/23/2026",  # deadline: sent on 15 March + 8 days
        ):
            self.assertIn(text, demand)
        self.assertIn("(art. D441-5 of the Commercial Code): 1 × 40.00", demand)
        self.assertIn("from 02/01/2026 at 12.15 % per year", demand)
        self.assertIn(
            "We demand payment of 9,883.14\N{NO-BREAK SPACE}€ by 03/23/2026", demand
        )
        totals = letter._get_letter_data()["totals"][0]
        self.assertEqual(
            (totals["due"], totals["overdue"], totals["interest"]),
            (11700.0, 9700.0, 143.14),
        )
        self.assertEqual((totals["indemnity"], totals["demanded"]), (40.0, 9883.14))

    def test_statement_identifies_creditor_and_debtor(self):
        invoice = self.make_invoice(
            partner=self.customer_b, amount=5000, due=date(2025, 5, 31)
        )
        invoice.compute_late_penalties(date(2025, 9, 30))
        html = self._html(STATEMENT, self.customer_b.ids, data={"as_of": "2025-09-30"})
        page = html[html.index('class="page o_credit_penalty_statement"') :]
        for text in ("RCS Lyon 732 829 320", "SIREN 552 100 554", "Garage Dupont"):
            self.assertIn(text, page)

    def test_settings_set_the_company_identity(self):
        settings = self.env["res.config.settings"].create(
            {
                "legal_form": "SARL",
                "share_capital": 8000.0,
                "rcs_city": "Nantes",
                "company_siret": "48401738200016",
            }
        )
        settings.execute()
        self.assertEqual(
            (
                self.company.legal_form,
                self.company.share_capital,
                self.company.rcs_city,
                self.company.siret,
            ),
            ("SARL", 8000.0, "Nantes", "48401738200016"),
        )
        lines = self.env["credit.document.parties"]._get_creditor_identity(
            self.company
        )["lines"]
        self.assertIn("SARL with a share capital of 8,000.00\N{NO-BREAK SPACE}€", lines)
        self.assertIn("RCS Nantes 484 017 382 - SIRET 484 017 382 00016", lines)

    # ------------------------------------------------------------------ item 10

    def test_statement_pdf_from_the_wizard_is_not_blank(self):
        """The path a user clicks: the wizard's action, then /report/pdf with the
        action's data and context and no ids (what the web client sends)."""
        invoice = self.make_invoice(amount=5000, due=date(2025, 5, 31))
        self.pay(invoice, 5000, on=date(2025, 8, 20))
        invoice.compute_late_penalties(date(2025, 9, 30))
        wizard = (
            self.env["credit.penalty.statement.wizard"]
            .with_context(active_model="res.partner", active_id=self.customer.id)
            .create({"date": date(2025, 9, 30), "recompute": False})
        )
        action = wizard.action_print_pdf()
        # getReportUrl(): options=<data>&context=<context>, then report_routes().
        data = json.loads(json.dumps(action["data"]))
        data["context"] = json.loads(json.dumps(action["context"]))
        report = self.env["ir.actions.report"].with_context(**data["context"])
        html = report._render_qweb_pdf(STATEMENT, None, data=data)[0].decode()
        self.assertIn("Boulangerie Martin", html)
        self.assertIn("178.92", html)
        # The context's active ids are enough when the data names no customer.
        del data["partner_ids"]
        html = report._render_qweb_pdf(STATEMENT, None, data=data)[0].decode()
        self.assertIn("178.92", html)

    # ------------------------------------------------------------------ item 14

    def test_statement_in_french_shows_rates_and_dates_as_french_readers_do(self):
        self._french(self.customer)
        invoice = self.make_invoice(amount=5000, due=date(2025, 5, 31))
        self.pay(invoice, 5000, on=date(2025, 8, 20))
        invoice.compute_late_penalties(date(2025, 9, 30))
        html = self._html(STATEMENT, self.customer.ids, data={"as_of": "2025-09-30"})
        for text in (
            "13,15 %",
            "12,15 %",
            "3,15 % + 10 points",  # ECB rate of 2025-H1 + 10 points
            "2,15 % + 10 points",
            "01/06/2025",  # dd/mm/yyyy
            "Arrêté au",
        ):
            self.assertIn(text, html)
        self.assertNotIn("13.15", html)

    def test_xlsx_in_the_customers_language_with_creditor_block(self):
        self._french(self.customer)
        invoice = self.make_invoice(amount=5000, due=date(2025, 5, 31))
        self.pay(invoice, 5000, on=date(2025, 8, 20))
        invoice.compute_late_penalties(date(2025, 9, 30))
        with self.assertNoLogs(level="WARNING"):
            content = self.customer._penalty_statement_xlsx(date(2025, 9, 30))
        sheet = load_workbook(io.BytesIO(content)).active
        self.assertEqual(sheet.title, "Décompte")
        rows = list(sheet.iter_rows(values_only=True))
        cells = "\n".join(cell for row in rows for cell in row if isinstance(cell, str))
        for text in (
            "Décompte des pénalités",
            "Fournil Lyonnais",
            "RCS Lyon 732 829 320",
            "Boulangerie Martin",
            "Facture",
            "Taux (%)",
            "Total dû",
        ):
            self.assertIn(text, cells)
        self.assertNotIn("Total due", cells)
        self.assertEqual(rows[0][0], "Décompte des pénalités")
        # Figures computed independently: 5,000 at 13.15 % for 30 days (June) and at
        # 12.15 % for 51 days (1 July to 20 August), and the 40 EUR indemnity.
        amounts = [row[7] for row in rows if row[0] == invoice.name]
        self.assertEqual(
            amounts,
            [
                round(5000 * 0.1315 * 30 / 365, 2),
                round(5000 * 0.1215 * 51 / 365, 2),
                40.0,
            ],
        )
        totals = {row[6]: row[7] for row in rows if row[6] in ("Total dû",)}
        self.assertEqual(totals["Total dû"], 178.92)

    def test_penalty_invoice_line_label_dates_in_the_language_format(self):
        invoice = self.make_invoice(amount=5000, due=date(2025, 5, 31))
        line = invoice.compute_late_penalties(date(2025, 9, 30)).filtered(
            lambda line: line.kind == "interest"
        )[:1]
        self.env["res.lang"]._activate_lang("fr_FR")
        name = line.with_context(lang="fr_FR")._prepare_penalty_invoice_line_vals()[
            "name"
        ]
        self.assertIn("01/06/2025", name)
        self.assertIn("30/06/2025", name)
        self.assertIn("13,15 %", name)
        self.assertNotIn("2025-06-01", name)

    # ------------------------------------------------------------------ item 15

    def test_grouped_lists_do_not_sum_rates_days_or_bases(self):
        fields_info = self.env["credit.penalty.line"].fields_get(
            ["rate", "days", "base_amount", "amount"], ["aggregator"]
        )
        self.assertEqual(fields_info["amount"].get("aggregator"), "sum")
        for name in ("rate", "days", "base_amount"):
            self.assertFalse(fields_info[name].get("aggregator"), name)
        rate = self.env["credit.reference.rate"].fields_get(["rate"], ["aggregator"])
        self.assertFalse(rate["rate"].get("aggregator"))

    # ------------------------------------------------------------------ items 5, 6

    def test_invoice_mention_states_the_early_payment_discount_terms(self):
        term = self.env["account.payment.term"].create(
            {
                "name": "2/10 net 30",
                "early_discount": True,
                "discount_percentage": 2,
                "discount_days": 10,
                "line_ids": [
                    Command.create(
                        {"value": "percent", "value_amount": 100, "nb_days": 30}
                    )
                ],
            }
        )
        invoice = self.make_invoice(
            amount=1000, term=term, invoice_date=date(2026, 3, 1)
        )
        html = self._html(INVOICE, invoice.ids)
        self.assertIn("Discount of 2 % for payment within 10 days.", html)
        self.assertNotIn("No discount for early payment", html)
        # Odoo prints the discounted amount and its date once; we do not repeat it.
        self.assertEqual(html.count("due if paid before"), 1)

    def test_invoice_mention_always_states_the_fixed_40_eur_indemnity(self):
        rule = self.env["credit.penalty.rule"].create(
            {
                "name": "No indemnity claimed",
                "company_id": self.company.id,
                "indemnity_enabled": False,
            }
        )
        self.customer.with_company(self.company).penalty_rule_id = rule
        invoice = self.make_invoice(amount=1000, due=date(2026, 3, 31))
        mention = invoice._get_penalty_mention()
        self.assertIn("fixed recovery indemnity of 40.00\N{NO-BREAK SPACE}€", mention)
        self.assertIn("No discount for early payment.", mention)
        html = self._html(INVOICE, invoice.ids)
        self.assertIn("fixed recovery indemnity of 40.00", html)


@tagged("post_install", "-at_install")
class TestStatementDownload(CreditCollectionCommon, HttpCase):
    def test_xlsx_download_logs_no_warning(self):
        """The download a user clicks: Odoo used to guess the file type from its
        first bytes, opened a cut zip and logged two WARNING tracebacks."""
        invoice = self.make_invoice(amount=5000, due=date(2025, 5, 31))
        self.pay(invoice, 5000, on=date(2025, 8, 20))
        invoice.compute_late_penalties(date(2025, 9, 30))
        wizard = (
            self.env["credit.penalty.statement.wizard"]
            .with_context(active_model="res.partner", active_id=self.customer.id)
            .create({"date": date(2025, 9, 30), "recompute": False})
        )
        action = wizard.action_export_xlsx()
        self.authenticate(self.env.user.login, self.env.user.login)
        with self.assertNoLogs(level="WARNING"):
            response = self.url_open(action["url"])
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], XLSX_MIMETYPE)
        sheet = load_workbook(io.BytesIO(response.content)).active
        self.assertIn(178.92, [row[7] for row in sheet.iter_rows(values_only=True)])
