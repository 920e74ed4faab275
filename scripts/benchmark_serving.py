"""Serving under load: one-image ``/represent`` requests from N concurrent clients.

    python scripts/benchmark_serving.py --clients 1 4 16 64 --seconds 10 --output docs/benchmarks-serving.md

Each server is a real one on 127.0.0.1, started fresh: this package's ``deepface serve``
(one worker, ``--threads`` threads) with merging on and off, or with ``--peer-workers``
single-thread workers (``workers-N``: memory of N threads against N workers), and deepface 0.0.103's own
API (its gunicorn command, ``gunicorn --workers=N "app:create_app()"`` in its
``deepface/api/src``, from ``DEEPFACE_ORACLE_DIR``) with one worker and with
``--peer-workers``. All use the same weights (``DEEPFACE_HOME``; random-weight files
work) and the same photos. Each cell runs closed-loop clients (one request in flight
each, a new connection per request) for ``--seconds``; it reports the requests answered
within that time per second,
p50/p99 latency, errors, and the server's peak resident memory (master and workers,
sampled every 0.2 s). Every answer is checked against the photo's answer alone (taken at
warm-up), and with ``--corrupt-every N`` every Nth request is a corrupt image that must be
answered 400: the ``wrong`` column counts the misses. The server's CPU time per answered
request (its processes' user + system time during the cell) is steadier than requests
per second on a machine that other work shares. This package's server also reports
its time per stage (/metrics).
The machine's load average (``/proc/loadavg``) is printed beside every cell.
"""

import argparse
import base64
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import cv2
import numpy as np
import psutil

REPO = Path(__file__).resolve().parent.parent
PHOTOS = REPO.parent / "shared" / "faces"
PHOTO_NAMES = ("img1.jpg", "img2.jpg", "img3.jpg", "img4.jpg")
START_TIMEOUT_S = 300
STAGES = ("queue", "run", "decode", "detect", "forward")


@dataclass
class Server:
    """How to start one server."""

    name: str
    command: List[str]
    cwd: Path
    env: Dict[str, str]


@dataclass
class Cell:
    """One server at one client count."""

    server: str
    clients: int
    seconds: float
    latencies: List[float] = field(default_factory=list)
    errors: int = 0
    wrong: int = 0  # an answer unlike the photo's answer alone, or a corrupt image not answered 400
    peak_rss_mb: float = 0.0
    cpu_s: float = 0.0  # the server's CPU time (user + system, all its processes) during the cell
    load: str = ""

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds

    @property
    def cpu_ms_per_request(self) -> float:
        return self.cpu_s * 1000 / max(len(self.latencies), 1)

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def photo_uris(width: int) -> List[str]:
    uris = []
    for index, name in enumerate(PHOTO_NAMES):
        img = cv2.imread(str(PHOTOS / name)) if (PHOTOS / name).is_file() else None
        if img is None:
            img = np.random.default_rng(index).integers(0, 255, (400, 300, 3), dtype=np.uint8)
        img = cv2.resize(img, (width, int(width * img.shape[0] / img.shape[1])))
        uris.append("data:image/jpeg;base64," + base64.b64encode(cv2.imencode(".jpg", img)[1].tobytes()).decode())
    return uris


def servers(args: argparse.Namespace, port: int) -> List[Server]:
    """The servers to measure, by name (``on``, ``off``, ``workers-N``, ``deepface``, ``deepface-N``)."""
    env = {**os.environ, "DEEPFACE_FACE_RECOGNITION_MODELS": args.model, "DEEPFACE_FACE_DETECTION_MODELS": args.detector}
    ours = [sys.executable, "-m", "deepface.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--workers", "1", "--threads", str(args.threads)]
    oracle = Path(os.environ.get("DEEPFACE_ORACLE_DIR", REPO / ".oracle"))
    peer_env = {**env, "PYTHONPATH": str(oracle)}

    def peer(workers: int) -> Server:
        command = [sys.executable, "-m", "gunicorn", f"--workers={workers}", "--timeout=3600",
                   f"--bind=127.0.0.1:{port}", "app:create_app()"]
        return Server(f"deepface 0.0.103, {workers} worker(s)", command, oracle / "deepface" / "api" / "src", peer_env)

    known = {
        "on": Server(f"this package, merging on, 1 worker x {args.threads} threads", ours, REPO, env),
        "off": Server(f"this package, merging off, 1 worker x {args.threads} threads",
                      ours + ["--batch-wait-ms", "0"], REPO, env),
        "workers-N": Server(f"this package, {args.peer_workers} workers x 1 thread",
                            ours[:-4] + ["--workers", str(args.peer_workers), "--threads", "1"], REPO, env),
        "deepface": peer(1),
        "deepface-N": peer(args.peer_workers),
    }
    return [known[name] for name in args.servers]


