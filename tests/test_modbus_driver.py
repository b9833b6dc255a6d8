"""ModbusDriver against the simulator over real TCP sockets on 127.0.0.1.

Two paths: RTU frames through TcpTransport to a transparent gateway, and
Modbus TCP through ModbusTcpTransport (pymodbus) to an MBAP gateway. The
meters start "in the future" (SimMeter ``start``) so no energy accrues
during a test and every register is exact.
"""

import datetime
import json
from decimal import Decimal

import pytest

from prepaid_energy_core.drivers.modbus import ModbusDriver
from prepaid_energy_core.errors import (
    ChecksumError,
    MeterRefused,
    TransportTimeout,
    ValidationError,
)
from prepaid_energy_core.protocols import modbus
from prepaid_energy_core.register_maps import DATA_DIR, load_builtin, load_register_map
from prepaid_energy_core.simulator.meter import SimMeter
from prepaid_energy_core.simulator.modbus_responder import (
    ModbusRtuResponder,
    ModbusTcpResponder,
)
from prepaid_energy_core.simulator.server import Gateway, SimulatorServer
from prepaid_energy_core.transports.modbus_tcp import ModbusTcpTransport
from prepaid_energy_core.transports.serial import SerialTransport
from prepaid_energy_core.transports.tcp import TcpTransport
from prepaid_energy_core.vocabulary import RELAY_ACTIONS

D = Decimal
TIMEOUT = 2.0  # generous: a loaded CI machine must not turn a reply into a timeout
SHORT = 0.2


def frozen_meter(unit, **options):
    """A meter whose registers do not move during the test.

    load 2.3 kW at 230.0 V -> current 2300 / 230 = 10.00 A exactly.
    """
    settings = {
        "load_kw": D("2.3"),
        "voltage": D("230.0"),
        "total": D("1234.56"),
        "balance": D("88.80"),
        "purchase_count": 4,
        "start": datetime.datetime.now() + datetime.timedelta(days=1),
    }
    settings.update(options)
    meter = SimMeter(str(unit), **settings)
    # bands add up to the total: 100.01 + 200.02 + 300.03 + 634.50 = 1234.56
    meter.bands.update(sharp=D("100.01"), peak=D("200.02"), flat=D("300.03"), valley=D("634.50"))
    return meter


@pytest.fixture(scope="module")
def server():
    with SimulatorServer(tick_interval=None) as running:
        yield running


@pytest.fixture
def bus(server):
    """``bus(kind, profile, ...)`` -> (driver, meters, gateway); transports closed after."""
    opened = []

    def make(kind="rtu", profile="generic", meters=None, faults=None, responder_class=None):
        meters = meters or {1: frozen_meter(1), 2: frozen_meter(2)}
        if kind == "rtu":
            responder = (responder_class or ModbusRtuResponder)(meters, profile)
            protocol = "modbus-rtu"
        else:
            responder = ModbusTcpResponder(meters, profile)
            protocol = "modbus-tcp"
        gateway = server.add_gateway(
            Gateway(responder, meters, protocol, faults=faults, record_transactions=True)
        )
        if kind == "rtu":
            transport = TcpTransport(gateway.host, gateway.port, timeout=TIMEOUT)
        else:
            transport = ModbusTcpTransport(gateway.host, gateway.port, timeout=TIMEOUT)
        opened.append(transport)
        return ModbusDriver(transport, profile), meters, gateway

    yield make
    for transport in opened:
        transport.close()


# -- reading ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["rtu", "tcp"])
def test_read_every_point_of_the_generic_map(bus, kind):
    driver, meters, gateway = bus(kind)
    reading = driver.read("1")
    assert reading.address == "1"
    assert reading.timestamp.tzinfo is datetime.timezone.utc
    assert reading.total == D("1234.56")
    assert reading.bands == {
        "sharp": D("100.01"), "peak": D("200.02"), "flat": D("300.03"), "valley": D("634.50")
    }  # fmt: skip
    assert reading.voltage == D("230.0")
    assert reading.current == D("10.00")
    assert reading.power == D("2.300")
    assert reading.balance == D("88.80")
    assert reading.purchase_count == 4
    assert reading.relay_closed is True
    # one read of 18 holding registers: RTU request 8 bytes, reply 5 + 36;
    # MBAP frames carry 4 more (6-byte header instead of address and CRC)
    extra = 0 if kind == "rtu" else 4
    assert gateway.stats.transactions == [(8 + extra, 41 + extra)]


