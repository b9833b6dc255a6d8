"""Initial meter state for the simulator, from a JSON file (``--state FILE``).

The file is a JSON list with one object per meter::

    [{"gateway": 0, "address": "1", "total": "123.45",
      "bands": {"sharp": "10", "peak": "40", "flat": "50", "valley": "23.45"},
      "load_kw": "1.2", "relay_closed": true}]

``gateway`` (index: gateway i listens on ``--port-base`` + i) and ``address``
(Modbus unit id 1..247, or a 12-digit DL/T 645 address) are required. The
others are optional: ``total`` and ``bands`` (register values, default 0; a
band left out is 0), ``load_kw`` (default: ``--load-kw``), ``relay_closed``
(default true), ``balance`` and ``purchase_count`` (meters that keep credit),
``utility`` ("electricity" or "water": a water meter without ``load_kw``
draws 0.02 m³/h), ``serial`` (for the reader only), and per gateway
``protocol`` (default ``--protocol``) and ``register_map`` (Modbus, default
"generic"); meters of one gateway must agree on those two.

The simulator then serves exactly the meters of the file: gateways 0 to the
highest index named (an index no meter names is a gateway with no meter).
Numbers may be JSON numbers or strings; strings keep every digit.
"""

import dataclasses
import json
from decimal import Decimal, InvalidOperation

from ..errors import ValidationError
from ..register_maps import builtin_names
from ..vocabulary import TOU_BANDS
from .meter import SimMeter
from .server import PROTOCOLS, Gateway, make_responder

_KEYS = frozenset(
    {
        "gateway",
        "address",
        "total",
        "bands",
        "load_kw",
        "relay_closed",
        "balance",
        "purchase_count",
        "protocol",
        "register_map",
        "serial",
        "utility",
    }
)
MAX_MODBUS_UNIT = 247
UTILITIES = ("electricity", "water")
#: what a water meter draws when the file gives no load: m³ per hour, a tap now and then
WATER_LOAD = Decimal("0.02")


@dataclasses.dataclass
class GatewayState:
    """What one gateway of the file serves: its protocol, map and meters by address."""

    index: int
    protocol: str
    register_map: str | None = None
    meters: dict = dataclasses.field(default_factory=dict)


def load_state(path, default_protocol="modbus-rtu", default_load_kw=Decimal("1.5")):
    """The gateways a state file describes, as a list of GatewayState by index.

    Raises ValidationError naming the file and the meter for anything wrong,
    OSError when the file cannot be read.
    """
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"{path}: not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    return parse_state(data, str(path), default_protocol, default_load_kw)


def parse_state(data, source="state", default_protocol="modbus-rtu", default_load_kw=None):
    """GatewayState list from already decoded JSON (see load_state)."""
    if not isinstance(data, list):
        raise ValidationError(f"{source}: expected a JSON list of meters, got {_kind(data)}")
    if not data:
        raise ValidationError(f"{source}: the list of meters is empty")
    gateways = {}
    for number, entry in enumerate(data, start=1):
        where = f"{source}: meter {number}"
        if not isinstance(entry, dict):
            raise ValidationError(f"{where}: expected an object, got {_kind(entry)}")
        unknown = set(entry) - _KEYS
        if unknown:
            raise ValidationError(
                f"{where}: unknown keys {', '.join(sorted(unknown))}; "
                f"expected {', '.join(sorted(_KEYS))}"
            )
        index = entry.get("gateway")
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise ValidationError(f"{where}: 'gateway' must be an index 0, 1, ..., got {index!r}")
        protocol = entry.get("protocol", default_protocol)
        if protocol not in PROTOCOLS:
            raise ValidationError(
                f"{where}: unknown protocol {protocol!r}; expected one of {', '.join(PROTOCOLS)}"
            )
        register_map = entry.get("register_map")
        if register_map is not None and register_map not in builtin_names():
            raise ValidationError(
                f"{where}: unknown register map {register_map!r}; "
                f"expected one of {', '.join(builtin_names())}"
            )
        gateway = gateways.setdefault(index, GatewayState(index, protocol, register_map))
        if gateway.protocol != protocol or gateway.register_map != register_map:
            raise ValidationError(
                f"{where}: gateway {index} already serves {gateway.protocol} "
                f"(map {gateway.register_map or 'default'}), not {protocol} "
                f"(map {register_map or 'default'})"
            )
        address = _address(entry.get("address"), protocol, where)
        if address in gateway.meters:
            raise ValidationError(f"{where}: address {address} is twice on gateway {index}")
        gateway.meters[address] = _meter(entry, address, where, default_load_kw)
    for gateway in gateways.values():
        if gateway.register_map and gateway.protocol == "dlt645":
            raise ValidationError(
                f"{source}: gateway {gateway.index} speaks dlt645: a register map does not apply"
            )
    return [
        gateways.get(index) or GatewayState(index, default_protocol)
        for index in range(max(gateways) + 1)
    ]


