"""Routing in a real Chromium: the hotline routes a justified demo case from its page, the
Copenhagen coordinator acknowledges it, an administrator edits partner units; axe-core checks
every page on the way (with and without errors).

One `hotline serve` on embedded defaults with the demo data (its partner units, the coordinator
`infohus`, a justified Frederiksberg case) and an administrator account.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import remember_processes
from tests.e2e.test_browser import (  # the shared browser set-up
    CHROMIUM,  # noqa: F401  (documented: the same Chromium)
    Site,
    _axe_violations,
    _context,
    _describe,
    browser,  # noqa: F401  (fixture)
)
from tests.support.processes import Processes

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

DEMO_PASSWORD = "demo-hotline-2026"
ADMIN = "browser-admin"
ADMIN_PASSWORD = "a long administrator password for the browser"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("routing")
    processes = Processes(root / "logs")
    try:
        env = {"HOTLINE_DATA_DIR": str(root / "var"), "HOTLINE_COOKIE_SECURE": "false"}
        loaded = processes.run(["demo"], env)
        assert loaded.returncode == 0, loaded.stderr
        server = processes.serve(env)
        processes.add_staff(env, ADMIN, ADMIN_PASSWORD, role="admin")
        yield Site(str(server.base_url), processes)
    finally:
        processes.stop_all()


@pytest.fixture(autouse=True)
def _logs_on_failure(request: pytest.FixtureRequest, site: Site) -> None:
    remember_processes(request.node, site.processes)


def _log_in(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Brugernavn").fill(username)
    page.get_by_label("Adgangskode").fill(password)
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_url("**/queue")


def _justified_case(page: Page) -> int:
    queue = page.request.get("/api/v1/queue?limit=200")
    assert queue.status == 200, queue.text()
    items: list[dict[str, Any]] = queue.json()["items"]
    justified = [item["id"] for item in items if item["status"] == "justified"]
    assert justified, "the demo has a justified case"
    return int(justified[0])


def test_route_acknowledge_and_administer_without_axe_violations(
    browser: Browser,  # noqa: F811
    site: Site,
) -> None:
    context = _context(browser, site, bypass_csp=True)
    try:
        page = context.new_page()
        found: dict[str, list[dict[str, Any]]] = {}

        _log_in(page, "demo")
        case_id = _justified_case(page)
        page.goto(f"/cases/{case_id}")
        routing = page.get_by_role("region", name="Henvisning")
        expect(routing).to_contain_text("Infohus Frederiksberg")
        found["case page with the routing form"] = _axe_violations(page)
        page.get_by_role("button", name="Send til Infohus Frederiksberg").click()
        expect(page.locator(".error-summary")).to_be_visible()
        found["case page with a routing error"] = _axe_violations(page)
        page.get_by_label("Retsgrundlag for at videregive oplysningerne").select_option(
            "Retsplejeloven § 115, stk. 2"
        )
        page.get_by_role("button", name="Send til Infohus Frederiksberg").click()
        expect(page.get_by_role("region", name="Henvisning")).to_contain_text("Sagens henvisninger")
        found["case page with a routing"] = _axe_violations(page)

        context.clear_cookies()
        _log_in(page, "infohus")
        page.get_by_role("link", name="Henvisninger").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Henvisninger")
        found["routings page"] = _axe_violations(page)
        page.locator("table.queue tbody tr th a").first.click()
        page.wait_for_url("**/routings/*")
        found["routing page"] = _axe_violations(page)
        if page.get_by_role("button", name="Kvittér for modtagelsen").count():
            page.get_by_role("button", name="Kvittér for modtagelsen").click()
        page.get_by_role("button", name="Registrér visitationen").click()
        expect(page.locator(".error-summary")).to_be_visible()
        found["routing page with a visitation error"] = _axe_violations(page)
        page.get_by_label("Ansvarlig myndighed").fill("SSP København")
        page.get_by_label("Næste skridt").fill("Samtale med familien.")
        page.get_by_role("button", name="Registrér visitationen").click()
        expect(page.get_by_role("button", name="Luk som overdraget")).to_be_visible()

        context.clear_cookies()
        _log_in(page, ADMIN, ADMIN_PASSWORD)
        page.get_by_role("link", name="Samarbejdsenheder").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Samarbejdsenheder")
        found["partner units page"] = _axe_violations(page)
        page.get_by_label("Navn", exact=True).fill("Infohus Tårnby")
        page.get_by_label("Infohus", exact=True).check()
        page.get_by_label("E-mailadresse på enhedens postkasse").fill("ikke en adresse")
        page.get_by_label("Tårnby").check()
        page.get_by_role("button", name="Tilføj enheden").click()
        expect(page.locator(".error-summary")).to_contain_text("Angiv enhedens postkasse")
        found["partner units page with an error"] = _axe_violations(page)
        page.get_by_label("E-mailadresse på enhedens postkasse").fill("infohus@taarnby.invalid")
        page.get_by_role("button", name="Tilføj enheden").click()
        expect(page.get_by_role("link", name="Infohus Tårnby")).to_be_visible()
        page.get_by_role("link", name="Infohus Tårnby").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Infohus Tårnby")
        found["partner unit page"] = _axe_violations(page)

        assert not any(found.values()), "axe-core found violations:\n" + _describe(found)
    finally:
        context.close()
