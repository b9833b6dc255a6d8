"""``prepaid-meter``: the field technician's tool for one meter or one bus.

Reads a meter, switches its relay, sets its clock, scans a bus for addresses
and pushes credit, over a serial port, a transparent TCP gateway or Modbus
TCP. Every subcommand prints readable text, or JSON with ``--json``, and ends
with an exit code a script can act on (see ``EXIT_CODES``).
"""

import argparse
import datetime
import json
import sys
from decimal import Decimal

from . import poller
from .errors import (
    MeterRefused,
    PrepaidEnergyError,
    ProtocolError,
    TransportTimeout,
    ValidationError,
)
from .money import to_decimal
from .vocabulary import (
    BAND_LABELS,
    RELAY_CLOSE,
    RELAY_CLOSE_ALLOWED,
    RELAY_KEEP_POWER_OFF,
    RELAY_KEEP_POWER_ON,
    RELAY_TRIP,
    TOTAL,
    TOU_BANDS,
)

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_TIMEOUT = 3
EXIT_PROTOCOL = 4
EXIT_TRANSPORT = 5
EXIT_CODES = {
    EXIT_OK: "ok",
    EXIT_REFUSED: "the meter refused the command",
    EXIT_USAGE: "usage error (bad option, address, amount or profile)",
    EXIT_TIMEOUT: "timeout: no answer from the meter",
    EXIT_PROTOCOL: "protocol or checksum error in the reply",
    EXIT_TRANSPORT: "transport error (port, gateway or connection)",
}

MODBUS = "modbus"
DLT645 = "dlt645"
BUILTIN_PROFILES = ("generic", "acrel_ddsy1352", "eastron_sdm630")
RELAY_CHOICES = {
    "trip": RELAY_TRIP,
    "close": RELAY_CLOSE,
    "close-allowed": RELAY_CLOSE_ALLOWED,
    "keep-on": RELAY_KEEP_POWER_ON,
    "keep-off": RELAY_KEEP_POWER_OFF,
}
#: serial defaults per protocol: DL/T 645 meters are usually 2400 baud 8E1
SERIAL_DEFAULTS = {MODBUS: (9600, "N"), DLT645: (2400, "E")}
MODBUS_UNIT_IDS = range(1, 248)


class UsageError(ValidationError):
    """The command line itself is wrong (exit code 2)."""


# -- argument parsing -------------------------------------------------------------
def _host_port(text):
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)


def _positive_seconds(text):
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < seconds <= 60:
        raise argparse.ArgumentTypeError(f"timeout must be in (0, 60] seconds, got {text}")
    return seconds


def _positive_int(text):
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return int(text)


def _amount(text):
    try:
        amount = to_decimal(text, "credit amount")
    except ValidationError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if amount <= 0 or amount.as_tuple().exponent < -2:
        raise argparse.ArgumentTypeError(
            f"credit amount must be positive with at most 2 decimals, got {text}"
        )
    return amount


def _when(text):
    """An ISO time as the meter keeps it: naive local time (an offset is converted)."""
    try:
        when = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO time such as 2025-03-01T12:00:00, got {text!r}"
        ) from None
    if when.tzinfo is not None:
        # meters keep local wall time: 12:00+00:00 is set as this machine's local time
        when = when.astimezone().replace(tzinfo=None)
    return when


def _common_options():
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("meter and link")
    group.add_argument("--protocol", choices=(MODBUS, DLT645), default=MODBUS)
    # one link only: checked in _check_options (a mutually exclusive group
    # nested in an argument group loses its heading in --help)
    group.add_argument("--serial", metavar="PORT", help="serial device, e.g. /dev/ttyUSB0")
    group.add_argument("--tcp", metavar="HOST:PORT", type=_host_port, help="transparent gateway")
    group.add_argument("--modbus-tcp", metavar="HOST:PORT", type=_host_port, help="Modbus TCP")
    group.add_argument("--baud", type=_positive_int, help="default 9600 (modbus), 2400 (dlt645)")
    group.add_argument("--parity", choices=("N", "E", "O"), help="default N (modbus), E (dlt645)")
    group.add_argument("--address", help="Modbus unit id 1-247 or DL/T 645 12-digit address")
    group.add_argument(
        "--profile",
        default="generic",
        help=f"Modbus register map: {', '.join(BUILTIN_PROFILES)} or a path to a .json map",
    )
    group.add_argument(
        "--timeout", type=_positive_seconds, help="reply timeout in seconds (default 0.5)"
    )
    group.add_argument(
        "--password", help="DL/T 645 password PAP2P1P0 for relay and credit (default 02000000)"
    )
    group.add_argument("--operator", help="DL/T 645 operator code, 8 hex digits (default 00000000)")
    group.add_argument("--json", action="store_true", help="machine-readable output")
    return common


