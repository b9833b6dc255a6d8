"""The simulator server: gateways serving SimMeters over real TCP sockets and ptys.

Meters are read with the real drivers through the real transports; what a
driver reads is compared with the SimMeter state, to the register's last digit.
"""

import datetime
import json
import os
import signal
import socket
import subprocess
import sys
import time
from decimal import ROUND_DOWN, Decimal

import pytest

from prepaid_energy_core.drivers.dlt645 import Dlt645Driver
from prepaid_energy_core.errors import TransportTimeout, ValidationError
from prepaid_energy_core.protocols import dlt645 as codec
from prepaid_energy_core.simulator.dlt645_responder import Dlt645Responder
from prepaid_energy_core.simulator.faults import FaultPlan
from prepaid_energy_core.simulator.meter import SimMeter
from prepaid_energy_core.simulator.server import (
    Gateway,
    SimulatorServer,
    character_time,
    dlt645_address,
    make_gateway,
    meter_addresses,
    modbus_rtu_unit,
    modbus_tcp_unit,
    silence_time,
)
from prepaid_energy_core.transports.serial import SerialTransport
from prepaid_energy_core.transports.tcp import TcpTransport
from prepaid_energy_core.vocabulary import RELAY_CLOSE, RELAY_TRIP

CENT = Decimal("0.01")


def register(value):
    """What a DL/T 645 XXXXXX.XX register shows: cut, not rounded (a display)."""
    return value.quantize(CENT, rounding=ROUND_DOWN)


def still_meters(count, gateway_index=0):
    """DL/T 645 meters with distinct registers and the relay open, so nothing moves."""
    meters = {}
    for number, address in enumerate(meter_addresses("dlt645", count, gateway_index), start=1):
        meter = SimMeter(
            address,
            total=Decimal("1000.004") + number * Decimal("11.11"),
            balance=Decimal("2.5") * number,
            purchase_count=number,
        )
        meter.bands["peak"] = Decimal("400.129") + number
        meter.relay_closed = False
        meters[address] = meter
    return meters


def assert_reading_matches(reading, meter):
    assert reading.address == meter.address
    assert reading.total == register(meter.total)
    assert reading.bands == {band: register(value) for band, value in meter.bands.items()}
    assert reading.balance == register(meter.balance)
    assert reading.purchase_count == meter.purchase_count
    assert reading.relay_closed == meter.relay_closed


def fast_server():
    """Simulated time 360 x faster: a 10 kW load adds 1 kWh per real second."""
    return SimulatorServer(tick_interval=0.02, time_factor=360)


@pytest.fixture
def server():
    with SimulatorServer(tick_interval=None) as running:
        yield running


@pytest.mark.parametrize("kind", ["tcp", "pty"])
def test_serves_every_meter_of_a_bus(server, kind):
    meters = still_meters(3)
    gateway = server.add_gateway(Gateway(Dlt645Responder(meters), meters, "dlt645"), kind)
    if kind == "tcp":
        transport = TcpTransport(gateway.host, gateway.port)
    else:
        transport = SerialTransport(gateway.pty_path, baudrate=2400, parity="E")
    with transport:
        driver = Dlt645Driver(transport)
        for address, meter in meters.items():
            assert_reading_matches(driver.read(address), meter)
    assert gateway.stats.requests == gateway.stats.replies > 0


def test_energy_accumulates_while_the_relay_is_closed():
    with fast_server() as server:
        gateway = server.add_gateway(make_gateway("dlt645", 1, load_kw=Decimal(10)))
        address = gateway.addresses[0]
        with TcpTransport(gateway.host, gateway.port) as transport:
            driver = Dlt645Driver(transport)
            first = driver.read(address).total
            time.sleep(0.2)
            second = driver.read(address).total
    assert second > first
    assert second <= register(gateway.meters[address].total)


def test_tripping_the_relay_stops_the_energy():
    with fast_server() as server:
        gateway = server.add_gateway(make_gateway("dlt645", 2, load_kw=Decimal(10)))
        tripped, running = (gateway.meters[a] for a in gateway.addresses)
        with TcpTransport(gateway.host, gateway.port) as transport:
            driver = Dlt645Driver(transport)
            driver.set_relay(tripped.address, RELAY_TRIP)
            before = driver.read(tripped.address)
            running_before = driver.read(running.address).total
            time.sleep(0.2)
            after = driver.read(tripped.address)
            running_after = driver.read(running.address).total
    assert before.relay_closed is False and after.relay_closed is False
    assert after.total == before.total == register(tripped.total)
    assert after.power == 0
    # the other meter of the bus kept counting meanwhile
    assert running_after > running_before
    assert tripped.commands_applied[-1][0] == RELAY_TRIP


