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

from tests.e2e.browser_kit import (
    Site,
    assert_no_violations,
    axe_violations,
    embedded_site,
    log_in,
    new_context,
)
from tests.e2e.conftest import remember_processes

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

DEMO_PASSWORD = "demo-hotline-2026"
ADMIN = "browser-admin"
ADMIN_PASSWORD = "a long administrator password for the browser"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with embedded_site(tmp_path_factory.mktemp("routing"), demo=True) as (site, env):
        site.processes.add_staff(env, ADMIN, ADMIN_PASSWORD, role="admin")
        yield site


@pytest.fixture(autouse=True)
def _logs_on_failure(request: pytest.FixtureRequest, site: Site) -> None:
    remember_processes(request.node, site.processes)


def _log_in(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    log_in(page, username, password)


def _justified_case(page: Page) -> int:
    queue = page.request.get("/api/v1/queue?limit=200")
    assert queue.status == 200, queue.text()
    items: list[dict[str, Any]] = queue.json()["items"]
    justified = [item["id"] for item in items if item["status"] == "justified"]
    assert justified, "the demo has a justified case"
    return int(justified[0])


def test_route_acknowledge_and_administer_withoutaxe_violations(
    browser: Browser,
    site: Site,
) -> None:
    context = new_context(browser, site, bypass_csp=True)
    try:
        page = context.new_page()
        found: dict[str, list[dict[str, Any]]] = {}

        _log_in(page, "demo")
        case_id = _justified_case(page)
        page.goto(f"/cases/{case_id}")
        routing = page.get_by_role("region", name="Henvisning")
        expect(routing).to_contain_text("Infohus Frederiksberg")
        found["case page with the routing form"] = axe_violations(page)
        page.get_by_role("button", name="Send til Infohus Frederiksberg").click()
        expect(page.locator(".error-summary")).to_be_visible()
        found["case page with a routing error"] = axe_violations(page)
        page.get_by_label("Retsgrundlag for at videregive oplysningerne").select_option(
            "Retsplejeloven § 115, stk. 2"
        )
        page.get_by_role("button", name="Send til Infohus Frederiksberg").click()
        expect(page.get_by_role("region", name="Henvisning")).to_contain_text("Sagens henvisninger")
        found["case page with a routing"] = axe_violations(page)

        context.clear_cookies()
        _log_in(page, "infohus")
        page.get_by_role("link", name="Henvisninger").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Henvisninger")
        found["routings page"] = axe_violations(page)
        page.locator("table.queue tbody tr th a").first.click()
        page.wait_for_url("**/routings/*")
        found["routing page"] = axe_violations(page)
        if page.get_by_role("button", name="Kvittér for modtagelsen").count():
            page.get_by_role("button", name="Kvittér for modtagelsen").click()
        page.get_by_role("button", name="Registrér visitationen").click()
        expect(page.locator(".error-summary")).to_be_visible()
        found["routing page with a visitation error"] = axe_violations(page)
        page.get_by_label("Ansvarlig myndighed").fill("SSP København")
        page.get_by_label("Næste skridt").fill("Samtale med familien.")
        page.get_by_role("button", name="Registrér visitationen").click()
        expect(page.get_by_role("button", name="Luk som overdraget")).to_be_visible()

        context.clear_cookies()
        _log_in(page, ADMIN, ADMIN_PASSWORD)
        page.get_by_role("link", name="Samarbejdsenheder").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Samarbejdsenheder")
        found["partner units page"] = axe_violations(page)
        page.get_by_label("Navn", exact=True).fill("Infohus Tårnby")
        page.get_by_label("Infohus", exact=True).check()
        page.get_by_label("E-mailadresse på enhedens postkasse").fill("ikke en adresse")
        page.get_by_label("Tårnby").check()
        page.get_by_role("button", name="Tilføj enheden").click()
        expect(page.locator(".error-summary")).to_contain_text("Angiv enhedens postkasse")
        found["partner units page with an error"] = axe_violations(page)
        page.get_by_label("E-mailadresse på enhedens postkasse").fill("infohus@taarnby.invalid")
        page.get_by_role("button", name="Tilføj enheden").click()
        expect(page.get_by_role("link", name="Infohus Tårnby")).to_be_visible()
        page.get_by_role("link", name="Infohus Tårnby").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Infohus Tårnby")
        found["partner unit page"] = axe_violations(page)

        assert_no_violations(found)
    finally:
        context.close()
