"""18.0.1.3.0: the day each claim was born (collective proceedings), the invoice
date of every existing document, filled in one statement instead of a
computation per document."""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        "ALTER TABLE account_move ADD COLUMN IF NOT EXISTS credit_claim_birth_date DATE"
    )
    cr.execute(
        "UPDATE account_move SET credit_claim_birth_date = invoice_date "
        "WHERE credit_claim_birth_date IS NULL AND invoice_date IS NOT NULL"
    )
