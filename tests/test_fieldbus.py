"""Gateway and meter settings into transports and drivers; one read cycle over several
simulated gateways (real TCP); a bus scan."""

from decimal import Decimal

import pytest

from prepaid_energy_core import poller
from prepaid_energy_core.errors import ValidationError
from prepaid_energy_core.fieldbus import (
    PROTOCOL_DLT645,
    PROTOCOL_MODBUS_RTU,
    PROTOCOL_MODBUS_TCP,
    TRANSPORT_MODBUS_TCP,
    TRANSPORT_SERIAL,
    TRANSPORT_TCP,
    GatewaySpec,
    MeterSpec,
    check_address,
    read_cycle,
    register_map_names,
    scan,
)
from prepaid_energy_core.simulator.server import SimulatorServer, make_gateway


@pytest.fixture(scope="module")
def server():
    with SimulatorServer(tick_interval=None) as running:
        yield running


def spec_of(gateway, **values):
    transport = TRANSPORT_MODBUS_TCP if gateway.protocol == PROTOCOL_MODBUS_TCP else TRANSPORT_TCP
    return GatewaySpec(
        gateway.name, transport, gateway.protocol, gateway.host, gateway.port, timeout=0.3, **values
    )


def test_gateway_settings_are_checked():
    with pytest.raises(ValidationError, match="does not run over"):
        GatewaySpec("g", TRANSPORT_MODBUS_TCP, PROTOCOL_DLT645, "h", 1)
    with pytest.raises(ValidationError, match="device path"):
        GatewaySpec("g", TRANSPORT_SERIAL, PROTOCOL_MODBUS_RTU)
    with pytest.raises(ValidationError, match="parity"):
        GatewaySpec("g", TRANSPORT_SERIAL, PROTOCOL_DLT645, device="/dev/x", parity="X")
    with pytest.raises(ValidationError, match="port"):
        GatewaySpec("g", TRANSPORT_TCP, PROTOCOL_MODBUS_RTU, "h", 70000)
    with pytest.raises(ValidationError, match="protocol"):
        GatewaySpec("g", TRANSPORT_TCP, "iec-62056", "h", 1)
    assert "generic" in register_map_names()


def test_addresses_are_checked_per_protocol():
    assert check_address(PROTOCOL_MODBUS_RTU, " 7 ") == "7"
    assert check_address(PROTOCOL_DLT645, "000000000123") == "000000000123"
    with pytest.raises(ValidationError):
        check_address(PROTOCOL_MODBUS_RTU, "248")
    with pytest.raises(ValidationError):
        check_address(PROTOCOL_DLT645, "AAAAAAAAAAAA")
    with pytest.raises(ValidationError):
        check_address(PROTOCOL_DLT645, "1234567890123")
    assert check_address(PROTOCOL_DLT645, "12") == "000000000012"  # the standard pads


def test_one_cycle_over_several_gateways_reports_every_meter(server):
    modbus = server.add_gateway(make_gateway(PROTOCOL_MODBUS_RTU, 3, gateway_index=0))
    dlt = server.add_gateway(make_gateway(PROTOCOL_DLT645, 2, gateway_index=1))
    mbtcp = server.add_gateway(make_gateway(PROTOCOL_MODBUS_TCP, 1, gateway_index=2))
    modbus.meters["2"].dead = True
    with modbus.meters["3"].lock:
        modbus.meters["3"].total = Decimal("123.45")
        modbus.meters["3"].relay_closed = False
    # a gateway nobody listens on: its port was freed
    gone = server.add_gateway(make_gateway(PROTOCOL_MODBUS_RTU, 2, gateway_index=3))
    server.call(gone._close)
    cycle = read_cycle(
        [
            (spec_of(modbus), [MeterSpec(f"m{a}", a, "generic") for a in modbus.addresses]),
            (spec_of(dlt), [MeterSpec(f"d{a}", a) for a in dlt.addresses]),
            (spec_of(mbtcp), [MeterSpec("t1", "1")]),
            (spec_of(gone), [MeterSpec("g1", "1"), MeterSpec("g2", "2")]),
        ],
        budget=20,
    )
    assert set(cycle.readings) == {"m1", "m3", "t1", *(f"d{a}" for a in dlt.addresses)}
    assert cycle.readings["m3"].total == Decimal("123.45")
    assert cycle.readings["m3"].relay_closed is False
    assert cycle.errors["m2"].kind == poller.ERROR_TIMEOUT
    assert {cycle.errors[k].kind for k in ("g1", "g2")} == {poller.ERROR_TRANSPORT}
    assert cycle.gateways_down == {gone.name}
    assert {modbus.name, dlt.name, mbtcp.name} <= cycle.gateways_up
    assert cycle.skipped == []


def test_scan_lists_the_addresses_that_answer(server):
    gateway = server.add_gateway(make_gateway(PROTOCOL_MODBUS_RTU, 4, gateway_index=5))
    gateway.meters["3"].dead = True
    assert scan(spec_of(gateway), [str(n) for n in range(1, 7)], 0.2) == ["1", "2", "4"]
    dlt = server.add_gateway(make_gateway(PROTOCOL_DLT645, 2, gateway_index=6))
    candidates = [*dlt.addresses, "000006000099"]
    assert scan(spec_of(dlt), candidates, 0.2) == dlt.addresses


def test_slow_meters_proven_alive_by_their_late_replies_are_read(server):
    # the meter answers after 0.35 s, the request timeout is 0.2 s: the first try times out,
    # the late reply proves the meter alive and the poller retries it with a longer timeout
    # (through the BusDriver, which tells the poller whose reply a late frame is). Another
    # bus reads meanwhile: the slow bus listens for its late reply until that one is done.
    slow = server.add_gateway(
        make_gateway(PROTOCOL_MODBUS_RTU, 1, gateway_index=8, baudrate=9600, turnaround=0.35)
    )
    busy = server.add_gateway(
        make_gateway(PROTOCOL_MODBUS_RTU, 12, gateway_index=9, baudrate=9600, turnaround=0.02)
    )
    plan = [
        (
            GatewaySpec(g.name, TRANSPORT_TCP, g.protocol, g.host, g.port, timeout=0.2),
            [MeterSpec((g.name, address), address) for address in g.addresses],
        )
        for g in (slow, busy)
    ]
    cycle = read_cycle(plan, budget=30)
    assert (slow.name, "1") in cycle.readings, cycle.errors
    assert len(cycle.readings) == 13
    assert (slow.name, "1") in cycle.poll.late_replies
