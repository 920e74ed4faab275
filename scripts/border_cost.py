"""What deepface's detection border costs and buys: faces found and seconds, with and without.

    python scripts/border_cost.py [--detector mtcnn] [FOLDER]
"""

import argparse
import time
from pathlib import Path

from deepface import DeepFace
from deepface.commons.image_utils import expand_image_paths

DEFAULT_FOLDER = Path(__file__).resolve().parent.parent.parent / "shared" / "faces"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", nargs="?", default=str(DEFAULT_FOLDER))
    parser.add_argument("--detector", default="mtcnn")
    args = parser.parse_args()
    paths = list(expand_image_paths([args.folder]))
    for border in (None, 0):
        started = time.perf_counter()
        out = DeepFace.extract_faces(
            paths, detector_backend=args.detector, enforce_detection=False, detection_border=border
        )
        faces = sum(face["confidence"] > 0 for per_image in out for face in per_image)
        label = "deepface's border" if border is None else f"detection_border={border}"
        print(f"{label}: {len(paths)} images, {faces} faces, {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
