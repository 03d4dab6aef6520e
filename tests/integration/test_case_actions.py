"""The case page's own actions: internal notes, moving a contact, merging, closing and reopening;
the same through the API; refusals in the page's language with nothing stored."""

from __future__ import annotations

import asyncio
import html
import itertools
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text

from access.models import AuditEntry, Role
from bootstrap import Deps
from intake.models import Contact
from tests.support.forms import csrf_token, open_form, valid_answers
from tests.support.jobs import run_jobs
from tests.support.staff import create_staff, log_in, logged_in, staff_api_headers
from triage import moves, workflow
from triage.models import (
    Case,
    CaseEvent,
    CaseNote,
    CaseStatus,
    CloseReason,
    Deadline,
    DeadlineKind,
    LinkProposal,
    LinkStatus,
)

pytestmark = pytest.mark.asyncio

NOTE = "Ringede til skolen.\nLæreren bekræfter ændringen siden sommer."
_phones = itertools.count(1)


def distinct_phone() -> str:
    """A valid Danish number no other report in the test has (so no link proposals)."""
    return f"20 12 {next(_phones) % 100:02d} 57"


async def report(client: Any, deps: Deps, **answers: str) -> int:
    """Submit the concern form and take it in; returns the new case's id."""
    answers.setdefault("phone", distinct_phone())
    token = await open_form(client)
    response = await client.post(
        "/report/national", data={"csrf_token": token, **valid_answers(**answers)}
    )
    assert response.status == 200
    await run_jobs(deps)
    async with deps.sessions() as session:
        return int(await session.scalar(select(func.max(Case.id))) or 0)


async def page(client: Any, case_id: int, lang: str | None = None) -> str:
    response = await client.get(f"/cases/{case_id}" + (f"?lang={lang}" if lang else ""))
    assert response.status == 200, await response.text()
    return text_of(await response.text())


def text_of(body: str) -> str:
    return html.unescape(body)


async def post_form(client: Any, case_id: int, path: str, lang: str = "da", **fields: str) -> Any:
    """A form on the case page, posted as the browser would (token from the page)."""
    token = csrf_token(await page(client, case_id, lang))
    return await client.post(
        f"/cases/{case_id}/{path}",
        data={"csrf_token": token, **fields},
        allow_redirects=False,
    )


async def load_case(deps: Deps, case_id: int) -> Case:
    async with deps.sessions() as session:
        return await session.get_one(Case, case_id)


async def events_of(deps: Deps, case_id: int) -> list[CaseEvent]:
    async with deps.sessions() as session:
        return list(
            await session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
            )
        )


async def contacts_of(deps: Deps, case_id: int) -> list[int]:
    async with deps.sessions() as session:
        return list(
            await session.scalars(
                select(Contact.id).where(Contact.case_id == case_id).order_by(Contact.id)
            )
        )


async def triage_deadline(deps: Deps, case_id: int) -> Deadline:
    async with deps.sessions() as session:
        found = await session.scalar(
            select(Deadline).where(
                Deadline.case_id == case_id, Deadline.kind == DeadlineKind.TRIAGE
            )
        )
    assert found is not None
    return found


async def move_to(deps: Deps, case_id: int, *targets: CaseStatus) -> None:
    """Walk a case through the state machine (as triage and routing would)."""
    async with deps.sessions() as session, session.begin():
        case = await session.get_one(Case, case_id, with_for_update=True)
        for target in targets:
            await workflow.change_status(
                session, case, target, actor=workflow.SYSTEM, now=deps.clock.now()
            )


async def reference(deps: Deps, case_id: int) -> str:
    return (await load_case(deps, case_id)).reference


def error_text(body: str) -> str:
    """The error summary's text, whitespace collapsed."""
    found = re.search(r'<div class="error-summary".*?</div>', body, re.S)
    assert found, "the page shows no error summary"
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", found.group(0))))


# --- internal notes --------------------------------------------------------------------------


