import io
from collections import defaultdict

import xlsxwriter

from odoo import _, api, fields, models


class PenaltyStatementReport(models.AbstractModel):
    """The penalty statement (décompte) of a customer as of a date.

    ``_get_statement_data`` is the one data builder: the PDF, the XLSX and the
    penalty invoices all read it, so their totals cannot differ.
    """

    _name = "report.l10n_fr_credit_collection.report_penalty_statement"
    _description = "Penalty Statement"

    @api.model
    def _get_statement_lines(self, partner, as_of, line_ids=None):
        domain = [
            ("partner_id", "=", partner.commercial_partner_id.id),
            ("state", "!=", "waived"),
        ]
        if line_ids:
            domain = [("id", "in", line_ids)]
        lines = self.env["credit.penalty.line"].search(domain)
        return lines.filtered(lambda line: not line.date_to or line.date_to <= as_of)

    @api.model
    def _get_statement_data(self, partner, as_of, line_ids=None):
        """Plain data: per currency, per invoice, per installment, the rows."""
        lines = self._get_statement_lines(partner, as_of, line_ids)
        currencies = []
        for currency, currency_lines in lines.grouped("currency_id").items():
            invoices = []
            for move, move_lines in currency_lines.grouped("move_id").items():
                installments = []
                interest = move_lines.filtered(lambda line: line.kind == "interest")
                for item, item_lines in interest.grouped("move_line_id").items():
                    rows = [
                        {
                            "date_from": line.date_from,
                            "date_to": line.date_to,
                            "days": line.days,
                            "base": line.base_amount,
                            "rate": line.rate,
                            "floor_applied": line.floor_applied,
                            "amount": line.amount,
                            "state": line.state,
                        }
                        for line in item_lines.sorted("date_from")
                    ]
                    installments.append(
                        {
                            "due_date": item.date_maturity,
                            "principal": item.amount_currency,
                            "rows": rows,
                            "total": currency.round(sum(r["amount"] for r in rows)),
                        }
                    )
                indemnity = sum(
                    move_lines.filtered(lambda line: line.kind == "indemnity").mapped(
                        "amount"
                    )
                )
                interest_total = currency.round(
                    sum(item["total"] for item in installments)
                )
                invoices.append(
                    {
                        "name": move.name,
                        "invoice_date": move.invoice_date,
                        "amount_total": move.amount_total,
                        "installments": installments,
                        "interest": interest_total,
                        "indemnity": indemnity,
                        "total": currency.round(interest_total + indemnity),
                    }
                )
            totals = defaultdict(float)
            for invoice in invoices:
                for key in ("interest", "indemnity", "total"):
                    totals[key] += invoice[key]
            currencies.append(
                {
                    "currency": currency,
                    "invoices": invoices,
                    "interest": currency.round(totals["interest"]),
                    "indemnity": currency.round(totals["indemnity"]),
                    "total": currency.round(totals["total"]),
                }
            )
        return {
            "partner": partner.commercial_partner_id,
            "company": self.env.company,
            "as_of": as_of,
            "currencies": currencies,
        }

    @api.model
    def _get_report_values(self, docids, data=None):
        data = data or {}
        as_of = fields.Date.to_date(data.get("as_of")) or fields.Date.context_today(
            self
        )
        partners = self.env["res.partner"].browse(docids)
        return {
            "doc_ids": docids,
            "doc_model": "res.partner",
            "docs": partners,
            "statements": {
                partner.id: self._get_statement_data(
                    partner, as_of, data.get("line_ids")
                )
                for partner in partners
            },
        }

    @api.model
    def _get_statement_xlsx(self, partner, as_of):
        """The statement as an XLSX workbook (bytes), from the same data builder."""
        data = self._get_statement_data(partner, as_of)
        buffer = io.BytesIO()
        workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
        sheet = workbook.add_worksheet(_("Statement")[:31])
        bold = workbook.add_format({"bold": True})
        title = workbook.add_format({"bold": True, "font_size": 14})
        date_format = workbook.add_format({"num_format": "dd/mm/yyyy"})
        rate_format = workbook.add_format({"num_format": "0.00"})
        headers = [
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
        sheet.write(0, 0, _("Penalty statement"), title)
        sheet.write(1, 0, data["partner"].name, bold)
        sheet.write(2, 0, _("As of"))
        sheet.write_datetime(2, 1, fields.Datetime.to_datetime(as_of), date_format)
        row = 4
        sheet.write_row(row, 0, headers, bold)
        sheet.freeze_panes(row + 1, 0)
        for block in data["currencies"]:
            money = workbook.add_format(
                {"num_format": "#,##0." + "0" * block["currency"].decimal_places}
            )
            money_bold = workbook.add_format(
                {
                    "bold": True,
                    "num_format": "#,##0." + "0" * block["currency"].decimal_places,
                }
            )
            code = block["currency"].name
            for invoice in block["invoices"]:
                for item in invoice["installments"]:
                    for line in item["rows"]:
                        row += 1
                        sheet.write(row, 0, invoice["name"])
                        sheet.write_datetime(
                            row,
                            1,
                            fields.Datetime.to_datetime(item["due_date"]),
                            date_format,
                        )
                        sheet.write_datetime(
                            row,
                            2,
                            fields.Datetime.to_datetime(line["date_from"]),
                            date_format,
                        )
                        sheet.write_datetime(
                            row,
                            3,
                            fields.Datetime.to_datetime(line["date_to"]),
                            date_format,
                        )
                        sheet.write_number(row, 4, line["days"])
                        sheet.write_number(row, 5, line["base"], money)
                        sheet.write_number(row, 6, line["rate"], rate_format)
                        sheet.write_number(row, 7, line["amount"], money)
                        sheet.write(row, 8, code)
                if invoice["indemnity"]:
                    row += 1
                    sheet.write(row, 0, invoice["name"])
                    sheet.write(row, 2, _("Recovery indemnity"))
                    sheet.write_number(row, 7, invoice["indemnity"], money)
                    sheet.write(row, 8, code)
            for label, key in (
                (_("Total penalties"), "interest"),
                (_("Total indemnities"), "indemnity"),
                (_("Total due"), "total"),
            ):
                row += 1
                sheet.write(row, 6, label, bold)
                sheet.write_number(row, 7, block[key], money_bold)
                sheet.write(row, 8, code, bold)
            row += 1
        sheet.set_column(0, 0, 20)
        sheet.set_column(1, 3, 12)
        sheet.set_column(4, 4, 7)
        sheet.set_column(5, 8, 14)
        workbook.close()
        return buffer.getvalue()
