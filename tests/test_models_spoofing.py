"""Fasnet (anti-spoofing): the same crops, probabilities and verdicts as deepface 0.0.103.

Random weights are written by the oracle's own ``Fasnet`` under deepface's file names
(so loading them checks our layers' order and shapes), with batch norms calibrated so
the random networks answer decisively (tests/oracle/write_random_fasnet.py). One oracle
process writes them and runs deepface's ``crop`` and ``Fasnet.analyze`` face by face.
"""

import ast
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Tuple

import cv2
import h5py
import numpy as np
import pytest

from deepface.commons.exceptions import DataTypeError
from deepface.models.spoofing import FasNet, FasNetUtils
from tests.conftest import SHARED_FACES, shared_faces_or_skip
from tests.helpers.oracle import ORACLE_DIR, oracle_or_skip, run_oracle_script

TOLERANCE = 1e-5
PHOTOS = ("img1.jpg", "img3.jpg", "couple.jpg")
PHOTO_WIDTH = 320
SCALES = (2.7, 4, 4.0, 1.0)
PAIR_STRIDE = 3  # deepface's two (4 as deepface passes it), and no enlargement


@dataclass
class OracleRun:
    """The oracle's answers (see tests/oracle/run_spoofing_forward.py)."""

    images: List[np.ndarray]
    sources: List[str]  # "synthetic" or "photos", per image
    crop_cases: List[Tuple[int, Any, float, int, int]]
    pairs: List[Tuple[int, Any]]
    arrays: Dict[str, np.ndarray]

    def items(self) -> List[Tuple[np.ndarray, Any]]:
        """The pairs as ``analyze_batch`` takes them."""
        return [(self.images[index], tuple(box)) for index, box in self.pairs]


def synthetic_images() -> List[np.ndarray]:
    """BGR uint8 images of several shapes: smooth random fields, one with pixel noise."""
    rng = np.random.default_rng(0)
    images = []
    for k, (height, width) in enumerate(((240, 320), (300, 200), (97, 131), (60, 500))):
        coarse = rng.uniform(0, 255, (int(rng.integers(3, 9)), int(rng.integers(3, 9)), 3))
        field = cv2.resize(coarse.astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)
        if k == 1:
            field += rng.normal(0, 25, field.shape)
        images.append(np.clip(field, 0, 255).astype(np.uint8))
    return images


def photo_images() -> List[np.ndarray]:
    """A few shared photos, downscaled; none if absent."""
    if not SHARED_FACES.is_dir():
        return []
    images = []
    for name in PHOTOS:
        img = cv2.imread(str(SHARED_FACES / name))
        height = round(img.shape[0] * PHOTO_WIDTH / img.shape[1])
        images.append(cv2.resize(img, (PHOTO_WIDTH, height), interpolation=cv2.INTER_AREA))
    return images


