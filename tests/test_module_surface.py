"""The helper modules deepface's users import: logger, image loaders, package facts, tables,
normalization. Each behaves as deepface 0.0.103's; where the oracle is installed, its
answers are compared directly."""

import ast
import base64
import hashlib
import io
import json
import logging
import os
import re
from pathlib import Path
from typing import Any, Dict, List

import cv2
import numpy as np
import pytest

import deepface
from deepface.commons import constant, embed_utils, image_utils, package_utils
from deepface.commons.exceptions import DataTypeError
from deepface.commons.logger import Logger, get_logger
from deepface.config.confidence import confidences
from deepface.config.minmax import get_minmax_values, minmax_values
from deepface.config.threshold import thresholds
from deepface.modules.normalization import normalize_embedding_l2, normalize_embedding_minmax
from tests.helpers.oracle import ORACLE_DIR, run_oracle_script

PACKAGE_DIR = Path(deepface.__file__).resolve().parent
LOG_LINE = re.compile(r"^\d\d-\d\d-\d\d \d\d:\d\d:\d\d - (.*)$")
MODELS = [*minmax_values, "SFace", "GhostFaceNet", "Buffalo_L", "unknown"]

EMBEDDING_CASES: List[Dict[str, Any]] = [
    {"model": "Facenet", "value": [0.5, -1.25, 3.0, -2.0]},
    {"model": "Facenet", "value": [4.5, -7.0, 0.0, 1e-9]},  # clamped at both ends
    {"model": "Facenet", "value": [1, -2, 3]},  # Python ints count as flat
    {"model": "VGG-Face", "value": [[0.1, 0.3, 0.0], [0.2, 0.05, -0.1]]},
    {"model": "ArcFace", "value": [[3.0, 4.0], [0.0, 0.0]]},  # a zero row
    {"model": "SFace", "value": [0.3, 0.4]},  # no range: left as given
    {"model": "Dlib", "value": [0.0, 0.0, 0.0]},  # zero vector
    {"model": "DeepID", "value": []},
]


def _encoded(img: np.ndarray, ext: str) -> bytes:
    ok, data = cv2.imencode(ext, img)
    assert ok
    return data.tobytes()


@pytest.fixture(scope="module")
def sample() -> np.ndarray:
    return np.random.default_rng(3).integers(0, 255, (24, 32, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory: pytest.TempPathFactory, sample: np.ndarray) -> Path:
    """Real JPEG/PNG files, a WebP named .jpg, a non-image .png, and files deepface ignores."""
    root = tmp_path_factory.mktemp("images")
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "b.jpg").write_bytes(_encoded(sample, ".jpg"))
    (root / "a.PNG").write_bytes(_encoded(sample, ".png"))
    (root / "sub" / "c.jpeg").write_bytes(_encoded(sample, ".jpg"))
    (root / "sub" / "deeper" / "d.png").write_bytes(_encoded(sample, ".png"))
    (root / "webp_in_disguise.jpg").write_bytes(_encoded(sample, ".webp"))
    (root / "broken.png").write_bytes(b"not an image at all")
    (root / "e.bmp").write_bytes(_encoded(sample, ".bmp"))
    (root / "notes.txt").write_text("hello")
    return root


@pytest.fixture(scope="module")
def oracle_answer(tmp_path_factory: pytest.TempPathFactory, image_folder: Path) -> Dict[str, Any]:
    home = tmp_path_factory.mktemp("oracle-home")
    request = home / "request.json"
    request.write_text(
        json.dumps({"embeddings": EMBEDDING_CASES, "folder": str(image_folder), "models": MODELS})
    )
    answer = json.loads(run_oracle_script("dump_tables.py", [str(request)], home))
    assert answer["oracle_file"].startswith(str(ORACLE_DIR)), "the oracle run did not use upstream deepface"
    return answer


def _as_json(value: Any) -> str:
    """JSON text that keeps ints and floats apart, as the oracle's answer does."""
    return json.dumps(value, sort_keys=True)


