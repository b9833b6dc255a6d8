"""Modbus register maps: one JSON file per meter model, validated into a RegisterMap.

A map says where each value lives (register table, address, type, byte and
word order, scale), how the relay is driven, how credit is pushed and how
the clock is set. The format is described in data/register_maps/README.md.

Decoding turns raw registers into Decimal engineering values:

- integer types: ``raw * scale``, exact;
- float32: the meter sends an IEEE 754 single (24-bit mantissa, about 7
  significant digits). Widening it to a Python float and printing it would
  show binary noise (230.1 reads 230.10000610351562). We take the shortest
  decimal string that converts back to the same float32 bits (at most 9
  significant digits, like ``repr`` does for doubles), so 230.1 reads
  ``Decimal("230.1")``; then scale multiplies exactly, and a point with
  ``decimals`` is quantized to that many places (ROUND_HALF_EVEN). Nothing
  invents digits the meter did not send.
"""

import dataclasses
import functools
import json
import math
import os
import pathlib
import struct
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, InvalidOperation

from .errors import ProtocolError, ValidationError
from .protocols import modbus
from .vocabulary import RELAY_ACTIONS, TOTAL, TOU_BANDS

#: register types: number of 16-bit registers, signed
REGISTER_TYPES = {
    "uint16": (1, False),
    "int16": (1, True),
    "uint32": (2, False),
    "int32": (2, True),
    "float32": (2, None),
}
ORDERS = ("big", "little")
PROTOCOLS = ("modbus-rtu", "modbus-tcp")
PARITIES = ("N", "E", "O")
POINT_FUNCTIONS = (
    modbus.READ_COILS,
    modbus.READ_DISCRETE_INPUTS,
    modbus.READ_HOLDING_REGISTERS,
    modbus.READ_INPUT_REGISTERS,
)

#: point names feeding MeterReading, with the unit MeterReading expects
#: (None: any unit, e.g. the currency of a balance); the registers are named as
#: everywhere else (vocabulary.REGISTERS): total, sharp, peak, flat, valley
READING_POINTS = {
    TOTAL: "kWh",
    **dict.fromkeys(TOU_BANDS, "kWh"),
    "voltage": "V",
    "current": "A",
    "power": "kW",
    "balance": None,
    "purchase_count": "",
    "relay_state": "",
}
#: further points a map may declare; read by ModbusDriver.read_points only
EXTRA_POINTS = {
    "import_energy": "kWh",
    "export_energy": "kWh",
    "frequency": "Hz",
    "power_factor": "",
}
POINT_NAMES = {**READING_POINTS, **EXTRA_POINTS}
#: names maps used before the registers got one name everywhere
RENAMED_POINTS = {
    "total_energy": TOTAL,
    **{f"{band}_energy": band for band in TOU_BANDS},
}
INTEGER_POINTS = ("purchase_count",)

#: credit push fields
CREDIT_FIELDS = ("purchase_count", "amount")
#: the clock block: six uint16 registers
CLOCK_FIELDS = ("year", "month", "day", "hour", "minute", "second")

DEFAULT_MAX_GAP = 16
#: the repository's data/register_maps; PREPAID_ENERGY_REGISTER_MAPS overrides it
#: (an installed package without the repository next to it)
DATA_DIR = pathlib.Path(
    os.environ.get(
        "PREPAID_ENERGY_REGISTER_MAPS",
        pathlib.Path(__file__).resolve().parent.parent / "data" / "register_maps",
    )
)


# -- value encoding --------------------------------------------------------------
def float32_to_decimal(raw):
    """Shortest Decimal that converts back to the float32 with bytes ``raw`` (big-endian)."""
    (value,) = struct.unpack(">f", raw)
    if not math.isfinite(value):
        raise ProtocolError(f"float32 register value is {value} (bytes {raw.hex()})")
    if value == 0:
        return Decimal(0)
    for digits in range(1, 10):
        text = f"{value:.{digits}g}"
        if struct.pack(">f", float(text)) == raw:
            break
    result = Decimal(text)
    return Decimal(int(result)) if result.as_tuple().exponent > 0 else result


