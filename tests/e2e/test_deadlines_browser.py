"""The deadlines page in a real Chromium: an admin changes a hotline's deadlines in Danish,
refusals beside their fields, and axe-core on every state of the pages.

One `hotline serve` on embedded defaults serves the module, with an admin added by `hotline
staff add`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browser_kit import Site, axe_violations, describe, new_context
from tests.e2e.conftest import remember_processes
from tests.support.processes import Processes

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PASSWORD = "a long password for deadline tests"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("deadlines-browser")
    processes = Processes(root / "logs")
    try:
        env = {"HOTLINE_DATA_DIR": str(root / "var"), "HOTLINE_COOKIE_SECURE": "false"}
        server = processes.serve(env)
        arguments = ["staff", "add", "frist-lise", "--password-stdin", "--role", "admin"]
        result = processes.run(
            [*arguments, "--name", "Lise Leder"], env, input_text=PASSWORD + "\n"
        )
        assert result.returncode == 0, result.stderr
        yield Site(str(server.base_url), processes)
    finally:
        processes.stop_all()


@pytest.fixture(autouse=True)
def _logs_on_failure(request: pytest.FixtureRequest, site: Site) -> None:
    remember_processes(request.node, site.processes)


def log_in(page: Page) -> None:
    page.goto("/login?next=/admin/deadlines")
    page.get_by_label("Brugernavn").fill("frist-lise")
    page.get_by_label("Adgangskode").fill(PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_url("**/admin/deadlines")


def test_an_admin_changes_deadlines_and_every_state_passes_axe(
    browser: Browser,
    site: Site,
) -> None:
    # axe is injected as an inline script, which the site's CSP rightly forbids: bypass it here.
    context = new_context(browser, site, bypass_csp=True)
    try:
        page = context.new_page()
        found: dict[str, list[dict[str, Any]]] = {}

        def scan(name: str) -> None:
            found[name] = axe_violations(page)

        log_in(page)
        expect(page.get_by_role("heading", level=1)).to_have_text("Frister")
        scan("deadlines per hotline")
        page.get_by_role("link", name="Hotline mod radikalisering (national)").click()
        expect(page.get_by_label("Tid til vurdering, i timer")).to_have_value("24")
        scan("a hotline's deadlines")

        page.get_by_label("Tid til vurdering, i timer").fill("en dag")
        page.locator("#clock_mode-business_hours").check()
        page.get_by_label("Tirsdag", exact=True).fill("8-16")
        page.get_by_role("button", name="Gem").click()
        summary = page.locator(".error-summary")
        expect(summary).to_contain_text("Skriv et antal timer over 0")
        expect(summary).to_contain_text("Skriv åbningstiden som 08:00-16:00")
        expect(page.locator("#triage_hours-error")).to_be_visible()
        scan("a hotline's deadlines with errors")

        page.get_by_label("Tid til vurdering, i timer").fill("12")
        page.get_by_label("Tirsdag", exact=True).fill("08:00-16:00")
        page.get_by_role("button", name="Gem").click()
        expect(page.get_by_role("status")).to_contain_text("Gemt.")
        expect(page.get_by_label("Tid til vurdering, i timer")).to_have_value("12")
        scan("a hotline's deadlines, saved")

        page.goto("/admin/deadlines/national?lang=en")
        expect(page.get_by_role("heading", level=2, name="In force now")).to_be_visible()
        scan("a hotline's deadlines in English")
        assert not any(found.values()), "axe-core found violations:\n" + describe(found)
    finally:
        context.close()