def test_read_over_a_pseudo_terminal(server):
    # RTU frames on a serial line: the gateway's pty slave opened by pyserial,
    # with the settings the map prescribes (9600 8N1).
    meters = {1: frozen_meter(1)}
    gateway = server.add_gateway(Gateway(ModbusRtuResponder(meters), meters, "modbus-rtu"), "pty")
    generic = load_builtin("generic")
    with SerialTransport(
        gateway.pty_path, generic.baudrate, generic.parity, stopbits=generic.stopbits
    ) as transport:
        driver = ModbusDriver(transport, generic, timeout=TIMEOUT)
        reading = driver.read("1")
        driver.set_relay("1", "trip")
    assert (reading.total, reading.purchase_count) == (D("1234.56"), 4)
    assert meters[1].relay_closed is False


def coil_relay_map():
    """The generic map with the relay state on coil 0 (function 01) instead of a status bit."""
    data = json.loads((DATA_DIR / "generic.json").read_text())
    data["points"][-1] = {"name": "relay_state", "function": 1, "address": 0}
    return load_register_map(data, "generic with coil")


@pytest.mark.parametrize("kind", ["rtu", "tcp"])
def test_relay_state_on_a_coil(bus, kind):
    driver, meters, gateway = bus(kind, coil_relay_map())
    assert driver.read("1").relay_closed is True
    driver.set_relay("1", "trip")
    assert meters[1].relay_closed is False and driver.read("1").relay_closed is False
    # each reading: one coil read and one register read
    assert len(gateway.stats.transactions) == 2 + 1 + 2


def test_each_unit_answers_with_its_own_state(bus):
    meters = {1: frozen_meter(1), 7: frozen_meter(7, total=D("42.42"), balance=D("-3.10"))}
    driver, _, _ = bus("rtu", meters=meters)
    assert driver.read("1").total == D("1234.56")
    reading = driver.read("7")
    assert (reading.total, reading.balance) == (D("42.42"), D("-3.10"))


def test_read_the_eastron_sdm630_map(bus):
    # float32 on the wire: 230.0 V, 10.0 A, 2300.0 W (-> 2.3 kW with scale
    # 0.001); 4567.89 kWh travels as 4567.89013671875, read back as 4567.89.
    meters = {1: frozen_meter(1, total=D("4567.89"))}
    driver, _, gateway = bus("rtu", "eastron_sdm630", meters=meters)
    reading = driver.read("1")
    assert (reading.voltage, reading.current, reading.power) == (D("230"), D("10"), D("2.3"))
    assert reading.total == D("4567.89")
    assert reading.bands == {} and reading.relay_closed is None and reading.balance is None
    # request 8 bytes; replies 5 + 2 * (8, 22, 2) registers = 21, 49, 9 bytes
    assert gateway.stats.transactions == [(8, 21), (8, 49), (8, 9)]
    extra = driver.read_points("1")
    assert (extra["frequency"], extra["power_factor"]) == (D("50"), D("1"))
    assert extra["import_energy"] == D("4567.89")


def test_read_the_acrel_ddsy1352_map(bus):
    # UINT32 energy in 0.01 kWh, U in 0.1 V, I in 0.01 A, P INT16 in 0.001 kW
    driver, _, gateway = bus("rtu", "acrel_ddsy1352")
    reading = driver.read("1")
    assert reading.total == D("1234.56")
    assert reading.bands["valley"] == D("634.50")
    assert (reading.voltage, reading.current, reading.power) == (D("230.0"), D("10.00"), D("2.3"))
    assert reading.purchase_count is None
    assert gateway.stats.transactions == [(8, 5 + 2 * 17)]  # one read of 0000H..0010H


