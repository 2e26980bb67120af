from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from .credit_access import check_protected_create, check_protected_write, internal
from .credit_factoring import FACTORING_STATES

# Factoring fields of a document only the Credit Collection groups may change
# (the assignment at posting writes the contract through ``internal``).
FACTORING_MOVE_FIELDS = (
    "factoring_contract_id",
    "factoring_batch_id",
    "factoring_excluded",
    "factoring_exclusion_reason",
)
# How many faulty documents a refusal names before summing up the rest.
_MAX_LISTED = 10


# Batch states in which the documents are the factor's: what was transferred must
# stay as the factor received it. A cancelled batch frees its documents.
LOCKING_BATCH_STATES = ("confirmed", "sent")
# What the factor received for each document (the transfer files): the customer,
# the amounts, the currency and the dates; and the account the debtor pays to.
LOCKED_FIELDS = frozenset(
    {
        "partner_id",
        "commercial_partner_id",
        "company_id",
        "move_type",
        "currency_id",
        "date",
        "invoice_date",
        "invoice_date_due",
        "invoice_payment_term_id",
        "partner_bank_id",
        "invoice_line_ids",
        "line_ids",
        "tax_totals",
    }
)
# The same on the journal items of such a document.
LOCKED_LINE_FIELDS = frozenset(
    {
        "partner_id",
        "account_id",
        "currency_id",
        "date",
        "date_maturity",
        "balance",
        "debit",
        "credit",
        "amount_currency",
        "price_unit",
        "quantity",
        "discount",
        "price_subtotal",
        "price_total",
        "tax_ids",
        "display_type",
        "move_id",
    }
)


