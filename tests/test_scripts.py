"""The scripts stand apart from the tests; the docs name no machine's paths, link to files
that exist, keep their figures in the benchmark reports, and the README stays short."""

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


README = REPO_DIR / "README.md"
README_MAX_LINES = 250
#: Relative Markdown links: [text](target), the target without a URL scheme or an anchor.
LINK = re.compile(r"\]\((?![a-z]+://|#|mailto:)([^)#\s]+)(?:#[^)]*)?\)")
#: Measured figures: speed-ups (2.38x), throughputs (4.1 img/s), memory (8.2 GB), shares (85%).
FIGURE = re.compile(
    r"\b\d+(?:\.\d+)?x\b|\b\d+(?:\.\d+)? ?(?:img|images|faces)/s\b"
    r"|\b\d+(?:\.\d+)? ?(?:GB|GiB|MB|MiB)\b|\b\d+(?:\.\d+)?%"
)
#: What the package does: the README says each in a sentence (issue 20).
CAPABILITIES = ("extract_faces", "represent", "verify", "find", "analyze", "anti_spoofing", "stream",
                "register", "search", "identify", "build_index", "REST API", "Ray", "command line")


def test_readme_is_short_and_says_what_the_package_does() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= README_MAX_LINES, "details belong in docs/*.md"
    overview = text.split("## Set up", 1)[0]
    missing = [name for name in CAPABILITIES if name not in overview]
    assert not missing, f"the README's overview leaves out {missing}"
    for command in ("make setup", "make demo", "make test"):
        assert f"{command} " in text, f"the README does not give `{command}`"


@pytest.mark.parametrize("doc", DOCS, ids=[p.name for p in DOCS])
def test_docs_link_to_files_that_exist(doc: Path) -> None:
    targets = LINK.findall(doc.read_text(encoding="utf-8"))
    broken = [target for target in targets if not (doc.parent / target).exists()]
    assert not broken, f"{doc.name} links to missing files: {broken}"


def test_every_doc_is_reachable_from_the_readme() -> None:
    """Each docs/*.md is linked from the README or from a doc the README links to."""
    seen, todo = set(), [README.resolve()]
    while todo:
        doc = todo.pop()
        if doc in seen or doc.suffix != ".md" or not doc.exists():
            continue
        seen.add(doc)
        todo.extend((doc.parent / target).resolve() for target in LINK.findall(doc.read_text(encoding="utf-8")))
    unreachable = [p.name for p in sorted((REPO_DIR / "docs").glob("*.md")) if p.resolve() not in seen]
    assert not unreachable, f"not linked from the README (directly or through docs): {unreachable}"


#: The docs that must not restate figures: all but the benchmark reports themselves, the
#: changelog (a record of what each change measured when it was made) and the upstream pull
#: request's description (a document for deepface's maintainers, whose table is its evidence).
RECORDS = {"CHANGELOG.md", "upstream-pr.md"}
PROSE_DOCS = [p for p in DOCS if not p.name.startswith("benchmarks") and p.name not in RECORDS]


@pytest.mark.parametrize("doc", PROSE_DOCS, ids=[p.name for p in PROSE_DOCS])
def test_figures_stay_in_the_benchmark_reports(doc: Path) -> None:
    """Measured figures live in docs/benchmarks*.md only, so they are never restated (and
    left stale) elsewhere; other docs link to them."""
    found = FIGURE.findall(doc.read_text(encoding="utf-8"))
    assert not found, f"{doc.name} restates measured figures {found}: link to docs/benchmarks*.md instead"


def test_ci_runs_exactly_the_two_documented_commands() -> None:
    """`.ci/run` is `make setup` then `make test` (with skips refused), as the README says."""
    lines = [line.strip() for line in (REPO_DIR / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    commands = [line for line in lines if line and not line.startswith("#")]
    assert [c for c in commands if c.startswith("make")] == ["make setup", "make test"]
    assert "export DEEPFACE_STRICT_SKIPS=1" in commands
    makefile = (REPO_DIR / "Makefile").read_text(encoding="utf-8")
    setup_rule = re.search(r"^setup:(.*)$", makefile, re.MULTILINE)
    assert setup_rule and "oracle" in setup_rule.group(1), "make setup must install the oracle the tests need"
    assert "database-servers" in setup_rule.group(1), "make setup must install the servers the database tests start"


def test_conftest_tables_name_existing_test_modules() -> None:
    """The order and slow tables of tests/conftest.py follow renamed or removed modules."""
    from tests import conftest

    named = set(conftest.LONGEST_FIRST) | set(conftest.SLOW_MODULES)
    missing = sorted(name for name in named if not (REPO_DIR / "tests" / name).is_file())
    assert not missing, f"tests/conftest.py names test modules that do not exist: {missing}"
    assert len(set(conftest.LONGEST_FIRST)) == len(conftest.LONGEST_FIRST)


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


def test_doc_sections_replace_one_section_and_keep_the_rest(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("doc_sections", REPO_DIR / "scripts" / "doc_sections.py")
    sections = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sections)
    doc = tmp_path / "report.md"
    doc.write_text("# Report\n\nbody\n")
    sections.write_section(doc, "servers", "first run")
    sections.write_section(doc, "other", "another benchmark")
    sections.write_section(doc, "servers", "second run")
    text = doc.read_text()
    assert text.startswith("# Report\n\nbody\n") and "first run" not in text
    assert text.count("second run") == 1 and text.index("second run") < text.index("another benchmark")
    doc.write_text("# Rewritten\n" + sections.kept_sections(doc))  # a script that rewrites the file
    assert "second run" in doc.read_text() and "another benchmark" in doc.read_text()


@pytest.mark.timeout(420)
def test_database_servers_benchmark_times_both_packages_into_its_section(tmp_path: Path) -> None:
    """scripts/benchmark_database_servers.py end to end with tiny arguments (Redis only):
    both packages, every operation, found the queries, written as a section of the report."""
    oracle_or_skip()
    from testkit.database_servers import mariadb_missing, pgvector_missing, redis_missing

    missing = redis_missing() or mariadb_missing() or pgvector_missing()
    if missing:
        pytest.skip(missing)
    report = tmp_path / "report.md"
    report.write_text("# Earlier report\n\nkept\n")
    done = subprocess.run(
        [sys.executable, str(REPO_DIR / "scripts" / "benchmark_database_servers.py"), "--stored", "60",
         "--register", "10", "--queries", "4", "--repeats", "1", "--kinds", "redis", "--oracle", str(ORACLE_DIR),
         "--output", str(report)],
        cwd=tmp_path, capture_output=True, text=True, timeout=400, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    text = report.read_text(encoding="utf-8")
    assert text.startswith("# Earlier report\n\nkept\n") and "<!-- section: database-servers -->" in text
    for operation in ("register", "search exact", "search ann"):
        assert re.search(rf"\| redis \| {operation} \| [\d.]+ \([\d.-]+\) \| [\d.]+ \([\d.-]+\) \| [\d.]+x \|", text)
    assert text.count("| 4 / 4 of 4 |") == 2, "both packages found every query, exact and ann"
    assert "Redis 7" in text and "load (`uptime`)" in text
    assert not MACHINE_PATH.findall(text), "the report records paths of the machine it ran on"