async def test_a_note_is_stored_encrypted_and_shown_on_the_timeline(
    client: Any, deps: Deps
) -> None:
    case_id = await report(client, deps)
    await logged_in(client, deps)

    response = await post_form(client, case_id, "notes", body=NOTE)
    assert response.status == 303
    assert response.headers["Location"] == f"/cases/{case_id}#timeline-title"

    async with deps.sessions() as session:
        note = (await session.scalars(select(CaseNote))).one()
    assert note.body == NOTE.strip()
    assert note.case_id == case_id
    async with deps.engine.connect() as connection:
        raw = (await connection.execute(text("SELECT body FROM case_notes"))).scalar_one()
    assert "skolen" not in raw
    assert raw != NOTE
    event = [e for e in await events_of(deps, case_id) if e.kind == "note_added"]
    assert [(e.detail, e.actor_id) for e in event] == [({"note_id": note.id}, note.author_id)]

    shown = await page(client, case_id)
    entry = shown[shown.index("Intern note</span>") - 200 :]
    assert "Hanne" in entry[:400]  # the author's display name
    assert NOTE in shown  # line breaks kept in a pre-wrapped paragraph
    assert "02.03.2026 10.30" in entry[:400]  # local time (UTC+1)


async def test_an_empty_or_too_long_note_is_refused_in_the_page_language(
    client: Any, deps: Deps
) -> None:
    case_id = await report(client, deps)
    await logged_in(client, deps)

    empty = await post_form(client, case_id, "notes", body="   ")
    assert empty.status == 400
    assert "Skriv en note på 1 til 4000 tegn." in error_text(await empty.text())
    too_long = await post_form(client, case_id, "notes", lang="en", body="x" * 4001)
    assert too_long.status == 400
    body = await too_long.text()
    assert "Write a note of 1 to 4000 characters." in error_text(body)
    assert 'aria-invalid="true"' in body
    assert "x" * 4001 + "</textarea>" in body  # what was typed stays
    async with deps.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(CaseNote)) == 0


async def test_notes_through_the_api(client: Any, deps: Deps) -> None:
    case_id = await report(client, deps)
    headers = await staff_api_headers(client, deps)

    created = await client.post(
        f"/api/v1/cases/{case_id}/notes", json={"body": NOTE}, headers=headers
    )
    assert created.status == 201
    note = await created.json()
    assert set(note) == {"id", "case_id", "at", "author", "body"}
    assert note["body"] == NOTE
    assert note["author"]["name"] == "Hanne"
    assert note["at"].startswith("2026-03-02T09:30:00")

    listed = await client.get(f"/api/v1/cases/{case_id}/notes")
    assert listed.status == 200
    assert [n["id"] for n in (await listed.json())["items"]] == [note["id"]]
    async with deps.sessions() as session:
        reads = list(
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "read_case"))
        )
    assert [(r.subject_id, r.detail) for r in reads] == [
        (str(case_id), {"via": "api", "part": "notes"})
    ]

    for bad, field in (
        ({}, "body"),
        ({"body": ""}, "body"),
        ({"body": "   "}, "body"),
        ({"body": "x" * 4001}, "body"),
        ({"body": "ok", "author": 3}, "author"),
    ):
        refused = await client.post(f"/api/v1/cases/{case_id}/notes", json=bad, headers=headers)
        assert refused.status == 400, bad
        assert (await refused.json())["error"]["field"] == field, bad
    missing = await client.post("/api/v1/cases/999999/notes", json={"body": "x"}, headers=headers)
    assert missing.status == 404
    async with deps.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(CaseNote)) == 1


async def test_notes_are_for_hotline_staff(client: Any, deps: Deps) -> None:
    case_id = await report(client, deps)
    assert (await client.get(f"/api/v1/cases/{case_id}/notes")).status == 401
    create_staff(deps, username="infohus", role=Role.COORDINATOR)
    assert (await log_in(client, username="infohus")).status == 303
    for path in ("", "/notes", "/timeline"):
        assert (await client.get(f"/api/v1/cases/{case_id}{path}")).status == 403, path


# --- moving a contact ------------------------------------------------------------------------


