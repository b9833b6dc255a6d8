"""Gateways and buses as a head-end configures them: transports, drivers, one read cycle.

The hardware addon describes each gateway (one RS-485 bus behind a
transparent TCP gateway, a Modbus TCP gateway or a local serial port) and
each meter on it (bus address and protocol profile) with plain values; this
module turns them into the core's transports and drivers and runs one read
cycle over many gateways with :func:`poller.poll` (one request in flight per
bus, all buses at once)::

    gateway = GatewaySpec("GW-1", TRANSPORT_TCP, PROTOCOL_MODBUS_RTU, host="10.0.0.7", port=4001)
    cycle = read_cycle([(gateway, [MeterSpec(7, "1", "generic"), MeterSpec(8, "2", "generic")])])
    cycle.readings[7]           # a drivers.base.MeterReading
    cycle.errors[8].kind        # poller.ERROR_TIMEOUT ...
    cycle.gateways_down         # names of the gateways whose link failed

Meters on one bus may be of different models: :class:`BusDriver` keeps one
driver per profile on the bus's one transport.
"""

import dataclasses
import datetime

from . import poller
from .drivers.dlt645 import DEFAULT_OPERATOR, DEFAULT_PASSWORD, Dlt645Driver
from .drivers.modbus import ModbusDriver
from .errors import MeterRefused, ProtocolError, ValidationError
from .protocols import dlt645 as dlt645_codec
from .protocols import modbus as modbus_codec
from .register_maps import CLOCK_FIELDS, builtin_names

TRANSPORT_TCP = "tcp"  # transparent serial-over-TCP gateway: raw bus bytes
TRANSPORT_MODBUS_TCP = "modbus_tcp"  # Modbus TCP (MBAP) server or TCP-to-RTU gateway
TRANSPORT_SERIAL = "serial"  # a local serial port (USB adapter, UART)
TRANSPORTS = (TRANSPORT_TCP, TRANSPORT_MODBUS_TCP, TRANSPORT_SERIAL)
TRANSPORT_LABELS = (
    (TRANSPORT_TCP, "Transparent TCP gateway"),
    (TRANSPORT_MODBUS_TCP, "Modbus TCP"),
    (TRANSPORT_SERIAL, "Serial port"),
)

PROTOCOL_MODBUS_RTU = "modbus-rtu"
PROTOCOL_MODBUS_TCP = "modbus-tcp"
PROTOCOL_DLT645 = "dlt645"
PROTOCOLS = (PROTOCOL_MODBUS_RTU, PROTOCOL_MODBUS_TCP, PROTOCOL_DLT645)
PROTOCOL_LABELS = (
    (PROTOCOL_MODBUS_RTU, "Modbus RTU"),
    (PROTOCOL_MODBUS_TCP, "Modbus TCP"),
    (PROTOCOL_DLT645, "DL/T 645-2007"),
)
#: the transports each protocol can run over
PROTOCOL_TRANSPORTS = {
    PROTOCOL_MODBUS_RTU: (TRANSPORT_TCP, TRANSPORT_SERIAL),
    PROTOCOL_MODBUS_TCP: (TRANSPORT_MODBUS_TCP,),
    PROTOCOL_DLT645: (TRANSPORT_TCP, TRANSPORT_SERIAL),
}
PARITIES = ("N", "E", "O")
#: the register map a Modbus meter without a profile is read with
DEFAULT_REGISTER_MAP = "generic"
#: a reply may take this long by default (seconds): short, a dead meter costs one
DEFAULT_REQUEST_TIMEOUT = 0.5


def register_map_names():
    """The register maps shipped with the core (Modbus profiles)."""
    return builtin_names()


