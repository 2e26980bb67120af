from collections import defaultdict

from odoo import api, fields, models


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
        required=True,
        index=True,
        ondelete="cascade",
    )
    move_id = fields.Many2one(related="move_line_id.move_id", string="Document")
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

    penalty_amount = fields.Monetary(
        string="Penalties",
        currency_field="currency_id",
        compute="_compute_penalty_amount",
        help="Late-payment penalties of the installment accrued up to the letter's "
        "date, and the invoice's recovery indemnity on its first installment.",
    )

    @api.depends("letter_id.date", "move_line_id")
    def _compute_penalty_amount(self):
        penalties = self.env["credit.penalty.line"].search_fetch(
            [
                ("move_id", "in", self.move_line_id.move_id.ids),
                ("state", "!=", "waived"),
            ],
            ["move_id", "move_line_id", "kind", "date_to", "amount", "currency_id"],
        )
        # Indexed once, so that each letter item is a dictionary look-up.
        interest = defaultdict(list)  # (item, currency) -> [(date_to, amount)]
        indemnity = defaultdict(float)  # (invoice, currency) -> amount
        for penalty in penalties:
            if penalty.kind == "interest":
                interest[(penalty.move_line_id.id, penalty.currency_id.id)].append(
                    (penalty.date_to, penalty.amount)
                )
            else:
                indemnity[(penalty.move_id.id, penalty.currency_id.id)] += (
                    penalty.amount
                )
        indemnity_done = set()
        for line in self.sorted(lambda line: (line.letter_id.id, line.id)):
            currency = line.currency_id.id
            amount = sum(
                value
                for date_to, value in interest[(line.move_line_id.id, currency)]
                if date_to <= line.letter_id.date
            )
            move = line.move_line_id.move_id.id
            if (line.letter_id.id, move) not in indemnity_done:
                indemnity_done.add((line.letter_id.id, move))
                amount += indemnity[(move, currency)]
            line.penalty_amount = amount

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
