"""A late reply is never taken for the next meter's answer, and never costs it its reading.

Real TCP sockets and pseudo-terminals to the simulator's gateways; the
simulator's ``late`` fault makes a meter answer after the poller's timeout,
so its reply arrives while the poller already waits for the next meter.
Each reading is compared with the SimMeter state to the last register digit.
"""

from decimal import ROUND_DOWN, Decimal

import pytest

from prepaid_energy_core.drivers.dlt645 import Dlt645Driver
from prepaid_energy_core.drivers.modbus import ModbusDriver
from prepaid_energy_core.poller import Bus, poll
from prepaid_energy_core.protocols import dlt645, modbus
from prepaid_energy_core.simulator.dlt645_responder import Dlt645Responder
from prepaid_energy_core.simulator.modbus_responder import ModbusRtuResponder
from prepaid_energy_core.simulator.server import (
    Gateway,
    SimulatorServer,
    make_gateway,
    meter_addresses,
)
from prepaid_energy_core.transports.modbus_tcp import ModbusTcpTransport
from prepaid_energy_core.transports.serial import SerialTransport
from prepaid_energy_core.transports.tcp import TcpTransport

TIMEOUT = 0.25
# seconds a late meter's reply comes after it should: after the timeout (0.25 s) and the
# drain (0.02 s), within the next request's timeout
LATE = 0.4


def cut(value):
    return value.quantize(Decimal("0.01"), rounding=ROUND_DOWN)


def hold_still(gateway):
    """Distinct registers per meter, relay open so nothing moves any more."""
    for number, meter in enumerate(gateway.meters.values(), start=1):
        with meter.lock:
            meter.advance()
            meter.relay_closed = False
            meter.total = Decimal("3000.004") + number * Decimal("17.17")
            meter.bands["peak"] = Decimal("70.7") + number
            meter.balance = Decimal("4.25") * number
            meter.purchase_count = 20 + number
    return gateway


def assert_true_reading(reading, meter):
    assert reading.total == cut(meter.total)
    assert reading.bands == {band: cut(value) for band, value in meter.bands.items()}
    assert reading.balance == cut(meter.balance)
    assert reading.purchase_count == meter.purchase_count


def bus_for(gateway, kind):
    if gateway.protocol == "modbus-tcp":
        return Bus(ModbusTcpTransport(gateway.host, gateway.port), ModbusDriver, gateway.addresses)
    driver = Dlt645Driver if gateway.protocol == "dlt645" else ModbusDriver
    if kind == "pty":
        transport = SerialTransport(gateway.pty_path, timeout=TIMEOUT)
    else:
        transport = TcpTransport(gateway.host, gateway.port, timeout=TIMEOUT)
    return Bus(transport, driver, gateway.addresses)


def run(gateway, kind="tcp", **options):
    bus = bus_for(gateway, kind)
    try:
        return bus, poll([bus], budget=60, request_timeout=TIMEOUT, **options)
    finally:
        bus.transport.close()


@pytest.fixture(scope="module")
def server():
    with SimulatorServer(tick_interval=None) as running:
        yield running


LAYOUT = [
    ("dlt645", "tcp"),
    ("dlt645", "pty"),
    ("modbus-rtu", "tcp"),
    ("modbus-rtu", "pty"),
    ("modbus-tcp", "tcp"),
]


@pytest.mark.parametrize(("protocol", "kind"), LAYOUT)
def test_late_reply_does_not_corrupt_the_next_meters_reading(server, protocol, kind):
    # Meter 2 answers every request 0.4 s late (timeout 0.25 s); meter 3 is dead.
    # Meter 2's reply arrives while the poller waits for meter 3. Before, such a
    # reply was taken for the next meter's answer (a protocol error for it, its
    # reading lost). Now it is set aside; as it proves meter 2 alive, meter 2 gets
    # one retry at the end of the bus, with a timeout stretched to its latency.
    first, late, dead, last = meter_addresses(protocol, 4)
    gateway = make_gateway(
        protocol, 4, faults=[f"late=every:1:{LATE}@{late}", f"dead=every:1@{dead}"]
    )
    hold_still(server.add_gateway(gateway, kind))
    bus, result = run(gateway, kind)
    for address in (first, last):
        assert_true_reading(result.readings[(bus.name, address)], gateway.meters[address])
    assert gateway.stats.late >= 1
    # the dead meter cost one request and one timeout, and was not retried
    assert result.errors[(bus.name, dead)].kind == "timeout"
    assert result.timeouts[(bus.name, dead)] == 1 and gateway.stats.unanswered == 1
    assert (bus.name, dead) not in result.late_replies
    assert result.timeouts[(bus.name, late)] == 1
    if protocol == "modbus-tcp":
        # pymodbus skips the late frame by its transaction id and does not hand it
        # back: no proof of life, so the late meter stays one timeout this cycle
        assert set(result.errors) == {(bus.name, late), (bus.name, dead)}
        assert result.buses[0].retries == 0
    else:
        assert set(result.errors) == {(bus.name, dead)}
        assert_true_reading(result.readings[(bus.name, late)], gateway.meters[late])
        assert result.late_replies[(bus.name, late)] > TIMEOUT
        assert result.buses[0].retries == 1 and result.buses[0].late_replies == 1


