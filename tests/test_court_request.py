import logging
import time
from datetime import date
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, new_test_user, tagged

from .common import CreditCollectionCommon

_logger = logging.getLogger(__name__)


def _clock():
    """Wall-clock seconds that freezegun leaves running (it patches perf_counter)."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


USER = "l10n_fr_credit_collection.group_credit_collection_user"
TODAY = "2026-06-15"
AS_OF = date(2026, 6, 15)


@tagged("post_install", "-at_install")
@freeze_time(TODAY)
class TestCourtRequest(CreditCollectionCommon):
    """The court request wizard: its checks, the claim, the court, the rights."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write(
            {
                "siret": "73282932000074",
                "rcs_city": "Lyon",
                "legal_form": "SAS",
                "credit_legal_representative": "Jeanne Martin, présidente",
                "credit_court_fee": 33.47,
            }
        )
        # A trader in Bordeaux: the tribunal de commerce.
        cls.customer.write(
            {
                "street": "12 rue Sainte-Catherine",
                "zip": "33000",
                "city": "Bordeaux",
                "country_id": cls.env.ref("base.fr").id,
                "siret": "55208131766522",
            }
        )
        cls.customer_b.write(
            {
                "street": "3 rue de la Gare",
                "zip": "21000",
                "city": "Dijon",
                "country_id": cls.env.ref("base.fr").id,
            }
        )

    # ------------------------------------------------------------------ helpers

    def wizard(self, moves=None, partner=None, **values):
        if moves is not None:
            context = {"active_model": "account.move", "active_ids": moves.ids}
        else:
            partner = partner or self.customer
            context = {"active_model": "res.partner", "active_id": partner.id}
        values.setdefault("correspondence_confirmed", True)
        wizard = self.env["credit.court.request.wizard"].with_context(**context)
        return wizard.create(values)

    def messages(self, wizard, level=None):
        return [
            finding["message"]
            for finding in wizard._get_findings()
            if level is None or finding["level"] == level
        ]

    def assertFinding(self, wizard, level, fragment):
        messages = self.messages(wizard, level)
        self.assertTrue(
            any(fragment in message for message in messages),
            f"no {level} finding with {fragment!r} in {messages}",
        )

    def assertNoFinding(self, wizard, fragment):
        messages = self.messages(wizard)
        self.assertFalse(
            any(fragment in message for message in messages),
            f"unexpected finding {fragment!r} in {messages}",
        )

    def send_formal_notice(self, invoices, received=None):
        run = self.run_dunning(date(2026, 5, 10))
        letter = run.letter_ids.filtered(
            lambda letter: letter.partner_id == self.customer
        )
        letter.sudo().write(
            {
                "level_id": self.notice.id,
                "state": "sent",
                "sent_date": date(2026, 5, 10),
            }
        )
        self.assertTrue(set(invoices.ids) <= set(letter.line_ids.move_id.ids))
        if received:
            invoices.formal_notice_received_date = received
        return letter

    # ------------------------------------------------------------------ opening

    def test_from_customer_ticks_overdue_invoices(self):
        overdue = self.make_invoice(
            due=date(2026, 3, 31), invoice_date=date(2026, 3, 1)
        )
        not_due = self.make_invoice(
            due=date(2026, 7, 31), invoice_date=date(2026, 6, 1)
        )
        wizard = self.wizard()
        self.assertEqual(wizard.partner_id, self.customer)
        self.assertEqual(wizard.item_ids.move_id, overdue | not_due)
        self.assertEqual(wizard.item_ids.filtered("selected").move_id, overdue)
        self.assertEqual(wizard.court_type, "commerce")
        self.assertFalse(wizard.court_name, "no court directory: the user fills it")
        self.assertIn(self.company.name, wizard.correspondence_address)

    def test_from_invoices_ticks_the_selection(self):
        first = self.make_invoice(due=date(2026, 3, 31))
        self.make_invoice(due=date(2026, 3, 31))
        wizard = self.wizard(first)
        self.assertEqual(wizard.item_ids.filtered("selected").move_id, first)
        action = (
            self.env.ref(
                "l10n_fr_credit_collection.action_server_prepare_court_request"
            )
            .with_context(active_model="account.move", active_ids=first.ids)
            .run()
        )
        self.assertEqual(action["res_model"], "credit.court.request.wizard")
        self.assertEqual(action["context"]["active_ids"], first.ids)

    def test_server_action_refuses_two_customers(self):
        invoice = self.make_invoice()
        other = self.make_invoice(partner=self.customer_b)
        with self.assertRaisesMessage(UserError, "one debtor"):
            (invoice + other).action_prepare_court_request()

    # ------------------------------------------------------------------ court

    def test_court_type_from_the_debtor(self):
        invoice = self.make_invoice()
        cases = [
            ({"zip": "69002", "city": "Lyon"}, "trader", "tae"),
            ({"zip": "67000", "city": "Strasbourg"}, "trader", "tj_commercial"),
            ({"zip": "97200", "city": "Fort-de-France"}, "trader", "mixed_commerce"),
            ({}, "liberal", "tj"),
            ({}, "association", "tj"),
            ({}, "artisan", "commerce"),
        ]
        for address, nature, expected in cases:
            with self.subTest(nature=nature, address=address):
                self.customer.write(
                    {
                        "zip": "33000",
                        "city": "Bordeaux",
                        **address,
                        "credit_legal_nature": nature,
                    }
                )
                self.assertEqual(self.wizard(invoice).court_type, expected)

    def test_pilot_court_named_and_claim_nature_follows_the_notices(self):
        invoice = self.make_invoice(due=date(2026, 3, 31))
        self.customer.write({"zip": "69002", "city": "Lyon"})
        wizard = self.wizard(invoice)
        self.assertEqual(wizard.court_type, "tae")
        self.assertEqual(wizard.court_name, "Economic Activities Court of Lyon")
        self.assertNotIn("formal notice", wizard.claim_nature)
        self.send_formal_notice(invoice)
        self.assertIn("formal notice", self.wizard(invoice).claim_nature)

    def test_legal_nature_prefilled_from_debtor_type(self):
        self.assertEqual(self.customer.credit_legal_nature, "trader")
        self.customer.debtor_type = "consumer"
        self.assertEqual(self.customer.credit_legal_nature, "consumer")
        self.customer.debtor_type = "professional"
        self.assertEqual(self.customer.credit_legal_nature, "trader")
        self.customer.credit_legal_nature = "artisan"
        self.assertEqual(self.customer.credit_legal_nature, "artisan")

    def test_european_debtor_is_blocked_for_the_european_order(self):
        invoice = self.make_invoice()
        self.customer.country_id = self.env.ref("base.de")
        wizard = self.wizard(invoice)
        self.assertEqual(wizard.court_type, "european_order")
        self.assertFinding(wizard, "blocking", "European order for payment")

    def test_debtor_outside_the_eu_is_refused(self):
        invoice = self.make_invoice()
        self.customer.country_id = self.env.ref("base.ch")
        wizard = self.wizard(invoice)
        self.assertEqual(wizard.court_type, "abroad")
        self.assertFinding(wizard, "blocking", "lawyer in the debtor's country")
        with self.assertRaisesMessage(UserError, "lawyer in the debtor's country"):
            wizard.action_create_request()
        self.assertFalse(self.env["credit.court.request"].search([]))

    # ------------------------------------------------------------------ checks

    def test_items_of_two_customers(self):
        invoice = self.make_invoice()
        other = self.make_invoice(partner=self.customer_b)
        wizard = self.wizard(invoice + other)
        self.assertFinding(wizard, "blocking", "request is against one debtor")
        with self.assertRaisesMessage(UserError, other.name):
            wizard.action_create_request()
        self.assertFalse(self.env["credit.court.request"].search([]))

    def test_paid_item(self):
        invoice = self.make_invoice()
        paid = self.make_invoice()
        self.pay(paid, 1000.0)
        wizard = self.wizard(invoice + paid)
        self.assertFinding(wizard, "blocking", f"{paid.name} is paid")
        self.assertNoFinding(wizard, f"{invoice.name} is paid")

    def test_item_excluded_by_the_hook(self):
        invoice = self.make_invoice()

        def exclude(moves):
            return {move.id: "it was assigned to a factor." for move in moves}

        with patch.object(
            self.env.registry["account.move"], "_get_court_exclusion_reason", exclude
        ):
            wizard = self.wizard(invoice)
            self.assertFinding(wizard, "blocking", "assigned to a factor")
            with self.assertRaisesMessage(UserError, "assigned to a factor"):
                wizard.action_create_request()
        self.assertFalse(self.env["credit.court.request"].search([]))

    def test_item_born_before_collective_proceedings(self):
        before = self.make_invoice(invoice_date=date(2026, 2, 1), due=date(2026, 3, 3))
        after = self.make_invoice(invoice_date=date(2026, 4, 1), due=date(2026, 5, 1))
        self.customer.write(
            {
                "collective_procedure": True,
                "collective_procedure_date": date(2026, 3, 1),
            }
        )
        wizard = self.wizard(before + after)
        self.assertFinding(wizard, "blocking", f"{before.name} was born")
        self.assertFinding(wizard, "blocking", "mandataire judiciaire")
        self.assertNoFinding(wizard, f"{after.name} was born")
        wizard.item_ids.filtered(lambda item: item.move_id == before).selected = False
        request = self.env["credit.court.request"].browse(
            wizard.action_create_request()["res_id"]
        )
        self.assertFalse(
            request.claim_line_ids.filtered(lambda line: line.kind == "indemnity"),
            "no indemnity in collective proceedings",
        )

    def test_delivery_date_starts_prescription(self):
        old = self.make_invoice(invoice_date=date(2021, 7, 1), due=date(2021, 7, 31))
        wizard = self.wizard(old)
        self.assertNoFinding(wizard, "time-barred:")
        self.assertFinding(wizard, "warning", "will be time-barred on")
        old.delivery_date = date(2021, 5, 1)
        wizard = self.wizard(old)
        self.assertFinding(wizard, "blocking", "is time-barred")

    def test_consumer_prescription_is_two_years(self):
        invoice = self.make_invoice(
            invoice_date=date(2024, 5, 1), due=date(2024, 5, 31)
        )
        wizard = self.wizard(invoice)
        self.assertNoFinding(wizard, "is time-barred")
        self.customer.debtor_type = "consumer"
        wizard = self.wizard(invoice)
        self.assertFinding(wizard, "blocking", "is time-barred")

    def test_prescription_date_as_info(self):
        invoice = self.make_invoice(
            invoice_date=date(2026, 3, 1), due=date(2026, 3, 31)
        )
        self.assertFinding(self.wizard(invoice), "info", "earliest prescription")

    def test_contractual_basis(self):
        bare = self.make_invoice()
        ordered = self.make_invoice()
        ordered.invoice_origin = "S00042"
        with_file = self.make_invoice()
        self.env["ir.attachment"].create(
            {
                "name": "Bon de commande.pdf",
                "raw": b"%PDF-1.4 order",
                "res_model": "account.move",
                "res_id": with_file.id,
            }
        )
        wizard = self.wizard(bare + ordered + with_file)
        self.assertFinding(wizard, "warning", f"{bare.name} has no contractual basis")
        self.assertNoFinding(wizard, f"{ordered.name} has no contractual basis")
        self.assertNoFinding(wizard, f"{with_file.name} has no contractual basis")
        wizard.attachment_ids.selected = False
        self.assertFinding(
            wizard, "warning", f"{with_file.name} has no contractual basis"
        )

    def test_formal_notice_sent_and_received(self):
        invoice = self.make_invoice()
        wizard = self.wizard(invoice)
        self.assertFinding(wizard, "warning", "No formal notice was sent")
        self.send_formal_notice(invoice)
        wizard = self.wizard(invoice)
        self.assertNoFinding(wizard, "No formal notice was sent")
        self.assertFinding(wizard, "warning", "has no date of receipt")
        invoice.formal_notice_received_date = date(2026, 5, 12)
        self.assertNoFinding(self.wizard(invoice), "has no date of receipt")

    def test_registered_letter_receipt_in_the_bordereau(self):
        invoice = self.make_invoice()
        letter = self.send_formal_notice(invoice)
        receipt = self.env["ir.attachment"].create(
            {"name": "AR 1A00000000001.pdf", "raw": b"%PDF-1.4 receipt"}
        )
        letter.sudo().write(
            {
                "registered_number": "1A00000000001",
                "registered_sent_date": date(2026, 5, 10),
                "registered_received_date": date(2026, 5, 12),
                "registered_receipt_attachment_id": receipt.id,
            }
        )
        wizard = self.wizard(invoice)
        self.assertNoFinding(wizard, "has no date of receipt")
        request = self.env["credit.court.request"].browse(
            wizard.action_create_request()["res_id"]
        )
        docs = request.document_ids.sorted("sequence")
        self.assertEqual(docs.mapped("kind"), ["invoice", "formal_notice", "receipt"])
        self.assertEqual(docs[2].attachment_id, receipt)
        self.assertEqual(docs[1].letter_id, letter)

    def test_debtor_without_address(self):
        invoice = self.make_invoice()
        self.customer.write({"street": False, "city": False})
        wizard = self.wizard(invoice)
        self.assertFinding(wizard, "blocking", "street, city")
        with self.assertRaisesMessage(UserError, "is incomplete"):
            wizard.action_create_request()

    def test_company_debtor_without_siren(self):
        invoice = self.make_invoice()
        self.assertNoFinding(self.wizard(invoice), "no SIREN")
        self.customer.siret = False
        self.assertFinding(self.wizard(invoice), "warning", "no SIREN")

    def test_our_company_without_siren(self):
        invoice = self.make_invoice()
        self.company.write(
            {
                "siret": False,
                "company_registry": False,
                "credit_legal_representative": False,
            }
        )
        wizard = self.wizard(invoice)
        self.assertFinding(wizard, "blocking", "SIREN (SIRET)")
        self.assertFinding(wizard, "blocking", "legal representative")
        with self.assertRaisesMessage(UserError, "SIREN"):
            wizard.action_create_request()

    def test_correspondence_address_must_be_confirmed(self):
        invoice = self.make_invoice()
        wizard = self.wizard(invoice, correspondence_confirmed=False)
        self.assertFinding(wizard, "blocking", "correspondence address")
        wizard.correspondence_confirmed = True
        self.assertNoFinding(wizard, "correspondence address")

    def test_zero_or_negative_claim(self):
        invoice = self.make_invoice(amount=300.0)
        self.make_invoice(move_type="out_refund", amount=500.0)
        wizard = self.wizard(invoice)
        self.assertFinding(wizard, "blocking", "nothing to claim")
        with self.assertRaisesMessage(UserError, "nothing to claim"):
            wizard.action_create_request()

    def test_future_as_of_date(self):
        invoice = self.make_invoice()
        wizard = self.wizard(invoice, as_of_date=date(2026, 6, 16))
        self.assertFinding(wizard, "blocking", "in the future")
        with self.assertRaisesMessage(UserError, "in the future"):
            wizard.action_create_request()

    def test_as_of_date_before_a_payment(self):
        invoice = self.make_invoice()
        self.pay(invoice, 100.0, on=date(2026, 5, 1))
        wizard = self.wizard(invoice, as_of_date=date(2026, 4, 30))
        self.assertFinding(wizard, "blocking", "after the claim date")

    def test_small_claim_before_the_judicial_court(self):
        invoice = self.make_invoice(amount=4000.0)
        self.customer.credit_legal_nature = "liberal"
        wizard = self.wizard(invoice)
        self.assertEqual(wizard.court_type, "tj")
        self.assertFinding(wizard, "warning", "750-1")
        self.customer.credit_legal_nature = "trader"
        self.assertNoFinding(self.wizard(invoice), "750-1")

    def test_form_runs_the_checks(self):
        invoice = self.make_invoice()
        form = Form(
            self.env["credit.court.request.wizard"].with_context(
                active_model="account.move", active_ids=invoice.ids
            )
        )
        self.assertTrue(form.blocking_count, "the address is not confirmed yet")
        form.correspondence_confirmed = True
        self.assertFalse(form.blocking_count)
        self.assertIn(invoice.name, form.findings_html)

    # ------------------------------------------------------------------ claim

    def test_claim_equals_the_penalty_statement(self):
        first = self.make_invoice(amount=1200.0, due=date(2026, 1, 31))
        second = self.make_invoice(amount=800.0, due=date(2026, 3, 15))
        second.invoice_origin = "S00007"
        self.pay(second, 300.0, on=date(2026, 4, 10))
        self.make_invoice(move_type="out_refund", amount=50.0)
        self.send_formal_notice(first + second, received=date(2026, 5, 12))
        wizard = self.wizard(first + second)
        self.assertFalse(self.messages(wizard, "blocking"))
        request = self.env["credit.court.request"].browse(
            wizard.action_create_request()["res_id"]
        )
        lines = request.claim_line_ids
        by_kind = {
            kind: round(
                sum(
                    lines.filtered(lambda line, k=kind: line.kind == k).mapped("amount")
                ),
                2,
            )
            for kind in ("principal", "interest", "indemnity", "court_fee")
        }
        self.assertEqual(by_kind["principal"], 1200.0 + 500.0 - 50.0)
        self.assertEqual(
            len(
                lines.filtered(
                    lambda line: line.kind == "principal" and line.amount < 0
                )
            ),
            1,
        )
        statement = self.env[
            "report.l10n_fr_credit_collection.report_penalty_statement"
        ]._get_statement_data(self.customer, AS_OF)
        block = statement["currencies"][0]
        self.assertTrue(block["interest"])
        self.assertEqual(by_kind["interest"], block["interest"])
        self.assertEqual(by_kind["indemnity"], block["indemnity"])
        self.assertEqual(by_kind["indemnity"], 80.0)
        self.assertEqual(by_kind["court_fee"], 33.47)
        self.assertEqual(request.amount_penalties, block["interest"])
        self.assertEqual(
            request.penalty_line_ids,
            self.env["credit.penalty.line"].search(
                [("move_id", "in", (first + second).ids)]
            ),
        )
        self.assertAlmostEqual(
            request.amount_total,
            sum(lines.mapped("amount")),
            places=2,
        )
        self.assertEqual(request.partner_id, self.customer)
        self.assertEqual(request.debtor_legal_nature, "trader")
        self.assertEqual(request.court_type, "commerce")
        self.assertIn("until full payment", request.interest_running_text)
        # The bordereau: the invoices, then the formal notice.
        kinds = request.document_ids.sorted("sequence").mapped("kind")
        self.assertEqual(kinds, ["invoice", "invoice", "formal_notice"])
        self.assertEqual(request.letter_ids.level_id, self.notice)
        self.assertEqual(request.state, "draft")
        self.assertTrue(request.name.startswith("IP/"))

    def test_penalty_invoice_claimed_as_such(self):
        invoice = self.make_invoice(due=date(2026, 1, 31))
        penalty = self.make_invoice(amount=25.0, due=date(2026, 4, 30))
        penalty.sudo().is_penalty_invoice = True
        wizard = self.wizard(invoice + penalty)
        request = self.env["credit.court.request"].browse(
            wizard.action_create_request()["res_id"]
        )
        line = request.claim_line_ids.filtered(
            lambda line: line.kind == "penalty_invoice"
        )
        self.assertEqual(line.move_id, penalty)
        self.assertEqual(line.amount, 25.0)
        self.assertFalse(
            self.env["credit.penalty.line"].search([("move_id", "=", penalty.id)]),
            "a penalty invoice is not recomputed",
        )

    def test_penal_clause_when_the_rule_has_one(self):
        invoice = self.make_invoice(amount=2000.0, due=date(2026, 1, 31))
        rule = self.env["credit.penalty.rule"]._get_company_default(self.company)
        request = self.env["credit.court.request"].browse(
            self.wizard(invoice).action_create_request()["res_id"]
        )
        self.assertFalse(request.amount_penal_clause, "no clause in the terms")
        rule.write({"penal_clause": True, "penal_clause_percent": 10.0})
        request = self.env["credit.court.request"].browse(
            self.wizard(invoice).action_create_request()["res_id"]
        )
        clause = request.claim_line_ids.filtered(
            lambda line: line.kind == "penal_clause"
        )
        self.assertEqual(clause.amount, 200.0)
        self.assertEqual(request.amount_penal_clause, 200.0)
        self.assertIn("1231-5", clause.basis)

    def test_consumer_no_indemnity_no_court_fee(self):
        self.customer.write({"debtor_type": "consumer", "is_company": False})
        invoice = self.make_invoice(due=date(2026, 1, 31))
        self.send_formal_notice(invoice, received=date(2026, 5, 12))
        wizard = self.wizard(invoice)
        self.assertEqual(wizard.court_type, "tj")
        request = self.env["credit.court.request"].browse(
            wizard.action_create_request()["res_id"]
        )
        kinds = set(request.claim_line_ids.mapped("kind"))
        self.assertIn("interest", kinds, "legal interest from the notice's receipt")
        self.assertNotIn("indemnity", kinds)
        self.assertNotIn("court_fee", kinds)
        self.assertFalse(request.amount_costs)
        self.assertIn("legal rate", request.interest_running_text)

    def test_tae_contribution_for_a_large_company(self):
        self.company.credit_large_company = True
        self.customer.write({"zip": "69002", "city": "Lyon"})
        invoice = self.make_invoice(amount=60000.0)
        wizard = self.wizard(invoice)
        self.assertEqual(wizard.court_type, "tae")
        request = self.env["credit.court.request"].browse(
            wizard.action_create_request()["res_id"]
        )
        contribution = request.claim_line_ids.filtered(
            lambda line: line.kind == "tae_contribution"
        )
        self.assertTrue(contribution)
        self.assertGreater(contribution.amount, 1800.0)

    def test_supporting_files_in_bordereau_order(self):
        invoice = self.make_invoice()
        order = self.env["ir.attachment"].create(
            {
                "name": "Bon de commande.pdf",
                "raw": b"%PDF-1.4 order",
                "res_model": "account.move",
                "res_id": invoice.id,
            }
        )
        photo = self.env["ir.attachment"].create(
            {
                "name": "Bon de livraison.pdf",
                "raw": b"%PDF-1.4 delivery",
                "res_model": "account.move",
                "res_id": invoice.id,
            }
        )
        wizard = self.wizard(invoice)
        wizard.attachment_ids.filtered(
            lambda line: line.attachment_id == photo
        ).kind = "other"
        request = self.env["credit.court.request"].browse(
            wizard.action_create_request()["res_id"]
        )
        docs = request.document_ids.sorted("sequence")
        self.assertEqual(docs.mapped("kind"), ["contract", "invoice", "other"])
        self.assertEqual(docs[0].attachment_id, order)
        self.assertEqual(docs[2].attachment_id, photo)

    # ------------------------------------------------------------------ request

    def test_filed_request_is_locked(self):
        invoice = self.make_invoice()
        request = self.env["credit.court.request"].browse(
            self.wizard(invoice).action_create_request()["res_id"]
        )
        request.court_name = "Tribunal de commerce de Bordeaux"
        request.action_mark_filed()
        self.assertEqual(request.state, "filed")
        self.assertEqual(request.filed_date, AS_OF)
        with self.assertRaisesMessage(UserError, "can no longer be changed"):
            request.court_name = "Other"
        request.action_cancel()
        self.assertEqual(request.state, "cancelled")

    # ------------------------------------------------------------------ access

    def test_collection_user_creates_plain_user_cannot_read(self):
        invoice = self.make_invoice()
        collector = new_test_user(
            self.env,
            login="court_collector",
            groups=f"{USER},base.group_partner_manager",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        plain = new_test_user(
            self.env,
            login="court_plain",
            groups="base.group_user",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        wizard = (
            self.env["credit.court.request.wizard"]
            .with_user(collector)
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"correspondence_confirmed": True})
        )
        request_id = wizard.action_create_request()["res_id"]
        request = self.env["credit.court.request"].browse(request_id)
        self.assertEqual(request.with_user(collector).partner_id, self.customer)
        request.with_user(collector).action_mark_filed()
        with self.assertRaises(AccessError):
            request.with_user(plain).read(["name"])
        with self.assertRaises(AccessError):
            self.env["credit.court.request.wizard"].with_user(plain).create(
                {"partner_id": self.customer.id}
            )
        with self.assertRaises(AccessError):
            self.customer.with_user(plain).action_court_request()

    def test_multi_company_isolation(self):
        other = self.setup_other_company(name="Other FR")["company"]
        invoice = self.make_invoice()
        request = self.env["credit.court.request"].browse(
            self.wizard(invoice).action_create_request()["res_id"]
        )
        user = new_test_user(
            self.env,
            login="court_other",
            groups=USER,
            company_id=other.id,
            company_ids=[other.id],
        )
        Request = self.env["credit.court.request"].with_user(user)
        self.assertFalse(Request.search([]))
        with self.assertRaises(AccessError):
            request.with_user(user).read(["name"])
        self.assertFalse(
            self.env["credit.court.request.line"].with_user(user).search([])
        )

    # ------------------------------------------------------------------ performance

    def make_invoices(self, count):
        """``count`` posted invoices in one create and one post."""
        moves = self.env["account.move"].create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": self.customer.id,
                    "invoice_date": date(2026, 3, 1),
                    "invoice_date_due": date(2026, 3, 31),
                    "invoice_origin": f"S{index:05d}",
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Service",
                                "quantity": 1,
                                "price_unit": 100.0 + index,
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ],
                }
                for index in range(count)
            ]
        )
        moves.action_post()
        return moves

    def count_findings_queries(self, wizard):
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        wizard._get_findings()
        return self.env.cr.sql_log_count - before

    def test_findings_queries_do_not_grow_with_items(self):
        few = self.make_invoices(5)
        many = few | self.make_invoices(45)
        self.count_findings_queries(self.wizard(few))  # warms the ormcaches
        few_count = self.count_findings_queries(self.wizard(few))
        many_count = self.count_findings_queries(self.wizard(many))
        _logger.info("findings queries: 5 items %s, 50 items %s", few_count, many_count)
        self.assertLessEqual(many_count, few_count)

    def test_500_invoices_answers_in_time(self):
        invoices = self.make_invoices(500)
        self.env.invalidate_all()
        start = _clock()
        wizard = self.wizard()
        self.assertEqual(len(wizard.item_ids.filtered("selected")), 500)
        wizard._compute_findings()
        self.assertFalse(wizard.blocking_count, wizard.findings_html)
        elapsed = _clock() - start
        self.assertLess(elapsed, 2.0)
        start = _clock()
        request = self.env["credit.court.request"].browse(
            wizard.action_create_request()["res_id"]
        )
        created = _clock() - start
        self.assertEqual(request.move_ids, invoices)
        _logger.info(
            "court request on 500 invoices: wizard %.2fs, create %.2fs",
            elapsed,
            created,
        )
