"""Recognition throughput of this package against upstream deepface 0.0.103: ``represent``
over a list of photos and ``find``'s first indexing of a folder, same images and weights.

Each measurement runs in a fresh process (``scripts/bench_recognition_worker.py``):
upstream deepface from ``.oracle/`` (``make oracle``), this package from the checkout.
No weights can be downloaded here, so random-weight Keras models of deepface's own
architectures are written once into a temporary weights folder that both packages read.

    python scripts/benchmark_recognition.py --models Facenet VGG-Face --detectors opencv mtcnn \\
        --batch-sizes 1 8 32 --photos 12 --tasks represent find
"""

import argparse
import glob
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from benchmark import REPO, SHARED_FACES, command_line, device_note, median_run  # beside this script

WORKER = REPO / "scripts" / "bench_recognition_worker.py"
# Upstream's own model code writes the random weights; the script runs with the oracle's
# deepface on its path (the test suite runs it the same way).
ORACLE_WEIGHT_WRITER = REPO / "tests" / "oracle" / "write_random_weights.py"
# ... and, for the pytorch and onnx engines, the .pth files and their .onnx exports
ORACLE_ENGINE_WEIGHT_WRITER = REPO / "tests" / "oracle" / "write_random_engine_weights.py"
ENGINE_VARIABLE = "DEEPFACE_BACKEND_ENGINE"
UPSTREAM = "deepface-0.0.103"
OURS = "this package"
# deepface's weight file per model (for reusing a weights folder given with --home)
WEIGHT_FILES = {
    "VGG-Face": "vgg_face_weights.h5",
    "Facenet": "facenet_weights.h5",
    "Facenet512": "facenet512_weights.h5",
    "OpenFace": "openface_weights.h5",
    "DeepID": "deepid_keras_weights.h5",
    "ArcFace": "arcface_weights.h5",
    "GhostFaceNet": "ghostfacenet_v1.h5",
}
PREAMBLE = """# Recognition benchmark: this package against deepface 0.0.103

How to reproduce: `make oracle`, then the command line of this run (below).
Every row is a fresh process, working outside the checkout, that makes a warm-up call
(`represent` on one image, which builds the detector and the model) and then times:

- `represent`: `DeepFace.represent(paths, model_name=M, detector_backend=D,
  enforce_detection=False)` over the whole list (this package with `batch_size`;
  deepface 0.0.103 has none: it detects image by image, then runs one forward pass
  over all the faces). The same call is made once before the timed one: deepface's
  Keras `predict_on_batch` traces a graph for each new number of faces (8 s for
  Facenet here), a one-off cost kept out of the figures, which are steady-state.
- `find`: `DeepFace.find(query, db_path=folder, model_name=M, detector_backend=D,
  enforce_detection=False, silent=True)` on a fresh copy of the photo folder, so the
  datastore is built from scratch (deepface 0.0.103 detects and embeds image by image,
  one forward pass per face). The time includes the query (the first photo, embedded
  once more) and the search; images/s counts the folder's photos.

Notes:

- photos: the first {photos} of `../shared/faces` by name (mixed sizes).
- Weights: random-weight Keras models of deepface's own architectures (written by
  deepface 0.0.103's model code), read by both packages. Speed does not depend on the
  weights' values, nor do the faces found (opencv and mtcnn use their real models).
- faces: face crops through the recognition model (an image without a detected face is
  embedded whole, as both packages do with `enforce_detection=False`; for `find` the
  query's faces are included). The two packages should agree.
- detection / forward / rest: shares of the timed call spent in the detector
  (this package's `detect_faces_batch`, deepface's `detect_faces`) and in the model
  (this package's `embed_batch`, deepface's `forward`), timed by wrapping those methods
  in the worker; the rest is decoding, borders, alignment, resizing, normalisation,
  hashing and datastore I/O (for `find`) and the results.
- Noise: a shared machine slows down unpredictably; ratios within 0.85x-1.15x mean
  "at par"; `--repeats N` takes the median of N runs per row.
- Peak MiB is the worker's peak resident memory, models included.
- {device_note}

![images per second against batch size]({plot_name})

"""


@dataclass
class Measurement:
    task: str
    model: str
    detector: str
    package: str
    batch_size: Optional[int]
    images: int
    seconds: float
    faces: int
    peak_mib: float
    detect_seconds: float
    forward_seconds: float

    @property
    def images_per_second(self) -> float:
        return self.images / self.seconds

    def shares(self) -> Tuple[float, float, float]:
        """Fractions of the time in detection, in the forward pass, and elsewhere."""
        detect, forward = self.detect_seconds / self.seconds, self.forward_seconds / self.seconds
        return detect, forward, max(0.0, 1.0 - detect - forward)


