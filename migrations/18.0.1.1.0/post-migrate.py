"""18.0.1.1.0: penalty lines keyed on the invoice and the installment's due date;
penalty invoices flagged so that they never bear penalties."""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        UPDATE credit_penalty_line line
           SET date_maturity = item.date_maturity
          FROM account_move_line item
         WHERE item.id = line.move_line_id
           AND line.date_maturity IS NULL
        """
    )
    cr.execute(
        """
        UPDATE account_move move
           SET is_penalty_invoice = TRUE
         WHERE move.id IN (SELECT penalty_move_id FROM credit_penalty_line
                            WHERE penalty_move_id IS NOT NULL)
        """
    )
