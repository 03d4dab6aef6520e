"""On-call schedules end to end: who is on call now and next (overrides, handovers, summer time)
through the API and the page, the escalation chain alert jobs ask for, the page's and the API's
refusals naming their fields, and who may change what."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from access.models import AuditEntry, Role, StaffUser
from bootstrap import Deps
from clock import FrozenClock
from notifications import oncall_service
from notifications.models import OncallOverride, OncallSchedule
from notifications.oncall import OverrideReason
from notifications.staff_contacts import set_contact
from tests.support.forms import csrf_token
from tests.support.openapi import assert_matches, served_document
from tests.support.staff import STAFF_PASSWORD, create_staff, log_in

pytestmark = pytest.mark.asyncio

CPH = ZoneInfo("Europe/Copenhagen")


@dataclass(frozen=True)
class Team:
    anne: int
    bo: int
    carl: int
    dorte: int
    lise: int  # admin, the team lead
    nils: int  # no phone number
    olga: int  # an account that is not active


def member(deps: Deps, username: str, phone: str | None, role: Role = Role.HOTLINE) -> int:
    staff_id = create_staff(deps, username=username, role=role)
    if phone is not None:
        with deps.job_context().transaction() as session:
            changes = {"phone": phone, "email": f"{username}@example.org"}
            set_contact(session, staff_id, changes, actor_id=None, now=deps.clock.now())
    return staff_id


def team(deps: Deps) -> Team:
    found = Team(
        anne=member(deps, "anne", "20 12 34 11"),
        bo=member(deps, "bo", "20 12 34 22"),
        carl=member(deps, "carl", "20 12 34 33"),
        dorte=member(deps, "dorte", "20 12 34 44"),
        lise=member(deps, "lise", "+45 20 12 34 55", Role.ADMIN),
        nils=member(deps, "nils", None),
        olga=member(deps, "olga", "20 12 34 66"),
    )
    with deps.job_context().transaction() as session:
        session.execute(update(StaffUser).where(StaffUser.id == found.olga).values(active=False))
    return found


def rotation(people: Team, **changes: Any) -> dict[str, Any]:
    """Weekly from Monday 2 March 2026, 09:00 Copenhagen time: Anne, Bo, Carl; lead Lise."""
    body = {
        "participants": [people.anne, people.bo, people.carl],
        "start_date": "2026-03-02",
        "handoff_weekday": 0,
        "handoff_time": "09:00",
        "team_lead_id": people.lise,
    }
    body.update(changes)
    return body


async def as_user(client: Any, username: str) -> dict[str, str]:
    """Log in as `username`; returns the CSRF header for the API."""
    assert (await log_in(client, username=username, password=STAFF_PASSWORD)).status == 303
    page = await client.get("/on-call")
    assert page.status == 200
    return {"X-CSRF-Token": csrf_token(await page.text())}


async def page_token(client: Any) -> str:
    return csrf_token(await (await client.get("/on-call")).text())


async def set_up(client: Any, people: Team, **changes: Any) -> int:
    """The national hotline's schedule, made through the API by the admin; returns its id."""
    headers = await as_user(client, "lise")
    response = await client.post(
        "/api/v1/on-call",
        json={"hotline_id": "national", **rotation(people, **changes)},
        headers=headers,
    )
    assert response.status == 201, await response.text()
    return int((await response.json())["id"])


async def national(client: Any, at: str | None = None) -> dict[str, Any]:
    response = await client.get("/api/v1/on-call", params={"at": at} if at else None)
    assert response.status == 200, await response.text()
    body = await response.json()
    return next(h for h in body["hotlines"] if h["hotline_id"] == "national")


def ids(people: list[dict[str, Any]]) -> list[int]:
    return [p["id"] for p in people]


def page_text(page: str) -> str:
    """The page's text as read: inline elements run on, others are apart."""
    inline = re.sub(r"</?(?:a|span|strong|time)\b[^>]*>", "", page)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", inline)).split())


# --- who is on call --------------------------------------------------------------------------


