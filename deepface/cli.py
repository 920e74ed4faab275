"""The ``deepface`` command: batched extraction, embedding and analysis of faces; annotated videos.

    deepface extract-faces photos/ more.jpg --detector-backend mtcnn --output faces.jsonl --crops crops/
    deepface represent photos/ --model-name Facenet --output embeddings.parquet
    deepface analyze photos/ --actions age gender emotion --output attributes.jsonl
    deepface stream video.mp4 --output annotated.mp4 --db-path people/ --model-name Facenet

``extract-faces`` writes one JSON line per image, in input order::

    {"path": "photos/a.jpg",
     "faces": [{"facial_area": {...}, "confidence": 0.98,
                "crop": "crops/000000_a_face0.jpg", "crop_error": null}],
     "error": null}

``error`` is why the image failed (unreadable, no face), else ``null``. The ``crop`` and
``crop_error`` keys are there only with ``--crops``: ``crop`` is the file written for that
face, or ``null`` when it could not be written, and then ``crop_error`` says why. Crops are
named ``NNNNNN_NAME_faceK.jpg``: the input's position among all inputs, its file name, the
face's number. ``represent`` writes one row per face (Parquet or NumPy ``.npz``).
``analyze`` writes one JSON line per image, as ``extract-faces`` does, each face with
deepface's ``analyze`` keys (``region``, ``face_confidence``, ``age``, ``gender`` and
``dominant_gender``...) as plain JSON numbers and strings. ``stream`` writes the annotated
video (every frame, the source's frame rate and size).

Output is never lost: a file output is written beside its target and renamed over it when
the run ends, so a run that cannot start, breaks off or is interrupted leaves an existing
target as it was. ``extract-faces --resume`` (and ``analyze --resume``) appends to its
target instead, line by line, skipping the inputs it already records (by path) and cutting
away a torn last line.
Unreadable and faceless images are recorded and the run goes on. Exit status: 0 every
input worked (every crop written), 1 some inputs failed, 2 bad usage or a run that could
not start or broke off, 130 interrupted.
"""

import argparse
import json
import logging
import os
import re
import sys
import tempfile
from contextlib import closing, contextmanager
from dataclasses import dataclass
from typing import (
    IO,
    Any,
    Callable,
    Dict,
    Iterator,
    List,
    NamedTuple,
    Optional,
    Protocol,
    Sequence,
    Set,
    Tuple,
)

import cv2
import numpy as np

from deepface import DeepFace, __version__
from deepface.commons import engines
from deepface.commons.image_utils import expand_image_paths
from deepface.modules import streaming
from deepface.modules.demography import ACTIONS, AnalyzeOptions, build_attribute_model, check_actions, iter_analyze
from deepface.modules.detection import SKIP, DEFAULT_BATCH_SIZE, ExtractOptions, ImageResult, iter_extract_faces
from deepface.modules.preprocessing import NORMALIZATIONS

logger = logging.getLogger(__name__)

#: Exit statuses: every input worked; some inputs failed; bad usage or a run that could not
#: start or broke off; interrupted (Ctrl-C), as shells report SIGINT.
EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
#: Rows buffered before a Parquet row group is written (bounds the memory of ``represent``).
PARQUET_ROWS_PER_GROUP = 1024
OUTPUT_FORMATS = (".parquet", ".npz")
STDOUT = "-"
#: The name of an ``extract-faces`` crop, and the pattern that ``--overwrite`` removes.
CROP_NAME = "{index:06d}_{stem}_face{face}.jpg"
CROP_PATTERN = re.compile(r"\d{6,}_.*_face\d+\.jpg")
#: How every ``extract-faces`` JSON line starts (``json.dumps`` of a dict whose first key is ``path``).
LINE_START = b'{"path": '
EXTRACT_EXIT_STATUS = (
    "Exit status: 0 every input worked (and every crop was written), 1 some inputs failed "
    "(unreadable, no face, a crop not written), 2 bad usage or a run that could not start or "
    "broke off (an existing --output left as it was), 130 interrupted."
)
ANALYZE_EXIT_STATUS = (
    "Exit status: 0 every input worked, 1 some inputs failed (unreadable, no face), 2 bad usage "
    "or a run that could not start or broke off (an existing --output left as it was), 130 interrupted."
)
#: Names the annotated video of ``stream`` may have (OpenCV picks the container from it).
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".avi", ".mkv")
DISTANCE_METRICS = ("cosine", "euclidean", "euclidean_l2", "angular")


