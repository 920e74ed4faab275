"""A batch gives each image what a call on that image alone gives.

Two kinds of batching, each tested where it exists:

- Detectors with a batch path of their own (``native_batch``, their own
  ``detect_faces_batch``: mtcnn, yolov8n on torch and onnx, retinaface and fastmtcnn,
  with ``group_batch`` on) stack equally shaped images into one forward pass: their
  batched result must equal ``detect_faces`` image by image.
- Detectors that loop (opencv, dlib, mediapipe) use ``Detector.detect_faces_batch``,
  which calls ``detect_faces`` per image: comparing it with ``detect_faces`` would compare
  a loop with itself. What a batch changes for them is the pipeline (decoding ahead,
  chunking, failures, regrouping faces to input indices), so for every detector
  ``DeepFace.extract_faces`` on a list mixing faces, faceless images, files, arrays and
  unreadable inputs must give each input what a call on that input alone gives; a stub
  detector whose faces name the image they came from checks the regrouping exactly.
"""

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import pytest

from deepface import DeepFace
from deepface.commons.exceptions import (
    BatchError,
    BatchImageLoadError,
    FaceNotDetected,
    ImageLoadError,
    ImgNotFound,
)
from deepface.models.Detector import Detector, FacialAreaRegion, group_by_shape
from deepface.modules import modeling
from deepface.modules.detection import frame_image
from tests.conftest import YOLO_TEST_CONFIDENCE, assert_same_face_dicts, assert_same_regions


@dataclass(frozen=True)
class Case:
    """A detector under test: its name, its options, the packages it needs, and whether
    it has a batch path of its own (else it loops over ``detect_faces``)."""

    backend: str
    options: Dict[str, Any] = field(default_factory=dict)
    needs: Tuple[str, ...] = ()
    native: bool = False


YOLO_OPTIONS = {"min_confidence": YOLO_TEST_CONFIDENCE}
STACKED = {"group_batch": 4}  # stack equally shaped images even on a CPU, where it is off by default
CASES = {
    "opencv": Case("opencv"),
    "mtcnn": Case("mtcnn", STACKED, native=True),
    "yolov8n": Case("yolov8n", {**YOLO_OPTIONS, **STACKED, "engine": "torch"}, ("ultralytics",), native=True),
    "yolov8n-onnx": Case("yolov8n", {**YOLO_OPTIONS, **STACKED, "engine": "onnx"},
                         ("ultralytics", "onnx", "onnxruntime"), native=True),
    "retinaface": Case("retinaface", STACKED, ("retinaface",), native=True),
    "dlib": Case("dlib", needs=("dlib",)),
    "fastmtcnn": Case("fastmtcnn", STACKED, ("facenet_pytorch",), native=True),
    "mediapipe": Case("mediapipe", needs=("mediapipe",)),
}
NATIVE_CASES = sorted(name for name, case in CASES.items() if case.native)


def require(name: str) -> Case:
    chosen = CASES[name]
    for package in chosen.needs:
        pytest.importorskip(package, reason=f"{name} needs the {package} package")
    return chosen


def has_own_batch_path(detector: Detector) -> bool:
    """True when the detector overrides ``Detector.detect_faces_batch`` (not the base loop)."""
    return type(detector).detect_faces_batch is not Detector.detect_faces_batch


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request: pytest.FixtureRequest, weights_home) -> Case:
    return require(request.param)


@pytest.fixture(scope="module", params=NATIVE_CASES)
def native_case(request: pytest.FixtureRequest, weights_home) -> Case:
    return require(request.param)


def test_each_case_is_classified_by_its_real_batch_path(case: Case) -> None:
    """A loop detector that gains a batch path must move to the native tests, and back."""
    detector = modeling.build_model("face_detector", case.backend, **case.options)
    assert detector.native_batch == case.native, f"{case.backend}: native_batch={detector.native_batch}"
    assert has_own_batch_path(detector) == case.native, f"{case.backend}: detect_faces_batch overridden?"


