"""The European order for payment and the small-claims procedure on a court
request: their fields, steps and documents (issue 9, parts 3 and 4)."""

import logging

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools.misc import format_date

from ..engine.deadlines import Deadline, small_claims_deadline
from .credit_access import check_collection_user

_logger = logging.getLogger(__name__)

# Form A, section 3: the grounds of the court's jurisdiction a creditor in France
# can invoke against a debtor in another member state (Reg. (EU) 1215/2012:
# art. 7(1) place of performance, art. 7(5) branch, art. 25 choice of court).
# Code, then the wording of the French version of the form (the document is
# printed in French only).
EOP_JURISDICTIONS = [
    ("02", "02 - Place of performance of the obligation"),
    ("04", "04 - Place of the branch, agency or other establishment"),
    ("12", "12 - Choice of court agreed by the parties"),
    ("14", "14 - Other"),
]
EOP_JURISDICTION_FR = {
    "02": "Lieu d'exécution de l'obligation en question",
    "04": "Lieu de la succursale, de l'agence ou de tout autre établissement",
    "12": "Choix de la juridiction convenu par les parties",
    "14": "Autres (préciser)",
}
# Form A, section 6: the cause of action.
EOP_CAUSES = [
    ("01", "01 - Sale contract"),
    ("02", "02 - Rental of movable property"),
    ("07", "07 - Service contract: transport"),
    ("08", "08 - Service contract: legal, tax and technical advice"),
    ("10", "10 - Service contract: repairs"),
    ("12", "12 - Service contract: other"),
    ("13", "13 - Building contract"),
    ("25", "25 - Other"),
]
EOP_CAUSE_FR = {
    "01": "Contrat de vente",
    "02": "Contrat de location de biens mobiliers",
    "07": "Contrat de services - transport",
    "08": "Contrat de services - conseil juridique, fiscal et technique",
    "10": "Contrat de services - réparations",
    "12": "Contrat de services - autres",
    "13": "Contrat de construction",
    "25": "Autres (préciser)",
}
# Form A, sections 6, 7, 9 and 10: the other codes the document uses.
EOP_CIRCUMSTANCE_NON_PAYMENT = ("30", "Non-paiement")
EOP_CIRCUMSTANCE_PARTIAL = ("31", "Paiement insuffisant")
EOP_INTEREST_STATUTORY = ("01", "Légal")
EOP_INTEREST_CALCULATED = ("05", "Montant calculé par le demandeur")
EOP_PERIOD_ANNUAL = ("A", "Annuel")
EOP_COST_COURT_FEES = ("01", "Frais de procédure")
EOP_COST_OTHER = ("02", "Autres (préciser)")
EOP_EVIDENCE_DOCUMENTARY = ("01", "Preuve documentaire")

# The claim kinds in the four amount sections of form A (6 principal, 7 interest,
# 8 contractual penalties, 9 costs): together they are the whole claim.
EOP_SECTION_KINDS = {
    "principal": ("principal",),
    "interest": ("interest", "penalty_invoice"),
    "penalties": ("penal_clause",),
    "costs": ("indemnity", "compensation", "court_fee", "tae_contribution", "other"),
}
# The small-claims steps in the case's step log (credit.court.request.step).
SMALL_CLAIMS_LOG_STEPS = {
    "sent": "filed",
    "letter": "small_claims_letter",
    "agreement": "small_claims_agreement",
    "failed": "small_claims_failed",
}
# What the small-claims threshold counts: principal and interest, the penalties
# included, the costs excluded (CPCE R125-1).
SMALL_CLAIMS_KINDS = ("principal", "interest", "penalty_invoice", "penal_clause")


