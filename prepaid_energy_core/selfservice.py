"""Tenant self-service: what the tenant portal computes and decides.

Pure and Decimal-only like the rest of the core; the portal addon stores and
shows the results. Nothing here knows Odoo, a database or a clock: the
caller passes "now" and the site's local dates and times.

- :func:`projected_run_out`: when a wallet runs out at its recent rate of spending;
- :func:`fees_over`: what periodic fees weigh in that rate;
- :func:`daily_series`, :func:`monthly_series`, :func:`year_over_year`: the
  usage charts' series, every day or month present (zero when nothing);
- :class:`RateLimit`: a sliding window of attempts (binding proofs, switching);
- :func:`power_event`, :func:`quiet_until`: which tenant notification a
  meter's new state is, and how long quiet hours hold a notification back;
- :func:`check_tenant_switch`: a tenant's own remote switch never overrides an
  arrears trip, keep-power or a staff trip;
- :func:`parse_presets`, :func:`check_topup`: online top-up amounts.

Checks whose answer is a refusal shown to the tenant (not a programming
error) return a :class:`Refusal` with a stable ``code`` and its ``params``,
or None when allowed; the addon words it in the tenant's language.
"""

import dataclasses
import datetime
from decimal import ROUND_FLOOR, Decimal

from .errors import ValidationError
from .money import ZERO, to_decimal
from .vocabulary import ALARM1, ALARM2, ARREARS, LEVELS, NOT_OPENED, OPEN_FEES, TRIPPED

# --------------------------------------------------------------------------- events

RESTORED = "restored"
RECHARGE_RECEIVED = "recharge"
PAID_BUT_OFF = "paid_but_off"
#: what a tenant may be told about, in the order the portal lists them
EVENTS = (ALARM1, ALARM2, ARREARS, TRIPPED, RESTORED, RECHARGE_RECEIVED, PAID_BUT_OFF)
EVENT_LABELS = (
    (ALARM1, "Low balance (alarm 1)"),
    (ALARM2, "Very low balance (alarm 2)"),
    (ARREARS, "Arrears"),
    (TRIPPED, "Supply cut off"),
    (RESTORED, "Supply restored"),
    (RECHARGE_RECEIVED, "Recharge received"),
    (PAID_BUT_OFF, "Paid but still off"),
)
#: events answering what the tenant just did: quiet hours do not hold them back
IMMEDIATE_EVENTS = frozenset({RECHARGE_RECEIVED})

POWER_ON = "on"
POWER_OFF = "off"


@dataclasses.dataclass(frozen=True)
class Refusal:
    """Why a tenant's request is refused: a stable ``code`` and the values it names."""

    code: str
    params: dict = dataclasses.field(default_factory=dict)


def power_event(last_power, new_state):
    """``(event, power)`` after a meter's state becomes ``new_state``.

    ``last_power`` is the supply as last known (:data:`POWER_ON`,
    :data:`POWER_OFF` or None). Entering "tripped" from a powered state is a
    :data:`TRIPPED` event; leaving "tripped" for a wallet state (normal, alarm
    or arrears with the relay closed) is :data:`RESTORED`. "Offline" says
    nothing about the relay: the last known power stands, so a tripped meter
    that drops off the network and comes back still tripped is not tripped
    twice. A meter taken off its account forgets its power.
    """
    if new_state == TRIPPED:
        return (None if last_power == POWER_OFF else TRIPPED), POWER_OFF
    if new_state in LEVELS:
        return (RESTORED if last_power == POWER_OFF else None), POWER_ON
    if new_state == NOT_OPENED:
        return None, None
    return None, last_power


