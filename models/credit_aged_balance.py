import base64
import io

import xlsxwriter
from xlsxwriter.utility import xl_range

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools.misc import format_date

from ..engine.oversight import NOT_DUE, bucket_keys, bucket_labels
from .credit_xlsx import xlsx_download_action

# The amount fields of a line, in bucket order (engine keys not_due, b1 … b4).
BUCKET_FIELDS = {
    "not_due": "amount_not_due",
    "b1": "amount_b1",
    "b2": "amount_b2",
    "b3": "amount_b3",
    "b4": "amount_b4",
}


class CreditAgedBalanceWizard(models.TransientModel):
    """The aged balance (balance âgée) of the receivables of the current company as
    of a date.

    The date looks back: an item counts when it is dated on or before it, and its
    open amount is its balance less the reconciliations (account.partial.reconcile)
    whose later side (``max_date``) is dated on or before it, so a payment made
    after the date does not count. Both sides are treated alike: an unmatched
    payment or credit note appears as a negative open amount, and the total of the
    aged balance equals the balance of the receivable accounts on that date.
    """

    _name = "credit.aged.balance.wizard"
    _description = "Aged Balance"

    date = fields.Date(string="As of", required=True, default=fields.Date.context_today)
    currency_id = fields.Many2one(
        "res.currency",
        string="Currency",
        help="Only the items in this currency; the amounts stay in the company "
        "currency.",
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        readonly=True,
        default=lambda self: self.env.company,
    )
    company_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company Currency"
    )
    buckets_label = fields.Char(string="Buckets", compute="_compute_buckets_label")
    line_ids = fields.One2many("credit.aged.balance.line", "wizard_id", string="Lines")
    xlsx_file = fields.Binary(string="XLSX File", readonly=True, attachment=False)
    xlsx_name = fields.Char(string="XLSX File Name")

    @api.depends("company_id")
    def _compute_buckets_label(self):
        Line = self.env["credit.aged.balance.line"]
        for wizard in self:
            labels = Line._bucket_labels(wizard.company_id or self.env.company)
            labels.pop("total")
            wizard.buckets_label = ", ".join(labels.values())

    # ----------------------------------------------------------------- compute

    def _check_date(self):
        today = fields.Date.context_today(self)
        for wizard in self:
            if wizard.date > today:
                raise UserError(
                    self.env._(
                        "The aged balance as of %(date)s cannot be in the future: "
                        "choose a date on or before today.",
                        date=wizard.date,
                    )
                )

    def _get_item_domain(self):
        """The receivable journal items counted on the date (whatever their
        reconciliation: it is read as of the date in the query)."""
        self.ensure_one()
        # The accounts by id: the index on (account_id, date) then serves.
        accounts = (
            self.env["account.account"]
            .with_company(self.company_id)
            .search(
                [
                    *self.env["account.account"]._check_company_domain(self.company_id),
                    ("account_type", "=", "asset_receivable"),
                ]
            )
        )
        domain = [
            ("company_id", "=", self.company_id.id),
            ("account_id", "in", accounts.ids),
            ("parent_state", "=", "posted"),
            ("date", "<=", self.date),
        ]
        if self.currency_id:
            domain.append(("currency_id", "=", self.currency_id.id))
        return domain

    @api.model
    def _bucket_sql(self, due_date, as_of, limits):
        """SQL CASE giving the index of the bucket (0: not due, 1 … len(limits)+1)
        of an item due on ``due_date`` (SQL) open on ``as_of``; the same rule as
        ``engine.oversight.aging_bucket``."""
        late = SQL("(%s::date - %s)", as_of, due_date)
        whens = [SQL("WHEN %s <= 0 THEN 0", late)]
        whens += [
            SQL("WHEN %s <= %s THEN %s", late, limit, index)
            for index, limit in enumerate(limits, start=1)
        ]
        return SQL("CASE %s ELSE %s END", SQL(" ").join(whens), len(limits) + 1)

    def _get_items_sql(self):
        """SELECT of the receivable items dated on or before the date: id, grouping
        keys, balance and bucket index, one row per journal item."""
        self.ensure_one()
        query = self.env["account.move.line"]._search(self._get_item_domain())
        query.order = None
        move = query.join("account_move_line", "move_id", "account_move", "id", "move")
        partner = query.left_join(
            "account_move_line", "partner_id", "res_partner", "id", "partner"
        )
        commercial = query.left_join(
            partner, "commercial_partner_id", "res_partner", "id", "commercial"
        )
        due_date = SQL(
            "COALESCE(account_move_line.date_maturity, account_move_line.date)"
        )
        return query.select(
            SQL(
                """account_move_line.id AS id,
                   COALESCE(%(partner)s, account_move_line.partner_id) AS partner_id,
                   COALESCE(%(salesperson)s, %(partner_user)s) AS user_id,
                   account_move_line.dunning_level_id AS dunning_level_id,
                   account_move_line.currency_id AS currency_id,
                   %(contract)s AS factoring_contract_id,
                   account_move_line.balance AS balance,
                   %(bucket)s AS bucket""",
                partner=SQL.identifier(partner, "commercial_partner_id"),
                salesperson=SQL.identifier(move, "invoice_user_id"),
                partner_user=SQL.identifier(commercial, "user_id"),
                contract=SQL.identifier(move, "factoring_contract_id"),
                bucket=self._bucket_sql(
                    due_date, self.date, self.company_id._get_aging_limits()
                ),
            )
        )

    def _compute_lines(self):
        """Replace the lines of the wizard by the aged balance: one grouped query,
        inserted in bulk (INSERT … SELECT), whatever the number of items.

        The open amount of an item on the date is its balance less the
        reconciliations dated on or before it: on the debit side they lower a
        receivable, on the credit side they lower a payment or a credit note."""
        self._check_date()
        self.env.flush_all()
        sums = SQL(", ").join(
            SQL("COALESCE(SUM(open.amount) FILTER (WHERE open.bucket = %s), 0)", index)
            for index in range(len(BUCKET_FIELDS))
        )
        for wizard in self:
            self.env.execute_query(
                SQL(
                    "DELETE FROM credit_aged_balance_line WHERE wizard_id = %s",
                    wizard.id,
                )
            )
            self.env.execute_query(
                SQL(
                    """
                    WITH items AS MATERIALIZED (%(items)s),
                    settled AS (
                        SELECT line_id, SUM(amount) AS amount
                          FROM (SELECT p.debit_move_id AS line_id, p.amount
                                  FROM account_partial_reconcile p
                                  JOIN items ON items.id = p.debit_move_id
                                 WHERE p.max_date <= %(as_of)s
                                 UNION ALL
                                SELECT p.credit_move_id, -p.amount
                                  FROM account_partial_reconcile p
                                  JOIN items ON items.id = p.credit_move_id
                                 WHERE p.max_date <= %(as_of)s) sides
                      GROUP BY line_id
                    ),
                    open AS (
                        SELECT items.*,
                               items.balance - COALESCE(settled.amount, 0) AS amount
                          FROM items
                     LEFT JOIN settled ON settled.line_id = items.id
                    )
                    INSERT INTO credit_aged_balance_line (
                        wizard_id, company_id, partner_id, user_id,
                        dunning_level_id, currency_id, factoring_contract_id,
                        factored, amount_not_due, amount_b1,
                        amount_b2, amount_b3, amount_b4, amount_total,
                        create_uid, create_date, write_uid, write_date)
                    SELECT %(wizard)s, %(company)s, open.partner_id, open.user_id,
                           open.dunning_level_id, open.currency_id,
                           open.factoring_contract_id,
                           open.factoring_contract_id IS NOT NULL, %(sums)s,
                           SUM(open.amount),
                           %(uid)s, now() AT TIME ZONE 'UTC',
                           %(uid)s, now() AT TIME ZONE 'UTC'
                      FROM open
                     WHERE open.amount != 0
                  GROUP BY open.partner_id, open.user_id, open.dunning_level_id,
                           open.currency_id, open.factoring_contract_id
                    """,
                    items=wizard._get_items_sql(),
                    as_of=wizard.date,
                    wizard=wizard.id,
                    company=wizard.company_id.id,
                    sums=sums,
                    uid=self.env.uid,
                )
            )
        self.env["credit.aged.balance.line"].invalidate_model()
        self.invalidate_recordset(["line_ids"])

    # ----------------------------------------------------------------- actions

    def action_show(self):
        """The aged balance as a list and a pivot, grouped by customer."""
        self.ensure_one()
        self._compute_lines()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "l10n_fr_credit_collection.action_credit_aged_balance_line"
        )
        action["name"] = action["display_name"] = self.env._(
            "Aged Balance as of %(date)s", date=format_date(self.env, self.date)
        )
        action["domain"] = [("wizard_id", "=", self.id)]
        return action

    def action_export_xlsx(self):
        self.ensure_one()
        self._compute_lines()
        self.write(
            {
                "xlsx_file": base64.b64encode(self._get_xlsx()),
                "xlsx_name": self.env._(
                    "Aged balance %(company)s %(date)s.xlsx",
                    company=self.company_id.name,
                    date=self.date,
                ),
            }
        )
        return xlsx_download_action(self)

    # -------------------------------------------------------------------- xlsx

    def _get_xlsx_data(self):
        """The rows of the XLSX, one per customer, from the computed lines: the
        factored items of a customer apart, on their own row after the others."""
        self.ensure_one()
        fnames = [*BUCKET_FIELDS.values(), "amount_total"]
        groups = self.env["credit.aged.balance.line"]._read_group(
            [("wizard_id", "=", self.id)],
            ["partner_id", "factored"],
            [f"{fname}:sum" for fname in fnames],
        )
        # The customers' names in one query (the ORM reads 1,000 partners a query).
        self.env["res.partner"].flush_model(["complete_name"])
        names = dict(
            self.env.execute_query(
                SQL(
                    "SELECT id, complete_name FROM res_partner WHERE id = ANY(%s)",
                    list({partner.id for partner, *_rest in groups if partner}),
                )
            )
        )
        rows = []
        for partner, factored, *sums in groups:
            name = (
                names.get(partner.id) or partner.display_name
                if partner
                else self.env._("(no customer)")
            )
            rows.append(
                {
                    "partner": self.env._("%(customer)s (factored)", customer=name)
                    if factored
                    else name,
                    "factored": factored,
                    **dict(zip(fnames, sums, strict=True)),
                }
            )
        rows.sort(key=lambda row: (row["factored"], row["partner"].lower()))
        return {
            "company": self.company_id,
            "as_of": self.date,
            "currency": self.currency_id,
            "labels": self.line_ids._bucket_labels(self.company_id),
            "rows": rows,
        }

    def _get_xlsx(self):
        """The aged balance as an XLSX workbook (bytes): one sheet, a header block,
        a frozen header row, one row per customer and a totals row."""
        _ = self.env._
        data = self._get_xlsx_data()
        company = data["company"]
        buffer = io.BytesIO()
        workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
        sheet = workbook.add_worksheet(_("Aged Balance")[:31])
        places = company.currency_id.decimal_places
        money_format = "#,##0" + ("." + "0" * places if places else "")
        styles = {
            "title": workbook.add_format({"bold": True, "font_size": 14}),
            "bold": workbook.add_format({"bold": True}),
            "date": workbook.add_format({"num_format": "dd/mm/yyyy"}),
            "head": workbook.add_format({"bold": True, "bottom": 1}),
            "head_num": workbook.add_format(
                {"bold": True, "bottom": 1, "align": "right"}
            ),
            "money": workbook.add_format({"num_format": money_format}),
            "total": workbook.add_format(
                {"bold": True, "top": 1, "num_format": money_format}
            ),
            "total_label": workbook.add_format({"bold": True, "top": 1}),
        }
        sheet.write(0, 0, _("Aged Balance"), styles["title"])
        currency = (
            data["currency"].name
            if data["currency"]
            else _("All, in %(currency)s", currency=company.currency_id.name)
        )
        info = [
            (_("Company"), company.name),
            (_("VAT"), company.vat or ""),
            (_("Currency"), currency),
            (_("Buckets"), ", ".join(data["labels"][key] for key in BUCKET_FIELDS)),
        ]
        sheet.write(2, 0, _("As of"), styles["bold"])
        sheet.write_datetime(2, 1, data["as_of"], styles["date"])
        row = 3
        for label, value in info:
            sheet.write(row, 0, label, styles["bold"])
            sheet.write(row, 1, value)
            row += 1
        header_row = row + 1
        labels = data["labels"]
        fnames = [*BUCKET_FIELDS.values(), "amount_total"]
        sheet.write(header_row, 0, _("Customer"), styles["head"])
        for column, key in enumerate([*BUCKET_FIELDS, "total"], start=1):
            sheet.write(header_row, column, labels[key], styles["head_num"])
        sheet.freeze_panes(header_row + 1, 0)
        row = header_row
        for line in data["rows"]:
            row += 1
            sheet.write(row, 0, line["partner"])
            for column, fname in enumerate(fnames, start=1):
                sheet.write_number(row, column, line[fname], styles["money"])
        row += 1
        sheet.write(row, 0, _("Total"), styles["total_label"])
        for column, fname in enumerate(fnames, start=1):
            total = company.currency_id.round(sum(line[fname] for line in data["rows"]))
            if data["rows"]:
                cells = xl_range(header_row + 1, column, row - 1, column)
                sheet.write_formula(
                    row, column, f"=SUM({cells})", styles["total"], total
                )
            else:
                sheet.write_number(row, column, 0, styles["total"])
        sheet.set_column(0, 0, 40)
        sheet.set_column(1, len(fnames), 15)
        workbook.close()
        return buffer.getvalue()