class CreditCourtRequest(models.Model):
    """The European order for payment (Reg. (EC) 1896/2006, as amended by Reg.
    (EU) 2015/2421; French rules CPC 1424-1 to 1424-15) and the small-claims
    procedure of a commissaire de justice (CPCE L125-1, R125-1 to R125-8) on a
    court request.

    The European order is applied for on form A only (art. 7): the request prints
    form A's fields in the form's order and numbering, to copy into the official
    form. The small-claims procedure is a consensual step before the court: sent
    to a commissaire de justice, who writes to the debtor (the procedure lasts one
    month from that letter); an agreement on the amount and the schedule becomes
    an enforceable title (L125-1), a failure opens the injonction de payer and
    meets the prior amicable attempt of CPC 750-1 (exemption 5°).
    """

    _inherit = "credit.court.request"  # pylint: disable=consider-merging-classes-inherited

    # ------------------------------------------------------------ European order
    eop_jurisdiction = fields.Selection(
        EOP_JURISDICTIONS,
        string="Grounds of Jurisdiction",
        help="Form A, section 3: why the French court has jurisdiction over a "
        "debtor established in another member state (Regulation (EU) 1215/2012).",
    )
    eop_cause = fields.Selection(
        EOP_CAUSES,
        string="Cause of Action",
        help="Form A, section 6: the contract the claim arises from.",
    )
    eop_additional_statements = fields.Text(
        string="Additional Statements",
        help="Form A, section 11: further information for the court.",
    )
    # ------------------------------------------------------------ small claims
    commissaire_id = fields.Many2one(
        "res.partner",
        string="Commissaire de Justice",
        check_company=True,
        tracking=True,
        help="The commissaire de justice who runs the small-claims procedure: he "
        "or she must be established in the area of the court of appeal of the "
        "debtor's domicile (CPCE R125-1).",
    )
    small_claims_letter_date = fields.Date(
        string="Commissaire's Letter Date",
        tracking=True,
        copy=False,
        help="Date of the commissaire de justice's registered or electronic letter "
        "to the debtor: the debtor has one month from it to agree.",
    )
    small_claims_agreement_date = fields.Date(
        string="Agreement Date", tracking=True, copy=False
    )
    small_claims_failure_date = fields.Date(
        string="Failure Date", tracking=True, copy=False
    )
    small_claims_failure_reason = fields.Text(
        string="Failure Reason", tracking=True, copy=False
    )
    agreement_line_ids = fields.One2many(
        "credit.court.agreement.line",
        "request_id",
        string="Agreed Schedule",
        copy=False,
    )
    agreement_amount = fields.Monetary(
        string="Amount Agreed", compute="_compute_agreement_amounts"
    )
    agreement_paid = fields.Monetary(
        string="Paid Under the Agreement", compute="_compute_agreement_amounts"
    )

    @api.depends("agreement_line_ids.amount", "agreement_line_ids.paid_amount")
    def _compute_agreement_amounts(self):
        for request in self:
            request.agreement_amount = sum(request.agreement_line_ids.mapped("amount"))
            request.agreement_paid = sum(
                request.agreement_line_ids.mapped("paid_amount")
            )

    @api.constrains("small_claims_letter_date", "filed_date")
    def _check_small_claims_letter_date(self):
        today = fields.Date.context_today(self)
        for request in self.filtered("small_claims_letter_date"):
            letter = request.small_claims_letter_date
            if letter > today:
                raise ValidationError(
                    self.env._(
                        "The commissaire's letter of %(request)s is dated %(date)s, "
                        "a day in the future: enter the date it was sent.",
                        request=request.display_name,
                        date=format_date(self.env, letter),
                    )
                )
            if request.filed_date and letter < request.filed_date:
                raise ValidationError(
                    self.env._(
                        "The commissaire's letter of %(request)s (%(date)s) cannot "
                        "precede the sending of the request to the commissaire "
                        "(%(sent)s): correct the date.",
                        request=request.display_name,
                        date=format_date(self.env, letter),
                        sent=format_date(self.env, request.filed_date),
                    )
                )

    def write(self, vals):
        if "small_claims_letter_date" in vals:
            not_sent = self.filtered(
                lambda request: request.procedure != "small_claims"
                or request.state != "filed"
            )
            if not_sent and vals["small_claims_letter_date"]:
                raise UserError(
                    self.env._(
                        "%(request)s is not a small-claims request sent to a "
                        "commissaire de justice: send it first, then record the "
                        "commissaire's letter.",
                        request=not_sent[0].display_name,
                    )
                )
        result = super().write(vals)
        if vals.get("small_claims_letter_date"):
            for request in self:
                request._schedule_legal_deadline(
                    small_claims_deadline(request.small_claims_letter_date)
                )
                request._log_procedure_step(
                    "letter",
                    request.small_claims_letter_date,
                    self.env._(
                        "The commissaire de justice wrote to the debtor on %(date)s: "
                        "the one-month window ends on %(end)s.",
                        date=format_date(self.env, request.small_claims_letter_date),
                        end=format_date(
                            self.env,
                            small_claims_deadline(
                                request.small_claims_letter_date
                            ).date,
                        ),
                    ),
                )
        return result

    # ------------------------------------------------------------ labels

    @api.model
    def _legal_deadline_labels(self):
        labels = super()._legal_deadline_labels()
        _ = self.env._
        labels["agreement_enforcement"] = (
            _("Enforce the small-claims agreement"),
            _(
                "An installment of the agreement reached before the commissaire de "
                "justice is unpaid. The agreement is an enforceable title: instruct "
                "a commissaire de justice to enforce it (the customer is not dunned "
                "again)."
            ),
        )
        return labels

    # ------------------------------------------------------------ small-claims steps

    def _check_small_claims(self, states, action):
        check_collection_user(self.env, action)
        for request in self:
            if request.procedure != "small_claims":
                raise UserError(
                    self.env._(
                        "%(request)s is not a small-claims request.",
                        request=request.display_name,
                    )
                )
            if request.state not in states:
                raise UserError(
                    self.env._(
                        "%(request)s is %(state)s: this step does not apply to it.",
                        request=request.display_name,
                        state=dict(
                            request._fields["state"]._description_selection(self.env)
                        )[request.state],
                    )
                )

    def _check_step_date(self, day, label, not_before=None, not_before_label=None):
        """A step's date: given, not in the future, not before ``not_before``."""
        self.ensure_one()
        if not day:
            raise UserError(
                self.env._(
                    "Enter the %(date)s of %(request)s first.",
                    date=label,
                    request=self.display_name,
                )
            )
        if day > fields.Date.context_today(self):
            raise UserError(
                self.env._(
                    "The %(date)s of %(request)s (%(day)s) is in the future: enter "
                    "the day it happened.",
                    date=label,
                    request=self.display_name,
                    day=format_date(self.env, day),
                )
            )
        if not_before and day < not_before:
            raise UserError(
                self.env._(
                    "The %(date)s of %(request)s (%(day)s) cannot precede the "
                    "%(other)s (%(other_day)s): correct it.",
                    date=label,
                    request=self.display_name,
                    day=format_date(self.env, day),
                    other=not_before_label,
                    other_day=format_date(self.env, not_before),
                )
            )

    def action_small_claims_send(self):
        """The request goes to the commissaire de justice (CPCE R125-1)."""
        self._check_small_claims(("draft",), self.env._("Sending a small claim"))
        today = fields.Date.context_today(self)
        for request in self:
            if not request.commissaire_id:
                raise UserError(
                    self.env._(
                        "Choose the commissaire de justice of %(request)s first.",
                        request=request.display_name,
                    )
                )
            request.write({"state": "filed", "filed_date": today})
            request._log_procedure_step(
                "sent",
                today,
                self.env._(
                    "Small-claims request sent to the commissaire de justice "
                    "%(commissaire)s.",
                    commissaire=request.commissaire_id.display_name,
                ),
            )
        return True

    def action_small_claims_agreement(self):
        """The debtor agreed on the amount and the schedule: the commissaire issues
        an enforceable title (CPCE L125-1)."""
        self._check_small_claims(("filed",), self.env._("Recording an agreement"))
        for request in self:
            letter = request.small_claims_letter_date
            request._check_step_date(
                letter,
                self.env._("commissaire's letter date"),
            )
            day = request.small_claims_agreement_date
            request._check_step_date(
                day,
                self.env._("agreement date"),
                letter,
                self.env._("commissaire's letter"),
            )
            end = small_claims_deadline(letter).date
            if day > end:
                raise UserError(
                    self.env._(
                        "The agreement of %(request)s (%(day)s) comes after the "
                        "one-month window of the procedure, which ended on "
                        "%(end)s: record the attempt as failed.",
                        request=request.display_name,
                        day=format_date(self.env, day),
                        end=format_date(self.env, end),
                    )
                )
            lines = request.agreement_line_ids
            if not lines:
                raise UserError(
                    self.env._(
                        "Enter the agreed schedule of %(request)s (date and amount "
                        "of each installment) first.",
                        request=request.display_name,
                    )
                )
            early = lines.filtered(lambda line, day=day: line.date < day)
            if early:
                raise UserError(
                    self.env._(
                        "The installment of %(date)s of %(request)s falls before "
                        "the agreement date: correct the schedule.",
                        date=format_date(self.env, early[0].date),
                        request=request.display_name,
                    )
                )
            request.write({"state": "enforceable"})
            request._done_legal_deadline("small_claims")
            request._log_procedure_step(
                "agreement",
                day,
                self.env._(
                    "Agreement reached before the commissaire de justice on "
                    "%(date)s: %(count)s installments, %(amount)s. The agreement "
                    "is an enforceable title.",
                    date=format_date(self.env, day),
                    count=len(lines),
                    amount=request.currency_id.format(request.agreement_amount),
                ),
            )
        return True

    def action_small_claims_failed(self):
        """The debtor refused or did not answer within the month."""
        self._check_small_claims(("filed",), self.env._("Recording a failure"))
        for request in self:
            day = request.small_claims_failure_date
            start = request.small_claims_letter_date or request.filed_date
            request._check_step_date(
                day,
                self.env._("failure date"),
                start,
                self.env._("commissaire's letter")
                if request.small_claims_letter_date
                else self.env._("sending to the commissaire"),
            )
            if not (request.small_claims_failure_reason or "").strip():
                raise UserError(
                    self.env._(
                        "Enter why the small-claims attempt of %(request)s failed "
                        "(refusal, no answer within the month...).",
                        request=request.display_name,
                    )
                )
            request.write({"state": "failed"})
            request._cancel_legal_deadline("small_claims")
            request._log_procedure_step(
                "failed",
                day,
                self.env._(
                    "Small-claims attempt failed on %(date)s: %(reason)s",
                    date=format_date(self.env, day),
                    reason=request.small_claims_failure_reason,
                ),
            )
        return True

    def action_prepare_injonction_after_failure(self):
        """The court request wizard on the invoices of a failed small claim still
        open, knowing that the attempt failed (CPC 750-1, 5°)."""
        self.ensure_one()
        self._check_small_claims(("failed",), self.env._("Preparing a court request"))
        moves = self.move_ids.filtered(
            lambda move: move.move_type == "out_invoice"
            and move.state == "posted"
            and move.payment_state in ("not_paid", "partial")
        )
        if not moves:
            raise UserError(
                self.env._(
                    "Every invoice of %(request)s is paid: there is nothing left to "
                    "claim.",
                    request=self.display_name,
                )
            )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Prepare an Injonction de Payer"),
            "res_model": "credit.court.request.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {
                "active_model": "account.move",
                "active_ids": moves.ids,
                "default_failed_small_claims_id": self.id,
            },
        }

    def _log_procedure_step(self, step, day, message):
        """A line in the chatter and one in the case's step log."""
        self.ensure_one()
        self.message_post(body=Markup("<p>%s</p>") % message)
        if hasattr(self, "_log_court_step"):
            self._log_court_step(SMALL_CLAIMS_LOG_STEPS[step], day, message)

    # ------------------------------------------------------------ agreement follow-up

    def _get_missed_installments(self, on_date=None):
        """``{request: first unpaid installment due before on_date}``."""
        on_date = on_date or fields.Date.context_today(self)
        missed = {}
        for request in self:
            late = request.agreement_line_ids.filtered(
                lambda line: not line.paid and line.date < on_date
            ).sorted("date")
            if late:
                missed[request] = late[0]
        return missed

    def _schedule_agreement_enforcement(self, on_date=None):
        """An unpaid installment of an agreement (an enforceable title, CPCE
        L125-1) leads to enforcement, never back to dunning: one activity per
        request, due today."""
        on_date = on_date or fields.Date.context_today(self)
        requests = self.filtered(
            lambda request: request.procedure == "small_claims"
            and request.state == "enforceable"
        )
        missed = requests._get_missed_installments(on_date)
        for request, line in missed.items():
            request._schedule_legal_deadline(
                Deadline(
                    on_date,
                    "agreement_enforcement",
                    "CPCE L125-1, L111-3",
                    "an unpaid installment of a small-claims agreement is enforced",
                )
            )
            request.message_post(
                body=Markup("<p>%s</p>")
                % self.env._(
                    "The installment of %(date)s (%(amount)s) is unpaid: the "
                    "agreement is to be enforced.",
                    date=format_date(self.env, line.date),
                    amount=request.currency_id.format(line.amount - line.paid_amount),
                )
            )
        return list(missed)

    @api.model
    def _cron_small_claims_agreements(self):
        requests = self.search(
            [("procedure", "=", "small_claims"), ("state", "=", "enforceable")]
        )
        requests._schedule_agreement_enforcement()
        return True

    def _get_amount_received_since_claim(self):
        """``{request: amount}``: per request, the claimed balance of its invoices
        less their balance today (the payments and credit notes matched since)."""
        result = {}
        for request in self:
            claimed = {}
            for line in request.claim_line_ids:
                if line.kind in ("principal", "penalty_invoice") and line.move_id:
                    if line.move_id.move_type in ("out_invoice",):
                        claimed[line.move_id] = (
                            claimed.get(line.move_id, 0.0) + line.amount
                        )
            result[request] = request.currency_id.round(
                sum(
                    max(amount - move.amount_residual, 0.0)
                    for move, amount in claimed.items()
                )
            )
        return result

    # ------------------------------------------------------------ documents

    def _check_procedure(self, procedure, label):
        wrong = self.filtered(lambda request: request.procedure != procedure)
        if wrong:
            raise UserError(
                self.env._(
                    "%(request)s is not a %(procedure)s: print its own documents.",
                    request=wrong[0].display_name,
                    procedure=label,
                )
            )

    def _get_form_a_data(self):
        """The one data builder of the European order's form A document: the claim
        of ``_get_claim_data`` laid out in the sections of form A (Annex I of Reg.
        (EC) 1896/2006 as replaced by Commission Delegated Regulation (EU)
        2017/1260), in French."""
        self.ensure_one()
        self._check_procedure("european_order", self.env._("European order"))
        claim = self._get_claim_data()
        request = self.with_context(lang=self._get_court_lang())
        return request._build_form_a_data(claim)

    def _build_form_a_data(self, claim):
        company = self.company_id
        partner = self.partner_id.commercial_partner_id
        currency = self.currency_id
        date_format = "%d/%m/%Y"
        lines = self.claim_line_ids.sorted(lambda line: (line.sequence, line.id))

        def section_lines(key):
            kinds = EOP_SECTION_KINDS[key]
            return lines.filtered(lambda line: line.kind in kinds)

        def day(value):
            return value.strftime(date_format) if value else ""

        cause = self.eop_cause or "25"
        principal = []
        for number, line in enumerate(section_lines("principal"), start=1):
            move = line.move_id
            paid_part = (
                move.move_type == "out_invoice"
                and currency.compare_amounts(line.amount, move.amount_total) < 0
            )
            circumstance = (
                EOP_CIRCUMSTANCE_PARTIAL if paid_part else EOP_CIRCUMSTANCE_NON_PAYMENT
            )
            dates = ""
            if move.invoice_date:
                dates = f"Facture du {day(move.invoice_date)}"
                if move.invoice_date_due and move.move_type == "out_invoice":
                    dates += f", échue le {day(move.invoice_date_due)}"
            principal.append(
                {
                    "id": number,
                    "code": cause if line.amount > 0 else "",
                    "cause": EOP_CAUSE_FR[cause] if line.amount > 0 else "",
                    "circumstance": circumstance if line.amount > 0 else False,
                    "explanation": line.name,
                    "basis": line.basis or "",
                    "dates": dates,
                    "amount": line.amount,
                    "move": move,
                }
            )
        principal_by_move = {row["move"]: row["id"] for row in principal if row["move"]}
        penalty_lines = self.penalty_line_ids.filtered(
            lambda penalty: penalty.kind == "interest"
        )
        interest = []
        for line in section_lines("interest"):
            move = line.move_id
            if line.kind == "interest":
                periods = penalty_lines.filtered(
                    lambda penalty, move=move: penalty.move_id == move
                )
                rates = sorted(set(periods.mapped("rate")))
                interest.append(
                    {
                        "id": principal_by_move.get(move, ""),
                        "code": EOP_INTEREST_STATUTORY,
                        "rate": " ; ".join(
                            f"{rate:.2f}".replace(".", ",") for rate in rates
                        ),
                        "above_ecb": "",
                        "period": EOP_PERIOD_ANNUAL,
                        "from": day(
                            min(filter(None, periods.mapped("date_from")), default=None)
                        ),
                        "to": day(
                            max(
                                filter(None, periods.mapped("date_to")),
                                default=self.as_of_date,
                            )
                        ),
                        "explanation": line.name,
                        "basis": line.basis or "",
                        "amount": line.amount,
                    }
                )
            else:
                interest.append(
                    {
                        "id": principal_by_move.get(move, ""),
                        "code": EOP_INTEREST_CALCULATED,
                        "rate": "",
                        "above_ecb": "",
                        "period": False,
                        "from": "",
                        "to": day(move.invoice_date),
                        "explanation": line.name,
                        "basis": line.basis or "",
                        "amount": line.amount,
                    }
                )
        penalties = [
            {
                "explanation": line.name,
                "basis": line.basis or "",
                "date": claim["as_of_text"],
                "amount": line.amount,
            }
            for line in section_lines("penalties")
        ]
        costs = [
            {
                "code": EOP_COST_COURT_FEES
                if line.kind == "court_fee"
                else EOP_COST_OTHER,
                "explanation": line.name,
                "basis": line.basis or "",
                "amount": line.amount,
            }
            for line in section_lines("costs")
        ]
        amounts = {
            key: currency.round(sum(section_lines(key).mapped("amount")))
            for key in EOP_SECTION_KINDS
        }
        evidence = [
            {
                "code": EOP_EVIDENCE_DOCUMENTARY,
                "date": document["date_text"],
                "description": document["name"],
            }
            for document in claim["documents"]
        ]
        bank = company.partner_id.bank_ids[:1]
        statements = [
            text
            for text in (
                self.eop_additional_statements,
                self.interest_running_text,
                "Les éléments de preuve ne sont pas joints à la demande (article 7, "
                "paragraphe 2, point e), du règlement) : ils sont décrits à la "
                "rubrique 10 et seront produits sur demande de la juridiction.",
            )
            if text
        ]
        court = claim["court"]
        return {
            "claim": claim,
            "request": self,
            "currency": currency,
            "court": {
                "name": court["name"],
                "address": court["address"],
                "country": "France",
            },
            "claimant": {
                "code": "01",
                "name": claim["creditor"]["name"],
                "identification": claim["creditor"]["siren"] or company.vat or "",
                "street": ", ".join(
                    filter(
                        None, [company.partner_id.street, company.partner_id.street2]
                    )
                ),
                "zip": company.partner_id.zip or "",
                "city": company.partner_id.city or "",
                "country": company.partner_id.country_id.name or "France",
                "phone": company.phone or "",
                "email": company.email or "",
            },
            "claimant_representative": {
                "code": "05",
                "name": claim["creditor"]["representative"],
                "function": claim["creditor"]["representative_function"] or "",
            }
            if claim["creditor"]["representative"]
            else False,
            "agent": claim["agent"],
            "defendant": {
                "code": "02",
                "name": partner.name,
                "identification": partner.vat or "",
                "street": ", ".join(filter(None, [partner.street, partner.street2])),
                "zip": partner.zip or "",
                "city": partner.city or "",
                "country": partner.country_id.name or "",
                "phone": partner.phone or "",
                "email": partner.email or "",
            },
            "jurisdiction": {
                "code": self.eop_jurisdiction or "",
                "label": EOP_JURISDICTION_FR.get(self.eop_jurisdiction, ""),
            },
            "cross_border": {
                "claimant": company.partner_id.country_id.name or "France",
                "defendant": partner.country_id.name or "",
                "court": "France",
            },
            "bank": {
                "holder": bank.partner_id.name or company.name,
                "bank": bank.bank_id.name or "",
                "bic": bank.bank_bic or "",
                "iban": bank.acc_number or "",
            }
            if bank
            else False,
            "currency_code": currency.name,
            "principal": principal,
            "interest": interest,
            "penalties": penalties,
            "costs": costs,
            "amounts": amounts,
            "total": currency.round(sum(amounts.values())),
            "evidence": evidence,
            "statements": statements,
            "place": claim["place"],
            "sign_date_text": claim["sign_date_text"],
            "signatory": claim["creditor"]["representative"] or "",
        }

    def _get_small_claims_data(self):
        """The one data builder of the request to the commissaire de justice: the
        claim of ``_get_claim_data`` (same lines, same figures), the commissaire,
        the part of the claim the 5,000 EUR threshold counts."""
        self.ensure_one()
        self._check_procedure(
            "small_claims", self.env._("small-claims procedure request")
        )
        claim = self._get_claim_data()
        currency = self.currency_id
        commissaire = self.commissaire_id.with_context(lang=self._get_court_lang())
        parties = self.env["credit.document.parties"]
        principal_interest = currency.round(
            sum(
                self.claim_line_ids.filtered(
                    lambda line: line.kind in SMALL_CLAIMS_KINDS
                ).mapped("amount")
            )
        )
        return {
            "claim": claim,
            "request": self,
            "currency": currency,
            "commissaire": {
                "name": commissaire.name or "",
                "address": parties._get_one_line_address(commissaire)
                if commissaire
                else "",
            },
            "principal_interest": principal_interest,
            "letter_date_text": self.small_claims_letter_date.strftime("%d/%m/%Y")
            if self.small_claims_letter_date
            else "",
        }


