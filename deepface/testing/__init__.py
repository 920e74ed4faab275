"""Helpers for testing and benchmarking without downloads: random-weight models of the
real detector architectures (:mod:`deepface.testing.random_models`).

Not used by the library itself; the test suite and ``scripts/`` import it.
"""
