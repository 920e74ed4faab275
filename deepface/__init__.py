"""Batched, drop-in replacement for deepface's face detection pipeline."""

__version__ = "0.1.0"
