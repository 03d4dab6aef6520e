"""Claiming, assigning and unassigning cases: one winner per claim, checked colleagues, the
timeline, and the page forms with their refusals in the user's language."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update

from access.models import Role, StaffUser
from bootstrap import Deps, build_deps
from clock import FrozenClock
from server import create_app
from tests.support.cases import add_case
from tests.support.forms import csrf_token
from tests.support.staff import create_staff, log_in, staff_api_headers
from triage.models import Case, CaseEvent

pytestmark = pytest.mark.asyncio

HANNE = 1  # the first account made in each test: the one `staff_api_headers` logs in


async def events(deps: Deps, case_id: int) -> list[tuple[str, int | None, dict[str, Any]]]:
    async with deps.sessions() as session:
        found = await session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
        )
        return [(e.kind, e.actor_id, e.detail) for e in found]


async def assignee_of(deps: Deps, case_id: int) -> int | None:
    async with deps.sessions() as session:
        return await session.scalar(select(Case.assignee_id).where(Case.id == case_id))


async def put_assignee(client: Any, headers: dict[str, str], case_id: int, body: Any) -> Any:
    return await client.put(
        f"/api/v1/cases/{case_id}/assignee", data=json.dumps(body), headers=headers
    )


@pytest_asyncio.fixture
async def other_client(deps: Deps, clock: FrozenClock) -> AsyncIterator[Any]:
    """Another server process: its own deps, the same database and Redis."""
    other = build_deps(deps.settings, clock=clock, fake_server=deps.fake_server)
    async with TestClient(TestServer(create_app(other, in_process_worker=False))) as test_client:
        yield test_client
    await other.aclose()


async def api_login(client: Any, username: str) -> dict[str, str]:
    assert (await log_in(client, username=username)).status == 303
    page = await client.get("/queue")
    return {"X-CSRF-Token": csrf_token(await page.text())}


async def test_claiming_takes_an_unassigned_case_once(client: Any, deps: Deps) -> None:
    headers = await staff_api_headers(client, deps)
    case_id = add_case(deps)

    first = await client.post(f"/api/v1/cases/{case_id}/claim", headers=headers)
    again = await client.post(f"/api/v1/cases/{case_id}/claim", headers=headers)

    assert first.status == 200, await first.text()
    body = await first.json()
    assert (body["id"], body["assignee_id"], body["assignee"]) == (case_id, HANNE, "Hanne")
    assert again.status == 200
    assert await events(deps, case_id) == [("assigned", HANNE, {"assignee_id": HANNE})]


async def test_of_two_claims_at_once_one_wins_and_the_other_is_told_who(
    client: Any, other_client: Any, deps: Deps
) -> None:
    hanne = await staff_api_headers(client, deps)
    create_staff(deps, username="anna")
    anna = await api_login(other_client, "anna")
    case_id = add_case(deps)

    answers = await asyncio.gather(
        client.post(f"/api/v1/cases/{case_id}/claim", headers=hanne),
        other_client.post(f"/api/v1/cases/{case_id}/claim", headers=anna),
    )

    assert sorted(a.status for a in answers) == [200, 409]
    winner, loser = sorted(answers, key=lambda a: a.status)
    winner_name = (await winner.json())["assignee"]
    error = (await loser.json())["error"]
    assert error["field"] == "assignee_id"
    assert f"already assigned to {winner_name}" in error["message"]
    winner_id = await assignee_of(deps, case_id)
    assert await events(deps, case_id) == [("assigned", winner_id, {"assignee_id": winner_id})]


async def test_a_held_case_is_not_claimed(client: Any, deps: Deps) -> None:
    headers = await staff_api_headers(client, deps)
    anna = create_staff(deps, username="anna")
    case_id = add_case(deps, assignee_id=anna)

    response = await client.post(f"/api/v1/cases/{case_id}/claim", headers=headers)

    assert response.status == 409
    assert "Anna" in (await response.json())["error"]["message"]
    assert await assignee_of(deps, case_id) == anna


async def test_assigning_to_a_colleague_and_unassigning(client: Any, deps: Deps) -> None:
    headers = await staff_api_headers(client, deps)
    anna = create_staff(deps, username="anna")
    case_id = add_case(deps, assignee_id=HANNE)

    given = await put_assignee(client, headers, case_id, {"assignee_id": anna})
    same = await put_assignee(client, headers, case_id, {"assignee_id": anna})
    freed = await put_assignee(client, headers, case_id, {"assignee_id": None})

    assert given.status == 200
    assert (await given.json())["assignee"] == "Anna"
    assert same.status == 200
    assert freed.status == 200
    assert (await freed.json())["assignee_id"] is None
    assert await assignee_of(deps, case_id) is None
    # Each change once on the timeline: by whom, and whose case it became or stopped being.
    assert await events(deps, case_id) == [
        ("assigned", HANNE, {"assignee_id": anna}),
        ("unassigned", HANNE, {"assignee_id": anna}),
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"assignee_id": 999},
        {"assignee_id": "2"},
        {"assignee_id": True},
        {"assignee_id": 2**40},
        {"assignee_id": 0},
        {},
    ],
)
async def test_only_active_hotline_staff_can_be_assigned(
    client: Any, deps: Deps, body: dict[str, Any]
) -> None:
    headers = await staff_api_headers(client, deps)
    case_id = add_case(deps)

    response = await put_assignee(client, headers, case_id, body)

    assert response.status == 400
    assert (await response.json())["error"]["field"] == "assignee_id"
    assert await events(deps, case_id) == []


@pytest.mark.parametrize("who", ["coordinator", "inactive"])
async def test_a_coordinator_or_a_former_colleague_is_not_an_assignee(
    client: Any, deps: Deps, who: str
) -> None:
    headers = await staff_api_headers(client, deps)
    other = create_staff(
        deps, username=who, role=Role.COORDINATOR if who == "coordinator" else Role.HOTLINE
    )
    if who == "inactive":
        with deps.job_context().transaction() as session:
            session.execute(update(StaffUser).where(StaffUser.id == other).values(active=False))
    case_id = add_case(deps)

    response = await put_assignee(client, headers, case_id, {"assignee_id": other})

    assert response.status == 400
    assert "hotline role" in (await response.json())["error"]["message"]


async def test_closed_and_missing_cases(client: Any, deps: Deps) -> None:
    headers = await staff_api_headers(client, deps)
    closed = add_case(deps, closed=True)

    assert (await client.post(f"/api/v1/cases/{closed}/claim", headers=headers)).status == 409
    assert (await put_assignee(client, headers, closed, {"assignee_id": HANNE})).status == 409
    assert (await put_assignee(client, headers, closed, {"assignee_id": None})).status == 409
    assert (await client.post("/api/v1/cases/777/claim", headers=headers)).status == 404
    assert (await put_assignee(client, headers, 777, {"assignee_id": None})).status == 404
    assert await events(deps, closed) == []


async def test_coordinators_may_not_claim(client: Any, deps: Deps) -> None:
    create_staff(deps, username="koordinator", role=Role.COORDINATOR)
    headers = await api_login(client, "koordinator")
    case_id = add_case(deps)

    response = await client.post(f"/api/v1/cases/{case_id}/claim", headers=headers)

    assert response.status == 403
    assert await assignee_of(deps, case_id) is None


# --- the page forms -----------------------------------------------------------------------


async def form_post(client: Any, path: str, **fields: str) -> Any:
    page = await client.get("/queue")
    token = csrf_token(await page.text())
    return await client.post(path, data={"csrf_token": token, **fields}, allow_redirects=False)


async def test_the_queue_rows_claim_and_go_back_to_the_same_filters(
    client: Any, deps: Deps
) -> None:
    await staff_api_headers(client, deps)
    case_id = add_case(deps, hotline="copenhagen")
    page = await (await client.get("/queue?hotline=copenhagen")).text()
    assert f'action="/cases/{case_id}/claim"' in page

    response = await form_post(client, f"/cases/{case_id}/claim", next="/queue?hotline=copenhagen")

    assert response.status == 303
    assert response.headers["Location"] == "/queue?hotline=copenhagen"
    assert await assignee_of(deps, case_id) == HANNE
    after = await (await client.get("/queue?hotline=copenhagen")).text()
    assert f'action="/cases/{case_id}/claim"' not in after
    assert ">Hanne</td>" in after


async def test_a_refused_claim_says_who_in_danish(client: Any, deps: Deps) -> None:
    await staff_api_headers(client, deps)
    anna = create_staff(deps, username="anna")
    case_id = add_case(deps, assignee_id=anna)

    response = await form_post(client, f"/cases/{case_id}/claim", next="https://evil.example/")

    assert response.status == 409
    text = await response.text()
    assert "Anna har allerede sagen." in text
    assert '<a href="/queue">Tilbage</a>' in text  # only same-site ways back


async def test_the_case_page_assigns_and_unassigns(client: Any, deps: Deps) -> None:
    await staff_api_headers(client, deps)
    anna = create_staff(deps, username="anna")
    case_id = add_case(deps)
    page = await (await client.get(f"/cases/{case_id}")).text()
    assert f'<option value="{anna}">Anna</option>' in page
    assert f'action="/cases/{case_id}/claim"' in page

    given = await form_post(
        client, f"/cases/{case_id}/assignee", assignee_id=str(anna), next=f"/cases/{case_id}"
    )
    assert given.status == 303
    assert given.headers["Location"] == f"/cases/{case_id}"
    assert await assignee_of(deps, case_id) == anna
    freed = await form_post(client, f"/cases/{case_id}/assignee", assignee_id="")
    assert freed.status == 303
    assert await assignee_of(deps, case_id) is None

    timeline = await (await client.get(f"/cases/{case_id}?lang=en")).text()
    assert 'Assigned</span> – <span class="actor">Hanne' in timeline
    assert 'Assignment removed</span> – <span class="actor">Hanne' in timeline


async def test_assigning_someone_not_on_the_list_is_refused_on_the_page(
    client: Any, deps: Deps
) -> None:
    await staff_api_headers(client, deps)
    case_id = add_case(deps)

    for value in ("42", "anna"):
        response = await form_post(client, f"/cases/{case_id}/assignee", assignee_id=value)
        assert response.status == 400
        assert "Vælg en kollega på listen" in await response.text()
    assert await events(deps, case_id) == []
