"""Model registry: each model is built once per process, thread-safely, and reused.

Thread safety of the models themselves: each one either is safe to share (TensorFlow
graphs, onnxruntime sessions, torch modules in inference) or serialises its stateful
calls with its own lock (OpenCV cascades and DNN nets, ultralytics' predictor, dlib,
mediapipe). ``tests/test_threads.py`` checks every detector from many threads.
"""

import importlib
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, Hashable, Tuple

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

FACIAL_RECOGNITION: Dict[str, ModelSpec] = {
    "VGG-Face": ModelSpec(f"{_RECOGNITION}.VGGFace:VggFaceClient"),
    "Facenet": ModelSpec(f"{_RECOGNITION}.Facenet:FaceNetClient", {"dimension": 128}),
    "Facenet512": ModelSpec(f"{_RECOGNITION}.Facenet:FaceNetClient", {"dimension": 512}),
    "OpenFace": ModelSpec(f"{_RECOGNITION}.OpenFace:OpenFaceClient"),
    "DeepFace": ModelSpec(f"{_RECOGNITION}.FbDeepFace:DeepFaceClient"),
    "DeepID": ModelSpec(f"{_RECOGNITION}.DeepID:DeepIdClient"),
    "ArcFace": ModelSpec(f"{_RECOGNITION}.ArcFace:ArcFaceClient"),
    "Dlib": ModelSpec(f"{_RECOGNITION}.Dlib:DlibClient"),
    "SFace": ModelSpec(f"{_RECOGNITION}.SFace:SFaceClient"),
    "GhostFaceNet": ModelSpec(f"{_RECOGNITION}.GhostFaceNet:GhostFaceNetClient"),
    "Buffalo_L": ModelSpec(f"{_RECOGNITION}.Buffalo_L:Buffalo_L"),
}

FACIAL_ATTRIBUTES: Dict[str, ModelSpec] = {
    "Age": ModelSpec(f"{_DEMOGRAPHY}.Age:ApparentAgeClient"),
    "Gender": ModelSpec(f"{_DEMOGRAPHY}.Gender:GenderClient"),
    "Race": ModelSpec(f"{_DEMOGRAPHY}.Race:RaceClient"),
    "Emotion": ModelSpec(f"{_DEMOGRAPHY}.Emotion:EmotionClient"),
}

SPOOFING: Dict[str, ModelSpec] = {
    "Fasnet": ModelSpec(f"{_SPOOFING}.FasNet:Fasnet"),
}

MODELS: Dict[str, Dict[str, ModelSpec]] = {
    "face_detector": FACE_DETECTORS,
    "facial_recognition": FACIAL_RECOGNITION,
    "facial_attribute": FACIAL_ATTRIBUTES,
    "spoofing": SPOOFING,
}


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
    specs = MODELS.get(task)
    if specs is None:
        raise UnimplementedError(f"unknown task {task!r}; known tasks: {sorted(MODELS)}")
    spec = specs.get(model_name)
    if spec is None:
        raise UnimplementedError(
            f"unknown {task} {model_name!r}; choose one of: {', '.join(sorted(specs))}"
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
            model = spec.build(**options)
            with _lock:
                _cache[key] = model
    return model


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
