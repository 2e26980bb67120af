import base64
import io

import xlsxwriter

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import format_date

from .credit_xlsx import write_parties, xlsx_download_action

STATEMENT_REPORT = "l10n_fr_credit_collection.action_report_customer_statement"
STATEMENT_TEMPLATE = "l10n_fr_credit_collection.mail_template_customer_statement"

# The journal item fields the statement reads, in one query per list.
ITEM_FIELDS = [
    "date",
    "move_id",
    "move_name",
    "ref",
    "name",
    "date_maturity",
    "debit",
    "credit",
    "balance",
    "matching_number",
    "full_reconcile_id",
    "payment_id",
    "statement_line_id",
]
# Widths of the columns of the XLSX sheets.
XLSX_ENTRY_WIDTHS = (12, 22, 16, 24, 12, 14, 14, 14, 10, 10)
XLSX_OPEN_WIDTHS = (12, 22, 16, 24, 12, 14, 14, 12)


class CreditCustomerStatement(models.Model):
    """A customer statement (relevé de compte) for a period.

    Stored, so that the email template, which renders its report from record
    ids, attaches the very statement the user printed. ``_get_statement_data``
    is the one data builder of the PDF, the XLSX and the email.

    The statement follows the French practice of lettrage: each payment is matched
    with the invoices and credit notes it settles (Odoo's matching number), so
    that the closing balance is justified by the items still open.
    """

    _name = "credit.customer.statement"
    _inherit = ["mail.thread"]
    _description = "Customer Statement"
    _order = "date_to desc, id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        readonly=True,
        default=lambda self: self.env.company,
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        check_company=True,
        tracking=True,
    )
    contact_id = fields.Many2one(
        "res.partner",
        string="Send To",
        compute="_compute_contact_id",
        store=True,
        readonly=False,
        check_company=True,
        help="The address the statement is emailed to: the customer's invoice "
        "address by default.",
    )
    date_from = fields.Date(
        string="From",
        required=True,
        default=lambda self: self._default_date_from(),
        tracking=True,
    )
    date_to = fields.Date(
        string="To",
        required=True,
        default=fields.Date.context_today,
        tracking=True,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    opening_balance = fields.Monetary(compute="_compute_balances")
    closing_balance = fields.Monetary(compute="_compute_balances")
    xlsx_file = fields.Binary(readonly=True, attachment=False, copy=False)
    xlsx_name = fields.Char(copy=False)

    @api.model
    def _default_date_from(self):
        """The first day of the company's current fiscal year."""
        today = fields.Date.context_today(self)
        return self.env.company.compute_fiscalyear_dates(today)["date_from"]

    @api.depends("partner_id", "date_from", "date_to")
    def _compute_name(self):
        for statement in self:
            statement.name = "{} ({} - {})".format(
                statement.partner_id.commercial_partner_id.name or "",
                format_date(self.env, statement.date_from),
                format_date(self.env, statement.date_to),
            )

    @api.depends("partner_id")
    def _compute_contact_id(self):
        for statement in self:
            partner = statement.partner_id
            statement.contact_id = (
                partner.browse(partner.address_get(["invoice"])["invoice"])
                if partner
                else False
            )

    @api.depends("partner_id", "company_id", "date_from", "date_to")
    def _compute_balances(self):
        """For the form: the balance before the period and at its end (two grouped
        queries per statement)."""
        Line = self.env["account.move.line"]
        for statement in self:
            if not (statement.partner_id and statement.date_from and statement.date_to):
                statement.opening_balance = statement.closing_balance = 0.0
                continue
            domain = statement._get_receivable_domain()
            balances = {}
            for key, operator, date in (
                ("opening_balance", "<", statement.date_from),
                ("closing_balance", "<=", statement.date_to),
            ):
                balances[key] = (
                    Line._read_group(
                        domain + [("date", operator, date)], aggregates=["balance:sum"]
                    )[0][0]
                    or 0.0
                )
            statement.update(balances)

    @api.constrains("date_from", "date_to")
    def _check_dates(self):
        for statement in self:
            if statement.date_from > statement.date_to:
                raise ValidationError(
                    self.env._(
                        "The statement of %(customer)s starts on %(start)s, after its "
                        "end on %(end)s: choose a start date on or before the end "
                        "date.",
                        customer=statement.partner_id.display_name,
                        start=format_date(self.env, statement.date_from),
                        end=format_date(self.env, statement.date_to),
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        return super().create(
            [self._prepare_commercial_partner_vals(vals) for vals in vals_list]
        )

    def write(self, vals):
        return super().write(self._prepare_commercial_partner_vals(vals))

    def _prepare_commercial_partner_vals(self, vals):
        """A statement is the account of the commercial partner: a contact chosen
        as customer becomes its company, and stays the address it is sent to."""
        if not vals.get("partner_id"):
            return vals
        partner = self.env["res.partner"].browse(vals["partner_id"])
        if partner.commercial_partner_id == partner:
            return vals
        vals = dict(vals, partner_id=partner.commercial_partner_id.id)
        vals.setdefault("contact_id", partner.id)
        return vals

    # ------------------------------------------------------------------ data

    def _get_receivable_domain(self):
        """The customer's receivable journal items in the statement's company:
        posted, on a receivable account, of the commercial partner and its
        contacts."""
        self.ensure_one()
        return [
            ("company_id", "=", self.company_id.id),
            ("parent_state", "=", "posted"),
            ("account_id.account_type", "=", "asset_receivable"),
            ("partner_id", "child_of", self.partner_id.commercial_partner_id.id),
        ]

    def _get_statement_data(self):
        """Plain data of the statement: the parties, the opening balance, the
        entries of the period with their matching number and running balance, the
        closing balance and the open items at the closing date, whose sum is the
        closing balance.

        Amounts are in company currency. The open items and the "fully matched"
        flag are taken as of the closing date: a payment dated after it does not
        count, even if it is matched today. Built in the language of the
        environment: callers set the customer's."""
        self.ensure_one()
        Line = self.env["account.move.line"]
        currency = self.currency_id
        domain = self._get_receivable_domain()
        opening = currency.round(
            Line._read_group(
                domain + [("date", "<", self.date_from)], aggregates=["balance:sum"]
            )[0][0]
            or 0.0
        )
        period_lines = Line.search_fetch(
            domain + [("date", ">=", self.date_from), ("date", "<=", self.date_to)],
            ITEM_FIELDS,
            order="date, move_name, id",
        )
        open_lines = self._get_open_candidates(domain)
        matching = self._get_matching_at(period_lines | open_lines, self.date_to)
        kinds = self._get_document_kinds(period_lines | open_lines)

        balance = opening
        entries = []
        for line in period_lines:
            balance = currency.round(balance + line.balance)
            entries.append(
                self._prepare_statement_entry(line, kinds, matching, balance)
            )
        items = [
            self._prepare_open_item(line, kinds, matching)
            for line in open_lines.sorted(
                lambda line: (line.date_maturity or line.date, line.date, line.id)
            )
            if not currency.is_zero(matching[line.id]["residual"])
        ]
        company = self.company_id
        return {
            "statement": self,
            "company": company,
            "partner": self.partner_id.commercial_partner_id,
            "currency": currency,
            "parties": self.env["credit.document.parties"]._get_parties(
                company, self.partner_id, contact=self.contact_id or None
            ),
            "date_from": self.date_from,
            "date_to": self.date_to,
            "opening_balance": opening,
            "entries": entries,
            "total_debit": currency.round(sum(e["debit"] for e in entries)),
            "total_credit": currency.round(sum(e["credit"] for e in entries)),
            "closing_balance": balance,
            "open_items": items,
            "open_total": currency.round(sum(item["residual"] for item in items)),
        }

    def _get_open_candidates(self, domain):
        """The items dated up to the closing date that may still be open at that
        date: those not fully matched today, and those matched by a reconciliation
        dated after the closing date."""
        date_to = self.date_to
        return self.env["account.move.line"].search_fetch(
            domain
            + [
                ("date", "<=", date_to),
                "|",
                ("reconciled", "=", False),
                "|",
                ("matched_debit_ids.max_date", ">", date_to),
                ("matched_credit_ids.max_date", ">", date_to),
            ],
            ITEM_FIELDS,
        )

    def _get_matching_at(self, lines, date):
        """``{line id: {"residual", "matched", "full"}}`` as of ``date``, in company
        currency: the balance of the item less its matchings (partial
        reconciliations) dated on or before ``date``; ``matched`` when it had one by
        then; ``full`` when its lettre was complete by then (Odoo's full
        reconciliation, all of whose matchings are dated on or before ``date``).
        Three grouped queries whatever the number of items."""
        Partial = self.env["account.partial.reconcile"]
        matched = {}
        for side, sign in (("debit_move_id", -1), ("credit_move_id", 1)):
            for line, amount, count in Partial._read_group(
                [(side, "in", lines.ids), ("max_date", "<=", date)],
                groupby=[side],
                aggregates=["amount:sum", "__count"],
            ):
                total, number = matched.get(line.id, (0.0, 0))
                matched[line.id] = (total + sign * amount, number + count)
        full_dates = dict(
            Partial._read_group(
                [("full_reconcile_id", "in", lines.full_reconcile_id.ids)],
                groupby=["full_reconcile_id"],
                aggregates=["max_date:max"],
            )
        )
        currency = self.currency_id
        result = {}
        for line in lines:
            amount, number = matched.get(line.id, (0.0, 0))
            full = line.full_reconcile_id
            result[line.id] = {
                "residual": currency.round(line.balance + amount),
                "matched": bool(number),
                "full": bool(full) and full_dates.get(full, date) <= date,
            }
        return result

    def _get_document_kinds(self, lines):
        """``{move id: label}``: invoice, credit note, penalty invoice, payment or
        journal entry."""
        _ = self.env._
        moves = lines.move_id
        moves.fetch(["move_type", "is_penalty_invoice"])
        paid_moves = (
            lines.filtered("payment_id") | lines.filtered("statement_line_id")
        ).move_id
        kinds = {}
        for move in moves:
            if move.move_type == "out_invoice":
                kind = _("Penalty invoice") if move.is_penalty_invoice else _("Invoice")
            elif move.move_type == "out_refund":
                kind = _("Credit note")
            elif move in paid_moves:
                kind = _("Payment")
            else:
                kind = _("Journal entry")
            kinds[move.id] = kind
        return kinds

    @api.model
    def _get_reference(self, line):
        if line.ref:
            return line.ref
        return line.name if line.name and line.name != line.move_name else ""

    def _prepare_statement_entry(self, line, kinds, matching, balance):
        """One entry of the period. The lettre is shown when the item was matched
        on or before the closing date; ``full`` when its lettre was complete then,
        ``partial`` when it was not (the invoice, or the payments and credit
        notes matched with it, still open)."""
        matched = matching[line.id]["matched"]
        full = matched and matching[line.id]["full"]
        return {
            "line": line,
            "date": line.date,
            "document": line.move_name,
            "kind": kinds[line.move_id.id],
            "reference": self._get_reference(line),
            "date_maturity": line.date_maturity if line.balance > 0 else False,
            "debit": line.debit,
            "credit": line.credit,
            "balance": balance,
            "matching_number": (line.matching_number or "") if matched else "",
            "full": bool(full),
            "partial": matched and not full,
        }

    def _prepare_open_item(self, line, kinds, matching):
        residual = matching[line.id]["residual"]
        matched = matching[line.id]["matched"]
        return {
            "line": line,
            "date": line.date,
            "document": line.move_name,
            "kind": kinds[line.move_id.id],
            "reference": self._get_reference(line),
            "date_maturity": line.date_maturity if line.balance > 0 else False,
            "amount": line.balance,
            "residual": residual,
            "matching_number": (line.matching_number or "") if matched else "",
            "days_late": (
                (self.date_to - line.date_maturity).days
                if residual > 0
                and line.date_maturity
                and line.date_maturity < self.date_to
                else 0
            ),
        }

    def _get_customer_lang(self):
        self.ensure_one()
        return self.partner_id.lang or self.env.lang

    # --------------------------------------------------------------- actions

    def action_print_pdf(self):
        return self.env.ref(STATEMENT_REPORT).report_action(self, config=False)

    def action_view_items(self):
        """The customer's receivable items of the period, in the journal items
        list."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Journal Items"),
            "res_model": "account.move.line",
            "view_mode": "list,form",
            "domain": self._get_receivable_domain()
            + [("date", ">=", self.date_from), ("date", "<=", self.date_to)],
            "context": {"create": False},
        }

    def action_send_statement(self):
        """The email composer, with the statement template and its PDF."""
        self.ensure_one()
        template = self.env.ref(STATEMENT_TEMPLATE, raise_if_not_found=False)
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Send Statement"),
            "res_model": "mail.compose.message",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_model": self._name,
                "default_res_ids": self.ids,
                "default_template_id": template.id if template else False,
                "default_composition_mode": "comment",
                "default_email_layout_xmlid": "mail.mail_notification_light",
                "force_email": True,
            },
        }

    def action_export_xlsx(self):
        self.ensure_one()
        content = self._get_statement_xlsx()
        self.write(
            {
                "xlsx_file": base64.b64encode(content),
                "xlsx_name": self.env._(
                    "Statement %(name)s.xlsx", name=self.name
                ).replace("/", "-"),
            }
        )
        return xlsx_download_action(self)

    # ------------------------------------------------------------------ xlsx

    def _get_statement_xlsx(self):
        """The statement as an XLSX workbook (bytes) from the same data builder, in
        the customer's language: a sheet of the period's entries and a sheet of
        the open items."""
        self.ensure_one()
        statement = self.with_context(lang=self._get_customer_lang())
        data = statement._get_statement_data()
        buffer = io.BytesIO()
        workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
        styles = statement._xlsx_styles(workbook)
        statement._xlsx_write_entries(workbook, data, styles)
        statement._xlsx_write_open_items(workbook, data, styles)
        workbook.close()
        return buffer.getvalue()

    def _xlsx_styles(self, workbook):
        places = self.currency_id.decimal_places
        money = "#,##0" + ("." + "0" * places if places else "")
        return {
            "bold": workbook.add_format({"bold": True}),
            "title": workbook.add_format({"bold": True, "font_size": 14}),
            "small": workbook.add_format({"font_size": 9}),
            "date": workbook.add_format({"num_format": "dd/mm/yyyy"}),
            "money": workbook.add_format({"num_format": money}),
            "money_bold": workbook.add_format({"bold": True, "num_format": money}),
        }

    def _xlsx_write_header(self, sheet, data, styles, title):
        """Title, creditor, customer and period; returns the next free row."""
        _ = self.env._
        sheet.write(0, 0, title, styles["title"])
        row = 2
        parties = data["parties"]
        row = write_parties(self.env, sheet, row, parties, styles)
        sheet.write(row, 0, _("From"), styles["bold"])
        sheet.write_datetime(row, 1, data["date_from"], styles["date"])
        sheet.write(row, 2, _("To"), styles["bold"])
        sheet.write_datetime(row, 3, data["date_to"], styles["date"])
        sheet.write(row, 4, _("Currency"), styles["bold"])
        sheet.write(row, 5, data["currency"].name)
        return row + 2

    def _xlsx_write_entries(self, workbook, data, styles):
        _ = self.env._
        sheet = workbook.add_worksheet(_("Account Statement")[:31])
        row = self._xlsx_write_header(sheet, data, styles, _("Statement of Account"))
        sheet.write_row(
            row,
            0,
            [
                _("Date"),
                _("Document"),
                _("Type"),
                _("Reference"),
                _("Due Date"),
                _("Debit"),
                _("Credit"),
                _("Balance"),
                _("Matching"),
                _("Fully Matched"),
            ],
            styles["bold"],
        )
        sheet.freeze_panes(row + 1, 0)
        row += 1
        sheet.write(row, 1, _("Opening balance"), styles["bold"])
        sheet.write_number(row, 7, data["opening_balance"], styles["money_bold"])
        for entry in data["entries"]:
            row += 1
            self._xlsx_write_item(sheet, row, entry, styles)
            sheet.write_number(row, 5, entry["debit"], styles["money"])
            sheet.write_number(row, 6, entry["credit"], styles["money"])
            sheet.write_number(row, 7, entry["balance"], styles["money"])
            sheet.write(row, 8, entry["matching_number"])
            if entry["matching_number"]:
                sheet.write(row, 9, _("Yes") if entry["full"] else _("Partial"))
        row += 1
        sheet.write(row, 1, _("Closing balance"), styles["bold"])
        sheet.write_number(row, 5, data["total_debit"], styles["money_bold"])
        sheet.write_number(row, 6, data["total_credit"], styles["money_bold"])
        sheet.write_number(row, 7, data["closing_balance"], styles["money_bold"])
        for column, width in enumerate(XLSX_ENTRY_WIDTHS):
            sheet.set_column(column, column, width)

    @api.model
    def _xlsx_write_item(self, sheet, row, item, styles):
        """Date, document, type, reference and due date of one journal item: the
        first columns of both sheets."""
        sheet.write_datetime(row, 0, item["date"], styles["date"])
        sheet.write(row, 1, item["document"] or "")
        sheet.write(row, 2, item["kind"])
        sheet.write(row, 3, item["reference"] or "")
        if item["date_maturity"]:
            sheet.write_datetime(row, 4, item["date_maturity"], styles["date"])

    def _xlsx_write_open_items(self, workbook, data, styles):
        _ = self.env._
        sheet = workbook.add_worksheet(_("Open Items")[:31])
        row = self._xlsx_write_header(
            sheet, data, styles, _("Open items justifying the balance")
        )
        sheet.write_row(
            row,
            0,
            [
                _("Date"),
                _("Document"),
                _("Type"),
                _("Reference"),
                _("Due Date"),
                _("Amount"),
                _("Open Amount"),
                _("Matching"),
            ],
            styles["bold"],
        )
        sheet.freeze_panes(row + 1, 0)
        for item in data["open_items"]:
            row += 1
            self._xlsx_write_item(sheet, row, item, styles)
            sheet.write_number(row, 5, item["amount"], styles["money"])
            sheet.write_number(row, 6, item["residual"], styles["money"])
            sheet.write(row, 7, item["matching_number"])
        row += 1
        sheet.write(row, 1, _("Closing balance"), styles["bold"])
        sheet.write_number(row, 6, data["open_total"], styles["money_bold"])
        for column, width in enumerate(XLSX_OPEN_WIDTHS):
            sheet.set_column(column, column, width)


class CustomerStatementReport(models.AbstractModel):
    """The PDF of customer statements, each in its customer's language."""

    _name = "report.l10n_fr_credit_collection.report_customer_statement"
    _description = "Customer Statement Report"

    @api.model
    def _get_report_values(self, docids, data=None):
        statements = self.env["credit.customer.statement"].browse(docids)
        return {
            "doc_ids": statements.ids,
            "doc_model": "credit.customer.statement",
            "docs": statements,
            "statements": {
                statement.id: statement.with_context(
                    lang=statement._get_customer_lang()
                )._get_statement_data()
                for statement in statements
            },
        }
