import base64
import io
from datetime import date, datetime, timedelta

from openpyxl import load_workbook

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import SQL

from ..engine.oversight import aging_bucket
from .common import CreditCollectionCommon

AS_OF = date(2026, 6, 30)
BUCKETS = ("amount_not_due", "amount_b1", "amount_b2", "amount_b3", "amount_b4")


@tagged("post_install", "-at_install")
class TestAgedBalance(CreditCollectionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesman = new_test_user(cls.env, login="salesman", name="Sophie Vente")
        cls.customer.user_id = cls.salesman
        # Boulangerie Martin: one invoice per bucket limit, and a credit note.
        cls.due_yesterday = cls.make_invoice(due=AS_OF - timedelta(1), amount=100)
        cls.due_30 = cls.make_invoice(due=AS_OF - timedelta(30), amount=200)
        cls.due_31 = cls.make_invoice(due=AS_OF - timedelta(31), amount=300)
        cls.due_90 = cls.make_invoice(due=AS_OF - timedelta(90), amount=400)
        cls.due_91 = cls.make_invoice(due=AS_OF - timedelta(91), amount=500)
        cls.not_due = cls.make_invoice(
            due=date(2026, 7, 15), invoice_date=date(2026, 6, 15), amount=600
        )
        cls.refund = cls.make_invoice(
            due=date(2026, 6, 1), amount=150, move_type="out_refund"
        )
        # Garage Dupont: a partial payment before the date, a payment after it.
        cls.partial = cls.make_invoice(
            partner=cls.customer_b, due=date(2026, 5, 15), amount=1000
        )
        cls.pay(cls.partial, 400, on=date(2026, 6, 10))
        cls.paid_later = cls.make_invoice(
            partner=cls.customer_b, due=date(2026, 6, 20), amount=700
        )
        cls.pay(cls.paid_later, 700, on=date(2026, 7, 5))
        # After the date: not in the aged balance at all.
        cls.make_invoice(due=date(2026, 7, 31), invoice_date=date(2026, 7, 1))

    def wizard(self, **values):
        return self.env["credit.aged.balance.wizard"].create({"date": AS_OF, **values})

    def rows(self, wizard, groupby="partner_id"):
        """``{group: (not due, b1, b2, b3, b4, total)}`` of the computed lines."""
        groups = self.env["credit.aged.balance.line"]._read_group(
            [("wizard_id", "=", wizard.id)],
            [groupby],
            [f"{fname}:sum" for fname in (*BUCKETS, "amount_total")],
        )
        return {group: tuple(sums) for group, *sums in groups}

    def receivable_balance(self, company, as_of):
        [(balance,)] = self.env["account.move.line"]._read_group(
            [
                ("company_id", "=", company.id),
                ("account_id.account_type", "=", "asset_receivable"),
                ("parent_state", "=", "posted"),
                ("date", "<=", as_of),
            ],
            [],
            ["balance:sum"],
        )
        return balance

    def test_buckets_payments_and_credit_note(self):
        wizard = self.wizard()
        action = wizard.action_show()
        self.assertEqual(action["res_model"], "credit.aged.balance.line")
        self.assertEqual(action["domain"], [("wizard_id", "=", wizard.id)])
        rows = self.rows(wizard)
        # 1 and 30 days late: 1-30; 31: 31-60; 90: 61-90; 91: over 90; the credit
        # note due 29 days ago lowers 1-30.
        self.assertEqual(
            rows[self.customer], (600, 100 + 200 - 150, 300, 400, 500, 1950)
        )
        # 1,000 less 400 paid before the date (45 days late); 700 paid after the
        # date, still open on it (10 days late).
        self.assertEqual(rows[self.customer_b], (0, 700, 600, 0, 0, 1300))
        self.assertEqual(len(rows), 2)
        self.assertEqual(
            sum(row[-1] for row in rows.values()),
            self.receivable_balance(self.company, AS_OF),
        )
        # Later the payment counts, and the July invoice too.
        later = self.wizard(date=date(2026, 7, 10))
        later._compute_lines()
        self.assertEqual(self.rows(later)[self.customer_b][-1], 600)
        self.assertEqual(
            sum(row[-1] for row in self.rows(later).values()),
            self.receivable_balance(self.company, date(2026, 7, 10)),
        )

    def test_unmatched_payment_is_negative(self):
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.customer_b.id,
                "amount": 250,
                "date": date(2026, 6, 5),
            }
        )
        payment.action_post()
        wizard = self.wizard()
        wizard._compute_lines()
        # Not due (dated before the date, due on its own date: 25 days ago, 1-30).
        self.assertEqual(self.rows(wizard)[self.customer_b][-1], 1300 - 250)
        self.assertEqual(
            sum(row[-1] for row in self.rows(wizard).values()),
            self.receivable_balance(self.company, AS_OF),
        )

    def test_bucket_sql_matches_engine(self):
        """The CASE of the query puts every day in the engine's bucket."""
        Wizard = self.env["credit.aged.balance.wizard"]
        for limits in ((30, 60, 90), (10, 20, 45)):
            dues = [AS_OF - timedelta(days) for days in range(-5, 130)]
            rows = self.env.execute_query(
                SQL(
                    "SELECT due, %s FROM unnest(%s::date[]) AS due",
                    Wizard._bucket_sql(SQL("due"), AS_OF, limits),
                    dues,
                )
            )
            keys = ["not_due", "b1", "b2", "b3", "b4"]
            self.assertEqual(
                {due: keys[index] for due, index in rows},
                {due: aging_bucket(due, AS_OF, limits) for due in dues},
            )

    def test_groupings_salesperson_and_level(self):
        line = self.term_lines(self.due_91)
        line.dunning_level_id = self.second
        self.due_31.invoice_user_id = False
        wizard = self.wizard()
        wizard._compute_lines()
        levels = self.rows(wizard, "dunning_level_id")
        self.assertEqual(levels[self.second][-1], 500)
        self.assertEqual(levels[self.env["credit.dunning.level"]][-1], 2750)
        # Without a salesperson on the invoice, the customer's.
        users = self.rows(wizard, "user_id")
        self.assertEqual(users[self.salesman][-1], 300)
        self.assertEqual(users[self.env.user][-1], 2950)

    def test_custom_limits(self):
        self.company.write(
            {
                "credit_aging_limit_1": 10,
                "credit_aging_limit_2": 30,
                "credit_aging_limit_3": 60,
            }
        )
        wizard = self.wizard()
        wizard._compute_lines()
        # 1 day late: 1-10; 30: 11-30; 31: 31-60; 90 and 91: over 60; the credit
        # note (29 days): 11-30.
        self.assertEqual(
            self.rows(wizard)[self.customer], (600, 100, 200 - 150, 300, 900, 1950)
        )
        labels = self.env["credit.aged.balance.line"].fields_get(
            ["amount_b1", "amount_b4"], ["string"]
        )
        self.assertEqual(labels["amount_b1"]["string"], "1-10 days")
        self.assertEqual(labels["amount_b4"]["string"], "> 60 days")
        self.assertIn("11-30 days", wizard.buckets_label)
        # The list and the pivot read their column labels from get_views.
        views = self.env["credit.aged.balance.line"].get_views(
            [(False, "list"), (False, "pivot")]
        )
        described = views["models"]["credit.aged.balance.line"]["fields"]
        self.assertEqual(described["amount_b2"]["string"], "11-30 days")
        self.assertEqual(described["amount_b3"]["string"], "31-60 days")

    def test_currency_filter(self):
        usd = self.setup_other_currency("USD", rates=[("2026-01-01", 2.0)])
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.customer_b.id,
                "currency_id": usd.id,
                "invoice_date": date(2026, 6, 1),
                "invoice_date_due": date(2026, 6, 1),
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Service",
                            "quantity": 1,
                            "price_unit": 1000,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
        invoice.action_post()
        wizard = self.wizard(currency_id=usd.id)
        wizard._compute_lines()
        # 1,000 USD at 2 USD per euro, in euros, due 29 days ago.
        self.assertEqual(self.rows(wizard), {self.customer_b: (0, 500, 0, 0, 0, 500)})
        self.assertEqual(wizard.line_ids.currency_id, usd)
        everything = self.wizard()
        everything._compute_lines()
        self.assertEqual(self.rows(everything)[self.customer_b][-1], 1800)

    def test_future_date(self):
        wizard = self.wizard(date=fields.Date.today() + timedelta(1))
        with self.assertRaisesMessage(UserError, "cannot be in the future"):
            wizard.action_show()
        with self.assertRaisesMessage(UserError, "cannot be in the future"):
            wizard.action_export_xlsx()
        self.assertFalse(wizard.line_ids)
        self.assertFalse(wizard.xlsx_file)

    def test_bucket_limits_must_increase(self):
        for limits in ((30, 30, 90), (60, 30, 90), (0, 30, 90)):
            with self.assertRaisesMessage(ValidationError, "positive and increasing"):
                self.company.write(
                    dict(
                        zip(
                            (
                                "credit_aging_limit_1",
                                "credit_aging_limit_2",
                                "credit_aging_limit_3",
                            ),
                            limits,
                            strict=True,
                        )
                    )
                )
        self.assertEqual(self.company._get_aging_limits(), (30, 60, 90))

    def test_xlsx(self):
        wizard = self.wizard()
        action = wizard.action_export_xlsx()
        self.assertEqual(action["type"], "ir.actions.act_url")
        self.assertIn(
            f"/web/content/{wizard._name}/{wizard.id}/xlsx_file/", action["url"]
        )
        self.assertIn("download=true", action["url"])
        book = load_workbook(io.BytesIO(base64.b64decode(wizard.xlsx_file)))
        self.assertEqual(len(book.worksheets), 1)
        sheet = book.active
        values = list(sheet.iter_rows(values_only=True))
        self.assertEqual(values[0][0], "Aged Balance")
        self.assertEqual(values[2][:2], ("As of", datetime(2026, 6, 30)))
        header = next(index for index, row in enumerate(values) if row[0] == "Customer")
        self.assertEqual(
            values[header],
            (
                "Customer",
                "Not Due",
                "1-30 days",
                "31-60 days",
                "61-90 days",
                "> 90 days",
                "Total",
            ),
        )
        self.assertEqual(sheet.freeze_panes, f"A{header + 2}")
        rows = self.rows(wizard)
        body = values[header + 1 : -1]
        self.assertEqual(
            body,
            [
                (partner.name, *rows[partner])
                for partner in (self.customer, self.customer_b)
            ],
        )
        self.assertTrue(all(isinstance(value, float | int) for value in body[0][1:]))
        total_row = sheet[header + len(body) + 2]
        self.assertEqual(total_row[0].value, "Total")
        self.assertEqual(
            total_row[6].value, f"=SUM(G{header + 2}:G{header + len(body) + 1})"
        )
        self.assertEqual(total_row[6].number_format, "#,##0.00")
        cached = load_workbook(
            io.BytesIO(base64.b64decode(wizard.xlsx_file)), data_only=True
        ).active
        self.assertEqual(
            [cell.value for cell in cached[header + len(body) + 2][1:]],
            [sum(row[index] for row in rows.values()) for index in range(6)],
        )

    def test_multi_company(self):
        company_b = self.setup_other_company(name="Autre SAS")["company"]
        invoice = self.make_invoice(due=date(2026, 5, 1), amount=800, company=company_b)
        self.assertEqual(invoice.company_id, company_b)
        wizard = self.wizard()
        wizard._compute_lines()
        self.assertEqual(self.rows(wizard)[self.customer][-1], 1950)
        other = (
            self.env["credit.aged.balance.wizard"]
            .with_company(company_b)
            .create({"date": AS_OF})
        )
        self.assertEqual(other.company_id, company_b)
        other._compute_lines()
        self.assertEqual(self.rows(other), {self.customer: (0, 0, 800, 0, 0, 800)})
        # A user of the first company only does not see the other's lines.
        collector = new_test_user(
            self.env,
            login="collector_a",
            groups="l10n_fr_credit_collection.group_credit_collection_user",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        self.assertFalse(
            self.env["credit.aged.balance.line"]
            .with_user(collector)
            .search([("wizard_id", "=", other.id)])
        )

    def test_access(self):
        plain = new_test_user(
            self.env,
            login="plain_aged",
            groups="base.group_user,account.group_account_invoice",
        )
        with self.assertRaises(AccessError):
            self.env["credit.aged.balance.wizard"].with_user(plain).create(
                {"date": AS_OF}
            )
        wizard = self.wizard()
        wizard._compute_lines()
        with self.assertRaises(AccessError):
            self.env["credit.aged.balance.line"].with_user(plain).search([])
        collector = new_test_user(
            self.env,
            login="collector_aged",
            groups="l10n_fr_credit_collection.group_credit_collection_user,"
            "account.group_account_invoice",
        )
        mine = (
            self.env["credit.aged.balance.wizard"]
            .with_user(collector)
            .create({"date": AS_OF})
        )
        mine.action_show()
        self.assertEqual(len(mine.line_ids), 2)

    def test_query_count_does_not_grow(self):
        wizard = self.wizard()

        def count():
            # Warm the ORM caches (access rules...) first, then count.
            wizard._compute_lines()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            wizard._compute_lines()
            return self.env.cr.sql_log_count - before

        # The first call may still miss a cache entry that a test earlier filled.
        few = min(count(), count())
        partners = self.env["res.partner"].create(
            [{"name": f"Client {index}", "is_company": True} for index in range(35)]
        )
        for partner in partners:
            self.make_invoice(partner=partner, due=date(2026, 5, 1), amount=10)
        many = min(count(), count())
        self.assertEqual(len(wizard.line_ids), 37)
        self.assertEqual(few, many)
