"""Single-image results equal upstream deepface 0.0.103's, run as an oracle in a subprocess.

Needs upstream deepface in ``.oracle/`` (``make oracle``) and the shared photos; skips
with the reason otherwise.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

from deepface import DeepFace
from tests.conftest import ORACLE_DIR, TESTS_DIR, assert_same_face_dicts, oracle_or_skip, shared_faces_or_skip

ORACLE_SCRIPT = TESTS_DIR / "oracle" / "run_deepface.py"

# The smallest photos keep the run short; stock-1 has several small faces, couple two.
PHOTOS = {
    "opencv": ["img25.jpg", "img5.jpg", "img46.jpg", "img50.jpg", "img12.jpg", "img10.jpg",
               "img51.jpg", "img21.jpg", "img43.jpg", "img16.jpg", "img45.jpg", "img44.jpg",
               "couple.jpg", "stock-1.jpg"],
    "mtcnn": ["img25.jpg", "img5.jpg", "img46.jpg", "img50.jpg", "img12.jpg", "img10.jpg",
              "img43.jpg", "stock-1.jpg"],
}


def run_oracle(paths: List[str], backend: str, align: bool, home: Path) -> List[List[dict]]:
    oracle_or_skip()
    request = json.dumps({"paths": paths, "detector_backend": backend, "align": align})
    env = {**os.environ, "PYTHONPATH": str(ORACLE_DIR), "DEEPFACE_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, str(ORACLE_SCRIPT), request],
        cwd=home, env=env, capture_output=True, text=True, timeout=1200, check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("ORACLE-JSON ")]
    assert done.returncode == 0 and lines, f"oracle failed:\n{done.stderr[-3000:]}"
    answer = json.loads(lines[-1][len("ORACLE-JSON "):])
    assert Path(answer["deepface_file"]).resolve().is_relative_to(ORACLE_DIR.resolve())
    return answer["results"]


def box_key(face: dict) -> tuple:
    area = face["facial_area"]
    return (area["x"], area["y"], area["w"], area["h"])


def as_tuples(faces: List[dict]) -> List[dict]:
    """JSON turned the oracle's eye tuples into lists; compare like with like."""
    for face in faces:
        for key, value in face["facial_area"].items():
            if isinstance(value, list):
                face["facial_area"][key] = tuple(value)
    return faces


@pytest.mark.parametrize(
    "backend, align", [("opencv", True), ("opencv", False), ("mtcnn", True)]
)
def test_single_image_results_equal_deepface(backend: str, align: bool, tmp_path: Path) -> None:
    folder = shared_faces_or_skip()
    paths = [str(folder / name) for name in PHOTOS[backend]]
    expected = run_oracle(paths, backend, align, tmp_path)
    found = 0
    for path, want in zip(paths, expected):
        got = DeepFace.extract_faces(path, detector_backend=backend, align=align, enforce_detection=False)
        if backend == "opencv":  # OpenCV's order depends on thread scheduling: compare as sets
            want, got = sorted(want, key=box_key), sorted(got, key=box_key)
        assert_same_face_dicts(as_tuples(want), got, f"{backend} {Path(path).name}")
        for want_face, got_face in zip(want, got):
            assert abs(want_face["shape"][0] - got_face["face"].shape[0]) <= 1
            assert abs(want_face["shape"][1] - got_face["face"].shape[1]) <= 1
        found += sum(face["confidence"] > 0 for face in got)
    assert found >= len(paths) // 2, "too few faces found for the comparison to mean much"
