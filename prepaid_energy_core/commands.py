"""Remote meter commands: what each does, how it is verified, and how it runs on a bus.

A command is never sent blindly. It runs in two passes over its bus, with the
caller's durable record of the attempt in between:

1. :func:`observe` reads back what the command would change (relay bits,
   purchase count, balance, clock). :func:`plan` decides from that and the
   last recorded attempt: already in effect (verified without sending: the
   safe end of a retry after a lost acknowledgement), send (with the purchase
   count to carry: the meter's count + 1, or the same count again when the
   last push never arrived), or fail (the count moved outside this command).
2. The caller records the attempt durably (committed) BEFORE the meter is
   talked to, with the purchase count it will carry.
3. :func:`execute` sends, then reads back: verified, acknowledged (the meter
   said yes, the read-back cannot tell or did not answer), sent (no usable
   acknowledgement: the outcome is unknown until the next observation),
   failed (the meter refused), expired (the deadline passed before sending).

A meter applies a credit push only for its count + 1 and DL/T 645 meters
refuse a relay command past its deadline, so even a duplicate that slipped
through cannot act twice. Buses run concurrently with :func:`run_on_buses`,
one request in flight per bus.
"""

import dataclasses
import datetime
import threading
import zoneinfo
from decimal import Decimal

from . import vocabulary as words
from .errors import MeterRefused, PrepaidEnergyError, ProtocolError, TransportError, ValidationError
from .money import to_decimal

# --------------------------------------------------------------------------- vocabulary

TRIP = words.RELAY_TRIP
CLOSE = words.RELAY_CLOSE
CLOSE_ALLOWED = words.RELAY_CLOSE_ALLOWED
KEEP_POWER_ON = words.RELAY_KEEP_POWER_ON
KEEP_POWER_OFF = words.RELAY_KEEP_POWER_OFF
RESTORE_PREPAID = "restore_prepaid"  # leave keep-power: the prepaid rules apply again
VALVE_CLOSE = "valve_close"  # water meters: the valve is their relay
VALVE_OPEN = "valve_open"
PUSH_PRICE = "push_price"
PUSH_SETTINGS = "push_settings"
PUSH_CREDIT = "push_credit"
SYNC_TIME = "sync_time"
READ = "read"
ACTION_LABELS = (
    (TRIP, "Trip"),
    (CLOSE, "Close"),
    (CLOSE_ALLOWED, "Allow close (tenant's button)"),
    (KEEP_POWER_ON, "Keep power on"),
    (KEEP_POWER_OFF, "Keep power off"),
    (RESTORE_PREPAID, "Restore prepaid mode"),
    (VALVE_CLOSE, "Close valve"),
    (VALVE_OPEN, "Open valve"),
    (PUSH_PRICE, "Push price"),
    (PUSH_SETTINGS, "Push settings"),
    (PUSH_CREDIT, "Push credit"),
    (SYNC_TIME, "Sync time"),
    (READ, "Read now"),
)
ACTIONS = tuple(action for action, _label in ACTION_LABELS)

#: the driver's relay action of each switching command
RELAY_ACTION = {
    TRIP: words.RELAY_TRIP,
    CLOSE: words.RELAY_CLOSE,
    CLOSE_ALLOWED: words.RELAY_CLOSE_ALLOWED,
    KEEP_POWER_ON: words.RELAY_KEEP_POWER_ON,
    KEEP_POWER_OFF: words.RELAY_KEEP_POWER_OFF,
    RESTORE_PREPAID: words.RELAY_KEEP_POWER_OFF,
    VALVE_CLOSE: words.RELAY_TRIP,
    VALVE_OPEN: words.RELAY_CLOSE,
}
RELAY_COMMANDS = tuple(RELAY_ACTION)
#: commands that open / close the supply
OPENING = (TRIP, VALVE_CLOSE)
CLOSING = (CLOSE, VALVE_OPEN)
#: commands only water meters take, and those water meters do not take
WATER_ONLY = (VALVE_CLOSE, VALVE_OPEN)
ELECTRICITY_ONLY = (TRIP, CLOSE, CLOSE_ALLOWED)

#: a newer command of the same group supersedes a queued older one (a credit push never)
GROUPS = {
    TRIP: "supply",
    CLOSE: "supply",
    CLOSE_ALLOWED: "supply",
    VALVE_CLOSE: "supply",
    VALVE_OPEN: "supply",
    KEEP_POWER_ON: "keep_power",
    KEEP_POWER_OFF: "keep_power",
    RESTORE_PREPAID: "keep_power",
    PUSH_PRICE: "price",
    PUSH_SETTINGS: "settings",
    PUSH_CREDIT: None,
    SYNC_TIME: "clock",
    READ: "read",
}
#: commands whose repetition changes nothing: no durable attempt record needed
HARMLESS = (READ, SYNC_TIME)

