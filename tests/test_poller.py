"""The poller against simulated gateways: many buses at once, both protocols,
over real TCP sockets and pseudo-terminals, with the real drivers."""

from decimal import ROUND_DOWN, Decimal

import pytest

from prepaid_energy_core.drivers.dlt645 import Dlt645Driver
from prepaid_energy_core.drivers.modbus import ModbusDriver
from prepaid_energy_core.errors import (
    ChecksumError,
    MeterRefused,
    ProtocolError,
    TransportError,
    TransportTimeout,
    ValidationError,
)
from prepaid_energy_core.poller import Bus, classify, poll
from prepaid_energy_core.simulator.server import SimulatorServer, make_gateway
from prepaid_energy_core.transports.modbus_tcp import ModbusTcpTransport
from prepaid_energy_core.transports.serial import SerialTransport
from prepaid_energy_core.transports.tcp import TcpTransport

TIMEOUT = 0.25  # short, yet far above a reply's few ms on a loaded machine


def cut(value):
    return value.quantize(Decimal("0.01"), rounding=ROUND_DOWN)


def hold_still(gateway, index):
    """Registers unique across the whole test (gateway index in them), relay open."""
    for number, meter in enumerate(gateway.meters.values(), start=1):
        with meter.lock:
            meter.advance()
            meter.relay_closed = False
            meter.total = Decimal(1000 * index) + number * Decimal("1.23")
            meter.bands["flat"] = Decimal(100 * index + number)
            meter.balance = Decimal(index) - Decimal("0.5") * number
            meter.purchase_count = number
    return gateway


def assert_true_reading(reading, meter):
    assert reading.total == cut(meter.total)
    assert reading.bands == {band: cut(value) for band, value in meter.bands.items()}
    assert reading.balance == cut(meter.balance)
    assert reading.purchase_count == meter.purchase_count
    assert reading.relay_closed is False


def bus_for(gateway, kind, timeout=TIMEOUT):
    if gateway.protocol == "dlt645":
        driver = Dlt645Driver
        if kind == "pty":
            transport = SerialTransport(gateway.pty_path, 2400, "E", timeout=timeout)
        else:
            transport = TcpTransport(gateway.host, gateway.port, timeout=timeout)
    else:
        driver = ModbusDriver
        if gateway.protocol == "modbus-tcp":
            transport = ModbusTcpTransport(gateway.host, gateway.port, timeout=timeout)
        elif kind == "pty":
            transport = SerialTransport(gateway.pty_path, timeout=timeout)
        else:
            transport = TcpTransport(gateway.host, gateway.port, timeout=timeout)
    return Bus(transport, driver, gateway.addresses)


def close_all(buses):
    for bus in buses:
        bus.transport.close()


@pytest.fixture(scope="module")
def server():
    with SimulatorServer(tick_interval=None) as running:
        yield running


# protocol, gateway transport
LAYOUT = [
    ("dlt645", "tcp"),
    ("dlt645", "pty"),
    ("modbus-rtu", "tcp"),
    ("modbus-rtu", "pty"),
    ("modbus-tcp", "tcp"),
]


def test_polls_many_gateways_of_both_protocols_at_once(server):
    # 15 buses x 4 meters: three of each (protocol, transport)
    gateways, buses = [], []
    for index in range(15):
        protocol, kind = LAYOUT[index % len(LAYOUT)]
        gateway = make_gateway(protocol, 4, gateway_index=index)
        server.add_gateway(hold_still(gateway, index), kind)
        gateways.append(gateway)
        buses.append(bus_for(gateway, kind))
    try:
        result = poll(buses, budget=30, request_timeout=TIMEOUT)
    finally:
        close_all(buses)
    assert not result.errors and not result.skipped
    assert len(result.readings) == 60
    for bus, gateway in zip(buses, gateways):
        for address, meter in gateway.meters.items():
            assert_true_reading(result.readings[(bus.name, address)], meter)
    assert [stats.read for stats in result.buses] == [4] * 15
    assert all(stats.mean_meter_time > 0 and not stats.overran for stats in result.buses)


@pytest.mark.parametrize(("protocol", "kind"), LAYOUT)
def test_dead_meter_is_a_timeout_and_the_bus_goes_on(server, protocol, kind):
    gateway = make_gateway(protocol, 4, gateway_index=50)
    server.add_gateway(hold_still(gateway, 50), kind)
    dead = gateway.meters[gateway.addresses[1]]
    dead.dead = True
    bus = bus_for(gateway, kind)
    try:
        result = poll([bus], budget=30, request_timeout=TIMEOUT)
    finally:
        close_all([bus])
    error = result.errors[(bus.name, dead.address)]
    assert error.kind == "timeout"
    assert list(result.errors) == [(bus.name, dead.address)]
    for address in (gateway.addresses[0], *gateway.addresses[2:]):
        assert_true_reading(result.readings[(bus.name, address)], gateway.meters[address])
    # a dead meter costs one request (one short timeout), never retries
    assert gateway.stats.unanswered == 1