async def test_on_call_now_and_next_with_an_override_and_across_handovers(
    client: Any, deps: Deps, clock: FrozenClock
) -> None:
    people = team(deps)
    schedule_id = await set_up(client, people)
    headers = await as_user(client, "lise")

    # Monday 2 March, 10:30 Copenhagen time: Anne's first week, Bo from Monday 9 March 09:00.
    now = await national(client)
    assert now["now"]["id"] == people.anne
    assert now["now"]["phone_e164"] == "+4520123411"
    assert now["now"]["email"] == "anne@example.org"
    assert now["until"] == "2026-03-09T08:00:00Z"
    assert now["next"]["staff"]["id"] == people.bo
    assert now["team_lead"]["id"] == people.lise

    # Dorte covers Tuesday (typed in Copenhagen time, stored in UTC).
    response = await client.post(
        f"/api/v1/on-call/{schedule_id}/overrides",
        json={
            "staff_id": people.dorte,
            "starts_at": "2026-03-03T00:00:00+01:00",
            "ends_at": "2026-03-04T00:00:00+01:00",
            "reason": "absence",
        },
        headers=headers,
    )
    assert response.status == 201, await response.text()
    assert (await response.json())["starts_at"] == "2026-03-02T23:00:00Z"

    # Any staff member reads it.
    await as_user(client, "bo")
    now = await national(client)
    assert (now["now"]["id"], now["until"]) == (people.anne, "2026-03-02T23:00:00Z")
    assert now["next"]["staff"]["id"] == people.dorte
    assert ids(now["chain"]) == [people.anne, people.dorte, people.lise]

    async def at_moment(moment: datetime) -> dict[str, Any]:
        clock.set(moment)
        await as_user(client, "bo")  # a session lasts 8 hours
        return await national(client)

    now = await at_moment(datetime(2026, 3, 3, 12, tzinfo=CPH))
    assert (now["now"]["id"], now["until"]) == (people.dorte, "2026-03-03T23:00:00Z")
    assert now["next"]["staff"]["id"] == people.anne
    assert ids(now["chain"]) == [people.dorte, people.anne, people.lise]

    # The weekly handover at 09:00 Copenhagen time, to the minute.
    now = await at_moment(datetime(2026, 3, 9, 8, 59, tzinfo=CPH))
    assert (now["now"]["id"], now["next"]["staff"]["id"]) == (people.anne, people.bo)
    now = await at_moment(datetime(2026, 3, 9, 9, 0, tzinfo=CPH))
    assert (now["now"]["id"], now["until"]) == (people.bo, "2026-03-16T08:00:00Z")
    assert now["next"]["staff"]["id"] == people.carl

    # Asked about a moment: Monday 30 March's handover is at 09:00 summer time (07:00 UTC).
    assert (await national(client, "2026-03-30T06:59:00Z"))["now"]["id"] == people.anne
    assert (await national(client, "2026-03-30T07:00:00Z"))["now"]["id"] == people.bo
    response = await client.get("/api/v1/on-call", params={"at": "2026-03-30T07:00"})
    assert response.status == 400
    assert (await response.json())["error"]["field"] == "at"

    # The other hotline has no schedule: nobody, and nobody to page.
    body = await (await client.get("/api/v1/on-call")).json()
    copenhagen = next(h for h in body["hotlines"] if h["hotline_id"] == "copenhagen")
    assert copenhagen["schedule_id"] is None
    assert (copenhagen["now"], copenhagen["next"], copenhagen["chain"]) == (None, None, [])


