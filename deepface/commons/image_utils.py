"""Reading images: paths, URLs, base64 data URIs, bytes, binary file objects and arrays.

Every loader returns a BGR ``uint8``-style array of shape (H, W, 3), as OpenCV reads it.
Failures raise :class:`ImageLoadError`, which names the input's index and source.
"""

import base64
import binascii
import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterator, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from numpy.typing import NDArray

from deepface.commons import image_rules
from deepface.commons.exceptions import DataTypeError, ImageLoadError

# what deepface puts in a database folder: these extensions, and JPEG or PNG content
IMAGE_EXTS = {".jpg", ".jpeg", ".png"}
IMAGE_FORMATS = {"jpeg", "png"}
# what the command line reads from a folder: anything OpenCV decodes
READABLE_IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
# leading bytes (file signatures) of the formats in IMAGE_FORMATS
#: deepface's names for the two signatures.
JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FORMAT_SIGNATURES = {"jpeg": JPEG_MAGIC, "png": PNG_MAGIC}
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


def load_image(img: Any, index: Optional[int] = None, max_pixels: Optional[int] = None) -> Tuple[NDArray[Any], str]:
    """Load one image as a contiguous BGR ``uint8`` array of shape (H, W, 3).

    Args:
        img: a path (str or Path), an http(s) URL, a ``data:image/...;base64,`` URI,
            bytes, a binary file object, or a numpy array (BGR, grayscale or BGRA; other
            dtypes converted or refused as ``image_rules`` states).
        index: the input's position in a batch, used in error messages.
        max_pixels: the largest image accepted (default: ``image_rules.resolve_max_pixels``);
            encoded images are checked from their header, before decoding.

    Returns:
        The image and its name (the path or URL, otherwise the kind of input).

    Raises:
        ImageLoadError: the input cannot be read or decoded, or is refused
            (:class:`ImageTooLarge` above the pixel limit).
    """
    source = describe_source(img)
    guard = SizeGuard(image_rules.resolve_max_pixels(max_pixels), index, source)
    try:
        pixels = _load_pixels(img, guard)
    except ImageLoadError:
        raise
    except (OSError, ValueError, cv2.error, binascii.Error, MemoryError) as err:
        raise ImageLoadError(str(err) or type(err).__name__, index=index, source=source) from err
    if pixels is None:
        raise ImageLoadError("Failed to decode image (not an image, or a format OpenCV cannot read)", index=index, source=source)
    check_shape(pixels, index=index, source=source)
    guard.check(pixels.shape[1], pixels.shape[0])
    pixels = image_rules.checked_pixels(pixels, index=index, source=source)
    return to_bgr(pixels, index=index, source=source), source


@dataclass(frozen=True)
class SizeGuard:
    """The pixel limit of one input, checked on encoded headers and on decoded arrays."""

    limit: int
    index: Optional[int]
    source: str

    def check(self, width: int, height: int) -> None:
        image_rules.check_pixel_count(width, height, self.limit, self.index, self.source)

    def check_encoded(self, data: bytes) -> None:
        size = image_rules.encoded_size(data[: image_rules.HEADER_BYTES])
        if size is not None:
            self.check(*size)


def _load_pixels(img: Any, guard: SizeGuard) -> Optional[NDArray[Any]]:
    if isinstance(img, np.ndarray):
        return img
    if isinstance(img, Path):
        img = str(img)
    if isinstance(img, str):
        return _load_from_string(img, guard)
    if isinstance(img, (bytes, bytearray, memoryview)):
        return _decode_guarded(bytes(img), guard)
    if hasattr(img, "read") and callable(img.read):
        return _decode_guarded(_read_file_object(img), guard)
    raise DataTypeError(
        f"an image must be a path, URL, base64 string, bytes, binary file object or numpy "
        f"array, not {type(img).__name__}"
    )


