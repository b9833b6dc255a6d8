"""DL/T 645-2007 codec: published frames, BCD, data items, checksums, fuzzing.

Where the vectors come from (the standard's own text is not freely
published, so these are example exchanges reproduced in public
documentation and code; every checksum is re-added by hand below):

[A] "DLT645-2007报文解析", an exchange log reproduced on Chinese document
    sites (read of 00010000 and 02010100 from meter 000000000161).
[B] "DL645通信协议97/07规约(附上下行例子)", https://m.icode9.com/content-4-712469.html
    (also https://553668.com/manong/786292.html): read of 00010000 from meter
    000102030425, the wildcard read-address frame.
[C] 亿佰特 (Ebyte) IoT lab, https://mbb.eet-china.com/forum/topic/114707_1_1.html:
    read of the voltage block 0201FF00 from meter 652022122018.
[D] Holley EMCP source, com.holley.emcpshare.dcs.util.ProtocolMeter645_2007Util
    (public GitHub code): relay trip frame in a comment, and the 9CH reply.
[E] a public concentrator C source (function BroadcastTime_TxDATA_DL645):
    broadcast and single-address time sync frames in a comment.
"""

import datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prepaid_energy_core.errors import (
    ChecksumError,
    MeterRefused,
    ProtocolError,
    ValidationError,
)
from prepaid_energy_core.protocols import dlt645 as codec


def hexbytes(text):
    return bytes.fromhex(text)


# -- published vectors ----------------------------------------------------------------
def test_read_total_energy_request_vector_a():
    # [A] FE FE FE FE 68 61 01 00 00 00 00 68 11 04 33 33 34 33 14 16
    # CS = 68+61+01+00+00+00+00+68+11+04+33+33+34+33 = 214H -> 14H
    expected = hexbytes("FEFEFEFE 68 610100000000 68 11 04 33333433 14 16")
    assert codec.build_read("000000000161", 0x00010000) == expected


def test_read_total_energy_reply_vector_a():
    # [A] 68 61 01 00 00 00 00 68 91 08 33 33 34 33 59 33 33 33 8A 16
    # data -33H: 00 00 01 00 | 26 00 00 00 -> DI 00010000, BCD 00000026 -> 000000.26 kWh
    # CS = 68+61+01+68+91+08+33+33+34+33+59+33+33+33 = 38AH -> 8AH
    frame = codec.parse_frame(hexbytes("68 610100000000 68 91 08 33333433 59333333 8A 16"))
    assert frame.address == "000000000161"
    assert frame.is_reply and not frame.is_abnormal and frame.function == codec.FN_READ
    di, payload = codec.parse_read_reply(frame)
    assert di == 0x00010000
    assert codec.data_item(di).decode(payload) == Decimal("0.26")


def test_read_voltage_vector_a():
    # [A] request FE FE FE FE 68 61 01 00 00 00 00 68 11 04 33 34 34 35 17 16
    # CS = 68+61+01+68+11+04+33+34+34+35 = 217H -> 17H
    request = hexbytes("FEFEFEFE 68 610100000000 68 11 04 33343435 17 16")
    assert codec.build_read("000000000161", codec.DI_VOLTAGE_A) == request
    # reply 68 61 01 00 00 00 00 68 91 06 33 34 34 35 34 43 10 16
    # data -33H: 00 01 01 02 | 01 10 -> BCD 1001 -> 100.1 V
    # CS = 68+61+01+68+91+06+33+34+34+35+34+43 = 410H -> 10H
    frame = codec.parse_frame(hexbytes("68 610100000000 68 91 06 33343435 3443 10 16"))
    di, payload = codec.parse_read_reply(frame)
    assert di == codec.DI_VOLTAGE_A
    assert codec.data_item(di).decode(payload) == Decimal("100.1")


def test_read_total_energy_vector_b():
    # [B] 68 25 04 03 02 01 00 68 11 04 33 33 34 33 E1 16
    # CS = 68+25+04+03+02+01+00+68+11+04+33+33+34+33 = 1E1H -> E1H
    request = hexbytes("68 250403020100 68 11 04 33333433 E1 16")
    assert codec.build_read("000102030425", 0x00010000, preamble=False) == request
    # reply 68 25 04 03 02 01 00 68 91 08 33 33 34 33 75 39 45 33 8B 16
    # data -33H: 42 06 12 00 -> BCD 00120642 -> 1206.42 kWh
    # CS = FF (header 68..68) + 91+08 + CD (DI) + 75+39+45+33 = 38BH -> 8BH
    frame = codec.parse_frame(hexbytes("68 250403020100 68 91 08 33333433 75394533 8B 16"))
    assert frame.address == "000102030425"
    di, payload = codec.parse_read_reply(frame)
    assert codec.data_item(di).decode(payload) == Decimal("1206.42")