def test_native_detect_faces_batch_equals_single(native_case: Case, mixed_batch: List[np.ndarray]) -> None:
    backend = native_case.backend
    detector = modeling.build_model("face_detector", backend, **native_case.options)
    assert detector.native_batch and has_own_batch_path(detector), f"{backend}: no batch path to test"
    framed = [frame_image(img, 0.5).pixels for img in mixed_batch]
    assert max(len(group) for group in group_by_shape(framed).values()) >= 2, "nothing to stack"

    batched = detector.detect_faces_batch(framed)
    singles = [detector.detect_faces(img) for img in framed]

    assert len(batched) == len(framed)
    for index, (single, batch) in enumerate(zip(singles, batched)):
        assert_same_regions(single, batch, f"{backend} image {index}")
    assert any(singles), f"{backend} found no face in the whole batch: the test proves nothing"


# ---------------------------------------------------------------- the pipeline, real detectors

@pytest.fixture(scope="module")
def mixed_inputs(mixed_batch: List[np.ndarray], tmp_path_factory: pytest.TempPathFactory) -> List[Any]:
    """The mixed batch as arrays and PNG files, with two unreadable inputs among them."""
    folder = tmp_path_factory.mktemp("mixed-inputs")

    def saved(index: int) -> str:
        path = folder / f"image{index}.png"
        assert cv2.imwrite(str(path), mixed_batch[index])
        return str(path)

    return [
        mixed_batch[0],  # several faces
        str(folder / "missing.jpg"),  # no such file
        saved(1),
        mixed_batch[2],  # no face
        b"not an image",  # undecodable bytes
        mixed_batch[3],
        saved(4),
        mixed_batch[5],
        mixed_batch[6],
    ]


def alone(inputs: Sequence[Any], **options: Any) -> Dict[int, Any]:
    """Each input's own call: its faces, or the exception it raised."""
    outcomes: Dict[int, Any] = {}
    for index, item in enumerate(inputs):
        try:
            outcomes[index] = DeepFace.extract_faces(item, **options)
        except (ImgNotFound, FaceNotDetected) as error:  # ImageLoadError is an ImgNotFound
            outcomes[index] = error
    return outcomes


def batch_outcomes(inputs: Sequence[Any], **options: Any) -> Tuple[Dict[int, Exception], Dict[int, List[dict]]]:
    """One batch call: the failed inputs' errors and the others' faces, by input index."""
    try:
        results = DeepFace.extract_faces(list(inputs), **options)
    except BatchError as error:
        return error.errors, error.results
    assert len(results) == len(inputs)
    return {}, dict(enumerate(results))


def answer_signature(faces: List[dict]) -> Tuple[Tuple[int, ...], ...]:
    """The boxes of one input's answer: what tells two inputs' answers apart."""
    return tuple(tuple(face["facial_area"][k] for k in "xywh") for face in faces)


def no_usable_face(faces: List[dict]) -> bool:
    """True for enforce_detection=False's answer to an image without a usable face: the
    whole image with confidence 0 (nothing detected), or ``[]`` (every detected box empty
    once cropped, as deepface answers too); enforce_detection=True fails such an input."""
    if not faces:
        return True
    return len(faces) == 1 and faces[0]["confidence"] == 0 and faces[0]["facial_area"]["x"] == 0 \
        and faces[0]["facial_area"]["y"] == 0


def assert_batch_matches_alone(
    alone_outcomes: Dict[int, Any], errors: Dict[int, Exception], results: Dict[int, List[dict]], context: str
) -> None:
    want_failed = sorted(i for i, outcome in alone_outcomes.items() if isinstance(outcome, Exception))
    assert sorted(errors) == want_failed, f"{context}: failed inputs"
    assert sorted(results) == sorted(set(alone_outcomes) - set(want_failed)), f"{context}: kept inputs"
    for index, error in errors.items():
        assert isinstance(error, type(alone_outcomes[index])), f"{context}: input {index}: {error!r}"
    for index, faces in results.items():
        single = alone_outcomes[index]
        assert_same_face_dicts(single, faces, f"{context} input {index}")
        for want, got in zip(single, faces):
            assert want["face"].shape == got["face"].shape
            np.testing.assert_allclose(want["face"], got["face"], atol=1 / 255 + 1e-9)


