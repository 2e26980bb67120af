from datetime import date
from unittest.mock import patch

from psycopg2.errors import SerializationFailure

from odoo import SUPERUSER_ID, Command, api, fields
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.mail.tests.common import MockEmail

from ..models.credit_dunning_letter import CreditDunningLetter
from .common import CreditCollectionCommon, cron_pass

THRESHOLD = "l10n_fr_credit_collection.send_background_threshold"
CRON = "l10n_fr_credit_collection.ir_cron_credit_dunning_send"
# Rates of a half-year the shipped table may not have yet (LAW.md: never guessed
# by the addon); the race tests add them, committed, and remove them.
RATES = {"ecb_mro": 2.15, "legal_professional": 2.62, "legal_private": 6.67}


@tagged("post_install", "-at_install")
class TestDunningBackground(CreditCollectionCommon, MockEmail):
    """Sending a large run in the background: the click queues, the scheduled
    action sends in batches with progress, in the clicking user's name."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param(THRESHOLD, 2)
        cls.customers = cls.customer | cls.customer_b
        cls.customers |= cls.env["res.partner"].create(
            [
                {"name": f"Client {index}", "email": f"c{index}@example.com"}
                for index in range(3)
            ]
        )
        for partner in cls.customers:
            cls.make_invoice(partner=partner, due=date(2026, 3, 1))
        cls.clerk = new_test_user(
            cls.env,
            login="background_clerk",
            groups="account.group_account_invoice,"
            "l10n_fr_credit_collection.group_credit_collection_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    def _run(self):
        run = self.run_dunning(date(2026, 3, 10))
        self.assertEqual(len(run.letter_ids), 5)
        return run

    def _job_with_progress(self):
        """The scheduled action's model as Odoo's runner calls it (the cron's
        user, a progress record), and that progress record."""
        progress = self.env["ir.cron.progress"].create(
            {"cron_id": self.env.ref(CRON).id}
        )
        job = (
            self.env["credit.dunning.letter"]
            .with_context(ir_cron_progress_id=progress.id)
            .with_user(SUPERUSER_ID)
        )
        return job, progress

    def _job(self, **kwargs):
        """The scheduled action's call, as the cron's user (the superuser)."""
        return (
            self.env["credit.dunning.letter"]
            .with_user(SUPERUSER_ID)
            ._cron_send_queued(**kwargs)
        )

    def test_a_large_send_queues_and_returns_at_once(self):
        run = self._run()
        cron = self.env.ref(CRON)
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        with self.mock_mail_gateway():
            action = run.with_user(self.clerk).action_send()
            self.assertFalse(self._new_mails, "nothing is sent by the click")
        self.assertEqual(action["tag"], "display_notification")
        letters = run.letter_ids
        self.assertEqual(set(letters.mapped("state")), {"to_send"})
        self.assertTrue(all(letters.mapped("send_queued")))
        self.assertEqual(letters.send_user_id, self.clerk)
        self.assertEqual(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]),
            triggers + 1,
        )
        self.assertEqual((run.send_total, run.send_queued_count), (5, 5))
        self.assertEqual(run.send_progress, "0 / 5 sent")

    def test_a_small_send_goes_at_once(self):
        self.env["ir.config_parameter"].sudo().set_param(THRESHOLD, 10)
        run = self._run()
        with self.mock_mail_gateway():
            run.with_user(self.clerk).action_send()
            self.assertEqual(len(self._new_mails), 5)
        self.assertEqual(set(run.letter_ids.mapped("state")), {"sent"})
        self.assertFalse(any(run.letter_ids.mapped("send_queued")))

    def test_the_job_sends_in_batches_with_progress_in_the_users_name(self):
        run = self._run()
        run.with_user(self.clerk).action_send()
        job, progress = self._job_with_progress()
        with self.mock_mail_gateway():
            self.assertEqual(job._cron_send_queued(2), 2)
            self.assertEqual((progress.done, progress.remaining), (2, 3))
            self.assertEqual(run.send_progress, "2 / 5 sent")
            job._cron_send_queued(2)
            job._cron_send_queued(2)
            self.assertEqual((progress.done, progress.remaining), (1, 0))
            mails = self._new_mails
        self.assertEqual(len(mails), 5)
        self.assertEqual(set(run.letter_ids.mapped("state")), {"sent"})
        self.assertEqual(run.state, "done")
        self.assertEqual(run.send_progress, "5 / 5 sent")
        # The emails and the chatter are the clicking user's, not the cron's.
        self.assertEqual(mails.author_id, self.clerk.partner_id)
        self.assertEqual(run.letter_ids.create_uid, self.env.user)
        self.assertFalse(any(run.letter_ids.mapped("send_queued")))
        self.assertEqual(self._job(), 0, "nothing left: nothing done")

    def test_a_call_stops_after_its_time_budget(self):
        """Odoo calls the job ten times within one cron time limit: a call stops
        after its time budget and leaves the rest queued for the next one."""
        self.env["ir.config_parameter"].sudo().set_param(
            "l10n_fr_credit_collection.send_call_seconds", 0
        )
        run = self._run()
        run.with_user(self.clerk).action_send()
        job, progress = self._job_with_progress()
        with (
            patch(
                "odoo.addons.l10n_fr_credit_collection.models."
                "credit_dunning_letter.SEND_SLICE",
                2,
            ),
            self.mock_mail_gateway(),
        ):
            self.assertEqual(job._cron_send_queued(), 2)
            self.assertEqual((progress.done, progress.remaining), (2, 3))
            self.assertEqual(job._cron_send_queued(), 2)
            self.assertEqual(job._cron_send_queued(), 1)
        self.assertEqual(set(run.letter_ids.mapped("state")), {"sent"})

    def test_a_call_in_a_spent_cron_pass_leaves_the_queue_to_the_next_pass(self):
        """Other jobs used the cron worker's pass: the call sends nothing, which
        ends the job, and triggers the senders for the worker's next pass."""
        run = self._run()
        run.with_user(self.clerk).action_send()
        job, progress = self._job_with_progress()
        Trigger = self.env["ir.cron.trigger"]
        crons = self.env["credit.dunning.letter"]._sending_crons()
        triggers = Trigger.search_count([("cron_id", "in", crons.ids)])
        with cron_pass(100), self.mock_mail_gateway():
            self.assertEqual(job._cron_send_queued(), 0)
            self.assertFalse(self._new_mails)
        self.assertEqual((progress.done, progress.remaining), (0, 0))
        self.assertTrue(all(run.letter_ids.mapped("send_queued")))
        new = Trigger.search([("cron_id", "in", crons.ids)], order="id desc")
        self.assertEqual(len(new), triggers + len(crons))
        self.assertLessEqual(new[0].call_at, fields.Datetime.now())
        with cron_pass(0), self.mock_mail_gateway():
            self.assertEqual(job._cron_send_queued(), 5)

    def _letter_messages(self, letters):
        return self.env["mail.message"].search_count(
            [("model", "=", letters._name), ("res_id", "in", letters.ids)]
        )

    def test_the_job_logs_no_more_than_a_click(self):
        """Leaving the queue is a write on the letters: it must not make Odoo
        track their state change, one chatter message per letter (the sending
        is logged on the customers and invoices, as for a click)."""
        run = self._run()
        # Tracking as in production (the test classes of account disable it).
        tracking = {"tracking_disable": False, "mail_notrack": False}
        letters = run.letter_ids.with_context(**tracking)
        # Two letters by a click (at the threshold: sent at once), three queued.
        clicked = letters.sorted("id")[:2]
        queued = letters - clicked
        with self.mock_mail_gateway():
            clicked.with_user(self.clerk).action_send()
            self.assertEqual(set(clicked.mapped("state")), {"sent"})
            queued.with_user(self.clerk).action_send()
            self.assertTrue(all(queued.mapped("send_queued")))
            job = letters.browse().with_user(SUPERUSER_ID)
            self.assertEqual(job._cron_send_queued(), 3)
        # What Odoo does at commit: the tracking of the changed fields is logged.
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.assertEqual(set(queued.mapped("state")), {"sent"})
        for letters in (clicked, queued):
            self.assertEqual(
                self._letter_messages(letters),
                self._letter_messages(clicked) // 2 * len(letters),
                "as many messages per letter from the job as from a click",
            )
        tracked = self.env["mail.tracking.value"].search_count(
            [
                ("mail_message_id.model", "=", "credit.dunning.letter"),
                ("mail_message_id.res_id", "in", run.letter_ids.ids),
            ]
        )
        self.assertEqual(tracked, 0, "no state tracking per letter")

    def test_a_failing_letter_goes_to_error_and_the_batch_goes_on(self):
        run = self._run()
        run.with_user(self.clerk).action_send()
        bad = run.letter_ids.filtered(lambda letter: letter.partner_id == self.customer)
        original = CreditDunningLetter._check_email_fallback

        def failing(letters):
            if bad in letters:
                raise ValueError("the addressee's mailbox is full")
            return original(letters)

        with (
            patch.object(CreditDunningLetter, "_check_email_fallback", failing),
            self.mock_mail_gateway(),
        ):
            self.assertEqual(self._job(batch_size=10), 5)
            self.assertEqual(len(self._new_mails), 4)
        self.assertEqual(bad.state, "error")
        self.assertIn("mailbox is full", bad.error_message)
        self.assertEqual(
            set((run.letter_ids - bad).mapped("state")), {"sent"}, "the others went"
        )
        self.assertEqual(run.error_count, 1)
        # Resume puts the letter in error back in the queue, in the user's name.
        run.with_user(self.clerk).action_resume_sending()
        self.assertEqual((bad.state, bad.send_queued), ("to_send", True))
        with self.mock_mail_gateway():
            self.assertEqual(self._job(), 1)
        self.assertEqual(bad.state, "sent")


