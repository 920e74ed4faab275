"""Model registry: each model is built once per process, thread-safely, and reused.

Thread safety of the models themselves: each one either is safe to share (TensorFlow
graphs, onnxruntime sessions, torch modules in inference) or serialises its stateful
calls with its own lock (OpenCV cascades and DNN nets, ultralytics' predictor, dlib,
mediapipe). ``tests/test_threads.py`` checks every detector from many threads.
"""

import importlib
import inspect
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, Hashable, Optional, Tuple, TypedDict

from deepface.commons import backend_utils, openvino_utils
from deepface.commons.backend_utils import ONNX, PYTORCH, TENSORFLOW
from deepface.commons.logger import get_logger
from deepface.commons.exceptions import UnimplementedError

logger = get_logger(__name__)

_DETECTION = "deepface.models.face_detection"
_RECOGNITION = "deepface.models.facial_recognition"
_DEMOGRAPHY = "deepface.models.demography"
_SPOOFING = "deepface.models.spoofing"


@dataclass(frozen=True)
class ModelSpec:
    """Where a model's class lives and the fixed arguments it is built with."""

    target: str  # "module:Class"
    fixed: Dict[str, Any] = field(default_factory=dict)

    def build(self, **options: Any) -> Any:
        module_name, class_name = self.target.split(":")
        cls = getattr(importlib.import_module(module_name), class_name)
        return cls(**self.fixed, **options)


def _yolo(name: str) -> ModelSpec:
    return ModelSpec(f"{_DETECTION}.Yolo:YoloClient", {"model_name": name})


FACE_DETECTORS: Dict[str, ModelSpec] = {
    "opencv": ModelSpec(f"{_DETECTION}.OpenCv:OpenCvClient"),
    "mtcnn": ModelSpec(f"{_DETECTION}.MtCnn:MtCnnClient"),
    "retinaface": ModelSpec(f"{_DETECTION}.RetinaFace:RetinaFaceClient"),
    "dlib": ModelSpec(f"{_DETECTION}.Dlib:DlibClient"),
    "fastmtcnn": ModelSpec(f"{_DETECTION}.FastMtCnn:FastMtCnnClient"),
    "ssd": ModelSpec(f"{_DETECTION}.Ssd:SsdClient"),
    "yunet": ModelSpec(f"{_DETECTION}.YuNet:YuNetClient"),
    "centerface": ModelSpec(f"{_DETECTION}.CenterFace:CenterFaceClient"),
    "mediapipe": ModelSpec(f"{_DETECTION}.MediaPipe:MediaPipeClient"),
    **{
        name: _yolo(name)
        for name in (
            "yolov8n", "yolov8m", "yolov8l",
            "yolov11n", "yolov11s", "yolov11m", "yolov11l",
            "yolov12n", "yolov12s", "yolov12m", "yolov12l",
        )
    },
}

#: Where each trained network's class lives for each engine (deepface 0.0.103's table,
#: at its module paths); ``ANY`` marks a model that needs no engine of deepface's.
ANY = "any"
_ENGINE_FOLDERS = {TENSORFLOW: "tf", PYTORCH: "pytorch", ONNX: "onnx"}


def _per_engine(package: str, module_class: str) -> Dict[str, str]:
    module, class_name = module_class.split(".")
    return {engine: f"{package}.{folder}.{module}.{class_name}" for engine, folder in _ENGINE_FOLDERS.items()}


#: deepface's types of the table below: each model's class path per engine, per task.
ModelSources = Dict[str, str]


class AvailableModels(TypedDict):
    facial_recognition: Dict[str, ModelSources]
    spoofing: Dict[str, ModelSources]
    facial_attribute: Dict[str, ModelSources]
    face_detector: Dict[str, ModelSources]


AVAILABLE_MODELS: AvailableModels = {
    "facial_recognition": {
        "VGG-Face": _per_engine(_RECOGNITION, "VGGFace.VggFaceClient"),
        "OpenFace": _per_engine(_RECOGNITION, "OpenFace.OpenFaceClient"),
        "Facenet": _per_engine(_RECOGNITION, "Facenet.FaceNet128dClient"),
        "Facenet512": _per_engine(_RECOGNITION, "Facenet.FaceNet512dClient"),
        "DeepFace": _per_engine(_RECOGNITION, "FbDeepFace.DeepFaceClient"),
        "DeepID": _per_engine(_RECOGNITION, "DeepID.DeepIdClient"),
        "Dlib": {ANY: f"{_RECOGNITION}.dlib.Dlib.DlibClient"},
        "ArcFace": _per_engine(_RECOGNITION, "ArcFace.ArcFaceClient"),
        "SFace": {ANY: f"{_RECOGNITION}.onnx.SFace.SFaceClient"},
        "GhostFaceNet": _per_engine(_RECOGNITION, "GhostFaceNet.GhostFaceNetClient"),
        "Buffalo_L": {ANY: f"{_RECOGNITION}.onnx.Buffalo_L.Buffalo_L"},
    },
    "spoofing": {"Fasnet": _per_engine(_SPOOFING, "FasNet.Fasnet")},
    "facial_attribute": {
        "Emotion": _per_engine(_DEMOGRAPHY, "Emotion.EmotionClient"),
        "Age": _per_engine(_DEMOGRAPHY, "Age.ApparentAgeClient"),
        "Gender": _per_engine(_DEMOGRAPHY, "Gender.GenderClient"),
        "Race": _per_engine(_DEMOGRAPHY, "Race.RaceClient"),
    },
    # detectors bring their own engines (OpenCV, dlib, mediapipe, ultralytics, ...)
    "face_detector": {name: {ANY: spec.target.replace(":", ".")} for name, spec in FACE_DETECTORS.items()},
}


