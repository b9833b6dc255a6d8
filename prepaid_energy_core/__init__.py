"""Prepaid energy core: every computation of the prepaid-energy addons that needs no ORM.

Nothing in this package imports Odoo: the tariff engine, the wallet and
disconnection policies, reading validation, apportionment, meter protocol
codecs, transports, drivers, the meter simulator and the crypto envelope are
plain Python, tested without a database and reused by the command-line tools.
"""

__version__ = "18.0.1.0.0"
