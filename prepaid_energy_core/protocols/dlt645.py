"""DL/T 645-2007 codec: frames, BCD values and the data-item registry. No I/O.

Frame (DL/T 645-2007 §5)::

    FE..FE 68 A0 A1 A2 A3 A4 A5 68 C L DATA CS 16

* optional wake-up preamble of FEH bytes (a master usually sends four);
* address A0..A5: 12 decimal digits in BCD, low byte first; AAH in a byte is
  a wildcard (read address, shortened addressing), 999999999999 is the
  broadcast address (time sync);
* control code C: bit 7 direction (1 = slave reply), bit 6 abnormal reply,
  bit 5 follow-up frame, bits 4..0 the function;
* L: data length; DATA: every byte +33H on the wire;
* CS: sum of the bytes from the first 68H through the last data byte, mod 256.

Sources used for the details below (the standard's text itself, DL/T
645-2007 "多功能电能表通信协议", is not freely published; its tables are
widely reproduced in vendor manuals and meter firmware):

* error byte ERR and status word 3 (Appendix C of the standard), as
  reproduced in "DLT645-2007通讯规约协议说明" (renrendoc.com/p-25811601.html)
  and in many meter firmware sources;
* data-item formats (Appendix A "数据编码": energy, variables, event
  records, parameters, freezes), same sources; the table numbers inside
  Appendix A were not verified and are not cited;
* read follow-up data (12H, "读后续数据"): request L = 05H with DI0..DI3 then
  SEQ; normal replies 92H (last frame) / B2H (more follows) carry DI, the
  data and SEQ as the last byte, abnormal D2H one ERR byte; a read reply
  with more to come is B1H. As composed and parsed by the open-source
  concentrator library icprog/dlt698.45 (libDlt645/dlt645.c). That SEQ
  starts at 1 for the first follow-up, grows by one and is echoed by the
  meter is how public master code and meter firmware do it; the standard's
  own text was not at hand to confirm it.

Where a detail comes from the State Grid extension of the standard rather than
the 2007 text, or could not be verified, the comment next to it says so.
"""

import dataclasses
import datetime
from decimal import ROUND_DOWN, Decimal

from ..errors import ChecksumError, MeterRefused, ProtocolError, ValidationError
from ..money import to_decimal
from ..vocabulary import TOU_BANDS

# -- frame layout -------------------------------------------------------------
START = 0x68
END = 0x16
WAKE_UP = 0xFE
PREAMBLE = bytes([WAKE_UP] * 4)
DATA_OFFSET = 0x33
HEADER_LENGTH = 10  # 68 A0..A5 68 C L
FRAME_OVERHEAD = 12  # header + CS + 16
MAX_DATA_LENGTH = 255  # L is one byte

#: 999999999999: broadcast address (time sync); slaves never reply to it
BROADCAST_ADDRESS = "999999999999"
#: AAAAAAAAAAAA: wildcard address, used to read the address of the one meter on a bus
WILDCARD_ADDRESS = "AAAAAAAAAAAA"
WILDCARD_BYTE = 0xAA

# -- control code -------------------------------------------------------------
REPLY_BIT = 0x80
ABNORMAL_BIT = 0x40
FOLLOW_UP_BIT = 0x20
FUNCTION_MASK = 0x1F

FN_BROADCAST_TIME = 0x08
FN_READ = 0x11
FN_READ_FOLLOW_UP = 0x12
FN_READ_ADDRESS = 0x13
FN_WRITE = 0x14
FN_RELAY_CONTROL = 0x1C

# -- relay control N1 (§7 application layer, "跳合闸、报警、保电") ---------------
N1_TRIP = 0x1A
N1_CLOSE_ALLOWED = 0x1B
N1_CLOSE = 0x1C
N1_ALARM = 0x2A
N1_ALARM_RELEASE = 0x2B
N1_KEEP_POWER_ON = 0x3A
N1_KEEP_POWER_OFF = 0x3B
#: bytes of a relay control data field: password 4 + operator 4 + N1 + N2 + deadline 6
RELAY_CONTROL_LENGTH = 16

# -- error byte ERR of abnormal replies (Appendix C "错误信息字 ERR") ----------
ERR_OTHER = 0x01
ERR_NO_DATA = 0x02
ERR_PASSWORD = 0x04
ERR_BAUD_RATE = 0x08
ERR_YEAR_ZONES = 0x10
ERR_DAY_PERIODS = 0x20
ERR_TARIFFS = 0x40
ERROR_REASONS = (
    (ERR_OTHER, "other error"),
    (ERR_NO_DATA, "no requested data"),
    (ERR_PASSWORD, "password error or unauthorised"),
    (ERR_BAUD_RATE, "communication rate cannot be changed"),
    (ERR_YEAR_ZONES, "annual time zones exceeded"),
    (ERR_DAY_PERIODS, "daily periods exceeded"),
    (ERR_TARIFFS, "tariff count exceeded"),
    (0x80, "reserved bit 7 set"),
)

