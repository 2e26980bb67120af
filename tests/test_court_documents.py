import html
import io
import logging
import re
import time
import zipfile
from datetime import date

from PIL import Image

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged
from odoo.tools.misc import formatLang
from odoo.tools.pdf import PdfFileReader, PdfFileWriter

from ..engine.amount_words import amount_in_words
from .common import CreditCollectionCommon

_logger = logging.getLogger(__name__)

REQUEST = "l10n_fr_credit_collection.action_report_court_request"
DECOMPTE = "l10n_fr_credit_collection.action_report_court_decompte"
BORDEREAU = "l10n_fr_credit_collection.action_report_court_bordereau"
AS_OF = date(2025, 9, 30)


def blank_pdf(pages=1):
    writer = PdfFileWriter()
    for _page in range(pages):
        writer.addBlankPage(595, 842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def small_png():
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), "white").save(buffer, format="PNG")
    return buffer.getvalue()


class CourtDocumentsCommon(CreditCollectionCommon):
    """A request filled by hand (not by the wizard): two invoices, their penalty
    lines, a claim of every kind and four supporting documents, one not ticked."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write(
            {
                "street": "12 rue des Tanneurs",
                "zip": "33000",
                "city": "Bordeaux",
                "siret": "73282932000074",
                "rcs_city": "Bordeaux",
                "legal_form": "SAS",
                "share_capital": 50000,
                "vat": "FR44732829320",
            }
        )
        if "credit_legal_representative" in cls.company._fields:
            cls.company.credit_legal_representative = "Claire Lefèvre"
        cls.customer.write(
            {
                "street": "3 place du Marché",
                "zip": "69002",
                "city": "Lyon",
                "country_id": cls.env.ref("base.fr").id,
                "siret": "55208131766522",
            }
        )
        cls.invoice_a = cls.make_invoice(amount=5000, due=date(2025, 5, 31))
        cls.pay(cls.invoice_a, 2000, on=date(2025, 8, 20))
        cls.invoice_b = cls.make_invoice(amount=1234.56, due=date(2025, 7, 31))
        invoices = cls.invoice_a | cls.invoice_b
        cls.penalty_lines = invoices.compute_late_penalties(AS_OF)
        interest = cls.penalty_lines.filtered(lambda line: line.kind == "interest")
        cls.interest_amount = round(sum(interest.mapped("amount")), 2)
        letters = cls.env["credit.dunning.run"].create(
            {"date": AS_OF, "company_id": cls.company.id}
        )
        letters.action_compute()
        cls.letter = letters.letter_ids.filtered(
            lambda letter: letter.partner_id == cls.customer
        )
        cls.request = cls.make_request(invoices)

    @classmethod
    def make_request(cls, invoices, attachments=True, name="IP/2025/0001"):
        claim = [
            Command.create(
                {
                    "sequence": index,
                    "kind": "principal",
                    "move_id": move.id,
                    "name": f"Invoice {move.name}",
                    "basis": "Sale of goods, general terms of sale",
                    "evidence": f"Exhibit no. {index}",
                    "amount": move.amount_residual,
                }
            )
            for index, move in enumerate(invoices, start=1)
        ]
        claim += [
            Command.create(
                {
                    "sequence": 100,
                    "kind": "interest",
                    "name": "Late-payment penalties",
                    "basis": "art. L441-10 C. com.",
                    "evidence": "Statement annexed",
                    "amount": cls.interest_amount,
                }
            ),
            Command.create(
                {
                    "sequence": 110,
                    "kind": "penal_clause",
                    "name": "Penal clause 10 %",
                    "basis": "art. 12 of the general terms of sale",
                    "amount": 150.0,
                }
            ),
            Command.create(
                {
                    "sequence": 120,
                    "kind": "indemnity",
                    "name": f"Fixed recovery indemnity 40 EUR x {len(invoices)}",
                    "basis": "art. L441-10 and D441-5 C. com.",
                    "amount": 40.0 * len(invoices),
                }
            ),
            Command.create(
                {
                    "sequence": 130,
                    "kind": "court_fee",
                    "name": "Court registry fee",
                    "basis": "art. R743-140 C. com.",
                    "amount": 33.47,
                }
            ),
        ]
        documents = [
            Command.create(
                {
                    "sequence": index,
                    "kind": "invoice",
                    "name": f"Invoice {move.name}",
                    "move_id": move.id,
                }
            )
            for index, move in enumerate(invoices, start=1)
        ]
        if attachments:
            Attachment = cls.env["ir.attachment"]
            terms = Attachment.create(
                {"name": "cgv.pdf", "raw": blank_pdf(2), "mimetype": "application/pdf"}
            )
            receipt = Attachment.create(
                {"name": "ar.png", "raw": small_png(), "mimetype": "image/png"}
            )
            documents += [
                Command.create(
                    {
                        "sequence": 50,
                        "kind": "contract",
                        "name": "General terms of sale signed",
                        "attachment_id": terms.id,
                    }
                ),
                Command.create(
                    {
                        "sequence": 55,
                        "kind": "formal_notice",
                        "name": "Formal notice",
                        "letter_id": cls.letter.id,
                    }
                ),
                Command.create(
                    {
                        "sequence": 60,
                        "kind": "receipt",
                        "name": "Acknowledgment of receipt",
                        "attachment_id": receipt.id,
                    }
                ),
                Command.create(
                    {
                        "sequence": 70,
                        "kind": "other",
                        "name": "Internal memo not produced",
                        "included": False,
                    }
                ),
            ]
        return cls.env["credit.court.request"].create(
            {
                "name": name,
                "partner_id": cls.customer.id,
                "as_of_date": AS_OF,
                "court_type": "tae",
                "court_name": "Tribunal des activités économiques de Lyon",
                "court_address": "44 rue de Bonnel\n69003 Lyon",
                "referral_requested": True,
                "referral_court": "Tribunal des activités économiques de Lyon",
                "correspondence_address": "12 rue des Tanneurs, 33000 Bordeaux",
                "move_ids": [Command.set(invoices.ids)],
                "penalty_line_ids": [Command.set(cls.penalty_lines.ids)],
                "claim_line_ids": claim,
                "document_ids": documents,
                "interest_running_text": "Penalties keep running at 12.15 % a year "
                "until full payment.",
                "claim_nature": "Sale of bakery equipment under order 4512.",
            }
        )

    def render(self, report, record=None):
        content = self.env["ir.actions.report"]._render_qweb_html(
            report, (record or self.request).ids
        )[0]
        text = html.unescape(re.sub(r"<[^>]+>", "", content.decode()))
        return re.sub(r"\s+", " ", text)


@tagged("post_install", "-at_install")
class TestCourtDocuments(CourtDocumentsCommon):
    def money(self, amount):
        return formatLang(self.env, amount)

    def test_claim_data(self):
        data = self.request._get_claim_data()
        self.assertEqual(
            [section["key"] for section in data["sections"]],
            ["principal", "interest", "penal_clause", "costs"],
        )
        total = round(3000 + 1234.56 + self.interest_amount + 150 + 80 + 33.47, 2)
        self.assertEqual(data["total"], total)
        self.assertEqual(data["total_words"], amount_in_words(total, "EUR"))
        self.assertEqual(data["creditor"]["siren"], "732 829 320")
        self.assertEqual(data["debtor"]["siren"], "552 081 317")
        self.assertEqual(data["form"], "12946")
        # Included documents only, numbered from 1 in their order.
        self.assertEqual(
            [(doc["number"], doc["name"]) for doc in data["documents"]],
            [
                (1, f"Invoice {self.invoice_a.name}"),
                (2, f"Invoice {self.invoice_b.name}"),
                (3, "General terms of sale signed"),
                (4, "Formal notice"),
                (5, "Acknowledgment of receipt"),
            ],
        )
        # The per-invoice table: paid and balance from the claim's principal lines.
        self.assertEqual(
            [
                (row["name"], row["amount"], row["paid"], row["balance"])
                for row in data["decompte"]["invoices"]
            ],
            [
                (self.invoice_a.name, 5000.0, 2000.0, 3000.0),
                (self.invoice_b.name, 1234.56, 0.0, 1234.56),
            ],
        )

    def test_annex_penalties_equal_the_request_line(self):
        """The décompte annex is the penalty statement's builder on the request's
        penalty lines: its total is the request's penalties line."""
        data = self.request._get_claim_data()
        statement = self.env[
            "report.l10n_fr_credit_collection.report_penalty_statement"
        ]._get_statement_data(self.customer, AS_OF, line_ids=self.penalty_lines.ids)
        self.assertEqual(
            data["decompte"]["statement"]["currencies"][0]["interest"],
            statement["currencies"][0]["interest"],
        )
        interest_line = self.request.claim_line_ids.filtered(
            lambda line: line.kind == "interest"
        )
        self.assertTrue(interest_line.amount)
        self.assertEqual(data["decompte"]["interest"], interest_line.amount)
        rows = [
            row["amount"]
            for invoice in data["decompte"]["statement"]["currencies"][0]["invoices"]
            for item in invoice["installments"]
            for row in item["rows"]
        ]
        interest = self.penalty_lines.filtered(lambda line: line.kind == "interest")
        self.assertEqual(sorted(rows), sorted(interest.mapped("amount")))

    def test_request_report(self):
        content = self.render(REQUEST)
        data = self.request._get_claim_data()
        for text in (
            "REQUEST FOR AN ORDER FOR PAYMENT (INJONCTION DE PAYER)",
            "articles 1405 et seq.",
            "To the President of the Tribunal des activités économiques de Lyon",
            "44 rue de Bonnel",
            "RCS Bordeaux 732 829 320",
            "SAS with a share capital of",
            "Boulangerie Martin",
            "SIREN 552 081 317",
            "3 place du Marché",
            "requests, under articles 1405 et seq. of the Code of Civil Procedure, "
            "that an order be made directing Boulangerie Martin to pay",
            "1408",
            "☒",
            "Penalties keep running at 12.15 % a year",
            "Sale of bakery equipment under order 4512.",
            "art. L441-10 and D441-5 C. com.",
            "Exhibit no. 1",
            "Exhibit no. 5",
            "TOTAL as of 30/09/2025",
            "30/09/2025",
            "12 rue des Tanneurs, 33000 Bordeaux",
            f"Done at Bordeaux, on {date.today().strftime('%d/%m/%Y')}",
            data["total_words"],
        ):
            self.assertIn(text, content)
        for line in self.request.claim_line_ids:
            self.assertIn(self.money(line.amount), content)
        self.assertIn(self.money(data["total"]), content)
        self.assertNotIn("Internal memo not produced", content)
        self.assertNotIn("Exhibit no. 6", content)
        if "credit_legal_representative" in self.company._fields:
            self.assertIn("Claire Lefèvre", content)

    def test_request_without_referral_nor_agent(self):
        self.request.referral_requested = False
        content = self.render(REQUEST)
        self.assertIn(
            "does not ask for the referral provided for by article 1408", content
        )
        self.assertIn("☐", content)
        self.assertNotIn("☒", content)
        self.assertIn("None: the creditor files the request itself.", content)

    def test_decompte_report(self):
        content = self.render(DECOMPTE)
        data = self.request._get_claim_data()
        self.assertIn("STATEMENT OF THE CLAIM", content)
        self.assertIn("Tribunal des activités économiques de Lyon", content)
        for row in data["decompte"]["invoices"]:
            self.assertIn(row["name"], content)
        self.assertIn("31/05/2025", content)  # due date, French format
        for line in self.penalty_lines:
            self.assertIn(self.money(line.amount), content)
        self.assertIn(self.money(data["decompte"]["interest"]), content)
        self.assertIn(self.money(data["total"]), content)

    def test_bordereau_report(self):
        content = self.render(BORDEREAU)
        self.assertIn("LIST OF SUPPORTING DOCUMENTS", content)
        for number, name in (
            (1, f"Invoice {self.invoice_a.name}"),
            (2, f"Invoice {self.invoice_b.name}"),
            (3, "General terms of sale signed"),
            (4, "Formal notice"),
            (5, "Acknowledgment of receipt"),
        ):
            self.assertIn(f"Exhibit no. {number}", content)
            self.assertIn(name, content)
        self.assertNotIn("Internal memo not produced", content)
        self.assertLess(
            content.index(f"Invoice {self.invoice_b.name}"),
            content.index("General terms of sale signed"),
        )

    def test_request_is_printed_in_french_when_installed(self):
        """A court request goes to a French court: French when fr_FR is installed,
        whatever the user's language."""
        self.assertNotEqual(self.request._get_court_lang(), "fr_FR")
        self.env["res.lang"]._activate_lang("fr_FR")
        self.assertEqual(self.request._get_court_lang(), "fr_FR")
        data = self.request._get_claim_data()
        self.assertEqual(data["request"].env.lang, "fr_FR")

    def test_filing_parts_order(self):
        """Request, annex, bordereau, then the ticked documents in bordereau order;
        files are taken as they are, an image becomes a PDF page (in test mode
        the reports come out as HTML)."""
        parts = self.request._get_filing_parts()
        self.assertEqual(
            [name for name, _content in parts],
            [
                "01 Request.pdf",
                "02 Statement of the Claim.pdf",
                "03 Bordereau.pdf",
                f"04 Exhibit 1 - Invoice {self.invoice_a.name.replace('/', '-')}.pdf",
                f"05 Exhibit 2 - Invoice {self.invoice_b.name.replace('/', '-')}.pdf",
                "06 Exhibit 3 - General terms of sale signed.pdf",
                "07 Exhibit 4 - Formal notice.pdf",
                "08 Exhibit 5 - Acknowledgment of receipt.pdf",
            ],
        )
        contents = dict(parts)
        self.assertEqual(
            contents["06 Exhibit 3 - General terms of sale signed.pdf"],
            self.request.document_ids.filtered(
                lambda document: document.kind == "contract"
            ).attachment_id.raw,
        )
        image = contents["08 Exhibit 5 - Acknowledgment of receipt.pdf"]
        self.assertTrue(image.startswith(b"%PDF"))
        self.assertIn(b"REQUEST FOR AN ORDER FOR PAYMENT", contents["01 Request.pdf"])
        self.assertIn(
            self.letter.name.encode(), contents["07 Exhibit 4 - Formal notice.pdf"]
        )

    def test_filing_refuses_a_file_a_greffe_cannot_take(self):
        document = self.env["ir.attachment"].create(
            {
                "name": "memo.docx",
                "raw": b"PK\x03\x04 not a pdf",
                "mimetype": "application/vnd.openxmlformats-officedocument."
                "wordprocessingml.document",
            }
        )
        self.request.document_ids[-1].write(
            {"attachment_id": document.id, "included": True}
        )
        count = self.env["ir.attachment"].search_count([])
        with self.assertRaisesMessage(UserError, "attach it as a PDF or an image"):
            self.request.action_filing_pdf()
        self.assertEqual(self.env["ir.attachment"].search_count([]), count)


