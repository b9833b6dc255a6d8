"""The layer order of the core: the one place that says which module may import which.

Layers are listed from the bottom up. A module may import modules of its own
layer and of the layers below it, never of a layer above (tests/test_layers.py
reads every module's imports and checks it). An entry names a module
(``"money"``) or a package (``"protocols"``: the package and everything in it).

A new module goes into the lowest layer that holds everything it imports;
the test fails, naming this file, for a module listed nowhere.
"""

LAYERS = (
    # the words: band names, relay actions, ledger kinds... import nothing of the project
    ("vocabulary", ("__init__", "layers", "vocabulary")),
    # errors and exact money arithmetic
    ("foundations", ("errors", "money")),
    # report files built from plain rows (XLSX)
    ("report builders", ("xlsx", "xlsx_export")),
    # one rule each: calendars, invoicing periods, reading validation, wallet levels,
    # apportionment, crypto, what a remote command is and how it is verified, fee schemes,
    # line losses, cashier shifts, report arithmetic, tenant self-service (portal
    # projections, rate limits, notification rules)
    (
        "domain rules",
        (
            "calendar",
            "periods",
            "readings",
            "wallet",
            "apportion",
            "crypto",
            "commands",
            "selfservice",
            "fees",
            "losses",
            "shifts",
            "reports",
        ),
    ),
    # what combines rules: the tariff engine and its input (ingestion), the disconnection
    # policy and its schedules, the demo site's deterministic data
    ("domain engines", ("tariff", "ingestion", "policy", "supply", "demo")),
    # meter protocol codecs: bytes <-> frames and values, no I/O
    ("protocols", ("protocols",)),
    # links to the buses, and the Modbus register maps (codec-level descriptions)
    ("links and maps", ("transports", "register_maps")),
    # one driver per protocol family, over a transport
    ("drivers", ("drivers",)),
    # many meters on many buses in one cycle
    ("poller", ("poller",)),
    # a head-end's gateways and buses: settings into transports and drivers, a read cycle
    ("head-end", ("fieldbus",)),
    # simulated meters and gateways (speak the protocols, serve the maps)
    ("simulator", ("simulator",)),
    # the technician's command line
    ("command line", ("cli",)),
)


def layer_of(module):
    """Index in LAYERS of ``module`` (dotted, relative to the package, e.g.
    ``"protocols.dlt645"``), or None if no layer lists it."""
    best = None
    for index, (_name, entries) in enumerate(LAYERS):
        for entry in entries:
            if module == entry or module.startswith(entry + "."):
                if best is None or len(entry) > best[1]:
                    best = (index, len(entry))
    return None if best is None else best[0]
