"""The demo site, deterministic: layout, tenants, meters, load profiles, register series.

The Odoo addon ``prepaid_energy_demo`` builds its database from these plain
values (through the ORM and the project's own business methods), and the
meter simulator can be started with the registers the last demo reading had,
so that the first live reading continues the demo's series.

API:

- ``units() -> [dict]``: the 40 units of "Harbour Park" (building A: offices,
  building B: homes; 5 floors of 4 units each), with code, floor, area, kind.
- ``tenants() -> [dict]``: companies (offices) and persons (homes), each with
  the unit codes it rents and the portal login of the two that have one.
- ``meters() -> [dict]``: every meter with serial, utility, unit code (None
  for a building's common-area meter), building, gateway index and bus
  address, as ``prepaid-simulator --gateways 2 --meters 24 --protocol dlt645
  --port-base 7000`` serves them (gateway i is building i; addresses
  ``GGGGGGNNNNNN`` as :func:`prepaid_energy_core.simulator.server.meter_addresses`).
- ``demo_span(now, step_hours=STEP_HOURS) -> (start, end)``: the naive UTC span of
  the demo readings: from local midnight three months before ``now`` to the last
  step boundary at or before ``now``.
- ``register_series(meter, start, end, calendar=None, step_hours=STEP_HOURS)
  -> [(timestamp, total, bands)]``: cumulative registers (Decimal, 0.01) every
  ``step_hours`` from ``start`` to ``end`` (naive UTC). The TOU bands follow
  the simulator's default band schedule, so a live reading continues them.
- ``simulator_state(end, calendar=None, start=None, step_hours=STEP_HOURS)
  -> [{"gateway": 0, "address": "000000000001", "total": "123.45",
  "bands": {"sharp": "...", "peak": "...", "flat": "...", "valley": "..."},
  "serial": "...", "utility": "electricity"}]``: the registers of every demo
  meter at ``end`` (the last demo reading), JSON-ready: what
  ``prepaid-simulator --state FILE`` loads. ``start`` defaults to
  ``demo_span(end)[0]``. The addon also stores this list, as JSON, in the
  ``ir.config_parameter`` ``prepaid_energy_demo.simulator_state``.
- ``fee_schemes() -> [dict]``: the site's rent and property fee per m² and month, for
  offices and homes (rent invoiced, the property fee deducted from the wallet);
  ``unit_fee_schemes(code)`` those a unit's tenant subscribes.
- ``span_days(start, end) -> (first, last)``: the span's first and last day on the site's
  clock; ``last_full_month(start, end) -> (first, last)``: the last calendar month the
  span covers whole (apportioned); ``invoice_until(end)``: the first day of ``end``'s
  month (everything before is invoiced).
- ``fee_charges(scheme, area, first, until)``: the core's fee charges of a scheme on a
  unit of ``area`` m² from ``first`` to ``until``; ``wallet_fees(code, start, end)`` what
  the wallet fees of a unit cost over the demo span (its opening recharge covers them).
- ``common_share_bound(code, quantity)``: at most what a unit pays of ``quantity`` kWh of
  its building's common areas, shared by area among the occupied units.
- ``parse_holidays_csv(text) -> [(date, kind, name)]`` and
  ``holiday_calendar(rows) -> HolidayCalendar``: the holiday file
  ``data/holidays/cn_2026.csv`` (``date,kind,name``; kind ``holiday`` or
  ``workday``, a make-up workday).

Everything is a function of its arguments: the same ``now`` gives the same
demo, to the last digit.
"""

import csv
import datetime
import hashlib
import io
from decimal import ROUND_HALF_UP, Decimal

from . import fees
from .calendar import HOLIDAY, WORKDAY, HolidayCalendar, parse_date, to_local, to_utc
from .errors import ValidationError
from .vocabulary import ELECTRICITY, FLAT, PEAK, SHARP, TOU_BANDS, VALLEY, WATER, default_tou_band

