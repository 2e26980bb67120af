/** @odoo-module **/

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

/**
 * The main path of a credit manager: see who is late, run the dunning, open the
 * letter of the customer, check what it lists and send it.
 *
 * Data (tests/test_tour.py): customer "Boulangerie Martin", one posted invoice of
 * 1,000.00 (customer reference PO-CC-4471) due ten days ago.
 */
const MODULE = "l10n_fr_credit_collection";
const CUSTOMER = "Boulangerie Martin";

function openCreditCollectionMenu(menu, title) {
    return [
        {
            content: "Open the Credit Collection menu",
            trigger: `.o_main_navbar button[data-menu-xmlid="${MODULE}.menu_credit_collection_root"]`,
            run: "click",
        },
        {
            content: `Open ${title}`,
            trigger: `.dropdown-item[data-menu-xmlid="${MODULE}.${menu}"]`,
            run: "click",
        },
        {
            content: `${title} is displayed`,
            trigger: `.o_breadcrumb .active:contains("${title}")`,
        },
    ];
}

registry.category("web_tour.tours").add("l10n_fr_credit_collection_tour", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("account.menu_finance", "Open the accounting app"),

        // Overdue customers: the customer is listed with its overdue amount.
        ...openCreditCollectionMenu("menu_credit_overdue_customers", "Overdue Customers"),
        {
            content: "The customer is listed with its overdue amount",
            trigger: `.o_list_view .o_data_row:has(td[name="name"]:contains("${CUSTOMER}")) td[name="dunning_overdue_amount"]:contains("1,000.00")`,
        },

        // A new dunning run.
        ...openCreditCollectionMenu("menu_credit_dunning_run", "Dunning Runs"),
        {
            content: "Create a dunning run",
            trigger: ".o_control_panel_main_buttons .o_list_button_add",
            run: "click",
        },
        {
            content: "The new run is a draft",
            trigger: `.o_form_view .o_field_widget[name="state"] button[data-value="draft"][aria-checked="true"]`,
        },
        {
            content: "Compute the letters",
            trigger: `.o_form_view .o_statusbar_buttons button[name="action_compute"]`,
            run: "click",
        },
        {
            content: "The run is computed: one letter to send",
            trigger: `.o_form_view .o_field_widget[name="state"] button[data-value="computed"][aria-checked="true"]`,
        },
        {
            content: "The letter of the customer is in the run",
            trigger: `.o_field_widget[name="letter_ids"] .o_data_row td[name="partner_id"]:contains("${CUSTOMER}")`,
        },
        {
            content: "Open the letters of the run",
            trigger: `.o_form_view button[name="action_view_letters"]:has(.o_stat_value:contains("1"))`,
            run: "click",
        },

        // A single letter opens directly.
        {
            content: "The letter is for the customer",
            trigger: `.o_form_view .o_field_widget[name="partner_id"]:contains("${CUSTOMER}")`,
        },
        {
            content: "The letter lists the overdue invoice",
            trigger: `.o_field_widget[name="line_ids"] .o_data_row:has(td[name="move_id"]:contains("PO-CC-4471")) td[name="amount_residual_currency"]:contains("1,000.00")`,
        },
        {
            content: "The letter waits to be sent",
            trigger: `.o_form_view .o_field_widget[name="state"] button[data-value="to_send"][aria-checked="true"]`,
        },
        {
            content: "Send the letter",
            trigger: `.o_form_view .o_statusbar_buttons button[name="action_send"]`,
            run: "click",
        },
        {
            content: "The letter is sent",
            trigger: `.o_form_view .o_field_widget[name="state"] button[data-value="sent"][aria-checked="true"]`,
        },
        {
            content: "The letter cannot be sent twice",
            trigger: `.o_form_view .o_statusbar_buttons:not(:has(button[name="action_send"]))`,
        },
    ],
});
