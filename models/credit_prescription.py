"""Prescription watch: when each open customer invoice's claim is prescribed,
what interrupted it, and an activity 90 days before the date."""

from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..engine.court import prescription_start
from ..engine.deadlines import prescription_deadline
from .credit_access import check_collection_user

# The models whose records interrupt prescription, for the reference field: only
# those present in the registry are offered.
INTERRUPTION_SOURCE_MODELS = (
    "credit.court.request",
    "credit.collective.proceeding",
    "credit.payment.plan",
)

# The activity comes this many days before the prescription date.
PRESCRIPTION_ALERT_DAYS = 90

# The move types whose claim the watch follows, while open.
PRESCRIPTION_MOVE_TYPES = ("out_invoice", "out_receipt")
PRESCRIPTION_OPEN_PAYMENT_STATES = ("not_paid", "partial", "blocked")

INTERRUPTION_KINDS = [
    ("acknowledgment", "Acknowledgment of Debt"),
    ("partial_payment", "Partial Payment"),
    ("court_claim", "Court Claim"),
    ("declaration", "Declaration of Claims"),
    ("enforcement", "Enforcement Measure"),
    ("other", "Other"),
]


class CreditPrescriptionInterruption(models.Model):
    """An act that interrupted the prescription of an invoice's claim: a new
    period of the same length runs from its date (C. civ. 2231).

    Part of the audit trail: collection users read them and record them through
    ``account.move._record_prescription_interruption``; only managers edit or
    delete them."""

    _name = "credit.prescription.interruption"
    _description = "Interruption of Prescription"
    _order = "date desc, id desc"
    _check_company_auto = True

    move_id = fields.Many2one(
        "account.move",
        string="Invoice",
        required=True,
        ondelete="cascade",
        index=True,
    )
    company_id = fields.Many2one(
        related="move_id.company_id", store=True, index=True, precompute=True
    )
    partner_id = fields.Many2one(
        related="move_id.commercial_partner_id",
        string="Customer",
        store=True,
        index=True,
        precompute=True,
    )
    date = fields.Date(required=True, default=fields.Date.context_today)
    kind = fields.Selection(
        INTERRUPTION_KINDS,
        required=True,
        default="acknowledgment",
        help="Acknowledgment of debt or partial payment (C. civ. 2240), court claim "
        "(C. civ. 2241), declaration of claims in a collective proceeding, "
        "enforcement measure (C. civ. 2244).",
    )
    reference = fields.Reference(
        selection="_selection_reference",
        string="Source",
        help="The court request, collective proceeding or payment plan that "
        "interrupted prescription.",
    )
    note = fields.Text()
    user_id = fields.Many2one(
        "res.users",
        string="Recorded By",
        default=lambda self: self.env.user,
    )

    @api.model
    def _selection_reference(self):
        return [
            (model, self.env[model]._description)
            for model in INTERRUPTION_SOURCE_MODELS
            if model in self.env
        ]

    def _compute_display_name(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for interruption in self:
            interruption.display_name = " - ".join(
                (
                    kinds.get(interruption.kind, ""),
                    fields.Date.to_string(interruption.date) or "",
                )
            )


class AccountMove(models.Model):
    _name = "account.move"
    # The mixin first: account.move already lists mail.activity.mixin among its
    # bases, which the mixin inherits; the other order has no consistent MRO.
    _inherit = ["credit.legal.deadline.mixin", "account.move"]  # pylint: disable=consider-merging-classes-inherited

    credit_prescription_date = fields.Date(
        string="Prescription Date",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Last day to bring the claim of this open invoice to court: 5 years "
        "between professionals, 2 years against a consumer, from the delivery date "
        "(else the invoice date) or from the last interruption. Updated every day.",
    )
    credit_prescription_last_interruption = fields.Date(
        string="Last Interruption",
        readonly=True,
        copy=False,
        help="The latest acknowledgment, partial payment, court claim or declaration "
        "of claims, from which the current period runs.",
    )
    credit_prescription_alert_date = fields.Date(
        string="Prescription Alert For",
        readonly=True,
        copy=False,
        help="The prescription date an activity was last scheduled for: a new "
        "activity comes only when that date changes.",
    )
    credit_prescription_interruption_ids = fields.One2many(
        "credit.prescription.interruption",
        "move_id",
        string="Interruptions of Prescription",
        groups="l10n_fr_credit_collection.group_credit_collection_user",
    )
    credit_prescription_start_date = fields.Date(
        string="Prescription Start",
        compute="_compute_credit_prescription_start_date",
        help="The delivery or service date when recorded, else the invoice date.",
    )
    credit_prescription_days_left = fields.Integer(
        string="Days Left",
        compute="_compute_credit_prescription_days_left",
        help="Days until the prescription date; negative once prescribed.",
    )
    credit_debtor_type = fields.Selection(
        related="commercial_partner_id.debtor_type", string="Debtor Type"
    )

    @api.depends("delivery_date", "invoice_date")
    def _compute_credit_prescription_start_date(self):
        starts = self._get_prescription_start_date()
        for move in self:
            move.credit_prescription_start_date = starts.get(move.id) or False

    @api.depends("credit_prescription_date")
    @api.depends_context("date")
    def _compute_credit_prescription_days_left(self):
        today = fields.Date.context_today(self)
        for move in self:
            prescription = move.credit_prescription_date
            move.credit_prescription_days_left = (
                (prescription - today).days if prescription else 0
            )

    # ------------------------------------------------------------ computation

    def _prescription_interruption_dates(self):
        """``{move id: set of dates}``: the recorded interruptions and the partial
        payments of the invoices of ``self``, read in two queries.

        A partial payment is the debtor's acknowledgment (C. civ. 2240): the
        payments and bank statement lines matched with the invoice's receivable
        lines, and the payments linked to it without a journal entry. A credit
        note is the creditor's own act and interrupts nothing."""
        dates = defaultdict(set)
        if not self.ids:
            return dates
        self.env.flush_all()
        Interruption = self.env["credit.prescription.interruption"].sudo()
        for move, days in Interruption._read_group(
            [("move_id", "in", self.ids)], ["move_id"], ["date:array_agg"]
        ):
            dates[move.id].update(days)
        rows = self.env.execute_query(
            SQL(
                """
                SELECT inv_line.move_id, counterpart.date
                  FROM account_partial_reconcile partial
                  JOIN account_move_line inv_line
                    ON inv_line.id = partial.debit_move_id
                  JOIN account_move_line counterpart
                    ON counterpart.id = partial.credit_move_id
                  JOIN account_move counterpart_move
                    ON counterpart_move.id = counterpart.move_id
                 WHERE inv_line.move_id IN %(ids)s
                   AND inv_line.display_type = 'payment_term'
                   AND (counterpart_move.origin_payment_id IS NOT NULL
                        OR counterpart_move.statement_line_id IS NOT NULL)
                 UNION
                SELECT link.invoice_id, payment.date
                  FROM account_move__account_payment link
                  JOIN account_payment payment ON payment.id = link.payment_id
                 WHERE link.invoice_id IN %(ids)s
                   AND payment.state IN ('in_process', 'paid')
                """,
                ids=tuple(self.ids),
            )
        )
        for move_id, day in rows:
            if day:
                dates[move_id].add(day)
        return dates

    def _read_prescription_facts(self):
        """``{move id: facts}`` for the moves of ``self``, in one query: the
        ``move_type``, the ``delivery_date`` and ``invoice_date`` the claim starts
        from, whether it is ``open``, its stored ``alert`` date and the customer's
        ``debtor_type``. The watch reads no field record by record, so its number
        of queries does not grow with the number of invoices."""
        if not self.ids:
            return {}
        self.flush_model(
            [
                "move_type",
                "delivery_date",
                "invoice_date",
                "state",
                "payment_state",
                "credit_prescription_alert_date",
                "commercial_partner_id",
            ]
        )
        self.env["res.partner"].flush_model(["debtor_type"])
        rows = self.env.execute_query_dict(
            SQL(
                """
                SELECT move.id, move.move_type, move.delivery_date,
                       move.invoice_date,
                       move.move_type IN %(types)s AND move.state = 'posted'
                           AND move.payment_state IN %(open)s AS open,
                       move.credit_prescription_alert_date AS alert,
                       partner.debtor_type
                  FROM account_move move
                  LEFT JOIN res_partner partner
                    ON partner.id = move.commercial_partner_id
                 WHERE move.id = ANY(%(ids)s)
                """,
                types=PRESCRIPTION_MOVE_TYPES,
                open=PRESCRIPTION_OPEN_PAYMENT_STATES,
                ids=self.ids,
            )
        )
        return {row.pop("id"): row for row in rows}

    def _get_prescription_deadlines(self, consumer=None, facts=None):
        """``{move id: (engine Deadline, last interruption or None)}`` for the
        customer invoices of ``self`` that have a start date, set-based;
        ``consumer`` overrides the customers' debtor type when given; ``facts``
        (of :meth:`_read_prescription_facts`) when the caller read them."""
        if facts is None:
            facts = self._read_prescription_facts()
        facts = {
            move_id: fact
            for move_id, fact in facts.items()
            if fact["move_type"] in PRESCRIPTION_MOVE_TYPES
        }
        interruptions = self.browse(list(facts))._prescription_interruption_dates()
        result = {}
        for move_id, fact in facts.items():
            start = prescription_start(fact["delivery_date"], fact["invoice_date"])
            if not start:
                continue
            is_consumer = (
                fact["debtor_type"] == "consumer" if consumer is None else consumer
            )
            days = interruptions.get(move_id, ())
            deadline = prescription_deadline(start, is_consumer, days)
            counted = [day for day in days if start <= day <= deadline.date]
            result[move_id] = (deadline, max(counted) if counted else None)
        return result

    def _get_prescription_dates(self, consumer=None):
        """``{move id: date}``: the day the claim of each customer invoice of
        ``self`` is prescribed, from its start date and interruptions (the same
        computation as the watch's, without waiting for the daily update; the
        court request's check uses it too)."""
        deadlines = self._get_prescription_deadlines(consumer)
        return {
            move_id: deadline.date for move_id, (deadline, _last) in deadlines.items()
        }

    @api.model
    def _prescription_open_domain(self):
        return [
            ("move_type", "in", PRESCRIPTION_MOVE_TYPES),
            ("state", "=", "posted"),
            ("payment_state", "in", PRESCRIPTION_OPEN_PAYMENT_STATES),
        ]

    def _store_prescription_values(self, values):
        """Write ``{move id: (date, last interruption, alert date)}`` in one
        query whatever their number (the stored fields are derived data)."""
        fnames = [
            "credit_prescription_date",
            "credit_prescription_last_interruption",
            "credit_prescription_alert_date",
        ]
        if values:
            ids, columns = list(values), list(zip(*values.values(), strict=True))
            self.env.execute_query(
                SQL(
                    """
                    UPDATE account_move move
                       SET credit_prescription_date = vals.prescription,
                           credit_prescription_last_interruption = vals.last,
                           credit_prescription_alert_date = vals.alert
                      FROM unnest(%s::int[], %s::date[], %s::date[], %s::date[])
                           AS vals(id, prescription, last, alert)
                     WHERE move.id = vals.id
                       AND (move.credit_prescription_date
                                IS DISTINCT FROM vals.prescription
                            OR move.credit_prescription_last_interruption
                                IS DISTINCT FROM vals.last
                            OR move.credit_prescription_alert_date
                                IS DISTINCT FROM vals.alert)
                    """,
                    ids,
                    *(list(column) for column in columns),
                )
            )
        self.env["account.move"].invalidate_model(fnames)

    def _refresh_prescription_watch(self, today=None):
        """Update the prescription date of the invoices of ``self`` (cleared once
        an invoice is paid or cancelled) and their activities: one activity per
        invoice when the date comes within 90 days, due 90 days before it (today
        if later), removed when an interruption pushes the date further."""
        today = today or fields.Date.context_today(self)
        self.flush_model()
        moves = self.sudo()
        facts = moves._read_prescription_facts()
        deadlines = moves._get_prescription_deadlines(
            facts={move_id: fact for move_id, fact in facts.items() if fact["open"]}
        )
        horizon = today + timedelta(days=PRESCRIPTION_ALERT_DAYS)
        values = {}
        to_alert = defaultdict(list)
        to_cancel = []
        for move_id, fact in facts.items():
            deadline, last = deadlines.get(move_id, (None, None))
            previous = alert = fact["alert"]
            if deadline is None:
                alert = None
            elif alert != deadline.date:
                alert = None
                if today <= deadline.date <= horizon:
                    alert = deadline.date
                    to_alert[deadline].append(move_id)
            if previous and not alert:
                # Paid, cancelled or interrupted: its activity no longer applies.
                to_cancel.append(move_id)
            values[move_id] = (deadline and deadline.date, last, alert)
        moves._store_prescription_values(values)
        if to_cancel:
            moves.browse(to_cancel)._cancel_legal_deadline("prescription")
        for deadline, invoice_ids in to_alert.items():
            due = max(deadline.date - timedelta(days=PRESCRIPTION_ALERT_DAYS), today)
            by_user = defaultdict(lambda: self.env["account.move"])
            for invoice in moves.browse(invoice_ids):
                by_user[invoice._legal_deadline_user()] |= invoice
            for user, group in by_user.items():
                group._schedule_legal_deadline(deadline, user=user, date_deadline=due)
        return True

    def _legal_deadline_user(self):
        """The invoice's salesperson when an active internal user, else the user
        running the job."""
        self.ensure_one()
        user = self.invoice_user_id
        if user and user.active and not user.share:
            return user
        return self.env.user

    @api.model
    def _cron_prescription_watch(self):
        """Daily, company by company (``credit.company.job``): every open customer
        invoice's prescription date and its activity. One company's failure never
        stops the others."""
        today = fields.Date.context_today(self)
        self.env["credit.company.job"]._run_company_job(
            "prescription_watch",
            self.env["res.company"].search([]),
            lambda company: self._refresh_company_prescription(company, today),
            self.env._("Prescription watch not updated"),
        )
        return True

    @api.model
    def _refresh_company_prescription(self, company, today):
        """The open invoices of ``company`` and those that no longer are (the job
        may run as a user outside the company: derived data, read as superuser)."""
        Move = self.sudo()
        domain = [("company_id", "=", company.id)]
        moves = Move.search(domain + self._prescription_open_domain())
        moves |= Move.search(domain + [("credit_prescription_date", "!=", False)])
        return moves._refresh_prescription_watch(today)

    # ------------------------------------------------------------ interruptions

    def _record_prescription_interruption(
        self, on_date, kind, reference=None, note=None
    ):
        """Record one interruption of prescription (``kind`` a key of
        ``credit.prescription.interruption.kind``) dated ``on_date`` on each
        customer invoice of ``self``; ``reference`` is the record that interrupted
        it (a court request, a collective proceeding, a payment plan), if any.
        Updates the invoices' prescription dates; returns the interruptions."""
        check_collection_user(self.env, self.env._("Recording an interruption"))
        invoices = self.filtered(
            lambda move: move.is_sale_document(include_receipts=True)
        )
        ref = f"{reference._name},{reference.id}" if reference else False
        interruptions = (
            self.env["credit.prescription.interruption"]
            .sudo()
            .create(
                [
                    {
                        "move_id": move.id,
                        "date": on_date,
                        "kind": kind,
                        "reference": ref,
                        "note": note or False,
                        "user_id": self.env.user.id,
                    }
                    for move in invoices
                ]
            )
        )
        invoices._refresh_prescription_watch()
        return interruptions.sudo(False)

    def action_open_prescription_interruption_wizard(self):
        """Open the wizard recording an interruption on these invoices."""
        check_collection_user(self.env, self.env._("Recording an interruption"))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Record an Interruption"),
            "res_model": "credit.prescription.interruption.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_move_ids": self.ids},
        }


