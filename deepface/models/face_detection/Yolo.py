"""YOLO face detectors (v8, v11, v12) through ultralytics: one class, parameterised by model."""

import os
import threading
from dataclasses import dataclass
from enum import Enum
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from numpy.typing import NDArray

from deepface.commons import weight_utils
from deepface.commons.logger import get_logger
from deepface.models.Detector import Detector, FacialAreaRegion, choose_group_batch, equal_shape_batches
from deepface.models.face_detection.yolo_onnx import Detections, OnnxUnavailable, OnnxYolo, onnxruntime_installed
from deepface.commons.exceptions import MissingDependencyError

logger = get_logger(__name__)

CONFIDENCE_ENV = "YOLO_MIN_DETECTION_CONFIDENCE"
DEFAULT_CONFIDENCE = 0.25
# Images per forward pass within a group of same-sized images, on a GPU.
GPU_GROUP_BATCH = 32
#: "auto": onnx on a CPU where it can run, else torch; see :meth:`YoloClient._choose_engine`.
ENGINES = ("auto", "torch", "onnx")
DEFAULT_ENGINE = "auto"


@dataclass(frozen=True)
class EngineChoice:
    """The engine a detector runs on, and why (logged once, at debug level)."""

    engine: str
    reason: str


@dataclass(frozen=True)
class YoloWeights:
    """A face model's weight file, where deepface downloads it, and the ultralytics it needs."""

    file_name: str
    url: str
    min_ultralytics: tuple = (8, 1, 6)


_YAPALAB = "https://github.com/YapaLab/yolo-face/releases/download/1.0.0/"
_AKANAMETOV = "https://github.com/akanametov/yolo-face/releases/download/1.0.0/"

YOLO_MODELS: Dict[str, YoloWeights] = {
    "yolov8n": YoloWeights(
        "yolov8n-face.pt", "https://drive.google.com/uc?id=1qcr9DbgsX3ryrz2uU8w4Xm3cOrRywXqb"
    ),
    "yolov8m": YoloWeights("yolov8m-face.pt", _YAPALAB + "yolov8m-face.pt"),
    "yolov8l": YoloWeights("yolov8l-face.pt", _YAPALAB + "yolov8l-face.pt"),
    "yolov11n": YoloWeights("yolov11n-face.pt", _AKANAMETOV + "yolov11n-face.pt", (8, 3, 203)),
    "yolov11s": YoloWeights("yolov11s-face.pt", _AKANAMETOV + "yolov11s-face.pt", (8, 3, 203)),
    "yolov11m": YoloWeights("yolov11m-face.pt", _AKANAMETOV + "yolov11m-face.pt", (8, 3, 203)),
    "yolov11l": YoloWeights("yolov11l-face.pt", _YAPALAB + "yolov11l-face.pt", (8, 3, 203)),
    "yolov12n": YoloWeights("yolov12n-face.pt", _YAPALAB + "yolov12n-face.pt", (8, 3, 203)),
    "yolov12s": YoloWeights("yolov12s-face.pt", _YAPALAB + "yolov12s-face.pt", (8, 3, 203)),
    "yolov12m": YoloWeights("yolov12m-face.pt", _YAPALAB + "yolov12m-face.pt", (8, 3, 203)),
    "yolov12l": YoloWeights("yolov12l-face.pt", _YAPALAB + "yolov12l-face.pt", (8, 3, 203)),
}


def resolve_confidence(min_confidence: Optional[float]) -> float:
    """The keyword if given, else ``$YOLO_MIN_DETECTION_CONFIDENCE``, else 0.25 (deepface's)."""
    if min_confidence is not None:
        return float(min_confidence)
    return float(os.getenv(CONFIDENCE_ENV, str(DEFAULT_CONFIDENCE)))