def test_voltage_block_vector_c():
    # [C] FE FE FE FE 68 18 20 12 22 20 65 68 11 04 33 32 34 35 A4 16
    # DI bytes -33H: 00 FF 01 02 -> 0201FF00
    # CS = 1C1H (68 18 20 12 22 20 65 68) + 11+04 + CEH (33+32+34+35) = 2A4H -> A4H
    request = hexbytes("FEFEFEFE 68 182012222065 68 11 04 33323435 A4 16")
    assert codec.build_read("652022122018", codec.DI_VOLTAGE_BLOCK) == request
    # reply FE FE FE FE 68 18 20 12 22 20 65 68 91 0A 33 32 34 35 33 33 33 33 C7 56 13 16
    # values -33H: 00 00 | 00 00 | 94 23 -> A 0.0 V, B 0.0 V, C BCD 2394 -> 239.4 V
    # CS = 1C1H + 91+0A + CEH + CCH (4 x 33) + C7+56 = 513H -> 13H
    reply = hexbytes("FEFEFEFE 68 182012222065 68 91 0A 33323435 33333333C756 13 16")
    frame = codec.parse_frame(reply)
    assert frame.preamble == 4
    di, payload = codec.parse_read_reply(frame)
    assert codec.data_item(di).decode(payload) == (Decimal("0.0"), Decimal("0.0"), Decimal("239.4"))


def test_wildcard_read_address_vector_b():
    # [B] 68 AA AA AA AA AA AA 68 13 00 DF 16
    # CS = 68 + 6 x AA + 68 + 13 + 00 = 4DFH -> DFH
    expected = hexbytes("68 AAAAAAAAAAAA 68 13 00 DF 16")
    assert codec.build_read_address(preamble=False) == expected
    frame = codec.parse_frame(expected)
    assert frame.address == codec.WILDCARD_ADDRESS
    assert frame.function == codec.FN_READ_ADDRESS and frame.data == b""


def test_relay_trip_vector_d():
    # [D] 68 11 11 11 11 11 11 68 1C 10 33 33 33 33 33 33 33 33 4D 33 57 74 48 45 38 4B 55 16
    # data -33H: password 00 00 00 00, operator 00 00 00 00, N1 1A (trip), N2 00,
    #            deadline ss mm hh DD MM YY = 24 41 15 12 05 18 -> 2018-05-12 15:41:24
    # CS = 68+66 (6 x 11)+68+1C+10 + 198 (8 x 33) + 4D+33+57+74+48+45+38+4B = 555H -> 55H
    expected = hexbytes("68 111111111111 68 1C 10 3333333333333333 4D33 57744845384B 55 16")
    deadline = datetime.datetime(2018, 5, 12, 15, 41, 24)
    built = codec.build_relay_control(
        "111111111111", codec.N1_TRIP, "00000000", "00000000", deadline, preamble=False
    )
    assert built == expected
    command = codec.parse_relay_control(codec.parse_frame(expected))
    assert (command.n1, command.n2, command.deadline) == (codec.N1_TRIP, 0, deadline)


def test_relay_trip_with_the_no_expiry_deadline_decodes_to_2099():
    # Vector [D] with the deadline head-ends send for "no expiry": 2099-12-30 23:59:59.
    # deadline ss mm hh DD MM YY = 59 59 23 30 12 99, +33H on the wire: 8C 8C 56 63 45 CC
    # CS = 68+66+68+1C+10 + 198 + 4D+33 + 8C+8C+56+63+45+CC = 65CH -> 5CH
    frame = hexbytes("68 111111111111 68 1C 10 3333333333333333 4D33 8C8C566345CC 5C 16")
    command = codec.parse_relay_control(codec.parse_frame(frame))
    # the two year digits mean 20YY: 99 is 2099, never 1999
    assert command.deadline == datetime.datetime(2099, 12, 30, 23, 59, 59)
    assert command.deadline == codec.NO_EXPIRY_DEADLINE
    built = codec.build_relay_control(
        "111111111111", codec.N1_TRIP, "00000000", "00000000", command.deadline, preamble=False
    )
    assert built == frame


