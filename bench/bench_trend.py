#!/usr/bin/env python3
"""Benchmark of the receivables trend and overview of l10n_fr_credit_collection.

Times, on an existing database where the addon is installed (a copy of the
``cc_bench`` database of ``bench_dunning.py``):

* backfill: ``credit.receivable.snapshot._rebuild_trend(company)``, the 12
  month-end snapshots rebuilt from the accounting (what the install does);
* overview: ``credit.overview.action_open_overview()``, every figure of the
  overview refreshed.

Each phase runs in its own transaction, rolled back at the end.

Usage (see bench/README.md)::

    python3 bench/bench_trend.py --db cc_bench_h -- \\
        --db_host=127.0.0.1 --db_user=odoo \\
        --addons-path=/opt/odoo18/addons,/tmp/bench_addons

Options before ``--`` are the benchmark's; the ones after it go to Odoo's
configuration parser (``odoo.tools.config.parse_config``).
"""

import argparse
import json
import os
import sys
import time

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tools import SQL, config

MODULE = "l10n_fr_credit_collection"
COMPANY_NAME = "Bench Recouvrement SAS"
TARGET_BACKFILL_S = 30.0


def parse_args(argv):
    if "--" in argv:
        index = argv.index("--")
        own, odoo_args = argv[:index], argv[index + 1 :]
    else:
        own, odoo_args = argv, []
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="database (a copy of cc_bench)")
    parser.add_argument(
        "--company", help="company name (default: the benchmark company)"
    )
    parser.add_argument(
        "--phases", default="backfill,overview", help="phases to time, in order"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="measurements of each phase"
    )
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args(own)
    args.phases = [phase.strip() for phase in args.phases.split(",") if phase]
    return args, ["-d", args.db, *odoo_args]


def find_company(env, name):
    Company = env["res.company"]
    company = Company.search([("name", "=", name or COMPANY_NAME)], limit=1)
    if company or name:
        return company
    # Otherwise the company with the most receivable items.
    rows = env.execute_query(
        SQL(
            "SELECT company_id FROM account_move_line "
            "WHERE account_id IN (SELECT id FROM account_account "
            "WHERE account_type = 'asset_receivable') "
            "GROUP BY company_id ORDER BY COUNT(*) DESC LIMIT 1"
        )
    )
    return Company.browse(rows[0][0]) if rows else Company


def data_shape(env, company):
    row = env.execute_query_dict(
        SQL(
            """
            WITH receivable AS (
                SELECT id FROM account_account
                 WHERE account_type = 'asset_receivable'
            )
            SELECT
              (SELECT COUNT(*) FROM account_move
                WHERE company_id = %(c)s AND state = 'posted'
                  AND move_type IN ('out_invoice', 'out_refund')) AS documents,
              (SELECT COUNT(*) FROM account_move_line
                WHERE company_id = %(c)s AND parent_state = 'posted'
                  AND account_id IN (SELECT id FROM receivable)) AS receivable_items,
              (SELECT COUNT(*) FROM account_move_line
                WHERE company_id = %(c)s AND parent_state = 'posted'
                  AND account_id IN (SELECT id FROM receivable)
                  AND NOT reconciled) AS open_items,
              (SELECT COUNT(*) FROM account_partial_reconcile
                WHERE company_id = %(c)s) AS partial_reconciliations,
              (SELECT MIN(date) FROM account_move_line
                WHERE company_id = %(c)s
                  AND account_id IN (SELECT id FROM receivable)) AS first_item_date
            """,
            c=company.id,
        )
    )[0]
    row["first_item_date"] = str(row["first_item_date"])
    return row


def measure(registry, company_id, phase):
    with registry.cursor() as cr:
        env = api.Environment(
            cr, SUPERUSER_ID, {"allowed_company_ids": [company_id], "tz": "UTC"}
        )
        company = env["res.company"].browse(company_id)
        env.flush_all()
        env.invalidate_all()
        load = os.getloadavg()[0]
        queries = cr.sql_log_count
        start = time.perf_counter()
        if phase == "backfill":
            snapshots = env["credit.receivable.snapshot"]._rebuild_trend(company)
            env.flush_all()
            figures = {
                "snapshots": len(snapshots),
                "month_ends": [str(day) for day in sorted(snapshots.mapped("date"))][
                    :: max(len(snapshots) - 1, 1)
                ],
                "last": {
                    fname: snapshots.sorted("date")[-1:][fname]
                    for fname in ("amount_open", "amount_overdue", "dso")
                }
                if snapshots
                else {},
            }
        elif phase == "overview":
            action = env["credit.overview"].action_open_overview()
            env.flush_all()
            overview = env["credit.overview"].browse(action["res_id"])
            figures = {
                fname: overview[fname]
                for fname in (
                    "amount_open",
                    "amount_overdue",
                    "dso",
                    "overdue_customer_count",
                    "letter_count",
                    "hold_count",
                    "penalty_count",
                    "court_count",
                )
            }
        else:
            raise SystemExit(f"unknown phase {phase}")
        wall = time.perf_counter() - start
        result = {
            "phase": phase,
            "wall_s": round(wall, 3),
            "queries": cr.sql_log_count - queries,
            "load_average_1min": round(load, 2),
            **figures,
        }
        cr.rollback()
    return result


def main(argv=None):
    args, odoo_args = parse_args(sys.argv[1:] if argv is None else argv)
    config.parse_config(odoo_args, setup_logging=True)
    if config["init"] or config["update"]:
        registry = Registry.new(args.db, update_module=True)
    else:
        registry = Registry(args.db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        module = env["ir.module.module"].search([("name", "=", MODULE)])
        if module.state != "installed":
            raise SystemExit(f"{MODULE} is not installed in database {args.db}.")
        company = find_company(env, args.company)
        if not company:
            raise SystemExit("No company with receivables in this database.")
        shape = data_shape(env, company)
        company_id, company_name = company.id, company.name
    results = {
        "db": args.db,
        "odoo": odoo.release.version,
        "cpus": os.cpu_count(),
        "company": company_name,
        "data": shape,
        "runs": [],
    }
    print(f"{MODULE} on {args.db}, company {company_name}: {shape}")
    for phase in args.phases:
        for attempt in range(1, args.repeat + 1):
            result = measure(registry, company_id, phase)
            results["runs"].append({"attempt": attempt, **result})
            verdict = ""
            if phase == "backfill":
                ok = result["wall_s"] <= TARGET_BACKFILL_S
                verdict = (
                    f" (target {TARGET_BACKFILL_S:.0f} s: {'ok' if ok else 'MISSED'})"
                )
            print(
                f"\n== {phase} (attempt {attempt})\n"
                f"  wall time : {result['wall_s']:.3f} s{verdict}\n"
                f"  queries   : {result['queries']}\n"
                f"  load avg  : {result['load_average_1min']}"
            )
            for key, value in result.items():
                if key not in ("phase", "wall_s", "queries", "load_average_1min"):
                    print(f"  {key}: {value}")
    if args.json:
        with open(args.json, "w") as output:
            json.dump(results, output, indent=2, default=str)


if __name__ == "__main__":
    main()
