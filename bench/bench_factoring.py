#!/usr/bin/env python3
"""Benchmark of a factoring transfer batch of l10n_fr_credit_collection.

Times the creation of one ``credit.factoring.batch`` (which gathers the items) and
its confirmation (row locks, one UPDATE of the items, the data builder, the XLSX
and CSV files and the PDF slip rendered by wkhtmltopdf, stored as attachments), in
a transaction rolled back at the end (run it again and again on the same data).

The first run prepares the data, committed (use a copy of the benchmark database):
a factoring contract ``BENCH-AFF`` of the benchmark company with a factor and its
bank account, and the ``--items`` oldest open posted invoices and credit notes of
the company assigned to it by SQL (``factoring_contract_id``).

The PDF slip needs the report assets: the benchmark serves them itself on the
``--http-port`` given to Odoo (an HTTP thread in this process), as a server would.

Usage (see bench/README.md)::

    createdb -h 127.0.0.1 -U odoo -T cc_bench cc_bench_f
    python3 bench/bench_factoring.py --db cc_bench_f -- \\
        --db_host=127.0.0.1 --db_user=odoo --http-port=8182 \\
        --addons-path=/opt/odoo18/addons,/tmp/bench_addons \\
        -u l10n_fr_credit_collection
"""

import argparse
import functools
import json
import os
import sys
import time
from contextlib import contextmanager

import odoo
from odoo import SUPERUSER_ID, api, fields
from odoo.modules.registry import Registry
from odoo.service import server
from odoo.tools import config

MODULE = "l10n_fr_credit_collection"
COMPANY_NAME = "Bench Recouvrement SAS"
CONTRACT = "BENCH-AFF"
STEPS = (
    ("credit.factoring.batch", "_collect"),
    ("credit.factoring.batch", "_lock_items"),
    ("credit.factoring.batch", "_check_items"),
    ("credit.factoring.batch", "_get_batch_data"),
    ("credit.factoring.batch", "_export_xlsx"),
    ("credit.factoring.batch", "_export_csv"),
    ("credit.factoring.batch", "_render_slip"),
    ("ir.actions.report", "_run_wkhtmltopdf"),
)


def parse_args(argv):
    if "--" in argv:
        index = argv.index("--")
        argv, odoo_args = argv[:index], argv[index + 1 :]
    else:
        odoo_args = []
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--items", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument(
        "--save-dir", help="write the files of the last run (slip, XLSX, CSV) here"
    )
    return parser.parse_args(argv), odoo_args


def prepare(env, items):
    """The contract and its assigned items (committed by the caller)."""
    company = env["res.company"].search([("name", "=", COMPANY_NAME)], limit=1)
    if not company:
        raise SystemExit(f"No company {COMPANY_NAME!r}: run bench_dunning.py first.")
    Contract = env["credit.factoring.contract"].with_company(company)
    contract = Contract.search(
        [("name", "=", CONTRACT), ("company_id", "=", company.id)]
    )
    if not contract:
        factor = env["res.partner"].create(
            {
                "name": "Affacturage Bench SA",
                "is_company": True,
                "street": "1 place de la Bourse",
                "zip": "75002",
                "city": "Paris",
            }
        )
        account = env["res.partner.bank"].create(
            {"acc_number": "FR7630004000031234567890143", "partner_id": factor.id}
        )
        contract = Contract.create(
            {
                "name": CONTRACT,
                "company_id": company.id,
                "factor_id": factor.id,
                "bank_account_id": account.id,
                "currency_id": company.currency_id.id,
            }
        )
    env.flush_all()
    cr = env.cr
    cr.execute(
        """
        UPDATE account_move
           SET factoring_contract_id = %(contract)s,
               factoring_batch_id = NULL,
               factoring_state = 'to_transfer'
         WHERE id IN (
               SELECT id FROM account_move
                WHERE company_id = %(company)s AND state = 'posted'
                  AND move_type IN ('out_invoice', 'out_refund')
                  AND amount_residual != 0 AND currency_id = %(currency)s
                ORDER BY invoice_date, id
                LIMIT %(items)s)
           AND factoring_contract_id IS DISTINCT FROM %(contract)s
        """,
        {
            "contract": contract.id,
            "company": company.id,
            "currency": company.currency_id.id,
            "items": items,
        },
    )
    cr.execute(
        "SELECT COUNT(*), MAX(invoice_date) FROM account_move "
        "WHERE factoring_contract_id = %s AND factoring_batch_id IS NULL",
        [contract.id],
    )
    count, last_date = cr.fetchone()
    env.invalidate_all()
    return company, contract, count, last_date


