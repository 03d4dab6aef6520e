"""Receipt codes: the reporter's only key to an anonymous report.

A code is 20 characters from a 30-letter alphabet without look-alikes (no 0/O, 1/I/L, U),
about 98 bits of randomness, shown in groups of four. Only its SHA-256 is stored; with that much
randomness a plain hash cannot be reversed by guessing.
"""

from __future__ import annotations

import hashlib
import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 20
GROUP = 4

_SEPARATORS = re.compile(r"[\s\-]+")


class InvalidReceiptCode(ValueError):
    """The text cannot be a receipt code (wrong length or letters)."""


def new_code() -> str:
    """A fresh code, grouped for reading aloud: `ABCD-EFGH-JKMN-PQRS-TVWX`."""
    # One uniform draw below 30**20, written in base 30: as random as 20 separate choices.
    number = secrets.randbelow(len(ALPHABET) ** CODE_LENGTH)
    letters = []
    for _ in range(CODE_LENGTH):
        number, digit = divmod(number, len(ALPHABET))
        letters.append(ALPHABET[digit])
    raw = "".join(letters)
    return "-".join(raw[i : i + GROUP] for i in range(0, CODE_LENGTH, GROUP))


def canonical(text: str) -> str:
    """The code without separators, upper-cased; raises InvalidReceiptCode if it cannot be one."""
    compact = _SEPARATORS.sub("", text or "").upper()
    if len(compact) != CODE_LENGTH or any(ch not in ALPHABET for ch in compact):
        raise InvalidReceiptCode(text)
    return compact


def code_hash(text: str) -> str:
    return hashlib.sha256(canonical(text).encode()).hexdigest()
