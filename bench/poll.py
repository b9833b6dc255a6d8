"""Polling benchmark against the meter simulator with bus timing emulated.

(a) one bus of 32 Modbus RTU meters at 9600 baud, 20 ms turnaround, through
    the transparent TCP gateway: sweep time against the bus-physics floor of
    DESIGN section 5, summed over the transactions the simulator really served;
(b) the same for DL/T 645 at 2400 baud;
(c) 320 buses x 32 meters with 2 % dead meters, one full cycle per protocol.

The simulator always runs in its own process, so the figures measure the
poller, not a simulator starved by the poller's threads (one interpreter, one
GIL). It stands for the meters, which a busy server does not slow down, so
it runs at a higher priority when the system allows (``--simulator-nice``,
default -10; the output says what was applied) and without an energy ticker
(every read advances the meter it reads; a ticker walking 10,240 meters
would stall the simulator's loop, which real meters never do). With
``--busy N``, N spinning processes compete with the poller at its own
priority. A figure counts only when the work was complete (DESIGN section 6):
every live meter read, and each dead meter cost exactly one timeout. The
bench prints "target met" only then, otherwise "target NOT met" and why.

    python bench/poll.py                      # everything, full size
    python bench/poll.py --busy 2             # the same with both cores kept busy
    python bench/poll.py --buses 20 --meters 8 --only cycle
"""

import argparse
import cProfile
import json
import os
import pstats
import signal
import subprocess
import sys
import time

from prepaid_energy_core.drivers.dlt645 import Dlt645Driver
from prepaid_energy_core.drivers.modbus import ModbusDriver
from prepaid_energy_core.poller import ERROR_TIMEOUT, Bus, poll
from prepaid_energy_core.protocols.modbus import rtu_transaction_time
from prepaid_energy_core.transports.tcp import TcpTransport

TURNAROUND = 0.02
SETUPS = {
    # protocol: (simulator protocol, baud, driver, request timeout, cycle target in s)
    "modbus": ("modbus-rtu", 9600, ModbusDriver, 0.3, 60),
    "dlt645": ("dlt645", 2400, Dlt645Driver, 0.6, 180),
}
SWEEP_TARGET = 1.2
#: keeps one core busy until its parent (this bench) is gone, even if the bench is killed
SPIN = "import os\nparent = os.getppid()\nwhile os.getppid() == parent: pass"


# -- the simulator, in a process of its own --------------------------------------------------
def start_simulator(name, buses, meters, dead, seed, record=False, nice=0):
    """(process, gateway descriptions) of a simulator subprocess serving ``buses`` gateways."""
    protocol, baud, *_ = SETUPS[name]
    command = [
        sys.executable, "-m", "prepaid_energy_core.simulator",
        "--gateways", str(buses), "--meters", str(meters), "--protocol", protocol,
        "--baud", str(baud), "--turnaround", str(TURNAROUND), "--seed", str(seed),
        "--tick", "0", "--json", "--until-eof",
    ]  # fmt: skip
    if dead:
        command += ["--fault", f"dead={dead}"]
    if record:
        command += ["--record-transactions"]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    if nice:
        try:
            os.setpriority(os.PRIO_PROCESS, process.pid, nice)
        except OSError:  # raising a priority needs the privilege: run as it is
            pass
    gateways = json.loads(process.stdout.readline())["gateways"]
    process.stdout.readline()  # "ready"
    return process, gateways


def stop_simulator(process):
    """Stop the simulator; return the gateway statistics it prints at the end of its input."""
    process.stdin.close()  # end of input: the simulator prints its statistics and exits
    try:
        line = process.stdout.readline()
        process.wait(30)
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(30)
    return json.loads(line)["gateways"] if line.strip() else None


