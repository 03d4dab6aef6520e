"""Staff access: login, sessions, lockout, safe redirects, audit, and the one access check."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import func, select

from access.models import AuditEntry, StaffSession, StaffUser
from access.service import LOCK_DURATION, MAX_FAILED_LOGINS
from bootstrap import Deps
from clock import FrozenClock
from tests.support.forms import csrf_token
from tests.support.staff import (
    SESSION_COOKIE,
    STAFF_PASSWORD,
    STAFF_USERNAME,
    create_staff,
    log_in,
    logged_in,
)
from web.middleware import API_PAGES
from web.policy import is_public

pytestmark = pytest.mark.asyncio

WRONG_PASSWORD = "forkert-adgangskode-1234"
REFUSED_DA = "Forkert brugernavn eller adgangskode, eller kontoen er låst et stykke tid."


async def session_rows(deps: Deps) -> int:
    async with deps.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(StaffSession)) or 0)


async def test_the_queue_page_sends_an_anonymous_visitor_to_the_login(client: Any) -> None:
    response = await client.get("/queue", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/login?next=/queue"


async def test_the_queue_api_answers_an_anonymous_caller_with_401_json(client: Any) -> None:
    response = await client.get("/api/v1/queue", allow_redirects=False)
    assert response.status == 401
    assert response.content_type == "application/json"
    body = await response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == 401
    assert "log in" in body["error"]["message"]


async def test_a_wrong_password_is_refused_with_401(client: Any, deps: Deps) -> None:
    create_staff(deps)
    response = await log_in(client, password=WRONG_PASSWORD)
    page = await response.text()
    assert response.status == 401
    assert REFUSED_DA in page
    assert f'value="{STAFF_USERNAME}"' in page  # the username is kept, the password is not
    assert WRONG_PASSWORD not in page
    assert SESSION_COOKIE not in response.cookies
    assert await session_rows(deps) == 0

    # An unknown user gets the same answer.
    response = await log_in(client, username="ingen-saadan", password=WRONG_PASSWORD)
    assert response.status == 401
    assert REFUSED_DA in await response.text()


async def test_login_opens_a_session_for_the_queue_page_and_api(client: Any, deps: Deps) -> None:
    create_staff(deps)
    response = await log_in(client)
    assert response.status == 303
    assert response.headers["Location"] == "/queue"
    cookie = response.cookies[SESSION_COOKIE]
    assert cookie.value
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert await session_rows(deps) == 1

    page = await client.get("/queue", allow_redirects=False)
    assert page.status == 200
    assert "Hanne" in await page.text()  # the staff member's display name in the header
    api = await client.get("/api/v1/queue")
    assert api.status == 200
    assert await api.json() == {
        "items": [],
        "next_cursor": None,
        "counts": {"overdue": 0, "at_risk": 0},
    }


async def test_a_session_ends_after_its_lifetime(
    client: Any, deps: Deps, clock: FrozenClock
) -> None:
    await logged_in(client, deps)
    clock.advance(timedelta(hours=deps.settings.session_hours) - timedelta(minutes=1))
    assert (await client.get("/api/v1/queue")).status == 200
    # That request slid the expiry forward (less than half the lifetime was left).
    clock.advance(timedelta(hours=deps.settings.session_hours) - timedelta(minutes=1))
    assert (await client.get("/api/v1/queue")).status == 200
    clock.advance(timedelta(hours=deps.settings.session_hours) + timedelta(minutes=1))
    assert (await client.get("/api/v1/queue")).status == 401


async def test_logout_deletes_the_session_and_the_old_cookie_stops_working(
    client: Any, deps: Deps
) -> None:
    token = await logged_in(client, deps)

    # Control: the cookie value alone (outside the jar) is a working login.
    client.session.cookie_jar.clear()
    response = await client.get("/api/v1/queue", cookies={SESSION_COOKIE: token})
    assert response.status == 200

    page = await client.get("/queue", cookies={SESSION_COOKIE: token})
    assert page.status == 200
    response = await client.post(
        "/logout",
        data={"csrf_token": csrf_token(await page.text())},
        cookies={SESSION_COOKIE: token},
        allow_redirects=False,
    )
    assert response.status == 303
    assert response.headers["Location"] == "/login"
    assert await session_rows(deps) == 0

    client.session.cookie_jar.clear()
    response = await client.get("/api/v1/queue", cookies={SESSION_COOKIE: token})
    assert response.status == 401
    response = await client.get("/queue", cookies={SESSION_COOKIE: token}, allow_redirects=False)
    assert response.status == 303
    async with deps.sessions() as session:
        actions = (await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all()
    assert actions[-1] == "logout"


async def test_logout_needs_a_csrf_token(client: Any, deps: Deps) -> None:
    await logged_in(client, deps)
    response = await client.post("/logout", data={}, allow_redirects=False)
    assert response.status == 403
    assert await session_rows(deps) == 1
    assert (await client.get("/api/v1/queue")).status == 200


async def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(
    client: Any, deps: Deps, clock: FrozenClock
) -> None:
    assert MAX_FAILED_LOGINS == 5
    assert timedelta(minutes=15) == LOCK_DURATION
    create_staff(deps)
    for _ in range(MAX_FAILED_LOGINS):
        assert (await log_in(client, password=WRONG_PASSWORD)).status == 401

    # Locked: even the right password is refused.
    response = await log_in(client)
    assert response.status == 401
    assert REFUSED_DA in await response.text()
    clock.advance(timedelta(minutes=14, seconds=59))
    assert (await log_in(client)).status == 401
    assert await session_rows(deps) == 0

    clock.advance(timedelta(seconds=2))
    response = await log_in(client)
    assert response.status == 303
    assert await session_rows(deps) == 1
    async with deps.sessions() as session:
        user = (await session.scalars(select(StaffUser))).one()
    assert user.failed_logins == 0
    assert user.locked_until is None


async def test_four_wrong_passwords_do_not_lock(client: Any, deps: Deps) -> None:
    create_staff(deps)
    for _ in range(MAX_FAILED_LOGINS - 1):
        assert (await log_in(client, password=WRONG_PASSWORD)).status == 401
    assert (await log_in(client)).status == 303


@pytest.mark.parametrize(
    "target",
    ["//evil.example", "//evil.example/queue", "https://evil.example/", "/\\evil.example", ""],
)
async def test_login_never_redirects_off_site(client: Any, deps: Deps, target: str) -> None:
    create_staff(deps)
    page = await client.get("/login", params={"next": target})
    assert 'name="next" value="/queue"' in await page.text()

    response = await log_in(client, next_path=target)
    assert response.status == 303
    assert response.headers["Location"] == "/queue"


async def test_login_follows_a_same_site_next(client: Any, deps: Deps) -> None:
    create_staff(deps)
    response = await log_in(client, next_path="/api/v1/queue")
    assert response.status == 303
    assert response.headers["Location"] == "/api/v1/queue"


async def test_logins_are_audited_without_the_password(client: Any, deps: Deps) -> None:
    user_id = create_staff(deps)
    assert (await log_in(client, password=WRONG_PASSWORD)).status == 401
    assert (await log_in(client)).status == 303

    async with deps.sessions() as session:
        entries = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    by_action = {entry.action: entry for entry in entries}
    assert [e.action for e in entries] == ["staff_created", "login_refused", "login"]
    assert by_action["login_refused"].subject_id == str(user_id)
    assert by_action["login_refused"].actor_id is None
    assert by_action["login"].actor_id == user_id
    for entry in entries:
        recorded = json.dumps(
            [entry.action, entry.subject_kind, entry.subject_id, entry.detail], default=str
        )
        assert WRONG_PASSWORD not in recorded
        assert STAFF_PASSWORD not in recorded


async def test_passwords_are_stored_as_argon2id_hashes(client: Any, deps: Deps) -> None:
    create_staff(deps)
    assert (await log_in(client)).status == 303  # the stored hash verifies the password
    async with deps.sessions() as session:
        stored = (await session.scalars(select(StaffUser.password_hash))).one()
    assert stored.startswith("$argon2id$")
    assert STAFF_PASSWORD not in stored


def _concrete_path(resource: web.AbstractResource) -> str:
    # Any value will do for a path variable: the request must be refused before it is looked at.
    return re.sub(r"\{[^}]+\}", "1", resource.canonical)


async def test_every_staff_route_is_refused_without_login(client: Any, deps: Deps) -> None:
    """The one access check covers every route that is not marked @public (or static)."""
    app: web.Application = client.app
    checked: set[tuple[str, str]] = set()
    for route in app.router.routes():
        if isinstance(route.resource, web.StaticResource) or is_public(route.handler):
            continue
        assert route.resource is not None
        method = "GET" if route.method == "*" else route.method
        path = _concrete_path(route.resource)
        response = await client.request(method, path, allow_redirects=False)
        if path.startswith("/api/") and path not in API_PAGES:
            assert response.status == 401, (method, path, response.status)
        else:
            assert response.status == 303, (method, path, response.status)
            assert response.headers["Location"] == f"/login?next={path}", (method, path)
        checked.add((method, path))

    # The routes this test must at least have seen (so it cannot pass by checking nothing).
    assert {("GET", "/queue"), ("GET", "/api/v1/queue"), ("POST", "/logout")} <= checked
    # And nothing reached a handler: no session, no audit entry beyond none at all.
    async with deps.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 0


async def test_public_routes_stay_open(client: Any) -> None:
    """The other side of the check: the public pages need no login."""
    for path in ("/", "/report/national", "/report/copenhagen", "/follow-up", "/login", "/healthz"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 200, path
