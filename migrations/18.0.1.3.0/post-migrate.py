"""18.0.1.3.0: the prescription dates of the open invoices, at once rather than
at the next run of the daily prescription watch."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["account.move"]._cron_prescription_watch()
