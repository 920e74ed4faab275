"""What every face database backend provides, and the records they exchange.

Rows hold deepface 0.0.103's fields (``img_name``, the model's input ``face``, the
``embedding`` and the criteria it was made with: ``model_name``, ``detector_backend``,
``aligned``, ``l2_normalized``), so a database written by either package is read by the other.
"""

import hashlib
import json
import struct
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple, Union

import numpy as np
from numpy.typing import NDArray

from deepface.commons.exceptions import (
    DatabaseConnectionError,
    DuplicateEntryError,
    EmbeddingSizeMismatch,
    IndexNotFound,
)


#: Seconds a client waits for a server to accept a connection, unless the caller says otherwise.
CONNECT_TIMEOUT_S = 10


@dataclass(frozen=True)
class Criteria:
    """How embeddings were made: only embeddings of the same criteria are comparable."""

    model_name: str
    detector_backend: str
    aligned: bool
    l2_normalized: bool

    def describe(self) -> str:
        return (
            f"model_name={self.model_name!r}, detector_backend={self.detector_backend!r}, "
            f"align={self.aligned}, l2_normalize={self.l2_normalized}"
        )


@dataclass
class NewEmbedding:
    """One face to store: its image name, the model's input face and its embedding."""

    img_name: str
    face: NDArray[Any]
    embedding: List[float]
    criteria: Criteria
    face_hash: str = field(init=False)
    embedding_hash: str = field(init=False)

    def __post_init__(self) -> None:
        # deepface's uniqueness keys: sha256 of the face as JSON and of the float64 bytes
        self.face_hash = hashlib.sha256(json.dumps(self.face.tolist()).encode()).hexdigest()
        packed = struct.pack(f"<{len(self.embedding)}d", *self.embedding)
        self.embedding_hash = hashlib.sha256(packed).hexdigest()

    @property
    def face_bytes(self) -> bytes:
        """The face as float32 bytes, as deepface stores it."""
        return np.ascontiguousarray(self.face, dtype=np.float32).tobytes()


@dataclass
class StoredEmbedding:
    """One stored face read back. ``criteria`` is None where the backend stores none
    (a vector database keeps each criteria set in its own collection)."""

    id: Any
    img_name: str
    embedding: List[float]
    criteria: Optional[Criteria] = None


@dataclass
class Neighbour:
    """One hit of a vector database's own nearest-neighbour search, at deepface's distance."""

    id: Any
    img_name: Optional[str]
    distance: float


