"""Embedding normalizations, written once: min-max to [0, 1] with each model's range, and L2
to unit length.

:func:`minmax_scaled` and :func:`l2_scaled` work on one float64 vector (``represent`` uses
them); deepface's :func:`normalize_embedding_minmax` and :func:`normalize_embedding_l2` take
one embedding (a flat list of numbers) or several (a list of lists) and return the same
shape as lists of Python floats, as deepface does.
"""

from typing import Any, List, Union

import numpy as np
from numpy.typing import NDArray

from deepface.commons.embed_utils import is_flat_embedding
from deepface.config.minmax import get_minmax_values

Embeddings = Union[List[float], List[List[float]]]


def minmax_scaled(vector: NDArray[np.float64], model_name: str) -> NDArray[np.float64]:
    """Clamp to ``model_name``'s range (``deepface.config.minmax``), then map it linearly
    onto [0, 1]; ``vector`` itself for a model without a known range."""
    low, high = get_minmax_values(model_name)
    if high - low == 0:
        return vector
    return (np.clip(vector, low, high) - low) / (high - low)


def l2_scaled(vector: NDArray[np.float64]) -> NDArray[np.float64]:
    """``vector`` divided by its L2 norm; ``vector`` itself when the norm is 0."""
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def normalize_embedding_minmax(model_name: str, embeddings: Embeddings) -> Embeddings:
    """Min-max normalize with ``model_name``'s range (``deepface.config.minmax``).

    Values outside the range are clamped first, so every result lies in [0, 1]. A model
    without a known range leaves ``embeddings`` as given.
    """
    low, high = get_minmax_values(model_name)
    if high - low == 0:
        return embeddings
    if is_flat_embedding(embeddings):
        return _as_floats(embeddings, lambda vector: minmax_scaled(vector, model_name))
    return [_as_floats(row, lambda vector: minmax_scaled(vector, model_name)) for row in embeddings]


def normalize_embedding_l2(embeddings: Embeddings) -> Embeddings:
    """Scale each embedding to unit L2 norm (zero vectors stay as they are)."""
    if is_flat_embedding(embeddings):
        return _as_floats(embeddings, l2_scaled)
    return [_as_floats(row, l2_scaled) for row in embeddings]


def _as_floats(row: Any, scale: Any) -> Any:
    """``scale`` applied to ``row`` (float64 for integers, a float row's own precision
    otherwise, as deepface's arithmetic gives), as a list of Python floats; ``row`` as
    given where ``scale`` leaves it unchanged."""
    vector = np.asarray(row)
    if not np.issubdtype(vector.dtype, np.floating):
        vector = vector.astype(np.float64)
    scaled = scale(vector)
    return row if scaled is vector else scaled.tolist()
