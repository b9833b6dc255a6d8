"""Modbus side of the meter simulator: answers requests from SimMeter state.

The register layout comes from a register map (default "generic"), so the
simulator serves exactly what ModbusDriver reads. Behaviour of a real bus:

- a request to an unknown unit id, a dead meter, or a frame with a bad CRC
  gets no reply at all (None);
- unsupported function -> exception 01 ILLEGAL FUNCTION;
- an address outside the map -> exception 02 ILLEGAL DATA ADDRESS; inside
  the span of a table's points, registers no point uses read as 0;
- a malformed quantity, a relay command value the map does not define, or
  a credit push the meter refuses (purchase count other than count + 1,
  amount not positive, maximum balance) -> exception 03 ILLEGAL DATA VALUE;
- a relay action the meter refuses (trip while keep-power is on) or a value
  a register cannot hold -> exception 04 SERVER DEVICE FAILURE.

Broadcast (unit 0) is not simulated: it gets no reply and changes nothing.
"""

import datetime
from decimal import Decimal

from ..errors import MeterRefused, ProtocolError, ValidationError
from ..protocols import modbus
from ..register_maps import CLOCK_FIELDS, resolve_profile
from ..vocabulary import TOTAL, TOU_BANDS

FIFTY_HZ = Decimal("50.00")
UNITY_POWER_FACTOR = Decimal("1.000")

#: what a point shows, from the meter's state (called under the meter's lock)
_METER_VALUES = {
    TOTAL: lambda meter: meter.total,
    "import_energy": lambda meter: meter.total,
    "export_energy": lambda meter: Decimal(0),
    **{band: (lambda meter, band=band: meter.bands[band]) for band in TOU_BANDS},
    "voltage": lambda meter: meter.voltage,
    "current": lambda meter: meter.current_a(),
    "power": lambda meter: meter.power_kw(),
    "balance": lambda meter: meter.balance,
    "purchase_count": lambda meter: meter.purchase_count,
    "relay_state": lambda meter: meter.relay_closed,
    "frequency": lambda meter: FIFTY_HZ,
    "power_factor": lambda meter: UNITY_POWER_FACTOR,
}


