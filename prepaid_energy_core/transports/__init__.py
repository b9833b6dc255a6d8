"""Byte transports to meters: serial ports, raw TCP gateways, Modbus TCP."""

from .base import Transport

__all__ = ["Transport"]