# -- status word 3 (04000503, "电表运行状态字3（操作类）") -------------------------
# The 2007 text (Appendix C) defines bit0 running time-period set, bits 1-2
# power supply, bit3 programming allowed, bit4 relay state (0 closed /
# conducting "通", 1 open "断"); bits 5-15 are reserved there. Bits 6, 7 and
# 8-15 come from the State Grid extension used by prepaid smart meters (as
# implemented by meter firmware: bit6 relay command state 0 close / 1 trip,
# bit7 pre-trip alarm, bits 8-9 meter type, bit12 keep-power "保电"); a meter
# built to the bare 2007 text leaves them 0.
STATUS3_RELAY_OPEN = 1 << 4
STATUS3_RELAY_COMMAND_OPEN = 1 << 6
STATUS3_PRE_TRIP_ALARM = 1 << 7
STATUS3_METER_TYPE_SHIFT = 8  # 00 not prepaid, 01 energy prepaid, 10 money prepaid
STATUS3_KEEP_POWER = 1 << 12


# -- BCD ------------------------------------------------------------------------
def to_bcd(value, length):
    """``value`` (int >= 0) as ``length`` BCD bytes, low byte first."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"BCD value must be an int, not {type(value).__name__}")
    if value < 0:
        raise ValidationError(f"BCD value must not be negative, got {value}")
    if value >= 100**length:
        raise ValidationError(f"{value} does not fit in {length} BCD bytes ({2 * length} digits)")
    return bytes.fromhex(f"{value:0{2 * length}d}")[::-1]


def from_bcd(data):
    """The int held by BCD bytes ``data`` (low byte first); ProtocolError if not BCD."""
    digits = bytes(data[::-1]).hex()
    if not digits or not digits.isdigit():
        raise ProtocolError(f"not BCD: {bytes(data).hex(' ').upper() or 'no bytes'}")
    return int(digits)


#: DL/T 645 dates carry two year digits YY, meaning the year 20YY (00..99 -> 2000..2099)
CENTURY = 2000
FIRST_YEAR, LAST_YEAR = CENTURY, CENTURY + 99
#: the "no expiry" deadline head-ends put in relay commands meant to stay valid
NO_EXPIRY_DEADLINE = datetime.datetime(2099, 12, 30, 23, 59, 59)


def _check_meter_time(when, what):
    """``when`` as the meter keeps it: naive local time in 2000..2099."""
    if when.tzinfo is not None:
        raise ValidationError(
            f"{what} {when.isoformat()} carries a time zone; a meter keeps naive local "
            "time: convert it to the meter's zone first"
        )
    if not FIRST_YEAR <= when.year <= LAST_YEAR:
        raise ValidationError(
            f"{what}: DL/T 645 keeps two year digits (20YY): {when.year} is not in "
            f"{FIRST_YEAR}..{LAST_YEAR}"
        )


def _date_digits(when):
    return f"{when.year - CENTURY:02d}{when.month:02d}{when.day:02d}"


def _make_datetime(digits, what):
    """datetime of 12 digits YYMMDDhhmmss (YY = 20YY); ProtocolError if not a real one."""
    numbers = [int(digits[i : i + 2]) for i in range(0, len(digits), 2)]
    numbers[0] += CENTURY
    try:
        return datetime.datetime(*numbers)
    except ValueError:
        raise ProtocolError(f"{what}: not a valid date-time: YYMMDDhhmmss = {digits}") from None


def encode_datetime(when):
    """``when`` as the 6 bytes ss mm hh DD MM YY (BCD, low byte first on the wire)."""
    if not isinstance(when, datetime.datetime):
        raise ValidationError(f"a datetime is required, got {type(when).__name__}")
    _check_meter_time(when, "date-time")
    digits = _date_digits(when) + f"{when.hour:02d}{when.minute:02d}{when.second:02d}"
    return to_bcd(int(digits), 6)


def decode_datetime(data):
    """The datetime held by 6 bytes ss mm hh DD MM YY (YY = 20YY); ProtocolError if invalid."""
    if len(data) != 6:
        raise ProtocolError(f"a date-time needs 6 bytes, got {len(data)}")
    return _make_datetime(f"{from_bcd(data):012d}", "date-time")


# -- address, password, operator ----------------------------------------------------
def normalize_address(address):
    """Canonical 12-character address: digits, zero-padded, ``AA`` byte wildcards upper case.

    Shorter all-digit addresses are padded with 0 on the left, as the
    standard pads the high bytes of a short address.
    """
    if not isinstance(address, str):
        raise ValidationError(f"a DL/T 645 address is text, not {type(address).__name__}")
    text = address.strip().upper()
    if text.isdigit() and text.isascii() and len(text) <= 12:
        return text.zfill(12)
    if len(text) != 12:
        raise ValidationError(f"address {address!r} must have 12 digits")
    for index in range(0, 12, 2):
        pair = text[index : index + 2]
        if pair != "AA" and not (pair.isdigit() and pair.isascii()):
            raise ValidationError(
                f"address {address!r}: each byte must be two digits or the wildcard AA"
            )
    return text


def encode_address(address):
    """The 6 address bytes, low byte first."""
    return bytes.fromhex(normalize_address(address))[::-1]


def decode_address(data):
    """The 12-character address of 6 wire bytes; ProtocolError if a byte is neither BCD nor AAH."""
    if len(data) != 6:
        raise ProtocolError(f"an address needs 6 bytes, got {len(data)}")
    for byte in data:
        if byte != WILDCARD_BYTE and (byte >> 4 > 9 or byte & 0x0F > 9):
            raise ProtocolError(f"address byte {byte:02X}H is neither BCD nor the wildcard AAH")
    return bytes(data[::-1]).hex().upper()


def address_matches(pattern, address):
    """True when ``address`` is selected by ``pattern`` (AA bytes match any byte)."""
    pattern = normalize_address(pattern)
    address = normalize_address(address)
    return all(pattern[i : i + 2] in ("AA", address[i : i + 2]) for i in range(0, 12, 2))


def is_wildcard(address):
    return "AA" in [normalize_address(address)[i : i + 2] for i in range(0, 12, 2)]


def _hex_credential(text, what):
    if not isinstance(text, str) or len(text) != 8:
        raise ValidationError(f"{what} must be 8 hex digits, got {text!r}")
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise ValidationError(f"{what} must be 8 hex digits, got {text!r}") from None


def encode_password(password):
    """Password text ``"PAP2P1P0"`` (level then 6 hex digits) to wire order PA P0 P1 P2.

    ``"02123456"`` is level 02 with password 123456: bytes 02 56 34 12.
    """
    raw = _hex_credential(password, "password")
    return raw[:1] + raw[1:][::-1]


def decode_password(data):
    """Wire bytes PA P0 P1 P2 back to the text ``"PAP2P1P0"``."""
    data = bytes(data)
    return (data[:1] + data[1:][::-1]).hex().upper()


def encode_operator(operator):
    """Operator code text ``"C3C2C1C0"`` (8 hex digits) to wire order C0 C1 C2 C3."""
    return _hex_credential(operator, "operator code")[::-1]


def decode_operator(data):
    return bytes(data[::-1]).hex().upper()


# -- frames ---------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Frame:
    """One parsed frame. ``data`` has the 33H offset already removed."""

    address: str
    control: int
    data: bytes = b""
    preamble: int = 0  # leading FEH bytes seen

    @property
    def function(self):
        return self.control & FUNCTION_MASK

    @property
    def is_reply(self):
        return bool(self.control & REPLY_BIT)

    @property
    def is_abnormal(self):
        return bool(self.control & ABNORMAL_BIT)

    @property
    def has_follow_up(self):
        return bool(self.control & FOLLOW_UP_BIT)

    @property
    def error_code(self):
        """The ERR byte of an abnormal reply (None for any other frame)."""
        if not self.is_abnormal:
            return None
        if len(self.data) != 1:
            raise ProtocolError(
                f"an abnormal reply carries one error byte, this one has {len(self.data)}"
            )
        return self.data[0]


def checksum(body):
    """CS: the byte sum mod 256 of ``body`` (from the first 68H through the last data byte)."""
    return sum(body) & 0xFF


def build_frame(address, control, data=b"", preamble=True):
    """One frame to ``address``; ``data`` is given plain (the 33H offset is added here)."""
    if not isinstance(control, int) or not 0 <= control <= 0xFF:
        raise ValidationError(f"control code must be a byte, got {control!r}")
    data = bytes(data)
    if len(data) > MAX_DATA_LENGTH:
        raise ValidationError(f"data field of {len(data)} bytes exceeds {MAX_DATA_LENGTH}")
    body = bytearray([START])
    body += encode_address(address)
    body += bytes([START, control, len(data)])
    body += bytes((byte + DATA_OFFSET) & 0xFF for byte in data)
    body += bytes([checksum(body), END])
    return (PREAMBLE if preamble else b"") + bytes(body)


def frame_length(buffer):
    """Bytes of the first complete frame at the start of ``buffer``, FEH preamble included.

    Returns None while more bytes are needed; raises ProtocolError as soon as
    the bytes can never become a frame (wrong start byte, wrong second 68H,
    wrong end byte). The checksum is left to :func:`parse_frame`.
    """
    size = len(buffer)
    start = 0
    while start < size and buffer[start] == WAKE_UP:
        start += 1
    if start == size:
        return None
    if buffer[start] != START:
        raise ProtocolError(
            f"byte {start} is {buffer[start]:02X}H where the frame start 68H is expected"
        )
    if size > start + 7 and buffer[start + 7] != START:
        raise ProtocolError(
            f"byte {start + 7} is {buffer[start + 7]:02X}H where the second 68H is expected"
        )
    if size < start + HEADER_LENGTH:
        return None
    total = start + FRAME_OVERHEAD + buffer[start + 9]
    if size < total:
        return None
    if buffer[total - 1] != END:
        raise ProtocolError(
            f"byte {total - 1} is {buffer[total - 1]:02X}H where the end 16H is expected"
        )
    return total


def parse_frame(buffer):
    """Parse exactly one frame (optionally preceded by FEH bytes).

    Raises ChecksumError on a CS mismatch and ProtocolError on anything else
    that is wrong: incomplete frame, extra bytes, bad address.
    """
    buffer = bytes(buffer)
    total = frame_length(buffer)
    if total is None:
        raise ProtocolError(
            f"incomplete frame ({len(buffer)} bytes): {buffer[:32].hex(' ').upper()}"
        )
    if total != len(buffer):
        raise ProtocolError(f"{len(buffer) - total} unexpected bytes after the end of the frame")
    start = 0
    while buffer[start] == WAKE_UP:
        start += 1
    body = buffer[start:total]
    expected = checksum(body[:-2])
    if body[-2] != expected:
        raise ChecksumError(f"checksum {body[-2]:02X}H does not match the computed {expected:02X}H")
    return Frame(
        address=decode_address(body[1:7]),
        control=body[8],
        data=bytes((byte - DATA_OFFSET) & 0xFF for byte in body[10:-2]),
        preamble=start,
    )


def reply_mismatch(request, raw):
    """None when the frame bytes ``raw`` answer ``request`` (a parsed Frame), else why not.

    The reply must come from the addressed meter (any meter a wildcard
    selects, never a wildcard itself), be a reply to the same function and,
    for a normal read reply, carry the same data identifier (and, for read
    follow-up, the same SEQ). A frame of this meter and function whose
    checksum is wrong counts as the reply: the caller reports the damage.
    """
    try:
        reply = parse_frame(raw)
    except ChecksumError:
        header = _header(raw)
        if header is None:
            return "a frame with a bad checksum"
        address, control = header
        if control & REPLY_BIT and _answers(request, address, control & FUNCTION_MASK):
            return None
        return f"a frame with a bad checksum from meter {address} (C={control:02X}H)"
    except ProtocolError as exc:
        return f"an unreadable frame ({exc})"
    if not reply.is_reply:
        return f"a request frame (C={reply.control:02X}H), not a reply"
    if not _answers(request, reply.address, reply.function):
        return f"a reply from meter {reply.address} to function {reply.function:02X}H"
    if reply.is_abnormal:
        return None
    if request.function in (FN_READ, FN_READ_FOLLOW_UP) and reply.data[:4] != request.data[:4]:
        item = reply.data[:4][::-1].hex().upper() or "none"
        return f"a reply of meter {reply.address} for data item {item}"
    if request.function == FN_READ_FOLLOW_UP and reply.data[-1:] != request.data[4:5]:
        return f"a follow-up reply of meter {reply.address} with another SEQ"
    return None


def _answers(request, address, function):
    return (
        function == request.function
        and address_matches(request.address, address)
        and not is_wildcard(address)
    )


def _header(raw):
    """(address, control) of a framed but damaged frame, or None if even they are unreadable."""
    start = 0
    while start < len(raw) and raw[start] == WAKE_UP:
        start += 1
    try:
        return decode_address(raw[start + 1 : start + 7]), raw[start + 8]
    except (ProtocolError, IndexError):
        return None


def reply_address(raw):
    """The meter address of an intact reply frame, None for anything else."""
    try:
        frame = parse_frame(raw)
    except ProtocolError:
        return None
    if not frame.is_reply or is_wildcard(frame.address):
        return None
    return frame.address


def describe_error(code):
    """Readable reasons of an ERR byte, e.g. ``"password error or unauthorised"``."""
    reasons = [reason for bit, reason in ERROR_REASONS if code & bit]
    return "; ".join(reasons) or "unspecified error (no ERR bit set)"


def raise_if_abnormal(frame, what="request"):
    """Raise MeterRefused(reason, code=ERR) if ``frame`` is an abnormal reply."""
    if frame.is_abnormal:
        code = frame.error_code
        raise MeterRefused(f"{what} refused by meter {frame.address}: {describe_error(code)}", code)


# -- requests a master sends ---------------------------------------------------------
def encode_di(di):
    """Data identifier DI3DI2DI1DI0 (an int such as 0x00010000) as 4 bytes, DI0 first."""
    if isinstance(di, bool) or not isinstance(di, int) or not 0 <= di <= 0xFFFFFFFF:
        raise ValidationError(f"a data identifier is a 32-bit int, got {di!r}")
    return di.to_bytes(4, "little")


def decode_di(data):
    if len(data) < 4:
        raise ProtocolError(f"a data identifier needs 4 bytes, got {len(data)}")
    return int.from_bytes(bytes(data[:4]), "little")


def build_read(address, di, preamble=True):
    """Read data (11H) of one data identifier."""
    return build_frame(address, FN_READ, encode_di(di), preamble)


def build_read_follow_up(address, di, sequence, preamble=True):
    """Read follow-up data (12H): L = 05H, DI then the frame sequence number SEQ.

    After a read reply with the follow-up bit (B1H), the master asks for the
    rest with SEQ = 1, 2, ... until a reply comes without the bit (92H).
    """
    _check_sequence(sequence)
    return build_frame(address, FN_READ_FOLLOW_UP, encode_di(di) + bytes([sequence]), preamble)


def _check_sequence(sequence):
    if isinstance(sequence, bool) or not isinstance(sequence, int) or not 0 <= sequence <= 0xFF:
        raise ValidationError(f"frame sequence SEQ must be a byte, got {sequence!r}")


def build_read_address(preamble=True):
    """Read address (13H) to the wildcard address: only one meter may be on the bus."""
    return build_frame(WILDCARD_ADDRESS, FN_READ_ADDRESS, b"", preamble)


def build_write(address, di, payload, password, operator, preamble=True):
    """Write data (14H): DI, password PA P0 P1 P2, operator code C0..C3, then the data."""
    data = encode_di(di) + encode_password(password) + encode_operator(operator) + bytes(payload)
    return build_frame(address, FN_WRITE, data, preamble)


def build_relay_control(address, n1, password, operator, deadline, preamble=True):
    """Relay control (1CH): password, operator, N1, N2 = 00 (reserved), deadline ssmmhhDDMMYY.

    The meter refuses the command once its clock is past ``deadline``, so a
    late duplicate cannot act.
    """
    if not isinstance(n1, int) or not 0 <= n1 <= 0xFF:
        raise ValidationError(f"N1 must be a byte, got {n1!r}")
    data = (
        encode_password(password)
        + encode_operator(operator)
        + bytes([n1, 0x00])
        + encode_datetime(deadline)
    )
    return build_frame(address, FN_RELAY_CONTROL, data, preamble)


def build_time_sync(when, address=BROADCAST_ADDRESS, preamble=True):
    """Broadcast time sync (08H): YYMMDDhhmmss, sent ss first. No meter replies."""
    return build_frame(address, FN_BROADCAST_TIME, encode_datetime(when), preamble)


# -- replies a meter sends ------------------------------------------------------------
def build_reply(address, function, data=b"", follow_up=False, preamble=True):
    """A normal reply: control = 80H | function (| 20H with a follow-up frame)."""
    control = REPLY_BIT | (FOLLOW_UP_BIT if follow_up else 0) | (function & FUNCTION_MASK)
    return build_frame(address, control, data, preamble)


def build_read_reply(address, di, payload, follow_up=False, preamble=True):
    """A read reply (91H, or B1H when follow-up frames carry the rest): DI then the data."""
    return build_reply(address, FN_READ, encode_di(di) + bytes(payload), follow_up, preamble)


def build_read_follow_up_reply(address, di, payload, sequence, follow_up=False, preamble=True):
    """A read follow-up reply (92H, or B2H when more follows): DI, the data, then SEQ."""
    _check_sequence(sequence)
    data = encode_di(di) + bytes(payload) + bytes([sequence])
    return build_reply(address, FN_READ_FOLLOW_UP, data, follow_up, preamble)


def build_abnormal_reply(address, function, error, preamble=True):
    """An abnormal reply: control = C0H | function, one ERR byte."""
    control = REPLY_BIT | ABNORMAL_BIT | (function & FUNCTION_MASK)
    return build_frame(address, control, bytes([error & 0xFF]), preamble)


# -- data fields of requests (what a meter decodes) -------------------------------
@dataclasses.dataclass(frozen=True)
class WriteRequest:
    di: int
    password: str
    operator: str
    payload: bytes


@dataclasses.dataclass(frozen=True)
class RelayCommand:
    password: str
    operator: str
    n1: int
    n2: int
    deadline: datetime.datetime


def parse_write_request(frame):
    if len(frame.data) < 12:
        raise ProtocolError(f"a write request needs at least 12 data bytes, got {len(frame.data)}")
    data = frame.data
    return WriteRequest(
        di=decode_di(data),
        password=decode_password(data[4:8]),
        operator=decode_operator(data[8:12]),
        payload=data[12:],
    )


def parse_relay_control(frame):
    if len(frame.data) != RELAY_CONTROL_LENGTH:
        raise ProtocolError(
            f"a relay control carries {RELAY_CONTROL_LENGTH} data bytes, got {len(frame.data)}"
        )
    data = frame.data
    return RelayCommand(
        password=decode_password(data[0:4]),
        operator=decode_operator(data[4:8]),
        n1=data[8],
        n2=data[9],
        deadline=decode_datetime(data[10:16]),
    )


def parse_time_sync(frame):
    return decode_datetime(frame.data)


def parse_read_reply(frame):
    """(di, payload) of a normal read reply."""
    return decode_di(frame.data), frame.data[4:]


def parse_read_follow_up(frame):
    """(di, SEQ) of a read follow-up request (12H, L = 05H)."""
    if len(frame.data) != 5:
        raise ProtocolError(
            f"a read follow-up request carries DI and SEQ, got {len(frame.data)} bytes"
        )
    return decode_di(frame.data), frame.data[4]


def parse_read_follow_up_reply(frame):
    """(di, payload, SEQ) of a normal read follow-up reply (92H / B2H)."""
    if len(frame.data) < 5:
        raise ProtocolError(
            f"a read follow-up reply carries DI, data and SEQ, got {len(frame.data)} bytes"
        )
    return decode_di(frame.data), frame.data[4:-1], frame.data[-1]


# -- data items (Appendix A) ----------------------------------------------------------
KIND_NUMBER = "bcd"  # BCD number, optional sign bit, fixed decimals
KIND_WORD = "word"  # binary status word, low byte first
KIND_DATE = "date"  # YYMMDDWW (WW: 0 Sunday .. 6 Saturday), sent WW first
KIND_TIME = "time"  # hhmmss, sent ss first


@dataclasses.dataclass(frozen=True)
class DataItem:
    """One data identifier of the standard and how its value is coded.

    ``length`` is the bytes of one value; ``count`` the values in a block
    (None: as many as the meter sends, e.g. total + each tariff). ``signed``:
    the top bit of the most significant byte is the sign (1 = negative), as
    the standard codes current and power direction.
    """

    di: int
    name: str
    length: int
    decimals: int = 0
    unit: str = ""
    signed: bool = False
    count: int | None = 1
    kind: str = KIND_NUMBER
    band: str | None = None

    def decode(self, raw):
        """Value of the reply bytes: Decimal (numbers), int (words), date, time;
        a tuple of them for a block."""
        raw = bytes(raw)
        if self.count == 1:
            if len(raw) != self.length:
                raise ProtocolError(
                    f"{self.di:08X} {self.name}: expected {self.length} bytes, got {len(raw)}"
                )
            return self._decode_one(raw)
        if (
            not raw
            or len(raw) % self.length
            or (self.count and len(raw) != self.count * self.length)
        ):
            expected = f"{self.count} x {self.length}" if self.count else f"n x {self.length}"
            raise ProtocolError(
                f"{self.di:08X} {self.name}: expected {expected} bytes, got {len(raw)}"
            )
        return tuple(
            self._decode_one(raw[i : i + self.length]) for i in range(0, len(raw), self.length)
        )

    def encode(self, value, rounding=ROUND_DOWN):
        """Bytes of ``value`` (a tuple for a block). Numbers are cut to the item's
        decimals with ``rounding`` (default: truncate, as a register display does)."""
        if self.count == 1:
            return self._encode_one(value, rounding)
        values = tuple(value)
        if not values or (self.count and len(values) != self.count):
            raise ValidationError(
                f"{self.name}: expected {self.count or 'some'} values, got {len(values)}"
            )
        return b"".join(self._encode_one(one, rounding) for one in values)

    # -- one value --
    def _decode_one(self, raw):
        if self.kind == KIND_WORD:
            return int.from_bytes(raw, "little")
        if self.kind == KIND_DATE:
            digits = f"{from_bcd(raw[1:]):06d}"
            return _make_datetime(digits + "000000", self.name).date()
        if self.kind == KIND_TIME:
            digits = f"{from_bcd(raw):06d}"
            hour, minute, second = (int(digits[i : i + 2]) for i in (0, 2, 4))
            try:
                return datetime.time(hour, minute, second)
            except ValueError:
                raise ProtocolError(f"{self.name}: not a valid time hhmmss = {digits}") from None
        negative = self.signed and bool(raw[-1] & 0x80)
        if negative:
            raw = raw[:-1] + bytes([raw[-1] & 0x7F])
        value = Decimal(from_bcd(raw)).scaleb(-self.decimals)
        return -value if negative and value else value

    def _encode_one(self, value, rounding):
        if self.kind == KIND_WORD:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValidationError(f"{self.name}: a status word is an int, got {value!r}")
            if not 0 <= value < 1 << (8 * self.length):
                raise ValidationError(f"{self.name}: {value} does not fit {self.length} bytes")
            return value.to_bytes(self.length, "little")
        if self.kind == KIND_DATE:
            if not isinstance(value, datetime.date):
                raise ValidationError(f"{self.name}: a date is required, got {value!r}")
            week_day = value.isoweekday() % 7  # the standard counts 0 = Sunday
            if not FIRST_YEAR <= value.year <= LAST_YEAR:
                raise ValidationError(
                    f"{self.name}: DL/T 645 keeps two year digits (20YY): year {value.year} "
                    f"is not in {FIRST_YEAR}..{LAST_YEAR}"
                )
            return bytes([week_day]) + to_bcd(int(_date_digits(value)), 3)
        if self.kind == KIND_TIME:
            if not isinstance(value, (datetime.time, datetime.datetime)):
                raise ValidationError(f"{self.name}: a time is required, got {value!r}")
            return to_bcd(value.hour * 10000 + value.minute * 100 + value.second, 3)
        return self._encode_number(value, rounding)

    def _encode_number(self, value, rounding):
        value = to_decimal(value, self.name)
        scaled = int(value.scaleb(self.decimals).to_integral_value(rounding=rounding))
        if scaled < 0 and not self.signed:
            raise ValidationError(f"{self.name} cannot be negative, got {value}")
        magnitude = abs(scaled)
        # with a sign bit the top digit can only reach 7
        limit = 8 * 10 ** (2 * self.length - 1) if self.signed else 100**self.length
        if magnitude >= limit:
            raise ValidationError(
                f"{self.name}: {value} does not fit {self.length} bytes"
                f" with {self.decimals} decimals"
            )
        raw = to_bcd(magnitude, self.length)
        if scaled < 0:
            raw = raw[:-1] + bytes([raw[-1] | 0x80])
        return raw


DI_FORWARD_ACTIVE_TOTAL = 0x00010000
DI_FORWARD_ACTIVE_BLOCK = 0x0001FF00
#: tariff 1..4 forward active energy, in the order of vocabulary.TOU_BANDS
DI_FORWARD_ACTIVE_BANDS = {band: 0x00010000 + 0x100 * (i + 1) for i, band in enumerate(TOU_BANDS)}
DI_VOLTAGE_A = 0x02010100
DI_VOLTAGE_BLOCK = 0x0201FF00
DI_CURRENT_A = 0x02020100
DI_ACTIVE_POWER_TOTAL = 0x02030000
DI_REMAINING_MONEY = 0x00900200
DI_OVERDRAFT_MONEY = 0x00900201
# "Number of purchases": the standard has no "current purchase count" item in
# its 2007 base set; the purchase records 0333xxyy (Appendix A, event
# records of money-type prepaid meters) hold for the yy-th last purchase
# (yy = 01..0A) the purchase date (033301yy), "total purchase count after the purchase"
# 033302yy (XXXX, 2 bytes), amount (033303yy), balance before/after and
# cumulative amount. The count after the LAST purchase, 03330201, is what
# prepaid systems read as the meter's purchase count. 03330200 (yy = 00)
# is not a defined record. Checked against firmware and concentrator tables
# that reproduce the standard, not against the standard's own text; one
# concentrator source also lists 00900202 "current purchase count", which
# looks vendor-specific and is not used here.
DI_PURCHASE_COUNT = 0x03330201
DI_STATUS_WORD_3 = 0x04000503
DI_DATE = 0x04000101
DI_TIME = 0x04000102
DI_DAILY_FROZEN_FORWARD_ACTIVE = 0x05060101

_ITEMS = [
    DataItem(DI_FORWARD_ACTIVE_TOTAL, "forward active energy, total", 4, 2, "kWh"),
    DataItem(
        DI_FORWARD_ACTIVE_BLOCK,
        "forward active energy block (total, tariff 1..M)",
        4,
        2,
        "kWh",
        count=None,
    ),
    *(
        DataItem(di, f"forward active energy, tariff {i + 1} ({band})", 4, 2, "kWh", band=band)
        for i, (band, di) in enumerate(DI_FORWARD_ACTIVE_BANDS.items())
    ),
    DataItem(DI_VOLTAGE_A, "phase A voltage", 2, 1, "V"),
    DataItem(DI_VOLTAGE_BLOCK, "voltage block (phases A, B, C)", 2, 1, "V", count=3),
    DataItem(DI_CURRENT_A, "phase A current", 3, 3, "A", signed=True),
    DataItem(DI_ACTIVE_POWER_TOTAL, "total active power", 3, 4, "kW", signed=True),
    DataItem(DI_REMAINING_MONEY, "remaining money", 4, 2, "money"),
    DataItem(DI_OVERDRAFT_MONEY, "overdraft money", 4, 2, "money"),
    DataItem(DI_PURCHASE_COUNT, "total purchase count after the last purchase", 2, 0),
    DataItem(DI_STATUS_WORD_3, "meter running status word 3", 2, kind=KIND_WORD),
    DataItem(DI_DATE, "date and week day", 4, kind=KIND_DATE),
    DataItem(DI_TIME, "time", 3, kind=KIND_TIME),
    # Last day's frozen forward active energy: total then each tariff (4 x
    # (M + 1) bytes, M = the meter's tariff count, usually 4).
    DataItem(
        DI_DAILY_FROZEN_FORWARD_ACTIVE,
        "daily frozen forward active energy, last day (total, tariff 1..M)",
        4,
        2,
        "kWh",
        count=None,
    ),
]
DATA_ITEMS = {item.di: item for item in _ITEMS}


def data_item(di):
    """The registry's DataItem of ``di``; ValidationError if it is not known."""
    try:
        return DATA_ITEMS[di]
    except KeyError:
        raise ValidationError(f"data identifier {di!r} is not in the DL/T 645 registry") from None


