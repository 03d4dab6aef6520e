"""The on-call page in a real Chromium: an admin sets up a rotation and an override in Danish,
refusals beside their fields, and axe-core on every state of the page and the contact pages.

One `hotline serve` on embedded defaults serves the module, with staff (and their phone numbers)
added by `hotline staff add`. The server runs on the real clock, so who is on call now is
worked out here with the same pure core.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from notifications.oncall import Rotation
from tests.e2e.browser_kit import (
    Site,
    Tab,
    assert_no_violations,
    axe_violations,
    embedded_site,
    new_context,
)
from tests.e2e.browser_kit import (
    log_in as log_in_as,
)
from tests.e2e.conftest import remember_processes

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PASSWORD = "a long password for on-call tests"
CPH = ZoneInfo("Europe/Copenhagen")
# username, display name, role, phone (None: no phone number)
STAFF = (
    ("vagt-lise", "Lise Leder", "admin", "20 12 34 55"),
    ("vagt-anne", "Anne Berg", "hotline", "20 12 34 11"),
    ("vagt-bo", "Bo Dahl", "hotline", "+45 20 12 34 22"),
    ("vagt-nils", "Nils Ny", "hotline", None),
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with embedded_site(tmp_path_factory.mktemp("oncall-browser")) as (site, env):
        for username, name, role, phone in STAFF:
            arguments = ["staff", "add", username, "--password-stdin", "--role", role]
            arguments += ["--name", name] + (["--phone", phone] if phone else [])
            result = site.processes.run(arguments, env, input_text=PASSWORD + "\n")
            assert result.returncode == 0, result.stderr
        yield site


@pytest.fixture(autouse=True)
def _logs_on_failure(request: pytest.FixtureRequest, site: Site) -> None:
    remember_processes(request.node, site.processes)


def log_in(page: Page, username: str) -> None:
    log_in_as(page, username, PASSWORD, start="/login?next=/on-call", landing="**/on-call")


def section(page: Page, hotline: str) -> Locator:
    return page.locator(f"#hotline-{hotline}")


def today() -> date:
    return datetime.now(CPH).date()


def fill_rotation(part: Locator, order: tuple[str, ...], start: date) -> None:
    for place, name in enumerate(order, start=1):
        part.get_by_label(name, exact=True).fill(str(place))
    part.get_by_label("Startdato").fill(start.isoformat())
    part.get_by_label("Dag for vagtskifte").select_option(label="mandag")
    part.get_by_label("Klokkeslæt for vagtskifte").fill("09:00")
    part.get_by_label("Teamleder").select_option(label="Lise Leder")


def on_call_now(order: tuple[str, ...], start: date) -> str:
    """Who the rotation puts on call now, as the server will work it out."""
    rotation = Rotation(participants=tuple(range(len(order))), start=start)
    index = rotation.on_call_at(datetime.now(UTC))
    assert index is not None
    return order[index]


def test_an_admin_sets_up_on_call_and_covers_a_day(tab: Tab) -> None:
    page = tab.page
    log_in(page, "vagt-lise")
    expect(page.get_by_role("heading", level=1)).to_have_text("Vagt")
    national = section(page, "national")
    expect(national).to_contain_text("Denne hotline har endnu ingen vagtplan.")

    national.get_by_text("Opret en vagtplan for denne hotline").click()
    order = ("Anne Berg", "Bo Dahl")
    start = today() - timedelta(days=7)
    fill_rotation(national, order, start)
    national.get_by_role("button", name="Opret vagtplan").click()
    expect(page.get_by_role("status")).to_have_text("Vagtplanen er oprettet.")
    national = section(page, "national")
    expect(national).to_contain_text(f"Har vagt nu {on_call_now(order, start)}, +4520123")
    expect(national).to_contain_text("Teamleder Lise Leder, +4520123455")
    expect(national).to_contain_text("Hver mandag kl. 09:00 (Europe/Copenhagen)")

    # Someone without a phone number cannot cover: said beside the field, in Danish.
    national.get_by_text("Tilføj en afvigelse").click()
    tomorrow = (today() + timedelta(days=1)).isoformat()
    who = national.get_by_label("Hvem har vagt i stedet")
    who.select_option(label="Nils Ny (intet telefonnummer)")
    national.get_by_label("Fra", exact=True).fill(f"{tomorrow}T08:00")
    national.get_by_label("Til", exact=True).fill(f"{tomorrow}T08:00")
    national.get_by_role("button", name="Tilføj afvigelse").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Ret venligst følgende")
    expect(summary).to_contain_text("Sluttidspunktet skal ligge efter starttidspunktet.")
    national = section(page, "national")
    expect(national.get_by_label("Til", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(national.get_by_label("Fra", exact=True)).to_have_value(f"{tomorrow}T08:00")

    national.get_by_label("Til", exact=True).fill(f"{tomorrow}T20:00")
    national.get_by_role("button", name="Tilføj afvigelse").click()
    expect(page.locator(".error-summary")).to_contain_text(
        "Nils Ny har intet telefonnummer, så vagtalarmer kan ikke nå vedkommende."
    )
    national = section(page, "national")
    national.get_by_label("Hvem har vagt i stedet").select_option(label="Bo Dahl")
    national.get_by_label("Årsag").select_option(label="Bytte")
    national.get_by_role("button", name="Tilføj afvigelse").click()
    expect(page.get_by_role("status")).to_have_text("Afvigelsen er tilføjet.")
    overrides = section(page, "national").get_by_role("table", name="Afvigelser")
    cells = overrides.get_by_role("row").nth(1).get_by_role("cell")
    expect(cells.nth(0)).to_contain_text("08.00")
    expect(cells.nth(1)).to_contain_text("20.00")
    expect(cells.nth(2)).to_have_text("Bo Dahl, +4520123422")
    expect(cells.nth(3)).to_have_text("Bytte")

    overrides.get_by_role("button", name="Fjern").click()
    expect(page.get_by_role("status")).to_have_text("Afvigelsen er fjernet.")
    expect(section(page, "national")).to_contain_text("Ingen kommende afvigelser.")


def test_the_on_call_and_contact_pages_have_noaxe_violations(
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

        log_in(page, "vagt-lise")
        scan("on-call page (admin)")
        copenhagen = section(page, "copenhagen")
        copenhagen.get_by_text("Opret en vagtplan for denne hotline").click()
        copenhagen.get_by_role("button", name="Opret vagtplan").click()
        expect(page.locator(".error-summary")).to_contain_text(
            "Vælg mindst én person til vagtplanen."
        )
        scan("on-call page with errors in the rotation")
        copenhagen = section(page, "copenhagen")
        order = ("Bo Dahl", "Anne Berg")
        fill_rotation(copenhagen, order, today() - timedelta(days=14))
        copenhagen.get_by_role("button", name="Opret vagtplan").click()
        expect(page.get_by_role("status")).to_have_text("Vagtplanen er oprettet.")
        copenhagen = section(page, "copenhagen")
        copenhagen.get_by_text("Tilføj en afvigelse").click()
        copenhagen.get_by_role("button", name="Tilføj afvigelse").click()
        expect(page.locator(".error-summary")).to_contain_text("Vælg venligst en af mulighederne.")
        scan("on-call page with errors in an override")
        page.goto("/on-call?lang=en")
        expect(page.get_by_role("heading", level=1)).to_have_text("On call")
        scan("on-call page in English")

        page.goto("/staff?lang=da")
        scan("staff contact details")
        page.get_by_role("link", name="Nils Ny").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Kontaktoplysninger for Nils Ny")
        page.get_by_label("Telefonnummer").fill("12")
        page.get_by_role("button", name="Gem").click()
        expect(page.locator("#phone-error")).to_contain_text("Telefonnummeret er ikke gyldigt.")
        scan("contact details with an error")

        page.get_by_role("button", name="Log ud").click()
        log_in(page, "vagt-anne")
        expect(page.get_by_role("button", name="Tilføj afvigelse")).to_have_count(0)
        scan("on-call page (hotline staff)")
        page.get_by_role("link", name="Mine kontaktoplysninger").click()
        expect(page.get_by_label("Telefonnummer")).to_have_value("+4520123411")
        scan("my contact details")

        assert_no_violations(found)
    finally:
        context.close()
