"""The scripts stand apart from the tests, and the docs they write name no machine's paths."""

import ast
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

REPO_DIR = Path(__file__).resolve().parent.parent
SCRIPTS = sorted((REPO_DIR / "scripts").glob("*.py"))
DOCS = sorted((REPO_DIR / "docs").glob("*.md")) + [REPO_DIR / "README.md", REPO_DIR / "CHANGELOG.md"]


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
    assert not offending, f"{script.name} imports {offending}: move what it needs to deepface.testing or scripts/"


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
    found = re.findall(r"(?<![\w./])/(?:work|home|tmp|root|Users|mnt|var)/[^\s`)]*", text)
    assert not found, f"{doc.name} records paths of the machine it ran on: {found}"
