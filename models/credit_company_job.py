import logging
import time

from odoo import api, models

_logger = logging.getLogger(__name__)

# A call of a scheduled job stops taking new companies after this many seconds
# (Odoo calls it again at once while its progress says companies remain).
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
        started = time.monotonic()
        done = companies.browse()
        for company in todo:
            if (
                in_cron
                and done
                and time.monotonic() - started > COMPANY_JOB_BUDGET_SECONDS
            ):
                break
            try:
                with self.env.cr.savepoint():
                    process(company)
            except Exception as error:  # noqa: BLE001 - one company, not the job
                _logger.warning("%s: %s: %s", failure_summary, company.name, error)
                company._notify_credit_job_failure(failure_summary, str(error))
            done |= company
        left = todo - done
        params.set_param(param, ",".join(str(cid) for cid in left.ids) or False)
        self.env["ir.cron"]._notify_progress(done=len(done), remaining=len(left))
        return done
