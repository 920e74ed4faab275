"""Time one package's extract_faces over a list of images, in its own process.

Whichever ``deepface`` comes first on ``sys.path`` is measured: this package, or upstream
deepface installed apart (``PYTHONPATH=.oracle``). Prints one JSON line.

    python scripts/bench_worker.py '{"paths": [...], "detector_backend": "mtcnn", "batch_size": 16}'
"""

import json
import logging
import resource
import sys
import time

import torch  # noqa: F401  (torch and torchvision before TensorFlow, or the process crashes)
import torchvision  # noqa: F401
from deepface import DeepFace


#: This package's loggers that name the runtime running each network (no effect upstream).
RUNTIME_LOGGERS = ("deepface.models.engines", "deepface.models.demography.shared_trunk")


def log_runtimes() -> None:
    """Send this package's lines naming each network's runtime to stderr, for the parent
    (``benchmark_recognition.runtimes_logged`` reads them)."""
    handler = logging.StreamHandler(sys.stderr)
    for name in RUNTIME_LOGGERS:
        runtime_logger = logging.getLogger(name)
        runtime_logger.addHandler(handler)
        runtime_logger.setLevel(logging.INFO)


def main() -> None:
    log_runtimes()
    request = json.loads(sys.argv[1])
    paths = request["paths"]
    backend = request["detector_backend"]
    options = {"detector_backend": backend, "enforce_detection": False}
    if request.get("batch_size") is not None:  # upstream deepface has neither keyword
        options["batch_size"] = request["batch_size"]
    if request.get("detector_options"):
        options["detector_options"] = request["detector_options"]
    if request.get("detection_border") is not None:
        options["detection_border"] = request["detection_border"]

    DeepFace.extract_faces(paths[0], **options)  # warm-up
    started = time.perf_counter()
    results = DeepFace.extract_faces(paths, **options)
    seconds = time.perf_counter() - started

    faces = sum(1 for per_image in results for face in per_image if face["confidence"] > 0)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("BENCH-JSON " + json.dumps(
        {"seconds": seconds, "images": len(paths), "faces": faces, "peak_mib": peak_mib,
         "module": DeepFace.__file__}
    ))


if __name__ == "__main__":
    main()
