from odoo import fields, models
from odoo.tools import SQL

from prepaid_energy_core.vocabulary import UTILITY_LABELS

from .prepaid_sales_report import LOCAL_ZONE


class PrepaidEnergyReport(models.Model):
    """Energy (and water) by day of the site's calendar, meter, unit, floor, building and
    site, with the time-of-use split the meters counted.

    One row per accepted reading (held ones are left out): its consumption
    belongs to the day its interval ends in (a reading at midnight closes the
    day before). A meter that gives its band registers splits that
    consumption by band (each band register's advance times the multiplier);
    the rest, and every meter without band registers, is "untimed". Common
    areas and vacant units are here too: they are metered, not billed.
    """

    _name = "prepaid.energy.report"
    _description = "Prepaid energy by location and day"
    _auto = False
    _order = "date desc, id desc"
    _depends = {
        "prepaid.reading": [
            "timestamp",
            "delta",
            "state",
            "meter_id",
            "account_id",
            "has_bands",
            "flags",
            "sharp",
            "peak",
            "flat",
            "valley",
        ],
        "prepaid.meter": ["unit_id", "utility", "company_id", "multiplier"],
        "prepaid.location": ["site_id", "building_id", "floor_id", "tz"],
    }

    reading_id = fields.Many2one("prepaid.reading", readonly=True)
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
    billed = fields.Boolean(readonly=True, help="Read while the meter billed a prepaid account.")
    quantity = fields.Float(string="Total", digits=(16, 3), readonly=True, aggregator="sum")
    sharp = fields.Float(digits=(16, 3), readonly=True, aggregator="sum")
    peak = fields.Float(digits=(16, 3), readonly=True, aggregator="sum")
    flat = fields.Float(digits=(16, 3), readonly=True, aggregator="sum")
    valley = fields.Float(digits=(16, 3), readonly=True, aggregator="sum")
    untimed = fields.Float(digits=(16, 3), readonly=True, aggregator="sum")

    @property
    def _table_query(self):
        return SQL(
            f"""
            WITH accepted AS (
                SELECT reading.id, reading.meter_id, reading.account_id, reading.timestamp,
                       reading.delta, reading.has_bands, reading.flags,
                       reading.sharp, reading.peak, reading.flat, reading.valley,
                       LAG(reading.has_bands) OVER meter_time AS previous_has_bands,
                       reading.sharp - LAG(reading.sharp) OVER meter_time AS sharp_advance,
                       reading.peak - LAG(reading.peak) OVER meter_time AS peak_advance,
                       reading.flat - LAG(reading.flat) OVER meter_time AS flat_advance,
                       reading.valley - LAG(reading.valley) OVER meter_time AS valley_advance
                  FROM prepaid_reading reading
                 WHERE reading.state != 'rejected'
                WINDOW meter_time AS (PARTITION BY reading.meter_id
                                      ORDER BY reading.timestamp, reading.id)
            ),
            split AS (
                -- the bands count when both readings gave them, none went back and no
                -- rollover or meter replacement broke the chain
                SELECT accepted.*,
                       COALESCE(accepted.has_bands AND accepted.previous_has_bands
                                AND accepted.sharp_advance >= 0 AND accepted.peak_advance >= 0
                                AND accepted.flat_advance >= 0 AND accepted.valley_advance >= 0
                                AND strpos(COALESCE(accepted.flags, ''), 'rollover') = 0
                                AND strpos(COALESCE(accepted.flags, ''), 'replacement') = 0,
                                FALSE) AS banded
                  FROM accepted
            )
            SELECT split.id,
                   split.id AS reading_id,
                   ((split.timestamp - INTERVAL '1 microsecond')
                        AT TIME ZONE 'UTC' AT TIME ZONE {LOCAL_ZONE})::date AS date,
                   meter.utility,
                   split.meter_id,
                   meter.unit_id AS location_id,
                   location.floor_id,
                   location.building_id,
                   location.site_id,
                   split.account_id,
                   tenant.commercial_partner_id AS partner_id,
                   meter.company_id,
                   split.account_id IS NOT NULL AS billed,
                   split.delta AS quantity,
                   CASE WHEN split.banded THEN split.sharp_advance * meter.multiplier
                        ELSE 0 END AS sharp,
                   CASE WHEN split.banded THEN split.peak_advance * meter.multiplier
                        ELSE 0 END AS peak,
                   CASE WHEN split.banded THEN split.flat_advance * meter.multiplier
                        ELSE 0 END AS flat,
                   CASE WHEN split.banded THEN split.valley_advance * meter.multiplier
                        ELSE 0 END AS valley,
                   CASE WHEN split.banded
                        THEN split.delta - (split.sharp_advance + split.peak_advance
                                            + split.flat_advance + split.valley_advance)
                                           * meter.multiplier
                        ELSE split.delta END AS untimed
              FROM split
              JOIN prepaid_meter meter ON meter.id = split.meter_id
              JOIN res_company company ON company.id = meter.company_id
              JOIN res_partner company_partner ON company_partner.id = company.partner_id
         LEFT JOIN prepaid_location location ON location.id = meter.unit_id
         LEFT JOIN prepaid_location site ON site.id = location.site_id
         LEFT JOIN prepaid_account account ON account.id = split.account_id
         LEFT JOIN res_partner tenant ON tenant.id = account.partner_id
            """
        )
