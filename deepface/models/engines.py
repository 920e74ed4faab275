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
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
from numpy.typing import NDArray

from deepface.commons import backend_utils, onnx_utils, openvino_utils, thread_budget, weight_utils
from deepface.commons.backend_utils import ONNX, PYTORCH, TENSORFLOW
from deepface.commons.logger import get_logger
from deepface.commons.openvino_utils import BF16, FP16, FP32

logger = get_logger(__name__)

#: Which runtime runs a network's file (see :func:`choose_runtime`): ``auto`` (the fastest
#: installed unless ``DEEPFACE_BACKEND_ENGINE`` pins an engine, then the engine's own),
#: ``fastest`` (the fastest installed even then), ``engine`` (always the engine's own
#: runtime, as deepface) or ``openvino``.
RUNTIME_ENV_VAR = "DEEPFACE_RUNTIME"
AUTO, FASTEST, ENGINE_RUNTIME, OPENVINO = "auto", "fastest", "engine", "openvino"
RUNTIME_CHOICES = (AUTO, FASTEST, ENGINE_RUNTIME, OPENVINO)

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
        openvino_faster: the engines whose file of this network OpenVINO runs faster than
            the engine itself on a CPU, within 1e-5 of its output's scale, so ``auto`` takes
            it for them: by default the converted Keras models (onnxruntime runs most
            ``.onnx`` graphs as fast); measured per network by scripts/benchmark_runtimes.py
            (docs/benchmarks-runtimes.md).
        keras_shared_trunk: ``analyze`` runs this network's Keras model in a trunk shared
            with its siblings (``demography.shared_trunk``), so on TensorFlow ``auto``
            keeps Keras, whose shortcut saves more than OpenVINO's speed.
    """

    name: str
    files: Dict[str, str]
    keras: Optional[Callable[[], Any]] = None
    torch: Optional[str] = None
    urls: Dict[str, Sequence[str]] = field(default_factory=dict)
    openvino_faster: Tuple[str, ...] = (TENSORFLOW,)
    keras_shared_trunk: bool = False

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
        engine: ``"tensorflow"``, ``"pytorch"`` or ``"onnx"``: whose weight file it runs,
            so whose output it gives (deepface's ``.onnx`` graphs end in a softmax where
            the others do not, for example).
        runtime: what computes it: the engine itself, or ``"openvino"``.
        precision: ``"fp32"``, ``"bf16"`` or ``"fp16"``.
        model: the runtime's object (Keras model, torch module, onnxruntime session,
            OpenVINO compiled model), which deepface exposes as a client's ``model``.
    """

    engine: str
    runtime: str
    precision: str = FP32
    model: Any

    def __call__(self, batch: NDArray[np.float32]) -> NDArray[np.float32]:
        raise NotImplementedError


class KerasRunner(Runner):
    """A Keras model run as one compiled TensorFlow graph that takes any batch size."""

    engine = runtime = TENSORFLOW

    def __init__(self, network: Network) -> None:
        if network.keras is None:
            raise ValueError(f"{network.name} has no TensorFlow model in deepface")
        from deepface.models.facial_recognition.keras_base import compiled_inference

        thread_budget.ensure_applied()
        self.network = network
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

    engine = runtime = PYTORCH

    def __init__(self, network: Network, device: Optional[str] = None, precision: str = FP32) -> None:
        if network.torch is None:
            raise ValueError(f"{network.name} has no PyTorch model in deepface")
        import torch

        self._torch = torch
        thread_budget.ensure_applied()
        self.device = torch.device(device or ("cuda:0" if torch.cuda.is_available() else "cpu"))
        if precision == FP16 and self.device.type != "cuda":
            raise ValueError("precision='fp16' runs on a GPU only; on a CPU use 'fp32' or 'bf16'")
        if precision == BF16 and self.device.type == "cpu":
            openvino_utils.check_precision_supported(BF16)
        self.precision = precision
        self._autocast = {BF16: torch.bfloat16, FP16: torch.float16}.get(precision)
        module = resolve(network.torch)()
        self.model = load_torch_state(module, network.fetch(PYTORCH)).to(self.device)

    def __call__(self, batch: NDArray[np.float32]) -> NDArray[np.float32]:
        torch = self._torch
        tensor = torch.from_numpy(onnx_utils.channels_last_batch(batch)).permute(0, 3, 1, 2).to(self.device)
        with torch.inference_mode(), torch.autocast(
            self.device.type, dtype=self._autocast, enabled=self._autocast is not None
        ):
            return self.model(tensor).float().cpu().numpy()  # type: ignore[no-any-return]


