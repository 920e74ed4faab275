"""``deepface serve`` under load, a real gunicorn server on 127.0.0.1 (one worker, 8 threads,
one runner): concurrent one-image requests merged answer exactly as alone, a corrupt or
faceless image fails alone, /metrics behind the token, 503 with Retry-After when the queue
is full, 504 past the deadline, and SIGTERM finishing the requests in flight (exit 0)."""

import base64
import json
import math
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import cv2
import numpy as np
import pytest

from tests.conftest import REPO_DIR, resize_to_width
from tests.test_api_server import free_port, wait_until_serving

TOKEN = "serving-token"
MAX_QUEUE = 6
DEADLINE_S = 4
MODEL = {"model_name": "Dlib", "detector_backend": "opencv"}
Reply = Tuple[int, Dict[str, Any], Dict[str, str]]


def call(url: str, body: Any = None, token: str = TOKEN, timeout_s: float = 120) -> Reply:
    """POST ``body`` as JSON (GET without one): status, decoded answer (text as ``{"text"}``), headers."""
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return response.status, _decoded(response.read(), response.headers), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, _decoded(error.read(), error.headers), dict(error.headers)


def _decoded(raw: bytes, headers: Any) -> Dict[str, Any]:
    if "json" in headers.get("Content-Type", ""):
        return json.loads(raw)
    return {"text": raw.decode("utf-8")}


def data_uri(img: np.ndarray) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(cv2.imencode(".jpg", img)[1].tobytes()).decode()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tuple[str, "subprocess.Popen[bytes]", Path]]:
    """The server, its process and log; stopped at the end unless a test stopped it."""
    port = free_port()
    log = tmp_path_factory.mktemp("serving") / "serve.log"
    command = [
        sys.executable, "-m", "deepface.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
        "--workers", "1", "--threads", "8", "--runs", "1", "--max-batch", "8", "--batch-wait-ms", "100",
        "--max-queue", str(MAX_QUEUE), "--timeout", str(DEADLINE_S),
        "--warm-up-model", "Dlib", "--warm-up-detector", "opencv",
    ]
    env = {**__import__("os").environ, "DEEPFACE_AUTH_TOKEN": TOKEN}
    with open(log, "wb") as output:
        process = subprocess.Popen(command, cwd=REPO_DIR, env=env, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url + "/", process, log)
        yield url, process, log
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def images(face_photos: Dict[str, np.ndarray]) -> Dict[str, str]:
    faces = {name: data_uri(resize_to_width(face_photos[name], 240)) for name in ("img1.jpg", "img2.jpg")}
    blank = np.full((200, 200, 3), 127, dtype=np.uint8)
    return {**faces, "corrupt": "data:image/jpeg;base64,bm90IGFuIGltYWdl", "faceless": data_uri(blank)}


def metric_value(text: str, name: str) -> float:
    """The sum of a metric's samples named exactly ``name`` (any labels)."""
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(name + "{") or line.startswith(name + " "))


def wait_until_held(url: str, requests: int, timeout_s: float = 30) -> None:
    """Poll /metrics until the worker holds ``requests`` requests (waiting or running)."""
    deadline = time.monotonic() + timeout_s
    while metric_value(call(url + "/metrics")[1]["text"], "deepface_api_queue_depth") < requests:
        assert time.monotonic() < deadline, f"the worker never held {requests} requests"
        time.sleep(0.05)


def test_merged_requests_answer_as_alone_and_a_bad_image_fails_alone(server: Any, images: Dict[str, str]) -> None:
    url = server[0]
    order = ["img1.jpg", "corrupt", "img2.jpg", "faceless", "img1.jpg", "img2.jpg"]
    alone = {name: call(url + "/represent", {"img": images[name], **MODEL})[:2] for name in set(order)}
    assert [alone[name][0] for name in ("img1.jpg", "img2.jpg", "corrupt", "faceless")] == [200, 200, 400, 400]
    before = call(url + "/metrics")[1]["text"]
    with ThreadPoolExecutor(len(order)) as pool:
        merged = list(pool.map(lambda name: call(url + "/represent", {"img": images[name], **MODEL})[:2], order))
    assert merged == [alone[name] for name in order]
    after = call(url + "/metrics")[1]["text"]
    calls = metric_value(after, "deepface_api_batch_size_count") - metric_value(before, "deepface_api_batch_size_count")
    assert calls < len(order), "no request was merged with another"


