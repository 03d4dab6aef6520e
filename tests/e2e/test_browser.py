"""The public form and the staff pages in a real Chromium, with axe-core for accessibility.

One `hotline serve` on embedded defaults (SQLite, in-process jobs) serves the whole module.
A Chromium that does not start is a failure, never a skip.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browser_kit import (
    Site,
    Tab,
    assert_no_violations,
    axe_violations,
    embedded_site,
    new_context,
)
from tests.e2e.browser_kit import log_in as log_in_as
from tests.e2e.conftest import remember_processes

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

STAFF = "browser-staff"
PASSWORD = "a long staff password for the browser"
MOBILE_WIDTH = 375
RECEIPT = re.compile(r"[A-Z0-9]{4}(-[A-Z0-9]{4}){4}")

# Danish labels, as a Danish reader sees them.
DA_ROLE_RELATIVE = "Et familiemedlem (forælder, søskende eller anden familie)"
DA_RELATION = "Hvordan kender du personen?"
DA_PHONE = "Dit telefonnummer"
DA_AGE = "Hvor gammel er personen?"
DA_MUNICIPALITY = "Hvilken kommune bor personen i?"
DA_OBSERVED = "Hvad har du set eller hørt?"
DA_WHEN = "Hvornår skete det?"
DA_SAFETY = (
    "Har personen truet nogen?",
    "Har personen brugt eller planlagt vold?",
    "Har personen adgang til våben?",
    "Planlægger personen at rejse, eller er der en dato, du er bekymret for?",
)
DA_SEND = "Send henvendelsen"
DA_RECEIVED = "Tak: vi har modtaget din henvendelse"
DA_CORRECT = "Ret venligst følgende"
DA_ADD = "Hvad vil du gerne tilføje?"
DA_SEND_INFORMATION = "Send oplysningerne"
DA_REPLY = "Tak for din henvendelse. Må vi ringe til dig i morgen?"
DA_ADDED = "Han har nu også købt en flybillet."
OBSERVED_TEXT = "Han har trukket sig fra vennerne og deler voldsforherligende videoer."


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with embedded_site(tmp_path_factory.mktemp("browser")) as (site, env):
        site.processes.add_staff(env, STAFF, PASSWORD)
        yield site


@pytest.fixture(autouse=True)
def _logs_on_failure(request: pytest.FixtureRequest, site: Site) -> None:
    remember_processes(request.node, site.processes)


# --- what a visitor does ------------------------------------------------------------------------


def fill_concern_form_in_danish(page: Page) -> None:
    # The first answer with the keyboard alone: focus the radio button, press space.
    page.get_by_label(DA_ROLE_RELATIVE).focus()
    page.keyboard.press("Space")
    expect(page.get_by_label(DA_ROLE_RELATIVE)).to_be_checked()
    page.get_by_label(DA_RELATION).fill("min søn")
    page.get_by_label(DA_PHONE).fill("20 12 34 56")
    page.get_by_role("group", name=DA_AGE).get_by_label("Under 18").check()
    page.get_by_label(DA_MUNICIPALITY).select_option(label="København")
    page.get_by_label(DA_OBSERVED).focus()
    page.keyboard.type(OBSERVED_TEXT)
    page.get_by_label(DA_WHEN).fill("siden sommer")
    for question in DA_SAFETY:
        page.get_by_role("group", name=question).get_by_label("Nej", exact=True).check()


def send_report(page: Page) -> str:
    """From the Danish form to the receipt page; returns the receipt code shown."""
    page.goto("/report/national")
    fill_concern_form_in_danish(page)
    page.get_by_role("button", name=DA_SEND).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(DA_RECEIVED)
    code = page.locator(".receipt-code code").inner_text().strip()
    assert RECEIPT.fullmatch(code), code
    return code


def send_incomplete_report(page: Page) -> None:
    page.goto("/report/national")
    page.get_by_label(DA_OBSERVED).fill(OBSERVED_TEXT)
    page.get_by_label(DA_RELATION).fill("en nabo")
    page.get_by_role("button", name=DA_SEND).click()
    expect(page.get_by_role("heading", name=DA_CORRECT)).to_be_visible()


def log_in(page: Page) -> None:
    log_in_as(page, STAFF, PASSWORD)


def staff_reply(browser: Browser, site: Site, body: str) -> int:
    """A staff member replies (staff API, as the staff pages will) to the newest contact."""
    context = new_context(browser, site)
    try:
        page = context.new_page()
        log_in(page)
        token = page.locator("input[name=csrf_token]").first.get_attribute("value")
        assert token
        # Contacts are numbered in order and this module's reports come one at a time.
        contact_id = 0
        while page.request.get(f"/api/v1/contacts/{contact_id + 1}/messages").status == 200:
            contact_id += 1
        assert contact_id, "no contact to reply to"
        response = page.request.post(
            f"/api/v1/contacts/{contact_id}/replies",
            data=json.dumps({"body": body}),
            headers={"X-CSRF-Token": token, "Content-Type": "application/json"},
        )
        assert response.status == 201, response.text()
        return contact_id
    finally:
        context.close()


def staff_thread(browser: Browser, site: Site, contact_id: int) -> list[dict[str, Any]]:
    context = new_context(browser, site)
    try:
        page = context.new_page()
        log_in(page)
        response = page.request.get(f"/api/v1/contacts/{contact_id}/messages")
        assert response.status == 200, response.text()
        messages: list[dict[str, Any]] = response.json()["messages"]
        return messages
    finally:
        context.close()


def open_follow_up(page: Page, code: str) -> None:
    page.goto("/follow-up")
    page.get_by_label("Kvitteringskode").fill(code)
    page.get_by_role("button", name="Tjek").click()
    expect(page.get_by_role("status")).to_contain_text("Din henvendelse blev modtaget")


def wait_for_queue_rows(page: Page, site: Site) -> None:
    """The in-process worker turns reports into cases; reload the queue until one shows."""

    def rows() -> bool:
        page.reload()
        return page.locator("table.queue tbody tr").count() > 0

    site.processes.poll(rows, "a case on the queue page", interval=0.25)


# --- the tests ----------------------------------------------------------------------------------


def test_a_danish_visitor_reports_a_concern(tab: Tab) -> None:
    page = tab.page
    page.goto("/report/national")
    expect(page.locator("html")).to_have_attribute("lang", "da")
    expect(page.get_by_role("heading", level=1)).to_have_text("Meld en bekymring")
    code = send_report(page)

    # The code works on the follow-up page.
    page.goto("/follow-up")
    page.get_by_label("Kvitteringskode").fill(code)
    page.get_by_role("button", name="Tjek").click()
    expect(page.get_by_role("status")).to_contain_text("Din henvendelse blev modtaget")


def test_the_reporter_reads_a_reply_and_adds_information(
    tab: Tab, browser: Browser, site: Site
) -> None:
    page = tab.page
    code = send_report(page)
    contact_id = staff_reply(browser, site, DA_REPLY)

    open_follow_up(page, code)
    thread = page.get_by_role("region", name="Beskeder")
    expect(thread.locator(".message")).to_have_count(1)
    expect(thread).to_contain_text(DA_REPLY)
    expect(thread).to_contain_text("Hotlinemedarbejder")

    # Sending nothing explains itself, and the form stays.
    page.get_by_role("button", name=DA_SEND_INFORMATION).click()
    expect(page.locator(".error-summary")).to_contain_text("Besvar venligst dette spørgsmål.")
    expect(page.get_by_label(DA_ADD)).to_have_attribute("aria-invalid", "true")

    page.get_by_label(DA_ADD).fill(DA_ADDED)
    page.get_by_role("button", name=DA_SEND_INFORMATION).click()
    expect(page.get_by_role("status")).to_contain_text("Tak, vi har modtaget dine oplysninger")
    expect(thread.locator(".message")).to_have_count(2)
    expect(thread.locator(".message").last).to_contain_text(DA_ADDED)
    expect(page.get_by_label(DA_ADD)).to_have_value("")

    messages = staff_thread(browser, site, contact_id)
    assert [(m["direction"], m["status"]) for m in messages] == [
        ("outbound", "read"),
        ("inbound", "received"),
    ]
    assert messages[1]["body"] == DA_ADDED


def test_an_incomplete_form_explains_itself_and_keeps_the_text(tab: Tab) -> None:
    page = tab.page
    send_incomplete_report(page)

    summary = page.locator(".error-summary")
    expect(summary).to_have_attribute("role", "alert")
    links = summary.get_by_role("link")
    targets = [links.nth(i).get_attribute("href") or "" for i in range(links.count())]
    for expected in ("#reporter_role", "#phone", "#person_age", "#municipality"):
        assert expected in targets, targets
    assert "#observed" not in targets, "a filled-in field is reported as missing"
    for target in targets:
        assert page.locator(target).count() == 1, f"the error link {target} leads nowhere"
    expect(summary).to_contain_text("Besvar venligst dette spørgsmål.")

    # The link takes the reader to the field, which says what is wrong with it.
    summary.get_by_role("link").first.click()
    assert page.evaluate("location.hash") == targets[0]
    expect(page.get_by_label(DA_PHONE)).to_have_attribute("aria-invalid", "true")

    # What was typed is still there.
    expect(page.get_by_label(DA_OBSERVED)).to_have_value(OBSERVED_TEXT)
    expect(page.get_by_label(DA_RELATION)).to_have_value("en nabo")
    expect(page.locator("html")).to_have_attribute("lang", "da")


def test_the_language_link_switches_to_english(tab: Tab) -> None:
    page = tab.page
    page.goto("/report/national")
    expect(page.get_by_label(DA_OBSERVED)).to_be_visible()
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Report a concern")
    expect(page.get_by_label("What have you seen or heard?")).to_be_visible()
    expect(page.get_by_label("Which municipality does the person live in?")).to_be_visible()
    # The choice is remembered on the next page, and the way back is offered in Danish.
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("link", name="Dansk")).to_be_visible()


def test_axe_finds_no_violations(browser: Browser, site: Site) -> None:
    # axe is injected as an inline script, which the site's CSP rightly forbids: bypass it here.
    context = new_context(browser, site, bypass_csp=True)
    try:
        page = context.new_page()
        found: dict[str, list[dict[str, Any]]] = {}

        def scan(name: str) -> None:
            found[name] = axe_violations(page)

        page.goto("/")
        scan("landing page")
        page.goto("/report/national")
        scan("concern form")
        send_incomplete_report(page)
        scan("concern form with errors")
        code = send_report(page)
        scan("receipt page")
        page.goto("/follow-up")
        scan("follow-up page")
        page.get_by_label("Kvitteringskode").fill("not a code")
        page.get_by_role("button", name="Tjek").click()
        expect(page.locator("#code-error")).to_be_visible()
        scan("follow-up page with an error")
        page.get_by_label("Kvitteringskode").fill(code)
        page.get_by_role("button", name="Tjek").click()
        expect(page.get_by_role("status")).to_be_visible()
        scan("follow-up page with a status")
        staff_reply(browser, site, DA_REPLY)
        open_follow_up(page, code)
        expect(page.locator(".message")).to_have_count(1)
        scan("follow-up page with a thread")
        page.get_by_role("button", name=DA_SEND_INFORMATION).click()
        expect(page.locator(".error-summary")).to_be_visible()
        scan("follow-up page with an error in the added information")
        page.get_by_label(DA_ADD).fill(DA_ADDED)
        page.get_by_role("button", name=DA_SEND_INFORMATION).click()
        expect(page.locator(".message")).to_have_count(2)
        scan("follow-up page after adding information")
        page.get_by_role("link", name="English").click()
        page.get_by_label("Receipt code").fill(code)
        page.get_by_role("button", name="Check").click()
        expect(page.get_by_role("region", name="Messages")).to_contain_text("Hotline staff")
        scan("follow-up page with a thread in English")
        page.goto("/follow-up?lang=da")
        page.goto("/login")
        scan("login page")
        log_in(page)
        wait_for_queue_rows(page, site)
        scan("queue page")
        page.goto("/no-such-page")
        scan("not-found page")
        page.goto("/report/national?lang=en")
        scan("concern form in English")

        assert_no_violations(found)
    finally:
        context.close()


def test_a_case_opens_from_the_queue_withoutaxe_violations(browser: Browser, site: Site) -> None:
    context = new_context(browser, site, bypass_csp=True)
    try:
        page = context.new_page()
        send_report(page)
        log_in(page)
        wait_for_queue_rows(page, site)
        link = page.locator("table.queue tbody tr th a").first
        reference = link.inner_text().strip()
        link.click()
        page.wait_for_url("**/cases/*")
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Sag {reference}")
        expect(page.get_by_role("heading", name="Tidslinje")).to_be_visible()
        found = {"case page": axe_violations(page)}
        page.get_by_role("button", name="Send svar").first.click()
        expect(page.locator(".error-summary")).to_be_visible()
        found["case page with a reply error"] = axe_violations(page)
        assert_no_violations(found)
    finally:
        context.close()


def test_the_api_reference_has_noaxe_violations(browser: Browser, site: Site) -> None:
    context = new_context(browser, site, bypass_csp=True)
    try:
        page = context.new_page()
        log_in(page)
        page.goto("/api/docs")
        expect(page.get_by_role("heading", level=1)).to_have_text("API-reference")
        expect(page.locator("#schema-QueueItem")).to_be_visible()
        found = {"API reference": axe_violations(page)}
        page.goto("/api/docs?lang=en")
        expect(page.get_by_role("heading", level=1)).to_have_text("API reference")
        page.get_by_role("link", name="QueueItem").first.click()
        expect(page.locator("#schema-QueueItem")).to_be_in_viewport()
        found["API reference in English"] = axe_violations(page)
        assert_no_violations(found)
    finally:
        context.close()


def test_the_form_fits_a_phone_screen(browser: Browser, site: Site) -> None:
    context = new_context(
        browser,
        site,
        viewport={"width": MOBILE_WIDTH, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    try:
        page = context.new_page()
        widths: dict[str, int] = {}

        def measure(name: str) -> None:
            widths[name] = int(page.evaluate("document.documentElement.scrollWidth"))

        page.goto("/")
        measure("landing page")
        page.goto("/report/national")
        measure("concern form")
        send_incomplete_report(page)
        measure("concern form with errors")
        send_report(page)
        measure("receipt page")

        too_wide = {name: width for name, width in widths.items() if width > MOBILE_WIDTH}
        assert not too_wide, f"horizontal scrolling at {MOBILE_WIDTH}px: {too_wide}"
    finally:
        context.close()


def _newest_cases(page: Page, site: Site, count: int, before: int) -> list[dict[str, Any]]:
    """The `count` newest open cases once the queue has `before + count` (jobs run in-process)."""

    def listed() -> list[dict[str, Any]] | None:
        items: list[dict[str, Any]] = page.request.get("/api/v1/queue?limit=200").json()["items"]
        return items if len(items) >= before + count else None

    items = site.processes.poll(listed, f"{count} new cases in the queue", interval=0.25)
    return sorted(items, key=lambda item: (item["received_at"], item["id"]))[-count:]


def test_the_case_page_with_notes_and_a_merge_has_noaxe_violations(
    browser: Browser, site: Site
) -> None:
    context = new_context(browser, site, bypass_csp=True)
    try:
        page = context.new_page()
        log_in(page)
        before = len(page.request.get("/api/v1/queue?limit=200").json()["items"])
        send_report(page)
        send_report(page)
        kept, merged = _newest_cases(page, site, 2, before)
        found: dict[str, list[dict[str, Any]]] = {}

        page.goto(f"/cases/{merged['id']}")
        note = page.get_by_label("Intern note", exact=True)
        note.fill("Ringede til skolen.\nLæreren bekræfter det.")
        page.get_by_role("button", name="Tilføj note").click()
        timeline = page.locator("ol.timeline")
        expect(timeline.locator(".note-text")).to_have_text(
            "Ringede til skolen.\nLæreren bekræfter det."
        )
        expect(note).to_have_value("")
        found["case page with a note"] = axe_violations(page)
        page.get_by_role("button", name="Tilføj note").click()
        expect(page.locator(".error-summary")).to_contain_text("Skriv en note på 1 til 4000 tegn.")
        expect(note).to_have_attribute("aria-invalid", "true")
        found["case page with a note error"] = axe_violations(page)

        merge_field = page.get_by_label("Læg sammen med sagen om samme person, med referencen")
        merge_field.fill("NAT-0000-00000")
        page.get_by_role("button", name="Læg sammen med den sag").click()
        expect(page.locator(".error-summary")).to_contain_text("Ingen sag har denne reference.")
        found["case page with a merge error"] = axe_violations(page)
        merge_field.fill(kept["reference"])
        page.get_by_role("button", name="Læg sammen med den sag").click()
        page.wait_for_url(f"**/cases/{kept['id']}")
        expect(timeline).to_contain_text(
            f"Sag {merged['reference']} blev lagt sammen med denne sag"
        )
        found["the case merged into"] = axe_violations(page)

        page.goto(f"/cases/{merged['id']}")
        expect(page.locator(".merged-notice")).to_contain_text(kept["reference"])
        expect(page.get_by_role("heading", name="Frister")).to_be_visible()
        page.get_by_role("button", name="Genåbn sagen").click()
        expect(page.locator(".error-summary")).to_contain_text("Skriv, hvorfor sagen genåbnes.")
        found["the merged case, with a reopen error"] = axe_violations(page)
        page.goto(f"/cases/{merged['id']}?lang=en")
        expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
        found["the merged case in English"] = axe_violations(page)
        page.goto(f"/cases/{merged['id']}?lang=da")

        assert_no_violations(found)
    finally:
        context.close()
