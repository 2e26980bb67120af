from odoo import fields, models
from odoo.tools import SQL


class AccountMove(models.Model):
    """Filters of the receivables oversight on invoices: items in a court case."""

    _inherit = "account.move"

    credit_in_court_case = fields.Boolean(
        string="In a Court Case",
        compute="_compute_credit_in_court_case",
        search="_search_credit_in_court_case",
        help="The invoice is claimed by a court request that is not cancelled.",
    )

    def _court_case_moves_sql(self):
        """The ids of the moves claimed by a court request that is not cancelled,
        in the user's companies (a sub-select)."""
        # A flag per invoice: the invoicing users who filter on it need not read
        # the court requests themselves.
        requests = (
            self.env["credit.court.request"]
            .sudo()
            ._search(
                [
                    ("company_id", "in", self.env.companies.ids),
                    ("state", "!=", "cancelled"),
                ]
            )
        )
        return SQL(
            "SELECT rel.move_id FROM credit_court_request_move_rel rel"
            " WHERE rel.request_id IN %s",
            requests.subselect(),
        )

    def _compute_credit_in_court_case(self):
        in_court = set()
        move_ids = tuple(self._origin.ids)
        if move_ids:
            in_court = {
                row[0]
                for row in self.env.execute_query(
                    SQL(
                        "%s AND rel.move_id IN %s",
                        self._court_case_moves_sql(),
                        move_ids,
                    )
                )
            }
        for move in self:
            move.credit_in_court_case = move._origin.id in in_court

    def _search_credit_in_court_case(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            return NotImplemented
        positive = (operator == "=") == value
        moves = SQL("(%s)", self._court_case_moves_sql())
        return [("id", "in" if positive else "not in", moves)]
