"""Modbus meter driver: one register map, RTU frames on a byte bus or Modbus TCP.

The driver logic is written once against a small interface,
``execute(unit, function, address, arg, timeout=None)``, which returns the
registers or bits of a read and None for a write, raises MeterRefused on an
exception reply, ProtocolError on a bad reply and TransportError /
TransportTimeout on link failures. Two objects implement it:

- :class:`RtuChannel` wraps any byte Transport (serial port, transparent
  TCP gateway): it builds RTU frames and frames replies with
  ``rtu_frame_length``;
- ModbusTcpTransport (transports/modbus_tcp.py) talks Modbus TCP through
  pymodbus.
"""

import datetime

from ..errors import MeterRefused, TransportTimeout, ValidationError
from ..money import to_decimal
from ..protocols import modbus
from ..register_maps import resolve_profile
from ..vocabulary import RELAY_ACTIONS, TOTAL, TOU_BANDS
from .base import MeterDriver, MeterReading


class RtuChannel:
    """Modbus RTU requests over a byte Transport (one bus)."""

    def __init__(self, transport):
        self.transport = transport

    def execute(self, unit, function, address, arg, timeout=None):
        """Send one request to ``unit``; see the module docstring for the contract."""
        pdu = modbus.build_request(function, address, arg)
        broadcast = unit == 0  # only writes may be broadcast; nobody answers them
        try:
            reply = self.transport.exchange(
                modbus.rtu_frame(unit, pdu),
                modbus.rtu_frame_length,
                timeout,
                not broadcast,
                # RTU has no transaction id: unit, function and length tell a late
                # reply to another request from the answer; the transport sets it aside
                check=lambda frame: modbus.rtu_reply_mismatch(unit, function, address, arg, frame),
            )
        except TransportTimeout as silence:
            name = modbus.FUNCTION_NAMES.get(function, f"function 0x{function:02X}")
            raise TransportTimeout(f"unit {unit}, {name} at 0x{address:04X}: {silence}") from None
        if broadcast:
            return None
        _unit, reply_pdu = modbus.parse_rtu_frame(reply)  # the same unit: checked above
        try:
            return modbus.parse_response(reply_pdu, function, address, arg)
        except MeterRefused as refusal:
            raise modbus.refusal_in_context(refusal, unit, function, address) from None


class ModbusDriver(MeterDriver):
    """A Modbus meter described by a register map (``profile``).

    ``profile`` is a RegisterMap, the name of a shipped map ("generic",
    "eastron_sdm630", "acrel_ddsy1352"), a path to a JSON map or its dict.
    ``transport`` is a byte Transport (RTU frames) or anything with an
    ``execute`` method such as ModbusTcpTransport.
    """

    protocol = "modbus"
    frame_length = staticmethod(modbus.rtu_frame_length)

    def __init__(self, transport, profile="generic", timeout=None):
        super().__init__(transport, timeout)
        self.profile = resolve_profile(profile)
        self.channel = transport if hasattr(transport, "execute") else RtuChannel(transport)

    # -- reading ----------------------------------------------------------------
    def read_points(self, address):
        """Every point of the map: ``{name: Decimal | int | bool}``, fewest requests."""
        unit = self.unit(address)
        values = {}
        for block in self.profile.read_plan:
            items = self.channel.execute(
                unit, block.function, block.address, block.count, self.timeout
            )
            values.update(block.decode(items))
        return values

    def read(self, address):
        """A MeterReading of everything the model offers (UTC timestamp)."""
        timestamp = datetime.datetime.now(datetime.timezone.utc)
        values = self.read_points(address)
        return MeterReading(
            address=str(self.unit(address)),
            timestamp=timestamp,
            total=values.get(TOTAL),
            bands={band: values[band] for band in TOU_BANDS if band in values},
            voltage=values.get("voltage"),
            current=values.get("current"),
            power=values.get("power"),
            relay_closed=values.get("relay_state"),
            balance=values.get("balance"),
            purchase_count=values.get("purchase_count"),
        )

    def read_point(self, address, name):
        """One point, in one request."""
        point = self.profile.point(name)
        if point is None:
            raise ValidationError(f"{name} is not supported by model {self.profile.model}")
        items = self.channel.execute(
            self.unit(address), point.function, point.address, point.count, self.timeout
        )
        return point.decode(items)

    def read_purchase_count(self, address):
        """How many credit purchases the meter has applied."""
        return self.read_point(address, "purchase_count")

    # -- commands ---------------------------------------------------------------------
    def set_relay(self, address, action, **options):
        """Apply one of RELAY_ACTIONS with the write the map prescribes."""
        if action not in RELAY_ACTIONS:
            raise ValidationError(
                f"unknown relay action {action!r} (expected one of {RELAY_ACTIONS})"
            )
        write = self.profile.relay_control.get(action)
        if write is None:
            raise ValidationError(
                f"relay action {action} is not supported by model {self.profile.model}"
            )
        self.channel.execute(
            self.unit(address), write.function, write.address, write.value, self.timeout
        )

    def push_credit(self, address, amount, purchase_count, **options):
        """Write ``amount`` as purchase number ``purchase_count``.

        The meter answers an exception (MeterRefused) to a count it already
        applied; after a lost reply, read the count back before retrying.
        """
        credit = self.profile.credit
        if credit is None:
            raise ValidationError(f"credit push is not supported by model {self.profile.model}")
        amount = to_decimal(amount, "credit amount")
        if amount <= 0:
            raise ValidationError(f"credit amount must be positive, got {amount}")
        if (
            isinstance(purchase_count, bool)
            or not isinstance(purchase_count, int)
            or purchase_count < 1
        ):
            raise ValidationError(f"purchase count must be an integer >= 1, got {purchase_count!r}")
        words = credit.encode(amount, purchase_count)
        self.channel.execute(
            self.unit(address), modbus.WRITE_MULTIPLE_REGISTERS, credit.address, words, self.timeout
        )

    def sync_time(self, address, when):
        """Set the meter clock to ``when`` (the meter's local time)."""
        clock = self.profile.clock
        if clock is None:
            raise ValidationError(f"clock setting is not supported by model {self.profile.model}")
        self.channel.execute(
            self.unit(address), modbus.WRITE_MULTIPLE_REGISTERS, clock.address, clock.encode(when),
            self.timeout,
        )  # fmt: skip

    # -- what the poller asks of a driver ----------------------------------------------
    @classmethod
    def address_key(cls, address):
        """The address as replies spell it (the unit id, as text)."""
        return str(cls.unit(address))

    def reply_source(self, frame):
        """The unit id (text) of an intact RTU reply frame; None over Modbus TCP or else."""
        if self.channel is not self.transport:  # RTU frames on a byte transport
            unit = modbus.rtu_reply_unit(frame)
            return None if unit is None else str(unit)
        return None

    # -- helpers ------------------------------------------------------------------------
    @staticmethod
    def unit(address):
        """Unit id 1..247 from the meter's bus address text."""
        text = str(address).strip()
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= modbus.MAX_UNIT:
            raise ValidationError(f"Modbus address must be a unit id 1..247, got {address!r}")
        return int(text)