def _load_from_string(text: str, guard: SizeGuard) -> Optional[NDArray[Any]]:
    if text.startswith(DATA_URI_PREFIX):
        return _decode_guarded(_base64_payload(text), guard)
    if text.lower().startswith(URL_PREFIXES):
        return _decode_guarded(_download(text), guard)
    if not os.path.isfile(text):
        raise FileNotFoundError(f"no such file: {text}")
    with open(text, "rb") as handle:
        guard.check_encoded(handle.read(image_rules.HEADER_BYTES))
    if text.isascii():
        return cv2.imread(text)  # exactly how deepface reads a path
    return decode_bytes(Path(text).read_bytes())  # cv2.imread cannot open non-ASCII paths


def _decode_guarded(data: bytes, guard: SizeGuard) -> Optional[NDArray[Any]]:
    if data:
        guard.check_encoded(data)
    return decode_bytes(data)


def _read_file_object(obj: Any) -> bytes:
    if isinstance(obj, io.TextIOBase):
        raise DataTypeError("a file object must be opened in binary mode, not text mode")
    seek = getattr(obj, "seek", None)
    if callable(seek):
        try:
            seek(0)
        except (OSError, io.UnsupportedOperation):
            pass  # a stream that cannot rewind is read from where it stands
    data = obj.read()
    if isinstance(data, str):
        raise DataTypeError("a file object must be opened in binary mode, not text mode")
    return bytes(data)


def _load_from_file_object(obj: Any) -> Optional[NDArray[Any]]:
    return decode_bytes(_read_file_object(obj))


def decode_bytes(data: bytes) -> Optional[NDArray[Any]]:
    """Decode an encoded image (JPEG, PNG, ...) from memory, as ``cv2.imread`` would."""
    if not data:
        raise ValueError("empty image data")
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def _base64_payload(uri: str) -> bytes:
    _, sep, encoded = uri.partition(",")
    if not sep:
        raise ValueError("a base64 data URI needs a comma before its data")
    return base64.b64decode(encoded, validate=False)


def load_base64(uri: str) -> Optional[NDArray[Any]]:
    """Decode a ``data:image/<type>;base64,<data>`` URI."""
    return decode_bytes(_base64_payload(uri))


def load_url(url: str) -> Optional[NDArray[Any]]:
    """Download and decode an image from an http(s) URL."""
    return decode_bytes(_download(url))


def _download(url: str) -> bytes:
    import requests  # imported lazily: only URL inputs need it

    response = requests.get(url, timeout=URL_TIMEOUT_S)
    response.raise_for_status()
    return bytes(response.content)


def check_shape(pixels: NDArray[Any], index: Optional[int] = None, source: str = "") -> None:
    """Refuse arrays that are not (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), or have no pixels."""
    usable = pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[2] in (1, 3, 4))
    if not usable:
        raise ImageLoadError(
            f"an image array must have shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), "
            f"not {pixels.shape}",
            index=index,
            source=source,
        )
    if pixels.size == 0:
        raise ImageLoadError(f"an image array of shape {pixels.shape} has no pixels", index=index, source=source)


def to_bgr(pixels: NDArray[Any], index: Optional[int] = None, source: str = "") -> NDArray[Any]:
    """Convert grayscale (H, W) or (H, W, 1) and BGRA (H, W, 4) arrays to BGR (H, W, 3)
    (the grey copied to each channel, the alpha dropped; any dtype)."""
    if pixels.ndim == 2:
        return np.repeat(pixels[:, :, np.newaxis], 3, axis=2)
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        return np.repeat(pixels, 3, axis=2)
    if pixels.ndim == 3 and pixels.shape[2] == 4:
        return np.ascontiguousarray(pixels[:, :, :3])
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


def detect_image_format(header: bytes) -> Optional[str]:
    """``"jpeg"`` or ``"png"`` from an image's leading bytes (8 suffice), otherwise None."""
    for name, signature in FORMAT_SIGNATURES.items():
        if header.startswith(signature):
            return name
    return None


