"""Facial-attribute throughput of this package against upstream deepface 0.0.103: ``analyze``
over a list of photos, and ``extract_faces`` with ``anti_spoofing=True``, same images and weights.

Each measurement runs in a fresh process (``scripts/bench_analyze_worker.py``): upstream
deepface from ``.oracle/`` (``make oracle``), this package from the checkout. No weights
can be downloaded here, so random-weight Keras models of deepface's own architectures
(the four attribute models and the two anti-spoofing networks) are written once into a
temporary weights folder that both packages read.

    python scripts/benchmark_analyze.py --detectors opencv mtcnn --actions emotion age gender race \\
        --batch-sizes 1 8 32 --photos 8 --repeats 3 --output docs/benchmarks-analyze.md
"""

import argparse
import glob
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from benchmark import REPO, SHARED_FACES, command_line, device_note, median_run  # beside this script
from benchmark_recognition import run_json_worker  # beside this script

from testkit.rescaled_weights import copy_trunk, rescale_random_weights

WORKER = REPO / "scripts" / "bench_analyze_worker.py"
# Upstream's own model code writes the random weights; the scripts run with the oracle's
# deepface on their path (the test suite runs them the same way).
ORACLE_WEIGHT_WRITER = REPO / "tests" / "oracle" / "write_random_weights.py"
ORACLE_FASNET_WRITER = REPO / "tests" / "oracle" / "write_random_fasnet.py"
UPSTREAM = "deepface-0.0.103"
OURS = "this package"
ACTIONS = ("emotion", "age", "gender", "race")
TASKS = ("analyze", "anti-spoofing")
#: analyze's action -> (deepface's model name, its weight file)
ATTRIBUTE_MODELS = {
    "emotion": ("Emotion", "facial_expression_model_weights.h5"),
    "age": ("Age", "age_model_weights.h5"),
    "gender": ("Gender", "gender_model_weights.h5"),
    "race": ("Race", "race_model_single_batch.h5"),
}
FASNET_FILES = ("2.7_80x80_MiniFASNetV2.h5", "4_0_0_80x80_MiniFASNetV1SE.h5")
SPOOFING = "anti-spoofing"

# Targets of issue 9 (item 7): speed-up over deepface per task and detector, and batch sizes.
SPEED_TARGETS = {("analyze", "opencv"): 1.3, ("analyze", "mtcnn"): 3.0}
SPOOFING_TARGET = 1.5
BATCH_SLOWDOWN_LIMIT = 0.05  # no batch size more than 5% slower than batch size 1

PREAMBLE = """# Attribute analysis benchmark: this package against deepface 0.0.103

How to reproduce: `make oracle`, then the command line of this run (below; `make
bench-analyze` runs the default one). Every row is a fresh process, working outside the
checkout, that makes a warm-up call on the first photo (which builds the detector and
the models) and then times one call over the whole list:

- `analyze`: `DeepFace.analyze(paths, actions={actions}, detector_backend=D,
  enforce_detection=False, silent=True)` (this package with `batch_size`: the faces of
  consecutive images pooled, each attribute model run once per pool; deepface 0.0.103
  has none: it analyses image by image, each model run once per face).
- `anti-spoofing`: `DeepFace.extract_faces(paths, detector_backend=D,
  enforce_detection=False, anti_spoofing=True)` (this package with `batch_size`: the
  two Fasnet networks run once per pool of faces; deepface runs them once per face).

Notes:

- photos: the first {photos} of `../shared/faces` by name (mixed sizes, not downscaled).
- Weights: random-weight Keras models of deepface's own architectures (written by
  deepface 0.0.103's model code; the attribute models' kernels rescaled so that they
  answer decisively, as the test suite does), read by both packages. Speed does not
  depend on the weights' values, nor do the faces found (opencv and mtcnn use their real
  models).
- faces: faces in the answers (an image without a detected face counts once, analysed
  whole, as both packages do with `enforce_detection=False`); "real": faces judged real.
  The two packages must agree: a differing count is flagged (`differs`).
- Time split: shares of the timed call spent in the detector (this package's
  `detect_faces_batch`, deepface's `detect_faces`), in each attribute model (this
  package's `predict_batch`, deepface's `predict`) and in the anti-spoofing model (this
  package's `analyze_batch`, deepface's `analyze`), timed by wrapping those methods in
  the worker; the rest is decoding, borders, alignment, cropping, resizing and the
  answers' dicts.
- Noise: a shared machine slows down unpredictably; ratios within 0.85x-1.15x mean
  "at par"; `--repeats N` takes the median of N runs per row.
- Peak MiB is the worker's peak resident memory, models included.
- {device_note}

![images per second against batch size, and where the time went]({plot_name})

"""


