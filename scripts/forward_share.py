"""How much of extract_faces' time is the YOLO network's forward pass, and how much is not.

    python scripts/forward_share.py --frames 32 --batch-sizes 1 16 --engines torch onnx

Uses a random-weight yolov8n of the real architecture (no weights can be downloaded
here) in a temporary weights folder, on 640x480 frames cut from the shared photos.
"""

import argparse
import glob
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, List

REPO = Path(__file__).resolve().parent.parent
SHARED_FACES = REPO.parent / "shared" / "faces"


class Stopwatch:
    """Accumulates the time spent inside the callables it wraps."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        return timed


class TimedSession:
    """An onnxruntime session whose ``run`` is timed."""

    def __init__(self, session: Any, watch: Stopwatch) -> None:
        self._session = session
        self.run = watch.wrap(session.run)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


def time_forward(detector: Any, watch: Stopwatch) -> None:
    """Route the detector's network calls through ``watch``."""
    if detector.onnx is not None:
        detector.onnx.session = TimedSession(detector.onnx.session, watch)
        return
    backend = detector.model.predictor.model  # ultralytics' AutoBackend, built by a first call
    backend.forward = watch.wrap(backend.forward)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=32)
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[1, 16])
    parser.add_argument("--engines", nargs="+", default=["torch", "onnx"])
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    sys.path.insert(0, str(REPO / "scripts"))
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DEEPFACE_HOME"] = tmp
        os.environ.setdefault("YOLO_CONFIG_DIR", tmp)
        weights = Path(tmp) / ".deepface" / "weights"
        weights.mkdir(parents=True)
        from benchmark import make_frames  # noqa: E402
        from testkit.random_models import write_random_yolo_face_model  # noqa: E402

        write_random_yolo_face_model(weights / "yolov8n-face.pt")
        frames: List[str] = make_frames(sorted(glob.glob(str(SHARED_FACES / "*.jpg"))), args.frames, Path(tmp))
        from deepface import DeepFace  # noqa: E402
        from deepface.modules import modeling  # noqa: E402

        for engine in args.engines:
            options = {"engine": engine}
            DeepFace.extract_faces(frames[0], detector_backend="yolov8n", enforce_detection=False,
                                   detector_options=options)  # builds the model and its predictor
            watch = Stopwatch()
            time_forward(modeling.build_model("face_detector", "yolov8n", **options), watch)
            for batch_size in args.batch_sizes:
                watch.seconds = 0.0
                started = time.perf_counter()
                DeepFace.extract_faces(frames, detector_backend="yolov8n", enforce_detection=False,
                                       batch_size=batch_size, detector_options=options)
                total = time.perf_counter() - started
                print(f"{engine:5s} batch {batch_size:3d}: {len(frames) / total:6.1f} img/s, "
                      f"forward {watch.seconds:5.2f} s of {total:5.2f} s, "
                      f"outside the forward pass {100 * (1 - watch.seconds / total):4.1f}%", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
