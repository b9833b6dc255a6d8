"""The path of a reading to the tariff engine: one row shape, one engine input.

Rows
----
Every source of readings gives the addon's ingestion the same row, a plain
dict with one name per register (:data:`~prepaid_energy_core.vocabulary.REGISTERS`)::

    {"meter_id": 42,              # or "serial": "000000101001"
     "timestamp": datetime,       # naive UTC, aware, or ISO text
     "total": Decimal("1234.56"), # the total register
     "sharp": ..., "peak": ..., "flat": ..., "valley": ...,   # every band or none
     "source": "hardware",        # vocabulary.READING_SOURCES
     "is_estimate": False,
     "replacement_start": None}   # the new meter's register at installation

:func:`row_from_meter_reading` (a driver's reading), :func:`row_from_cells`
(a CSV line) and :func:`row_from_entry` (a person's form) build it; values
keep their source's type (Decimal, number or text) and are parsed and judged
by the ingestion, the same way whatever the source.

Engine input
------------
:func:`price_meter` prices one meter's stored readings (:class:`StoredReading`,
UTC, each with its register advance since the previous accepted reading):
it builds the engine's continuous total (a rollover or a replacement never
makes it go back), uses band registers only where they follow each other,
moves a reading the clocks put back (daylight saving ends) just after the
previous one, cuts the run at the site's invoicing period starts, prices it,
and maps each charge line back to UTC and to the reading whose interval ends
it, grouped by invoicing period (:class:`PeriodCharges`).
"""

import bisect
import dataclasses
import datetime
from decimal import Decimal

from . import calendar
from .tariff import PricingState, Reading, price_readings
from .vocabulary import (
    REGISTERS,
    SOURCE_HARDWARE,
    SOURCE_IMPORT,
    SOURCE_MANUAL,
    TOTAL,
    TOU_BANDS,
)

#: row keys other than the registers
ROW_KEYS = ("meter_id", "serial", "timestamp", "source", "is_estimate", "replacement_start")
#: stored flags after which band registers do not follow the previous ones
BREAKS_BANDS = frozenset({"rollover", "replacement", "meter_replacement"})

_ZERO = Decimal(0)
_NUDGE = datetime.timedelta(microseconds=1)


# --------------------------------------------------------------------------- rows


def row_from_meter_reading(reading, meter_id=None, serial=None, source=SOURCE_HARDWARE):
    """The ingestion row of a driver's ``MeterReading`` (its bands only when it gave them)."""
    row = _row_keys(meter_id, serial)
    row.update(timestamp=reading.timestamp, source=source)
    row[TOTAL] = reading.total
    bands = reading.bands or {}
    row.update({band: bands[band] for band in TOU_BANDS if band in bands})
    return row


def row_from_cells(cells, source=SOURCE_IMPORT):
    """The ingestion row of a CSV line: ``cells`` maps column names to their text.

    An empty cell is a register not given.
    """
    row = {"source": source}
    for name, text in cells.items():
        if isinstance(text, str):
            text = text.strip()
        if text not in ("", None):
            row[name] = text
    return row


def row_from_entry(values, source=SOURCE_MANUAL):
    """The ingestion row of a person's entry (a form's values).

    A form shows every band field with 0 in it: band fields all empty or 0
    mean the person read only the total, and the engine then splits that
    consumption by the clock. Any band given means all four are.
    """
    row = {key: values[key] for key in (*ROW_KEYS, TOTAL) if key in values}
    row["source"] = values.get("source") or source
    if any(values.get(band) for band in TOU_BANDS):
        row.update({band: values.get(band) or 0 for band in TOU_BANDS})
    return row


def _row_keys(meter_id, serial):
    if meter_id is not None:
        return {"meter_id": meter_id}
    return {"serial": serial}


def row_registers(row):
    """The registers a row gives, by name (absent or empty ones left out)."""
    return {name: row[name] for name in REGISTERS if row.get(name) not in (None, "")}


# --------------------------------------------------------------------------- engine input


@dataclasses.dataclass(frozen=True, slots=True)
class StoredReading:
    """A stored reading as pricing sees it.

    ``key`` is the caller's id for it; ``timestamp`` naive UTC; ``raw_delta``
    the register advance since the previous accepted reading (rollover and
    replacement resolved, before the multiplier); ``bands`` the band
    registers or None; ``flags`` the validation flags stored with it.
    """

    key: object
    timestamp: datetime.datetime
    raw_delta: Decimal
    bands: dict | None = None
    flags: frozenset = frozenset()


@dataclasses.dataclass(frozen=True, slots=True)
class PricedLine:
    """An engine charge line, with its interval in UTC and the reading that ends it."""

    line: object  # tariff.ChargeLine
    start: datetime.datetime
    end: datetime.datetime
    reading: object  # StoredReading.key


