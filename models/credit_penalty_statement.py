import io

import xlsxwriter

from odoo import api, fields, models
from odoo.tools.misc import formatLang

from ..engine.penalties import B2B_LEGAL, B2B_MARGIN, ECB_MRO, half_year_start
from .credit_xlsx import write_parties

# Widths of the columns of the XLSX statement (see _xlsx_headers).
XLSX_WIDTHS = (20, 12, 12, 12, 7, 14, 14, 14, 14)


class PenaltyStatementReport(models.AbstractModel):
    """The penalty statement (décompte) of a customer as of a date.

    ``_get_statement_data`` is the one data builder: the PDF, the XLSX and the
    penalty invoices all read it, so their totals cannot differ. It speaks the
    language of its environment: callers set the customer's.
    """

    _name = "report.l10n_fr_credit_collection.report_penalty_statement"
    _description = "Penalty Statement"

    # ------------------------------------------------------------------ data

    @api.model
    def _get_statement_lines(self, partner, as_of, line_ids=None):
        domain = [
            ("partner_id", "=", partner.commercial_partner_id.id),
            ("state", "not in", ("waived", "suspended")),
        ]
        if line_ids:
            domain = [("id", "in", line_ids)]
        lines = self.env["credit.penalty.line"].search(domain)
        return lines.filtered(lambda line: not line.date_to or line.date_to <= as_of)

    @api.model
    def _get_statement_data(self, partner, as_of, line_ids=None):
        """Plain data: the parties, then per currency, per invoice, per installment,
        the rows."""
        partner = partner.commercial_partner_id
        lines = self._get_statement_lines(partner, as_of, line_ids)
        # One read per model for every invoice of the statement, not one each.
        lines.fetch(["move_id", "move_line_id", "date_maturity", "kind", "currency_id"])
        lines.move_line_id.fetch(["amount_currency", "date_maturity"])
        lines.move_id.fetch(["name", "invoice_date", "amount_total"])
        rate_details = self._get_rate_details(lines)
        currencies = []
        for currency, currency_lines in lines.grouped("currency_id").items():
            invoices = sorted(
                (
                    self._get_statement_invoice(move, move_lines, rate_details)
                    for move, move_lines in currency_lines.grouped("move_id").items()
                ),
                key=lambda invoice: (invoice["invoice_date"] or as_of, invoice["name"]),
            )
            block = {"currency": currency, "invoices": invoices}
            for key in ("interest", "indemnity", "compensation", "total"):
                block[key] = currency.round(sum(invoice[key] for invoice in invoices))
            currencies.append(block)
        company = lines.company_id[:1] or self.env.company
        return {
            "partner": partner,
            "company": company,
            "parties": self.env["credit.document.parties"]._get_parties(
                company, partner
            ),
            "as_of": as_of,
            "currencies": currencies,
            "unmatched_credit": any(lines.mapped("unmatched_credit_amount")),
        }

    @api.model
    def _get_statement_invoice(self, move, lines, rate_details):
        """One invoice of the statement: its installments with their rows, its
        indemnity, its additional recovery costs and its total."""
        currency = lines.currency_id
        installments = []
        interest = lines.filtered(lambda line: line.kind == "interest")
        for due_date, item_lines in interest.grouped(
            lambda line: line.date_maturity or line.move_line_id.date_maturity
        ).items():
            rows = [
                self._get_statement_row(line, rate_details)
                for line in item_lines.sorted("date_from")
            ]
            installments.append(
                {
                    "due_date": due_date,
                    "principal": item_lines.move_line_id[:1].amount_currency,
                    "rows": rows,
                    "total": currency.round(sum(row["amount"] for row in rows)),
                }
            )
        installments.sort(key=lambda item: item["due_date"] or fields.Date.today())
        compensation = lines.filtered(lambda line: line.kind == "compensation")
        totals = {
            "interest": currency.round(sum(item["total"] for item in installments)),
            "indemnity": currency.round(
                sum(
                    lines.filtered(lambda line: line.kind == "indemnity").mapped(
                        "amount"
                    )
                )
            ),
            "compensation": currency.round(sum(compensation.mapped("amount"))),
        }
        return {
            "name": move.name,
            "invoice_date": move.invoice_date,
            "amount_total": move.amount_total,
            "installments": installments,
            "compensation_lines": [
                {"reason": line.compensation_reason or "", "amount": line.amount}
                for line in compensation
            ],
            **totals,
            "total": currency.round(sum(totals.values())),
        }

    @api.model
    def _get_statement_row(self, line, rate_details):
        return {
            "date_from": line.date_from,
            "date_to": line.date_to,
            "days": line.days,
            "base": line.base_amount,
            "rate": line.rate,
            "rate_label": f"{formatLang(self.env, line.rate, digits=2)} %",
            "rate_detail": rate_details.get(line.id, ""),
            "floor_applied": line.floor_applied,
            "amount": line.amount,
            "state": line.state,
        }

    @api.model
    def _get_rate_details(self, lines):
        """``{line id: "ECB 2.15 % + 10 points"}`` for the interest lines at the legal
        B2B rate: the statement shows how each rate is made (L441-10 II)."""
        interest = lines.filtered(lambda line: line.kind == "interest")
        if not interest:
            return {}
        rules = interest.move_id._get_penalty_rules()
        legal = interest.filtered(
            lambda line: rules[line.move_id.id].regime == B2B_LEGAL
            and line.move_id.commercial_partner_id.debtor_type != "consumer"
            and not line.floor_applied
        )
        ecb_rows = (
            self.env["credit.reference.rate"]
            .sudo()
            .search_fetch(
                [
                    ("kind", "=", ECB_MRO),
                    (
                        "date_from",
                        "in",
                        list({half_year_start(d) for d in legal.mapped("date_from")}),
                    ),
                ],
                ["date_from", "rate"],
            )
        )
        ecb = {row.date_from: row.rate for row in ecb_rows}
        details = {}
        for line in legal:
            rate = ecb.get(half_year_start(line.date_from))
            if rate is None or abs(rate + float(B2B_MARGIN) - line.rate) > 0.00005:
                continue
            details[line.id] = self.env._(
                "ECB %(rate)s %% + 10 points",
                rate=formatLang(self.env, rate, digits=2),
            )
        return details

    @api.model
    def _get_statement_partners(self, docids, data):
        """The customers to print. The web client sends no ids when the action has
        data (STYLE.md, "Report actions called from wizards"): they are in the
        data, or in the context the client sends along."""
        ids = docids or data.get("partner_ids")
        if not ids:
            context = data.get("context") or {}
            if context.get("active_model", "res.partner") == "res.partner":
                ids = context.get("active_ids")
        return self.env["res.partner"].browse(ids or [])

    @api.model
    def _get_report_values(self, docids, data=None):
        data = data or {}
        as_of = fields.Date.to_date(data.get("as_of")) or fields.Date.context_today(
            self
        )
        partners = self._get_statement_partners(docids, data)
        return {
            "doc_ids": partners.ids,
            "doc_model": "res.partner",
            "docs": partners,
            "statements": {
                partner.id: self.with_context(
                    lang=partner.lang or self.env.lang
                )._get_statement_data(partner, as_of, data.get("line_ids"))
                for partner in partners
            },
        }

    # ------------------------------------------------------------------ xlsx

    @api.model
    def _get_statement_xlsx(self, partner, as_of):
        """The statement as an XLSX workbook (bytes), from the same data builder, in
        the customer's language."""
        report = self.with_context(lang=partner.lang or self.env.lang)
        data = report._get_statement_data(partner, as_of)
        buffer = io.BytesIO()
        workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
        sheet = workbook.add_worksheet(report.env._("Statement")[:31])
        styles = report._xlsx_styles(
            workbook, [block["currency"] for block in data["currencies"]]
        )
        row = report._xlsx_write_header(sheet, data, styles)
        sheet.write_row(row, 0, report._xlsx_headers(), styles["bold"])
        sheet.freeze_panes(row + 1, 0)
        for block in data["currencies"]:
            row = report._xlsx_write_block(sheet, row, block, styles)
        for column, width in enumerate(XLSX_WIDTHS):
            sheet.set_column(column, column, width)
        workbook.close()
        return buffer.getvalue()

    @api.model
    def _xlsx_headers(self):
        _ = self.env._
        return [
            _("Invoice"),
            _("Due Date"),
            _("From"),
            _("To"),
            _("Days"),
            _("Base"),
            _("Rate (%)"),
            _("Amount"),
            _("Currency"),
        ]

    @api.model
    def _xlsx_styles(self, workbook, currencies):
        """The cell formats, the money ones per number of decimals of the
        statement's currencies."""
        digits = {currency.decimal_places for currency in currencies}
        styles = {
            "bold": workbook.add_format({"bold": True}),
            "title": workbook.add_format({"bold": True, "font_size": 14}),
            "date": workbook.add_format({"num_format": "dd/mm/yyyy"}),
            "rate": workbook.add_format({"num_format": "0.00"}),
            "small": workbook.add_format({"font_size": 9}),
        }
        for bold, key in ((False, "money"), (True, "money_bold")):
            styles[key] = {
                places: workbook.add_format(
                    {
                        "bold": bold,
                        "num_format": "#,##0" + ("." + "0" * places if places else ""),
                    }
                )
                for places in digits
            }
        return styles

    @api.model
    def _xlsx_write_header(self, sheet, data, styles):
        """Title, creditor, customer and date; returns the row of the column
        headers."""
        _ = self.env._
        parties = data["parties"]
        sheet.write(0, 0, _("Penalty statement"), styles["title"])
        row = 2
        row = write_parties(self.env, sheet, row, parties, styles)
        sheet.write(row, 0, _("As of"), styles["bold"])
        sheet.write_datetime(row, 1, data["as_of"], styles["date"])
        return row + 2

    @api.model
    def _xlsx_write_block(self, sheet, row, block, styles):
        """The rows of one currency and its totals; returns the last row written."""
        _ = self.env._
        currency = block["currency"]
        money = styles["money"][currency.decimal_places]
        money_bold = styles["money_bold"][currency.decimal_places]
        for invoice in block["invoices"]:
            row = self._xlsx_write_invoice(sheet, row, invoice, currency, styles)
        for label, key in (
            (_("Total penalties"), "interest"),
            (_("Total indemnities"), "indemnity"),
            (_("Total recovery costs"), "compensation"),
            (_("Total due"), "total"),
        ):
            if key == "compensation" and not block[key]:
                continue
            row += 1
            sheet.write(row, 6, label, styles["bold"])
            sheet.write_number(
                row, 7, block[key], money_bold if key == "total" else money
            )
            sheet.write(row, 8, currency.name, styles["bold"])
        return row + 1

    @api.model
    def _xlsx_write_invoice(self, sheet, row, invoice, currency, styles):
        """The interest rows, indemnity and recovery costs of one invoice."""
        _ = self.env._
        money = styles["money"][currency.decimal_places]
        for item in invoice["installments"]:
            for line in item["rows"]:
                row += 1
                sheet.write(row, 0, invoice["name"])
                sheet.write_datetime(row, 1, item["due_date"], styles["date"])
                sheet.write_datetime(row, 2, line["date_from"], styles["date"])
                sheet.write_datetime(row, 3, line["date_to"], styles["date"])
                sheet.write_number(row, 4, line["days"])
                sheet.write_number(row, 5, line["base"], money)
                sheet.write_number(row, 6, line["rate"], styles["rate"])
                sheet.write_number(row, 7, line["amount"], money)
                sheet.write(row, 8, currency.name)
        extras = (
            [(_("Recovery indemnity"), invoice["indemnity"])]
            if invoice["indemnity"]
            else []
        )
        extras += [
            (_("Recovery costs: %(reason)s", reason=cost["reason"]), cost["amount"])
            for cost in invoice["compensation_lines"]
        ]
        for label, amount in extras:
            row += 1
            sheet.write(row, 0, invoice["name"])
            sheet.write(row, 2, label)
            sheet.write_number(row, 7, amount, money)
            sheet.write(row, 8, currency.name)
        return row
