"""DL/T 645-2007 meter driver: one request per data identifier over a Transport."""

import datetime

from ..errors import MeterRefused, ProtocolError, TransportTimeout, ValidationError
from ..protocols import dlt645 as codec
from ..vocabulary import (
    RELAY_CLOSE,
    RELAY_CLOSE_ALLOWED,
    RELAY_KEEP_POWER_OFF,
    RELAY_KEEP_POWER_ON,
    RELAY_TRIP,
)
from .base import MeterDriver, MeterReading

#: relay action -> N1 of the relay control command
RELAY_N1 = {
    RELAY_TRIP: codec.N1_TRIP,
    RELAY_CLOSE_ALLOWED: codec.N1_CLOSE_ALLOWED,
    RELAY_CLOSE: codec.N1_CLOSE,
    RELAY_KEEP_POWER_ON: codec.N1_KEEP_POWER_ON,
    RELAY_KEEP_POWER_OFF: codec.N1_KEEP_POWER_OFF,
}

DEFAULT_PASSWORD = "02000000"
DEFAULT_OPERATOR = "00000000"
#: follow-up frames of one answer: SEQ is one byte, counted from 1
MAX_FOLLOW_UPS = 255
#: how long a relay command stays valid when no deadline is given
DEFAULT_RELAY_VALIDITY = datetime.timedelta(minutes=5)


