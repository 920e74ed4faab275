"""The runtimes behind deepface's engines: OpenVINO (the default's faster one) against each
engine's own runtime on the same files, its choice, its conversion cache, lower
precisions and the thread budget.

The files are random-weight networks of deepface's own architectures (``.h5`` from its
Keras builders, ``.pth``/``.onnx`` from its torch modules), written by the oracle once per run.
"""

import concurrent.futures
import logging
import os
from pathlib import Path
from typing import Any, Dict, Iterator, Tuple

import numpy as np
import pytest

from deepface.commons import openvino_utils, thread_budget
from deepface.commons.backend_utils import BACKEND_ENGINE_ENV_VAR, ONNX, PYTORCH, TENSORFLOW
from deepface.models import engines
from deepface.models.demography import Age, Emotion, Gender, Race
from deepface.models.facial_recognition import ArcFace, DeepID, Facenet, FbDeepFace, GhostFaceNet, OpenFace, VGGFace
from deepface.models.spoofing import FasNet
from tests.helpers import oracle

TOLERANCE = 1e-5  # of the output's scale (its largest magnitude, at least 1)
#: GhostFaceNet's random weights give outputs near 4e6 whose float32 sums are ill-conditioned:
#: TensorFlow's own batch and single-face runs differ by 1.2e-5 of that scale here.
TOLERANCES = {"GhostFaceNet": 3e-5}
N_FACES = 3

#: Every trained network and the face shape it takes.
NETWORKS: Dict[str, Tuple[engines.Network, Tuple[int, int, int]]] = {
    "VGG-Face": (VGGFace.NETWORK, (224, 224, 3)),
    "OpenFace": (OpenFace.NETWORK, (96, 96, 3)),
    "Facenet": (Facenet.NETWORKS[128], (160, 160, 3)),
    "Facenet512": (Facenet.NETWORKS[512], (160, 160, 3)),
    "DeepFace": (FbDeepFace.NETWORK, (152, 152, 3)),
    "DeepID": (DeepID.NETWORK, (55, 47, 3)),
    "ArcFace": (ArcFace.NETWORK, (112, 112, 3)),
    "GhostFaceNet": (GhostFaceNet.NETWORK, (112, 112, 3)),
    "Age": (Age.NETWORK, (224, 224, 3)),
    "Gender": (Gender.NETWORK, (224, 224, 3)),
    "Race": (Race.NETWORK, (224, 224, 3)),
    "Emotion": (Emotion.NETWORK, (48, 48, 1)),
    "Fasnet-1": (FasNet.MEMBERS[0].network(), (80, 80, 3)),
    "Fasnet-2": (FasNet.MEMBERS[1].network(), (80, 80, 3)),
}
ORACLE_NAMES = ["VGG-Face", "OpenFace", "Facenet", "Facenet512", "DeepFace", "DeepID", "ArcFace",
                "GhostFaceNet", "Age", "Gender", "Race", "Emotion", "Fasnet"]


def within_scale(actual: np.ndarray, expected: np.ndarray, tolerance: float = TOLERANCE) -> bool:
    scale = max(1.0, float(np.max(np.abs(expected))))
    return float(np.max(np.abs(np.asarray(actual, np.float64) - expected))) <= tolerance * scale


@pytest.fixture(scope="module")
def runtime_home(weights_home: Path) -> Path:
    """The run's DEEPFACE_HOME with random .h5, .pth and .onnx files of every network."""
    oracle.oracle_or_skip()
    oracle.write_random_weights(weights_home, [name for name in ORACLE_NAMES if name != "Fasnet"])
    oracle.make_once(weights_home, ["fasnet-h5"], lambda missing: oracle.run_oracle_script(
        "write_random_fasnet.py", [], weights_home))
    oracle.write_random_engine_weights(weights_home, ORACLE_NAMES)
    return weights_home


