"""DeepID, ArcFace, GhostFaceNet and Facebook's DeepFace against upstream deepface 0.0.103.

Weights are random, written by the oracle's own model code (so the files have its layer
order and shapes), then made well conditioned: biases, BN scales/shifts and PReLU slopes
are randomised, and every BatchNormalization's moving statistics are set to those of its
input on calibration faces (a fresh net with unit BN statistics explodes or vanishes, and
identical default statistics would hide a swapped layer). Both sides load the same files.

DeepFace's ``LocallyConnected2D`` is also checked against a per-position numpy loop and
against tf-keras's own ``LocallyConnected2D`` where tf-keras still ships it, and the whole
network against a numpy forward pass, from an HDF5 file written here in Keras 2.12's layout
and delivered as deepface's zip.
"""

import importlib
import os
import subprocess
import sys
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import h5py
import numpy as np
import pytest

from deepface.commons import weight_utils
from deepface.models.facial_recognition import FbDeepFace
from deepface.models.facial_recognition.keras_base import keras
from tests.helpers import oracle

# Embeddings agree within 1e-5 of their scale: max |a - b| <= 1e-5 * max(1, max |b|). A face
# run alone is bit-identical to the oracle's; a batch is not, because oneDNN picks other
# kernels (other float32 summation orders) for other batch sizes, so the error grows with
# the values (upstream's own predict_on_batch departs from its single-face path as much).
TOLERANCE = 1e-5
N_FACES = 5
CALIBRATION_FACES = 8
WITH_BATCH_NORM = ("ArcFace", "GhostFaceNet")  # the others have none to calibrate


@dataclass(frozen=True)
class Spec:
    module: str
    client: str
    weight_file: str


SPECS: Dict[str, Spec] = {
    "DeepID": Spec("DeepID", "DeepIdClient", "deepid_keras_weights.h5"),
    "ArcFace": Spec("ArcFace", "ArcFaceClient", "arcface_weights.h5"),
    "GhostFaceNet": Spec("GhostFaceNet", "GhostFaceNetClient", "ghostfacenet_v1.h5"),
    "DeepFace": Spec("FbDeepFace", "DeepFaceClient", "VGGFace2_DeepFace_weights_val-0.9034.h5"),
}

# deepface 0.0.103 refuses DeepFace on TensorFlow > 2.12 in its client's constructor only;
# the oracle runs it with that check lifted (its own layers come from tf-keras).
ORACLE_FORWARD = """
import sys
import run_forward
from deepface.models.facial_recognition.tf import FbDeepFace
FbDeepFace.tf_minor = min(FbDeepFace.tf_minor, 12)
run_forward.main(*sys.argv[1:4])
"""


# ----------------------------------------------------------------------------- helpers


@contextmanager
def deepface_home(path: Path) -> Iterator[Path]:
    """``DEEPFACE_HOME`` set to ``path`` for the block."""
    previous = os.environ.get("DEEPFACE_HOME")
    os.environ["DEEPFACE_HOME"] = str(path)
    try:
        yield path
    finally:
        if previous is None:
            os.environ.pop("DEEPFACE_HOME", None)
        else:
            os.environ["DEEPFACE_HOME"] = previous


def assert_close(got: np.ndarray, want: np.ndarray, context: str) -> None:
    """Within :data:`TOLERANCE` of the embeddings' scale (absolute for values up to 1)."""
    worst = float(np.abs(got - want).max())
    assert worst <= TOLERANCE * max(1.0, float(np.abs(want).max())), f"{context}: max |diff| {worst:.3g}"


def client_class(name: str) -> type:
    spec = SPECS[name]
    module = importlib.import_module(f"deepface.models.facial_recognition.{spec.module}")
    return getattr(module, spec.client)


def random_faces(client: Any, count: int, seed: int) -> np.ndarray:
    height, width = client.target_size
    return np.random.default_rng(seed).random((count, height, width, 3), dtype=np.float32)


