"""Time one package's ``represent`` or ``find`` (first indexing) in its own process.

Whichever ``deepface`` comes first on ``sys.path`` is measured: this package, or upstream
deepface installed apart (``PYTHONPATH=.oracle``). After a warm-up call that builds the
models, the detector's and the recognition model's methods are wrapped with timers, so
the time splits into detection, the forward pass and the rest. Prints one JSON line.

    python scripts/bench_recognition_worker.py '{"task": "represent", "paths": [...],
        "model_name": "Facenet", "detector_backend": "opencv", "batch_size": 8}'
"""

import json
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from typing import Any, Callable, Dict, List, Tuple

import torch  # noqa: F401  (torch and torchvision before TensorFlow, or the process crashes)
import torchvision  # noqa: F401
from bench_worker import log_runtimes  # beside this script
from deepface import DeepFace
from deepface.modules import modeling

# Methods timed, where the object has them. This package's pipeline calls
# ``detect_faces_batch`` and ``embed_batch``; upstream deepface calls ``detect_faces``
# and ``forward``. Nested calls (a batch method looping over the single one) count once.
DETECTOR_METHODS = ("detect_faces_batch", "detect_faces")
MODEL_METHODS = ("embed_batch", "forward")


class Stopwatch:
    """Time spent in the outermost calls of the methods it wraps, and the rows they got."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.rows = 0
        self._local = threading.local()

    def wrap(self, function: Callable[..., Any], count_rows: bool = False) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            if getattr(self._local, "inside", False):
                return function(*args, **kwargs)
            self._local.inside = True
            if count_rows and args:
                self.rows += _rows(args[0])
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self._local.inside = False

        return timed


def _rows(batch: Any) -> int:
    """Faces in a model input: ``(N, H, W, 3)`` gives N, one 3-D face gives 1."""
    shape = getattr(batch, "shape", ())
    return int(shape[0]) if len(shape) == 4 else 1


def time_methods(obj: Any, names: Tuple[str, ...], watch: Stopwatch, count_rows: bool = False) -> None:
    """Route ``obj``'s methods ``names`` (those it has) through ``watch``, on the instance."""
    for name in names:
        if hasattr(obj, name):
            setattr(obj, name, watch.wrap(getattr(obj, name), count_rows))


def install_timers(model_name: str, detector_backend: str) -> Tuple[Stopwatch, Stopwatch]:
    """Timers on the cached detector and recognition model (built by the warm-up)."""
    detect, forward = Stopwatch(), Stopwatch()
    detector = modeling.build_model(task="face_detector", model_name=detector_backend)
    model = modeling.build_model(task="facial_recognition", model_name=model_name)
    time_methods(detector, DETECTOR_METHODS, detect)
    time_methods(model, MODEL_METHODS, forward, count_rows=True)
    return detect, forward


def run_represent(paths: List[str], options: Dict[str, Any]) -> float:
    """Seconds for one ``represent`` over the whole list."""
    started = time.perf_counter()
    DeepFace.represent(paths, **options)
    return time.perf_counter() - started


def run_find(paths: List[str], query: str, scratch: str, options: Dict[str, Any]) -> float:
    """Seconds for one ``find`` on a fresh copy of ``paths`` (the datastore built from scratch)."""
    folder = tempfile.mkdtemp(prefix="find-db-", dir=scratch)
    try:
        for path in paths:
            shutil.copy(path, os.path.join(folder, os.path.basename(path)))
        started = time.perf_counter()
        DeepFace.find(query, db_path=folder, silent=True, **options)
        return time.perf_counter() - started
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    log_runtimes()
    request = json.loads(sys.argv[1])
    paths = request["paths"]
    options: Dict[str, Any] = {
        "model_name": request["model_name"],
        "detector_backend": request["detector_backend"],
        "enforce_detection": False,
    }
    if request.get("batch_size") is not None:  # upstream deepface has no such keyword
        options["batch_size"] = request["batch_size"]

    DeepFace.represent(paths[0], **options)  # warm-up: builds the detector and the model
    if request["task"] == "represent":
        # Steady state: deepface's predict_on_batch compiles a graph for each new number of
        # faces (8 s on Facenet here), a one-off cost this warm-up takes out of the timing.
        DeepFace.represent(paths, **options)
    detect, forward = install_timers(request["model_name"], request["detector_backend"])
    if request["task"] == "represent":
        seconds = run_represent(paths, options)
    else:
        seconds = run_find(paths, request["query"], request["scratch"], options)

    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("BENCH-JSON " + json.dumps({
        "seconds": seconds, "images": len(paths), "faces": forward.rows, "peak_mib": peak_mib,
        "detect_seconds": detect.seconds, "forward_seconds": forward.seconds,
        "module": DeepFace.__file__,
    }))


if __name__ == "__main__":
    main()