async def test_moving_one_of_two_contacts_keeps_the_source_open(client: Any, deps: Deps) -> None:
    source = await report(client, deps, phone="20 12 34 56")
    other = await report(client, deps, phone="31 45 67 89")
    target = await report(client, deps, phone="20 12 34 56")  # proposed to join `source`
    (proposal,) = await _proposals(deps)
    async with deps.sessions() as session, session.begin():
        # A second contact in `source`, so moving the first does not empty it.
        second = await session.get_one(Contact, (await contacts_of(deps, other))[0])
        second.case_id = source
    first_contact = (await contacts_of(deps, source))[0]
    await logged_in(client, deps)
    target_reference = await reference(deps, target)

    response = await post_form(
        client, source, f"contacts/{first_contact}/move", reference=f" {target_reference} "
    )
    assert response.status == 303, await response.text()
    assert response.headers["Location"] == f"/cases/{source}"

    assert await contacts_of(deps, target) == sorted([first_contact, proposal.contact_id])
    assert (await load_case(deps, source)).closed_at is None
    moved = [e for e in await events_of(deps, source) if e.kind == "contact_moved"]
    linked = [e for e in await events_of(deps, target) if e.kind == "contact_linked"]
    assert [(e.contact_id, e.detail, e.actor_id is not None) for e in moved] == [
        (first_contact, {"to_case": target, "to_reference": target_reference}, True)
    ]
    assert [e.detail for e in linked] == [
        {"from_case": source, "from_reference": await reference(deps, source)}
    ]
    # The proposal to join `source` was for the other contact; it is still open.
    assert (await _proposals(deps))[0].status is LinkStatus.PROPOSED

    shown = await page(client, source)
    assert f"Henvendelse {first_contact} flyttet til sag {target_reference}" in shown
    assert f'href="/cases/{target}"' in shown


async def test_moving_the_last_contact_closes_the_case_as_merged(client: Any, deps: Deps) -> None:
    first = await report(client, deps, phone="20 12 34 56")
    second = await report(client, deps, phone="20 12 34 56")
    third = await report(client, deps)
    (proposal,) = await _proposals(deps)  # the second's contact may belong to the first
    assert (proposal.case_id, proposal.contact_id) == (first, (await contacts_of(deps, second))[0])
    headers = await staff_api_headers(client, deps)
    contact_id = (await contacts_of(deps, first))[0]
    third_contacts = await contacts_of(deps, third)

    response = await client.post(
        f"/api/v1/cases/{first}/contacts/{contact_id}/move",
        json={"to_reference": await reference(deps, third)},
        headers=headers,
    )
    assert response.status == 200, await response.text()
    answer = await response.json()
    assert answer["contact_ids"] == [contact_id]
    assert answer["source"]["status"] == "closed"
    assert answer["source"]["closed_reason"] == "merged"
    assert answer["source"]["merged_into"] == {
        "id": third,
        "reference": await reference(deps, third),
    }
    assert answer["source"]["contact_ids"] == []
    assert answer["target"]["contact_ids"] == sorted([contact_id, *third_contacts])

    closed = await load_case(deps, first)
    assert (closed.status, closed.closed_reason) == (CaseStatus.CLOSED, CloseReason.MERGED)
    status_event = [e for e in await events_of(deps, first) if e.kind == "status_changed"][-1]
    assert status_event.detail["into_case"] == third
    # The proposal to join the closed case now proposes the case it went into.
    (redirected,) = await _proposals(deps)
    assert (redirected.case_id, redirected.status) == (third, LinkStatus.PROPOSED)


