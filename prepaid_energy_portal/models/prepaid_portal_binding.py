import datetime

from markupsafe import Markup
from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from prepaid_energy_core import selfservice

from .prepaid_account import normalize_code

#: wrong proofs a portal user may give in an hour before being made to wait
PROOF_ATTEMPTS = selfservice.RateLimit(5, datetime.timedelta(hours=1))
OFFICER_GROUP = "prepaid_energy.group_prepaid_officer"


class PrepaidPortalBinding(models.Model):
    """A portal user's request to act for a tenant, proven by a receipt, approved by staff."""

    _name = "prepaid.portal.binding"
    _description = "Portal link request"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "create_date desc, id desc"
    _check_company_auto = True

    user_id = fields.Many2one(
        "res.users", string="Portal user", required=True, index=True, readonly=True
    )
    partner_id = fields.Many2one(
        related="user_id.partner_id", string="Contact", store=True, readonly=True
    )
    lookup = fields.Char(
        string="Number given", readonly=True, help="Account number or meter serial typed."
    )
    account_id = fields.Many2one(
        "prepaid.account", string="Prepaid account", readonly=True, index="btree_not_null"
    )
    tenant_id = fields.Many2one(
        "res.partner",
        compute="_compute_tenant_id",
        store=True,
        index="btree_not_null",
    )
    company_id = fields.Many2one(
        "res.company", readonly=True, index=True, default=lambda self: self.env.company
    )
    state = fields.Selection(
        [
            ("pending", "To approve"),
            ("approved", "Approved"),
            ("rejected", "Rejected"),
            ("refused", "Wrong proof"),
        ],
        default="pending",
        required=True,
        readonly=True,
        index=True,
        tracking=True,
    )
    decided_by_id = fields.Many2one("res.users", string="Decided by", readonly=True)
    decided_date = fields.Datetime(string="Decided on", readonly=True)
    note = fields.Char(string="Reason", help="Why the request was rejected (the user sees it).")

    @api.depends("account_id.partner_id")
    def _compute_tenant_id(self):
        for binding in self:
            binding.tenant_id = binding.account_id.partner_id.commercial_partner_id

    def _compute_display_name(self):
        for binding in self:
            binding.display_name = self.env._(
                "%(user)s for %(tenant)s",
                user=binding.user_id.name or "",
                tenant=binding.tenant_id.name or binding.lookup or "",
            )

    # ------------------------------------------------------------------ the portal user's request

    @api.model
    def _portal_request(self, lookup, proof):
        """The current portal user asks to act for the tenant of the account numbered (or
        of the meter serial) ``lookup``, proving it with the receipt's portal code.

        The accounts are looked up as superuser, since the user cannot see them yet:
        the proof compared in constant time is the access check, and a wrong one tells
        nothing about whether the number exists. A wrong proof is recorded (state
        "refused") and returned rather than raised, so that the attempt counts
        towards the user's rate limit; the request is rolled back with nothing else.
        Returns the request (pending, or refused); raises UserError for what must be
        corrected before anything is recorded.
        """
        user = self.env.user
        if not user.share:
            raise AccessError(self.env._("Staff link tenants from the tenant's contacts."))
        lookup = (lookup or "").strip()
        if not lookup or not normalize_code(proof):
            raise UserError(self.env._("Give the account number (or meter serial) and the code."))
        self._portal_check_attempts(user)
        account = self._portal_find_account(lookup, proof)
        binding_sudo = self.sudo()
        if not account:
            refused = binding_sudo.create(
                {"user_id": user.id, "lookup": lookup[:64], "state": "refused"}
            )
            return refused.sudo(False)
        tenant = account.partner_id.commercial_partner_id
        if user.partner_id.commercial_partner_id == tenant:
            raise UserError(self.env._("Your login already acts for %s.", tenant.name))
        pending = binding_sudo.search(
            [("user_id", "=", user.id), ("tenant_id", "=", tenant.id), ("state", "=", "pending")],
            limit=1,
        )
        if pending:
            return pending.sudo(False)
        binding_sudo = binding_sudo.create(
            {
                "user_id": user.id,
                "lookup": lookup[:64],
                "account_id": account.id,
                "company_id": account.company_id.id,
            }
        )
        binding_sudo._schedule_approval()
        return binding_sudo.sudo(False)

    @api.model
    def _portal_check_attempts(self, user):
        now = self.env.cr.now()  # the clock create_date is written with
        refused = self.sudo().search(
            [
                ("user_id", "=", user.id),
                ("state", "=", "refused"),
                ("create_date", ">", now - PROOF_ATTEMPTS.window),
            ]
        )
        retry_at = PROOF_ATTEMPTS.retry_at(refused.mapped("create_date"), now)
        if retry_at:
            minutes = max(1, int((retry_at - now).total_seconds() // 60) + 1)
            raise UserError(
                self.env._(
                    "Too many wrong codes. Try again in %(minutes)s minutes.", minutes=minutes
                )
            )

    @api.model
    def _portal_find_account(self, lookup, proof):
        """The open account numbered ``lookup`` (or holding a meter of that serial) whose
        portal code is ``proof``, or an empty recordset. Every candidate's code is
        compared, so the time taken does not tell which number exists."""
        Account = self.env["prepaid.account"].sudo()
        candidates = Account.search([("name", "=ilike", lookup), ("state", "=", "open")])
        meters = self.env["prepaid.meter"].sudo().search([("serial", "=ilike", lookup)])
        candidates |= meters.account_id.filtered(lambda account: account.state == "open")
        found = Account
        for account in candidates:
            if account._portal_code_matches(proof):
                found = account
        return found

    def _schedule_approval(self):
        activity_type = self.env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
        officers = self.env.ref(OFFICER_GROUP).users.filtered(
            lambda user: self.company_id in user.company_ids and not user.share
        )
        responsible = self.account_id.create_uid.filtered(lambda user: user in officers)
        responsible = responsible or officers[:1]
        for binding in self:
            binding.activity_schedule(
                activity_type_id=activity_type.id if activity_type else False,
                summary=self.env._("Approve a portal link"),
                note=Markup("<p>%s</p>")
                % self.env._(
                    "%(user)s (%(email)s) asks to act for %(tenant)s, proven with the portal "
                    "code of account %(account)s.",
                    user=binding.user_id.name,
                    email=binding.user_id.email or binding.user_id.login,
                    tenant=binding.tenant_id.name,
                    account=binding.account_id.name,
                ),
                user_id=(responsible or self.env.user).id,
            )

    # ------------------------------------------------------------------ staff decide

    def _check_officer(self):
        if not self.env.user.has_group(OFFICER_GROUP):
            raise AccessError(self.env._("Only a prepaid officer decides on portal links."))
        self.check_access("write")

    def action_approve(self):
        """Make the user's contact one of the tenant's: from then on the record rules
        show them the tenant's accounts, meters, readings and recharges."""
        self._check_officer()
        for binding in self:
            if binding.state != "pending":
                raise UserError(self.env._("Only a request to approve can be approved."))
            binding.sudo()._bind()
            binding.write(
                {
                    "state": "approved",
                    "decided_by_id": self.env.uid,
                    "decided_date": fields.Datetime.now(),
                }
            )
            binding.activity_feedback(["mail.mail_activity_data_todo"])
            binding.message_post(
                body=self.env._("Approved: %s now acts for the tenant.", binding.user_id.name),
                partner_ids=binding.partner_id.ids,
                subtype_xmlid="mail.mt_comment",
            )
        return True

    def _bind(self):
        self.ensure_one()
        contact = self.user_id.partner_id
        tenant = self.tenant_id
        if contact.commercial_partner_id == tenant:
            return
        if contact.parent_id:
            raise UserError(
                self.env._(
                    "%(contact)s is a contact of %(company)s: move it under %(tenant)s by hand "
                    "if it should act for that tenant instead.",
                    contact=contact.display_name,
                    company=contact.commercial_partner_id.display_name,
                    tenant=tenant.display_name,
                )
            )
        if contact.is_company:
            raise UserError(
                self.env._(
                    "%(contact)s is a company: a login of the tenant must be a person.",
                    contact=contact.display_name,
                )
            )
        contact.parent_id = tenant
        if not tenant.prepaid_main_contact_id:
            tenant.prepaid_main_contact_id = contact

    def action_reject(self):
        self._check_officer()
        for binding in self:
            if binding.state != "pending":
                raise UserError(self.env._("Only a request to approve can be rejected."))
        self.write(
            {
                "state": "rejected",
                "decided_by_id": self.env.uid,
                "decided_date": fields.Datetime.now(),
            }
        )
        self.activity_unlink(["mail.mail_activity_data_todo"])
        return True
