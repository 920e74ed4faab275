"""The face database API's names and bad inputs: every name deepface accepts maps to a
backend or to a typed error listing the available ones; bad arguments fail with a typed
error before any model runs."""

import sys
from pathlib import Path
from typing import Any, Dict

import numpy as np
import pytest

from deepface import DeepFace
from deepface.commons.exceptions import (
    DatabaseConnectionError,
    DatabaseNotAvailable,
    DataTypeError,
    EmptyDatasource,
    MissingDependencyError,
    UnknownDatabaseType,
)
from deepface.modules.database import inventory
from deepface.modules.database.sqlite import SqliteDatabase
from deepface.modules.database.types import Criteria, NewEmbedding
from tests.helpers.oracle import ORACLE_DIR

#: Every database_type deepface 0.0.103 accepts (its datastore's docstring).
DEEPFACE_NAMES = [
    "postgres", "mongo", "weaviate", "neo4j", "pgvector", "pinecone", "milvus", "qdrant",
    "sqlite", "oracle", "mssql", "db2", "redis", "cassandra", "mysql",
]  # fmt: skip
AVAILABLE = {"postgres", "sqlite", "qdrant", "milvus", "pgvector", "redis", "mysql"}
IMAGE = np.zeros((64, 64, 3), dtype=np.uint8)
CRITERIA = Criteria("Dlib", "skip", True, False)


def test_inventory_covers_every_deepface_name() -> None:
    assert set(inventory.DATABASES) == set(DEEPFACE_NAMES)
    assert set(inventory.AVAILABLE) == AVAILABLE
    oracle_inventory = ORACLE_DIR / "deepface" / "modules" / "database" / "inventory.py"
    if oracle_inventory.is_file():  # the names deepface's own inventory holds
        text = oracle_inventory.read_text()
        assert all(f'"{name}":' in text for name in DEEPFACE_NAMES)


@pytest.mark.parametrize("name", sorted(set(DEEPFACE_NAMES) - AVAILABLE))
@pytest.mark.parametrize("call", ["register", "search", "identify", "build_index"])
def test_names_not_provided_yet_raise_a_typed_error_listing_the_available_ones(name: str, call: str) -> None:
    with pytest.raises(DatabaseNotAvailable) as raised:
        run(call, database_type=name)
    message = str(raised.value)
    assert name in message and "not available in this package yet" in message
    assert all(available in message for available in AVAILABLE)


@pytest.mark.parametrize("name", ["postgresql", "", None, 3])
def test_unknown_names_raise_a_typed_error(name: Any) -> None:
    with pytest.raises(UnknownDatabaseType, match="available: postgres, sqlite, qdrant, milvus"):
        run("search", database_type=name)


def run(call: str, **kwargs: Any) -> Any:
    if call == "register":
        return DeepFace.register(IMAGE, **kwargs)
    if call == "search":
        return DeepFace.search(IMAGE, **kwargs)
    if call == "identify":
        return DeepFace.identify(IMAGE, 1, **kwargs)
    return DeepFace.build_index(**kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"search_method": "fuzzy"}, "search_method"),
        ({"distance_metric": "manhattan"}, "distance_metric"),
        ({"k": 0}, "k must be a positive integer"),
        ({"k": -3}, "k must be a positive integer"),
        ({"k": 2.5}, "k must be a positive integer"),
        ({"return_type": "json"}, "return_type"),
    ],
)
def test_bad_search_arguments_raise_value_errors(kwargs: Dict[str, Any], message: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=message):
        DeepFace.search(IMAGE, database_type="sqlite", connection_details=str(tmp_path / "x.sqlite"), **kwargs)


def test_identify_takes_a_single_image(tmp_path: Path) -> None:
    with pytest.raises(DataTypeError, match="single image, but 2"):
        DeepFace.identify([IMAGE, IMAGE], 1, database_type="sqlite", connection_details=str(tmp_path / "x.sqlite"))


def test_register_names_must_match_the_images(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="2 names for 3 images"):
        DeepFace.register([IMAGE] * 3, img_name=["a", "b"], database_type="sqlite")


