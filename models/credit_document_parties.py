import re

from odoo import api, models


def _digits(value):
    return re.sub(r"\D", "", value or "")


def _group(value, sizes):
    """``"12345678900012"``, ``(3, 3, 3, 5)`` -> ``"123 456 789 00012"``."""
    parts, start = [], 0
    for size in sizes:
        if start < len(value):
            parts.append(value[start : start + size])
        start += size
    return " ".join(parts)


class CreditDocumentParties(models.AbstractModel):
    """Who writes to whom: the identity of the creditor and of the debtor printed in
    the body of letters, formal notices and penalty statements (PDF and XLSX).

    The body, not the layout header: some wkhtmltopdf builds (Debian's) drop the
    header, and the registry mentions of art. R123-237 and R123-238 C. com. must
    be on every company paper whatever the layout. Strings are built in the
    language of the environment: call with the customer's language.
    """

    _name = "credit.document.parties"
    _description = "Creditor and Debtor of a Collection Document"

    @api.model
    def _get_parties(self, company, partner, contact=None):
        """``{"creditor": {...}, "debtor": {...}}``, plain data with a ``lines`` list
        of printable strings each. ``contact``: the address the document goes to,
        when it is not the customer's own."""
        return {
            "creditor": self._get_creditor_identity(company),
            "debtor": self._get_debtor_identity(
                partner.commercial_partner_id, contact or partner
            ),
        }

    @api.model
    def _get_siren_siret(self, partner):
        """``(SIREN, SIRET)`` of a partner, formatted, from ``siret`` (l10n_fr) then
        ``company_registry``; ``(False, False)`` when neither holds one."""
        siret = _digits(partner.siret)
        registry = _digits(partner.company_registry)
        for number in (siret, registry):
            if len(number) == 14:
                return _group(number[:9], (3, 3, 3)), _group(number, (3, 3, 3, 5))
            if len(number) == 9:
                return _group(number, (3, 3, 3)), False
        return False, False

    @api.model
    def _get_one_line_address(self, partner):
        city = " ".join(filter(None, [partner.zip, partner.city]))
        parts = [partner.street, partner.street2, city, partner.country_id.name]
        return ", ".join(part for part in parts if part)

    @api.model
    def _get_creditor_identity(self, company):
        _ = self.env._
        company = company.with_env(self.env)  # amounts in the document's language
        siren, siret = self._get_siren_siret(company.partner_id)
        if not siren and company.company_registry:
            siren = company.company_registry  # a registry number of another form
        capital = (
            company.currency_id.format(company.share_capital)
            if company.share_capital
            else False
        )
        lines = []
        if company.legal_form and capital:
            lines.append(
                _(
                    "%(legal_form)s with a share capital of %(capital)s",
                    legal_form=company.legal_form,
                    capital=capital,
                )
            )
        elif company.legal_form:
            lines.append(company.legal_form)
        elif capital:
            lines.append(_("Share capital: %(capital)s", capital=capital))
        address = self._get_one_line_address(company.partner_id)
        if address:
            lines.append(_("Registered office: %(address)s", address=address))
        registry = []
        if siren and company.rcs_city:
            registry.append(
                _("RCS %(city)s %(siren)s", city=company.rcs_city, siren=siren)
            )
        elif siren:
            registry.append(_("SIREN %(siren)s", siren=siren))
        if siret:
            registry.append(_("SIRET %(siret)s", siret=siret))
        if registry:
            lines.append(" - ".join(registry))
        if company.vat:
            lines.append(_("VAT number: %(vat)s", vat=company.vat))
        contact = []
        if company.phone:
            contact.append(_("Phone: %(phone)s", phone=company.phone))
        if company.email:
            contact.append(_("Email: %(email)s", email=company.email))
        if contact:
            lines.append(" - ".join(contact))
        return {
            "name": company.name,
            "legal_form": company.legal_form or False,
            "share_capital": capital,
            "address": address,
            "siren": siren,
            "siret": siret,
            "rcs_city": company.rcs_city or False,
            "vat": company.vat or False,
            "phone": company.phone or False,
            "email": company.email or False,
            "lines": lines,
        }

    @api.model
    def _get_debtor_identity(self, partner, contact):
        _ = self.env._
        partner, contact = partner.with_env(self.env), contact.with_env(self.env)
        siren, _siret = self._get_siren_siret(partner)
        lines = []
        if contact != partner and contact.name and contact.type == "contact":
            lines.append(contact.name)
        lines += [
            line
            for line in (
                contact.street,
                contact.street2,
                " ".join(filter(None, [contact.zip, contact.city])),
                contact.country_id.name,
            )
            if line
        ]
        if siren:
            lines.append(_("SIREN %(siren)s", siren=siren))
        if partner.vat:
            lines.append(_("VAT number: %(vat)s", vat=partner.vat))
        return {
            "name": partner.name,
            "siren": siren,
            "vat": partner.vat or False,
            "address": self._get_one_line_address(contact),
            "lines": lines,
        }

    @api.model
    def _get_bank_details(self, company):
        """The company's first bank account as a debtor copies it: the IBAN in
        groups of four characters, and the BIC; ``False`` without an account."""
        account = company.partner_id.bank_ids[:1]
        if not account:
            return False
        number = re.sub(r"\s", "", account.acc_number or "").upper()
        is_iban = bool(re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{8,30}", number))
        if is_iban:
            number = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
        else:
            number = account.acc_number
        return {
            "account": number,
            "is_iban": is_iban,
            "bic": account.bank_bic or False,
            "bank": account.bank_id.name or False,
        }

    @api.model
    def _get_bank_text(self, company):
        """The payment instruction of a letter, or ``False`` without bank account."""
        bank = self._get_bank_details(company)
        if not bank:
            return False
        if bank["is_iban"] and bank["bic"]:
            return self.env._(
                "Payment by bank transfer to IBAN %(account)s - BIC %(bic)s, quoting "
                "the invoice numbers.",
                account=bank["account"],
                bic=bank["bic"],
            )
        return self.env._(
            "Payment by bank transfer to the account %(account)s, quoting the invoice "
            "numbers.",
            account=" - ".join(filter(None, [bank["account"], bank["bic"]])),
        )
