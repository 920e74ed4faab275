"""SQLite (standard library): deepface 0.0.103's ``embeddings`` and ``embeddings_index``
tables, column for column, so a file written by either package is read by the other."""

import json
import sqlite3
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

import numpy as np

from deepface.commons.exceptions import DatabaseConnectionError
from deepface.commons.logger import get_logger
from deepface.modules.database.types import (
    Criteria,
    Database,
    NewEmbedding,
    StoredEmbedding,
    duplicate_error,
    find_duplicates,
    index_not_found,
)

logger = get_logger(__name__)

#: Host parameters per statement stay well under SQLite's limit (999 on old builds).
IDS_PER_QUERY = 500

# AUTOINCREMENT: ids of deleted rows are never reused (a faiss index refers to them).
CREATE_TABLES = (
    """
    CREATE TABLE IF NOT EXISTS embeddings (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        img_name TEXT NOT NULL,
        face BLOB NOT NULL,
        face_shape TEXT NOT NULL,
        model_name TEXT NOT NULL,
        detector_backend TEXT NOT NULL,
        aligned INTEGER DEFAULT 1,
        l2_normalized INTEGER DEFAULT 0,
        embedding BLOB NOT NULL,
        created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
        face_hash TEXT NOT NULL,
        embedding_hash TEXT NOT NULL,
        UNIQUE (face_hash, embedding_hash)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS embeddings_index (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        model_name TEXT,
        detector_backend TEXT,
        align INTEGER,
        l2_normalized INTEGER,
        index_data BLOB,
        created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
        updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
        UNIQUE (model_name, detector_backend, align, l2_normalized)
    )
    """,
)

INSERT_EMBEDDING = """
    INSERT INTO embeddings (img_name, face, face_shape, model_name, detector_backend, aligned,
                            l2_normalized, embedding, face_hash, embedding_hash)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""

CRITERIA_FILTER = "model_name = ? AND detector_backend = ? AND aligned = ? AND l2_normalized = ?"


def decode_embedding(blob: bytes) -> List[float]:
    """Embeddings are stored as little-endian float64 bytes (lossless)."""
    return np.frombuffer(blob, dtype="<f8").tolist()


def encode_embedding(embedding: Sequence[float]) -> bytes:
    return np.asarray(embedding, dtype="<f8").tobytes()


def criteria_values(criteria: Criteria) -> Tuple[str, str, int, int]:
    return (criteria.model_name, criteria.detector_backend, int(criteria.aligned), int(criteria.l2_normalized))


def row_of(record: NewEmbedding) -> Tuple[Any, ...]:
    return (
        record.img_name,
        record.face_bytes,
        json.dumps(list(record.face.shape)),
        *criteria_values(record.criteria),
        encode_embedding(record.embedding),
        record.face_hash,
        record.embedding_hash,
    )


class SqliteDatabase(Database):
    """A SQLite file (``connection_details``: its path, or ``sqlite3.connect`` keywords)."""

    def __init__(self, connection_details: Any = None, connection: Optional[sqlite3.Connection] = None) -> None:
        self.owns_connection = connection is None
        self.conn = connection if connection is not None else self._connect(connection_details)
        with self.conn:
            for statement in CREATE_TABLES:
                self.conn.execute(statement)

    @staticmethod
    def _connect(details: Any) -> sqlite3.Connection:
        if isinstance(details, str) and details:
            return sqlite3.connect(details)
        if isinstance(details, dict):
            return sqlite3.connect(**details)
        raise DatabaseConnectionError(
            f"sqlite connection_details must be a file path or a dict of sqlite3.connect keywords, not {details!r}"
        )

    def close(self) -> None:
        if self.owns_connection:
            self.conn.close()

    def insert(self, records: Sequence[NewEmbedding]) -> int:
        try:
            with self.conn:  # one transaction: all rows or none
                self.conn.executemany(INSERT_EMBEDDING, [row_of(record) for record in records])
        except sqlite3.IntegrityError as error:
            if "UNIQUE" not in str(error):
                raise
            if len(records) == 1:  # deepface: one duplicate face is skipped with a warning
                logger.warning("face of %r is already registered: skipped", records[0].img_name)
                return 0
            raise duplicate_error(find_duplicates(records, self._stored_keys(records))) from error
        return len(records)

    def _stored_keys(self, records: Sequence[NewEmbedding]) -> Set[Tuple[str, str]]:
        hashes = sorted({record.face_hash for record in records})
        keys: Set[Tuple[str, str]] = set()
        for start in range(0, len(hashes), IDS_PER_QUERY):
            chunk = hashes[start : start + IDS_PER_QUERY]
            marks = ", ".join("?" for _ in chunk)
            query = f"SELECT face_hash, embedding_hash FROM embeddings WHERE face_hash IN ({marks})"
            keys.update(tuple(row) for row in self.conn.execute(query, chunk))
        return keys

    def fetch_all(self, criteria: Criteria) -> List[StoredEmbedding]:
        query = f"SELECT id, img_name, embedding FROM embeddings WHERE {CRITERIA_FILTER} ORDER BY id"
        return [
            StoredEmbedding(id=row[0], img_name=row[1], embedding=decode_embedding(row[2]), criteria=criteria)
            for row in self.conn.execute(query, criteria_values(criteria))
        ]

    def fetch_one(self, identity_id: Any, criteria: Criteria) -> Optional[StoredEmbedding]:
        query = (
            "SELECT id, img_name, model_name, detector_backend, aligned, l2_normalized, embedding "
            "FROM embeddings WHERE id = ?"
        )
        row = self.conn.execute(query, (identity_id,)).fetchone()
        if row is None:
            return None
        stored = Criteria(model_name=row[2], detector_backend=row[3], aligned=bool(row[4]), l2_normalized=bool(row[5]))
        return StoredEmbedding(id=row[0], img_name=row[1], embedding=decode_embedding(row[6]), criteria=stored)

    def names_by_id(self, ids: Sequence[Any]) -> Dict[Any, str]:
        names: Dict[Any, str] = {}
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), IDS_PER_QUERY):
            chunk = unique[start : start + IDS_PER_QUERY]
            marks = ", ".join("?" for _ in chunk)
            names.update(self.conn.execute(f"SELECT id, img_name FROM embeddings WHERE id IN ({marks})", chunk))
        return names

    def load_index(self, criteria: Criteria) -> bytes:
        query = (
            "SELECT index_data FROM embeddings_index "
            "WHERE model_name = ? AND detector_backend = ? AND align = ? AND l2_normalized = ?"
        )
        row = self.conn.execute(query, criteria_values(criteria)).fetchone()
        if row is None:
            raise index_not_found(criteria)
        return bytes(row[0])

    def save_index(self, criteria: Criteria, index_data: bytes) -> None:
        query = """
            INSERT INTO embeddings_index (model_name, detector_backend, align, l2_normalized, index_data)
            VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (model_name, detector_backend, align, l2_normalized)
            DO UPDATE SET index_data = excluded.index_data, updated_at = CURRENT_TIMESTAMP
        """
        with self.conn:
            self.conn.execute(query, (*criteria_values(criteria), sqlite3.Binary(index_data)))

#: deepface 0.0.103's name for this client.
SqliteClient = SqliteDatabase
#: deepface's names for the two table definitions.
CREATE_EMBEDDINGS_TABLE_SQL, CREATE_EMBEDDINGS_INDEX_TABLE_SQL = CREATE_TABLES
