"""Read many meters on many buses in one cycle.

Every bus gets one worker thread and is read meter after meter (one request
in flight per bus); all buses run at once. A cycle has a time budget: a meter
is only started if it can still finish in time, the others are reported as
skipped (to be read next cycle; registers are cumulative so nothing is lost).
Every failure is reported per meter with its class, never turned into a value.

Timeouts and late replies. A reply that comes after its request's deadline
is never taken for the next meter's answer: the drivers match every reply
to its request (DL/T 645 address, control code, data item; Modbus RTU unit,
function, length; Modbus TCP transaction id) and the transport sets other
frames aside, drains the line after a timeout and reads on until the
request's own deadline. A meter that does not answer costs one short
timeout and is not retried: a dead meter costs exactly one timeout per
cycle. But a timed-out meter whose late reply shows up later in the cycle
(set aside by the transport) is alive, only slow: once the bus went through
its list, each such meter gets ONE retry, if the budget still has room,
with a timeout stretched to the latency its late reply showed (at most
RETRY_TIMEOUT_FACTOR x the request timeout). A late reply can also come
after the bus's last request: a bus done with its list while other buses
are still reading (the cycle goes on anyway) keeps listening for the late
replies of its timed-out meters, up to that same stretched timeout, and
sends nothing meanwhile. A dead meter still costs one request and one
timeout, and the cycle is not made longer by the listening. A checksum
error may be retried once at once (``retry_checksum``)::

    result = poll([(TcpTransport("10.0.0.7", 4001), Dlt645Driver, ["000000000001", ...])],
                  budget=60, request_timeout=0.5)
    for (bus, address), reading in result.readings.items(): ...
    for (bus, address), error in result.errors.items(): error.kind, error.message

Meters are identified by ``(bus name, address)`` because addresses repeat
from bus to bus (every Modbus bus has a unit 1).
"""

import dataclasses
import threading
import time

from .errors import (
    ChecksumError,
    MeterRefused,
    ProtocolError,
    TransportError,
    ValidationError,
)

ERROR_TIMEOUT = "timeout"
ERROR_CHECKSUM = "checksum"
ERROR_PROTOCOL = "protocol"
ERROR_REFUSED = "refused"
ERROR_TRANSPORT = "transport"
ERROR_INTERNAL = "internal"  # a driver bug: reported, never allowed to stop the cycle
ERROR_KINDS = (
    ERROR_TIMEOUT,
    ERROR_CHECKSUM,
    ERROR_PROTOCOL,
    ERROR_REFUSED,
    ERROR_TRANSPORT,
    ERROR_INTERNAL,
)

#: after this many link failures in a row a bus is considered down for the cycle
LINK_FAILURES_BEFORE_GIVING_UP = 3
#: how long after the budget poll() waits for a stuck bus before reporting it
OVERRUN_GRACE = 5.0
#: the retry of a meter proven alive by a late reply waits this much longer than
#: the latency that reply showed...
RETRY_LATENCY_MARGIN = 1.5
#: ...but never more than this many request timeouts
RETRY_TIMEOUT_FACTOR = 4
#: how often a bus done with its list looks for late replies while others still read
LISTEN_STEP = 0.05


@dataclasses.dataclass(frozen=True)
class Bus:
    """One bus to poll: its transport, its driver (or a factory taking the
    transport), the addresses of its meters, and a name unique in the cycle
    (defaults to the transport's name)."""

    transport: object
    driver: object
    addresses: tuple
    name: str = None

    def __post_init__(self):
        addresses = tuple(str(a) for a in self.addresses)
        if len(set(addresses)) != len(addresses):
            raise ValidationError(f"a bus lists a meter address twice: {addresses}")
        object.__setattr__(self, "addresses", addresses)
        if self.name is None:
            name = getattr(self.transport, "name", None) or f"bus-{id(self.transport):x}"
            object.__setattr__(self, "name", name)


