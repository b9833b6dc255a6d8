"""Fee schemes: what rent, property, service or meter-rental fees cost, period by period.

A scheme says what one full period costs and how often it recurs; a
subscription (a scheme on one tenant's account) says from when, until when,
and the unit's area or the number of units it is charged for. This module
turns that into the charges due, prorating partial periods.

Amounts
-------
* ``fixed``: the scheme's amount, per period;
* ``per_area``: rate x the unit's area (m²), per period;
* ``per_unit``: rate x a number of units (meters rented, parking spaces...).

Periods
-------
Calendar periods of the site's clock: a month, a quarter (January, April,
July, October) or a year, or ``one_time`` (charged once, on the start date,
never prorated). Recurring fees are charged in advance: a period is due on
its first day (or on the subscription's start date when that comes later).

Proration
---------
A period the subscription covers only partly costs the full amount times the
days covered over the days of the period, rounded once, half up, to the
currency's digits. Worked example: rent of 3,000.00 a month starting on
17 March covers 17-31 March, 15 of 31 days: 3,000.00 x 15 / 31 = 1,451.6129
-> 1,451.61. Per area, the rate, the area and the day ratio are multiplied
exactly before that one rounding: 120.50 m² x 3.20 a m² = 385.60 a month,
for 10 of 30 days of June: 385.60 x 10 / 30 = 128.5333 -> 128.53.
"""

import dataclasses
import datetime
from decimal import Decimal
from fractions import Fraction

from .errors import ValidationError
from .money import quantum, to_decimal

# --------------------------------------------------------------------------- words

RENT = "rent"
PROPERTY = "property"
SERVICE = "service"
METER_RENTAL = "meter_rental"
CUSTOM = "custom"
FEE_TYPE_LABELS = (
    (RENT, "Rent"),
    (PROPERTY, "Property fee"),
    (SERVICE, "Service fee"),
    (METER_RENTAL, "Meter rental"),
    (CUSTOM, "Custom"),
)

FIXED = "fixed"
PER_AREA = "per_area"
PER_UNIT = "per_unit"
BASES = (FIXED, PER_AREA, PER_UNIT)
BASIS_LABELS = ((FIXED, "Fixed amount"), (PER_AREA, "Per m² of the unit"), (PER_UNIT, "Per unit"))

MONTHLY = "monthly"
QUARTERLY = "quarterly"
YEARLY = "yearly"
ONE_TIME = "one_time"
PERIODICITIES = (MONTHLY, QUARTERLY, YEARLY, ONE_TIME)
PERIODICITY_LABELS = (
    (MONTHLY, "Monthly"),
    (QUARTERLY, "Quarterly"),
    (YEARLY, "Yearly"),
    (ONE_TIME, "One time"),
)
_MONTHS = {MONTHLY: 1, QUARTERLY: 3, YEARLY: 12}

#: how a fee is collected: taken from the prepaid wallet, or billed on its own invoice
WALLET = "wallet"
INVOICE = "invoice"
COLLECTION_LABELS = ((WALLET, "Deducted from the wallet"), (INVOICE, "Invoiced (due date)"))

ONE_DAY = datetime.timedelta(days=1)


@dataclasses.dataclass(frozen=True)
class FeeCharge:
    """One period's charge of a subscription.

    ``period_start``/``period_end``: the calendar period (inclusive days);
    ``start``/``end``: the days of it the subscription covers (inclusive);
    ``due``: the day it is charged; ``full_amount``: a whole period's price;
    ``amount``: what is charged (prorated); ``days``/``period_days``: the
    proration ratio (equal when the period is whole or not prorated).
    """

    period_start: datetime.date
    period_end: datetime.date
    start: datetime.date
    end: datetime.date
    due: datetime.date
    full_amount: Decimal
    amount: Decimal
    days: int
    period_days: int

    @property
    def is_partial(self):
        return self.days != self.period_days


def _check_date(value, what):
    if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
        raise ValidationError.of("fee.not_a_date", what=what, value=value)


def _check_choice(value, choices, what):
    if value not in choices:
        raise ValidationError.of(
            "fee.unknown_choice", what=what, value=value, choices=", ".join(choices)
        )


