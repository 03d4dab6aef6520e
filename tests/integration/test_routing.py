"""Routing justified concerns to partner units: the hotline routes, a real mail server gets the
notice (with no personal data), the unit acknowledges, records the visitation and closes, or
returns the case; other units see nothing; illegal moves and a mail server that is down."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import func, select

import cli
from access.models import AuditEntry, PartnerUnit, Role, StaffUser
from bootstrap import Deps
from clock import FrozenClock
from integrations.smtp import SmtpEmailSender
from settings import Settings, load_settings
from tests.support.forms import csrf_token, open_form, valid_answers
from tests.support.jobs import run_jobs, run_jobs_now
from tests.support.smtp import SmtpServer
from tests.support.staff import create_staff, log_in, login_token
from triage import partner_units, routing_notice, workflow
from triage.models import Case, CaseStatus, CloseReason, NoticeStatus, Routing
from worker import Sweeper

pytestmark = pytest.mark.asyncio

BASE_URL = "https://hotline.example.dk"
ADMIN, HOTLINE, COORDINATOR, OTHER_COORDINATOR = "anne", "hanne", "kasper", "olga"
REPORTER_NAME = "Birgitte Kragh"
REPORTER_EMAIL = "birgitte.kragh@example.org"
REPORTER_PHONE = "20 12 34 56"
RELATION = "min nevø"
OBSERVED = "Han har delt videoer, der hylder et angreb, og taler om at købe en kniv."
KOEBENHAVN, FREDERIKSBERG, AARHUS = 101, 147, 751


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def settings(test_environ: dict[str, str], smtp: SmtpServer) -> Settings:
    """The test settings with a real mail server on loopback and a public URL for links."""
    return load_settings({**test_environ, **smtp.environ(), "HOTLINE_PUBLIC_BASE_URL": BASE_URL})


# --- helpers ------------------------------------------------------------------------------------


async def add_unit(
    deps: Deps, name: str, codes: tuple[int, ...], *, email: str | None = None
) -> int:
    async with deps.sessions() as session, session.begin():
        unit = await partner_units.create_unit(
            session,
            partner_units.UnitData(
                name=name,
                kind="infohus" if codes != (KOEBENHAVN,) else "coordination_unit",
                email=email or f"{name.rsplit(maxsplit=1)[-1].lower()}@infohus.example.dk",
                municipalities=codes,
            ),
            staff=None,
            now=deps.clock.now(),
        )
        return unit.id


async def become(client: Any, username: str) -> dict[str, str]:
    """Log the client in as `username`; returns the CSRF header for the API."""
    response = await log_in(client, username=username)
    assert response.status == 303, await response.text()
    return {"X-CSRF-Token": await login_token(client)}


async def justified_case(
    client: Any, deps: Deps, *, subject: int | None, reporter: int | None = None
) -> int:
    """A case from the public form, moved straight to justified (the triage form has its tests)."""
    token = await open_form(client)
    answers = valid_answers(
        name=REPORTER_NAME,
        email=REPORTER_EMAIL,
        phone=REPORTER_PHONE,
        relation=RELATION,
        observed=OBSERVED,
        municipality=str(subject) if subject else "unknown",
    )
    response = await client.post("/report/national", data={"csrf_token": token, **answers})
    assert response.status == 200
    await run_jobs(deps)
    async with deps.sessions() as session, session.begin():
        case_id = await session.scalar(select(func.max(Case.id)))
        assert case_id is not None
        case = await session.get_one(Case, case_id, with_for_update=True)
        case.subject_municipality = subject
        case.reporter_municipality = reporter
        for target in (CaseStatus.IN_TRIAGE, CaseStatus.JUSTIFIED):
            await workflow.change_status(
                session, case, target, actor=workflow.SYSTEM, now=deps.clock.now()
            )
        return int(case_id)


async def page(client: Any, path: str, status: int = 200) -> str:
    response = await client.get(path)
    assert response.status == status, await response.text()
    return html.unescape(await response.text())


async def post_form(client: Any, path: str, form_page: str, **fields: str) -> Any:
    token = csrf_token(await page(client, form_page))
    return await client.post(path, data={"csrf_token": token, **fields}, allow_redirects=False)


async def case_of(deps: Deps, case_id: int) -> Case:
    async with deps.sessions() as session:
        return await session.get_one(Case, case_id)


async def routings_of(deps: Deps, case_id: int) -> list[Routing]:
    async with deps.sessions() as session:
        return list(
            await session.scalars(
                select(Routing).where(Routing.case_id == case_id).order_by(Routing.id)
            )
        )


async def audits(deps: Deps, action: str) -> list[AuditEntry]:
    async with deps.sessions() as session:
        return list(await session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def assert_no_personal_data(message: EmailMessage) -> None:
    text = message.get_content() + "\n" + str(message["Subject"])
    for secret in (
        REPORTER_NAME,
        "Kragh",
        REPORTER_EMAIL,
        REPORTER_PHONE,
        "20123456",
        "+4520123456",
        RELATION,
        OBSERVED,
        "kniv",
        "København",
        "Frederiksberg",
    ):
        assert secret.lower() not in text.lower(), secret
    assert not re.search(r"\b(101|147)\b", text), "a municipality code is in the e-mail"


async def people(deps: Deps, unit_id: int, other_unit_id: int | None = None) -> None:
    create_staff(deps, username=ADMIN, role=Role.ADMIN)
    create_staff(deps, username=HOTLINE, role=Role.HOTLINE)
    create_staff(deps, username=COORDINATOR, role=Role.COORDINATOR, partner_unit_id=unit_id)
    if other_unit_id is not None:
        create_staff(
            deps, username=OTHER_COORDINATOR, role=Role.COORDINATOR, partner_unit_id=other_unit_id
        )


# --- the whole path on the pages ----------------------------------------------------------------


async def test_route_notify_acknowledge_visit_and_close_on_the_pages(
    client: Any, deps: Deps, clock: FrozenClock, smtp: SmtpServer
) -> None:
    create_staff(deps, username=ADMIN, role=Role.ADMIN)
    headers = await become(client, ADMIN)
    created = await client.post(
        "/api/v1/partner-units",
        json={
            "name": "Koordineringsenheden",
            "kind": "coordination_unit",
            "email": "koordinering@kk.example.dk",
            "municipalities": [KOEBENHAVN],
        },
        headers=headers,
    )
    assert created.status == 201, await created.text()
    unit_id = (await created.json())["id"]
    create_staff(deps, username=HOTLINE)
    create_staff(deps, username=COORDINATOR, role=Role.COORDINATOR, partner_unit_id=unit_id)

    case_id = await justified_case(client, deps, subject=KOEBENHAVN)
    await become(client, HOTLINE)
    shown = await page(client, f"/cases/{case_id}")
    assert "Foreslået enhed" in shown
    assert "Koordineringsenheden" in shown
    assert "Retsplejeloven § 115, stk. 2" in shown
    assert "Send til Koordineringsenheden" in shown

    clock.advance(timedelta(minutes=5))
    routed_at = clock.now()
    response = await post_form(
        client,
        f"/cases/{case_id}/routings",
        f"/cases/{case_id}",
        legal_basis="Retsplejeloven § 115, stk. 2",
        unit_id=str(unit_id),
    )
    assert response.status == 303, await response.text()
    assert response.headers["Location"] == f"/cases/{case_id}#routing"
    assert (await case_of(deps, case_id)).status is CaseStatus.ROUTED
    (routing,) = await routings_of(deps, case_id)
    assert routing.unit_id == unit_id
    assert routing.municipality == KOEBENHAVN
    assert not routing.by_reporter_residence
    assert routing.legal_basis == "Retsplejeloven § 115, stk. 2"
    assert routing.sent_at == routed_at
    assert routing.notice_status is NoticeStatus.PENDING
    shown = await page(client, f"/cases/{case_id}")
    assert "Venter på at blive sendt" in shown
    assert "Send til Koordineringsenheden" not in shown  # routed: no second routing form

    await run_jobs(deps)
    (message,) = smtp.capture.messages
    assert smtp.capture.envelopes == [
        ("hotline@hotline.example.dk", ["koordinering@kk.example.dk"])
    ]
    assert message["To"] == "koordinering@kk.example.dk"
    reference = (await case_of(deps, case_id)).reference
    body = message.get_content()
    assert reference in str(message["Subject"])
    assert "Koordineringsenheden" in body
    assert f"{BASE_URL}/routings/{routing.id}" in body
    assert "Hotline mod radikalisering" in body  # Danish
    assert "The hotline against radicalisation" in body  # and English
    assert_no_personal_data(message)
    (routing,) = await routings_of(deps, case_id)
    assert routing.notice_status is NoticeStatus.SENT
    assert routing.notice_attempts == 1
    assert "Sendt" in await page(client, f"/cases/{case_id}")

    # The coordinator follows the link.
    await become(client, COORDINATOR)
    listed = await page(client, "/routings")
    assert reference in listed
    shown = await page(client, f"/routings/{routing.id}")
    assert reference in shown
    assert "København" in shown
    assert "Retsplejeloven § 115, stk. 2" in shown
    assert REPORTER_NAME not in shown  # the routing page holds no personal data
    assert OBSERVED not in shown
    assert len(await audits(deps, "read_routing")) == 1

    clock.advance(timedelta(hours=1))
    acknowledged_at = clock.now()
    path = f"/routings/{routing.id}"
    response = await post_form(client, f"{path}/acknowledge", path)
    assert response.status == 303
    assert (await case_of(deps, case_id)).status is CaseStatus.ACKNOWLEDGED

    # The visitation needs both fields; a missing one is named and the other kept.
    response = await post_form(
        client, f"{path}/visitation", path, responsible_agency="SSP København", next_step=" "
    )
    assert response.status == 400
    shown = html.unescape(await response.text())
    assert "Beskriv næste skridt" in shown
    assert 'value="SSP København"' in shown
    assert (await case_of(deps, case_id)).status is CaseStatus.ACKNOWLEDGED

    clock.advance(timedelta(hours=3))
    response = await post_form(
        client,
        f"{path}/visitation",
        path,
        responsible_agency="SSP København",
        next_step="Samtale med familien i næste uge.",
    )
    assert response.status == 303
    assert (await case_of(deps, case_id)).status is CaseStatus.VISITED

    response = await post_form(client, f"{path}/close", path)
    assert response.status == 303
    case = await case_of(deps, case_id)
    assert case.status is CaseStatus.CLOSED
    assert case.closed_reason is CloseReason.HANDED_OVER
    (routing,) = await routings_of(deps, case_id)
    assert routing.acknowledged_at == acknowledged_at
    assert routing.responsible_agency == "SSP København"
    assert routing.next_step == "Samtale med familien i næste uge."
    assert routing.closed_at == clock.now()

    # Hotline staff see what the unit did, on the case.
    await become(client, HOTLINE)
    shown = await page(client, f"/cases/{case_id}")
    assert "Kvitteret" in shown
    assert "Kasper" in shown  # who acknowledged
    assert "SSP København" in shown
    assert "Samtale med familien i næste uge." in shown
    assert "Overdraget til den ansvarlige myndighed" in shown


# --- the API, and a return to the hotline -------------------------------------------------------


async def test_the_api_path_with_a_return_as_the_wrong_unit(
    client: Any, deps: Deps, clock: FrozenClock, smtp: SmtpServer
) -> None:
    unit_id = await add_unit(deps, "Infohus København", (KOEBENHAVN,))
    await people(deps, unit_id)
    case_id = await justified_case(client, deps, subject=KOEBENHAVN)
    headers = await become(client, HOTLINE)

    bases = await (await client.get("/api/v1/legal-bases")).json()
    assert "Forvaltningsloven § 28, stk. 2" in bases["items"]
    proposal = await (await client.get(f"/api/v1/cases/{case_id}/routing-proposal")).json()
    assert proposal["proposal"] == {
        "unit": {"id": unit_id, "name": "Infohus København"},
        "municipality": {"code": KOEBENHAVN, "name": "København"},
        "by_reporter_residence": False,
    }
    assert proposal["refused"] is None

    bad = await client.post(
        f"/api/v1/cases/{case_id}/routings", json={"legal_basis": "Fordi"}, headers=headers
    )
    assert bad.status == 400
    assert (await bad.json())["error"]["field"] == "legal_basis"
    assert await routings_of(deps, case_id) == []

    routed = await client.post(
        f"/api/v1/cases/{case_id}/routings",
        json={"legal_basis": "Samtykke fra borgeren", "unit_id": unit_id},
        headers=headers,
    )
    assert routed.status == 201, await routed.text()
    first = await routed.json()
    assert first["case_status"] == "routed"
    assert first["legal_basis"] == "Samtykke fra borgeren"
    assert first["notice"]["status"] == "pending"
    assert first["sent_by"]["name"] == "Hanne"
    await run_jobs(deps)
    assert len(smtp.capture.messages) == 1

    headers = await become(client, COORDINATOR)
    listed = await (await client.get("/api/v1/routings")).json()
    assert [item["id"] for item in listed["items"]] == [first["id"]]
    got = await client.get(f"/api/v1/routings/{first['id']}")
    assert got.status == 200
    assert (await got.json())["notice"]["status"] == "sent"
    assert len(await audits(deps, "read_routing")) == 1

    missing = await client.post(
        f"/api/v1/routings/{first['id']}/return", json={"reason": "  "}, headers=headers
    )
    assert missing.status == 400
    assert (await missing.json())["error"]["field"] == "reason"
    returned = await client.post(
        f"/api/v1/routings/{first['id']}/return",
        json={"reason": "Personen er flyttet til Aarhus."},
        headers=headers,
    )
    assert returned.status == 200, await returned.text()
    answer = await returned.json()
    assert answer["case_status"] == "justified"
    assert answer["returned"]["reason"] == "Personen er flyttet til Aarhus."
    assert answer["returned"]["by"]["name"] == "Kasper"

    # The hotline sees the reason and can route again (here: after fixing the municipality).
    aarhus = await add_unit(deps, "Infohus Aarhus", (AARHUS,))
    async with deps.sessions() as session, session.begin():
        case = await session.get_one(Case, case_id)
        case.subject_municipality = AARHUS
    headers = await become(client, HOTLINE)
    shown = await page(client, f"/cases/{case_id}")
    assert "Personen er flyttet til Aarhus." in shown
    assert "Returneret som forkert enhed" in shown
    again = await client.post(
        f"/api/v1/cases/{case_id}/routings",
        json={"legal_basis": "Samtykke fra borgeren"},
        headers=headers,
    )
    assert again.status == 201
    assert (await again.json())["unit"] == {"id": aarhus, "name": "Infohus Aarhus"}
    assert [r.unit_id for r in await routings_of(deps, case_id)] == [unit_id, aarhus]

    # The Copenhagen coordinator keeps the returned one, listed after open ones; acting on it
    # is refused.
    headers = await become(client, COORDINATOR)
    late = await client.post(f"/api/v1/routings/{first['id']}/acknowledge", headers=headers)
    assert late.status == 409
    assert (await late.json())["error"]["reason"] == "routing_ended"
    assert (await case_of(deps, case_id)).status is CaseStatus.ROUTED


async def test_the_api_visitation_and_closing(client: Any, deps: Deps) -> None:
    unit_id = await add_unit(deps, "Infohus Frederiksberg", (FREDERIKSBERG,))
    await people(deps, unit_id)
    case_id = await justified_case(client, deps, subject=FREDERIKSBERG)
    headers = await become(client, HOTLINE)
    routed = await client.post(
        f"/api/v1/cases/{case_id}/routings",
        json={"legal_basis": "Retsplejeloven § 115, stk. 2"},
        headers=headers,
    )
    routing_id = (await routed.json())["id"]

    headers = await become(client, COORDINATOR)
    base = f"/api/v1/routings/{routing_id}"
    assert (await client.post(f"{base}/acknowledge", headers=headers)).status == 200
    no_agency = await client.post(
        f"{base}/visitation", json={"next_step": "Samtale"}, headers=headers
    )
    assert no_agency.status == 400
    assert (await no_agency.json())["error"]["field"] == "responsible_agency"
    visited = await client.post(
        f"{base}/visitation",
        json={"responsible_agency": "Socialforvaltningen", "next_step": "Mentor tilbydes."},
        headers=headers,
    )
    assert visited.status == 200
    assert (await visited.json())["visitation"]["responsible_agency"] == "Socialforvaltningen"
    closed = await client.post(f"{base}/close", headers=headers)
    assert closed.status == 200
    answer = await closed.json()
    assert answer["case_status"] == "closed"
    assert answer["closed"]["by"]["name"] == "Kasper"
    assert (await case_of(deps, case_id)).closed_reason is CloseReason.HANDED_OVER


# --- scope: another unit ------------------------------------------------------------------------


async def test_another_units_coordinator_gets_404_everywhere(client: Any, deps: Deps) -> None:
    unit_id = await add_unit(deps, "Infohus København", (KOEBENHAVN,))
    other = await add_unit(deps, "Infohus Frederiksberg", (FREDERIKSBERG,))
    await people(deps, unit_id, other)
    case_id = await justified_case(client, deps, subject=KOEBENHAVN)
    headers = await become(client, HOTLINE)
    routed = await client.post(
        f"/api/v1/cases/{case_id}/routings",
        json={"legal_basis": "Retsplejeloven § 115, stk. 2"},
        headers=headers,
    )
    routing_id = (await routed.json())["id"]

    headers = await become(client, OTHER_COORDINATOR)
    assert (await client.get(f"/routings/{routing_id}")).status == 404
    assert (await client.get(f"/api/v1/routings/{routing_id}")).status == 404
    assert (await (await client.get("/api/v1/routings")).json())["items"] == []
    reference = (await case_of(deps, case_id)).reference
    assert reference not in await page(client, "/routings")
    for action, body in (
        ("acknowledge", None),
        ("return", {"reason": "Ikke vores"}),
        ("visitation", {"responsible_agency": "x", "next_step": "y"}),
        ("close", None),
    ):
        answer = await client.post(
            f"/api/v1/routings/{routing_id}/{action}", json=body, headers=headers
        )
        assert answer.status == 404, action
    form = await post_form(client, f"/routings/{routing_id}/acknowledge", "/routings")
    assert form.status == 404
    assert (await case_of(deps, case_id)).status is CaseStatus.ROUTED
    assert await audits(deps, "read_routing") == []

    # Coordinators cannot route or read cases; hotline staff cannot act for the unit.
    routed = await client.post(
        f"/api/v1/cases/{case_id}/routings", json={"legal_basis": "x"}, headers=headers
    )
    assert routed.status == 403
    assert (await client.get(f"/cases/{case_id}")).status == 403
    headers = await become(client, HOTLINE)
    answer = await client.post(f"/api/v1/routings/{routing_id}/acknowledge", headers=headers)
    assert answer.status == 403
    # Hotline staff may read the routing (they sent it).
    assert (await client.get(f"/api/v1/routings/{routing_id}")).status == 200


# --- illegal moves ------------------------------------------------------------------------------


async def test_illegal_moves_are_refused_with_the_state_machines_words(
    client: Any, deps: Deps
) -> None:
    unit_id = await add_unit(deps, "Infohus København", (KOEBENHAVN,))
    await people(deps, unit_id)
    case_id = await justified_case(client, deps, subject=KOEBENHAVN)
    headers = await become(client, HOTLINE)
    body = {"legal_basis": "Retsplejeloven § 115, stk. 2"}
    first = await client.post(f"/api/v1/cases/{case_id}/routings", json=body, headers=headers)
    assert first.status == 201
    routing_id = (await first.json())["id"]

    twice = await client.post(f"/api/v1/cases/{case_id}/routings", json=body, headers=headers)
    assert twice.status == 409
    assert (await twice.json())["error"]["message"] == (
        "a case that is routed cannot become routed "
        "(from routed it can become: justified, acknowledged)"
    )
    response = await post_form(client, f"/cases/{case_id}/routings", f"/cases/{case_id}", **body)
    assert response.status == 409
    assert "kan ikke blive" in html.unescape(await response.text())
    assert len(await routings_of(deps, case_id)) == 1

    headers = await become(client, COORDINATOR)
    base = f"/api/v1/routings/{routing_id}"
    early = await client.post(
        f"{base}/visitation",
        json={"responsible_agency": "SSP", "next_step": "Samtale"},
        headers=headers,
    )
    assert early.status == 409
    assert (await early.json())["error"]["message"].startswith(
        "a case that is routed cannot become visited"
    )
    assert (await client.post(f"{base}/close", headers=headers)).status == 409
    assert (await client.post(f"{base}/acknowledge", headers=headers)).status == 200
    again = await client.post(f"{base}/acknowledge", headers=headers)
    assert again.status == 409
    assert "cannot become acknowledged" in (await again.json())["error"]["message"]
    # Returning is for a routed case only: once acknowledged, it is the unit's.
    late = await client.post(f"{base}/return", json={"reason": "Forkert"}, headers=headers)
    assert late.status == 409
    page_answer = await post_form(
        client, f"/routings/{routing_id}/acknowledge", f"/routings/{routing_id}"
    )
    assert page_answer.status == 409
    assert "En sag, der er" in html.unescape(await page_answer.text())
    assert (await client.post("/api/v1/routings/999999/acknowledge", headers=headers)).status == 404
    routing = (await routings_of(deps, case_id))[0]
    assert routing.visited_at is None
    assert routing.returned_at is None
    assert (await case_of(deps, case_id)).status is CaseStatus.ACKNOWLEDGED


async def test_a_case_that_is_not_justified_cannot_be_routed(client: Any, deps: Deps) -> None:
    unit_id = await add_unit(deps, "Infohus København", (KOEBENHAVN,))
    await people(deps, unit_id)
    case_id = await justified_case(client, deps, subject=KOEBENHAVN)
    async with deps.sessions() as session, session.begin():
        case = await session.get_one(Case, case_id, with_for_update=True)
        await workflow.change_status(
            session, case, CaseStatus.IN_TRIAGE, actor=workflow.SYSTEM, now=deps.clock.now()
        )
    headers = await become(client, HOTLINE)
    answer = await client.post(
        f"/api/v1/cases/{case_id}/routings",
        json={"legal_basis": "Retsplejeloven § 115, stk. 2"},
        headers=headers,
    )
    assert answer.status == 409
    assert "in_triage cannot become routed" in (await answer.json())["error"]["message"]
    assert "Send til" not in await page(client, f"/cases/{case_id}")


# --- proposals that cannot be made --------------------------------------------------------------


async def test_unknown_and_uncovered_municipalities(client: Any, deps: Deps) -> None:
    unit_id = await add_unit(deps, "Infohus København", (KOEBENHAVN,))
    await people(deps, unit_id)
    headers = await become(client, HOTLINE)
    body = {"legal_basis": "Retsplejeloven § 115, stk. 2"}

    unknown = await justified_case(client, deps, subject=None)
    answer = await (await client.get(f"/api/v1/cases/{unknown}/routing-proposal")).json()
    assert answer["proposal"] is None
    assert answer["refused"]["code"] == "no_municipality"
    assert "Registrér personens eller anmelderens kommune" in await page(
        client, f"/cases/{unknown}"
    )
    refused = await client.post(f"/api/v1/cases/{unknown}/routings", json=body, headers=headers)
    assert refused.status == 409
    assert (await refused.json())["error"]["reason"] == "no_municipality"

    aarhus = await justified_case(client, deps, subject=AARHUS)
    answer = await (await client.get(f"/api/v1/cases/{aarhus}/routing-proposal")).json()
    assert answer["refused"]["message"] == (
        "no partner unit covers Aarhus; an administrator adds one under Partner units"
    )
    assert "Ingen samarbejdsenhed dækker Aarhus" in await page(client, f"/cases/{aarhus}")
    response = await post_form(client, f"/cases/{aarhus}/routings", f"/cases/{aarhus}", **body)
    assert response.status == 409
    assert await routings_of(deps, aarhus) == []
    assert (await case_of(deps, aarhus)).status is CaseStatus.JUSTIFIED

    # The person's residence unknown, the reporter's Copenhagen: proposed, and flagged.
    by_reporter = await justified_case(client, deps, subject=None, reporter=KOEBENHAVN)
    answer = await (await client.get(f"/api/v1/cases/{by_reporter}/routing-proposal")).json()
    assert answer["proposal"]["by_reporter_residence"] is True
    assert "anmelderens bopæl – tjek" in await page(client, f"/cases/{by_reporter}")
    routed = await client.post(f"/api/v1/cases/{by_reporter}/routings", json=body, headers=headers)
    assert routed.status == 201
    assert (await routed.json())["by_reporter_residence"] is True


async def test_a_proposal_that_changed_since_the_page_was_shown_is_not_sent(
    client: Any, deps: Deps
) -> None:
    old = await add_unit(deps, "Infohus København", (KOEBENHAVN,))
    await people(deps, old)
    case_id = await justified_case(client, deps, subject=KOEBENHAVN)
    headers = await become(client, HOTLINE)
    async with deps.sessions() as session, session.begin():
        await partner_units.deactivate_unit(session, old, staff=None, now=deps.clock.now())
    await add_unit(deps, "Koordineringsenheden", (KOEBENHAVN,))

    answer = await client.post(
        f"/api/v1/cases/{case_id}/routings",
        json={"legal_basis": "Retsplejeloven § 115, stk. 2", "unit_id": old},
        headers=headers,
    )
    assert answer.status == 409
    assert (await answer.json())["error"]["reason"] == "proposal_changed"
    assert await routings_of(deps, case_id) == []


# --- the notice when the mail server fails ------------------------------------------------------


def notices_swept(sweeper: Sweeper) -> int:
    """Sweep as the worker does; how many routing notices it enqueued (the other sweeps, e.g.
    the escalation of the case's deadlines, may find work of their own)."""
    sweeper.sweep(take_turn=False)
    return sweeper.found["pending_routing_notices"]


async def test_a_mail_server_that_is_down_is_retried_by_the_sweeper_then_shown_as_failed(
    client: Any, deps: Deps, clock: FrozenClock, smtp: SmtpServer
) -> None:
    unit_id = await add_unit(deps, "Infohus København", (KOEBENHAVN,))
    await people(deps, unit_id)
    case_id = await justified_case(client, deps, subject=KOEBENHAVN)
    headers = await become(client, HOTLINE)
    smtp.stop()
    routed = await client.post(
        f"/api/v1/cases/{case_id}/routings",
        json={"legal_basis": "Retsplejeloven § 115, stk. 2"},
        headers=headers,
    )
    assert routed.status == 201
    await run_jobs(deps)
    (routing,) = await routings_of(deps, case_id)
    assert routing.notice_status is NoticeStatus.PENDING
    assert routing.notice_attempts == 1
    assert routing.notice_error_code == "connection"
    assert routing.notice_next_attempt_at == clock.now() + routing_notice.RETRY_DELAYS[0]

    sweeper = Sweeper(deps.job_context())
    assert notices_swept(sweeper) == 0  # not due yet
    for attempt in range(2, routing_notice.MAX_ATTEMPTS + 1):
        (routing,) = await routings_of(deps, case_id)
        assert routing.notice_next_attempt_at is not None
        clock.set(routing.notice_next_attempt_at)
        assert notices_swept(sweeper) == 1
        run_jobs_now(deps)
        (routing,) = await routings_of(deps, case_id)
        assert routing.notice_attempts == attempt
    assert routing.notice_status is NoticeStatus.FAILED
    assert routing.notice_next_attempt_at is None
    clock.advance(timedelta(days=1))
    assert notices_swept(sweeper) == 0  # given up: never again
    await become(client, HOTLINE)  # a day later: the login has expired
    shown = await page(client, f"/cases/{case_id}")
    assert "Mislykkedes" in shown
    assert "connection" in shown
    # The routing itself stands: the unit can still find it under /routings.
    assert (await case_of(deps, case_id)).status is CaseStatus.ROUTED


async def test_a_lost_job_is_found_by_the_sweeper_and_a_deferral_is_retried(
    client: Any, deps: Deps, clock: FrozenClock, smtp: SmtpServer, settings: Settings
) -> None:
    unit_id = await add_unit(deps, "Infohus København", (KOEBENHAVN,))
    await people(deps, unit_id)
    case_id = await justified_case(client, deps, subject=KOEBENHAVN)
    headers = await become(client, HOTLINE)
    await client.post(
        f"/api/v1/cases/{case_id}/routings",
        json={"legal_basis": "Retsplejeloven § 115, stk. 2"},
        headers=headers,
    )
    await deps.enqueuer.drain()
    deps.redis.flushdb()  # Redis forgot the job
    sweeper = Sweeper(deps.job_context())
    assert notices_swept(sweeper) == 0  # within the grace period
    clock.advance(timedelta(seconds=settings.sweep_grace_seconds + 1))
    smtp.capture.defer = 1
    assert notices_swept(sweeper) == 1
    run_jobs_now(deps)
    (routing,) = await routings_of(deps, case_id)
    assert routing.notice_status is NoticeStatus.PENDING
    assert routing.notice_error_code == "smtp_451"
    assert routing.notice_next_attempt_at is not None
    clock.set(routing.notice_next_attempt_at)
    assert notices_swept(sweeper) == 1
    run_jobs_now(deps)
    run_jobs_now(deps)  # a second run changes nothing: the notice is no longer pending
    (routing,) = await routings_of(deps, case_id)
    assert routing.notice_status is NoticeStatus.SENT
    assert routing.notice_error_code is None
    assert len(smtp.capture.messages) == 1


async def test_a_refused_mailbox_fails_at_once_with_the_reason(
    client: Any, deps: Deps, smtp: SmtpServer
) -> None:
    unit_id = await add_unit(deps, "Infohus København", (KOEBENHAVN,), email="nobody@kk.example.dk")
    await people(deps, unit_id)
    smtp.capture.refuse["nobody"] = "550 5.1.1 Mailbox unavailable"
    case_id = await justified_case(client, deps, subject=KOEBENHAVN)
    headers = await become(client, HOTLINE)
    await client.post(
        f"/api/v1/cases/{case_id}/routings",
        json={"legal_basis": "Retsplejeloven § 115, stk. 2"},
        headers=headers,
    )
    await run_jobs(deps)
    (routing,) = await routings_of(deps, case_id)
    assert routing.notice_status is NoticeStatus.FAILED
    assert routing.notice_attempts == 1
    assert routing.notice_error_code == "smtp_550"
    assert routing.notice_error_message == "5.1.1 Mailbox unavailable"
    shown = await page(client, f"/cases/{case_id}")
    assert "smtp_550 5.1.1 Mailbox unavailable" in shown


async def test_bootstrap_chooses_the_smtp_sender_when_a_server_is_set(deps: Deps) -> None:
    assert isinstance(deps.email, SmtpEmailSender)
    assert deps.job_context().email is deps.email


# --- administering partner units ----------------------------------------------------------------


async def test_partner_units_are_validated_on_the_api(client: Any, deps: Deps) -> None:
    create_staff(deps, username=ADMIN, role=Role.ADMIN)
    headers = await become(client, ADMIN)
    good = {
        "name": "Infohus København",
        "kind": "coordination_unit",
        "email": "infohus@kk.example.dk",
        "municipalities": [KOEBENHAVN],
    }

    async def refused(
        body: dict[str, Any], field: str, method: str = "POST", path: str = ""
    ) -> str:
        answer = await client.request(
            method, path or "/api/v1/partner-units", json=body, headers=headers
        )
        assert answer.status == 400, await answer.text()
        error = (await answer.json())["error"]
        assert error["field"] == field
        return str(error["message"])

    await refused({**good, "name": "  "}, "name")
    await refused({**good, "email": "infohus"}, "email")
    await refused({**good, "email": "a@kk.dk\nBcc: b@kk.dk"}, "email")
    await refused({**good, "kind": "police"}, "kind")
    await refused({**good, "municipalities": []}, "municipalities")
    assert "999" in await refused({**good, "municipalities": [101, 999]}, "municipalities")

    first = await client.post("/api/v1/partner-units", json=good, headers=headers)
    assert first.status == 201
    unit_id = (await first.json())["id"]
    message = await refused(
        {**good, "name": "Infohus Amager", "municipalities": [185, KOEBENHAVN]}, "municipalities"
    )
    assert message == (
        "København is already covered by Infohus København. A municipality can have only one "
        "active unit: remove it there first."
    )
    await refused({**good, "name": "infohus københavn", "municipalities": [185]}, "name")

    # An inactive unit may overlap; activating it again may not.
    spare = await client.post(
        "/api/v1/partner-units",
        json={**good, "name": "Gammel enhed", "active": False},
        headers=headers,
    )
    assert spare.status == 201
    spare_id = (await spare.json())["id"]
    await refused(
        {**good, "name": "Gammel enhed", "active": True},
        "municipalities",
        method="PUT",
        path=f"/api/v1/partner-units/{spare_id}",
    )
    moved = await client.put(
        f"/api/v1/partner-units/{unit_id}",
        json={**good, "municipalities": [KOEBENHAVN, 185, 155]},
        headers=headers,
    )
    assert moved.status == 200
    assert (await moved.json())["municipalities"] == [KOEBENHAVN, 155, 185]
    missing = await client.put("/api/v1/partner-units/4242", json=good, headers=headers)
    assert missing.status == 404

    listed = await (await client.get("/api/v1/partner-units")).json()
    assert [(u["name"], u["active"]) for u in listed["items"]] == [
        ("Gammel enhed", False),
        ("Infohus København", True),
    ]
    assert len(await audits(deps, "partner_unit_created")) == 2

    create_staff(deps, username=HOTLINE)
    headers = await become(client, HOTLINE)
    assert (await client.get("/api/v1/partner-units")).status == 403
    assert (await client.post("/api/v1/partner-units", json=good, headers=headers)).status == 403


async def test_partner_units_on_the_admin_pages(client: Any, deps: Deps) -> None:
    create_staff(deps, username=ADMIN, role=Role.ADMIN)
    await become(client, ADMIN)
    shown = await page(client, "/admin/partner-units")
    assert "Københavns Politi" in shown  # municipalities grouped by police district
    assert 'id="municipality-147"' in shown

    response = await post_form(
        client,
        "/admin/partner-units",
        "/admin/partner-units",
        name="Infohus København",
        kind="coordination_unit",
        email="infohus@kk.example.dk",
        municipalities=str(KOEBENHAVN),
    )
    assert response.status == 303
    token = csrf_token(await page(client, "/admin/partner-units"))
    overlapping = await client.post(
        "/admin/partner-units",
        data=[
            ("csrf_token", token),
            ("name", "Infohus Frederiksberg"),
            ("kind", "infohus"),
            ("email", "infohus@frb.example.dk"),
            ("municipalities", str(FREDERIKSBERG)),
            ("municipalities", str(KOEBENHAVN)),
        ],
    )
    assert overlapping.status == 400
    shown = html.unescape(await overlapping.text())
    assert "København er allerede dækket af Infohus København" in shown
    assert 'value="Infohus Frederiksberg"' in shown  # the typed name is kept
    assert 'id="municipality-147" name="municipalities" value="147" checked' in shown

    bad_mail = await post_form(
        client,
        "/admin/partner-units",
        "/admin/partner-units",
        name="Infohus Frederiksberg",
        kind="infohus",
        email="ikke en adresse",
        municipalities=str(FREDERIKSBERG),
    )
    assert bad_mail.status == 400
    assert "Angiv enhedens postkasse som en e-mailadresse" in html.unescape(await bad_mail.text())

    async with deps.sessions() as session:
        (unit,) = (await session.scalars(select(PartnerUnit))).all()
    shown = await page(client, f"/admin/partner-units/{unit.id}")
    assert 'value="infohus@kk.example.dk"' in shown
    response = await post_form(
        client,
        f"/admin/partner-units/{unit.id}",
        f"/admin/partner-units/{unit.id}",
        name="Koordineringsenheden",
        kind="coordination_unit",
        email="koordinering@kk.example.dk",
        municipalities=str(KOEBENHAVN),
        active="yes",
    )
    assert response.status == 303
    response = await post_form(
        client, f"/admin/partner-units/{unit.id}/deactivate", "/admin/partner-units"
    )
    assert response.status == 303
    async with deps.sessions() as session:
        unit = await session.get_one(PartnerUnit, unit.id)
    assert unit.name == "Koordineringsenheden"
    assert unit.email == "koordinering@kk.example.dk"
    assert not unit.active
    assert "Inaktiv" in await page(client, "/admin/partner-units")

    create_staff(deps, username=HOTLINE)
    await become(client, HOTLINE)
    assert (await client.get("/admin/partner-units")).status == 403


# --- the CLI ------------------------------------------------------------------------------------


@pytest.fixture
def environ(test_environ: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in test_environ.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr("logs.configure_logging", lambda level, fmt: None)


async def test_staff_add_places_a_coordinator_in_an_existing_unit(
    deps: Deps, environ: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    unit_id = await add_unit(deps, "Infohus København", (KOEBENHAVN,))

    def add(*args: str) -> int:
        monkeypatch.setattr("sys.stdin", _Line("et langt kodeord til koordinatoren"))
        return cli.main(["staff", "add", *args, "--password-stdin"])

    assert add("kasper", "--role", "coordinator") == 2
    assert "--unit" in capsys.readouterr().err
    assert add("kasper", "--role", "coordinator", "--unit", "4242") == 2
    assert "no partner unit has id 4242" in capsys.readouterr().err
    assert add("hanne", "--role", "hotline", "--unit", str(unit_id)) == 2
    assert "only coordinators" in capsys.readouterr().err
    assert add("kasper", "--role", "coordinator", "--unit", str(unit_id)) == 0
    async with deps.sessions() as session:
        users = {u.username: u for u in (await session.scalars(select(StaffUser))).all()}
    assert set(users) == {"kasper"}
    assert users["kasper"].partner_unit_id == unit_id


class _Line:
    def __init__(self, text: str) -> None:
        self._text = text

    def readline(self) -> str:
        return self._text + "\n"
