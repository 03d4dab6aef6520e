"""The triage form in a real Chromium: filled in and submitted in Danish, errors, axe-core.

One `hotline serve` on embedded defaults (SQLite, in-process jobs) serves the module. Each test
reports its own concern through the public form and triages the case that report opened.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

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
from tests.e2e.conftest import remember_processes
from tests.e2e.test_browser import PASSWORD, STAFF, log_in, send_report, wait_for_queue_rows

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

OBSERVED = "Han deler voldsforherligende videoer og har trukket sig fra vennerne."
RATIONALE = "Adfærden er taget til over tre måneder; familien beder om hjælp."
CASE_LINK = re.compile(r"/cases/(\d+)$")

DA_START = "Start vurderingen"
DA_SAVE = "Gem kladde"
DA_SUBMIT = "Indsend vurdering"
DA_SAVED = "Kladden er gemt."
DA_CORRECT = "Ret venligst følgende"
DA_REQUIRED = "Besvar venligst dette spørgsmål."
DA_CHILD_WELFARE = "Er barnets trivsel truet?"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with embedded_site(tmp_path_factory.mktemp("triage-browser")) as (site, env):
        site.processes.add_staff(env, STAFF, PASSWORD)
        yield site


@pytest.fixture(autouse=True)
def _logs_on_failure(request: pytest.FixtureRequest, site: Site) -> None:
    remember_processes(request.node, site.processes)


def open_newest_case(page: Page, site: Site) -> int:
    """Report a concern, log in, and open the case it became; returns the case id."""
    send_report(page)
    log_in(page)
    wait_for_queue_rows(page, site)
    links = page.locator("table.queue tbody tr th a")
    ids = []
    for i in range(links.count()):
        match = CASE_LINK.search(links.nth(i).get_attribute("href") or "")
        assert match, "a queue row without a case link"
        ids.append(int(match.group(1)))
    case_id = max(ids)  # the report just sent opened the newest case
    page.goto(f"/cases/{case_id}")
    return case_id


def fill_in_an_adult_justified_concern(page: Page) -> None:
    page.get_by_label("18–24", exact=True).check()
    page.get_by_label("Personens bopælskommune").select_option(label="København")
    page.get_by_label("Højreekstremisme").check()
    # The reporter's role comes from the report (a relative), already chosen.
    expect(page.get_by_label("Pårørende", exact=True)).to_be_checked()
    page.get_by_label("Den henvendendes bopælskommune").select_option(label="Frederiksberg")
    page.get_by_label("Hvad er der observeret?").fill(OBSERVED)
    page.get_by_label("Først observeret").fill("2025-12-01")
    page.get_by_label("Kendt af hotlinen, må ikke gives videre").check()
    consent = page.get_by_role("group", name="Giver den henvendende samtykke")
    consent.get_by_label("Ja", exact=True).check()
    page.get_by_label("Begrundet bekymring: send den videre").check()


def test_a_counsellor_triages_a_concern_as_justified(tab: Tab, site: Site) -> None:
    page = tab.page
    case_id = open_newest_case(page, site)
    page.get_by_role("link", name=DA_START).click()
    page.wait_for_url(f"**/cases/{case_id}/triage")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Vurdering af sag")

    # The safety block comes first; the minors' question shows only for a minor (script).
    expect(page.get_by_role("group").first).to_contain_text("Sikkerhed og akut fare")
    expect(page.get_by_role("group", name=DA_CHILD_WELFARE)).to_be_hidden()
    page.get_by_label("Under 15", exact=True).check()
    expect(page.get_by_role("group", name=DA_CHILD_WELFARE)).to_be_visible()

    # Submitting too early explains itself in Danish and keeps what was chosen.
    page.get_by_role("button", name=DA_SUBMIT).click()
    summary = page.locator(".error-summary")
    expect(summary.get_by_role("heading", name=DA_CORRECT)).to_be_visible()
    expect(summary).to_contain_text(DA_REQUIRED)
    expect(summary).to_contain_text("Personen er under 18: angiv, om barnets trivsel er truet.")
    expect(page.locator("#rationale")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Under 15", exact=True)).to_be_checked()

    fill_in_an_adult_justified_concern(page)
    expect(page.get_by_role("group", name=DA_CHILD_WELFARE)).to_be_hidden()
    page.get_by_role("button", name=DA_SAVE).click()
    expect(page.get_by_role("status")).to_contain_text(DA_SAVED)
    expect(page.get_by_label("Hvad er der observeret?")).to_have_value(OBSERVED)

    page.get_by_label("Begrundelse").fill(RATIONALE)
    page.get_by_role("button", name=DA_SUBMIT).click()
    page.wait_for_url(f"**/cases/{case_id}#triage")
    expect(page.locator(".case-summary").first).to_contain_text("Begrundet, skal videresendes")
    triage = page.get_by_role("region", name="Vurdering", exact=True)
    expect(triage).to_contain_text("Seneste indsendte vurdering")
    expect(triage).to_contain_text("Begrundet bekymring")
    expect(triage).to_contain_text(OBSERVED)
    expect(triage).to_contain_text(RATIONALE)
    expect(triage).to_contain_text("Frederiksberg")


def test_the_triage_pages_have_noaxe_violations(browser: Browser, site: Site) -> None:
    # axe is injected as an inline script, which the site's CSP rightly forbids: bypass it here.
    context = new_context(browser, site, bypass_csp=True)
    try:
        page = context.new_page()
        found: dict[str, list[dict[str, object]]] = {}
        case_id = open_newest_case(page, site)
        found["case page before triage"] = axe_violations(page)
        page.goto(f"/cases/{case_id}/triage")
        found["triage form"] = axe_violations(page)
        page.get_by_label("Trusler mod nogen").check()
        page.get_by_role("button", name=DA_SUBMIT).click()
        expect(page.locator(".error-summary")).to_contain_text(
            "registrér, hvordan politiet blev inddraget"
        )
        found["triage form with errors"] = axe_violations(page)

        page.get_by_label("Vi kontaktede politiet").check()
        page.get_by_label("Af hvem?").fill("Hanne")
        page.get_by_label("Hvornår?").fill("2026-01-05T10:15")
        page.get_by_label("15–17", exact=True).check()
        page.get_by_role("group", name=DA_CHILD_WELFARE).get_by_label("Ja", exact=True).check()
        fill_in_an_adult_justified_concern(page)
        page.get_by_label("15–17", exact=True).check()  # the filler chose an adult's band
        page.get_by_label("Begrundelse").fill(RATIONALE)
        page.get_by_role("button", name=DA_SUBMIT).click()
        page.wait_for_url(f"**/cases/{case_id}#triage")
        expect(page.get_by_text("Til København Kommune")).to_be_visible()
        found["case page with a triage and a notification"] = axe_violations(page)

        page.get_by_role("button", name="Markér som sendt").click()
        expect(page.locator(".error-summary")).to_contain_text(DA_REQUIRED)
        found["case page with a notification error"] = axe_violations(page)
        page.get_by_label("Hvordan blev den sendt?").fill("Digital post")
        page.get_by_role("button", name="Markér som sendt").click()
        expect(page.get_by_text("sendt af")).to_be_visible()

        assert_no_violations(found)
    finally:
        context.close()
