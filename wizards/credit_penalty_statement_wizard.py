import base64

from odoo import _, fields, models

from ..models.credit_xlsx import xlsx_download_action


class CreditPenaltyStatementWizard(models.TransientModel):
    _name = "credit.penalty.statement.wizard"
    _description = "Penalty Statement"

    partner_id = fields.Many2one("res.partner", string="Customer", required=True)
    date = fields.Date(string="As of", required=True, default=fields.Date.context_today)
    recompute = fields.Boolean(
        string="Update Penalties First",
        default=True,
        help="Refresh the draft penalty lines of the customer's open late invoices as "
        "of this date before printing.",
    )
    xlsx_file = fields.Binary(readonly=True, attachment=False)
    xlsx_name = fields.Char()

    def default_get(self, fields_list):
        vals = super().default_get(fields_list)
        if self.env.context.get("active_model") == "res.partner":
            vals["partner_id"] = self.env.context.get("active_id")
        return vals

    def _prepare(self):
        self.ensure_one()
        partner = self.partner_id.commercial_partner_id
        if self.recompute:
            invoices = partner._get_penalty_open_invoices(self.date)
            if invoices:
                invoices.compute_late_penalties(self.date)
        return partner

    def action_print_pdf(self):
        """The statement PDF. The customer goes in the data too: with data, the web
        client sends no record ids to the report (STYLE.md, "Report actions called
        from wizards")."""
        partner = self._prepare()
        return self.env.ref(
            "l10n_fr_credit_collection.action_report_penalty_statement"
        ).report_action(
            partner,
            data={
                "as_of": fields.Date.to_string(self.date),
                "partner_ids": partner.ids,
            },
            config=False,
        )

    def action_export_xlsx(self):
        partner = self._prepare()
        content = partner._penalty_statement_xlsx(self.date)
        self.write(
            {
                "xlsx_file": base64.b64encode(content),
                "xlsx_name": _(
                    "Penalty statement %(customer)s %(date)s.xlsx",
                    customer=partner.name,
                    date=self.date,
                ),
            }
        )
        return xlsx_download_action(self)
