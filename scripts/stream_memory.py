"""Peak memory of the streaming API for a short and a long run: it must not grow with length.

    python scripts/stream_memory.py --counts 500 5000 --batch-size 32 --detector skip

Each count runs in a fresh process, feeding ``DeepFace.extract_faces_iter`` a generator
that cycles through 640x480 frames cut from the shared photos (nothing holds the list).
"""

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED_FACES = REPO.parent / "shared" / "faces"

WORKER = """
import itertools, json, resource, sys
from deepface import DeepFace
frames, count, batch_size, detector = json.loads(sys.argv[1])
stream = DeepFace.extract_faces_iter(
    (frames[i % len(frames)] for i in range(count)),
    detector_backend=detector, enforce_detection=False, batch_size=batch_size,
)
seen = sum(1 for _ in stream)
print("STREAM-JSON " + json.dumps({"images": seen,
      "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--counts", nargs="+", type=int, default=[500, 5000])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--detector", default="skip")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "scripts"))
    from benchmark import make_frames  # noqa: E402

    photos = sorted(glob.glob(str(SHARED_FACES / "*.jpg")))
    with tempfile.TemporaryDirectory() as tmp:
        frames = make_frames(photos, 32, Path(tmp))
        peaks = {}
        for count in args.counts:
            done = subprocess.run(
                [sys.executable, "-c", WORKER, json.dumps([frames, count, args.batch_size, args.detector])],
                cwd=tmp, env={**os.environ, "PYTHONPATH": str(REPO)},
                capture_output=True, text=True, check=True,
            )
            line = [l for l in done.stdout.splitlines() if l.startswith("STREAM-JSON ")][-1]
            result = json.loads(line[len("STREAM-JSON "):])
            peaks[count] = result["peak_mib"]
            print(f"{result['images']:6d} images, batch {args.batch_size}, {args.detector}: "
                  f"peak {result['peak_mib']:.0f} MiB", flush=True)
    first, last = peaks[args.counts[0]], peaks[args.counts[-1]]
    print(f"growth from {args.counts[0]} to {args.counts[-1]} images: {100 * (last / first - 1):+.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
