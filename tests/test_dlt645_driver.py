"""Dlt645Driver over a real TCP socket to the simulator's DL/T 645 gateway.

The driver talks through TcpTransport to a Gateway on 127.0.0.1 serving a
Dlt645Responder; what it reads is compared with the SimMeter state.
"""

import datetime
from decimal import Decimal

import pytest

from prepaid_energy_core.drivers.dlt645 import Dlt645Driver
from prepaid_energy_core.errors import (
    MeterRefused,
    ProtocolError,
    TransportTimeout,
    ValidationError,
)
from prepaid_energy_core.protocols import dlt645 as codec
from prepaid_energy_core.simulator.dlt645_responder import Dlt645Responder
from prepaid_energy_core.simulator.meter import SimMeter
from prepaid_energy_core.simulator.server import Gateway, SimulatorServer
from prepaid_energy_core.transports.tcp import TcpTransport
from prepaid_energy_core.vocabulary import (
    RELAY_CLOSE,
    RELAY_CLOSE_ALLOWED,
    RELAY_KEEP_POWER_OFF,
    RELAY_KEEP_POWER_ON,
    RELAY_TRIP,
)

QUIET = "000000000001"  # no load: its registers stay put while we read them
BUSY = "000000000002"  # 1.5 kW
PASSWORD = "02123456"
OPERATOR = "00000042"


@pytest.fixture
def meters():
    quiet = SimMeter(
        QUIET,
        load_kw=Decimal("0"),
        total=Decimal("4321.98765"),
        balance=Decimal("88.40"),
        purchase_count=12,
    )
    quiet.bands.update(
        sharp=Decimal("100.019"),
        peak=Decimal("1200.5"),
        flat=Decimal("2000"),
        valley=Decimal("1021.46"),
    )
    busy = SimMeter(BUSY, load_kw=Decimal("1.5"), voltage=Decimal("231.5"))
    return {QUIET: quiet, BUSY: busy}


def serve(server, responder, meters):
    gateway = Gateway(responder, meters, protocol="dlt645")
    return server.add_gateway(gateway, "tcp")


@pytest.fixture
def bus(meters):
    """A transport to a gateway serving both meters."""
    with SimulatorServer(tick_interval=None) as server:
        gateway = serve(server, Dlt645Responder(meters, password=PASSWORD), meters)
        with TcpTransport(gateway.host, gateway.port, timeout=1.0) as transport:
            yield transport


@pytest.fixture
def driver(bus):
    return Dlt645Driver(bus, password=PASSWORD, operator=OPERATOR)


# -- reads ---------------------------------------------------------------------------------
def test_read_everything_of_a_quiet_meter(driver):
    reading = driver.read(QUIET)
    assert reading.address == QUIET
    # the host's time of reading, aware UTC as the Modbus driver gives it (it was naive
    # local time here, so one poll cycle mixed two kinds of timestamps)
    assert reading.timestamp.tzinfo is datetime.timezone.utc
    # registers show 2 decimals, truncated: 4321.98765 -> 4321.98, 100.019 -> 100.01
    assert reading.total == Decimal("4321.98")
    assert reading.bands == {
        "sharp": Decimal("100.01"),
        "peak": Decimal("1200.50"),
        "flat": Decimal("2000.00"),
        "valley": Decimal("1021.46"),
    }
    assert reading.voltage == Decimal("230.0")
    assert reading.current == Decimal("0.000") and reading.power == Decimal("0.0000")
    assert reading.relay_closed is True
    assert reading.balance == Decimal("88.40")
    assert reading.purchase_count == 12


def test_block_reads_give_the_same_registers(bus):
    reading = Dlt645Driver(bus, use_blocks=True).read(QUIET)
    assert reading.total == Decimal("4321.98")
    assert reading.bands["sharp"] == Decimal("100.01") and reading.bands["valley"] == Decimal(
        "1021.46"
    )