class CreditCourtAgreementLine(models.Model):
    """One installment of an agreement reached in the small-claims procedure.

    Paid from the payments received on the claimed invoices since the claim was
    computed, applied to the installments oldest first."""

    _name = "credit.court.agreement.line"
    _description = "Small-Claims Agreement Installment"
    _order = "request_id, date, id"
    _check_company_auto = True

    request_id = fields.Many2one(
        "credit.court.request", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(
        related="request_id.company_id", store=True, index=True
    )
    currency_id = fields.Many2one(related="request_id.currency_id")
    date = fields.Date(string="Due Date", required=True)
    amount = fields.Monetary(required=True)
    paid_amount = fields.Monetary(compute="_compute_paid")
    paid = fields.Boolean(compute="_compute_paid")

    _sql_constraints = [
        (
            "amount_positive",
            "CHECK(amount > 0)",
            "An installment of an agreement must be a positive amount.",
        )
    ]

    @api.depends("amount", "date", "request_id.move_ids.amount_residual")
    def _compute_paid(self):
        received = self.request_id._get_amount_received_since_claim()
        for request in self.request_id:
            available = received.get(request, 0.0)
            for line in request.agreement_line_ids.sorted(
                lambda line: (line.date, line.id)
            ):
                part = min(line.amount, max(available, 0.0))
                available -= part
                if line in self:
                    line.paid_amount = part
                    line.paid = (
                        request.currency_id.compare_amounts(part, line.amount) >= 0
                    )
        for line in self.filtered(lambda line: not line.request_id):
            line.paid_amount = 0.0
            line.paid = False

    def write(self, vals):
        locked = self.filtered(lambda line: line.request_id.state != "filed")
        if locked and set(vals) & {"date", "amount", "request_id"}:
            raise UserError(
                self.env._(
                    "The schedule of %(request)s is part of an agreement that is an "
                    "enforceable title: it can no longer be changed.",
                    request=locked[0].request_id.display_name,
                )
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_agreed(self):
        if any(line.request_id.state == "enforceable" for line in self):
            raise UserError(
                self.env._(
                    "An installment of an agreement reached before the commissaire "
                    "de justice cannot be deleted."
                )
            )


class CreditCourtRequestStep(models.Model):
    _inherit = "credit.court.request.step"  # pylint: disable=consider-merging-classes-inherited

    step = fields.Selection(
        selection_add=[
            ("small_claims_letter", "Commissaire's Letter"),
            ("small_claims_agreement", "Agreement Reached"),
            ("small_claims_failed", "Attempt Failed"),
        ],
        ondelete={
            "small_claims_letter": "cascade",
            "small_claims_agreement": "cascade",
            "small_claims_failed": "cascade",
        },
    )


class CreditCollectionDemo(models.AbstractModel):
    _inherit = "credit.collection.demo"  # pylint: disable=consider-merging-classes-inherited

    def _load_demo_followups(self, partners, moves):
        """A small-claims case for the consumer Sophie Bernard."""
        result = super()._load_demo_followups(partners, moves)
        consumer = partners[4]
        invoice = moves.filtered(
            lambda move: move.commercial_partner_id == consumer
            and move.move_type == "out_invoice"
        )[:1]
        if not invoice:
            return result
        # Robust on any day: a missing reference rate (penalties) skips the case
        # rather than the whole demo.
        try:
            with self.env.cr.savepoint():
                self._load_demo_small_claims(consumer, invoice)
        except UserError as error:
            _logger.info("Demo small-claims case skipped: %s", error)
        return result

    def _load_demo_small_claims(self, consumer, invoice):
        """The consumer's invoice sent to a commissaire de justice of the court of
        appeal of Rennes (Nantes), whose letter went out today: the one-month
        window runs."""
        commissaire = self.env["res.partner"].create(
            {
                "name": "Maître Yann Le Goff, commissaire de justice",
                "is_company": True,
                "street": "10 rue de Strasbourg",
                "zip": "44000",
                "city": "Nantes",
                "country_id": self.env.ref("base.fr").id,
                "email": "etude.legoff@example.com",
            }
        )
        today = fields.Date.context_today(self)
        wizard = (
            self.env["credit.court.request.wizard"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create(
                {
                    "procedure": "small_claims",
                    "commissaire_id": commissaire.id,
                    "correspondence_confirmed": True,
                    "as_of_date": today,
                }
            )
        )
        # The demo company may lack an identity mention a filing needs: the demo
        # case is created anyway, its findings recorded on it.
        request = wizard._create_request(wizard._get_findings())
        request.action_small_claims_send()
        request.small_claims_letter_date = today
        return request
