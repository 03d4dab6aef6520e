"""Every route with a numeric id in its path answers 404 for an id beyond BIGINT, never a 500.

The walk covers routes registered in the future too, for every role that might reach them.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp import web

from access.models import Role
from bootstrap import Deps
from tests.support.forms import csrf_token
from tests.support.staff import STAFF_PASSWORD, create_staff, log_in

pytestmark = pytest.mark.asyncio

NUMERIC_GROUP = re.compile(r"\(\?P<(\w+)>\\d\+\)")
BEYOND_BIGINT = str(2**63)


def _numeric_routes(app: web.Application) -> list[tuple[str, str]]:
    found = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        pattern = info.get("pattern")
        if pattern is None or route.method not in ("GET", "POST", "PUT"):
            continue
        numeric = NUMERIC_GROUP.findall(pattern.pattern)
        if numeric:
            path = info["formatter"]
            for name in numeric:
                path = path.replace("{" + name + "}", BEYOND_BIGINT)
            found.append((route.method, path))
    return sorted(set(found))


@pytest.mark.parametrize("role", list(Role))
async def test_an_id_beyond_bigint_is_not_found(client: Any, deps: Deps, role: Role) -> None:
    username = f"ids-{role.value}"
    create_staff(deps, username=username, role=role)
    assert (await log_in(client, username=username, password=STAFF_PASSWORD)).status == 303
    token = csrf_token(await (await client.get("/queue")).text())
    routes = _numeric_routes(client.app)
    assert routes, "no route has a numeric id"
    answers = {}
    for method, path in routes:
        response = await client.request(
            method,
            path,
            headers={"X-CSRF-Token": token},
            data={"csrf_token": token} if not path.startswith("/api/") else None,
            allow_redirects=False,
        )
        answers[f"{method} {path}"] = response.status
    # 404, or refused before the id is read (403: another role's route).
    assert {route: status for route, status in answers.items() if status not in (403, 404)} == {}
