from odoo import api, fields, models
from odoo.tools import SQL

from .credit_access import check_collection_user
from .credit_court_request import LEGAL_NATURES


class ResPartner(models.Model):
    _name = "res.partner"
    _inherit = ["res.partner", "credit.protected.fields.mixin"]

    dunning_policy_id = fields.Many2one(
        "credit.dunning.policy",
        string="Dunning Policy",
        company_dependent=True,
        help="Overrides the company's default dunning policy for this customer.",
    )
    dunning_excluded = fields.Boolean(
        string="Excluded from Dunning",
        help="No reminder is ever sent to this customer.",
    )
    debtor_type = fields.Selection(
        [("professional", "Professional"), ("consumer", "Consumer")],
        default="professional",
        help="A professional owes late-payment penalties and the 40 EUR recovery "
        "indemnity; a consumer owes legal interest from the formal notice.",
    )
    penalty_rule_id = fields.Many2one(
        "credit.penalty.rule",
        string="Penalty Rule",
        company_dependent=True,
        help="Overrides the company's default penalty rule for this customer.",
    )
    collective_procedure = fields.Boolean(
        string="Collective Proceedings",
        help="A safeguard, receivership or liquidation judgment forbids this customer "
        "to pay its earlier debts: no recovery indemnity is claimed.",
    )
    collective_procedure_date = fields.Date(
        string="Opening Judgment Date",
        help="Day of the judgment opening the collective proceedings: claims born "
        "before it are declared to the mandataire judiciaire, never claimed in "
        "court; claims born after it are collected normally.",
    )
    credit_legal_nature = fields.Selection(
        LEGAL_NATURES,
        string="Legal Nature",
        compute="_compute_credit_legal_nature",
        store=True,
        readonly=False,
        precompute=True,
        help="What the debtor is in law: it decides the competent court of a court "
        "request (a trader, commercial company or artisan goes before the "
        "commercial court, any other debtor before the judicial court).",
    )
    dunning_letter_ids = fields.One2many(
        "credit.dunning.letter", "partner_id", string="Dunning Letters"
    )
    dunning_letter_count = fields.Integer(compute="_compute_dunning_summary")
    dunning_last_letter_id = fields.Many2one(
        "credit.dunning.letter",
        string="Last Dunning Letter",
        compute="_compute_dunning_summary",
    )
    dunning_last_level_id = fields.Many2one(
        "credit.dunning.level",
        string="Last Dunning Level",
        compute="_compute_dunning_summary",
    )
    dunning_overdue_amount = fields.Monetary(
        string="Overdue Amount",
        compute="_compute_dunning_overdue_amount",
        search="_search_dunning_overdue_amount",
        currency_field="dunning_currency_id",
        help="Open balance of the customer's receivable items past their due date, "
        "in the current company's currency.",
    )
    dunning_currency_id = fields.Many2one(
        "res.currency", compute="_compute_dunning_overdue_amount"
    )

    @api.model
    def _commercial_fields(self):
        return super()._commercial_fields() + [
            "dunning_excluded",
            "debtor_type",
            "collective_procedure",
            "collective_procedure_date",
            "credit_legal_nature",
        ]

    # ------------------------------------------------------------------ access

    # Customer fields only the Credit Collection groups may change (a field's
    # ``groups`` would hide them; this keeps them visible and read-only). A later
    # collective-proceedings field is added here.
    _credit_protected_fields = (
        "debtor_type",
        "dunning_excluded",
        "penalty_rule_id",
        "dunning_policy_id",
        "collective_procedure",
        "collective_procedure_date",
        "credit_legal_nature",
    )

    @api.depends("debtor_type")
    def _compute_credit_legal_nature(self):
        """Prefilled from the debtor type; a professional's nature the user chose
        (artisan, association...) is kept when the type does not change it."""
        for partner in self:
            if partner.debtor_type == "consumer":
                partner.credit_legal_nature = "consumer"
            elif partner.credit_legal_nature in (False, "consumer"):
                partner.credit_legal_nature = "trader"

    def _compute_dunning_summary(self):
        commercial = self.commercial_partner_id
        groups = self.env["credit.dunning.letter"]._read_group(
            [
                ("partner_id", "in", commercial.ids),
                ("state", "!=", "cancelled"),
                ("company_id", "in", self.env.companies.ids),
            ],
            ["partner_id"],
            ["__count", "id:max"],
        )
        summary = {partner.id: (count, last_id) for partner, count, last_id in groups}
        last_letters = self.env["credit.dunning.letter"].browse(
            [last_id for __, last_id in summary.values()]
        )
        for partner in self:
            count, last_id = summary.get(partner.commercial_partner_id.id, (0, False))
            last = last_letters.browse(last_id) if last_id else last_letters.browse()
            partner.dunning_letter_count = count
            partner.dunning_last_letter_id = last
            partner.dunning_last_level_id = last.level_id

    def _overdue_items_query(self):
        today = fields.Date.context_today(self)
        return self.env["account.move.line"]._search(
            [
                ("company_id", "=", self.env.company.id),
                ("account_type", "=", "asset_receivable"),
                ("parent_state", "=", "posted"),
                ("reconciled", "=", False),
                ("date_maturity", "<", today),
            ]
        )

    def _compute_dunning_overdue_amount(self):
        commercial_ids = self.commercial_partner_id.ids
        amounts = {}
        if commercial_ids:
            query = self._overdue_items_query()
            query.add_where(
                SQL("account_move_line.partner_id IN %s", tuple(commercial_ids))
            )
            query.groupby = SQL("account_move_line.partner_id")
            amounts = dict(
                self.env.execute_query(
                    query.select(
                        "account_move_line.partner_id",
                        "SUM(account_move_line.amount_residual)",
                    )
                )
            )
        currency = self.env.company.currency_id
        for partner in self:
            partner.dunning_overdue_amount = amounts.get(
                partner.commercial_partner_id.id, 0.0
            )
            partner.dunning_currency_id = currency

    def _search_dunning_overdue_amount(self, operator, value):
        if operator not in (">", ">=", "<", "<=", "=", "!="):
            return NotImplemented
        query = self._overdue_items_query()
        query.groupby = SQL("account_move_line.partner_id")
        query.having = SQL(
            "SUM(account_move_line.amount_residual) %s %s", SQL(operator), value or 0.0
        )
        return [("id", "in", query.subselect("account_move_line.partner_id"))]

    def _get_dunning_contacts(self):
        """Addressee of each commercial partner's letters: its first invoice
        address that has an email, else the partner itself (one search)."""
        contacts = {partner.id: partner for partner in self}
        invoice_contacts = self.search_fetch(
            [
                ("parent_id", "in", self.ids),
                ("type", "=", "invoice"),
                ("email", "!=", False),
            ],
            ["parent_id"],
            order="id desc",
        )
        for contact in invoice_contacts:
            contacts[contact.parent_id.id] = contact
        return contacts

    def _get_penalty_open_invoices(self, as_of):
        """Posted customer invoices of the customer still open and past due."""
        return self.env["account.move"].search(
            [
                ("commercial_partner_id", "in", self.commercial_partner_id.ids),
                ("company_id", "=", self.env.company.id),
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("is_penalty_invoice", "=", False),
                ("payment_state", "in", ("not_paid", "partial")),
                (
                    "line_ids",
                    "any",
                    [
                        ("display_type", "=", "payment_term"),
                        ("date_maturity", "<", as_of),
                    ],
                ),
            ]
        )

    def _penalty_statement_xlsx(self, as_of):
        self.ensure_one()
        return self.env[
            "report.l10n_fr_credit_collection.report_penalty_statement"
        ]._get_statement_xlsx(self, as_of)

    def action_penalty_statement(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Penalty Statement"),
            "res_model": "credit.penalty.statement.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"active_model": "res.partner", "active_id": self.id},
        }

    def action_court_request(self):
        check_collection_user(self.env, self.env._("Preparing a court request"))
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Prepare Court Request"),
            "res_model": "credit.court.request.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {
                "active_model": "res.partner",
                "active_id": self.commercial_partner_id.id,
                "active_ids": self.commercial_partner_id.ids,
            },
        }

    def action_view_dunning_letters(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "l10n_fr_credit_collection.action_credit_dunning_letter"
        )
        action["domain"] = [("partner_id", "in", self.commercial_partner_id.ids)]
        return action