def _walk_sorted(folder: Union[str, "os.PathLike[str]"]) -> Iterator[str]:
    """Every file below ``folder``, folders and files in sorted order."""
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for file in sorted(files):
            yield os.path.join(root, file)


def _has_image_content(path: str) -> bool:
    with open(path, "rb") as handle:
        return detect_image_format(handle.read(8)) in IMAGE_FORMATS


def yield_images(path: str) -> Iterator[str]:
    """Yield the images below folder ``path`` as deepface's ``find`` sees them.

    An image has a ``.jpg``, ``.jpeg`` or ``.png`` extension (any case) and JPEG or PNG
    content: a WebP file named ``x.jpg`` is left out. Folders are walked in sorted order.
    """
    for file in _walk_sorted(path):
        if os.path.splitext(file)[1].lower() in IMAGE_EXTS and _has_image_content(file):
            yield file


def list_images(path: Union[str, "os.PathLike[str]"]) -> List[str]:
    """The images below folder ``path``, as :func:`yield_images` yields them (deepface's API)."""
    return list(yield_images(str(path)))


def expand_image_paths(paths: Sequence[str]) -> Iterator[str]:
    """Expand files and folders into image paths: folders are walked in sorted order.

    Inside a folder, files with an extension in ``READABLE_IMAGE_EXTS`` are kept; a path
    that is not a folder is yielded as given.
    """
    for path in paths:
        if os.path.isdir(path):
            for file in _walk_sorted(path):
                if os.path.splitext(file)[1].lower() in READABLE_IMAGE_EXTS:
                    yield file
        else:
            yield path


def find_image_hash(file_path: str) -> str:
    """deepface's cheap fingerprint of an image file: SHA-1 of its size, ctime and mtime.

    It changes when the file is rewritten, without reading its content; deepface's
    databases store it, so the text hashed is exactly deepface's.
    """
    stats = os.stat(file_path)
    properties = f"{stats.st_size}-{stats.st_ctime}-{stats.st_mtime}"
    return hashlib.sha1(properties.encode("utf-8")).hexdigest()


def _decoded(pixels: Optional[NDArray[Any]]) -> NDArray[Any]:
    if pixels is None:
        raise ValueError("Failed to decode image")
    return pixels


def load_image_from_io_object(obj: IO[bytes]) -> NDArray[Any]:
    """Decode an image from a binary file-like object (read from its start when seekable).

    Raises:
        DataTypeError: the object is opened in text mode.
        ValueError: the content is not an image.
    """
    return _decoded(_load_from_file_object(obj))


def load_image_from_base64(uri: str) -> NDArray[Any]:
    """Decode a ``data:image/...;base64,<data>`` string holding a JPEG or PNG image.

    Raises:
        ValueError: there is no comma before the data, or the data cannot be decoded.
        DataTypeError: the data is neither JPEG nor PNG (whatever the URI's type says).
    """
    parts = uri.split(",")
    if len(parts) < 2:
        raise ValueError("format error in base64 encoded string")
    data = base64.b64decode(parts[1])
    if detect_image_format(data[:8]) not in IMAGE_FORMATS:
        raise DataTypeError("Input image can be jpg or png, but it is neither")
    return _decoded(decode_bytes(data))


def load_image_from_file_storage(file: Any) -> NDArray[Any]:
    """Decode an uploaded file (werkzeug's ``FileStorage``, or anything with ``read()``).

    Raises:
        ValueError: the content is not an image.
    """
    data = file.read()
    if not data:
        raise ValueError("Failed to decode image")
    return _decoded(decode_bytes(data))


def load_image_from_web(url: str) -> NDArray[Any]:
    """Download an image from an http(s) URL and decode it as BGR.

    Raises:
        requests.HTTPError: the server answered with an error status.
        ValueError: the content is not an image.
    """
    return _decoded(load_url(url))
