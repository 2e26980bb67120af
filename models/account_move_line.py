from odoo import api, fields, models
from odoo.tools import SQL

from ..engine.levels import SEVERITY
from .account_move_factoring import LOCKED_LINE_FIELDS

# Column of ``credit_dunning_level`` behind each attribute of the engine's order.
SEVERITY_COLUMNS = {
    "is_formal_notice": SQL("COALESCE(level.is_formal_notice, FALSE)"),
    "delay_days": SQL("level.delay_days"),
    "sequence": SQL("level.sequence"),
    "key": SQL("level.id"),
}


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    dunning_letter_line_ids = fields.One2many(
        "credit.dunning.letter.line", "move_line_id", string="Dunning History"
    )
    dunning_level_id = fields.Many2one(
        "credit.dunning.level",
        string="Dunning Level",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Highest level this installment received in a letter actually sent.",
    )

    def _refresh_dunning_level(self):
        """Recompute the dunning level of these items from their sent letters, in
        one UPDATE whatever their number, in the engine's order of severity.

        Only a sent letter counts: a letter still waiting (to send, to print, on
        hold or in error) has told the customer nothing yet."""
        if not self:
            return
        self.env["credit.dunning.letter.line"].flush_model(
            ["move_line_id", "level_id", "letter_state"]
        )
        self.env["credit.dunning.level"].flush_model(
            ["is_formal_notice", "delay_days", "sequence"]
        )
        self.env.cr.execute(
            SQL(
                """
                UPDATE account_move_line aml
                   SET dunning_level_id = fresh.level_id
                  FROM (
                        SELECT item.id,
                               (SELECT level.id
                                  FROM credit_dunning_letter_line dl
                                  JOIN credit_dunning_level level
                                    ON level.id = dl.level_id
                                 WHERE dl.move_line_id = item.id
                                   AND dl.letter_state = 'sent'
                              ORDER BY %s
                                 LIMIT 1) AS level_id
                          FROM unnest(%s::int[]) AS item(id)
                       ) AS fresh
                 WHERE aml.id = fresh.id
                   AND aml.dunning_level_id IS DISTINCT FROM fresh.level_id
                """,
                SQL(", ").join(
                    SQL("%s DESC", SEVERITY_COLUMNS[name]) for name in SEVERITY
                ),
                list(self.ids),
            )
        )
        self.invalidate_recordset(["dunning_level_id"])
        self.env["account.move"].invalidate_model(["dunning_level_id"])

    @api.model
    def _get_dunning_excluded_domain(self):
        """Extra domain on receivable items that must never be dunned.

        Designed to be inherited. The items of a document assigned to a factor who
        collects it (a notified contract) are left out: the debtor must pay the
        factor, and only the factor may remind him. The items of a confidential
        contract stay in our dunning. The exclusion is one sub-select on the
        documents, whatever their number.
        """
        collected = (
            self.env["account.move"]
            .sudo()
            ._search(self.env["account.move"]._get_factor_collected_domain())
        )
        return [("move_id", "not in", collected)]

    # ------------------------------------------------------------------ factoring lock

    def write(self, vals):
        # Matching a payment (the factor's remittance) writes none of these.
        if LOCKED_LINE_FIELDS.intersection(vals):
            self.filtered(
                lambda line: line.parent_state == "posted"
            ).move_id._check_factoring_lock(
                self.env._(
                    "its customer, amounts, currency and dates can no longer change"
                )
            )
        return super().write(vals)

    def unlink(self):
        self.filtered(
            lambda line: line.parent_state == "posted"
        ).move_id._check_factoring_lock(
            self.env._("its journal items cannot be deleted")
        )
        return super().unlink()
