"""Finding a case by its reference or the reporter's receipt code; every search audited."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from access.models import AuditEntry, Role
from bootstrap import Deps
from db import RowInserter
from intake import concern_form, service
from jobqueue import take_in_contacts
from tests.support.forms import valid_answers
from tests.support.jobs import run_jobs
from tests.support.staff import create_staff, log_in, staff_api_headers
from triage.models import Case

pytestmark = pytest.mark.asyncio


async def report(deps: Deps, inserter: RowInserter, *, take_in: bool = True) -> str:
    """A web-form report; returns its receipt code (its case opened unless `take_in` is off)."""
    answers = concern_form.validate(valid_answers()).report
    assert answers is not None
    stored = await service.record_concern(
        inserter,
        answers,
        hotline_id="national",
        language="da",
        now=deps.clock.now(),
        cipher=deps.cipher,
    )
    if take_in:
        deps.queue.enqueue(take_in_contacts([stored.contact_id]))
        await run_jobs(deps)
    return stored.receipt_code


async def the_case(deps: Deps) -> Case:
    async with deps.sessions() as session:
        return (await session.scalars(select(Case))).one()


async def searches(deps: Deps) -> list[AuditEntry]:
    async with deps.sessions() as session:
        found = await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "search_case").order_by(AuditEntry.id)
        )
        return list(found)


async def search(client: Any, headers: dict[str, str], query: str) -> Any:
    return await client.post(
        "/api/v1/cases/search", data=json.dumps({"query": query}), headers=headers
    )


async def test_a_reference_finds_its_case_in_any_letter_case(
    client: Any, deps: Deps, contact_inserter: RowInserter
) -> None:
    headers = await staff_api_headers(client, deps)
    await report(deps, contact_inserter)
    case = await the_case(deps)

    response = await search(client, headers, f"  {case.reference.lower()} ")

    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["id"] == case.id
    assert body["reference"] == case.reference
    assert body["closed"] is False
    [entry] = await searches(deps)
    assert (entry.actor_id, entry.subject_kind, entry.subject_id) == (1, "case", str(case.id))
    assert entry.detail == {"kind": "reference", "found": True}


async def test_a_receipt_code_finds_its_case_and_is_never_recorded(
    client: Any, deps: Deps, contact_inserter: RowInserter
) -> None:
    headers = await staff_api_headers(client, deps)
    code = await report(deps, contact_inserter)
    case = await the_case(deps)

    # As the reporter may read it out: lower case, without the dashes.
    response = await search(client, headers, code.replace("-", " ").lower())

    assert response.status == 200
    assert (await response.json())["id"] == case.id
    [entry] = await searches(deps)
    assert entry.detail == {"kind": "receipt_code", "found": True}
    compact = code.replace("-", "")
    async with deps.sessions() as session:
        for row in await session.scalars(select(AuditEntry)):
            recorded = json.dumps(row.detail) + str(row.subject_id)
            assert code not in recorded
            assert compact not in recorded


async def test_a_closed_case_is_found_too(
    client: Any, deps: Deps, contact_inserter: RowInserter
) -> None:
    headers = await staff_api_headers(client, deps)
    await report(deps, contact_inserter)
    case = await the_case(deps)
    with deps.job_context().transaction() as session:
        session.get_one(Case, case.id).closed_at = deps.clock.now()

    body = await (await search(client, headers, case.reference)).json()

    assert body["id"] == case.id
    assert body["closed"] is True


@pytest.mark.parametrize(
    ("query", "kind"),
    [("NAT-2026-99999", "reference"), ("ABCD-EFGH-JKMN-PQRS-TVWX", "receipt_code")],
)
async def test_nothing_found_is_404_and_still_audited(
    client: Any, deps: Deps, query: str, kind: str
) -> None:
    headers = await staff_api_headers(client, deps)

    response = await search(client, headers, query)

    assert response.status == 404
    assert (await response.json())["error"]["message"] == (
        "no case has this reference or receipt code"
    )
    [entry] = await searches(deps)
    assert entry.detail == {"kind": kind, "found": False}
    assert entry.subject_id is None


async def test_a_report_not_yet_a_case_says_so(
    client: Any, deps: Deps, contact_inserter: RowInserter
) -> None:
    headers = await staff_api_headers(client, deps)
    code = await report(deps, contact_inserter, take_in=False)

    response = await search(client, headers, code)

    assert response.status == 404
    assert "still being taken in" in (await response.json())["error"]["message"]


@pytest.mark.parametrize("body", [{}, {"query": ""}, {"query": "x" * 65}, {"query": 5}])
async def test_a_bad_query_is_400_naming_it(client: Any, deps: Deps, body: dict[str, Any]) -> None:
    headers = await staff_api_headers(client, deps)

    response = await client.post("/api/v1/cases/search", data=json.dumps(body), headers=headers)

    assert response.status == 400
    assert (await response.json())["error"]["field"] == "query"
    assert await searches(deps) == []


async def test_search_is_for_hotline_staff(client: Any, deps: Deps) -> None:
    create_staff(deps, username="koordinator", role=Role.COORDINATOR)
    assert (await log_in(client, username="koordinator")).status == 303
    page = await client.get("/queue")
    token = (await page.text()).split('name="csrf_token" value="', 1)[1].split('"', 1)[0]

    response = await search(client, {"X-CSRF-Token": token}, "NAT-2026-00001")

    assert response.status == 403
    assert 'action="/queue/search"' not in await page.text()


# --- the page -----------------------------------------------------------------------------


async def search_page(client: Any, query: str) -> Any:
    page = await client.get("/queue")
    token = (await page.text()).split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    return await client.post(
        "/queue/search", data={"csrf_token": token, "query": query}, allow_redirects=False
    )


async def test_the_page_goes_to_the_case_found(
    client: Any, deps: Deps, contact_inserter: RowInserter
) -> None:
    await staff_api_headers(client, deps)
    code = await report(deps, contact_inserter)
    case = await the_case(deps)

    by_code = await search_page(client, code)
    by_reference = await search_page(client, case.reference.lower())

    assert by_code.status == 303
    assert by_code.headers["Location"] == f"/cases/{case.id}"
    assert by_reference.headers["Location"] == f"/cases/{case.id}"
    assert len(await searches(deps)) == 2


async def test_the_page_says_when_nothing_is_found(client: Any, deps: Deps) -> None:
    await staff_api_headers(client, deps)

    missing = await search_page(client, "KBH-2026-00404")
    empty = await search_page(client, "   ")

    assert missing.status == 404
    text = await missing.text()
    assert "Ingen sag har dette sagsnummer eller denne kvitteringskode." in text
    assert 'aria-invalid="true"' in text
    assert "KBH-2026-00404" not in text  # what was typed is not echoed
    assert empty.status == 400
    assert "Skriv et sagsnummer eller en kvitteringskode." in await empty.text()
    assert len(await searches(deps)) == 1
