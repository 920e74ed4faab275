"""The face crops the anti-spoofing networks see, and their softmax.

Each network looks at the face's box enlarged ``scale`` times about its centre, shifted
back inside the image (and shrunk to fit it if need be), cut out and resized to 80x80.
The arithmetic follows deepface (Silent-Face-Anti-Spoofing's box) step for step, so the
pixel bounds, truncated towards zero, are the same.
"""

from typing import Any, Sequence, Tuple, Union

import cv2
import numpy as np
from numpy.typing import NDArray

from deepface.commons.exceptions import DataTypeError

Number = Union[int, float]
Box = Sequence[Number]  # (x, y, w, h)


def _span(start: Number, length: Number, scale: Number, size: int) -> Tuple[int, int]:
    """First and last pixel (inclusive) along one axis of an image ``size`` pixels long:
    ``length * scale`` about the box's centre, shifted to start at 0 and end at ``size - 1``
    at the latest."""
    extent = length * scale
    centre = length / 2 + start
    low, high = centre - extent / 2, centre + extent / 2
    if low < 0:
        high -= low
        low = 0
    if high > size - 1:
        low -= high - size + 1
        high = size - 1
    return int(low), int(high)


def check_box(facial_area: Box) -> Tuple[Number, Number, Number, Number]:
    """``(x, y, w, h)`` of a facial area, with a positive width and height.

    Raises:
        DataTypeError: not four numbers, or an empty box.
    """
    if len(facial_area) != 4:
        raise DataTypeError(f"a facial area is (x, y, w, h), not {facial_area!r}")
    x, y, w, h = facial_area
    if not (w > 0 and h > 0):
        raise DataTypeError(f"a facial area needs a positive width and height, not {facial_area!r}")
    return x, y, w, h


def crop_box(src_w: int, src_h: int, facial_area: Box, scale: Number) -> Tuple[int, int, int, int]:
    """The enlarged box as inclusive pixel bounds ``(left, top, right, bottom)``.

    The scale is capped so the box fits the image (``(size - 1) / box side`` on either axis).
    """
    x, y, w, h = check_box(facial_area)
    scale = min((src_h - 1) / h, (src_w - 1) / w, scale)
    left, right = _span(x, w, scale, src_w)
    top, bottom = _span(y, h, scale, src_h)
    return left, top, right, bottom


def check_image(img: Any) -> NDArray[Any]:
    """``img`` as an ``(H, W, 3)`` array with pixels.

    Raises:
        DataTypeError: anything else.
    """
    array = np.asarray(img)
    if array.ndim != 3 or array.shape[2] != 3 or array.shape[0] == 0 or array.shape[1] == 0:
        raise DataTypeError(f"anti-spoofing takes an (H, W, 3) image, not one shaped {array.shape}")
    return array


def crop(
    img: NDArray[Any], facial_area: Box, scale: Number, out_w: int = 80, out_h: int = 80
) -> NDArray[Any]:
    """The face of ``img`` (BGR, ``(H, W, 3)``) at ``facial_area`` ``(x, y, w, h)``,
    enlarged ``scale`` times (see :func:`crop_box`) and resized to ``out_w`` x ``out_h``
    (OpenCV's bilinear default); same dtype as ``img``."""
    img = check_image(img)
    src_h, src_w = img.shape[:2]
    left, top, right, bottom = crop_box(src_w, src_h, facial_area, scale)
    return cv2.resize(img[top : bottom + 1, left : right + 1], (out_w, out_h))


def softmax(logits: NDArray[Any]) -> NDArray[Any]:
    """Row-wise softmax of ``(N, classes)`` logits, in their dtype (max-shifted)."""
    exps = np.exp(logits - np.max(logits, axis=-1, keepdims=True))
    return exps / np.sum(exps, axis=-1, keepdims=True)
