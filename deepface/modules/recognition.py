"""``find``: the faces of a folder of images that match the faces of query images.

The folder's faces are embedded once and kept in a datastore file beside the images
(:mod:`deepface.modules.datastore_files`), refreshed on each call; the folder may be local,
an S3 bucket or an FTP server (:mod:`deepface.modules.filestore`): only images added
or changed since are embedded, in batches through the shared pipeline. Query images
(one, or a batch) go through the same pipeline; each query face is compared with every
stored face in one matrix computation.

Results are deepface 0.0.103's: one table (a pandas DataFrame, or a list of dicts with
``return_type="dict"``) per query face, rows sorted by distance.
"""

import os
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple, Union

import numpy as np
from numpy.typing import NDArray
from tqdm import tqdm

from deepface.commons import image_utils, package_utils
from deepface.commons.exceptions import (
    DimensionMismatchError,
    EmptyDatasource,
    PathNotFound,
    UnimplementedError,
)
from deepface.commons.logger import get_logger
from deepface.modules import datastore_files, filestore
from deepface.modules.datastore_files import Representations, StoredFace
from deepface.modules.filestore import FileStore, LocalFileStore
from deepface.modules.detection import DEEPFACE_BORDER
from deepface.modules.pipeline import raise_batch_error
from deepface.modules.representation import RepresentOptions, iter_represent
from deepface.modules.verification import find_confidence, find_distance, find_threshold
from deepface.options.verbs import FIND, REPRESENT

logger = get_logger(__name__)

#: deepface's remote stores (``find`` reads them; ``stream`` only local folders).
REMOTE_SCHEMES = ("s3", "ftp")
#: deepface's names for the datastore's columns and formats (written once in datastore_files).
DATASTORE_STRING_COLUMNS = list(datastore_files.STRING_COLUMNS)
DATASTORE_INT_COLUMNS = list(datastore_files.BOX_COLUMNS)
DATASTORE_COLUMNS = list(datastore_files.COLUMNS)
DATASTORE_FORMATS = set(datastore_files.DATASTORE_FORMATS)
PYARROW_DATASTORE_FORMATS = set(datastore_files.ARROW_FORMATS)
#: Gallery values compared at once with the query faces (bounds euclidean's (M, N, D) array).
DISTANCE_CHUNK_VALUES = 1 << 24

DistanceMetric = Union[str, Callable[..., Any]]
Box = Tuple[int, int, int, int]


# ---------------------------------------------------------------- internal records


@dataclass
class EmbeddedFace:
    """One face's embedding and its box in its image (x, y, w, h)."""

    embedding: Sequence[float]
    box: Box


@dataclass
class EmbeddedImage:
    """One input's faces, or the error that stopped it; ``index`` is its input position."""

    index: int
    faces: List[EmbeddedFace] = field(default_factory=list)
    error: Optional[Exception] = None


#: Embeds images given by path, yielding one :class:`EmbeddedImage` per path.
Embedder = Callable[[Sequence[str]], Iterable[EmbeddedImage]]


@dataclass(frozen=True)
class RefreshPlan:
    """How the datastore differs from the folder."""

    added: Set[str]
    removed: Set[str]
    replaced: Set[str]

    @property
    def to_embed(self) -> Set[str]:
        return self.added | self.replaced

    @property
    def to_drop(self) -> Set[str]:
        return self.removed | self.replaced

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.replaced)


@dataclass(frozen=True)
class FolderSearchOptions:
    """How query faces are matched against the stored ones."""

    model_name: str
    distance_metric: DistanceMetric
    threshold: float
    similarity_search: bool
    k: Optional[int]
    return_type: str
    datastore_name: str


