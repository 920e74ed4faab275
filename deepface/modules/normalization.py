"""Embedding normalizations: min-max to [0, 1] with each model's range, and L2 to unit length.

Both take one embedding (a flat list of numbers) or several (a list of lists) and return
the same shape as lists of Python floats, as deepface does.
"""

from typing import Any, List, Sequence, Union

import numpy as np

from deepface.commons.embed_utils import is_flat_embedding
from deepface.config.minmax import get_minmax_values

Embeddings = Union[List[float], List[List[float]]]


def _minmax_row(row: Sequence[Any], low: float, high: float) -> List[float]:
    """Clamp each value to [low, high], then map it linearly onto [0, 1]."""
    span = high - low
    return [(min(max(value, low), high) - low) / span for value in row]


def normalize_embedding_minmax(model_name: str, embeddings: Embeddings) -> Embeddings:
    """Min-max normalize with ``model_name``'s range (``deepface.config.minmax``).

    Values outside the range are clamped first, so every result lies in [0, 1]. A model
    without a known range leaves ``embeddings`` as given.
    """
    low, high = get_minmax_values(model_name)
    if high - low == 0:
        return embeddings
    if is_flat_embedding(embeddings):
        return _minmax_row(embeddings, low, high)
    return [_minmax_row(row, low, high) for row in embeddings]


def _l2_row(row: Any) -> Any:
    """``row`` divided by its L2 norm, as a list; a zero vector is returned as given."""
    norm = float(np.linalg.norm(row))
    if norm > 0:
        return (np.array(row) / norm).tolist()
    return row


def normalize_embedding_l2(embeddings: Embeddings) -> Embeddings:
    """Scale each embedding to unit L2 norm (zero vectors stay as they are)."""
    if is_flat_embedding(embeddings):
        return _l2_row(embeddings)
    return [_l2_row(row) for row in embeddings]
