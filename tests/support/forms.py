"""Filling in the public concern form the way a browser does (CSRF token from the page)."""

from __future__ import annotations

import re
from typing import Any

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
RECEIPT = re.compile(r"<code>([A-Z0-9-]{24})</code>")


def valid_answers(**overrides: str) -> dict[str, str]:
    answers = {
        "reporter_role": "relative",
        "relation": "min søn",
        "phone": "20 12 34 56",
        "person_age": "under_18",
        "municipality": "101",
        "observed": "Han har trukket sig fra vennerne og deler voldsforherligende videoer.",
        "observed_when": "siden sommer",
        "safety_threats": "no",
        "safety_violence": "no",
        "safety_weapons": "unknown",
        "safety_travel": "no",
    }
    answers.update(overrides)
    return answers


def csrf_token(page: str) -> str:
    match = CSRF_FIELD.search(page)
    assert match, "the page has no CSRF token"
    return match.group(1)


async def open_form(client: Any, hotline: str = "national") -> str:
    response = await client.get(f"/report/{hotline}")
    assert response.status == 200
    return csrf_token(await response.text())


def receipt_code(page: str) -> str:
    match = RECEIPT.search(page)
    assert match, "the page shows no receipt code"
    return match.group(1)
