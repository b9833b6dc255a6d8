"""The simulator's DL/T 645-2007 responder: request bytes in, reply bytes out.

Every test drives real SimMeters at fixed host times (``now=``), so the
expected figures are computed by hand in the comments.
"""

import datetime
from decimal import Decimal

import pytest

from prepaid_energy_core.errors import ValidationError
from prepaid_energy_core.protocols import dlt645 as codec
from prepaid_energy_core.simulator.dlt645_responder import Dlt645Responder
from prepaid_energy_core.simulator.meter import SimMeter
from prepaid_energy_core.vocabulary import RELAY_TRIP

T0 = datetime.datetime(2024, 3, 5, 9, 0, 0)  # a Tuesday, 09:00: the "peak" band
ADDRESS = "000000000161"
OTHER = "000000000162"
PASSWORD = "02123456"
OPERATOR = "0000ABCD"


@pytest.fixture
def meter():
    return SimMeter(
        ADDRESS,
        load_kw=Decimal("1.5"),
        total=Decimal("1234.56789"),
        balance=Decimal("20.00"),
        purchase_count=3,
        start=T0,
    )


@pytest.fixture
def other():
    return SimMeter(OTHER, load_kw=Decimal("0"), start=T0)


@pytest.fixture
def responder(meter, other):
    return Dlt645Responder({ADDRESS: meter, OTHER: other}, password=PASSWORD)


def read(responder, di, now=T0, address=ADDRESS):
    """Send a read; return the parsed reply frame."""
    return codec.parse_frame(responder.handle(codec.build_read(address, di), now=now))


def value_of(reply):
    di, payload = codec.parse_read_reply(reply)
    return codec.data_item(di).decode(payload)


def relay(responder, n1, now=T0, password=PASSWORD, deadline=None, address=ADDRESS):
    deadline = deadline or now + datetime.timedelta(minutes=5)
    request = codec.build_relay_control(address, n1, password, OPERATOR, deadline)
    return codec.parse_frame(responder.handle(request, now=now))


def push_credit(responder, amount, count, password=PASSWORD, now=T0):
    payload = codec.encode_purchase(Decimal(amount), count)
    request = codec.build_write(ADDRESS, codec.VENDOR_PURCHASE_DI, payload, password, OPERATOR)
    return codec.parse_frame(responder.handle(request, now=now))


# -- reads ---------------------------------------------------------------------------------
def test_read_total_energy_bytes(responder):
    reply = responder.handle(codec.build_read(ADDRESS, 0x00010000), now=T0)
    # 1234.56789 kWh shows as 1234.56 -> BCD 00 12 34 56 -> low first 56 34 12 00
    # +33H: DI 33 33 34 33, value 89 67 45 33
    # CS = 68+61+01+68 (132H) + 91+08 (1D3H) + CDH for the DI (2A0H)
    #      + 89+67+45+33 (168H) = 408H -> 00H
    expected = bytes.fromhex("FEFEFEFE 68 610100000000 68 91 08 33333433 89674533 00 16")
    assert reply == expected


def test_energy_follows_the_load_into_the_current_band(responder, meter):
    one_hour_later = T0 + datetime.timedelta(hours=1)
    # 1.5 kW for 1 h = 1.5 kWh, all in "peak" (09:00-10:00): 1234.56789 + 1.5 = 1236.06789
    assert value_of(read(responder, 0x00010000, one_hour_later)) == Decimal("1236.06")
    assert value_of(read(responder, 0x00010200, one_hour_later)) == Decimal("1.50")  # tariff 2
    assert value_of(read(responder, 0x00010300, one_hour_later)) == Decimal("0.00")  # tariff 3
    assert meter.total == Decimal("1236.06789")


def test_block_read_gives_total_then_tariffs(responder, meter):
    meter.bands.update(
        sharp=Decimal("1"), peak=Decimal("2"), flat=Decimal("3"), valley=Decimal("4")
    )
    values = value_of(read(responder, codec.DI_FORWARD_ACTIVE_BLOCK))
    assert values == tuple(Decimal(v) for v in ("1234.56", "1.00", "2.00", "3.00", "4.00"))