def follow_up_bus(meters, **options):
    """A TCP transport to a gateway whose meters split replies over 13 data bytes."""
    server = SimulatorServer(tick_interval=None).start()
    responder = Dlt645Responder(meters, reply_data_limit=13, **options)
    gateway = serve(server, responder, meters)
    return server, gateway, TcpTransport(gateway.host, gateway.port, timeout=1.0)


def test_block_read_fetches_every_follow_up_frame(meters):
    server, gateway, transport = follow_up_bus(meters)
    try:
        with transport:
            reading = Dlt645Driver(transport, use_blocks=True).read(QUIET)
    finally:
        server.stop()
    # read 11H (B1H: total + sharp), follow-up SEQ 1 (B2H: peak + flat), SEQ 2 (92H: valley)
    assert reading.total == Decimal("4321.98")
    assert reading.bands == {
        "sharp": Decimal("100.01"),
        "peak": Decimal("1200.50"),
        "flat": Decimal("2000.00"),
        "valley": Decimal("1021.46"),
    }


def test_read_item_follows_up_until_the_last_frame(meters):
    server, gateway, transport = follow_up_bus(meters)
    try:
        with transport:
            values = Dlt645Driver(transport).read_item(QUIET, codec.DI_FORWARD_ACTIVE_BLOCK)
    finally:
        server.stop()
    assert len(values) == 5
    assert gateway.stats.requests == 3 and gateway.stats.replies == 3


def test_meter_that_refuses_read_follow_up_gives_no_partial_block(meters):
    server, _gateway, transport = follow_up_bus(meters, read_follow_up=False)
    try:
        with transport:
            driver = Dlt645Driver(transport, use_blocks=True)
            with pytest.raises(ProtocolError, match="announced more data.*incomplete"):
                driver.read_item(QUIET, codec.DI_FORWARD_ACTIVE_BLOCK)
            with pytest.raises(ProtocolError, match="follow-up"):
                driver.read(QUIET)
    finally:
        server.stop()


def test_read_instantaneous_values_of_a_loaded_meter(driver, meters):
    reading = driver.read(BUSY)
    assert reading.power == Decimal("1.5000")
    # I = 1500 W / 231.5 V = 6.4794... A -> 6.479
    assert reading.current == Decimal("6.479")
    assert reading.voltage == Decimal("231.5")
    # energy keeps counting: what was read lies below what the meter holds now
    assert Decimal("0") <= reading.total <= meters[BUSY].total


def test_overdraft_makes_the_balance_negative(driver, meters):
    meters[QUIET].balance = Decimal("-7.35")
    assert driver.read(QUIET).balance == Decimal("-7.35")


def test_read_purchase_count(driver):
    assert driver.read_purchase_count(QUIET) == 12


def test_read_address_of_the_only_meter(meters):
    only = {BUSY: meters[BUSY]}
    with SimulatorServer(tick_interval=None) as server:
        gateway = serve(server, Dlt645Responder(only), only)
        with TcpTransport(gateway.host, gateway.port, timeout=1.0) as transport:
            assert Dlt645Driver(transport).read_address() == BUSY


def test_unknown_meter_times_out(bus):
    driver = Dlt645Driver(bus, timeout=0.2)
    with pytest.raises(TransportTimeout):
        driver.read_purchase_count("000000000099")


def test_missing_item_is_refused_with_no_requested_data(driver):
    with pytest.raises(MeterRefused) as caught:
        driver.read_item(QUIET, codec.DI_DAILY_FROZEN_FORWARD_ACTIVE)
    assert caught.value.code == codec.ERR_NO_DATA


# -- relay --------------------------------------------------------------------------------
def relay_state(meter):
    return meter.relay_closed, meter.close_allowed, meter.keep_power


