"""How a route declares who may call it. Routes are staff-only unless marked otherwise.

The marks are read in exactly one place, the access middleware (access/guard.py), so "is this
page protected?" has one answer that can be checked by reading one function.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from aiohttp import web

from access.models import Role

if TYPE_CHECKING:
    from web.ratelimit import Limit

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
H = TypeVar("H", bound=Handler)

_PUBLIC = "__hotline_public__"
_ROLES = "__hotline_roles__"
_CSRF = "__hotline_csrf__"
_RATE_LIMIT = "__hotline_rate_limit__"
_SELF = "__hotline_self__"


def public(handler: H) -> H:
    """Anyone may call this route (the concern form, the receipt follow-up, login)."""
    setattr(handler, _PUBLIC, True)
    return handler


def requires_role(*roles: Role) -> Callable[[H], H]:
    """Only staff with one of these roles; without this mark any logged-in staff member may."""

    def mark(handler: H) -> H:
        setattr(handler, _ROLES, frozenset(roles))
        return handler

    return mark


def or_self(param: str) -> Callable[[H], H]:
    """With `@requires_role`: also the staff member whose id is the path's `{param}` (their own
    record, e.g. their contact details)."""

    def mark(handler: H) -> H:
        setattr(handler, _SELF, param)
        return handler

    return mark


def csrf_exempt(handler: H) -> H:
    """Authenticated otherwise (e.g. a Twilio signature), so no CSRF token is expected."""
    setattr(handler, _CSRF, "exempt")
    return handler


def csrf_keeps_input(handler: H) -> H:
    """On a CSRF failure still call the handler, so it can show the user's input again."""
    setattr(handler, _CSRF, "keep-input")
    return handler


def is_public(handler: object) -> bool:
    return bool(getattr(handler, _PUBLIC, False))


def allowed_roles(handler: object) -> frozenset[Role] | None:
    roles: frozenset[Role] | None = getattr(handler, _ROLES, None)
    return roles


def self_parameter(handler: object) -> str | None:
    param: str | None = getattr(handler, _SELF, None)
    return param


def csrf_mode(handler: object) -> str:
    return str(getattr(handler, _CSRF, "enforce"))


def rate_limited(limit: Limit) -> Callable[[H], H]:
    """Count this route's requests per client against `limit` (web/ratelimit.py enforces it)."""

    def mark(handler: H) -> H:
        setattr(handler, _RATE_LIMIT, limit)
        return handler

    return mark


def rate_limit_of(handler: object) -> Limit | None:
    limit: Limit | None = getattr(handler, _RATE_LIMIT, None)
    return limit