class OnnxRunner(Runner):
    """deepface's ``.onnx`` graph on onnxruntime, with ``DEEPFACE_ONNX_PROVIDERS``."""

    engine = ONNX
    runtime = "onnxruntime"

    def __init__(self, network: Network) -> None:
        onnx_utils.import_onnxruntime()
        self.model = onnx_utils.open_session(network.fetch(ONNX))
        self._input = self.model.get_inputs()[0].name

    def __call__(self, batch: NDArray[np.float32]) -> NDArray[np.float32]:
        feed = {self._input: onnx_utils.channels_last_batch(batch)}
        return np.asarray(self.model.run(None, feed)[0], dtype=np.float32)


def openvino_graph(
    keras_model: Any, precision: str = FP32, cache_source: Optional[str] = None, name: str = ""
) -> "OpenVinoCall":
    """``keras_model`` converted to OpenVINO and compiled: a callable from a batch to its
    output, one inference request per calling thread. ``cache_source``: the weight file
    the model's weights come from, to cache the conversion under ``name``."""
    ov = openvino_utils.import_openvino()
    convert = lambda: ov.convert_model(keras_model)  # noqa: E731
    model = openvino_utils.converted_model(cache_source, name, convert) if cache_source else convert()
    return OpenVinoCall(openvino_utils.compile_model(model, precision))


class OpenVinoCall:
    """A compiled OpenVINO model called from any thread (each has its own request)."""

    def __init__(self, compiled: Any) -> None:
        self.compiled = compiled
        self._requests = threading.local()

    def __call__(self, batch: NDArray[Any]) -> NDArray[np.float32]:
        request = getattr(self._requests, "request", None)
        if request is None:
            request = self._requests.request = self.compiled.create_infer_request()
        output = request.infer({0: onnx_utils.channels_last_batch(batch)})[0]
        return np.array(output, dtype=np.float32)  # a copy: the request reuses its buffer


class OpenVinoRunner(Runner):
    """deepface's file for ``engine`` run by OpenVINO on the CPU: an ``.onnx`` graph read as
    it is, a Keras model converted once (cached, see ``openvino_utils``). Each calling
    thread has its own inference request, so one runner serves many threads."""

    runtime = OPENVINO

    def __init__(self, network: Network, engine: str, precision: str = FP32) -> None:
        openvino_utils.import_openvino()
        openvino_utils.check_precision_supported(precision)
        self.engine = engine
        self.precision = precision
        self._call = OpenVinoCall(openvino_utils.compile_model(self._read(network, engine), precision))
        self.model = self._call.compiled

    @staticmethod
    def _read(network: Network, engine: str) -> Any:
        if engine == ONNX:
            return network.fetch(ONNX)
        if engine == TENSORFLOW and network.keras is not None:
            keras_builder = network.keras

            def convert() -> Any:
                return openvino_utils.import_openvino().convert_model(keras_builder())

            return openvino_utils.converted_model(network.fetch(TENSORFLOW), network.name, convert)
        raise ValueError(f"OpenVINO runs {network.name}'s .onnx or Keras file, not its {engine} one")

    def __call__(self, batch: NDArray[np.float32]) -> NDArray[np.float32]:
        return self._call(batch)


def requested_runtime() -> str:
    """``DEEPFACE_RUNTIME`` (default ``auto``), checked.

    Raises:
        ValueError: not one of :data:`RUNTIME_CHOICES`.
    """
    value = (os.environ.get(RUNTIME_ENV_VAR) or AUTO).strip().lower()
    if value not in RUNTIME_CHOICES:
        raise ValueError(f"{RUNTIME_ENV_VAR} must be one of {RUNTIME_CHOICES}, not {value!r}")
    return value