def ensure_weights(home: Path, models: List[str], oracle: Path) -> None:
    """Random-weight files for ``models`` in ``home``'s weights folder, unless all are there:
    ``.h5`` files, or for ``DEEPFACE_BACKEND_ENGINE=pytorch|onnx`` the ``.pth`` and ``.onnx``
    files of deepface's torch networks (a marker per model records them)."""
    weights = home / ".deepface" / "weights"
    engine = os.environ.get(ENGINE_VARIABLE, "").strip().lower()
    by_engine = engine in ("pytorch", "onnx")
    if by_engine:
        if all((home / f".bench-engines-{m}").is_file() for m in models):
            return
    elif all((weights / WEIGHT_FILES.get(m, "?")).is_file() for m in models):
        return
    if not (oracle / "deepface" / "DeepFace.py").is_file():
        raise SystemExit(f"upstream deepface is not installed in {oracle} (run: make oracle)")
    env = {**os.environ, "PYTHONPATH": str(oracle), "DEEPFACE_HOME": str(home), "TF_CPP_MIN_LOG_LEVEL": "3"}
    writer = ORACLE_ENGINE_WEIGHT_WRITER if by_engine else ORACLE_WEIGHT_WRITER
    done = subprocess.run(
        [sys.executable, str(writer), *models],
        cwd=home, env=env, capture_output=True, text=True, check=False,  # outside the checkout
    )
    if done.returncode != 0:
        raise RuntimeError(f"writing random weights failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    if by_engine:
        for model in models:
            (home / f".bench-engines-{model}").touch()


def worker_env(package: str, home: Path, oracle: Path, device: str) -> Dict[str, str]:
    """The worker's environment: which deepface it imports, the weights, the device."""
    env = {**os.environ, "DEEPFACE_HOME": str(home), "TF_CPP_MIN_LOG_LEVEL": "3",
           "PYTHONPATH": str(oracle if package == UPSTREAM else REPO)}
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""  # both packages, every engine, on the CPU
    return env


def run_worker(request: Dict, package: str, home: Path, scratch: Path, oracle: Path, device: str) -> Dict:
    """One fresh worker process; its JSON result."""
    label = f"{request['task']} {request['model_name']} {request['detector_backend']}"
    return run_json_worker(WORKER, request, package, home, scratch, oracle, device, label)


#: This package's log line naming who runs a network (``deepface.models.engines.load_runner``).
RUNS_ON = re.compile(r"(\S+) runs on (\S+) \(")
#: ... and of analyze's shared trunk (``deepface.models.demography.shared_trunk``).
TRUNK_RUNS_ON = re.compile(r"the shared trunk of .* runs on (\S+)")


def runtimes_logged(text: str) -> Dict[str, str]:
    """``{"VGG-Face": "openvino"}``: the runtime of each network a worker's log names
    (``"shared trunk"`` for analyze's trunk)."""
    runtimes = {name: runtime for name, runtime in RUNS_ON.findall(text)}
    runtimes.update({"shared trunk": runtime.lower() for runtime in TRUNK_RUNS_ON.findall(text)})
    return runtimes


def run_json_worker(
    worker: Path, request: Dict, package: str, home: Path, scratch: Path, oracle: Path, device: str, label: str,
    extra_env: Optional[Dict[str, str]] = None,
) -> Dict:
    """``worker`` in a fresh process for ``package`` (``extra_env`` added to its
    environment); the JSON it prints (``BENCH-JSON``), checked to come from the right
    deepface, with ``runtimes``: the runtime of each network its log names."""
    done = subprocess.run(
        [sys.executable, str(worker), json.dumps(request)],
        cwd=scratch, env={**worker_env(package, home, oracle, device), **(extra_env or {})},
        capture_output=True, text=True, check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH-JSON ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{package} {label} failed:\n{done.stderr[-3000:]}")
    result = json.loads(lines[-1][len("BENCH-JSON "):])
    result["runtimes"] = runtimes_logged(done.stdout + "\n" + done.stderr)
    expected = str(oracle if package == UPSTREAM else REPO)
    if not result["module"].startswith(expected):
        raise RuntimeError(f"{package} ran the wrong deepface: {result['module']}")
    return result


def plan(args: argparse.Namespace) -> List[Tuple[str, str, str, str, Optional[int]]]:
    """(task, model, detector, package, batch size) of every row, upstream first."""
    rows = []
    for task in args.tasks:
        models = args.models if task == "represent" else [args.find_model]
        for model in models:
            for detector in args.detectors:
                rows.append((task, model, detector, UPSTREAM, None))
                rows.extend((task, model, detector, OURS, b) for b in args.batch_sizes)
    return rows


def measure(args: argparse.Namespace, photos: List[str], home: Path, scratch: Path) -> List[Measurement]:
    """Run every planned row (each the median of ``--repeats`` runs)."""
    rows = []
    for task, model, detector, package, batch_size in plan(args):
        request = {"task": task, "paths": photos, "model_name": model, "detector_backend": detector,
                   "batch_size": batch_size, "query": photos[0], "scratch": str(scratch)}
        result = median_run(args.repeats, lambda: run_worker(
            request, package, home, scratch, Path(args.oracle), args.device))
        row = Measurement(task, model, detector, package, batch_size, result["images"], result["seconds"],
                          result["faces"], result["peak_mib"], result["detect_seconds"],
                          result["forward_seconds"])
        rows.append(row)
        print(f"{task:9s} {model:9s} {detector:7s} {package:17s} batch={batch_size or '-':>3} "
              f"{row.images_per_second:6.2f} img/s  faces={row.faces}", flush=True)
    return rows


def render_table(rows: List[Measurement]) -> str:
    """The markdown table, with each row's ratio to deepface's row for the same case."""
    baseline = {(r.task, r.model, r.detector): r.images_per_second for r in rows if r.package == UPSTREAM}
    out = ["| task | model | detector | package | batch size | images | faces | img/s | vs deepface "
           "| detection | forward | rest | peak MiB |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        base = baseline.get((r.task, r.model, r.detector))
        ratio = f"{r.images_per_second / base:.2f}x" if base else "-"
        detect, forward, rest = r.shares()
        out.append(
            f"| {r.task} | {r.model} | {r.detector} | {r.package} | {r.batch_size or '-'} | {r.images} | "
            f"{r.faces} | {r.images_per_second:.2f} | {ratio} | {detect:.0%} | {forward:.0%} | {rest:.0%} | "
            f"{r.peak_mib:.0f} |"
        )
    return "\n".join(out)


def write_report(args: argparse.Namespace, rows: List[Measurement]) -> None:
    """The table with its notes, and the plot beside it."""
    output = Path(args.output)
    header = (PREAMBLE.replace("{device_note}", device_note(args.device))
              .replace("{photos}", str(args.photos))
              .replace("{plot_name}", output.with_suffix(".png").name))
    header += (
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"both packages on the {os.environ.get(ENGINE_VARIABLE) or 'default'} engine, "
        f"by `{command_line('benchmark_recognition.py', sys.argv[1:])}`"
        + (f" (each row the median of {args.repeats} runs)" if args.repeats > 1 else "")
        + ".\n\n"
    )
    table = render_table(rows)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(header + table + "\n")
    print("\n" + table)
    from plot_benchmarks import plot, read_table  # noqa: E402  (beside this script)

    # one panel per task and model; plot_benchmarks draws one per "dataset"
    panels = [{**row, "dataset": f"{row['task']}, {row['model']}"} for row in read_table(output)]
    plot(panels, output.with_suffix(".png"))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["Facenet", "VGG-Face"], help="for represent")
    parser.add_argument("--find-model", default="VGG-Face", help="the model find indexes with")
    parser.add_argument("--detectors", nargs="+", default=["opencv", "mtcnn"])
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[1, 8, 32])
    parser.add_argument("--photos", type=int, default=12, help="photos from ../shared/faces")
    parser.add_argument("--tasks", nargs="+", choices=["represent", "find"], default=["represent", "find"])
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs per row; the table shows the median time (this machine is noisy)")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                        help="cpu hides GPUs from both packages; cuda lets both use the GPU")
    parser.add_argument("--oracle", default=str(REPO / ".oracle"))
    parser.add_argument("--home", default=None,
                        help="a DEEPFACE_HOME already holding the weights (default: a temporary one)")
    parser.add_argument("--output", default=str(REPO / "docs" / "benchmarks-recognition.md"),
                        help="markdown table; a plot is written beside it (.png)")
    args = parser.parse_args()
    args.oracle = str(Path(args.oracle).resolve())  # workers run in other folders
    if args.home:
        args.home = str(Path(args.home).resolve())
    return args


def main() -> int:
    args = parse_args()
    photos = sorted(glob.glob(str(SHARED_FACES / "*.jpg")))[: args.photos]
    if not photos:
        print(f"no photos in {SHARED_FACES}", file=sys.stderr)
        return 2
    models = sorted(set(args.models if "represent" in args.tasks else [])
                    | ({args.find_model} if "find" in args.tasks else set()))
    with tempfile.TemporaryDirectory(prefix="deepface-bench-rec-") as tmp:
        home = Path(args.home) if args.home else Path(tmp)
        ensure_weights(home, models, Path(args.oracle))
        rows = measure(args, photos, home, Path(tmp))
    write_report(args, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