SITE_NAME = "Harbour Park"
SITE_TZ = "Asia/Shanghai"
BUILDINGS = (
    {"code": "A", "name": "Building A (offices)", "kind": "office"},
    {"code": "B", "name": "Building B (residences)", "kind": "home"},
)
FLOORS = 5
UNITS_PER_FLOOR = 4
#: meters each simulated gateway serves: 20 units, 1 common area, 3 water meters
METERS_PER_GATEWAY = 24
PROTOCOL = "dlt645"
PORT_BASE = 7000
STEP_HOURS = 3
MONTHS = 3
#: units left vacant (no tenant): they show on the room board without an account
VACANT = ("A-503", "A-504", "B-104", "B-502")
#: units with a water meter (three per building)
WATER_UNITS = ("A-101", "A-201", "A-301", "B-101", "B-201", "B-301")
#: register at the start of the series, before any demo consumption (seeded per meter)
_CENT = Decimal("0.01")
#: rent and property fee, per m² and month, tax included (offices cost more than homes):
#: rent is invoiced with a due date, the property fee is taken from the prepaid wallet
FEE_SCHEMES = (
    {"code": "rent-office", "name": "Office rent", "fee_type": fees.RENT, "kind": "office",
     "rate": Decimal("150"), "collection": fees.INVOICE, "due_days": 10},
    {"code": "rent-home", "name": "Residence rent", "fee_type": fees.RENT, "kind": "home",
     "rate": Decimal("60"), "collection": fees.INVOICE, "due_days": 10},
    {"code": "property-office", "name": "Property fee (offices)", "fee_type": fees.PROPERTY,
     "kind": "office", "rate": Decimal("10"), "collection": fees.WALLET, "due_days": 0},
    {"code": "property-home", "name": "Property fee (residences)", "fee_type": fees.PROPERTY,
     "kind": "home", "rate": Decimal("3.5"), "collection": fees.WALLET, "due_days": 0},
)  # fmt: skip
#: price of a kWh of the common areas shared among the units (tax included)
COMMON_AREA_PRICE = Decimal("0.85")
#: VAT included in the prices of the invoiced products (China: energy 13 %, water 9 %,
#: leases 9 %, property services 6 %), by product reference of the prepaid_energy addon
VAT_RATES = {
    "product_electricity": 13,
    "product_water": 9,
    "product_rent": 9,
    "product_property_fee": 6,
    "product_common_area": 6,
    "product_fee": 6,
}
#: the first portal users (login = password)
PORTAL_LOGINS = {"T-A01": "tenant1@demo", "T-B01": "tenant2@demo"}

_COMPANY_NAMES = (
    "Lotus Trading Ltd",
    "Peony Foods Co.",
    "Bamboo Design Studio",
    "Jade River Logistics",
    "Golden Crane Consulting",
    "Silk Road Imports",
    "Pearl Bay Software",
    "Red Lantern Media",
    "Blue Whale Fintech",
    "Osmanthus Tea House",
    "Great Wall Engineering",
    "Plum Blossom Clinic",
    "Cloud Peak Architects",
    "Phoenix Robotics",
    "Dragon Gate Law Firm",
    "Lucky Star Travel",
)
_PERSON_NAMES = (
    "Wang Wei",
    "Li Na",
    "Zhang Min",
    "Liu Yang",
    "Chen Jing",
    "Yang Fan",
    "Zhao Lei",
    "Huang Mei",
    "Zhou Tao",
    "Wu Xia",
    "Xu Hui",
    "Sun Lin",
    "Ma Jun",
    "Zhu Qing",
    "Hu Bin",
    "Guo Yan",
    "He Ping",
    "Lin Hong",
)


# --------------------------------------------------------------------------- layout


def units():
    """The 40 units: ``code`` (``A-101``), ``name``, ``building``, ``floor`` (1..5), ``area``
    (m²) and ``kind`` (``office`` or ``home``)."""
    result = []
    for building in BUILDINGS:
        for floor in range(1, FLOORS + 1):
            for number in range(1, UNITS_PER_FLOOR + 1):
                code = f"{building['code']}-{floor}{number:02d}"
                result.append(
                    {
                        "code": code,
                        "name": code,
                        "building": building["code"],
                        "floor": floor,
                        "area": _area(building["kind"], code),
                        "kind": building["kind"],
                    }
                )
    return result


def _area(kind, code):
    # offices 80..200 m², homes 55..130 m², in steps of 0.5
    low, span = (80, 240) if kind == "office" else (55, 150)
    return float(Decimal(low) + Decimal(_seed(code, "area") % span) / 2)


