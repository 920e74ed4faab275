"""Qdrant through its official client: a server (URL) or local mode, with no server
(``{"path": DIR}`` or ``{"location": ":memory:"}``). deepface 0.0.103's layout: one
collection per criteria set, named as deepface names it, points keyed by a UUID of the
face's and embedding's hashes, ``img_name`` in the payload."""

import uuid
from typing import Any, Dict, List, Optional, Sequence

from deepface.commons.exceptions import DatabaseConnectionError, MissingDependencyError
from deepface.modules.database.types import Criteria, Database, Neighbour, NewEmbedding, StoredEmbedding

#: Points per upsert request and per scroll page.
POINTS_PER_REQUEST = 1000


def import_qdrant() -> Any:
    try:
        import qdrant_client  # pylint: disable=import-outside-toplevel
    except ImportError as error:
        raise MissingDependencyError(
            "database_type='qdrant' needs qdrant-client: pip install deepface[qdrant]"
        ) from error
    return qdrant_client


def collection_name(criteria: Criteria) -> str:
    """deepface's name: ``embeddings_<model>_<detector>_<aligned|unaligned>_<norm|raw>``, lower case."""
    alignment = "aligned" if criteria.aligned else "unaligned"
    normalization = "norm" if criteria.l2_normalized else "raw"
    model = criteria.model_name.replace("-", "")
    return f"embeddings_{model}_{criteria.detector_backend}_{alignment}_{normalization}".lower()


def client_options(details: Any) -> Dict[str, Any]:
    """``QdrantClient`` keywords: a dict as given; a string is a URL, ``:memory:`` or a local folder."""
    if isinstance(details, dict) and details:
        return dict(details)
    if isinstance(details, str) and details:
        if details == ":memory:":
            return {"location": details}
        if "://" in details:
            return {"url": details}
        return {"path": details}
    raise DatabaseConnectionError(
        "qdrant connection_details must be a URL, ':memory:', a local folder or a dict of "
        f"QdrantClient keywords, not {details!r}"
    )


class QdrantDatabase(Database):
    """A Qdrant server or local store (``connection_details`` or ``DEEPFACE_QDRANT_URI``)."""

    is_vector_db = True

    def __init__(self, connection_details: Any = None, connection: Any = None) -> None:
        qdrant_client = import_qdrant()
        self.models = qdrant_client.models
        self.owns_connection = connection is None
        if connection is None:
            connection = qdrant_client.QdrantClient(**client_options(connection_details))
        self.client = connection

    def close(self) -> None:
        if self.owns_connection:
            self.client.close()

    def _ensure_collection(self, criteria: Criteria, dimensions: int) -> str:
        name = collection_name(criteria)
        if not self.client.collection_exists(name):
            distance = self.models.Distance.COSINE if criteria.l2_normalized else self.models.Distance.EUCLID
            self.client.create_collection(
                collection_name=name, vectors_config=self.models.VectorParams(size=dimensions, distance=distance)
            )
        return name

    def insert(self, records: Sequence[NewEmbedding]) -> int:
        inserted = 0
        for criteria in dict.fromkeys(record.criteria for record in records):
            group = [record for record in records if record.criteria == criteria]
            name = self._ensure_collection(criteria, len(group[0].embedding))
            for start in range(0, len(group), POINTS_PER_REQUEST):
                points = [self._point(record) for record in group[start : start + POINTS_PER_REQUEST]]
                self.client.upsert(collection_name=name, points=points, wait=True)
            inserted += len(group)
        return inserted

    def _point(self, record: NewEmbedding) -> Any:
        point_id = str(uuid.uuid5(uuid.NAMESPACE_OID, f"{record.face_hash}:{record.embedding_hash}"))
        return self.models.PointStruct(
            id=point_id, vector=[float(v) for v in record.embedding], payload={"img_name": record.img_name}
        )

    def fetch_all(self, criteria: Criteria) -> List[StoredEmbedding]:
        name = collection_name(criteria)
        if not self.client.collection_exists(name):
            return []
        stored: List[StoredEmbedding] = []
        offset = None
        while True:
            points, offset = self.client.scroll(
                collection_name=name, limit=POINTS_PER_REQUEST, offset=offset, with_vectors=True, with_payload=True
            )
            stored.extend(
                StoredEmbedding(id=point.id, img_name=(point.payload or {}).get("img_name"), embedding=point.vector)
                for point in points
            )
            if offset is None:
                return stored

    def fetch_one(self, identity_id: Any, criteria: Criteria) -> Optional[StoredEmbedding]:
        name = collection_name(criteria)
        if not self.client.collection_exists(name):
            return None
        try:
            points = self.client.retrieve(collection_name=name, ids=[identity_id], with_vectors=True, with_payload=True)
        except ValueError:  # not a UUID or an unsigned integer: no point has this id
            return None
        if not points:
            return None
        point = points[0]
        return StoredEmbedding(
            id=point.id, img_name=(point.payload or {}).get("img_name"), embedding=point.vector, criteria=criteria
        )

    def nearest(self, vectors: Sequence[List[float]], criteria: Criteria, limit: int) -> List[List[Neighbour]]:
        name = collection_name(criteria)
        if not self.client.collection_exists(name):
            return [[] for _ in vectors]
        requests = [
            self.models.QueryRequest(query=[float(v) for v in vector], limit=limit, with_payload=True)
            for vector in vectors
        ]
        responses = self.client.query_batch_points(collection_name=name, requests=requests)
        return [[self._neighbour(hit, criteria) for hit in response.points] for response in responses]

    @staticmethod
    def _neighbour(hit: Any, criteria: Criteria) -> Neighbour:
        # cosine collections score similarity; euclidean ones score the distance itself
        score = float(hit.score)
        distance = max(0.0, 1.0 - score) if criteria.l2_normalized else score
        return Neighbour(id=hit.id, img_name=(hit.payload or {}).get("img_name"), distance=distance)

#: deepface 0.0.103's name for this client.
QdrantClient = QdrantDatabase
