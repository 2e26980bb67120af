#!/usr/bin/env python3
"""Scale a dunning benchmark database up by SQL, for the growth table.

Generating 100,000 documents through the ORM (``bench_dunning.py``) takes well
over an hour on two cores, and Odoo's numbering makes it slower as the journals
fill up. This script multiplies instead what ``bench_dunning.py`` generated for
its company: ``--copies K`` adds K copies of every customer and of everything
that belongs to them, so that the company holds (K + 1) times the documents
with the same shape (same dates, amounts, payments, levels and history per
customer):

* the customers and their contacts (``res_partner``), names suffixed ``#k``;
* the company's journal entries, their journal items and the partial
  reconciliations between them (names suffixed ``/Ck``: unique per journal);
* the dunning letters of the past runs and their lines (the history the next
  run reads), in the same runs.

References to the copied tables follow the copy; references to rows that
belong to a single entry and are not copied (payments, bank statements, full
reconciliations, attachments, hashes) are left empty; everything else (journals,
accounts, taxes, levels, runs, users) is shared. Committed, then analyzed: run it
on a copy of the database, never on ``cc_bench`` itself.

Usage (see bench/README.md)::

    createdb -h 127.0.0.1 -U odoo -T cc_bench cc_bench100k
    python3 bench/bench_scale.py --db cc_bench100k --copies 4 -- \\
        --db_host=127.0.0.1 --db_user=odoo \\
        --addons-path=/opt/odoo18/addons,/tmp/bench_addons
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_dunning import COMPANY_NAME, make_env, progress  # noqa: E402
from bench_oversight import _columns  # noqa: E402

import odoo  # noqa: E402
from odoo.modules.registry import Registry  # noqa: E402
from odoo.tools import SQL, config  # noqa: E402

PROTECTED_DATABASES = ("cc_bench",)
# Copied tables, in the order of their references, with the column that ties
# their rows to the benchmark company's customers.
COPIED = (
    "res_partner",
    "account_move",
    "account_move_line",
    "account_partial_reconcile",
    "credit_dunning_letter",
    "credit_dunning_letter_line",
)
# Rows owned by one entry that are not copied: references to them are emptied.
EMPTIED = (
    "account_payment",
    "account_bank_statement",
    "account_bank_statement_line",
    "account_full_reconcile",
    "ir_attachment",
    "mail_message",
    "mail_activity",
)
EMPTIED_COLUMNS = ("secure_sequence_number", "inalterable_hash", "access_token")
SUFFIXED = {
    "res_partner": ("name", "complete_name"),
    "account_move": ("name",),
    "account_move_line": ("move_name",),
    "credit_dunning_letter": ("name",),
}


def parse_args(argv):
    """The benchmark's options, then Odoo's (after ``--``), as bench_peer.py."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="a copy of the benchmark database")
    parser.add_argument(
        "--copies",
        type=int,
        default=4,
        help="copies of the company's customers and documents to add (4: x5)",
    )
    args, odoo_args = parser.parse_known_args(argv)
    return args, [arg for arg in odoo_args if arg != "--"]


def _foreign_keys(env, table):
    """``{column: referenced table}`` of ``table``."""
    rows = env.execute_query(
        SQL(
            """SELECT att.attname, ref.relname
                 FROM pg_constraint con
                 JOIN pg_class tab ON tab.oid = con.conrelid
                 JOIN pg_class ref ON ref.oid = con.confrelid
                 JOIN pg_attribute att
                   ON att.attrelid = con.conrelid AND att.attnum = con.conkey[1]
                WHERE con.contype = 'f' AND tab.relname = %s""",
            table,
        )
    )
    return dict(rows)


def _selection(company_id, offsets):
    """The original rows of each copied table that belong to the company's
    customers (the copies get ids above the offsets)."""
    customers = SQL(
        """SELECT DISTINCT partner.commercial_partner_id
             FROM account_move_line line
             JOIN account_account account ON account.id = line.account_id
             JOIN res_partner partner ON partner.id = line.partner_id
            WHERE line.company_id = %s
              AND account.account_type = 'asset_receivable'
              AND line.id < %s""",
        company_id,
        offsets["account_move_line"],
    )
    return {
        "res_partner": SQL(
            "source.commercial_partner_id IN (%s) AND source.id < %s",
            customers,
            offsets["res_partner"],
        ),
        "account_move": SQL(
            "source.company_id = %s AND source.id < %s",
            company_id,
            offsets["account_move"],
        ),
        "account_move_line": SQL(
            "source.company_id = %s AND source.id < %s",
            company_id,
            offsets["account_move_line"],
        ),
        "account_partial_reconcile": SQL(
            "source.company_id = %s AND source.id < %s",
            company_id,
            offsets["account_partial_reconcile"],
        ),
        "credit_dunning_letter": SQL(
            "source.company_id = %s AND source.id < %s",
            company_id,
            offsets["credit_dunning_letter"],
        ),
        "credit_dunning_letter_line": SQL(
            """source.id < %s AND source.letter_id IN (
                   SELECT id FROM credit_dunning_letter WHERE company_id = %s)""",
            offsets["credit_dunning_letter_line"],
            company_id,
        ),
    }


