"""Shared fixtures: test images, a temporary weights folder, and comparison helpers."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import Dict, Iterator, List

import cv2
import numpy as np
import pytest

from deepface.commons.engines import import_tensorflow_safely

# pytester runs small pytest sessions inside tests (tests/test_strict_skips.py);
# strict_skips fails the run on unexpected skips when DEEPFACE_STRICT_SKIPS=1 (CI).
pytest_plugins = ("pytester", "tests.helpers.strict_skips", "tests.helpers.cpu_durations")

# ultralytics writes a settings file on import: keep it out of the user's home.
if "YOLO_CONFIG_DIR" not in os.environ:
    os.environ["YOLO_CONFIG_DIR"] = tempfile.mkdtemp(prefix="yolo-config-")
    atexit.register(shutil.rmtree, os.environ["YOLO_CONFIG_DIR"], ignore_errors=True)
# The suite compares this package with deepface's own runs on each engine's own runtime;
# tests/test_runtimes.py checks OpenVINO (the default's faster runtime) against those.
os.environ.setdefault("DEEPFACE_RUNTIME", "engine")
# Test modules may import TensorFlow themselves: set the process up as the package would.
import_tensorflow_safely()

# upstream deepface, installed apart by `make oracle`: the test oracle (one definition,
# in tests/helpers/oracle.py, re-exported here for the tests that import it from conftest)
from tests.helpers.oracle import ORACLE_DIR, make_once, oracle_or_skip  # noqa: E402,F401

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


#: Test modules, longest first (CPU seconds of a full run, `--cpu-durations`, docs/testing.md).
#: With `--dist loadscope --no-loadscope-reorder` (make test) each xdist worker takes the
#: next whole module in this order (its module fixtures built once, in one process), so the
#: long ones start first and the two workers end together; modules not listed follow in
#: file order.
LONGEST_FIRST = (
    "test_engines.py",
    "test_torch_nets_vgg.py",
    "test_upstream_pr.py",
    "test_database_oracle.py",
    "test_find.py",
    "test_models_deepid_arcface_ghost_deepface.py",
    "test_api.py",
    "test_models_demography.py",
    "test_models_dlib_sface_buffalo.py",
    "test_scripts.py",
    "test_database_backends.py",
    "test_stream.py",
    "test_ray.py",
    "test_ray_cluster.py",
    "test_api_server.py",
    "test_models_vgg_facenet_openface.py",
    "test_batch_equals_single.py",
    "test_represent_verify.py",
    "test_yolo_engine.py",
    "test_analyze.py",
    "test_models_spoofing.py",
    "test_cli_analyze_stream.py",
    "test_module_surface.py",
    "test_anti_spoofing.py",
    "test_cli_quiet.py",
    "test_threads.py",
    "test_fuzz_inputs.py",
    "test_torch_nets_facenet_openface.py",
    "test_torch_nets_arcface_ghost_fasnet.py",
    "test_torch_nets_fbdeepface.py",
    "test_torch_nets_emotion.py",
    "test_torch_nets_deepid.py",
)

#: Left out of `make test-fast` (marked ``slow``): whole modules, by file name, and single
#: tests, by function name, each with why. The rest covers every layer in a few minutes.
SLOW_MODULES = {
    "test_upstream_pr.py": "the codemod applied to deepface's trees, and batch == single on the patched one",
    "test_engines.py": "13 networks on two engines, written and run by both packages",
    "test_runtimes.py": "13 networks converted to OpenVINO and run by it and by their engines",
    "test_torch_nets_vgg.py": "VGG-sized torch networks against deepface's",
    "test_torch_nets_facenet_openface.py": "torch networks against deepface's",
    "test_torch_nets_arcface_ghost_fasnet.py": "torch networks against deepface's",
    "test_torch_nets_fbdeepface.py": "a torch network against deepface's",
    "test_torch_nets_emotion.py": "a torch network against deepface's",
    "test_torch_nets_deepid.py": "a torch network against deepface's",
    "test_database_oracle.py": "deepface 0.0.103 and this package share PostgreSQL and SQLite databases",
    "test_find.py": "find against deepface's own runs over photo folders",
    "test_models_deepid_arcface_ghost_deepface.py": "four recognition models built and run by both packages",
    "test_models_demography.py": "the four attribute models run by both packages",
    "test_models_dlib_sface_buffalo.py": "three recognition engines run by both packages",
    "test_models_vgg_facenet_openface.py": "four recognition models run by both packages",
    "test_models_spoofing.py": "the Fasnet models run by both packages",
    "test_database_backends.py": "PostgreSQL, Qdrant and Milvus started for the tests",
    "test_stream.py": "videos analysed frame by frame",
    "test_ray.py": "a local Ray cluster",
    "test_ray_cluster.py": "a simulated two-node Ray cluster",
    "test_api_server.py": "a real gunicorn server",
    "test_represent_verify.py": "represent and verify against deepface's own runs",
    "test_yolo_engine.py": "ONNX exports of three YOLO architectures",
    "test_analyze.py": "analyze against deepface's own runs",
    "test_anti_spoofing.py": "anti-spoofing against deepface's own runs",
    "test_shared_trunk.py": "three VGG models built per test",
    "test_module_surface.py": "deepface's module paths compared in its own process",
    "test_cli_analyze_stream.py": "analyze and stream commands run end to end",
    "test_cli_quiet.py": "fresh command-line processes",
}
SLOW_TESTS = {
    "test_database_benchmark_times_both_packages_and_reports": "the database benchmark end to end",
    "test_database_servers_benchmark_times_both_packages_into_its_section": "the database-servers benchmark end to end",
    "test_analyze_batch_equals_library": "the Emotion model written by the oracle, then built",
    "test_register_then_search_through_sqlite": "register and search through the API with Facenet",
    "test_analyze_rpc": "the Emotion model written by the oracle, then built (gRPC)",
}
#: Detector cases of the batch and thread tests left to `make test`: the fast loop keeps
#: opencv, mtcnn and yolov8n (torch), which cover looping, native and torch batching.
SLOW_DETECTOR_CASES = {"yolov8n-onnx", "retinaface", "dlib", "fastmtcnn", "mediapipe"}
DETECTOR_CASE_MODULES = {"test_batch_equals_single.py", "test_threads.py"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: a long test, left out of `make test-fast` (tests/conftest.py)")


def pytest_collection_modifyitems(config: pytest.Config, items: List[pytest.Item]) -> None:
    """Modules longest first (LONGEST_FIRST; the order within a module is kept), and the
    slow tests marked."""
    for item in items:
        module = item.path.name
        if module in SLOW_MODULES or getattr(item, "originalname", item.name) in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
        elif module in DETECTOR_CASE_MODULES and hasattr(item, "callspec"):
            if SLOW_DETECTOR_CASES.intersection(map(str, item.callspec.params.values())):
                item.add_marker(pytest.mark.slow)
    rank = {name: position for position, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


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


def run_temp_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This test run's temporary folder, shared by its pytest-xdist workers (each worker's
    own ``basetemp`` is a sub-folder of it); the ``basetemp`` itself without xdist."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def weights_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A DEEPFACE_HOME holding random-weight models of the real architectures, one for the
    whole run: every module and xdist worker shares its files, each written once
    (``tests/helpers/oracle.py``: ``make_once``, ``write_random_weights``). Tests read
    these files; a test that reworks one works on a copy or in a home of its own."""
    home = run_temp_dir(tmp_path_factory) / "deepface-home"
    weights = home / ".deepface" / "weights"
    weights.mkdir(parents=True, exist_ok=True)
    previous = os.environ.get("DEEPFACE_HOME")
    os.environ["DEEPFACE_HOME"] = str(home)
    from testkit import random_models

    def write_detectors(missing: List[str]) -> None:
        if "yolov8n-face" in missing:
            try:
                random_models.write_random_yolo_face_model(weights / "yolov8n-face.pt")
            except ImportError:
                pass  # ultralytics not installed: the YOLO tests skip themselves
        if "retinaface" in missing:
            try:
                random_models.write_random_retinaface_weights(weights / "retinaface.h5")
            except ImportError:
                pass  # retina-face or tf-keras not installed: the RetinaFace tests skip themselves

    make_once(home, ["yolov8n-face", "retinaface"], write_detectors)
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
