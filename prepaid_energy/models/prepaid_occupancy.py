from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError


class PrepaidOccupancy(models.Model):
    _name = "prepaid.occupancy"
    _description = "Tenant occupancy of a unit"
    _inherit = ["mail.thread"]
    _order = "date_from desc, id desc"
    _check_company_auto = True
    # the tenant (name, e-mail, reference) or the unit (full path from the site, code)
    _rec_names_search = ["partner_id", "unit_id"]

    partner_id = fields.Many2one(
        "res.partner", string="Tenant", required=True, index=True, tracking=True
    )
    unit_id = fields.Many2one(
        "prepaid.location",
        required=True,
        index=True,
        check_company=True,
        domain="[('location_type', '=', 'unit')]",
        tracking=True,
    )
    site_id = fields.Many2one(related="unit_id.site_id", store=True, index=True)
    date_from = fields.Date(
        string="From", required=True, default=fields.Date.context_today, tracking=True
    )
    date_to = fields.Date(string="To", tracking=True, help="Empty while the lease runs.")
    state = fields.Selection(
        [("draft", "Draft"), ("active", "Active"), ("ended", "Ended")],
        default="draft",
        required=True,
        index=True,
        tracking=True,
        copy=False,
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    account_ids = fields.One2many("prepaid.account", "occupancy_id", string="Prepaid accounts")
    account_count = fields.Integer(compute="_compute_account_count")
    meter_ids = fields.One2many(related="unit_id.meter_ids")
    unit_area = fields.Float(related="unit_id.area", string="Area (m²)")
    note = fields.Text()

    _sql_constraints = [
        (
            "dates_in_order",
            "CHECK(date_to IS NULL OR date_to >= date_from)",
            "An occupancy cannot end before it starts.",
        ),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        occupancies = super().create(vals_list)
        occupancies.partner_id.filtered(lambda p: not p.is_prepaid_tenant).is_prepaid_tenant = True
        return occupancies

    @api.depends("partner_id", "unit_id", "date_from")
    def _compute_display_name(self):
        for occupancy in self:
            occupancy.display_name = (
                f"{occupancy.partner_id.name or ''} @ {occupancy.unit_id.complete_name or ''}"
            )

    @api.depends("account_ids")
    def _compute_account_count(self):
        for occupancy in self:
            occupancy.account_count = len(occupancy.account_ids)

    @api.constrains("unit_id", "date_from", "date_to", "state")
    def _check_no_overlap(self):
        """One unit, one tenant at a time: live occupancies of a unit never overlap."""
        for occupancy in self.filtered(lambda o: o.state != "draft"):
            overlapping = self.search(
                [
                    ("id", "!=", occupancy.id),
                    ("unit_id", "=", occupancy.unit_id.id),
                    ("state", "!=", "draft"),
                    "|",
                    ("date_to", "=", False),
                    ("date_to", ">=", occupancy.date_from),
                ]
                + ([("date_from", "<=", occupancy.date_to)] if occupancy.date_to else []),
                limit=1,
            )
            if overlapping:
                raise ValidationError(
                    self.env._(
                        "Unit %(unit)s is already occupied by %(tenant)s from %(start)s"
                        " to %(end)s.",
                        unit=occupancy.unit_id.complete_name,
                        tenant=overlapping.partner_id.display_name,
                        start=overlapping.date_from,
                        end=overlapping.date_to or self.env._("open end"),
                    )
                )

    @api.constrains("unit_id")
    def _check_unit_type(self):
        for occupancy in self:
            if occupancy.unit_id.location_type != "unit":
                raise ValidationError(
                    self.env._(
                        "%(location)s is not a unit: tenants occupy units.",
                        location=occupancy.unit_id.complete_name,
                    )
                )

    def action_activate(self):
        for occupancy in self:
            if occupancy.state != "draft":
                raise UserError(self.env._("Only a draft occupancy can start."))
        self.state = "active"

    def action_end(self):
        today = fields.Date.context_today(self)
        for occupancy in self:
            if occupancy.state != "active":
                raise UserError(self.env._("Only an active occupancy can end."))
            end = occupancy.date_to or max(today, occupancy.date_from)
            occupancy.write({"state": "ended", "date_to": end})

    def action_open_account(self):
        """The open wizard on this occupancy: tenant, unit and its free meters filled in."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Open an account"),
            "res_model": "prepaid.account.open.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_occupancy_id": self.id,
                "default_partner_id": self.partner_id.id,
                "default_company_id": self.company_id.id,
            },
        }

    def action_view_accounts(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Prepaid accounts"),
            "res_model": "prepaid.account",
            "view_mode": "list,form",
            "domain": [("occupancy_id", "=", self.id)],
            "context": {"default_occupancy_id": self.id, "default_partner_id": self.partner_id.id},
        }
