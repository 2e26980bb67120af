from collections import defaultdict
from datetime import date

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.osv.expression import AND
from odoo.tools import SQL
from odoo.tools.misc import format_date, formatLang

from .credit_access import COLLECTION_MANAGER, internal, is_internal

# Kinds the penalty computation writes in bulk (see ``_bulk_validate``).
COMPUTED_LINE_KINDS = ("interest", "indemnity")


class CreditPenaltyLine(models.Model):
    """One computed line of late-payment interest or of recovery indemnity."""

    _name = "credit.penalty.line"
    _inherit = ["credit.bulk.mixin"]
    _description = "Penalty Line"
    _order = "move_id, move_line_id, kind desc, date_from, id"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, index=True)
    move_id = fields.Many2one(
        "account.move",
        string="Invoice",
        required=True,
        index=True,
        ondelete="cascade",
        check_company=True,
    )
    move_line_id = fields.Many2one(
        "account.move.line",
        string="Installment",
        index="btree_not_null",
        ondelete="set null",
        help="Empty when Odoo recreated the invoice's receivable lines: the line is "
        "kept, keyed on the invoice and the installment's due date.",
    )
    date_maturity = fields.Date(
        string="Due Date",
        help="Due date of the installment: with the invoice, it identifies the "
        "installment whatever happens to its journal item.",
    )
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True
    )
    kind = fields.Selection(
        [
            ("interest", "Late-Payment Interest"),
            ("indemnity", "Recovery Indemnity"),
            ("compensation", "Additional Recovery Costs"),
        ],
        required=True,
    )
    date_from = fields.Date(string="From")
    date_to = fields.Date(string="To")
    # Days, bases and rates of different periods do not add up: no sum in groups.
    days = fields.Integer(aggregator=None)
    base_amount = fields.Monetary(string="Base", aggregator=None)
    rate = fields.Float(string="Rate (%)", digits=(16, 4), aggregator=None)
    floor_applied = fields.Boolean(
        help="The contractual rate was below the legal floor: the floor applies."
    )
    amount = fields.Monetary(required=True)
    currency_id = fields.Many2one("res.currency", required=True)
    # suspended: set aside by a payment plan, waived if the plan is kept to the
    # end, back to invoice if it breaks (never the manager's final waiver).
    state = fields.Selection(
        [
            ("draft", "To Invoice"),
            ("invoiced", "Invoiced"),
            ("suspended", "Suspended (Payment Plan)"),
            ("waived", "Waived"),
        ],
        default="draft",
        required=True,
        index=True,
    )
    payment_plan_id = fields.Many2one(
        "credit.payment.plan",
        string="Payment Plan",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="The payment plan that suspended this line: waived if the plan is kept "
        "to the end, to invoice again if it breaks.",
    )
    waive_reason = fields.Char(readonly=True)
    compensation_reason = fields.Char(
        string="Costs Justification",
        help="Recovery costs above the fixed 40 EUR indemnity, claimed on proof "
        "(art. L441-10 II C. com.): what they are.",
    )
    attachment_ids = fields.Many2many(
        "ir.attachment",
        string="Proof",
        help="The invoices or receipts of the recovery costs claimed.",
    )
    unmatched_credit_amount = fields.Monetary(
        string="Unmatched Credit",
        readonly=True,
        help="The customer had unmatched payments or credit notes of this amount "
        "during the period: they may have settled the invoice. Check before "
        "invoicing.",
    )
    unmatched_credit_date = fields.Date(
        string="Unmatched Credit Since",
        readonly=True,
        help="Date of the customer's earliest unmatched payment or credit note "
        "counted in the unmatched credit.",
    )
    penalty_move_id = fields.Many2one(
        "account.move",
        string="Penalty Invoice",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
    )

    def init(self):
        # Two computations at once (the monthly job and a user) can never claim the
        # same late days twice: one interest line per installment (invoice and due
        # date) and first day, one indemnity per invoice, whatever the state.
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS credit_penalty_line_period_once
                ON credit_penalty_line (move_id, date_maturity, date_from)
             WHERE kind = 'interest';
            CREATE UNIQUE INDEX IF NOT EXISTS credit_penalty_line_indemnity_once
                ON credit_penalty_line (move_id)
             WHERE kind = 'indemnity';
            """
        )

    @api.constrains("kind", "compensation_reason", "attachment_ids", "amount")
    def _check_compensation(self):
        for line in self.filtered(lambda line: line.kind == "compensation"):
            if not line.compensation_reason or not line.attachment_ids:
                raise ValidationError(
                    _(
                        "Additional recovery costs on %(invoice)s are claimed on "
                        "proof only (art. L441-10 II C. com.): give what they are "
                        "and attach their invoices or receipts.",
                        invoice=line.move_id.display_name,
                    )
                )
            if line.amount <= 0:
                raise ValidationError(
                    _(
                        "The additional recovery costs of %(invoice)s must be a "
                        "positive amount.",
                        invoice=line.move_id.display_name,
                    )
                )

    def _bulk_validate(self, fields_, vals_list):
        """The only Python constraint concerns recovery costs entered by hand:
        validate those rows only, not the thousands of computed ones."""
        rows = [
            (record_id, vals)
            for record_id, vals in zip(self._ids, vals_list, strict=True)
            if vals.get("kind") not in COMPUTED_LINE_KINDS
        ]
        if not rows:
            return None
        return super(
            CreditPenaltyLine, self.browse(row[0] for row in rows)
        )._bulk_validate(fields_, [row[1] for row in rows])

    @api.depends("move_id", "kind", "date_from", "date_to")
    def _compute_display_name(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for line in self:
            period = (
                f" {line.date_from} - {line.date_to}" if line.kind == "interest" else ""
            )
            line.display_name = f"{line.move_id.name} {kinds.get(line.kind)}{period}"

    # ------------------------------------------------------------------ access
    # A waived or invoiced line is part of the audit trail: users never create one
    # directly, never change it and never delete an invoiced one. The invoicing and
    # the release of the lines of a cancelled penalty invoice go through
    # ``credit_access.internal``; the superuser passes.

    @api.model_create_multi
    def create(self, vals_list):
        self._check_create_vals(vals_list)
        return super().create(vals_list)

    @api.model
    def _check_create_vals(self, vals_list):
        """Also called by ``_bulk_create``: only lines to invoice are created."""
        if is_internal(self.env):
            return
        for vals in vals_list:
            if vals.get("state", "draft") != "draft" or vals.get("penalty_move_id"):
                raise AccessError(
                    _(
                        "A penalty line is created to invoice: waive it with the "
                        "Waive button or invoice it with the Invoice button "
                        "afterwards (line of %(amount)s).",
                        amount=vals.get("amount"),
                    )
                )

    def write(self, vals):
        if not is_internal(self.env):
            self._check_write_access(vals)
        return super().write(vals)

    def _check_write_access(self, vals):
        locked = self.filtered(lambda line: line.state != "draft")
        if locked:
            raise AccessError(
                _(
                    "The penalty line %(line)s is %(state)s: it can no longer be "
                    "changed. Cancel its penalty invoice to give an invoiced line "
                    "back.",
                    line=locked[0].display_name,
                    state=locked[0]._state_label(),
                )
            )
        if vals.get("state") == "invoiced" or vals.get("penalty_move_id"):
            raise AccessError(
                _(
                    "Penalty lines are invoiced with the Invoice button only "
                    "(%(line)s).",
                    line=self[:1].display_name,
                )
            )
        if vals.get("state") == "waived":
            self._check_waive_access()
            if not vals.get("waive_reason"):
                raise UserError(_("Give the reason for waiving these penalties."))

    def _check_waive_access(self):
        if not self.env.su and not self.env.user.has_group(COLLECTION_MANAGER):
            raise AccessError(_("Only credit collection managers can waive penalties."))

    def unlink(self):
        if not is_internal(self.env):
            self._check_unlink_access()
        return super().unlink()

    def _check_unlink_access(self):
        suspended = self.filtered(lambda line: line.state == "suspended")
        if suspended:
            raise AccessError(
                _(
                    "The penalty line %(line)s is suspended by the payment plan "
                    "%(plan)s: it cannot be deleted while the plan decides its fate.",
                    line=suspended[0].display_name,
                    plan=suspended[0].payment_plan_id.display_name,
                )
            )
        invoiced = self.filtered(lambda line: line.state == "invoiced")
        if invoiced:
            raise AccessError(
                _(
                    "The penalty line %(line)s is invoiced: it cannot be deleted. "
                    "Cancel its penalty invoice %(invoice)s to give it back.",
                    line=invoiced[0].display_name,
                    invoice=invoiced[0].penalty_move_id.display_name,
                )
            )
        waived = self.filtered(lambda line: line.state == "waived")
        if waived and not self.env.user.has_group(COLLECTION_MANAGER):
            raise AccessError(
                _(
                    "The penalty line %(line)s was waived: only a credit collection "
                    "manager can delete it (to undo the waiver).",
                    line=waived[0].display_name,
                )
            )
        if waived:
            bodies = {
                move.id: Markup("<p>%s</p>")
                % self.env._(
                    "Waiver of penalties (%(amount)s) undone: %(reason)s",
                    amount=lines[:1].currency_id.format(sum(lines.mapped("amount"))),
                    reason=", ".join(set(lines.mapped("waive_reason")) - {False}),
                )
                for move, lines in waived.grouped("move_id").items()
            }
            waived.move_id._message_log_batch(bodies)

    @api.model
    def _bulk_unlink(self, domain):
        """The bulk delete (no ``unlink`` override runs) only ever removes lines to
        invoice, whatever the domain asks."""
        return super()._bulk_unlink(AND([domain, [("state", "=", "draft")]]))

    def _state_label(self):
        self.ensure_one()
        return dict(self._fields["state"]._description_selection(self.env))[self.state]

    def action_waive(self, reason):
        """Waive draft lines with a reason, logged on their invoices (managers only)."""
        self._check_waive_access()
        if not reason:
            raise UserError(_("Give the reason for waiving these penalties."))
        not_draft = self.filtered(lambda line: line.state != "draft")
        if not_draft:
            raise UserError(
                _(
                    "The penalty line %(line)s is already %(state)s: only lines to "
                    "invoice can be waived.",
                    line=not_draft[0].display_name,
                    state=dict(self._fields["state"]._description_selection(self.env))[
                        not_draft[0].state
                    ],
                )
            )
        self.write({"state": "waived", "waive_reason": reason})
        bodies = {}
        for move, lines in self.grouped("move_id").items():
            bodies[move.id] = Markup("<p>%s</p>") % self.env._(
                "Penalties waived (%(amount)s): %(reason)s",
                amount=lines[:1].currency_id.format(sum(lines.mapped("amount"))),
                reason=reason,
            )
        self.move_id._message_log_batch(bodies)
        return True

    @api.model
    def _flag_unmatched_credits(self, vals_list):
        """Flag, in the values of new draft lines, those that ran while the customer
        had unmatched payments or credit notes: such a credit may have settled the
        invoice, so invoicing these lines needs a user's explicit confirmation.
        One grouped read, whatever the number of lines."""
        if not vals_list:
            return vals_list
        groups = self.env["account.move.line"]._read_group(
            [
                ("company_id", "in", list({vals["company_id"] for vals in vals_list})),
                (
                    "partner_id.commercial_partner_id",
                    "in",
                    list({vals["partner_id"] for vals in vals_list}),
                ),
                ("account_type", "=", "asset_receivable"),
                ("parent_state", "=", "posted"),
                ("reconciled", "=", False),
                ("amount_residual", "<", 0),
            ],
            ["company_id", "partner_id", "date:day"],
            ["amount_residual:sum"],
        )
        # The customers of the partners in one query (not 1,000 partners a read).
        self.env["res.partner"].flush_model(["commercial_partner_id"])
        customer_of = dict(
            self.env.execute_query(
                SQL(
                    "SELECT id, commercial_partner_id FROM res_partner "
                    "WHERE id = ANY(%s)",
                    list({partner.id for _company, partner, _day, _amount in groups}),
                )
            )
        )
        credits = defaultdict(list)  # (company, customer) -> [(date, amount)]
        for company, partner, day, amount in groups:
            key = (company.id, customer_of.get(partner.id))
            credits[key].append((day, -amount))
        if not credits:
            return vals_list
        for vals in vals_list:
            customer_credits = credits.get((vals["company_id"], vals["partner_id"]))
            if not customer_credits:
                continue
            until = vals.get("date_to") or date.max
            found = [(day, amount) for day, amount in customer_credits if day <= until]
            if found:
                vals["unmatched_credit_amount"] = sum(amount for _day, amount in found)
                vals["unmatched_credit_date"] = min(day for day, _amount in found)
        return vals_list

    def action_open_waive_wizard(self):
        return {
            "type": "ir.actions.act_window",
            "name": _("Waive Penalties"),
            "res_model": "credit.penalty.waive.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"active_model": self._name, "active_ids": self.ids},
        }

    def action_open_invoice_wizard(self):
        return {
            "type": "ir.actions.act_window",
            "name": _("Invoice Penalties"),
            "res_model": "credit.penalty.invoice.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"active_model": self._name, "active_ids": self.ids},
        }

    # ------------------------------------------------------------------ invoicing

    def _create_penalty_invoices(self, invoice_date, confirm_unmatched=False):
        """One draft customer invoice per customer and currency, without tax, with the
        penalty statement attached; the lines become invoiced."""
        self._check_invoiceable(confirm_unmatched)
        groups = self.grouped(lambda line: (line.partner_id, line.currency_id))
        vals_list = [
            self._prepare_penalty_invoice_vals(partner, currency, lines, invoice_date)
            for (partner, currency), lines in groups.items()
        ]
        invoices = (
            self.env["account.move"].with_company(self.company_id).create(vals_list)
        )
        for invoice, lines in zip(invoices, groups.values(), strict=True):
            internal(lines).write({"state": "invoiced", "penalty_move_id": invoice.id})
        invoices._attach_penalty_statement(invoice_date)
        return invoices

    def _check_invoiceable(self, confirm_unmatched):
        """Refuse, before anything is written, what cannot be invoiced."""
        if not self:
            raise UserError(_("Select the penalty lines to invoice."))
        companies = self.company_id
        if len(companies) > 1:
            raise UserError(
                _(
                    "The selected penalty lines belong to several companies "
                    "(%(companies)s): invoice the lines of one company at a time.",
                    companies=", ".join(companies.mapped("name")),
                )
            )
        if (
            not companies.penalty_interest_account_id
            or not companies.penalty_indemnity_account_id
        ):
            raise UserError(
                _(
                    "%(company)s has no income accounts for penalties and "
                    "indemnities. Set them in Credit Collection > Configuration > "
                    "Settings (French chart: 763800 and 758000), then invoice again.",
                    company=companies.name,
                )
            )
        not_draft = self.filtered(lambda line: line.state != "draft")
        if not_draft:
            raise UserError(
                _(
                    "The penalty line %(line)s is not to invoice (it is invoiced or "
                    "waived): remove it from the selection.",
                    line=not_draft[0].display_name,
                )
            )
        flagged = self.filtered("unmatched_credit_amount")
        if flagged and not confirm_unmatched:
            raise UserError(
                _(
                    "%(customer)s had unmatched payments or credit notes "
                    "(%(amount)s since %(date)s) while the penalty line %(line)s "
                    "ran: they may have settled the invoice. Match them first, or "
                    "confirm that these penalties are due.",
                    customer=flagged[0].partner_id.display_name,
                    amount=flagged[0].currency_id.format(
                        flagged[0].unmatched_credit_amount
                    ),
                    date=flagged[0].unmatched_credit_date,
                    line=flagged[0].display_name,
                )
            )

    def _prepare_penalty_invoice_vals(self, partner, currency, lines, invoice_date):
        company = lines.company_id
        return {
            "move_type": "out_invoice",
            "is_penalty_invoice": True,
            "company_id": company.id,
            "partner_id": partner.id,
            "currency_id": currency.id,
            "invoice_date": invoice_date,
            "invoice_origin": ", ".join(lines.move_id.mapped("name")),
            "invoice_line_ids": [
                fields.Command.create(line._prepare_penalty_invoice_line_vals())
                for line in lines.sorted(self._invoice_line_order)
            ],
        }

    @staticmethod
    def _invoice_line_order(line):
        return (line.move_id.id, line.kind == "indemnity", line.date_from or date.min)

    def _prepare_penalty_invoice_line_vals(self):
        self.ensure_one()
        company = self.company_id
        if self.kind == "interest":
            product = self.env.ref("l10n_fr_credit_collection.product_penalty_interest")
            account = company.penalty_interest_account_id
            name = _(
                "%(product)s\n%(invoice)s: %(date_from)s - %(date_to)s, %(days)s days "
                "on "
                "%(base)s at %(rate)s %%",
                product=product.name,
                invoice=self.move_id.name,
                date_from=format_date(self.env, self.date_from),
                date_to=format_date(self.env, self.date_to),
                days=self.days,
                base=self.currency_id.format(self.base_amount),
                rate=formatLang(self.env, self.rate, digits=2),
            )
        elif self.kind == "compensation":
            product = self.env.ref(
                "l10n_fr_credit_collection.product_penalty_compensation"
            )
            account = company.penalty_indemnity_account_id
            name = _(
                "%(product)s\n%(invoice)s: %(reason)s",
                product=product.name,
                invoice=self.move_id.name,
                reason=self.compensation_reason,
            )
        else:
            product = self.env.ref(
                "l10n_fr_credit_collection.product_penalty_indemnity"
            )
            account = company.penalty_indemnity_account_id
            name = _(
                "%(product)s\n%(invoice)s",
                product=product.name,
                invoice=self.move_id.name,
            )
        return {
            "product_id": product.id,
            "name": name,
            "quantity": 1,
            "price_unit": self.amount,
            "tax_ids": [fields.Command.clear()],
            "account_id": account.id,
        }
