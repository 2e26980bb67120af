from datetime import date

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools.misc import formatLang


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
        ondelete="cascade",
    )
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True
    )
    kind = fields.Selection(
        [("interest", "Late-Payment Interest"), ("indemnity", "Recovery Indemnity")],
        required=True,
    )
    date_from = fields.Date(string="From")
    date_to = fields.Date(string="To")
    days = fields.Integer()
    base_amount = fields.Monetary(string="Base")
    rate = fields.Float(string="Rate (%)", digits=(16, 4))
    floor_applied = fields.Boolean(
        help="The contractual rate was below the legal floor: the floor applies."
    )
    amount = fields.Monetary(required=True)
    currency_id = fields.Many2one("res.currency", required=True)
    state = fields.Selection(
        [("draft", "To Invoice"), ("invoiced", "Invoiced"), ("waived", "Waived")],
        default="draft",
        required=True,
        index=True,
    )
    waive_reason = fields.Char(readonly=True)
    penalty_move_id = fields.Many2one(
        "account.move",
        string="Penalty Invoice",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
    )

    @api.depends("move_id", "kind", "date_from", "date_to")
    def _compute_display_name(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for line in self:
            period = (
                f" {line.date_from} - {line.date_to}" if line.kind == "interest" else ""
            )
            line.display_name = f"{line.move_id.name} {kinds.get(line.kind)}{period}"

    def write(self, vals):
        if vals.get("state") == "waived":
            self._check_waive_access()
        return super().write(vals)

    def _check_waive_access(self):
        if not self.env.su and not self.env.user.has_group(
            "l10n_fr_credit_collection.group_credit_collection_manager"
        ):
            raise AccessError(_("Only credit collection managers can waive penalties."))

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

    def _create_penalty_invoices(self, invoice_date):
        """One draft customer invoice per customer and currency, without tax, with the
        penalty statement attached; the lines become invoiced."""
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
        not_draft = self.filtered(lambda line: line.state != "draft")
        if not_draft:
            raise UserError(
                _(
                    "The penalty line %(line)s is not to invoice (it is invoiced or "
                    "waived): remove it from the selection.",
                    line=not_draft[0].display_name,
                )
            )
        groups = self.grouped(lambda line: (line.partner_id, line.currency_id))
        vals_list = [
            self._prepare_penalty_invoice_vals(partner, currency, lines, invoice_date)
            for (partner, currency), lines in groups.items()
        ]
        invoices = self.env["account.move"].with_company(companies).create(vals_list)
        for invoice, lines in zip(invoices, groups.values(), strict=True):
            lines.write({"state": "invoiced", "penalty_move_id": invoice.id})
        invoices._attach_penalty_statement(invoice_date)
        return invoices

    def _prepare_penalty_invoice_vals(self, partner, currency, lines, invoice_date):
        company = lines.company_id
        return {
            "move_type": "out_invoice",
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
                date_from=self.date_from,
                date_to=self.date_to,
                days=self.days,
                base=self.currency_id.format(self.base_amount),
                rate=formatLang(self.env, self.rate, digits=2),
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
        vals = {
            "product_id": product.id,
            "name": name,
            "quantity": 1,
            "price_unit": self.amount,
            "tax_ids": [fields.Command.clear()],
        }
        if account:
            vals["account_id"] = account.id
        return vals