@dataclasses.dataclass(frozen=True)
class GatewaySpec:
    """One bus: how to reach it and what it speaks.

    ``host``/``port`` for TCP kinds, ``device`` (e.g. ``/dev/ttyUSB0``) with
    ``baudrate``/``parity`` for a serial port. ``timeout`` is the reply
    deadline of one request (seconds).
    """

    name: str
    transport: str
    protocol: str
    host: str = None
    port: int = None
    device: str = None
    baudrate: int = 9600
    parity: str = "N"
    timeout: float = DEFAULT_REQUEST_TIMEOUT
    password: str = DEFAULT_PASSWORD  # DL/T 645: "PAP2P1P0", level then 6 hex digits
    operator: str = DEFAULT_OPERATOR

    def __post_init__(self):
        if self.protocol not in PROTOCOLS:
            raise ValidationError(
                f"gateway {self.name}: protocol must be one of {', '.join(PROTOCOLS)}, "
                f"got {self.protocol!r}"
            )
        if self.transport not in PROTOCOL_TRANSPORTS[self.protocol]:
            raise ValidationError(
                f"gateway {self.name}: {self.protocol} does not run over {self.transport!r} "
                f"(expected {' or '.join(PROTOCOL_TRANSPORTS[self.protocol])})"
            )
        if self.transport == TRANSPORT_SERIAL:
            if not self.device:
                raise ValidationError(f"gateway {self.name}: a serial port needs its device path")
            if self.parity not in PARITIES:
                raise ValidationError(
                    f"gateway {self.name}: parity must be one of {', '.join(PARITIES)}"
                )
            if not self.baudrate or self.baudrate <= 0:
                raise ValidationError(f"gateway {self.name}: the baud rate must be positive")
        else:
            if not self.host:
                raise ValidationError(f"gateway {self.name}: a TCP gateway needs its host")
            if not self.port or not 0 < int(self.port) < 65536:
                raise ValidationError(f"gateway {self.name}: TCP port must be 1..65535")
        if not self.timeout or self.timeout <= 0:
            raise ValidationError(f"gateway {self.name}: the reply timeout must be positive")


@dataclasses.dataclass(frozen=True)
class MeterSpec:
    """One meter of a bus: the caller's key for it, its bus address and its profile.

    ``profile`` is a register map name or dict for Modbus meters (None: the
    generic map); DL/T 645 meters ignore it.
    """

    key: object
    address: str
    profile: object = None


def check_address(protocol, address):
    """The bus address in its canonical text, or ValidationError naming the rule."""
    text = str(address or "").strip()
    if protocol == PROTOCOL_DLT645:
        try:
            normalized = dlt645_codec.normalize_address(text)
        except (ValidationError, ProtocolError) as exc:
            raise ValidationError(f"DL/T 645 address {address!r}: {exc}") from None
        if dlt645_codec.is_wildcard(normalized) or normalized == dlt645_codec.BROADCAST_ADDRESS:
            raise ValidationError(f"DL/T 645 address {address!r} is a wildcard or broadcast")
        return normalized
    return str(ModbusDriver.unit(text))


def open_transport(spec):
    """The core Transport of a gateway (nothing is opened before the first exchange)."""
    if spec.transport == TRANSPORT_SERIAL:
        from .transports.serial import SerialTransport

        transport = SerialTransport(
            spec.device, baudrate=spec.baudrate, parity=spec.parity, timeout=spec.timeout
        )
    elif spec.transport == TRANSPORT_MODBUS_TCP:
        from .transports.modbus_tcp import ModbusTcpTransport

        transport = ModbusTcpTransport(spec.host, spec.port, timeout=spec.timeout)
    else:
        from .transports.tcp import TcpTransport

        transport = TcpTransport(spec.host, spec.port, timeout=spec.timeout)
    transport.name = spec.name
    return transport


