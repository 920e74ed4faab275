"""Dlib, SFace and Buffalo_L recognition: batched embeddings equal single ones and the
reference engines' (dlib itself, OpenCV's FaceRecognizerSF, upstream deepface).

Dlib runs its real weights (shipped by face_recognition_models). SFace's and Buffalo_L's
files cannot be downloaded here, so small stand-in ONNX nets with the real files' input
and output layout are written under deepface's file names.
"""

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from typing import Optional, Sequence, Union

import cv2
import numpy as np
import pytest

from deepface.commons import weight_utils
from deepface.commons.exceptions import MissingDependencyError
from tests.conftest import SHARED_FACES
from tests.helpers.oracle import ORACLE_DIR, oracle_embeddings, run_oracle_script

# Extra folders (os.pathsep-separated) put after the oracle on the oracle's PYTHONPATH, for
# packages installed apart from it (insightface, which upstream's Buffalo_L needs).
ORACLE_EXTRA_PATH = os.environ.get("DEEPFACE_ORACLE_EXTRA_PATH", "")
TOLERANCE = 1e-5


def require(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed")


# ---------------------------------------------------------------- stand-in ONNX nets


def write_standin_onnx(
    target: Path,
    input_name: str,
    output_name: str,
    batch: Union[int, str],
    dim: int,
    conv_scale: float,
    mxnet_normalisation: bool = False,
    seed: int = 0,
) -> Path:
    """A small conv net: (batch, 3, 112, 112) -> Conv 8x8/8 -> Relu -> Flatten -> Gemm -> (batch, dim).

    Its conv sees every channel with its own weights, so a channel swap or a wrong scale
    changes the output. ``mxnet_normalisation`` puts ``_minus0`` (Sub) and ``_mulscalar0``
    (Mul) nodes first, as insightface's mxnet exports have.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    conv_w = (rng.standard_normal((4, 3, 8, 8)) * conv_scale).astype(np.float32)
    conv_b = (rng.standard_normal(4) * 0.1).astype(np.float32)
    gemm_w = (rng.standard_normal((4 * 14 * 14, dim)) / np.sqrt(4 * 14 * 14)).astype(np.float32)
    gemm_b = (rng.standard_normal(dim) * 0.1).astype(np.float32)
    initializers = [
        numpy_helper.from_array(conv_w, "conv_w"), numpy_helper.from_array(conv_b, "conv_b"),
        numpy_helper.from_array(gemm_w, "gemm_w"), numpy_helper.from_array(gemm_b, "gemm_b"),
    ]
    nodes = []
    first = input_name
    if mxnet_normalisation:
        initializers += [
            numpy_helper.from_array(np.full((1, 3, 1, 1), 127.5, np.float32), "mean"),
            numpy_helper.from_array(np.full((1, 3, 1, 1), 1 / 127.5, np.float32), "scale"),
        ]
        nodes += [
            helper.make_node("Sub", [input_name, "mean"], ["centred"], name="_minus0"),
            helper.make_node("Mul", ["centred", "scale"], ["scaled"], name="_mulscalar0"),
        ]
        first = "scaled"
    nodes += [
        helper.make_node("Conv", [first, "conv_w", "conv_b"], ["conv"], name="Conv_0",
                         kernel_shape=[8, 8], strides=[8, 8]),
        helper.make_node("Relu", ["conv"], ["relu"], name="Relu_1"),
        helper.make_node("Flatten", ["relu"], ["flat"], name="Flatten_2", axis=1),
        helper.make_node("Gemm", ["flat", "gemm_w", "gemm_b"], [output_name], name="Gemm_3"),
    ]
    graph = helper.make_graph(
        nodes, "standin",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, [batch, 3, 112, 112])],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, [batch, dim])],
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    target.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(target))
    return target


def write_sface_standin(home: Path, batch: Union[int, str] = 1) -> Path:
    """Like the real file: input ``data`` (1, 3, 112, 112) in [0, 255], output ``fc1`` (1, 128)."""
    require("onnx")
    target = home / ".deepface" / "weights" / "face_recognition_sface_2021dec.onnx"
    return write_standin_onnx(target, "data", "fc1", batch, 128, conv_scale=1 / (255 * 14))


def write_buffalo_standin(home: Path, mxnet_normalisation: bool = False) -> Path:
    """Like buffalo_l's ResNet-50: input ``input.1`` (None, 3, 112, 112) in [-1, 1], 512 out."""
    require("onnx")
    target = home / ".deepface" / "weights" / "buffalo_l" / "webface_r50.onnx"
    return write_standin_onnx(
        target, "input.1", "683", "None", 512, conv_scale=1 / 14, mxnet_normalisation=mxnet_normalisation
    )


def use_home(monkeypatch: pytest.MonkeyPatch, home: Path) -> Path:
    monkeypatch.setenv("DEEPFACE_HOME", str(home))
    return home


# ---------------------------------------------------------------- faces


def random_faces(count: int, size: int, seed: int = 1) -> np.ndarray:
    """(count, size, size, 3) float32 faces in [0, 1], as deepface's represent feeds them."""
    rng = np.random.default_rng(seed)
    return rng.random((count, size, size, 3), dtype=np.float32)


def photo_faces(count: int, size: int) -> np.ndarray:
    """Centre crops of the shared photos in [0, 1] (random faces where they are absent)."""
    paths = sorted(SHARED_FACES.glob("*.jpg"))[:count] if SHARED_FACES.is_dir() else []
    if len(paths) < count:
        return random_faces(count, size)
    crops = []
    for path in paths:
        img = cv2.imread(str(path))
        side = min(img.shape[:2])
        top, left = (img.shape[0] - side) // 2, (img.shape[1] - side) // 2
        crops.append(cv2.resize(img[top:top + side, left:left + side], (size, size)))
    return np.stack(crops).astype(np.float32) / 255


def assert_batch_equals_single(model, faces: np.ndarray, tolerance: float = TOLERANCE) -> np.ndarray:
    batched = model.embed_batch(faces)
    assert batched.shape == (len(faces), model.output_shape) and batched.dtype == np.float32
    single = np.concatenate([model.embed_batch(face[np.newaxis]) for face in faces])
    np.testing.assert_allclose(batched, single, rtol=0, atol=tolerance)
    return batched


def run_forward_oracle(home: Path, model_name: str, faces: np.ndarray) -> np.ndarray:
    if importlib.util.find_spec("onnxruntime") is None and model_name == "SFace":
        pytest.skip("upstream's SFace needs onnxruntime")
    return oracle_embeddings(home, model_name, faces)


def oracle_buffalo(home: Path, faces: np.ndarray) -> tuple:
    """Upstream Buffalo_L's embeddings of ``faces`` and the (mean, std) insightface chose."""
    source, target = home / "faces-buffalo.npy", home / "embeddings-buffalo.npy"
    np.save(source, faces.astype(np.float32))
    python_path = os.pathsep.join(p for p in (str(ORACLE_DIR), ORACLE_EXTRA_PATH) if p)
    out = run_oracle_script("run_buffalo_forward.py", [str(source), str(target)], home,
                            extra_env={"PYTHONPATH": python_path})
    if out.startswith("ORACLE-SKIP"):
        pytest.skip(out.strip()[len("ORACLE-SKIP "):]
                    + " (pip install --no-deps --target .oracle insightface==0.7.3 and its imports,"
                    " or point DEEPFACE_ORACLE_EXTRA_PATH at them)")
    assert str(ORACLE_DIR) in out, "the oracle run did not use upstream deepface"
    (line,) = [row for row in out.splitlines() if row.startswith("ORACLE-NORMALISATION")]
    mean, std = (float(value) for value in line.split()[1:])
    return np.load(target), (mean, std)


# ---------------------------------------------------------------- Dlib


@pytest.fixture(scope="module")
def dlib_client():
    require("dlib")
    from deepface.models.facial_recognition import Dlib

    if weight_utils.shipped_model_file(Dlib.WEIGHTS_FILE) is None:
        pytest.skip("dlib's recognition weights are not installed (pip install face_recognition_models)")
    return Dlib.DlibClient()


def test_dlib_batch_is_dlibs_own_per_face_descriptor_exactly(dlib_client) -> None:
    from deepface.models.facial_recognition.Dlib import to_dlib_chip

    faces = photo_faces(6, 150)
    faces[2] *= 255  # a face already in [0, 255]: the x255 rule is decided per face
    batched = assert_batch_equals_single(dlib_client, faces, tolerance=0)
    per_face = np.stack([
        np.asarray(dlib_client.model.compute_face_descriptor(to_dlib_chip(face)), dtype=np.float32)
        for face in faces
    ])
    np.testing.assert_array_equal(batched, per_face)
    np.testing.assert_array_equal(batched[2], dlib_client.embed_batch(faces[2:3] / 255)[0])


def test_dlib_chip_is_rgb_uint8_scaled_per_face() -> None:
    from deepface.models.facial_recognition.Dlib import to_dlib_chip

    face = np.zeros((150, 150, 3), np.float32)
    face[..., 0] = 0.5  # blue
    chip = to_dlib_chip(face)
    assert chip.dtype == np.uint8 and chip.flags["C_CONTIGUOUS"]
    assert chip[0, 0].tolist() == [0, 0, 127]  # float32 0.5 * 255 = 127.5, truncated
    assert to_dlib_chip(face * 255)[0, 0].tolist() == [0, 0, 127]


def test_dlib_equals_upstream_deepface(dlib_client, weights_home: Path) -> None:
    faces = photo_faces(4, 150)
    weights = weights_home / ".deepface" / "weights" / "dlib_face_recognition_resnet_model_v1.dat"
    if not weights.exists():
        shutil.copy(dlib_client.weights_path, weights)
    expected = oracle_embeddings(weights_home, "Dlib", faces)
    np.testing.assert_allclose(dlib_client.embed_batch(faces), expected, rtol=0, atol=1e-6)


def test_dlib_weights_come_from_the_cache_then_the_shipped_package(monkeypatch, tmp_path: Path) -> None:
    from deepface.models.facial_recognition import Dlib

    use_home(monkeypatch, tmp_path)
    shipped = weight_utils.shipped_model_file(Dlib.WEIGHTS_FILE)
    if shipped is None:
        pytest.skip("face_recognition_models is not installed")
    assert Dlib.find_weights() == shipped
    cached = tmp_path / ".deepface" / "weights" / Dlib.WEIGHTS_FILE
    cached.write_bytes(b"stand-in")
    assert Dlib.find_weights() == str(cached)
    assert weight_utils.shipped_model_file(Dlib.WEIGHTS_FILE, package="no_such_package_here") is None


def test_dlib_missing_dependency_names_the_pip_command(monkeypatch) -> None:
    from deepface.models.facial_recognition.Dlib import DlibClient

    monkeypatch.setitem(sys.modules, "dlib", None)
    with pytest.raises(MissingDependencyError, match="pip install"):
        DlibClient()


# ---------------------------------------------------------------- SFace


@pytest.fixture(scope="module")
def sface_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("sface-home")
    write_sface_standin(home, batch=1)
    return home


def sface_client(monkeypatch, home: Path, device: Optional[str] = "cpu"):
    from deepface.models.facial_recognition.SFace import SFaceClient

    use_home(monkeypatch, home)
    return SFaceClient(device=device)


def test_sface_equals_opencv_face_recognizer_feature(monkeypatch, sface_home: Path) -> None:
    require("onnxruntime")
    client = sface_client(monkeypatch, sface_home)
    assert client.net is not None and client.net.fixed_batch == 1  # as the real file: loops
    faces = np.concatenate([random_faces(3, 112), photo_faces(3, 112)])
    recognizer = cv2.FaceRecognizerSF.create(str(client.weights_path), "")
    expected = np.stack([
        recognizer.feature((face * 255).astype(np.uint8)).reshape(-1) for face in faces
    ])
    batched = assert_batch_equals_single(client, faces)
    np.testing.assert_allclose(batched, expected, rtol=0, atol=TOLERANCE)


def test_sface_batches_in_one_call_when_the_file_allows(monkeypatch, tmp_path: Path) -> None:
    require("onnxruntime")
    write_sface_standin(tmp_path, batch="N")
    client = sface_client(monkeypatch, tmp_path)
    assert client.net.fixed_batch is None
    faces = random_faces(5, 112)
    batched = assert_batch_equals_single(client, faces)
    recognizer = cv2.FaceRecognizerSF.create(str(client.weights_path), "")
    expected = np.stack([recognizer.feature((f * 255).astype(np.uint8)).reshape(-1) for f in faces])
    np.testing.assert_allclose(batched, expected, rtol=0, atol=TOLERANCE)


def test_sface_falls_back_to_opencv_without_onnxruntime(monkeypatch, sface_home: Path) -> None:
    faces = random_faces(3, 112, seed=5)
    with_ort = None
    if importlib.util.find_spec("onnxruntime") is not None:
        with_ort = sface_client(monkeypatch, sface_home).embed_batch(faces)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    fallback = sface_client(monkeypatch, sface_home)
    assert fallback.net is None
    got = assert_batch_equals_single(fallback, faces)
    if with_ort is not None:
        np.testing.assert_allclose(got, with_ort, rtol=0, atol=TOLERANCE)


def test_sface_equals_upstream_deepface(monkeypatch, weights_home: Path) -> None:
    require("onnxruntime")
    write_sface_standin(weights_home, batch=1)
    faces = random_faces(3, 112, seed=7)
    expected = run_forward_oracle(weights_home, "SFace", faces)
    got = sface_client(monkeypatch, weights_home).embed_batch(faces)
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE)


