from datetime import date

from psycopg2.errors import UniqueViolation

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..models.credit_dunning_run import DUNNING_LOCK_KEY
from .common import CreditCollectionCommon


@tagged("post_install", "-at_install")
class TestDunningConcurrency(CreditCollectionCommon):
    def test_a_second_run_of_the_same_company_at_once_is_refused(self):
        """While another transaction computes a run of the company, this one stops
        with a clear message instead of writing duplicate letters."""
        self.make_invoice(due=date(2026, 3, 1))
        run = self.env["credit.dunning.run"].create({"date": date(2026, 3, 10)})
        with self.env.registry.cursor() as other_cursor:
            # What _lock_company does in the other worker's transaction.
            other_cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)",
                [DUNNING_LOCK_KEY, self.company.id],
            )
            with self.assertRaisesMessage(UserError, "Another dunning run is being"):
                run.action_compute()
            other_cursor.rollback()
        self.assertEqual(run.state, "draft")
        self.assertFalse(run.letter_ids)
        # Once the other transaction ended, the run goes through.
        run.action_compute()
        self.assertEqual(len(run.letter_ids), 1)

    def test_database_refuses_two_letters_per_customer_and_day(self):
        self.make_invoice(due=date(2026, 3, 1))
        run = self.run_dunning(date(2026, 3, 10))
        letter = run.letter_ids
        clone = self.env["credit.dunning.run"].create({"date": date(2026, 3, 10)})
        vals = {
            "partner_id": letter.partner_id.id,
            "level_id": letter.level_id.id,
            "amount_due": 1.0,
            "amount_overdue": 1.0,
            "line_vals": [],
        }
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaisesMessage(UserError, "at the same time"),
        ):
            clone._create_letters([vals])
        self.assertEqual(
            self.env["credit.dunning.letter"].search_count([("run_id", "=", clone.id)]),
            0,
        )

    def test_database_refuses_the_same_level_twice_for_an_item(self):
        invoice = self.make_invoice(due=date(2026, 3, 1))
        letter = self.run_dunning(date(2026, 3, 10)).letter_ids
        line = letter.line_ids
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaises(UniqueViolation),
            self.cr.savepoint(),
        ):
            self.env["credit.dunning.letter.line"].create(
                {
                    "letter_id": letter.id,
                    "move_line_id": line.move_line_id.id,
                    "kind": "invoice",
                    "currency_id": line.currency_id.id,
                    "level_id": line.level_id.id,
                }
            )
            self.env.flush_all()
        self.assertEqual(invoice.dunning_letter_count, 1)
