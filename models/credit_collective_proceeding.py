"""Collective proceedings of a customer and the declaration of claims.

A safeguard, redressement or liquidation judgment opens the customer's collective
proceedings (LAW.md §11). From the opening day, the claims born before it are
frozen: no reminder, no penalty after the day before the opening, no recovery
indemnity for the payment the proceedings forbade, no court claim; they are
declared to the mandataire judiciaire (the liquidator in a liquidation). Claims
born after the opening are collected normally.
"""

from collections import defaultdict
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, format_date

from ..engine.deadlines import (
    ABROAD,
    METROPOLITAN,
    OVERSEAS,
    declaration_deadline,
    relief_deadline,
    revendication_deadline,
)
from ..engine.penalties import indemnity
from .account_move_penalty import PenaltyBatchReport
from .credit_access import (
    check_collection_user,
    internal,
    is_collection_user,
    is_internal,
)

# Fields of the proceeding that are part of what was declared: once the claims are
# declared, only a Credit Collection manager changes them.
DECLARED_FIELDS = (
    "partner_id",
    "company_id",
    "kind",
    "opening_date",
    "declaration_date",
    "declaration_amount",
)
# Context key carrying, through the penalty computation, which invoices have a
# recorded proceeding (decided here) and which of them had their payment forbidden.
INDEMNITY_CONTEXT_KEY = "credit_collective_indemnity"