async def test_the_escalation_chain_for_alert_jobs_sync_and_async(
    client: Any, deps: Deps, clock: FrozenClock
) -> None:
    people = team(deps)
    now = clock.now()
    with deps.job_context().transaction() as session:
        schedule_id = oncall_service.create_schedule(
            session,
            "national",
            oncall_service.RotationInput(
                participants=[people.anne, people.bo, people.carl],
                start_date=date(2026, 3, 2),
                team_lead_id=people.lise,
            ),
            actor_id=people.lise,
            now=now,
        ).id
    with deps.job_context().transaction() as session:
        chain = oncall_service.escalation_chain_sync(session, "national", now)
        assert [p.id for p in chain] == [people.anne, people.bo, people.lise]
        assert [p.phone_e164 for p in chain] == ["+4520123411", "+4520123422", "+4520123455"]
        assert oncall_service.escalation_chain_sync(session, "copenhagen", now) == []
        with pytest.raises(oncall_service.UnknownHotline):
            oncall_service.who_is_on_call_sync(session, "nowhere", now)

    # Bo loses his phone number: still next, but left out of the chain.
    with deps.job_context().transaction() as session:
        set_contact(session, people.bo, {"phone": ""}, actor_id=people.bo, now=now)
    async with deps.sessions() as session:
        answer = await oncall_service.who_is_on_call(session, "national", now)
        assert answer.next is not None
        assert answer.next.staff is not None
        assert answer.next.staff.id == people.bo
        assert not answer.next.staff.pageable
        chain = await oncall_service.escalation_chain(session, "national", now)
        assert [p.id for p in chain] == [people.anne, people.lise]

    # Switched off: nobody is on call, the team lead is still there to tell.
    headers = await as_user(client, "lise")
    response = await client.put(
        f"/api/v1/on-call/{schedule_id}/rotation",
        json=rotation(people, participants=[people.anne, people.carl], active=False),
        headers=headers,
    )
    assert response.status == 200, await response.text()
    async with deps.sessions() as session:
        answer = await oncall_service.who_is_on_call(session, "national", now)
        assert (answer.active, answer.now, answer.next) == (False, None, None)
        chain = await oncall_service.escalation_chain(session, "national", now)
        assert [p.id for p in chain] == [people.lise]


# --- the page --------------------------------------------------------------------------------


