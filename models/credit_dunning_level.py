from odoo import api, fields, models

from ..engine.levels import Level, severity_key


class CreditDunningLevel(models.Model):
    _name = "credit.dunning.level"
    _description = "Dunning Level"
    _order = "policy_id, sequence, delay_days, id"
    _check_company_auto = True

    policy_id = fields.Many2one(
        "credit.dunning.policy", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="policy_id.company_id", store=True)
    sequence = fields.Integer(default=10)
    name = fields.Char(required=True, translate=True)
    delay_days = fields.Integer(
        string="Delay (days)",
        required=True,
        help="Days after the due date of an installment at which this level fires. "
        "Negative for a courtesy reminder before the due date.",
    )
    send_email = fields.Boolean(string="Email")
    send_letter = fields.Boolean(string="Letter")
    create_activity = fields.Boolean(string="Phone Call")
    mail_template_id = fields.Many2one(
        "mail.template",
        string="Email Template",
        domain=[("model", "=", "credit.dunning.letter")],
        default=lambda self: self.env.ref(
            "l10n_fr_credit_collection.mail_template_dunning_letter",
            raise_if_not_found=False,
        ),
    )
    attach_invoices = fields.Boolean(help="Attach the PDF of each overdue invoice.")
    is_formal_notice = fields.Boolean(
        string="Formal Notice",
        help="This level is a formal notice (mise en demeure): the letter says so, "
        "sets a payment deadline and states the consequences. An item never gets "
        "it without an earlier reminder.",
    )
    payment_deadline_days = fields.Integer(
        string="Payment Deadline (days)",
        default=8,
        help="Days the customer is given to pay, printed on the letter.",
    )
    min_interval_days = fields.Integer(
        string="Minimum Interval (days)",
        compute="_compute_min_interval_days",
        store=True,
        readonly=False,
        help="Days that must have fully passed since the last letter sent about an "
        "item before this level goes out, so that a letter never follows another "
        "one before the deadline it gave has expired. Defaults to the payment "
        "deadline of the previous level.",
    )
    letter_subject = fields.Char(translate=True)
    letter_intro = fields.Html(string="Opening Text", translate=True)
    letter_closing = fields.Html(string="Closing Text", translate=True)
    activity_type_id = fields.Many2one(
        "mail.activity.type",
        default=lambda self: self.env.ref(
            "mail.mail_activity_data_call", raise_if_not_found=False
        ),
    )
    activity_summary = fields.Char(translate=True)

    _sql_constraints = [
        (
            "min_interval_days_positive",
            "CHECK (min_interval_days >= 0)",
            "The minimum interval of a dunning level cannot be negative.",
        ),
    ]

    @api.depends("policy_id", "sequence", "delay_days")
    def _compute_min_interval_days(self):
        # A default that follows the level's place in its policy: only its own
        # position is a dependency, so that a value typed by hand survives edits of
        # the other levels.
        for level in self:
            place = (level.sequence, level.delay_days)
            previous = level.policy_id.level_ids.filtered(
                lambda other, place=place: (other.sequence, other.delay_days) < place
            ).sorted(lambda other: (other.sequence, other.delay_days))
            level.min_interval_days = previous[-1:].payment_deadline_days

    def _compute_display_name(self):
        for level in self:
            level.display_name = f"{level.name} ({level.delay_days:+d})"

    def _engine_level(self):
        """The level as the engine sees it."""
        self.ensure_one()
        return Level(
            key=self.id,
            sequence=self.sequence,
            delay_days=self.delay_days,
            is_formal_notice=self.is_formal_notice,
            min_interval_days=self.min_interval_days,
        )

    @api.model
    def _severity_key(self, level):
        """Sort key of a level's severity: the engine's order."""
        return severity_key(level._engine_level())

    @api.constrains("delay_days", "sequence", "policy_id")
    def _check_policy_delays(self):
        self.policy_id._check_levels()
