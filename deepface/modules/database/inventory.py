"""Every ``database_type`` deepface 0.0.103 accepts, and how to connect to those this
package provides.

``postgres`` is deepface's default. When no PostgreSQL is configured (no ``connection``,
no ``connection_details``, no ``DEEPFACE_POSTGRES_URI``), the embedded SQLite file
``$DEEPFACE_HOME/.deepface/embeddings.sqlite`` is used instead, so ``register`` then
``search`` work with no server and no configuration. ``sqlite`` with no path uses the same file.
"""

import importlib
import os
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

from deepface.commons.exceptions import DatabaseConnectionError, DatabaseNotAvailable, UnknownDatabaseType
from deepface.commons.folder_utils import get_deepface_home
from deepface.commons.logger import get_logger
from deepface.modules.database.types import Database
from deepface.options.verbs import DEFAULT_DATABASE  # noqa: F401 (written once, in the options table)

logger = get_logger(__name__)

DEFAULT_SQLITE_FILE = "embeddings.sqlite"


@dataclass(frozen=True)
class DatabaseSpec:
    """One of deepface's database types. ``client`` ("module:Class") is None where this
    package does not provide it yet. ``builds_index``: a vector database whose approximate
    index ``build_index`` creates (``Database.build_native_index``); the others index by themselves."""

    environment_variable: str
    is_vector_db: bool = False
    is_graph_db: bool = False
    client: Optional[str] = None
    builds_index: bool = False


_PACKAGE = "deepface.modules.database"

DATABASES: Dict[str, DatabaseSpec] = {
    "postgres": DatabaseSpec("DEEPFACE_POSTGRES_URI", client=f"{_PACKAGE}.postgres:PostgresDatabase"),
    "sqlite": DatabaseSpec("DEEPFACE_SQLITE_PATH", client=f"{_PACKAGE}.sqlite:SqliteDatabase"),
    "qdrant": DatabaseSpec("DEEPFACE_QDRANT_URI", is_vector_db=True, client=f"{_PACKAGE}.qdrant:QdrantDatabase"),
    "milvus": DatabaseSpec("DEEPFACE_MILVUS_URI", is_vector_db=True, client=f"{_PACKAGE}.milvus:MilvusDatabase"),
    "mongo": DatabaseSpec("DEEPFACE_MONGO_URI"),
    "weaviate": DatabaseSpec("DEEPFACE_WEAVIATE_URI", is_vector_db=True),
    "neo4j": DatabaseSpec("DEEPFACE_NEO4J_URI", is_vector_db=True, is_graph_db=True),
    "pgvector": DatabaseSpec(
        "DEEPFACE_POSTGRES_URI", is_vector_db=True, client=f"{_PACKAGE}.pgvector:PgvectorDatabase", builds_index=True
    ),
    "pinecone": DatabaseSpec("DEEPFACE_PINECONE_API_KEY", is_vector_db=True),
    "oracle": DatabaseSpec("DEEPFACE_ORACLE_URI"),
    "mssql": DatabaseSpec("DEEPFACE_MSSQL_URI"),
    "db2": DatabaseSpec("DEEPFACE_DB2_URI"),
    "redis": DatabaseSpec("DEEPFACE_REDIS_URI", client=f"{_PACKAGE}.redis:RedisDatabase"),
    "cassandra": DatabaseSpec("DEEPFACE_CASSANDRA_URI"),
    "mysql": DatabaseSpec("DEEPFACE_MYSQL_URI", client=f"{_PACKAGE}.mysql:MysqlDatabase"),
}

AVAILABLE = tuple(name for name, spec in DATABASES.items() if spec.client is not None)


def spec_of(database_type: Any) -> DatabaseSpec:
    """The spec of an available ``database_type``; a typed error listing the available ones otherwise."""
    available = ", ".join(AVAILABLE)
    spec = DATABASES.get(database_type) if isinstance(database_type, str) else None
    if spec is None:
        raise UnknownDatabaseType(f"unknown database_type {database_type!r}; available: {available}")
    if spec.client is None:
        raise DatabaseNotAvailable(
            f"database_type {database_type!r} is not available in this package yet; available: {available}"
        )
    return spec


def default_sqlite_path() -> str:
    """``$DEEPFACE_HOME/.deepface/embeddings.sqlite``; its folder is created."""
    folder = os.path.join(get_deepface_home(), ".deepface")
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, DEFAULT_SQLITE_FILE)


def resolve(database_type: Any, connection_details: Any, connection: Any) -> Tuple[str, Any]:
    """The backend to use and its connection details (given, else from its environment variable).

    Unconfigured ``postgres`` and ``sqlite`` fall back to the default SQLite file.
    """
    spec = spec_of(database_type)
    details = connection_details or os.environ.get(spec.environment_variable) or None
    if connection is not None or details is not None:
        return database_type, details
    if database_type in ("postgres", "sqlite"):
        path = default_sqlite_path()
        if database_type == "postgres":
            logger.info("no PostgreSQL configured (DEEPFACE_POSTGRES_URI, connection_details or connection): %s", path)
        return "sqlite", path
    raise DatabaseConnectionError(
        f"database_type {database_type!r} needs connection_details, a connection, or {spec.environment_variable}"
    )


def connect(database_type: Any, connection_details: Any = None, connection: Any = None) -> Database:
    """A connected client for ``database_type`` (deepface's rules for the connection)."""
    backend, details = resolve(database_type, connection_details, connection)
    module_name, class_name = DATABASES[backend].client.split(":")  # type: ignore[union-attr]
    client_class = getattr(importlib.import_module(module_name), class_name)
    return client_class(connection_details=details, connection=connection)


def is_vector_db(database_type: str) -> bool:
    return spec_of(database_type).is_vector_db
