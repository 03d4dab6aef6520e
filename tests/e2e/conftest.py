"""Fixtures for end-to-end tests: real `hotline` processes, stopped at the end of each test, and
the browser tests' Chromium and tabs (tests/e2e/browser_kit.py has the rest of their set-up)."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.e2e.browser_kit import CHROMIUM, CHROMIUM_ARGS, Site, Tab, new_context
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


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for a module's browser tests: one that does not start is a failure, not a skip."""
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000
            )
        except Exception as exc:
            pytest.fail(f"Chromium could not be launched from {CHROMIUM}: {exc}", pytrace=False)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def tab(browser: Browser, site: Site) -> Iterator[Tab]:
    """A fresh Danish browser profile on the module's `site`, with its real
    Content-Security-Policy; the test fails on any console error."""
    context = new_context(browser, site)
    try:
        opened = Tab(context)
        yield opened
        assert opened.errors == [], "\n".join(opened.errors)
    finally:
        context.close()
