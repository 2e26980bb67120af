#!/usr/bin/env python3
"""Benchmark of the receivables oversight (poste clients) of l10n_fr_credit_collection.

Works on a copy of the dunning benchmark's database (``bench_dunning.py``):

* aged: the aged balance (``credit.aged.balance.wizard``) of the benchmark company
  as of a past date, computed and exported to XLSX (``action_export_xlsx``).

Before timing, ``--items N`` (100000) makes sure the company has at least N
receivable journal items: when it has fewer, its journal entries (all their lines
and the reconciliations between them) are copied by SQL, each copy dated one day
earlier than the previous one, and committed. This changes the database: it is
refused on ``cc_bench`` itself (copy it first, see bench/README.md).

Each phase runs in its own transaction, rolled back at the end.

Usage (see bench/README.md)::

    python3 bench/bench_oversight.py --db cc_bench_oversight --phase aged -- \\
        --db_host=127.0.0.1 --db_user=odoo \\
        --addons-path=/opt/odoo18/addons,/tmp/bench_addons
"""

import argparse
import base64
import json
import math
import os
import sys
from contextlib import contextmanager
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_dunning import (  # noqa: E402
    MODULE,
    PhaseMeter,
    addon_revision,
    make_env,
    method_timers,
    print_phase,
    progress,
    read_state,
)

import odoo  # noqa: E402
from odoo import fields  # noqa: E402
from odoo.modules.registry import Registry  # noqa: E402
from odoo.tools import SQL, config  # noqa: E402

PROTECTED_DATABASES = ("cc_bench",)
AGED_METHODS = (
    ("credit.aged.balance.wizard", "action_export_xlsx"),
    ("credit.aged.balance.wizard", "_compute_lines"),
    ("credit.aged.balance.wizard", "_get_xlsx"),
    ("credit.aged.balance.wizard", "_get_xlsx_data"),
)


def receivable_items_sql(company_id):
    return SQL(
        """SELECT count(*)
             FROM account_move_line line
             JOIN account_account account ON account.id = line.account_id
            WHERE line.company_id = %s
              AND account.account_type = 'asset_receivable'
              AND line.parent_state = 'posted'""",
        company_id,
    )


