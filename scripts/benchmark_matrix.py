"""The benchmark matrix (issue 25, item 7): detectors x models x batch sizes x verbs, this
package on its default runtime against deepface 0.0.103 on each of its engines.

Every measurement is a fresh process running one of the existing workers
(``bench_worker.py`` for ``extract_faces``, ``bench_recognition_worker.py`` for
``represent``, ``bench_analyze_worker.py`` for ``analyze``): deepface 0.0.103 from
``.oracle/`` with ``DEEPFACE_BACKEND_ENGINE`` set to each engine asked for, this package
from the checkout with the engine unset (its default runtime; the runtime that ran each
network is read from its log). No weights can be downloaded here: random-weight ``.h5``
files of deepface's Keras architectures, ``.pth`` files of its torch architectures and
their ``.onnx`` exports (the oracle's own model code writes them), and random detector
models, all in one temporary weights folder both packages read. The ratio that counts
is against deepface's fastest engine for each cell.

    python scripts/benchmark_matrix.py --detectors opencv --models VGG-Face --batch-sizes 8 \\
        --verbs represent --engines tensorflow pytorch onnx --repeats 1 --photos 8

Writes its table into a marked section of ``--output`` (default docs/benchmarks.md; the
rest of the file is kept) and a plot beside it (``<output stem>-matrix.png``).
"""

import argparse
import glob
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from benchmark import REPO, SHARED_FACES, command_line, median_run, replace_section  # beside this script
from benchmark import write_random_weights as write_random_detectors
from benchmark_analyze import ATTRIBUTE_MODELS, run_oracle_script, share_age_trunk
from benchmark_recognition import (
    ENGINE_VARIABLE,
    ORACLE_ENGINE_WEIGHT_WRITER,
    ORACLE_WEIGHT_WRITER,
    OURS,
    UPSTREAM,
    WEIGHT_FILES,
    run_json_worker,
)

VERBS = ("extract_faces", "represent", "analyze")
DETECTORS = ("opencv", "mtcnn", "retinaface", "yolov8n")
MODELS = ("VGG-Face", "Facenet", "ArcFace")
ENGINES = ("tensorflow", "pytorch", "onnx")
BATCH_SIZES = (1, 8, 32)
ACTIONS = tuple(ATTRIBUTE_MODELS)  # analyze's four actions, all in one call
#: deepface's detectors run the same whatever DEEPFACE_BACKEND_ENGINE says, so
#: extract_faces has one deepface measurement, on its default engine.
ANY_ENGINE = "default"
NO_MODEL = "-"
WORKERS = {
    "extract_faces": REPO / "scripts" / "bench_worker.py",
    "represent": REPO / "scripts" / "bench_recognition_worker.py",
    "analyze": REPO / "scripts" / "bench_analyze_worker.py",
}
SECTION = "bench-matrix"
#: This package's environment: the engine unset (main() removes it), nothing added.
OURS_ENV: Dict[str, str] = {}
FAILED = float("nan")


@dataclass(frozen=True)
class Cell:
    """One cell of the matrix: a verb, a detector and (for ``represent``) a model."""

    verb: str
    detector: str
    model: str


@dataclass
class Run:
    """One measured row: deepface on an engine, or this package at a batch size."""

    cell: Cell
    package: str
    engine: Optional[str]
    batch_size: Optional[int]
    images: int
    seconds: float
    faces: Optional[int]
    runtimes: Dict[str, str] = field(default_factory=dict)
    error: Optional[str] = None

    @property
    def images_per_second(self) -> float:
        return self.images / self.seconds if self.error is None and self.seconds > 0 else FAILED


# ---------------------------------------------------------------- the plan


def cells(args: argparse.Namespace) -> List[Cell]:
    """Every cell asked for: the models axis applies to ``represent`` only."""
    out = []
    for verb in args.verbs:
        for detector in args.detectors:
            for model in (args.models if verb == "represent" else [NO_MODEL]):
                out.append(Cell(verb, detector, model))
    return out


def peer_engines(cell: Cell, engines: Sequence[str]) -> List[str]:
    """The engines deepface runs ``cell`` on: one default run for ``extract_faces``."""
    return [ANY_ENGINE] if cell.verb == "extract_faces" else list(engines)


def request_for(cell: Cell, paths: List[str], batch_size: Optional[int], scratch: Path) -> Dict:
    """The JSON request of ``cell``'s worker."""
    request: Dict = {"paths": paths, "detector_backend": cell.detector, "batch_size": batch_size}
    if cell.verb == "represent":
        request.update(task="represent", model_name=cell.model, query=paths[0], scratch=str(scratch))
    elif cell.verb == "analyze":
        request.update(task="analyze", actions=list(ACTIONS))
    return request