@dataclasses.dataclass(frozen=True)
class MeterError:
    """Why one meter gave no reading this cycle."""

    bus: str
    address: str
    kind: str  # one of ERROR_KINDS
    message: str


@dataclasses.dataclass
class BusStats:
    """Timing of one bus in the cycle (seconds)."""

    bus: str
    meters: int
    read: int = 0
    failed: int = 0
    skipped: int = 0
    retries: int = 0
    timeouts: int = 0  # requests that timed out (each dead meter: one)
    late_replies: int = 0  # timed-out meters whose late reply proved them alive
    elapsed: float = 0.0
    mean_meter_time: float = 0.0
    max_meter_time: float = 0.0
    overran: bool = False  # still busy OVERRUN_GRACE after the budget


@dataclasses.dataclass
class PollResult:
    """Outcome of one cycle, keyed by ``(bus name, address)``."""

    readings: dict
    errors: dict
    skipped: list
    buses: list
    elapsed: float
    budget: float
    #: {(bus, address): timeouts the meter cost this cycle}, meters that timed out only
    timeouts: dict = dataclasses.field(default_factory=dict)
    #: {(bus, address): seconds its late reply took}, meters proven alive after a timeout
    late_replies: dict = dataclasses.field(default_factory=dict)

    def error_counts(self):
        """{error kind: number of meters}."""
        counts = dict.fromkeys(ERROR_KINDS, 0)
        for error in self.errors.values():
            counts[error.kind] += 1
        return counts

    def summary(self):
        counts = ", ".join(f"{k} {n}" for k, n in self.error_counts().items() if n)
        late = f", {len(self.late_replies)} late" if self.late_replies else ""
        return (
            f"{len(self.readings)} read, {len(self.errors)} failed"
            f"{' (' + counts + ')' if counts else ''}, {len(self.skipped)} skipped{late}"
            f" in {self.elapsed:.2f} s"
        )


def classify(exc):
    """The error class of an exception raised while reading a meter."""
    if isinstance(exc, TimeoutError):  # TransportTimeout included
        return ERROR_TIMEOUT
    if isinstance(exc, ChecksumError):
        return ERROR_CHECKSUM
    if isinstance(exc, ProtocolError):
        return ERROR_PROTOCOL
    if isinstance(exc, MeterRefused):
        return ERROR_REFUSED
    if isinstance(exc, (TransportError, OSError)):
        return ERROR_TRANSPORT
    return ERROR_INTERNAL


def poll(
    buses,
    budget=60.0,
    request_timeout=None,
    retry_checksum=False,
    link_failures_before_giving_up=LINK_FAILURES_BEFORE_GIVING_UP,
):
    """Read every meter of every bus once, within ``budget`` seconds.

    ``buses`` holds Bus objects or tuples ``(transport, driver or factory,
    addresses[, name])``. ``request_timeout`` (seconds), when given, is set
    as the timeout of every driver. ``retry_checksum`` allows one retry of a
    meter whose reply failed its checksum. Returns a PollResult.
    """
    if budget <= 0:
        raise ValidationError(f"budget must be positive, got {budget}")
    buses = [_as_bus(bus) for bus in buses]
    names = [bus.name for bus in buses]
    if len(set(names)) != len(names):
        raise ValidationError("bus names must be unique in a cycle (give each Bus a name)")
    started = time.monotonic()
    deadline = started + budget
    workers = [
        _BusWorker(bus, deadline, request_timeout, retry_checksum, link_failures_before_giving_up)
        for bus in buses
    ]
    for worker in workers:
        worker.peers = workers
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(max(0.0, deadline + OVERRUN_GRACE - time.monotonic()))
    result = PollResult({}, {}, [], [], 0.0, budget)
    for worker in workers:
        worker.collect_into(result)
    result.elapsed = time.monotonic() - started
    return result


def _as_bus(bus):
    if isinstance(bus, Bus):
        return bus
    try:
        return Bus(*bus)
    except TypeError as exc:
        raise ValidationError(
            f"a bus is (transport, driver or factory, addresses[, name]), got {bus!r}"
        ) from exc


