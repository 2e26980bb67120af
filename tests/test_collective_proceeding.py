import re
from datetime import date, timedelta

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .test_access_rights import AccessRightsCommon

OPENING = date(2026, 5, 1)
EVE = date(2026, 4, 30)
PUBLISHED = date(2026, 5, 10)
REPORT = "l10n_fr_credit_collection.action_report_claim_declaration"


@tagged("post_install", "-at_install")
class TestCollectiveProceeding(AccessRightsCommon):
    """Collective proceedings (LAW.md §11): the effects on the claims born before
    the opening judgment, and the declaration of claims."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mandataire = cls.env["res.partner"].create(
            {
                "name": "SELARL Fontaine",
                "is_company": True,
                "street": "20 rue Paradis",
                "zip": "13001",
                "city": "Marseille",
            }
        )
        # Born before the opening, due before it, still open: frozen.
        cls.before = cls.make_invoice(
            partner=cls.customer_b, invoice_date=date(2026, 2, 1), due=date(2026, 3, 3)
        )
        # Born after the opening: collected normally.
        cls.after = cls.make_invoice(
            partner=cls.customer_b, invoice_date=date(2026, 5, 5), due=date(2026, 5, 10)
        )

    def open_proceeding(self, **values):
        return self.env["credit.collective.proceeding"].create(
            {
                "partner_id": self.customer_b.id,
                "kind": "reorganisation",
                "opening_date": OPENING,
                "publication_date": PUBLISHED,
                "court": "Tribunal de commerce de Paris",
                "mandataire_id": self.mandataire.id,
                **values,
            }
        )

    def interest(self, lines):
        return round(
            sum(lines.filtered(lambda line: line.kind == "interest").mapped("amount")),
            2,
        )

    @staticmethod
    def digits_of(html, css_class):
        """The digits of the first element of this class (any number format)."""
        match = re.search(
            rf'class="[^"]*\b{css_class}\b[^"]*"[^>]*>(.*?)</', html, re.S
        )
        return re.sub(r"\D", "", re.sub(r"<[^>]+>", "", match.group(1)))

    # ------------------------------------------------------------------ customer

    def test_the_customer_flag_follows_its_proceedings(self):
        proceeding = self.open_proceeding()
        self.assertTrue(self.customer_b.collective_procedure)
        self.assertEqual(self.customer_b.collective_procedure_date, OPENING)
        self.assertEqual(self.customer_b.collective_proceeding_count, 1)
        liquidation = self.open_proceeding(
            kind="liquidation", opening_date=date(2026, 6, 1), publication_date=False
        )
        self.assertEqual(self.customer_b.collective_procedure_date, date(2026, 6, 1))
        liquidation.action_close()
        self.assertEqual(self.customer_b.collective_procedure_date, OPENING)
        proceeding.action_close()
        self.assertFalse(self.customer_b.collective_procedure)
        self.assertFalse(self.customer_b.collective_procedure_date)
        action = self.customer_b.action_open_collective_proceedings()
        self.assertEqual(action["context"]["default_partner_id"], self.customer_b.id)

    def test_claim_birth_date_defaults_to_the_invoice_date(self):
        self.assertEqual(self.before.credit_claim_birth_date, date(2026, 2, 1))
        self.open_proceeding()
        self.assertEqual(self.before.credit_collective_opening_date, OPENING)
        self.assertFalse(self.after.credit_collective_opening_date)
        # A claim whose service was rendered after the opening is moved out.
        self.before.credit_claim_birth_date = date(2026, 5, 2)
        self.before.invalidate_recordset(["credit_collective_opening_date"])
        self.assertFalse(self.before.credit_collective_opening_date)

    # ------------------------------------------------------------------ effects

    def test_earlier_claims_are_no_longer_dunned(self):
        self.open_proceeding()
        letters = self.run_dunning(date(2026, 5, 20)).letter_ids
        self.assertNotIn(self.before, letters.line_ids.move_id)
        self.assertIn(self.after, letters.line_ids.move_id)

    def test_a_closed_proceeding_no_longer_protects(self):
        self.open_proceeding().action_close()
        letters = self.run_dunning(date(2026, 5, 20)).letter_ids
        self.assertIn(self.before, letters.line_ids.move_id)

    def test_penalties_stop_the_day_before_the_opening(self):
        expected = self.before.compute_late_penalties(EVE)
        expected_interest = self.interest(expected)
        # 1000 EUR at 12.15 % (2026-H1) from 4 March to 30 April: 58 days.
        self.assertEqual(expected_interest, 19.31)
        self.open_proceeding()
        lines = self.before.compute_late_penalties(date(2026, 6, 30))
        interest = lines.filtered(lambda line: line.kind == "interest")
        self.assertEqual(max(interest.mapped("date_to")), EVE)
        self.assertEqual(self.interest(lines), expected_interest)

    def test_no_indemnity_for_a_payment_the_judgment_forbade(self):
        self.open_proceeding()
        before = self.before.compute_late_penalties(date(2026, 6, 30))
        self.assertFalse(before.filtered(lambda line: line.kind == "indemnity"))
        # Born after the opening: the customer's flag does not forbid it.
        after = self.after.compute_late_penalties(date(2026, 6, 30))
        self.assertEqual(
            after.filtered(lambda line: line.kind == "indemnity").amount, 40.0
        )

    def test_indemnity_of_an_invoice_paid_late_before_the_opening(self):
        paid = self.make_invoice(
            partner=self.customer_b, invoice_date=date(2026, 2, 1), due=date(2026, 3, 3)
        )
        self.pay(paid, 1000.0, on=date(2026, 3, 20))
        self.open_proceeding()
        lines = paid.compute_late_penalties(date(2026, 6, 30))
        self.assertEqual(
            lines.filtered(lambda line: line.kind == "indemnity").amount, 40.0
        )

    def test_earlier_claims_cannot_go_to_court(self):
        self.assertFalse((self.before | self.after)._get_court_exclusion_reason())
        self.open_proceeding()
        reasons = (self.before | self.after)._get_court_exclusion_reason()
        self.assertEqual(list(reasons), [self.before.id])
        self.assertIn("declare it to the mandataire instead", reasons[self.before.id])

    # ------------------------------------------------------------------ declaration

    def test_declaration_content_and_figures(self):
        self.setup_document_identity()
        split = self.make_invoice(
            partner=self.customer_b,
            invoice_date=date(2026, 4, 1),
            term=self.split_term,
        )
        proceeding = self.open_proceeding(retention_of_title=True)
        engine = self.before.compute_late_penalties(EVE)
        data = proceeding._get_declaration_data()
        lines = {line["move"]: line for line in data["lines"]}
        self.assertEqual(set(lines), {self.before, split}, "never the later claim")
        self.assertEqual(lines[self.before]["principal_due"], 1000.0)
        self.assertEqual(lines[self.before]["interest"], self.interest(engine))
        self.assertEqual(lines[self.before]["indemnity"], 0.0)
        # Half due on the opening day (due), half on 31 May (to fall due).
        self.assertEqual(lines[split]["principal_due"], 500.0)
        self.assertEqual(
            lines[split]["to_fall_due"], [{"date": date(2026, 5, 31), "amount": 500.0}]
        )
        self.assertEqual(
            data["totals"]["total"], round(2000 + self.interest(engine), 2)
        )
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html(REPORT, proceeding.ids)[0]
            .decode()
        )
        self.assertIn("Déclaration de créances", html)
        self.assertIn(self.before.name, html)
        self.assertIn("Bordereau des pièces justificatives", html)
        self.assertIn("réserve de propriété", html)
        self.assertIn("L622-28", html)
        self.assertIn("créancier ou préposé", html)
        self.assertIn("SELARL Fontaine", html)
        self.assertEqual(
            self.digits_of(html, "o_decl_total_interest"),
            f"{self.interest(engine):.2f}".replace(".", ""),
        )
        self.assertEqual(self.digits_of(html, "o_decl_total_due"), "150000")
        self.assertEqual(self.digits_of(html, "o_decl_total_future"), "50000")
        future = re.search(r'class="o_decl_future">(.*?)</div>', html, re.S).group(1)
        self.assertIn("50000", re.sub(r"\D", "", future))
        self.assertRegex(re.sub(r"<[^>]+>", "", future), r"31|2026")

    def test_declaration_deducts_unmatched_credit_notes(self):
        """A credit note issued before the opening and still unmatched on its eve
        is set off: the claim is declared net, the deduction printed."""
        self.setup_document_identity()
        refund = self.make_invoice(
            partner=self.customer_b,
            move_type="out_refund",
            amount=300.0,
            invoice_date=date(2026, 4, 15),
            due=date(2026, 4, 15),
        )
        # A credit note issued after the opening is not part of the claim.
        self.make_invoice(
            partner=self.customer_b,
            move_type="out_refund",
            amount=50.0,
            invoice_date=date(2026, 5, 10),
            due=date(2026, 5, 10),
        )
        proceeding = self.open_proceeding()
        data = proceeding._get_declaration_data()
        self.assertEqual(
            [(item["name"], item["amount"]) for item in data["deductions"]],
            [(refund.name, 300.0)],
        )
        gross = sum(line["total"] for line in data["lines"])
        self.assertAlmostEqual(data["totals"]["total"], gross - 300.0, places=2)
        self.assertEqual(data["totals"]["principal_due"], 1000.0 - 300.0)
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html(REPORT, proceeding.ids)[0]
            .decode()
        )
        self.assertIn("À déduire", html)
        self.assertIn(refund.name, html)

    def test_marking_declared_freezes_and_interrupts_prescription(self):
        proceeding = self.open_proceeding(declaration_date=date(2026, 6, 15))
        self.assertEqual(
            proceeding._legal_deadline_activities("declaration").date_deadline,
            date(2026, 7, 10),
        )
        self.assertIs(proceeding.action_mark_declared(), True, "on time: no warning")
        self.assertEqual(proceeding.state, "declared")
        total = proceeding.declaration_amount
        self.assertAlmostEqual(total, 1019.31, places=2)
        self.assertFalse(proceeding._legal_deadline_activities("declaration"))
        interruptions = self.env["credit.prescription.interruption"].search(
            [("move_id", "=", self.before.id)]
        )
        self.assertEqual(interruptions.kind, "declaration")
        self.assertEqual(interruptions.date, date(2026, 6, 15))
        self.assertTrue(
            proceeding.message_ids.attachment_ids.filtered(
                lambda att: att.name.startswith("Declaration")
                or att.name.startswith("Déclaration")
            )
        )
        # A later payment does not change what was declared.
        self.pay(self.before, 300.0, on=date(2026, 7, 1))
        self.assertEqual(proceeding.declaration_amount, total)
        collector = self.as_user(self.collector)["credit.collective.proceeding"]
        with self.assertRaisesMessage(AccessError, "only a Credit Collection manager"):
            collector.browse(proceeding.id).declaration_amount = 10.0
        with self.assertRaisesMessage(UserError, "were declared"):
            proceeding.unlink()

    def test_late_declaration_is_allowed_with_the_relief_warning(self):
        proceeding = self.open_proceeding()
        self.assertTrue(proceeding.declaration_late)
        action = proceeding.action_prepare_declaration()
        self.assertEqual(action["tag"], "display_notification")
        self.assertIn("relief", action["params"]["message"])
        self.assertEqual(
            action["params"]["next"]["report_name"],
            "l10n_fr_credit_collection.report_claim_declaration",
        )
        self.assertEqual(
            proceeding._legal_deadline_activities("relief").date_deadline,
            date(2026, 11, 10),
        )
        self.assertIn("relief", proceeding.message_ids[0].body)
        proceeding.action_mark_declared()
        self.assertEqual(proceeding.state, "declared")
        self.assertEqual(proceeding.declaration_date, date.today())

    def test_deadline_activities(self):
        proceeding = self.open_proceeding(user_id=self.collector.id)
        activity = proceeding._legal_deadline_activities("declaration")
        self.assertEqual(activity.date_deadline, date(2026, 7, 10))
        self.assertEqual(activity.user_id, self.collector)
        self.assertIn("L622-24", str(activity.note))
        self.assertFalse(proceeding._legal_deadline_activities("revendication"))
        proceeding.creditor_location = "abroad"
        self.assertEqual(activity.date_deadline, date(2026, 9, 10))
        proceeding.retention_of_title = True
        revendication = proceeding._legal_deadline_activities("revendication")
        self.assertEqual(revendication.date_deadline, date(2026, 8, 10))
        self.assertIn("L624-9", str(revendication.note))
        proceeding.action_record_revendication()
        self.assertFalse(proceeding._legal_deadline_activities("revendication"))
        unpublished = self.open_proceeding(publication_date=False)
        self.assertFalse(unpublished._legal_deadline_activities("declaration"))
        unpublished.publication_date = date(2026, 5, 31)
        self.assertEqual(
            unpublished._legal_deadline_activities("declaration").date_deadline,
            date(2026, 7, 31),
        )

    # ------------------------------------------------------------------ bad input

    def test_bad_input(self):
        with self.assertRaisesMessage(ValidationError, "after today"):
            self.open_proceeding(opening_date=date.today() + timedelta(days=1))
        with self.assertRaisesMessage(ValidationError, "cannot come before"):
            self.open_proceeding(publication_date=date(2026, 4, 1))
        with self.assertRaisesMessage(ValidationError, "cannot be dated"):
            self.open_proceeding(declaration_date=date(2026, 4, 1))
        self.assertFalse(self.env["credit.collective.proceeding"].search([]))
        with self.assertRaisesMessage(UserError, "has no collective proceedings"):
            self.customer.action_declare_claims()
        empty = self.env["credit.collective.proceeding"].create(
            {"partner_id": self.customer.id, "opening_date": date(2026, 1, 2)}
        )
        with self.assertRaisesMessage(UserError, "no claim to declare"):
            empty.action_prepare_declaration()
        with self.assertRaisesMessage(UserError, "no claim to declare"):
            empty.action_mark_declared()
        self.assertEqual(empty.state, "open")

    # ------------------------------------------------------------------ rights

    def test_rights(self):
        proceeding = self.open_proceeding()
        vals = {"partner_id": self.customer.id, "opening_date": OPENING}
        collector = self.as_user(self.collector)["credit.collective.proceeding"]
        created = collector.create(vals)
        with self.assertRaises(AccessError):
            created.unlink()
        self.as_user(self.manager)["credit.collective.proceeding"].browse(
            created.id
        ).unlink()
        billing = self.as_user(self.billing)["credit.collective.proceeding"]
        self.assertEqual(billing.search([]), proceeding)
        with self.assertRaises(AccessError):
            billing.create(vals)
        with self.assertRaises(AccessError):
            billing.browse(proceeding.id).write({"court": "Other"})
        with self.assertRaises(AccessError):
            self.as_user(self.plain)["credit.collective.proceeding"].search([])
        # The birth date: Billing follows the invoice date but does not correct it.
        invoice = self.as_user(self.billing)["account.move"].browse(self.before.id)
        with self.assertRaisesMessage(AccessError, "Credit Collection"):
            invoice.credit_claim_birth_date = date(2026, 1, 15)
        invoice.write({"credit_claim_birth_date": date(2026, 2, 1)})
        self.as_user(self.collector)["account.move"].browse(
            self.before.id
        ).credit_claim_birth_date = date(2026, 1, 15)
        self.assertEqual(self.before.credit_claim_birth_date, date(2026, 1, 15))

    def test_multi_company_isolation(self):
        proceeding = self.open_proceeding()
        other = self.env["credit.collective.proceeding"].create(
            {
                "partner_id": self.customer_b.id,
                "company_id": self.company_b.id,
                "opening_date": OPENING,
            }
        )
        manager = self.as_user(self.manager)["credit.collective.proceeding"]
        self.assertEqual(manager.search([]), proceeding)
        with self.assertRaises(AccessError):
            manager.browse(other.id).read(["opening_date"])
        collector_b = self.as_user(self.collector, self.company_b)
        self.assertEqual(collector_b["credit.collective.proceeding"].search([]), other)
        # The declaration of company B's proceeding claims none of company A's.
        self.assertFalse(other._get_declaration_data()["lines"])