def _names(values: Any) -> List[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def _weighted_groups(f: h5py.File) -> List[str]:
    return [name for name in _names(f.attrs["layer_names"]) if len(f[name].attrs["weight_names"])]


def randomise_weight_file(path: Path, seed: int) -> None:
    """Give biases, BN scales/shifts and PReLU slopes distinct random values, and undo
    Glorot's division by the number of positions in locally connected kernels."""
    rng = np.random.default_rng(seed)
    with h5py.File(path, "r+") as f:
        for group in _weighted_groups(f):
            for weight_name in _names(f[group].attrs["weight_names"]):
                data = f[group][weight_name]
                leaf = weight_name.rsplit("/", 1)[-1]
                if leaf.startswith("bias"):
                    data[...] = rng.normal(0.0, 0.1, data.shape)
                elif leaf.startswith("gamma"):
                    data[...] = rng.uniform(0.6, 1.4, data.shape)
                elif leaf.startswith("beta"):
                    data[...] = rng.normal(0.0, 0.2, data.shape)
                elif leaf.startswith("alpha"):
                    data[...] = rng.uniform(0.05, 0.45, data.shape)
                elif leaf.startswith("kernel") and data.ndim == 3:
                    data[...] = data[...] * np.sqrt(data.shape[0])


def calibrate_batch_norms(model: Any, faces: np.ndarray) -> int:
    """One forward pass, layer by layer in the model's order, setting each BN's moving mean
    and variance to its input's on ``faces`` before applying it. Returns how many BNs."""
    k = keras()
    values = {id(model.inputs[0]): faces}
    count = 0
    for layer in model.layers:
        if isinstance(layer, k.layers.InputLayer):
            continue
        inbound = layer.input
        args = [values[id(t)] for t in inbound] if isinstance(inbound, list) else values[id(inbound)]
        if isinstance(layer, k.layers.BatchNormalization):
            x = np.asarray(args, dtype=np.float64)
            axes = tuple(range(x.ndim - 1))
            gamma, beta, _, _ = layer.get_weights()
            layer.set_weights([gamma, beta, x.mean(axes), x.var(axes) + 1e-3])
            count += 1
        values[id(layer.output)] = np.asarray(layer(args, training=False))
    return count


def write_model_weights_into(model: Any, path: Path) -> None:
    """Overwrite the values in ``path`` with ``model``'s, layer by layer in order (as Keras
    loads them), so the file's own names and layout stay."""
    layers = [layer for layer in model.layers if layer.weights]
    with h5py.File(path, "r+") as f:
        groups = _weighted_groups(f)
        assert len(groups) == len(layers)
        for group, layer in zip(groups, layers):
            for weight_name, value in zip(_names(f[group].attrs["weight_names"]), layer.get_weights()):
                f[group][weight_name][...] = value


def oracle_forward(home: Path, name: str, faces: np.ndarray) -> np.ndarray:
    """The oracle's ``forward``, face by face (DeepFace with its version check lifted)."""
    if name != "DeepFace":
        return oracle.oracle_embeddings(home, name, faces)
    source, target = home / "faces-DeepFace.npy", home / "embeddings-DeepFace.npy"
    np.save(source, faces)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(oracle.ORACLE_DIR), str(oracle.ORACLE_SCRIPTS)]),
        "DEEPFACE_HOME": str(home),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    done = subprocess.run(
        [sys.executable, "-c", ORACLE_FORWARD, name, str(source), str(target)],
        cwd=home, env=env, capture_output=True, text=True, timeout=1800, check=False,
    )
    assert done.returncode == 0, f"oracle DeepFace failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    assert str(oracle.ORACLE_DIR) in done.stdout, "the oracle run did not use upstream deepface"
    return np.load(target)


# ----------------------------------------------------------------------------- fixtures


@dataclass
class Case:
    name: str
    home: Path
    client: Any
    faces: np.ndarray
    _oracle: Optional[np.ndarray] = field(default=None, repr=False)

    def oracle(self) -> np.ndarray:
        if self._oracle is None:
            self._oracle = oracle_forward(self.home, self.name, self.faces)
        return self._oracle


