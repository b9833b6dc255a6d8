import datetime
import logging
from collections import namedtuple

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from prepaid_energy_core import calendar as core_calendar
from prepaid_energy_core import ingestion as core_ingestion
from prepaid_energy_core.errors import ValidationError as CoreValidationError
from prepaid_energy_core.money import plain
from prepaid_energy_core.tariff import PricingState
from prepaid_energy_core.vocabulary import CONSUMPTION, TOU_BANDS, UTILITY_UNITS

from ..tools import bulk
from .prepaid_reading import reading_config, register_decimal, stored_bands

_logger = logging.getLogger(__name__)

METER_STATES = [
    ("not_opened", "Not opened"),
    ("normal", "Normal"),
    ("alarm1", "Alarm 1"),
    ("alarm2", "Alarm 2"),
    ("arrears", "Arrears"),
    ("tripped", "Tripped"),
    ("offline", "Offline"),
]
#: meters priced per cron call; the cron runs again at once while some are left
PRICING_BATCH = 10000
#: what pricing needs of a meter, read in one query for a batch (see _pricing_facts)
PricingFacts = namedtuple(
    "PricingFacts",
    "id serial account_id company_id site_id utility multiplier tariff_id pricing_state "
    "pricing_error invoice_period zone product_id digits start",
)


