# Copyright 2026 l10n_fr_credit_collection contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "French Credit Collection",
    "summary": "Dunning levels, French late-payment penalties, formal notice, "
    "injonction de payer and factoring for customer invoices",
    "version": "18.0.1.2.0",
    "category": "Accounting/Accounting",
    "author": "l10n_fr_credit_collection contributors",
    "website": "https://github.com/l10n-fr-credit-collection/l10n_fr_credit_collection",
    "license": "LGPL-3",
    "development_status": "Alpha",
    "depends": ["account", "mail", "l10n_fr"],
    "external_dependencies": {"python": ["num2words", "xlsxwriter"]},
    "data": [
        # Security
        "security/credit_collection_security.xml",
        "security/ir.model.access.csv",
        # Data
        "data/ir_sequence_data.xml",
        "data/mail_template_data.xml",
        "data/mail_template_statement_data.xml",
        "data/credit_dunning_policy_data.xml",
        "data/credit_reference_rate_data.xml",
        "data/credit_penalty_data.xml",
        "data/ir_cron_data.xml",
        "data/mail_activity_type_data.xml",
        "data/credit_reference_rate_cron.xml",
        "data/ir_cron_oversight_data.xml",
        # Views
        "views/credit_dunning_level_views.xml",
        "views/credit_dunning_policy_views.xml",
        "views/credit_dunning_letter_views.xml",
        "views/credit_dunning_run_views.xml",
        "views/account_move_views.xml",
        "views/account_move_filters_views.xml",
        "views/res_partner_views.xml",
        "views/res_config_settings_views.xml",
        "views/credit_reference_rate_views.xml",
        "views/credit_penalty_rule_views.xml",
        "views/credit_penalty_line_views.xml",
        "views/credit_court_request_views.xml",
        "views/credit_court_request_document_views.xml",
        "views/res_config_settings_oversight_views.xml",
        "views/credit_aged_balance_views.xml",
        "views/credit_customer_statement_views.xml",
        "views/credit_unmatched_payment_views.xml",
        "views/res_partner_behaviour_views.xml",
        "views/credit_overview_views.xml",
        "views/credit_receivable_snapshot_views.xml",
        # Wizards
        "wizards/credit_dunning_hold_wizard_views.xml",
        "wizards/credit_dunning_letter_cancel_wizard_views.xml",
        "wizards/credit_dunning_registered_wizard_views.xml",
        "wizards/credit_penalty_wizard_views.xml",
        "wizards/credit_court_request_wizard_views.xml",
        # Reports
        "reports/report_creditor_block.xml",
        "reports/report_dunning_letter.xml",
        "reports/report_penalty_statement.xml",
        "reports/report_court_request.xml",
        "reports/report_customer_statement.xml",
        # Menus
        "views/menus.xml",
    ],
    "demo": [
        "demo/credit_dunning_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "l10n_fr_credit_collection/static/src/js/tours/*.js",
        ],
    },
    "pre_init_hook": "pre_init_hook",
    "post_init_hook": "post_init_hook",
    "installable": True,
    "application": False,
}
