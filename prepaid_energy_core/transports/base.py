"""The one interface every driver talks through.

A transport is one bus: one RS-485 line behind a serial port or a transparent
serial-over-TCP gateway. Only one request may be in flight on a bus, so every
exchange holds the bus lock; drivers never touch sockets or ports themselves.
"""

import threading


class Transport:
    """Send one request frame and return one complete reply frame.

    ``frame_length(buffer)`` is the protocol's framing function: it returns
    the number of bytes of the first complete frame at the start of
    ``buffer`` (leading wake-up or noise bytes included), or ``None`` while
    more bytes are needed; it raises ProtocolError on bytes that can never
    become a frame.
    """

    #: seconds of silence a reply may take before TransportTimeout
    default_timeout = 0.5

    def __init__(self, name="bus"):
        self.name = name
        self.lock = threading.Lock()

    def exchange(self, request, frame_length, timeout=None, expect_reply=True):
        """Write ``request`` and return the reply's bytes (``b""`` if none expected).

        Holds :attr:`lock` for the whole exchange. Stale input is discarded
        before writing; on a link failure the transport reconnects on the next
        call. Raises TransportTimeout or TransportError.
        """
        with self.lock:
            return self._exchange(
                request,
                frame_length,
                self.default_timeout if timeout is None else timeout,
                expect_reply,
            )

    def _exchange(self, request, frame_length, timeout, expect_reply):
        raise NotImplementedError

    def close(self):
        """Release the port or socket; a later exchange reopens it."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