async def test_a_move_closes_the_contacts_open_proposals(client: Any, deps: Deps) -> None:
    first = await report(client, deps, phone="20 12 34 56")
    second = await report(client, deps, phone="20 12 34 56")
    third = await report(client, deps)
    (proposal,) = await _proposals(deps)
    await logged_in(client, deps)

    response = await post_form(
        client,
        second,
        f"contacts/{proposal.contact_id}/move",
        reference=await reference(deps, third),
    )
    assert response.status == 303
    (closed,) = await _proposals(deps)
    assert closed.status is LinkStatus.SUPERSEDED
    assert closed.decided_at == deps.clock.now()
    assert closed.decided_by is not None
    assert (await load_case(deps, first)).closed_at is None
    assert (await load_case(deps, second)).closed_reason is CloseReason.MERGED
    shown = await page(client, first)
    assert "Forslag til sammenkædning" not in shown  # nothing left to decide


async def test_move_refusals_name_the_problem_and_change_nothing(client: Any, deps: Deps) -> None:
    source = await report(client, deps)
    target = await report(client, deps)
    closed = await report(client, deps)
    await move_to(deps, closed, CaseStatus.IN_TRIAGE)
    async with deps.sessions() as session, session.begin():
        case = await session.get_one(Case, closed, with_for_update=True)
        await workflow.change_status(
            session,
            case,
            CaseStatus.CLOSED,
            actor=workflow.SYSTEM,
            now=deps.clock.now(),
            reason=CloseReason.NOT_JUSTIFIED,
        )
    await move_to(deps, source, CaseStatus.IN_TRIAGE, CaseStatus.JUSTIFIED, CaseStatus.ROUTED)
    contact_id = (await contacts_of(deps, source))[0]
    await logged_in(client, deps)
    path = f"contacts/{contact_id}/move"

    unknown = await post_form(client, source, path, reference="NAT-2026-99999")
    assert unknown.status == 400
    assert "Ingen sag har denne reference." in error_text(await unknown.text())
    assert 'value="NAT-2026-99999"' in await unknown.text()
    same = await post_form(client, source, path, reference=await reference(deps, source))
    assert same.status == 400
    assert "sagens egen reference" in error_text(await same.text())
    to_closed = await post_form(client, source, path, reference=await reference(deps, closed))
    assert to_closed.status == 409
    assert "Den sag er lukket." in error_text(await to_closed.text())

    # The routed case's only contact: the case would have to close as merged, which routed
    # cases cannot.
    routed = await post_form(client, source, path, reference=await reference(deps, target))
    assert routed.status == 409
    said = error_text(await routed.text())
    assert "sagen ville blive lukket som sammenlagt" in said
    assert "En sag, der er “Videresendt”, kan ikke blive “Lukket”." in said
    english = await post_form(
        client, source, path, lang="en", reference=await reference(deps, target)
    )
    assert english.status == 409
    assert "A case that is “Routed” cannot become “Closed”." in error_text(await english.text())

    headers = {"X-CSRF-Token": csrf_token(await page(client, source))}
    api = f"/api/v1/cases/{source}/contacts/{contact_id}/move"
    for body, status, field in (
        ({"to_reference": "NAT-2026-99999"}, 400, "to_reference"),
        ({"to_reference": ""}, 400, "to_reference"),
        ({"reference": "x"}, 400, "to_reference"),
        ({"to_reference": await reference(deps, closed)}, 409, "to_reference"),
    ):
        refused = await client.post(api, json=body, headers=headers)
        assert refused.status == status, body
        assert (await refused.json())["error"]["field"] == field, body
    conflict = await client.post(
        api, json={"to_reference": await reference(deps, target)}, headers=headers
    )
    assert conflict.status == 409
    assert "routed cannot become closed" in (await conflict.json())["error"]["message"]
    elsewhere = await client.post(
        f"/api/v1/cases/{target}/contacts/{contact_id}/move",
        json={"to_reference": await reference(deps, closed)},
        headers=headers,
    )
    assert elsewhere.status == 404  # not a contact of that case

    assert await contacts_of(deps, source) == [contact_id]
    assert (await load_case(deps, source)).status is CaseStatus.ROUTED
    kinds = {e.kind for e in await events_of(deps, source)} | {
        e.kind for e in await events_of(deps, target)
    }
    assert not kinds & {"contact_moved", "contact_linked"}


# --- merging ---------------------------------------------------------------------------------


