"""The command-line arguments that several commands share: inputs, detection options, ``--ray``."""

import argparse

from deepface.cli.common import positive_int
from deepface.modules.detection import DEFAULT_BATCH_SIZE


def add_detection_arguments(parser: argparse.ArgumentParser) -> None:
    """The inputs and detection options that every subcommand takes."""
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or folders (walked in sorted order)")
    parser.add_argument("--detector-backend", default="opencv", help="detector (default: opencv)")
    parser.add_argument("--batch-size", type=positive_int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument("--no-align", action="store_true", help="do not align faces")
    parser.add_argument("--expand-percentage", type=int, default=0)
    parser.add_argument("--max-faces", type=positive_int)
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


def add_ray_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ray",
        nargs="?",
        const="local",
        metavar="ADDRESS",
        help="run on Ray Data (a local Ray, or the cluster at ADDRESS) and write --output as a Parquet "
        "folder (needs deepface[ray]; see docs/ray.md)",
    )
