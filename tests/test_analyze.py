"""``analyze``: deepface 0.0.103's answers (same random weights, read by both packages),
and a batch gives each image the answers it gets alone."""

import json
from pathlib import Path
from typing import Any, Dict, List

import cv2
import numpy as np
import pytest

from deepface import DeepFace
from deepface.commons.exceptions import BatchImageLoadError, ImageLoadError, UnimplementedError
from deepface.modules import modeling
from tests.helpers.demography_weights import WEIGHT_FILES, rescaled_demography_home
from tests.helpers.oracle import ORACLE_DIR, oracle_or_skip, run_oracle_script

PERCENT_TOLERANCE = 1e-3  # probabilities within 1e-5, times 100
ACTION_KEYS = {
    "emotion": ("emotion", "dominant_emotion"),
    "age": ("age",),
    "gender": ("gender", "dominant_gender"),
    "race": ("race", "dominant_race"),
}


@pytest.fixture(scope="module")
def attribute_models(weights_home: Path) -> Path:
    """The four attribute models built from rescaled random weights (the registry keeps
    them for this module's calls); the folder holding those weights."""
    oracle_or_skip()
    home = rescaled_demography_home(weights_home)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEEPFACE_HOME", str(home))
        for name in WEIGHT_FILES:
            modeling.forget("facial_attribute", name)
            modeling.build_model("facial_attribute", name)
    yield home
    for name in WEIGHT_FILES:
        modeling.forget("facial_attribute", name)


@pytest.fixture(scope="module")
def photo_files(face_photos: Dict[str, np.ndarray], tmp_path_factory: pytest.TempPathFactory) -> List[str]:
    """Three shared photos, downscaled, as files both packages read."""
    folder = tmp_path_factory.mktemp("analyze-photos")
    paths = []
    for name in ("couple.jpg", "img1.jpg", "img3.jpg"):
        img = face_photos[name]
        small = cv2.resize(img, (480, round(img.shape[0] * 480 / img.shape[1])), interpolation=cv2.INTER_AREA)
        path = folder / name
        cv2.imwrite(str(path), small)
        paths.append(str(path))
    return paths


def assert_same_analysis(expected: List[Dict[str, Any]], actual: List[Dict[str, Any]], where: str) -> None:
    """Same faces, keys in the same order, regions and labels equal, percentages within 1e-3."""
    assert len(actual) == len(expected), f"{where}: {len(actual)} faces, expected {len(expected)}"
    for k, (want, got) in enumerate(zip(expected, actual)):
        face = f"{where} face {k}"
        assert list(got) == list(want), f"{face}: keys {list(got)} vs {list(want)}"
        for key, value in want.items():
            if isinstance(value, dict) and key != "region":
                assert list(got[key]) == list(value), f"{face}: {key} labels"
                for label, percent in value.items():
                    assert abs(float(got[key][label]) - percent) <= PERCENT_TOLERANCE, f"{face}: {key}[{label}]"
            else:
                assert _plain(got[key]) == _plain(value), f"{face}: {key} {got[key]!r} vs {value!r}"


def by_region(faces: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return sorted(faces, key=lambda face: (face["region"]["x"], face["region"]["y"]))


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=lambda item: item.item()))


def test_analyze_equals_deepface(attribute_models: Path, photo_files: List[str]) -> None:
    cases = [
        {"detector_backend": "opencv", "enforce_detection": False},
        {"detector_backend": "skip", "actions": ["age", "emotion"]},
    ]
    request = {"images": photo_files, "cases": cases}
    for options in cases:
        out = run_oracle_script(
            "run_analyze.py", [json.dumps({"images": request["images"], "options": options})], attribute_models
        )
        line = [line for line in out.splitlines() if line.startswith("ORACLE-JSON ")][-1]
        answer = json.loads(line[len("ORACLE-JSON "):])
        assert Path(answer["deepface_file"]).resolve().is_relative_to(ORACLE_DIR.resolve())
        ours = DeepFace.analyze(photo_files, **options)
        for path, want, got in zip(photo_files, answer["answers"], ours):
            # opencv's own order of faces varies from run to run; this package sorts them
            assert_same_analysis(by_region(want), by_region(got), f"{options} {Path(path).name}")


