"""Age, Gender, Race and Emotion: the same predictions and preprocessing as deepface 0.0.103.

Random weights are written by the oracle's own model code under deepface's file names (so
loading them checks our layers' order and shapes), then rescaled so that the random
networks give spread-out probabilities (fresh ones answer almost uniformly). The oracle's
models, run face by face as ``analyze`` runs them, are the reference.
"""

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List

import cv2
import numpy as np
import pytest

from deepface.commons.exceptions import InvalidEmbeddingsShapeError
from deepface.models.Demography import Demography
from deepface.models.demography import Age, DemographyUtils, Emotion, Gender, Race
from tests.conftest import SHARED_FACES, shared_faces_or_skip
from tests.helpers.demography_weights import rescaled_demography_home
from tests.helpers.oracle import ORACLE_DIR, oracle_or_skip, run_oracle_script

TOLERANCE = 1e-5  # probabilities
AGE_TOLERANCE = 1e-3  # apparent ages: 101 probabilities weighted by up to 100
PERCENT_TOLERANCE = 1e-3  # analyze's percentages: probabilities times 100
PIXEL_TOLERANCE = 1e-6
PHOTOS = ("img1.jpg", "img3.jpg")


@dataclass(frozen=True)
class Case:
    """A model as deepface names it, how to build ours, and its weights and classes."""

    name: str
    build: Callable[[], Demography]
    module: Any
    weight_file: str
    classes: int


CASES: Dict[str, Case] = {
    "Age": Case("Age", Age.ApparentAgeClient, Age, "age_model_weights.h5", 101),
    "Gender": Case("Gender", Gender.GenderClient, Gender, "gender_model_weights.h5", 2),
    "Race": Case("Race", Race.RaceClient, Race, "race_model_single_batch.h5", 6),
    "Emotion": Case("Emotion", Emotion.EmotionClient, Emotion, "facial_expression_model_weights.h5", 7),
}


@dataclass
class OracleRun:
    """The oracle's results for ``crops`` (see tests/oracle/run_demography_forward.py)."""

    crops: List[np.ndarray]
    sources: List[str]  # "synthetic" or "photos", per crop
    arrays: Dict[str, np.ndarray]
    analyses: List[Dict[str, Any]]

    @property
    def prepared(self) -> np.ndarray:
        return self.arrays["prepared"]


@dataclass
class Built:
    """A model of ours with its outputs for the oracle's faces, each computed once."""

    case: Case
    client: Demography
    oracle: OracleRun
    probabilities: np.ndarray  # class_probabilities of the oracle's prepared faces
    predictions: np.ndarray  # predict_batch of the same
    from_crops: np.ndarray  # predict_batch of our own preparation of the crops


def synthetic_crops() -> List[np.ndarray]:
    """BGR uint8 noise crops of several shapes (taller, wider, exact, small, large), each
    with its own level, contrast and colour cast."""
    rng = np.random.default_rng(0)
    crops = []
    for height, width in ((150, 120), (90, 200), (37, 51), (300, 260)):
        low = rng.uniform(0, 100, 3)
        high = rng.uniform(150, 255, 3)
        crops.append((low + (high - low) * rng.random((height, width, 3))).astype(np.uint8))
    return crops


