#!/usr/bin/env python3
"""Background sending across two Odoo servers sharing one database.

Drives two running Odoo 18 servers (started by you, in multi-worker mode, on the
same database and filestore, each with its own cron worker) through JSON-RPC, as
two users would:

1. on server A, a dunning run of the benchmark company dated today is created
   and computed (or ``--run-id`` names one already computed);
2. on server A, *Send* on the run: the click is timed (it must only queue the
   letters);
3. while the scheduled action sends them, on server B, *Resume Sending* on the
   same run (the user's click racing the job on the other server) and *Send* on
   a few letters still queued (sent at once by the request, racing the job);
4. both servers are polled until no letter is left queued; the time from the
   click to the last letter sent gives the throughput;
5. with ``--wait-mail``, the run's emails are then polled until Odoo's mail
   queue has sent them with the letters' PDFs (``--smtp-log``: the file
   ``smtp_sink.py`` writes, to count the emails received and the duplicates).
   Pass the same server as A and B to measure one server.

Then the database is read directly (psycopg2) to check the guarantees: every
letter of the run left the queue, none has two emails or two chatter logs of its
sending, the letters in error carry their reason, and the log files given with
``--log`` show no time limit hit and no traceback.

Usage (see bench/README.md)::

    python3 bench/bench_servers.py --db cc_bench_servers \\
        --url-a http://127.0.0.1:8301 --url-b http://127.0.0.1:8302 \\
        --log /tmp/server_a.log --log /tmp/server_b.log
"""

import argparse
import itertools
import json
import re
import sys
import time
import urllib.request
from datetime import date
from http.cookiejar import CookieJar

import psycopg2

COMPANY_NAME = "Bench Recouvrement SAS"
LIMIT_PATTERNS = re.compile(
    r"virtual real time limit|CPU time limit|Traceback|ERROR|CRITICAL"
)