class UsageError(Exception):
    """A bad command line, an unusable environment or a broken-off run: reported, exit status 2."""


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run, with what became of its output: reported, exit status 130."""


# ---------------------------------------------------------------- the parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deepface", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    _add_extract_parser(commands)
    _add_represent_parser(commands)
    _add_analyze_parser(commands)
    _add_stream_parser(commands)
    _add_serve_parser(commands)
    return parser


def _add_serve_parser(commands: Any) -> None:
    from deepface.api.launcher import add_serve_parser  # the REST API lives in deepface.api

    add_serve_parser(commands)


def serve_command(args: argparse.Namespace) -> int:
    """Serve the REST API with gunicorn (``deepface.api.launcher``) until stopped."""
    from deepface.api.launcher import serve_command as serve_api

    return serve_api(args)


def _add_extract_parser(commands: Any) -> None:
    extract = commands.add_parser(
        "extract-faces",
        help="detect and crop faces in images",
        description="Detect the faces of every input; one JSON line per input (its faces, or the "
        "error that stopped it). " + EXTRACT_EXIT_STATUS,
    )
    _add_detection_arguments(extract)
    extract.add_argument(
        "--ray",
        nargs="?",
        const="local",
        metavar="ADDRESS",
        help="run on Ray Data (a local Ray, or the cluster at ADDRESS) and write --output as a Parquet "
        "folder (needs deepface[ray]; see docs/ray.md)",
    )
    extract.add_argument(
        "--output",
        default=STDOUT,
        metavar="FILE",
        help="JSON lines file, written beside FILE and renamed over it when the run ends, so a "
        "run that fails or is interrupted leaves FILE as it was (default: stdout, line by line)",
    )
    extract.add_argument(
        "--resume",
        action="store_true",
        help="append to --output FILE instead of replacing it, skipping the inputs whose path "
        "already has a line there (failed ones too: delete their lines to retry them); a torn "
        "last line left by a crash is cut away first, and its input done again. Needs --output "
        "FILE; --crops may then hold the earlier run's crops",
    )
    extract.add_argument(
        "--crops",
        metavar="DIR",
        help="write each aligned face crop here as NNNNNN_NAME_faceK.jpg (NNNNNN: the input's "
        "position); DIR must be new or empty, unless --overwrite or --resume",
    )
    extract.add_argument(
        "--overwrite",
        action="store_true",
        help="with --crops: first delete an earlier run's crops from DIR (only files named as "
        "crops are; others stay)",
    )


def _add_represent_parser(commands: Any) -> None:
    represent = commands.add_parser(
        "represent",
        help="embed the faces in images",
        description="Embed every face of every input; one row per face, one error row per failed input. "
        "Exit status: 0 all inputs worked, 1 some failed, 2 bad usage or a run that could not start "
        "or broke off (an existing --output left as it was), 130 interrupted.",
    )
    _add_detection_arguments(represent)
    represent.add_argument(
        "--ray",
        nargs="?",
        const="local",
        metavar="ADDRESS",
        help="run on Ray Data (a local Ray, or the cluster at ADDRESS) and write --output as a Parquet "
        "folder (needs deepface[ray]; see docs/ray.md)",
    )
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


def _add_analyze_parser(commands: Any) -> None:
    analyze = commands.add_parser(
        "analyze",
        help="estimate the age, gender, emotion and race of the faces in images",
        description="Analyse the faces of every input; one JSON line per input (its faces with "
        "their attributes, or the error that stopped it). " + ANALYZE_EXIT_STATUS,
    )
    _add_detection_arguments(analyze)
    analyze.add_argument(
        "--actions",
        nargs="+",
        choices=ACTIONS,
        default=list(ACTIONS),
        metavar="ACTION",
        help=f"any of {', '.join(ACTIONS)} (default: all four); put it after the inputs",
    )
    analyze.add_argument(
        "--output",
        default=STDOUT,
        metavar="FILE",
        help="JSON lines file, written beside FILE and renamed over it when the run ends, so a "
        "run that fails or is interrupted leaves FILE as it was (default: stdout, line by line)",
    )
    analyze.add_argument(
        "--resume",
        action="store_true",
        help="append to --output FILE instead of replacing it, skipping the inputs whose path "
        "already has a line there; a torn last line is cut away first",
    )


def _add_stream_parser(commands: Any) -> None:
    stream = commands.add_parser(
        "stream",
        help="annotate the faces of a video (age, gender, emotion, identity)",
        description="Detect, analyse and identify the faces of a video's frames in batches and "
        "write the annotated video (every frame, same frame rate and size). Exit status: 0 done, "
        "2 bad usage or a run that could not start or broke off (an existing --output left as it "
        "was), 130 interrupted.",
    )
    stream.add_argument("video", metavar="VIDEO", help="a video file, a stream URL, or a camera index (0)")
    stream.add_argument(
        "--output",
        metavar="FILE",
        help=f"the annotated video (mp4v; FILE ends in {', '.join(VIDEO_SUFFIXES)}), written beside "
        "FILE and renamed over it when the run ends",
    )
    stream.add_argument("--db-path", default="", metavar="DIR", help="identify faces among this folder's images")
    stream.add_argument(
        "--model-name", default="VGG-Face", metavar="NAME", help="recognition model (default: %(default)s)"
    )
    stream.add_argument("--distance-metric", default="cosine", choices=DISTANCE_METRICS)
    stream.add_argument("--detector-backend", default="opencv", help="detector (default: opencv)")
    stream.add_argument("--frame-stride", type=_positive_int, default=1, metavar="N", help="analyse every Nth frame")
    stream.add_argument(
        "--batch-size",
        type=_positive_int,
        default=streaming.DEFAULT_STREAM_BATCH_SIZE,
        help="analysed frames per batch (default: %(default)s)",
    )
    stream.add_argument("--no-analysis", action="store_true", help="no age, gender and emotion")
    window = stream.add_mutually_exclusive_group()
    window.add_argument("--show", dest="show", action="store_true", default=None, help="show a window (q quits)")
    window.add_argument(
        "--no-show", dest="show", action="store_false", help="no window (default: one where a display is available)"
    )
    stream.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    stream.add_argument("-v", "--verbose", action="store_true")


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
    parser.add_argument(
        "--anti-spoofing",
        action="store_true",
        help="judge each face real or spoofed: extract-faces records is_real and antispoof_score "
        "per face; represent and analyze fail an image with a spoofed face, as deepface does",
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
    if not getattr(args, "verbose", False):
        engines.quiet_tensorflow_startup()  # before anything imports TensorFlow
    commands = {
        "extract-faces": extract_faces_command,
        "represent": represent_command,
        "analyze": analyze_command,
        "stream": stream_command,
        "serve": serve_command,
    }
    try:
        return commands[args.command](args)
    except UsageError as error:
        print(f"deepface: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as error:
        print(f"deepface: {error or 'interrupted'}", file=sys.stderr)
        return EXIT_INTERRUPTED


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


def check_detector(backend: str, options: Dict[str, Any]) -> None:
    """Build the detector now (it is cached for the run), so that an unknown name, a bad
    option or missing weights stop the command before any output is touched."""
    if backend == SKIP:
        return
    try:
        DeepFace.build_model(backend, task="face_detector", **options)
    except Exception as error:
        logger.debug("detector %s could not be built", backend, exc_info=True)
        raise UsageError(f"detector {backend!r}: {type(error).__name__}: {error}") from error


def check_output_file(output: str) -> None:
    """An output file must name a file (not a folder) in an existing folder."""
    if os.path.isdir(output):
        raise UsageError(f"--output {output} is a folder, not a file")
    folder = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(folder):
        raise UsageError(f"no such folder for --output: {folder}")


def describe_error(error: BaseException) -> str:
    """An exception as ``"ExceptionName: message"``."""
    return f"{type(error).__name__}: {error}"


def error_text(result: ImageResult) -> Optional[str]:
    """Why an input failed, as ``"ExceptionName: message"``; ``None`` when it worked."""
    return None if result.error is None else describe_error(result.error)


def _with_progress(stream: Any, total: int, disable: bool) -> Any:
    try:
        from tqdm import tqdm
    except ImportError:
        return stream
    return tqdm(stream, total=total, unit="img", disable=disable, file=sys.stderr)


@dataclass
class RunTally:
    """What a run did: inputs written, faces found, inputs that failed, inputs skipped (``--resume``)."""

    images: int = 0
    faces: int = 0
    failed: int = 0
    skipped: int = 0


def report_run(tally: RunTally, where: str) -> int:
    """Print the run's summary on stderr; the exit status: 1 when some inputs failed, else 0."""
    skipped = f", {tally.skipped} already recorded (skipped)" if tally.skipped else ""
    print(f"{tally.images} images, {tally.faces} faces, {tally.failed} failed{skipped}", file=sys.stderr)
    if tally.failed:
        print(f"deepface: {tally.failed} of {tally.images} inputs failed (see {where})", file=sys.stderr)
        return EXIT_SOME_FAILED
    return EXIT_OK


