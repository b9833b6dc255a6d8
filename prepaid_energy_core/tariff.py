"""Tariff engine: prices one meter's cumulative readings into charge lines.

API (everything else is internal):

- ``Tariff.from_dict(data) -> Tariff``: build and validate a tariff.
- ``price_readings(tariff, readings, state=None, multiplier=Decimal(1),
  digits=2, merge_lines=True, cuts=()) -> PricingResult(lines, state, total,
  exact_total, quantity)``.
- ``Reading(timestamp, total=None, bands=None)``, ``ChargeLine(start, end,
  band, tier, quantity, unit_price, amount, version, free, exact_amount)``,
  ``PricingState(cycle_start, cycle_quantity, allowance_used,
  rounding_remainder)`` with ``to_dict()`` / ``from_dict()``.

Everything is ``decimal.Decimal``; amounts are rounded to the currency digits
once per charge line, with :class:`~prepaid_energy_core.money.RoundingCarry`
carrying the remainder, so that the line amounts always add up to the exact
total rounded once, however many small intervals there are:
``total + state.rounding_remainder == exact_total + previous remainder``.
With ``merge_lines`` contiguous parts with the same version, band, tier, price
and cycle are booked as one line. A line covers only the intervals (or parts
of intervals) that gave it units: a part with no units never stretches a line.
``cuts`` are moments (invoicing period starts) at which every interval is
split and no line runs on: each line lies between two consecutive cuts.

Tariffs
-------
A :class:`Tariff` is a sequence of versions, each in force from its
``effective_from`` (a naive local datetime; a date means its midnight) until
the next one. A version is

- ``flat``: one ``price`` per unit, or
- ``tou``: time-of-use bands (``sharp``, ``peak``, ``flat``, ``valley``) with a
  schedule per day type (``workday``, ``weekend``, ``holiday``: see
  :mod:`prepaid_energy_core.calendar`) and per season. A schedule lists
  ``(start, end, band)`` segments (``"HH:MM"`` or ``"HH:MM:SS"``, end
  ``"24:00"`` allowed) that cover the 24 hours exactly; a segment whose end is
  not after its start crosses midnight (``("23:00", "07:00", "valley")``).
  A missing ``weekend`` schedule is the ``workday`` one, a missing
  ``holiday`` schedule the ``weekend`` one.

and may add

- ``tiers``: stepped surcharges on the cumulative consumption of the billing
  cycle, ``[{"from": "0", "to": "200", "surcharge": "0"}, ..., {"from": "400",
  "to": None, "surcharge": "0.30"}]``. The unit price is the flat or band price
  plus the surcharge of the tier the unit falls in. A tier boundary crossed
  inside an interval splits its quantity.
- ``allowance``: the first units of every cycle are free. Free units count as
  consumption: they advance the tier position like any other unit.

The billing cycle (monthly or yearly, any start day) and the holiday calendar
belong to the tariff, not to a version. Build tariffs with
:meth:`Tariff.from_dict`; every inconsistency raises ValidationError.

Readings and quantities
-----------------------
Each consecutive pair of :class:`Reading` s is an interval; its quantity is
the register delta times the meter ``multiplier`` (CT x PT ratio).

- When both readings carry band registers (the same bands), their deltas are
  the consumption per band, and the total register is only informational.
- Otherwise the total delta is spread over the interval by time (uniform load)
  and split by the TOU schedule.

Wherever an interval must be split by time (TOU segments, a day, season or
tariff-version change, a cycle start) the cumulative quantity at each split
point is ``quantity * elapsed / duration`` rounded half-up to
``SPLIT_DIGITS`` decimal places (a millionth of a kWh), and each part is the
difference of two such points. The parts therefore add up to the quantity
exactly, and inserting an interpolated reading on that grid never changes the
exact total, the booked total or the final state. With band registers all
bands are consumed together (uniform load): when the free allowance runs out
inside an interval, the free units are shared
among the bands in proportion to their quantities (cumulatively rounded in the
order of ``TOU_BANDS``, so the shares add up exactly); the paid units then
follow the free ones in the tier position, band after band in that order,
which decides which band's line shows a tier crossing but never the amount.
One corner is not invariant under an inserted reading: when the allowance runs
out inside a band-register interval that also crosses a price change (version,
season, cycle start or a cut), the inserted reading (or cut) can move a few millionths of a
unit of the free share from one band to another.

Incremental pricing
-------------------
:func:`price_readings` is a pure function: it takes and returns a
:class:`PricingState` (cycle start, cycle quantity, allowance used, rounding
remainder), which :meth:`PricingState.to_dict` turns into plain strings for
storage. Pass the last already-priced reading first with the returned state:
pricing in chunks gives exactly the totals of pricing everything at once.

Example::

    >>> import datetime
    >>> from decimal import Decimal
    >>> tariff = Tariff.from_dict({
    ...     "code": "RES",
    ...     "cycle": {"period": "monthly", "start_day": 1},
    ...     "versions": [{
    ...         "effective_from": "2024-01-01",
    ...         "kind": "tou",
    ...         "schedules": {
    ...             "workday": [("07:00", "23:00", "peak"), ("23:00", "07:00", "valley")],
    ...         },
    ...         "prices": {"peak": "0.60", "valley": "0.30"},
    ...         "tiers": [{"from": "0", "to": "200", "surcharge": "0"},
    ...                   {"from": "200", "to": None, "surcharge": "0.05"}],
    ...     }],
    ... })
    >>> readings = [
    ...     Reading(datetime.datetime(2024, 3, 4, 22, 0), Decimal("199")),
    ...     Reading(datetime.datetime(2024, 3, 5, 0, 0), Decimal("203")),
    ... ]
    >>> result = price_readings(tariff, readings, PricingState(cycle_quantity=Decimal("199")))
    >>> [(line.band, line.tier, str(line.quantity), str(line.amount)) for line in result.lines]
    [('peak', 1, '1', '0.60'), ('peak', 2, '1', '0.65'), ('valley', 2, '2', '0.70')]
    >>> result.total, result.state.cycle_quantity
    (Decimal('1.95'), Decimal('203'))
"""