class Database(ABC):
    """A connected face database. Relational backends keep deepface's ``embeddings`` and
    ``embeddings_index`` tables; vector backends one collection per criteria set.

    It is also deepface 0.0.103's ``Database`` interface: each of this package's methods
    (``insert``, ``fetch_all``, ``fetch_one``, ``load_index``, ``save_index``, ``nearest``,
    ``names_by_id``) and deepface's of the same job (``insert_embeddings``,
    ``fetch_all_embeddings``, ``fetch_embedding``, ``get_embeddings_index``,
    ``upsert_embeddings_index``, ``search_by_vector``, ``search_by_id``) is written in
    terms of the other. A backend implements one side: this package's backends implement
    theirs, and a client written for deepface (its ``Database`` subclass, with deepface's
    dict records) plugs in unchanged through ``inventory.database_inventory``.
    """

    #: Vector databases search by themselves (``nearest``); the others use a faiss index.
    is_vector_db: bool = False

    def __init__(self, connection_details: Any = None, connection: Any = None) -> None:
        """deepface's constructor: connection details (URI, path or dict) or an open connection."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection this object opened (never one the caller gave)."""

    def _overrides(self, name: str) -> bool:
        return getattr(type(self), name) is not getattr(Database, name)

    def _need(self, ours: str, theirs: str) -> None:
        """Refuse a call that would bounce between the two sides: neither is implemented."""
        if not self._overrides(ours) and not self._overrides(theirs):
            raise NotImplementedError(f"{type(self).__name__} implements neither {ours} nor deepface's {theirs}")

    # ------------------------------------------------------------ this package's side

    def insert(self, records: Sequence[NewEmbedding]) -> int:
        """Store ``records`` in one bulk write (one transaction where the engine has them);
        return how many were stored."""
        self._need("insert", "insert_embeddings")
        return self.insert_embeddings([record_dict(record) for record in records], batch_size=max(1, len(records)))

    def fetch_all(self, criteria: Criteria) -> List[StoredEmbedding]:
        """Every stored embedding of ``criteria``, in id order."""
        self._need("fetch_all", "fetch_all_embeddings")
        return [stored_of(row, criteria) for row in self.fetch_all_embeddings(**criteria_keywords(criteria))]

    def fetch_one(self, identity_id: Any, criteria: Criteria) -> Optional[StoredEmbedding]:
        """The record ``identity_id`` (None when absent). Backends that store the criteria
        return the stored ones; the others need ``criteria`` to find the record."""
        self._need("fetch_one", "fetch_embedding")
        row = self.fetch_embedding(identity_id, **criteria_keywords(criteria))
        return None if row is None else stored_of(row, None)

    def names_by_id(self, ids: Sequence[Any]) -> Dict[Any, str]:
        """``img_name`` of each id in ``ids`` (relational backends, for ann search)."""
        if not self._overrides("search_by_id"):
            raise NotImplementedError(f"{type(self).__name__} returns names with its search hits")
        return {row["id"]: row["img_name"] for row in self.search_by_id(list(ids))}

    def load_index(self, criteria: Criteria) -> bytes:
        """The serialized faiss index of ``criteria`` (relational backends)."""
        if not self._overrides("get_embeddings_index"):
            raise IndexNotFound(f"{type(self).__name__} keeps no faiss index: it indexes by itself")
        try:
            return self.get_embeddings_index(**criteria_keywords(criteria))
        except IndexNotFound:
            raise
        except ValueError as error:  # deepface's clients raise ValueError when there is none
            raise index_not_found(criteria) from error

    def save_index(self, criteria: Criteria, index_data: bytes) -> None:
        """Insert or replace the serialized faiss index of ``criteria`` (relational backends)."""
        if not self._overrides("upsert_embeddings_index"):
            raise NotImplementedError(f"{type(self).__name__} keeps no faiss index: it indexes by itself")
        self.upsert_embeddings_index(**criteria_keywords(criteria), index_data=index_data)

    def build_native_index(self, criteria: Criteria) -> None:
        """Create the approximate index ``nearest`` then searches through (vector backends
        whose search is exact until one exists)."""
        raise NotImplementedError(f"{type(self).__name__} indexes by itself")

    def nearest(self, vectors: Sequence[List[float]], criteria: Criteria, limit: int) -> List[List[Neighbour]]:
        """The ``limit`` nearest stored faces of each vector, closest first (vector backends)."""
        if not self._overrides("search_by_vector"):
            raise NotImplementedError(f"{type(self).__name__} has no native nearest-neighbour search")
        keywords = criteria_keywords(criteria)
        return [
            [Neighbour(hit["id"], hit.get("img_name"), float(hit["distance"]))
             for hit in self.search_by_vector(list(vector), **keywords, limit=limit)]
            for vector in vectors
        ]  # fmt: skip

    # ------------------------------------------------------------ deepface's side

    def initialize_database(self, **kwargs: Any) -> None:
        """deepface's: make sure the tables or collections exist (this package's backends
        create them when they connect or first write)."""

    def insert_embeddings(self, embeddings: List[Dict[str, Any]], batch_size: int = 100) -> int:
        """deepface's: store records given as dicts (``img_name``, ``face``, ``embedding``,
        ``model_name``, ``detector_backend``, ``aligned``, ``l2_normalized``)."""
        self._need("insert", "insert_embeddings")
        return self.insert([record_of(row) for row in embeddings])

    def fetch_all_embeddings(
        self, model_name: str, detector_backend: str, aligned: bool, l2_normalized: bool, batch_size: int = 1000
    ) -> List[Dict[str, Any]]:
        """deepface's: every stored record of the criteria, as dicts."""
        self._need("fetch_all", "fetch_all_embeddings")
        criteria = Criteria(model_name, detector_backend, bool(aligned), bool(l2_normalized))
        return [stored_dict(row, criteria) for row in self.fetch_all(criteria)]

    def fetch_embedding(
        self,
        identity_id: Union[str, int],
        model_name: str = "VGG-Face",
        detector_backend: str = "opencv",
        aligned: bool = True,
        l2_normalized: bool = False,
    ) -> Optional[Dict[str, Any]]:
        """deepface's: one stored record by id, as a dict; None when absent."""
        self._need("fetch_one", "fetch_embedding")
        criteria = Criteria(model_name, detector_backend, bool(aligned), bool(l2_normalized))
        row = self.fetch_one(identity_id, criteria)
        return None if row is None else stored_dict(row, row.criteria)

    def search_by_id(self, ids: Union[List[str], List[int]]) -> List[Dict[str, Any]]:
        """deepface's: ``{"id", "img_name"}`` of each id."""
        if not self._overrides("names_by_id"):
            raise NotImplementedError(f"{type(self).__name__} returns names with its search hits")
        return [{"id": key, "img_name": name} for key, name in self.names_by_id(ids).items()]

    def search_by_vector(
        self,
        vector: List[float],
        model_name: str = "VGG-Face",
        detector_backend: str = "opencv",
        aligned: bool = True,
        l2_normalized: bool = False,
        limit: int = 10,
    ) -> List[Dict[str, Any]]:
        """deepface's: the ``limit`` nearest records (``id``, ``img_name``, ``distance``)."""
        if not self._overrides("nearest"):
            raise NotImplementedError(f"{type(self).__name__} does not support ANN search natively")
        criteria = Criteria(model_name, detector_backend, bool(aligned), bool(l2_normalized))
        (hits,) = self.nearest([vector], criteria, limit)
        return [{"id": hit.id, "img_name": hit.img_name, "distance": hit.distance} for hit in hits]

    def get_embeddings_index(self, model_name: str, detector_backend: str, aligned: bool, l2_normalized: bool) -> bytes:
        """deepface's: the serialized faiss index of the criteria."""
        if not self._overrides("load_index"):
            raise NotImplementedError(f"{type(self).__name__} keeps no faiss index: it indexes by itself")
        return self.load_index(Criteria(model_name, detector_backend, bool(aligned), bool(l2_normalized)))

    def upsert_embeddings_index(
        self, model_name: str, detector_backend: str, aligned: bool, l2_normalized: bool, index_data: bytes
    ) -> None:
        """deepface's: insert or replace the serialized faiss index of the criteria."""
        if not self._overrides("save_index"):
            raise NotImplementedError(f"{type(self).__name__} keeps no faiss index: it indexes by itself")
        self.save_index(Criteria(model_name, detector_backend, bool(aligned), bool(l2_normalized)), index_data)

    def link_verified_identities(
        self,
        clusters: List[List[str]],
        model_name: str = "VGG-Face",
        detector_backend: str = "opencv",
        aligned: bool = True,
        l2_normalized: bool = False,
        batch_size: int = 100,
    ) -> int:
        """deepface's graph databases link identities found together; none here does."""
        raise NotImplementedError(f"{type(self).__name__} does not support storing relationships")