def test_onnx_runner_pads_the_last_chunk_of_a_fixed_batch(monkeypatch, tmp_path: Path) -> None:
    require("onnxruntime")
    write_sface_standin(tmp_path, batch=4)
    client = sface_client(monkeypatch, tmp_path)
    assert client.net.fixed_batch == 4
    assert_batch_equals_single(client, random_faces(6, 112, seed=3))


def test_onnx_providers_follow_the_device() -> None:
    from deepface.models.facial_recognition.onnx_base import onnx_providers

    cpu_only = ["CPUExecutionProvider"]
    both = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert onnx_providers(cpu_only, None) == ["CPUExecutionProvider"]
    assert onnx_providers(both, "cpu") == ["CPUExecutionProvider"]
    assert onnx_providers(both, None)[0] == ("CUDAExecutionProvider", {"device_id": 0})
    assert onnx_providers(both, "cuda:1") == [("CUDAExecutionProvider", {"device_id": 1}), "CPUExecutionProvider"]
    assert onnx_providers(cpu_only, "cuda") == ["CPUExecutionProvider"]


def test_sface_rejects_faces_of_another_size(monkeypatch, sface_home: Path) -> None:
    from deepface.commons.exceptions import InvalidEmbeddingsShapeError

    require("onnxruntime")
    with pytest.raises(InvalidEmbeddingsShapeError):
        sface_client(monkeypatch, sface_home).embed_batch(random_faces(1, 100))