class CreditPrescriptionInterruptionWizard(models.TransientModel):
    _name = "credit.prescription.interruption.wizard"
    _description = "Record an Interruption of Prescription"

    move_ids = fields.Many2many(
        "account.move", string="Invoices", required=True, readonly=True
    )
    date = fields.Date(required=True, default=fields.Date.context_today)
    kind = fields.Selection(INTERRUPTION_KINDS, required=True, default="acknowledgment")
    note = fields.Text()

    def _check_interruption(self):
        self.ensure_one()
        today = fields.Date.context_today(self)
        if self.date > today:
            raise ValidationError(
                self.env._(
                    "The interruption's date %(date)s is in the future: enter the day "
                    "the acknowledgment, payment or claim took place.",
                    date=fields.Date.to_string(self.date),
                )
            )
        not_invoices = self.move_ids.filtered(
            lambda move: move.move_type not in PRESCRIPTION_MOVE_TYPES
            or move.state != "posted"
        )
        if not_invoices:
            raise ValidationError(
                self.env._(
                    "%(move)s is not a posted customer invoice: prescription is "
                    "followed on posted customer invoices only.",
                    move=not_invoices[:1].display_name,
                )
            )
        starts = self.move_ids._get_prescription_start_date()
        for move in self.move_ids:
            start = starts.get(move.id)
            if start and self.date < start:
                raise ValidationError(
                    self.env._(
                        "The interruption's date %(date)s is before %(move)s's "
                        "prescription start (%(start)s): an act before the claim "
                        "was born interrupts nothing. Check the date.",
                        date=fields.Date.to_string(self.date),
                        move=move.display_name,
                        start=fields.Date.to_string(start),
                    )
                )

    def action_record(self):
        self._check_interruption()
        self.move_ids._record_prescription_interruption(
            self.date, self.kind, note=self.note
        )
        return {"type": "ir.actions.act_window_close"}
