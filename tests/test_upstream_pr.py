"""The pull request to deepface (upstream_pr/): the codemod on deepface's master snapshot and
on the 0.0.103 release, the branch it makes, its refusals, and batch == single on the result.

The codemod runs with the tool environment (``make upstream-venv``: libcst), the patched
deepface in a process of its own (never with this package in one process).
"""

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Dict, List

import pytest

PROJECT = Path(__file__).resolve().parent.parent
SHARED = PROJECT.parent / "shared"
SNAPSHOT = SHARED / "deepface-upstream" / "deepface-243209f.tar.gz"
TOOL_PYTHON = PROJECT / ".venv-upstream" / "bin" / "python"
EXTRA = PROJECT / ".venv-upstream" / "deepface-extra"
ORACLE = Path(os.environ.get("DEEPFACE_ORACLE_DIR", PROJECT / ".oracle"))
PATCHED = [
    "deepface/models/Detector.py",
    "deepface/models/face_detection/MtCnn.py",
    "deepface/models/face_detection/Yolo.py",
    "deepface/modules/detection.py",
    "tests/unit/test_batched_detection.py",
]

pytestmark = [
    pytest.mark.skipif(not SNAPSHOT.exists(), reason=f"no deepface snapshot at {SNAPSHOT} (../shared absent)"),
    pytest.mark.skipif(not TOOL_PYTHON.exists(), reason="no tool environment: run make upstream-venv (libcst)"),
]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        capture_output=True, text=True, check=True,
    ).stdout.strip()


def committed(folder: Path) -> Path:
    git(folder, "init", "-q")
    git(folder, "add", "-A")
    git(folder, "commit", "-qm", "base")
    return folder


def make_branch(clone: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(TOOL_PYTHON), "-m", "upstream_pr.make_branch", str(clone)],
        cwd=PROJECT, capture_output=True, text=True, timeout=300, check=False,
    )


@pytest.fixture(scope="module")
def master(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("master")
    with tarfile.open(SNAPSHOT) as tar:
        tar.extractall(folder, filter="data")
    (root,) = [p for p in folder.iterdir() if p.is_dir()]
    return committed(root)


@pytest.fixture(scope="module")
def master_branch(master) -> Path:
    done = make_branch(master)
    assert done.returncode == 0, done.stderr
    return master


def changed_lines(repo: Path) -> Dict[str, int]:
    rows = git(repo, "diff", "--numstat", "master", "batched-detection").splitlines()
    return {row.split("\t")[2]: int(row.split("\t")[0]) + int(row.split("\t")[1]) for row in rows}


def test_branch_has_five_small_commits(master_branch) -> None:
    log = git(master_branch, "log", "--format=%s", "master..batched-detection").splitlines()
    assert len(log) == 5
    assert log[-1].startswith("Detector:") and log[0].startswith("tests:")
    lines = changed_lines(master_branch)
    assert sorted(lines) == sorted(PATCHED)
    assert sum(lines.values()) <= 600


def test_clone_checkout_is_untouched(master_branch) -> None:
    assert git(master_branch, "rev-parse", "--abbrev-ref", "HEAD") == "master"
    assert git(master_branch, "status", "--porcelain") == ""


def test_rerunning_replaces_the_branch(master_branch) -> None:
    before = git(master_branch, "rev-parse", "batched-detection")
    done = make_branch(master_branch)
    assert done.returncode == 0, done.stderr
    after = git(master_branch, "rev-parse", "batched-detection")
    assert git(master_branch, "rev-parse", f"{after}~5") == git(master_branch, "rev-parse", "master")
    assert git(master_branch, "diff", before, after) == ""


def test_applies_to_the_0_0_103_release(tmp_path) -> None:
    if not (ORACLE / "deepface" / "modules" / "detection.py").exists():
        pytest.skip(f"no deepface 0.0.103 at {ORACLE} (make oracle)")
    shutil.copytree(ORACLE / "deepface", tmp_path / "deepface", ignore=shutil.ignore_patterns("__pycache__"))
    clone = committed(tmp_path)
    done = make_branch(clone)
    assert done.returncode == 0, done.stderr
    assert "5 files changed" in done.stdout


def test_refuses_code_that_moved_and_leaves_the_clone(tmp_path, master) -> None:
    clone = tmp_path / "clone"
    shutil.copytree(master, clone)
    if "batched-detection" in git(clone, "branch"):  # made by an earlier test
        git(clone, "branch", "-D", "batched-detection")
    detection = clone / "deepface/modules/detection.py"
    detection.write_text(detection.read_text().replace("for single_img_path in", "for one_img in"))
    git(clone, "commit", "-qam", "moved on")
    done = make_branch(clone)
    assert done.returncode == 2
    assert "deepface/modules/detection.py" in done.stderr and "for single_img_path" in done.stderr
    assert "batched-detection" not in git(clone, "branch")


@pytest.mark.parametrize("spoil", ["dirty", "not-a-repo"])
def test_refuses_a_clone_it_cannot_branch(tmp_path, master, spoil) -> None:
    clone = tmp_path / "clone"
    shutil.copytree(master, clone)
    if spoil == "dirty":
        (clone / "deepface/models/Detector.py").write_text("# edited\n")
    else:
        shutil.rmtree(clone / ".git")
    done = make_branch(clone)
    assert done.returncode == 2
    assert "left as it was" in done.stderr


@pytest.fixture(scope="module")
def weights_home(tmp_path_factory) -> Path:
    """DEEPFACE_HOME with a random-weight yolov8n-face (this project's recipe)."""
    pytest.importorskip("ultralytics")
    from testkit.random_yolo_models import write_random_yolo_pose_model

    home = tmp_path_factory.mktemp("home")
    weights = home / ".deepface" / "weights"
    weights.mkdir(parents=True)
    write_random_yolo_pose_model(weights / "yolov8n-face.pt", "yolov8n")
    return home


def test_patched_master_batch_equals_single(master_branch, weights_home, tmp_path) -> None:
    if not EXTRA.exists():
        pytest.skip(f"deepface master's extra packages (lightphe, ...) missing at {EXTRA}: make upstream-venv")
    tree = tmp_path / "tree"
    git(master_branch, "worktree", "add", "--detach", str(tree), "batched-detection")
    try:
        done = subprocess.run(
            [sys.executable, str(PROJECT / "upstream_pr" / "probe.py"), "same",
             "--faces", str(SHARED / "faces"), "--detectors", "opencv", "mtcnn", "yolov8n"],
            cwd=tmp_path, capture_output=True, text=True, timeout=3000, check=False,
            env=dict(os.environ, PYTHONPATH=f"{tree}:{EXTRA.resolve()}", DEEPFACE_HOME=str(weights_home),
                     TF_CPP_MIN_LOG_LEVEL="3", YOLO_CONFIG_DIR=str(tmp_path / "yolo")),
        )
    finally:
        git(master_branch, "worktree", "remove", "--force", str(tree))
    rows: List[dict] = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert [row["detector"] for row in rows] == ["opencv", "mtcnn", "yolov8n"], done.stderr[-3000:]
    for row in rows:
        assert row["mismatches"] == [], row
