"""intake.concern_form.validate: required answers, limits, contact rules, anonymity, acuteness."""

from __future__ import annotations

import dataclasses
import re

import pytest

from denmark.municipalities import all_municipalities
from intake import concern_form
from intake.concern_form import (
    INVALID_EMAIL,
    INVALID_PHONE,
    LIMITS,
    NEED_CONTACT,
    NOT_A_CHOICE,
    REQUIRED,
    SAFETY_QUESTIONS,
    TOO_LONG,
    ConcernReport,
    validate,
)
from intake.models import ReporterRole

SAFETY_FIELDS = [f"safety_{question}" for question in SAFETY_QUESTIONS]
REQUIRED_FIELDS = ["reporter_role", "person_age", "municipality", "observed", *SAFETY_FIELDS]
CHOICE_FIELDS = ["reporter_role", "person_age", "municipality", *SAFETY_FIELDS]
SENSITIVE_WORDS = ("religion", "faith", "ethnic", "race", "opinion", "politic", "risk", "score")


def complete_form(**overrides: str) -> dict[str, str]:
    form = {
        "reporter_role": "professional",
        "organisation": "Nørrebro Skole",
        "relation": "his teacher",
        "name": "Karen Jensen",
        "phone": "20 12 34 56",
        "email": "Karen.Jensen@Example.DK",
        "person_age": "under_18",
        "municipality": "101",
        "observed": "He has withdrawn from his friends and shares videos glorifying violence.",
        "observed_when": "since the summer",
        "how_known": "I see him every day in class.",
        "change_over_time": "It has got worse since the spring.",
        "safety_threats": "no",
        "safety_violence": "no",
        "safety_weapons": "unknown",
        "safety_travel": "no",
    }
    form.update(overrides)
    return form


def valid_report(**overrides: str) -> ConcernReport:
    result = validate(complete_form(**overrides))
    assert result.errors == {}
    assert result.report is not None
    return result.report


def test_complete_form_becomes_a_report() -> None:
    report = valid_report()

    assert report.reporter_role is ReporterRole.PROFESSIONAL
    assert report.anonymous is False
    assert report.name == "Karen Jensen"
    assert report.organisation == "Nørrebro Skole"
    assert report.phone == "20 12 34 56"
    assert report.answers["person_age"] == "under_18"
    assert report.answers["municipality"] == "101"
    assert report.answers["relation"] == "his teacher"
    assert report.answers["observed"].startswith("He has withdrawn")
    assert report.answers["observed_when"] == "since the summer"
    assert report.answers["how_known"] == "I see him every day in class."
    assert report.answers["change_over_time"] == "It has got worse since the spring."
    assert report.answers["safety"] == {
        "threats": "no",
        "violence": "no",
        "weapons": "unknown",
        "travel": "no",
    }
    assert report.answers["form_version"] == concern_form.FORM_VERSION
    assert report.is_acute is False


def test_values_are_stripped_and_optional_blanks_become_none() -> None:
    report = valid_report(
        name="  Karen  ", organisation="   ", relation="", observed="  seen it  ", how_known=" "
    )

    assert report.name == "Karen"
    assert report.organisation is None
    assert report.answers["relation"] is None
    assert report.answers["how_known"] is None
    assert report.answers["observed"] == "seen it"


def test_errors_mean_no_report() -> None:
    result = validate(complete_form(person_age=""))

    assert result.report is None
    assert result.errors


@pytest.mark.parametrize("field", REQUIRED_FIELDS)
def test_each_required_field_missing_is_an_error_for_that_field(field: str) -> None:
    form = complete_form()
    del form[field]

    result = validate(form)

    assert result.report is None
    assert set(result.errors) == {field}
    assert result.errors[field].message == REQUIRED


@pytest.mark.parametrize("field", REQUIRED_FIELDS)
def test_a_blank_required_field_is_missing(field: str) -> None:
    result = validate(complete_form(**{field: "   "}))

    assert set(result.errors) == {field}
    assert result.errors[field].message == REQUIRED


def test_an_empty_form_names_every_required_field() -> None:
    result = validate({})

    assert set(REQUIRED_FIELDS) <= set(result.errors)
    # Not anonymous and no contact details either.
    assert result.errors["phone"].message == NEED_CONTACT


@pytest.mark.parametrize("field", sorted(LIMITS))
def test_overlong_text_is_too_long_with_its_limit(field: str) -> None:
    limit = LIMITS[field]
    result = validate(complete_form(**{field: "x" * (limit + 1)}))

    assert result.report is None
    assert set(result.errors) == {field}
    problem = result.errors[field]
    assert problem.message == TOO_LONG
    assert problem.limit == limit
    assert "%(limit)d" in problem.message
    assert str(limit) in problem.message % {"limit": problem.limit}


@pytest.mark.parametrize("field", ["organisation", "relation", "observed", "how_known"])
def test_text_exactly_at_the_limit_is_accepted(field: str) -> None:
    valid_report(**{field: "x" * LIMITS[field]})


def test_limits_count_characters_not_bytes() -> None:
    valid_report(observed="æ" * LIMITS["observed"])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reporter_role", "police"),
        ("reporter_role", "unknown"),  # only staff may record an unknown reporter
        ("reporter_role", "PROFESSIONAL"),
        ("person_age", "12"),
        ("municipality", "Aarhus"),
        ("safety_threats", "maybe"),
        ("safety_weapons", "Yes"),
    ],
)
def test_a_value_that_is_not_one_of_the_choices_is_refused(field: str, value: str) -> None:
    result = validate(complete_form(**{field: value}))

    assert set(result.errors) == {field}
    assert result.errors[field].message == NOT_A_CHOICE


@pytest.mark.parametrize("role", ["professional", "relative", "friend", "other"])
def test_every_offered_role_is_accepted(role: str) -> None:
    assert valid_report(reporter_role=role).reporter_role == ReporterRole(role)


@pytest.mark.parametrize("age", ["under_18", "18_25", "26_40", "over_40", "unknown"])
def test_every_age_band_is_accepted(age: str) -> None:
    assert valid_report(person_age=age).answers["person_age"] == age


@pytest.mark.parametrize("phone", ["12345678", "112", "abc", "+4520123"])
def test_invalid_phone_is_refused(phone: str) -> None:
    result = validate(complete_form(phone=phone))

    assert set(result.errors) == {"phone"}
    assert result.errors["phone"].message == INVALID_PHONE


def test_a_withheld_word_is_not_a_phone_number() -> None:
    result = validate(complete_form(phone="anonymous", email=""))

    assert result.errors["phone"].message == INVALID_PHONE


@pytest.mark.parametrize(
    "email",
    ["karen", "karen@", "@example.dk", "karen@example", "karen jensen@example.dk", "a@b@c.dk"],
)
def test_invalid_email_is_refused(email: str) -> None:
    result = validate(complete_form(email=email))

    assert set(result.errors) == {"email"}
    assert result.errors["email"].message == INVALID_EMAIL


def test_email_is_lower_cased() -> None:
    assert valid_report(email="  Karen.Jensen@Example.DK ").email == "karen.jensen@example.dk"


def test_phone_alone_is_enough_contact() -> None:
    report = valid_report(email="")

    assert report.phone == "20 12 34 56"
    assert report.email is None


def test_email_alone_is_enough_contact() -> None:
    report = valid_report(phone="")

    assert report.phone is None
    assert report.email == "karen.jensen@example.dk"


def test_not_anonymous_without_phone_or_email_needs_contact_on_phone() -> None:
    result = validate(complete_form(phone="", email="", anonymous="no"))

    assert result.report is None
    assert set(result.errors) == {"phone"}
    assert result.errors["phone"].message == NEED_CONTACT


def test_a_name_alone_is_not_contact() -> None:
    result = validate(complete_form(phone="", email="", name="Karen"))

    assert result.errors["phone"].message == NEED_CONTACT


def test_anonymous_needs_no_contact() -> None:
    report = valid_report(anonymous="yes", name="", phone="", email="")

    assert report.anonymous is True


def test_anonymous_drops_identifying_fields_even_if_typed() -> None:
    report = valid_report(anonymous="yes")

    assert report.anonymous is True
    assert report.name is None
    assert report.phone is None
    assert report.email is None
    assert report.organisation is None
    shown = repr(report)
    for typed in ("Karen", "20 12 34 56", "example.dk", "Nørrebro Skole"):
        assert typed not in shown


def test_anonymous_drops_identifying_fields_even_if_invalid() -> None:
    report = valid_report(
        anonymous="yes",
        name="n" * (LIMITS["name"] + 1),
        phone="not a phone",
        email="not an email",
    )

    assert (report.name, report.phone, report.email) == (None, None, None)


def test_anonymous_still_requires_the_concern_itself() -> None:
    result = validate(complete_form(anonymous="yes", observed="", municipality=""))

    assert set(result.errors) == {"observed", "municipality"}


@pytest.mark.parametrize("value", ["", "no", "on", "true", "YES"])
def test_only_yes_means_anonymous(value: str) -> None:
    assert valid_report(anonymous=value).anonymous is False


@pytest.mark.parametrize("field", SAFETY_FIELDS)
def test_any_safety_yes_makes_the_report_acute(field: str) -> None:
    assert valid_report(**{field: "yes"}).is_acute is True


@pytest.mark.parametrize("answer", ["no", "unknown"])
def test_safety_no_or_unknown_everywhere_is_not_acute(answer: str) -> None:
    report = valid_report(**{field: answer for field in SAFETY_FIELDS})

    assert report.is_acute is False
    assert set(report.answers["safety"].values()) == {answer}


def test_unknown_municipality_is_accepted() -> None:
    assert valid_report(municipality="unknown").answers["municipality"] == "unknown"


def test_every_real_municipality_code_is_accepted() -> None:
    for municipality in all_municipalities():
        result = validate(complete_form(municipality=str(municipality.code)))
        assert result.errors == {}, municipality
        assert result.report is not None
        assert result.report.answers["municipality"] == str(municipality.code)


@pytest.mark.parametrize("code", ["999", "0", "100", "-101", "101.0"])
def test_a_code_that_is_no_municipality_is_refused(code: str) -> None:
    result = validate(complete_form(municipality=code))

    assert set(result.errors) == {"municipality"}
    assert result.errors["municipality"].message == NOT_A_CHOICE


def test_unknown_form_fields_are_not_stored() -> None:
    report = valid_report(religion="something", extra="x")

    assert "religion" not in report.answers
    assert "extra" not in report.answers
    assert "something" not in repr(report)


def _words(name: str) -> str:
    return re.sub(r"[^a-z]", " ", name.lower())


def test_no_field_or_answer_asks_about_belief_origin_opinion_or_scores() -> None:
    form_fields = set(complete_form()) | {"anonymous"}
    report_fields = {f.name for f in dataclasses.fields(ConcernReport)}
    report = valid_report()
    answer_keys = set(report.answers) | set(report.answers["safety"])
    choices = {
        *concern_form.AGE_BANDS,
        *concern_form.SAFETY_ANSWERS,
        *concern_form.SAFETY_QUESTIONS,
        *map(str, concern_form.REPORTER_ROLES),
    }

    names = form_fields | set(LIMITS) | report_fields | answer_keys | choices
    offending = {name for name in names if any(word in _words(name) for word in SENSITIVE_WORDS)}
    assert offending == set()
