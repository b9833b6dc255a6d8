from decimal import Decimal

from odoo import api, fields, models
from odoo.addons.base.models.res_partner import _tz_get
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import float_repr

from prepaid_energy_core import periods, wallet

from ..tools.core_errors import raise_as_odoo

LOCATION_TYPES = [
    ("site", "Site"),
    ("building", "Building"),
    ("floor", "Floor"),
    ("unit", "Unit"),
]
#: the location types each type may hang under (a site is always a root)
#: site settings only a prepaid manager may change
SITE_SETTING_FIELDS = {
    "alarm1_amount",
    "alarm2_amount",
    "arrears_amount",
    "credit_limit",
    "max_balance",
    "refund_approval_amount",
    "reading_interval",
    "default_tariff_id",
    "quiet_hour_start",
    "quiet_hour_end",
    "grace_hours",
    "invoice_period",
    "invoice_grouping",
    "electricity_product_id",
    "water_product_id",
    "tz",
}
ALLOWED_PARENT_TYPES = {
    "site": (),
    "building": ("site",),
    "floor": ("building",),
    "unit": ("site", "building", "floor"),
}


class PrepaidLocation(models.Model):
    _name = "prepaid.location"
    _description = "Site, building, floor or unit"
    _parent_store = True
    _parent_name = "parent_id"
    _order = "complete_name, id"
    _rec_name = "complete_name"
    _rec_names_search = ["complete_name", "code"]
    _check_company_auto = True

    name = fields.Char(required=True)
    code = fields.Char(help="Short reference printed on documents, e.g. the unit number.")
    complete_name = fields.Char(
        compute="_compute_complete_name", recursive=True, store=True, index="trigram"
    )
    location_type = fields.Selection(
        LOCATION_TYPES, string="Type", required=True, default="unit", index=True
    )
    parent_id = fields.Many2one(
        "prepaid.location",
        index=True,
        ondelete="restrict",
        check_company=True,
        domain="[('location_type', '!=', 'unit')]",
    )
    parent_path = fields.Char(index=True)
    child_ids = fields.One2many("prepaid.location", "parent_id", string="Contains")
    site_id = fields.Many2one(
        "prepaid.location",
        compute="_compute_site_id",
        recursive=True,
        store=True,
        index=True,
    )
    area = fields.Float(string="Area (m²)", digits=(12, 2))
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    active = fields.Boolean(default=True)
    note = fields.Html()
    meter_ids = fields.One2many("prepaid.meter", "unit_id", string="Meters")
    meter_count = fields.Integer(compute="_compute_meter_count")
    occupancy_ids = fields.One2many("prepaid.occupancy", "unit_id", string="Occupancies")
    tenant_id = fields.Many2one(
        "res.partner",
        string="Current tenant",
        compute="_compute_tenant_id",
        help="Tenant of the unit's active occupancy.",
    )

    # Site settings: set on the site, read by everything below it through site_id.
    alarm1_amount = fields.Monetary(
        string="Alarm 1 at", default=0.0, help="First low-balance warning at or below this."
    )
    alarm2_amount = fields.Monetary(
        string="Alarm 2 at", default=0.0, help="Second, louder warning at or below this."
    )
    arrears_amount = fields.Monetary(
        string="Arrears at", default=0.0, help="At or below this the account is in arrears."
    )
    credit_limit = fields.Monetary(help="How far below arrears a tenant may go on credit.")
    max_balance = fields.Monetary(
        string="Maximum balance", help="A recharge may not take a balance above this (0: none)."
    )
    refund_approval_amount = fields.Monetary(
        help="Refunds and reversals above this need a manager's approval."
    )
    reading_interval = fields.Integer(
        string="Reading interval (min)",
        default=15,
        help="Meters are read every so many minutes; readings are stored one per slot.",
    )
    default_tariff_id = fields.Many2one(
        "prepaid.tariff", string="Default tariff", check_company=True, ondelete="restrict"
    )
    quiet_hour_start = fields.Float(help="No automatic disconnection from this hour...")
    quiet_hour_end = fields.Float(help="...until this hour.")
    grace_hours = fields.Float(help="Hours in arrears before an automatic disconnection.")
    tz = fields.Selection(
        _tz_get,
        string="Timezone",
        default=lambda self: self.env.company.partner_id.tz or self.env.user.tz,
        help="Time-of-use bands, quiet hours and billing cycles follow the site's clock.",
    )
    invoice_period = fields.Selection(
        list(periods.INVOICE_PERIOD_LABELS),
        default=periods.MONTHLY,
        help="Consumption and fees are invoiced per period of the site's calendar, cut at "
        "midnight on the site's clock.",
    )
    invoice_grouping = fields.Selection(
        [("account", "Per account"), ("tenant", "Per tenant")],
        default="account",
        required=True,
        help="Per tenant: one invoice per period for all of a tenant's accounts on this site, "
        "each line naming its account; reconciled with the tenant's advances as a whole.",
    )
    electricity_product_id = fields.Many2one(
        "product.product",
        string="Electricity product",
        default=lambda self: self._default_product("prepaid_energy.product_electricity"),
        check_company=True,
    )
    water_product_id = fields.Many2one(
        "product.product",
        string="Water product",
        default=lambda self: self._default_product("prepaid_energy.product_water"),
        check_company=True,
    )

    _sql_constraints = [
        (
            "reading_interval_divides_day",
            "CHECK(reading_interval > 0"
            " AND mod(1440, CASE WHEN reading_interval > 0 THEN reading_interval ELSE 1 END) = 0)",
            "The reading interval must divide a day (5, 10, 15, 30, 60 minutes...).",
        ),
        ("area_positive", "CHECK(area >= 0)", "An area cannot be negative."),
    ]

    def _default_product(self, xmlid):
        # The products come from the money side's data file; tolerate their absence.
        return self.env.ref(xmlid, raise_if_not_found=False)

    @api.model_create_multi
    def create(self, vals_list):
        self._check_site_settings_access(set().union(*vals_list))
        return super().create(vals_list)

    def write(self, vals):
        self._check_site_settings_access(vals)
        return super().write(vals)

    def _check_site_settings_access(self, fnames):
        """Alarm levels, credit and tariffs are a manager's decision."""
        changed = SITE_SETTING_FIELDS.intersection(fnames)
        if changed and not (
            self.env.su or self.env.user.has_group("prepaid_energy.group_prepaid_manager")
        ):
            raise AccessError(
                self.env._(
                    "Only a prepaid energy manager may change site settings (%s).",
                    ", ".join(sorted(changed)),
                )
            )

    @api.depends("name", "parent_id.complete_name")
    def _compute_complete_name(self):
        for location in self:
            if location.parent_id:
                location.complete_name = f"{location.parent_id.complete_name} / {location.name}"
            else:
                location.complete_name = location.name

    @api.depends("complete_name", "site_id.complete_name")
    @api.depends_context("prepaid_location_within_site")
    def _compute_display_name(self):
        super()._compute_display_name()
        # views that already pick the site (the room board) name places within it
        if not self.env.context.get("prepaid_location_within_site"):
            return
        for location in self:
            site = location.site_id
            prefix = f"{site.complete_name} / "
            if site and location != site and (location.complete_name or "").startswith(prefix):
                location.display_name = location.complete_name[len(prefix) :]

    @api.depends("location_type", "parent_id.site_id")
    def _compute_site_id(self):
        for location in self:
            if location.location_type == "site":
                location.site_id = location
            else:
                location.site_id = location.parent_id.site_id

    def _compute_meter_count(self):
        Meter = self.env["prepaid.meter"]
        for location in self:
            location.meter_count = Meter.search_count([("unit_id", "child_of", location.id)])

    @api.depends("occupancy_ids.state", "occupancy_ids.partner_id", "occupancy_ids.date_from")
    def _compute_tenant_id(self):
        today = fields.Date.context_today(self)
        occupancies = self.env["prepaid.occupancy"].search(
            [("unit_id", "in", self.ids), ("state", "=", "active"), ("date_from", "<=", today)]
        )
        tenant_by_unit = {occupancy.unit_id: occupancy.partner_id for occupancy in occupancies}
        for location in self:
            location.tenant_id = tenant_by_unit.get(location, False)

    @api.constrains("parent_id", "location_type")
    def _check_parent_type(self):
        labels = dict(LOCATION_TYPES)
        for location in self:
            allowed = ALLOWED_PARENT_TYPES[location.location_type]
            parent_type = location.parent_id.location_type
            if location.location_type == "site" and location.parent_id:
                raise ValidationError(
                    self.env._("Site %(name)s cannot have a parent.", name=location.name)
                )
            if location.location_type != "site" and not location.parent_id:
                raise ValidationError(
                    self.env._(
                        "%(type)s %(name)s needs a parent (a site, building or floor).",
                        type=labels[location.location_type],
                        name=location.name,
                    )
                )
            if location.parent_id and parent_type not in allowed:
                raise ValidationError(
                    self.env._(
                        "%(type)s %(name)s cannot be placed under %(parent_type)s %(parent)s.",
                        type=labels[location.location_type],
                        name=location.name,
                        parent_type=labels[parent_type].lower(),
                        parent=location.parent_id.complete_name,
                    )
                )

    @api.constrains("alarm1_amount", "alarm2_amount", "arrears_amount")
    def _check_alarm_thresholds(self):
        for site in self.filtered(lambda location: location.location_type == "site"):
            site._get_wallet_thresholds()

    def _get_wallet_thresholds(self):
        """The site's alarm thresholds as the core's Thresholds.

        Arrears always applies; an alarm amount of 0 means that warning is
        not set up. Thresholds out of order (alarm1 > alarm2 > arrears) are a
        ValidationError naming the site.
        """
        self.ensure_one()
        digits = self.currency_id.decimal_places

        def amount(value):
            return Decimal(float_repr(self.currency_id.round(value), digits))

        with raise_as_odoo(
            self.env, where=lambda: self.env._("Site %(site)s", site=self.display_name)
        ):
            return wallet.Thresholds(
                alarm1=amount(self.alarm1_amount) if self.alarm1_amount else None,
                alarm2=amount(self.alarm2_amount) if self.alarm2_amount else None,
                arrears=amount(self.arrears_amount),
            )

    def action_view_meters(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "prepaid_energy.action_prepaid_meter"
        )
        action["domain"] = [("unit_id", "child_of", self.id)]
        action["context"] = {"default_unit_id": self.id} if self.location_type == "unit" else {}
        return action

    def action_view_children(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "prepaid_energy.action_prepaid_location"
        )
        action["domain"] = [("parent_id", "=", self.id)]
        action["context"] = {"default_parent_id": self.id}
        return action
