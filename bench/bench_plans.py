#!/usr/bin/env python3
"""Benchmark of the daily follow-up of payment plans of l10n_fr_credit_collection.

Times ``credit.payment.plan._cron_follow_payment_plans(today)`` (breach
detection, closing of the plans paid in full, reminders) on ``--plans`` running
plans of ``--installments`` installments each, generated in a transaction that
is **rolled back** at the end (run it again and again on the same database).

The plans are spread over ``--invoices`` posted customer invoices of the first
company with a chart of accounts (created in the transaction); each plan's
schedule sums to its invoice's open balance, so nothing is paid yet. The
relation between plans and invoices is written by SQL: several plans share an
invoice, which the product refuses, but the follow-up reads them the same way.
Two checks are timed:

* ``quiet``: a day with nothing to do but check every plan;
* ``busy``: a day when ``--breach-share`` of the plans have missed an
  installment (activity, chatter, penalties restored) and about an eighth of the
  others get their reminder email.

For each it prints the wall time and the number of SQL queries
(``cr.sql_log_count``), for the full set and for a tenth of it: the query count
of a quiet check must not grow with the number of plans.

Usage::

    python3 bench/bench_plans.py --db cc_t_h7 --plans 2000 -- \\
        --db_host=127.0.0.1 --db_user=odoo \\
        --addons-path=/opt/odoo18/addons,/opt/odoo18/odoo/addons,/tmp/addons_link
"""

import argparse
import json
import sys
import time
from datetime import date, timedelta

from odoo import SUPERUSER_ID, Command, api
from odoo.modules.registry import Registry
from odoo.tools import SQL, config


def parse_args(argv):
    if "--" in argv:
        index = argv.index("--")
        argv, odoo_args = argv[:index], argv[index + 1 :]
    else:
        odoo_args = []
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--plans", type=int, default=2000)
    parser.add_argument("--installments", type=int, default=12)
    parser.add_argument("--invoices", type=int, default=200)
    parser.add_argument("--breach-share", type=float, default=0.05)
    return parser.parse_args(argv), odoo_args


def make_invoices(env, count, due):
    company = env["res.company"].search([("chart_template", "!=", False)], limit=1)
    if not company:
        raise SystemExit("No company with a chart of accounts in this database.")
    env = env(context=dict(env.context, allowed_company_ids=company.ids))
    partner = env["res.partner"].create({"name": "Bench Plan SARL", "is_company": True})
    moves = env["account.move"].create(
        [
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "company_id": company.id,
                "invoice_date": due - timedelta(days=30),
                "invoice_date_due": due,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Service",
                            "quantity": 1,
                            "price_unit": 1200.0 + index,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
            for index in range(count)
        ]
    )
    moves.action_post()
    return company, partner, moves


def make_plans(env, company, partner, moves, count, installments, first, late):
    """``count`` running plans, their first installments spread over the 30 days
    from ``first``; those of index < ``late`` had their first installment 20 days
    before ``first`` and nothing was paid."""
    Plan = env["credit.payment.plan"].with_company(company)
    vals_list = []
    for index in range(count):
        move = moves[index % len(moves)]
        start = (
            first - timedelta(days=20)
            if index < late
            else first + timedelta(days=index % 30)
        )
        amount = round(move.amount_residual / installments, 2)
        last = round(move.amount_residual - amount * (installments - 1), 2)
        vals_list.append(
            {
                "name": f"BENCH/{index:05d}",
                "company_id": company.id,
                "partner_id": partner.id,
                "currency_id": move.currency_id.id,
                "penalty_treatment": "keep",
                "grace_days": 5,
                "reminder_days": 3,
                "line_ids": [
                    Command.create(
                        {
                            "date": start + timedelta(days=30 * number),
                            "amount": last if number == installments - 1 else amount,
                        }
                    )
                    for number in range(installments)
                ],
            }
        )
    plans = Plan.create(vals_list)
    env.cr.execute(
        SQL(
            """
            INSERT INTO credit_payment_plan_move_rel (plan_id, move_id)
            SELECT plan.id, move.id
              FROM unnest(%s::int[], %s::int[]) AS plan(id, rank)
              JOIN unnest(%s::int[]) WITH ORDINALITY AS move(id, rank)
                ON move.rank = mod(plan.rank, %s) + 1
            """,
            plans.ids,
            list(range(len(plans))),
            moves.ids,
            len(moves),
        )
    )
    env.cr.execute(
        SQL(
            "UPDATE credit_payment_plan SET state = 'running', start_date = %s "
            "WHERE id = ANY(%s)",
            first - timedelta(days=400),
            plans.ids,
        )
    )
    env.invalidate_all()
    return plans


def measure(env, today):
    env.flush_all()
    env.invalidate_all()
    cr = env.cr
    queries = cr.sql_log_count
    start = time.perf_counter()
    result = env["credit.payment.plan"]._cron_follow_payment_plans(today)
    env.flush_all()
    return {
        "seconds": round(time.perf_counter() - start, 3),
        "queries": cr.sql_log_count - queries,
        **result,
    }


def run(env, args, plans_count):
    first = date.today() + timedelta(days=30)
    company, partner, moves = make_invoices(env, args.invoices, first)
    late = int(plans_count * args.breach_share)
    make_plans(
        env, company, partner, moves, plans_count, args.installments, first, late
    )
    figures = {"plans": plans_count, "installments": args.installments}
    with env.cr.savepoint(flush=False) as savepoint:
        figures["quiet"] = measure(env, first - timedelta(days=15))
        savepoint.rollback()
    figures["busy"] = measure(env, first + timedelta(days=1))
    return figures


def main():
    args, odoo_args = parse_args(sys.argv[1:])
    config.parse_config(odoo_args)
    registry = Registry(args.db)
    report = []
    for count in (max(args.plans // 10, 1), args.plans):
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            try:
                report.append(run(env, args, count))
            finally:
                cr.rollback()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
