"""pgvector, MySQL (MariaDB) and Redis on real servers started here, shared with deepface
0.0.103 (the oracle, in a subprocess): each package searches what the other registered and
both give the same identities at the same distances; and the faults a user meets (server
down, wrong password, a failed or mis-sized batch, many threads at once).

Embeddings are given, not computed: both packages' detection + model stage is replaced by a
look-up of fixed embeddings (``tests/helpers/database_servers.patch_embeddings`` here,
``tests/oracle/run_database_embeddings.py`` in the oracle), so no face model runs.
"""

import json
import socket
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

import numpy as np
import pytest

from deepface import DeepFace
from deepface.commons.exceptions import DatabaseConnectionError, DuplicateEntryError, EmbeddingSizeMismatch
from deepface.modules.database.inventory import connect
from deepface.modules.database.types import CONNECT_TIMEOUT_S, Criteria
from tests.helpers.database_servers import KINDS, Gallery, database_servers, patch_embeddings  # noqa: F401
from tests.helpers.oracle import oracle_or_skip, run_oracle_script
from testkit.database_servers import MYSQL_USER, PASSWORD

pytestmark = pytest.mark.timeout(600)

MODEL = "Facenet"
DIMENSION = 128
COMMON = {"model_name": MODEL, "detector_backend": "opencv"}
GALLERY_SIZE = 40
QUERIES = 6
DISTANCE_TOLERANCE = 1e-5
CONFIDENCE_TOLERANCE = 0.02
#: search keywords both packages run on both databases of each kind
SEARCHES: List[Dict[str, Any]] = [
    {"similarity_search": True, "k": 5},
    {"distance_metric": "euclidean"},
    {"distance_metric": "angular", "similarity_search": True, "k": 3},
    {"l2_normalize": True, "distance_metric": "euclidean", "similarity_search": True, "k": 4},
    {"search_method": "ann", "similarity_search": True, "k": 5},
    {"search_method": "ann", "l2_normalize": True, "k": 5},
]


def face_of(rng: np.random.Generator, index: int, embedding: np.ndarray) -> Dict[str, Any]:
    face = rng.random((4, 4, 3)).round(6)
    area = {"x": index, "y": 2 * index, "w": 10, "h": 12, "left_eye": None, "right_eye": None}
    return {"embedding": embedding.tolist(), "face": face.tolist(), "facial_area": area}


def make_gallery(seed: int = 7) -> Tuple[Gallery, List[str], List[str]]:
    """Stored images (two of them with two faces) and query images: noisy copies of
    stored faces, and one face unlike any."""
    rng = np.random.default_rng(seed)
    gallery: Gallery = {}
    vectors = rng.normal(size=(GALLERY_SIZE + 2, DIMENSION))
    stored = []
    for index in range(GALLERY_SIZE):
        name = f"person_{index:03d}.jpg"
        gallery[name] = [face_of(rng, index, vectors[index])]
        stored.append(name)
    for index, name in enumerate(stored[:2]):
        gallery[name].append(face_of(rng, 100 + index, vectors[GALLERY_SIZE + index]))
    queries = []
    for index in range(QUERIES - 1):
        source = gallery[stored[index * 7]][0]["embedding"]
        noisy = np.asarray(source) + rng.normal(scale=0.05, size=DIMENSION)
        queries.append(f"query_{index}.jpg")
        gallery[queries[-1]] = [face_of(rng, 200 + index, noisy)]
    queries.append("query_stranger.jpg")
    gallery[queries[-1]] = [face_of(rng, 300, rng.normal(size=DIMENSION))]
    return gallery, stored, queries


GALLERY, STORED, QUERY_NAMES = make_gallery()


def database(kind: str, details: Any) -> Dict[str, Any]:
    return {"database_type": kind, "connection_details": details}


