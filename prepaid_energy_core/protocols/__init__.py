"""Meter protocol codecs: bytes on the wire to and from Python values, no I/O."""
