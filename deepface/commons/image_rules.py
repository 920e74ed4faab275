"""What an input image may be: the array types accepted, how they become 8-bit, and the
size limit checked before anything large is allocated.

The rules (also in the README):

- ``uint8`` arrays are taken as they are.
- Other integer arrays whose values all lie in 0..255 are cast to ``uint8`` (exactly);
  values outside that range are refused rather than clipped or rescaled by a guess.
- Float arrays with every value in [0, 1] or in [0, 255] are kept as they are (float16
  becomes float32), as deepface passes them on: a face cut from them, or the whole image
  with ``skip``, keeps its precision. Detectors see them as 8-bit pixels
  (:func:`to_detector_pixels`: scaled by 255 when every value is in [0, 1], rounded).
  NaN, infinities, negative values and values above 255 are refused.
- ``bool``, complex, object and other arrays are refused.
- An image above the pixel limit (``max_image_pixels``, else ``$DEEPFACE_MAX_IMAGE_PIXELS``,
  else 100 megapixels) is refused: for encoded files from their header, before decoding.

A refusal is a :class:`ImageLoadError` naming the input, its dtype and its shape.
"""

import os
import struct
from typing import Any, Optional, Tuple

import numpy as np
from numpy.typing import NDArray

from deepface.commons.exceptions import ImageLoadError, ImageTooLarge

#: The largest image accepted by default, in pixels (before deepface's detection border).
DEFAULT_MAX_IMAGE_PIXELS = 100_000_000
MAX_PIXELS_ENV = "DEEPFACE_MAX_IMAGE_PIXELS"
#: Leading bytes read from a file to find its dimensions (JPEG headers can follow EXIF data).
HEADER_BYTES = 256 * 1024
UINT8_MAX = 255


def resolve_max_pixels(requested: Optional[int] = None) -> int:
    """The pixel limit: ``requested`` if given, else ``$DEEPFACE_MAX_IMAGE_PIXELS``, else 100 M."""
    value: Any = requested
    name = "max_image_pixels"
    if value is None:
        value = os.environ.get(MAX_PIXELS_ENV)
        name = MAX_PIXELS_ENV
        if value is None:
            return DEFAULT_MAX_IMAGE_PIXELS
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive integer, not {value!r}") from None
    if limit < 1 or isinstance(value, bool):
        raise ValueError(f"{name} must be a positive integer, not {value!r}")
    return limit


def check_pixel_count(width: int, height: int, limit: int, index: Optional[int], source: str) -> None:
    """Raise :class:`ImageTooLarge` when a ``width`` x ``height`` image exceeds ``limit`` pixels."""
    if width * height > limit:
        raise ImageTooLarge(
            f"the image is {width}x{height} = {width * height:,} pixels, above the limit of "
            f"{limit:,} (raise it with max_image_pixels= or ${MAX_PIXELS_ENV}, or downscale the image)",
            index=index,
            source=source,
        )


def checked_pixels(pixels: NDArray[Any], index: Optional[int] = None, source: str = "") -> NDArray[Any]:
    """The array as contiguous pixels by the module's rules (8-bit, or validated floats),
    or a typed refusal."""
    kind = pixels.dtype.kind
    if pixels.dtype == np.uint8:
        return np.ascontiguousarray(pixels)
    if kind in "iu":
        return _integers_to_uint8(pixels, index, source)
    if kind == "f":
        return _checked_floats(pixels, index, source)
    raise _refusal(pixels, "is not an image type (use uint8, or floats in [0, 1] or [0, 255])", index, source)


def to_detector_pixels(pixels: NDArray[Any]) -> NDArray[Any]:
    """The 8-bit view a detector gets of checked pixels: floats scaled by 255 when every
    value is in [0, 1], then rounded; 8-bit pixels as they are."""
    if pixels.dtype == np.uint8:
        return pixels
    scale = UINT8_MAX if pixels.max() <= 1 else 1
    return np.rint(pixels.astype(np.float64) * scale).clip(0, UINT8_MAX).astype(np.uint8)


def _integers_to_uint8(pixels: NDArray[Any], index: Optional[int], source: str) -> NDArray[Any]:
    low, high = int(pixels.min()), int(pixels.max())
    if low < 0 or high > UINT8_MAX:
        raise _refusal(
            pixels, f"has values from {low} to {high}, outside 0..255 (scale it to uint8 first)", index, source
        )
    return pixels.astype(np.uint8)


def _checked_floats(pixels: NDArray[Any], index: Optional[int], source: str) -> NDArray[Any]:
    if not np.isfinite(pixels).all():
        raise _refusal(pixels, "holds NaN or infinite values", index, source)
    low, high = float(pixels.min()), float(pixels.max())
    if low < 0 or high > UINT8_MAX:
        raise _refusal(
            pixels, f"has values from {low:g} to {high:g}; floats must lie in [0, 1] or [0, 255]", index, source
        )
    if pixels.dtype == np.float16:  # OpenCV cannot resize or rotate half floats
        return pixels.astype(np.float32)
    return np.ascontiguousarray(pixels)


def _refusal(pixels: NDArray[Any], problem: str, index: Optional[int], source: str) -> ImageLoadError:
    return ImageLoadError(f"an array of dtype {pixels.dtype} and shape {pixels.shape} {problem}", index, source)


# ---------------------------------------------------------------- encoded headers


def encoded_size(data: bytes) -> Optional[Tuple[int, int]]:
    """(width, height) from the header of a PNG, JPEG, BMP, GIF or WebP file; None when
    the format is another or the header is cut short (the decoded size is checked then)."""
    try:
        for signature, reader in _HEADER_READERS:
            if data.startswith(signature):
                return reader(data)
    except (struct.error, IndexError):
        return None
    return None


def _png_size(data: bytes) -> Optional[Tuple[int, int]]:
    if data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# JPEG start-of-frame markers (C0-CF except DHT C4, JPG C8, DAC CC) carry the dimensions.
_JPEG_FRAME_MARKERS = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_STANDALONE_MARKERS = {0x01, *range(0xD0, 0xDA)}


def _jpeg_size(data: bytes) -> Optional[Tuple[int, int]]:
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:  # stray bytes before a marker: decoders skip them too
            position += 1
            continue
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in _JPEG_STANDALONE_MARKERS:
            position += 2
            continue
        if marker in _JPEG_FRAME_MARKERS:
            height, width = struct.unpack(">HH", data[position + 5 : position + 9])
            return width, height
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        position += 2 + length
    return None


#: The header size of OS/2 bitmaps (``BITMAPCOREHEADER``), whose sizes are 16-bit.
_BMP_CORE_HEADER = 12


def _bmp_size(data: bytes) -> Optional[Tuple[int, int]]:
    (header_size,) = struct.unpack("<I", data[14:18])
    if header_size == _BMP_CORE_HEADER:
        width, height = struct.unpack("<HH", data[18:22])
        return width, height
    width, height = struct.unpack("<ii", data[18:26])
    return abs(width), abs(height)


def _gif_size(data: bytes) -> Optional[Tuple[int, int]]:
    width, height = struct.unpack("<HH", data[6:10])
    return width, height


def _webp_size(data: bytes) -> Optional[Tuple[int, int]]:
    if data[8:12] != b"WEBP":
        return None
    chunk = data[12:16]
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    return None


_HEADER_READERS = (
    (b"\x89PNG\r\n\x1a\n", _png_size),
    (b"\xff\xd8", _jpeg_size),
    (b"BM", _bmp_size),
    (b"GIF8", _gif_size),
    (b"RIFF", _webp_size),
)
