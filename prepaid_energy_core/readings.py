"""Validation of a meter's cumulative register readings.

A meter reports a cumulative register (kWh, m³) that only ever grows, wraps
at its register limit, and restarts when the meter is replaced. :func:`validate`
turns a series of raw readings into :class:`CheckedReading` results with the
consumption since the previous reading and flags for everything unusual;
:func:`estimate_gaps` fills missed slots; :func:`time_slot` gives the slot
key (meter + slot is unique at ingestion).

Deltas
------
``raw_delta`` is in register units, after rollover correction; ``delta`` is
``raw_delta x config.multiplier`` (CT/PT ratio), the energy actually billed.
A flagged reading keeps its true delta (a negative delta stays negative):
flags tell the caller what to hold back for review, nothing is silently
zeroed. The first reading without a previous one is a ``baseline`` with delta 0.

Flags
-----
* ``rollover``: a drop consistent with wrapping past ``register_limit``:
  delta = new + limit - old. Consistent means the wrapped delta is within
  the physical maximum of the interval when one is configured, otherwise
  within a tenth of the register range (a real wrap passes the top by a
  little; a reset or swapped meter jumps far).
* ``negative_delta``: any other drop.
* ``meter_replacement``: the reading carries ``replacement_start`` (the new
  meter's register at installation), or its serial differs from the previous
  reading's; the delta restarts from the start reading. A serial change
  without a start reading is refused: the start is not guessed.
* ``spike``: delta above the physical maximum for the interval:
  rated current (A) x phase voltage (V) x phases x hours / 1000 x multiplier
  kWh for electricity (power factor 1 bounds the real power), or
  max flow (m³/h) x hours x multiplier for water.
* ``gap``: interval longer than ``expected_interval x gap_tolerance``.
* ``estimate``: the value is an estimate (given as such, or filled by
  :func:`estimate_gaps`).
* ``band_mismatch``: the reading and the previous one carry band registers
  (``bands``: every band of :data:`~prepaid_energy_core.vocabulary.TOU_BANDS`
  or none) and a band went back, or the band deltas do not add up to the
  total delta (within :func:`band_tolerance`). The spike check applies to
  each band delta too. Band deltas are not checked across a rollover or a
  meter replacement: the engine then splits that interval by the clock.

:attr:`CheckedReading.needs_review` (negative delta, spike, band mismatch)
says a person must look before the reading is billed.

Slots and clocks
----------------
:func:`time_slot` floors a UTC moment to its slot of the site's local clock,
so that hourly or daily slots start at local midnight whatever the offset;
:func:`check_not_future` refuses a timestamp ahead of the server's clock by
more than :data:`CLOCK_TOLERANCE`.
"""

import dataclasses
import datetime
import functools
from decimal import Decimal
from fractions import Fraction

from . import calendar
from .errors import ValidationError
from .money import ZERO, to_decimal
from .vocabulary import ELECTRICITY, TOU_BANDS, UTILITIES, WATER

#: how far ahead of the server's clock a reading may be (meter clocks drift)
CLOCK_TOLERANCE = datetime.timedelta(minutes=5)
#: band deltas may differ from the total delta by this many register units...
BAND_TOLERANCE = Decimal("0.05")
#: ... or by this share of the total delta, whichever is larger (each register
#: is rounded on its own: five registers, five roundings)
BAND_TOLERANCE_SHARE = Decimal("0.01")

_MICROSECOND = datetime.timedelta(microseconds=1)
_MICROSECONDS_PER_HOUR = Decimal(3_600_000_000)
_DAY = datetime.timedelta(days=1)
#: without a physical maximum, a wrap may advance at most this share of the register
_ROLLOVER_SHARE_WITHOUT_MAXIMUM = Decimal("0.1")


def _microseconds(span):
    return span // _MICROSECOND


def _hours(span):
    return Decimal(_microseconds(span)) / _MICROSECONDS_PER_HOUR