QUEUED = "queued"
SENT = "sent"
ACKNOWLEDGED = "acknowledged"
VERIFIED = "verified"
FAILED = "failed"
EXPIRED = "expired"
CANCELLED = "cancelled"
STATE_LABELS = (
    (QUEUED, "Queued"),
    (SENT, "Sent"),
    (ACKNOWLEDGED, "Acknowledged"),
    (VERIFIED, "Verified"),
    (FAILED, "Failed"),
    (EXPIRED, "Expired"),
    (CANCELLED, "Cancelled"),
)
STATES = tuple(state for state, _label in STATE_LABELS)
#: states a command never leaves
FINAL_STATES = (VERIFIED, FAILED, EXPIRED, CANCELLED)
#: states the runner still works on
OPEN_STATES = (QUEUED, SENT, ACKNOWLEDGED)

#: how long a command stays valid by default
DEFAULT_VALIDITY = {
    PUSH_CREDIT: datetime.timedelta(hours=24),
    READ: datetime.timedelta(minutes=30),
}
DEFAULT_RELAY_VALIDITY = datetime.timedelta(minutes=15)
#: a clock read back within this of the time sent counts as set
CLOCK_TOLERANCE = datetime.timedelta(seconds=10)
#: retry delays: BASE, 2 BASE, 4 BASE... at most CAP
RETRY_BASE = datetime.timedelta(seconds=5)
RETRY_CAP = datetime.timedelta(minutes=5)
DEFAULT_MAX_TRIES = 6


def default_validity(action):
    return DEFAULT_VALIDITY.get(action, DEFAULT_RELAY_VALIDITY)


def retry_delay(tries, base=RETRY_BASE, cap=RETRY_CAP):
    """The wait before try number ``tries + 1`` (exponential, capped)."""
    if tries < 1:
        return datetime.timedelta(0)
    return min(base * (2 ** (tries - 1)), cap)


def check_action(action, utility=words.ELECTRICITY, capabilities=None):
    """Refuse a command the meter cannot take, with the reason (ValidationError).

    ``capabilities``: what the meter's profile offers (``relay``, ``credit``,
    ``clock``, ``price``, ``settings``); None: not checked.
    """
    if action not in ACTIONS:
        raise ValidationError(f"unknown command {action!r}; expected one of {', '.join(ACTIONS)}")
    if utility == words.WATER and action in ELECTRICITY_ONLY:
        raise ValidationError("a water meter has a valve, not a relay: use the valve commands")
    if utility != words.WATER and action in WATER_ONLY:
        raise ValidationError(f"{action} is for water meters")
    if capabilities is None:
        return
    needs = {PUSH_CREDIT: "credit", SYNC_TIME: "clock", PUSH_PRICE: "price"}
    needs[PUSH_SETTINGS] = "settings"
    needs.update(dict.fromkeys(RELAY_COMMANDS, "relay"))
    need = needs.get(action)
    if need and need not in capabilities:
        raise ValidationError(f"the meter's profile does not support {action.replace('_', ' ')}")


# --------------------------------------------------------------------------- specs and results


@dataclasses.dataclass(frozen=True)
class CommandSpec:
    """One command as the runner needs it.

    ``deadline`` is naive UTC; ``zone`` the meter clock's time zone (the
    site's), used for the DL/T 645 deadline and time sync. ``last_target``
    is the purchase count the last recorded push carried (None: never pushed).
    """

    key: object
    address: str
    action: str
    deadline: datetime.datetime | None = None
    zone: str = "UTC"
    amount: Decimal | None = None
    last_target: int | None = None
    acknowledged: bool = False  # an earlier attempt was acknowledged: only verify now

    def __post_init__(self):
        if self.action not in ACTIONS:
            raise ValidationError(f"unknown command {self.action!r}")
        if self.action == PUSH_CREDIT:
            amount = to_decimal(self.amount, "credit amount")
            if amount <= 0:
                raise ValidationError(f"credit amount must be positive, got {amount}")
            object.__setattr__(self, "amount", amount)
        if self.deadline is not None and self.deadline.tzinfo is not None:
            raise ValidationError("command deadlines are naive UTC")
        zoneinfo.ZoneInfo(self.zone)  # fails now on an unknown zone

    def meter_time(self, utc):
        """A naive UTC moment on the meter's clock (naive, the site's local time)."""
        aware = utc.replace(tzinfo=datetime.timezone.utc)
        return aware.astimezone(zoneinfo.ZoneInfo(self.zone)).replace(tzinfo=None)


