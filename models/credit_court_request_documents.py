import io
import logging
import re
import time
import zipfile

from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools import pdf

from ..engine.amount_words import amount_in_words

_logger = logging.getLogger(__name__)

REQUEST_REPORT = "l10n_fr_credit_collection.action_report_court_request"
DECOMPTE_REPORT = "l10n_fr_credit_collection.action_report_court_decompte"
BORDEREAU_REPORT = "l10n_fr_credit_collection.action_report_court_bordereau"
INVOICE_REPORT = "account.account_invoices"
LETTER_REPORT = "l10n_fr_credit_collection.action_report_dunning_letter"

# The sections of the claims table, in the order of LAW.md §3.6 point 7.
CLAIM_SECTIONS = (
    ("principal", ("principal",)),
    ("interest", ("interest", "penalty_invoice")),
    ("penal_clause", ("penal_clause",)),
    ("costs", ("indemnity", "compensation", "court_fee", "tae_contribution", "other")),
)

# Commercial courts use the sections of form Cerfa 12946, the tribunal judiciaire
# those of form 12948 (LAW.md §3.6).
COMMERCIAL_COURTS = ("commerce", "tae", "tj_commercial", "mixed_commerce")


def _file_name(value):
    """A file name safe on every platform: no path separator nor reserved sign."""
    return re.sub(r'[\\/:*?"<>|]+', "-", value or "").strip()