# ---------------------------------------------------------------- Buffalo_L


def buffalo_client(monkeypatch, home: Path):
    require("onnxruntime")
    from deepface.models.facial_recognition.Buffalo_L import Buffalo_L

    use_home(monkeypatch, home)
    return Buffalo_L(device="cpu")


@pytest.mark.parametrize("mxnet_normalisation", [False, True], ids=["pytorch-export", "mxnet-export"])
def test_buffalo_l_equals_upstream_deepface(monkeypatch, tmp_path: Path, mxnet_normalisation: bool) -> None:
    write_buffalo_standin(tmp_path, mxnet_normalisation)
    client = buffalo_client(monkeypatch, tmp_path)
    want_normalisation = (0.0, 1.0) if mxnet_normalisation else (127.5, 127.5)
    assert (client.mean, client.std) == want_normalisation
    faces = np.concatenate([random_faces(3, 112, seed=11), photo_faces(2, 112)])
    batched = assert_batch_equals_single(client, faces)
    expected, oracle_normalisation = oracle_buffalo(tmp_path, faces)
    assert oracle_normalisation == want_normalisation
    np.testing.assert_allclose(batched, expected, rtol=0, atol=TOLERANCE)


def test_buffalo_l_blob_is_rgb_centred_and_scaled(monkeypatch, tmp_path: Path) -> None:
    write_buffalo_standin(tmp_path)
    client = buffalo_client(monkeypatch, tmp_path)
    face = np.zeros((1, 112, 112, 3), np.float32)
    face[..., 0] = 1.0  # blue at full scale
    blob = client.blob(face)
    assert blob.shape == (1, 3, 112, 112)
    assert blob[0, :, 0, 0].tolist() == [-1.0, -1.0, 1.0]  # R, G, B