@dataclasses.dataclass(frozen=True)
class Observation:
    """What the meter showed of the command's effect (fields it could not say: None)."""

    answered: bool
    relay: object = None  # fieldbus.RelayStatus
    purchase_count: int | None = None
    balance: Decimal | None = None
    clock_offset: datetime.timedelta | None = None  # meter clock minus the expected local time
    error: str | None = None


NOT_OBSERVED = Observation(answered=True)

PLAN_DONE = "done"  # the effect is already there: verified, nothing sent
PLAN_SEND = "send"
PLAN_FAIL = "fail"
PLAN_WAIT = "wait"  # the meter did not answer the observation: try again later
PLAN_KEEP = "keep"  # acknowledged earlier, the meter cannot show more: leave it so


@dataclasses.dataclass(frozen=True)
class Plan:
    kind: str
    message: str = ""
    target: int | None = None  # the purchase count to carry


@dataclasses.dataclass(frozen=True)
class Outcome:
    """How one pass of a command ended (``state`` is one of STATES, or QUEUED: try again)."""

    state: str
    message: str
    sent: bool = False
    observation: Observation | None = None
    reading: object = None  # drivers.base.MeterReading of a READ


def effect_seen(spec, observation, target=None):
    """True / False when the observation shows / contradicts the command's effect,
    None when it cannot tell."""
    action, relay = spec.action, observation.relay
    if action in OPENING:
        if relay is None or relay.closed is None:
            return None
        if relay.trip_command is not None:  # DL/T 645: the trip must be in force, too
            return not relay.closed and relay.trip_command
        return not relay.closed
    if action in CLOSING:
        if relay is None or relay.closed is None:
            return None
        return relay.closed
    if action == CLOSE_ALLOWED:
        if relay is None or relay.trip_command is None:
            return True if relay is not None and relay.closed else None
        return not relay.trip_command
    if action == KEEP_POWER_ON:
        return None if relay is None or relay.keep_power is None else relay.keep_power
    if action in (KEEP_POWER_OFF, RESTORE_PREPAID):
        return None if relay is None or relay.keep_power is None else not relay.keep_power
    if action == PUSH_CREDIT:
        if observation.purchase_count is None or target is None:
            return None
        return observation.purchase_count == target
    if action == SYNC_TIME:
        if observation.clock_offset is None:
            return None
        return abs(observation.clock_offset) <= CLOCK_TOLERANCE
    return None


# --------------------------------------------------------------------------- the two passes


def observe(bus, spec, now):
    """Read back what ``spec`` would change (``now``: naive UTC). Never raises."""
    try:
        return _observe(bus, spec, now)
    except (PrepaidEnergyError, OSError) as exc:
        return Observation(answered=False, error=_error_text(exc))


def _observe(bus, spec, now):
    address, action = spec.address, spec.action
    if action in RELAY_COMMANDS:
        if not bus.supports(address, "relay_state"):
            return NOT_OBSERVED
        return Observation(answered=True, relay=bus.read_relay(address))
    if action == PUSH_CREDIT:
        count = bus.read_purchase_count(address)
        balance = bus.read_balance(address) if bus.supports(address, "balance") else None
        return Observation(answered=True, purchase_count=count, balance=balance)
    if action == SYNC_TIME:
        clock = bus.read_clock(address)
        return Observation(answered=True, clock_offset=clock - spec.meter_time(now))
    return NOT_OBSERVED


def plan(spec, observation):
    """What to do after :func:`observe` (see the module docstring)."""
    if not observation.answered:
        return Plan(PLAN_WAIT, f"no answer to the read-back: {observation.error}")
    if spec.action == PUSH_CREDIT:
        return _plan_credit(spec, observation)
    if spec.action in HARMLESS:
        return Plan(PLAN_SEND)
    seen = effect_seen(spec, observation)
    if seen:
        return Plan(PLAN_DONE, "the meter already shows it: nothing sent")
    if spec.acknowledged and seen is None:
        return Plan(PLAN_KEEP, "acknowledged; the meter cannot show it")
    return Plan(PLAN_SEND)