@dataclass
class Measurement:
    task: str
    detector: str
    package: str
    batch_size: Optional[int]
    images: int
    seconds: float
    faces_per_image: List[int]
    real: Optional[int]
    peak_mib: float
    parts: Dict[str, float] = field(default_factory=dict)
    flags: List[str] = field(default_factory=list)

    @property
    def images_per_second(self) -> float:
        return self.images / self.seconds

    @property
    def faces(self) -> int:
        return sum(self.faces_per_image)

    @property
    def rest(self) -> float:
        return max(0.0, self.seconds - sum(self.parts.values()))

    @property
    def label(self) -> str:
        return "deepface" if self.package == UPSTREAM else f"batch {self.batch_size}"


# ---------------------------------------------------------------- weights


def run_oracle_script(script: Path, args: Sequence[str], home: Path, oracle: Path) -> None:
    """``script`` with upstream deepface on the path, from ``home`` (outside the checkout)."""
    env = {**os.environ, "PYTHONPATH": str(oracle), "DEEPFACE_HOME": str(home), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, str(script), *args], cwd=home, env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{script.name} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")


def ensure_weights(home: Path, actions: Sequence[str], spoofing: bool, oracle: Path) -> None:
    """Random-weight files in ``home``'s weights folder for ``actions`` (and the two
    anti-spoofing networks), written where missing; files already there are kept as they are."""
    weights = home / ".deepface" / "weights"
    missing = [a for a in actions if not (weights / ATTRIBUTE_MODELS[a][1]).is_file()]
    spoofing_missing = spoofing and not all((weights / name).is_file() for name in FASNET_FILES)
    if not missing and not spoofing_missing:
        return
    if not (oracle / "deepface" / "DeepFace.py").is_file():
        raise SystemExit(f"upstream deepface is not installed in {oracle} (run: make oracle)")
    if missing:
        print(f"writing random weights: {', '.join(ATTRIBUTE_MODELS[a][0] for a in missing)}", flush=True)
        run_oracle_script(ORACLE_WEIGHT_WRITER, [ATTRIBUTE_MODELS[a][0] for a in missing], home, oracle)
        for action in missing:  # only the files written here: never someone's real weights
            rescale_random_weights(weights / ATTRIBUTE_MODELS[action][1])
    if spoofing_missing:
        print("writing random weights: Fasnet", flush=True)
        run_oracle_script(ORACLE_FASNET_WRITER, [], home, oracle)


def share_age_trunk(home: Path, actions: Sequence[str]) -> None:
    """Give the gender and race files the age file's layers but the last: identical trunks."""
    weights = home / ".deepface" / "weights"
    for action in ("gender", "race"):
        if action in actions and "age" in actions:
            copy_trunk(weights / ATTRIBUTE_MODELS["age"][1], weights / ATTRIBUTE_MODELS[action][1])
            print(f"{ATTRIBUTE_MODELS[action][0]} now holds Age's trunk", flush=True)


# ---------------------------------------------------------------- measuring


def run_worker(request: Dict, package: str, home: Path, scratch: Path, oracle: Path, device: str) -> Dict:
    """One fresh worker process; its JSON result."""
    label = f"{request['task']} {request['detector_backend']} batch={request['batch_size']}"
    return run_json_worker(WORKER, request, package, home, scratch, oracle, device, label)


def plan(args: argparse.Namespace) -> List[Tuple[str, str, str, Optional[int]]]:
    """(task, detector, package, batch size) of every row, upstream first."""
    rows = []
    for task in args.tasks:
        for detector in args.detectors:
            rows.append((task, detector, UPSTREAM, None))
            rows.extend((task, detector, OURS, b) for b in args.batch_sizes)
    return rows