def _epilog():
    lines = ["exit codes:"] + [f"  {code}  {meaning}" for code, meaning in EXIT_CODES.items()]
    return "\n".join(lines)


def build_parser():
    """The argument parser of ``prepaid-meter`` (exposed for tests and docs)."""
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="prepaid-meter",
        description="Read, switch, sync, scan and credit prepaid meters.",
        epilog=_epilog(),
        formatter_class=formatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    common = [_common_options()]

    def add(name, help_text):
        return commands.add_parser(
            name, parents=common, help=help_text, epilog=_epilog(), formatter_class=formatter
        )

    add("read", "print every value the meter offers")

    relay = add("relay", "switch the relay")
    relay.add_argument("action", choices=tuple(RELAY_CHOICES))
    relay.add_argument(
        "--valid-minutes",
        type=_positive_int,
        default=10,
        help="DL/T 645: the meter refuses the command after this many minutes (default 10)",
    )

    clock = add("time", "set the meter clock (DL/T 645: broadcast time sync)")
    clock.add_argument("--at", type=_when, help="ISO time to set (default: now)")

    scan = add("scan", "find the addresses that answer on a bus")
    scan.add_argument("--from", dest="first", type=_positive_int, default=1, help="Modbus")
    scan.add_argument("--to", dest="last", type=_positive_int, default=247, help="Modbus")
    scan.add_argument(
        "--addresses", help="DL/T 645: comma-separated addresses, or a range START-END"
    )

    credit = add("credit", "push credit, purchase count read back first")
    credit.add_argument("amount", type=_amount, help="money to add, e.g. 50.00")
    credit.add_argument(
        "--count",
        type=_positive_int,
        help="purchase number of this credit (default: the meter's count + 1)",
    )
    return parser


# -- option checks ----------------------------------------------------------------
def check_address(protocol, address):
    """Return ``address`` normalised for ``protocol``; UsageError if it cannot be one."""
    text = str(address).strip()
    if protocol == MODBUS:
        if not (text.isascii() and text.isdigit()) or int(text) not in MODBUS_UNIT_IDS:
            raise UsageError(f"Modbus address must be a unit id 1-247, got {address!r}")
        return str(int(text))
    if len(text) > 12 or not (text.isascii() and text.isdigit()):
        raise UsageError(f"DL/T 645 address must be up to 12 decimal digits, got {address!r}")
    return text.zfill(12)


def _check_options(args):
    links = [link for link in (args.serial, args.tcp, args.modbus_tcp) if link]
    if len(links) != 1:
        raise UsageError(
            "give exactly one link: --serial PORT, --tcp HOST:PORT or --modbus-tcp HOST:PORT"
        )
    if args.modbus_tcp and args.protocol != MODBUS:
        raise UsageError("--modbus-tcp speaks Modbus only; use --tcp for a DL/T 645 gateway")
    if (args.baud or args.parity) and not args.serial:
        raise UsageError("--baud and --parity apply to --serial only (the gateway sets them)")
    if args.protocol != DLT645 and (args.password or args.operator):
        raise UsageError("--password and --operator are DL/T 645 options")
    if args.protocol == DLT645 and args.profile != "generic":
        raise UsageError("--profile selects a Modbus register map; DL/T 645 has none")
    if args.profile not in BUILTIN_PROFILES and not args.profile.endswith(".json"):
        raise UsageError(
            f"unknown profile {args.profile!r}: use {', '.join(BUILTIN_PROFILES)} "
            "or a path to a .json map"
        )
    needs_address = args.command in ("read", "relay", "credit") or (
        args.command == "time" and args.protocol == MODBUS
    )
    if needs_address and not args.address:
        raise UsageError(f"{args.command} needs --address")
    if args.address:
        args.address = check_address(args.protocol, args.address)
    if args.command == "scan":
        _check_scan_options(args)


def _check_scan_options(args):
    if args.protocol == MODBUS:
        if args.addresses:
            raise UsageError("--addresses is for DL/T 645; Modbus scans --from/--to unit ids")
        if not 1 <= args.first <= args.last <= 247:
            raise UsageError(
                f"unit ids must satisfy 1 <= from <= to <= 247, got {args.first}-{args.last}"
            )
    elif args.addresses:
        args.addresses = dlt645_addresses(args.addresses)


