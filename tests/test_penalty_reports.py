import io
from datetime import date

from openpyxl import load_workbook

from odoo.tests import tagged

from .common import CreditCollectionCommon

STATEMENT = "l10n_fr_credit_collection.action_report_penalty_statement"


@tagged("post_install", "-at_install")
class TestPenaltyReports(CreditCollectionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoice = cls.make_invoice(amount=5000, due=date(2025, 5, 31))
        cls.pay(cls.invoice, 5000, on=date(2025, 8, 20))
        cls.invoice.compute_late_penalties(date(2025, 9, 30))

    def test_statement_pdf_and_xlsx_share_their_figures(self):
        builder = self.env["report.l10n_fr_credit_collection.report_penalty_statement"]
        data = builder._get_statement_data(self.customer, date(2025, 9, 30))
        block = data["currencies"][0]
        self.assertEqual(
            (block["interest"], block["indemnity"], block["total"]),
            (138.92, 40.0, 178.92),
        )
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html(
                STATEMENT, self.customer.ids, data={"as_of": "2025-09-30"}
            )[0]
            .decode()
        )
        for text in (
            self.invoice.name,
            "54.04",
            "84.88",
            "13.15",
            "12.15",
            "178.92",
            "D441-5",
        ):
            self.assertIn(text, html)
        content = self.customer._penalty_statement_xlsx(date(2025, 9, 30))
        sheet = load_workbook(io.BytesIO(content)).active
        rows = list(sheet.iter_rows(values_only=True))
        amounts = [row[7] for row in rows if row[0] == self.invoice.name]
        self.assertEqual(amounts, [54.04, 84.88, 40.0])
        totals = {
            row[6]: row[7]
            for row in rows
            if isinstance(row[6], str) and row[6].startswith("Total")
        }
        self.assertEqual(totals["Total due"], block["total"])
        self.assertEqual(totals["Total penalties"], block["interest"])

    def test_statement_wizard(self):
        wizard = (
            self.env["credit.penalty.statement.wizard"]
            .with_context(active_model="res.partner", active_id=self.customer.id)
            .create({"date": date(2025, 9, 30), "recompute": False})
        )
        action = wizard.action_print_pdf()
        self.assertEqual(
            action["data"], {"as_of": "2025-09-30", "partner_ids": self.customer.ids}
        )
        action = wizard.action_export_xlsx()
        self.assertIn("download=true", action["url"])
        self.assertTrue(wizard.xlsx_file)

    def test_invoice_pdf_carries_the_l441_9_mentions(self):
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("account.account_invoices", self.invoice.ids)[0]
            .decode()
        )
        self.assertIn("refinancing operation, increased by 10 percentage points", html)
        self.assertIn("fixed recovery indemnity of", html)
        self.assertIn("40.00", html)
        consumer = self.env["res.partner"].create(
            {"name": "Sophie", "debtor_type": "consumer"}
        )
        consumer_invoice = self.make_invoice(partner=consumer, due=date(2026, 1, 31))
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("account.account_invoices", consumer_invoice.ids)[0]
            .decode()
        )
        self.assertIn("legal interest rate", html)
        self.assertNotIn("recovery indemnity", html)

    def test_letters_show_accrued_penalties_when_the_company_asks(self):
        late = self.make_invoice(
            partner=self.customer_b, amount=10000, due=date(2026, 1, 31)
        )
        self.company.dunning_show_penalties = True
        letter = self.run_dunning(date(2026, 4, 15)).letter_ids
        self.assertEqual(letter.partner_id, self.customer_b)
        self.assertEqual(
            late.penalty_line_ids.filtered(lambda line: line.kind == "interest").amount,
            246.33,
        )
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html(
                "l10n_fr_credit_collection.action_report_dunning_letter", letter.ids
            )[0]
            .decode()
        )
        self.assertIn("accrued to date", html)
        self.assertIn("286.33", html)
