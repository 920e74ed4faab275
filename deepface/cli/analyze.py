"""``deepface analyze``: the age, gender, emotion and race of the faces of every input, one
JSON line per input."""

import argparse
import json
from contextlib import closing
from typing import IO, Any, Dict, List, Tuple

import numpy as np

from deepface.cli.arguments import add_inputs, add_options, add_run_flags, option_values
from deepface.cli.common import (
    STDOUT,
    RunTally,
    check_detector,
    check_output_file,
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
from deepface.modules.demography import AnalyzeOptions, build_attribute_model, iter_analyze
from deepface.modules.detection import ImageResult
from deepface.options.verbs import ANALYZE, EXTRACT

#: The command's options: ``analyze``'s, and ``max_faces`` of the detection.
COMMAND_OPTIONS = ANALYZE.plus("analyze", EXTRACT["max_faces"])
#: A faceless image is recorded as such, not analysed whole.
FIXED = {"enforce_detection": True}
EXIT_STATUS = (
    "Exit status: 0 every input worked, 1 some inputs failed (unreadable, no face), 2 bad usage "
    "or a run that could not start or broke off (an existing --output left as it was), 130 interrupted."
)


def add_parser(commands: Any) -> None:
    analyze = commands.add_parser(
        "analyze",
        help="estimate the age, gender, emotion and race of the faces in images",
        description="Analyse the faces of every input; one JSON line per input (its faces with "
        "their attributes, or the error that stopped it). " + EXIT_STATUS,
    )
    add_inputs(analyze)
    add_options(analyze, COMMAND_OPTIONS, fixed=FIXED)
    add_run_flags(analyze)
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


def run(args: argparse.Namespace) -> int:
    """Analyse the faces of every input into ``args.output``; 1 when some inputs failed."""
    options, paths, recorded = _prepare_analysis(args)
    if args.resume:
        cut_torn_tail(args.output, recorded.keep_bytes)
    pending = pending_positions(paths, recorded)
    tally = RunTally(skipped=len(paths) - len(pending))
    with jsonl_output(args.output, args.resume, tally) as out:
        _analyze_into(out, paths, pending, options, tally, args.no_progress)
    return report_run(tally, "the error fields")


def _prepare_analysis(args: argparse.Namespace) -> Tuple[AnalyzeOptions, List[str], RecordedLines]:
    """Check the whole command line and build the detector and the models, touching no output."""
    with at_start_up(args.output):
        values = option_values(args, COMMAND_OPTIONS, FIXED)
        check_resume(args)
        if args.output != STDOUT:
            check_output_file(args.output)
        paths = input_paths(args.inputs)
        recorded = read_recorded_lines(args.output, "analyze") if args.resume else RecordedLines(set(), 0)
        values["actions"] = list(dict.fromkeys(values["actions"]))
        options = AnalyzeOptions.create(**values)
        check_detector(options.extract.detector_backend, options.extract.detector_options)
        for action in options.actions:  # missing weights stop the run here
            build_attribute_model(action)
    return options, paths, recorded


def _analyze_into(
    out: IO[str], paths: List[str], pending: List[int], options: AnalyzeOptions, tally: RunTally, no_progress: bool
) -> None:
    """Analyse the pending inputs, write one line each, count them."""
    stream = iter_analyze([paths[index] for index in pending], options)
    with closing(stream):  # stops the decoding threads when the run breaks off
        for result, faces in with_progress(stream, len(pending), disable=no_progress):
            with timings.stage("write"):
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