# ---------------------------------------------------------------- deepface's dict records


def criteria_keywords(criteria: Criteria) -> Dict[str, Any]:
    """deepface's keyword names for a criteria set."""
    return {
        "model_name": criteria.model_name,
        "detector_backend": criteria.detector_backend,
        "aligned": criteria.aligned,
        "l2_normalized": criteria.l2_normalized,
    }


def record_dict(record: NewEmbedding) -> Dict[str, Any]:
    """A record to store, as deepface's ``insert_embeddings`` takes it."""
    return {"id": None, "img_name": record.img_name, "face": record.face, "embedding": record.embedding,
            **criteria_keywords(record.criteria)}  # fmt: skip


def record_of(row: Dict[str, Any]) -> NewEmbedding:
    """deepface's record dict as a record to store."""
    criteria = Criteria(row["model_name"], row["detector_backend"], bool(row["aligned"]), bool(row["l2_normalized"]))
    return NewEmbedding(str(row["img_name"]), np.asarray(row["face"]), [float(x) for x in row["embedding"]], criteria)


def stored_of(row: Dict[str, Any], criteria: Optional[Criteria]) -> StoredEmbedding:
    """A stored record from deepface's dict (its own criteria where it has them)."""
    if "model_name" in row:
        criteria = Criteria(row["model_name"], row["detector_backend"], bool(row["aligned"]), bool(row["l2_normalized"]))
    return StoredEmbedding(row["id"], row["img_name"], [float(x) for x in row["embedding"]], criteria)