@pytest.fixture(scope="module")
def alone_by_case(case: Case, mixed_inputs: List[Any]) -> Dict[int, Any]:
    """Each input's own call for this case (enforce_detection=False): faces, or its error."""
    return alone(mixed_inputs, detector_backend=case.backend, detector_options=case.options,
                 enforce_detection=False)


@pytest.mark.parametrize("batch_size", [3, 32])  # 3 splits the equally shaped images across chunks
def test_extract_faces_list_equals_single_calls(
    case: Case, mixed_inputs: List[Any], alone_by_case: Dict[int, Any], batch_size: int
) -> None:
    options = dict(detector_backend=case.backend, detector_options=case.options, batch_size=batch_size)
    answers = {answer_signature(o) for o in alone_by_case.values() if isinstance(o, list)}
    assert len(answers) >= 3, f"{case.backend}: the inputs' answers barely differ, a misrouted batch would pass"
    errors, results = batch_outcomes(mixed_inputs, enforce_detection=False, **options)
    assert_batch_matches_alone(alone_by_case, errors, results, f"{case.backend} batch {batch_size}")


def test_enforce_detection_fails_the_inputs_without_faces(
    case: Case, mixed_inputs: List[Any], alone_by_case: Dict[int, Any]
) -> None:
    """One image at a time (batch size 1); the faceless inputs are those whose own call
    found no usable face, the unreadable ones those whose own call raised."""
    unreadable = {i for i, o in alone_by_case.items() if isinstance(o, Exception)}
    faceless = {i for i, o in alone_by_case.items() if i not in unreadable and no_usable_face(o)}
    assert faceless, f"{case.backend} found a face in every input: the test proves nothing"
    errors, results = batch_outcomes(mixed_inputs, detector_backend=case.backend, detector_options=case.options,
                                     enforce_detection=True, batch_size=1)
    assert sorted(errors) == sorted(unreadable | faceless)
    for index in faceless:
        assert isinstance(errors[index], (FaceNotDetected, ImgNotFound)), f"input {index}: {errors[index]!r}"
        assert not isinstance(errors[index], ImageLoadError), f"input {index}: {errors[index]!r}"
    kept = {i: o for i, o in alone_by_case.items() if i not in errors}
    assert_batch_matches_alone(kept, {}, results, f"{case.backend} enforced")


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
    torch_engine = modeling.build_model("face_detector", "yolov8n", **YOLO_OPTIONS, engine="torch")
    onnx_engine = modeling.build_model("face_detector", "yolov8n", **YOLO_OPTIONS, engine="onnx")
    framed = [frame_image(img, 0.5).pixels for img in mixed_batch]
    for index, img in enumerate(framed):
        assert_same_regions(torch_engine.detect_faces(img), onnx_engine.detect_faces(img), f"image {index}")


# ---------------------------------------------------------------- the pipeline, exactly


class LabelDetector(Detector):
    """Finds faces that name their image: an image filled with grey level ``v`` (inside
    deepface's black border) holds ``v % 3`` faces, each placed and scored from ``v``."""

    def __init__(self, native_batch: bool) -> None:
        self.native_batch = native_batch

    def detect_faces(self, img: np.ndarray) -> List[FacialAreaRegion]:
        rows, cols = np.nonzero(img[:, :, 0])
        if len(rows) == 0:
            return []
        top, left = int(rows.min()), int(cols.min())
        level = int(img[top, left, 0])
        return [
            FacialAreaRegion(x=left + x, y=top + y, w=w, h=h, confidence=confidence)
            for x, y, w, h, confidence in label_faces(level)
        ]

    def detect_faces_batch(self, imgs: Sequence[np.ndarray]) -> List[List[FacialAreaRegion]]:
        if not self.native_batch:
            return super().detect_faces_batch(imgs)
        # answer in reverse order, then put back: a stand-in for an engine's own ordering
        found = {index: self.detect_faces(imgs[index]) for index in reversed(range(len(imgs)))}
        return [found[index] for index in range(len(imgs))]


