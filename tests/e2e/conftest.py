"""Fixtures for end-to-end tests: real `hotline` processes, stopped at the end of each test."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from tests.support.processes import Processes

_PROCESSES = pytest.StashKey[Processes]()


@pytest.fixture
def processes(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Processes]:
    started = Processes(tmp_path / "logs")
    remember_processes(request.node, started)
    try:
        yield started
    finally:
        started.stop_all()


def remember_processes(item: pytest.Item, started: Processes) -> None:
    """Show `started`'s logs if `item` fails (for fixtures wider than one test)."""
    item.stash[_PROCESSES] = started


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed e2e test shows the output of every process it started."""
    report = yield
    started = item.stash.get(_PROCESSES, None)
    if started is not None and report.failed and report.when in ("call", "teardown"):
        report.sections.append(("hotline processes", started.logs()))
    return report