def hours_to_time(hours):
    """A float hour of the day (22.5) as a time (22:30); 24 means midnight."""
    if hours is None or not 0 <= hours <= 24:
        raise ValidationError(f"an hour of the day must be between 0 and 24, got {hours!r}")
    minutes = round(hours * 60) % (24 * 60)
    return datetime.time(minutes // 60, minutes % 60)


def quiet_until(moment, start, end):
    """End of the quiet hours that naive local ``moment`` falls in, or None.

    ``start`` and ``end`` are times of day; ``start > end`` crosses midnight
    (22:00-07:00). ``start == end`` means no quiet hours.
    """
    if start == end:
        return None
    clock, day = moment.time(), moment.date()
    if start < end:
        if start <= clock < end:
            return datetime.datetime.combine(day, end)
        return None
    if clock >= start:
        return datetime.datetime.combine(day + datetime.timedelta(days=1), end)
    if clock < end:
        return datetime.datetime.combine(day, end)
    return None


# --------------------------------------------------------------------------- rate limits


@dataclasses.dataclass(frozen=True)
class RateLimit:
    """At most ``limit`` attempts in any sliding ``window``."""

    limit: int
    window: datetime.timedelta

    def __post_init__(self):
        if not isinstance(self.limit, int) or self.limit < 1:
            raise ValidationError(f"a rate limit allows at least 1 attempt, got {self.limit!r}")
        if self.window <= datetime.timedelta(0):
            raise ValidationError(f"a rate limit window must be positive, got {self.window}")

    def retry_at(self, attempts, now):
        """None when one more attempt is allowed at ``now``, else when it will be.

        ``attempts``: the moments of earlier attempts (any order; the future and
        anything older than the window are ignored).
        """
        recent = sorted(a for a in attempts if now - self.window < a <= now)
        if len(recent) < self.limit:
            return None
        return recent[-self.limit] + self.window


# --------------------------------------------------------------------------- run-out


@dataclasses.dataclass(frozen=True)
class RunOut:
    """A wallet's projection: average daily spend, whole days left and the date."""

    daily_spend: Decimal
    days_left: int
    date: datetime.date


#: less priced time than this is too little to project from
MIN_COVERED = datetime.timedelta(days=1)


def days_of(span):
    """A timedelta as an exact Decimal number of days."""
    return Decimal(span.days) + (Decimal(span.seconds) + Decimal(span.microseconds) / 10**6) / 86400


def fees_over(fees, first_day, last_day, covered):
    """What fees weigh in a spending rate measured over ``covered`` (a timedelta)
    within the days ``first_day`` .. ``last_day``.

    ``fees``: ``(amount, period_start, period_end)`` of the account's fees, the
    days being the period a fee pays for (a month's property fee, a common-area
    share of last month), or None for a one-off. A fee weighs the days its period
    shares with the window, as a part of its period: a month paid on the 1st
    weighs a 30th a day wherever the window falls, a backlog of past months
    posted today nothing; a one-off weighs what it cost. The result is that
    daily rate over ``covered``.
    """
    window = Decimal((last_day - first_day).days + 1)
    if window <= 0:
        return Decimal(0)
    total = Decimal(0)
    for amount, period_start, period_end in fees:
        amount = to_decimal(amount, "fee")
        if period_start and period_end and period_end >= period_start:
            shared = (min(period_end, last_day) - max(period_start, first_day)).days + 1
            if shared > 0:
                total += amount * shared / ((period_end - period_start).days + 1)
        else:
            total += amount
    return total * days_of(covered) / window


def projected_run_out(available, spent, covered, today, minimum=MIN_COVERED):
    """When ``available`` money runs out at the rate ``spent`` over ``covered``.

    ``available``: what may still be consumed before disconnection; ``spent``:
    the money consumed during the recent priced time ``covered`` (a timedelta:
    from the start of the first priced interval to the end of the last, so a
    pricing run that books days at once weighs as many days); ``today``: the
    local date. None when less than ``minimum`` was priced or nothing spent.
    """
    available = to_decimal(available, "available credit")
    spent = to_decimal(spent, "money spent")
    if covered < minimum or spent <= 0:
        return None
    daily = spent / days_of(covered)
    if available <= 0:
        return RunOut(daily, 0, today)
    days_left = int((available / daily).to_integral_value(rounding=ROUND_FLOOR))
    return RunOut(daily, days_left, today + datetime.timedelta(days=days_left))


# --------------------------------------------------------------------------- chart series


def month_start(day):
    return day.replace(day=1)


def add_months(day, months):
    """The first of the month ``months`` after (or before) ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def daily_series(values_by_day, last_day, days=30):
    """``[(date, value)]`` for the ``days`` days ending with ``last_day``, zero when absent."""
    first = last_day - datetime.timedelta(days=days - 1)
    return [
        (day, values_by_day.get(day, ZERO))
        for day in (first + datetime.timedelta(days=offset) for offset in range(days))
    ]


def monthly_series(values_by_month, last_month, months=12):
    """``[(first of month, value)]`` for the ``months`` months ending with ``last_month``.

    ``values_by_month`` is keyed by the first day of each month.
    """
    last_month = month_start(last_month)
    return [
        (month, values_by_month.get(month, ZERO))
        for month in (add_months(last_month, offset) for offset in range(1 - months, 1))
    ]


def year_over_year(values_by_month, year):
    """``(this year, last year)``: twelve monthly values each, January first."""
    this_year = [values_by_month.get(datetime.date(year, month, 1), ZERO) for month in range(1, 13)]
    last_year = [
        values_by_month.get(datetime.date(year - 1, month, 1), ZERO) for month in range(1, 13)
    ]
    return this_year, last_year


# --------------------------------------------------------------------------- remote switch

SWITCH_OFF = "off"
SWITCH_ON = "on"
SWITCH_ACTIONS = (SWITCH_OFF, SWITCH_ON)


def check_tenant_switch(
    action, *, supply_on, keep_power, in_arrears, opened_by_tenant, open_reason=None
):
    """Refusal of a tenant's own switching, or None when it may go ahead.

    A tenant may switch off a supply that is on unless keep-power holds it on,
    and switch on only what they switched off themselves, and never while the
    wallet is in arrears: their switch never overrides an arrears trip,
    keep-power or a staff (or schedule, or protection) trip. A supply cut for
    overdue fees has its own refusal: paying the fees, not a recharge, restores it.
    ``supply_on``: True, False, or None when not known.
    """
    if action not in SWITCH_ACTIONS:
        raise ValidationError(f"switch action must be one of {', '.join(SWITCH_ACTIONS)}")
    if supply_on is None:
        return Refusal("switch.state_unknown")
    if action == SWITCH_OFF:
        if keep_power:
            return Refusal("switch.keep_power")
        if not supply_on:
            return Refusal("switch.already_off")
        return None
    if supply_on:
        return Refusal("switch.already_on")
    if not opened_by_tenant:
        if open_reason == OPEN_FEES:
            return Refusal("switch.fees_overdue")
        return Refusal("switch.not_yours", {"reason": open_reason})
    if in_arrears:
        return Refusal("switch.in_arrears")
    return None


# --------------------------------------------------------------------------- top-up


def parse_presets(text):
    """The preset amounts of ``"50, 100, 200"``: positive Decimals, sorted, no duplicates."""
    amounts = set()
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        amount = to_decimal(part, "preset amount")
        if amount <= 0:
            raise ValidationError(f"a preset amount must be positive, got {part}")
        amounts.add(amount)
    return tuple(sorted(amounts))


def check_topup(amount, *, minimum=None, maximum=None, balance=None, max_balance=None):
    """Refusal of an online top-up of ``amount``, or None when it may be paid.

    ``minimum`` / ``maximum`` bound one payment (None or 0: no bound);
    ``max_balance`` bounds the wallet after it (None: no cap), from ``balance``.
    """
    amount = to_decimal(amount, "top-up amount")
    if amount <= 0:
        return Refusal("topup.not_positive", {"amount": amount})
    if minimum and amount < to_decimal(minimum, "minimum"):
        return Refusal("topup.below_minimum", {"amount": amount, "minimum": minimum})
    if maximum and amount > to_decimal(maximum, "maximum"):
        return Refusal("topup.above_maximum", {"amount": amount, "maximum": maximum})
    if max_balance is not None and balance is not None:
        balance = to_decimal(balance, "balance")
        max_balance = to_decimal(max_balance, "maximum balance")
        if balance + amount > max_balance:
            room = max(max_balance - balance, ZERO)
            return Refusal(
                "topup.above_max_balance",
                {"amount": amount, "maximum": max_balance, "room": room},
            )
    return None
