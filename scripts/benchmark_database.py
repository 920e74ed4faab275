"""Face database throughput of this package against upstream deepface 0.0.103: ``register``
of a folder of photos and a batched exact ``search`` of many queries, into PostgreSQL (a
throw-away cluster started here) and SQLite; and this package's REST API, one-image
``/represent`` requests against one batch request.

Each package runs in its own process (``scripts/bench_database_worker.py``): upstream
deepface from ``.oracle/`` (``make oracle``), this package from the checkout. No weights
can be downloaded here, so random-weight Facenet weights of deepface's own architecture
are written once into a temporary weights folder that both packages read.

    python scripts/benchmark_database.py --photos 12 --queries 50 --repeats 3 \\
        --output docs/benchmarks-database.md
"""

import argparse
import itertools
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from benchmark import PATH_OPTIONS, REPO, SHARED_FACES, command_line, device_note, portable_path  # beside this script
from benchmark_recognition import OURS, UPSTREAM, ensure_weights, run_json_worker  # beside this script
from doc_sections import kept_sections  # beside this script

from testkit.postgres_cluster import PostgresCluster, missing_requirement

WORKER = REPO / "scripts" / "bench_database_worker.py"
BACKENDS = ("postgres", "sqlite")
PACKAGES = (UPSTREAM, OURS)
#: Operations a database run times, in the order they run (``build_index`` and ``ann`` with --ann).
OPERATIONS = ("register", "search", "build_index", "ann")
# Targets of issue 10 (item 6): speed-up over deepface 0.0.103.
TARGETS = {"register": 2.0, "search": 2.0}
MAX_REQUEST_MB = 256  # the API's body limit here: a batch of large photos as data URIs
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png")

PREAMBLE = """# Face database benchmark: this package against deepface 0.0.103

How to reproduce: `make oracle`, then the command line of this run (below; `make
bench-database` runs the default one). Each package runs in one fresh process, working
outside the checkout, that first warms up untimed: `represent` of the photos builds the
detector and the model, the model runs once on as many faces as the queries hold (deepface's
Keras `predict_on_batch` traces a graph for each new number of faces, a one-off cost kept
out of the figures, which are steady-state), and one photo is registered and searched in
each database type. Then, in each of {repeats} rounds and each database: `register` into
an empty database, then `search` against it, each call timed:

- `register`: `DeepFace.register(paths, model_name="{model}", detector_backend="{detector}",
  enforce_detection=False, database_type=D, connection_details=...)` with the list of
  photos: deepface 0.0.103's own batch call (it detects image by image, embeds all faces
  in one forward pass and inserts 100 rows at a time); this package runs its batched
  pipeline and writes the rows in bulk (`COPY`, `executemany`).
- `search`: `DeepFace.search(queries, ..., k={k}, search_method="exact", return_type="dict")`
  with the list of {queries} queries (the photos over and over): both packages take a
  list, so each makes one call.{ann_note}
- PostgreSQL: a throw-away cluster (`initdb` in a temporary folder, served on a Unix
  socket, `fsync=off`), a fresh database per package and run; SQLite: a fresh file per
  package and run, in a temporary folder.
- API (this package only: deepface's API cannot be driven offline the same way), in
  this package's process after its database runs: the Flask application through its
  test client (no sockets, no WSGI server), `/represent` with `model_name`,
  `detector_backend` and `enforce_detection=false`, the first {api_images} photos sent as
  base64 data URIs in JSON: {api_images} one-image requests one after the other, against
  one request with the {api_images} images (`"img": [...]`). The batch answer must equal
  the one-image answers (largest embedding difference shown).

Notes:

- photos: the first {photos} of `{images}` by name, not downscaled (`../shared/faces`
  holds mixed sizes, 330 px to 2,500 px); detector `{detector}`.
- Weights: random-weight Facenet (deepface's architecture, written by deepface 0.0.103's
  model code), read by both packages. Speed does not depend on the weights' values. With
  random weights every face is about as close to every other: nearly all stored faces
  match every query, so `k` bounds each answer.
- Each figure is the median of the runs, with their range (min-max); the ratio compares
  medians. detection / forward / rest: shares of the median run spent in the detector
  (this package's `detect_faces_batch`, deepface's `detect_faces`), in the model (this
  package's `embed_batch`, deepface's `forward`), and elsewhere (decoding, alignment,
  resizing, the database, the answers).
- Noise: a shared machine slows down unpredictably; ratios within 0.85x-1.15x mean
  "at par". deepface's process runs first, then this package's.
- {device_note}

"""


