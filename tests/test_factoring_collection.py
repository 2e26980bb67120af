from datetime import date

from freezegun import freeze_time
from lxml import etree

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from .common import CreditCollectionCommon

COLLECTOR = "l10n_fr_credit_collection.group_credit_collection_user"


@tagged("post_install", "-at_install")
class TestFactoringCollection(CreditCollectionCommon):
    """Collection follows whoever collects: the items of a notified contract leave
    our dunning, penalties and court requests; a confidential contract changes
    nothing; transferred documents are locked while their batch stands."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.factor = cls.env["res.partner"].create(
            {"name": "Factor Finance SA", "is_company": True}
        )
        cls.factor_bank = cls.env["res.partner.bank"].create(
            {
                "acc_number": "FR7630006000011234567890189",
                "partner_id": cls.factor.id,
            }
        )
        Contract = cls.env["credit.factoring.contract"]
        common = {
            "kind": "factoring",
            "factor_id": cls.factor.id,
            "bank_account_id": cls.factor_bank.id,
            "company_id": cls.company.id,
        }
        cls.notified = Contract.create(
            {**common, "name": "AFF-NOTIFIED-1", "notified": True}
        )
        cls.confidential = Contract.create(
            {**common, "name": "AFF-CONFIDENTIAL-2", "notified": False}
        )
        cls.collector = new_test_user(
            cls.env,
            login="factoring_collector",
            groups=COLLECTOR,
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )

    @classmethod
    def assign(cls, move, contract):
        """What the posting does for a delegated customer (another helper writes
        it): store the contract on the posted document."""
        move.write({"factoring_contract_id": contract.id})
        return move

    def delegate(self, partner, contract):
        partner.with_company(self.company).write(
            {
                "factoring_contract_id": contract.id,
                "factoring_start_date": date(2026, 1, 1),
            }
        )

    def make_batch(self, state, *moves):
        batch = self.env["credit.factoring.batch"].create(
            {"contract_id": self.notified.id, "state": state}
        )
        for move in moves:
            move.write({"factoring_batch_id": batch.id})
        return batch

    def filter_domain(self, model, name):
        """The domain of the filter ``name`` of the search view of ``model``."""
        arch = self.env[model].get_views([(False, "search")])["views"]["search"]
        [node] = etree.fromstring(arch["arch"]).xpath(f"//filter[@name='{name}']")
        return safe_eval(node.get("domain"))

    # ----------------------------------------------------------------- dunning

    def test_dunning_leaves_out_items_the_factor_collects(self):
        notified = self.assign(self.make_invoice(due=date(2026, 3, 1)), self.notified)
        ours = self.make_invoice(due=date(2026, 3, 2))
        confidential = self.assign(
            self.make_invoice(partner=self.customer_b, due=date(2026, 3, 1)),
            self.confidential,
        )
        run = self.run_dunning(date(2026, 3, 20))
        dunned = run.letter_ids.line_ids.move_id
        self.assertEqual(dunned, ours | confidential)
        self.assertNotIn(notified, dunned)
        self.assertEqual(
            run.letter_ids.filtered(
                lambda letter: letter.partner_id == self.customer
            ).line_ids.move_id,
            ours,
        )

    def test_the_documents_contract_counts_not_the_current_delegation(self):
        """A customer delegated to a notified contract after its invoice was posted:
        the invoice stays ours. A document of a notified contract stays the factor's
        when the customer is moved to a confidential contract."""
        plain = self.make_invoice(partner=self.customer_b, due=date(2026, 3, 1))
        self.delegate(self.customer_b, self.notified)
        run = self.run_dunning(date(2026, 3, 20))
        self.assertIn(plain, run.letter_ids.line_ids.move_id)
        # The other way round: the document's notified contract counts even when
        # the customer was moved to a confidential one since.
        notified = self.assign(self.make_invoice(due=date(2026, 3, 1)), self.notified)
        self.delegate(self.customer, self.confidential)
        self.assertFalse(
            self.env["account.move.line"].search(
                [
                    ("move_id", "=", notified.id),
                    *self.env["account.move.line"]._get_dunning_excluded_domain(),
                ]
            )
        )

    def test_an_archived_notified_contract_still_collects(self):
        notified = self.assign(self.make_invoice(due=date(2026, 3, 1)), self.notified)
        self.notified.active = False
        run = self.run_dunning(date(2026, 3, 20))
        self.assertNotIn(notified, run.letter_ids.line_ids.move_id)

    # --------------------------------------------------------------- penalties

    def test_monthly_penalties_leave_out_items_the_factor_collects(self):
        notified = self.assign(
            self.make_invoice(due=date(2026, 1, 31), amount=10000), self.notified
        )
        confidential = self.assign(
            self.make_invoice(due=date(2026, 1, 31), amount=10000), self.confidential
        )
        candidates = self.env["account.move"]._search_penalty_candidates(
            self.company, date(2026, 2, 28)
        )
        self.assertIn(confidential, candidates)
        self.assertNotIn(notified, candidates)
        with freeze_time("2026-02-28"):
            self.env["account.move"]._cron_compute_late_penalties()
        self.assertFalse(notified.penalty_line_ids)
        self.assertTrue(confidential.penalty_line_ids)
        # The batch form (runs, sending) leaves it out too, silently.
        lines, report = (notified + confidential)._compute_late_penalties_batch(
            date(2026, 3, 31)
        )
        self.assertEqual(lines.move_id, confidential)
        self.assertFalse(report.skipped)
        self.assertFalse(notified.penalty_line_ids)

    def test_interactive_penalties_refuse_items_the_factor_collects(self):
        notified = self.assign(
            self.make_invoice(due=date(2026, 1, 31), amount=10000), self.notified
        )
        confidential = self.assign(
            self.make_invoice(due=date(2026, 1, 31), amount=10000), self.confidential
        )
        with self.assertRaisesMessage(UserError, notified.name) as catcher:
            (confidential + notified).compute_late_penalties(date(2026, 3, 31))
        self.assertIn("Factor Finance SA", str(catcher.exception))
        self.assertIn("AFF-NOTIFIED-1", str(catcher.exception))
        self.assertFalse((confidential + notified).penalty_line_ids)
        with self.assertRaisesMessage(UserError, notified.name):
            notified.with_user(self.collector).action_compute_late_penalties()
        lines = confidential.with_user(self.collector).compute_late_penalties(
            date(2026, 3, 31)
        )
        self.assertEqual(lines.move_id, confidential)

    def test_penalty_statement_leaves_out_items_the_factor_collects(self):
        notified = self.assign(
            self.make_invoice(due=date(2026, 1, 31), amount=10000), self.notified
        )
        ours = self.make_invoice(due=date(2026, 1, 31), amount=5000)
        self.assertEqual(
            self.customer._get_penalty_open_invoices(date(2026, 3, 31)), ours
        )
        wizard = self.env["credit.penalty.statement.wizard"].create(
            {"partner_id": self.customer.id, "date": date(2026, 3, 31)}
        )
        wizard.action_export_xlsx()
        self.assertTrue(ours.penalty_line_ids)
        self.assertFalse(notified.penalty_line_ids)

    # ------------------------------------------------------------------- court

    def test_court_request_refuses_items_the_factor_collects(self):
        notified = self.assign(self.make_invoice(due=date(2026, 3, 31)), self.notified)
        confidential = self.assign(
            self.make_invoice(due=date(2026, 3, 31)), self.confidential
        )
        reasons = (notified + confidential)._get_court_exclusion_reason()
        self.assertEqual(list(reasons), [notified.id])
        self.assertIn("Factor Finance SA", reasons[notified.id])
        self.assertIn("AFF-NOTIFIED-1", reasons[notified.id])
        Wizard = self.env["credit.court.request.wizard"]

        def wizard(moves):
            return Wizard.with_context(
                active_model="account.move", active_ids=moves.ids
            ).create({"correspondence_confirmed": True})

        def blocking(wizard):
            return [
                finding["message"]
                for finding in wizard._get_findings()
                if finding["level"] == "blocking"
            ]

        refused = wizard(notified)
        self.assertTrue(
            any(
                f"{notified.name} cannot be claimed" in message
                and "Factor Finance SA" in message
                for message in blocking(refused)
            ),
            blocking(refused),
        )
        with self.assertRaisesMessage(UserError, "Factor Finance SA"):
            refused.action_create_request()
        self.assertFalse(self.env["credit.court.request"].search([]))
        kept = wizard(confidential)
        self.assertFalse(
            [message for message in blocking(kept) if "cannot be claimed" in message]
        )

    # --------------------------------------------------------- customer banner

    def test_customer_form_says_the_factor_collects(self):
        contact = self.env["res.partner"].create(
            {"name": "Paul Martin", "parent_id": self.customer.id}
        )
        customers = self.customer + self.customer_b + contact
        self.assertFalse(any(customers.mapped("factoring_collected")))
        self.delegate(self.customer, self.notified)
        self.delegate(self.customer_b, self.confidential)
        customers.invalidate_recordset()
        plain_user = new_test_user(
            self.env,
            login="factoring_plain",
            groups="base.group_user",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        for partner in (self.customer, contact):
            seen = partner.with_user(plain_user)
            self.assertTrue(seen.factoring_collected)
            self.assertEqual(
                seen.factoring_collection_message,
                "This customer's receivables are collected by the factor Factor "
                "Finance SA (contract AFF-NOTIFIED-1): our reminders, penalties and "
                "court requests leave its assigned invoices out.",
            )
        self.assertFalse(self.customer_b.factoring_collected)
        self.assertFalse(self.customer_b.factoring_collection_message)
        Partner = self.env["res.partner"]
        found = Partner.search(
            [("id", "in", customers.ids), ("factoring_collected", "=", True)]
        )
        self.assertEqual(found, self.customer + contact)
        self.assertEqual(
            Partner.search(
                [("id", "in", customers.ids), ("factoring_collected", "=", False)]
            ),
            self.customer_b,
        )
        self.assertEqual(
            Partner.search(
                [
                    ("id", "in", customers.ids),
                    *self.filter_domain("res.partner", "factoring_collected"),
                ]
            ),
            self.customer + contact,
        )
        # Another company: the delegation is per company.
        other = self.setup_other_company(name="Autre SAS")["company"]
        self.assertFalse(self.customer.with_company(other).factoring_collected)
        arch = self.env["res.partner"].get_views([(False, "form")])["views"]["form"]
        form = etree.fromstring(arch["arch"])
        [banner] = form.xpath("//div[@name='factoring_collection']")
        self.assertTrue(banner.xpath(".//field[@name='factoring_collection_message']"))

    # ------------------------------------------------------------ aged balance

    def test_aged_balance_shows_factored_items_apart(self):
        as_of = date(2026, 6, 30)
        self.assign(self.make_invoice(due=date(2026, 5, 31), amount=700), self.notified)
        self.assign(
            self.make_invoice(due=date(2026, 5, 31), amount=300), self.confidential
        )
        self.make_invoice(due=date(2026, 5, 31), amount=100)
        wizard = self.env["credit.aged.balance.wizard"].create({"date": as_of})
        wizard._compute_lines()
        groups = self.env["credit.aged.balance.line"]._read_group(
            [("wizard_id", "=", wizard.id), ("partner_id", "=", self.customer.id)],
            ["factored", "factoring_contract_id"],
            ["amount_b1:sum", "amount_total:sum"],
        )
        self.assertEqual(
            sorted(groups, key=lambda group: group[1].id),
            [
                (False, self.env["credit.factoring.contract"], 100, 100),
                (True, self.notified, 700, 700),
                (True, self.confidential, 300, 300),
            ],
        )
        rows = [
            (row["partner"], row["amount_total"])
            for row in wizard._get_xlsx_data()["rows"]
        ]
        self.assertEqual(
            rows, [("Boulangerie Martin", 100), ("Boulangerie Martin (factored)", 1000)]
        )
        self.assertEqual(
            self.filter_domain("credit.aged.balance.line", "factored"),
            [("factored", "=", True)],
        )

    # ----------------------------------------------------------------- filters

    def test_invoice_filters(self):
        notified = self.assign(self.make_invoice(), self.notified)
        confidential = self.assign(self.make_invoice(), self.confidential)
        plain = self.make_invoice()
        Move = self.env["account.move"].with_user(self.collector)
        mine = [("id", "in", (notified + confidential + plain).ids)]
        factored = Move.search([*mine, *self.filter_domain("account.move", "factored")])
        self.assertEqual(factored, notified + confidential)
        collected = Move.search(
            [*mine, *self.filter_domain("account.move", "factor_collected")]
        )
        self.assertEqual(collected, notified)
        self.assertEqual(
            Move.search([*mine, ("factoring_collected", "=", False)]),
            confidential + plain,
        )
        # The invoice form says who collects it, to any user who sees it.
        seen = notified.with_user(self.collector)
        self.assertTrue(seen.factoring_collected)
        self.assertIn("Factor Finance SA", seen.factoring_collection_message)
        self.assertIn("AFF-NOTIFIED-1", seen.factoring_collection_message)
        self.assertFalse(confidential.factoring_collection_message)
        arch = self.env["account.move"].get_views([(False, "form")])["views"]["form"]
        [banner] = etree.fromstring(arch["arch"]).xpath(
            "//div[@name='factoring_collection']"
        )
        self.assertTrue(banner.xpath(".//field[@name='factoring_collection_message']"))

    # -------------------------------------------------------------------- lock

    def test_transferred_invoice_is_locked_while_its_batch_stands(self):
        invoice = self.assign(self.make_invoice(amount=1000), self.notified)
        batch = self.make_batch("confirmed", invoice)
        line = invoice.invoice_line_ids
        for user in (self.collector, self.env.user):
            move = invoice.with_user(user)
            with self.assertRaisesMessage(UserError, batch.name) as catcher:
                move.button_draft()
            self.assertIn(invoice.name, str(catcher.exception))
            with self.assertRaisesMessage(UserError, batch.name):
                move.with_context(skip_readonly_check=True).write(
                    {"partner_id": self.customer_b.id}
                )
            with self.assertRaisesMessage(UserError, batch.name):
                move.with_context(skip_readonly_check=True).write(
                    {"invoice_line_ids": [Command.update(line.id, {"price_unit": 1})]}
                )
        with self.assertRaisesMessage(UserError, batch.name):
            invoice.sudo().write({"amount_total": 1})
        batch.state = "sent"
        with self.assertRaisesMessage(UserError, batch.name):
            invoice.button_draft()
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.partner_id, self.customer)
        self.assertEqual(invoice.amount_total, 1000)
        with self.assertRaisesMessage(UserError, batch.name):
            self.term_lines(invoice).with_user(self.collector).write(
                {"date_maturity": date(2026, 12, 31)}
            )
        self.assertEqual(invoice.invoice_date_due, date(2026, 3, 31))
        # Other fields stay editable (the reference, the dunning hold...).
        invoice.with_user(self.collector).write({"ref": "PO-77"})
        self.assertEqual(invoice.ref, "PO-77")
        # The payment from the factor's remittance is matched as usual.
        self.pay(invoice, 1000, on=date(2026, 4, 15))
        self.assertIn(invoice.payment_state, ("in_payment", "paid"))

    def test_cancelled_or_draft_batch_frees_the_invoice(self):
        for state in ("cancelled", "draft"):
            invoice = self.assign(self.make_invoice(amount=1000), self.notified)
            self.make_batch("confirmed" if state == "cancelled" else state, invoice)
            if state == "cancelled":
                invoice.factoring_batch_id.state = "cancelled"
            move = invoice.with_user(self.collector)
            move.button_draft()
            move.write(
                {
                    "partner_id": self.customer_b.id,
                    "invoice_line_ids": [
                        Command.update(invoice.invoice_line_ids.id, {"price_unit": 800})
                    ],
                }
            )
            move.action_post()
            self.assertEqual(invoice.partner_id, self.customer_b)
            self.assertEqual(invoice.amount_total, 800)
