"""Write the simulator's --state file from an Odoo database (`make run` calls it).

    python scripts/demo_state.py prepaid_demo --out .tmp/demo/state.json [--port-base 7000]
        [--db_host H] [--db_port P] [--db_user U] [--db_password W]

One entry per active meter on an active TCP gateway with a bus address: the
gateway's index (its port minus the port base, so gateway i is the one the
simulator serves on port base + i), the bus address, the registers of the
meter's last stored reading (total and, when it had them, the bands), the
relay as Odoo last saw it, and for DL/T 645 the meter's credit. Registers so
go on from what Odoo stored: a restart never shows a meter going backwards.

It reads the tables with psycopg2 (Odoo's interpreter has it); the database
options are Odoo's own (ODOO_DB_ARGS), libpq's PG* variables otherwise.
Exit 0: file written; 3: no meter to simulate; 2: anything else.
"""

import argparse
import json
import os
import sys
from decimal import Decimal

BANDS = ("sharp", "peak", "flat", "valley")
#: a plausible constant draw, varied per meter so the room board is not uniform
ELECTRIC_LOADS_KW = ("0.35", "0.6", "0.8", "1.1", "1.4", "0.25", "0.9", "1.7", "0.5")
WATER_LOAD = "0.02"  # m³ per hour: a tap now and then
MAX_GATEWAYS = 32

QUERY = """
SELECT g.id, g.name, g.port, g.protocol, p.register_map, m.id, m.serial, m.bus_address, m.utility,
       m.relay_state, m.meter_balance, m.meter_purchase_count,
       r.total, r.has_bands, r.sharp, r.peak, r.flat, r.valley
  FROM prepaid_meter m
  JOIN prepaid_gateway g ON g.id = m.gateway_id
  LEFT JOIN prepaid_meter_profile p ON p.id = COALESCE(m.profile_id, g.default_profile_id)
  LEFT JOIN LATERAL (
        SELECT total, has_bands, sharp, peak, flat, valley
          FROM prepaid_reading
         WHERE meter_id = m.id
         ORDER BY id = m.last_reading_id DESC NULLS LAST, timestamp DESC, id DESC
         LIMIT 1) r ON TRUE
 WHERE m.active AND g.active AND g.transport IN ('tcp', 'modbus_tcp')
   AND g.port IS NOT NULL AND COALESCE(m.bus_address, '') <> ''
 ORDER BY g.port, g.id, m.id
"""


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database")
    parser.add_argument("--out", required=True, help="the JSON file to write")
    parser.add_argument(
        "--port-base", type=int, default=None, help="port of gateway 0 (default: lowest port)"
    )
    parser.add_argument("--db_host")
    parser.add_argument("--db_port")
    parser.add_argument("--db_user")
    parser.add_argument("--db_password")
    return parser


def register(value):
    """A stored register as exact text (numeric columns come as Decimal)."""
    return format(Decimal(str(value or 0)).normalize(), "f")


def export(rows, port_base=None):
    """The state entries for ``rows`` of QUERY, and the port base used."""
    if port_base is None:
        port_base = min((row[2] for row in rows), default=0)
    entries = []
    seen_ports = {}
    for row in rows:
        gateway_id, gateway_name, port, protocol, register_map, meter_id, serial = row[:7]
        address, utility, relay_state, balance, purchase_count = row[7:12]
        total, has_bands, *bands = row[12:]
        if seen_ports.setdefault(port, gateway_id) != gateway_id:
            raise ValueError(f"two gateways on port {port}: the simulator serves one per port")
        index = port - port_base
        if not 0 <= index < MAX_GATEWAYS:
            raise ValueError(
                f"gateway {gateway_name} is on port {port}, outside {port_base}.."
                f"{port_base + MAX_GATEWAYS - 1} (port base {port_base})"
            )
        entry = {
            "gateway": index,
            "address": address.strip(),
            "protocol": protocol,
            "serial": serial,
            "utility": utility,
            "total": register(total),
            "load_kw": (
                WATER_LOAD
                if utility == "water"
                else ELECTRIC_LOADS_KW[meter_id % len(ELECTRIC_LOADS_KW)]
            ),
            "relay_closed": relay_state != "open",
        }
        if has_bands:
            entry["bands"] = {band: register(value) for band, value in zip(BANDS, bands)}
        if protocol == "dlt645":
            entry["balance"] = register(balance)
            entry["purchase_count"] = purchase_count or 0
        elif register_map:
            entry["register_map"] = register_map
        entries.append(entry)
    return entries, port_base


def main(argv=None):
    import psycopg2  # Odoo's interpreter has it; export() alone does not need it

    args, _other_odoo_options = build_parser().parse_known_args(argv)
    connect = {"dbname": args.database}
    for option in ("host", "port", "user", "password"):
        value = getattr(args, f"db_{option}")
        if value:
            connect[option] = value
    try:
        with psycopg2.connect(**connect) as connection, connection.cursor() as cursor:
            cursor.execute(QUERY)
            rows = cursor.fetchall()
        connection.close()
        entries, port_base = export(rows, args.port_base)
    except (psycopg2.Error, ValueError) as exc:
        print(f"demo_state: {args.database}: {str(exc).strip()}", file=sys.stderr)
        return 2
    if not entries:
        print(f"demo_state: {args.database} has no meter on a TCP gateway", file=sys.stderr)
        return 3
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    partial = f"{args.out}.partial"
    with open(partial, "w", encoding="utf-8") as handle:
        json.dump(entries, handle, indent=1)
        handle.write("\n")
    os.replace(partial, args.out)  # the simulator never reads half a file
    gateways = len({entry["gateway"] for entry in entries})
    print(
        f"demo_state: {len(entries)} meters on {gateways} gateways from port {port_base}"
        f" -> {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
