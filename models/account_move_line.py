from odoo import api, fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    dunning_letter_line_ids = fields.One2many(
        "credit.dunning.letter.line", "move_line_id", string="Dunning History"
    )
    dunning_level_id = fields.Many2one(
        "credit.dunning.level",
        string="Dunning Level",
        compute="_compute_dunning_level_id",
        store=True,
        index="btree_not_null",
        help="Highest level this installment received in a letter not cancelled.",
    )

    @api.depends("dunning_letter_line_ids.level_id", "dunning_letter_line_ids.letter_state")
    def _compute_dunning_level_id(self):
        Level = self.env["credit.dunning.level"]
        for line in self:
            levels = line.dunning_letter_line_ids.filtered(
                lambda dl: dl.letter_state != "cancelled"
            ).level_id
            line.dunning_level_id = (
                max(levels, key=Level._severity_key) if levels else False
            )

    @api.model
    def _get_dunning_excluded_domain(self):
        """Extra domain on receivable items that must never be dunned.

        Designed to be inherited: the factoring feature adds the items assigned to
        a factor here, since the factor collects them.
        """
        return []
