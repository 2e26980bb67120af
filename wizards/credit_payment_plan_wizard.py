"""Propose a payment plan to a customer, from the customer or from a selection of
its open invoices."""

from dateutil.relativedelta import relativedelta

from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from ..engine.penalties import to_decimal
from ..engine.plans import ScheduleError, split_schedule
from ..models.credit_access import check_collection_user


class CreditPaymentPlanWizard(models.TransientModel):
    _name = "credit.payment.plan.wizard"
    _description = "Propose a Payment Plan"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    partner_id = fields.Many2one("res.partner", string="Customer", required=True)
    is_consumer = fields.Boolean(compute="_compute_amounts")
    move_ids = fields.Many2many(
        "account.move",
        string="Invoices",
        check_company=True,
        domain="[('commercial_partner_id', '=', partner_id), "
        "('move_type', '=', 'out_invoice'), ('state', '=', 'posted'), "
        "('payment_state', 'in', ('not_paid', 'partial'))]",
    )
    currency_id = fields.Many2one("res.currency", compute="_compute_amounts")
    amount_open = fields.Monetary(string="Open Balance", compute="_compute_amounts")
    amount_penalties = fields.Monetary(
        string="Accrued Penalties",
        compute="_compute_amounts",
        help="Penalty lines to invoice on these invoices: included in the plan when "
        "they are invoiced, set aside when they are suspended.",
    )
    amount_covered = fields.Monetary(
        string="Balance Covered", compute="_compute_amounts"
    )
    installment_count = fields.Integer(string="Installments", default=3)
    first_date = fields.Date(
        default=lambda self: fields.Date.context_today(self) + relativedelta(days=7)
    )
    step_months = fields.Integer(string="Months Between Installments", default=1)
    down_payment = fields.Monetary()
    amount_mode = fields.Selection(
        [("equal", "Equal Amounts"), ("manual", "Edited by Hand")],
        string="Amounts",
        default="equal",
        required=True,
    )
    penalty_treatment = fields.Selection(
        [
            ("keep", "Invoice and Include"),
            ("suspend", "Suspend, Waive if Kept"),
        ],
        string="Accrued Penalties Treatment",
        default="keep",
        required=True,
    )
    penalties_running = fields.Boolean(
        string="Penalties Keep Running",
        help="While the plan is kept, late-payment penalties keep accruing "
        "(professional customers only).",
    )
    grace_days = fields.Integer(
        default=lambda self: self.env.company.payment_plan_grace_days
    )
    reminder_days = fields.Integer(
        default=lambda self: self.env.company.payment_plan_reminder_days
    )
    line_ids = fields.One2many(
        "credit.payment.plan.wizard.line", "wizard_id", string="Schedule"
    )
    amount_scheduled = fields.Monetary(
        string="Scheduled", compute="_compute_amount_scheduled"
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        model = self.env.context.get("active_model")
        ids = self.env.context.get("active_ids") or []
        if model == "res.partner" and ids:
            partner = self.env["res.partner"].browse(ids[:1]).commercial_partner_id
            values["partner_id"] = partner.id
            values["move_ids"] = [
                Command.set(
                    self.env["account.move"]
                    .search(
                        [
                            ("commercial_partner_id", "=", partner.id),
                            ("company_id", "=", self.env.company.id),
                            ("move_type", "=", "out_invoice"),
                            ("state", "=", "posted"),
                            ("is_penalty_invoice", "=", False),
                            ("payment_state", "in", ("not_paid", "partial")),
                        ]
                    )
                    .ids
                )
            ]
        elif model == "account.move" and ids:
            moves = self.env["account.move"].browse(ids)
            partners = moves.commercial_partner_id
            if len(partners) > 1:
                raise UserError(
                    self.env._(
                        "The selected invoices belong to several customers "
                        "(%(customers)s): a payment plan covers the invoices of one "
                        "customer. Select the invoices of one customer.",
                        customers=", ".join(partners.mapped("display_name")),
                    )
                )
            values["partner_id"] = partners.id
            values["company_id"] = moves.company_id[:1].id or self.env.company.id
            values["move_ids"] = [Command.set(moves.ids)]
        return values

    @api.depends("move_ids", "penalty_treatment", "partner_id")
    def _compute_amounts(self):
        for wizard in self:
            moves = wizard.move_ids._origin
            wizard.currency_id = moves.currency_id[:1] or wizard.company_id.currency_id
            wizard.is_consumer = wizard.partner_id.debtor_type == "consumer"
            wizard.amount_open = sum(moves.mapped("amount_residual"))
            wizard.amount_penalties = sum(
                self.env["credit.penalty.line"]
                .search([("move_id", "in", moves.ids), ("state", "=", "draft")])
                .mapped("amount")
            )
            wizard.amount_covered = wizard.amount_open + (
                wizard.amount_penalties if wizard.penalty_treatment == "keep" else 0.0
            )

    @api.depends("line_ids.amount")
    def _compute_amount_scheduled(self):
        for wizard in self:
            wizard.amount_scheduled = sum(wizard.line_ids.mapped("amount"))

    @api.onchange(
        "move_ids",
        "penalty_treatment",
        "installment_count",
        "first_date",
        "step_months",
        "down_payment",
        "amount_mode",
    )
    def _onchange_schedule(self):
        if self.amount_mode != "equal":
            return
        try:
            installments = self._split()
        except UserError:
            return
        self.line_ids = [Command.clear()] + [
            Command.create({"date": item.date, "amount": float(item.amount)})
            for item in installments
        ]

    def _split(self):
        """The equal schedule of the covered balance (engine), or a clear error."""
        self.ensure_one()
        try:
            return split_schedule(
                to_decimal(self.currency_id.round(self.amount_covered)),
                self.installment_count,
                self.first_date or fields.Date.context_today(self),
                step_months=self.step_months,
                down_payment=to_decimal(self.down_payment or 0),
            )
        except ScheduleError as error:
            raise UserError(
                self.env._(
                    "The schedule for %(customer)s cannot be built: %(reason)s. "
                    "Check the invoices, the number of installments, the step and "
                    "the down payment.",
                    customer=self.partner_id.display_name,
                    reason=self._schedule_error_label(error),
                )
            ) from None

    def _schedule_error_label(self, error):
        labels = {
            "a plan has at least one installment": self.env._(
                "a plan has at least one installment"
            ),
            "nothing to schedule: the balance is not positive": self.env._(
                "nothing to schedule: the balance is not positive"
            ),
            "the down payment must be below the balance": self.env._(
                "the down payment must be below the balance"
            ),
            "the step between installments is at least one month": self.env._(
                "the step between installments is at least one month"
            ),
        }
        return labels.get(str(error), str(error))

    def action_compute_schedule(self):
        """Fill the schedule with equal installments (then edit it by hand)."""
        self.ensure_one()
        installments = self._split()
        self.line_ids = [Command.clear()] + [
            Command.create({"date": item.date, "amount": float(item.amount)})
            for item in installments
        ]
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }

    def _prepare_plan_vals(self):
        self.ensure_one()
        if self.amount_mode == "equal":
            schedule = [(item.date, float(item.amount)) for item in self._split()]
        else:
            schedule = [(line.date, line.amount) for line in self.line_ids]
        return {
            "company_id": self.company_id.id,
            "partner_id": self.partner_id.commercial_partner_id.id,
            "currency_id": self.currency_id.id,
            "move_ids": [Command.set(self.move_ids.ids)],
            "down_payment": self.down_payment,
            "penalty_treatment": self.penalty_treatment,
            "penalties_running": self.penalties_running,
            "grace_days": self.grace_days,
            "reminder_days": self.reminder_days,
            "line_ids": [
                Command.create({"date": day, "amount": amount})
                for day, amount in schedule
            ],
        }

    def action_create_plan(self):
        """Create the plan as a draft (to print and have signed), after every check
        of the start: nothing is written when one fails."""
        self.ensure_one()
        check_collection_user(self.env, self.env._("Proposing a payment plan"))
        if not self.move_ids:
            raise UserError(
                self.env._(
                    "Select the open invoices of %(customer)s that the plan covers.",
                    customer=self.partner_id.display_name,
                )
            )
        # The items first: a paid one would otherwise fail as an empty schedule.
        self.env["credit.payment.plan"].new(
            {
                "name": self.partner_id.display_name,
                "partner_id": self.partner_id.id,
                "move_ids": [Command.set(self.move_ids.ids)],
            }
        )._check_items_collectable()
        plan = self.env["credit.payment.plan"].create(self._prepare_plan_vals())
        plan._check_items_collectable()
        plan._check_terms()
        plan._check_schedule(covered=self.currency_id.round(self.amount_covered))
        return {
            "type": "ir.actions.act_window",
            "res_model": "credit.payment.plan",
            "res_id": plan.id,
            "view_mode": "form",
            "target": "current",
        }


class CreditPaymentPlanWizardLine(models.TransientModel):
    _name = "credit.payment.plan.wizard.line"
    _description = "Proposed Installment"
    _order = "date, id"

    wizard_id = fields.Many2one(
        "credit.payment.plan.wizard", required=True, ondelete="cascade"
    )
    currency_id = fields.Many2one(related="wizard_id.currency_id")
    date = fields.Date(required=True)
    amount = fields.Monetary(required=True)
