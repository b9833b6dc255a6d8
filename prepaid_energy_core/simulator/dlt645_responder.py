"""The DL/T 645-2007 side of simulated meters: request bytes in, reply bytes out.

A responder stands for every meter on one RS-485 bus. It answers from, and
acts on, the SimMeter state, so a driver talking to it over a real socket sees
what it would see from real meters: readings that follow the load, relays that
stop the energy, password and deadline checks, purchase counts.
"""

import datetime

from ..errors import MeterRefused, ProtocolError, ValidationError
from ..protocols import dlt645 as codec
from ..vocabulary import (
    RELAY_CLOSE,
    RELAY_CLOSE_ALLOWED,
    RELAY_KEEP_POWER_OFF,
    RELAY_KEEP_POWER_ON,
    RELAY_TRIP,
)

#: N1 of a relay control -> SimMeter action
N1_ACTIONS = {
    codec.N1_TRIP: RELAY_TRIP,
    codec.N1_CLOSE_ALLOWED: RELAY_CLOSE_ALLOWED,
    codec.N1_CLOSE: RELAY_CLOSE,
    codec.N1_KEEP_POWER_ON: RELAY_KEEP_POWER_ON,
    codec.N1_KEEP_POWER_OFF: RELAY_KEEP_POWER_OFF,
}

DEFAULT_PASSWORD = "02000000"
METER_TYPE_MONEY_PREPAID = 0b10


def _status_word_3(meter):
    word = 0
    if not meter.relay_closed:
        word |= codec.STATUS3_RELAY_OPEN
        if not meter.close_allowed:
            # the last command in force is "trip"; "close allowed" clears it
            # although the relay stays open until the tenant presses the button
            word |= codec.STATUS3_RELAY_COMMAND_OPEN
    if meter.keep_power:
        word |= codec.STATUS3_KEEP_POWER
    if meter.meter_billing:
        word |= METER_TYPE_MONEY_PREPAID << codec.STATUS3_METER_TYPE_SHIFT
    return word


def _bands(meter):
    return tuple(meter.bands[band] for band in codec.DI_FORWARD_ACTIVE_BANDS)


def _band_reader(band):
    return lambda meter, now: meter.bands[band]


#: data identifier -> value of a meter at host time ``now``
_READERS = {
    codec.DI_FORWARD_ACTIVE_TOTAL: lambda meter, now: meter.total,
    codec.DI_FORWARD_ACTIVE_BLOCK: lambda meter, now: (meter.total, *_bands(meter)),
    **{di: _band_reader(band) for band, di in codec.DI_FORWARD_ACTIVE_BANDS.items()},
    codec.DI_VOLTAGE_A: lambda meter, now: meter.voltage,
    # a single-phase meter: phases B and C read 0
    codec.DI_VOLTAGE_BLOCK: lambda meter, now: (meter.voltage, 0, 0),
    codec.DI_CURRENT_A: lambda meter, now: meter.current_a(now),
    codec.DI_ACTIVE_POWER_TOTAL: lambda meter, now: meter.power_kw(now),
    # the register shows no negative money: what is below zero is the overdraft
    codec.DI_REMAINING_MONEY: lambda meter, now: max(meter.balance, 0),
    codec.DI_OVERDRAFT_MONEY: lambda meter, now: max(-meter.balance, 0),
    codec.DI_PURCHASE_COUNT: lambda meter, now: meter.purchase_count,
    codec.DI_STATUS_WORD_3: lambda meter, now: _status_word_3(meter),
    codec.DI_DATE: lambda meter, now: meter.meter_time(now).date(),
    codec.DI_TIME: lambda meter, now: meter.meter_time(now),
    # 05060101 (daily frozen energy) is answered "no requested data": the
    # simulator keeps no history to freeze.
}


