import logging
from contextlib import contextmanager
from datetime import timedelta

from odoo import api, fields, models, tools
from odoo.tools import SQL

from ..engine.oversight import DSO_DAYS, NOT_DUE, bucket_keys, dso, month_ends

_logger = logging.getLogger(__name__)

TREND_MONTHS = 12


def bucket_sums_sql(days, amount, limits):
    """``SUM(amount) FILTER (...)`` columns, one per ageing bucket in the order of
    ``bucket_keys(limits)``; ``days`` is the SQL of the days late of the item (0 or
    less: not due). Shared by the overview (today) and the trend (month ends)."""
    columns = [SQL("SUM(%s) FILTER (WHERE %s <= 0)", amount, days)]
    low = 0
    for limit in limits:
        columns.append(
            SQL(
                "SUM(%s) FILTER (WHERE %s > %s AND %s <= %s)",
                amount,
                days,
                low,
                days,
                limit,
            )
        )
        low = limit
    columns.append(SQL("SUM(%s) FILTER (WHERE %s > %s)", amount, days, low))
    return SQL(", ").join(columns)


class CreditReceivableSnapshot(models.Model):
    """The receivables of a company at a month end, so that the manager sees over
    the months whether collection gets better. Taken by a monthly job and rebuilt
    from the accounting (on install, or on demand) for the last 12 month ends."""

    _name = "credit.receivable.snapshot"
    _description = "Receivables Month-End Snapshot"
    _order = "company_id, date desc"
    _rec_name = "date"

    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(string="Month End", required=True)
    amount_open = fields.Monetary(
        string="Open",
        currency_field="currency_id",
        help="Balance of the posted receivable items on the month end: payments "
        "made after it do not count.",
    )
    amount_overdue = fields.Monetary(
        string="Overdue",
        currency_field="currency_id",
        help="Part of the open balance past its due date on the month end.",
    )
    amount_not_due = fields.Monetary(string="Not Due", currency_field="currency_id")
    amount_b1 = fields.Monetary(string="Overdue Bucket 1", currency_field="currency_id")
    amount_b2 = fields.Monetary(string="Overdue Bucket 2", currency_field="currency_id")
    amount_b3 = fields.Monetary(string="Overdue Bucket 3", currency_field="currency_id")
    amount_b4 = fields.Monetary(string="Overdue Bucket 4", currency_field="currency_id")
    aging_limits = fields.Char(
        string="Bucket Limits (days)",
        help="Upper limits of the overdue buckets, in days late, when the snapshot "
        "was taken.",
    )
    sales_amount = fields.Monetary(
        string="Sales (90 days)",
        currency_field="currency_id",
        help="Customer invoices less credit notes, taxes included, of the 90 days "
        "up to the month end.",
    )
    dso = fields.Float(
        string="DSO (days)",
        digits=(16, 1),
        aggregator="avg",
        help="Days sales outstanding: open balance / sales of the last 90 days x 90.",
    )

    _sql_constraints = [
        (
            "company_date_uniq",
            "unique(company_id, date)",
            "A company has one snapshot per month end.",
        )
    ]

    # ------------------------------------------------------------------ computation

    @api.model
    def _receivable_items_query(self, company, last):
        """Posted receivable items of the company dated on or before ``last``."""
        return self.env["account.move.line"]._search(
            [
                ("company_id", "=", company.id),
                ("parent_state", "=", "posted"),
                ("account_type", "=", "asset_receivable"),
                ("date", "<=", last),
            ]
        )

    @api.model
    def _compute_month_ends(self, company, dates):
        """``{date: values}`` of the company as of each date, in one query.

        The open amount of an item as of D is its balance less the partial
        reconciliations dated (``max_date``) on or before D: a payment made after D
        does not count. Each item and each partial counts with the due date of its
        receivable item (its date when it has none), so that the buckets of D add
        up to the open balance of D. Items fully reconciled before the first date
        count nothing on any date and are left out."""
        dates = sorted(set(dates))
        if not dates:
            return {}
        limits = company._get_aging_limits()
        first, last = dates[0], dates[-1]
        items = self._receivable_items_query(company, last)
        # A reconciled item whose every partial is older than the first date.
        items.add_where(
            SQL(
                """(NOT account_move_line.reconciled
                    OR EXISTS (SELECT 1 FROM account_partial_reconcile p
                                WHERE p.debit_move_id = account_move_line.id
                                  AND p.max_date >= %(first)s)
                    OR EXISTS (SELECT 1 FROM account_partial_reconcile p
                                WHERE p.credit_move_id = account_move_line.id
                                  AND p.max_date >= %(first)s))""",
                first=first,
            )
        )
        item_rows = items.select(
            "account_move_line.id",
            "account_move_line.date",
            "account_move_line.balance",
            "account_move_line.move_id",
            SQL(
                "COALESCE(account_move_line.date_maturity, account_move_line.date) "
                "AS due"
            ),
        )
        sales = self.env["account.move.line"]._search(
            [
                ("company_id", "=", company.id),
                ("parent_state", "=", "posted"),
                ("account_type", "=", "asset_receivable"),
                ("move_id.move_type", "in", ("out_invoice", "out_refund")),
                ("date", "<=", last),
                ("date", ">", first - timedelta(days=DSO_DAYS)),
            ]
        )
        ends = SQL(", ").join(SQL("(%s::date)", day) for day in dates)
        query = SQL(
            """
            WITH ends(d) AS (VALUES %(ends)s),
                 items AS (%(items)s),
                 contributions AS (
                    SELECT i.date AS on_date, i.due, i.balance AS amount FROM items i
                    UNION ALL
                    SELECT p.max_date, i.due, -p.amount
                      FROM account_partial_reconcile p
                      JOIN items i ON i.id = p.debit_move_id
                     WHERE p.max_date <= %(last)s
                    UNION ALL
                    SELECT p.max_date, i.due, p.amount
                      FROM account_partial_reconcile p
                      JOIN items i ON i.id = p.credit_move_id
                     WHERE p.max_date <= %(last)s
                 ),
                 sales_items AS (%(sales)s),
                 sales AS (
                    SELECT e.d, SUM(s.balance) AS amount
                      FROM ends e
                      JOIN sales_items s
                        ON s.date <= e.d AND s.date > e.d - %(window)s
                     GROUP BY e.d
                 ),
                 aged AS (
                    SELECT e.d, SUM(c.amount) AS amount_open, %(buckets)s
                      FROM ends e
                      JOIN contributions c ON c.on_date <= e.d
                     GROUP BY e.d
                 )
            SELECT e.d, s.amount, a.*
              FROM ends e
              LEFT JOIN aged a ON a.d = e.d
              LEFT JOIN sales s ON s.d = e.d
            """,
            ends=ends,
            items=item_rows,
            sales=sales.select("account_move_line.date", "account_move_line.balance"),
            last=last,
            window=DSO_DAYS,
            buckets=bucket_sums_sql(SQL("(e.d - c.due)"), SQL("c.amount"), limits),
        )
        keys = bucket_keys(limits)
        currency = company.currency_id
        result = {}
        with self._without_jit():
            rows = self.env.execute_query(query)
        for row in rows:
            # d, sales, then aged: d, amount_open, one sum per bucket
            day, sales_amount, _day, amount_open, *sums = row
            buckets = {
                key: currency.round(value or 0.0)
                for key, value in zip(keys, sums, strict=True)
            }
            amount_open = currency.round(amount_open or 0.0)
            sales_amount = currency.round(sales_amount or 0.0)
            ratio = dso(amount_open, sales_amount)
            result[day] = {
                "amount_open": amount_open,
                "buckets": buckets,
                "amount_overdue": currency.round(
                    sum(value for key, value in buckets.items() if key != NOT_DUE)
                ),
                "sales_amount": sales_amount,
                "dso": float(ratio) if ratio is not None else 0.0,
            }
        return result

    @contextmanager
    def _without_jit(self):
        """Run a query without PostgreSQL's JIT compilation. The row estimates of
        the as-of query are far above the real counts and cross
        ``jit_above_cost``: compiling then costs several times the query itself
        (3.3 s instead of 0.6 s on 20,000 documents). Restored afterwards, for
        this transaction only."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL("SELECT current_setting('jit'), set_config('jit', 'off', true)")
        )
        previous = self.env.cr.fetchone()[0]
        try:
            yield
        finally:
            self.env.cr.execute(SQL("SELECT set_config('jit', %s, true)", previous))

    # ------------------------------------------------------------------ storing

    @api.model
    def _prepare_snapshot_vals(self, company, day, values):
        buckets = values["buckets"]
        return {
            "company_id": company.id,
            "date": day,
            "amount_open": values["amount_open"],
            "amount_overdue": values["amount_overdue"],
            "amount_not_due": buckets[NOT_DUE],
            "amount_b1": buckets["b1"],
            "amount_b2": buckets["b2"],
            "amount_b3": buckets["b3"],
            "amount_b4": buckets["b4"],
            "aging_limits": ", ".join(
                str(limit) for limit in company._get_aging_limits()
            ),
            "sales_amount": values["sales_amount"],
            "dso": values["dso"],
        }

    @api.model
    def _take_snapshots(self, company, dates):
        """Store the snapshots of the company at these month ends, replacing the
        ones already stored for them: a rerun gives the same rows, never twice."""
        figures = self._compute_month_ends(company, dates)
        self.search(
            [("company_id", "=", company.id), ("date", "in", list(figures))]
        ).unlink()
        return self.create(
            [
                self._prepare_snapshot_vals(company, day, values)
                for day, values in sorted(figures.items())
            ]
        )

    @api.model
    def _last_month_end(self, today=None):
        """The last month end before ``today``: the month of today is not over."""
        today = today or fields.Date.context_today(self)
        return today.replace(day=1) - timedelta(days=1)

    @api.model
    def _snapshot_companies(self, companies, dates, failure_summary):
        """Snapshots of each company at these dates. One company's failure never
        stops the others: it is rolled back, logged, and the managers are told once.
        Scheduled job and install only: it runs as superuser, every company."""
        self = self.sudo()
        snapshots = self.browse()
        for company in companies:
            try:
                with self.env.cr.savepoint():
                    snapshots |= self._take_snapshots(company, dates)
            except Exception as error:  # noqa: BLE001 - one company, not the job
                _logger.warning(
                    "Receivables snapshot of %s not taken: %s", company.name, error
                )
                company._notify_credit_job_failure(failure_summary, str(error))
        return snapshots

    @api.model
    def _cron_take_snapshot(self):
        """Monthly, early in the month: the snapshot of the month just ended, for
        every company (a rerun replaces it)."""
        companies = self.env["res.company"].search([])
        return self._snapshot_companies(
            companies,
            [self._last_month_end()],
            self.env._("Receivables snapshot not taken"),
        )

    @api.model
    def _rebuild_trend(self, companies=None):
        """The last 12 month ends of each company, rebuilt from the accounting."""
        companies = companies if companies is not None else self.env.company
        dates = month_ends(self._last_month_end(), TREND_MONTHS)
        return self._snapshot_companies(
            companies, dates, self.env._("Receivables trend not rebuilt")
        )

    @api.model
    def action_rebuild_trend(self):
        """Manager button: rebuild the trend of the current company (an error is
        shown to the manager and nothing is replaced)."""
        self.check_access("create")
        self.check_access("unlink")
        company = self.env.company
        self._take_snapshots(company, month_ends(self._last_month_end(), TREND_MONTHS))
        return self.action_open_trend()

    @api.model
    def action_open_trend(self):
        """The trend graph of the current company."""
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "l10n_fr_credit_collection.action_credit_receivable_trend"
        )
        action["domain"] = [("company_id", "=", self.env.company.id)]
        return action

    @api.model
    def action_open_snapshots(self):
        """The month-end figures of the current company."""
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "l10n_fr_credit_collection.action_credit_receivable_snapshot"
        )
        action["domain"] = [("company_id", "=", self.env.company.id)]
        return action


class CreditReceivableTrend(models.Model):
    """The snapshots unpivoted, one row per figure, so that one line chart shows
    the open and the overdue amounts (or the buckets) month after month."""

    _name = "credit.receivable.trend"
    _description = "Receivables Trend"
    _auto = False
    _order = "date, series"
    _rec_name = "date"

    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    date = fields.Date(string="Month End", readonly=True)
    kind = fields.Selection(
        [("total", "Open and Overdue"), ("bucket", "By Bucket")], readonly=True
    )
    series = fields.Selection(
        [
            ("1_open", "Open"),
            ("2_overdue", "Overdue"),
            ("3_not_due", "Not Due"),
            ("4_b1", "Overdue Bucket 1"),
            ("5_b2", "Overdue Bucket 2"),
            ("6_b3", "Overdue Bucket 3"),
            ("7_b4", "Overdue Bucket 4"),
        ],
        string="Figure",
        readonly=True,
    )
    amount = fields.Monetary(readonly=True, currency_field="currency_id")

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
                CREATE VIEW %(view)s AS
                SELECT s.id * 10 + v.rank AS id, s.company_id, c.currency_id,
                       s.date, v.kind, v.series, v.amount
                  FROM credit_receivable_snapshot s
                  JOIN res_company c ON c.id = s.company_id
                 CROSS JOIN LATERAL (VALUES
                       (1, 'total', '1_open', s.amount_open),
                       (2, 'total', '2_overdue', s.amount_overdue),
                       (3, 'bucket', '3_not_due', s.amount_not_due),
                       (4, 'bucket', '4_b1', s.amount_b1),
                       (5, 'bucket', '5_b2', s.amount_b2),
                       (6, 'bucket', '6_b3', s.amount_b3),
                       (7, 'bucket', '7_b4', s.amount_b4)
                 ) AS v(rank, kind, series, amount)
                """,
                view=SQL.identifier(self._table),
            )
        )