def tenants():
    """Tenants with their units: ``ref`` (``T-A01``), ``name``, ``is_company``,
    ``units`` (codes), ``email``, ``phone``, ``portal_login`` (or None), ``kind``.

    Offices are rented by companies (one company rents two neighbouring units),
    homes by persons; the units of :data:`VACANT` have no tenant.
    """
    result = []
    by_building = {}
    for unit in units():
        if unit["code"] not in VACANT:
            by_building.setdefault(unit["building"], []).append(unit)
    for building, free in by_building.items():
        names = _COMPANY_NAMES if building == "A" else _PERSON_NAMES
        # the first office tenant takes two units: one account, two meters
        groups = [free[0:2]] + [[unit] for unit in free[2:]] if building == "A" else None
        groups = groups or [[unit] for unit in free]
        for index, group in enumerate(groups):
            ref = f"T-{building}{index + 1:02d}"
            name = names[index % len(names)]
            slug = name.lower().replace(" ", ".").replace(",", "").replace(".co.", "")
            result.append(
                {
                    "ref": ref,
                    "name": name,
                    "is_company": building == "A",
                    "units": [unit["code"] for unit in group],
                    "email": f"{slug.strip('.')}@example.com",
                    "phone": f"+86 138 {2000 + _seed(ref, 'phone') % 8000:04d} "
                    f"{_seed(ref, 'phone2') % 10000:04d}",
                    "portal_login": PORTAL_LOGINS.get(ref),
                    "kind": "office" if building == "A" else "home",
                }
            )
    return result


def meters():
    """Every demo meter: ``serial``, ``name``, ``utility``, ``unit`` (code, or None for the
    building's common-area meter), ``building``, ``kind`` (load profile: ``office``,
    ``home``, ``common``), ``gateway`` (index), ``address`` (DL/T 645, 12 digits)."""
    result = []
    for gateway, building in enumerate(BUILDINGS):
        number = 0

        def add(serial, name, utility, unit, kind, gateway=gateway, building=building):
            nonlocal number
            number += 1
            result.append(
                {
                    "serial": serial,
                    "name": name,
                    "utility": utility,
                    "unit": unit,
                    "building": building["code"],
                    "kind": kind,
                    "gateway": gateway,
                    "address": f"{gateway:06d}{number:06d}",
                }
            )

        for unit in units():
            if unit["building"] == building["code"]:
                add(f"EL-{unit['code']}", f"Electricity {unit['code']}", ELECTRICITY, unit["code"],
                    unit["kind"])  # fmt: skip
        add(f"EL-{building['code']}-COMMON", f"Common areas {building['code']}", ELECTRICITY,
            None, "common")  # fmt: skip
        for code in WATER_UNITS:
            if code.startswith(building["code"]):
                add(f"WA-{code}", f"Water {code}", WATER, code, unit_kind(code))
        if number != METERS_PER_GATEWAY:  # the simulator's --meters must match
            raise ValidationError(f"gateway {gateway} has {number} meters")
    return result


def unit_kind(code):
    return "office" if code.startswith("A") else "home"


# --------------------------------------------------------------------------- load profiles


