"""18.0.1.2.0: the customer's legal nature (it decides the court of an
injonction de payer), filled from the debtor type in one statement instead of a
computation per contact; the factoring state of the documents, none so far."""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        "ALTER TABLE res_partner ADD COLUMN IF NOT EXISTS credit_legal_nature VARCHAR"
    )
    cr.execute(
        """
        UPDATE res_partner
           SET credit_legal_nature = CASE WHEN debtor_type = 'consumer'
                                          THEN 'consumer' ELSE 'trader' END
         WHERE credit_legal_nature IS NULL
        """
    )
    # No posted document was factored before this version.
    cr.execute(
        "ALTER TABLE account_move "
        "ADD COLUMN IF NOT EXISTS factoring_state VARCHAR DEFAULT 'none'"
    )
    cr.execute("ALTER TABLE account_move ALTER COLUMN factoring_state DROP DEFAULT")
