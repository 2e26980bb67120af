import csv
import io
from datetime import date
from decimal import Decimal

import openpyxl
from psycopg2.errors import SerializationFailure

from odoo import SUPERUSER_ID, Command, api
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import SQL, mute_logger

from .common import CreditCollectionCommon

USER = "l10n_fr_credit_collection.group_credit_collection_user"
BILLING = "account.group_account_invoice"
START = date(2026, 1, 1)
BATCH_DATE = date(2026, 3, 31)


@tagged("post_install", "-at_install")
class TestFactoringBatch(CreditCollectionCommon):
    """Transfer batches: what they gather, confirmation and its lock, the files and
    the slip, sending, cancelling, access and companies."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.partner_id.write(
            {"street": "1 rue du Port", "zip": "44000", "city": "Nantes"}
        )
        cls.factor = cls.env["res.partner"].create(
            {
                "name": "Affacturage Atlantique SA",
                "email": "cessions@affacturage-atlantique.example",
                "is_company": True,
                "street": "10 rue de la Paix",
                "zip": "75002",
                "city": "Paris",
            }
        )
        cls.factor_account = cls.env["res.partner.bank"].create(
            {"acc_number": "FR7630004000031234567890143", "partner_id": cls.factor.id}
        )
        cls.bank = cls.env["res.partner"].create(
            {"name": "Banque Régionale", "is_company": True}
        )
        Contract = cls.env["credit.factoring.contract"]
        cls.contract = Contract.create(
            {
                "name": "AFF-2026-01",
                "factor_id": cls.factor.id,
                "bank_account_id": cls.factor_account.id,
            }
        )
        cls.dailly = Contract.create(
            {
                "name": "DAILLY-01",
                "kind": "dailly",
                "factor_id": cls.bank.id,
                "notified": False,
            }
        )
        cls.customer.write({"vat": "FR23334175221", "siret": "33417522100018"})
        cls.customer_c = cls.env["res.partner"].create(
            {"name": "Menuiserie Leroy; fils", "is_company": True}
        )
        cls.delegate(cls.customer, cls.contract)
        cls.delegate(cls.customer_b, cls.contract)
        cls.delegate(cls.customer_c, cls.dailly)

    @classmethod
    def delegate(cls, partner, contract, company=None):
        partner.with_company(company or cls.company).write(
            {"factoring_contract_id": contract.id, "factoring_start_date": START}
        )

    def invoice(self, on=date(2026, 2, 1), partner=None, amount=1000.0, **kwargs):
        return self.make_invoice(
            partner=partner or self.customer,
            invoice_date=on,
            due=date(2026, 4, 30),
            amount=amount,
            **kwargs,
        )

    def batch(self, contract=None, on=BATCH_DATE, env=None):
        return (env or self.env)["credit.factoring.batch"].create(
            {"contract_id": (contract or self.contract).id, "date": on}
        )

    # ------------------------------------------------------------------ content

    def test_batch_gathers_the_open_transferable_items(self):
        """Invoices and credit notes of the contract, open, up to the batch date;
        a disputed item is left out with a warning naming it."""
        first = self.invoice(amount=1000.0)
        second = self.invoice(partner=self.customer_b, amount=500.0)
        refund = self.invoice(amount=200.0, move_type="out_refund")
        partly_paid = self.invoice(amount=800.0)
        self.pay(partly_paid, 300.0, on=date(2026, 2, 15))
        paid = self.invoice(amount=100.0)
        self.pay(paid, 100.0, on=date(2026, 2, 15))
        disputed = self.invoice(amount=50.0)
        disputed._set_dunning_hold("dispute", "Wrong quantity")
        promised = self.invoice(amount=70.0)
        promised._set_dunning_hold("promise", "Pays on Friday", date(2026, 4, 30))
        later = self.invoice(on=date(2026, 4, 2), amount=60.0)
        other_contract = self.invoice(partner=self.customer_c, amount=40.0)
        not_delegated = self.invoice(partner=self.partner_a, amount=30.0)
        for move in (first, second, refund, partly_paid, disputed, later):
            self.assertEqual(move.factoring_contract_id, self.contract)
        self.assertEqual(other_contract.factoring_contract_id, self.dailly)

        batch = self.batch()

        self.assertEqual(
            batch.move_ids, first | second | refund | partly_paid | promised
        )
        self.assertNotIn(paid | later | other_contract | not_delegated, batch.move_ids)
        self.assertEqual(batch.held_move_ids, disputed)
        self.assertIn(disputed.name, batch.warning)
        self.assertIn("dispute", batch.warning)
        self.assertRecordValues(
            batch,
            [
                {
                    "item_count": 5,
                    "amount_invoices": 1000.0 + 500.0 + 500.0 + 70.0,
                    "amount_credit_notes": -200.0,
                    "amount_total": 1870.0,
                    "state": "draft",
                    "company_id": self.company.id,
                }
            ],
        )
        self.assertTrue(batch.name.startswith("CESSION/"))
        # The batch of the Dailly line takes its own item only.
        self.assertEqual(self.batch(self.dailly).move_ids, other_contract)

    def test_item_in_another_currency_is_left_out(self):
        usd = self.setup_other_currency("USD")
        invoice = self.invoice(amount=100.0)
        foreign = self.make_invoice(
            partner=self.partner_a, invoice_date=date(2026, 2, 1), post=False
        )
        foreign.currency_id = usd
        foreign.action_post()
        # Assigned by hand: posting refuses a delegated customer's foreign invoice.
        self.env.execute_query(
            SQL(
                "UPDATE account_move SET factoring_contract_id = %s WHERE id = %s",
                self.contract.id,
                foreign.id,
            )
        )
        foreign.invalidate_recordset(["factoring_contract_id"])
        batch = self.batch()
        self.assertEqual(batch.move_ids, invoice)
        self.assertEqual(batch.held_move_ids, foreign)
        self.assertIn("another currency", batch.warning)
        self.assertIn(foreign.name, batch.warning)

    # ------------------------------------------------------------------ confirm

    def test_confirm_locks_the_items_and_stores_the_files(self):
        invoice = self.invoice(amount=1234.56)
        refund = self.invoice(
            on=date(2026, 2, 3), amount=234.56, move_type="out_refund"
        )
        other = self.invoice(partner=self.customer_b, amount=99.99)
        batch = self.batch()
        batch.action_confirm()

        self.assertEqual(batch.state, "confirmed")
        for move in invoice | refund | other:
            self.assertEqual(move.factoring_batch_id, batch)
            self.assertEqual(move.factoring_state, "transferred")
        names = sorted(batch.file_ids.mapped("name"))
        base = batch.name.replace("/", "-")
        self.assertEqual(
            names,
            [f"Slip {base}.pdf", f"Transfer {base}.csv", f"Transfer {base}.xlsx"],
        )
        for attachment in batch.file_ids:
            self.assertEqual(
                (attachment.res_model, attachment.res_id), (batch._name, batch.id)
            )
        # Already transferred: the next batch finds nothing and refuses to confirm.
        empty = self.batch()
        self.assertFalse(empty.move_ids)
        with self.assertRaisesMessage(UserError, "has no item to transfer"):
            empty.action_confirm()
        self.assertEqual(empty.state, "draft")

    def test_files_read_back_equal_the_items(self):
        invoice = self.invoice(amount=1234.56)
        refund = self.invoice(
            on=date(2026, 2, 3), amount=234.56, move_type="out_refund"
        )
        other = self.invoice(partner=self.customer_b, amount=99.99)
        batch = self.batch()
        batch.action_confirm()
        files = {a.name.rsplit(".", 1)[1]: a for a in batch.file_ids}
        # Sorted by customer, then date; the columns but the reference at the
        # factor and ours.
        expected = [
            [
                "Boulangerie Martin",
                "334 175 221",
                "FR23334175221",
                "Invoice",
                invoice.name,
                "01/02/2026",
                "30/04/2026",
                "1234.56",
                "EUR",
            ],
            [
                "Boulangerie Martin",
                "334 175 221",
                "FR23334175221",
                "Credit note",
                refund.name,
                "03/02/2026",
                "30/04/2026",
                "-234.56",
                "EUR",
            ],
            [
                "Garage Dupont",
                "",
                "",
                "Invoice",
                other.name,
                "01/02/2026",
                "30/04/2026",
                "99.99",
                "EUR",
            ],
        ]
        # CSV: ";" delimited, UTF-8 with a BOM.
        text = files["csv"].raw.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text), delimiter=";"))
        self.assertEqual(rows[0][0], "Customer")
        self.assertEqual(len(rows), 4)
        keep = [0, 1, 2, 4, 5, 6, 7, 8, 9]
        self.assertEqual([[row[i] for i in keep] for row in rows[1:]], expected)
        # XLSX: the same rows under the header lines, then the total.
        sheet = openpyxl.load_workbook(io.BytesIO(files["xlsx"].raw)).active
        values = [list(row) for row in sheet.iter_rows(values_only=True)]
        head = next(i for i, row in enumerate(values) if row[0] == "Customer")
        self.assertIn("Contract: AFF-2026-01", [row[0] for row in values[:head]])
        items = values[head + 1 : head + 4]
        self.assertEqual(
            [
                [
                    row[0],
                    row[1] or "",
                    row[2] or "",
                    row[4],
                    row[5],
                    row[6].strftime("%d/%m/%Y"),
                    row[7].strftime("%d/%m/%Y"),
                    f"{Decimal(str(row[8])):.2f}",
                    row[9],
                ]
                for row in items
            ],
            expected,
        )
        self.assertEqual(values[head + 4][0], "Total")
        self.assertEqual(batch.amount_total, 1234.56 - 234.56 + 99.99)

    def test_confirm_refuses_an_item_transferred_by_another_batch(self):
        invoice = self.invoice()
        first, second = self.batch(), self.batch()
        self.assertEqual(first.move_ids, second.move_ids)
        first.action_confirm()
        with self.assertRaisesMessage(UserError, "already transferred by batch"):
            second.action_confirm()
        self.assertEqual(second.state, "draft")
        self.assertFalse(second.file_ids)
        self.assertEqual(invoice.factoring_batch_id, first)

    def test_dailly_batch_refuses_a_consumer(self):
        invoice = self.invoice(partner=self.customer_c)
        batch = self.batch(self.dailly)
        self.assertEqual(batch.move_ids, invoice)
        # The customer turned out to be a consumer after the posting.
        self.customer_c.with_company(self.company).factoring_contract_id = False
        self.customer_c.debtor_type = "consumer"
        with self.assertRaisesMessage(UserError, "Menuiserie Leroy; fils"):
            batch.action_confirm()
        self.assertFalse(invoice.factoring_batch_id)
        with self.assertRaisesMessage(UserError, "professional receivables only"):
            self.batch(self.dailly)

    def test_concurrent_confirmations_transfer_an_item_once(self):
        """Two users confirm two batches holding the same item at the same time:
        only one batch gets it. Real transactions on committed data."""
        registry = self.env.registry
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.ref("base.main_company")
            factor = env["res.partner"].create({"name": "Race Factor"})
            account = env["res.partner.bank"].create(
                {"acc_number": "FR7612345000010000000000185", "partner_id": factor.id}
            )
            contract = env["credit.factoring.contract"].create(
                {
                    "name": "RACE-1",
                    "company_id": company.id,
                    "factor_id": factor.id,
                    "bank_account_id": account.id,
                    "currency_id": company.currency_id.id,
                }
            )
            customer = env["res.partner"].create(
                {"name": "Race Customer", "is_company": True}
            )
            invoice = (
                env["account.move"]
                .with_company(company)
                .create(
                    {
                        "move_type": "out_invoice",
                        "partner_id": customer.id,
                        "invoice_date": date(2026, 2, 1),
                        "invoice_line_ids": [
                            Command.create(
                                {
                                    "name": "Race",
                                    "price_unit": 100.0,
                                    "tax_ids": [Command.clear()],
                                }
                            )
                        ],
                    }
                )
            )
            invoice.action_post()
            cr.execute(
                "UPDATE account_move SET factoring_contract_id = %s WHERE id = %s",
                [contract.id, invoice.id],
            )
            env.invalidate_all()
            Batch = env["credit.factoring.batch"].with_company(company)
            vals = {"contract_id": contract.id, "date": BATCH_DATE}
            batches = Batch.create([vals, vals])
            self.assertEqual(batches[0].move_ids, invoice)
            self.assertEqual(batches[1].move_ids, invoice)
            ids = {
                "batches": batches.ids,
                "invoice": invoice.id,
                "contract": contract.id,
                "partners": (factor | customer).ids,
                "account": account.id,
            }
            # Two other cursors must see the data: a race test commits it (and
            # removes it in its cleanup), as Odoo's own concurrency tests do.
            cr.commit()  # pylint: disable=invalid-commit
        self.addCleanup(self._cleanup_race, ids)
        first_id, second_id = ids["batches"]
        with registry.cursor() as cr1, registry.cursor() as cr2:
            env1 = api.Environment(cr1, SUPERUSER_ID, {})
            env2 = api.Environment(cr2, SUPERUSER_ID, {})
            # User 2 confirms; while it has not committed, user 1 is refused.
            env2["credit.factoring.batch"].browse(second_id).action_confirm()
            with self.assertRaisesMessage(UserError, "Another user is confirming"):
                env1["credit.factoring.batch"].browse(first_id).action_confirm()
            cr1.rollback()
            # User 1 read the batch before user 2 committed: PostgreSQL refuses
            # its lock (Odoo retries such a request) ...
            env1["credit.factoring.batch"].browse(first_id).state  # noqa: B018
            cr2.commit()
            with mute_logger("odoo.sql_db"), self.assertRaises(SerializationFailure):
                env1["credit.factoring.batch"].browse(first_id).action_confirm()
            cr1.rollback()
            env1.invalidate_all()
            # ... and the retry tells which item is already transferred.
            with self.assertRaisesMessage(UserError, "already transferred by batch"):
                env1["credit.factoring.batch"].browse(first_id).action_confirm()
            cr1.rollback()
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            first, second = env["credit.factoring.batch"].browse(ids["batches"])
            self.assertEqual(
                env["account.move"].browse(ids["invoice"]).factoring_batch_id, second
            )
            self.assertEqual((first.state, second.state), ("draft", "confirmed"))

    def _cleanup_race(self, ids):
        with self.env.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            batches = env["credit.factoring.batch"].browse(ids["batches"])
            batches.action_cancel()
            env["ir.attachment"].search(
                [("res_model", "=", batches._name), ("res_id", "in", batches.ids)]
            ).unlink()
            batches.unlink()
            invoice = env["account.move"].browse(ids["invoice"])
            invoice.button_draft()
            invoice.posted_before = False
            invoice.unlink()
            env["credit.factoring.contract"].browse(ids["contract"]).unlink()
            env["res.partner.bank"].browse(ids["account"]).unlink()
            env["res.partner"].browse(ids["partners"]).unlink()
            cr.commit()  # pylint: disable=invalid-commit

    # ------------------------------------------------------------------ cancel

    def test_cancel_frees_the_items_only_before_sending(self):
        invoice = self.invoice()
        draft = self.batch()
        draft.action_cancel()
        self.assertEqual(draft.state, "cancelled")
        batch = self.batch()
        batch.action_confirm()
        self.assertEqual(invoice.factoring_batch_id, batch)
        with self.assertRaisesMessage(UserError, "cannot be deleted"):
            batch.unlink()
        with self.assertRaisesMessage(UserError, "cannot change"):
            batch.move_ids = [Command.clear()]
        batch.action_cancel()
        self.assertEqual(batch.state, "cancelled")
        self.assertFalse(invoice.factoring_batch_id)
        self.assertEqual(invoice.factoring_state, "to_transfer")
        again = self.batch()
        self.assertEqual(again.move_ids, invoice)
        again.action_confirm()
        again.action_mark_sent()
        self.assertEqual(again.state, "sent")
        with self.assertRaisesMessage(UserError, "cannot be cancelled"):
            again.action_cancel()
        with self.assertRaisesMessage(UserError, "cannot be deleted"):
            again.unlink()
        self.assertEqual(invoice.factoring_batch_id, again)
        draft.unlink()
        self.assertFalse(draft.exists())

    # ------------------------------------------------------------------ slip

    def test_factoring_slip_wording(self):
        self.invoice(amount=1000.0)
        self.invoice(partner=self.customer_b, amount=500.0)
        batch = self.batch()
        batch.action_confirm()
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html(
                "l10n_fr_credit_collection.action_report_factoring_batch", batch.ids
            )[0]
            .decode()
        )
        for text in (
            "Transfer slip of receivables / subrogation receipt",
            "AFF-2026-01",
            "Affacturage Atlantique SA",
            "Boulangerie Martin",
            "Garage Dupont",
            "bon pour subrogation",
            "1346-1",
            batch.name,
            f"Transfer {batch.name.replace('/', '-')}.xlsx",
        ):
            self.assertIn(text, html)
        self.assertIn("1,500.00", html)
        self.assertNotIn("L313-23", html)
        # The stored slip is the rendered one (HTML in test mode).
        slip = batch.file_ids.filtered(lambda a: a.name.startswith("Slip"))
        self.assertIn("bon pour subrogation", slip.raw.decode())

    def test_dailly_slip_wording(self):
        self.invoice(partner=self.customer_c, amount=700.0)
        batch = self.batch(self.dailly)
        batch.action_confirm()
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html(
                "l10n_fr_credit_collection.action_report_factoring_batch", batch.ids
            )[0]
            .decode()
        )
        for text in (
            "Deed of assignment of professional receivables",
            "articles L313-23 to L313-34 of the Code monétaire et financier",
            "Banque Régionale",
            "Number of receivables assigned",
            "Date put by the credit institution",
            "Menuiserie Leroy; fils",
            "700.00",
        ):
            self.assertIn(text, html)
        self.assertNotIn("bon pour subrogation", html)

    # ------------------------------------------------------------------ email

    def test_send_to_factor_attaches_the_files(self):
        self.invoice()
        batch = self.batch()
        with self.assertRaisesMessage(UserError, "Confirm batch"):
            batch.action_send()
        batch.action_confirm()
        action = batch.action_send()
        composer = self.env["mail.compose.message"].browse(action["res_id"])
        composer = composer.with_context(**action["context"])
        self.assertEqual(composer.partner_ids, self.factor)
        names = composer.attachment_ids.mapped("name")
        base = batch.name.replace("/", "-")
        self.assertIn(f"Transfer {base}.xlsx", names)
        self.assertIn(f"Transfer {base}.csv", names)
        self.assertTrue(any(name.startswith(f"Slip {base}") for name in names), names)
        self.assertEqual(len(names), 3)
        composer._action_send_mail()
        self.assertEqual(batch.state, "sent")
        message = batch.message_ids[0]
        self.assertEqual(message.partner_ids, self.factor)
        self.assertEqual(len(message.attachment_ids), 3)

    # ------------------------------------------------------------------ access

    def test_collection_users_prepare_batches_plain_users_cannot(self):
        self.invoice()
        collector = new_test_user(
            self.env, login="batch_collector", groups=f"{USER},{BILLING}"
        )
        billing = new_test_user(self.env, login="batch_billing", groups=BILLING)
        batch = self.batch(env=self.env(user=collector))
        batch.action_confirm()
        self.assertEqual(batch.state, "confirmed")
        self.assertEqual(len(batch.file_ids), 3)
        with self.assertRaises(AccessError):
            self.batch(env=self.env(user=billing))
        with self.assertRaises(AccessError):
            batch.with_user(billing).action_cancel()
        with self.assertRaises(AccessError):
            batch.with_user(collector).unlink()

    def test_multi_company_isolation(self):
        self.invoice()
        other = self.setup_other_company(name="Autre Société")["company"]
        batch = self.batch()
        user = new_test_user(
            self.env,
            login="batch_other_company",
            groups=f"{USER},{BILLING}",
            company_id=other.id,
            company_ids=[other.id],
        )
        Batch = self.env["credit.factoring.batch"].with_user(user)
        self.assertFalse(Batch.search([("id", "=", batch.id)]))
        with self.assertRaises(UserError):
            Batch.with_company(other).create(
                {"contract_id": self.contract.id, "date": BATCH_DATE}
            )

    # ------------------------------------------------------------------ queries

    def test_query_count_does_not_grow_with_the_items(self):
        def run(count, partner):
            self.delegate(partner, self.contract)
            moves = self.env["account.move"].create(
                [
                    {
                        "move_type": "out_invoice",
                        "partner_id": partner.id,
                        "invoice_date": date(2026, 2, 1),
                        "invoice_line_ids": [
                            Command.create(
                                {
                                    "name": "Service",
                                    "price_unit": 10.0 + index,
                                    "tax_ids": [Command.clear()],
                                }
                            )
                        ],
                    }
                    for index in range(count)
                ]
            )
            moves.action_post()
            self.env.flush_all()
            self.env.invalidate_all()
            queries = self.cr.sql_log_count
            batch = self.batch()
            batch.action_confirm()
            self.env.flush_all()
            self.assertEqual(batch.item_count, count)
            done = self.cr.sql_log_count - queries
            batch.action_cancel()
            partner.with_company(self.company).factoring_contract_id = False
            moves.button_draft()
            moves.button_cancel()
            return done

        run(5, self.env["res.partner"].create({"name": "Warm-up"}))
        small = run(10, self.env["res.partner"].create({"name": "Ten"}))
        large = run(60, self.env["res.partner"].create({"name": "Sixty"}))
        self.assertEqual(small, large)
