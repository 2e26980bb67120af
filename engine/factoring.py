"""The files a factor receives for a transfer batch (bordereau de cession), without
Odoo.

* one row per assigned item (invoice or credit note), built and checked by
  :func:`batch_row`: amounts incl. tax rounded to the cent (half up), a credit note
  always negative (it lowers what the factor pays us), optional values "" when
  missing;
* one export interface: :data:`EXPORTERS` maps a format to a function
  ``rows -> bytes`` and :func:`export` runs it. XLSX and CSV are built in. A
  factor-specific format (a fixed-width text file, say) is added as one new function
  taking ``rows`` (and whichever of the options ``labels``, ``title``,
  ``header_lines`` it uses), decorated with :func:`file_type` and registered in
  :data:`EXPORTERS`; the Odoo side maps the contract's file format to the list of
  formats it produces;
* totals per customer and the grand total, for the PDF slip and the totals row;
  a batch has one currency (the contract's): totals over several currencies are
  refused.

CSV formula injection: a text value beginning with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return is written with a leading apostrophe in the CSV file, so that a
spreadsheet opening the file shows it as text instead of running it as a formula
(OWASP "CSV injection"). Amounts and dates are formatted by us and never altered.
The XLSX file needs no such change: every text value is written as a string cell,
never as a formula.
"""

import csv
import inspect
import io
import unicodedata
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

CENT = Decimal("0.01")

INVOICE = "invoice"
CREDIT_NOTE = "credit_note"
DOCUMENT_TYPES = ((INVOICE, "Invoice"), (CREDIT_NOTE, "Credit note"))

COLUMNS = (
    ("customer_name", "Customer"),
    ("customer_siren", "SIREN"),
    ("customer_vat", "VAT number"),
    ("customer_factor_ref", "Reference at the factor"),
    ("document_type", "Document type"),
    ("number", "Number"),
    ("invoice_date", "Invoice date"),
    ("due_date", "Due date"),
    ("amount", "Amount incl. tax"),
    ("currency", "Currency"),
    ("our_ref", "Our reference"),
)
TOTAL = "total"
# Every label a file may show, in English: the columns, the document types and the
# totals row. The caller passes the translated ones as ``labels`` (same keys); a key
# it leaves out keeps its English label.
LABELS = dict(COLUMNS) | dict(DOCUMENT_TYPES) | {TOTAL: "Total"}

KEYS = tuple(key for key, _label in COLUMNS)
REQUIRED = ("customer_name", "document_type", "number", "amount", "currency")
DATE_KEYS = ("invoice_date", "due_date")

DATE_FORMAT = "%d/%m/%Y"
XLSX_DATE_FORMAT = "dd/mm/yyyy"
XLSX_AMOUNT_FORMAT = "#,##0.00"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_WIDTH = 50


def round_cents(value):
    """``value`` as a Decimal rounded to the cent, half up; ``ValueError`` when it
    is not a finite number (a bool is not a number here)."""
    if isinstance(value, bool):
        raise ValueError(f"amount {value!r} is not a number")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValueError(f"amount {value!r} is not a number") from None
    if not amount.is_finite():
        raise ValueError(f"amount {value!r} is not a finite number")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _missing(value):
    # Odoo gives False for an empty field.
    return (
        value is None
        or value is False
        or (isinstance(value, str) and not value.strip())
    )


def _text(key, value):
    if _missing(value):
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{key} {value!r} is not a text")
    return str(value).strip()


def _date(key, value):
    if _missing(value):
        return ""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise ValueError(f"{key} {value!r} is not a date")