class CreditCollectiveProceeding(models.Model):
    """One collective proceeding of a customer: the opening judgment, its BODACC
    publication, the mandataire, and the declaration of claims.

    The declaration is sent within two months of the publication, four for a
    creditor established overseas or abroad (C. com. L622-24, R622-24); late, the
    claims are foreclosed unless the court relieves the creditor within six months
    (L622-26). Goods sold under retention of title are claimed back within three
    months (L624-9). The declaration interrupts prescription (C. civ. 2241)."""

    _name = "credit.collective.proceeding"
    _description = "Collective Proceeding"
    _inherit = ["mail.thread", "credit.legal.deadline.mixin"]
    _order = "opening_date desc, id desc"
    _check_company_auto = True

    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        tracking=True,
        index=True,
        domain="[('parent_id', '=', False)]",
        help="The customer (commercial entity) under collective proceedings.",
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        index=True,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    kind = fields.Selection(
        [
            ("safeguard", "Safeguard"),
            ("reorganisation", "Reorganisation"),
            ("liquidation", "Liquidation"),
        ],
        required=True,
        default="reorganisation",
        tracking=True,
    )
    opening_date = fields.Date(
        string="Opening Judgment",
        required=True,
        tracking=True,
        help="Day of the judgment opening the proceedings: claims born before it "
        "are declared to the mandataire and bear no interest after the day before.",
    )
    publication_date = fields.Date(
        string="BODACC Publication",
        tracking=True,
        help="Day the opening judgment was published in the BODACC: the "
        "declaration deadline runs from it.",
    )
    court = fields.Char(help="The court that opened the proceedings.")
    mandataire_id = fields.Many2one(
        "res.partner",
        string="Mandataire",
        tracking=True,
        help="The mandataire judiciaire, or the liquidator in a liquidation, who "
        "receives the declaration of claims.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        default=lambda self: self.env.user,
        tracking=True,
    )
    creditor_location = fields.Selection(
        [
            (METROPOLITAN, "Metropolitan France"),
            (OVERSEAS, "Overseas"),
            (ABROAD, "Abroad"),
        ],
        string="Creditor Established",
        required=True,
        default=METROPOLITAN,
        help="Where our company is established: a creditor established overseas "
        "or abroad has four months to declare instead of two.",
    )
    retention_of_title = fields.Boolean(
        string="Retention of Title",
        help="Our terms of sale have a retention-of-title clause: the declaration "
        "states it, and the goods are claimed back within three months of the "
        "publication.",
    )
    state = fields.Selection(
        [("open", "Ongoing"), ("declared", "Declared"), ("closed", "Closed")],
        default="open",
        required=True,
        readonly=True,
        tracking=True,
        copy=False,
    )
    declaration_date = fields.Date(
        tracking=True,
        copy=False,
        help="Day the claims were declared to the mandataire (today when left "
        "empty when marking the declaration sent).",
    )
    declaration_amount = fields.Monetary(
        readonly=True,
        copy=False,
        tracking=True,
        help="Total declared, frozen when the declaration was marked sent.",
    )
    declaration_acknowledged_date = fields.Date(
        string="Acknowledged On",
        tracking=True,
        copy=False,
        help="Day the mandataire acknowledged receipt of the declaration.",
    )
    declaration_acknowledgment = fields.Binary(
        string="Acknowledgment", attachment=True, copy=False
    )
    declaration_acknowledgment_name = fields.Char(
        string="Acknowledgment File Name", copy=False
    )
    revendication_date = fields.Date(
        tracking=True,
        copy=False,
        help="Day the goods sold under retention of title were claimed back.",
    )
    declaration_deadline = fields.Date(
        compute="_compute_deadlines",
        help="Last day to declare the claims: two months after the BODACC "
        "publication, four for a creditor overseas or abroad.",
    )
    relief_deadline = fields.Date(
        compute="_compute_deadlines",
        help="Last day to ask the court to be relieved of the foreclosure: six "
        "months after the publication.",
    )
    declaration_late = fields.Boolean(compute="_compute_deadlines")
    note = fields.Html()
    move_ids = fields.Many2many(
        "account.move",
        string="Claims Under the Proceedings",
        compute="_compute_move_ids",
        help="The customer's invoices born before the opening judgment.",
    )
    move_count = fields.Integer(compute="_compute_move_ids")

    # ------------------------------------------------------------------ computes

    @api.depends("kind", "partner_id", "opening_date")
    def _compute_display_name(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for proceeding in self:
            proceeding.display_name = " - ".join(
                part
                for part in (
                    kinds.get(proceeding.kind),
                    proceeding.partner_id.display_name,
                    proceeding.opening_date
                    and format_date(self.env, proceeding.opening_date),
                )
                if part
            )

    @api.depends("publication_date", "creditor_location", "declaration_date")
    def _compute_deadlines(self):
        today = fields.Date.context_today(self)
        for proceeding in self:
            published = proceeding.publication_date
            if not published:
                proceeding.declaration_deadline = False
                proceeding.relief_deadline = False
                proceeding.declaration_late = False
                continue
            deadline = declaration_deadline(
                published, proceeding.creditor_location
            ).date
            proceeding.declaration_deadline = deadline
            proceeding.relief_deadline = relief_deadline(published).date
            proceeding.declaration_late = (proceeding.declaration_date or today) > (
                deadline
            )

    def _compute_move_ids(self):
        Move = self.env["account.move"]
        for proceeding in self:
            moves = proceeding._get_claim_moves() if proceeding.id else Move
            proceeding.move_ids = moves
            proceeding.move_count = len(moves)

    # ------------------------------------------------------------------ checks

    @api.constrains("opening_date", "publication_date")
    def _check_dates(self):
        today = fields.Date.context_today(self)
        for proceeding in self:
            if proceeding.opening_date and proceeding.opening_date > today:
                raise ValidationError(
                    self.env._(
                        "The opening judgment of %(proceeding)s is dated %(date)s, "
                        "after today: enter the date of the judgment already given.",
                        proceeding=proceeding.display_name,
                        date=format_date(self.env, proceeding.opening_date),
                    )
                )
            if (
                proceeding.publication_date
                and proceeding.publication_date < proceeding.opening_date
            ):
                raise ValidationError(
                    self.env._(
                        "The BODACC publication of %(proceeding)s (%(published)s) "
                        "cannot come before the opening judgment (%(opening)s): "
                        "correct one of the two dates.",
                        proceeding=proceeding.display_name,
                        published=format_date(self.env, proceeding.publication_date),
                        opening=format_date(self.env, proceeding.opening_date),
                    )
                )

    @api.constrains("declaration_date", "opening_date")
    def _check_declaration_date(self):
        today = fields.Date.context_today(self)
        for proceeding in self:
            day = proceeding.declaration_date
            if day and (day < proceeding.opening_date or day > today):
                raise ValidationError(
                    self.env._(
                        "The declaration of %(proceeding)s cannot be dated "
                        "%(date)s: it comes after the opening judgment and no later "
                        "than today.",
                        proceeding=proceeding.display_name,
                        date=format_date(self.env, day),
                    )
                )

    @api.constrains("partner_id", "mandataire_id")
    def _check_mandataire(self):
        for proceeding in self:
            if (
                proceeding.mandataire_id
                and proceeding.mandataire_id.commercial_partner_id
                == proceeding.partner_id
            ):
                raise ValidationError(
                    self.env._(
                        "The mandataire of %(proceeding)s cannot be the customer "
                        "itself: choose the mandataire judiciaire or the liquidator.",
                        proceeding=proceeding.display_name,
                    )
                )

    # ------------------------------------------------------------------ CRUD

    @api.model_create_multi
    def create(self, vals_list):
        check_collection_user(self.env, self.env._("Recording collective proceedings"))
        Partner = self.env["res.partner"]
        for vals in vals_list:
            if vals.get("partner_id"):
                vals["partner_id"] = Partner.browse(
                    vals["partner_id"]
                ).commercial_partner_id.id
        proceedings = super().create(vals_list)
        proceedings._sync_partner_flags(proceedings.partner_id)
        proceedings._schedule_deadlines()
        return proceedings

    def write(self, vals):
        if "partner_id" in vals and vals["partner_id"]:
            vals["partner_id"] = (
                self.env["res.partner"]
                .browse(vals["partner_id"])
                .commercial_partner_id.id
            )
        self._check_declared_write(vals)
        partners = self.partner_id
        result = super().write(vals)
        if {"partner_id", "opening_date", "state", "kind"} & vals.keys():
            self._sync_partner_flags(partners | self.partner_id)
        if {
            "publication_date",
            "creditor_location",
            "retention_of_title",
            "revendication_date",
            "user_id",
            "state",
        } & vals.keys():
            self._schedule_deadlines()
        return result

    def _check_declared_write(self, vals):
        """What was declared is never changed by a plain collection user: a
        manager corrects it (the change is tracked in the chatter)."""
        frozen = [fname for fname in DECLARED_FIELDS if fname in vals]
        if (
            not frozen
            or is_internal(self.env)
            or self.env.user.has_group(
                "l10n_fr_credit_collection.group_credit_collection_manager"
            )
        ):
            return
        for proceeding in self.filtered("declaration_amount"):
            raise AccessError(
                self.env._(
                    "The claims of %(proceeding)s were declared: only a Credit "
                    "Collection manager can change what was declared.",
                    proceeding=proceeding.display_name,
                )
            )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_declared(self):
        declared = self.filtered("declaration_amount")[:1]
        if declared:
            raise UserError(
                self.env._(
                    "The claims of %(proceeding)s were declared: the proceeding is "
                    "kept as a record of the declaration. Close it instead.",
                    proceeding=declared.display_name,
                )
            )

    def unlink(self):
        partners = self.partner_id
        result = super().unlink()
        self.env["credit.collective.proceeding"]._sync_partner_flags(partners)
        return result

    @api.model
    def _sync_partner_flags(self, partners):
        """Copy the customer's latest proceeding that is not closed (any company)
        to its ``collective_procedure`` flag and opening date, read by the court
        request and the indemnity."""
        partners = partners.exists()
        if not partners:
            return
        latest = {}
        for proceeding in self.sudo().search(
            [("partner_id", "in", partners.ids), ("state", "!=", "closed")],
            order="opening_date desc, id desc",
        ):
            latest.setdefault(proceeding.partner_id.id, proceeding)
        for partner in partners:
            proceeding = latest.get(partner.id)
            values = {
                "collective_procedure": bool(proceeding),
                "collective_procedure_date": proceeding.opening_date
                if proceeding
                else False,
            }
            if (
                partner.collective_procedure != values["collective_procedure"]
                or partner.collective_procedure_date
                != values["collective_procedure_date"]
            ):
                internal(partner).write(values)

    # ------------------------------------------------------------------ deadlines

    def _schedule_deadlines(self):
        """The declaration and revendication deadlines as activities for the
        responsible user, from the BODACC publication (see the class docstring)."""
        for proceeding in self:
            published = proceeding.publication_date
            if proceeding.state == "open" and published:
                proceeding._schedule_legal_deadline(
                    declaration_deadline(published, proceeding.creditor_location)
                )
            else:
                proceeding._cancel_legal_deadline("declaration")
            if (
                proceeding.state != "closed"
                and published
                and proceeding.retention_of_title
                and not proceeding.revendication_date
            ):
                proceeding._schedule_legal_deadline(revendication_deadline(published))
            elif proceeding.revendication_date:
                proceeding._done_legal_deadline("revendication")
            else:
                proceeding._cancel_legal_deadline("revendication")
            if proceeding.state == "closed":
                proceeding._cancel_legal_deadline("relief")

    def _warn_late_declaration(self):
        """After the deadline the claims are foreclosed (L622-26): the declaration
        is still prepared, with a warning in the chatter and an activity to ask
        for relief within six months of the publication. Returns the warning."""
        self.ensure_one()
        if not self.declaration_late:
            return False
        message = self.env._(
            "The declaration deadline of %(proceeding)s was %(deadline)s: the claims "
            "are foreclosed unless the court relieves you of the foreclosure. Ask "
            "the juge-commissaire for relief no later than %(relief)s.",
            proceeding=self.display_name,
            deadline=format_date(self.env, self.declaration_deadline),
            relief=format_date(self.env, self.relief_deadline),
        )
        self.message_post(body=Markup("<p>%s</p>") % message)
        self._schedule_legal_deadline(relief_deadline(self.publication_date))
        return message

    # ------------------------------------------------------------------ claims

    def _get_claim_moves(self):
        """The posted customer invoices of the customer in this company born before
        the opening judgment, without those a factor collects (the factor is the
        creditor and declares them)."""
        self.ensure_one()
        Move = self.env["account.move"]
        if not self.opening_date:
            return Move
        moves = Move.search(
            [
                ("commercial_partner_id", "=", self.partner_id.id),
                ("company_id", "=", self.company_id.id),
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("credit_claim_birth_date", "<", self.opening_date),
            ],
            order="invoice_date, id",
        )
        return moves - moves._get_factor_collected_moves()

    def _get_declaration_deductions(self):
        """The customer's credit notes and payments received before the opening
        and still unmatched on its eve, with the amount then open: they are set
        off against the claims (related debts, C. com. L622-7), so the claim is
        declared net. One query."""
        self.ensure_one()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT move.id, move.name, COALESCE(move.invoice_date, line.date),
                       -line.balance - COALESCE((
                           SELECT SUM(partial.amount)
                             FROM account_partial_reconcile partial
                            WHERE partial.credit_move_id = line.id
                              AND partial.max_date < %(opening)s), 0)
                  FROM account_move_line line
                  JOIN account_move move ON move.id = line.move_id
                  JOIN account_account account ON account.id = line.account_id
                 WHERE move.commercial_partner_id = %(partner)s
                   AND line.company_id = %(company)s
                   AND line.parent_state = 'posted'
                   AND account.account_type = 'asset_receivable'
                   AND line.balance < 0
                   AND line.date < %(opening)s
                 ORDER BY 3, 1
                """,
                opening=self.opening_date,
                partner=self.partner_id.commercial_partner_id.id,
                company=self.company_id.id,
            )
        )
        currency = self.company_id.currency_id
        moves = self.env["account.move"].browse({row[0] for row in rows})
        collected = set(moves._get_factor_collected_moves().ids)
        return [
            {"name": name, "date": day, "amount": currency.round(amount)}
            for move_id, name, day, amount in rows
            if move_id not in collected and currency.round(amount) > 0
        ]

    def _get_declaration_lang(self):
        """French when installed, else the user's language."""
        return self.env["res.lang"]._get_code("fr_FR") or self.env.lang or "en_US"

    def _get_declaration_data(self, declaration_date=None):
        """The one data builder of the declaration of claims and its bordereau
        (C. com. L622-25, R622-23): the claim as it stood on the day of the
        opening judgment, plain data.

        Per invoice: the principal due on the opening day (the installments due
        on or before it, open at the end of the day before), the amounts still to
        fall due with their due dates, and the interest accrued up to the day
        before the opening, computed by the penalty engine itself (interest stops
        at the opening, L622-28). The 40 EUR indemnity is declared only for an
        invoice paid late in full before the opening (the payment of an invoice
        still open was forbidden by the judgment, L622-7)."""
        self.ensure_one()
        opening = self.opening_date
        eve = opening - timedelta(days=1)
        currency = self.company_id.currency_id
        moves = self._get_claim_moves()
        open_items = moves._get_collective_open_items(
            {move.id: opening for move in moves}
        )
        penalty_moves = moves.filtered(lambda move: not move.is_penalty_invoice)
        penalty_moves -= penalty_moves._get_penalty_excluded_moves()
        penalties = defaultdict(list)
        if penalty_moves:
            for vals in penalty_moves.with_company(
                self.company_id
            )._prepare_penalty_lines(eve):
                penalties[vals["move_id"]].append(vals)
        lines = []
        for move in moves:
            items = open_items.get(move.id, [])
            due = currency.round(
                sum(amount for day, amount in items if day <= opening and amount > 0)
            )
            to_fall_due = [
                {"date": day, "amount": currency.round(amount)}
                for day, amount in sorted(items)
                if day > opening and currency.round(amount) > 0
            ]
            interest_lines = [
                vals for vals in penalties[move.id] if vals["kind"] == "interest"
            ]
            interest = currency.round(sum(vals["amount"] for vals in interest_lines))
            indemnity_amount = currency.round(
                sum(
                    vals["amount"]
                    for vals in penalties[move.id]
                    if vals["kind"] == "indemnity"
                )
            )
            future = currency.round(sum(item["amount"] for item in to_fall_due))
            if not (due or future or interest or indemnity_amount):
                continue
            lines.append(
                {
                    "move": move,
                    "name": move.name,
                    "ref": move.ref or False,
                    "invoice_date": move.invoice_date,
                    "birth_date": move.credit_claim_birth_date,
                    "is_penalty_invoice": move.is_penalty_invoice,
                    "principal_due": due,
                    "to_fall_due": to_fall_due,
                    "to_fall_due_total": future,
                    "interest": interest,
                    "interest_lines": [
                        {
                            "date_from": vals["date_from"],
                            "date_to": vals["date_to"],
                            "days": vals["days"],
                            "base": vals["base_amount"],
                            "rate": vals["rate"],
                            "amount": vals["amount"],
                        }
                        for vals in interest_lines
                    ],
                    "indemnity": indemnity_amount,
                    "total": currency.round(due + future + interest + indemnity_amount),
                }
            )
        totals = {
            key: currency.round(sum(line[key] for line in lines))
            for key in (
                "principal_due",
                "to_fall_due_total",
                "interest",
                "indemnity",
                "total",
            )
        }
        deductions = self._get_declaration_deductions()
        deducted = currency.round(sum(item["amount"] for item in deductions))
        totals["deductions"] = deducted
        totals["gross_due"] = totals["principal_due"]
        totals["principal_due"] = currency.round(totals["principal_due"] - deducted)
        totals["total"] = currency.round(totals["total"] - deducted)
        parties = self.env["credit.document.parties"]
        documents = [
            {"kind": "invoice", "name": line["name"], "date": line["invoice_date"]}
            for line in lines
        ]
        if self.retention_of_title:
            documents.append({"kind": "terms", "name": False, "date": False})
        if any(line["interest"] for line in lines):
            documents.append({"kind": "statement", "name": False, "date": eve})
        user = self.env.user
        return {
            "proceeding": self,
            "kind": self.kind,
            "opening_date": opening,
            "interest_end": eve,
            "publication_date": self.publication_date,
            "court": self.court or False,
            "parties": parties._get_parties(self.company_id, self.partner_id),
            "mandataire": parties._get_debtor_identity(
                self.mandataire_id.commercial_partner_id, self.mandataire_id
            )
            if self.mandataire_id
            else False,
            "lines": lines,
            "deductions": deductions,
            "totals": totals,
            "currency": currency,
            "retention_of_title": self.retention_of_title,
            "date": declaration_date
            or self.declaration_date
            or fields.Date.context_today(self),
            "deadline": self.declaration_deadline,
            "late": self.declaration_late,
            "relief_deadline": self.relief_deadline,
            "signatory": {
                "name": user.name,
                "function": user.partner_id.function or False,
            },
            "documents": documents,
        }

    # ------------------------------------------------------------------ actions

    def _check_can_declare(self):
        check_collection_user(self.env, self.env._("Declaring claims"))
        self.ensure_one()
        if self.state == "closed":
            raise UserError(
                self.env._(
                    "%(proceeding)s is closed: reopen it before declaring claims.",
                    proceeding=self.display_name,
                )
            )

    def action_prepare_declaration(self):
        """Print the declaration of claims; after the deadline, with the warning
        about the relief from foreclosure."""
        self._check_can_declare()
        data = self._get_declaration_data()
        if not data["lines"]:
            raise UserError(
                self.env._(
                    "%(customer)s owes nothing born before the opening judgment of "
                    "%(date)s: there is no claim to declare.",
                    customer=self.partner_id.display_name,
                    date=format_date(self.env, self.opening_date),
                )
            )
        action = self.env.ref(
            "l10n_fr_credit_collection.action_report_claim_declaration"
        ).report_action(self, config=False)
        warning = self._warn_late_declaration()
        if not warning:
            return action
        return self._notification_then(warning, action)

    def _notification_then(self, message, action=None):
        params = {
            "title": self.env._("Declaration after the deadline"),
            "message": message,
            "type": "warning",
            "sticky": True,
        }
        if action:
            params["next"] = action
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": params,
        }

    def action_mark_declared(self):
        """Record the declaration as sent: its date (today unless entered), the
        total declared (frozen), the PDF in the chatter, and the interruption of
        prescription of the declared invoices (C. civ. 2241)."""
        self._check_can_declare()
        if self.state == "declared":
            raise UserError(
                self.env._(
                    "The claims of %(proceeding)s were already declared on %(date)s.",
                    proceeding=self.display_name,
                    date=format_date(self.env, self.declaration_date),
                )
            )
        day = self.declaration_date or fields.Date.context_today(self)
        data = self._get_declaration_data(day)
        if not data["lines"]:
            raise UserError(
                self.env._(
                    "%(customer)s owes nothing born before the opening judgment of "
                    "%(date)s: there is no claim to declare.",
                    customer=self.partner_id.display_name,
                    date=format_date(self.env, self.opening_date),
                )
            )
        self.write(
            {
                "declaration_date": day,
                "declaration_amount": data["totals"]["total"],
                "state": "declared",
            }
        )
        moves = self.env["account.move"].union(
            *(line["move"] for line in data["lines"])
        )
        moves._record_prescription_interruption(day, "declaration", self)
        content, _type = self.env["ir.actions.report"]._render_qweb_pdf(
            "l10n_fr_credit_collection.action_report_claim_declaration", self.ids
        )
        attachment = self.env["ir.attachment"].create(
            {
                "name": self.env._(
                    "Declaration of claims %(date)s.pdf",
                    date=fields.Date.to_string(day),
                ),
                "raw": content,
                "mimetype": "application/pdf",
                "res_model": self._name,
                "res_id": self.id,
            }
        )
        self.message_post(
            body=Markup("<p>%s</p>")
            % self.env._(
                "Claims declared to the mandataire on %(date)s: %(amount)s.",
                date=format_date(self.env, day),
                amount=self.currency_id.format(data["totals"]["total"]),
            ),
            attachment_ids=attachment.ids,
        )
        self._done_legal_deadline("declaration")
        warning = self._warn_late_declaration()
        if warning:
            return self._notification_then(warning)
        return True

    def action_record_revendication(self):
        check_collection_user(self.env, self.env._("Recording a revendication"))
        for proceeding in self.filtered(lambda rec: not rec.revendication_date):
            proceeding.revendication_date = fields.Date.context_today(self)
        return True

    def action_close(self):
        check_collection_user(self.env, self.env._("Closing collective proceedings"))
        self.write({"state": "closed"})
        self._cancel_legal_deadline(["declaration", "revendication", "relief"])
        return True

    def action_reopen(self):
        check_collection_user(self.env, self.env._("Reopening collective proceedings"))
        for proceeding in self:
            proceeding.state = "declared" if proceeding.declaration_amount else "open"
        return True

    def action_view_moves(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [("id", "in", self.move_ids.ids)]
        action["context"] = {"create": False}
        return action


class ResPartner(models.Model):
    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    collective_proceeding_ids = fields.One2many(
        "credit.collective.proceeding",
        "partner_id",
        string="Collective Proceedings List",
    )
    collective_proceeding_count = fields.Integer(
        compute="_compute_collective_proceeding_count"
    )

    def _compute_collective_proceeding_count(self):
        groups = self.env["credit.collective.proceeding"]._read_group(
            [("partner_id", "in", self.commercial_partner_id.ids)],
            ["partner_id"],
            ["__count"],
        )
        counts = {partner.id: count for partner, count in groups}
        for partner in self:
            partner.collective_proceeding_count = counts.get(
                partner.commercial_partner_id.id, 0
            )

    def action_open_collective_proceedings(self):
        """Open a new collective proceeding of the customer."""
        check_collection_user(self.env, self.env._("Recording collective proceedings"))
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Open Collective Proceedings"),
            "res_model": "credit.collective.proceeding",
            "view_mode": "form",
            "target": "current",
            "context": {"default_partner_id": self.commercial_partner_id.id},
        }

    def action_view_collective_proceedings(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "l10n_fr_credit_collection.action_credit_collective_proceeding"
        )
        action["domain"] = [("partner_id", "in", self.commercial_partner_id.ids)]
        action["context"] = {"default_partner_id": self.commercial_partner_id.id}
        return action

    def action_declare_claims(self):
        """Prepare the declaration of claims of the customer's latest proceeding
        that is not closed."""
        check_collection_user(self.env, self.env._("Declaring claims"))
        self.ensure_one()
        proceeding = self.env["credit.collective.proceeding"].search(
            [
                ("partner_id", "=", self.commercial_partner_id.id),
                ("company_id", "=", self.env.company.id),
                ("state", "!=", "closed"),
            ],
            limit=1,
        )
        if not proceeding:
            raise UserError(
                self.env._(
                    "%(customer)s has no collective proceedings open in %(company)s: "
                    "record them first with Open Collective Proceedings.",
                    customer=self.commercial_partner_id.display_name,
                    company=self.env.company.display_name,
                )
            )
        return proceeding.action_prepare_declaration()