def start(server: Server, url: str, log: Path) -> "subprocess.Popen[bytes]":
    with open(log, "wb") as output:
        process = subprocess.Popen(server.command, cwd=server.cwd, env=server.env, stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", int(url.rsplit(":", 1)[1]), timeout=5)
            connection.request("GET", "/")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(1)
    process.kill()
    raise RuntimeError(f"{server.name} did not answer within {START_TIMEOUT_S} s")


def stop(process: "subprocess.Popen[bytes]") -> None:
    process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def post(port: int, body: bytes, timeout_s: float = 300) -> Tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
    try:
        connection.request("POST", "/represent", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def tree_cpu_s(process: psutil.Process) -> float:
    total = 0.0
    for member in [process, *process.children(recursive=True)]:
        try:
            times = member.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def tree_rss_mb(process: psutil.Process) -> float:
    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_info().rss
        except psutil.Error:
            pass
    return total / 2**20


CORRUPT = json.dumps({"img": "data:image/jpeg;base64,bm90IGFuIGltYWdl"}).encode()


def run_cell(name: str, port: int, pid: int, bodies: List[bytes], expected: List[Any], clients: int,
             seconds: float, corrupt_every: int = 0) -> Cell:
    cell = Cell(server=name, clients=clients, seconds=seconds, load=load_average())
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(number: int) -> None:
        sent = number
        while time.monotonic() < stop_at:
            started = time.monotonic()
            corrupt = corrupt_every > 0 and sent % corrupt_every == corrupt_every - 1
            body = with_model(CORRUPT, bodies[0]) if corrupt else bodies[sent % len(bodies)]
            try:
                status, answer = post(port, body)
            except OSError:
                status, answer = 0, b""
            right = status == 400 if corrupt else status != 200 or json.loads(answer) == expected[sent % len(bodies)]
            finished = time.monotonic()
            sent += 1
            with lock:
                if finished > stop_at:  # answered after the cell's time: not counted
                    continue
                cell.wrong += 0 if right else 1
                if status == 200 or (corrupt and status == 400):
                    cell.latencies.append(finished - started)
                else:
                    cell.errors += 1

    server = psutil.Process(pid)
    cpu_before = tree_cpu_s(server)
    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        cell.peak_rss_mb = max(cell.peak_rss_mb, tree_rss_mb(server))
        time.sleep(0.2)
    cell.cpu_s = tree_cpu_s(server) - cpu_before
    return cell


def with_model(corrupt: bytes, like: bytes) -> bytes:
    """The corrupt image with the model and detector of ``like``."""
    return json.dumps({**json.loads(like), **json.loads(corrupt)}).encode()


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def stage_times(port: int) -> Dict[str, Tuple[int, float]]:
    """This package's /metrics: (count, seconds) per stage, and batch sizes."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/metrics")
    text = connection.getresponse().read().decode()
    found: Dict[str, List[float]] = {}
    for line in text.splitlines():
        for stage in (*STAGES, "batch"):
            for suffix in ("_count", "_sum"):
                metric = "deepface_api_batch_size" if stage == "batch" else "deepface_api_stage_seconds"
                if line.startswith(metric + suffix) and (stage == "batch" or f'stage="{stage}"' in line):
                    found.setdefault(stage, [0.0, 0.0])[0 if suffix == "_count" else 1] += float(line.rsplit(" ", 1)[1])
    return {stage: (int(count), total) for stage, (count, total) in found.items()}


def measure(server: Server, args: argparse.Namespace, port: int, bodies: List[bytes], folder: Path) -> Tuple[List[Cell], Dict[str, Any]]:
    log = folder / f"{server.name.split(',')[0].replace(' ', '-')}-{len(os.listdir(folder))}.log"
    print(f"starting {server.name} ...", flush=True)
    process = start(server, f"http://127.0.0.1:{port}", log)
    try:
        expected = [json.loads(post(port, body)[1]) for body in bodies]  # warm-up, and each photo's answer alone
        idle_rss = tree_rss_mb(psutil.Process(process.pid))
        cells = []
        for clients in args.clients:
            cell = run_cell(server.name, port, process.pid, bodies, expected, clients, args.seconds, args.corrupt_every)
            print(f"  {clients:3d} clients: {cell.throughput:6.2f} req/s  p50 {cell.percentile(0.5):7.0f} ms  "
                  f"p99 {cell.percentile(0.99):7.0f} ms  errors {cell.errors}  wrong {cell.wrong}  "
                  f"CPU {cell.cpu_ms_per_request:5.0f} ms/req  "
                  f"peak RSS {cell.peak_rss_mb:6.0f} MB  "
                  f"(load {cell.load})", flush=True)
            cells.append(cell)
        extra = {"idle_rss_mb": idle_rss}
        if server.command[1:3] == ["-m", "deepface.cli"]:
            extra["stages"] = stage_times(port)
        return cells, extra
    finally:
        stop(process)


def report(cells: List[Cell], extras: Dict[str, Dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [
        f"Workload: one-image `/represent`, {args.model} + {args.detector}, photos {args.width} px wide, "
        f"{args.seconds:g} s per cell, closed-loop clients (a new connection per request)"
        + (f", every {args.corrupt_every}th request a corrupt image (counted when answered 400)." if args.corrupt_every else "."),
        "",
        "| server | clients | req/s | p50 ms | p99 ms | errors | wrong | server CPU ms/req | peak RSS MB | load avg (1/5/15 min) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for cell in cells:
        lines.append(f"| {cell.server} | {cell.clients} | {cell.throughput:.2f} | {cell.percentile(0.5):.0f} | "
                     f"{cell.percentile(0.99):.0f} | {cell.errors} | {cell.wrong} | {cell.cpu_ms_per_request:.0f} | {cell.peak_rss_mb:.0f} | {cell.load} |")
    lines += ["", "Resident memory after warm-up (MB): " + ", ".join(
        f"{name}: {extra['idle_rss_mb']:.0f}" for name, extra in extras.items())]
    for name, extra in extras.items():
        if "stages" in extra:
            stages = extra["stages"]
            parts = [f"{stage} {total / max(count, 1) * 1000:.0f} ms x {count}" for stage, (count, total) in stages.items() if stage != "batch"]
            batch = stages.get("batch", (0, 0.0))
            lines.append(f"\n{name}: mean time per stage over the whole run: {', '.join(parts)}; "
                         f"{batch[0]} pipeline calls, mean batch {batch[1] / max(batch[0], 1):.2f} requests")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--servers", nargs="+", default=["on", "off", "deepface", "deepface-N"],
                        choices=["on", "off", "workers-N", "deepface", "deepface-N"])
    parser.add_argument("--threads", type=int, default=8, help="this package's threads (one worker)")
    parser.add_argument("--peer-workers", type=int, default=4,
                        help="workers of deepface-N, and of workers-N (this package, one thread each)")
    parser.add_argument("--model", default="Facenet")
    parser.add_argument("--detector", default="mtcnn")
    parser.add_argument("--width", type=int, default=320, help="photo width in pixels")
    parser.add_argument("--corrupt-every", type=int, default=0, metavar="N",
                        help="every Nth request of a client sends a corrupt image (expects 400); 0: none")
    parser.add_argument("--output", type=Path, help="write the markdown table here (appended)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stopped: the servers are stopped too (finally)
    uris = photo_uris(args.width)
    bodies = [json.dumps({"img": uri, "model_name": args.model, "detector_backend": args.detector}).encode() for uri in uris]
    cells: List[Cell] = []
    extras: Dict[str, Dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as folder:
        port = free_port()  # each server is stopped before the next starts on it
        for server in servers(args, port):
            measured, extra = measure(server, args, port, bodies, Path(folder))
            cells += measured
            extras[server.name] = extra
    text = report(cells, extras, args)
    print(text)
    if args.output:
        with open(args.output, "a", encoding="utf-8") as output:
            output.write(f"\n### {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n\n" + text)


if __name__ == "__main__":
    main()