def photo_crops() -> List[np.ndarray]:
    """Central crops of a few shared photos (faces, roughly), downscaled; none if absent."""
    if not SHARED_FACES.is_dir():
        return []
    crops = []
    for name in PHOTOS:
        img = cv2.imread(str(SHARED_FACES / name))
        height, width = img.shape[:2]
        crop = img[height // 5 : height * 3 // 5, width // 4 : width * 3 // 4]
        crops.append(cv2.resize(crop, (crop.shape[1] // 4, crop.shape[0] // 4), interpolation=cv2.INTER_AREA))
    return crops


@pytest.fixture(scope="module")
def model_home(weights_home: Path) -> Path:
    """The run's DEEPFACE_HOME holding the four models' rescaled random weights."""
    oracle_or_skip()
    return rescaled_demography_home(weights_home)


@pytest.fixture(scope="module")
def oracle_run(model_home: Path) -> OracleRun:
    """One oracle process: preprocessing, the four models and ``analyze`` of every crop."""
    synthetic, photos = synthetic_crops(), photo_crops()
    crops = synthetic + photos
    source, target = model_home / "crops.npz", model_home / "oracle.npz"
    analyses = model_home / "analyses.json"
    np.savez(source, **{f"crop_{k}": crop for k, crop in enumerate(crops)})
    paths = [str(source), str(target), str(analyses)]
    out = run_oracle_script("run_demography_forward.py", paths, model_home)
    assert str(ORACLE_DIR) in out, "the oracle run did not use upstream deepface"
    with np.load(target) as stored:
        arrays = {name: stored[name] for name in stored.files}
    return OracleRun(
        crops=crops,
        sources=["synthetic"] * len(synthetic) + ["photos"] * len(photos),
        arrays=arrays,
        analyses=json.loads(analyses.read_text()),
    )


@pytest.fixture(scope="module", params=list(CASES))
def built(request: pytest.FixtureRequest, model_home: Path, oracle_run: OracleRun) -> Built:
    """Each model once per module, one at a time (the VGG-based ones are ~540 MB each)."""
    case = CASES[request.param]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEEPFACE_HOME", str(model_home))
        client = case.build()
    prepared = oracle_run.prepared
    return Built(
        case,
        client,
        oracle_run,
        probabilities=client.class_probabilities(prepared),
        predictions=client.predict_batch(prepared),
        from_crops=client.predict_batch(DemographyUtils.prepare_faces(oracle_run.crops)),
    )


# ------------------------------------------------------------------ the models


def test_probabilities_equal_the_oracles(built: Built) -> None:
    expected = built.oracle.arrays[f"{built.case.name}_probabilities"]
    got = built.probabilities
    assert got.shape == (len(built.oracle.crops), built.case.classes) and got.dtype == np.float32
    assert np.ptp(expected, axis=1).min() > 1e-3, "degenerate random model: a uniform answer"
    assert np.ptp(expected, axis=0).max() > 1e-3, "degenerate random model: the same answer for all"
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE)


def test_predictions_equal_the_oracles_batched_predict(built: Built) -> None:
    expected = built.oracle.arrays[f"{built.case.name}_batch"]
    got = built.predictions
    assert got.shape == expected.shape and got.dtype == expected.dtype
    tolerance = AGE_TOLERANCE if built.case.name == "Age" else TOLERANCE
    np.testing.assert_allclose(got, expected, rtol=0, atol=tolerance)


def test_batch_equals_single(built: Built) -> None:
    for k, face in enumerate(built.oracle.prepared):
        alone = built.client.class_probabilities(face[np.newaxis])
        np.testing.assert_allclose(
            built.probabilities[k], alone[0], rtol=0, atol=TOLERANCE, err_msg=f"face {k}"
        )


def test_predict_gives_one_faces_prediction_or_rows(built: Built) -> None:
    """deepface's ``predict``: a face (3-D) gives its own prediction, a list gives rows."""
    faces = built.oracle.prepared
    single = built.client.predict(faces[0])
    if built.case.name == "Age":
        assert isinstance(single, np.float64)
    else:
        assert single.shape == (built.case.classes,) and single.dtype == np.float32
    tolerance = AGE_TOLERANCE if built.case.name == "Age" else TOLERANCE
    np.testing.assert_allclose(single, built.predictions[0], rtol=0, atol=tolerance)
    several = built.client.predict(list(faces[:2]))
    np.testing.assert_allclose(several, built.predictions[:2], rtol=0, atol=tolerance)


def test_analyze_entries_equal_the_oracles(built: Built) -> None:
    """Crop to ``analyze``'s entries: our preprocessing, model and reporting against
    deepface's ``analyze`` with ``detector_backend="skip"``."""
    client, oracle = built.client, built.oracle
    for k, (prediction, expected) in enumerate(zip(built.from_crops, oracle.analyses)):
        got = client.attributes(prediction)
        if client.action == "age":
            assert got == {"age": expected["age"]}, f"crop {k}"
            continue
        dominant = f"dominant_{client.action}"
        assert got[dominant] == expected[dominant], f"crop {k}"
        assert list(got[client.action]) == list(expected[client.action]), f"crop {k}: labels"
        for label, value in expected[client.action].items():
            assert abs(got[client.action][label] - value) <= PERCENT_TOLERANCE, f"crop {k}: {label}"


def test_empty_batch_gives_no_rows(built: Built) -> None:
    empty = np.zeros((0, 224, 224, 3), dtype=np.float32)
    got = built.client.predict_batch(empty)
    assert got.shape == ((0,) if built.case.name == "Age" else (0, built.case.classes))


def test_faces_of_a_wrong_shape_raise(built: Built) -> None:
    with pytest.raises(InvalidEmbeddingsShapeError):
        built.client.predict(np.zeros((2, 224, 224), dtype=np.float32))
    if built.case.name != "Emotion":  # the emotion model resizes any face to 48x48
        with pytest.raises(InvalidEmbeddingsShapeError, match="224"):
            built.client.predict(np.zeros((1, 100, 100, 3), dtype=np.float32))


# ------------------------------------------------------------------ preprocessing


@pytest.mark.parametrize("source", ["synthetic", "photos"])
def test_prepared_faces_equal_the_oracles(source: str, oracle_run: OracleRun) -> None:
    if source == "photos":
        shared_faces_or_skip()
    indexes = [k for k, name in enumerate(oracle_run.sources) if name == source]
    assert indexes
    for k in indexes:
        prepared = DemographyUtils.prepare_face(oracle_run.crops[k])
        assert prepared.shape == (224, 224, 3) and prepared.dtype == np.float32
        np.testing.assert_allclose(prepared, oracle_run.prepared[k], rtol=0, atol=PIXEL_TOLERANCE)
        gray = Emotion.gray_face(oracle_run.prepared[k])
        np.testing.assert_allclose(gray, oracle_run.arrays["gray"][k], rtol=0, atol=PIXEL_TOLERANCE)
    crops = [oracle_run.crops[k] for k in indexes]
    batch = DemographyUtils.prepare_faces(crops)
    np.testing.assert_array_equal(batch, np.stack([DemographyUtils.prepare_face(crop) for crop in crops]))


def test_emotion_input_is_each_gray_face_with_a_channel() -> None:
    faces = DemographyUtils.prepare_faces(synthetic_crops()[:3])
    inputs = Emotion.emotion_input(faces)
    assert inputs.shape == (3, 48, 48, 1) and inputs.dtype == np.float32
    for k, face in enumerate(faces):
        np.testing.assert_array_equal(inputs[k, :, :, 0], Emotion.gray_face(face))


def test_prepare_faces_of_nothing_is_an_empty_batch() -> None:
    assert DemographyUtils.prepare_faces([]).shape == (0, 224, 224, 3)


def test_face_batch_takes_a_face_a_list_or_a_batch() -> None:
    face = np.full((224, 224, 3), 0.5)
    for one in (face, face[np.newaxis], [face]):
        batch = DemographyUtils.face_batch(one)
        assert batch.shape == (1, 224, 224, 3) and batch.dtype == np.float32
    assert DemographyUtils.face_batch([face, face]).shape == (2, 224, 224, 3)
    with pytest.raises(InvalidEmbeddingsShapeError):
        DemographyUtils.face_batch(np.zeros((224, 224)))


def test_apparent_ages_equal_find_apparent_age_row_by_row() -> None:
    rng = np.random.default_rng(1)
    logits = rng.normal(0, 3, (6, 101)).astype(np.float32)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    ages = DemographyUtils.apparent_ages(probabilities)
    assert ages.dtype == np.float64
    for row, age in zip(probabilities, ages):
        assert age == DemographyUtils.find_apparent_age(row)
    one_hot = np.eye(101, dtype=np.float32)[[0, 37, 100]]
    np.testing.assert_array_equal(DemographyUtils.apparent_ages(one_hot), [0.0, 37.0, 100.0])
    with pytest.raises(InvalidEmbeddingsShapeError):
        DemographyUtils.find_apparent_age(probabilities)


# ------------------------------------------------------------------ deepface's constants


def _oracle_source(relative: str) -> str:
    return (oracle_or_skip() / "deepface" / "models" / "demography" / relative).read_text()


def _oracle_constant(relative: str, constant: str) -> Any:
    """A module-level constant of an oracle module, read without importing it (it shares
    this package's name)."""
    for node in ast.parse(_oracle_source(relative)).body:
        targets = [node.target] if isinstance(node, ast.AnnAssign) else getattr(node, "targets", [])
        if any(getattr(target, "id", None) == constant for target in targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{constant} not found in {relative}")


@pytest.mark.parametrize("name", list(CASES))
def test_weight_files_and_urls_are_deepfaces(name: str) -> None:
    case = CASES[name]
    assert case.module.WEIGHTS_URL == _oracle_constant(f"tf/{name}.py", "WEIGHTS_URL")
    file_names = re.findall(r'file_name="([^"]+)"', _oracle_source(f"tf/{name}.py"))
    assert file_names == [case.module.WEIGHT_FILE] == [case.weight_file]


def test_labels_are_deepfaces() -> None:
    for constant in ("EMOTION_LABELS", "GENDER_LABELS", "RACE_LABELS"):
        assert getattr(DemographyUtils, constant) == _oracle_constant("DemographyUtils.py", constant)
    assert Emotion.EmotionClient.labels == DemographyUtils.EMOTION_LABELS
    assert Gender.GenderClient.labels == DemographyUtils.GENDER_LABELS
    assert Race.RaceClient.labels == DemographyUtils.RACE_LABELS