async def test_an_admin_sets_up_on_call_on_the_page_and_adds_and_removes_an_override(
    client: Any, deps: Deps
) -> None:
    people = team(deps)
    await as_user(client, "lise")
    page = page_text(await (await client.get("/on-call")).text())
    assert "Denne hotline har endnu ingen vagtplan." in page

    token = await page_token(client)
    response = await client.post(
        "/on-call/hotlines/national/schedule",
        data={
            "csrf_token": token,
            "name": "VINK-vagten",
            f"position-{people.anne}": "1",
            f"position-{people.carl}": "2",
            f"position-{people.bo}": "3",
            f"position-{people.dorte}": "",
            "start_date": "2026-03-02",
            "handoff_weekday": "0",
            "handoff_time": "09:00",
            "shift_days": "7",
            "team_lead_id": str(people.lise),
            "active": "on",
        },
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()
    assert response.headers["Location"] == "/on-call?done=created#hotline-national"
    async with deps.sessions() as session:
        schedule = (await session.scalars(select(OncallSchedule))).one()
    assert schedule.participants == [people.anne, people.carl, people.bo]
    assert (schedule.name, schedule.team_lead_id) == ("VINK-vagten", people.lise)

    page = page_text(await (await client.get("/on-call?done=created")).text())
    assert "Vagtplanen er oprettet." in page
    assert "Har vagt nu Anne, +4520123411. Indtil man. 09.03.2026 09.00" in page
    assert "Næste Carl, +4520123433. Fra man. 09.03.2026 09.00" in page
    assert "Teamleder Lise, +4520123455" in page
    assert "Hver mandag kl. 09:00 (Europe/Copenhagen)" in page

    # An override in Copenhagen time, from the page's datetime-local fields.
    response = await client.post(
        f"/on-call/{schedule.id}/overrides",
        data={
            "csrf_token": token,
            "staff_id": str(people.dorte),
            "starts_at": "2026-03-03T00:00",
            "ends_at": "2026-03-04T00:00",
            "reason": "holiday",
        },
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()
    async with deps.sessions() as session:
        override = (await session.scalars(select(OncallOverride))).one()
    assert override.starts_at == datetime(2026, 3, 2, 23, tzinfo=UTC)
    assert (override.staff_id, override.reason) == (people.dorte, OverrideReason.HOLIDAY)
    page = page_text(await (await client.get("/on-call")).text())
    assert "Næste Dorte, +4520123444. Fra tirs. 03.03.2026 00.00" in page
    shift = "tirs. 03.03.2026 00.00 ons. 04.03.2026 00.00 Dorte, +4520123444 Afvigelse: Ferie"
    assert shift in page

    response = await client.post(
        f"/on-call/{schedule.id}/overrides/{override.id}/delete",
        data={"csrf_token": token},
        allow_redirects=False,
    )
    assert response.status == 303
    page = page_text(await (await client.get("/on-call?done=removed")).text())
    assert "Afvigelsen er fjernet." in page
    assert "Ingen kommende afvigelser." in page

    # The rotation changes to Wednesdays at 08:00, Bo first.
    response = await client.post(
        f"/on-call/{schedule.id}/rotation",
        data={
            "csrf_token": token,
            "name": "VINK-vagten",
            f"position-{people.bo}": "1",
            f"position-{people.anne}": "2",
            "start_date": "2026-03-02",
            "handoff_weekday": "2",
            "handoff_time": "08:00",
            "shift_days": "7",
            "team_lead_id": "",
        },
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()
    async with deps.sessions() as session:
        schedule = await session.get_one(OncallSchedule, schedule.id)
    assert schedule.participants == [people.bo, people.anne]
    assert (schedule.handoff_weekday, schedule.active, schedule.team_lead_id) == (2, False, None)
    async with deps.sessions() as session:
        actions = (
            await session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.subject_kind == "oncall_schedule")
                .order_by(AuditEntry.id)
            )
        ).all()
    assert actions == [
        "oncall_schedule_created",
        "oncall_override_added",
        "oncall_override_removed",
        "oncall_rotation_changed",
    ]


async def test_the_page_names_each_wrong_field_in_danish_and_stores_nothing(
    client: Any, deps: Deps
) -> None:
    people = team(deps)
    schedule_id = await set_up(client, people)
    token = await page_token(client)
    form = {
        "csrf_token": token,
        "name": "Vagt",
        "start_date": "2026-03-02",
        "handoff_weekday": "0",
        "handoff_time": "09:00",
        "shift_days": "7",
        "active": "on",
    }
    prefix = f"s{schedule_id}-"

    response = await client.post(
        f"/on-call/{schedule_id}/rotation",
        data={**form, f"position-{people.anne}": "1", f"position-{people.nils}": "2"},
    )
    assert response.status == 400
    page = await response.text()
    assert "Nils har intet telefonnummer, så vagtalarmer kan ikke nå vedkommende." in page
    assert f'id="{prefix}position-{people.nils}"' in page
    assert f'<a href="#{prefix}position-{people.nils}">' in page
    assert 'aria-invalid="true"' in page
    assert f'name="position-{people.nils}" value="2"' in page  # what was typed is kept

    response = await client.post(
        f"/on-call/{schedule_id}/rotation",
        data={
            **form,
            f"position-{people.anne}": "1",
            f"position-{people.bo}": "1",
            "start_date": "2. marts",
            "shift_days": "0",
        },
    )
    assert response.status == 400
    page = await response.text()
    assert page.count("To personer har samme plads i rækkefølgen.") == 4  # 2 fields + summary
    assert "Skriv en dato, fx 2026-03-02." in page
    assert "Skriv et helt antal dage fra 1 til 28." in page
    response = await client.post(f"/on-call/{schedule_id}/rotation", data=form)
    assert "Vælg mindst én person til vagtplanen." in await response.text()
    # What could not be read and what the rules refuse, shown together.
    response = await client.post(
        f"/on-call/{schedule_id}/rotation",
        data={**form, "handoff_time": "9", f"position-{people.nils}": "1"},
    )
    page = await response.text()
    assert "Skriv et klokkeslæt, fx 09:00." in page
    assert "Nils har intet telefonnummer" in page

    override = {"csrf_token": token, "staff_id": str(people.dorte), "reason": "swap"}
    response = await client.post(
        f"/on-call/{schedule_id}/overrides",
        data={**override, "starts_at": "2026-03-04T08:00", "ends_at": "2026-03-04T08:00"},
    )
    assert response.status == 400
    page = await response.text()
    assert "Sluttidspunktet skal ligge efter starttidspunktet." in page
    assert f'<a href="#{prefix}ends_at">' in page
    assert 'value="2026-03-04T08:00"' in page
    response = await client.post(
        f"/on-call/{schedule_id}/overrides",
        data={**override, "staff_id": str(people.olga), "starts_at": "i morgen", "ends_at": ""},
    )
    page = await response.text()
    assert "Olga: kontoen er ikke aktiv." not in page  # types first: the moments are wrong
    assert page.count("Skriv en dato og et klokkeslæt, fx 2026-03-02 09:00.") == 4
    response = await client.post(
        f"/on-call/{schedule_id}/overrides",
        data={
            **override,
            "staff_id": str(people.olga),
            "starts_at": "2026-03-04T08:00",
            "ends_at": "2026-03-05T08:00",
            "lang": "en",
        },
    )
    assert response.status == 400
    assert "Olga: the account is not active." in await response.text()

    async with deps.sessions() as session:
        schedule = await session.get_one(OncallSchedule, schedule_id)
        assert schedule.participants == [people.anne, people.bo, people.carl]
        assert await session.scalar(select(func.count()).select_from(OncallOverride)) == 0


async def test_the_api_names_the_wrong_field_and_stores_nothing(client: Any, deps: Deps) -> None:
    people = team(deps)
    schedule_id = await set_up(client, people)
    headers = await as_user(client, "lise")
    url = f"/api/v1/on-call/{schedule_id}"

    async def refused(method: str, path: str, body: dict[str, Any], status: int = 400) -> str:
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status == status, await response.text()
        error = (await response.json())["error"]
        return f"{error.get('field')}: {error['message']}"

    assert (
        await refused("PUT", f"{url}/rotation", rotation(people, participants=[people.anne, 99]))
    ).startswith("participants[1]: participants[1]: There is no staff account with this id.")
    assert "Nils has no phone number" in await refused(
        "PUT", f"{url}/rotation", rotation(people, participants=[people.anne, people.nils])
    )
    assert (
        await refused("PUT", f"{url}/rotation", rotation(people, participants=[people.bo] * 2))
    ).startswith("participants[1]: participants[1]: Bo is in the rotation twice.")
    assert (await refused("PUT", f"{url}/rotation", rotation(people, participants=[]))).startswith(
        "participants: "
    )
    assert (
        await refused("PUT", f"{url}/rotation", rotation(people, team_lead_id=people.olga))
    ).startswith("team_lead_id: team_lead_id: Olga: the account is not active.")
    assert (
        await refused("PUT", f"{url}/rotation", rotation(people, handoff_weekday=7))
    ).startswith("handoff_weekday: ")
    assert (
        await refused("PUT", f"{url}/rotation", rotation(people, timezone="Mars/Olympus"))
    ).startswith("timezone: ")

    override = {"staff_id": people.dorte, "reason": "holiday"}
    tuesday = {"starts_at": "2026-03-03T09:00:00Z", "ends_at": "2026-03-03T09:00:00Z"}
    assert (await refused("POST", f"{url}/overrides", {**override, **tuesday})).startswith(
        "ends_at: ends_at: The end must be after the start."
    )
    past = {"starts_at": "2026-03-01T09:00:00Z", "ends_at": "2026-03-02T09:00:00Z"}
    assert "The end has passed already." in await refused(
        "POST", f"{url}/overrides", {**override, **past}
    )
    naive = {"starts_at": "2026-03-03T09:00", "ends_at": "2026-03-04T09:00:00Z"}
    assert (await refused("POST", f"{url}/overrides", {**override, **naive})).startswith(
        "starts_at: "
    )
    fine = {"starts_at": "2026-03-03T09:00:00Z", "ends_at": "2026-03-04T09:00:00Z"}
    assert (
        await refused("POST", f"{url}/overrides", {**override, **fine, "staff_id": people.nils})
    ).startswith("staff_id: ")
    assert (
        await refused("POST", f"{url}/overrides", {**override, **fine, "reason": "sick"})
    ).startswith("reason: ")
    again = {"hotline_id": "national", **rotation(people)}
    assert (await refused("POST", "/api/v1/on-call", again, 409)).startswith(
        "None: this hotline has an on-call schedule already"
    )
    nowhere = {"hotline_id": "nowhere", **rotation(people)}
    assert (await refused("POST", "/api/v1/on-call", nowhere, 404)).startswith("hotline_id: ")
    response = await client.delete(f"{url}/overrides/12345", headers=headers)
    assert response.status == 404

    body = await (await client.get(url)).json()
    assert ids(body["rotation"]["participants"]) == [people.anne, people.bo, people.carl]
    assert body["team_lead"]["id"] == people.lise
    assert body["overrides"] == []


# --- access ----------------------------------------------------------------------------------


async def test_hotline_staff_read_on_call_but_only_an_admin_changes_it(
    client: Any, deps: Deps
) -> None:
    people = team(deps)
    schedule_id = await set_up(client, people)
    headers = await as_user(client, "lise")
    response = await client.post(
        f"/api/v1/on-call/{schedule_id}/overrides",
        json={
            "staff_id": people.bo,
            "starts_at": "2026-03-03T09:00:00Z",
            "ends_at": "2026-03-04T09:00:00Z",
        },
        headers=headers,
    )
    assert response.status == 201
    override_id = (await response.json())["id"]

    headers = await as_user(client, "anne")
    page = page_text(await (await client.get("/on-call")).text())
    assert "Har vagt nu Anne, +4520123411" in page
    assert "Tilføj afvigelse" not in page
    assert "Ret vagtplanen" not in page
    assert (await client.get(f"/api/v1/on-call/{schedule_id}")).status == 200
    token = headers["X-CSRF-Token"]
    refused = [
        await client.put(
            f"/api/v1/on-call/{schedule_id}/rotation", json=rotation(people), headers=headers
        ),
        await client.post(
            "/api/v1/on-call",
            json={"hotline_id": "copenhagen", **rotation(people)},
            headers=headers,
        ),
        await client.post(
            f"/api/v1/on-call/{schedule_id}/overrides",
            json={"staff_id": people.anne, **{"starts_at": "2026-03-05T09:00:00Z"}},
            headers=headers,
        ),
        await client.delete(
            f"/api/v1/on-call/{schedule_id}/overrides/{override_id}", headers=headers
        ),
        await client.post(f"/on-call/{schedule_id}/rotation", data={"csrf_token": token}),
        await client.post(f"/on-call/{schedule_id}/overrides", data={"csrf_token": token}),
        await client.post(
            f"/on-call/{schedule_id}/overrides/{override_id}/delete", data={"csrf_token": token}
        ),
        await client.post("/on-call/hotlines/copenhagen/schedule", data={"csrf_token": token}),
    ]
    assert [r.status for r in refused] == [403] * len(refused)
    async with deps.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OncallOverride)) == 1
        assert await session.scalar(select(func.count()).select_from(OncallSchedule)) == 1


