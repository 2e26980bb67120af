from odoo.tools import SQL


def pre_init_hook(env):
    """Create beforehand the columns added to large tables, so that installing
    costs one statement each instead of a computation per row.

    On a database with millions of journal items the dunning level costs nothing:
    every existing item has no dunning history, so empty is right. Every existing
    contact is a professional debtor at installation (the default debtor type),
    so its legal nature is "trader" until a user says otherwise.
    """
    env.cr.execute(
        SQL(
            "ALTER TABLE account_move_line "
            "ADD COLUMN IF NOT EXISTS dunning_level_id INTEGER"
        )
    )
    env.cr.execute(
        SQL(
            "ALTER TABLE res_partner "
            "ADD COLUMN IF NOT EXISTS credit_legal_nature VARCHAR"
        )
    )
    env.cr.execute(
        SQL(
            "UPDATE res_partner SET credit_legal_nature = 'trader' "
            "WHERE credit_legal_nature IS NULL"
        )
    )
    # No document is factored at installation.
    env.cr.execute(
        SQL(
            "ALTER TABLE account_move "
            "ADD COLUMN IF NOT EXISTS factoring_state VARCHAR DEFAULT 'none'"
        )
    )
    env.cr.execute(
        SQL("ALTER TABLE account_move ALTER COLUMN factoring_state DROP DEFAULT")
    )
    # A claim is born on its invoice date until a user says otherwise.
    env.cr.execute(
        SQL(
            "ALTER TABLE account_move "
            "ADD COLUMN IF NOT EXISTS credit_claim_birth_date DATE"
        )
    )
    env.cr.execute(
        SQL(
            "UPDATE account_move SET credit_claim_birth_date = invoice_date "
            "WHERE invoice_date IS NOT NULL"
        )
    )


def post_init_hook(env):
    """Rebuild the receivables trend of the last 12 month ends of every company
    from the accounting, and compute the prescription dates of the open
    invoices, so that the graph and the watch are useful from the first day."""
    env["credit.receivable.snapshot"]._rebuild_trend(env["res.company"].search([]))
    # The prescription dates of the open invoices, for the watch's first day.
    env["account.move"]._cron_prescription_watch()
