"""Calendar facts the tariff engine needs: day types, seasons, billing cycles.

- :class:`HolidayCalendar` decides whether a date is a ``workday``, a
  ``weekend`` day or a ``holiday``. Public holidays win over everything; a
  make-up workday (a weekend day worked to bridge a holiday, as in China)
  counts as a workday; otherwise the weekday decides.
- :class:`SeasonMap` tells which of several named month-day ranges (inclusive,
  possibly wrapping the year end, e.g. winter ``12-01``..``02-28``) a date is
  in. The ranges must cover the year exactly once; 29 February belongs to the
  season of 28 February unless a range names it.
- :class:`BillingCycle` gives the start of the monthly or yearly billing cycle
  containing a moment. A start day past the end of a short month falls on the
  month's last day (start day 31 -> 28/29 Feb, 30 Apr...).
- Invoicing periods (monthly, quarterly) start at local midnight of their
  first day: :func:`period_start` and :func:`period_starts_between` give the
  cut moments a pricing run is split at.
- Time zones: :func:`to_local` and :func:`to_utc` convert between the naive
  UTC moments the database keeps and a site's naive local clock (IANA names,
  the standard library's ``zoneinfo``).

Nothing here imports Odoo; every constructor validates and raises
:class:`~prepaid_energy_core.errors.ValidationError` with a readable message.
"""

import datetime
import functools
import re
import zoneinfo

from .errors import ValidationError

WORKDAY = "workday"
WEEKEND = "weekend"
HOLIDAY = "holiday"
#: the day types a TOU schedule can be given for
DAY_TYPES = (WORKDAY, WEEKEND, HOLIDAY)

MONTHLY = "monthly"
YEARLY = "yearly"
CYCLE_PERIODS = (MONTHLY, YEARLY)
QUARTERLY = "quarterly"
#: invoicing periods a site can have
INVOICE_PERIODS = (MONTHLY, QUARTERLY)

_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_DAY = re.compile(r"^(\d{1,2})-(\d{1,2})$")
# 2000 is a leap year: its day numbers index every month-day, 29 Feb included
_LEAP_YEAR = 2000
_DAYS_IN_LEAP_YEAR = 366


def parse_date(value, what="date"):
    """Return ``value`` (a date or an ISO ``YYYY-MM-DD`` string) as a date."""
    if isinstance(value, datetime.datetime):
        raise ValidationError(f"{what} must be a date, not a datetime: {value!r}")
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValidationError(f"{what} is not a date (expected YYYY-MM-DD): {value!r}")


def parse_month_day(value, what="month-day"):
    """Return ``value`` (``"MM-DD"`` or a ``(month, day)`` pair) as ``(month, day)``."""
    if isinstance(value, str):
        match = _MONTH_DAY.match(value.strip())
        pair = (int(match.group(1)), int(match.group(2))) if match else None
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        pair = tuple(value) if all(type(part) is int for part in value) else None
    else:
        pair = None
    if pair is None:
        raise ValidationError(f"{what} is not a month-day (expected MM-DD): {value!r}")
    try:
        datetime.date(_LEAP_YEAR, *pair)
    except ValueError:
        raise ValidationError(f"{what} is not a day of the year: {value!r}") from None
    return pair


def days_in_month(year, month):
    """Number of days of ``month`` in ``year``."""
    if month == 12:
        return 31
    return (datetime.date(year, month + 1, 1) - datetime.date(year, month, 1)).days


def _month_day_index(month, day):
    return (datetime.date(_LEAP_YEAR, month, day) - datetime.date(_LEAP_YEAR, 1, 1)).days


def _month_day_label(index):
    day = datetime.date(_LEAP_YEAR, 1, 1) + datetime.timedelta(days=index)
    return f"{day.month:02d}-{day.day:02d}"


