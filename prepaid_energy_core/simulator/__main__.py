"""Run simulated gateways until Ctrl-C.

    python -m prepaid_energy_core.simulator --gateways 4 --meters 32 --protocol modbus-rtu \\
        --baud 9600 --turnaround 0.02 --fault dead=0.02 --fault crc=0.001
    python -m prepaid_energy_core.simulator --state meters.json --port-base 7000

``--state FILE`` serves exactly the meters a JSON file lists, with their
registers, load and relay (see :mod:`.state`); ``make run`` writes that file
from the demo database so the registers go on from the last stored reading.

Prints one line per gateway (endpoint, protocol, meter addresses), or with
``--json`` one JSON document on one line, then ``ready``. With
``--until-eof`` it stops when its standard input closes and then prints one
JSON line of what each gateway served (requests, replies, unanswered, late;
with ``--record-transactions`` the request and reply length of every
transaction): how a benchmark running it as a subprocess gets the figures.
"""

import argparse
import json
import signal
import sys
import threading
from decimal import Decimal, InvalidOperation

from ..errors import ValidationError
from .faults import FaultPlan
from .server import DEFAULT_TURNAROUND, LOCALHOST, PROTOCOLS, SimulatorServer, make_gateway
from .state import load_state
from .state import make_gateway as state_gateway


def build_parser():
    parser = argparse.ArgumentParser(
        prog="prepaid-simulator",
        description="Simulated prepaid meters behind gateways (TCP on 127.0.0.1 or pty).",
    )
    parser.add_argument("--gateways", type=int, default=None, help="number of buses (default 1)")
    parser.add_argument("--meters", type=int, default=None, help="meters per bus (default 4)")
    parser.add_argument(
        "--state",
        metavar="FILE",
        help="JSON list of meters with their registers and relay: serve exactly those "
        "(instead of --gateways/--meters; see simulator/state.py)",
    )
    parser.add_argument("--protocol", choices=sorted(PROTOCOLS), default="modbus-rtu")
    parser.add_argument("--baud", type=int, default=None, help="emulate this baud rate")
    parser.add_argument(
        "--turnaround",
        type=float,
        default=DEFAULT_TURNAROUND,
        help="meter response delay in seconds with --baud (default 0.02)",
    )
    parser.add_argument("--pty", action="store_true", help="serve pseudo-terminals, not TCP")
    parser.add_argument(
        "--host", default=LOCALHOST, help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port-base", type=int, default=0, help="gateway i listens on P+i (default: ephemeral)"
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="KIND=TRIGGER[:PARAM][@METER]",
        help="inject faults, e.g. dead=0.02, crc=every:50, restart=0.001:2 (repeatable)",
    )
    parser.add_argument("--seed", type=int, default=0, help="fault seed (gateway i uses seed+i)")
    parser.add_argument("--load-kw", default="1.5", help="constant load of every meter in kW")
    parser.add_argument(
        "--time-factor", type=float, default=1.0, help="simulated seconds per real second"
    )
    parser.add_argument(
        "--tick", type=float, default=1.0, help="seconds between energy updates (default 1)"
    )
    parser.add_argument("--json", action="store_true", help="print the endpoints as JSON")
    parser.add_argument(
        "--until-eof",
        action="store_true",
        help="stop when standard input closes, then print the gateways' statistics as JSON",
    )
    parser.add_argument(
        "--record-transactions",
        action="store_true",
        help="keep the request and reply length of every transaction (for --until-eof)",
    )
    return parser


def start(args):
    """Start a SimulatorServer serving the gateways ``args`` describe."""
    if args.pty and args.protocol == "modbus-tcp":
        raise ValidationError("modbus-tcp runs over TCP only; drop --pty")
    load_kw = _decimal(args.load_kw)
    if args.state:
        if args.gateways is not None or args.meters is not None:
            raise ValidationError("--state names the meters: drop --gateways and --meters")
        states = load_state(args.state, args.protocol, load_kw)
        if args.pty and any(s.protocol == "modbus-tcp" for s in states):
            raise ValidationError("modbus-tcp runs over TCP only; drop --pty")
        count = len(states)
    else:
        count = 1 if args.gateways is None else args.gateways
        meters = 4 if args.meters is None else args.meters
        if count < 1:
            raise ValidationError("--gateways must be at least 1")
    plan = FaultPlan.parse(args.fault)
    server = SimulatorServer(
        host=args.host, tick_interval=args.tick or None, time_factor=args.time_factor
    )
    server.start()
    try:
        for index in range(count):
            options = {
                "baudrate": args.baud,
                "turnaround": args.turnaround,
                "faults": plan.copy(args.seed + index),
                "record_transactions": args.record_transactions,
            }
            if args.state:
                gateway = state_gateway(states[index], **options)
            else:
                gateway = make_gateway(
                    args.protocol, meters, gateway_index=index, load_kw=load_kw, **options
                )
            port = args.port_base + index if args.port_base else 0
            server.add_gateway(gateway, "pty" if args.pty else "tcp", port)
    except Exception:
        server.stop()
        raise
    return server


def describe(server):
    """One dict per gateway: endpoint, protocol, addresses, injected meter faults."""
    return [
        {
            "name": gateway.name,
            "transport": gateway.kind,
            "endpoint": gateway.endpoint,
            "host": gateway.host,
            "port": gateway.port,
            "pty": gateway.pty_path,
            "protocol": gateway.protocol,
            "baudrate": gateway.baudrate,
            "addresses": gateway.addresses,
            "dead": [a for a, kinds in gateway.meter_faults.items() if "dead" in kinds],
        }
        for gateway in server.gateways
    ]


def statistics(server):
    """What each gateway served, as a JSON-ready list."""
    return [
        {
            "name": gateway.name,
            "requests": gateway.stats.requests,
            "replies": gateway.stats.replies,
            "unanswered": gateway.stats.unanswered,
            "late": gateway.stats.late,
            "transactions": gateway.stats.transactions,
        }
        for gateway in server.gateways
    ]


def _stop_at_eof(stop):
    """Set ``stop`` once standard input is closed (a parent process is done with us)."""

    def wait():
        for _line in sys.stdin:
            pass
        stop.set()

    threading.Thread(target=wait, name="stdin-eof", daemon=True).start()


def _decimal(text):
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValidationError(f"--load-kw must be a number, got {text!r}") from None


def _print_endpoints(server, as_json):
    gateways = describe(server)
    if as_json:
        print(json.dumps({"gateways": gateways}))
    else:
        for gateway in gateways:
            addresses = gateway["addresses"]
            dead = f", dead {', '.join(gateway['dead'])}" if gateway["dead"] else ""
            served = f"meters {addresses[0]}..{addresses[-1]}" if addresses else "no meter"
            print(
                f"{gateway['name']}: {gateway['transport']} {gateway['endpoint']} "
                f"{gateway['protocol']} {served} ({len(addresses)}){dead}"
            )
    print("ready", flush=True)


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        server = start(args)
    except (ValidationError, OSError) as exc:  # bad option, port taken, no pty left
        print(f"prepaid-simulator: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if args.until_eof:
        _stop_at_eof(stop)
    try:
        _print_endpoints(server, args.json)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    if args.until_eof:
        print(json.dumps({"gateways": statistics(server)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