class _Refusal(Exception):
    """Answer the request with exception ``code``."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


class ModbusResponder:
    """Protocol core shared by the RTU and MBAP responders: PDU in, PDU out."""

    def __init__(self, meters, profile="generic"):
        self.meters = {int(unit): meter for unit, meter in meters.items()}
        self.profile = resolve_profile(profile)
        self._tables = self._point_tables()

    def _point_tables(self):
        """Per read function: its points and the address span they cover."""
        tables = {}
        for point in self.profile.points:
            tables.setdefault(point.function, []).append(point)
        return {
            function: (points, min(p.address for p in points), max(p.end for p in points))
            for function, points in tables.items()
        }

    def answer(self, unit, pdu):
        """Reply PDU to ``pdu`` sent to ``unit``, or None when nobody answers."""
        meter = self.meters.get(unit)
        if meter is None or meter.dead or not pdu:
            return None
        try:
            request = modbus.parse_request(pdu)
            return self._dispatch(meter, request)
        except modbus.RequestRejected as exc:
            return modbus.build_exception_reply(pdu[0], exc.exception_code)
        except _Refusal as refusal:
            return modbus.build_exception_reply(pdu[0], refusal.code)

    def _dispatch(self, meter, request):
        if request.function in modbus.READ_FUNCTIONS:
            return self._read(meter, request)
        if request.function == modbus.WRITE_MULTIPLE_REGISTERS:
            self._write_multiple(meter, request)
        else:
            self._relay_write(meter, request)
        return modbus.build_write_reply(request)

    # -- reads -------------------------------------------------------------------------
    def _read(self, meter, request):
        function, address, count = request.function, request.address, request.arg
        items = self._clock_read(meter, function, address, count)
        if items is None:
            items = self._table_read(meter, function, address, count)
        if function in modbus.BIT_READS:
            return modbus.build_read_bits_reply(function, items)
        return modbus.build_read_registers_reply(function, items)

    def _table_read(self, meter, function, address, count):
        points, start, end = self._tables.get(function, ((), 0, 0))
        if not points or address < start or address + count > end:
            raise _Refusal(modbus.ILLEGAL_DATA_ADDRESS)
        items = [0] * count
        with meter.lock:
            meter.advance()
            for point in points:
                if point.address < address + count and address < point.end:
                    self._place(items, address, point, self._encode(meter, point))
        return items

    @staticmethod
    def _place(items, address, point, encoded):
        for offset, item in enumerate(encoded):
            index = point.address + offset - address
            if 0 <= index < len(items):
                items[index] = item

    @staticmethod
    def _encode(meter, point):
        try:
            return point.encode(_METER_VALUES[point.name](meter))
        except (ValidationError, ArithmeticError):  # the value does not fit the register
            raise _Refusal(modbus.SERVER_DEVICE_FAILURE) from None

    def _clock_read(self, meter, function, address, count):
        clock = self.profile.clock
        if clock is None or function != modbus.READ_HOLDING_REGISTERS:
            return None
        if address < clock.address or address + count > clock.address + clock.count:
            return None
        now = meter.meter_time()
        values = [getattr(now, field) for field in CLOCK_FIELDS]
        return values[address - clock.address : address - clock.address + count]

    # -- writes ------------------------------------------------------------------------
    def _relay_write(self, meter, request):
        """Function 05 / 06: a relay action the map binds to this coil or register."""
        targets = self._relay_actions(request.function, request.address)
        if not targets:
            raise _Refusal(modbus.ILLEGAL_DATA_ADDRESS)
        action = targets.get(request.arg)
        if action is None:
            raise _Refusal(modbus.ILLEGAL_DATA_VALUE)
        self._apply_relay(meter, action)

    def _relay_actions(self, function, address):
        return {
            write.value: action
            for action, write in self.profile.relay_control.items()
            if write.function == function and write.address == address
        }

    @staticmethod
    def _apply_relay(meter, action):
        try:
            meter.apply_relay(action)
        except MeterRefused:
            raise _Refusal(modbus.SERVER_DEVICE_FAILURE) from None

    def _write_multiple(self, meter, request):
        credit, clock = self.profile.credit, self.profile.clock
        address, values = request.address, request.arg
        if credit and address == credit.address and len(values) == credit.count:
            self._push_credit(meter, credit, values)
        elif clock and address == clock.address and len(values) == clock.count:
            self._set_clock(meter, values)
        else:
            action = self._relay_actions(modbus.WRITE_MULTIPLE_REGISTERS, address).get(values)
            if action is None:
                raise _Refusal(modbus.ILLEGAL_DATA_ADDRESS)
            self._apply_relay(meter, action)

    @staticmethod
    def _push_credit(meter, credit, values):
        try:
            amount, purchase_count = credit.decode(values)
            meter.apply_credit(amount, purchase_count)
        except (MeterRefused, ProtocolError):
            raise _Refusal(modbus.ILLEGAL_DATA_VALUE) from None

    @staticmethod
    def _set_clock(meter, values):
        try:
            when = datetime.datetime(*values)
        except ValueError:
            raise _Refusal(modbus.ILLEGAL_DATA_VALUE) from None
        meter.set_time(when)


class ModbusRtuResponder(ModbusResponder):
    """RTU frames in, RTU frames out (serial line or transparent TCP gateway)."""

    def frame_length(self, buf):
        """Length of the request frame at the start of ``buf``, or None."""
        return modbus.rtu_request_length(buf)

    def handle(self, request):
        """Reply frame to one request frame, or None (no reply on the bus)."""
        try:
            unit, pdu = modbus.parse_rtu_frame(request)
        except ProtocolError:  # a slave ignores a garbled frame
            return None
        reply = self.answer(unit, pdu)
        return None if reply is None else modbus.rtu_frame(unit, reply)


class ModbusTcpResponder(ModbusResponder):
    """MBAP frames in, MBAP frames out (Modbus TCP server)."""

    def frame_length(self, buf):
        """Length of the MBAP frame at the start of ``buf``, or None."""
        return modbus.mbap_frame_length(buf)

    def handle(self, request):
        """Reply frame to one MBAP request, or None."""
        try:
            transaction_id, unit, pdu = modbus.parse_mbap_frame(request)
        except ProtocolError:
            return None
        reply = self.answer(unit, pdu)
        return None if reply is None else modbus.mbap_frame(transaction_id, unit, reply)