@tagged("post_install", "-at_install")
class TestDunningBackgroundRace(CreditCollectionCommon):
    """Real transactions on committed data: the job and a user's click, or two
    workers, never send a letter twice and never lose one."""

    def _commit_queued_run(self, show_penalties=False):
        registry = self.env.registry
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["ir.config_parameter"].set_param(THRESHOLD, 2)
            company = env.ref("base.main_company")
            # Letters that state penalties freeze them when they are sent, with
            # the rates of the current half-year (not shipped yet: without them
            # both senders would ask the managers for them, the second waiting
            # on the first's activity, which this single thread never commits).
            company.dunning_show_penalties = show_penalties
            today = date.today()
            half_year = date(today.year, 1 if today.month <= 6 else 7, 1)
            Rate = env["credit.reference.rate"]
            rates = Rate
            if show_penalties:
                for kind, rate in RATES.items():
                    if not Rate.search_count(
                        [("kind", "=", kind), ("date_from", "=", half_year)]
                    ):
                        rates |= Rate.create(
                            {"kind": kind, "date_from": half_year, "rate": rate}
                        )
            last_activity = env["mail.activity"].search([], order="id desc", limit=1)
            partners = env["res.partner"].create(
                [{"name": f"Race Client {index}"} for index in range(3)]
            )
            invoices = (
                env["account.move"]
                .with_company(company)
                .create(
                    [
                        {
                            "move_type": "out_invoice",
                            "partner_id": partner.id,
                            "invoice_date": date(2026, 2, 1),
                            "invoice_date_due": date(2026, 2, 1),
                            "invoice_line_ids": [
                                Command.create(
                                    {
                                        "name": "Race",
                                        "price_unit": 100.0,
                                        "tax_ids": [Command.clear()],
                                    }
                                )
                            ],
                        }
                        for partner in partners
                    ]
                )
            )
            invoices.action_post()
            run = env["credit.dunning.run"].create(
                {"date": date(2026, 3, 10), "company_id": company.id}
            )
            run.action_compute()
            letters = run.letter_ids
            self.assertEqual(len(letters), 3)
            # Without an email address the letters go by post: sending them
            # queues no email, and leaves them waiting to be printed.
            run.action_send()
            self.assertTrue(all(letters.mapped("send_queued")))
            ids = {
                "run": run.id,
                "letters": sorted(letters.ids),
                "invoices": invoices.ids,
                "partners": partners.ids,
                "last_activity": last_activity.id or 0,
                "rates": rates.ids,
            }
            cr.commit()  # pylint: disable=invalid-commit
        self.addCleanup(self._cleanup_race, ids)
        return ids

    def _cleanup_race(self, ids):
        with self.env.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["ir.config_parameter"].set_param(THRESHOLD, 200)
            env.ref("base.main_company").dunning_show_penalties = False
            # The activities of the sending (a missing half-year's rates, say).
            env["mail.activity"].search([("id", ">", ids["last_activity"])]).unlink()
            env["credit.reference.rate"].browse(ids["rates"]).unlink()
            env["credit.dunning.run"].browse(ids["run"]).unlink()
            invoices = env["account.move"].browse(ids["invoices"])
            invoices.button_draft()
            invoices.posted_before = False
            invoices.unlink()
            env["res.partner"].browse(ids["partners"]).unlink()
            cr.commit()  # pylint: disable=invalid-commit

    def _send_committed(self):
        """One call of the sending job in a transaction of its own, committed, as
        the next call of a cron worker: the letters it sent."""
        with self.env.registry.cursor() as cr:
            sent = api.Environment(cr, SUPERUSER_ID, {})[
                "credit.dunning.letter"
            ]._cron_send_queued()
            cr.commit()  # pylint: disable=invalid-commit
        return sent

    def _states(self, ids):
        with self.env.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            letters = env["credit.dunning.letter"].browse(ids["letters"])
            return [(letter.state, letter.send_queued) for letter in letters]

    def test_the_job_and_a_click_share_the_letters(self):
        ids = self._commit_queued_run()
        registry = self.env.registry
        with registry.cursor() as job_cr, registry.cursor() as user_cr:
            job_env = api.Environment(job_cr, SUPERUSER_ID, {})
            user_env = api.Environment(user_cr, SUPERUSER_ID, {})
            # The job holds the first two letters of its batch ...
            self.assertEqual(
                job_env["credit.dunning.letter"]._cron_send_queued(batch_size=2), 2
            )
            # ... while the user clicks Send on all three: only the third is
            # theirs, the two others are left to the job.
            letters = user_env["credit.dunning.letter"].browse(ids["letters"])
            with patch.object(
                CreditDunningLetter, "_background_threshold", return_value=10
            ):
                action = letters.action_send()
            self.assertIn("2 letter(s) were being sent", action["params"]["message"])
            self.assertEqual(
                letters.mapped("state"), ["to_send", "to_send", "to_print"]
            )
            user_cr.commit()  # pylint: disable=invalid-commit
            job_cr.commit()  # pylint: disable=invalid-commit
        self.assertEqual(self._states(ids), [("to_print", False)] * 3)

    def test_a_click_after_the_job_committed_is_retried_not_doubled(self):
        ids = self._commit_queued_run()
        registry = self.env.registry
        with registry.cursor() as job_cr, registry.cursor() as user_cr:
            user_env = api.Environment(user_cr, SUPERUSER_ID, {})
            letters = user_env["credit.dunning.letter"].browse(ids["letters"])
            # The user's request read the letters, waiting to be sent ...
            self.assertEqual(set(letters.mapped("state")), {"to_send"})
            job_env = api.Environment(job_cr, SUPERUSER_ID, {})
            job_env["credit.dunning.letter"]._cron_send_queued(batch_size=10)
            job_cr.commit()  # pylint: disable=invalid-commit
            # ... then the job sent them: PostgreSQL refuses the user's lock and
            # Odoo retries the request, which finds nothing left to send.
            with (
                mute_logger("odoo.sql_db"),
                self.assertRaises(SerializationFailure),
                patch.object(
                    CreditDunningLetter, "_background_threshold", return_value=10
                ),
            ):
                letters.action_send()
            user_cr.rollback()
            user_env.invalidate_all()
            self.assertEqual(set(letters.mapped("state")), {"to_print"})
        self.assertEqual(self._states(ids), [("to_print", False)] * 3)

    def test_two_workers_and_a_batch_that_dies(self):
        ids = self._commit_queued_run()
        registry = self.env.registry
        with registry.cursor() as first_cr, registry.cursor() as second_cr:
            first = api.Environment(first_cr, SUPERUSER_ID, {})
            second = api.Environment(second_cr, SUPERUSER_ID, {})
            # Two workers at once take disjoint batches.
            self.assertEqual(first["credit.dunning.letter"]._cron_send_queued(2), 2)
            self.assertEqual(second["credit.dunning.letter"]._cron_send_queued(2), 1)
            second_cr.commit()  # pylint: disable=invalid-commit
            # The first worker dies before committing: its batch is rolled back.
            first_cr.rollback()
        states = self._states(ids)
        self.assertEqual(sorted(states).count(("to_send", True)), 2, states)
        # The next call sends what the dead batch held: nothing lost.
        self.assertEqual(self._send_committed(), 2)
        self.assertEqual(self._states(ids), [("to_print", False)] * 3)

    def test_two_workers_send_formal_notices_side_by_side(self):
        """Two sending jobs at once (two cron workers or servers), both with
        letters whose penalties they freeze: both send."""
        ids = self._commit_queued_run(show_penalties=True)
        registry = self.env.registry
        with registry.cursor() as first_cr, registry.cursor() as second_cr:
            first = api.Environment(first_cr, SUPERUSER_ID, {})
            second = api.Environment(second_cr, SUPERUSER_ID, {})
            self.assertEqual(first["credit.dunning.letter"]._cron_send_queued(2), 2)
            self.assertEqual(second["credit.dunning.letter"]._cron_send_queued(2), 1)
            self.assertEqual(
                second["credit.dunning.letter"]
                .browse(ids["letters"][2])
                .mapped("state"),
                ["to_print"],
            )
            first_cr.commit()  # pylint: disable=invalid-commit
            second_cr.commit()  # pylint: disable=invalid-commit
        self.assertEqual(self._states(ids), [("to_print", False)] * 3)

    def test_sending_waits_for_a_penalty_computation(self):
        """While the monthly job computes the company's penalties, the sending
        job leaves the letters queued and comes back later (no letter in error)."""
        ids = self._commit_queued_run(show_penalties=True)
        registry = self.env.registry
        with registry.cursor() as job_cr, registry.cursor() as send_cr:
            job = api.Environment(job_cr, SUPERUSER_ID, {})
            invoices = job["account.move"].browse(ids["invoices"])
            # The monthly job computes the company's penalties ...
            invoices._lock_penalties("wait")
            # ... the sending job leaves the letters queued and comes back later.
            sender = api.Environment(send_cr, SUPERUSER_ID, {})
            self.assertEqual(sender["credit.dunning.letter"]._cron_send_queued(), 0)
            send_cr.commit()  # pylint: disable=invalid-commit
            job_cr.commit()  # pylint: disable=invalid-commit
        self.assertEqual(self._states(ids), [("to_send", True)] * 3)
        self.assertEqual(self._send_committed(), 3)
        self.assertEqual(self._states(ids), [("to_print", False)] * 3)

    def test_a_sender_behind_another_one_gives_way(self):
        """The job's transaction began before another sender committed letters
        of the queue: PostgreSQL refuses the lock; the call sends nothing, logs
        no error and calls the senders again, which then send the rest."""
        ids = self._commit_queued_run()
        registry = self.env.registry
        cron = self.env.ref(CRON)
        with registry.cursor() as late_cr, registry.cursor() as other_cr:
            late = api.Environment(late_cr, SUPERUSER_ID, {})
            # The late job's transaction has begun (its snapshot is taken) ...
            late["credit.dunning.letter"].browse(ids["letters"]).mapped("state")
            # ... when another sender sends the first letter and commits.
            other = api.Environment(other_cr, SUPERUSER_ID, {})
            self.assertEqual(other["credit.dunning.letter"]._cron_send_queued(1), 1)
            other_cr.commit()  # pylint: disable=invalid-commit
            triggers = late["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
            self.assertEqual(late["credit.dunning.letter"]._cron_send_queued(), 0)
            self.assertEqual(
                late["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]),
                triggers + 1,
            )
            late_cr.commit()  # pylint: disable=invalid-commit
        self.assertEqual(self._send_committed(), 2)
        self.assertEqual(self._states(ids), [("to_print", False)] * 3)
