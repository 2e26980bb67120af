from datetime import date

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import CreditCollectionCommon

INVOICE_REPORT = "account.account_invoices"
USER = "l10n_fr_credit_collection.group_credit_collection_user"
MANAGER = "l10n_fr_credit_collection.group_credit_collection_manager"
START = date(2026, 3, 1)


@tagged("post_install", "-at_install")
class TestFactoringContract(CreditCollectionCommon):
    """Contracts, the delegation of a customer, the assignment of its documents
    when they are posted, and the subrogation mention on the invoice."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Bank = cls.env["res.bank"]
        cls.own_account = cls.env["res.partner.bank"].create(
            {
                "acc_number": "FR7630006000011234567890189",
                "partner_id": cls.company.partner_id.id,
                "bank_id": Bank.create({"name": "Banque Test", "bic": "AGRIFRPP"}).id,
            }
        )
        cls.factor = cls.env["res.partner"].create(
            {
                "name": "Affacturage Martin SA",
                "is_company": True,
                "street": "10 rue de la Paix",
                "zip": "75002",
                "city": "Paris",
                "country_id": cls.env.ref("base.fr").id,
            }
        )
        cls.factor_account = cls.env["res.partner.bank"].create(
            {
                "acc_number": "FR7630004000031234567890143",
                "partner_id": cls.factor.id,
                "bank_id": Bank.create({"name": "BNP Paribas", "bic": "BNPAFRPP"}).id,
            }
        )
        cls.bank_partner = cls.env["res.partner"].create(
            {"name": "Banque Régionale", "is_company": True}
        )
        Contract = cls.env["credit.factoring.contract"]
        cls.notified = Contract.create(
            {
                "name": "AFF-001",
                "factor_id": cls.factor.id,
                "bank_account_id": cls.factor_account.id,
            }
        )
        cls.confidential = Contract.create(
            {"name": "AFF-002", "factor_id": cls.factor.id, "notified": False}
        )
        cls.dailly = Contract.create(
            {
                "name": "DAILLY-001",
                "kind": "dailly",
                "factor_id": cls.bank_partner.id,
                "notified": False,
            }
        )
        cls.delegate(cls.customer, cls.notified)

    @classmethod
    def delegate(cls, partner, contract, start=START, company=None):
        partner.with_company(company or cls.company).write(
            {"factoring_contract_id": contract.id, "factoring_start_date": start}
        )

    def invoice(self, on=START, partner=None, post=True, **kwargs):
        return self.make_invoice(
            partner=partner, due=date(2026, 6, 30), invoice_date=on, post=post, **kwargs
        )

    def html(self, invoice):
        return (
            self.env["ir.actions.report"]
            ._render_qweb_html(INVOICE_REPORT, invoice.ids)[0]
            .decode()
        )

    # ------------------------------------------------------------------ contract

    def test_default_mention_is_filled_in(self):
        mention = self.notified._get_subrogation_mention("en_US")
        self.assertIn("exclusively to the order of Affacturage Martin SA", mention)
        self.assertIn("10 rue de la Paix", mention)
        self.assertIn("75002 Paris", mention)
        self.assertIn("IBAN FR76 3000 4000 0312 3456 7890 143 BIC BNPAFRPP", mention)
        self.assertNotIn("{", mention)
        self.assertFalse(self.confidential._get_subrogation_mention("en_US"))
        self.dailly.write({"notified": True, "bank_account_id": False})
        self.assertFalse(self.dailly._get_subrogation_mention("en_US"))

    def test_contract_without_bank_account_refused(self):
        with self.assertRaisesMessage(ValidationError, "AFF-003 is notified"):
            self.env["credit.factoring.contract"].create(
                {"name": "AFF-003", "factor_id": self.factor.id}
            )
        with self.assertRaisesMessage(ValidationError, "not to the factor"):
            self.confidential.bank_account_id = self.own_account
        with self.assertRaisesMessage(ValidationError, "{factor_phone}"):
            self.notified.subrogation_text = "Pay {factor_name}, call {factor_phone}"
        # A confidential contract and a Dailly line go without one.
        self.assertFalse(self.confidential.bank_account_id)
        self.assertFalse(self.dailly.bank_account_id)

    # ------------------------------------------------------------------ delegation

    def test_delegation_dates(self):
        before = self.invoice(on=date(2026, 2, 28))
        on_start = self.invoice(on=START)
        self.assertFalse(before.factoring_contract_id)
        self.assertEqual(before.factoring_state, "none")
        self.assertEqual(before.partner_bank_id, self.own_account)
        self.assertEqual(on_start.factoring_contract_id, self.notified)
        self.assertEqual(on_start.factoring_state, "to_transfer")
        self.assertEqual(on_start.partner_bank_id, self.factor_account)
        # A contact invoiced directly follows its company.
        contact = self.env["res.partner"].create(
            {"name": "Jeanne Martin", "parent_id": self.customer.id}
        )
        self.assertEqual(
            self.invoice(partner=contact).factoring_contract_id, self.notified
        )
        # Another customer stays with us.
        self.assertFalse(self.invoice(partner=self.customer_b).factoring_contract_id)

    def test_credit_notes_follow_the_customer(self):
        refund = self.invoice(on=date(2026, 3, 10), move_type="out_refund")
        self.assertEqual(refund.factoring_contract_id, self.notified)
        # Money goes out to the customer: its bank is not the factor's.
        self.assertNotEqual(refund.partner_bank_id, self.factor_account)
        old = self.invoice(on=date(2026, 2, 1))
        assigned = self.invoice(on=date(2026, 3, 2))
        self.delegate(self.customer, self.env["credit.factoring.contract"], start=False)
        reversals = (old + assigned)._reverse_moves(
            [{"invoice_date": date(2026, 4, 1), "date": date(2026, 4, 1)}] * 2
        )
        reversals.action_post()
        # The credit note of an invoice lands in the same hands as the invoice.
        self.assertFalse(reversals[0].factoring_contract_id)
        self.assertEqual(reversals[1].factoring_contract_id, self.notified)

    def test_later_change_does_not_reassign(self):
        assigned = self.invoice()
        self.delegate(self.customer, self.confidential, start=date(2026, 4, 1))
        later = self.invoice(on=date(2026, 4, 2))
        self.assertEqual(assigned.factoring_contract_id, self.notified)
        self.assertEqual(assigned.partner_bank_id, self.factor_account)
        self.assertEqual(later.factoring_contract_id, self.confidential)
        self.assertEqual(later.partner_bank_id, self.own_account)
        # Reset to draft and posted again: the first decision stands.
        self.delegate(self.customer, self.env["credit.factoring.contract"], start=False)
        assigned.button_draft()
        assigned.action_post()
        self.assertEqual(assigned.factoring_contract_id, self.notified)

    def test_exclusion_of_one_invoice(self):
        draft = self.invoice(post=False)
        with self.assertRaisesMessage(ValidationError, "Give the reason"):
            draft.factoring_excluded = True
        draft.write(
            {"factoring_excluded": True, "factoring_exclusion_reason": "Public buyer"}
        )
        draft.action_post()
        self.assertFalse(draft.factoring_contract_id)
        self.assertEqual(draft.partner_bank_id, self.own_account)

        posted = self.invoice()
        self.assertEqual(posted.factoring_contract_id, self.notified)
        posted.write(
            {"factoring_excluded": True, "factoring_exclusion_reason": "Disputed"}
        )
        self.assertFalse(posted.factoring_contract_id)
        self.assertEqual(posted.factoring_state, "none")
        self.assertEqual(posted.partner_bank_id, self.own_account)
        posted.factoring_excluded = False
        self.assertEqual(posted.factoring_contract_id, self.notified)
        self.assertEqual(posted.partner_bank_id, self.factor_account)

        batch = self.env["credit.factoring.batch"].create(
            {"contract_id": self.notified.id}
        )
        posted.sudo().factoring_batch_id = batch
        self.assertEqual(posted.factoring_state, "transferred")
        with self.assertRaisesMessage(UserError, batch.display_name):
            posted.write(
                {"factoring_excluded": True, "factoring_exclusion_reason": "Late"}
            )
        self.assertEqual(posted.factoring_contract_id, self.notified)

    def test_contract_of_another_company_refused(self):
        other = self.setup_other_company(name="Autre SAS")["company"]
        contract_b = (
            self.env["credit.factoring.contract"]
            .with_company(other)
            .create({"name": "AFF-B", "factor_id": self.factor.id, "notified": False})
        )
        self.assertEqual(contract_b.company_id, other)
        with self.assertRaisesMessage(ValidationError, "Garage Dupont") as catcher:
            self.delegate(self.customer_b, contract_b)
        self.assertIn("AFF-B", str(catcher.exception))
        self.assertFalse(self.customer_b.factoring_contract_id)
        # The same customer may be delegated in each company to its own contract.
        self.delegate(self.customer_b, contract_b, company=other)
        self.assertEqual(
            self.customer_b.with_company(other).factoring_contract_id, contract_b
        )
        self.assertFalse(self.customer_b.factoring_contract_id)

    def test_consumer_on_dailly_refused(self):
        consumer = self.env["res.partner"].create(
            {"name": "Paul Durand", "debtor_type": "consumer"}
        )
        with self.assertRaisesMessage(ValidationError, "Paul Durand is a consumer"):
            self.delegate(consumer, self.dailly)
        # A consumer may be factored; a Dailly customer may not become a consumer.
        self.delegate(consumer, self.notified)
        self.delegate(self.customer_b, self.dailly)
        with self.assertRaisesMessage(ValidationError, "DAILLY-001"):
            self.customer_b.debtor_type = "consumer"
        # ...and a contract with a consumer delegated does not become Dailly.
        with self.assertRaisesMessage(ValidationError, "Paul Durand is a consumer"):
            self.notified.kind = "dailly"
        self.assertEqual(self.notified.kind, "factoring")

    def test_other_currency_refused(self):
        usd = self.setup_other_currency("USD")
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.customer.id,
                "invoice_date": START,
                "currency_id": usd.id,
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Service", "price_unit": 100.0, "tax_ids": []}
                    )
                ],
            }
        )
        with self.assertRaisesMessage(UserError, "is in USD") as catcher:
            invoice.action_post()
        self.assertIn("AFF-001", str(catcher.exception))
        self.assertIn(invoice.display_name, str(catcher.exception))
        self.assertEqual(invoice.state, "draft")
        self.assertFalse(invoice.factoring_contract_id)
        # Excluded with a reason, it is posted and stays with us.
        invoice.write(
            {"factoring_excluded": True, "factoring_exclusion_reason": "In USD"}
        )
        invoice.action_post()
        self.assertEqual(invoice.state, "posted")
        self.assertFalse(invoice.factoring_contract_id)

    # ------------------------------------------------------------------ PDF

    def test_invoice_pdf_mention(self):
        assigned = self.invoice()
        html = self.html(assigned)
        self.assertIn("o_credit_factoring_mention", html)
        self.assertIn("exclusively to the order of Affacturage Martin SA", html)
        self.assertIn("FR76 3000 4000 0312 3456 7890 143", html)
        self.assertIn("BNPAFRPP", html)

        self.delegate(self.customer_b, self.confidential)
        confidential = self.invoice(partner=self.customer_b)
        self.assertEqual(confidential.factoring_contract_id, self.confidential)
        self.assertEqual(confidential.partner_bank_id, self.own_account)
        html = self.html(confidential)
        self.assertNotIn("o_credit_factoring_mention", html)
        self.assertNotIn("Affacturage Martin", html)

        self.dailly.notified = True
        self.delegate(self.customer_b, self.dailly, start=date(2026, 4, 1))
        dailly = self.invoice(partner=self.customer_b, on=date(2026, 4, 1))
        self.assertEqual(dailly.factoring_contract_id, self.dailly)
        self.assertEqual(dailly.partner_bank_id, self.own_account)
        self.assertNotIn("o_credit_factoring_mention", self.html(dailly))

        ours = self.invoice(on=date(2026, 1, 5))
        self.assertNotIn("o_credit_factoring_mention", self.html(ours))

    # ------------------------------------------------------------------ access

    def test_access_rights(self):
        one = {"company_id": self.company.id, "company_ids": [self.company.id]}
        collector = new_test_user(self.env, login="fact_user", groups=USER, **one)
        manager = new_test_user(self.env, login="fact_manager", groups=MANAGER, **one)
        plain = new_test_user(self.env, login="fact_plain", groups="base.group_user")
        vals = {"name": "AFF-009", "factor_id": self.factor.id, "notified": False}
        Contract = self.env["credit.factoring.contract"]

        self.assertEqual(
            Contract.with_user(collector).search([]),
            self.notified + self.confidential + self.dailly,
        )
        with self.assertRaises(AccessError):
            Contract.with_user(collector).create(vals)
        with self.assertRaises(AccessError):
            self.notified.with_user(collector).notified = False
        with self.assertRaises(AccessError):
            Contract.with_user(plain).search([])
        created = Contract.with_user(manager).create(vals)
        created.with_user(manager).name = "AFF-010"
        self.assertEqual(created.name, "AFF-010")

        # Only the collection users delegate a customer or exclude an invoice.
        billing = new_test_user(
            self.env,
            login="fact_billing",
            groups="account.group_account_invoice,base.group_partner_manager",
            **one,
        )
        with self.assertRaisesMessage(AccessError, "Factoring Contract"):
            self.customer_b.with_user(billing).factoring_contract_id = self.notified
        # ...but any invoicing user posts invoices, and the assignment follows.
        draft = self.invoice(post=False)
        draft.with_user(billing).action_post()
        self.assertEqual(draft.factoring_contract_id, self.notified)
        with self.assertRaises(AccessError):
            draft.with_user(billing).write(
                {"factoring_excluded": True, "factoring_exclusion_reason": "x"}
            )
        draft.with_user(collector).write(
            {"factoring_excluded": True, "factoring_exclusion_reason": "Agreed"}
        )
        self.assertFalse(draft.factoring_contract_id)

    def test_multi_company_isolation(self):
        other = self.setup_other_company(name="Autre SAS")["company"]
        # The delegation is the company's: the same customer invoiced by another
        # company stays with that company.
        invoice_b = self.invoice(company=other)
        self.assertEqual(invoice_b.company_id, other)
        self.assertFalse(invoice_b.factoring_contract_id)
        user_b = new_test_user(
            self.env,
            login="fact_user_b",
            groups=USER,
            company_id=other.id,
            company_ids=[other.id],
        )
        self.assertFalse(
            self.env["credit.factoring.contract"].with_user(user_b).search([])
        )
        with self.assertRaises(AccessError):
            self.notified.with_user(user_b).read(["name"])

    # ------------------------------------------------------------------ speed

    def _posting_queries(self, contract, count):
        """Queries of posting ``count`` invoices of a customer delegated to
        ``contract`` (none: not delegated)."""
        self.delegate(self.customer_b, contract, start=contract and START)
        drafts = self.env["account.move"]
        for day in range(count):
            drafts |= self.invoice(
                on=date(2026, 3, 1 + day % 28), partner=self.customer_b, post=False
            )
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.cr.sql_log_count
        drafts.action_post()
        self.env.flush_all()
        self.assertEqual(drafts.factoring_contract_id, contract)
        return self.cr.sql_log_count - before

    def test_assignment_query_count_constant(self):
        """The assignment adds the same few queries to a posting of 10 invoices as
        to one of 50: it reads the delegations and writes the documents at once."""
        none = self.env["credit.factoring.contract"]
        self._posting_queries(none, 2)  # warm up the caches of the first posting
        extra = {}
        for count in (10, 50):
            ours = self._posting_queries(none, count)
            factored = self._posting_queries(self.notified, count)
            extra[count] = factored - ours
        # (Odoo's own posting may even run fewer queries on moves whose fields the
        # assignment has already loaded in batch: only growth is a failure.)
        self.assertLessEqual(extra[50], extra[10] + 5, extra)
