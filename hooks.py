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
