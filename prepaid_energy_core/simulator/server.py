"""Simulated gateways: buses of SimMeters served over TCP and pseudo-terminals.

A Gateway is one RS-485 bus: a responder (the meters' protocol) behind one
endpoint, either a TCP port on 127.0.0.1 (a transparent serial-over-TCP
gateway, or a Modbus TCP gateway) or a pseudo-terminal whose slave path a
SerialTransport opens like a USB adapter. A SimulatorServer runs any number
of gateways in one asyncio loop on a background thread.

Responders offer ``frame_length(buffer)`` (request framing; ProtocolError on
garbage, which the gateway discards like a real bus does) and
``handle(request) -> bytes | None`` (None: no reply).

Optional per gateway: bus timing (the reply comes after the request's
transmit time + t3.5 + the meter's turnaround + the reply's transmit time,
one request at a time, t3.5 of silence between transactions) and a FaultPlan.
"""

import asyncio
import dataclasses
import datetime
import logging
import os
import threading
import time
import tty

from ..errors import ProtocolError, ValidationError
from .faults import FaultPlan
from .meter import SimMeter

_logger = logging.getLogger(__name__)

LOCALHOST = "127.0.0.1"
BITS_PER_CHARACTER = 11  # start + 8 data + parity or second stop + stop
DEFAULT_TURNAROUND = 0.02


# -- bus physics -----------------------------------------------------------------
def character_time(baudrate):
    """Seconds one 11-bit character takes on the line."""
    return BITS_PER_CHARACTER / baudrate


def silence_time(baudrate):
    """Modbus t3.5: 3.5 characters, fixed at 1.75 ms above 19200 baud."""
    if baudrate > 19200:
        return 0.00175
    return 3.5 * character_time(baudrate)


# -- what the gateway needs to know of each protocol -------------------------------
def modbus_rtu_unit(request):
    """Unit id of an RTU request (its first byte), as text."""
    return str(request[0]) if request else None


def modbus_tcp_unit(request):
    """Unit id of a Modbus TCP request (byte 6, after the MBAP header), as text."""
    return str(request[6]) if len(request) > 6 else None


def dlt645_address(request):
    """12-digit address of a DL/T 645 frame (A0..A5 follow the first 68H, low byte first)."""
    start = 0
    while start < len(request) and request[start] == 0xFE:
        start += 1
    if len(request) < start + 7 or request[start] != 0x68:
        return None
    return bytes(reversed(request[start + 1 : start + 7])).hex()


@dataclasses.dataclass(frozen=True)
class ProtocolTraits:
    """Where a request names its meter and where a reply keeps its checksum."""

    name: str
    address_of: object = None  # request -> meter address text, or None
    checksum_index: int | None = None  # index of a checksum byte in a reply


PROTOCOLS = {
    # RTU: CRC16 in the last two bytes
    "modbus-rtu": ProtocolTraits("modbus-rtu", modbus_rtu_unit, -1),
    # TCP has no checksum of its own: the TCP stack guards the bytes
    "modbus-tcp": ProtocolTraits("modbus-tcp", modbus_tcp_unit, None),
    # DL/T 645: ... CS 16H
    "dlt645": ProtocolTraits("dlt645", dlt645_address, -2),
}
GENERIC = ProtocolTraits("generic")


@dataclasses.dataclass
class GatewayStats:
    """What a gateway saw; ``transactions`` lists (request bytes, reply bytes) if asked."""

    requests: int = 0
    replies: int = 0
    unanswered: int = 0
    late: int = 0  # replies held back by a ``late`` fault
    discarded: int = 0  # buffers of garbage thrown away by the framing
    restarts: int = 0
    transactions: list | None = None