@pytest.fixture(scope="module")
def recognition_home(weights_home: Path) -> Iterator[Path]:
    """A DEEPFACE_HOME of this module's own, inside the session's, so that the weight files
    it reworks do not change what other modules read."""
    oracle.oracle_or_skip()
    home = weights_home / "recognition-deepid-arcface-ghost-deepface"
    (home / ".deepface" / "weights").mkdir(parents=True, exist_ok=True)
    oracle.write_random_weights(home, list(SPECS))  # all at once: one oracle process, not four
    with deepface_home(home):
        yield home


@pytest.fixture(scope="module", params=list(SPECS))
def case(request: pytest.FixtureRequest, recognition_home: Path) -> Iterator[Case]:
    """The oracle's random weights, reworked as the module docstring says, then the client
    built once from the file, as a user would."""
    name = request.param
    oracle.write_random_weights(recognition_home, [name])
    path = recognition_home / ".deepface" / "weights" / SPECS[name].weight_file
    marker = recognition_home / ".done" / f"{name}-calibrated"
    cls = client_class(name)
    if not marker.exists():
        randomise_weight_file(path, seed=len(name))
        if name in WITH_BATCH_NORM:
            draft = cls()
            assert calibrate_batch_norms(draft.model, random_faces(draft, CALIBRATION_FACES, seed=99)) > 0
            write_model_weights_into(draft.model, path)
            del draft
        marker.touch()
    client = cls()
    yield Case(name, recognition_home, client, random_faces(client, N_FACES, seed=1))


# ----------------------------------------------------------------------------- the clients


def test_embed_batch_equals_oracle(case: Case) -> None:
    ours = case.client.embed_batch(case.faces)
    theirs = case.oracle()
    assert ours.shape == theirs.shape == (N_FACES, case.client.output_shape)
    assert ours.dtype == np.float32
    assert np.abs(theirs).std() > 1e-2, "degenerate random network: the comparison would prove nothing"
    assert_close(ours, theirs, f"{case.name} batched vs oracle")


def test_single_face_equals_oracle(case: Case) -> None:
    """One face at a time, as the oracle runs. This package runs a compiled graph where
    deepface runs one face eagerly: float32 sums in another order, so within 1e-5 of the
    embeddings' scale (deepface's own batched and single paths differ as much)."""
    ours = np.concatenate([case.client.embed_batch(face[np.newaxis]) for face in case.faces])
    assert_close(ours, case.oracle(), f"{case.name} one face at a time vs oracle")


def test_batch_equals_single(case: Case) -> None:
    batched = case.client.embed_batch(case.faces)
    singles = np.concatenate([case.client.embed_batch(face[np.newaxis]) for face in case.faces])
    assert_close(batched, singles, f"{case.name} batch vs single")


def test_forward_returns_lists(case: Case) -> None:
    one = case.client.forward(case.faces[0])
    assert isinstance(one, list) and len(one) == case.client.output_shape
    assert all(isinstance(value, float) for value in one)
    assert case.client.forward(case.faces[:1]) == one
    several = case.client.forward(case.faces[:3])
    assert isinstance(several, list) and len(several) == 3
    assert all(isinstance(row, list) and len(row) == case.client.output_shape for row in several)
    assert all(isinstance(value, float) for row in several for value in row)


def test_shapes_and_names(case: Case) -> None:
    client = case.client
    height, width = client.target_size
    assert (width, height) == client.input_shape
    assert tuple(client.model.input_shape) == (None, height, width, 3)
    assert tuple(client.model.output_shape) == (None, client.output_shape)
    expected = {"DeepID": ((47, 55), 160), "ArcFace": ((112, 112), 512),
                "GhostFaceNet": ((112, 112), 512), "DeepFace": ((152, 152), 4096)}
    assert (client.input_shape, client.output_shape) == expected[case.name]