async def test_a_merge_moves_every_contact_and_keeps_the_earlier_deadlines(
    client: Any, deps: Deps, clock: Any
) -> None:
    older = await report(client, deps)
    helper = await report(client, deps)
    async with deps.sessions() as session, session.begin():
        # A second contact on the older case: a merge moves every one.
        extra = await session.get_one(Contact, (await contacts_of(deps, helper))[0])
        extra.case_id = older
    older_contacts = await contacts_of(deps, older)
    assert len(older_contacts) == 2
    clock.advance(timedelta(hours=5))
    newer = await report(client, deps, safety_violence="yes")  # acute
    await move_to(deps, older, CaseStatus.IN_TRIAGE)
    older_deadline = await triage_deadline(deps, older)
    newer_deadline = await triage_deadline(deps, newer)
    assert older_deadline.due_at < newer_deadline.due_at
    older_case, newer_case = await load_case(deps, older), await load_case(deps, newer)
    await logged_in(client, deps)

    # Merge the OLDER case into the newer one: the newer keeps the older's earlier times.
    response = await post_form(client, older, "merge", reference=newer_case.reference)
    assert response.status == 303, error_text(await response.text())
    assert response.headers["Location"] == f"/cases/{newer}"

    assert await contacts_of(deps, older) == []
    newer_contacts = await contacts_of(deps, newer)
    assert set(older_contacts) < set(newer_contacts)
    assert len(newer_contacts) == 3
    merged, kept = await load_case(deps, older), await load_case(deps, newer)
    assert (merged.status, merged.closed_reason) == (CaseStatus.CLOSED, CloseReason.MERGED)
    assert kept.received_at == older_case.received_at
    assert kept.queue_due_at == older_deadline.due_at
    assert kept.is_acute is True  # acute stays acute
    deadline = await triage_deadline(deps, newer)
    assert deadline.due_at == older_deadline.due_at
    assert deadline.started_at == older_deadline.started_at
    assert deadline.met_at is None
    assert (await triage_deadline(deps, older)).met_at == deps.clock.now()

    (into,) = [e for e in await events_of(deps, older) if e.kind == "merged_into"]
    assert into.detail == {
        "into_case": newer,
        "into_reference": newer_case.reference,
        "contact_ids": older_contacts,
    }
    (came,) = [e for e in await events_of(deps, newer) if e.kind == "case_merged"]
    assert came.detail == {
        "from_case": older,
        "from_reference": older_case.reference,
        "contact_ids": older_contacts,
        "brought_forward": ["received", "triage"],
    }
    assert came.actor_id is not None

    shown = await page(client, older)
    assert "Denne sag er lagt sammen med en anden sag" in shown
    assert f'<a href="/cases/{newer}">{newer_case.reference}</a>' in shown
    kept_page = await page(client, newer)
    assert f"Sag {older_case.reference} blev lagt sammen med denne sag" in kept_page
    assert "modtagelsestidspunktet, Vurdering" in kept_page


async def test_a_merge_into_a_case_with_a_later_deadline_only_moves_it_earlier(
    client: Any, deps: Deps, clock: Any
) -> None:
    older = await report(client, deps)
    clock.advance(timedelta(hours=3))
    newer = await report(client, deps)
    before = await triage_deadline(deps, older)
    headers = await staff_api_headers(client, deps)
    # Merge the NEWER case into the older: the older's times are earlier already.
    response = await client.post(
        f"/api/v1/cases/{newer}/merge",
        json={"into_reference": await reference(deps, older)},
        headers=headers,
    )
    assert response.status == 200, await response.text()
    answer = await response.json()
    assert answer["brought_forward"] == []
    assert answer["target"]["id"] == older
    assert answer["source"]["merged_into"]["id"] == older
    (deadline,) = answer["target"]["deadlines"]
    assert deadline["kind"] == "triage"
    assert datetime.fromisoformat(deadline["due_at"]) == before.due_at
    assert deadline["met_at"] is None
    assert (await triage_deadline(deps, older)).due_at == before.due_at


