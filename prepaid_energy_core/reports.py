"""Report arithmetic the database does not do for us: buckets, sums, trends.

The addons read plain rows (dicts) out of their report views and hand them
here to be summed per day, month or year and per any other keys, or turned
into month-on-month and year-on-year comparisons. Amounts stay Decimal;
dates are the site's calendar days (``datetime.date``).

Changes
-------
``change = current - previous``; ``percent = change / |previous| x 100``,
half up to 2 decimals, and None when the previous figure is 0 (a change
from nothing has no percentage). Worked example: 1,250.00 this month after
1,000.00 last month is +250.00, +25.00 %; 800.00 after 1,000.00 is -200.00,
-20.00 %.
"""

import dataclasses
import datetime
from decimal import ROUND_HALF_UP, Decimal

from .errors import ValidationError
from .money import quantum, to_decimal

DAY = "day"
MONTH = "month"
YEAR = "year"
GRANULARITIES = (DAY, MONTH, YEAR)
GRANULARITY_LABELS = ((DAY, "Daily"), (MONTH, "Monthly"), (YEAR, "Yearly"))
ZERO = Decimal(0)


def bucket(day, granularity):
    """The first day of the day, month or year containing the date ``day``."""
    if granularity not in GRANULARITIES:
        raise ValidationError.of(
            "report.granularity", granularity=granularity, granularities=", ".join(GRANULARITIES)
        )
    if not isinstance(day, datetime.date) or isinstance(day, datetime.datetime):
        raise ValidationError.of("report.not_a_date", value=day)
    if granularity == MONTH:
        return day.replace(day=1)
    if granularity == YEAR:
        return day.replace(month=1, day=1)
    return day


def summarize(rows, keys, sums, granularity=None, date_key="date", bucket_key="period"):
    """Sum ``sums`` of ``rows`` per ``keys`` (and per ``granularity`` bucket of
    ``date_key`` when given, under ``bucket_key``); the groups sorted by bucket
    then keys, each a dict of its keys, its sums (Decimal) and ``count``.

    A key may be None (no channel, no operator): None sorts first.
    """
    groups = {}
    for row in rows:
        group_key = tuple(row.get(key) for key in keys)
        if granularity:
            group_key = (bucket(row[date_key], granularity), *group_key)
        entry = groups.get(group_key)
        if entry is None:
            entry = groups[group_key] = dict.fromkeys(sums, ZERO)
            entry["count"] = 0
        for name in sums:
            value = row.get(name)
            if value is not None and value is not False:
                entry[name] += to_decimal(value if not isinstance(value, float) else repr(value))
        entry["count"] += 1
    result = []
    for group_key in sorted(groups, key=_sort_key):
        names = ([bucket_key] if granularity else []) + list(keys)
        result.append({**dict(zip(names, group_key)), **groups[group_key]})
    return result


def _sort_key(group_key):
    # None first, then the values themselves (a mix of types is compared as text)
    return tuple(
        (value is not None, str(value) if not _orderable(value) else value) for value in group_key
    )


def _orderable(value):
    return isinstance(value, (int, Decimal, datetime.date, str)) and not isinstance(value, bool)


def totals(rows, names):
    """``{name: Decimal sum}`` of the ``names`` columns of ``rows``."""
    result = dict.fromkeys(names, ZERO)
    for row in rows:
        for name in names:
            value = row.get(name)
            if value is not None and value is not False:
                result[name] += to_decimal(value if not isinstance(value, float) else repr(value))
    return result


def change(current, previous):
    """``(change, percent)`` from ``previous`` to ``current`` (percent None from 0)."""
    current = to_decimal(current, "current figure")
    previous = to_decimal(previous, "previous figure")
    difference = current - previous
    if previous == 0:
        return difference, None
    percent = (difference * 100 / abs(previous)).quantize(quantum(2), rounding=ROUND_HALF_UP)
    return difference, percent


@dataclasses.dataclass(frozen=True)
class TrendRow:
    """One month against the month before and the same month a year before."""

    month: datetime.date
    value: Decimal
    previous_month: Decimal
    mom_change: Decimal
    mom_percent: Decimal | None
    previous_year: Decimal
    yoy_change: Decimal
    yoy_percent: Decimal | None


def add_months(month, count):
    """The first day of the month ``count`` months after the month of ``month``."""
    index = month.year * 12 + month.month - 1 + count
    return datetime.date(index // 12, index % 12 + 1, 1)


def monthly_trend(series, first_month, last_month):
    """Month-on-month and year-on-year rows from ``first_month`` to ``last_month``.

    ``series``: ``{first day of a month: figure}``; a month missing from it
    counts 0 (nothing sold, nothing consumed). The series should reach 12
    months before ``first_month`` for the year-on-year figures to mean
    something.
    """
    values = {bucket(month, MONTH): to_decimal(value) for month, value in series.items()}
    first, last = bucket(first_month, MONTH), bucket(last_month, MONTH)
    if last < first:
        raise ValidationError.of("report.range_order", first=first, last=last)
    rows = []
    month = first
    while month <= last:
        value = values.get(month, ZERO)
        previous_month = values.get(add_months(month, -1), ZERO)
        previous_year = values.get(add_months(month, -12), ZERO)
        mom = change(value, previous_month)
        yoy = change(value, previous_year)
        rows.append(TrendRow(month, value, previous_month, *mom, previous_year, *yoy))
        month = add_months(month, 1)
    return rows
