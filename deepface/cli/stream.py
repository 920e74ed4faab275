"""``deepface stream``: annotate the faces of a video (age, gender, emotion, identity) and
write the annotated video; the work is ``deepface.modules.streaming``'s."""

import argparse
import os
import sys
from typing import Any

from deepface.cli.common import EXIT_OK, STDOUT, UsageError, check_detector, check_output_file, positive_int
from deepface.cli.output import at_start_up, left_as_it_was, reported_if_broken_off
from deepface.modules import streaming

#: Names the annotated video may have (OpenCV picks the container from it).
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".avi", ".mkv")
DISTANCE_METRICS = ("cosine", "euclidean", "euclidean_l2", "angular")


def add_parser(commands: Any) -> None:
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
    stream.add_argument("--frame-stride", type=positive_int, default=1, metavar="N", help="analyse every Nth frame")
    stream.add_argument(
        "--batch-size",
        type=positive_int,
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


def run(args: argparse.Namespace) -> int:
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