class CreditAgedBalanceLine(models.TransientModel):
    """One row of an aged balance: the open amounts of a customer (for one
    salesperson, dunning level, currency and factoring contract) per bucket, in
    company currency.
    Written in bulk by ``credit.aged.balance.wizard._compute_lines``."""

    _name = "credit.aged.balance.line"
    _description = "Aged Balance Line"
    _order = "partner_id, id"

    wizard_id = fields.Many2one(
        "credit.aged.balance.wizard",
        string="Aged Balance",
        required=True,
        ondelete="cascade",
        index=True,
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True)
    company_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company Currency"
    )
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    dunning_level_id = fields.Many2one(
        "credit.dunning.level", string="Dunning Level", readonly=True
    )
    currency_id = fields.Many2one(
        "res.currency",
        string="Currency",
        readonly=True,
        help="Currency of the items (their amounts are in the company currency).",
    )
    factoring_contract_id = fields.Many2one(
        "credit.factoring.contract", string="Factoring Contract", readonly=True
    )
    factored = fields.Boolean(
        readonly=True,
        help="The items were assigned to a factoring contract when posted: they stay "
        "in our books until the payment from the factor's remittance is matched.",
    )
    amount_not_due = fields.Monetary(
        string="Not Due", currency_field="company_currency_id", readonly=True
    )
    amount_b1 = fields.Monetary(
        string="1-30 days", currency_field="company_currency_id", readonly=True
    )
    amount_b2 = fields.Monetary(
        string="31-60 days", currency_field="company_currency_id", readonly=True
    )
    amount_b3 = fields.Monetary(
        string="61-90 days", currency_field="company_currency_id", readonly=True
    )
    amount_b4 = fields.Monetary(
        string="> 90 days", currency_field="company_currency_id", readonly=True
    )
    amount_total = fields.Monetary(
        string="Total", currency_field="company_currency_id", readonly=True
    )

    @api.model
    def _bucket_labels(self, company):
        """``{"not_due": "Not Due", "b1": "1-30 days", …, "total": "Total"}`` for
        the limits of the company."""
        ranges = bucket_labels(company._get_aging_limits())
        labels = {
            key: self.env._("%(range)s days", range=ranges[key])
            for key in bucket_keys(company._get_aging_limits())
            if key != NOT_DUE
        }
        return {
            NOT_DUE: self.env._("Not Due"),
            **labels,
            "total": self.env._("Total"),
        }

    @api.model
    def fields_get(self, allfields=None, attributes=None):
        """The bucket columns are named after the limits of the current company
        (list, pivot and filters read the labels here)."""
        result = super().fields_get(allfields, attributes)
        labels = self._bucket_labels(self.env.company)
        for key, fname in BUCKET_FIELDS.items():
            if "string" in result.get(fname, {}):
                result[fname]["string"] = labels[key]
        return result
