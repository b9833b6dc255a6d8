"""Polling benchmark against the meter simulator with bus timing emulated.

(a) one bus of 32 Modbus RTU meters at 9600 baud, 20 ms turnaround, through
    the transparent TCP gateway: sweep time against the bus-physics floor of
    DESIGN section 5, summed over the transactions the driver really made;
(b) the same for DL/T 645 at 2400 baud;
(c) 320 buses x 32 meters with 2 % dead meters, one full cycle per protocol;
    the simulator runs in its own process (the second core).

    python bench/poll.py                      # everything, full size
    python bench/poll.py --buses 20 --meters 8 --only cycle
"""

import argparse
import cProfile
import json
import pstats
import subprocess
import sys
import time

from prepaid_energy_core.drivers.dlt645 import Dlt645Driver
from prepaid_energy_core.drivers.modbus import ModbusDriver
from prepaid_energy_core.poller import Bus, poll
from prepaid_energy_core.protocols.modbus import rtu_transaction_time
from prepaid_energy_core.simulator.server import SimulatorServer, make_gateway
from prepaid_energy_core.transports.tcp import TcpTransport

TURNAROUND = 0.02
SETUPS = {
    # protocol: (simulator protocol, baud, driver, request timeout, cycle target in s)
    "modbus": ("modbus-rtu", 9600, ModbusDriver, 0.3, 60),
    "dlt645": ("dlt645", 2400, Dlt645Driver, 0.6, 180),
}
SWEEP_TARGET = 1.2


def sweep(name, meters):
    """(a)/(b): one bus, in-process simulator recording every transaction."""
    protocol, baud, driver, timeout, _target = SETUPS[name]
    with SimulatorServer(tick_interval=None) as server:
        gateway = make_gateway(
            protocol, meters, baudrate=baud, turnaround=TURNAROUND, record_transactions=True
        )
        server.add_gateway(gateway)
        with TcpTransport(gateway.host, gateway.port, timeout=timeout) as transport:
            bus = Bus(transport, driver, gateway.addresses)
            started = time.monotonic()
            result = poll([bus], budget=3600, request_timeout=timeout)
            elapsed = time.monotonic() - started
    floor = sum(
        rtu_transaction_time(baud, request, reply, TURNAROUND)
        for request, reply in gateway.stats.transactions
    )
    print(
        f"{name} {baud} sweep: {elapsed:.2f} s, floor {floor:.2f} s, "
        f"ratio {elapsed / floor:.3f} (target <= {SWEEP_TARGET})"
        f"  [{meters} meters, {len(gateway.stats.transactions)} transactions, "
        f"{result.summary()}]",
        flush=True,
    )


def start_simulator(name, buses, meters, dead, seed):
    protocol, baud, *_ = SETUPS[name]
    command = [
        sys.executable,
        "-m",
        "prepaid_energy_core.simulator",
        "--gateways",
        str(buses),
        "--meters",
        str(meters),
        "--protocol",
        protocol,
        "--baud",
        str(baud),
        "--turnaround",
        str(TURNAROUND),
        "--seed",
        str(seed),
        "--tick",
        "5",
        "--json",
    ]
    if dead:
        command += ["--fault", f"dead={dead}"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    gateways = json.loads(process.stdout.readline())["gateways"]
    process.stdout.readline()  # "ready"
    return process, gateways


def cycle(name, buses, meters, dead, seed, profile=False):
    """(c): one full cycle of ``buses`` x ``meters``; the simulator in a subprocess."""
    _protocol, _baud, driver, timeout, target = SETUPS[name]
    process, gateways = start_simulator(name, buses, meters, dead, seed)
    try:
        bus_list = [
            Bus(TcpTransport(g["host"], g["port"], timeout=timeout), driver, g["addresses"])
            for g in gateways
        ]
        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        started = time.monotonic()
        result = poll(bus_list, budget=3600, request_timeout=timeout)
        elapsed = time.monotonic() - started
        if profiler:
            profiler.disable()
        for bus in bus_list:
            bus.transport.close()
    finally:
        process.terminate()
        process.wait(30)
    dead_meters = {(b.name, a) for b, g in zip(bus_list, gateways) for a in g["dead"]}
    timeouts = {key for key, e in result.errors.items() if e.kind == "timeout"}
    others = ", ".join(
        f"{kind} {count}"
        for kind, count in result.error_counts().items()
        if count and kind != "timeout"
    )
    total = buses * meters
    print(
        f"{name} cycle {total} meters: {elapsed:.1f} s (target <= {target} s)"
        f"  [{len(result.readings)} read, {len(dead_meters)} dead -> "
        f"{len(timeouts & dead_meters)} timeouts, {len(timeouts - dead_meters)} live meters "
        f"timed out, other errors: {others or 'none'}, {len(result.skipped)} skipped; "
        f"slowest bus {max(s.elapsed for s in result.buses):.1f} s]",
        flush=True,
    )
    if profiler:
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(25)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buses", type=int, default=320)
    parser.add_argument("--meters", type=int, default=32, help="meters per bus")
    parser.add_argument("--dead", type=float, default=0.02, help="share of dead meters")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--only", choices=["sweep", "cycle"], help="run only the sweeps or the cycles"
    )
    parser.add_argument("--protocol", choices=sorted(SETUPS), action="append")
    parser.add_argument("--profile", action="store_true", help="profile the poller side")
    args = parser.parse_args(argv)
    names = args.protocol or list(SETUPS)
    if args.only != "cycle":
        for name in names:
            sweep(name, args.meters)
    if args.only != "sweep":
        for name in names:
            cycle(name, args.buses, args.meters, args.dead, args.seed, args.profile)


if __name__ == "__main__":
    main()
