"""MySQL / MariaDB through PyMySQL, with deepface 0.0.103's tables, so a database filled by
either package is searched by the other: ``embeddings`` (one row per face, every criteria
set in one table; the embedding as little-endian float64 bytes), ``embeddings_index`` and
``embeddings_index_chunks`` (the faiss index, in chunks under ``max_allowed_packet``).

A batch is one transaction (multi-row ``INSERT`` statements), rolled back whole when it
fails; a search reads every embedding of a criteria set in one ``SELECT``.
"""

from typing import Any, Dict, List, Optional, Sequence, Set, Tuple
from urllib.parse import unquote, urlparse

import numpy as np

from deepface.commons.exceptions import DatabaseConnectionError, MissingDependencyError
from deepface.commons.logger import get_logger
from deepface.modules.database.types import (
    CONNECT_TIMEOUT_S,
    Criteria,
    Database,
    NewEmbedding,
    StoredEmbedding,
    connection_error,
    duplicate_error,
    embedding_length,
    find_duplicates,
    group_by_criteria,
    index_not_found,
)

logger = get_logger(__name__)

DATABASE_TYPE = "mysql"
EMBEDDING_DTYPE = "<f8"
DUPLICATE_ENTRY = 1062  # MySQL's ER_DUP_ENTRY
#: Bytes of the faiss index per row of ``embeddings_index_chunks``.
INDEX_CHUNK_BYTES = 1024 * 1024
#: Ids per ``IN (...)`` list.
IDS_PER_QUERY = 500