def check_agreement(row: Measurement, upstream: Optional[Measurement]) -> None:
    """Flag ``row`` where it found other faces (or judged other faces real) than deepface."""
    if upstream is None or row is upstream:
        return
    if row.faces_per_image != upstream.faces_per_image:
        row.flags.append(f"faces differ from deepface's ({row.faces} vs {upstream.faces}; per image "
                         f"{row.faces_per_image} vs {upstream.faces_per_image})")
    if row.real != upstream.real:
        row.flags.append(f"faces judged real differ from deepface's ({row.real} vs {upstream.real})")


def measure(args: argparse.Namespace, photos: List[str], home: Path, scratch: Path) -> List[Measurement]:
    """Run every planned row (each the median of ``--repeats`` runs)."""
    rows: List[Measurement] = []
    upstream: Dict[Tuple[str, str], Measurement] = {}
    for task, detector, package, batch_size in plan(args):
        request = {"task": task, "paths": photos, "detector_backend": detector,
                   "actions": list(args.actions), "batch_size": batch_size}
        result = median_run(args.repeats, lambda: run_worker(
            request, package, home, scratch, Path(args.oracle), args.device))
        row = Measurement(task, detector, package, batch_size, result["images"], result["seconds"],
                          result["faces_per_image"], result["real"], result["peak_mib"], result["parts"])
        if package == UPSTREAM:
            upstream[(task, detector)] = row
        check_agreement(row, upstream.get((task, detector)))
        rows.append(row)
        print(f"{task:13s} {detector:7s} {package:17s} batch={batch_size or '-':>3} "
              f"{row.images_per_second:6.2f} img/s {row.seconds:7.2f} s  faces={row.faces}"
              + (f"  real={row.real}" if row.real is not None else "")
              + "".join(f"\n  WARNING: {flag}" for flag in row.flags), flush=True)
    return rows


# ---------------------------------------------------------------- the report


def part_names(rows: Sequence[Measurement]) -> List[str]:
    """The timed parts present, in a fixed order: detection, the actions, anti-spoofing."""
    present = {name for row in rows for name in row.parts}
    return [name for name in ("detection", *ACTIONS, SPOOFING) if name in present]


def baselines(rows: Sequence[Measurement]) -> Dict[Tuple[str, str], Measurement]:
    return {(r.task, r.detector): r for r in rows if r.package == UPSTREAM}


