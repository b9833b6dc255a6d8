"""Disconnection policy: should this meter's relay trip, close, or stay as it is?

:func:`decide` is pure: everything it needs arrives in one frozen
:class:`PolicyInputs`, and every :class:`Decision` carries a stable ``code``
(for logs, filters and tests) and a sentence a person can read.

Precedence, first match wins
----------------------------
Relay closed (or unknown with no recorded opening reason):

1. balance above the disconnection floor (arrears threshold less credit limit
   and active emergency credit) and no fees overdue -> none ``balance_ok``
2. keep-power flag -> none ``keep_power``
3. protected tenant -> none ``protected_tenant``
4. in arrears and the grace period since ``arrears_since`` not over -> none
   ``grace_period`` (unless fees are overdue: see below)
5. inside quiet hours -> none ``quiet_hours`` (postponed, not forgiven)
6. no-cut day (holiday, or weekend when enabled) -> none ``no_cut_day``
7. otherwise -> trip ``arrears_trip`` when in arrears, else trip ``fees_trip``
   (``fees_overdue``: the account's fee invoices are overdue and its site
   trips for that). Arrears win when both are due: the relay is then open for
   arrears, and stays open for the fees once the balance is restored.

The fees trip passes the same guards as the arrears trip except the grace
period: that one runs from ``arrears_since`` and is the wallet's; fees had
their own grace (the site's grace days) before they counted as overdue.

Relay open (or unknown with a recorded opening reason, which is then trusted):

* opened manually by staff -> none ``manual_trip_stays``: only staff close it;
* opened for arrears: keep-power -> close ``keep_power_close``; protected
  tenant -> close ``protected_tenant_close``; still in arrears -> none
  ``still_in_arrears``; balance above the floor (a recharge, emergency
  credit) but fees overdue -> none ``still_fees_due`` (now open for fees);
  otherwise close ``credit_restored``;
* opened for fees: keep-power -> close ``keep_power_close``; protected
  tenant -> close ``protected_tenant_close``; fees still overdue -> none
  ``still_fees_due``; fees paid but in arrears -> none ``still_in_arrears``
  (now open for arrears); otherwise close ``fees_cleared``. A relay open for
  both closes once both are cleared, never in between (no close-then-trip);
* opened by the meter on overload: if a closed relay would be tripped for
  arrears right now -> none ``overload_in_arrears``; for overdue fees -> none
  ``overload_fees_due``; if the latest trip is the
  (K+1)-th of its calendar day or later -> none ``overload_cap_reached``
  (manual reconnect only); before N minutes have passed -> none
  ``overload_waiting``; otherwise close ``overload_reconnect``;
* no recorded reason -> none ``open_reason_unknown``: never close blindly.

Closing is never postponed by quiet hours or no-cut days: those protect the
tenant from losing power, not from getting it back.

All datetimes are naive local time (the site's wall clock).
"""

import dataclasses
import datetime
from decimal import Decimal

from . import vocabulary
from .errors import ValidationError
from .money import to_decimal
from .wallet import NO_CREDIT, Credit, Thresholds, disconnect_floor, is_in_arrears

TRIP = "trip"
CLOSE = "close"
NONE = "none"
ACTIONS = (TRIP, CLOSE, NONE)

RELAY_CLOSED = "closed"
RELAY_OPEN = "open"
RELAY_UNKNOWN = "unknown"
RELAY_STATES = (RELAY_CLOSED, RELAY_OPEN, RELAY_UNKNOWN)

OPEN_ARREARS = "arrears"
OPEN_OVERLOAD = "overload"
OPEN_MANUAL = "manual"
OPEN_FEES = vocabulary.OPEN_FEES
OPEN_REASONS = (OPEN_ARREARS, OPEN_OVERLOAD, OPEN_MANUAL, OPEN_FEES)

# stable decision codes
BALANCE_OK = "balance_ok"
KEEP_POWER = "keep_power"
PROTECTED_TENANT = "protected_tenant"
GRACE_PERIOD = "grace_period"
QUIET_HOURS = "quiet_hours"
NO_CUT_DAY = "no_cut_day"
ARREARS_TRIP = "arrears_trip"
MANUAL_TRIP_STAYS = "manual_trip_stays"
KEEP_POWER_CLOSE = "keep_power_close"
PROTECTED_TENANT_CLOSE = "protected_tenant_close"
CREDIT_RESTORED = "credit_restored"
STILL_IN_ARREARS = "still_in_arrears"
OVERLOAD_IN_ARREARS = "overload_in_arrears"
OVERLOAD_CAP_REACHED = "overload_cap_reached"
OVERLOAD_WAITING = "overload_waiting"
OVERLOAD_RECONNECT = "overload_reconnect"
OPEN_REASON_UNKNOWN = "open_reason_unknown"
FEES_TRIP = "fees_trip"
STILL_FEES_DUE = "still_fees_due"
FEES_CLEARED = "fees_cleared"
OVERLOAD_FEES_DUE = "overload_fees_due"

