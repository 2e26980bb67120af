"""The rows, files and totals of a factoring transfer batch."""

import csv
import io
import time
from datetime import date, datetime, timedelta
from decimal import Decimal

import openpyxl
import pytest

from engine.factoring import (
    COLUMNS,
    EXPORTERS,
    LABELS,
    batch_row,
    export,
    grand_total,
    rows_to_csv,
    rows_to_xlsx,
    totals_by_customer,
)

KEYS = [key for key, _label in COLUMNS]
BOM = b"\xef\xbb\xbf"


def row(**values):
    defaults = {
        "customer_name": "Boulangerie Martin",
        "customer_siren": "552100554",
        "customer_vat": "FR40552100554",
        "customer_factor_ref": "ACH-0042",
        "document_type": "invoice",
        "number": "INV/2026/00001",
        "invoice_date": date(2026, 10, 15),
        "due_date": date(2026, 12, 14),
        "amount": Decimal("1200.00"),
        "currency": "EUR",
        "our_ref": "PO 77",
    }
    return batch_row(**(defaults | values))


def read_csv(content, delimiter=";"):
    assert content.startswith(BOM)
    text = content[len(BOM) :].decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def csv_back(cells):
    """A CSV data line as a row dict again (the inverse of the CSV formatting)."""
    values = dict(zip(KEYS, cells, strict=True))
    for key in ("invoice_date", "due_date"):
        values[key] = (
            datetime.strptime(values[key], "%d/%m/%Y").date() if values[key] else ""
        )
    values["amount"] = Decimal(values["amount"])
    values["document_type"] = {"Invoice": "invoice", "Credit note": "credit_note"}[
        values["document_type"]
    ]
    return values


# The row builder


def test_row_has_the_columns_in_order():
    built = row()
    assert list(built) == KEYS
    assert built["amount"] == Decimal("1200.00")
    assert built["invoice_date"] == date(2026, 10, 15)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Decimal("10.005"), Decimal("10.01")),  # half up, not half even
        (Decimal("10.015"), Decimal("10.02")),
        (Decimal("10.0049"), Decimal("10.00")),
        (0.125, Decimal("0.13")),  # a float is read as its shortest repr
        ("99.995", Decimal("100.00")),
        (42, Decimal("42.00")),
    ],
)
def test_amount_rounded_to_the_cent_half_up(amount, expected):
    assert row(amount=amount)["amount"] == expected


@pytest.mark.parametrize("amount", [Decimal("250.004"), Decimal("-250.004"), -250])
def test_credit_note_amount_is_negative_whatever_its_sign(amount):
    built = row(document_type="credit_note", amount=amount)
    assert built["amount"] == Decimal("-250.00")


def test_credit_note_rounds_half_up_away_from_zero():
    assert row(document_type="credit_note", amount="10.005")["amount"] == Decimal(
        "-10.01"
    )


def test_invoice_with_a_negative_amount_is_refused():
    with pytest.raises(ValueError, match="INV/2026/00001.*negative"):
        row(amount=Decimal("-1.00"))


@pytest.mark.parametrize("missing", [None, False, ""])
def test_missing_optional_values_are_empty(missing):
    built = batch_row(
        customer_name="Dupont SA",
        customer_siren=missing,
        customer_vat=missing,
        document_type="invoice",
        number="INV/1",
        invoice_date=missing,
        due_date=missing,
        amount=10,
        currency="EUR",
        our_ref=missing,
    )
    for key in (
        "customer_siren",
        "customer_vat",
        "customer_factor_ref",  # not given at all
        "invoice_date",
        "due_date",
        "our_ref",
    ):
        assert built[key] == "", key


@pytest.mark.parametrize(
    "key", ["customer_name", "document_type", "number", "amount", "currency"]
)
@pytest.mark.parametrize("missing", [None, False, "", "   "])
def test_missing_required_value_is_refused(key, missing):
    with pytest.raises(ValueError, match=f"without {key}"):
        row(**{key: missing})


