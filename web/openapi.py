"""The OpenAPI 3.1 document of the JSON API, built from the app's router and the @operation marks.

Paths and methods come from the routes actually registered under /api/, so the document cannot
name a route that does not exist; summaries, parameters and schemas come from each handler's
mark (web/api.py); who may call an operation comes from the same marks the access guard reads
(web/policy.py). Every pydantic model is turned into JSON Schema in one pass, so two models of
the same name get distinct component names instead of overwriting each other.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from importlib import metadata
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from access.guard import SESSION_COOKIE
from access.models import Role
from web import csrf
from web.api import Operation, operation_of
from web.middleware import API_PAGES, API_PREFIX
from web.policy import allowed_roles, csrf_mode, is_public, rate_limit_of

OPENAPI_VERSION = "3.1.0"
DOCUMENT_PATH = "/api/v1/openapi.json"
# Routes under /api/ that are not JSON operations: the document itself and its page.
NOT_OPERATIONS = frozenset({DOCUMENT_PATH, *API_PAGES})
SCHEMA_REF = "#/components/schemas/{model}"
JSON = "application/json"

# Security scheme names, as operations refer to them.
SESSION_SCHEME = "staffSession"
CSRF_COOKIE_SCHEME = "csrfCookie"
CSRF_HEADER_SCHEME = "csrfToken"

# What each error status means here; other statuses use the HTTP reason phrase.
ERROR_MEANINGS = {
    400: "A parameter or the body is invalid; error.field names it.",
    401: "Not logged in: log in first (POST /login) and send the session cookie.",
    403: "Not allowed.",
    404: "Not found: nothing has this id (or it is not ready yet, as the message says).",
    409: "The request conflicts with the current state; the message says why.",
    413: "The body is larger than the server accepts (HOTLINE_MAX_BODY_KIB).",
    429: "Too many requests from this client; wait for the Retry-After seconds.",
}


def _absent_or_string(schema: dict[str, Any]) -> None:
    """The key is left out when it does not apply, never sent as null."""
    schema.pop("default", None)
    schema.pop("anyOf", None)
    schema["type"] = "string"


class ErrorDetail(BaseModel):
    """What went wrong, in words meant for the person calling the API."""

    code: int = Field(description="The HTTP status, repeated.")
    message: str = Field(description="What went wrong and, where it helps, what to do.")
    field: str | None = Field(
        None,
        description="The query parameter or body field that is wrong (dotted for nested ones).",
        json_schema_extra=_absent_or_string,
    )
    reason: str | None = Field(
        None,
        description="A stable code for why a request was refused (e.g. opted_out).",
        json_schema_extra=_absent_or_string,
    )


class Error(BaseModel):
    """Every error of the API answers with this body (web/middleware.py)."""

    error: ErrorDetail


@dataclass(frozen=True)
class ApiRoute:
    """A route under /api/ as the document names it: `{name}` placeholders, no patterns."""

    method: str
    path: str
    name: str | None
    handler: object
    path_parameters: tuple[tuple[str, dict[str, Any]], ...]


def api_routes(app: web.Application) -> Iterator[ApiRoute]:
    """Every route under /api/ that is an operation (not the document or its page)."""
    for route in app.router.routes():
        resource = route.resource
        if resource is None or isinstance(resource, web.StaticResource):
            continue
        path = resource.canonical
        if not path.startswith(API_PREFIX) or path in NOT_OPERATIONS:
            continue
        if route.method == "HEAD" and _has_get(resource, route.handler):
            continue  # aiohttp's automatic HEAD beside a GET: not an operation of its own
        pattern = resource.get_info().get("pattern")
        parameters = _path_parameters(pattern.pattern) if pattern is not None else ()
        yield ApiRoute(route.method, path, route.name, route.handler, parameters)


def unmarked_routes(app: web.Application) -> list[str]:
    """The /api/ routes that the document cannot describe: no @operation, or any method ("*")."""
    return [
        f"{route.method} {route.path}"
        for route in api_routes(app)
        if operation_of(route.handler) is None or route.method == "*"
    ]


def _has_get(resource: web.AbstractResource, handler: object) -> bool:
    return any(other.method == "GET" and other.handler is handler for other in resource)


def _path_parameters(pattern: str) -> tuple[tuple[str, dict[str, Any]], ...]:
    """The names and schemas of `(?P<name>regex)` groups in an aiohttp route pattern."""
    found = []
    for start in re.finditer(r"\(\?P<(\w+)>", pattern):
        regex = _group_body(pattern, start.end())
        found.append((start.group(1), _parameter_schema(regex)))
    return tuple(found)


def _group_body(pattern: str, index: int) -> str:
    depth = 1
    position = index
    while position < len(pattern):
        char = pattern[position]
        if char == "\\":
            position += 2
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                break
        position += 1
    return pattern[index:position]


def _parameter_schema(regex: str) -> dict[str, Any]:
    if regex in (r"\d+", "[0-9]+"):
        return {"type": "integer", "minimum": 0}
    if regex == "[^{}/]+":  # aiohttp's default: any one path segment
        return {"type": "string"}
    return {"type": "string", "pattern": f"^(?:{regex})$"}


class _Schemas:
    """Every model the marks name, as JSON Schema with $refs into components/schemas."""

    def __init__(self, marks: list[Operation]) -> None:
        wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [(Error, "serialization")]
        for mark in marks:
            for model, mode in (
                (mark.query, "validation"),
                (mark.body, "validation"),
                (mark.response, "serialization"),
            ):
                if model is not None and (model, mode) not in wanted:
                    wanted.append((model, mode))  # type: ignore[arg-type]
        refs, top = models_json_schema(wanted, ref_template=SCHEMA_REF)
        self._refs: dict[tuple[type[Any], str], str] = {
            key: value["$ref"] for key, value in refs.items()
        }
        _refuse_shared_refs(self._refs)
        components: dict[str, Any] = top.get("$defs", {})
        renamed = _merge_duplicates(components)
        self.components = dict(sorted(components.items()))
        self._refs = {key: _renamed(ref, renamed) for key, ref in self._refs.items()}

    def ref(self, model: type[BaseModel], mode: JsonSchemaMode) -> dict[str, str]:
        return {"$ref": self._refs[(model, mode)]}

    def resolve(self, model: type[BaseModel], mode: JsonSchemaMode) -> dict[str, Any]:
        found: dict[str, Any] = self.components[self._refs[(model, mode)].rsplit("/", 1)[1]]
        return found

    def drop_unreferenced(self, names: set[str], document: dict[str, Any]) -> None:
        """Remove components (query models, inlined as parameters) that nothing refers to."""
        for name in sorted(names):
            ref = json.dumps(SCHEMA_REF.format(model=name))
            if ref not in json.dumps(document) and name in self.components:
                del self.components[name]


def _merge_duplicates(components: dict[str, Any]) -> dict[str, str]:
    """Fold identical schemas into one name, in place; returns old name → new name.

    pydantic splits a model used for both input and output into Name-Input and Name-Output
    when another model has the same name, even where the two schemas are the same.
    """
    renamed: dict[str, str] = {}
    while True:
        first: dict[str, str] = {}
        step: dict[str, str] = {}
        for name in sorted(components, key=lambda n: (len(n), n)):
            step_to = first.setdefault(json.dumps(components[name], sort_keys=True), name)
            if step_to != name:
                step[name] = step_to
        if not step:
            break
        renamed = _rename(components, renamed, step)
    for name in list(components):
        base = re.sub(r"-(Input|Output)$", "", name)
        if base != name and not any(
            n == base or n.startswith(f"{base}-") for n in components if n != name
        ):
            renamed = _rename(components, renamed, {name: base})
    return renamed


def _rename(
    components: dict[str, Any], renamed: dict[str, str], step: dict[str, str]
) -> dict[str, str]:
    """Apply one renaming (a target that exists already means: merge into it)."""
    for old, new in step.items():
        schema = components.pop(old)
        components.setdefault(new, schema)
    for name, schema in components.items():
        components[name] = _renamed(schema, step)
    composed = {old: step.get(new, new) for old, new in renamed.items()}
    return {**step, **composed}


def _renamed(node: Any, names: dict[str, str]) -> Any:
    """`node` (a schema, or a $ref string) with its $refs to renamed components rewritten."""
    if isinstance(node, str):
        name = node.removeprefix(SCHEMA_REF.format(model=""))
        return SCHEMA_REF.format(model=names[name]) if node != name and name in names else node
    if isinstance(node, dict):
        return {
            key: _renamed(value, names) if key == "$ref" or not isinstance(value, str) else value
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [value if isinstance(value, str) else _renamed(value, names) for value in node]
    return node


def _refuse_shared_refs(refs: dict[tuple[type[Any], str], str]) -> None:
    # Two different classes under one name would silently document one of them twice.
    owners: dict[str, type[Any]] = {}
    for (model, _mode), ref in refs.items():
        if owners.setdefault(ref, model) is not model:
            raise ValueError(f"{model.__qualname__} and {owners[ref].__qualname__} share {ref}")


def build_document(app: web.Application) -> dict[str, Any]:
    """The OpenAPI 3.1 document for every marked route under /api/ (unmarked ones are left out;
    tests/unit/test_openapi.py fails for them)."""
    routes = [r for r in api_routes(app) if operation_of(r.handler) and r.method != "*"]
    marks = [_mark(r) for r in routes]
    schemas = _Schemas(marks)
    paths: dict[str, dict[str, Any]] = {}
    used_ids: set[str] = set()
    for route, mark in zip(routes, marks, strict=True):
        described = _operation(route, mark, schemas)
        described["operationId"] = _operation_id(route, used_ids)
        paths.setdefault(route.path, {})[route.method.lower()] = described
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": _info(),
        "servers": [{"url": "/"}],
        "tags": [{"name": tag} for tag in sorted({mark.tag for mark in marks})],
        "paths": {path: paths[path] for path in sorted(paths)},
        "components": {"schemas": schemas.components, "securitySchemes": _security_schemes()},
    }
    query_models = {
        schemas.ref(m.query, "validation")["$ref"].rsplit("/", 1)[1] for m in marks if m.query
    }
    schemas.drop_unreferenced(query_models, document)
    return document


def _mark(route: ApiRoute) -> Operation:
    mark = operation_of(route.handler)
    assert mark is not None
    return mark


def _info() -> dict[str, Any]:
    try:
        version = metadata.version("hotline")
        summary = metadata.metadata("hotline")["Summary"]
    except metadata.PackageNotFoundError:  # running from a checkout that was never installed
        version, summary = "0+unknown", "hotline"
    return {
        "title": "hotline API",
        "version": version,
        "summary": summary,
        "description": (
            "The staff JSON API. Log in with the login form (POST /login) to get the "
            f"`{SESSION_COOKIE}` cookie. POST and other unsafe methods also need the CSRF "
            f"token in the `{csrf.HEADER}` header: the `{csrf.FIELD}` field of any staff page's "
            f"form (e.g. GET /queue), which belongs with the `{csrf.COOKIE}` cookie that page "
            "sets. Errors answer with the Error schema."
        ),
        "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
    }


def _security_schemes() -> dict[str, Any]:
    return {
        SESSION_SCHEME: {
            "type": "apiKey",
            "in": "cookie",
            "name": SESSION_COOKIE,
            "description": "The staff session, set by logging in (POST /login).",
        },
        CSRF_COOKIE_SCHEME: {
            "type": "apiKey",
            "in": "cookie",
            "name": csrf.COOKIE,
            "description": "The browser's CSRF nonce, set by any page with a form.",
        },
        CSRF_HEADER_SCHEME: {
            "type": "apiKey",
            "in": "header",
            "name": csrf.HEADER,
            "description": f"The `{csrf.FIELD}` of a staff page's form, for the csrf cookie.",
        },
    }


def _operation(route: ApiRoute, mark: Operation, schemas: _Schemas) -> dict[str, Any]:
    handler = route.handler
    unsafe = route.method in csrf.UNSAFE_METHODS and csrf_mode(handler) != "exempt"
    described: dict[str, Any] = {"summary": mark.summary, "tags": [mark.tag]}
    description = " ".join(part for part in (mark.description, _access(route, unsafe)) if part)
    described["description"] = description
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": schema}
        for name, schema in route.path_parameters
    ]
    if mark.query is not None:
        parameters.extend(_query_parameters(schemas.resolve(mark.query, "validation")))
    if parameters:
        described["parameters"] = parameters
    if mark.body is not None:
        described["requestBody"] = {
            "required": True,
            "content": {JSON: {"schema": schemas.ref(mark.body, "validation")}},
        }
    described["responses"] = _responses(route, mark, schemas, unsafe)
    described["security"] = _security(handler, unsafe)
    return described


def _access(route: ApiRoute, unsafe: bool) -> str:
    handler = route.handler
    roles = allowed_roles(handler)
    if is_public(handler):
        who = "Open to anyone."
    elif roles is None:
        who = "Any logged-in staff member."
    else:
        names = sorted(role.value for role in roles | {Role.ADMIN})
        who = f"Staff with the role {' or '.join(names)}."
    parts = [who]
    if unsafe:
        parts.append(f"Needs the CSRF token in the {csrf.HEADER} header.")
    limit = rate_limit_of(handler)
    if limit is not None:
        parts.append(
            f"At most {limit.requests} requests per {limit.per_seconds:g} seconds per client."
        )
    return " ".join(parts)


def _query_parameters(model_schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(model_schema.get("required", ()))
    found = []
    for name, property_schema in model_schema.get("properties", {}).items():
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
        schema = _not_null(dict(property_schema), optional=name not in required)
        description = schema.pop("description", None)
        if description:
            parameter["description"] = description
        schema.pop("title", None)
        parameter["schema"] = schema
        found.append(parameter)
    return found


def _not_null(schema: dict[str, Any], *, optional: bool) -> dict[str, Any]:
    """A query parameter is absent, never null: `X | None = None` documents as X."""
    branches = schema.get("anyOf")
    if not optional or not isinstance(branches, list):
        return schema
    others = [branch for branch in branches if branch != {"type": "null"}]
    if len(others) == len(branches) or not others:
        return schema
    simplified = {key: value for key, value in schema.items() if key != "anyOf"}
    if simplified.get("default", 0) is None:
        del simplified["default"]
    if len(others) == 1:
        return {**others[0], **simplified}
    return {**simplified, "anyOf": others}


def _responses(route: ApiRoute, mark: Operation, schemas: _Schemas, unsafe: bool) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status in sorted({mark.status, *mark.other_statuses}):
        answer: dict[str, Any] = {"description": HTTPStatus(status).phrase}
        if mark.content_type is not None:
            schema = schemas.ref(mark.response, "serialization") if mark.response else None
            answer["content"] = {mark.content_type: {"schema": schema} if schema else {}}
        elif mark.response is not None:
            answer["content"] = {JSON: {"schema": schemas.ref(mark.response, "serialization")}}
        responses[str(status)] = answer
    error = {"schema": schemas.ref(Error, "serialization")}
    for status in sorted(set(mark.errors) | _implied_errors(route, mark, unsafe)):
        meaning = ERROR_MEANINGS.get(status, HTTPStatus(status).phrase)
        if status == 403:
            meaning = _forbidden(route.handler, unsafe) or meaning
        responses[str(status)] = {"description": meaning, "content": {JSON: error}}
    return responses


def _forbidden(handler: object, unsafe: bool) -> str:
    reasons = []
    if not is_public(handler) and allowed_roles(handler) is not None:
        reasons.append("Your role does not allow this.")
    if unsafe:
        reasons.append(f"The {csrf.HEADER} header is missing or does not match the csrf cookie.")
    return " ".join(reasons)


def _implied_errors(route: ApiRoute, mark: Operation, unsafe: bool) -> set[int]:
    """The errors the middleware gives before or around the handler, from the same marks."""
    handler = route.handler
    implied = set()
    if mark.query is not None or mark.body is not None:
        implied.add(400)
    if mark.body is not None:
        implied.add(413)
    if not is_public(handler):
        implied.add(401)
    if unsafe or (not is_public(handler) and allowed_roles(handler) is not None):
        implied.add(403)
    if rate_limit_of(handler) is not None:
        implied.add(429)
    return implied


def _security(handler: object, unsafe: bool) -> list[dict[str, list[str]]]:
    needed: dict[str, list[str]] = {}
    if not is_public(handler):
        needed[SESSION_SCHEME] = []
    if unsafe:
        needed[CSRF_COOKIE_SCHEME] = []
        needed[CSRF_HEADER_SCHEME] = []
    return [needed] if needed else []


def _operation_id(route: ApiRoute, used: set[str]) -> str:
    """Stable across releases: the route's name, else the handler's module and name."""
    handler = route.handler
    qualified = f"{getattr(handler, '__module__', '')}.{getattr(handler, '__name__', '')}"
    candidates = [
        route.name,
        re.sub(r"\W+", "_", qualified).strip("_"),
        f"{route.method.lower()}_{re.sub(r'[^A-Za-z0-9]+', '_', route.path).strip('_')}",
    ]
    chosen = next((c for c in candidates if c and c not in used), None)
    if chosen is None:  # the same handler on two routes of one method and path: cannot happen
        raise ValueError(f"no unique operationId for {route.method} {route.path}")
    used.add(chosen)
    return chosen


class CachedDocument:
    """The document of one app, built at its first request (the router is complete by then)."""

    def __init__(self) -> None:
        self._document: dict[str, Any] | None = None
        self._body: bytes | None = None

    def document(self, app: web.Application) -> dict[str, Any]:
        if self._document is None:
            self._document = build_document(app)
        return self._document

    def body(self, app: web.Application) -> bytes:
        if self._body is None:
            self._body = json.dumps(self.document(app), ensure_ascii=False, indent=1).encode()
        return self._body
