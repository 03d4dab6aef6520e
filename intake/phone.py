"""Phone numbers: normalise to E.164 and recognise withheld caller IDs.

Danish formats (`20 12 34 56`, `+45 20 12 34 56`, `0045 20123456`) and foreign numbers with a
country code are accepted. Hidden caller IDs (words such as "anonymous", or the keypad-spelled
sentinels some carriers send) are treated as withheld, never as a number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers

DEFAULT_REGION = "DK"

_WITHHELD_WORDS = frozenset(
    {"", "anonymous", "restricted", "unknown", "unavailable", "private", "blocked", "withheld"}
)
# Keypad spellings of ANONYMOUS, RESTRICTED, BLOCKED, UNKNOWN, UNAVAILABLE.
_WITHHELD_SENTINELS = frozenset(
    {"+266696687", "+7378742833", "+2562533", "+8656696", "+86282452253"}
)
_ALLOWED_CHARACTERS = re.compile(r"^[0-9+()\-.\s/]+$")
MAX_INPUT_LENGTH = 32


class PhoneKind(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    WITHHELD = "withheld"


@dataclass(frozen=True)
class PhoneNumber:
    kind: PhoneKind
    e164: str | None = None
    # True for a valid number outside Denmark: allowed, but staff should notice it.
    foreign: bool = False


def normalise(raw: str | None, region: str = DEFAULT_REGION) -> PhoneNumber:
    """Classify and normalise one phone number as typed or as a carrier sent it."""
    text = (raw or "").strip()
    for prefix in ("whatsapp:", "tel:"):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :].strip()
    if text.lower() in _WITHHELD_WORDS:
        return PhoneNumber(PhoneKind.WITHHELD)
    if len(text) > MAX_INPUT_LENGTH or not _ALLOWED_CHARACTERS.match(text):
        return PhoneNumber(PhoneKind.INVALID)
    compact = re.sub(r"[\s().\-/]", "", text)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if compact in _WITHHELD_SENTINELS:
        return PhoneNumber(PhoneKind.WITHHELD)
    try:
        parsed = phonenumbers.parse(compact, region)
    except phonenumbers.NumberParseException:
        return PhoneNumber(PhoneKind.INVALID)
    if not phonenumbers.is_valid_number(parsed):
        return PhoneNumber(PhoneKind.INVALID)
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    foreign = phonenumbers.region_code_for_number(parsed) != region
    return PhoneNumber(PhoneKind.VALID, e164, foreign)
