"""``deepface extract-faces``: detect the faces of every input, one JSON line per input, and
optionally each face's aligned crop (``NNNNNN_NAME_faceK.jpg``)."""

import argparse
import json
import os
import re
import sys
from contextlib import closing
from typing import IO, Any, Dict, List, NamedTuple, Optional, Tuple

import cv2
import numpy as np

from deepface.cli.arguments import add_inputs, add_options, add_ray_argument, add_run_flags, option_values
from deepface.cli.common import (
    STDOUT,
    RunTally,
    UsageError,
    check_detector,
    check_output_file,
    describe_error,
    error_text,
    input_paths,
    report_run,
    with_progress,
)
from deepface.cli.output import (
    RecordedLines,
    at_start_up,
    check_resume,
    cut_torn_tail,
    jsonl_output,
    pending_positions,
    read_recorded_lines,
)
from deepface.commons import timings
from deepface.modules.detection import ExtractOptions, ImageResult, iter_extract_faces
from deepface.options.verbs import EXTRACT

#: The name of a crop, and the pattern that ``--overwrite`` removes.
CROP_NAME = "{index:06d}_{stem}_face{face}.jpg"
CROP_PATTERN = re.compile(r"\d{6,}_.*_face\d+\.jpg")
#: What the command sets itself: a faceless image is recorded as such, not cropped whole;
#: crops are written as JPEG files (BGR, 0-255).
FIXED = {"enforce_detection": True, "color_face": "bgr", "normalize_face": False}
EXIT_STATUS = (
    "Exit status: 0 every input worked (and every crop was written), 1 some inputs failed "
    "(unreadable, no face, a crop not written), 2 bad usage or a run that could not start or "
    "broke off (an existing --output left as it was), 130 interrupted."
)


def add_parser(commands: Any) -> None:
    extract = commands.add_parser(
        "extract-faces",
        help="detect and crop faces in images",
        description="Detect the faces of every input; one JSON line per input (its faces, or the "
        "error that stopped it). " + EXIT_STATUS,
    )
    add_inputs(extract)
    add_options(extract, EXTRACT, fixed=FIXED)
    add_run_flags(extract)
    add_ray_argument(extract)
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


def run(args: argparse.Namespace) -> int:
    """Detect the faces of every input into ``args.output``; 1 when some inputs failed."""
    if args.ray:  # the same job on Ray Data, into a Parquet folder
        from deepface.ray.cli import extract_faces_on_ray

        return extract_faces_on_ray(args, option_values(args, EXTRACT, {"enforce_detection": True}))
    options, paths, recorded = _prepare_extraction(args)
    if args.resume:
        cut_torn_tail(args.output, recorded.keep_bytes)
    if args.crops:
        _prepare_crops_folder(args.crops, args.overwrite)
    pending = pending_positions(paths, recorded)
    tally = RunTally(skipped=len(paths) - len(pending))
    with jsonl_output(args.output, args.resume, tally) as out:
        _extract_into(out, FaceJob(paths, pending, options, args.crops), tally, args.no_progress)
    return report_run(tally, "the error and crop_error fields")


class FaceJob(NamedTuple):
    """The inputs of an ``extract-faces`` run: all paths, the positions to do, how, and where crops go."""

    paths: List[str]
    pending: List[int]
    options: ExtractOptions
    crops: Optional[str]


def _prepare_extraction(args: argparse.Namespace) -> Tuple[ExtractOptions, List[str], RecordedLines]:
    """Check the whole command line and build the detector, touching no output."""
    with at_start_up(args.output):
        values = option_values(args, EXTRACT, FIXED)
        _check_extract_flags(args)
        if args.output != STDOUT:
            check_output_file(args.output)
        if args.crops:
            _check_crops_folder(args.crops, may_hold_files=args.overwrite or args.resume)
        paths = input_paths(args.inputs)
        recorded = read_recorded_lines(args.output) if args.resume else RecordedLines(set(), 0)
        options = ExtractOptions(**values)
        check_detector(options.detector_backend, options.detector_options)
    return options, paths, recorded


def _check_extract_flags(args: argparse.Namespace) -> None:
    check_resume(args)
    if args.overwrite and not args.crops:
        raise UsageError("--overwrite applies to --crops DIR (--output FILE is always replaced whole)")
    if args.overwrite and args.resume:
        raise UsageError("--overwrite and --resume contradict each other: --resume keeps the earlier crops")


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


def _extract_into(out: IO[str], job: FaceJob, tally: RunTally, no_progress: bool) -> None:
    """Detect the pending inputs, save their crops, write one line each, count them."""
    stream = iter_extract_faces([job.paths[index] for index in job.pending], job.options)
    with closing(stream):  # stops the decoding threads when the run breaks off
        for result, faces in with_progress(stream, len(job.pending), disable=no_progress):
            index = job.pending[result.index]
            with timings.stage("write"):
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