def test_texts_are_stripped_and_datetimes_become_dates():
    built = row(customer_name="  Dupont SA \n", invoice_date=datetime(2026, 1, 2, 9))
    assert built["customer_name"] == "Dupont SA"
    assert built["invoice_date"] == date(2026, 1, 2)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"document_type": "refund"}, "neither"),
        ({"invoice_date": "2026-10-15"}, "not a date"),
        ({"amount": "12,50"}, "not a number"),
        ({"amount": Decimal("NaN")}, "not a finite number"),
        ({"amount": True}, "not a number"),
        ({"customer_name": ["Dupont"]}, "not a text"),
    ],
)
def test_wrong_values_are_refused(values, message):
    with pytest.raises(ValueError, match=message):
        row(**values)


def test_unknown_value_is_refused():
    with pytest.raises(TypeError, match="customer_city"):
        row(customer_city="Lyon")


# CSV

AWKWARD_NAMES = [
    "Dupont; Fils & Cie",  # the delimiter
    'Le "Petit" Café',  # double quotes
    "Société Générale d'Équipement — Île-de-France",  # accents, apostrophe, dash
    "Ligne 1\nLigne 2",  # a newline
    "Retour\r chariot",  # a carriage return
    "Zoë, Ødegaard & Ça",
]


def test_csv_reads_back_equal_to_the_rows():
    rows = [
        row(customer_name=name, number=f"INV/{i}")
        for i, name in enumerate(AWKWARD_NAMES)
    ]
    rows.append(
        row(
            customer_name="Avoir SARL",
            document_type="credit_note",
            amount="80.5",
            invoice_date=None,
            due_date=None,
            customer_siren=None,
        )
    )
    lines = read_csv(rows_to_csv(rows))
    assert lines[0] == [label for _key, label in COLUMNS]
    assert [csv_back(cells) for cells in lines[1:]] == rows


def test_csv_quotes_what_needs_it_and_only_that():
    content = rows_to_csv([row(customer_name=name) for name in AWKWARD_NAMES])
    text = content.decode("utf-8-sig")
    assert '"Dupont; Fils & Cie";' in text
    assert '"Le ""Petit"" Café";' in text
    assert '"Ligne 1\nLigne 2";' in text
    assert '"Retour\r chariot";' in text
    # No delimiter, quote or line break: not quoted.
    assert "\r\nSociété Générale d'Équipement — Île-de-France;552100554;" in text
    assert "\r\nZoë, Ødegaard & Ça;" in text


def test_csv_encoding_bom_and_line_ends():
    content = rows_to_csv([row(customer_name="Café Noël"), row()])
    assert content.startswith(BOM)
    assert content.count(BOM) == 1
    assert "Café Noël".encode() in content
    body = content[len(BOM) :]
    assert body.endswith(b"\r\n")
    assert body.count(b"\r\n") == 3  # header + 2 rows
    assert b"\n" not in body.replace(b"\r\n", b"")


def test_csv_formats_dates_and_amounts():
    content = rows_to_csv(
        [
            row(amount=Decimal("1234567.5")),
            row(document_type="credit_note", amount=Decimal("0.5")),
        ]
    )
    lines = read_csv(content)
    amount = KEYS.index("amount")
    assert lines[1][amount] == "1234567.50"  # point, 2 decimals, no thousands
    assert lines[2][amount] == "-0.50"  # negative amounts are not neutralised
    assert lines[1][KEYS.index("invoice_date")] == "15/10/2026"
    assert lines[1][KEYS.index("due_date")] == "14/12/2026"
    assert lines[2][KEYS.index("document_type")] == "Credit note"


@pytest.mark.parametrize(
    "name",
    ['=HYPERLINK("http://x")', "+33 1 23", "-Lab", "@SUM(A1)", "\tTab"],
)
def test_csv_neutralises_formulas(name):
    lines = read_csv(rows_to_csv([row(customer_name=name, our_ref=name)]))
    # A leading tab is stripped by the row builder, like any other blank.
    expected = "'" + name.strip() if name.strip()[0] in "=+-@" else name.strip()
    assert lines[1][KEYS.index("customer_name")] == expected
    assert lines[1][KEYS.index("our_ref")] == expected


def test_csv_keeps_an_inner_equal_sign():
    lines = read_csv(rows_to_csv([row(customer_name="A=B SARL")]))
    assert lines[1][0] == "A=B SARL"


