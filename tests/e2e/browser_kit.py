"""The browser tests' shared set-up: the site under test, Danish browser profiles that record
console errors, logging in, axe-core, and the live pair of servers on PostgreSQL and Redis.

The `browser` and `tab` fixtures that use these live in tests/e2e/conftest.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page

from tests.support.processes import Processes
from tests.support.services import Backend

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# axe-core as shipped by the axe-playwright-python package.
AXE_SOURCE = resources.files("axe_playwright_python").joinpath("axe.min.js").read_text()
# Long enough for the worker to take a job and the live pages to refresh.
LIVE_TIMEOUT = 20_000


@dataclass
class Site:
    base_url: str
    processes: Processes


@contextmanager
def embedded_site(root: Path, *, demo: bool = False) -> Iterator[tuple[Site, dict[str, str]]]:
    """One `hotline serve` on embedded defaults (SQLite, in-process jobs) with its data in
    `root`, and its environment for adding staff; with `demo`, on the demo data. Stopped after."""
    processes = Processes(root / "logs")
    try:
        env = {"HOTLINE_DATA_DIR": str(root / "var"), "HOTLINE_COOKIE_SECURE": "false"}
        if demo:
            loaded = processes.run(["demo"], env)
            assert loaded.returncode == 0, loaded.stderr
        server = processes.serve(env)
        yield Site(str(server.base_url), processes), env
    finally:
        processes.stop_all()


def live_servers(
    backend: Backend, environ: dict[str, str], processes: Processes
) -> tuple[Site, Site]:
    """Two `hotline serve` processes and a `hotline worker` on PostgreSQL and Redis, as in
    production; skipped where this run fell back to SQLite."""
    if not backend.real:
        pytest.skip(
            "needs PostgreSQL and Redis on 127.0.0.1 (this run fell back to SQLite; "
            "in CI the suite always runs on the real services)"
        )
    first = processes.serve(environ, name="serve-a")
    second = processes.serve(environ, name="serve-b")
    processes.worker(environ)
    return Site(str(first.base_url), processes), Site(str(second.base_url), processes)


class Tab:
    """A browser tab that records console errors (CSP violations show up there)."""

    def __init__(self, context: BrowserContext) -> None:
        self.context = context
        self.page = context.new_page()
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        # HTTP error statuses (a form with errors answers 400) are logged too; they are expected.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(f"console: {message.text}")


def new_context(browser: Browser, site: Site, **options: Any) -> BrowserContext:
    """A fresh Danish browser profile on `site` (pass `bypass_csp=True` to run axe-core)."""
    context = browser.new_context(base_url=site.base_url, locale="da-DK", **options)
    context.set_default_timeout(10_000)
    context.set_default_navigation_timeout(15_000)
    return context


def log_in(
    page: Page, username: str, password: str, *, start: str = "/login", landing: str = "**/queue"
) -> None:
    """Log in on the Danish login page at `start` and wait for the page it leads to."""
    page.goto(start)
    page.get_by_label("Brugernavn").fill(username)
    page.get_by_label("Adgangskode").fill(password)
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_url(landing)


def mark_page(page: Page) -> None:
    """A mark that a reload would wipe out."""
    page.evaluate("window.__sameDocument = true")


def still_same_page(page: Page) -> bool:
    return bool(page.evaluate("window.__sameDocument === true"))


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (needs a context with `bypass_csp`)."""
    page.add_script_tag(content=AXE_SOURCE)
    results: dict[str, Any] = page.evaluate("axe.run()")
    return list(results["violations"])


def describe(violations: dict[str, list[dict[str, Any]]]) -> str:
    lines = []
    for page_name, found in violations.items():
        for violation in found:
            targets = [node["target"] for node in violation["nodes"]][:5]
            lines.append(
                f"{page_name}: {violation['id']} ({violation['impact']}): {violation['help']} "
                f"at {json.dumps(targets)}"
            )
    return "\n".join(lines)


def assert_no_violations(found: dict[str, list[dict[str, Any]]]) -> None:
    """`found`: axe-core's violations by the name of the page state they were found on."""
    assert not any(found.values()), "axe-core found violations:\n" + describe(found)