class PrepaidMeter(models.Model):
    _name = "prepaid.meter"
    _description = "Electricity or water meter"
    _inherit = ["mail.thread", "mail.activity.mixin", "prepaid.bulk.mixin"]
    _order = "serial, id"
    _check_company_auto = True
    _rec_names_search = ["serial", "name"]

    name = fields.Char(required=True, tracking=True)
    serial = fields.Char(required=True, index=True, tracking=True, copy=False)
    utility = fields.Selection(
        [("electricity", "Electricity"), ("water", "Water")],
        required=True,
        default="electricity",
        tracking=True,
    )
    unit_id = fields.Many2one(
        "prepaid.location",
        string="Location",
        index=True,
        check_company=True,
        tracking=True,
        ondelete="restrict",
        help="Usually a unit; a site or building for common-area meters.",
    )
    site_id = fields.Many2one(related="unit_id.site_id", store=True, index=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    account_id = fields.Many2one(
        "prepaid.account",
        string="Prepaid account",
        index="btree_not_null",
        check_company=True,
        tracking=True,
        copy=False,
    )
    partner_id = fields.Many2one(related="account_id.partner_id", string="Tenant")
    tariff_id = fields.Many2one(
        "prepaid.tariff",
        string="Tariff override",
        check_company=True,
        tracking=True,
        help="Empty: the site's default tariff.",
    )
    effective_tariff_id = fields.Many2one(
        "prepaid.tariff", compute="_compute_effective_tariff_id", string="Tariff"
    )
    multiplier = fields.Float(
        digits=(12, 4), default=1.0, required=True, tracking=True, help="CT x PT ratio."
    )
    billing_side = fields.Selection(
        [("platform", "Platform bills"), ("meter", "Meter bills (pushed credit)")],
        default="platform",
        required=True,
    )
    relay_capable = fields.Boolean(string="Has relay", default=True)
    keep_power = fields.Boolean(
        tracking=True, help="Never cut automatically (medical, safety, common areas)."
    )
    state = fields.Selection(
        METER_STATES, default="not_opened", required=True, tracking=True, copy=False
    )
    rated_current = fields.Float(string="Rated current (A)", help="Imax; for spike checks.")
    voltage = fields.Float(string="Voltage (V)", help="Phase-to-neutral; for spike checks.")
    phases = fields.Selection([("1", "Single phase"), ("3", "Three phase")], default="1")
    max_flow = fields.Float(string="Max flow (m³/h)", help="Water meters; for spike checks.")
    register_limit = fields.Float(
        digits=(16, 4),
        help="First value the register cannot show (1000000 for 6+2 digits); 0: never wraps.",
    )
    install_date = fields.Date(tracking=True)
    active = fields.Boolean(default=True)
    color = fields.Integer()
    note = fields.Html()

    reading_ids = fields.One2many("prepaid.reading", "meter_id", string="Readings")
    charge_ids = fields.One2many("prepaid.charge", "meter_id", string="Charges")
    reading_count = fields.Integer(compute="_compute_counts")
    charge_count = fields.Integer(compute="_compute_counts")
    last_reading_id = fields.Many2one("prepaid.reading", readonly=True, copy=False)
    last_reading_date = fields.Datetime(readonly=True, copy=False)
    last_total = fields.Float(digits=(16, 4), readonly=True, copy=False)
    priced_reading_id = fields.Many2one(
        "prepaid.reading",
        readonly=True,
        copy=False,
        help="The last reading billed: the start of the next pricing.",
    )
    pricing_state = fields.Json(readonly=True, copy=False, help="The tariff engine's memory.")
    pricing_error = fields.Char(readonly=True, copy=False)

    _sql_constraints = [
        (
            "serial_company_unique",
            "UNIQUE(company_id, serial)",
            "A meter serial must be unique within a company.",
        ),
        ("multiplier_positive", "CHECK(multiplier > 0)", "The multiplier must be positive."),
        (
            "register_limit_positive",
            "CHECK(register_limit >= 0)",
            "The register limit cannot be negative.",
        ),
    ]

    @api.depends("serial", "name")
    def _compute_display_name(self):
        for meter in self:
            if meter.name and meter.name != meter.serial:
                meter.display_name = f"{meter.serial} - {meter.name}"
            else:
                meter.display_name = meter.serial or meter.name or ""

    @api.depends("tariff_id", "site_id.default_tariff_id")
    def _compute_effective_tariff_id(self):
        for meter in self:
            meter.effective_tariff_id = meter._get_tariff()

    def _compute_counts(self):
        for field, model in (
            ("reading_count", "prepaid.reading"),
            ("charge_count", "prepaid.charge"),
        ):
            counts = dict(
                self.env[model]._read_group(
                    [("meter_id", "in", self.ids)], ["meter_id"], ["__count"]
                )
            )
            for meter in self:
                meter[field] = counts.get(meter, 0)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not vals.get("name") and vals.get("serial"):
                vals["name"] = vals["serial"]
        return super().create(vals_list)

    def _get_tariff(self):
        """The tariff this meter is billed with: its override, else its site's default."""
        self.ensure_one()
        return self.tariff_id or self.site_id.default_tariff_id

    def _meter_action(self, xmlid, context=None):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action["domain"] = [("meter_id", "=", self.id)]
        action["context"] = context or {}
        return action

    def action_view_readings(self):
        return self._meter_action(
            "prepaid_energy.action_prepaid_reading", {"default_meter_id": self.id}
        )

    def action_view_charges(self):
        return self._meter_action("prepaid_energy.action_prepaid_charge")

    # ------------------------------------------------------------------ reading validation

    def _slot_interval(self):
        return datetime.timedelta(minutes=self.site_id.reading_interval or 15)

    def _reading_config(self):
        """How the core judges this meter's readings."""
        self.ensure_one()
        return reading_config(
            self.site_id.reading_interval,
            self.register_limit,
            self.multiplier,
            self.utility,
            self.rated_current,
            self.voltage,
            self.phases,
            self.max_flow,
        )

    @api.model
    def _latest_readings(self, reading_ids, vals_list):
        """``{meter id: (reading id, timestamp, total)}``: each meter's latest accepted
        reading among new ones (ids and the values they were created from)."""
        latest = {}
        for reading_id, vals in zip(reading_ids, vals_list):
            if vals["state"] == "rejected":
                continue
            current = latest.get(vals["meter_id"])
            if current is None or vals["timestamp"] > current[1]:
                latest[vals["meter_id"]] = (reading_id, vals["timestamp"], vals["total"])
        return latest

    @api.model
    def _move_last_reading(self, readings, vals_list, latest=None):
        """Point each meter at its latest accepted reading among the new ``readings``
        (created from ``vals_list``, read from there rather than fetched back), or
        as ``latest`` says (see ``_latest_readings``)."""
        if latest is None:
            latest = self._latest_readings(readings.ids, vals_list)
        self.browse(list(latest))._bulk_write(
            ("last_reading_id", "last_reading_date", "last_total"),
            [(meter_id, *reading) for meter_id, reading in latest.items()],
        )

    # ------------------------------------------------------------------ account life cycle

    def _open_on_account(self, account, start_reading=None):
        """Start billing this meter to ``account`` from ``start_reading`` (register value).

        Consumption before the start reading is nobody's: that reading is not billed
        and the tariff engine starts a fresh cycle memory.
        """
        self.ensure_one()
        if self.account_id and self.account_id != account:
            raise UserError(
                self.env._(
                    "Meter %(meter)s already bills account %(account)s.",
                    meter=self.display_name,
                    account=self.account_id.display_name,
                )
            )
        self.write({"account_id": account.id, "state": "normal", "pricing_state": False})
        start = self._record_start_reading(start_reading)
        self.write({"priced_reading_id": start.id, "pricing_error": False})
        return start

    def _record_start_reading(self, start_reading):
        """The reading billing starts from: given (a reading or a register value read
        now), or the last accepted one."""
        Reading = self.env["prepaid.reading"]
        if isinstance(start_reading, models.BaseModel):
            start = start_reading
        elif start_reading is None:
            start = self.last_reading_id
        else:
            start = Reading._ingest_manual(self, start_reading)
        if not start:
            raise UserError(
                self.env._("Meter %s has no reading yet: give a start reading.", self.serial)
            )
        # Everything up to the start reading was read before this account: not billed.
        Reading.search(
            [
                ("meter_id", "=", self.id),
                ("state", "=", "new"),
                ("timestamp", "<=", start.timestamp),
            ]
        )._mark_unbilled()
        return start

    def _close_meter(self, final_reading=None):
        """Bill up to ``final_reading`` (register value) and detach the meter from its account.

        Callers run it with ``sudo()`` (pricing books charges and ledger lines, which
        only the system writes); the user behind them must be allowed to change the meter.
        """
        self.ensure_one()
        self.sudo(False).check_access("write")
        if final_reading is not None:
            self.env["prepaid.reading"]._ingest_manual(self, final_reading)
        meter_sudo = self.sudo()
        meter_sudo._price_new_readings()
        if meter_sudo.pricing_error:
            raise UserError(
                self.env._(
                    "Meter %(meter)s cannot be billed up to its final reading: %(error)s",
                    meter=self.display_name,
                    error=meter_sudo.pricing_error,
                )
            )
        self.write({"account_id": False, "state": "not_opened", "pricing_state": False})

    # ------------------------------------------------------------------ pricing

    def action_price_now(self):
        """Price these meters' new readings at once, as the scheduled action does (officers)."""
        self.check_access("write")
        meters_sudo = self.sudo()
        priced, errors = meters_sudo._price_new_readings()
        readings = sum(len(readings) for _facts, readings, _pricing in priced)
        if errors:
            message = self.env._(
                "%(readings)s readings priced; %(count)s meters cannot be billed: %(errors)s",
                readings=readings,
                count=len(errors),
                errors="; ".join(error for _meter_id, error in errors[:5]),
            )
        elif readings:
            message = self.env._(
                "%(readings)s readings priced on %(meters)s meters.",
                readings=readings,
                meters=len(priced),
            )
        else:
            message = self.env._("Nothing to price: no new reading on these meters.")
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Price now"),
                "message": message,
                "type": "warning" if errors else "success",
                "sticky": bool(errors),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    @api.model
    def _cron_price_readings(self, batch_size=PRICING_BATCH):
        """Price new readings into charges and post consumption to the wallets."""
        meter_ids = self._meter_ids_to_price()
        batch = self.browse(meter_ids[:batch_size])
        priced, errors = batch._price_new_readings()
        _logger.info(
            "priced %s meters (%s readings), %s not billable, %s left",
            len(priced),
            sum(len(readings) for _facts, readings, _pricing in priced),
            len(errors),
            len(meter_ids) - len(batch),
        )
        self.env["ir.cron"]._notify_progress(done=len(batch), remaining=len(meter_ids) - len(batch))
        return len(batch)

    @api.model
    def _meter_ids_to_price(self):
        self.env["prepaid.reading"].flush_model(["state", "meter_id"])
        self.flush_model(["account_id"])
        rows = self.env.execute_query(
            SQL(
                "SELECT DISTINCT r.meter_id FROM prepaid_reading r"
                " JOIN prepaid_meter m ON m.id = r.meter_id"
                " WHERE r.state = 'new' AND m.account_id IS NOT NULL ORDER BY r.meter_id"
            )
        )
        return [row[0] for row in rows]

    def _price_new_readings(self, incoming=None):
        """Price these meters' new readings: charges, a consumption ledger line per meter
        and invoicing period, the readings priced, the meters' engine memory.

        ``incoming``: ``{meter id: [StoredReading]}`` just read and not stored yet
        (keyed by the caller), priced after the meters' stored new readings; the
        caller stores them and books the result (see ``_book_pricing``).

        Pricing is the system's job: run it as superuser, after checking the user's
        right to change the meters. Returns ``(priced, errors)``: ``[(PricingFacts,
        [StoredReading], MeterPricing)]`` and ``[(meter id, reason)]``.
        """
        self._lock_for_pricing()
        with bulk.gc_paused():
            facts = self._pricing_facts()
            new_readings = self._new_stored_readings()
            for meter_id, readings in (incoming or {}).items():
                new_readings.setdefault(meter_id, []).extend(readings)
            tariffs = {}
            priced, errors = [], []
            for meter_id, readings in new_readings.items():
                meter = facts[meter_id]
                if not meter.account_id:
                    continue
                try:
                    pricing = self._price_meter(meter, readings, tariffs)
                except (CoreValidationError, UserError, ValidationError) as error:
                    errors.append((meter_id, str(error)))
                    continue
                priced.append((meter, readings, pricing))
            if incoming is None:
                self._book_pricing(priced)
        stale = [
            (meter_id, error)
            for meter_id, error in errors
            if facts[meter_id].pricing_error != error
        ]
        for meter_id, error in stale:
            self.browse(meter_id).pricing_error = error
        return priced, errors

    def _lock_for_pricing(self):
        """Serialize pricing per meter: a reading is never priced twice by two
        transactions (cron and a meter being closed at the same time)."""
        if self.ids:
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM prepaid_meter WHERE id IN %s ORDER BY id FOR NO KEY UPDATE",
                    tuple(self.ids),
                )
            )
            self.invalidate_recordset(["priced_reading_id", "pricing_state", "account_id"])

    def _pricing_facts(self):
        """``{meter id: PricingFacts}`` of these meters, one query.

        The tariff (``_get_tariff``), the zone (``_site_zone``) and the product
        (``_product``) are asked of one meter per distinct override, site and utility.
        """
        Reading = self.env["prepaid.reading"]
        self.flush_model()
        self.env["prepaid.location"].flush_model()
        Reading.flush_model(["timestamp", "has_bands", *TOU_BANDS])
        rows = self.env.execute_query(
            SQL(
                """SELECT m.id, m.serial, m.account_id, m.company_id, m.site_id, m.utility,
                          m.multiplier, m.tariff_id, m.pricing_state, m.pricing_error,
                          m.priced_reading_id, s.invoice_period,
                          pr.timestamp, pr.raw_delta, pr.has_bands, pr.flags,
                          pr.sharp, pr.peak, pr.flat, pr.valley
                     FROM prepaid_meter m
                LEFT JOIN prepaid_location s ON s.id = m.site_id
                LEFT JOIN prepaid_reading pr ON pr.id = m.priced_reading_id
                    WHERE m.id = ANY(%s)""",
                self.ids,
            )
        )
        shared = {}  # what meters with the same override, site and utility share

        def ask(meter_id, key, method):
            if key not in shared:
                shared[key] = method(self.browse(meter_id))
            return shared[key]

        facts = {}
        for row in rows:
            meter_id, serial, account_id, company_id, site_id, utility, multiplier = row[:7]
            tariff_id, state, error, start_id, period = row[7:12]
            start_ts, start_delta, has_bands, flags, *bands = row[12:]
            start = None
            if start_id:
                start = core_ingestion.StoredReading(
                    start_id,
                    start_ts,
                    register_decimal(start_delta),
                    stored_bands(has_bands, bands),
                    _flags(flags),
                )
            facts[meter_id] = PricingFacts(
                id=meter_id,
                serial=serial,
                account_id=account_id,
                company_id=company_id,
                site_id=site_id,
                utility=utility,
                multiplier=register_decimal(multiplier),
                tariff_id=ask(meter_id, ("tariff", tariff_id, site_id), _tariff_id),
                pricing_state=state,
                pricing_error=error,
                invoice_period=period or core_calendar.MONTHLY,
                zone=ask(meter_id, ("zone", site_id, company_id), _zone),
                product_id=ask(meter_id, ("product", site_id, utility), _product_id),
                digits=ask(meter_id, ("digits", company_id), _currency_digits),
                start=start,
            )
        return facts

    def _new_stored_readings(self):
        """``{meter id: [StoredReading]}`` of these meters' new readings, in time order."""
        rows = self.env.execute_query(
            SQL(
                "SELECT id, meter_id, timestamp, raw_delta, has_bands, flags,"
                " sharp, peak, flat, valley FROM prepaid_reading"
                " WHERE meter_id = ANY(%s) AND state = 'new' ORDER BY meter_id, timestamp, id",
                self.ids,
            )
        )
        by_meter = {}
        for reading_id, meter_id, timestamp, raw_delta, has_bands, flags, *bands in rows:
            by_meter.setdefault(meter_id, []).append(
                core_ingestion.StoredReading(
                    reading_id,
                    timestamp,
                    register_decimal(raw_delta),
                    stored_bands(has_bands, bands),
                    _flags(flags),
                )
            )
        return by_meter

    def _price_meter(self, meter, readings, tariffs):
        """Run the engine on one meter's new ``readings`` (``meter``: its PricingFacts)."""
        if not meter.tariff_id:
            raise UserError(self.env._("meter %s has no tariff (nor its site)", meter.serial))
        if meter.tariff_id not in tariffs:
            tariffs[meter.tariff_id] = self.env["prepaid.tariff"].browse(meter.tariff_id)._to_core()
        state = meter.pricing_state
        return core_ingestion.price_meter(
            tariffs[meter.tariff_id],
            meter.start,
            readings,
            meter.zone,
            state=PricingState.from_dict(state) if state else None,
            multiplier=meter.multiplier,
            digits=meter.digits,
            invoice_period=meter.invoice_period,
        )

    def _site_zone(self, cache=None):
        """The time zone name of the site's clock (TOU bands, cycles, slots)."""
        cache = {} if cache is None else cache
        site = self.site_id  # in its meters' company: the site alone is the key
        key = ("zone", site or self.company_id)
        if key not in cache:
            cache[key] = site.tz or self.company_id.partner_id.tz or "UTC"
        return cache[key]

    def _book_pricing(self, priced, reading_ids=None, last_readings=None):
        """Store what the engine priced: ledger lines, charges, meter memory, reading states.

        ``reading_ids``: the ids of readings priced before they were stored, by their
        key (those are stored priced already); ``last_readings``: ``{meter id:
        (reading id, timestamp, total)}``, the meters' new last readings, written
        with their engine memory.
        """
        if not priced:
            return
        reading_ids = reading_ids or {}
        # a consumption ledger line per meter and invoicing period (none when nothing was used)
        ledger_vals, periods = [], []
        label = self._consumption_label()
        for meter, _readings, pricing in priced:
            for period in pricing.periods:
                ledger_vals.append(self._prepare_consumption_vals(meter, period, label))
                periods.append((meter, period))
        ledger_lines = self.env["prepaid.ledger.line"]
        if ledger_vals:
            ledger_lines = self.env["prepaid.account"]._post_ledger_lines(ledger_vals)
        charge_vals = []
        for (meter, period), ledger_line_id in zip(periods, ledger_lines.ids):
            charge_vals += self._prepare_charge_vals(meter, period, ledger_line_id, reading_ids)
        self.env["prepaid.charge"]._bulk_create(charge_vals)
        Reading = self.env["prepaid.reading"]
        Reading.browse(
            [
                reading.key
                for _meter, readings, _pricing in priced
                for reading in readings
                if reading.key not in reading_ids
            ]
        )._mark_priced()
        meters = self.browse([meter.id for meter, _readings, _pricing in priced])
        rows = [
            (meter.id, reading_ids.get(readings[-1].key, readings[-1].key), pricing.state.to_dict())
            for meter, readings, pricing in priced
        ]
        fnames = ("priced_reading_id", "pricing_state", "pricing_error")
        if last_readings:
            fnames += ("last_reading_id", "last_reading_date", "last_total")
            rows = [(*row, None, *last_readings[row[0]]) for row in rows]
        else:
            rows = [(*row, None) for row in rows]
        meters._bulk_write(fnames, rows)

    def _product(self):
        site = self.site_id
        return site.water_product_id if self.utility == "water" else site.electricity_product_id

    def _consumption_label(self):
        """The label of consumption ledger lines, translated once per run (a lookup per
        line costs more than the line)."""
        return self.env._("%(meter)s: %(quantity)s %(unit)s from %(start)s to %(end)s")

    def _prepare_consumption_vals(self, meter, period, label=None):
        """The consumption ledger line of one meter's invoicing period in a pricing run
        (a debit: negative amount). Its times are the site's, as the tenant reads them."""
        start = core_calendar.to_local(period.start, meter.zone)
        end = core_calendar.to_local(period.end, meter.zone)
        description = (label or self._consumption_label()) % {
            "meter": meter.serial,
            "quantity": plain(period.quantity),
            "unit": UTILITY_UNITS.get(meter.utility, ""),
            "start": start.strftime("%Y-%m-%d %H:%M"),
            "end": end.strftime("%Y-%m-%d %H:%M"),
        }
        return {
            "account_id": meter.account_id,
            "kind": CONSUMPTION,
            "amount": -period.amount,  # Decimal: exact, no float round trip
            "date_start": period.start,
            "date": period.end,
            "meter_id": meter.id,
            "description": description,
        }

    def _prepare_charge_vals(self, meter, period, ledger_line_id, reading_ids=None):
        """One charge per priced line of an invoicing period, linked to its reading
        (``reading_ids``: the ids of readings priced before they were stored)."""
        reading_ids = reading_ids or {}
        common = {
            "meter_id": meter.id,
            "account_id": meter.account_id,
            "ledger_line_id": ledger_line_id,
            "product_id": meter.product_id,
            "company_id": meter.company_id,
        }
        return [
            {
                **common,
                "reading_id": reading_ids.get(priced.reading, priced.reading),
                "date_start": priced.start,
                "date_end": priced.end,
                "band": priced.line.band,
                "tier": priced.line.tier or 0,
                "is_free": priced.line.free,
                "quantity": priced.line.quantity,
                "unit_price": priced.line.unit_price,
                "amount": priced.line.amount,
                "tariff_version_id": int(priced.line.version),
            }
            for priced in period.lines
        ]


def _flags(text):
    return frozenset(text.split(",")) if text else frozenset()


# what the meters of a pricing run share, asked of one meter each (see _pricing_facts)


def _tariff_id(meter):
    return meter._get_tariff().id


def _zone(meter):
    return meter._site_zone()


def _product_id(meter):
    return meter._product().id or None


def _currency_digits(meter):
    return meter.company_id.currency_id.decimal_places
