"""18.0.1.3.2: the short print delay of the court filing now applies to every
document the addon prints one by one; its system parameter is renamed."""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """UPDATE ir_config_parameter
              SET key = 'l10n_fr_credit_collection.print_delay'
            WHERE key = 'l10n_fr_credit_collection.filing_print_delay'
              AND NOT EXISTS (
                  SELECT 1 FROM ir_config_parameter
                   WHERE key = 'l10n_fr_credit_collection.print_delay')"""
    )
