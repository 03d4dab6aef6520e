"""A visitor without a browser: the public form, the staff login and the queue over real HTTP."""

from __future__ import annotations

from typing import Any

import requests

from tests.support.forms import csrf_token, receipt_code

TIMEOUT = 10


def submit_concern(
    session: requests.Session, base_url: str, answers: dict[str, str], hotline: str = "national"
) -> str:
    """Open the form, send it with its CSRF token, and return the receipt code shown."""
    form = session.get(f"{base_url}/report/{hotline}", timeout=TIMEOUT)
    assert form.status_code == 200, form.text[:500]
    sent = session.post(
        f"{base_url}/report/{hotline}",
        data={"csrf_token": csrf_token(form.text), **answers},
        timeout=TIMEOUT,
    )
    assert sent.status_code == 200, f"HTTP {sent.status_code}: {sent.text[:1000]}"
    return receipt_code(sent.text)


def log_in(session: requests.Session, base_url: str, username: str, password: str) -> None:
    page = session.get(f"{base_url}/login", timeout=TIMEOUT)
    assert page.status_code == 200, page.text[:500]
    answer = session.post(
        f"{base_url}/login",
        data={
            "csrf_token": csrf_token(page.text),
            "username": username,
            "password": password,
            "next": "/queue",
        },
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert answer.status_code == 303, f"HTTP {answer.status_code}: {answer.text[:500]}"
    assert answer.headers["Location"] == "/queue"
    assert "hotline_session" in session.cookies, "the login set no session cookie"


def queue_items(session: requests.Session, base_url: str) -> list[dict[str, Any]]:
    answer = session.get(f"{base_url}/api/v1/queue", timeout=TIMEOUT)
    assert answer.status_code == 200, f"HTTP {answer.status_code}: {answer.text[:500]}"
    items: list[dict[str, Any]] = answer.json()["items"]
    return items