def boxes(height: int, width: int) -> List[List[Any]]:
    """Face boxes ``[x, y, w, h]`` in an image: central ones, at every edge and corner,
    overhanging, nearly the whole image, tiny, and with float coordinates."""
    return [
        [width * 2 // 5, height // 3, width // 5, height // 4],
        [width // 4, height // 5, width // 2, height * 3 // 5],
        [0, 0, 30, 40],
        [width - 26, 0, 25, 25],
        [0, height - 21, 20, 20],
        [width - 31, height - 41, 30, 40],
        [0, height // 2 - 15, 40, 30],
        [width // 2, 0, 35, 20],
        [5, 5, width - 10, height - 10],
        [0, 0, width - 1, height - 1],
        [width - 10, height - 10, 50, 50],
        [width // 2, height // 2, 1, 1],
        [10.5, 20.25, 33.3, 17.7],
    ]


def cases(images: List[np.ndarray]) -> Dict[str, list]:
    """Crop cases (every box at every scale, and one odd output size) and analyze pairs
    (every third box of each image, starting one further each image: every kind of box
    is analysed in some image, and the oracle's face-by-face runs stay short)."""
    crops, pairs = [], []
    for index, img in enumerate(images):
        for k, box in enumerate(boxes(*img.shape[:2])):
            crops.extend([index, box, scale, 80, 80] for scale in SCALES)
            if (k + index) % PAIR_STRIDE == 0:
                pairs.append([index, box])
        crops.append([index, boxes(*img.shape[:2])[0], 2.7, 64, 48])
    return {"crops": crops, "pairs": pairs}


@pytest.fixture(scope="module")
def model_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DEEPFACE_HOME of its own (the oracle run writes the random weights there)."""
    oracle_or_skip()
    home = tmp_path_factory.mktemp("spoofing-home")
    (home / ".deepface" / "weights").mkdir(parents=True)
    return home


@pytest.fixture(scope="module")
def oracle_run(model_home: Path) -> OracleRun:
    """One oracle process: random weights written, then deepface's crops and analyses."""
    synthetic, photos = synthetic_images(), photo_images()
    images = synthetic + photos
    todo = cases(images)
    cases_path, images_path = model_home / "cases.json", model_home / "images.npz"
    target = model_home / "oracle.npz"
    cases_path.write_text(json.dumps(todo))
    np.savez(images_path, **{f"img_{k}": img for k, img in enumerate(images)})
    paths = [str(cases_path), str(images_path), str(target)]
    out = run_oracle_script("run_spoofing_forward.py", paths, model_home)
    assert str(ORACLE_DIR) in out, "the oracle run did not use upstream deepface"
    with np.load(target) as stored:
        arrays = {name: stored[name] for name in stored.files}
    return OracleRun(
        images=images,
        sources=["synthetic"] * len(synthetic) + ["photos"] * len(photos),
        crop_cases=[tuple(case) for case in todo["crops"]],
        pairs=[tuple(pair) for pair in todo["pairs"]],
        arrays=arrays,
    )


@pytest.fixture(scope="module")
def fasnet(model_home: Path, oracle_run: OracleRun) -> FasNet.Fasnet:
    """Our Fasnet, loading the oracle's random weight files."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEEPFACE_HOME", str(model_home))
        return FasNet.Fasnet()


# ------------------------------------------------------------------ crops


@pytest.mark.parametrize("source", ["synthetic", "photos"])
def test_crops_equal_deepfaces(source: str, oracle_run: OracleRun) -> None:
    if source == "photos":
        shared_faces_or_skip()
    checked = 0
    for k, (index, box, scale, out_w, out_h) in enumerate(oracle_run.crop_cases):
        if oracle_run.sources[index] != source:
            continue
        got = FasNetUtils.crop(oracle_run.images[index], tuple(box), scale, out_w, out_h)
        expected = oracle_run.arrays[f"crop_{k}"]
        assert got.dtype == expected.dtype and got.shape == (out_h, out_w, 3), f"case {k}"
        np.testing.assert_array_equal(got, expected, err_msg=f"case {k}: box {box} at {scale}")
        if isinstance(scale, float) and scale == 4:  # ours passes 4.0, deepface 4: same crop
            np.testing.assert_array_equal(expected, oracle_run.arrays[f"crop_{k - 1}"], err_msg=f"case {k}")
        checked += 1
    assert checked


def test_crop_box_by_hand() -> None:
    # a 10x10 box at the corner, 2.7 times: 27 px about (5, 5), shifted to start at 0
    assert FasNetUtils.crop_box(100, 100, (0, 0, 10, 10), 2.7) == (0, 0, 27, 27)
    # at the far corner it is shifted back to end on the last pixel
    assert FasNetUtils.crop_box(100, 100, (90, 90, 10, 10), 2.7) == (72, 72, 99, 99)
    # a box too large to enlarge 4 times: the scale is capped by the tighter axis (49 / 30),
    # so the box spans the image's height and 98 of its 100 columns
    assert FasNetUtils.crop_box(100, 50, (10, 10, 60, 30), 4.0) == (0, 0, 98, 49)


def test_bad_boxes_and_images_raise() -> None:
    img = np.zeros((50, 60, 3), dtype=np.uint8)
    for box in ((0, 0, 0, 10), (0, 0, 10, -1), (0, 0, 10)):
        with pytest.raises(DataTypeError):
            FasNetUtils.crop(img, box, 2.7)
    for shape in ((50, 60), (0, 60, 3), (50, 60, 4)):
        bad = np.zeros(shape, np.uint8)
        with pytest.raises(DataTypeError):
            FasNetUtils.crop(bad, (0, 0, 10, 10), 2.7)


def test_softmax_rows() -> None:
    logits = np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, -1000.0]], dtype=np.float32)
    probabilities = FasNetUtils.softmax(logits)
    assert probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=0, atol=1e-6)
    np.testing.assert_allclose(probabilities[1], [0.5, 0.5, 0.0], rtol=0, atol=1e-6)


# ------------------------------------------------------------------ the networks


def test_probabilities_equal_deepfaces(fasnet: FasNet.Fasnet, oracle_run: OracleRun) -> None:
    first, second = fasnet.probabilities(oracle_run.items())
    for name, got in (("first", first), ("second", second)):
        expected = oracle_run.arrays[name]
        assert got.shape == expected.shape == (len(oracle_run.pairs), 3) and got.dtype == np.float32
        assert np.ptp(expected, axis=1).min() > 1e-3, f"{name}: degenerate random model, a uniform answer"
        assert np.ptp(expected, axis=0).max() > 0.1, f"{name}: degenerate random model, one answer for all"
        np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE, err_msg=name)


def test_analyze_equals_deepfaces(fasnet: FasNet.Fasnet, oracle_run: OracleRun) -> None:
    expected_real, expected_score = oracle_run.arrays["is_real"], oracle_run.arrays["score"]
    assert 0 < expected_real.sum() < len(expected_real), "random model: every verdict the same"
    for k, (img, box) in enumerate(oracle_run.items()):
        is_real, score = fasnet.analyze(img=img, facial_area=box)
        assert type(is_real) is bool and isinstance(score, float), f"pair {k}"
        assert is_real == bool(expected_real[k]), f"pair {k}: box {box}"
        assert abs(score - expected_score[k]) <= TOLERANCE, f"pair {k}: box {box}"


def test_analyze_batch_equals_one_by_one(fasnet: FasNet.Fasnet, oracle_run: OracleRun) -> None:
    items = oracle_run.items()
    batched = fasnet.analyze_batch(items)
    assert len(batched) == len(items)
    for k, ((img, box), (is_real, score)) in enumerate(zip(items, batched)):
        alone_real, alone_score = fasnet.analyze(img, box)
        assert is_real == alone_real and abs(score - alone_score) <= TOLERANCE, f"pair {k}"
    reordered = fasnet.analyze_batch(items[::-1])[::-1]
    for k, (got, want) in enumerate(zip(reordered, batched)):
        assert got[0] == want[0] and abs(got[1] - want[1]) <= TOLERANCE, f"pair {k}"


def test_analyze_batch_runs_each_network_once(
    fasnet: FasNet.Fasnet, oracle_run: OracleRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: List[int] = []

    class Counting:
        def __init__(self, runner: Any) -> None:
            self.runner, self.engine = runner, runner.engine

        def __call__(self, batch: np.ndarray) -> Any:
            calls.append(len(batch))
            return self.runner(batch)

    monkeypatch.setattr(fasnet, "runners", tuple(Counting(runner) for runner in fasnet.runners))
    fasnet.analyze_batch(oracle_run.items())
    assert calls == [len(oracle_run.pairs)] * 2


def test_empty_batch_and_bad_items(fasnet: FasNet.Fasnet) -> None:
    assert fasnet.analyze_batch([]) == []
    first, second = fasnet.probabilities([])
    assert first.shape == second.shape == (0, 3)
    with pytest.raises(DataTypeError):
        fasnet.analyze(np.zeros((50, 60), np.uint8), (0, 0, 10, 10))
    with pytest.raises(DataTypeError):
        fasnet.analyze(np.zeros((50, 60, 3), np.uint8), (0, 0, 0, 10))


def test_weighted_layers_are_those_of_the_weight_files(fasnet: FasNet.Fasnet, model_home: Path) -> None:
    """Our weighted layers, in order, carry the names of the file's (written by deepface)."""
    folder = model_home / ".deepface" / "weights"
    for model, member in zip((fasnet.first_model, fasnet.second_model), FasNet.MEMBERS):
        with h5py.File(folder / member.weight_file, "r") as weights:
            names = [getattr(name, "decode", lambda: name)() for name in weights.attrs["layer_names"]]
            in_file = [name for name in names if len(weights[name].attrs["weight_names"])]
        assert [layer.name for layer in model.layers if layer.weights] == in_file, member.weight_file


# ------------------------------------------------------------------ deepface's constants


def _oracle_constant(relative: str, constant: str) -> Any:
    """A module-level constant of an oracle module, read without importing it."""
    source = (oracle_or_skip() / "deepface" / "models" / "spoofing" / relative).read_text()
    for node in ast.parse(source).body:
        targets = [node.target] if isinstance(node, ast.AnnAssign) else getattr(node, "targets", [])
        if any(getattr(target, "id", None) == constant for target in targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{constant} not found in {relative}")


def test_weight_files_and_urls_are_deepfaces() -> None:
    assert FasNet.FIRST_WEIGHTS_URL == _oracle_constant("tf/FasNet.py", "FIRST_WEIGHTS_URL")
    assert FasNet.SECOND_WEIGHTS_URL == _oracle_constant("tf/FasNet.py", "SECOND_WEIGHTS_URL")
    source = (oracle_or_skip() / "deepface" / "models" / "spoofing" / "tf" / "FasNet.py").read_text()
    assert f'file_name="{FasNet.FIRST_WEIGHT_FILE}"' in source
    assert f'file_name="{FasNet.SECOND_WEIGHT_FILE}"' in source
    for member in FasNet.MEMBERS:
        assert all(link.endswith("/" + member.weight_file) for link in member.urls)
