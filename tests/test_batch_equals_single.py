"""Batched detection equals one-image-at-a-time detection, for every detector here."""

from dataclasses import dataclass, field
from typing import Any, Dict, List, Tuple

import numpy as np
import pytest

from deepface import DeepFace
from deepface.modules import modeling
from deepface.modules.detection import frame_image
from tests.conftest import YOLO_TEST_CONFIDENCE, assert_same_face_dicts, assert_same_regions

@dataclass(frozen=True)
class Case:
    """A detector under test: its name, its options, and the packages it needs."""

    backend: str
    options: Dict[str, Any] = field(default_factory=dict)
    needs: Tuple[str, ...] = ()


YOLO_OPTIONS = {"min_confidence": YOLO_TEST_CONFIDENCE}
STACKED = {"group_batch": 4}  # stack equally shaped images even on a CPU, where it is off by default
CASES = {
    "opencv": Case("opencv"),
    "mtcnn": Case("mtcnn", STACKED),
    "yolov8n": Case("yolov8n", {**YOLO_OPTIONS, **STACKED}, ("ultralytics",)),
    "yolov8n-onnx": Case("yolov8n", {**YOLO_OPTIONS, **STACKED, "engine": "onnx"},
                         ("ultralytics", "onnx", "onnxruntime")),
    "retinaface": Case("retinaface", STACKED, ("retinaface",)),
    "dlib": Case("dlib", needs=("dlib",)),
    "fastmtcnn": Case("fastmtcnn", STACKED, ("facenet_pytorch",)),
    "mediapipe": Case("mediapipe", needs=("mediapipe",)),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request: pytest.FixtureRequest, weights_home) -> Case:
    chosen = CASES[request.param]
    for package in chosen.needs:
        pytest.importorskip(package, reason=f"{request.param} needs the {package} package")
    return chosen


def test_detect_faces_batch_equals_single(case: Case, mixed_batch: List[np.ndarray]) -> None:
    backend = case.backend
    detector = modeling.build_model("face_detector", backend, **case.options)
    framed = [frame_image(img, 0.5).pixels for img in mixed_batch]

    batched = detector.detect_faces_batch(framed)
    singles = [detector.detect_faces(img) for img in framed]

    assert len(batched) == len(framed)
    for index, (single, batch) in enumerate(zip(singles, batched)):
        assert_same_regions(single, batch, f"{backend} image {index}")
    assert any(singles), f"{backend} found no face in the whole batch: the test proves nothing"


@pytest.mark.parametrize("batch_size", [1, 3, 32])
def test_extract_faces_list_equals_single_calls(
    case: Case, mixed_batch: List[np.ndarray], batch_size: int
) -> None:
    backend = case.backend
    options = dict(detector_backend=backend, enforce_detection=False, detector_options=case.options)
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


def test_onnx_engine_finds_what_ultralytics_finds(weights_home, mixed_batch: List[np.ndarray]) -> None:
    for package in ("ultralytics", "onnx", "onnxruntime"):
        pytest.importorskip(package)
    torch_engine = modeling.build_model("face_detector", "yolov8n", **YOLO_OPTIONS)
    onnx_engine = modeling.build_model("face_detector", "yolov8n", **YOLO_OPTIONS, engine="onnx")
    framed = [frame_image(img, 0.5).pixels for img in mixed_batch]
    for index, img in enumerate(framed):
        assert_same_regions(torch_engine.detect_faces(img), onnx_engine.detect_faces(img), f"image {index}")
