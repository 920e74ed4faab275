"""PostgreSQL with the pgvector extension, through psycopg 3 and the ``pgvector`` package.

deepface 0.0.103's layout: one table per criteria set, named as deepface names it
(``embeddings_<model>_<detector>_<aligned|unaligned>_<norm|raw>``), with deepface's
columns and ``embedding vector(<length>)``; so a database filled by either package is
searched by the other. Rows go in with ``COPY``, one transaction per call. A batch of
query vectors is one statement (a ``LATERAL`` join over the query list): euclidean
``<->``, or cosine ``<=>`` for L2-normalised vectors, as deepface measures them.

Unlike deepface, this package creates no HNSW index with a table, so its searches are
exact; ``build_index`` creates deepface's (same name and definition), and a table that has
one (deepface creates it with the table) is searched through it, approximately, as deepface
searches it.
"""

from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

import numpy as np

from deepface.commons.exceptions import DimensionMismatchError, EmptyDatasource, MissingDependencyError
from deepface.commons.logger import get_logger
from deepface.modules.database.postgres import connect_postgres, import_psycopg, insert_in_one_transaction
from deepface.modules.database.types import (
    Criteria,
    Database,
    Neighbour,
    NewEmbedding,
    StoredEmbedding,
    embedding_length,
    group_by_criteria,
)

logger = get_logger(__name__)

DATABASE_TYPE = "pgvector"
COLUMNS = (
    "img_name", "face", "face_shape", "model_name", "detector_backend",
    "aligned", "l2_normalized", "embedding", "face_hash", "embedding_hash",
)  # fmt: skip
CREATE_TABLE = """
    CREATE TABLE IF NOT EXISTS {table} (
        id SERIAL PRIMARY KEY,
        img_name TEXT NOT NULL,
        face BYTEA NOT NULL,
        face_shape INT[] NOT NULL,
        model_name TEXT NOT NULL,
        detector_backend TEXT NOT NULL,
        aligned BOOLEAN DEFAULT true,
        l2_normalized BOOLEAN DEFAULT false,
        embedding vector({length}) NOT NULL,
        created_at TIMESTAMPTZ DEFAULT now(),
        face_hash TEXT NOT NULL,
        embedding_hash TEXT NOT NULL,
        UNIQUE (face_hash, embedding_hash)
    )
"""
#: The nearest rows of every query vector, in one statement.
NEAREST = """
    SELECT q.ord, hit.id, hit.img_name, hit.distance
    FROM unnest(%s::vector[]) WITH ORDINALITY AS q(vec, ord)
    CROSS JOIN LATERAL (
        SELECT e.id, e.img_name, e.embedding {op} q.vec AS distance
        FROM {table} AS e
        ORDER BY e.embedding {op} q.vec
        LIMIT %s
    ) AS hit
    ORDER BY q.ord, hit.distance, hit.id
"""
#: A lock key of its own (``pg_advisory_xact_lock``) so that concurrent clients create
#: the extension and each table once.
SCHEMA_LOCK = 0x64656570  # "deep"


def import_pgvector() -> Any:
    try:
        from pgvector import psycopg as pgvector_psycopg  # pylint: disable=import-outside-toplevel
    except ImportError as error:
        raise MissingDependencyError(
            "database_type='pgvector' needs the pgvector package: pip install deepface[pgvector]"
        ) from error
    return pgvector_psycopg


def table_name(criteria: Criteria) -> str:
    """deepface's table of ``criteria`` (PostgreSQL folds deepface's unquoted mixed-case name to this)."""
    alignment = "aligned" if criteria.aligned else "unaligned"
    normalization = "norm" if criteria.l2_normalized else "raw"
    model = criteria.model_name.replace("-", "")
    return f"embeddings_{model}_{criteria.detector_backend}_{alignment}_{normalization}".lower()


def as_array(value: Any) -> Any:
    """A stored vector as a float32 array (pgvector's binary loader gives a ``Vector``)."""
    return value.to_numpy() if hasattr(value, "to_numpy") else np.asarray(value, dtype=np.float32)


def vector_text(values: Any) -> str:
    """pgvector's text form of a vector (``[1.5,2.0]``); floats at full precision."""
    return "[" + ",".join(repr(float(value)) for value in values) + "]"