def test_weight_sources_are_deepfaces() -> None:
    """File names and URLs exactly as deepface 0.0.103's."""
    from deepface.models.facial_recognition import ArcFace, DeepID, GhostFaceNet

    serengil = "https://github.com/serengil/deepface_models/releases/download/v1.0/"
    hugging = "https://huggingface.co/serengil/deepface/resolve/main/"
    assert DeepID.WEIGHTS_URL == [serengil + DeepID.WEIGHT_FILE, hugging + DeepID.WEIGHT_FILE]
    assert ArcFace.WEIGHTS_URL == [serengil + ArcFace.WEIGHT_FILE, hugging + ArcFace.WEIGHT_FILE]
    assert GhostFaceNet.WEIGHTS_URL == (
        "https://github.com/HamadYA/GhostFaceNets/releases/download/v1.2/GhostFaceNet_W1.3_S1_ArcFace.h5"
    )
    assert FbDeepFace.WEIGHTS_URL == (
        "https://github.com/swghosh/DeepFace/releases/download/weights-vggface2-2d-aligned/"
        "VGGFace2_DeepFace_weights_val-0.9034.h5.zip"
    )
    assert [DeepID.WEIGHT_FILE, ArcFace.WEIGHT_FILE, GhostFaceNet.WEIGHT_FILE, FbDeepFace.WEIGHT_FILE] == [
        spec.weight_file for spec in SPECS.values()
    ]


# ----------------------------------------------------------------------------- LocallyConnected2D


def numpy_locally_connected(
    x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, size: Tuple[int, int], stride: Tuple[int, int]
) -> np.ndarray:
    """Keras 2.12's implementation=1 semantics, one output position at a time:
    ``out[n, i, j] = x[n, window(i, j)].reshape(-1) @ kernel[i * cols + j] + bias[i, j]``."""
    rows, cols = bias.shape[:2]
    out = np.empty((len(x), rows, cols, kernel.shape[-1]), dtype=np.float64)
    for i in range(rows):
        for j in range(cols):
            top, left = i * stride[0], j * stride[1]
            window = x[:, top:top + size[0], left:left + size[1], :].reshape(len(x), -1)
            out[:, i, j] = window @ kernel[i * cols + j] + bias[i, j]
    return out


LC_CASES = [  # (input rows, cols, channels), filters, kernel, stride
    ((9, 8, 3), 4, (3, 3), (1, 1)),
    ((11, 9, 2), 5, (3, 2), (2, 1)),
    ((13, 13, 4), 3, (7, 7), (2, 2)),
    ((6, 7, 1), 2, (1, 1), (1, 1)),
]


def _random_lc(
    shape: Tuple[int, int, int], filters: int, size: Tuple[int, int], stride: Tuple[int, int]
) -> Any:
    layer = FbDeepFace.LocallyConnected2D(filters, size, strides=stride)
    layer.build((None, *shape))
    rng = np.random.default_rng(sum(shape) + filters)
    layer.set_weights([rng.normal(size=w.shape).astype(np.float32) for w in layer.get_weights()])
    return layer


@pytest.mark.parametrize("shape,filters,size,stride", LC_CASES)
def test_locally_connected_matches_numpy_loop(shape, filters, size, stride) -> None:
    layer = _random_lc(shape, filters, size, stride)
    kernel, bias = layer.get_weights()
    rows = (shape[0] - size[0]) // stride[0] + 1
    cols = (shape[1] - size[1]) // stride[1] + 1
    assert [w.name.split("/")[-1].split(":")[0] for w in layer.weights] == ["kernel", "bias"]
    assert kernel.shape == (rows * cols, size[0] * size[1] * shape[2], filters)
    assert bias.shape == (rows, cols, filters)

    x = np.random.default_rng(7).normal(size=(3, *shape)).astype(np.float32)
    want = numpy_locally_connected(x.astype(np.float64), kernel, bias, size, stride)
    batched = np.asarray(layer(x))
    assert batched.shape == want.shape == tuple(layer.compute_output_shape((3, *shape)))
    assert np.abs(batched - want).max() <= 1e-4
    singles = np.concatenate([np.asarray(layer(x[i:i + 1])) for i in range(len(x))])
    # within TOLERANCE of the outputs' scale: float32 sums in another order (values reach ~20 here)
    assert np.abs(batched - singles).max() <= TOLERANCE * max(1.0, float(np.abs(singles).max()))