@pytest.mark.parametrize(
    "start_tripped, action, expected",
    [
        # (relay_closed, close_allowed, keep_power) after the command
        (False, RELAY_TRIP, (False, False, False)),
        (True, RELAY_CLOSE_ALLOWED, (False, True, False)),
        (True, RELAY_CLOSE, (True, False, False)),
        (True, RELAY_KEEP_POWER_ON, (True, False, True)),
        (False, RELAY_KEEP_POWER_OFF, (True, False, False)),
    ],
)
def test_each_relay_action_changes_the_meter(driver, meters, start_tripped, action, expected):
    meter = meters[QUIET]
    if start_tripped:
        meter.apply_relay(RELAY_TRIP)
    if action == RELAY_KEEP_POWER_OFF:
        meter.apply_relay(RELAY_KEEP_POWER_ON)
    driver.set_relay(QUIET, action)
    assert relay_state(meter) == expected
    assert meter.commands_applied[-1][0] == action
    assert driver.read(QUIET).relay_closed is expected[0]


def test_relay_status_bits_after_a_trip(driver):
    driver.set_relay(QUIET, RELAY_TRIP)
    status = driver.read_status(QUIET)
    assert status.relay_open and status.relay_command_open and not status.keep_power


def test_expired_deadline_is_refused(driver, meters):
    past = datetime.datetime.now().replace(microsecond=0) - datetime.timedelta(minutes=1)
    with pytest.raises(MeterRefused) as caught:
        driver.set_relay(QUIET, RELAY_TRIP, deadline=past)
    assert caught.value.code == codec.ERR_OTHER
    assert meters[QUIET].relay_closed


def test_trip_with_the_no_expiry_deadline_opens_the_relay(driver, meters):
    # head-ends send 2099-12-30 23:59:59 for "no expiry": YY = 99 is 2099, not 1999
    driver.set_relay(QUIET, RELAY_TRIP, deadline=codec.NO_EXPIRY_DEADLINE)
    assert meters[QUIET].relay_closed is False
    assert meters[QUIET].commands_applied[-1][0] == RELAY_TRIP
    assert driver.read_status(QUIET).relay_open
    # and a close with the same deadline closes it again
    driver.set_relay(QUIET, RELAY_CLOSE, deadline=codec.NO_EXPIRY_DEADLINE)
    assert meters[QUIET].relay_closed is True


@pytest.mark.parametrize(
    "deadline",
    [
        datetime.datetime.now().replace(microsecond=0) - datetime.timedelta(minutes=1),
        datetime.datetime(2000, 1, 1),  # the oldest deadline two year digits can hold
    ],
)
def test_a_deadline_in_the_past_is_still_refused(driver, meters, deadline):
    with pytest.raises(MeterRefused) as caught:
        driver.set_relay(QUIET, RELAY_TRIP, deadline=deadline)
    assert caught.value.code == codec.ERR_OTHER
    assert meters[QUIET].relay_closed and meters[QUIET].commands_applied == []


def test_late_duplicate_is_refused_by_the_meter_clock(driver, meters):
    # the command is valid 5 minutes by the host clock, the meter's clock is 10 minutes ahead
    meters[QUIET].set_time(datetime.datetime.now() + datetime.timedelta(minutes=10))
    with pytest.raises(MeterRefused):
        driver.set_relay(QUIET, RELAY_TRIP)
    assert meters[QUIET].relay_closed


def test_wrong_password_is_refused(bus, meters):
    intruder = Dlt645Driver(bus, password="02000000", operator=OPERATOR)
    with pytest.raises(MeterRefused, match="password error or unauthorised") as caught:
        intruder.set_relay(QUIET, RELAY_TRIP)
    assert caught.value.code == codec.ERR_PASSWORD
    assert meters[QUIET].relay_closed


def test_keep_power_refuses_a_trip(driver, meters):
    driver.set_relay(QUIET, RELAY_KEEP_POWER_ON)
    with pytest.raises(MeterRefused):
        driver.set_relay(QUIET, RELAY_TRIP)
    assert meters[QUIET].relay_closed


