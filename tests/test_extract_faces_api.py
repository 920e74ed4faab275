"""The public contract of DeepFace.extract_faces: return shapes, keys, types and errors."""

from typing import List

import numpy as np
import pytest

from deepface import DeepFace
from deepface.models.Detector import Detector, FacialAreaRegion
from deepface.modules import detection
from deepface.modules.exceptions import (
    BatchFaceNotDetected,
    BatchImageLoadError,
    FaceNotDetected,
    ImageLoadError,
    UnimplementedError,
)
from tests.conftest import synthetic_images

FACE_KEYS = {"face", "facial_area", "confidence"}
AREA_KEYS = {"x", "y", "w", "h", "left_eye", "right_eye"}


@pytest.fixture(scope="module")
def blank() -> np.ndarray:
    return synthetic_images()[3]


def test_one_image_gives_a_list_of_dicts_with_deepfaces_keys_and_types(blank) -> None:
    faces = DeepFace.extract_faces(blank, detector_backend="skip")
    assert isinstance(faces, list) and len(faces) == 1
    face = faces[0]
    assert set(face) == FACE_KEYS and set(face["facial_area"]) == AREA_KEYS
    assert all(type(face["facial_area"][k]) is int for k in "xywh")
    assert type(face["confidence"]) is float
    assert face["face"].dtype == np.float64 and face["face"].max() <= 1


@pytest.mark.parametrize("wrap", [list, tuple, np.stack], ids=["list", "tuple", "4-D array"])
def test_a_batch_of_one_still_gives_a_list_of_lists(blank, wrap) -> None:
    out = DeepFace.extract_faces(wrap([blank]), detector_backend="skip")
    assert isinstance(out, list) and len(out) == 1
    assert isinstance(out[0], list) and isinstance(out[0][0], dict)


def test_batch_keeps_input_order_and_length() -> None:
    imgs = synthetic_images()
    out = DeepFace.extract_faces(imgs, detector_backend="skip", batch_size=3)
    assert [o[0]["facial_area"]["w"] for o in out] == [img.shape[1] - 1 for img in imgs]


def test_empty_batch_gives_empty_list() -> None:
    assert DeepFace.extract_faces([], detector_backend="skip") == []


@pytest.mark.parametrize("color_face, channels", [("rgb", 3), ("bgr", 3), ("gray", None)])
def test_color_face_and_normalize(color_face: str, channels) -> None:
    img = synthetic_images()[0]
    face = DeepFace.extract_faces(
        img, detector_backend="skip", color_face=color_face, normalize_face=False
    )[0]["face"]
    assert face.dtype == np.uint8
    assert (face.ndim == 2) if channels is None else face.shape[2] == channels
    if color_face == "rgb":
        np.testing.assert_array_equal(face, img[:, :, ::-1])


def test_enforce_detection_on_a_batch_names_every_faceless_input() -> None:
    imgs = synthetic_images()[:3]
    with pytest.raises(BatchFaceNotDetected) as caught:
        DeepFace.extract_faces(imgs, detector_backend="opencv")
    assert sorted(caught.value.errors) == [0, 1, 2]
    assert isinstance(caught.value, FaceNotDetected)
    assert "[0]" in str(caught.value) and "[2]" in str(caught.value)


def test_enforce_detection_false_returns_the_whole_image() -> None:
    img = synthetic_images()[3]
    (face,) = DeepFace.extract_faces(img, detector_backend="opencv", enforce_detection=False)
    assert face["confidence"] == 0
    assert face["face"].shape[:2] == img.shape[:2]


def test_single_image_without_face_raises_face_not_detected() -> None:
    with pytest.raises(FaceNotDetected):
        DeepFace.extract_faces(synthetic_images()[3], detector_backend="opencv")


def test_one_bad_input_does_not_lose_the_others(tmp_path) -> None:
    imgs: List = synthetic_images()[:2] + [str(tmp_path / "missing.jpg")] + synthetic_images()[2:]
    with pytest.raises(BatchImageLoadError) as caught:
        DeepFace.extract_faces(imgs, detector_backend="skip")
    error = caught.value
    assert list(error.errors) == [2] and "missing.jpg" in str(error)
    assert isinstance(error.errors[2], ImageLoadError) and error.errors[2].index == 2
    assert sorted(error.results) == [0, 1, 3, 4]