CREATE_TABLES = (
    """
    CREATE TABLE IF NOT EXISTS embeddings (
        id BIGINT AUTO_INCREMENT PRIMARY KEY,
        img_name TEXT NOT NULL,
        face LONGBLOB NOT NULL,
        face_shape VARCHAR(64) NOT NULL,
        model_name VARCHAR(100) NOT NULL,
        detector_backend VARCHAR(100) NOT NULL,
        aligned BOOLEAN DEFAULT TRUE,
        l2_normalized BOOLEAN DEFAULT FALSE,
        embedding MEDIUMBLOB NOT NULL,
        created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
        face_hash CHAR(64) NOT NULL,
        embedding_hash CHAR(64) NOT NULL,
        UNIQUE KEY uq_embeddings_face_embedding (face_hash, embedding_hash),
        KEY ix_embeddings_criteria (model_name, detector_backend, aligned, l2_normalized, id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
    """,
    """
    CREATE TABLE IF NOT EXISTS embeddings_index (
        id INT AUTO_INCREMENT PRIMARY KEY,
        model_name VARCHAR(100) NOT NULL,
        detector_backend VARCHAR(100) NOT NULL,
        align BOOLEAN NOT NULL,
        l2_normalized BOOLEAN NOT NULL,
        created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
        updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
        UNIQUE KEY uq_embeddings_index_config (model_name, detector_backend, align, l2_normalized)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
    """,
    """
    CREATE TABLE IF NOT EXISTS embeddings_index_chunks (
        index_id INT NOT NULL,
        chunk INT NOT NULL,
        data MEDIUMBLOB NOT NULL,
        PRIMARY KEY (index_id, chunk),
        CONSTRAINT fk_embeddings_index_chunks FOREIGN KEY (index_id)
            REFERENCES embeddings_index (id) ON DELETE CASCADE
    ) ENGINE=InnoDB
    """,
)
INSERT_EMBEDDINGS = (
    "INSERT INTO embeddings (img_name, face, face_shape, model_name, detector_backend, aligned, "
    "l2_normalized, embedding, face_hash, embedding_hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
INSERT_INDEX_CHUNK = "INSERT INTO embeddings_index_chunks (index_id, chunk, data) VALUES (%s, %s, %s)"
CRITERIA_FILTER = "model_name = %s AND detector_backend = %s AND aligned = %s AND l2_normalized = %s"


def import_pymysql() -> Any:
    try:
        import pymysql  # pylint: disable=import-outside-toplevel
    except ImportError as error:
        raise MissingDependencyError("database_type='mysql' needs PyMySQL: pip install deepface[mysql]") from error
    return pymysql


def connect_options(details: Any) -> Dict[str, Any]:
    """PyMySQL ``connect`` keywords: a dict as given, or parsed from ``mysql://user:password@host:port/db``."""
    if isinstance(details, dict) and details:
        return dict(details)
    if isinstance(details, str) and details:
        parsed = urlparse(details)
        if parsed.scheme != "mysql":
            raise DatabaseConnectionError(f"a mysql URI starts with mysql://, not {parsed.scheme or '(none)'}://")
        options: Dict[str, Any] = {"host": parsed.hostname or "localhost"}
        if parsed.port:
            options["port"] = parsed.port
        if parsed.username:
            options["user"] = unquote(parsed.username)
        if parsed.password:
            options["password"] = unquote(parsed.password)
        if parsed.path.strip("/"):
            options["database"] = parsed.path.strip("/")
        return options
    raise DatabaseConnectionError(
        "mysql connection_details must be a mysql:// URI or a dict of pymysql.connect keywords, "
        f"not {type(details).__name__}"
    )


def criteria_values(criteria: Criteria) -> Tuple[str, str, bool, bool]:
    return (criteria.model_name, criteria.detector_backend, criteria.aligned, criteria.l2_normalized)


def row_of(record: NewEmbedding) -> Tuple[Any, ...]:
    shape = "[" + ", ".join(str(int(side)) for side in record.face.shape) + "]"  # deepface's json.dumps
    embedding = np.asarray(record.embedding, dtype=EMBEDDING_DTYPE).tobytes()
    return (record.img_name, record.face_bytes, shape, *criteria_values(record.criteria), embedding,
            record.face_hash, record.embedding_hash)  # fmt: skip


def as_id(identity_id: Any) -> Optional[int]:
    try:
        return int(identity_id)
    except (TypeError, ValueError):
        return None


class MysqlDatabase(Database):
    """A MySQL or MariaDB database (``connection_details``: a ``mysql://`` URI or PyMySQL
    ``connect`` keywords; ``DEEPFACE_MYSQL_URI`` otherwise)."""

    def __init__(self, connection_details: Any = None, connection: Any = None) -> None:
        self.pymysql = import_pymysql()
        self.owns_connection = connection is None
        self.conn = connection if connection is not None else self._connect(connection_details)
        with self.conn.cursor() as cur:
            for statement in CREATE_TABLES:
                cur.execute(statement)
        self.conn.commit()

    def _connect(self, details: Any) -> Any:
        options = connect_options(details)
        host = f"{options.get('host', 'localhost')}:{options.get('port', 3306)}"
        try:
            return self.pymysql.connect(**{"connect_timeout": CONNECT_TIMEOUT_S, **options})
        except self.pymysql.err.Error as error:
            raise connection_error(DATABASE_TYPE, host, error, options.get("password")) from None

    def close(self) -> None:
        if self.owns_connection:
            self.conn.close()

    def _query(self, query: str, params: Sequence[Any] = ()) -> List[Tuple[Any, ...]]:
        """Rows of one read, its transaction ended (a later read sees newer rows)."""
        try:
            with self.conn.cursor() as cur:
                cur.execute(query, params)
                rows = list(cur.fetchall())
        except BaseException:
            self.conn.rollback()
            raise
        self.conn.commit()
        return rows

    def _stored_length(self, criteria: Criteria) -> Optional[int]:
        rows = self._query(f"SELECT LENGTH(embedding) FROM embeddings WHERE {CRITERIA_FILTER} LIMIT 1",
                           criteria_values(criteria))  # fmt: skip
        return int(rows[0][0]) // np.dtype(EMBEDDING_DTYPE).itemsize if rows else None

    def insert(self, records: Sequence[NewEmbedding]) -> int:
        if not records:
            return 0
        for criteria, group in group_by_criteria(records).items():
            embedding_length(group, self._stored_length(criteria), f"mysql rows of {criteria.describe()}")
        try:
            with self.conn.cursor() as cur:
                cur.executemany(INSERT_EMBEDDINGS, [row_of(record) for record in records])
            self.conn.commit()
        except self.pymysql.err.IntegrityError as error:
            self.conn.rollback()
            if not error.args or error.args[0] != DUPLICATE_ENTRY:
                raise
            if len(records) == 1:  # deepface: one duplicate face is skipped with a warning
                logger.warning("face of %r is already registered: skipped", records[0].img_name)
                return 0
            raise duplicate_error(find_duplicates(records, self._stored_keys(records))) from error
        except BaseException:
            self.conn.rollback()
            raise
        return len(records)

    def _stored_keys(self, records: Sequence[NewEmbedding]) -> Set[Tuple[str, str]]:
        hashes = sorted({record.face_hash for record in records})
        placeholders = ", ".join(["%s"] * len(hashes))
        query = f"SELECT face_hash, embedding_hash FROM embeddings WHERE face_hash IN ({placeholders})"
        rows = self._query(query, hashes)
        return {(row[0], row[1]) for row in rows}

    def fetch_all(self, criteria: Criteria) -> List[StoredEmbedding]:
        rows = self._query(f"SELECT id, img_name, embedding FROM embeddings WHERE {CRITERIA_FILTER} ORDER BY id",
                           criteria_values(criteria))  # fmt: skip
        if not rows:
            return []
        matrix = np.frombuffer(b"".join(row[2] for row in rows), dtype=EMBEDDING_DTYPE).reshape(len(rows), -1)
        return [StoredEmbedding(id=row[0], img_name=row[1], embedding=vector, criteria=criteria)
                for row, vector in zip(rows, matrix)]  # fmt: skip

    def fetch_one(self, identity_id: Any, criteria: Criteria) -> Optional[StoredEmbedding]:
        identity = as_id(identity_id)
        if identity is None:
            return None
        rows = self._query(
            "SELECT id, img_name, model_name, detector_backend, aligned, l2_normalized, embedding "
            "FROM embeddings WHERE id = %s",
            (identity,),
        )
        if not rows:
            return None
        row = rows[0]
        stored = Criteria(row[2], row[3], bool(row[4]), bool(row[5]))
        vector = np.frombuffer(row[6], dtype=EMBEDDING_DTYPE).tolist()
        return StoredEmbedding(id=row[0], img_name=row[1], embedding=vector, criteria=stored)

    def names_by_id(self, ids: Sequence[Any]) -> Dict[Any, str]:
        wanted = sorted({int(identity) for identity in ids})
        names: Dict[Any, str] = {}
        for start in range(0, len(wanted), IDS_PER_QUERY):
            chunk = wanted[start : start + IDS_PER_QUERY]
            placeholders = ", ".join(["%s"] * len(chunk))
            names.update(self._query(f"SELECT id, img_name FROM embeddings WHERE id IN ({placeholders})", chunk))
        return names

    def load_index(self, criteria: Criteria) -> bytes:
        rows = self._query(
            "SELECT c.data FROM embeddings_index i JOIN embeddings_index_chunks c ON c.index_id = i.id "
            "WHERE i.model_name = %s AND i.detector_backend = %s AND i.align = %s AND i.l2_normalized = %s "
            "ORDER BY c.chunk",
            criteria_values(criteria),
        )
        if not rows:
            raise index_not_found(criteria)
        return b"".join(bytes(row[0]) for row in rows)

    def save_index(self, criteria: Criteria, index_data: bytes) -> None:
        """Replace the index of ``criteria`` in one transaction: readers see the old one or the new one."""
        try:
            with self.conn.cursor() as cur:
                cur.execute(
                    "INSERT INTO embeddings_index (model_name, detector_backend, align, l2_normalized) "
                    "VALUES (%s, %s, %s, %s) "
                    "ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id), updated_at = CURRENT_TIMESTAMP",
                    criteria_values(criteria),
                )
                index_id = cur.lastrowid
                cur.execute("DELETE FROM embeddings_index_chunks WHERE index_id = %s", (index_id,))
                chunks = [(index_id, number, index_data[start : start + INDEX_CHUNK_BYTES])
                          for number, start in enumerate(range(0, len(index_data), INDEX_CHUNK_BYTES))]  # fmt: skip
                for chunk in chunks:  # one statement per chunk: each stays under max_allowed_packet
                    cur.execute(INSERT_INDEX_CHUNK, chunk)
            self.conn.commit()
        except BaseException:
            self.conn.rollback()
            raise


#: deepface 0.0.103's names for the client and its statements.
MySqlClient = MysqlDatabase
CREATE_EMBEDDINGS_TABLE_SQL, CREATE_EMBEDDINGS_INDEX_TABLE_SQL, CREATE_EMBEDDINGS_INDEX_CHUNKS_TABLE_SQL = CREATE_TABLES