async def test_a_merge_updates_link_proposals(client: Any, deps: Deps) -> None:
    first = await report(client, deps, phone="20 12 34 56")
    second = await report(client, deps, phone="20 12 34 56")  # proposed to join first
    third = await report(client, deps, phone="40 40 40 40")
    fourth = await report(client, deps, phone="40 40 40 40")  # proposed to join third
    proposals = await _proposals(deps)
    assert [(p.case_id, p.status) for p in proposals] == [
        (first, LinkStatus.PROPOSED),
        (third, LinkStatus.PROPOSED),
    ]
    headers = await staff_api_headers(client, deps)

    # second into first: the proposal (second's contact → first) is answered by the merge.
    merged = await client.post(
        f"/api/v1/cases/{second}/merge",
        json={"into_reference": await reference(deps, first)},
        headers=headers,
    )
    assert merged.status == 200
    # third into first: the proposal to join third now proposes first.
    merged = await client.post(
        f"/api/v1/cases/{third}/merge",
        json={"into_reference": await reference(deps, first)},
        headers=headers,
    )
    assert merged.status == 200
    answered, redirected = await _proposals(deps)
    assert answered.status is LinkStatus.SUPERSEDED
    assert (redirected.case_id, redirected.status) == (first, LinkStatus.PROPOSED)
    assert (await load_case(deps, fourth)).closed_at is None


async def test_merge_refusals_change_nothing(client: Any, deps: Deps) -> None:
    routed = await report(client, deps)
    target = await report(client, deps)
    await move_to(deps, routed, CaseStatus.IN_TRIAGE, CaseStatus.JUSTIFIED, CaseStatus.ROUTED)
    await logged_in(client, deps)

    refused = await post_form(client, routed, "merge", reference=await reference(deps, target))
    assert refused.status == 409
    assert "En sag, der er “Videresendt”, kan ikke blive “Lukket”." in error_text(
        await refused.text()
    )
    english = await post_form(
        client, routed, "merge", lang="en", reference=await reference(deps, target)
    )
    assert "A case that is “Routed” cannot become “Closed”." in error_text(await english.text())
    self_merge = await post_form(client, target, "merge", reference=await reference(deps, target))
    assert self_merge.status == 400
    unknown = await post_form(client, target, "merge", reference="KBH-2026-00001")
    assert unknown.status == 400

    headers = {"X-CSRF-Token": csrf_token(await page(client, target))}
    api = await client.post(
        f"/api/v1/cases/{routed}/merge",
        json={"into_reference": await reference(deps, target)},
        headers=headers,
    )
    assert api.status == 409
    assert "routed cannot become closed" in (await api.json())["error"]["message"]
    into_routed = await client.post(
        f"/api/v1/cases/{target}/merge",
        json={"into_reference": await reference(deps, routed)},
        headers=headers,
    )
    assert into_routed.status == 200  # an open case may receive a merge whatever its status
    closed_now = await client.post(
        f"/api/v1/cases/{routed}/merge",
        json={"into_reference": await reference(deps, target)},
        headers=headers,
    )
    assert closed_now.status == 409
    assert (await closed_now.json())["error"]["field"] == "into_reference"
    bad = await client.post(f"/api/v1/cases/{routed}/merge", json={"into": "x"}, headers=headers)
    assert (bad.status, (await bad.json())["error"]["field"]) == (400, "into_reference")
    assert (await load_case(deps, routed)).status is CaseStatus.ROUTED


async def _waiting_for_a_lock(deps: Deps) -> None:
    """Until another connection of this database waits for a row lock (fails after 10 s)."""
    for _ in range(1000):
        async with deps.engine.connect() as connection:
            waiting = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        if waiting:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("no transaction ever waited for the lock")


