"""triage.triage_form: the form as data, draft and submit validation, the rules, old versions."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

from intake.concern_form import NOT_A_CHOICE, REQUIRED, TOO_LONG
from tests.support.triage import triage_answers
from triage import triage_form
from triage.triage_form import (
    ADVICE_NEEDED,
    CHILD_MUNICIPALITY,
    CHILD_WELFARE,
    DATE_IN_THE_FUTURE,
    IN_THE_FUTURE,
    LAST_BEFORE_FIRST,
    NOT_A_DATE,
    NOT_A_DATETIME,
    NOT_A_FIELD,
    NOT_JUSTIFIED_REASON,
    POLICE_AT,
    POLICE_BY,
    POLICE_HOW,
    ROUTING_MUNICIPALITY,
    Field,
    FormDefinition,
    Kind,
    Section,
    TriageOutcome,
    Validation,
    definition,
    findings,
    validate,
)

DANISH = Path(__file__).resolve().parents[2] / "web/locale/da/LC_MESSAGES/messages.po"
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # 10:30 in Copenhagen
SENSITIVE = ("religion", "faith", "ethnic", "race", "opinion", "politic", "score", "risk", "colour")
POLICE = {
    "police_contact": "told_112",
    "police_contact_by": "Hanne",
    "police_contact_at": "2026-03-02T10:05",
}


def submit(**overrides: Any) -> Validation:
    return validate(1, triage_answers(**overrides), submit=True, now=NOW)


def draft(answers: dict[str, Any]) -> Validation:
    return validate(1, answers, submit=False, now=NOW)


def messages(result: Validation) -> dict[str, str]:
    return {name: problem.message for name, problem in result.errors.items()}


# --- the definition ------------------------------------------------------------------------------


def test_the_current_version_is_defined_and_names_its_fields_once() -> None:
    form = definition()

    assert form.version == triage_form.CURRENT_VERSION
    assert triage_form.FORMS[form.version] is form
    names = [f.name for f in form.fields()]
    assert len(names) == len(set(names))
    assert {s.name for s in form.sections} >= {"safety", "person", "decision"}


def test_the_safety_block_comes_first_and_the_minors_question_right_after() -> None:
    sections = definition(1).sections

    assert [f.name for f in sections[0].fields] == [
        "safety_flags",
        "acute_danger",
        "police_contact",
        "police_contact_by",
        "police_contact_at",
    ]
    assert [f.name for f in sections[1].fields][:2] == ["age_band", "child_welfare"]


def test_the_fields_asked_for_are_there_with_their_kinds() -> None:
    kinds = {f.name: f.kind for f in definition(1).fields()}

    assert kinds["safety_flags"] is Kind.MULTI_CHOICE
    assert kinds["acute_danger"] is Kind.YES_NO
    assert kinds["police_contact_at"] is Kind.DATETIME
    assert kinds["subject_municipality"] is Kind.MUNICIPALITY
    assert kinds["reporter_municipality"] is Kind.MUNICIPALITY
    assert kinds["first_observed"] is Kind.DATE
    assert kinds["observed"] is Kind.TEXT
    for name in ("reporter_role", "reporter_relation", "reporter_own_words", "how_known"):
        assert name in kinds
    for name in ("protective_factors", "recent_crisis", "others_involved", "actions_taken"):
        assert name in kinds
    for name in ("advice_given", "anonymity_wish", "consent_to_pass_on", "rationale", "outcome"):
        assert name in kinds


def test_option_lists_are_as_agreed() -> None:
    form = definition(1)

    def values(name: str) -> list[str]:
        spec = form.field(name)
        assert spec is not None
        return [o.value for o in spec.options]

    assert values("age_band") == ["under_15", "15_17", "18_24", "25_plus", "unknown"]
    assert values("safety_flags") == ["threats", "violence", "weapons", "imminent"]
    assert values("police_contact") == ["police_contacted", "told_112", "told_114"]
    assert values("concern_type") == [
        "militant_islamism",
        "right_wing",
        "left_wing",
        "other",
        "unclear",
    ]
    assert values("outcome") == [o.value for o in TriageOutcome]


def test_no_field_asks_for_religion_ethnicity_opinions_or_a_score() -> None:
    for spec in definition(1).fields():
        words = [spec.name, *(o.value for o in spec.options)]
        assert not [w for w in words if any(bad in w.lower() for bad in SENSITIVE)], spec.name
        # Nothing numeric a score could hide in: every kind is a choice, a text or a date.
        assert spec.kind in set(Kind)


def test_every_label_and_help_text_has_a_danish_translation() -> None:
    with DANISH.open("rb") as handle:
        danish = read_po(handle, locale="da")
    untranslated = []
    for section in definition(1).sections:
        texts = [section.legend, section.help]
        for spec in section.fields:
            texts += [spec.label, spec.help, *(o.label for o in spec.options)]
        for text in filter(None, texts):
            message = danish.get(text)
            if message is None or not message.string:
                untranslated.append(text)

    assert untranslated == []


def test_an_unknown_version_is_refused() -> None:
    with pytest.raises(triage_form.UnknownVersion):
        definition(99)


# --- drafts: types only --------------------------------------------------------------------------


def test_an_empty_draft_is_valid_and_stores_nothing() -> None:
    result = draft({"observed": "   ", "how_known": [], "outcome": ""})

    assert result.ok
    assert result.answers == {}


def test_a_draft_may_break_the_rules_and_leave_required_fields_empty() -> None:
    result = draft({"safety_flags": ["weapons"], "age_band": "under_15", "outcome": "police"})

    assert result.ok
    assert result.answers == {
        "safety_flags": ["weapons"],
        "age_band": "under_15",
        "outcome": "police",
    }


def test_a_draft_is_checked_for_types_and_lengths() -> None:
    result = draft(
        {
            "age_band": "17",
            "safety_flags": ["threats", "nonsense"],
            "observed": "x" * 4001,
            "first_observed": "yesterday",
            "police_contact_at": "2026-03-02",
            "subject_municipality": "999",
            "rationale": 42,
            "favourite_colour": "blue",
        }
    )

    assert messages(result) == {
        "safety_flags": NOT_A_CHOICE,
        "police_contact_at": NOT_A_DATETIME,
        "age_band": NOT_A_CHOICE,
        "subject_municipality": NOT_A_CHOICE,
        "observed": TOO_LONG,
        "first_observed": NOT_A_DATE,
        "rationale": triage_form.NOT_TEXT,
        "favourite_colour": NOT_A_FIELD,
    }
    assert result.errors["observed"].limit == 4000


def test_values_are_cleaned() -> None:
    result = draft(
        {
            "safety_flags": ["weapons", "threats", "weapons"],
            "how_known": "online",
            "subject_municipality": 147,
            "reporter_municipality": "unknown",
            "observed": "  line one\r\nline two  ",
            "police_contact_at": "2026-03-02 10:05",
            "first_observed": "2026-02-01",
        }
    )

    assert result.ok
    assert result.answers == {
        "safety_flags": ["threats", "weapons"],  # the form's order, each once
        "how_known": ["online"],
        "subject_municipality": "147",
        "reporter_municipality": "unknown",
        "observed": "line one\nline two",
        "police_contact_at": "2026-03-02T09:05:00+00:00",  # Danish time, stored in UTC
        "first_observed": "2026-02-01",
    }


def test_a_time_with_an_offset_is_kept_as_that_moment() -> None:
    result = draft({"police_contact_at": "2026-07-01T12:00:00+02:00"})

    assert result.answers["police_contact_at"] == "2026-07-01T10:00:00+00:00"


def test_stored_times_show_in_danish_time_on_the_form() -> None:
    shown = triage_form.input_values(1, {"police_contact_at": "2026-07-01T10:00:00+00:00"})

    assert shown == {"police_contact_at": "2026-07-01T12:00"}


# --- submit: required fields and the rules -------------------------------------------------------


def test_a_complete_justified_triage_is_valid() -> None:
    result = submit()

    assert result.errors == {}
    found = findings(1, result.answers)
    assert found.outcome is TriageOutcome.JUSTIFIED
    assert found.acute is False
    assert found.under_18 is False
    assert found.child_notification_municipality is None
    assert found.subject_municipality == 101
    assert found.reporter_municipality == 147
    assert found.police_contact is None


def test_submitting_needs_the_required_fields() -> None:
    result = validate(1, {}, submit=True, now=NOW)

    assert messages(result) == {
        name: REQUIRED
        for name in (
            "age_band",
            "subject_municipality",
            "concern_type",
            "reporter_role",
            "reporter_municipality",
            "observed",
            "anonymity_wish",
            "consent_to_pass_on",
            "outcome",
            "rationale",
        )
    }


def test_the_rationale_is_required_on_submit() -> None:
    assert messages(submit(rationale=None)) == {"rationale": REQUIRED}


@pytest.mark.parametrize("flag", ["threats", "violence", "weapons", "imminent"])
def test_acute_rule_any_safety_flag_needs_the_police_contact_block(flag: str) -> None:
    result = submit(safety_flags=[flag])

    assert messages(result) == {
        "police_contact": POLICE_HOW,
        "police_contact_by": POLICE_BY,
        "police_contact_at": POLICE_AT,
    }


def test_acute_rule_acute_danger_alone_needs_it_too() -> None:
    assert set(submit(acute_danger="yes").errors) == set(triage_form.POLICE_FIELDS)
    assert submit(acute_danger="no").errors == {}


def test_acute_rule_the_police_outcome_needs_it_too() -> None:
    assert set(submit(outcome="police").errors) == set(triage_form.POLICE_FIELDS)


def test_acute_rule_a_partly_filled_block_names_what_is_missing() -> None:
    result = submit(safety_flags=["threats"], police_contact="told_114")

    assert set(result.errors) == {"police_contact_by", "police_contact_at"}


def test_acute_rule_is_met_by_the_block() -> None:
    result = submit(safety_flags=["threats", "imminent"], **POLICE)

    assert result.errors == {}
    found = findings(1, result.answers)
    assert found.acute is True
    assert found.police_contact == triage_form.PoliceContact(
        "told_112", "Hanne", datetime(2026, 3, 2, 9, 5, tzinfo=UTC)
    )


def test_acute_rule_the_police_contact_cannot_be_in_the_future() -> None:
    later = submit(safety_flags=["violence"], **{**POLICE, "police_contact_at": "2026-03-02T10:31"})
    now = submit(safety_flags=["violence"], **{**POLICE, "police_contact_at": "2026-03-02T10:30"})

    assert messages(later) == {"police_contact_at": IN_THE_FUTURE}
    assert now.errors == {}


@pytest.mark.parametrize("band", ["under_15", "15_17"])
def test_under_18_rule_asks_about_the_childs_welfare(band: str) -> None:
    assert messages(submit(age_band=band)) == {"child_welfare": CHILD_WELFARE}
    assert submit(age_band=band, child_welfare="no").errors == {}


def test_under_18_rule_welfare_at_risk_needs_the_childs_municipality() -> None:
    result = submit(
        age_band="15_17", child_welfare="yes", subject_municipality="unknown", outcome="advice_only"
    )

    assert messages(result) == {
        "subject_municipality": CHILD_MUNICIPALITY,
        "advice_given": ADVICE_NEEDED,
    }


def test_under_18_rule_requires_a_notification_to_the_childs_municipality() -> None:
    result = submit(age_band="under_15", child_welfare="yes", subject_municipality="751")

    assert result.errors == {}
    found = findings(1, result.answers)
    assert found.under_18 is True
    assert found.child_notification_municipality == 751


def test_under_18_rule_does_not_apply_to_adults_or_an_unknown_age() -> None:
    adult = submit(age_band="25_plus", child_welfare="yes")
    unknown = submit(age_band="unknown")

    assert adult.errors == {}
    # The question is for minors only: a stale answer is dropped, so it cannot notify anyone.
    assert "child_welfare" not in adult.answers
    assert findings(1, adult.answers).child_notification_municipality is None
    assert unknown.errors == {}
    assert findings(1, unknown.answers).under_18 is None


def test_not_justified_needs_a_reason() -> None:
    result = submit(outcome="not_justified")

    assert messages(result) == {"not_justified_reason": NOT_JUSTIFIED_REASON}
    assert submit(outcome="not_justified", not_justified_reason="En misforståelse.").errors == {}


def test_the_reason_for_not_justified_is_dropped_for_another_outcome() -> None:
    result = submit(not_justified_reason="Glemt fra før.")

    assert result.errors == {}
    assert "not_justified_reason" not in result.answers


def test_advice_only_needs_the_advice_given() -> None:
    assert messages(submit(outcome="advice_only")) == {"advice_given": ADVICE_NEEDED}
    assert submit(outcome="advice_only", advice_given="Tal med skolen.").errors == {}


def test_justified_needs_a_municipality_to_route_to() -> None:
    neither = submit(subject_municipality="unknown", reporter_municipality="unknown")
    reporter_only = submit(subject_municipality="unknown", reporter_municipality="147")

    assert messages(neither) == {"subject_municipality": ROUTING_MUNICIPALITY}
    assert reporter_only.errors == {}
    found = findings(1, reporter_only.answers)
    assert (found.subject_municipality, found.reporter_municipality) == (None, 147)
    # Closing needs no municipality.
    assert (
        submit(
            outcome="advice_only",
            advice_given="Ring igen.",
            subject_municipality="unknown",
            reporter_municipality="unknown",
        ).errors
        == {}
    )


def test_observation_dates_are_not_in_the_future_nor_backwards() -> None:
    assert messages(submit(first_observed="2026-03-03", last_observed=None)) == {
        "first_observed": DATE_IN_THE_FUTURE
    }
    assert messages(submit(first_observed="2026-02-10", last_observed="2026-02-01")) == {
        "last_observed": LAST_BEFORE_FIRST
    }
    assert submit(first_observed="2026-03-02", last_observed="2026-03-02").errors == {}


def test_a_field_with_a_type_error_is_not_also_blamed_by_a_rule() -> None:
    result = submit(safety_flags=["threats"], **{**POLICE, "police_contact_at": "soon"})

    assert messages(result) == {"police_contact_at": NOT_A_DATETIME}


def test_errors_come_in_the_forms_order() -> None:
    result = validate(1, {"rationale": "x" * 5000, "safety_flags": ["bad"]}, submit=True, now=NOW)

    names = list(result.errors)
    order = [f.name for f in definition(1).fields()]
    assert names == sorted(names, key=order.index)
    assert names[0] == "safety_flags"


# --- versions ------------------------------------------------------------------------------------


def _version_2() -> FormDefinition:
    """A test-only successor: v1's fields minus the reporter's own words, plus a new question."""
    v1 = definition(1)
    sections = tuple(
        dataclasses.replace(
            section, fields=tuple(f for f in section.fields if f.name != "reporter_own_words")
        )
        for section in v1.sections
    )
    extra = Section(
        "follow_up",
        "Follow-up",
        fields=(
            Field("call_back", Kind.YES_NO, "Call the caller back?", options=triage_form.YES_NO),
        ),
    )
    return FormDefinition(2, (*sections, extra), rules=v1.rules, findings=v1.findings)


@pytest.fixture
def version_2(monkeypatch: pytest.MonkeyPatch) -> FormDefinition:
    second = _version_2()
    monkeypatch.setitem(triage_form.FORMS, 2, second)
    monkeypatch.setattr(triage_form, "CURRENT_VERSION", 2)
    return second


def test_a_new_version_becomes_the_default(version_2: FormDefinition) -> None:
    assert definition() is version_2
    assert validate(2, {"call_back": "yes"}, submit=False, now=NOW).ok
    assert messages(validate(2, {"reporter_own_words": "x"}, submit=False, now=NOW)) == {
        "reporter_own_words": NOT_A_FIELD
    }


def test_an_old_version_stays_readable_and_valid(version_2: FormDefinition) -> None:
    old = definition(1)
    answers = submit(reporter_own_words="Jeg er hans mor").answers

    assert old.version == 1
    assert old.field("reporter_own_words") is not None
    assert old.field("call_back") is None
    assert validate(1, answers, submit=True, now=NOW).errors == {}
    assert findings(1, answers).outcome is TriageOutcome.JUSTIFIED
    assert triage_form.input_values(1, answers)["reporter_own_words"] == "Jeg er hans mor"
    # Every stored answer still has its field (and label) in its own version.
    assert all(old.field(name) is not None for name in answers)


def test_the_outcome_is_read_from_the_answers(version_2: FormDefinition) -> None:
    result = validate(
        2,
        triage_answers(
            outcome="advice_only", advice_given="Tal med skolen.", reporter_own_words=None
        ),
        submit=True,
        now=NOW + timedelta(days=1),
    )

    assert result.errors == {}
    assert findings(2, result.answers).outcome is TriageOutcome.ADVICE_ONLY
