"""Administrators configure each hotline's deadlines: the page (checked in the reader's
language), the JSON API and `hotline deadlines`; a refusal names the field and changes
nothing. The command: test_deadlines_cli.py."""

from __future__ import annotations

import html
import json
from typing import Any

import pytest
from sqlalchemy import select

from access.models import AuditEntry, Role
from bootstrap import Deps
from denmark.closed_days import Closures
from intake.models import Hotline
from tests.support.forms import csrf_token
from tests.support.openapi import assert_matches, served_document
from tests.support.staff import create_staff, log_in
from triage.deadline_config import DeadlineValues, values_of
from triage.models import ClockMode, DeadlineKind

pytestmark = pytest.mark.asyncio

ADMIN = "anne"
FORM = "/admin/deadlines/national"
API = "/api/v1/hotlines/national/deadlines"
WEEKDAYS = {day: [["08:00", "16:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
DEFAULTS = DeadlineValues(
    triage_minutes=1440,
    visitation_minutes=2880,
    clock_mode=ClockMode.CALENDAR,
    business_hours=WEEKDAYS,
    closures=Closures(),
    policies={DeadlineKind.TRIAGE: None, DeadlineKind.VISITATION: None},
)
POLICY = {
    "repeat_every": "10m",
    "escalate_after": "20m",
    "steps": [
        {"name": "warning", "at": "30h", "audience": "team_lead", "kind": "warning"},
        {
            "name": "overdue",
            "at": "48h",
            "audience": "on_call_and_team_lead",
            "kind": "overdue",
            "repeats": True,
        },
    ],
}


async def stored(deps: Deps, hotline_id: str = "national") -> DeadlineValues:
    async with deps.sessions() as session:
        return values_of(await session.get_one(Hotline, hotline_id, populate_existing=True))


async def as_admin(client: Any, deps: Deps) -> None:
    create_staff(deps, username=ADMIN, role=Role.ADMIN)
    response = await log_in(client, username=ADMIN)
    assert response.status == 303


async def page(client: Any, path: str, status: int = 200) -> str:
    response = await client.get(path)
    assert response.status == status, await response.text()
    return html.unescape(await response.text())


def form(**changes: str | list[str]) -> list[tuple[str, str]]:
    """The form as the stored defaults fill it, with `changes`."""
    fields: dict[str, str | list[str]] = {
        "triage_hours": "24",
        "visitation_hours": "48",
        "clock_mode": "calendar",
        **{f"hours-{day}": "08:00-16:00" for day in WEEKDAYS},
        "hours-sat": "",
        "hours-sun": "",
        "closed_on": ["24dec", "31dec"],
        "triage_policy": "",
        "visitation_policy": "",
    }
    fields.update(changes)
    posted: list[tuple[str, str]] = []
    for name, value in fields.items():
        for one in value if isinstance(value, list) else [value]:
            posted.append((name, one))
    return posted


async def post(client: Any, fields: list[tuple[str, str]], *, lang: str = "da") -> Any:
    token = csrf_token(await page(client, f"{FORM}?lang={lang}"))
    return await client.post(FORM, data=[("csrf_token", token), *fields], allow_redirects=False)


# --- the page -----------------------------------------------------------------------------------


async def test_the_pages_show_what_is_in_force(client: Any, deps: Deps) -> None:
    await as_admin(client, deps)
    listing = await page(client, "/admin/deadlines?lang=da")
    assert "Frister" in listing
    assert 'href="/admin/deadlines/copenhagen"' in listing
    assert "Kalendertimer" in listing
    shown = await page(client, f"{FORM}?lang=en")
    assert 'value="24"' in shown
    assert 'value="48"' in shown
    assert 'id="hours-mon" name="hours-mon" value="08:00-16:00"' in shown
    assert 'id="hours-sat" name="hours-sat" value=""' in shown
    # The default escalation, in words.
    assert "At 36 h: Warning to the team lead" in shown
    assert "At 44 h: Approaching to on call (repeated until acknowledged)" in shown
    assert 'value="calendar" checked' in shown
    assert 'value="24dec" checked' in shown
    assert 'value="5jun">' in shown


async def test_the_page_refuses_in_danish_and_changes_nothing(client: Any, deps: Deps) -> None:
    await as_admin(client, deps)
    response = await post(
        client,
        form(
            triage_hours="tre dage",
            clock_mode="business_hours",
            **{"hours-tue": "8-16", "visitation_policy": '{"steps": [oops]}'},
        ),
    )
    assert response.status == 400
    text = html.unescape(await response.text())
    assert "Skriv et antal timer over 0 og højst 336" in text
    assert "Skriv åbningstiden som 08:00-16:00" in text
    assert "Eskaleringsplanen er ikke gyldig JSON (linje 1, kolonne 12)" in text
    # Each problem beside its field and linked from the summary; what was typed stays.
    assert 'id="triage_hours-error"' in text
    assert 'href="#hours-tue"' in text
    assert 'href="#visitation_policy"' in text
    assert 'value="tre dage"' in text
    assert 'value="8-16"' in text
    assert await stored(deps) == DEFAULTS

    response = await post(client, form(visitation_policy=json.dumps({"steps": [{"name": "x"}]})))
    assert response.status == 400
    text = html.unescape(await response.text())
    assert "Eskaleringsplanen er ikke gyldig: steps[0].at: is required" in text

    closed_all_week = {f"hours-{day}": "" for day in WEEKDAYS}
    response = await post(client, form(clock_mode="business_hours", **closed_all_week))
    assert response.status == 400
    assert "Åbningstid kræver åbent på mindst én dag" in html.unescape(await response.text())
    assert await stored(deps) == DEFAULTS


async def test_the_page_saves_and_says_running_deadlines_stay(client: Any, deps: Deps) -> None:
    await as_admin(client, deps)
    response = await post(
        client,
        form(
            triage_hours="12",
            visitation_hours="1:30",
            clock_mode="business_hours",
            closed_on=["5jun"],
            visitation_policy=json.dumps(POLICY),
            **{"hours-mon": "09:00-12:00, 13:00-17:00", "hours-sat": "10:00-14:00"},
        ),
    )
    assert response.status == 303, await response.text()
    assert response.headers["Location"] == f"{FORM}?done=saved"
    values = await stored(deps)
    assert (values.triage_minutes, values.visitation_minutes) == (720, 90)
    assert values.clock_mode is ClockMode.BUSINESS_HOURS
    assert values.business_hours["mon"] == [["09:00", "12:00"], ["13:00", "17:00"]]
    assert values.business_hours["sat"] == [["10:00", "14:00"]]
    assert values.closures == Closures(
        constitution_day=True, christmas_eve=False, new_years_eve=False
    )
    # Stored complete, as the escalation module writes it back.
    assert values.policies[DeadlineKind.VISITATION] == {
        "repeat_every": "10m",
        "escalate_after": "20m",
        "steps": [
            {
                "name": "warning",
                "at": "30h",
                "audience": "team_lead",
                "kind": "warning",
                "repeats": False,
            },
            {
                "name": "overdue",
                "at": "48h",
                "audience": "on_call_and_team_lead",
                "kind": "overdue",
                "repeats": True,
            },
        ],
    }
    assert values.policies[DeadlineKind.TRIAGE] is None
    # The other hotline is untouched.
    assert await stored(deps, "copenhagen") == DEFAULTS

    shown = await page(client, f"{FORM}?done=saved&lang=en")
    assert "Deadlines already running keep their due time" in shown
    assert 'value="1:30"' in shown
    assert "At 30 h: Warning to the team lead" in shown

    async with deps.sessions() as session:
        audits = list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "deadlines_changed")
            )
        )
    assert len(audits) == 1
    assert audits[0].subject_id == "national"
    assert set(audits[0].detail["fields"]) >= {"triage_minutes", "visitation_policy"}


