from odoo import Command, api, fields, models

LETTER_MODEL = "credit.dunning.letter"


class MailMail(models.Model):
    _inherit = "mail.mail"

    credit_letter_pdf_pending = fields.Boolean(
        help="The dunning letter PDF (and the invoices when the level asks for them) "
        "is rendered and attached when the mail queue sends this email.",
    )

    @api.model
    def process_email_queue(self, ids=None, batch_size=1000):
        """The mail queue renders the PDFs of the dunning letters it sends (see
        ``_send``): while letters wait with their PDF still to render, one call
        takes at most ``l10n_fr_credit_collection.mail_pdf_batch_size`` emails
        (50 by default), so rendering stays well within the cron's time limit; the
        queue's progress makes Odoo call it again at once for the rest."""
        if ids is None:
            limit = int(
                self.env["ir.config_parameter"]
                .sudo()
                .get_param("l10n_fr_credit_collection.mail_pdf_batch_size", 50)
            )
            pending = self.search_count(
                [("state", "=", "outgoing"), ("credit_letter_pdf_pending", "=", True)],
                limit=1,
            )
            if pending and limit > 0:
                batch_size = min(batch_size, limit)
        return super().process_email_queue(ids=ids, batch_size=batch_size)

    def _send(
        self,
        auto_commit=False,
        raise_exception=False,
        smtp_session=None,
        alias_domain_id=False,
        mail_server=False,
        post_send_callback=None,
    ):
        self.filtered("credit_letter_pdf_pending")._credit_attach_letter_pdfs()
        return super()._send(
            auto_commit=auto_commit,
            raise_exception=raise_exception,
            smtp_session=smtp_session,
            alias_domain_id=alias_domain_id,
            mail_server=mail_server,
            post_send_callback=post_send_callback,
        )

    def _credit_attach_letter_pdfs(self):
        """Render the PDFs of all the letters of these mails in one batch."""
        if not self:
            return
        letters = (
            self.env[LETTER_MODEL]
            .browse([mail.res_id for mail in self if mail.model == LETTER_MODEL])
            .exists()
        )
        report = self.env["ir.actions.report"]
        letter_pdfs = report._credit_render_pdfs(
            "l10n_fr_credit_collection.action_report_dunning_letter", letters
        )
        invoices = (
            letters.filtered("level_id.attach_invoices")
            .line_ids.filtered(lambda line: line.level_id and line.kind == "invoice")
            .move_id.filtered(lambda move: move.is_invoice())
        )
        invoice_pdfs = report._credit_render_pdfs("account.account_invoices", invoices)
        Attachment = self.env["ir.attachment"].sudo()
        for mail in self:
            letter = letters.browse(mail.res_id) if mail.model == LETTER_MODEL else None
            vals_list = []
            if letter and letter in letters:
                vals_list.append(letter_pdfs[letter.id])
                if letter.level_id.attach_invoices:
                    moves = letter.line_ids.filtered("level_id").move_id
                    vals_list += [
                        invoice_pdfs[m.id] for m in moves if m.id in invoice_pdfs
                    ]
            attachments = Attachment.create(
                [
                    {
                        "name": name,
                        "raw": content,
                        "mimetype": "application/pdf",
                        "res_model": "mail.message",
                        "res_id": mail.mail_message_id.id,
                    }
                    for name, content in vals_list
                ]
            )
            mail.write(
                {
                    "attachment_ids": [Command.link(att.id) for att in attachments],
                    "credit_letter_pdf_pending": False,
                }
            )

    def _postprocess_sent_message(
        self, success_pids, failure_reason=False, failure_type=None
    ):
        for mail in self.filtered(lambda mail: mail.model == LETTER_MODEL):
            letter = self.env[LETTER_MODEL].browse(mail.res_id).exists()
            if not letter:
                continue
            if mail.state == "exception" or failure_type:
                letter._mark_email_result(
                    failure_reason or mail.failure_reason or failure_type
                )
            else:
                letter._mark_email_result()
        return super()._postprocess_sent_message(
            success_pids, failure_reason=failure_reason, failure_type=failure_type
        )