def test_relay_normal_reply_vector_d():
    # [D] reply 68 11 11 11 11 11 11 68 9C 00 D2 16 (printed reversed in the source)
    # CS = 68 + 66 + 68 + 9C + 00 = 1D2H -> D2H
    expected = hexbytes("68 111111111111 68 9C 00 D2 16")
    assert codec.build_reply("111111111111", codec.FN_RELAY_CONTROL, preamble=False) == expected
    frame = codec.parse_frame(expected)
    assert frame.is_reply and not frame.is_abnormal and frame.function == codec.FN_RELAY_CONTROL


def test_broadcast_time_sync_vector_e():
    # [E] 68 99 99 99 99 99 99 68 08 06 84 55 43 38 39 4A 4B 16
    # data -33H: 51 22 10 05 06 17 -> ss mm hh DD MM YY -> 2017-06-05 10:22:51
    # CS = 68 + 396 (6 x 99) + 68 + 08 + 06 + 84+55+43+38+39+4A = 64BH -> 4BH
    expected = hexbytes("68 999999999999 68 08 06 84554338394A 4B 16")
    when = datetime.datetime(2017, 6, 5, 10, 22, 51)
    assert codec.build_time_sync(when, preamble=False) == expected
    assert codec.parse_time_sync(codec.parse_frame(expected)) == when


def test_single_address_time_sync_vector_e():
    # [E] 68 11 11 11 11 11 11 68 08 06 58 73 43 38 39 4A 0D 16
    # data -33H: 25 40 10 05 06 17 -> 2017-06-05 10:40:25
    # CS = 68+66+68+08+06 + 58+73+43+38+39+4A = 30DH -> 0DH
    expected = hexbytes("68 111111111111 68 08 06 58734338394A 0D 16")
    when = datetime.datetime(2017, 6, 5, 10, 40, 25)
    assert codec.build_time_sync(when, "111111111111", preamble=False) == expected


# -- read follow-up data (12H) ---------------------------------------------------------
# Layout as composed and parsed by icprog/dlt698.45 libDlt645/dlt645.c
# (composeProtocol07 / analyzeProtocol07): request C = 12H, L = 05H, DI0..DI3 then SEQ;
# replies 92H (last frame) / B2H (more follows) carry DI, the data and SEQ as the last
# data byte; a read reply with more to follow is B1H.
def test_read_follow_up_request_vector():
    # 68 61 01 00 00 00 00 68 12 05 33 32 34 33 34 49 16
    # DI 0001FF00 -> DI0..DI3 00 FF 01 00 -> +33H 33 32 34 33; SEQ 01 -> 34
    # CS = 68+61+01+68+12+05+33+32+34+33+34 = 349H -> 49H
    request = hexbytes("68 610100000000 68 12 05 33323433 34 49 16")
    assert codec.build_read_follow_up("000000000161", 0x0001FF00, 1, preamble=False) == request
    frame = codec.parse_frame(request)
    assert not frame.is_reply and frame.function == codec.FN_READ_FOLLOW_UP
    assert codec.parse_read_follow_up(frame) == (0x0001FF00, 1)


def test_read_follow_up_last_reply_vector():
    # 68 61 01 00 00 00 00 68 92 09 33 32 34 33 79 54 43 33 35 11 16
    # data -33H: DI 00 FF 01 00, value 46 21 10 00 -> BCD 00102146 -> 1021.46 kWh, SEQ 02
    # CS = 68+61+01+68+92+09 + 33+32+34+33 + 79+54+43+33 + 35 = 611H -> 11H
    reply = hexbytes("68 610100000000 68 92 09 33323433 79544333 35 11 16")
    built = codec.build_read_follow_up_reply(
        "000000000161", 0x0001FF00, hexbytes("46211000"), 2, preamble=False
    )
    assert built == reply
    frame = codec.parse_frame(reply)
    assert frame.is_reply and not frame.has_follow_up and frame.control == 0x92
    di, payload, sequence = codec.parse_read_follow_up_reply(frame)
    assert (di, sequence) == (0x0001FF00, 2)
    assert codec.DataItem(di, "one value", 4, 2).decode(payload) == Decimal("1021.46")


