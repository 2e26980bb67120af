"""Payment plans (échéanciers) agreed with a customer short of cash, and their
follow-up: the dunning and the penalties pause while the plan is kept, payments are
applied to its installments oldest first, a missed installment breaks it.

A plan signed by the customer is an acknowledgment of the debt, which interrupts
prescription (C. civ. 2240): the product records the signature date as an
interruption on the invoices covered.
"""

import logging
from collections import defaultdict
from datetime import timedelta

from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.osv import expression
from odoo.tools import SQL, format_date

from ..engine.penalties import to_decimal
from ..engine.plans import (
    Installment,
    allocate_payments,
    breach,
    check_dates,
    is_settled,
    split_schedule,
)
from .credit_access import (
    COLLECTION_MANAGER,
    check_collection_user,
    internal,
    is_internal,
)

_logger = logging.getLogger(__name__)

# A plan in these states holds its items: no other plan may cover them.
ACTIVE_STATES = ("draft", "running")


class CreditPaymentPlan(models.Model):
    """One schedule agreed with a customer for some of its open invoices."""

    _name = "credit.payment.plan"
    _description = "Payment Plan"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(
        required=True, readonly=True, copy=False, default=lambda self: self.env._("New")
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
        domain="[('is_company', '=', True)]",
    )
    is_consumer = fields.Boolean(compute="_compute_is_consumer")
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        default=lambda self: self.env.user,
        tracking=True,
        help="Told when an installment is missed.",
    )
    currency_id = fields.Many2one("res.currency", required=True)
    move_ids = fields.Many2many(
        "account.move",
        "credit_payment_plan_move_rel",
        "plan_id",
        "move_id",
        string="Invoices",
        check_company=True,
        help="The invoices the plan covers, and the penalty invoices it includes.",
    )
    line_ids = fields.One2many(
        "credit.payment.plan.line", "plan_id", string="Installments", copy=True
    )
    down_payment = fields.Monetary(
        help="Paid first, on the date of the first installment; included in the "
        "schedule as its first line."
    )
    penalty_treatment = fields.Selection(
        [
            ("keep", "Invoice and Include"),
            ("suspend", "Suspend, Waive if Kept"),
        ],
        string="Accrued Penalties",
        default="keep",
        required=True,
        tracking=True,
        help="Invoice and Include: the late-payment penalties accrued so far are "
        "invoiced when the plan starts and the penalty invoice is part of the "
        "schedule. Suspend: they are set aside and waived only if the plan is kept "
        "to the end; a broken plan gives them back to invoice.",
    )
    penalties_running = fields.Boolean(
        string="Penalties Keep Running",
        tracking=True,
        help="While the plan is kept, late-payment penalties keep accruing on the "
        "invoices covered (professional customers only). By default they stop "
        "while the plan is kept.",
    )
    amount_total = fields.Monetary(
        string="Scheduled",
        compute="_compute_amount_total",
        store=True,
        help="Sum of the installments: the balance covered when the plan started.",
    )
    amount_paid = fields.Monetary(
        string="Paid",
        compute="_compute_amount_paid",
        help="Payments and credit notes matched with the plan's invoices since it "
        "started.",
    )
    amount_residual = fields.Monetary(
        string="Remaining", compute="_compute_amount_paid"
    )
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("running", "Running"),
            ("breached", "Breached"),
            ("done", "Done"),
            ("cancelled", "Cancelled"),
        ],
        default="draft",
        required=True,
        index=True,
        tracking=True,
        copy=False,
    )
    start_date = fields.Date(readonly=True, copy=False)
    signed_date = fields.Date(
        string="Signed on",
        tracking=True,
        copy=False,
        help="Day the customer signed the plan: an acknowledgment of the debt that "
        "interrupts prescription (art. 2240 C. civ.), recorded on the invoices.",
    )
    grace_days = fields.Integer(
        default=lambda self: self.env.company.payment_plan_grace_days,
        help="Days after an installment's due date before an unpaid installment "
        "breaks the plan; the last day of grace is still a day to pay.",
    )
    reminder_days = fields.Integer(
        default=lambda self: self.env.company.payment_plan_reminder_days,
        help="Days before each installment's due date when the reminder email goes.",
    )
    breach_date = fields.Date(readonly=True, copy=False)
    missed_line_id = fields.Many2one(
        "credit.payment.plan.line",
        string="Missed Installment",
        readonly=True,
        copy=False,
    )
    notice_letter_id = fields.Many2one(
        "credit.dunning.letter",
        string="Formal Notice",
        readonly=True,
        copy=False,
        help="For a consumer, the formal notice to pay the missed installment "
        "prepared when the plan broke: review and send it before claiming the "
        "whole balance.",
    )
    suspended_penalty_ids = fields.One2many(
        "credit.penalty.line", "payment_plan_id", string="Suspended Penalties"
    )
    next_due_date = fields.Date(compute="_compute_amount_paid")
    next_due_amount = fields.Monetary(
        compute="_compute_amount_paid", string="Next Amount Due"
    )

    @api.depends("partner_id.debtor_type")
    def _compute_is_consumer(self):
        for plan in self:
            plan.is_consumer = plan.partner_id.commercial_partner_id.debtor_type == (
                "consumer"
            )

    @api.depends("line_ids.amount")
    def _compute_amount_total(self):
        for plan in self:
            plan.amount_total = sum(plan.line_ids.mapped("amount"))

    @api.depends("move_ids.amount_residual", "amount_total", "state", "line_ids.date")
    def _compute_amount_paid(self):
        for plan in self:
            if plan.state == "draft" or not plan.move_ids:
                paid = 0.0
            elif plan.state == "done":
                paid = plan.amount_total
            else:
                paid = plan._paid_from_residual(
                    sum(plan.move_ids.mapped("amount_residual"))
                )
            plan.amount_paid = paid
            plan.amount_residual = plan.amount_total - paid
            allocation = allocate_payments(plan._installments(), paid)
            next_open = next((item for item in allocation if not item.is_paid), None)
            plan.next_due_date = next_open.date if next_open else False
            plan.next_due_amount = float(next_open.remaining) if next_open else 0.0

    def _paid_from_residual(self, residual):
        """What was paid since the start: the scheduled total less what is still
        open on the plan's invoices (never below 0 nor above the total)."""
        return max(0.0, min(self.amount_total, self.amount_total - residual))

    def _installments(self):
        return [
            Installment(line.date, to_decimal(line.amount))
            for line in self.line_ids
            if line.date
        ]

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", self.env._("New")) == self.env._("New"):
                vals["name"] = (
                    self.env["ir.sequence"].next_by_code("credit.payment.plan") or "/"
                )
        plans = super().create(vals_list)
        plans._check_items()
        signed = plans.filtered("signed_date")
        for plan in signed:
            plan._check_signed_date(plan.signed_date)
        signed._record_acknowledgment()
        return plans

    def write(self, vals):
        if "signed_date" in vals and vals["signed_date"]:
            self._check_signed_date(fields.Date.to_date(vals["signed_date"]))
        result = super().write(vals)
        if {"move_ids", "partner_id", "currency_id"} & set(vals):
            self._check_items()
        if vals.get("signed_date"):
            self._record_acknowledgment()
        return result

    def unlink(self):
        self.check_access("unlink")
        started = self.filtered(lambda plan: plan.state not in ("draft", "cancelled"))
        if started:
            raise UserError(
                self.env._(
                    "The payment plan %(plan)s was started: cancel it instead of "
                    "deleting it, it is part of the customer's history.",
                    plan=started[0].display_name,
                )
            )
        return super().unlink()

    # ------------------------------------------------------------------ checks

    def _check_signed_date(self, day):
        today = fields.Date.context_today(self)
        if day > today:
            raise ValidationError(
                self.env._(
                    "The payment plan %(plan)s cannot be signed in the future "
                    "(%(date)s): enter the day the customer signed it.",
                    plan=self[:1].display_name,
                    date=format_date(self.env, day),
                )
            )

    def _record_acknowledgment(self):
        """The signed plan acknowledges the debt of its invoices (C. civ. 2240)."""
        for plan in self:
            plan.move_ids._record_prescription_interruption(
                plan.signed_date, "acknowledgment", plan
            )
            plan.message_post(
                body=self.env._(
                    "Signed by the customer on %(date)s: acknowledgment of the debt "
                    "recorded on the invoices (interrupts prescription, art. 2240 C. "
                    "civ.).",
                    date=format_date(self.env, plan.signed_date),
                )
            )

    def _check_items(self):
        """Refuse items that cannot be in this plan, naming the item and the fix."""
        _ = self.env._
        for plan in self:
            moves = plan.move_ids
            if not moves:
                continue
            wrong = moves.filtered(
                lambda move: move.move_type != "out_invoice" or move.state != "posted"
            )
            if wrong:
                raise ValidationError(
                    _(
                        "%(move)s is not a posted customer invoice: a payment plan "
                        "covers posted customer invoices only. Remove it from the "
                        "plan %(plan)s.",
                        move=wrong[0].display_name,
                        plan=plan.display_name,
                    )
                )
            other = moves.filtered(
                lambda move, plan=plan: move.commercial_partner_id
                != plan.partner_id.commercial_partner_id
            )
            if other:
                raise ValidationError(
                    _(
                        "%(move)s is an invoice of %(other)s, not of %(customer)s: a "
                        "payment plan covers the invoices of one customer. Make a "
                        "plan per customer.",
                        move=other[0].display_name,
                        other=other[0].commercial_partner_id.display_name,
                        customer=plan.partner_id.display_name,
                    )
                )
            currencies = moves.currency_id | plan.currency_id
            if len(currencies) > 1:
                raise ValidationError(
                    _(
                        "The invoices of the plan %(plan)s are in several currencies "
                        "(%(currencies)s): make a plan per currency.",
                        plan=plan.display_name,
                        currencies=", ".join(currencies.mapped("name")),
                    )
                )
            if plan.state not in ACTIVE_STATES:
                continue
            taken = self.search(
                [
                    ("id", "!=", plan.id),
                    ("state", "in", ACTIVE_STATES),
                    ("move_ids", "in", moves.ids),
                ],
                limit=1,
            )
            if taken:
                move = (taken.move_ids & moves)[:1]
                raise ValidationError(
                    _(
                        "%(move)s is already covered by the payment plan %(other)s: "
                        "remove it from %(plan)s, or cancel %(other)s first.",
                        move=move.display_name,
                        other=taken.display_name,
                        plan=plan.display_name,
                    )
                )

    def _check_items_collectable(self):
        """At the start: items open, not claimed in court, not collected by a factor."""
        _ = self.env._
        for plan in self:
            moves = plan.move_ids.filtered(lambda move: not move.is_penalty_invoice)
            if not moves:
                raise UserError(
                    _(
                        "The payment plan %(plan)s covers no invoice: add the "
                        "customer's open invoices.",
                        plan=plan.display_name,
                    )
                )
            refusals = (
                (
                    lambda move: move.payment_state not in ("not_paid", "partial")
                    or move.currency_id.is_zero(move.amount_residual),
                    _(
                        "%(move)s is already paid (or being paid): remove it from "
                        "the plan %(plan)s."
                    ),
                ),
                (
                    "credit_in_court_case",
                    _(
                        "%(move)s is claimed in a court case: it follows the court "
                        "procedure, not a payment plan. Remove it from %(plan)s."
                    ),
                ),
                (
                    "factoring_collected",
                    _(
                        "%(move)s is collected by the factor: only the factor may "
                        "agree a plan for it. Remove it from %(plan)s."
                    ),
                ),
            )
            for refused, message in refusals:
                wrong = moves.filtered(refused)
                if wrong:
                    raise UserError(
                        message
                        % {"move": wrong[0].display_name, "plan": plan.display_name}
                    )

    def _check_schedule(self, covered=None):
        """The installments: dated in order, not in the past, summing to the
        covered balance (``covered``: computed from the items when not given)."""
        _ = self.env._
        today = fields.Date.context_today(self)
        for plan in self:
            lines = plan.line_ids.sorted(lambda line: (line.date or today, line.id))
            if not lines:
                raise UserError(
                    _(
                        "The payment plan %(plan)s has no installment: add at least "
                        "one.",
                        plan=plan.display_name,
                    )
                )
            if any(not line.date for line in lines) or any(
                line.amount <= 0 for line in lines
            ):
                raise UserError(
                    _(
                        "Every installment of the plan %(plan)s needs a date and a "
                        "positive amount.",
                        plan=plan.display_name,
                    )
                )
            try:
                check_dates([line.date for line in plan.line_ids])
            except ValueError:
                raise UserError(
                    _(
                        "The installments of the plan %(plan)s are not in date "
                        "order: each installment must fall after the one before.",
                        plan=plan.display_name,
                    )
                ) from None
            if lines[0].date < today:
                raise UserError(
                    _(
                        "The first installment of the plan %(plan)s is in the past "
                        "(%(date)s): date it today or later.",
                        plan=plan.display_name,
                        date=format_date(self.env, lines[0].date),
                    )
                )
            expected = plan._get_covered_balance() if covered is None else covered
            total = sum(lines.mapped("amount"))
            if plan.currency_id.compare_amounts(total, expected):
                raise UserError(
                    _(
                        "The installments of the plan %(plan)s sum to %(total)s but "
                        "the balance covered is %(covered)s (difference "
                        "%(difference)s): change the amounts so that they add up.",
                        plan=plan.display_name,
                        total=plan.currency_id.format(total),
                        covered=plan.currency_id.format(expected),
                        difference=plan.currency_id.format(total - expected),
                    )
                )

    def _check_terms(self):
        """Consumer plans are free; suspension of penalties per the company."""
        _ = self.env._
        for plan in self:
            if plan.is_consumer and plan.penalties_running:
                raise UserError(
                    _(
                        "%(customer)s is a consumer: a payment plan with a consumer "
                        "bears no interest and no fee. Untick Penalties Keep Running "
                        "on %(plan)s.",
                        customer=plan.partner_id.display_name,
                        plan=plan.display_name,
                    )
                )
            plan._check_suspension_allowed()

    def _check_suspension_allowed(self):
        for plan in self.filtered(lambda plan: plan.penalty_treatment == "suspend"):
            if (
                not self.env.su
                and not self.env.user.has_group(COLLECTION_MANAGER)
                and not plan.company_id.payment_plan_user_suspend
            ):
                raise AccessError(
                    self.env._(
                        "Only a credit collection manager may suspend the accrued "
                        "penalties in a payment plan at %(company)s (setting "
                        "'Users May Suspend Penalties'). Choose Invoice and Include "
                        "for %(plan)s, or ask a manager.",
                        company=plan.company_id.name,
                        plan=plan.display_name,
                    )
                )

    # ------------------------------------------------------------------ amounts

    def _get_draft_penalty_lines(self):
        return self.env["credit.penalty.line"].search(
            [
                ("move_id", "in", self.move_ids.ids),
                ("state", "=", "draft"),
            ]
        )

    def _get_covered_balance(self):
        """The items' open balance, plus the penalties the plan includes: the
        accrued draft lines about to be invoiced (``keep``) and the penalty
        invoices already in it."""
        self.ensure_one()
        balance = sum(self.move_ids.mapped("amount_residual"))
        if self.penalty_treatment == "keep" and self.state == "draft":
            balance += sum(self._get_draft_penalty_lines().mapped("amount"))
        return self.currency_id.round(balance)

    # ------------------------------------------------------------------ actions

    def action_start(self):
        """Start the plan: the items leave the dunning, the accrued penalties are
        invoiced or suspended, holds end (the plan replaces them)."""
        check_collection_user(self.env, self.env._("Starting a payment plan"))
        for plan in self:
            if plan.state != "draft":
                raise UserError(
                    self.env._(
                        "The payment plan %(plan)s is not a draft: it was already "
                        "started.",
                        plan=plan.display_name,
                    )
                )
        self._check_items()
        self._check_items_collectable()
        self._check_terms()
        self._check_schedule()
        today = fields.Date.context_today(self)
        for plan in self:
            penalties = plan._get_draft_penalty_lines()
            if penalties and plan.penalty_treatment == "keep":
                invoices = penalties._create_penalty_invoices(
                    today, confirm_unmatched=True
                )
                invoices.action_post()
                plan.move_ids = [Command.link(invoice.id) for invoice in invoices]
            elif penalties:
                internal(penalties).write(
                    {"state": "suspended", "payment_plan_id": plan.id}
                )
            held = plan.move_ids.filtered("dunning_hold")
            if held:
                held._dunning_release()
            plan.write({"state": "running", "start_date": today})
            plan.message_post(
                body=self.env._(
                    "Payment plan started: %(count)s installments, %(total)s. The "
                    "invoices are left out of the dunning while it is kept.",
                    count=len(plan.line_ids),
                    total=plan.currency_id.format(plan.amount_total),
                )
            )
        return True

    def action_cancel(self):
        check_collection_user(self.env, self.env._("Cancelling a payment plan"))
        done = self.filtered(lambda plan: plan.state in ("done", "cancelled"))
        if done:
            raise UserError(
                self.env._(
                    "The payment plan %(plan)s is already closed.",
                    plan=done[0].display_name,
                )
            )
        self._restore_suspended_penalties()
        self.write({"state": "cancelled"})
        for plan in self:
            plan.message_post(
                body=self.env._(
                    "Payment plan cancelled: its invoices come back into the "
                    "dunning."
                )
            )
        return True

    def action_draft(self):
        for plan in self.filtered(lambda plan: plan.state == "cancelled"):
            if plan.start_date:
                raise UserError(
                    self.env._(
                        "The payment plan %(plan)s was started: propose a new plan "
                        "instead.",
                        plan=plan.display_name,
                    )
                )
            plan.state = "draft"
            plan._check_items()
        return True

    def action_print(self):
        return self.env.ref(
            "l10n_fr_credit_collection.action_report_payment_plan"
        ).report_action(self)

    def action_view_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [("id", "in", self.move_ids.ids)]
        action["context"] = {"create": False}
        return action

    # ------------------------------------------------------------------ follow-up

    @api.model
    def _cron_follow_payment_plans(self, today=None):
        """Daily: close the plans paid in full, break those with an installment
        unpaid after the grace period, remind the installments coming. A fixed
        number of queries whatever the number of plans; only the plans that change
        are written."""
        today = today or fields.Date.context_today(self)
        plans = self.search_fetch(
            [("state", "=", "running")],
            ["company_id", "amount_total", "grace_days", "reminder_days"],
        )
        if not plans:
            return {"done": 0, "breached": 0, "reminded": 0}
        residuals = plans._read_open_residuals()
        lines = self.env["credit.payment.plan.line"].search_fetch(
            [("plan_id", "in", plans.ids)],
            ["plan_id", "date", "amount", "reminder_sent"],
            order="plan_id, date, id",
        )
        lines_by_plan = defaultdict(list)
        for line in lines:
            lines_by_plan[line.plan_id.id].append(line)
        done_ids, missed, remind_ids = [], {}, []
        for plan in plans:
            plan_lines = lines_by_plan.get(plan.id, [])
            installments = [
                Installment(line.date, to_decimal(line.amount)) for line in plan_lines
            ]
            paid = plan._paid_from_residual(residuals.get(plan.id, 0.0))
            if is_settled(installments, paid):
                done_ids.append(plan.id)
                continue
            missed_item = breach(installments, paid, today, plan.grace_days)
            if missed_item:
                line = next(
                    line for line in plan_lines if line.date == missed_item.date
                )
                missed[plan.id] = (line, missed_item.remaining)
                continue
            for line, item in zip(
                plan_lines, allocate_payments(installments, paid), strict=True
            ):
                if (
                    not item.is_paid
                    and not line.reminder_sent
                    and line.date - timedelta(days=plan.reminder_days) <= today
                    and today <= line.date
                ):
                    remind_ids.append(line.id)
        self.browse(done_ids)._close_kept()
        if missed:
            self.browse(list(missed))._break(missed, today)
        self.env["credit.payment.plan.line"].browse(remind_ids)._send_reminders()
        return {
            "done": len(done_ids),
            "breached": len(missed),
            "reminded": len(remind_ids),
        }

    def _read_open_residuals(self):
        """``{plan id: open balance of its invoices}`` in one query."""
        self.env["account.move"].flush_model(["amount_residual"])
        self.flush_model(["move_ids"])
        rows = self.env.execute_query(
            SQL(
                """
                SELECT rel.plan_id, SUM(move.amount_residual)
                  FROM credit_payment_plan_move_rel rel
                  JOIN account_move move ON move.id = rel.move_id
                 WHERE rel.plan_id = ANY(%s)
              GROUP BY rel.plan_id
                """,
                list(self.ids),
            )
        )
        return {plan_id: float(amount or 0.0) for plan_id, amount in rows}

    def _close_kept(self):
        """Plans paid in full: done; their suspended penalties are waived."""
        if not self:
            return
        penalties = self.suspended_penalty_ids.filtered(
            lambda line: line.state == "suspended"
        )
        internal(penalties).write(
            {"state": "waived", "waive_reason": self.env._("payment plan kept")}
        )
        self.write({"state": "done"})
        body = Markup("<p>%s</p>") % self.env._(
            "Payment plan kept to the end: every installment is paid."
        )
        self._message_log_batch({plan.id: body for plan in self})
        if penalties:
            penalties.move_id._message_log_batch(
                {
                    move.id: Markup("<p>%s</p>")
                    % self.env._(
                        "Suspended penalties (%(amount)s) waived: payment plan kept.",
                        amount=lines[:1].currency_id.format(
                            sum(lines.mapped("amount"))
                        ),
                    )
                    for move, lines in penalties.grouped("move_id").items()
                }
            )

    def _restore_suspended_penalties(self):
        penalties = self.suspended_penalty_ids.filtered(
            lambda line: line.state == "suspended"
        )
        internal(penalties).write({"state": "draft", "payment_plan_id": False})
        return penalties

    def _break(self, missed, today):
        """An installment unpaid after the grace period breaks the plan.

        Professional customer: the items come back into the dunning, which goes
        on from the last level sent, respecting the interval between letters.
        Consumer: the case law requires a formal notice to pay the missed
        installment before the whole balance can be claimed (déchéance du terme
        against a non-professional, Cass. 1re civ. 3 June 2015 n° 14-15.655): a
        formal notice is prepared as a draft letter for review, and the
        responsible user is asked to send it.
        """
        _ = self.env._
        restored = self._restore_suspended_penalties()
        for plan in self:
            line, remaining = missed[plan.id]
            plan.write(
                {
                    "state": "breached",
                    "breach_date": today,
                    "missed_line_id": line.id,
                }
            )
        consumers = self.filtered("is_consumer")
        letters = consumers._prepare_consumer_notices(today)
        bodies = {}
        activities = []
        todo = self.env.ref("mail.mail_activity_data_todo")
        model_id = self.env["ir.model"]._get_id(self._name)
        for plan in self:
            line, remaining = missed[plan.id]
            amount = plan.currency_id.format(float(remaining))
            due = format_date(self.env, line.date)
            restored_plan = restored.filtered(
                lambda penalty, plan=plan: penalty.move_id in plan.move_ids
            )
            if plan.is_consumer:
                letter = letters.get(plan.id)
                note = _(
                    "Installment of %(date)s unpaid (%(amount)s left) after the grace "
                    "period: the plan is broken. %(customer)s is a consumer: send a "
                    "formal notice to pay this installment before claiming the whole "
                    "balance (%(letter)s).",
                    date=due,
                    amount=amount,
                    customer=plan.partner_id.display_name,
                    letter=letter.name
                    if letter
                    else _("no draft letter could be prepared: write it by hand"),
                )
            else:
                note = _(
                    "Installment of %(date)s unpaid (%(amount)s left) after the grace "
                    "period: the plan is broken and the whole balance is due. The "
                    "invoices come back into the dunning, from the last level sent.",
                    date=due,
                    amount=amount,
                )
            if restored_plan:
                note += " " + _(
                    "The suspended penalties (%(penalties)s) are to invoice again.",
                    penalties=plan.currency_id.format(
                        sum(restored_plan.mapped("amount"))
                    ),
                )
            bodies[plan.id] = Markup("<p>%s</p>") % note
            activities.append(
                {
                    "res_model_id": model_id,
                    "res_id": plan.id,
                    "activity_type_id": todo.id,
                    "summary": _("Payment plan broken: %(plan)s", plan=plan.name),
                    "note": Markup("<p>%s</p>") % note,
                    "user_id": (plan.user_id or self.env.user).id,
                    "date_deadline": today,
                }
            )
        self._message_log_batch(bodies)
        self.env["mail.activity"].sudo().with_context(
            mail_activity_quick_update=True
        ).create(activities)

    def _prepare_consumer_notices(self, today):
        """One draft formal-notice letter per consumer plan, at the first formal
        notice level of the customer's policy, listing the plan's open items:
        held for review (a waiting letter also keeps the next runs from sending
        anything else about them). ``{plan id: letter}``."""
        letters = {}
        for company, plans in self.grouped("company_id").items():
            run = (
                self.env["credit.dunning.run"]
                .sudo()
                .create({"date": today, "company_id": company.id})
            )
            items = run._read_open_items()
            default = self.env["credit.dunning.policy"]._get_company_default(company)
            for plan in plans:
                partner = plan.partner_id.commercial_partner_id.with_company(company)
                policy = partner.dunning_policy_id or default
                notice = policy.level_ids.filtered("is_formal_notice")[:1]
                plan_items = [
                    item for item in items if item["move_id"] in plan.move_ids.ids
                ]
                if not notice or not plan_items:
                    continue
                level = policy._engine_levels()[notice.id]
                reached = {
                    item["id"]: level
                    for item in plan_items
                    if item["amount_residual"] > 0
                }
                grouped = run._group_items_by_partner(plan_items)
                if partner.id not in grouped or not reached:
                    continue
                vals = run._prepare_letter_vals(partner.id, plan_items, reached)
                letter = run._create_letters([vals])
                internal(letter).write({"state": "draft"})
                letters[plan.id] = letter.sudo(False)
            run.state = "computed" if run.letter_ids else "done"
            if not run.letter_ids:
                run.unlink()
        for plan_id, letter in letters.items():
            self.browse(plan_id).notice_letter_id = letter
        return letters

    # ------------------------------------------------------------------ document

    def _get_plan_lang(self):
        """French when installed (the plan is signed as a French contract), else
        the user's language."""
        return self.env["res.lang"]._get_code("fr_FR") or self.env.lang or "en_US"

    def _get_plan_data(self):
        """Everything the plan PDF prints, as plain data (one builder), in the
        document's language."""
        self.ensure_one()
        plan = self.with_context(lang=self._get_plan_lang())
        currency = plan.currency_id
        moves = plan.move_ids.sorted(
            lambda move: (move.invoice_date or move.date, move.id)
        )
        parties = plan.env["credit.document.parties"]._get_parties(
            plan.company_id, plan.partner_id
        )
        invoices = [
            {
                "name": move.name,
                "date": format_date(plan.env, move.invoice_date or move.date),
                "due": format_date(plan.env, move.invoice_date_due),
                "amount": currency.format(move.amount_total),
                "residual": currency.format(move.amount_residual),
                "penalty": move.is_penalty_invoice,
            }
            for move in moves
        ]
        schedule = [
            {
                "number": index,
                "date": format_date(plan.env, line.date),
                "amount": currency.format(line.amount),
                "down_payment": index == 1 and bool(plan.down_payment),
            }
            for index, line in enumerate(plan.line_ids.sorted("date"), start=1)
        ]
        return {
            "parties": parties,
            "name": plan.name,
            "date": format_date(
                plan.env, plan.start_date or fields.Date.context_today(self)
            ),
            "city": plan.company_id.city or "",
            "invoices": invoices,
            "total": currency.format(plan.amount_total),
            "schedule": schedule,
            "count": len(schedule),
            "grace_days": plan.grace_days,
            "consumer": plan.is_consumer,
            "penalty_treatment": plan.penalty_treatment,
            "penalties_running": plan.penalties_running,
            "suspended": currency.format(
                sum(plan.suspended_penalty_ids.mapped("amount"))
            ),
            "signed_date": plan.signed_date and format_date(plan.env, plan.signed_date),
        }


