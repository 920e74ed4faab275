"""The representations file that ``find`` keeps beside a folder of images.

One row per face found in an image of the folder (one row with no embedding for an
image where none was found): ``identity`` (the image's path), ``hash`` (its file
fingerprint), ``embedding`` and the face's box ``target_x/y/w/h``. The file is named
after the settings that produced the embeddings and stored as npz (numpy only),
feather or parquet (pyarrow), in deepface 0.0.103's layout: either package reads the
other's files.

In memory the rows are columns (:class:`Representations`): the embeddings form one
float64 matrix, ready for distance computations over the whole gallery.
"""

import io
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
from numpy.typing import NDArray

from deepface.commons import folder_utils
from deepface.commons.exceptions import DimensionMismatchError, MissingDependencyError
from deepface.commons.logger import get_logger

logger = get_logger(__name__)

DATASTORE_FORMATS = ("npz", "feather", "parquet")
#: Formats that need the optional pyarrow package.
ARROW_FORMATS = ("feather", "parquet")
STRING_COLUMNS = ("identity", "hash")
BOX_COLUMNS = ("target_x", "target_y", "target_w", "target_h")
COLUMNS = (*STRING_COLUMNS, "embedding", *BOX_COLUMNS)
#: npz's flag column: rows of images without a face hold zeros in ``embedding``.
HAS_EMBEDDING = "has_embedding"

Box = Tuple[int, int, int, int]


# ---------------------------------------------------------------- in memory


@dataclass(frozen=True)
class StoredFace:
    """One row to store: a face of an image, or the image itself when it has none."""

    identity: str
    hash: str
    embedding: Optional[Sequence[float]] = None
    box: Box = (0, 0, 0, 0)


@dataclass
class Representations:
    """The datastore's rows as columns.

    Attributes:
        identities: each row's image path.
        hashes: each row's image fingerprint when it was embedded.
        embeddings: ``(N, D)`` float64; zero rows where ``has_embedding`` is False.
        has_embedding: ``(N,)`` bool, False for an image where no face was found.
        boxes: ``(N, 4)`` int64: ``target_x``, ``target_y``, ``target_w``, ``target_h``.
    """

    identities: List[str]
    hashes: List[str]
    embeddings: NDArray[np.float64]
    has_embedding: NDArray[np.bool_]
    boxes: NDArray[np.int64]

    @classmethod
    def empty(cls) -> "Representations":
        return cls([], [], np.zeros((0, 0)), np.zeros(0, dtype=bool), np.zeros((0, 4), dtype=np.int64))

    @classmethod
    def from_rows(cls, rows: Sequence[StoredFace]) -> "Representations":
        """Columns from rows; every embedding must have the same length."""
        has_embedding = np.array([row.embedding is not None for row in rows], dtype=bool)
        vectors = [row.embedding for row in rows if row.embedding is not None]
        lengths = {len(vector) for vector in vectors}
        if len(lengths) > 1:
            raise DimensionMismatchError(f"embeddings of different lengths cannot be stored together: {sorted(lengths)}")
        embeddings = np.zeros((len(rows), lengths.pop() if lengths else 0), dtype=np.float64)
        if vectors:
            embeddings[has_embedding] = np.asarray(vectors, dtype=np.float64)
        return cls(
            identities=[row.identity for row in rows],
            hashes=[row.hash for row in rows],
            embeddings=embeddings,
            has_embedding=has_embedding,
            boxes=np.array([row.box for row in rows], dtype=np.int64).reshape(len(rows), 4),
        )

    def __len__(self) -> int:
        return len(self.identities)

    @property
    def dimension(self) -> int:
        """The embeddings' length (0 when no row has one)."""
        return int(self.embeddings.shape[1]) if self.has_embedding.any() else 0

    def rows(self) -> Iterable[StoredFace]:
        for i, identity in enumerate(self.identities):
            embedding = self.embeddings[i].tolist() if self.has_embedding[i] else None
            yield StoredFace(identity, self.hashes[i], embedding, tuple(int(v) for v in self.boxes[i]))  # type: ignore[arg-type]

    def select(self, keep: NDArray[np.bool_]) -> "Representations":
        """The rows where ``keep`` is True, in order."""
        positions = np.flatnonzero(keep)
        return Representations(
            identities=[self.identities[i] for i in positions],
            hashes=[self.hashes[i] for i in positions],
            embeddings=self.embeddings[positions],
            has_embedding=self.has_embedding[positions],
            boxes=self.boxes[positions],
        )

    def extend(self, other: "Representations") -> "Representations":
        """These rows followed by ``other``'s; their embeddings must have the same length."""
        dimension = _common_dimension(self, other)
        return Representations(
            identities=self.identities + other.identities,
            hashes=self.hashes + other.hashes,
            embeddings=np.concatenate([_widened(self, dimension), _widened(other, dimension)]),
            has_embedding=np.concatenate([self.has_embedding, other.has_embedding]),
            boxes=np.concatenate([self.boxes, other.boxes]),
        )


