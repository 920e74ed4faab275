"""The faiss HNSW index behind ``search_method="ann"`` on relational backends.

As deepface 0.0.103: an ``IndexIDMap`` over ``IndexHNSWFlat`` (L2), keyed by the rows'
ids, serialized into the ``embeddings_index`` table, one per criteria set; ``build_index``
adds only the rows the stored index does not hold yet.
"""

from typing import Any, Sequence, Set, Tuple

import numpy as np
from numpy.typing import NDArray

from deepface.commons.exceptions import MissingDependencyError
from deepface.options.verbs import DEFAULT_INDEX_BATCH as DEFAULT_ADD_BATCH
from deepface.options.verbs import DEFAULT_MAX_NEIGHBORS

#: Neighbours fetched per query face when ``k`` is not given (deepface's figure).
DEFAULT_ANN_K = 20


def import_faiss() -> Any:
    try:
        import faiss  # pylint: disable=import-outside-toplevel
    except ImportError as error:
        raise MissingDependencyError(
            "search_method='ann' and build_index need faiss: pip install deepface[faiss]"
        ) from error
    return faiss


def deserialize(index_data: bytes) -> Any:
    return import_faiss().deserialize_index(np.frombuffer(index_data, dtype=np.uint8))


def serialize(index: Any) -> bytes:
    """The same bytes as ``faiss.write_index`` to a file (deepface's route)."""
    return import_faiss().serialize_index(index).tobytes()


def indexed_ids(index: Any) -> Set[int]:
    return {int(i) for i in import_faiss().vector_to_array(index.id_map)}


def new_index(dimensions: int, max_neighbors_per_node: int = DEFAULT_MAX_NEIGHBORS) -> Any:
    faiss = import_faiss()
    return faiss.IndexIDMap(faiss.IndexHNSWFlat(dimensions, max_neighbors_per_node))


def add(index: Any, ids: Sequence[int], vectors: NDArray[Any], batch_size: int = DEFAULT_ADD_BATCH) -> None:
    """Add ``vectors`` under ``ids``, ``batch_size`` at a time."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    keys = np.asarray(ids, dtype=np.int64)
    for start in range(0, len(keys), batch_size):
        index.add_with_ids(vectors[start : start + batch_size], keys[start : start + batch_size])


def search(index: Any, queries: NDArray[Any], k: int) -> Tuple[NDArray[np.float32], NDArray[np.int64]]:
    """Squared L2 distances and ids of the ``k`` nearest rows of every query, in one call
    (id -1 where the index holds fewer than ``k``)."""
    return index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
