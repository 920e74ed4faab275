"""PostgreSQL through psycopg 3: deepface 0.0.103's ``embeddings`` and ``embeddings_index``
tables, so a database filled by either package is searched by the other. Rows go in
with ``COPY``, one transaction per call."""

from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

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
    find_duplicates,
    index_not_found,
)

logger = get_logger(__name__)

CREATE_TABLES = (
    """
    CREATE TABLE IF NOT EXISTS embeddings (
        id BIGSERIAL PRIMARY KEY,
        img_name TEXT NOT NULL,
        face BYTEA NOT NULL,
        face_shape INT[] NOT NULL,
        model_name TEXT NOT NULL,
        detector_backend TEXT NOT NULL,
        aligned BOOLEAN DEFAULT true,
        l2_normalized BOOLEAN DEFAULT false,
        embedding FLOAT8[] NOT NULL,
        created_at TIMESTAMPTZ DEFAULT now(),
        face_hash TEXT NOT NULL,
        embedding_hash TEXT NOT NULL,
        UNIQUE (face_hash, embedding_hash)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS embeddings_index (
        id SERIAL PRIMARY KEY,
        model_name TEXT,
        detector_backend TEXT,
        align BOOL,
        l2_normalized BOOL,
        index_data BYTEA,
        created_at TIMESTAMPTZ DEFAULT now(),
        updated_at TIMESTAMPTZ DEFAULT now(),
        UNIQUE (model_name, detector_backend, align, l2_normalized)
    )
    """,
)

COPY_EMBEDDINGS = (
    "COPY embeddings (img_name, face, face_shape, model_name, detector_backend, aligned, "
    "l2_normalized, embedding, face_hash, embedding_hash) FROM STDIN"
)

CRITERIA_FILTER = "model_name = %s AND detector_backend = %s AND aligned = %s AND l2_normalized = %s"
INDEX_FILTER = "model_name = %s AND detector_backend = %s AND align = %s AND l2_normalized = %s"


def import_psycopg(database_type: str = "postgres") -> Any:
    try:
        import psycopg  # pylint: disable=import-outside-toplevel
    except ImportError as error:
        raise MissingDependencyError(
            f"database_type={database_type!r} needs psycopg 3: pip install deepface[{database_type}]"
        ) from error
    return psycopg


def connect_postgres(psycopg: Any, database_type: str, details: Any) -> Any:
    """A psycopg connection from a URI / DSN string or a dict of ``psycopg.connect`` keywords,
    waiting at most ``CONNECT_TIMEOUT_S`` unless they say otherwise; a typed error naming
    ``database_type`` and the host (never the password) when the server refuses."""
    if isinstance(details, str) and details:
        try:
            options = psycopg.conninfo.conninfo_to_dict(details)
        except psycopg.ProgrammingError as error:
            message = f"{database_type} connection_details is not a valid URI / DSN: {error}"
            raise DatabaseConnectionError(message) from None
        extra = {} if "connect_timeout" in options else {"connect_timeout": CONNECT_TIMEOUT_S}
        arguments: Tuple[Any, ...] = (details,)
    elif isinstance(details, dict):
        options, extra, arguments = details, {"connect_timeout": CONNECT_TIMEOUT_S, **details}, ()
    else:
        raise DatabaseConnectionError(
            f"{database_type} connection_details must be a connection URI / DSN string or a dict of "
            f"psycopg.connect keywords, not {type(details).__name__}"
        )
    host = f"{options.get('host') or 'localhost'}:{options.get('port') or 5432}"
    try:
        return psycopg.connect(*arguments, **extra)
    except psycopg.Error as error:
        raise connection_error(database_type, host, error, options.get("password")) from None


def criteria_values(criteria: Criteria) -> Tuple[str, str, bool, bool]:
    return (criteria.model_name, criteria.detector_backend, criteria.aligned, criteria.l2_normalized)


def row_of(record: NewEmbedding) -> Tuple[Any, ...]:
    return (
        record.img_name,
        record.face_bytes,
        [int(side) for side in record.face.shape],
        *criteria_values(record.criteria),
        [float(value) for value in record.embedding],
        record.face_hash,
        record.embedding_hash,
    )


def insert_in_one_transaction(
    psycopg: Any, conn: Any, records: Sequence[NewEmbedding], write: Callable[[Any], None],
    stored_keys: Callable[[], Set[Tuple[str, str]]],
) -> int:
    """``write(cursor)`` in one transaction: all of ``records`` are stored, or none. A face
    already stored is deepface's warning and skip when it is the only one; in a batch it is a
    typed error naming every duplicate (``stored_keys()``: what the database holds of them)."""
    try:
        with conn.cursor() as cur:
            write(cur)
        conn.commit()
    except psycopg.errors.UniqueViolation as error:
        conn.rollback()
        if len(records) == 1:  # deepface: one duplicate face is skipped with a warning
            logger.warning("face of %r is already registered: skipped", records[0].img_name)
            return 0
        raise duplicate_error(find_duplicates(records, stored_keys())) from error
    except BaseException:
        conn.rollback()
        raise
    return len(records)


