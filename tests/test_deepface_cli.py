"""deepface's command line (``deepface <function> ...``, fire over ``DeepFace``) beside this
package's batch commands, and deepface's deprecated ``DeepFace.detectFace``."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import cv2
import numpy as np
import pytest

from deepface import DeepFace
from deepface.cli import COMMANDS, console, dispatch
from deepface.commons.exceptions import DataTypeError, MissingDependencyError
from tests.conftest import shared_faces_or_skip
from tests.helpers.oracle import REPO_DIR, run_oracle_script


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "noise.png"
    cv2.imwrite(str(path), np.random.default_rng(5).integers(0, 255, (40, 30, 3), dtype=np.uint8))
    return path


# --- which command line runs --------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, fire",
    [
        (["verify", "a.jpg", "b.jpg"], True),
        (["find", "a.jpg", "people/"], True),
        (["represent", "img.jpg", "--model_name", "Facenet"], True),  # deepface's own example
        (["represent", "img.jpg", "--model_name=Facenet", "--noalign"], True),  # fire's --noFLAG
        (["analyze", "img.jpg"], True),
        (["stream", "--db_path", "people/", "--source", "-1"], True),  # a negative value, not an option
        (["extract_faces", "img.jpg", "--detector_backend", "skip"], True),
        (["detectFace", "img.jpg"], True),
        (["build_index", "--model_name", "Facenet"], True),
        (["represent", "photos/", "--model-name", "Facenet", "--output", "e.parquet"], False),
        (["represent", "photos/", "--model_name", "Facenet", "--output", "e.parquet"], False),
        (["analyze", "photos/", "--actions", "age", "--no-progress"], False),
        (["stream", "clip.mp4", "--output", "out.mp4"], False),
        (["represent", "--help"], False),
        (["extract-faces", "photos/"], False),
        (["serve", "--port", "5005"], False),
        (["--version"], False),
        ([], False),
        (["cli"], False),  # not offered through itself
        (["no_such_function"], False),  # the batch parser names its commands
    ],
)
def test_dispatch(argv: List[str], fire: bool) -> None:
    assert dispatch.wants_fire(argv, COMMANDS) is fire


def test_every_public_function_is_offered_and_no_name_is_both_forms() -> None:
    offered = DeepFace._cli_functions()  # pylint: disable=protected-access
    public = {name for name in DeepFace.__all__ if callable(getattr(DeepFace, name)) and name != "cli"}
    assert set(offered) == public
    assert {"verify", "find", "represent", "analyze", "extract_faces", "detectFace", "stream"} <= set(offered)
    assert set(dispatch.BATCH_ONLY) <= set(COMMANDS)
    assert not dispatch.BATCH_ONLY & set(offered)


# --- the fire form runs DeepFace's functions ------------------------------------------------


def test_fire_runs_extract_faces(image: Path, capsys: pytest.CaptureFixture) -> None:
    assert console(["extract_faces", str(image), "--detector_backend", "skip"]) == 0
    out = capsys.readouterr().out
    assert "'facial_area': {'x': 0, 'y': 0" in out and "'confidence': 0.0" in out


def test_fire_takes_fire_values(image: Path, capsys: pytest.CaptureFixture) -> None:
    """fire's syntax: a tuple literal, a boolean flag, a keyword given positionally."""
    assert console(["detectFace", str(image), "(6,5)", "--detector_backend=skip", "--noalign"]) == 0
    out = capsys.readouterr().out
    assert "Function detectFace is deprecated" in out
    assert out.count("[[[") == 1 and out.count("]]]]") == 1  # one (1, 6, 5, 3) array printed


def test_fire_usage_error_exits_2(image: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        console(["verify", str(image), "--no_such_option", "1"])
    assert caught.value.code == 2


def test_without_fire_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "fire", None)  # import fire -> ImportError
    with pytest.raises(MissingDependencyError, match=r'pip install "deepface\[cli\]"') as caught:
        DeepFace.cli(["verify", "a.jpg", "b.jpg"])
    assert isinstance(caught.value, ImportError)  # deepface raises ImportError
    assert console(["verify", "a.jpg", "b.jpg"]) == 2
    assert 'pip install "deepface[cli]"' in capsys.readouterr().err


def test_the_module_command_dispatches(image: Path, tmp_path: Path) -> None:
    """``python -m deepface.cli`` (what the ``deepface`` script runs): both forms."""
    env = {**os.environ, "PYTHONPATH": str(REPO_DIR), "TF_CPP_MIN_LOG_LEVEL": "3"}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "deepface.cli", *args], cwd=tmp_path, env=env,
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip

    fire = run("extract_faces", str(image), "--detector_backend", "skip")
    assert fire.returncode == 0, fire.stderr[-2000:]
    assert "'facial_area'" in fire.stdout
    batch = run("extract-faces", str(image), "--detector-backend", "skip", "--output", str(tmp_path / "f.jsonl"))
    assert batch.returncode == 0, batch.stderr[-2000:]
    (line,) = (tmp_path / "f.jsonl").read_text().splitlines()
    assert json.loads(line)["error"] is None
    unknown = run("no_such_function")
    assert unknown.returncode == 2 and "invalid choice" in unknown.stderr


def test_the_console_script_is_the_dispatcher() -> None:
    setup = (REPO_DIR / "setup.py").read_text()
    assert '"deepface=deepface.cli:console"' in setup
    assert '"cli": ["fire' in setup


# --- detectFace -----------------------------------------------------------------------------


DETECT_CALLS: List[Dict[str, Any]] = [
    {"detector_backend": "skip"},
    {"detector_backend": "skip", "target_size": [48, 20]},
    {"detector_backend": "opencv", "shared": "img1.jpg"},
    {"detector_backend": "opencv", "shared": "img1.jpg", "align": False, "target_size": [152, 152]},
    {"detector_backend": "opencv", "enforce_detection": False},  # noise: no face, the whole image
]


def _calls(image: Path) -> List[Dict[str, Any]]:
    faces = shared_faces_or_skip()
    calls = []
    for call in DETECT_CALLS:
        call = dict(call)
        shared = call.pop("shared", None)
        calls.append({"img_path": str(faces / shared) if shared else str(image), **call})
    return calls


def test_detect_face_equals_deepface(image: Path, tmp_path: Path) -> None:
    calls = _calls(image)
    request = tmp_path / "request.json"
    request.write_text(json.dumps(calls))
    out = run_oracle_script("run_detect_face.py", [str(request), str(tmp_path)], tmp_path)
    assert "Function detectFace is deprecated. Use extract_faces instead." in out
    for k, call in enumerate(calls):
        call = dict(call)
        if "target_size" in call:
            call["target_size"] = tuple(call["target_size"])
        ours = DeepFace.detectFace(**call)
        expected = np.load(tmp_path / f"{k}.npy")
        assert ours.dtype == expected.dtype and ours.shape == expected.shape, call
        np.testing.assert_allclose(ours, expected, atol=1.5 / 255, err_msg=str(call))  # a pixel's rounding


def test_detect_face_warns_as_deepface(image: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="deepface.console"):
        face = DeepFace.detectFace(str(image), detector_backend="skip")
    assert face.shape == (1, 224, 224, 3)
    assert "Function detectFace is deprecated. Use extract_faces instead." in caplog.text


def test_detect_face_refuses_a_batch(image: Path) -> None:
    with pytest.raises(DataTypeError, match="one image"):
        DeepFace.detectFace([str(image), str(image)], detector_backend="skip")