@pytest.mark.parametrize("merge_lower_into_higher", [True, False])
async def test_a_merge_locks_both_cases_in_id_order(
    client: Any, deps: Deps, merge_lower_into_higher: bool
) -> None:
    if deps.engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite locks the whole database")
    lower = await report(client, deps)
    higher = await report(client, deps)
    staff_id = create_staff(deps)
    source, target = (lower, higher) if merge_lower_into_higher else (higher, lower)
    target_reference = await reference(deps, target)

    async def merge() -> moves.Moved:
        async with deps.sessions() as session, session.begin():
            return await moves.merge_cases(
                session,
                source,
                into_reference=target_reference,
                staff_id=staff_id,
                now=deps.clock.now(),
            )

    async with deps.engine.connect() as holder:
        transaction = await holder.begin()
        # Hold the HIGHER id: a merger locking in id order takes the lower one, then waits.
        await holder.execute(text("SELECT id FROM cases WHERE id = :id FOR UPDATE"), {"id": higher})
        merging = asyncio.create_task(merge())
        await _waiting_for_a_lock(deps)
        taken = await holder.execute(
            text("SELECT id FROM cases WHERE id = :id FOR UPDATE SKIP LOCKED"), {"id": lower}
        )
        assert taken.all() == [], "the merge waits for the higher id without holding the lower"
        await transaction.rollback()
    done = await merging
    assert done.target.id == target


async def test_opposite_merges_at_once_do_not_deadlock(client: Any, deps: Deps) -> None:
    first = await report(client, deps)
    second = await report(client, deps)
    staff_id = create_staff(deps)
    references = {first: await reference(deps, first), second: await reference(deps, second)}

    async def merge(source: int, target: int) -> str:
        try:
            async with deps.sessions() as session, session.begin():
                await moves.merge_cases(
                    session,
                    source,
                    into_reference=references[target],
                    staff_id=staff_id,
                    now=deps.clock.now(),
                )
        except moves.MoveRefused as exc:
            return exc.code
        return "merged"

    outcomes = await asyncio.gather(merge(first, second), merge(second, first))
    assert sorted(outcomes) == ["merged", moves.TARGET_CLOSED]
    statuses = {(await load_case(deps, c)).status for c in (first, second)}
    assert statuses == {CaseStatus.CLOSED, CaseStatus.NEW}


# --- closing and reopening -------------------------------------------------------------------


async def test_close_a_new_case_as_no_concern_then_reopen_it_with_a_note(
    client: Any, deps: Deps, clock: Any
) -> None:
    case_id = await report(client, deps)
    await logged_in(client, deps)
    shown = await page(client, case_id)
    assert "Luk: ingen bekymring at vurdere" in shown
    assert "Genåbn sagen" not in shown

    closed = await post_form(
        client, case_id, "status", status="closed", reason="no_concern", note="Tavst opkald."
    )
    assert closed.status == 303
    case = await load_case(deps, case_id)
    assert (case.status, case.closed_reason) == (CaseStatus.CLOSED, CloseReason.NO_CONCERN)
    assert (await triage_deadline(deps, case_id)).met_at == deps.clock.now()

    clock.advance(timedelta(hours=2))  # within the staff login's lifetime
    missing = await post_form(client, case_id, "status", status="in_triage", note=" ")
    assert missing.status == 400
    assert "Skriv, hvorfor sagen genåbnes." in error_text(await missing.text())
    english = await post_form(client, case_id, "status", lang="en", status="in_triage")
    assert "Write why the case is reopened." in error_text(await english.text())
    assert (await load_case(deps, case_id)).status is CaseStatus.CLOSED

    reopened = await post_form(
        client, case_id, "status", status="in_triage", note="Moren ringede igen med nyt."
    )
    assert reopened.status == 303
    case = await load_case(deps, case_id)
    assert (case.status, case.closed_reason, case.closed_at) == (CaseStatus.IN_TRIAGE, None, None)
    deadline = await triage_deadline(deps, case_id)
    assert deadline.met_at is None
    assert deadline.due_at == deps.clock.now() + timedelta(hours=24)
    assert case.queue_due_at == deadline.due_at
    changes = [e for e in await events_of(deps, case_id) if e.kind == "status_changed"]
    assert [(e.detail["from"], e.detail["to"], e.detail.get("reason")) for e in changes] == [
        ("new", "closed", "no_concern"),
        ("closed", "in_triage", None),
    ]
    async with deps.sessions() as session:
        bodies = list(await session.scalars(select(CaseNote.body).order_by(CaseNote.id)))
    assert bodies == ["Tavst opkald.", "Moren ringede igen med nyt."]
    assert changes[1].detail["note_id"] is not None

    shown = await page(client, case_id)
    assert "Ny → Lukket" in shown
    assert "Årsag: Ingen bekymring at vurdere" in shown
    assert "Lukket → Under kvalificering" in shown
    assert "Moren ringede igen med nyt." in shown
    assert "Ny frist for vurdering:" in shown
    queue = await (await client.get("/api/v1/queue")).json()
    assert [i["id"] for i in queue["items"]] == [case_id]


