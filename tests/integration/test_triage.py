"""Structured triage end to end: drafts, submission for each outcome, the rules' consequences on
the case, concurrent saves, child welfare notifications, the API's answers, and old versions."""

from __future__ import annotations

import asyncio
import dataclasses
import html
import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from structlog.testing import capture_logs

from access.models import AuditEntry, Role
from bootstrap import Deps
from clock import FrozenClock
from tests.support.forms import csrf_token, open_form, valid_answers
from tests.support.jobs import run_jobs
from tests.support.staff import create_staff, log_in, logged_in, staff_api_headers
from tests.support.triage import OBSERVED, PROTECTIVE, RATIONALE, triage_answers
from triage import triage_form, workflow
from triage.models import (
    Case,
    CaseEvent,
    CaseStatus,
    ChildWelfareNotification,
    CloseReason,
    Deadline,
    DeadlineKind,
    NotificationStatus,
    TriageOutcome,
    TriageRecord,
    TriageStatus,
)

pytestmark = pytest.mark.asyncio

POLICE = {
    "police_contact": "police_contacted",
    "police_contact_by": "Vagthavende Hanne",
    "police_contact_at": "2026-03-02T10:10",  # Danish time; the clock says 10:30
}
PERSONAL = (OBSERVED, RATIONALE, PROTECTIVE, "Jeg er hans mor", "Vagthavende Hanne")


async def new_case(client: Any, deps: Deps) -> int:
    """A case from the public web form (its triage deadline started), as the worker opens it."""
    token = await open_form(client)
    response = await client.post("/report/national", data={"csrf_token": token, **valid_answers()})
    assert response.status == 200
    await run_jobs(deps)
    async with deps.sessions() as session:
        case_id = await session.scalar(select(Case.id).order_by(Case.id.desc()).limit(1))
    assert case_id is not None
    return int(case_id)


def form_data(answers: dict[str, Any], **extra: str) -> list[tuple[str, str]]:
    """What a browser posts: a multi-choice field once per ticked box."""
    data = list(extra.items())
    for name, value in answers.items():
        for one in value if isinstance(value, list) else [value]:
            data.append((name, str(one)))
    return data


async def form_page(client: Any, case_id: int, query: str = "") -> str:
    response = await client.get(f"/cases/{case_id}/triage{query}")
    assert response.status == 200, await response.text()
    return html.unescape(await response.text())


async def post_form(
    client: Any, case_id: int, answers: dict[str, Any], *, action: str, revision: int = 0
) -> Any:
    token = csrf_token(await form_page(client, case_id))
    return await client.post(
        f"/cases/{case_id}/triage",
        data=form_data(
            answers, csrf_token=token, action=action, revision=str(revision), form_version="1"
        ),
        allow_redirects=False,
    )


async def case_row(deps: Deps, case_id: int) -> Case:
    async with deps.sessions() as session:
        return await session.get_one(Case, case_id)


async def records(deps: Deps, case_id: int) -> list[TriageRecord]:
    async with deps.sessions() as session:
        return list(
            await session.scalars(
                select(TriageRecord)
                .where(TriageRecord.case_id == case_id)
                .order_by(TriageRecord.id)
            )
        )


async def events(deps: Deps, case_id: int) -> list[CaseEvent]:
    async with deps.sessions() as session:
        return list(
            await session.scalars(
                select(CaseEvent)
                .where(CaseEvent.case_id == case_id)
                .order_by(CaseEvent.at, CaseEvent.id)
            )
        )


def kinds(found: list[CaseEvent]) -> list[str]:
    return [e.kind for e in found]


def event(found: list[CaseEvent], kind: str) -> CaseEvent:
    matching = [e for e in found if e.kind == kind]
    assert len(matching) == 1, kinds(found)
    return matching[0]


async def api_submit(
    client: Any, headers: dict[str, str], case_id: int, answers: dict[str, Any], revision: int = 0
) -> Any:
    return await client.post(
        f"/api/v1/cases/{case_id}/triage/submit",
        json={"revision": revision, "answers": answers},
        headers=headers,
    )


