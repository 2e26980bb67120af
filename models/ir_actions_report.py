import logging
import os
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor

from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools import config
from odoo.tools.safe_eval import safe_eval, time

from odoo.addons.base.models.ir_actions_report import _get_wkhtmltopdf_bin

_logger = logging.getLogger(__name__)

# Parallel wkhtmltopdf runs of a court filing: two per CPU, since each run also
# waits for the server to send it the report assets; at most four.
FILING_WORKERS = 4


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

    @api.model
    def _credit_render_pdf_jobs(self, jobs):
        """``{key: (report_ref, record)}`` -> ``{key: PDF bytes}``, one wkhtmltopdf
        run per job. The ORM work (HTML, paperformat, arguments) is done here, in
        this thread; only the wkhtmltopdf processes run in parallel, which is what
        makes a filing of 50 invoices fit in the time a user waits."""
        if not jobs:
            return {}
        test_mode = config["test_enable"] or config["test_file"]
        if test_mode and not self.env.context.get("force_report_rendering"):
            # No server to serve the assets: Odoo's HTML fallback (see
            # _pre_render_qweb_pdf).
            return {
                key: self._render_qweb_pdf(report_ref, record.ids)[0]
                for key, (report_ref, record) in jobs.items()
            }
        if self.get_wkhtmltopdf_state() == "install":
            raise UserError(
                self.env._("Wkhtmltopdf is not installed: the PDF cannot be created.")
            )
        commands = {
            key: self._credit_prepare_wkhtmltopdf(report_ref, record)
            for key, (report_ref, record) in jobs.items()
        }
        workers = max(1, min(FILING_WORKERS, 2 * (os.cpu_count() or 1)))
        with ThreadPoolExecutor(max_workers=workers) as executor:
            futures = {
                key: executor.submit(_run_wkhtmltopdf, *command)
                for key, command in commands.items()
            }
            results = {key: future.result() for key, future in futures.items()}
        failed = [key for key, (content, _error) in results.items() if not content]
        if failed:
            report_ref, record = jobs[failed[0]]
            raise UserError(
                self.env._(
                    "Wkhtmltopdf could not print %(document)s: %(error)s",
                    document=record.display_name,
                    error=results[failed[0]][1][-1000:],
                )
            )
        for key, (_content, error) in results.items():
            if error:
                _logger.debug("wkhtmltopdf on %s: %s", jobs[key][1], error)
        return {key: content for key, (content, _error) in results.items()}

    @api.model
    def _credit_prepare_wkhtmltopdf(self, report_ref, record):
        """``(command, bodies, header, footer)`` of one document, as Odoo's
        ``_render_qweb_pdf_prepare_streams`` builds them."""
        report = self._get_report(report_ref)
        Report = self.with_context(debug=False)
        data = {"report_type": "pdf"}
        data = Report._pre_render_invoice_data(report, record, data)
        html = Report._render_qweb_html(report_ref, record.ids, data=data)[0]
        bodies, _ids, header, footer, specific_args = report.with_context(
            debug=False
        )._prepare_html(html, report_model=report.model)
        args = Report._build_wkhtmltopdf_args(
            report.get_paperformat(),
            self.env.context.get("landscape"),
            specific_paperformat_args=specific_args,
        )
        return [_get_wkhtmltopdf_bin(), *args], bodies, header, footer

    @api.model
    def _pre_render_invoice_data(self, report, record, data):
        """What account's ``_pre_render_qweb_pdf`` adds for an invoice report."""
        if report.is_invoice_report and (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("account.display_name_in_footer")
        ):
            data = dict(data, display_name_in_footer=True)
        return data

    def _build_wkhtmltopdf_args(
        self,
        paperformat_id,
        landscape,
        specific_paperformat_args=None,
        set_viewport_size=False,
    ):
        """The court filing's shorter JavaScript delay (see FILING_DELAY_PARAM)."""
        args = super()._build_wkhtmltopdf_args(
            paperformat_id,
            landscape,
            specific_paperformat_args=specific_paperformat_args,
            set_viewport_size=set_viewport_size,
        )
        delay = self.env.context.get("credit_filing_print_delay")
        if delay and "--javascript-delay" in args:
            args[args.index("--javascript-delay") + 1] = str(delay)
        return args


def _run_wkhtmltopdf(command, bodies, header, footer):
    """One wkhtmltopdf run, without the ORM (it runs in a worker thread):
    ``(PDF bytes or None, stderr)``."""
    with tempfile.TemporaryDirectory(prefix="credit_filing_") as folder:
        paths = []
        for name, content in [("header", header), ("footer", footer)]:
            if content:
                path = os.path.join(folder, f"{name}.html")
                with open(path, "w", encoding="utf-8") as file:
                    file.write(content)
                paths += [f"--{name}-html", path]
        for index, body in enumerate(bodies):
            path = os.path.join(folder, f"body{index}.html")
            with open(path, "w", encoding="utf-8") as file:
                file.write(body)
            paths.append(path)
        output = os.path.join(folder, "report.pdf")
        process = subprocess.run(
            [*command, *paths, output],
            capture_output=True,
            encoding="utf-8",
            errors="replace",
            check=False,
        )
        if process.returncode not in (0, 1) or not os.path.exists(output):
            return None, process.stderr or str(process.returncode)
        with open(output, "rb") as file:
            content = file.read()
        return content or None, process.stderr