@dataclasses.dataclass(frozen=True)
class Reading:
    """One raw cumulative register reading.

    ``serial`` names the physical meter when known. ``replacement_start``
    marks the first reading of a newly installed meter and gives that meter's
    register at installation. ``bands``: the time-of-use band registers
    (``{band: value}`` with every band of ``TOU_BANDS``), or None.
    """

    timestamp: datetime.datetime
    total: Decimal
    serial: str | None = None
    replacement_start: Decimal | None = None
    estimate: bool = False
    bands: dict | None = None

    def __post_init__(self):
        if not isinstance(self.timestamp, datetime.datetime):
            raise ValidationError(f"reading timestamp must be a datetime, got {self.timestamp!r}")
        where = f"reading at {self.timestamp.isoformat()}"
        total = self.total
        if total.__class__ is not Decimal or not total.is_finite():
            total = to_decimal(total, f"{where} total")
            object.__setattr__(self, "total", total)
        if total < 0:
            raise ValidationError.of("reading.negative_register", where=where, value=total)
        if self.replacement_start is not None:
            start = to_decimal(self.replacement_start, f"{where} replacement start")
            if start < 0:
                raise ValidationError(f"{where}: replacement start cannot be negative ({start})")
            object.__setattr__(self, "replacement_start", start)
        if self.bands is not None:
            object.__setattr__(self, "bands", check_bands(self.bands, where))


def check_bands(bands, where="reading"):
    """``bands`` as ``{band: Decimal}`` in ``TOU_BANDS`` order; every band or none.

    A reading carries all its meter's band registers or only the total: a
    missing band taken as 0 would bill the whole register at the next reading.
    """
    if not isinstance(bands, dict):
        raise ValidationError(f"{where}: band registers must be a dict, not {type(bands).__name__}")
    unknown = set(bands) - set(TOU_BANDS)
    if unknown:
        raise ValidationError(
            f"{where}: unknown band registers {', '.join(sorted(map(str, unknown)))} "
            f"(expected {', '.join(TOU_BANDS)})"
        )
    missing = [band for band in TOU_BANDS if band not in bands]
    if missing:
        raise ValidationError(
            f"{where}: give every band register ({', '.join(TOU_BANDS)}) or none; "
            f"missing {', '.join(missing)}"
        )
    checked = {}
    for band in TOU_BANDS:
        value = to_decimal(bands[band], f"{where} band {band}")
        if value < 0:
            raise ValidationError(f"{where}: band register {band} cannot be negative ({value})")
        checked[band] = value
    return checked


def band_tolerance(total_delta, config=None):
    """How far the band deltas' sum may be from ``total_delta`` (register units)."""
    absolute = config.band_tolerance if config is not None else BAND_TOLERANCE
    return max(absolute, abs(total_delta) * BAND_TOLERANCE_SHARE)


def check_not_future(timestamp, now, tolerance=CLOCK_TOLERANCE):
    """Refuse a reading timestamped after ``now`` + ``tolerance`` (a meter clock ahead,
    a typo in a year): it would take the slot of a reading still to come."""
    if timestamp > now + tolerance:
        raise ValidationError(
            f"reading at {timestamp.isoformat(sep=' ')} is in the future: more than "
            f"{int(tolerance.total_seconds() // 60)} minutes after {now.isoformat(sep=' ')}"
        )