# --- tables -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["thresholds", "minmax_values", "confidences"])
def test_tables_equal_deepface(name: str, oracle_answer: Dict[str, Any]) -> None:
    ours = {"thresholds": thresholds, "minmax_values": minmax_values, "confidences": confidences}[name]
    assert _as_json(ours) == _as_json(oracle_answer[name])
    assert list(ours) == list(oracle_answer[name]), "model order differs"


def test_get_minmax_values_equals_deepface(oracle_answer: Dict[str, Any]) -> None:
    ours = {name: get_minmax_values(name) for name in MODELS}
    assert _as_json(ours) == _as_json(oracle_answer["get_minmax_values"])
    assert get_minmax_values("unknown") == (0, 0)


def test_tables_are_complete() -> None:
    metrics = {"cosine", "euclidean", "euclidean_l2", "angular"}
    for model, values in thresholds.items():
        assert set(values) == metrics, model
    for model, per_metric in confidences.items():
        assert set(per_metric) == metrics, model
        for fields in per_metric.values():
            assert fields["denorm_min_true"] <= fields["denorm_max_true"], model
    for low, high in minmax_values.values():
        assert low < high


# --- normalization ------------------------------------------------------------------------


def test_normalization_equals_deepface(oracle_answer: Dict[str, Any]) -> None:
    for k, case in enumerate(EMBEDDING_CASES):
        minmax = normalize_embedding_minmax(case["model"], case["value"])
        l2 = normalize_embedding_l2(case["value"])
        assert _as_json(minmax) == _as_json(oracle_answer["minmax"][k]), case
        assert _as_json(l2) == _as_json(oracle_answer["l2"][k]), case
        assert embed_utils.is_flat_embedding(case["value"]) == oracle_answer["is_flat"][k], case


@pytest.mark.parametrize("model", list(minmax_values))
def test_minmax_maps_into_unit_interval_keeping_shape(model: str) -> None:
    rng = np.random.default_rng(0)
    low, high = minmax_values[model]
    rows = rng.uniform(low - 1.0, high + 1.0, (3, 16)).tolist()
    nested = normalize_embedding_minmax(model, rows)
    flat = normalize_embedding_minmax(model, rows[0])
    assert len(nested) == 3 and all(len(row) == 16 for row in nested)
    assert flat == nested[0]
    assert all(0.0 <= x <= 1.0 and isinstance(x, float) for row in nested for x in row)


def test_l2_gives_unit_rows_and_keeps_zero_rows() -> None:
    rows = [[3.0, 4.0], [0.0, 0.0], [1.0, 1.0]]
    out = normalize_embedding_l2(rows)
    assert out[0] == [0.6, 0.8] and out[1] == [0.0, 0.0]
    assert np.isclose(np.linalg.norm(out[2]), 1.0)
    assert normalize_embedding_l2([3.0, 4.0]) == [0.6, 0.8]


def test_is_flat_embedding() -> None:
    assert embed_utils.is_flat_embedding([1.0, 2, -3.5])
    assert embed_utils.is_flat_embedding([])
    assert not embed_utils.is_flat_embedding([[1.0], [2.0]])
    assert not embed_utils.is_flat_embedding(np.zeros(3))
    assert not embed_utils.is_flat_embedding([np.float32(1.0)])  # as deepface: not a Python float


# --- image listing and loading ------------------------------------------------------------


def test_list_and_yield_images_equal_deepface(image_folder: Path, oracle_answer: Dict[str, Any]) -> None:
    listed = image_utils.list_images(str(image_folder))
    assert listed == list(image_utils.yield_images(str(image_folder)))
    assert sorted(listed) == sorted(oracle_answer["list_images"])
    assert sorted(listed) == sorted(oracle_answer["yield_images"])
    names = {Path(p).name for p in listed}
    assert names == {"a.PNG", "b.jpg", "c.jpeg", "d.png"}  # WebP content, bmp, txt left out
    assert listed == sorted(listed, key=lambda p: Path(p).relative_to(image_folder).parts)


