"""Peak memory of one large photo through ``extract_faces`` (the README's figure).

    python scripts/peak_memory.py --side 6000 --detector opencv

Each measurement runs in a fresh process: a photo from ``../shared/faces`` (a synthetic
image when absent) is enlarged to ``side`` x ``side`` and written as JPEG; the child
process measures its peak resident memory (``ru_maxrss``) after importing the package
and building the detector, then after ``extract_faces`` on the file.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
PHOTO = REPO.parent / "shared" / "faces" / "img1.jpg"

CHILD = """
import json, resource, sys
from deepface import DeepFace
path, detector, border = sys.argv[1], sys.argv[2], sys.argv[3]
options = {} if border == "default" else {"detection_border": float(border)}
DeepFace.build_model(detector, task="face_detector")
ready = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
faces = DeepFace.extract_faces(path, detector_backend=detector, enforce_detection=False, **options)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"ready_mb": ready / 1024, "peak_mb": peak / 1024, "faces": len(faces)}))
"""


def write_photo(side: int, folder: Path) -> Path:
    source = cv2.imread(str(PHOTO)) if PHOTO.is_file() else None
    if source is None:
        source = np.random.default_rng(0).integers(0, 255, (600, 600, 3), dtype=np.uint8)
    path = folder / f"photo-{side}.jpg"
    cv2.imwrite(str(path), cv2.resize(source, (side, side), interpolation=cv2.INTER_CUBIC))
    return path


def measure(path: Path, detector: str, border: str) -> dict:
    output = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), detector, border],
        check=True, capture_output=True, text=True, cwd=REPO,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--side", type=int, default=6000)
    parser.add_argument("--detector", default="opencv")
    parser.add_argument("--borders", nargs="+", default=["default", "0"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = write_photo(args.side, Path(folder))
        for border in args.borders:
            result = measure(path, args.detector, border)
            print(
                f"{args.side}x{args.side} {args.detector} border={border}: peak {result['peak_mb']:.0f} MB "
                f"(after start-up {result['ready_mb']:.0f} MB), {result['faces']} face(s)"
            )


if __name__ == "__main__":
    main()
