"""Thread safety: the public functions give the same answers from many threads at once,
for every detector that runs here, and the model registry never makes a cache hit wait
behind another model's build."""

import functools
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Tuple

import numpy as np
import pytest

from deepface import DeepFace
from deepface.modules import modeling
from deepface.modules.detection import frame_image
from deepface.modules.modeling import ModelSpec
from tests.conftest import YOLO_TEST_CONFIDENCE

THREADS = 8
ROUNDS = 1  # each image alone once, and in one of the small batches


@dataclass(frozen=True)
class Case:
    backend: str
    options: Dict[str, Any] = field(default_factory=dict)
    needs: Tuple[str, ...] = ()


YOLO = {"min_confidence": YOLO_TEST_CONFIDENCE}
CASES = {
    "opencv": Case("opencv"),
    "mtcnn": Case("mtcnn"),
    "yolov8n": Case("yolov8n", {**YOLO, "engine": "torch"}, ("ultralytics",)),
    "yolov8n-onnx": Case("yolov8n", {**YOLO, "engine": "onnx"}, ("ultralytics", "onnx", "onnxruntime")),
    # random weights: below deepface's 0.9, so that some faces are found to compare
    "retinaface": Case("retinaface", {"threshold": 0.5}, ("retinaface",)),
    "dlib": Case("dlib", needs=("dlib",)),
    "fastmtcnn": Case("fastmtcnn", needs=("facenet_pytorch",)),
    "mediapipe": Case("mediapipe", needs=("mediapipe",)),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request: pytest.FixtureRequest, weights_home) -> Case:
    chosen = CASES[request.param]
    for package in chosen.needs:
        pytest.importorskip(package, reason=f"{request.param} needs the {package} package")
    return chosen


def _comparable(faces: List[Dict[str, Any]]) -> List[Tuple[Any, ...]]:
    return [(face["facial_area"], face["confidence"], face["face"].shape) for face in faces]


def _in_threads(jobs: List[Callable[[], Any]]) -> List[Any]:
    """Run ``jobs`` on THREADS threads, the first THREADS of them starting together."""
    start = threading.Barrier(THREADS)

    def run(position: int) -> Any:
        if position < THREADS:
            start.wait(timeout=60)
        return jobs[position]()

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(run, range(len(jobs))))


def test_many_threads_give_the_answers_of_a_sequential_run(case: Case, mixed_batch: List[np.ndarray]) -> None:
    """``extract_faces`` (single images and small batches) and the detector's own calls,
    interleaved on 8 threads, each image several times, equal a sequential run."""
    options = dict(detector_backend=case.backend, enforce_detection=False, detector_options=case.options)
    detector = modeling.build_model("face_detector", case.backend, **case.options)
    framed = [frame_image(img, 0.5).pixels for img in mixed_batch]
    sequential_faces = [DeepFace.extract_faces(img, **options) for img in mixed_batch]
    sequential_regions = [detector.detect_faces_batch([img])[0] for img in framed]
    # Random-weight models may find boxes that crop to nothing: the regions prove the point.
    assert any(sequential_regions), f"{case.backend} found no face at all: the test proves nothing"

    batches = [(i,) for _ in range(ROUNDS) for i in range(len(mixed_batch))] + [(0, 3, 5), (6, 1), (2, 4)]
    jobs: List[Callable[[], Any]] = []
    for batch in batches:
        jobs.append(functools.partial(DeepFace.extract_faces, [mixed_batch[i] for i in batch], **options))
        jobs.append(functools.partial(detector.detect_faces_batch, [framed[i] for i in batch]))
    outcomes = _in_threads(jobs)

    for batch, faces_of, regions_of in zip(batches, outcomes[0::2], outcomes[1::2]):
        for index, faces, regions in zip(batch, faces_of, regions_of):
            where = f"{case.backend} image {index}"
            assert regions == sequential_regions[index], where
            assert _comparable(faces) == _comparable(sequential_faces[index]), where
            for got, want in zip(faces, sequential_faces[index]):
                np.testing.assert_array_equal(got["face"], want["face"])


# ---------------------------------------------------------------- the registry


class SlowModel:
    """A model whose build waits until the test releases it."""

    started = threading.Event()
    release = threading.Event()

    def __init__(self) -> None:
        SlowModel.started.set()
        assert SlowModel.release.wait(timeout=30), "never released"


class OtherModel:
    """Another model, built while SlowModel's build is in progress."""


def test_cache_hits_and_other_builds_do_not_wait_behind_a_slow_build(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(modeling.FACE_DETECTORS, "test-slow", ModelSpec(f"{__name__}:SlowModel"))
    monkeypatch.setitem(modeling.FACE_DETECTORS, "test-other", ModelSpec(f"{__name__}:OtherModel"))
    cached = modeling.build_model("face_detector", "opencv")
    SlowModel.started.clear()
    SlowModel.release.clear()
    with ThreadPoolExecutor(3) as pool:
        slow = pool.submit(modeling.build_model, "face_detector", "test-slow")
        assert SlowModel.started.wait(timeout=30)
        hit = pool.submit(modeling.build_model, "face_detector", "opencv")
        other = pool.submit(modeling.build_model, "face_detector", "test-other")
        try:
            assert hit.result(timeout=10) is cached
            assert isinstance(other.result(timeout=10), OtherModel)
            assert not slow.done()
        finally:
            SlowModel.release.set()
        assert isinstance(slow.result(timeout=30), SlowModel)
    assert modeling.build_model("face_detector", "test-slow") is slow.result()
    modeling.forget("face_detector", "test-slow")
    modeling.forget("face_detector", "test-other")


def test_concurrent_first_builds_of_one_model_build_it_once(monkeypatch: pytest.MonkeyPatch) -> None:
    built = []

    class Counted:
        def __init__(self) -> None:
            built.append(self)

    monkeypatch.setattr(ModelSpec, "build", lambda self, **options: Counted())
    monkeypatch.setitem(modeling.FACE_DETECTORS, "test-counted", ModelSpec("unused:Unused"))
    with ThreadPoolExecutor(THREADS) as pool:
        models = list(pool.map(lambda _: modeling.build_model("face_detector", "test-counted"), range(32)))
    assert len(built) == 1 and all(model is built[0] for model in models)
    modeling.forget("face_detector", "test-counted")
