"""Meter drivers: one per protocol family, all speaking through a Transport."""