class HolidayCalendar:
    """Decides the day type of a date.

    ``holidays``: public holiday dates; ``workdays``: make-up workdays, each of
    which must fall on a weekend day (otherwise it changes nothing and is most
    likely a typing mistake); ``weekend``: weekday numbers (Monday = 0) of the
    weekly rest days, Saturday and Sunday by default.
    """

    __slots__ = ("_cache", "holidays", "weekend", "workdays")

    def __init__(self, holidays=(), workdays=(), weekend=(5, 6)):
        self.weekend = self._check_weekend(weekend)
        self.holidays = frozenset(parse_date(day, "holiday") for day in holidays)
        self.workdays = frozenset(parse_date(day, "make-up workday") for day in workdays)
        both = sorted(self.holidays & self.workdays)
        if both:
            raise ValidationError.of("calendar.holiday_and_workday", day=both[0].isoformat())
        for day in sorted(self.workdays):
            if day.weekday() not in self.weekend:
                raise ValidationError.of(
                    "calendar.workday_not_weekend",
                    day=day.isoformat(),
                    weekday=_WEEKDAY_NAMES[day.weekday()],
                )
        self._cache = {}

    @staticmethod
    def _check_weekend(weekend):
        days = tuple(weekend)
        if not all(type(day) is int and 0 <= day <= 6 for day in days):
            raise ValidationError(f"weekend must list weekday numbers 0 (Monday)..6: {weekend!r}")
        if len(set(days)) != len(days):
            raise ValidationError(f"weekend lists a weekday twice: {weekend!r}")
        return frozenset(days)

    @classmethod
    def from_dict(cls, data):
        """Build from ``{"holidays": [...], "workdays": [...], "weekend": [5, 6]}``."""
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise ValidationError(f"calendar must be a dict, not {type(data).__name__}")
        unknown = set(data) - {"holidays", "workdays", "weekend"}
        if unknown:
            raise ValidationError(f"calendar has unknown keys: {', '.join(sorted(unknown))}")
        return cls(
            holidays=data.get("holidays", ()),
            workdays=data.get("workdays", ()),
            weekend=data.get("weekend", (5, 6)),
        )

    def day_type(self, day):
        """``WORKDAY``, ``WEEKEND`` or ``HOLIDAY`` for a date."""
        kind = self._cache.get(day)
        if kind is None:
            if day in self.holidays:
                kind = HOLIDAY
            elif day in self.workdays or day.weekday() not in self.weekend:
                kind = WORKDAY
            else:
                kind = WEEKEND
            self._cache[day] = kind
        return kind


class SeasonMap:
    """Maps a date to the index of the season (month-day range) containing it.

    ``ranges`` is a sequence of ``(name, start, end)`` with ``start`` and
    ``end`` inclusive month-days (``"MM-DD"`` or ``(month, day)``); a range
    whose end comes before its start wraps the year end.
    """

    __slots__ = ("_index_of_day", "names")

    def __init__(self, ranges):
        ranges = list(ranges)
        if not ranges:
            raise ValidationError.of("calendar.no_season")
        self.names = tuple(str(name) for name, _start, _end in ranges)
        owner = [None] * _DAYS_IN_LEAP_YEAR
        for number, (name, start, end) in enumerate(ranges):
            first = _month_day_index(*parse_month_day(start, f"start of season {name!r}"))
            last = _month_day_index(*parse_month_day(end, f"end of season {name!r}"))
            for day in self._days(first, last):
                if owner[day] is not None:
                    raise ValidationError.of(
                        "calendar.seasons_overlap",
                        first=self.names[owner[day]],
                        second=name,
                        day=_month_day_label(day),
                    )
                owner[day] = number
        feb_29 = _month_day_index(2, 29)
        if owner[feb_29] is None:
            owner[feb_29] = owner[feb_29 - 1]
        missing = [day for day, number in enumerate(owner) if number is None]
        if missing:
            raise ValidationError.of("calendar.seasons_gap", gap=self._describe_gap(missing))
        self._index_of_day = tuple(owner)

    @staticmethod
    def _days(first, last):
        if first <= last:
            return range(first, last + 1)
        return [*range(first, _DAYS_IN_LEAP_YEAR), *range(0, last + 1)]

    @staticmethod
    def _describe_gap(missing):
        first = last = missing[0]
        for day in missing[1:]:
            if day != last + 1:
                break
            last = day
        if first == last:
            return _month_day_label(first)
        return f"{_month_day_label(first)}..{_month_day_label(last)}"

    def index(self, day):
        """Index (in the order given) of the season containing the date ``day``."""
        return self._index_of_day[_month_day_index(day.month, day.day)]

    def name(self, day):
        """Name of the season containing the date ``day``."""
        return self.names[self.index(day)]