@pytest.mark.parametrize("protocol", ["dlt645", "modbus-rtu"])
def test_on_a_timed_bus_a_late_meter_delays_the_next_yet_every_live_meter_is_read(server, protocol):
    # With bus timing the late reply holds the line: the next meter's reply comes
    # after it, maybe past that meter's own deadline. Every meter whose late reply
    # shows up is retried once; the dead meter costs exactly one timeout.
    addresses = meter_addresses(protocol, 5)
    late, dead = addresses[1], addresses[3]
    gateway = make_gateway(
        protocol,
        5,
        baudrate=19200,
        faults=[f"late=every:1:{LATE}@{late}", f"dead=every:1@{dead}"],
    )
    hold_still(server.add_gateway(gateway))
    bus, result = run(gateway)
    assert list(result.errors) == [(bus.name, dead)]
    for address in addresses:
        if address != dead:
            assert_true_reading(result.readings[(bus.name, address)], gateway.meters[address])
    assert result.timeouts[(bus.name, dead)] == 1
    assert (bus.name, dead) not in result.late_replies
    assert gateway.stats.unanswered == 1  # one request to the dead meter, never repeated
    assert set(result.late_replies) <= {(bus.name, a) for a in addresses if a != dead}


@pytest.mark.parametrize("protocol", ["dlt645", "modbus-rtu", "modbus-tcp"])
def test_a_dead_meter_costs_one_timeout_and_no_retry(server, protocol):
    addresses = meter_addresses(protocol, 4)
    gateway = make_gateway(protocol, 4, faults=[f"dead=every:1@{addresses[0]}"])
    hold_still(server.add_gateway(gateway))
    bus, result = run(gateway)
    assert list(result.errors) == [(bus.name, addresses[0])]
    assert result.timeouts == {(bus.name, addresses[0]): 1}
    assert not result.late_replies and result.buses[0].retries == 0
    assert gateway.stats.unanswered == 1
    for address in addresses[1:]:
        assert_true_reading(result.readings[(bus.name, address)], gateway.meters[address])


# -- frames of other meters on the line ----------------------------------------------------
class DlT645Chatter(Dlt645Responder):
    """Before each reply, the bus carries a reply of another meter (a late one)."""

    def handle(self, request, now=None):
        reply = super().handle(request, now)
        if reply is None:
            return None
        frame = dlt645.parse_frame(reply)
        other = "000000000099" if frame.address != "000000000099" else "000000000098"
        return dlt645.build_frame(other, frame.control, frame.data) + reply


class RtuChatter(ModbusRtuResponder):
    """Before each reply, another unit's reply to the same request."""

    def handle(self, request):
        reply = super().handle(request)
        if reply is None:
            return None
        unit, pdu = modbus.parse_rtu_frame(reply)
        return modbus.rtu_frame(unit + 100, pdu) + reply


@pytest.mark.parametrize("kind", ["tcp", "pty"])
@pytest.mark.parametrize("protocol", ["dlt645", "modbus-rtu"])
def test_frames_from_other_addresses_are_skipped(server, protocol, kind):
    template = make_gateway(protocol, 3)
    meters = template.meters
    if protocol == "dlt645":
        responder = DlT645Chatter(meters)
    else:
        responder = RtuChatter({int(a): m for a, m in meters.items()}, "generic")
    gateway = Gateway(responder, meters, protocol=protocol)
    hold_still(server.add_gateway(gateway, kind))
    bus, result = run(gateway, kind)
    assert not result.errors
    for address, meter in meters.items():
        assert_true_reading(result.readings[(bus.name, address)], meter)
    # every reply was preceded by one frame of a meter that is not on this list
    assert not result.late_replies and result.buses[0].retries == 0


