import threading
import time
from contextlib import contextmanager
from datetime import date
from unittest.mock import patch

from odoo import Command, fields
from odoo.tools import config

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


@contextmanager
def cron_pass(spent_seconds, limit=120):
    """As inside a cron worker's pass over the ready jobs whose watchdog window
    began ``spent_seconds`` ago, under a time limit of ``limit`` seconds (see
    ``ir.cron._process_job``)."""
    thread = threading.current_thread()
    thread.credit_cron_window_start = time.monotonic() - spent_seconds
    try:
        with patch.dict(config.options, {"limit_time_real_cron": limit}):
            yield
    finally:
        thread.credit_cron_window_start = None


class CreditCollectionCommon(AccountTestInvoicingCommon):
    """A French company with the standard four-level policy as its default."""

    @classmethod
    def get_default_groups(cls):
        return super().get_default_groups() | cls.env.ref(
            "l10n_fr_credit_collection.group_credit_collection_manager"
        )

    @classmethod
    @AccountTestInvoicingCommon.setup_country("fr")
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        # A new company gets a copy of the shipped policy; the tests use their own.
        cls.env["credit.dunning.policy"].search(
            [("company_id", "=", cls.company.id)]
        ).is_default = False
        cls.env.flush_all()
        cls.policy = cls.env["credit.dunning.policy"].create(
            {
                "name": "Standard",
                "is_default": True,
                "company_id": cls.company.id,
                "level_ids": [
                    Command.create(
                        {
                            "sequence": 10,
                            "name": "Courtesy",
                            "delay_days": -5,
                            "send_email": True,
                        }
                    ),
                    Command.create(
                        {
                            "sequence": 20,
                            "name": "First",
                            "delay_days": 7,
                            "send_email": True,
                        }
                    ),
                    Command.create(
                        {
                            "sequence": 30,
                            "name": "Second",
                            "delay_days": 20,
                            "send_email": True,
                            "send_letter": True,
                        }
                    ),
                    Command.create(
                        {
                            "sequence": 40,
                            "name": "Notice",
                            "delay_days": 35,
                            "send_letter": True,
                            "create_activity": True,
                            "is_formal_notice": True,
                        }
                    ),
                ],
            }
        )
        cls.courtesy, cls.first, cls.second, cls.notice = cls.policy.level_ids
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Boulangerie Martin",
                "email": "compta@martin.example",
                "is_company": True,
            }
        )
        cls.customer_b = cls.env["res.partner"].create(
            {
                "name": "Garage Dupont",
                "email": "factures@dupont.example",
                "is_company": True,
            }
        )
        cls.term_30 = cls.env["account.payment.term"].create(
            {
                "name": "30 days",
                "line_ids": [
                    Command.create(
                        {"value": "percent", "value_amount": 100, "nb_days": 30}
                    )
                ],
            }
        )

        cls.company.write(
            {
                "penalty_interest_account_id": cls.income_account("763800").id,
                "penalty_indemnity_account_id": cls.income_account("758000").id,
            }
        )

        cls.split_term = cls.env["account.payment.term"].create(
            {
                "name": "Half at 30, half at 60",
                "line_ids": [
                    Command.create(
                        {"value": "percent", "value_amount": 50, "nb_days": 30}
                    ),
                    Command.create(
                        {"value": "percent", "value_amount": 50, "nb_days": 60}
                    ),
                ],
            }
        )

    @classmethod
    def setup_document_identity(cls, company_vals=None, customer_vals=None):
        """The creditor's registry mentions and bank account, and customer B's
        SIRET and address: what the letters and statements print."""
        cls.company.write(
            {
                "name": "Fournil Lyonnais",
                "legal_form": "SAS",
                "share_capital": 50000.0,
                "rcs_city": "Lyon",
                "siret": "73282932000074",
                "street": "12 rue de la République",
                "zip": "69002",
                "city": "Lyon",
                **(company_vals or {}),
            }
        )
        bank = cls.env["res.bank"].create({"name": "Banque Test", "bic": "AGRIFRPP"})
        cls.env["res.partner.bank"].create(
            {
                "acc_number": "FR7630006000011234567890189",
                "partner_id": cls.company.partner_id.id,
                "bank_id": bank.id,
            }
        )
        cls.customer_b.write(
            {
                "siret": "55210055400013",
                "street": "3 avenue des Tilleuls",
                "zip": "75011",
                "city": "Paris",
                **(customer_vals or {}),
            }
        )

    @classmethod
    def income_account(cls, code, company=None):
        """The income account of the chart with this code (created if missing)."""
        company = company or cls.company
        Account = cls.env["account.account"].with_company(company)
        account = Account.search(
            [*Account._check_company_domain(company), ("code", "=", code)], limit=1
        )
        return account or Account.create(
            {"code": code, "name": f"Income {code}", "account_type": "income"}
        )

    @classmethod
    def make_invoice(
        cls,
        partner=None,
        due=date(2026, 3, 31),
        amount=1000.0,
        move_type="out_invoice",
        term=None,
        invoice_date=None,
        post=True,
        company=None,
    ):
        """A posted customer invoice without tax, due on ``due`` (in ``company``
        when given, else in the environment's company)."""
        vals = {
            "move_type": move_type,
            "partner_id": (partner or cls.customer).id,
            "invoice_date": invoice_date or due,
            "invoice_line_ids": [
                Command.create(
                    {
                        "name": "Service",
                        "quantity": 1,
                        "price_unit": amount,
                        "tax_ids": [Command.clear()],
                    }
                )
            ],
        }
        if term:
            vals["invoice_payment_term_id"] = term.id
        else:
            vals["invoice_date_due"] = due
        Move = cls.env["account.move"]
        move = (Move.with_company(company) if company else Move).create(vals)
        if post:
            move.action_post()
        return move

    @classmethod
    def pay(cls, move, amount, on=date(2026, 4, 1)):
        return (
            cls.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=move.ids)
            .create({"amount": amount, "payment_date": on})
            ._create_payments()
        )

    def run_dunning(self, on, company=None):
        run = self.env["credit.dunning.run"].create(
            {"date": on, "company_id": (company or self.company).id}
        )
        run.action_compute()
        return run

    @contextmanager
    def assertRaisesMessage(self, exception, fragment):
        """Like assertRaisesRegex, inside a savepoint rolled back on error, so that
        the test also proves that nothing was left half-written."""
        with self.assertRaises(exception) as catcher:
            yield catcher
        self.assertIn(fragment, str(catcher.exception))

    @staticmethod
    def items(letter, level=None):
        lines = letter.line_ids
        if level is not None:
            lines = lines.filtered(lambda line: line.level_id == level)
        return lines.move_line_id

    @staticmethod
    def term_lines(move):
        return move.line_ids.filtered(lambda line: line.display_type == "payment_term")

    @staticmethod
    def d(value):
        return fields.Date.to_date(value)