def test_closing_the_relay_restarts_the_energy():
    with fast_server() as server:
        gateway = server.add_gateway(make_gateway("dlt645", 1, load_kw=Decimal(10)))
        meter = gateway.meters[gateway.addresses[0]]
        meter.apply_relay(RELAY_TRIP)
        still = register(meter.total)
        with TcpTransport(gateway.host, gateway.port) as transport:
            driver = Dlt645Driver(transport)
            driver.set_relay(meter.address, RELAY_CLOSE)
            time.sleep(0.2)
            reading = driver.read(meter.address)
    assert reading.relay_closed is True
    assert reading.total > still


def test_time_factor_makes_simulated_hours_pass_in_seconds():
    # 3600 simulated seconds per real second, 1 kW: >= 0.25 s of sleep is >= 0.25 kWh
    meter = SimMeter("1", load_kw=Decimal(1))
    responder = Dlt645Responder({})
    with SimulatorServer(tick_interval=0.02, time_factor=3600) as server:
        server.add_gateway(Gateway(responder, {"1": meter}))
        time.sleep(0.3)
        server.tick()  # up to now, however late the last periodic tick was
    assert meter.total >= Decimal("0.25")


def test_bus_timing_delays_the_reply():
    # DL/T 645 read of 00010000: request 4 FE + 16 = 20 bytes, reply 4 FE + 20 = 24 bytes.
    # At 2400 baud: 44 x 11/2400 = 0.2017 s on the line + t3.5 (16 ms) + 0.2 s turnaround
    # = ~0.42 s, so a 0.1 s deadline misses it while 2 s is plenty.
    with SimulatorServer(tick_interval=None) as server:
        gateway = server.add_gateway(
            make_gateway(
                "dlt645",
                1,
                baudrate=2400,
                turnaround=0.2,
                record_transactions=True,
                load_kw=Decimal(0),
            )
        )
        address = gateway.addresses[0]
        with TcpTransport(gateway.host, gateway.port) as transport:
            driver = Dlt645Driver(transport, timeout=0.1)
            with pytest.raises(TransportTimeout):
                driver.read_item(address, codec.DI_FORWARD_ACTIVE_TOTAL)
            time.sleep(1.0)  # let the late reply arrive and go stale
            driver.timeout = 2.0
            value = driver.read_item(address, codec.DI_FORWARD_ACTIVE_TOTAL)
    assert value == register(gateway.meters[address].total)
    assert gateway.stats.transactions == [(20, 24), (20, 24)]


def test_bus_physics_helpers():
    # 9600 baud: one 11-bit character is 11/9600 s = 1.1458 ms; t3.5 = 3.5 of them = 4.01 ms
    assert character_time(9600) == pytest.approx(0.0011458, rel=1e-4)
    assert silence_time(9600) == pytest.approx(0.0040104, rel=1e-4)
    # above 19200 baud t3.5 is fixed at 1.75 ms (Modbus over Serial Line V1.02, 2.5.1.1)
    assert silence_time(38400) == 0.00175


def test_garbage_on_the_bus_is_discarded_and_the_next_request_served(server):
    meters = still_meters(1)
    gateway = server.add_gateway(Gateway(Dlt645Responder(meters), meters, "dlt645"))
    address = next(iter(meters))
    with socket.create_connection((gateway.host, gateway.port), timeout=2) as raw:
        raw.sendall(b"\x00\x01noise")
        time.sleep(0.1)  # a separate burst, as line noise would be
        raw.sendall(codec.build_read(address, codec.DI_FORWARD_ACTIVE_TOTAL))
        reply = b""
        while True:
            reply += raw.recv(256)
            length = codec.frame_length(reply)
            if length is not None:
                break
    _di, payload = codec.parse_read_reply(codec.parse_frame(reply[:length]))
    assert codec.data_item(codec.DI_FORWARD_ACTIVE_TOTAL).decode(payload) == register(
        meters[address].total
    )
    assert gateway.stats.discarded == 1


