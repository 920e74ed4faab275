"""FaceNet (128-d, 512-d) and OpenFace as torch modules: deepface 0.0.103's ``.pth`` files and
its pytorch engine's outputs.

The oracle writes random-weight ``.pth`` files of its own architectures (and the same networks
as ``.onnx``). The reference is the oracle's ``forward`` on ``DEEPFACE_BACKEND_ENGINE=pytorch``,
face by face: deepface's PyTorch recognition clients return their module's output unchanged
(OpenFace's module ends in its l2-normalisation, FaceNet's in its bottleneck batch norm), so
the oracle's embeddings are compared with our modules' raw output as it is.

Fresh layers hold zeros and ones in their biases and batch-norm parameters and statistics,
where a misplaced layer would go unseen: the comparison with the oracle runs on a copy of
the ``.pth`` files with those perturbed. The ``.onnx`` files match the unperturbed ones.
"""

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

import cv2
import numpy as np
import pytest

from deepface.models.engines import Network, Runner, load_runner, resolve
from tests.conftest import SHARED_FACES
from tests.helpers.oracle import oracle_embeddings, oracle_or_skip, write_random_engine_weights

torch = pytest.importorskip("torch")

ORACLE_TOLERANCE = 1e-5  # of each face's output scale: max |ours - deepface's| / max |deepface's|
ONNX_TOLERANCE = 1e-4
BATCH_TOLERANCE = 1e-5
RANDOM_FACES = 2
PHOTOS = ("img1.jpg", "img2.jpg", "img3.jpg")


@dataclass(frozen=True)
class Case:
    """A network as deepface names it, its files, our module and its input size."""

    name: str
    stem: str  # deepface's file name without the engine's suffix
    torch: str
    size: int

    @property
    def network(self) -> Network:
        return Network(
            name=self.name,
            files={"pytorch": f"{self.stem}.pth", "onnx": f"{self.stem}.onnx"},
            torch=self.torch,
        )


CASES: Dict[str, Case] = {
    "Facenet": Case("Facenet", "facenet_weights", "deepface.models.torch_nets.facenet:facenet128", 160),
    "Facenet512": Case("Facenet512", "facenet512_weights", "deepface.models.torch_nets.facenet:facenet512", 160),
    "OpenFace": Case("OpenFace", "openface_weights", "deepface.models.torch_nets.openface:openface", 96),
}


def relative_error(got: np.ndarray, expected: np.ndarray) -> float:
    """The worst face's max |got - expected| over its max |expected| (faces along axis 0)."""
    got, expected = np.atleast_2d(got), np.atleast_2d(expected)
    return float((np.abs(got - expected).max(axis=1) / np.abs(expected).max(axis=1)).max())


def noise_faces(size: int, count: int, scale: float, seed: int) -> List[np.ndarray]:
    """Noise faces of different levels and contrasts in [0, scale]."""
    rng = np.random.default_rng(seed)
    low = rng.uniform(0.0, 0.5, (count, 1, 1, 1))
    high = rng.uniform(0.5, 1.0, (count, 1, 1, 1))
    return list(scale * (low + (high - low) * rng.random((count, size, size, 3))))


def faces_for(case: Case) -> np.ndarray:
    """(n, size, size, 3) BGR float32 faces: noise in [0, 1] (deepface's "base" range), noise
    in [0, 255] and the shared photos' centre squares as raw pixels, when present. Pixel-range
    inputs make activations large enough for OpenFace's LRN to matter (with random weights
    and [0, 1] inputs it is nearly the identity, and a wrong alpha would go unseen)."""
    faces = noise_faces(case.size, RANDOM_FACES, 1.0, seed=0) + noise_faces(case.size, RANDOM_FACES, 255.0, seed=1)
    for name in PHOTOS:
        photo = cv2.imread(str(SHARED_FACES / name))
        if photo is None:
            continue
        side = min(photo.shape[:2])
        top, left = (photo.shape[0] - side) // 2, (photo.shape[1] - side) // 2
        square = photo[top : top + side, left : left + side]
        faces.append(cv2.resize(square, (case.size, case.size), interpolation=cv2.INTER_AREA).astype(np.float64))
    return np.stack(faces).astype(np.float32)