# ---------------------------------------------------------------- output that is never lost


def left_as_it_was(output: str) -> str:
    """What became of a file output (or stdout) that was not replaced."""
    if output == STDOUT:
        return "nothing written"
    return f"{output} left as it was" if os.path.exists(output) else f"{output} not written"


@contextmanager
def at_start_up(output: str) -> Iterator[None]:
    """Report a failure of the block (preparing a run) as a usage error naming the untouched output."""
    try:
        yield
    except UsageError as error:
        raise UsageError(f"{error} ({left_as_it_was(output)})") from error
    except Exception as error:
        logger.debug("the run could not start", exc_info=True)
        raise UsageError(f"{describe_error(error)} ({left_as_it_was(output)})") from error


@contextmanager
def reported_if_broken_off(fate: Callable[[], str]) -> Iterator[None]:
    """Report an exception that breaks off the block as a usage error, and Ctrl-C as
    :class:`RunInterrupted`, each followed by ``fate()``: what became of the output."""
    try:
        yield
    except UsageError:
        raise
    except Exception as error:
        logger.debug("the run broke off", exc_info=True)
        raise UsageError(f"{describe_error(error)} ({fate()})") from error
    except KeyboardInterrupt as error:
        raise RunInterrupted(f"interrupted ({fate()})") from error


