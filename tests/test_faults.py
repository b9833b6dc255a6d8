"""Fault injection: every injected fault ends as an error of that meter, never a value.

A poll cycle runs against simulated gateways (real TCP sockets and ptys, the
real drivers); each reading is compared with the SimMeter state to the last
digit of the register, and each injected fault must show up as an error.
"""

import random
import time
from decimal import ROUND_DOWN, Decimal

import pytest

from prepaid_energy_core.drivers.dlt645 import Dlt645Driver
from prepaid_energy_core.drivers.modbus import ModbusDriver
from prepaid_energy_core.errors import ChecksumError, ValidationError
from prepaid_energy_core.poller import poll
from prepaid_energy_core.protocols import dlt645, modbus
from prepaid_energy_core.simulator.faults import (
    FaultPlan,
    FaultRule,
    corrupt_checksum,
    garble,
    truncate,
)
from prepaid_energy_core.simulator.server import SimulatorServer, make_gateway, meter_addresses
from prepaid_energy_core.transports.modbus_tcp import ModbusTcpTransport
from prepaid_energy_core.transports.serial import SerialTransport
from prepaid_energy_core.transports.tcp import TcpTransport
from prepaid_energy_core.vocabulary import RELAY_TRIP

TIMEOUT = 0.25  # short, yet far above a reply's few ms on a loaded machine
DRIVERS = {"dlt645": Dlt645Driver, "modbus-rtu": ModbusDriver, "modbus-tcp": ModbusDriver}


def cut(value):
    """A 0.01-step register shows completed steps only (truncation toward zero)."""
    return value.quantize(Decimal("0.01"), rounding=ROUND_DOWN)


def hold_still(gateway, index=0):
    """Distinct register values per meter, relay open so nothing moves any more."""
    for number, meter in enumerate(gateway.meters.values(), start=1):
        with meter.lock:
            meter.advance()
            meter.relay_closed = False
            meter.total = Decimal("2000.007") + number * Decimal("13.13") + index
            meter.bands["valley"] = Decimal("500.5") + number
            meter.balance = Decimal("3.75") * number - Decimal("5")  # meter 1 is in overdraft
            meter.purchase_count = 10 + number
    return gateway


def assert_true_reading(reading, meter):
    """What was read is what the meter holds (registers cut to 0.01)."""
    assert reading.total == cut(meter.total)
    assert reading.bands == {band: cut(value) for band, value in meter.bands.items()}
    assert reading.balance == cut(meter.balance)
    assert reading.purchase_count == meter.purchase_count
    assert reading.relay_closed == meter.relay_closed


def transport_for(gateway, kind="tcp"):
    if gateway.protocol == "modbus-tcp":
        return ModbusTcpTransport(gateway.host, gateway.port, timeout=TIMEOUT)
    if kind == "pty":
        return SerialTransport(gateway.pty_path, timeout=TIMEOUT)
    return TcpTransport(gateway.host, gateway.port, timeout=TIMEOUT)


def poll_gateway(gateway, kind="tcp", **options):
    transport = transport_for(gateway, kind)
    with transport:
        bus = (transport, DRIVERS[gateway.protocol], gateway.addresses)
        return poll([bus], budget=30, request_timeout=TIMEOUT, **options)


def assert_no_wrong_value(result, gateway):
    for (_bus, address), reading in result.readings.items():
        assert_true_reading(reading, gateway.meters[address])
    assert len(result.readings) + len(result.errors) == len(gateway.meters)
    assert not result.skipped


@pytest.fixture(scope="module")
def server():
    with SimulatorServer(tick_interval=None) as running:
        yield running


@pytest.fixture(scope="module")
def requests_per_read(server):
    """How many requests one driver read of one meter takes, per protocol."""
    counts = {}
    for protocol in DRIVERS:
        gateway = server.add_gateway(make_gateway(protocol, 1))
        result = poll_gateway(gateway)
        assert len(result.readings) == 1
        counts[protocol] = gateway.stats.requests
    return counts


