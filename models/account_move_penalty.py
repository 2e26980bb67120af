import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..engine.penalties import (
    ECB_MRO,
    MissingRate,
    consumer_start,
    exclude_periods,
    half_year_label,
    indemnity,
    interest_segments,
    judgment_uplift_start,
    paid_late,
    to_decimal,
)

_logger = logging.getLogger(__name__)

OPEN_PAYMENT_STATES = ("not_paid", "partial")
# First half of the advisory lock key of penalty computations (the second is the
# company): the monthly job and a user never compute a company's penalties at once.
PENALTY_LOCK_KEY = 0x50454E41  # "PENA"
# Kinds of penalty lines the computation owns (a refresh replaces their drafts);
# additional recovery costs are entered by hand and kept.
COMPUTED_KINDS = ("interest", "indemnity")
# The values of a draft line, compared to keep the unchanged ones on a refresh.
DRAFT_LINE_FIELDS = (
    "company_id",
    "move_id",
    "move_line_id",
    "date_maturity",
    "partner_id",
    "kind",
    "date_from",
    "date_to",
    "days",
    "base_amount",
    "rate",
    "floor_applied",
    "amount",
    "currency_id",
    "unmatched_credit_amount",
    "unmatched_credit_date",
)


class PenaltyInstallment(NamedTuple):
    """One installment (payment-term journal item) of an invoice, as the penalty
    computation reads it: plain values, no ORM record per item."""

    id: int
    move_id: int
    date_maturity: date | None
    amount_currency: float
    currency_id: int


@dataclass
class PenaltyBatchReport:
    """What a batch computation could not do, for the managers."""

    missing: set = field(default_factory=set)  # {(company, half-year start)}
    skipped: dict = field(default_factory=dict)  # {invoice: message}