def batch_row(**values):
    """One checked row of a transfer file, keys in :data:`COLUMNS` order.

    ``customer_name``, ``document_type`` (``invoice`` or ``credit_note``),
    ``number``, ``amount`` and ``currency`` are required; the other values are ""
    when missing (None, False or ""). Texts are stripped, dates are
    ``datetime.date``, the amount incl. tax is a Decimal rounded to the cent half
    up, negative for a credit note whatever sign it was given (Odoo gives the
    total of a credit note as a positive number); an invoice with a negative
    amount is refused. Raises ``TypeError`` for an unknown key and ``ValueError``
    for a missing or wrong value.
    """
    unknown = sorted(set(values) - set(KEYS))
    if unknown:
        raise TypeError(f"unknown factoring row values: {', '.join(unknown)}")
    row = {}
    for key in KEYS:
        value = values.get(key)
        if key in DATE_KEYS:
            row[key] = _date(key, value)
        elif key == "amount":
            row[key] = "" if _missing(value) else round_cents(value)
        else:
            row[key] = _text(key, value)
    missing = [key for key in REQUIRED if row[key] == ""]
    if missing:
        raise ValueError(f"factoring row without {', '.join(missing)}")
    if row["document_type"] == CREDIT_NOTE:
        row["amount"] = -abs(row["amount"])
    elif row["document_type"] == INVOICE:
        if row["amount"] < 0:
            raise ValueError(
                f"invoice {row['number']} has a negative amount {row['amount']}"
            )
    else:
        raise ValueError(
            f"document type {row['document_type']!r} is neither "
            f"{INVOICE!r} nor {CREDIT_NOTE!r}"
        )
    return row


def _labels(labels):
    return LABELS | dict(labels or {})


def _check_currency(rows):
    currencies = {row["currency"] for row in rows}
    if len(currencies) > 1:
        raise ValueError(
            f"rows in several currencies ({', '.join(sorted(currencies))}) "
            "cannot be added up"
        )


def grand_total(rows):
    """The sum of the row amounts (Decimal; credit notes count negative)."""
    _check_currency(rows)
    return sum((row["amount"] for row in rows), Decimal("0.00"))


def _sort_key(name):
    # Accents and case do not move a name: "Élan" sorts with "elan", before "Zèbre".
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)), name


def totals_by_customer(rows):
    """``[(customer_name, customer_siren, count, total)]`` sorted by name (accents
    and case ignored), then SIREN. A customer is its name and SIREN: two customers
    of the same name are apart when their SIRENs differ."""
    _check_currency(rows)
    totals = {}
    for row in rows:
        key = (row["customer_name"], row["customer_siren"])
        count, total = totals.get(key, (0, Decimal("0.00")))
        totals[key] = (count + 1, total + row["amount"])
    ordered = sorted(totals, key=lambda key: (_sort_key(key[0]), key[1]))
    return [(name, siren, *totals[name, siren]) for name, siren in ordered]


def file_type(extension, mimetype):
    """Decorator giving an exporter the extension and MIME type of its files."""

    def decorate(function):
        function.extension = extension
        function.mimetype = mimetype
        return function

    return decorate


def _neutralise(text):
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_cell(key, value, labels):
    if key == "amount":
        return f"{value:.2f}"
    if key in DATE_KEYS:
        return value.strftime(DATE_FORMAT) if value else ""
    if key == "document_type":
        value = labels[value]
    return _neutralise(value)


