"""What the XLSX documents of the addon share: the download of a workbook stored
on a record, and the block that identifies the creditor and the customer."""

from urllib.parse import quote, urlencode

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_download_action(record, field="xlsx_file", name_field="xlsx_name"):
    """The client action downloading the workbook stored in ``record[field]``."""
    # The type is given: guessing it from the file's first bytes opens a cut
    # zip and logs a WARNING with a traceback at every download.
    query = urlencode({"download": "true", "mimetype": XLSX_MIMETYPE})
    name = quote(record[name_field].replace("/", "-"), safe="")
    return {
        "type": "ir.actions.act_url",
        "url": f"/web/content/{record._name}/{record.id}/{field}/{name}?{query}",
        "target": "self",
    }


def write_parties(env, sheet, row, parties, styles):
    """The creditor and the customer (``credit.document.parties`` data) from
    ``row`` on, in columns A and B; returns the next free row."""
    _ = env._
    for party, label in (
        (parties["creditor"], _("Creditor")),
        (parties["debtor"], _("Customer")),
    ):
        sheet.write(row, 0, label, styles["bold"])
        sheet.write(row, 1, party["name"], styles["bold"])
        for line in party["lines"]:
            row += 1
            sheet.write(row, 1, line, styles["small"])
        row += 2
    return row
