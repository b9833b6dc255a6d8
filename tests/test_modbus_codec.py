"""Modbus codec: spec vectors, CRC, framing, exceptions, timing, fuzzing.

Vector sources:
- [AP] MODBUS Application Protocol Specification V1.1b3: the request and
  response examples of section 6 (6.1 read coils, 6.3 read holding
  registers, 6.4 read input registers, 6.5 write single coil, 6.6 write
  single register, 6.12 write multiple registers) and of section 7
  (exception response to a read coils request).
- [SL] MODBUS over Serial Line Specification and Implementation Guide
  V1.02, section 6.2.2 (CRC generation): the worked example of the
  two-byte message 02 07, whose CRC 0x1241 is sent as 41 12.
Where a full RTU frame is needed, the spec's PDU is wrapped with unit 0x11
and the CRC computed here; those CRCs are cross-checked against pymodbus's
independent implementation, not claimed to come from a spec.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU

from prepaid_energy_core.errors import (
    ChecksumError,
    MeterRefused,
    ProtocolError,
    ValidationError,
)
from prepaid_energy_core.protocols import modbus
from prepaid_energy_core.simulator.meter import SimMeter
from prepaid_energy_core.simulator.modbus_responder import (
    ModbusRtuResponder,
    ModbusTcpResponder,
)

H = bytes.fromhex

# (function, address, arg, request PDU, response PDU, parsed result) from [AP]
SPEC_EXAMPLES = [
    # 6.1: read coils 20-38 -> 19 coils in CD 6B 05 (LSB first)
    (
        modbus.READ_COILS, 0x0013, 19, H("01 0013 0013"), H("01 03 CD 6B 05"),
        [True, False, True, True, False, False, True, True,   # CD = 1100 1101
         True, True, False, True, False, True, True, False,   # 6B = 0110 1011
         True, False, True],                                  # 05 = 0000 0101
    ),
    # 6.3: read holding registers 108-110 -> 0x022B (555), 0, 0x0064 (100)
    (modbus.READ_HOLDING_REGISTERS, 0x006B, 3, H("03 006B 0003"),
     H("03 06 022B 0000 0064"), [555, 0, 100]),
    # 6.4: read input register 9 -> 0x000A (10)
    (modbus.READ_INPUT_REGISTERS, 0x0008, 1, H("04 0008 0001"), H("04 02 000A"), [10]),
    # 6.5: write single coil 173 ON, echoed
    (modbus.WRITE_SINGLE_COIL, 0x00AC, True, H("05 00AC FF00"), H("05 00AC FF00"), None),
    # 6.6: write single register 2 = 3, echoed
    (modbus.WRITE_SINGLE_REGISTER, 0x0001, 3, H("06 0001 0003"), H("06 0001 0003"), None),
    # 6.12: write registers 2-3 = 0x000A, 0x0102; reply: address and quantity
    (modbus.WRITE_MULTIPLE_REGISTERS, 0x0001, (0x000A, 0x0102),
     H("10 0001 0002 04 000A 0102"), H("10 0001 0002"), None),
]  # fmt: skip


# -- CRC ------------------------------------------------------------------------------
def test_crc_of_the_serial_line_worked_example():
    # [SL] 6.2.2: CRC of 02 07 is 0x1241, transmitted low byte first: 41 12
    assert modbus.crc16(H("02 07")) == 0x1241
    assert modbus.rtu_frame(0x02, H("07")) == H("02 07 41 12")


def test_crc_of_a_common_read_request_matches_pymodbus():
    # Read 10 holding registers from 0 at unit 1; CRC computed here (not a
    # spec vector): C5 CD, and pymodbus computes the same frame.
    frame = modbus.rtu_frame(1, H("03 0000 000A"))
    assert frame == H("01 03 0000 000A C5 CD")
    assert frame == FramerRTU(DecodePDU(False)).encode(H("03 0000 000A"), 1, 0)


def test_crc_mismatch_is_a_checksum_error():
    frame = bytearray(modbus.rtu_frame(0x11, H("03 06 022B 0000 0064")))
    frame[-1] ^= 0x01
    with pytest.raises(ChecksumError, match="CRC mismatch"):
        modbus.parse_rtu_frame(bytes(frame))


def test_checksum_error_is_a_protocol_error():
    assert issubclass(ChecksumError, ProtocolError)


# -- PDUs: spec examples --------------------------------------------------------------
@pytest.mark.parametrize("function, address, arg, request_pdu, response_pdu, result", SPEC_EXAMPLES)
def test_master_side_spec_examples(function, address, arg, request_pdu, response_pdu, result):
    assert modbus.build_request(function, address, arg) == request_pdu
    assert modbus.parse_response(response_pdu, function, address, arg) == result


@pytest.mark.parametrize("function, address, arg, request_pdu, response_pdu, result", SPEC_EXAMPLES)
def test_server_side_spec_examples(function, address, arg, request_pdu, response_pdu, result):
    request = modbus.parse_request(request_pdu)
    assert (request.function, request.address, request.arg) == (function, address, arg)
    if function in modbus.BIT_READS:
        assert modbus.build_read_bits_reply(function, result) == response_pdu
    elif function in modbus.REGISTER_READS:
        assert modbus.build_read_registers_reply(function, result) == response_pdu
    else:
        assert modbus.build_write_reply(request) == response_pdu


def test_exception_reply_of_the_spec_raises_meter_refused():
    # [AP] 7: read coils at 04A1 answered 81 02 (ILLEGAL DATA ADDRESS)
    assert modbus.build_request(modbus.READ_COILS, 0x04A1, 1) == H("01 04A1 0001")
    assert modbus.build_exception_reply(modbus.READ_COILS, 2) == H("81 02")
    with pytest.raises(MeterRefused) as refused:
        modbus.parse_response(H("81 02"), modbus.READ_COILS, 0x04A1, 1)
    assert refused.value.code == 2
    assert refused.value.reason == "ILLEGAL DATA ADDRESS"


@pytest.mark.parametrize(
    "code, name",
    [(1, "ILLEGAL FUNCTION"), (3, "ILLEGAL DATA VALUE"), (4, "SERVER DEVICE FAILURE"),
     (6, "SERVER DEVICE BUSY"), (0x0B, "GATEWAY TARGET DEVICE FAILED TO RESPOND")],
)  # fmt: skip
def test_exception_codes_have_their_spec_names(code, name):
    with pytest.raises(MeterRefused) as refused:
        modbus.parse_response(bytes([0x83, code]), 3, 0, 1)
    assert (refused.value.code, refused.value.reason) == (code, name)


def test_undefined_exception_code_is_still_a_refusal():
    with pytest.raises(MeterRefused, match="not defined by the Modbus specification"):
        modbus.parse_response(H("83 07"), 3, 0, 1)


@pytest.mark.parametrize(
    "pdu, function, address, arg, message",
    [
        (H("04 02 000A"), 3, 8, 1, "function code 0x04 to a request 0x03"),
        (H("03 04 0001 0002"), 3, 0, 1, "2 expected for a quantity of 1"),
        (H("03 02 00"), 3, 0, 1, "byte count 2"),
        (H("06 0001 0004"), 6, 1, 3, "does not echo"),
        (H("10 0001 0003"), 16, 1, (1, 2), "does not echo"),
        (H("83 02 00"), 3, 0, 1, "exception reply PDU has 2 bytes"),
        (b"", 3, 0, 1, "empty reply"),
    ],
)
def test_malformed_replies_raise_protocol_error(pdu, function, address, arg, message):
    with pytest.raises(ProtocolError, match=message):
        modbus.parse_response(pdu, function, address, arg)


@pytest.mark.parametrize(
    "function, address, arg, message",
    [
        (3, 0, 0, "quantity must be 1..125"),
        (3, 0, 126, "quantity must be 1..125"),
        (1, 0, 2001, "quantity must be 1..2000"),
        (3, 0xFFFF, 2, "pass 0xFFFF"),
        (3, 0x10000, 1, "address must be 0..65535"),
        (5, 0, 1, "True or False"),
        (6, 0, 70000, "a register holds 0..65535"),
        (16, 0, [1] * 124, "quantity must be 1..123"),
        (0x2B, 0, 1, "unsupported Modbus function"),
    ],
)
def test_bad_request_arguments_raise_validation_error(function, address, arg, message):
    with pytest.raises(ValidationError, match=message):
        modbus.build_request(function, address, arg)


@pytest.mark.parametrize(
    "pdu, code",
    [
        (H("2B 0E 01 00"), 1),  # read device identification: not supported
        (H("03 0000 0000"), 3),  # quantity 0
        (H("03 0000 007E"), 3),  # 126 registers
        (H("05 0000 1234"), 3),  # coil value other than FF00 / 0000
        (H("10 0000 0002 03 0001 02"), 3),  # byte count disagrees with quantity
        (H("03 FFFF 0002"), 2),  # past the last address
        (H("03 0000"), 3),  # truncated
    ],
)
def test_server_side_rejections_carry_the_exception_code(pdu, code):
    with pytest.raises(modbus.RequestRejected) as rejected:
        modbus.parse_request(pdu)
    assert rejected.value.exception_code == code


# -- RTU framing ------------------------------------------------------------------------
def _reply_frames():
    frames = [modbus.rtu_frame(0x11, response) for *_, response, _ in SPEC_EXAMPLES]
    return frames + [modbus.rtu_frame(0x11, H("81 02"))]


@pytest.mark.parametrize("frame", _reply_frames(), ids=lambda f: f.hex())
def test_rtu_frame_length_finds_each_reply_in_a_stream(frame):
    for cut in range(len(frame)):
        length = modbus.rtu_frame_length(frame[:cut])
        assert length is None or length > cut
    assert modbus.rtu_frame_length(frame + H("11 03")) == len(frame)


def test_rtu_exception_reply_is_five_bytes():
    # unit, function|0x80, code, CRC lo, CRC hi
    assert modbus.rtu_frame_length(H("11 83")) == 5


@pytest.mark.parametrize(
    "buf, message",
    [
        (H("00 03 02"), "unit address 0"),
        (H("F8 03 02"), "unit address 248"),
        (H("11 03 00"), "byte count of 0"),
        (H("11 03 03"), "byte count 3"),
        (H("11 04 FC"), "byte count 252"),
        (H("11 2B"), "function code 0x2B"),
    ],
)
def test_rtu_frame_length_refuses_impossible_replies(buf, message):
    with pytest.raises(ProtocolError, match=message):
        modbus.rtu_frame_length(buf)


@pytest.mark.parametrize("function, address, arg, request_pdu, response_pdu, result", SPEC_EXAMPLES)
def test_rtu_request_length_frames_each_spec_request(
    function, address, arg, request_pdu, response_pdu, result
):
    frame = modbus.rtu_frame(0x11, request_pdu)
    for cut in range(len(frame)):
        length = modbus.rtu_request_length(frame[:cut])
        assert length is None or length > cut
    assert modbus.rtu_request_length(frame + H("11")) == len(frame)


def test_rtu_request_length_knows_functions_the_server_refuses():
    # 07 read exception status: unit, function, CRC; 17 report server id
    assert modbus.rtu_request_length(H("11 07")) == 4
    assert modbus.rtu_request_length(H("11 11")) == 4
    with pytest.raises(ProtocolError, match="length unknown"):
        modbus.rtu_request_length(H("11 2B"))


# -- MBAP -----------------------------------------------------------------------------
def test_mbap_frame_wraps_a_spec_pdu():
    # MBAP header: transaction 0x0001, protocol 0, length = unit + PDU = 6
    frame = modbus.mbap_frame(1, 0x11, H("03 006B 0003"))
    assert frame == H("0001 0000 0006 11 03 006B 0003")
    assert modbus.mbap_frame_length(frame[:5]) is None
    assert modbus.mbap_frame_length(frame + H("00")) == len(frame)
    assert modbus.parse_mbap_frame(frame) == (1, 0x11, H("03 006B 0003"))


@pytest.mark.parametrize(
    "buf, message",
    [
        (H("0001 0001 0006"), "protocol id 0x0001"),
        (H("0001 0000 0001"), "length field 1"),
        (H("0001 0000 0100"), "length field 256"),
    ],
)
def test_mbap_refuses_bad_headers(buf, message):
    with pytest.raises(ProtocolError, match=message):
        modbus.mbap_frame_length(buf)


def test_mbap_length_must_match_the_frame():
    with pytest.raises(ProtocolError, match="says 12 bytes, frame has 11"):
        modbus.parse_mbap_frame(H("0001 0000 0006 11 03 006B 00"))


# -- timing (DESIGN section 5) ----------------------------------------------------------
def test_transaction_time_at_9600_baud():
    # read of 10 registers: request 8 bytes, reply 5 + 20 = 25 bytes.
    # 33 chars * 11 bits / 9600 = 37.8125 ms; t3.5 = 3.5 * 11 / 9600 = 4.0104 ms,
    # twice = 8.0208 ms; + 20 ms turnaround = 65.8333 ms (~900 per minute).
    assert modbus.rtu_read_frame_lengths(modbus.READ_HOLDING_REGISTERS, 10) == (8, 25)
    assert modbus.rtu_transaction_time(9600, 8, 25, 0.020) == pytest.approx(0.0658333, abs=1e-6)


def test_transaction_time_above_19200_uses_fixed_silence():
    # 38400 baud: 33 * 11 / 38400 = 9.4531 ms + 2 * 1.75 ms + 20 ms = 32.9531 ms
    assert modbus.rtu_transaction_time(38400, 8, 25, 0.020) == pytest.approx(0.0329531, abs=1e-6)


def test_coil_read_lengths():
    # 19 coils fit in 3 bytes: reply = unit, function, count, 3 data, CRC = 8
    assert modbus.rtu_read_frame_lengths(modbus.READ_COILS, 19) == (8, 8)


# -- fuzzing: malformed bytes only ever raise ProtocolError ------------------------------------
FUZZ = settings(max_examples=300, deadline=None)


@FUZZ
@given(st.binary(max_size=300))
def test_framers_on_random_bytes(data):
    for framer in (modbus.rtu_frame_length, modbus.rtu_request_length, modbus.mbap_frame_length):
        try:
            length = framer(data)
        except ProtocolError:
            continue
        assert length is None or length >= 4


@FUZZ
@given(st.binary(max_size=300), st.sampled_from(SPEC_EXAMPLES))
def test_parsers_on_random_bytes(data, example):
    function, address, arg = example[:3]
    for parse in (
        modbus.parse_rtu_frame,
        modbus.parse_mbap_frame,
        modbus.parse_request,
        lambda pdu: modbus.parse_response(pdu, function, address, arg),
    ):
        try:
            parse(data)
        except (ProtocolError, MeterRefused):
            pass


@FUZZ
@given(
    st.sampled_from(_reply_frames()),
    st.lists(st.tuples(st.integers(0, 300), st.integers(0, 255)), min_size=1, max_size=4),
)
def test_mutated_reply_frames_are_caught(frame, mutations):
    mutated = bytearray(frame)
    for position, value in mutations:
        if position < len(mutated):
            mutated[position] = value
    mutated = bytes(mutated)
    try:
        unit, pdu = modbus.parse_rtu_frame(mutated)
    except ChecksumError:
        assert mutated != frame
        return
    # The CRC still matches: either nothing changed or a collision; the PDU
    # must still only give a value, a refusal or a ProtocolError.
    for example in SPEC_EXAMPLES:
        try:
            modbus.parse_response(pdu, *example[:3])
        except (ProtocolError, MeterRefused):
            pass


@FUZZ
@given(st.integers(0, 247), st.binary(min_size=1, max_size=253))
def test_rtu_frame_agrees_with_pymodbus(unit, pdu):
    framer = FramerRTU(DecodePDU(False))
    frame = modbus.rtu_frame(unit, pdu)
    assert frame == framer.encode(pdu, unit, 0)
    assert modbus.parse_rtu_frame(frame) == (unit, pdu)


@FUZZ
@given(
    st.sampled_from(modbus.REGISTER_READS),
    st.integers(0, 0xFFFF),
    st.integers(1, modbus.MAX_READ_REGISTERS),
)
def test_read_requests_round_trip(function, address, count):
    if address + count > 0x10000:
        with pytest.raises(ValidationError):
            modbus.build_request(function, address, count)
        return
    request = modbus.parse_request(modbus.build_request(function, address, count))
    assert (request.function, request.address, request.arg) == (function, address, count)


@FUZZ
@given(st.lists(st.integers(0, 0xFFFF), min_size=1, max_size=modbus.MAX_READ_REGISTERS))
def test_register_replies_round_trip(registers):
    reply = modbus.build_read_registers_reply(3, registers)
    frame = modbus.rtu_frame(9, reply)
    assert modbus.rtu_frame_length(frame) == len(frame)
    assert modbus.parse_response(reply, 3, 0, len(registers)) == registers


@FUZZ
@given(st.lists(st.booleans(), min_size=1, max_size=modbus.MAX_READ_BITS))
def test_bit_replies_round_trip(bits):
    reply = modbus.build_read_bits_reply(1, bits)
    assert modbus.parse_response(reply, 1, 0, len(bits)) == bits


@FUZZ
@given(st.binary(max_size=300))
def test_responders_never_raise_on_random_requests(data):
    meters = {1: SimMeter("1"), 2: SimMeter("2")}
    rtu, tcp = ModbusRtuResponder(meters), ModbusTcpResponder(meters)
    pdu = data[:253] or b"\x03"
    cases = [
        (rtu, data),
        (rtu, modbus.rtu_frame(1, pdu)),
        (tcp, data),
        (tcp, modbus.mbap_frame(7, 2, pdu)),
    ]
    for responder, request in cases:
        reply = responder.handle(request)
        assert reply is None or isinstance(reply, bytes)


@FUZZ
@given(
    st.sampled_from([1, 2, 3, 4, 5, 6, 16]),
    st.binary(min_size=4, max_size=12),
    st.sampled_from(["generic", "eastron_sdm630", "acrel_ddsy1352"]),
)
def test_responder_answers_any_request_of_a_known_function(function, tail, profile):
    # A request of a supported function always gets a normal reply or one of
    # the exceptions the responder documents (01..04), never a crash.
    responder = ModbusRtuResponder({1: SimMeter("1")}, profile)
    reply = responder.handle(modbus.rtu_frame(1, bytes([function]) + tail))
    unit, pdu = modbus.parse_rtu_frame(reply)
    assert unit == 1
    if pdu[0] & 0x80:
        assert pdu[0] == function | 0x80 and pdu[1] in (1, 2, 3, 4)
    else:
        assert pdu[0] == function
