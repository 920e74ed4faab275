"""Face search in a database (deepface's ``register``, ``search``, ``identify``, ``build_index``).

Embeddings come from the shared batched pipeline (``representation.iter_represent``): a
list of images is embedded in batched passes, its faces stored with bulk writes, and every
query face of a call is matched in one pass (one fetch of the stored embeddings, one faiss
or vector-database request for all of them).

Results have deepface 0.0.103's shapes: ``register`` gives ``{"inserted": n}``; ``search``
one result per query face (a DataFrame, or a list of dicts), the faces of a batch's images
one after the other (``group_by_input``: one list per input); ``identify`` deepface's dict.
Unlike deepface's ann search, a query face with no match keeps its (empty) result, so the
results always line up with the faces.
"""

import math
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
from numpy.typing import NDArray

from deepface.commons import image_utils, package_utils, timings
from deepface.commons.exceptions import (
    DataTypeError,
    EmptyDatasource,
    FaceNotDetected,
    IdentityNotFound,
    IncompatibleIdentity,
    IndexNotFound,
)
from deepface.commons.logger import get_logger
from deepface.modules.database import faiss_index
from deepface.modules.database.inventory import connect, spec_of
from deepface.modules.database.types import Criteria, Database, Neighbour, NewEmbedding, StoredEmbedding
from deepface.modules.pipeline import ImageResult, raise_batch_error
from deepface.modules.representation import RepresentOptions, iter_represent
from deepface.options.verbs import BUILD_INDEX, IDENTIFY, REGISTER, REPRESENT, SEARCH, SEARCH_METHODS
from deepface.modules.verification import METRICS, find_confidence, find_distance, find_threshold, l2_normalize

logger = get_logger(__name__)

#: deepface's: the attributes a registered record may carry beside its embedding.
FACIAL_ATTRIBUTES = ["age", "gender", "emotion", "race"]

#: Faces stored per bulk write (one transaction each) while a long list is registered.
INSERT_CHUNK_FACES = 1000
#: deepface names an image after its path only for these endings (else a random UUID).
NAMED_EXTENSIONS = (".jpg", ".jpeg", ".png")
CRITERIA_COLUMNS = ("model_name", "detector_backend", "aligned", "l2_normalized")
MATCH_COLUMNS = (
    "search_method", "target_x", "target_y", "target_w", "target_h",
    "threshold", "distance_metric", "distance", "confidence",
)  # fmt: skip

Result = Union[List[Dict[str, Any]], Any]  # a list of dicts, or a pandas DataFrame


@dataclass
class QueryFace:
    """One face of a query image: its embedding and where it is."""

    vector: List[float]
    facial_area: Dict[str, Any]


@dataclass(frozen=True)
class DatabaseSearchOptions:
    """How query faces are matched, validated once."""

    model_name: str
    distance_metric: str
    search_method: str
    similarity_search: bool
    k: Optional[int]
    return_type: str
    threshold: float = field(init=False)

    def __post_init__(self) -> None:
        if self.search_method not in SEARCH_METHODS:
            raise ValueError(f"unsupported search_method {self.search_method!r}; choose one of {SEARCH_METHODS}")
        if self.distance_metric not in METRICS:
            raise ValueError(f"unsupported distance_metric {self.distance_metric!r}; choose one of {METRICS}")
        check_k(self.k)
        object.__setattr__(self, "threshold", find_threshold(self.model_name, self.distance_metric))

    def keep(self, distance: float) -> bool:
        return self.similarity_search or distance <= self.threshold


def check_k(k: Any) -> None:
    if k is None:
        return
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k <= 0:
        raise ValueError(f"k must be a positive integer or None, not {k!r}")


#: The keywords of one call of each verb, checked once: one field per option of its table.
RegisterOptions = REGISTER.dataclass("RegisterOptions", module=__name__)
QueryOptions = SEARCH.dataclass("QueryOptions", module=__name__)
IdentifyOptions = IDENTIFY.dataclass("IdentifyOptions", module=__name__)
BuildIndexOptions = BUILD_INDEX.dataclass("BuildIndexOptions", module=__name__)


