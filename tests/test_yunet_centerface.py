"""YuNet and CenterFace without their weights (not downloadable here): their pre- and
post-processing on outputs made by hand, CenterFace's checked against deepface's own."""

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import cv2
import numpy as np
import pytest

from deepface import DeepFace
from deepface.commons.exceptions import BatchImageLoadError
from deepface.models.face_detection import CenterFace, YuNet
from deepface.modules import modeling
from tests.conftest import ORACLE_DIR, TESTS_DIR, oracle_or_skip


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
        self.seen = img.shape[:2]
        return 1, np.array([[w / 4, h / 4, w / 2, h / 2, w / 3, h / 3, 2 * w / 3, h / 3] + [0] * 6 + [0.95]])


class StandInCv2:
    """OpenCV as YuNet.py sees it, with ``FaceDetectorYN.create`` giving a RecordingYuNet."""

    def __init__(self) -> None:
        self.FaceDetectorYN = SimpleNamespace(create=lambda *args: RecordingYuNet())  # noqa: N815

    def __getattr__(self, name: str) -> Any:
        return getattr(cv2, name)


@pytest.fixture
def stand_in_yunet(monkeypatch: pytest.MonkeyPatch) -> YuNet.YuNetClient:
    """A YuNetClient built by its own constructor around a RecordingYuNet (no weights)."""
    monkeypatch.setattr(YuNet, "cv2", StandInCv2())
    monkeypatch.setattr(YuNet.weight_utils, "download_weights_if_necessary", lambda *args, **kwargs: "stand-in")
    client = YuNet.YuNetClient(score_threshold=0.9)
    assert isinstance(client.model, RecordingYuNet)
    return client


def test_yunet_detects_in_a_shrunk_copy_and_reports_original_pixels(stand_in_yunet) -> None:
    (face,) = stand_in_yunet.detect_faces(np.zeros((1280, 960, 3), np.uint8))
    assert stand_in_yunet.model.size == (480, 640) and stand_in_yunet.model.threshold == 0.9
    assert (face.x, face.y, face.w, face.h) == (240, 320, 480, 640)


def test_yunet_in_a_batch_gives_each_image_its_own_face(monkeypatch, stand_in_yunet, tmp_path: Path) -> None:
    """YuNet loops (no batch path of its own): the pipeline frames each image, shrinks the
    large ones, and maps every face back to its own input (here: the whole image)."""
    monkeypatch.setattr(modeling, "build_model", lambda *args, **kwargs: stand_in_yunet)
    sizes = [(240, 320), (700, 500), (180, 260), (300, 200), (900, 1200)]  # framed: some > 640 px
    imgs = [np.full((h, w, 3), 90, np.uint8) for h, w in sizes]
    inputs = imgs[:2] + [str(tmp_path / "missing.png")] + imgs[2:]
    with pytest.raises(BatchImageLoadError) as caught:
        DeepFace.extract_faces(inputs, detector_backend="yunet", batch_size=2)  # deepface's border
    assert sorted(caught.value.errors) == [2]
    results = caught.value.results
    assert sorted(results) == [0, 1, 3, 4, 5]
    for index, (h, w) in zip([0, 1, 3, 4, 5], sizes):
        (face,) = results[index]
        area = face["facial_area"]
        # the stand-in's face covers the framed image's centre half: the original image
        assert abs(area["x"]) <= 2 and abs(area["y"]) <= 2, f"input {index}: {area}"
        assert abs(area["w"] - w) <= 3 and abs(area["h"] - h) <= 3, f"input {index}: {area} for {w}x{h}"
        assert face["confidence"] == 0.95


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


def test_centerface_class_forward_runs_the_net_and_decodes(monkeypatch: pytest.MonkeyPatch) -> None:
    """deepface's ``CenterFace(weight_path).forward(img, height, width, threshold)``: the
    net's four outputs decoded (the client detects through it)."""
    outputs = fake_centerface_outputs(333, 517, 1)

    class FakeNet:
        def setInput(self, blob: np.ndarray) -> None:  # noqa: N802 (OpenCV's name)
            self.blob = blob

        def forward(self, names: list) -> list:
            assert names == CenterFace.OUTPUTS and self.blob.shape == (1, 3, 352, 544)
            return [outputs[key] for key in ("heatmap", "scale", "offset", "landmarks")]

    monkeypatch.setattr(CenterFace.cv2.dnn, "readNetFromONNX", lambda path: FakeNet())
    model = CenterFace.CenterFace("centerface.onnx")
    img = np.zeros((333, 517, 3), np.uint8)
    boxes, points = model.forward(img, 333, 517, threshold=0.35)
    geometry = CenterFace.InputGeometry.for_image(333, 517)
    want = CenterFace.decode(outputs["heatmap"], outputs["scale"], outputs["offset"], outputs["landmarks"], geometry, 0.35)
    np.testing.assert_array_equal(boxes, want[0])
    np.testing.assert_array_equal(points, want[1])
    monkeypatch.setattr(CenterFace.weight_utils, "download_weights_if_necessary", lambda *args: "centerface.onnx")
    client = CenterFace.CenterFaceClient(threshold=0.35)
    assert client.detect_faces(img) == CenterFace.regions_from_decoded(*want)