def search_plan(kind: str, databases: Dict[str, Any]) -> List[Tuple[str, Dict[str, Any]]]:
    """(name, keywords) of every search: each option set on both databases."""
    return [
        (f"{options}@{key}", {**COMMON, **database(kind, databases[key]), **options, "return_type": "dict"})
        for options in SEARCHES
        for key in ("theirs", "ours")
    ]


def writes(kind: str, details: Any) -> List[Tuple[str, Dict[str, Any]]]:
    """The registers (plain and L2-normalised) and indexes a database needs for SEARCHES: the
    faiss index (mysql, redis), or pgvector's HNSW index (deepface: nothing to build; this
    package: deepface's index, which deepface then finds in place)."""
    ops = [("register", {**COMMON, **database(kind, details), "l2_normalize": norm}) for norm in (False, True)]
    indexes = [("build_index", {**COMMON, **database(kind, details), "l2_normalize": norm}) for norm in (False, True)]
    return ops + indexes


@pytest.fixture(scope="module")
def shared(database_servers: Any, tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Any]:  # noqa: F811
    """For every kind: deepface fills ``theirs``, this package ``ours``; both search both."""
    oracle_or_skip()
    root = tmp_path_factory.mktemp("db-servers")
    plans, operations = {}, []
    with pytest.MonkeyPatch.context() as monkeypatch:
        patch_embeddings(monkeypatch, GALLERY)
        for kind in KINDS:
            databases = {key: database_servers.fresh(kind, f"shared_{key}") for key in ("theirs", "ours")}
            for op, kwargs in writes(kind, databases["ours"]):
                getattr(DeepFace, op)(*([STORED] if op == "register" else []), **kwargs)
            for op, kwargs in writes(kind, databases["theirs"]):
                operations.append({"op": op, "args": [STORED] if op == "register" else [], "kwargs": kwargs})
            plans[kind] = search_plan(kind, databases) + [
                (f"identify@{key}", {**COMMON, **database(kind, databases[key])}) for key in ("theirs", "ours")
            ]
            for name, kwargs in plans[kind]:
                if name.startswith("identify"):
                    operations.append({"op": "identify", "args": [QUERY_NAMES[1], 8], "kwargs": kwargs})
                else:
                    operations.append({"op": "search", "args": [QUERY_NAMES], "kwargs": kwargs})
        request, out = root / "request.json", root / "answers.json"
        request.write_text(json.dumps({"dimension": DIMENSION, "gallery": GALLERY, "operations": operations}))
        run_oracle_script("run_database_embeddings.py", [str(request), str(out)], root, timeout=300)
        everything = zip(json.loads(out.read_text()), operations)
        answers = iter(answer for answer, op in everything if op["op"] in ("search", "identify"))
        results: Dict[str, List[Tuple[str, Any, Any]]] = {}
        for kind in KINDS:
            results[kind] = []
            for name, kwargs in plans[kind]:
                if name.startswith("identify"):
                    ours = DeepFace.identify(QUERY_NAMES[1], 8, **kwargs)
                else:
                    ours = DeepFace.search(QUERY_NAMES, **kwargs)  # deepface's shape: one list per face
                results[kind].append((name, next(answers), ours))
    return results


@pytest.mark.parametrize("kind", KINDS)
def test_each_package_searches_what_the_other_registered(shared: Dict[str, Any], kind: str) -> None:
    for name, theirs, ours in shared[kind]:
        if name.startswith("identify"):
            assert ours["distance"] == pytest.approx(theirs["distance"], abs=DISTANCE_TOLERANCE), name
            for key in ("verified", "threshold", "model", "similarity_metric", "id", "img_name"):
                assert ours[key] == theirs[key], f"{name}: {key}"
        else:
            assert_same_search(theirs, ours, f"{kind} {name}")


