"""The web chat in a real Chromium: a visitor and a logged-in counsellor in two browser contexts.

Two `hotline serve` processes on embedded defaults: one with the default accept time, one with
a one-second accept time for the no-staff fallback. The hotlines are opened around the clock in
their databases, so the tests do not depend on the time of day they run at.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browser_kit import (
    Site,
    Tab,
    assert_no_violations,
    axe_violations,
    log_in,
    new_context,
)
from tests.e2e.conftest import remember_processes
from tests.e2e.test_browser import PASSWORD, STAFF
from tests.support.processes import Processes

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

DA_MESSAGE = "Din besked"
DA_REPLY = "Dit svar"
DA_SEND = "Send"
DA_WAITING = "Venter på, at en rådgiver kommer med i chatten…"
DA_JOINED = "En rådgiver er kommet med i chatten."
DA_ENDED = "Chatten er afsluttet. Tak fordi du skrev til os."
DA_OFFER = "Ingen kan svare på chatten lige nu"
DA_PHONE = "Dit telefonnummer"
DA_CALL_ME = "Ring mig op"
DA_SAVED = "Tak. Vi ringer dig op på det nummer."
ALWAYS = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def _serve(processes: Processes, root: Path, extra: dict[str, str]) -> Site:
    env = {"HOTLINE_DATA_DIR": str(root / "var"), "HOTLINE_COOKIE_SECURE": "false", **extra}
    server = processes.serve(env, name=root.name)
    processes.add_staff(env, STAFF, PASSWORD)
    with sqlite3.connect(root / "var" / "hotline.db") as connection:
        connection.execute("UPDATE hotlines SET opening_hours = ?", (json.dumps(ALWAYS),))
    return Site(str(server.base_url), processes)


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, Site]]:
    processes = Processes(tmp_path_factory.mktemp("chat-logs"))
    try:
        normal = _serve(processes, tmp_path_factory.mktemp("chat"), {})
        impatient = _serve(
            processes,
            tmp_path_factory.mktemp("impatient"),
            {"HOTLINE_CHAT_ACCEPT_SECONDS": "1"},
        )
        yield normal, impatient
    finally:
        processes.stop_all()


@pytest.fixture(autouse=True)
def _logs_on_failure(request: pytest.FixtureRequest, sites: tuple[Site, Site]) -> None:
    remember_processes(request.node, sites[0].processes)


def _log_in(page: Page) -> None:
    log_in(page, STAFF, PASSWORD, start="/login?next=/chats", landing="**/chats")


def _write(page: Page, text: str) -> None:
    page.get_by_label(DA_MESSAGE).fill(text)
    page.get_by_role("button", name=DA_SEND, exact=True).click()


def test_a_visitor_and_a_counsellor_chat(browser: Browser, sites: tuple[Site, Site]) -> None:
    site = sites[0]
    visitor_context = new_context(browser, site)
    staff_context = new_context(browser, site)
    try:
        visitor, staff = Tab(visitor_context), Tab(staff_context)
        _log_in(staff.page)
        expect(staff.page.locator("#chat-list")).to_contain_text("Ingen chats venter.")

        visitor.page.goto("/chat/national")
        expect(visitor.page.get_by_label(DA_MESSAGE)).to_be_visible()
        _write(visitor.page, "Jeg er bekymret for min nevø.")
        expect(visitor.page.locator("#chat-status")).to_have_text(DA_WAITING)
        expect(visitor.page.locator("#transcript")).to_contain_text("min nevø")

        # The waiting chat appears on the staff page without a reload.
        accept = staff.page.get_by_role("button", name="Tag imod")
        expect(accept).to_be_visible()
        accept.click()
        expect(staff.page.locator("#staff-transcript")).to_contain_text("min nevø")
        expect(visitor.page.locator("#chat-status")).to_have_text(DA_JOINED)

        staff.page.get_by_label(DA_REPLY).fill("Tak fordi du skriver. Hvad er der sket?")
        staff.page.get_by_role("button", name=DA_SEND, exact=True).click()
        expect(visitor.page.locator("#transcript")).to_contain_text("Hvad er der sket?")

        # A reload resumes the same chat (the token is in this tab's sessionStorage).
        visitor.page.reload()
        expect(visitor.page.locator("#transcript")).to_contain_text("Hvad er der sket?")
        _write(visitor.page, "Han taler om at rejse.")
        expect(staff.page.locator("#staff-transcript")).to_contain_text("rejse")

        staff.page.get_by_role("button", name="Afslut chatten").click()
        expect(visitor.page.locator("#chat-status")).to_have_text(DA_ENDED)
        assert visitor.errors == [], visitor.errors
        assert staff.errors == [], staff.errors
    finally:
        visitor_context.close()
        staff_context.close()


def test_nobody_answers_so_the_visitor_is_offered_the_form_or_a_call_back(
    browser: Browser,
    sites: tuple[Site, Site],
) -> None:
    context = new_context(browser, sites[1])
    try:
        tab = Tab(context)
        tab.page.goto("/chat/national")
        _write(tab.page, "Er der nogen?")
        offer = tab.page.get_by_role("region", name=DA_OFFER)
        expect(offer).to_be_visible()
        expect(
            offer.get_by_role("link", name="Skriv til os med bekymringsformularen")
        ).to_be_visible()
        expect(tab.page.locator("#transcript")).to_contain_text("Er der nogen?")
        tab.page.get_by_label(DA_PHONE).fill("20 12 34 56")
        tab.page.get_by_role("button", name=DA_CALL_ME).click()
        expect(tab.page.locator("#callback-result")).to_have_text(DA_SAVED)
        assert tab.errors == [], tab.errors
    finally:
        context.close()


def test_axe_finds_no_violations_on_the_chat_pages(
    browser: Browser,
    sites: tuple[Site, Site],
) -> None:
    site = sites[1]
    context = new_context(browser, site, bypass_csp=True)
    try:
        page = context.new_page()
        found = {}
        page.goto("/chat/national")
        expect(page.get_by_label(DA_MESSAGE)).to_be_visible()
        found["chat page"] = axe_violations(page)
        _write(page, "Hej")
        expect(page.get_by_role("region", name=DA_OFFER)).to_be_visible()
        found["chat page with the offer"] = axe_violations(page)
        page.goto("/chat/national?lang=en")
        found["chat page in English"] = axe_violations(page)
        page.goto("/chat/national?lang=da")
        _log_in(page)
        found["staff chats page"] = axe_violations(page)
        assert_no_violations(found)
    finally:
        context.close()
