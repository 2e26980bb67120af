"""18.0.1.1.0: the judgment date is the day the decision became enforceable."""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        SELECT 1 FROM information_schema.columns
         WHERE table_name = 'account_move' AND column_name = 'judgment_service_date'
        """
    )
    if cr.fetchone():
        cr.execute(
            "ALTER TABLE account_move "
            "RENAME COLUMN judgment_service_date TO judgment_enforceable_date"
        )
