from datetime import date, timedelta

from freezegun import freeze_time
from lxml import etree
from psycopg2.errors import NotNullViolation

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import CreditCollectionCommon

USER = "l10n_fr_credit_collection.group_credit_collection_user"
MANAGER = "l10n_fr_credit_collection.group_credit_collection_manager"
BILLING = "account.group_account_invoice"
CONTACTS = "base.group_partner_manager"
PLAIN = f"base.group_user,{CONTACTS}"


class AccessRightsCommon(CreditCollectionCommon):
    """A collection user working in two companies, a manager, a Billing user and an
    internal user without any accounting or collection group."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name="Other FR")["company"]
        both = {
            "company_id": cls.company.id,
            "company_ids": [cls.company.id, cls.company_b.id],
        }
        one = {"company_id": cls.company.id, "company_ids": [cls.company.id]}
        cls.collector = new_test_user(
            cls.env, login="collector", groups=f"{USER},{CONTACTS}", **both
        )
        cls.manager = new_test_user(
            cls.env, login="manager", groups=f"{MANAGER},{CONTACTS}", **one
        )
        cls.billing = new_test_user(
            cls.env, login="billing", groups=f"{BILLING},{CONTACTS}", **one
        )
        cls.plain = new_test_user(cls.env, login="plain", groups=PLAIN, **one)
        cls.invoice = cls.make_invoice(due=date(2026, 3, 1))
        cls.invoice_b = cls.init_invoice(
            "out_invoice",
            partner=cls.customer,
            invoice_date=date(2026, 2, 1),
            amounts=[500.0],
            taxes=[],
            company=cls.company_b,
            post=True,
        )
        cls.day = 0

    @classmethod
    def line_vals(cls, move=None, **values):
        """Values of one interest penalty line (each on its own first day)."""
        move = move or cls.invoice
        cls.day += 1
        start = date(2026, 3, 1) + timedelta(days=cls.day)
        vals = {
            "company_id": move.company_id.id,
            "move_id": move.id,
            "partner_id": move.commercial_partner_id.id,
            "kind": "interest",
            "date_from": start,
            "date_to": start,
            "days": 1,
            "base_amount": 1000.0,
            "rate": 12.15,
            "amount": 0.33,
            "currency_id": move.currency_id.id,
            "state": "draft",
        }
        if "date_maturity" in cls.env["credit.penalty.line"]._fields:
            vals["date_maturity"] = date(2026, 3, 1)
        return vals | values

    def as_user(self, user, company=None):
        companies = company or self.company
        return self.env(
            user=user, context=dict(self.env.context, allowed_company_ids=companies.ids)
        )

    def lines_env(self, user, company=None):
        return self.as_user(user, company)["credit.penalty.line"]


@tagged("post_install", "-at_install")
class TestPenaltyLineRights(AccessRightsCommon):
    """Item 16: waived and invoiced penalty lines are part of the audit trail."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Line = cls.env["credit.penalty.line"].sudo()
        cls.draft = Line.create(cls.line_vals())
        cls.waived = Line.create(cls.line_vals(state="waived", waive_reason="Goodwill"))
        cls.invoiced = Line.create(cls.line_vals(state="invoiced"))

    def test_nobody_creates_a_line_already_waived_or_invoiced(self):
        for user in (self.collector, self.manager):
            Line = self.lines_env(user)
            for state in ("waived", "invoiced"):
                with self.assertRaises(AccessError):
                    Line.create(self.line_vals(state=state))
                with self.assertRaises(AccessError):
                    Line._bulk_create([self.line_vals(state=state)])
            self.assertEqual(Line.create(self.line_vals()).state, "draft")

    def test_waived_and_invoiced_lines_cannot_be_edited(self):
        for user in (self.collector, self.manager):
            Line = self.lines_env(user)
            for line in (self.waived, self.invoiced):
                with self.assertRaisesMessage(AccessError, "can no longer be changed"):
                    Line.browse(line.id).write({"amount": 1.0})
            with self.assertRaises(AccessError):
                Line.browse(self.waived.id).write({"state": "draft"})
        self.assertEqual(self.waived.amount, 0.33)
        self.assertEqual(self.waived.state, "waived")

    def test_users_never_mark_a_line_invoiced(self):
        penalty_invoice = self.make_invoice(amount=10.0, post=False)
        for user in (self.collector, self.manager):
            line = self.lines_env(user).browse(self.draft.id)
            with self.assertRaisesMessage(AccessError, "Invoice button"):
                line.write({"state": "invoiced"})
            with self.assertRaises(AccessError):
                line.write({"penalty_move_id": penalty_invoice.id})
        self.assertEqual(self.draft.state, "draft")

    def test_only_managers_waive_and_with_a_reason(self):
        line = self.lines_env(self.collector).browse(self.draft.id)
        with self.assertRaises(AccessError):
            line.action_waive("Goodwill")
        with self.assertRaises(AccessError):
            line.write({"state": "waived", "waive_reason": "Goodwill"})
        line = self.lines_env(self.manager).browse(self.draft.id)
        with self.assertRaisesMessage(UserError, "reason"):
            line.write({"state": "waived"})
        line.action_waive("Goodwill")
        self.assertEqual(self.draft.state, "waived")

    def test_deleting_locked_lines(self):
        for user in (self.collector, self.manager):
            with self.assertRaisesMessage(AccessError, "invoiced"):
                self.lines_env(user).browse(self.invoiced.id).unlink()
        with self.assertRaisesMessage(AccessError, "only a credit collection manager"):
            self.lines_env(self.collector).browse(self.waived.id).unlink()
        # The manager undoes a waiver: the invoice says so.
        self.lines_env(self.manager).browse(self.waived.id).unlink()
        self.assertFalse(self.waived.exists())
        self.assertIn("undone", self.invoice.message_ids[0].body)
        self.assertTrue(self.invoiced.exists())
        # A draft line is deleted by a collection user (its ACL allows it).
        self.lines_env(self.collector).browse(self.draft.id).unlink()
        self.assertFalse(self.draft.exists())

    def test_an_invoice_with_penalty_history_is_not_deleted(self):
        """Its lines would go with it (``ondelete="cascade"``)."""
        draft = self.make_invoice(post=False)
        waived = (
            self.env["credit.penalty.line"]
            .sudo()
            .create(self.line_vals(draft, state="waived", waive_reason="Goodwill"))
        )
        Move = self.as_user(self.billing)["account.move"]
        with self.assertRaisesMessage(UserError, "were invoiced or waived"):
            Move.browse(draft.id).unlink()
        self.assertTrue(waived.exists())
        waived.sudo().unlink()
        Move.browse(draft.id).unlink()
        self.assertFalse(draft.exists())

    def test_bulk_delete_only_removes_lines_to_invoice(self):
        self.lines_env(self.collector)._bulk_unlink([("move_id", "=", self.invoice.id)])
        self.assertFalse(self.draft.exists())
        self.assertEqual(
            (self.waived + self.invoiced).exists(), self.waived + self.invoiced
        )
        with self.assertRaises(AccessError):
            self.lines_env(self.billing)._bulk_unlink(
                [("move_id", "=", self.invoice.id)]
            )

    def test_billing_and_plain_users_only_read_lines(self):
        Line = self.lines_env(self.billing)
        self.assertEqual(Line.browse(self.draft.id).amount, 0.33)
        with self.assertRaises(AccessError):
            Line.browse(self.draft.id).write({"amount": 2.0})
        with self.assertRaises(AccessError):
            Line.create(self.line_vals())
        with self.assertRaises(AccessError):
            self.lines_env(self.plain).search([])

    def test_a_collector_computes_penalties(self):
        """The computation deletes and bulk-inserts draft lines: it works for a
        collection user, twice (the refresh replaces what changed), and not for a
        Billing user."""
        invoice = self.make_invoice(partner=self.customer_b, due=date(2026, 1, 31))
        Move = self.as_user(self.collector)["account.move"]
        lines = Move.browse(invoice.id).compute_late_penalties(date(2026, 3, 31))
        self.assertTrue(lines)
        self.assertEqual(set(lines.mapped("state")), {"draft"})
        interest = lines.filtered(lambda line: line.kind == "interest")
        self.assertTrue(interest)
        again = Move.browse(invoice.id).compute_late_penalties(date(2026, 4, 30))
        # The running period is replaced; the unchanged indemnity is kept.
        self.assertFalse(interest.exists())
        self.assertEqual(again & lines, lines - interest)
        self.assertTrue(again)
        with self.assertRaises(AccessError):
            self.as_user(self.billing)["account.move"].browse(
                invoice.id
            ).compute_late_penalties(date(2026, 4, 30))
        self.assertEqual(again.exists(), again)

    def test_invoicing_and_release_keep_working(self):
        """The internal paths: a collector invoices draft lines (they become
        invoiced), a Billing user cancels the penalty invoice (they come back)."""
        revenue = self.company_data["default_account_revenue"]
        self.company.write(
            {
                "penalty_interest_account_id": revenue.id,
                "penalty_indemnity_account_id": revenue.id,
            }
        )
        line = self.lines_env(self.collector).browse(self.draft.id)
        invoices = line._create_penalty_invoices(date(2026, 4, 1))
        self.assertEqual(self.draft.state, "invoiced")
        self.assertEqual(self.draft.penalty_move_id, invoices)
        self.as_user(self.billing)["account.move"].browse(invoices.id).button_cancel()
        self.assertEqual(self.draft.state, "draft")
        self.assertFalse(self.draft.penalty_move_id)