import bisect
import dataclasses
import datetime
import math
import re
from decimal import (
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from fractions import Fraction
from typing import NamedTuple

from .calendar import (
    DAY_TYPES,
    HOLIDAY,
    WEEKEND,
    WORKDAY,
    BillingCycle,
    HolidayCalendar,
    SeasonMap,
)
from .errors import ValidationError
from .money import RoundingCarry, quantum, to_decimal
from .vocabulary import TOU_BANDS

FLAT = "flat"
TOU = "tou"
TARIFF_KINDS = (FLAT, TOU)

#: decimal places of the quantities produced when an interval is split by time
SPLIT_DIGITS = 6

ZERO = Decimal(0)
ONE = Decimal(1)
_INFINITY = Decimal("Infinity")
_DAY_SECONDS = 86400
_MICROSECOND = datetime.timedelta(microseconds=1)
_ONE_DAY = datetime.timedelta(days=1)
_BAND_NAMES = frozenset(TOU_BANDS)
# a season or day table rarely changes at midnight: look this many days ahead
_MAX_MIDNIGHT_HOPS = 7
# exact arithmetic on every realistic quantity x price; traps instead of NaN
_ENGINE_CONTEXT = Context(
    prec=60, rounding=ROUND_HALF_UP, traps=[InvalidOperation, DivisionByZero, Overflow]
)
_TIME_OF_DAY = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


# --------------------------------------------------------------------------
# Public value types
# --------------------------------------------------------------------------


class Reading(NamedTuple):
    """One cumulative reading of a meter.

    ``timestamp`` is a naive local datetime; ``total`` the total register and
    ``bands`` the per-band registers (``{"peak": Decimal(...), ...}``), each
    ``None`` when the meter did not give it. Register values are secondary
    (before the meter multiplier).
    """

    timestamp: datetime.datetime
    total: Decimal | None = None
    bands: dict | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class ChargeLine:
    """One priced line: ``quantity`` units at ``unit_price`` between ``start`` and ``end``.

    ``band`` is the TOU band (``None`` for a flat version), ``tier`` the
    1-based tier number (``None`` when the version has no tiers), ``free``
    marks units of the free allowance (unit price 0). ``version`` names the
    tariff version. ``amount`` is rounded to the currency digits (with the
    carried remainder); ``exact_amount`` is ``quantity * unit_price``. When a
    tier or allowance boundary falls inside an interval, both lines keep the
    interval's start and end.
    """

    start: datetime.datetime
    end: datetime.datetime
    band: str | None
    tier: int | None
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    version: str
    free: bool = False
    exact_amount: Decimal = ZERO


@dataclasses.dataclass(frozen=True)
class PricingState:
    """What pricing must remember between two calls for one meter.

    ``cycle_start`` is the start of the billing cycle the counters belong to
    (``None``: the cycle of the first reading priced, so an opening state can
    carry consumption already billed elsewhere; a moment that is not a cycle
    start of the tariff stands for the cycle containing it, which lets a meter
    change to a tariff with another cycle), ``cycle_quantity`` the units consumed
    in it (free units included), ``allowance_used`` the free units used in it,
    ``rounding_remainder`` the part of the exact amounts not yet booked.
    """

    cycle_start: datetime.datetime | None = None
    cycle_quantity: Decimal = ZERO
    allowance_used: Decimal = ZERO
    rounding_remainder: Decimal = ZERO

    def __post_init__(self):
        if self.cycle_start is not None and not _is_naive_datetime(self.cycle_start):
            raise ValidationError(f"cycle_start must be a naive datetime: {self.cycle_start!r}")
        for name in ("cycle_quantity", "allowance_used", "rounding_remainder"):
            value = getattr(self, name)
            if value.__class__ is not Decimal or not value.is_finite():
                value = to_decimal(value, name)
                object.__setattr__(self, name, value)
            if name != "rounding_remainder" and value < 0:
                raise ValidationError(f"{name} must not be negative: {value}")

    def to_dict(self):
        """The state as a dict of strings (empty cycle_start when unknown)."""
        return {
            "cycle_start": self.cycle_start.isoformat() if self.cycle_start else "",
            "cycle_quantity": format(self.cycle_quantity, "f"),
            "allowance_used": format(self.allowance_used, "f"),
            "rounding_remainder": format(self.rounding_remainder, "f"),
        }

    @classmethod
    def from_dict(cls, data):
        """Inverse of :meth:`to_dict`; missing keys take their defaults."""
        if not isinstance(data, dict):
            raise ValidationError(f"pricing state must be a dict, not {type(data).__name__}")
        unknown = data.keys() - _STATE_KEYS
        if unknown:
            raise ValidationError(f"pricing state has unknown keys: {', '.join(sorted(unknown))}")
        cycle_start = data.get("cycle_start") or None
        if isinstance(cycle_start, str):
            cycle_start = _parse_moment(cycle_start, "cycle_start")
        return cls(
            cycle_start=cycle_start,
            cycle_quantity=data.get("cycle_quantity") or ZERO,
            allowance_used=data.get("allowance_used") or ZERO,
            rounding_remainder=data.get("rounding_remainder") or ZERO,
        )


_STATE_KEYS = frozenset(field.name for field in dataclasses.fields(PricingState))


@dataclasses.dataclass(frozen=True)
class PricingResult:
    """Output of :func:`price_readings`.

    ``total`` is the sum of the line amounts, ``exact_total`` the sum of their
    exact amounts, ``quantity`` the units priced (free units included) and
    ``state`` what to pass to the next call.
    """

    lines: tuple
    state: PricingState
    total: Decimal
    exact_total: Decimal
    quantity: Decimal


# --------------------------------------------------------------------------
# Parsing helpers
# --------------------------------------------------------------------------


def _is_naive_datetime(value):
    return isinstance(value, datetime.datetime) and value.tzinfo is None


def _parse_moment(value, what):
    """A naive datetime from a datetime, a date (its midnight) or an ISO string."""
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValidationError(f"{what} is not an ISO date or datetime: {value!r}") from None
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            raise ValidationError(f"{what} must be a naive local datetime: {value!r}")
        return value
    if isinstance(value, datetime.date):
        return datetime.datetime(value.year, value.month, value.day)
    raise ValidationError(f"{what} is not a date or datetime: {value!r}")


def _parse_time_of_day(value, what, is_end):
    """Seconds since midnight of ``"HH:MM[:SS]"`` or a time; ``"24:00"`` only as an end."""
    if isinstance(value, datetime.time):
        if value.microsecond or value.tzinfo is not None:
            raise ValidationError(f"{what} must be a whole-second naive time: {value!r}")
        return value.hour * 3600 + value.minute * 60 + value.second
    match = _TIME_OF_DAY.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ValidationError(f"{what} is not a time of day (expected HH:MM): {value!r}")
    hours, minutes, seconds = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
    if hours == 24 and minutes == 0 and seconds == 0 and is_end:
        return _DAY_SECONDS
    if hours > 23 or minutes > 59 or seconds > 59:
        raise ValidationError(f"{what} is not a valid time of day: {value!r}")
    return hours * 3600 + minutes * 60 + seconds


def _format_seconds(seconds):
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def _check_band(band, what):
    if band not in _BAND_NAMES:
        raise ValidationError(
            f"{what}: unknown band {band!r} (expected one of {', '.join(TOU_BANDS)})"
        )
    return band


def _price(value, what):
    price = to_decimal(value, what)
    if price < 0:
        raise ValidationError.of("tariff.negative_price", what=what, price=price)
    return price


def _check_keys(data, allowed, what):
    if not isinstance(data, dict):
        raise ValidationError(f"{what} must be a dict, not {type(data).__name__}")
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValidationError(
            f"{what} has unknown keys: {', '.join(sorted(map(str, unknown)))} "
            f"(allowed: {', '.join(allowed)})"
        )


# --------------------------------------------------------------------------
# Tariff structure
# --------------------------------------------------------------------------


class DayTable(NamedTuple):
    """One day's segments: seconds ``starts[i]``..``ends[i]`` are ``bands[i]`` at ``prices[i]``."""

    starts: tuple
    ends: tuple
    bands: tuple
    prices: tuple


class Tier(NamedTuple):
    """Units from ``lower`` (inclusive) to ``upper`` (exclusive, None = no end) of a cycle."""

    lower: Decimal
    upper: Decimal | None
    surcharge: Decimal


def _schedule_pieces(segments, what):
    """Normalise (start, end, band) segments into sorted in-day pieces covering 24 h."""
    if not isinstance(segments, (list, tuple)) or not segments:
        raise ValidationError(f"{what} must be a non-empty list of (start, end, band)")
    pieces = []
    for segment in segments:
        if isinstance(segment, dict):
            _check_keys(segment, ("start", "end", "band"), f"{what} segment")
            segment = (segment.get("start"), segment.get("end"), segment.get("band"))
        if not isinstance(segment, (list, tuple)) or len(segment) != 3:
            raise ValidationError(f"{what}: segment {segment!r} is not (start, end, band)")
        start = _parse_time_of_day(segment[0], f"{what}: start", is_end=False)
        end = _parse_time_of_day(segment[1], f"{what}: end", is_end=True)
        band = _check_band(segment[2], what)
        label = f"{_format_seconds(start)}-{_format_seconds(end)} {band}"
        if start < end:
            pieces.append((start, end, band, label))
        else:  # crosses midnight; start == end is the whole day
            pieces.append((start, _DAY_SECONDS, band, label))
            if end > 0:
                pieces.append((0, end, band, label))
    pieces.sort()
    reached, previous = 0, None
    for start, end, _band, label in pieces:
        if start < reached:
            raise ValidationError.of(
                "tariff.segments_overlap", what=what, first=previous, second=label
            )
        if start > reached:
            raise ValidationError.of(
                "tariff.schedule_gap",
                what=what,
                start=_format_seconds(reached),
                end=_format_seconds(start),
            )
        reached, previous = end, label
    if reached != _DAY_SECONDS:
        raise ValidationError.of(
            "tariff.schedule_gap", what=what, start=_format_seconds(reached), end="24:00"
        )
    merged = []
    for start, end, band, _label in pieces:
        if merged and merged[-1][2] == band:
            merged[-1] = (merged[-1][0], end, band)
        else:
            merged.append((start, end, band))
    return merged


def _day_table(pieces, prices, what):
    for _start, _end, band in pieces:
        if band not in prices:
            raise ValidationError.of("tariff.band_without_price", what=what, band=band)
    return DayTable(
        starts=tuple(piece[0] for piece in pieces),
        ends=tuple(piece[1] for piece in pieces),
        bands=tuple(piece[2] for piece in pieces),
        prices=tuple(prices[piece[2]] for piece in pieces),
    )


def _parse_tiers(tiers, what):
    """Tiers as a tuple of Tier, checked to run from 0 to open end without gap or overlap."""
    if not isinstance(tiers, (list, tuple)) or not tiers:
        raise ValidationError(f"{what} must be a non-empty list")
    parsed = []
    for number, tier in enumerate(tiers, start=1):
        label = f"{what}: tier {number}"
        if isinstance(tier, dict):
            _check_keys(tier, ("from", "to", "surcharge"), label)
            if "from" not in tier or "surcharge" not in tier:
                raise ValidationError(f"{label} needs 'from' and 'surcharge'")
            tier = (tier["from"], tier.get("to"), tier["surcharge"])
        if not isinstance(tier, (list, tuple)) or len(tier) != 3:
            raise ValidationError(f"{label} is not (from, to, surcharge): {tier!r}")
        lower = to_decimal(tier[0], f"{label} 'from'")
        upper = None if tier[1] is None else to_decimal(tier[1], f"{label} 'to'")
        surcharge = _price(tier[2], f"{label} surcharge")
        if upper is not None and upper <= lower:
            raise ValidationError.of("tariff.tier_empty", what=label, upper=upper, lower=lower)
        parsed.append(Tier(lower, upper, surcharge))
    if parsed[0].lower != 0:
        raise ValidationError.of("tariff.tier_first_start", what=what, lower=parsed[0].lower)
    for number, (before, after) in enumerate(zip(parsed, parsed[1:]), start=2):
        if before.upper is None:
            raise ValidationError.of(
                "tariff.tier_after_open_end", what=what, number=number - 1, next=number
            )
        if after.lower < before.upper:
            raise ValidationError.of(
                "tariff.tiers_overlap",
                what=what,
                number=number - 1,
                next=number,
                lower=after.lower,
                upper=before.upper,
            )
        if after.lower > before.upper:
            raise ValidationError.of(
                "tariff.tiers_gap",
                what=what,
                number=number - 1,
                next=number,
                lower=after.lower,
                upper=before.upper,
            )
    if parsed[-1].upper is not None:
        raise ValidationError.of("tariff.last_tier_end", what=what, upper=parsed[-1].upper)
    return tuple(parsed)


class TariffVersion:
    """One version of a tariff; build it with :meth:`from_dict`.

    Attributes: ``effective_from``, ``ref``, ``kind``, ``tiers`` (tuple of
    :class:`Tier`, a single open tier when the version has none),
    ``tiered``, ``allowance``, ``season_map`` and ``season_prices`` (one
    ``{band: price}`` per season; a flat version has one season pricing every
    band at its price).
    """

    __slots__ = (
        "_by_date",
        "_tables",
        "allowance",
        "effective_from",
        "kind",
        "ref",
        "season_map",
        "season_prices",
        "tiered",
        "tier_lowers",
        "tiers",
    )

    _KEYS = ("effective_from", "ref", "kind", "price", "seasons", "schedules", "prices")
    _KEYS += ("tiers", "allowance")

    @classmethod
    def from_dict(cls, data, calendar, code=""):
        """Build and validate a version from a plain dict (see the module docstring)."""
        _check_keys(data, cls._KEYS, "tariff version")
        if "effective_from" not in data:
            raise ValidationError("tariff version needs 'effective_from'")
        effective_from = _parse_moment(data["effective_from"], "effective_from")
        what = f"version from {effective_from.isoformat()}"
        ref = data.get("ref") or f"{code}@{effective_from.isoformat()}"
        self = cls()
        self.effective_from = effective_from
        self.ref = str(ref)
        self.kind = data.get("kind")
        if self.kind == FLAT:
            self._init_flat(data, what)
        elif self.kind == TOU:
            self._init_tou(data, what, calendar)
        else:
            raise ValidationError(f"{what}: kind must be one of {', '.join(TARIFF_KINDS)}")
        self.tiered = data.get("tiers") is not None
        tiers = data["tiers"] if self.tiered else [(0, None, 0)]
        self.tiers = _parse_tiers(tiers, f"{what}: tiers")
        self.tier_lowers = tuple(tier.lower for tier in self.tiers)
        self.allowance = _price(data.get("allowance", 0), f"{what}: allowance")
        if self.allowance.as_tuple().exponent < -SPLIT_DIGITS:
            raise ValidationError.of(
                "tariff.allowance_digits", what=what, allowance=self.allowance, digits=SPLIT_DIGITS
            )
        self._by_date = {}
        return self

    def _init_flat(self, data, what):
        extra = {"seasons", "schedules", "prices"} & set(data)
        if extra:
            raise ValidationError(f"{what}: a flat version has a 'price', not {sorted(extra)}")
        if "price" not in data:
            raise ValidationError(f"{what}: a flat version needs a 'price'")
        price = _price(data["price"], f"{what}: price")
        self.season_map = SeasonMap([("all year", "01-01", "12-31")])
        self.season_prices = (dict.fromkeys(TOU_BANDS, price),)
        table = DayTable((0,), (_DAY_SECONDS,), (None,), (price,))
        self._tables = (dict.fromkeys(DAY_TYPES, table),)

    def _init_tou(self, data, what, calendar):
        if "price" in data:
            raise ValidationError(f"{what}: a tou version has band 'prices', not a 'price'")
        if "seasons" in data:
            if "schedules" in data or "prices" in data:
                raise ValidationError(f"{what}: give either 'seasons' or 'schedules' and 'prices'")
            seasons = data["seasons"]
            if not isinstance(seasons, (list, tuple)) or not seasons:
                raise ValidationError(f"{what}: 'seasons' must be a non-empty list")
        else:
            seasons = [
                {
                    "name": "all year",
                    "start": "01-01",
                    "end": "12-31",
                    "schedules": data.get("schedules"),
                    "prices": data.get("prices"),
                }
            ]
        ranges, prices, tables = [], [], []
        for number, season in enumerate(seasons, start=1):
            _check_keys(season, ("name", "start", "end", "schedules", "prices"), f"{what}: season")
            name = str(season.get("name") or f"season {number}")
            where = f"{what}, season {name!r}"
            if "start" not in season or "end" not in season:
                raise ValidationError(f"{where} needs 'start' and 'end' (MM-DD)")
            ranges.append((name, season["start"], season["end"]))
            season_prices = self._band_prices(season.get("prices"), where)
            prices.append(season_prices)
            tables.append(self._season_tables(season.get("schedules"), season_prices, where))
        self.season_map = SeasonMap(ranges)
        self.season_prices = tuple(prices)
        self._tables = tuple(tables)

    @staticmethod
    def _band_prices(prices, where):
        if not isinstance(prices, dict) or not prices:
            raise ValidationError(f"{where} needs 'prices' as a dict {{band: price}}")
        return {
            _check_band(band, f"{where} prices"): _price(value, f"{where}: price of {band!r}")
            for band, value in prices.items()
        }

    @staticmethod
    def _season_tables(schedules, prices, where):
        if not isinstance(schedules, dict) or WORKDAY not in schedules:
            raise ValidationError(f"{where} needs 'schedules' with at least a 'workday' schedule")
        unknown = set(schedules) - set(DAY_TYPES)
        if unknown:
            raise ValidationError(
                f"{where}: unknown day types {sorted(map(str, unknown))} "
                f"(expected {', '.join(DAY_TYPES)})"
            )
        tables = {}
        for day_type, fallback in ((WORKDAY, None), (WEEKEND, WORKDAY), (HOLIDAY, WEEKEND)):
            if day_type in schedules:
                label = f"{where}, {day_type} schedule"
                pieces = _schedule_pieces(schedules[day_type], label)
                tables[day_type] = _day_table(pieces, prices, label)
            else:
                tables[day_type] = tables[fallback]
        return tables

    def season_index(self, day):
        """Index of the season containing the date ``day``."""
        return self.season_map.index(day)

    def day_table(self, day, calendar):
        """The :class:`DayTable` in force on the date ``day`` (cached)."""
        table = self._by_date.get(day)
        if table is None:
            table = self._tables[self.season_map.index(day)][calendar.day_type(day)]
            self._by_date[day] = table
        return table

    def tier_index(self, position):
        """Index of the tier the unit after ``position`` units falls in."""
        return bisect.bisect_right(self.tier_lowers, position) - 1

    def tier_label(self, index):
        return index + 1 if self.tiered else None


class Tariff:
    """An effective-dated tariff: versions, billing cycle and holiday calendar.

    ``versions`` are :class:`TariffVersion` objects (any order, distinct
    ``effective_from``); build the whole thing with :meth:`from_dict`.
    """

    __slots__ = ("calendar", "code", "cycle", "version_starts", "versions")

    def __init__(self, code, versions, calendar=None, cycle=None):
        versions = sorted(versions, key=lambda version: version.effective_from)
        if not versions:
            raise ValidationError(f"tariff {code!r} has no version")
        for before, after in zip(versions, versions[1:]):
            if before.effective_from == after.effective_from:
                raise ValidationError.of(
                    "tariff.versions_same_day", code=code, date=after.effective_from.isoformat()
                )
        self.code = str(code)
        self.versions = tuple(versions)
        self.version_starts = tuple(version.effective_from for version in versions)
        self.calendar = calendar if calendar is not None else HolidayCalendar()
        self.cycle = cycle if cycle is not None else BillingCycle()

    @classmethod
    def from_dict(cls, data):
        """Build and validate a tariff from plain data.

        ``{"code": str, "calendar": {"holidays": [...], "workdays": [...],
        "weekend": [5, 6]}, "cycle": {"period": "monthly"|"yearly",
        "start_day": 1, "start_month": 1}, "versions": [version, ...]}``
        where a version is ``{"effective_from", "ref"?, "kind": "flat"|"tou",
        "price" (flat) | "seasons": [{"name", "start": "MM-DD", "end":
        "MM-DD", "schedules": {day type: [(start, end, band), ...]},
        "prices": {band: price}}] | "schedules" + "prices" (one season all
        year), "tiers"?: [{"from", "to", "surcharge"}], "allowance"?}``.
        Numbers are Decimal, int or str (never float).
        """
        _check_keys(data, ("code", "calendar", "cycle", "versions"), "tariff")
        code = str(data.get("code") or "")
        calendar = data.get("calendar")
        if not isinstance(calendar, HolidayCalendar):
            calendar = HolidayCalendar.from_dict(calendar)
        cycle = data.get("cycle")
        if not isinstance(cycle, BillingCycle):
            cycle = BillingCycle.from_dict(cycle)
        versions = data.get("versions")
        if not isinstance(versions, (list, tuple)) or not versions:
            raise ValidationError(f"tariff {code!r} needs a non-empty list of 'versions'")
        parsed = [TariffVersion.from_dict(version, calendar, code) for version in versions]
        return cls(code, parsed, calendar, cycle)

    def version_index(self, when):
        """Index of the version in force at ``when``; ValidationError before the first."""
        index = bisect.bisect_right(self.version_starts, when) - 1
        if index < 0:
            raise ValidationError.of(
                "tariff.no_version_in_force",
                code=self.code,
                when=when.isoformat(),
                first=self.version_starts[0].isoformat(),
            )
        return index


# --------------------------------------------------------------------------
# Engine
# --------------------------------------------------------------------------


def _cumulative(ratio, elapsed, duration):
    """``quantity * elapsed / duration`` rounded half-up to SPLIT_DIGITS places, exactly.

    ``ratio`` is the quantity's ``as_integer_ratio()``; integer arithmetic keeps
    the rounding exact whatever the digits involved.
    """
    numerator, denominator = ratio
    top = numerator * elapsed * 10**SPLIT_DIGITS
    bottom = denominator * duration
    units = (2 * top + bottom) // (2 * bottom)
    return _trimmed(Decimal(units).scaleb(-SPLIT_DIGITS))


def _rounded_share(quantity, numerator, denominator):
    """``quantity * numerator / denominator`` rounded half-up to SPLIT_DIGITS places, exactly."""
    share = Fraction(quantity) * Fraction(numerator) / Fraction(denominator)
    units = math.floor(share * 10**SPLIT_DIGITS + Fraction(1, 2))
    return _trimmed(Decimal(units).scaleb(-SPLIT_DIGITS))


def _trimmed(value):
    """``value`` without trailing zeros, yet never in exponent form (20, not 2E+1)."""
    value = value.normalize()
    return value if value.as_tuple().exponent <= 0 else value.quantize(ONE)


def _parse_cuts(cuts):
    """``cuts`` as a sorted tuple of distinct naive datetimes."""
    if not cuts:
        return ()
    for cut in cuts:
        if not _is_naive_datetime(cut):
            raise ValidationError(f"a cut must be a naive local datetime: {cut!r}")
    return tuple(sorted(set(cuts)))


def _where(index, reading):
    return f"reading #{index} at {reading.timestamp!r}"


class _Pricer:
    """Mutable state of one :func:`price_readings` call."""

    def __init__(self, tariff, state, multiplier, merge_lines, cuts=()):
        self.tariff = tariff
        #: moments where intervals are split and lines stop (invoicing periods)
        self.cuts = cuts
        self.calendar = tariff.calendar
        self.cycle = tariff.cycle
        self.multiplier = multiplier
        self.merge = merge_lines
        # a cycle start the tariff's cycle does not know means the cycle containing it
        self.cycle_start = None
        self.next_cycle = None
        if state.cycle_start is not None:
            self.cycle_start = self.cycle.start_of(state.cycle_start)
            self.next_cycle = self.cycle.next_start(self.cycle_start)
        self.position = state.cycle_quantity
        self.allowance_used = state.allowance_used
        self.lines = []  # [start, end, band, tier, quantity, unit_price, exact, ref, free]
        self.open_lines = {}  # line key -> last line with that key, for merging

    # -- time structure ---------------------------------------------------

    def roll_cycle(self, when):
        """Start a new billing cycle when ``when`` is past the current one."""
        if self.next_cycle is None or when >= self.next_cycle:
            self.cycle_start = self.cycle.start_of(when)
            self.next_cycle = self.cycle.next_start(self.cycle_start)
            self.position = ZERO
            self.allowance_used = ZERO

    def _limit_at(self, when):
        """Version in force at ``when`` and the moment its pricing may change (version, cycle)."""
        tariff = self.tariff
        index = tariff.version_index(when)
        limit = self.next_cycle
        if index + 1 < len(tariff.versions) and tariff.version_starts[index + 1] < limit:
            limit = tariff.version_starts[index + 1]
        cuts = self.cuts
        if cuts:
            after = bisect.bisect_right(cuts, when)
            if after < len(cuts) and cuts[after] < limit:
                limit = cuts[after]
        return tariff.versions[index], limit

    def period_of(self, when):
        """Number of the cut period holding ``when`` (0 before the first cut)."""
        cuts = self.cuts
        return bisect.bisect_right(cuts, when) if cuts else 0

    def band_segment_at(self, when):
        """``(end, version, band, base_price)`` of the TOU segment containing ``when``.

        The segment runs on over midnight while the next day starts with the
        same band and price, and stops at a version change or cycle start.
        """
        version, limit = self._limit_at(when)
        calendar = self.calendar
        day = when.date()
        table = version.day_table(day, calendar)
        second = when.hour * 3600 + when.minute * 60 + when.second
        index = bisect.bisect_right(table.starts, second) - 1
        band, price = table.bands[index], table.prices[index]
        end_second = table.ends[index]
        end = datetime.datetime(day.year, day.month, day.day) + datetime.timedelta(
            seconds=end_second
        )
        hops = 0
        while end_second == _DAY_SECONDS and end < limit and hops < _MAX_MIDNIGHT_HOPS:
            table = version.day_table(end.date(), calendar)
            if table.bands[0] != band or table.prices[0] != price:
                break
            end_second = table.ends[0]
            end += datetime.timedelta(seconds=end_second)
            hops += 1
        return min(end, limit), version, band, price

    def season_piece_at(self, when, stop):
        """``(end, version, season_index)``: constant band prices from ``when`` to ``end``.

        Looks no further than ``stop`` (the end of the interval being priced).
        """
        version, limit = self._limit_at(when)
        limit = min(limit, stop)
        day = when.date()
        season = version.season_index(day)
        end = datetime.datetime(day.year, day.month, day.day) + _ONE_DAY
        while end < limit and version.season_index(end.date()) == season:
            end += _ONE_DAY
        return min(end, limit), version, season

    # -- allocation to allowance and tiers --------------------------------

    def allocate(self, start, end, version, band, base_price, quantity):
        """Book ``quantity`` consumed in [start, end] at the current cycle position."""
        tiers = version.tiers
        while True:
            index = version.tier_index(self.position)
            tier = tiers[index]
            take = quantity
            if tier.upper is not None and tier.upper - self.position < take:
                take = tier.upper - self.position
            free_left = version.allowance - self.allowance_used
            free = free_left > 0
            if free:
                take = min(take, free_left)
                price = ZERO
            else:
                price = base_price + tier.surcharge
            self.emit(start, end, band, version.tier_label(index), take, price, version.ref, free)
            self.position += take
            if free:
                self.allowance_used += take
            quantity -= take
            if quantity <= 0:
                return

    def emit(self, start, end, band, tier, quantity, price, ref, free):
        """Add a line part, merged into the previous line of the same key when contiguous.

        The key holds the cycle start and the cut period: a line never runs across
        two billing cycles nor across a cut. A part without units adds nothing,
        not even time: lines cover only what they priced.
        """
        if not quantity:
            return
        key = (ref, band, tier, price, free, self.cycle_start, self.period_of(start))
        line = self.open_lines.get(key) if self.merge else None
        if line is not None and line[1] == start:
            line[1] = end
            line[4] += quantity
            line[6] += quantity * price
            return
        line = [start, end, band, tier, quantity, price, quantity * price, ref, free]
        self.lines.append(line)
        self.open_lines[key] = line

    # -- interval pricing (general path) ----------------------------------

    def price_spread(self, start, end, quantity):
        """Spread ``quantity`` uniformly over [start, end] across TOU segments.

        Returns the last segment as ``(end, version, band, base_price, start)``.
        """
        duration = (end - start) // _MICROSECOND
        ratio = quantity.as_integer_ratio()
        moment, done = start, ZERO
        while moment < end:
            self.roll_cycle(moment)
            segment = self.band_segment_at(moment)
            until = min(segment[0], end)
            if until == end:
                upto = quantity
            else:
                upto = min(_cumulative(ratio, (until - start) // _MICROSECOND, duration), quantity)
            self.allocate(moment, until, segment[1], segment[2], segment[3], upto - done)
            last_start = moment
            moment, done = until, upto
        return (*segment, last_start)

    def price_bands(self, start, end, band_quantities, where):
        """Price per-band quantities over [start, end], split by time across price changes."""
        duration = (end - start) // _MICROSECOND
        ratios = {band: q.as_integer_ratio() for band, q in band_quantities.items()}
        done = dict.fromkeys(band_quantities, ZERO)
        moment = start
        while moment < end:
            self.roll_cycle(moment)
            until, version, season = self.season_piece_at(moment, end)
            parts = []
            for band in TOU_BANDS:
                if band not in band_quantities:
                    continue
                if until == end:
                    upto = band_quantities[band]
                else:
                    elapsed = (until - start) // _MICROSECOND
                    upto = min(_cumulative(ratios[band], elapsed, duration), band_quantities[band])
                parts.append((band, upto - done[band]))
                done[band] = upto
            self._allocate_band_parts(moment, until, version, season, parts, where)
            moment = until

    def _allocate_band_parts(self, start, end, version, season, parts, where):
        if version.kind == FLAT:
            price = version.season_prices[0][TOU_BANDS[0]]
            self.allocate(start, end, version, None, price, sum(q for _band, q in parts))
            return
        prices = version.season_prices[season]
        for band, quantity in parts:
            if quantity and band not in prices:
                raise ValidationError(
                    f"{where}: band {band!r} has no price in season "
                    f"{version.season_map.names[season]!r} of {version.ref}"
                )
        # free units first (shared in proportion), then the paid ones
        free_shares = self._free_shares(version, parts)
        for (band, _quantity), free in zip(parts, free_shares):
            if band in prices:
                self.allocate(start, end, version, band, prices[band], free)
        for (band, quantity), free in zip(parts, free_shares):
            if band in prices:
                self.allocate(start, end, version, band, prices[band], quantity - free)

    def _free_shares(self, version, parts):
        """Free units of each band part: all, none, or proportional shares of what is left."""
        whole = sum(quantity for _band, quantity in parts)
        left = version.allowance - self.allowance_used
        if left >= whole:
            return [quantity for _band, quantity in parts]
        if left <= 0:
            return [ZERO] * len(parts)
        shares, running, before = [], ZERO, ZERO
        for _band, quantity in parts:
            running += quantity
            upto = _rounded_share(running, left, whole)
            shares.append(upto - before)
            before = upto
        return shares

    # -- the loop -----------------------------------------------------------

    def run(self, readings):
        """Price consecutive intervals; the fast path handles an interval inside
        one TOU segment and one tier (or allowance) chunk without any split."""
        first = readings[0]
        self._check_reading(0, first)
        if self.cycle_start is not None and first.timestamp < self.cycle_start:
            raise ValidationError(
                f"{_where(0, first)} is before the pricing state's cycle start "
                f"{self.cycle_start.isoformat()}"
            )
        if self.cycle_start is None:
            # a fresh state's counters belong to the cycle of the first reading
            self.cycle_start = self.cycle.start_of(first.timestamp)
            self.next_cycle = self.cycle.next_start(self.cycle_start)
        multiplier = self.multiplier
        scale = multiplier != ONE
        merge = self.merge
        lines = self.lines
        open_lines = self.open_lines
        prev_ts, prev_total, prev_bands = first
        if prev_total is not None:
            prev_total = to_decimal(prev_total)
        position, used = self.position, self.allowance_used
        fast_end = None  # no fast segment yet
        fast_limit = fast_price = fast_line = fast_free = fast_key = None
        for index in range(1, len(readings)):
            reading = readings[index]
            if reading.__class__ is not Reading:
                self._check_reading(index, reading)
            ts, total, bands = reading
            if not (isinstance(ts, datetime.datetime) and ts.tzinfo is None and ts > prev_ts):
                self._check_order(index, reading, prev_ts)
            if bands is not None:
                self._check_bands(index, reading)
            if bands is not None and prev_bands is not None:
                band_quantities = self._band_deltas(index, reading, prev_bands)
                self.position, self.allowance_used = position, used
                self.price_bands(prev_ts, ts, band_quantities, _where(index, reading))
                position, used = self.position, self.allowance_used
                fast_end = None
                if total is not None and total.__class__ is not Decimal:
                    total = to_decimal(total, f"{_where(index, reading)}: total")
                prev_ts, prev_total, prev_bands = ts, total, bands
                continue
            if total.__class__ is not Decimal or prev_total.__class__ is not Decimal:
                total = self._check_total(index, reading, prev_total)
            quantity = total - prev_total
            if not quantity.is_finite() or quantity < ZERO:
                self._bad_delta(index, reading, quantity)
            if scale:
                quantity *= multiplier
            after = position + quantity
            if fast_end is not None and ts <= fast_end and after <= fast_limit:
                if not quantity:
                    pass  # nothing priced: no line grows over this interval
                elif merge and fast_line is not None and fast_line[1] == prev_ts:
                    fast_line[1] = ts
                    fast_line[4] += quantity
                    fast_line[6] += quantity * fast_price
                else:
                    fast_line = [prev_ts, ts, fast_key[1], fast_key[2], quantity]
                    fast_line += [fast_price, quantity * fast_price, fast_key[0], fast_free]
                    lines.append(fast_line)
                    open_lines[fast_key] = fast_line
                if fast_free:
                    used += quantity
                position = after
            else:
                self.position, self.allowance_used = position, used
                segment = self.price_spread(prev_ts, ts, quantity)
                position, used = self.position, self.allowance_used
                fast_end, version, band, base_price, segment_start = segment
                index_tier = version.tier_index(position)
                tier = version.tiers[index_tier]
                fast_limit = _INFINITY if tier.upper is None else tier.upper
                free_left = version.allowance - used
                fast_free = free_left > 0
                if fast_free:
                    fast_limit = min(fast_limit, position + free_left)
                fast_price = ZERO if fast_free else base_price + tier.surcharge
                tier_label = version.tier_label(index_tier)
                fast_key = (version.ref, band, tier_label, fast_price, fast_free, self.cycle_start)
                fast_key += (self.period_of(segment_start),)
                fast_line = open_lines.get(fast_key) if merge else None
            prev_ts, prev_total, prev_bands = ts, total, bands
        self.position, self.allowance_used = position, used

    # -- validation (slow path only: called when a quick check fails) -------

    @staticmethod
    def _check_reading(index, reading):
        if not isinstance(reading, Reading):
            raise ValidationError(f"reading #{index} is not a Reading: {reading!r}")
        if not _is_naive_datetime(reading.timestamp):
            raise ValidationError(
                f"{_where(index, reading)}: timestamp must be a naive local datetime"
            )
        total = reading.total
        if total is not None and not (total.__class__ is Decimal and total.is_finite()):
            to_decimal(total, f"{_where(index, reading)}: total")
        if reading.bands is not None:
            _Pricer._check_bands(index, reading)

    @staticmethod
    def _check_order(index, reading, prev_ts):
        _Pricer._check_reading(index, reading)
        if reading.timestamp == prev_ts:
            raise ValidationError(f"{_where(index, reading)} duplicates the previous timestamp")
        raise ValidationError(
            f"{_where(index, reading)} is before the previous reading at {prev_ts!r}: "
            "readings must be sorted by time"
        )

    @staticmethod
    def _check_bands(index, reading):
        bands = reading.bands
        if not isinstance(bands, dict):
            raise ValidationError(f"{_where(index, reading)}: bands must be a dict")
        for band, value in bands.items():
            _check_band(band, _where(index, reading))
            if value.__class__ is not Decimal or not value.is_finite():
                to_decimal(value, f"{_where(index, reading)}: band {band!r}")

    @staticmethod
    def _check_total(index, reading, prev_total):
        if reading.total is None or prev_total is None:
            raise ValidationError(
                f"{_where(index, reading)}: needs a total register, or band registers "
                "like the previous reading"
            )
        return to_decimal(reading.total, f"{_where(index, reading)}: total")

    @staticmethod
    def _bad_delta(index, reading, quantity):
        if not quantity.is_finite():
            raise ValidationError(f"{_where(index, reading)}: total must be finite")
        raise ValidationError(
            f"{_where(index, reading)}: total register went back by {-quantity} "
            "(rollover and meter replacement must be resolved before pricing)"
        )

    def _band_deltas(self, index, reading, prev_bands):
        bands = reading.bands
        if set(bands) != set(prev_bands):
            raise ValidationError(
                f"{_where(index, reading)}: band registers {sorted(bands)} differ from "
                f"the previous reading's {sorted(prev_bands)}"
            )
        deltas = {}
        for band, value in bands.items():
            delta = to_decimal(value) - to_decimal(prev_bands[band])
            if delta < 0:
                raise ValidationError(
                    f"{_where(index, reading)}: band register {band!r} went back by {-delta}"
                )
            deltas[band] = delta * self.multiplier
        return deltas

    # -- result ---------------------------------------------------------------

    def result(self, digits, remainder):
        carry = RoundingCarry(digits, remainder)
        zero_amount = ZERO.quantize(quantum(digits))
        charge_lines = []
        total = zero_amount
        exact_total = quantity = ZERO
        for start, end, band, tier, line_quantity, price, exact, ref, free in self.lines:
            amount = carry.round(exact) if exact else zero_amount
            if not amount:
                amount = zero_amount  # never book -0.00
            charge_lines.append(
                ChargeLine(start, end, band, tier, line_quantity, price, amount, ref, free, exact)
            )
            total += amount
            exact_total += exact
            quantity += line_quantity
        state = PricingState(self.cycle_start, self.position, self.allowance_used, carry.remainder)
        return PricingResult(tuple(charge_lines), state, total, exact_total, quantity)


def price_readings(
    tariff, readings, state=None, multiplier=ONE, digits=2, merge_lines=True, cuts=()
):
    """Price one meter's readings; return a :class:`PricingResult`.

    ``readings``: a sequence of :class:`Reading` sorted by strictly increasing
    timestamp, the first being the last reading already priced (or the
    opening reading). ``state``: the :class:`PricingState` returned by the
    previous call (``None`` for a fresh start). ``multiplier``: the meter's CT
    x PT ratio applied to register deltas. ``digits``: decimal places of the
    currency. ``merge_lines``: join contiguous parts with the same version,
    band, tier and price into one line (otherwise one line per interval part).
    ``cuts``: naive local moments (invoicing period starts) where intervals are
    split and lines stop, so that each line lies between two consecutive cuts.

    Raises ValidationError (naming the reading) on unsorted or duplicate
    timestamps, negative deltas, unknown bands, missing registers or a moment
    before the tariff's first version. Nothing is changed on error: the
    function is pure.
    """
    if not isinstance(tariff, Tariff):
        raise ValidationError(f"tariff must be a Tariff, not {type(tariff).__name__}")
    if state is None:
        state = PricingState()
    elif not isinstance(state, PricingState):
        raise ValidationError(f"state must be a PricingState, not {type(state).__name__}")
    multiplier = to_decimal(multiplier, "multiplier")
    if multiplier <= 0:
        raise ValidationError(f"multiplier must be positive: {multiplier}")
    if type(digits) is not int or not 0 <= digits <= 12:
        raise ValidationError(f"digits must be an integer 0..12: {digits!r}")
    readings = readings if isinstance(readings, (list, tuple)) else list(readings)
    cuts = _parse_cuts(cuts)
    with localcontext(_ENGINE_CONTEXT):
        pricer = _Pricer(tariff, state, multiplier, merge_lines, cuts)
        if readings:
            pricer.run(readings)
        return pricer.result(digits, state.rounding_remainder)
