from odoo.tools import SQL


def pre_init_hook(env):
    """Create the column added to journal items beforehand, without a default.

    On a database with millions of journal items the column then costs nothing at
    install: every existing item has no dunning history, so empty is right.
    """
    env.cr.execute(
        SQL(
            "ALTER TABLE account_move_line "
            "ADD COLUMN IF NOT EXISTS dunning_level_id INTEGER"
        )
    )


def post_init_hook(env):
    """Rebuild the receivables trend of the last 12 month ends of every company
    from the accounting, so that the graph is useful from the first day."""
    env["credit.receivable.snapshot"]._rebuild_trend(env["res.company"].search([]))
