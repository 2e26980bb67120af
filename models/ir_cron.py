import threading
import time

try:
    import resource
except ImportError:  # not on POSIX: no multi-worker mode, no CPU limit
    resource = None

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


def _cpu_seconds_left():
    """CPU seconds this process may still use before the kernel stops it: a
    worker of Odoo's multi-worker mode sets ``RLIMIT_CPU`` to its CPU time plus
    ``limit_time_cpu`` (60 s by default) before each pass. None without limit."""
    if resource is None:
        return None
    soft, _hard = resource.getrlimit(resource.RLIMIT_CPU)
    if soft == resource.RLIM_INFINITY or soft < 0:
        return None
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return soft - (usage.ru_utime + usage.ru_stime)


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
        or None outside a scheduled job or without a time limit: at the share of
        the worker's real time limit, and before the share of its CPU limit is
        used (CPU time never runs faster than the clock)."""
        start = getattr(threading.current_thread(), "credit_cron_window_start", None)
        if start is None:
            return None
        deadlines = []
        limit = config["limit_time_real_cron"]
        if limit is None or limit < 0:
            limit = config["limit_time_real"]
        if limit and limit > 0:
            deadlines.append(start + PASS_SHARE * limit)
        cpu_left = _cpu_seconds_left()
        if cpu_left is not None and config["limit_time_cpu"]:
            margin = (1 - PASS_SHARE) * config["limit_time_cpu"]
            deadlines.append(time.monotonic() + cpu_left - margin)
        return min(deadlines) if deadlines else None

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