def _common_dimension(first: Representations, second: Representations) -> int:
    dimensions = {part.dimension for part in (first, second) if part.dimension}
    if len(dimensions) > 1:
        raise DimensionMismatchError(
            f"embeddings of lengths {sorted(dimensions)} cannot be stored together: the model "
            "may have changed since the datastore was created; delete it and run again"
        )
    return dimensions.pop() if dimensions else 0


def _widened(part: Representations, dimension: int) -> NDArray[np.float64]:
    """``part``'s embeddings with ``dimension`` columns (rows without a face are zeros)."""
    if part.embeddings.shape[1] == dimension:
        return part.embeddings
    return np.zeros((len(part), dimension), dtype=np.float64)


# ---------------------------------------------------------------- file names and formats


def datastore_file_name(
    model_name: str,
    detector_backend: str,
    align: bool,
    normalization: str,
    expand_percentage: int,
    datastore_format: str,
    suffix: str = "",
) -> str:
    """deepface's name for the datastore of these settings, e.g.
    ``ds_model_vggface_detector_opencv_aligned_normalization_base_expand_0.npz``.

    ``suffix`` (this package's own settings that change the faces, such as a
    non-default detection border) goes before the extension; empty gives deepface's name.
    """
    parts = [
        "ds",
        "model",
        model_name,
        "detector",
        detector_backend,
        "aligned" if align else "unaligned",
        "normalization",
        normalization,
        "expand",
        str(expand_percentage),
    ]
    stem = "_".join(parts) + suffix
    return stem.replace("-", "").lower() + f".{datastore_format}"


def check_format(datastore_format: str) -> None:
    """Raise ``ValueError`` for an unknown format, ``MissingDependencyError`` when the
    format needs pyarrow and it is not installed."""
    if datastore_format not in DATASTORE_FORMATS:
        raise ValueError(
            f"Unsupported datastore_format {datastore_format}. Options: {', '.join(sorted(DATASTORE_FORMATS))}"
        )
    if datastore_format in ARROW_FORMATS:
        _pyarrow(datastore_format)


def _pyarrow(datastore_format: str) -> Any:
    try:
        import pyarrow
        import pyarrow.feather  # noqa: F401  (submodules used through the package)
        import pyarrow.parquet  # noqa: F401
    except ImportError as err:
        raise MissingDependencyError(
            f"pyarrow is an optional dependency, required for the {datastore_format} datastore "
            "format: run `pip install pyarrow`, or use datastore_format='npz'"
        ) from err
    return pyarrow


# ---------------------------------------------------------------- files


def read_datastore(path: str, datastore_format: str) -> Representations:
    """The rows of the datastore file at ``path``."""
    with open(path, "rb") as handle:
        return deserialize(handle.read(), datastore_format, path)


def write_datastore(path: str, representations: Representations, datastore_format: str) -> None:
    """Write the datastore file at ``path``, replacing it at once (a reader never sees
    half a file, and an interrupted write leaves the previous one)."""
    folder_utils.write_atomically(path, serialize(representations, datastore_format))


def serialize(representations: Representations, datastore_format: str) -> bytes:
    """The file content of ``representations`` in ``datastore_format``."""
    check_format(datastore_format)
    if datastore_format == "npz":
        return _npz_bytes(representations)
    return _arrow_bytes(representations, datastore_format)


def deserialize(content: bytes, datastore_format: str, path: str = "<memory>") -> Representations:
    """Rows from a file's content; ``path`` names the file in errors."""
    check_format(datastore_format)
    if datastore_format == "npz":
        return _from_npz(content, path)
    return _from_arrow(content, datastore_format, path)


def _missing_columns_error(path: str, missing: Iterable[str]) -> ValueError:
    return ValueError(
        f"Datastore {path} does not have some required columns - {set(missing)}. Consider to delete it."
    )


# npz: embedding (N, D) float64 with a has_embedding flag, strings as unicode arrays
# (object arrays would need pickle to load), boxes as int64; uncompressed, as deepface.


def _npz_bytes(representations: Representations) -> bytes:
    arrays: Dict[str, NDArray[Any]] = {
        "embedding": representations.embeddings.astype(np.float64, copy=False),
        HAS_EMBEDDING: representations.has_embedding.astype(bool, copy=False),
        "identity": np.array(representations.identities, dtype=np.str_),
        "hash": np.array(representations.hashes, dtype=np.str_),
    }
    for column, name in enumerate(BOX_COLUMNS):
        arrays[name] = representations.boxes[:, column].astype(np.int64)
    sink = io.BytesIO()
    np.savez(sink, **arrays)
    return sink.getvalue()