def follow_up(responder, di, sequence, now=T0, address=ADDRESS):
    request = codec.build_read_follow_up(address, di, sequence)
    return codec.parse_frame(responder.handle(request, now=now))


def test_block_answer_split_into_follow_up_frames(meter, other):
    # 5 values of 4 bytes; a frame carries at most 13 data bytes: DI + 2 values
    # (+ SEQ in follow-ups): 2 values (B1H), 2 values (B2H, SEQ 1), 1 value (92H, SEQ 2)
    responder = Dlt645Responder({ADDRESS: meter, OTHER: other}, reply_data_limit=13)
    meter.bands.update(
        sharp=Decimal("1"), peak=Decimal("2"), flat=Decimal("3"), valley=Decimal("4")
    )
    block = codec.DI_FORWARD_ACTIVE_BLOCK
    first = read(responder, block)
    assert first.control == 0xB1 and len(first.data) == 4 + 8
    second = follow_up(responder, block, 1)
    assert second.control == 0xB2 and len(second.data) == 4 + 8 + 1
    last = follow_up(responder, block, 2)
    assert last.control == 0x92 and len(last.data) == 4 + 4 + 1
    payload = first.data[4:] + second.data[4:-1] + last.data[4:-1]
    assert (second.data[-1], last.data[-1]) == (1, 2)
    values = codec.data_item(block).decode(payload)
    assert values == tuple(Decimal(v) for v in ("1234.56", "1.00", "2.00", "3.00", "4.00"))
    # the answer is handed over once: a further follow-up has nothing left
    done = follow_up(responder, block, 3)
    assert done.control == 0xD2 and done.error_code == codec.ERR_NO_DATA


def test_follow_up_must_carry_the_next_sequence_and_item(meter, other):
    responder = Dlt645Responder({ADDRESS: meter, OTHER: other}, reply_data_limit=13)
    block = codec.DI_FORWARD_ACTIVE_BLOCK
    assert follow_up(responder, block, 1).control == 0xD2  # no read before it
    assert read(responder, block).control == 0xB1
    assert follow_up(responder, block, 2).control == 0xD2  # SEQ 1 comes first
    assert follow_up(responder, codec.DI_VOLTAGE_BLOCK, 1).control == 0xD2  # another item
    assert follow_up(responder, block, 1).control == 0xB2  # still waiting for SEQ 1
    # short items still fit in one frame
    assert read(responder, codec.DI_FORWARD_ACTIVE_TOTAL).control == 0x91


def test_meter_without_read_follow_up_refuses_12h(meter, other):
    responder = Dlt645Responder(
        {ADDRESS: meter, OTHER: other}, reply_data_limit=13, read_follow_up=False
    )
    assert read(responder, codec.DI_FORWARD_ACTIVE_BLOCK).control == 0xB1
    refused = follow_up(responder, codec.DI_FORWARD_ACTIVE_BLOCK, 1)
    assert refused.control == 0xD2 and refused.error_code == codec.ERR_OTHER


def test_instantaneous_values(responder):
    assert value_of(read(responder, codec.DI_VOLTAGE_A)) == Decimal("230.0")
    assert value_of(read(responder, codec.DI_ACTIVE_POWER_TOTAL)) == Decimal("1.5000")
    # I = 1500 W / 230 V = 6.5217... A, truncated to 6.521
    assert value_of(read(responder, codec.DI_CURRENT_A)) == Decimal("6.521")


def test_money_and_purchase_count(responder, meter):
    assert value_of(read(responder, codec.DI_REMAINING_MONEY)) == Decimal("20.00")
    assert value_of(read(responder, codec.DI_PURCHASE_COUNT)) == Decimal(3)
    meter.balance = Decimal("-3.25")
    # the register shows no negative money: remaining 0, overdraft 3.25
    assert value_of(read(responder, codec.DI_REMAINING_MONEY)) == Decimal("0.00")
    assert value_of(read(responder, codec.DI_OVERDRAFT_MONEY)) == Decimal("3.25")


