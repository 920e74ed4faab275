"""Batched detection equals one-image-at-a-time detection, for every detector here."""

from typing import Any, Dict, List

import numpy as np
import pytest

from deepface import DeepFace
from deepface.modules import modeling
from deepface.modules.detection import frame_image
from tests.conftest import YOLO_TEST_CONFIDENCE, assert_same_face_dicts, assert_same_regions

DETECTORS = ["opencv", "mtcnn", "yolov8n", "retinaface", "dlib", "fastmtcnn", "mediapipe"]
OPTIONAL_ENGINES = {"yolov8n": "ultralytics", "retinaface": "retinaface", "dlib": "dlib", "fastmtcnn": "facenet_pytorch", "mediapipe": "mediapipe"}


def detector_options(backend: str) -> Dict[str, Any]:
    if backend.startswith("yolo"):
        return {"min_confidence": YOLO_TEST_CONFIDENCE}
    if backend == "mtcnn":
        return {"group_batch": 4}  # exercise mtcnn's own batching (opt-in)
    return {}


@pytest.fixture(scope="module", params=DETECTORS)
def backend(request: pytest.FixtureRequest, weights_home) -> str:
    engine = OPTIONAL_ENGINES.get(request.param)
    if engine is not None:
        pytest.importorskip(engine, reason=f"{request.param} needs the {engine} package")
    return request.param


def test_detect_faces_batch_equals_single(backend: str, mixed_batch: List[np.ndarray]) -> None:
    detector = modeling.build_model("face_detector", backend, **detector_options(backend))
    framed = [frame_image(img, 0.5).pixels for img in mixed_batch]

    batched = detector.detect_faces_batch(framed)
    singles = [detector.detect_faces(img) for img in framed]

    assert len(batched) == len(framed)
    for index, (single, batch) in enumerate(zip(singles, batched)):
        assert_same_regions(single, batch, f"{backend} image {index}")
    assert any(singles), f"{backend} found no face in the whole batch: the test proves nothing"


@pytest.mark.parametrize("batch_size", [1, 3, 32])
def test_extract_faces_list_equals_single_calls(
    backend: str, mixed_batch: List[np.ndarray], batch_size: int
) -> None:
    options = dict(
        detector_backend=backend, enforce_detection=False, detector_options=detector_options(backend)
    )
    batched = DeepFace.extract_faces(mixed_batch, batch_size=batch_size, **options)
    singles = [DeepFace.extract_faces(img, **options) for img in mixed_batch]

    assert len(batched) == len(mixed_batch)
    for index, (single, batch) in enumerate(zip(singles, batched)):
        assert_same_face_dicts(single, batch, f"{backend} image {index}")
        for want, got in zip(single, batch):
            assert want["face"].shape == got["face"].shape
            np.testing.assert_allclose(want["face"], got["face"], atol=1 / 255 + 1e-9)


def test_skip_backend_batch_equals_single(mixed_batch: List[np.ndarray]) -> None:
    batched = DeepFace.extract_faces(mixed_batch, detector_backend="skip", batch_size=4)
    singles = [DeepFace.extract_faces(img, detector_backend="skip") for img in mixed_batch]
    for index, (single, batch) in enumerate(zip(singles, batched)):
        assert_same_face_dicts(single, batch, f"skip image {index}")
        np.testing.assert_array_equal(single[0]["face"], batch[0]["face"])
        assert batch[0]["facial_area"]["w"] == mixed_batch[index].shape[1] - 1  # deepface's clip