def _words_to_bytes(words, byte_order, word_order):
    """Registers (as sent, big-endian each) to the value's big-endian bytes."""
    if word_order == "little":
        words = list(reversed(words))
    chunks = [word.to_bytes(2, "big") for word in words]
    if byte_order == "little":
        chunks = [chunk[::-1] for chunk in chunks]
    return b"".join(chunks)


def _bytes_to_words(raw, byte_order, word_order):
    chunks = [raw[i : i + 2] for i in range(0, len(raw), 2)]
    if byte_order == "little":
        chunks = [chunk[::-1] for chunk in chunks]
    words = [int.from_bytes(chunk, "big") for chunk in chunks]
    return list(reversed(words)) if word_order == "little" else words


@dataclasses.dataclass(frozen=True)
class ValueFormat:
    """How one number sits in consecutive registers."""

    type: str
    scale: Decimal = Decimal(1)
    byte_order: str = "big"
    word_order: str = "big"
    decimals: int | None = None

    @property
    def count(self):
        return REGISTER_TYPES[self.type][0]

    def decode(self, words):
        """Registers -> Decimal engineering value."""
        if len(words) != self.count:
            raise ProtocolError(f"{self.type} needs {self.count} registers, got {len(words)}")
        raw = _words_to_bytes(words, self.byte_order, self.word_order)
        if self.type == "float32":
            value = float32_to_decimal(raw) * self.scale
        else:
            signed = REGISTER_TYPES[self.type][1]
            value = Decimal(int.from_bytes(raw, "big", signed=signed)) * self.scale
        if self.decimals is not None:
            value = value.quantize(Decimal(1).scaleb(-self.decimals), rounding=ROUND_HALF_EVEN)
        return value

    def encode(self, value, rounding=None, what="value"):
        """Decimal engineering value -> registers.

        With ``rounding=None`` the value must be an exact multiple of the
        scale (money is never rounded silently); a simulated meter passes
        ROUND_DOWN, as a real register shows only completed steps.
        """
        value = Decimal(value)
        raw_value = value / self.scale
        if self.type == "float32":
            raw = struct.pack(">f", float(raw_value))
        else:
            raw = self._integer_bytes(raw_value, rounding, value, what)
        return _bytes_to_words(raw, self.byte_order, self.word_order)

    def _integer_bytes(self, raw_value, rounding, value, what):
        integral = raw_value.to_integral_value(rounding=rounding or ROUND_DOWN)
        if rounding is None and integral != raw_value:
            raise ValidationError(f"{what} {value} is not a multiple of the step {self.scale}")
        size, signed = REGISTER_TYPES[self.type]
        try:
            return int(integral).to_bytes(2 * size, "big", signed=signed)
        except OverflowError:
            raise ValidationError(f"{what} {value} does not fit a {self.type} register") from None


@dataclasses.dataclass(frozen=True)
class Point:
    """One value of the meter: where it is and how to decode it."""

    name: str
    function: int
    address: int
    format: ValueFormat | None  # None for a coil / discrete input
    unit: str = ""
    bit: int | None = None  # relay_state in a status register
    closed_value: int = 1  # relay_state: the bit/coil value meaning "closed"

    @property
    def count(self):
        """Registers (or bits) the point spans."""
        return 1 if self.format is None else self.format.count

    @property
    def end(self):
        return self.address + self.count

    def decode(self, items):
        """Registers or bits (as read) -> Decimal, int (counts) or bool (relay state)."""
        if self.format is None:
            return bool(items[0]) == bool(self.closed_value)
        value = self.format.decode(items)
        if self.name == "relay_state":
            raw = int(value)
            state = raw >> self.bit & 1 if self.bit is not None else int(raw != 0)
            return state == self.closed_value
        if self.name in INTEGER_POINTS:
            return int(value)
        return value

    def encode(self, value):
        """Inverse of :meth:`decode` for a simulated meter (truncating to the step)."""
        if self.format is None:
            return [bool(value) == bool(self.closed_value)]
        if self.name == "relay_state":
            state = self.closed_value if value else 1 - self.closed_value
            value = state << self.bit if self.bit is not None else state
        return self.format.encode(value, rounding=ROUND_DOWN, what=self.name)