def _keras_locally_connected() -> Any:
    """tf-keras's own LocallyConnected2D (Keras 2.12's code), where this install still has it."""
    reference = getattr(keras().layers, "LocallyConnected2D", None)
    if reference is None or reference is FbDeepFace.LocallyConnected2D:
        pytest.skip("this Keras has no LocallyConnected2D of its own to compare with")
    return reference


@pytest.mark.parametrize("shape,filters,size,stride", LC_CASES)
def test_locally_connected_matches_keras_layer(shape, filters, size, stride) -> None:
    reference_cls = _keras_locally_connected()
    ours = _random_lc(shape, filters, size, stride)
    theirs = reference_cls(filters, size, strides=stride, implementation=1)
    theirs.build((None, *shape))
    assert [tuple(w.shape) for w in theirs.weights] == [tuple(w.shape) for w in ours.weights]
    theirs.set_weights(ours.get_weights())
    x = np.random.default_rng(3).normal(size=(2, *shape)).astype(np.float32)
    assert np.abs(np.asarray(ours(x)) - np.asarray(theirs(x))).max() <= 1e-4


def test_keras_written_hdf5_loads_into_our_layer(tmp_path: Path) -> None:
    """A file saved by tf-keras's LocallyConnected2D model loads into ours, same outputs."""
    reference_cls = _keras_locally_connected()
    k = keras()

    def model(local_cls: Any) -> Any:
        inputs = k.layers.Input(shape=(12, 10, 3))
        x = k.layers.Conv2D(4, 3, name="conv")(inputs)
        x = local_cls(5, (3, 3), activation="relu", name="lc1")(x)
        x = local_cls(2, (3, 2), strides=2, name="lc2")(x)
        return k.models.Model(inputs, k.layers.Dense(3, name="out")(k.layers.Flatten()(x)))

    theirs = model(reference_cls)
    rng = np.random.default_rng(5)
    theirs.set_weights([rng.normal(size=w.shape).astype(np.float32) for w in theirs.get_weights()])
    path = tmp_path / "lc.h5"
    theirs.save_weights(str(path))
    ours = model(FbDeepFace.LocallyConnected2D)
    ours.load_weights(str(path))
    x = rng.random((3, 12, 10, 3), dtype=np.float32)
    assert np.abs(np.asarray(ours(x)) - np.asarray(theirs(x))).max() <= 1e-4


# ----------------------------------------------------------------------------- DeepFace, no oracle

# The whole network as deepface defines it: (name, kind, weight shapes) in the classifier's
# layer order, as Keras 2.12's Sequential saved it.
DEEPFACE_LAYERS: List[Tuple[str, List[Tuple[int, ...]]]] = [
    ("C1", [(11, 11, 3, 32), (32,)]),
    ("M2", []),
    ("C3", [(9, 9, 32, 16), (16,)]),
    ("L4", [(55 * 55, 9 * 9 * 16, 16), (55, 55, 16)]),
    ("L5", [(25 * 25, 7 * 7 * 16, 16), (25, 25, 16)]),
    ("L6", [(21 * 21, 5 * 5 * 16, 16), (21, 21, 16)]),
    ("F0", []),
    ("F7", [(21 * 21 * 16, 4096), (4096,)]),
    ("D0", []),
    ("F8", [(4096, 8631), (8631,)]),
]


def write_keras212_hdf5(path: Path, seed: int) -> Dict[str, List[np.ndarray]]:
    """A DeepFace weight file in the layout ``save_weights`` of Keras 2.12 writes, with
    random weights scaled to keep activations of order one; returns the weights."""
    rng = np.random.default_rng(seed)
    weights: Dict[str, List[np.ndarray]] = {}
    with h5py.File(path, "w") as f:
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.12.0"
        f.attrs["layer_names"] = np.array([name.encode() for name, _ in DEEPFACE_LAYERS])
        for name, shapes in DEEPFACE_LAYERS:
            group = f.create_group(name)
            if not shapes:
                group.attrs["weight_names"] = np.array([])
                continue
            fan_in = int(np.prod(shapes[0][:-1])) if len(shapes[0]) != 3 else shapes[0][1]
            kernel = rng.standard_normal(shapes[0], dtype=np.float32) * np.float32(np.sqrt(2.0 / fan_in))
            bias = rng.normal(0.0, 0.05, shapes[1]).astype(np.float32)
            weights[name] = [kernel, bias]
            weight_names = [f"{name}/kernel:0".encode(), f"{name}/bias:0".encode()]
            group.attrs["weight_names"] = np.array(weight_names)
            for weight_name, value in zip(weight_names, weights[name]):
                group.create_dataset(weight_name.decode(), data=value)
    return weights


