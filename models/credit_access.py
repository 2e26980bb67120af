"""Who may change the collection data, shared by the models that protect it.

The audit trail (sent letters, their items, waived and invoiced penalty lines) is
locked against users; the few code paths that must still change it (the invoicing
of penalty lines, the release of the lines of a cancelled penalty invoice) mark
their environment with :func:`internal`. The mark is a Python object that JSON
cannot carry, so an RPC client can never forge it through the context, unlike a
plain context key; and unlike ``sudo()`` it keeps the user's access rights and
record rules for everything else.
"""

from odoo.exceptions import AccessError

COLLECTION_USER = "l10n_fr_credit_collection.group_credit_collection_user"
COLLECTION_MANAGER = "l10n_fr_credit_collection.group_credit_collection_manager"

_INTERNAL_KEY = "credit_collection_internal"
_INTERNAL_TOKEN = object()


def internal(records):
    """``records`` in an environment allowed through the audit-trail locks."""
    return records.with_context(**{_INTERNAL_KEY: _INTERNAL_TOKEN})


def is_internal(env):
    """Whether ``env`` runs a code path allowed through the audit-trail locks: the
    superuser, or a path marked by :func:`internal`."""
    return env.su or env.context.get(_INTERNAL_KEY) is _INTERNAL_TOKEN


def is_collection_user(env):
    return env.su or env.user.has_group(COLLECTION_USER)


def check_collection_user(env, action):
    """Raise unless the user belongs to a Credit Collection group."""
    if not is_collection_user(env):
        raise AccessError(
            env._(
                "%(action)s is reserved to the Credit Collection users: ask your "
                "administrator for the group Credit Collection / User.",
                action=action,
            )
        )


def _field_labels(model, fnames):
    return ", ".join(
        model._fields[fname]._description_string(model.env) for fname in fnames
    )


def check_protected_write(records, vals, fnames):
    """Refuse a real change of a collection field by a user outside the collection
    groups. Writing the value a field already has is allowed (a form saving all
    its fields, Odoo's own synchronisations), so a plain user's ordinary work on
    the same record is never blocked."""
    names = [fname for fname in fnames if fname in vals and fname in records._fields]
    env = records.env
    if not names or not records or is_collection_user(env) or is_internal(env):
        return
    for record in records:
        changed = []
        for fname in names:
            field = records._fields[fname]
            new = field.convert_to_record(
                field.convert_to_cache(vals[fname], record), record
            )
            if record[fname] != new:
                changed.append(fname)
        if changed:
            raise AccessError(
                env._(
                    "Only the Credit Collection users can change %(fields)s of "
                    "%(record)s: ask a credit collection user to do it.",
                    fields=_field_labels(records, changed),
                    record=record.display_name,
                )
            )


def check_protected_create(model, vals_list, fnames):
    """Refuse a new record carrying a collection field value other than its
    default, for a user outside the collection groups."""
    names = {
        fname
        for vals in vals_list
        for fname in fnames
        if fname in vals and fname in model._fields
    }
    if not names or is_collection_user(model.env) or is_internal(model.env):
        return
    defaults = model.default_get(list(names))
    record = model.browse()
    for vals in vals_list:
        changed = []
        for fname in names & vals.keys():
            field = model._fields[fname]
            given = field.convert_to_cache(vals[fname], record, validate=False)
            default = field.convert_to_cache(
                defaults.get(fname), record, validate=False
            )
            if given != default:
                changed.append(fname)
        if changed:
            raise AccessError(
                model.env._(
                    "Only the Credit Collection users can set %(fields)s on a new "
                    "%(model)s: leave them empty and ask a credit collection user.",
                    fields=_field_labels(model, sorted(changed)),
                    model=model._description,
                )
            )
