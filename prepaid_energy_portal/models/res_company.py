import logging

from odoo import fields, models

_logger = logging.getLogger(__name__)

#: meter states a digest lists, deepest first, then the hardware's offline meters
DIGEST_STATES = ("arrears", "alarm2", "alarm1")
STAFF_GROUP = "prepaid_energy.group_prepaid_officer"


class ResCompany(models.Model):
    _inherit = "res.company"

    prepaid_digest_date = fields.Date(
        string="Last prepaid digest", readonly=True, copy=False, help="Sent once a day."
    )

    def _prepaid_digest_meters(self):
        """``{section: meters}`` of this company the staff digest lists: meters in
        arrears, alarm 2 and alarm 1 (their wallet's level), and offline meters when the
        hardware addon tells which are (its ``hw_online_state``)."""
        self.ensure_one()
        Meter = self.env["prepaid.meter"].sudo().with_company(self)
        base = [("company_id", "=", self.id), ("active", "=", True), ("account_id", "!=", False)]
        sections = {
            state: Meter.search([*base, ("account_id.alarm_level", "=", state)], order="serial")
            for state in DIGEST_STATES
        }
        if "hw_online_state" in Meter._fields:
            sections["offline"] = Meter.search(
                [("company_id", "=", self.id), ("active", "=", True)]
                + [("hw_online_state", "=", "offline")],
                order="serial",
            )
        return sections

    def _prepaid_digest_recipients(self):
        """Prepaid officers (and managers) of this company with an e-mail address."""
        self.ensure_one()
        group = self.env.ref(STAFF_GROUP)
        return (
            group.sudo()
            .users.filtered(
                lambda user: (
                    self in user.company_ids and user.email and user.active and not user.share
                )
            )
            .partner_id
        )

    def _cron_prepaid_digest(self):
        """Mail each company's staff the meters in alarm, arrears and offline, once a day."""
        today = fields.Date.context_today(self)
        template = self.env.ref("prepaid_energy_portal.mail_template_prepaid_staff_digest")
        companies = self.sudo().search(
            ["|", ("prepaid_digest_date", "=", False), ("prepaid_digest_date", "<", today)]
        )
        sent = self.browse()
        for company in companies:
            sections = company._prepaid_digest_meters()
            recipients = company._prepaid_digest_recipients()
            if recipients and any(sections.values()):
                template.with_company(company).send_mail(
                    company.id,
                    email_values={"recipient_ids": [fields.Command.set(recipients.ids)]},
                )
                sent |= company
        # a second run the same day finds nothing to do
        companies.write({"prepaid_digest_date": today})
        _logger.info("prepaid digest: %s companies, %s mailed", len(companies), len(sent))
        return sent