async def test_only_administrators_configure_deadlines(client: Any, deps: Deps) -> None:
    create_staff(deps, username="hanne", role=Role.HOTLINE)
    response = await log_in(client, username="hanne")
    assert response.status == 303
    assert (await client.get(FORM, allow_redirects=False)).status == 403
    assert (await client.get(API)).status == 403
    await as_admin(client, deps)
    assert (await client.get("/admin/deadlines/nowhere")).status == 404
    assert (await client.get("/api/v1/hotlines/nowhere/deadlines")).status == 404


# --- the API ------------------------------------------------------------------------------------


async def test_the_api_reads_and_replaces_the_configuration(client: Any, deps: Deps) -> None:
    await as_admin(client, deps)
    document = await served_document(client)
    token = csrf_token(await page(client, FORM))
    headers = {"X-CSRF-Token": token}

    response = await client.get(API)
    assert response.status == 200
    body = await response.json()
    assert_matches(document, "GET", API, 200, body)
    assert body["triage_hours"] == 24
    assert body["clock_mode"] == "calendar"
    assert body["policies"] == {"triage": None, "visitation": None}
    assert [s["at"] for s in body["effective_policies"]["visitation"]["steps"]] == [
        "24h",
        "36h",
        "44h",
        "48h",
    ]

    wanted = {
        "triage_hours": 8,
        "visitation_hours": 50 / 60,
        "clock_mode": "business_hours",
        "business_hours": {"mon": [["08:00", "12:00"]], "fri": [["8:00", "12:00"]]},
        "closed_on": {"constitution_day": False, "christmas_eve": True, "new_years_eve": False},
        "policies": {"visitation": POLICY},
    }
    response = await client.put(API, json=wanted, headers=headers)
    assert response.status == 200, await response.text()
    body = await response.json()
    assert_matches(document, "PUT", API, 200, body)
    values = await stored(deps)
    assert (values.triage_minutes, values.visitation_minutes) == (480, 50)
    assert values.business_hours == {"mon": [["08:00", "12:00"]], "fri": [["08:00", "12:00"]]}
    assert body["effective_policies"]["visitation"]["repeat_every"] == "10m"
    # What GET answers, PUT takes back (less the read-only fields).
    again = {
        k: v for k, v in body.items() if k not in ("hotline_id", "timezone", "effective_policies")
    }
    assert (await client.put(API, json=again, headers=headers)).status == 200
    assert await stored(deps) == values


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"business_hours": {"mon": [["16:00", "08:00"]]}}, "business_hours.mon"),
        ({"business_hours": {"funday": [["08:00", "16:00"]]}}, "business_hours"),
        ({"clock_mode": "business_hours", "business_hours": {}}, "business_hours"),
        ({"triage_hours": 1 / 120}, "triage_hours"),
        ({"triage_hours": 0}, "triage_hours"),
        ({"policies": {"triage": {"steps": [{"name": "a"}]}}}, "policies.triage"),
        ({"policies": {"sometimes": None}}, "policies.sometimes"),
        ({"closed_on": {"christmas_eve": True}}, "closed_on.constitution_day"),
    ],
)
async def test_the_api_refuses_naming_the_field(
    client: Any, deps: Deps, change: dict[str, Any], field: str
) -> None:
    await as_admin(client, deps)
    token = csrf_token(await page(client, FORM))
    body = {
        "triage_hours": 24,
        "visitation_hours": 48,
        "clock_mode": "calendar",
        "business_hours": WEEKDAYS,
        "closed_on": {"constitution_day": False, "christmas_eve": True, "new_years_eve": True},
        **change,
    }
    response = await client.put(API, json=body, headers={"X-CSRF-Token": token})
    assert response.status == 400, await response.text()
    error = (await response.json())["error"]
    assert error["field"] == field, error
    assert await stored(deps) == DEFAULTS