# deepface's classes of the YOLO sizes, built with no argument (Yolo.YoloDetectorClientV8n, ...)
AVAILABLE_MODELS["face_detector"].update(
    {name: {ANY: f"{_DETECTION}.Yolo.YoloDetectorClientV{name[5:]}"} for name in FACE_DETECTORS if name.startswith("yolo")}
)


def get_model_class(task: str, model_name: str) -> type:
    """The class of ``model_name`` for ``task`` on the process's engine (its module
    imported now, not before), as deepface's ``get_model_class``.

    Raises:
        UnimplementedError: an unknown task or model, or a model the engine lacks.
    """
    if task not in AVAILABLE_MODELS:
        raise UnimplementedError(f"unimplemented task - {task}")
    sources = AVAILABLE_MODELS[task].get(model_name)
    if not sources:
        raise UnimplementedError(f"Invalid model_name passed - {task}/{model_name}")
    engine = backend_utils.get_backend_engine()
    source = sources.get(engine) or sources.get(ANY)
    if not source:
        raise UnimplementedError(
            f"{task}/{model_name} is not implemented for the {engine} backend engine. It is available "
            f"for {[name for name in sources if name != ANY]}. You may switch the backend engine with "
            f"the {backend_utils.BACKEND_ENGINE_ENV_VAR} environment variable."
        )
    module_name, _, class_name = source.rpartition(".")
    return getattr(importlib.import_module(module_name), class_name)  # type: ignore[no-any-return]


_cache: Dict[Tuple[str, str, Hashable], Any] = {}
_build_locks: Dict[Tuple[str, str, Hashable], threading.Lock] = {}
_lock = threading.Lock()  # guards the two dictionaries, never held during a build


def build_model(task: str, model_name: str, **options: Any) -> Any:
    """Return the model ``model_name`` for ``task``, building it on first use.

    Args:
        task: ``"facial_recognition"``, ``"face_detector"``, ``"facial_attribute"`` or ``"spoofing"``.
        model_name: a name deepface accepts for that task, e.g. ``"VGG-Face"`` or ``"mtcnn"``.
        **options: keyword arguments for the model's constructor (for example
            ``min_confidence`` or ``device`` for YOLO). Each distinct set of options is a
            distinct cached model.
    """
    # detectors: their own table (it holds the fixed arguments, and tests register stand-ins there)
    models = FACE_DETECTORS if task == "face_detector" else AVAILABLE_MODELS.get(task)
    if models is None:
        raise UnimplementedError(f"unknown task {task!r}; known tasks: {sorted(AVAILABLE_MODELS)}")
    if model_name not in models:
        raise UnimplementedError(
            f"unknown {task} {model_name!r}; choose one of: {', '.join(sorted(models))}"
        )
    key = (task, model_name, _freeze(options))
    model = _cache.get(key)
    if model is not None:
        return model
    with _lock:
        build_lock = _build_locks.setdefault(key, threading.Lock())
    with build_lock:  # one build per model; other models' builds and cache hits go on
        model = _cache.get(key)
        if model is None:
            logger.debug("building %s %s with %s", task, model_name, options)
            model = _build(task, model_name, options)
            with _lock:
                _cache[key] = model
    return model


def _build(task: str, model_name: str, options: Dict[str, Any]) -> Any:
    if task == "face_detector":  # detectors take fixed arguments (YOLO's model name)
        return FACE_DETECTORS[model_name].build(**options)
    cls = get_model_class(task, model_name)
    if "precision" in options and "precision" not in inspect.signature(cls).parameters:
        raise ValueError(f"{model_name} runs at fp32 only (its engine has no other precision here)")
    return cls(**options)


def precision_options(precision: Optional[str]) -> Dict[str, Any]:
    """:func:`build_model`'s keywords for a trained network at ``precision`` (default
    ``DEEPFACE_PRECISION``, else fp32): none at fp32, so every fp32 caller shares one build."""
    resolved = openvino_utils.resolve_precision(precision)
    return {} if resolved == openvino_utils.FP32 else {"precision": resolved}


def clear_cache() -> None:
    """Forget every built model (tests use this after changing weight files)."""
    with _lock:
        _cache.clear()
        _build_locks.clear()


def forget(task: str, model_name: str) -> None:
    """Forget every cached build of one model (all its option sets)."""
    with _lock:
        for key in [key for key in _cache if key[:2] == (task, model_name)]:
            del _cache[key]
            _build_locks.pop(key, None)
    if task == "facial_attribute":
        # plans that run a trunk once for several attribute models hold those models
        from deepface.models.demography.shared_trunk import forget_plans

        forget_plans()


def _freeze(options: Dict[str, Any]) -> Hashable:
    return tuple(sorted((name, repr(value)) for name, value in options.items()))
