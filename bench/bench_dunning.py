#!/usr/bin/env python3
"""Benchmark of the dunning run of l10n_fr_credit_collection.

Generates (once) realistic posted receivables in a French company of an existing
database where the addon is installed, then times two phases, each in its own
transaction rolled back at the end so that the benchmark can be run again on the
same data:

* compute: ``credit.dunning.run.action_compute()`` dated today;
* send preparation: ``credit.dunning.letter._send_letters()`` on up to
  ``--letters-to-send`` letters of a fresh compute.

Usage (see bench/README.md)::

    python3 bench/bench_dunning.py --db cc_bench --invoices 20000 -- \\
        --db_host=127.0.0.1 --db_user=odoo \\
        --addons-path=/opt/odoo18/addons,/tmp/bench_addons

Options before ``--`` are the benchmark's; the ones after it go to Odoo's
configuration parser (``odoo.tools.config.parse_config``).
"""

import argparse
import ctypes
import functools
import gc
import json
import os
import random
import re
import resource
import subprocess
import sys
import threading
import time
import tracemalloc
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

from psycopg2.errors import DeadlockDetected, SerializationFailure

import odoo
from odoo import SUPERUSER_ID, Command, api, fields
from odoo.modules.registry import Registry
from odoo.tools import config

MODULE = "l10n_fr_credit_collection"
STATE_PARAM = f"{MODULE}.bench_state"
STATE_VERSION = 1
COMPANY_NAME = "Bench Recouvrement SAS"
# Contexts of the data generation: no chatter, no followers, no tracking.
GENERATION_CONTEXT = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
}

# Shape of the generated receivables.
MAX_AGE_DAYS = 300  # invoices dated over the past ~10 months
REFUND_SHARE = 0.05
TWO_INSTALLMENTS_SHARE = 0.15
FULL_PAYMENT_SHARE = 0.30
PARTIAL_PAYMENT_SHARE = 0.10
HOLD_SHARE = 0.01
ADVANCE_PAYMENT_SHARE = 0.01  # unallocated payments, as a share of the documents
NO_EMAIL_SHARE = 0.10
INVOICE_CONTACT_SHARE = 0.10
EXCLUDED_CUSTOMER_SHARE = 0.01
SALESPERSON_SHARE = 0.60
SALESPEOPLE = 3
# Tables the generation analyzes every ANALYZE_EVERY batches of a worker.
ANALYZE_EVERY = 10
ANALYZED_TABLES = (
    "account_move",
    "account_move_line",
    "account_move_line_account_tax_rel",
    "account_account_tag_account_move_line_rel",
    "account_partial_reconcile",
    "account_full_reconcile",
    "account_payment",
    "mail_followers",
    "mail_followers_mail_message_subtype_rel",
    "res_partner",
)

TRADES = (
    "Boulangerie Garage Menuiserie Cabinet Transports Pharmacie Imprimerie "
    "Brasserie Atelier Quincaillerie Librairie Agence"
).split()
SURNAMES = (
    "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon "
    "Laurent Lefebvre Michel Garcia David Bertrand Roux Vincent Fournier"
).split()
LEGAL_FORMS = "SARL SAS SA EURL SNC".split()
CITIES = [
    tuple(city.split(":"))
    for city in (
        "Paris:75011 Lyon:69003 Marseille:13006 Toulouse:31000 Nantes:44000 "
        "Lille:59000 Bordeaux:33000 Strasbourg:67000 Rennes:35000 "
        "Montpellier:34000 Dijon:21000 Tours:37000"
    ).split()
]

# Frames of these files are plumbing when looking for the code that sent a query.
CORE_PATHS = (
    "/odoo/sql_db.py",
    "/odoo/models.py",
    "/odoo/fields.py",
    "/odoo/api.py",
    "/odoo/tools/",
    "/odoo/osv/",
    "/odoo/modules/registry.py",
    "/contextlib.py",
)
CALLER_DEPTH = 6
BENCH_FILE = os.path.abspath(__file__)


# --------------------------------------------------------------------------- CLI


