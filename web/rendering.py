"""Server-rendered pages: Jinja2 templates with the request's language, CSRF token and staff."""

from __future__ import annotations

from datetime import datetime
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp_jinja2
import jinja2
from aiohttp import web
from babel.dates import format_datetime

from web import csrf
from web.appkeys import language_key, staff_key
from web.i18n import DEFAULT_LANGUAGE, LANGUAGES, translations

DISPLAY_TIMEZONE = ZoneInfo("Europe/Copenhagen")


def setup(app: web.Application) -> None:
    templates = resources.files("web").joinpath("templates")
    environment = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(templates)),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
        # Templates ship with the code; checking their files on every render costs a stat() each.
        auto_reload=False,
    )
    environment.filters["localtime"] = local_time


def add_globals(app: web.Application, **values: Any) -> None:
    """Names every template may use, e.g. a domain's label tables (set once, at start-up)."""
    aiohttp_jinja2.get_env(app).globals.update(values)


def local_time(
    moment: datetime | None, language: str = DEFAULT_LANGUAGE, style: str = "short"
) -> str:
    """A UTC time as Danes read it: Europe/Copenhagen, in the page's language."""
    if moment is None:
        return ""
    locale = "da_DK" if language == "da" else "en_GB"
    return format_datetime(moment.astimezone(DISPLAY_TIMEZONE), style, locale=locale)


def _page_context(request: web.Request) -> dict[str, Any]:
    language = request.get(language_key, DEFAULT_LANGUAGE)
    gettext = translations(language).gettext
    return {
        "_": gettext,
        "lang": language,
        "other_languages": [code for code in LANGUAGES if code != language],
        "staff": request.get(staff_key),
        "csrf_token": csrf.token_for(request),
        "path": request.path,
    }


def render(
    request: web.Request, template: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> web.Response:
    # Built here rather than by aiohttp_jinja2's context-processor middleware: pages rendered
    # for errors raised in outer middleware (CSRF, body too large) get the same context, and
    # ordinary requests pass one middleware layer fewer.
    context = {**_page_context(request), **(context or {})}
    response = aiohttp_jinja2.render_template(template, request, context, status=status)
    response.headers["Content-Language"] = request.get(language_key, DEFAULT_LANGUAGE)
    return response


def gettext_for(request: web.Request) -> Any:
    return translations(request.get(language_key, DEFAULT_LANGUAGE)).gettext


def see_other(location: str) -> web.Response:
    """A 303 redirect as a plain response, so cookies can be set on it."""
    return web.Response(status=303, headers={"Location": location})
