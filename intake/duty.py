"""How a hotline's calls are handled: the on-duty phones they are put through to (issue 5 brings
schedules), and whether answered calls are recorded.

Numbers are normalised to E.164 on entry (intake/phone.py); a number that is not a valid phone
number is refused, by name, and nothing is changed.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from intake import phone
from intake.models import Hotline

MAX_DUTY_NUMBERS = 10  # Twilio rings at most 10 numbers at once


class InvalidDutyNumbers(ValueError):
    def __init__(self, numbers: Sequence[str]) -> None:
        super().__init__("not valid phone numbers: " + ", ".join(numbers))
        self.numbers = list(numbers)


class UnknownHotline(LookupError):
    pass


def normalise_all(raw: Sequence[str]) -> list[str]:
    """E.164 numbers in the given order, duplicates dropped; raises InvalidDutyNumbers."""
    numbers: list[str] = []
    invalid: list[str] = []
    for entry in raw:
        number = phone.normalise(entry)
        if number.kind is not phone.PhoneKind.VALID or number.e164 is None:
            invalid.append(entry)
        elif number.e164 not in numbers:
            numbers.append(number.e164)
    if invalid:
        raise InvalidDutyNumbers(invalid)
    if len(numbers) > MAX_DUTY_NUMBERS:
        raise ValueError(f"at most {MAX_DUTY_NUMBERS} on-duty numbers")
    return numbers


def set_duty_numbers(session: Session, hotline_id: str, raw: Sequence[str]) -> list[str]:
    hotline = session.get(Hotline, hotline_id)
    if hotline is None:
        raise UnknownHotline(hotline_id)
    numbers = normalise_all(raw)
    hotline.duty_numbers = numbers
    return numbers


def set_call_recording(session: Session, hotline_id: str, *, record: bool) -> None:
    """Switch recording of answered calls on or off (voicemail is always recorded)."""
    hotline = session.get(Hotline, hotline_id)
    if hotline is None:
        raise UnknownHotline(hotline_id)
    hotline.record_calls = record
