import logging
import time
from collections import defaultdict
from datetime import timedelta

from markupsafe import Markup
from psycopg2 import errors as pg_errors

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, mute_logger, split_every
from odoo.tools.misc import format_date, formatLang

from .credit_access import (
    COLLECTION_MANAGER,
    check_collection_user,
    internal,
    is_internal,
)

_logger = logging.getLogger(__name__)

# Letters sent between two looks at the time budget of a call of the job.
SEND_SLICE = 25

LETTER_REPORT = "l10n_fr_credit_collection.action_report_dunning_letter"


class CreditDunningLetter(models.Model):
    """One communication to one customer in one run, at one level."""

    _name = "credit.dunning.letter"
    _description = "Dunning Letter"
    _inherit = ["mail.thread", "credit.bulk.mixin"]
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(required=True, readonly=True, copy=False)
    run_id = fields.Many2one(
        "credit.dunning.run",
        required=True,
        index=True,
        ondelete="cascade",
        check_company=True,
    )
    company_id = fields.Many2one("res.company", required=True, index=True)
    date = fields.Date(required=True, index=True)
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        check_company=True,
    )
    contact_id = fields.Many2one(
        "res.partner",
        string="Addressee",
        help="Invoice address of the customer, or the customer itself.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        help="Salesperson of the customer, or the user who ran the dunning.",
    )
    level_id = fields.Many2one(
        "credit.dunning.level", required=True, index=True, check_company=True
    )
    policy_id = fields.Many2one(related="level_id.policy_id", store=True)
    is_formal_notice = fields.Boolean(related="level_id.is_formal_notice")
    line_ids = fields.One2many("credit.dunning.letter.line", "letter_id", "Items")
    move_line_ids = fields.Many2many(
        "account.move.line",
        string="Journal Items",
        compute="_compute_move_line_ids",
        help="The receivable items the letter covers.",
    )
    move_ids = fields.Many2many(
        "account.move", string="Documents", compute="_compute_move_line_ids"
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    amount_due = fields.Monetary(
        string="Balance Due",
        help="Open balance of all listed items, in company currency.",
    )
    amount_overdue = fields.Monetary(
        string="Overdue", help="Balance of the listed items past their due date."
    )
    # to_print: sent through its other channels, the postal copy not printed yet.
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("to_send", "To Send"),
            ("to_print", "To Print"),
            ("sent", "Sent"),
            ("error", "Error"),
            ("cancelled", "Cancelled"),
        ],
        default="to_send",
        required=True,
        index=True,
        tracking=True,
    )
    send_email = fields.Boolean(string="By Email")
    send_letter = fields.Boolean(string="By Post")
    create_activity = fields.Boolean(string="Phone Call")
    email_fallback = fields.Boolean(
        string="Post Instead of Email",
        help="The level asks for an email but the customer has no email address: "
        "the letter goes by post and says so. Set when the letter is prepared, so "
        "that the review shows it.",
    )
    email_state = fields.Selection(
        [("queued", "Queued"), ("sent", "Sent"), ("failed", "Failed")],
        readonly=True,
        copy=False,
    )
    activity_id = fields.Many2one("mail.activity", readonly=True, copy=False)
    sent_date = fields.Date(
        readonly=True,
        copy=False,
        help="Day the letter went out through all its channels: for a postal "
        "letter, the day it was printed.",
    )
    printed_date = fields.Date(readonly=True, copy=False)
    error_message = fields.Text(readonly=True, copy=False)
    send_queued = fields.Boolean(
        string="Queued for Sending",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Waits to be sent in the background by the scheduled action, in "
        "batches.",
    )
    send_user_id = fields.Many2one(
        "res.users",
        string="Sending Requested By",
        readonly=True,
        copy=False,
        help="The user who clicked Send: the letter is sent in their name, even by "
        "the scheduled action.",
    )

    # The penal clause of the customer's terms, as the formal notice claimed it:
    # the rule's terms frozen when the letter is sent, like its penalties.
    penal_clause_percent = fields.Float(
        string="Penal Clause (%)",
        digits=(16, 2),
        readonly=True,
        copy=False,
        help="Percentage of the overdue principal claimed as penal clause, from the "
        "customer's penalty rule when the formal notice was sent.",
    )
    penal_clause_min_amount = fields.Monetary(
        string="Penal Clause Minimum",
        readonly=True,
        copy=False,
    )

    # The registered letter (LRAR) that carried a formal notice.
    registered_number = fields.Char(
        string="Registered Letter Number",
        copy=False,
        tracking=True,
        help="Number of the registered letter with acknowledgement of receipt.",
    )
    registered_sent_date = fields.Date(
        string="Registered Letter Sent",
        copy=False,
        tracking=True,
        help="Day the registered letter was posted.",
    )
    registered_received_date = fields.Date(
        string="Registered Letter Received",
        copy=False,
        tracking=True,
        help="Day of first presentation of the registered letter, or of its "
        "receipt: it becomes the invoices' formal notice received date, from which "
        "a consumer owes legal interest.",
    )
    registered_receipt_attachment_id = fields.Many2one(
        "ir.attachment",
        string="Acknowledgement of Receipt",
        copy=False,
        tracking=True,
        help="The signed acknowledgement of receipt, scanned.",
    )

    def init(self):
        # One letter per customer and day (two runs at once cannot both write one).
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS credit_dunning_letter_one_per_day
                ON credit_dunning_letter (company_id, partner_id, date)
             WHERE state != 'cancelled'
            """
        )

    def write(self, vals):
        if not is_internal(self.env):
            self._check_registered_write(vals)
            self._check_sent_write(vals)
        result = super().write(vals)
        if "state" in vals:
            self.line_ids.filtered("level_id").move_line_id._refresh_dunning_level()
        if vals.get("registered_received_date"):
            self._propagate_formal_notice_received()
        return result

    def unlink(self):
        if not is_internal(self.env):
            self._check_sent_unlink()
        items = self.line_ids.filtered("level_id").move_line_id
        result = super().unlink()
        items._refresh_dunning_level()
        return result

    # ------------------------------------------------------------------ access
    # A letter that was sent (a formal notice above all) is part of the customer's
    # history: nobody deletes it or rewrites what it said; a manager cancels it
    # with a reason instead (``action_cancel_sent``). Its sending date marks it
    # for good, even when a later email failure puts it back in error.

    # What still changes once a letter was sent: its workflow, kept by the sending,
    # printing, retrying and cancelling code, and the record of the registered
    # letter that carried it. Every other field is locked.
    _SENT_WRITABLE_FIELDS = frozenset(
        {
            "state",
            "email_state",
            "error_message",
            "activity_id",
            "sent_date",
            "printed_date",
            "email_fallback",
            "send_letter",
            "send_queued",
            "send_user_id",
        }
    )
    _REGISTERED_FIELDS = (
        "registered_number",
        "registered_sent_date",
        "registered_received_date",
        "registered_receipt_attachment_id",
    )

    def _get_sent_writable_fields(self):
        """Fields a user may still write on a sent letter (a module adding its own
        follow-up fields extends this)."""
        return (
            self._SENT_WRITABLE_FIELDS
            | set(self._REGISTERED_FIELDS)
            | set(self.env["mail.thread"]._fields)
        )

    def _was_sent(self):
        """Letters that reached the customer: sent, or whose email left."""
        return self.filtered(
            lambda letter: letter.state == "sent"
            or letter.sent_date
            or letter.email_state in ("queued", "sent")
        )

    def _check_sent_write(self, vals):
        writable = self._get_sent_writable_fields()
        locked = [fname for fname in vals if fname not in writable]
        if "sent_date" in vals and not vals["sent_date"]:
            locked.append("sent_date")
        sent = self._was_sent() if locked else self.browse()
        if sent:
            raise AccessError(
                _(
                    "The dunning letter %(letter)s was sent: what it said cannot be "
                    "changed (%(fields)s).",
                    letter=sent[0].display_name,
                    fields=", ".join(
                        self._fields[fname]._description_string(self.env)
                        for fname in locked
                        if fname in self._fields
                    ),
                )
            )

    def _check_registered_write(self, vals):
        if any(fname in vals for fname in self._REGISTERED_FIELDS):
            check_collection_user(self.env, _("Recording a registered letter"))

    def _check_sent_unlink(self):
        sent = self._was_sent()
        if sent:
            raise AccessError(
                _(
                    "The dunning letter %(letter)s was sent: it stays in the "
                    "customer's history. A credit collection manager can cancel it "
                    "with a reason instead.",
                    letter=sent[0].display_name,
                )
            )

    def action_cancel_sent(self, reason):
        """Cancel sent letters with a reason logged on each (managers only): the
        letter stays in the history, and its items no longer count as dunned."""
        if not self.env.su and not self.env.user.has_group(COLLECTION_MANAGER):
            raise AccessError(
                _("Only credit collection managers can cancel a sent letter.")
            )
        if not reason:
            raise UserError(_("Give the reason for cancelling these letters."))
        letters = self._was_sent().filtered(lambda letter: letter.state != "cancelled")
        if letters != self:
            raise UserError(
                _(
                    "The dunning letter %(letter)s was not sent: cancel it with the "
                    "Cancel button.",
                    letter=(self - letters)[0].display_name,
                )
            )
        letters.write({"state": "cancelled"})
        letters._message_log_batch(
            {
                letter.id: Markup("<p>%s</p>")
                % self.env._("Sent letter cancelled: %(reason)s", reason=reason)
                for letter in letters
            }
        )
        return True

    @api.depends("line_ids.move_line_id")
    def _compute_move_line_ids(self):
        for letter in self:
            letter.move_line_ids = letter.line_ids.move_line_id
            letter.move_ids = letter.line_ids.move_id

    # ------------------------------------------------------------------ actions

    def action_send(self):
        """Send the letters that are ready, through every channel of their level:
        at once up to the background threshold, in the background beyond it."""
        # Searched, not filtered: reading 20,000 letters would cost the click
        # seconds.
        letters = self.search([("id", "in", self.ids), ("state", "=", "to_send")])
        if not letters:
            raise UserError(_("None of the selected letters is waiting to be sent."))
        if len(letters) > letters._background_threshold():
            return letters._queue_sending()
        locked = letters._lock_for_sending()
        locked._send_letters()
        letters.run_id._update_state()
        return letters._busy_notification(letters - locked)

    # ------------------------------------------------------------------ background

    @api.model
    def _background_threshold(self):
        """Above this number of letters, Send queues them for the scheduled action
        (system parameter ``l10n_fr_credit_collection.send_background_threshold``,
        200 by default)."""
        return int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("l10n_fr_credit_collection.send_background_threshold", 200)
        )

    @api.model
    def _background_batch_size(self):
        """Letters sent per batch of the scheduled action, each batch in its own
        transaction (system parameter
        ``l10n_fr_credit_collection.send_batch_size``, 100 by default)."""
        return max(
            1,
            int(
                self.env["ir.config_parameter"]
                .sudo()
                .get_param("l10n_fr_credit_collection.send_batch_size", 100)
            ),
        )

    @api.model
    def _background_call_seconds(self):
        """Seconds one call of the sending job may spend before it reports its
        progress and lets Odoo call it again (system parameter
        ``l10n_fr_credit_collection.send_call_seconds``, 8 by default: ten calls
        stay well within the cron's 120 s time limit)."""
        return float(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("l10n_fr_credit_collection.send_call_seconds", 8)
        )

    def _lock_for_sending(self):
        """The letters of ``self`` still waiting to be sent that this transaction
        could lock: a letter another transaction is sending (the scheduled action,
        or another user's click) is skipped, never sent twice. A letter sent and
        committed by another transaction since this one began makes PostgreSQL
        refuse the lock (a serialization failure), and Odoo retries the whole
        request, which then sees it sent."""
        if not self:
            return self
        self.flush_recordset(["state"])
        # The serialization failure is expected and retried by Odoo: not logged
        # as a bad query (with thousands of ids).
        with mute_logger("odoo.sql_db"):
            rows = self.env.execute_query(
                SQL(
                    """
                    SELECT id FROM credit_dunning_letter
                     WHERE id = ANY(%s) AND state = 'to_send'
                     ORDER BY id
                       FOR UPDATE SKIP LOCKED
                    """,
                    self.ids,
                )
            )
        return self.browse(row[0] for row in rows)

    def _busy_notification(self, busy):
        if not busy:
            return True
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "warning",
                "message": _(
                    "%(count)s letter(s) were being sent by another process (the "
                    "scheduled action or another user) and were left to it.",
                    count=len(busy),
                ),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _queue_sending(self):
        """Queue the letters for the scheduled action and return at once."""
        letters = self._lock_for_sending()
        letters.check_access("write")
        runs = self.env["credit.dunning.run"].browse(
            row[0]
            for row in self.env.execute_query(
                SQL(
                    "SELECT DISTINCT run_id FROM credit_dunning_letter "
                    "WHERE id = ANY(%s) AND run_id IS NOT NULL",
                    letters.ids,
                )
            )
        )
        # The progress counts from what earlier sendings of the run already sent.
        done_before = {run.id: run.send_done_count for run in runs}
        # One statement, whatever the number of letters (the click must return
        # at once for 20,000 of them): the queue fields are bookkeeping.
        self.env.execute_query(
            SQL(
                """
                UPDATE credit_dunning_letter
                   SET send_queued = TRUE, send_user_id = %(uid)s,
                       error_message = NULL, write_uid = %(uid)s,
                       write_date = NOW() AT TIME ZONE 'UTC'
                 WHERE id = ANY(%(ids)s)
                """,
                uid=self.env.uid,
                ids=letters.ids,
            )
        )
        letters.invalidate_recordset(
            ["send_queued", "send_user_id", "error_message", "write_uid", "write_date"]
        )
        runs.invalidate_recordset(["send_queued_count", "send_done_count"])
        for run in runs:
            internal(run).write(
                {
                    "send_total": done_before[run.id] + run.send_queued_count,
                    "send_user_id": self.env.uid,
                }
            )
        self._trigger_senders()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "message": _(
                    "%(count)s letters are queued: they are sent in the background, "
                    "in batches. The run shows the progress.",
                    count=len(letters),
                ),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    @api.model
    def _cron_send_queued(self, batch_size=None):
        """Send one batch of queued letters (the scheduled action; Odoo's runner
        calls it again while its progress says work remains, and commits after
        each call, so every batch is a transaction of its own).

        The batch is locked row by row with SKIP LOCKED: two workers, or the job
        and a user's click, never take the same letter. A batch that dies
        half-way is rolled back whole (its emails are only queued in the same
        transaction), so its letters stay queued and the next call sends them:
        nothing is lost, nothing goes twice. A letter that fails goes to Error
        with its reason and the batch goes on. Several of these jobs run at once
        (see :meth:`_sending_crons`), each on its own letters."""
        batch_size = batch_size or self._background_batch_size()
        Cron = self.env["ir.cron"]
        if Cron._credit_pass_spent():
            # The cron worker's pass has used its time (other jobs ran before
            # this one): nothing done ends the job; its trigger runs it again in
            # the worker's next pass.
            self._trigger_senders()
            return 0
        try:
            with self.env.cr.savepoint(flush=False), mute_logger("odoo.sql_db"):
                rows = self.env.execute_query(
                    SQL(
                        """
                        SELECT id FROM credit_dunning_letter
                         WHERE send_queued AND state = 'to_send'
                         ORDER BY id
                         LIMIT %s
                           FOR UPDATE SKIP LOCKED
                        """,
                        batch_size,
                    )
                )
        except pg_errors.SerializationFailure:
            # Another sender sent letters of the queue since this transaction
            # began: the next call, in a new transaction, takes the queue as it
            # is then. Nothing was sent twice, nothing is lost.
            self._trigger_senders()
            return 0
        letters = self.sudo().browse(row[0] for row in rows)
        # While a company's penalties are computed (the monthly job), its letters
        # wait in the queue: sending freezes penalties beside other sendings only.
        Move = self.env["account.move"]
        for company, company_letters in letters.grouped("company_id").items():
            if not Move._acquire_penalty_lock(company, "shared"):
                letters -= company_letters
        # Odoo calls a job up to ten times in a row, and a cron worker runs all
        # the jobs ready in one pass within its time limit (120 s by default): a
        # call stops after its time budget, or the pass's, in slices, and leaves
        # the rest of its batch queued for the next call.
        deadline = Cron._credit_deadline(self._background_call_seconds())
        sent = letters.browse()
        for chunk in split_every(SEND_SLICE, letters.ids, letters.browse):
            for (user, company), group in chunk.grouped(
                lambda letter: (letter.send_user_id, letter.company_id)
            ).items():
                group._send_batch_as(user or self.env.user, company)
            sent |= chunk
            if time.monotonic() > deadline:
                break
        letters = sent
        letters.run_id._update_state()
        [[remaining]] = self.env.execute_query(
            SQL(
                "SELECT COUNT(*) FROM credit_dunning_letter "
                "WHERE send_queued AND state = 'to_send'"
            )
        )
        # A failed letter counts as done: Odoo's runner ends the job when a call
        # reports nothing done.
        Cron._notify_progress(done=len(letters), remaining=remaining)
        if remaining:
            # Odoo's runner stops a job after ten calls, and its cron worker may
            # then sleep up to a minute: a trigger wakes the senders at once (in
            # a minute when all that is left was held by other transactions).
            at = None if letters else fields.Datetime.now() + timedelta(minutes=1)
            self._trigger_senders(at)
        return len(letters)

    @api.model
    def _sending_crons(self):
        """The scheduled actions that send the queued letters: the shipped two,
        and any copy of them an administrator made for more parallel senders."""
        return (
            self.env["ir.cron"]
            .sudo()
            .search(
                [
                    ("model_id.model", "=", self._name),
                    ("code", "=", "model._cron_send_queued()"),
                ]
            )
        )

    @api.model
    def _trigger_senders(self, at=None):
        """Wake every sender: now, or at ``at``."""
        for cron in self._sending_crons():
            cron._trigger(at)

    def _send_batch_as(self, user, company):
        """Send these letters in ``user``'s name; a failing letter goes to Error
        with its reason, the others are sent."""
        letters = (
            self.with_user(user)
            .with_company(company)
            .with_context(allowed_company_ids=[company.id])
        )
        try:
            with self.env.cr.savepoint():
                letters._send_letters()
            return
        except Exception as error:  # noqa: BLE001 - retried one letter at a time
            _logger.info("Batch of dunning letters failed, one by one: %s", error)
        for letter in letters:
            try:
                with self.env.cr.savepoint():
                    letter._send_letters()
            except Exception as error:  # noqa: BLE001 - one letter, not the batch
                internal(letter).write(
                    {
                        "state": "error",
                        "error_message": str(error) or repr(error),
                        "send_queued": False,
                    }
                )

    def action_retry(self):
        """Send again the letters whose sending failed."""
        letters = self.filtered(lambda letter: letter.state == "error")
        letters.write(
            {"state": "to_send", "error_message": False, "email_state": False}
        )
        return letters.action_send()

    def action_cancel(self):
        self.filtered(
            lambda letter: letter.state in ("draft", "to_send", "to_print", "error")
        ).write({"state": "cancelled", "send_queued": False})
        return True

    def action_draft(self):
        self.filtered(lambda letter: letter.state in ("to_send", "error")).write(
            {"state": "draft", "send_queued": False}
        )
        return True

    def action_confirm(self):
        self.filtered(lambda letter: letter.state == "draft").write(
            {"state": "to_send"}
        )
        return True

    def action_print(self):
        """Print the letters; those waiting to be printed are sent by doing so."""
        self._mark_printed()
        return self.env.ref(LETTER_REPORT).report_action(self, config=False)

    def _mark_printed(self):
        """The letters waiting for their postal copy are printed: they are sent.
        Printing a letter in another state is a preview or a reprint."""
        printed = self.filtered(lambda letter: letter.state == "to_print")
        if not printed:
            return
        today = fields.Date.context_today(self)
        printed.with_context(tracking_disable=True).write(
            {"state": "sent", "sent_date": today, "printed_date": today}
        )
        printed._log_sending()
        printed.run_id._update_state()

    # ------------------------------------------------------------------ sending

    def _send_letters(self):
        """Queue emails and schedule calls, all in batches. A letter is then sent,
        or waits to be printed when it goes by post and was not printed yet."""
        today = fields.Date.context_today(self)
        # Untracked: the sending is logged below, once per customer and invoice.
        # Any tracked write here (the email state, say) would make Odoo log every
        # change of these letters in this transaction, one message per letter.
        letters = self.with_context(tracking_disable=True)
        # Whoever sends them (a click or the background job), they leave the queue.
        internal(letters.filtered("send_queued")).write({"send_queued": False})
        letters._freeze_letter_penalties(today)
        letters._check_email_fallback()
        letters.filtered(
            lambda letter: letter.send_email and not letter.email_fallback
        )._queue_emails()
        done = letters.filtered(lambda letter: letter.state == "to_send")
        done.filtered("create_activity")._schedule_calls()
        to_print = done.filtered(
            lambda letter: letter.send_letter and not letter.printed_date
        )
        sent = done - to_print
        # A postal letter is logged when it is printed.
        to_print.write({"state": "to_print"})
        sent.write({"state": "sent", "sent_date": today})
        sent._log_sending()

    def _check_email_fallback(self):
        """The addressee may have changed since the letter was prepared: an email
        letter without an address goes by post, one that found an address again
        goes by email only if its level does not ask for post."""
        email_letters = self.filtered("send_email")
        no_email = email_letters.filtered(lambda letter: not letter.contact_id.email)
        no_email.filtered(lambda letter: not letter.email_fallback).write(
            {"email_fallback": True, "send_letter": True}
        )
        for send_letter, letters in (
            (email_letters - no_email)
            .filtered("email_fallback")
            .grouped(lambda letter: letter.level_id.send_letter)
            .items()
        ):
            letters.write({"email_fallback": False, "send_letter": send_letter})

    def _queue_emails(self):
        """Queue one email per letter from its level's template.

        The letter PDF is rendered lazily, when the mail queue sends the email (see
        ``mail.mail._send``), so preparing thousands of letters costs no rendering.
        """
        for template, letters in self.grouped(
            lambda letter: letter.level_id.mail_template_id
        ).items():
            if not template:
                letters.write(
                    {
                        "state": "error",
                        "error_message": _(
                            "The level has no email template. Choose one on the "
                            "level, then retry."
                        ),
                    }
                )
                continue
            try:
                with self.env.cr.savepoint():
                    mails = template.send_mail_batch(
                        letters.ids,
                        email_values={"credit_letter_pdf_pending": True},
                    )
            except Exception as error:  # noqa: BLE001 - any rendering error
                _logger.info("Dunning letters could not be rendered: %s", error)
                letters.write({"state": "error", "error_message": str(error)})
                continue
            queued = letters.browse(mails.mapped("res_id"))
            queued.email_state = "queued"
            (letters - queued).email_state = "failed"

    def _schedule_calls(self):
        """One phone-call activity per customer and responsible user, for all the
        letters of that customer sent together."""
        partner_model = self.env["ir.model"]._get_id("res.partner")
        default_type = self.env.ref("mail.mail_activity_data_call")
        # display_name of every customer at once (the activity stores it).
        self.partner_id.mapped("display_name")
        groups = self.grouped(
            lambda letter: (letter.partner_id, letter.user_id or self.env.user)
        )
        vals_list = []
        for (partner, user), letters in groups.items():
            level = max(letters.level_id, key=letters.level_id._severity_key)
            vals_list.append(
                {
                    "res_model_id": partner_model,
                    "res_id": partner.id,
                    "activity_type_id": (level.activity_type_id or default_type).id,
                    "summary": level.activity_summary
                    or _(
                        "Call about the overdue invoices (%(letter)s)",
                        letter=", ".join(letters.mapped("name")),
                    ),
                    "user_id": user.id,
                    "date_deadline": max(letters.mapped("date")),
                }
            )
        activities = (
            self.env["mail.activity"]
            .sudo()
            .with_context(mail_activity_quick_update=True)
            .create(vals_list)
        )
        for letters, activity in zip(groups.values(), activities, strict=True):
            letters.activity_id = activity

    def _channel_labels(self):
        self.ensure_one()
        labels = []
        if self.send_email and not self.email_fallback:
            labels.append(_("email"))
        if self.send_letter:
            labels.append(_("post"))
        if self.create_activity:
            labels.append(_("phone call"))
        return ", ".join(labels)

    def _log_sending(self):
        """Log the letter in the chatter of the customer and of each invoice."""
        self.line_ids.fetch(["level_id", "move_line_id"])
        self.line_ids.move_line_id.fetch(["move_id"])
        partner_bodies = {}
        move_bodies = {}
        for letter in self:
            body = Markup("<p>%s</p>") % _(
                "Dunning letter %(letter)s, level %(level)s, sent by %(channels)s.",
                letter=letter.name,
                level=letter.level_id.name,
                channels=letter._channel_labels(),
            )
            partner_bodies[letter.partner_id.id] = (
                partner_bodies.get(letter.partner_id.id, Markup()) + body
            )
            for move in letter.line_ids.filtered("level_id").move_id:
                move_bodies[move.id] = move_bodies.get(move.id, Markup()) + body
        self.env["res.partner"].browse(partner_bodies)._message_log_batch(
            partner_bodies
        )
        self.env["account.move"].browse(move_bodies)._message_log_batch(move_bodies)

    def _credit_attached_invoices(self):
        """The invoices whose PDF the letter's email carries when its level asks
        for them: those of its items at a level (not the ones only listed)."""
        self.ensure_one()
        return self.line_ids.filtered(
            lambda line: line.level_id and line.kind == "invoice"
        ).move_id.filtered(lambda move: move.is_invoice())

    def _mark_email_result(self, failure_reason=False):
        """Called by the mail queue once it tried to send the letter's email."""
        if failure_reason:
            self.write(
                {
                    "state": "error",
                    "email_state": "failed",
                    "error_message": failure_reason,
                }
            )
        else:
            self.write({"email_state": "sent"})
        self.run_id._update_state()

    # ------------------------------------------------------------------ registered

    @api.constrains(
        "registered_number",
        "registered_sent_date",
        "registered_received_date",
        "registered_receipt_attachment_id",
    )
    def _check_registered_letter(self):
        """The registered letter is posted after the letter is dated and received
        after it is posted, never in the future; its number proves it."""
        today = fields.Date.context_today(self)
        for letter in self:
            sent, received = (
                letter.registered_sent_date,
                letter.registered_received_date,
            )
            if not any(letter[fname] for fname in self._REGISTERED_FIELDS):
                continue
            if not letter.is_formal_notice:
                raise ValidationError(
                    _(
                        "The dunning letter %(letter)s is not a formal notice: only "
                        "a formal notice records a registered letter.",
                        letter=letter.display_name,
                    )
                )
            if (sent or received) and not letter.registered_number:
                raise ValidationError(
                    _(
                        "Enter the number of the registered letter of %(letter)s: "
                        "it proves the sending.",
                        letter=letter.display_name,
                    )
                )
            if received and not sent:
                raise ValidationError(
                    _(
                        "Enter the day the registered letter of %(letter)s was "
                        "posted before the day it was received.",
                        letter=letter.display_name,
                    )
                )
            if sent and sent < letter.date:
                raise ValidationError(
                    _(
                        "The registered letter of %(letter)s cannot be posted on "
                        "%(sent)s, before the letter's date (%(date)s).",
                        letter=letter.display_name,
                        sent=format_date(self.env, sent),
                        date=format_date(self.env, letter.date),
                    )
                )
            if received and received < sent:
                raise ValidationError(
                    _(
                        "The registered letter of %(letter)s cannot be received on "
                        "%(received)s, before it was posted (%(sent)s).",
                        letter=letter.display_name,
                        received=format_date(self.env, received),
                        sent=format_date(self.env, sent),
                    )
                )
            for day in (sent, received):
                if day and day > today:
                    raise ValidationError(
                        _(
                            "The registered letter of %(letter)s: %(date)s is in the "
                            "future. Record the dates once they happened.",
                            letter=letter.display_name,
                            date=format_date(self.env, day),
                        )
                    )

    def action_open_registered_wizard(self):
        """The form that records the registered letter of a formal notice."""
        self.ensure_one()
        self._check_can_record_registered()
        return {
            "type": "ir.actions.act_window",
            "name": _("Record Registered Letter"),
            "res_model": "credit.dunning.registered.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_letter_id": self.id,
                "default_registered_number": self.registered_number,
                "default_registered_sent_date": self.registered_sent_date
                or self.sent_date
                or fields.Date.context_today(self),
                "default_registered_received_date": self.registered_received_date,
            },
        }

    def _check_can_record_registered(self):
        check_collection_user(self.env, _("Recording a registered letter"))
        for letter in self:
            if not letter.is_formal_notice or letter.state not in ("sent", "to_print"):
                raise UserError(
                    _(
                        "The dunning letter %(letter)s is not a formal notice sent or "
                        "waiting to be printed: there is no registered letter to "
                        "record.",
                        letter=letter.display_name,
                    )
                )

    def _record_registered_letter(self, vals, receipt=None, receipt_name=None):
        """Record the registered letter of this formal notice: ``vals`` holds the
        ``registered_*`` dates and number, ``receipt`` the acknowledgement of
        receipt (base64) attached to the letter. Allowed on a sent letter, to the
        Credit Collection users; the received date reaches the invoices."""
        self.ensure_one()
        self._check_can_record_registered()
        unknown = set(vals) - set(self._REGISTERED_FIELDS)
        if unknown:
            raise UserError(
                _(
                    "Only the registered letter can be recorded on %(letter)s.",
                    letter=self.display_name,
                )
            )
        self.write(vals)
        if receipt:
            attachment = self.env["ir.attachment"].create(
                {
                    "name": receipt_name
                    or _("Acknowledgement of receipt %(letter)s", letter=self.name),
                    "datas": receipt,
                    "res_model": self._name,
                    "res_id": self.id,
                }
            )
            self.registered_receipt_attachment_id = attachment
        return True

    def _propagate_formal_notice_received(self):
        """The day a formal notice was received starts a consumer's legal interest
        (C. civ. 1231-6 and 1344-1): it becomes the received date of the letter's
        invoices. An earlier date already there is kept: the first notice received
        is the one that started the interest."""
        self.line_ids.fetch(["kind", "move_id"])
        received = {}
        for letter in self.filtered("registered_received_date"):
            day = letter.registered_received_date
            invoices = letter.line_ids.filtered(
                lambda line: line.kind == "invoice"
            ).move_id.filtered(lambda move: move.move_type == "out_invoice")
            for move in invoices:
                received[move] = min(received.get(move, day), day)
        by_day = defaultdict(lambda: self.env["account.move"])
        for move, day in received.items():
            current = move.formal_notice_received_date
            if not current or current > day:
                by_day[day] |= move
        for day, moves in by_day.items():
            internal(moves).write({"formal_notice_received_date": day})

    # ------------------------------------------------------------------ LRE
    # A registered electronic letter (lettre recommandée électronique) equals a
    # registered letter only through a qualified provider (C. postes L100), and a
    # consumer must have consented to receive one beforehand. An email is a copy.

    def _get_registered_electronic_provider(self):
        """Hook for a module connecting a qualified LRE provider: return something
        truthy (the provider's record or configuration) when one is set up for the
        letters' company, and override ``_send_registered_electronic`` to send
        through it. ``False`` here: no provider is installed."""
        return False

    def _has_registered_electronic_consent(self):
        """Whether the customer consented beforehand to receive registered
        electronic letters (C. postes L100: required from a non-professional).
        Read from the field ``registered_electronic_consent`` a provider module
        adds to partners; none by default."""
        self.ensure_one()
        partner = self.partner_id.commercial_partner_id
        return bool(
            "registered_electronic_consent" in partner._fields
            and partner.registered_electronic_consent
        )

    def action_send_registered_electronic(self):
        """Send formal notices as registered electronic letters, through the
        provider of ``_get_registered_electronic_provider``."""
        check_collection_user(self.env, _("Sending a registered electronic letter"))
        for letter in self:
            if not letter.is_formal_notice or letter.state == "cancelled":
                raise UserError(
                    _(
                        "The dunning letter %(letter)s is not a formal notice: only "
                        "a formal notice goes as a registered electronic letter.",
                        letter=letter.display_name,
                    )
                )
        provider = self._get_registered_electronic_provider()
        if not provider:
            raise UserError(
                _(
                    "No qualified registered electronic letter provider is "
                    "installed: send the formal notice as a registered letter by "
                    "post. An email is only a copy, not a registered letter."
                )
            )
        for letter in self:
            consumer = letter.partner_id.commercial_partner_id.debtor_type
            if (
                consumer == "consumer"
                and not letter._has_registered_electronic_consent()
            ):
                raise UserError(
                    _(
                        "%(customer)s is a consumer and did not consent beforehand to "
                        "receive registered electronic letters (art. L100 of the "
                        "Postal Code): send the formal notice %(letter)s as a "
                        "registered letter by post.",
                        customer=letter.partner_id.display_name,
                        letter=letter.display_name,
                    )
                )
        return self._send_registered_electronic(provider)

    def _send_registered_electronic(self, provider):
        """Hook of the provider module: send the letters' PDF and record the
        number and sending date it returns with ``_record_registered_letter``."""
        raise UserError(
            _("The registered electronic letter provider cannot send these letters.")
        )

    # ------------------------------------------------------------------ documents

    def _get_letter_data(self):
        """Plain data of the letter, shared by the PDF and the email body, in the
        customer's language: the parties, the items, the totals per currency and,
        on a formal notice, the amount demanded broken down (LAW.md §6)."""
        self.ensure_one()
        letter = self.with_context(lang=self.partner_id.lang or self.env.lang)
        lines = letter.line_ids.sorted(
            lambda line: (
                line.date_maturity or line.document_date or fields.Date.today(),
                line.id,
            )
        )
        # Formal notices always carry their penalties: they state what is demanded.
        show_penalties = self.company_id.dunning_show_penalties or self.is_formal_notice
        parties = letter.env["credit.document.parties"]
        totals = letter._get_letter_totals(lines, show_penalties)
        deadline = fields.Date.add(self.date, days=self.level_id.payment_deadline_days)
        consumer = self.partner_id.commercial_partner_id.debtor_type == "consumer"
        _ = letter.env._
        bank_text = parties._get_bank_text(self.company_id)
        data = {
            "letter": self,
            "parties": parties._get_parties(
                self.company_id, self.partner_id, self.contact_id
            ),
            "bank_text": bank_text,
            "lines": lines,
            "show_penalties": show_penalties,
            "consumer": consumer,
            "unmatched_credit": any(lines.mapped("penalty_unmatched_credit")),
            "totals": totals,
            "deadline": deadline,
            "demand_text": _(
                "We demand payment of %(amount)s by %(date)s at the latest.",
                amount=", ".join(
                    total["currency"].format(total["demanded"]) for total in totals
                ),
                date=format_date(letter.env, deadline),
            ),
            "signature": letter._get_signature(),
        }
        if self.is_formal_notice:
            data.update(letter._get_formal_notice_texts(deadline, consumer, bank_text))
        return data

    def _get_signature(self):
        """Who signs, for the company: the responsible user, with the function of
        his contact when it is recorded."""
        self.ensure_one()
        return {
            "for_company": self.env._("For %(company)s,", company=self.company_id.name),
            "name": self.user_id.name or "",
            "function": self.user_id.partner_id.function or "",
        }

    def _get_formal_notice_texts(self, deadline, consumer, bank_text):
        """What a formal notice says beyond its figures (LAW.md §6): the payment
        means, the consequences of not paying, and, in the email that carries a
        copy, that the registered letter is the notice itself.

        The consequences are those of the debtor: a consumer owes interest at the
        legal rate from the day after he receives the notice (C. civ. 1231-6 and
        1344-1) and no recovery indemnity; a professional owes the late-payment
        penalties of art. L441-10 C. com., running since the due dates. It never
        borrows the words of a court or bailiff act (C. pén. 433-13)."""
        self.ensure_one()
        _ = self.env._
        date = format_date(self.env, deadline)
        court = _(
            "Failing payment in full by %(date)s, we will apply to the competent "
            "court for an order for payment (injonction de payer), without further "
            "notice.",
            date=date,
        )
        if consumer:
            running = _(
                "Interest at the legal rate runs from the day after you receive this "
                "notice until payment in full (art. 1231-6 and 1344-1 of the Civil "
                "Code)."
            )
        else:
            running = _(
                "Late-payment penalties keep running until payment in full (art. "
                "L441-10 of the Commercial Code)."
            )
        costs = _(
            "We will also ask the court to order you to pay the costs of the "
            "proceedings."
        )
        if self.send_letter:
            copy_text = _(
                "This email is a copy of our formal notice, which we send you by "
                "registered letter with acknowledgement of receipt: the registered "
                "letter is the formal notice itself."
            )
        else:
            copy_text = _(
                "This email is a copy of our formal notice, attached. An email is not "
                "a registered letter."
            )
        registered = _("Registered letter with acknowledgement of receipt")
        if self.registered_number:
            registered = _(
                "Registered letter with acknowledgement of receipt no. %(number)s",
                number=self.registered_number,
            )
        return {
            "registered_mention": registered,
            "payment_text": bank_text
            or _(
                "Payment by bank transfer or by cheque payable to %(company)s, "
                "quoting the invoice numbers.",
                company=self.company_id.name,
            ),
            "consequences": [court, running, costs],
            "email_copy_text": copy_text,
        }

    def _get_letter_totals(self, lines, show_penalties):
        """Per currency: the balance due, the overdue principal and what is demanded.

        The principal demanded is the balance of the overdue invoices less the open
        credit notes and unmatched payments listed on the letter, so it is never
        above the balance due; the penalties are those frozen on the items when the
        letter was sent (interest per installment, 40 EUR per invoice)."""
        totals = []
        for currency, currency_lines in lines.grouped("currency_id").items():
            due = principal = 0.0
            for line in currency_lines:
                balance = line.amount_residual_currency
                due += balance
                is_credit = line.kind != "invoice" or balance < 0
                if is_credit or line.days_late > 0:
                    principal += balance
            principal = currency.round(max(0.0, min(due, principal)))
            interest = indemnity = 0.0
            with_interest = with_indemnity = lines.browse()
            if show_penalties:
                with_interest = currency_lines.filtered("penalty_interest")
                with_indemnity = currency_lines.filtered("penalty_indemnity")
                interest = sum(with_interest.mapped("penalty_interest"))
                indemnity = sum(with_indemnity.mapped("penalty_indemnity"))
            totals.append(
                {
                    "currency": currency,
                    "due": currency.round(due),
                    "overdue": principal,
                    "penalties": currency.round(interest + indemnity),
                    "interest": currency.round(interest),
                    "interest_lines": [
                        {
                            "label": self.env._(
                                "%(document)s: from %(date)s at %(rates)s per year",
                                document=line.move_id.name or "",
                                date=format_date(self.env, line.penalty_start_date),
                                rates=line.penalty_rates or "",
                            ),
                            "start_date": line.penalty_start_date,
                            "rates": line.penalty_rates or "",
                            "amount": line.penalty_interest,
                        }
                        for line in with_interest
                    ],
                    "indemnity": currency.round(indemnity),
                    "indemnity_label": self.env._(
                        "Fixed recovery indemnity (art. D441-5 of the Commercial "
                        "Code): %(count)s × %(amount)s",
                        count=len(with_indemnity),
                        amount=currency.format(with_indemnity[:1].penalty_indemnity),
                    ),
                    **self._get_penal_clause_total(currency, principal),
                }
            )
            total = totals[-1]
            total["demanded"] = currency.round(
                principal + interest + indemnity + total["penal_clause"]
            )
        return totals

    def _get_penal_clause_total(self, currency, principal):
        """The penal clause a formal notice claims on its overdue principal, from
        the terms frozen when it was sent (``credit.penalty.rule``
        ``_get_penal_clause_amount``, C. civ. 1231-5); nothing on other letters."""
        amount = 0.0
        if self.is_formal_notice and self.penal_clause_percent:
            amount = self.env["credit.penalty.rule"]._compute_penal_clause(
                principal,
                currency,
                self.penal_clause_percent,
                self.penal_clause_min_amount,
                self.company_id,
                self.sent_date or self.date,
            )
        label = False
        if amount:
            percent = self.penal_clause_percent
            label = self.env._(
                "Penal clause of our terms of sale (art. 1231-5 of the Civil Code): "
                "%(percent)s %% of the principal",
                percent=formatLang(
                    self.env, percent, digits=0 if percent.is_integer() else 2
                ),
            )
            if self.penal_clause_min_amount:
                label = self.env._(
                    "%(label)s, minimum %(minimum)s",
                    label=label,
                    minimum=self.company_id.currency_id.format(
                        self.penal_clause_min_amount
                    ),
                )
        return {"penal_clause": amount, "penal_clause_label": label}

    # ------------------------------------------------------------------ penalties

    def _freeze_letter_penalties(self, day):
        """Penalties shown on a letter are computed as of the day it is sent and
        frozen with it: a reprint never changes them. Formal notices always state
        them (the amount demanded); other letters when the company asks."""
        letters = self.filtered(
            lambda letter: letter.is_formal_notice
            or letter.company_id.dunning_show_penalties
        )
        for company, company_letters in letters.grouped("company_id").items():
            company_letters.with_company(company).line_ids._freeze_penalties(day)
        letters.filtered("is_formal_notice")._freeze_penal_clause()

    def _freeze_penal_clause(self):
        """The penal clause terms of the customer's penalty rule, frozen on the
        formal notice when it is sent: a later change of the rule never changes
        what the notice claimed."""
        moves = self.line_ids.move_id
        rules = moves._get_penalty_rules()
        Rule = self.env["credit.penalty.rule"]
        groups = defaultdict(lambda: self.browse())
        for letter in self:
            move = letter.line_ids.move_id[:1]
            rule = rules.get(move.id) if move else None
            rule = rule or Rule._get_company_default(letter.company_id)
            terms = (0.0, 0.0)
            if rule.penal_clause:
                terms = (rule.penal_clause_percent, rule.penal_clause_min_amount)
            groups[terms] |= letter
        for (percent, minimum), letters in groups.items():
            internal(letters).write(
                {"penal_clause_percent": percent, "penal_clause_min_amount": minimum}
            )
