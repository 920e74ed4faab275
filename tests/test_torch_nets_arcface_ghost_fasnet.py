"""deepface 0.0.103's PyTorch engine for ArcFace, GhostFaceNet and Fasnet's two MiniFASNets:
our torch modules (deepface/models/torch_nets) against the oracle's.

The oracle writes its own architectures with random weights as ``.pth`` and exports the
same networks as ``.onnx`` (tests/oracle/write_random_engine_weights.py). For each
network: our module loads the ``.pth`` strictly; on real face crops and random arrays its
output equals deepface's pytorch engine's (each face run alone there) within 1e-5 of the
output's scale; the ``.onnx`` graph agrees within 1e-4; a batch gives each face the output
it gets alone. The MiniFASNets return logits where deepface's ``.onnx`` graphs end in a
softmax, so the graphs are compared with our logits' softmax.
"""

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import cv2
import numpy as np
import pytest

from deepface.models import engines
from tests.conftest import SHARED_FACES
from tests.helpers import oracle

torch = pytest.importorskip("torch")
pytest.importorskip("onnxruntime")

ORACLE_TOLERANCE = 1e-5  # of the output's scale: our torch module vs deepface's
ONNX_TOLERANCE = 1e-4  # of the output's scale: deepface's .onnx graph vs our torch module
BATCH_TOLERANCE = 1e-5  # of the output's scale: a batch vs each face alone
PHOTOS = ("img1.jpg", "img3.jpg", "img6.jpg", "couple.jpg")
N_RANDOM = 3
TORCH_NETS = "deepface.models.torch_nets"
#: deepface's default feed ([0, 1]) and raw pixels: random networks attenuate a [0, 1] input
#: so much that a wrong gate (torch's hard sigmoid for Keras') moves the output by only
#: 3e-5 of its scale; raw pixels make it 2e-2.
RECOGNITION_SCALES = (255.0, 1.0)


@dataclass(frozen=True)
class Case:
    """One network: how deepface names its files, our builder, and what it is fed."""

    network: engines.Network
    size: int  # square input side
    pixel_scales: Tuple[float, ...]  # crops are fed as pixels / each scale (BGR)
    oracle_model: str  # the model name the oracle writes and builds
    oracle_key: Optional[str] = None  # which of Fasnet's networks (run_fasnet_torch.py)
    onnx_softmax: bool = False  # deepface's .onnx graph ends in a softmax our module does not apply


def _network(name: str, stem: str, function: str, module: str) -> engines.Network:
    files = {"pytorch": f"{stem}.pth", "onnx": f"{stem}.onnx"}
    return engines.Network(name, files, torch=f"{TORCH_NETS}.{module}:{function}")


CASES: Dict[str, Case] = {
    "ArcFace": Case(
        _network("ArcFace", "arcface_weights", "arcface", "arcface"), 112, RECOGNITION_SCALES, "ArcFace"
    ),
    "GhostFaceNet": Case(
        _network("GhostFaceNet", "ghostfacenet_v1", "ghostfacenet", "ghostfacenet"),
        112, RECOGNITION_SCALES, "GhostFaceNet",
    ),
    "MiniFASNetV2": Case(
        _network("MiniFASNetV2", "2.7_80x80_MiniFASNetV2", "minifasnet_v2", "minifasnet"),
        80, (1.0,), "Fasnet", oracle_key="first", onnx_softmax=True,
    ),
    "MiniFASNetV1SE": Case(
        _network("MiniFASNetV1SE", "4_0_0_80x80_MiniFASNetV1SE", "minifasnet_v1se", "minifasnet"),
        80, (1.0,), "Fasnet", oracle_key="second", onnx_softmax=True,
    ),
}


# ----------------------------------------------------------------------------- helpers


@contextmanager
def deepface_home(path: Path) -> Iterator[None]:
    """``DEEPFACE_HOME`` set to ``path`` for the block (the runners look their files up there)."""
    previous = os.environ.get("DEEPFACE_HOME")
    os.environ["DEEPFACE_HOME"] = str(path)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("DEEPFACE_HOME", None)
        else:
            os.environ["DEEPFACE_HOME"] = previous


