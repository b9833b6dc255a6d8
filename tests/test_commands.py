"""Remote commands against simulated meters over real TCP: observe, plan, execute, verify,
with the simulator's faults (lost request, lost acknowledgement, CRC errors, gateway
restart, dead meter). Every case checks what the simulated meter really applied."""

import datetime
import time
import zoneinfo
from decimal import Decimal

import pytest

from prepaid_energy_core import commands
from prepaid_energy_core.errors import ValidationError
from prepaid_energy_core.fieldbus import (
    PROTOCOL_DLT645,
    PROTOCOL_MODBUS_RTU,
    TRANSPORT_TCP,
    GatewaySpec,
    MeterSpec,
    open_bus,
)
from prepaid_energy_core.simulator.faults import FaultPlan
from prepaid_energy_core.simulator.server import SimulatorServer, make_gateway

TIMEOUT = 0.3
#: the simulator's meters keep host local time: deadlines in that zone
HOST_ZONE = time.tzname[0] if time.tzname[0] in zoneinfo.available_timezones() else "UTC"


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None, microsecond=0)


@pytest.fixture(scope="module")
def server():
    with SimulatorServer(tick_interval=None) as running:
        yield running


def serve(server, protocol, meters=2, **options):
    gateway = make_gateway(protocol, meters, gateway_index=len(server.gateways), **options)
    server.add_gateway(gateway)
    return gateway


def bus_of(gateway):
    spec = GatewaySpec(
        gateway.name, TRANSPORT_TCP, gateway.protocol, gateway.host, gateway.port, timeout=TIMEOUT
    )
    return open_bus(spec, [MeterSpec(a, a, "generic") for a in gateway.addresses])


def run(bus, spec, now=None):
    """One full pass as the runner makes it: observe, plan, (record), execute."""
    now = now or utcnow()
    planned = commands.plan(spec, commands.observe(bus, spec, now))
    if planned.kind != commands.PLAN_SEND:
        return planned, None
    return planned, commands.execute(bus, spec, planned, now)


def applied(meter, action=None):
    return [entry[0] for entry in meter.commands_applied if action in (None, entry[0])]


def test_trip_is_sent_once_and_verified_by_the_relay_bits(server):
    gateway = serve(server, PROTOCOL_MODBUS_RTU)
    meter = gateway.meters["1"]
    with open_close(bus_of(gateway)) as bus:
        spec = commands.CommandSpec(1, "1", commands.TRIP, utcnow() + datetime.timedelta(minutes=5))
        planned, outcome = run(bus, spec)
        assert planned.kind == commands.PLAN_SEND
        assert outcome.state == commands.VERIFIED, outcome.message
        assert meter.relay_closed is False
        # a second pass (a retry) sees the effect and sends nothing
        planned, outcome = run(bus, spec)
        assert planned.kind == commands.PLAN_DONE and outcome is None
    assert applied(meter) == ["trip"]


def test_lost_acknowledgement_is_read_back_not_resent(server):
    gateway = serve(server, PROTOCOL_MODBUS_RTU)
    meter = gateway.meters["2"]
    # request 1 observes the relay, request 2 is the trip: the meter acts, the reply is lost
    gateway.faults = FaultPlan(["timeout=every:2@2"])
    with open_close(bus_of(gateway)) as bus:
        spec = commands.CommandSpec(2, "2", commands.TRIP)
        _planned, outcome = run(bus, spec)
    assert outcome.state == commands.VERIFIED, outcome.message
    assert "acknowledgement lost" in outcome.message
    assert applied(meter) == ["trip"]
    assert gateway.faults.injected["timeout"] == 1


def test_lost_request_then_retry_applies_once(server):
    gateway = serve(server, PROTOCOL_MODBUS_RTU)
    meter = gateway.meters["1"]
    gateway.faults = FaultPlan(["lost=every:2@1"])  # the trip never reaches the meter
    with open_close(bus_of(gateway)) as bus:
        spec = commands.CommandSpec(3, "1", commands.TRIP)
        _planned, outcome = run(bus, spec)
        assert outcome.state == commands.SENT, outcome.message
        assert "not applied yet" in outcome.message
        assert meter.relay_closed is True
        gateway.faults = FaultPlan()
        _planned, outcome = run(bus, spec)
    assert outcome.state == commands.VERIFIED
    assert applied(meter) == ["trip"]


def test_crc_error_on_the_acknowledgement(server):
    gateway = serve(server, PROTOCOL_MODBUS_RTU)
    meter = gateway.meters["1"]
    with meter.lock:
        meter.relay_closed = False
    gateway.faults = FaultPlan(["crc=every:2@1"])  # the close acknowledgement is corrupted
    with open_close(bus_of(gateway)) as bus:
        _planned, outcome = run(bus, commands.CommandSpec(4, "1", commands.CLOSE))
    assert outcome.state == commands.VERIFIED, outcome.message
    assert meter.relay_closed is True
    assert applied(meter) == ["close"]