def test_follow_up_bit_in_read_and_follow_up_replies():
    first = codec.parse_frame(codec.build_read_reply("1", 0x0001FF00, bytes(8), follow_up=True))
    assert first.control == 0xB1 and first.has_follow_up
    more = codec.build_read_follow_up_reply("1", 0x0001FF00, bytes(4), 1, follow_up=True)
    assert codec.parse_frame(more).control == 0xB2
    with pytest.raises(ValidationError, match="SEQ must be a byte"):
        codec.build_read_follow_up("1", 0x0001FF00, 256)
    with pytest.raises(ProtocolError, match="DI, data and SEQ"):
        codec.parse_read_follow_up_reply(codec.parse_frame(codec.build_reply("1", 0x12, bytes(4))))


# -- checksums and framing -------------------------------------------------------------
VALID = hexbytes("FEFEFEFE 68 610100000000 68 91 08 33333433 59333333 8A 16")


def test_wrong_checksum_raises_checksum_error():
    damaged = bytearray(VALID)
    damaged[-2] ^= 0x01
    with pytest.raises(ChecksumError, match="checksum 8BH does not match the computed 8AH"):
        codec.parse_frame(bytes(damaged))


def test_damaged_data_byte_is_caught_by_the_checksum():
    damaged = bytearray(VALID)
    damaged[18] += 1  # 59H -> 5AH: the value changes, CS no longer adds up
    with pytest.raises(ChecksumError):
        codec.parse_frame(bytes(damaged))


def test_frame_length_waits_for_the_whole_frame_then_counts_the_preamble():
    for cut in range(len(VALID)):
        assert codec.frame_length(VALID[:cut]) is None, cut
    assert codec.frame_length(VALID) == len(VALID) == 4 + 12 + 8
    # bytes after the frame belong to the next read, not to this frame
    assert codec.frame_length(VALID + b"\x68\x00") == len(VALID)


@pytest.mark.parametrize(
    "garbage, message",
    [
        (b"\x00", "byte 0 is 00H where the frame start 68H"),
        (b"\xfe\xfe\x12", "byte 2 is 12H where the frame start 68H"),
        (hexbytes("68 610100000000 69"), "byte 7 is 69H where the second 68H"),
        (hexbytes("68 610100000000 68 91 00 8A 17"), "byte 11 is 17H where the end 16H"),
    ],
)
def test_frame_length_rejects_bytes_that_can_never_be_a_frame(garbage, message):
    with pytest.raises(ProtocolError, match=message):
        codec.frame_length(garbage)


def test_parse_frame_rejects_incomplete_and_trailing_bytes():
    with pytest.raises(ProtocolError, match="incomplete frame"):
        codec.parse_frame(VALID[:-1])
    with pytest.raises(ProtocolError, match="1 unexpected bytes after the end"):
        codec.parse_frame(VALID + b"\x00")


def test_parse_frame_rejects_a_non_bcd_address():
    body = hexbytes("68 6A0100000000 68 11 00")  # 6AH is neither BCD nor AAH
    frame = body + bytes([sum(body) & 0xFF, 0x16])
    with pytest.raises(ProtocolError, match="address byte 6AH"):
        codec.parse_frame(frame)


# -- abnormal replies ------------------------------------------------------------------
def test_abnormal_reply_becomes_meter_refused_with_the_error_byte():
    reply = codec.build_abnormal_reply("000000000001", codec.FN_READ, codec.ERR_NO_DATA)
    # control D1H = 80H reply + 40H abnormal + 11H read; ERR 02H goes as 35H on the wire
    assert reply[4 + 8 : 4 + 11] == bytes([0xD1, 0x01, 0x35])
    frame = codec.parse_frame(reply)
    assert frame.is_abnormal and frame.error_code == 0x02
    with pytest.raises(MeterRefused) as caught:
        codec.raise_if_abnormal(frame, "read 00010000")
    assert caught.value.code == 0x02
    assert "no requested data" in caught.value.reason


def test_error_byte_with_several_bits_lists_every_reason():
    reasons = codec.describe_error(codec.ERR_PASSWORD | codec.ERR_TARIFFS)
    assert reasons == "password error or unauthorised; tariff count exceeded"
    assert "no ERR bit" in codec.describe_error(0)


def test_abnormal_reply_without_exactly_one_error_byte_is_a_protocol_error():
    frame = codec.parse_frame(codec.build_frame("000000000001", 0xD1, b"\x01\x02"))
    with pytest.raises(ProtocolError, match="one error byte"):
        codec.raise_if_abnormal(frame)


