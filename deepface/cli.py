"""The ``deepface`` command: batched face extraction over files and folders.

    deepface extract-faces photos/ more.jpg --detector-backend mtcnn --output faces.jsonl --crops crops/

Writes one JSON line per image: its path and its faces (``facial_area``, ``confidence``),
or the error that stopped it. Unreadable and faceless images are recorded; the run goes on.
"""

import argparse
import json
import logging
import os
import sys
from typing import IO, Any, Dict, List, Optional, Sequence

import cv2
import numpy as np

from deepface import __version__
from deepface.commons.image_utils import expand_image_paths
from deepface.modules.detection import DEFAULT_BATCH_SIZE, ExtractOptions, ImageResult, iter_extract_faces


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deepface", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    extract = commands.add_parser("extract-faces", help="detect and crop faces in images")
    extract.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or folders")
    extract.add_argument("--detector-backend", default="opencv", help="detector (default: opencv)")
    extract.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    extract.add_argument("--output", default="-", help="JSON lines file (default: stdout)")
    extract.add_argument("--crops", metavar="DIR", help="write each aligned face crop here")
    extract.add_argument("--no-align", action="store_true", help="do not align faces")
    extract.add_argument("--expand-percentage", type=int, default=0)
    extract.add_argument("--max-faces", type=int)
    extract.add_argument(
        "--detection-border",
        type=float,
        help="border added before detection, as a fraction of the image (default: deepface's)",
    )
    extract.add_argument(
        "--detector-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a detector keyword, e.g. engine=onnx or min_confidence=0.4 (repeatable)",
    )
    extract.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    extract.add_argument("-v", "--verbose", action="store_true")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    if args.command == "extract-faces":
        return extract_faces_command(args)
    return 2


def extract_faces_command(args: argparse.Namespace) -> int:
    missing = [path for path in args.inputs if not os.path.exists(path)]
    if missing:
        print(f"deepface: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    paths = list(expand_image_paths(args.inputs))
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
    return 0


def parse_detector_options(items: List[str]) -> Dict[str, Any]:
    """``["engine=onnx", "min_confidence=0.4"]`` -> ``{"engine": "onnx", "min_confidence": 0.4}``.

    Values are read as JSON where they parse (numbers, true/false, null), else as text.
    """
    options: Dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"deepface: --detector-option needs KEY=VALUE, got {item!r}")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


def _with_progress(stream: Any, total: int, disable: bool) -> Any:
    try:
        from tqdm import tqdm
    except ImportError:
        return stream
    return tqdm(stream, total=total, unit="img", disable=disable, file=sys.stderr)


def _write_line(out: IO[str], result: ImageResult, faces: List[Dict[str, Any]]) -> None:
    record: Dict[str, Any] = {
        "path": result.source,
        "faces": [{"facial_area": f["facial_area"], "confidence": f["confidence"]} for f in faces],
        "error": None if result.error is None else f"{type(result.error).__name__}: {result.error}",
    }
    out.write(json.dumps(record) + "\n")
    out.flush()


def _save_crops(folder: str, result: ImageResult, faces: List[Dict[str, Any]]) -> None:
    stem = f"{result.index:06d}_{os.path.splitext(os.path.basename(result.source))[0]}"
    for k, face in enumerate(faces):
        pixels = np.ascontiguousarray(face["face"])
        cv2.imwrite(os.path.join(folder, f"{stem}_face{k}.jpg"), pixels)


if __name__ == "__main__":
    sys.exit(main())
