import datetime
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import ValidationError

#: context key set while a version saves its lines; the version validates them all at the end
SAVING_VERSION = "prepaid_tariff_version_saving"


def to_decimal(value):
    """A float field's value as the Decimal it was typed as (str() is the shortest repr)."""
    return Decimal(str(value or 0.0))


class PrepaidTariffVersion(models.Model):
    _name = "prepaid.tariff.version"
    _description = "Tariff version (effective-dated)"
    _order = "tariff_id, date_from desc, id"

    tariff_id = fields.Many2one("prepaid.tariff", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="tariff_id.company_id", store=True)
    currency_id = fields.Many2one(related="tariff_id.currency_id")
    date_from = fields.Date(
        string="Effective from",
        required=True,
        default=fields.Date.context_today,
        help="In force from midnight (site time) of this day until the next version.",
    )
    date_to = fields.Date(string="Until", compute="_compute_date_to")
    kind = fields.Selection(
        [("flat", "Flat"), ("tou", "Time of use")],
        required=True,
        default="flat",
    )
    price = fields.Float(
        string="Unit price",
        digits="Prepaid Tariff Price",
        help="Price per kWh or m³ (flat), tax included.",
    )
    allowance = fields.Float(
        string="Free allowance",
        digits=(16, 4),
        help="Units free of charge at the start of every billing cycle.",
    )
    season_ids = fields.One2many("prepaid.tariff.season", "version_id", string="Seasons")
    period_ids = fields.One2many("prepaid.tariff.period", "version_id", string="TOU periods")
    price_ids = fields.One2many("prepaid.tariff.price", "version_id", string="Band prices")
    tier_ids = fields.One2many("prepaid.tariff.tier", "version_id", string="Tiers")
    note = fields.Text()

    _sql_constraints = [
        (
            "date_unique_per_tariff",
            "UNIQUE(tariff_id, date_from)",
            "Two versions of a tariff cannot start on the same day.",
        ),
        ("price_positive", "CHECK(price >= 0)", "A price cannot be negative."),
        ("allowance_positive", "CHECK(allowance >= 0)", "An allowance cannot be negative."),
    ]

    @api.depends("tariff_id.name", "date_from")
    def _compute_display_name(self):
        for version in self:
            version.display_name = f"{version.tariff_id.name or ''} ({version.date_from or ''})"

    @api.depends("date_from", "tariff_id.version_ids.date_from")
    def _compute_date_to(self):
        one_day = datetime.timedelta(days=1)
        for version in self:
            later = [
                other.date_from
                for other in version.tariff_id.version_ids
                if other.date_from and version.date_from and other.date_from > version.date_from
            ]
            version.date_to = min(later) - one_day if later else False

    # -- building the core engine's data ---------------------------------

    def _to_core_dict(self):
        """The version as the plain data the core engine takes (ref: the record id)."""
        self.ensure_one()
        data = {
            "effective_from": self.date_from,
            "ref": str(self.id),
            "kind": self.kind,
            "allowance": to_decimal(self.allowance),
        }
        if self.kind == "flat":
            data["price"] = to_decimal(self.price)
        elif self.season_ids:
            data["seasons"] = [season._to_core_dict() for season in self.season_ids]
        else:
            data["schedules"] = self.period_ids._to_core_schedules()
            data["prices"] = self.price_ids._to_core_prices()
        if self.tier_ids:
            data["tiers"] = self.tier_ids.sorted("qty_from")._to_core_list()
        return data

    # -- validation through the engine -------------------------------------

    @api.constrains(
        "date_from",
        "kind",
        "price",
        "allowance",
        "season_ids",
        "period_ids",
        "price_ids",
        "tier_ids",
    )
    def _check_core_tariff(self):
        """A version is saved only if the engine accepts the whole tariff with it."""
        for version in self:
            version._check_lines_fit()
        for tariff in self.tariff_id:
            tariff._to_core()

    def _check_lines_fit(self):
        """What the engine cannot see: lines that its data would silently drop."""
        if self.kind != "tou":
            return
        seasonless = self.period_ids.filtered(lambda line: not line.season_id) or (
            self.price_ids.filtered(lambda line: not line.season_id)
        )
        if self.season_ids and seasonless:
            raise ValidationError(
                self.env._(
                    "%(version)s has seasons: give every TOU period and band price its season.",
                    version=self.display_name,
                )
            )
        seen = set()
        for price in self.price_ids:
            key = (price.season_id, price.band)
            if key in seen:
                # computed outside _(): the string extractor cannot read an f-string
                season = f" ({price.season_id.name})" if price.season_id else ""
                raise ValidationError(
                    self.env._(
                        "%(version)s: band %(band)s has two prices%(season)s.",
                        version=self.display_name,
                        band=price.band,
                        season=season,
                    )
                )
            seen.add(key)

    def _check_core_tariff_from_line(self):
        # Lines saved through their version's form are checked once, by the version.
        if not self.env.context.get(SAVING_VERSION):
            self.exists()._check_core_tariff()

    @api.model_create_multi
    def create(self, vals_list):
        return (
            super(PrepaidTariffVersion, self.with_context(**{SAVING_VERSION: True}))
            .create(vals_list)
            .with_env(self.env)
        )

    def write(self, vals):
        return super(PrepaidTariffVersion, self.with_context(**{SAVING_VERSION: True})).write(vals)

    def unlink(self):
        tariffs = self.tariff_id
        result = super().unlink()
        tariffs.exists()._check_core_tariff()
        return result