class Dlt645Driver(MeterDriver):
    """Reads and commands DL/T 645-2007 meters of one bus.

    ``password`` (``"PAP2P1P0"``: level then 6 hex digits) and ``operator``
    (8 hex digits) go with every write and relay control. With
    ``use_blocks`` the energy registers come in one read of the 0001FF00
    block instead of five reads, for meters that support blocks.
    """

    protocol = "dlt645"

    def __init__(
        self,
        transport,
        timeout=None,
        password=DEFAULT_PASSWORD,
        operator=DEFAULT_OPERATOR,
        relay_validity=DEFAULT_RELAY_VALIDITY,
        use_blocks=False,
    ):
        super().__init__(transport, timeout)
        codec.encode_password(password)  # fail now, not at the first command
        codec.encode_operator(operator)
        self.password = password
        self.operator = operator
        self.relay_validity = relay_validity
        self.use_blocks = use_blocks

    # -- exchange ---------------------------------------------------------------
    def _transact(self, address, request, what):
        """Send ``request`` and return the checked reply Frame.

        Only a frame from the addressed meter (any meter the wildcard
        selects) answering the same function, item and SEQ is the reply;
        any other frame (a late reply to an earlier request, an echo) is set
        aside by the transport, which reads on until the deadline. Abnormal
        replies raise MeterRefused.
        """
        sent = codec.parse_frame(request)
        try:
            raw = self.transport.exchange(
                request,
                codec.frame_length,
                self.timeout,
                check=lambda frame: codec.reply_mismatch(sent, frame),
            )
        except TransportTimeout as timeout:
            raise TransportTimeout(f"{what} of meter {address}: {timeout}") from None
        reply = codec.parse_frame(raw)
        codec.raise_if_abnormal(reply, what)
        return reply

    # -- what the poller asks of a driver ----------------------------------------------
    frame_length = staticmethod(codec.frame_length)

    @staticmethod
    def address_key(address):
        """The address as replies spell it (12 digits)."""
        return codec.normalize_address(address)

    @staticmethod
    def reply_source(frame):
        """The address of the meter an intact reply frame comes from (else None)."""
        return codec.reply_address(frame)

    def read_item(self, address, di):
        """The value of one data item (see codec.DATA_ITEMS for its type).

        A reply with the follow-up bit set (B1H) is only the first part: the
        rest is fetched with read follow-up (12H, SEQ 1, 2, ...) until a reply
        without the bit. A meter that announces more but does not hand it over
        gets a ProtocolError, never a partial value.
        """
        item = codec.data_item(di)
        what = f"read {di:08X} ({item.name})"
        reply = self._transact(address, codec.build_read(address, di), what)
        _di, payload = codec.parse_read_reply(reply)  # same DI: _transact checked it
        parts = [payload]
        sequence = 0
        while reply.has_follow_up:
            sequence += 1
            if sequence > MAX_FOLLOW_UPS:
                raise ProtocolError(
                    f"{what}: still more data after {MAX_FOLLOW_UPS} follow-up frames; "
                    "the answer is incomplete and was not used"
                )
            reply = self._read_follow_up(address, di, sequence, what)
            _di, payload, _sequence = codec.parse_read_follow_up_reply(reply)  # same DI, SEQ
            parts.append(payload)
        return item.decode(b"".join(parts))

    def _read_follow_up(self, address, di, sequence, what):
        request = codec.build_read_follow_up(address, di, sequence)
        try:
            return self._transact(address, request, f"{what}, follow-up {sequence}")
        except MeterRefused as refusal:
            raise ProtocolError(
                f"{what}: the meter announced more data (follow-up bit) but refused read "
                f"follow-up 12H ({refusal}); the answer is incomplete and was not used"
            ) from refusal

    def _read_optional(self, address, di):
        """Like read_item, but None when the meter has no such data."""
        try:
            return self.read_item(address, di)
        except MeterRefused as exc:
            if isinstance(exc.code, int) and exc.code & codec.ERR_NO_DATA:
                return None
            raise

    # -- MeterDriver ---------------------------------------------------------------
    def read(self, address):
        address = codec.normalize_address(address)
        timestamp = datetime.datetime.now(datetime.timezone.utc)  # as every driver: aware UTC
        total, bands = self._read_energy(address)
        status = self._read_optional(address, codec.DI_STATUS_WORD_3)
        remaining = self._read_optional(address, codec.DI_REMAINING_MONEY)
        overdraft = (
            self._read_optional(address, codec.DI_OVERDRAFT_MONEY)
            if remaining is not None
            else None
        )
        count = self._read_optional(address, codec.DI_PURCHASE_COUNT)
        return MeterReading(
            address=address,
            timestamp=timestamp,
            total=total,
            bands=bands,
            voltage=self._read_optional(address, codec.DI_VOLTAGE_A),
            current=self._read_optional(address, codec.DI_CURRENT_A),
            power=self._read_optional(address, codec.DI_ACTIVE_POWER_TOTAL),
            relay_closed=None if status is None else not codec.Status3.from_word(status).relay_open,
            balance=None if remaining is None else remaining - (overdraft or 0),
            purchase_count=None if count is None else int(count),
        )

    def _read_energy(self, address):
        """(total, {band: kWh}); bands the meter lacks are left out."""
        if self.use_blocks:
            total, *tariffs = self.read_item(address, codec.DI_FORWARD_ACTIVE_BLOCK)
            return total, dict(zip(codec.DI_FORWARD_ACTIVE_BANDS, tariffs))
        total = self.read_item(address, codec.DI_FORWARD_ACTIVE_TOTAL)
        bands = {}
        for band, di in codec.DI_FORWARD_ACTIVE_BANDS.items():
            value = self._read_optional(address, di)
            if value is not None:
                bands[band] = value
        return total, bands

    def read_status(self, address):
        """The relay bits of status word 3 (codec.Status3)."""
        return codec.Status3.from_word(self.read_item(address, codec.DI_STATUS_WORD_3))

    def read_clock(self, address):
        """The meter's date and time (two reads: date 04000101, then time 04000102)."""
        date = self.read_item(address, codec.DI_DATE)
        time = self.read_item(address, codec.DI_TIME)
        return datetime.datetime.combine(date, time)

    def read_address(self):
        """The address of the only meter on the bus (wildcard read, 13H)."""
        request = codec.build_read_address()
        reply = self._transact(codec.WILDCARD_ADDRESS, request, "read address")
        data_address = codec.decode_address(reply.data)
        if data_address != reply.address:
            raise ProtocolError(
                f"read address: frame from {reply.address} carries address {data_address}"
            )
        return data_address

    def set_relay(self, address, action, deadline=None, **options):
        """Send relay control N1 for ``action``, valid until ``deadline`` (meter time).

        Without a deadline the command is valid for ``relay_validity`` from
        now (host clock). The meter refuses it once its clock passed the
        deadline, so a retry after that needs a new deadline.
        """
        if options:
            raise ValidationError(f"unknown relay options: {', '.join(sorted(options))}")
        if action not in RELAY_N1:
            raise ValidationError(
                f"unknown relay action {action!r}; expected one of {list(RELAY_N1)}"
            )
        if deadline is None:
            deadline = datetime.datetime.now().replace(microsecond=0) + self.relay_validity
        request = codec.build_relay_control(
            address, RELAY_N1[action], self.password, self.operator, deadline
        )
        self._transact(address, request, f"relay {action}")

    def read_purchase_count(self, address):
        return int(self.read_item(address, codec.DI_PURCHASE_COUNT))

    def push_credit(self, address, amount, purchase_count, **options):
        """Add ``amount`` as purchase ``purchase_count`` (the vendor write of codec).

        A refusal (MeterRefused, ERR "other error") means the meter did not
        take it: wrong count, amount or balance limit. Read the count back
        before deciding to retry.
        """
        if options:
            raise ValidationError(f"unknown credit options: {', '.join(sorted(options))}")
        payload = codec.encode_purchase(amount, purchase_count)
        request = codec.build_write(
            address, codec.VENDOR_PURCHASE_DI, payload, self.password, self.operator
        )
        self._transact(address, request, f"credit purchase {purchase_count}")

    def sync_time(self, address, when):
        """Set the clock by time sync (08H) to ``address`` or, with None, to every meter.

        No meter acknowledges a time sync: read the clock to verify.
        """
        request = codec.build_time_sync(when, address or codec.BROADCAST_ADDRESS)
        self.transport.exchange(request, codec.frame_length, self.timeout, expect_reply=False)