def _plan_credit(spec, observation):
    count = observation.purchase_count
    if spec.last_target is None:
        return Plan(PLAN_SEND, target=count + 1)
    if count == spec.last_target:
        return Plan(
            PLAN_DONE, f"purchase count is {count}: the earlier push was applied, nothing resent"
        )
    if count == spec.last_target - 1:
        return Plan(PLAN_SEND, f"purchase {spec.last_target} not applied yet", spec.last_target)
    return Plan(
        PLAN_FAIL,
        f"purchase count is {count}, this push carried {spec.last_target}: the count moved "
        "outside this command (another vending channel?); check the meter before pushing again",
    )


def execute(bus, spec, planned, now):
    """Send ``spec`` as ``planned`` (PLAN_SEND), then read back. Never raises.

    ``now`` is naive UTC; a command past its deadline is not sent (EXPIRED).
    """
    if spec.deadline is not None and now > spec.deadline:
        return Outcome(EXPIRED, "deadline passed before the command could be sent")
    try:
        reading = _send(bus, spec, planned, now)
    except MeterRefused as exc:
        return Outcome(FAILED, f"the meter refused: {exc}", sent=True)
    except ValidationError as exc:  # the profile cannot do it: nothing left the host
        return Outcome(FAILED, str(exc))
    except (TimeoutError, ProtocolError, TransportError, OSError) as exc:
        return _after_lost_acknowledgement(bus, spec, planned, now, exc)
    if spec.action == READ:
        return Outcome(VERIFIED, "read", sent=True, reading=reading)
    return _verify(bus, spec, planned, now, "acknowledged")


def _send(bus, spec, planned, now):
    address, action = spec.address, spec.action
    if action in RELAY_COMMANDS:
        deadline = spec.meter_time(spec.deadline) if spec.deadline else None
        bus.set_relay(address, RELAY_ACTION[action], deadline=deadline)
    elif action == PUSH_CREDIT:
        bus.push_credit(address, spec.amount, planned.target)
    elif action == SYNC_TIME:
        bus.sync_time(address, spec.meter_time(now))
    elif action == READ:
        return bus.read(address)
    else:
        raise ValidationError(f"{action.replace('_', ' ')} is not supported by this meter's driver")
    return None


def _after_lost_acknowledgement(bus, spec, planned, now, exc):
    """No usable reply: read back at once; only what the meter shows decides."""
    if spec.action == READ:
        return Outcome(QUEUED, f"no reading: {_error_text(exc)}", sent=True)
    if spec.action == SYNC_TIME and isinstance(exc, TimeoutError):
        # DL/T 645 meters never acknowledge a time sync: the clock tells
        return _verify(bus, spec, planned, now, "sent")
    observation = observe(bus, spec, now)
    seen = effect_seen(spec, observation, planned.target)
    text = _error_text(exc)
    if seen:
        return Outcome(
            VERIFIED, f"acknowledgement lost ({text}); read back: applied", True, observation
        )
    if seen is False:
        return Outcome(
            SENT, f"acknowledgement lost ({text}); read back: not applied yet", True, observation
        )
    return Outcome(SENT, f"no acknowledgement ({text}); outcome unknown", True, observation)


def _verify(bus, spec, planned, now, how):
    observation = observe(bus, spec, now)
    if not observation.answered:
        return Outcome(
            ACKNOWLEDGED, f"{how}; read-back failed: {observation.error}", True, observation
        )
    seen = effect_seen(spec, observation, planned.target)
    if seen:
        return Outcome(VERIFIED, f"{how} and verified by read-back", True, observation)
    if seen is None:
        return Outcome(ACKNOWLEDGED, f"{how}; the meter cannot show it", True, observation)
    return Outcome(
        QUEUED, f"{how}, but the read-back does not show it: will retry", True, observation
    )


def _error_text(exc):
    return str(exc) or type(exc).__name__


# --------------------------------------------------------------------------- buses in parallel


def run_on_buses(jobs, function):
    """Run ``function(bus, item)`` for the items of each bus, buses concurrently.

    ``jobs``: ``{bus: [item, ...]}`` (any hashable bus, e.g. a BusDriver);
    items of one bus run in order, one at a time (one request in flight per
    bus). Returns ``[(item, result)]``; an exception raised by ``function``
    becomes the result, so one bus or meter never stops the others.
    """
    results = []
    lock = threading.Lock()

    def work(bus, items):
        for item in items:
            try:
                result = function(bus, item)
            except Exception as exc:  # reported to the caller, never lost
                result = exc
            with lock:
                results.append((item, result))

    threads = [
        threading.Thread(target=work, args=(bus, items), name="commands", daemon=True)
        for bus, items in jobs.items()
        if items
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
