from odoo import api, fields, models
from odoo.exceptions import UserError


class CreditLateCauseWizard(models.TransientModel):
    """Record why invoices are paid late and, for an administrative cause,
    apply its fix at once."""

    _name = "credit.late.cause.wizard"
    _description = "Record the Cause of a Late Payment"

    move_ids = fields.Many2many("account.move", string="Invoices", required=True)
    partner_id = fields.Many2one(
        "res.partner", string="Customer", compute="_compute_partner_id"
    )
    cause_id = fields.Many2one(
        "credit.late.cause", string="Cause of Late Payment", required=True
    )
    cause_kind = fields.Selection(related="cause_id.kind")
    cause_fix = fields.Selection(related="cause_id.fix")
    note = fields.Text()
    apply_fix = fields.Boolean(
        string="Apply the Fix",
        default=True,
        help="Apply the fix the cause proposes once the cause is recorded.",
    )
    contact_id = fields.Many2one(
        "res.partner",
        string="Resend To",
        help="The contact of the customer who should receive the invoices.",
    )
    hold_reason = fields.Char(
        help="Reason of the dunning hold, until the credit note is issued."
    )
    address_partner_id = fields.Many2one(
        "res.partner",
        string="Billing Address",
        help="The contact whose address to correct: the customer's invoice address "
        "by default.",
    )

    @api.model
    def default_get(self, fields_list):
        vals = super().default_get(fields_list)
        context = self.env.context
        if context.get("active_model") == "account.move" and context.get("active_ids"):
            vals["move_ids"] = [fields.Command.set(context["active_ids"])]
        return vals

    @api.depends("move_ids")
    def _compute_partner_id(self):
        for wizard in self:
            partners = wizard.move_ids.commercial_partner_id
            wizard.partner_id = partners if len(partners) == 1 else False

    @api.onchange("cause_id")
    def _onchange_cause_id(self):
        partner = self.partner_id
        if self.cause_fix == "hold_credit_note" and not self.hold_reason:
            self.hold_reason = self.cause_id.name
        if self.cause_fix == "billing_address" and partner:
            self.address_partner_id = partner.address_get(["invoice"])["invoice"]

    def action_apply(self):
        self.ensure_one()
        moves = self.move_ids
        if not moves:
            raise UserError(self.env._("Select the invoices whose cause to record."))
        fix = self.apply_fix and self.cause_fix
        # Check the fix first: nothing is recorded when it cannot be applied.
        if fix:
            getattr(self, f"_check_fix_{fix}")()
        moves._credit_record_late_cause(self.cause_id, self.note)
        if fix:
            return getattr(self, f"_apply_fix_{fix}")()
        return {"type": "ir.actions.act_window_close"}

    # ------------------------------------------------------------------ fixes

    def _check_one_customer(self):
        if not self.partner_id:
            raise UserError(
                self.env._(
                    "The fix %(fix)s applies to the invoices of one customer, and "
                    "the selected invoices belong to %(customers)s. Select the "
                    "invoices of one customer, or untick Apply the Fix.",
                    fix=dict(
                        self._fields["cause_fix"]._description_selection(self.env)
                    )[self.cause_fix],
                    customers=", ".join(
                        self.move_ids.commercial_partner_id.mapped("display_name")
                    ),
                )
            )

    def _check_fix_resend(self):
        self._check_one_customer()
        contact = self.contact_id
        if not contact or contact.commercial_partner_id != self.partner_id:
            raise UserError(
                self.env._(
                    "Choose the contact of %(customer)s to resend the invoices to.",
                    customer=self.partner_id.display_name,
                )
            )
        if not contact.email:
            raise UserError(
                self.env._(
                    "%(contact)s has no email address: add one to the contact, or "
                    "choose another contact to resend the invoices to.",
                    contact=contact.display_name,
                )
            )

    def _apply_fix_resend(self):
        self.move_ids._credit_resend_invoices(self.contact_id)
        return {"type": "ir.actions.act_window_close"}

    def _check_fix_hold_credit_note(self):
        if not self.hold_reason:
            raise UserError(
                self.env._("Give the reason of the hold until the credit note.")
            )

    def _apply_fix_hold_credit_note(self):
        self.move_ids._set_dunning_hold("dispute", self.hold_reason)
        self.move_ids._credit_log(
            self.env._(
                "Dunning on hold until the credit note: %(reason)s",
                reason=self.hold_reason,
            )
        )
        return {"type": "ir.actions.act_window_close"}

    def _check_fix_billing_address(self):
        self._check_one_customer()
        address = self.address_partner_id
        if not address or address.commercial_partner_id != self.partner_id:
            raise UserError(
                self.env._(
                    "Choose the contact of %(customer)s whose billing address to "
                    "correct.",
                    customer=self.partner_id.display_name,
                )
            )

    def _apply_fix_billing_address(self):
        """Open the contact whose address to correct (a posted invoice keeps its
        customer: the corrected address serves the resending)."""
        address = self.address_partner_id
        self.move_ids._credit_log(
            self.env._(
                "Billing address to correct: %(contact)s.",
                contact=address.display_name,
            )
        )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Correct the Billing Address"),
            "res_model": "res.partner",
            "res_id": address.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }
