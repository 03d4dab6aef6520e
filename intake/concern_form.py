"""The public concern form: its fields, their limits, and validation into a clean report.

Pure: takes the submitted fields, returns either a `ConcernReport` or the errors per field
(message ids, translated when shown). No field asks about religion, ethnicity or opinions.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from denmark.municipalities import by_code
from intake import phone
from intake.models import ReporterRole
from web.i18n import N_

FORM_VERSION = 1

REPORTER_ROLES = (
    ReporterRole.PROFESSIONAL,
    ReporterRole.RELATIVE,
    ReporterRole.FRIEND,
    ReporterRole.OTHER,
)
AGE_BANDS = ("under_18", "18_25", "26_40", "over_40", "unknown")
SAFETY_QUESTIONS = ("threats", "violence", "weapons", "travel")
SAFETY_ANSWERS = ("yes", "no", "unknown")
UNKNOWN_MUNICIPALITY = "unknown"

# Longest text accepted per field, in characters.
LIMITS = {
    "organisation": 200,
    "relation": 200,
    "name": 200,
    "phone": phone.MAX_INPUT_LENGTH,
    "email": 254,
    "observed": 4000,
    "observed_when": 200,
    "how_known": 1000,
    "change_over_time": 1000,
}

REQUIRED = N_("Please answer this question.")
TOO_LONG = N_("This text is too long: at most %(limit)d characters.")
NOT_A_CHOICE = N_("Please choose one of the options.")
INVALID_PHONE = N_("This phone number is not valid. Write it like 20 12 34 56 or +45 20 12 34 56.")
INVALID_EMAIL = N_("This e-mail address is not valid.")
NEED_CONTACT = N_("Give a phone number or an e-mail address, or choose to stay anonymous.")

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class FieldProblem:
    message: str
    limit: int | None = None


@dataclass(frozen=True)
class ConcernReport:
    reporter_role: ReporterRole
    anonymous: bool
    name: str | None
    organisation: str | None
    phone: str | None
    email: str | None
    answers: dict[str, Any]
    is_acute: bool


@dataclass
class Validation:
    report: ConcernReport | None = None
    errors: dict[str, FieldProblem] = field(default_factory=dict)


def _text(form: Mapping[str, str], name: str, errors: dict[str, FieldProblem]) -> str | None:
    value = form.get(name, "").strip()
    limit = LIMITS[name]
    if len(value) > limit:
        errors[name] = FieldProblem(TOO_LONG, limit)
    return value or None


@cache
def _municipality_choices() -> frozenset[str]:
    return frozenset({UNKNOWN_MUNICIPALITY, *map(str, by_code())})


def _choice(
    form: Mapping[str, str],
    name: str,
    allowed: Collection[str],
    errors: dict[str, FieldProblem],
) -> str | None:
    value = form.get(name, "").strip()
    if not value:
        errors[name] = FieldProblem(REQUIRED)
        return None
    if value not in allowed:
        errors[name] = FieldProblem(NOT_A_CHOICE)
        return None
    return value


def _valid_phone(text: str) -> bool:
    return phone.normalise(text).kind is phone.PhoneKind.VALID


def validate(form: Mapping[str, str]) -> Validation:
    errors: dict[str, FieldProblem] = {}
    role = _choice(form, "reporter_role", tuple(REPORTER_ROLES), errors)
    anonymous = form.get("anonymous") == "yes"
    texts = {name: _text(form, name, errors) for name in LIMITS}
    age = _choice(form, "person_age", AGE_BANDS, errors)
    municipality = _choice(form, "municipality", _municipality_choices(), errors)
    safety = {q: _choice(form, f"safety_{q}", SAFETY_ANSWERS, errors) for q in SAFETY_QUESTIONS}
    if texts["observed"] is None and "observed" not in errors:
        errors["observed"] = FieldProblem(REQUIRED)

    if anonymous:
        # Anonymous means we keep no way to identify the reporter, whatever was typed.
        # The workplace goes too: "a teacher at X school" can be enough to identify someone.
        for name in ("name", "phone", "email", "organisation"):
            texts[name] = None
            errors.pop(name, None)
    else:
        typed_phone = texts["phone"]
        if typed_phone and "phone" not in errors and not _valid_phone(typed_phone):
            errors["phone"] = FieldProblem(INVALID_PHONE)
        if texts["email"] and "email" not in errors and not _EMAIL.match(texts["email"]):
            errors["email"] = FieldProblem(INVALID_EMAIL)
        if not texts["phone"] and not texts["email"] and "phone" not in errors:
            errors["phone"] = FieldProblem(NEED_CONTACT)

    if errors or role is None or age is None or municipality is None:
        return Validation(errors=errors)
    answers: dict[str, Any] = {
        "form_version": FORM_VERSION,
        "relation": texts["relation"],
        "person_age": age,
        "municipality": municipality,
        "observed": texts["observed"],
        "observed_when": texts["observed_when"],
        "how_known": texts["how_known"],
        "change_over_time": texts["change_over_time"],
        "safety": safety,
    }
    return Validation(
        report=ConcernReport(
            reporter_role=ReporterRole(role),
            anonymous=anonymous,
            name=texts["name"],
            organisation=texts["organisation"],
            phone=texts["phone"],
            email=texts["email"].lower() if texts["email"] else None,
            answers=answers,
            is_acute=any(answer == "yes" for answer in safety.values()),
        )
    )


# The follow-up page: information a reporter adds later, with the receipt code.
FOLLOW_UP_LIMITS = {"information": 4000}


def validate_information(text: str) -> tuple[str, FieldProblem | None]:
    """The text to store (line breaks as browsers mean them, trimmed) and its problem, if any."""
    value = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not value:
        return value, FieldProblem(REQUIRED)
    limit = FOLLOW_UP_LIMITS["information"]
    if len(value) > limit:
        return value, FieldProblem(TOO_LONG, limit)
    return value, None
