"""Throughput of this package against upstream deepface 0.0.103, same images and weights.

Each measurement runs in a fresh process (``scripts/bench_worker.py``): upstream deepface
from ``.oracle/`` (``make oracle``), this package from the checkout. Models without
downloadable weights here (yolov8n, retinaface) use random-weight models of the real
architecture written once into a temporary weights folder that both packages read.

    python scripts/benchmark.py --detectors opencv mtcnn yolov8n yolov8n:torch yolov11n --batch-sizes 1 16

A detector written ``name:engine`` (``yolov8n:torch``) runs this package on that engine,
and ``name@border0`` with ``detection_border=0`` (no black frame: the opt-in that can
change answers); both are compared with deepface's plain ``name``.
"""

import argparse
import glob
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # testkit/ (helpers shared with the tests) is not installed; last, so
    sys.path.append(str(REPO))  # an installed deepface still comes first where a worker chose it
SHARED_FACES = REPO.parent / "shared" / "faces"
WORKER = REPO / "scripts" / "bench_worker.py"
FRAME_SIZE = (640, 480)
PREAMBLE = """# Benchmarks: this package against deepface 0.0.103

How to reproduce: `make bench` (`make oracle` first; the command line of this run is below).
Every row is a fresh process timing `DeepFace.extract_faces` over
the whole list after one warm-up image; deepface 0.0.103 runs the same images from `.oracle/`.

- photos: the first {photos} of `../shared/faces` by name (330 px to 2,500 px, mixed sizes);
  frames: {frames} frames of 640x480 cut from them.
- yolov8n, yolov11n and retinaface use random-weight models of the real architectures
  written once into a temporary weights folder that both packages read (no weights can be
  downloaded here). The random yolov8n finds no face at deepface's 0.25 threshold, yolov11n
  a few, and the random RetinaFace few, so those rows time detection, not cropping.
- A plain YOLO row (`yolov8n`) is this package's default engine, `auto`: onnxruntime on
  this CPU (the model exported to ONNX once, at the untimed warm-up, and cached);
  `yolov8n:torch` is `detector_options={"engine": "torch"}` (ultralytics, as deepface
  runs it). Both are compared with deepface's (torch) yolov8n.
- Noise: this 2-core machine is shared and slows down unpredictably. deepface's own
  yolov8n on the photos ran at 14.4, 8.4 and 8.7 img/s in three runs of this script on
  one day, and its yolov8n on the frames at 17.0, 14.6, 18.1, 18.3 and 14.7 img/s. So a
  single run's ratio is good to about +-20%, and ratios within 0.85x-1.15x mean "at par";
  `--repeats N` takes the median of N runs per row.
- Peak MiB is the worker's peak resident memory, most of it the engines' import.
- {device_note}

![images per second against batch size]({plot_name})

"""


@dataclass
class Measurement:
    package: str
    dataset: str
    detector: str
    batch_size: Optional[int]
    images: int
    seconds: float
    faces: int
    peak_mib: float

    @property
    def images_per_second(self) -> float:
        return self.images / self.seconds


