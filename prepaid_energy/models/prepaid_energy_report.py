from odoo import fields, models
from odoo.tools import SQL

from prepaid_energy_core.vocabulary import UTILITY_LABELS

from .prepaid_sales_report import LOCAL_ZONE


class PrepaidEnergyReport(models.Model):
    """Energy (and water) by day of the site's calendar, meter, unit, floor, building and
    site, with the time-of-use split.

    Billed meters count what their charges priced (the tariff's bands; a flat
    tariff's energy is "untimed"), on the day each charged interval starts.
    Meters without an account (common areas, vacant units) count their
    readings' consumption, untimed, on the day each read interval ends.
    """

    _name = "prepaid.energy.report"
    _description = "Prepaid energy by location and day"
    _auto = False
    _order = "date desc, id desc"
    _depends = {
        "prepaid.charge": ["date_start", "quantity", "band", "amount", "meter_id", "account_id"],
        "prepaid.reading": ["timestamp", "delta", "state", "meter_id"],
        "prepaid.meter": ["unit_id", "utility", "company_id"],
        "prepaid.location": ["site_id", "building_id", "floor_id", "tz"],
    }

    date = fields.Date(readonly=True)
    utility = fields.Selection(list(UTILITY_LABELS), readonly=True)
    meter_id = fields.Many2one("prepaid.meter", readonly=True)
    location_id = fields.Many2one("prepaid.location", string="Unit or area", readonly=True)
    floor_id = fields.Many2one("prepaid.location", readonly=True)
    building_id = fields.Many2one("prepaid.location", readonly=True)
    site_id = fields.Many2one("prepaid.location", readonly=True)
    account_id = fields.Many2one("prepaid.account", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Tenant", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    billed = fields.Boolean(readonly=True)
    quantity = fields.Float(string="Total", digits=(16, 3), readonly=True, aggregator="sum")
    sharp = fields.Float(digits=(16, 3), readonly=True, aggregator="sum")
    peak = fields.Float(digits=(16, 3), readonly=True, aggregator="sum")
    flat = fields.Float(digits=(16, 3), readonly=True, aggregator="sum")
    valley = fields.Float(digits=(16, 3), readonly=True, aggregator="sum")
    untimed = fields.Float(digits=(16, 3), readonly=True, aggregator="sum")
    amount = fields.Monetary(readonly=True, aggregator="sum")

    @property
    def _table_query(self):
        return SQL(
            f"""
            WITH energy AS (
                SELECT charge.id * 2 AS id, charge.meter_id, charge.account_id, TRUE AS billed,
                       charge.date_start AS moment, charge.quantity, charge.band, charge.amount
                  FROM prepaid_charge charge
                UNION ALL
                SELECT reading.id * 2 + 1, reading.meter_id, NULL, FALSE,
                       reading.timestamp - INTERVAL '1 microsecond', reading.delta, NULL, 0
                  FROM prepaid_reading reading
                 WHERE reading.state = 'unbilled'
            )
            SELECT energy.id,
                   (energy.moment AT TIME ZONE 'UTC' AT TIME ZONE {LOCAL_ZONE})::date AS date,
                   meter.utility,
                   energy.meter_id,
                   meter.unit_id AS location_id,
                   location.floor_id,
                   location.building_id,
                   location.site_id,
                   energy.account_id,
                   tenant.commercial_partner_id AS partner_id,
                   meter.company_id,
                   company.currency_id,
                   energy.billed,
                   energy.quantity,
                   CASE WHEN energy.band = 'sharp' THEN energy.quantity ELSE 0 END AS sharp,
                   CASE WHEN energy.band = 'peak' THEN energy.quantity ELSE 0 END AS peak,
                   CASE WHEN energy.band = 'flat' THEN energy.quantity ELSE 0 END AS flat,
                   CASE WHEN energy.band = 'valley' THEN energy.quantity ELSE 0 END AS valley,
                   CASE WHEN energy.band IS NULL THEN energy.quantity ELSE 0 END AS untimed,
                   energy.amount
              FROM energy
              JOIN prepaid_meter meter ON meter.id = energy.meter_id
              JOIN res_company company ON company.id = meter.company_id
              JOIN res_partner company_partner ON company_partner.id = company.partner_id
         LEFT JOIN prepaid_location location ON location.id = meter.unit_id
         LEFT JOIN prepaid_location site ON site.id = location.site_id
         LEFT JOIN prepaid_account account ON account.id = energy.account_id
         LEFT JOIN res_partner tenant ON tenant.id = account.partner_id
            """
        )