def parse_args(argv):
    parser = argparse.ArgumentParser(
        allow_abbrev=False,
        description=__doc__.split("\n\n", 1)[0],
        epilog="Arguments after '--' go to Odoo's configuration parser.",
    )
    parser.add_argument("--db", required=True, help="database (a copy of cc_bench)")
    parser.add_argument(
        "--phase",
        default="aged",
        help="comma-separated phases to time: aged (aged)",
    )
    parser.add_argument(
        "--items",
        type=int,
        default=100000,
        help="receivable journal items the company must have; the entries are "
        "copied by SQL until it does (100000)",
    )
    parser.add_argument(
        "--as-of-days",
        type=int,
        default=30,
        help="the aged balance is computed as of this many days ago (30)",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="measurements of each phase (1)"
    )
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON")
    args, odoo_args = parser.parse_known_args(argv)
    args.phases = [name.strip() for name in args.phase.split(",") if name.strip()]
    unknown = set(args.phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phase(s): {', '.join(sorted(unknown))}")
    return args, [arg for arg in odoo_args if arg != "--"]


# ------------------------------------------------------------------ more items


def _columns(env, table):
    rows = env.execute_query(
        SQL(
            """SELECT column_name FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name = %s
             ORDER BY ordinal_position""",
            table,
        )
    )
    return [name for (name,) in rows]


def _copy_rows(env, table, where, overrides):
    """INSERT INTO table SELECT every column, ``overrides`` (column: SQL) replacing
    some of them."""
    columns = _columns(env, table)
    values = [
        overrides.get(column, SQL.identifier("source", column)) for column in columns
    ]
    env.execute_query(
        SQL(
            "INSERT INTO %s (%s) SELECT %s FROM %s source WHERE %s",
            SQL.identifier(table),
            SQL(", ").join(SQL.identifier(column) for column in columns),
            SQL(", ").join(values),
            SQL.identifier(table),
            where,
        )
    )


def multiply_entries(registry, company_id, target):
    """Copy the company's journal entries until it has ``target`` receivable
    items. Copy k gets the ids of the originals plus k times an offset, names
    suffixed with ``/Xk`` (unique per journal), dates k days earlier, and the
    reconciliations between its lines; links to payments, statements, hashes and
    full reconciliations are left empty (the aged balance does not read them)."""
    with registry.cursor() as cr:
        env = make_env(cr, company_id)
        [(items,)] = env.execute_query(receivable_items_sql(company_id))
        if items >= target:
            progress(f"{items} receivable items: no copy needed.")
            return items
        copies = math.ceil(target / items) - 1
        progress(f"{items} receivable items: copying the entries {copies} time(s)")
        offsets = {}
        for table in ("account_move", "account_move_line", "account_partial_reconcile"):
            [(top,)] = env.execute_query(
                SQL("SELECT COALESCE(max(id), 0) FROM %s", SQL.identifier(table))
            )
            offsets[table] = top + 1
        move_off = offsets["account_move"]
        line_off = offsets["account_move_line"]
        partial_off = offsets["account_partial_reconcile"]
        # The originals only: the copies get ids above the offsets.
        originals = {
            table: SQL("source.company_id = %s AND source.id < %s", company_id, offset)
            for table, offset in offsets.items()
        }
        for copy in range(1, copies + 1):
            suffix = f"/X{copy}"
            days = copy  # date - integer is a date
            _copy_rows(
                env,
                "account_move",
                originals["account_move"],
                {
                    "id": SQL("source.id + %s", copy * move_off),
                    "name": SQL("source.name || %s", suffix),
                    "origin_payment_id": SQL("NULL"),
                    "statement_line_id": SQL("NULL"),
                    "tax_cash_basis_rec_id": SQL("NULL"),
                    "tax_cash_basis_origin_move_id": SQL("NULL"),
                    "auto_post_origin_id": SQL("NULL"),
                    "reversed_entry_id": SQL(
                        "source.reversed_entry_id + %s", copy * move_off
                    ),
                    "message_main_attachment_id": SQL("NULL"),
                    "secure_sequence_number": SQL("NULL"),
                    "inalterable_hash": SQL("NULL"),
                    "access_token": SQL("NULL"),
                    "date": SQL("source.date - %s", days),
                    "invoice_date": SQL("source.invoice_date - %s", days),
                    "invoice_date_due": SQL("source.invoice_date_due - %s", days),
                },
            )
            _copy_rows(
                env,
                "account_move_line",
                originals["account_move_line"],
                {
                    "id": SQL("source.id + %s", copy * line_off),
                    "move_id": SQL("source.move_id + %s", copy * move_off),
                    "move_name": SQL("source.move_name || %s", suffix),
                    "payment_id": SQL("NULL"),
                    "statement_line_id": SQL("NULL"),
                    "statement_id": SQL("NULL"),
                    "full_reconcile_id": SQL("NULL"),
                    "date": SQL("source.date - %s", days),
                    "invoice_date": SQL("source.invoice_date - %s", days),
                    "date_maturity": SQL("source.date_maturity - %s", days),
                    "discount_date": SQL("source.discount_date - %s", days),
                },
            )
            _copy_rows(
                env,
                "account_partial_reconcile",
                originals["account_partial_reconcile"],
                {
                    "id": SQL("source.id + %s", copy * partial_off),
                    "debit_move_id": SQL("source.debit_move_id + %s", copy * line_off),
                    "credit_move_id": SQL(
                        "source.credit_move_id + %s", copy * line_off
                    ),
                    "full_reconcile_id": SQL("NULL"),
                    "exchange_move_id": SQL(
                        "source.exchange_move_id + %s", copy * move_off
                    ),
                    "max_date": SQL("source.max_date - %s", days),
                },
            )
        for table in offsets:
            env.execute_query(
                SQL(
                    "SELECT setval(%s, (SELECT max(id) FROM %s))",
                    f"{table}_id_seq",
                    SQL.identifier(table),
                )
            )
        [(items,)] = env.execute_query(receivable_items_sql(company_id))
        cr.commit()
    with registry.cursor() as cr:
        cr.execute("ANALYZE account_move, account_move_line, account_partial_reconcile")
    progress(f"{items} receivable items after the copies.")
    return items


# ---------------------------------------------------------------------- phases


class Bench:
    def __init__(self, registry, args, company_id):
        self.registry = registry
        self.args = args
        self.company_id = company_id

    @contextmanager
    def transaction(self):
        """A cursor whose work is always rolled back."""
        cr = self.registry.cursor()
        try:
            yield make_env(cr, self.company_id)
        finally:
            cr.rollback()
            cr.close()

    def aged_phase(self):
        as_of = fields.Date.today() - timedelta(days=self.args.as_of_days)
        with self.transaction() as env:
            with method_timers(self.registry, AGED_METHODS) as timers:
                with PhaseMeter(env.cr) as meter:
                    wizard = env["credit.aged.balance.wizard"].create({"date": as_of})
                    wizard.action_export_xlsx()
                    env.flush_all()
            result = {**meter.result, "methods": timers}
            # Checks, outside the timed block.
            [(items, balance)] = env.execute_query(
                SQL(
                    """SELECT count(*), COALESCE(sum(line.balance), 0)
                         FROM account_move_line line
                         JOIN account_account account ON account.id = line.account_id
                        WHERE line.company_id = %s
                          AND account.account_type = 'asset_receivable'
                          AND line.parent_state = 'posted'
                          AND line.date <= %s""",
                    self.company_id,
                    as_of,
                )
            )
            total = sum(wizard.line_ids.mapped("amount_total"))
            result.update(
                {
                    "as_of": str(as_of),
                    "receivable_items_up_to_as_of": items,
                    "rows": len(wizard.line_ids),
                    "customers": len(wizard.line_ids.partner_id),
                    "aged_total": round(total, 2),
                    "receivable_balance": round(balance, 2),
                    "totals_match": abs(total - float(balance)) < 0.005,
                    "xlsx_bytes": len(base64.b64decode(wizard.xlsx_file)),
                }
            )
        return result


PHASES = {"aged": Bench.aged_phase}


def main(argv=None):
    args, odoo_args = parse_args(sys.argv[1:] if argv is None else argv)
    config.parse_config(odoo_args, setup_logging=True)
    if config["init"] or config["update"]:
        registry = Registry.new(args.db, update_module=True)
    else:
        registry = Registry(args.db)
    with registry.cursor() as cr:
        env = make_env(cr)
        module = env["ir.module.module"].search([("name", "=", MODULE)])
        if module.state != "installed":
            raise SystemExit(f"{MODULE} is not installed in database {args.db}.")
        state = read_state(env)
    if not state or state.get("step") != "done":
        raise SystemExit(
            f"Database {args.db} holds no finished dunning benchmark data: copy "
            "cc_bench (createdb -T cc_bench ...)."
        )
    company_id = state["company_id"]
    if args.db in PROTECTED_DATABASES:
        raise SystemExit(f"Copy {args.db} first: this benchmark adds entries to it.")
    items = multiply_entries(registry, company_id, args.items)
    results = {
        "db": args.db,
        "addon_revision": addon_revision(),
        "odoo": odoo.release.version,
        "cpus": os.cpu_count(),
        "receivable_items": items,
        "runs": [],
    }
    print(
        f"\n{MODULE} at {results['addon_revision']}; Odoo {results['odoo']}; "
        f"{results['cpus']} CPUs; load average {os.getloadavg()[0]:.2f}; "
        f"{items} receivable items in company {company_id}"
    )
    bench = Bench(registry, args, company_id)
    for phase in args.phases:
        for attempt in range(1, args.repeat + 1):
            result = PHASES[phase](bench)
            results["runs"].append({"phase": phase, "attempt": attempt, **result})
            print_phase(f"{phase} (attempt {attempt})", result, 0)
    if args.json:
        with open(args.json, "w") as output:
            json.dump(results, output, indent=2, default=str)
        print(f"\nResults written to {args.json}")


if __name__ == "__main__":
    main()