# -- relay --------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["rtu", "tcp"])
def test_every_relay_action_changes_the_meter(bus, kind):
    driver, meters, _ = bus(kind)
    meter = meters[1]

    driver.set_relay("1", "trip")
    assert meter.relay_closed is False and driver.read("1").relay_closed is False

    driver.set_relay("1", "close_allowed")
    assert meter.close_allowed is True and meter.relay_closed is False
    meter.press_button()
    assert meter.relay_closed is True

    driver.set_relay("1", "trip")
    driver.set_relay("1", "close")
    assert meter.relay_closed is True and driver.read("1").relay_closed is True

    driver.set_relay("1", "keep_power_on")
    assert meter.keep_power is True
    with pytest.raises(MeterRefused) as refused:
        driver.set_relay("1", "trip")
    assert refused.value.code == modbus.SERVER_DEVICE_FAILURE
    assert meter.relay_closed is True

    driver.set_relay("1", "keep_power_off")
    driver.set_relay("1", "trip")
    assert meter.keep_power is False and meter.relay_closed is False
    applied = [action for action, _ in meter.commands_applied]
    assert applied == [
        "trip", "close_allowed", "trip", "close", "keep_power_on", "keep_power_off", "trip"
    ]  # fmt: skip
    assert meters[2].commands_applied == []  # the other meter on the bus is untouched


def test_relay_not_supported_by_the_model(bus):
    driver, _, _ = bus("rtu", "eastron_sdm630")
    with pytest.raises(ValidationError, match="relay action trip is not supported by model SDM630"):
        driver.set_relay("1", "trip")
    with pytest.raises(ValidationError, match="unknown relay action 'explode'"):
        driver.set_relay("1", "explode")
    assert "trip" in RELAY_ACTIONS


# -- credit ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["rtu", "tcp"])
def test_credit_push_with_right_and_wrong_purchase_count(bus, kind):
    driver, meters, _ = bus(kind)
    meter = meters[1]
    assert driver.read_purchase_count("1") == 4

    # purchase 5 of 50.00: 88.80 + 50.00 = 138.80
    driver.push_credit("1", D("50.00"), 5)
    assert (meter.balance, meter.purchase_count) == (D("138.80"), 5)
    assert driver.read_purchase_count("1") == 5
    assert driver.read("1").balance == D("138.80")

    # a retried push of purchase 5 is refused and changes nothing
    with pytest.raises(MeterRefused) as refused:
        driver.push_credit("1", D("50.00"), 5)
    assert refused.value.code == modbus.ILLEGAL_DATA_VALUE
    with pytest.raises(MeterRefused):
        driver.push_credit("1", D("50.00"), 7)  # skipping a count is refused too
    assert (meter.balance, meter.purchase_count) == (D("138.80"), 5)


def test_credit_push_validates_before_sending(bus):
    driver, meters, gateway = bus("rtu")
    with pytest.raises(ValidationError, match="not a multiple of the step 0.01"):
        driver.push_credit("1", D("10.005"), 5)
    with pytest.raises(ValidationError, match="must be a Decimal, int or str, not float"):
        driver.push_credit("1", 10.5, 5)
    with pytest.raises(ValidationError, match="must be positive"):
        driver.push_credit("1", D("0"), 5)
    assert gateway.stats.requests == 0 and meters[1].purchase_count == 4


def test_credit_and_clock_not_supported_by_the_model(bus):
    driver, _, _ = bus("rtu", "eastron_sdm630")
    with pytest.raises(ValidationError, match="credit push is not supported by model SDM630"):
        driver.push_credit("1", D("10"), 1)
    with pytest.raises(ValidationError, match="purchase_count is not supported by model"):
        driver.read_purchase_count("1")
    with pytest.raises(ValidationError, match="clock setting is not supported"):
        driver.sync_time("1", datetime.datetime(2030, 1, 2))


# -- clock --------------------------------------------------------------------------------------
def test_sync_time_sets_the_meter_clock(bus):
    driver, meters, _ = bus("rtu")
    driver.sync_time("1", datetime.datetime(2030, 1, 2, 3, 4, 5))
    clock = driver.channel.execute(1, modbus.READ_HOLDING_REGISTERS, 0x0300, 6, TIMEOUT)
    assert clock[:5] == [2030, 1, 2, 3, 4] and 5 <= clock[5] <= 30
    assert meters[1].meter_time().year == 2030 and meters[2].meter_time().year < 2030


