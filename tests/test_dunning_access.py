from datetime import date

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import CreditCollectionCommon


@tagged("post_install", "-at_install")
class TestDunningAccess(CreditCollectionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        common = {"company_id": cls.company.id, "company_ids": [cls.company.id]}
        cls.invoicing_user = new_test_user(
            cls.env, login="billing", groups="account.group_account_invoice", **common
        )
        cls.collector = new_test_user(
            cls.env,
            login="collector",
            groups="l10n_fr_credit_collection.group_credit_collection_user",
            **common,
        )
        cls.make_invoice(due=date(2026, 3, 1))

    def test_user_without_the_group(self):
        plain = new_test_user(
            self.env,
            login="plain",
            groups="base.group_user",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        menu = self.env.ref("l10n_fr_credit_collection.menu_credit_collection_root")
        for user in (self.invoicing_user, plain):
            env = self.env(user=user)
            with self.assertRaises(AccessError):
                env["credit.dunning.run"].search([])
            with self.assertRaises(AccessError):
                env["credit.dunning.letter"].search([])
            with self.assertRaises(AccessError):
                env["credit.dunning.letter.line"].search([])
            with self.assertRaises(AccessError):
                env["credit.dunning.run"].create({"date": date(2026, 3, 10)})
            with self.assertRaises(AccessError):
                env["credit.dunning.hold.wizard"].create({"reason": "Disputed"})
            visible = env["ir.ui.menu"]._visible_menu_ids()
            self.assertNotIn(menu.id, visible)
        with self.assertRaises(AccessError):
            self.env(user=plain)["credit.penalty.line"].search([])
        self.assertIn(
            menu.id, self.env(user=self.collector)["ir.ui.menu"]._visible_menu_ids()
        )

    def test_collector_runs_and_sends_but_does_not_configure(self):
        env = self.env(user=self.collector)
        run = env["credit.dunning.run"].create({"date": date(2026, 3, 10)})
        run.action_compute()
        self.assertEqual(len(run.letter_ids), 1)
        run.action_send()
        self.assertEqual(run.letter_ids.state, "sent")
        with self.assertRaises(AccessError):
            env["credit.dunning.policy"].browse(self.policy.id).name = "Mine"
        with self.assertRaises(AccessError):
            env["credit.dunning.level"].browse(self.first.id).delay_days = 8
        with self.assertRaises(AccessError):
            run.letter_ids.unlink()

    def test_letters_of_another_company_are_invisible(self):
        run = self.run_dunning(date(2026, 3, 10))
        other = self.setup_other_company(name="Other FR")["company"]
        outsider = new_test_user(
            self.env,
            login="outsider",
            groups="l10n_fr_credit_collection.group_credit_collection_manager",
            company_id=other.id,
            company_ids=[other.id],
        )
        env = self.env(user=outsider)
        self.assertFalse(env["credit.dunning.letter"].search([]))
        self.assertFalse(
            env["credit.dunning.policy"].search([("id", "=", self.policy.id)])
        )
        with self.assertRaises(AccessError):
            env["credit.dunning.letter"].browse(run.letter_ids.id).read(["name"])
