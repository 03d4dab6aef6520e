"""Checking real answers against the OpenAPI document the service serves.

`assert_matches(document, method, path, status, body)` finds the documented operation for a
concrete path (e.g. /api/v1/cases/7/link-proposals), requires the status to be documented and
the body to validate against that status's schema. Objects are checked strictly: a field the
document does not name fails, so an answer cannot grow undocumented fields.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import jsonschema

from web.openapi import DOCUMENT_PATH

JSON = "application/json"
FORMATS = jsonschema.Draft202012Validator.FORMAT_CHECKER
# date-time is only checked when rfc3339-validator is installed; without it the check is void.
assert not FORMATS.conforms("not a time", "date-time"), "date-time format is not checked"


async def served_document(client: Any) -> dict[str, Any]:
    """The document as the service serves it, to anyone."""
    response = await client.get(DOCUMENT_PATH)
    assert response.status == 200, await response.text()
    document: dict[str, Any] = await response.json()
    return document


def operation_for(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    for template, methods in document["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in methods:
            found: dict[str, Any] = methods[method.lower()]
            return found
    raise AssertionError(f"{method} {path} is not in the OpenAPI document")


def assert_matches(
    document: dict[str, Any],
    method: str,
    path: str,
    status: int,
    body: Any,
    *,
    content_type: str = JSON,
) -> None:
    """`body` (parsed JSON, or bytes for other types) is what the document says `status` gives."""
    responses = operation_for(document, method, path)["responses"]
    assert str(status) in responses, f"{method} {path} answered {status}, not documented"
    content = responses[str(status)].get("content", {})
    media = _media(content, content_type)
    assert media is not None, (
        f"{method} {path} {status} answered {content_type}, documented: {sorted(content)}"
    )
    if content_type != JSON:
        return
    schema = {**media["schema"], "components": _strict(document["components"])}
    errors = sorted(
        jsonschema.Draft202012Validator(schema, format_checker=FORMATS).iter_errors(body),
        key=lambda error: list(error.absolute_path),
    )
    assert not errors, f"{method} {path} {status} does not match its schema:\n" + "\n".join(
        f"  at {list(error.absolute_path)}: {error.message}" for error in errors
    )


def _media(content: dict[str, Any], content_type: str) -> dict[str, Any] | None:
    """The documented media entry for a content type (`audio/*` covers audio/x-wav)."""
    for documented, media in content.items():
        kind, _, subtype = documented.partition("/")
        if documented == content_type or (subtype == "*" and content_type.startswith(f"{kind}/")):
            found: dict[str, Any] = media
            return found
    return None


def _strict(components: dict[str, Any]) -> dict[str, Any]:
    """The components with every object closed to fields its schema does not name."""
    strict = copy.deepcopy(components)

    def close(node: Any) -> None:
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    close(strict)
    return strict