def _make_driver(bus, request_timeout):
    driver = bus.driver
    if isinstance(driver, type) or not hasattr(driver, "read"):
        driver = driver(bus.transport)
    if request_timeout is not None:
        driver.timeout = request_timeout
    return driver


class _BusWorker(threading.Thread):
    """Reads the meters of one bus in order; results stay private until collected."""

    def __init__(self, bus, deadline, request_timeout, retry_checksum, link_failures_limit):
        super().__init__(name=f"poll {bus.name}", daemon=True)
        self.bus = bus
        self.deadline = deadline
        self.request_timeout = request_timeout
        self.retry_checksum = retry_checksum
        self.link_failures_limit = link_failures_limit
        self.lock = threading.Lock()
        self.readings = {}
        self.errors = {}
        self.durations = []
        self.retries = 0
        self.timeouts = {}  # address -> timeouts it cost
        self.timed_out_at = {}  # address -> when its timed-out request was sent
        self.late = {}  # address -> latency of its late reply
        self.peers = [self]  # every worker of the cycle (set by poll)
        self.first_pass_done = threading.Event()
        self.started = time.monotonic()
        self.elapsed = 0.0
        self.finished = False

    def run(self):
        started = self.started = time.monotonic()
        try:
            self._poll_all()
        except Exception as exc:  # e.g. the driver factory failed: report every meter
            with self.lock:
                for address in self.bus.addresses:
                    if address not in self.readings and address not in self.errors:
                        self.errors[address] = self._error(address, exc)
        finally:
            self.first_pass_done.set()
            with self.lock:
                self.elapsed = time.monotonic() - started
                self.finished = True

    def _poll_all(self):
        driver = _make_driver(self.bus, self.request_timeout)
        keys = self._address_keys(driver)
        link_failures = 0
        for address in self.bus.addresses:
            if not self._time_left_for_one_more():
                return  # the rest is skipped
            if link_failures >= self.link_failures_limit:
                self._record_error(address, TransportError("not tried: the bus link is down"))
                continue
            failure = self._attempt(driver, address)
            if failure is None:
                link_failures = 0
            else:
                link_failures = link_failures + 1 if _is_link_failure(failure) else 0
            self._note_late_replies(driver, keys)
        self.first_pass_done.set()
        self._retry_late_meters(driver, keys)

    def _attempt(self, driver, address):
        """Read one meter; record its reading or its error. Returns the error or None."""
        began = time.monotonic()
        try:
            reading = self._read(driver, address)
        except Exception as exc:
            if classify(exc) == ERROR_TIMEOUT:
                self.timeouts[address] = self.timeouts.get(address, 0) + 1
                sent_at = getattr(self.bus.transport, "last_sent_at", None)
                self.timed_out_at[address] = sent_at if sent_at is not None else began
            self._record_error(address, exc)
            return exc
        with self.lock:
            self.readings[address] = reading
            self.errors.pop(address, None)  # a retry that succeeded
            self.durations.append(time.monotonic() - began)
        return None

    def _address_keys(self, driver):
        """{address as replies spell it: address as the bus lists it}."""
        keys = {}
        for address in self.bus.addresses:
            try:
                keys[driver.address_key(address)] = address
            except Exception:  # a bad address fails its own read; no key needed
                continue
        return keys

    def _note_late_replies(self, driver, keys):
        """Meters that timed out and whose late reply the transport has set aside since."""
        take = getattr(self.bus.transport, "take_strays", None)
        reply_source = getattr(driver, "reply_source", None)
        if take is None or reply_source is None:
            return
        for stray in take():
            address = keys.get(reply_source(stray.frame))
            if address in self.timed_out_at and address not in self.late:
                self.late[address] = max(0.0, stray.received_at - self.timed_out_at[address])

    def _retry_late_meters(self, driver, keys):
        """One more read of each meter whose late reply proved it alive, in bus order."""
        self._listen_for_late_replies(driver, keys)
        retried = set()
        while True:
            waiting = [
                address
                for address in self.bus.addresses
                if address in self.late and address not in retried and address in self.errors
            ]
            if not waiting or not self._time_left_for_one_more():
                return
            address = waiting[0]
            retried.add(address)
            self.retries += 1
            usual = driver.timeout
            driver.timeout = self._retry_timeout(driver, self.late[address])
            try:
                failure = self._attempt(driver, address)
            finally:
                driver.timeout = usual
            if failure is not None:
                error = self.errors[address]
                late = f"retried once after a late reply ({self.late[address]:.2f} s)"
                self._record_error(address, failure, f"{late}: {error.message}")
            self._note_late_replies(driver, keys)

    def _listen_for_late_replies(self, driver, keys):
        """Take the late replies that came after the bus's last request.

        While other buses are still on their first pass the cycle goes on
        anyway, so this bus keeps listening (sending nothing) for the late
        replies of its timed-out meters, up to the stretched retry timeout
        after each one's request; alone, or once the others are done, it only
        takes what has already arrived.
        """
        listen = getattr(self.bus.transport, "listen", None)
        frame_length = getattr(driver, "frame_length", None)
        if not self.timed_out_at or listen is None or frame_length is None:
            return
        longest = self._retry_timeout(driver, float("inf"))  # the stretched timeout's cap
        while True:
            listen(frame_length)
            self._note_late_replies(driver, keys)
            silent = [a for a in self.timed_out_at if a not in self.late and a in self.errors]
            if not silent:
                return
            listen_until = min(max(self.timed_out_at[a] for a in silent) + longest, self.deadline)
            if time.monotonic() >= listen_until or not self._others_reading():
                return
            time.sleep(LISTEN_STEP)

    def _others_reading(self):
        return any(not peer.first_pass_done.is_set() for peer in self.peers if peer is not self)

    def _retry_timeout(self, driver, latency):
        usual = driver.timeout or getattr(self.bus.transport, "default_timeout", None) or 0.5
        return min(max(usual, latency * RETRY_LATENCY_MARGIN), usual * RETRY_TIMEOUT_FACTOR)

    def _time_left_for_one_more(self):
        now = time.monotonic()
        # a meter is started only if a read as long as the average one still fits
        expected = sum(self.durations) / len(self.durations) if self.durations else 0.0
        return now < self.deadline and now + expected <= self.deadline

    def _read(self, driver, address):
        try:
            reading = driver.read(address)
        except ChecksumError:
            if not self.retry_checksum or not self._time_left_for_one_more():
                raise
            self.retries += 1
            reading = driver.read(address)
        return reading

    def _record_error(self, address, exc, message=None):
        with self.lock:
            self.errors[address] = self._error(address, exc, message)

    def _error(self, address, exc, message=None):
        message = message or str(exc) or type(exc).__name__
        return MeterError(self.bus.name, address, classify(exc), message)

    def collect_into(self, result):
        with self.lock:
            name = self.bus.name
            stats = BusStats(name, len(self.bus.addresses), retries=self.retries)
            for address in self.bus.addresses:
                if address in self.readings:
                    result.readings[(name, address)] = self.readings[address]
                    stats.read += 1
                elif address in self.errors:
                    result.errors[(name, address)] = self.errors[address]
                    stats.failed += 1
                else:
                    result.skipped.append((name, address))
                    stats.skipped += 1
            for address, count in self.timeouts.items():
                result.timeouts[(name, address)] = count
            for address, latency in self.late.items():
                result.late_replies[(name, address)] = latency
            stats.timeouts = sum(self.timeouts.values())
            stats.late_replies = len(self.late)
            stats.overran = not self.finished
            stats.elapsed = self.elapsed if self.finished else time.monotonic() - self.started
            if self.durations:
                stats.mean_meter_time = sum(self.durations) / len(self.durations)
                stats.max_meter_time = max(self.durations)
            result.buses.append(stats)


def _is_link_failure(exc):
    return classify(exc) == ERROR_TRANSPORT