# ---------------------------------------------------------------- weights


def networks_needed(args: argparse.Namespace) -> List[str]:
    """deepface's names of the trained networks the verbs asked for load."""
    names = list(args.models) if "represent" in args.verbs else []
    if "analyze" in args.verbs:
        names += [ATTRIBUTE_MODELS[a][0] for a in ACTIONS]
    return names


def ensure_weights(home: Path, args: argparse.Namespace, oracle: Path) -> None:
    """Random-weight files in ``home`` for every network and detector asked for: ``.h5``
    (this package's default engine, and deepface's tensorflow), and ``.pth`` / ``.onnx``
    when deepface runs on pytorch or onnx; files already there are kept."""
    weights = home / ".deepface" / "weights"
    weights.mkdir(parents=True, exist_ok=True)
    write_random_detectors(home, [d for d in args.detectors if d in ("yolov8n", "retinaface")])
    names = networks_needed(args)
    if not names:
        return
    if not (oracle / "deepface" / "DeepFace.py").is_file():
        raise SystemExit(f"upstream deepface is not installed in {oracle} (run: make oracle)")
    h5_files = {**WEIGHT_FILES, **{m: f for m, f in ATTRIBUTE_MODELS.values()}}
    missing_h5 = [n for n in names if not (weights / h5_files[n]).is_file()]
    if missing_h5:
        print(f"writing random .h5 weights: {', '.join(missing_h5)}", flush=True)
        run_oracle_script(ORACLE_WEIGHT_WRITER, missing_h5, home, oracle)
    if "analyze" in args.verbs:
        share_age_trunk(home, ACTIONS)  # deepface's real gender and race files hold age's trunk
    if set(args.engines) & {"pytorch", "onnx"}:
        missing = [n for n in names if not (home / f".bench-engines-{n}").is_file()]
        if missing:
            print(f"writing random .pth and .onnx weights: {', '.join(missing)}", flush=True)
            run_oracle_script(ORACLE_ENGINE_WEIGHT_WRITER, missing, home, oracle)
            for name in missing:
                (home / f".bench-engines-{name}").touch()


# ---------------------------------------------------------------- measuring


Measure = Callable[[Dict, str, Dict[str, str]], Dict]


def measure_cell(cell: Cell, args: argparse.Namespace, paths: List[str], scratch: Path, measure: Measure) -> List[Run]:
    """deepface on each engine, then this package at each batch size (medians of
    ``--repeats``); a failed run is recorded with its error and the matrix goes on."""
    runs = []
    for engine in peer_engines(cell, args.engines):
        env = {} if engine == ANY_ENGINE else {ENGINE_VARIABLE: engine}
        runs.append(one_run(cell, UPSTREAM, engine, None, request_for(cell, paths, None, scratch), env, args, measure))
    for batch_size in args.batch_sizes:
        request = request_for(cell, paths, batch_size, scratch)
        runs.append(one_run(cell, OURS, None, batch_size, request, OURS_ENV, args, measure))
    return runs


def one_run(cell: Cell, package: str, engine: Optional[str], batch_size: Optional[int], request: Dict,
            env: Dict[str, str], args: argparse.Namespace, measure: Measure) -> Run:
    try:
        result = median_run(args.repeats, lambda: measure(request, package, env))
    except RuntimeError as error:
        print(f"  FAILED: {str(error)[-1500:]}", flush=True)
        return Run(cell, package, engine, batch_size, len(request["paths"]), FAILED, None,
                   error=str(error).splitlines()[0][:120])
    faces = result.get("faces", sum(result.get("faces_per_image", [])))
    run = Run(cell, package, engine, batch_size, result["images"], result["seconds"], faces,
              result.get("runtimes", {}))
    print(f"{cell.verb:13s} {cell.detector:10s} {cell.model:8s} {package:17s} "
          f"{engine or f'batch={batch_size}':12s} {run.images_per_second:6.2f} img/s  faces={faces}"
          + (f"  {format_runtimes(run.runtimes)}" if run.runtimes else ""), flush=True)
    return run


def worker_measure(home: Path, scratch: Path, oracle: Path) -> Measure:
    """Run the worker of a request's verb in a fresh process (CPU only)."""

    def measure(request: Dict, package: str, env: Dict[str, str]) -> Dict:
        verb = request.get("task") or "extract_faces"
        label = f"{verb} {request['detector_backend']} {request.get('model_name', '')} {env}"
        return run_json_worker(WORKERS[verb], request, package, home, scratch, oracle, "cpu", label, env)

    return measure