# --- access and the page ------------------------------------------------------------------------


async def test_the_form_is_for_hotline_staff_only(client: Any, deps: Deps) -> None:
    case_id = await new_case(client, deps)

    anonymous = await client.get(f"/cases/{case_id}/triage", allow_redirects=False)
    assert anonymous.status == 303
    assert (await client.get("/api/v1/triage-form")).status == 401

    create_staff(deps, username="koordinator", role=Role.COORDINATOR)
    assert (await log_in(client, username="koordinator")).status == 303
    assert (await client.get(f"/cases/{case_id}/triage")).status == 403
    assert (await client.get(f"/api/v1/cases/{case_id}/triage")).status == 403


async def test_the_form_page_is_danish_grouped_and_audited(client: Any, deps: Deps) -> None:
    case_id = await new_case(client, deps)
    await logged_in(client, deps)

    shown = await form_page(client, case_id)

    assert "<legend>Sikkerhed og akut fare</legend>" in shown
    assert "<legend>Personen, bekymringen gælder</legend>" in shown
    assert shown.index("Sikkerhed og akut fare") < shown.index("Er barnets trivsel truet?")
    assert shown.index("Er barnets trivsel truet?") < shown.index("Den henvendendes rolle")
    assert "Gem kladde" in shown
    assert "Indsend vurdering" in shown
    assert 'type="datetime-local" id="police_contact_at"' in shown
    assert shown.count('<option value="') >= 2 * 99  # both municipality selects: 98 + unknown
    # A new triage starts from the reporter's role the intake recorded.
    assert 'id="reporter_role-relative" name="reporter_role" value="relative" checked' in shown
    assert '<script src="/static/triage_form.js"></script>' in shown
    async with deps.sessions() as session:
        audited = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "read_triage", AuditEntry.subject_id == str(case_id))
        )
    assert audited == 1
    assert (await client.get("/cases/999999/triage")).status == 404


# --- drafts -------------------------------------------------------------------------------------


async def test_the_first_draft_moves_the_case_into_triage(client: Any, deps: Deps) -> None:
    case_id = await new_case(client, deps)
    await logged_in(client, deps)

    response = await post_form(
        client, case_id, {"observed": OBSERVED, "safety_flags": ["weapons"]}, action="save"
    )
    assert response.status == 303
    assert response.headers["Location"] == f"/cases/{case_id}/triage?saved=1"
    assert (await case_row(deps, case_id)).status is CaseStatus.IN_TRIAGE
    [draft] = await records(deps, case_id)
    assert (draft.status, draft.revision, draft.form_version) == (TriageStatus.DRAFT, 1, 1)
    assert draft.answers == {"observed": OBSERVED, "safety_flags": ["weapons"]}

    shown = await form_page(client, case_id, "?saved=1")
    assert "Kladden er gemt." in shown
    assert f">{OBSERVED}</textarea>" in shown
    assert 'value="weapons" checked' in shown
    assert 'name="revision" value="1"' in shown

    again = await post_form(client, case_id, {"observed": "Mere."}, action="save", revision=1)
    assert again.status == 303
    [draft] = await records(deps, case_id)
    assert (draft.revision, draft.answers) == (2, {"observed": "Mere."})
    found = await events(deps, case_id)
    assert kinds(found).count("triage_saved") == 1
    assert event(found, "triage_saved").detail == {"form_version": 1}
    assert event(found, "status_changed").detail["to"] == "in_triage"
    # The answers are encrypted at rest.
    async with deps.sessions() as session:
        stored = await session.scalar(text("SELECT answers FROM triage_records"))
    assert "Mere" not in str(stored)