class FindChecks:
    """What ``FindOptions`` adds to its table (``deepface.options.verbs.FIND``)."""

    distance_metric: DistanceMetric
    threshold: Optional[float]
    datastore_format: str
    return_type: Optional[str]

    def _finish(self) -> None:
        resolved = package_utils.resolve_dataframe_return_type(self.return_type)
        object.__setattr__(self, "return_type", resolved)
        if not isinstance(self.distance_metric, str) and self.threshold is None:
            raise ValueError("Threshold must be specified when using custom distance metrics")
        datastore_files.check_format(self.datastore_format)


#: The keywords of one ``find`` call, checked once: one field per option of ``FIND``
#: (``return_type`` resolved: ``"pandas"`` or ``"dict"``).
FindOptions = FIND.dataclass("FindOptions", base=FindChecks, module=__name__)


# ---------------------------------------------------------------- public entry point


def find(img_path: Any, db_path: Union[str, "os.PathLike[str]"], **options: Any) -> Union[List[Any], List[List[Any]]]:
    """Find the faces of ``db_path``'s images that match the faces of ``img_path``
    (see ``DeepFace.find``, whose keywords ``options`` are: the table ``FIND``).

    One image in gives deepface's result: a list with one table per face detected in it.
    A list, tuple or 4-D array of images gives one such list per input, in input order
    (a batch error names the inputs that failed and carries the others' results).

    Beyond deepface's arguments: ``batch_size`` (images per detector batch, faces per
    model pass), ``detection_border`` and ``detector_options`` go to the pipeline for the
    folder's images and the queries alike. A non-default ``detection_border`` may find
    other faces, so its datastore gets its own file name (see :func:`border_suffix`).
    """
    return find_with(img_path, db_path, FindOptions(**options))


def find_with(
    img_path: Any, db_path: Union[str, "os.PathLike[str]"], options: FindOptions
) -> Union[List[Any], List[List[Any]]]:
    """``find`` with its options checked: sync the folder's datastore, embed the queries,
    match them against it."""
    tic = time.time()
    store = filestore.build_file_store(os.fspath(db_path))
    pretuned = find_threshold(options.model_name, options.distance_metric)
    gallery_options = folder_represent_options(options)
    datastore_name = folder_datastore_name(options)
    gallery = sync_datastore(
        store,
        store.join(datastore_name),
        options.datastore_format,
        embed=pipeline_embedder(gallery_options, store),
        refresh=options.refresh_database,
        silent=options.silent,
    )
    batch = image_utils.is_batch_input(img_path)
    inputs = image_utils.split_batch(img_path) if batch else [img_path]
    if len(gallery) == 0:
        _log_duration(tic, options.silent)
        return [[] for _ in inputs] if batch else []
    search = folder_search_options(options, pretuned, datastore_name)
    if not options.silent:
        what = f"{len(inputs)} inputs" if batch else describe_query(img_path)
        logger.info("Searching %s in %d length datastore", what, len(gallery))
    # deepface embeds the folder's images without anti-spoofing, the queries with it
    query_options = replace(gallery_options, anti_spoofing=options.anti_spoofing)
    matches = match_queries(inputs, query_options, gallery, search, name_indices=batch)
    results = _collect(matches, len(inputs), batch)
    _log_duration(tic, options.silent)
    return results


# ---------------------------------------------------------------- find's steps


def folder_represent_options(options: FindOptions) -> RepresentOptions:
    """How the folder's images are embedded: ``find``'s detection and model options, no anti-spoofing."""
    shared = {name: getattr(options, name) for name in REPRESENT.names if name in FIND}
    return RepresentOptions(**{**shared, "anti_spoofing": False})


def folder_datastore_name(options: FindOptions) -> str:
    """The datastore file of the folder for these options (deepface's name, plus the border's)."""
    return datastore_files.datastore_file_name(
        options.model_name,
        options.detector_backend,
        options.align,
        options.normalization,
        options.expand_percentage,
        options.datastore_format,
        suffix=border_suffix(options.detection_border, options.align),
    )


