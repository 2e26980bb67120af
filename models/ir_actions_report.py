import functools
import io
import logging
import os
import subprocess
import tempfile
import time
from collections import OrderedDict, defaultdict
from concurrent.futures import ThreadPoolExecutor

from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools import config
from odoo.tools.safe_eval import safe_eval
from odoo.tools.safe_eval import time as safe_time

from odoo.addons.base.models.ir_actions_report import _get_wkhtmltopdf_bin

_logger = logging.getLogger(__name__)

MODULE = "l10n_fr_credit_collection"

# wkhtmltopdf waits ``report.print_delay`` (1 s by default) for the JavaScript of
# each document; the documents the addon prints one by one need none (a filing of
# 50 invoices runs wkhtmltopdf 53 times, the mail queue once per letter). System
# parameter to change it, in milliseconds.
PRINT_DELAY_PARAM = "l10n_fr_credit_collection.print_delay"
PRINT_DELAY_DEFAULT = "200"

# Parallel wkhtmltopdf runs (a court filing, the letters the mail queue sends): two
# per CPU, since each run also waits for the server to send it the report assets;
# at most four.
PDF_WORKERS = 4


@functools.cache
def _wkhtmltopdf_has_patched_qt():
    """Whether wkhtmltopdf was built with its patched Qt (the builds of
    wkhtmltopdf.org), which alone prints several documents in one run."""
    try:
        process = subprocess.run(
            [_get_wkhtmltopdf_bin(), "--version"],
            capture_output=True,
            encoding="utf-8",
            errors="replace",
            check=False,
            timeout=30,
        )
    except (OSError, TypeError, subprocess.SubprocessError):
        return True  # Odoo's own checks report a missing binary.
    return "patched qt" in process.stdout.lower()