def assert_same_search(theirs: List[List[Dict[str, Any]]], ours: List[List[Dict[str, Any]]], name: str) -> None:
    """Same rows for every query face that has any (deepface drops a face without hits from
    an ann answer; this package keeps its empty list), same keys, ids, names and distances."""
    theirs, ours = [rows for rows in theirs if rows], [rows for rows in ours if rows]
    assert theirs, f"{name}: deepface found nothing (the test would prove nothing)"
    assert len(ours) == len(theirs), f"{name}: {len(ours)} faces with hits, deepface {len(theirs)}"
    for face, (their_rows, our_rows) in enumerate(zip(theirs, ours)):
        where = f"{name} face {face}"
        assert [list(row) for row in our_rows] == [list(row) for row in their_rows], f"{where}: keys"
        assert [(r["id"], r["img_name"]) for r in our_rows] == [(r["id"], r["img_name"]) for r in their_rows], where
        for their_row, our_row in zip(their_rows, our_rows):
            for key, value in their_row.items():
                if key in ("distance", "confidence"):
                    tolerance = DISTANCE_TOLERANCE if key == "distance" else CONFIDENCE_TOLERANCE
                    assert our_row[key] == pytest.approx(value, abs=tolerance), f"{where}: {key}"
                else:
                    assert our_row[key] == value, f"{where}: {key}"


def test_the_stranger_matches_nothing_within_the_threshold(shared: Dict[str, Any]) -> None:
    for kind in KINDS:
        name, _, ours = shared[kind][2]  # euclidean, within the threshold, on theirs
        assert "euclidean" in name and len(ours) == QUERIES and ours[-1] == [], f"{kind}: {ours[-1]}"
        assert all(rows and rows[0]["img_name"] == STORED[i * 7] for i, rows in enumerate(ours[:-1])), kind


# ---------------------------------------------------------------- faults


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed when the probe closes: nothing listens


def unreachable(kind: str, port: int, password: str) -> Any:
    if kind == "pgvector":
        return f"postgresql://postgres:{password}@127.0.0.1:{port}/postgres"
    if kind == "mysql":
        return f"mysql://{MYSQL_USER}:{password}@127.0.0.1:{port}/deepface"
    return f"redis://:{password}@127.0.0.1:{port}/0"


@pytest.mark.parametrize("kind", KINDS)
def test_a_server_that_is_down_is_a_typed_error_naming_type_and_host(kind: str) -> None:
    password = "never-shown-secret"
    started = time.monotonic()
    with pytest.raises(DatabaseConnectionError) as caught:
        connect(kind, unreachable(kind, closed_port(), password))
    assert time.monotonic() - started < CONNECT_TIMEOUT_S + 5
    message = str(caught.value)
    assert kind in message and "127.0.0.1" in message and password not in message, message


@pytest.mark.parametrize("kind", ["mysql", "redis"])
def test_a_wrong_password_is_a_typed_error_without_the_password(database_servers: Any, kind: str) -> None:  # noqa: F811
    server = database_servers.server(kind)
    wrong = "wrong-" + PASSWORD[::-1]
    details = unreachable(kind, server.port, wrong)
    for given in (details, {**server.details(), "password": wrong} if kind == "mysql" else details):
        with pytest.raises(DatabaseConnectionError) as caught:
            connect(kind, given)
        message = str(caught.value)
        assert kind in message and "127.0.0.1" in message and wrong not in message, message


def stored_rows(kind: str, details: Any, l2_normalize: bool = False) -> List[Any]:
    client = connect(kind, details)
    try:
        return client.fetch_all(Criteria(MODEL, "opencv", True, l2_normalize))
    finally:
        client.close()


