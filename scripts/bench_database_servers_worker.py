"""Time one package's ``register`` and ``search`` on a database server, the database part
only, in its own process. Whichever ``deepface`` comes first on ``sys.path`` is measured:
this package, or upstream deepface installed apart (``PYTHONPATH=.oracle``). The face
model is replaced by fixed random embeddings (``testkit.fake_embeddings``), so each call
times what the package does around its database. Prints one ``BENCH-JSON`` line.

    python scripts/bench_database_servers_worker.py '{"database_type": "redis",
        "connection_details": "redis://...", "stored": 20000, "register": 1000, "queries": 64,
        "repeats": 3, "dimension": 128, "face_side": 8, "k": 5, "methods": ["exact", "ann"]}'

The worker fills its empty database with ``stored`` faces (untimed, 1,000 per call),
builds the faiss index where the database keeps one (untimed), warms up with one search,
then in each repeat times ``register`` of ``register`` new faces (one call) and a
``search`` of ``queries`` faces (one call, each method): noisy copies of stored faces.
"""

import json
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.append(str(REPO))  # testkit/, after whichever deepface the environment chose

from deepface import DeepFace  # noqa: E402

from testkit.fake_embeddings import patch_deepface, patch_this_package, random_gallery  # noqa: E402

FILL_CHUNK = 1000
SEED = 2024
MODEL = {"model_name": "Facenet", "detector_backend": "opencv"}


def is_upstream() -> bool:
    """Whether the ``deepface`` imported is not this checkout's (the oracle may live inside it, in .oracle/)."""
    return Path(DeepFace.__file__).resolve().parent != (REPO / "deepface").resolve()


def build_gallery(request: Dict[str, Any]) -> Dict[str, Any]:
    """Stored faces, the faces each repeat registers, and the queries (noisy stored faces)."""
    total = request["stored"] + request["register"] * request["repeats"]
    names = [f"face_{i:06d}.jpg" for i in range(total)]
    gallery = random_gallery(names, request["dimension"], request["face_side"], SEED)
    rng = np.random.default_rng(SEED + 1)
    picks = rng.choice(request["stored"], size=request["queries"], replace=False)
    queries = []
    for number, pick in enumerate(picks):
        face = gallery[names[pick]][0]
        noisy = np.asarray(face["embedding"]) + rng.normal(scale=0.05, size=request["dimension"])
        queries.append(f"query_{number:03d}.jpg")
        area = {**face["facial_area"], "x": number}  # answers name their query face by target_x
        gallery[queries[-1]] = [{**face, "embedding": noisy.tolist(), "facial_area": area}]
    return {"gallery": gallery, "names": names, "queries": queries, "expected": [names[p] for p in picks]}


def top_names(answer: List[Any]) -> Dict[int, Any]:
    """The closest stored name of each query face that has a hit, by query number (its
    ``target_x``): both packages give one list per face (deepface drops faces without hits
    from ann answers)."""
    return {rows[0]["target_x"]: rows[0]["img_name"] for rows in answer if rows}


def timed(call: Any) -> Any:
    started = time.perf_counter()
    answer = call()
    return time.perf_counter() - started, answer


def main(request: Dict[str, Any]) -> None:
    upstream = is_upstream()
    data = build_gallery(request)
    if upstream:
        patch_deepface(data["gallery"], request["dimension"])
    else:
        patch_this_package(data["gallery"])
    database = {"database_type": request["database_type"], "connection_details": request["connection_details"],
                **MODEL}  # fmt: skip
    stored, names = request["stored"], data["names"]
    for start in range(0, stored, FILL_CHUNK):
        DeepFace.register(names[start : min(start + FILL_CHUNK, stored)], **database)
    if "ann" in request["methods"]:  # faiss (mysql, redis), HNSW (pgvector: deepface made it with the table)
        DeepFace.build_index(**database)
    search = {**database, "k": request["k"], "return_type": "dict"}
    for method in request["methods"]:  # warm-up: clients, tables, indexes, caches
        DeepFace.search(data["queries"][:1], **search, search_method=method)
    runs: List[Dict[str, Any]] = []
    for repeat in range(request["repeats"]):
        first = stored + repeat * request["register"]
        batch = names[first : first + request["register"]]
        seconds, answer = timed(lambda: DeepFace.register(batch, **database))
        run: Dict[str, Any] = {"register": seconds, "inserted": answer["inserted"]}
        for method in request["methods"]:
            seconds, answer = timed(lambda: DeepFace.search(data["queries"], **search, search_method=method))
            found = top_names(answer)
            run[method] = seconds
            run[f"{method}_correct"] = sum(found.get(i) == name for i, name in enumerate(data["expected"]))
        runs.append(run)
    print("BENCH-JSON " + json.dumps({"module": DeepFace.__file__, "runs": runs}))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
