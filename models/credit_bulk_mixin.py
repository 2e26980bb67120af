from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal

from odoo import _, api, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

# Field types whose written value is exactly its cache value (no rounding).
CACHEABLE_TYPES = ("boolean", "char", "date", "integer", "many2one", "selection")


def _array_element(value):
    """One element of a PostgreSQL array literal (the text form of ``array_in``)."""
    if value is None:
        return "NULL"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, date):  # datetime is a date too
        return value.isoformat(sep=" ") if isinstance(value, datetime) else str(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    raise TypeError(f"no array literal for {type(value).__name__}")


def _array_literal(values):
    """``'{1,"a b",NULL}'``: the values as one PostgreSQL array literal, or the
    list itself (adapted by psycopg2) for values that have no plain text form."""
    values = list(values)
    try:
        return "{" + ",".join(_array_element(value) for value in values) + "}"
    except TypeError:
        return values


class CreditBulkMixin(models.AbstractModel):
    """One ``INSERT`` for any number of rows of a simple snapshot table.

    The ORM inserts 100 rows per query; a dunning run or a penalty computation
    writes tens of thousands of plain rows (letters, letter items, penalty lines)
    computed by the engine. ``_bulk_create`` inserts them in one statement,
    whatever their number, with a constant number of queries. What it guarantees,
    compared with ``create``:

    - **Access rights**: the model's ``create`` access (ACL) is checked first.
    - **Record rules**: the ``create`` rules are checked on the new rows right
      after the insert, in one query, as ``create`` does with
      ``check_access('create')``: a violation raises ``AccessError`` and the
      caller's transaction (or the savepoint it runs in) is rolled back.
      Besides, a row whose ``company_id`` is not one of the user's active
      companies is refused before anything is written.
    - **Company consistency**: when the model has ``_check_company_auto``, every
      ``check_company`` many2one given is checked against the row's company
      before the insert (one query per field and company), as ``create`` does
      with ``_check_company``; a mismatch raises ``UserError``.
    - **Constraints**: SQL constraints, ``NOT NULL`` of required fields and
      unique indexes apply (the database enforces them). Python
      ``@api.constrains`` methods on the given fields run on the new rows
      (``_validate_fields``), as in ``create``.
    - **Model checks**: ``_check_create_vals(vals_list)``, a hook that models
      override for the checks their ``create`` does on values (a penalty line
      is created to invoice only).
    - **Defaults are not applied**, nor are ``create`` overrides run: the caller
      gives every value (a field left out is NULL). Only for models whose fields
      are plain values given in full by the caller: no computed stored field to
      compute (stored related copies are given by the caller and kept), no
      inverse, no x2many, no translated or company-dependent field.

    ``_bulk_unlink`` deletes in one statement the rows that the user may delete
    (model ``unlink`` access, ``unlink`` record rules through the search), without
    running ``unlink`` overrides: callers only use it for rows that need none
    (draft penalty lines).
    """

    _name = "credit.bulk.mixin"
    _description = "Bulk Insert of Computed Rows"

    @api.model
    def _check_create_vals(self, vals_list):
        """Checks on the values of new rows, shared by ``create`` and
        ``_bulk_create``; raise to refuse them."""

    @api.model
    def _bulk_create(self, vals_list):
        if not vals_list:
            return self.browse()
        self.check_access("create")
        company_ids = {vals.get("company_id") for vals in vals_list} - {None, False}
        foreign = company_ids - set(self.env.companies.ids)
        if foreign and not self.env.su:
            raise AccessError(
                _(
                    "You cannot write %(model)s records of a company you are not "
                    "working in.",
                    model=self._description,
                )
            )
        self._check_create_vals(vals_list)
        self._bulk_check_company(vals_list)
        fnames = sorted({fname for vals in vals_list for fname in vals})
        fields_ = [self._fields[fname] for fname in fnames]
        now = self.env.cr.now()
        # One array per column, unnested by the server: far cheaper to send and to
        # parse than tens of thousands of VALUES tuples. Each array travels as one
        # text literal ('{1,2,NULL}'): psycopg2 would otherwise adapt every value
        # into an ARRAY[...] expression that the server parses element by element.
        columns = [
            SQL(
                "%s::%s[]",
                _array_literal(
                    field.convert_to_column(vals.get(field.name), self, vals)
                    for vals in vals_list
                ),
                SQL(field.column_type[1]),
            )
            for field in fields_
        ]
        ids = [
            row[0]
            for row in self.env.execute_query(
                SQL(
                    "INSERT INTO %s (%s, create_uid, create_date, write_uid,"
                    " write_date) SELECT *, %s, %s, %s, %s FROM unnest(%s)"
                    " RETURNING id",
                    SQL.identifier(self._table),
                    SQL(", ").join(SQL.identifier(fname) for fname in fnames),
                    self.env.uid,
                    now,
                    self.env.uid,
                    now,
                    SQL(", ").join(columns),
                )
            )
        ]
        records = self.browse(ids)
        # What the ORM's create does after its inserts: the one2many lists pointing
        # back at the new rows and the fields that depend on them are out of date.
        for field in fields_:
            if field.type != "many2one":
                continue
            targets = self.env[field.comodel_name].browse(
                {vals[field.name] for vals in vals_list if vals.get(field.name)}
            )
            for inverse in self.pool.field_inverses[field]:
                targets.invalidate_recordset([inverse.name])
        records.modified(fnames, create=True)
        # Stored computed fields given in the values (related copies such as a
        # letter item's state) are already right in the table: nothing to recompute.
        for field in fields_:
            if field.compute and field.store:
                self.env.remove_to_compute(field, records)
        records._bulk_check_rules()
        records._bulk_validate(fields_, vals_list)
        return records

    @api.model
    def _bulk_check_company(self, vals_list):
        """``_check_company`` on values: each ``check_company`` many2one given must
        belong to the row's company (or to none); one query per field and company."""
        if not self._check_company_auto:
            return
        Company = self.env["res.company"]
        for fname, field in self._fields.items():
            if field.type != "many2one" or not field.check_company:
                continue
            per_company = defaultdict(set)
            for vals in vals_list:
                if vals.get(fname):
                    per_company[vals.get("company_id") or False].add(vals[fname])
            Comodel = (
                self.env[field.comodel_name].sudo().with_context(active_test=False)
            )
            for company_id, ids in per_company.items():
                domain = Comodel._check_company_domain(Company.browse(company_id))
                if not domain:
                    continue
                allowed = Comodel.search([("id", "in", list(ids)), *domain], order="id")
                wrong = Comodel.browse(ids) - allowed
                if wrong:
                    raise UserError(
                        _(
                            "%(record)s (%(field)s) belongs to another company than "
                            "the %(model)s being created for %(company)s.",
                            record=wrong[0].display_name,
                            field=field._description_string(self.env),
                            model=self._description,
                            company=Company.browse(company_id).display_name,
                        )
                    )

    def _bulk_check_rules(self):
        """``check_access('create')`` on the new rows, in one query instead of one
        per thousand rows: the ``create`` record rules must accept every row."""
        if self.env.su:
            return
        domain = self.env["ir.rule"]._compute_domain(self._name, "create")
        if not domain:
            return
        query = self.sudo().with_context(active_test=False)._search(domain)
        query.add_where(
            SQL("%s = ANY(%s)", SQL.identifier(self._table, "id"), list(self._ids))
        )
        allowed = {row[0] for row in self.env.execute_query(query.select())}
        forbidden = self.browse([id_ for id_ in self._ids if id_ not in allowed])
        if forbidden:
            raise self.env["ir.rule"]._make_access_error("create", forbidden)

    def _bulk_validate(self, fields_, vals_list):
        """``_validate_fields`` on the new rows. The written values of the simple
        fields the constraints read are put in cache first, so that a constraint
        filtering the rows costs no query per thousand rows."""
        fnames = {field.name for field in fields_}
        checked = set()
        for check in self._constraint_methods:
            if not fnames.isdisjoint(check._constrains):
                checked.update(check._constrains)
        if not checked:
            return
        for field in fields_:
            if field.name in checked and field.type in CACHEABLE_TYPES:
                self.env.cache.update(
                    self,
                    field,
                    [
                        field.convert_to_cache(
                            vals.get(field.name), self, validate=False
                        )
                        for vals in vals_list
                    ],
                )
        self._validate_fields(fnames)

    @api.model
    def _bulk_unlink(self, domain):
        """Delete the records matching ``domain`` in one statement (same access
        checks as ``unlink``: model access, then record rules through the search)."""
        self.check_access("unlink")
        # Everything pending is written first, so that dropping the cache below
        # loses nothing.
        self.env.flush_all()
        query = self._search(domain)
        if query.is_empty():
            return
        if query._joins or len(query._tables) > 1:
            condition = SQL("id IN %s", query.subselect())
        else:
            # The conditions on the table itself: "id IN (subquery)" would let the
            # planner, misled by rows inserted in the same transaction (not yet
            # analysed), test every row against the whole subquery.
            condition = query.where_clause if query._where_clauses else SQL("TRUE")
        self.env.execute_query(
            SQL("DELETE FROM %s WHERE %s", SQL.identifier(self._table), condition)
        )
        # The rows are gone: forget them, and everything pointing at them.
        self.env.invalidate_all(flush=False)