async def test_staff_edit_their_own_contact_details_and_an_admin_anyones(
    client: Any, deps: Deps
) -> None:
    people = team(deps)
    headers = await as_user(client, "anne")
    own = f"/api/v1/staff/{people.anne}/contact"
    response = await client.put(
        own, json={"phone": "30 12 34 56", "email": " Anne.H@Example.ORG"}, headers=headers
    )
    assert response.status == 200, await response.text()
    body = await response.json()
    assert (body["phone_e164"], body["email"], body["pageable"]) == (
        "+4530123456",
        "anne.h@example.org",
        True,
    )
    response = await client.put(own, json={"phone": "12", "email": None}, headers=headers)
    assert response.status == 400
    assert (await response.json())["error"]["field"] == "phone"
    assert (await (await client.get(own)).json())["phone_e164"] == "+4530123456"

    # Someone else's: refused to hotline staff, on pages and in the API.
    other = f"/api/v1/staff/{people.bo}/contact"
    assert (await client.get(other)).status == 403
    assert (await client.put(other, json={"phone": "", "email": ""}, headers=headers)).status == 403
    assert (await client.get("/api/v1/staff")).status == 403
    assert (await client.get("/staff")).status == 403
    assert (await client.get(f"/staff/{people.bo}/contact")).status == 403
    token = headers["X-CSRF-Token"]
    response = await client.post(
        f"/staff/{people.bo}/contact", data={"csrf_token": token, "phone": "", "email": ""}
    )
    assert response.status == 403

    # My profile page: errors in Danish beside their fields, then saved.
    page = await (await client.get("/profile")).text()
    assert "Mine kontaktoplysninger" in page
    assert 'value="+4530123456"' in page
    response = await client.post(
        f"/staff/{people.anne}/contact",
        data={"csrf_token": token, "from": "profile", "phone": "1234", "email": "anne@"},
    )
    assert response.status == 400
    page = await response.text()
    assert "Telefonnummeret er ikke gyldigt. Skriv det som 20 12 34 56" in page
    assert "E-mailadressen er ikke gyldig." in page
    assert '<a href="#phone">' in page
    assert 'value="1234"' in page
    response = await client.post(
        f"/staff/{people.anne}/contact",
        data={"csrf_token": token, "from": "profile", "phone": "+46 70 174 06 05", "email": ""},
        allow_redirects=False,
    )
    assert (response.status, response.headers["Location"]) == (303, "/profile?saved=1")
    assert "Dine ændringer er gemt." in await (await client.get("/profile?saved=1")).text()

    headers = await as_user(client, "lise")
    response = await client.put(other, json={"phone": "20 99 88 77", "email": ""}, headers=headers)
    assert response.status == 200
    assert (await response.json())["phone_e164"] == "+4520998877"
    listing = await (await client.get("/api/v1/staff")).json()
    assert {p["username"]: p["phone_e164"] for p in listing["staff"]}["anne"] == "+46701740605"
    page = await (await client.get("/staff")).text()
    assert "+4520998877" in page

    async with deps.sessions() as session:
        entries = (
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "staff_contact_changed")
                .where(AuditEntry.subject_id.in_([str(people.anne), str(people.bo)]))
                .where(AuditEntry.actor_id.is_not(None))
                .order_by(AuditEntry.id)
            )
        ).all()
    assert [(e.actor_id, e.subject_id, e.detail) for e in entries] == [
        (people.anne, str(people.anne), {"fields": ["email", "phone_e164"]}),
        (people.anne, str(people.anne), {"fields": ["email", "phone_e164"]}),
        (people.lise, str(people.bo), {"fields": ["email", "phone_e164"]}),
    ]
    assert "+45" not in json.dumps([e.detail for e in entries])