def represent_options(options: Any, **overrides: Any) -> RepresentOptions:
    """How a verb's images are embedded: its detection and model options (and ``overrides``)."""
    shared = {name: getattr(options, name) for name in REPRESENT.names if name in options.TABLE}
    return RepresentOptions(**{**shared, **overrides})


def criteria_of(options: Any) -> Criteria:
    """The stored rows a verb's options may use: same model, detector, alignment, normalisation."""
    return Criteria(options.model_name, options.detector_backend, options.align, options.l2_normalize)


# ---------------------------------------------------------------- register


def register(img: Any, **keywords: Any) -> Dict[str, Any]:
    """Embed the faces of one image or a batch and store them (see ``DeepFace.register``;
    ``keywords``: its options, the table ``REGISTER``).

    Faces are stored ``INSERT_CHUNK_FACES`` at a time, one bulk write each. When some
    inputs of a batch fail, the others' faces are stored and a ``BatchError`` names the
    failed ones (its ``results``: the stored faces of each other input).
    """
    options = RegisterOptions(**keywords)
    spec_of(options.database_type)
    images, is_batch = split_images(img)
    names = image_names(images, options.img_name)
    embedding = represent_options(options, return_face=True)
    client = connect(options.database_type, options.connection_details, options.connection)  # fail fast
    try:
        embedded = iter_represent(images, embedding, name_indices=is_batch)
        inserted, stored, errors = store_embeddings(client, embedded, names, criteria_of(options))
    finally:
        client.close()
    if errors:
        if not is_batch:
            raise errors[0]
        raise_batch_error(errors, stored, len(images))
    if inserted == 0 and not any(stored):
        raise FaceNotDetected("no embeddings were detected in the provided image(s)")
    logger.debug("registered %d faces", inserted)
    return {"inserted": inserted}


def split_images(img: Any) -> Tuple[List[Any], bool]:
    """The inputs of a call, and whether it was a batch (a list, tuple or 4-D array)."""
    if image_utils.is_batch_input(img):
        return image_utils.split_batch(img), True
    return [img], False


def image_names(images: Sequence[Any], img_name: Optional[Union[str, Sequence[str]]]) -> List[str]:
    """deepface's name of each image: ``img_name``, else its path (for .jpg/.jpeg/.png),
    else a random UUID. A list of names gives one per image."""
    if isinstance(img_name, (list, tuple)):
        if len(img_name) != len(images):
            raise ValueError(f"img_name has {len(img_name)} names for {len(images)} images")
        return [str(name) for name in img_name]
    if img_name is not None:
        return [str(img_name)] * len(images)
    return [
        image if isinstance(image, str) and image.endswith(NAMED_EXTENSIONS) else str(uuid.uuid4())
        for image in images
    ]


def store_embeddings(
    client: Database,
    embedded: Iterator[Tuple[ImageResult, List[Dict[str, Any]]]],
    names: List[str],
    criteria: Criteria,
) -> Tuple[int, List[List[Dict[str, Any]]], Dict[int, Exception]]:
    """Store every face of ``embedded`` in bulk writes; return the count, the stored faces
    of each input and the errors of the inputs that failed."""
    inserted, pending = 0, []
    stored: List[List[Dict[str, Any]]] = []
    errors: Dict[int, Exception] = {}
    for result, faces in embedded:
        if result.error is not None:
            errors[result.index] = result.error
        name = names[result.index]
        pending.extend(NewEmbedding(name, face["face"], face["embedding"], criteria) for face in faces)
        stored.append([{"img_name": name, "facial_area": face["facial_area"]} for face in faces])
        if len(pending) >= INSERT_CHUNK_FACES:
            inserted += client.insert(pending)
            pending = []
    if pending:
        inserted += client.insert(pending)
    return inserted, stored, errors


# ---------------------------------------------------------------- search