async def test_a_draft_with_a_wrong_type_is_refused_and_keeps_the_input(
    client: Any, deps: Deps
) -> None:
    case_id = await new_case(client, deps)
    await logged_in(client, deps)

    response = await post_form(
        client,
        case_id,
        {"observed": OBSERVED, "first_observed": "sidste sommer", "police_contact_at": "snart"},
        action="save",
    )

    assert response.status == 400
    shown = html.unescape(await response.text())
    assert "Ret venligst følgende" in shown
    assert "Skriv en dato som 2026-03-02." in shown
    assert 'href="#first_observed"' in shown
    assert 'value="sidste sommer"' in shown
    assert f">{OBSERVED}</textarea>" in shown
    assert await records(deps, case_id) == []
    assert (await case_row(deps, case_id)).status is CaseStatus.NEW


async def test_a_stale_revision_is_refused_on_the_page(client: Any, deps: Deps) -> None:
    case_id = await new_case(client, deps)
    await logged_in(client, deps)
    assert (await post_form(client, case_id, {"observed": "A"}, action="save")).status == 303

    # Someone else's page was opened before that save: its revision is 0.
    stale = await post_form(client, case_id, {"observed": "B"}, action="save", revision=0)

    assert stale.status == 409
    shown = html.unescape(await stale.text())
    assert "En anden har gemt skemaet, siden du åbnede det." in shown
    assert ">B</textarea>" in shown
    [draft] = await records(deps, case_id)
    assert draft.answers["observed"] == "A"


async def test_concurrent_saves_from_the_same_revision_one_wins(client: Any, deps: Deps) -> None:
    case_id = await new_case(client, deps)
    headers = await staff_api_headers(client, deps)

    async def save(observed: str) -> Any:
        return await client.put(
            f"/api/v1/cases/{case_id}/triage",
            json={"revision": 0, "answers": {"observed": observed}},
            headers=headers,
        )

    first, second = await asyncio.gather(save("første"), save("anden"))

    assert sorted([first.status, second.status]) == [200, 409]
    loser = first if first.status == 409 else second
    assert (await loser.json())["error"]["message"] == "someone else saved this form since; reload"
    [draft] = await records(deps, case_id)
    assert draft.revision == 1
    assert kinds(await events(deps, case_id)).count("triage_saved") == 1


# --- submitting -----------------------------------------------------------------------------------


async def test_submitting_a_justified_triage(
    client: Any, deps: Deps, caplog: pytest.LogCaptureFixture
) -> None:
    case_id = await new_case(client, deps)
    await logged_in(client, deps)
    assert (await post_form(client, case_id, {"observed": "Udkast"}, action="save")).status == 303

    caplog.set_level(logging.DEBUG)
    with capture_logs() as logged:
        response = await post_form(client, case_id, triage_answers(), action="submit", revision=1)

    assert response.status == 303
    assert response.headers["Location"] == f"/cases/{case_id}#triage"
    case = await case_row(deps, case_id)
    assert case.status is CaseStatus.JUSTIFIED
    assert case.closed_reason is None
    assert (case.subject_municipality, case.reporter_municipality) == (101, 147)
    assert case.is_acute is False
    [record] = await records(deps, case_id)
    assert record.status is TriageStatus.SUBMITTED
    assert record.outcome is TriageOutcome.JUSTIFIED
    assert record.revision == 2
    assert record.submitted_at == deps.clock.now()
    assert record.answers["rationale"] == RATIONALE
    async with deps.sessions() as session:
        deadline = await session.scalar(
            select(Deadline).where(
                Deadline.case_id == case_id, Deadline.kind == DeadlineKind.TRIAGE
            )
        )
        notifications = await session.scalar(
            select(func.count()).select_from(ChildWelfareNotification)
        )
    assert deadline is not None
    assert deadline.met_at == deps.clock.now()
    assert notifications == 0
    found = await events(deps, case_id)
    assert kinds(found)[-4:] == [
        "status_changed",
        "triage_saved",
        "triage_submitted",
        "status_changed",
    ]
    assert event(found, "triage_submitted").detail == {
        "form_version": 1,
        "outcome": "justified",
        "acute": False,
        "child_notification": False,
    }
    assert found[-1].detail["to"] == "justified"
    # Neither the timeline nor the logs carry an answer.
    for entry in found:
        assert not any(words in str(entry.detail) for words in PERSONAL)
    everything_logged = str(logged) + caplog.text
    assert "triage_submitted" in str(logged)
    assert not any(words in everything_logged for words in PERSONAL)

    shown = html.unescape(await (await client.get(f"/cases/{case_id}")).text())
    assert "Seneste indsendte vurdering" in shown
    assert "Begrundet bekymring" in shown
    assert "Hvad er der observeret?" in shown
    assert OBSERVED in shown
    assert RATIONALE in shown
    assert "Frederiksberg" in shown  # the reporter's municipality, by name
    assert "Højreekstremisme" in shown
    assert "Har selv set eller hørt det, Online eller på sociale medier" in shown
    assert "Vurdering indsendt" in shown  # on the timeline


