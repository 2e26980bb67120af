from odoo.tools import SQL


def pre_init_hook(env):
    """Create the stored columns added to journal items and entries beforehand.

    Without them the install would compute ``dunning_level_id`` for every existing
    journal item and entry; every existing item has no dunning history, so an empty
    column is already the right value and the install stays instant on big databases.
    """
    for table in ("account_move_line", "account_move"):
        env.cr.execute(
            SQL(
                "ALTER TABLE %s ADD COLUMN IF NOT EXISTS dunning_level_id INTEGER",
                SQL.identifier(table),
            )
        )
