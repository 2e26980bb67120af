from datetime import timedelta

from odoo import Command, api, fields, models
from odoo.osv.expression import AND
from odoo.tools import SQL

from ..engine.oversight import DSO_DAYS, NOT_DUE, bucket_keys, bucket_labels, dso
from .credit_court_request import OPEN_CASE_STATES
from .credit_receivable_snapshot import bucket_sums_sql

TOP_CUSTOMERS = 10
# Letters a user still has to act on: review (draft), send, print, or retry.
WAITING_LETTER_STATES = ("draft", "to_send", "to_print", "error")
FORM_VIEW = "l10n_fr_credit_collection.credit_overview_view_form"


class CreditOverview(models.Model):
    """What a credit manager opens first: one record per company, whose figures
    are refreshed each time it is opened (a few grouped queries), every figure
    opening the list of the records behind it.

    Amounts are the residuals of the posted receivable items, in company currency,
    aged by their due date (their date when they have none): unmatched payments
    and credit notes lower the bucket of their date, as in the aged balance, so
    that the buckets add up to the receivable balance."""

    _name = "credit.overview"
    _description = "Credit Collection Overview"
    _rec_name = "company_id"

    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, ondelete="cascade"
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    refreshed_at = fields.Datetime(string="Figures Of", readonly=True)
    amount_open = fields.Monetary(
        string="Total Open",
        readonly=True,
        help="Balance of the open posted receivable items.",
    )
    amount_overdue = fields.Monetary(
        string="Total Overdue",
        readonly=True,
        help="Part of the open balance past its due date.",
    )
    amount_not_due = fields.Monetary(string="Not Due", readonly=True)
    amount_b1 = fields.Monetary(string="Overdue Bucket 1", readonly=True)
    amount_b2 = fields.Monetary(string="Overdue Bucket 2", readonly=True)
    amount_b3 = fields.Monetary(string="Overdue Bucket 3", readonly=True)
    amount_b4 = fields.Monetary(string="Overdue Bucket 4", readonly=True)
    label_b1 = fields.Char(compute="_compute_bucket_labels")
    label_b2 = fields.Char(compute="_compute_bucket_labels")
    label_b3 = fields.Char(compute="_compute_bucket_labels")
    label_b4 = fields.Char(compute="_compute_bucket_labels")
    sales_amount = fields.Monetary(
        string="Sales (90 days)",
        readonly=True,
        help="Customer invoices less credit notes, taxes included, of the last 90 "
        "days.",
    )
    dso = fields.Float(
        string="DSO (days)",
        digits=(16, 1),
        readonly=True,
        help="Days sales outstanding: open balance / sales of the last 90 days x 90.",
    )
    overdue_customer_count = fields.Integer(string="Overdue Customers", readonly=True)
    letter_count = fields.Integer(
        string="Letters Waiting",
        readonly=True,
        help="Dunning letters to review, to send, to print or whose sending failed.",
    )
    hold_count = fields.Integer(
        string="Invoices on Hold",
        readonly=True,
        help="Unpaid posted customer invoices whose dunning is on hold.",
    )
    penalty_count = fields.Integer(string="Penalties to Invoice", readonly=True)
    penalty_amount = fields.Monetary(readonly=True)
    court_count = fields.Integer(
        string="Open Court Cases",
        readonly=True,
        help="Court requests in draft or filed.",
    )
    court_enabled = fields.Boolean(compute="_compute_court_enabled")
    line_ids = fields.One2many(
        "credit.overview.line", "overview_id", string="Most Overdue Customers"
    )
    cause_line_ids = fields.One2many(
        "credit.overview.cause", "overview_id", string="Overdue by Cause"
    )

    _sql_constraints = [
        (
            "company_uniq",
            "unique(company_id)",
            "A company has one overview.",
        )
    ]

    @api.depends("company_id")
    def _compute_display_name(self):
        for overview in self:
            overview.display_name = self.env._(
                "Overview: %(company)s", company=overview.company_id.name
            )

    def _compute_bucket_labels(self):
        for overview in self:
            labels = bucket_labels(overview.company_id._get_aging_limits())
            for key, label in labels.items():
                overview[f"label_{key}"] = self.env._("%(range)s days", range=label)

    def _compute_court_enabled(self):
        self.court_enabled = "credit.court.request" in self.env

    # ------------------------------------------------------------------ opening

    @api.model
    def action_open_overview(self):
        """The overview of the current company, refreshed (menu entry)."""
        self.check_access("read")
        company = self.env.company
        overview = self.search([("company_id", "=", company.id)], limit=1)
        if not overview:
            overview = self.sudo().create({"company_id": company.id}).sudo(False)
        overview._refresh()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Overview"),
            "res_model": self._name,
            "res_id": overview.id,
            "view_mode": "form",
            "views": [(self.env.ref(FORM_VIEW).id, "form")],
            "target": "current",
            "context": {"form_view_initial_mode": "readonly"},
        }

    def action_refresh(self):
        self._refresh()
        return True

    def _refresh(self):
        """Compute the figures with the user's rights, store them as superuser
        (users only read the overview)."""
        for overview in self:
            company = overview.company_id
            values = overview.with_company(company)._compute_figures()
            lines = values.pop("lines")
            cause_lines = values.pop("cause_lines", [])
            overview.sudo().write(
                {
                    **values,
                    "refreshed_at": fields.Datetime.now(),
                    "line_ids": [Command.clear()]
                    + [Command.create(line) for line in lines],
                    "cause_line_ids": [Command.clear()]
                    + [Command.create(line) for line in cause_lines],
                }
            )

    # ------------------------------------------------------------------ figures

    def _today(self):
        return fields.Date.context_today(self)

    def _compute_figures(self):
        """All the figures of the overview's company, in a few grouped queries."""
        self.ensure_one()
        # The raw SQL below reads residuals and partials: write what is pending.
        self.env.flush_all()
        company = self.company_id
        limits = company._get_aging_limits()
        today = self._today()
        currency = company.currency_id
        days = SQL(
            "(%s::date - COALESCE(account_move_line.date_maturity, "
            "account_move_line.date))",
            today,
        )
        residual = SQL("account_move_line.amount_residual")
        query = self.env["account.move.line"]._search(self._open_items_domain())
        row = self.env.execute_query(
            query.select(
                SQL("SUM(%s)", residual), bucket_sums_sql(days, residual, limits)
            )
        )[0]
        amount_open, *sums = (currency.round(value or 0.0) for value in row)
        buckets = dict(zip(bucket_keys(limits), sums, strict=True))
        amount_overdue = currency.round(
            sum(value for key, value in buckets.items() if key != NOT_DUE)
        )

        # The customers with the most overdue amount.
        query = self.env["account.move.line"]._search(
            AND([self._open_items_domain(), [("partner_id", "!=", False)]])
        )
        query.groupby = SQL("account_move_line.partner_id")
        overdue_sum = SQL("SUM(%s) FILTER (WHERE %s > 0)", residual, days)
        query.having = SQL("%s > 0", overdue_sum)
        ranked = self.env.execute_query(
            SQL(
                "SELECT partner_id, overdue, open, COUNT(*) OVER () FROM (%s) AS r "
                "ORDER BY overdue DESC, partner_id LIMIT %s",
                query.select(
                    SQL("account_move_line.partner_id AS partner_id"),
                    SQL("%s AS overdue", overdue_sum),
                    SQL("SUM(%s) AS open", residual),
                ),
                TOP_CUSTOMERS,
            )
        )
        lines = [
            {
                "sequence": rank,
                "partner_id": partner_id,
                "amount_overdue": currency.round(overdue),
                "amount_open": currency.round(open_amount),
            }
            for rank, (partner_id, overdue, open_amount, _count) in enumerate(
                ranked, start=1
            )
        ]

        sales = self.env["account.move"]._read_group(
            self._sales_domain(), aggregates=["amount_total_signed:sum"]
        )[0][0]
        sales = currency.round(sales or 0.0)
        ratio = dso(amount_open, sales)

        penalty_count, penalty_amount = self.env["credit.penalty.line"]._read_group(
            self._penalty_domain(), aggregates=["__count", "amount:sum"]
        )[0]
        court_count = 0
        if "credit.court.request" in self.env:
            court_count = self.env["credit.court.request"].search_count(
                self._court_domain()
            )
        return {
            "amount_open": amount_open,
            "amount_overdue": amount_overdue,
            "amount_not_due": buckets[NOT_DUE],
            "amount_b1": buckets["b1"],
            "amount_b2": buckets["b2"],
            "amount_b3": buckets["b3"],
            "amount_b4": buckets["b4"],
            "sales_amount": sales,
            "dso": float(ratio) if ratio is not None else 0.0,
            "overdue_customer_count": ranked[0][3] if ranked else 0,
            "letter_count": self.env["credit.dunning.letter"].search_count(
                self._letter_domain()
            ),
            "hold_count": self.env["account.move"].search_count(self._hold_domain()),
            "penalty_count": penalty_count,
            "penalty_amount": currency.round(penalty_amount or 0.0),
            "court_count": court_count,
            "lines": lines,
            "cause_lines": self._compute_cause_lines(),
        }

    def _compute_cause_lines(self):
        """The overdue amount of each cause of late payment (the cause recorded on
        the items' document; no cause for the rest), in one grouped query: the
        lines add up to the total overdue."""
        currency = self.company_id.currency_id
        query = self.env["account.move.line"]._search(self._bucket_domain("overdue"))
        rows = self.env.execute_query(
            SQL(
                "SELECT move.late_cause_id, SUM(line.amount_residual), COUNT(*)"
                "  FROM account_move_line line"
                "  JOIN account_move move ON move.id = line.move_id"
                " WHERE line.id IN %s"
                " GROUP BY move.late_cause_id",
                query.subselect(),
            )
        )
        causes = self.env["credit.late.cause"].sudo().with_context(active_test=False)
        causes.browse([row[0] for row in rows if row[0]]).fetch(["sequence", "name"])
        lines = [
            {
                "late_cause_id": cause_id,
                "amount_overdue": currency.round(amount or 0.0),
                "item_count": count,
            }
            for cause_id, amount, count in rows
        ]
        # The causes in their order, then the items without a cause.
        lines.sort(
            key=lambda line: (
                not line["late_cause_id"],
                causes.browse(line["late_cause_id"]).sequence,
                line["late_cause_id"] or 0,
            )
        )
        return lines

    # ------------------------------------------------------------------ domains

    def _company_domain(self):
        return [("company_id", "=", self.company_id.id)]

    def _open_items_domain(self):
        """Open posted receivable items of the company."""
        return AND(
            [
                self._company_domain(),
                [
                    ("parent_state", "=", "posted"),
                    ("account_type", "=", "asset_receivable"),
                    ("reconciled", "=", False),
                ],
            ]
        )

    @staticmethod
    def _due_between_domain(first=None, last=None):
        """Items whose due date (their date when they have none) lies between
        ``first`` and ``last`` (both included, either open-ended)."""

        def between(fname):
            domain = []
            if first:
                domain.append((fname, ">=", first))
            if last:
                domain.append((fname, "<=", last))
            return domain

        return [
            "|",
            *AND([[("date_maturity", "!=", False)], between("date_maturity")]),
            *AND([[("date_maturity", "=", False)], between("date")]),
        ]

    def _bucket_domain(self, key):
        """Open items of one ageing bucket today (``not_due``, ``b1`` ...)."""
        today = self._today()
        limits = self.company_id._get_aging_limits()
        if key == NOT_DUE:
            due = self._due_between_domain(first=today)
        elif key == "overdue":
            due = self._due_between_domain(last=today - timedelta(days=1))
        else:
            index = int(key[1:])
            low = limits[index - 2] + 1 if index > 1 else 1
            high = limits[index - 1] if index <= len(limits) else None
            due = self._due_between_domain(
                first=today - timedelta(days=high) if high else None,
                last=today - timedelta(days=low),
            )
        return AND([self._open_items_domain(), due])

    def _sales_domain(self):
        today = self._today()
        return AND(
            [
                self._company_domain(),
                [
                    ("state", "=", "posted"),
                    ("move_type", "in", ("out_invoice", "out_refund")),
                    ("date", ">", today - timedelta(days=DSO_DAYS)),
                    ("date", "<=", today),
                ],
            ]
        )

    def _letter_domain(self):
        return AND([self._company_domain(), [("state", "in", WAITING_LETTER_STATES)]])

    def _hold_domain(self):
        return AND(
            [
                self._company_domain(),
                [
                    ("dunning_hold", "=", True),
                    ("state", "=", "posted"),
                    ("move_type", "in", ("out_invoice", "out_refund")),
                    ("payment_state", "in", ("not_paid", "partial")),
                ],
            ]
        )

    def _penalty_domain(self):
        return AND([self._company_domain(), [("state", "=", "draft")]])

    def _court_domain(self):
        return AND(
            [self._company_domain(), [("state", "in", ("draft", *OPEN_CASE_STATES))]]
        )

    # ------------------------------------------------------------------ actions

    def _list_action(self, xml_id, name, domain, context=None):
        action = self.env["ir.actions.act_window"]._for_xml_id(xml_id)
        action.update(
            name=name,
            domain=domain,
            context={"create": False, **(context or {})},
        )
        action.pop("id", None)
        return action

    def _items_action(self, name, domain, group_by_partner=True):
        context = {"search_default_group_by_partner": 1} if group_by_partner else {}
        return self._list_action(
            "account.action_account_moves_all", name, domain, context
        )

    def action_open_open_items(self):
        self.ensure_one()
        return self._items_action(
            self.env._("Open Receivables"), self._open_items_domain()
        )

    def action_open_overdue_items(self):
        self.ensure_one()
        return self._items_action(
            self.env._("Overdue Receivables"), self._bucket_domain("overdue")
        )

    def _open_bucket(self, key, label):
        self.ensure_one()
        return self._items_action(label, self._bucket_domain(key))

    def action_open_not_due(self):
        return self._open_bucket(NOT_DUE, self.env._("Receivables Not Due"))

    def action_open_b1(self):
        return self._open_bucket(
            "b1", self.env._("Overdue %(range)s", range=self.label_b1)
        )

    def action_open_b2(self):
        return self._open_bucket(
            "b2", self.env._("Overdue %(range)s", range=self.label_b2)
        )

    def action_open_b3(self):
        return self._open_bucket(
            "b3", self.env._("Overdue %(range)s", range=self.label_b3)
        )

    def action_open_b4(self):
        return self._open_bucket(
            "b4", self.env._("Overdue %(range)s", range=self.label_b4)
        )

    def action_open_sales(self):
        """The sales behind the DSO."""
        self.ensure_one()
        action = self._list_action(
            "account.action_move_out_invoice_type",
            self.env._("Sales of the Last 90 Days"),
            self._sales_domain(),
        )
        action["context"].pop("search_default_out_invoice", None)
        return action

    def action_open_overdue_customers(self):
        self.ensure_one()
        return self._list_action(
            "l10n_fr_credit_collection.action_credit_overdue_customers",
            self.env._("Overdue Customers"),
            [("dunning_overdue_amount", ">", 0)],
            {"res_partner_search_mode": "customer"},
        )

    def action_open_letters(self):
        self.ensure_one()
        return self._list_action(
            "l10n_fr_credit_collection.action_credit_dunning_letter",
            self.env._("Letters Waiting"),
            self._letter_domain(),
            {"search_default_group_state": 1},
        )

    def action_open_holds(self):
        self.ensure_one()
        action = self._list_action(
            "account.action_move_out_invoice_type",
            self.env._("Invoices on Hold"),
            self._hold_domain(),
        )
        return action

    def action_open_penalties(self):
        self.ensure_one()
        return self._list_action(
            "l10n_fr_credit_collection.action_credit_penalty_line",
            self.env._("Penalties to Invoice"),
            self._penalty_domain(),
            {"search_default_group_partner": 1},
        )

    def action_open_court_cases(self):
        self.ensure_one()
        return self._list_action(
            "l10n_fr_credit_collection.action_credit_court_request",
            self.env._("Open Court Cases"),
            self._court_domain(),
        )

    def action_open_trend(self):
        return self.env["credit.receivable.snapshot"].action_open_trend()

    def action_open_snapshots(self):
        return self.env["credit.receivable.snapshot"].action_open_snapshots()

    def action_rebuild_trend(self):
        return self.env["credit.receivable.snapshot"].action_rebuild_trend()


