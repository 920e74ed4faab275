"""Hostile but fair inputs: array types, sizes, a detector that fails on one image, and a
caller's stream that raises. Each gets a typed error for its own input; the others keep
their results."""

from typing import Any, Iterator, List, Sequence

import cv2
import numpy as np
import pytest

from deepface import DeepFace
from deepface.commons import image_rules, image_utils
from deepface.commons.exceptions import (
    BatchImageLoadError,
    DetectorFailure,
    ImageLoadError,
    ImageTooLarge,
    ModelFailure,
)
from deepface.models.Detector import Detector, FacialAreaRegion
from deepface.models.FacialRecognition import FacialRecognition
from deepface.modules import modeling
from deepface.modules.modeling import ModelSpec

GRADIENT = np.tile(np.linspace(0, 255, 64, dtype=np.uint8), (48, 1))
PHOTO = cv2.merge([GRADIENT, GRADIENT[::-1], GRADIENT])  # 48x64 BGR, values 0..255
#: pixel value that makes the fake detectors below fail on an image
POISON = 13


# ---------------------------------------------------------------- array types


@pytest.mark.parametrize(
    "array",
    [PHOTO.astype(np.int16), PHOTO.astype(np.uint16), PHOTO.astype(np.int64), (PHOTO // 2).astype(np.int8)],
    ids=["int16", "uint16", "int64", "int8"],
)
def test_integer_arrays_in_range_become_the_same_8_bit_image(array: np.ndarray) -> None:
    pixels, _ = image_utils.load_image(array)
    assert pixels.dtype == np.uint8 and pixels.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(pixels, array)


@pytest.mark.parametrize(
    "array, dtype",
    [
        (PHOTO.astype(np.float64), np.float64),
        (PHOTO.astype(np.float32) / 255, np.float32),
        (PHOTO.astype(np.float16) / 255, np.float32),
    ],
    ids=["float64-0-255", "float32-0-1", "float16-0-1"],
)
def test_float_arrays_keep_their_values_and_detectors_see_8_bits(array: np.ndarray, dtype: type) -> None:
    pixels, _ = image_utils.load_image(array)
    assert pixels.dtype == dtype and pixels.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(pixels, array.astype(dtype))
    seen = image_rules.to_detector_pixels(pixels)
    assert seen.dtype == np.uint8 and np.abs(seen.astype(int) - PHOTO).max() <= (1 if dtype != np.float64 or array.max() <= 1 else 0)


@pytest.mark.parametrize(
    "array, fragment",
    [
        (PHOTO > 100, "dtype bool"),
        (np.full((8, 8, 3), np.nan), "NaN"),
        (np.full((8, 8, 3), np.inf, np.float32), "NaN or infinite"),
        (PHOTO.astype(np.float64) - 10, "floats must lie in"),
        (PHOTO.astype(np.float64) * 2, "floats must lie in"),
        (PHOTO.astype(np.uint16) * 256, "outside 0..255"),
        (PHOTO.astype(np.int16) - 1, "outside 0..255"),
        (PHOTO.astype(np.complex64), "dtype complex64"),
        (np.zeros((8, 8, 2), np.uint8), "must have shape"),
        (np.zeros((8,), np.uint8), "must have shape"),
    ],
    ids=["bool", "nan", "inf", "negative", "above-255", "uint16-wide", "int16-negative", "complex", "two-channels", "1-d"],
)
def test_unusable_arrays_are_refused_naming_index_dtype_and_shape(array: np.ndarray, fragment: str) -> None:
    with pytest.raises(ImageLoadError) as caught:
        image_utils.load_image(array, index=4)
    message = str(caught.value)
    assert caught.value.index == 4 and "input 4" in message and fragment in message
    if array.ndim == 3 and array.shape[2] == 3:
        assert str(array.dtype) in message and str(array.shape) in message


@pytest.mark.parametrize(
    "view",
    [PHOTO[:, ::-1], PHOTO[::-1], PHOTO[:, :, ::-1], np.asfortranarray(PHOTO), PHOTO[::2, ::2]],
    ids=["mirrored", "flipped", "channels-reversed", "fortran", "strided"],
)
def test_views_with_any_strides_load_as_their_contiguous_copy(view: np.ndarray) -> None:
    pixels, _ = image_utils.load_image(view)
    assert pixels.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(pixels, np.ascontiguousarray(view))


def test_a_float_image_keeps_its_precision_with_skip() -> None:
    photo = cv2.resize(PHOTO, (256, 192))
    as_uint8 = DeepFace.extract_faces(photo, detector_backend="skip")
    as_float = DeepFace.extract_faces(photo.astype(np.float32) / 255, detector_backend="skip")
    np.testing.assert_allclose(as_uint8[0]["face"], as_float[0]["face"], atol=1e-6)


def test_a_float_photo_gives_the_faces_of_its_8_bit_original(mixed_batch: List[np.ndarray]) -> None:
    photo = mixed_batch[0]  # two faces
    as_uint8 = DeepFace.extract_faces(photo, color_face="bgr")
    for as_float in (photo.astype(np.float64), photo.astype(np.float32) / 255):
        faces = DeepFace.extract_faces(as_float, color_face="bgr")
        assert [face["facial_area"] for face in faces] == [face["facial_area"] for face in as_uint8]
        for got, want in zip(faces, as_uint8):  # rotated in floats, not rounded to 8 bits
            np.testing.assert_allclose(got["face"], want["face"], atol=1 / 255)


# ---------------------------------------------------------------- encoded headers and the size limit


def _encoded(ext: str, width: int = 457, height: int = 123, params: Sequence[int] = ()) -> bytes:
    ok, buffer = cv2.imencode(ext, np.zeros((height, width, 3), np.uint8), list(params))
    assert ok
    return buffer.tobytes()


@pytest.mark.parametrize(
    "ext, params",
    [
        (".png", ()),
        (".jpg", ()),
        (".jpg", (cv2.IMWRITE_JPEG_PROGRESSIVE, 1)),
        (".bmp", ()),
        (".webp", ()),
        (".webp", (cv2.IMWRITE_WEBP_QUALITY, 101)),  # lossless
    ],
    ids=["png", "jpeg", "jpeg-progressive", "bmp", "webp-lossy", "webp-lossless"],
)
def test_dimensions_are_read_from_the_header(ext: str, params: Sequence[int]) -> None:
    assert image_rules.encoded_size(_encoded(ext, params=params)) == (457, 123)


def test_headers_that_are_cut_short_or_unknown_give_no_size() -> None:
    png = _encoded(".png")
    assert image_rules.encoded_size(png[:20]) is None
    assert image_rules.encoded_size(b"\xff\xd8\xff\xe0") is None
    assert image_rules.encoded_size(b"II*\x00 a tiff") is None


def _png_claiming(width: int, height: int) -> bytes:
    """A small PNG whose header claims ``width`` x ``height`` (a decompression bomb's header)."""
    data = bytearray(_encoded(".png", 16, 16))
    data[16:24] = width.to_bytes(4, "big") + height.to_bytes(4, "big")
    return bytes(data)


def test_a_huge_header_is_refused_before_decoding(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_claiming(60000, 60000))

    def no_decoding(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the image was decoded")

    monkeypatch.setattr(cv2, "imread", no_decoding)
    monkeypatch.setattr(cv2, "imdecode", no_decoding)
    for item in (str(bomb), bomb.read_bytes()):
        with pytest.raises(ImageTooLarge, match="3,600,000,000 pixels"):
            image_utils.load_image(item, index=2)


def test_the_limit_comes_from_the_keyword_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    photo = cv2.resize(PHOTO, (100, 80))  # 8,000 pixels
    monkeypatch.setenv(image_rules.MAX_PIXELS_ENV, "5000")
    with pytest.raises(ImageTooLarge, match=image_rules.MAX_PIXELS_ENV):
        DeepFace.extract_faces(photo, detector_backend="skip")
    assert DeepFace.extract_faces(photo, detector_backend="skip", max_image_pixels=8000)
    monkeypatch.setenv(image_rules.MAX_PIXELS_ENV, "many")
    with pytest.raises(ValueError, match=image_rules.MAX_PIXELS_ENV):
        DeepFace.extract_faces(photo, detector_backend="skip")
    monkeypatch.delenv(image_rules.MAX_PIXELS_ENV)
    assert image_rules.resolve_max_pixels() == image_rules.DEFAULT_MAX_IMAGE_PIXELS


def test_an_image_too_large_for_opencv_fails_alone_instead_of_crashing() -> None:
    # 9000 x 9000 is under the default limit, but deepface's border makes 18000 x 18000,
    # on which OpenCV's cascade segfaults: this image fails, the other one is detected.
    huge = np.zeros((9000, 9000, 3), np.uint8)
    with pytest.raises(BatchImageLoadError) as caught:
        DeepFace.extract_faces([huge, PHOTO], enforce_detection=False)
    error = caught.value.errors[0]
    assert isinstance(error, ImageTooLarge) and error.index == 0 and "detection_border=0" in str(error)
    assert list(caught.value.results) == [1]


# ---------------------------------------------------------------- a detector failing on one image


class FailingLoopDetector(Detector):
    """Finds one face in the middle of each image; raises like an engine on POISON images."""

    def detect_faces(self, img: np.ndarray) -> List[FacialAreaRegion]:
        if (img == POISON).any():
            raise cv2.error("a raw engine error")
        height, width = img.shape[:2]
        return [FacialAreaRegion(x=width // 4, y=height // 4, w=width // 2, h=height // 2,
                                 left_eye=(width // 2 + 5, height // 2), right_eye=(width // 2 - 5, height // 2),
                                 confidence=0.9)]


class FailingNativeDetector(FailingLoopDetector):
    """The same, batching natively: a batch holding a POISON image raises as a whole."""

    native_batch = True

    def detect_faces_batch(self, imgs: Sequence[np.ndarray]) -> List[List[FacialAreaRegion]]:
        return [self.detect_faces(img) for img in imgs]


@pytest.fixture(params=["FailingLoopDetector", "FailingNativeDetector"])
def failing_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"test-{request.param}"
    monkeypatch.setitem(modeling.FACE_DETECTORS, name, ModelSpec(f"{__name__}:{request.param}"))
    yield name
    modeling.forget("face_detector", name)


def _images_with_poison_at(index: int, count: int = 4) -> List[np.ndarray]:
    images = [cv2.resize(PHOTO, (64 + 8 * k, 48 + 8 * k)) for k in range(count)]
    images = [np.where(img == POISON, POISON + 1, img).astype(np.uint8) for img in images]
    images[index][0, 0] = POISON
    return images


def test_a_detector_failure_is_that_image_s_typed_error(failing_backend: str) -> None:
    images = _images_with_poison_at(2)
    with pytest.raises(BatchImageLoadError) as caught:
        DeepFace.extract_faces(images, detector_backend=failing_backend, batch_size=4)
    error = caught.value.errors[2]
    assert isinstance(error, DetectorFailure) and error.index == 2
    assert "cv2.error" in str(error) and isinstance(error.__cause__, cv2.error)
    assert sorted(caught.value.results) == [0, 1, 3]
    for index in (0, 1, 3):
        single = DeepFace.extract_faces(images[index], detector_backend=failing_backend)
        assert caught.value.results[index][0]["facial_area"] == single[0]["facial_area"]


def test_a_single_image_raises_the_typed_error(failing_backend: str) -> None:
    with pytest.raises(DetectorFailure, match="the detector failed"):
        DeepFace.extract_faces(_images_with_poison_at(0, count=1)[0], detector_backend=failing_backend)


def test_the_stream_goes_on_after_a_detector_failure(failing_backend: str) -> None:
    images = _images_with_poison_at(1)
    outcomes = list(DeepFace.extract_faces_iter(images, detector_backend=failing_backend, batch_size=4))
    assert [result.index for result, _ in outcomes] == [0, 1, 2, 3]
    assert [type(result.error).__name__ for result, _ in outcomes] == ["NoneType", "DetectorFailure", "NoneType", "NoneType"]


# ---------------------------------------------------------------- a caller's stream that raises


class CallerError(Exception):
    """What the caller's generator raises."""


def _failing_after(images: Sequence[np.ndarray], count: int) -> Iterator[np.ndarray]:
    yield from images[:count]
    raise CallerError("the caller's source broke")


@pytest.mark.parametrize("decode_threads", ["0", "2"])
def test_extraction_yields_what_it_took_before_the_caller_s_error(
    decode_threads: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEEPFACE_DECODE_THREADS", decode_threads)
    images = [cv2.resize(PHOTO, (64 + 8 * k, 48)) for k in range(5)]
    seen = []
    with pytest.raises(CallerError):
        for result, faces in DeepFace.extract_faces_iter(_failing_after(images, 3), detector_backend="skip", batch_size=32):
            seen.append((result.index, faces[0]["face"].shape))
    assert seen == [(k, (48, 64 + 8 * k, 3)) for k in range(3)]


class TinyRecognizer(FacialRecognition):
    """A recognition model whose embedding is each face's mean colour."""

    model_name = "tiny"
    input_shape = (8, 8)
    output_shape = 3

    def embed_batch(self, faces: np.ndarray) -> np.ndarray:
        return faces.mean(axis=(1, 2)).astype(np.float32)


def test_represent_yields_what_it_took_before_the_caller_s_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(modeling.AVAILABLE_MODELS["facial_recognition"], "tiny", {modeling.ANY: f"{__name__}.TinyRecognizer"})
    images = [np.full((32, 32, 3), 40 * k, np.uint8) for k in range(5)]
    seen = []
    with pytest.raises(CallerError):
        for result, embeddings in DeepFace.represent_iter(
            _failing_after(images, 3), model_name="tiny", detector_backend="skip", batch_size=32
        ):
            seen.append((result.index, len(embeddings)))
    assert seen == [(0, 1), (1, 1), (2, 1)]
    modeling.forget("facial_recognition", "tiny")


class PoisonedRecognizer(TinyRecognizer):
    """Raises like an engine when a face in its batch is POISON grey."""

    def embed_batch(self, faces: np.ndarray) -> np.ndarray:
        if np.isclose(faces, POISON / 255).all(axis=(1, 2, 3)).any():
            raise cv2.error("a raw engine error")
        return super().embed_batch(faces)


def test_a_model_failure_on_one_input_s_faces_is_that_input_s_typed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        modeling.AVAILABLE_MODELS["facial_recognition"], "poisoned", {modeling.ANY: f"{__name__}.PoisonedRecognizer"}
    )
    images = [np.full((32, 32, 3), value, np.uint8) for value in (40, POISON, 80, 120)]
    with pytest.raises(BatchImageLoadError) as caught:
        DeepFace.represent(images, model_name="poisoned", detector_backend="skip", batch_size=4)
    error = caught.value.errors[1]
    assert isinstance(error, ModelFailure) and error.index == 1 and isinstance(error.__cause__, cv2.error)
    assert sorted(caught.value.results) == [0, 2, 3]
    for index in (0, 2, 3):
        alone = DeepFace.represent(images[index], model_name="poisoned", detector_backend="skip")
        assert caught.value.results[index][0]["embedding"] == alone[0]["embedding"]
    modeling.forget("facial_recognition", "poisoned")