def _conv_valid(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    windows = np.lib.stride_tricks.sliding_window_view(x, kernel.shape[:2], axis=(1, 2))  # n,r,c,ch,kh,kw
    return np.einsum("nrcdhw,hwdf->nrcf", windows, kernel, optimize=True) + bias


def _max_pool_same(x: np.ndarray, size: int, stride: int) -> np.ndarray:
    rows, cols = -(-x.shape[1] // stride), -(-x.shape[2] // stride)
    pad_r = max((rows - 1) * stride + size - x.shape[1], 0)
    pad_c = max((cols - 1) * stride + size - x.shape[2], 0)
    padded = np.pad(
        x, ((0, 0), (pad_r // 2, pad_r - pad_r // 2), (pad_c // 2, pad_c - pad_c // 2), (0, 0)),
        constant_values=-np.inf,
    )
    windows = np.lib.stride_tricks.sliding_window_view(padded, (size, size), axis=(1, 2))
    return windows[:, ::stride, ::stride].max(axis=(-2, -1))[:, :rows, :cols]


def numpy_deepface(faces: np.ndarray, weights: Dict[str, List[np.ndarray]]) -> np.ndarray:
    """F7 of deepface's DeepFace network in float64 numpy, for a few faces."""
    relu = lambda v: np.maximum(v, 0.0)  # noqa: E731
    w64 = {name: [v.astype(np.float64) for v in values] for name, values in weights.items()}
    x = relu(_conv_valid(faces.astype(np.float64), *w64["C1"]))
    x = _max_pool_same(x, 3, 2)
    x = relu(_conv_valid(x, *w64["C3"]))
    for name, size, stride in (("L4", 9, 1), ("L5", 7, 2), ("L6", 5, 1)):
        x = relu(numpy_locally_connected(x, *w64[name], (size, size), (stride, stride)))
    return relu(x.reshape(len(x), -1) @ w64["F7"][0] + w64["F7"][1])


@pytest.fixture(scope="module")
def handmade_deepface(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Tuple[Any, Dict[str, Any], List[str]]]:
    """DeepFaceClient built through its normal path from a Keras-2.12-layout HDF5 file,
    served as deepface's zip from deepface's URL (the download is faked: a local copy)."""
    home = tmp_path_factory.mktemp("deepface-handmade")
    archive = home / "download.zip"
    h5 = home / FbDeepFace.WEIGHT_FILE
    weights = write_keras212_hdf5(h5, seed=11)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zipped:
        zipped.write(h5, arcname=FbDeepFace.WEIGHT_FILE)
    h5.unlink()
    requested: List[str] = []

    def fake_download(url: str, output: str) -> None:
        requested.append(url)
        os.link(archive, output)

    original = weight_utils._download
    weight_utils._download = fake_download
    try:
        with deepface_home(home):
            client = FbDeepFace.DeepFaceClient()
    finally:
        weight_utils._download = original
    yield client, weights, requested


def test_deepface_from_keras212_file_matches_numpy(handmade_deepface) -> None:
    client, weights, requested = handmade_deepface
    assert requested == [FbDeepFace.WEIGHTS_URL]
    faces = random_faces(client, 3, seed=4)
    ours = client.embed_batch(faces)
    want = numpy_deepface(faces, weights)
    assert ours.shape == (3, 4096) and ours.dtype == np.float32
    assert want.max() > 1e-2 and (want > 0).mean() > 0.1, "degenerate random network"
    assert np.abs(ours - want).max() <= 1e-4 * max(1.0, np.abs(want).max())
    singles = np.concatenate([client.embed_batch(face[np.newaxis]) for face in faces])
    assert_close(ours, singles, "DeepFace batch vs single")
