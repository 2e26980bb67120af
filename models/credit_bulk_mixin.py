from odoo import _, api, models
from odoo.exceptions import AccessError
from odoo.tools import SQL


class CreditBulkMixin(models.AbstractModel):
    """One ``INSERT`` for any number of rows of a simple snapshot table.

    The ORM inserts 100 rows per query; a dunning run or a penalty computation
    writes tens of thousands of plain rows (letter items, penalty lines) computed
    by the engine. This inserts them in one statement, whatever their number, with
    the same access checks as ``create``. Only for models whose fields are plain
    values given in full by the caller: no computed stored field, no inverse,
    no x2many, no translated or company-dependent field.
    """

    _name = "credit.bulk.mixin"
    _description = "Bulk Insert of Computed Rows"

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
        fnames = sorted({fname for vals in vals_list for fname in vals})
        fields_ = [self._fields[fname] for fname in fnames]
        now = self.env.cr.now()
        # One array per column, unnested by the server: far cheaper to send and to
        # parse than tens of thousands of VALUES tuples.
        columns = [
            SQL(
                "%s::%s[]",
                [
                    field.convert_to_column(vals.get(field.name), self, vals)
                    for vals in vals_list
                ],
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
        return records

    @api.model
    def _bulk_unlink(self, domain):
        """Delete the records matching ``domain`` in one statement (same access
        checks as ``unlink``: model access, then record rules through the search)."""
        self.check_access("unlink")
        # Everything pending is written first, so that dropping the cache below
        # loses nothing.
        self.env.flush_all()
        query = self._search(domain)
        self.env.execute_query(
            SQL(
                "DELETE FROM %s WHERE id IN %s",
                SQL.identifier(self._table),
                query.subselect(),
            )
        )
        # The rows are gone: forget them, and everything pointing at them.
        self.env.invalidate_all(flush=False)