def _seed(*parts):
    """A stable integer of ``parts`` (not Python's salted hash)."""
    digest = hashlib.sha256("|".join(str(part) for part in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _jitter(serial, local_hour):
    """0.85 .. 1.15, stable per meter and hour."""
    return Decimal(85 + _seed(serial, local_hour.isoformat()) % 31) / 100


_HOME_SHAPE = (
    # 0..23 h: share of the home's base load; evenings high
    "0.25 0.2 0.2 0.2 0.2 0.25 0.5 0.9 0.7 0.35 0.3 0.3 "
    "0.4 0.35 0.3 0.3 0.4 0.8 1.3 1.6 1.6 1.4 1.0 0.5"
)
_HOME_SHAPE = tuple(Decimal(value) for value in _HOME_SHAPE.split())


def hourly_use(meter, local_hour, day_type=WORKDAY):
    """kWh (or m³) ``meter`` uses in the hour starting at ``local_hour`` (naive local),
    rounded to 0.01: offices work by day on workdays, homes live in the evening, common
    areas light up at night; water follows the same rhythms, in small volumes."""
    serial = meter["serial"]
    kind = meter["kind"]
    hour = local_hour.hour
    working = day_type == WORKDAY
    if kind == "office":
        base = Decimal(3 + _seed(serial, "base") % 6)  # 3..8 kW
        if working and 8 <= hour < 19:
            share = Decimal("1.0") if 9 <= hour < 18 else Decimal("0.6")
        else:
            share = Decimal("0.08") if working else Decimal("0.05")
    elif kind == "home":
        base = Decimal(6 + _seed(serial, "base") % 10) / 10  # 0.6..1.5 kW
        share = _HOME_SHAPE[hour]
        if not working and 9 <= hour < 17:  # at home on rest days
            share *= 2
    else:  # common areas: corridors, lifts, lighting
        base = Decimal(2)
        share = Decimal("1.0") if (hour >= 18 or hour < 6) else Decimal("0.5")
        if day_type == HOLIDAY:
            share *= Decimal("0.8")
    if meter["utility"] == WATER:
        base = base / 40  # m³ per hour: a few hundred litres a day
    use = base * share * _jitter(serial, local_hour)
    return use.quantize(_CENT, rounding=ROUND_HALF_UP)


def start_register(meter):
    """The register before the demo: a meter with a few years of history."""
    if meter["utility"] == WATER:
        return Decimal(100 + _seed(meter["serial"], "start") % 900)
    return Decimal(2000 + _seed(meter["serial"], "start") % 30000)


# --------------------------------------------------------------------------- readings


def demo_span(now, step_hours=STEP_HOURS):
    """``(start, end)`` naive UTC: from local midnight :data:`MONTHS` months before
    ``now``'s local date to the last ``step_hours`` boundary (site-local clock) at or
    before ``now``."""
    local = to_local(now, SITE_TZ)
    month = local.month - MONTHS
    year = local.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    day = min(local.day, _days_in(year, month))
    start = to_utc(datetime.datetime(year, month, day), SITE_TZ)
    end_local = local.replace(minute=0, second=0, microsecond=0)
    end_local = end_local.replace(hour=end_local.hour - end_local.hour % step_hours)
    return start, to_utc(end_local, SITE_TZ)


def _days_in(year, month):
    following = datetime.date(year + month // 12, month % 12 + 1, 1)
    return (following - datetime.timedelta(days=1)).day


def register_series(meter, start, end, calendar=None, step_hours=STEP_HOURS):
    """``[(timestamp, total, bands)]`` of ``meter`` every ``step_hours`` from ``start`` to
    ``end`` (naive UTC, both included); ``bands`` is ``{band: register}`` of the four TOU
    bands, which always add up to ``total``. ``calendar`` (a HolidayCalendar) gives the
    day types; without it weekdays are workdays."""
    if end < start:
        raise ValidationError(f"the series ends ({end}) before it starts ({start})")
    calendar = calendar or HolidayCalendar()
    total = start_register(meter)
    bands = _initial_bands(meter, total)
    series = [(start, total, dict(bands))]
    moment = start
    step = datetime.timedelta(hours=step_hours)
    hour = datetime.timedelta(hours=1)
    day_types = {}
    while moment + step <= end:
        for offset in range(step_hours):
            local = to_local(moment + offset * hour, SITE_TZ)
            day = local.date()
            if day not in day_types:
                day_types[day] = calendar.day_type(day)
            use = hourly_use(meter, local, day_types[day])
            band = default_tou_band(local)
            bands[band] += use
            total += use
        moment += step
        series.append((moment, total, dict(bands)))
    return series


def _initial_bands(meter, total):
    """Split a start register among the bands (typical shares; the rest in flat)."""
    shares = {SHARP: Decimal("0.10"), PEAK: Decimal("0.25"), VALLEY: Decimal("0.30")}
    bands = {band: (total * shares.get(band, 0)).quantize(_CENT) for band in TOU_BANDS}
    bands[FLAT] = total - sum(value for band, value in bands.items() if band != FLAT)
    return bands


def simulator_state(end, calendar=None, start=None, step_hours=STEP_HOURS):
    """The registers of every demo meter at ``end`` (see the module's docstring)."""
    start = start or demo_span(end, step_hours)[0]
    state = []
    for meter in meters():
        _when, total, bands = register_series(meter, start, end, calendar, step_hours)[-1]
        state.append(
            {
                "gateway": meter["gateway"],
                "address": meter["address"],
                "total": str(total),
                "bands": {band: str(bands[band]) for band in TOU_BANDS},
                "serial": meter["serial"],
                "utility": meter["utility"],
            }
        )
    return state


# --------------------------------------------------------------------------- billing


def fee_schemes():
    """The demo's fee schemes (see :data:`FEE_SCHEMES`), as fresh dicts."""
    return [dict(scheme) for scheme in FEE_SCHEMES]


def unit_fee_schemes(code):
    """The schemes a tenant of unit ``code`` subscribes: its kind's rent and property fee."""
    kind = unit_kind(code)
    return [scheme for scheme in fee_schemes() if scheme["kind"] == kind]


def span_days(start, end):
    """``(first, last)``: the demo span's first and last day on the site's clock."""
    return to_local(start, SITE_TZ).date(), to_local(end, SITE_TZ).date()


def last_full_month(start, end):
    """``(first, last)`` day of the last calendar month (site clock) the span covers whole."""
    first_day, last_day = span_days(start, end)
    following = datetime.date(last_day.year, last_day.month, 1)
    if last_day == _month_end(last_day):
        following = last_day + datetime.timedelta(days=1)
    month_end = following - datetime.timedelta(days=1)
    month_start = month_end.replace(day=1)
    if month_start < first_day:
        raise ValidationError(f"the span {first_day} .. {last_day} covers no whole month")
    return month_start, month_end


def _month_end(day):
    return day.replace(day=_days_in(day.year, day.month))


def invoice_until(end):
    """The first day of ``end``'s month (site clock): the months before it are over."""
    return to_local(end, SITE_TZ).date().replace(day=1)


def fee_charges(scheme, area, first, until):
    """The core's ``FeeCharge`` list of ``scheme`` on ``area`` m², from ``first`` up to
    ``until`` (monthly, charged in advance, the first month prorated)."""
    return fees.charges_due(
        fees.MONTHLY, fees.PER_AREA, scheme["rate"], first, until, area=Decimal(str(area))
    )


def _unit(code):
    return next(unit for unit in units() if unit["code"] == code)


def wallet_fees(code, start, end):
    """What the wallet fees of unit ``code`` cost over the span (Decimal)."""
    first_day, last_day = span_days(start, end)
    area = _unit(code)["area"]
    return sum(
        (
            charge.amount
            for scheme in unit_fee_schemes(code)
            if scheme["collection"] == fees.WALLET
            for charge in fee_charges(scheme, area, first_day, last_day)
        ),
        Decimal(0),
    )


def common_share_bound(code, quantity):
    """At most what unit ``code`` pays of ``quantity`` kWh of its building's common areas:
    its area over the occupied area of the building, at :data:`COMMON_AREA_PRICE`, plus
    a cent for the rounding of the split."""
    unit = _unit(code)
    occupied = sum(
        Decimal(str(other["area"]))
        for other in units()
        if other["building"] == unit["building"] and other["code"] not in VACANT
    )
    share = Decimal(str(quantity)) * COMMON_AREA_PRICE * Decimal(str(unit["area"])) / occupied
    return share.quantize(_CENT, rounding=ROUND_HALF_UP) + _CENT


# --------------------------------------------------------------------------- holidays


def parse_holidays_csv(text):
    """``[(date, kind, name)]`` of a holiday file: a ``date,kind,name`` header, then one
    day a line (ISO date; ``holiday`` or ``workday``); blank lines and ``#`` comments
    are skipped."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    if reader.fieldnames is None or [f.strip() for f in reader.fieldnames] != [
        "date",
        "kind",
        "name",
    ]:
        raise ValidationError("a holiday file starts with the header date,kind,name")
    rows = []
    seen = set()
    for number, row in enumerate(reader, start=2):
        day = parse_date(row["date"].strip(), f"line {number}: date")
        kind = (row["kind"] or "").strip()
        if kind not in (HOLIDAY, WORKDAY):
            raise ValidationError(f"line {number}: kind must be holiday or workday, not {kind!r}")
        if day in seen:
            raise ValidationError(f"line {number}: {day} is listed twice")
        seen.add(day)
        rows.append((day, kind, (row["name"] or "").strip()))
    return rows


def holiday_calendar(rows):
    """The HolidayCalendar of ``parse_holidays_csv`` rows (weekend Saturday and Sunday)."""
    return HolidayCalendar(
        holidays=[day for day, kind, _name in rows if kind == HOLIDAY],
        workdays=[day for day, kind, _name in rows if kind == WORKDAY],
    )