def test_unknown_action_is_refused_before_sending(driver, meters):
    with pytest.raises(ValidationError, match="unknown relay action"):
        driver.set_relay(QUIET, "explode")
    assert meters[QUIET].commands_applied == []


# -- credit --------------------------------------------------------------------------------
def test_credit_push_with_the_right_count_then_a_retry(driver, meters):
    meter = meters[QUIET]
    driver.push_credit(QUIET, Decimal("50.00"), 13)
    # 88.40 + 50.00 = 138.40
    assert meter.balance == Decimal("138.40") and meter.purchase_count == 13
    assert driver.read(QUIET).balance == Decimal("138.40")
    with pytest.raises(MeterRefused) as caught:
        driver.push_credit(QUIET, Decimal("50.00"), 13)  # lost acknowledgement, pushed again
    assert caught.value.code == codec.ERR_OTHER
    assert meter.balance == Decimal("138.40")
    assert driver.read_purchase_count(QUIET) == 13


def test_credit_push_with_a_wrong_count_is_refused(driver, meters):
    with pytest.raises(MeterRefused):
        driver.push_credit(QUIET, Decimal("50.00"), 15)
    assert meters[QUIET].balance == Decimal("88.40") and meters[QUIET].purchase_count == 12


def test_credit_amount_must_be_whole_cents(driver, meters):
    with pytest.raises(ValidationError, match="more than 2 decimals"):
        driver.push_credit(QUIET, Decimal("10.005"), 13)
    assert meters[QUIET].purchase_count == 12


# -- time -----------------------------------------------------------------------------------
TARGET = datetime.datetime(2030, 1, 2, 3, 4, 5)
SLACK = datetime.timedelta(seconds=30)  # generous: covers the test's own run time


def test_broadcast_time_sync_changes_every_meter_clock(driver, meters):
    driver.sync_time(None, TARGET)
    # no reply to a time sync: the next exchange on the same bus sees the new clock
    assert TARGET <= driver.read_clock(QUIET) <= TARGET + SLACK
    assert TARGET <= meters[BUSY].meter_time() <= TARGET + SLACK


def test_addressed_time_sync_changes_one_clock(driver, meters):
    driver.sync_time(BUSY, TARGET)
    assert TARGET <= driver.read_clock(BUSY) <= TARGET + SLACK
    assert abs(meters[QUIET].meter_time() - datetime.datetime.now()) < SLACK


# -- checks on the reply ------------------------------------------------------------------
class CrossedResponder(Dlt645Responder):
    """A faulty bus: every reply comes back under another meter's address."""

    def handle(self, request, now=None):
        reply = super().handle(request, now)
        if reply is None:
            return None
        frame = codec.parse_frame(reply)
        return codec.build_frame(BUSY, frame.control, frame.data)


class WrongItemResponder(Dlt645Responder):
    """A faulty meter: answers every read with the voltage item."""

    def handle(self, request, now=None):
        frame = codec.parse_frame(request)
        if frame.function == codec.FN_READ:
            request = codec.build_read(frame.address, codec.DI_VOLTAGE_A)
        return super().handle(request, now)


@pytest.mark.parametrize(
    "responder_class, message",
    [
        (CrossedResponder, "a reply from meter 000000000002 to function 11H"),
        (WrongItemResponder, "for data item 02010100"),
    ],
)
def test_reply_must_answer_the_request(meters, responder_class, message):
    # A frame that answers another request (another meter, another item) is not the
    # reply: it is set aside and the driver waits for its own reply until the deadline
    # (it used to be a ProtocolError at once; now a late reply to an earlier request
    # cannot make the next meter's reading fail). The timeout says what was set aside.
    with SimulatorServer(tick_interval=None) as server:
        gateway = serve(server, responder_class(meters), meters)
        with TcpTransport(gateway.host, gateway.port, timeout=0.3) as transport:
            with pytest.raises(TransportTimeout, match=message):
                Dlt645Driver(transport).read_purchase_count(QUIET)
            assert len(transport.take_strays()) == 1