@pytest.mark.parametrize(
    ("outcome", "extra", "reason"),
    [
        ("not_justified", {"not_justified_reason": "En misforståelse."}, CloseReason.NOT_JUSTIFIED),
        ("advice_only", {"advice_given": "Tal med skolen."}, CloseReason.ADVICE_ONLY),
        ("police", POLICE, CloseReason.POLICE),
    ],
)
async def test_the_closing_outcomes(
    client: Any, deps: Deps, outcome: str, extra: dict[str, str], reason: CloseReason
) -> None:
    case_id = await new_case(client, deps)
    headers = await staff_api_headers(client, deps)

    response = await api_submit(client, headers, case_id, triage_answers(outcome=outcome, **extra))

    assert response.status == 200, await response.text()
    body = await response.json()
    assert (body["case_status"], body["closed_reason"]) == ("closed", reason.value)
    assert body["record"]["outcome"] == outcome
    case = await case_row(deps, case_id)
    assert (case.status, case.closed_reason) == (CaseStatus.CLOSED, reason)
    assert case.closed_at == deps.clock.now()
    found = await events(deps, case_id)
    # A new case is moved into triage first, then closed.
    assert [e.detail["to"] for e in found if e.kind == "status_changed"] == ["in_triage", "closed"]
    assert found[-1].detail["reason"] == reason.value
    async with deps.sessions() as session:
        deadline = await session.scalar(select(Deadline).where(Deadline.case_id == case_id))
    assert deadline is not None
    assert deadline.met_at == deps.clock.now()
    if outcome == "police":
        police = event(found, "police_contact_recorded")
        assert police.detail == {"how": "police_contacted", "at": "2026-03-02T09:10:00+00:00"}
        assert (case.is_acute, case.queue_rank) == (False, 1)  # no flag: the outcome alone
    else:
        assert "police_contact_recorded" not in kinds(found)


async def test_an_acute_justified_triage_marks_the_case_acute(client: Any, deps: Deps) -> None:
    case_id = await new_case(client, deps)
    headers = await staff_api_headers(client, deps)

    response = await api_submit(
        client, headers, case_id, triage_answers(safety_flags=["imminent"], **POLICE)
    )

    assert response.status == 200, await response.text()
    assert (await response.json())["acute"] is True
    case = await case_row(deps, case_id)
    assert (case.status, case.is_acute, case.queue_rank) == (CaseStatus.JUSTIFIED, True, 0)
    found = kinds(await events(deps, case_id))
    assert found.index("police_contact_recorded") < found.index("triage_submitted")


async def test_an_acute_triage_without_the_police_block_is_refused_in_danish(
    client: Any, deps: Deps
) -> None:
    case_id = await new_case(client, deps)
    await logged_in(client, deps)

    response = await post_form(
        client, case_id, triage_answers(safety_flags=["threats", "weapons"]), action="submit"
    )

    assert response.status == 400
    shown = html.unescape(await response.text())
    assert "Ret venligst følgende" in shown
    assert "registrér, hvordan politiet blev inddraget" in shown
    for name in ("police_contact", "police_contact_by", "police_contact_at"):
        assert f'href="#{name}"' in shown
    assert 'value="threats" checked' in shown
    assert f">{RATIONALE}</textarea>" in shown
    assert await records(deps, case_id) == []
    case = await case_row(deps, case_id)
    assert (case.status, case.is_acute) == (CaseStatus.NEW, False)


