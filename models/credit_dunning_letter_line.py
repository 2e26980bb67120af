from collections import defaultdict

from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL
from odoo.tools.misc import formatLang

from .credit_access import is_internal


class CreditDunningLetterLine(models.Model):
    """One open receivable item as a letter showed it (a snapshot)."""

    _name = "credit.dunning.letter.line"
    _inherit = ["credit.bulk.mixin"]
    _description = "Dunning Letter Item"
    _order = "letter_id, date_maturity, id"

    letter_id = fields.Many2one(
        "credit.dunning.letter", required=True, index=True, ondelete="cascade"
    )
    letter_state = fields.Selection(related="letter_id.state", store=True)
    company_id = fields.Many2one(related="letter_id.company_id", store=True)
    move_line_id = fields.Many2one(
        "account.move.line",
        string="Journal Item",
        index=True,
        ondelete="set null",
        help="Empty when Odoo recreated the document's receivable lines: the item "
        "stays in the history with its snapshot.",
    )
    move_id = fields.Many2one(
        "account.move",
        string="Document",
        compute="_compute_move_id",
        store=True,
        index="btree_not_null",
        ondelete="set null",
    )
    kind = fields.Selection(
        [("invoice", "Invoice"), ("refund", "Credit Note"), ("payment", "Payment")],
        required=True,
    )
    document_date = fields.Date()
    date_maturity = fields.Date(string="Due Date")
    days_late = fields.Integer()
    currency_id = fields.Many2one("res.currency", required=True)
    company_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company Currency"
    )
    amount_currency = fields.Monetary(string="Amount", currency_field="currency_id")
    amount_residual_currency = fields.Monetary(
        string="Balance", currency_field="currency_id"
    )
    amount_residual = fields.Monetary(
        string="Balance (Company Currency)", currency_field="company_currency_id"
    )
    level_id = fields.Many2one(
        "credit.dunning.level",
        string="Level Reached",
        index="btree_not_null",
        help="Set when this letter is the one that took the item to this level; "
        "empty for items only listed to justify the balance.",
    )

    # Penalties as the letter showed them: computed as of the day it is sent and
    # frozen with it, so that a reprint never changes them.
    penalty_interest = fields.Monetary(
        string="Interest",
        currency_field="currency_id",
        readonly=True,
        help="Late-payment interest of the installment not yet invoiced, accrued up "
        "to the day the letter was sent.",
    )
    penalty_indemnity = fields.Monetary(
        string="Indemnity",
        currency_field="currency_id",
        readonly=True,
        help="The invoice's 40 EUR recovery indemnity, counted on its first listed "
        "installment.",
    )
    penalty_amount = fields.Monetary(
        string="Penalties",
        currency_field="currency_id",
        readonly=True,
        help="Interest and indemnity of the item as the letter showed them.",
    )
    penalty_start_date = fields.Date(
        string="Interest From", readonly=True, help="First late day claimed."
    )
    penalty_rates = fields.Char(
        string="Annual Rates", readonly=True, help="The annual rates applied."
    )
    penalty_unmatched_credit = fields.Boolean(
        string="Unmatched Credit",
        readonly=True,
        help="The customer had unmatched payments or credit notes while these "
        "penalties ran.",
    )

    @api.depends("move_line_id")
    def _compute_move_id(self):
        # A snapshot: kept when the journal item is gone.
        for line in self:
            if line.move_line_id:
                line.move_id = line.move_line_id.move_id

    def _freeze_penalties(self, as_of):
        """Compute the penalties of the listed late invoices as of ``as_of`` (a
        batch: never stopped by a missing rate) and store them on the items."""
        items = self.filtered(
            lambda line: line.kind == "invoice"
            and line.move_id
            and line.date_maturity
            and line.date_maturity < as_of
        )
        item_ids = set(items.ids)
        invoices = items.move_id
        _lines, report = invoices._compute_late_penalties_batch(as_of, lock="shared")
        self.env["account.move"]._notify_penalty_batch_report(report)
        figures = self._read_penalty_figures(invoices, as_of)
        # The computation dropped the cache: read back what the loop needs at once.
        lines = self.browse(self.ids)
        lines.fetch(["letter_id", "kind", "move_id", "date_maturity", "currency_id"])
        lines.letter_id.fetch(["partner_id"])
        lines.letter_id.partner_id.fetch(["lang"])
        rows = []
        indemnified = set()
        for line in lines.sorted(lambda line: (line.letter_id.id, line.id)):
            interest = figures["interest"].get((line.move_id.id, line.date_maturity))
            indemnity = 0.0
            key = (line.letter_id.id, line.move_id.id)
            if line.id in item_ids and key not in indemnified:
                indemnified.add(key)
                indemnity = figures["indemnity"].get(line.move_id.id, 0.0)
            rows.append(self._penalty_row(line, interest, indemnity))
        self._write_penalty_rows(rows)

    @api.model
    def _read_penalty_figures(self, invoices, as_of):
        """Draft penalty lines of the invoices up to ``as_of``, indexed by
        installment (invoice, due date) and by invoice, in one read. Invoiced
        penalties are not counted: their penalty invoice is an item of its own."""
        penalties = self.env["credit.penalty.line"].search_fetch(
            [
                ("move_id", "in", invoices.ids),
                ("state", "=", "draft"),
                ("kind", "in", ("interest", "indemnity")),
            ],
            [
                "move_id",
                "date_maturity",
                "kind",
                "date_from",
                "date_to",
                "rate",
                "amount",
                "unmatched_credit_amount",
            ],
        )
        interest = defaultdict(list)
        indemnity = defaultdict(float)
        for penalty in penalties:
            if penalty.kind == "indemnity":
                indemnity[penalty.move_id.id] += penalty.amount
            elif penalty.date_to <= as_of:
                interest[(penalty.move_id.id, penalty.date_maturity)].append(penalty)
        return {"interest": interest, "indemnity": indemnity}

    def _penalty_row(self, line, interest, indemnity):
        interest = interest or []
        amount = sum(penalty.amount for penalty in interest)
        rates = []
        for penalty in sorted(interest, key=lambda penalty: penalty.date_from):
            if penalty.rate not in rates:
                rates.append(penalty.rate)
        rate_text = None
        if rates:
            lang_env = self.with_context(lang=line.letter_id.partner_id.lang).env
            rate_text = " / ".join(
                f"{formatLang(lang_env, rate, digits=2)} %" for rate in rates
            )
        return (
            line.id,
            amount,
            indemnity,
            line.currency_id.round(amount + indemnity),
            min((penalty.date_from for penalty in interest), default=None),
            rate_text,
            any(penalty.unmatched_credit_amount for penalty in interest),
        )

    def _write_penalty_rows(self, rows):
        """One UPDATE for every item, whatever their number."""
        if not rows:
            return
        columns = list(zip(*rows, strict=True))
        self.flush_model()
        self.env.execute_query(
            SQL(
                """UPDATE credit_dunning_letter_line line
                      SET penalty_interest = frozen.interest,
                          penalty_indemnity = frozen.indemnity,
                          penalty_amount = frozen.amount,
                          penalty_start_date = frozen.start_date,
                          penalty_rates = frozen.rates,
                          penalty_unmatched_credit = frozen.unmatched
                     FROM unnest(%s::int[], %s::numeric[], %s::numeric[],
                                 %s::numeric[], %s::date[], %s::varchar[],
                                 %s::bool[])
                          AS frozen(id, interest, indemnity, amount, start_date,
                                    rates, unmatched)
                    WHERE line.id = frozen.id""",
                *[list(column) for column in columns],
            )
        )
        self.invalidate_model(
            [
                "penalty_interest",
                "penalty_indemnity",
                "penalty_amount",
                "penalty_start_date",
                "penalty_rates",
                "penalty_unmatched_credit",
            ]
        )

    # ------------------------------------------------------------------ access
    # An item is a snapshot of what its letter showed: written once by the run (a
    # bulk insert), then never changed by users; the items of a sent letter are
    # never deleted. Internal paths go through ``credit_access.internal``.

    def write(self, vals):
        if not is_internal(self.env):
            raise AccessError(
                _(
                    "The items of the dunning letter %(letter)s are a snapshot of "
                    "what it showed: they cannot be changed. Cancel the letter and "
                    "run the dunning again instead.",
                    letter=self[:1].letter_id.display_name,
                )
            )
        return super().write(vals)

    def unlink(self):
        if not is_internal(self.env):
            sent = self.letter_id._was_sent()
            if sent:
                raise AccessError(
                    _(
                        "The dunning letter %(letter)s was sent: its items stay in "
                        "the customer's history.",
                        letter=sent[0].display_name,
                    )
                )
        return super().unlink()

    def init(self):
        # An item reaches a given level once. A partial unique index rather than an
        # SQL constraint, because only rows of letters that were not cancelled count.
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS credit_dunning_letter_line_level_once
                ON credit_dunning_letter_line (move_line_id, level_id)
             WHERE level_id IS NOT NULL AND letter_state != 'cancelled'
            """
        )
