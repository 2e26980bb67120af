import logging

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools.misc import format_date

from .credit_access import COLLECTION_MANAGER, is_internal

_logger = logging.getLogger(__name__)

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
            self._check_sent_write(vals)
        result = super().write(vals)
        if "state" in vals:
            self.line_ids.filtered("level_id").move_line_id._refresh_dunning_level()
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

    _SENT_LOCKED_FIELDS = (
        "name",
        "run_id",
        "company_id",
        "date",
        "partner_id",
        "level_id",
        "amount_due",
        "amount_overdue",
    )

    def _was_sent(self):
        """Letters that reached the customer: sent, or whose email left."""
        return self.filtered(
            lambda letter: letter.state == "sent"
            or letter.sent_date
            or letter.email_state in ("queued", "sent")
        )

    def _check_sent_write(self, vals):
        locked = [fname for fname in self._SENT_LOCKED_FIELDS if fname in vals]
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
                    ),
                )
            )

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
        """Send the letters that are ready, through every channel of their level."""
        letters = self.filtered(lambda letter: letter.state == "to_send")
        if not letters:
            raise UserError(_("None of the selected letters is waiting to be sent."))
        letters._send_letters()
        letters.run_id._update_state()
        return True

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
        ).write({"state": "cancelled"})
        return True

    def action_draft(self):
        self.filtered(lambda letter: letter.state in ("to_send", "error")).write(
            {"state": "draft"}
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
        self._freeze_letter_penalties(today)
        self._check_email_fallback()
        self.filtered(
            lambda letter: letter.send_email and not letter.email_fallback
        )._queue_emails()
        done = self.filtered(lambda letter: letter.state == "to_send")
        done.filtered("create_activity")._schedule_calls()
        to_print = done.filtered(
            lambda letter: letter.send_letter and not letter.printed_date
        )
        sent = done - to_print
        # The sending is logged below on the customer and the invoices, in batch;
        # a postal letter is logged when it is printed.
        to_print.with_context(tracking_disable=True).write({"state": "to_print"})
        sent.with_context(tracking_disable=True).write(
            {"state": "sent", "sent_date": today}
        )
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
        _ = letter.env._
        return {
            "letter": self,
            "parties": parties._get_parties(
                self.company_id, self.partner_id, self.contact_id
            ),
            "bank_text": parties._get_bank_text(self.company_id),
            "lines": lines,
            "show_penalties": show_penalties,
            "consumer": self.partner_id.commercial_partner_id.debtor_type == "consumer",
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
                    "demanded": currency.round(principal + interest + indemnity),
                }
            )
        return totals

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