def test_csv_translated_labels_and_other_delimiter():
    labels = {"customer_name": "Client", "amount": "Montant TTC", "invoice": "Facture"}
    lines = read_csv(rows_to_csv([row(customer_name="Dupont, Fils")], labels, ","), ",")
    assert lines[0][0] == "Client"
    assert lines[0][KEYS.index("amount")] == "Montant TTC"
    assert lines[0][KEYS.index("number")] == "Number"  # not translated: English
    assert lines[1][0] == "Dupont, Fils"
    assert lines[1][KEYS.index("document_type")] == "Facture"


@pytest.mark.parametrize("delimiter", ["", ";;", '"', ".", "\n", "a"])
def test_csv_refuses_a_bad_delimiter(delimiter):
    with pytest.raises(ValueError, match="delimiter"):
        rows_to_csv([row()], delimiter=delimiter)


# XLSX


def open_xlsx(content, data_only=False):
    workbook = openpyxl.load_workbook(io.BytesIO(content), data_only=data_only)
    assert len(workbook.worksheets) == 1
    return workbook.worksheets[0]


def sample_rows():
    return [
        row(customer_name="Zèbre SAS", number="INV/3", amount="100.10"),
        row(
            customer_name='=HYPERLINK("http://evil")',
            number="INV/4",
            amount="0.005",
            customer_siren="012345678",
        ),
        row(
            customer_name="Zèbre SAS",
            number="RINV/1",
            document_type="credit_note",
            amount="20",
            due_date=None,
        ),
    ]


def test_xlsx_layout_and_values():
    rows = sample_rows()
    content = rows_to_xlsx(
        rows,
        labels={"customer_name": "Client", "total": "Total général"},
        title="Bordereau CESSION/2026/0001",
        header_lines=("Contrat F-123", "Factor: Eurofactor", "Date: 30/11/2026"),
    )
    sheet = open_xlsx(content)
    assert sheet.title == "Bordereau CESSION-2026-0001"
    assert sheet["A1"].value == "Bordereau CESSION/2026/0001"
    assert [sheet.cell(r, 1).value for r in (2, 3, 4)] == [
        "Contrat F-123",
        "Factor: Eurofactor",
        "Date: 30/11/2026",
    ]
    assert sheet.cell(5, 1).value is None  # a blank row
    head = 6
    assert [c.value for c in sheet[head]] == ["Client"] + [
        label for _key, label in COLUMNS[1:]
    ]
    assert sheet.freeze_panes == f"A{head + 1}"
    assert sheet.auto_filter.ref == f"A{head}:K{head + 3}"

    amount = KEYS.index("amount") + 1
    first = sheet[head + 1]
    assert first[0].value == "Zèbre SAS"
    assert first[0].data_type == "s"
    invoice_date = first[KEYS.index("invoice_date")]
    assert invoice_date.is_date
    assert invoice_date.value == datetime(2026, 10, 15)
    assert invoice_date.number_format == "dd/mm/yyyy"
    assert first[amount - 1].value == pytest.approx(100.10)
    assert first[amount - 1].data_type == "n"
    assert first[amount - 1].number_format == "#,##0.00"
    assert first[KEYS.index("document_type")].value == "Invoice"

    second = sheet[head + 2]
    # A text that looks like a formula stays a text, never a formula.
    assert second[0].value == '=HYPERLINK("http://evil")'
    assert second[0].data_type == "s"
    assert second[KEYS.index("customer_siren")].value == "012345678"
    assert second[amount - 1].value == pytest.approx(0.01)

    third = sheet[head + 3]
    assert third[amount - 1].value == pytest.approx(-20.0)
    assert third[KEYS.index("due_date")].value is None
    assert third[KEYS.index("document_type")].value == "Credit note"

    total_row = head + 4
    assert sheet.cell(total_row, 1).value == "Total général"
    assert sheet.cell(total_row, amount).value == f"=SUM(I{head + 1}:I{head + 3})"
    cached = open_xlsx(content, data_only=True)
    assert cached.cell(total_row, amount).value == pytest.approx(80.11)
    assert sheet.column_dimensions["A"].width > 20  # '=HYPERLINK("http://evil")'


def test_xlsx_without_title_starts_with_the_header():
    sheet = open_xlsx(rows_to_xlsx([row()]))
    assert sheet["A1"].value == "Customer"
    assert sheet.freeze_panes == "A2"
    assert sheet.title == "Sheet1"
    assert sheet["A3"].value == "Total"
    assert open_xlsx(rows_to_xlsx([row()]), data_only=True)["I3"].value == 1200


