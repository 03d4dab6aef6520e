"""How a JSON API route (under /api/) describes itself and reads its body.

A handler carries an `@operation(...)` mark naming its summary, tag, and the pydantic models of
its query, body and answer. The OpenAPI document is built from these marks and the app's routes,
so it cannot describe a route that does not exist; a test fails for an /api/ route without one.
`read_body` parses a JSON body with the same model, so what is documented is what is enforced.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from web.middleware import FieldError
from web.policy import Handler

H = TypeVar("H", bound=Handler)
M = TypeVar("M", bound=BaseModel)

_OPERATION = "__hotline_api_operation__"


@dataclass(frozen=True)
class Operation:
    summary: str
    tag: str
    # pydantic models; None where the route has no such part.
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    # The answer's status when it succeeds, and the error statuses it may give.
    status: int = 200
    errors: tuple[int, ...] = ()
    # Further success statuses with the same answer (e.g. 201 beside 202), a longer text for
    # the document, and the answer's media type when it is not JSON (e.g. "audio/*": bytes).
    other_statuses: tuple[int, ...] = ()
    description: str = ""
    content_type: str | None = None


def operation(
    summary: str,
    *,
    tag: str,
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    errors: tuple[int, ...] = (),
    other_statuses: tuple[int, ...] = (),
    description: str = "",
    content_type: str | None = None,
) -> Callable[[H], H]:
    """Describe an API handler for the OpenAPI document (web/openapi.py builds it)."""
    described = Operation(
        summary,
        tag,
        query,
        body,
        response,
        status,
        errors,
        other_statuses=other_statuses,
        description=description,
        content_type=content_type,
    )

    def mark(handler: H) -> H:
        setattr(handler, _OPERATION, described)
        return handler

    return mark


def operation_of(handler: object) -> Operation | None:
    found: Operation | None = getattr(handler, _OPERATION, None)
    return found


async def read_body(request: web.Request, model: type[M]) -> M:
    """The JSON body as `model`, or a 400 naming the first field that is wrong."""
    try:
        posted = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise FieldError("body", "send a JSON object") from None
    try:
        return model.model_validate(posted)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        raise FieldError(field, first["msg"]) from None
