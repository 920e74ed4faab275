"""Time one package's ``analyze``, or ``extract_faces`` with anti-spoofing, in its own process.

Whichever ``deepface`` comes first on ``sys.path`` is measured: this package, or upstream
deepface installed apart (``PYTHONPATH=.oracle``). A warm-up call on the first image
builds the detector and the models (and traces this package's graphs); then the methods
of the cached detector, attribute models and anti-spoofing model are wrapped with timers,
and one call over the whole list is timed, so the time splits into detection, each model
and the rest. Prints one JSON line.

    python scripts/bench_analyze_worker.py '{"task": "analyze", "paths": [...],
        "detector_backend": "opencv", "actions": ["age"], "batch_size": 8}'
"""

import json
import resource
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Tuple

import torch  # noqa: F401  (torch and torchvision before TensorFlow, or the process crashes)
import torchvision  # noqa: F401
from bench_worker import log_runtimes  # beside this script
from deepface import DeepFace
from deepface.modules import modeling

# Methods timed, where the object has them. This package's pipeline calls the batch
# methods (``detect_faces_batch``, ``predict_batch``, ``analyze_batch``); upstream
# deepface calls the single ones (``detect_faces``, ``predict``, ``analyze``). Nested
# calls (a batch method looping over the single one, or the reverse) count once.
DETECTOR_METHODS = ("detect_faces_batch", "detect_faces")
ATTRIBUTE_METHODS = ("predict_batch", "predict")
SPOOFING_METHODS = ("analyze_batch", "analyze")
#: analyze's action -> the attribute model's name (the same in both packages)
ACTION_MODELS = {"emotion": "Emotion", "age": "Age", "gender": "Gender", "race": "Race"}


class Stopwatch:
    """Time spent in the outermost calls of the methods it wraps."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._local = threading.local()

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            if getattr(self._local, "inside", False):
                return function(*args, **kwargs)
            self._local.inside = True
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self._local.inside = False

        return timed


def time_methods(obj: Any, names: Tuple[str, ...], watch: Stopwatch) -> None:
    """Route ``obj``'s methods ``names`` (those it has) through ``watch``, on the instance."""
    for name in names:
        if hasattr(obj, name):
            setattr(obj, name, watch.wrap(getattr(obj, name)))


def install_timers(request: Dict[str, Any]) -> Dict[str, Stopwatch]:
    """Timers on the cached models the warm-up built, by part: ``detection``, each
    action, ``anti-spoofing``."""
    watches = {"detection": Stopwatch()}
    time_methods(modeling.build_model(task="face_detector", model_name=request["detector_backend"]),
                 DETECTOR_METHODS, watches["detection"])
    if request["task"] == "analyze":
        for action in request["actions"]:
            watches[action] = Stopwatch()
            model = modeling.build_model(task="facial_attribute", model_name=ACTION_MODELS[action])
            time_methods(model, ATTRIBUTE_METHODS, watches[action])
    else:
        watches["anti-spoofing"] = Stopwatch()
        time_methods(modeling.build_model(task="spoofing", model_name="Fasnet"),
                     SPOOFING_METHODS, watches["anti-spoofing"])
    return watches


def call(request: Dict[str, Any], images: Any) -> List[List[Dict[str, Any]]]:
    """The measured call on ``images`` (one path or the list), as a list per image."""
    options: Dict[str, Any] = {"detector_backend": request["detector_backend"], "enforce_detection": False}
    if request.get("batch_size") is not None:  # upstream deepface has no such keyword
        options["batch_size"] = request["batch_size"]
    if request["task"] == "analyze":
        answer = DeepFace.analyze(images, actions=request["actions"], silent=True, **options)
    else:
        answer = DeepFace.extract_faces(images, anti_spoofing=True, **options)
    return answer if isinstance(images, list) else [answer]


def main() -> None:
    log_runtimes()
    request = json.loads(sys.argv[1])
    paths = request["paths"]
    call(request, paths[0])  # warm-up: builds the detector and the models
    watches = install_timers(request)

    started = time.perf_counter()
    answers = call(request, paths)
    seconds = time.perf_counter() - started

    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    real = sum(bool(face.get("is_real")) for faces in answers for face in faces)
    print("BENCH-JSON " + json.dumps({
        "seconds": seconds, "images": len(paths), "faces_per_image": [len(faces) for faces in answers],
        "real": real if request["task"] == "anti-spoofing" else None, "peak_mib": peak_mib,
        "parts": {name: watch.seconds for name, watch in watches.items()},
        "module": DeepFace.__file__,
    }))


if __name__ == "__main__":
    main()
