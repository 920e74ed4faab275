"""One description per trained network, run by any of deepface's three engines.

A :class:`Network` names deepface's weight file of the network for each engine and how
each engine builds it (a Keras builder for ``.h5``, a torch module for ``.pth``; an
``.onnx`` file carries its own graph). :func:`load_runner` turns it into a
:class:`Runner`: a callable from a channels-last float32 batch ``(n, h, w, c)`` to the
network's raw output ``(n, ...)``, the same quantity whatever the engine. The model
families (recognition, attributes, anti-spoofing) do their pre- and post-processing
around a runner and never ask which engine it is.
"""

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np
from numpy.typing import NDArray

from deepface.commons import backend_utils, onnx_utils, weight_utils
from deepface.commons.backend_utils import ONNX, PYTORCH, TENSORFLOW
from deepface.commons.logger import get_logger

logger = get_logger(__name__)

RELEASE_URL = "https://github.com/serengil/deepface_models/releases/download/v1.0/"
MIRROR_URL = "https://huggingface.co/serengil/deepface/resolve/main/"


def deepface_urls(file_name: str) -> List[str]:
    """deepface's two sources of ``file_name``: its GitHub release, then Hugging Face."""
    return [RELEASE_URL + file_name, MIRROR_URL + file_name]


@dataclass(frozen=True)
class Network:
    """A trained network as deepface ships it.

    Attributes:
        name: deepface's model name (``"VGG-Face"``), for messages.
        files: the weight file each engine loads, e.g. ``{"onnx": "vgg_face_weights.onnx"}``.
        keras: builds the Keras model with its weights loaded (it fetches its own ``.h5``).
        torch: ``"module:function"`` returning the torch module whose state dict deepface's
            ``.pth`` file holds; imported only when the PyTorch engine is used.
        urls: where each engine's file comes from, when not :func:`deepface_urls` of its name.
    """

    name: str
    files: Dict[str, str]
    keras: Optional[Callable[[], Any]] = None
    torch: Optional[str] = None
    urls: Dict[str, Sequence[str]] = field(default_factory=dict)

    def source_urls(self, engine: str) -> Sequence[str]:
        return self.urls.get(engine) or deepface_urls(self.files[engine])

    def fetch(self, engine: str) -> str:
        """The local path of this network's file for ``engine``, downloaded if missing."""
        return weight_utils.download_weights_if_necessary(
            file_name=self.files[engine], source_url=list(self.source_urls(engine))
        )


class Runner:
    """A network loaded on one engine: ``runner(batch)`` gives its raw output.

    Attributes:
        engine: ``"tensorflow"``, ``"pytorch"`` or ``"onnx"``.
        model: the engine's object (Keras model, torch module, onnxruntime session), which
            deepface exposes as a client's ``model``.
    """

    engine: str
    model: Any

    def __call__(self, batch: NDArray[np.float32]) -> NDArray[np.float32]:
        raise NotImplementedError


class KerasRunner(Runner):
    """A Keras model run as one compiled TensorFlow graph that takes any batch size."""

    engine = TENSORFLOW

    def __init__(self, network: Network) -> None:
        if network.keras is None:
            raise ValueError(f"{network.name} has no TensorFlow model in deepface")
        from deepface.models.facial_recognition.keras_base import compiled_inference

        self.model = network.keras()
        self._inference = compiled_inference(self.model)

    def __call__(self, batch: NDArray[np.float32]) -> NDArray[np.float32]:
        return np.asarray(self._inference(onnx_utils.channels_last_batch(batch)), dtype=np.float32)


def load_torch_state(module: Any, path: str) -> Any:
    """Load deepface's ``.pth`` state dict into ``module`` and put it in inference mode.

    Raises:
        ValueError: the file cannot be read (deepface's message: most often an interrupted
            download) or does not fit the network.
    """
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many unrelated types for an unreadable file
        raise ValueError(
            f"An exception occurred while loading the pre-trained weights from {path}."
            "This might have happened due to an interruption during the download."
            "You may want to delete it and allow DeepFace to download it again during the next run."
            "If the issue persists, consider downloading the file directly from the source "
            "and copying it to the target folder."
        ) from err
    module.load_state_dict(strip_data_parallel_prefix(state))
    return module.eval()


def strip_data_parallel_prefix(state: Dict[str, Any]) -> Dict[str, Any]:
    """``state`` without the ``module.`` prefix that a ``DataParallel`` checkpoint puts on
    every key (the Silent-Face ``.pth`` files deepface's anti-spoofing loads have it)."""
    prefix = "module."
    if state and all(key.startswith(prefix) for key in state):
        return {key[len(prefix):]: value for key, value in state.items()}
    return state


def resolve(target: str) -> Callable[..., Any]:
    """The function ``"package.module:function"`` names."""
    module_name, function_name = target.split(":")
    return getattr(importlib.import_module(module_name), function_name)  # type: ignore[no-any-return]


class TorchRunner(Runner):
    """A torch module in inference mode; channels-last batches are transposed for it."""

    engine = PYTORCH

    def __init__(self, network: Network, device: Optional[str] = None) -> None:
        if network.torch is None:
            raise ValueError(f"{network.name} has no PyTorch model in deepface")
        import torch

        self._torch = torch
        self.device = torch.device(device or ("cuda:0" if torch.cuda.is_available() else "cpu"))
        module = resolve(network.torch)()
        self.model = load_torch_state(module, network.fetch(PYTORCH)).to(self.device)

    def __call__(self, batch: NDArray[np.float32]) -> NDArray[np.float32]:
        torch = self._torch
        tensor = torch.from_numpy(onnx_utils.channels_last_batch(batch)).permute(0, 3, 1, 2).to(self.device)
        with torch.inference_mode():
            return self.model(tensor).float().cpu().numpy()  # type: ignore[no-any-return]


class OnnxRunner(Runner):
    """deepface's ``.onnx`` graph on onnxruntime, with ``DEEPFACE_ONNX_PROVIDERS``."""

    engine = ONNX

    def __init__(self, network: Network) -> None:
        onnx_utils.import_onnxruntime()
        self.model = onnx_utils.open_session(network.fetch(ONNX))
        self._input = self.model.get_inputs()[0].name

    def __call__(self, batch: NDArray[np.float32]) -> NDArray[np.float32]:
        feed = {self._input: onnx_utils.channels_last_batch(batch)}
        return np.asarray(self.model.run(None, feed)[0], dtype=np.float32)


def load_runner(network: Network, engine: Optional[str] = None, device: Optional[str] = None) -> Runner:
    """``network`` loaded on ``engine`` (default: the process's, see ``backend_utils``).

    Raises:
        ValueError: the engine is unknown or not installed (naming the extra to install),
            or its weight file is unreadable.
        WeightsUnavailable: the file is missing and cannot be downloaded.
    """
    engine = engine or backend_utils.get_backend_engine()
    if engine not in backend_utils.BACKENDS:
        raise ValueError(f"unknown engine {engine!r}; one of {backend_utils.BACKENDS}")
    if not backend_utils.is_backend_available(engine):
        raise ValueError(
            f"{network.name} was asked to run on {engine}, which is not installed: "
            f"run `{backend_utils.install_hint(engine)}`"
        )
    logger.debug("loading %s on %s from %s", network.name, engine, network.files.get(engine))
    if engine == TENSORFLOW:
        return KerasRunner(network)
    if engine == PYTORCH:
        return TorchRunner(network, device)
    return OnnxRunner(network)