def test_budget_skips_the_meters_it_cannot_reach(server):
    # 9600 baud, 50 ms turnaround: a Modbus read of one meter (coil read 8 + 6
    # bytes, holding read 8 + 39 bytes) takes 61 x 11/9600 s + 2 x (4 ms t3.5 +
    # 50 ms) ~ 0.18 s with the trailing silences: 12 meters need ~2.2 s, a
    # 0.6 s budget reaches only the first few.
    gateway = make_gateway("modbus-rtu", 12, baudrate=9600, turnaround=0.05)
    server.add_gateway(hold_still(gateway, 60))
    bus = bus_for(gateway, "tcp", timeout=0.5)
    try:
        result = poll([bus], budget=0.6)
    finally:
        close_all([bus])
    read = [address for _bus, address in result.readings]
    skipped = [address for _bus, address in result.skipped]
    assert not result.errors
    assert read and skipped
    # meters are taken in order: what was read is a prefix, the rest is skipped, none lost
    assert read + skipped == gateway.addresses
    assert result.buses[0].skipped == len(skipped)
    for address in read:
        assert_true_reading(result.readings[(bus.name, address)], gateway.meters[address])


def test_unreachable_gateway_gives_transport_errors_then_stops_trying(server):
    gateway = server.add_gateway(make_gateway("modbus-rtu", 5, gateway_index=70))
    port = gateway.port
    server.call(gateway._close)  # nobody listens any more: connections are refused
    bus = Bus(TcpTransport("127.0.0.1", port, timeout=TIMEOUT), ModbusDriver, gateway.addresses)
    result = poll([bus], budget=10, link_failures_before_giving_up=3)
    errors = [result.errors[(bus.name, a)] for a in gateway.addresses]
    assert {e.kind for e in errors} == {"transport"}
    assert ["cannot connect" in e.message for e in errors] == [True, True, True, False, False]
    assert "not tried" in errors[4].message


def test_refused_request_is_reported_as_refused(server):
    # the Eastron map reads input registers the generic simulated meter does not have:
    # it answers exception 02 ILLEGAL DATA ADDRESS
    gateway = server.add_gateway(make_gateway("modbus-rtu", 2, gateway_index=80))
    transport = TcpTransport(gateway.host, gateway.port, timeout=TIMEOUT)
    with transport:
        result = poll(
            [(transport, lambda t: ModbusDriver(t, "eastron_sdm630"), gateway.addresses)],
            budget=10,
        )
    assert {e.kind for e in result.errors.values()} == {"refused"}
    assert len(result.errors) == 2


def test_driver_instance_and_tuple_buses_are_accepted(server):
    gateway = make_gateway("dlt645", 2, gateway_index=90)
    server.add_gateway(hold_still(gateway, 90))
    with TcpTransport(gateway.host, gateway.port, timeout=TIMEOUT) as transport:
        driver = Dlt645Driver(transport)
        result = poll([(transport, driver, gateway.addresses, "bus-90")], budget=10)
    assert driver.timeout is None  # no request_timeout given: the driver is left as it was
    for address, meter in gateway.meters.items():
        assert_true_reading(result.readings[("bus-90", address)], meter)
    assert result.summary().startswith("2 read, 0 failed, 0 skipped")


def test_a_failing_driver_factory_fails_its_bus_only(server):
    good = make_gateway("modbus-rtu", 2, gateway_index=95)
    server.add_gateway(hold_still(good, 95))

    def broken_factory(transport):
        raise RuntimeError("profile missing")

    with TcpTransport(good.host, good.port, timeout=TIMEOUT) as transport:
        result = poll(
            [
                (transport, ModbusDriver, good.addresses, "good"),
                (TcpTransport("127.0.0.1", 9), broken_factory, ["1", "2"], "broken"),
            ],
            budget=10,
        )
    assert len(result.readings) == 2
    assert {k: e.kind for k, e in result.errors.items()} == {
        ("broken", "1"): "internal",
        ("broken", "2"): "internal",
    }


def test_bad_cycles_are_refused():
    transport = TcpTransport("127.0.0.1", 9)
    with pytest.raises(ValidationError, match="unique"):
        poll([(transport, Dlt645Driver, ["1"]), (transport, Dlt645Driver, ["2"])])
    with pytest.raises(ValidationError, match="budget"):
        poll([], budget=0)
    with pytest.raises(ValidationError, match="a bus is"):
        poll([(transport,)])
    with pytest.raises(ValidationError, match="twice"):
        poll([(transport, Dlt645Driver, ["1", "2", "1"])])


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (TransportTimeout("t"), "timeout"),
        (TimeoutError(), "timeout"),
        (ChecksumError("c"), "checksum"),
        (ProtocolError("p"), "protocol"),
        (MeterRefused("r", code=2), "refused"),
        (TransportError("x"), "transport"),
        (ConnectionResetError(), "transport"),
        (KeyError("bug"), "internal"),
    ],
)
def test_errors_are_classified(exc, kind):
    assert classify(exc) == kind
