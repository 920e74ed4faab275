"""A pytest plugin reporting the CPU seconds each test's phases cost: ``--cpu-durations=N``.

Wall-clock durations (``--durations``) depend on the machine's load; on a shared machine
they say little about where a test's time goes. This plugin counts the CPU time of the
test process (all its threads) plus that of the subprocesses it waited for (the oracle's
runs), per phase (setup, call, teardown), and lists the N most expensive at the end, as
``--durations`` does. Under pytest-xdist each worker reports to the controller through the
test report, so the list covers the whole run. Loaded by ``tests/conftest.py``.
"""

import resource
from typing import Iterator, List, Tuple

import pytest

OPTION = "--cpu-durations"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        OPTION, type=int, default=None, metavar="N",
        help="list the N test phases that cost the most CPU seconds (this process and its subprocesses)",
    )


def cpu_seconds() -> float:
    """CPU seconds used so far by this process and the children it has waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    spent = getattr(item, "_cpu_spent", {}).get(call.when)
    if spent is not None:
        report.user_properties.append(("cpu_seconds", spent))


def _timed(item: pytest.Item, when: str) -> Iterator[None]:
    start = cpu_seconds()
    yield
    if not hasattr(item, "_cpu_spent"):
        item._cpu_spent = {}
    item._cpu_spent[when] = cpu_seconds() - start


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    yield from _timed(item, "setup")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    yield from _timed(item, "call")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    yield from _timed(item, "teardown")


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    count = config.getoption(OPTION)
    if count is None:
        return
    rows: List[Tuple[float, float, str, str]] = []
    for reports in terminalreporter.stats.values():
        for report in reports:
            if not isinstance(report, pytest.TestReport):
                continue
            for key, value in report.user_properties:
                if key == "cpu_seconds":
                    rows.append((value, report.duration, report.when, report.nodeid))
    rows.sort(reverse=True)
    total = sum(row[0] for row in rows)
    terminalreporter.write_sep("=", f"slowest {count} CPU durations ({total:.0f} CPU s in all)")
    for cpu, wall, when, nodeid in rows[:count]:
        terminalreporter.write_line(f"{cpu:8.2f} cpu s {wall:8.2f} wall s {when:<8} {nodeid}")
    modules: dict = {}
    for cpu, wall, _, nodeid in rows:
        module = nodeid.split("::", 1)[0]
        spent = modules.setdefault(module, [0.0, 0.0])
        spent[0] += cpu
        spent[1] += wall
    terminalreporter.write_sep("-", "CPU and wall seconds per module")
    for module, (cpu, wall) in sorted(modules.items(), key=lambda item: -item[1][0]):
        terminalreporter.write_line(f"{cpu:8.1f} cpu s {wall:8.1f} wall s {module}")
