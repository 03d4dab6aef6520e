"""Two pieces nearly every staff handler needs: who is signed in, and a pydantic model as JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from pydantic import BaseModel

from web.appkeys import staff_key

if TYPE_CHECKING:
    from access.service import Staff


def current_staff(request: web.Request) -> Staff:
    """The signed-in staff member of a handler that is not `@public`."""
    staff = request[staff_key]
    assert staff is not None  # the access guard lets only staff reach here
    return staff


def json_model(model: BaseModel, status: int = 200) -> web.Response:
    """A response model as JSON (dates as ISO text)."""
    return web.json_response(model.model_dump(mode="json"), status=status)