@dataclasses.dataclass(frozen=True)
class ReadingConfig:
    """How to judge one meter's readings.

    ``register_limit`` is the first value the register cannot show
    (Decimal("1000000") for a 6+2 digit register), None if it never wraps.
    ``voltage`` is phase-to-neutral; ``rated_current`` the meter's maximum
    current (Imax). Leave both None (and ``max_flow`` None for water) to skip
    the spike check. ``band_tolerance``: see :func:`band_tolerance`.
    """

    expected_interval: datetime.timedelta
    gap_tolerance: Decimal = Decimal("1.5")
    register_limit: Decimal | None = None
    multiplier: Decimal = Decimal(1)
    utility: str = ELECTRICITY
    rated_current: Decimal | None = None
    voltage: Decimal | None = None
    phases: int = 1
    max_flow: Decimal | None = None
    band_tolerance: Decimal = BAND_TOLERANCE

    def __post_init__(self):
        if not isinstance(self.expected_interval, datetime.timedelta) or (
            self.expected_interval <= datetime.timedelta(0)
        ):
            raise ValidationError(
                f"expected interval must be a positive timedelta, got {self.expected_interval!r}"
            )
        self._set_positive("gap_tolerance", "gap tolerance")
        if self.gap_tolerance < 1:
            raise ValidationError(f"gap tolerance must be at least 1, got {self.gap_tolerance}")
        self._set_positive("multiplier", "multiplier")
        self._set_positive("band_tolerance", "band tolerance")
        for name in ("register_limit", "rated_current", "voltage", "max_flow"):
            if getattr(self, name) is not None:
                self._set_positive(name, name.replace("_", " "))
        if self.utility not in UTILITIES:
            raise ValidationError(f"utility must be one of {', '.join(UTILITIES)}")
        if self.phases not in (1, 3) or isinstance(self.phases, bool):
            raise ValidationError(f"phases must be 1 or 3, got {self.phases!r}")
        self._check_physical_limits()

    def _set_positive(self, name, what):
        value = to_decimal(getattr(self, name), what)
        if value <= 0:
            raise ValidationError(f"{what} must be positive, got {value}")
        object.__setattr__(self, name, value)

    def _check_physical_limits(self):
        if self.utility == ELECTRICITY:
            if self.max_flow is not None:
                raise ValidationError("max flow applies to water meters, not electricity")
            if (self.rated_current is None) != (self.voltage is None):
                raise ValidationError("give both rated current and voltage, or neither")
        elif self.rated_current is not None or self.voltage is not None:
            raise ValidationError("rated current and voltage apply to electricity, not water")

    @property
    def max_rate_per_hour(self):
        """Register units per hour the meter can physically count, or None if unknown."""
        if self.utility == WATER:
            return self.max_flow
        if self.rated_current is None:
            return None
        return self.rated_current * self.voltage * self.phases / 1000

    def max_delta(self, interval):
        """The largest believable (multiplied) delta over ``interval``, or None."""
        rate = self.max_rate_per_hour
        if rate is None:
            return None
        return rate * _hours(interval) * self.multiplier


@dataclasses.dataclass(frozen=True)
class CheckedReading:
    """A reading with its delta since the previous one and its flags.

    ``bands`` are the reading's band registers (or None); ``band_deltas`` their
    advance since the previous reading when both carry bands and the interval
    is neither a rollover nor a replacement (register units), else None.
    """

    timestamp: datetime.datetime
    total: Decimal
    serial: str | None
    raw_delta: Decimal
    delta: Decimal
    multiplier: Decimal
    interval: datetime.timedelta | None
    baseline: bool = False
    negative_delta: bool = False
    rollover: bool = False
    meter_replacement: bool = False
    spike: bool = False
    gap: bool = False
    estimate: bool = False
    band_mismatch: bool = False
    bands: dict | None = None
    band_deltas: dict | None = None

    FLAG_NAMES = (
        "baseline",
        "negative_delta",
        "rollover",
        "meter_replacement",
        "spike",
        "gap",
        "estimate",
        "band_mismatch",
    )

    @property
    def flags(self):
        """Names of the flags that are set, in a fixed order."""
        return tuple(name for name in self.FLAG_NAMES if getattr(self, name))

    @property
    def needs_review(self):
        """True when the delta should not be billed without a person's look."""
        return self.negative_delta or self.spike or self.band_mismatch


# --------------------------------------------------------------------------- validation


def validate(previous, readings, config):
    """Check ``readings`` (in time order) following ``previous``.

    ``previous`` is the last reading already accepted (a Reading or
    CheckedReading) or None for a meter's first readings.

    Raises ValidationError naming the timestamps when they are unsorted or
    duplicated, or when a serial changes without a replacement start reading.
    """
    readings = list(readings)
    for position, reading in enumerate(readings):
        if not isinstance(reading, Reading):
            raise ValidationError(f"item {position} is not a Reading: {reading!r}")
    _check_order(previous, readings)
    results = []
    before = previous
    for reading in readings:
        results.append(_check_one(before, reading, config))
        before = reading
    return results


def _check_order(previous, readings):
    series = ([previous] if previous is not None else []) + readings
    for earlier, later in zip(series, series[1:]):
        if later.timestamp == earlier.timestamp:
            raise ValidationError.of(
                "reading.duplicate_timestamp", timestamp=later.timestamp.isoformat()
            )
        if later.timestamp < earlier.timestamp:
            raise ValidationError.of(
                "reading.out_of_order",
                later=later.timestamp.isoformat(),
                earlier=earlier.timestamp.isoformat(),
            )


