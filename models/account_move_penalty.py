from collections import defaultdict
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..engine.penalties import (
    ECB_MRO,
    MissingRate,
    exclude_periods,
    half_year_label,
    indemnity,
    interest_segments,
    paid_late,
    to_decimal,
)

OPEN_PAYMENT_STATES = ("not_paid", "partial")


class AccountMove(models.Model):
    """Late-payment penalties of customer invoices: the orchestration between the
    ORM (installments, matchings, rules, rates read in batches) and the engine."""

    _inherit = "account.move"

    formal_notice_received_date = fields.Date(
        string="Formal Notice Received",
        copy=False,
        tracking=True,
        help="Day the customer received the formal notice: a consumer owes legal "
        "interest from the next day.",
    )
    judgment_service_date = fields.Date(
        string="Judgment Served",
        copy=False,
        tracking=True,
        help="Day an enforceable judgment was served: the legal interest rate rises "
        "by 5 points two months later.",
    )
    penalty_line_ids = fields.One2many(
        "credit.penalty.line", "move_id", string="Penalty Lines"
    )
    penalty_amount_draft = fields.Monetary(
        string="Penalties to Invoice", compute="_compute_penalty_amount_draft"
    )

    @api.depends("penalty_line_ids.amount", "penalty_line_ids.state")
    def _compute_penalty_amount_draft(self):
        for move in self:
            move.penalty_amount_draft = sum(
                move.penalty_line_ids.filtered(
                    lambda line: line.state == "draft" and line.kind == "interest"
                ).mapped("amount")
            )

    # ------------------------------------------------------------------ public

    def compute_late_penalties(self, date=None):
        """Create or refresh the draft penalty lines of these posted customer invoices
        as of ``date`` (default: today) and return them. Invoiced and waived lines are
        never touched, and the periods they cover are not claimed again."""
        as_of = date or fields.Date.context_today(self)
        self._check_penalty_invoices()
        vals_list = self._prepare_penalty_lines(as_of)
        Line = self.env["credit.penalty.line"]
        Line._bulk_unlink([("move_id", "in", self.ids), ("state", "=", "draft")])
        return Line._bulk_create(vals_list)

    def action_compute_late_penalties(self):
        invoices = self.filtered(
            lambda move: move.move_type == "out_invoice" and move.state == "posted"
        )
        if not invoices:
            raise UserError(_("Select posted customer invoices."))
        lines = invoices.compute_late_penalties()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "l10n_fr_credit_collection.action_credit_penalty_line"
        )
        action["domain"] = [("id", "in", lines.ids)]
        return action

    @api.model
    def _cron_compute_late_penalties(self):
        """Monthly: every open late customer invoice of every company, set-based."""
        today = fields.Date.context_today(self)
        for company in self.env["res.company"].search([]):
            invoices = self.search(
                [
                    ("company_id", "=", company.id),
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                    ("payment_state", "in", OPEN_PAYMENT_STATES),
                    ("invoice_date_due", "<", today),
                ]
            )
            if invoices:
                invoices.with_company(company).compute_late_penalties(today)

    # ------------------------------------------------------------------ checks

    def _check_penalty_invoices(self):
        self.fetch(["move_type", "state", "name"])
        for move in self:
            if move.move_type == "out_refund":
                raise UserError(
                    _(
                        "%(move)s is a credit note: late-payment penalties are "
                        "computed on customer invoices only.",
                        move=move.display_name,
                    )
                )
            if move.move_type != "out_invoice" or move.state != "posted":
                raise UserError(
                    _(
                        "%(move)s is not a posted customer invoice: post it before "
                        "computing its late-payment penalties.",
                        move=move.display_name,
                    )
                )

    # ------------------------------------------------------------------ compute

    def _read_penalty_settlements(self, installments):
        """``{installment id: [(date, amount in invoice currency)]}`` in one query."""
        partials = self.env["account.partial.reconcile"].search_fetch(
            [("debit_move_id", "in", installments.ids)],
            ["debit_move_id", "max_date", "debit_amount_currency"],
        )
        settlements = defaultdict(list)
        for partial in partials:
            settlements[partial.debit_move_id.id].append(
                (partial.max_date, partial.debit_amount_currency)
            )
        return settlements

    def _read_penalty_consumed(self):
        """Periods and indemnities already invoiced or waived: kept as they are."""
        lines = self.env["credit.penalty.line"].search_fetch(
            [("move_id", "in", self.ids), ("state", "!=", "draft")],
            ["move_id", "move_line_id", "kind", "date_from", "date_to"],
        )
        periods = defaultdict(list)
        indemnified = set()
        for line in lines:
            if line.kind == "indemnity":
                indemnified.add(line.move_id.id)
            else:
                periods[line.move_line_id.id].append((line.date_from, line.date_to))
        return periods, indemnified

    def _get_penalty_rules(self):
        """``{move id: rule}``: the customer's rule, else the company default."""
        rules = {}
        for company, moves in self.grouped("company_id").items():
            default = self.env["credit.penalty.rule"]._get_company_default(company)
            partners = moves.commercial_partner_id.with_company(company)
            partners.fetch(["penalty_rule_id"])
            partner_rule = {partner.id: partner.penalty_rule_id for partner in partners}
            for move in moves:
                rules[move.id] = (
                    partner_rule.get(move.commercial_partner_id.id) or default
                )
        return rules

    def _prepare_penalty_lines(self, as_of):
        """Values of every draft line to create; raises before anything is written."""
        installments = self.env["account.move.line"].search_fetch(
            [("move_id", "in", self.ids), ("display_type", "=", "payment_term")],
            ["move_id", "date_maturity", "amount_currency", "currency_id"],
        )
        for line in installments.filtered(lambda line: not line.date_maturity):
            raise UserError(
                _(
                    "The invoice %(move)s has no due date: set its due date or payment "
                    "terms before computing penalties.",
                    move=line.move_id.display_name,
                )
            )
        # One query per model for the whole set: the loops below read the cache.
        self.fetch(
            [
                "company_id",
                "commercial_partner_id",
                "formal_notice_received_date",
                "judgment_service_date",
            ]
        )
        self.commercial_partner_id.fetch(["debtor_type", "collective_procedure"])
        settlements = self._read_penalty_settlements(installments)
        consumed, indemnified = self._read_penalty_consumed()
        rules = self._get_penalty_rules()
        table = self.env["credit.reference.rate"]._get_rate_table()
        vals_list = []
        for move, move_installments in installments.grouped("move_id").items():
            try:
                vals_list += move._prepare_penalty_lines_of_invoice(
                    move_installments,
                    as_of,
                    rules[move.id],
                    table,
                    settlements,
                    consumed,
                    move.id in indemnified,
                )
            except MissingRate as missing:
                raise UserError(self._missing_rate_message(missing)) from None
        return vals_list

    @api.model
    def _missing_rate_message(self, missing):
        kinds = dict(
            self.env["credit.reference.rate"]
            ._fields["kind"]
            ._description_selection(self.env)
        )
        source = (
            _("the ECB's key interest rates page")
            if missing.kind == ECB_MRO
            else _("the arrêté published in the Journal officiel")
        )
        return _(
            "No reference rate '%(kind)s' for the half-year %(half_year)s, so the "
            "penalties cannot be computed. Add it in Credit Collection > "
            "Configuration > Reference Rates (official source: %(where)s).",
            kind=kinds.get(missing.kind, missing.kind),
            half_year=half_year_label(missing.half_year),
            where=source,
        )

    def _penalty_start(self, installment, debtor_type):
        """First late day: the day after the due date (B2B, L441-10 II), or after the
        formal notice was received for a consumer (C. civ. 1231-6)."""
        if debtor_type == "consumer":
            received = self.formal_notice_received_date
            return received + timedelta(days=1) if received else None
        return installment.date_maturity + timedelta(days=1)

    def _prepare_penalty_lines_of_invoice(
        self, installments, as_of, rule, table, settlements, consumed, indemnified
    ):
        """Draft lines of one invoice: interest per installment, then its indemnity."""
        self.ensure_one()
        debtor_type = self.commercial_partner_id.debtor_type or "professional"
        regime = rule._engine_regime(debtor_type, self._judgment_uplift_start())
        vals_list = []
        any_late = False
        for installment in installments:
            payments = settlements.get(installment.id, [])
            if not self._is_installment_late_enough(installment, payments, as_of, rule):
                continue
            any_late = any_late or paid_late(
                installment.date_maturity, as_of, installment.amount_currency, payments
            )
            segments = interest_segments(
                installment.amount_currency,
                self._penalty_start(installment, debtor_type),
                as_of,
                payments,
                regime=regime,
                table=table,
                day_count=rule.day_count,
            )
            segments = exclude_periods(
                segments, consumed.get(installment.id, []), rule.day_count
            )
            vals_list += [
                self._prepare_penalty_line_vals(installment, segment)
                for segment in segments
                if segment.amount > 0 and segment.amount >= to_decimal(rule.min_amount)
            ]
        if rule.indemnity_enabled and not indemnified:
            vals_list += self._prepare_indemnity_line_vals(rule, debtor_type, any_late)
        return vals_list

    def _judgment_uplift_start(self):
        """First day of the +5 points after a judgment, or None."""
        if not self.judgment_service_date:
            return None
        return self.judgment_service_date + relativedelta(months=2)

    @api.model
    def _is_installment_late_enough(self, installment, payments, as_of, rule):
        """Whether the installment was (or is) late by at least the rule's minimum."""
        principal = to_decimal(installment.amount_currency)
        paid_at = max((day for day, _amount in payments), default=None)
        settled = sum(to_decimal(amount) for _day, amount in payments)
        last_day = paid_at if paid_at and settled >= principal else as_of
        delay = (min(last_day, as_of) - installment.date_maturity).days
        return delay >= max(rule.min_days_late, 1)

    def _prepare_indemnity_line_vals(self, rule, debtor_type, any_late):
        """The recovery indemnity of the invoice, as a list of zero or one values."""
        amount = indemnity(
            rule.indemnity_amount,
            debtor_type == "professional",
            any_late,
            self.commercial_partner_id.collective_procedure,
        )
        if not amount:
            return []
        return [
            {
                "company_id": self.company_id.id,
                "move_id": self.id,
                "partner_id": self.commercial_partner_id.id,
                "kind": "indemnity",
                "state": "draft",
                "amount": float(amount),
                "currency_id": rule.currency_id.id or self.company_id.currency_id.id,
            }
        ]

    def _prepare_penalty_line_vals(self, installment, segment):
        return {
            "company_id": self.company_id.id,
            "move_id": self.id,
            "move_line_id": installment.id,
            "partner_id": self.commercial_partner_id.id,
            "kind": "interest",
            "state": "draft",
            "date_from": segment.date_from,
            "date_to": segment.date_to,
            "days": segment.days,
            "base_amount": float(segment.base),
            "rate": float(segment.rate),
            "floor_applied": segment.floor_applied,
            "amount": float(segment.amount),
            "currency_id": installment.currency_id.id,
        }

    # ------------------------------------------------------------------ invoices

    def button_cancel(self):
        self._release_penalty_lines()
        return super().button_cancel()

    def unlink(self):
        self._release_penalty_lines()
        return super().unlink()

    def _release_penalty_lines(self):
        """A cancelled or deleted penalty invoice gives its lines back to invoice."""
        lines = self.env["credit.penalty.line"].search(
            [("penalty_move_id", "in", self.ids), ("state", "=", "invoiced")]
        )
        lines.write({"state": "draft", "penalty_move_id": False})

    def _get_penalty_mention(self):
        """L441-9 payment mentions printed on the invoice, from the applicable rule."""
        self.ensure_one()
        if self.move_type != "out_invoice":
            return False
        rule = self._get_penalty_rules()[self.id]
        return rule._get_invoice_mention(self.commercial_partner_id.debtor_type)

    def _attach_penalty_statement(self, as_of):
        """Attach to each penalty invoice the statement of the lines it invoices."""
        report = self.env["ir.actions.report"]
        lines_by_invoice = (
            self.env["credit.penalty.line"]
            .search([("penalty_move_id", "in", self.ids)])
            .grouped("penalty_move_id")
        )
        vals_list = []
        for invoice in self:
            line_ids = lines_by_invoice[invoice].ids
            content, _type = report._render_qweb_pdf(
                "l10n_fr_credit_collection.action_report_penalty_statement",
                invoice.commercial_partner_id.ids,
                data={"as_of": fields.Date.to_string(as_of), "line_ids": line_ids},
            )
            vals_list.append(
                {
                    "name": _(
                        "Penalty statement %(invoice)s.pdf",
                        invoice=invoice.display_name,
                    ),
                    "raw": content,
                    "mimetype": "application/pdf",
                    "res_model": "account.move",
                    "res_id": invoice.id,
                }
            )
        self.env["ir.attachment"].create(vals_list)
