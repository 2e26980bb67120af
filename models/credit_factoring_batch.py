from psycopg2 import errors

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, mute_logger

from ..engine import factoring as engine

SLIP_REPORT = "l10n_fr_credit_collection.action_report_factoring_batch"
SEND_TEMPLATE = "l10n_fr_credit_collection.mail_template_factoring_batch"
# The formats each file-format choice of a contract produces; each format ``fmt`` is
# written by the batch method ``_export_<fmt>(data)``. A factor-specific format is
# one more selection value on the contract, one engine exporter and one method.
FILE_FORMATS = {"xlsx_csv": ("xlsx", "csv")}
# What a batch reads of its items, in one query.
ITEM_FIELDS = [
    "name",
    "move_type",
    "state",
    "company_id",
    "currency_id",
    "invoice_date",
    "invoice_date_due",
    "amount_residual",
    "commercial_partner_id",
    "factoring_contract_id",
    "factoring_excluded",
    "factoring_batch_id",
    "dunning_hold",
    "dunning_hold_type",
    "dunning_hold_until",
    "ref",
    "invoice_origin",
]


class CreditFactoringBatch(models.Model):
    """One transfer of assigned items to the factor (bordereau de cession).

    A draft batch gathers the open items of its contract up to its date; confirming
    it locks them (an item is in at most one confirmed batch) and produces, from one
    data builder (``_get_batch_data``), the files of the contract's format and the
    PDF slip, stored as attachments of the batch.
    """

    _name = "credit.factoring.batch"
    _description = "Factoring Transfer Batch"
    _inherit = ["mail.thread"]
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(required=True, readonly=True, copy=False, default="/")
    contract_id = fields.Many2one(
        "credit.factoring.contract",
        required=True,
        index=True,
        check_company=True,
        tracking=True,
    )
    kind = fields.Selection(related="contract_id.kind")
    factor_id = fields.Many2one(related="contract_id.factor_id", string="Factor")
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="contract_id.currency_id", store=True)
    date = fields.Date(required=True, default=fields.Date.context_today, tracking=True)
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("confirmed", "Confirmed"),
            ("sent", "Sent"),
            ("cancelled", "Cancelled"),
        ],
        default="draft",
        required=True,
        index=True,
        tracking=True,
        copy=False,
    )
    move_ids = fields.Many2many(
        "account.move",
        "credit_factoring_batch_move_rel",
        "batch_id",
        "move_id",
        string="Documents",
        check_company=True,
        copy=False,
    )
    held_move_ids = fields.Many2many(
        "account.move",
        "credit_factoring_batch_held_move_rel",
        "batch_id",
        "move_id",
        string="Left Out",
        copy=False,
        help="Assigned items left out of the batch: under a dispute hold, or in "
        "another currency than the contract's.",
    )
    warning = fields.Text(readonly=True, copy=False)
    item_count = fields.Integer(string="Items", readonly=True, copy=False)
    amount_invoices = fields.Monetary(string="Invoices", readonly=True, copy=False)
    amount_credit_notes = fields.Monetary(
        string="Credit Notes", readonly=True, copy=False
    )
    amount_total = fields.Monetary(string="Total", readonly=True, copy=False)
    file_ids = fields.Many2many(
        "ir.attachment",
        "credit_factoring_batch_attachment_rel",
        "batch_id",
        "attachment_id",
        string="Files",
        readonly=True,
        copy=False,
    )

    # ------------------------------------------------------------------ CRUD

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = (
                    self.env["ir.sequence"].next_by_code("credit.factoring.batch")
                    or "/"
                )
        batches = super().create(vals_list)
        batches._collect()
        return batches

    def write(self, vals):
        if {"contract_id", "date", "move_ids"} & set(vals) and self.filtered(
            lambda batch: batch.state != "draft"
        ):
            raise UserError(
                self.env._(
                    "The contract, date and items of a confirmed batch cannot "
                    "change: cancel it and prepare a new one."
                )
            )
        result = super().write(vals)
        if {"contract_id", "date"} & set(vals):
            self._collect()
        return result

    @api.ondelete(at_uninstall=False)
    def _unlink_only_draft_or_cancelled(self):
        for batch in self:
            if batch.state in ("confirmed", "sent"):
                raise UserError(
                    self.env._(
                        "Batch %(batch)s has been confirmed: it cannot be deleted. "
                        "Cancel it first (only possible before it is sent).",
                        batch=batch.name,
                    )
                )

    # ------------------------------------------------------------------ collect

    def _get_candidate_domain(self):
        """The assigned, posted, open items of the batch's contract not yet
        transferred, dated up to the batch date. Designed to be inherited."""
        self.ensure_one()
        return [
            ("company_id", "=", self.company_id.id),
            ("factoring_contract_id", "=", self.contract_id.id),
            ("state", "=", "posted"),
            ("move_type", "in", ("out_invoice", "out_refund")),
            ("amount_residual", "!=", 0),
            ("factoring_batch_id", "=", False),
            ("factoring_excluded", "=", False),
            ("invoice_date", "<=", self.date),
        ]

    def _is_disputed(self, move):
        """An item on a dispute hold is not transferred: the factor buys
        undisputed receivables only."""
        return (
            move.dunning_hold
            and move.dunning_hold_type == "dispute"
            and (not move.dunning_hold_until or move.dunning_hold_until >= self.date)
        )

    def action_collect(self):
        self.check_access("write")
        self._collect()
        return True

    def _collect(self):
        """(Re)gather the items of draft batches: one search per batch, whatever
        the number of items."""
        Move = self.env["account.move"]
        for batch in self.filtered(lambda b: b.state == "draft"):
            candidates = Move.search_fetch(
                batch._get_candidate_domain(), ITEM_FIELDS, order="invoice_date, id"
            )
            held = candidates.filtered(batch._is_disputed)
            foreign = (candidates - held).filtered(
                lambda move, batch=batch: move.currency_id != batch.currency_id
            )
            items = candidates - held - foreign
            batch._check_debtors(items)
            lines = []
            if held:
                lines.append(
                    self.env._(
                        "Left out, on a dispute hold: %(items)s",
                        items=", ".join(held.mapped("name")),
                    )
                )
            if foreign:
                lines.append(
                    self.env._(
                        "Left out, in another currency than the contract's "
                        "(%(currency)s): %(items)s",
                        currency=batch.currency_id.name,
                        items=", ".join(foreign.mapped("name")),
                    )
                )
            totals = batch._compute_totals(items)
            super(CreditFactoringBatch, batch).write(
                {
                    "move_ids": [Command.set(items.ids)],
                    "held_move_ids": [Command.set((held | foreign).ids)],
                    "warning": "\n".join(lines) or False,
                    **totals,
                }
            )
        return True

    @api.model
    def _compute_totals(self, items):
        invoices = sum(
            move.amount_residual for move in items if move.move_type == "out_invoice"
        )
        credit_notes = -sum(
            move.amount_residual for move in items if move.move_type == "out_refund"
        )
        return {
            "item_count": len(items),
            "amount_invoices": invoices,
            "amount_credit_notes": credit_notes,
            "amount_total": invoices + credit_notes,
        }

    def _check_debtors(self, items):
        """A Dailly slip assigns professional receivables only: art. L313-23 CMF
        (receivables of a professional on a legal person or a natural person in
        the exercise of a professional activity)."""
        if self.contract_id.kind != "dailly":
            return
        consumers = items.commercial_partner_id.filtered(
            lambda partner: partner.debtor_type == "consumer"
        )
        if consumers:
            raise UserError(
                self.env._(
                    "A Dailly assignment covers professional receivables only "
                    "(art. L313-23 of the Code monétaire et financier): %(customers)s "
                    "is a consumer. Remove its delegation to contract %(contract)s or "
                    "exclude its invoices from factoring, then collect again.",
                    customers=", ".join(consumers.mapped("display_name")),
                    contract=self.contract_id.name,
                )
            )

    # ------------------------------------------------------------------ confirm

    def action_confirm(self):
        self.check_access("write")
        for batch in self:
            batch._confirm()
        return True

    def _confirm(self):
        self.ensure_one()
        _ = self.env._
        if self.state != "draft":
            raise UserError(
                _("Batch %(batch)s is not a draft any more.", batch=self.name)
            )
        if not self.move_ids:
            raise UserError(
                _(
                    "Batch %(batch)s has no item to transfer: nothing assigned to "
                    "contract %(contract)s is open and untransferred up to %(date)s.",
                    batch=self.name,
                    contract=self.contract_id.name,
                    date=self.date,
                )
            )
        items = self.move_ids
        self._lock_items(items)
        self._check_items(items)
        self.env.execute_query(
            SQL(
                """
                UPDATE account_move
                   SET factoring_batch_id = %(batch)s,
                       factoring_state = 'transferred',
                       write_uid = %(uid)s,
                       write_date = NOW() AT TIME ZONE 'UTC'
                 WHERE id = ANY(%(ids)s)
                """,
                batch=self.id,
                uid=self.env.uid,
                ids=items.ids,
            )
        )
        items.invalidate_recordset(["factoring_batch_id", "factoring_state"])
        # The files and the slip speak the factor's language.
        documents = self.with_context(lang=self._document_lang())
        data = documents._get_batch_data()
        attachments = documents._create_files(data)
        super().write(
            {
                "state": "confirmed",
                "file_ids": [Command.set(attachments.ids)],
                **self._compute_totals(items),
            }
        )
        self.message_post(
            body=_(
                "%(count)s items transferred to %(factor)s, total %(total)s.",
                count=data["count"],
                factor=data["factor"].display_name,
                total=self.currency_id.format(data["grand_total"]),
            ),
            attachment_ids=attachments.ids,
        )
        return True

    def _lock_items(self, items):
        """Lock the rows of the items until the end of the transaction, so that two
        users confirming batches with a common item at the same time cannot both
        succeed. The second one is refused at once (``NOWAIT``); if the first one
        already committed, the transaction's snapshot makes PostgreSQL refuse the
        lock (a serialization failure, which Odoo retries: the retry then finds the
        items transferred, see ``_check_items``)."""
        self.env["account.move"].flush_model(["factoring_batch_id"])
        try:
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    SQL(
                        "SELECT id FROM account_move WHERE id = ANY(%s) "
                        "ORDER BY id FOR UPDATE NOWAIT",
                        items.ids,
                    )
                )
        except errors.LockNotAvailable:
            raise UserError(
                self.env._(
                    "Another user is confirming a batch with some of these items "
                    "right now. Try again in a moment: batch %(batch)s will then "
                    "tell which items are already transferred.",
                    batch=self.name,
                )
            ) from None
        items.invalidate_recordset(ITEM_FIELDS)

    def _check_items(self, items):
        """Every item is still transferable, read after its row is locked."""
        _ = self.env._
        items.fetch(ITEM_FIELDS)
        transferred = items.filtered("factoring_batch_id")
        if transferred:
            raise UserError(
                _(
                    "Batch %(batch)s cannot be confirmed: %(items)s already "
                    "transferred by batch %(other)s. Collect the items again.",
                    batch=self.name,
                    items=", ".join(transferred.mapped("name")),
                    other=", ".join(transferred.factoring_batch_id.mapped("name")),
                )
            )
        wrong = items.filtered(
            lambda move: move.state != "posted"
            or move.factoring_contract_id != self.contract_id
            or move.factoring_excluded
            or move.currency_id != self.currency_id
            or not move.amount_residual
            or (move.invoice_date and move.invoice_date > self.date)
            or self._is_disputed(move)
        )
        if wrong:
            raise UserError(
                _(
                    "Batch %(batch)s cannot be confirmed: %(items)s can no longer be "
                    "transferred (paid, cancelled, excluded, disputed, in another "
                    "currency or dated after the batch). Collect the items again.",
                    batch=self.name,
                    items=", ".join(wrong.mapped("name")),
                )
            )
        self._check_debtors(items)

    # ------------------------------------------------------------------ data

    def _get_batch_data(self):
        """Plain data of the batch, the one source of its files and slip.

        ``rows`` are the engine rows (``engine.factoring.batch_row``), one per
        item, sorted by customer then date; ``totals`` the totals per customer.
        The amount of an item is its open balance incl. tax in the contract's
        currency (its total unless partly paid or matched), negative for a credit
        note.
        """
        self.ensure_one()
        items = self.move_ids
        items.fetch(ITEM_FIELDS)
        partners = items.commercial_partner_id
        partners.fetch(["name", "vat", "ref", "siret", "company_registry"])
        Parties = self.env["credit.document.parties"]
        sirens = {
            partner.id: Parties._get_siren_siret(partner)[0] or ""
            for partner in partners
        }
        currency = self.currency_id.name
        rows = []
        for move in items.sorted(
            lambda m: (m.commercial_partner_id.name or "", m.invoice_date, m.id)
        ):
            partner = move.commercial_partner_id
            credit_note = move.move_type == "out_refund"
            rows.append(
                engine.batch_row(
                    customer_name=partner.name,
                    customer_siren=sirens[partner.id],
                    customer_vat=partner.vat,
                    customer_factor_ref=self._get_factor_customer_ref(partner),
                    document_type=engine.CREDIT_NOTE if credit_note else engine.INVOICE,
                    number=move.name,
                    invoice_date=move.invoice_date,
                    due_date=move.invoice_date_due,
                    amount=move.amount_residual,
                    currency=currency,
                    our_ref=move.invoice_origin or move.ref,
                )
            )
        totals = [
            {"name": name, "siren": siren, "count": count, "total": float(total)}
            for name, siren, count, total in engine.totals_by_customer(rows)
        ]
        contract = self.contract_id
        return {
            "batch": self,
            "contract": contract,
            "kind": contract.kind,
            "company": self.company_id,
            "factor": contract.factor_id,
            "bank_account": contract.bank_account_id,
            "parties": Parties._get_parties(self.company_id, contract.factor_id),
            "date": self.date,
            "currency": self.currency_id,
            "rows": rows,
            "totals": totals,
            "count": len(rows),
            "grand_total": float(engine.grand_total(rows)),
            "file_names": self._file_names(),
            "texts": self._get_slip_texts(len(rows), engine.grand_total(rows)),
        }

    def _get_slip_texts(self, count, total):
        """The sentences of the slip, whole, so that each translates as one.

        A factoring slip is the quittance subrogative: the subrogation must be
        express and consented at the time of the payment (art. 1346-1 C. civ.).
        A Dailly deed uses the electronic form of art. L313-23 CMF, last
        paragraph: the receivables go to the bank in the files, so the deed gives
        the means of transmission, their number and their total amount."""
        _ = self.env._
        company, factor = self.company_id.name, self.factor_id.name
        amount = self.currency_id.format(float(total))
        files = ", ".join(self._file_names())
        return {
            "subrogation": _(
                "%(company)s acknowledges receiving from %(factor)s the payment of "
                "the receivables listed in this slip, for a total of %(total)s, and "
                "expressly subrogates %(factor)s in all its rights, actions and "
                "securities against the debtors of these receivables, at the time "
                "of this payment (article 1346-1 of the Code civil).",
                company=company,
                factor=factor,
                total=amount,
            ),
            "detail": _(
                "The detail of the %(count)s items (number, dates, due date and "
                "amount of each invoice and credit note) is in the files %(files)s, "
                "which form part of this slip; their totals per customer follow.",
                count=count,
                files=files,
            ),
            "transmission": _(
                "The assigned receivables are transmitted electronically, in the "
                "files %(files)s sent with this deed, which identify each "
                "receivable: its debtor, its number, its amount and its due date. "
                "Place of payment: as stated on each invoice, unless the credit "
                "institution notifies the debtor (art. L313-28).",
                files=files,
            ),
            "sign_factoring": _(
                "For %(company)s: handwritten words « bon pour subrogation », "
                "name, capacity and signature",
                company=company,
            ),
            "sign_dailly": _(
                "For the assignor, %(company)s: name, capacity and signature",
                company=company,
            ),
        }

    def _file_names(self):
        """The names of the files the contract's format produces (the slip
        lists them: they carry the detail of the items)."""
        base = self._file_base_name()
        names = []
        for fmt in FILE_FORMATS[self.contract_id.file_format]:
            exporter = engine.EXPORTERS.get(fmt)
            names.append(f"{base}.{exporter.extension if exporter else fmt}")
        return names

    @api.model
    def _get_factor_customer_ref(self, partner):
        """The customer's reference at the factor. Designed to be inherited; the
        partner's internal reference by default."""
        return partner.ref

    # ------------------------------------------------------------------ files

    def _file_labels(self):
        _ = self.env._
        return {
            "customer_name": _("Customer"),
            "customer_siren": _("SIREN"),
            "customer_vat": _("VAT number"),
            "customer_factor_ref": _("Reference at the factor"),
            "document_type": _("Document type"),
            "number": _("Number"),
            "invoice_date": _("Invoice date"),
            "due_date": _("Due date"),
            "amount": _("Amount incl. tax"),
            "currency": _("Currency"),
            "our_ref": _("Our reference"),
            engine.INVOICE: _("Invoice"),
            engine.CREDIT_NOTE: _("Credit note"),
            engine.TOTAL: _("Total"),
        }

    def _export_options(self, data):
        _ = self.env._
        return {
            "labels": self._file_labels(),
            "title": _("Transfer %(batch)s", batch=self.name),
            "header_lines": [
                _("Creditor: %(company)s", company=data["company"].name),
                _("Factor: %(factor)s", factor=data["factor"].name),
                _("Contract: %(contract)s", contract=data["contract"].name),
                _("Date: %(date)s", date=data["date"].strftime("%d/%m/%Y")),
            ],
        }

    def _export_xlsx(self, data):
        """``(content, extension, mimetype)`` of the XLSX file."""
        return engine.export("xlsx", data["rows"], **self._export_options(data))

    def _export_csv(self, data):
        """``(content, extension, mimetype)`` of the CSV file."""
        return engine.export("csv", data["rows"], **self._export_options(data))

    def _document_lang(self):
        """The factor's language (else the company's): the slip, the file names
        and the email speak it."""
        return self.factor_id.lang or self.company_id.partner_id.lang or "en_US"

    def _file_base_name(self):
        batch = self.with_context(lang=self._document_lang())
        return batch.env._("Transfer %(batch)s", batch=self.name.replace("/", "-"))

    def _create_files(self, data):
        """The files of the contract's format and the PDF slip, as attachments."""
        self.ensure_one()
        Attachment = self.env["ir.attachment"]
        vals_list = []
        base = self._file_base_name()
        for fmt in FILE_FORMATS[self.contract_id.file_format]:
            content, extension, mimetype = getattr(self, f"_export_{fmt}")(data)
            vals_list.append(
                {
                    "name": f"{base}.{extension}",
                    "raw": content,
                    "mimetype": mimetype,
                    "res_model": self._name,
                    "res_id": self.id,
                }
            )
        vals_list.append(
            {
                "name": self._slip_file_name(),
                "raw": self._render_slip(data),
                "mimetype": "application/pdf",
                "res_model": self._name,
                "res_id": self.id,
            }
        )
        return Attachment.create(vals_list)

    def _slip_file_name(self):
        """The name of the stored slip, in the factor's language whoever asks; the
        report action's ``attachment`` expression calls this method, so that
        printing or mailing the slip later reloads the confirmed version instead
        of rendering it again."""
        batch = self.with_context(lang=self._document_lang())
        name = batch.env._("Slip %(batch)s", batch=self.name.replace("/", "-"))
        return f"{name}.pdf"

    def _render_slip(self, data):
        Report = self.env["ir.actions.report"].with_context(
            report_pdf_no_attachment=True
        )
        content, _report_type = Report._render_qweb_pdf(
            SLIP_REPORT, self.ids, data={"factoring_batch_data": {self.id: data}}
        )
        return content

    # ------------------------------------------------------------------ send

    def action_send(self):
        """The email composer to the factor, with the slip (template) and the files
        of the batch attached; sending it marks the batch sent."""
        self.ensure_one()
        if self.state not in ("confirmed", "sent"):
            raise UserError(
                self.env._(
                    "Confirm batch %(batch)s before sending it to the factor.",
                    batch=self.name,
                )
            )
        template = self.env.ref(SEND_TEMPLATE, raise_if_not_found=False)
        context = {
            "default_model": self._name,
            "default_res_ids": self.ids,
            "default_template_id": template.id if template else False,
            "default_composition_mode": "comment",
            "default_email_layout_xmlid": "mail.mail_notification_light",
            "force_email": True,
            "mark_factoring_batch_sent": True,
        }
        composer = self.env["mail.compose.message"].with_context(**context).create({})
        # The template renders the slip (reloaded from the stored one, see the
        # report's attachment expression); the other files are added to it. Read
        # first: writing would cancel the pending computation of the template's.
        rendered = composer.attachment_ids
        slip_name = self._slip_file_name()
        extra = self.file_ids.filtered(lambda a: a.name != slip_name or not rendered)
        composer.attachment_ids = [Command.link(att.id) for att in extra]
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Send to Factor"),
            "res_model": "mail.compose.message",
            "res_id": composer.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": context,
        }

    def message_post(self, **kwargs):
        if self.env.context.get("mark_factoring_batch_sent"):
            self.filtered(lambda batch: batch.state == "confirmed").action_mark_sent()
        return super().message_post(**kwargs)

    def action_mark_sent(self):
        """For a batch handed to the factor outside Odoo (its portal, SFTP…)."""
        self.check_access("write")
        for batch in self:
            if batch.state != "confirmed":
                raise UserError(
                    self.env._(
                        "Only a confirmed batch can be marked as sent (%(batch)s).",
                        batch=batch.name,
                    )
                )
        super().write({"state": "sent"})
        return True

    # ------------------------------------------------------------------ cancel

    def action_cancel(self):
        """Cancel the batch and free its items for a later batch, only before it
        is sent: once the factor has the slip, the transfer is done."""
        self.check_access("write")
        sent = self.filtered(lambda batch: batch.state == "sent")
        if sent:
            raise UserError(
                self.env._(
                    "Batch %(batch)s has been sent to the factor: it cannot be "
                    "cancelled. Ask the factor to retrocede the items instead.",
                    batch=", ".join(sent.mapped("name")),
                )
            )
        confirmed = self.filtered(lambda batch: batch.state == "confirmed")
        if confirmed:
            self.env["account.move"].flush_model(["factoring_batch_id"])
            moves = self.env["account.move"].search(
                [("factoring_batch_id", "in", confirmed.ids)]
            )
            self.env.execute_query(
                SQL(
                    """
                    UPDATE account_move
                       SET factoring_batch_id = NULL,
                           factoring_state = 'to_transfer',
                           write_uid = %(uid)s,
                           write_date = NOW() AT TIME ZONE 'UTC'
                     WHERE factoring_batch_id = ANY(%(ids)s)
                    """,
                    uid=self.env.uid,
                    ids=confirmed.ids,
                )
            )
            moves.invalidate_recordset(["factoring_batch_id", "factoring_state"])
        super().write({"state": "cancelled"})
        return True


class ReportFactoringBatch(models.AbstractModel):
    """The slip reads the data ``_render_slip`` passes, or builds it when the
    slip is printed from the menu."""

    _name = "report.l10n_fr_credit_collection.report_factoring_batch"
    _description = "Factoring Transfer Slip"

    @api.model
    def _get_report_values(self, docids, data=None):
        batches = self.env["credit.factoring.batch"].browse(docids)
        given = (data or {}).get("factoring_batch_data") or {}
        return {
            "doc_ids": docids,
            "doc_model": "credit.factoring.batch",
            "docs": batches,
            "batch_data": {
                batch.id: given.get(batch.id) or batch._get_batch_data()
                for batch in batches
            },
        }