# ---------------------------------------------------------------- figures


@dataclass
class Figure:
    """The runs of one measurement: seconds per run, with the median run's details."""

    seconds: List[float] = field(default_factory=list)
    details: List[Dict] = field(default_factory=list)

    def add(self, seconds: float, detail: Dict) -> None:
        self.seconds.append(seconds)
        self.details.append(detail)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def median_detail(self) -> Dict:
        """The details of the run whose time is the median (the lower middle for an even count)."""
        order = sorted(range(len(self.seconds)), key=lambda i: self.seconds[i])
        return self.details[order[(len(order) - 1) // 2]]

    def cell(self) -> str:
        """``1.23 (1.20-1.31)``: median seconds and the range."""
        if len(self.seconds) == 1:
            return f"{self.median:.2f}"
        return f"{self.median:.2f} ({min(self.seconds):.2f}-{max(self.seconds):.2f})"


@dataclass
class Results:
    """Every measurement, keyed by (operation, backend, package), and the API's."""

    database: Dict[Tuple[str, str, str], Figure] = field(default_factory=dict)
    api_single: Figure = field(default_factory=Figure)
    api_batch: Figure = field(default_factory=Figure)
    api_images: int = 0
    load: Dict[str, List[List[float]]] = field(default_factory=dict)  # label -> [at start, at end]

    def figure(self, operation: str, backend: str, package: str) -> Optional[Figure]:
        return self.database.get((operation, backend, package))


# ---------------------------------------------------------------- running


def query_list(photos: Sequence[str], count: int) -> List[str]:
    """``count`` queries: the photos over and over."""
    return list(itertools.islice(itertools.cycle(photos), count))


def package_slug(package: str) -> str:
    return "upstream" if package == UPSTREAM else "ours"


def new_database(backend: str, name: str, cluster: Optional[PostgresCluster], scratch: Path) -> Dict[str, str]:
    """An empty database ``name``: ``database_type`` and ``connection_details``."""
    if backend == "postgres":
        if cluster is None:
            raise ValueError("a postgres database needs the benchmark's cluster")
        return {"database_type": backend, "connection_details": cluster.create_database(name)}
    return {"database_type": backend, "connection_details": str(scratch / f"{name}.sqlite")}


def warm_up_databases(args: argparse.Namespace, package: str, cluster: Optional[PostgresCluster],
                      scratch: Path) -> List[Dict[str, str]]:
    """One database per backend for ``package``'s untimed warm-up round."""
    return [new_database(backend, f"bench_{package_slug(package)}_warm_up", cluster, scratch)
            for backend in args.backends]


def plan_runs(args: argparse.Namespace, package: str, cluster: Optional[PostgresCluster],
              scratch: Path) -> List[Dict]:
    """One empty database per backend and repeat for ``package``."""
    return [{"repeat": repeat, **new_database(backend, f"bench_{package_slug(package)}_{repeat}", cluster, scratch)}
            for repeat in range(args.repeats) for backend in args.backends]


def measure_database(args: argparse.Namespace, photos: List[str], home: Path, scratch: Path,
                     cluster: Optional[PostgresCluster], results: Results) -> None:
    """Both packages' database runs, each package in one worker."""
    for package in PACKAGES:
        request = {"photos": photos, "queries": query_list(photos, args.queries),
                   "model_name": args.model, "detector_backend": args.detector, "k": args.k,
                   "ann": args.ann, "warm_up": warm_up_databases(args, package, cluster, scratch),
                   "runs": plan_runs(args, package, cluster, scratch)}
        if package == OURS and args.api_images:
            request["api"] = {"photos": photos[: args.api_images], "repeats": args.repeats,
                              "max_request_mb": MAX_REQUEST_MB}
        print(f"{package}: {len(request['runs'])} database runs"
              + (", then the API" if "api" in request else "") + " ...", flush=True)
        answer = run_json_worker(WORKER, request, package, home, scratch, Path(args.oracle), args.device,
                                 "database")
        results.load[package] = answer["load"]
        if "api" in answer:
            record_api(answer["api"], results)
        for run in answer["runs"]:
            for operation in OPERATIONS:
                if operation in run:
                    key = (operation, run["database_type"], package)
                    results.database.setdefault(key, Figure()).add(run[operation]["seconds"], run[operation])
        for (operation, backend, name), figure in results.database.items():
            if name == package:
                print(f"  {operation:11s} {backend:8s} {figure.cell()} s", flush=True)


def record_api(answer: Dict, results: Results) -> None:
    """This package's API figures: one-image requests against one batch request."""
    results.load["the API part of this package"] = answer["load"]
    results.api_images = answer["images"]
    for run in answer["runs"]:
        results.api_single.add(run["single_seconds"], run)
        results.api_batch.add(run["batch_seconds"], run)
    print(f"  one-image requests {results.api_single.cell()} s, one batch request {results.api_batch.cell()} s")


class Cluster:
    """A started PostgreSQL cluster for the run, or None when PostgreSQL is not benchmarked."""

    def __init__(self, wanted: bool) -> None:
        self.cluster: Optional[PostgresCluster] = None
        if wanted:
            reason = missing_requirement()
            if reason is not None:
                raise SystemExit(f"PostgreSQL: {reason} (or leave it out: --backends sqlite)")
            self.cluster = PostgresCluster()

    def __enter__(self) -> Optional[PostgresCluster]:
        if self.cluster is not None:
            try:
                self.cluster.start()
            except BaseException:
                self.cluster.stop()  # a half-started server and its folder go too
                raise
        return self.cluster

    def __exit__(self, *exc: object) -> None:
        if self.cluster is not None:
            self.cluster.stop()


# ---------------------------------------------------------------- the report


def ratio(upstream: Optional[Figure], ours: Optional[Figure]) -> Optional[float]:
    """deepface's median time over this package's (above 1: this package is faster)."""
    if upstream is None or ours is None or ours.median <= 0:
        return None
    return upstream.median / ours.median


def shares(figure: Figure) -> str:
    """``detection / forward / rest`` of the median run."""
    detail = figure.median_detail
    total = max(detail["seconds"], 1e-9)
    detect, forward = detail["detect_seconds"] / total, detail["forward_seconds"] / total
    return f"{detect:.0%} / {forward:.0%} / {max(0.0, 1 - detect - forward):.0%}"


def count_cell(operation: str, figure: Figure) -> str:
    """What the median run produced: faces stored, or query faces and matches."""
    detail = figure.median_detail
    if operation == "register":
        return f"{detail['faces']} faces"
    if operation == "build_index":
        return "-"
    return f"{detail['faces']} faces, {detail['matches']} matches"


def items_of(operation: str, photos: int, queries: int) -> Tuple[int, str]:
    """How many items an operation handles, and their name (for the per-second column)."""
    if operation == "register":
        return photos, "photos/s"
    if operation in ("search", "ann"):
        return queries, "queries/s"
    return 0, ""


def render_database(results: Results, photos: int, queries: int) -> str:
    head = ["operation", "database", "package", "answer", "seconds: median (range)", "per second",
            "vs deepface", "detection / forward / rest"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for operation in OPERATIONS:
        for backend in BACKENDS:
            upstream = results.figure(operation, backend, UPSTREAM)
            for package in PACKAGES:
                figure = results.figure(operation, backend, package)
                if figure is None:
                    continue
                count, unit = items_of(operation, photos, queries)
                rate = f"{count / figure.median:.2f} {unit}" if count else "-"
                speedup = ratio(upstream, figure) if package == OURS else None
                out.append("| " + " | ".join([
                    operation, backend, package, count_cell(operation, figure), figure.cell(), rate,
                    f"{speedup:.2f}x" if speedup is not None else "-", shares(figure)]) + " |")
    return "\n".join(out)


def agreement_lines(results: Results) -> List[str]:
    """Where this package's median run stored or matched other counts than deepface's."""
    lines = []
    for (operation, backend, package), figure in sorted(results.database.items()):
        upstream = results.figure(operation, backend, UPSTREAM)
        if package != OURS or upstream is None:
            continue
        mine, theirs = figure.median_detail, upstream.median_detail
        for key in ("faces", "matches"):
            if mine.get(key) != theirs.get(key):
                lines.append(f"- {operation}, {backend}: {key} {mine.get(key)} here, {theirs.get(key)} in deepface")
    return lines


def render_targets(results: Results) -> Tuple[str, List[str]]:
    """The targets table, and a line per target missed."""
    out = ["| target | database | result | met |", "|---|---|---|---|"]
    missed = []
    for operation, target in TARGETS.items():
        for backend in BACKENDS:
            speedup = ratio(results.figure(operation, backend, UPSTREAM), results.figure(operation, backend, OURS))
            if speedup is None:
                continue
            met = speedup >= target
            name = "enrolment (`register`)" if operation == "register" else "batched exact `search`"
            verdict = "yes" if met else "**no**"
            out.append(f"| {name} >= {target:g}x deepface | {backend} | {speedup:.2f}x | {verdict} |")
            if not met:
                missed.append(f"{name}, {backend}: {speedup:.2f}x, below {target:g}x")
    return "\n".join(out), missed


def render_api(results: Results) -> str:
    if not results.api_single.seconds:
        return "Not measured."
    n = results.api_images
    single, batch = results.api_single, results.api_batch
    worst = max(run["largest_difference"] for run in batch.details)
    faces = batch.median_detail["faces"]
    return "\n".join([
        "| requests | images | seconds: median (range) | images/s | vs one-image requests |",
        "|---|---|---|---|---|",
        f"| {n} one-image `/represent` | {n} | {single.cell()} | {n / single.median:.2f} | 1.00x |",
        f"| 1 batch `/represent` (`\"img\": [...]`) | {n} | {batch.cell()} | {n / batch.median:.2f} | "
        f"{single.median / batch.median:.2f}x |",
        "",
        f"The batch answer held {faces} faces; its largest embedding difference from the "
        f"one-image answers: {worst:.1e}.",
    ])


def render_load(results: Results, start: Tuple[float, ...], end: Tuple[float, ...]) -> str:
    """Load averages at start and end, and around each worker."""
    def triple(load: Sequence[float]) -> str:
        return " / ".join(f"{value:.2f}" for value in load)

    lines = [f"- whole run: {triple(start)} at start, {triple(end)} at the end (1 / 5 / 15 minutes)"]
    lines += [f"- {name}'s process: {triple(before)} at start, {triple(after)} at the end"
              for name, (before, after) in results.load.items()]
    cpus = os.cpu_count() or 1
    highest = max([start[0], end[0]] + [value[0] for pair in results.load.values() for value in pair])
    if highest > cpus:
        lines.append(f"- The 1-minute load reached {highest:.1f} on {cpus} CPUs: other jobs shared the "
                     "machine, so absolute figures are low and ratios noisier than on an idle machine.")
    return "\n".join(lines)


def write_report(args: argparse.Namespace, argv: Sequence[str], results: Results, photos: int,
                 load_start: Tuple[float, ...], load_end: Tuple[float, ...]) -> str:
    ann_note = ("\n- `build_index`, then `search(..., search_method=\"ann\")` of the same queries\n"
                "  through the faiss HNSW index stored in the database." if args.ann else "")
    header = PREAMBLE
    for key, value in {"{repeats}": str(args.repeats), "{model}": args.model, "{detector}": args.detector,
                       "{k}": str(args.k), "{queries}": str(args.queries), "{ann_note}": ann_note,
                       "{api_images}": str(results.api_images or args.api_images), "{photos}": str(photos),
                       "{images}": portable_path(args.images),
                       "{device_note}": device_note(args.device)}.items():
        header = header.replace(key, value)
    header += (f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} CPUs, "
               f"by `{command_line('benchmark_database.py', argv, (*PATH_OPTIONS, '--images'))}`.\n\n")
    targets, missed = render_targets(results)
    agreement = agreement_lines(results)
    body = (
        "## Databases\n\n" + render_database(results, photos, args.queries) + "\n\n"
        + "## Targets\n\n" + targets + "\n\n"
        + ("Missed: " + "; ".join(missed) + ".\n\n" if missed else "All targets met.\n\n")
        + "## Agreement\n\n"
        + ("\n".join(agreement) + "\n\n" if agreement else
           "Both packages stored the same number of faces and found the same number of query faces "
           "and matches in every operation.\n\n")
        + "## REST API (this package)\n\n" + render_api(results) + "\n\n"
        + "## Machine load\n\n" + render_load(results, load_start, load_end) + "\n"
    )
    if args.output:
        output = Path(args.output)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(header + body + kept_sections(output), encoding="utf-8")  # other benchmarks' sections
        print(f"wrote {output}")
    return body


# ---------------------------------------------------------------- main


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", default=str(SHARED_FACES), help="the folder of photos")
    parser.add_argument("--photos", type=int, default=0, help="the first N photos by name (0: all of them)")
    parser.add_argument("--queries", type=int, default=50, help="search queries (the photos over and over)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement; medians are reported")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--model", default="Facenet", help="recognition model (random weights)")
    parser.add_argument("--detector", default="opencv")
    parser.add_argument("--k", type=int, default=5, help="matches kept per query face")
    parser.add_argument("--ann", action="store_true", help="also time build_index and an ann search")
    parser.add_argument("--api-images", type=int, default=8, help="images for the API figure (0: skip it)")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                        help="cpu hides GPUs from both packages; cuda lets both use the GPU")
    parser.add_argument("--oracle", default=str(REPO / ".oracle"))
    parser.add_argument("--home", default=None,
                        help="a DEEPFACE_HOME for the weights, kept (default: a temporary one)")
    parser.add_argument("--output", default=None, help="write the report here (markdown)")
    args = parser.parse_args(argv)
    for name in ("queries", "repeats", "k"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.photos < 0 or args.api_images < 0:
        parser.error("--photos and --api-images must not be negative")
    args.oracle = str(Path(args.oracle).resolve())  # workers run in other folders
    if args.home:
        args.home = str(Path(args.home).resolve())
    return args


def folder_photos(folder: Path, count: int) -> List[str]:
    """The first ``count`` photos of ``folder`` by name (all of them for 0)."""
    photos = sorted(str(p) for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
    return photos[:count] if count else photos


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    folder = Path(args.images)
    photos = folder_photos(folder, args.photos) if folder.is_dir() else []
    if not photos:
        print(f"no photos in {folder}", file=sys.stderr)
        return 2
    load_start = os.getloadavg()
    results = Results()
    with tempfile.TemporaryDirectory(prefix="deepface-bench-db-") as tmp:
        home = Path(args.home) if args.home else Path(tmp)
        scratch = Path(tmp) / "work"
        scratch.mkdir()
        ensure_weights(home, [args.model], Path(args.oracle))
        with Cluster("postgres" in args.backends) as cluster:
            measure_database(args, photos, home, scratch, cluster, results)
    body = write_report(args, argv, results, len(photos), load_start, os.getloadavg())
    print("\n" + body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
