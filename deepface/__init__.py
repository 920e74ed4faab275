"""Batched, drop-in replacement for deepface: detection, representation, verification, search."""

__version__ = "0.1.0"
