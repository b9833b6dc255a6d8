"""Modbus codec: PDUs, RTU framing (CRC16), MBAP framing (Modbus TCP), bus timing.

Pure functions, no I/O. References:

- MODBUS Application Protocol Specification V1.1b3 (PDUs, function codes,
  exception codes, section 6 and 7);
- MODBUS over Serial Line Specification and Implementation Guide V1.02
  (RTU frame = address + PDU + CRC16 sent low byte first, section 2.5.1;
  CRC generation, section 6.2.2);
- MODBUS Messaging on TCP/IP Implementation Guide V1.0b (MBAP header).

Every function that reads bytes from the wire raises ProtocolError (or its
subclass ChecksumError) on malformed input, never IndexError or
struct.error. Functions that build requests from caller arguments raise
ValidationError on bad arguments.
"""

import dataclasses

from ..errors import ChecksumError, MeterRefused, ProtocolError, ValidationError

READ_COILS = 0x01
READ_DISCRETE_INPUTS = 0x02
READ_HOLDING_REGISTERS = 0x03
READ_INPUT_REGISTERS = 0x04
WRITE_SINGLE_COIL = 0x05
WRITE_SINGLE_REGISTER = 0x06
WRITE_MULTIPLE_REGISTERS = 0x10

FUNCTION_NAMES = {
    READ_COILS: "read coils",
    READ_DISCRETE_INPUTS: "read discrete inputs",
    READ_HOLDING_REGISTERS: "read holding registers",
    READ_INPUT_REGISTERS: "read input registers",
    WRITE_SINGLE_COIL: "write single coil",
    WRITE_SINGLE_REGISTER: "write single register",
    WRITE_MULTIPLE_REGISTERS: "write multiple registers",
}
BIT_READS = (READ_COILS, READ_DISCRETE_INPUTS)
REGISTER_READS = (READ_HOLDING_REGISTERS, READ_INPUT_REGISTERS)
READ_FUNCTIONS = BIT_READS + REGISTER_READS
WRITE_FUNCTIONS = (WRITE_SINGLE_COIL, WRITE_SINGLE_REGISTER, WRITE_MULTIPLE_REGISTERS)

#: Application Protocol V1.1b3 section 7 (codes 07 and 09 are not defined there)
EXCEPTION_NAMES = {
    0x01: "ILLEGAL FUNCTION",
    0x02: "ILLEGAL DATA ADDRESS",
    0x03: "ILLEGAL DATA VALUE",
    0x04: "SERVER DEVICE FAILURE",
    0x05: "ACKNOWLEDGE",
    0x06: "SERVER DEVICE BUSY",
    0x08: "MEMORY PARITY ERROR",
    0x0A: "GATEWAY PATH UNAVAILABLE",
    0x0B: "GATEWAY TARGET DEVICE FAILED TO RESPOND",
}
ILLEGAL_FUNCTION = 0x01
ILLEGAL_DATA_ADDRESS = 0x02
ILLEGAL_DATA_VALUE = 0x03
SERVER_DEVICE_FAILURE = 0x04

#: quantity limits of the Application Protocol (sections 6.1-6.4, 6.12)
MAX_READ_BITS = 2000
MAX_READ_REGISTERS = 125
MAX_WRITE_REGISTERS = 123
COIL_ON = 0xFF00
COIL_OFF = 0x0000

MAX_UNIT = 247  # 0 is broadcast, 248..255 are reserved (Serial Line V1.02, 2.2)
MAX_PDU = 253  # 256-byte RTU ADU minus address and CRC


# -- CRC16 (Serial Line V1.02, 6.2.2) -------------------------------------------
def _crc_table():
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc16(data):
    """Modbus CRC16: reflected polynomial 0xA001, initial value 0xFFFF.

    The frame carries it low byte first: ``crc16(b) .to_bytes(2, "little")``.
    """
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ byte) & 0xFF]
    return crc


# -- RTU ADU -------------------------------------------------------------------
def rtu_frame(unit, pdu):
    """Return the RTU frame: unit address, PDU and CRC16 (low byte first)."""
    _check_unit(unit, broadcast=True)
    if not 1 <= len(pdu) <= MAX_PDU:
        raise ValidationError(f"a Modbus PDU has 1 to {MAX_PDU} bytes, got {len(pdu)}")
    body = bytes([unit]) + bytes(pdu)
    return body + crc16(body).to_bytes(2, "little")