async def test_status_refusals_use_the_state_machine_in_the_page_language(
    client: Any, deps: Deps
) -> None:
    routed = await report(client, deps)
    fresh = await report(client, deps)
    triaging = await report(client, deps)
    await move_to(deps, routed, CaseStatus.IN_TRIAGE, CaseStatus.JUSTIFIED, CaseStatus.ROUTED)
    await move_to(deps, triaging, CaseStatus.IN_TRIAGE)
    await logged_in(client, deps)

    shown = await page(client, routed)
    assert "Luk: ingen bekymring at vurdere" not in shown  # not offered
    close_routed = await post_form(client, routed, "status", status="closed", reason="no_concern")
    assert close_routed.status == 409
    assert "En sag, der er “Videresendt”, kan ikke blive “Lukket”." in error_text(
        await close_routed.text()
    )
    in_english = await post_form(
        client, routed, "status", lang="en", status="closed", reason="no_concern"
    )
    assert in_english.status == 409
    assert "A case that is “Routed” cannot become “Closed”. It can become: " in error_text(
        await in_english.text()
    )
    reopen_open = await post_form(client, triaging, "status", status="in_triage", note="Hvorfor")
    assert reopen_open.status == 409
    assert "kan ikke blive “Under kvalificering”" in error_text(await reopen_open.text())
    start_triage = await post_form(client, fresh, "status", status="in_triage", note="Hvorfor")
    assert start_triage.status == 409
    assert "Denne formular lukker kun" in error_text(await start_triage.text())
    other_reason = await post_form(client, fresh, "status", status="closed", reason="not_justified")
    assert other_reason.status == 400
    assert "Ingen bekymring at vurdere" in error_text(await other_reason.text())

    headers = {"X-CSRF-Token": csrf_token(shown)}
    for body, status, field in (
        ({"status": "routed"}, 400, "status"),
        ({"status": "closed", "reason": "police"}, 400, "reason"),
        ({"status": "in_triage"}, 400, "note"),
        ({"status": "closed", "reason": "no_concern", "extra": 1}, 400, "extra"),
        ({"status": "closed", "reason": "no_concern"}, 409, "status"),
    ):
        refused = await client.post(f"/api/v1/cases/{routed}/status", json=body, headers=headers)
        assert refused.status == status, body
        assert (await refused.json())["error"]["field"] == field, body
    conflict = await client.post(
        f"/api/v1/cases/{routed}/status",
        json={"status": "closed", "reason": "no_concern"},
        headers=headers,
    )
    assert "routed cannot become closed" in (await conflict.json())["error"]["message"]
    ok = await client.post(
        f"/api/v1/cases/{fresh}/status",
        json={"status": "closed", "reason": "no_concern"},
        headers=headers,
    )
    assert ok.status == 200
    assert (await ok.json())["closed_reason"] == "no_concern"
    assert (await load_case(deps, routed)).status is CaseStatus.ROUTED
    assert (await load_case(deps, triaging)).status is CaseStatus.IN_TRIAGE


async def _proposals(deps: Deps) -> list[LinkProposal]:
    async with deps.sessions() as session:
        return list(await session.scalars(select(LinkProposal).order_by(LinkProposal.id)))