@contextmanager
def atomic_output(output: str) -> Iterator[str]:
    """A temporary path beside ``output``: renamed over it when the block ends normally,
    removed (``output`` untouched) when it raises, Ctrl-C included."""
    temp = _temporary_beside(output)
    try:
        yield temp
        _sync_to_disk(temp)
        os.replace(temp, output)
    finally:
        if os.path.exists(temp):  # the block broke off, or the rename failed
            os.remove(temp)


def _temporary_beside(output: str) -> str:
    folder, name = os.path.split(os.path.abspath(output))
    handle, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    os.close(handle)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temp, 0o666 & ~umask)  # the mode a plain open() would give, not mkstemp's 0600
    return temp


def _sync_to_disk(path: str) -> None:
    """Flush a closed file's data to disk, so that a crash after the rename cannot leave it empty."""
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


# ---------------------------------------------------------------- extract-faces


def extract_faces_command(args: argparse.Namespace) -> int:
    """Detect the faces of every input into ``args.output``; 1 when some inputs failed."""
    if args.ray:  # the same job on Ray Data, into a Parquet folder
        from deepface.ray.cli import extract_faces_on_ray
        return extract_faces_on_ray(args)
    options, paths, recorded = _prepare_extraction(args)
    if args.resume:
        _cut_torn_tail(args.output, recorded.keep_bytes)
    if args.crops:
        _prepare_crops_folder(args.crops, args.overwrite)
    pending = [index for index, path in enumerate(paths) if os.path.normpath(path) not in recorded.paths]
    tally = RunTally(skipped=len(paths) - len(pending))
    with _jsonl_output(args.output, args.resume, tally) as out:
        _extract_into(out, FaceJob(paths, pending, options, args.crops), tally, args.no_progress)
    return report_run(tally, "the error and crop_error fields")