def test_expand_image_paths_expands_files_and_folders_for_the_command_line(image_folder: Path) -> None:
    extra = str(image_folder / "notes.txt")
    expanded = list(image_utils.expand_image_paths([str(image_folder), extra]))
    assert expanded[-1] == extra  # a file is taken as given
    assert str(image_folder / "e.bmp") in expanded  # anything OpenCV reads, by extension


def test_find_image_hash_equals_deepface(image_folder: Path, oracle_answer: Dict[str, Any]) -> None:
    for path, expected in oracle_answer["hashes"].items():
        assert image_utils.find_image_hash(path) == expected, path


def test_find_image_hash_changes_with_the_file(tmp_path: Path, sample: np.ndarray) -> None:
    path = tmp_path / "x.png"
    path.write_bytes(_encoded(sample, ".png"))
    before = image_utils.find_image_hash(str(path))
    os.utime(path, (1_000_000_000, 1_000_000_000))
    assert image_utils.find_image_hash(str(path)) != before


def test_detect_image_format(sample: np.ndarray) -> None:
    assert image_utils.detect_image_format(_encoded(sample, ".jpg")[:8]) == "jpeg"
    assert image_utils.detect_image_format(_encoded(sample, ".png")[:8]) == "png"
    assert image_utils.detect_image_format(_encoded(sample, ".webp")[:8]) is None


def test_load_image_from_base64(sample: np.ndarray) -> None:
    png = _encoded(sample, ".png")
    uri = "data:image/png;base64," + base64.b64encode(png).decode()
    np.testing.assert_array_equal(image_utils.load_image_from_base64(uri), sample)
    webp = "data:image/jpeg," + base64.b64encode(_encoded(sample, ".webp")).decode()
    with pytest.raises(DataTypeError, match="Input image can be jpg or png, but it is"):
        image_utils.load_image_from_base64(webp)
    with pytest.raises(ValueError, match="format error"):
        image_utils.load_image_from_base64("data:image/png;base64")
    # the pipeline's loader still reads any format OpenCV decodes
    assert image_utils.load_image(webp.replace("jpeg,", "webp;base64,"))[0].shape == sample.shape


def test_load_image_from_io_object_and_file_storage(sample: np.ndarray) -> None:
    png = _encoded(sample, ".png")
    handle = io.BytesIO(png)
    handle.read(5)  # rewound before reading
    np.testing.assert_array_equal(image_utils.load_image_from_io_object(handle), sample)
    np.testing.assert_array_equal(image_utils.load_image_from_file_storage(io.BytesIO(png)), sample)
    with pytest.raises(DataTypeError):
        image_utils.load_image_from_io_object(io.StringIO("text"))
    for loader in (image_utils.load_image_from_io_object, image_utils.load_image_from_file_storage):
        with pytest.raises(ValueError, match="Failed to decode image"):
            loader(io.BytesIO(b"garbage bytes"))


def test_load_image_from_web(monkeypatch: pytest.MonkeyPatch, sample: np.ndarray) -> None:
    import requests

    class Response:
        content = _encoded(sample, ".png")

        def raise_for_status(self) -> None:
            pass

    calls: List[str] = []
    monkeypatch.setattr(requests, "get", lambda url, **kwargs: calls.append(url) or Response())
    np.testing.assert_array_equal(image_utils.load_image_from_web("https://x.test/a.png"), sample)
    assert calls == ["https://x.test/a.png"]


# --- logger -------------------------------------------------------------------------------


@pytest.fixture()
def fresh_logger(monkeypatch: pytest.MonkeyPatch):
    """A Logger built anew (the shared one is restored afterwards)."""
    monkeypatch.setattr(Logger, "_instance", None)

    def build(level: str) -> Logger:
        monkeypatch.setenv("DEEPFACE_LOG_LEVEL", level)
        monkeypatch.setattr(Logger, "_instance", None)
        return Logger()

    return build


def _lines(capsys: pytest.CaptureFixture) -> List[str]:
    out = capsys.readouterr().out.splitlines()
    matches = [LOG_LINE.match(line) for line in out]
    assert all(matches), out
    return [m.group(1) for m in matches if m]


