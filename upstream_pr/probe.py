"""Runs inside a deepface tree (PYTHONPATH=tree): batch == single, and timings.

    python upstream_pr/probe.py same --faces DIR --detectors opencv mtcnn yolov8n
    python upstream_pr/probe.py bench --faces DIR --detector mtcnn --dataset frames --sizes 1 8 16

Imports deepface from PYTHONPATH only (the tree under test), never this project's package:
it is run as a script, so its own folder, not the project, is on sys.path. Prints one JSON
line per result.
"""

import argparse
import glob
import json
import os
import statistics
import sys
import time
from typing import Any, Dict, List

try:  # torch and torchvision before TensorFlow, or this machine's process crashes
    import torch  # noqa: F401  pylint: disable=unused-import
    import torchvision  # noqa: F401  pylint: disable=unused-import
except ImportError:
    pass
import cv2
import numpy as np

FRAME_SIZE = (640, 480)


def photos(faces: str, count: int) -> List[np.ndarray]:
    paths = sorted(glob.glob(os.path.join(faces, "*.jpg")))[:count]
    return [cv2.imread(path) for path in paths]


def frames(faces: str, count: int) -> List[np.ndarray]:
    """Video-like 640x480 frames: a centre crop of each photo, resized."""
    resp = []
    for img in photos(faces, count):
        h, w = img.shape[:2]
        target = FRAME_SIZE[0] / FRAME_SIZE[1]
        if w / h > target:
            crop = int(h * target)
            img = img[:, (w - crop) // 2 : (w - crop) // 2 + crop]
        else:
            crop = int(w / target)
            img = img[(h - crop) // 2 : (h - crop) // 2 + crop]
        resp.append(cv2.resize(img, FRAME_SIZE, interpolation=cv2.INTER_AREA))
    return resp


def _mismatches(batch: List[Dict[str, Any]], single: List[Dict[str, Any]]) -> List[str]:
    if len(batch) != len(single):
        return [f"{len(batch)} faces in the list result, {len(single)} alone"]
    found = []
    for b, s in zip(batch, single):
        if b["facial_area"] != s["facial_area"]:
            found.append(f"facial_area {b['facial_area']} != {s['facial_area']}")
        if abs(b["confidence"] - s["confidence"]) > 0.01:
            found.append(f"confidence {b['confidence']} != {s['confidence']}")
        if b["face"].shape != s["face"].shape:
            found.append(f"face shape {b['face'].shape} != {s['face'].shape}")
    return found


def same(args: argparse.Namespace) -> int:
    from deepface import DeepFace

    imgs = photos(args.faces, 6) + frames(args.faces, 4) + [np.zeros((300, 400, 3), np.uint8)]
    failed = 0
    for detector in args.detectors:
        batch = DeepFace.extract_faces(imgs, detector_backend=detector, enforce_detection=False)
        problems = []
        faces = 0
        for index, img in enumerate(imgs):
            single = DeepFace.extract_faces(img, detector_backend=detector, enforce_detection=False)
            faces += len(single)
            problems += [f"image {index}: {p}" for p in _mismatches(batch[index], single)]
        failed += bool(problems)
        print(json.dumps({"detector": detector, "images": len(imgs), "faces": faces,
                          "mismatches": problems}), flush=True)
    return 1 if failed else 0


def bench(args: argparse.Namespace) -> int:
    from deepface import DeepFace

    make = frames if args.dataset == "frames" else photos
    imgs = make(args.faces, args.count)
    detector = args.detector

    def run(size: int) -> None:
        if size == 1:
            for img in imgs:
                DeepFace.extract_faces(img, detector_backend=detector, enforce_detection=False)
        else:
            for start in range(0, len(imgs), size):
                DeepFace.extract_faces(
                    imgs[start : start + size], detector_backend=detector, enforce_detection=False
                )

    run(args.sizes[0])  # builds the model, warms up
    for size in args.sizes:
        seconds = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            run(size)
            seconds.append(time.perf_counter() - start)
        print(json.dumps({"detector": detector, "dataset": args.dataset, "images": len(imgs),
                          "size": size, "seconds": seconds,
                          "median": statistics.median(seconds),
                          "load": os.getloadavg()[0]}), flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    p_same = sub.add_parser("same")
    p_same.add_argument("--faces", required=True)
    p_same.add_argument("--detectors", nargs="+", default=["opencv", "mtcnn", "yolov8n"])
    p_bench = sub.add_parser("bench")
    p_bench.add_argument("--faces", required=True)
    p_bench.add_argument("--detector", required=True)
    p_bench.add_argument("--dataset", choices=["frames", "photos"], default="frames")
    p_bench.add_argument("--count", type=int, default=16)
    p_bench.add_argument("--sizes", type=int, nargs="+", default=[1, 8, 16])
    p_bench.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    return same(args) if args.mode == "same" else bench(args)


if __name__ == "__main__":
    sys.exit(main())