class RecordedLines(NamedTuple):
    """An existing JSONL output: the (normalised) paths it records, and its bytes worth keeping."""

    paths: Set[str]
    keep_bytes: int


class FaceJob(NamedTuple):
    """The inputs of an ``extract-faces`` run: all paths, the positions to do, how, and where crops go."""

    paths: List[str]
    pending: List[int]
    options: ExtractOptions
    crops: Optional[str]


def _prepare_extraction(args: argparse.Namespace) -> Tuple[ExtractOptions, List[str], RecordedLines]:
    """Check the whole command line and build the detector, touching no output."""
    with at_start_up(args.output):
        detector_options = parse_detector_options(args.detector_option)
        _check_extract_flags(args)
        if args.output != STDOUT:
            check_output_file(args.output)
        if args.crops:
            _check_crops_folder(args.crops, may_hold_files=args.overwrite or args.resume)
        paths = input_paths(args.inputs)
        recorded = read_recorded_lines(args.output) if args.resume else RecordedLines(set(), 0)
        options = _extract_options(args, detector_options)
        check_detector(args.detector_backend, detector_options)
    return options, paths, recorded


def _check_extract_flags(args: argparse.Namespace) -> None:
    _check_resume(args)
    if args.overwrite and not args.crops:
        raise UsageError("--overwrite applies to --crops DIR (--output FILE is always replaced whole)")
    if args.overwrite and args.resume:
        raise UsageError("--overwrite and --resume contradict each other: --resume keeps the earlier crops")


def _check_resume(args: argparse.Namespace) -> None:
    if args.resume and args.output == STDOUT:
        raise UsageError("--resume needs --output FILE (it appends to that file)")


def _extract_options(args: argparse.Namespace, detector_options: Dict[str, Any]) -> ExtractOptions:
    return ExtractOptions(
        detector_backend=args.detector_backend,
        enforce_detection=True,  # a faceless image is recorded as such, not cropped whole
        align=not args.no_align,
        expand_percentage=args.expand_percentage,
        color_face="bgr",
        normalize_face=False,
        max_faces=args.max_faces,
        anti_spoofing=args.anti_spoofing,
        batch_size=args.batch_size,
        detection_border=args.detection_border,
        detector_options=detector_options,
    )


def _check_crops_folder(folder: str, may_hold_files: bool) -> None:
    """The crops folder must be new (in an existing folder) or writable, and empty unless allowed."""
    if not os.path.exists(folder):
        parent = os.path.dirname(os.path.abspath(folder))
        if not os.path.isdir(parent):
            raise UsageError(f"no such folder for --crops: {parent}")
        return
    if not os.path.isdir(folder):
        raise UsageError(f"--crops {folder} is not a folder")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"--crops folder {folder} is not writable")
    if os.listdir(folder) and not may_hold_files:
        raise UsageError(
            f"--crops folder {folder} is not empty: add --overwrite to replace an earlier run's "
            "crops, or --resume to add to them"
        )


def _prepare_crops_folder(folder: str, overwrite: bool) -> None:
    """Create the crops folder; with ``overwrite``, first delete an earlier run's crops from it."""
    if overwrite and os.path.isdir(folder):
        removed = remove_crops(folder)
        print(f"deepface: removed {removed} crop files of an earlier run from {folder}", file=sys.stderr)
    os.makedirs(folder, exist_ok=True)


def remove_crops(folder: str) -> int:
    """Delete the files of ``folder`` named as ``extract-faces`` names crops; how many."""
    names = [entry.name for entry in os.scandir(folder) if entry.is_file() and CROP_PATTERN.fullmatch(entry.name)]
    for name in names:
        os.remove(os.path.join(folder, name))
    return len(names)


