"""Alerts in a real Chromium: the queue's banner, the alerts page, acknowledging there, and the
case page's escalation section — with axe-core on each, in Danish and English.

One `hotline serve` on embedded defaults (its jobs and sweeps in-process) on a test clock file,
so the case's visitation deadline is at 44 hours (three steps fired) as soon as the test says.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from clock import FileClock
from crypto import DataCipher
from db import make_sync_engine
from notifications.alert_models import Alert
from tests.conftest import DATA_KEY, SECRET_KEY
from tests.e2e.browser_kit import Site, axe_violations, describe, new_context
from tests.e2e.conftest import remember_processes
from tests.support.escalation import PASSWORD, make_team, visitation_case
from tests.support.processes import Processes

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@dataclass
class AlertSite(Site):
    engine: Engine
    case_id: int


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AlertSite]:
    root = tmp_path_factory.mktemp("alerts-browser")
    processes = Processes(root / "logs")
    clock_file = root / "clock"
    FileClock.write(clock_file, START)
    data_dir: Path = root / "var"
    env = {
        "HOTLINE_DATA_DIR": str(data_dir),
        "HOTLINE_COOKIE_SECURE": "false",
        "HOTLINE_SECRET_KEY": SECRET_KEY,
        "HOTLINE_DATA_KEY": DATA_KEY,
        "HOTLINE_TEST_CLOCK_FILE": str(clock_file),
        "HOTLINE_ALLOW_TEST_CLOCK": "true",
        "HOTLINE_SWEEP_SECONDS": "0.5",
    }
    engine = make_sync_engine(
        f"sqlite+aiosqlite:///{(data_dir / 'hotline.db').resolve()}",
        DataCipher([DATA_KEY], lookup_secret=SECRET_KEY.encode()),
    )
    try:
        server = processes.serve(env)  # migrates the embedded database on start
        with Session(engine) as session, session.begin():
            team = make_team(session, START)
        with Session(engine) as session, session.begin():
            case_id, _ = visitation_case(session, started_at=START, assignee_id=team.anne)
        FileClock.write(clock_file, START + timedelta(hours=44))

        def three_alerts() -> bool:
            with Session(engine) as session:
                return len(session.scalars(select(Alert.id)).all()) == 3

        processes.poll(three_alerts, "three alerts at 44 hours")
        yield AlertSite(str(server.base_url), processes, engine, case_id)
    finally:
        processes.stop_all()
        engine.dispose()


@pytest.fixture(autouse=True)
def _logs_on_failure(request: pytest.FixtureRequest, site: AlertSite) -> None:
    remember_processes(request.node, site.processes)


def log_in(page: Page, username: str) -> None:
    page.goto("/login?next=/queue")
    page.get_by_label("Brugernavn").fill(username)
    page.get_by_label("Adgangskode").fill(PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_url("**/queue")


def test_alerts_are_acknowledged_in_the_browser_and_every_page_passes_axe(
    browser: Browser,
    site: AlertSite,
) -> None:
    # axe is injected as an inline script, which the site's CSP rightly forbids: bypass it here.
    context = new_context(browser, site, bypass_csp=True)
    try:
        page = context.new_page()
        found: dict[str, list[dict[str, Any]]] = {}
        log_in(page, "bo")
        expect(
            page.get_by_role("link", name="Alarmer, der venter på kvittering: 3")
        ).to_be_visible()
        found["queue with the alerts banner"] = axe_violations(page)

        page.get_by_role("link", name="Alarmer, der venter på kvittering: 3").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Alarmer")
        waiting = page.locator("#open-title")
        expect(waiting).to_contain_text("(3)")
        found["alerts page"] = axe_violations(page)

        first = page.locator("table.alerts tbody tr").first
        expect(first).to_contain_text("Fristen udløber snart")  # Bo's own comes first
        expect(first).to_contain_text("(dig)")
        first.get_by_role("button", name="Kvittér").click()
        expect(waiting).to_contain_text("(2)")
        expect(page.locator("#closed-title + table")).to_contain_text("Kvitteret af Bo i systemet")
        found["alerts page after acknowledging"] = axe_violations(page)

        page.goto(f"/cases/{site.case_id}")
        section = page.locator("section[aria-labelledby=escalation-title]")
        expect(section).to_contain_text("Visitationsfrist: Fristen er overskredet")
        expect(section).to_contain_text("Kvitteret af Bo i systemet")
        found["case page with its escalation"] = axe_violations(page)
        page.goto(f"/cases/{site.case_id}?lang=en")
        expect(page.locator("#escalation-title")).to_have_text("Escalation")
        found["case page in English"] = axe_violations(page)
        page.goto("/alerts?lang=en")
        found["alerts page in English"] = axe_violations(page)

        assert not any(found.values()), "axe-core found violations:\n" + describe(found)
    finally:
        context.close()