def render_table(rows: List[Measurement]) -> str:
    """The main table: throughput, ratio to deepface's row for the same case, time split."""
    base = baselines(rows)
    parts = part_names(rows)
    head = ["task", "detector", "package", "batch size", "images", "faces", "real", "seconds", "img/s",
            "vs deepface", *parts, "rest", "peak MiB"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        upstream = base.get((r.task, r.detector))
        ratio = f"{r.images_per_second / upstream.images_per_second:.2f}x" if upstream else "-"
        faces = f"{r.faces}" + (" (differs)" if any(f.startswith("faces differ") for f in r.flags) else "")
        real = "-" if r.real is None else f"{r.real}" + (" (differs)" if any("real" in f for f in r.flags) else "")
        shares = [f"{r.parts[p] / r.seconds:.0%}" if p in r.parts else "-" for p in parts]
        out.append("| " + " | ".join([
            r.task, r.detector, r.package, str(r.batch_size or "-"), str(r.images), faces, real,
            f"{r.seconds:.2f}", f"{r.images_per_second:.2f}", ratio, *shares,
            f"{r.rest / r.seconds:.0%}", f"{r.peak_mib:.0f}"]) + " |")
    return "\n".join(out)


def render_parts(rows: List[Measurement], batch_sizes: Sequence[int]) -> str:
    """Seconds per part, deepface's against this package's at each batch size (speed-up)."""
    base = baselines(rows)
    ours = {(r.task, r.detector, r.batch_size): r for r in rows if r.package == OURS}
    head = ["task", "detector", "part", "deepface s", *(f"batch {b} s" for b in batch_sizes)]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (task, detector), upstream in base.items():
        for part in [*part_names([upstream]), "rest", "total"]:
            def seconds(r: Measurement) -> float:
                return r.seconds if part == "total" else r.rest if part == "rest" else r.parts.get(part, 0.0)

            cells = []
            for b in batch_sizes:
                row = ours.get((task, detector, b))
                if row is None:
                    cells.append("-")
                    continue
                mine = seconds(row)
                cells.append(f"{mine:.2f} ({seconds(upstream) / mine:.2f}x)" if mine > 0 else f"{mine:.2f}")
            name = f"**{part}**" if part == "total" else part
            out.append(f"| {task} | {detector} | {name} | {seconds(upstream):.2f} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def target_lines(rows: List[Measurement], batch_sizes: Sequence[int]) -> Tuple[str, List[str]]:
    """The targets table, and one line per target missed."""
    base = baselines(rows)
    ours: Dict[Tuple[str, str], Dict[int, Measurement]] = {}
    for r in rows:
        if r.package == OURS:
            ours.setdefault((r.task, r.detector), {})[r.batch_size] = r
    out = ["| target | case | result | met |", "|---|---|---|---|"]
    missed: List[str] = []
    for (task, detector), upstream in base.items():
        by_batch = ours.get((task, detector), {})
        if not by_batch:
            continue
        target = SPOOFING_TARGET if task == SPOOFING else SPEED_TARGETS.get((task, detector))
        ratios = {b: r.images_per_second / upstream.images_per_second for b, r in sorted(by_batch.items())}
        if target is not None:
            met = [b for b, ratio in ratios.items() if ratio >= target]
            verdict = ("yes" if len(met) == len(ratios) else
                       f"at batch size {', '.join(map(str, met))}" if met else "**no**")
            result = ", ".join(f"{ratio:.2f}x at {b}" for b, ratio in ratios.items())
            out.append(f"| >= {target:g}x vs deepface | {task}, {detector} | {result} | {verdict} |")
            if len(met) < len(ratios):
                missed.append(f"{task}, {detector}: below {target:g}x at batch size "
                              + ", ".join(str(b) for b in ratios if b not in met))
        if 1 in by_batch and len(by_batch) > 1:
            one = by_batch[1].images_per_second
            slower = {b: 1 - r.images_per_second / one for b, r in by_batch.items() if b != 1}
            worst = max(slower, key=lambda b: slower[b])
            ok = all(s <= BATCH_SLOWDOWN_LIMIT for s in slower.values())
            result = ", ".join(f"{-s:+.0%} at {b}" for b, s in sorted(slower.items()))
            out.append(f"| no batch size > {BATCH_SLOWDOWN_LIMIT:.0%} slower than batch size 1 | "
                       f"{task}, {detector} | {result} | {'yes' if ok else '**no**'} |")
            if not ok:
                missed.append(f"{task}, {detector}: batch size {worst} is {slower[worst]:.0%} slower than 1")
    return "\n".join(out), missed


def plot(rows: List[Measurement], target: Path) -> None:
    """Left: images per second against batch size, one panel per task (deepface dashed).
    Right: seconds per part for every row."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(dict.fromkeys(r.task for r in rows))
    detectors = list(dict.fromkeys(r.detector for r in rows))
    height = max(5.0, 0.3 * len(rows) + 1.5)
    fig, axes = plt.subplots(1, len(tasks) + 1, figsize=(5.5 * len(tasks) + 7, height), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        for k, detector in enumerate(detectors):
            mine = sorted((r.batch_size, r.images_per_second) for r in rows
                          if r.task == task and r.detector == detector and r.package == OURS)
            if mine:
                ax.plot([b for b, _ in mine], [v for _, v in mine], "o-", color=f"C{k}", label=detector)
            for r in rows:
                if r.task == task and r.detector == detector and r.package == UPSTREAM:
                    ax.axhline(r.images_per_second, color=f"C{k}", linestyle="--", linewidth=1,
                               label=f"{detector}, deepface 0.0.103")
        sizes = sorted({r.batch_size for r in rows if r.package == OURS})
        ax.set_xscale("log", base=2)
        ax.set_xticks(sizes, [str(b) for b in sizes])
        ax.set_ylim(0, 1.15 * max(r.images_per_second for r in rows if r.task == task))
        ax.set_xlabel("batch size")
        ax.set_ylabel("images per second")
        ax.set_title(task)
        ax.legend(fontsize=7)

    ax = axes[0][-1]
    parts = [*part_names(rows), "rest"]
    labels = [f"{r.task}, {r.detector}, {r.label}" for r in rows]
    left = np.zeros(len(rows))
    for k, part in enumerate(parts):
        widths = np.array([r.rest if part == "rest" else r.parts.get(part, 0.0) for r in rows])
        ax.barh(range(len(rows)), widths, left=left, color=f"C{k}" if part != "rest" else "0.75", label=part)
        left += widths
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("seconds for the whole list")
    ax.set_title("where the time went")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(target, dpi=110)
    plt.close(fig)


def write_report(args: argparse.Namespace, rows: List[Measurement]) -> None:
    """The tables with their notes, and the plot beside them."""
    output = Path(args.output)
    header = (PREAMBLE.replace("{device_note}", device_note(args.device))
              .replace("{photos}", str(args.photos))
              .replace("{actions}", json.dumps(list(args.actions)).replace('"', "'"))
              .replace("{plot_name}", output.with_suffix(".png").name))
    header += (
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"by `{command_line('benchmark_analyze.py', sys.argv[1:])}`"
        + (f" (each row the median of {args.repeats} runs)" if args.repeats > 1 else "")
        + ".\n\n"
        + ("With `--shared-trunk`: the gender and race files hold the age file's trunk (all "
           "layers but the last), so this package runs it once per face for the three.\n\n"
           if args.shared_trunk else "")
    )
    table = render_table(rows)
    targets, missed = target_lines(rows, args.batch_sizes)
    flags = [f"- {r.task}, {r.detector}, {r.label}: {flag}" for r in rows for flag in r.flags]
    body = (
        f"{table}\n\n## Targets\n\n{targets}\n\n"
        + ("Missed: " + "; ".join(missed) + ".\n\n" if missed else "All targets met.\n\n")
        + "## Agreement\n\n"
        + ("\n".join(flags) + "\n\n" if flags else
           "Every row of this package found the same faces per image as deepface's"
           + (" and judged the same number real" if SPOOFING in args.tasks else "") + ".\n\n")
        + "## Seconds per part (speed-up against deepface's)\n\n"
        + render_parts(rows, args.batch_sizes) + "\n"
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(header + body)
    plot(rows, output.with_suffix(".png"))
    print("\n" + body)
    print(f"wrote {output} and {output.with_suffix('.png')}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--detectors", nargs="+", default=["opencv", "mtcnn"])
    parser.add_argument("--actions", nargs="+", choices=ACTIONS, default=list(ACTIONS),
                        help="analyze's actions (all in one call)")
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS))
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[1, 8, 32], help="this package only")
    parser.add_argument("--photos", type=int, default=8, help="photos from ../shared/faces")
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs per row; the tables show the median time (a shared machine is noisy)")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                        help="cpu hides GPUs from both packages; cuda lets both use the GPU")
    parser.add_argument("--oracle", default=str(REPO / ".oracle"))
    parser.add_argument("--home", default=None,
                        help="a DEEPFACE_HOME for the weights, kept (default: a temporary one); "
                             "missing random weights are written into it")
    parser.add_argument("--shared-trunk", action="store_true",
                        help="copy the age model's trunk into the gender and race files (both packages "
                             "read them): what this package gains where deepface's weight files share it")
    parser.add_argument("--output", default=str(REPO / "docs" / "benchmarks-analyze.md"),
                        help="markdown tables; a plot is written beside them (.png)")
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
    with tempfile.TemporaryDirectory(prefix="deepface-bench-analyze-") as tmp:
        home = Path(args.home) if args.home else Path(tmp)
        ensure_weights(home, args.actions if "analyze" in args.tasks else [], SPOOFING in args.tasks,
                       Path(args.oracle))
        if args.shared_trunk:
            share_age_trunk(home, args.actions)
        rows = measure(args, photos, home, Path(tmp))
    write_report(args, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