class AccountMove(models.Model):
    _inherit = "account.move"

    factoring_contract_id = fields.Many2one(
        "credit.factoring.contract",
        string="Factoring Contract",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Set when the document is posted, from the customer's delegation: a "
        "later change of delegation never reassigns a posted document.",
    )
    factoring_excluded = fields.Boolean(
        string="Excluded from Factoring",
        copy=False,
        tracking=True,
        help="The document stays with the company even though its customer is "
        "delegated to a factor. Possible until the document is transferred.",
    )
    factoring_exclusion_reason = fields.Char(
        string="Exclusion Reason", copy=False, tracking=True
    )
    factoring_batch_id = fields.Many2one(
        "credit.factoring.batch",
        string="Transfer Batch",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The confirmed batch that transferred the document to the factor.",
    )
    factoring_state = fields.Selection(
        FACTORING_STATES, compute="_compute_factoring_state", store=True
    )

    @api.depends("factoring_contract_id", "factoring_batch_id")
    def _compute_factoring_state(self):
        for move in self:
            if not move.factoring_contract_id:
                move.factoring_state = "none"
            elif move.factoring_batch_id:
                move.factoring_state = "transferred"
            else:
                move.factoring_state = "to_transfer"

    @api.constrains("factoring_excluded", "factoring_exclusion_reason")
    def _check_factoring_exclusion_reason(self):
        for move in self:
            if move.factoring_excluded and not move.factoring_exclusion_reason:
                raise ValidationError(
                    self.env._(
                        "Give the reason why %(document)s is excluded from "
                        "factoring.",
                        document=move.display_name,
                    )
                )

    # ------------------------------------------------------------------ access

    @api.model_create_multi
    def create(self, vals_list):
        check_protected_create(self, vals_list, FACTORING_MOVE_FIELDS)
        return super().create(vals_list)

    def write(self, vals):
        self._check_factoring_locked_write(vals)
        check_protected_write(self, vals, FACTORING_MOVE_FIELDS)
        toggled = self.browse()
        if "factoring_excluded" in vals:
            toggled = self.filtered(
                lambda move: move.factoring_excluded != bool(vals["factoring_excluded"])
            )
            transferred = toggled.filtered("factoring_batch_id")
            if transferred:
                raise UserError(
                    self.env._(
                        "%(documents)s already went to the factor with the transfer "
                        "batch %(batch)s: it can no longer be excluded from "
                        "factoring or brought back into it. Agree a retrocession "
                        "with the factor instead.",
                        documents=", ".join(transferred.mapped("display_name")),
                        batch=", ".join(
                            transferred.factoring_batch_id.mapped("display_name")
                        ),
                    )
                )
        res = super().write(vals)
        posted = toggled.filtered(lambda move: move.state == "posted")
        if posted:
            if vals["factoring_excluded"]:
                posted._factoring_release()
            else:
                posted._factoring_assign()
        return res

    # ------------------------------------------------------------------ posting

    def _post(self, soft=True):
        self._get_factoring_candidates()._factoring_assign()
        return super()._post(soft)

    def _get_factoring_candidates(self):
        """The documents whose assignment is decided now: customer invoices and
        credit notes posted for the first time, not excluded. A document posted
        before keeps what was decided then, even after a reset to draft."""
        return self.filtered(
            lambda move: move.move_type in ("out_invoice", "out_refund")
            and move.state == "draft"
            and not move.posted_before
            and not move.factoring_excluded
            and not move.factoring_batch_id
        )

    def _get_factoring_targets(self):
        """``{move: contract}`` for the documents of ``self``, read set-based: the
        customer's delegation in the document's company when the document is dated
        from its start date (the factor takes all of a buyer's receivables from
        then on); a credit note reversing an invoice follows that invoice, so it
        always lands in the same hands as the receivable it reduces."""
        today = fields.Date.context_today(self)
        Contract = self.env["credit.factoring.contract"]
        targets = {}
        for company, moves in self.grouped("company_id").items():
            delegations = moves.commercial_partner_id._get_factoring_delegations(
                company
            )
            for move in moves:
                origin = move.reversed_entry_id
                if move.move_type == "out_refund" and origin:
                    targets[move] = origin.sudo().factoring_contract_id
                    continue
                contract, start = delegations.get(
                    move.commercial_partner_id.id, (Contract, None)
                )
                if contract and (move.invoice_date or today) >= start:
                    targets[move] = contract
                else:
                    targets[move] = Contract
        return targets

    def _check_factoring_targets(self, targets):
        """Refuse the whole posting when a document cannot go to its contract."""
        errors = []
        for move, contract in targets.items():
            if not contract:
                continue
            if move.currency_id != contract.currency_id:
                errors.append(
                    self.env._(
                        "%(document)s is in %(currency)s but the factoring contract "
                        "%(contract)s of %(customer)s is in %(contract_currency)s.",
                        document=move.display_name,
                        currency=move.currency_id.name,
                        contract=contract.display_name,
                        customer=move.commercial_partner_id.display_name,
                        contract_currency=contract.currency_id.name,
                    )
                )
            if (
                contract.kind == "dailly"
                and move.commercial_partner_id.debtor_type == "consumer"
            ):
                errors.append(
                    self.env._(
                        "%(document)s is owed by the consumer %(customer)s: the "
                        "Dailly contract %(contract)s takes professional "
                        "receivables only.",
                        document=move.display_name,
                        customer=move.commercial_partner_id.display_name,
                        contract=contract.display_name,
                    )
                )
        if errors:
            more = len(errors) - _MAX_LISTED
            listed = errors[:_MAX_LISTED]
            if more > 0:
                listed.append(self.env._("… and %(count)s more.", count=more))
            raise UserError(
                self.env._(
                    "These documents cannot be assigned to their customer's "
                    "factoring contract:\n%(errors)s\nExclude them from factoring "
                    "with a reason, or correct them, before posting.",
                    errors="\n".join(listed),
                )
            )

    def _factoring_assign(self):
        """Store on each document the contract it is assigned to, and point the
        payment of the invoices of a notified factoring contract to the factor's
        bank account (printed on the PDF, in the payment QR code and in the
        electronic invoice). One write per contract, whatever the number of
        documents."""
        if not self:
            return
        targets = self._get_factoring_targets()
        self._check_factoring_targets(targets)
        groups = defaultdict(list)
        for move, contract in targets.items():
            if contract == move.factoring_contract_id:
                continue
            bank = (
                contract.bank_account_id
                if contract
                and move.move_type == "out_invoice"
                and contract._prints_subrogation_mention()
                else None
            )
            groups[contract.id, bank.id if bank else None].append(move.id)
        for (contract_id, bank_id), move_ids in groups.items():
            vals = {"factoring_contract_id": contract_id}
            if bank_id:
                vals["partner_bank_id"] = bank_id
            internal(self.browse(move_ids)).with_context(
                skip_readonly_check=True
            ).write(vals)

    def _factoring_release(self):
        """An excluded document goes back to the company: no contract, and our own
        bank account instead of the factor's."""
        assigned = self.filtered("factoring_contract_id")
        for move in assigned:
            vals = {"factoring_contract_id": False}
            if move.partner_bank_id == move.factoring_contract_id.bank_account_id:
                vals["partner_bank_id"] = move._get_factoring_own_bank().id
            internal(move).with_context(skip_readonly_check=True).write(vals)

    def _get_factoring_own_bank(self):
        """The company's bank account Odoo would have put on the invoice."""
        self.ensure_one()
        return self.bank_partner_id.bank_ids.filtered(
            lambda bank: not bank.company_id or bank.company_id == self.company_id
        ).sorted(lambda bank: not bank.allow_out_payment)[:1]

    # ------------------------------------------------------------------ report

    def _get_factoring_mention(self):
        """The subrogation mention printed on this invoice, or False."""
        self.ensure_one()
        contract = self.factoring_contract_id
        if self.move_type != "out_invoice" or not contract:
            return False
        return contract.sudo()._get_subrogation_mention(
            self.partner_id.lang or self.env.lang
        )

    # ------------------------------------------------------------------ transfer lock

    def _get_factoring_locked_moves(self):
        """The documents of ``self`` in a confirmed or sent transfer batch (read as
        superuser: the lock holds whoever edits). Only posted documents are
        transferred, and they cannot go back to draft: the drafts being edited
        cost no query."""
        return (
            self.sudo()
            .filtered(lambda move: move.state == "posted")
            .filtered(
                lambda move: move.factoring_batch_id.state in LOCKING_BATCH_STATES
            )
        )

    def _check_factoring_lock(self, action):
        move = self._get_factoring_locked_moves()[:1]
        if move:
            raise UserError(
                self.env._(
                    "%(move)s was transferred to the factor in the batch %(batch)s: "
                    "%(action)s. Cancel the batch first if it was not sent yet; "
                    "otherwise issue a credit note.",
                    move=move.display_name,
                    batch=move.factoring_batch_id.name,
                    action=action,
                )
            )

    def _check_factoring_locked_write(self, vals):
        if any(fname in LOCKED_FIELDS or fname.startswith("amount_") for fname in vals):
            self._check_factoring_lock(
                self.env._(
                    "its customer, amounts, currency and dates can no longer change"
                )
            )

    def button_draft(self):
        self._check_factoring_lock(
            self.env._("it can be neither reset to draft nor cancelled")
        )
        return super().button_draft()
