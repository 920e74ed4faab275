"""Where ``represent``'s rows go: a Parquet file written in row groups as it goes, or a NumPy
``.npz`` saved at the end; one row per face, one error row (``face_index`` -1) per failed input."""

import json
from typing import Any, Dict, List, NamedTuple, Optional, Protocol, Tuple

import numpy as np

from deepface.cli.common import error_text
from deepface.modules.detection import ImageResult

#: Rows buffered before a Parquet row group is written (bounds the memory of ``represent``).
PARQUET_ROWS_PER_GROUP = 1024


class EmbeddingRow(NamedTuple):
    """One output row: a face of an input, or (``face_index`` -1) an input that failed."""

    path: str
    face_index: int
    box: Optional[Tuple[int, int, int, int]]
    confidence: Optional[float]
    embedding: Optional[List[float]]
    error: Optional[str]


class EmbeddingWriter(Protocol):
    """Where ``represent`` rows go: ``add`` them as they come, then ``close`` (or ``abort``)."""

    def add(self, rows: List[EmbeddingRow]) -> None: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...


class ParquetEmbeddingWriter:
    """Rows to a Parquet file with a fixed schema, a row group every ``PARQUET_ROWS_PER_GROUP`` rows."""

    def __init__(self, path: str, dimension: int, run_options: Dict[str, Any]) -> None:
        import pyarrow.parquet as pq

        self.dimension = dimension
        self.schema = parquet_schema(dimension, run_options)
        self._writer = pq.ParquetWriter(path, self.schema)
        self._pending: List[EmbeddingRow] = []

    def add(self, rows: List[EmbeddingRow]) -> None:
        self._pending.extend(rows)
        if len(self._pending) >= PARQUET_ROWS_PER_GROUP:
            self._flush()

    def close(self) -> None:
        self._flush()
        self._writer.close()

    def abort(self) -> None:
        self._pending.clear()
        self._writer.close()

    def _flush(self) -> None:
        if not self._pending:
            return
        import pyarrow as pa

        rows, self._pending = self._pending, []
        boxes = [row.box or (None, None, None, None) for row in rows]
        columns = {
            "path": [row.path for row in rows],
            "face_index": [row.face_index for row in rows],
            **{name: [box[k] for box in boxes] for k, name in enumerate("xywh")},
            "confidence": [row.confidence for row in rows],
            "embedding": [_checked(row.embedding, self.dimension) for row in rows],
            "error": [row.error for row in rows],
        }
        self._writer.write_table(pa.Table.from_pydict(columns, schema=self.schema))


def parquet_schema(dimension: int, run_options: Optional[Dict[str, Any]] = None) -> Any:
    """The fixed schema of ``represent``'s Parquet output; the run's options go in its metadata."""
    import pyarrow as pa

    int32 = pa.int32()
    metadata = {f"deepface.{key}": json.dumps(value) for key, value in (run_options or {}).items()}
    return pa.schema(
        [
            pa.field("path", pa.string(), nullable=False),
            pa.field("face_index", int32, nullable=False),
            pa.field("x", int32),
            pa.field("y", int32),
            pa.field("w", int32),
            pa.field("h", int32),
            pa.field("confidence", pa.float32()),
            pa.field("embedding", pa.list_(pa.float32(), dimension)),
            pa.field("error", pa.string()),
        ],
        metadata=metadata or None,
    )


class NpzEmbeddingWriter:
    """Rows to a NumPy ``.npz``: accumulated in memory (one float32 row per face), saved at ``close``."""

    def __init__(self, path: str, dimension: int) -> None:
        self.path = path
        self.dimension = dimension
        self._faces: List[EmbeddingRow] = []
        self._embeddings: List[np.ndarray] = []
        self._failed: List[EmbeddingRow] = []

    def add(self, rows: List[EmbeddingRow]) -> None:
        for row in rows:
            if row.error is not None:
                self._failed.append(row)
                continue
            self._faces.append(row._replace(embedding=None))
            self._embeddings.append(np.asarray(_checked(row.embedding, self.dimension), dtype=np.float32))

    def close(self) -> None:
        faces = self._faces
        embeddings = np.stack(self._embeddings) if faces else np.zeros((0, self.dimension), np.float32)
        with open(self.path, "wb") as handle:
            np.savez(
                handle,
                paths=np.array([row.path for row in faces], dtype=str),
                face_index=np.array([row.face_index for row in faces], dtype=np.int32),
                boxes=np.array([row.box for row in faces], dtype=np.int32).reshape(-1, 4),
                confidence=np.array([row.confidence for row in faces], dtype=np.float32),
                embeddings=embeddings,
                failed_paths=np.array([row.path for row in self._failed], dtype=str),
                errors=np.array([row.error for row in self._failed], dtype=str),
            )

    def abort(self) -> None:
        self._faces, self._embeddings, self._failed = [], [], []


def _checked(embedding: Optional[List[float]], dimension: int) -> Optional[List[float]]:
    if embedding is not None and len(embedding) != dimension:
        raise ValueError(f"an embedding of length {len(embedding)}, expected the model's {dimension}")
    return embedding


def embedding_rows(path: str, result: ImageResult, embeddings: List[Dict[str, Any]]) -> List[EmbeddingRow]:
    """The rows of one input: one per face, or one error row (``face_index`` -1)."""
    if result.error is not None:
        return [EmbeddingRow(path, -1, None, None, None, error_text(result))]
    rows = []
    for k, item in enumerate(embeddings):
        area = item["facial_area"]
        box = (int(area["x"]), int(area["y"]), int(area["w"]), int(area["h"]))
        rows.append(EmbeddingRow(path, k, box, float(item["face_confidence"]), item["embedding"], None))
    return rows