# --- the documented answers ------------------------------------------------------------------


async def test_the_answers_match_the_openapi_document(client: Any, deps: Deps) -> None:
    people = team(deps)
    document = await served_document(client)
    headers = await as_user(client, "lise")

    response = await client.post(
        "/api/v1/on-call", json={"hotline_id": "national", **rotation(people)}, headers=headers
    )
    body = await response.json()
    assert_matches(document, "POST", "/api/v1/on-call", response.status, body)
    url = f"/api/v1/on-call/{body['id']}"
    response = await client.post(
        f"{url}/overrides",
        json={
            "staff_id": people.bo,
            "starts_at": "2026-03-03T09:00:00Z",
            "ends_at": "2026-03-04T09:00:00Z",
        },
        headers=headers,
    )
    assert_matches(document, "POST", f"{url}/overrides", response.status, await response.json())
    response = await client.put(f"{url}/rotation", json=rotation(people), headers=headers)
    assert_matches(document, "PUT", f"{url}/rotation", response.status, await response.json())
    response = await client.get(url)
    schedule = await response.json()
    assert [s["override_id"] is not None for s in schedule["shifts"][:3]] == [False, True, False]
    assert_matches(document, "GET", url, response.status, schedule)
    response = await client.get("/api/v1/on-call")
    assert_matches(document, "GET", "/api/v1/on-call", 200, await response.json())
    response = await client.put(f"{url}/rotation", json=rotation(people, participants=[]))
    assert response.status == 403  # without the CSRF header
    response = await client.put(
        f"{url}/rotation", json=rotation(people, participants=[]), headers=headers
    )
    assert_matches(document, "PUT", f"{url}/rotation", 400, await response.json())
    contact = f"/api/v1/staff/{people.anne}/contact"
    assert_matches(document, "GET", contact, 200, await (await client.get(contact)).json())
    response = await client.put(contact, json={"phone": "", "email": "a@b.dk"}, headers=headers)
    assert_matches(document, "PUT", contact, 200, await response.json())
    listing = await client.get("/api/v1/staff")
    assert_matches(document, "GET", "/api/v1/staff", 200, await listing.json())
    override_id = schedule["overrides"][0]["id"]
    response = await client.delete(f"{url}/overrides/{override_id}", headers=headers)
    assert response.status == 204
