from odoo import api, fields, models, tools
from odoo.tools import SQL

from .credit_access import check_collection_user

# Documents whose phone calls may record a cause of late payment.
CAUSE_MODELS = ("account.move", "credit.dunning.letter", "res.partner")
OPEN_PAYMENT_STATES = ("not_paid", "partial")


class MailActivity(models.Model):
    _inherit = "mail.activity"

    credit_rate_half_year = fields.Date(
        string="Missing Rates Half-Year",
        readonly=True,
        copy=False,
        help="Set on the activity asking the managers to add the reference rates "
        "of the half-year starting on this date: one open activity per company and "
        "half-year.",
    )

    credit_deadline_key = fields.Char(
        string="Legal Deadline Rule",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Key of the legal deadline (engine/deadlines.py) this activity follows: "
        "one open activity per record and rule.",
    )

    credit_late_cause_id = fields.Many2one(
        "credit.late.cause",
        string="Cause of Late Payment",
        copy=False,
        help="When the call is marked as done, this cause (with the feedback as "
        "note) is recorded on the open invoices the call is about.",
    )
    credit_late_cause_enabled = fields.Boolean(
        compute="_compute_credit_late_cause_enabled"
    )

    def init(self):
        res = super().init()
        # Two jobs at once (the monthly penalties, the daily dunning, the rate
        # reminder) never leave two open activities for one company and half-year.
        self.env.cr.execute(
            SQL(
                """
                CREATE UNIQUE INDEX IF NOT EXISTS mail_activity_credit_rate_uniq
                    ON mail_activity (res_model_id, res_id, credit_rate_half_year)
                 WHERE credit_rate_half_year IS NOT NULL AND active
                """
            )
        )
        return res

    # ------------------------------------------------------------------ causes

    @api.depends("res_model", "res_id")
    def _compute_credit_late_cause_enabled(self):
        """Offered on the activities of an invoice or a dunning letter, and on
        the calls a dunning letter scheduled on its customer."""
        saved = self.filtered(
            lambda act: act._origin.id and act.res_model == "res.partner"
        )
        linked = set()
        if saved:
            linked = set(
                self.env["credit.dunning.letter"]
                .sudo()
                .search_fetch(
                    [("activity_id", "in", saved._origin.ids)], ["activity_id"]
                )
                .activity_id.ids
            )
        for activity in self:
            activity.credit_late_cause_enabled = activity.res_model in (
                "account.move",
                "credit.dunning.letter",
            ) or (activity._origin.id in linked)

    def _action_done(self, feedback=False, attachment_ids=None):
        # Before super(), which deletes the activities.
        self._credit_record_late_causes(feedback)
        return super()._action_done(feedback=feedback, attachment_ids=attachment_ids)

    def _credit_record_late_causes(self, feedback=False):
        """Record the cause chosen on the calls done on their open invoices, the
        feedback as note: one write per cause."""
        activities = self.filtered(
            lambda act: act.credit_late_cause_id and act.res_model in CAUSE_MODELS
        )
        if not activities:
            return
        check_collection_user(self.env, self.env._("Recording a cause of late payment"))
        note = tools.html2plaintext(str(feedback)).strip() if feedback else False
        by_cause = {}
        for activity, invoices in activities._credit_late_cause_invoices().items():
            cause = activity.credit_late_cause_id
            by_cause[cause] = by_cause.get(cause, invoices.browse()) | invoices
        for cause, invoices in by_cause.items():
            invoices._credit_record_late_cause(cause, note or False)

    def _credit_late_cause_invoices(self):
        """``{activity: invoices}``: the open invoices a call is about: its
        invoice, or the invoices its dunning letter reminded of (a letter's call
        is scheduled on the customer and linked from the letter)."""
        Move = self.env["account.move"]
        Letter = self.env["credit.dunning.letter"]
        by_model = self.grouped("res_model")
        move_acts = by_model.get("account.move", self.browse())
        letter_acts = by_model.get("credit.dunning.letter", self.browse())
        partner_acts = by_model.get("res.partner", self.browse())
        letters = Letter.browse(letter_acts.mapped("res_id"))
        if partner_acts:
            letters |= Letter.search([("activity_id", "in", partner_acts.ids)])
        letters.line_ids.fetch(["letter_id", "move_id", "level_id"])
        result = {activity: Move.browse(activity.res_id) for activity in move_acts}

        def dunned(letter):
            # The items the letter reminded of, not those listed for information.
            return letter.line_ids.filtered("level_id").move_id

        for activity in letter_acts:
            result[activity] = dunned(Letter.browse(activity.res_id))
        for letter in letters.filtered(lambda let: let.activity_id in partner_acts):
            activity = letter.activity_id
            result[activity] = result.get(activity, Move) | dunned(letter)
        result = {activity: invoices.exists() for activity, invoices in result.items()}
        Move.browse().union(*result.values()).fetch(
            ["move_type", "state", "payment_state"]
        )
        return {
            activity: invoices.filtered(
                lambda move: move.move_type == "out_invoice"
                and move.state == "posted"
                and move.payment_state in OPEN_PAYMENT_STATES
            )
            for activity, invoices in result.items()
        }
