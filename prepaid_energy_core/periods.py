"""Invoicing periods: months or quarters of the site's calendar, as plain dates.

A period runs from midnight of its first day (site-local) to midnight of the
next period's first day: consumption metered before that boundary belongs to
it (the accounting cut-off). Everything here works on ``datetime.date``; the
addon turns a period's first day into its site-local midnight.
"""

import datetime

from .errors import ValidationError

MONTHLY = "monthly"
QUARTERLY = "quarterly"
INVOICE_PERIODS = (MONTHLY, QUARTERLY)
INVOICE_PERIOD_LABELS = ((MONTHLY, "Monthly"), (QUARTERLY, "Quarterly"))
_MONTHS = {MONTHLY: 1, QUARTERLY: 3}


def _months(period):
    if period not in _MONTHS:
        raise ValidationError.of(
            "period.unknown", period=period, periods=", ".join(INVOICE_PERIODS)
        )
    return _MONTHS[period]


def _check_day(day):
    if not isinstance(day, datetime.date) or isinstance(day, datetime.datetime):
        raise ValidationError.of("period.not_a_date", value=day)


def period_start(day, period=MONTHLY):
    """First day of the period containing the date ``day``."""
    _check_day(day)
    months = _months(period)
    return datetime.date(day.year, (day.month - 1) // months * months + 1, 1)


def next_period_start(day, period=MONTHLY):
    """First day of the period after the one containing ``day``."""
    start = period_start(day, period)
    month = start.month - 1 + _months(period)
    return datetime.date(start.year + month // 12, month % 12 + 1, 1)


def period_end(day, period=MONTHLY):
    """Last day (inclusive) of the period containing ``day``."""
    return next_period_start(day, period) - datetime.timedelta(days=1)


def invoice_date(start, period=MONTHLY, last_day=None):
    """The date of the invoice of the period starting ``start``: inside that period.

    The period's last day, or ``last_day`` (the last day invoiced: a closing,
    an invoicing run before the period ends) when that comes earlier, never
    before the period's first day.
    """
    end = period_end(start, period)
    if last_day is not None:
        _check_day(last_day)
        end = min(end, last_day)
    return max(start, end)
