"""The queue's filters, deadline states and counts, over the API and on the page (without JS)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from bootstrap import Deps, build_deps
from clock import FrozenClock
from intake.models import Channel
from server import create_app
from tests.support.cases import add_case
from tests.support.staff import create_staff, log_in, logged_in
from triage.models import CaseStatus

pytestmark = pytest.mark.asyncio

HOUR = timedelta(hours=1)


async def ids(client: Any, **params: str) -> list[int]:
    response = await client.get("/api/v1/queue", params=params)
    assert response.status == 200, await response.text()
    return [item["id"] for item in (await response.json())["items"]]


async def error_of(client: Any, path: str, **params: str) -> dict[str, Any]:
    response = await client.get(path, params=params)
    assert response.status == 400
    error: dict[str, Any] = (await response.json())["error"]
    return error


async def test_each_filter_narrows_the_queue(client: Any, deps: Deps) -> None:
    await logged_in(client, deps)  # "hanne", staff id 1
    colleague = create_staff(deps, username="anna")
    me = 1
    cases = {
        "overdue": add_case(deps, due_in=-HOUR),
        "at_risk": add_case(deps, due_in=3 * HOUR, channel=Channel.SMS),
        "mine": add_case(deps, assignee_id=me, status=CaseStatus.IN_TRIAGE),
        "anna": add_case(deps, assignee_id=colleague, hotline="copenhagen"),
        "acute": add_case(deps, acute=True, due_in=30 * HOUR, channel=Channel.PHONE),
    }
    add_case(deps, closed=True, due_in=-HOUR)  # never listed, whatever the filter

    assert await ids(client) == [
        cases["acute"],
        cases["overdue"],
        cases["at_risk"],
        cases["mine"],
        cases["anna"],
    ]
    assert await ids(client, hotline="copenhagen") == [cases["anna"]]
    assert await ids(client, channel="sms") == [cases["at_risk"]]
    assert await ids(client, status="in_triage") == [cases["mine"]]
    assert await ids(client, status="closed") == []
    assert await ids(client, assignee="mine") == [cases["mine"]]
    assert await ids(client, assignee=str(colleague)) == [cases["anna"]]
    assert await ids(client, assignee="unassigned") == [
        cases["acute"],
        cases["overdue"],
        cases["at_risk"],
    ]
    assert await ids(client, due="overdue") == [cases["overdue"]]
    assert await ids(client, due="at_risk") == [cases["at_risk"]]
    assert await ids(client, due="overdue", hotline="copenhagen") == []
    # Filters combine, and empty values mean "all".
    assert await ids(client, assignee="unassigned", channel="phone", hotline="") == [cases["acute"]]


async def test_items_carry_their_deadline_state_and_the_counts_all_open_cases(
    client: Any, deps: Deps
) -> None:
    await logged_in(client, deps)
    add_case(deps, due_in=-HOUR)
    add_case(deps, due_in=-2 * HOUR, hotline="copenhagen")
    add_case(deps, due_in=4 * HOUR)  # the edge of the default 4-hour window: at risk
    add_case(deps, due_in=4 * HOUR + timedelta(minutes=1))
    add_case(deps, closed=True, due_in=-HOUR)

    response = await client.get("/api/v1/queue", params={"hotline": "national"})
    body = await response.json()

    assert [item["deadline_state"] for item in body["items"]] == [
        "overdue",
        "at_risk",
        "on_time",
    ]
    # Counts are of the whole open queue, not of the filtered page.
    assert body["counts"] == {"overdue": 2, "at_risk": 1}


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("hotline", "aarhus", "must be one of: copenhagen, national"),
        ("channel", "fax", "must be one of: phone, sms, web_chat, web_form, whatsapp"),
        ("status", "open", "must be one of: " + ", ".join(sorted(s.value for s in CaseStatus))),
        ("assignee", "someone", "must be mine, unassigned or a staff id"),
        ("due", "tomorrow", "must be one of: at_risk, overdue"),
    ],
)
async def test_a_bad_filter_is_400_naming_it(
    client: Any, deps: Deps, name: str, value: str, expected: str
) -> None:
    await logged_in(client, deps)

    error = await error_of(client, "/api/v1/queue", **{name: value})

    assert error == {"code": 400, "message": expected, "field": name}


async def test_pages_keep_their_filters_and_a_cursor_needs_the_same_filters(
    client: Any, deps: Deps
) -> None:
    await logged_in(client, deps)
    national = [add_case(deps, due_in=(n + 1) * HOUR) for n in range(5)]
    for n in range(5):
        add_case(deps, due_in=(n + 1) * HOUR + timedelta(minutes=1), hotline="copenhagen")

    first = await (await client.get("/api/v1/queue?hotline=national&limit=2")).json()
    cursor = first["next_cursor"]
    second = await (
        await client.get(
            "/api/v1/queue", params={"hotline": "national", "limit": 2, "cursor": cursor}
        )
    ).json()
    assert [i["id"] for i in first["items"] + second["items"]] == national[:4]

    for other in ({}, {"hotline": "copenhagen"}, {"hotline": "national", "due": "at_risk"}):
        error = await error_of(client, "/api/v1/queue", cursor=cursor, **other)
        assert error["field"] == "cursor"
        assert "other filters" in error["message"]
    # An unfiltered cursor is refused with filters too.
    plain = (await (await client.get("/api/v1/queue?limit=2")).json())["next_cursor"]
    assert (await error_of(client, "/api/v1/queue", cursor=plain, due="at_risk"))["field"] == (
        "cursor"
    )


@pytest_asyncio.fixture
async def other_client(deps: Deps, clock: FrozenClock) -> AsyncIterator[Any]:
    other = build_deps(deps.settings, clock=clock, fake_server=deps.fake_server)
    async with TestClient(TestServer(create_app(other, in_process_worker=False))) as test_client:
        yield test_client
    await other.aclose()


async def test_mine_is_whoever_asks(client: Any, other_client: Any, deps: Deps) -> None:
    await logged_in(client, deps)
    anna = create_staff(deps, username="anna")
    assert (await log_in(other_client, username="anna")).status == 303
    mine = add_case(deps, assignee_id=1)
    hers = add_case(deps, assignee_id=anna)

    assert await ids(client, assignee="mine") == [mine]
    assert await ids(other_client, assignee="mine") == [hers]


async def test_the_page_shows_states_in_words_without_javascript(client: Any, deps: Deps) -> None:
    await logged_in(client, deps)
    overdue = add_case(deps, due_in=-(HOUR + timedelta(minutes=5)), received_ago=30 * HOUR)
    soon = add_case(deps, due_in=3 * HOUR + timedelta(minutes=20))
    later = add_case(deps, due_in=50 * HOUR)

    page: str = await (await client.get("/queue?lang=en")).text()

    def row(case_id: int) -> str:
        start = page.index(f'<tr id="case-{case_id}"')
        return page[start : page.index("</tr>", start)]

    assert 'class="deadline overdue"' in row(overdue)
    assert "Overdue</span>" in row(overdue)
    assert "overdue by 1 h 5 min" in row(overdue)
    assert "30 h 0 min ago" in row(overdue)
    assert 'class="deadline at_risk"' in row(soon)
    assert "Due soon</span>" in row(soon)
    assert "3 h 20 min left" in row(soon)
    assert 'class="deadline on_time"' in row(later)
    assert "2 d 2 h left" in row(later)
    assert "Overdue: 1" in page
    assert "Due soon: 1" in page
    # The machine-readable due time the countdown script works from.
    assert f'data-due="{(deps.clock.now() + 50 * HOUR).isoformat()}"' in row(later)

    danish = await (await client.get("/queue?lang=da")).text()
    assert "overskredet med 1 t 5 min" in danish
    assert "Frist snart: 1" in danish


async def test_the_page_filters_and_keeps_them_in_its_links(client: Any, deps: Deps) -> None:
    await logged_in(client, deps)
    cases = [add_case(deps, hotline="copenhagen", due_in=(n + 1) * HOUR) for n in range(3)]
    national = add_case(deps)

    page = await (await client.get("/queue?hotline=copenhagen&limit=2")).text()

    assert f'href="/cases/{cases[0]}"' in page
    assert f'href="/cases/{national}"' not in page
    assert '<option value="copenhagen" selected>' in page
    assert 'id="next-page" href="/queue?hotline=copenhagen&amp;cursor=' in page


async def test_a_bad_filter_on_the_page_says_so_in_danish(client: Any, deps: Deps) -> None:
    await logged_in(client, deps)

    response = await client.get("/queue", params={"due": "soon"})
    page = await response.text()

    assert response.status == 400
    assert "Ret venligst følgende" in page
    assert '<a href="#due">Vælg en af: at_risk, overdue.</a>' in page
    assert 'id="due" name="due" aria-invalid="true"' in page
    assert '<table class="queue">' not in page


async def test_a_cursor_for_other_filters_on_the_page(client: Any, deps: Deps) -> None:
    await logged_in(client, deps)
    for _ in range(3):
        add_case(deps)
    plain = (await (await client.get("/api/v1/queue?limit=1")).json())["next_cursor"]

    response = await client.get("/queue", params={"cursor": plain, "hotline": "national"})

    assert response.status == 400
    assert "Dette sidelink hører til andre filtre." in await response.text()