def parse_rtu_frame(frame):
    """Split a complete RTU frame into ``(unit, pdu)`` after checking its CRC."""
    frame = bytes(frame)
    if len(frame) < 4:
        raise ProtocolError(f"an RTU frame has at least 4 bytes, got {len(frame)}: {frame.hex()}")
    received = int.from_bytes(frame[-2:], "little")
    computed = crc16(frame[:-2])
    if received != computed:
        raise ChecksumError(
            f"RTU CRC mismatch: frame carries 0x{received:04X}, computed 0x{computed:04X} "
            f"(frame {frame[:32].hex()})"
        )
    return frame[0], frame[1:-2]


def rtu_frame_length(buf):
    """Length of the reply frame at the start of ``buf`` (master side), or None.

    The length follows from the function code: exception replies have 5
    bytes, read replies 5 + byte count, write echoes 8.
    """
    if len(buf) < 2:
        return None
    _check_reply_unit(buf[0])
    function = buf[1]
    if function & 0x80:
        return 5
    if function in READ_FUNCTIONS:
        if len(buf) < 3:
            return None
        return 5 + _reply_byte_count(function, buf[2])
    if function in (WRITE_SINGLE_COIL, WRITE_SINGLE_REGISTER, 0x0F, WRITE_MULTIPLE_REGISTERS):
        return 8
    raise ProtocolError(f"reply with function code 0x{function:02X}, which this master never sends")


def rtu_reply_mismatch(unit, function, address, arg, raw):
    """None when the RTU frame ``raw`` answers the request, else why it does not.

    The request is ``build_request(function, address, arg)`` to ``unit``.
    The reply must come from that unit, answer that function (or be its
    exception reply) and, when intact, have the byte count a read of ``arg``
    items gives, or echo the write. RTU carries no transaction id: this is
    all that tells a late reply from the answer. A frame of this unit and
    function whose CRC is wrong counts as the reply: the caller reports it.
    """
    raw = bytes(raw)
    if len(raw) < 4:
        return f"a {len(raw)}-byte fragment"
    intact = crc16(raw[:-2]) == int.from_bytes(raw[-2:], "little")
    damaged = "" if intact else " (bad CRC)"
    if raw[0] != unit:
        return f"a reply from unit {raw[0]}{damaged}"
    if raw[1] & 0x7F != function:
        return f"a reply of unit {raw[0]} to function 0x{raw[1] & 0x7F:02X}{damaged}"
    if not intact or raw[1] & 0x80:
        return None
    if function in READ_FUNCTIONS:
        expected = (arg + 7) // 8 if function in BIT_READS else 2 * arg
        if raw[2] != expected:
            return f"a read reply of unit {unit} with {raw[2]} bytes, {expected} asked"
        return None
    request = build_request(function, address, arg)
    if raw[1:6] != request[:5]:
        return f"a write reply of unit {unit} that does not echo this request"
    return None


def rtu_reply_unit(raw):
    """The unit id of an intact RTU frame, None for anything else."""
    raw = bytes(raw)
    if len(raw) < 4 or crc16(raw[:-2]) != int.from_bytes(raw[-2:], "little"):
        return None
    return raw[0]


def _check_reply_unit(unit):
    if not 1 <= unit <= MAX_UNIT:
        raise ProtocolError(f"reply from unit address {unit}, outside 1..{MAX_UNIT}")


def _reply_byte_count(function, count):
    if count == 0:
        raise ProtocolError("read reply with a byte count of 0")
    if function in REGISTER_READS and (count % 2 or count > 2 * MAX_READ_REGISTERS):
        raise ProtocolError(f"register read reply with byte count {count} (even, <= 250)")
    return count


#: request lengths by function code (Application Protocol V1.1b3 section 6)
_FIXED_REQUEST_LENGTHS = {
    0x01: 8, 0x02: 8, 0x03: 8, 0x04: 8, 0x05: 8, 0x06: 8, 0x08: 8,
    0x07: 4, 0x0B: 4, 0x0C: 4, 0x11: 4, 0x16: 10, 0x18: 6,
}  # fmt: skip
#: function: (offset of the byte count, bytes besides the counted data)
_COUNTED_REQUEST_LENGTHS = {0x0F: (6, 9), 0x10: (6, 9), 0x17: (10, 13)}


