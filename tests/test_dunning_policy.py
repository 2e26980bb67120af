from psycopg2.errors import CheckViolation, ExclusionViolation

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import CreditCollectionCommon


@tagged("post_install", "-at_install")
class TestDunningPolicy(CreditCollectionCommon):
    def test_policy_without_levels_is_refused(self):
        with self.assertRaisesMessage(ValidationError, "has no level"):
            self.env["credit.dunning.policy"].create({"name": "Empty"})
        self.assertFalse(
            self.env["credit.dunning.policy"].search([("name", "=", "Empty")])
        )

    def test_delays_must_strictly_increase(self):
        with self.assertRaisesMessage(ValidationError, "strictly increase"):
            self.env["credit.dunning.policy"].create(
                {
                    "name": "Bad",
                    "level_ids": [
                        Command.create({"sequence": 1, "name": "A", "delay_days": 10}),
                        Command.create({"sequence": 2, "name": "B", "delay_days": 10}),
                    ],
                }
            )
        with self.assertRaisesMessage(ValidationError, "Second"):
            self.second.delay_days = 3

    def test_one_default_policy_per_company(self):
        other = self.policy.copy({"name": "Other", "is_default": False})
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaises(ExclusionViolation),
            self.cr.savepoint(),
        ):
            other.is_default = True
            other.flush_recordset()
        other.action_set_default()
        self.assertTrue(other.is_default)
        self.assertFalse(self.policy.is_default)
        self.assertEqual(
            self.env["credit.dunning.policy"]._get_company_default(self.company), other
        )

    def test_standard_policy_ships_as_data(self):
        standard = self.env.ref(
            "l10n_fr_credit_collection.credit_dunning_policy_standard"
        ).sudo()
        self.assertEqual(standard.name, "Relances standard")
        self.assertEqual(standard.level_ids.mapped("delay_days"), [-5, 7, 20, 35])
        notice = standard.level_ids[-1]
        self.assertTrue(
            notice.is_formal_notice and notice.send_letter and notice.create_activity
        )
        self.assertTrue(
            standard.level_ids[2].send_email and standard.level_ids[2].send_letter
        )

    def test_min_interval_defaults_to_the_previous_deadline(self):
        policy = self.env["credit.dunning.policy"].create(
            {
                "name": "Paced",
                "level_ids": [
                    Command.create(
                        {
                            "sequence": 1,
                            "name": "A",
                            "delay_days": 5,
                            "payment_deadline_days": 10,
                        }
                    ),
                    Command.create(
                        {
                            "sequence": 2,
                            "name": "B",
                            "delay_days": 20,
                            "payment_deadline_days": 15,
                        }
                    ),
                    Command.create({"sequence": 3, "name": "C", "delay_days": 40}),
                ],
            }
        )
        first, second, third = policy.level_ids
        self.assertEqual(
            [
                first.min_interval_days,
                second.min_interval_days,
                third.min_interval_days,
            ],
            [0, 10, 15],
        )
        self.assertEqual(third._engine_level().min_interval_days, 15)
        # A value typed by hand stays when the other levels change...
        third.min_interval_days = 3
        second.payment_deadline_days = 20
        self.assertEqual(third.min_interval_days, 3)
        # ...and a level moved in the policy takes its new predecessor's deadline.
        third.write({"sequence": 0, "delay_days": 1})
        self.assertEqual(third.min_interval_days, 0)
        self.assertEqual(
            self.env["credit.dunning.level"]
            .new({"policy_id": policy.id, "sequence": 5, "delay_days": 60, "name": "D"})
            .min_interval_days,
            20,
        )

    def test_min_interval_cannot_be_negative(self):
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaises(CheckViolation),
            self.cr.savepoint(),
        ):
            self.notice.min_interval_days = -1
            self.notice.flush_recordset()

    def test_standard_policy_waits_for_each_deadline(self):
        standard = self.env.ref(
            "l10n_fr_credit_collection.credit_dunning_policy_standard"
        ).sudo()
        self.assertEqual(
            standard.level_ids.mapped("min_interval_days"),
            [0] + standard.level_ids[:-1].mapped("payment_deadline_days"),
        )