def test_single_missing_file_raises_image_load_error() -> None:
    with pytest.raises(ImageLoadError, match="nowhere.jpg"):
        DeepFace.extract_faces("nowhere.jpg")


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"color_face": "hsv"}, UnimplementedError),
        ({"batch_size": 0}, ValueError),
        ({"detection_border": -1}, ValueError),
        ({"detector_backend": "no-such-detector"}, UnimplementedError),
    ],
)
def test_bad_arguments_raise_clear_errors(blank, kwargs, error) -> None:
    with pytest.raises(error):
        DeepFace.extract_faces(blank, **{"detector_backend": "skip", **kwargs})


def test_stream_reports_failures_and_goes_on(tmp_path) -> None:
    imgs = [synthetic_images()[0], str(tmp_path / "gone.png"), synthetic_images()[1]]
    results = list(DeepFace.extract_faces_iter(iter(imgs), detector_backend="skip", batch_size=2))
    assert [r.index for r, _ in results] == [0, 1, 2]
    assert results[1][0].error is not None and results[1][1] == []
    assert results[0][1] and results[2][1]


def test_max_faces_keeps_the_largest(face_photos) -> None:
    img = face_photos["couple.jpg"]
    all_faces = DeepFace.extract_faces(img, detector_backend="opencv", align=False)
    (largest,) = DeepFace.extract_faces(img, detector_backend="opencv", align=False, max_faces=1)
    assert len(all_faces) >= 2
    areas = [f["facial_area"]["w"] * f["facial_area"]["h"] for f in all_faces]
    assert largest["facial_area"]["w"] * largest["facial_area"]["h"] == max(areas)


class RecordingDetector(Detector):
    """Finds one face in the middle of every image; records what each call was given."""

    def __init__(self, native_batch: bool) -> None:
        self.native_batch = native_batch
        self.calls: List[int] = []

    def detect_faces(self, img: np.ndarray) -> List[FacialAreaRegion]:
        h, w = img.shape[:2]
        return [FacialAreaRegion(x=w // 3, y=h // 3, w=w // 3, h=h // 3, confidence=0.9)]

    def detect_faces_batch(self, imgs) -> List[List[FacialAreaRegion]]:
        self.calls.append(len(imgs))
        return super().detect_faces_batch(imgs)


@pytest.mark.parametrize("native_batch, calls", [(True, [3, 2]), (False, [1, 1, 1, 1, 1])])
def test_only_native_batch_detectors_get_whole_chunks(monkeypatch, native_batch, calls) -> None:
    detector = RecordingDetector(native_batch)
    monkeypatch.setattr(detection, "_detector_for", lambda options: detector)
    imgs = [synthetic_images()[i % 3] for i in range(5)]
    results = DeepFace.extract_faces(imgs, detector_backend="opencv", batch_size=3)
    assert detector.calls == calls
    assert [len(faces) for faces in results] == [1] * 5


def test_stream_reads_at_most_two_chunks_ahead() -> None:
    pulled: List[int] = []

    def inputs():
        for i in range(20):
            pulled.append(i)
            yield synthetic_images()[i % 3]

    stream = DeepFace.extract_faces_iter(inputs(), detector_backend="skip", batch_size=4)
    first, _ = next(stream)
    assert first.index == 0 and len(pulled) <= 8, f"{len(pulled)} inputs read before the first result"
    assert [r.index for r, _ in stream] == list(range(1, 20))


@pytest.mark.parametrize("threads", ["0", "2"])
def test_decoding_in_the_calling_thread_or_in_several_gives_the_same(monkeypatch, tmp_path, threads) -> None:
    monkeypatch.setenv("DEEPFACE_DECODE_THREADS", threads)
    imgs = [synthetic_images()[0], str(tmp_path / "gone.png"), synthetic_images()[1], synthetic_images()[2]]
    results = list(DeepFace.extract_faces_iter(iter(imgs), detector_backend="skip", batch_size=3))
    assert [r.index for r, _ in results] == [0, 1, 2, 3]
    assert isinstance(results[1][0].error, ImageLoadError)
    assert all(faces for i, (_, faces) in enumerate(results) if i != 1)


def test_a_bad_decode_thread_count_is_named(monkeypatch) -> None:
    monkeypatch.setenv("DEEPFACE_DECODE_THREADS", "many")
    with pytest.raises(ValueError, match="DEEPFACE_DECODE_THREADS"):
        DeepFace.extract_faces([synthetic_images()[0]], detector_backend="skip")
