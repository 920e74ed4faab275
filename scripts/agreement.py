"""How many of one detector's faces another finds: matches by box overlap, per photo.

    python scripts/agreement.py --reference mtcnn opencv --detectors dlib mediapipe fastmtcnn --smallest 24
"""

import argparse
from pathlib import Path
from typing import Dict, List

from deepface import DeepFace
from deepface.commons.image_utils import expand_image_paths

DEFAULT_FOLDER = Path(__file__).resolve().parent.parent.parent / "shared" / "faces"
MATCH_IOU = 0.3  # detectors draw boxes of different tightness around the same face


def iou(a: Dict[str, int], b: Dict[str, int]) -> float:
    x1, y1 = max(a["x"], b["x"]), max(a["y"], b["y"])
    x2, y2 = min(a["x"] + a["w"], b["x"] + b["w"]), min(a["y"] + a["h"], b["y"] + b["h"])
    inter = max(0, x2 - x1) * max(0, y2 - y1)
    union = a["w"] * a["h"] + b["w"] * b["h"] - inter
    return inter / union if union else 0.0


def faces_per_image(paths: List[str], detector: str) -> List[List[Dict[str, int]]]:
    out = DeepFace.extract_faces(paths, detector_backend=detector, enforce_detection=False)
    return [[f["facial_area"] for f in faces if f["confidence"] > 0] for faces in out]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", nargs="?", default=str(DEFAULT_FOLDER))
    parser.add_argument("--reference", nargs="+", default=["mtcnn", "opencv"])
    parser.add_argument("--detectors", nargs="+", default=["dlib", "mediapipe", "fastmtcnn"])
    parser.add_argument("--smallest", type=int, help="only the N smallest files (dlib is slow on large ones)")
    args = parser.parse_args()
    paths = list(expand_image_paths([args.folder]))
    if args.smallest:
        paths = sorted(paths, key=lambda path: Path(path).stat().st_size)[: args.smallest]
    found = {name: faces_per_image(paths, name) for name in args.reference + args.detectors}
    print(f"{len(paths)} photos; a face matches when boxes overlap by IoU >= {MATCH_IOU}")
    for reference in args.reference:
        total = sum(map(len, found[reference]))
        for name in args.detectors:
            matched = sum(
                any(iou(face, other) >= MATCH_IOU for other in others)
                for faces, others in zip(found[reference], found[name])
                for face in faces
            )
            print(f"{name:10s} finds {matched:3d} of {reference}'s {total} faces "
                  f"({sum(map(len, found[name]))} faces in all)")


if __name__ == "__main__":
    main()