async def test_a_minor_at_risk_gets_a_notification_to_track(client: Any, deps: Deps) -> None:
    case_id = await new_case(client, deps)
    await logged_in(client, deps)
    answers = triage_answers(age_band="15_17", child_welfare="yes", subject_municipality="751")

    assert (await post_form(client, case_id, answers, action="submit")).status == 303

    async with deps.sessions() as session:
        notification = await session.scalar(select(ChildWelfareNotification))
    assert notification is not None
    assert (notification.case_id, notification.municipality) == (case_id, 751)
    assert notification.status is NotificationStatus.OPEN
    found = await events(deps, case_id)
    assert event(found, "triage_submitted").detail["child_notification"] is True
    shown = html.unescape(await (await client.get(f"/cases/{case_id}")).text())
    assert "Til Aarhus Kommune" in shown
    assert "ikke sendt endnu" in shown

    token = csrf_token(shown)
    mark = f"/cases/{case_id}/child-notifications/{notification.id}/sent"
    empty = await client.post(mark, data={"csrf_token": token, "how": " "})
    assert empty.status == 400
    assert "Besvar venligst dette spørgsmål." in html.unescape(await empty.text())
    sent = await client.post(
        mark, data={"csrf_token": token, "how": "Digital post"}, allow_redirects=False
    )
    assert sent.status == 303
    async with deps.sessions() as session:
        done = await session.get_one(ChildWelfareNotification, notification.id)
    assert (done.status, done.sent_how, done.sent_at) == (
        NotificationStatus.SENT,
        "Digital post",
        deps.clock.now(),
    )
    assert event(await events(deps, case_id), "child_notification_sent").detail == {
        "notification_id": notification.id
    }
    shown = html.unescape(await (await client.get(f"/cases/{case_id}")).text())
    assert "sendt af Hanne" in shown
    twice = await client.post(mark, data={"csrf_token": token, "how": "Igen"})
    assert twice.status == 409
    assert "allerede markeret som sendt" in html.unescape(await twice.text())


async def test_a_case_that_is_not_in_triage_is_refused(client: Any, deps: Deps) -> None:
    case_id = await new_case(client, deps)
    headers = await staff_api_headers(client, deps)
    assert (await api_submit(client, headers, case_id, triage_answers())).status == 200

    again = await api_submit(client, headers, case_id, triage_answers(outcome="police", **POLICE))
    draft = await client.put(
        f"/api/v1/cases/{case_id}/triage",
        json={"revision": 0, "answers": {}},
        headers=headers,
    )
    page = await post_form(client, case_id, triage_answers(), action="submit")

    assert again.status == 409
    assert "is not in triage" in (await again.json())["error"]["message"]
    assert draft.status == 409
    assert page.status == 409
    assert "Sagen er ikke under kvalificering nu" in html.unescape(await page.text())
    # Opened afresh, the page says so instead of offering the form.
    shown = await form_page(client, case_id)
    assert "Sagen er ikke under kvalificering nu" in shown
    assert "Indsend vurdering" not in shown
    case = await case_row(deps, case_id)
    assert case.status is CaseStatus.JUSTIFIED
    assert len(await records(deps, case_id)) == 1


