"""Staff accounts for tests, and logging in through the real login form."""

from __future__ import annotations

from typing import Any

from access.models import Role
from access.service import create_user
from bootstrap import Deps
from tests.support.forms import csrf_token

STAFF_USERNAME = "hanne"
STAFF_PASSWORD = "korrekt-hest-batteri-haefteklamme"
SESSION_COOKIE = "hotline_session"


def create_staff(
    deps: Deps,
    *,
    username: str = STAFF_USERNAME,
    password: str = STAFF_PASSWORD,
    role: Role = Role.HOTLINE,
    partner_unit_id: int | None = None,
) -> int:
    """A staff account, created the way the CLI does (sync session in one transaction)."""
    with deps.job_context().transaction() as session:
        user = create_user(
            session,
            username=username,
            display_name=username.title(),
            password=password,
            role=role,
            now=deps.clock.now(),
            partner_unit_id=partner_unit_id,
        )
        return user.id


async def login_token(client: Any) -> str:
    """The CSRF token of the login page (sets the CSRF cookie in the client's jar)."""
    response = await client.get("/login")
    assert response.status == 200
    return csrf_token(await response.text())


async def log_in(
    client: Any,
    *,
    username: str = STAFF_USERNAME,
    password: str = STAFF_PASSWORD,
    next_path: str = "/queue",
) -> Any:
    """POST the login form; returns the (unfollowed) response."""
    token = await login_token(client)
    return await client.post(
        "/login",
        data={"csrf_token": token, "username": username, "password": password, "next": next_path},
        allow_redirects=False,
    )


async def logged_in(client: Any, deps: Deps) -> str:
    """Create the default staff account and log the client in; returns the session token."""
    create_staff(deps)
    response = await log_in(client)
    assert response.status == 303, await response.text()
    session = response.cookies.get(SESSION_COOKIE)
    assert session is not None
    assert session.value
    return str(session.value)


async def staff_api_headers(client: Any, deps: Deps) -> dict[str, str]:
    """Log in as hotline staff; returns the CSRF header the staff API's POSTs need."""
    await logged_in(client, deps)
    page = await client.get("/queue")
    assert page.status == 200
    return {"X-CSRF-Token": csrf_token(await page.text())}
