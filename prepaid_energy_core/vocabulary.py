"""The project's words: the ground floor of the core, importing nothing of it.

Every layer above (money, readings, tariff, protocols, drivers, the Odoo
addons) takes its band names, relay actions, ledger kinds, reading sources,
utilities and states from here, so one value has one spelling everywhere.
Each ``*_LABELS`` tuple is ``(value, English label)`` pairs in display order:
the addons build their selection fields from them.
"""

# --------------------------------------------------------------------------- utilities

ELECTRICITY = "electricity"
WATER = "water"
UTILITIES = (ELECTRICITY, WATER)
UTILITY_LABELS = ((ELECTRICITY, "Electricity"), (WATER, "Water"))
#: the unit each utility's registers count in
UTILITY_UNITS = {ELECTRICITY: "kWh", WATER: "m³"}

# --------------------------------------------------------------------------- registers

#: the cumulative register of all energy (or volume), whatever the band
TOTAL = "total"
SHARP = "sharp"
PEAK = "peak"
FLAT = "flat"
VALLEY = "valley"
#: time-of-use band names, in the order meters number them (1..4)
TOU_BANDS = (SHARP, PEAK, FLAT, VALLEY)
BAND_LABELS = ((SHARP, "Sharp"), (PEAK, "Peak"), (FLAT, "Flat"), (VALLEY, "Valley"))
#: every register a reading may carry
REGISTERS = (TOTAL, *TOU_BANDS)

# --------------------------------------------------------------------------- readings

SOURCE_MANUAL = "manual"
SOURCE_IMPORT = "import"
SOURCE_HARDWARE = "hardware"
SOURCE_REPLACEMENT = "replacement"
READING_SOURCES = (SOURCE_MANUAL, SOURCE_IMPORT, SOURCE_HARDWARE, SOURCE_REPLACEMENT)
READING_SOURCE_LABELS = (
    (SOURCE_MANUAL, "Manual"),
    (SOURCE_IMPORT, "Import"),
    (SOURCE_HARDWARE, "Hardware"),
    (SOURCE_REPLACEMENT, "Meter replacement"),
)

# --------------------------------------------------------------------------- relays

RELAY_TRIP = "trip"
RELAY_CLOSE_ALLOWED = "close_allowed"  # the tenant closes it with the meter's button
RELAY_CLOSE = "close"  # direct close
RELAY_KEEP_POWER_ON = "keep_power_on"
RELAY_KEEP_POWER_OFF = "keep_power_off"
RELAY_ACTIONS = (
    RELAY_TRIP,
    RELAY_CLOSE_ALLOWED,
    RELAY_CLOSE,
    RELAY_KEEP_POWER_ON,
    RELAY_KEEP_POWER_OFF,
)
#: why a relay is open, where more than the policy needs to say it: overdue fees (a
#: recharge does not bring that supply back)
OPEN_FEES = "fees"
RELAY_ACTION_LABELS = (
    (RELAY_TRIP, "Trip"),
    (RELAY_CLOSE_ALLOWED, "Allow close"),
    (RELAY_CLOSE, "Close"),
    (RELAY_KEEP_POWER_ON, "Keep power on"),
    (RELAY_KEEP_POWER_OFF, "Keep power off"),
)

# --------------------------------------------------------------------------- ledger

OPENING = "opening"
RECHARGE = "recharge"
REFUND = "refund"
REVERSAL = "reversal"
CONSUMPTION = "consumption"
FEE = "fee"
ADJUSTMENT = "adjustment"
TRANSFER_IN = "transfer_in"
TRANSFER_OUT = "transfer_out"
LEDGER_KIND_LABELS = (
    (OPENING, "Opening balance"),
    (RECHARGE, "Recharge"),
    (REFUND, "Refund"),
    (REVERSAL, "Reversal"),
    (CONSUMPTION, "Consumption"),
    (FEE, "Fee"),
    (ADJUSTMENT, "Adjustment"),
    (TRANSFER_IN, "Transfer in"),
    (TRANSFER_OUT, "Transfer out"),
)
LEDGER_KINDS = tuple(kind for kind, _label in LEDGER_KIND_LABELS)
#: sign each ledger kind may carry: +1 credit, -1 debit, 0 either sign
KIND_SIGNS = {
    RECHARGE: 1,
    TRANSFER_IN: 1,
    REFUND: -1,
    CONSUMPTION: -1,
    FEE: -1,
    TRANSFER_OUT: -1,
    ADJUSTMENT: 0,
    REVERSAL: 0,
    OPENING: 0,
}
#: kinds billed on the period invoice
INVOICED_KINDS = (CONSUMPTION, FEE)

# --------------------------------------------------------------------------- wallet levels

NORMAL = "normal"
ALARM1 = "alarm1"
ALARM2 = "alarm2"
ARREARS = "arrears"
#: alarm levels from the shallowest to the deepest
LEVELS = (NORMAL, ALARM1, ALARM2, ARREARS)
LEVEL_LABELS = ((NORMAL, "Normal"), (ALARM1, "Alarm 1"), (ALARM2, "Alarm 2"), (ARREARS, "Arrears"))

# --------------------------------------------------------------------------- meter states

NOT_OPENED = "not_opened"
TRIPPED = "tripped"
OFFLINE = "offline"
METER_STATE_LABELS = (
    (NOT_OPENED, "Not opened"),
    *LEVEL_LABELS,
    (TRIPPED, "Tripped"),
    (OFFLINE, "Offline"),
)


def default_tou_band(when):
    """The band a meter's own clock puts ``when`` (its local time) in, by default: a common
    Chinese commercial schedule, sharp 19-21, peak 8-11 and 17-19, valley 23-7, flat
    otherwise, every day. The simulator's meters and the demo's register series share it."""
    hour = when.hour
    if 19 <= hour < 21:
        return SHARP
    if 8 <= hour < 11 or 17 <= hour < 19:
        return PEAK
    if hour >= 23 or hour < 7:
        return VALLEY
    return FLAT
