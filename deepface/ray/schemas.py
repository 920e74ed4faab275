"""The fixed Arrow schemas of the Ray jobs' output batches, and the tables built on them.

Every batch an actor returns has exactly the schema of its job, whatever its content:
the ``error`` column is a string even when every row worked, a batch without a face
still types its ``faces`` list, and embeddings are ``fixed_size_list<float32>[D]``. So
a Parquet folder written from any mix of batches reads back with plain
``pyarrow.parquet.read_table`` or ``pyarrow.dataset``.

Two layouts: one row per input (``faces`` a list of structs), or, exploded, one row per
face (``face_index``; an input without a face, or that failed, keeps one row with
``face_index`` -1).
"""

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

import pyarrow as pa

#: ``face_index`` of the row kept for an input that gave no face (failed, or none found).
NO_FACE = -1
LANDMARKS = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")

POINT = pa.list_(pa.int32(), 2)
FACIAL_AREA = pa.struct(
    [pa.field(name, pa.int32()) for name in ("x", "y", "w", "h")] + [pa.field(name, POINT) for name in LANDMARKS]
)


def extracted_face_fields() -> List[pa.Field]:
    """One extracted face: its box and landmarks, confidence, anti-spoofing verdict, crop."""
    return [
        pa.field("facial_area", FACIAL_AREA),
        pa.field("confidence", pa.float64()),
        pa.field("is_real", pa.bool_()),
        pa.field("antispoof_score", pa.float64()),
        pa.field("crop", pa.binary()),
    ]


def embedded_face_fields(dimension: int) -> List[pa.Field]:
    """One embedded face: its box and landmarks, confidence and embedding."""
    return [
        pa.field("facial_area", FACIAL_AREA),
        pa.field("face_confidence", pa.float64()),
        pa.field("embedding", pa.list_(pa.float32(), dimension)),
    ]


def analyzed_face_fields() -> List[pa.Field]:
    """One analysed face, with deepface's ``analyze`` keys: those of an action not asked
    for are null."""
    from deepface.models.demography.DemographyUtils import EMOTION_LABELS, GENDER_LABELS, RACE_LABELS

    def percentages(labels: Sequence[str]) -> pa.DataType:
        return pa.struct([pa.field(label, pa.float64()) for label in labels])

    return [
        pa.field("region", FACIAL_AREA),
        pa.field("face_confidence", pa.float64()),
        pa.field("age", pa.int32()),
        pa.field("gender", percentages(GENDER_LABELS)),
        pa.field("dominant_gender", pa.string()),
        pa.field("emotion", percentages(EMOTION_LABELS)),
        pa.field("dominant_emotion", pa.string()),
        pa.field("race", percentages(RACE_LABELS)),
        pa.field("dominant_race", pa.string()),
    ]


def job_schema(face_fields: List[pa.Field], explode: bool) -> pa.Schema:
    """``path``, the faces (a list, or one face per row) and ``error``."""
    if explode:
        return pa.schema([pa.field("path", pa.string()), pa.field("face_index", pa.int32()), *face_fields,
                          pa.field("error", pa.string())])
    return pa.schema([pa.field("path", pa.string()), pa.field("faces", pa.list_(pa.struct(face_fields))),
                      pa.field("error", pa.string())])


def extraction_schema(explode: bool = False) -> pa.Schema:
    """The schema of ``extract_faces_dataset``'s output."""
    return job_schema(extracted_face_fields(), explode)


def representation_schema(dimension: int, explode: bool = False) -> pa.Schema:
    """The schema of ``represent_dataset``'s output, for a model of ``dimension``."""
    return job_schema(embedded_face_fields(dimension), explode)


def analysis_schema(explode: bool = False) -> pa.Schema:
    """The schema of ``analyze_dataset``'s output."""
    return job_schema(analyzed_face_fields(), explode)


@dataclass
class RowOutcome:
    """One input's outcome: its path (or ``None``), its faces as field dicts, its error."""

    path: Optional[str]
    faces: List[Dict[str, Any]]
    error: Optional[str]


def facial_area_record(area: Dict[str, Any]) -> Dict[str, Any]:
    """deepface's ``facial_area`` dict with every landmark key present (``None`` when absent)."""
    record = {name: int(area[name]) for name in ("x", "y", "w", "h")}
    for name in LANDMARKS:
        point = area.get(name)
        record[name] = None if point is None else [int(point[0]), int(point[1])]
    return record


def outcomes_table(outcomes: Sequence[RowOutcome], schema: pa.Schema) -> pa.Table:
    """The batch as a table of ``schema``: one row per outcome, or one per face when the
    schema is the exploded one."""
    if "faces" in schema.names:
        return pa.Table.from_pydict(
            {
                "path": [outcome.path for outcome in outcomes],
                "faces": [outcome.faces for outcome in outcomes],
                "error": [outcome.error for outcome in outcomes],
            },
            schema=schema,
        )
    return pa.Table.from_pylist(_exploded_rows(outcomes, schema), schema=schema)


def _exploded_rows(outcomes: Sequence[RowOutcome], schema: pa.Schema) -> List[Dict[str, Any]]:
    face_names = [name for name in schema.names if name not in ("path", "face_index", "error")]
    rows = []
    for outcome in outcomes:
        if not outcome.faces:
            rows.append({"path": outcome.path, "face_index": NO_FACE, "error": outcome.error,
                         **{name: None for name in face_names}})
        for k, face in enumerate(outcome.faces):
            rows.append({"path": outcome.path, "face_index": k, "error": outcome.error, **face})
    return rows