def folder_search_options(options: FindOptions, pretuned: float, datastore_name: str) -> FolderSearchOptions:
    """How the query faces are matched: the given threshold, else the model's pre-tuned one."""
    return FolderSearchOptions(
        model_name=options.model_name,
        distance_metric=options.distance_metric,
        threshold=pretuned if options.threshold is None else options.threshold,
        similarity_search=options.similarity_search,
        k=options.k,
        return_type=options.return_type,
        datastore_name=datastore_name,
    )


# ---------------------------------------------------------------- arguments


def local_folder(db_path: Union[str, "os.PathLike[str]"]) -> str:
    """``db_path`` as a folder path, checked to exist (only local folders are supported)."""
    path = os.fspath(db_path)
    scheme = path.split("://", 1)[0].lower() if "://" in path else ""
    if scheme in REMOTE_SCHEMES:
        raise UnimplementedError(
            f"db_path {scheme}://...: only find reads {scheme} folders; stream needs a local folder"
        )
    if len(scheme) > 1:  # one letter is a Windows drive, as in C://photos
        raise ValueError(f"Unsupported db_path scheme {scheme}. Options: a local folder.")
    if not os.path.isdir(path):
        raise PathNotFound(f"Passed path {path} does not exist!")
    return path


def border_suffix(detection_border: Optional[float], align: bool) -> str:
    """The datastore name's suffix for a non-default detection border (other faces may be
    found, so they get their own datastore); empty for deepface's border."""
    if detection_border is None:
        return ""
    default = DEEPFACE_BORDER if align else 0.0
    if float(detection_border) == default:
        return ""
    return f"_border_{float(detection_border):g}".replace(".", "p")


def describe_query(img: Any) -> str:
    """A short description of a query image for logs (a path, or its kind)."""
    if isinstance(img, str):
        return img if len(img) < 200 else f"{img[:40]}..."
    if isinstance(img, np.ndarray):
        return f"an image array of shape {img.shape}"
    return f"a {type(img).__name__}"


def _log_duration(tic: float, silent: bool) -> None:
    if not silent:
        logger.info("find function duration %.2f seconds", time.time() - tic)


# ---------------------------------------------------------------- the datastore


def sync_datastore(
    folder: Union[str, FileStore],
    datastore_path: str,
    datastore_format: str,
    embed: Embedder,
    refresh: bool = True,
    silent: bool = False,
) -> Representations:
    """The datastore of ``folder`` (a local folder or a :class:`FileStore`), brought up to
    date with its images when ``refresh``.

    Images added or changed since the datastore was written are embedded by ``embed``
    (their rows replace the old ones); rows of removed images are dropped. The file is
    rewritten only when something changed.

    Raises:
        EmptyDatasource: ``refresh`` and the folder holds no image; or not ``refresh``
            and the datastore is empty.
    """
    store = folder if isinstance(folder, FileStore) else LocalFileStore(folder)
    if not store.exists(datastore_path):
        _write(store, datastore_path, Representations.empty(), datastore_format)
    stored = datastore_files.deserialize(store.read_bytes(datastore_path), datastore_format, datastore_path)
    if not refresh:
        if len(stored) == 0:
            raise EmptyDatasource(f"Nothing is found in {datastore_path}")
        logger.info(
            "Could be some changes in %s not tracked. Set refresh_database to true to assure "
            "that any changes will be tracked.",
            store.describe(),
        )
        return stored

    images = set(store.list_images())
    if not images:
        raise EmptyDatasource(f"No item found in {store.describe()}")
    plan = plan_refresh(stored, images, store.find_hash)
    if not plan:
        return stored
    if not silent:
        logger.info(
            "Found %d newly added image(s), %d removed image(s), %d replaced image(s).",
            len(plan.added),
            len(plan.removed),
            len(plan.replaced),
        )
    dropped = plan.to_drop
    kept = stored.select(np.array([identity not in dropped for identity in stored.identities], dtype=bool))
    updated = kept.extend(embed_images(sorted(plan.to_embed), embed, silent, store.find_hash))
    _write(store, datastore_path, updated, datastore_format)
    if not silent:
        logger.info(
            "There are now %d representations in %s", len(updated), os.path.basename(datastore_path)
        )
    return updated