class CreditPaymentPlanLine(models.Model):
    """One installment of a payment plan."""

    _name = "credit.payment.plan.line"
    _description = "Payment Plan Installment"
    _order = "plan_id, date, id"

    plan_id = fields.Many2one(
        "credit.payment.plan", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(
        related="plan_id.company_id", store=True, index=True, precompute=True
    )
    currency_id = fields.Many2one(related="plan_id.currency_id")
    date = fields.Date(required=True)
    amount = fields.Monetary(required=True)
    amount_paid = fields.Monetary(string="Paid Amount", compute="_compute_allocation")
    paid = fields.Boolean(compute="_compute_allocation")
    state = fields.Selection(
        [("to_pay", "To Pay"), ("late", "Late"), ("paid", "Paid")],
        compute="_compute_allocation",
    )
    reminder_sent = fields.Boolean(readonly=True, copy=False)

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines._check_plan_draft()
        return lines

    def write(self, vals):
        self._check_plan_draft()
        return super().write(vals)

    def unlink(self):
        self._check_plan_draft()
        return super().unlink()

    def _check_plan_draft(self):
        """The schedule of a started plan is what the customer agreed: it changes
        only through the follow-up (reminders), never by hand."""
        if is_internal(self.env):
            return
        started = self.plan_id.filtered(lambda plan: plan.state != "draft")
        if started:
            raise UserError(
                self.env._(
                    "The payment plan %(plan)s was started: its installments can no "
                    "longer change. Cancel it and propose a new plan.",
                    plan=started[0].display_name,
                )
            )

    @api.depends("plan_id.amount_paid", "amount", "date")
    def _compute_allocation(self):
        today = fields.Date.context_today(self)
        for plan, lines in self.grouped("plan_id").items():
            ordered = plan.line_ids.filtered("date").sorted(
                lambda line: (line.date, line.id)
            )
            allocation = dict(
                zip(
                    ordered.ids,
                    allocate_payments(
                        [
                            Installment(line.date, to_decimal(line.amount))
                            for line in ordered
                        ],
                        plan.amount_paid,
                    ),
                    strict=True,
                )
            )
            for line in lines:
                item = allocation.get(line.id)
                line.amount_paid = float(item.paid) if item else 0.0
                line.paid = bool(item and item.is_paid)
                if line.paid:
                    line.state = "paid"
                elif line.date and line.date < today:
                    line.state = "late"
                else:
                    line.state = "to_pay"

    def _send_reminders(self):
        """One reminder email per installment from the company's template, logged
        on the plan; each installment is reminded once."""
        if not self:
            return
        for company, lines in self.grouped("company_id").items():
            template = company.payment_plan_mail_template_id or self.env.ref(
                "l10n_fr_credit_collection.mail_template_payment_plan_reminder",
                raise_if_not_found=False,
            )
            if not template:
                continue
            try:
                with self.env.cr.savepoint():
                    template.send_mail_batch(lines.ids)
            except Exception as error:  # noqa: BLE001 - a template error
                _logger.warning("Payment plan reminders not sent: %s", error)
                continue
            internal(lines).write({"reminder_sent": True})
            lines.plan_id._message_log_batch(
                {
                    plan.id: Markup("<p>%s</p>")
                    % self.env._(
                        "Reminder sent for the installment of %(date)s (%(amount)s).",
                        date=format_date(self.env, plan_lines[0].date),
                        amount=plan.currency_id.format(plan_lines[0].amount),
                    )
                    for plan, plan_lines in lines.grouped("plan_id").items()
                }
            )


class AccountMove(models.Model):
    _inherit = "account.move"  # pylint: disable=consider-merging-classes-inherited

    payment_plan_ids = fields.Many2many(
        "credit.payment.plan",
        "credit_payment_plan_move_rel",
        "move_id",
        "plan_id",
        string="Payment Plans",
        copy=False,
    )

    @api.model
    def _get_penalty_excluded_domain(self):
        """While a plan is kept, no penalty line is drafted for its invoices, unless
        the plan says penalties keep running."""
        domain = super()._get_penalty_excluded_domain()
        paused = self.sudo()._search(
            [
                (
                    "payment_plan_ids",
                    "any",
                    [("state", "=", "running"), ("penalties_running", "=", False)],
                )
            ]
        )
        mine = [("id", "in", paused)]
        return expression.OR([domain, mine]) if domain else mine

    def _check_penalty_excluded(self):
        # One query whatever the number of invoices.
        paused = self.sudo().search(
            [
                ("id", "in", self.ids),
                (
                    "payment_plan_ids",
                    "any",
                    [("state", "=", "running"), ("penalties_running", "=", False)],
                ),
            ],
            limit=1,
        )
        if paused:
            plan = paused[0].payment_plan_ids.filtered(
                lambda plan: plan.state == "running"
            )[:1]
            raise UserError(
                self.env._(
                    "%(move)s is in the payment plan %(plan)s, kept so far: its "
                    "penalties pause while the plan runs. Remove it from the "
                    "selection.",
                    move=paused[0].display_name,
                    plan=plan.display_name,
                )
            )
        return super()._check_penalty_excluded()

    def action_open_payment_plan_wizard(self):
        check_collection_user(self.env, self.env._("Proposing a payment plan"))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Propose a Payment Plan"),
            "res_model": "credit.payment.plan.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"active_model": "account.move", "active_ids": self.ids},
        }

    def action_promise_to_payment_plan(self):
        """A promise to pay becomes a one-installment plan due on the promised
        date (today at the earliest)."""
        self.ensure_one()
        check_collection_user(self.env, self.env._("Proposing a payment plan"))
        if self.dunning_hold_type != "promise":
            raise UserError(
                self.env._(
                    "%(move)s is not on hold for a promise to pay.",
                    move=self.display_name,
                )
            )
        today = fields.Date.context_today(self)
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Turn the Promise into a Payment Plan"),
            "res_model": "credit.payment.plan.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {
                "active_model": "account.move",
                "active_ids": self.ids,
                "default_installment_count": 1,
                "default_first_date": fields.Date.to_string(
                    max(self.dunning_hold_until or today, today)
                ),
            },
        }


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _get_dunning_excluded_domain(self):
        """The items of a running plan are not dunned while the plan is kept."""
        moves = (
            self.env["account.move"]
            .sudo()
            ._search([("payment_plan_ids", "any", [("state", "=", "running")])])
        )
        return [*super()._get_dunning_excluded_domain(), ("move_id", "not in", moves)]


