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

    # XML id of the record a new company gets a copy of, as its default.
    _company_default_template = None

    @api.model
    def _create_company_defaults(self, companies):
        """Give each company without a default a copy of the shipped default, so
        that a company created after installation never fails for a missing one."""
        template = self._company_default_template and self.env.ref(
            self._company_default_template, raise_if_not_found=False
        )
        if not template:
            return self.browse()
        Model = self.sudo().with_context(active_test=False)
        with_default = set(
            Model.search(
                [("company_id", "in", companies.ids), ("is_default", "=", True)]
            ).company_id.ids
        )
        created = self.browse()
        for company in companies.filtered(lambda c: c.id not in with_default):
            created |= template.sudo().copy({"company_id": company.id})
        return created

    @api.model
    def _get_company_default(self, company):
        return self.search(
            [("company_id", "=", company.id), ("is_default", "=", True)], limit=1
        )