def test_xlsx_of_no_rows_has_a_zero_total():
    content = rows_to_xlsx([], title="Empty")
    sheet = open_xlsx(content, data_only=True)
    assert [c.value for c in sheet[3]][:2] == ["Customer", "SIREN"]
    assert sheet["A4"].value == "Total"
    assert sheet["I4"].value == 0


# Totals


def test_totals_by_customer_and_grand_total():
    rows = [
        row(customer_name="Zèbre SAS", amount="100.00"),
        row(customer_name="élan SARL", customer_siren="111111111", amount="10.00"),
        row(customer_name="Zèbre SAS", amount="50", document_type="credit_note"),
        row(customer_name="Alpha", customer_siren=None, amount="0.10"),
        # Same name, another SIREN: another customer.
        row(customer_name="élan SARL", customer_siren="222222222", amount="5.00"),
        row(customer_name="Élan SARL", customer_siren="111111111", amount="1.00"),
    ]
    assert totals_by_customer(rows) == [
        ("Alpha", "", 1, Decimal("0.10")),
        ("Élan SARL", "111111111", 1, Decimal("1.00")),
        ("élan SARL", "111111111", 1, Decimal("10.00")),
        ("élan SARL", "222222222", 1, Decimal("5.00")),
        ("Zèbre SAS", "552100554", 2, Decimal("50.00")),
    ]
    assert grand_total(rows) == Decimal("66.10")
    assert grand_total([]) == Decimal("0.00")
    assert totals_by_customer([]) == []


def test_totals_refuse_several_currencies():
    rows = [row(), row(currency="USD")]
    with pytest.raises(ValueError, match="EUR, USD"):
        grand_total(rows)
    with pytest.raises(ValueError, match="several currencies"):
        totals_by_customer(rows)
    with pytest.raises(ValueError, match="several currencies"):
        rows_to_xlsx(rows)


# The export interface


def test_export_formats():
    rows = sample_rows()
    content, extension, mimetype = export(
        "csv", rows, labels={"customer_name": "Client"}, title="ignored by CSV"
    )
    assert (extension, mimetype) == ("csv", "text/csv")
    assert content == rows_to_csv(rows, {"customer_name": "Client"})

    content, extension, mimetype = export(
        "xlsx", rows, title="T", header_lines=["H"], delimiter="ignored by XLSX"
    )
    assert extension == "xlsx"
    assert mimetype.endswith("spreadsheetml.sheet")
    assert content.startswith(b"PK")  # a zip
    assert open_xlsx(content)["A1"].value == "T"
    assert set(EXPORTERS) == {"xlsx", "csv"}


def test_export_unknown_format():
    with pytest.raises(ValueError, match="'txt'.*known: csv, xlsx"):
        export("txt", [row()])


def test_labels_cover_the_columns_types_and_total():
    assert set(LABELS) == set(KEYS) | {"invoice", "credit_note", "total"}


def test_ten_thousand_rows_export_quickly():
    start = date(2026, 1, 1)
    rows = [
        row(
            customer_name=f"Client {i % 500:03d} SAS",
            customer_siren=f"{100000000 + i % 500}",
            number=f"INV/2026/{i:05d}",
            invoice_date=start + timedelta(days=i % 300),
            due_date=start + timedelta(days=i % 300 + 60),
            amount=Decimal(i) / 7,
            document_type="credit_note" if i % 10 == 0 else "invoice",
        )
        for i in range(10_000)
    ]
    began = time.perf_counter()
    xlsx, _ext, _mime = export("xlsx", rows, title="Bench")
    csv_content, _ext, _mime = export("csv", rows)
    totals = totals_by_customer(rows)
    elapsed = time.perf_counter() - began
    print(f"10,000 rows: XLSX + CSV + totals in {elapsed:.2f} s")
    assert elapsed < 5
    assert len(read_csv(csv_content)) == 10_001
    assert len(totals) == 500
    assert sum(total for *_key, total in totals) == grand_total(rows)
    sheet = open_xlsx(xlsx, data_only=True)
    assert sheet.max_row == 3 + 10_000 + 1
    assert sheet.cell(sheet.max_row, KEYS.index("amount") + 1).value == pytest.approx(
        float(grand_total(rows))
    )