# (fault, error classes it may show as): a garbled reply may look like a
# frame with a bad checksum, a frame still incomplete, or no frame at all
REPLY_FAULTS = [
    ("lost", {"timeout"}),
    ("timeout", {"timeout"}),
    ("crc", {"checksum"}),
    ("truncate", {"timeout"}),
    ("garble", {"protocol", "checksum", "timeout"}),
]


@pytest.mark.parametrize("protocol", ["dlt645", "modbus-rtu"])
@pytest.mark.parametrize(("kind", "allowed"), REPLY_FAULTS)
def test_reply_fault_is_an_error_never_a_value(server, requests_per_read, protocol, kind, allowed):
    # every (2n+1)th reply damaged, n = requests per meter: about every other meter hit
    every = 2 * requests_per_read[protocol] + 1
    gateway = hold_still(
        server.add_gateway(make_gateway(protocol, 6, faults=[f"{kind}=every:{every}"]))
    )
    result = poll_gateway(gateway)
    assert_no_wrong_value(result, gateway)
    assert {error.kind for error in result.errors.values()} <= allowed
    # each damaged reply cost exactly its meter's reading: none slipped through
    assert len(result.errors) == gateway.faults.injected[kind] >= 1
    assert len(result.readings) >= 1


@pytest.mark.parametrize(("kind", "allowed"), [*REPLY_FAULTS, ("dead", {"timeout"})])
def test_faults_over_a_pty(server, requests_per_read, kind, allowed):
    every = 2 if kind == "dead" else 2 * requests_per_read["modbus-rtu"] + 1
    gateway = server.add_gateway(
        make_gateway("modbus-rtu", 5, faults=[f"{kind}=every:{every}"]), "pty"
    )
    result = poll_gateway(hold_still(gateway), "pty")
    assert_no_wrong_value(result, gateway)
    assert {error.kind for error in result.errors.values()} <= allowed
    assert len(result.errors) == gateway.faults.injected[kind] >= 1


@pytest.mark.parametrize("kind", ["timeout", "truncate", "garble"])
def test_modbus_tcp_faults_are_errors(server, requests_per_read, kind):
    every = 2 * requests_per_read["modbus-tcp"] + 1
    gateway = server.add_gateway(make_gateway("modbus-tcp", 5, faults=[f"{kind}=every:{every}"]))
    result = poll_gateway(hold_still(gateway))
    assert_no_wrong_value(result, gateway)
    assert len(result.errors) == gateway.faults.injected[kind] >= 1


@pytest.mark.parametrize("protocol", ["dlt645", "modbus-rtu", "modbus-tcp"])
def test_dead_meters_time_out_once_each(server, protocol):
    gateway = hold_still(server.add_gateway(make_gateway(protocol, 6, faults=["dead=every:3"])))
    result = poll_gateway(gateway)
    assert_no_wrong_value(result, gateway)
    dead = {address for address, meter in gateway.meters.items() if meter.dead}
    assert len(dead) == 2
    assert {address for _bus, address in result.errors} == dead
    assert {error.kind for error in result.errors.values()} == {"timeout"}
    # one request per dead meter per cycle, no retry
    assert gateway.stats.unanswered == 2


@pytest.mark.parametrize("protocol", ["dlt645", "modbus-rtu"])
def test_gateway_restart_is_a_transport_error(server, requests_per_read, protocol):
    # the gateway restarts on the (n+1)th request, n = requests per meter: during
    # meter 2's read; it then refuses connections for 0.3 s
    every = requests_per_read[protocol] + 1
    gateway = hold_still(
        server.add_gateway(make_gateway(protocol, 5, faults=[f"restart=every:{every}:0.3"]))
    )
    result = poll_gateway(gateway)
    assert_no_wrong_value(result, gateway)
    kinds = [result.errors[(b, a)].kind for b, a in sorted(result.errors, key=lambda k: k[1])]
    assert gateway.stats.restarts >= 1
    assert kinds and set(kinds) <= {"transport", "timeout"}
    assert result.readings  # meter 1 was read before the restart