def search(img: Any, **keywords: Any) -> Union[List[Result], List[List[Result]]]:
    """The stored faces matching each query face, one result per face: for a batch (list,
    tuple, 4-D array) the faces of its inputs one after the other as deepface gives them, or
    one list per input with ``group_by_input`` (see ``DeepFace.search``; ``keywords``: its
    options, the table ``SEARCH``). When some inputs of a batch fail, a ``BatchError``
    names them and carries the others' results (one list per input)."""
    query = QueryOptions(**keywords)
    spec_of(query.database_type)
    options = DatabaseSearchOptions(
        model_name=query.model_name,
        distance_metric=search_metric(query.distance_metric, query.search_method, query.l2_normalize),
        search_method=query.search_method,
        similarity_search=query.similarity_search,
        k=query.k,
        return_type=package_utils.resolve_dataframe_return_type(query.return_type),
    )
    images, is_batch = split_images(img)
    client = connect(query.database_type, query.connection_details, query.connection)  # fail fast
    try:
        queries, errors = embed_queries(images, represent_options(query), is_batch)
        if errors and not is_batch:
            raise errors[0]
        faces = [face for image_faces in queries for face in image_faces]
        criteria = criteria_of(query)
        with timings.stage("search"):
            matches, columns = match_faces(client, faces, criteria, options) if faces else ([], list(MATCH_COLUMNS))
    finally:
        client.close()
    formatted = iter(format_result(rows, columns, options.return_type) for rows in matches)
    per_image = [[next(formatted) for _ in image_faces] for image_faces in queries]
    if errors:
        raise_batch_error(errors, per_image, len(images))
    if is_batch and query.group_by_input:
        return per_image
    return [result for image_results in per_image for result in image_results]


def search_metric(distance_metric: str, search_method: str, l2_normalize: bool) -> str:
    """deepface's metric overrides: ann measures cosine for L2-normalised vectors and
    euclidean otherwise; exact search measures euclidean_l2 for normalised euclidean."""
    if search_method == "ann":
        metric = "cosine" if l2_normalize else "euclidean"
        if metric != distance_metric:
            logger.warning(
                "ann search measures %s distances here (l2_normalize=%s), not %s", metric, l2_normalize, distance_metric
            )
        return metric
    if l2_normalize and distance_metric == "euclidean":
        logger.warning("vectors are L2-normalised: distance_metric euclidean becomes euclidean_l2")
        return "euclidean_l2"
    return distance_metric


def embed_queries(
    images: List[Any], options: RepresentOptions, is_batch: bool
) -> Tuple[List[List[QueryFace]], Dict[int, Exception]]:
    """The faces of every query image, embedded in batched passes; failed inputs apart."""
    queries: List[List[QueryFace]] = []
    errors: Dict[int, Exception] = {}
    for result, faces in iter_represent(images, options, name_indices=is_batch):
        if result.error is not None:
            errors[result.index] = result.error
        queries.append([QueryFace(face["embedding"], face["facial_area"]) for face in faces])
    return queries, errors


def match_faces(
    client: Database, faces: List[QueryFace], criteria: Criteria, options: DatabaseSearchOptions
) -> Tuple[List[List[Dict[str, Any]]], List[str]]:
    """The kept rows of each face (closest first, at most ``k``) and the result columns."""
    if options.search_method == "exact":
        return match_exact(client, faces, criteria, options)
    if client.is_vector_db:
        return match_vector_db(client, faces, criteria, options)
    return match_faiss(client, faces, criteria, options)


def match_exact(
    client: Database, faces: List[QueryFace], criteria: Criteria, options: DatabaseSearchOptions
) -> Tuple[List[List[Dict[str, Any]]], List[str]]:
    """Every query face against every stored face of ``criteria``: one fetch, and all query
    faces ranked together (matrix products), with deepface's distances for the rows kept."""
    stored = client.fetch_all(criteria)
    if not stored:
        raise no_embeddings(criteria)
    matrix = np.asarray([row.embedding for row in stored], dtype=np.float64)
    queries = np.asarray([face.vector for face in faces], dtype=np.float64)
    columns = ["id", "img_name", *(CRITERIA_COLUMNS if stored[0].criteria else ()), *MATCH_COLUMNS]
    ranking = ExactRanking(matrix, options.distance_metric)
    matches = []
    for face, query, estimate in zip(faces, queries, ranking.estimates(queries)):
        candidates, distances = ranking.refine(query, estimate, options)
        order = np.argsort(distances, kind="stable")  # ties keep id order, as deepface's sort
        if not options.similarity_search:
            order = order[distances[order] <= options.threshold]
        kept = order[: options.k]
        matches.append([exact_row(stored[candidates[i]], float(distances[i]), face, options) for i in kept])
    return matches, columns


