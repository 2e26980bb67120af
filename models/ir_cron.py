import threading
import time

from odoo import api, models
from odoo.service.server import SLEEP_INTERVAL
from odoo.tools import config

# The addon's scheduled jobs (and the mail queue when it renders letters) stop
# starting new work once this share of the cron worker's time limit is spent.
PASS_SHARE = 0.75
# A cron worker sleeps at most this long between two passes (server.py: its
# interval plus up to 9 s of "chorus effect").
SLEEP_MAX = SLEEP_INTERVAL + 10

# When this process last ended a scheduled job (monotonic clock).
_last_job_end = float("-inf")


class IrCron(models.Model):
    _inherit = "ir.cron"

    @classmethod
    def _process_job(cls, db, cron_cr, job):
        """A cron worker runs every job ready at once in one pass, up to ten
        calls each, and its watchdog (``limit_time_real_cron``, else
        ``limit_time_real``: 120 s by default) kills it when the time since its
        last ping outlasts the limit: the ping comes before the worker's sleep
        (up to 70 s, cut short when a job is triggered), so that sleep, and the
        whole pass after it, count, not one call nor one job. Note when that
        window began, at the latest: the end of the worker's previous job, or
        the longest sleep before this pass. The jobs share the window (see
        ``_credit_deadline``)."""
        global _last_job_end  # noqa: PLW0603 - one clock per worker process
        start = getattr(cron_cr, "_credit_window_start", None)
        if start is None:
            start = max(_last_job_end, time.monotonic() - SLEEP_MAX)
            cron_cr._credit_window_start = start
        thread = threading.current_thread()
        thread.credit_cron_window_start = start
        try:
            return super()._process_job(db, cron_cr, job)
        finally:
            thread.credit_cron_window_start = None
            _last_job_end = time.monotonic()

    @api.model
    def _credit_pass_deadline(self):
        """The ``time.monotonic()`` by which the current cron pass should end,
        or None outside a scheduled job or without a time limit."""
        start = getattr(threading.current_thread(), "credit_cron_window_start", None)
        limit = config["limit_time_real_cron"]
        if limit is None or limit < 0:
            limit = config["limit_time_real"]
        if start is None or not limit or limit <= 0:
            return None
        return start + PASS_SHARE * limit

    @api.model
    def _credit_deadline(self, seconds):
        """The ``time.monotonic()`` by which a call allowed ``seconds`` stops
        starting new work: never past the cron pass's share of its time limit."""
        deadline = time.monotonic() + seconds
        pass_deadline = self._credit_pass_deadline()
        return deadline if pass_deadline is None else min(deadline, pass_deadline)

    @api.model
    def _credit_pass_spent(self):
        """Whether the current cron pass has no time left for new work: the job
        should then stop and trigger itself for the worker's next pass."""
        pass_deadline = self._credit_pass_deadline()
        return pass_deadline is not None and time.monotonic() >= pass_deadline