@dataclasses.dataclass(frozen=True)
class WriteAction:
    """One write that performs a relay action: coil, register or registers."""

    function: int
    address: int
    value: object  # bool (coil), int (register) or tuple of ints


@dataclasses.dataclass(frozen=True)
class CreditPush:
    """Function 0x10 write of the purchase count and the amount, in field order."""

    address: int
    fields: tuple  # ((name, ValueFormat), ...)

    @property
    def count(self):
        return sum(fmt.count for _, fmt in self.fields)

    def encode(self, amount, purchase_count):
        values = {"amount": amount, "purchase_count": purchase_count}
        words = []
        for name, fmt in self.fields:
            words += fmt.encode(values[name], what=name.replace("_", " "))
        return words

    def decode(self, words):
        """Registers written by a master -> ``(amount, purchase_count)``."""
        values, offset = {}, 0
        for name, fmt in self.fields:
            values[name] = fmt.decode(list(words[offset : offset + fmt.count]))
            offset += fmt.count
        return values["amount"], int(values["purchase_count"])


@dataclasses.dataclass(frozen=True)
class ClockWrite:
    """Function 0x10 write of year, month, day, hour, minute, second (uint16 each)."""

    address: int
    count = len(CLOCK_FIELDS)

    @staticmethod
    def encode(when):
        return [getattr(when, field) for field in CLOCK_FIELDS]


@dataclasses.dataclass(frozen=True)
class ReadBlock:
    """One read request covering several points."""

    function: int
    address: int
    count: int
    points: tuple

    def decode(self, items):
        """Values of the block's points from the items the read returned."""
        return {
            point.name: point.decode(items[point.address - self.address : point.end - self.address])
            for point in self.points
        }


@dataclasses.dataclass(frozen=True)
class RegisterMap:
    """A validated register map of one meter model."""

    model: str
    vendor: str
    protocol: str
    baudrate: int
    parity: str
    stopbits: int
    max_read_registers: int
    max_gap: int
    points: tuple
    relay_control: dict
    credit: CreditPush | None
    clock: ClockWrite | None
    source: str = "<dict>"
    to_verify: tuple = ()  # entries of the map not yet checked against the manual

    def point(self, name):
        for point in self.points:
            if point.name == name:
                return point
        return None

    def has(self, name):
        return self.point(name) is not None

    @functools.cached_property
    def read_plan(self):
        """The fewest read requests covering every point (see :func:`plan_reads`)."""
        return plan_reads(self.points, self.max_read_registers, self.max_gap)

    def __hash__(self):
        return hash((self.model, self.source))


def plan_reads(points, max_read_registers=modbus.MAX_READ_REGISTERS, max_gap=DEFAULT_MAX_GAP):
    """Group points into as few reads as possible.

    Points of one register table merge into one request while the request
    stays within the limit (registers: ``max_read_registers``, at most 125;
    bits: 2000) and the unused stretch before the next point is at most
    ``max_gap`` items: reading a few idle registers (2 characters each)
    costs less bus time than a new transaction (8 + 5 characters, two t3.5
    silences and the meter's turnaround). Greedy from the lowest address is
    optimal for this kind of interval cover.
    """
    blocks = []
    for function in sorted({point.function for point in points}):
        table = sorted((p for p in points if p.function == function), key=lambda p: p.address)
        limit = modbus.MAX_READ_BITS if function in modbus.BIT_READS else max_read_registers
        current = [table[0]]
        for point in table[1:]:
            start, end = current[0].address, max(p.end for p in current)
            if point.end - start <= limit and point.address - end <= max_gap:
                current.append(point)
            else:
                blocks.append(_block(function, current))
                current = [point]
        blocks.append(_block(function, current))
    return tuple(blocks)