@pytest.fixture
def small_database(  # noqa: F811
    database_servers: Any, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Tuple[str, Any]:
    """(kind, details) of a database holding the first 5 stored images."""
    kind = request.param
    details = database_servers.fresh(kind, "faults")
    patch_embeddings(monkeypatch, GALLERY)
    DeepFace.register(STORED[:5], **COMMON, **database(kind, details))
    return kind, details


@pytest.mark.parametrize("small_database", KINDS, indirect=True)
def test_a_failed_batch_leaves_none_of_its_rows(small_database: Tuple[str, Any]) -> None:
    kind, details = small_database
    before = stored_rows(kind, details)
    batch = STORED[10:20] + [STORED[3]]  # the last face is stored already: the batch fails
    with pytest.raises(DuplicateEntryError, match=STORED[3]):
        DeepFace.register(batch, **COMMON, **database(kind, details))
    after = stored_rows(kind, details)
    assert [row.id for row in after] == [row.id for row in before]


@pytest.mark.parametrize("small_database", KINDS, indirect=True)
def test_embeddings_of_another_length_are_refused_before_writing(
    small_database: Tuple[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    kind, details = small_database
    rng = np.random.default_rng(3)
    wrong = {f"short_{i}.jpg": [face_of(rng, i, rng.normal(size=DIMENSION // 2))] for i in range(3)}
    patch_embeddings(monkeypatch, {**GALLERY, **wrong})
    with pytest.raises(EmbeddingSizeMismatch, match=f"length {DIMENSION}, not {DIMENSION // 2}"):
        DeepFace.register(sorted(wrong), **COMMON, **database(kind, details))
    with pytest.raises(EmbeddingSizeMismatch, match=r"lengths \[64, 128\] in one batch"):
        DeepFace.register(STORED[20:22] + sorted(wrong), **COMMON, **database(kind, details))
    assert len(stored_rows(kind, details)) == 5 + 2  # the first two stored images have two faces


THREADS = 8
PER_THREAD = 6


@pytest.mark.parametrize("small_database", KINDS, indirect=True)
def test_eight_threads_register_and_search_at_once(
    small_database: Tuple[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    kind, details = small_database
    rng = np.random.default_rng(11)
    names = [[f"thread{t}_{i}.jpg" for i in range(PER_THREAD)] for t in range(THREADS)]
    extra = {name: [face_of(rng, 500 + t * 10 + i, rng.normal(size=DIMENSION))]
             for t, group in enumerate(names) for i, name in enumerate(group)}  # fmt: skip
    patch_embeddings(monkeypatch, {**GALLERY, **extra})
    errors: List[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def work(group: List[str]) -> None:
        try:
            barrier.wait()
            for half in (group[: PER_THREAD // 2], group[PER_THREAD // 2 :]):
                DeepFace.register(half, **COMMON, **database(kind, details))
                found = DeepFace.search(half[:1], **COMMON, **database(kind, details), return_type="dict")
                assert found[0][0]["img_name"] == half[0]
        except BaseException as error:  # pylint: disable=broad-except
            errors.append(error)

    threads = [threading.Thread(target=work, args=(group,)) for group in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    rows = stored_rows(kind, details)
    assert len({row.id for row in rows}) == len(rows) == 7 + THREADS * PER_THREAD
    assert sorted(row.img_name for row in rows if row.img_name.startswith("thread")) == sorted(sum(names, []))


@pytest.mark.parametrize("small_database", ["pgvector"], indirect=True)
def test_build_index_on_pgvector_creates_deepfaces_hnsw_index(small_database: Tuple[str, Any]) -> None:
    import psycopg

    kind, details = small_database
    table = "embeddings_facenet_opencv_aligned_raw"
    listing = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexdef LIKE '%%hnsw%%'"
    with psycopg.connect(details) as conn:
        assert conn.execute(listing, (table,)).fetchall() == []  # exact search until an index is built
    DeepFace.build_index(**COMMON, **database(kind, details))
    DeepFace.build_index(**COMMON, **database(kind, details))  # once only
    with psycopg.connect(details) as conn:
        ((name, definition),) = conn.execute(listing, (table,)).fetchall()
    assert name == f"{table}_euclidean_idx" and "vector_l2_ops" in definition
    found = DeepFace.search(STORED[2:3], **COMMON, **database(kind, details), search_method="ann", return_type="dict")
    assert found[0][0]["img_name"] == STORED[2]
