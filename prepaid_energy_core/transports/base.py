"""The one interface every driver talks through.

A transport is one bus: one RS-485 line behind a serial port or a transparent
serial-over-TCP gateway. Only one request may be in flight on a bus, so every
exchange holds the bus lock; drivers never touch sockets or ports themselves.

A reply that comes late (after its request's deadline) must never be taken
for the answer to the next request. So a byte transport

- gives every complete frame it reads to the request's ``check``: a frame
  that does not answer the request (another meter's late reply, an echo, a
  reply to another function or item) is set aside and reading goes on until
  the request's deadline;
- after a timeout, keeps listening until the line has been quiet for
  :attr:`Transport.quiet` seconds, so a late reply under way does not spill
  into the next exchange (on a real RS-485 line it would collide with it);
- keeps the frames it set aside (:meth:`Transport.take_strays`): a late reply
  proves its meter alive, which is how the poller tells a slow meter from a
  dead one.
"""

import collections
import dataclasses
import threading
import time

from ..errors import ProtocolError, TransportError, TransportTimeout

#: seconds without a byte after which the line counts as quiet
QUIET = 0.02
#: a line that never goes quiet (noise) is drained at most this long
MAX_DRAIN = 0.25
#: frames set aside and not yet taken, per transport (oldest dropped first)
MAX_STRAYS = 256


@dataclasses.dataclass(frozen=True)
class Stray:
    """A complete frame that answered no request in flight: a late reply, an echo."""

    received_at: float  # time.monotonic() when it was read
    frame: bytes


class Transport:
    """Send one request frame and return one complete reply frame.

    ``frame_length(buffer)`` is the protocol's framing function: it returns
    the number of bytes of the first complete frame at the start of
    ``buffer`` (leading wake-up bytes included), or ``None`` while more
    bytes are needed; it raises ProtocolError on bytes that can never become
    a frame.
    """

    #: seconds of silence a reply may take before TransportTimeout
    default_timeout = 0.5
    #: seconds without a byte after which the line counts as quiet
    quiet = QUIET

    def __init__(self, name="bus"):
        self.name = name
        self.lock = threading.Lock()
        self.strays = collections.deque(maxlen=MAX_STRAYS)
        #: time.monotonic() of the last request written (None before the first)
        self.last_sent_at = None

    def exchange(self, request, frame_length, timeout=None, expect_reply=True, check=None):
        """Write ``request`` and return the reply's bytes (``b""`` if none expected).

        ``check(frame)`` returns None when the complete ``frame`` answers the
        request, or a short text saying why it does not; such a frame is set
        aside (see :meth:`take_strays`) and reading goes on until the
        deadline. Without ``check`` the first complete frame is the reply.

        Holds :attr:`lock` for the whole exchange. Stale input is set aside
        before writing; on a link failure the transport reconnects on the
        next call. Raises TransportTimeout, ProtocolError (bytes that never
        formed a frame) or TransportError.
        """
        with self.lock:
            return self._exchange(
                request,
                frame_length,
                self.default_timeout if timeout is None else timeout,
                expect_reply,
                check,
            )

    def _exchange(self, request, frame_length, timeout, expect_reply, check):
        raise NotImplementedError

    def take_strays(self):
        """The frames set aside since the last call (oldest first), and forget them."""
        with self.lock:
            strays = list(self.strays)
            self.strays.clear()
        return strays

    def listen(self, frame_length):
        """Set aside what arrived since the last exchange, without waiting (no-op here)."""

    def close(self):
        """Release the port or socket; a later exchange reopens it."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- for byte transports ---------------------------------------------------------
    def _set_aside(self, frame, received_at=None):
        self.strays.append(Stray(received_at or time.monotonic(), bytes(frame)))

    def _set_aside_frames(self, data, frame_length):
        """Set aside every complete frame in ``data``; what does not frame is dropped."""
        buffer = bytearray(data)
        for frame in _frames(buffer, frame_length, []):
            self._set_aside(frame)

    def _read_reply(self, receive, frame_length, deadline, check):
        """Read with ``receive(seconds)`` until a frame passes ``check`` or the deadline.

        ``receive`` returns the bytes available (at least one) or ``b""``
        when nothing came in time; it raises TransportError when the link
        failed. Bytes after the reply are dropped.
        """
        buffer = bytearray()
        skipped = []  # why each complete frame was not the reply
        garbage = []  # what could not be framed (resynchronised past)
        while True:
            for frame in _frames(buffer, frame_length, garbage):
                reason = check(frame) if check else None
                if reason is None:
                    return frame
                self._set_aside(frame)
                skipped.append(reason)
            left = deadline - time.monotonic()
            if left <= 0:
                break
            buffer += receive(left)
        # A reply that began before the deadline may still finish; then the
        # line is drained until quiet, so nothing late spills into the next request.
        under_way = bool(buffer)
        late = self._drain(receive, frame_length, buffer, under_way, check, garbage)
        if late is not None:
            return late
        raise _no_reply(skipped, garbage, buffer)

    def _drain(self, receive, frame_length, buffer=None, under_way=False, check=None, garbage=None):
        """Read until the line has been quiet for :attr:`quiet`; set aside whole frames.

        When a frame was ``under_way`` at the deadline, it is returned if it
        completes and passes ``check``; anything else is set aside. A link
        failure ends the drain quietly (the next exchange reconnects).
        """
        buffer = bytearray() if buffer is None else buffer
        garbage = [] if garbage is None else garbage
        stop_at = time.monotonic() + MAX_DRAIN
        while True:
            left = min(self.quiet, stop_at - time.monotonic())
            if left <= 0:
                return None
            try:
                chunk = receive(left)
            except TransportError:
                self.close()
                return None
            if not chunk:
                return None
            buffer += chunk
            for frame in _frames(buffer, frame_length, garbage):
                if under_way and (check is None or check(frame) is None):
                    return frame
                under_way = False  # only the frame under way at the deadline may count
                self._set_aside(frame)


def _frames(buffer, frame_length, garbage):
    """Take every complete frame off the front of ``buffer`` (a bytearray), in order.

    Bytes that can never start a frame are dropped one at a time, so the
    framing finds the next frame start (a stray half frame before a reply);
    the first framing error is noted in ``garbage``.
    """
    while buffer:
        try:
            length = frame_length(bytes(buffer))
        except ProtocolError as exc:
            if not garbage:
                garbage.append(str(exc))
            del buffer[0]
            continue
        if length is None or length > len(buffer):  # some framings know the length early
            return
        frame = bytes(buffer[:length])
        del buffer[:length]
        yield frame


def _no_reply(skipped, garbage, buffer):
    """The error of an exchange that found no reply before its deadline."""
    if garbage and not skipped:
        return ProtocolError(f"no valid reply: {garbage[0]}")
    details = []
    if buffer:
        details.append(f"incomplete frame of {len(buffer)} bytes: {bytes(buffer[:32]).hex()}")
    if skipped:
        reasons = "; ".join(dict.fromkeys(skipped))  # each reason once, in order
        details.append(f"{len(skipped)} frame(s) set aside, not answering the request: {reasons}")
    if garbage:
        details.append(f"unframed bytes skipped: {garbage[0]}")
    message = "no reply before the deadline"
    return TransportTimeout(f"{message} ({'; '.join(details)})" if details else message)
