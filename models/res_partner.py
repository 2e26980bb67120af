from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from .credit_access import (
    check_collection_user,
    check_protected_create,
    check_protected_write,
)
from .credit_court_request import LEGAL_NATURES

# Delegation fields only the Credit Collection groups may change.
FACTORING_PARTNER_FIELDS = ("factoring_contract_id", "factoring_start_date")


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
        help="Set from the customer's latest collective proceeding that is not "
        "closed: a safeguard, receivership or liquidation judgment forbids this "
        "customer to pay its debts born before it, which are declared to the "
        "mandataire instead of being dunned.",
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
        """Posted customer invoices of the customer still open and past due,
        without those whose penalties are not ours to compute (a factor collects
        them)."""
        invoices = self.env["account.move"].search(
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
        return invoices - invoices._get_penalty_excluded_moves()

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

    # ------------------------------------------------------------------ factoring

    factoring_contract_id = fields.Many2one(
        "credit.factoring.contract",
        string="Factoring Contract",
        company_dependent=True,
        check_company=True,
        help="The customer's receivables are delegated to this contract: its "
        "invoices and credit notes dated from the start date are assigned to the "
        "factor when posted.",
    )
    factoring_start_date = fields.Date(
        string="Delegated From",
        company_dependent=True,
        help="Invoices and credit notes dated from this day are assigned to the "
        "factoring contract when posted; earlier ones stay with the company.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        check_protected_create(self, vals_list, FACTORING_PARTNER_FIELDS)
        return super().create(vals_list)

    def write(self, vals):
        check_protected_write(self, vals, FACTORING_PARTNER_FIELDS)
        return super().write(vals)

    # ------------------------------------------------------------------ checks

    @api.constrains("factoring_contract_id", "factoring_start_date")
    def _check_factoring_delegation(self):
        """The delegation written for the current company: a contract of that
        company, from a start date."""
        company = self.env.company
        for partner in self:
            contract = partner.factoring_contract_id
            if not contract:
                continue
            if contract.company_id != company:
                raise ValidationError(
                    self.env._(
                        "%(customer)s cannot be delegated to the factoring contract "
                        "%(contract)s: the contract belongs to %(contract_company)s, "
                        "not to %(company)s. Choose a contract of %(company)s.",
                        customer=partner.display_name,
                        contract=contract.display_name,
                        contract_company=contract.company_id.display_name,
                        company=company.display_name,
                    )
                )
            if not partner.factoring_start_date:
                raise ValidationError(
                    self.env._(
                        "Set the date from which the invoices of %(customer)s are "
                        "delegated to the factoring contract %(contract)s.",
                        customer=partner.display_name,
                        contract=contract.display_name,
                    )
                )
        self._check_factoring_dailly_professional()

    @api.constrains("debtor_type")
    def _check_factoring_debtor_type(self):
        self._check_factoring_dailly_professional()

    def _check_factoring_dailly_professional(self):
        """A Dailly bordereau assigns professional receivables only (CMF L313-23):
        a consumer is never delegated to a Dailly contract, in any company."""
        consumers = self.commercial_partner_id.filtered(
            lambda partner: partner.debtor_type == "consumer"
        )
        if not consumers:
            return
        dailly_companies = (
            self.env["credit.factoring.contract"]
            .sudo()
            .with_context(active_test=False)
            .search([("kind", "=", "dailly")])
            .company_id
        )
        for company in dailly_companies:
            for partner in consumers.with_company(company):
                contract = partner.factoring_contract_id
                if contract.kind == "dailly":
                    raise ValidationError(
                        self.env._(
                            "%(customer)s is a consumer and cannot be delegated to "
                            "the Dailly contract %(contract)s: a Dailly assignment "
                            "covers professional receivables only. Choose a "
                            "factoring contract or remove the delegation.",
                            customer=partner.display_name,
                            contract=contract.sudo().display_name,
                        )
                    )

    # ------------------------------------------------------------------ assignment

    def _get_factoring_delegations(self, company):
        """``{commercial partner: (contract, start date)}`` of the partners in
        ``self`` delegated to an active contract of ``company``, read at once."""
        partners = self.commercial_partner_id.with_company(company)
        partners.fetch(["factoring_contract_id", "factoring_start_date"])
        delegations = {}
        for partner in partners:
            contract = partner.sudo().factoring_contract_id
            if contract and contract.active:
                delegations[partner.id] = (contract, partner.factoring_start_date)
        return delegations

    # ------------------------------------------------------------------ factoring

    factoring_collected = fields.Boolean(
        string="Collected by the Factor",
        compute="_compute_factoring_collection",
        search="_search_factoring_collected",
        help="The customer is delegated to a notified contract: the factor (or the "
        "bank of a notified Dailly assignment) collects its assigned invoices, which "
        "our dunning, penalties and court requests leave out.",
    )
    factoring_collection_message = fields.Char(
        string="Factoring Collection", compute="_compute_factoring_collection"
    )

    @api.depends_context("company")
    @api.depends("commercial_partner_id")
    def _compute_factoring_collection(self):
        # Read as superuser: any user who sees the customer sees who collects it,
        # whether or not he may read the contracts.
        for partner in self:
            contract = partner.commercial_partner_id.sudo().factoring_contract_id
            collected = bool(contract.notified)
            partner.factoring_collected = collected
            partner.factoring_collection_message = (
                self.env._(
                    "This customer's receivables are collected by the factor "
                    "%(factor)s (contract %(contract)s): our reminders, penalties "
                    "and court requests leave its assigned invoices out.",
                    factor=contract.factor_id.display_name,
                    contract=contract.name,
                )
                if collected
                else False
            )

    def _search_factoring_collected(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            return NotImplemented
        contracts = (
            self.env["credit.factoring.contract"]
            .sudo()
            .search([("notified", "=", True), ("company_id", "=", self.env.company.id)])
        )
        positive = (operator == "=") == value
        domain = [("commercial_partner_id.factoring_contract_id", "in", contracts.ids)]
        return domain if positive else ["!", *domain]
