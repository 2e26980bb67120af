from odoo import api, fields, models

from ..models.credit_court_request import COURT_STEPS, STEP_FROM_STATES


class CreditCourtStepWizard(models.TransientModel):
    """Record one step of a court case: its date and the details the step needs
    (service in person; order in full or in part, its reference and the amount
    granted; the day an opposition was notified). The case checks the step
    (``credit.court.request._apply_court_step``) before writing anything."""

    _name = "credit.court.step.wizard"
    _description = "Record a Court Case Step"

    request_id = fields.Many2one(
        "credit.court.request", string="Court Case", required=True, readonly=True
    )
    company_id = fields.Many2one(related="request_id.company_id")
    currency_id = fields.Many2one(related="request_id.currency_id")
    procedure = fields.Selection(related="request_id.procedure")
    amount_total = fields.Monetary(related="request_id.amount_total")
    step = fields.Selection(
        [step for step in COURT_STEPS if step[0] in STEP_FROM_STATES],
        required=True,
        readonly=True,
    )
    date = fields.Date(required=True, default=fields.Date.context_today)
    in_person = fields.Boolean(
        string="Served to the Debtor in Person",
        help="Service made to the debtor in person starts the opposition window; "
        "otherwise it runs from the first act in person or enforcement measure.",
    )
    grant = fields.Selection(
        [("full", "In Full"), ("partial", "In Part")], default="full"
    )
    amount_granted = fields.Monetary()
    amount_claim_remainder = fields.Monetary(
        string="Claim's Remainder", compute="_compute_amount_claim_remainder"
    )
    reference = fields.Char(string="Order Reference")
    notified_date = fields.Date(
        string="Opposition Notified On",
        help="Day the court notified you of the opposition: the deadline to appoint "
        "a lawyer runs from it.",
    )
    note = fields.Text()

    @api.depends("grant", "amount_granted", "amount_total")
    def _compute_amount_claim_remainder(self):
        for wizard in self:
            wizard.amount_claim_remainder = (
                wizard.amount_total - wizard.amount_granted
                if wizard.grant == "partial"
                else 0.0
            )

    def action_confirm(self):
        self.ensure_one()
        self.request_id._apply_court_step(
            self.step,
            self.date,
            in_person=self.in_person,
            grant=self.grant,
            amount_granted=self.amount_granted,
            reference=self.reference,
            notified_date=self.notified_date,
            note=self.note,
        )
        return {"type": "ir.actions.act_window_close"}