@pytest.fixture
def in_runtime_home(runtime_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DEEPFACE_HOME", str(runtime_home))
    monkeypatch.delenv(BACKEND_ENGINE_ENV_VAR, raising=False)
    return runtime_home


def faces_for(shape: Tuple[int, int, int]) -> np.ndarray:
    return np.random.default_rng(11).random((N_FACES, *shape), dtype=np.float32)


# ------------------------------------------------------------------ OpenVINO == the engine


@pytest.mark.parametrize("engine", [TENSORFLOW, ONNX])
@pytest.mark.parametrize("name", list(NETWORKS))
def test_openvino_gives_the_engine_s_outputs(in_runtime_home: Path, name: str, engine: str) -> None:
    """deepface's file for ``engine``, run by OpenVINO at float32, is within 1e-5 of the
    output's scale of the engine's own run, for a batch and for each face alone."""
    network, shape = NETWORKS[name]
    faces = faces_for(shape)
    expected = engines._open_runner(network, engine, engine, None, openvino_utils.FP32)(faces)
    runner = engines.OpenVinoRunner(network, engine)
    assert runner.runtime == engines.OPENVINO and runner.engine == engine
    batch = runner(faces)
    assert batch.shape == expected.shape
    tolerance = TOLERANCES.get(name, TOLERANCE)
    assert within_scale(batch, expected, tolerance), f"{name} from {engine}'s file"
    alone = np.concatenate([runner(face[np.newaxis]) for face in faces])
    assert within_scale(alone, batch, tolerance), f"{name}: a batch differs from single faces"


def test_one_openvino_runner_serves_many_threads(in_runtime_home: Path) -> None:
    network, shape = NETWORKS["Facenet"]
    runner = engines.OpenVinoRunner(network, ONNX)
    batches = [np.random.default_rng(seed).random((1 + seed % 3, *shape), dtype=np.float32) for seed in range(12)]
    serial = [runner(batch) for batch in batches]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(runner, batches))
    for one, other in zip(serial, parallel):
        np.testing.assert_array_equal(one, other)


# ------------------------------------------------------------------ which runtime runs a file


@pytest.fixture
def openvino_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(openvino_utils, "is_installed", lambda: True)
    monkeypatch.setattr(engines, "_on_cpu", lambda engine, device: device in (None, "cpu"))


@pytest.mark.parametrize(
    "setting, pinned, network, engine, expected",
    [
        ("auto", False, "VGG-Face", TENSORFLOW, engines.OPENVINO),
        ("auto", False, "VGG-Face", ONNX, ONNX),  # onnxruntime runs the .onnx graph as fast
        ("auto", True, "VGG-Face", TENSORFLOW, TENSORFLOW),  # DEEPFACE_BACKEND_ENGINE set: deepface's runtime
        ("fastest", True, "VGG-Face", TENSORFLOW, engines.OPENVINO),
        ("engine", False, "VGG-Face", TENSORFLOW, TENSORFLOW),
        ("auto", False, "VGG-Face", PYTORCH, PYTORCH),
        ("auto", False, "OpenFace", TENSORFLOW, TENSORFLOW),  # measured no faster on OpenVINO
        ("auto", False, "DeepFace", TENSORFLOW, TENSORFLOW),  # its converted graph runs slower
        ("auto", False, "DeepFace", ONNX, engines.OPENVINO),
        ("auto", False, "GhostFaceNet", ONNX, engines.OPENVINO),
        ("auto", False, "Age", TENSORFLOW, TENSORFLOW),  # analyze shares its Keras trunk
        ("openvino", True, "OpenFace", ONNX, engines.OPENVINO),
    ],
)
def test_the_runtime_chosen(
    monkeypatch: pytest.MonkeyPatch, openvino_installed: None,
    setting: str, pinned: bool, network: str, engine: str, expected: str,
) -> None:
    monkeypatch.setenv(engines.RUNTIME_ENV_VAR, setting)
    assert engines.choose_runtime(NETWORKS[network][0], engine, pinned, None, openvino_utils.FP32) == expected


def test_without_openvino_or_on_a_gpu_the_engine_runs_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(engines.RUNTIME_ENV_VAR, "auto")
    network = NETWORKS["VGG-Face"][0]
    monkeypatch.setattr(openvino_utils, "is_installed", lambda: False)
    assert engines.choose_runtime(network, ONNX, False, None, openvino_utils.FP32) == ONNX
    monkeypatch.setattr(openvino_utils, "is_installed", lambda: True)
    assert engines.choose_runtime(network, TENSORFLOW, False, "cuda:0", openvino_utils.FP32) == TENSORFLOW


def test_an_unknown_runtime_is_a_value_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(engines.RUNTIME_ENV_VAR, "tvm")
    with pytest.raises(ValueError, match="DEEPFACE_RUNTIME must be one of"):
        engines.requested_runtime()


