"""What every ``deepface`` command shares: exit statuses, usage errors, checks of the
command line, the run's tally and its summary. ``deepface.ray`` builds on this part only."""

import argparse
import json
import logging
import os
import sys
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

from deepface import DeepFace
from deepface.commons import timings
from deepface.commons.image_utils import expand_image_paths
from deepface.modules.detection import SKIP
from deepface.modules.pipeline import ImageResult

logger = logging.getLogger("deepface.cli")

#: Exit statuses: every input worked; some inputs failed; bad usage or a run that could not
#: start or broke off; interrupted (Ctrl-C), as shells report SIGINT.
EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
STDOUT = "-"


class UsageError(Exception):
    """A bad command line, an unusable environment or a broken-off run: reported, exit status 2."""


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run, with what became of its output: reported, exit status 130."""


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


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


def with_progress(stream: Any, total: int, disable: bool) -> Any:
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


def report_timings(recorded: timings.Timings) -> None:
    """Print the seconds of each stage on stderr, after the run's summary."""
    print(f"timings: {recorded.summary()} (stages {recorded.total:.2f} s)", file=sys.stderr)
