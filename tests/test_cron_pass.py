import threading
import time
from types import SimpleNamespace
from unittest.mock import patch

from odoo.tests import TransactionCase, tagged
from odoo.tools import config

from odoo.addons.base.models.ir_cron import ir_cron

from ..models import ir_cron as models_ir_cron
from .common import cron_pass


@tagged("post_install", "-at_install")
class TestCronPass(TransactionCase):
    """A cron worker runs every ready job in one pass under one time limit: the
    addon's jobs share that time instead of each assuming it has it all."""

    def test_the_jobs_of_a_pass_share_its_window(self):
        """The window starts at the worker's last ping: after its previous job
        when it was just before, else the longest sleep before the pass."""
        seen = []

        def process_job(cls, db, cron_cr, job):
            seen.append(threading.current_thread().credit_cron_window_start)

        Cron = type(self.env["ir.cron"])
        first_pass, next_pass = SimpleNamespace(), SimpleNamespace()
        with patch.object(ir_cron, "_process_job", classmethod(process_job)):
            with patch.object(models_ir_cron, "_last_job_end", float("-inf")):
                before = time.monotonic()
                Cron._process_job(None, first_pass, {"id": 1})
                time.sleep(0.01)
                Cron._process_job(None, first_pass, {"id": 2})
                ended = models_ir_cron._last_job_end
                Cron._process_job(None, next_pass, {"id": 1})
        self.assertEqual(seen[0], seen[1], "two jobs of one pass")
        self.assertAlmostEqual(seen[0], before - 70, delta=1, msg="after a sleep")
        self.assertEqual(seen[2], ended, "the next pass: after the last job")
        self.assertIsNone(threading.current_thread().credit_cron_window_start)

    def test_a_call_never_runs_past_the_pass_share_of_the_limit(self):
        Cron = self.env["ir.cron"]
        now = time.monotonic()
        self.assertAlmostEqual(Cron._credit_deadline(30), now + 30, delta=1)
        self.assertFalse(Cron._credit_pass_spent(), "outside a cron job")
        with cron_pass(0):
            self.assertAlmostEqual(Cron._credit_deadline(30), now + 30, delta=1)
            self.assertFalse(Cron._credit_pass_spent())
        with cron_pass(80):
            # 3/4 of 120 s: 10 s left.
            self.assertAlmostEqual(Cron._credit_deadline(30), now + 10, delta=1)
            self.assertFalse(Cron._credit_pass_spent())
        with cron_pass(95):
            self.assertTrue(Cron._credit_pass_spent())
        with cron_pass(95, limit=0):
            self.assertFalse(Cron._credit_pass_spent(), "no time limit")

    def test_the_cpu_limit_of_a_worker_counts_too(self):
        """A worker's ``limit_time_cpu`` (per pass) stops the jobs as well: with
        5 CPU seconds left of 60, the pass is spent, whatever the clock says."""
        Cron = self.env["ir.cron"]
        self.assertIsNone(models_ir_cron._cpu_seconds_left(), "no limit in tests")
        with (
            cron_pass(0),
            patch.dict(config.options, {"limit_time_cpu": 60}),
            patch.object(models_ir_cron, "_cpu_seconds_left", return_value=40),
        ):
            # 40 s of CPU left, 15 s of them kept: 25 s.
            self.assertAlmostEqual(
                Cron._credit_deadline(60), time.monotonic() + 25, delta=1
            )
            self.assertFalse(Cron._credit_pass_spent())
        with (
            cron_pass(0),
            patch.dict(config.options, {"limit_time_cpu": 60}),
            patch.object(models_ir_cron, "_cpu_seconds_left", return_value=5),
        ):
            self.assertTrue(Cron._credit_pass_spent())
