from markupsafe import Markup

from odoo import api, fields, models


class CreditLegalDeadlineMixin(models.AbstractModel):
    """Schedules the legal deadlines computed by ``engine/deadlines.py`` as
    activities: one open activity per record and rule, for the responsible user,
    due on the deadline, its note stating the rule and its source.

    Used by court cases, collective proceedings and the prescription watch: one
    wording of each rule, whatever the record."""

    _name = "credit.legal.deadline.mixin"
    _description = "Legal Deadlines as Activities"
    _inherit = ["mail.activity.mixin"]

    @api.model
    def _legal_deadline_labels(self):
        """``{rule key: (summary, statement)}``, translated: the activity's summary
        and the sentence of its note (the engine's rules, in the user's words)."""
        _ = self.env._
        return {
            "court_fee": (
                _("Pay the court fee"),
                _(
                    "Pay the commercial court's fee within 15 days of filing, or the "
                    "request lapses."
                ),
            ),
            "service": (
                _("Serve the order"),
                _(
                    "Have the order served by a commissaire de justice before this "
                    "date, or it lapses."
                ),
            ),
            "opposition": (
                _("Opposition window ends"),
                _(
                    "The debtor may oppose the order until this date (one month from "
                    "service in person, plus one month overseas and two abroad)."
                ),
            ),
            "enforcement": (
                _("Enforce the order"),
                _(
                    "Without a notice of opposition, the order can be enforced from "
                    "this date."
                ),
            ),
            "lawyer": (
                _("Appoint a lawyer"),
                _(
                    "The debtor opposed before the judicial court a claim above "
                    "10,000 EUR: appoint a lawyer within 15 days of being notified."
                ),
            ),
            "title": (
                _("Enforceable title expires"),
                _("An enforceable title can be enforced for 10 years."),
            ),
            "eop_opposition": (
                _("European order: opposition window ends"),
                _(
                    "The debtor may oppose the European order for payment within 30 "
                    "days of service."
                ),
            ),
            "small_claims": (
                _("Small-claims procedure ends"),
                _(
                    "The debtor has one month from the commissaire de justice's "
                    "letter to agree on the amount and the schedule."
                ),
            ),
            "declaration": (
                _("Declare the claims"),
                _(
                    "Send the declaration of claims to the mandataire within two "
                    "months of the BODACC publication (four months for a creditor "
                    "abroad or overseas), or the claims are foreclosed."
                ),
            ),
            "relief": (
                _("Ask for relief from foreclosure"),
                _(
                    "A creditor who missed the declaration may ask the court to be "
                    "relieved of the foreclosure within six months of the publication."
                ),
            ),
            "revendication": (
                _("Claim back the goods"),
                _(
                    "Goods sold under retention of title are claimed back from the "
                    "administrator or the liquidator within three months of the "
                    "publication."
                ),
            ),
            "prescription": (
                _("Claim about to be prescribed"),
                _(
                    "The claim is prescribed on this date unless it is interrupted "
                    "(acknowledgment of debt, court claim, declaration of claims)."
                ),
            ),
        }

    def _legal_deadline_summary(self, key):
        return self._legal_deadline_labels()[key][0]

    def _schedule_legal_deadline(self, deadline, user=None, date_deadline=None):
        """Schedule (or move) the activity of one engine ``Deadline`` on each record
        of ``self``, for ``user`` (default: the record's ``user_id``, else the
        current user), due on ``date_deadline`` (default: the deadline's date).
        An open activity of the same rule is updated rather than duplicated."""
        activity_type = self.env.ref(
            "l10n_fr_credit_collection.mail_activity_type_legal_deadline"
        )
        due = date_deadline or deadline.date
        existing = {
            activity.res_id: activity
            for activity in self._legal_deadline_activities(deadline.key)
        }
        # Worded once per language, in the language of the user who will read it.
        wording = {}
        new_vals = []
        res_model_id = self.env["ir.model"]._get_id(self._name)
        for record in self:
            responsible = user or record._legal_deadline_user()
            lang = responsible.lang or self.env.lang
            if lang not in wording:
                worded = self.with_context(lang=lang)
                summary, statement = worded._legal_deadline_labels()[deadline.key]
                wording[lang] = (
                    summary,
                    Markup("<p>%s</p><p>%s</p>")
                    % (
                        statement,
                        worded.env._(
                            "Deadline: %(date)s. Source: %(article)s.",
                            date=fields.Date.to_string(deadline.date),
                            article=deadline.article,
                        ),
                    ),
                )
            summary, note = wording[lang]
            values = {
                "date_deadline": due,
                "user_id": responsible.id,
                "note": note,
                "summary": summary,
            }
            if record.id in existing:
                existing[record.id].write(values)
            else:
                new_vals.append(
                    {
                        **values,
                        "res_model_id": res_model_id,
                        "res_id": record.id,
                        "activity_type_id": activity_type.id,
                        "credit_deadline_key": deadline.key,
                    }
                )
        # One create for all the new activities (a job may schedule thousands).
        if new_vals:
            self.env["mail.activity"].create(new_vals)
        return True

    def _legal_deadline_user(self):
        """The record's responsible, else the current user; a deadline scheduled
        by a scheduled action (the superuser) goes to a credit collection manager
        of the company rather than to OdooBot."""
        self.ensure_one()
        user = self["user_id"] if "user_id" in self._fields else None
        user = user or self.env.user
        if user._is_superuser():
            company = self["company_id"] if "company_id" in self._fields else None
            managers = (company or self.env.company)._credit_manager_users()
            user = managers[:1] or user
        return user

    def _legal_deadline_activities(self, keys):
        """The open legal-deadline activities of ``self`` for one key or a list."""
        keys = [keys] if isinstance(keys, str) else list(keys)
        return (
            self.env["mail.activity"]
            .sudo()
            .search(
                [
                    ("res_model", "=", self._name),
                    ("res_id", "in", self.ids),
                    ("credit_deadline_key", "in", keys),
                ]
            )
        )

    def _done_legal_deadline(self, keys, feedback=None):
        """Mark the open activities of these rules done (the step was taken)."""
        activities = self._legal_deadline_activities(keys)
        if activities:
            activities.action_feedback(feedback=feedback)
        return True

    def _cancel_legal_deadline(self, keys):
        """Remove the open activities of rules that no longer apply."""
        self._legal_deadline_activities(keys).unlink()
        return True