def test_request_addresses_are_found_in_each_protocol():
    # Modbus RTU: unit id first (Serial Line V1.02, 2.3.1): 01 03 0000 000A CRC
    assert modbus_rtu_unit(bytes.fromhex("010300000000a0c5")) == "1"
    # Modbus TCP: 7-byte MBAP header, unit id last (Messaging on TCP/IP V1.0b, 3.1.3)
    assert modbus_tcp_unit(bytes.fromhex("000100000006110300000001")) == "17"
    # DL/T 645-2007: A0..A5 after the first 68H, low byte first
    request = codec.build_read("000000123456", codec.DI_FORWARD_ACTIVE_TOTAL)
    assert dlt645_address(request) == "000000123456"
    assert dlt645_address(b"\xfe\xfe") is None


def test_bad_gateway_settings_are_refused():
    with pytest.raises(ValidationError, match="unknown protocol"):
        Gateway(Dlt645Responder({}), {}, protocol="iec62056")
    with pytest.raises(ValidationError, match="no checksum"):
        Gateway(object(), {}, protocol="modbus-tcp", faults=["crc=0.1"])
    with pytest.raises(ValidationError, match="baudrate"):
        Gateway(Dlt645Responder({}), {}, baudrate=0)
    with pytest.raises(ValidationError, match="1..247"):
        meter_addresses("modbus-rtu", 248)


def test_gateway_restart_refuses_then_serves_again(server):
    meters = still_meters(1)
    gateway = server.add_gateway(Gateway(Dlt645Responder(meters), meters, "dlt645"))
    server.restart(gateway, 1.0)
    with pytest.raises(OSError):
        socket.create_connection((gateway.host, gateway.port), timeout=1).close()
    time.sleep(1.2)
    with TcpTransport(gateway.host, gateway.port) as transport:
        assert_reading_matches(Dlt645Driver(transport).read(next(iter(meters))), *meters.values())


def test_dead_meters_are_chosen_by_the_plan():
    # every:3 over meters 1..6 marks the 3rd and the 6th dead
    gateway = make_gateway("dlt645", 6, faults=FaultPlan(["dead=every:3"]))
    dead = [address for address, meter in gateway.meters.items() if meter.dead]
    assert dead == ["000000000003", "000000000006"]
    assert gateway.meter_faults == {address: ["dead"] for address in dead}


def run_cli(*arguments):
    return subprocess.Popen(
        [sys.executable, "-m", "prepaid_energy_core.simulator", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_command_line_serves_gateways_until_terminated():
    process = run_cli("--gateways", "2", "--meters", "3", "--protocol", "dlt645", "--json")
    try:
        described = json.loads(process.stdout.readline())
        assert process.stdout.readline().strip() == "ready"
        gateways = described["gateways"]
        assert [len(g["addresses"]) for g in gateways] == [3, 3]
        for gateway in gateways:
            with TcpTransport(gateway["host"], gateway["port"]) as transport:
                reading = Dlt645Driver(transport).read(gateway["addresses"][-1])
            assert reading.address == gateway["addresses"][-1]
            assert reading.relay_closed is True
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0


def test_command_line_serves_ptys_with_faults():
    process = run_cli(
        "--meters", "2", "--protocol", "dlt645", "--pty", "--fault", "dead=every:2", "--json"
    )
    try:
        (gateway,) = json.loads(process.stdout.readline())["gateways"]
        assert os.path.exists(gateway["pty"])
        assert gateway["dead"] == [gateway["addresses"][1]]
        with SerialTransport(gateway["pty"], baudrate=2400, parity="E", timeout=0.2) as transport:
            driver = Dlt645Driver(transport)
            reading = driver.read(gateway["addresses"][0])
            assert reading.timestamp <= datetime.datetime.now(datetime.timezone.utc)
            with pytest.raises(TransportTimeout):
                driver.read(gateway["addresses"][1])
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0


def test_command_line_rejects_a_bad_fault():
    process = run_cli("--fault", "lightning=0.5")
    _out, err = process.communicate(timeout=20)
    assert process.returncode == 2
    assert "unknown fault 'lightning'" in err
