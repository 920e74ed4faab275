"""The model registry and the alignment geometry."""

import threading

import numpy as np
import pytest

from deepface.models.Detector import Detector, FacialAreaRegion, chunked, group_by_shape
from deepface.modules import modeling
from deepface.modules.alignment import project_box, rotate_to_level_eyes, surrounding_window
from deepface.modules.detection import frame_image


class CountingDetector(Detector):
    """Counts its constructions, slowly, so that racing threads would build it twice."""

    builds = 0

    def __init__(self) -> None:
        type(self).builds += 1
        threading.Event().wait(0.05)

    def detect_faces(self, img):
        return []


def test_a_model_is_built_once_even_from_many_threads(monkeypatch) -> None:
    spec = modeling.ModelSpec(f"{__name__}:CountingDetector")
    monkeypatch.setitem(modeling.FACE_DETECTORS, "counting", spec)
    modeling.clear_cache()
    got = []
    threads = [
        threading.Thread(target=lambda: got.append(modeling.build_model("face_detector", "counting")))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert CountingDetector.builds == 1 and all(model is got[0] for model in got)


def test_unknown_names_list_the_choices() -> None:
    with pytest.raises(ValueError, match="mtcnn"):
        modeling.build_model("face_detector", "nope")
    with pytest.raises(ValueError, match="face_detector"):
        modeling.build_model("nope", "opencv")


DEEPFACE_DETECTORS = [
    "opencv", "ssd", "dlib", "mtcnn", "fastmtcnn", "retinaface", "mediapipe", "yunet", "centerface",
    "yolov8n", "yolov8m", "yolov8l", "yolov11n", "yolov11s", "yolov11m", "yolov11l",
    "yolov12n", "yolov12s", "yolov12m", "yolov12l",
]


def test_every_detector_name_deepface_accepts_is_registered() -> None:
    assert set(DEEPFACE_DETECTORS) <= set(modeling.FACE_DETECTORS)


def test_default_batch_method_loops_over_detect_faces() -> None:
    class BySize(Detector):
        def detect_faces(self, img):
            return [FacialAreaRegion(x=0, y=0, w=img.shape[1], h=img.shape[0])]

    imgs = [np.zeros((h, 10, 3), np.uint8) for h in (5, 7, 5)]
    assert [r[0].h for r in BySize().detect_faces_batch(imgs)] == [5, 7, 5]


def test_grouping_helpers() -> None:
    imgs = [np.zeros(s, np.uint8) for s in [(2, 2, 3), (3, 2, 3), (2, 2, 3)]]
    assert list(group_by_shape(imgs).values()) == [[0, 2], [1]]
    assert [list(c) for c in chunked([1, 2, 3, 4, 5], 2)] == [[1, 2], [3, 4], [5]]


def test_frame_image_adds_deepfaces_border() -> None:
    framed = frame_image(np.ones((11, 20, 3), np.uint8), 0.5)
    assert framed.pixels.shape == (11 + 2 * 5, 20 + 2 * 10, 3)
    assert (framed.border_x, framed.border_y) == (10, 5)
    assert framed.pixels[:5].sum() == 0 and framed.pixels[5:16, 10:30].min() == 1
    assert frame_image(np.ones((4, 4, 3), np.uint8), 0).pixels.shape == (4, 4, 3)


def test_surrounding_window_pads_black_off_the_image() -> None:
    img = np.full((10, 10, 3), 9, np.uint8)
    window, mx, my = surrounding_window(img, (0, 0, 4, 6))
    assert window.shape == (12, 8, 3) and (mx, my) == (2, 3)
    assert window[:3].sum() == 0 and window[:, :2].sum() == 0 and window[3:, 2:].min() == 9


def test_rotation_levels_the_eyes_and_keeps_level_faces_still() -> None:
    img = np.arange(20 * 20 * 3, dtype=np.uint8).reshape(20, 20, 3)
    same, angle = rotate_to_level_eyes(img, (14, 8), (6, 8))
    assert angle == 0 and np.array_equal(same, img)
    _, angle = rotate_to_level_eyes(img, (14, 14), (6, 6))
    assert angle == pytest.approx(45)
    assert project_box((2, 3, 8, 9), 0.0, (20, 20)) == (2, 3, 8, 9)
    # a centred box stays centred whatever the angle
    assert project_box((5, 5, 15, 15), 30.0, (20, 20)) == (5, 5, 15, 15)