def parse_args(argv):
    parser = argparse.ArgumentParser(
        allow_abbrev=False,
        description=__doc__.split("\n\n", 1)[0],
        epilog="Arguments after '--' (and unknown ones) are passed to Odoo's "
        "configuration parser, e.g. -- --db_host=127.0.0.1 --db_user=odoo "
        "--addons-path=... --log-level=warn",
    )
    parser.add_argument("--db", default="cc_bench", help="database (cc_bench)")
    parser.add_argument(
        "--invoices",
        type=int,
        default=20000,
        help="posted customer documents to generate, ~5%% of them credit notes "
        "(20000)",
    )
    parser.add_argument(
        "--customers", type=int, default=None, help="customers (invoices / 10)"
    )
    parser.add_argument(
        "--send-batch-size",
        type=int,
        default=0,
        help="letters per call of the scheduled action in the background phase "
        "(default: the database's setting, 100 unless changed)",
    )
    parser.add_argument(
        "--letters-to-send",
        type=int,
        default=2000,
        help="letters prepared for sending in the send phase (2000); 0: exactly "
        "the letters of today's run, never topped up",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the data generated earlier in the database (resume an "
        "interrupted generation); without it the database must hold none",
    )
    parser.add_argument(
        "--batch-size", type=int, default=100, help="documents per commit (100)"
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=2,
        help="processes creating the invoices and payments in parallel (2)",
    )
    parser.add_argument(
        "--history-runs",
        type=int,
        default=3,
        help="past dunning runs generated, their letters marked sent (3)",
    )
    parser.add_argument(
        "--history-interval",
        type=int,
        default=14,
        help="days between two past dunning runs, the last one being that many "
        "days ago (14)",
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed (42)")
    # Internal: run as the generation worker INDEX/JOBS (see Generator).
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument(
        "--phases",
        default="compute,send,penalties",
        help="comma-separated phases to time: compute, send, penalties, "
        "background, prescription (compute,send,penalties)",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="measurements of each phase (1)"
    )
    parser.add_argument(
        "--generate-only", action="store_true", help="generate data, time nothing"
    )
    parser.add_argument(
        "--profile-queries",
        type=int,
        nargs="?",
        const=25,
        default=0,
        metavar="TOP",
        help="group the queries of each phase by normalised SQL and print the TOP "
        "(25) most frequent with the code that sent them",
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also report the tracemalloc peak (slows the phases down)",
    )
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON")
    args, odoo_args = parser.parse_known_args(argv)
    odoo_args = [arg for arg in odoo_args if arg != "--"]
    if args.customers is None:
        args.customers = max(1, args.invoices // 10)
    args.phases = [phase.strip() for phase in args.phases.split(",") if phase.strip()]
    unknown = set(args.phases) - {
        "compute",
        "send",
        "penalties",
        "background",
        "prescription",
    }
    if unknown:
        parser.error(f"unknown phase(s): {', '.join(sorted(unknown))}")
    return args, odoo_args


# ----------------------------------------------------------------------- helpers


def without_module_updates(odoo_args):
    """Odoo arguments without -i/--init and -u/--update (and their values)."""
    kept, skip = [], False
    for arg in odoo_args:
        if skip:
            skip = False
        elif arg in ("-i", "-u", "--init", "--update"):
            skip = True
        elif not arg.startswith(("-i", "-u", "--init=", "--update=")):
            kept.append(arg)
    return kept


def make_env(cr, company_id=None):
    context = {"tz": "UTC"}
    if company_id:
        context["allowed_company_ids"] = [company_id]
    return api.Environment(cr, SUPERUSER_ID, context)


def progress(message):
    print(message, flush=True)


def fmt_seconds(seconds):
    return f"{seconds:.2f}"


def read_state(env):
    raw = env["ir.config_parameter"].sudo().get_param(STATE_PARAM)
    return json.loads(raw) if raw else None


def write_state(env, state, key=STATE_PARAM):
    env["ir.config_parameter"].sudo().set_param(key, json.dumps(state))
    # Flushed here: a cursor only flushes the environments still referenced
    # when it commits, and callers may not keep theirs.
    env.flush_all()


# ------------------------------------------------------------------ data shape


@dataclass
class Document:
    """One customer invoice or credit note to generate."""

    move_type: str
    customer: int  # index of the customer
    invoice_date: date
    two_installments: bool
    lines: list  # (quantity, unit price)
    payment: str  # "", "full" or "partial"
    paid_share: float
    payment_date: date | None
    hold: bool
    index: int = -1  # rank in date order, also the reference of the move

    @property
    def ref(self):
        return f"BENCH-I{self.index:06d}"


def plan_documents(seed, count, customer_count, anchor):
    """The documents, in date order (deterministic for a seed and an anchor)."""
    rng = random.Random(f"{seed}-documents")
    weights = [rng.lognormvariate(0.0, 1.0) for _ in range(customer_count)]
    customers = rng.choices(range(customer_count), weights=weights, k=count)
    documents = []
    for customer in customers:
        invoice_date = anchor - timedelta(days=rng.randint(0, MAX_AGE_DAYS))
        is_refund = rng.random() < REFUND_SHARE
        lines = [
            (rng.randint(1, 5), round(rng.uniform(40.0, 1500.0), 2))
            for _ in range(rng.choice((1, 1, 2, 3)))
        ]
        payment, share, payment_date = "", 0.0, None
        draw = rng.random()
        if not is_refund and draw < FULL_PAYMENT_SHARE + PARTIAL_PAYMENT_SHARE:
            payment = "full" if draw < FULL_PAYMENT_SHARE else "partial"
            share = round(rng.uniform(0.2, 0.8), 2)
            payment_date = min(anchor, invoice_date + timedelta(rng.randint(5, 75)))
        documents.append(
            Document(
                move_type="out_refund" if is_refund else "out_invoice",
                customer=customer,
                invoice_date=invoice_date,
                two_installments=(
                    not is_refund and rng.random() < TWO_INSTALLMENTS_SHARE
                ),
                lines=lines,
                payment=payment,
                paid_share=share,
                payment_date=payment_date,
                hold=not is_refund and rng.random() < HOLD_SHARE,
            )
        )
    documents.sort(key=lambda document: document.invoice_date)
    for index, document in enumerate(documents):
        document.index = index
    return documents


def plan_payments(seed, documents, customer_count, anchor):
    """Payments in date order: ``(date, kind, key, value)`` where kind is
    ``invoice`` (key: document index, value: share, 0 for the full residual) or
    ``advance`` (key: customer index, value: amount), never allocated."""
    payments = [
        (
            document.payment_date,
            "invoice",
            document.index,
            document.paid_share if document.payment == "partial" else 0.0,
        )
        for document in documents
        if document.payment
    ]
    rng = random.Random(f"{seed}-advances")
    for _ in range(round(len(documents) * ADVANCE_PAYMENT_SHARE)):
        payments.append(
            (
                anchor - timedelta(days=rng.randint(0, 120)),
                "advance",
                rng.randrange(customer_count),
                round(rng.uniform(100.0, 3000.0), 2),
            )
        )
    payments.sort(key=lambda payment: (payment[0], payment[1], payment[2]))
    return payments


# ------------------------------------------------------------ data generation


class Generator:
    """Builds the company, its customers and journals, then has ``jobs`` worker
    processes create the invoices and payments (each in its own sale and bank
    journal, for its own customers, so that they never wait for each other).

    Every batch is committed with its progress, so that ``--reuse`` resumes an
    interrupted generation.
    """

    def __init__(self, registry, args, odoo_args):
        self.registry = registry
        self.args = args
        self.odoo_args = odoo_args

    def run(self):
        with self.registry.cursor() as cr:
            state = read_state(make_env(cr))
        if state and not self.args.reuse:
            raise SystemExit(
                f"Database {self.args.db} already holds benchmark data "
                f"({state['invoices']} documents, step {state['step']}): pass "
                "--reuse to use it, or use a fresh copy of the template."
            )
        if state and state["step"] == "done":
            self._print_reused(state)
            return state
        if not state:
            state = self._setup()
        else:
            progress(
                f"Resuming the generation of {state['invoices']} documents for "
                f"{state['customers']} customers (stored parameters)."
            )
        if state["step"] == "workers":
            started = time.perf_counter()
            if state["jobs"] == 1:
                Worker(self.registry, self.args, 0, 1).run()
            else:
                self._spawn_workers(state["jobs"])
            self._save_step(state, "history", started)
        if state["step"] == "history":
            self._create_history(state)
            started = time.perf_counter()
            with self.registry.cursor() as cr:
                cr.execute("ANALYZE")
            self._save_step(state, "done", started)
        progress(f"Generation done in {state['seconds']:.0f} s.")
        return state

    def _save_step(self, state, step, started):
        with self.registry.cursor() as cr:
            state["step"] = step
            state["seconds"] += time.perf_counter() - started
            write_state(make_env(cr), state)

    def _create_history(self, state):
        """Past dunning runs, every ``history_interval`` days, whose letters are
        marked sent (without queuing their emails): today's run then finds items
        at every level, formal notices included."""
        anchor = date.fromisoformat(state["anchor"])
        while state["history_done"] < state["history_runs"]:
            started = time.perf_counter()
            runs_back = state["history_runs"] - state["history_done"]
            run_date = anchor - timedelta(days=runs_back * state["history_interval"])
            with self.registry.cursor() as cr:
                env = make_env(cr, state["company_id"])
                run = env["credit.dunning.run"].create(
                    {"company_id": state["company_id"], "date": run_date}
                )
                run.action_compute()
                letters = run.letter_ids
                letters.write({"state": "sent", "sent_date": run_date})
                run._update_state()
                levels = _count_by_level(letters)
                state["history_done"] += 1
                state["seconds"] += time.perf_counter() - started
                write_state(env, state)
            progress(
                f"  dunning run of {run_date}: {len(letters)} letters marked sent "
                f"in {time.perf_counter() - started:.1f} s {levels}"
            )

    def _spawn_workers(self, jobs):
        command = [
            sys.executable,
            os.path.abspath(__file__),
            "--db",
            self.args.db,
            "--batch-size",
            str(self.args.batch_size),
        ]
        # The modules were installed/updated by this process, not by each worker.
        worker_odoo_args = without_module_updates(self.odoo_args)
        processes = [
            subprocess.Popen(
                [*command, "--worker", f"{index}/{jobs}", "--", *worker_odoo_args]
            )
            for index in range(jobs)
        ]
        failed = [index for index, process in enumerate(processes) if process.wait()]
        if failed:
            raise SystemExit(
                f"Generation worker(s) {failed} failed; run again with --reuse to "
                "resume where they stopped."
            )

    def _print_reused(self, state):
        progress(
            f"Reusing the data generated on {state['anchor']}: "
            f"{state['invoices']} documents, {state['customers']} customers "
            f"(generated in {state['seconds']:.0f} s)."
        )
        if (state["invoices"], state["customers"]) != (
            self.args.invoices,
            self.args.customers,
        ):
            progress("  (--invoices/--customers ignored: the stored data is used)")

    # ---------------------------------------------------------------- setup

    def _setup(self):
        started = time.perf_counter()
        with self.registry.cursor() as cr:
            env = make_env(cr)
            company = self._ensure_company(env)
        with self.registry.cursor() as cr:
            env = make_env(cr, company.id)
            company = env["res.company"].browse(company.id)
            self._ensure_policy(env, company)
            self._ensure_payment_terms(env, company)
            self._ensure_journals(env, company, self.args.jobs)
            salespeople = self._ensure_salespeople(env, company)
            self._create_customers(env, salespeople)
            state = {
                "version": STATE_VERSION,
                "company_id": company.id,
                "invoices": self.args.invoices,
                "customers": self.args.customers,
                "seed": self.args.seed,
                "jobs": self.args.jobs,
                "anchor": fields.Date.to_string(fields.Date.today()),
                "history_runs": self.args.history_runs,
                "history_interval": self.args.history_interval,
                "history_done": 0,
                "step": "workers",
                "seconds": time.perf_counter() - started,
            }
            write_state(env, state)
        return state

    def _ensure_company(self, env):
        company = env["res.company"].search([("chart_template", "=", "fr")], limit=1)
        if company:
            progress(f"Using the French company {company.name} (id {company.id}).")
        else:
            progress(f"Creating the company {COMPANY_NAME} with the French chart...")
            euro = env.ref("base.EUR")
            euro.active = True
            vals = {}
            if "iap_enrich_auto_done" in env["res.company"]._fields:
                # partner_autocomplete would call its web service at creation.
                vals["iap_enrich_auto_done"] = True
            company = env["res.company"].create(
                {
                    **vals,
                    "name": COMPANY_NAME,
                    "country_id": env.ref("base.fr").id,
                    "currency_id": euro.id,
                    "street": "10 rue du Faubourg Montmartre",
                    "zip": "75009",
                    "city": "Paris",
                    "email": "recouvrement@bench-recouvrement.example",
                    "phone": "+33 1 23 45 67 89",
                }
            )
            env["account.chart.template"].with_company(company).try_loading(
                "fr", company, install_demo=False
            )
        users = env.ref("base.user_root") | env.ref("base.user_admin")
        users.write({"company_ids": [Command.link(company.id)]})
        return company

    def _ensure_policy(self, env, company):
        Policy = env["credit.dunning.policy"]
        if Policy._get_company_default(company):
            return
        standard = env.ref(
            f"{MODULE}.credit_dunning_policy_standard", raise_if_not_found=False
        )
        if standard:
            standard.copy(
                {"company_id": company.id, "is_default": True, "name": standard.name}
            )
            return
        levels = (
            (10, "Courtesy", -5, {"send_email": True}),
            (20, "First", 7, {"send_email": True}),
            (30, "Second", 20, {"send_email": True, "send_letter": True}),
            (
                40,
                "Notice",
                35,
                {
                    "send_letter": True,
                    "create_activity": True,
                    "is_formal_notice": True,
                },
            ),
        )
        Policy.create(
            {
                "name": "Standard",
                "is_default": True,
                "company_id": company.id,
                "level_ids": [
                    Command.create(
                        {"sequence": seq, "name": name, "delay_days": delay, **extra}
                    )
                    for seq, name, delay, extra in levels
                ],
            }
        )

    def _ensure_payment_terms(self, env, company):
        for name, lines in (
            ("Bench 30 jours", ((100, 30),)),
            ("Bench 2 echeances 30/60 jours", ((50, 30), (50, 60))),
        ):
            if not env["account.payment.term"].search(
                [("name", "=", name), ("company_id", "=", company.id)], limit=1
            ):
                env["account.payment.term"].create(
                    {
                        "name": name,
                        "company_id": company.id,
                        "line_ids": [
                            Command.create(
                                {
                                    "value": "percent",
                                    "value_amount": share,
                                    "nb_days": days,
                                }
                            )
                            for share, days in lines
                        ],
                    }
                )

    def _ensure_salespeople(self, env, company):
        users = env["res.users"]
        for number in range(1, SALESPEOPLE + 1):
            login = f"bench.sales{number}@bench-recouvrement.example"
            user = users.search([("login", "=", login)], limit=1)
            if not user:
                user = users.with_context(no_reset_password=True).create(
                    {
                        "name": f"Commercial {number}",
                        "login": login,
                        "email": login,
                        "company_id": company.id,
                        "company_ids": [Command.set(company.ids)],
                    }
                )
            users |= user
        return users

    def _create_customers(self, env, salespeople):
        count = self.args.customers
        progress(f"Creating {count} customers...")
        rng = random.Random(f"{self.args.seed}-customers")
        france = env.ref("base.fr")
        Partner = env["res.partner"].with_context(**GENERATION_CONTEXT)
        vals_list = []
        for index in range(count):
            city, zip_code = rng.choice(CITIES)
            slug = f"client{index:05d}"
            has_email = rng.random() >= NO_EMAIL_SHARE
            vals_list.append(
                {
                    "name": f"{rng.choice(TRADES)} {rng.choice(SURNAMES)} "
                    f"{rng.choice(LEGAL_FORMS)} {index:05d}",
                    "is_company": True,
                    "ref": f"BENCH-C{index:05d}",
                    "email": f"compta@{slug}.example" if has_email else False,
                    "phone": f"+33 1 {index // 10000:02d} {index % 10000:04d} 00",
                    "street": f"{rng.randint(1, 120)} rue de la République",
                    "zip": zip_code,
                    "city": city,
                    "country_id": france.id,
                    "user_id": rng.choice(salespeople).id
                    if rng.random() < SALESPERSON_SHARE
                    else False,
                    "dunning_excluded": rng.random() < EXCLUDED_CUSTOMER_SHARE,
                }
            )
        customers = Partner.create(vals_list)
        Partner.create(
            [
                {
                    "name": "Service comptabilité fournisseurs",
                    "type": "invoice",
                    "parent_id": customer.id,
                    "email": f"factures@client{index:05d}.example",
                }
                for index, customer in enumerate(customers)
                if rng.random() < INVOICE_CONTACT_SHARE
            ]
        )

    def _ensure_journals(self, env, company, jobs):
        """One sale and one bank journal per worker: journal entries are numbered
        per journal, so that workers in separate journals never conflict."""
        for journal_type, code, name in (
            ("sale", "VT", "Ventes"),
            ("bank", "BQ", "Banque"),
        ):
            journals = worker_journals(env, company, journal_type)
            for number in range(len(journals) + 1, jobs + 1):
                vals = {
                    "name": f"{name} {number}",
                    "code": f"{code}{number}",
                    "type": journal_type,
                    "company_id": company.id,
                }
                if journal_type == "sale":
                    # Bank journals get their own account; sales share the income.
                    vals["default_account_id"] = journals[0].default_account_id.id
                env["account.journal"].create(vals)


def worker_journals(env, company, journal_type):
    return env["account.journal"].search(
        [("company_id", "=", company.id), ("type", "=", journal_type)], order="id"
    )


class Worker:
    """Creates the invoices, then the payments, of the customers ``index`` modulo
    ``jobs``, in batches committed with their progress."""

    RETRIES = 5

    def __init__(self, registry, args, index, jobs):
        self.registry = registry
        self.args = args
        self.index = index
        self.jobs = jobs
        self.key = f"{STATE_PARAM}.{index}"
        self.refs = None
        self.batches = 0

    def run(self):
        with self.registry.cursor() as cr:
            env = make_env(cr)
            main = read_state(env)
            raw = env["ir.config_parameter"].sudo().get_param(self.key)
        state = json.loads(raw) if raw else {"step": "invoices", "done": 0}
        self.company_id = main["company_id"]
        self.customers = main["customers"]
        anchor = date.fromisoformat(main["anchor"])
        documents = plan_documents(
            main["seed"], main["invoices"], main["customers"], anchor
        )
        mine = [doc for doc in documents if doc.customer % self.jobs == self.index]
        if state["step"] == "invoices":
            self._run_batches(state, mine, "invoices", self._create_invoice_batch)
        if state["step"] == "payments":
            payments = [
                payment
                for payment in plan_payments(
                    main["seed"], documents, main["customers"], anchor
                )
                if self._owns_payment(payment, documents)
            ]

            def create_batch(env, batch):
                self._create_payment_batch(env, documents, batch)

            self._run_batches(state, payments, "payments", create_batch)

    def _owns_payment(self, payment, documents):
        __, kind, key, __ = payment
        customer = documents[key].customer if kind == "invoice" else key
        return customer % self.jobs == self.index

    def _run_batches(self, state, items, label, create_batch):
        """Create ``items`` in batches from ``state["done"]``, one commit each,
        retried when PostgreSQL reports a conflict with another transaction."""
        next_step = {"invoices": "payments", "payments": "done"}[label]
        total = len(items)
        first = state["done"]
        started = time.perf_counter()
        prefix = f"[{self.index + 1}/{self.jobs}] " if self.jobs > 1 else ""
        for start in range(first, total, self.args.batch_size):
            batch = items[start : start + self.args.batch_size]
            batch_started = time.perf_counter()
            done = start + len(batch)
            new_state = (
                {"step": state["step"], "done": done}
                if done < total
                else {"step": next_step, "done": 0}
            )
            for attempt in range(1, self.RETRIES + 1):
                try:
                    self._commit_batch(state, batch, create_batch, new_state)
                    break
                except (SerializationFailure, DeadlockDetected) as error:
                    if attempt == self.RETRIES:
                        raise
                    progress(f"{prefix}conflict, batch retried: {error}".strip())
                    time.sleep(attempt)
            elapsed = time.perf_counter() - started
            progress(
                f"{prefix}{label} {done}/{total}: batch of {len(batch)} in "
                f"{time.perf_counter() - batch_started:.1f} s, "
                f"{(done - first) / elapsed:.1f} {label}/s"
            )
        if first >= total:
            self._commit_state({"step": next_step, "done": 0}, state)

    def _commit_batch(self, state, batch, create_batch, new_state):
        """Create one batch and record the progress, in one transaction."""
        with self.registry.cursor() as cr:
            env = make_env(cr, self.company_id)
            create_batch(env, batch)
            self.batches += 1
            if self.batches % ANALYZE_EVERY == 0:
                # Fresh statistics for the planner, autovacuum may be off.
                cr.execute(f"ANALYZE {', '.join(ANALYZED_TABLES)}")
            write_state(env, new_state, self.key)
        state.update(new_state)

    def _commit_state(self, new_state, state):
        with self.registry.cursor() as cr:
            write_state(make_env(cr), new_state, self.key)
        state.update(new_state)

    # ------------------------------------------------------------- invoices

    def _references(self, env):
        """Ids of what the documents use, read once."""
        if self.refs is None:
            company = env["res.company"].browse(self.company_id)
            terms = [
                env["account.payment.term"]
                .search([("name", "=", name), ("company_id", "=", company.id)], limit=1)
                .id
                for name in ("Bench 30 jours", "Bench 2 echeances 30/60 jours")
            ]
            rows = env.execute_query(
                odoo.tools.SQL(
                    "SELECT ref, id FROM res_partner WHERE ref LIKE %s AND is_company",
                    "BENCH-C%",
                )
            )
            ids = dict(rows)
            sale_journal = worker_journals(env, company, "sale")[self.index]
            self.refs = {
                "sale_journal": sale_journal.id,
                "income_account": sale_journal.default_account_id.id,
                "bank_journal": worker_journals(env, company, "bank")[self.index].id,
                "terms": terms,
                "taxes": company.account_sale_tax_id.ids,
                "customers": [
                    ids[f"BENCH-C{index:05d}"] for index in range(self.customers)
                ],
            }
        return self.refs

    def _create_invoice_batch(self, env, batch):
        refs = self._references(env)
        # The balance of each move is checked when it is posted, not twice.
        Move = env["account.move"].with_context(
            **GENERATION_CONTEXT, check_move_validity=False
        )
        vals_list = []
        for document in batch:
            vals = {
                "move_type": document.move_type,
                "journal_id": refs["sale_journal"],
                "partner_id": refs["customers"][document.customer],
                "invoice_date": document.invoice_date,
                "ref": document.ref,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": f"Prestation {number}",
                            "quantity": quantity,
                            "price_unit": price,
                            # As a product's income account would: Odoo
                            # otherwise guesses it from the customer's history.
                            "account_id": refs["income_account"],
                            "tax_ids": [Command.set(refs["taxes"])],
                        }
                    )
                    for number, (quantity, price) in enumerate(document.lines, 1)
                ],
            }
            if document.move_type == "out_refund":
                vals["invoice_date_due"] = document.invoice_date
            else:
                vals["invoice_payment_term_id"] = refs["terms"][
                    document.two_installments
                ]
            vals_list.append(vals)
        moves = Move.create(vals_list)
        moves.action_post()
        held_refs = {document.ref for document in batch if document.hold}
        held = moves.filtered(lambda move: move.ref in held_refs)
        if held:
            held._set_dunning_hold("dispute", "Contestation de la livraison")

    # ------------------------------------------------------------- payments

    def _create_payment_batch(self, env, documents, batch):
        refs = self._references(env)
        currency = env["res.company"].browse(self.company_id).currency_id
        invoice_refs = [
            documents[key].ref for __, kind, key, __ in batch if kind == "invoice"
        ]
        moves = env["account.move"].search(
            [("company_id", "=", self.company_id), ("ref", "in", invoice_refs)]
        )
        move_by_ref = {move.ref: move for move in moves}
        vals_list, invoices = [], []
        for payment_date, kind, key, value in batch:
            invoice = None
            if kind == "invoice":
                invoice = move_by_ref[documents[key].ref]
                amount = invoice.amount_residual
                if value:
                    amount = currency.round(invoice.amount_total * value)
                partner_id = invoice.commercial_partner_id.id
                memo = invoice.name
            else:
                amount, partner_id, memo = value, refs["customers"][key], "Acompte"
            invoices.append(invoice)
            vals_list.append(
                {
                    "payment_type": "inbound",
                    "partner_type": "customer",
                    "partner_id": partner_id,
                    "amount": amount,
                    "date": payment_date,
                    "journal_id": refs["bank_journal"],
                    "memo": memo,
                }
            )
        payments = (
            env["account.payment"].with_context(**GENERATION_CONTEXT).create(vals_list)
        )
        payments.action_post()
        plan = []
        for payment, invoice in zip(payments, invoices, strict=True):
            if not invoice:
                continue
            counterpart = payment.move_id.line_ids.filtered(
                lambda line, payment=payment: line.account_id
                == payment.destination_account_id
            )
            receivables = invoice.line_ids.filtered(
                lambda line: line.account_type == "asset_receivable"
                and not line.reconciled
            )
            if receivables:
                plan.append(counterpart | receivables)
        env["account.move.line"]._reconcile_plan(plan)