@pytest.mark.parametrize(
    "database_type, variable",
    [("qdrant", "DEEPFACE_QDRANT_URI"), ("milvus", "DEEPFACE_MILVUS_URI"), ("pgvector", "DEEPFACE_POSTGRES_URI"),
     ("redis", "DEEPFACE_REDIS_URI"), ("mysql", "DEEPFACE_MYSQL_URI")],  # fmt: skip
)
def test_vector_engines_need_connection_information(
    database_type: str, variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(variable, raising=False)
    with pytest.raises(DatabaseConnectionError, match=variable):
        inventory.connect(database_type)


@pytest.mark.parametrize("database_type", ["sqlite", "redis", "mysql", "pgvector"])
def test_wrong_connection_details_type(database_type: str) -> None:
    pytest.importorskip({"sqlite": "sqlite3", "redis": "redis", "mysql": "pymysql", "pgvector": "pgvector"}[database_type])
    with pytest.raises(DatabaseConnectionError, match=f"{database_type} connection_details"):
        inventory.connect(database_type, connection_details=42)


def test_unconfigured_postgres_raises_as_deepface(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """deepface raises ValueError for a postgres with nothing configured; sqlite with no
    path uses a file in DEEPFACE_HOME (deepface raises there too)."""
    monkeypatch.setenv("DEEPFACE_HOME", str(tmp_path))
    monkeypatch.delenv("DEEPFACE_POSTGRES_URI", raising=False)
    monkeypatch.delenv("DEEPFACE_SQLITE_PATH", raising=False)
    with pytest.raises(ValueError, match="postgres connection information not found.*DEEPFACE_POSTGRES_URI"):
        inventory.connect("postgres")
    with pytest.raises(ValueError, match="connection information not found"):
        DeepFace.register(str(tmp_path / "never-read.jpg"))  # before any image is read
    expected = str(tmp_path / ".deepface" / "embeddings.sqlite")
    assert inventory.resolve("sqlite", None, None) == ("sqlite", expected)
    monkeypatch.setenv("DEEPFACE_POSTGRES_URI", "postgresql://nobody@/x")
    assert inventory.resolve("postgres", None, None) == ("postgres", "postgresql://nobody@/x")
    monkeypatch.setenv("DEEPFACE_SQLITE_PATH", str(tmp_path / "mine.sqlite"))
    assert inventory.resolve("sqlite", None, None) == ("sqlite", str(tmp_path / "mine.sqlite"))


@pytest.mark.parametrize(
    "database_type, module, extra",
    [("postgres", "psycopg", "postgres"), ("qdrant", "qdrant_client", "qdrant"), ("milvus", "pymilvus", "milvus")],
)
def test_a_missing_client_library_names_its_extra(
    database_type: str, module: str, extra: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    with pytest.raises(MissingDependencyError, match=rf"pip install deepface\[{extra}\]"):
        inventory.connect(database_type, connection_details="somewhere")


def test_ann_needs_faiss(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "faiss", None)
    with pytest.raises(MissingDependencyError, match=r"pip install deepface\[faiss\]"):
        DeepFace.build_index(database_type="sqlite", connection_details=":memory:")


def test_build_index_of_an_empty_database(tmp_path: Path) -> None:
    database = {"database_type": "sqlite", "connection_details": str(tmp_path / "x.sqlite")}
    with pytest.raises(EmptyDatasource, match="register faces first"):
        DeepFace.build_index(model_name="Dlib", detector_backend="skip", **database)


def test_sqlite_insert_is_one_transaction(tmp_path: Path) -> None:
    """A batch holding a face twice stores nothing and names it."""
    client = SqliteDatabase(str(tmp_path / "x.sqlite"))
    face = np.random.default_rng(0).random((4, 4, 3)).astype(np.float32)
    scales = [("a", 1.0), ("b", 2.0), ("a2", 1.0)]  # a2 repeats a
    records = [NewEmbedding(name, face * scale, [scale, 2.0], CRITERIA) for name, scale in scales]
    try:
        from deepface.commons.exceptions import DuplicateEntryError

        with pytest.raises(DuplicateEntryError, match="'a2'"):
            client.insert(records)
        assert client.fetch_all(CRITERIA) == []
        assert client.insert(records[:2]) == 2
        assert [row.img_name for row in client.fetch_all(CRITERIA)] == ["a", "b"]
        assert client.fetch_all(CRITERIA)[1].embedding == [2.0, 2.0]
    finally:
        client.close()


def test_this_packages_clients_speak_deepfaces_interface(tmp_path: Path) -> None:
    """deepface's names and methods on this package's clients: dict records in and out."""
    from deepface.modules.database import PostgresClient, QdrantClient, SqliteClient, database_inventory
    from deepface.modules.database.postgres import PostgresDatabase

    assert PostgresClient is PostgresDatabase and database_inventory["sqlite"]["client"] is SqliteClient
    assert database_inventory["qdrant"]["client"] is QdrantClient and database_inventory["qdrant"]["is_vector_db"]
    assert database_inventory["postgres"]["connection_string"] == "DEEPFACE_POSTGRES_URI"
    with pytest.raises(DatabaseNotAvailable, match="available: "):
        database_inventory["cassandra"]["client"](connection_details="x")
    client = SqliteClient(connection_details=str(tmp_path / "faces.sqlite"))
    criteria = {"model_name": "Facenet", "detector_backend": "opencv", "aligned": True, "l2_normalized": False}
    face = np.zeros((4, 4, 3), dtype=np.float32)
    rows = [{"id": None, "img_name": f"{n}.jpg", "face": face + n, "embedding": [n, 1.0, 2.0], **criteria} for n in range(3)]
    try:
        client.initialize_database()
        assert client.insert_embeddings(rows, batch_size=2) == 3
        stored = client.fetch_all_embeddings(**criteria)
        assert [(r["img_name"], r["embedding"]) for r in stored] == [(f"{n}.jpg", [n, 1.0, 2.0]) for n in range(3)]
        assert stored[0].keys() >= {"id", "img_name", "embedding", *criteria}
        one = client.fetch_embedding(stored[1]["id"], **criteria)
        assert one is not None and one["img_name"] == "1.jpg" and one["aligned"] is True
        assert client.fetch_embedding(999, **criteria) is None
        assert client.search_by_id([stored[2]["id"]]) == [{"id": stored[2]["id"], "img_name": "2.jpg"}]
        client.upsert_embeddings_index(**criteria, index_data=b"index")
        assert client.get_embeddings_index(**criteria) == b"index"
        with pytest.raises(NotImplementedError):
            client.search_by_vector([0.0, 1.0, 2.0], **criteria)
    finally:
        client.close()