# -- BCD, addresses, credentials -------------------------------------------------------
def test_bcd_is_low_byte_first():
    assert codec.to_bcd(12345678, 4) == bytes([0x78, 0x56, 0x34, 0x12])
    assert codec.from_bcd(bytes([0x78, 0x56, 0x34, 0x12])) == 12345678


@given(
    st.integers(min_value=1, max_value=8).flatmap(
        lambda n: st.tuples(st.just(n), st.integers(min_value=0, max_value=100**n - 1))
    )
)
def test_bcd_round_trip(case):
    length, value = case
    assert codec.from_bcd(codec.to_bcd(value, length)) == value


@pytest.mark.parametrize("raw", [b"\x0a", b"\xa0", b"\x12\x3f", b""])
def test_non_bcd_nibble_is_a_protocol_error(raw):
    with pytest.raises(ProtocolError, match="not BCD"):
        codec.from_bcd(raw)


@pytest.mark.parametrize("value", [-1, 10000, "12", 1.5, True])
def test_bcd_encoding_refuses_what_does_not_fit(value):
    with pytest.raises(ValidationError):
        codec.to_bcd(value, 2)


def test_addresses():
    assert codec.normalize_address("161") == "000000000161"
    assert codec.encode_address("000102030425") == bytes([0x25, 0x04, 0x03, 0x02, 0x01, 0x00])
    assert codec.address_matches("AAAAAAAAAA25", "000102030425")
    assert not codec.address_matches("AAAAAAAAAA26", "000102030425")
    assert codec.is_wildcard("AAAAAAAAAA25") and not codec.is_wildcard("000102030425")
    for bad in ("1234567890123", "12345678901A", "", 161):
        with pytest.raises(ValidationError):
            codec.normalize_address(bad)


def test_password_and_operator_go_low_byte_first_after_the_level():
    # password level 02, password 123456 -> PA P0 P1 P2 = 02 56 34 12
    assert codec.encode_password("02123456") == bytes([0x02, 0x56, 0x34, 0x12])
    assert codec.decode_password(bytes([0x02, 0x56, 0x34, 0x12])) == "02123456"
    assert codec.encode_operator("0A0B0C0D") == bytes([0x0D, 0x0C, 0x0B, 0x0A])
    for bad in ("0212345", "0212345G", None):
        with pytest.raises(ValidationError):
            codec.encode_password(bad)


# -- data items ------------------------------------------------------------------------
def test_registry_holds_the_items_the_drivers_use():
    expected = {
        0x00010000: (4, 2, "kWh"),
        0x00010100: (4, 2, "kWh"),
        0x00010400: (4, 2, "kWh"),
        0x02010100: (2, 1, "V"),
        0x02020100: (3, 3, "A"),
        0x02030000: (3, 4, "kW"),
        0x00900200: (4, 2, "money"),
        0x03330201: (2, 0, ""),
        0x04000503: (2, 0, ""),
    }
    for di, shape in expected.items():
        item = codec.data_item(di)
        assert (item.length, item.decimals, item.unit) == shape, hex(di)
    assert [codec.data_item(di).band for di in range(0x00010100, 0x00010500, 0x100)] == [
        "sharp",
        "peak",
        "flat",
        "valley",
    ]
    with pytest.raises(ValidationError, match="not in the DL/T 645 registry"):
        codec.data_item(0x12345678)


def test_signed_current_uses_the_top_bit():
    current = codec.data_item(codec.DI_CURRENT_A)
    # -1.234 A -> magnitude 001234 -> bytes 34 12 00, sign bit on the top byte -> 34 12 80
    assert current.encode(Decimal("-1.234")) == bytes([0x34, 0x12, 0x80])
    assert current.decode(bytes([0x34, 0x12, 0x80])) == Decimal("-1.234")
    assert current.decode(bytes([0x34, 0x12, 0x00])) == Decimal("1.234")


def test_encoding_truncates_to_the_register_resolution():
    energy = codec.data_item(codec.DI_FORWARD_ACTIVE_TOTAL)
    # 1234.56789 kWh shows as 1234.56 (a register never shows energy not yet counted)
    assert energy.encode(Decimal("1234.56789")) == bytes([0x56, 0x34, 0x12, 0x00])