async def test_a_reopened_case_is_triaged_again(
    client: Any, deps: Deps, clock: FrozenClock
) -> None:
    case_id = await new_case(client, deps)
    headers = await staff_api_headers(client, deps)
    closing = triage_answers(
        outcome="advice_only", advice_given="Ring igen, hvis det bliver værre."
    )
    assert (await api_submit(client, headers, case_id, closing)).status == 200
    async with deps.sessions() as session, session.begin():
        case = await session.get_one(Case, case_id, with_for_update=True)
        await workflow.change_status(
            session, case, CaseStatus.IN_TRIAGE, actor=workflow.SYSTEM, now=deps.clock.now()
        )
    clock.advance(timedelta(hours=1))

    saved = await client.put(
        f"/api/v1/cases/{case_id}/triage",
        json={"revision": 0, "answers": {"observed": "Han har købt en flybillet."}},
        headers=headers,
    )
    assert saved.status == 200, await saved.text()
    revision = (await saved.json())["revision"]
    assert revision == 2  # the case's counter goes on: an old page's revision cannot match
    submitted = await api_submit(
        client, headers, case_id, triage_answers(safety_flags=["imminent"], **POLICE), revision
    )

    assert submitted.status == 200, await submitted.text()
    state = await (await client.get(f"/api/v1/cases/{case_id}/triage")).json()
    assert state["case_status"] == "justified"
    assert state["draft"] is None
    assert [r["outcome"] for r in state["history"]] == ["justified", "advice_only"]
    assert state["history"][1]["answers"]["advice_given"] == "Ring igen, hvis det bliver værre."


# --- the API --------------------------------------------------------------------------------------


async def test_the_form_definition_in_the_request_language(client: Any, deps: Deps) -> None:
    await logged_in(client, deps)

    danish = await (await client.get("/api/v1/triage-form?lang=da")).json()
    english = await (await client.get("/api/v1/triage-form?lang=en")).json()

    assert danish["version"] == english["version"] == triage_form.CURRENT_VERSION
    assert danish["sections"][0]["legend"] == "Sikkerhed og akut fare"
    assert english["sections"][0]["legend"] == "Safety and acute danger"
    fields = {f["name"]: f for s in english["sections"] for f in s["fields"]}
    assert fields["age_band"]["options"][0] == {"value": "under_15", "label": "Under 15"}
    assert fields["child_welfare"]["shown_when"] == {
        "field": "age_band",
        "values": ["under_15", "15_17"],
    }
    assert fields["rationale"]["required"] is True
    assert fields["police_contact_at"]["kind"] == "datetime"


async def test_reading_a_cases_triage_is_audited(client: Any, deps: Deps) -> None:
    case_id = await new_case(client, deps)
    headers = await staff_api_headers(client, deps)
    await client.put(
        f"/api/v1/cases/{case_id}/triage",
        json={"revision": 0, "answers": {"observed": OBSERVED}},
        headers=headers,
    )

    response = await client.get(f"/api/v1/cases/{case_id}/triage")

    assert response.status == 200
    body = await response.json()
    assert (body["case_status"], body["revision"], body["form_version"]) == ("in_triage", 1, 1)
    assert body["draft"]["answers"] == {"observed": OBSERVED}
    assert body["history"] == []
    async with deps.sessions() as session:
        audited = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "read_triage")
        )
    assert audited == 1
    assert (await client.get("/api/v1/cases/999999/triage")).status == 404


async def test_api_errors_name_the_fields(client: Any, deps: Deps) -> None:
    case_id = await new_case(client, deps)
    headers = await staff_api_headers(client, deps)
    url = f"/api/v1/cases/{case_id}/triage"

    wrong_types = await client.put(
        url,
        json={"revision": 0, "answers": {"age_band": "17", "observed": "x" * 4001, "nope": 1}},
        headers=headers,
    )
    incomplete = await client.post(
        f"{url}/submit", json={"revision": 0, "answers": {"observed": OBSERVED}}, headers=headers
    )
    extra_key = await client.put(url, json={"revision": 0, "answers": {}, "x": 1}, headers=headers)
    no_case = await client.put(
        "/api/v1/cases/999999/triage", json={"revision": 0, "answers": {}}, headers=headers
    )

    assert wrong_types.status == 400
    error = (await wrong_types.json())["error"]
    assert error["field"] == "age_band"
    assert error["fields"] == {
        "age_band": "Please choose one of the options.",
        "observed": "This text is too long: at most 4000 characters.",
        "nope": "This is not a field of this form.",
    }
    assert incomplete.status == 400
    assert {"outcome", "rationale", "subject_municipality"} <= set(
        (await incomplete.json())["error"]["fields"]
    )
    assert extra_key.status == 400
    assert (await extra_key.json())["error"]["field"] == "x"
    assert no_case.status == 404
    assert await records(deps, case_id) == []