class Gateway:
    """One bus of meters behind one endpoint.

    ``meters`` maps the address the protocol uses (text or int) to SimMeter.
    ``protocol`` is a key of PROTOCOLS (needed for per-meter faults, dead
    meters and checksum faults) or None for a protocol of your own.
    ``baudrate`` turns bus timing on; ``turnaround`` is the meter's
    response delay in seconds. ``faults`` is a FaultPlan or a list of rule
    specs (seeded with ``seed``). ``record_transactions`` keeps the length of
    every request and reply (for the bus-physics floor of a benchmark).
    """

    def __init__(
        self,
        responder,
        meters,
        protocol=None,
        baudrate=None,
        turnaround=DEFAULT_TURNAROUND,
        faults=None,
        seed=0,
        name=None,
        record_transactions=False,
    ):
        if protocol is not None and protocol not in PROTOCOLS:
            raise ValidationError(
                f"unknown protocol {protocol!r}; expected one of {', '.join(PROTOCOLS)}"
            )
        if baudrate is not None and baudrate <= 0:
            raise ValidationError(f"baudrate must be positive, got {baudrate}")
        if turnaround < 0:
            raise ValidationError(f"turnaround must not be negative, got {turnaround}")
        self.responder = responder
        self.meters = {str(address): meter for address, meter in meters.items()}
        self.traits = PROTOCOLS[protocol] if protocol else GENERIC
        self.protocol = protocol
        self.baudrate = baudrate
        self.turnaround = turnaround
        self.faults = faults if isinstance(faults, FaultPlan) else FaultPlan(faults or (), seed)
        self._check_faults()
        self.meter_faults = self.faults.apply_to_meters(self.meters.values())
        self.name = name or f"gateway-{id(self):x}"
        self.stats = GatewayStats(transactions=[] if record_transactions else None)
        # endpoint, set when a server serves the gateway
        self.kind = None
        self.host = None
        self.port = None
        self.pty_path = None
        self._loop = None
        self._server = None
        self._pty = None
        self._links = set()
        self._queue = None
        self._worker = None
        self._down_until = 0.0
        self._closed = False

    def _check_faults(self):
        kinds = self.faults.kinds()
        if "crc" in kinds and self.traits.checksum_index is None:
            raise ValidationError(
                f"protocol {self.traits.name!r} has no checksum: crc faults do not apply"
            )
        needs_address = any(rule.meter for rule in self.faults.rules)
        if needs_address and self.traits.address_of is None:
            raise ValidationError("per-meter faults need a known protocol to find the address")

    # -- what clients see ------------------------------------------------------
    @property
    def endpoint(self):
        """``host:port`` or the pseudo-terminal path."""
        if self.kind == "pty":
            return self.pty_path
        return f"{self.host}:{self.port}"

    @property
    def addresses(self):
        return list(self.meters)

    @property
    def timed(self):
        return self.baudrate is not None

    # -- requests --------------------------------------------------------------
    def _on_bytes(self, link, data):
        link.buffer += data
        while link.buffer:
            if self._is_down():
                link.buffer.clear()
                return
            try:
                length = self.responder.frame_length(bytes(link.buffer))
            except ProtocolError:
                # Garbage on the bus: meters ignore it and wait for silence.
                self.stats.discarded += 1
                link.buffer.clear()
                return
            if length is None or length > len(link.buffer):
                return
            request = bytes(link.buffer[:length])
            del link.buffer[:length]
            self._submit(link, request)

    def _submit(self, link, request):
        self.stats.requests += 1
        if not self.timed:
            reply, delay = self._answer(request)
            if reply is not None and delay:
                # a slow meter; meanwhile the next request is served at once
                self._loop.call_later(delay, link.send, reply)
            elif reply is not None:
                link.send(reply)
            return
        if self._worker is None:
            self._queue = asyncio.Queue()
            self._worker = self._loop.create_task(self._bus_worker())
        self._queue.put_nowait((link, request))

    def serve(self, request):
        """Answer one request as the bus would, faults included (None: silence)."""
        return self._answer(request)[0]

    def _answer(self, request):
        """(reply or None, extra delay in seconds of a ``late`` fault)."""
        address = self.traits.address_of(request) if self.traits.address_of else None
        meter = self.meters.get(address) if address is not None else None
        if meter is not None and meter.dead:
            return self._no_reply(), 0.0
        fault = self.faults.decide(address) if self.faults else None
        if fault is not None and fault.kind == "restart":
            self.restart(fault.param)
            return None, 0.0
        if fault is not None and fault.kind == "lost":  # the meter never hears it
            return self._no_reply(), 0.0
        try:
            reply = self.responder.handle(request)
        except ProtocolError as exc:
            _logger.debug("%s: request ignored: %s", self.name, exc)
            reply = None
        except Exception:
            _logger.exception("%s: responder failed on %s", self.name, request.hex())
            reply = None
        if reply is None:
            return self._no_reply(), 0.0
        if self.stats.transactions is not None:
            self.stats.transactions.append((len(request), len(reply)))
        if fault is not None:
            reply = self.faults.damage(fault.kind, reply, self.traits.checksum_index)
            if reply is None:
                return self._no_reply(), 0.0
        self.stats.replies += 1
        delay = float(fault.param) if fault is not None and fault.kind == "late" else 0.0
        if delay:
            self.stats.late += 1
        return reply, delay

    def _no_reply(self):
        self.stats.unanswered += 1
        return None

    async def _bus_worker(self):
        """Serve queued requests one at a time with the timing of the line."""
        loop = self._loop
        char = character_time(self.baudrate)
        silence = silence_time(self.baudrate)
        free_at = 0.0
        while True:
            link, request = await self._queue.get()
            start = max(loop.time(), free_at)
            handle_at = start + len(request) * char + silence + self.turnaround
            await _sleep_until(loop, handle_at)
            if self._is_down() or not link.is_open():
                free_at = loop.time()
                continue
            reply, delay = self._answer(request)
            if reply is None:
                free_at = loop.time()
                continue
            # a late meter holds the line: the next request waits for its reply
            done_at = handle_at + delay + len(reply) * char
            await _sleep_until(loop, done_at)
            link.send(reply)
            free_at = done_at + silence

    # -- gateway restart -----------------------------------------------------------
    def _is_down(self):
        return self._down_until and self._loop.time() < self._down_until

    def restart(self, duration):
        """Drop every connection and stay deaf (TCP: refuse) for ``duration`` seconds.

        Call it from the server's loop thread, or through SimulatorServer.restart.
        """
        self.stats.restarts += 1
        self._down_until = self._loop.time() + duration
        for link in list(self._links):
            link.close()
        self._links.clear()
        if self._queue is not None:
            while not self._queue.empty():
                self._queue.get_nowait()
        if self._pty is not None:
            self._pty.buffer.clear()
        if self._server is not None:
            self._server.close()
            self._server = None
            self._loop.call_later(duration, self._reopen_soon)

    def _reopen_soon(self):
        self._loop.create_task(self._reopen())

    async def _reopen(self):
        for _ in range(50):
            if self._closed:
                return
            try:
                await self._listen(self.host, self.port)
                return
            except OSError:
                await asyncio.sleep(0.05)
        _logger.error("%s: could not listen again on port %s", self.name, self.port)

    # -- endpoints (loop thread) ---------------------------------------------------
    async def _listen(self, host, port):
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _TcpLink(self), host, port, reuse_address=True, backlog=64
        )
        self.host, self.port = self._server.sockets[0].getsockname()[:2]

    async def _open(self, kind, host, port):
        self._loop = asyncio.get_running_loop()
        self.kind = kind
        if kind == "tcp":
            await self._listen(host, port)
        elif kind == "pty":
            self._pty = _PtyLink(self, self._loop)
            self._links.add(self._pty)
            self.pty_path = self._pty.path
        else:
            raise ValidationError(f"unknown gateway transport {kind!r}; expected tcp or pty")

    async def _close(self):
        self._closed = True
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None
        if self._server is not None:
            self._server.close()
            self._server = None
        for link in list(self._links):
            link.close()
        self._links.clear()
        if self._pty is not None:
            self._pty.release()
            self._pty = None

    def __repr__(self):
        return f"Gateway({self.name!r}, {self.traits.name}, {self.kind}:{self.endpoint})"


