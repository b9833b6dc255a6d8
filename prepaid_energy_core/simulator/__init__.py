"""A meter simulator: prepaid meters behind gateways, over TCP and pseudo-terminals.

It behaves like the real thing where it matters to the poller and the command
queue: cumulative registers with TOU bands, relays that stop the energy,
meter-side credit with purchase counts, bus timing and injected faults.
"""

from .meter import SimMeter

__all__ = ["SimMeter"]
