"""A pytest plugin that fails the run when a test skips for a reason CI should have removed.

Every engine, package, the shared photos (``../shared/faces``) and the oracle
(``make oracle``) are installed by CI (``.ci/run``), so there a skip means a test that
silently did not run. With ``DEEPFACE_STRICT_SKIPS=1`` (``.ci/run`` exports it) each skip
whose reason is not in :data:`ALLOWED_SKIPS` is listed at the end of the run and the exit
status becomes 1. Without the variable the plugin does nothing: a user's clone, without
the photos or the oracle, still passes with its skips reported (``-rs``).

Loaded by ``tests/conftest.py``; also usable on its own: ``-p tests.helpers.strict_skips``.
"""

import os
import re
from dataclasses import dataclass, field
from typing import List, Optional, Pattern, Tuple

import pytest

ENV_VARIABLE = "DEEPFACE_STRICT_SKIPS"
PLUGIN_NAME = "deepface-strict-skips"

#: Skips expected even in CI, as (pattern searched in the skip reason, why it is expected).
#: Add an entry only for a reason CI's own install cannot remove; say which.
ALLOWED_SKIPS: Tuple[Tuple[str, str], ...] = (
    (
        # tests/oracle/run_buffalo_forward.py, via tests/test_models_dlib_sface_buffalo.py
        r"insightface is not installed beside the oracle",
        "upstream's Buffalo_L needs insightface 0.7.3, which `make oracle` does not install "
        "(it is set up by hand: DEEPFACE_ORACLE_EXTRA_PATH)",
    ),
)


def strict_skips_enabled() -> bool:
    """True when ``DEEPFACE_STRICT_SKIPS`` is set to 1."""
    return os.environ.get(ENV_VARIABLE, "").strip() == "1"


def skip_reason(report: pytest.CollectReport | pytest.TestReport) -> str:
    """The reason a skipped report gives (``Skipped: `` prefix removed)."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        reason = str(longrepr[2])
    else:
        reason = str(longrepr)
    return reason[len("Skipped: "):] if reason.startswith("Skipped: ") else reason


@dataclass(eq=False)  # a plugin must stay hashable: pluggy keeps plugins in sets
class StrictSkips:
    """Collects skips during a session; fails the session for those not allowed."""

    allowed: List[Pattern[str]] = field(
        default_factory=lambda: [re.compile(pattern) for pattern, _ in ALLOWED_SKIPS]
    )
    refused: List[Tuple[str, str]] = field(default_factory=list)  # (test id, reason)
    tolerated: List[Tuple[str, str]] = field(default_factory=list)

    def record(self, report: pytest.CollectReport | pytest.TestReport) -> None:
        if not report.skipped or hasattr(report, "wasxfail"):
            return  # xfail is reported as a skip too: not ours to judge
        reason = skip_reason(report)
        allowed = any(pattern.search(reason) for pattern in self.allowed)
        (self.tolerated if allowed else self.refused).append((report.nodeid, reason))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """Module-level skips (``importorskip`` at import time) happen at collection."""
        self.record(report)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.record(report)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.refused and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Optional[pytest.TerminalReporter]) -> None:
        if terminalreporter is None:
            return
        if self.tolerated:
            terminalreporter.section(f"skips allowed by {ENV_VARIABLE} (expected even in CI)")
            for nodeid, reason in self.tolerated:
                terminalreporter.line(f"{nodeid}: {reason}")
        if self.refused:
            terminalreporter.section(f"skips refused by {ENV_VARIABLE}=1", red=True)
            for nodeid, reason in self.refused:
                terminalreporter.line(f"{nodeid}: {reason}")
            terminalreporter.line(
                f"{len(self.refused)} skipped test(s) would have passed silently: install what "
                "they name (make setup, make oracle, ../shared/faces), or allow the reason in "
                "tests/helpers/strict_skips.py with why CI cannot provide it. Exit status 1.",
                red=True,
            )


def pytest_configure(config: pytest.Config) -> None:
    """Register the collector for this session when ``DEEPFACE_STRICT_SKIPS=1``."""
    if strict_skips_enabled() and not config.pluginmanager.has_plugin(PLUGIN_NAME):
        config.pluginmanager.register(StrictSkips(), PLUGIN_NAME)