# --------------------------------------------------------------- measurements


def _status_kb(key):
    with open("/proc/self/status") as status:
        match = re.search(rf"^{key}:\s+(\d+) kB", status.read(), re.MULTILINE)
    return int(match.group(1)) if match else None


def _trim_heap():
    """Give the freed heap back to the system, so that the RSS peak of a phase
    measures what the phase allocates rather than what was freed before."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _reset_peak_rss():
    """Reset the kernel's peak RSS of this process (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return _status_kb("VmHWM") is not None


class PhaseMeter:
    """Wall time, queries (``cr.sql_log_count``) and peak memory of a block.

    Memory is the peak resident set size (VmHWM, reset at the start of the block
    through /proc/self/clear_refs) minus the resident size at the start; where
    the peak cannot be reset, the growth of ``ru_maxrss`` (0 when the block stays
    under an earlier peak of the process). With ``use_tracemalloc``, also the
    peak of the Python allocations traced during the block.
    """

    def __init__(self, cr, use_tracemalloc=False):
        self.cr = cr
        self.use_tracemalloc = use_tracemalloc
        self.result = {}

    def __enter__(self):
        _trim_heap()
        self.load_start = os.getloadavg()[0]
        self.peak_reset = _reset_peak_rss()
        self.rss_start = _status_kb("VmRSS") if self.peak_reset else None
        self.maxrss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if self.use_tracemalloc:
            tracemalloc.start()
        self.queries_start = self.cr.sql_log_count
        self.started = time.perf_counter()
        return self

    def __exit__(self, exc_type, exc, tb):
        wall = time.perf_counter() - self.started
        queries = self.cr.sql_log_count - self.queries_start
        if self.peak_reset:
            memory_kb = _status_kb("VmHWM") - self.rss_start
            memory_kind = "peak RSS - RSS at start (VmHWM reset)"
        else:
            maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            memory_kb = maxrss - self.maxrss_start
            memory_kind = "ru_maxrss growth"
        self.result = {
            "wall_s": round(wall, 3),
            "queries": queries,
            "memory_mb": round(memory_kb / 1024, 1),
            "memory_kind": memory_kind,
            "load_average_1min": [round(self.load_start, 2), os.getloadavg()[0]],
        }
        if self.use_tracemalloc:
            self.result["tracemalloc_peak_mb"] = round(
                tracemalloc.get_traced_memory()[1] / 2**20, 1
            )
            tracemalloc.stop()
        return False