def dlt645_addresses(text, limit=1000):
    """Parse ``A,B,C`` or ``START-END`` into 12-digit addresses (at most ``limit``)."""
    if "-" in text:
        start, _, end = text.partition("-")
        first, last = (int(check_address(DLT645, part)) for part in (start, end))
        if not 0 <= last - first < limit:
            raise UsageError(f"address range must hold 1 to {limit} addresses, got {text}")
        return [str(number).zfill(12) for number in range(first, last + 1)]
    addresses = [check_address(DLT645, part) for part in text.split(",") if part.strip()]
    if not addresses:
        raise UsageError("--addresses is empty")
    return addresses


# -- output -----------------------------------------------------------------------
def _text(value):
    if value is None:
        return "-"
    if isinstance(value, datetime.datetime):
        return _local(value).isoformat(sep=" ", timespec="seconds")
    return str(value)


def _local(when):
    """``when`` as an aware local time (a naive time is taken as local already)."""
    return when.astimezone()


#: readable labels of the values drivers return; others are derived from the name
LABELS = {
    TOTAL: "Total energy",
    **{band: f"  {label}" for band, label in BAND_LABELS},  # under the total
    "relay_state": "Relay",
    "purchase_count": "Purchase count",
}
READING_UNITS = {TOTAL: "kWh", "voltage": "V", "current": "A", "power": "kW"}


def label(name):
    """The label a person reads for a value name (``power_factor`` -> ``Power factor``)."""
    return LABELS.get(name) or name.replace("_", " ").capitalize()


def reading_values(reading):
    """``(name, value, unit)`` of every value a MeterReading holds (None: not offered)."""
    values = [(TOTAL, reading.total, "kWh")]
    values += [(band, reading.bands[band], "kWh") for band in TOU_BANDS if band in reading.bands]
    values += [
        ("voltage", reading.voltage, "V"),
        ("current", reading.current, "A"),
        ("power", reading.power, "kW"),
        ("relay_state", reading.relay_closed, ""),
        ("balance", reading.balance, ""),
        ("purchase_count", reading.purchase_count, ""),
    ]
    return [value for value in values if value[1] is not None]


def point_values(profile, values):
    """``(name, value, unit)`` of every point of a register map, in map order."""
    return [
        (point.name, values[point.name], "" if point.unit == "money" else point.unit)
        for point in profile.points
        if point.name in values
    ]


def value_rows(address, timestamp, values):
    """Table rows: address, time, then each value with its unit."""
    rows = [("Address", str(address), ""), ("Time", _text(timestamp), "")]
    for name, value, unit in values:
        shown = _relay_text(value) if name == "relay_state" else value
        rows.append((label(name), shown, unit))
    return rows


def _relay_text(closed):
    return {True: "closed", False: "open", None: "-"}[closed]


def format_table(rows):
    """Align ``(label, value, unit)`` rows for a person to read.

    Labels on the left; numbers (Decimal, int) lined up on their decimal
    point; text values start where the numbers do; units after the numbers.
    """
    if not rows:
        return ""
    cells = [_number_parts(value) for _, value, _ in rows]
    numbers = [parts for parts in cells if parts is not None]
    whole_width = max((len(whole) for whole, _ in numbers), default=0)
    fraction_width = max((len(fraction) for _, fraction in numbers), default=0)
    label_width = max(len(label) for label, _, _ in rows)
    lines = []
    for (label, value, unit), parts in zip(rows, cells):
        if parts is None:
            cell = _text(value)
        else:
            cell = parts[0].rjust(whole_width) + parts[1].ljust(fraction_width)
        lines.append(
            f"{label:<{label_width}}  {cell:<{whole_width + fraction_width}} {unit}".rstrip()
        )
    return "\n".join(lines)


def _number_parts(value):
    """``("12", ".50")`` for the number 12.50; None for anything that is not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return None
    text = str(value) if isinstance(value, int) else f"{value:f}"  # no exponent
    whole, dot, fraction = text.partition(".")
    return whole, dot + fraction


def format_reading(reading):
    """A MeterReading as an aligned table with units."""
    return format_table(value_rows(reading.address, reading.timestamp, reading_values(reading)))


def values_document(address, timestamp, values):
    """JSON-ready read result: values as exact text, and their units."""
    return to_jsonable(
        {
            "address": str(address),
            "timestamp": _local(timestamp),
            "values": {name: value for name, value, _ in values},
            "units": {name: unit for name, _, unit in values},
        }
    )


def to_jsonable(value):
    """Decimal -> exact text, datetime -> ISO text, recursively."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item) for item in value]
    return value


