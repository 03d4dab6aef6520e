"""Without a mail server (console mode) a routing's notice is logged and shown as not sent."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from access.models import Role
from bootstrap import Deps
from integrations.console import ConsoleEmailSender
from tests.integration.test_routing import (
    HOTLINE,
    KOEBENHAVN,
    add_unit,
    become,
    justified_case,
    page,
)
from tests.support.jobs import run_jobs
from tests.support.staff import create_staff
from triage.models import NoticeStatus, Routing

pytestmark = pytest.mark.asyncio


async def test_console_mode_shows_the_notice_as_not_sent(client: Any, deps: Deps) -> None:
    assert isinstance(deps.email, ConsoleEmailSender)
    await add_unit(deps, "Infohus København", (KOEBENHAVN,))
    create_staff(deps, username=HOTLINE, role=Role.HOTLINE)
    case_id = await justified_case(client, deps, subject=KOEBENHAVN)
    headers = await become(client, HOTLINE)
    routed = await client.post(
        f"/api/v1/cases/{case_id}/routings",
        json={"legal_basis": "Retsplejeloven § 115, stk. 2"},
        headers=headers,
    )
    assert routed.status == 201
    await run_jobs(deps)

    async with deps.sessions() as session:
        routing = await session.scalar(select(Routing))
    assert routing is not None
    assert routing.notice_status is NoticeStatus.NOT_SENT
    assert routing.notice_attempts == 1
    assert "Ikke sendt (konsoltilstand)" in await page(client, f"/cases/{case_id}")