class IrActionsReport(models.Model):
    _inherit = "ir.actions.report"

    def _render_qweb_pdf_prepare_streams(self, report_ref, data, res_ids=None):
        """The addon's documents printed together (a run's postal letters, say)
        with a wkhtmltopdf built without its patched Qt, as Debian's: that build
        returns an empty file for several documents in one run, so each is
        printed on its own (see ``_credit_render_pdf_results``) and Odoo merges
        them."""
        report = self._get_report(report_ref)
        ids = list(dict.fromkeys(res_ids or []))
        if (
            len(ids) < 2
            or len(ids) != len(res_ids)
            or report.report_name.split(".")[0] != MODULE
            or (
                report.attachment
                and not self.env.context.get("report_pdf_no_attachment")
            )
            or _wkhtmltopdf_has_patched_qt()
        ):
            return super()._render_qweb_pdf_prepare_streams(
                report_ref, data, res_ids=res_ids
            )
        records = self.env[report.model].browse(ids)
        jobs = {record.id: (report_ref, record) for record in records}
        pdfs = self._credit_render_pdf_jobs(jobs, data=data)
        return OrderedDict(
            (res_id, {"stream": io.BytesIO(pdfs[res_id]), "attachment": None})
            for res_id in ids
        )

    @api.model
    def _credit_render_pdf_jobs(self, jobs, data=None):
        """``{key: (report_ref, record)}`` -> ``{key: PDF bytes}``; the first
        document that cannot be printed stops everything with its error (a court
        filing is whole or nothing). See ``_credit_render_pdf_results``."""
        results = self._credit_render_pdf_results(jobs, data=data)
        for key, (content, error) in results.items():
            if content is None:
                raise UserError(
                    self.env._(
                        "Wkhtmltopdf could not print %(document)s: %(error)s",
                        document=jobs[key][1].display_name,
                        error=error,
                    )
                )
        return {key: content for key, (content, _error) in results.items()}

    @api.model
    def _credit_render_pdf_results(self, jobs, deadline=None, data=None):
        """``{key: (report_ref, record)}`` -> ``{key: (PDF bytes or None, error)}``.

        One wkhtmltopdf run per document (Debian's build, with an unpatched Qt,
        returns an empty file for a multi-document run), several at once: the
        ORM work (HTML, paperformat, arguments) is done here, in this thread, one
        HTML rendering per report and slice; only the wkhtmltopdf processes run
        in parallel. A document that fails gets its error and does not stop the
        others. With ``deadline`` (a ``time.monotonic()`` value), no slice starts
        that would end after it, judging by the slowest slice so far (the first
        always runs): the keys not rendered are not in the result, for a later
        call.
        """
        keys = list(jobs)
        if not keys:
            return {}
        test_mode = config["test_enable"] or config["test_file"]
        if test_mode and not self.env.context.get("force_report_rendering"):
            # No server to serve the assets: Odoo's HTML fallback (see
            # _pre_render_qweb_pdf).
            render = self._credit_render_html_fallback
        elif self.get_wkhtmltopdf_state() == "install":
            error = self.env._(
                "Wkhtmltopdf is not installed: the PDF cannot be created."
            )
            return {key: (None, error) for key in keys}
        else:
            delay = (
                self.env["ir.config_parameter"]
                .sudo()
                .get_param(PRINT_DELAY_PARAM, PRINT_DELAY_DEFAULT)
            )
            render = self.with_context(
                credit_print_delay=delay
            )._credit_render_wkhtmltopdf
        workers = max(1, min(PDF_WORKERS, 2 * (os.cpu_count() or 1)))
        size = 2 * workers
        results, slowest = {}, 0.0
        for start in range(0, len(keys), size):
            began = time.monotonic()
            if start and deadline is not None and began + slowest > deadline:
                break
            results.update(
                render(
                    {key: jobs[key] for key in keys[start : start + size]},
                    workers,
                    data,
                )
            )
            slowest = max(slowest, time.monotonic() - began)
        return results

    @api.model
    def _credit_render_html_fallback(self, jobs, _workers, data):
        results = {}
        for key, (report_ref, record) in jobs.items():
            try:
                content = self._render_qweb_pdf(report_ref, record.ids, data=data)[0]
                results[key] = (content, "")
            except Exception as error:  # noqa: BLE001 - reported per document
                results[key] = (None, str(error))
        return results

    @api.model
    def _credit_render_wkhtmltopdf(self, jobs, workers, data):
        commands = self._credit_prepare_wkhtmltopdf_jobs(jobs, data)
        results = {
            key: (None, command)
            for key, command in commands.items()
            if isinstance(command, str)
        }
        with ThreadPoolExecutor(max_workers=workers) as executor:
            futures = {
                key: executor.submit(_run_wkhtmltopdf, *command)
                for key, command in commands.items()
                if key not in results
            }
            for key, future in futures.items():
                content, error = future.result()
                results[key] = (content, (error or "")[-1000:])
                if content and error:
                    _logger.debug("wkhtmltopdf on %s: %s", jobs[key][1], error)
        return results

    @api.model
    def _credit_prepare_wkhtmltopdf_jobs(self, jobs, data=None):
        """``{key: (command, bodies, header, footer)}``, or the error for a
        document whose HTML cannot be rendered. The records of one report get one
        HTML rendering, split by Odoo per document; when that fails, each is
        rendered alone, so that one bad document does not take the others."""
        by_report = defaultdict(list)
        for key, (report_ref, _record) in jobs.items():
            by_report[report_ref].append(key)
        prepared = {}
        for report_ref, keys in by_report.items():
            records = self.env[jobs[keys[0]][1]._name].browse(
                dict.fromkeys(jobs[key][1].id for key in keys)
            )
            try:
                with self.env.cr.savepoint(flush=False):
                    command, bodies, header, footer = self._credit_prepare_wkhtmltopdf(
                        report_ref, records, data
                    )
            except Exception:  # noqa: BLE001 - each document alone below
                bodies = {}
            for key in keys:
                record = jobs[key][1]
                if record.id in bodies:
                    prepared[key] = (command, bodies[record.id], header, footer)
                    continue
                try:
                    with self.env.cr.savepoint(flush=False):
                        single = self._credit_prepare_wkhtmltopdf(
                            report_ref, record, data
                        )
                    prepared[key] = (single[0], single[1][record.id], *single[2:])
                except Exception as error:  # noqa: BLE001 - reported per document
                    prepared[key] = str(error) or type(error).__name__
        return prepared

    @api.model
    def _credit_prepare_wkhtmltopdf(self, report_ref, records, data=None):
        """``(command, {record_id: bodies}, header, footer)`` of these records'
        documents, as Odoo's ``_render_qweb_pdf_prepare_streams`` builds them."""
        report = self._get_report(report_ref)
        Report = self.with_context(debug=False)
        data = dict(data or {}, report_type="pdf")
        data = Report._pre_render_invoice_data(report, records, data)
        html = Report._render_qweb_html(report_ref, records.ids, data=data)[0]
        bodies, html_ids, header, footer, specific_args = report.with_context(
            debug=False
        )._prepare_html(html, report_model=report.model)
        if len(records) == 1:
            by_record = {records.id: bodies}
        else:
            by_record = defaultdict(list)
            for body, res_id in zip(bodies, html_ids, strict=True):
                by_record[res_id].append(body)
            by_record.pop(None, None)
        args = Report._build_wkhtmltopdf_args(
            report.get_paperformat(),
            self.env.context.get("landscape"),
            specific_paperformat_args=specific_args,
        )
        return [_get_wkhtmltopdf_bin(), *args], dict(by_record), header, footer

    @api.model
    def _credit_pdf_name(self, report_ref, record):
        """The file name Odoo gives this record's PDF (the report's
        ``print_report_name``)."""
        report = self._get_report(report_ref)
        name = report.name
        if report.print_report_name:
            name = safe_eval(
                report.print_report_name, {"object": record, "time": safe_time}
            )
        return f"{name}.pdf"

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
        """The shorter JavaScript delay of the documents printed one by one (see
        PRINT_DELAY_PARAM)."""
        args = super()._build_wkhtmltopdf_args(
            paperformat_id,
            landscape,
            specific_paperformat_args=specific_paperformat_args,
            set_viewport_size=set_viewport_size,
        )
        delay = self.env.context.get("credit_print_delay")
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