def test_values_that_do_not_fit_are_refused():
    power = codec.data_item(codec.DI_ACTIVE_POWER_TOTAL)
    with pytest.raises(ValidationError, match="does not fit"):
        power.encode(Decimal("80"))  # XX.XXXX with a sign bit tops at 79.9999
    with pytest.raises(ValidationError, match="cannot be negative"):
        codec.data_item(codec.DI_REMAINING_MONEY).encode(Decimal("-0.01"))
    with pytest.raises(ValidationError):
        codec.data_item(codec.DI_REMAINING_MONEY).encode(1.5)  # float money


def test_wrong_payload_length_is_a_protocol_error():
    with pytest.raises(ProtocolError, match="expected 4 bytes, got 3"):
        codec.data_item(codec.DI_FORWARD_ACTIVE_TOTAL).decode(b"\x00\x00\x00")
    with pytest.raises(ProtocolError, match="expected n x 4 bytes, got 6"):
        codec.data_item(codec.DI_DAILY_FROZEN_FORWARD_ACTIVE).decode(bytes(6))


def test_date_and_time_items():
    date_item = codec.data_item(codec.DI_DATE)
    # 2024-02-29 was a Thursday: WW = 04, then DD MM YY = 29 02 24
    assert date_item.encode(datetime.date(2024, 2, 29)) == bytes([0x04, 0x29, 0x02, 0x24])
    assert date_item.decode(bytes([0x04, 0x29, 0x02, 0x24])) == datetime.date(2024, 2, 29)
    time_item = codec.data_item(codec.DI_TIME)
    assert time_item.encode(datetime.time(23, 59, 7)) == bytes([0x07, 0x59, 0x23])
    with pytest.raises(ProtocolError, match="not a valid date"):
        date_item.decode(bytes([0x00, 0x30, 0x02, 0x24]))  # 30 February


# YY 00, 68/69 (where two-digit-year parsing pivots to the 1900s) and 99
@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("00 00 00 01 01 00", datetime.datetime(2000, 1, 1, 0, 0, 0)),
        ("59 59 23 31 12 68", datetime.datetime(2068, 12, 31, 23, 59, 59)),
        ("40 17 20 20 07 69", datetime.datetime(2069, 7, 20, 20, 17, 40)),
        ("59 59 23 30 12 99", datetime.datetime(2099, 12, 30, 23, 59, 59)),
    ],
)
def test_two_year_digits_mean_20yy(wire, expected):
    # ss mm hh DD MM YY, low byte first: YY is the year 20YY (2000..2099)
    assert codec.decode_datetime(hexbytes(wire)) == expected
    assert codec.encode_datetime(expected) == hexbytes(wire)


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("06 01 01 00", datetime.date(2000, 1, 1)),  # a Saturday: WW = 06
        ("00 21 07 69", datetime.date(2069, 7, 21)),  # a Sunday: WW = 00
        ("03 30 12 99", datetime.date(2099, 12, 30)),  # a Wednesday: WW = 03
    ],
)
def test_date_item_years_mean_20yy(wire, expected):
    # 04000101 date and week day: WW DD MM YY, sent WW first
    date_item = codec.data_item(codec.DI_DATE)
    assert date_item.decode(hexbytes(wire)) == expected
    assert date_item.encode(expected) == hexbytes(wire)


@pytest.mark.parametrize(
    "when",
    [
        datetime.datetime(2000, 1, 1, 0, 0, 0),
        datetime.datetime(2024, 2, 29, 12, 30, 5),
        datetime.datetime(2068, 12, 31, 23, 59, 59),
        datetime.datetime(2069, 1, 1, 0, 0, 0),
        datetime.datetime(2099, 12, 31, 23, 59, 59),
    ],
)
def test_date_time_round_trips_through_the_frames(when):
    sync = codec.parse_frame(codec.build_time_sync(when))
    assert codec.parse_time_sync(sync) == when
    relay = codec.build_relay_control("1", codec.N1_TRIP, "02000000", "00000000", when)
    assert codec.parse_relay_control(codec.parse_frame(relay)).deadline == when
    date_item, time_item = codec.data_item(codec.DI_DATE), codec.data_item(codec.DI_TIME)
    assert date_item.decode(date_item.encode(when.date())) == when.date()
    assert time_item.decode(time_item.encode(when.time())) == when.time()