def choose_runtime(network: Network, engine: str, pinned: bool, device: Optional[str], precision: str) -> str:
    """Who runs ``network``'s file for ``engine``: OpenVINO or the engine's own runtime.

    OpenVINO when asked (``DEEPFACE_RUNTIME=openvino``, or a lower precision than float32
    on TensorFlow or onnxruntime, which have none on a CPU here), or when the fastest
    runtime is wanted (``auto`` with the engine not pinned by ``DEEPFACE_BACKEND_ENGINE``
    or a class at deepface's engine paths, or ``fastest``), OpenVINO is installed, the work
    stays on the CPU and OpenVINO runs this network's file faster. Otherwise the engine's
    own runtime, exactly deepface's.
    """
    runtime = requested_runtime()
    if runtime == OPENVINO or (precision != FP32 and engine != PYTORCH):
        return OPENVINO
    wants_fastest = runtime == FASTEST or (runtime == AUTO and not pinned)
    if not wants_fastest or engine not in network.openvino_faster or not _on_cpu(engine, device):
        return engine
    if engine == TENSORFLOW and network.keras_shared_trunk:
        return engine  # analyze shares its Keras trunk (and runs that on OpenVINO)
    return OPENVINO if openvino_utils.is_installed() else engine


def openvino_for_keras(pinned: bool) -> bool:
    """Whether Keras models built here (``analyze``'s shared trunk) should run on OpenVINO:
    the fastest runtime is wanted and OpenVINO is installed."""
    runtime = requested_runtime()
    wanted = runtime in (FASTEST, OPENVINO) or (runtime == AUTO and not pinned)
    return wanted and openvino_utils.is_installed()


def _on_cpu(engine: str, device: Optional[str]) -> bool:
    if device not in (None, "cpu"):
        return False
    if engine == ONNX:
        return not _onnx_gpu_requested()
    if engine == PYTORCH and device is None:
        return not _torch_gpu_available()
    return True


def _onnx_gpu_requested() -> bool:
    """True when ``DEEPFACE_ONNX_PROVIDERS`` asks for an accelerator onnxruntime offers."""
    try:
        ort = onnx_utils.import_onnxruntime()
    except ImportError:
        return False
    return onnx_utils.resolve_providers(ort.get_available_providers())[0] != onnx_utils.PROVIDERS["cpu"]


def _torch_gpu_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def load_runner(
    network: Network, engine: Optional[str] = None, device: Optional[str] = None, precision: Optional[str] = None
) -> Runner:
    """``network`` loaded on ``engine`` (default: the process's, see ``backend_utils``),
    run by the runtime :func:`choose_runtime` picks, at ``precision`` (default
    ``DEEPFACE_PRECISION``, else float32).

    Raises:
        ValueError: the engine is unknown or not installed (naming the extra to install),
            its weight file is unreadable, or the precision is unknown or unsupported here.
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
    precision = openvino_utils.resolve_precision(precision)
    runtime = choose_runtime(network, engine, backend_utils.engine_forced(), device, precision)
    runner = _open_runner(network, engine, runtime, device, precision)
    logger.info("%s runs on %s (%s's file %s, %s)", network.name, runner.runtime, engine,
                network.files.get(engine), runner.precision)
    return runner


def _open_runner(network: Network, engine: str, runtime: str, device: Optional[str], precision: str) -> Runner:
    if runtime == OPENVINO:
        try:
            return OpenVinoRunner(network, engine, precision)
        except ValueError:  # deepface's errors: a missing or unreadable file, a missing package
            raise
        except Exception as err:  # pylint: disable=broad-except  # a converter's untyped failure
            if precision != FP32 or requested_runtime() == OPENVINO:
                raise ValueError(f"OpenVINO cannot run {network.name}'s {engine} file: {err}") from err
            logger.warning("OpenVINO cannot run %s (%s): %s runs it instead", network.name, err, engine)
    if engine == TENSORFLOW:
        return KerasRunner(network)
    if engine == PYTORCH:
        return TorchRunner(network, device, precision)
    return OnnxRunner(network)
