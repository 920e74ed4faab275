"""The ``deepface`` command: batched face extraction and embedding over files and folders.

    deepface extract-faces photos/ more.jpg --detector-backend mtcnn --output faces.jsonl --crops crops/
    deepface represent photos/ --model-name Facenet --output embeddings.parquet

``extract-faces`` writes one JSON line per image: its path and its faces (``facial_area``,
``confidence``), or the error that stopped it. ``represent`` writes one row per face
(Parquet or NumPy ``.npz``). Unreadable and faceless images are recorded; the run goes on.
"""

import argparse
import json
import logging
import os
import sys
import tempfile
from dataclasses import dataclass
from typing import IO, Any, Dict, Iterator, List, NamedTuple, Optional, Protocol, Sequence, Tuple

import cv2
import numpy as np

from deepface import DeepFace, __version__
from deepface.commons.image_utils import expand_image_paths
from deepface.modules.detection import DEFAULT_BATCH_SIZE, ExtractOptions, ImageResult, iter_extract_faces
from deepface.modules.preprocessing import NORMALIZATIONS

logger = logging.getLogger(__name__)

#: Exit statuses: every input worked; some inputs failed; bad usage or a run that could not start.
EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2
#: Rows buffered before a Parquet row group is written (bounds the memory of ``represent``).
PARQUET_ROWS_PER_GROUP = 1024
OUTPUT_FORMATS = (".parquet", ".npz")


class UsageError(Exception):
    """A bad command line or an unusable environment: reported, exit status 2."""


# ---------------------------------------------------------------- the parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deepface", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    _add_extract_parser(commands)
    _add_represent_parser(commands)
    return parser


def _add_extract_parser(commands: Any) -> None:
    extract = commands.add_parser("extract-faces", help="detect and crop faces in images")
    _add_detection_arguments(extract)
    extract.add_argument("--output", default="-", help="JSON lines file (default: stdout)")
    extract.add_argument("--crops", metavar="DIR", help="write each aligned face crop here")


def _add_represent_parser(commands: Any) -> None:
    represent = commands.add_parser(
        "represent",
        help="embed the faces in images",
        description="Embed every face of every input; one row per face, one error row per failed input. "
        "Exit status: 0 all inputs worked, 1 some failed, 2 usage or start-up error.",
    )
    _add_detection_arguments(represent)
    represent.add_argument("--model-name", required=True, metavar="NAME", help="recognition model, e.g. Facenet")
    represent.add_argument(
        "--output",
        required=True,
        metavar="FILE",
        help="FILE.parquet (needs pyarrow; written in row groups as it goes, in bounded memory) or "
        "FILE.npz (held in memory and written at the end); written beside FILE, then renamed over it",
    )
    represent.add_argument(
        "--enforce-detection",
        action="store_true",
        help="record a faceless image as failed (default: embed the whole image, as deepface "
        "does with enforce_detection=False)",
    )
    represent.add_argument("--normalization", default="base", choices=NORMALIZATIONS, help="(default: base)")
    represent.add_argument("--l2-normalize", action="store_true", help="scale each embedding to unit length")