def assert_close(got: np.ndarray, want: np.ndarray, tolerance: float, context: str) -> None:
    """Each face's max abs difference within ``tolerance`` of its output's max abs value
    (faces are fed at several pixel scales, so each is measured on its own)."""
    assert got.shape == want.shape, f"{context}: shape {got.shape}, expected {want.shape}"
    worst = np.abs(got.astype(np.float64) - want).max(axis=1)
    scale = np.abs(want).max(axis=1)
    bad = np.flatnonzero(worst > tolerance * scale)
    assert bad.size == 0, f"{context}: faces {bad.tolist()}: max |diff| {worst[bad]}, scale {scale[bad]}"


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def central_crops(size: int) -> List[np.ndarray]:
    """The central square of a few shared photos (portraits: the face is there), resized."""
    crops = []
    for name in PHOTOS:
        img = cv2.imread(str(SHARED_FACES / name))
        if img is None:
            continue
        side = min(img.shape[:2])
        top, left = (img.shape[0] - side) // 2, (img.shape[1] - side) // 2
        square = img[top : top + side, left : left + side]
        crops.append(cv2.resize(square, (size, size), interpolation=cv2.INTER_AREA))
    return crops


def faces_for(case: Case) -> np.ndarray:
    """Real crops (when the shared photos are present) and random pixels, as fed."""
    rng = np.random.default_rng(case.size)
    random_pixels = list(rng.integers(0, 256, (N_RANDOM, case.size, case.size, 3), dtype=np.uint8))
    pixels = np.stack(central_crops(case.size) + random_pixels).astype(np.float32)
    return np.concatenate([pixels / np.float32(scale) for scale in case.pixel_scales])


def run_torch(module: "torch.nn.Module", faces: np.ndarray) -> np.ndarray:
    """Our module on channels-last ``faces``, as the engine's TorchRunner feeds it."""
    with torch.inference_mode():
        return module(torch.from_numpy(faces).permute(0, 3, 1, 2)).numpy()


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def engine_home(weights_home: Path) -> Path:
    """The run's weights folder with the oracle's random ``.pth`` and ``.onnx`` files of every case."""
    oracle.oracle_or_skip()
    oracle.write_random_engine_weights(weights_home, sorted({case.oracle_model for case in CASES.values()}))
    return weights_home


@pytest.fixture(scope="session")
def fasnet_oracle(engine_home: Path) -> Dict[str, np.ndarray]:
    """deepface's pytorch Fasnet logits on the MiniFASNet cases' faces: ``first``, ``second``."""
    faces = faces_for(CASES["MiniFASNetV2"])
    source, target = engine_home / "fasnet-faces.npy", engine_home / "fasnet-logits.npz"
    np.save(source, faces)
    out = oracle.run_oracle_script("run_fasnet_torch.py", [str(source), str(target)], engine_home)
    assert str(oracle.ORACLE_DIR) in out, "the oracle run did not use upstream deepface"
    stored = np.load(target)
    return {key: stored[key] for key in stored.files}


@dataclass
class Loaded:
    case: Case
    home: Path
    faces: np.ndarray
    module: "torch.nn.Module"  # ours, loaded through the engine's TorchRunner
    ours: np.ndarray  # our module on all faces in one batch


@pytest.fixture(scope="module", params=list(CASES), ids=list(CASES))
def loaded(request: pytest.FixtureRequest, engine_home: Path) -> Loaded:
    case = CASES[request.param]
    with deepface_home(engine_home):
        runner = engines.load_runner(case.network, "pytorch", device="cpu")
    faces = faces_for(case)
    return Loaded(case, engine_home, faces, runner.model, runner(faces))


def oracle_output(loaded: Loaded, request: pytest.FixtureRequest) -> np.ndarray:
    case = loaded.case
    if case.oracle_key is not None:
        fasnet: Dict[str, np.ndarray] = request.getfixturevalue("fasnet_oracle")
        return fasnet[case.oracle_key]
    return oracle.oracle_embeddings(loaded.home, case.oracle_model, loaded.faces, engine="pytorch")