# -- errors -> exit codes ----------------------------------------------------------
_EXIT_CODE_OF_ERROR_KIND = {
    poller.ERROR_TIMEOUT: EXIT_TIMEOUT,
    poller.ERROR_CHECKSUM: EXIT_PROTOCOL,
    poller.ERROR_PROTOCOL: EXIT_PROTOCOL,
    poller.ERROR_REFUSED: EXIT_REFUSED,
    poller.ERROR_TRANSPORT: EXIT_TRANSPORT,
}


def exit_code_for(error):
    """The documented exit code of an error (see EXIT_CODES)."""
    if isinstance(error, ValidationError):
        return EXIT_USAGE
    # the poller's classification, so a fault reads the same in a cycle and here
    return _EXIT_CODE_OF_ERROR_KIND.get(poller.classify(error), EXIT_PROTOCOL)


class Output:
    """Prints results as text or as one JSON document."""

    def __init__(self, as_json, stdout, stderr):
        self.as_json = as_json
        self.stdout = stdout
        self.stderr = stderr

    def result(self, data, text):
        if self.as_json:
            print(json.dumps(to_jsonable({"ok": True, **data}), indent=2), file=self.stdout)
        else:
            print(text, file=self.stdout)

    def error(self, error, code):
        if self.as_json:
            document = {"ok": False, "exit_code": code, "error": str(error)}
            document["error_type"] = type(error).__name__
            print(json.dumps(document, indent=2), file=self.stdout)
        print(f"prepaid-meter: {EXIT_CODES[code]}: {error}", file=self.stderr)


# -- link and driver ----------------------------------------------------------------
def open_transport(args):
    """The transport named by the link options (not yet connected)."""
    timeout = args.timeout or 0.5
    if args.serial:
        from .transports.serial import SerialTransport

        baud, parity = SERIAL_DEFAULTS[args.protocol]
        return SerialTransport(
            args.serial, baudrate=args.baud or baud, parity=args.parity or parity, timeout=timeout
        )
    if args.tcp:
        from .transports.tcp import TcpTransport

        host, port = args.tcp
        return TcpTransport(host, port, timeout=timeout)
    from .transports.modbus_tcp import ModbusTcpTransport

    host, port = args.modbus_tcp
    return ModbusTcpTransport(host, port, timeout=timeout)


def load_profile(name):
    """A built-in register map by name, or one from a JSON file path."""
    from . import register_maps

    if name in BUILTIN_PROFILES:
        return register_maps.load_builtin(name)
    return register_maps.load_register_map(name)


def open_driver(args, transport):
    """The protocol driver over ``transport``."""
    if args.protocol == DLT645:
        from .drivers.dlt645 import Dlt645Driver

        credentials = {"password": args.password, "operator": args.operator}
        return Dlt645Driver(
            transport,
            timeout=args.timeout,
            **{name: value for name, value in credentials.items() if value},
        )
    from .drivers.modbus import ModbusDriver

    return ModbusDriver(transport, load_profile(args.profile), timeout=args.timeout)


# -- subcommands ------------------------------------------------------------------------
def cmd_read(args, driver, out):
    if args.protocol == MODBUS:
        # every point of the register map, beyond what a MeterReading holds
        timestamp = datetime.datetime.now(datetime.timezone.utc)
        values = point_values(driver.profile, driver.read_points(args.address))
    else:
        reading = driver.read(args.address)
        timestamp, values = reading.timestamp, reading_values(reading)
    out.result(
        values_document(args.address, timestamp, values),
        format_table(value_rows(args.address, timestamp, values)),
    )
    return EXIT_OK


def _relay_options(args):
    if args.protocol != DLT645:
        return {}
    # the meter refuses the command after this (its own clock): a late duplicate cannot act
    return {"deadline": _now() + datetime.timedelta(minutes=args.valid_minutes)}


def cmd_relay(args, driver, out):
    action = RELAY_CHOICES[args.action]
    driver.set_relay(args.address, action, **_relay_options(args))
    closed = _relay_closed(args, driver)
    rows = [
        ("Address", args.address, ""),
        ("Command", args.action, ""),
        ("Acknowledged", "yes", ""),
        ("Relay now", _relay_text(closed), ""),
    ]
    data = {"address": args.address, "action": action, "relay_closed": closed}
    out.result(data, format_table(rows))
    return EXIT_OK


def _relay_closed(args, driver):
    """Read the relay state back in one request (None if the model does not show it)."""
    if args.protocol == DLT645:
        return not driver.read_status(args.address).relay_open
    if driver.profile.has("relay_state"):
        return driver.read_point(args.address, "relay_state")
    return None


def _now():
    return datetime.datetime.now().replace(microsecond=0)


