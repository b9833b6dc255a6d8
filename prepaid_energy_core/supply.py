"""Time control and the relay decision of a remotely switched meter.

Two things the disconnection policy (:mod:`policy`) does not know about:

- **Supply schedules**: when the supply is off on purpose, by day type and
  time, between two dates (a dormitory's lights-out 23:30-06:00 on workdays,
  full supply on holidays). :class:`SupplySchedule` answers "should the
  supply be on at this local moment?".
- **Why a relay is open.** :func:`open_reason_after` keeps the reason of the
  last opening as the head-end saw it: our own trip (arrears, staff,
  schedule), or the meter's own protection (overload, malicious load) when
  the relay opened without a command of ours and the profile says such trips
  are protection trips.

:func:`decide` puts them in front of :func:`policy.decide`: a schedule's
off-time trips a closed relay (``schedule_off``) unless keep-power or a
protected tenant says otherwise, and its on-time closes a relay the schedule
opened (``schedule_on``) unless the wallet is in arrears or its fees are
overdue, in which case the relay stays open for arrears (``schedule_in_arrears``)
or for the fees (``schedule_fees_due``): never closed to be tripped again.
All datetimes are naive site-local time.
"""

import dataclasses
import datetime

from . import policy
from .calendar import DAY_TYPES, HolidayCalendar, parse_date
from .errors import ValidationError
from .wallet import is_in_arrears

OPEN_SCHEDULE = "schedule"
#: every reason a relay may be open for; policy.OPEN_REASONS plus the schedule's
OPEN_REASONS = (*policy.OPEN_REASONS, OPEN_SCHEDULE)
OPEN_REASON_LABELS = (
    (policy.OPEN_ARREARS, "Arrears"),
    (policy.OPEN_OVERLOAD, "Overload or malicious load (the meter's protection)"),
    (policy.OPEN_MANUAL, "Staff"),
    (OPEN_SCHEDULE, "Supply schedule"),
    (policy.OPEN_FEES, "Fees overdue"),
)

SCHEDULE_OFF = "schedule_off"
SCHEDULE_ON = "schedule_on"
SCHEDULE_KEEP_POWER = "schedule_keep_power"
SCHEDULE_STILL_OFF = "schedule_still_off"
SCHEDULE_IN_ARREARS = "schedule_in_arrears"
SCHEDULE_FEES_DUE = "schedule_fees_due"
#: decisions that trip, with the reason the relay is then open for
TRIP_REASONS = {
    policy.ARREARS_TRIP: policy.OPEN_ARREARS,
    policy.FEES_TRIP: policy.OPEN_FEES,
    SCHEDULE_OFF: OPEN_SCHEDULE,
}
#: decisions that leave the relay open but (may) change why it is open
REASON_CHANGES = {
    SCHEDULE_IN_ARREARS: policy.OPEN_ARREARS,
    SCHEDULE_FEES_DUE: policy.OPEN_FEES,
    policy.STILL_IN_ARREARS: policy.OPEN_ARREARS,
    policy.STILL_FEES_DUE: policy.OPEN_FEES,
}


@dataclasses.dataclass(frozen=True)
class OffPeriod:
    """The supply is off from ``start`` to ``end`` on days of ``day_type``.

    ``start > end`` crosses midnight (23:30-06:00): the period belongs to the
    day it starts on.
    """

    day_type: str
    start: datetime.time
    end: datetime.time

    def __post_init__(self):
        if self.day_type not in DAY_TYPES:
            raise ValidationError(
                f"off period: day type must be one of {', '.join(DAY_TYPES)}, got {self.day_type!r}"
            )
        if not (isinstance(self.start, datetime.time) and isinstance(self.end, datetime.time)):
            raise ValidationError("off period: start and end must be times of day")
        if self.start == self.end:
            raise ValidationError(
                f"off period {self.start:%H:%M}-{self.end:%H:%M} is empty (or the whole day: "
                "give 00:00-23:59 for that)"
            )