class PgvectorDatabase(Database):
    """A PostgreSQL database with pgvector (``connection_details``: a URI / DSN string or
    psycopg ``connect`` keywords; ``DEEPFACE_POSTGRES_URI`` otherwise)."""

    is_vector_db = True

    def __init__(self, connection_details: Any = None, connection: Any = None) -> None:
        self.psycopg = import_psycopg(DATABASE_TYPE)
        self.sql = self.psycopg.sql
        pgvector_psycopg = import_pgvector()
        self.owns_connection = connection is None
        self.conn = connection if connection is not None else connect_postgres(
            self.psycopg, DATABASE_TYPE, connection_details
        )
        self._create_extension()
        pgvector_psycopg.register_vector(self.conn)

    def _create_extension(self) -> None:
        with self.conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'")
            if cur.fetchone() is None:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                cur.execute("CREATE EXTENSION IF NOT EXISTS vector")
        self.conn.commit()

    def close(self) -> None:
        if self.owns_connection:
            self.conn.close()

    def _query(self, query: Any, params: Sequence[Any] = (), binary: bool = False) -> List[Tuple[Any, ...]]:
        """Rows of one read, its transaction ended (no idle-in-transaction connection)."""
        try:
            with self.conn.cursor(binary=binary) as cur:
                cur.execute(query, params)
                rows = cur.fetchall()
        except BaseException:
            self.conn.rollback()
            raise
        self.conn.commit()
        return rows

    def _stored_length(self, table: str) -> Optional[int]:
        """The vector length of ``table``'s ``embedding`` column; None when there is no table."""
        rows = self._query(
            "SELECT atttypmod FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = 'embedding'", (table,)
        )
        return int(rows[0][0]) if rows else None

    def insert(self, records: Sequence[NewEmbedding]) -> int:
        groups = group_by_criteria(records)
        lengths = {}
        for criteria, group in groups.items():  # every check before anything is written
            table = table_name(criteria)
            lengths[table] = embedding_length(group, self._stored_length(table), f"pgvector table {table}")
        def write(cur: Any) -> None:
            for criteria, group in groups.items():
                table = table_name(criteria)
                self._create_table(cur, table, lengths[table])
                self._copy(cur, table, group)

        return insert_in_one_transaction(self.psycopg, self.conn, records, write, lambda: self._stored_keys(groups))

    def _create_table(self, cur: Any, table: str, length: int) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (SCHEMA_LOCK, table))
        statement = CREATE_TABLE.format(table=self.sql.Identifier(table).as_string(cur), length=int(length))
        cur.execute(statement)

    def _copy(self, cur: Any, table: str, records: Sequence[NewEmbedding]) -> None:
        statement = self.sql.SQL("COPY {} ({}) FROM STDIN").format(
            self.sql.Identifier(table), self.sql.SQL(", ").join(map(self.sql.Identifier, COLUMNS))
        )
        with cur.copy(statement) as copy:
            for record in records:
                criteria = record.criteria
                copy.write_row((
                    record.img_name, record.face_bytes, [int(side) for side in record.face.shape],
                    criteria.model_name, criteria.detector_backend, criteria.aligned, criteria.l2_normalized,
                    vector_text(record.embedding), record.face_hash, record.embedding_hash,
                ))  # fmt: skip

    def _stored_keys(self, groups: Dict[Criteria, List[NewEmbedding]]) -> Set[Tuple[str, str]]:
        keys = set()
        for criteria, group in groups.items():
            table = table_name(criteria)
            if self._stored_length(table) is None:
                continue
            query = self.sql.SQL("SELECT face_hash, embedding_hash FROM {} WHERE face_hash = ANY(%s)").format(
                self.sql.Identifier(table)
            )
            keys.update(tuple(row) for row in self._query(query, (sorted({r.face_hash for r in group}),)))
        return keys

    def fetch_all(self, criteria: Criteria) -> List[StoredEmbedding]:
        table = table_name(criteria)
        if self._stored_length(table) is None:
            return []
        query = self.sql.SQL("SELECT id, img_name, embedding FROM {} ORDER BY id").format(self.sql.Identifier(table))
        rows = self._query(query, binary=True)
        return [
            StoredEmbedding(id=row[0], img_name=row[1], embedding=as_array(row[2]), criteria=criteria) for row in rows
        ]

    def fetch_one(self, identity_id: Any, criteria: Criteria) -> Optional[StoredEmbedding]:
        table = table_name(criteria)
        if self._stored_length(table) is None:
            return None
        query = self.sql.SQL(
            "SELECT id, img_name, model_name, detector_backend, aligned, l2_normalized, embedding FROM {} WHERE id = %s"
        ).format(self.sql.Identifier(table))
        try:
            rows = self._query(query, (identity_id,), binary=True)
        except (self.psycopg.errors.InvalidTextRepresentation, self.psycopg.errors.NumericValueOutOfRange):
            return None  # not an id this table can hold
        if not rows:
            return None
        row = rows[0]
        stored = Criteria(model_name=row[2], detector_backend=row[3], aligned=bool(row[4]), l2_normalized=bool(row[5]))
        return StoredEmbedding(id=row[0], img_name=row[1], embedding=as_array(row[6]).tolist(), criteria=stored)

    def build_native_index(self, criteria: Criteria) -> None:
        """deepface's HNSW index of the criteria's table (cosine ops for L2-normalised
        vectors, euclidean otherwise), unless it exists."""
        table = table_name(criteria)
        if self._stored_length(table) is None:
            raise EmptyDatasource(f"no embeddings stored for {criteria.describe()}: register faces first")
        kind, ops = ("cosine", "vector_cosine_ops") if criteria.l2_normalized else ("euclidean", "vector_l2_ops")
        statement = self.sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} USING hnsw (embedding {})").format(
            self.sql.Identifier(f"{table}_{kind}_idx"), self.sql.Identifier(table), self.sql.SQL(ops)
        )
        with self.conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (SCHEMA_LOCK, table))
            cur.execute(statement)
        self.conn.commit()
        logger.info("built the HNSW index of pgvector table %s", table)

    def nearest(self, vectors: Sequence[List[float]], criteria: Criteria, limit: int) -> List[List[Neighbour]]:
        table = table_name(criteria)
        hits: List[List[Neighbour]] = [[] for _ in vectors]
        stored = self._stored_length(table) if vectors else None
        if stored is None:
            return hits
        if any(len(vector) != stored for vector in vectors):
            raise DimensionMismatchError(f"query embeddings must have length {stored}, as pgvector table {table}")
        operator = "<=>" if criteria.l2_normalized else "<->"
        query = self.sql.SQL(NEAREST.format(op=operator, table="{table}")).format(table=self.sql.Identifier(table))
        for ordinal, identity, img_name, distance in self._query(query, ([vector_text(v) for v in vectors], limit)):
            hits[ordinal - 1].append(Neighbour(id=identity, img_name=img_name, distance=float(distance)))
        return hits


#: deepface 0.0.103's name for the client.
PGVectorClient = PgvectorDatabase
