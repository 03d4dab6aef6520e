"""Public forms are rate limited per client: a flood gets 429, in the user's language, and
nothing of it is stored."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from bootstrap import Deps
from intake.models import Contact
from tests.support.forms import open_form, valid_answers
from web.ratelimit import LOGINS, RECEIPT_CHECKS, REPORTS

pytestmark = pytest.mark.asyncio


async def contacts(deps: Deps) -> int:
    async with deps.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Contact)) or 0)


async def test_a_flood_of_reports_is_refused_after_the_limit(client: Any, deps: Deps) -> None:
    token = await open_form(client)
    statuses = []
    for _ in range(REPORTS.requests + 1):
        response = await client.post(
            "/report/national", data={"csrf_token": token, **valid_answers()}
        )
        statuses.append(response.status)

    assert statuses == [200] * REPORTS.requests + [429]
    assert int(response.headers["Retry-After"]) > 0
    page = await response.text()
    assert "For mange forespørgsler" in page
    # The refused report was not stored; the accepted ones were.
    assert await contacts(deps) == REPORTS.requests


async def test_receipt_checks_are_limited_apart_from_logins(client: Any) -> None:
    token = await open_form(client)
    statuses = []
    for _ in range(RECEIPT_CHECKS.requests + 1):
        response = await client.post(
            "/follow-up", data={"csrf_token": token, "code": "AAAA-AAAA-AAAA-AAAA-AAAA"}
        )
        statuses.append(response.status)
    assert statuses == [404] * RECEIPT_CHECKS.requests + [429]

    # Guessing receipt codes does not use up the staff's login budget.
    login = await client.post(
        "/login", data={"csrf_token": token, "username": "nobody", "password": "wrong-password"}
    )
    assert login.status == 401


async def test_logins_are_limited(client: Any) -> None:
    token = await open_form(client)
    statuses = []
    for _ in range(LOGINS.requests + 1):
        response = await client.post(
            "/login", data={"csrf_token": token, "username": "nobody", "password": "wrong"}
        )
        statuses.append(response.status)
    assert statuses == [401] * LOGINS.requests + [429]


async def test_the_form_page_itself_is_not_limited(client: Any) -> None:
    for _ in range(REPORTS.requests + 5):
        response = await client.get("/report/national")
        assert response.status == 200
