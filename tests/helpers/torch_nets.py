"""Checks shared by the tests of deepface/models/torch_nets: each module against the
network deepface 0.0.103 runs on its PyTorch engine, with the same random weights.

A test file lists its networks as :class:`NetCase` and subclasses :class:`TorchNetChecks`
with ``case`` parametrized at class scope. Weight files are written once per test
run into the run's shared weights folder (``weights_home``), as ``tests/test_engines.py``
and the other torch_nets modules use it, so the VGG-sized files are written once.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import List, Tuple

import cv2
import numpy as np
import pytest

from tests.helpers.oracle import oracle_or_skip, run_oracle_script, write_random_engine_weights

SHARED_FACES = Path(__file__).resolve().parents[2].parent / "shared" / "faces"
REAL_PHOTOS = ("img1.jpg", "img2.jpg", "img3.jpg")
#: max abs difference / max abs value of the expected output
ORACLE_TOLERANCE = 1e-5
ONNX_TOLERANCE = 1e-4
BATCH_TOLERANCE = 1e-5
#: the faces' outputs must differ by this much of their scale, and those differences
#: agree with deepface's within PER_FACE_TOLERANCE of their own scale
PER_FACE_SPREAD = 1e-2
PER_FACE_TOLERANCE = 1e-4


@dataclass(frozen=True)
class NetCase:
    """One network: deepface's model name, its weight files' stem, the torch function
    building it and its input shape ``(height, width, channels)``."""

    name: str
    stem: str
    torch: str
    shape: Tuple[int, int, int]
    random_faces: int = 2
    real_faces: int = 3
    #: the faces run in [0, 1] and again times this: random-weight networks (default
    #: init) shrink their input's signal layer by layer, so that faces in [0, 1] get
    #: almost the same answer (the biases dominate); deep ones need a larger scale
    input_scale: float = 255.0

    def network(self):
        from deepface.models.engines import Network

        files = {"pytorch": self.stem + ".pth", "onnx": self.stem + ".onnx"}
        return Network(name=self.name, files=files, torch=self.torch)


def real_faces(shape: Tuple[int, int, int], count: int) -> List[np.ndarray]:
    """Central crops of ``count`` shared photos (where their faces are) at ``shape``, in [0, 1]."""
    if not SHARED_FACES.is_dir():
        return []
    height, width, channels = shape
    faces = []
    for name in REAL_PHOTOS[:count]:
        photo = cv2.imread(str(SHARED_FACES / name))
        side = min(photo.shape[:2]) // 2
        top, left = (photo.shape[0] - side) // 2, (photo.shape[1] - side) // 2
        crop = cv2.resize(photo[top : top + side, left : left + side], (width, height))
        if channels == 1:
            crop = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)[..., np.newaxis]
        faces.append(crop.astype(np.float32) / 255)
    return faces


def sample_faces(case: "NetCase") -> np.ndarray:
    """Random faces and real ones (when the shared photos are there), ``(n, h, w, c)``,
    each in [0, 1] and again times ``case.input_scale``."""
    rng = np.random.default_rng(7)
    noise = [rng.random(case.shape, dtype=np.float32) for _ in range(case.random_faces)]
    unit = np.stack(noise + real_faces(case.shape, case.real_faces))
    return np.concatenate([unit, unit * np.float32(case.input_scale)])


def relative_error(expected: np.ndarray, actual: np.ndarray) -> float:
    """max |actual - expected| over max |expected|."""
    assert actual.shape == expected.shape, f"{actual.shape} vs {expected.shape}"
    return float(np.abs(actual - expected).max() / max(np.abs(expected).max(), 1e-30))


def per_face_part(outputs: np.ndarray) -> np.ndarray:
    """The outputs less their mean over the faces: what tells one face from another."""
    return outputs - outputs.mean(axis=0)


def oracle_outputs(home: Path, case: NetCase, faces: np.ndarray) -> np.ndarray:
    """deepface 0.0.103's torch module output for ``faces``, face by face."""
    source, target = home / f"faces-{case.stem}.npy", home / f"torch-{case.stem}.npy"
    np.save(source, faces)
    out = run_oracle_script(
        "run_torch_module.py", [case.name, str(source), str(target)], home,
        extra_env={"DEEPFACE_BACKEND_ENGINE": "pytorch"},
    )
    assert "ORACLE-FILE" in out and ".oracle" in out, "the oracle run did not use upstream deepface"
    return np.load(target)


class TorchNetChecks:
    """The four checks of a torch module; subclasses set ``CASES`` and parametrize ``case``
    (``scope="class"``) over them."""

    CASES: Tuple[NetCase, ...] = ()

    @pytest.fixture(scope="class")
    @classmethod
    def home(cls, weights_home: Path) -> Path:
        """The run's weights folder (shared with the other modules), with the cases' files."""
        oracle_or_skip()
        write_random_engine_weights(weights_home, [case.name for case in cls.CASES])
        return weights_home

    @pytest.fixture(scope="class")
    @classmethod
    def runner(cls, home: Path, case: NetCase, monkeypatch_class: None):
        from deepface.models import engines

        return engines.load_runner(case.network(), "pytorch", device="cpu")

    @pytest.fixture(scope="class")
    @classmethod
    def monkeypatch_class(cls, home: Path):
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("DEEPFACE_HOME", str(home))
            yield

    @pytest.fixture(scope="class")
    @classmethod
    def faces(cls, case: NetCase) -> np.ndarray:
        return sample_faces(case)

    @pytest.fixture(scope="class")
    @classmethod
    def outputs(cls, runner, faces: np.ndarray) -> np.ndarray:
        return runner(faces)

    def test_loads_deepface_state_dict_strictly(self, home: Path, case: NetCase) -> None:
        import torch

        from deepface.models.engines import resolve

        module = resolve(case.torch)()
        path = home / ".deepface" / "weights" / f"{case.stem}.pth"
        state = torch.load(path, map_location="cpu", weights_only=True)
        mine = {key: tuple(value.shape) for key, value in module.state_dict().items()}
        assert mine == {key: tuple(value.shape) for key, value in state.items()}
        module.load_state_dict(state, strict=True)

    def test_same_output_as_deepface_pytorch(self, home: Path, case: NetCase, faces, outputs) -> None:
        expected = oracle_outputs(home, case, faces)
        assert np.all(np.isfinite(outputs))
        assert np.abs(expected).max() > 0, "the oracle's output is all zeros: the comparison would be empty"
        assert relative_error(expected, outputs) <= ORACLE_TOLERANCE
        differences = per_face_part(expected)
        assert np.abs(differences).max() > PER_FACE_SPREAD * np.abs(expected).max(), "faces answered alike"
        assert relative_error(differences, per_face_part(outputs)) <= PER_FACE_TOLERANCE

    def test_onnx_file_agrees(self, case: NetCase, faces, outputs, monkeypatch_class: None) -> None:
        from deepface.models import engines

        onnx = engines.load_runner(case.network(), "onnx")(faces)
        assert relative_error(outputs, onnx) <= ONNX_TOLERANCE

    def test_batch_equals_single(self, runner, faces, outputs) -> None:
        singles = np.concatenate([runner(faces[k : k + 1]) for k in range(len(faces))])
        assert relative_error(singles, outputs) <= BATCH_TOLERANCE