def stored_dict(row: StoredEmbedding, criteria: Optional[Criteria]) -> Dict[str, Any]:
    """A stored record as deepface's dict."""
    known = row.criteria or criteria
    return {"id": row.id, "img_name": row.img_name, "embedding": row.embedding,
            **(criteria_keywords(known) if known else {})}  # fmt: skip


def index_not_found(criteria: Criteria) -> IndexNotFound:
    """The error for an ann search before ``build_index``."""
    return IndexNotFound(f"no faiss index found for {criteria.describe()}: run build_index first")


def find_duplicates(records: Sequence[NewEmbedding], stored_keys: Set[Tuple[str, str]]) -> List[str]:
    """Names of the records whose (face, embedding) is already stored or repeated in ``records``."""
    seen: Set[Tuple[str, str]] = set(stored_keys)
    duplicates = []
    for record in records:
        key = (record.face_hash, record.embedding_hash)
        if key in seen:
            duplicates.append(record.img_name)
        seen.add(key)
    return duplicates


def duplicate_error(duplicates: List[str]) -> DuplicateEntryError:
    shown = ", ".join(repr(name) for name in duplicates[:5]) + (" ..." if len(duplicates) > 5 else "")
    return DuplicateEntryError(
        f"{len(duplicates)} face(s) already registered (same face and embedding): {shown}; nothing was inserted"
    )


def connection_error(
    database_type: str, host: Any, error: BaseException, secret: Optional[str] = None
) -> DatabaseConnectionError:
    """The error for a server that cannot be reached or refuses the login: names the
    database type and host, never the password (``secret`` is masked if the driver echoes it)."""
    reason = str(error).strip() or type(error).__name__
    if secret:
        reason = reason.replace(secret, "***")
    return DatabaseConnectionError(f"cannot connect to {database_type} at {host}: {reason}")


def embedding_length(records: Sequence[NewEmbedding], stored: Optional[int], where: str) -> int:
    """The one length of ``records``' embeddings; a typed error, before anything is written,
    when they differ among themselves or from the ``stored`` length of ``where``."""
    lengths = sorted({len(record.embedding) for record in records})
    if len(lengths) > 1:
        raise EmbeddingSizeMismatch(f"embeddings of lengths {lengths} in one batch for {where}; nothing was inserted")
    if stored is not None and lengths and lengths[0] != stored:
        raise EmbeddingSizeMismatch(
            f"{where} holds embeddings of length {stored}, not {lengths[0]} (another model?); nothing was inserted"
        )
    return lengths[0] if lengths else 0


def group_by_criteria(records: Sequence[NewEmbedding]) -> Dict[Criteria, List[NewEmbedding]]:
    """``records`` by criteria set, in order of first appearance."""
    groups: Dict[Criteria, List[NewEmbedding]] = {}
    for record in records:
        groups.setdefault(record.criteria, []).append(record)
    return groups