@pytest.mark.parametrize("protocol", ["dlt645", "modbus-rtu"])
def test_one_meter_fault_leaves_the_others_alone(server, protocol):
    victim = meter_addresses(protocol, 4)[2]
    gateway = make_gateway(protocol, 4, faults=[f"crc=every:1@{victim}"])
    hold_still(server.add_gateway(gateway))
    result = poll_gateway(gateway)
    assert_no_wrong_value(result, gateway)
    assert list(result.errors) == [(next(iter(result.errors))[0], victim)]
    assert next(iter(result.errors.values())).kind == "checksum"


@pytest.mark.parametrize("protocol", ["dlt645", "modbus-rtu"])
def test_checksum_error_retried_once_when_asked(server, requests_per_read, protocol):
    # Every (n+1)th reply corrupted, n = requests per read, 4 meters:
    # without retry: meter 1 uses replies 1..n; meter 2 fails on reply n+1; meter 3
    # uses n+2..2n+1; meter 4 fails on 2n+2 -> meters 2 and 4 fail.
    # with retry: meters 2, 3, 4 each fail on the first reply of their first
    # attempt (n+1, 2n+2, 3n+3) and the retry's n replies fit in between.
    every = requests_per_read[protocol] + 1
    plain = hold_still(server.add_gateway(make_gateway(protocol, 4, faults=[f"crc=every:{every}"])))
    without_retry = poll_gateway(plain)
    assert sorted(address for _bus, address in without_retry.errors) == [
        plain.addresses[1],
        plain.addresses[3],
    ]
    assert {e.kind for e in without_retry.errors.values()} == {"checksum"}
    retried = hold_still(
        server.add_gateway(make_gateway(protocol, 4, faults=[f"crc=every:{every}"]))
    )
    with_retry = poll_gateway(retried, retry_checksum=True)
    assert_no_wrong_value(with_retry, retried)
    assert not with_retry.errors
    assert with_retry.buses[0].retries == 3


@pytest.mark.parametrize("protocol", ["dlt645", "modbus-rtu"])
def test_timeouts_are_not_retried(server, requests_per_read, protocol):
    every = requests_per_read[protocol] + 1
    gateway = hold_still(
        server.add_gateway(make_gateway(protocol, 4, faults=[f"timeout=every:{every}"]))
    )
    result = poll_gateway(gateway, retry_checksum=True)
    assert result.buses[0].retries == 0
    assert len(result.errors) == gateway.faults.injected["timeout"] >= 1


@pytest.mark.parametrize("protocol", ["dlt645", "modbus-rtu"])
@pytest.mark.parametrize(("kind", "applied"), [("lost", False), ("timeout", True)])
def test_a_lost_request_changes_nothing_a_lost_reply_still_acts(server, protocol, kind, applied):
    # Both look the same to the driver (a timeout); only a read-back tells
    # them apart, which is why a credit push reads the purchase count back.
    gateway = server.add_gateway(make_gateway(protocol, 1, faults=[f"{kind}=every:1"]))
    meter = next(iter(gateway.meters.values()))
    driver = DRIVERS[protocol](transport_for(gateway), timeout=TIMEOUT)
    with pytest.raises(TimeoutError):
        driver.push_credit(gateway.addresses[0], Decimal("20.00"), meter.purchase_count + 1)
    assert gateway.faults.injected[kind] == 1
    assert meter.purchase_count == (1 if applied else 0)
    assert meter.balance == (Decimal("20.00") if applied else Decimal("0"))


@pytest.mark.parametrize("protocol", ["dlt645", "modbus-rtu"])
def test_register_rollover_reads_the_wrapped_value(server, protocol):
    # registers start 0.001 kWh below the 1,000,000 limit; 36 kW adds 0.01 kWh/s,
    # so they wrap within 0.1 s (SimMeter keeps value % register_limit)
    gateway = make_gateway(protocol, 2, faults=["rollover=every:1:0.001"], load_kw=Decimal(36))
    server.add_gateway(gateway)
    assert all(m.total == Decimal("999999.999") for m in gateway.meters.values())
    time.sleep(0.2)
    for meter in gateway.meters.values():
        meter.apply_relay(RELAY_TRIP)  # wraps, then holds still
        assert meter.total < 1
    result = poll_gateway(gateway)
    assert len(result.readings) == 2
    assert_no_wrong_value(result, gateway)