def rtu_request_length(buf):
    """Length of the request frame at the start of ``buf`` (server side), or None.

    Knows the request layout of every public function code with a fixed or
    byte-counted length, so a server can frame a request it will refuse
    with ILLEGAL FUNCTION.
    """
    if len(buf) < 2:
        return None
    if buf[0] > MAX_UNIT:
        raise ProtocolError(f"request to unit address {buf[0]}, outside 0..{MAX_UNIT}")
    function = buf[1]
    if function in _FIXED_REQUEST_LENGTHS:
        return _FIXED_REQUEST_LENGTHS[function]
    if function in _COUNTED_REQUEST_LENGTHS:
        offset, overhead = _COUNTED_REQUEST_LENGTHS[function]
        return overhead + buf[offset] if len(buf) > offset else None
    raise ProtocolError(f"request with function code 0x{function:02X}: length unknown")


# -- MBAP ADU (Modbus TCP) -------------------------------------------------------
def mbap_frame(transaction_id, unit, pdu):
    """Return an MBAP frame: transaction id, protocol id 0, length, unit id, PDU."""
    if not 0 <= transaction_id <= 0xFFFF:
        raise ValidationError(f"MBAP transaction id must be 0..65535, got {transaction_id}")
    if not 0 <= unit <= 0xFF:
        raise ValidationError(f"MBAP unit id must be 0..255, got {unit}")
    if not 1 <= len(pdu) <= MAX_PDU:
        raise ValidationError(f"a Modbus PDU has 1 to {MAX_PDU} bytes, got {len(pdu)}")
    header = transaction_id.to_bytes(2, "big") + b"\x00\x00" + (len(pdu) + 1).to_bytes(2, "big")
    return header + bytes([unit]) + bytes(pdu)


def mbap_frame_length(buf):
    """Length of the MBAP frame at the start of ``buf``, or None while incomplete."""
    if len(buf) >= 4 and buf[2:4] != b"\x00\x00":
        raise ProtocolError(f"MBAP protocol id 0x{buf[2:4].hex()}, Modbus is 0x0000")
    if len(buf) < 6:
        return None
    length = int.from_bytes(buf[4:6], "big")
    if not 2 <= length <= MAX_PDU + 1:
        raise ProtocolError(f"MBAP length field {length}, must be 2..{MAX_PDU + 1}")
    return 6 + length


def parse_mbap_frame(frame):
    """Split a complete MBAP frame into ``(transaction_id, unit, pdu)``."""
    frame = bytes(frame)
    if len(frame) < 8:
        raise ProtocolError(f"an MBAP frame has at least 8 bytes, got {len(frame)}")
    length = mbap_frame_length(frame)
    if length != len(frame):
        raise ProtocolError(f"MBAP length field says {length} bytes, frame has {len(frame)}")
    return int.from_bytes(frame[0:2], "big"), frame[6], frame[7:]


# -- PDUs, master side -------------------------------------------------------------
def build_request(function, address, arg):
    """Request PDU. ``arg`` is the quantity for reads, a bool for a coil write,
    an int 0..65535 for a single register, a sequence of them for 0x10."""
    _check_address(address)
    head = bytes([function]) + address.to_bytes(2, "big")
    if function in READ_FUNCTIONS:
        limit = MAX_READ_BITS if function in BIT_READS else MAX_READ_REGISTERS
        _check_quantity(arg, limit, address)
        return head + arg.to_bytes(2, "big")
    if function == WRITE_SINGLE_COIL:
        if not isinstance(arg, bool):
            raise ValidationError(f"a coil is written with True or False, got {arg!r}")
        return head + (COIL_ON if arg else COIL_OFF).to_bytes(2, "big")
    if function == WRITE_SINGLE_REGISTER:
        return head + _register_value(arg).to_bytes(2, "big")
    if function == WRITE_MULTIPLE_REGISTERS:
        values = [_register_value(value) for value in arg]
        _check_quantity(len(values), MAX_WRITE_REGISTERS, address)
        data = b"".join(value.to_bytes(2, "big") for value in values)
        return head + len(values).to_bytes(2, "big") + bytes([len(data)]) + data
    raise ValidationError(f"unsupported Modbus function code {function!r}")