# -- what counts -------------------------------------------------------------------------------
def account(result, bus_list, gateways):
    """The honest figures of one poll: live meters read, dead meters' cost, errors."""
    dead = {(b.name, a) for b, g in zip(bus_list, gateways) for a in g["dead"]}
    every = {(b.name, a) for b in bus_list for a in b.addresses}
    live = every - dead
    live_read = live & set(result.readings)
    live_failed = {key: result.errors[key] for key in live if key in result.errors}
    retried = {key for key in live_failed if key in result.late_replies}
    dead_cost = {key: result.timeouts.get(key, 0) for key in dead}
    # a dead meter must show as a timeout: anything else means a stray was taken for it
    dead_wrong = {
        key for key in dead if getattr(result.errors.get(key), "kind", None) != ERROR_TIMEOUT
    }
    kinds = {}
    for error in result.errors.values():
        kinds[error.kind] = kinds.get(error.kind, 0) + 1
    return {
        "live": len(live),
        "live_read": len(live_read),
        "live_failed": live_failed,
        "live_timeouts": sum(n for key, n in result.timeouts.items() if key in live),
        "live_retried_failed": len(retried),
        "live_never_heard": sum(
            1
            for key, error in live_failed.items()
            if key not in retried and error.kind == ERROR_TIMEOUT
        ),
        "dead": len(dead),
        "dead_timeouts": sum(dead_cost.values()),
        "dead_not_one": sorted(key for key, n in dead_cost.items() if n != 1),
        "dead_wrong": sorted(dead_wrong),
        "late": len(result.late_replies),
        "retries": sum(stats.retries for stats in result.buses),
        "errors": kinds,
        "skipped": len(result.skipped),
    }


def verdict(figures, extra_reasons=()):
    """("target met" | "target NOT met: why", met?)."""
    reasons = list(extra_reasons)
    missing = figures["live"] - figures["live_read"]
    if missing:
        kinds = {}
        for error in figures["live_failed"].values():
            kinds[error.kind] = kinds.get(error.kind, 0) + 1
        detail = ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items()))
        detail += (
            f"; {figures['live_never_heard']} timed out with no late reply seen,"
            f" {figures['live_retried_failed']} retried after a late reply and failed again"
        )
        if figures["skipped"]:
            detail += f"{', ' if detail else ''}skipped {figures['skipped']}"
        reasons.append(f"{missing} live meters not read ({detail})")
    if figures["dead_not_one"]:
        reasons.append(f"{len(figures['dead_not_one'])} dead meters did not cost exactly 1 timeout")
    if figures["dead_wrong"]:
        reasons.append(f"{len(figures['dead_wrong'])} dead meters not reported as a timeout")
    if reasons:
        return "target NOT met: " + "; ".join(reasons), False
    return "target met", True


def describe(figures):
    errors = ", ".join(f"{k} {n}" for k, n in sorted(figures["errors"].items())) or "none"
    return (
        f"live meters read {figures['live_read']}/{figures['live']}"
        f" ({figures['live_timeouts']} timeouts on live meters, {figures['late']} late replies,"
        f" {figures['retries']} retries); dead meters {figures['dead']} ->"
        f" {figures['dead_timeouts']} timeouts; errors by kind: {errors};"
        f" protocol errors {figures['errors'].get('protocol', 0)}; skipped {figures['skipped']}"
    )


# -- (a), (b) ---------------------------------------------------------------------------------
def sweep(name, meters, nice):
    """One bus, every meter live: sweep time against the floor of what was served."""
    protocol, baud, driver, timeout, _target = SETUPS[name]
    process, gateways = start_simulator(name, 1, meters, 0, 1, record=True, nice=nice)
    try:
        gateway = gateways[0]
        with TcpTransport(gateway["host"], gateway["port"], timeout=timeout) as transport:
            bus = Bus(transport, driver, gateway["addresses"])
            started = time.monotonic()
            result = poll([bus], budget=3600, request_timeout=timeout)
            elapsed = time.monotonic() - started
    finally:
        stats = stop_simulator(process)
    transactions = stats[0]["transactions"] if stats else []
    floor = sum(
        rtu_transaction_time(baud, request, reply, TURNAROUND) for request, reply in transactions
    )
    figures = account(result, [bus], gateways)
    ratio = elapsed / floor if floor else float("inf")
    reasons = [] if ratio <= SWEEP_TARGET else [f"ratio {ratio:.3f} > {SWEEP_TARGET}"]
    if not floor:
        reasons.append("the simulator reported no transactions")
    text, _met = verdict(figures, reasons)
    print(
        f"{name} {baud} sweep: {elapsed:.2f} s, floor {floor:.2f} s, ratio {ratio:.3f}"
        f" (target <= {SWEEP_TARGET}): {text}\n"
        f"    [{meters} meters, {len(transactions)} transactions; {describe(figures)}]",
        flush=True,
    )