# -- the plan itself ----------------------------------------------------------------------
def test_every_nth_fires_exactly_on_the_nth():
    plan = FaultPlan(["crc=every:3"])
    fired = [plan.decide("1") is not None for _ in range(9)]
    assert fired == [False, False, True] * 3
    assert plan.injected["crc"] == 3


def test_probability_is_reproducible_with_the_seed():
    def decisions(seed):
        plan = FaultPlan(["timeout=0.3"], seed=seed)
        return [plan.decide("1") is not None for _ in range(200)]

    assert decisions(7) == decisions(7)
    assert decisions(7) != decisions(8)
    # 200 draws at p = 0.3: 60 expected; the seeded draw is fixed, the band is loose
    assert 30 <= sum(decisions(7)) <= 90


def test_per_meter_rule_counts_only_its_meter():
    plan = FaultPlan(["timeout=every:2@5"])
    fired = [(a, plan.decide(a) is not None) for a in ["5", "6", "5", "6", "5", "5"]]
    assert [a for a, hit in fired if hit] == ["5", "5"]


def test_highest_priority_fault_wins_and_every_rule_counts():
    plan = FaultPlan(["crc=every:1", "timeout=every:2"])
    kinds = [plan.decide("1").kind for _ in range(4)]
    assert kinds == ["crc", "timeout", "crc", "timeout"]


def test_copy_starts_fresh_with_its_own_seed():
    plan = FaultPlan(["crc=every:2"], seed=1)
    plan.decide("1")
    twin = plan.copy(seed=2)
    assert twin.decide("1") is None and twin.decide("1") is not None
    assert twin.seed == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("dead=0.02", FaultRule("dead", probability=0.02)),
        ("crc=every:10@3", FaultRule("crc", every=10, meter="3")),
        ("restart=every:500:2.5", FaultRule("restart", every=500, param=2.5)),
        ("rollover=1:0.5", FaultRule("rollover", probability=1.0, param=Decimal("0.5"))),
    ],
)
def test_rule_text_is_parsed(text, expected):
    assert FaultRule.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lightning=0.5", "unknown fault"),
        ("crc", "expected KIND=TRIGGER"),
        ("crc=1.5", "within 0..1"),
        ("crc=every:0", "integer >= 1"),
        ("crc=every", "needs a count"),
        ("crc=often", "crc=often"),
        ("restart=0.1:-2", "must not be negative"),
        ("crc=0.1:1:2", "too many"),
    ],
)
def test_bad_rule_text_is_refused(text, message):
    with pytest.raises(ValidationError, match=message):
        FaultRule.parse(text)


def test_corrupted_checksum_is_detected_by_each_codec():
    rtu = modbus.rtu_frame(1, bytes.fromhex("030000000A"))
    with pytest.raises(ChecksumError):
        modbus.parse_rtu_frame(corrupt_checksum(rtu, -1))
    frame = dlt645.build_read_reply("000000000001", dlt645.DI_FORWARD_ACTIVE_TOTAL, b"\0" * 4)
    with pytest.raises(ChecksumError):
        dlt645.parse_frame(corrupt_checksum(frame, -2))
    with pytest.raises(ValidationError, match="no checksum"):
        corrupt_checksum(frame, None)


def test_truncate_and_garble_never_return_the_reply():
    rng = random.Random(3)
    reply = bytes(range(20))
    for _ in range(50):
        cut_reply = truncate(reply, rng)
        assert 1 <= len(cut_reply) < len(reply) and reply.startswith(cut_reply)
        noise = garble(reply, rng)
        assert len(noise) == len(reply) and noise != reply
