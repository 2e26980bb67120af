import html
import re
from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools.misc import formatLang

from .common import CreditCollectionCommon

USER = "l10n_fr_credit_collection.group_credit_collection_user"
BILLING = "account.group_account_invoice"
FORM_A = "l10n_fr_credit_collection.action_report_european_order"
SMALL_CLAIMS = "l10n_fr_credit_collection.action_report_small_claims"

FORM_A_SECTIONS = (
    "1. Juridiction",
    "2. Parties et leurs représentants",
    "3. Chefs de compétence de la juridiction",
    "4. Caractère transfrontalier de l'affaire",
    "5. Coordonnées bancaires (facultatif)",
    "6. Principal",
    "7. Intérêts",
    "8. Pénalités contractuelles",
    "9. Frais",
    "10. Éléments de preuve disponibles à l'appui de la demande",
    "11. Déclarations supplémentaires",
    "12. Déclaration et signature",
)


@tagged("post_install", "-at_install")
@freeze_time("2026-06-15")
class TestCourtProcedures(CreditCollectionCommon):
    """The European order for payment and the small-claims procedure."""

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
                "street": "12 rue de la République",
                "zip": "69002",
                "city": "Lyon",
            }
        )
        cls.customer.write(
            {
                "street": "12 rue Sainte-Catherine",
                "zip": "33000",
                "city": "Bordeaux",
                "country_id": cls.env.ref("base.fr").id,
                "siret": "55208131766522",
            }
        )
        cls.commissaire = cls.env["res.partner"].create(
            {
                "name": "Maître Anne Roux",
                "is_company": True,
                "street": "1 cours de l'Intendance",
                "zip": "33000",
                "city": "Bordeaux",
            }
        )

    # ------------------------------------------------------------------ helpers

    def wizard(self, moves, **values):
        values.setdefault("correspondence_confirmed", True)
        return (
            self.env["credit.court.request.wizard"]
            .with_context(active_model="account.move", active_ids=moves.ids)
            .create(values)
        )

    def blocking(self, wizard):
        return [
            finding["message"]
            for finding in wizard._get_findings()
            if finding["level"] == "blocking"
        ]

    def create_request(self, wizard):
        return self.env["credit.court.request"].browse(
            wizard.action_create_request()["res_id"]
        )

    def render(self, report, request):
        content = self.env["ir.actions.report"]._render_qweb_html(report, request.ids)[
            0
        ]
        text = html.unescape(re.sub(r"<[^>]+>", "", content.decode()))
        return re.sub(r"\s+", " ", text)

    def money(self, amount):
        return formatLang(self.env, amount)

    def to_germany(self):
        self.customer.write(
            {
                "country_id": self.env.ref("base.de").id,
                "zip": "10115",
                "city": "Berlin",
                "street": "Invalidenstraße 1",
            }
        )

    def european_request(self):
        invoice = self.make_invoice(amount=2400.0, due=date(2026, 3, 31))
        invoice.invoice_origin = "SO-0042"
        self.to_germany()
        wizard = self.wizard(
            invoice,
            eop_jurisdiction="02",
            court_name="Tribunal de commerce de Lyon",
        )
        return self.create_request(wizard)

    def small_claim(self, amount=1500.0, due=date(2026, 3, 31), **values):
        invoice = self.make_invoice(amount=amount, due=due)
        values.setdefault("commissaire_id", self.commissaire.id)
        wizard = self.wizard(invoice, procedure="small_claims", **values)
        return self.create_request(wizard)

    def activities(self, request, key):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", request._name),
                ("res_id", "=", request.id),
                ("credit_deadline_key", "=", key),
            ]
        )

    # ------------------------------------------------------------------ European order

    def test_european_order_for_a_german_debtor(self):
        invoice = self.make_invoice(amount=2400.0, due=date(2026, 3, 31))
        self.to_germany()
        wizard = self.wizard(invoice)
        self.assertEqual(wizard.court_type, "european_order")
        self.assertEqual(wizard.procedure, "european_order")
        self.assertTrue(
            any("form A, section 3" in message for message in self.blocking(wizard)),
            "the grounds of jurisdiction must be chosen",
        )
        wizard.write({"eop_jurisdiction": "12", "court_name": "TC Lyon"})
        self.assertFalse(self.blocking(wizard))
        request = self.create_request(wizard)
        self.assertEqual(request.procedure, "european_order")
        self.assertEqual(request.court_type, "european_order")
        self.assertEqual(request.eop_jurisdiction, "12")
        self.assertEqual(request.eop_cause, "01")
        self.assertFalse(
            request.claim_line_ids.filtered(lambda line: line.kind == "court_fee")
        )

    def test_european_order_refused_in_france_denmark_and_outside(self):
        invoice = self.make_invoice(amount=2400.0, due=date(2026, 3, 31))
        for country in ("base.fr", "base.dk", "base.ch"):
            with self.subTest(country=country):
                self.customer.country_id = self.env.ref(country)
                wizard = self.wizard(
                    invoice, procedure="european_order", eop_jurisdiction="02"
                )
                self.assertEqual(wizard.procedure, "european_order")
                messages = self.blocking(wizard)
                self.assertTrue(
                    any(
                        self.customer.name in message
                        and "Choose the injonction de payer" in message
                        for message in messages
                    ),
                    messages,
                )
                with self.assertRaisesMessage(UserError, self.customer.name):
                    wizard.action_create_request()
        self.assertFalse(self.env["credit.court.request"].search([]))

    def test_european_order_against_a_consumer_is_refused(self):
        invoice = self.make_invoice(amount=900.0, due=date(2026, 3, 31))
        self.to_germany()
        self.customer.credit_legal_nature = "consumer"
        wizard = self.wizard(invoice, eop_jurisdiction="02")
        self.assertTrue(any("art. 6" in message for message in self.blocking(wizard)))

    def test_form_a_content(self):
        request = self.european_request()
        self.assertTrue(request.amount_penalties, "the invoice bears penalties")
        data = request._get_form_a_data()
        amounts = data["amounts"]
        self.assertEqual(amounts["principal"], request.amount_principal)
        self.assertEqual(amounts["interest"], request.amount_penalties)
        self.assertEqual(
            amounts["costs"],
            round(request.amount_indemnity + request.amount_costs, 2),
        )
        self.assertAlmostEqual(data["total"], request.amount_total, places=2)
        self.assertEqual(data["interest"][0]["id"], data["principal"][0]["id"])
        self.assertEqual(data["interest"][0]["from"], "01/04/2026")
        text = self.render(FORM_A, request)
        self.assertIn("obligatoirement sur le formulaire A officiel", text)
        self.assertLess(text.index("obligatoirement"), text.index(FORM_A_SECTIONS[0]))
        positions = [text.index(section) for section in FORM_A_SECTIONS]
        self.assertEqual(positions, sorted(positions), "form A's own order")
        for amount in (
            request.amount_principal,
            request.amount_penalties,
            request.amount_total,
        ):
            self.assertIn(self.money(amount), text)
        self.assertIn("02 - Lieu d'exécution de l'obligation en question", text)
        self.assertIn("Contrat de vente", text)
        self.assertIn("Germany", text)
        self.assertIn("Preuve documentaire", text)
        # An injonction de payer has no form A.
        request.procedure = "injonction"
        with self.assertRaisesMessage(UserError, "not a European order"):
            request._get_form_a_data()

    # ------------------------------------------------------------------ small claims

    def test_small_claims_threshold(self):
        # Not due yet: no penalty, the claim is the principal alone.
        request = self.small_claim(amount=5000.0, due=date(2026, 6, 30))
        self.assertEqual(request.procedure, "small_claims")
        self.assertEqual(request.amount_total, 5000.0)
        self.assertEqual(request.commissaire_id, self.commissaire)
        over = self.make_invoice(amount=5000.01, due=date(2026, 6, 30))
        wizard = self.wizard(over, procedure="small_claims")
        self.assertTrue(
            any("5,000 EUR or less" in message for message in self.blocking(wizard))
        )
        with self.assertRaisesMessage(UserError, "5,000 EUR or less"):
            wizard.action_create_request()

    def test_small_claims_threshold_counts_the_interest(self):
        invoice = self.make_invoice(amount=4990.0, due=date(2026, 3, 31))
        wizard = self.wizard(invoice, procedure="small_claims")
        self.assertFalse(self.blocking(wizard), "4,990 EUR of principal")
        with self.assertRaisesMessage(UserError, "in principal and interest"):
            wizard.action_create_request()
        self.assertFalse(self.env["credit.court.request"].search([]))

    def test_small_claims_pdf_content(self):
        request = self.small_claim()
        self.assertFalse(
            request.claim_line_ids.filtered(
                lambda line: line.kind in ("court_fee", "tae_contribution")
            ),
            "the costs are the creditor's",
        )
        text = self.render(SMALL_CLAIMS, request)
        self.assertIn("PROCÉDURE SIMPLIFIÉE DE RECOUVREMENT DES PETITES CRÉANCES", text)
        self.assertIn("Maître Anne Roux", text)
        self.assertIn("Boulangerie Martin", text)
        self.assertIn(self.money(request.amount_total), text)
        claim = request._get_claim_data()
        for section in claim["sections"]:
            for line in section["lines"]:
                self.assertIn(line["name"], text)
        self.assertIn(f"Décompte de la créance n° {request.name}", text)
        self.assertIn(request.move_ids.name, text)
        self.assertIn("à la charge exclusive du créancier", text)
        self.assertIn("Signature", text)
        data = request._get_small_claims_data()
        self.assertEqual(
            data["principal_interest"],
            round(request.amount_principal + request.amount_penalties, 2),
        )

    def test_agreement_and_missed_installment(self):
        request = self.small_claim()
        with self.assertRaisesMessage(UserError, "send it first"):
            request.small_claims_letter_date = date(2026, 6, 15)
        request.action_small_claims_send()
        self.assertEqual(request.state, "filed")
        self.assertEqual(request.filed_date, date(2026, 6, 15))
        with self.assertRaises(ValidationError):
            request.small_claims_letter_date = date(2026, 6, 20)  # future
        with self.assertRaises(ValidationError):
            request.small_claims_letter_date = date(2026, 6, 10)  # before sending
        request.small_claims_letter_date = date(2026, 6, 15)
        window = self.activities(request, "small_claims")
        self.assertEqual(window.date_deadline, date(2026, 7, 15))
        self.assertIn("CPCE L125-1", str(window.note))
        with self.assertRaisesMessage(UserError, "agreed schedule"):
            request.small_claims_agreement_date = date(2026, 6, 15)
            request.action_small_claims_agreement()
        total = request.amount_total
        request.write(
            {
                "agreement_line_ids": [
                    Command.create({"date": date(2026, 6, 30), "amount": 500.0}),
                    Command.create(
                        {"date": date(2026, 7, 31), "amount": total - 500.0}
                    ),
                ]
            }
        )
        request.small_claims_agreement_date = date(2026, 6, 10)
        with self.assertRaisesMessage(UserError, "cannot precede"):
            request.action_small_claims_agreement()
        request.small_claims_agreement_date = date(2026, 6, 15)
        request.action_small_claims_agreement()
        self.assertEqual(request.state, "enforceable")
        self.assertFalse(self.activities(request, "small_claims"), "window closed")
        self.assertIn("enforceable title", request.message_ids[0].body)
        steps = self.env["credit.court.request.step"].search(
            [("request_id", "=", request.id)]
        )
        self.assertEqual(
            set(steps.mapped("step")),
            {"filed", "small_claims_letter", "small_claims_agreement"},
        )
        with self.assertRaisesMessage(UserError, "can no longer be changed"):
            request.agreement_line_ids[0].amount = 10.0
        # The first installment is paid on time: nothing to enforce.
        self.pay(request.move_ids, 500.0, on=date(2026, 6, 28))
        first, second = request.agreement_line_ids.sorted("date")
        self.assertTrue(first.paid)
        self.assertFalse(second.paid)
        with freeze_time("2026-07-05"):
            self.assertFalse(request._schedule_agreement_enforcement())
        self.assertFalse(self.activities(request, "agreement_enforcement"))
        # The second is missed: enforcement, not dunning.
        with freeze_time("2026-08-05"):
            self.env["credit.court.request"]._cron_small_claims_agreements()
        enforcement = self.activities(request, "agreement_enforcement")
        self.assertEqual(len(enforcement), 1)
        self.assertEqual(enforcement.date_deadline, date(2026, 8, 5))
        self.assertEqual(enforcement.user_id, request.user_id)
        self.assertIn("enforceable title", str(enforcement.note))
        self.assertEqual(request.state, "enforceable")

    def test_failure_meets_the_amicable_attempt(self):
        self.customer.credit_legal_nature = "liberal"  # the judicial court
        request = self.small_claim(amount=3000.0)
        with self.assertRaisesMessage(UserError, "this step does not apply"):
            request.action_small_claims_failed()
        request.action_small_claims_send()
        request.small_claims_letter_date = date(2026, 6, 15)
        request.small_claims_failure_date = date(2026, 6, 15)
        with self.assertRaisesMessage(UserError, "Enter why"):
            request.action_small_claims_failed()
        request.small_claims_failure_reason = "No answer from the debtor"
        request.action_small_claims_failed()
        self.assertEqual(request.state, "failed")
        self.assertFalse(self.activities(request, "small_claims"))
        action = request.action_prepare_injonction_after_failure()
        self.assertEqual(action["res_model"], "credit.court.request.wizard")
        wizard = (
            self.env["credit.court.request.wizard"]
            .with_context(**action["context"])
            .create({"correspondence_confirmed": True})
        )
        self.assertEqual(wizard.failed_small_claims_id, request)
        self.assertEqual(wizard.procedure, "injonction")
        self.assertEqual(wizard.court_type, "tj")
        findings = wizard._get_findings()
        self.assertTrue(
            any(
                "750-1" in finding["message"]
                and "is met" in finding["message"]
                and "5°" in finding["message"]
                for finding in findings
            ),
            findings,
        )
        self.assertFalse(
            any("may be required" in finding["message"] for finding in findings)
        )
        injonction = self.create_request(wizard)
        self.assertEqual(injonction.procedure, "injonction")
        self.assertEqual(injonction.move_ids, request.move_ids)

    def test_small_claims_dates_in_the_future_refused(self):
        request = self.small_claim()
        request.action_small_claims_send()
        request.small_claims_letter_date = date(2026, 6, 15)
        request.small_claims_failure_date = date(2026, 6, 16)
        request.small_claims_failure_reason = "Refused"
        with self.assertRaisesMessage(UserError, "in the future"):
            request.action_small_claims_failed()
        self.assertEqual(request.state, "filed")

    def test_agreement_after_the_window_is_refused(self):
        request = self.small_claim()
        request.action_small_claims_send()
        request.small_claims_letter_date = date(2026, 6, 15)
        request.write(
            {
                "small_claims_agreement_date": date(2026, 7, 20),
                "agreement_line_ids": [
                    Command.create({"date": date(2026, 7, 31), "amount": 100.0})
                ],
            }
        )
        with freeze_time("2026-07-25"):
            with self.assertRaisesMessage(UserError, "one-month window"):
                request.action_small_claims_agreement()

    # ------------------------------------------------------------------ demo

    def test_demo_small_claims_case(self):
        consumer = self.env["res.partner"].create(
            {
                "name": "Sophie Bernard",
                "street": "3 place du Marché",
                "zip": "44000",
                "city": "Nantes",
                "country_id": self.env.ref("base.fr").id,
                "debtor_type": "consumer",
            }
        )
        invoice = self.make_invoice(partner=consumer, amount=350.0)
        request = self.env["credit.collection.demo"]._load_demo_small_claims(
            consumer, invoice
        )
        self.assertEqual(request.partner_id, consumer)
        self.assertEqual(request.procedure, "small_claims")
        self.assertEqual(request.state, "filed")
        self.assertIn("commissaire", request.commissaire_id.name)
        self.assertTrue(self.activities(request, "small_claims"))

    # ------------------------------------------------------------------ access

    def test_rights(self):
        invoice = self.make_invoice(amount=1500.0, due=date(2026, 3, 31))
        collector = new_test_user(
            self.env,
            login="sc_collector",
            groups=f"{USER},base.group_partner_manager",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        billing = new_test_user(
            self.env,
            login="sc_billing",
            groups=BILLING,
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        plain = new_test_user(
            self.env,
            login="sc_plain",
            groups="base.group_user",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        wizard = (
            self.env["credit.court.request.wizard"]
            .with_user(collector)
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create(
                {"procedure": "small_claims", "commissaire_id": self.commissaire.id}
            )
        )
        request = self.create_request(wizard).with_user(collector)
        request.action_small_claims_send()
        request.small_claims_letter_date = date(2026, 6, 15)
        request.write(
            {
                "small_claims_agreement_date": date(2026, 6, 15),
                "agreement_line_ids": [
                    Command.create({"date": date(2026, 7, 15), "amount": 100.0})
                ],
            }
        )
        request.action_small_claims_agreement()
        self.assertEqual(request.state, "enforceable")
        line = request.agreement_line_ids
        # Billing reads the case and its schedule, and changes nothing.
        self.assertEqual(line.with_user(billing).amount, 100.0)
        self.assertEqual(request.with_user(billing).commissaire_id, self.commissaire)
        with self.assertRaises(AccessError):
            request.with_user(billing).action_small_claims_failed()
        with self.assertRaises(AccessError):
            line.with_user(billing).check_access("write")
        with self.assertRaises(AccessError):
            self.env["credit.court.agreement.line"].with_user(billing).create(
                {"request_id": request.id, "date": date(2026, 8, 1), "amount": 1.0}
            )
        with self.assertRaises(AccessError):
            line.with_user(plain).read(["amount"])
        with self.assertRaises(AccessError):
            request.with_user(plain).read(["commissaire_id"])

    def test_multi_company_isolation(self):
        other = self.setup_other_company(name="Other FR")["company"]
        request = self.small_claim()
        request.action_small_claims_send()
        request.small_claims_letter_date = date(2026, 6, 15)
        request.write(
            {
                "agreement_line_ids": [
                    Command.create({"date": date(2026, 7, 15), "amount": 1.0})
                ]
            }
        )
        user = new_test_user(
            self.env,
            login="sc_other",
            groups=USER,
            company_id=other.id,
            company_ids=[other.id],
        )
        self.assertFalse(
            self.env["credit.court.agreement.line"].with_user(user).search([])
        )
        with self.assertRaises(AccessError):
            request.agreement_line_ids.with_user(user).read(["amount"])
        self.assertFalse(
            self.env["credit.court.request"]
            .with_user(user)
            .search([("procedure", "=", "small_claims")])
        )
