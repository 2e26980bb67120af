import logging
from collections import defaultdict

from psycopg2 import errors as pg_errors

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..engine.levels import highest_level, resolve_level

_logger = logging.getLogger(__name__)

# Payment states whose items are never dunned: settled, being paid, or frozen by hand.
EXCLUDED_PAYMENT_STATES = ("paid", "in_payment", "reversed", "blocked")
# First half of the advisory lock key of dunning runs (the second is the company).
DUNNING_LOCK_KEY = 0x44554E4E  # "DUNN"
# Letter items written by a run above which the letter tables are analyzed.
ANALYZE_AFTER_LINES = 10000
# Postal letters printed by one click of the run's button (system parameter).
PRINT_BATCH_PARAM = "l10n_fr_credit_collection.print_batch_size"
PRINT_BATCH_DEFAULT = 100


class CreditDunningRun(models.Model):
    _name = "credit.dunning.run"
    _description = "Dunning Run"
    _inherit = ["mail.thread"]
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(required=True, readonly=True, copy=False, default="/")
    date = fields.Date(
        required=True,
        default=fields.Date.context_today,
        tracking=True,
        help="Delays are counted up to this date.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    user_id = fields.Many2one(
        "res.users", string="Run By", default=lambda self: self.env.user, readonly=True
    )
    state = fields.Selection(
        [("draft", "Draft"), ("computed", "Computed"), ("done", "Done")],
        default="draft",
        required=True,
        tracking=True,
    )
    letter_ids = fields.One2many("credit.dunning.letter", "run_id", "Letters")
    letter_count = fields.Integer(compute="_compute_counters")
    to_send_count = fields.Integer(compute="_compute_counters")
    sent_count = fields.Integer(compute="_compute_counters")
    error_count = fields.Integer(compute="_compute_counters")
    print_count = fields.Integer(
        string="To Print",
        compute="_compute_counters",
        help="Letters sent through their other channels that wait to be printed "
        "and posted.",
    )
    # Background sending (more letters than the threshold): the click queues them,
    # the scheduled action sends them in batches.
    send_total = fields.Integer(
        string="Letters in the Sending",
        readonly=True,
        copy=False,
        help="Letters of the last background sending of this run.",
    )
    send_user_id = fields.Many2one(
        "res.users", string="Sending Requested By", readonly=True, copy=False
    )
    send_queued_count = fields.Integer(
        string="Still Queued", compute="_compute_counters"
    )
    send_done_count = fields.Integer(compute="_compute_counters")
    send_progress = fields.Char(string="Sending", compute="_compute_counters")

    @api.depends("letter_ids.state", "letter_ids.send_queued", "send_total")
    def _compute_counters(self):
        groups = self.env["credit.dunning.letter"]._read_group(
            [("run_id", "in", self.ids)],
            ["run_id", "state", "send_queued"],
            ["__count"],
        )
        counts = defaultdict(lambda: defaultdict(int))
        for run, state, queued, count in groups:
            counts[run.id][state] += count
            counts[run.id]["all"] += count if state != "cancelled" else 0
            if queued and state == "to_send":
                counts[run.id]["queued"] += count
        for run in self:
            run_counts = counts[run.id]
            run.letter_count = run_counts["all"]
            run.to_send_count = run_counts["to_send"]
            run.sent_count = run_counts["sent"]
            run.error_count = run_counts["error"]
            run.print_count = run_counts["to_print"]
            run.send_queued_count = run_counts["queued"]
            run.send_done_count = max(run.send_total - run_counts["queued"], 0)
            run.send_progress = (
                self.env._(
                    "%(done)s / %(total)s sent",
                    done=run.send_done_count,
                    total=run.send_total,
                )
                if run.send_total
                else False
            )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = (
                    self.env["ir.sequence"].next_by_code("credit.dunning.run") or "/"
                )
        return super().create(vals_list)

    def unlink(self):
        """A run's letters go with it (``ondelete="cascade"``), so a run that sent
        any letter is kept: its letters are the customers' dunning history."""
        self.check_access("unlink")
        sent = (
            self.env["credit.dunning.letter"]
            .sudo()
            .search(
                [
                    ("run_id", "in", self.ids),
                    "|",
                    "|",
                    ("state", "=", "sent"),
                    ("sent_date", "!=", False),
                    ("email_state", "in", ("queued", "sent")),
                ],
                limit=1,
            )
        )
        if sent:
            raise UserError(
                _(
                    "The dunning run %(run)s sent letters (%(letter)s): it cannot be "
                    "deleted, they are the customers' dunning history. Cancel the "
                    "letters still to send instead.",
                    run=sent.run_id.display_name,
                    letter=sent.display_name,
                )
            )
        return super().unlink()

    # ------------------------------------------------------------------ actions

    def action_compute(self):
        """Build one letter per customer with something new to say."""
        for run in self:
            if run.state != "draft":
                raise UserError(
                    _("The dunning run %(run)s was already computed.", run=run.name)
                )
            run._lock_company()
            run._check_date()
            run._compute_letters()
            run.state = "computed"
            run._update_state()
        return True

    def action_send(self):
        """Send every letter of the runs that waits in 'To Send': at once up to
        the background threshold, queued for the scheduled action beyond it."""
        letters = self.env["credit.dunning.letter"].search(
            [("run_id", "in", self.ids), ("state", "=", "to_send")]
        )
        if not letters:
            raise UserError(
                _("No letter of the run %(run)s waits to be sent.", run=self[:1].name)
            )
        return letters.action_send()

    def action_resume_sending(self):
        """Send again, in the background, the letters that failed and those still
        queued (after a stopped server, say)."""
        # Searched, not filtered: the click stays short on 20,000 letters.
        Letter = self.env["credit.dunning.letter"]
        failed = Letter.search([("run_id", "in", self.ids), ("state", "=", "error")])
        letters = failed | Letter.search(
            [
                ("run_id", "in", self.ids),
                ("state", "=", "to_send"),
                ("send_queued", "=", True),
            ]
        )
        if not letters:
            raise UserError(
                _(
                    "The run %(run)s has no letter in error or waiting in the "
                    "background: nothing to resume.",
                    run=self[:1].name,
                )
            )
        failed.write({"state": "to_send", "error_message": False, "email_state": False})
        return letters._queue_sending()

    def action_print_letters(self):
        """Print the postal letters waiting to be printed; printing marks them sent.

        One click prints at most ``l10n_fr_credit_collection.print_batch_size``
        letters (100 by default), in the order of the run, so that the PDF is
        made within a request's time limit (200 letters, formal notices among
        them, took 83 s on two cores with Debian's wkhtmltopdf); the run's *To
        Print* counter shows what the next click prints."""
        size = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(PRINT_BATCH_PARAM, PRINT_BATCH_DEFAULT)
        )
        letters = self.env["credit.dunning.letter"].search(
            [("run_id", "in", self.ids), ("state", "=", "to_print")],
            order="id",
            limit=size if size > 0 else None,
        )
        if not letters:
            raise UserError(
                _(
                    "No letter of the run %(run)s waits to be printed. Send the "
                    "letters first; a printed letter can be printed again from its "
                    "own form.",
                    run=self[:1].name,
                )
            )
        return letters.action_print()

    def action_view_letters(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "l10n_fr_credit_collection.action_credit_dunning_letter"
        )
        letters = self.letter_ids
        if len(letters) == 1:
            action.update(
                {"view_mode": "form", "views": [(False, "form")], "res_id": letters.id}
            )
        else:
            action["domain"] = [("run_id", "in", self.ids)]
        return action

    def _update_state(self):
        runs = self.filtered(lambda run: run.state != "draft")
        if not runs:
            return
        pending = {
            run.id
            for [run] in self.env["credit.dunning.letter"]._read_group(
                [
                    ("run_id", "in", runs.ids),
                    ("state", "in", ("draft", "to_send", "to_print", "error")),
                ],
                ["run_id"],
            )
        }
        # Only the runs whose state changes are written: the background job and
        # a user sending letters of the same run do not wait on its row.
        for run in runs:
            state = "computed" if run.id in pending else "done"
            if run.state != state:
                run.state = state

    # ------------------------------------------------------------------ checks

    def _lock_company(self):
        """Serialise the runs of a company: a second one at the same time fails.

        A transaction-level advisory lock keyed on the company: it is released at
        commit or rollback and does not block anyone else writing the company.
        """
        self.ensure_one()
        locked = self.env.execute_query(
            SQL(
                "SELECT pg_try_advisory_xact_lock(%s, %s)",
                DUNNING_LOCK_KEY,
                self.company_id.id,
            )
        )[0][0]
        if not locked:
            raise UserError(
                _(
                    "Another dunning run is being computed for %(company)s. Wait "
                    "until it ends, then start this one again.",
                    company=self.company_id.name,
                )
            )

    def _check_date(self):
        self.ensure_one()
        last = self.search(
            [
                ("company_id", "=", self.company_id.id),
                ("state", "!=", "draft"),
                ("date", ">", self.date),
            ],
            order="date desc",
            limit=1,
        )
        if last:
            raise UserError(
                _(
                    "The dunning run %(run)s is dated %(date)s, before the last run of "
                    "%(company)s (%(last)s, %(last_date)s). Date it %(last_date)s or "
                    "later.",
                    run=self.name,
                    date=self.date,
                    company=self.company_id.name,
                    last=last.name,
                    last_date=last.date,
                )
            )

    # ------------------------------------------------------------------ compute

    def _get_open_items_domain(self):
        """Receivable items a run may list: open, posted, of this company.

        Designed to be inherited; the factoring feature adds its exclusion through
        ``account.move.line._get_dunning_excluded_domain``.
        """
        self.ensure_one()
        return [
            ("company_id", "=", self.company_id.id),
            ("account_type", "=", "asset_receivable"),
            ("parent_state", "=", "posted"),
            ("reconciled", "=", False),
            ("amount_residual", "!=", 0),
            ("partner_id", "!=", False),
            ("move_id.payment_state", "not in", EXCLUDED_PAYMENT_STATES),
            ("partner_id.commercial_partner_id.dunning_excluded", "=", False),
            "|",
            ("move_id.dunning_hold", "=", False),
            "&",
            ("move_id.dunning_hold_until", "!=", False),
            ("move_id.dunning_hold_until", "<", self.date),
            *self.env["account.move.line"]._get_dunning_excluded_domain(),
        ]

    def _read_open_items(self):
        """All candidate items in one query, as plain dicts, with what the run
        needs of their invoice and customer (policies included)."""
        self.ensure_one()
        self.env["account.move"].flush_model(
            ["dunning_policy_id", "invoice_date", "date", "move_type"]
        )
        self.env["res.partner"].flush_model(
            ["commercial_partner_id", "user_id", "email"]
        )
        Partner = self.env["res.partner"].with_company(self.company_id)
        query = self.env["account.move.line"]._search(self._get_open_items_domain())
        move = self._join_items_query(query, "move", "account_move", "move_id")
        partner = self._join_items_query(query, "partner", "res_partner", "partner_id")
        customer = self._join_items_query(
            query, "customer", "res_partner", "commercial_partner_id", partner
        )
        return self.env.execute_query_dict(
            query.select(
                SQL(
                    """account_move_line.id AS id,
                       account_move_line.move_id AS move_id,
                       %(customer)s.id AS partner_id,
                       %(customer)s.user_id AS user_id,
                       %(customer)s.email AS email,
                       %(move)s.move_type AS move_type,
                       %(move)s.dunning_policy_id AS move_policy_id,
                       %(partner_policy)s AS partner_policy_id,
                       COALESCE(%(move)s.invoice_date, %(move)s.date) AS document_date,
                       COALESCE(account_move_line.date_maturity, %(move)s.date)
                           AS date_maturity,
                       account_move_line.currency_id AS currency_id,
                       account_move_line.amount_currency AS amount_currency,
                       account_move_line.amount_residual AS amount_residual,
                       account_move_line.amount_residual_currency
                           AS amount_residual_currency""",
                    customer=SQL.identifier(customer),
                    move=SQL.identifier(move),
                    partner_policy=Partner._field_to_sql(
                        customer, "dunning_policy_id", query
                    ),
                )
            )
        )

    @api.model
    def _join_items_query(self, query, name, table, column, source="account_move_line"):
        """Join ``table`` on ``source.column`` in the items query; return its alias."""
        alias = query.make_alias("account_move_line", f"dunning_{name}")
        query.add_join(
            "JOIN",
            alias,
            table,
            SQL("%s = %s", SQL.identifier(alias, "id"), SQL.identifier(source, column)),
        )
        return alias

    def _read_history(self, item_ids):
        """What each item already received, in one grouped query.

        :return: ``{item_id: {"received": [level ids of its sent letters],
            "last_sent_date": date, "last_sent_level": level id,
            "waiting": whether a letter about it waits to be sent or printed}}``
            for the items with a level in a letter not cancelled
        """
        Line = self.env["credit.dunning.letter.line"]
        Line.check_access("read")
        Line.flush_model(["letter_id", "move_line_id", "level_id", "letter_state"])
        self.env["credit.dunning.letter"].flush_model(["sent_date"])
        rows = self.env.execute_query_dict(
            SQL(
                """
                SELECT line.move_line_id AS id,
                       ARRAY_AGG(line.level_id)
                           FILTER (WHERE line.letter_state = 'sent') AS received,
                       MAX(letter.sent_date)
                           FILTER (WHERE line.letter_state = 'sent')
                           AS last_sent_date,
                       (ARRAY_AGG(line.level_id
                                  ORDER BY letter.sent_date DESC, letter.id DESC)
                           FILTER (WHERE line.letter_state = 'sent'))[1]
                           AS last_sent_level,
                       BOOL_OR(line.letter_state != 'sent') AS waiting
                  FROM credit_dunning_letter_line line
                  JOIN credit_dunning_letter letter ON letter.id = line.letter_id
                 WHERE line.move_line_id = ANY(%s)
                   AND line.level_id IS NOT NULL
                   AND line.letter_state != 'cancelled'
              GROUP BY line.move_line_id
                """,
                list(item_ids),
            )
        )
        return {row.pop("id"): row for row in rows}

    def _resolve_policies(self, items):
        """Policy of each item: invoice, then customer, then company default."""
        default = self.env["credit.dunning.policy"]._get_company_default(
            self.company_id
        )
        for item in items:
            item["policy_id"] = (
                item["move_policy_id"] or item["partner_policy_id"] or default.id
            )
        policy_ids = {item["policy_id"] for item in items if item["policy_id"]}
        return self.env["credit.dunning.policy"].browse(policy_ids)

    def _compute_letters(self):
        """Read the candidate items, resolve their new levels and write one letter
        per customer with something new to say, in a constant number of queries."""
        self.ensure_one()
        items = self._read_open_items()
        engine_levels = self._get_engine_levels(items)
        history = self._read_history([item["id"] for item in items])
        step_by_step = self._get_step_by_step_move_ids(
            {item["move_id"] for item in items}
        )
        letters_vals = []
        for partner_id, partner_items in self._group_items_by_partner(items).items():
            reached = self._resolve_partner_levels(
                partner_items, engine_levels, history, step_by_step
            )
            if reached:
                letters_vals.append(
                    self._prepare_letter_vals(partner_id, partner_items, reached)
                )
        self._create_letters(letters_vals)

    def _get_engine_levels(self, items):
        """Levels of the items' policies: ``{policy id: {level id: Level}}``."""
        policies = self._resolve_policies(items)
        if items and not policies:
            raise UserError(
                _(
                    "%(company)s has no dunning policy. Create one in Credit "
                    "Collection > Configuration > Dunning Policies and make it the "
                    "default.",
                    company=self.company_id.name,
                )
            )
        policies.fetch(["level_ids"])
        return {policy.id: policy._engine_levels() for policy in policies}

    def _group_items_by_partner(self, items):
        """Items per customer, leaving out the customers that already have a letter
        of that day and those whose balance is within the tolerance."""
        already = set(
            self.env["credit.dunning.letter"]
            .search(
                [
                    ("company_id", "=", self.company_id.id),
                    ("date", "=", self.date),
                    ("state", "!=", "cancelled"),
                ]
            )
            .partner_id.ids
        )
        by_partner = defaultdict(list)
        for item in items:
            if item["partner_id"] not in already:
                by_partner[item["partner_id"]].append(item)
        tolerance = self.company_id.dunning_tolerance
        return {
            partner_id: partner_items
            for partner_id, partner_items in by_partner.items()
            if sum(item["amount_residual"] for item in partner_items) > tolerance
        }

    def _get_step_by_step_move_ids(self, move_ids):
        """The documents (of ``move_ids``) whose items climb one level at a time
        (extension point: none by default; the payment plans add the items of a
        broken plan). One query for the run."""
        return set()

    def _resolve_partner_levels(self, items, engine_levels, history, step_by_step=()):
        """New level of each item of one customer: ``{item id: Level}``.

        An item about which a letter still waits (to send, to print, held back or
        in error) gets nothing new: that letter comes first. An item of
        ``step_by_step`` (document ids) climbs one level at most.
        """
        tolerance = self.company_id.dunning_tolerance
        reached = {}
        for item in items:
            levels = engine_levels.get(item["policy_id"])
            past = history.get(item["id"], {})
            if (
                not levels
                or item["amount_residual"] <= tolerance
                or past.get("waiting")
            ):
                continue
            level = resolve_level(
                levels.values(),
                item["date_maturity"],
                self.date,
                received=past.get("received") or (),
                last_sent_date=past.get("last_sent_date"),
                last_sent_level=past.get("last_sent_level"),
                next_only=item["move_id"] in step_by_step,
            )
            if level:
                reached[item["id"]] = level
        return reached

    def _prepare_letter_vals(self, partner_id, items, reached):
        """Values of one letter; ``reached`` maps item ids to their new level."""
        level = highest_level(list(reached.values()))
        line_vals = []
        amount_due = amount_overdue = 0.0
        for item in sorted(items, key=lambda item: (item["date_maturity"], item["id"])):
            days_late = (self.date - item["date_maturity"]).days
            amount_due += item["amount_residual"]
            if days_late > 0:
                amount_overdue += item["amount_residual"]
            new_level = reached.get(item["id"])
            line_vals.append(
                {
                    "move_line_id": item["id"],
                    "move_id": item["move_id"],
                    "kind": self._item_kind(item),
                    "document_date": item["document_date"],
                    "date_maturity": item["date_maturity"],
                    "days_late": days_late,
                    "currency_id": item["currency_id"],
                    "amount_currency": item["amount_currency"],
                    "amount_residual_currency": item["amount_residual_currency"],
                    "amount_residual": item["amount_residual"],
                    "level_id": new_level.key if new_level else False,
                }
            )
        return {
            "partner_id": partner_id,
            "user_id": items[0]["user_id"],
            "email": items[0].get("email"),
            "level_id": level.key,
            "amount_due": amount_due,
            "amount_overdue": amount_overdue,
            "line_vals": line_vals,
        }

    @api.model
    def _item_kind(self, item):
        if item["move_type"] == "out_invoice":
            return "invoice"
        if item["move_type"] == "out_refund":
            return "refund"
        return "payment" if item["amount_residual"] < 0 else "invoice"

    def _create_letters(self, letters_vals):
        """Create the letters and their items: two inserts, whatever their number.

        Nothing is sent yet, so the items keep their dunning level: only a sent
        letter sets it.
        """
        if not letters_vals:
            return self.env["credit.dunning.letter"]
        vals_list = self._prepare_letter_records(letters_vals)
        letters, line_vals_list = self._insert_letters(vals_list, letters_vals)
        if len(line_vals_list) > ANALYZE_AFTER_LINES:
            # A large run changes the letter tables at once: refreshed statistics
            # keep the planner on their indexes while the letters are sent (the
            # sending reads them item by item; with the statistics of the empty
            # tables of a first run, a batch of 100 took 30 s instead of 3).
            self.env.cr.execute(
                SQL("ANALYZE credit_dunning_letter, credit_dunning_letter_line")
            )
        self.invalidate_recordset(["letter_ids"])
        if self.company_id.dunning_show_penalties:
            self._compute_letter_penalties(line_vals_list)
        return letters

    def _prepare_letter_records(self, letters_vals):
        """Column values of the letters: addressee, channels and the flag of a
        customer without email on an email level, set now so that the review shows
        which letters will go by post."""
        partners = self.env["res.partner"].browse(
            [vals["partner_id"] for vals in letters_vals]
        )
        contacts = partners._get_dunning_contacts()
        levels = self.env["credit.dunning.level"].browse(
            {vals["level_id"] for vals in letters_vals}
        )
        levels.fetch(["policy_id", "send_email", "send_letter", "create_activity"])
        vals_list = []
        for index, vals in enumerate(letters_vals, start=1):
            level = levels.browse(vals["level_id"])
            contact = contacts[vals["partner_id"]]
            # The invoice contacts found have an email; the customer's own one was
            # read with the items (no query per letter).
            has_email = contact.id != vals["partner_id"] or bool(vals.get("email"))
            fallback = level.send_email and not has_email
            vals_list.append(
                {
                    "name": f"{self.name}/{index:04d}",
                    "run_id": self.id,
                    "company_id": self.company_id.id,
                    "date": self.date,
                    "partner_id": vals["partner_id"],
                    "contact_id": contact.id,
                    "user_id": vals.get("user_id") or self.env.uid,
                    "level_id": level.id,
                    "policy_id": level.policy_id.id,
                    "amount_due": vals["amount_due"],
                    "amount_overdue": vals["amount_overdue"],
                    "send_email": level.send_email,
                    "send_letter": level.send_letter or fallback,
                    "create_activity": level.create_activity,
                    "email_fallback": fallback,
                    "state": "to_send",
                }
            )
        return vals_list

    def _insert_letters(self, vals_list, letters_vals):
        """Insert the letters, then their items; a concurrent run writing letters
        of the same customers and day makes this one write nothing.

        :return: the letters and the values of their items
        """
        try:
            with self.env.cr.savepoint():
                letters = self.env["credit.dunning.letter"]._bulk_create(vals_list)
                line_vals_list = [
                    {
                        **line_vals,
                        "letter_id": letter.id,
                        "letter_state": "to_send",
                        "company_id": self.company_id.id,
                    }
                    for letter, vals in zip(letters, letters_vals, strict=True)
                    for line_vals in vals["line_vals"]
                ]
                self.env["credit.dunning.letter.line"]._bulk_create(line_vals_list)
        except pg_errors.UniqueViolation:
            raise UserError(
                _(
                    "Another dunning run of %(company)s wrote letters for the same "
                    "customers at the same time. Nothing was written by this run; "
                    "open the letters of the other run.",
                    company=self.company_id.name,
                )
            ) from None
        return letters, line_vals_list

    def _compute_letter_penalties(self, line_vals_list=None):
        """Show on the run's letters the penalties accrued on the run date, when
        the company asks for them and always on formal notices (they state the
        amount demanded). A batch: a missing rate never stops the run. Sending
        computes them again as of the sending day and freezes them."""
        self.ensure_one()
        letters = self.letter_ids.filtered(
            lambda letter: letter.state in ("draft", "to_send")
            and (self.company_id.dunning_show_penalties or letter.is_formal_notice)
        )
        if letters:
            letters.line_ids._freeze_penalties(self.date)

    # ------------------------------------------------------------------ cron

    @api.model
    def _cron_daily(self):
        """Release expired holds, then run the dunning of companies that automate it.

        One company's failure never stops the others: its run is rolled back, the
        managers are told once, and the next company goes on."""
        self.env["account.move"]._release_expired_dunning_holds()
        companies = self.env["res.company"].search([("dunning_auto", "=", True)])
        today = fields.Date.context_today(self)
        self.env["credit.company.job"]._run_company_job(
            "daily_dunning",
            companies,
            lambda company: self.with_company(company)._run_company_dunning(
                company, today
            ),
            self.env._("Daily dunning not done"),
        )

    @api.model
    def _run_company_dunning(self, company, day):
        run = self.create({"company_id": company.id, "date": day})
        run.action_compute()
        auto = run.letter_ids.filtered(
            lambda letter: letter.state == "to_send" and letter.policy_id.auto_send
        )
        if len(auto) > auto._background_threshold():
            # Many letters: sent in the background, in batches.
            auto._queue_sending()
        elif auto:
            auto._send_letters()
            run._update_state()
        if not run.letter_ids:
            run.unlink()
        return run