class PostgresDatabase(Database):
    """A PostgreSQL database (``connection_details``: a URI / DSN string or psycopg
    ``connect`` keywords; ``DEEPFACE_POSTGRES_URI`` otherwise)."""

    def __init__(self, connection_details: Any = None, connection: Any = None) -> None:
        self.psycopg = import_psycopg()
        self.owns_connection = connection is None
        if connection is None:
            connection = connect_postgres(self.psycopg, "postgres", connection_details)
        self.conn = connection
        with self.conn.cursor() as cur:
            for statement in CREATE_TABLES:
                cur.execute(statement)
        self.conn.commit()

    def close(self) -> None:
        if self.owns_connection:
            self.conn.close()

    def insert(self, records: Sequence[NewEmbedding]) -> int:
        def write(cur: Any) -> None:
            with cur.copy(COPY_EMBEDDINGS) as copy:
                for record in records:
                    copy.write_row(row_of(record))

        return insert_in_one_transaction(self.psycopg, self.conn, records, write, lambda: self._stored_keys(records))

    def _stored_keys(self, records: Sequence[NewEmbedding]) -> Set[Tuple[str, str]]:
        hashes = sorted({record.face_hash for record in records})
        with self.conn.cursor() as cur:
            cur.execute("SELECT face_hash, embedding_hash FROM embeddings WHERE face_hash = ANY(%s)", (hashes,))
            keys = {tuple(row) for row in cur.fetchall()}
        self.conn.commit()
        return keys  # type: ignore[return-value]

    def _query(self, query: str, params: Sequence[Any]) -> List[Tuple[Any, ...]]:
        with self.conn.cursor() as cur:
            cur.execute(query, params)
            rows = cur.fetchall()
        self.conn.commit()  # end the read transaction: no idle-in-transaction connection
        return rows

    def fetch_all(self, criteria: Criteria) -> List[StoredEmbedding]:
        rows = self._query(
            f"SELECT id, img_name, embedding FROM embeddings WHERE {CRITERIA_FILTER} ORDER BY id",
            criteria_values(criteria),
        )
        return [StoredEmbedding(id=row[0], img_name=row[1], embedding=row[2], criteria=criteria) for row in rows]

    def fetch_one(self, identity_id: Any, criteria: Criteria) -> Optional[StoredEmbedding]:
        try:
            rows = self._query(
                "SELECT id, img_name, model_name, detector_backend, aligned, l2_normalized, embedding "
                "FROM embeddings WHERE id = %s",
                (identity_id,),
            )
        except (self.psycopg.errors.InvalidTextRepresentation, self.psycopg.errors.NumericValueOutOfRange):
            self.conn.rollback()
            return None  # not an id this table can hold
        if not rows:
            return None
        row = rows[0]
        stored = Criteria(model_name=row[2], detector_backend=row[3], aligned=bool(row[4]), l2_normalized=bool(row[5]))
        return StoredEmbedding(id=row[0], img_name=row[1], embedding=row[6], criteria=stored)

    def names_by_id(self, ids: Sequence[Any]) -> Dict[Any, str]:
        rows = self._query("SELECT id, img_name FROM embeddings WHERE id = ANY(%s)", ([int(i) for i in ids],))
        return {row[0]: row[1] for row in rows}

    def load_index(self, criteria: Criteria) -> bytes:
        rows = self._query(f"SELECT index_data FROM embeddings_index WHERE {INDEX_FILTER}", criteria_values(criteria))
        if not rows:
            raise index_not_found(criteria)
        return bytes(rows[0][0])

    def save_index(self, criteria: Criteria, index_data: bytes) -> None:
        query = """
            INSERT INTO embeddings_index (model_name, detector_backend, align, l2_normalized, index_data)
            VALUES (%s, %s, %s, %s, %s)
            ON CONFLICT (model_name, detector_backend, align, l2_normalized)
            DO UPDATE SET index_data = EXCLUDED.index_data, updated_at = now()
        """
        with self.conn.cursor() as cur:
            cur.execute(query, (*criteria_values(criteria), index_data))
        self.conn.commit()

#: deepface 0.0.103's name for this client.
PostgresClient = PostgresDatabase
#: deepface's names for the two table definitions.
CREATE_EMBEDDINGS_TABLE_SQL, CREATE_EMBEDDINGS_INDEX_TABLE_SQL = CREATE_TABLES