# -- exceptions and faults ----------------------------------------------------------------------
def test_exception_replies(bus):
    driver, _, _ = bus("rtu")
    with pytest.raises(MeterRefused) as refused:
        driver.channel.execute(1, modbus.READ_HOLDING_REGISTERS, 0x4000, 1, TIMEOUT)
    assert refused.value.code == modbus.ILLEGAL_DATA_ADDRESS
    assert str(refused.value) == (
        "unit 1 refused read holding registers at 0x4000: ILLEGAL DATA ADDRESS (code 2)"
    )
    with pytest.raises(MeterRefused) as refused:  # 0x99 is no command of the map
        driver.channel.execute(1, modbus.WRITE_SINGLE_REGISTER, 0x0100, 0x99, TIMEOUT)
    assert refused.value.code == modbus.ILLEGAL_DATA_VALUE


def test_unsupported_function_gets_illegal_function(bus):
    # 07 read exception status: a valid request the simulated meter does not offer
    driver, _, _ = bus("rtu")
    reply = driver.transport.exchange(modbus.rtu_frame(1, b"\x07"), modbus.rtu_frame_length)
    unit, pdu = modbus.parse_rtu_frame(reply)
    assert (unit, pdu) == (1, bytes([0x87, modbus.ILLEGAL_FUNCTION]))


@pytest.mark.parametrize("kind", ["rtu", "tcp"])
def test_unknown_unit_and_dead_meter_time_out(bus, kind):
    driver, meters, _ = bus(kind)
    driver.timeout = SHORT
    with pytest.raises(TransportTimeout):
        driver.read("9")
    meters[2].dead = True
    with pytest.raises(TransportTimeout):
        driver.read("2")
    driver.timeout = TIMEOUT
    assert driver.read("1").total == D("1234.56")  # the bus still works


def test_crc_corrupted_reply_is_a_checksum_error(bus):
    driver, _, _ = bus("rtu", faults=["crc=every:1"])
    with pytest.raises(ChecksumError):
        driver.read("1")


class WrongUnitResponder(ModbusRtuResponder):
    """A confused gateway: answers for the next unit id (CRC recomputed)."""

    def handle(self, request):
        reply = super().handle(request)
        unit, pdu = modbus.parse_rtu_frame(reply)
        return modbus.rtu_frame(unit + 1, pdu)


def test_reply_from_another_unit_is_set_aside_not_taken(bus):
    # RTU has no transaction id: a frame from another unit may be a late reply to an
    # earlier request. It is set aside and the read waits for unit 1 until the deadline
    # (it used to be a ProtocolError at once, which lost the next meter's reading).
    driver, _, _ = bus("rtu", responder_class=WrongUnitResponder)
    driver.timeout = SHORT
    with pytest.raises(TransportTimeout, match="unit 1.*a reply from unit 2"):
        driver.read("1")
    assert [driver.reply_source(stray.frame) for stray in driver.transport.take_strays()] == ["2"]


@pytest.mark.parametrize("address", ["0", "248", "abc", "", "1.5", "²"])
def test_bad_unit_addresses_are_refused(bus, address):
    driver, _, gateway = bus("rtu")
    with pytest.raises(ValidationError, match="unit id 1..247"):
        driver.read(address)
    assert gateway.stats.requests == 0


# -- responder alone --------------------------------------------------------------------------
def test_responder_stays_silent_like_a_bus():
    meters = {1: frozen_meter(1)}
    responder = ModbusRtuResponder(meters)
    request = modbus.rtu_frame(1, modbus.build_request(3, 0, 2))
    assert responder.handle(request) is not None
    assert responder.handle(modbus.rtu_frame(5, request[1:-2])) is None  # unknown unit
    assert responder.handle(request[:-1] + bytes([request[-1] ^ 0xFF])) is None  # bad CRC
    assert responder.handle(modbus.rtu_frame(0, modbus.build_request(5, 0, False))) is None
    assert meters[1].relay_closed is True  # broadcast changed nothing
    meters[1].dead = True
    assert responder.handle(request) is None


def test_tcp_responder_keeps_the_transaction_id():
    responder = ModbusTcpResponder({3: frozen_meter(3)}, "generic")
    reply = responder.handle(modbus.mbap_frame(0xBEEF, 3, modbus.build_request(3, 0x0010, 1)))
    # purchase count 4 at 0x0010: 03 02 0004, after the MBAP header of unit 3
    assert reply == bytes.fromhex("BEEF 0000 0005 03 03 02 0004")