def parse_response(pdu, function, address, arg):
    """Check the reply PDU to ``build_request(function, address, arg)``.

    Returns the registers (list of int) or bits (list of bool) of a read,
    None for a write whose echo matches. An exception reply raises
    MeterRefused with the exception code; anything else malformed raises
    ProtocolError.
    """
    pdu = bytes(pdu)
    if not pdu:
        raise ProtocolError("empty reply PDU")
    if pdu[0] == function | 0x80:
        raise exception_error(pdu)
    if pdu[0] != function:
        raise ProtocolError(f"reply function code 0x{pdu[0]:02X} to a request 0x{function:02X}")
    if function in READ_FUNCTIONS:
        return _parse_read_reply(pdu, function, arg)
    expected = build_request(function, address, arg)
    if function == WRITE_MULTIPLE_REGISTERS:
        expected = expected[:5]
    if pdu != expected:
        raise ProtocolError(f"write reply {pdu.hex()} does not echo the request {expected.hex()}")
    return None


def exception_error(pdu):
    """MeterRefused for an exception reply PDU ``function|0x80, code``."""
    if len(pdu) != 2:
        raise ProtocolError(f"an exception reply PDU has 2 bytes, got {len(pdu)}: {pdu.hex()}")
    code = pdu[1]
    name = EXCEPTION_NAMES.get(code, "exception code not defined by the Modbus specification")
    return MeterRefused(name, code=code)


def refusal_in_context(refusal, unit, function, address):
    """The same MeterRefused, its reason saying which unit refused which request."""
    name = FUNCTION_NAMES.get(function, f"function 0x{function:02X}")
    reason = f"unit {unit} refused {name} at 0x{address:04X}: {refusal.reason}"
    return MeterRefused(reason, code=refusal.code)


