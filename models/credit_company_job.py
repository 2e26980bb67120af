import logging
import time

from odoo import api, models

_logger = logging.getLogger(__name__)

# A call of a scheduled job starts no new company after this many seconds, nor
# one that would end after the cron pass's share of its time limit, judging by
# the slowest company so far (Odoo calls it again at once while its progress
# says companies remain).
COMPANY_JOB_BUDGET_SECONDS = 60


class CreditCompanyJob(models.AbstractModel):
    """Scheduled jobs that work company by company on Odoo's cron machinery.

    Under a scheduled action, each call handles companies until its time budget
    is spent, reports its progress (``ir.cron._notify_progress``) and returns:
    Odoo commits, then calls it again while companies remain, on this worker or
    another one, so a run over many companies never hits a time limit and never
    redoes a company already committed. The companies left are kept in a system
    parameter: a server stopped in the middle resumes where it was. Called
    outside a scheduled action (by hand, in tests), it handles every company at
    once. One company's failure never stops the others: its work is rolled back,
    the managers are told once, and the next company goes on."""

    _name = "credit.company.job"
    _description = "Company-by-Company Scheduled Job"

    @api.model
    def _run_company_job(self, key, companies, process, failure_summary):
        """Call ``process(company)`` for each of ``companies`` (see the class).

        :param key: the job's name in the parameter that keeps its progress
        :param failure_summary: the activity summary telling the managers that a
            company's work was not done
        :return: the companies processed by this call
        """
        param = f"l10n_fr_credit_collection.company_job.{key}"
        params = self.env["ir.config_parameter"].sudo()
        in_cron = bool(self.env.context.get("ir_cron_progress_id"))
        pending = params.get_param(param)
        if pending:
            # A sweep is under way: go on with the companies it still has.
            todo = companies.browse(int(cid) for cid in pending.split(",") if cid)
            todo = todo.exists()
        else:
            todo = companies.sorted("id")
        Cron = self.env["ir.cron"]
        deadline = Cron._credit_deadline(COMPANY_JOB_BUDGET_SECONDS)
        done, slowest = companies.browse(), 0.0
        for company in todo:
            began = time.monotonic()
            if in_cron and (
                Cron._credit_pass_spent() or (done and began + slowest > deadline)
            ):
                break
            try:
                with self.env.cr.savepoint():
                    process(company)
            except Exception as error:  # noqa: BLE001 - one company, not the job
                _logger.warning("%s: %s: %s", failure_summary, company.name, error)
                company._notify_credit_job_failure(failure_summary, str(error))
            done |= company
            slowest = max(slowest, time.monotonic() - began)
        left = todo - done
        params.set_param(param, ",".join(str(cid) for cid in left.ids) or False)
        Cron._notify_progress(done=len(done), remaining=len(left))
        if left and not done:
            # The worker's pass had no time left: nothing done ends the job, its
            # trigger runs it again in the worker's next pass.
            progress = (
                self.env["ir.cron.progress"]
                .sudo()
                .browse(self.env.context["ir_cron_progress_id"])
            )
            progress.cron_id._trigger()
        return done