def cmd_time(args, driver, out):
    when = args.at or _now()
    # DL/T 645 (08H): broadcast without --address, and no meter acknowledges
    # it, so one addressed meter's clock is read back
    driver.sync_time(args.address, when)
    meter_clock = None
    if args.protocol == DLT645 and args.address:
        meter_clock = driver.read_clock(args.address)
    rows = [
        ("Address", args.address or "broadcast", ""),
        ("Clock set to", _text(when), ""),
    ]
    if meter_clock is not None:
        rows.append(("Meter clock now", _text(meter_clock), ""))
    data = {
        "address": args.address,
        "broadcast": not args.address,
        "time": when,
        "meter_clock": meter_clock,
    }
    out.result(data, format_table(rows))
    return EXIT_OK


def cmd_credit(args, driver, out):
    before = driver.read_purchase_count(args.address)
    count = args.count or before + 1
    if count <= before:
        raise MeterRefused(
            f"purchase {count} is already applied (meter count is {before}): nothing pushed",
            code="purchase_count",
        )
    if count > before + 1:
        raise MeterRefused(
            f"meter count is {before}: purchase {count} would skip {count - before - 1}; "
            "nothing pushed",
            code="purchase_count",
        )
    acknowledged = _push_credit(driver, args.address, args.amount, count)
    after = driver.read_purchase_count(args.address)
    if after != count and not acknowledged:
        raise TransportTimeout(
            f"no acknowledgement and the meter count is still {after}: purchase {count} "
            "was not applied; it is safe to retry"
        )
    if after != count:
        raise ProtocolError(f"the meter acknowledged purchase {count} but its count reads {after}")
    rows = [
        ("Address", args.address, ""),
        ("Amount", args.amount, ""),
        ("Count before", before, ""),
        ("Count after", after, ""),
        ("Acknowledged", "yes" if acknowledged else "lost, count read back", ""),
    ]
    data = {
        "address": args.address,
        "amount": args.amount,
        "purchase_count_before": before,
        "purchase_count_after": after,
        "acknowledged": acknowledged,
    }
    out.result(data, format_table(rows))
    return EXIT_OK


def _push_credit(driver, address, amount, count):
    """Push; False if the acknowledgement was lost or garbled.

    Then the meter may or may not have applied the credit: the caller's
    read-back of the purchase count decides.
    """
    try:
        driver.push_credit(address, amount, count)
    except (TransportTimeout, ProtocolError):
        return False
    return True


def cmd_scan(args, driver, out):
    if args.protocol == MODBUS:
        candidates = [str(unit) for unit in range(args.first, args.last + 1)]
        found = [address for address in candidates if _answers(args, driver, address)]
    elif args.addresses:
        found = [address for address in args.addresses if _answers(args, driver, address)]
    else:
        found = _read_address(driver)
    text = "\n".join([f"Meters found: {len(found)}", *(f"  {address}" for address in found)])
    text = text if found else _nobody_text(args)
    out.result({"found": found}, text)
    return EXIT_OK if found else EXIT_TIMEOUT


def _read_address(driver):
    """[address] of the single meter on the bus (13H), [] if no single meter answers."""
    try:
        return [driver.read_address()]
    except TransportTimeout:
        # several meters answering at once garble each other: no usable reply
        return []


def _answers(args, driver, address):
    """True if a meter answers at ``address`` (a refusal is an answer too)."""
    try:
        _probe(args, driver, address)
    except MeterRefused:
        return True
    except (TransportTimeout, ProtocolError):
        return False
    return True


def _probe(args, driver, address):
    """One short request every meter of the protocol answers."""
    if args.protocol == DLT645:
        from .protocols import dlt645

        driver.read_item(address, dlt645.DI_FORWARD_ACTIVE_TOTAL)
    else:
        driver.read_point(address, driver.profile.points[0].name)


def _nobody_text(args):
    if args.protocol == DLT645 and not args.addresses:
        return (
            "no meter answered the read-address request (13H); it needs a single meter "
            "on the bus: with several, try --addresses"
        )
    return "no meter answered"


COMMANDS = {
    "read": cmd_read,
    "relay": cmd_relay,
    "time": cmd_time,
    "scan": cmd_scan,
    "credit": cmd_credit,
}


def main(argv=None, stdout=None, stderr=None):
    """Run ``prepaid-meter`` with ``argv``; return the exit code."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:  # --help (0) or an argparse usage error (2)
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    out = Output(args.json, stdout, stderr)
    try:
        _check_options(args)
        transport = open_transport(args)
        try:
            return COMMANDS[args.command](args, open_driver(args, transport), out)
        finally:
            transport.close()
    except PrepaidEnergyError as error:
        code = exit_code_for(error)
        out.error(error, code)
        return code


if __name__ == "__main__":
    sys.exit(main())