@contextmanager
def method_timers(registry, specs):
    """Count calls, inclusive wall time and queries of model methods.

    ``specs`` lists ``(model, method)``; the final class of each model in the
    registry gets a wrapper for the duration of the block.
    """
    stats = {}
    patched = []
    for model_name, method_name in specs:
        if model_name not in registry:
            continue
        cls = registry[model_name]
        original = getattr(cls, method_name, None)
        if original is None:
            continue
        entry = stats.setdefault(
            f"{model_name}.{method_name}", {"calls": 0, "wall_s": 0.0, "queries": 0}
        )

        def wrapper(self, *args, _original=original, _entry=entry, **kwargs):
            queries = self.env.cr.sql_log_count
            started = time.perf_counter()
            try:
                return _original(self, *args, **kwargs)
            finally:
                _entry["calls"] += 1
                _entry["wall_s"] += time.perf_counter() - started
                _entry["queries"] += self.env.cr.sql_log_count - queries

        functools.update_wrapper(wrapper, original)
        patched.append((cls, method_name, cls.__dict__.get(method_name)))
        setattr(cls, method_name, wrapper)
    try:
        yield stats
    finally:
        for cls, method_name, own in reversed(patched):
            if own is None:
                delattr(cls, method_name)
            else:
                setattr(cls, method_name, own)
        for entry in stats.values():
            entry["wall_s"] = round(entry["wall_s"], 3)