def test_credit_push_carries_count_plus_one_and_is_verified(server):
    gateway = serve(server, PROTOCOL_MODBUS_RTU)
    meter = gateway.meters["1"]
    with meter.lock:
        meter.purchase_count = 7
        meter.balance = Decimal("3.00")
    with open_close(bus_of(gateway)) as bus:
        spec = commands.CommandSpec(5, "1", commands.PUSH_CREDIT, amount=Decimal("50.00"))
        planned, outcome = run(bus, spec)
    assert planned.target == 8
    assert outcome.state == commands.VERIFIED, outcome.message
    assert outcome.observation.purchase_count == 8
    assert meter.purchase_count == 8 and meter.balance == Decimal("53.00")


def test_credit_push_after_lost_acknowledgement_is_not_applied_twice(server):
    gateway = serve(server, PROTOCOL_MODBUS_RTU)
    meter = gateway.meters["2"]
    # requests: 1 count, 2 balance, 3 the push (applied, reply lost), 4.. read-back
    gateway.faults = FaultPlan(["timeout=every:3@2"])
    with open_close(bus_of(gateway)) as bus:
        spec = commands.CommandSpec(6, "2", commands.PUSH_CREDIT, amount=Decimal("20"))
        planned, outcome = run(bus, spec)
        assert outcome.state == commands.VERIFIED, outcome.message
        # the runner retries it as if the outcome had not been stored (a crash)
        gateway.faults = FaultPlan()
        again = commands.CommandSpec(
            6, "2", commands.PUSH_CREDIT, amount=Decimal("20"), last_target=planned.target
        )
        replanned, second = run(bus, again)
    assert replanned.kind == commands.PLAN_DONE and second is None
    assert applied(meter, "credit") == ["credit"]
    assert meter.balance == Decimal("20") and meter.purchase_count == 1


def test_credit_push_that_never_arrived_is_resent_with_the_same_count(server):
    gateway = serve(server, PROTOCOL_MODBUS_RTU)
    meter = gateway.meters["1"]
    with open_close(bus_of(gateway)) as bus:
        spec = commands.CommandSpec(
            7, "1", commands.PUSH_CREDIT, amount=Decimal("5"), last_target=1
        )
        planned, outcome = run(bus, spec)
    assert planned.kind == commands.PLAN_SEND and planned.target == 1
    assert outcome.state == commands.VERIFIED
    assert meter.purchase_count == 1


def test_credit_push_refused_when_the_count_moved_elsewhere(server):
    gateway = serve(server, PROTOCOL_MODBUS_RTU)
    meter = gateway.meters["1"]
    with meter.lock:
        meter.purchase_count = 5  # another channel sold two purchases since our attempt
    with open_close(bus_of(gateway)) as bus:
        spec = commands.CommandSpec(
            8, "1", commands.PUSH_CREDIT, amount=Decimal("5"), last_target=4
        )
        planned, outcome = run(bus, spec)
    assert planned.kind == commands.PLAN_FAIL and "moved" in planned.message
    assert outcome is None and meter.purchase_count == 5


def test_dead_meter_is_not_sent_anything(server):
    gateway = serve(server, PROTOCOL_MODBUS_RTU)
    meter = gateway.meters["1"]
    meter.dead = True
    with open_close(bus_of(gateway)) as bus:
        planned, outcome = run(bus, commands.CommandSpec(9, "1", commands.TRIP))
    assert planned.kind == commands.PLAN_WAIT and outcome is None
    assert applied(meter) == []


def test_gateway_restart_during_the_command(server):
    gateway = serve(server, PROTOCOL_MODBUS_RTU)
    meter = gateway.meters["1"]
    gateway.faults = FaultPlan(["restart=every:2:0.5@1"])  # the trip restarts the gateway
    with open_close(bus_of(gateway)) as bus:
        spec = commands.CommandSpec(10, "1", commands.TRIP)
        _planned, outcome = run(bus, spec)
        assert outcome.state in (commands.SENT, commands.ACKNOWLEDGED), outcome.message
        assert meter.relay_closed is True  # the gateway dropped the request
        gateway.faults = FaultPlan()
        deadline = utcnow() + datetime.timedelta(seconds=30)
        while True:  # the gateway comes back by itself
            _planned, outcome = run(bus, spec)
            if outcome is not None and outcome.state == commands.VERIFIED:
                break
            assert utcnow() < deadline, outcome
    assert applied(meter) == ["trip"]


def test_command_past_its_deadline_expires_unsent(server):
    gateway = serve(server, PROTOCOL_MODBUS_RTU)
    meter = gateway.meters["1"]
    now = utcnow()
    spec = commands.CommandSpec(
        11, "1", commands.TRIP, deadline=now - datetime.timedelta(seconds=1)
    )
    with open_close(bus_of(gateway)) as bus:
        planned = commands.plan(spec, commands.observe(bus, spec, now))
        outcome = commands.execute(bus, spec, planned, now)
    assert outcome.state == commands.EXPIRED and not outcome.sent
    assert applied(meter) == []


