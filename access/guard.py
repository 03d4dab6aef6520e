"""The one place that decides who may call which route.

Every request passes through `access_middleware`. A route is staff-only unless its handler is
marked `@public` (web/policy.py); `@requires_role` narrows it further, and `@or_self` widens
that to the staff member the path names (their own record). Pages answer an anonymous
visitor with a redirect to the login page, the API with 401.
"""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web
from aiohttp.typedefs import Handler

from access.models import Role
from access.service import Staff, staff_for_token
from web.appkeys import deps_key, staff_key
from web.middleware import wants_json
from web.policy import allowed_roles, is_public, self_parameter

SESSION_COOKIE = "hotline_session"


def session_lifetime(request: web.Request) -> timedelta:
    return timedelta(hours=request.app[deps_key].settings.session_hours)


async def _current_staff(request: web.Request) -> Staff | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    deps = request.app[deps_key]
    async with deps.sessions() as session, session.begin():
        return await staff_for_token(
            session, token, now=deps.clock.now(), lifetime=session_lifetime(request)
        )


def _open_to_all(request: web.Request) -> bool:
    match = request.match_info
    if match.http_exception is not None:  # no such route: let the 404/405 through
        return True
    if isinstance(match.route.resource, web.StaticResource):
        return True
    return is_public(match.handler)


@web.middleware
async def access_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    request[staff_key] = None
    if request.match_info.http_exception is None and not isinstance(
        request.match_info.route.resource, web.StaticResource
    ):
        request[staff_key] = await _current_staff(request)
    if _open_to_all(request):
        return await handler(request)

    staff = request[staff_key]
    if staff is None:
        if wants_json(request):
            raise web.HTTPUnauthorized(reason="log in first (POST /login)")
        raise web.HTTPSeeOther(f"/login?next={request.rel_url.path}")
    roles = allowed_roles(request.match_info.handler)
    if (
        roles is not None
        and staff.role not in roles
        and staff.role is not Role.ADMIN
        and not _is_self(request, staff)
    ):
        raise web.HTTPForbidden(reason="your role does not allow this")
    return await handler(request)


def _is_self(request: web.Request, staff: Staff) -> bool:
    """The route is marked `@or_self(param)` and its path names this staff member."""
    param = self_parameter(request.match_info.handler)
    return param is not None and request.match_info.get(param) == str(staff.id)


def safe_next(target: str | None) -> str:
    """Only same-site paths, so the login form cannot be used to redirect elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/queue"