def normalize_sql(query):
    """The statement without its literals, savepoint names and list lengths."""
    if isinstance(query, bytes):
        query = query.decode(errors="replace")
    query = re.sub(r"\s+", " ", query).strip()
    query = re.sub(
        r'(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT) "[^"]*"', r"\1 ?", query
    )
    query = re.sub(r"'(?:[^']|'')*'", "?", query)
    query = re.sub(r"\b\d+\b", "N", query)
    query = re.sub(r"VALUES \(.*?\)(?: ?, ?\(.*?\))*", "VALUES (...)", query)
    query = re.sub(r"%s(?: ?, ?%s)+", "%s, ...", query)
    return re.sub(r"\((?:%s|N|\?)(?:, ?(?:%s|N|\?))+\)", "(...)", query)


def _short_path(path):
    for marker in (f"/{MODULE}/", "/odoo/addons/", "/addons/", "/odoo/"):
        if marker in path:
            return marker.strip("/") + "/" + path.split(marker, 1)[1]
    return path


class QueryProfile:
    """Group the queries of a block by normalised SQL, with the code sending them.

    The code is the innermost frame of the addon, else the innermost frame that
    is not ORM/cursor plumbing.
    """

    def __init__(self):
        self.stats = {}

    def hook(self, cr, query, params, start, delay):
        key = normalize_sql(query)
        entry = self.stats.setdefault(
            key, {"count": 0, "wall_s": 0.0, "callers": Counter()}
        )
        entry["count"] += 1
        entry["wall_s"] += delay
        entry["callers"][self._caller()] += 1

    @staticmethod
    def _caller():
        """The application frames (not ORM or cursor plumbing) that led to the
        query, innermost first, up to the benchmark's own frame."""
        frame = sys._getframe(2)
        chain = []
        while frame and len(chain) < CALLER_DEPTH:
            path = frame.f_code.co_filename
            if not path.startswith("<") and not any(
                core in path for core in CORE_PATHS
            ):
                if os.path.abspath(path) == BENCH_FILE:
                    chain.append(f"bench:{frame.f_lineno} {frame.f_code.co_name}")
                    break
                chain.append(
                    f"{_short_path(path)}:{frame.f_lineno} {frame.f_code.co_name}"
                )
            frame = frame.f_back
        return " <- ".join(chain) or "?"

    @contextmanager
    def collect(self):
        thread = threading.current_thread()
        previous = getattr(thread, "query_hooks", None)
        thread.query_hooks = [*(previous or ()), self.hook]
        try:
            yield self
        finally:
            if previous is None:
                del thread.query_hooks
            else:
                thread.query_hooks = previous

    def top(self, limit):
        ranked = sorted(
            self.stats.items(), key=lambda item: (-item[1]["count"], item[0])
        )
        return [
            {
                "count": entry["count"],
                "wall_s": round(entry["wall_s"], 3),
                "sql": sql,
                "callers": entry["callers"].most_common(3),
            }
            for sql, entry in ranked[:limit]
        ]


