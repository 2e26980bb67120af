from datetime import date
from unittest.mock import patch

from freezegun import freeze_time

from odoo.tests import tagged
from odoo.tools import mute_logger

from ..models import credit_company_job
from .common import CreditCollectionCommon, cron_pass

PARAM = "l10n_fr_credit_collection.company_job.monthly_penalties"
JOB_LOGGER = "odoo.addons.l10n_fr_credit_collection.models.credit_company_job"


@tagged("post_install", "-at_install")
class TestCompanyJob(CreditCollectionCommon):
    """The monthly penalties and the daily dunning of many companies run company
    by company on Odoo's cron progress: each call commits what it did, reports
    it, and the next call goes on with the companies left."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = cls.setup_other_company(name="Other FR")["company"]
        cls.env.user.company_ids |= cls.other
        cls.invoice = cls.make_invoice(due=date(2026, 1, 31))
        cls.other_invoice = cls.make_invoice(due=date(2026, 1, 31), company=cls.other)

    def _progress(self):
        cron = self.env.ref(
            "l10n_fr_credit_collection.ir_cron_credit_penalties_monthly"
        )
        return self.env["ir.cron.progress"].create({"cron_id": cron.id})

    def _cron_call(self, progress, spent=0):
        """A call of the monthly job, in a cron pass that began ``spent`` seconds
        ago (under freezegun's clock, which stands still)."""
        with freeze_time("2026-03-31"), cron_pass(spent):
            self.env["account.move"].with_context(
                ir_cron_progress_id=progress.id
            )._cron_compute_late_penalties()

    def test_one_company_per_call_with_progress(self):
        progress = self._progress()
        companies = self.env["res.company"].search([]).sorted("id")
        with patch.object(credit_company_job, "COMPANY_JOB_BUDGET_SECONDS", -1):
            self._cron_call(progress)
            self.assertEqual(
                (progress.done, progress.remaining), (1, len(companies) - 1)
            )
            left = self.env["ir.config_parameter"].get_param(PARAM)
            self.assertEqual(left, ",".join(str(cid) for cid in companies[1:].ids))
            for _index in range(len(companies) - 1):
                self._cron_call(progress)
        self.assertEqual((progress.done, progress.remaining), (1, 0))
        self.assertFalse(self.env["ir.config_parameter"].get_param(PARAM))
        self.assertTrue(self.invoice.penalty_line_ids)
        self.assertTrue(self.other_invoice.penalty_line_ids)

    def test_a_spent_cron_pass_leaves_the_companies_to_the_next_pass(self):
        """Other jobs used the cron worker's pass: no company is started, which
        ends the job, and the job is triggered for the worker's next pass."""
        progress = self._progress()
        Trigger = self.env["ir.cron.trigger"]
        triggers = Trigger.search_count([("cron_id", "=", progress.cron_id.id)])
        self._cron_call(progress, spent=100)
        self.assertEqual(progress.done, 0)
        self.assertFalse(self.invoice.penalty_line_ids)
        self.assertEqual(
            Trigger.search_count([("cron_id", "=", progress.cron_id.id)]),
            triggers + 1,
        )
        self._cron_call(progress)
        self.assertTrue(self.invoice.penalty_line_ids)
        self.assertTrue(self.other_invoice.penalty_line_ids)

    def test_a_failing_company_is_reported_and_the_sweep_goes_on(self):
        progress = self._progress()
        Move = type(self.env["account.move"])
        original = Move._compute_late_penalties_batch

        def failing(moves, as_of):
            if moves.company_id == self.company:
                raise ValueError("broken company")
            return original(moves, as_of)

        with (
            patch.object(Move, "_compute_late_penalties_batch", failing),
            mute_logger(JOB_LOGGER),
        ):
            self._cron_call(progress)
        companies = self.env["res.company"].search([])
        self.assertEqual((progress.done, progress.remaining), (len(companies), 0))
        self.assertFalse(self.invoice.penalty_line_ids, "rolled back")
        self.assertTrue(self.other_invoice.penalty_line_ids)
        told = self.env["mail.activity"].search(
            [("res_id", "=", self.company.partner_id.id)]
        )
        self.assertIn("broken company", str(told.note))

    def test_a_stopped_sweep_resumes_where_it_was(self):
        """A server stopped between two calls: the next call (even the next
        scheduled one) takes the companies left, not the ones already done."""
        self.env["ir.config_parameter"].set_param(PARAM, str(self.other.id))
        progress = self._progress()
        self._cron_call(progress)
        self.assertEqual((progress.done, progress.remaining), (1, 0))
        self.assertFalse(self.invoice.penalty_line_ids, "done before the stop")
        self.assertTrue(self.other_invoice.penalty_line_ids)

    def test_daily_dunning_of_many_companies(self):
        (self.company | self.other).dunning_auto = True
        self.env["credit.dunning.policy"]._get_company_default(self.other) or (
            self.policy.copy({"company_id": self.other.id, "is_default": True})
        )
        progress = self._progress()
        Run = self.env["credit.dunning.run"]
        with (
            freeze_time("2026-02-10"),
            patch.object(credit_company_job, "COMPANY_JOB_BUDGET_SECONDS", -1),
        ):
            Run.with_context(ir_cron_progress_id=progress.id)._cron_daily()
            self.assertEqual((progress.done, progress.remaining), (1, 1))
            Run.with_context(ir_cron_progress_id=progress.id)._cron_daily()
        self.assertEqual((progress.done, progress.remaining), (1, 0))
        runs = Run.search([("date", "=", date(2026, 2, 10))])
        self.assertEqual(runs.company_id, self.company | self.other)
