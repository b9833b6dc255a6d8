"""Helpers shared by the addon's models and wizards (no models here)."""

from . import bulk