def test_meter_clock(responder, meter):
    meter.set_time(datetime.datetime(2030, 1, 2, 3, 4, 5), now=T0)
    assert value_of(read(responder, codec.DI_DATE)) == datetime.date(2030, 1, 2)
    later = T0 + datetime.timedelta(seconds=10)
    assert value_of(read(responder, codec.DI_TIME, later)) == datetime.time(3, 4, 15)


def test_unknown_data_item_gets_no_requested_data(responder):
    reply = read(responder, 0x05060101)  # daily frozen energy: no history in the simulator
    assert reply.control == 0xD1 and reply.error_code == codec.ERR_NO_DATA


def test_wildcard_read_address_needs_exactly_one_meter(responder, meter, other):
    assert responder.handle(codec.build_read_address(), now=T0) is None  # two meters would collide
    other.dead = True
    reply = codec.parse_frame(responder.handle(codec.build_read_address(), now=T0))
    # reply 93H carries the meter's address as data
    assert reply.control == 0x93
    assert reply.address == ADDRESS and codec.decode_address(reply.data) == ADDRESS


def test_shortened_address_selects_one_meter(responder):
    reply = read(responder, codec.DI_VOLTAGE_A, address="AAAAAAAAAA62")
    assert reply.address == OTHER and value_of(reply) == Decimal("230.0")


@pytest.mark.parametrize(
    "request_bytes",
    [
        codec.build_read("000000000999", 0x00010000),  # nobody has this address
        codec.build_read_reply(ADDRESS, 0x00010000, bytes(4)),  # a reply overheard on the bus
        codec.build_read(ADDRESS, 0x00010000)[:-2] + b"\x00\x16",  # bad checksum
        b"\x00\x01\x02",  # noise
    ],
)
def test_no_answer(responder, request_bytes):
    assert responder.handle(request_bytes, now=T0) is None


def test_dead_meter_does_not_answer(responder, meter):
    meter.dead = True
    assert responder.handle(codec.build_read(ADDRESS, 0x00010000), now=T0) is None


# -- relay control -----------------------------------------------------------------------
def status_word(responder):
    return value_of(read(responder, codec.DI_STATUS_WORD_3))


def test_trip_opens_the_relay_and_stops_the_energy(responder, meter):
    reply = relay(responder, codec.N1_TRIP)
    assert reply.control == 0x9C and reply.data == b""
    assert not meter.relay_closed
    # bit 4 relay open + bit 6 trip command in force = 0x0050
    assert status_word(responder) == 0x0050
    one_hour_later = T0 + datetime.timedelta(hours=1)
    assert value_of(read(responder, 0x00010000, one_hour_later)) == Decimal("1234.56")


def test_close_allowed_waits_for_the_button(responder, meter):
    relay(responder, codec.N1_TRIP)
    assert relay(responder, codec.N1_CLOSE_ALLOWED).control == 0x9C
    assert not meter.relay_closed and meter.close_allowed
    assert status_word(responder) == 0x0010  # open, but no trip command any more
    meter.press_button(now=T0)
    assert meter.relay_closed and status_word(responder) == 0


def test_direct_close(responder, meter):
    relay(responder, codec.N1_TRIP)
    assert relay(responder, codec.N1_CLOSE).control == 0x9C
    assert meter.relay_closed


def test_keep_power_refuses_a_trip(responder, meter):
    assert relay(responder, codec.N1_KEEP_POWER_ON).control == 0x9C
    assert meter.keep_power and status_word(responder) == 0x1000  # bit 12 keep-power
    refused = relay(responder, codec.N1_TRIP)
    assert refused.control == 0xDC and refused.error_code == codec.ERR_OTHER
    assert meter.relay_closed
    assert relay(responder, codec.N1_KEEP_POWER_OFF).control == 0x9C
    assert not meter.keep_power
    assert relay(responder, codec.N1_TRIP).control == 0x9C and not meter.relay_closed


def test_wrong_password_is_refused_and_changes_nothing(responder, meter):
    reply = relay(responder, codec.N1_TRIP, password="02654321")
    assert reply.control == 0xDC and reply.error_code == codec.ERR_PASSWORD
    assert meter.relay_closed and meter.commands_applied == []


def test_command_past_its_deadline_cannot_act(responder, meter):
    deadline = T0 - datetime.timedelta(seconds=1)
    reply = relay(responder, codec.N1_TRIP, deadline=deadline)
    assert reply.control == 0xDC and reply.error_code == codec.ERR_OTHER
    assert meter.relay_closed


