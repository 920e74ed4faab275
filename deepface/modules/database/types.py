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
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

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
    ``embeddings_index`` tables; vector backends one collection per criteria set."""

    #: Vector databases search by themselves (``nearest``); the others use a faiss index.
    is_vector_db: bool = False

    @abstractmethod
    def insert(self, records: Sequence[NewEmbedding]) -> int:
        """Store ``records`` in one bulk write (one transaction where the engine has them);
        return how many were stored."""

    @abstractmethod
    def fetch_all(self, criteria: Criteria) -> List[StoredEmbedding]:
        """Every stored embedding of ``criteria``, in id order."""

    @abstractmethod
    def fetch_one(self, identity_id: Any, criteria: Criteria) -> Optional[StoredEmbedding]:
        """The record ``identity_id`` (None when absent). Backends that store the criteria
        return the stored ones; the others need ``criteria`` to find the record."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection this object opened (never one the caller gave)."""

    def names_by_id(self, ids: Sequence[Any]) -> Dict[Any, str]:
        """``img_name`` of each id in ``ids`` (relational backends, for ann search)."""
        raise NotImplementedError(f"{type(self).__name__} returns names with its search hits")

    def load_index(self, criteria: Criteria) -> bytes:
        """The serialized faiss index of ``criteria`` (relational backends)."""
        raise IndexNotFound(f"{type(self).__name__} keeps no faiss index: it indexes by itself")

    def save_index(self, criteria: Criteria, index_data: bytes) -> None:
        """Insert or replace the serialized faiss index of ``criteria`` (relational backends)."""
        raise NotImplementedError(f"{type(self).__name__} keeps no faiss index: it indexes by itself")

    def build_native_index(self, criteria: Criteria) -> None:
        """Create the approximate index ``nearest`` then searches through (vector backends
        whose search is exact until one exists)."""
        raise NotImplementedError(f"{type(self).__name__} indexes by itself")

    def nearest(self, vectors: Sequence[List[float]], criteria: Criteria, limit: int) -> List[List[Neighbour]]:
        """The ``limit`` nearest stored faces of each vector, closest first (vector backends)."""
        raise NotImplementedError(f"{type(self).__name__} has no native nearest-neighbour search")


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