async def _sleep_until(loop, when):
    delay = when - loop.time()
    if delay > 0:
        await asyncio.sleep(delay)


class _TcpLink(asyncio.Protocol):
    """One client connection to a TCP gateway."""

    def __init__(self, gateway):
        self.gateway = gateway
        self.buffer = bytearray()
        self.transport = None

    def connection_made(self, transport):
        if self.gateway._is_down():
            transport.abort()
            return
        self.transport = transport
        self.gateway._links.add(self)

    def data_received(self, data):
        self.gateway._on_bytes(self, data)

    def connection_lost(self, exc):
        self.gateway._links.discard(self)
        self.transport = None

    def is_open(self):
        return self.transport is not None and not self.transport.is_closing()

    def send(self, data):
        if self.is_open():
            self.transport.write(data)

    def close(self):
        if self.transport is not None:
            self.transport.abort()


class _PtyLink:
    """The master side of a pseudo-terminal; clients open the slave path."""

    def __init__(self, gateway, loop):
        self.gateway = gateway
        self.buffer = bytearray()
        self.loop = loop
        self.master, self.slave = os.openpty()
        # Raw line discipline: no echo, no CR/LF translation, bytes as they are.
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        os.set_blocking(self.master, False)
        loop.add_reader(self.master, self._readable)

    def _readable(self):
        try:
            data = os.read(self.master, 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return  # no reader on the slave side right now
        if data:
            self.gateway._on_bytes(self, data)

    def is_open(self):
        return self.master is not None

    def send(self, data):
        try:
            os.write(self.master, data)
        except OSError:
            _logger.debug("%s: reply dropped, nobody reads the terminal", self.gateway.name)

    def close(self):
        """A restart only forgets the bytes in flight; the terminal stays."""
        self.buffer.clear()

    def release(self):
        self.loop.remove_reader(self.master)
        os.close(self.master)
        os.close(self.slave)
        self.master = None


class SimulatorServer:
    """Runs gateways in one asyncio loop on a background thread.

    ``tick_interval`` (seconds) is how often every meter accumulates energy
    (None: only when a responder advances it); ``time_factor`` > 1 makes
    simulated time run faster than the wall clock (an hour in seconds for a
    demo). Use as a context manager, or call start() and stop().
    """

    def __init__(self, host=LOCALHOST, tick_interval=1.0, time_factor=1):
        if time_factor <= 0:
            raise ValidationError(f"time_factor must be positive, got {time_factor}")
        self.host = host
        self.tick_interval = tick_interval
        self.time_factor = time_factor
        self.gateways = []
        self._loop = None
        self._thread = None
        self._ticker = None
        self._started_wall = None
        self._started_mono = None

    # -- life cycle --------------------------------------------------------------
    def start(self):
        if self._thread is not None:
            return self
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="meter-simulator", daemon=True
        )
        self._thread.start()
        ready.wait()
        self._started_wall = datetime.datetime.now()
        self._started_mono = time.monotonic()
        if self.tick_interval:
            self._ticker = self.call(self._start_ticker)
        return self

    def _run(self, ready):
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._loop.call_soon(ready.set)
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    def stop(self):
        if self._thread is None:
            return
        try:
            self.call(self._shutdown)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            self._thread = None

    async def _shutdown(self):
        if self._ticker is not None:
            self._ticker.cancel()
        for gateway in self.gateways:
            await gateway._close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def call(self, coroutine_function, *args, timeout=30):
        """Run ``coroutine_function(*args)`` on the loop thread and return its result."""
        future = asyncio.run_coroutine_threadsafe(coroutine_function(*args), self._loop)
        return future.result(timeout)

    def call_soon(self, function, *args):
        """Run a plain function on the loop thread and wait for its result."""

        async def run():
            return function(*args)

        return self.call(run)

    # -- gateways ------------------------------------------------------------------
    def add_gateway(self, gateway, transport="tcp", port=0):
        """Serve ``gateway`` on a TCP port (0: ephemeral) or a pseudo-terminal ("pty")."""
        self.start()
        self.call(gateway._open, transport, self.host, port)
        self.gateways.append(gateway)
        return gateway

    def restart(self, gateway, duration):
        """Restart ``gateway`` now (drop connections, refuse for ``duration`` seconds)."""
        self.call_soon(gateway.restart, duration)

    def meters(self):
        """Every served meter, gateway by gateway."""
        return [meter for gateway in self.gateways for meter in gateway.meters.values()]

    # -- energy ----------------------------------------------------------------------
    def simulated_now(self):
        """The simulated wall-clock time (faster than real with time_factor > 1)."""
        if self._started_mono is None:
            return datetime.datetime.now()
        elapsed = (time.monotonic() - self._started_mono) * self.time_factor
        return self._started_wall + datetime.timedelta(seconds=elapsed)

    def tick(self):
        """Let every meter accumulate energy up to the simulated now."""
        now = self.simulated_now()
        for meter in self.meters():
            meter.advance(now)

    async def _start_ticker(self):
        return asyncio.get_running_loop().create_task(self._tick_forever())

    async def _tick_forever(self):
        while True:
            await asyncio.sleep(self.tick_interval)
            self.tick()