def _block(function, points):
    start = points[0].address
    return ReadBlock(function, start, max(p.end for p in points) - start, tuple(points))


# -- loading -------------------------------------------------------------------------
MAP_FIELDS = {
    "model", "vendor", "protocol", "baudrate", "parity", "stopbits", "byte_order",
    "word_order", "max_read_registers", "max_gap", "points", "relay_control", "credit",
    "clock", "source", "notes", "to_verify",
}  # fmt: skip
POINT_FIELDS = {
    "name", "address", "function", "type", "scale", "byte_order", "word_order", "unit",
    "decimals", "bit", "closed_value", "note",
}  # fmt: skip


class _Checker:
    """Builds ValidationError messages that say where: file, point, field."""

    def __init__(self, source):
        self.source = source

    def fail(self, where, message):
        prefix = f"{self.source}: {where}: " if where else f"{self.source}: "
        raise ValidationError(prefix + message)

    def required(self, data, field, where):
        if field not in data:
            self.fail(where, f"missing field {field!r}")
        return data[field]

    def no_unknown(self, data, allowed, where):
        unknown = sorted(set(data) - allowed)
        if unknown:
            self.fail(
                where, f"unknown field {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})"
            )

    def integer(self, value, field, where, low, high):
        if isinstance(value, str) and value.lower().startswith("0x"):
            try:
                value = int(value, 16)
            except ValueError:
                self.fail(where, f"field {field!r}: not a hexadecimal number: {value!r}")
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(where, f"field {field!r}: must be an integer, got {value!r}")
        if not low <= value <= high:
            self.fail(where, f"field {field!r}: {value} is outside {low}..{high}")
        return value

    def choice(self, value, field, where, choices, what):
        if value not in choices:
            allowed = ", ".join(repr(c) for c in choices)
            self.fail(
                where, f"field {field!r}: unknown {what} {value!r} (expected one of {allowed})"
            )
        return value

    def scale(self, value, where):
        if isinstance(value, float):
            self.fail(
                where,
                f"field 'scale': write it as a string such as \"0.01\", not the JSON number "
                f"{value!r} (a float cannot hold 0.01 exactly)",
            )
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            self.fail(where, f"field 'scale': must be a decimal string, got {value!r}")
        try:
            scale = Decimal(value)
        except InvalidOperation:
            self.fail(where, f"field 'scale': not a decimal number: {value!r}")
        if not scale.is_finite() or scale <= 0:
            self.fail(where, f"field 'scale': must be a positive number, got {value!r}")
        return scale


def load_register_map(path_or_dict, source=None):
    """Validate a register map (path to a JSON file, or its dict) into a RegisterMap.

    Raises ValidationError naming the file, the point and the field at fault.
    """
    if isinstance(path_or_dict, dict):
        return _parse_map(path_or_dict, source or "<dict>")
    path = pathlib.Path(path_or_dict)
    source = source or path.name
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"{source}: cannot read register map: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"{source}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    if not isinstance(data, dict):
        raise ValidationError(
            f"{source}: a register map is a JSON object, got {type(data).__name__}"
        )
    return _parse_map(data, source)


def builtin_names():
    """Names of the register maps shipped in data/register_maps."""
    return sorted(path.stem for path in DATA_DIR.glob("*.json"))


@functools.lru_cache(maxsize=64)
def _load_builtin(name):
    return load_register_map(DATA_DIR / f"{name}.json")


def load_builtin(name):
    """A shipped register map by name ("generic", "eastron_sdm630"...) or a path to one."""
    if isinstance(name, pathlib.Path) or str(name).endswith(".json") or "/" in str(name):
        return load_register_map(name)
    if name not in builtin_names():
        available = ", ".join(builtin_names())
        raise ValidationError(f"no register map {name!r} in {DATA_DIR} (available: {available})")
    return _load_builtin(name)