def _write(store: FileStore, path: str, representations: Representations, datastore_format: str) -> None:
    """Write the datastore whole (the store never shows half of it)."""
    store.write_bytes(path, datastore_files.serialize(representations, datastore_format))


def plan_refresh(stored: Representations, images: Set[str], hash_of: Callable[[str], str]) -> RefreshPlan:
    """Compare the stored rows with the folder's images: added, removed, and replaced
    (present in both, with a fingerprint that changed)."""
    stored_hashes: Dict[str, Set[str]] = {}
    for identity, fingerprint in zip(stored.identities, stored.hashes):
        stored_hashes.setdefault(identity, set()).add(fingerprint)
    replaced = set()
    for identity, fingerprints in stored_hashes.items():
        if identity in images and fingerprints != {hash_of(identity)}:
            logger.debug("Even though %s represented before, it's replaced later.", identity)
            replaced.add(identity)
    return RefreshPlan(
        added=images - stored_hashes.keys(), removed=set(stored_hashes) - images, replaced=replaced
    )


def embed_images(
    paths: Sequence[str],
    embed: Embedder,
    silent: bool = False,
    hash_of: Callable[[str], str] = image_utils.find_image_hash,
) -> Representations:
    """Rows for ``paths``: one per face found, or one without embedding for an image
    where none was found or that failed (logged; the others go on). ``hash_of`` gives
    each image's fingerprint (its store's)."""
    fingerprints = [hash_of(path) for path in paths]
    faces_of: Dict[int, EmbeddedImage] = {}
    with tqdm(total=len(paths), desc="Finding representations", disable=silent) as progress:
        for image in embed(paths):
            if image.error is not None:
                logger.error("Exception while extracting faces from %s: %s", paths[image.index], image.error)
            faces_of[image.index] = image
            progress.update(1)
    rows: List[StoredFace] = []
    for index, (path, fingerprint) in enumerate(zip(paths, fingerprints)):
        image = faces_of.get(index)
        faces = image.faces if image is not None and image.error is None else []
        if not faces:
            rows.append(StoredFace(path, fingerprint))
        rows.extend(StoredFace(path, fingerprint, face.embedding, face.box) for face in faces)
    return Representations.from_rows(rows)


def pipeline_embedder(options: RepresentOptions, store: Optional[FileStore] = None) -> Embedder:
    """An :data:`Embedder` running the shared pipeline: detection and the model's
    forward pass over many images at once. A remote ``store``'s images are read as
    the pipeline reaches them (bytes, decoded there)."""

    def embed(paths: Sequence[str]) -> Iterator[EmbeddedImage]:
        inputs = paths if store is None else (store.pipeline_input(path) for path in paths)
        # the log names each failed path itself: no input index in the messages
        for result, faces in iter_represent(inputs, options, name_indices=False):
            yield _embedded_image(result, faces)

    return embed


def _embedded_image(result: Any, faces: List[Dict[str, Any]]) -> EmbeddedImage:
    if result.error is not None:
        return EmbeddedImage(index=result.index, error=result.error)
    return EmbeddedImage(
        index=result.index,
        faces=[EmbeddedFace(embedding=face["embedding"], box=_box(face["facial_area"])) for face in faces],
    )


def _box(area: Dict[str, Any]) -> Box:
    return int(area["x"]), int(area["y"]), int(area["w"]), int(area["h"])


# ---------------------------------------------------------------- queries


