"""Reading images: paths, URLs, base64 data URIs, bytes, binary file objects and arrays.

Every loader returns a BGR ``uint8``-style array of shape (H, W, 3), as OpenCV reads it.
Failures raise :class:`ImageLoadError`, which names the input's index and source.
"""

import base64
import binascii
import io
import os
from pathlib import Path
from typing import Any, Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from numpy.typing import NDArray

from deepface.modules.exceptions import DataTypeError, ImageLoadError

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
URL_PREFIXES = ("http://", "https://")
DATA_URI_PREFIX = "data:image/"
URL_TIMEOUT_S = 60


def is_batch_input(img: Any) -> bool:
    """True for a list or tuple of images, or a 4-D array (N, H, W, C): the batch API."""
    if isinstance(img, (list, tuple)):
        return True
    return isinstance(img, np.ndarray) and img.ndim == 4


def describe_source(img: Any) -> str:
    """A short, human-readable name for an input: its path or URL, otherwise its kind."""
    if isinstance(img, (str, Path)):
        text = str(img)
        if text.startswith(DATA_URI_PREFIX):
            return "base64 encoded string"
        return text
    if isinstance(img, np.ndarray):
        return "numpy array"
    if isinstance(img, (bytes, bytearray, memoryview)):
        return "bytes"
    name = getattr(img, "name", None)
    if hasattr(img, "read"):
        return f"io object {name}" if isinstance(name, str) else "io object"
    return type(img).__name__


def load_image(img: Any, index: Optional[int] = None) -> Tuple[NDArray[Any], str]:
    """Load one image as a BGR array of shape (H, W, 3).

    Args:
        img: a path (str or Path), an http(s) URL, a ``data:image/...;base64,`` URI,
            bytes, a binary file object, or a numpy array (BGR, grayscale or BGRA).
        index: the input's position in a batch, used in error messages.

    Returns:
        The image and its name (the path or URL, otherwise the kind of input).

    Raises:
        ImageLoadError: the input cannot be read or decoded.
    """
    source = describe_source(img)
    try:
        pixels = _load_pixels(img)
    except ImageLoadError:
        raise
    except (OSError, ValueError, cv2.error, binascii.Error) as err:
        raise ImageLoadError(str(err), index=index, source=source) from err
    if pixels is None or pixels.size == 0:
        raise ImageLoadError("could not decode the image", index=index, source=source)
    return to_bgr(pixels, index=index, source=source), source


def _load_pixels(img: Any) -> Optional[NDArray[Any]]:
    if isinstance(img, np.ndarray):
        return img
    if isinstance(img, Path):
        img = str(img)
    if isinstance(img, str):
        return _load_from_string(img)
    if isinstance(img, (bytes, bytearray, memoryview)):
        return decode_bytes(bytes(img))
    if hasattr(img, "read") and callable(img.read):
        return _load_from_file_object(img)
    raise DataTypeError(
        f"an image must be a path, URL, base64 string, bytes, binary file object or numpy "
        f"array, not {type(img).__name__}"
    )


def _load_from_string(text: str) -> Optional[NDArray[Any]]:
    if text.startswith(DATA_URI_PREFIX):
        return load_base64(text)
    if text.lower().startswith(URL_PREFIXES):
        return load_url(text)
    if not os.path.isfile(text):
        raise FileNotFoundError(f"no such file: {text}")
    if text.isascii():
        return cv2.imread(text)  # exactly how deepface reads a path
    return decode_bytes(Path(text).read_bytes())  # cv2.imread cannot open non-ASCII paths


def _load_from_file_object(obj: Any) -> Optional[NDArray[Any]]:
    if isinstance(obj, io.TextIOBase):
        raise DataTypeError("a file object must be opened in binary mode, not text mode")
    try:
        obj.seek(0)
    except (AttributeError, OSError, io.UnsupportedOperation):
        pass  # a stream that cannot rewind is read from where it stands
    data = obj.read()
    if isinstance(data, str):
        raise DataTypeError("a file object must be opened in binary mode, not text mode")
    return decode_bytes(data)


def decode_bytes(data: bytes) -> Optional[NDArray[Any]]:
    """Decode an encoded image (JPEG, PNG, ...) from memory, as ``cv2.imread`` would."""
    if not data:
        raise ValueError("empty image data")
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def load_base64(uri: str) -> Optional[NDArray[Any]]:
    """Decode a ``data:image/<type>;base64,<data>`` URI."""
    _, sep, encoded = uri.partition(",")
    if not sep:
        raise ValueError("a base64 data URI needs a comma before its data")
    return decode_bytes(base64.b64decode(encoded, validate=False))


def load_url(url: str) -> Optional[NDArray[Any]]:
    """Download and decode an image from an http(s) URL."""
    import requests  # imported lazily: only URL inputs need it

    response = requests.get(url, timeout=URL_TIMEOUT_S)
    response.raise_for_status()
    return decode_bytes(response.content)


def to_bgr(pixels: NDArray[Any], index: Optional[int] = None, source: str = "") -> NDArray[Any]:
    """Convert grayscale (H, W) or (H, W, 1) and BGRA (H, W, 4) arrays to BGR (H, W, 3)."""
    if pixels.ndim == 2:
        return cv2.cvtColor(pixels, cv2.COLOR_GRAY2BGR)
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        return cv2.cvtColor(pixels[:, :, 0], cv2.COLOR_GRAY2BGR)
    if pixels.ndim == 3 and pixels.shape[2] == 4:
        return cv2.cvtColor(pixels, cv2.COLOR_BGRA2BGR)
    if pixels.ndim == 3 and pixels.shape[2] == 3:
        return pixels
    raise ImageLoadError(
        f"an image array must have shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), "
        f"not {pixels.shape}",
        index=index,
        source=source,
    )


def split_batch(imgs: Any) -> List[Any]:
    """The items of a batch input: a list/tuple as a list, a 4-D array as its frames."""
    if isinstance(imgs, np.ndarray):
        return [imgs[i] for i in range(imgs.shape[0])]
    return list(imgs)


def list_images(paths: Sequence[str]) -> Iterator[str]:
    """Expand files and folders into image paths: folders are walked in sorted order."""
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for file in sorted(files):
                    if os.path.splitext(file)[1].lower() in IMAGE_EXTS:
                        yield os.path.join(root, file)
        else:
            yield path