def resolve_profile(profile):
    """A RegisterMap from a RegisterMap, a builtin name, a path or a dict."""
    if isinstance(profile, RegisterMap):
        return profile
    if isinstance(profile, dict):
        return load_register_map(profile)
    return load_builtin(profile)


def _parse_map(data, source):
    check = _Checker(source)
    check.no_unknown(data, MAP_FIELDS, "")
    model = _text(check, check.required(data, "model", ""), "model")
    vendor = _text(check, check.required(data, "vendor", ""), "vendor")
    protocol = check.choice(
        check.required(data, "protocol", ""), "protocol", "", PROTOCOLS, "protocol"
    )
    rtu = protocol == "modbus-rtu"
    baudrate = data.get("baudrate", 9600) if not rtu else check.required(data, "baudrate", "")
    parity = data.get("parity", "N") if not rtu else check.required(data, "parity", "")
    defaults = {
        "byte_order": check.choice(
            data.get("byte_order", "big"), "byte_order", "", ORDERS, "byte order"
        ),
        "word_order": check.choice(
            data.get("word_order", "big"), "word_order", "", ORDERS, "word order"
        ),
    }
    max_read = check.integer(
        data.get("max_read_registers", modbus.MAX_READ_REGISTERS), "max_read_registers", "",
        2, modbus.MAX_READ_REGISTERS,
    )  # fmt: skip
    raw_points = check.required(data, "points", "")
    if not isinstance(raw_points, list) or not raw_points:
        check.fail("", "field 'points': must be a non-empty list")
    points = _parse_points(check, raw_points, defaults)
    relay_control = _parse_relay_control(check, data.get("relay_control"))
    credit = _parse_credit(check, data.get("credit"), defaults)
    clock = _parse_clock(check, data.get("clock"))
    _check_write_areas(check, relay_control, credit, clock)
    return RegisterMap(
        model=model,
        vendor=vendor,
        protocol=protocol,
        baudrate=check.integer(baudrate, "baudrate", "", 300, 921600),
        parity=check.choice(parity, "parity", "", PARITIES, "parity"),
        stopbits=check.choice(data.get("stopbits", 1), "stopbits", "", (1, 2), "stop bit count"),
        max_read_registers=max_read,
        max_gap=check.integer(data.get("max_gap", DEFAULT_MAX_GAP), "max_gap", "", 0, 125),
        points=points,
        relay_control=relay_control,
        credit=credit,
        clock=clock,
        source=source,
        to_verify=_to_verify(check, data.get("to_verify", [])),
    )


def _to_verify(check, raw):
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        check.fail("", "field 'to_verify': must be a list of strings")
    return tuple(raw)


def _text(check, value, field):
    if not isinstance(value, str) or not value.strip():
        check.fail("", f"field {field!r}: must be a non-empty string, got {value!r}")
    return value


def _parse_points(check, raw_points, defaults):
    points = []
    for index, raw in enumerate(raw_points):
        point = _parse_point(check, raw, index, defaults)
        if any(p.name == point.name for p in points):
            check.fail(f"point {point.name!r}", "defined twice")
        points.append(point)
    _check_overlaps(check, points)
    return tuple(points)