def _add_detection_arguments(parser: argparse.ArgumentParser) -> None:
    """The inputs and detection options that every subcommand takes."""
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or folders (walked in sorted order)")
    parser.add_argument("--detector-backend", default="opencv", help="detector (default: opencv)")
    parser.add_argument("--batch-size", type=_positive_int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument("--no-align", action="store_true", help="do not align faces")
    parser.add_argument("--expand-percentage", type=int, default=0)
    parser.add_argument("--max-faces", type=_positive_int)
    parser.add_argument(
        "--detection-border",
        type=float,
        help="border added before detection, as a fraction of the image (default: deepface's)",
    )
    parser.add_argument(
        "--detector-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a detector keyword, e.g. engine=onnx or min_confidence=0.4 (repeatable)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("-v", "--verbose", action="store_true")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; returns the exit status (argparse exits 2 itself on bad syntax)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    commands = {"extract-faces": extract_faces_command, "represent": represent_command}
    try:
        return commands[args.command](args)
    except UsageError as error:
        print(f"deepface: {error}", file=sys.stderr)
        return EXIT_USAGE


# ---------------------------------------------------------------- shared helpers


def input_paths(inputs: Sequence[str]) -> List[str]:
    """The image paths of files and folders (folders walked in sorted order)."""
    missing = [path for path in inputs if not os.path.exists(path)]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    return list(expand_image_paths(inputs))


def parse_detector_options(items: List[str]) -> Dict[str, Any]:
    """``["engine=onnx", "min_confidence=0.4"]`` -> ``{"engine": "onnx", "min_confidence": 0.4}``.

    Values are read as JSON where they parse (numbers, true/false, null), else as text.
    """
    options: Dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--detector-option needs KEY=VALUE, got {item!r}")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


def error_text(result: ImageResult) -> Optional[str]:
    """Why an input failed, as ``"ExceptionName: message"``; ``None`` when it worked."""
    return None if result.error is None else f"{type(result.error).__name__}: {result.error}"


def _with_progress(stream: Any, total: int, disable: bool) -> Any:
    try:
        from tqdm import tqdm
    except ImportError:
        return stream
    return tqdm(stream, total=total, unit="img", disable=disable, file=sys.stderr)


# ---------------------------------------------------------------- extract-faces


def extract_faces_command(args: argparse.Namespace) -> int:
    paths = input_paths(args.inputs)
    options = ExtractOptions(
        detector_backend=args.detector_backend,
        enforce_detection=True,  # a faceless image is recorded as such, not cropped whole
        align=not args.no_align,
        expand_percentage=args.expand_percentage,
        color_face="bgr",
        normalize_face=False,
        max_faces=args.max_faces,
        batch_size=args.batch_size,
        detection_border=args.detection_border,
        detector_options=parse_detector_options(args.detector_option),
    )
    if args.crops:
        os.makedirs(args.crops, exist_ok=True)
    failures = 0
    out = sys.stdout if args.output == "-" else open(args.output, "w", encoding="utf-8")
    try:
        stream = iter_extract_faces(paths, options)
        for result, faces in _with_progress(stream, len(paths), disable=args.no_progress):
            failures += result.error is not None
            _write_line(out, result, faces)
            if args.crops and faces:
                _save_crops(args.crops, result, faces)
    finally:
        if out is not sys.stdout:
            out.close()
    print(f"{len(paths)} images, {failures} without faces or unreadable", file=sys.stderr)
    return EXIT_OK


def _write_line(out: IO[str], result: ImageResult, faces: List[Dict[str, Any]]) -> None:
    record: Dict[str, Any] = {
        "path": result.source,
        "faces": [{"facial_area": f["facial_area"], "confidence": f["confidence"]} for f in faces],
        "error": error_text(result),
    }
    out.write(json.dumps(record) + "\n")
    out.flush()


def _save_crops(folder: str, result: ImageResult, faces: List[Dict[str, Any]]) -> None:
    stem = f"{result.index:06d}_{os.path.splitext(os.path.basename(result.source))[0]}"
    for k, face in enumerate(faces):
        pixels = np.ascontiguousarray(face["face"])
        cv2.imwrite(os.path.join(folder, f"{stem}_face{k}.jpg"), pixels)


# ---------------------------------------------------------------- represent


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


@dataclass
class RunTally:
    images: int = 0
    faces: int = 0
    failed: int = 0


def represent_command(args: argparse.Namespace) -> int:
    """Embed every face of every input into ``args.output``; 1 when some inputs failed."""
    suffix = _output_suffix(args.output)
    if suffix == ".parquet":
        _import_pyarrow()
    paths = input_paths(args.inputs)
    kwargs = _represent_kwargs(args)
    try:
        dimension = int(DeepFace.build_model(args.model_name).output_shape)
        stream = DeepFace.represent_iter(paths, **kwargs)
        tally = _write_atomically(args.output, suffix, dimension, kwargs, stream, paths, args.no_progress)
    except Exception as error:  # the run could not start (or broke off): the target is left as it was
        logger.debug("represent failed", exc_info=True)
        raise UsageError(f"{type(error).__name__}: {error} ({args.output} left as it was)") from error
    print(f"{tally.images} images, {tally.faces} faces, {tally.failed} failed", file=sys.stderr)
    if tally.failed:
        print(f"deepface: {tally.failed} of {tally.images} inputs failed (see the error column)", file=sys.stderr)
        return EXIT_SOME_FAILED
    return EXIT_OK


def _output_suffix(output: str) -> str:
    suffix = os.path.splitext(output)[1].lower()
    if suffix not in OUTPUT_FORMATS:
        raise UsageError(f"--output must end in {' or '.join(OUTPUT_FORMATS)}, got {output!r}")
    folder = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(folder):
        raise UsageError(f"no such folder for --output: {folder}")
    return suffix


def _import_pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401
    except ImportError as error:
        raise UsageError(f"Parquet output needs pyarrow: pip install pyarrow (or write .npz) [{error}]") from error
    return pyarrow


def _represent_kwargs(args: argparse.Namespace) -> Dict[str, Any]:
    return {
        "model_name": args.model_name,
        "enforce_detection": args.enforce_detection,
        "detector_backend": args.detector_backend,
        "align": not args.no_align,
        "expand_percentage": args.expand_percentage,
        "normalization": args.normalization,
        "max_faces": args.max_faces,
        "l2_normalize": args.l2_normalize,
        "batch_size": args.batch_size,
        "detection_border": args.detection_border,
        "detector_options": parse_detector_options(args.detector_option),
    }


def _write_atomically(
    output: str,
    suffix: str,
    dimension: int,
    run_options: Dict[str, Any],
    stream: Iterator[Tuple[ImageResult, List[Dict[str, Any]]]],
    paths: List[str],
    no_progress: bool,
) -> RunTally:
    """Write the rows to a temporary file beside ``output``, renamed over it only when complete."""
    temp = _temporary_beside(output)
    done = False
    try:
        writer = _open_writer(temp, suffix, dimension, run_options)
        try:
            tally = _write_rows(writer, stream, paths, no_progress)
        except BaseException:
            writer.abort()
            raise
        writer.close()
        os.replace(temp, output)
        done = True
    finally:
        if not done and os.path.exists(temp):
            os.remove(temp)
    return tally


def _temporary_beside(output: str) -> str:
    folder, name = os.path.split(os.path.abspath(output))
    handle, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    os.close(handle)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temp, 0o666 & ~umask)  # the mode a plain open() would give, not mkstemp's 0600
    return temp


def _open_writer(path: str, suffix: str, dimension: int, run_options: Dict[str, Any]) -> EmbeddingWriter:
    if suffix == ".parquet":
        return ParquetEmbeddingWriter(path, dimension, run_options)
    return NpzEmbeddingWriter(path, dimension)


def _write_rows(
    writer: EmbeddingWriter,
    stream: Iterator[Tuple[ImageResult, List[Dict[str, Any]]]],
    paths: List[str],
    no_progress: bool,
) -> RunTally:
    tally = RunTally()
    for result, embeddings in _with_progress(stream, len(paths), disable=no_progress):
        rows = embedding_rows(paths[result.index], result, embeddings)
        writer.add(rows)
        tally.images += 1
        tally.faces += len(embeddings)
        tally.failed += result.error is not None
    return tally


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


if __name__ == "__main__":
    sys.exit(main())
