"""Milvus through pymilvus: a server (URI) or Milvus Lite (a local ``.db`` file, no
server). deepface 0.0.103's layout: one collection per criteria set, named as deepface
names it, an INT64 ``id``, a FLAT-indexed ``embedding`` and ``img_name`` as a dynamic field.

deepface keys rows with Python's ``hash()`` of the face's and embedding's hashes, which
changes from process to process; rows are keyed here by the first 63 bits of their
SHA-256, the same in every process.
"""

import hashlib
import math
from typing import Any, List, Optional, Sequence

from deepface.commons.exceptions import DatabaseConnectionError, MissingDependencyError
from deepface.modules.database.types import Criteria, Database, Neighbour, NewEmbedding, StoredEmbedding

#: Rows per insert request and per query-iterator page.
ROWS_PER_REQUEST = 1000
OUTPUT_FIELDS = ["id", "embedding", "img_name"]


def import_pymilvus() -> Any:
    try:
        import pymilvus  # pylint: disable=import-outside-toplevel
    except ImportError as error:
        raise MissingDependencyError(
            "database_type='milvus' needs pymilvus (and milvus-lite for a local file): pip install deepface[milvus]"
        ) from error
    return pymilvus


def collection_name(criteria: Criteria) -> str:
    """deepface's name: ``embeddings_<model>_<detector>_<aligned|unaligned>_<norm|raw>``, lower case."""
    parts = [
        "embeddings",
        criteria.model_name.replace("-", ""),
        criteria.detector_backend,
        "aligned" if criteria.aligned else "unaligned",
        "norm" if criteria.l2_normalized else "raw",
    ]
    return "_".join(parts).lower()


def metric_of(criteria: Criteria) -> str:
    return "COSINE" if criteria.l2_normalized else "L2"


def row_id(record: NewEmbedding) -> int:
    digest = hashlib.sha256(f"{record.face_hash}:{record.embedding_hash}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & (2**63 - 1)


class MilvusDatabase(Database):
    """A Milvus server or Milvus Lite file (``connection_details``: its URI or path;
    ``DEEPFACE_MILVUS_URI`` otherwise)."""

    is_vector_db = True

    def __init__(self, connection_details: Any = None, connection: Any = None) -> None:
        self.pymilvus = import_pymilvus()
        self.owns_connection = connection is None
        if connection is not None:
            self.client = connection
        elif isinstance(connection_details, str) and connection_details:
            self.client = self.pymilvus.MilvusClient(uri=connection_details)
        else:
            raise DatabaseConnectionError(
                f"milvus connection_details must be a URI or a Milvus Lite file path, not {connection_details!r}"
            )

    def close(self) -> None:
        if self.owns_connection:
            self.client.close()

    def _ensure_collection(self, criteria: Criteria, dimensions: int) -> str:
        name = collection_name(criteria)
        if self.client.has_collection(name):
            return name
        data_type = self.pymilvus.DataType
        schema = self.client.create_schema(auto_id=False, enable_dynamic_field=True)
        schema.add_field(field_name="id", datatype=data_type.INT64, is_primary=True)
        schema.add_field(field_name="embedding", datatype=data_type.FLOAT_VECTOR, dim=dimensions)
        index_params = self.client.prepare_index_params()
        index_params.add_index(field_name="embedding", index_type="FLAT", metric_type=metric_of(criteria))
        self.client.create_collection(collection_name=name, schema=schema, index_params=index_params)
        return name

    def insert(self, records: Sequence[NewEmbedding]) -> int:
        inserted = 0
        for criteria in dict.fromkeys(record.criteria for record in records):
            group = [record for record in records if record.criteria == criteria]
            name = self._ensure_collection(criteria, len(group[0].embedding))
            for start in range(0, len(group), ROWS_PER_REQUEST):
                rows = [
                    {"id": row_id(record), "embedding": list(map(float, record.embedding)), "img_name": record.img_name}
                    for record in group[start : start + ROWS_PER_REQUEST]
                ]
                self.client.upsert(collection_name=name, data=rows)  # same face again: replaced, not doubled
            inserted += len(group)
        return inserted

    def fetch_all(self, criteria: Criteria) -> List[StoredEmbedding]:
        name = collection_name(criteria)
        if not self.client.has_collection(name):
            return []
        iterator = self.client.query_iterator(
            collection_name=name, filter="", output_fields=OUTPUT_FIELDS, batch_size=ROWS_PER_REQUEST
        )
        stored: List[StoredEmbedding] = []
        try:
            while True:
                rows = iterator.next()
                if not rows:
                    break
                stored.extend(
                    StoredEmbedding(id=row["id"], img_name=row["img_name"], embedding=list(row["embedding"]))
                    for row in rows
                )
        finally:
            iterator.close()
        return sorted(stored, key=lambda row: row.id)

    def fetch_one(self, identity_id: Any, criteria: Criteria) -> Optional[StoredEmbedding]:
        name = collection_name(criteria)
        if not self.client.has_collection(name):
            return None
        try:
            key = int(identity_id)
        except (TypeError, ValueError):
            return None  # ids are integers here
        rows = self.client.get(collection_name=name, ids=[key], output_fields=OUTPUT_FIELDS)
        if not rows:
            return None
        row = rows[0]
        embedding = list(row["embedding"])
        return StoredEmbedding(id=row["id"], img_name=row["img_name"], embedding=embedding, criteria=criteria)

    def nearest(self, vectors: Sequence[List[float]], criteria: Criteria, limit: int) -> List[List[Neighbour]]:
        name = collection_name(criteria)
        if not self.client.has_collection(name):
            return [[] for _ in vectors]
        self.client.load_collection(name)
        hits = self.client.search(
            collection_name=name,
            data=[[float(v) for v in vector] for vector in vectors],
            anns_field="embedding",
            search_params={"metric_type": metric_of(criteria), "params": {}},
            limit=limit,
            output_fields=["img_name"],
        )
        return [[self._neighbour(hit, criteria) for hit in per_vector] for per_vector in hits]

    @staticmethod
    def _neighbour(hit: Any, criteria: Criteria) -> Neighbour:
        # Milvus scores cosine similarity, or the squared euclidean distance
        score = float(hit["distance"])
        distance = 1.0 - min(max(score, -1.0), 1.0) if criteria.l2_normalized else math.sqrt(max(score, 0.0))
        return Neighbour(id=hit["id"], img_name=hit["entity"].get("img_name"), distance=distance)

#: deepface 0.0.103's name for this client.
MilvusClient = MilvusDatabase