@file_type("csv", "text/csv")
def rows_to_csv(rows, labels=None, delimiter=";"):
    """The rows as a CSV file: UTF-8 with a byte order mark (Excel then reads
    accents right), a header row of ``labels``, ``\\r\\n`` line ends, dates as
    dd/mm/yyyy and amounts with a decimal point and two decimals, no thousands
    separator ("-1234.50"): the factors' import tools read a plain decimal number,
    whatever the locale, and the ";" delimiter keeps French spreadsheets opening
    the file in columns. A value is quoted when it holds the delimiter, a double
    quote, a newline or a carriage return (double quotes doubled inside). Text
    values that a spreadsheet would run as a formula get a leading apostrophe (see
    the module docstring). The document type shows its label ("Invoice")."""
    if len(delimiter) != 1 or delimiter in '".\r\n' or delimiter.isalnum():
        raise ValueError(f"{delimiter!r} cannot be a CSV delimiter")
    labels = _labels(labels)
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
        delimiter=delimiter,
        quotechar='"',
        doublequote=True,
        quoting=csv.QUOTE_MINIMAL,
        lineterminator="\r\n",
    )
    writer.writerow([labels[key] for key in KEYS])
    writer.writerows([_csv_cell(key, row[key], labels) for key in KEYS] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


def _sheet_name(title):
    name = "".join("-" if c in "[]:*?/\\" else c for c in title).strip("' ")
    return name[:31] or "Sheet1"


@file_type("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
def rows_to_xlsx(rows, labels=None, title="", header_lines=()):
    """The rows as a one-sheet workbook: ``title`` and ``header_lines`` (contract,
    factor, date…) at the top, then the header row, frozen and filtered, one row
    per item (texts as text, dates as dates shown dd/mm/yyyy, amounts as numbers
    with two decimals) and a totals row (a SUM formula whose value is stored too,
    so readers that do not compute formulas see the total)."""
    labels = _labels(labels)
    total = grand_total(rows)
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet(_sheet_name(title))
    bold = workbook.add_format({"bold": True})
    styles = {
        "title": workbook.add_format({"bold": True, "font_size": 14}),
        "head": workbook.add_format(
            {"bold": True, "bottom": 1, "text_wrap": True, "valign": "top"}
        ),
        "date": workbook.add_format({"num_format": XLSX_DATE_FORMAT}),
        "amount": workbook.add_format({"num_format": XLSX_AMOUNT_FORMAT}),
        "total": workbook.add_format(
            {"bold": True, "top": 1, "num_format": XLSX_AMOUNT_FORMAT}
        ),
    }
    line = 0
    if title:
        sheet.write_string(line, 0, title, styles["title"])
        line += 1
    for header_line in header_lines:
        sheet.write_string(line, 0, header_line)
        line += 1
    if line:
        line += 1  # a blank row before the table
    head = line
    widths = [len(labels[key]) for key in KEYS]
    for col, key in enumerate(KEYS):
        sheet.write_string(head, col, labels[key], styles["head"])
    amount_col = KEYS.index("amount")
    for index, row in enumerate(rows, start=head + 1):
        for col, key in enumerate(KEYS):
            value = row[key]
            if key == "amount":
                sheet.write_number(index, col, float(value), styles["amount"])
            elif key in DATE_KEYS:
                if value:
                    sheet.write_datetime(index, col, value, styles["date"])
            else:
                if key == "document_type":
                    value = labels[value]
                if value:
                    sheet.write_string(index, col, value)
                    widths[col] = max(widths[col], len(value))
    last = head + len(rows)
    total_line = last + 1
    sheet.write_string(total_line, 0, labels[TOTAL], bold)
    first_cell = xl_rowcol_to_cell(head + 1, amount_col)
    last_cell = xl_rowcol_to_cell(max(last, head + 1), amount_col)
    sheet.write_formula(
        total_line,
        amount_col,
        f"=SUM({first_cell}:{last_cell})",
        styles["total"],
        float(total),
    )
    widths[KEYS.index("invoice_date")] = max(widths[KEYS.index("invoice_date")], 10)
    widths[KEYS.index("due_date")] = max(widths[KEYS.index("due_date")], 10)
    widths[amount_col] = max(widths[amount_col], len(f"{total:,.2f}"), 12)
    for col, width in enumerate(widths):
        sheet.set_column(col, col, min(width + 2, MAX_WIDTH))
    sheet.freeze_panes(head + 1, 0)
    sheet.autofilter(head, 0, max(last, head), len(KEYS) - 1)
    sheet.repeat_rows(head)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    workbook.close()
    return buffer.getvalue()


EXPORTERS = {"xlsx": rows_to_xlsx, "csv": rows_to_csv}


def export(fmt, rows, **kwargs):
    """``(content, extension, mimetype)`` of the rows in format ``fmt`` (a key of
    :data:`EXPORTERS`); ``ValueError`` for an unknown format. Options that the
    format's function does not take are ignored, so the caller can pass the same
    options (``labels``, ``title``, ``header_lines``…) for every format."""
    try:
        exporter = EXPORTERS[fmt]
    except KeyError:
        known = ", ".join(sorted(EXPORTERS))
        raise ValueError(
            f"unknown factoring file format {fmt!r} (known: {known})"
        ) from None
    accepted = inspect.signature(exporter).parameters
    options = {key: value for key, value in kwargs.items() if key in accepted}
    return exporter(rows, **options), exporter.extension, exporter.mimetype