SATURDAY = 5


@dataclasses.dataclass(frozen=True)
class Decision:
    """What to do with the relay, why (for people) and a stable code (for machines)."""

    action: str
    reason: str
    code: str


@dataclasses.dataclass(frozen=True)
class PolicyInputs:
    """Everything :func:`decide` looks at, for one meter at one moment.

    ``quiet_hours`` is a sequence of ``(start, end)`` times; a range with
    start > end crosses midnight (22:00-06:00); start is inside, end is not.
    ``overload_trips`` lists when the meter tripped itself on overload;
    ``overload_reconnect_after`` (N) and ``overload_max_reconnects_per_day``
    (K) cap automatic reconnection. ``open_reason`` says why the relay was
    last opened (arrears, overload, manual, fees) or None when unknown.
    ``arrears_since`` None while in arrears means "from now": the grace
    period starts at this decision. ``fees_overdue``: fee invoices are overdue
    (after their own grace days) on a site whose fees trip the meter.
    """

    balance: Decimal
    thresholds: Thresholds
    now: datetime.datetime
    relay: str = RELAY_CLOSED
    open_reason: str | None = None
    credit: Credit = NO_CREDIT
    keep_power: bool = False
    protected_tenant: bool = False
    quiet_hours: tuple = ()
    no_cut_dates: frozenset = frozenset()
    no_cut_weekends: bool = False
    arrears_since: datetime.datetime | None = None
    grace_period: datetime.timedelta = datetime.timedelta(0)
    overload_trips: tuple = ()
    overload_reconnect_after: datetime.timedelta = datetime.timedelta(minutes=5)
    overload_max_reconnects_per_day: int = 3
    fees_overdue: bool = False

    def __post_init__(self):
        object.__setattr__(self, "balance", to_decimal(self.balance, "balance"))
        object.__setattr__(self, "quiet_hours", tuple(self.quiet_hours))
        object.__setattr__(self, "no_cut_dates", frozenset(self.no_cut_dates))
        object.__setattr__(self, "overload_trips", tuple(sorted(self.overload_trips)))
        self._check_types()
        self._check_times()
        self._check_overload()

    def _check_types(self):
        if not isinstance(self.thresholds, Thresholds):
            raise ValidationError.of("policy.bad_thresholds")
        if not isinstance(self.credit, Credit):
            raise ValidationError.of("policy.bad_credit")
        if self.relay not in RELAY_STATES:
            raise ValidationError.of(
                "policy.relay_state", states=", ".join(RELAY_STATES), relay=self.relay
            )
        if self.open_reason is not None and self.open_reason not in OPEN_REASONS:
            raise ValidationError.of(
                "policy.open_reason", reasons=", ".join(OPEN_REASONS), reason=self.open_reason
            )
        for name in ("keep_power", "protected_tenant", "no_cut_weekends", "fees_overdue"):
            if not isinstance(getattr(self, name), bool):
                raise ValidationError.of("policy.not_boolean", name=name)
        for day in self.no_cut_dates:
            if not isinstance(day, datetime.date) or isinstance(day, datetime.datetime):
                raise ValidationError.of("policy.no_cut_date", day=day)

    def _check_times(self):
        _check_naive(self.now, "now")
        if self.arrears_since is not None:
            _check_naive(self.arrears_since, "arrears_since")
            if self.arrears_since > self.now:
                raise ValidationError.of(
                    "policy.arrears_after_now",
                    since=_fmt_time(self.arrears_since),
                    now=_fmt_time(self.now),
                )
        if self.grace_period < datetime.timedelta(0):
            raise ValidationError.of("policy.grace_negative", grace=self.grace_period)
        for position, quiet in enumerate(self.quiet_hours):
            try:
                start, end = quiet
            except (TypeError, ValueError):
                raise ValidationError.of(
                    "policy.quiet_pair", position=position, quiet=quiet
                ) from None
            if not (isinstance(start, datetime.time) and isinstance(end, datetime.time)):
                raise ValidationError.of("policy.quiet_times", position=position)
            if start == end:
                raise ValidationError.of(
                    "policy.quiet_empty", position=position, time=f"{start:%H:%M}"
                )

    def _check_overload(self):
        for when in self.overload_trips:
            _check_naive(when, "overload trip time")
            if when > self.now:
                raise ValidationError.of("policy.overload_after_now", when=_fmt_time(when))
        if self.overload_reconnect_after < datetime.timedelta(0):
            raise ValidationError.of("policy.overload_delay_negative")
        cap = self.overload_max_reconnects_per_day
        if not isinstance(cap, int) or isinstance(cap, bool) or cap < 0:
            raise ValidationError.of("policy.overload_cap", cap=cap)
        if self.open_reason == OPEN_OVERLOAD and self.relay != RELAY_CLOSED:
            if not self.overload_trips:
                raise ValidationError.of("policy.overload_no_trip")


