"""The scripts stand apart from the tests, and the docs they write name no machine's paths."""

import ast
import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Dict

import cv2
import numpy as np
import pytest

from tests.conftest import resize_to_width
from tests.helpers.oracle import ORACLE_DIR, oracle_or_skip, write_random_weights
from tests.helpers.postgres import postgres_or_skip

REPO_DIR = Path(__file__).resolve().parent.parent
SCRIPTS = sorted((REPO_DIR / "scripts").glob("*.py"))
DOCS = sorted((REPO_DIR / "docs").glob("*.md")) + [REPO_DIR / "README.md", REPO_DIR / "CHANGELOG.md"]
MACHINE_PATH = re.compile(r"(?<![\w./])/(?:work|home|tmp|root|Users|mnt|var)/[^\s`)]*")


def imported_modules(path: Path) -> set:
    """Every module a Python file imports, at any depth."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_no_script_imports_the_tests(script: Path) -> None:
    offending = sorted(n for n in imported_modules(script) if n == "tests" or n.startswith("tests."))
    assert not offending, f"{script.name} imports {offending}: move what it needs to testkit or scripts/"


@pytest.fixture(scope="module")
def benchmark() -> ModuleType:
    """scripts/benchmark.py, loaded from its file (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("benchmark_script", REPO_DIR / "scripts" / "benchmark.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_recorded_command_lines_hold_paths_relative_to_the_checkout(benchmark, tmp_path, monkeypatch) -> None:
    repo = tmp_path / "work" / "checkout"
    (repo / "docs").mkdir(parents=True)
    monkeypatch.chdir(repo / "docs")
    argv = ["--detectors", "mtcnn", "--oracle", str(repo / ".oracle"), "--output=../docs/b.md",
            "--home", str(repo.parent / "weights"), "--outp", "/elsewhere/run 1/x.md", "--photos", "24"]
    line = benchmark.command_line("benchmark.py", argv, repo=repo)
    assert line == ("python scripts/benchmark.py --detectors mtcnn --oracle .oracle --output=docs/b.md "
                    "--home ../weights --outp '<outside the checkout>/x.md' --photos 24")
    assert str(tmp_path) not in line


@pytest.mark.parametrize("doc", DOCS, ids=[p.name for p in DOCS])
def test_docs_record_no_absolute_paths(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    found = MACHINE_PATH.findall(text)
    assert not found, f"{doc.name} records paths of the machine it ran on: {found}"


@pytest.mark.timeout(420)
def test_database_benchmark_times_both_packages_and_reports(
    weights_home: Path, face_photos: Dict[str, np.ndarray], tmp_path: Path
) -> None:
    """scripts/benchmark_database.py end to end with tiny arguments: both packages, both
    databases (a real PostgreSQL cluster), ann and the API, into a report."""
    oracle_or_skip()
    postgres_or_skip()
    write_random_weights(weights_home, ["Facenet"])
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("couple.jpg", "img1.jpg"):  # three faces, small: fast to detect
        cv2.imwrite(str(photos / name), resize_to_width(face_photos[name], 320))
    report = tmp_path / "report.md"
    done = subprocess.run(
        [sys.executable, str(REPO_DIR / "scripts" / "benchmark_database.py"), "--images", str(photos),
         "--photos", "2", "--queries", "3", "--repeats", "1", "--api-images", "2", "--ann",
         "--home", str(weights_home), "--oracle", str(ORACLE_DIR), "--output", str(report)],
        cwd=tmp_path, capture_output=True, text=True, timeout=400, check=False,
    )
    assert done.returncode == 0, f"{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    text = report.read_text(encoding="utf-8")
    for operation in ("register", "search", "build_index", "ann"):
        for database in ("postgres", "sqlite"):
            for package in ("deepface-0.0.103", "this package"):
                assert f"| {operation} | {database} | {package} |" in text, (operation, database, package)
    assert "| register | sqlite | this package | 3 faces |" in text  # couple.jpg holds two
    assert "Both packages stored the same number of faces" in text
    for database in ("postgres", "sqlite"):
        assert re.search(rf"\| enrolment \(`register`\) >= 2x deepface \| {database} \| [\d.]+x \|", text)
        assert re.search(rf"\| batched exact `search` >= 2x deepface \| {database} \| [\d.]+x \|", text)
    assert re.search(r"\| 1 batch `/represent` \(`\"img\": \[\.\.\.\]`\) \| 2 \|", text)
    assert "## Machine load" in text
    assert not MACHINE_PATH.findall(text), "the report records paths of the machine it ran on"