def _overrides(env, table, copy, offsets):
    """Column: SQL expression of copy ``copy`` for the copied rows of ``table``."""
    shift = {name: copy * offset for name, offset in offsets.items()}
    overrides = {"id": SQL("source.id + %s", shift[table])}
    for column, target in _foreign_keys(env, table).items():
        source = SQL.identifier("source", column)
        if target == "res_partner":
            # Partners of the company's customers were copied; others are shared.
            overrides[column] = SQL(
                """CASE WHEN %s IN (SELECT id FROM bench_scale_partner)
                        THEN %s + %s ELSE %s END""",
                source,
                source,
                shift["res_partner"],
                source,
            )
        elif target in offsets and COPIED.index(target) > COPIED.index(table):
            # Copied after this table (a cash-basis link, say): left empty.
            overrides[column] = SQL("NULL")
        elif target in offsets:
            overrides[column] = SQL("%s + %s", source, shift[target])
        elif target in EMPTIED:
            overrides[column] = SQL("NULL")
    for column in EMPTIED_COLUMNS:
        overrides[column] = SQL("NULL")
    suffix = f" #{copy}" if table == "res_partner" else f"/C{copy}"
    for column in SUFFIXED.get(table, ()):
        overrides[column] = SQL("%s || %s", SQL.identifier("source", column), suffix)
    columns = set(_columns(env, table))
    return {column: sql for column, sql in overrides.items() if column in columns}


def _copy(env, table, where, overrides):
    columns = _columns(env, table)
    env.execute_query(
        SQL(
            "INSERT INTO %s (%s) SELECT %s FROM %s source WHERE %s",
            SQL.identifier(table),
            SQL(", ").join(SQL.identifier(column) for column in columns),
            SQL(", ").join(
                overrides.get(column, SQL.identifier("source", column))
                for column in columns
            ),
            SQL.identifier(table),
            where,
        )
    )
    return env.cr.rowcount


def scale(registry, copies):
    with registry.cursor() as cr:
        env = make_env(cr)
        company = env["res.company"].search([("name", "=", COMPANY_NAME)], limit=1)
        if not company:
            raise SystemExit(
                f"No company {COMPANY_NAME!r}: run bench_dunning.py first."
            )
        offsets = {}
        for table in COPIED:
            [(top,)] = env.execute_query(
                SQL("SELECT COALESCE(max(id), 0) FROM %s", SQL.identifier(table))
            )
            # A round offset: the copies of a row are easy to recognise.
            offsets[table] = 10 ** len(str(top + 1))
        where = _selection(company.id, offsets)
        env.execute_query(
            SQL(
                "CREATE TEMP TABLE bench_scale_partner AS "
                "SELECT source.id FROM res_partner source WHERE %s",
                where["res_partner"],
            )
        )
        for copy in range(1, copies + 1):
            started = time.perf_counter()
            counts = {
                table: _copy(
                    env, table, where[table], _overrides(env, table, copy, offsets)
                )
                for table in COPIED
            }
            progress(
                f"copy {copy}/{copies} in {time.perf_counter() - started:.1f} s: "
                + ", ".join(f"{table} {count}" for table, count in counts.items())
            )
        for table in COPIED:
            env.execute_query(
                SQL(
                    "SELECT setval(%s, (SELECT max(id) FROM %s))",
                    f"{table}_id_seq",
                    SQL.identifier(table),
                )
            )
        cr.commit()
    with registry.cursor() as cr:
        cr.execute("ANALYZE")
        cr.execute(
            """SELECT count(*) FROM account_move
                WHERE company_id = %s AND move_type IN ('out_invoice', 'out_refund')
                  AND state = 'posted'""",
            [company.id],
        )
        progress(f"{cr.fetchone()[0]} posted customer documents after the copies.")


def main(argv=None):
    args, odoo_args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.db in PROTECTED_DATABASES:
        raise SystemExit(f"{args.db} is the reference database: copy it first.")
    config.parse_config([*odoo_args, "-d", args.db])
    odoo.service.server.load_server_wide_modules()
    scale(Registry(args.db), args.copies)


if __name__ == "__main__":
    main()