def match_queries(
    inputs: Sequence[Any],
    options: RepresentOptions,
    gallery: Representations,
    search: FolderSearchOptions,
    name_indices: bool = True,
) -> Iterator[Tuple[Any, List[Any]]]:
    """Each input's result record and its tables (one per face), in input order; the
    faces of all inputs are embedded in batched passes. ``name_indices=False`` leaves
    input indices out of error messages (one-image calls)."""
    tables = _table_builder(gallery, search)
    for result, faces in iter_represent(inputs, options, name_indices=name_indices):
        image = _embedded_image(result, faces)
        yield result, ([] if image.error is not None else tables(image.faces))


def _collect(matches: Iterator[Tuple[Any, List[Any]]], total: int, batch: bool) -> List[Any]:
    outputs: List[List[Any]] = []
    errors: Dict[int, Exception] = {}
    for result, tables in matches:
        if result.error is not None:
            errors[result.index] = result.error
        outputs.append(tables)
    if errors and not batch:
        raise next(iter(errors.values()))
    if errors:
        raise_batch_error(errors, outputs, total)
    return outputs if batch else outputs[0]


def _table_builder(gallery: Representations, search: FolderSearchOptions) -> Callable[[List[EmbeddedFace]], List[Any]]:
    """The function turning one image's query faces into their result tables."""
    valid = np.flatnonzero(gallery.has_embedding)
    if search.return_type == "dict":
        columns = _GalleryColumns.of(gallery)
        return lambda faces: _dict_tables(faces, gallery, valid, columns, search)
    base_frame = _gallery_frame(gallery)
    return lambda faces: _frame_tables(faces, gallery, valid, base_frame, search)


def _query_matrix(
    faces: List[EmbeddedFace], gallery: Representations, search: FolderSearchOptions
) -> NDArray[np.float64]:
    queries = np.asarray([face.embedding for face in faces], dtype=np.float64)
    stored = gallery.dimension
    if stored and queries.shape[1] != stored:
        raise DimensionMismatchError(
            f"Source and target embeddings must have same dimensions but {queries.shape[1]}:{stored}. "
            f"Model structure may change after datastore created. Delete the {search.datastore_name} and re-run."
        )
    return queries