@dataclasses.dataclass(frozen=True, slots=True)
class PeriodCharges:
    """The charge lines of one invoicing period: one consumption ledger line.

    ``start`` and ``end`` (naive UTC) bound the part of the run in the period:
    the first and last readings' times, or the period's boundaries where the
    run goes on across them.
    """

    start: datetime.datetime
    end: datetime.datetime
    amount: Decimal
    quantity: Decimal
    lines: tuple


@dataclasses.dataclass(frozen=True, slots=True)
class MeterPricing:
    """What :func:`price_meter` found: the engine's result and its lines by period."""

    result: object  # tariff.PricingResult
    periods: tuple

    @property
    def state(self):
        return self.result.state


def bands_follow(previous, reading):
    """The band registers of ``reading`` continue those of ``previous``: both have them,
    neither went back and no rollover or meter replacement lies between."""
    if reading.bands is None or previous.bands is None or BREAKS_BANDS & reading.flags:
        return False
    return all(reading.bands[band] >= previous.bands[band] for band in TOU_BANDS)


def engine_readings(start, readings, zone):
    """``(engine readings, {local moment: UTC moment})`` of ``start`` then ``readings``.

    Totals are cumulative from 0 at ``start``; a reading's bands are kept when
    they follow the previous reading's, or when the previous has none (that
    interval is then split by the clock, the next one by the bands).
    """
    first = Reading(calendar.to_local(start.timestamp, zone), _ZERO, start.bands)
    engine = [first]
    utc_of = {first.timestamp: start.timestamp}
    cumulative = _ZERO
    previous = start
    for reading in readings:
        cumulative += reading.raw_delta
        bands = reading.bands
        if bands is not None and previous.bands is not None and not bands_follow(previous, reading):
            bands = None
        local = calendar.to_local(reading.timestamp, zone)
        if local <= engine[-1].timestamp:
            # clocks went back (daylight saving ends): book the interval at the previous moment
            local = engine[-1].timestamp + _NUDGE
        engine.append(Reading(local, cumulative, bands))
        utc_of[local] = reading.timestamp
        previous = reading
    return engine, utc_of


def price_meter(
    tariff,
    start,
    readings,
    zone,
    state=None,
    multiplier=Decimal(1),
    digits=2,
    invoice_period=None,
):
    """Price one meter's new ``readings`` (StoredReading, in time order) after ``start``.

    ``start`` is the last reading already priced (None: the first of
    ``readings`` is where billing starts, and is not priced itself); ``zone``
    the site's time zone (the tariff's clock); ``state`` the stored
    ``PricingState`` (or None); ``invoice_period`` ("monthly", "quarterly" or
    None) the periods no charge line may cross.

    Returns a :class:`MeterPricing`; raises ValidationError as the engine does.
    """
    readings = list(readings)
    if start is None:
        start, readings = readings[0], readings[1:]
    engine, utc_of = engine_readings(start, readings, zone)
    cuts = ()
    if invoice_period and len(engine) > 1:
        cuts = calendar.period_starts_between(
            engine[0].timestamp, engine[-1].timestamp, invoice_period
        )
    result = price_readings(
        tariff,
        engine,
        state if state is not None else PricingState(),
        multiplier=multiplier,
        digits=digits,
        cuts=cuts,
    )
    return MeterPricing(result, _periods(result.lines, engine, utc_of, readings, zone, cuts))


def _periods(lines, engine, utc_of, readings, zone, cuts):
    """The priced lines in UTC, linked to their readings, grouped by invoicing period."""
    if not lines:
        return ()
    moments = [reading.timestamp for reading in engine]
    utc_moments = [utc_of[moment] for moment in moments]
    last = len(readings) - 1

    def utc(moment, interval):
        """``moment`` (local) of engine interval ``interval`` as UTC within that interval."""
        known = utc_of.get(moment)
        if known is not None:
            return known
        # a split point (TOU boundary, cut, cycle start): a wall-clock time; in the
        # hour the clocks repeat, the occurrence inside the interval
        low, high = utc_moments[interval], utc_moments[interval + 1]
        for fold in (0, 1):
            candidate = calendar.to_utc(moment, zone, fold)
            if low <= candidate <= high:
                return candidate
        return min(max(calendar.to_utc(moment, zone), low), high)

    bounds = [utc_moments[0], *(calendar.to_utc(cut, zone) for cut in cuts), utc_moments[-1]]
    by_period = {}
    for line in lines:
        # a line ends at the end of an interval or inside it: the reading at or after
        position = min(bisect.bisect_left(moments, line.end, 1) - 1, last)
        first = min(bisect.bisect_right(moments, line.start) - 1, position)
        priced = PricedLine(
            line, utc(line.start, first), utc(line.end, position), readings[position].key
        )
        by_period.setdefault(bisect.bisect_right(cuts, line.start), []).append(priced)
    periods = []
    for period, period_lines in sorted(by_period.items()):
        amount = quantity = _ZERO
        for priced in period_lines:
            amount += priced.line.amount
            quantity += priced.line.quantity
        periods.append(
            PeriodCharges(bounds[period], bounds[period + 1], amount, quantity, tuple(period_lines))
        )
    return tuple(periods)