def test_buffalo_l_without_onnxruntime_names_the_pip_command(monkeypatch, tmp_path: Path) -> None:
    from deepface.models.facial_recognition.Buffalo_L import Buffalo_L

    write_buffalo_standin(tmp_path)
    use_home(monkeypatch, tmp_path)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(MissingDependencyError, match="pip install onnxruntime"):
        Buffalo_L()


def test_buffalo_l_normalisation_without_onnx_is_buffalo_ls(monkeypatch, tmp_path: Path) -> None:
    from deepface.models.facial_recognition.Buffalo_L import input_normalisation

    path = write_buffalo_standin(tmp_path, mxnet_normalisation=True)
    assert input_normalisation(str(path)) == (0.0, 1.0)
    monkeypatch.setitem(sys.modules, "onnx", None)
    assert input_normalisation(str(path)) == (127.5, 127.5)


def test_models_declare_deepface_shapes() -> None:
    from deepface.models.facial_recognition.Buffalo_L import WEIGHTS_FILE, Buffalo_L
    from deepface.models.facial_recognition.Dlib import DlibClient
    from deepface.models.facial_recognition.SFace import SFaceClient

    shapes: Sequence = [(cls.model_name, cls.input_shape, cls.output_shape)
                        for cls in (DlibClient, SFaceClient, Buffalo_L)]
    assert shapes == [
        ("Dlib", (150, 150), 128), ("SFace", (112, 112), 128), ("Buffalo_L", (112, 112), 512)
    ]
    assert WEIGHTS_FILE.replace(os.sep, "/") == "buffalo_l/webface_r50.onnx"
