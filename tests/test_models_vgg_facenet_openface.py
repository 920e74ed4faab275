"""VGG-Face, Facenet, Facenet512 and OpenFace: the same embeddings as deepface 0.0.103.

Random weights are written by the oracle's own model code under deepface's file names, so
loading them checks that our layers come in deepface's order with deepface's shapes; the
oracle's ``forward``, face by face, is the reference for the embeddings.
"""

import ast
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List

import h5py
import numpy as np
import pytest

from deepface.models.FacialRecognition import FacialRecognition
from deepface.models.facial_recognition import Facenet, OpenFace, VGGFace
from tests.helpers.oracle import oracle_embeddings, oracle_or_skip, write_random_weights

TOLERANCE = 1e-5
FACES = 5


@dataclass(frozen=True)
class Case:
    """A model as deepface names it, how to build ours, and what it must report."""

    name: str
    build: Callable[[], FacialRecognition]
    input_shape: tuple
    dimension: int
    weight_file: str


CASES: Dict[str, Case] = {
    "VGG-Face": Case("VGG-Face", VGGFace.VggFaceClient, (224, 224), 4096, "vgg_face_weights.h5"),
    "Facenet": Case("Facenet", lambda: Facenet.FaceNetClient(128), (160, 160), 128, "facenet_weights.h5"),
    "Facenet512": Case(
        "Facenet512", lambda: Facenet.FaceNetClient(512), (160, 160), 512, "facenet512_weights.h5"
    ),
    "OpenFace": Case("OpenFace", OpenFace.OpenFaceClient, (96, 96), 128, "openface_weights.h5"),
}


@dataclass
class Built:
    case: Case
    client: FacialRecognition
    faces: np.ndarray
    expected: np.ndarray  # the oracle's embeddings of ``faces``


def random_faces(case: Case, count: int = FACES, seed: int = 0) -> np.ndarray:
    """Noise in [0, 1], each face with its own level and contrast so that embeddings differ."""
    height, width = case.input_shape[1], case.input_shape[0]
    rng = np.random.default_rng(seed)
    low = rng.uniform(0.0, 0.5, (count, 1, 1, 1))
    high = rng.uniform(0.5, 1.0, (count, 1, 1, 1))
    noise = rng.random((count, height, width, 3))
    return (low + (high - low) * noise).astype(np.float32)


def perturb_initial_values(path: Path, seed: int = 0) -> None:
    """Give biases and batch-norm parameters and statistics random values in place.

    Fresh layers hold zeros and ones there, so a swap of two such layers would go unseen.
    """
    rng = np.random.default_rng(seed)

    def perturb(name: str, item: object) -> None:
        if not isinstance(item, h5py.Dataset):
            return
        leaf = name.rsplit("/", 1)[-1]
        if leaf.startswith(("gamma", "moving_variance")):
            item[...] = item[...] * rng.uniform(0.8, 1.2, item.shape).astype(item.dtype)
        elif leaf.startswith(("bias", "beta", "moving_mean")):
            item[...] = item[...] + rng.normal(0.0, 0.05, item.shape).astype(item.dtype)

    with h5py.File(path, "r+") as weights:
        weights.visititems(perturb)


@pytest.fixture(scope="module")
def model_home(weights_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DEEPFACE_HOME of its own: the oracle's random weights, biases and norms perturbed."""
    oracle_or_skip()
    write_random_weights(weights_home, list(CASES))  # all at once: one oracle process, not four
    home = tmp_path_factory.mktemp("recognition-home")
    (home / ".deepface" / "weights").mkdir(parents=True)
    for case in CASES.values():
        target = home / ".deepface" / "weights" / case.weight_file
        shutil.copyfile(weights_home / ".deepface" / "weights" / case.weight_file, target)
        perturb_initial_values(target)
    return home


@pytest.fixture(scope="module", params=list(CASES))
def built(request: pytest.FixtureRequest, model_home: Path) -> Built:
    """Each model once per module (one at a time: VGG-Face alone is ~580 MB)."""
    case = CASES[request.param]
    faces = random_faces(case)
    expected = oracle_embeddings(model_home, case.name, faces)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEEPFACE_HOME", str(model_home))
        client = case.build()
    return Built(case, client, faces, expected)


def test_embeddings_equal_the_oracles(built: Built) -> None:
    got = built.client.embed_batch(built.faces)
    assert np.linalg.norm(built.expected, axis=1).min() > 0, "degenerate random model: all-zero embeddings"
    np.testing.assert_allclose(got, built.expected, rtol=0, atol=TOLERANCE)


def test_batch_equals_single(built: Built) -> None:
    batch = built.client.embed_batch(built.faces)
    for k, face in enumerate(built.faces):
        alone = built.client.embed_batch(face[np.newaxis])
        np.testing.assert_allclose(batch[k], alone[0], rtol=0, atol=TOLERANCE, err_msg=f"face {k}")


def test_forward_returns_a_list_for_one_face_and_lists_for_several(built: Built) -> None:
    dimension = built.case.dimension
    for one in (built.faces[0], built.faces[:1]):
        single = built.client.forward(one)
        assert isinstance(single, list) and len(single) == dimension
        assert all(isinstance(value, float) for value in single)
    several = built.client.forward(built.faces[:3])
    assert isinstance(several, list) and len(several) == 3
    assert all(isinstance(row, list) and len(row) == dimension for row in several)
    assert all(isinstance(value, float) for row in several for value in row)


def test_dimensions_match_output_shape(built: Built) -> None:
    client, case = built.client, built.case
    assert client.output_shape == case.dimension
    assert client.input_shape == case.input_shape
    assert client.target_size == (case.input_shape[1], case.input_shape[0])
    embeddings = client.embed_batch(built.faces[:2])
    assert embeddings.shape == (2, case.dimension) and embeddings.dtype == np.float32
    assert built.expected.shape == (FACES, case.dimension)


def test_facenet_dimension_must_be_one_deepface_has() -> None:
    with pytest.raises(ValueError, match="128"):
        Facenet.FaceNetClient(dimension=256)


def _oracle_constant(module: str, constant: str) -> List[str]:
    """A module-level constant of the oracle's ``facial_recognition/tf/<module>.py``, read
    without importing it (it shares this package's name)."""
    source = oracle_or_skip() / "deepface" / "models" / "facial_recognition" / "tf" / f"{module}.py"
    for node in ast.parse(source.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == constant for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{constant} not found in {source}")


def test_weight_urls_are_deepfaces() -> None:
    assert VGGFace.WEIGHTS_URL == _oracle_constant("VGGFace", "WEIGHTS_URL")
    assert OpenFace.WEIGHTS_URL == _oracle_constant("OpenFace", "WEIGHTS_URL")
    assert Facenet.WEIGHTS[128][1] == _oracle_constant("Facenet", "FACENET128_WEIGHTS")
    assert Facenet.WEIGHTS[512][1] == _oracle_constant("Facenet", "FACENET512_WEIGHTS")
    ours = [VGGFace.WEIGHT_FILE, Facenet.WEIGHTS[128][0], Facenet.WEIGHTS[512][0], OpenFace.WEIGHT_FILE]
    assert ours == [case.weight_file for case in CASES.values()]
