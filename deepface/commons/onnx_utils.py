"""ONNX Runtime sessions for deepface's ``.onnx`` files, at deepface's module path.

deepface's graphs take channels-last input, ``(n, h, w, c)`` float32, exactly what the
TensorFlow models take, so neither TensorFlow nor PyTorch is needed to run them.
``DEEPFACE_ONNX_PROVIDERS`` lists execution providers in order of preference
(default ``cuda,cpu``); the CPU always comes last, for operators the others lack.
"""

import os
from typing import Any, List, Sequence, Union

import numpy as np
from numpy.typing import NDArray

from deepface.commons import thread_budget, weight_utils
from deepface.commons.logger import get_logger

logger = get_logger(__name__)

PROVIDERS_ENV_VAR = "DEEPFACE_ONNX_PROVIDERS"
DEFAULT_PROVIDERS = "cuda,cpu"

#: Short names users write in ``DEEPFACE_ONNX_PROVIDERS``, and onnxruntime's provider names.
PROVIDERS = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "directml": "DmlExecutionProvider",
    "openvino": "OpenVINOExecutionProvider",
    "rocm": "ROCMExecutionProvider",
}


def import_onnxruntime() -> Any:
    """onnxruntime, or deepface's ``ImportError`` saying how to install it."""
    try:
        import onnxruntime
    except ModuleNotFoundError as err:
        raise ImportError(
            "onnxruntime is an optional dependency, ensure the library is installed. Please install "
            "using 'pip install onnxruntime' or 'pip install onnxruntime-gpu' to run it on a gpu."
        ) from err
    return onnxruntime


def requested_providers() -> List[str]:
    """The short names ``DEEPFACE_ONNX_PROVIDERS`` lists (its default when unset)."""
    requested = os.environ.get(PROVIDERS_ENV_VAR) or DEFAULT_PROVIDERS
    names = [name for name in requested.lower().replace(" ", "").split(",") if name]
    unknown = [name for name in names if name not in PROVIDERS]
    if unknown:
        raise ValueError(f"{PROVIDERS_ENV_VAR} must list some of {list(PROVIDERS)}, not {unknown}")
    return names


def resolve_providers(available: Sequence[str]) -> List[str]:
    """The providers to open a session with: those requested that ``available`` offers,
    in the requested order, then the CPU. Warns when every accelerator asked for
    explicitly is missing (the graphs would otherwise fall back to the CPU silently)."""
    names = requested_providers()
    providers: List[str] = []
    for name in names:
        if PROVIDERS[name] in available and PROVIDERS[name] not in providers:
            providers.append(PROVIDERS[name])
    accelerators = [PROVIDERS[name] for name in names if name != "cpu"]
    if os.environ.get(PROVIDERS_ENV_VAR) and accelerators and not set(accelerators) & set(providers):
        logger.warning(
            "none of %s set in %s is offered by the installed onnxruntime (it offers %s): "
            "running on the CPU; onnxruntime-gpu provides cuda", accelerators, PROVIDERS_ENV_VAR, list(available)
        )
    if PROVIDERS["cpu"] not in providers:
        providers.append(PROVIDERS["cpu"])
    return providers


def open_session(path: str) -> Any:
    """An inference session over the graph in ``path``.

    Raises:
        ValueError: the file cannot be read as a graph (deepface's message: most often
            an interrupted download).
    """
    ort = import_onnxruntime()
    options = ort.SessionOptions()
    options.log_severity_level = 3  # some graphs (SFace) warn harmlessly while optimised
    options.intra_op_num_threads = thread_budget.thread_budget()
    try:
        return ort.InferenceSession(path, sess_options=options, providers=resolve_providers(ort.get_available_providers()))
    except Exception as err:  # onnxruntime raises its own untyped errors for a bad file
        raise ValueError(
            f"An exception occurred while loading the onnx graph from {path}."
            "This might have happened due to an interruption during the download."
            "You may want to delete it and allow DeepFace to download it again during the next run."
            "If the issue persists, consider downloading the file directly from the source "
            "and copying it to the target folder."
        ) from err


def build_session(file_name: str, source_url: Union[str, List[str]]) -> Any:
    """deepface's helper: fetch ``file_name`` into the weights folder if missing, open it."""
    import_onnxruntime()  # the missing package is reported before any download
    path = weight_utils.download_weights_if_necessary(file_name=file_name, source_url=source_url)
    return open_session(path)


def channels_last_batch(img: NDArray[Any]) -> NDArray[np.float32]:
    """``img`` as a contiguous float32 ``(n, h, w, c)`` batch (a 3-D image gains n=1)."""
    if img.ndim == 3:
        img = img[np.newaxis]
    if img.ndim != 4 or img.shape[0] < 1:
        raise ValueError(f"Input image must be (n, X, X, c) shaped but it is {img.shape}")
    return np.ascontiguousarray(img, dtype=np.float32)


def run_session(session: Any, img: NDArray[Any]) -> NDArray[Any]:
    """The graph's first output for channels-last images ``(h, w, c)`` or ``(n, h, w, c)``."""
    batch = channels_last_batch(img)
    return np.asarray(session.run(None, {session.get_inputs()[0].name: batch})[0])