def make_frames(photos: List[str], count: int, folder: Path) -> List[str]:
    """``count`` video-like 640x480 frames cut from the photos (centre crop, then resize)."""
    paths = []
    for k in range(count):
        img = cv2.imread(photos[k % len(photos)])
        h, w = img.shape[:2]
        target = FRAME_SIZE[0] / FRAME_SIZE[1]
        if w / h > target:
            crop_w = int(h * target)
            img = img[:, (w - crop_w) // 2 : (w - crop_w) // 2 + crop_w]
        else:
            crop_h = int(w / target)
            img = img[(h - crop_h) // 2 : (h - crop_h) // 2 + crop_h]
        path = folder / f"frame_{k:03d}.jpg"
        cv2.imwrite(str(path), cv2.resize(img, FRAME_SIZE, interpolation=cv2.INTER_AREA))
        paths.append(str(path))
    return paths


def write_random_weights(home: Path, detectors: List[str]) -> None:
    """Random-weight models of the real architectures for the detectors that need them."""
    sys.path.insert(0, str(REPO))
    from testkit import random_models  # noqa: E402  (shared with the tests)

    from testkit.random_yolo_models import RANDOM_YOLO, write_random_yolo_pose_model  # noqa: E402

    weights = home / ".deepface" / "weights"
    weights.mkdir(parents=True, exist_ok=True)
    names = {split_detector(d)[0] for d in detectors}
    if "yolov8n" in names:
        random_models.write_random_yolo_face_model(weights / "yolov8n-face.pt")
    for name in sorted(names & set(RANDOM_YOLO) - {"yolov8n"}):  # yolov11n, yolov12n
        write_random_yolo_pose_model(weights / f"{name}-face.pt", name)
    if "retinaface" in names:
        random_models.write_random_retinaface_weights(weights / "retinaface.h5")


#: Options whose value is a path: recorded relative to the checkout (see command_line).
PATH_OPTIONS = ("--oracle", "--output", "--home")


def portable_path(value: str, repo: Path = REPO) -> str:
    """``value`` as a doc should record it: relative to the checkout ``repo`` (or to its
    parent, as ``../shared/faces``); a path elsewhere keeps only its name."""
    path = Path(os.path.normpath(Path.cwd() / Path(value).expanduser()))
    for base, prefix in ((repo, ""), (repo.parent, "../")):
        if base == Path(base.anchor):
            continue  # never relative to the file system's root
        try:
            return prefix + path.relative_to(base).as_posix()
        except ValueError:
            continue
    return f"<outside the checkout>/{path.name}"


def command_line(script: str, argv: Sequence[str], path_options: Sequence[str] = PATH_OPTIONS,
                 repo: Path = REPO) -> str:
    """The command that ran ``scripts/<script>`` with ``argv``, for a doc: no absolute
    paths of the machine it ran on (path options relative to the checkout)."""

    def path_option(word: str) -> Optional[str]:
        matches = [o for o in path_options if word.startswith("--") and len(word) > 2 and o.startswith(word)]
        return matches[0] if len(matches) == 1 else None  # argparse accepts unique prefixes

    words: List[str] = []
    takes_path = False
    for word in argv:
        if takes_path:
            words.append(portable_path(word, repo))
            takes_path = False
            continue
        option, equals, value = word.partition("=")
        if equals and path_option(option):
            words.append(f"{option}={portable_path(value, repo)}")
        else:
            words.append(word)
            takes_path = path_option(word) is not None
    return shlex.join(["python", f"scripts/{script}", *words])


def split_detector(spec: str) -> Tuple[str, Dict[str, str]]:
    """``"yolov8n:onnx"`` -> (``"yolov8n"``, ``{"engine": "onnx"}``): this package's engines."""
    name, _, engine = spec.partition("@")[0].partition(":")
    return name, ({"engine": engine} if engine else {})


def detection_border(spec: str) -> Optional[float]:
    """``"opencv@border0"`` -> 0.0; None (deepface's border) without ``@border``."""
    _, _, extra = spec.partition("@")
    if not extra:
        return None
    if not extra.startswith("border"):
        raise ValueError(f"unknown detector suffix @{extra} (expected @border<fraction>)")
    return float(extra[len("border"):])


def section_markers(name: str) -> Tuple[str, str]:
    """The HTML comments around a section another script writes into a report."""
    return f"<!-- {name}: begin -->", f"<!-- {name}: end -->"


def replace_section(text: str, name: str, body: str) -> str:
    """``text`` with its section ``name`` replaced by ``body`` (appended when absent)."""
    begin, end = section_markers(name)
    block = f"{begin}\n{body.rstrip()}\n{end}\n"
    start, stop = text.find(begin), text.find(end)
    if start >= 0 and stop > start:
        return text[:start] + block + text[stop + len(end):].lstrip("\n")
    return (text.rstrip("\n") + "\n\n" if text.strip() else "") + block


def kept_sections(text: str, names: Sequence[str]) -> str:
    """The sections ``names`` of ``text`` (markers included), to carry into a rewrite."""
    kept = []
    for name in names:
        begin, end = section_markers(name)
        start, stop = text.find(begin), text.find(end)
        if start >= 0 and stop > start:
            kept.append(text[start:stop + len(end)] + "\n")
    return "\n".join(kept)


#: Sections of docs/benchmarks.md that other scripts write (kept when this one rewrites it).
OTHER_SECTIONS = ("bench-matrix", "gflops")


def run_worker(package: str, paths: List[str], detector: str, batch_size: Optional[int],
               home: Path, oracle: Path, device: str = "cpu") -> Dict:
    env = {**os.environ, "DEEPFACE_HOME": str(home), "YOLO_CONFIG_DIR": str(home / "yolo")}
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""  # both packages, every engine, on the CPU
    if package == "deepface-0.0.103":
        env["PYTHONPATH"] = str(oracle)
    else:
        env["PYTHONPATH"] = str(REPO)
    backend, options = split_detector(detector)
    border = detection_border(detector)
    if device == "cuda" and backend.startswith("yolo"):
        options = {**options, "device": "cuda"}
    if package == "deepface-0.0.103":
        options, border = {}, None  # deepface's YOLO picks the GPU itself
    request = {"paths": paths, "detector_backend": backend, "batch_size": batch_size,
               "detector_options": options, "detection_border": border}
    done = subprocess.run(
        [sys.executable, str(WORKER), json.dumps(request)],
        cwd=home, env=env, capture_output=True, text=True, check=False,
    )
    lines = [l for l in done.stdout.splitlines() if l.startswith("BENCH-JSON ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{package} {detector} failed:\n{done.stderr[-2000:]}")
    return json.loads(lines[-1][len("BENCH-JSON "):])


def median_run(repeats: int, run: Callable[[], Dict]) -> Dict:
    """The run with the median time among ``repeats`` runs, with the highest peak memory."""
    results = sorted((run() for _ in range(max(1, repeats))), key=lambda r: r["seconds"])
    median = dict(results[len(results) // 2])
    median["peak_mib"] = max(r["peak_mib"] for r in results)
    return median


def device_note(device: str) -> str:
    """Which accelerator this run used, by name."""
    if device == "cpu":
        return "CPU only (GPUs hidden from both packages). GPU figures: `--device cuda`."
    import torch

    name = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA device found"
    return f"GPU: {name} (`--device cuda`; YOLO gets `device='cuda'`, TensorFlow picks the GPU itself)."


def render_table(rows: List[Measurement]) -> str:
    baseline = {
        (r.dataset, r.detector): r.images_per_second for r in rows if r.package == "deepface-0.0.103"
    }
    out = ["| dataset | detector | package | batch size | images | faces | img/s | vs deepface | peak MiB |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        base = baseline.get((r.dataset, r.detector))
        ratio = f"{r.images_per_second / base:.2f}x" if base else "-"
        shown = split_detector(r.detector)[0] if r.package == "deepface-0.0.103" else r.detector
        out.append(
            f"| {r.dataset} | {shown} | {r.package} | {r.batch_size or '-'} | {r.images} | "
            f"{r.faces} | {r.images_per_second:.2f} | {ratio} | {r.peak_mib:.0f} |"
        )
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--detectors", nargs="+", default=["opencv", "mtcnn", "yolov8n", "retinaface"])
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[1, 4, 16, 64])
    parser.add_argument("--photos", type=int, default=24, help="photos from ../shared/faces")
    parser.add_argument("--frames", type=int, default=32, help="640x480 frames (0: skip)")
    parser.add_argument("--oracle", default=str(REPO / ".oracle"))
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs per row; the table shows the median time (this machine is noisy)")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                        help="cpu hides GPUs from both packages; cuda runs both on the GPU")
    parser.add_argument("--output", default=str(REPO / "docs" / "benchmarks-latest.md"),
                        help="markdown table; a plot is written beside it (.png)")
    args = parser.parse_args()
    args.oracle = str(Path(args.oracle).resolve())  # workers run in other folders

    photos = sorted(glob.glob(str(SHARED_FACES / "*.jpg")))[: args.photos]
    if not photos:
        print(f"no photos in {SHARED_FACES}", file=sys.stderr)
        return 2
    rows: List[Measurement] = []
    upstream_runs: Dict[Tuple[str, str], Dict] = {}
    with tempfile.TemporaryDirectory(prefix="deepface-bench-") as tmp:
        home = Path(tmp)
        write_random_weights(home, args.detectors)
        datasets = {"photos": photos}
        if args.frames:
            frames_dir = home / "frames"
            frames_dir.mkdir()
            datasets["frames"] = make_frames(photos, args.frames, frames_dir)
        for dataset, paths in datasets.items():
            for detector in args.detectors:
                runs = [("deepface-0.0.103", None)] + [("this package", b) for b in args.batch_sizes]
                for package, batch_size in runs:
                    upstream_key = (dataset, split_detector(detector)[0])
                    if package == "deepface-0.0.103" and upstream_key in upstream_runs:
                        result = upstream_runs[upstream_key]  # e.g. yolov8n for yolov8n:onnx
                    else:
                        result = median_run(args.repeats, lambda: run_worker(
                            package, paths, detector, batch_size, home, Path(args.oracle), args.device))
                    if package == "deepface-0.0.103":
                        upstream_runs[upstream_key] = result
                    row = Measurement(package, dataset, detector, batch_size, result["images"],
                                      result["seconds"], result["faces"], result["peak_mib"])
                    rows.append(row)
                    print(f"{dataset:7s} {detector:10s} {package:17s} batch={batch_size or '-':>3} "
                          f"{row.images_per_second:7.2f} img/s  faces={row.faces}", flush=True)

    preamble = (PREAMBLE.replace("{device_note}", device_note(args.device))
                .replace("{photos}", str(args.photos)).replace("{frames}", str(args.frames)))
    header = preamble.replace("{plot_name}", Path(args.output).with_suffix(".png").name) + (
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"by `{command_line('benchmark.py', sys.argv[1:])}`"
        + (f" (each row the median of {args.repeats} runs)" if args.repeats > 1 else "")
        + ".\n\n"
    )
    table = render_table(rows)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    previous = Path(args.output).read_text() if Path(args.output).is_file() else ""
    others = kept_sections(previous, OTHER_SECTIONS)
    Path(args.output).write_text(header + table + "\n" + ("\n" + others if others else ""))
    print("\n" + table)
    from plot_benchmarks import plot, read_table  # noqa: E402  (beside this script)

    plot(read_table(Path(args.output)), Path(args.output).with_suffix(".png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
