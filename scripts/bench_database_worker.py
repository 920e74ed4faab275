"""Time one package's face database calls, or this package's REST API, in its own process.

Whichever ``deepface`` comes first on ``sys.path`` is measured: this package, or upstream
deepface installed apart (``PYTHONPATH=.oracle``). Prints one JSON line.

- the databases: an untimed warm-up builds the detector and the model, runs the
  model once on each batch shape the timed calls will give it (deepface's Keras
  ``predict_on_batch`` traces a graph per shape: ``represent`` of the photos, then a
  forward pass on as many blank faces as the queries hold), and makes one small round of
  the database calls in each planned database type (its client, tables and index code).
  Then each planned run registers the photos into its own empty database and searches
  the queries against it, each call timed, and split into detection, the model's forward
  pass and the rest by timers on those methods.
- with ``"api"`` (this package only), then its Flask application through its test
  client: after a warm-up, N one-image ``/represent`` requests against one request with
  the N images.

    python scripts/bench_database_worker.py '{"photos": [...],
        "queries": [...], "model_name": "Facenet", "detector_backend": "opencv", "k": 5,
        "ann": false, "warm_up": [{"database_type": "sqlite", "connection_details":
        "warm.sqlite"}], "runs": [{"repeat": 0,
        "database_type": "sqlite", "connection_details": "run0.sqlite"}],
        "api": {"photos": [...], "repeats": 3, "max_request_mb": 256}}'
"""

import base64
import json
import os
import resource
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import numpy as np
from bench_recognition_worker import Stopwatch, install_timers  # beside this script (imports torch first)

from deepface import DeepFace
from deepface.modules import modeling


@dataclass
class Timed:
    """One timed call: its seconds, those spent in detection and in the model, and a count
    of what it produced (faces stored, or query faces and their matches)."""

    seconds: float
    detect_seconds: float
    forward_seconds: float
    faces: int
    matches: Optional[int] = None


class CallTimer:
    """Times calls, reading the method timers' growth during each call."""

    def __init__(self, detect: Stopwatch, forward: Stopwatch) -> None:
        self.detect, self.forward = detect, forward

    def time(self, call: Callable[[], Any]) -> Tuple[Any, float, float, float]:
        """``call()``'s answer, its seconds, and the seconds in detection and in the model."""
        detect_before, forward_before = self.detect.seconds, self.forward.seconds
        started = time.perf_counter()
        answer = call()
        seconds = time.perf_counter() - started
        return answer, seconds, self.detect.seconds - detect_before, self.forward.seconds - forward_before


# ---------------------------------------------------------------- the database task


def face_results(answer: List[Any]) -> Iterator[List[Dict[str, Any]]]:
    """Each query face's matches, from either shape of a batched ``search``: deepface's one
    list per face, or one list per image holding one list per face."""
    for item in answer:
        if item and isinstance(item[0], list):
            yield from item
        else:
            yield item


def search_counts(answer: List[Any]) -> Tuple[int, int]:
    """(query faces, matches) of a ``search`` answer (``return_type="dict"``)."""
    faces = list(face_results(answer))
    return len(faces), sum(len(matches) for matches in faces)


class DatabaseBench:
    """``register`` and ``search`` (and ``build_index``) with one request's options."""

    def __init__(self, request: Dict[str, Any]) -> None:
        self.request = request
        self.model = {"model_name": request["model_name"], "detector_backend": request["detector_backend"]}

    def register(self, database: Dict[str, str]) -> Dict[str, Any]:
        return DeepFace.register(self.request["photos"], enforce_detection=False, **self.model, **database)

    def search(self, database: Dict[str, str], method: str) -> List[Any]:
        return DeepFace.search(self.request["queries"], enforce_detection=False, k=self.request["k"],
                               search_method=method, return_type="dict", **self.model, **database)

    def build_index(self, database: Dict[str, str]) -> None:
        DeepFace.build_index(**self.model, **database)

    def round(self, database: Dict[str, str], timer: Optional[CallTimer] = None) -> Dict[str, Dict[str, Any]]:
        """Register, search (and index and ann-search), timed when ``timer`` is given."""
        timer = timer or CallTimer(Stopwatch(), Stopwatch())
        answer, *times = timer.time(lambda: self.register(database))
        out = {"register": asdict(Timed(*times, faces=int(answer["inserted"])))}
        answer, *times = timer.time(lambda: self.search(database, "exact"))
        out["search"] = asdict(Timed(*times, *search_counts(answer)))
        if self.request.get("ann"):
            _, *times = timer.time(lambda: self.build_index(database))
            out["build_index"] = asdict(Timed(*times, faces=0))
            answer, *times = timer.time(lambda: self.search(database, "ann"))
            out["ann"] = asdict(Timed(*times, *search_counts(answer)))
        return out