def _parse_point(check, raw, index, defaults):
    where = f"point #{index + 1}"
    if not isinstance(raw, dict):
        check.fail(where, f"must be an object, got {raw!r}")
    name = raw.get("name")
    if name is not None:
        where = f"point {name!r}"
    check.no_unknown(raw, POINT_FIELDS, where)
    if raw.get("name") in RENAMED_POINTS:
        check.fail(
            where,
            f"field 'name': {raw['name']!r} is now called {RENAMED_POINTS[raw['name']]!r} "
            "(registers have one name everywhere: total, sharp, peak, flat, valley)",
        )
    name = check.choice(
        check.required(raw, "name", where), "name", where, sorted(POINT_NAMES), "point name"
    )
    function = check.choice(
        check.required(raw, "function", where), "function", where, POINT_FUNCTIONS, "function"
    )
    address = check.integer(check.required(raw, "address", where), "address", where, 0, 0xFFFF)
    closed_value = check.choice(raw.get("closed_value", 1), "closed_value", where, (0, 1), "value")
    if function in modbus.BIT_READS:
        return _parse_bit_point(check, raw, where, name, function, address, closed_value)
    fmt = _parse_format(check, raw, where, defaults)
    bit = raw.get("bit")
    if bit is not None:
        bit = check.integer(bit, "bit", where, 0, 8 * 2 * fmt.count - 1)
        if name != "relay_state":
            check.fail(where, "field 'bit': only relay_state reads a single bit")
    _check_point_semantics(check, where, name, fmt, raw.get("unit", ""))
    if address + fmt.count > 0x10000:
        check.fail(where, f"field 'address': {fmt.type} at {address} passes 0xFFFF")
    return Point(name, function, address, fmt, raw.get("unit", ""), bit, closed_value)


def _parse_bit_point(check, raw, where, name, function, address, closed_value):
    if name != "relay_state":
        check.fail(where, f"field 'function': {name} cannot be a coil or discrete input")
    for field in ("type", "scale", "bit", "decimals"):
        if field in raw:
            check.fail(where, f"field {field!r}: a coil or discrete input has no {field}")
    return Point(name, function, address, None, raw.get("unit", ""), None, closed_value)


def _parse_format(check, raw, where, defaults):
    value_type = check.choice(
        check.required(raw, "type", where), "type", where, sorted(REGISTER_TYPES), "type"
    )
    decimals = raw.get("decimals")
    if decimals is not None:
        decimals = check.integer(decimals, "decimals", where, 0, 9)
    return ValueFormat(
        type=value_type,
        scale=check.scale(raw.get("scale", "1"), where),
        byte_order=check.choice(
            raw.get("byte_order", defaults["byte_order"]), "byte_order", where, ORDERS, "byte order"
        ),
        word_order=check.choice(
            raw.get("word_order", defaults["word_order"]), "word_order", where, ORDERS, "word order"
        ),
        decimals=decimals,
    )


def _check_point_semantics(check, where, name, fmt, unit):
    expected = POINT_NAMES[name]
    if expected is not None and unit != expected:
        hint = " (convert with 'scale': \"0.001\" turns W into kW, Wh into kWh)" if expected else ""
        check.fail(where, f"field 'unit': {name} must be in {expected!r}, got {unit!r}{hint}")
    if name in INTEGER_POINTS or name == "relay_state":
        if fmt.type == "float32" or fmt.scale != 1:
            check.fail(where, f"field 'type': {name} is an integer register (no float32, scale 1)")


def _check_overlaps(check, points):
    for index, point in enumerate(points):
        for other in points[:index]:
            if (
                other.function == point.function
                and point.address < other.end
                and other.address < point.end
            ):
                at = max(point.address, other.address)
                check.fail(
                    f"points {other.name!r} and {point.name!r}",
                    f"overlap at address 0x{at:04X} of function {point.function}",
                )


def _parse_relay_control(check, raw):
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        check.fail("relay_control", "must be an object mapping relay actions to writes")
    actions = {}
    for action, spec in raw.items():
        where = f"relay_control {action!r}"
        check.choice(action, "action", where, RELAY_ACTIONS, "relay action")
        if not isinstance(spec, dict):
            check.fail(where, f"must be an object, got {spec!r}")
        check.no_unknown(spec, {"function", "address", "value", "note"}, where)
        actions[action] = _parse_write(check, spec, where)
    return actions


