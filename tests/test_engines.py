"""deepface 0.0.103's three engines: the choice of engine, ONNX Runtime's providers, the
classes at deepface's module paths, the load faults, and every trained network on the ONNX
engine against the oracle running the same ``.onnx`` files on its own ONNX engine.

The ``.pth`` and ``.onnx`` files are random-weight networks of deepface's own PyTorch
architectures, written by the oracle (tests/oracle/write_random_engine_weights.py) once
per session.
"""

import importlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Dict, List

import numpy as np
import pytest

from deepface.commons import backend_utils, onnx_utils
from deepface.commons.backend_utils import ONNX, PYTORCH, TENSORFLOW
from deepface.commons.exceptions import WeightsUnavailable
from deepface.models import engines
from deepface.modules import modeling
from tests.helpers import oracle

RECOGNITION = ("VGG-Face", "OpenFace", "Facenet", "Facenet512", "DeepFace", "DeepID", "ArcFace", "GhostFaceNet")
ATTRIBUTES = ("Age", "Gender", "Race", "Emotion")
NETWORKS = RECOGNITION + ATTRIBUTES + ("Fasnet",)
#: Outputs agree within this fraction of their scale (max |value|, at least 1).
TOLERANCE = 1e-5
N_FACES = 3
REPO_DIR = Path(__file__).resolve().parent.parent


def within_scale(actual: np.ndarray, expected: np.ndarray, tolerance: float = TOLERANCE) -> bool:
    scale = max(1.0, float(np.max(np.abs(expected))))
    return float(np.max(np.abs(np.asarray(actual, np.float64) - expected))) <= tolerance * scale


# ------------------------------------------------------------------ choosing the engine


@pytest.fixture
def fresh_engine(monkeypatch: pytest.MonkeyPatch) -> Any:
    """backend_utils with no cached choice; the process's choice is restored afterwards."""
    monkeypatch.setattr(backend_utils, "_backend_engine", None)
    return backend_utils