class BillingCycle:
    """Monthly or yearly billing cycle starting at midnight of a given day.

    ``start_day`` (1..31) is the day of the month the cycle starts on, moved
    to the month's last day in shorter months; a yearly cycle also has a
    ``start_month`` (1..12).
    """

    __slots__ = ("period", "start_day", "start_month")

    def __init__(self, period=MONTHLY, start_day=1, start_month=1):
        if period not in CYCLE_PERIODS:
            raise ValidationError(
                f"cycle period must be one of {', '.join(CYCLE_PERIODS)}: {period!r}"
            )
        if type(start_day) is not int or not 1 <= start_day <= 31:
            raise ValidationError(f"cycle start day must be an integer 1..31: {start_day!r}")
        if type(start_month) is not int or not 1 <= start_month <= 12:
            raise ValidationError(f"cycle start month must be an integer 1..12: {start_month!r}")
        if period == YEARLY and start_day > days_in_month(_LEAP_YEAR, start_month):
            raise ValidationError(f"month {start_month} has no day {start_day}")
        self.period = period
        self.start_day = start_day
        self.start_month = start_month

    @classmethod
    def from_dict(cls, data):
        """Build from ``{"period": "monthly"|"yearly", "start_day": 15, "start_month": 1}``."""
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise ValidationError(f"cycle must be a dict, not {type(data).__name__}")
        unknown = set(data) - {"period", "start_day", "start_month"}
        if unknown:
            raise ValidationError(f"cycle has unknown keys: {', '.join(sorted(unknown))}")
        return cls(
            period=data.get("period", MONTHLY),
            start_day=data.get("start_day", 1),
            start_month=data.get("start_month", 1),
        )

    def _start_in(self, year, month):
        day = min(self.start_day, days_in_month(year, month))
        return datetime.datetime(year, month, day)

    def start_of(self, when):
        """Start (a naive datetime at midnight) of the cycle containing ``when``."""
        if self.period == MONTHLY:
            start = self._start_in(when.year, when.month)
            if when < start:
                year, month = (when.year, when.month - 1) if when.month > 1 else (when.year - 1, 12)
                start = self._start_in(year, month)
            return start
        start = self._start_in(when.year, self.start_month)
        if when < start:
            start = self._start_in(when.year - 1, self.start_month)
        return start

    def next_start(self, start):
        """Start of the cycle following the one that starts at ``start``."""
        if self.period == MONTHLY:
            year, month = (start.year, start.month + 1) if start.month < 12 else (start.year + 1, 1)
            return self._start_in(year, month)
        return self._start_in(start.year + 1, self.start_month)


# --------------------------------------------------------------------------- invoicing periods


def _check_invoice_period(period):
    if period not in INVOICE_PERIODS:
        raise ValidationError(
            f"invoicing period must be one of {', '.join(INVOICE_PERIODS)}: {period!r}"
        )


def period_start(day, period=MONTHLY):
    """First day (a date) of the monthly or quarterly invoicing period holding the date ``day``."""
    _check_invoice_period(period)
    month = day.month if period == MONTHLY else (day.month - 1) // 3 * 3 + 1
    return datetime.date(day.year, month, 1)


def next_period_start(start, period=MONTHLY):
    """First day of the invoicing period after the one starting on the date ``start``."""
    _check_invoice_period(period)
    month = start.month + (1 if period == MONTHLY else 3)
    year = start.year + (month - 1) // 12
    return datetime.date(year, (month - 1) % 12 + 1, 1)


def period_starts_between(start, end, period=MONTHLY):
    """Local midnights (naive datetimes) of the period starts after ``start``, up to ``end``.

    ``start`` and ``end`` are naive local datetimes; a period start equal to
    ``start`` is not listed (nothing before it is being priced), one equal to
    ``end`` is.
    """
    return [cut for cut in _period_starts(start.date(), end.date(), period) if start < cut <= end]


@functools.lru_cache(maxsize=1024)
def _period_starts(first_day, last_day, period):
    """Midnights of the period starts after the period of ``first_day``, to ``last_day``."""
    cuts = []
    day = next_period_start(period_start(first_day, period), period)
    while day <= last_day:
        cuts.append(datetime.datetime(day.year, day.month, day.day))
        day = next_period_start(day, period)
    return tuple(cuts)


# --------------------------------------------------------------------------- time zones

_UTC = datetime.timezone.utc


@functools.lru_cache(maxsize=64)
def zone(name):
    """The ``zoneinfo.ZoneInfo`` of an IANA name ("Asia/Shanghai"); ValidationError if unknown."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValidationError(f"unknown time zone {name!r}") from None


@functools.lru_cache(maxsize=8192)
def to_local(moment, zone_name):
    """A naive UTC datetime as the naive local time of ``zone_name`` (cached: the
    readings of one cycle share a few moments)."""
    return moment.replace(tzinfo=_UTC).astimezone(zone(zone_name)).replace(tzinfo=None)


@functools.lru_cache(maxsize=8192)
def to_utc(local, zone_name, fold=0):
    """A naive local time of ``zone_name`` as a naive UTC datetime.

    A time the clocks skip (spring forward) or repeat (autumn back) is read
    with ``fold``, as ``zoneinfo`` does: 0 the offset before the change, 1 after.
    """
    aware = local.replace(tzinfo=zone(zone_name), fold=fold)
    return aware.astimezone(_UTC).replace(tzinfo=None)