class ExactRanking:
    """deepface's distances from many query faces to the stored ``matrix``, computed together.

    Cosine and angular distances come from one matrix product. Euclidean distances (and
    euclidean_l2, on unit vectors) are estimated the same way (|a|^2 + |b|^2 - 2ab), and
    those that may be kept (within the threshold, or among the k closest, with a margin far
    above the estimate's rounding error) are computed again as deepface does, |a - b|.
    """

    #: The margin, relative to the vectors' norms, added to the cut before the exact pass.
    RELATIVE_MARGIN = 1e-6

    def __init__(self, matrix: NDArray[np.float64], metric: str) -> None:
        self.metric = metric
        self.euclidean = metric in ("euclidean", "euclidean_l2")
        self.matrix = l2_normalize(matrix, axis=1) if metric == "euclidean_l2" else matrix
        self.norms = np.linalg.norm(self.matrix, axis=1)

    def _prepared(self, queries: NDArray[np.float64]) -> NDArray[np.float64]:
        return l2_normalize(queries, axis=1) if self.metric == "euclidean_l2" else queries

    def estimates(self, queries: NDArray[np.float64]) -> NDArray[np.float64]:
        """(queries, stored) distances: final for cosine and angular, estimates for the euclidean ones."""
        queries = self._prepared(queries)
        products = queries @ self.matrix.T
        query_norms = np.linalg.norm(queries, axis=1)[:, None]
        if self.euclidean:
            return np.sqrt(np.maximum(query_norms**2 + self.norms**2 - 2 * products, 0.0))
        similarity = products / (self.norms * query_norms)
        if self.metric == "cosine":
            return 1 - similarity
        return np.arccos(np.clip(similarity, -1.0, 1.0)) / np.pi  # angular

    def refine(
        self, query: NDArray[np.float64], estimate: NDArray[np.float64], options: DatabaseSearchOptions
    ) -> Tuple[NDArray[np.int64], NDArray[np.float64]]:
        """(indices of the stored rows that may be kept, in id order; their distances)."""
        everything = np.arange(len(estimate))
        if not self.euclidean:
            return everything, estimate
        cut = np.inf if options.similarity_search else options.threshold
        if options.k is not None and options.k < len(estimate):
            cut = min(cut, float(np.partition(estimate, options.k - 1)[options.k - 1]))
        if np.isinf(cut):
            candidates = everything
        else:
            prepared = self._prepared(query[None, :])[0]
            margin = self.RELATIVE_MARGIN * (np.linalg.norm(prepared) + float(self.norms.max()))
            candidates = np.flatnonzero(estimate <= cut + margin)
        return candidates, self._exact(query, candidates)

    def _exact(self, query: NDArray[np.float64], candidates: NDArray[np.int64]) -> NDArray[np.float64]:
        """deepface's |a - b| for the ``candidates`` rows (unit vectors for euclidean_l2)."""
        prepared = self._prepared(query[None, :])[0]
        return np.linalg.norm(self.matrix[candidates] - prepared, axis=1)


def exact_row(
    stored: StoredEmbedding, distance: float, face: QueryFace, options: DatabaseSearchOptions
) -> Dict[str, Any]:
    row: Dict[str, Any] = {"id": stored.id, "img_name": stored.img_name}
    if stored.criteria is not None:
        row.update(criteria_fields(stored.criteria))
    row.update(match_fields(distance, face, options))
    return row


def match_faiss(
    client: Database, faces: List[QueryFace], criteria: Criteria, options: DatabaseSearchOptions
) -> Tuple[List[List[Dict[str, Any]]], List[str]]:
    index = faiss_index.deserialize(client.load_index(criteria))
    queries = np.asarray([face.vector for face in faces], dtype=np.float32)
    squared, ids = faiss_index.search(index, queries, options.k or faiss_index.DEFAULT_ANN_K)
    matches = []
    for face, face_squared, face_ids in zip(faces, squared, ids):
        hits = [
            Neighbour(id=int(key), img_name=None, distance=ann_distance(float(value), options.distance_metric))
            for value, key in zip(face_squared, face_ids)
            if key != -1
        ]
        matches.append(kept_rows(hits, face, criteria, options))
    names = client.names_by_id([row["id"] for rows in matches for row in rows])
    for rows in matches:
        for row in rows:
            row["img_name"] = names.get(row["id"])
    return matches, ["id", *CRITERIA_COLUMNS, *MATCH_COLUMNS, "img_name"]


