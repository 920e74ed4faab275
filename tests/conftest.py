"""Shared fixtures: test images, a temporary weights folder, and comparison helpers."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import Dict, List

import cv2
import numpy as np
import pytest

from deepface.commons.engines import import_tensorflow_safely

# pytester runs small pytest sessions inside tests (tests/test_strict_skips.py);
# strict_skips fails the run on unexpected skips when DEEPFACE_STRICT_SKIPS=1 (CI).
pytest_plugins = ("pytester", "tests.helpers.strict_skips")

# ultralytics writes a settings file on import: keep it out of the user's home.
if "YOLO_CONFIG_DIR" not in os.environ:
    os.environ["YOLO_CONFIG_DIR"] = tempfile.mkdtemp(prefix="yolo-config-")
    atexit.register(shutil.rmtree, os.environ["YOLO_CONFIG_DIR"], ignore_errors=True)
# Test modules may import TensorFlow themselves: set the process up as the package would.
import_tensorflow_safely()

# upstream deepface, installed apart by `make oracle`: the test oracle (one definition,
# in tests/helpers/oracle.py, re-exported here for the tests that import it from conftest)
from tests.helpers.oracle import ORACLE_DIR, oracle_or_skip  # noqa: E402,F401

TESTS_DIR = Path(__file__).resolve().parent
REPO_DIR = TESTS_DIR.parent
SHARED_FACES = REPO_DIR.parent / "shared" / "faces"
YOLO_TEST_CONFIDENCE = 0.05
#: Raw detector confidences (floats) of two runs of the same detector agree within this.
CONFIDENCE_TOLERANCE = 1e-3
#: deepface reports a face's confidence rounded to two decimals: raw values within
#: CONFIDENCE_TOLERANCE can round to neighbouring hundredths, one step (0.01) apart; the
#: extra 1e-3 also absorbs the float error of that difference (0.58 - 0.57 > 0.01).
ROUNDED_CONFIDENCE_TOLERANCE = 0.01 + CONFIDENCE_TOLERANCE


def shared_faces_or_skip() -> Path:
    if not SHARED_FACES.is_dir():
        pytest.skip(f"needs the shared photos at {SHARED_FACES} (absent in a user's clone)")
    return SHARED_FACES


def resize_to_width(img: np.ndarray, width: int) -> np.ndarray:
    height = round(img.shape[0] * width / img.shape[1])
    return cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA)


def synthetic_images() -> List[np.ndarray]:
    """Face-free images of several sizes, two of them of the same shape."""
    rng = np.random.default_rng(0)
    ramp = np.tile(np.linspace(0, 255, 320, dtype=np.uint8), (240, 1))
    return [
        cv2.merge([ramp, ramp[::-1], ramp]),
        rng.integers(0, 255, (300, 200, 3), dtype=np.uint8),
        rng.integers(0, 255, (300, 200, 3), dtype=np.uint8),
        np.full((180, 260, 3), 128, dtype=np.uint8),
    ]


@pytest.fixture(scope="session")
def face_photos() -> Dict[str, np.ndarray]:
    """A few shared photos, downscaled so that the tests stay fast."""
    folder = shared_faces_or_skip()
    names = ["couple.jpg", "img1.jpg", "img2.jpg", "img3.jpg", "img4.jpg"]
    return {name: cv2.imread(str(folder / name)) for name in names}


@pytest.fixture(scope="session")
def mixed_batch(face_photos: Dict[str, np.ndarray]) -> List[np.ndarray]:
    """Seven images of different sizes: several faces, one face, none, and a same-shape pair."""
    single = resize_to_width(face_photos["img1.jpg"], 360)
    same_shape = cv2.resize(face_photos["img2.jpg"], (single.shape[1], single.shape[0]))
    no_face = synthetic_images()[0]
    return [
        resize_to_width(face_photos["couple.jpg"], 520),
        single,
        no_face,
        same_shape,
        resize_to_width(face_photos["img3.jpg"], 300),
        resize_to_width(face_photos["img4.jpg"], 420),
        single[:, ::-1].copy(),  # mirrored: same shape as two others
    ]


@pytest.fixture(scope="session")
def weights_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DEEPFACE_HOME holding random-weight models of the real architectures."""
    home = tmp_path_factory.mktemp("deepface-home")
    weights = home / ".deepface" / "weights"
    weights.mkdir(parents=True)
    previous = os.environ.get("DEEPFACE_HOME")
    os.environ["DEEPFACE_HOME"] = str(home)
    from testkit import random_models

    try:
        random_models.write_random_yolo_face_model(weights / "yolov8n-face.pt")
    except ImportError:
        pass  # ultralytics not installed: the YOLO tests skip themselves
    try:
        random_models.write_random_retinaface_weights(weights / "retinaface.h5")
    except ImportError:
        pass  # retina-face or tf-keras not installed: the RetinaFace tests skip themselves
    yield home
    if previous is None:
        os.environ.pop("DEEPFACE_HOME", None)
    else:
        os.environ["DEEPFACE_HOME"] = previous


def assert_same_regions(expected, actual, context: str = "") -> None:
    """Same faces: count, boxes and landmarks within 1 px, raw confidence within 1e-3."""
    assert len(actual) == len(expected), f"{context}: {len(actual)} faces, expected {len(expected)}"
    for k, (want, got) in enumerate(zip(expected, actual)):
        where = f"{context} face {k}"
        for attr in ("x", "y", "w", "h"):
            assert abs(getattr(got, attr) - getattr(want, attr)) <= 1, f"{where}: {attr} {got} vs {want}"
        for attr in ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right"):
            want_pt, got_pt = getattr(want, attr), getattr(got, attr)
            assert (want_pt is None) == (got_pt is None), f"{where}: {attr} {got_pt} vs {want_pt}"
            if want_pt is not None:
                assert max(abs(a - b) for a, b in zip(want_pt, got_pt)) <= 1, f"{where}: {attr}"
        assert abs((got.confidence or 0) - (want.confidence or 0)) <= CONFIDENCE_TOLERANCE, f"{where}: confidence"


def assert_same_face_dicts(expected: List[dict], actual: List[dict], context: str = "") -> None:
    """Same faces as deepface dicts: count, facial areas within 1 px, confidence within 0.011.

    The dicts' confidences are rounded to two decimals (as deepface reports them), so two
    raw values within 1e-3 may come out one hundredth apart (ROUNDED_CONFIDENCE_TOLERANCE).
    """
    assert len(actual) == len(expected), f"{context}: {len(actual)} faces, expected {len(expected)}"
    for k, (want, got) in enumerate(zip(expected, actual)):
        where = f"{context} face {k}"
        assert set(got["facial_area"]) == set(want["facial_area"]), where
        for key, want_value in want["facial_area"].items():
            got_value = got["facial_area"][key]
            if want_value is None or got_value is None:
                assert want_value == got_value, f"{where}: {key} {got_value} vs {want_value}"
            elif isinstance(want_value, (tuple, list)):
                assert max(abs(a - b) for a, b in zip(want_value, got_value)) <= 1, f"{where}: {key}"
            else:
                assert abs(got_value - want_value) <= 1, f"{where}: {key} {got_value} vs {want_value}"
        assert abs(got["confidence"] - want["confidence"]) <= ROUNDED_CONFIDENCE_TOLERANCE, f"{where}: confidence"