@dataclasses.dataclass(frozen=True)
class Status3:
    """The relay-related bits of status word 3."""

    relay_open: bool
    relay_command_open: bool
    pre_trip_alarm: bool
    keep_power: bool

    @classmethod
    def from_word(cls, word):
        return cls(
            relay_open=bool(word & STATUS3_RELAY_OPEN),
            relay_command_open=bool(word & STATUS3_RELAY_COMMAND_OPEN),
            pre_trip_alarm=bool(word & STATUS3_PRE_TRIP_ALARM),
            keep_power=bool(word & STATUS3_KEEP_POWER),
        )


# -- vendor extension: meter-side credit purchase ---------------------------------
# DL/T 645-2007 has no plain-text recharge command: State Grid prepaid meters
# take credit through the ESAM-encrypted security commands of the extension,
# which cannot be reproduced without the keys. This project defines a plain
# 14H write instead, for meters (and the simulator) configured to accept it:
#   DI F0000100 (DI3 = F0H, outside the standard's categories 00..06),
#   data: amount XXXXXX.XX (4 bytes BCD) then purchase count XXXX (2 bytes BCD).
# The meter applies it only when the count is its own count + 1; otherwise it
# answers D4H with ERR "other error".
VENDOR_PURCHASE_DI = 0xF0000100
_PURCHASE_AMOUNT = DataItem(VENDOR_PURCHASE_DI, "purchase amount", 4, 2, "money")
_PURCHASE_COUNT = DataItem(VENDOR_PURCHASE_DI, "purchase count", 2, 0)
MAX_PURCHASE_COUNT = 9999


def encode_purchase(amount, purchase_count):
    """Data of the vendor purchase write: amount (exact cents, > 0) and count (1..9999)."""
    amount = to_decimal(amount, "purchase amount")
    if amount <= 0:
        raise ValidationError(f"purchase amount must be positive, got {amount}")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError(f"purchase amount {amount} has more than 2 decimals")
    if isinstance(purchase_count, bool) or not isinstance(purchase_count, int):
        raise ValidationError(f"purchase count must be an int, got {purchase_count!r}")
    if not 1 <= purchase_count <= MAX_PURCHASE_COUNT:
        raise ValidationError(
            f"purchase count must be 1..{MAX_PURCHASE_COUNT}, got {purchase_count}"
        )
    return _PURCHASE_AMOUNT.encode(amount) + _PURCHASE_COUNT.encode(purchase_count)


def decode_purchase(payload):
    """(amount, purchase count) of the vendor purchase write data."""
    if len(payload) != 6:
        raise ProtocolError(f"a purchase carries 6 data bytes, got {len(payload)}")
    return _PURCHASE_AMOUNT.decode(payload[:4]), int(_PURCHASE_COUNT.decode(payload[4:]))