# -- building buses of simulated meters ----------------------------------------------------
def meter_addresses(protocol, count, gateway_index=0):
    """Bus addresses for ``count`` meters: Modbus unit ids 1..count, DL/T 645
    12-digit addresses ``GGGGGGNNNNNN`` (gateway index, meter number)."""
    if protocol in ("modbus-rtu", "modbus-tcp"):
        if not 1 <= count <= 247:
            raise ValidationError(f"a Modbus bus holds 1..247 meters, got {count}")
        return [str(unit) for unit in range(1, count + 1)]
    if protocol == "dlt645":
        return [f"{gateway_index:06d}{number:06d}" for number in range(1, count + 1)]
    raise ValidationError(f"unknown protocol {protocol!r}; expected one of {', '.join(PROTOCOLS)}")


def make_responder(protocol, meters, profile=None, **responder_options):
    """The responder of ``protocol`` for ``meters`` ({address text: SimMeter}).

    ``responder_options`` go to the DL/T 645 responder (e.g. ``reply_data_limit``).
    """
    if protocol == "dlt645":
        from .dlt645_responder import Dlt645Responder

        return Dlt645Responder(dict(meters), **responder_options)
    if responder_options:
        raise ValidationError(
            f"options {', '.join(sorted(responder_options))} apply to dlt645 responders only"
        )
    from .modbus_responder import ModbusRtuResponder, ModbusTcpResponder

    if profile is None:
        from ..register_maps import load_builtin

        profile = load_builtin("generic")
    by_unit = {int(address): meter for address, meter in meters.items()}
    if protocol == "modbus-rtu":
        return ModbusRtuResponder(by_unit, profile)
    if protocol == "modbus-tcp":
        return ModbusTcpResponder(by_unit, profile)
    raise ValidationError(f"unknown protocol {protocol!r}; expected one of {', '.join(PROTOCOLS)}")


def make_gateway(
    protocol,
    meter_count,
    gateway_index=0,
    baudrate=None,
    turnaround=DEFAULT_TURNAROUND,
    faults=None,
    seed=0,
    profile=None,
    record_transactions=False,
    responder_options=None,
    **meter_options,
):
    """A Gateway with ``meter_count`` fresh SimMeters (``meter_options`` go to SimMeter,
    ``responder_options`` to the protocol's responder)."""
    addresses = meter_addresses(protocol, meter_count, gateway_index)
    meters = {address: SimMeter(address, **meter_options) for address in addresses}
    return Gateway(
        make_responder(protocol, meters, profile, **(responder_options or {})),
        meters,
        protocol=protocol,
        baudrate=baudrate,
        turnaround=turnaround,
        faults=faults,
        seed=seed,
        name=f"{protocol}-{gateway_index}",
        record_transactions=record_transactions,
    )
