"""The ``deepface`` command's stderr: the progress bar and real messages, not TensorFlow's
start-up lines; and TensorFlow imported only for the detectors that need it."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import cv2
import numpy as np
import pytest

from deepface.commons import engines

REPO_DIR = Path(__file__).resolve().parent.parent
#: What TensorFlow and absl print while starting, in any of their formats.
START_UP_NOISE = re.compile(
    r"^[IWEF]\d{4} |absl::InitializeLog|cuInit|cuda drivers|oneDNN|cpu_feature_guard|TF_ENABLE_ONEDNN_OPTS",
    re.IGNORECASE,
)
#: Runs the command line in a fresh process; prints what it imported and saw, as JSON.
RUN_CLI = """
import json, os, sys
from deepface import cli
status = cli.main(sys.argv[1:])
print(json.dumps({"status": status, "tensorflow": "tensorflow" in sys.modules,
                  "tf_log_level": os.environ.get("TF_CPP_MIN_LOG_LEVEL")}))
"""


@pytest.fixture(scope="module")
def tiny_image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli-quiet") / "tiny.jpg"
    cv2.imwrite(str(path), np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8))
    return path


def run_cli(args: List[str], cwd: Path) -> Tuple[Dict, List[str]]:
    """(what the run reported, its stderr lines), from a clean environment for TensorFlow."""
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "PYTEST_CURRENT_TEST")}
    env["PYTHONPATH"] = str(REPO_DIR)
    done = subprocess.run([sys.executable, "-c", RUN_CLI, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return report, done.stderr.splitlines()


def noise_in(lines: List[str]) -> List[str]:
    # the progress bar rewrites its line with \r: look at every piece
    return [piece for line in lines for piece in line.split("\r") if START_UP_NOISE.search(piece)]


def extract_args(image: Path, detector: str) -> List[str]:
    output = image.with_suffix(f".{detector}.jsonl")
    return ["extract-faces", str(image), "--detector-backend", detector, "--output", str(output)]


def test_opencv_run_is_quiet_and_never_imports_tensorflow(tiny_image: Path) -> None:
    report, stderr = run_cli(extract_args(tiny_image, "opencv"), tiny_image.parent)
    assert report["status"] == 1  # a random picture: no face, recorded as that input's error
    assert report["tensorflow"] is False
    assert noise_in(stderr) == [], stderr
    assert report["tf_log_level"] == str(engines.QUIET_TF_LOG_LEVEL)


@pytest.mark.timeout(600)
def test_tensorflow_detector_run_is_quiet(tiny_image: Path) -> None:
    pytest.importorskip("tensorflow", reason="mtcnn runs on TensorFlow")
    report, stderr = run_cli(extract_args(tiny_image, "mtcnn"), tiny_image.parent)
    assert report["tensorflow"] is True  # the start-up the filter is for did happen
    assert noise_in(stderr) == [], stderr
    assert any("1 images" in line for line in stderr)  # the command's own summary still shows


def test_verbose_leaves_tensorflow_logging_alone(tiny_image: Path) -> None:
    report, _ = run_cli([*extract_args(tiny_image, "opencv"), "--verbose"], tiny_image.parent)
    assert report["tf_log_level"] is None


def test_the_users_own_level_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engines, "_quiet_level", None)
    monkeypatch.setenv(engines.TF_LOG_LEVEL_VARIABLE, "1")
    engines.quiet_tensorflow_startup()
    assert os.environ[engines.TF_LOG_LEVEL_VARIABLE] == "1" and engines._quiet_level == 1
    monkeypatch.delenv(engines.TF_LOG_LEVEL_VARIABLE)
    engines.quiet_tensorflow_startup()
    assert os.environ[engines.TF_LOG_LEVEL_VARIABLE] == str(engines.QUIET_TF_LOG_LEVEL)


ABSL_INFO = "I0000 00:00:1795998795.306382   22901 port.cc:153] oneDNN custom operations are on."
ABSL_WARNING = "W0000 00:00:1795998799.249016   22901 local_rendezvous.cc:412] Local rendezvous is aborting"
ABSL_ERROR = "E0000 00:00:1795998797.976983   22901 cuda_platform.cc:52] failed call to cuInit: INTERNAL"
BANNER = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"


@pytest.mark.parametrize("level, kept", [
    (0, [BANNER, ABSL_INFO, ABSL_WARNING, ABSL_ERROR]),
    (2, [ABSL_ERROR]),
    (3, []),
])
def test_the_filter_drops_absl_lines_below_the_level_only(
    level: int, kept: List[str], capfd: pytest.CaptureFixture
) -> None:
    own = ["a real warning: something is off", "progress 50%"]
    written = [BANNER, ABSL_INFO, own[0], ABSL_WARNING, ABSL_ERROR, own[1]]
    with engines.stderr_without_absl_lines(level):
        for line in written:  # at the file descriptor, where C++ code writes
            os.write(2, (line + "\n").encode())
    expected = [line for line in written if line in own or line in kept]
    assert capfd.readouterr().err.splitlines() == expected
