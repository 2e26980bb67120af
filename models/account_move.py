from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..engine.court import prescription_start
from .credit_access import (
    check_collection_user,
    internal,
)


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "credit.protected.fields.mixin"]

    dunning_policy_id = fields.Many2one(
        "credit.dunning.policy",
        string="Dunning Policy",
        check_company=True,
        copy=False,
        tracking=True,
        help="Overrides the customer's and the company's policy for this invoice.",
    )
    dunning_level_id = fields.Many2one(
        "credit.dunning.level",
        string="Dunning Level",
        compute="_compute_dunning_level_id",
        search="_search_dunning_level_id",
        help="Highest level reached by the open installments of the invoice.",
    )
    dunning_letter_ids = fields.Many2many(
        "credit.dunning.letter",
        string="Dunning Letters",
        compute="_compute_dunning_letter_ids",
    )
    dunning_letter_count = fields.Integer(compute="_compute_dunning_letter_ids")
    dunning_hold = fields.Boolean(
        string="Dunning on Hold",
        copy=False,
        tracking=True,
        help="No reminder is sent for this invoice while the hold lasts.",
    )
    dunning_hold_type = fields.Selection(
        [("dispute", "Dispute"), ("promise", "Promise to Pay")],
        string="Hold Type",
        copy=False,
        tracking=True,
    )
    dunning_hold_reason = fields.Char(string="Hold Reason", copy=False, tracking=True)
    dunning_hold_until = fields.Date(
        string="Hold Until",
        copy=False,
        tracking=True,
        help="The hold ends by itself after this date.",
    )

    def _search_dunning_level_id(self, operator, value):
        return [
            (
                "line_ids",
                "any",
                [
                    ("display_type", "=", "payment_term"),
                    ("reconciled", "=", False),
                    ("dunning_level_id", operator, value),
                ],
            )
        ]

    @api.depends("line_ids.dunning_level_id", "line_ids.reconciled")
    def _compute_dunning_level_id(self):
        Level = self.env["credit.dunning.level"]
        for move in self:
            levels = move.line_ids.filtered(
                lambda line: line.display_type == "payment_term" and not line.reconciled
            ).dunning_level_id
            move.dunning_level_id = (
                max(levels, key=Level._severity_key) if levels else False
            )

    def _compute_dunning_letter_ids(self):
        # Through the items' snapshot of their document: the history stays when Odoo
        # recreates the receivable lines. One grouped read for all the invoices.
        groups = self.env["credit.dunning.letter.line"]._read_group(
            [("move_id", "in", self.ids)], ["move_id"], ["letter_id:array_agg"]
        )
        letter_ids = {move.id: set(ids) for move, ids in groups}
        for move in self:
            letters = self.env["credit.dunning.letter"].browse(
                sorted(letter_ids.get(move.id, ()), reverse=True)
            )
            move.dunning_letter_ids = letters
            move.dunning_letter_count = len(letters)

    def action_view_dunning_letters(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "l10n_fr_credit_collection.action_credit_dunning_letter"
        )
        action["domain"] = [("id", "in", self.dunning_letter_ids.ids)]
        return action

    # ------------------------------------------------------------------ access

    # Invoice fields only the Credit Collection groups may change.
    _credit_protected_fields = (
        "dunning_hold",
        "dunning_hold_type",
        "dunning_hold_reason",
        "dunning_hold_until",
        "dunning_policy_id",
        "formal_notice_received_date",
        "judgment_enforceable_date",
        "is_penalty_invoice",
    )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_penalty_history(self):
        """An invoice's penalty lines go with it (``ondelete="cascade"``): an
        invoice whose penalties were invoiced or waived is kept (cancel it)."""
        locked = (
            self.env["credit.penalty.line"]
            .sudo()
            .search(
                [("move_id", "in", self.ids), ("state", "in", ("invoiced", "waived"))],
                limit=1,
            )
        )
        if locked:
            raise UserError(
                _(
                    "The penalties of %(move)s were invoiced or waived: the invoice "
                    "cannot be deleted, cancel it instead.",
                    move=locked.move_id.display_name,
                )
            )

    # ------------------------------------------------------------------ holds

    def action_dunning_hold(self):
        check_collection_user(self.env, _("Putting invoices on dunning hold"))
        return {
            "type": "ir.actions.act_window",
            "name": _("Put Dunning on Hold"),
            "res_model": "credit.dunning.hold.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"active_model": "account.move", "active_ids": self.ids},
        }

    def _set_dunning_hold(self, hold_type, reason, until=False):
        """Put the invoices on hold; customer invoices only."""
        check_collection_user(self.env, _("Putting invoices on dunning hold"))
        not_invoices = self.filtered(
            lambda move: move.move_type not in ("out_invoice", "out_refund")
        )
        if not_invoices:
            raise UserError(
                _(
                    "%(move)s is not a customer invoice: only customer invoices can "
                    "be put on dunning hold.",
                    move=not_invoices[0].display_name,
                )
            )
        if hold_type == "promise" and not until:
            raise UserError(
                _(
                    "A promise to pay needs the date until which the customer promised "
                    "to pay."
                )
            )
        self.write(
            {
                "dunning_hold": True,
                "dunning_hold_type": hold_type,
                "dunning_hold_reason": reason,
                "dunning_hold_until": until,
            }
        )

    def action_dunning_release(self):
        check_collection_user(self.env, _("Releasing a dunning hold"))
        self._dunning_release()
        return True

    def _dunning_release(self):
        """End the holds (the expiry job runs it whatever its user's groups)."""
        internal(self).write(
            {
                "dunning_hold": False,
                "dunning_hold_type": False,
                "dunning_hold_reason": False,
                "dunning_hold_until": False,
            }
        )

    @api.model
    def _release_expired_dunning_holds(self):
        """Holds end by themselves the day after their end date."""
        today = fields.Date.context_today(self)
        expired = self.search(
            [("dunning_hold", "=", True), ("dunning_hold_until", "<", today)]
        )
        if expired:
            expired._message_log_batch(
                {
                    move.id: Markup("<p>%s</p>")
                    % self.env._(
                        "The dunning hold ended on %(date)s.",
                        date=move.dunning_hold_until,
                    )
                    for move in expired
                }
            )
            expired.with_context(tracking_disable=True)._dunning_release()
        return expired

    # ------------------------------------------------------------------ court

    def _get_court_exclusion_reason(self):
        """``{move id: reason}`` for the items a court request must refuse.

        Extension point. The documents collected by a factor are refused: the
        factor is the creditor (LAW.md §7) and alone may claim them in court."""
        _ = self.env._
        return {
            move.id: _(
                "it was assigned to %(factor)s under the notified contract "
                "%(contract)s: the factor is now the creditor and alone may claim "
                "it in court.",
                factor=move.factoring_contract_id.factor_id.display_name,
                contract=move.factoring_contract_id.name,
            )
            for move in self._get_factor_collected_moves().sudo()
        }

    # ------------------------------------------------------------------ factor

    @api.model
    def _get_factor_collected_domain(self):
        """Domain of the documents a factor collects instead of us: those assigned
        (at posting) to a notified contract, active or archived.

        Once notified of the subrogation, the debtor must pay the factor
        (C. civ. 1346-5), or the bank for a notified Dailly assignment
        (CMF L313-28): our dunning, penalties and court requests leave these
        documents out. The document's own contract counts, never the customer's
        current delegation; a confidential contract changes nothing."""
        contracts = (
            self.env["credit.factoring.contract"]
            .sudo()
            .with_context(active_test=False)
            ._search([("notified", "=", True)])
        )
        return [("factoring_contract_id", "in", contracts)]

    def _get_factor_collected_moves(self):
        """The documents of ``self`` a factor collects, in one query."""
        if not self.ids:
            return self.browse()
        collected = self.sudo().search(
            [("id", "in", self.ids), *self._get_factor_collected_domain()], order="id"
        )
        return self.browse(collected.ids)

    def _get_prescription_start_date(self):
        """``{move id: date}``: the day the claim was born, from which prescription
        runs: the delivery or service date when recorded, else the invoice date
        (never the due date)."""
        return {
            move.id: prescription_start(move.delivery_date, move.invoice_date)
            for move in self
        }

    def action_prepare_court_request(self):
        """Open the court request wizard on these invoices (of one customer)."""
        check_collection_user(self.env, _("Preparing a court request"))
        not_invoices = self.filtered(
            lambda move: move.move_type != "out_invoice" or move.state != "posted"
        )
        if not_invoices or not self:
            raise UserError(
                _(
                    "A court request claims posted customer invoices: %(move)s is "
                    "not one. Select posted customer invoices of one customer.",
                    move=not_invoices[:1].display_name or _("nothing"),
                )
            )
        partners = self.commercial_partner_id
        if len(partners) > 1:
            raise UserError(
                _(
                    "A court request is against one debtor, and the selected "
                    "invoices belong to %(customers)s. Select the invoices of one "
                    "customer.",
                    customers=", ".join(partners.mapped("display_name")),
                )
            )
        return {
            "type": "ir.actions.act_window",
            "name": _("Prepare Court Request"),
            "res_model": "credit.court.request.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"active_model": "account.move", "active_ids": self.ids},
        }

    # ------------------------------------------------------------------ filters

    credit_in_court_case = fields.Boolean(
        string="In a Court Case",
        compute="_compute_credit_in_court_case",
        search="_search_credit_in_court_case",
        help="The invoice is claimed by a court request that is not cancelled.",
    )
    factoring_collected = fields.Boolean(
        string="Collected by the Factor",
        compute="_compute_factoring_collected",
        search="_search_factoring_collected",
        help="The document was assigned to a notified contract when posted: the "
        "factor collects it, and our dunning, penalties and court requests leave it "
        "out.",
    )
    factoring_collection_message = fields.Char(
        string="Factoring Collection", compute="_compute_factoring_collected"
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

    @api.depends("factoring_contract_id")
    def _compute_factoring_collected(self):
        # Read as superuser: whoever sees the document sees who collects it.
        for move in self:
            contract = move.sudo().factoring_contract_id
            move.factoring_collected = bool(contract.notified)
            move.factoring_collection_message = (
                self.env._(
                    "Collected by the factor %(factor)s (contract %(contract)s): "
                    "this document is left out of our reminders, late-payment "
                    "penalties and court requests.",
                    factor=contract.factor_id.display_name,
                    contract=contract.name,
                )
                if contract.notified
                else False
            )

    def _search_factoring_collected(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            return NotImplemented
        domain = self._get_factor_collected_domain()
        if (operator == "=") == value:
            return domain
        return [("id", "not in", self.sudo()._search(domain))]