@pytest.mark.parametrize("route, extra", [("/extract_faces", {"return_face": True}), ("/analyze", {"actions": ["nothing"]})])
def test_other_routes_merged_answer_as_alone(server: Any, images: Dict[str, str], route: str, extra: Dict[str, Any]) -> None:
    """``/extract_faces`` (with the crops) merged; ``/analyze`` with an unknown action fails
    the same way merged as alone (each request's own 400)."""
    url = server[0]
    order = ["img1.jpg", "corrupt", "img2.jpg", "img1.jpg"]
    body = {"detector_backend": "opencv", **extra}
    alone = {name: call(url + route, {"img": images[name], **body})[:2] for name in set(order)}
    with ThreadPoolExecutor(len(order)) as pool:
        merged = list(pool.map(lambda name: call(url + route, {"img": images[name], **body})[:2], order))
    assert merged == [alone[name] for name in order]
    assert alone["corrupt"][0] == 400 and alone["img1.jpg"][0] == (200 if route == "/extract_faces" else 400)


def test_merged_pairs_answer_as_alone(server: Any, images: Dict[str, str]) -> None:
    url = server[0]
    pairs = [("img1.jpg", "img2.jpg"), ("img1.jpg", "img1.jpg"), ("img2.jpg", "corrupt")]

    def verify(pair: Tuple[str, str]) -> Tuple[int, Dict[str, Any]]:
        status, answer, _ = call(url + "/verify", {"img1": images[pair[0]], "img2": images[pair[1]], **MODEL})
        answer.pop("time", None)  # the seconds it took
        return status, answer

    alone = [verify(pair) for pair in pairs]
    with ThreadPoolExecutor(len(pairs)) as pool:
        assert list(pool.map(verify, pairs)) == alone
    assert [status for status, _ in alone] == [200, 200, 400]


def test_metrics_behind_the_token(server: Any) -> None:
    url = server[0]
    assert call(url + "/metrics", token="wrong")[0] == 401
    status, answer, headers = call(url + "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    text = answer["text"]
    assert metric_value(text, "deepface_api_requests_total") > 0
    for sample in ('deepface_api_requests_total{code="400",route="/represent"}',
                   'deepface_api_request_errors_total{code="400",route="/represent"}',
                   'deepface_api_stage_seconds_count{stage="detect"}',
                   'deepface_api_stage_seconds_count{stage="forward"}',
                   'deepface_api_stage_seconds_count{stage="decode"}',
                   "deepface_api_queue_depth "):
        assert sample in text, sample


def test_a_full_queue_answers_503_with_retry_after(server: Any, images: Dict[str, str]) -> None:
    url = server[0]
    batch = {"img": [images["img1.jpg"], images["img2.jpg"]] * 2, **MODEL}
    with ThreadPoolExecutor(MAX_QUEUE + 2) as pool:
        replies = list(pool.map(lambda _: call(url + "/represent", batch), range(MAX_QUEUE + 2)))
    statuses = sorted(status for status, _, _ in replies)
    assert statuses.count(503) >= 2 and set(statuses) <= {200, 503, 504}, statuses
    refused = next(reply for reply in replies if reply[0] == 503)
    assert int(refused[2]["Retry-After"]) >= 1 and "DEEPFACE_API_MAX_QUEUE" in refused[1]["error"]


def test_a_request_waiting_past_the_deadline_is_answered_504(server: Any, images: Dict[str, str]) -> None:
    url = server[0]
    pair = [images["img1.jpg"], images["img2.jpg"]]
    started = time.monotonic()
    assert call(url + "/represent", {"img": pair * 4, **MODEL})[0] == 200
    per_image = (time.monotonic() - started) / 8
    pairs = min(1000, math.ceil(1.5 * DEADLINE_S / per_image / 2))  # a batch that runs 1.5 deadlines
    long_batch = {"img": pair * pairs, **MODEL}
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(call, url + "/represent", long_batch)
        time.sleep(0.5)
        late = pool.submit(call, url + "/represent", {"img": images["img1.jpg"], **MODEL})
        status, answer, _ = late.result()
        first_status = first.result()[0]
    started_before = first_status == 200
    assert started_before and status == 504 and "timeout" in answer["error"], (first_status, status, answer)


def test_sigterm_finishes_requests_in_flight_then_exits_0(server: Any, images: Dict[str, str]) -> None:
    url, process, log = server
    # one runner: one runs, one waits; small enough that both end within the grace period
    # (the deadline, DEADLINE_S) on a loaded machine
    batch = {"img": [images["img1.jpg"], images["img2.jpg"]], **MODEL}
    with ThreadPoolExecutor(2) as pool:
        replies = [pool.submit(call, url + "/represent", batch) for _ in range(2)]
        wait_until_held(url, 2)  # both requests reached the worker (a loaded machine is slow)
        process.send_signal(signal.SIGTERM)
        statuses = [reply.result()[0] for reply in replies]
    assert statuses == [200] * 2
    assert process.wait(timeout=60) == 0, log.read_text()[-2000:]
    assert [reply.result()[1]["results"] for reply in replies] == [replies[0].result()[1]["results"]] * 2
    with pytest.raises(OSError):
        urllib.request.urlopen(url + "/", timeout=5)