def _parse_read_reply(pdu, function, count):
    if len(pdu) < 2:
        raise ProtocolError(f"read reply PDU too short: {pdu.hex()}")
    data = pdu[2:]
    if function in BIT_READS:
        expected = (count + 7) // 8
    else:
        expected = 2 * count
    if pdu[1] != expected or len(data) != expected:
        raise ProtocolError(
            f"read reply carries {len(data)} bytes (byte count {pdu[1]}), "
            f"{expected} expected for a quantity of {count}"
        )
    if function in BIT_READS:
        return [bool(data[i // 8] >> (i % 8) & 1) for i in range(count)]
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


# -- PDUs, server side ---------------------------------------------------------------
class RequestRejected(ProtocolError):
    """A request a server must answer with the exception ``exception_code``."""

    def __init__(self, message, exception_code):
        super().__init__(message)
        self.exception_code = exception_code


@dataclasses.dataclass(frozen=True)
class Request:
    """A parsed request PDU; ``arg`` as in :func:`build_request`."""

    function: int
    address: int
    arg: object


def parse_request(pdu):
    """Parse a request PDU; RequestRejected tells which exception to answer."""
    pdu = bytes(pdu)
    if not pdu:
        raise ProtocolError("empty request PDU")
    function = pdu[0]
    if function not in FUNCTION_NAMES:
        raise RequestRejected(f"function code 0x{function:02X} not supported", ILLEGAL_FUNCTION)
    if function == WRITE_MULTIPLE_REGISTERS:
        return _parse_write_multiple(pdu)
    if len(pdu) != 5:
        raise RequestRejected(f"request PDU of {len(pdu)} bytes, 5 expected", ILLEGAL_DATA_VALUE)
    address = int.from_bytes(pdu[1:3], "big")
    value = int.from_bytes(pdu[3:5], "big")
    if function in READ_FUNCTIONS:
        limit = MAX_READ_BITS if function in BIT_READS else MAX_READ_REGISTERS
        if not 1 <= value <= limit:
            raise RequestRejected(f"quantity {value} outside 1..{limit}", ILLEGAL_DATA_VALUE)
        if address + value > 0x10000:
            raise RequestRejected("read past address 0xFFFF", ILLEGAL_DATA_ADDRESS)
        return Request(function, address, value)
    if function == WRITE_SINGLE_COIL:
        if value not in (COIL_ON, COIL_OFF):
            raise RequestRejected(f"coil value 0x{value:04X}", ILLEGAL_DATA_VALUE)
        return Request(function, address, value == COIL_ON)
    return Request(function, address, value)


def _parse_write_multiple(pdu):
    if len(pdu) < 6:
        raise RequestRejected("write multiple registers PDU too short", ILLEGAL_DATA_VALUE)
    address = int.from_bytes(pdu[1:3], "big")
    quantity = int.from_bytes(pdu[3:5], "big")
    data = pdu[6:]
    byte_count = 2 * quantity
    if not 1 <= quantity <= MAX_WRITE_REGISTERS or pdu[5] != byte_count or len(data) != byte_count:
        raise RequestRejected(
            f"write of {quantity} registers with byte count {pdu[5]} and {len(data)} data bytes",
            ILLEGAL_DATA_VALUE,
        )
    if address + quantity > 0x10000:
        raise RequestRejected("write past address 0xFFFF", ILLEGAL_DATA_ADDRESS)
    values = tuple(int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2))
    return Request(WRITE_MULTIPLE_REGISTERS, address, values)


def build_read_registers_reply(function, registers):
    """Reply PDU of a register read."""
    data = b"".join(_register_value(value).to_bytes(2, "big") for value in registers)
    return bytes([function, len(data)]) + data


def build_read_bits_reply(function, bits):
    """Reply PDU of a coil or discrete input read (LSB of the first byte first)."""
    data = bytearray((len(bits) + 7) // 8)
    for index, bit in enumerate(bits):
        if bit:
            data[index // 8] |= 1 << (index % 8)
    return bytes([function, len(data)]) + bytes(data)


def build_write_reply(request):
    """Reply PDU of a write: the echo the Application Protocol prescribes."""
    pdu = build_request(request.function, request.address, request.arg)
    return pdu[:5]


def build_exception_reply(function, code):
    """Exception reply PDU: function code with the high bit set, exception code."""
    return bytes([(function | 0x80) & 0xFF, code])


# -- bus timing (DESIGN section 5) -------------------------------------------------
BITS_PER_CHARACTER = 11  # start + 8 data + parity (or second stop) + stop


def character_time(baudrate):
    """Seconds one RTU character takes on the line."""
    if baudrate <= 0:
        raise ValidationError(f"baud rate must be positive, got {baudrate}")
    return BITS_PER_CHARACTER / baudrate


def silent_interval(baudrate):
    """t3.5: 3.5 characters, fixed at 1.75 ms above 19200 baud (Serial Line 2.5.1.1)."""
    if baudrate > 19200:
        return 0.00175
    return 3.5 * character_time(baudrate)


def rtu_transaction_time(baudrate, request_len, reply_len, turnaround):
    """Seconds one request/reply transaction occupies the bus at best.

    Both frames on the wire, a t3.5 silence after each, plus the meter's
    turnaround (seconds). At 9600 baud a read of 10 registers (8 + 25 bytes)
    with 20 ms turnaround takes 33 * 11/9600 + 2 * 4.01 ms + 20 ms = 65.8 ms.
    """
    return (
        (request_len + reply_len) * character_time(baudrate)
        + 2 * silent_interval(baudrate)
        + turnaround
    )


def rtu_read_frame_lengths(function, quantity):
    """``(request_len, reply_len)`` in bytes of an RTU read of ``quantity`` items."""
    data = (quantity + 7) // 8 if function in BIT_READS else 2 * quantity
    return 8, 5 + data


# -- helpers ----------------------------------------------------------------------------
def _check_unit(unit, broadcast=False):
    low = 0 if broadcast else 1
    if isinstance(unit, bool) or not isinstance(unit, int) or not low <= unit <= MAX_UNIT:
        raise ValidationError(f"Modbus unit address must be {low}..{MAX_UNIT}, got {unit!r}")


def _check_address(address):
    if isinstance(address, bool) or not isinstance(address, int) or not 0 <= address <= 0xFFFF:
        raise ValidationError(f"Modbus address must be 0..65535, got {address!r}")


def _check_quantity(quantity, limit, address):
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= limit:
        raise ValidationError(f"Modbus quantity must be 1..{limit}, got {quantity!r}")
    if address + quantity > 0x10000:
        raise ValidationError(f"{quantity} items from address {address} pass 0xFFFF")


def _register_value(value):
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0xFFFF:
        raise ValidationError(f"a register holds 0..65535, got {value!r}")
    return value
