"""OpenVINO, the fastest CPU runner installed, for deepface's own weight files.

OpenVINO reads deepface's ``.onnx`` graphs directly and converts its Keras (``.h5``) models;
a conversion is done once and cached under ``$DEEPFACE_HOME/.deepface/openvino``, keyed by
the weight file's content hash and OpenVINO's version, written atomically (a folder renamed
into place), and rebuilt when it cannot be read. Precision is the caller's: float32 unless
asked (``bf16`` where the CPU computes in bfloat16 natively, ``fp16`` on a GPU).
"""

import hashlib
import os
import shutil
import tempfile
import threading
from typing import Any, Callable, Dict, Optional

from deepface.commons import folder_utils, thread_budget
from deepface.commons.exceptions import MissingDependencyError
from deepface.commons.logger import get_logger

logger = get_logger(__name__)

FP32, BF16, FP16 = "fp32", "bf16", "fp16"
PRECISIONS = (FP32, BF16, FP16)
PRECISION_ENV_VAR = "DEEPFACE_PRECISION"
#: OpenVINO's name for each precision (its ``INFERENCE_PRECISION_HINT``).
_HINTS = {FP32: "f32", BF16: "bf16", FP16: "f16"}
#: CPU flags (``/proc/cpuinfo``) of the instructions that compute in bfloat16.
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")
CACHE_FOLDER = "openvino"
_HASH_CHUNK = 1 << 22

_core_lock = threading.Lock()
_core: Any = None


def is_installed() -> bool:
    """True when the ``openvino`` package can be imported."""
    import importlib.util

    return importlib.util.find_spec("openvino") is not None


def import_openvino() -> Any:
    """The ``openvino`` package, or a ``MissingDependencyError`` saying how to install it."""
    try:
        import openvino
    except ModuleNotFoundError as err:
        raise MissingDependencyError(
            'OpenVINO runs lower precisions and DEEPFACE_RUNTIME=openvino: pip install "deepface[openvino]"'
        ) from err
    return openvino


def core() -> Any:
    """The process's one OpenVINO ``Core`` (it holds the plugins and their thread pools)."""
    global _core
    with _core_lock:
        if _core is None:
            _core = import_openvino().Core()
        return _core


def resolve_precision(precision: Optional[str]) -> str:
    """``precision``, else ``DEEPFACE_PRECISION``, else ``fp32``, checked.

    Raises:
        ValueError: not one of :data:`PRECISIONS`.
    """
    value = (precision or os.environ.get(PRECISION_ENV_VAR) or FP32).strip().lower()
    if value not in PRECISIONS:
        source = "precision" if precision else PRECISION_ENV_VAR
        raise ValueError(f"{source} must be one of {PRECISIONS}, not {value!r}")
    return value


def cpu_flags() -> set:
    """The flags ``/proc/cpuinfo`` lists for the first CPU (empty where it cannot be read)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def check_precision_supported(precision: str, device: str = "CPU") -> None:
    """Raises ``ValueError`` where ``device`` cannot compute in ``precision`` natively (the
    runtime would emulate it, slower than float32, or silently fall back)."""
    if precision == BF16 and device == "CPU" and not set(BF16_CPU_FLAGS) & cpu_flags():
        raise ValueError(
            f"precision='bf16' needs a CPU with one of {BF16_CPU_FLAGS} (AVX-512 BF16 or AMX); "
            "this one has neither: use precision='fp32'"
        )
    if precision == FP16 and device == "CPU":
        raise ValueError("precision='fp16' runs on a GPU only; on a CPU use 'fp32' or 'bf16'")


def compile_model(model: Any, precision: str, device: str = "CPU") -> Any:
    """``model`` (a path or an ``ov.Model``) compiled for ``device`` at ``precision``,
    on the process's thread budget."""
    config = {"INFERENCE_PRECISION_HINT": _HINTS[precision], "PERFORMANCE_HINT": "LATENCY"}
    if device == "CPU":
        config["INFERENCE_NUM_THREADS"] = str(thread_budget.thread_budget())
    return core().compile_model(model, device, config)


def file_digest(path: str) -> str:
    """The sha256 of a file's content, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_HASH_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def cache_dir() -> str:
    """Where converted models are kept: ``$DEEPFACE_HOME/.deepface/openvino``."""
    return os.path.join(folder_utils.get_deepface_home(), ".deepface", CACHE_FOLDER)


def converted_model(source_path: str, name: str, convert: Callable[[], Any]) -> Any:
    """The OpenVINO model converted from the weights in ``source_path``: read from the cache
    when a readable conversion of this exact file by this OpenVINO is there, else made by
    ``convert()`` and cached. A cache that cannot be written (read-only ``DEEPFACE_HOME``)
    only costs the conversion next time; a corrupt one is rebuilt."""
    ov = import_openvino()
    key = f"{name}-{file_digest(source_path)[:16]}-ov{ov.__version__.split('-')[0]}"
    folder = os.path.join(cache_dir(), key)
    xml_path = os.path.join(folder, "model.xml")
    if os.path.isfile(xml_path):
        try:
            return core().read_model(xml_path)
        except Exception as err:  # OpenVINO raises its own untyped errors for a bad file
            logger.warning("the cached OpenVINO model %s cannot be read (%s): converting again", folder, err)
            shutil.rmtree(folder, ignore_errors=True)
    model = convert()
    _store(ov, model, folder)
    return model


def _store(ov: Any, model: Any, folder: str) -> None:
    """Write ``model`` into ``folder`` atomically: into a fresh folder beside it, renamed into
    place; when another process got there first, its copy stays and this one is dropped."""
    parent = os.path.dirname(folder)
    try:
        os.makedirs(parent, exist_ok=True)
        staging = tempfile.mkdtemp(prefix=".staging-", dir=parent)
    except OSError as err:
        logger.warning("cannot cache the OpenVINO model under %s (%s): it is converted on each load", parent, err)
        return
    try:
        ov.save_model(model, os.path.join(staging, "model.xml"), compress_to_fp16=False)
        os.rename(staging, folder)
        logger.info("cached the OpenVINO model in %s", folder)
    except Exception as err:  # the folder exists (another process won), or the disk refused
        if not os.path.isdir(folder):
            logger.warning("cannot cache the OpenVINO model in %s: %s", folder, err)
        shutil.rmtree(staging, ignore_errors=True)