class Client:
    """A JSON-RPC session on one server."""

    _ids = itertools.count(1)

    def __init__(self, url, db, login, password):
        self.url = url.rstrip("/")
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(CookieJar())
        )
        self.uid = self._post(
            "/web/session/authenticate",
            {"db": db, "login": login, "password": password},
        )["uid"]
        self.context = {"tz": "UTC"}

    def _post(self, path, params):
        payload = json.dumps(
            {"jsonrpc": "2.0", "id": next(self._ids), "params": params}
        ).encode()
        request = urllib.request.Request(
            self.url + path, payload, {"Content-Type": "application/json"}
        )
        with self.opener.open(request, timeout=600) as response:
            answer = json.load(response)
        if answer.get("error"):
            error = answer["error"].get("data", {}).get("message") or answer["error"]
            raise RuntimeError(f"{self.url}{path}: {error}")
        return answer["result"]

    def call(self, model, method, *args, **kwargs):
        kwargs.setdefault("context", self.context)
        return self._post(
            "/web/dataset/call_kw",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--url-a", required=True)
    parser.add_argument("--url-b", required=True)
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--db-host", default="127.0.0.1")
    parser.add_argument("--db-user", default="odoo")
    parser.add_argument("--run-id", type=int, help="a computed run (else one is made)")
    parser.add_argument(
        "--direct-letters",
        type=int,
        default=20,
        help="letters sent at once from server B while the job runs (20)",
    )
    parser.add_argument(
        "--wait-mail",
        action="store_true",
        help="then wait for Odoo's mail queue to send the run's emails with "
        "their PDFs (the mail queue's scheduled action must be active)",
    )
    parser.add_argument(
        "--smtp-log", help="the file smtp_sink.py writes, to count the emails"
    )
    parser.add_argument("--poll", type=float, default=5.0, help="seconds (5)")
    parser.add_argument("--timeout", type=float, default=7200.0, help="seconds")
    parser.add_argument("--log", action="append", default=[], help="a server log")
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON")
    return parser.parse_args(argv)


def prepare_run(client, args):
    [company] = client.call(
        "res.company", "search_read", [("name", "=", COMPANY_NAME)], ["id"]
    )
    client.context["allowed_company_ids"] = [company["id"]]
    if args.run_id:
        return args.run_id, None
    started = time.perf_counter()
    run_id = client.call(
        "credit.dunning.run",
        "create",
        {"company_id": company["id"], "date": date.today().isoformat()},
    )
    client.call("credit.dunning.run", "action_compute", [run_id])
    return run_id, round(time.perf_counter() - started, 2)


def read_run(client, run_id):
    [run] = client.call(
        "credit.dunning.run",
        "read",
        [run_id],
        ["state", "send_progress", "send_queued_count", "send_total"],
    )
    return run


def check_database(args, run_id):
    """The guarantees, read from the database itself."""
    with psycopg2.connect(dbname=args.db, host=args.db_host, user=args.db_user) as db:
        cr = db.cursor()
        cr.execute(
            """SELECT state, send_queued, count(*),
                      count(*) FILTER (WHERE state = 'error'
                                         AND coalesce(error_message, '') = '')
                 FROM credit_dunning_letter WHERE run_id = %s
             GROUP BY state, send_queued""",
            [run_id],
        )
        states = {}
        errors_without_reason = 0
        for state, queued, count, no_reason in cr.fetchall():
            key = f"{state}{' (queued)' if queued else ''}"
            states[key] = count
            errors_without_reason += no_reason
        cr.execute(
            """SELECT count(*), count(DISTINCT res_id), COALESCE(max(n), 0) FROM (
                   SELECT mail.res_id, count(*) AS n
                     FROM mail_message mail
                     JOIN credit_dunning_letter letter ON letter.id = mail.res_id
                    WHERE mail.model = 'credit.dunning.letter'
                      AND mail.message_type = 'email_outgoing'
                      AND letter.run_id = %s
                 GROUP BY mail.res_id) per_letter""",
            [run_id],
        )
        emails, letters_emailed, most_per_letter = cr.fetchone()
        cr.execute(
            """SELECT count(*) FROM credit_dunning_letter letter
                WHERE letter.run_id = %s AND letter.send_email
                  AND NOT letter.email_fallback AND letter.state IN ('sent', 'to_print')
                  AND NOT EXISTS (
                      SELECT 1 FROM mail_message mail
                       WHERE mail.model = 'credit.dunning.letter'
                         AND mail.res_id = letter.id
                         AND mail.message_type = 'email_outgoing')""",
            [run_id],
        )
        [[emails_missing]] = cr.fetchall()
        cr.execute(
            """SELECT count(DISTINCT send_user_id) FROM credit_dunning_letter
                WHERE run_id = %s""",
            [run_id],
        )
        [[authors]] = cr.fetchall()
    return {
        "letters_by_state": states,
        "errors_without_reason": errors_without_reason,
        "emails": emails,
        "letters_emailed": letters_emailed,
        "most_emails_for_one_letter": most_per_letter,
        "sent_email_letters_without_email": emails_missing,
        "distinct_authors": authors,
    }


def wait_mail(args, run_id, deadline):
    """Poll the run's emails until Odoo's mail queue has sent them all (with the
    letters' PDFs it renders): how long it took, how many failed, and, from the
    SMTP sink's file, how many were received and how many twice."""
    query = """SELECT count(*) FILTER (WHERE mail.state = 'outgoing'),
                      count(*) FILTER (WHERE mail.state = 'sent'),
                      count(*) FILTER (WHERE mail.state = 'exception')
                 FROM mail_mail mail
                 JOIN mail_message message ON message.id = mail.mail_message_id
                 JOIN credit_dunning_letter letter ON letter.id = message.res_id
                WHERE message.model = 'credit.dunning.letter'
                  AND letter.run_id = %s"""
    started = time.perf_counter()
    with psycopg2.connect(dbname=args.db, host=args.db_host, user=args.db_user) as db:
        db.autocommit = True
        cr = db.cursor()
        while True:
            cr.execute(query, [run_id])
            left, sent, failed = cr.fetchone()
            elapsed = time.perf_counter() - started
            print(f"{elapsed:7.1f} s  mail queue: {sent} sent, {left} left", flush=True)
            if not left or time.perf_counter() > deadline:
                break
            time.sleep(args.poll)
    result = {
        "mail_queue_s": round(elapsed, 1),
        "emails_sent": sent,
        "emails_per_second": round(sent / elapsed, 1) if elapsed else None,
        "emails_failed": failed,
        "emails_left": left,
    }
    if args.smtp_log:
        with open(args.smtp_log, encoding="utf-8", errors="replace") as log:
            subjects = [line.rstrip("\n").split("\t")[-1] for line in log]
        result["emails_received"] = len(subjects)
        result["duplicate_emails_received"] = len(subjects) - len(set(subjects))
    return result


def check_logs(paths):
    hits = []
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as log:
            hits += [
                f"{path}: {line.strip()}" for line in log if LIMIT_PATTERNS.search(line)
            ]
    return hits


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    client_a = Client(args.url_a, args.db, args.login, args.password)
    client_b = Client(args.url_b, args.db, args.login, args.password)
    run_id, compute_s = prepare_run(client_a, args)
    client_b.context.update(client_a.context)
    total = client_a.call(
        "credit.dunning.letter",
        "search_count",
        [("run_id", "=", run_id), ("state", "=", "to_send")],
    )
    print(f"run {run_id}: {total} letters to send (compute {compute_s} s)", flush=True)

    started = time.perf_counter()
    client_a.call("credit.dunning.run", "action_send", [run_id])
    click_s = time.perf_counter() - started
    print(f"Send clicked on A: returned in {click_s:.2f} s", flush=True)

    raced = {"resume_s": None, "direct_letters": 0, "direct_s": None}
    deadline = started + args.timeout
    progress = []
    while time.perf_counter() < deadline:
        time.sleep(args.poll)
        client = client_b if len(progress) % 2 else client_a
        run = read_run(client, run_id)
        elapsed = time.perf_counter() - started
        progress.append((round(elapsed, 1), run["send_progress"]))
        print(f"{elapsed:7.1f} s  {run['send_progress']}", flush=True)
        queued = run["send_queued_count"]
        if raced["resume_s"] is None and queued < total:
            # The job has started on one of the servers: race it from B.
            mark = time.perf_counter()
            client_b.call("credit.dunning.run", "action_resume_sending", [run_id])
            raced["resume_s"] = round(time.perf_counter() - mark, 2)
            letter_ids = client_b.call(
                "credit.dunning.letter",
                "search",
                [("run_id", "=", run_id), ("send_queued", "=", True)],
                order="id desc",
                limit=args.direct_letters,
            )
            mark = time.perf_counter()
            client_b.call("credit.dunning.letter", "action_send", letter_ids)
            raced["direct_s"] = round(time.perf_counter() - mark, 2)
            raced["direct_letters"] = len(letter_ids)
            print(f"raced from B: {raced}", flush=True)
        if not queued:
            break
    wall_s = time.perf_counter() - started
    mail = wait_mail(args, run_id, deadline) if args.wait_mail else {}
    result = {
        "run_id": run_id,
        "letters": total,
        "compute_s": compute_s,
        "click_s": round(click_s, 2),
        "wall_s": round(wall_s, 1),
        "letters_per_second": round(total / wall_s, 1),
        "raced_from_b": raced,
        "final_progress": read_run(client_b, run_id)["send_progress"],
        **check_database(args, run_id),
        **mail,
        "log_problems": check_logs(args.log),
    }
    print(json.dumps(result, indent=2))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(result, out, indent=2)
    ok = (
        not result["log_problems"]
        and result["most_emails_for_one_letter"] <= 1
        and not result["sent_email_letters_without_email"]
        and not result["errors_without_reason"]
        and not any("queued" in key for key in result["letters_by_state"])
        and not mail.get("emails_left")
        and not mail.get("duplicate_emails_received")
    )
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