def test_dlt645_meter_refuses_a_late_duplicate(server):
    gateway = serve(server, PROTOCOL_DLT645)
    address = gateway.addresses[0]
    meter = gateway.meters[address]
    # the meter's clock (host local time in the simulator) is an hour past the deadline
    with meter.lock:
        meter.clock_offset = datetime.timedelta(hours=1)
    now = utcnow()
    spec = commands.CommandSpec(
        12, address, commands.TRIP, deadline=now + datetime.timedelta(minutes=5), zone=HOST_ZONE
    )
    with open_close(bus_of(gateway)) as bus:
        _planned, outcome = run(bus, spec, now)
    assert outcome.state == commands.FAILED and "refused" in outcome.message
    assert meter.relay_closed is True and applied(meter) == []


def test_dlt645_trip_is_verified_with_the_trip_command_bit(server):
    gateway = serve(server, PROTOCOL_DLT645)
    address = gateway.addresses[1]
    meter = gateway.meters[address]
    spec = commands.CommandSpec(
        13, address, commands.TRIP, deadline=utcnow() + datetime.timedelta(minutes=5)
    )
    with open_close(bus_of(gateway)) as bus:
        _planned, outcome = run(bus, spec)
        assert outcome.state == commands.VERIFIED, outcome.message
        assert outcome.observation.relay.trip_command is True
        keep = commands.CommandSpec(14, address, commands.KEEP_POWER_ON)
        _planned, outcome = run(bus, keep)
    assert outcome.state == commands.VERIFIED and meter.keep_power
    assert applied(meter) == ["trip", "keep_power_on"]


def test_keep_power_is_only_acknowledged_where_the_meter_cannot_show_it(server):
    gateway = serve(server, PROTOCOL_MODBUS_RTU)
    with open_close(bus_of(gateway)) as bus:
        _planned, outcome = run(bus, commands.CommandSpec(15, "1", commands.KEEP_POWER_ON))
    assert outcome.state == commands.ACKNOWLEDGED
    assert "cannot show" in outcome.message
    assert gateway.meters["1"].keep_power is True


def test_sync_time_is_verified_by_reading_the_clock(server):
    for protocol in (PROTOCOL_MODBUS_RTU, PROTOCOL_DLT645):
        gateway = serve(server, protocol)
        address = gateway.addresses[0]
        meter = gateway.meters[address]
        with meter.lock:
            meter.clock_offset = datetime.timedelta(minutes=-7)
        with open_close(bus_of(gateway)) as bus:
            spec = commands.CommandSpec(16, address, commands.SYNC_TIME, zone="Asia/Shanghai")
            _planned, outcome = run(bus, spec)
        assert outcome.state == commands.VERIFIED, (protocol, outcome.message)
        shanghai = spec.meter_time(utcnow())
        assert abs(meter.meter_time() - shanghai) < datetime.timedelta(seconds=10)


def test_read_now_returns_the_reading(server):
    gateway = serve(server, PROTOCOL_MODBUS_RTU)
    with open_close(bus_of(gateway)) as bus:
        _planned, outcome = run(bus, commands.CommandSpec(17, "1", commands.READ))
    assert outcome.state == commands.VERIFIED
    assert outcome.reading.address == "1"


def test_check_action_refuses_what_a_meter_cannot_take():
    with pytest.raises(ValidationError, match="valve"):
        commands.check_action(commands.TRIP, "water")
    with pytest.raises(ValidationError, match="water meters"):
        commands.check_action(commands.VALVE_CLOSE, "electricity")
    with pytest.raises(ValidationError, match="push credit"):
        commands.check_action(commands.PUSH_CREDIT, "electricity", {"relay"})
    commands.check_action(commands.VALVE_OPEN, "water", {"relay"})
    with pytest.raises(ValidationError, match="unknown command"):
        commands.check_action("explode")


def test_retry_delay_grows_and_is_capped():
    delays = [commands.retry_delay(n) for n in range(0, 10)]
    assert delays[0] == datetime.timedelta(0)
    assert delays[1:4] == [datetime.timedelta(seconds=s) for s in (5, 10, 20)]
    assert max(delays) == commands.RETRY_CAP
    assert delays == sorted(delays)


def test_buses_run_concurrently_and_one_failure_stops_nothing(server):
    first, second = serve(server, PROTOCOL_MODBUS_RTU), serve(server, PROTOCOL_MODBUS_RTU)
    buses = [bus_of(first), bus_of(second)]
    try:

        def work(bus, item):
            if item == "boom":
                raise RuntimeError("a driver bug")
            spec = commands.CommandSpec(item, item[1], commands.READ)
            return run(bus, spec)[1]

        jobs = {buses[0]: [(0, "1"), "boom", (0, "2")], buses[1]: [(1, "1")]}
        results = dict(commands.run_on_buses(jobs, work))
    finally:
        for bus in buses:
            bus.close()
    assert isinstance(results["boom"], RuntimeError)
    assert [results[key].state for key in ((0, "1"), (0, "2"), (1, "1"))] == ["verified"] * 3


class open_close:
    """``with open_close(bus) as bus``: the bus's transport is closed at the end."""

    def __init__(self, bus):
        self.bus = bus

    def __enter__(self):
        return self.bus

    def __exit__(self, *exc):
        self.bus.close()