# ----------------------------------------------------------------- the phases

COMPUTE_METHODS = (
    ("credit.dunning.run", "action_compute"),
    ("credit.dunning.run", "_read_open_items"),
    ("credit.dunning.run", "_resolve_policies"),
    ("credit.dunning.run", "_read_history"),
    ("credit.dunning.run", "_prepare_letter_vals"),
    ("credit.dunning.run", "_create_letters"),
    ("res.partner", "_get_dunning_contacts"),
    ("credit.dunning.letter", "create"),
    ("credit.dunning.letter.line", "create"),
    ("account.move.line", "_refresh_dunning_level"),
)
SEND_METHODS = (
    ("credit.dunning.letter", "_queue_emails"),
    ("mail.template", "send_mail_batch"),
    ("mail.mail", "create"),
    ("credit.dunning.letter", "_schedule_calls"),
    ("mail.activity", "create"),
    ("credit.dunning.letter", "write"),
    ("credit.dunning.letter", "_log_sending"),
    ("res.partner", "_message_log_batch"),
    ("account.move", "_message_log_batch"),
    ("account.move.line", "_refresh_dunning_level"),
    # PDF rendering must not happen while preparing: these must stay at 0 calls.
    ("ir.actions.report", "_render_qweb_pdf"),
    ("ir.actions.report", "_pre_render_qweb_pdf"),
    ("ir.actions.report", "_run_wkhtmltopdf"),
    ("ir.actions.report", "_credit_render_pdf_results"),
    ("mail.mail", "_credit_attach_letter_pdfs"),
)
PENALTY_METHODS = (
    ("account.move", "compute_late_penalties"),
    ("account.move", "_prepare_penalty_lines"),
    ("account.move", "_read_penalty_settlements"),
    ("account.move", "_get_penalty_rules"),
    ("credit.reference.rate", "_get_rate_table"),
    ("credit.penalty.line", "_bulk_create"),
)
PRESCRIPTION_METHODS = (
    ("account.move", "_refresh_company_prescription"),
    ("account.move", "_refresh_prescription_watch"),
    ("account.move", "_get_prescription_dates"),
)
# The half-years the shipped rate table does not cover yet (see LAW.md: never
# guessed by the addon). The benchmark adds them inside its rolled-back
# transaction only, so that the penalties run up to today.
BENCH_ONLY_RATES = {"ecb_mro": 2.15, "legal_professional": 2.62, "legal_private": 6.67}
PDF_METHODS = (
    "ir.actions.report._render_qweb_pdf",
    "ir.actions.report._pre_render_qweb_pdf",
    "ir.actions.report._run_wkhtmltopdf",
    "ir.actions.report._credit_render_pdf_results",
    "mail.mail._credit_attach_letter_pdfs",
)


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

    @contextmanager
    def measured(self, env, methods):
        """Measure a block: meter, method timers and optionally query profile."""
        profile = QueryProfile() if self.args.profile_queries else None
        with method_timers(self.registry, methods) as timers:
            with PhaseMeter(env.cr, self.args.tracemalloc) as meter:
                if profile:
                    with profile.collect():
                        yield meter
                else:
                    yield meter
        meter.result["methods"] = timers
        if profile:
            meter.result["profiled_queries"] = sum(
                entry["count"] for entry in profile.stats.values()
            )
            meter.result["query_profile"] = profile.top(self.args.profile_queries)
            meter.result["query_groups"] = {
                sql: entry["count"] for sql, entry in profile.stats.items()
            }

    def _new_run(self, env):
        return env["credit.dunning.run"].create(
            {"company_id": self.company_id, "date": fields.Date.today()}
        )

    def data_shape(self):
        with self.transaction() as env:
            rows = env.execute_query_dict(
                odoo.tools.SQL(
                    """
                    WITH receivable AS (
                        SELECT line.date_maturity, line.amount_residual
                          FROM account_move_line line
                          JOIN account_account account
                            ON account.id = line.account_id
                         WHERE line.company_id = %(company)s
                           AND line.parent_state = 'posted'
                           AND account.account_type = 'asset_receivable'
                           AND NOT line.reconciled
                           AND line.amount_residual != 0
                    )
                    SELECT
                      (SELECT count(*) FROM account_move
                        WHERE company_id = %(company)s AND state = 'posted'
                          AND move_type = 'out_invoice') AS invoices,
                      (SELECT count(*) FROM account_move
                        WHERE company_id = %(company)s AND state = 'posted'
                          AND move_type = 'out_refund') AS credit_notes,
                      (SELECT count(*) FROM account_payment
                        WHERE company_id = %(company)s) AS payments,
                      (SELECT count(DISTINCT partner_id) FROM account_move
                        WHERE company_id = %(company)s
                          AND move_type = 'out_invoice') AS invoiced_customers,
                      (SELECT count(*) FROM receivable) AS open_receivables,
                      (SELECT count(*) FROM receivable
                        WHERE date_maturity < CURRENT_DATE) AS overdue_receivables,
                      (SELECT count(*) FROM receivable
                        WHERE date_maturity < CURRENT_DATE - 35)
                          AS overdue_over_35_days
                    """,
                    company=self.company_id,
                )
            )
        return rows[0]

    def compute_phase(self):
        with self.transaction() as env:
            with self.measured(env, COMPUTE_METHODS) as meter:
                run = self._new_run(env)
                run.action_compute()
                env.flush_all()
            result = meter.result
            result.update(self._compute_figures(env, run))
            result["open_items"] = len(run._read_open_items())
        return result

    def _compute_figures(self, env, run):
        Line = env["credit.dunning.letter.line"]
        letters = run.letter_ids
        return {
            "letters": len(letters),
            "letter_lines": Line.search_count([("letter_id.run_id", "=", run.id)]),
            "letter_lines_with_level": Line.search_count(
                [("letter_id.run_id", "=", run.id), ("level_id", "!=", False)]
            ),
            "letters_by_level": _count_by_level(letters),
        }

    def prescription_phase(self):
        """The prescription watch's work for the company: every open invoice's
        prescription date and the activities of those close to it
        (``_refresh_company_prescription``, what the daily job does per
        company)."""
        with self.transaction() as env:
            company = env["res.company"].browse(self.company_id)
            env.invalidate_all()
            with self.measured(env, PRESCRIPTION_METHODS) as meter:
                env["account.move"]._refresh_company_prescription(
                    company, fields.Date.today()
                )
                env.flush_all()
            result = meter.result
            [[watched, activities]] = env.execute_query(
                odoo.tools.SQL(
                    """SELECT count(*) FILTER (
                                  WHERE credit_prescription_date IS NOT NULL),
                              (SELECT count(*) FROM mail_activity
                                WHERE res_model = 'account.move')
                         FROM account_move WHERE company_id = %s""",
                    self.company_id,
                )
            )
            result.update(invoices_watched=watched, move_activities=activities)
        return result

    def penalties_phase(self):
        """compute_late_penalties on every posted customer invoice past its due date
        (open or paid late), as of today."""
        with self.transaction() as env:
            today = fields.Date.today()
            Rate = env["credit.reference.rate"]
            half_year = date(today.year, 1 if today.month <= 6 else 7, 1)
            for kind, rate in BENCH_ONLY_RATES.items():
                if not Rate.search_count(
                    [("kind", "=", kind), ("date_from", "=", half_year)]
                ):
                    Rate.create(
                        {
                            "kind": kind,
                            "date_from": half_year,
                            "rate": rate,
                            "source": "benchmark only (rolled back)",
                        }
                    )
            invoices = env["account.move"].search(
                [
                    ("company_id", "=", self.company_id),
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                    ("payment_state", "!=", "reversed"),
                    ("invoice_date_due", "<", today),
                ]
            )
            env.flush_all()
            env.invalidate_all()
            with self.measured(env, PENALTY_METHODS) as meter:
                invoices = env["account.move"].browse(invoices.ids)
                lines = invoices.compute_late_penalties(today)
                env.flush_all()
            result = meter.result
            # A second computation replaces the draft lines of the first one.
            env.invalidate_all()
            with self.measured(env, PENALTY_METHODS) as refresh:
                refreshed = env["account.move"].browse(invoices.ids)
                lines = refreshed.compute_late_penalties(today)
                env.flush_all()
            result.update(
                {
                    "refresh_wall_s": refresh.result["wall_s"],
                    "refresh_queries": refresh.result["queries"],
                    "late_invoices": len(invoices),
                    "installments": env["account.move.line"].search_count(
                        [
                            ("move_id", "in", invoices.ids),
                            ("display_type", "=", "payment_term"),
                        ]
                    ),
                    "penalty_lines": len(lines),
                    "interest_lines": len(
                        lines.filtered(lambda line: line.kind == "interest")
                    ),
                }
            )
        return result

    def _letters_to_send(self, env):
        """A fresh compute's letters waiting to be sent, topped up to
        ``--letters-to-send`` (untimed): ``(run, letter ids, topped up)``."""
        run = self._new_run(env)
        run.action_compute()
        env.flush_all()
        letters = run.letter_ids.filtered(lambda letter: letter.state == "to_send")
        if not self.args.letters_to_send:
            # 0: exactly the run's letters (the growth table's setting).
            return run, sorted(letters.ids), letters.browse()
        letter_ids = sorted(letters.ids)[: self.args.letters_to_send]
        topped_up = self._top_up(env, run, letter_ids)
        letter_ids += topped_up.ids
        env.flush_all()
        return run, letter_ids, topped_up

    def send_phase(self):
        with self.transaction() as env:
            run, letter_ids, topped_up = self._letters_to_send(env)
            before = self._send_counters(env)
            env.invalidate_all()
            with self.measured(env, SEND_METHODS) as meter:
                letters = env["credit.dunning.letter"].browse(letter_ids)
                letters._send_letters()
                env.flush_all()
            result = meter.result
            after = self._send_counters(env)
            result.update(
                {key: after[key] - before[key] for key in after},
                letters_taken=len(letter_ids),
                letters_computed=len(run.letter_ids),
                letters_topped_up_from_past_runs=len(topped_up),
            )
            result.update(self._sent_figures(env, letter_ids))
            result["pdf_render_calls"] = sum(
                result["methods"].get(name, {}).get("calls", 0) for name in PDF_METHODS
            )
        return result

    def background_phase(self):
        """The same letters as the send phase, sent the background way: the
        user's click (queues them: ``action_send`` above the threshold), then
        the scheduled action's calls, one batch each, until none is left. Each
        call is timed on its own (in production each is a transaction Odoo
        commits; here all are rolled back together, the caches emptied after
        each call as a commit does)."""
        with self.transaction() as env:
            env["ir.config_parameter"].set_param(
                "l10n_fr_credit_collection.send_background_threshold", 1
            )
            if self.args.send_batch_size:
                env["ir.config_parameter"].set_param(
                    "l10n_fr_credit_collection.send_batch_size",
                    self.args.send_batch_size,
                )
            _run, letter_ids, _topped_up = self._letters_to_send(env)
            env.invalidate_all()
            letters = env["credit.dunning.letter"].browse(letter_ids)
            with self.measured(env, ()) as click:
                letters.action_send()
                env.flush_all()
            calls = []
            Letter = env["credit.dunning.letter"]
            with self.measured(env, SEND_METHODS) as meter:
                while True:
                    started = time.perf_counter()
                    queries = env.cr.sql_log_count
                    done = Letter._cron_send_queued()
                    # Odoo's runner commits after each call, which empties the
                    # caches: the next batch starts cold, as here.
                    env.invalidate_all()
                    if not done:
                        break
                    calls.append(
                        (
                            done,
                            time.perf_counter() - started,
                            env.cr.sql_log_count - queries,
                        )
                    )
            result = meter.result
            result.update(
                click_wall_s=click.result["wall_s"],
                click_queries=click.result["queries"],
                letters_taken=len(letter_ids),
                batches=len(calls),
                batch_size=Letter._background_batch_size(),
                slowest_batch_s=round(max(call[1] for call in calls), 3),
                batch_queries_max=max(call[2] for call in calls),
                letters_per_second=round(
                    sum(call[0] for call in calls) / result["wall_s"], 1
                ),
            )
            result.update(self._sent_figures(env, letter_ids))
        return result

    def _top_up(self, env, run, letter_ids):
        """When today's run has fewer letters than asked, add letters of the past
        runs (most recent first) for customers not in the set yet, put back to
        'to_send'. The generation marked them sent without any email, activity
        or message, so they are prepared like new ones. One letter per customer,
        as in a single run (see the README). Untimed; rolled back with the
        phase."""
        missing = self.args.letters_to_send - len(letter_ids)
        Letter = env["credit.dunning.letter"]
        if missing <= 0:
            return Letter
        customers = set(Letter.browse(letter_ids).partner_id.ids)
        candidates = Letter.search(
            [
                ("company_id", "=", self.company_id),
                ("run_id", "!=", run.id),
                ("state", "=", "sent"),
                ("email_state", "=", False),
                ("activity_id", "=", False),
            ],
            order="date desc, id",
        )
        letters = Letter
        for letter in candidates:
            if len(letters) == missing:
                break
            if letter.partner_id.id not in customers:
                customers.add(letter.partner_id.id)
                letters |= letter
        # Untracked: the tracking messages would be written in the timed block.
        letters.with_context(tracking_disable=True).write(
            {"state": "to_send", "sent_date": False}
        )
        return letters

    def _send_counters(self, env):
        counts = env.execute_query_dict(
            odoo.tools.SQL(
                """
                SELECT
                  (SELECT count(*) FROM mail_mail) AS mails_queued,
                  (SELECT count(*) FROM mail_mail
                    WHERE credit_letter_pdf_pending) AS mails_with_pending_pdf,
                  (SELECT count(*) FROM mail_activity) AS activities_created,
                  (SELECT count(*) FROM mail_message) AS messages_created,
                  (SELECT count(*) FROM ir_attachment) AS attachments_created
                """
            )
        )
        return counts[0]

    def _sent_figures(self, env, letter_ids):
        letters = env["credit.dunning.letter"].browse(letter_ids)
        states = Counter(letters.mapped("state"))
        return {
            "letters_sent": states.get("sent", 0),
            "letters_error": states.get("error", 0),
            "letters_by_email": len(letters.filtered("send_email")),
            "letters_email_fallback": len(letters.filtered("email_fallback")),
            "letters_by_post": len(letters.filtered("send_letter")),
            "letters_with_call": len(letters.filtered("create_activity")),
            "letters_by_level": _count_by_level(letters),
        }