# ----------------------------------------------------------------------------- tests


def test_pth_loads_strictly(loaded: Loaded) -> None:
    """Every key of deepface's file fits ours, none missing, none left over, same shapes."""
    path = loaded.home / ".deepface" / "weights" / loaded.case.network.files["pytorch"]
    state = torch.load(path, map_location="cpu", weights_only=True)
    fresh = engines.resolve(loaded.case.network.torch)()
    result = fresh.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    ours = fresh.state_dict()
    assert list(ours) == list(state)
    assert all(ours[key].shape == value.shape for key, value in state.items())
    assert not loaded.module.training, "the runner's module must be in eval mode"


def test_output_equals_deepface_pytorch(loaded: Loaded, request: pytest.FixtureRequest) -> None:
    theirs = oracle_output(loaded, request)
    assert loaded.ours.dtype == np.float32
    assert np.abs(theirs - theirs.mean(axis=0)).max() > 1e-3 * np.abs(theirs).max(), (
        "every face gets the same output: the comparison would prove nothing"
    )
    assert_close(loaded.ours, theirs, ORACLE_TOLERANCE, f"{loaded.case.network.name} vs deepface's pytorch")


def test_onnx_graph_agrees(loaded: Loaded) -> None:
    with deepface_home(loaded.home):
        runner = engines.load_runner(loaded.case.network, "onnx")
    graph = runner(loaded.faces)
    want = softmax(loaded.ours.astype(np.float64)) if loaded.case.onnx_softmax else loaded.ours
    if loaded.case.onnx_softmax:  # deepface's graph ends in a softmax
        np.testing.assert_allclose(graph.sum(axis=1), 1.0, atol=1e-5)
        spread = np.abs(want - want.mean(axis=1, keepdims=True)).max()
        assert spread > 10 * ONNX_TOLERANCE * np.abs(want).max(), "probabilities too uniform to tell"
    assert_close(graph, want, ONNX_TOLERANCE, f"{loaded.case.network.name} .onnx vs our torch")


def test_batch_equals_single(loaded: Loaded) -> None:
    singles = np.concatenate([run_torch(loaded.module, face[np.newaxis]) for face in loaded.faces])
    assert_close(loaded.ours, singles, BATCH_TOLERANCE, f"{loaded.case.network.name} batch vs single")


@pytest.mark.parametrize("name", ["MiniFASNetV2", "MiniFASNetV1SE"])
def test_minifasnet_takes_data_parallel_keys(engine_home: Path, name: str) -> None:
    """Minivision's files may hold ``module.``-prefixed keys (saved from DataParallel);
    deepface strips the prefix, and so does our module: through the engine's loader, a
    prefixed copy of the file gives the same outputs as the file."""
    case = CASES[name]
    weights = engine_home / ".deepface" / "weights"
    state = torch.load(weights / case.network.files["pytorch"], map_location="cpu", weights_only=True)
    copy_name = "module-prefixed-" + case.network.files["pytorch"]
    torch.save({f"module.{key}": value for key, value in state.items()}, weights / copy_name)
    prefixed = engines.Network(name, {"pytorch": copy_name}, torch=case.network.torch)
    faces = faces_for(case)
    with deepface_home(engine_home):
        want = engines.load_runner(case.network, "pytorch", device="cpu")(faces)
        got = engines.load_runner(prefixed, "pytorch", device="cpu")(faces)
    np.testing.assert_array_equal(got, want)


def test_other_networks_refuse_foreign_keys(engine_home: Path) -> None:
    """The modules themselves stay strict: only the loader (engines.load_torch_state) strips
    a DataParallel prefix, from every key of a file or none."""
    path = engine_home / ".deepface" / "weights" / CASES["ArcFace"].network.files["pytorch"]
    state = torch.load(path, map_location="cpu", weights_only=True)
    prefixed = {f"module.{key}": value for key, value in state.items()}
    with pytest.raises(RuntimeError, match="Missing key"):
        engines.resolve(CASES["ArcFace"].network.torch)().load_state_dict(prefixed)