@dataclasses.dataclass(frozen=True)
class SupplySchedule:
    """Off periods in force from ``date_from`` to ``date_to`` (both inclusive; None: open)."""

    name: str
    periods: tuple
    date_from: datetime.date
    date_to: datetime.date | None = None
    calendar: HolidayCalendar = dataclasses.field(default_factory=HolidayCalendar)

    def __post_init__(self):
        object.__setattr__(self, "periods", tuple(self.periods))
        object.__setattr__(self, "date_from", parse_date(self.date_from, "schedule start"))
        if self.date_to is not None:
            object.__setattr__(self, "date_to", parse_date(self.date_to, "schedule end"))
            if self.date_to < self.date_from:
                raise ValidationError(f"schedule {self.name}: it ends before it starts")
        for period in self.periods:
            if not isinstance(period, OffPeriod):
                raise ValidationError(f"schedule {self.name}: periods must be OffPeriods")

    def in_force(self, day):
        return self.date_from <= day and (self.date_to is None or day <= self.date_to)

    def off_period_at(self, moment):
        """The OffPeriod the supply is off for at ``moment``, or None."""
        today, clock = moment.date(), moment.time()
        yesterday = today - datetime.timedelta(days=1)
        for period in self.periods:
            if period.start < period.end:
                if self._applies(period, today) and period.start <= clock < period.end:
                    return period
            else:  # crosses midnight: evening of its own day, morning of the next
                if self._applies(period, today) and clock >= period.start:
                    return period
                if self._applies(period, yesterday) and clock < period.end:
                    return period
        return None

    def _applies(self, period, day):
        return self.in_force(day) and self.calendar.day_type(day) == period.day_type

    def supply_on(self, moment):
        return self.off_period_at(moment) is None


def supply_on(schedules, moment):
    """``(on, schedule)``: on unless a schedule in force says off (that schedule)."""
    for schedule in schedules:
        if not schedule.supply_on(moment):
            return False, schedule
    return True, None


def open_reason_after(
    previous_reason, relay_closed, commanded_reason=None, protection_trips=False,
    meter_bills_itself=False,
):  # fmt: skip
    """Why the relay is open after a reading that showed ``relay_closed``.

    ``previous_reason`` is what was known before; ``commanded_reason`` the
    reason of a trip of ours verified since (arrears, manual, schedule). A
    relay found open with no reason of ours is the meter's own doing: a
    protection trip (overload, malicious load) when ``protection_trips``, its
    own prepaid cut-off when ``meter_bills_itself``, else unknown (None).
    """
    if relay_closed:
        return None
    if commanded_reason:
        return commanded_reason
    if previous_reason:
        return previous_reason
    if meter_bills_itself:
        return policy.OPEN_ARREARS
    return policy.OPEN_OVERLOAD if protection_trips else None


def decide(inputs, supply_is_on=True, schedule_name=None, opened_by_schedule=False):
    """The relay decision for ``inputs`` (policy.PolicyInputs) under the supply schedules.

    ``opened_by_schedule``: the relay is open because a schedule tripped it
    (the core policy knows no such reason: ``inputs.open_reason`` is then None,
    see :func:`policy_open_reason`).
    """
    relay_open = inputs.relay == policy.RELAY_OPEN or (
        inputs.relay == policy.RELAY_UNKNOWN and (inputs.open_reason or opened_by_schedule)
    )
    if relay_open and opened_by_schedule:
        return _decide_open_for_schedule(inputs, supply_is_on, schedule_name)
    if not relay_open and not supply_is_on:
        if inputs.keep_power:
            return policy.Decision(
                policy.NONE,
                f"supply schedule {schedule_name} is off, but keep-power is on",
                SCHEDULE_KEEP_POWER,
            )
        if inputs.protected_tenant:
            return policy.Decision(
                policy.NONE,
                f"supply schedule {schedule_name} is off, but the tenant is protected",
                policy.PROTECTED_TENANT,
            )
        return policy.Decision(
            policy.TRIP, f"supply schedule {schedule_name}: off at {inputs.now:%H:%M}", SCHEDULE_OFF
        )
    return policy.decide(inputs)


def policy_open_reason(reason):
    """The open reason as the core policy takes it (the schedule's is not one of them)."""
    return reason if reason in policy.OPEN_REASONS else None


def _decide_open_for_schedule(inputs, supply_is_on, schedule_name):
    if not supply_is_on and not inputs.keep_power and not inputs.protected_tenant:
        return policy.Decision(
            policy.NONE, f"supply schedule {schedule_name}: still off", SCHEDULE_STILL_OFF
        )
    held = not (inputs.keep_power or inputs.protected_tenant)
    if held and is_in_arrears(inputs.balance, inputs.thresholds, inputs.credit):
        return policy.Decision(
            policy.NONE,
            "supply schedule is on again, but the account is in arrears: relay stays open",
            SCHEDULE_IN_ARREARS,
        )
    if held and inputs.fees_overdue:
        return policy.Decision(
            policy.NONE,
            "supply schedule is on again, but fee invoices are overdue: relay stays open",
            SCHEDULE_FEES_DUE,
        )
    return policy.Decision(policy.CLOSE, "supply schedule: supply on again", SCHEDULE_ON)
