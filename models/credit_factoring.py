import re

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.translate import LazyTranslate

_lt = LazyTranslate(__name__)

FACTORING_KINDS = [
    ("factoring", "Factoring (Subrogation)"),
    ("dailly", "Dailly Assignment"),
]
FACTORING_STATES = [
    ("none", "Not Factored"),
    ("to_transfer", "To Transfer"),
    ("transferred", "Transferred"),
]
SUBROGATION_PLACEHOLDERS = (
    "factor_name",
    "factor_address",
    "factor_iban",
    "factor_bic",
)
# The usual wording of a subrogation mention (no statute dictates it: each factor
# supplies its own, which the manager pastes over this default).
DEFAULT_SUBROGATION_TEXT = _lt(
    "To be valid, payment of this invoice must be made exclusively to the order "
    "of {factor_name}, {factor_address}, IBAN {factor_iban} BIC {factor_bic}, "
    "which receives it by subrogation under a factoring agreement. Any claim "
    "relating to this receivable must be notified to it."
)
_PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")


def format_iban(number):
    """An IBAN printed as banks print it: groups of four characters."""
    compact = re.sub(r"\s+", "", number or "").upper()
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


class CreditFactoringContract(models.Model):
    """A factoring contract with a factor, or a Dailly line with a bank
    (LAW.md §7). Customers are delegated to it (``res.partner``
    ``factoring_contract_id``); their invoices and credit notes are assigned to it
    when posted, and transferred to the factor in batches."""

    _name = "credit.factoring.contract"
    _description = "Factoring Contract"
    _inherit = ["mail.thread"]
    _order = "name"
    _check_company_auto = True

    name = fields.Char(string="Contract Number", required=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    active = fields.Boolean(default=True)
    kind = fields.Selection(
        FACTORING_KINDS, required=True, default="factoring", tracking=True
    )
    factor_id = fields.Many2one(
        "res.partner",
        string="Factor",
        required=True,
        check_company=True,
        tracking=True,
        help="The factoring company, or the credit institution of a Dailly line.",
    )
    bank_account_id = fields.Many2one(
        "res.partner.bank",
        string="Factor's Bank Account",
        check_company=True,
        tracking=True,
        domain="[('partner_id', '=', factor_id)]",
        help="Where assigned invoices of a notified contract must be paid.",
    )
    notified = fields.Boolean(
        default=True,
        tracking=True,
        help="Factoring: the subrogation is notified to the debtors (the mention is "
        "printed on the invoices and the factor collects). Dailly: the bank has "
        "notified the debtors (it collects).",
    )
    subrogation_text = fields.Text(
        string="Subrogation Mention",
        translate=True,
        default=lambda self: self.env._(DEFAULT_SUBROGATION_TEXT),
        help="Printed on the assigned invoices of a notified factoring contract. "
        "Placeholders: {factor_name}, {factor_address}, {factor_iban}, {factor_bic}.",
    )
    currency_id = fields.Many2one(
        "res.currency",
        required=True,
        default=lambda self: self.env.company.currency_id,
    )
    file_format = fields.Selection(
        [("xlsx_csv", "XLSX and CSV")],
        required=True,
        default="xlsx_csv",
        help="Files produced for the factor by each transfer batch.",
    )

    _sql_constraints = [
        (
            "name_company_uniq",
            "unique(name, company_id)",
            "A factoring contract number must be unique per company.",
        )
    ]

    # ------------------------------------------------------------------ checks

    @api.constrains("kind", "notified", "bank_account_id", "factor_id")
    def _check_bank_account(self):
        """A notified factoring contract sends the debtors' payments to the factor:
        its bank account is printed on every assigned invoice, so it is required
        and must be the factor's own."""
        for contract in self:
            account = contract.bank_account_id
            if contract.kind == "factoring" and contract.notified and not account:
                raise ValidationError(
                    self.env._(
                        "The factoring contract %(contract)s is notified: the "
                        "debtors pay the factor, so set the factor's bank account "
                        "(IBAN and BIC) on it.",
                        contract=contract.display_name,
                    )
                )
            if account and account.partner_id != contract.factor_id:
                raise ValidationError(
                    self.env._(
                        "The bank account %(account)s of the factoring contract "
                        "%(contract)s belongs to %(holder)s, not to the factor "
                        "%(factor)s: choose one of the factor's bank accounts.",
                        account=account.display_name,
                        contract=contract.display_name,
                        holder=account.partner_id.display_name,
                        factor=contract.factor_id.display_name,
                    )
                )

    @api.constrains("kind")
    def _check_dailly_professional_debtors(self):
        """A Dailly line takes professional receivables only (CMF L313-23): a
        contract becoming Dailly must have no consumer delegated to it."""
        for contract in self.filtered(lambda contract: contract.kind == "dailly"):
            consumer = (
                self.env["res.partner"]
                .with_company(contract.company_id)
                .search(
                    [
                        ("factoring_contract_id", "=", contract.id),
                        ("debtor_type", "=", "consumer"),
                    ],
                    limit=1,
                )
            )
            if consumer:
                raise ValidationError(
                    self.env._(
                        "%(customer)s is a consumer and cannot be delegated to "
                        "the Dailly contract %(contract)s: a Dailly assignment "
                        "covers professional receivables only. Choose a "
                        "factoring contract or remove the delegation.",
                        customer=consumer.display_name,
                        contract=contract.display_name,
                    )
                )

    @api.constrains("subrogation_text")
    def _check_subrogation_placeholders(self):
        allowed = set(SUBROGATION_PLACEHOLDERS)
        for contract in self:
            unknown = {
                name
                for name in _PLACEHOLDER_RE.findall(contract.subrogation_text or "")
                if name not in allowed
            }
            if unknown:
                raise ValidationError(
                    self.env._(
                        "The subrogation mention of %(contract)s uses unknown "
                        "placeholders %(unknown)s: only %(allowed)s can be used.",
                        contract=contract.display_name,
                        unknown=", ".join(f"{{{name}}}" for name in sorted(unknown)),
                        allowed=", ".join(
                            f"{{{name}}}" for name in SUBROGATION_PLACEHOLDERS
                        ),
                    )
                )

    # ------------------------------------------------------------------ mention

    def _prints_subrogation_mention(self):
        """Whether the assigned invoices print the mention and the factor's bank.

        A Dailly assignment is not a subrogation (CMF L313-23 to L313-34): it is
        opposable at the date of the bordereau and the bank notifies the debtors
        itself if it chooses (L313-28), so our invoices never carry a mention.
        Confidential factoring prints nothing either."""
        self.ensure_one()
        return self.kind == "factoring" and self.notified

    def _get_subrogation_values(self):
        self.ensure_one()
        factor = self.factor_id
        address = ", ".join(
            part.strip()
            for part in factor._display_address(without_company=True).splitlines()
            if part.strip()
        )
        account = self.bank_account_id
        return {
            "factor_name": factor.commercial_partner_id.name or factor.name or "",
            "factor_address": address,
            "factor_iban": format_iban(account.acc_number),
            "factor_bic": account.bank_bic or "",
        }

    def _get_subrogation_mention(self, lang=None):
        """The subrogation mention with the factor's details filled in, in
        ``lang`` (the invoice's language), or False when nothing is printed.

        Notifying the subrogation makes it opposable to the debtor (C. civ.
        1346-5): until then, a debtor paying us is discharged."""
        self.ensure_one()
        if not self._prints_subrogation_mention():
            return False
        contract = self.with_context(lang=lang) if lang else self
        text = contract.subrogation_text or contract.env._(DEFAULT_SUBROGATION_TEXT)
        values = self._get_subrogation_values()
        return _PLACEHOLDER_RE.sub(
            lambda match: values.get(match.group(1), match.group(0)), text
        )
