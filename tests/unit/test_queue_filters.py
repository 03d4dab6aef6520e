"""triage.queue_filters: query strings become checked filters, and back; their tag is stable."""

from __future__ import annotations

import pytest

from intake.models import Channel
from triage.models import CaseStatus
from triage.queue_filters import (
    MINE,
    NO_FILTERS,
    UNASSIGNED,
    Due,
    InvalidFilter,
    QueueFilters,
    parse_filters,
)

HOTLINES = ("national", "copenhagen")


def test_nothing_set_is_no_filter() -> None:
    assert parse_filters({}, hotlines=HOTLINES) == NO_FILTERS
    assert not NO_FILTERS.active
    assert NO_FILTERS.tag() == ""


def test_empty_values_mean_all() -> None:
    # A form's "All" option sends the parameter with no value.
    query = {"hotline": "", "channel": "", "status": "", "assignee": " ", "due": ""}

    assert parse_filters(query, hotlines=HOTLINES) == NO_FILTERS


def test_every_filter_is_read() -> None:
    query = {
        "hotline": "copenhagen",
        "channel": "sms",
        "status": "in_triage",
        "assignee": "17",
        "due": "at_risk",
        "cursor": "left alone",
        "lang": "en",
    }

    filters = parse_filters(query, hotlines=HOTLINES)

    assert filters == QueueFilters(
        hotline="copenhagen",
        channel=Channel.SMS,
        status=CaseStatus.IN_TRIAGE,
        assignee=17,
        due=Due.AT_RISK,
    )
    assert filters.items() == [
        ("hotline", "copenhagen"),
        ("channel", "sms"),
        ("status", "in_triage"),
        ("assignee", "17"),
        ("due", "at_risk"),
    ]


@pytest.mark.parametrize("value", [MINE, UNASSIGNED])
def test_assignee_words(value: str) -> None:
    assert parse_filters({"assignee": value}, hotlines=HOTLINES).assignee == value


def test_every_case_status_is_a_filter() -> None:
    # Statuses are an open set: whatever CaseStatus holds is accepted.
    for status in CaseStatus:
        assert parse_filters({"status": status.value}, hotlines=HOTLINES).status is status


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("hotline", "aarhus"),
        ("hotline", "NATIONAL"),
        ("channel", "fax"),
        ("status", "open"),
        ("due", "soon"),
        ("due", "OVERDUE"),
    ],
)
def test_a_value_outside_the_choices_names_the_filter_and_its_choices(
    name: str, value: str
) -> None:
    with pytest.raises(InvalidFilter) as raised:
        parse_filters({name: value}, hotlines=HOTLINES)

    assert raised.value.field == name
    assert raised.value.choices
    assert value not in raised.value.choices


def test_hotline_choices_are_the_hotlines_given() -> None:
    with pytest.raises(InvalidFilter) as raised:
        parse_filters({"hotline": "x"}, hotlines=HOTLINES)

    assert raised.value.choices == ["copenhagen", "national"]


@pytest.mark.parametrize("value", ["me", "0", "-3", "1.5", "2147483648", "١٢", "abc"])
def test_a_bad_assignee_is_refused(value: str) -> None:
    with pytest.raises(InvalidFilter) as raised:
        parse_filters({"assignee": value}, hotlines=HOTLINES)

    assert raised.value.field == "assignee"
    assert raised.value.choices is None


def test_the_tag_follows_the_filters_not_their_spelling() -> None:
    a = parse_filters({"due": "overdue", "hotline": "national"}, hotlines=HOTLINES)
    b = parse_filters({"hotline": " national ", "due": "overdue"}, hotlines=HOTLINES)
    c = parse_filters({"hotline": "national"}, hotlines=HOTLINES)

    assert a.tag() == b.tag()
    assert a.tag() != c.tag()
    assert len(a.tag()) == 12
    assert QueueFilters(assignee=MINE).tag() != QueueFilters(assignee=UNASSIGNED).tag()