class Dlt645Responder:
    """Answers DL/T 645-2007 requests for the SimMeters of one bus.

    ``meters`` maps 12-digit addresses to SimMeters. ``password`` is what
    writes and relay controls must carry (text ``"PAP2P1P0"``, see
    codec.encode_password). The standard only asks a meter to record the
    operator code; with ``operator`` set, only that operator is accepted.
    ``reply_preamble`` prefixes replies with FEH bytes, as many meters do.

    ``reply_data_limit`` caps the data field of one reply frame (DI and SEQ
    included, at least 9 bytes): a longer answer, such as the energy block 0001FF00,
    goes out in parts, the first with the follow-up bit (B1H), the rest on
    read follow-up requests (12H, SEQ 1, 2, ...; 92H for the last part, B2H
    before it). With ``read_follow_up=False`` the meter still splits but
    refuses 12H like a function it does not know (D2H, ERR "other error").
    """

    frame_length = staticmethod(codec.frame_length)

    def __init__(
        self,
        meters,
        password=DEFAULT_PASSWORD,
        operator=None,
        reply_preamble=True,
        reply_data_limit=None,
        read_follow_up=True,
    ):
        self.meters = {}
        for address, meter in meters.items():
            key = codec.normalize_address(address)
            if codec.is_wildcard(key) or key == codec.BROADCAST_ADDRESS:
                raise ValidationError(f"meter address {address!r} is a wildcard or broadcast")
            self.meters[key] = meter
        codec.encode_password(password)  # validates
        if operator is not None:
            codec.encode_operator(operator)
        self.password = password.upper()
        self.operator = operator.upper() if operator is not None else None
        self.reply_preamble = reply_preamble
        if reply_data_limit is not None and not 9 <= reply_data_limit <= codec.MAX_DATA_LENGTH:
            raise ValidationError(
                f"reply_data_limit must be 9..{codec.MAX_DATA_LENGTH} bytes, got {reply_data_limit}"
            )
        self.reply_data_limit = reply_data_limit
        self.read_follow_up = read_follow_up
        # address -> (di, parts still to send, SEQ the next follow-up request must carry)
        self._follow_ups = {}

    def handle(self, request, now=None):
        """The reply bytes to ``request``, or None when no meter answers.

        No answer: a frame that does not parse (a meter ignores what it cannot
        read), a reply overheard on the bus, an unknown or dead meter, any
        broadcast (time sync is applied, but never acknowledged).
        """
        try:
            frame = codec.parse_frame(request)
        except ProtocolError:
            return None
        if frame.is_reply:
            return None
        now = now or datetime.datetime.now()
        if frame.function == codec.FN_BROADCAST_TIME:
            self._sync_time(frame, now)
            return None
        address, meter = self._addressed_meter(frame)
        if meter is None or meter.dead:
            return None
        handlers = {
            codec.FN_READ: self._read,
            codec.FN_READ_ADDRESS: self._read_address,
            codec.FN_WRITE: self._write,
            codec.FN_RELAY_CONTROL: self._relay_control,
        }
        if self.read_follow_up:
            handlers[codec.FN_READ_FOLLOW_UP] = self._read_follow_up
        handler = handlers.get(frame.function)
        if handler is None:
            return self._abnormal(address, frame.function, codec.ERR_OTHER)
        try:
            return handler(address, meter, frame, now)
        except ProtocolError:
            # a well-framed request whose data field is malformed
            return self._abnormal(address, frame.function, codec.ERR_OTHER)
        except ValidationError:
            # the meter's own value does not fit its item (a clock outside 2000..2099)
            return self._abnormal(address, frame.function, codec.ERR_OTHER)

    # -- addressing ----------------------------------------------------------
    def _addressed_meter(self, frame):
        """(address, meter) the frame selects, (None, None) if none or several."""
        nobody = (None, None)
        if frame.address == codec.BROADCAST_ADDRESS:
            return nobody
        if not codec.is_wildcard(frame.address):
            return frame.address, self.meters.get(frame.address)
        # wildcards select meters for reads only; two matching meters would
        # talk at once on a real bus, which is no usable answer either
        if frame.function not in (codec.FN_READ, codec.FN_READ_ADDRESS):
            return nobody
        matches = [
            (address, meter)
            for address, meter in self.meters.items()
            if codec.address_matches(frame.address, address) and not meter.dead
        ]
        return matches[0] if len(matches) == 1 else nobody

    # -- replies ----------------------------------------------------------------
    def _reply(self, address, function, data=b""):
        return codec.build_reply(address, function, data, preamble=self.reply_preamble)

    def _abnormal(self, address, function, error):
        return codec.build_abnormal_reply(address, function, error, preamble=self.reply_preamble)

    def _authorised(self, password, operator):
        return password == self.password and self.operator in (None, operator)

    # -- functions ----------------------------------------------------------------
    def _read(self, address, meter, frame, now):
        if len(frame.data) != 4:
            # load-profile reads (DI + count + time) are not simulated
            return self._abnormal(address, codec.FN_READ, codec.ERR_NO_DATA)
        di = codec.decode_di(frame.data)
        reader = _READERS.get(di)
        if reader is None:
            return self._abnormal(address, codec.FN_READ, codec.ERR_NO_DATA)
        with meter.lock:
            meter.advance(now)
            value = reader(meter, now)
        item = codec.data_item(di)
        first, *rest = self._split(item, item.encode(value))
        if rest:
            self._follow_ups[address] = (di, rest, 1)
        else:
            self._follow_ups.pop(address, None)
        return codec.build_read_reply(address, di, first, bool(rest), self.reply_preamble)

    def _split(self, item, payload):
        """The payload in parts that fit ``reply_data_limit``, cut between whole values."""
        if self.reply_data_limit is None:
            return [payload]
        # the first frame holds DI + data, a follow-up DI + data + SEQ
        first_size = max(1, (self.reply_data_limit - 4) // item.length) * item.length
        next_size = max(1, (self.reply_data_limit - 5) // item.length) * item.length
        parts = [payload[:first_size]]
        rest = payload[first_size:]
        while rest:
            parts.append(rest[:next_size])
            rest = rest[next_size:]
        return parts

    def _read_follow_up(self, address, meter, frame, now):
        di, sequence = codec.parse_read_follow_up(frame)
        pending = self._follow_ups.get(address)
        if pending is None or pending[0] != di or pending[2] != sequence:
            # nothing follows, or not this part: the master must start with a read (11H)
            return self._abnormal(address, codec.FN_READ_FOLLOW_UP, codec.ERR_NO_DATA)
        _di, parts, _sequence = pending
        part, rest = parts[0], parts[1:]
        if rest:
            self._follow_ups[address] = (di, rest, sequence + 1)
        else:
            del self._follow_ups[address]
        return codec.build_read_follow_up_reply(
            address, di, part, sequence, bool(rest), self.reply_preamble
        )

    def _read_address(self, address, meter, frame, now):
        return self._reply(address, codec.FN_READ_ADDRESS, codec.encode_address(address))

    def _write(self, address, meter, frame, now):
        request = codec.parse_write_request(frame)
        if not self._authorised(request.password, request.operator):
            return self._abnormal(address, codec.FN_WRITE, codec.ERR_PASSWORD)
        if request.di != codec.VENDOR_PURCHASE_DI:
            return self._abnormal(address, codec.FN_WRITE, codec.ERR_NO_DATA)
        amount, purchase_count = codec.decode_purchase(request.payload)
        try:
            meter.apply_credit(amount, purchase_count, now)
        except MeterRefused:
            return self._abnormal(address, codec.FN_WRITE, codec.ERR_OTHER)
        return self._reply(address, codec.FN_WRITE)

    def _relay_control(self, address, meter, frame, now):
        command = codec.parse_relay_control(frame)
        if not self._authorised(command.password, command.operator):
            return self._abnormal(address, codec.FN_RELAY_CONTROL, codec.ERR_PASSWORD)
        action = N1_ACTIONS.get(command.n1)
        if action is None or meter.meter_time(now) > command.deadline:
            # unknown command, or past its validity: a late duplicate cannot act
            return self._abnormal(address, codec.FN_RELAY_CONTROL, codec.ERR_OTHER)
        try:
            meter.apply_relay(action, now)
        except MeterRefused:
            return self._abnormal(address, codec.FN_RELAY_CONTROL, codec.ERR_OTHER)
        return self._reply(address, codec.FN_RELAY_CONTROL)

    def _sync_time(self, frame, now):
        try:
            when = codec.parse_time_sync(frame)
        except ProtocolError:
            return
        if frame.address == codec.BROADCAST_ADDRESS:
            targets = self.meters.values()
        else:
            targets = [self.meters[frame.address]] if frame.address in self.meters else []
        for meter in targets:
            if not meter.dead:
                with meter.lock:
                    meter.advance(now)
                    meter.set_time(when, now)