def distance_matrix(
    gallery: Representations, valid: NDArray[np.intp], queries: NDArray[np.float64], metric: DistanceMetric
) -> NDArray[np.float64]:
    """Distances ``(M, N)`` from each query to each stored face; inf where a row has no
    embedding. A callable metric gets the stored embeddings ``(N_valid, D)`` first and the
    queries ``(M, D)`` second, once; a named one runs over slices of the gallery."""
    distances = np.full((len(queries), len(gallery)), np.inf)
    if len(valid) == 0:
        return distances
    if not isinstance(metric, str):
        distances[:, valid] = np.asarray(find_distance(gallery.embeddings[valid], queries, metric))
        return distances
    step = max(1, DISTANCE_CHUNK_VALUES // max(1, queries.shape[0] * queries.shape[1]))
    for start in range(0, len(valid), step):
        rows = valid[start : start + step]
        distances[:, rows] = find_distance(gallery.embeddings[rows], queries, metric)
    return distances


def _pairwise_distances(
    gallery: Representations, valid: NDArray[np.intp], query: NDArray[np.float64], metric: DistanceMetric
) -> NDArray[np.float64]:
    """Distances from one query to each stored face, a callable metric called per pair
    (deepface's contract for scalar callables with pandas results); inf where none."""
    distances = np.full(len(gallery), np.inf)
    for row in valid:
        distances[row] = float(find_distance(gallery.embeddings[row], query, metric))
    return distances


# dict results: numpy scalars, keys in deepface's order for the stored columns first


@dataclass(frozen=True)
class _GalleryColumns:
    identity: NDArray[Any]
    hash: NDArray[Any]
    boxes: NDArray[np.int64]

    @classmethod
    def of(cls, gallery: Representations) -> "_GalleryColumns":
        return cls(np.array(gallery.identities), np.array(gallery.hashes), gallery.boxes)


def _dict_tables(
    faces: List[EmbeddedFace],
    gallery: Representations,
    valid: NDArray[np.intp],
    columns: _GalleryColumns,
    search: FolderSearchOptions,
) -> List[List[Dict[str, Any]]]:
    if not faces:
        return []
    distances = distance_matrix(gallery, valid, _query_matrix(faces, gallery, search), search.distance_metric)
    limit = np.inf if search.similarity_search else search.threshold
    threshold_value = np.full(1, limit)[0]
    return [
        _dict_rows(face, distances[i], threshold_value, columns, search) for i, face in enumerate(faces)
    ]


def _dict_rows(
    face: EmbeddedFace, distances: NDArray[np.float64], threshold: Any, columns: _GalleryColumns,
    search: FolderSearchOptions,
) -> List[Dict[str, Any]]:
    kept = np.flatnonzero(distances <= threshold)
    order = kept[np.argsort(distances[kept])]
    if search.k is not None and len(order) > search.k:
        order = order[: search.k]
    source = np.asarray(face.box, dtype=np.int64)
    rows = []
    for row in order:
        distance = distances[row]
        rows.append(
            {
                "identity": columns.identity[row],
                "hash": columns.hash[row],
                "target_x": columns.boxes[row, 0],
                "target_y": columns.boxes[row, 1],
                "target_w": columns.boxes[row, 2],
                "target_h": columns.boxes[row, 3],
                "source_x": source[0],
                "source_y": source[1],
                "source_w": source[2],
                "source_h": source[3],
                "threshold": threshold,
                "distance": distance,
                "confidence": find_confidence(
                    distance=float(distance),
                    model_name=search.model_name,
                    distance_metric=search.distance_metric,
                    verified=bool(distance <= threshold),
                ),
            }
        )
    return rows


# pandas results: deepface's columns and dtypes


def _gallery_frame(gallery: Representations) -> Any:
    import pandas as pd  # optional: only for pandas results

    frame = pd.DataFrame({"identity": gallery.identities, "hash": gallery.hashes})
    for i, name in enumerate(datastore_files.BOX_COLUMNS):
        frame[name] = gallery.boxes[:, i]
    return frame


def _frame_tables(
    faces: List[EmbeddedFace], gallery: Representations, valid: NDArray[np.intp], base: Any, search: FolderSearchOptions
) -> List[Any]:
    if not faces:
        return []
    queries = _query_matrix(faces, gallery, search)
    metric = search.distance_metric
    if isinstance(metric, str):
        matrix = distance_matrix(gallery, valid, queries, metric)
        rows_of = [matrix[i] for i in range(len(faces))]
    else:
        rows_of = [_pairwise_distances(gallery, valid, query, metric) for query in queries]
    return [_frame_for(face, distances, gallery, base, search) for face, distances in zip(faces, rows_of)]


def _frame_for(
    face: EmbeddedFace, distances: NDArray[np.float64], gallery: Representations, base: Any, search: FolderSearchOptions
) -> Any:
    frame = base.copy()
    frame["threshold"] = search.threshold
    for name, value in zip(("source_x", "source_y", "source_w", "source_h"), face.box):
        frame[name] = value
    frame["distance"] = distances.tolist()
    frame["confidence"] = [
        find_confidence(
            distance=distance,
            model_name=search.model_name,
            distance_metric=search.distance_metric,
            verified=bool(distance <= search.threshold),
        )
        if has
        else 0.0
        for distance, has in zip(frame["distance"].tolist(), gallery.has_embedding.tolist())
    ]
    if not search.similarity_search:
        frame = frame[frame["distance"] <= frame["threshold"]]
    frame = frame.sort_values(by=["distance"], ascending=True).reset_index(drop=True)
    if search.k is not None and len(frame) > search.k:
        frame = frame.head(search.k)
    return frame


__all__ = [
    "EmbeddedFace",
    "EmbeddedImage",
    "Embedder",
    "RefreshPlan",
    "distance_matrix",
    "embed_images",
    "find",
    "plan_refresh",
    "sync_datastore",
]
