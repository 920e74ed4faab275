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
import logging
import sys
from typing import Optional, Sequence

from deepface import __version__
from deepface.cli import analyze, dispatch, extract, represent, serve, stream
from deepface.cli.common import (  # the names callers import from deepface.cli
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_SOME_FAILED,
    EXIT_USAGE,
    STDOUT,
    RunInterrupted,
    RunTally,
    UsageError,
    check_detector,
    describe_error,
    error_text,
    input_paths,
    parse_detector_options,
    report_run,
)
from deepface.cli.output import (
    at_start_up,
    atomic_output,
    left_as_it_was,
    read_recorded_lines,
    reported_if_broken_off,
)
from deepface.commons import engines, timings
from deepface.cli.common import report_timings

__all__ = [
    "COMMANDS", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_SOME_FAILED", "EXIT_USAGE", "STDOUT",
    "RunInterrupted", "RunTally", "UsageError", "at_start_up", "atomic_output", "build_parser",
    "check_detector", "console", "describe_error", "error_text", "input_paths", "left_as_it_was", "main",
    "parse_detector_options", "read_recorded_lines", "report_run", "reported_if_broken_off",
]

#: The commands, by name: each module adds its parser and runs it.
COMMANDS = {
    "extract-faces": extract,
    "represent": represent,
    "analyze": analyze,
    "stream": stream,
    "serve": serve,
}


FIRE_EPILOG = (
    "deepface's own form also works: deepface FUNCTION ARGS..., fire over any public DeepFace "
    "function (deepface verify img1.jpg img2.jpg; deepface represent img.jpg --model_name Facenet). "
    "See docs/cli.md for how the two are told apart."
)


def console(argv: Optional[Sequence[str]] = None) -> int:
    """The ``deepface`` console script: a batch command, or deepface's fire-style
    ``deepface <function> ...`` (``DeepFace.cli``), told apart as ``dispatch`` says."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if dispatch.wants_fire(arguments, COMMANDS):
        return dispatch.run_fire(arguments)
    return main(arguments)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deepface", description=__doc__.split("\n")[0], epilog=FIRE_EPILOG)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS.values():
        command.add_parser(commands)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; returns the exit status (argparse exits 2 itself on bad syntax)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    if not getattr(args, "verbose", False):
        engines.quiet_tensorflow_startup()  # before anything imports TensorFlow
    try:
        return run_command(args)
    except UsageError as error:
        print(f"deepface: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as error:
        print(f"deepface: {error or 'interrupted'}", file=sys.stderr)
        return EXIT_INTERRUPTED


def run_command(args: argparse.Namespace) -> int:
    """Run the chosen command; with ``--timings`` (or ``DEEPFACE_TIMINGS=1``) print the
    seconds of each stage after its summary."""
    if not (getattr(args, "timings", False) or timings.enabled_by_environment()):
        return COMMANDS[args.command].run(args)
    with timings.collect() as recorded:
        try:
            return COMMANDS[args.command].run(args)
        finally:
            report_timings(recorded)