def read_recorded_lines(output: str, command: str = "extract-faces") -> RecordedLines:
    """The paths that an earlier run recorded in ``output`` (none when it does not exist).

    A last line without its newline, left by a crash, is torn: it is not counted, and
    ``keep_bytes`` ends before it. Any other line that is not one of this command's JSON
    records stops the command (``output`` may not be what the user thinks it is).
    """
    paths: Set[str] = set()
    if not os.path.exists(output):
        return RecordedLines(paths, 0)
    keep = 0
    with open(output, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.endswith(b"\n") and _may_be_torn(line):
                break  # the last line (it has no newline): cut away before appending
            path = _recorded_path(line)
            if path is None:
                raise UsageError(f"--resume: line {number} of {output} is not a record of {command}")
            paths.add(os.path.normpath(path))
            keep += len(line)
    return RecordedLines(paths, keep)


def _may_be_torn(line: bytes) -> bool:
    """Whether ``line`` can be the start of a line this command wrote."""
    head = line[: len(LINE_START)]
    return LINE_START.startswith(head)


def _recorded_path(line: bytes) -> Optional[str]:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    path = record.get("path") if isinstance(record, dict) else None
    return path if isinstance(path, str) else None


def _cut_torn_tail(output: str, keep_bytes: int) -> None:
    if os.path.exists(output) and os.path.getsize(output) > keep_bytes:
        cut = os.path.getsize(output) - keep_bytes
        os.truncate(output, keep_bytes)
        print(f"deepface: cut a torn last line ({cut} bytes) from {output}", file=sys.stderr)


@contextmanager
def _jsonl_output(output: str, resume: bool, tally: RunTally) -> Iterator[IO[str]]:
    """Where the JSON lines go: stdout, ``output`` appended to (``resume``), or a temporary
    file renamed over ``output`` at the end. A run that breaks off says what became of it."""
    if output == STDOUT:
        with reported_if_broken_off(lambda: f"{tally.images} lines written to stdout"):
            yield sys.stdout
    elif resume:

        def appended() -> str:
            return f"{tally.images} lines appended to {output}; run again with --resume to finish"

        with reported_if_broken_off(appended), open(output, "a", encoding="utf-8") as out:
            yield out
    else:
        with reported_if_broken_off(lambda: left_as_it_was(output)), atomic_output(output) as temp:
            with open(temp, "w", encoding="utf-8") as out:
                yield out


def _extract_into(out: IO[str], job: FaceJob, tally: RunTally, no_progress: bool) -> None:
    """Detect the pending inputs, save their crops, write one line each, count them."""
    stream = iter_extract_faces([job.paths[index] for index in job.pending], job.options)
    with closing(stream):  # stops the decoding threads when the run breaks off
        for result, faces in _with_progress(stream, len(job.pending), disable=no_progress):
            index = job.pending[result.index]
            record = face_record(job.paths[index], result, faces)
            if job.crops is not None:
                _save_crops(job.crops, index, job.paths[index], faces, record["faces"])
            out.write(json.dumps(record) + "\n")
            out.flush()
            tally.images += 1
            tally.faces += len(faces)
            tally.failed += record_failed(record)


def face_record(path: str, result: ImageResult, faces: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The JSON record of one input, without crops (``path`` first: see ``LINE_START``)."""
    return {
        "path": path,
        "faces": [_face_entry(face) for face in faces],
        "error": error_text(result),
    }


def _face_entry(face: Dict[str, Any]) -> Dict[str, Any]:
    """A face of an ``extract-faces`` record: its box, confidence and, with
    ``--anti-spoofing``, deepface's ``is_real`` and ``antispoof_score``."""
    entry = {"facial_area": face["facial_area"], "confidence": face["confidence"]}
    entry.update({key: face[key] for key in ("is_real", "antispoof_score") if key in face})
    return entry


def record_failed(record: Dict[str, Any]) -> bool:
    """Whether an input failed: no faces or unreadable, or a crop not written."""
    return record["error"] is not None or any(face.get("crop_error") for face in record["faces"])


def _save_crops(
    folder: str, index: int, path: str, faces: List[Dict[str, Any]], face_records: List[Dict[str, Any]]
) -> None:
    """Write each face's crop, noting in its record the file written, or why not."""
    stem = os.path.splitext(os.path.basename(path))[0]
    for k, (face, face_record_) in enumerate(zip(faces, face_records)):
        file = os.path.join(folder, CROP_NAME.format(index=index, stem=stem, face=k))
        problem = write_crop(file, face["face"])
        face_record_["crop"] = None if problem else file
        face_record_["crop_error"] = problem


def write_crop(file: str, pixels: np.ndarray) -> Optional[str]:
    """Write one crop; ``None`` when written, else why not."""
    try:
        written = cv2.imwrite(file, np.ascontiguousarray(pixels))
    except Exception as error:  # cv2.error and the like: recorded, the run goes on
        return describe_error(error)
    return None if written else f"cv2.imwrite could not write {file}"


# ---------------------------------------------------------------- analyze


def analyze_command(args: argparse.Namespace) -> int:
    """Analyse the faces of every input into ``args.output``; 1 when some inputs failed."""
    options, paths, recorded = _prepare_analysis(args)
    if args.resume:
        _cut_torn_tail(args.output, recorded.keep_bytes)
    pending = [index for index, path in enumerate(paths) if os.path.normpath(path) not in recorded.paths]
    tally = RunTally(skipped=len(paths) - len(pending))
    with _jsonl_output(args.output, args.resume, tally) as out:
        _analyze_into(out, paths, pending, options, tally, args.no_progress)
    return report_run(tally, "the error fields")


def _prepare_analysis(args: argparse.Namespace) -> Tuple[AnalyzeOptions, List[str], RecordedLines]:
    """Check the whole command line and build the detector and the models, touching no output."""
    with at_start_up(args.output):
        detector_options = parse_detector_options(args.detector_option)
        _check_resume(args)
        if args.output != STDOUT:
            check_output_file(args.output)
        paths = input_paths(args.inputs)
        recorded = read_recorded_lines(args.output, "analyze") if args.resume else RecordedLines(set(), 0)
        options = AnalyzeOptions(
            actions=check_actions(list(dict.fromkeys(args.actions))),
            extract=_analysis_extract_options(args, detector_options),
        )
        check_detector(args.detector_backend, detector_options)
        for action in options.actions:  # missing weights stop the run here
            build_attribute_model(action)
    return options, paths, recorded


def _analysis_extract_options(args: argparse.Namespace, detector_options: Dict[str, Any]) -> ExtractOptions:
    return ExtractOptions(
        detector_backend=args.detector_backend,
        enforce_detection=True,  # a faceless image is recorded as such, not analysed whole
        align=not args.no_align,
        expand_percentage=args.expand_percentage,
        max_faces=args.max_faces,
        anti_spoofing=args.anti_spoofing,
        batch_size=args.batch_size,
        detection_border=args.detection_border,
        detector_options=detector_options,
    )


def _analyze_into(
    out: IO[str], paths: List[str], pending: List[int], options: AnalyzeOptions, tally: RunTally, no_progress: bool
) -> None:
    """Analyse the pending inputs, write one line each, count them."""
    stream = iter_analyze([paths[index] for index in pending], options)
    with closing(stream):  # stops the decoding threads when the run breaks off
        for result, faces in _with_progress(stream, len(pending), disable=no_progress):
            record = analysis_record(paths[pending[result.index]], result, faces)
            out.write(json.dumps(record) + "\n")
            out.flush()
            tally.images += 1
            tally.faces += len(faces)
            tally.failed += record["error"] is not None


def analysis_record(path: str, result: ImageResult, faces: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The JSON record of one input (``path`` first: see ``LINE_START``)."""
    return {"path": path, "faces": [plain_json(face) for face in faces], "error": error_text(result)}


def plain_json(value: Any) -> Any:
    """``value`` with numpy scalars as Python numbers and tuples as lists."""
    if isinstance(value, dict):
        return {str(key): plain_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_json(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


# ---------------------------------------------------------------- stream


def stream_command(args: argparse.Namespace) -> int:
    """Annotate the faces of a video into ``args.output``; 0 when the run ended."""
    target = args.output or STDOUT
    with at_start_up(target):
        options = _stream_options(args)
        check_detector(args.detector_backend, {})
    with reported_if_broken_off(lambda: left_as_it_was(target)):
        stats = streaming.run_stream(options)
    _report_stream(stats)
    return EXIT_OK


def _stream_options(args: argparse.Namespace) -> streaming.StreamOptions:
    """The run's options, checked before anything is read or written."""
    if args.output:
        check_output_file(args.output)
        if os.path.splitext(args.output)[1].lower() not in VIDEO_SUFFIXES:
            raise UsageError(f"--output must end in {', '.join(VIDEO_SUFFIXES)}, got {args.output!r}")
    elif args.show is False or streaming.why_no_window() is not None:
        why = "--no-show" if args.show is False else streaming.why_no_window()
        raise UsageError(f"nothing to do: give --output FILE (no window: {why})")
    if streaming.camera_index(args.video) is None and "://" not in args.video and not os.path.isfile(args.video):
        raise UsageError(f"no such video file: {args.video}")
    if args.db_path and not os.path.isdir(args.db_path):
        raise UsageError(f"no such folder for --db-path: {args.db_path}")
    return streaming.StreamOptions(
        db_path=args.db_path,
        model_name=args.model_name,
        detector_backend=args.detector_backend,
        distance_metric=args.distance_metric,
        enable_face_analysis=not args.no_analysis,
        source=args.video,
        output_path=args.output,
        frame_stride=args.frame_stride,
        batch_size=args.batch_size,
        show=args.show,
        progress=False if args.no_progress else None,
    )


def _report_stream(stats: streaming.StreamStats) -> None:
    identified = f" ({stats.faces_identified} identified)" if stats.faces_identified else ""
    print(
        f"{stats.frames_read} frames, {stats.frames_analysed} analysed, {stats.faces_found} faces{identified}",
        file=sys.stderr,
    )
    if stats.stopped_by_user:
        print("deepface: stopped from the window", file=sys.stderr)
    if stats.output_path:
        print(f"deepface: wrote {stats.frames_written} frames to {stats.output_path}", file=sys.stderr)


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


def represent_command(args: argparse.Namespace) -> int:
    """Embed every face of every input into ``args.output``; 1 when some inputs failed."""
    if args.ray:  # the same job on Ray Data, into a Parquet folder
        from deepface.ray.cli import represent_on_ray
        return represent_on_ray(args)
    suffix = _output_suffix(args.output)
    if suffix == ".parquet":
        _import_pyarrow()
    with at_start_up(args.output):
        kwargs = _represent_kwargs(args)
        paths = input_paths(args.inputs)
        check_detector(args.detector_backend, kwargs["detector_options"])
        dimension = int(DeepFace.build_model(args.model_name).output_shape)
    tally = RunTally()
    with reported_if_broken_off(lambda: left_as_it_was(args.output)), atomic_output(args.output) as temp:
        writer = _open_writer(temp, suffix, dimension, kwargs)
        try:
            _write_rows(writer, DeepFace.represent_iter(paths, **kwargs), paths, tally, args.no_progress)
        except BaseException:
            writer.abort()
            raise
        writer.close()
    return report_run(tally, "the error column")


def _output_suffix(output: str) -> str:
    suffix = os.path.splitext(output)[1].lower()
    if suffix not in OUTPUT_FORMATS:
        raise UsageError(f"--output must end in {' or '.join(OUTPUT_FORMATS)}, got {output!r}")
    check_output_file(output)
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
        "anti_spoofing": args.anti_spoofing,
        "batch_size": args.batch_size,
        "detection_border": args.detection_border,
        "detector_options": parse_detector_options(args.detector_option),
    }


def _open_writer(path: str, suffix: str, dimension: int, run_options: Dict[str, Any]) -> EmbeddingWriter:
    if suffix == ".parquet":
        return ParquetEmbeddingWriter(path, dimension, run_options)
    return NpzEmbeddingWriter(path, dimension)


def _write_rows(
    writer: EmbeddingWriter,
    stream: Iterator[Tuple[ImageResult, List[Dict[str, Any]]]],
    paths: List[str],
    tally: RunTally,
    no_progress: bool,
) -> None:
    with closing(stream):  # stops the decoding threads when the run breaks off
        for result, embeddings in _with_progress(stream, len(paths), disable=no_progress):
            writer.add(embedding_rows(paths[result.index], result, embeddings))
            tally.images += 1
            tally.faces += len(embeddings)
            tally.failed += result.error is not None


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