async def test_marking_a_notification_sent_through_the_api(client: Any, deps: Deps) -> None:
    case_id = await new_case(client, deps)
    headers = await staff_api_headers(client, deps)
    answers = triage_answers(age_band="under_15", child_welfare="yes", outcome="advice_only")
    response = await api_submit(client, headers, case_id, {**answers, "advice_given": "Kontakt."})
    notification = (await response.json())["child_notification"]
    assert notification["municipality"] == 101
    assert notification["municipality_name"] == "København"
    url = f"/api/v1/child-notifications/{notification['id']}/sent"

    empty = await client.post(url, json={"how": ""}, headers=headers)
    sent = await client.post(url, json={"how": "Sikker mail"}, headers=headers)
    twice = await client.post(url, json={"how": "Sikker mail"}, headers=headers)
    missing = await client.post(
        "/api/v1/child-notifications/999999/sent", json={"how": "x"}, headers=headers
    )

    assert empty.status == 400
    assert (await empty.json())["error"]["field"] == "how"
    assert sent.status == 200
    assert (await sent.json())["status"] == "sent"
    assert twice.status == 409
    assert missing.status == 404


# --- versions -----------------------------------------------------------------------------------


def _version_2() -> triage_form.FormDefinition:
    v1 = triage_form.definition(1)
    extra = triage_form.Section(
        "follow_up",
        "Follow-up",
        fields=(
            triage_form.Field(
                "call_back", triage_form.Kind.YES_NO, "Call back?", options=triage_form.YES_NO
            ),
        ),
    )
    sections = tuple(
        dataclasses.replace(s, fields=tuple(f for f in s.fields if f.name != "reporter_own_words"))
        for s in v1.sections
    )
    return triage_form.FormDefinition(2, (*sections, extra), v1.rules, v1.findings)


async def test_old_triages_stay_readable_when_the_form_changes(
    client: Any, deps: Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    submitted_case = await new_case(client, deps)
    drafted_case = await new_case(client, deps)
    await logged_in(client, deps)
    assert (
        await post_form(client, submitted_case, triage_answers(), action="submit")
    ).status == 303
    assert (
        await post_form(client, drafted_case, {"reporter_own_words": "Nabo"}, action="save")
    ).status == 303

    monkeypatch.setitem(triage_form.FORMS, 2, _version_2())
    monkeypatch.setattr(triage_form, "CURRENT_VERSION", 2)

    # The submitted v1 triage still shows with v1's labels.
    shown = html.unescape(await (await client.get(f"/cases/{submitted_case}")).text())
    assert "Rolle og relation med den henvendendes egne ord" in shown
    assert "Jeg er hans mor" in shown
    # The v1 draft goes on in v1, and can be submitted in v1.
    draft_page = await form_page(client, drafted_case)
    assert 'name="form_version" value="1"' in draft_page
    assert ">Nabo</textarea>" in draft_page
    assert "Call back?" not in draft_page
    finished = await post_form(client, drafted_case, triage_answers(), action="submit", revision=1)
    assert finished.status == 303
    # A new triage uses the new version.
    fresh = await new_case(client, deps)
    fresh_page = await form_page(client, fresh)
    assert 'name="form_version" value="2"' in fresh_page
    assert "Call back?" in fresh_page
    [old] = await records(deps, drafted_case)
    assert (old.form_version, old.status) == (1, TriageStatus.SUBMITTED)
