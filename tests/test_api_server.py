"""``deepface serve`` as a real gunicorn server on 127.0.0.1, called over HTTP: a wrong
token, a bad input, and concurrent requests that answer as sequential ones do."""

import base64
import json
import os
import socket
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

TOKEN = "test-token"
START_TIMEOUT_S = 240
REQUEST_TIMEOUT_S = 120


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post(url: str, body: Dict[str, Any], token: str = TOKEN) -> Tuple[int, Dict[str, Any]]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode("utf-8"),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def wait_until_serving(url: str, server: "subprocess.Popen[bytes]", log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"deepface serve exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    pytest.fail(f"deepface serve did not answer within {START_TIMEOUT_S} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``deepface serve`` (gunicorn, 1 worker, 2 threads) on a free port, stopped at the end."""
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    command = [
        sys.executable, "-m", "deepface.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
        "--workers", "1", "--threads", "2", "--warm-up-model", "Dlib", "--warm-up-detector", "opencv",
    ]
    env = {**os.environ, "DEEPFACE_AUTH_TOKEN": TOKEN}
    with open(log, "wb") as output:
        server = subprocess.Popen(command, cwd=REPO_DIR, env=env, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url + "/", server, log)
        yield url
    finally:
        server.terminate()  # gunicorn stops its workers gracefully on SIGTERM
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)


@pytest.fixture(scope="module")
def uris(face_photos: Dict[str, np.ndarray]) -> List[str]:
    images = [resize_to_width(face_photos[name], 280) for name in ("img1.jpg", "img2.jpg")]
    return ["data:image/jpeg;base64," + base64.b64encode(cv2.imencode(".jpg", img)[1].tobytes()).decode() for img in images]


@pytest.mark.timeout(600)
def test_served_over_http(server_url: str, uris: List[str]) -> None:
    body = {"model_name": "Dlib", "detector_backend": "opencv"}
    status, answer = post(server_url + "/represent", {"img": uris[0], **body}, token="wrong")
    assert (status, answer) == (401, {"message": "Invalid or missing authentication token"})

    status, answer = post(server_url + "/represent", {"img": "/etc/passwd", **body})
    assert status == 400 and answer["field"] == "img"

    sequential = [post(server_url + "/represent", {"img": uri, **body}) for uri in uris]
    assert [status for status, _ in sequential] == [200, 200]
    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(lambda uri: post(server_url + "/represent", {"img": uri, **body}), uris * 2))
    assert concurrent == sequential * 2

    status, answer = post(server_url + "/represent", {"img": uris, **body})
    assert status == 200
    assert answer["results"] == [result["results"] for _, result in sequential]


def test_serve_options_override_the_environment() -> None:
    from deepface.api.launcher import gunicorn_options, server_variables
    from deepface.api.src.dependencies.variables import Variables
    from deepface.cli import build_parser

    env = Variables(auth_token="t", face_detection_models=("mtcnn",), max_request_mb=8.0)
    args = build_parser().parse_args(
        ["serve", "--port", "6000", "--threads", "4", "--allow-urls", "--warm-up-model", "Facenet,Dlib"]
    )
    assert server_variables(args, env) == Variables(
        auth_token="t",
        face_recognition_models=("Facenet", "Dlib"),
        face_detection_models=("mtcnn",),  # the environment's, as no option names one
        allow_urls=True,
        max_request_mb=8.0,
    )
    options = gunicorn_options(args)
    assert (options["bind"], options["threads"], options["worker_class"]) == ("127.0.0.1:6000", 4, "gthread")
    defaults = server_variables(build_parser().parse_args(["serve"]), Variables())
    assert (defaults.face_recognition_models, defaults.face_detection_models) == (("VGG-Face",), ("opencv",))
    quiet = server_variables(build_parser().parse_args(["serve", "--no-warm-up"]), Variables())
    assert (quiet.face_recognition_models, quiet.face_detection_models) == ((), ())
