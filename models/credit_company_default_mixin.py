from odoo import api, fields, models


class CreditCompanyDefaultMixin(models.AbstractModel):
    """A named, ordered setting of a company, one of which is its default
    (dunning policies, penalty rules). Each model adds its own SQL constraint
    ``default_unique`` so that the database allows one active default per company."""

    _name = "credit.company.default.mixin"
    _description = "Company Setting with a Default"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    is_default = fields.Boolean(string="Default")

    def action_set_default(self):
        """Make this record the default of its company (and only this one)."""
        for record in self:
            self.search(
                [
                    ("company_id", "=", record.company_id.id),
                    ("is_default", "=", True),
                    ("id", "!=", record.id),
                ]
            ).is_default = False
            record.is_default = True
        return True

    @api.model
    def _get_company_default(self, company):
        return self.search(
            [("company_id", "=", company.id), ("is_default", "=", True)], limit=1
        )