def test_the_default_runs_on_openvino_and_says_so(
    in_runtime_home: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(engines.RUNTIME_ENV_VAR, "auto")
    with caplog.at_level(logging.INFO, logger="deepface.models.engines"):
        model = Facenet.FaceNetClient(128)
    assert model.runner.runtime == engines.OPENVINO
    assert "Facenet runs on openvino" in caplog.text


def test_a_conversion_failure_falls_back_to_the_engine(
    in_runtime_home: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("converter exploded")

    monkeypatch.setenv(engines.RUNTIME_ENV_VAR, "auto")
    monkeypatch.setattr(openvino_utils, "compile_model", broken)
    network, shape = NETWORKS["Facenet"]
    with caplog.at_level(logging.WARNING, logger="deepface.models.engines"):
        runner = engines.load_runner(network, TENSORFLOW)
    assert runner.runtime == TENSORFLOW and "converter exploded" in caplog.text
    monkeypatch.setenv(engines.RUNTIME_ENV_VAR, "openvino")  # asked for explicitly: an error
    with pytest.raises(ValueError, match="OpenVINO cannot run Facenet"):
        engines.load_runner(network, ONNX)


def test_a_corrupt_onnx_file_is_still_deepface_s_value_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPFACE_HOME", str(tmp_path))
    monkeypatch.setenv(engines.RUNTIME_ENV_VAR, "auto")
    monkeypatch.delenv(BACKEND_ENGINE_ENV_VAR, raising=False)
    weights = tmp_path / ".deepface" / "weights"
    weights.mkdir(parents=True)
    (weights / "bad.onnx").write_bytes(b"half a download")
    network = engines.Network("X", files={ONNX: "bad.onnx"})
    with pytest.raises(ValueError, match="interruption during the download"):
        engines.load_runner(network, ONNX)


# ------------------------------------------------------------------ the conversion cache


@pytest.fixture
def tiny_keras(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Tuple[Any, Path]]:
    """A small Keras model and a stand-in weight file, in a fresh DEEPFACE_HOME."""
    from deepface.models.facial_recognition.keras_base import keras

    k = keras()
    inputs = k.layers.Input(shape=(8, 8, 3))
    outputs = k.layers.Dense(4)(k.layers.Flatten()(k.layers.Conv2D(5, 3)(inputs)))
    model = k.models.Model(inputs, outputs)
    source = tmp_path / "tiny.h5"
    source.write_bytes(b"weights v1")
    monkeypatch.setenv("DEEPFACE_HOME", str(tmp_path / "home"))
    yield model, source


def counting_converter(model: Any) -> Tuple[Any, Dict[str, int]]:
    calls = {"n": 0}

    def convert() -> Any:
        calls["n"] += 1
        return openvino_utils.import_openvino().convert_model(model)

    return convert, calls


def cached_folders() -> list:
    root = Path(openvino_utils.cache_dir())
    return sorted(path.name for path in root.iterdir()) if root.is_dir() else []


def test_a_conversion_is_cached_and_keyed_by_content(tiny_keras: Tuple[Any, Path]) -> None:
    model, source = tiny_keras
    convert, calls = counting_converter(model)
    openvino_utils.converted_model(str(source), "tiny", convert)
    openvino_utils.converted_model(str(source), "tiny", convert)
    assert calls["n"] == 1 and len(cached_folders()) == 1
    source.write_bytes(b"weights v2")  # a new file: a new conversion beside the old one
    openvino_utils.converted_model(str(source), "tiny", convert)
    assert calls["n"] == 2 and len(cached_folders()) == 2


def test_a_corrupt_cache_is_rebuilt(tiny_keras: Tuple[Any, Path], caplog: pytest.LogCaptureFixture) -> None:
    model, source = tiny_keras
    convert, calls = counting_converter(model)
    openvino_utils.converted_model(str(source), "tiny", convert)
    (folder,) = cached_folders()
    (Path(openvino_utils.cache_dir()) / folder / "model.xml").write_text("<net><oops")
    with caplog.at_level(logging.WARNING, logger="deepface.commons.openvino_utils"):
        rebuilt = openvino_utils.converted_model(str(source), "tiny", convert)
    assert calls["n"] == 2 and "converting again" in caplog.text
    batch = np.ones((2, 8, 8, 3), np.float32)
    compiled = openvino_utils.compile_model(rebuilt, openvino_utils.FP32)
    np.testing.assert_allclose(compiled(batch)[0], model(batch).numpy(), rtol=1e-5, atol=1e-5)


def test_an_unwritable_cache_still_converts(tiny_keras: Tuple[Any, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the cache cannot be written (a read-only DEEPFACE_HOME), the model is converted
    and used; only the next load pays the conversion again."""
    model, source = tiny_keras
    blocker = Path(os.environ["DEEPFACE_HOME"])
    blocker.write_text("a file where the home folder should be")  # nothing can be created under it
    convert, calls = counting_converter(model)
    assert openvino_utils.converted_model(str(source), "tiny", convert) is not None
    assert openvino_utils.converted_model(str(source), "tiny", convert) is not None
    assert calls["n"] == 2


def test_converting_at_once_leaves_one_complete_cache(tiny_keras: Tuple[Any, Path]) -> None:
    model, source = tiny_keras
    convert, _ = counting_converter(model)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        models = list(pool.map(lambda _: openvino_utils.converted_model(str(source), "tiny", convert), range(4)))
    assert all(converted is not None for converted in models)
    assert len(cached_folders()) == 1, "no staging folder is left behind"
    (folder,) = cached_folders()
    assert {path.name for path in (Path(openvino_utils.cache_dir()) / folder).iterdir()} == {"model.xml", "model.bin"}


# ------------------------------------------------------------------ precision


def test_precision_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(openvino_utils.PRECISION_ENV_VAR, raising=False)
    assert openvino_utils.resolve_precision(None) == "fp32"
    assert openvino_utils.resolve_precision("BF16") == "bf16"
    monkeypatch.setenv(openvino_utils.PRECISION_ENV_VAR, "bf16")
    assert openvino_utils.resolve_precision(None) == "bf16"
    with pytest.raises(ValueError, match="precision must be one of"):
        openvino_utils.resolve_precision("int4")


def test_fp16_on_a_cpu_and_bf16_without_the_instructions_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="GPU only"):
        openvino_utils.check_precision_supported("fp16")
    monkeypatch.setattr(openvino_utils, "cpu_flags", lambda: {"avx2", "avx512f"})
    with pytest.raises(ValueError, match="AVX-512 BF16 or AMX"):
        openvino_utils.check_precision_supported("bf16")


def test_bf16_is_the_user_s_choice_and_close_to_fp32(in_runtime_home: Path) -> None:
    """bf16 runs on OpenVINO where the CPU has the instructions (else it is refused): its
    embeddings differ from float32's, by little."""
    network, shape = NETWORKS["Facenet"]
    faces = faces_for(shape)
    fp32 = engines.load_runner(network, ONNX, precision="fp32")(faces)
    if not set(openvino_utils.BF16_CPU_FLAGS) & openvino_utils.cpu_flags():
        with pytest.raises(ValueError, match="AVX-512 BF16 or AMX"):
            engines.load_runner(network, ONNX, precision="bf16")
        return
    runner = engines.load_runner(network, ONNX, precision="bf16")
    assert runner.runtime == engines.OPENVINO and runner.precision == "bf16"
    bf16 = runner(faces)
    drift = float(np.max(np.abs(bf16 - fp32)) / np.max(np.abs(fp32)))
    assert 0 < drift < 0.05


# ------------------------------------------------------------------ the thread budget


def test_the_thread_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(thread_budget.THREADS_ENV_VAR, "1")
    assert thread_budget.thread_budget() == 1 == thread_budget.resolve_threads(None)
    monkeypatch.setenv(thread_budget.THREADS_ENV_VAR, "zero")
    with pytest.raises(ValueError, match="DEEPFACE_NUM_THREADS must be a whole number"):
        thread_budget.thread_budget()
    monkeypatch.delenv(thread_budget.THREADS_ENV_VAR)
    assert thread_budget.thread_budget() == thread_budget.usable_cpus()


def test_sessions_take_the_thread_budget(in_runtime_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(thread_budget.THREADS_ENV_VAR, "1")
    from deepface.commons import onnx_utils

    path = NETWORKS["DeepID"][0].fetch(ONNX)
    assert onnx_utils.open_session(path).get_session_options().intra_op_num_threads == 1
    compiled = openvino_utils.compile_model(path, openvino_utils.FP32)
    assert int(compiled.get_property("INFERENCE_NUM_THREADS")) == 1
