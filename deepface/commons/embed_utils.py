"""Telling one embedding from a list of embeddings."""

from typing import Any


def is_flat_embedding(x: Any) -> bool:
    """True when ``x`` is one embedding: a list whose items are all Python ints or floats.

    A list of lists (or of arrays), and anything that is not a list, is not flat; an
    empty list is.
    """
    return isinstance(x, list) and all(isinstance(item, (int, float)) for item in x)
