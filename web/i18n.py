"""Danish first, English second: gettext catalogues (read with Babel) and the choice of language.

Message ids are the English text; `locale/da/LC_MESSAGES/messages.po` holds the Danish. The
catalogue is compiled in memory at first use, so the repository holds no binary .mo files.
"""

from __future__ import annotations

import gettext
from functools import cache
from importlib import resources
from io import BytesIO

from aiohttp import web
from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = ("da", "en")
DEFAULT_LANGUAGE = "da"
LANGUAGE_COOKIE = "lang"


def N_(message: str) -> str:
    """Mark a message for translation where it is defined; it is translated when shown."""
    return message


@cache
def translations(language: str) -> gettext.NullTranslations:
    if language == "en":
        return gettext.NullTranslations()
    po = resources.files("web").joinpath(f"locale/{language}/LC_MESSAGES/messages.po")
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def negotiate(request: web.Request) -> str:
    """The language for this request: ?lang=, then the lang cookie, then Accept-Language."""
    for candidate in (request.query.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    header = request.headers.get("Accept-Language", "")
    preferred = [
        part.split(";")[0].strip().replace("-", "_") for part in header.split(",") if part.strip()
    ]
    match = Locale.negotiate(preferred, list(LANGUAGES)) if preferred else None
    return str(match.language) if match else DEFAULT_LANGUAGE