def _non_negative(value, what):
    number = to_decimal(value, what)
    if number < 0:
        raise ValidationError.of("fee.negative", what=what, value=number)
    return number


def period_start(day, periodicity):
    """First day of the calendar period (month, quarter, year) containing ``day``."""
    _check_date(day, "day")
    _check_choice(periodicity, tuple(_MONTHS), "periodicity")
    months = _MONTHS[periodicity]
    return datetime.date(day.year, (day.month - 1) // months * months + 1, 1)


def next_period_start(day, periodicity):
    """First day of the period after the one containing ``day``."""
    start = period_start(day, periodicity)
    month = start.month - 1 + _MONTHS[periodicity]
    return datetime.date(start.year + month // 12, month % 12 + 1, 1)


def full_amount(basis, rate, area=None, quantity=None, digits=2):
    """A whole period's price, rounded half up to ``digits``.

    ``rate``: the scheme's amount (``fixed``), price per m² (``per_area``) or
    per unit (``per_unit``); ``area`` in m², ``quantity`` a count or measure.
    """
    return _round(_exact_amount(basis, rate, area, quantity), digits)


def _exact_amount(basis, rate, area, quantity):
    _check_choice(basis, BASES, "basis")
    rate = _non_negative(rate, "rate")
    if basis == FIXED:
        return Fraction(rate)
    if basis == PER_AREA:
        if area is None:
            raise ValidationError.of("fee.area_missing")
        return Fraction(rate) * Fraction(_non_negative(area, "area"))
    if quantity is None:
        raise ValidationError.of("fee.quantity_missing")
    return Fraction(rate) * Fraction(_non_negative(quantity, "quantity"))


def _round(exact, digits):
    """A Fraction rounded half up (away from zero) to ``digits`` places, as Decimal.

    Integer arithmetic only: no float, no division limited by a Decimal context.
    """
    scaled = exact * 10**digits
    magnitude = abs(scaled)
    whole, remainder = divmod(magnitude.numerator, magnitude.denominator)
    if 2 * remainder >= magnitude.denominator:
        whole += 1
    sign = -1 if scaled < 0 else 1
    return (Decimal(sign * whole) * quantum(digits)).quantize(quantum(digits))


def charges_due(
    periodicity,
    basis,
    rate,
    start,
    until,
    end=None,
    charged_until=None,
    area=None,
    quantity=None,
    prorate=True,
    digits=2,
):
    """The charges of a subscription due on or before ``until``, oldest first.

    ``start``/``end``: the first and last day the subscription runs (``end``
    None: open); ``charged_until``: the last day already charged (None:
    nothing yet), so a later call continues where the previous one stopped
    and never charges a day twice. ``until``: the day up to which charges
    are due (usually today on the site's clock; later for a preview).
    """
    _check_choice(periodicity, PERIODICITIES, "periodicity")
    for value, what in ((start, "start"), (until, "until")):
        _check_date(value, what)
    if end is not None:
        _check_date(end, "end")
        if end < start:
            raise ValidationError.of("fee.end_before_start", start=start, end=end)
    exact_full = _exact_amount(basis, rate, area, quantity)
    full = _round(exact_full, digits)
    if periodicity == ONE_TIME:
        if charged_until is not None or start > until:
            return []
        return [FeeCharge(start, start, start, start, start, full, full, 1, 1)]
    first = start
    if charged_until is not None:
        _check_date(charged_until, "charged_until")
        first = max(start, charged_until + ONE_DAY)
    charges = []
    day = first
    while day <= until and (end is None or day <= end):
        p_start = period_start(day, periodicity)
        p_next = next_period_start(day, periodicity)
        p_end = p_next - ONE_DAY
        covered_end = p_end if end is None else min(end, p_end)
        days = (covered_end - day).days + 1
        period_days = (p_next - p_start).days
        # not prorated: a partial period costs a whole one
        amount = full
        if prorate and days != period_days:
            amount = _round(exact_full * Fraction(days, period_days), digits)
        charges.append(
            FeeCharge(p_start, p_end, day, covered_end, day, full, amount, days, period_days)
        )
        day = p_next
    return charges
