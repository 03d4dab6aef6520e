"""The triage workspace from report to acknowledgement, in a real Chromium, as in production.

PostgreSQL and Redis, two `hotline serve` processes and a `hotline worker`. An administrator
adds the coordination unit; a web-form report arrives; hotline staff member A claims it from the
queue, triages it as a justified concern and routes it; staff member B, on the other server,
watches the queue change at every step without reloading; a coordinator of the unit
acknowledges the routing, and B's queue shows that too. axe-core checks the queue and case pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browser_kit import (
    LIVE_TIMEOUT,
    Site,
    Tab,
    assert_no_violations,
    axe_violations,
    live_servers,
    mark_page,
    new_context,
    still_same_page,
)
from tests.e2e.browser_kit import (
    log_in as log_in_as,
)
from tests.e2e.test_triage_browser import RATIONALE, fill_in_an_adult_justified_concern
from tests.support.forms import valid_answers
from tests.support.processes import Processes
from tests.support.services import Backend
from tests.support.visitor import submit_concern

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PASSWORD = "a long password for the workspace flow"
STAFF_A, STAFF_B, ADMIN, COORDINATOR = "anne-flow", "bo-flow", "admin-flow", "kasper-flow"
UNIT = "Infohus København"
LEGAL_BASIS = "Retsplejeloven § 115, stk. 2"

DA_STATUS_JUSTIFIED = "Begrundet, skal videresendes"
DA_STATUS_ROUTED = "Videresendt"
DA_STATUS_ACKNOWLEDGED = "Kvitteret af modtageren"


@dataclass
class Workspace:
    a: Site
    b: Site
    processes: Processes
    environ: dict[str, str]


@pytest.fixture
def workspace(
    backend: Backend,
    test_environ: dict[str, str],
    clean_database: None,
    processes: Processes,
) -> Workspace:
    a, b = live_servers(backend, test_environ, processes)
    processes.add_staff(test_environ, STAFF_A, PASSWORD)
    processes.add_staff(test_environ, STAFF_B, PASSWORD)
    processes.add_staff(test_environ, ADMIN, PASSWORD, role="admin")
    return Workspace(a, b, processes, test_environ)


def log_in(page: Page, username: str, landing: str = "**/queue") -> None:
    log_in_as(page, username, PASSWORD, landing=landing)


def add_the_coordination_unit(page: Page) -> int:
    """An administrator adds the unit covering Copenhagen; returns its id."""
    page.goto("/admin/partner-units")
    page.get_by_label("Navn", exact=True).fill(UNIT)
    page.get_by_label("Infohus", exact=True).check()
    page.get_by_label("E-mailadresse på enhedens postkasse").fill("infohus@kk.invalid")
    page.get_by_label("København", exact=True).check()
    page.get_by_role("button", name="Tilføj enheden").click()
    expect(page.get_by_role("link", name=UNIT)).to_be_visible()
    units = page.request.get("/api/v1/partner-units")
    assert units.status == 200, units.text()
    items: list[dict[str, Any]] = units.json()["items"]
    return next(int(u["id"]) for u in items if u["name"] == UNIT)


def add_coordinator(workspace: Workspace, unit_id: int) -> None:
    result = workspace.processes.run(
        [
            *("staff", "add", COORDINATOR, "--password-stdin"),
            *("--role", "coordinator", "--unit", str(unit_id)),
        ],
        workspace.environ,
        input_text=PASSWORD + "\n",
    )
    assert result.returncode == 0, result.stderr


def test_claim_triage_route_and_acknowledge_while_a_colleague_watches(
    browser: Browser,
    workspace: Workspace,
) -> None:
    found: dict[str, list[dict[str, Any]]] = {}
    # axe is injected inline, so its contexts bypass the CSP; staff B's page keeps the real CSP
    # and records any violation as a console error.
    context_a = new_context(browser, workspace.a, bypass_csp=True)
    context_b = new_context(browser, workspace.b)
    context_c = new_context(browser, workspace.a, bypass_csp=True)
    try:
        a, b, c = Tab(context_a), Tab(context_b), Tab(context_c)

        log_in(c.page, ADMIN)
        unit_id = add_the_coordination_unit(c.page)
        add_coordinator(workspace, unit_id)

        log_in(a.page, STAFF_A)
        log_in(b.page, STAFF_B)
        mark_page(b.page)
        watched = b.page.locator("table.queue tbody tr")

        # A concern about a Copenhagen resident arrives through the web form (on server A).
        with requests.Session() as visitor:
            submit_concern(visitor, workspace.a.base_url, valid_answers())
        rows_a = a.page.locator("table.queue tbody tr")
        expect(rows_a).to_have_count(1, timeout=LIVE_TIMEOUT)
        expect(watched).to_have_count(1, timeout=LIVE_TIMEOUT)
        reference = watched.first.locator("th a").inner_text().strip()
        assert re.fullmatch(r"NAT-\d{4}-\d{5}", reference), reference
        found["queue page"] = axe_violations(a.page)

        # A claims it from the queue; B sees it taken.
        a.page.get_by_role("button", name=f"Tag sagen {reference}").click()
        a.page.wait_for_url("**/queue")
        expect(watched.first.locator("td.assignee")).to_have_text(STAFF_A, timeout=LIVE_TIMEOUT)

        # A triages it as a justified concern; B sees the status change.
        rows_a.first.locator("th a").click()
        a.page.wait_for_url("**/cases/*")
        found["case page, new"] = axe_violations(a.page)
        a.page.get_by_role("link", name="Start vurderingen").click()
        fill_in_an_adult_justified_concern(a.page)
        a.page.get_by_label("Begrundelse").fill(RATIONALE)
        a.page.get_by_role("button", name="Indsend vurdering").click()
        a.page.wait_for_url(re.compile(r"/cases/\d+(#.*)?$"))
        expect(watched.first).to_contain_text(DA_STATUS_JUSTIFIED, timeout=LIVE_TIMEOUT)

        # A routes it to the unit covering Copenhagen, on the legal basis chosen.
        routing = a.page.get_by_role("region", name="Henvisning")
        expect(routing).to_contain_text(UNIT)
        found["case page, justified"] = axe_violations(a.page)
        routing.get_by_label("Retsgrundlag for at videregive oplysningerne").select_option(
            LEGAL_BASIS
        )
        routing.get_by_role("button", name=f"Send til {UNIT}").click()
        expect(a.page.get_by_role("region", name="Henvisning")).to_contain_text(LEGAL_BASIS)
        expect(watched.first).to_contain_text(DA_STATUS_ROUTED, timeout=LIVE_TIMEOUT)
        found["case page, routed"] = axe_violations(a.page)

        # The coordinator of the unit acknowledges it; the case and B's queue show it.
        c.context.clear_cookies()
        log_in(c.page, COORDINATOR, landing="**/*")
        c.page.goto("/routings")
        c.page.locator("table.queue tbody tr th a").filter(has_text=reference).click()
        c.page.wait_for_url("**/routings/*")
        c.page.get_by_role("button", name="Kvittér for modtagelsen").click()
        expect(c.page.get_by_role("button", name="Registrér visitationen")).to_be_visible()
        expect(watched.first).to_contain_text(DA_STATUS_ACKNOWLEDGED, timeout=LIVE_TIMEOUT)
        a.page.reload()
        expect(a.page.get_by_role("region", name="Henvisning")).to_contain_text(COORDINATOR)
        found["case page, acknowledged"] = axe_violations(a.page)

        # B watched all of it without a reload.
        assert still_same_page(b.page)
        assert_no_violations(found)
        for tab in (a, b, c):
            assert tab.errors == [], tab.errors
    finally:
        for context in (context_a, context_b, context_c):
            context.close()
