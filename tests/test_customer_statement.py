import base64
import io
from datetime import date

from openpyxl import load_workbook

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools.misc import formatLang

from .common import CreditCollectionCommon

STATEMENT_REPORT = "l10n_fr_credit_collection.action_report_customer_statement"
STATEMENT_TEMPLATE = "l10n_fr_credit_collection.mail_template_customer_statement"


@tagged("post_install", "-at_install")
class TestCustomerStatement(CreditCollectionCommon):
    """A hand-built account: invoice A (1,000) before the period, paid after it;
    in the period (1 Jan - 30 Jun 2026) invoice B (2,000) half-paid with 500,
    invoice C (1,500) settled by a credit note of 300 and a payment of 1,200."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoice_a = cls.make_invoice(
            amount=1000, invoice_date=date(2025, 12, 15), due=date(2026, 1, 14)
        )
        cls.invoice_b = cls.make_invoice(
            amount=2000, invoice_date=date(2026, 2, 10), due=date(2026, 3, 12)
        )
        cls.payment_b = cls.pay(cls.invoice_b, 500, on=date(2026, 3, 1))
        cls.invoice_c = cls.make_invoice(
            amount=1500, invoice_date=date(2026, 3, 15), due=date(2026, 4, 14)
        )
        cls.refund_c = cls.make_invoice(
            amount=300,
            move_type="out_refund",
            invoice_date=date(2026, 4, 1),
            due=date(2026, 4, 1),
        )
        (cls.term_lines(cls.invoice_c) | cls.term_lines(cls.refund_c)).reconcile()
        cls.payment_c = cls.pay(cls.invoice_c, 1200, on=date(2026, 4, 15))
        cls.payment_a = cls.pay(cls.invoice_a, 1000, on=date(2026, 7, 10))
        cls.statement = cls.env["credit.customer.statement"].create(
            {
                "partner_id": cls.customer.id,
                "date_from": date(2026, 1, 1),
                "date_to": date(2026, 6, 30),
            }
        )

    def receivable(self, payment):
        return payment.move_id.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )

    def test_statement_of_the_period(self):
        data = self.statement._get_statement_data()
        self.assertEqual(data["opening_balance"], 1000.0)
        rows = [
            (entry["document"], entry["debit"], entry["credit"], entry["balance"])
            for entry in data["entries"]
        ]
        self.assertEqual(
            rows,
            [
                (self.invoice_b.name, 2000.0, 0.0, 3000.0),
                (self.receivable(self.payment_b).move_name, 0.0, 500.0, 2500.0),
                (self.invoice_c.name, 1500.0, 0.0, 4000.0),
                (self.refund_c.name, 0.0, 300.0, 3700.0),
                (self.receivable(self.payment_c).move_name, 0.0, 1200.0, 2500.0),
            ],
        )
        self.assertEqual(data["closing_balance"], 2500.0)
        self.assertEqual((data["total_debit"], data["total_credit"]), (3500.0, 2000.0))
        kinds = [entry["kind"] for entry in data["entries"]]
        self.assertEqual(
            kinds, ["Invoice", "Payment", "Invoice", "Credit note", "Payment"]
        )
        # The opening and closing balances shown on the form agree.
        self.assertEqual(
            (self.statement.opening_balance, self.statement.closing_balance),
            (1000.0, 2500.0),
        )

    def test_matching_numbers_and_full_flags(self):
        entries = {
            entry["document"]: entry
            for entry in self.statement._get_statement_data()["entries"]
        }
        b = entries[self.invoice_b.name]
        pay_b = entries[self.receivable(self.payment_b).move_name]
        self.assertTrue(b["matching_number"].startswith("P"))
        self.assertEqual(b["matching_number"], pay_b["matching_number"])
        self.assertEqual((b["full"], b["partial"]), (False, True))
        # The payment is used up, but its lettre is not complete: invoice B is open.
        self.assertEqual((pay_b["full"], pay_b["partial"]), (False, True))
        full = self.term_lines(self.invoice_c).full_reconcile_id
        self.assertTrue(full)
        for name in (
            self.invoice_c.name,
            self.refund_c.name,
            self.receivable(self.payment_c).move_name,
        ):
            self.assertEqual(entries[name]["matching_number"], str(full.id))
            self.assertEqual(
                (entries[name]["full"], entries[name]["partial"]), (True, False)
            )

    def test_open_items_justify_the_closing_balance(self):
        data = self.statement._get_statement_data()
        items = [(item["document"], item["residual"]) for item in data["open_items"]]
        # Invoice A is matched today, by a payment made after the closing date.
        self.assertTrue(self.term_lines(self.invoice_a).reconciled)
        self.assertEqual(
            items, [(self.invoice_a.name, 1000.0), (self.invoice_b.name, 1500.0)]
        )
        self.assertEqual(data["open_total"], data["closing_balance"])
        self.assertEqual(sum(residual for _name, residual in items), 2500.0)

    def test_statement_in_the_past_ignores_later_payments(self):
        statement = self.statement.copy({"date_to": date(2026, 3, 31)})
        data = statement._get_statement_data()
        self.assertEqual(data["closing_balance"], 4000.0)
        items = {item["document"]: item["residual"] for item in data["open_items"]}
        self.assertEqual(
            items,
            {
                self.invoice_a.name: 1000.0,
                self.invoice_b.name: 1500.0,
                self.invoice_c.name: 1500.0,
            },
        )
        self.assertEqual(data["open_total"], 4000.0)
        entry_c = next(
            entry
            for entry in data["entries"]
            if entry["document"] == self.invoice_c.name
        )
        # Matched after the closing date: no lettre on this statement.
        self.assertEqual((entry_c["matching_number"], entry_c["full"]), ("", False))
        # On 10 April the credit note is matched with C, the payment not yet: the
        # lettre is shown as partial, though it is complete today.
        statement.date_to = date(2026, 4, 10)
        data = statement._get_statement_data()
        entry_c = next(
            entry
            for entry in data["entries"]
            if entry["document"] == self.invoice_c.name
        )
        full = self.term_lines(self.invoice_c).full_reconcile_id
        self.assertEqual(
            (entry_c["matching_number"], entry_c["full"], entry_c["partial"]),
            (str(full.id), False, True),
        )
        items = {item["document"]: item["residual"] for item in data["open_items"]}
        self.assertEqual(items[self.invoice_c.name], 1200.0)
        self.assertEqual(data["open_total"], data["closing_balance"])

    def test_unmatched_payment_is_an_open_item(self):
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.customer.id,
                "amount": 400.0,
                "date": date(2026, 5, 5),
                "journal_id": self.company_data["default_journal_bank"].id,
            }
        )
        payment.action_post()
        data = self.statement._get_statement_data()
        self.assertEqual(data["closing_balance"], 2100.0)
        self.assertIn(
            (payment.move_id.name, -400.0),
            [(item["document"], item["residual"]) for item in data["open_items"]],
        )
        self.assertEqual(data["open_total"], 2100.0)

    def test_query_count_does_not_grow_with_the_items(self):
        def count():
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            self.statement._get_statement_data()
            return self.env.cr.sql_log_count - before

        count()  # warm the ormcache (company, currency, translations)
        first = count()
        for day in (3, 4, 5, 6):
            invoice = self.make_invoice(
                amount=100 * day,
                invoice_date=date(2026, 5, day),
                due=date(2026, 6, day),
            )
            self.pay(invoice, 50, on=date(2026, 5, day + 10))
        self.assertEqual(count(), first)

    def test_contact_becomes_its_company(self):
        contact = self.env["res.partner"].create(
            {"name": "Paul Martin", "parent_id": self.customer.id, "type": "invoice"}
        )
        statement = self.env["credit.customer.statement"].create(
            {
                "partner_id": contact.id,
                "date_from": date(2026, 1, 1),
                "date_to": date(2026, 6, 30),
            }
        )
        self.assertEqual(statement.partner_id, self.customer)
        self.assertEqual(statement.contact_id, contact)
        self.assertEqual(statement._get_statement_data()["closing_balance"], 2500.0)

    def test_start_after_end_is_refused(self):
        with self.assertRaisesMessage(
            ValidationError, "choose a start date on or before the end date"
        ):
            self.env["credit.customer.statement"].create(
                {
                    "partner_id": self.customer.id,
                    "date_from": date(2026, 7, 1),
                    "date_to": date(2026, 6, 30),
                }
            )
        with self.assertRaisesMessage(ValidationError, "Boulangerie Martin"):
            self.statement.date_from = date(2026, 12, 1)

    def test_default_period(self):
        statement = self.env["credit.customer.statement"].create(
            {"partner_id": self.customer.id}
        )
        today = date.today()
        self.assertEqual(statement.date_to, today)
        self.assertEqual(
            statement.date_from,
            self.company.compute_fiscalyear_dates(today)["date_from"],
        )

    def test_pdf(self):
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html(STATEMENT_REPORT, self.statement.ids)[0]
            .decode()
        )
        number_b = self.term_lines(self.invoice_b).matching_number
        number_c = self.term_lines(self.invoice_c).matching_number
        for text in (
            "Statement of Account",
            "Open items justifying the balance",
            self.invoice_a.name,
            self.invoice_b.name,
            self.refund_c.name,
            number_b,
            number_c,
            "(partial)",
            "2,500.00",
            self.company.name,
            "Boulangerie Martin",
        ):
            self.assertIn(text, html)

    def test_pdf_in_french_formats(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.customer.lang = "fr_FR"
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html(STATEMENT_REPORT, self.statement.ids)[0]
            .decode()
        )
        self.assertIn("15/04/2026", html)
        french = self.env(context={"lang": "fr_FR"})
        self.assertIn(formatLang(french, 2500.0), html)

    def test_xlsx_read_back(self):
        action = self.statement.action_export_xlsx()
        self.assertIn("download=true", action["url"])
        content = base64.b64decode(self.statement.xlsx_file)
        workbook = load_workbook(io.BytesIO(content))
        entries, open_items = workbook.worksheets
        self.assertTrue(entries.freeze_panes)
        self.assertTrue(open_items.freeze_panes)
        rows = list(entries.iter_rows(values_only=True))
        by_label = {
            row[1]: row
            for row in rows
            if row[1] in ("Opening balance", "Closing balance")
        }
        self.assertEqual(by_label["Opening balance"][7], 1000.0)
        self.assertEqual(by_label["Closing balance"][5:8], (3500.0, 2000.0, 2500.0))
        row_b = next(row for row in rows if row[1] == self.invoice_b.name)
        self.assertEqual(row_b[5], 2000.0)
        self.assertEqual(row_b[8], self.term_lines(self.invoice_b).matching_number)
        self.assertEqual(row_b[9], "Partial")
        self.assertEqual(row_b[0].date(), date(2026, 2, 10))
        rows = list(open_items.iter_rows(values_only=True))
        documents = {self.invoice_a.name, self.invoice_b.name}
        residuals = [row[6] for row in rows if row[1] in documents]
        self.assertEqual(residuals, [1000.0, 1500.0])
        total = next(row for row in rows if row[1] == "Closing balance")
        self.assertEqual(total[6], sum(residuals))

    def test_email_attaches_the_printed_statement(self):
        template = self.env.ref(STATEMENT_TEMPLATE)
        values = template._generate_template(
            self.statement.ids, ["body_html", "report_template_ids", "partner_to"]
        )[self.statement.id]
        self.assertIn("2,500.00", values["body_html"])
        self.assertEqual(values["partner_ids"], self.customer.ids)
        ((name, content),) = values["attachments"]
        self.assertTrue(name.startswith("Statement of Account - "))
        # Test mode renders HTML instead of PDF: the same statement as printed.
        attached = base64.b64decode(content).decode()
        for text in (
            self.invoice_b.name,
            "Open items justifying the balance",
            "2,500.00",
        ):
            self.assertIn(text, attached)

    def test_send_by_email_from_the_composer(self):
        action = self.statement.action_send_statement()
        composer = (
            self.env[action["res_model"]].with_context(**action["context"]).create({})
        )
        self.assertEqual(composer.template_id, self.env.ref(STATEMENT_TEMPLATE))
        self.assertEqual(len(composer.attachment_ids), 1)
        composer._action_send_mail()
        message = self.statement.message_ids[0]
        self.assertEqual(message.partner_ids, self.customer)
        self.assertTrue(message.attachment_ids.name.startswith("Statement of Account"))

    def test_customer_form_button_opens_a_new_statement(self):
        action = self.env.ref(
            "l10n_fr_credit_collection.action_credit_customer_statement_new"
        )
        self.assertEqual(action.res_model, "credit.customer.statement")
        view = self.env.ref(
            "l10n_fr_credit_collection.view_partner_form_customer_statement"
        )
        self.assertIn(
            str(action.id), self.env["res.partner"].get_view(view.inherit_id.id)["arch"]
        )

    def test_multi_company(self):
        company_b = self.setup_other_company(name="Other FR")["company"]
        self.init_invoice(
            "out_invoice",
            partner=self.customer,
            invoice_date=date(2026, 2, 1),
            amounts=[700.0],
            taxes=[],
            company=company_b,
            post=True,
        )
        data = self.statement._get_statement_data()
        self.assertEqual(data["closing_balance"], 2500.0)
        other = (
            self.env["credit.customer.statement"]
            .with_company(company_b)
            .create(
                {
                    "partner_id": self.customer.id,
                    "date_from": date(2026, 1, 1),
                    "date_to": date(2026, 6, 30),
                }
            )
        )
        self.assertEqual(other.company_id, company_b)
        self.assertEqual(other._get_statement_data()["closing_balance"], 700.0)
        collector = new_test_user(
            self.env,
            login="statement_collector",
            groups="l10n_fr_credit_collection.group_credit_collection_user",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        Statement = self.env["credit.customer.statement"].with_user(collector)
        self.assertEqual(
            Statement.search([("partner_id", "=", self.customer.id)]), self.statement
        )
        with self.assertRaises(AccessError):
            other.with_user(collector).read(["name"])

    def test_access_rights(self):
        plain = new_test_user(
            self.env, login="statement_plain", groups="base.group_user"
        )
        with self.assertRaises(AccessError):
            self.statement.with_user(plain).read(["name"])
        with self.assertRaises(AccessError):
            self.env["credit.customer.statement"].with_user(plain).create(
                {"partner_id": self.customer.id}
            )
        collector = new_test_user(
            self.env,
            login="statement_user",
            groups="l10n_fr_credit_collection.group_credit_collection_user",
        )
        statement = (
            self.env["credit.customer.statement"]
            .with_user(collector)
            .create({"partner_id": self.customer.id, "date_from": date(2026, 1, 1)})
        )
        self.assertEqual(statement._get_statement_data()["opening_balance"], 1000.0)
