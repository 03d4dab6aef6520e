"""The live staff queue in a real Chromium: two staff members on two server processes, a worker.

PostgreSQL and Redis, as in production: `hotline serve` twice (staff A on one, staff B on the
other) and a separate `hotline worker`. New reports appear on both queue pages without a reload,
a claim by A shows on B's page, and a new acute report raises a banner nobody can miss. The
deadline countdowns run in the browser. axe-core checks the page with filters and the banner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
from tests.support.forms import valid_answers
from tests.support.processes import Processes
from tests.support.services import Backend
from tests.support.visitor import submit_concern

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PASSWORD = "a long staff password for the live queue"
STAFF_A = "anne-live"
STAFF_B = "bo-live"


@dataclass
class Servers:
    a: Site
    b: Site


@pytest.fixture
def servers(
    backend: Backend,
    test_environ: dict[str, str],
    clean_database: None,
    processes: Processes,
) -> Servers:
    a, b = live_servers(backend, test_environ, processes)
    processes.add_staff(test_environ, STAFF_A, PASSWORD)
    processes.add_staff(test_environ, STAFF_B, PASSWORD)
    return Servers(a, b)


def log_in(page: Page, username: str) -> None:
    log_in_as(page, username, PASSWORD)
    expect(page.locator("#queue-live-status")).to_have_text("Køen opdateres automatisk.")


def report(site: Site, **answers: str) -> None:
    with requests.Session() as visitor:
        submit_concern(visitor, site.base_url, valid_answers(**answers))


def test_two_staff_members_see_the_queue_change_live(
    browser: Browser,
    servers: Servers,
) -> None:
    context_a = new_context(browser, servers.a)
    # B also runs axe, which is injected inline: the CSP is bypassed there (A keeps it, and
    # records any violation as a console error).
    context_b = new_context(browser, servers.b, bypass_csp=True)
    try:
        a, b = Tab(context_a), Tab(context_b)
        log_in(a.page, STAFF_A)
        log_in(b.page, STAFF_B)
        for page in (a.page, b.page):
            expect(page.locator("#queue-live")).to_contain_text("Køen er tom.")
            mark_page(page)

        # 1. A report arrives (server A takes it, the worker opens the case): both pages show it.
        report(servers.a)
        rows_a = a.page.locator("table.queue tbody tr")
        rows_b = b.page.locator("table.queue tbody tr")
        expect(rows_a).to_have_count(1, timeout=LIVE_TIMEOUT)
        expect(rows_b).to_have_count(1, timeout=LIVE_TIMEOUT)
        reference = rows_b.first.locator("th a").inner_text().strip()
        assert re.fullmatch(r"NAT-\d{4}-\d{5}", reference), reference
        expect(rows_b.first).to_contain_text("Ikke fordelt")
        expect(rows_b.first.locator("td.deadline")).to_contain_text("tilbage")
        assert still_same_page(a.page)
        assert still_same_page(b.page)

        # 2. A claims it (A's page posts and comes back); B sees A as the assignee, no reload.
        a.page.get_by_role("button", name=f"Tag sagen {reference}").click()
        a.page.wait_for_url("**/queue")
        expect(rows_a.first.locator("td.assignee")).to_have_text(STAFF_A)
        expect(rows_b.first.locator("td.assignee")).to_have_text(STAFF_A, timeout=LIVE_TIMEOUT)
        expect(b.page.get_by_role("button", name=f"Tag sagen {reference}")).to_have_count(0)
        assert still_same_page(b.page)
        mark_page(a.page)

        # 3. An acute report: a banner on both pages, and in the tab's title, until dismissed.
        # B is reading the counts meanwhile: the refresh leaves the focus where it was.
        b.page.locator("#count-at-risk").focus()
        report(servers.b, safety_threats="yes")
        banner_b = b.page.get_by_role("alert").filter(has_text="Ny akut sag:")
        expect(banner_b).to_be_visible(timeout=LIVE_TIMEOUT)
        expect(a.page.get_by_role("alert").filter(has_text="Ny akut sag:")).to_be_visible(
            timeout=LIVE_TIMEOUT
        )
        acute = banner_b.get_by_role("link").inner_text().strip()
        assert acute != reference
        expect(banner_b.get_by_role("link")).to_have_attribute("href", re.compile(r"^/cases/\d+$"))
        expect(b.page).to_have_title(re.compile(f"^Akut: {acute} – Kø"))
        # The acute case is at the top of the queue, too.
        expect(rows_b.first.locator("th a")).to_have_text(acute, timeout=LIVE_TIMEOUT)
        expect(rows_b).to_have_count(2)
        assert still_same_page(b.page)
        expect(b.page.locator("#count-at-risk")).to_be_focused()

        # axe: the page with its banner, and with filters set (the banner stays until dismissed).
        found = {"queue page with an acute banner": axe_violations(b.page)}
        b.page.goto("/queue?hotline=national&assignee=unassigned&due=at_risk")
        expect(b.page.get_by_role("alert").filter(has_text=acute)).to_be_visible()
        expect(b.page.locator("#due")).to_have_value("at_risk")
        found["queue page with filters and the banner"] = axe_violations(b.page)
        b.page.goto("/queue?due=soon")
        expect(b.page.locator(".error-summary")).to_be_visible()
        found["queue page with a filter error"] = axe_violations(b.page)
        assert_no_violations(found)

        # Dismissed, it is gone, and the title is the page's own again.
        b.page.goto("/queue")
        dismiss = b.page.get_by_role("button", name=f"Luk {acute}")
        dismiss.click()
        expect(b.page.get_by_role("alert").filter(has_text=acute)).to_have_count(0)
        expect(b.page).to_have_title(re.compile("^Kø – "))
        b.page.reload()
        expect(b.page.get_by_role("alert").filter(has_text=acute)).to_have_count(0)

        # 4. The countdown runs on in the browser: a day later both deadlines show as overdue.
        a.page.clock.install()
        a.page.goto("/queue")
        expect(a.page.locator("td.deadline.overdue")).to_have_count(0)
        a.page.clock.fast_forward("25:00:00")
        expect(a.page.locator("td.deadline.overdue")).to_have_count(2)
        expect(a.page.locator("td.deadline").first).to_contain_text("Overskredet")
        expect(a.page.locator("td.deadline").first).to_contain_text("overskredet med 1 t")

        assert a.errors == [], a.errors
        assert b.errors == [], b.errors
    finally:
        context_a.close()
        context_b.close()
