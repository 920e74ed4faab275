"""Each trained network on each runtime: its engine's own (TensorFlow for ``.h5``,
onnxruntime for ``.onnx``) against OpenVINO at fp32 and bf16, on the same files.

Prints and writes a table: ms per face at one batch size, OpenVINO's speed-up, its
largest deviation from the engine's output (relative to the output's scale), which
runtime ``DEEPFACE_RUNTIME=auto`` picks, and, for ``bf16``, what it costs: the largest
relative embedding drift and the verify decisions it flips on every pair of photos.

    python scripts/benchmark_runtimes.py --home /tmp/rw --write-weights --output docs/benchmarks-runtimes.md

The weights are random-weight files of deepface's own architectures, written by upstream
deepface (``make oracle``) with ``--write-weights``.
"""

import argparse
import itertools
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SHARED_FACES = REPO.parent / "shared" / "faces"
WRITERS = ("write_random_weights.py", "write_random_engine_weights.py")
NETWORK_NAMES = ("VGG-Face", "Facenet", "Facenet512", "ArcFace", "GhostFaceNet", "OpenFace", "DeepFace",
                 "DeepID", "Age", "Gender", "Race", "Emotion")


@dataclass
class Row:
    network: str
    engine: str
    engine_ms: float
    fp32_ms: float
    fp32_drift: float
    bf16_ms: Optional[float]
    bf16_drift: Optional[float]
    auto: str


def write_weights(home: Path, oracle: Path) -> None:
    """Random-weight .h5, .pth and .onnx files of every network, written by upstream deepface."""
    env = {**os.environ, "PYTHONPATH": str(oracle), "DEEPFACE_HOME": str(home), "TF_CPP_MIN_LOG_LEVEL": "3"}
    for writer in WRITERS:
        done = subprocess.run([sys.executable, str(REPO / "tests" / "oracle" / writer), *NETWORK_NAMES],
                              cwd=home, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"{writer} failed:\n{done.stderr[-3000:]}")


def networks() -> Dict[str, Tuple[object, Tuple[int, int, int]]]:
    from deepface.models.demography import Age, Emotion, Gender, Race
    from deepface.models.facial_recognition import (ArcFace, DeepID, Facenet, FbDeepFace, GhostFaceNet, OpenFace,
                                                    VGGFace)

    return {
        "VGG-Face": (VGGFace.NETWORK, (224, 224, 3)), "Facenet": (Facenet.NETWORKS[128], (160, 160, 3)),
        "Facenet512": (Facenet.NETWORKS[512], (160, 160, 3)), "ArcFace": (ArcFace.NETWORK, (112, 112, 3)),
        "GhostFaceNet": (GhostFaceNet.NETWORK, (112, 112, 3)), "OpenFace": (OpenFace.NETWORK, (96, 96, 3)),
        "DeepFace": (FbDeepFace.NETWORK, (152, 152, 3)), "DeepID": (DeepID.NETWORK, (55, 47, 3)),
        "Age": (Age.NETWORK, (224, 224, 3)), "Gender": (Gender.NETWORK, (224, 224, 3)),
        "Race": (Race.NETWORK, (224, 224, 3)), "Emotion": (Emotion.NETWORK, (48, 48, 1)),
    }


def median_seconds(call: Callable[[], object], repeats: int) -> float:
    call()  # warm-up: first calls allocate and tune
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def relative_drift(actual: np.ndarray, expected: np.ndarray) -> float:
    return float(np.max(np.abs(actual - expected)) / max(1.0, float(np.max(np.abs(expected)))))


def measure(name: str, engine: str, batch: int, repeats: int, bf16: bool) -> Row:
    from deepface.commons import openvino_utils
    from deepface.models import engines

    network, shape = networks()[name]
    faces = np.random.default_rng(0).random((batch, *shape), dtype=np.float32)
    own = engines._open_runner(network, engine, engine, None, openvino_utils.FP32)  # pylint: disable=protected-access
    expected = own(faces)
    fp32 = engines.OpenVinoRunner(network, engine, openvino_utils.FP32)
    row = Row(name, engine, median_seconds(lambda: own(faces), repeats) * 1000 / batch,
              median_seconds(lambda: fp32(faces), repeats) * 1000 / batch, relative_drift(fp32(faces), expected),
              None, None, engines.choose_runtime(network, engine, False, None, openvino_utils.FP32))
    if bf16:
        low = engines.OpenVinoRunner(network, engine, openvino_utils.BF16)
        row.bf16_ms = median_seconds(lambda: low(faces), repeats) * 1000 / batch
        row.bf16_drift = relative_drift(low(faces), expected)
    return row