def _parse_write(check, spec, where):
    function = check.choice(
        check.required(spec, "function", where),
        "function",
        where,
        modbus.WRITE_FUNCTIONS,
        "write function",
    )
    address = check.integer(check.required(spec, "address", where), "address", where, 0, 0xFFFF)
    value = check.required(spec, "value", where)
    if function == modbus.WRITE_SINGLE_COIL:
        if not isinstance(value, bool):
            check.fail(where, f"field 'value': a coil takes true or false, got {value!r}")
    elif function == modbus.WRITE_SINGLE_REGISTER:
        value = check.integer(value, "value", where, 0, 0xFFFF)
    else:
        if not isinstance(value, list) or not 1 <= len(value) <= modbus.MAX_WRITE_REGISTERS:
            check.fail(where, "field 'value': function 16 takes a list of 1..123 register values")
        value = tuple(check.integer(item, "value", where, 0, 0xFFFF) for item in value)
    return WriteAction(function, address, value)


def _parse_credit(check, raw, defaults):
    if raw is None:
        return None
    where = "credit"
    if not isinstance(raw, dict):
        check.fail(where, "must be an object")
    check.no_unknown(raw, {"function", "address", "fields", "note"}, where)
    check.choice(
        raw.get("function", 16), "function", where, (modbus.WRITE_MULTIPLE_REGISTERS,), "function"
    )
    address = check.integer(check.required(raw, "address", where), "address", where, 0, 0xFFFF)
    raw_fields = check.required(raw, "fields", where)
    if not isinstance(raw_fields, list):
        check.fail(where, "field 'fields': must be a list")
    fields = []
    for raw_field in raw_fields:
        field_where = (
            f"credit field {raw_field.get('name') if isinstance(raw_field, dict) else raw_field!r}"
        )
        if not isinstance(raw_field, dict):
            check.fail(field_where, "must be an object")
        check.no_unknown(
            raw_field, {"name", "type", "scale", "byte_order", "word_order"}, field_where
        )
        name = check.choice(
            check.required(raw_field, "name", field_where),
            "name",
            field_where,
            CREDIT_FIELDS,
            "credit field",
        )
        fields.append((name, _parse_format(check, raw_field, field_where, defaults)))
    names = sorted(name for name, _ in fields)
    if names != sorted(CREDIT_FIELDS):
        check.fail(where, f"field 'fields': needs purchase_count and amount once each, got {names}")
    for name, fmt in fields:
        if name == "purchase_count" and (fmt.type == "float32" or fmt.scale != 1):
            check.fail(f"credit field {name!r}", "field 'type': an integer type with scale 1")
    credit = CreditPush(address, tuple(fields))
    if address + credit.count > 0x10000:
        check.fail(where, "field 'address': the credit block passes 0xFFFF")
    return credit


def _parse_clock(check, raw):
    if raw is None:
        return None
    where = "clock"
    if not isinstance(raw, dict):
        check.fail(where, "must be an object")
    check.no_unknown(raw, {"function", "address", "note"}, where)
    check.choice(
        raw.get("function", 16), "function", where, (modbus.WRITE_MULTIPLE_REGISTERS,), "function"
    )
    return ClockWrite(
        check.integer(check.required(raw, "address", where), "address", where, 0, 0xFFFF - 5)
    )


def _check_write_areas(check, relay_control, credit, clock):
    """Credit and clock blocks may not overlap each other or a relay register."""
    areas = []
    for action, write in relay_control.items():
        if write.function != modbus.WRITE_SINGLE_COIL:
            count = len(write.value) if isinstance(write.value, tuple) else 1
            areas.append((f"relay_control {action!r}", write.address, write.address + count))
    if credit:
        areas.append(("credit", credit.address, credit.address + credit.count))
    if clock:
        areas.append(("clock", clock.address, clock.address + clock.count))
    for index, (name, start, end) in enumerate(areas):
        for other, other_start, other_end in areas[:index]:
            both_relay = name.startswith("relay") and other.startswith("relay")
            if not both_relay and start < other_end and other_start < end:
                check.fail(
                    f"{other} and {name}", f"write areas overlap at 0x{max(start, other_start):04X}"
                )
