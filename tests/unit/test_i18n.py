"""web.i18n: the Danish catalogue is complete, the template is current, and placeholders survive."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from intake import concern_form
from web.i18n import N_, translations

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "web" / "locale" / "messages.pot"
DANISH = ROOT / "web" / "locale" / "da" / "LC_MESSAGES" / "messages.po"
PYBABEL = Path(sys.executable).with_name("pybabel")
# %(name)s, %(limit)d, ... and a bare %s / %d.
PLACEHOLDER = re.compile(r"%(?:\([a-zA-Z_]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifr%]")


def _read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale="da" if path == DANISH else None)


def _messages(catalog: Catalog) -> Iterator[Message]:
    return (message for message in catalog if message.id)


def _ids(catalog: Catalog) -> set[str]:
    return {
        message.id if isinstance(message.id, str) else "\x00".join(message.id)
        for message in _messages(catalog)
    }


def _placeholders(text: str) -> list[str]:
    return sorted(found for found in PLACEHOLDER.findall(text) if found != "%%")


def _strings(value: str | tuple[str, ...] | list[str] | None) -> list[str]:
    """A message's singular and plural forms (a missing translation is one empty string)."""
    if value is None:
        return [""]
    return [value] if isinstance(value, str) else list(value)


def test_every_template_message_has_a_danish_translation() -> None:
    danish = _read(DANISH)
    missing = []
    for message in _messages(_read(TEMPLATE)):
        translated = danish.get(message.id)
        if (
            translated is None
            or translated.fuzzy
            or not all(s.strip() for s in _strings(translated.string))
        ):
            missing.append(message.id)

    assert missing == []


def test_the_danish_catalogue_has_no_stale_messages() -> None:
    assert _ids(_read(DANISH)) == _ids(_read(TEMPLATE))


def test_the_template_is_up_to_date_with_the_sources(tmp_path: Path) -> None:
    extracted = tmp_path / "messages.pot"

    completed = subprocess.run(
        [
            str(PYBABEL),
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "N_",
            "-o",
            str(extracted),
            "--omit-header",
            ".",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert completed.returncode == 0, completed.stderr
    fresh = _ids(_read(extracted))
    committed = _ids(_read(TEMPLATE))
    assert fresh, "extraction found no messages at all"
    assert sorted(fresh - committed) == [], "in the sources but not in messages.pot"
    assert sorted(committed - fresh) == [], "in messages.pot but no longer in the sources"


def test_form_messages_are_in_the_template() -> None:
    committed = _ids(_read(TEMPLATE))

    for message in (
        concern_form.REQUIRED,
        concern_form.TOO_LONG,
        concern_form.NOT_A_CHOICE,
        concern_form.INVALID_PHONE,
        concern_form.INVALID_EMAIL,
        concern_form.NEED_CONTACT,
    ):
        assert message in committed


def test_queue_is_ko_in_danish() -> None:
    assert translations("da").gettext("Queue") == "Kø"


def test_english_is_the_message_id_itself() -> None:
    assert translations("en").gettext("Queue") == "Queue"


def test_an_unknown_message_falls_back_to_the_id() -> None:
    assert translations("da").gettext("No such message, surely") == "No such message, surely"


def test_n_marks_without_translating() -> None:
    assert N_("Queue") == "Queue"


def test_placeholders_survive_in_every_translation() -> None:
    danish = _read(DANISH)
    broken = []
    for message in _messages(danish):
        source = _strings(message.id)[0]
        for translated in _strings(message.string):
            if _placeholders(translated) != _placeholders(source):
                broken.append((source, translated))

    assert broken == []


def test_python_format_messages_are_flagged_so_tools_check_them() -> None:
    for message in _messages(_read(TEMPLATE)):
        if _placeholders(_strings(message.id)[0]):
            assert message.python_format, message.id


@pytest.mark.parametrize(
    ("message", "values", "expected_part"),
    [
        (concern_form.TOO_LONG, {"limit": 4000}, "4000"),
        ("Your report was received on %(when)s.", {"when": "2. marts 2026 kl. 10.30"}, "2. marts"),
    ],
)
def test_translated_placeholders_format(
    message: str, values: dict[str, object], expected_part: str
) -> None:
    translated = translations("da").gettext(message)

    assert translated != message, "not translated"
    formatted = translated % values
    assert expected_part in formatted
    assert "%(" not in formatted
