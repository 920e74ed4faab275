"""DEEPFACE_STRICT_SKIPS=1 (exported by .ci/run) turns an unexpected skip into a failed run;
without it a skip passes, with its reason printed (-rs)."""

import re
from pathlib import Path
from typing import Dict, Union

import pytest

from tests.helpers import strict_skips

REPO_DIR = Path(__file__).resolve().parent.parent

ENGINE_SKIP = """
import pytest

def test_runs():
    assert True

def test_needs_an_engine():
    pytest.importorskip("no_such_engine_here", reason="needs the no_such_engine_here package")
"""
MODULE_SKIP = {
    "test_sample": """
import pytest

pytest.importorskip("no_such_engine_here")

def test_never_collected():
    assert True
""",
    "test_other": "def test_runs():\n    assert True\n",
}
ALLOWED_SKIP = """
import pytest

def test_buffalo_oracle():
    pytest.skip("insightface is not installed beside the oracle (make oracle does not install it)")
"""
XFAIL = """
import pytest

@pytest.mark.xfail(reason="known")
def test_known_failure():
    assert False
"""


def run_session(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                source: Union[str, Dict[str, str]], strict: bool) -> pytest.RunResult:
    """A fresh pytest session on ``source`` (one test file, or several by name) with the
    plugin loaded, strict or not; laid out as this repository is (a ``tests/`` folder
    with its own conftest, so pytest calls some hooks through plugin subsets)."""
    if strict:
        monkeypatch.setenv(strict_skips.ENV_VARIABLE, "1")
    else:
        monkeypatch.delenv(strict_skips.ENV_VARIABLE, raising=False)
    folder = pytester.path / "suite"  # not "tests": that package is this run's own
    folder.mkdir(exist_ok=True)
    (folder / "conftest.py").write_text("# as tests/conftest.py\n")
    for name, text in (source if isinstance(source, dict) else {"test_sample": source}).items():
        (folder / f"{name}.py").write_text(text)
    return pytester.runpytest("-p", "tests.helpers.strict_skips", "-rs", "-p", "no:cacheprovider", "suite")


def test_a_missing_engine_skip_passes_by_default(pytester, monkeypatch) -> None:
    result = run_session(pytester, monkeypatch, ENGINE_SKIP, strict=False)
    result.assert_outcomes(passed=1, skipped=1)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*SKIPPED*needs the no_such_engine_here package*"])  # -rs


def test_a_missing_engine_skip_fails_the_strict_run(pytester, monkeypatch) -> None:
    result = run_session(pytester, monkeypatch, ENGINE_SKIP, strict=True)
    result.assert_outcomes(passed=1, skipped=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([
        "*skips refused by DEEPFACE_STRICT_SKIPS=1*",
        "*test_needs_an_engine: needs the no_such_engine_here package*",
    ])


def test_a_skip_at_collection_fails_the_strict_run(pytester, monkeypatch) -> None:
    assert run_session(pytester, monkeypatch, MODULE_SKIP, strict=False).ret == pytest.ExitCode.OK
    result = run_session(pytester, monkeypatch, MODULE_SKIP, strict=True)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*test_sample.py: *no_such_engine_here*"])


def test_an_allowed_skip_passes_the_strict_run_and_is_listed(pytester, monkeypatch) -> None:
    result = run_session(pytester, monkeypatch, ALLOWED_SKIP, strict=True)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*skips allowed by DEEPFACE_STRICT_SKIPS*", "*test_buffalo_oracle: insightface*"])


def test_xfail_is_not_a_skip(pytester, monkeypatch) -> None:
    result = run_session(pytester, monkeypatch, XFAIL, strict=True)
    result.assert_outcomes(xfailed=1)
    assert result.ret == pytest.ExitCode.OK


def test_every_allowed_reason_is_one_the_tests_can_give() -> None:
    """An allow-list entry that no test or oracle script prints any more is stale."""
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (REPO_DIR / "tests").rglob("*.py")
                        if p.name not in ("test_strict_skips.py", "strict_skips.py"))
    for pattern, why in strict_skips.ALLOWED_SKIPS:
        assert why, f"allowed skip {pattern!r} says not why"
        assert re.search(pattern, sources), f"no test skips with {pattern!r}: remove it from ALLOWED_SKIPS"


def test_ci_runs_the_tests_strictly_and_make_test_shows_skip_reasons() -> None:
    lines = (REPO_DIR / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    export = lines.index(f"export {strict_skips.ENV_VARIABLE}=1")
    assert export < lines.index("make test"), ".ci/run must export the variable before make test"
    makefile = (REPO_DIR / "Makefile").read_text(encoding="utf-8")
    (recipe,) = re.findall(r"^test:\n\t(.*)$", makefile, flags=re.MULTILINE)
    # the recipe's own variables, as make expands them (definitions may continue over lines)
    definitions = dict(re.findall(r"^(\w+) *:?= *((?:.*\\\n)*.*)$", makefile, flags=re.MULTILINE))
    expanded = re.sub(r"\$\((\w+)\)", lambda m: definitions.get(m.group(1), ""), recipe).replace("\\\n", " ")
    assert "-rs" in expanded.split(), f"make test hides skip reasons: {recipe} -> {expanded}"