def faces_per_image(answer: List[Any], images: int) -> List[int]:
    """Faces of each image in a batched ``represent`` answer (deepface answers one image
    with its faces' flat list)."""
    if images == 1 and (not answer or isinstance(answer[0], dict)):
        return [len(answer)]
    return [len(faces) for faces in answer]


def warm_up(bench: DatabaseBench, request: Dict[str, Any]) -> None:
    """Build the models, trace the model's batch shapes, and touch each database's code."""
    photos, queries = request["photos"], request["queries"]
    answer = DeepFace.represent(photos, enforce_detection=False, **bench.model)  # the register shape
    faces = dict(zip(photos, faces_per_image(answer, len(photos))))
    model = modeling.build_model(task="facial_recognition", model_name=request["model_name"])
    width, height = model.input_shape
    query_faces = sum(faces[query] for query in queries)
    if query_faces > 1:  # the search shape (one face takes another path, with no tracing)
        model.forward(np.zeros((query_faces, height, width, 3), dtype=np.float32))
    small = DatabaseBench({**request, "photos": photos[:1], "queries": queries[:1]})
    for database in request["warm_up"]:
        small.round(database)


def run_database(request: Dict[str, Any]) -> Dict[str, Any]:
    bench = DatabaseBench(request)
    warm_up(bench, request)
    detect, forward = install_timers(request["model_name"], request["detector_backend"])
    timer = CallTimer(detect, forward)
    runs = []
    for run in request["runs"]:
        database = {"database_type": run["database_type"], "connection_details": run["connection_details"]}
        runs.append({"repeat": run["repeat"], "database_type": run["database_type"],
                     **bench.round(database, timer)})
        print(f"  {run['database_type']} run {run['repeat']} done", file=sys.stderr, flush=True)
    return {"runs": runs}


# ---------------------------------------------------------------- the API task


def data_uri(path: str) -> str:
    with open(path, "rb") as handle:
        return "data:image/jpeg;base64," + base64.b64encode(handle.read()).decode("ascii")


def post_represent(client: Any, img: Any, options: Dict[str, Any]) -> List[Any]:
    """``/represent``'s results for ``img`` (one data URI, or a list of them)."""
    response = client.post("/represent", json={"img": img, **options})
    if response.status_code != 200:
        raise RuntimeError(f"/represent answered {response.status_code}: {response.get_data(as_text=True)[:500]}")
    return response.get_json()["results"]


def largest_difference(singles: List[List[Dict[str, Any]]], batch: List[List[Dict[str, Any]]]) -> float:
    """The largest embedding difference between the batch answer and the one-image answers
    (infinite where the faces differ)."""
    worst = 0.0
    for one, many in zip(singles, batch, strict=True):
        if len(one) != len(many):
            return float("inf")
        for a, b in zip(one, many):
            worst = max(worst, max(abs(x - y) for x, y in zip(a["embedding"], b["embedding"], strict=True)))
    return worst


def run_api(request: Dict[str, Any]) -> Dict[str, Any]:
    """This package's application (``request["api"]`` says how): one-image requests
    against one batch request, ``repeats`` times after a warm-up of both."""
    from deepface.api.src.app import create_app  # pylint: disable=import-outside-toplevel
    from deepface.api.src.dependencies.variables import Variables  # pylint: disable=import-outside-toplevel

    api = request["api"]
    load_before = os.getloadavg()
    images = [data_uri(path) for path in api["photos"]]
    options = {"model_name": request["model_name"], "detector_backend": request["detector_backend"],
               "enforce_detection": False}
    variables = Variables(face_recognition_models=(request["model_name"],),
                          face_detection_models=(request["detector_backend"],),
                          max_request_mb=float(api["max_request_mb"]))
    client = create_app(variables).test_client()
    post_represent(client, images[0], options)  # warm-up: both shapes once
    post_represent(client, images, options)

    runs = []
    for repeat in range(api["repeats"]):
        started = time.perf_counter()
        singles = [post_represent(client, image, options) for image in images]
        single_seconds = time.perf_counter() - started
        started = time.perf_counter()
        batch = post_represent(client, images, options)
        batch_seconds = time.perf_counter() - started
        runs.append({"repeat": repeat, "single_seconds": single_seconds, "batch_seconds": batch_seconds,
                     "faces": sum(len(faces) for faces in batch),
                     "largest_difference": largest_difference(singles, batch)})
    return {"runs": runs, "images": len(images), "load": [load_before, os.getloadavg()]}


def main() -> None:
    request = json.loads(sys.argv[1])
    load_before = os.getloadavg()
    result = run_database(request)
    result["load"] = [load_before, os.getloadavg()]
    if request.get("api"):
        result["api"] = run_api(request)
    result.update({
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "module": DeepFace.__file__,
    })
    print("BENCH-JSON " + json.dumps(result))


if __name__ == "__main__":
    main()
