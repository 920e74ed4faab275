"""SSD's post-processing on detection rows made by hand (its weights cannot be had here)."""

import numpy as np
import pytest

from deepface.models.face_detection.Ssd import decode_detections
from deepface.modules import modeling
from deepface.modules.exceptions import WeightsUnavailable


def rows(*items):
    return np.array(items, dtype=np.float32)


def test_rows_are_split_by_image_and_filtered_by_label_and_score() -> None:
    detections = rows(
        [0, 1, 0.95, 0.10, 0.20, 0.50, 0.60],
        [1, 1, 0.99, 0.00, 0.00, 1.00, 1.00],
        [0, 1, 0.50, 0.10, 0.20, 0.50, 0.60],  # below 0.9
        [0, 0, 0.99, 0.10, 0.20, 0.50, 0.60],  # background label
    )
    first = decode_detections(detections, 0, width=600, height=300)
    second = decode_detections(detections, 1, width=640, height=480)
    assert len(first) == 1 and len(second) == 1
    # 0.10 * 300 = 30 px on the 300 grid, scaled by 600 / 300
    assert (first[0].x, first[0].y, first[0].w, first[0].h) == (60, 60, 240, 120)
    assert first[0].confidence == pytest.approx(0.95)
    assert (second[0].x, second[0].y, second[0].w, second[0].h) == (0, 0, 640, 480)
    assert decode_detections(detections, 2, 10, 10) == []


def test_missing_weights_name_the_file_to_place(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("DEEPFACE_HOME", str(tmp_path))
    monkeypatch.setattr("deepface.commons.weight_utils._download", _refuse)
    modeling.clear_cache()
    with pytest.raises(WeightsUnavailable, match="deploy.prototxt"):
        modeling.build_model("face_detector", "ssd")


def _refuse(url: str, output: str) -> None:
    raise ConnectionError("no network in tests")


class ContentNet:
    """Stands in for the SSD network: one detection per bright image in the blob, its box
    drawn from the image's content, labelled with the image's index in the blob."""

    def setInput(self, blob: np.ndarray) -> None:  # noqa: N802  (OpenCV's name)
        self.blob = blob

    def forward(self) -> np.ndarray:
        found = []
        for k, img in enumerate(self.blob):
            brightness = float(img.mean()) / 255
            if brightness > 0.2:
                left, top = brightness / 4, float(img[0].mean()) / 1024
                found.append([k, 1, 0.9 + brightness / 20, left, top, left + 0.5, top + 0.5])
        return np.array(found or np.zeros((0, 7)), dtype=np.float32).reshape(1, 1, -1, 7)


def test_one_blob_per_batch_gives_each_image_its_own_faces(monkeypatch: pytest.MonkeyPatch) -> None:
    from deepface.models.face_detection import Ssd
    from tests.conftest import synthetic_images

    # the real weights cannot be had here: the constructor gets the stand-in net
    monkeypatch.setattr(Ssd.weight_utils, "download_weights_if_necessary", lambda *args, **kwargs: "unused")
    monkeypatch.setattr(Ssd.cv2.dnn, "readNetFromCaffe", lambda *args: ContentNet())
    client = Ssd.SsdClient()
    rng = np.random.default_rng(3)
    imgs = synthetic_images() + [
        np.zeros((90, 130, 3), np.uint8),  # dark: no face
        rng.integers(100, 255, (500, 320, 3), dtype=np.uint8),
    ]
    batched = client.detect_faces_batch(imgs)
    singles = [client.detect_faces(img) for img in imgs]
    assert batched == singles
    assert batched[4] == [] and sum(map(len, batched)) >= 4