def verify_flips(model_name: str, photos: List[str]) -> Tuple[int, int, float]:
    """Pairs of ``photos`` whose verify decision differs between fp32 and bf16, of all pairs,
    and the largest relative embedding drift."""
    from deepface import DeepFace
    from deepface.modules import verification

    def embeddings(precision: str) -> List[np.ndarray]:
        results = DeepFace.represent(photos, model_name=model_name, detector_backend="opencv",
                                     enforce_detection=False, precision=precision, max_faces=1)
        return [np.asarray(faces[0]["embedding"]) for faces in results]

    fp32, bf16 = embeddings("fp32"), embeddings("bf16")
    threshold = verification.find_threshold(model_name, "cosine")
    flips = sum(
        (verification.find_cosine_distance(fp32[i], fp32[j]) <= threshold)
        != (verification.find_cosine_distance(bf16[i], bf16[j]) <= threshold)
        for i, j in itertools.combinations(range(len(photos)), 2)
    )
    drift = max(relative_drift(low, high) for low, high in zip(bf16, fp32))
    return flips, len(photos) * (len(photos) - 1) // 2, drift


def render(rows: List[Row], batch: int) -> str:
    lines = [f"| network | file | engine ms/face | OpenVINO fp32 ms/face | speed-up | fp32 drift "
             f"| OpenVINO bf16 ms/face | bf16 speed-up | bf16 drift | `auto` runs it on |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        bf16 = (f"{row.bf16_ms:.1f} | {row.engine_ms / row.bf16_ms:.2f}x | {row.bf16_drift:.1e}"
                if row.bf16_ms else "- | - | -")
        lines.append(f"| {row.network} | {row.engine} | {row.engine_ms:.1f} | {row.fp32_ms:.1f} "
                     f"| {row.engine_ms / row.fp32_ms:.2f}x | {row.fp32_drift:.1e} | {bf16} | {row.auto} |")
    return "\n".join(lines) + f"\n\nBatch {batch}; drift: max |difference| over max(1, max |engine output|).\n"


def recorded_arguments(argv: List[str]) -> List[str]:
    """The command line as the report records it: the weights' folder, a local path, as HOME."""
    return ["HOME" if index > 0 and argv[index - 1] == "--home" else value for index, value in enumerate(argv)]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", required=True, help="a DEEPFACE_HOME holding (or to hold) the weights")
    parser.add_argument("--write-weights", action="store_true", help="write random weights first (needs the oracle)")
    parser.add_argument("--oracle", default=str(REPO / ".oracle"))
    parser.add_argument("--networks", nargs="+", default=list(NETWORK_NAMES), choices=NETWORK_NAMES)
    parser.add_argument("--engines", nargs="+", default=["tensorflow", "onnx"], choices=["tensorflow", "onnx"])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--verify-model", default="Facenet", help="the model whose bf16 verify flips are counted")
    parser.add_argument("--photos", type=int, default=24, help="photos of ../shared/faces for the flips")
    parser.add_argument("--output", default=None, help="a markdown file for the tables")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    home = Path(args.home).resolve()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DEEPFACE_HOME"] = str(home)
    if args.write_weights:
        write_weights(home, Path(args.oracle).resolve())
    sys.path.insert(0, str(REPO))
    import torch  # noqa: F401  # pylint: disable=unused-import,import-outside-toplevel  # before TensorFlow

    from deepface.commons import openvino_utils

    bf16 = bool(set(openvino_utils.BF16_CPU_FLAGS) & openvino_utils.cpu_flags())
    load = os.getloadavg()[0]
    rows = []
    for name, engine in itertools.product(args.networks, args.engines):
        rows.append(measure(name, engine, args.batch, args.repeats, bf16))
        print(render(rows[-1:], args.batch).splitlines()[2], flush=True)
    report = [render(rows, args.batch)]
    photos = sorted(str(path) for path in SHARED_FACES.glob("*.jpg"))[: args.photos]
    if bf16 and photos:
        flips, pairs, drift = verify_flips(args.verify_model, photos)
        report.append(f"bf16 against fp32, {args.verify_model} (opencv, largest face of each of {len(photos)} "
                      f"photos): {flips} of {pairs} verify decisions flipped; largest relative embedding drift "
                      f"{drift:.1e}.\n")
    report.append(f"Measured {time.strftime('%Y-%m-%d')} on {platform.processor() or platform.machine()}, "
                  f"{os.cpu_count()} CPUs, load average {load:.1f} at the start; random weights.\n"
                  f"Command: `python scripts/benchmark_runtimes.py {' '.join(recorded_arguments(sys.argv[1:]))}` "
                  "(HOME: a DEEPFACE_HOME holding the random weights)\n")
    text = "\n".join(report)
    print(text)
    if args.output:
        Path(args.output).write_text("# Runtimes: the engines' own and OpenVINO\n\n" + text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
