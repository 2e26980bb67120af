import logging

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError

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
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("to_send", "To Send"),
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
        "the letter goes by post and says so.",
    )
    email_state = fields.Selection(
        [("queued", "Queued"), ("sent", "Sent"), ("failed", "Failed")],
        readonly=True,
        copy=False,
    )
    activity_id = fields.Many2one("mail.activity", readonly=True, copy=False)
    sent_date = fields.Date(readonly=True, copy=False)
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
        result = super().write(vals)
        if "state" in vals:
            self.line_ids.filtered("level_id").move_line_id._refresh_dunning_level()
        return result

    def unlink(self):
        items = self.line_ids.filtered("level_id").move_line_id
        result = super().unlink()
        items._refresh_dunning_level()
        return result

    @api.depends("line_ids.move_line_id")
    def _compute_move_line_ids(self):
        for letter in self:
            letter.move_line_ids = letter.line_ids.move_line_id
            letter.move_ids = letter.line_ids.move_line_id.move_id

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
            lambda letter: letter.state in ("draft", "to_send", "error")
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
        return self.env.ref(LETTER_REPORT).report_action(self, config=False)

    # ------------------------------------------------------------------ sending

    def _send_letters(self):
        """Queue emails, schedule calls and mark letters as sent, all in batches."""
        today = fields.Date.context_today(self)
        email_letters = self.filtered("send_email")
        no_email = email_letters.filtered(lambda letter: not letter.contact_id.email)
        no_email.write({"email_fallback": True, "send_letter": True})
        email_letters -= no_email
        email_letters._queue_emails()
        sent = self.filtered(lambda letter: letter.state == "to_send")
        sent.filtered("create_activity")._schedule_calls()
        # The sending is logged below on the customer and the invoices, in batch.
        sent.with_context(tracking_disable=True).write(
            {"state": "sent", "sent_date": today}
        )
        sent._log_sending()

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
            for move in letter.line_ids.filtered("level_id").move_line_id.move_id:
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
        """Plain data of the letter, shared by the PDF and the email body."""
        self.ensure_one()
        lines = self.line_ids.sorted(
            lambda line: (
                line.date_maturity or line.document_date or fields.Date.today(),
                line.id,
            )
        )
        show_penalties = self.company_id.dunning_show_penalties
        totals = {}
        for line in lines:
            total = totals.setdefault(
                line.currency_id,
                {
                    "currency": line.currency_id,
                    "due": 0.0,
                    "overdue": 0.0,
                    "penalties": 0.0,
                },
            )
            total["due"] += line.amount_residual_currency
            if line.days_late > 0:
                total["overdue"] += line.amount_residual_currency
            if show_penalties:
                total["penalties"] += line.penalty_amount
        return {
            "letter": self,
            "lines": lines,
            "show_penalties": show_penalties,
            "totals": list(totals.values()),
            "deadline": fields.Date.add(
                self.date, days=self.level_id.payment_deadline_days
            ),
        }