@tagged("post_install", "-at_install")
class TestDunningHistoryRights(AccessRightsCommon):
    """Item 16: letter items are snapshots; sent letters and their runs stay."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env(user=cls.collector)
        cls.dunning_run = env["credit.dunning.run"].create(
            {"date": date(2026, 3, 10), "company_id": cls.company.id}
        )
        cls.dunning_run.action_compute()
        cls.dunning_run.action_send()
        cls.letter = cls.dunning_run.letter_ids
        cls.letter.ensure_one()

    def test_letter_items_are_snapshots(self):
        for user in (self.collector, self.manager):
            item = self.as_user(user)["credit.dunning.letter.line"].browse(
                self.letter.line_ids[0].id
            )
            with self.assertRaisesMessage(AccessError, "snapshot"):
                item.write({"days_late": 1})
        item = self.as_user(self.manager)["credit.dunning.letter.line"].browse(
            self.letter.line_ids.ids
        )
        with self.assertRaisesMessage(AccessError, "was sent"):
            item.unlink()
        with self.assertRaises(AccessError):
            self.as_user(self.billing)["credit.dunning.letter.line"].search([])

    def test_nobody_deletes_a_sent_letter_or_its_run(self):
        self.assertEqual(self.letter.state, "sent")
        letter = self.as_user(self.manager)["credit.dunning.letter"].browse(
            self.letter.id
        )
        with self.assertRaisesMessage(AccessError, "was sent"):
            letter.unlink()
        # Clearing the sending date to delete it afterwards is refused too.
        with self.assertRaises(AccessError):
            letter.write({"sent_date": False, "state": "draft"})
        with self.assertRaises(AccessError):
            letter.write({"amount_due": 1.0})
        run = self.as_user(self.manager)["credit.dunning.run"].browse(
            self.dunning_run.id
        )
        with self.assertRaisesMessage(UserError, "sent letters"):
            run.unlink()
        with self.assertRaises(AccessError):
            self.as_user(self.collector)["credit.dunning.run"].browse(
                self.dunning_run.id
            ).unlink()
        self.assertTrue(self.letter.exists())
        self.assertEqual(self.letter.state, "sent")

    def test_a_manager_cancels_a_sent_letter_with_a_reason(self):
        level = self.letter.line_ids.filtered("level_id").move_line_id.dunning_level_id
        self.assertEqual(level, self.first)
        with self.assertRaises(AccessError):
            self.as_user(self.collector)["credit.dunning.letter"].browse(
                self.letter.id
            ).action_cancel_sent("Wrong address")
        letter = self.as_user(self.manager)["credit.dunning.letter"].browse(
            self.letter.id
        )
        with self.assertRaisesMessage(UserError, "reason"):
            letter.action_cancel_sent("")
        wizard = (
            self.as_user(self.manager)["credit.dunning.letter.cancel.wizard"]
            .with_context(active_model=letter._name, active_ids=letter.ids)
            .create({"reason": "Wrong address"})
        )
        wizard.action_apply()
        self.assertEqual(self.letter.state, "cancelled")
        self.assertIn("Wrong address", self.letter.message_ids[0].body)
        self.assertFalse(
            self.letter.line_ids.filtered("level_id").move_line_id.dunning_level_id
        )
        # Still in the history: not deletable.
        with self.assertRaises(AccessError):
            letter.unlink()

    def test_a_run_without_sent_letters_can_be_deleted(self):
        self.make_invoice(partner=self.customer_b, due=date(2026, 3, 5))
        run = self.as_user(self.manager)["credit.dunning.run"].create(
            {"date": date(2026, 3, 20), "company_id": self.company.id}
        )
        run.action_compute()
        letters = run.letter_ids
        self.assertTrue(letters)
        run.unlink()
        self.assertFalse(letters.exists())


@tagged("post_install", "-at_install")
class TestCollectionFieldRights(AccessRightsCommon):
    """Item 17: collection fields of customers and invoices."""

    def test_customer_fields_are_read_only_outside_collection(self):
        rule = self.env["credit.penalty.rule"].search(
            [("company_id", "=", self.company.id)], limit=1
        )
        protected = {
            "debtor_type": "consumer",
            "dunning_excluded": True,
            "collective_procedure": True,
            "dunning_policy_id": self.policy.id,
        }
        if rule:
            protected["penalty_rule_id"] = rule.id
        for user in (self.billing, self.plain):
            customer = self.as_user(user)["res.partner"].browse(self.customer.id)
            customer.write({"phone": "+33 1 23 45 67 89"})
            # Saving a value unchanged is no change.
            customer.write({"debtor_type": "professional", "dunning_excluded": False})
            for fname, value in protected.items():
                with self.assertRaisesMessage(AccessError, "Credit Collection"):
                    customer.write({fname: value})
            with self.assertRaises(AccessError):
                customer.create({"name": "New", "debtor_type": "consumer"})
            new = customer.create({"name": f"New {user.login}", "is_company": True})
            self.assertEqual(new.debtor_type, "professional")
        self.assertEqual(self.customer.debtor_type, "professional")
        self.assertFalse(self.customer.dunning_excluded)
        for user in (self.collector, self.manager):
            customer = self.as_user(user)["res.partner"].browse(self.customer.id)
            customer.write({"debtor_type": "consumer"})
            self.assertEqual(self.customer.debtor_type, "consumer")

    def test_forms_show_the_fields_read_only_to_other_users(self):
        def field_nodes(user, model, fname):
            arch = self.as_user(user)[model].get_views([(False, "form")])["views"][
                "form"
            ]["arch"]
            return etree.fromstring(arch).xpath(f"//field[@name='{fname}']")

        auditor = new_test_user(
            self.env,
            login="auditor",
            groups=f"account.group_account_readonly,{CONTACTS}",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )

        for model, fname in (
            ("res.partner", "debtor_type"),
            ("res.partner", "dunning_excluded"),
            ("account.move", "dunning_hold"),
            ("account.move", "formal_notice_received_date"),
        ):
            nodes = field_nodes(self.billing, model, fname)
            self.assertEqual(len(nodes), 1, f"{model}.{fname}")
            self.assertEqual(nodes[0].get("readonly"), "1", f"{model}.{fname}")
            nodes = field_nodes(self.collector, model, fname)
            self.assertEqual(len(nodes), 1, f"{model}.{fname}")
            self.assertNotEqual(nodes[0].get("readonly"), "1", f"{model}.{fname}")
            # An auditor (no access to the collection settings) does not get them.
            self.assertFalse(field_nodes(auditor, model, fname))

    def test_odoo_synchronisation_of_contacts_keeps_working(self):
        """The collector sets the company's flags; a Billing user then creates a
        contact under it and edits it, and moves another contact to it."""
        self.as_user(self.collector)["res.partner"].browse(self.customer.id).write(
            {"debtor_type": "consumer", "dunning_excluded": True}
        )
        Partner = self.as_user(self.billing)["res.partner"]
        contact = Partner.create({"name": "Jean Martin", "parent_id": self.customer.id})
        self.assertEqual(contact.debtor_type, "consumer")
        self.assertTrue(contact.dunning_excluded)
        contact.write({"phone": "+33 6 00 00 00 00"})
        other = Partner.create({"name": "Paul Dupont", "parent_id": self.customer_b.id})
        self.assertEqual(other.debtor_type, "professional")
        other.write({"parent_id": self.customer.id})
        self.assertEqual(other.debtor_type, "consumer")
        # The collector's change reaches the contacts.
        self.as_user(self.collector)["res.partner"].browse(self.customer.id).write(
            {"dunning_excluded": False}
        )
        self.assertFalse(contact.dunning_excluded)

    def test_invoice_fields_are_read_only_outside_collection(self):
        Move = self.as_user(self.billing)["account.move"]
        # Ordinary work: create, post, edit an invoice.
        invoice = Move.create(
            {
                "move_type": "out_invoice",
                "partner_id": self.customer.id,
                "invoice_date": date(2026, 3, 1),
                "invoice_line_ids": [
                    Command.create({"name": "Service", "price_unit": 100.0})
                ],
            }
        )
        invoice.action_post()
        invoice.write({"ref": "PO 12"})
        judgment = (
            "judgment_enforceable_date"
            if "judgment_enforceable_date" in Move._fields
            else "judgment_service_date"
        )
        for vals in (
            {"dunning_hold": True},
            {"dunning_hold_reason": "Dispute"},
            {"dunning_hold_until": date(2026, 5, 1)},
            {"dunning_policy_id": self.policy.id},
            {"formal_notice_received_date": date(2026, 4, 2)},
            {judgment: date(2026, 4, 2)},
            {"is_penalty_invoice": True},
        ):
            with self.assertRaisesMessage(AccessError, "Credit Collection"):
                invoice.write(vals)
        with self.assertRaises(AccessError):
            Move.create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.customer.id,
                    "dunning_hold": True,
                }
            )
        self.assertFalse(invoice.dunning_hold)
        invoice = self.as_user(self.collector)["account.move"].browse(invoice.id)
        invoice.write({"formal_notice_received_date": date(2026, 4, 2)})
        self.assertEqual(invoice.formal_notice_received_date, date(2026, 4, 2))

    def test_hold_actions_check_the_group(self):
        invoice = self.as_user(self.billing)["account.move"].browse(self.invoice.id)
        with self.assertRaises(AccessError):
            invoice.action_dunning_hold()
        with self.assertRaises(AccessError):
            invoice._set_dunning_hold("dispute", "Disputed")
        with self.assertRaises(AccessError):
            self.as_user(self.billing)["credit.dunning.hold.wizard"].create(
                {"move_ids": [Command.set(invoice.ids)], "reason": "Disputed"}
            )
        # With tracking on, as in production: the release is tracked.
        env = self.as_user(self.collector)
        env = env(context=dict(env.context, tracking_disable=False, mail_notrack=False))
        action = env["account.move"].browse(self.invoice.id).action_dunning_hold()
        wizard = (
            env[action["res_model"]]
            .with_context(**action["context"])
            .create({"reason": "Disputed"})
        )
        wizard.action_apply()
        self.assertTrue(self.invoice.dunning_hold)
        with self.assertRaises(AccessError):
            invoice.action_dunning_release()
        self.assertTrue(self.invoice.dunning_hold)
        env["account.move"].browse(self.invoice.id).action_dunning_release()
        self.assertFalse(self.invoice.dunning_hold)
        tracked = self.invoice.message_ids.tracking_value_ids.field_id.mapped("name")
        self.assertIn("dunning_hold", tracked)

    @freeze_time("2026-04-10")
    def test_expired_holds_end_whoever_runs_the_job(self):
        self.invoice._set_dunning_hold("promise", "Pays on the 5th", date(2026, 4, 5))
        Move = self.as_user(self.billing)["account.move"]
        released = Move._release_expired_dunning_holds()
        self.assertEqual(released, self.invoice)
        self.assertFalse(self.invoice.dunning_hold)


@tagged("post_install", "-at_install")
class TestMultiCompanyRights(AccessRightsCommon):
    """Item 19: a collection user in two companies works in one at a time."""

    def test_records_of_the_other_company(self):
        line_b = (
            self.env["credit.penalty.line"]
            .sudo()
            .create(self.line_vals(self.invoice_b))
        )
        line_a = self.env["credit.penalty.line"].sudo().create(self.line_vals())
        Line = self.lines_env(self.collector)
        self.assertEqual(Line.search([("id", "in", (line_a + line_b).ids)]), line_a)
        with self.assertRaises(AccessError):
            Line.browse(line_b.id).read(["amount"])
        with self.assertRaises(AccessError):
            Line.browse(line_b.id).write({"amount": 9.0})
        with self.assertRaises(AccessError):
            Line.browse(line_b.id).unlink()
        with self.assertRaises(AccessError):
            Line.create(self.line_vals(self.invoice_b))
        with self.assertRaises(AccessError):
            self.as_user(self.collector)["account.move"].browse(
                self.invoice_b.id
            ).write({"dunning_hold": True})
        # Working in both companies, the collector sees and edits both.
        both = self.company + self.company_b
        Line = self.lines_env(self.collector, both)
        self.assertEqual(
            Line.search([("id", "in", (line_a + line_b).ids)]), line_a + line_b
        )
        Line.browse(line_b.id).write({"amount": 9.0})
        self.assertEqual(line_b.amount, 9.0)
        # The manager only belongs to the first company.
        with self.assertRaises(AccessError):
            self.lines_env(self.manager, both).search([])


@tagged("post_install", "-at_install")
class TestBulkInsertRights(AccessRightsCommon):
    """Item 19: what ``credit.bulk.mixin._bulk_create`` guarantees."""

    def count(self, vals_list):
        return (
            self.env["credit.penalty.line"]
            .sudo()
            .search_count(
                [("move_id", "in", list({vals["move_id"] for vals in vals_list}))]
            )
        )

    def test_model_access_rights(self):
        for user in (self.collector, self.manager):
            lines = self.lines_env(user)._bulk_create(
                [self.line_vals(), self.line_vals()]
            )
            self.assertEqual(len(lines), 2)
            self.assertEqual(lines.mapped("state"), ["draft", "draft"])
            self.assertEqual(lines.create_uid, user)
        for user in (self.billing, self.plain):
            vals_list = [self.line_vals()]
            with self.assertRaises(AccessError):
                self.lines_env(user)._bulk_create(vals_list)
            self.assertEqual(self.count(vals_list), 4)

    def test_company_not_worked_in(self):
        vals_list = [self.line_vals(self.invoice_b)]
        # Member of the company, but not working in it.
        with self.assertRaisesMessage(AccessError, "not working in"):
            self.lines_env(self.collector)._bulk_create(vals_list)
        # Not a member of the company at all.
        with self.assertRaises(AccessError):
            self.lines_env(self.manager, self.company + self.company_b)._bulk_create(
                vals_list
            )
        self.assertEqual(self.count(vals_list), 0)
        both = self.company + self.company_b
        self.assertTrue(self.lines_env(self.collector, both)._bulk_create(vals_list))

    def test_company_consistency(self):
        """A row of the first company pointing at an invoice of the other one."""
        both = self.company + self.company_b
        vals_list = [self.line_vals(self.invoice_b, company_id=self.company.id)]
        for user in (self.collector, self.env.user):
            with self.assertRaisesMessage(UserError, "another company"):
                self.lines_env(user, both)._bulk_create(vals_list)
        self.assertEqual(self.count(vals_list), 0)

    def test_record_rules_are_checked_on_the_new_rows(self):
        self.env["ir.rule"].create(
            {
                "name": "Collectors create small penalty lines only",
                "model_id": self.env["ir.model"]._get_id("credit.penalty.line"),
                "groups": [Command.link(self.env.ref(USER).id)],
                "domain_force": "[('amount', '<', 1000)]",
                "perm_read": False,
                "perm_write": False,
                "perm_unlink": False,
                "perm_create": True,
            }
        )
        for user in (self.collector, self.manager):
            vals_list = [self.line_vals(), self.line_vals(amount=5000.0)]
            before = self.count(vals_list)
            with self.assertRaises(AccessError):
                self.lines_env(user)._bulk_create(vals_list)
            # Rolled back with the savepoint: no row of the batch is left.
            self.assertEqual(self.count(vals_list), before)
            self.assertTrue(self.lines_env(user)._bulk_create([self.line_vals()]))

    def test_python_constraints_run(self):
        """The compensation line needs its justification (``@api.constrains``)."""
        if "compensation" not in dict(
            self.env["credit.penalty.line"]._fields["kind"].selection
        ):
            self.skipTest("no constrained kind of penalty line")
        for user in (self.collector, self.manager):
            vals_list = [
                self.line_vals(),
                self.line_vals(kind="compensation", amount=50.0),
            ]
            with self.assertRaises(ValidationError):
                self.lines_env(user)._bulk_create(vals_list)
            self.assertEqual(self.count(vals_list), 0)

    def test_defaults_are_not_applied(self):
        """The caller gives every value: a required field left out is refused by
        the database (``state`` has a default that ``create`` would apply)."""
        vals = self.line_vals()
        del vals["state"]
        self.assertEqual(self.lines_env(self.collector).create(vals).state, "draft")
        vals = self.line_vals()
        del vals["state"]
        with mute_logger("odoo.sql_db"), self.assertRaises(NotNullViolation):
            self.lines_env(self.collector)._bulk_create([vals])

    def test_query_count_does_not_grow_with_rows(self):
        Line = self.lines_env(self.collector)
        Line._bulk_create([self.line_vals()])  # caches (rules, access) warmed up
        counts = []
        for size in (3, 60):
            vals_list = [self.line_vals() for _index in range(size)]
            self.env.flush_all()
            before = self.env.cr.sql_log_count
            Line._bulk_create(vals_list)
            counts.append(self.env.cr.sql_log_count - before)
        self.assertEqual(counts[0], counts[1])