# -------------------------------------------------------------------- output


def _count_by_level(letters):
    return dict(
        sorted(Counter(letter.level_id.display_name for letter in letters).items())
    )


def print_phase(title, result, limit):
    print(f"\n== {title}")
    print(
        f"  wall time : {fmt_seconds(result['wall_s'])} s\n"
        f"  queries   : {result['queries']}  (cr.sql_log_count)\n"
        f"  memory    : {result['memory_mb']} MB  ({result['memory_kind']})"
    )
    if "tracemalloc_peak_mb" in result:
        print(f"  tracemalloc peak: {result['tracemalloc_peak_mb']} MB")
    skip = {
        "wall_s",
        "queries",
        "memory_mb",
        "memory_kind",
        "tracemalloc_peak_mb",
        "methods",
        "query_profile",
        "query_groups",
    }
    for key, value in result.items():
        if key not in skip:
            print(f"  {key}: {value}")
    print("  methods (calls, inclusive wall s, inclusive queries):")
    for name, entry in result["methods"].items():
        print(
            f"    {name:<48} {entry['calls']:>6} {entry['wall_s']:>9.3f} "
            f"{entry['queries']:>7}"
        )
    if result.get("query_profile"):
        print(f"  top {limit} statements (count, s, SQL, callers):")
        for entry in result["query_profile"]:
            print(
                f"    {entry['count']:>6} {entry['wall_s']:>8.3f}  {entry['sql'][:160]}"
            )
            for caller, count in entry["callers"]:
                print(f"             {count:>6} x {caller}")