def ann_distance(squared_l2: float, metric: str) -> float:
    """faiss gives squared L2: its root for euclidean, its half (the cosine distance of
    unit vectors) for cosine."""
    return math.sqrt(squared_l2) if metric == "euclidean" else squared_l2 / 2


def match_vector_db(
    client: Database, faces: List[QueryFace], criteria: Criteria, options: DatabaseSearchOptions
) -> Tuple[List[List[Dict[str, Any]]], List[str]]:
    neighbours = client.nearest([face.vector for face in faces], criteria, options.k or faiss_index.DEFAULT_ANN_K)
    if not any(neighbours):
        raise no_embeddings(criteria)
    matches = [kept_rows(hits, face, criteria, options) for hits, face in zip(neighbours, faces)]
    return matches, ["id", "img_name", *CRITERIA_COLUMNS, *MATCH_COLUMNS]


def kept_rows(
    hits: List[Neighbour], face: QueryFace, criteria: Criteria, options: DatabaseSearchOptions
) -> List[Dict[str, Any]]:
    """The hits within the threshold (all with ``similarity_search``), closest first, at most ``k``."""
    kept = sorted((hit for hit in hits if options.keep(hit.distance)), key=lambda hit: hit.distance)
    rows = []
    for hit in kept[: options.k]:
        row: Dict[str, Any] = {"id": hit.id}
        if hit.img_name is not None:
            row["img_name"] = hit.img_name
        row.update(criteria_fields(criteria))
        row.update(match_fields(hit.distance, face, options))
        rows.append(row)
    return rows


def criteria_fields(criteria: Criteria) -> Dict[str, Any]:
    values = (criteria.model_name, criteria.detector_backend, criteria.aligned, criteria.l2_normalized)
    return dict(zip(CRITERIA_COLUMNS, values))


def match_fields(distance: float, face: QueryFace, options: DatabaseSearchOptions) -> Dict[str, Any]:
    verified = distance <= options.threshold
    area = face.facial_area
    return {
        "search_method": options.search_method,
        "target_x": area.get("x"),
        "target_y": area.get("y"),
        "target_w": area.get("w"),
        "target_h": area.get("h"),
        "threshold": options.threshold,
        "distance_metric": options.distance_metric,
        "distance": distance,
        "confidence": find_confidence(distance, options.model_name, verified, options.distance_metric),
    }


def format_result(rows: List[Dict[str, Any]], columns: List[str], return_type: str) -> Result:
    if return_type == "dict":
        return rows
    import pandas as pd  # pylint: disable=import-outside-toplevel  (only for DataFrame results)

    return pd.DataFrame(rows) if rows else pd.DataFrame(columns=columns)


def no_embeddings(criteria: Criteria) -> EmptyDatasource:
    return EmptyDatasource(f"no embeddings found in the database for {criteria.describe()}: register faces first")


# ---------------------------------------------------------------- identify


def identify(img: Any, identity_id: Union[str, int], **keywords: Any) -> Dict[str, Any]:
    """Is the closest face of ``img`` the stored identity ``identity_id``? (see
    ``DeepFace.identify``; ``keywords``: its options, the table ``IDENTIFY``)."""
    started = time.time()
    options = IdentifyOptions(**keywords)
    images, _ = split_images(img)
    if len(images) != 1:
        raise DataTypeError(f"identify takes a single image, but {len(images)} were given: call it once per image")
    spec_of(options.database_type)
    metric = search_metric(options.distance_metric, "exact", options.l2_normalize)
    if metric not in METRICS:
        raise ValueError(f"unsupported distance_metric {metric!r}; choose one of {METRICS}")
    threshold = find_threshold(options.model_name, metric)
    criteria = criteria_of(options)
    client = connect(options.database_type, options.connection_details, options.connection)
    try:
        stored = client.fetch_one(identity_id, criteria)
    finally:
        client.close()
    if stored is None:
        raise IdentityNotFound(f"identity_id {identity_id!r} is not in the database")
    check_comparable(stored, identity_id, criteria)
    (faces,), errors = embed_queries(images, represent_options(options), is_batch=False)
    if errors:
        raise errors[0]
    distances = [float(find_distance(stored.embedding, face.vector, metric)) for face in faces]
    closest = int(np.argmin(distances))
    distance = distances[closest]
    verified = distance <= threshold
    identity = stored.id.item() if isinstance(stored.id, np.generic) else stored.id
    return {
        "verified": verified,
        "distance": distance,
        "threshold": float(threshold),
        "confidence": float(find_confidence(distance, options.model_name, verified, metric)),
        "model": options.model_name,
        "detector_backend": options.detector_backend,
        "similarity_metric": metric,
        "id": identity,
        "img_name": str(stored.img_name),
        "facial_areas": {"img1": faces[closest].facial_area, "img2": None},
        "time": round(time.time() - started, 2),
    }