def test_a_batch_gives_each_image_the_answers_it_gets_alone(
    attribute_models: Path, mixed_batch: List[np.ndarray]
) -> None:
    singles = [DeepFace.analyze(img, enforce_detection=False) for img in mixed_batch]
    for batch_size in (1, 5, 32):
        batched = DeepFace.analyze(mixed_batch, enforce_detection=False, batch_size=batch_size)
        assert len(batched) == len(mixed_batch)
        for index, (single, batch) in enumerate(zip(singles, batched)):
            assert_same_analysis(single, batch, f"batch_size {batch_size} image {index}")
    assert sum(len(faces) for faces in singles) > len(mixed_batch), "too few faces to prove the pooling"


def test_values_have_deepface_s_types_and_keys(attribute_models: Path, mixed_batch: List[np.ndarray]) -> None:
    (face, *_) = DeepFace.analyze(mixed_batch[1], actions=("gender", "age"))
    assert list(face) == ["gender", "dominant_gender", "region", "face_confidence", "age"]
    assert isinstance(face["age"], int) and isinstance(face["face_confidence"], float)
    assert list(face["gender"]) == ["Woman", "Man"]
    assert all(isinstance(value, np.floating) for value in face["gender"].values())
    (only_age,) = DeepFace.analyze(mixed_batch[1], actions="age", detector_backend="skip")
    assert list(only_age) == ["age", "region", "face_confidence"]


@pytest.mark.parametrize("actions, error", [([], ValueError), (None, ValueError), (["smile"], UnimplementedError)])
def test_bad_actions_raise_deepface_s_errors(actions: Any, error: type) -> None:
    with pytest.raises(error):
        DeepFace.analyze(np.zeros((64, 64, 3), np.uint8), actions=actions)


def test_a_bad_input_fails_alone(attribute_models: Path, mixed_batch: List[np.ndarray], tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.jpg")
    with pytest.raises(BatchImageLoadError) as caught:
        DeepFace.analyze([mixed_batch[1], missing, mixed_batch[4]], actions="age")
    assert isinstance(caught.value.errors[1], ImageLoadError) and caught.value.errors[1].index == 1
    assert sorted(caught.value.results) == [0, 2]
    streamed = list(DeepFace.analyze_iter([mixed_batch[1], missing, mixed_batch[4]], actions="age"))
    assert [result.index for result, _ in streamed] == [0, 1, 2]
    assert streamed[1][0].error is not None and streamed[1][1] == []
    assert streamed[0][1] == caught.value.results[0]


def test_a_4d_array_is_a_batch_of_frames(attribute_models: Path, mixed_batch: List[np.ndarray]) -> None:
    frames = np.stack([mixed_batch[1], mixed_batch[6]])  # the same shape, mirrored
    batched = DeepFace.analyze(frames, actions=["age", "gender"], enforce_detection=False)
    assert len(batched) == 2
    for index, frame in enumerate(frames):
        assert_same_analysis(DeepFace.analyze(frame, actions=["age", "gender"], enforce_detection=False),
                             batched[index], f"frame {index}")


def test_threads_get_the_answers_of_a_sequential_run(attribute_models: Path, mixed_batch: List[np.ndarray]) -> None:
    """Four threads analyse single images and small batches at once, with the shared
    trunk and every model in use: each gets what a sequential run gets."""
    from concurrent.futures import ThreadPoolExecutor

    jobs = [[img] for img in mixed_batch] + [mixed_batch[:3], mixed_batch[3:]]
    sequential = [DeepFace.analyze(job, enforce_detection=False) for job in jobs]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(lambda job: DeepFace.analyze(job, enforce_detection=False), jobs))
    for number, (want, got) in enumerate(zip(sequential, threaded)):
        for index, (expected, actual) in enumerate(zip(want, got)):
            assert_same_analysis(expected, actual, f"job {number} image {index}")