class BusDriver:
    """Every driver one bus needs, on the bus's one transport.

    Offers the MeterDriver operations for any address of the bus; a Modbus
    meter is served by the driver of its register map (``profiles``:
    ``{address: profile}``). Setting :attr:`timeout` sets it on every driver
    (the poller does).
    """

    def __init__(self, transport, spec, profiles=None):
        self.transport = transport
        self.spec = spec
        self.profiles = {
            str(address): profile or DEFAULT_REGISTER_MAP
            for address, profile in (profiles or {}).items()
        }
        self._drivers = {}
        self._timeout = spec.timeout

    @property
    def timeout(self):
        return self._timeout

    @timeout.setter
    def timeout(self, value):
        self._timeout = value
        for driver in self._drivers.values():
            driver.timeout = value

    @property
    def protocol(self):
        return self.spec.protocol

    def driver_for(self, address):
        """The driver of the meter at ``address`` (made on first use, then shared)."""
        if self.spec.protocol == PROTOCOL_DLT645:
            key = PROTOCOL_DLT645
        else:
            profile = self.profiles.get(str(address), DEFAULT_REGISTER_MAP)
            key = profile if isinstance(profile, str) else id(profile)
        driver = self._drivers.get(key)
        if driver is None:
            if self.spec.protocol == PROTOCOL_DLT645:
                driver = Dlt645Driver(
                    self.transport,
                    timeout=self._timeout,
                    password=self.spec.password,
                    operator=self.spec.operator,
                )
            else:
                driver = ModbusDriver(self.transport, profile, timeout=self._timeout)
            self._drivers[key] = driver
        return driver

    # -- what the poller and the command runner call ---------------------------------
    def address_key(self, address):
        """``address`` as replies spell it (the poller matches late replies with it)."""
        return self.driver_for(address).address_key(address)

    @property
    def frame_length(self):
        """The framing function of the bus's protocol (the poller listens for late replies)."""
        return self.driver_for(next(iter(self.profiles), None)).frame_length

    def reply_source(self, frame):
        """The address of the meter an intact reply frame comes from (else None)."""
        any_address = next(iter(self.profiles), None)
        return self.driver_for(any_address).reply_source(frame)

    def read(self, address):
        return self.driver_for(address).read(address)

    def set_relay(self, address, action, deadline=None):
        driver = self.driver_for(address)
        if self.spec.protocol == PROTOCOL_DLT645:
            return driver.set_relay(address, action, deadline=deadline)
        return driver.set_relay(address, action)

    def read_purchase_count(self, address):
        return self.driver_for(address).read_purchase_count(address)

    def push_credit(self, address, amount, purchase_count):
        return self.driver_for(address).push_credit(address, amount, purchase_count)

    def sync_time(self, address, when):
        return self.driver_for(address).sync_time(address, when)

    def supports(self, address, what):
        """Whether the meter's profile offers ``what``: relay, credit, balance, clock, keep_power.

        DL/T 645 meters offer all of them (the vendor credit write included).
        """
        if self.spec.protocol == PROTOCOL_DLT645:
            return True
        profile = self.driver_for(address).profile
        if what == "relay":
            return bool(profile.relay_control)
        if what == "relay_state":
            return profile.has("relay_state")
        if what == "credit":
            return profile.credit is not None and profile.has("purchase_count")
        if what == "balance":
            return profile.has("balance")
        if what == "clock":
            return profile.clock is not None
        if what == "keep_power":
            return False  # no register map has a keep-power status point
        raise ValidationError(f"unknown capability {what!r}")

    def read_relay(self, address):
        """The relay as the meter reports it: RelayStatus."""
        driver = self.driver_for(address)
        if self.spec.protocol == PROTOCOL_DLT645:
            status = driver.read_status(address)
            return RelayStatus(
                closed=not status.relay_open,
                keep_power=status.keep_power,
                trip_command=status.relay_command_open,
            )
        if not driver.profile.has("relay_state"):
            return RelayStatus(None)
        return RelayStatus(closed=bool(driver.read_point(address, "relay_state")))

    def read_balance(self, address):
        """The meter's own remaining money, or None when it keeps none."""
        driver = self.driver_for(address)
        if self.spec.protocol == PROTOCOL_DLT645:
            return driver.read(address).balance
        if not driver.profile.has("balance"):
            return None
        return driver.read_point(address, "balance")

    def read_clock(self, address):
        """The meter's clock (naive, the meter's own local time)."""
        driver = self.driver_for(address)
        if self.spec.protocol == PROTOCOL_DLT645:
            return driver.read_clock(address)
        clock = driver.profile.clock
        if clock is None:
            raise ValidationError(f"clock reading is not supported by model {driver.profile.model}")
        values = driver.channel.execute(
            driver.unit(address),
            modbus_codec.READ_HOLDING_REGISTERS,
            clock.address,
            len(CLOCK_FIELDS),
            driver.timeout,
        )
        try:
            return datetime.datetime(*values)
        except (TypeError, ValueError) as exc:
            raise ProtocolError(f"clock registers {values} are not a date and time") from exc

    def probe(self, address):
        """One short request the meter answers if present (a refusal is an answer)."""
        driver = self.driver_for(address)
        try:
            if self.spec.protocol == PROTOCOL_DLT645:
                driver.read_item(address, dlt645_codec.DI_FORWARD_ACTIVE_TOTAL)
            else:
                driver.read_point(address, driver.profile.points[0].name)
        except MeterRefused:
            return True
        return True

    def close(self):
        self.transport.close()


