from odoo import api, models

from .credit_access import check_protected_create, check_protected_write


class CreditProtectedFieldsMixin(models.AbstractModel):
    """Fields of a core model that only the Credit Collection groups may change.

    A field's ``groups`` would hide it; this keeps it visible and read-only for
    the other users, enforced in ``create`` and ``write`` (see ``credit_access``).
    Models list their fields in ``_credit_protected_fields``.
    """

    _name = "credit.protected.fields.mixin"
    _description = "Fields Protected for Credit Collection"

    _credit_protected_fields = ()

    @api.model_create_multi
    def create(self, vals_list):
        check_protected_create(self, vals_list, self._credit_protected_fields)
        return super().create(vals_list)

    def write(self, vals):
        # Odoo's own synchronisations (commercial fields copied to contacts) run as
        # superuser or write the value already there: both pass.
        check_protected_write(self, vals, self._credit_protected_fields)
        return super().write(vals)
