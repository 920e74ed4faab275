"""Which engine runs deepface's trained networks: TensorFlow, PyTorch or ONNX Runtime.

deepface 0.0.103's contract, at its module path: ``DEEPFACE_BACKEND_ENGINE`` forces an
engine (an unknown value, or an engine that is not installed, is a ``ValueError``);
unset, the first installed of tensorflow, pytorch and onnx is taken. The choice is made
once per process and cached. Nothing here imports an engine: deciding must not require
all of them to be installed.
"""

import importlib.util
import os
from typing import Dict, List, Optional

from deepface.commons.logger import get_logger

logger = get_logger(__name__)

TENSORFLOW = "tensorflow"
PYTORCH = "pytorch"
ONNX = "onnx"

#: The engines in the order one is taken when none is forced.
BACKENDS: List[str] = [TENSORFLOW, PYTORCH, ONNX]

#: The environment variable that forces an engine.
BACKEND_ENGINE_ENV_VAR = "DEEPFACE_BACKEND_ENGINE"

#: The importable packages each engine needs.
BACKEND_REQUIREMENTS: Dict[str, List[str]] = {
    TENSORFLOW: ["tensorflow"],
    PYTORCH: ["torch"],
    ONNX: ["onnxruntime"],
}

_backend_engine: Optional[str] = None


def is_package_installed(package_name: str) -> bool:
    """Whether ``package_name`` can be imported, found without importing it."""
    try:
        return importlib.util.find_spec(package_name) is not None
    except (ImportError, ValueError):  # a broken installation can raise while being looked up
        return False


def is_backend_available(backend: str) -> bool:
    """Whether every package ``backend`` needs is installed."""
    return all(is_package_installed(package) for package in BACKEND_REQUIREMENTS[backend])


def install_hint(backend: str) -> str:
    """The command that installs ``backend`` (onnxruntime is in the base install)."""
    return "pip install onnxruntime" if backend == ONNX else f'pip install "deepface[{backend}]"'


def _forced_engine(value: str) -> str:
    backend = value.strip().lower()
    if backend not in BACKENDS:
        raise ValueError(
            f"Unimplemented backend engine - {value}. {BACKEND_ENGINE_ENV_VAR} must be one of {BACKENDS}."
        )
    if not is_backend_available(backend):
        packages = BACKEND_REQUIREMENTS[backend]
        raise ValueError(
            f"{BACKEND_ENGINE_ENV_VAR} is set to {backend} but {' and '.join(packages)} "
            f"{'is' if len(packages) == 1 else 'are'} not installed. Please run `{install_hint(backend)}` "
            f"or unset {BACKEND_ENGINE_ENV_VAR}."
        )
    logger.debug("%s engine forced by %s", backend, BACKEND_ENGINE_ENV_VAR)
    return backend


def _first_installed() -> str:
    for backend in BACKENDS:
        if is_backend_available(backend):
            logger.debug("%s engine will run the trained networks", backend)
            return backend
    raise ValueError(
        "deepface requires tensorflow, pytorch or onnxruntime to be installed, but none of them is "
        "available. onnxruntime comes with deepface: run `pip install onnxruntime` to restore it, or "
        '`pip install "deepface[tensorflow]"` or `pip install "deepface[pytorch]"` for another engine.'
    )


def get_backend_engine() -> str:
    """The engine this process runs deepface's networks on, decided once and cached.

    Raises:
        ValueError: ``DEEPFACE_BACKEND_ENGINE`` names an unknown or uninstalled engine,
            or no engine is installed at all.
    """
    global _backend_engine  # pylint: disable=global-statement
    if _backend_engine is None:
        forced = os.environ.get(BACKEND_ENGINE_ENV_VAR)
        _backend_engine = _forced_engine(forced) if forced else _first_installed()
    return _backend_engine


def engine_forced() -> bool:
    """Whether ``DEEPFACE_BACKEND_ENGINE`` pins the engine (then its own runtime runs it)."""
    return bool(os.environ.get(BACKEND_ENGINE_ENV_VAR))


def is_tensorflow() -> bool:
    """Whether the networks run on TensorFlow."""
    return get_backend_engine() == TENSORFLOW


def is_pytorch() -> bool:
    """Whether the networks run on PyTorch."""
    return get_backend_engine() == PYTORCH


def is_onnx() -> bool:
    """Whether the networks run on ONNX Runtime."""
    return get_backend_engine() == ONNX