def perturb_initial_values(path: Path, seed: int = 0) -> None:
    """Give biases and batch-norm parameters and statistics random values, in place."""
    generator = torch.Generator().manual_seed(seed)
    state = torch.load(path, map_location="cpu", weights_only=True)
    for key, value in state.items():
        if not value.is_floating_point():
            continue  # num_batches_tracked
        noise = torch.rand(value.shape, generator=generator)
        if key.endswith(("bn.weight", "bn.running_var")):
            state[key] = value * (0.8 + 0.4 * noise)
        elif key.endswith(("bias", "running_mean")):
            state[key] = value + 0.1 * (noise - 0.5)
    torch.save(state, path)


def runner_in(home: Path, case: Case, engine: str) -> Runner:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEEPFACE_HOME", str(home))
        return load_runner(case.network, engine, device="cpu")


@pytest.fixture(scope="module")
def engine_home(weights_home: Path) -> Path:
    """The session's DEEPFACE_HOME with the oracle's random ``.pth`` and ``.onnx`` files."""
    oracle_or_skip()
    write_random_engine_weights(weights_home, list(CASES))  # one oracle process for all three
    return weights_home


@pytest.fixture(scope="module")
def perturbed_home(engine_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DEEPFACE_HOME of its own: the ``.pth`` files with biases and norms perturbed."""
    home = tmp_path_factory.mktemp("facenet-openface-home")
    weights = home / ".deepface" / "weights"
    weights.mkdir(parents=True)
    for case in CASES.values():
        target = weights / case.network.files["pytorch"]
        shutil.copyfile(engine_home / ".deepface" / "weights" / target.name, target)
        perturb_initial_values(target)
    return home


@dataclass
class Checked:
    case: Case
    runner: Runner
    faces: np.ndarray
    expected: np.ndarray  # deepface's pytorch engine, face by face
    got: np.ndarray  # our module, all faces in one batch


@pytest.fixture(scope="module", params=list(CASES))
def checked(request: pytest.FixtureRequest, perturbed_home: Path) -> Checked:
    case = CASES[request.param]
    faces = faces_for(case)
    expected = oracle_embeddings(perturbed_home, case.name, faces, engine="pytorch")
    runner = runner_in(perturbed_home, case, "pytorch")
    return Checked(case, runner, faces, expected, runner(faces))


@pytest.mark.parametrize("name", list(CASES))
def test_module_holds_deepfaces_state_dict(engine_home: Path, name: str) -> None:
    case = CASES[name]
    saved = torch.load(
        engine_home / ".deepface" / "weights" / case.network.files["pytorch"], map_location="cpu", weights_only=True
    )
    ours = resolve(case.torch)().state_dict()
    assert sorted(ours) == sorted(saved)
    assert {k: tuple(v.shape) for k, v in ours.items()} == {k: tuple(v.shape) for k, v in saved.items()}
    runner = runner_in(engine_home, case, "pytorch")  # loads strictly
    assert not runner.model.training


def test_outputs_equal_deepfaces_pytorch_engine(checked: Checked) -> None:
    got, expected = checked.got, checked.expected
    assert got.shape == expected.shape and got.dtype == np.float32
    scale = np.abs(expected).max(axis=1)
    assert scale.min() > 0, "degenerate random model: an all-zero output"
    assert (np.abs(expected[1:] - expected[0]).max(axis=1) / scale[0]).max() > 1e-3, "degenerate: faces alike"
    assert relative_error(got, expected) <= ORACLE_TOLERANCE


def test_batch_equals_single(checked: Checked) -> None:
    """One face of each kind (noise in [0, 1], in [0, 255], a photo) alone, against the batch."""
    for k in sorted({0, RANDOM_FACES, len(checked.faces) - 1}):
        alone = checked.runner(checked.faces[k : k + 1])
        assert relative_error(checked.got[k], alone) <= BATCH_TOLERANCE, f"face {k}"


def test_openface_output_is_l2_normalised(perturbed_home: Path) -> None:
    case = CASES["OpenFace"]
    norms = np.linalg.norm(runner_in(perturbed_home, case, "pytorch")(faces_for(case)), axis=1)
    np.testing.assert_allclose(norms, 1.0, rtol=0, atol=1e-5)


@pytest.mark.parametrize("name", list(CASES))
def test_onnx_file_agrees_with_the_module(engine_home: Path, name: str) -> None:
    pytest.importorskip("onnxruntime")
    case = CASES[name]
    faces = faces_for(case)
    ours = runner_in(engine_home, case, "pytorch")(faces)
    onnx = runner_in(engine_home, case, "onnx")(faces)
    assert onnx.shape == ours.shape
    assert relative_error(ours, onnx) <= ONNX_TOLERANCE
