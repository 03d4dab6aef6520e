"""The case's timeline of everything, in words, on the page and as JSON; the case summary API."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from access.models import AuditEntry
from bootstrap import Deps
from clock import FrozenClock
from intake.models import Contact, Message, MessageDirection
from tests.support.forms import open_form, valid_answers
from tests.support.jobs import run_jobs
from tests.support.staff import create_staff, log_in, staff_api_headers
from triage.models import ActorKind, Case, CaseEvent, CaseNote

pytestmark = pytest.mark.asyncio


async def report(client: Any, deps: Deps, phone: str) -> tuple[int, int]:
    """A web-form report taken in; returns (case id, contact id)."""
    token = await open_form(client)
    response = await client.post(
        "/report/national", data={"csrf_token": token, **valid_answers(phone=phone)}
    )
    assert response.status == 200
    await run_jobs(deps)
    async with deps.sessions() as session:
        contact = await session.scalar(select(Contact).order_by(Contact.id.desc()).limit(1))
    assert contact is not None
    assert contact.case_id is not None
    return contact.case_id, contact.id


def entries(page: str) -> list[str]:
    """Each timeline entry's text, whitespace collapsed."""
    section = page[page.index('<ol class="timeline">') :]
    section = section[: section.index("</ol>")]
    items = re.findall(r"<li class=\"timeline-entry\">(.*?)</li>", section, re.S)
    return [re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", i))).strip() for i in items]


def entry(found: list[str], title: str) -> str:
    matching = [e for e in found if f"– {title} –" in e]
    assert matching, f"no timeline entry {title!r} in:\n" + "\n".join(found)
    return matching[0]


async def add_every_kind(deps: Deps, case_id: int, contact_id: int, other: int) -> None:
    """Every kind of entry the triage workspace writes, plus kinds this code does not know."""
    hanne = create_staff(deps)
    bo = create_staff(deps, username="bo")
    now = deps.clock.now()
    later = [now + timedelta(minutes=i) for i in range(1, 30)]
    async with deps.sessions() as session, session.begin():
        note = CaseNote(case_id=case_id, author_id=hanne, at=later[0], body="Husk skolen.")
        reopen_note = CaseNote(case_id=case_id, author_id=hanne, at=later[1], body="Nyt opkald.")
        session.add_all([note, reopen_note])
        await session.flush()
        message = Message(
            contact_id=contact_id,
            direction=MessageDirection.OUTBOUND,
            body="Tak for din henvendelse.",
            created_at=later[2],
            status="available",
            status_at=later[2],
            staff_id=bo,
            attempts=0,
        )
        session.add(message)
        await session.flush()

        def add(at: int, kind: str, actor: int | None = hanne, **detail: Any) -> None:
            session.add(
                CaseEvent(
                    case_id=case_id,
                    at=later[at],
                    actor_kind=ActorKind.STAFF if actor else ActorKind.SYSTEM,
                    actor_id=actor,
                    kind=kind,
                    contact_id=detail.pop("contact_id", None),
                    detail=detail,
                )
            )

        add(3, "note_added", note_id=note.id)
        add(4, "assigned", assignee_id=bo)
        add(5, "unassigned", previous_assignee_id=bo)
        add(
            6,
            "link_proposed",
            None,
            contact_id=contact_id,
            other_case_id=other,
            reason="same_phone",
        )
        add(7, "link_rejected", contact_id=contact_id)
        add(8, "contact_linked", contact_id=contact_id, from_case=other, from_reference="x")
        add(9, "contact_moved", contact_id=contact_id, to_case=other, to_reference="x")
        add(10, "case_merged", from_case=other, contact_ids=[7, 8], brought_forward=["received"])
        add(11, "merged_into", into_case=other, contact_ids=[7])
        moves: list[dict[str, Any]] = [
            {"from": "new", "to": "in_triage", "action": "start_triage"},
            {
                "from": "in_triage",
                "to": "closed",
                "action": "close",
                "reason": "merged",
                "into_case": other,
            },
            {
                "from": "closed",
                "to": "in_triage",
                "action": "reopen",
                "note_id": reopen_note.id,
                "triage_due_at": (now + timedelta(hours=30)).isoformat(),
            },
        ]
        for at, move in enumerate(moves, start=12):
            add(at, "status_changed", **move)
        add(15, "case_closed")
        add(16, "triage_submitted", outcome="justified")
        add(19, "some_future_kind", weird={"nested": [1, 2]})
        add(20, "assigned", assignee_id="not-an-id")  # a malformed detail still renders
        add(
            21,
            "message_received",
            None,
            contact_id=contact_id,
            message_id=message.id,
            channel="sms",
        )


async def test_every_kind_is_shown_in_words_with_actor_time_and_details(
    client: Any, deps: Deps, clock: FrozenClock
) -> None:
    other_case, _ = await report(client, deps, "31 45 67 89")
    case_id, contact_id = await report(client, deps, "20 12 34 56")
    await add_every_kind(deps, case_id, contact_id, other_case)
    async with deps.sessions() as session:
        other_reference = (await session.get_one(Case, other_case)).reference
    clock.advance(timedelta(hours=25))  # the triage deadline has passed, unmet
    assert (await log_in(client)).status == 303  # as Hanne, created above

    response = await client.get(f"/cases/{case_id}")
    assert response.status == 200
    found = entries(await response.text())

    assert "– Henvendelse modtaget – Henvender" in found[0]
    assert "Webformular" in found[0]
    assert f"Vis henvendelse {contact_id}" in found[0]
    assert "– Sag oprettet – System" in found[1]
    assert "Frist startet – System Vurdering Senest:" in entry(found, "Frist startet")
    assert entry(found, "Intern note").endswith("Hanne Husk skolen.")
    assert "Tildelt Bo" in entry(found, "Tildelt")
    assert "Bo er ikke længere tildelt" in entry(found, "Tildeling fjernet")
    assert f"hører måske til sag {other_reference} (Samme telefonnummer)" in entry(
        found, "Sammenkædning foreslået"
    )
    assert f"Henvendelse {contact_id} hører ikke til denne sag" in entry(
        found, "Sammenkædning afvist"
    )
    assert f"kom fra sag {other_reference}" in entry(found, "Henvendelse tilknyttet")
    assert f"flyttet til sag {other_reference}" in entry(
        found, "Henvendelse flyttet til en anden sag"
    )
    merged_in = entry(found, "En anden sag lagt sammen med denne")
    assert f"Sag {other_reference} blev lagt sammen med denne sag" in merged_in
    assert "Henvendelser: 7, 8" in merged_in
    assert "Overtaget fra den sammenlagte sag, fordi det var tidligere: modtagelsestidspunktet" in (
        merged_in
    )
    assert f"Denne sag blev lagt sammen med sag {other_reference}" in entry(
        found, "Lagt sammen med en anden sag"
    )
    changes = [e for e in found if "– Status ændret –" in e]
    assert "Ny → Under kvalificering" in changes[0]
    assert "Under kvalificering → Lukket" in changes[1]
    assert "Årsag: Lagt sammen med en anden sag" in changes[1]
    assert f"Ind i sag {other_reference}" in changes[1]
    assert "Lukket → Under kvalificering" in changes[2]
    assert "Ny frist for vurdering:" in changes[2]
    assert "Nyt opkald." in changes[2]
    assert "– Sag lukket – Hanne" in entry(found, "Sag lukket")
    assert "Vurdering indsendt – Hanne" in entry(found, "Vurdering indsendt")
    # Unknown kinds: by their own name, their details not shown.
    assert entry(found, "Some future kind").endswith("– Hanne")
    assert "nested" not in "\n".join(found)
    assert "Tildelt Medarbejder" in [e for e in found if "– Tildelt –" in e][1]
    assert "Vis beskeden" in entry(found, "Besked modtaget")
    reply = entry(found, "Svar til henvenderen")
    assert "– Bo" in reply
    assert "Vis svaret" in reply
    assert "Vurdering" in entry(found, "Frist overskredet")
    # Oldest first; at equal times, the events before rows derived from them.
    times = [f.split(" – ")[0] for f in found]
    assert times == sorted(times, key=lambda t: t)  # all the same day, HH.MM sort as text

    english = entries(await (await client.get(f"/cases/{case_id}?lang=en")).text())
    assert "– Contact received – Reporter" in english[0]
    assert "Assigned to Bo" in entry(english, "Assigned")
    assert "New → In triage" in entry(english, "Status changed")
    assert "Another case merged into this one" in "\n".join(english)
    assert entry(english, "Internal note").endswith("Hanne Husk skolen.")
    assert "Deadline passed" in "\n".join(english)

    # The deadlines have their own list.
    page = html.unescape(await (await client.get(f"/cases/{case_id}?lang=da")).text())
    deadlines = page[page.index('id="deadlines-title"') :]
    deadlines = deadlines[: deadlines.index("</table>")]
    assert "Vurdering" in deadlines
    assert "Overskredet" in deadlines
    assert "Endnu ikke" in deadlines


async def test_the_case_and_timeline_as_json(client: Any, deps: Deps) -> None:
    case_id, contact_id = await report(client, deps, "20 12 34 56")
    headers = await staff_api_headers(client, deps)
    noted = await client.post(
        f"/api/v1/cases/{case_id}/notes", json={"body": "Ring tilbage."}, headers=headers
    )
    assert noted.status == 201
    note_id = (await noted.json())["id"]

    response = await client.get(f"/api/v1/cases/{case_id}")
    assert response.status == 200
    summary = await response.json()
    assert set(summary) == {
        "id",
        "reference",
        "status",
        "closed_reason",
        "closed_at",
        "merged_into",
        "hotline",
        "channel",
        "reporter_role",
        "received_at",
        "acute",
        "assignee",
        "deadlines",
        "contact_ids",
    }
    assert summary["status"] == "new"
    assert summary["hotline"] == "national"
    assert summary["channel"] == "web_form"
    assert summary["contact_ids"] == [contact_id]
    assert summary["assignee"] is None
    assert summary["merged_into"] is None
    (deadline,) = summary["deadlines"]
    assert (deadline["kind"], deadline["met_at"], deadline["overdue"]) == ("triage", None, False)

    response = await client.get(f"/api/v1/cases/{case_id}/timeline")
    assert response.status == 200
    timeline = await response.json()
    assert timeline["case_id"] == case_id
    kinds = [(e["kind"], e["actor"]["kind"]) for e in timeline["items"]]
    assert kinds == [
        ("contact_received", "reporter"),
        ("case_opened", "system"),
        ("note_added", "staff"),
    ]
    note_event = timeline["items"][2]
    assert note_event["detail"] == {"note_id": note_id}
    assert note_event["actor"]["name"] == "Hanne"
    assert note_event["label"] == "Internal note"
    assert "Ring tilbage." not in str(timeline)  # the text is only under /notes
    assert set(note_event) == {"id", "at", "kind", "label", "actor", "contact_id", "detail"}

    async with deps.sessions() as session:
        reads = list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "read_case").order_by(AuditEntry.id)
            )
        )
    assert [r.detail["part"] for r in reads] == ["summary", "timeline"]
    assert {r.subject_id for r in reads} == {str(case_id)}

    assert (await client.get("/api/v1/cases/999999")).status == 404
    assert (await client.get("/api/v1/cases/999999/timeline")).status == 404
    assert (await client.get(f"/api/v1/cases/{2**64}")).status == 404


async def test_the_case_api_needs_a_login(client: Any, deps: Deps) -> None:
    for path in ("/api/v1/cases/1", "/api/v1/cases/1/timeline", "/api/v1/cases/1/notes"):
        response = await client.get(path)
        assert response.status == 401, path