def test_no_expiry_deadline_of_2099_is_applied(responder, meter):
    reply = relay(responder, codec.N1_TRIP, deadline=datetime.datetime(2099, 12, 30, 23, 59, 59))
    assert reply.control == 0x9C
    assert not meter.relay_closed and meter.commands_applied == [(RELAY_TRIP, T0)]


def test_meter_clock_outside_the_two_digit_years_is_refused_not_dropped(responder, meter):
    meter.set_time(datetime.datetime(2100, 1, 1), now=T0)
    reply = read(responder, codec.DI_DATE)
    assert reply.is_abnormal and reply.error_code == codec.ERR_OTHER


def test_deadline_is_judged_by_the_meter_clock(responder, meter):
    # host 09:00, deadline 09:05, but the meter's clock reads 09:10: too late
    meter.set_time(T0 + datetime.timedelta(minutes=10), now=T0)
    assert relay(responder, codec.N1_TRIP).control == 0xDC
    assert meter.relay_closed


def test_unknown_n1_is_refused(responder, meter):
    reply = relay(responder, codec.N1_ALARM)  # alarm (2AH) is not simulated
    assert reply.control == 0xDC and meter.relay_closed


def test_relay_control_with_a_malformed_data_field_is_refused(responder, meter):
    request = codec.build_frame(ADDRESS, codec.FN_RELAY_CONTROL, bytes(15))
    reply = codec.parse_frame(responder.handle(request, now=T0))
    assert reply.control == 0xDC and meter.relay_closed


def test_operator_is_checked_when_configured(meter):
    responder = Dlt645Responder({ADDRESS: meter}, password=PASSWORD, operator="00000001")
    refused = relay(responder, codec.N1_TRIP)  # the helper sends operator 0000ABCD
    assert refused.error_code == codec.ERR_PASSWORD and meter.relay_closed


# -- credit -------------------------------------------------------------------------------
def test_credit_with_the_next_count_is_applied_once(responder, meter):
    reply = push_credit(responder, "50.00", 4)
    assert reply.control == 0x94 and reply.data == b""
    assert meter.balance == Decimal("70.00") and meter.purchase_count == 4
    again = push_credit(responder, "50.00", 4)  # a retried push: already applied
    assert again.control == 0xD4 and again.error_code == codec.ERR_OTHER
    assert meter.balance == Decimal("70.00") and meter.purchase_count == 4


def test_credit_with_a_skipped_count_is_refused(responder, meter):
    assert push_credit(responder, "50.00", 6).control == 0xD4
    assert meter.balance == Decimal("20.00") and meter.purchase_count == 3


def test_credit_needs_the_password(responder, meter):
    reply = push_credit(responder, "50.00", 4, password="02000000")
    assert reply.error_code == codec.ERR_PASSWORD and meter.balance == Decimal("20.00")


def test_write_of_another_item_is_refused(responder):
    request = codec.build_write(ADDRESS, 0x04000101, bytes(4), PASSWORD, OPERATOR)
    reply = codec.parse_frame(responder.handle(request, now=T0))
    assert reply.control == 0xD4 and reply.error_code == codec.ERR_NO_DATA


# -- time sync --------------------------------------------------------------------------
def test_broadcast_time_sync_sets_every_clock_without_a_reply(responder, meter, other):
    when = datetime.datetime(2030, 1, 2, 3, 4, 5)
    assert responder.handle(codec.build_time_sync(when), now=T0) is None
    assert meter.meter_time(T0) == when and other.meter_time(T0) == when


def test_addressed_time_sync_sets_one_clock(responder, meter, other):
    when = datetime.datetime(2030, 1, 2, 3, 4, 5)
    assert responder.handle(codec.build_time_sync(when, OTHER), now=T0) is None
    assert other.meter_time(T0) == when and meter.meter_time(T0) == T0


def test_meters_with_wildcard_addresses_are_refused():
    with pytest.raises(ValidationError):
        Dlt645Responder({"AAAAAAAAAAAA": SimMeter("x")})