@dataclasses.dataclass(frozen=True)
class RelayStatus:
    """What a meter says of its relay (None: it does not say)."""

    closed: bool | None
    keep_power: bool | None = None
    trip_command: bool | None = None  # DL/T 645: a remote trip is in force


def open_bus(spec, meters=()):
    """A BusDriver for ``spec`` serving ``meters`` (MeterSpec)."""
    return BusDriver(open_transport(spec), spec, {meter.address: meter.profile for meter in meters})


# --------------------------------------------------------------------------- read cycle


@dataclasses.dataclass
class CycleResult:
    """One read cycle over many gateways, keyed by the callers' meter keys."""

    readings: dict  # key -> MeterReading
    errors: dict  # key -> poller.MeterError
    skipped: list  # keys not tried (budget)
    gateways_down: set  # gateway names whose link failed for every meter tried
    gateways_up: set  # gateway names that carried at least one answer or refusal
    elapsed: float
    poll: poller.PollResult

    def summary(self):
        return (
            f"{len(self.readings)} read, {len(self.errors)} failed, {len(self.skipped)} skipped,"
            f" {len(self.gateways_down)} gateway(s) down in {self.elapsed:.2f} s"
        )


def read_cycle(gateways, budget=60.0, request_timeout=None, retry_checksum=True):
    """Read every meter of every gateway once (buses concurrently).

    ``gateways``: ``[(GatewaySpec, [MeterSpec, ...]), ...]``, gateway names
    unique. A gateway that cannot be reached fails its meters with
    ERROR_TRANSPORT and is listed in ``gateways_down``; a dead meter fails
    alone (ERROR_TIMEOUT) and costs one short timeout.
    """
    buses, keys, drivers = [], {}, []
    for spec, meters in gateways:
        if not meters:
            continue
        addresses = [str(meter.address) for meter in meters]
        driver = open_bus(spec, meters)
        drivers.append(driver)
        buses.append(poller.Bus(driver.transport, driver, addresses, spec.name))
        for meter in meters:
            keys[(spec.name, str(meter.address))] = meter.key
    try:
        result = poller.poll(
            buses, budget=budget, request_timeout=request_timeout, retry_checksum=retry_checksum
        )
    finally:
        for driver in drivers:
            driver.close()
    readings = {keys[where]: reading for where, reading in result.readings.items()}
    errors = {keys[where]: error for where, error in result.errors.items()}
    skipped = [keys[where] for where in result.skipped]
    answered = {bus for bus, _address in result.readings}
    answered |= {
        bus for (bus, _address), error in result.errors.items() if not _is_link_error(error)
    }
    failed = {bus for (bus, _address), error in result.errors.items() if _is_link_error(error)}
    return CycleResult(
        readings, errors, skipped, failed - answered, answered, result.elapsed, result
    )


def _is_link_error(error):
    return error.kind == poller.ERROR_TRANSPORT


def scan(spec, candidates, request_timeout=None):
    """The addresses among ``candidates`` that answer on the bus of ``spec``.

    One short request per candidate; a refusal counts as an answer. A bus
    that cannot be reached raises TransportError (nothing is guessed).
    """
    driver = open_bus(spec)
    if request_timeout is not None:
        driver.timeout = request_timeout
    found = []
    try:
        for candidate in candidates:
            address = check_address(spec.protocol, candidate)
            try:
                driver.probe(address)
            except (TimeoutError, ProtocolError):  # silence or garbage: nobody there
                continue
            found.append(address)
    finally:
        driver.close()
    return found