def make_gateway(state, **gateway_options):
    """The Gateway serving a GatewayState (``gateway_options`` go to Gateway, e.g. baudrate)."""
    return Gateway(
        make_responder(state.protocol, state.meters, state.register_map),
        state.meters,
        protocol=state.protocol,
        name=f"{state.protocol}-{state.index}",
        **gateway_options,
    )


def _address(value, protocol, where):
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{where}: 'address' is required (text or number)")
    value = value.strip()
    if protocol == "dlt645":
        if len(value) != 12 or not value.isdigit():
            raise ValidationError(f"{where}: a DL/T 645 address has 12 digits, got {value!r}")
        return value
    if not value.isdigit() or not 1 <= int(value) <= MAX_MODBUS_UNIT:
        raise ValidationError(f"{where}: a Modbus unit id is 1..{MAX_MODBUS_UNIT}, got {value!r}")
    return str(int(value))


def _meter(entry, address, where, default_load_kw):
    bands = entry.get("bands") or {}
    if not isinstance(bands, dict):
        raise ValidationError(f"{where}: 'bands' must be an object, got {_kind(bands)}")
    unknown = set(bands) - set(TOU_BANDS)
    if unknown:
        raise ValidationError(
            f"{where}: unknown bands {', '.join(sorted(unknown))}; expected {', '.join(TOU_BANDS)}"
        )
    relay_closed = entry.get("relay_closed", True)
    if not isinstance(relay_closed, bool):
        raise ValidationError(f"{where}: 'relay_closed' must be true or false")
    purchase_count = entry.get("purchase_count", 0)
    if isinstance(purchase_count, bool) or not isinstance(purchase_count, int):
        raise ValidationError(f"{where}: 'purchase_count' must be a whole number")
    utility = entry.get("utility", "electricity")
    if utility not in UTILITIES:
        raise ValidationError(f"{where}: 'utility' is electricity or water, got {utility!r}")
    load = entry.get("load_kw")
    if load is None and utility == "water":
        load = WATER_LOAD
    meter = SimMeter(
        address,
        load_kw=default_load_kw if load is None else _amount(load, where, "load_kw"),
        total=_amount(entry.get("total", 0), where, "total"),
        balance=_amount(entry.get("balance", 0), where, "balance", signed=True),
        purchase_count=purchase_count,
    )
    for band, value in bands.items():
        meter.bands[band] = _amount(value, where, f"band {band}")
    meter.relay_closed = relay_closed
    return meter


def _amount(value, where, name, signed=False):
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValidationError(f"{where}: {name} must be a number, got {value!r}")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValidationError(f"{where}: {name} must be a number, got {value!r}") from None
    if not number.is_finite() or (number < 0 and not signed):
        raise ValidationError(f"{where}: {name} must be a number of 0 or more, got {value!r}")
    return number


def _kind(value):
    return {dict: "an object", list: "a list", str: "text"}.get(type(value), repr(value))