@tagged("post_install", "-at_install")
class TestCourtFilingPdf(CourtDocumentsCommon, HttpCase):
    """Real PDFs: wkhtmltopdf fetches the report assets from the running server,
    which only an HttpCase provides."""

    def test_filing_pdf_and_zip(self):
        request = self.request.with_context(force_report_rendering=True)
        action = request.action_filing_pdf()
        attachment = request.filing_attachment_id
        self.assertEqual(action["url"], f"/web/content/{attachment.id}?download=true")
        self.assertEqual(attachment.mimetype, "application/pdf")
        merged = PdfFileReader(io.BytesIO(attachment.raw), strict=False)
        # request, décompte, bordereau, 2 invoices, terms (2 pages), formal
        # notice, receipt image
        self.assertGreaterEqual(merged.getNumPages(), 9)

        action = request.action_filing_zip()
        archive_attachment = self.env["ir.attachment"].browse(
            int(action["url"].split("/")[3].split("?")[0])
        )
        with zipfile.ZipFile(io.BytesIO(archive_attachment.raw)) as archive:
            names = archive.namelist()
            name_a = self.invoice_a.name.replace("/", "-")
            name_b = self.invoice_b.name.replace("/", "-")
            self.assertEqual(
                names,
                [
                    "01 Request.pdf",
                    "02 Statement of the Claim.pdf",
                    "03 Bordereau.pdf",
                    f"04 Exhibit 1 - Invoice {name_a}.pdf",
                    f"05 Exhibit 2 - Invoice {name_b}.pdf",
                    "06 Exhibit 3 - General terms of sale signed.pdf",
                    "07 Exhibit 4 - Formal notice.pdf",
                    "08 Exhibit 5 - Acknowledgment of receipt.pdf",
                ],
            )
            for name in names:
                content = archive.read(name)
                self.assertTrue(content.startswith(b"%PDF"), name)
            terms = PdfFileReader(io.BytesIO(archive.read(names[5])), strict=False)
            self.assertEqual(terms.getNumPages(), 2)

    def test_filing_of_fifty_invoices(self):
        """Performance (issue 8): the filing PDF of 50 invoices in under 30 s."""
        invoices = self.env["account.move"]
        for index in range(50):
            invoices |= self.make_invoice(
                amount=100 + index, due=date(2025, 6, 30), post=False
            )
        invoices.action_post()
        request = self.make_request(invoices, attachments=False, name="IP/2025/0050")
        start = time.monotonic()
        request.with_context(force_report_rendering=True).action_filing_pdf()
        elapsed = time.monotonic() - start
        pages = PdfFileReader(
            io.BytesIO(request.filing_attachment_id.raw), strict=False
        ).getNumPages()
        self.assertGreaterEqual(pages, 53)
        _logger.info("Filing PDF of 50 invoices: %.1f s, %s pages", elapsed, pages)
        self.assertLess(elapsed, 30, f"filing of 50 invoices took {elapsed:.1f} s")