@contextmanager
def timed_steps(env, timings):
    """Wall time and queries of the steps, patched on the model classes."""
    originals = []

    def wrap(key, method):
        @functools.wraps(method)
        def timed(self, *args, **kwargs):
            start, queries = time.perf_counter(), self.env.cr.sql_log_count
            try:
                return method(self, *args, **kwargs)
            finally:
                entry = timings.setdefault(key, {"s": 0.0, "queries": 0})
                entry["s"] = round(entry["s"] + time.perf_counter() - start, 3)
                entry["queries"] += self.env.cr.sql_log_count - queries

        return timed

    try:
        for model, name in STEPS:
            cls = type(env[model])
            method = getattr(cls, name)
            originals.append((cls, name, method))
            setattr(cls, name, wrap(f"{model}.{name}", method))
        yield timings
    finally:
        for cls, name, method in originals:
            setattr(cls, name, method)


def batch_phase(registry, contract_id, on, save_dir=None):
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        contract = env["credit.factoring.contract"].browse(contract_id)
        Batch = env["credit.factoring.batch"].with_company(contract.company_id)
        steps = {}
        env.flush_all()
        queries = cr.sql_log_count
        start = time.perf_counter()
        with timed_steps(env, steps):
            batch = Batch.create({"contract_id": contract.id, "date": on})
            collected = time.perf_counter() - start
            batch.action_confirm()
            env.flush_all()
        wall = time.perf_counter() - start
        queries = cr.sql_log_count - queries
        files = {a.name: len(a.raw) for a in batch.file_ids}
        if save_dir:
            os.makedirs(save_dir, exist_ok=True)
            for attachment in batch.file_ids:
                with open(os.path.join(save_dir, attachment.name), "wb") as file:
                    file.write(attachment.raw)
        result = {
            "wall_s": round(wall, 2),
            "collect_s": round(collected, 2),
            "queries": queries,
            "items": batch.item_count,
            "customers": len(batch.move_ids.commercial_partner_id),
            "left_out": len(batch.held_move_ids),
            "amount_total": batch.amount_total,
            "files_bytes": files,
            "steps": steps,
        }
        cr.rollback()
    return result


def main(argv=None):
    args, odoo_args = parse_args(sys.argv[1:] if argv is None else argv)
    config.parse_config(odoo_args, setup_logging=True)
    config["db_name"] = args.db
    config["dbfilter"] = f"^{args.db}$"
    if config["init"] or config["update"]:
        registry = Registry.new(args.db, update_module=True)
    else:
        registry = Registry(args.db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        company, contract, count, last_date = prepare(env, args.items)
        contract_id = contract.id
        # wkhtmltopdf fetches the report assets from this process (see below).
        env["ir.config_parameter"].set_param(
            "report.url", f"http://127.0.0.1:{config['http_port']}"
        )
        cr.commit()
    # Serve the assets of the PDF slip, as a running server would. The manifests
    # are read here first: parsing them in the HTTP thread while this one
    # compiles QWeb trips a CPython 3.11 race in ``ast.parse``.
    odoo.http.root.statics  # noqa: B018
    server.server = server.ThreadedServer(odoo.http.root)
    server.server.http_spawn()
    time.sleep(0.5)
    print(
        f"{MODULE}: company {company.id} of {args.db}, contract {CONTRACT}, "
        f"{count} items to transfer up to {last_date}; {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.2f}"
    )
    on = max(last_date or fields.Date.today(), fields.Date.today())
    results = []
    for attempt in range(1, args.repeat + 1):
        save = args.save_dir if attempt == args.repeat else None
        result = batch_phase(registry, contract_id, on, save)
        results.append(result)
        print(f"batch (attempt {attempt}): {json.dumps(result)}")
    return results


if __name__ == "__main__":
    main()