def test_default_engine_is_the_first_installed(fresh_engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(backend_utils.BACKEND_ENGINE_ENV_VAR, raising=False)
    installed = {"tensorflow": False, "torch": True, "onnxruntime": True}
    monkeypatch.setattr(backend_utils, "is_package_installed", installed.__getitem__)
    assert fresh_engine.get_backend_engine() == PYTORCH
    installed["tensorflow"] = True
    assert fresh_engine.get_backend_engine() == PYTORCH, "the choice is cached once made"
    monkeypatch.setattr(backend_utils, "_backend_engine", None)
    assert fresh_engine.get_backend_engine() == TENSORFLOW


@pytest.mark.parametrize("value", ["ONNX", " pytorch ", "tensorflow"])
def test_forced_engine(fresh_engine: Any, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(backend_utils.BACKEND_ENGINE_ENV_VAR, value)
    assert fresh_engine.get_backend_engine() == value.strip().lower()


def test_unknown_forced_engine_is_a_value_error(fresh_engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(backend_utils.BACKEND_ENGINE_ENV_VAR, "jax")
    with pytest.raises(ValueError, match="Unimplemented backend engine - jax"):
        fresh_engine.get_backend_engine()


def test_forced_engine_not_installed_names_the_extra(fresh_engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(backend_utils.BACKEND_ENGINE_ENV_VAR, "tensorflow")
    monkeypatch.setattr(backend_utils, "is_package_installed", lambda name: name != "tensorflow")
    with pytest.raises(ValueError, match=r'pip install "deepface\[tensorflow\]"'):
        fresh_engine.get_backend_engine()


def test_no_engine_at_all(fresh_engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(backend_utils.BACKEND_ENGINE_ENV_VAR, raising=False)
    monkeypatch.setattr(backend_utils, "is_package_installed", lambda name: False)
    with pytest.raises(ValueError, match="requires tensorflow, pytorch or onnxruntime"):
        fresh_engine.get_backend_engine()


def test_an_unknown_engine_in_a_fresh_process_fails_the_import() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from deepface import DeepFace"], cwd=REPO_DIR, capture_output=True, text=True,
        env={**os.environ, backend_utils.BACKEND_ENGINE_ENV_VAR: "caffe"}, timeout=300, check=False,
    )
    assert done.returncode != 0 and "Unimplemented backend engine - caffe" in done.stderr


# ------------------------------------------------------------------ onnxruntime providers


@pytest.mark.parametrize(
    "setting, available, expected",
    [
        (None, ["CPUExecutionProvider"], ["CPUExecutionProvider"]),
        (None, ["CUDAExecutionProvider", "CPUExecutionProvider"], ["CUDAExecutionProvider", "CPUExecutionProvider"]),
        ("openvino,cuda", ["CUDAExecutionProvider", "OpenVINOExecutionProvider", "CPUExecutionProvider"],
         ["OpenVINOExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]),
        ("cpu, cuda", ["CUDAExecutionProvider", "CPUExecutionProvider"], ["CPUExecutionProvider", "CUDAExecutionProvider"]),
        ("tensorrt", ["CPUExecutionProvider"], ["CPUExecutionProvider"]),
    ],
)
def test_providers(monkeypatch: pytest.MonkeyPatch, setting: Any, available: List[str], expected: List[str]) -> None:
    if setting is None:
        monkeypatch.delenv(onnx_utils.PROVIDERS_ENV_VAR, raising=False)
    else:
        monkeypatch.setenv(onnx_utils.PROVIDERS_ENV_VAR, setting)
    assert onnx_utils.resolve_providers(available) == expected


def test_unknown_provider_is_a_value_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(onnx_utils.PROVIDERS_ENV_VAR, "cuda,tpu")
    with pytest.raises(ValueError, match="DEEPFACE_ONNX_PROVIDERS"):
        onnx_utils.resolve_providers(["CPUExecutionProvider"])


# ------------------------------------------------------------------ deepface's module paths


@pytest.mark.parametrize("task", ["facial_recognition", "facial_attribute", "spoofing"])
def test_every_network_has_a_class_at_deepface_s_path_for_every_engine(task: str) -> None:
    for name, sources in modeling.AVAILABLE_MODELS[task].items():
        for engine, target in sources.items():
            module_name, _, class_name = target.rpartition(".")
            cls = getattr(importlib.import_module(module_name), class_name)
            if engine != modeling.ANY:
                assert cls.engine == engine, f"{name} on {engine}"


def test_get_model_class_follows_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backend_utils, "_backend_engine", ONNX)
    assert modeling.get_model_class("facial_recognition", "VGG-Face").__module__ == (
        "deepface.models.facial_recognition.onnx.VGGFace"
    )
    assert modeling.get_model_class("facial_recognition", "SFace").__name__ == "SFaceClient"
    monkeypatch.setattr(backend_utils, "_backend_engine", PYTORCH)
    assert modeling.get_model_class("spoofing", "Fasnet").__module__ == "deepface.models.spoofing.pytorch.FasNet"


# ------------------------------------------------------------------ the ONNX engine against the oracle


@pytest.fixture(scope="module")
def engine_home(weights_home: Path) -> Path:
    """The run's DEEPFACE_HOME, holding random .pth and .onnx files of every network
    (written by the oracle once per run)."""
    oracle.oracle_or_skip()
    oracle.write_random_engine_weights(weights_home, list(NETWORKS))
    return weights_home


@pytest.fixture
def in_engine_home(engine_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DEEPFACE_HOME", str(engine_home))
    return engine_home


@pytest.fixture(scope="module")
def inputs() -> Dict[str, np.ndarray]:
    """Faces for every input size, attribute faces, and an image with face boxes for Fasnet."""
    rng = np.random.default_rng(7)
    sizes = {(224, 224), (96, 96), (160, 160), (152, 152), (47, 55), (112, 112)}
    arrays = {f"faces_{w}x{h}": rng.random((N_FACES, h, w, 3), dtype=np.float32) for w, h in sizes}
    arrays["attribute_faces"] = rng.random((N_FACES, 224, 224, 3), dtype=np.float32)
    arrays["image"] = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)
    arrays["boxes"] = np.array([[100, 60, 80, 90], [10, 10, 40, 50], [200, 120, 100, 110]])
    return arrays


def oracle_outputs(home: Path, arrays: Dict[str, np.ndarray], engine: str) -> Dict[str, np.ndarray]:
    source, target = home / f"engine-inputs-{engine}.npz", home / f"engine-outputs-{engine}.npz"
    if not target.exists():
        np.savez(source, **arrays)
        out = oracle.run_oracle_script(
            "run_engine_models.py", [str(source), str(target), *NETWORKS], home,
            extra_env={backend_utils.BACKEND_ENGINE_ENV_VAR: engine},
        )
        assert f"ENGINE {engine}" in out
    return dict(np.load(target))


def pinned(task: str, name: str, engine: str) -> Any:
    module_name, _, class_name = modeling.AVAILABLE_MODELS[task][name][engine].rpartition(".")
    return getattr(importlib.import_module(module_name), class_name)()


def our_outputs(name: str, arrays: Dict[str, np.ndarray], engine: str) -> Dict[str, np.ndarray]:
    """``alone``: one face at a time, as the oracle runs; ``batch``: all at once."""
    if name == "Fasnet":
        model = pinned("spoofing", name, engine)
        items = [(arrays["image"], tuple(box)) for box in arrays["boxes"].tolist()]
        return {
            "alone": np.array([model.analyze(*item) for item in items], float),
            "batch": np.array(model.analyze_batch(items), float),
        }
    if name in ATTRIBUTES:
        model = pinned("facial_attribute", name, engine)
        faces = arrays["attribute_faces"]
        return {
            "alone": np.stack([np.asarray(model.predict(face), np.float64) for face in faces]),
            "batch": np.asarray(model.predict_batch(faces), np.float64),
        }
    model = pinned("facial_recognition", name, engine)
    faces = arrays[f"faces_{model.input_shape[0]}x{model.input_shape[1]}"]
    return {
        "alone": np.stack([np.asarray(model.forward(face[np.newaxis]), np.float32) for face in faces]),
        "batch": model.embed_batch(faces),
    }


@pytest.mark.parametrize("engine", [ONNX, PYTORCH])
@pytest.mark.parametrize("name", NETWORKS)
def test_engine_equals_deepface_s_same_engine(
    in_engine_home: Path, inputs: Dict[str, np.ndarray], name: str, engine: str
) -> None:
    """The same files on the same engine give deepface's answers; a batch gives each face's."""
    expected = oracle_outputs(in_engine_home, inputs, engine)[name]
    ours = our_outputs(name, inputs, engine)
    assert ours["alone"].shape == expected.shape
    assert within_scale(ours["alone"], expected), f"{name} on {engine}: one face at a time"
    assert within_scale(ours["batch"], ours["alone"]), f"{name} on {engine}: a batch differs from single faces"


@pytest.mark.parametrize("name", NETWORKS)
def test_pytorch_and_onnx_files_agree(in_engine_home: Path, inputs: Dict[str, np.ndarray], name: str) -> None:
    """deepface's .onnx files are its torch networks exported: the two engines agree here too."""
    assert within_scale(our_outputs(name, inputs, PYTORCH)["alone"], our_outputs(name, inputs, ONNX)["alone"], 1e-4)


# ------------------------------------------------------------------ faults


def test_missing_file_offline_is_deepface_s_download_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPFACE_HOME", str(tmp_path))
    network = engines.Network("X", files={ONNX: "x.onnx"}, urls={ONNX: ["http://127.0.0.1:9/x.onnx"]})
    with pytest.raises(WeightsUnavailable, match="An exception occurred while downloading x.onnx") as caught:
        engines.load_runner(network, ONNX)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("engine, file_name", [(ONNX, "bad.onnx"), (PYTORCH, "bad.pth")])
def test_corrupt_file_is_deepface_s_value_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str, file_name: str
) -> None:
    monkeypatch.setenv("DEEPFACE_HOME", str(tmp_path))
    weights = tmp_path / ".deepface" / "weights"
    weights.mkdir(parents=True)
    (weights / file_name).write_bytes(b"half a download")
    network = engines.Network("X", files={engine: file_name}, torch="torch.nn:Identity")
    with pytest.raises(ValueError, match="interruption during the download"):
        engines.load_runner(network, engine)


def test_data_parallel_prefix_is_stripped() -> None:
    assert engines.strip_data_parallel_prefix({"module.a": 1, "module.b": 2}) == {"a": 1, "b": 2}
    assert engines.strip_data_parallel_prefix({"module.a": 1, "b": 2}) == {"module.a": 1, "b": 2}


# ------------------------------------------------------------------ without TensorFlow

HIDE_PACKAGES = """
import importlib.abc, sys
HIDDEN = {hidden!r}
class Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HIDDEN:
            raise ModuleNotFoundError(f"No module named {{name!r}}")
        return None
sys.meta_path.insert(0, Hide())
import importlib.util
_find_spec = importlib.util.find_spec
importlib.util.find_spec = lambda name, *a, **k: None if name.split(".")[0] in HIDDEN else _find_spec(name, *a, **k)
"""


def test_without_tensorflow_and_torch_the_default_is_onnx(in_engine_home: Path) -> None:
    script = HIDE_PACKAGES.format(hidden=["tensorflow", "torch", "tf_keras", "keras"]) + textwrap.dedent(
        """
        import numpy as np
        from deepface import DeepFace
        assert DeepFace.backend_engine == "onnx", DeepFace.backend_engine
        img = np.random.default_rng(0).integers(0, 255, (120, 100, 3), dtype=np.uint8)
        out = DeepFace.represent(img, model_name="DeepID", detector_backend="skip")
        assert len(out) == 1 and len(out[0]["embedding"]) == 160
        ages = DeepFace.analyze(img, actions=("age", "emotion"), detector_backend="skip", silent=True)
        assert "age" in ages[0] and "dominant_emotion" in ages[0]
        assert "tensorflow" not in sys.modules and "torch" not in sys.modules
        print("OK")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_DIR, capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "DEEPFACE_HOME": str(in_engine_home), "PYTHONPATH": str(REPO_DIR)},
    )
    assert done.returncode == 0 and "OK" in done.stdout, done.stderr[-3000:]
