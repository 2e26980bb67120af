from odoo import Command, api, fields, models

LETTER_MODEL = "credit.dunning.letter"
LETTER_REPORT = "l10n_fr_credit_collection.action_report_dunning_letter"
INVOICE_REPORT = "account.account_invoices"
PDF_CALL_SECONDS_PARAM = "l10n_fr_credit_collection.mail_pdf_call_seconds"
PDF_CALL_SECONDS_DEFAULT = 8


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
        (50 by default), and renders for a limited time (see
        ``_credit_attach_letter_pdfs``), so that the calls Odoo makes in a row
        while the queue reports progress stay within the cron's time limit."""
        mails = self
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
            if pending and self.env["ir.cron"]._credit_pass_spent():
                # The cron worker's pass has no time left to render: only the
                # emails ready to go are sent; the queue's scheduled action runs
                # again in the worker's next pass for the letters.
                filters = self.env.context.get("filters", [])
                mails = self.with_context(
                    filters=[*filters, ("credit_letter_pdf_pending", "=", False)]
                )
                self._credit_trigger_queue()
            elif pending and limit > 0:
                batch_size = min(batch_size, limit)
        return super(MailMail, mails).process_email_queue(
            ids=ids, batch_size=batch_size
        )

    @api.model
    def _credit_trigger_queue(self):
        cron = self.env.ref(
            "mail.ir_cron_mail_scheduler_action", raise_if_not_found=False
        )
        if cron:
            cron.sudo()._trigger()

    def _send(
        self,
        auto_commit=False,
        raise_exception=False,
        smtp_session=None,
        alias_domain_id=False,
        mail_server=False,
        post_send_callback=None,
    ):
        mails = self
        pending = self.filtered(
            lambda mail: mail.credit_letter_pdf_pending and mail.state == "outgoing"
        )
        if pending:
            # Committed with the first email sent (Odoo commits after each one).
            waiting = pending._credit_attach_letter_pdfs()
            if waiting:
                mails -= waiting
                self._credit_trigger_queue()
        return super(MailMail, mails)._send(
            auto_commit=auto_commit,
            raise_exception=raise_exception,
            smtp_session=smtp_session,
            alias_domain_id=alias_domain_id,
            mail_server=mail_server,
            post_send_callback=post_send_callback,
        )

    def _credit_attach_letter_pdfs(self):
        """Render and attach the PDFs of these emails' dunning letters, and of
        their invoices when the level asks for them (the PDF the customer was sent
        when Odoo kept it). One document per wkhtmltopdf run, several at once
        (see ``ir.actions.report._credit_render_pdf_results``), for at most
        ``l10n_fr_credit_collection.mail_pdf_call_seconds`` (8 s by default),
        and never past the cron pass's share of its time limit (see
        ``ir.cron._credit_deadline``), so that the mail queue's calls in a row,
        after the other jobs of the pass, stay within the cron's time limit.
        An email whose PDF cannot be made fails with the reason, and so does its
        letter; the others go on.

        :return: the emails left for a later call, once the time is up
        """
        seconds = float(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(PDF_CALL_SECONDS_PARAM, PDF_CALL_SECONDS_DEFAULT)
        )
        deadline = self.env["ir.cron"]._credit_deadline(seconds)
        letters = (
            self.env[LETTER_MODEL]
            .browse([mail.res_id for mail in self if mail.model == LETTER_MODEL])
            .exists()
        )
        jobs, files, parts = {}, {}, {}
        for mail in self:
            letter = letters.browse(mail.res_id) if mail.model == LETTER_MODEL else None
            if not letter or letter not in letters:
                parts[mail] = []
                continue
            keys = parts[mail] = [(LETTER_REPORT, letter.id)]
            jobs[keys[0]] = (LETTER_REPORT, letter)
            if not letter.level_id.attach_invoices:
                continue
            for move in letter._credit_attached_invoices():
                key = (INVOICE_REPORT, move.id)
                keys.append(key)
                sent = move.invoice_pdf_report_id
                if sent:
                    files[key] = (sent.name, sent.raw)
                else:
                    jobs[key] = (INVOICE_REPORT, move)
        Report = self.env["ir.actions.report"]
        rendered = Report._credit_render_pdf_results(jobs, deadline=deadline)
        for key, (content, _error) in rendered.items():
            if content is not None:
                files[key] = (Report._credit_pdf_name(*jobs[key]), content)
        waiting = self.browse()
        vals_list, attached = [], self.browse()
        for mail, keys in parts.items():
            if any(key not in files and key not in rendered for key in keys):
                waiting |= mail
                continue
            failed = [key for key in keys if key not in files]
            if failed:
                mail._credit_pdf_failed(jobs[failed[0]][1], rendered[failed[0]][1])
                continue
            attached |= mail
            vals_list += [
                {
                    "name": files[key][0],
                    "raw": files[key][1],
                    "mimetype": "application/pdf",
                    "res_model": "mail.message",
                    "res_id": mail.mail_message_id.id,
                }
                for key in keys
            ]
        attachments = iter(self.env["ir.attachment"].sudo().create(vals_list))
        for mail in attached:
            mail.write(
                {
                    "attachment_ids": [
                        Command.link(next(attachments).id) for _key in parts[mail]
                    ],
                    "credit_letter_pdf_pending": False,
                }
            )
        return waiting

    def _credit_pdf_failed(self, record, error):
        """The email cannot go: one of its PDFs cannot be made."""
        reason = self.env._(
            "The PDF of %(document)s could not be created: %(error)s. Check that it "
            "prints (Print button), then click Retry on the letter.",
            document=record.display_name,
            error=error,
        )
        self.write(
            {"state": "exception", "failure_type": "unknown", "failure_reason": reason}
        )
        self._postprocess_sent_message(
            success_pids=[], failure_reason=reason, failure_type="unknown"
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