class CreditOverviewCause(models.Model):
    """The overdue amount of one cause of late payment, on the overview."""

    _name = "credit.overview.cause"
    _description = "Credit Collection Overview: Overdue by Cause"
    _order = "overview_id, id"

    overview_id = fields.Many2one(
        "credit.overview", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="overview_id.company_id", store=True)
    currency_id = fields.Many2one(related="overview_id.currency_id")
    late_cause_id = fields.Many2one(
        "credit.late.cause", string="Cause of Late Payment", readonly=True
    )
    late_cause_kind = fields.Selection(related="late_cause_id.kind")
    name = fields.Char(string="Cause", compute="_compute_name")
    amount_overdue = fields.Monetary(string="Overdue", readonly=True)
    item_count = fields.Integer(string="Items", readonly=True)

    @api.depends("late_cause_id")
    def _compute_name(self):
        for line in self:
            line.name = (
                line.late_cause_id.sudo().name
                if line.late_cause_id
                else self.env._("No Cause Recorded")
            )

    def action_open_items(self):
        """The overdue items of this cause."""
        self.ensure_one()
        overview = self.overview_id
        return overview._items_action(
            self.env._("Overdue Receivables: %(cause)s", cause=self.name),
            AND(
                [
                    overview._bucket_domain("overdue"),
                    [("move_id.late_cause_id", "=", self.late_cause_id.id)],
                ]
            ),
        )


class CreditOverviewLine(models.Model):
    """One of the customers with the most overdue amount, on the overview."""

    _name = "credit.overview.line"
    _description = "Credit Collection Overview: Most Overdue Customer"
    _order = "overview_id, sequence"

    overview_id = fields.Many2one(
        "credit.overview", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="overview_id.company_id", store=True)
    currency_id = fields.Many2one(related="overview_id.currency_id")
    sequence = fields.Integer(string="Rank")
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    amount_overdue = fields.Monetary(string="Overdue", readonly=True)
    amount_open = fields.Monetary(string="Open", readonly=True)

    def action_open_items(self):
        """The customer's overdue items."""
        self.ensure_one()
        overview = self.overview_id
        return overview._items_action(
            self.env._(
                "Overdue Receivables of %(customer)s",
                customer=self.partner_id.display_name,
            ),
            AND(
                [
                    overview._bucket_domain("overdue"),
                    [("partner_id", "=", self.partner_id.id)],
                ]
            ),
            group_by_partner=False,
        )
