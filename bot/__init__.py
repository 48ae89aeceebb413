"""Tsunagari: a LINE bot for neighbourhood associations and the cities they serve."""

__version__ = "0.1.0"