class YoloClient(Detector):
    """A YOLO face model (boxes, and eye keypoints where the model has them).

    Batching: ultralytics letterboxes a batch of mixed sizes to a common square, which
    changes what each image looks like to the network. Images of identical shape are
    letterboxed exactly as a single image is, so only those are sent together.

    Args:
        model_name: one of :data:`YOLO_MODELS` (``"yolov8n"``, ``"yolov11s"``, ...).
        min_confidence: the detection threshold (see :func:`resolve_confidence`; without it
            the environment variable is read at every call, as deepface reads it).
        device: ``"cpu"``, ``"cuda"``, ``"cuda:N"``; ``None`` lets ultralytics pick the GPU
            when there is one.
        engine: ``"auto"`` (the default: onnx on a CPU when onnxruntime is installed and
            the export can be written or is cached, torch otherwise and always on a GPU),
            ``"torch"`` (ultralytics' predictor, bit for bit as deepface runs it) or
            ``"onnx"`` (onnxruntime on the CPU, the model exported once and cached, see
            :mod:`~deepface.models.face_detection.yolo_onnx`; same pre- and post-processing,
            boxes within 1 px and confidences within 1e-3 of torch's). Where the export
            cannot be written or loaded, onnx falls back to torch with one warning. The
            engine in use is :attr:`engine`; the one asked for, :attr:`requested_engine`.
        group_batch: equally shaped images per forward pass (see
            :func:`~deepface.models.Detector.choose_group_batch`: 32 on a GPU, 1 on a CPU).
        intra_op_threads: the onnx engine's threads; None: the thread budget (DEEPFACE_NUM_THREADS, else the CPUs this process may use)
            (affinity and container quota), see :mod:`~deepface.commons.thread_budget`.
        onnx_cache_dir: where exports go when the weights' folder is read-only; None:
            ``$XDG_CACHE_HOME/deepface/onnx`` (``~/.cache/deepface/onnx``).
    """

    def __init__(
        self,
        model_name: str = "yolov8n",
        min_confidence: Optional[float] = None,
        device: Optional[str] = None,
        engine: str = DEFAULT_ENGINE,
        group_batch: Optional[int] = None,
        intra_op_threads: Optional[int] = None,
        onnx_cache_dir: Optional[str] = None,
    ) -> None:
        if model_name not in YOLO_MODELS:
            raise ValueError(f"unknown YOLO model {model_name!r}; known: {sorted(YOLO_MODELS)}")
        if engine not in ENGINES:
            raise ValueError(f"unknown YOLO engine {engine!r}; choose one of {ENGINES}")
        self.model_name = model_name
        self.min_confidence = min_confidence  # None: deepface's variable, read at every call
        self.device = device
        self.requested_engine = engine
        self.weights_path = self._weights(YOLO_MODELS[model_name])
        self.model = _load_ultralytics().YOLO(self.weights_path)
        self.onnx: Optional[OnnxYolo] = None
        choice = self._choose_engine(engine, intra_op_threads, onnx_cache_dir)
        logger.debug("%s runs on %s: %s", model_name, choice.engine, choice.reason)
        self.engine = choice.engine
        self.engine_reason = choice.reason
        on_gpu = self.engine == "torch" and self._torch_on_gpu()  # onnxruntime runs on the CPU here
        self.group_batch = choose_group_batch(group_batch, on_gpu, GPU_GROUP_BATCH)
        self.native_batch = self.group_batch > 1
        self._predictor_lock = threading.Lock()  # ultralytics' predictor keeps per-call state

    def _choose_engine(
        self, requested: str, intra_op_threads: Optional[int], onnx_cache_dir: Optional[str]
    ) -> EngineChoice:
        """torch or onnx for ``requested``; builds :attr:`onnx` when it is onnx."""
        if requested == "torch":
            return EngineChoice("torch", "asked for")
        if requested == "auto" and self._torch_on_gpu():
            return EngineChoice("torch", "a GPU: torch batches there")
        if not onnxruntime_installed():
            if requested == "onnx":
                raise MissingDependencyError("the onnx engine needs onnxruntime: pip install onnxruntime onnx")
            return EngineChoice("torch", "onnxruntime is not installed")
        has_keypoints = self.model.task == "pose"  # v8 face models give eyes; v11 ones do not
        try:
            self.onnx = OnnxYolo(self.weights_path, has_keypoints, intra_op_threads, onnx_cache_dir)
        except OnnxUnavailable as error:
            logger.warning("%s falls back to the torch engine: %s", self.model_name, error)
            return EngineChoice("torch", f"onnx unavailable ({error})")
        return EngineChoice("onnx", f"onnxruntime on the CPU, {self.onnx.threads} threads, {self.onnx.model_path}")

    def _torch_on_gpu(self) -> bool:
        """Whether ultralytics would run this model on a GPU."""
        if self.device is not None:
            return str(self.device).startswith("cuda")
        import torch

        return torch.cuda.is_available()

    @staticmethod
    def _weights(weights: YoloWeights) -> str:
        ultralytics = _load_ultralytics()
        version = tuple(int(part) for part in ultralytics.__version__.split(".")[:3])
        if version < weights.min_ultralytics:
            needed = ".".join(map(str, weights.min_ultralytics))
            raise MissingDependencyError(
                f"{weights.file_name} needs ultralytics>={needed}, found {ultralytics.__version__}: "
                f"pip install 'ultralytics-opencv-headless>={needed}'"
            )
        return weight_utils.download_weights_if_necessary(weights.file_name, weights.url)

    def detect_faces(self, img: NDArray[Any]) -> List[FacialAreaRegion]:
        return _to_regions(self._predict([img])[0])

    def detect_faces_batch(self, imgs: Sequence[NDArray[Any]]) -> List[List[FacialAreaRegion]]:
        results: List[List[FacialAreaRegion]] = [[] for _ in imgs]
        for chunk in equal_shape_batches(imgs, self.group_batch):
            for index, found in zip(chunk, self._predict([imgs[i] for i in chunk])):
                results[index] = _to_regions(found)
        return results

    def _predict(self, imgs: List[NDArray[Any]]) -> List[Detections]:
        """Detections for images of one shape, by the chosen engine."""
        confidence = resolve_confidence(self.min_confidence)
        if self.onnx is not None:
            return self.onnx.predict(imgs, confidence)  # onnxruntime sessions are safe to share
        source = imgs[0] if len(imgs) == 1 else imgs  # one image goes in as deepface passes it
        with self._predictor_lock:
            results = self.model.predict(
                source, verbose=False, show=False, conf=confidence, device=self.device
            )
        return [_detections_of(result) for result in results]


