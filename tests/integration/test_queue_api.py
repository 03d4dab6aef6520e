"""The staff queue over the API and as a page: keyset pages, order, validation, closed cases."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bootstrap import Deps
from db import RowInserter
from intake import concern_form, service
from intake.models import contacts_table
from jobqueue import in_chunks, take_in_contacts
from tests.support.forms import valid_answers
from tests.support.jobs import run_jobs
from tests.support.staff import logged_in
from triage.models import Case

pytestmark = pytest.mark.asyncio

CASES = 120
ACUTE = 7


async def seed_cases(deps: Deps, *, total: int = CASES, acute: int = ACUTE) -> None:
    """Store `total` web-form contacts the way intake does and run their jobs into cases.

    Receipt times are shuffled (with ties), so deadline order differs from id order and the
    id tie-break matters.
    """
    rng = random.Random(20260302)
    offsets = [rng.randrange(0, 60) for _ in range(total)]
    acute_at = set(rng.sample(range(total), acute))
    base = deps.clock.now() - timedelta(hours=2)
    ids = []
    contacts = RowInserter(deps.engine, contacts_table)
    try:
        ids = await _store(deps, contacts, offsets, acute_at, base)
    finally:
        await contacts.close()
    deps.queue.enqueue_many([take_in_contacts(chunk) for chunk in in_chunks(ids)])
    await run_jobs(deps)


async def _store(
    deps: Deps, contacts: RowInserter, offsets: list[int], acute_at: set[int], base: datetime
) -> list[int]:
    ids = []
    for index, offset in enumerate(offsets):
        answers = valid_answers(safety_threats="yes" if index in acute_at else "no")
        report = concern_form.validate(answers).report
        assert report is not None
        stored = await service.record_concern(
            contacts,
            report,
            hotline_id="national" if index % 3 else "copenhagen",
            language="da",
            now=base + timedelta(minutes=offset),
            cipher=deps.cipher,
        )
        ids.append(stored.contact_id)
    return ids


async def expected_order(deps: Deps) -> list[int]:
    async with deps.sessions() as session:
        cases = (await session.scalars(select(Case).where(Case.closed_at.is_(None)))).all()
    return [c.id for c in sorted(cases, key=lambda c: (c.queue_rank, c.queue_due_at, c.id))]


async def walk(client: Any, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Every item of the queue, page by page; returns the items and the number of pages."""
    items: list[dict[str, Any]] = []
    params: dict[str, str | int] = {"limit": limit}
    pages = 0
    while True:
        response = await client.get("/api/v1/queue", params=params)
        assert response.status == 200, await response.text()
        body = await response.json()
        pages += 1
        assert len(body["items"]) <= limit
        items.extend(body["items"])
        if body["next_cursor"] is None:
            return items, pages
        assert len(body["items"]) == limit
        params = {"limit": limit, "cursor": body["next_cursor"]}
        assert pages <= CASES, "the cursor does not advance"


async def test_walking_the_queue_gives_every_case_once_in_order(client: Any, deps: Deps) -> None:
    await seed_cases(deps)
    await logged_in(client, deps)
    expected = await expected_order(deps)
    assert len(expected) == CASES
    # The seed really exercises the ordering: due order is not id order.
    assert expected != sorted(expected)

    items, pages = await walk(client, 25)
    ids = [item["id"] for item in items]
    assert pages == 5
    assert len(ids) == len(set(ids)) == CASES
    assert ids == expected
    assert [item["acute"] for item in items] == [True] * ACUTE + [False] * (CASES - ACUTE)
    normal_due = [item["due_at"] for item in items[ACUTE:]]
    assert normal_due == sorted(normal_due)
    assert {item["hotline"] for item in items} == {"national", "copenhagen"}
    first = items[0]
    assert first["reference"].startswith(("NAT-2026-", "KBH-2026-"))
    assert first["status"] == "new"
    assert first["channel"] == "web_form"
    assert first["assignee"] is None


async def test_a_limit_that_divides_the_queue_ends_without_an_empty_page(
    client: Any, deps: Deps
) -> None:
    await seed_cases(deps)
    await logged_in(client, deps)
    items, pages = await walk(client, 24)
    assert pages == 5
    assert [item["id"] for item in items] == await expected_order(deps)


async def test_the_default_page_is_fifty(client: Any, deps: Deps) -> None:
    await seed_cases(deps)
    await logged_in(client, deps)
    body = await (await client.get("/api/v1/queue")).json()
    assert len(body["items"]) == 50
    assert body["next_cursor"]


@pytest.mark.parametrize("limit", ["0", "201", "abc", "-1", "2.5", ""])
async def test_a_bad_limit_is_400_naming_limit(client: Any, deps: Deps, limit: str) -> None:
    await logged_in(client, deps)
    response = await client.get("/api/v1/queue", params={"limit": limit})
    assert response.status == 400
    assert response.content_type == "application/json"
    error = (await response.json())["error"]
    assert error["field"] == "limit"
    assert error["code"] == 400
    assert "200" in error["message"]


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!",
        # Valid base64 of JSON, but not a position.
        "eyJhIjogMX0",
        # A position with a naive time.
        "WzEsICIyMDI2LTAzLTAyVDA5OjMwOjAwIiwgMV0",
    ],
)
async def test_a_bad_cursor_is_400_naming_cursor(client: Any, deps: Deps, cursor: str) -> None:
    await logged_in(client, deps)
    response = await client.get("/api/v1/queue", params={"cursor": cursor})
    assert response.status == 400
    error = (await response.json())["error"]
    assert error["field"] == "cursor"


async def test_closed_cases_are_not_listed(client: Any, deps: Deps) -> None:
    await seed_cases(deps, total=30, acute=3)
    await logged_in(client, deps)
    before = await expected_order(deps)
    closed = set(before[::4])
    with deps.job_context().transaction() as session:
        session.execute(update(Case).where(Case.id.in_(closed)).values(closed_at=deps.clock.now()))

    items, _ = await walk(client, 7)
    ids = [item["id"] for item in items]
    assert not closed & set(ids)
    assert ids == [case_id for case_id in before if case_id not in closed]


async def test_the_queue_page_shows_references_and_marks_acute_cases(
    client: Any, deps: Deps
) -> None:
    await seed_cases(deps, total=12, acute=3)
    await logged_in(client, deps)
    async with deps.sessions() as session:
        cases = (await session.scalars(select(Case))).all()

    response = await client.get("/queue")
    page = await response.text()
    assert response.status == 200
    for case in cases:
        assert case.reference in page
    assert page.count('<span class="badge acute-badge">Akut</span>') == 3
    for case in cases:
        # The reference links to the case page.
        row_start = page.index(f'<th scope="row"><a href="/cases/{case.id}">{case.reference}</a>')
        row = page[row_start : page.index("</th>", row_start)]
        assert ("Akut" in row) is case.is_acute, case.reference
    # Acute rows come first on the page too.
    positions = sorted(cases, key=lambda c: page.index(c.reference))
    assert [c.is_acute for c in positions] == [True] * 3 + [False] * 9

    english = await (await client.get("/queue?lang=en")).text()
    assert english.count('<span class="badge acute-badge">Acute</span>') == 3