def _check_one(before, reading, config):
    if config.register_limit is not None and reading.total >= config.register_limit:
        raise ValidationError.of(
            "reading.outside_register",
            timestamp=reading.timestamp.isoformat(),
            value=reading.total,
            limit=config.register_limit,
        )
    if before is None:
        return _baseline(reading, config)
    interval = reading.timestamp - before.timestamp
    flags = {"estimate": reading.estimate, "gap": _is_gap(interval, config)}
    replaced = _is_replacement(before, reading)
    if replaced:
        raw_delta = reading.total - reading.replacement_start
        flags["meter_replacement"] = True
        flags["negative_delta"] = raw_delta < 0
    else:
        raw_delta = reading.total - before.total
        if raw_delta < 0:
            raw_delta, wrapped = _correct_rollover(before.total, reading.total, interval, config)
            flags["rollover"] = wrapped
            flags["negative_delta"] = not wrapped
    delta = raw_delta * config.multiplier
    maximum = config.max_delta(interval)
    flags["spike"] = maximum is not None and delta > maximum
    band_deltas = None
    before_bands = getattr(before, "bands", None)
    if reading.bands is not None and before_bands is not None:
        if not (replaced or flags.get("rollover") or flags.get("negative_delta")):
            band_deltas = {band: reading.bands[band] - before_bands[band] for band in TOU_BANDS}
            flags["band_mismatch"] = _bands_disagree(band_deltas, raw_delta, config)
            if maximum is not None and not flags["spike"]:
                flags["spike"] = any(
                    band_delta * config.multiplier > maximum for band_delta in band_deltas.values()
                )
    return CheckedReading(
        reading.timestamp,
        reading.total,
        reading.serial,
        raw_delta,
        delta,
        config.multiplier,
        interval,
        bands=reading.bands,
        band_deltas=band_deltas,
        **flags,
    )


def _bands_disagree(band_deltas, total_delta, config):
    """A band went back, or the bands do not add up to the total (beyond the tolerance)."""
    if any(delta < 0 for delta in band_deltas.values()):
        return True
    return abs(sum(band_deltas.values()) - total_delta) > band_tolerance(total_delta, config)


def _baseline(reading, config):
    raw_delta = ZERO
    if reading.replacement_start is not None:
        raw_delta = reading.total - reading.replacement_start
    return CheckedReading(
        reading.timestamp,
        reading.total,
        reading.serial,
        raw_delta,
        raw_delta * config.multiplier,
        config.multiplier,
        None,
        baseline=reading.replacement_start is None,
        meter_replacement=reading.replacement_start is not None,
        negative_delta=raw_delta < 0,
        estimate=reading.estimate,
        bands=reading.bands,
    )


def _is_replacement(before, reading):
    if reading.replacement_start is not None:
        return True
    if reading.serial is not None and before.serial is not None and reading.serial != before.serial:
        raise ValidationError.of(
            "reading.meter_changed",
            timestamp=reading.timestamp.isoformat(),
            serial=reading.serial,
            previous=before.serial,
        )
    return False


def _correct_rollover(old_value, new_value, interval, config):
    """``(raw_delta, wrapped)`` for a drop from ``old_value`` to ``new_value``."""
    limit = config.register_limit
    if limit is None or old_value >= limit:
        return new_value - old_value, False
    wrapped_delta = new_value + limit - old_value
    maximum = config.max_delta(interval)
    if maximum is not None:
        believable = wrapped_delta * config.multiplier <= maximum
    else:
        believable = wrapped_delta <= limit * _ROLLOVER_SHARE_WITHOUT_MAXIMUM
    if believable:
        return wrapped_delta, True
    return new_value - old_value, False


def _is_gap(interval, config):
    allowed = Decimal(_microseconds(config.expected_interval)) * config.gap_tolerance
    return Decimal(_microseconds(interval)) > allowed


# --------------------------------------------------------------------------- slots and gaps


def _check_slot_interval(interval):
    if not isinstance(interval, datetime.timedelta) or interval <= datetime.timedelta(0):
        raise ValidationError(f"slot interval must be a positive timedelta, got {interval!r}")
    if _microseconds(_DAY) % _microseconds(interval):
        raise ValidationError(
            f"slot interval {interval} does not divide a day: slots would drift day to day"
        )


