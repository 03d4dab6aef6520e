"""The API's description: the OpenAPI document (public) and a reference page for staff.

GET /api/v1/openapi.json  the document (web/openapi.py), built once per app. Public: it holds
                          no personal data and says no more than the open-source code does;
                          client generators and linters can fetch it without a session.
GET /api/docs             the same document as a page (staff): operations with their access,
                          parameters, bodies and answers, then every schema. Rendered here on
                          the server: no script, nothing fetched from elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from web.appkeys import openapi_document_key
from web.i18n import N_
from web.middleware import API_REFERENCE_PAGE
from web.openapi import DOCUMENT_PATH, CachedDocument
from web.policy import public
from web.rendering import gettext_for, render

SCHEMA_PREFIX = "#/components/schemas/"

Gettext = Callable[[str], str]


@dataclass(frozen=True)
class Part:
    """A piece of a type's description: code (a type or value), a link, or connecting words."""

    text: str
    href: str | None = None
    code: bool = False


@dataclass
class Row:
    name: str
    type: list[Part]
    required: bool
    description: str = ""
    where: str = ""


@dataclass
class Answer:
    status: str
    description: str
    content: list[tuple[str, list[Part]]]


@dataclass
class OperationView:
    anchor: str
    method: str
    path: str
    summary: str
    description: str
    parameters: list[Row]
    body: list[tuple[str, list[Part]]]
    answers: list[Answer]


@dataclass
class SchemaView:
    anchor: str
    name: str
    description: str
    properties: list[Row] = field(default_factory=list)
    type: list[Part] = field(default_factory=list)


@public
async def openapi_document(request: web.Request) -> web.Response:
    body = request.app[openapi_document_key].body(request.app)
    return web.Response(body=body, content_type="application/json")


async def reference_page(request: web.Request) -> web.Response:
    document = request.app[openapi_document_key].document(request.app)
    _ = gettext_for(request)
    operations: dict[str, list[OperationView]] = {}
    for path, methods in document["paths"].items():
        for method, described in methods.items():
            view = _operation(path, method, described, _)
            operations.setdefault(described["tags"][0], []).append(view)
    schemas = [
        _schema(name, schema, _) for name, schema in document["components"]["schemas"].items()
    ]
    context = {
        "info": document["info"],
        "document_path": DOCUMENT_PATH,
        "tags": sorted(operations.items()),
        "schemas": schemas,
    }
    return render(request, "api/reference.html", context)


def _operation(path: str, method: str, described: dict[str, Any], _: Gettext) -> OperationView:
    parameters = [
        Row(
            name=parameter["name"],
            type=type_parts(parameter.get("schema", {}), _),
            required=bool(parameter.get("required")),
            description=parameter.get("description", ""),
            where=parameter["in"],
        )
        for parameter in described.get("parameters", [])
    ]
    body = _content(described.get("requestBody", {}).get("content", {}), _)
    answers = [
        Answer(status, answer.get("description", ""), _content(answer.get("content", {}), _))
        for status, answer in described.get("responses", {}).items()
    ]
    return OperationView(
        anchor=f"op-{described['operationId']}",
        method=method.upper(),
        path=path,
        summary=described.get("summary", ""),
        description=described.get("description", ""),
        parameters=parameters,
        body=body,
        answers=answers,
    )


def _content(content: dict[str, Any], _: Gettext) -> list[tuple[str, list[Part]]]:
    return [
        (media_type, type_parts(media["schema"], _) if "schema" in media else [Part(_("bytes"))])
        for media_type, media in content.items()
    ]


def _schema(name: str, schema: dict[str, Any], _: Gettext) -> SchemaView:
    view = SchemaView(anchor=_anchor(name), name=name, description=schema.get("description", ""))
    if "properties" in schema:
        required = set(schema.get("required", ()))
        view.properties = [
            Row(
                name=key,
                type=type_parts(value, _),
                required=key in required,
                description=value.get("description", ""),
            )
            for key, value in schema["properties"].items()
        ]
    else:
        view.type = type_parts(schema, _)
    return view


def _anchor(schema_name: str) -> str:
    return f"schema-{schema_name}"


# Connecting words of type descriptions, translated when shown.
_WORDS = {
    "or": N_("or"),
    "array of": N_("array of"),
    "one of": N_("one of"),
    "any value": N_("any value"),
    "minimum": N_("minimum"),
    "maximum": N_("maximum"),
    "characters": N_("characters"),
    "default": N_("default"),
}


def type_parts(schema: dict[str, Any], _: Gettext) -> list[Part]:
    """A JSON Schema as a short phrase: `array of QueueItem`, `string (date-time) or null`."""
    return _kind(schema, _) + _details(schema, _)


def _kind(schema: dict[str, Any], _: Gettext) -> list[Part]:
    if "$ref" in schema:
        name = schema["$ref"].removeprefix(SCHEMA_PREFIX)
        return [Part(name, href=f"#{_anchor(name)}", code=True)]
    branches = schema.get("anyOf", schema.get("oneOf"))
    if branches is not None:
        return _joined([type_parts(branch, _) for branch in branches], f" {_(_WORDS['or'])} ")
    if "const" in schema:
        return [Part(str(schema["const"]), code=True)]
    if "enum" in schema:
        values = _joined([[Part(str(value), code=True)] for value in schema["enum"]], ", ")
        return [Part(f"{_(_WORDS['one of'])} "), *values]
    kind = schema.get("type")
    if kind == "array":
        return [Part(f"{_(_WORDS['array of'])} "), *type_parts(schema.get("items", {}), _)]
    if kind is None:
        parts = [Part(_(_WORDS["any value"]))]
    else:
        names = kind if isinstance(kind, list) else [kind]
        parts = _joined([[Part(str(name), code=True)] for name in names], f" {_(_WORDS['or'])} ")
    if "format" in schema:
        parts.append(Part(f" ({schema['format']})"))
    return parts


def _joined(pieces: list[list[Part]], separator: str) -> list[Part]:
    joined: list[Part] = []
    for index, piece in enumerate(pieces):
        if index:
            joined.append(Part(separator))
        joined.extend(piece)
    return joined


def _details(schema: dict[str, Any], _: Gettext) -> list[Part]:
    found = []
    for key, word in (("minimum", "minimum"), ("maximum", "maximum")):
        if key in schema:
            found.append(f"{_(_WORDS[word])} {schema[key]}")
    if "minLength" in schema or "maxLength" in schema:
        low, high = schema.get("minLength", 0), schema.get("maxLength", "…")
        found.append(f"{low}–{high} {_(_WORDS['characters'])}")
    if "pattern" in schema:
        found.append(schema["pattern"])
    if "default" in schema and schema["default"] is not None:
        found.append(f"{_(_WORDS['default'])} {schema['default']}")
    return [Part(f"; {detail}") for detail in found]


def register(app: web.Application) -> None:
    app[openapi_document_key] = CachedDocument()
    app.router.add_get(DOCUMENT_PATH, openapi_document, name="openapi_document")
    app.router.add_get(API_REFERENCE_PAGE, reference_page, name="api_reference")