def addon_revision():
    """Commit of the addon's repository, and whether its code has local changes."""
    path = odoo.modules.module.get_module_path(MODULE)

    def git(*command):
        return subprocess.run(
            ["git", "-C", path, *command], capture_output=True, text=True, check=True
        ).stdout

    try:
        head = git("log", "-1", "--format=%h %cd", "--date=iso").strip()
        changes = git("status", "--porcelain", "--", ".", ":!bench").splitlines()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}, {len(changes)} uncommitted change(s)" if changes else head


def main(argv=None):
    args, odoo_args = parse_args(sys.argv[1:] if argv is None else argv)
    config.parse_config(odoo_args, setup_logging=True)
    if config["init"] or config["update"]:
        # -i/-u given after '--': install or update the modules first.
        registry = Registry.new(args.db, update_module=True)
    else:
        registry = Registry(args.db)
    if args.worker:
        index, jobs = (int(part) for part in args.worker.split("/"))
        Worker(registry, args, index, jobs).run()
        return
    with registry.cursor() as cr:
        env = make_env(cr)
        module = env["ir.module.module"].search([("name", "=", MODULE)])
        if module.state != "installed":
            raise SystemExit(f"{MODULE} is not installed in database {args.db}.")
    state = Generator(registry, args, odoo_args).run()
    results = {
        "db": args.db,
        "addon_revision": addon_revision(),
        "odoo": odoo.release.version,
        "cpus": os.cpu_count(),
        "generation": state,
        "runs": [],
    }
    print(
        f"\n{MODULE} at {results['addon_revision']}; Odoo {results['odoo']}; "
        f"{results['cpus']} CPUs; load average {os.getloadavg()[0]:.2f}"
    )
    if not args.generate_only:
        bench = Bench(registry, args, state["company_id"])
        shape = bench.data_shape()
        results["data"] = shape
        print(f"\nData of company {state['company_id']} in {args.db}: {shape}")
        for phase in args.phases:
            for attempt in range(1, args.repeat + 1):
                result = getattr(bench, f"{phase}_phase")()
                results["runs"].append({"phase": phase, "attempt": attempt, **result})
                title = f"{phase} (attempt {attempt})"
                print_phase(title, result, args.profile_queries)
    if args.json:
        with open(args.json, "w") as output:
            json.dump(results, output, indent=2, default=str)
        print(f"\nResults written to {args.json}")


if __name__ == "__main__":
    main()