def _check_naive(when, what):
    if not isinstance(when, datetime.datetime):
        raise ValidationError.of("policy.not_datetime", what=what, value=when)
    if when.tzinfo is not None:
        raise ValidationError.of("policy.not_naive", what=what, value=when.isoformat())


# --------------------------------------------------------------------------- formatting


def _fmt_time(when):
    return when.strftime("%Y-%m-%d %H:%M")


def _fmt_amount(amount):
    return f"{amount:.2f}"


def _fmt_duration(span):
    minutes = int(span.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    if hours:
        return f"{hours} h"
    return f"{minutes} min"


def _arrears_text(inputs):
    """'balance -3.20 below arrears 0.00' with credit limit and emergency credit if any."""
    floor = disconnect_floor(inputs.thresholds, inputs.credit)
    relation = "below" if inputs.balance < floor else "at"
    text = f"balance {_fmt_amount(inputs.balance)} {relation} arrears "
    text += _fmt_amount(inputs.thresholds.arrears)
    allowances = []
    if inputs.credit.credit_limit:
        allowances.append(f"credit limit {_fmt_amount(inputs.credit.credit_limit)}")
    if inputs.credit.emergency_in_use:
        allowances.append(f"emergency credit {_fmt_amount(inputs.credit.emergency_in_use)}")
    if allowances:
        text += f" less {' and '.join(allowances)} (floor {_fmt_amount(floor)})"
    return text


FEES_TEXT = "fee invoices overdue"


def _above_floor_text(inputs):
    floor = disconnect_floor(inputs.thresholds, inputs.credit)
    return f"balance {_fmt_amount(inputs.balance)} above disconnection floor {_fmt_amount(floor)}"


# --------------------------------------------------------------------------- calendar


def in_quiet_hours(moment, quiet_hours):
    """True when the time of ``moment`` lies in one of the ``(start, end)`` ranges."""
    clock = moment.time()
    for start, end in quiet_hours:
        if start < end and start <= clock < end:
            return True
        if start > end and (clock >= start or clock < end):
            return True
    return False


def is_no_cut_day(day, no_cut_dates, no_cut_weekends=False):
    """True on a listed holiday, or on Saturday/Sunday when weekends are protected."""
    return day in no_cut_dates or (no_cut_weekends and day.weekday() >= SATURDAY)


# --------------------------------------------------------------------------- decision


def decide(inputs):
    """The relay decision for ``inputs`` (see the module docstring for precedence)."""
    if inputs.relay == RELAY_OPEN or (
        inputs.relay == RELAY_UNKNOWN and inputs.open_reason is not None
    ):
        return _decide_open(inputs)
    return _decide_closed(inputs)


def _decide_closed(inputs):
    if not is_in_arrears(inputs.balance, inputs.thresholds, inputs.credit):
        if inputs.fees_overdue:
            return _decide_closed_for_fees(inputs)
        return Decision(NONE, _above_floor_text(inputs), BALANCE_OK)
    blocked = _trip_blocked(inputs, _arrears_text(inputs))
    if blocked is not None:
        if blocked.code == GRACE_PERIOD and inputs.fees_overdue:
            # the grace is the wallet's: overdue fees trip on their own
            return _decide_closed_for_fees(inputs)
        return blocked
    return Decision(TRIP, f"{_arrears_text(inputs)}{_grace_text(inputs)}: trip", ARREARS_TRIP)


def _decide_closed_for_fees(inputs):
    # the arrears guards but the grace: fees had theirs (grace days) before they were overdue
    blocked = _trip_blocked(inputs, FEES_TEXT, grace=False)
    if blocked is not None:
        return blocked
    return Decision(TRIP, f"{FEES_TEXT}: trip", FEES_TRIP)


def _grace_text(inputs):
    since = inputs.arrears_since or inputs.now
    return f" since {_fmt_time(since)}, grace {_fmt_duration(inputs.grace_period)} over"


def _trip_blocked(inputs, what, grace=True):
    """The Decision that keeps a relay closed now although ``what`` (arrears, overdue fees)
    asks for a trip, or None when a trip is due; ``grace``: the arrears grace applies."""
    if inputs.keep_power:
        return Decision(NONE, f"{what}, but keep-power is on: never trip", KEEP_POWER)
    if inputs.protected_tenant:
        return Decision(NONE, f"{what}, but the tenant is protected: never trip", PROTECTED_TENANT)
    since = inputs.arrears_since or inputs.now
    grace_end = since + inputs.grace_period
    if grace and inputs.now < grace_end:
        return Decision(
            NONE,
            f"{what} since {_fmt_time(since)}, grace {_fmt_duration(inputs.grace_period)} "
            f"runs until {_fmt_time(grace_end)}",
            GRACE_PERIOD,
        )
    if in_quiet_hours(inputs.now, inputs.quiet_hours):
        return Decision(
            NONE, f"{what}, trip postponed: quiet hours at {inputs.now:%H:%M}", QUIET_HOURS
        )
    if is_no_cut_day(inputs.now.date(), inputs.no_cut_dates, inputs.no_cut_weekends):
        return Decision(
            NONE,
            f"{what}, trip postponed: {inputs.now:%Y-%m-%d} is a no-cut day",
            NO_CUT_DAY,
        )
    return None


def _fees_trip_due(inputs):
    """True when a closed relay would be tripped for overdue fees right now."""
    return inputs.fees_overdue and _trip_blocked(inputs, FEES_TEXT, grace=False) is None


def _decide_open(inputs):
    if inputs.open_reason == OPEN_MANUAL:
        return Decision(
            NONE, "relay opened manually by staff: only staff may close it", MANUAL_TRIP_STAYS
        )
    if inputs.open_reason in (OPEN_ARREARS, OPEN_FEES):
        return _decide_open_for_money(inputs)
    if inputs.open_reason == OPEN_OVERLOAD:
        return _decide_open_for_overload(inputs)
    return Decision(
        NONE, "relay is open for an unknown reason: left for staff to check", OPEN_REASON_UNKNOWN
    )


def _decide_open_for_money(inputs):
    """A relay we tripped for arrears or overdue fees: it closes once neither is due.

    While one is still due the relay stays open, for that one (the hardware addon
    stores the new reason of ``still_*``): never closed to be tripped again.
    """
    what = "arrears" if inputs.open_reason == OPEN_ARREARS else "overdue fees"
    if inputs.keep_power:
        return Decision(
            CLOSE, f"keep-power is on: close the relay tripped for {what}", KEEP_POWER_CLOSE
        )
    if inputs.protected_tenant:
        return Decision(
            CLOSE,
            f"the tenant is protected: close the relay tripped for {what}",
            PROTECTED_TENANT_CLOSE,
        )
    in_arrears = is_in_arrears(inputs.balance, inputs.thresholds, inputs.credit)
    # the reason it was opened for first, so a relay open for both keeps its reason
    if inputs.open_reason == OPEN_FEES and inputs.fees_overdue:
        return Decision(NONE, f"{FEES_TEXT}: relay stays open", STILL_FEES_DUE)
    if in_arrears:
        return Decision(NONE, f"{_arrears_text(inputs)}: relay stays open", STILL_IN_ARREARS)
    if inputs.fees_overdue:
        return Decision(
            NONE,
            f"{_above_floor_text(inputs)}, but {FEES_TEXT}: relay stays open",
            STILL_FEES_DUE,
        )
    if inputs.open_reason == OPEN_FEES:
        return Decision(
            CLOSE, "fee invoices paid: close the relay tripped for overdue fees", FEES_CLEARED
        )
    return Decision(
        CLOSE,
        f"{_above_floor_text(inputs)}: close the relay tripped for arrears",
        CREDIT_RESTORED,
    )


def _decide_open_for_overload(inputs):
    in_arrears = is_in_arrears(inputs.balance, inputs.thresholds, inputs.credit)
    if in_arrears and _trip_blocked(inputs, _arrears_text(inputs)) is None:
        return Decision(
            NONE,
            f"relay open after overload and {_arrears_text(inputs)}: no reconnect",
            OVERLOAD_IN_ARREARS,
        )
    if _fees_trip_due(inputs):
        return Decision(
            NONE, f"relay open after overload and {FEES_TEXT}: no reconnect", OVERLOAD_FEES_DUE
        )
    latest = inputs.overload_trips[-1]
    trips_that_day = sum(1 for when in inputs.overload_trips if when.date() == latest.date())
    cap = inputs.overload_max_reconnects_per_day
    if trips_that_day > cap:
        return Decision(
            NONE,
            f"{trips_that_day} overload trips on {latest:%Y-%m-%d}, automatic reconnect "
            f"allowed {cap} times a day: manual reconnect only",
            OVERLOAD_CAP_REACHED,
        )
    reconnect_at = latest + inputs.overload_reconnect_after
    if inputs.now < reconnect_at:
        return Decision(
            NONE,
            f"overload trip at {_fmt_time(latest)}: automatic reconnect at "
            f"{_fmt_time(reconnect_at)}",
            OVERLOAD_WAITING,
        )
    return Decision(
        CLOSE,
        f"overload trip at {_fmt_time(latest)} ({trips_that_day} of {cap} allowed that day), "
        f"{_fmt_duration(inputs.overload_reconnect_after)} passed: reconnect",
        OVERLOAD_RECONNECT,
    )