def test_dates_outside_20yy_or_with_a_zone_are_refused():
    with pytest.raises(ValidationError, match="2100 is not in 2000..2099"):
        codec.encode_datetime(datetime.datetime(2100, 1, 1))
    with pytest.raises(ValidationError, match="1999 is not in 2000..2099"):
        codec.encode_datetime(datetime.datetime(1999, 12, 31, 23, 59, 59))
    with pytest.raises(ValidationError, match="year 2100 is not in 2000..2099"):
        codec.data_item(codec.DI_DATE).encode(datetime.date(2100, 1, 1))
    aware = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    with pytest.raises(ValidationError, match="time zone"):
        codec.encode_datetime(aware)
    with pytest.raises(ProtocolError, match="not a valid date-time"):
        codec.decode_datetime(hexbytes("00 00 00 31 02 69"))  # 31 February 2069


def test_status_word_3_bits():
    status = codec.Status3.from_word(0x1050)  # bits 4, 6 and 12
    assert status == codec.Status3(
        relay_open=True, relay_command_open=True, pre_trip_alarm=False, keep_power=True
    )


numeric_items = [item for item in codec.DATA_ITEMS.values() if item.kind == codec.KIND_NUMBER]


@settings(max_examples=200)
@given(st.sampled_from(numeric_items), st.data())
def test_numeric_items_round_trip(item, data):
    # largest magnitude: all 2 x length digits 9, or a top digit of 7 under a sign bit
    top = 8 * 10 ** (2 * item.length - 1) - 1 if item.signed else 100**item.length - 1
    low = -top if item.signed else 0
    count = item.count or data.draw(st.integers(min_value=1, max_value=5))
    scaled = data.draw(st.lists(st.integers(low, top), min_size=count, max_size=count))
    values = [Decimal(n).scaleb(-item.decimals) for n in scaled]
    value = values[0] if item.count == 1 else tuple(values)
    assert item.decode(item.encode(value)) == value


def test_vendor_purchase_data():
    # amount 50.00 -> BCD 00005000 -> 00 50 00 00; count 7 -> 07 00
    assert codec.encode_purchase(Decimal("50.00"), 7) == bytes([0x00, 0x50, 0x00, 0x00, 0x07, 0x00])
    assert codec.decode_purchase(bytes([0x00, 0x50, 0x00, 0x00, 0x07, 0x00])) == (
        Decimal("50.00"),
        7,
    )
    for amount, count in ((Decimal("0.001"), 1), (Decimal("0"), 1), ("10", 0), ("10", 10000)):
        with pytest.raises(ValidationError):
            codec.encode_purchase(amount, count)


# -- round trips and fuzzing -----------------------------------------------------------
addresses = st.lists(st.integers(0, 99), min_size=6, max_size=6).map(
    lambda pairs: "".join(f"{pair:02d}" for pair in pairs)
)


@given(addresses, st.integers(0, 255), st.binary(max_size=255), st.booleans())
def test_build_then_parse_gives_the_frame_back(address, control, data, preamble):
    raw = codec.build_frame(address, control, data, preamble)
    assert codec.frame_length(raw) == len(raw)
    frame = codec.parse_frame(raw)
    assert (frame.address, frame.control, frame.data) == (address, control, data)
    assert frame.preamble == (4 if preamble else 0)


def _parse_or_protocol_error(raw):
    """Call the parsers; anything but ProtocolError escaping fails the test."""
    try:
        codec.frame_length(raw)
    except ProtocolError:
        pass
    try:
        frame = codec.parse_frame(raw)
    except ProtocolError:
        return
    assert (
        codec.build_frame(frame.address, frame.control, frame.data, False) == raw[frame.preamble :]
    )


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_random_bytes_only_ever_raise_protocol_error(raw):
    _parse_or_protocol_error(raw)


@settings(max_examples=300)
@given(st.binary(max_size=40))
def test_random_bytes_after_a_frame_start_only_ever_raise_protocol_error(tail):
    _parse_or_protocol_error(b"\xfe\xfe\x68" + tail)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_valid_frames_only_ever_raise_protocol_error(data):
    raw = bytearray(VALID)
    for _ in range(data.draw(st.integers(1, 4))):
        operation = data.draw(st.sampled_from(["flip", "drop", "insert", "truncate"]))
        if not raw:
            break
        index = data.draw(st.integers(0, len(raw) - 1))
        if operation == "flip":
            raw[index] ^= data.draw(st.integers(1, 255))
        elif operation == "drop":
            del raw[index]
        elif operation == "insert":
            raw.insert(index, data.draw(st.integers(0, 255)))
        else:
            del raw[index:]
    _parse_or_protocol_error(bytes(raw))
