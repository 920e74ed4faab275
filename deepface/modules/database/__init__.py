"""Face databases for ``register``, ``search``, ``identify`` and ``build_index``: one
module per backend (``sqlite``, ``postgres``, ``qdrant``, ``milvus``), the interface
they share (``types``), and the names deepface accepts (``inventory``)."""

from deepface.modules.database.inventory import (
    AVAILABLE,
    DATABASES,
    MilvusClient,
    PostgresClient,
    QdrantClient,
    SqliteClient,
    connect,
    database_inventory,
)
from deepface.modules.database.types import Database

__all__ = [
    "AVAILABLE", "DATABASES", "Database", "MilvusClient", "PostgresClient", "QdrantClient", "SqliteClient",
    "connect", "database_inventory",
]