class AccountMove(models.Model):
    _inherit = "account.move"  # pylint: disable=consider-merging-classes-inherited

    credit_claim_birth_date = fields.Date(
        string="Claim Born On",
        compute="_compute_credit_claim_birth_date",
        store=True,
        readonly=False,
        precompute=True,
        copy=False,
        tracking=True,
        help="Day the claim was born (the invoice date unless corrected): a claim "
        "born before the opening judgment of the customer's collective proceedings "
        "is declared to the mandataire, no longer dunned nor claimed in court.",
    )
    credit_collective_opening_date = fields.Date(
        string="Under Proceedings Opened On",
        compute="_compute_credit_collective_opening_date",
        help="The claim was born before the opening judgment of this day: declare "
        "it to the mandataire.",
    )

    @api.depends("invoice_date")
    def _compute_credit_claim_birth_date(self):
        for move in self:
            move.credit_claim_birth_date = move.invoice_date

    def _compute_credit_collective_opening_date(self):
        openings = self._origin._get_collective_openings() if self._origin else {}
        for move in self:
            move.credit_collective_opening_date = openings.get(move._origin.id, False)

    # Only the Credit Collection groups correct the birth date; following the
    # invoice date (its default) is no change.
    @api.model_create_multi
    def create(self, vals_list):
        if not (is_collection_user(self.env) or is_internal(self.env)):
            for vals in vals_list:
                given = fields.Date.to_date(vals.get("credit_claim_birth_date"))
                if given and given != fields.Date.to_date(vals.get("invoice_date")):
                    raise AccessError(
                        self.env._(
                            "Only the Credit Collection users can set %(fields)s on "
                            "a new %(model)s: leave them empty and ask a credit "
                            "collection user.",
                            fields=self._fields[
                                "credit_claim_birth_date"
                            ]._description_string(self.env),
                            model=self._description,
                        )
                    )
        return super().create(vals_list)

    def write(self, vals):
        if "credit_claim_birth_date" in vals and not (
            is_collection_user(self.env) or is_internal(self.env)
        ):
            new = fields.Date.to_date(vals["credit_claim_birth_date"])
            for move in self:
                following = (
                    fields.Date.to_date(vals["invoice_date"])
                    if "invoice_date" in vals
                    else move.invoice_date
                )
                if new not in (move.credit_claim_birth_date, following):
                    raise AccessError(
                        self.env._(
                            "Only the Credit Collection users can change %(fields)s "
                            "of %(record)s: ask a credit collection user to do it.",
                            fields=self._fields[
                                "credit_claim_birth_date"
                            ]._description_string(self.env),
                            record=move.display_name,
                        )
                    )
        return super().write(vals)

    # ------------------------------------------------------------ under proceedings

    @api.model
    def _collective_openings_sql(self, move_ids=None):
        """``SELECT move_id, opening_date``: the customer documents born before the
        opening judgment of a proceeding of their customer that is not closed
        (recorded, or only flagged on the customer with its date), with the
        earliest such opening. One query whatever the number of documents.

        The opening judgment forbids the payment of earlier claims and stops the
        individual actions of their creditors (C. com. L622-7, L622-21)."""
        self.env["credit.collective.proceeding"].flush_model(
            ["partner_id", "opening_date", "state"]
        )
        self.env["res.partner"].flush_model(
            ["collective_procedure", "collective_procedure_date"]
        )
        self.flush_model(
            [
                "commercial_partner_id",
                "credit_claim_birth_date",
                "invoice_date",
                "date",
                "move_type",
            ]
        )
        restriction = (
            SQL("AND move.id = ANY(%s)", list(move_ids))
            if move_ids is not None
            else SQL()
        )
        return SQL(
            """
            SELECT move.id AS move_id, MIN(opening.opening_date) AS opening_date
              FROM account_move move
              JOIN (SELECT proceeding.partner_id, proceeding.opening_date
                      FROM credit_collective_proceeding proceeding
                     WHERE proceeding.state != 'closed'
                 UNION ALL
                    SELECT partner.id, partner.collective_procedure_date
                      FROM res_partner partner
                     WHERE partner.collective_procedure
                       AND partner.collective_procedure_date IS NOT NULL
                   ) opening ON opening.partner_id = move.commercial_partner_id
             WHERE move.move_type IN ('out_invoice', 'out_refund')
               AND COALESCE(move.credit_claim_birth_date, move.invoice_date, move.date)
                   < opening.opening_date
               %s
          GROUP BY move.id
            """,
            restriction,
        )

    def _get_collective_openings(self):
        """``{move id: opening date}`` of the documents of ``self`` under
        collective proceedings (see :meth:`_collective_openings_sql`)."""
        if not self.ids:
            return {}
        return dict(self.env.execute_query(self._collective_openings_sql(self.ids)))

    def _get_collective_open_items(self, openings):
        """``{move id: [(due date, amount open at the end of the day before the
        opening)]}`` of the installments of these invoices, in two queries."""
        installments = self._read_penalty_installments(PenaltyBatchReport())
        settlements = self._read_penalty_settlements(installments)
        result = defaultdict(list)
        for item in installments:
            opening = openings.get(item.move_id)
            if not opening:
                continue
            paid = sum(
                amount for day, amount in settlements.get(item.id, []) if day < opening
            )
            result[item.move_id].append(
                (item.date_maturity, item.amount_currency - paid)
            )
        return result

    # ------------------------------------------------------------------ effects

    def _get_court_exclusion_reason(self):
        """Claims born before the opening judgment are declared to the mandataire,
        never claimed in court (C. com. L622-21, L622-24)."""
        reasons = super()._get_court_exclusion_reason()
        for move_id, opening in self._get_collective_openings().items():
            reasons.setdefault(
                move_id,
                self.env._(
                    "it was born before the opening judgment of %(date)s of the "
                    "customer's collective proceedings: declare it to the mandataire "
                    "instead.",
                    date=format_date(self.env, opening),
                ),
            )
        return reasons

    def _get_penalty_end_dates(self):
        """Interest stops at the opening judgment (C. com. L622-28): penalties of a
        claim born before it run up to the day before, and no later."""
        end_dates = super()._get_penalty_end_dates()
        for move_id, opening in self._get_collective_openings().items():
            eve = opening - timedelta(days=1)
            end_dates[move_id] = min(end_dates.get(move_id, eve), eve)
        return end_dates

    def _prepare_penalty_lines(self, as_of, report=None):
        """Decide the indemnity of the invoices whose customer has a recorded
        proceeding (see :meth:`_prepare_indemnity_line_vals`), in two queries."""
        decisions = self._get_collective_indemnity_decisions()
        moves = (
            self.with_context(**{INDEMNITY_CONTEXT_KEY: decisions})
            if decisions
            else self
        )
        return super(AccountMove, moves)._prepare_penalty_lines(as_of, report)

    def _get_collective_indemnity_decisions(self):
        """``(decided ids, forbidden ids)``: the invoices of customers with a
        recorded proceeding that is not closed, and among them those whose payment
        the judgment forbade (born before the opening and still open the day
        before it). Empty when no customer of ``self`` has one."""
        if not self.ids:
            return ()
        Proceeding = self.env["credit.collective.proceeding"].sudo()
        # Plain reads: the number of queries does not grow with the invoices.
        self.flush_model(["commercial_partner_id"])
        partner_ids = [
            row[0]
            for row in self.env.execute_query(
                SQL(
                    "SELECT DISTINCT commercial_partner_id FROM account_move "
                    "WHERE id = ANY(%s)",
                    self.ids,
                )
            )
        ]
        with_proceedings = {
            partner.id
            for [partner] in Proceeding._read_group(
                [("partner_id", "in", partner_ids), ("state", "!=", "closed")],
                ["partner_id"],
            )
        }
        if not with_proceedings:
            return ()
        decided = self.search(
            [
                ("id", "in", self.ids),
                ("commercial_partner_id", "in", list(with_proceedings)),
            ]
        )
        openings = decided._get_collective_openings()
        under = decided.browse(list(openings))
        open_items = under._get_collective_open_items(openings)
        forbidden = tuple(
            move_id
            for move_id, items in open_items.items()
            if sum(amount for _day, amount in items) > 0.005
        )
        return (tuple(decided.ids), forbidden)

    def _prepare_indemnity_line_vals(self, debtor_type, any_late):
        """The 40 EUR indemnity is not due for a payment the proceedings forbade
        (D441-5 and the opening judgment, L622-7): none for an invoice born before
        the opening and still open at it; one for an invoice paid late in full
        before the opening, and for an invoice born after it, even though the
        customer is flagged in collective proceedings. A customer flagged without
        a recorded proceeding keeps the flag's rule: no indemnity at all."""
        vals_list = super()._prepare_indemnity_line_vals(debtor_type, any_late)
        decisions = self.env.context.get(INDEMNITY_CONTEXT_KEY)
        if not decisions or self.id not in decisions[0]:
            return vals_list
        if self.id in decisions[1]:
            return []
        amount = indemnity(debtor_type == "professional", any_late, False)
        if vals_list or not amount:
            return vals_list
        return [
            {
                "company_id": self.company_id.id,
                "move_id": self.id,
                "partner_id": self.commercial_partner_id.id,
                "kind": "indemnity",
                "state": "draft",
                "amount": float(amount),
                "currency_id": self.company_id.currency_id.id,
            }
        ]


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _get_dunning_excluded_domain(self):
        """The items of claims born before the opening judgment of the customer's
        collective proceedings are no longer dunned (C. com. L622-7, L622-21);
        one sub-select whatever their number."""
        under = self.env["account.move"]._collective_openings_sql()
        return [
            *super()._get_dunning_excluded_domain(),
            ("move_id", "not in", SQL("(SELECT under.move_id FROM (%s) under)", under)),
        ]


class CreditCollectionDemo(models.AbstractModel):
    _inherit = "credit.collection.demo"  # pylint: disable=consider-merging-classes-inherited

    def _load_demo_followups(self, partners, moves):
        """Hôtel du Port in redressement judiciaire, opened 20 days ago and
        published in the BODACC 10 days ago."""
        result = super()._load_demo_followups(partners, moves)
        today = fields.Date.context_today(self)
        mandataire = self.env["res.partner"].create(
            {
                "name": "SELARL Fontaine & Associés, mandataire judiciaire",
                "is_company": True,
                "street": "20 rue Paradis",
                "zip": "13001",
                "city": "Marseille",
                "country_id": self.env.ref("base.fr").id,
            }
        )
        self.env["credit.collective.proceeding"].sudo().create(
            {
                "partner_id": partners[3].id,
                "company_id": self.env.company.id,
                "kind": "reorganisation",
                "opening_date": today - timedelta(days=20),
                "publication_date": today - timedelta(days=10),
                "court": "Tribunal de commerce de Marseille",
                "mandataire_id": mandataire.id,
                "retention_of_title": True,
                "user_id": self.env.user.id,
            }
        )
        return result