# ---------------------------------------------------------------- the report


def format_runtimes(runtimes: Dict[str, str]) -> str:
    """``{"VGG-Face": "openvino"}`` -> ``"VGG-Face: openvino"`` (networks by name)."""
    return ", ".join(f"{name}: {runtime}" for name, runtime in sorted(runtimes.items())) or "-"


def fastest_peer(runs: Sequence[Run]) -> Optional[Run]:
    """deepface's fastest engine among ``runs`` (failed runs left out)."""
    peers = [r for r in runs if r.package == UPSTREAM and r.error is None]
    return max(peers, key=lambda r: r.images_per_second) if peers else None


def ratio_text(ours: Run, best: Optional[Run]) -> str:
    """``"1.23x"``; ``"-"`` when either side failed."""
    if best is None or ours.error is not None:
        return "-"
    return f"{ours.images_per_second / best.images_per_second:.2f}x"


def rate_text(run: Optional[Run]) -> str:
    if run is None:
        return "-"
    return "failed" if run.error is not None else f"{run.images_per_second:.2f}"


def render_table(runs: Sequence[Run], engines: Sequence[str]) -> str:
    """One row per cell and batch size: this package's img/s and runtimes, deepface's
    img/s on each engine, its fastest engine and the ratio to it."""
    by_cell: Dict[Cell, List[Run]] = {}
    for run in runs:
        by_cell.setdefault(run.cell, []).append(run)
    engine_columns = [f"deepface {e} img/s" for e in engines]
    head = ["verb", "detector", "model", "batch", "img/s", "runs on", *engine_columns,
            "deepface fastest", "vs fastest", "faces (ours / deepface)"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for cell, cell_runs in by_cell.items():
        peers = {r.engine: r for r in cell_runs if r.package == UPSTREAM}
        best = fastest_peer(cell_runs)
        for ours in (r for r in cell_runs if r.package == OURS):
            if cell.verb == "extract_faces":
                engine_cells = [rate_text(peers.get(ANY_ENGINE))] + ["same"] * (len(engines) - 1)
            else:
                engine_cells = [rate_text(peers.get(e)) for e in engines]
            faces = f"{ours.faces if ours.faces is not None else '-'} / {best.faces if best else '-'}"
            out.append("| " + " | ".join([
                cell.verb, cell.detector, cell.model, str(ours.batch_size), rate_text(ours),
                format_runtimes(ours.runtimes), *engine_cells, best.engine if best else "-",
                ratio_text(ours, best), faces]) + " |")
    return "\n".join(out)


def plot(runs: Sequence[Run], target: Path) -> None:
    """Bars: this package's speed over deepface's fastest engine, per cell and batch size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels, ratios = [], []
    by_cell: Dict[Cell, List[Run]] = {}
    for run in runs:
        by_cell.setdefault(run.cell, []).append(run)
    for cell, cell_runs in by_cell.items():
        best = fastest_peer(cell_runs)
        for ours in (r for r in cell_runs if r.package == OURS and r.error is None):
            if best is not None:
                model = "" if cell.model == NO_MODEL else f" {cell.model}"
                labels.append(f"{cell.verb} {cell.detector}{model} b={ours.batch_size}")
                ratios.append(ours.images_per_second / best.images_per_second)
    fig, ax = plt.subplots(figsize=(7, 1.2 + 0.35 * max(1, len(labels))))
    ax.barh(range(len(labels)), ratios, color=["tab:green" if r >= 1 else "tab:red" for r in ratios])
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlabel("speed over deepface 0.0.103's fastest engine (x)")
    fig.tight_layout()
    fig.savefig(target, dpi=100)
    plt.close(fig)


def plot_path(output: Path) -> Path:
    return output.with_name(f"{output.stem}-matrix.png")


def section_text(args: argparse.Namespace, runs: Sequence[Run], loads: Tuple[str, str], argv: Sequence[str]) -> str:
    """The matrix's section of the report: how it ran, the machine's load, the table."""
    engines = ", ".join(args.engines)
    return "\n".join([
        "## The matrix: this package against deepface 0.0.103 on each of its engines",
        "",
        f"How to reproduce: `make bench-matrix` (the full matrix), or the command of this run: "
        f"`{command_line('benchmark_matrix.py', argv)}`.",
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} CPUs, CPU only"
        + (f", each row the median of {args.repeats} runs" if args.repeats > 1 else ", one run per row")
        + f"; photos: the first {args.photos} of `../shared/faces`.",
        f"Machine load (`uptime`) before: `{loads[0]}`; after: `{loads[1]}`"
        f" ({os.cpu_count()} CPUs: a load above that means other work shared them, so the figures are indicative).",
        *([f"This run is a subset of the full matrix: {subset_text(args)}.", ""] if subset_text(args) else [""]),
        f"- deepface 0.0.103 runs each cell with `DEEPFACE_BACKEND_ENGINE` set to each of {engines}; "
        "its detectors do not depend on that variable, so `extract_faces` has one deepface run "
        "(its default engine, shown in the first engine column). The ratio is against "
        "deepface's fastest engine for the cell.",
        "- This package runs with the engine unset (its default runtime); `runs on` is the "
        "runtime that its log says ran each network (`deepface.models.engines.load_runner`).",
        "- Weights are random (deepface's own architectures; `.h5`, `.pth` and `.onnx` files "
        "written by its model code): speed does not depend on their values. `analyze` runs "
        "all four actions; the gender and race files hold age's trunk, as deepface's real files do.",
        "- Each row is a fresh process after a warm-up call (see the workers in `scripts/`).",
        "",
        f"![speed over deepface's fastest engine]({plot_path(Path(args.output)).name})",
        "",
        render_table(runs, args.engines),
        "",
    ])


def subset_text(args: argparse.Namespace) -> str:
    """What this run left out of the full matrix (``""`` when nothing)."""
    axes = (("detectors", DETECTORS), ("models", MODELS), ("batch sizes", BATCH_SIZES), ("verbs", VERBS),
            ("engines", ENGINES))
    chosen = (args.detectors, args.models, args.batch_sizes, args.verbs, args.engines)
    parts = [f"{name} {', '.join(map(str, value))}" for (name, full), value in zip(axes, chosen)
             if list(value) != list(full)]
    if args.repeats < 3:
        parts.append(f"{args.repeats} run(s) per row instead of the median of 3")
    return "; ".join(parts)


def uptime() -> str:
    """The load averages, as ``uptime`` prints them."""
    one, five, fifteen = os.getloadavg()
    return f"load average: {one:.2f}, {five:.2f}, {fifteen:.2f}"


def write_report(args: argparse.Namespace, runs: Sequence[Run], loads: Tuple[str, str], argv: Sequence[str]) -> None:
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    before = output.read_text(encoding="utf-8") if output.is_file() else ""
    output.write_text(replace_section(before, SECTION, section_text(args, runs, loads, argv)), encoding="utf-8")
    plot(runs, plot_path(output))
    print("\n" + render_table(runs, args.engines))


# ---------------------------------------------------------------- the command line


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--detectors", nargs="+", choices=DETECTORS, default=list(DETECTORS))
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS), help="for represent")
    parser.add_argument("--batch-sizes", nargs="+", type=positive, default=list(BATCH_SIZES))
    parser.add_argument("--verbs", nargs="+", choices=VERBS, default=list(VERBS))
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES),
                        help="deepface's engines (DEEPFACE_BACKEND_ENGINE in its process)")
    parser.add_argument("--repeats", type=positive, default=3, help="runs per row; the median is kept")
    parser.add_argument("--photos", type=positive, default=8, help="photos from ../shared/faces")
    parser.add_argument("--oracle", default=str(REPO / ".oracle"))
    parser.add_argument("--home", default=None,
                        help="a DEEPFACE_HOME to keep the random weights in (default: a temporary one)")
    parser.add_argument("--output", default=str(REPO / "docs" / "benchmarks.md"),
                        help="markdown report whose matrix section is replaced; the plot goes beside it")
    args = parser.parse_args(argv)
    args.oracle = str(Path(args.oracle).resolve())  # workers run in other folders
    if args.home:
        args.home = str(Path(args.home).resolve())
    return args


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    photos = sorted(glob.glob(str(SHARED_FACES / "*.jpg")))[: args.photos]
    if not photos:
        print(f"no photos in {SHARED_FACES}: nothing to measure", file=sys.stderr)
        return 0
    if os.environ.pop(ENGINE_VARIABLE, None):
        print(f"{ENGINE_VARIABLE} ignored: this package runs on its default, deepface on each of --engines")
    loads = [uptime(), ""]
    runs: List[Run] = []
    with tempfile.TemporaryDirectory(prefix="deepface-bench-matrix-") as tmp:
        home = Path(args.home) if args.home else Path(tmp)
        ensure_weights(home, args, Path(args.oracle))
        measure = worker_measure(home, Path(tmp), Path(args.oracle))
        for cell in cells(args):
            runs.extend(measure_cell(cell, args, photos, Path(tmp), measure))
    loads[1] = uptime()
    write_report(args, runs, (loads[0], loads[1]), argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