class CreditCourtRequest(models.Model):
    """The documents of an injonction de payer request: the request itself, its
    décompte annex, the bordereau des pièces and the whole filing (one PDF, or a
    ZIP of numbered files for online filing).

    The request is printed in French whenever French is installed, whatever the
    customer's or the user's language: it is addressed to a French court (the
    language of the courts is French, ordonnance de Villers-Cotterêts art. 111).
    """

    _inherit = "credit.court.request"

    filing_attachment_id = fields.Many2one(
        "ir.attachment", string="Filing PDF", readonly=True, copy=False
    )

    # ------------------------------------------------------------------ data

    def _get_court_lang(self):
        """French when installed, else the user's language."""
        return self.env["res.lang"]._get_code("fr_FR") or self.env.lang or "en_US"

    def _get_claim_data(self):
        """The one data builder of the request, its décompte annex and its
        bordereau: plain data, in the court's language.

        The request carries the mentions of CPC 1407 (amount with the breakdown of
        its elements, basis, bordereau of the documents), 54 and 57 (identity of
        the parties, court, object, documents, date and signature), in the order of
        the sections of forms Cerfa 12946 and 12948 (LAW.md §3.5, §3.6).
        """
        self.ensure_one()
        request = self.with_context(lang=self._get_court_lang())
        return request._build_claim_data()

    def _build_claim_data(self):
        _ = self.env._
        company = self.company_id.with_env(self.env)
        partner = self.partner_id.commercial_partner_id.with_env(self.env)
        currency = self.currency_id
        # French court: dd/mm/yyyy whatever the language of the database.
        date_format = "%d/%m/%Y"
        parties = self.env["credit.document.parties"]._get_parties(company, partner)
        creditor = dict(parties["creditor"], **self._get_claim_representative())
        debtor = dict(
            parties["debtor"],
            is_company=partner.is_company,
            legal_nature=dict(
                self._fields["debtor_legal_nature"]._description_selection(self.env)
            ).get(self.debtor_legal_nature, False),
        )
        as_of_text = self.as_of_date.strftime(date_format)
        sections = self._get_claim_sections(currency)
        total = currency.round(sum(section["subtotal"] for section in sections))
        total_text = currency.with_env(self.env).format(total)
        total_words = amount_in_words(total, currency.name)
        documents = self._get_claim_documents(date_format)
        court = self._get_claim_court()
        sign_date = self.filed_date or fields.Date.context_today(self)
        return {
            "request": self,
            "company": company,
            "currency": currency,
            "parties": parties,
            "creditor": creditor,
            "agent": self._get_claim_agent(),
            "debtor": debtor,
            "court": court,
            "form": "12946" if self.court_type in COMMERCIAL_COURTS else "12948",
            "as_of": self.as_of_date,
            "as_of_text": as_of_text,
            "request_text": _(
                "%(creditor)s requests, under articles 1405 et seq. of the Code of "
                "Civil Procedure, that an order be made directing %(debtor)s to pay "
                "the sum of %(amount)s (%(words)s), calculated as of %(date)s, "
                "together with the penalties and interest that keep running until "
                "full payment as stated below, and the costs of the proceedings.",
                creditor=creditor["name"],
                debtor=debtor["name"],
                amount=total_text,
                words=total_words,
                date=as_of_text,
            ),
            "referral": {
                "requested": self.referral_requested,
                "court": self.referral_court or court["name"],
                "text": _(
                    "If the debtor opposes the order, the creditor asks that the case "
                    "be referred to %(court)s, which it considers competent "
                    "(article 1408 of the Code of Civil Procedure).",
                    court=self.referral_court or court["name"],
                )
                if self.referral_requested
                else _(
                    "The creditor does not ask for the referral provided for by "
                    "article 1408 of the Code of Civil Procedure."
                ),
            },
            "sections": sections,
            "interest_running_text": self.interest_running_text or False,
            "total": total,
            "total_text": total_text,
            "total_words": total_words,
            "total_label": _("TOTAL as of %(date)s", date=as_of_text),
            "nature": self.claim_nature or self._get_default_claim_nature(date_format),
            "documents": documents,
            "correspondence_address": self.correspondence_address
            or "\n".join([creditor["name"], creditor["address"] or ""]).strip(),
            "place": company.city or company.partner_id.city or "",
            "sign_date": sign_date,
            "sign_date_text": sign_date.strftime(date_format),
            "decompte": self._get_decompte_data(),
        }

    def _get_claim_representative(self):
        """The person who legally represents the creditor and signs (CPC 54 and
        57); ``credit_legal_representative`` is added by the court settings."""
        company = self.company_id
        name = function = False
        if "credit_legal_representative" in company._fields:
            value = company.credit_legal_representative
            if isinstance(value, models.BaseModel):
                name, function = value.name, value.function
            else:
                name = value
        if "credit_legal_representative_function" in company._fields:
            function = company.credit_legal_representative_function or function
        return {"representative": name or False, "representative_function": function}

    def _get_claim_agent(self):
        """The agent (mandataire) filing for the creditor, CPC 1407: ``False`` when
        the creditor files itself. Extension point for a lawyer or an agency."""
        return False

    def _get_claim_court(self):
        _ = self.env._
        labels = dict(self._fields["court_type"]._description_selection(self.env))
        name = self.court_name or labels.get(self.court_type, "")
        return {
            "type": self.court_type,
            "type_label": labels.get(self.court_type, ""),
            "name": name,
            "address": self.court_address or "",
            "addressee": _("To the President of the %(court)s", court=name),
        }

    def _get_claim_sections(self, currency):
        """The claims table, grouped principal, penalties or interest, penal
        clause, accessory costs (LAW.md §3.6 point 7)."""
        _ = self.env._
        titles = {
            "principal": _("Principal"),
            "interest": _("Late-payment penalties or interest"),
            "penal_clause": _("Penal clause"),
            "costs": _("Accessory costs"),
        }
        lines = self.claim_line_ids.sorted(lambda line: (line.sequence, line.id))
        sections = []
        for key, kinds in CLAIM_SECTIONS:
            section_lines = lines.filtered(lambda line, kinds=kinds: line.kind in kinds)
            if not section_lines:
                continue
            sections.append(
                {
                    "key": key,
                    "title": titles[key],
                    "lines": [
                        {
                            "kind": line.kind,
                            "name": line.name,
                            "basis": line.basis or "",
                            "evidence": line.evidence or "",
                            "amount": line.amount,
                            "move": line.move_id,
                        }
                        for line in section_lines
                    ],
                    "subtotal": currency.round(sum(section_lines.mapped("amount"))),
                    "note": self.interest_running_text
                    if key == "interest" and self.interest_running_text
                    else False,
                }
            )
        return sections

    def _get_claim_documents(self, date_format):
        """The included documents of the bordereau, numbered from 1 in their
        order."""
        _ = self.env._
        kinds = dict(
            self.env["credit.court.request.document"]
            ._fields["kind"]
            ._description_selection(self.env)
        )
        documents = self.document_ids.filtered("included").sorted(
            lambda document: (document.sequence, document.id)
        )
        result = []
        for number, document in enumerate(documents, start=1):
            when = document.move_id.invoice_date or document.letter_id.date
            result.append(
                {
                    "number": number,
                    "label": _("Exhibit no. %(number)s", number=number),
                    "name": document.name,
                    "kind": document.kind,
                    "kind_label": kinds.get(document.kind, ""),
                    "date": when,
                    "date_text": when.strftime(date_format) if when else "",
                    "record": document,
                }
            )
        return result

    def _get_default_claim_nature(self, date_format):
        """Nature and origin of the claim when the user wrote none (LAW.md §3.6
        point 8): the invoices and the formal notice."""
        _ = self.env._
        invoices = self.move_ids.filtered(
            lambda move: move.move_type == "out_invoice"
        ).sorted(lambda move: (move.invoice_date or self.as_of_date, move.name))
        text = _(
            "Unpaid invoices for goods sold or services rendered: %(invoices)s.",
            invoices=", ".join(
                _(
                    "%(name)s of %(date)s",
                    name=move.name,
                    date=move.invoice_date.strftime(date_format),
                )
                for move in invoices
                if move.invoice_date
            ),
        )
        letters = self.letter_ids.sorted("date")
        if letters:
            text += " " + _(
                "Formal notice to pay sent on %(dates)s, left unanswered.",
                dates=", ".join(
                    letter.date.strftime(date_format) for letter in letters
                ),
            )
        return text

    def _get_decompte_data(self):
        """The décompte annex: the penalty statement's own builder on the penalty
        lines of the request, and the invoices with their payments."""
        statement_builder = self.env[
            "report.l10n_fr_credit_collection.report_penalty_statement"
        ]
        if self.penalty_line_ids:
            statement = statement_builder._get_statement_data(
                self.partner_id, self.as_of_date, line_ids=self.penalty_line_ids.ids
            )
        else:
            statement = {"currencies": [], "as_of": self.as_of_date}
        return {
            "statement": statement,
            "interest": self.currency_id.round(
                sum(block["interest"] for block in statement["currencies"])
            ),
            **self._get_decompte_invoices(),
        }

    def _get_decompte_invoices(self):
        """Per invoice: reference, date, due date, amount incl. tax, paid and
        balance claimed (the principal lines of the request)."""
        currency = self.currency_id
        claimed = {}
        for line in self.claim_line_ids.filtered(
            lambda line: line.kind in ("principal", "penalty_invoice") and line.move_id
        ):
            claimed[line.move_id] = claimed.get(line.move_id, 0.0) + line.amount
        moves = (self.move_ids | self.claim_line_ids.move_id).filtered(
            lambda move: move.is_invoice(include_receipts=True)
        )
        moves = moves.sorted(
            lambda move: (move.invoice_date or self.as_of_date, move.name or "")
        )
        rows = []
        for move in moves:
            amount = move.amount_total_signed
            balance = claimed.get(move, move.amount_residual_signed)
            rows.append(
                {
                    "name": move.name,
                    "invoice_date": move.invoice_date,
                    "due_date": move.invoice_date_due,
                    "amount": amount,
                    "paid": currency.round(amount - balance),
                    "balance": currency.round(balance),
                }
            )
        return {
            "invoices": rows,
            "invoices_amount": currency.round(sum(row["amount"] for row in rows)),
            "invoices_paid": currency.round(sum(row["paid"] for row in rows)),
            "invoices_balance": currency.round(sum(row["balance"] for row in rows)),
        }

    # ------------------------------------------------------------------ filing

    def _get_filing_parts(self):
        """``[(file name, PDF bytes)]`` of the whole filing in its order: request,
        décompte annex, bordereau, then each included document in bordereau order.

        Each document is rendered on its own (one wkhtmltopdf run per document:
        Debian's build, with an unpatched Qt, returns an empty file for a
        multi-document run). The HTML is rendered here, the wkhtmltopdf runs go in
        parallel (see ``_credit_run_wkhtmltopdf_jobs``). An invoice prints with the
        invoice report, a letter with the letter report, an attached file is
        appended as it is, an image becomes one PDF page; any other file stops the
        filing with a message, since a greffe takes PDF files only.
        """
        self.ensure_one()
        lang = self._get_court_lang()
        _ = self.with_context(lang=lang).env._
        Report = self.env["ir.actions.report"].with_context(lang=lang)
        documents = self.document_ids.filtered("included").sorted(
            lambda document: (document.sequence, document.id)
        )
        self._check_filing_documents(documents)
        # Each part: a label and either PDF bytes or a report to render.
        parts = [
            (_("Request"), (REQUEST_REPORT, self)),
            (_("Statement of the Claim"), (DECOMPTE_REPORT, self)),
            (_("Bordereau"), (BORDEREAU_REPORT, self)),
        ]
        for number, document in enumerate(documents, start=1):
            label = _(
                "Exhibit %(number)s - %(name)s", number=number, name=document.name
            )
            parts.append((label, self._get_document_source(document)))
        jobs = {
            index: source
            for index, (_label, source) in enumerate(parts)
            if isinstance(source, tuple)
        }
        rendered = Report._credit_render_pdf_jobs(jobs)
        return [
            (
                f"{index + 1:02d} {_file_name(label)}.pdf",
                rendered[index] if index in rendered else source,
            )
            for index, (label, source) in enumerate(parts)
        ]

    def _check_filing_documents(self, documents):
        for document in documents:
            attachment = document.attachment_id
            if attachment and not (
                attachment.mimetype == "application/pdf"
                or (attachment.mimetype or "").startswith("image/")
            ):
                raise UserError(
                    self.env._(
                        'The supporting document "%(document)s" of %(request)s is a '
                        "%(type)s file: attach it as a PDF or an image, or untick it.",
                        document=document.name,
                        request=self.display_name,
                        type=attachment.mimetype or "?",
                    )
                )
            if not (attachment or document.move_id or document.letter_id):
                raise UserError(
                    self.env._(
                        'The supporting document "%(document)s" of %(request)s has no '
                        "file: attach one, or untick it.",
                        document=document.name,
                        request=self.display_name,
                    )
                )

    def _get_document_source(self, document):
        """One supporting document: PDF bytes when it exists as a file (its
        attachment, an image made a page; else the invoice as sent to the customer
        when Odoo kept that PDF), else ``(report, record)`` to print."""
        if document.attachment_id:
            return pdf.to_pdf_stream(document.attachment_id).getvalue()
        if document.move_id:
            sent = document.move_id.invoice_pdf_report_id
            if sent:
                return sent.raw
            return (INVOICE_REPORT, document.move_id)
        return (LETTER_REPORT, document.letter_id)

    def _get_filing_file_name(self, extension):
        name = self.with_context(lang=self._get_court_lang()).env._(
            "Injonction de payer %(request)s - %(debtor)s",
            request=self.name,
            debtor=self.partner_id.commercial_partner_id.name,
        )
        return f"{_file_name(name)}.{extension}"

    def _store_filing(self, content, extension, mimetype):
        return self.env["ir.attachment"].create(
            {
                "name": self._get_filing_file_name(extension),
                "raw": content,
                "mimetype": mimetype,
                "res_model": self._name,
                "res_id": self.id,
            }
        )

    def _download_action(self, attachment):
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "self",
        }

    def action_filing_pdf(self):
        """The whole filing as one PDF, kept on the request, downloaded."""
        self.ensure_one()
        start = time.monotonic()
        parts = self._get_filing_parts()
        merged = pdf.merge_pdf([content for _name, content in parts])
        attachment = self._store_filing(merged, "pdf", "application/pdf")
        self.filing_attachment_id = attachment
        _logger.info(
            "Court request %s: filing PDF of %s parts in %.1f s",
            self.name,
            len(parts),
            time.monotonic() - start,
        )
        return self._download_action(attachment)

    def action_filing_zip(self):
        """The filing as separate numbered PDF files, for online filing."""
        self.ensure_one()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in self._get_filing_parts():
                archive.writestr(name, content)
        attachment = self._store_filing(buffer.getvalue(), "zip", "application/zip")
        return self._download_action(attachment)
