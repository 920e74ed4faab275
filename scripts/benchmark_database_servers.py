"""The database part of ``register`` and ``search`` on pgvector, MySQL (MariaDB) and Redis
servers started here: this package against upstream deepface 0.0.103 on the same server.

Each package runs in its own process (``scripts/bench_database_servers_worker.py``) against
its own empty database on the shared server, the face model replaced by fixed random
embeddings in both. The report is a section of the output file (other sections stay).

    python scripts/benchmark_database_servers.py --stored 20000 --register 1000 --queries 64 \\
        --repeats 3 --output docs/benchmarks-database.md
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Tuple

from benchmark import REPO, command_line  # beside this script
from benchmark_recognition import OURS, UPSTREAM, run_json_worker  # beside this script
from doc_sections import write_section  # beside this script

from testkit.database_servers import MariadbServer, RedisServer, start_pgvector_cluster

WORKER = REPO / "scripts" / "bench_database_servers_worker.py"
KINDS = ("pgvector", "mysql", "redis")
#: Targets of issue 21: batched search of this package over deepface 0.0.103's.
TARGETS = {"pgvector": 3.0, "mysql": 2.0, "redis": 2.0}
SECTION = "database-servers"
TAGS = {UPSTREAM: "theirs", OURS: "ours"}
PREAMBLE = """## Database servers: pgvector, MySQL (MariaDB), Redis