# The penalty orchestration has its own file on purpose (holds and dunning fields
# stay in account_move.py): one concern per file, each readable on its own.
class AccountMove(models.Model):
    """Late-payment penalties of customer invoices: the orchestration between the
    ORM (installments, matchings, rules, rates read in batches) and the engine."""

    _inherit = "account.move"  # pylint: disable=consider-merging-classes-inherited

    formal_notice_received_date = fields.Date(
        string="Formal Notice Received",
        copy=False,
        tracking=True,
        help="Day the customer received the formal notice: a consumer owes legal "
        "interest from the next day, and never before the day after the due date.",
    )
    judgment_enforceable_date = fields.Date(
        string="Judgment Enforceable",
        copy=False,
        tracking=True,
        help="Day the judgment ordering payment became enforceable: the legal "
        "interest rate rises by 5 points from the day after two months have "
        "expired.",
    )
    is_penalty_invoice = fields.Boolean(
        string="Penalty Invoice",
        readonly=True,
        copy=False,
        help="This invoice claims late-payment penalties: it never bears penalties "
        "or an indemnity itself.",
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
        never touched, and the periods they cover are not claimed again.

        Interactive: a missing reference rate or an invalid invoice stops the
        computation with a message, and nothing is written."""
        as_of = date or fields.Date.context_today(self)
        self._check_penalty_invoices()
        self._check_penalty_excluded()
        self._lock_penalties()
        vals_list = self._prepare_penalty_lines(as_of)
        return self._replace_draft_penalty_lines(vals_list)

    def _compute_late_penalties_batch(self, as_of, lock="wait"):
        """The batch form of :meth:`compute_late_penalties` (scheduled actions, runs,
        sending): it never stops for a missing half-year or an invalid invoice. It
        claims every segment whose rates are known, leaves the rest for a later run
        and returns a :class:`PenaltyBatchReport` with what it could not do.

        LAW.md conventions, "missing rate in a batch": the certain part of the claim
        is computed, the managers are told once which half-year to add.
        """
        report = PenaltyBatchReport()
        self.fetch(["move_type", "state", "is_penalty_invoice"])
        invoices = self.filtered(
            lambda move: move.move_type == "out_invoice"
            and move.state == "posted"
            and not move.is_penalty_invoice
        )
        invoices -= invoices._get_penalty_excluded_moves()
        if not invoices:
            return self.env["credit.penalty.line"], report
        invoices._lock_penalties(lock)
        vals_list = invoices._prepare_penalty_lines(as_of, report)
        computed = invoices - self.browse(move.id for move in report.skipped)
        return computed._replace_draft_penalty_lines(vals_list), report

    def _replace_draft_penalty_lines(self, vals_list):
        """Make the draft lines of these invoices the ones of ``vals_list``.

        A draft line whose values did not change is kept as it is: a refresh
        (the monthly job, a user computing again) deletes and inserts only what
        changed: the open periods, not the closed half-years and indemnities."""
        Line = self.env["credit.penalty.line"]
        # Whoever computes may replace the drafts, even when nothing changed.
        Line.check_access("create")
        Line.check_access("unlink")
        vals_list = Line._flag_unmatched_credits(vals_list)
        fields_ = [Line._fields[fname] for fname in DRAFT_LINE_FIELDS]
        query = Line._search(
            [
                ("move_id", "in", self.ids),
                ("state", "=", "draft"),
                ("kind", "in", COMPUTED_KINDS),
            ]
        )
        kept = defaultdict(list)  # values -> ids of the identical draft lines
        for row in self.env.execute_query(
            query.select(
                SQL.identifier(query.table, "id"),
                *(SQL.identifier(query.table, item.name) for item in fields_),
            )
        ):
            key = tuple(
                item.convert_to_cache(value, Line, validate=False) or None
                for item, value in zip(fields_, row[1:], strict=True)
            )
            kept[key].append(row[0])
        new_vals = []
        kept_ids = []
        for vals in vals_list:
            # Empty values compare equal whatever their form (NULL, 0, False):
            # a column left out of an insert is NULL.
            key = tuple(
                item.convert_to_cache(vals.get(item.name), Line) or None
                for item in fields_
            )
            if kept.get(key):
                kept_ids.append(kept[key].pop())
            else:
                new_vals.append(vals)
        stale_ids = [line_id for ids in kept.values() for line_id in ids]
        if stale_ids:
            Line._bulk_unlink([("id", "in", stale_ids)])
        return Line.browse(kept_ids) | Line._bulk_create(new_vals)

    def action_compute_late_penalties(self):
        invoices = self.filtered(
            lambda move: move.move_type == "out_invoice"
            and move.state == "posted"
            and not move.is_penalty_invoice
        )
        if not invoices:
            raise UserError(
                _(
                    "Select posted customer invoices other than penalty invoices "
                    "(a penalty invoice bears no penalty)."
                )
            )
        lines = invoices.compute_late_penalties()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "l10n_fr_credit_collection.action_credit_penalty_line"
        )
        action["domain"] = [("id", "in", lines.ids)]
        return action

    def action_add_recovery_costs(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Add Recovery Costs"),
            "res_model": "credit.penalty.compensation.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"active_model": "account.move", "active_id": self.id},
        }

    @api.model
    def _cron_compute_late_penalties(self):
        """Monthly: every late day not yet claimed, company by company, on the
        company-by-company job machinery (``credit.company.job``): one company's
        failure never stops the others; the managers are told once."""
        today = fields.Date.context_today(self)

        def compute(company):
            invoices = self.with_company(company)._search_penalty_candidates(
                company, today
            )
            _lines, report = invoices._compute_late_penalties_batch(today)
            self._notify_penalty_batch_report(report)

        self.env["credit.company.job"]._run_company_job(
            "monthly_penalties",
            self.env["res.company"].search([]),
            compute,
            _("Late-payment penalties not computed"),
        )

    @api.model
    def _notify_penalty_batch_report(self, report):
        """Tell the managers, once per company, what a batch could not compute."""
        if report.missing:
            self.env["credit.reference.rate"]._notify_missing_rates(report.missing)
        by_company = defaultdict(list)
        for move, message in report.skipped.items():
            by_company[move.company_id].append(message)
        for company, messages in by_company.items():
            company._notify_credit_job_failure(
                _("Invoices left out of the late-payment penalties"),
                "\n".join(messages),
            )

    # ------------------------------------------------------------------ selection

    @api.model
    def _search_penalty_candidates(self, company, as_of):
        """Posted customer invoices with a late day not yet claimed, in one query.

        An installment is a candidate when it is past due and either still open, or
        settled after its due date with late days that no line (draft, invoiced or
        waived) covers yet: an invoice paid between two monthly runs is claimed up
        to its payment. Each installment counts from its own due date, so an early
        installment is claimed while the last one is not yet due. Penalty invoices
        never bear penalties (LAW.md conventions), nor the invoices of
        :meth:`_get_penalty_excluded_domain` (left out in the same query).
        """
        excluded = self._get_penalty_excluded_domain()
        exclusion = (
            SQL("AND move.id NOT IN %s", self.sudo()._search(excluded).subselect())
            if excluded
            else SQL()
        )
        self.env["account.move.line"].flush_model(
            ["move_id", "display_type", "date_maturity", "reconciled"]
        )
        self.env["account.move"].flush_model(
            ["company_id", "move_type", "state", "is_penalty_invoice"]
        )
        self.env["account.partial.reconcile"].flush_model(["debit_move_id", "max_date"])
        self.env["credit.penalty.line"].flush_model(
            ["move_id", "date_maturity", "kind", "date_to"]
        )
        rows = self.env.execute_query(
            SQL(
                """
                SELECT DISTINCT item.move_id
                  FROM account_move_line item
                  JOIN account_move move ON move.id = item.move_id
             LEFT JOIN LATERAL (
                        SELECT MAX(partial.max_date) AS paid_at
                          FROM account_partial_reconcile partial
                         WHERE partial.debit_move_id = item.id
                       ) settled ON item.reconciled
             LEFT JOIN LATERAL (
                        SELECT MAX(line.date_to) AS covered_to
                          FROM credit_penalty_line line
                         WHERE line.move_id = item.move_id
                           AND line.date_maturity = item.date_maturity
                           AND line.kind = 'interest'
                       ) covered ON item.reconciled
                 WHERE item.display_type = 'payment_term'
                   AND move.company_id = %(company)s
                   AND move.move_type = 'out_invoice'
                   AND move.state = 'posted'
                   AND move.is_penalty_invoice IS NOT TRUE
                   AND item.date_maturity < %(as_of)s
                   AND (NOT item.reconciled
                        OR (settled.paid_at > item.date_maturity
                            AND COALESCE(covered.covered_to, item.date_maturity)
                                < LEAST(settled.paid_at, %(as_of)s)))
                   %(exclusion)s
                """,
                company=company.id,
                as_of=as_of,
                exclusion=exclusion,
            )
        )
        return self.browse(row[0] for row in rows)

    @api.model
    def _get_penalty_excluded_domain(self):
        """Domain of the invoices whose penalties are not ours to compute.

        The one exclusion hook of the penalty computation (the monthly job, the
        batch and the interactive computation): the invoices a factor collects,
        since the penalties follow the claim to its new creditor."""
        return self._get_factor_collected_domain()

    def _get_penalty_end_dates(self):
        """``{move id: date}``: the last day penalties may run for the invoices of
        ``self`` that have one before the computation date (extension point; none
        by default). Read in one query for the whole set."""
        return {}

    def _get_penalty_excluded_moves(self):
        """The invoices of ``self`` whose penalties are not ours to compute, in one
        query."""
        excluded = self._get_penalty_excluded_domain()
        if not self.ids or not excluded:
            return self.browse()
        found = self.sudo().search([("id", "in", self.ids), *excluded], order="id")
        return self.browse(found.ids)

    # ------------------------------------------------------------------ checks

    def _check_penalty_excluded(self):
        """Refuse the invoices a factor collects, naming the first one."""
        move = self._get_penalty_excluded_moves()[:1].sudo()
        if move:
            raise UserError(
                _(
                    "%(move)s is collected by %(factor)s (notified contract "
                    "%(contract)s): its late-payment penalties are the factor's to "
                    "claim. Remove it from the selection.",
                    move=move.display_name,
                    factor=move.factoring_contract_id.factor_id.display_name,
                    contract=move.factoring_contract_id.name,
                )
            )

    def _check_penalty_invoices(self):
        self.fetch(["move_type", "state", "name", "is_penalty_invoice"])
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
            if move.is_penalty_invoice:
                raise UserError(
                    _(
                        "%(move)s is a penalty invoice: it bears no penalty and no "
                        "indemnity itself. Remove it from the selection.",
                        move=move.display_name,
                    )
                )

    def _lock_penalties(self, mode="try"):
        """Serialise the penalty computations of a company, per ``mode``:

        * ``try``: a user computing; if another computation runs, this one stops
          with a message instead of claiming the same days twice;
        * ``wait``: the monthly job; it waits up to a minute for the others;
        * ``shared``: sending letters, which freeze the penalties of their own
          invoices: several sendings run side by side (the background batches on
          several workers), never beside a computation of the company.

        The unique indexes of ``credit.penalty.line`` are the last guard."""
        self.flush_model(["company_id"])
        company_ids = [
            row[0]
            for row in self.env.execute_query(
                SQL(
                    "SELECT DISTINCT company_id FROM account_move WHERE id = ANY(%s)",
                    list(self.ids),
                )
            )
        ]
        for company in self.env["res.company"].browse(company_ids):
            if not self._acquire_penalty_lock(company, mode):
                raise UserError(
                    _(
                        "The late-payment penalties of %(company)s are being "
                        "computed by another user or by the monthly job. Try again "
                        "in a moment.",
                        company=company.name,
                    )
                )

    @api.model
    def _acquire_penalty_lock(self, company, mode="try"):
        """Take the penalty lock of ``company`` for this transaction (see
        :meth:`_lock_penalties`); whether it was obtained."""
        if mode == "shared":
            function = SQL("pg_try_advisory_xact_lock_shared")
        elif mode == "wait":
            function = SQL("pg_advisory_xact_lock")
            [[previous, _timeout]] = self.env.execute_query(
                SQL(
                    "SELECT current_setting('lock_timeout'), "
                    "set_config('lock_timeout', '60s', true)"
                )
            )
        else:
            function = SQL("pg_try_advisory_xact_lock")
        [[locked]] = self.env.execute_query(
            SQL("SELECT %s(%s, %s)::text", function, PENALTY_LOCK_KEY, company.id)
        )
        if mode == "wait":
            self.env.execute_query(
                SQL("SELECT set_config('lock_timeout', %s, true)", previous)
            )
            return True
        return locked == "true"

    # ------------------------------------------------------------------ compute

    def _read_penalty_settlements(self, installments):
        """``{installment id: [(date, amount in invoice currency)]}`` in one query
        (record rules applied through ``_search``)."""
        query = self.env["account.partial.reconcile"]._search(
            [("debit_move_id", "in", [item.id for item in installments])]
        )
        table = query.table
        settlements = defaultdict(list)
        for item_id, day, amount in self.env.execute_query(
            query.select(
                SQL.identifier(table, "debit_move_id"),
                SQL.identifier(table, "max_date"),
                SQL.identifier(table, "debit_amount_currency"),
            )
        ):
            settlements[item_id].append((day, amount))
        return settlements

    def _read_penalty_consumed(self):
        """Periods and indemnities already invoiced or waived: kept as they are.

        Keyed on the invoice and the installment's due date, not on the journal
        item, which Odoo may recreate."""
        lines = self.env["credit.penalty.line"].search_fetch(
            [
                ("move_id", "in", self.ids),
                ("state", "!=", "draft"),
                ("kind", "in", COMPUTED_KINDS),
            ],
            ["move_id", "date_maturity", "kind", "date_from", "date_to"],
        )
        periods = defaultdict(list)
        indemnified = set()
        for line in lines:
            if line.kind == "indemnity":
                indemnified.add(line.move_id.id)
            else:
                periods[(line.move_id.id, line.date_maturity)].append(
                    (line.date_from, line.date_to)
                )
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

    def _read_penalty_installments(self, report=None):
        """The installments of these invoices, as :class:`PenaltyInstallment`
        tuples read in one query (record rules applied through ``_search``); one
        without a due date stops an interactive computation, and is left out (and
        reported) by a batch."""
        query = self.env["account.move.line"]._search(
            [("move_id", "in", self.ids), ("display_type", "=", "payment_term")],
            order="id",
        )
        installments = [
            PenaltyInstallment(*row)
            for row in self.env.execute_query(
                query.select(
                    *(
                        SQL.identifier(query.table, fname)
                        for fname in PenaltyInstallment._fields
                    )
                )
            )
        ]
        undated = self.browse(
            {item.move_id for item in installments if not item.date_maturity}
        )
        for move in undated:
            message = _(
                "The invoice %(move)s has no due date: set its due date or payment "
                "terms before computing penalties.",
                move=move.display_name,
            )
            if report is None:
                raise UserError(message)
            report.skipped[move] = message
        if not undated:
            return installments
        return [item for item in installments if item.move_id not in undated.ids]

    def _prepare_penalty_lines(self, as_of, report=None):
        """Values of every draft line to create; raises before anything is written,
        unless a batch ``report`` collects what could not be computed."""
        installments = self._read_penalty_installments(report)
        # One query per model for the whole set: the loops below read the cache.
        self.fetch(
            [
                "company_id",
                "commercial_partner_id",
                "formal_notice_received_date",
                "judgment_enforceable_date",
            ]
        )
        self.commercial_partner_id.fetch(["debtor_type", "collective_procedure"])
        settlements = self._read_penalty_settlements(installments)
        consumed, indemnified = self._read_penalty_consumed()
        rules = self._get_penalty_rules()
        end_dates = self._get_penalty_end_dates()
        table = self.env["credit.reference.rate"]._get_rate_table()
        by_move = defaultdict(list)
        for item in installments:
            by_move[item.move_id].append(item)
        vals_list = []
        for move_id, move_installments in by_move.items():
            move = self.browse(move_id).with_prefetch(self._prefetch_ids)
            args = (
                move_installments,
                min(as_of, end_dates.get(move.id, as_of)),
                rules[move.id],
                table,
                settlements,
                consumed,
                move.id in indemnified,
            )
            if report is None:
                try:
                    vals_list += move._prepare_penalty_lines_of_invoice(*args)
                except MissingRate as error:
                    raise UserError(self._missing_rate_message(error)) from None
            else:
                vals_list += move._prepare_penalty_lines_in_batch(args, report)
        return vals_list

    def _prepare_penalty_lines_in_batch(self, args, report):
        """The lines of one invoice in a batch: an invalid invoice is left out and
        reported, a missing half-year is skipped and reported. The computation
        writes nothing, so leaving one invoice out leaves nothing half-written."""
        missing = set()
        try:
            vals_list = self._prepare_penalty_lines_of_invoice(*args, missing)
        except Exception as error:  # noqa: BLE001 - one invoice, not the batch
            report.skipped[self] = _(
                "%(move)s: %(error)s", move=self.display_name, error=error
            )
            return []
        report.missing |= {(self.company_id, start) for _kind, start in missing}
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
        """First late day: the day after the due date for a professional (L441-10
        II, no reminder needed); for a consumer, see ``consumer_start``."""
        if debtor_type == "consumer":
            return consumer_start(
                installment.date_maturity, self.formal_notice_received_date
            )
        return installment.date_maturity + timedelta(days=1)

    def _prepare_penalty_lines_of_invoice(
        self,
        installments,
        as_of,
        rule,
        table,
        settlements,
        consumed,
        indemnified,
        missing=None,
    ):
        """Draft lines of one invoice: interest per installment, then its indemnity."""
        self.ensure_one()
        debtor_type = self.commercial_partner_id.debtor_type or "professional"
        regime = rule._engine_regime(
            debtor_type, judgment_uplift_start(self.judgment_enforceable_date)
        )
        vals_list = []
        any_late = False
        common = self._penalty_line_common_vals()
        min_amount = to_decimal(rule.min_amount)
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
                missing=missing,
            )
            segments = exclude_periods(
                segments,
                consumed.get((self.id, installment.date_maturity), []),
                rule.day_count,
            )
            vals_list += [
                self._prepare_penalty_line_vals(installment, segment, common)
                for segment in segments
                if segment.amount > 0 and segment.amount >= min_amount
            ]
        if rule.indemnity_enabled and not indemnified:
            vals_list += self._prepare_indemnity_line_vals(debtor_type, any_late)
        return vals_list

    @api.model
    def _is_installment_late_enough(self, installment, payments, as_of, rule):
        """Whether the installment was (or is) late by at least the rule's minimum."""
        principal = to_decimal(installment.amount_currency)
        paid_at = max((day for day, _amount in payments), default=None)
        settled = sum(to_decimal(amount) for _day, amount in payments)
        last_day = paid_at if paid_at and settled >= principal else as_of
        delay = (min(last_day, as_of) - installment.date_maturity).days
        return delay >= max(rule.min_days_late, 1)

    def _prepare_indemnity_line_vals(self, debtor_type, any_late):
        """The recovery indemnity of the invoice, as a list of zero or one values:
        40 EUR in the company's currency (the euro of a French company)."""
        amount = indemnity(
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
                "currency_id": self.company_id.currency_id.id,
            }
        ]

    def _prepare_penalty_line_vals(self, installment, segment, common=None):
        """Values of one interest line; ``common``: the values shared by the lines
        of the invoice (see :meth:`_penalty_line_common_vals`), given by callers
        that prepare many."""
        return {
            **(common or self._penalty_line_common_vals()),
            "move_line_id": installment.id,
            "date_maturity": installment.date_maturity,
            "kind": "interest",
            "date_from": segment.date_from,
            "date_to": segment.date_to,
            "days": segment.days,
            "base_amount": float(segment.base),
            "rate": float(segment.rate),
            "floor_applied": segment.floor_applied,
            "amount": float(segment.amount),
            "currency_id": installment.currency_id,
        }

    def _penalty_line_common_vals(self):
        return {
            "company_id": self.company_id.id,
            "move_id": self.id,
            "partner_id": self.commercial_partner_id.id,
            "state": "draft",
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
        # As superuser: the lines are locked for users, and whoever may cancel the
        # invoice (a Billing user too) must give its lines back.
        lines.sudo().write({"state": "draft", "penalty_move_id": False})

    def _get_penalty_mention(self):
        """L441-9 payment mentions printed on the invoice, from the applicable rule."""
        self.ensure_one()
        if self.move_type != "out_invoice" or self.is_penalty_invoice:
            return False
        rule = self._get_penalty_rules()[self.id]
        return rule._get_invoice_mention(
            self.commercial_partner_id.debtor_type, self.invoice_payment_term_id
        )

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