def test_logger_is_a_singleton() -> None:
    assert Logger() is Logger()
    assert Logger() == Logger()


def test_logger_writes_deepface_lines_to_stdout(fresh_logger, capsys: pytest.CaptureFixture) -> None:
    logger = fresh_logger("20")
    logger.info("hello")
    logger.debug("hidden")
    logger.warn("careful")
    logger.error("broken")
    logger.dump_log("always")
    assert _lines(capsys) == ["hello", "⚠️ careful", "🔴 broken", "always"]


def test_logger_level_from_environment(fresh_logger, capsys: pytest.CaptureFixture) -> None:
    logger = fresh_logger(str(logging.DEBUG))
    assert logger.log_level == logging.DEBUG
    logger.debug("seen")
    assert _lines(capsys) == ["🕷️ seen"]
    logger = fresh_logger("40")
    logger.info("hidden")
    logger.warn("hidden")
    logger.error("shown")
    logger.critical("shown too")
    assert _lines(capsys) == ["🔴 shown", "💥 shown too"]
    logger = fresh_logger("not-a-level")
    assert logger.log_level == logging.INFO
    assert "DEEPFACE_LOG_LEVEL" in capsys.readouterr().out


def test_logger_goes_through_stdlib_logging(fresh_logger) -> None:
    records: List[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    console = logging.getLogger("deepface.console")
    console.addHandler(handler)
    try:
        fresh_logger("20").warn("careful")
    finally:
        console.removeHandler(handler)
    assert [(r.levelno, r.getMessage()) for r in records] == [(logging.WARNING, "⚠️ careful")]
    assert get_logger("x").name == "deepface.x" and get_logger("deepface.y").name == "deepface.y"


# --- package facts ------------------------------------------------------------------------


def test_tf_version() -> None:
    tf = pytest.importorskip("tensorflow")
    major, minor = (int(part) for part in tf.__version__.split(".")[:2])
    assert package_utils.get_tf_major_version() == major
    assert package_utils.get_tf_minor_version() == minor


def test_find_file_hash(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    data = os.urandom(20_000)
    path.write_bytes(data)
    assert package_utils.find_file_hash(str(path)) == hashlib.sha256(data).hexdigest()
    assert package_utils.find_file_hash(str(path), "md5") == hashlib.md5(data).hexdigest()


@pytest.mark.parametrize("installed", [True, False])
def test_resolve_dataframe_return_type(monkeypatch: pytest.MonkeyPatch, installed: bool) -> None:
    monkeypatch.setattr(package_utils, "_pandas_installed", lambda: installed)
    assert package_utils.resolve_dataframe_return_type(None) == ("pandas" if installed else "dict")
    assert package_utils.resolve_dataframe_return_type("dict") == "dict"
    with pytest.raises(ValueError, match="Unsupported return_type"):
        package_utils.resolve_dataframe_return_type("numpy")
    if installed:
        assert package_utils.resolve_dataframe_return_type("pandas") == "pandas"
    else:
        with pytest.raises(ImportError, match="pandas"):
            package_utils.resolve_dataframe_return_type("pandas")


def test_constant_paths() -> None:
    assert Path(constant.SRC_DIR) == PACKAGE_DIR
    assert Path(constant.ROOT_DIR) == PACKAGE_DIR.parent


# --- layering -----------------------------------------------------------------------------


def _deepface_imports(path: Path) -> List[str]:
    names: List[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return [name for name in names if name == "deepface" or name.startswith("deepface.")]


def test_commons_and_config_import_nothing_above_them() -> None:
    for path in sorted((PACKAGE_DIR / "commons").glob("*.py")):
        for name in _deepface_imports(path):
            assert name.startswith("deepface.commons"), f"{path.name} imports {name}"
    for path in sorted((PACKAGE_DIR / "config").glob("*.py")):
        assert _deepface_imports(path) == [], path.name
    for name in _deepface_imports(PACKAGE_DIR / "modules" / "normalization.py"):
        assert name.startswith(("deepface.commons", "deepface.config")), name
