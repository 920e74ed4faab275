"""Every ``database_type`` deepface 0.0.103 accepts, and how to connect to those this
package provides.

``postgres`` is deepface's default; with no PostgreSQL configured (no ``connection``, no
``connection_details``, no ``DEEPFACE_POSTGRES_URI``) it raises a ``ValueError`` as
deepface does. ``sqlite`` with no path uses ``$DEEPFACE_HOME/.deepface/embeddings.sqlite``
(deepface raises there too), so ``register`` then ``search`` work with no server.

``database_inventory`` is deepface's table of the same types (``is_vector_db``,
``is_graph_db``, ``connection_string``, ``client``); a client written for deepface (a
subclass of ``types.Database`` with deepface's methods) added to it under a new name is
used by ``register``, ``search``, ``identify`` and ``build_index`` for that
``database_type``.
"""

import importlib
import os
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple, Type

from deepface.commons.exceptions import DatabaseConnectionError, DatabaseNotAvailable, UnknownDatabaseType
from deepface.commons.folder_utils import get_deepface_home
from deepface.commons.logger import get_logger
from deepface.modules.database.milvus import MilvusClient  # noqa: F401 (deepface's names, offered here too)
from deepface.modules.database.postgres import PostgresClient  # noqa: F401
from deepface.modules.database.qdrant import QdrantClient  # noqa: F401
from deepface.modules.database.sqlite import SqliteClient  # noqa: F401
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


class UnavailableClient(Database):
    """The ``client`` of ``database_inventory`` for a type this package does not provide:
    constructing it raises ``DatabaseNotAvailable``."""

    database_type = ""

    def __init__(self, connection_details: Any = None, connection: Any = None) -> None:
        super().__init__(connection_details, connection)
        spec_of(self.database_type)  # raises, naming the available types

    def close(self) -> None:
        """Nothing was opened."""


def client_class(database_type: str) -> Type[Database]:
    """The client class of one of deepface's types (its ``Unavailable`` stand-in if absent)."""
    spec = DATABASES[database_type]
    if spec.client is None:
        name = "".join(part.title() for part in database_type.split("_")) + "Unavailable"
        return type(name, (UnavailableClient,), {"database_type": database_type, "__module__": __name__})
    module_name, class_name = spec.client.split(":")
    return getattr(importlib.import_module(module_name), class_name)


def inventory_entry(database_type: str) -> Dict[str, Any]:
    spec = DATABASES[database_type]
    return {
        "is_vector_db": spec.is_vector_db,
        "is_graph_db": spec.is_graph_db,
        "connection_string": spec.environment_variable,
        "client": client_class(database_type),
    }


#: deepface's ``database_inventory``: every type by name, with its client class.
database_inventory: Dict[str, Dict[str, Any]] = {name: inventory_entry(name) for name in DATABASES}


#: The client of each built-in type, to tell a user's own client from it.
BUILTIN_CLIENTS = {name: entry["client"] for name, entry in database_inventory.items()}


def added_client(database_type: Any) -> Optional[Type[Database]]:
    """The client a user put into ``database_inventory`` (under a new name, or over one of
    the built-in types); None for the built-in ones."""
    entry = database_inventory.get(database_type) if isinstance(database_type, str) else None
    if entry is None or entry["client"] is BUILTIN_CLIENTS.get(database_type):
        return None
    return entry["client"]


def spec_of(database_type: Any) -> DatabaseSpec:
    """The spec of an available ``database_type``; a typed error listing the available ones otherwise."""
    available = ", ".join(AVAILABLE)
    client = added_client(database_type)
    if client is not None:
        entry = database_inventory[database_type]
        module = getattr(client, "__module__", "")
        return DatabaseSpec(entry["connection_string"], bool(entry["is_vector_db"]), bool(entry["is_graph_db"]),
                            client=f"{module}:{client.__qualname__}")  # fmt: skip
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
    if database_type == "sqlite":
        return "sqlite", default_sqlite_path()
    raise DatabaseConnectionError(
        f"{database_type} connection information not found: provide connection_details or a connection, "
        f"or set the {spec.environment_variable} environment variable"
    )


def connect(database_type: Any, connection_details: Any = None, connection: Any = None) -> Database:
    """A connected client for ``database_type`` (deepface's rules for the connection); a
    client added to ``database_inventory`` gets the arguments as given, as in deepface."""
    added = added_client(database_type)
    if added is not None:
        return added(connection_details=connection_details, connection=connection)
    backend, details = resolve(database_type, connection_details, connection)
    return client_class(backend)(connection_details=details, connection=connection)


def is_vector_db(database_type: str) -> bool:
    return spec_of(database_type).is_vector_db
