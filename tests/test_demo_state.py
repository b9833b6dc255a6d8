"""scripts/demo_state.py's export: what it writes, the simulator's --state loads.

The rows are what its query returns from the demo database (checked against a
real database by `make run`); here the contract between the two ends.
"""

import importlib.util
import pathlib
from decimal import Decimal

import pytest

from prepaid_energy_core.simulator.state import parse_state

SCRIPT = pathlib.Path(__file__).resolve().parent.parent / "scripts" / "demo_state.py"
spec = importlib.util.spec_from_file_location("demo_state", SCRIPT)
demo_state = importlib.util.module_from_spec(spec)
spec.loader.exec_module(demo_state)

D = Decimal


def row(gateway_id, port, meter_id, address, total, bands=None, **more):
    """One row as QUERY selects it."""
    values = {
        "protocol": "dlt645",
        "register_map": None,
        "utility": "electricity",
        "relay_state": "closed",
        "balance": D("0"),
        "purchase_count": 0,
    }
    values.update(more)
    return (
        gateway_id,
        f"GW {gateway_id}",
        port,
        values["protocol"],
        values["register_map"],
        meter_id,
        f"SN-{meter_id}",
        address,
        values["utility"],
        values["relay_state"],
        values["balance"],
        values["purchase_count"],
        total,
        bands is not None,
        *(bands or (None, None, None, None)),
    )


def test_export_loads_in_the_simulator_with_the_same_registers():
    bands = (D("1.0000"), D("2.5000"), D("3.0000"), D("4.2500"))
    rows = [
        row(5, 7000, 11, "000000000001", D("10.7500"), bands),
        row(5, 7000, 12, "000000000002", D("99.1000"), relay_state="open"),
        row(6, 7001, 13, "000001000001", D("1E+2"), utility="water", purchase_count=3),
    ]
    entries, base = demo_state.export(rows)
    assert base == 7000
    assert [(e["gateway"], e["address"], e["total"]) for e in entries] == [
        (0, "000000000001", "10.75"),
        (0, "000000000002", "99.1"),
        (1, "000001000001", "100"),
    ]
    first, second = parse_state(entries)
    meter = first.meters["000000000001"]
    assert meter.total == D("10.75")
    assert meter.bands == {"sharp": D(1), "peak": D("2.5"), "flat": D(3), "valley": D("4.25")}
    assert first.meters["000000000002"].relay_closed is False
    water = second.meters["000001000001"]
    assert (water.load_kw, water.purchase_count) == (D("0.02"), 3)


def test_the_port_base_places_the_gateways():
    rows = [row(1, 7001, 1, "000000000001", D(1)), row(2, 7003, 2, "000000000002", D(2))]
    entries, _base = demo_state.export(rows, port_base=7000)
    assert [e["gateway"] for e in entries] == [1, 3]
    with pytest.raises(ValueError, match="outside 7002"):
        demo_state.export(rows, port_base=7002)
    with pytest.raises(ValueError, match="two gateways on port 7001"):
        demo_state.export([rows[0], row(9, 7001, 3, "000000000003", D(3))])