def _load_ultralytics() -> Any:
    try:
        import ultralytics
    except ImportError as err:
        raise MissingDependencyError(
            "YOLO detectors need ultralytics and torch: pip install 'deepface[yolo]' "
            "(or pip install ultralytics-opencv-headless torch torchvision)"
        ) from err
    return ultralytics


def _detections_of(result: Any) -> Detections:
    """The arrays of one ultralytics ``Results``."""
    if result.boxes is None or len(result.boxes) == 0:
        return Detections(np.empty((0, 4), np.float32), np.empty(0, np.float32), None)
    keypoints = result.keypoints.xy.cpu().numpy() if result.keypoints is not None else None
    return Detections(result.boxes.xywh.cpu().numpy(), result.boxes.conf.cpu().numpy(), keypoints)


def _to_regions(found: Detections) -> List[FacialAreaRegion]:
    """Regions (x, y of the top-left corner) from one image's detections."""
    boxes = found.xywh.tolist()
    confidences = found.confidence.tolist()
    keypoints = found.keypoints.tolist() if found.keypoints is not None else None
    regions = []
    for i, ((cx, cy, w, h), confidence) in enumerate(zip(boxes, confidences)):
        left_eye = right_eye = None
        if keypoints is not None:
            # keypoint 0 is the eye on the picture's left: the person's right eye.
            right_eye = (int(keypoints[i][0][0]), int(keypoints[i][0][1]))
            left_eye = (int(keypoints[i][1][0]), int(keypoints[i][1][1]))
        regions.append(
            FacialAreaRegion(
                x=int(cx - w / 2),
                y=int(cy - h / 2),
                w=int(w),
                h=int(h),
                left_eye=left_eye,
                right_eye=right_eye,
                confidence=confidence,
            )
        )
    return regions


# ---------------------------------------------------------------- deepface's names

#: deepface's enum of the YOLO weights: ``YoloModel.V8N.value == (file name, URL)``.
YoloModel = Enum(  # type: ignore[misc]
    "YoloModel", {f"V{name[5:].upper()}": (w.file_name, w.url) for name, w in YOLO_MODELS.items()}, module=__name__
)


def model_name_of(model: "YoloModel") -> str:
    """``YoloModel.V11S`` -> ``"yolov11s"``."""
    return "yolov" + model.name[1:].lower()


class YoloDetectorClient(YoloClient):
    """deepface's YOLO client, built from a :data:`YoloModel` (this package's keywords follow)."""

    def __init__(self, model: "YoloModel", **options: Any) -> None:
        super().__init__(model_name_of(model), **options)


def _sized(model: "YoloModel") -> type:
    """deepface's client class of one size, built with no argument (``YoloDetectorClientV8n()``)."""

    def __init__(self: YoloDetectorClient, **options: Any) -> None:
        YoloDetectorClient.__init__(self, model, **options)

    name = f"YoloDetectorClientV{model.name[1:].lower()}"
    return type(name, (YoloDetectorClient,), {"__init__": __init__, "__module__": __name__, "__qualname__": name})


YoloDetectorClientV8n = _sized(YoloModel.V8N)
YoloDetectorClientV8m = _sized(YoloModel.V8M)
YoloDetectorClientV8l = _sized(YoloModel.V8L)
YoloDetectorClientV11n = _sized(YoloModel.V11N)
YoloDetectorClientV11s = _sized(YoloModel.V11S)
YoloDetectorClientV11m = _sized(YoloModel.V11M)
YoloDetectorClientV11l = _sized(YoloModel.V11L)
YoloDetectorClientV12n = _sized(YoloModel.V12N)
YoloDetectorClientV12s = _sized(YoloModel.V12S)
YoloDetectorClientV12m = _sized(YoloModel.V12M)
YoloDetectorClientV12l = _sized(YoloModel.V12L)