def _from_npz(content: bytes, path: str) -> Representations:
    with np.load(io.BytesIO(content), allow_pickle=False) as npz:
        missing = set(COLUMNS + (HAS_EMBEDDING,)) - set(npz.files)
        if missing:
            raise _missing_columns_error(path, missing)
        has_embedding = npz[HAS_EMBEDDING].astype(bool)
        embeddings = npz["embedding"].astype(np.float64)
        if embeddings.ndim != 2 or len(embeddings) != len(has_embedding):
            raise ValueError(f"Datastore {path} has a malformed embedding matrix {embeddings.shape}. Consider to delete it.")
        return Representations(
            identities=npz["identity"].tolist(),
            hashes=npz["hash"].tolist(),
            embeddings=np.where(has_embedding[:, None], embeddings, 0.0),
            has_embedding=has_embedding,
            boxes=np.stack([npz[name].astype(np.int64) for name in BOX_COLUMNS], axis=1).reshape(-1, 4),
        )


# feather and parquet: identity and hash strings, embedding list<float64> (null for an
# image without a face), boxes int64; feather uncompressed, parquet with pyarrow's defaults.


def _arrow_schema(pa: Any) -> Any:
    return pa.schema(
        [(name, pa.string()) for name in STRING_COLUMNS]
        + [("embedding", pa.list_(pa.float64()))]
        + [(name, pa.int64()) for name in BOX_COLUMNS]
    )


def _arrow_bytes(representations: Representations, datastore_format: str) -> bytes:
    pa = _pyarrow(datastore_format)
    schema = _arrow_schema(pa)
    columns = [
        pa.array(representations.identities, type=pa.string()),
        pa.array(representations.hashes, type=pa.string()),
        _embedding_column(pa, representations),
        *(pa.array(representations.boxes[:, i], type=pa.int64()) for i in range(4)),
    ]
    table = pa.Table.from_arrays(columns, schema=schema)
    sink = pa.BufferOutputStream()
    if datastore_format == "feather":
        pa.feather.write_feather(table, sink, compression="uncompressed")
    else:
        pa.parquet.write_table(table, sink)
    return bytes(sink.getvalue().to_pybytes())


def _embedding_column(pa: Any, representations: Representations) -> Any:
    """A list<float64> array built from the matrix (no Python float per value)."""
    has = representations.has_embedding
    lengths = np.where(has, representations.embeddings.shape[1], 0)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    values = representations.embeddings[has].ravel()
    mask = pa.array(~has) if not has.all() else None
    return pa.ListArray.from_arrays(
        pa.array(offsets, type=pa.int32()), pa.array(values, type=pa.float64()), mask=mask
    )


def _from_arrow(content: bytes, datastore_format: str, path: str) -> Representations:
    pa = _pyarrow(datastore_format)
    schema = _arrow_schema(pa)
    source = pa.BufferReader(content)
    if datastore_format == "feather":
        table = pa.feather.read_table(source)
    else:
        table = pa.parquet.read_table(source)
    missing = set(schema.names) - set(table.column_names)
    if missing:
        raise _missing_columns_error(path, missing)
    table = table.select(schema.names).cast(schema)
    embeddings, has_embedding = _embedding_matrix(table.column("embedding"), path)
    return Representations(
        identities=table.column("identity").to_pylist(),
        hashes=table.column("hash").to_pylist(),
        embeddings=embeddings,
        has_embedding=has_embedding,
        boxes=np.stack(
            [table.column(name).to_numpy().astype(np.int64) for name in BOX_COLUMNS], axis=1
        ).reshape(-1, 4),
    )


def _embedding_matrix(column: Any, path: str) -> Tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """The (N, D) matrix and validity of a list<float64> column, read chunk by chunk."""
    starts: List[NDArray[np.int64]] = []
    lengths: List[NDArray[np.int64]] = []
    valid: List[NDArray[np.bool_]] = []
    values: List[NDArray[np.float64]] = []
    base = 0
    for chunk in column.chunks:
        offsets = chunk.offsets.to_numpy(zero_copy_only=False).astype(np.int64)
        flat = chunk.values.to_numpy(zero_copy_only=False).astype(np.float64)
        starts.append(offsets[:-1] + base)
        lengths.append(np.diff(offsets))
        valid.append(chunk.is_valid().to_numpy(zero_copy_only=False).astype(bool))
        values.append(flat)
        base += len(flat)
    if not starts:
        return np.zeros((0, 0)), np.zeros(0, dtype=bool)
    start, length, has = np.concatenate(starts), np.concatenate(lengths), np.concatenate(valid)
    flat_values = np.concatenate(values)
    dimensions = set(length[has].tolist())
    if len(dimensions) > 1:
        raise DimensionMismatchError(
            f"Datastore {path} holds embeddings of different lengths {sorted(dimensions)}. "
            "Consider to delete it."
        )
    dimension = dimensions.pop() if dimensions else 0
    matrix = np.zeros((len(has), dimension), dtype=np.float64)
    if dimension:
        matrix[has] = flat_values[start[has, None] + np.arange(dimension)]
    return matrix, has


__all__ = [
    "DATASTORE_FORMATS",
    "Representations",
    "StoredFace",
    "check_format",
    "datastore_file_name",
    "deserialize",
    "read_datastore",
    "serialize",
    "write_datastore",
]
