from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..engine.levels import check_delays


class CreditDunningPolicy(models.Model):
    _name = "credit.dunning.policy"
    _inherit = ["credit.company.default.mixin"]
    _description = "Dunning Policy"
    _company_default_template = (
        "l10n_fr_credit_collection.credit_dunning_policy_standard"
    )

    level_ids = fields.One2many(
        "credit.dunning.level", "policy_id", string="Levels", copy=True
    )
    is_default = fields.Boolean(
        string="Default Policy",
        help="Applies to every customer and invoice of the company that names no "
        "other policy.",
    )
    auto_send = fields.Boolean(
        string="Send Without Review",
        help="Letters of this policy are sent as soon as the daily run computes "
        "them. Otherwise they wait in 'To Send' until a user sends them.",
    )
    level_count = fields.Integer(compute="_compute_level_count")

    _sql_constraints = [
        (
            "default_unique",
            "EXCLUDE (company_id WITH =) WHERE (is_default AND active)",
            "A company has only one default dunning policy.",
        ),
    ]

    @api.depends("level_ids")
    def _compute_level_count(self):
        for policy in self:
            policy.level_count = len(policy.level_ids)

    def _engine_levels(self):
        """The levels of the policy as engine objects, keyed by level id."""
        return {level.id: level._engine_level() for level in self.level_ids}

    @api.constrains("name", "level_ids", "active")
    def _check_levels(self):
        for policy in self.filtered("active"):
            if not policy.level_ids:
                raise ValidationError(
                    _(
                        "The dunning policy %(policy)s has no level. Add at least one "
                        "level (name and delay in days after the due date) before "
                        "saving it.",
                        policy=policy.name,
                    )
                )
            levels = policy._engine_levels()
            bad_pairs = check_delays(levels.values())
            if bad_pairs:
                first, second = bad_pairs[0]
                raise ValidationError(
                    _(
                        "In the dunning policy %(policy)s, the level %(second)s "
                        "(%(second_delay)s days) comes after %(first)s "
                        "(%(first_delay)s days): delays must strictly increase from "
                        "one level to the next. Change the delay or the order of "
                        "the levels.",
                        policy=policy.name,
                        first=self.env["credit.dunning.level"].browse(first.key).name,
                        first_delay=first.delay_days,
                        second=self.env["credit.dunning.level"].browse(second.key).name,
                        second_delay=second.delay_days,
                    )
                )
