from odoo import fields, models


class CreditDunningRegisteredWizard(models.TransientModel):
    """Record the registered letter (LRAR) that carried a formal notice: its
    number, the day it was posted, the day it was first presented or received,
    and the scanned acknowledgement of receipt."""

    _name = "credit.dunning.registered.wizard"
    _description = "Record the Registered Letter of a Formal Notice"

    letter_id = fields.Many2one(
        "credit.dunning.letter", string="Formal Notice", required=True, readonly=True
    )
    partner_id = fields.Many2one(related="letter_id.partner_id")
    registered_number = fields.Char(string="Registered Letter Number")
    registered_sent_date = fields.Date(string="Posted On")
    registered_received_date = fields.Date(
        string="Received On",
        help="Day of first presentation of the letter, or of its receipt, as the "
        "acknowledgement of receipt shows it. Leave empty until it is back.",
    )
    receipt_file = fields.Binary(string="Acknowledgement of Receipt")
    receipt_filename = fields.Char()
    has_receipt = fields.Boolean(
        compute="_compute_has_receipt", string="Receipt Already Attached"
    )

    def _compute_has_receipt(self):
        for wizard in self:
            wizard.has_receipt = bool(wizard.letter_id.registered_receipt_attachment_id)

    def action_apply(self):
        self.ensure_one()
        self.letter_id._record_registered_letter(
            {
                "registered_number": self.registered_number or False,
                "registered_sent_date": self.registered_sent_date,
                "registered_received_date": self.registered_received_date,
            },
            receipt=self.receipt_file,
            receipt_name=self.receipt_filename,
        )
        return {"type": "ir.actions.act_window_close"}