How to reproduce: `make setup` (the servers and the oracle), then `make bench-database-servers`
(this run: `{command}`). Each server is started here (a temporary folder, a free local port),
and each package gets its own empty database on it. In a fresh process per package and
database type, the face model is replaced by fixed random embeddings (`testkit/fake_embeddings.py`,
Facenet's length {dimension}, faces of {face_side} x {face_side} x 3 floats), so every figure is
the package's database work: building rows, the client library, the server, the ranking.
The worker fills the database with {stored:,} faces (untimed, 1,000 per `register`), builds
the faiss index where the database type keeps one (MySQL, Redis; untimed), searches once
(untimed warm-up), then in each of {repeats} rounds times:

- `register`: `DeepFace.register(<{register:,} new images>, model_name="Facenet", ...)`, one call;
- `search exact` / `search ann`: `DeepFace.search(<{queries} query images>, k={k},
  search_method=..., return_type="dict")`, one call each; every query is a noisy copy of a
  stored face. `correct`: how many query faces have that face as their closest hit (ann is
  approximate: an HNSW index over random vectors misses some).

deepface 0.0.103 stores 100 rows per transaction and searches face by face (`exact`: every
stored embedding fetched, then a Python loop over them per query face; `ann` on pgvector:
one SQL query per face through the HNSW index that deepface creates with its table; `ann`
on MySQL/Redis: the faiss index, one query per face, then one look-up of names per face).
This package writes a batch in one transaction (pgvector: `COPY`; MySQL: multi-row
`INSERT`; Redis: one Lua script) and ranks all query faces at once: `exact` fetches the
embeddings once and ranks with numpy; `ann` on pgvector is one SQL statement for all faces
(a `LATERAL` join) through deepface's HNSW index, which `build_index` creates on this
package's table before the timed calls (without it the search is exact, and slower); on
MySQL/Redis one faiss call and one look-up of names. In `ann` both packages run the same
index searches, so batching saves only the round trips and the per-face work around them;
a pgvector `register` also updates the HNSW index.

Each figure: the median of the rounds, in seconds (min-max); speed-up = deepface / this
package. The stored count grows by {register:,} each round (same for both packages).
"""


def server_versions(cluster: Any, mariadb: MariadbServer, redis_server: RedisServer) -> Dict[str, str]:
    import psycopg  # pylint: disable=import-outside-toplevel
    import redis  # pylint: disable=import-outside-toplevel

    with psycopg.connect(cluster.uri) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        postgres = conn.execute("SHOW server_version").fetchone()[0]
        vector = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()[0]
    with redis.Redis.from_url(redis_server.url) as client:
        redis_version = client.info("server")["redis_version"]
    return {
        "pgvector": f"PostgreSQL {postgres} with pgvector {vector} (the pgserver wheel)",
        "mysql": f"MariaDB {mariadb.server_version()}",
        "redis": f"Redis {redis_version}",
    }


def client_versions() -> str:
    from importlib.metadata import version  # pylint: disable=import-outside-toplevel

    return ", ".join(f"{name} {version(name)}" for name in ("psycopg", "pgvector", "PyMySQL", "redis", "numpy"))


def measure(args: argparse.Namespace, kind: str, details: Dict[str, Any], scratch: Path) -> Dict[str, List[Dict]]:
    """Both packages' runs on their own database of ``kind``."""
    runs = {}
    for package in (UPSTREAM, OURS):
        request = {"database_type": kind, "connection_details": details[package], "stored": args.stored,
                   "register": args.register, "queries": args.queries, "repeats": args.repeats,
                   "dimension": args.dimension, "face_side": args.face_side, "k": args.k, "methods": args.methods}
        print(f"{kind}: {package} ...", flush=True)
        result = run_json_worker(WORKER, request, package, scratch, scratch, Path(args.oracle), "cpu", f"{kind}")
        runs[package] = result["runs"]
    return runs


def summary(values: List[float]) -> Tuple[float, str]:
    median = statistics.median(values)
    return median, f"{median:.3f} ({min(values):.3f}-{max(values):.3f})"


HEADER = [
    "| database | operation | deepface 0.0.103 s | this package s | speed-up | target | correct (deepface / ours) |",
    "|---|---|---|---|---|---|---|",
]


def render(args: argparse.Namespace, results: Dict[str, Dict[str, List[Dict]]], versions: Dict[str, str],
           load: Tuple[str, str]) -> str:  # fmt: skip
    command = command_line("benchmark_database_servers.py", sys.argv[1:])
    lines = [PREAMBLE.format(command=command, **vars(args)), ""]
    lines += [f"- {kind}: {versions[kind]}" for kind in args.kinds]
    machine = f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs"
    lines += [f"- clients: {client_versions()}; {machine}", f"- load (`uptime`) before: {load[0]}",
              f"- load after: {load[1]}", "", *HEADER]  # fmt: skip
    for kind in args.kinds:
        lines += [row(args, kind, operation, results[kind]) for operation in ("register", *args.methods)]
    return "\n".join(lines) + "\n"


def row(args: argparse.Namespace, kind: str, operation: str, runs: Dict[str, List[Dict]]) -> str:
    """One operation's line: both packages' medians (range), the speed-up, the target of a search."""
    theirs, ours = runs[UPSTREAM], runs[OURS]
    their_median, their_text = summary([run[operation] for run in theirs])
    our_median, our_text = summary([run[operation] for run in ours])
    if operation == "register":
        name, target, correct = "register", "", ""
    else:
        name, target = f"search {operation}", f">= {TARGETS[kind]:g}x"
        key = f"{operation}_correct"
        correct = f"{theirs[-1][key]} / {ours[-1][key]} of {args.queries}"
    speed_up = f"{their_median / our_median:.1f}x"
    return f"| {kind} | {name} | {their_text} | {our_text} | {speed_up} | {target} | {correct} |"


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def main() -> None:
    args = parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-db-servers-"))
    load_before = uptime()
    cluster = start_pgvector_cluster()
    mariadb, redis_server = MariadbServer(), RedisServer()
    try:
        mariadb.start()
        redis_server.start()
        versions = server_versions(cluster, mariadb, redis_server)
        redis_base = redis_server.url.rsplit("/", 1)[0]
        details = {
            "pgvector": {package: cluster.create_database(f"bench_{tag}") for package, tag in TAGS.items()},
            "mysql": {package: mariadb.create_database(f"bench_{tag}") for package, tag in TAGS.items()},
            "redis": {package: f"{redis_base}/{number}" for number, package in enumerate(TAGS, start=1)},
        }
        results = {kind: measure(args, kind, details[kind], scratch) for kind in args.kinds}
    finally:
        cluster.stop()
        mariadb.stop()
        redis_server.stop()
    report = render(args, results, versions, (load_before, uptime()))
    print(report)
    if args.output:
        write_section(Path(args.output), SECTION, report)
        print(f"wrote the {SECTION} section of {args.output}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stored", type=int, default=20000, help="faces in the database before the timed calls")
    parser.add_argument("--register", type=int, default=1000, help="faces registered by each timed call")
    parser.add_argument("--queries", type=int, default=64, help="query faces of each timed search")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dimension", type=int, default=128, help="embedding length (Facenet's)")
    parser.add_argument("--face-side", type=int, default=8, help="side of the stored face arrays")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--methods", nargs="+", default=["exact", "ann"], choices=["exact", "ann"])
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=list(KINDS))
    parser.add_argument("--oracle", default=str(REPO / ".oracle"), help="upstream deepface's folder (make oracle)")
    parser.add_argument("--output", default=None, help="the markdown file whose section this run writes")
    return parser.parse_args()


if __name__ == "__main__":
    main()