# -- (c) --------------------------------------------------------------------------------------
def cycle(name, buses, meters, dead, seed, nice, profile=False):
    """One full cycle of ``buses`` x ``meters``."""
    _protocol, _baud, driver, timeout, target = SETUPS[name]
    process, gateways = start_simulator(name, buses, meters, dead, seed, nice=nice)
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
        stop_simulator(process)
    figures = account(result, bus_list, gateways)
    reasons = [] if elapsed <= target else [f"{elapsed:.1f} s > {target} s"]
    text, _met = verdict(figures, reasons)
    print(
        f"{name} cycle {buses * meters} meters on {buses} buses: {elapsed:.1f} s"
        f" (target <= {target} s): {text}\n"
        f"    [{describe(figures)}; slowest bus {max(s.elapsed for s in result.buses):.1f} s]",
        flush=True,
    )
    if profiler:
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(25)


# -- a busy machine ---------------------------------------------------------------------------
def spin(count):
    """Start ``count`` processes that keep one core each busy (killed by stop_spinning)."""
    return [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(count)]


def stop_spinning(spinners):
    for spinner in spinners:
        spinner.kill()
    for spinner in spinners:
        spinner.wait(10)


def _niceness(wanted):
    """What the simulator's niceness will be, said plainly."""
    if not wanted:
        return "same priority as the poller"
    if wanted < 0 and os.geteuid() != 0:
        return f"same priority as the poller (niceness {wanted} needs privileges)"
    return f"niceness {wanted}"


def _exit_on_terminate(*_):
    sys.exit(1)  # SIGTERM: run the finally blocks that stop the spinners and the simulator


def main(argv=None):
    signal.signal(signal.SIGTERM, _exit_on_terminate)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buses", type=int, default=320)
    parser.add_argument("--meters", type=int, default=32, help="meters per bus")
    parser.add_argument("--dead", type=float, default=0.02, help="share of dead meters")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--only", choices=["sweep", "cycle"], help="run only the sweeps or the cycles"
    )
    parser.add_argument("--protocol", choices=sorted(SETUPS), action="append")
    parser.add_argument(
        "--busy", type=int, default=0, metavar="N", help="keep N cores busy while measuring"
    )
    parser.add_argument(
        "--simulator-nice",
        type=int,
        default=-10,
        help="scheduling niceness of the simulator process (default -10; 0: as the poller)",
    )
    parser.add_argument("--profile", action="store_true", help="profile the poller side")
    args = parser.parse_args(argv)
    names = args.protocol or list(SETUPS)
    spinners = spin(args.busy)
    try:
        load = f"{args.busy} spinning processes" if args.busy else "quiet"
        print(
            f"machine: {os.cpu_count()} cores, {load}, load average"
            f" {os.getloadavg()[0]:.2f}; simulator: own process, {_niceness(args.simulator_nice)}",
            flush=True,
        )
        if args.only != "cycle":
            for name in names:
                sweep(name, args.meters, args.simulator_nice)
        if args.only != "sweep":
            for name in names:
                cycle(
                    name, args.buses, args.meters, args.dead, args.seed, args.simulator_nice,
                    args.profile,
                )  # fmt: skip
    finally:
        stop_spinning(spinners)


if __name__ == "__main__":
    main()
