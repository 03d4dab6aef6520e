"""web.openapi on a made-up router: every combination of a mark's fields gives a valid document.

Other modules add API routes with marks of their own; the builder must describe any of them
(and the answer checker must catch answers the document does not describe).
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from typing import Any

import pytest
from aiohttp import web
from openapi_spec_validator import validate
from pydantic import BaseModel, Field

from access.models import Role
from tests.support.openapi import assert_matches
from web.api import operation
from web.openapi import CachedDocument, build_document, unmarked_routes
from web.policy import csrf_exempt, public, rate_limited, requires_role
from web.ratelimit import Limit


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


class Item(BaseModel):
    """An item."""

    id: int
    colour: Colour
    note: str | None


def _other_item() -> type[BaseModel]:
    # A second model called Item (as another module might have): both must be documented.
    class Item(BaseModel):
        name: str = Field(max_length=10)

    return Item


OtherItem = _other_item()


class Filter(BaseModel):
    colour: Colour | None = None
    limit: int = Field(10, ge=1, le=50, description="How many.")
    tags: list[str] = Field(default_factory=list)
    after: int | None = Field(None, alias="after-id")


class Page(BaseModel):
    items: list[Item]
    other: OtherItem | None  # type: ignore[valid-type]


class Create(BaseModel):
    name: str
    colours: list[Colour] = []


async def _handler(request: web.Request) -> web.Response:
    return web.json_response({})


def _fresh() -> Any:
    # A new function object per route: marks are attributes on the handler.
    async def handler(request: web.Request) -> web.Response:
        return await _handler(request)

    return handler


def _app() -> web.Application:
    app = web.Application()
    router = app.router
    router.add_get(
        "/api/v1/items",
        operation("List items", tag="items", query=Filter, response=Page)(_fresh()),
        name="items",
    )
    router.add_post(
        r"/api/v1/items/{item_id:\d+}/copies",
        requires_role(Role.COORDINATOR)(
            operation(
                "Copy an item",
                tag="items",
                body=Create,
                response=Item,
                status=201,
                other_statuses=(200,),
                errors=(404, 409),
                description="Copies it.",
            )(_fresh())
        ),
    )
    router.add_delete(
        "/api/v1/items/{slug}",
        operation("Delete an item", tag="items", status=204, errors=(404,))(_fresh()),
    )
    router.add_get(
        "/api/v1/items/{code:[A-Z]{3}}/picture",
        public(
            rate_limited(Limit("pictures", requests=5, per_seconds=60))(
                operation(
                    "An item's picture", tag="pictures", content_type="image/png", errors=(404,)
                )(_fresh())
            )
        ),
    )
    router.add_post(
        "/api/v1/hooks",
        public(csrf_exempt(operation("A webhook", tag="hooks", body=Create)(_fresh()))),
    )
    router.add_put(
        "/api/v1/other",
        operation("Replace the other item", tag="items", body=OtherItem, response=OtherItem)(
            _fresh()
        ),
    )
    router.add_get("/api/v1/forgotten", _fresh())
    router.add_get("/pages/not-api", _fresh())
    return app


def test_any_combination_of_marks_gives_a_valid_document() -> None:
    document = build_document(_app())
    validate(document)
    assert set(document["paths"]) == {
        "/api/v1/items",
        "/api/v1/items/{item_id}/copies",
        "/api/v1/items/{slug}",
        "/api/v1/items/{code}/picture",
        "/api/v1/hooks",
        "/api/v1/other",
    }
    assert [tag["name"] for tag in document["tags"]] == ["hooks", "items", "pictures"]
    # HEAD beside GET is aiohttp's, not an operation.
    assert set(document["paths"]["/api/v1/items"]) == {"get"}


def test_unmarked_routes_are_left_out_and_named() -> None:
    app = _app()
    assert unmarked_routes(app) == ["GET /api/v1/forgotten"]
    assert "/api/v1/forgotten" not in build_document(app)["paths"]


def test_query_models_become_parameters() -> None:
    document = build_document(_app())
    listing = document["paths"]["/api/v1/items"]["get"]
    parameters = {p["name"]: p for p in listing["parameters"]}
    assert set(parameters) == {"colour", "limit", "tags", "after-id"}
    assert all(p["in"] == "query" and p["required"] is False for p in parameters.values())
    # Absent, never null: `X | None = None` is documented as X.
    assert parameters["colour"]["schema"] == {"$ref": "#/components/schemas/Colour"}
    assert parameters["after-id"]["schema"] == {"type": "integer"}
    assert parameters["limit"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 50,
        "default": 10,
    }
    assert parameters["limit"]["description"] == "How many."
    assert parameters["tags"]["schema"]["type"] == "array"
    # The query model is inlined, not left as an unused component.
    assert "Filter" not in document["components"]["schemas"]
    assert listing["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Page"
    }
    assert set(listing["responses"]) == {"200", "400", "401"}


def test_paths_bodies_statuses_and_access() -> None:
    document = build_document(_app())
    copy = document["paths"]["/api/v1/items/{item_id}/copies"]["post"]
    assert copy["parameters"] == [
        {
            "name": "item_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 0},
        }
    ]
    assert copy["requestBody"]["required"] is True
    assert set(copy["responses"]) == {"200", "201", "400", "401", "403", "404", "409", "413"}
    assert list(copy["responses"])[:2] == ["200", "201"]
    assert copy["security"] == [{"staffSession": [], "csrfCookie": [], "csrfToken": []}]
    assert copy["description"].startswith("Copies it. Staff with the role admin or coordinator.")
    assert "role" in copy["responses"]["403"]["description"]
    assert "X-CSRF-Token" in copy["responses"]["403"]["description"]

    deleted = document["paths"]["/api/v1/items/{slug}"]["delete"]
    assert deleted["responses"]["204"] == {"description": "No Content"}
    assert deleted["parameters"][0]["schema"] == {"type": "string"}
    assert "Any logged-in staff member." in deleted["description"]

    picture = document["paths"]["/api/v1/items/{code}/picture"]["get"]
    assert picture["security"] == []
    assert picture["parameters"][0]["schema"] == {"type": "string", "pattern": "^(?:[A-Z]{3})$"}
    assert picture["responses"]["200"]["content"] == {"image/png": {}}
    assert set(picture["responses"]) == {"200", "404", "429"}
    assert "At most 5 requests per 60 seconds" in picture["description"]

    hook = document["paths"]["/api/v1/hooks"]["post"]
    assert hook["security"] == []  # public, and no CSRF token: authenticated otherwise
    assert set(hook["responses"]) == {"200", "400", "413"}


def test_errors_share_one_schema_and_ids_are_unique() -> None:
    document = build_document(_app())
    error_refs = {
        json["schema"]["$ref"]
        for methods in document["paths"].values()
        for described in methods.values()
        for status, answer in described["responses"].items()
        if int(status) >= 400
        for json in answer["content"].values()
    }
    assert error_refs == {"#/components/schemas/Error"}
    ids = [d["operationId"] for m in document["paths"].values() for d in m.values()]
    assert len(ids) == len(set(ids))
    assert "items" in ids  # the route's name where it has one


def test_two_models_of_one_name_get_two_schemas() -> None:
    document = build_document(_app())
    schemas = document["components"]["schemas"]
    items = [name for name, schema in schemas.items() if schema.get("title") == "Item"]
    assert len(items) == 2
    fields = sorted(tuple(sorted(schemas[name]["properties"])) for name in items)
    assert fields == [("colour", "id", "note"), ("name",)]


def test_a_model_used_both_ways_is_one_schema_and_every_ref_resolves() -> None:
    document = build_document(_app())
    replace = document["paths"]["/api/v1/other"]["put"]
    body = replace["requestBody"]["content"]["application/json"]["schema"]
    answer = replace["responses"]["200"]["content"]["application/json"]["schema"]
    assert body == answer
    schemas = document["components"]["schemas"]
    assert not [name for name in schemas if name.endswith(("-Input", "-Output"))]
    refs = re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', json.dumps(document))
    assert refs
    assert set(refs) <= set(schemas)


def test_the_document_is_built_once_per_app() -> None:
    app = _app()
    cached = CachedDocument()
    assert cached.document(app) is cached.document(app)
    assert cached.body(app) is cached.body(app)


# --- the answer checker can fail --------------------------------------------------------------


def test_answers_that_stray_from_the_document_fail() -> None:
    document = build_document(_app())
    good = {"items": [{"id": 1, "colour": "red", "note": None}], "other": None}
    assert_matches(document, "GET", "/api/v1/items", 200, good)
    wrong = [
        {"items": [{"id": "1", "colour": "red", "note": None}], "other": None},  # type
        {"items": [{"id": 1, "colour": "green", "note": None}], "other": None},  # enum
        {"items": [{"id": 1, "colour": "red"}], "other": None},  # required
        {"items": [{"id": 1, "colour": "red", "note": None, "secret": 1}], "other": None},
    ]
    for body in wrong:
        with pytest.raises(AssertionError, match="does not match"):
            assert_matches(document, "GET", "/api/v1/items", 200, body)
    with pytest.raises(AssertionError, match="not documented"):
        assert_matches(document, "GET", "/api/v1/items", 404, {})
    with pytest.raises(AssertionError, match="not in the OpenAPI document"):
        assert_matches(document, "GET", "/api/v1/nothing", 200, {})
    error = {"error": {"code": 404, "message": "gone"}}
    assert_matches(document, "DELETE", "/api/v1/items/abc", 404, error)
    with pytest.raises(AssertionError, match="does not match"):
        assert_matches(document, "DELETE", "/api/v1/items/abc", 404, {"error": {"code": 404}})
    assert_matches(document, "GET", "/api/v1/items/ABC/picture", 200, b"", content_type="image/png")
    with pytest.raises(AssertionError, match="answered text/html"):
        assert_matches(
            document, "GET", "/api/v1/items/ABC/picture", 200, b"", content_type="text/html"
        )
