"""Faces made ready for a model: resized with black padding, then normalised (deepface's
``modules.preprocessing``, with the same arithmetic, so embeddings match deepface's)."""

from typing import Any, Dict, Tuple

import cv2
import numpy as np
from numpy.typing import NDArray

from deepface.options import verbs
from deepface.options.verbs import NORMALIZATIONS  # noqa: F401 (written once, in the options table)

#: Per-channel means (BGR order) subtracted by the mean-subtraction normalizations.
CHANNEL_MEANS: Dict[str, Tuple[float, float, float]] = {
    "VGGFace": (93.5940, 104.7624, 129.1863),
    "VGGFace2": (91.4953, 103.8827, 131.0912),
}


def check_normalization(normalization: str) -> None:
    """Raise a clear error for a normalization deepface does not know."""
    verbs.normalization("normalization", normalization)


def resize_image(img: NDArray[Any], target_size: Tuple[int, int]) -> NDArray[Any]:
    """Fit ``img`` into ``target_size`` ``(height, width)``: scale it to fit, pad the rest
    with black evenly on both sides, and return it as a ``(1, height, width, C)`` float32
    batch, divided by 255 when its maximum is above 1."""
    height, width = target_size
    factor = min(height / img.shape[0], width / img.shape[1])
    # At least one pixel each way: a very long, thin face would otherwise round to 0.
    new_width, new_height = max(1, int(img.shape[1] * factor)), max(1, int(img.shape[0] * factor))
    resized = cv2.resize(img, (new_width, new_height))
    pad_y, pad_x = height - resized.shape[0], width - resized.shape[1]
    padding = [(pad_y // 2, pad_y - pad_y // 2), (pad_x // 2, pad_x - pad_x // 2)]
    padding += [(0, 0)] * (resized.ndim - 2)
    padded = np.pad(resized, padding, "constant")
    if padded.shape[0:2] != (height, width):
        padded = cv2.resize(padded, (width, height))
    batch = np.asarray(padded, dtype=np.float32)[np.newaxis]
    if batch.max() > 1:
        batch = (batch / 255.0).astype(np.float32)
    return batch


def normalize_input(img: NDArray[Any], normalization: str = "base") -> NDArray[Any]:
    """Apply one of deepface's input normalizations to a face in ``[0, 1]``.

    ``base`` returns it unchanged; the others first restore the ``[0, 255]`` scale
    (in place, as deepface does) and then: ``raw`` nothing more; ``Facenet`` per-image
    standardisation; ``Facenet2018`` ``x / 127.5 - 1``; ``VGGFace`` / ``VGGFace2`` per-channel
    mean subtraction; ``ArcFace`` ``(x - 127.5) / 128``.
    """
    check_normalization(normalization)
    if normalization == "base":
        return img
    img *= 255
    if normalization == "Facenet":
        mean, std = img.mean(), img.std()
        std = max(std, 1 / img.size**0.5)
        img = (img - mean) / std
    elif normalization == "Facenet2018":
        img /= 127.5
        img -= 1
    elif normalization in CHANNEL_MEANS:
        for channel, mean in enumerate(CHANNEL_MEANS[normalization]):
            img[..., channel] -= mean
    elif normalization == "ArcFace":
        img -= 127.5
        img /= 128
    return img