def label_faces(level: int) -> List[Tuple[int, int, int, int, float]]:
    """The faces (x, y, w, h, confidence) in the original image of grey level ``level``."""
    return [(3 * k, level % 5, 10 + level % 4, 12, level / 255) for k in range(level % 3)]


LEVELS = [30, 43, 62, 75, 89, 100, 116, 128, 141, 155]  # level % 3: 0, 1 or 2 faces; all distinct


@pytest.fixture(scope="module")
def labelled_inputs(tmp_path_factory: pytest.TempPathFactory) -> Tuple[List[Any], List[Optional[int]]]:
    """Grey images of a few shapes as arrays and files, and unreadable inputs; with each
    input's grey level (None: unreadable)."""
    folder = tmp_path_factory.mktemp("labelled")
    shapes = [(60, 80), (48, 48), (60, 80), (90, 40)]
    inputs: List[Any] = []
    levels: List[Optional[int]] = []
    for k, level in enumerate(LEVELS):
        img = np.full((*shapes[k % len(shapes)], 3), level, np.uint8)
        if k % 2:
            path = folder / f"level{level}.png"
            cv2.imwrite(str(path), img)
            inputs.append(str(path))
        else:
            inputs.append(img)
        levels.append(level)
        if k in (2, 6):
            inputs.append(str(folder / f"missing{k}.png") if k == 2 else b"\x89PNG broken")
            levels.append(None)
    return inputs, levels


def expected_faces(level: int) -> List[Tuple[int, int, int, int, float]]:
    return [(x, y, w, h, round(c, 2)) for x, y, w, h, c in label_faces(level)]


def as_tuples(faces: List[dict]) -> List[Tuple[int, int, int, int, float]]:
    return [tuple(f["facial_area"][k] for k in "xywh") + (f["confidence"],) for f in faces]


@pytest.mark.parametrize("native_batch", [False, True], ids=["loop", "native"])
@pytest.mark.parametrize("batch_size", [1, 2, 5, 64])
@pytest.mark.parametrize("decode_threads", ["0", "3"])
def test_pipeline_gives_each_input_its_own_faces(
    monkeypatch: pytest.MonkeyPatch, labelled_inputs, native_batch: bool, batch_size: int, decode_threads: str
) -> None:
    inputs, levels = labelled_inputs
    stub = LabelDetector(native_batch)
    monkeypatch.setattr(modeling, "build_model", lambda *args, **kwargs: stub)
    monkeypatch.setenv("DEEPFACE_DECODE_THREADS", decode_threads)
    unreadable = [i for i, level in enumerate(levels) if level is None]
    faceless = [i for i, level in enumerate(levels) if level is not None and level % 3 == 0]
    # align=False keeps the crops unrotated; the border is asked for, so it is removed again
    options = dict(detector_backend="opencv", batch_size=batch_size, align=False, detection_border=0.5)

    with pytest.raises(BatchImageLoadError) as caught:
        DeepFace.extract_faces(inputs, enforce_detection=False, **options)
    assert sorted(caught.value.errors) == unreadable
    for index, faces in caught.value.results.items():
        if levels[index] % 3 == 0:  # no face: the whole image, confidence 0
            (whole,) = faces
            assert whole["confidence"] == 0, f"input {index}"
        else:
            assert as_tuples(faces) == expected_faces(levels[index]), f"input {index}"

    with pytest.raises(BatchImageLoadError) as caught:
        DeepFace.extract_faces(inputs, enforce_detection=True, **options)
    assert sorted(caught.value.errors) == sorted(unreadable + faceless)
    assert all(isinstance(caught.value.errors[i], FaceNotDetected) for i in faceless)

    streamed = list(DeepFace.extract_faces_iter(iter(inputs), enforce_detection=True, **options))
    assert [result.index for result, _ in streamed] == list(range(len(inputs)))
    for result, faces in streamed:
        failed = result.index in unreadable or result.index in faceless
        assert (result.error is not None) == failed, f"input {result.index}: {result.error!r}"
        if not failed:
            assert as_tuples(faces) == expected_faces(levels[result.index]), f"input {result.index}"
