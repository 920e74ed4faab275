"""YuNet and CenterFace without their weights (not downloadable here): their pre- and
post-processing on outputs made by hand, CenterFace's checked against deepface's own."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from deepface.models.face_detection import CenterFace, YuNet
from tests.conftest import ORACLE_DIR, TESTS_DIR, oracle_or_skip, synthetic_images


def test_yunet_rows_map_back_to_the_original_image() -> None:
    rows = np.array([[-4, 10, 50, 60, 20, 30, 40, 31, 0, 0, 0, 0, 0, 0, 0.97]], np.float32)
    (same,) = YuNet.regions_from_rows(rows, 1.0)
    assert (same.x, same.y, same.w, same.h) == (0, 10, 50, 60)
    assert same.right_eye == (20, 30) and same.left_eye == (40, 31)
    (scaled,) = YuNet.regions_from_rows(rows, 0.5)
    assert (scaled.x, scaled.y, scaled.w, scaled.h) == (0, 20, 100, 120)
    assert scaled.right_eye == (40, 60) and scaled.confidence == pytest.approx(0.97)
    assert YuNet.regions_from_rows(None, 1.0) == []
    assert YuNet.shrink_factor(480, 640) == 1.0 and YuNet.shrink_factor(1280, 960) == 0.5


class RecordingYuNet:
    """Stands in for FaceDetectorYN: one face at the centre of whatever size it is given."""

    def setInputSize(self, size):  # noqa: N802  (OpenCV's names)
        self.size = size

    def setScoreThreshold(self, value):  # noqa: N802
        self.threshold = value

    def detect(self, img):
        w, h = self.size
        assert img.shape[:2] == (h, w)
        return 1, np.array([[w / 4, h / 4, w / 2, h / 2, w / 3, h / 3, 2 * w / 3, h / 3] + [0] * 6 + [0.95]])


def test_yunet_detects_in_a_shrunk_copy_and_reports_original_pixels() -> None:
    client = YuNet.YuNetClient.__new__(YuNet.YuNetClient)
    client.model, client.score_threshold = RecordingYuNet(), 0.9
    (face,) = client.detect_faces(np.zeros((1280, 960, 3), np.uint8))
    assert client.model.size == (480, 640)
    assert (face.x, face.y, face.w, face.h) == (240, 320, 480, 640)
    assert client.detect_faces_batch(synthetic_images()) == [client.detect_faces(i) for i in synthetic_images()]


def test_yunet_threshold_keyword_wins_over_the_environment(monkeypatch) -> None:
    monkeypatch.setenv(YuNet.THRESHOLD_ENV, "0.5")
    assert YuNet.resolve_threshold(None) == 0.5 and YuNet.resolve_threshold(0.7) == 0.7


def fake_centerface_outputs(height: int, width: int, seed: int) -> dict:
    geometry = CenterFace.InputGeometry.for_image(height, width)
    h, w = geometry.height // 4, geometry.width // 4
    rng = np.random.default_rng(seed)
    heat = rng.uniform(0, 0.3, (1, 1, h, w)).astype(np.float32)
    for _ in range(6):  # a few peaks, some overlapping
        y, x = rng.integers(2, h - 2), rng.integers(2, w - 2)
        heat[0, 0, y : y + 2, x : x + 2] = rng.uniform(0.4, 0.99)
    return {
        "heatmap": heat,
        "scale": rng.normal(2.0, 0.5, (1, 2, h, w)).astype(np.float32),
        "offset": rng.uniform(-0.5, 0.5, (1, 2, h, w)).astype(np.float32),
        "landmarks": rng.uniform(0, 1, (1, 10, h, w)).astype(np.float32),
        "height": height, "width": width, "threshold": 0.35,
    }


@pytest.mark.parametrize("height, width, seed", [(480, 640, 0), (333, 517, 1), (100, 90, 2)])
def test_centerface_decoding_equals_deepfaces(height, width, seed, tmp_path: Path) -> None:
    oracle_or_skip()
    outputs = fake_centerface_outputs(height, width, seed)
    np.savez(tmp_path / "outputs.npz", **outputs)
    done = subprocess.run(
        [sys.executable, str(TESTS_DIR / "oracle" / "run_centerface_decode.py"), str(tmp_path / "outputs.npz")],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ORACLE_DIR)},
        capture_output=True, text=True, timeout=300, check=False,
    )
    lines = [l for l in done.stdout.splitlines() if l.startswith("ORACLE-JSON ")]
    assert done.returncode == 0 and lines, done.stderr[-2000:]
    want = json.loads(lines[-1][len("ORACLE-JSON "):])

    geometry = CenterFace.InputGeometry.for_image(height, width)
    boxes, points = CenterFace.decode(outputs["heatmap"], outputs["scale"], outputs["offset"],
                                      outputs["landmarks"], geometry, outputs["threshold"])
    assert len(boxes) >= 2, "the made-up outputs should hold several faces"
    np.testing.assert_allclose(boxes, np.array(want["boxes"], np.float32).reshape(-1, 5), rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(points, np.array(want["landmarks"], np.float32).reshape(-1, 10), rtol=1e-5, atol=1e-3)
    regions = CenterFace.regions_from_decoded(boxes, points)
    assert all(0 <= r.confidence <= 1 for r in regions)