class StaleItemResponder(Dlt645Responder):
    """Before each read reply, a reply of the SAME meter for another item (a stale one)."""

    def handle(self, request, now=None):
        reply = super().handle(request, now)
        frame = dlt645.parse_frame(request)
        if reply is None or frame.function != dlt645.FN_READ:
            return reply
        asked = dlt645.decode_di(frame.data)
        other = dlt645.DI_VOLTAGE_A if asked != dlt645.DI_VOLTAGE_A else dlt645.DI_CURRENT_A
        stale = dlt645.build_read_reply(frame.address, other, bytes(dlt645.data_item(other).length))
        return stale + reply


def test_a_stale_reply_of_the_same_meter_for_another_item_is_skipped(server):
    # DL/T 645 replies carry their data identifier: a late reply of the SAME meter
    # to an earlier item is never taken for the item asked now
    template = make_gateway("dlt645", 2)
    gateway = Gateway(StaleItemResponder(template.meters), template.meters, protocol="dlt645")
    hold_still(server.add_gateway(gateway))
    bus, result = run(gateway)
    assert not result.errors
    for address, meter in gateway.meters.items():
        reading = result.readings[(bus.name, address)]
        assert_true_reading(reading, meter)
        assert reading.voltage == meter.voltage  # not the stale 0 V


@pytest.mark.parametrize("protocol", ["dlt645", "modbus-rtu"])
def test_a_bus_done_early_listens_for_its_last_meters_late_reply(server, protocol):
    # Bus A: meter 3 (its last) is late, meter 2 dead. Its late reply comes after
    # A's last request; A is done early while bus B (slow: 1200 baud, 50 ms
    # turnaround) still reads, so A listens meanwhile, sending nothing: the late
    # reply proves meter 3 alive and its retry reads it. The dead meter still
    # cost one request and one timeout. (Without the listening, meter 3 was lost.)
    first, dead, late = meter_addresses(protocol, 3)
    fast = make_gateway(protocol, 3, faults=[f"late=every:1:{LATE}@{late}", f"dead=every:1@{dead}"])
    # a few seconds of reading on bus B: 4 Modbus reads at 1200 baud, 48 DL/T 645
    # requests at 9600 baud (its own, longer timeout)
    baud = 1200 if protocol == "modbus-rtu" else 9600
    slow = make_gateway(protocol, 4, gateway_index=1, baudrate=baud, turnaround=0.05)
    hold_still(server.add_gateway(fast))
    hold_still(server.add_gateway(slow))
    driver = Dlt645Driver if protocol == "dlt645" else ModbusDriver
    buses = [
        bus_for(fast, "tcp"),
        Bus(TcpTransport(slow.host, slow.port, timeout=2.0), driver, slow.addresses),
    ]
    try:
        result = poll(buses, budget=60)
    finally:
        for bus in buses:
            bus.transport.close()
    name = buses[0].name
    assert list(result.errors) == [(name, dead)]
    assert result.timeouts[(name, dead)] == 1 and fast.stats.unanswered == 1
    assert_true_reading(result.readings[(name, late)], fast.meters[late])
    assert result.late_replies[(name, late)] > TIMEOUT
    for address, meter in slow.meters.items():
        assert_true_reading(result.readings[(buses[1].name, address)], meter)


def test_a_bus_alone_does_not_wait_for_a_late_reply_after_its_last_request(server):
    # no other bus is reading: waiting would only make the cycle longer, so the
    # last meter's late reply (due after the bus is done) is not waited for
    first, late = meter_addresses("modbus-rtu", 2)
    gateway = make_gateway("modbus-rtu", 2, faults=[f"late=every:1:{LATE}@{late}"])
    hold_still(server.add_gateway(gateway))
    bus, result = run(gateway)
    assert_true_reading(result.readings[(bus.name, first)], gateway.meters[first])
    assert list(result.errors) == [(bus.name, late)]
    assert result.errors[(bus.name, late)].kind == "timeout"
    assert result.timeouts == {(bus.name, late): 1} and result.buses[0].retries == 0
