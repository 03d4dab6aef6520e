"""Login and logout pages."""

from __future__ import annotations

from aiohttp import web

from access.guard import SESSION_COOKIE, safe_next, session_lifetime
from access.service import log_in, log_out
from web.appkeys import deps_key, staff_key
from web.i18n import N_
from web.policy import public, rate_limited
from web.ratelimit import LOGINS
from web.rendering import render, see_other

MAX_FIELD = 256


@public
async def login_page(request: web.Request) -> web.Response:
    return render(request, "access/login.html", {"next": safe_next(request.query.get("next"))})


@public
@rate_limited(LOGINS)
async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    username = str(form.get("username", ""))[:MAX_FIELD]
    password = str(form.get("password", ""))[:MAX_FIELD]
    target = safe_next(str(form.get("next", "")))
    deps = request.app[deps_key]
    async with deps.sessions() as session, session.begin():
        token = await log_in(
            session,
            username=username,
            password=password,
            now=deps.clock.now(),
            lifetime=session_lifetime(request),
        )
    if token is None:
        return render(
            request,
            "access/login.html",
            {
                "next": target,
                "username": username,
                "error": N_("Wrong username or password, or the account is locked for a while."),
            },
            status=401,
        )
    response = see_other(target)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        secure=deps.settings.cookie_secure,
        samesite="Lax",
        path="/",
    )
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    staff = request[staff_key]
    deps = request.app[deps_key]
    if staff is not None:
        async with deps.sessions() as session, session.begin():
            await log_out(session, staff, now=deps.clock.now())
    response = see_other("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


def register(app: web.Application) -> None:
    app.router.add_get("/login", login_page, name="login")
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout, name="logout")
