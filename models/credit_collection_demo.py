from dateutil.relativedelta import relativedelta

from odoo import SUPERUSER_ID, Command, api, fields, models


class CreditCollectionDemo(models.AbstractModel):
    """Builds the demo data: a French company with customers late to various
    degrees, so that a new user sees a dunning run at work at once."""

    _name = "credit.collection.demo"
    _description = "Credit Collection Demo Data"

    @api.model
    def _demo_french(self, admin):
        """The demo speaks French when French is installed (tools/run_demo.sh loads
        it): the administrator and the customers use it."""
        lang = self.env["res.lang"]._activate_lang("fr_FR")
        if not lang:
            return self.env.lang or "en_US"
        admin.lang = "fr_FR"
        return "fr_FR"

    @api.model
    def _demo_penalty_accounts(self, company):
        """Penalty invoices need their income accounts: those of the French chart
        (763800 penalties, 758000 indemnities) when the company has it."""
        Account = self.env["account.account"].with_company(company)
        accounts = {
            code: Account.search(
                [*Account._check_company_domain(company), ("code", "=", code)],
                limit=1,
            )
            for code in ("763800", "758000")
        }
        if all(accounts.values()):
            company.write(
                {
                    "penalty_interest_account_id": accounts["763800"].id,
                    "penalty_indemnity_account_id": accounts["758000"].id,
                }
            )

    @api.model
    def _load_demo(self):
        company = self.env.ref("base.demo_company_fr", raise_if_not_found=False)
        if not company or not self.env["account.journal"].search_count(
            [("company_id", "=", company.id), ("type", "=", "sale")], limit=1
        ):
            company = self.env.ref("base.main_company")
        admin = self.env.ref("base.user_admin")
        admin.write(
            {"company_ids": [Command.link(company.id)], "company_id": company.id}
        )
        env = self.with_company(company).with_context(tracking_disable=True).env
        lang = self._demo_french(admin)
        self._demo_penalty_accounts(company)
        # The registry mentions every letter prints (C. com. R123-237).
        company.write(
            {
                "legal_form": company.legal_form or "SAS",
                "share_capital": company.share_capital or 10000.0,
                "rcs_city": company.rcs_city or company.city or "Paris",
                "credit_legal_representative": company.credit_legal_representative
                or f"{admin.name}, président",
            }
        )
        policy = env["credit.dunning.policy"].search(
            [("company_id", "=", company.id), ("is_default", "=", True)], limit=1
        )
        if not policy:
            env.ref("l10n_fr_credit_collection.credit_dunning_policy_standard").copy(
                {
                    "company_id": company.id,
                    "is_default": True,
                    "name": "Relances standard",
                }
            )
        today = fields.Date.context_today(self)
        france = env.ref("base.fr")
        customers = env["res.partner"].create(
            [
                {
                    "name": name,
                    "is_company": True,
                    "email": email,
                    "street": street,
                    "zip": zip_code,
                    "city": city,
                    "country_id": france.id,
                    "company_registry": siren,
                    "debtor_type": debtor_type,
                    "lang": lang,
                }
                for name, email, street, zip_code, city, siren, debtor_type in (
                    (
                        "Boulangerie Martin SARL",
                        "compta@boulangerie-martin.example",
                        "12 rue de la Paix",
                        "75002",
                        "Paris",
                        "512345678",
                        "professional",
                    ),
                    (
                        "Garage Dupont SAS",
                        "factures@garage-dupont.example",
                        "4 avenue Jean Jaurès",
                        "69007",
                        "Lyon",
                        "498765432",
                        "professional",
                    ),
                    (
                        "Menuiserie Leroy",
                        False,
                        "8 chemin des Vignes",
                        "33000",
                        "Bordeaux",
                        "443322110",
                        "professional",
                    ),
                    (
                        "Hôtel du Port SA",
                        "comptabilite@hotel-du-port.example",
                        "1 quai des Belges",
                        "13001",
                        "Marseille",
                        "389012345",
                        "professional",
                    ),
                )
            ]
        )
        consumer = env["res.partner"].create(
            {
                "name": "Sophie Bernard",
                "email": "sophie.bernard@example.com",
                "street": "3 place du Marché",
                "zip": "44000",
                "city": "Nantes",
                "country_id": france.id,
                "debtor_type": "consumer",
                "lang": lang,
            }
        )
        product = env["product.product"].create(
            {"name": "Prestation de maintenance", "type": "service", "list_price": 1000}
        )
        split_term = env["account.payment.term"].create(
            {
                "name": "50 % à 30 jours, solde à 60 jours",
                "line_ids": [
                    Command.create(
                        {"value": "percent", "value_amount": 50, "nb_days": 30}
                    ),
                    Command.create(
                        {"value": "percent", "value_amount": 50, "nb_days": 60}
                    ),
                ],
            }
        )
        term_30 = env.ref("account.account_payment_term_30days")

        def invoice(partner, days_ago, amount, term=term_30, move_type="out_invoice"):
            return env["account.move"].create(
                {
                    "move_type": move_type,
                    "partner_id": partner.id,
                    "invoice_date": today - relativedelta(days=days_ago),
                    "invoice_payment_term_id": term.id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "quantity": 1,
                                "price_unit": amount,
                            }
                        )
                    ],
                }
            )

        martin, dupont, leroy, hotel = customers
        moves = (
            invoice(martin, 38, 1200)  # 8 days late: first reminder
            + invoice(martin, 25, 640)  # due in 5 days: courtesy reminder
            + invoice(dupont, 55, 4800)  # 25 days late: second reminder
            + invoice(dupont, 100, 2300, term=split_term)  # two installments, both late
            + invoice(leroy, 80, 3100)  # 50 days late, no email: letter by post
            + invoice(hotel, 140, 9600)  # 110 days late
            + invoice(hotel, 70, 1500)  # disputed, put on hold below
            + invoice(consumer, 45, 350)  # consumer, 15 days late
            + invoice(hotel, 20, 800, move_type="out_refund")  # open credit note
        )
        # Customer order references: the contractual basis of a court request.
        moves[2].ref = "BC-2026-0412"
        moves[3].ref = "BC-2026-0377"
        moves.action_post()
        moves[6]._set_dunning_hold("dispute", "Livraison contestée par le client")
        env["account.payment.register"].with_context(
            active_model="account.move", active_ids=moves[2].ids
        ).create(
            {"amount": 1800, "payment_date": today - relativedelta(days=10)}
        )._create_payments()
        self.with_env(env)._load_demo_followups(customers | consumer, moves)
        self.with_env(env)._demo_assign_to(admin)
        return True

    def _demo_assign_to(self, user):
        """The demo loader runs as the superuser: the cases, proceedings and plans
        it created, and their activities, go to ``user`` (who explores the demo)."""
        for model in (
            "credit.court.request",
            "credit.collective.proceeding",
            "credit.payment.plan",
        ):
            records = self.env[model].search([("user_id", "=", SUPERUSER_ID)])
            records.write({"user_id": user.id})
            self.env["mail.activity"].search(
                [
                    ("res_model", "=", model),
                    ("res_id", "in", records.ids),
                    ("user_id", "=", SUPERUSER_ID),
                ]
            ).write({"user_id": user.id})

    def _load_demo_followups(self, partners, moves):
        """Demo records of the later capabilities (court cases, collective
        proceedings, late causes, payment plans): each extends this method.

        :param partners: Boulangerie Martin, Garage Dupont, Menuiserie Leroy,
            Hôtel du Port (professionals) and Sophie Bernard (consumer)
        :param moves: the demo documents, in the order created above
        """
        return True