def check_comparable(stored: StoredEmbedding, identity_id: Any, criteria: Criteria) -> None:
    """Refuse an identity of another model or normalisation; warn for another detector or alignment."""
    registered = stored.criteria
    if registered is None:
        return
    if registered.model_name != criteria.model_name:
        raise IncompatibleIdentity(
            f"identity_id {identity_id!r} was registered with {registered.model_name}, not {criteria.model_name}"
        )
    if registered.l2_normalized != criteria.l2_normalized:
        raise IncompatibleIdentity(
            f"identity_id {identity_id!r} was registered with l2_normalize={registered.l2_normalized}, "
            f"not {criteria.l2_normalized}"
        )
    if (registered.detector_backend, registered.aligned) != (criteria.detector_backend, criteria.aligned):
        logger.warning(
            "identity_id %r was registered with detector_backend=%s, align=%s (asked: %s, %s): distances may differ",
            identity_id, registered.detector_backend, registered.aligned, criteria.detector_backend, criteria.aligned,
        )  # fmt: skip


# ---------------------------------------------------------------- build_index


def build_index(**keywords: Any) -> None:
    """Build or extend the faiss HNSW index of one criteria set, stored in the database's
    ``embeddings_index`` table (see ``DeepFace.build_index``; ``keywords``: its options, the
    table ``BUILD_INDEX``). Vector databases index by themselves (nothing to do), except
    pgvector, whose HNSW index (deepface's, which deepface creates with each table) it creates."""
    options = BuildIndexOptions(**keywords)
    spec = spec_of(options.database_type)
    if spec.is_vector_db and not spec.builds_index:
        logger.info("%s indexes by itself: no index to build", options.database_type)
        return
    if not spec.is_vector_db:
        faiss_index.import_faiss()
    criteria = criteria_of(options)
    client = connect(options.database_type, options.connection_details, options.connection)
    try:
        if spec.is_vector_db:
            client.build_native_index(criteria)
            return
        index_data = extended_index(client, criteria, options.batch_size, options.max_neighbors_per_node)
        if index_data is not None:
            client.save_index(criteria, index_data)
    finally:
        client.close()


def extended_index(
    client: Database, criteria: Criteria, batch_size: int, max_neighbors_per_node: int
) -> Optional[bytes]:
    """The stored index (or a new one) with every row it lacks added; None when none lacks."""
    stored = client.fetch_all(criteria)
    if not stored:
        raise no_embeddings(criteria)
    index = stored_index(client, criteria)
    known = faiss_index.indexed_ids(index) if index is not None else set()
    missing = [row for row in stored if int(row.id) not in known]
    if not missing:
        logger.info("every embedding of %s is already indexed", criteria.describe())
        return None
    if index is None:
        index = faiss_index.new_index(len(stored[0].embedding), max_neighbors_per_node)
    vectors = np.asarray([row.embedding for row in missing], dtype=np.float32)
    faiss_index.add(index, [int(row.id) for row in missing], vectors, batch_size)
    logger.info("indexed %d new embeddings (%d in all)", len(missing), index.ntotal)
    return faiss_index.serialize(index)


def stored_index(client: Database, criteria: Criteria) -> Any:
    try:
        return faiss_index.deserialize(client.load_index(criteria))
    except IndexNotFound:
        return None


__all__ = ["build_index", "identify", "register", "search"]