def time_slot(timestamp, interval, zone=None):
    """The start of the slot holding ``timestamp``: slots are ``[start, start + interval)``.

    Slots are anchored at midnight, so ``interval`` must divide a day
    (5 min, 15 min, 30 min, 1 h...). A reading taken a few seconds into its
    slot (10:00:07) belongs to that slot (10:00).

    With ``zone`` (an IANA name), ``timestamp`` is naive UTC and the slots are
    those of the local clock (a daily slot starts at local midnight, an hourly
    one on the local hour in a half-hour zone); the result is naive UTC. In
    the hour the clocks repeat, each occurrence has its own slots; a slot
    start the clocks skip is the first moment after the skip.
    """
    _check_slot_interval(interval)
    if zone is None:
        return _floor(timestamp, interval)
    return _local_slot(timestamp, interval, zone)


def _floor(moment, interval):
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    into_day = _microseconds(moment - midnight)
    step = _microseconds(interval)
    return midnight + datetime.timedelta(microseconds=into_day - into_day % step)


@functools.lru_cache(maxsize=8192)
def _local_slot(timestamp, interval, zone):
    aware = timestamp.replace(tzinfo=datetime.timezone.utc).astimezone(calendar.zone(zone))
    floored = _floor(aware.replace(tzinfo=None), interval)
    return calendar.to_utc(floored, zone, fold=aware.fold)


def _can_interpolate(reading):
    """Estimates are spread only over a delta that can be trusted."""
    return not (reading.negative_delta or reading.spike or reading.meter_replacement)


def estimate_gaps(checked, expected_interval):
    """Insert an estimated reading in every empty slot between two checked readings.

    The cumulative value is interpolated linearly in time between the
    readings around the gap and rounded (half-even) to the finer of their
    resolutions; the following real reading keeps the rest of the delta, so
    the sum of the deltas never changes. A gap before a reading flagged
    negative_delta, spike or meter_replacement is left empty: its delta is
    not to be spread. Estimates are marked ``estimate=True``; across a
    rollover their values wrap at the limit that rollover implies
    (delta = new + limit - old).
    """
    _check_slot_interval(expected_interval)
    checked = list(checked)
    result = checked[:1]
    for earlier, later in zip(checked, checked[1:]):
        if _can_interpolate(later):
            estimates, later = _fill(earlier, later, expected_interval)
            result.extend(estimates)
        result.append(later)
    return result


def _slots_between(earlier, later, interval):
    """Slot starts strictly after ``earlier``'s slot and before ``later``'s."""
    slot = time_slot(earlier.timestamp, interval) + interval
    last = time_slot(later.timestamp, interval)
    while slot < last:
        yield slot
        slot += interval


def _fill(earlier, later, interval):
    """``(estimates, later)``: the estimated readings and ``later`` with the delta left."""
    slots = list(_slots_between(earlier, later, interval))
    if not slots:
        return [], later
    span = _microseconds(later.timestamp - earlier.timestamp)
    exponent = min(earlier.total.as_tuple().exponent, later.total.as_tuple().exponent)
    limit = _implied_limit(earlier, later)
    estimates = []
    done = ZERO  # register advance already given to the readings before
    previous_time = earlier.timestamp
    for slot in slots:
        share = Fraction(_microseconds(slot - earlier.timestamp), span)
        advance = _round_half_even(Fraction(later.raw_delta) * share, exponent)
        value = earlier.total + advance
        if limit is not None and value >= limit:
            value -= limit
        raw_delta = advance - done
        estimates.append(
            CheckedReading(
                slot,
                value,
                later.serial,
                raw_delta,
                raw_delta * later.multiplier,
                later.multiplier,
                slot - previous_time,
                estimate=True,
            )
        )
        done = advance
        previous_time = slot
    rest = later.raw_delta - done
    later = dataclasses.replace(
        later,
        raw_delta=rest,
        delta=rest * later.multiplier,
        interval=later.timestamp - previous_time,
    )
    return estimates, later


def _round_half_even(fraction, exponent):
    """``fraction`` rounded half-even to a multiple of 10**exponent, exactly."""
    steps = round(fraction / Fraction(10) ** exponent)
    return Decimal(steps).scaleb(exponent)


def _implied_limit(earlier, later):
    """The register limit a rollover reading implies: delta = new + limit - old."""
    if not later.rollover:
        return None
    return later.raw_delta - later.total + earlier.total