class CreditDunningRun(models.Model):
    _inherit = "credit.dunning.run"  # pylint: disable=consider-merging-classes-inherited

    def _get_step_by_step_move_ids(self, move_ids):
        """The items of a broken plan come back to dunning one level at a time:
        the level after their last letter, respecting the interval since it, never
        a jump to the formal notice their delay reached during the plan."""
        rows = self.env.execute_query(
            SQL(
                """
                SELECT DISTINCT rel.move_id
                  FROM credit_payment_plan_move_rel rel
                  JOIN credit_payment_plan plan ON plan.id = rel.plan_id
                 WHERE plan.state = 'breached' AND rel.move_id = ANY(%s)
                """,
                list(move_ids),
            )
        )
        return super()._get_step_by_step_move_ids(move_ids) | {row[0] for row in rows}


class ResPartner(models.Model):
    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    payment_plan_count = fields.Integer(
        string="Payment Plans", compute="_compute_payment_plan_count"
    )

    def _compute_payment_plan_count(self):
        groups = self.env["credit.payment.plan"]._read_group(
            [("partner_id", "in", self.commercial_partner_id.ids)],
            ["partner_id"],
            ["__count"],
        )
        counts = {partner.id: count for partner, count in groups}
        for partner in self:
            partner.payment_plan_count = counts.get(partner.commercial_partner_id.id, 0)

    def action_view_payment_plans(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "l10n_fr_credit_collection.action_credit_payment_plan"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"default_partner_id": self.commercial_partner_id.id}
        return action

    def action_open_payment_plan_wizard(self):
        self.ensure_one()
        check_collection_user(self.env, self.env._("Proposing a payment plan"))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Propose a Payment Plan"),
            "res_model": "credit.payment.plan.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"active_model": "res.partner", "active_ids": self.ids},
        }


class CreditCollectionDemo(models.AbstractModel):
    _inherit = "credit.collection.demo"  # pylint: disable=consider-merging-classes-inherited

    def _load_demo_followups(self, partners, moves):
        """A running three-installment plan for Menuiserie Leroy's late invoice."""
        result = super()._load_demo_followups(partners, moves)
        leroy, invoice = partners[2], moves[4]
        today = fields.Date.context_today(self)
        installments = split_schedule(
            to_decimal(invoice.amount_residual), 3, today + relativedelta(days=10)
        )
        plan = self.env["credit.payment.plan"].create(
            {
                "partner_id": leroy.id,
                "company_id": invoice.company_id.id,
                "currency_id": invoice.currency_id.id,
                "move_ids": [Command.set(invoice.ids)],
                "penalty_treatment": "suspend",
                "signed_date": today,
                "line_ids": [
                    Command.create({"date": item.date, "amount": float(item.amount)})
                    for item in installments
                ],
            }
        )
        plan.action_start()
        return result
