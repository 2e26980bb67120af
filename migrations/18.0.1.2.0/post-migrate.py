"""18.0.1.2.0: the formal notice prints its consequences itself (LAW.md §6, point
8), worded for professionals and consumers; the closing text of the shipped
formal-notice level, which repeated them and spoke of penalties to consumers too,
becomes a courtesy line where it was never edited. The receivables trend is
rebuilt for the last 12 month ends, as an installation does."""

from odoo import SUPERUSER_ID, api

OLD_CLOSING = (
    "<p>À défaut de paiement dans ce délai, nous saisirons la juridiction "
    "compétente, notamment par voie d'injonction de payer, sans autre avis. Les "
    "pénalités de retard continuent de courir jusqu'au complet paiement, et les "
    "frais de la procédure resteront à votre charge.</p>"
)
NEW_CLOSING = (
    "<p>Nous restons à votre disposition pour convenir des modalités de "
    "règlement.</p>"
)


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        UPDATE credit_dunning_level
           SET letter_closing = jsonb_build_object('en_US', %s::text)
         WHERE is_formal_notice
           AND letter_closing IS NOT NULL
           AND NOT EXISTS (
                SELECT 1 FROM jsonb_each_text(letter_closing) AS value(lang, text)
                 WHERE text != %s
           )
        """,
        (NEW_CLOSING, OLD_CLOSING),
    )
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["credit.receivable.snapshot"]._rebuild_trend(env["res.company"].search([]))
