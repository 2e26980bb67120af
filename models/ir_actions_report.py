from odoo import models
from odoo.tools.safe_eval import safe_eval, time


class IrActionsReport(models.Model):
    _inherit = "ir.actions.report"

    def _credit_render_pdfs(self, report_ref, records):
        """Render one document per record in a single pass of the renderer.

        :return: ``{record_id: (file_name, content)}``
        """
        if not records:
            return {}
        report = self._get_report(report_ref)
        streams, report_type = self._pre_render_qweb_pdf(
            report_ref, res_ids=records.ids
        )
        result = {}
        for record in records:
            if report_type == "pdf":
                content = streams[record.id]["stream"].getvalue()
            else:
                # Test mode renders HTML instead of PDF (see _pre_render_qweb_pdf).
                content = self._render_qweb_html(report_ref, record.ids)[0]
            name = report.name
            if report.print_report_name:
                name = safe_eval(
                    report.print_report_name, {"object": record, "time": time}
                )
            result[record.id] = (f"{name}.pdf", content)
        return result
