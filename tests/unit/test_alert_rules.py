"""The alert engine's pure rules: channels and their fallback, recipients along the chain, the
round due at a moment, retries, the acknowledgement code, and texts without personal data."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from clock import FileClock
from notifications import alert_rules
from notifications.alert_models import AlertChannel
from notifications.alert_rules import AlertText
from notifications.escalation import Audience, StepKind
from notifications.staff_contacts import StaffContact
from settings import SettingsError, load_settings
from triage.deadline_clock import DeadlineKind

VOICE, SMS, EMAIL = AlertChannel.VOICE, AlertChannel.SMS, AlertChannel.EMAIL


def person(
    staff_id: int, *, phone: str | None = "+4520123456", email: str | None = "a@example.org"
) -> StaffContact:
    return StaffContact(staff_id, f"user{staff_id}", f"User {staff_id}", phone, email, True)


BO, CARL, LISE, ANNE = person(2), person(3), person(4), person(1)
CHAIN = [BO, CARL, LISE]


@pytest.mark.parametrize(
    ("kind", "who", "expected"),
    [
        (StepKind.REMINDER, person(1), (EMAIL,)),
        (StepKind.WARNING, person(1), (SMS,)),
        (StepKind.APPROACHING, person(1), (VOICE, SMS)),
        (StepKind.OVERDUE, person(1), (VOICE, SMS)),
        # No phone: calls and SMS become one e-mail.
        (StepKind.OVERDUE, person(1, phone=None), (EMAIL,)),
        (StepKind.WARNING, person(1, phone=None), (EMAIL,)),
        # No e-mail: the reminder is in the app only; the others need none.
        (StepKind.REMINDER, person(1, email=None), ()),
        (StepKind.OVERDUE, person(1, email=None), (VOICE, SMS)),
        (StepKind.OVERDUE, person(1, phone=None, email=None), ()),
    ],
)
def test_the_channels_of_a_round_by_step_and_what_the_person_can_be_reached_on(
    kind: StepKind, who: StaffContact, expected: tuple[AlertChannel, ...]
) -> None:
    assert alert_rules.channels_for(kind, who) == expected


def test_a_failed_channel_falls_back_voice_sms_email_skipping_those_used() -> None:
    assert alert_rules.fallback_channel(VOICE, BO, used={VOICE}) is SMS
    assert alert_rules.fallback_channel(VOICE, BO, used={VOICE, SMS}) is EMAIL
    assert alert_rules.fallback_channel(SMS, BO, used={VOICE, SMS}) is EMAIL
    assert alert_rules.fallback_channel(EMAIL, BO, used={EMAIL}) is None
    assert alert_rules.fallback_channel(VOICE, person(2, email=None), used={VOICE, SMS}) is None
    assert alert_rules.fallback_channel(AlertChannel.APP, BO, used=set()) is None


def test_retries_wait_15_then_45_seconds_then_give_up() -> None:
    assert alert_rules.retry_delay(1) == timedelta(seconds=15)
    assert alert_rules.retry_delay(2) == timedelta(seconds=45)
    assert alert_rules.retry_delay(3) is None
    assert alert_rules.MAX_TRIES == 3


@pytest.mark.parametrize(
    ("audience", "position", "assignee", "lead", "expected"),
    [
        (Audience.ON_CALL, 0, None, LISE, [BO]),
        (Audience.ON_CALL, 1, None, LISE, [CARL]),
        (Audience.ON_CALL, 2, None, LISE, [LISE]),
        (Audience.ON_CALL, 7, None, LISE, [LISE]),  # the last keeps it
        (Audience.ON_CALL_AND_TEAM_LEAD, 0, None, LISE, [BO, LISE]),
        (Audience.ON_CALL_AND_TEAM_LEAD, 2, None, LISE, [LISE]),
        (Audience.ASSIGNEE, 0, ANNE, LISE, [ANNE]),
        (Audience.ASSIGNEE, 1, ANNE, LISE, [BO]),  # a repeating reminder moves to on call
        (Audience.ASSIGNEE, 0, None, LISE, [BO]),  # unassigned: on call now
        (Audience.TEAM_LEAD, 0, None, LISE, [LISE]),
        (Audience.TEAM_LEAD, 0, None, None, [BO]),  # no lead designated: the chain
    ],
)
def test_who_a_round_goes_to(
    audience: Audience,
    position: int,
    assignee: StaffContact | None,
    lead: StaffContact | None,
    expected: list[StaffContact],
) -> None:
    found = alert_rules.recipients(
        audience, position, assignee=assignee, chain=CHAIN, team_lead=lead
    )
    assert found == expected


def test_nobody_to_reach_is_an_empty_round() -> None:
    assert (
        alert_rules.recipients(Audience.ON_CALL, 0, assignee=None, chain=[], team_lead=None) == []
    )
    inactive = StaffContact(9, "x", "X", "+4520123456", None, False)
    assert (
        alert_rules.recipients(Audience.ASSIGNEE, 0, assignee=inactive, chain=[], team_lead=None)
        == []
    )


def test_the_round_due_now_is_on_the_alerts_own_grid() -> None:
    fired = datetime(2026, 3, 4, 5, 30, tzinfo=UTC)
    every = timedelta(minutes=15)
    assert alert_rules.due_round(fired, fired, every) == 0
    assert alert_rules.due_round(fired, fired + timedelta(minutes=14, seconds=59), every) == 0
    assert alert_rules.due_round(fired, fired + timedelta(minutes=15), every) == 1
    assert alert_rules.due_round(fired, fired + timedelta(minutes=65), every) == 4


def test_codes_are_six_random_digits_and_replies_are_read_loosely() -> None:
    codes = {alert_rules.new_code() for _ in range(200)}
    assert all(re.fullmatch(r"\d{6}", code) for code in codes)
    assert len(codes) > 190
    for reply in ("OK 123456", "ok123456", "Ok: 123456.", " OK 123 456 ", "ok\n123456"):
        assert alert_rules.code_in_reply(reply) == "123456", reply
    for other in ("123456", "OK", "OK 12345", "OK 1234567", "Okay 123456", "OK 123456 thanks"):
        assert alert_rules.code_in_reply(other) is None, other


def test_texts_hold_the_reference_kind_code_and_link_only() -> None:
    text = AlertText(
        reference="NAT-2026-00042",
        deadline=DeadlineKind.VISITATION,
        step=StepKind.OVERDUE,
        code="123456",
        link="https://hotline.example.dk/cases/42",
    )
    body = alert_rules.sms_body(text)
    assert body.endswith(
        "Hotline alert: case NAT-2026-00042, visitation deadline overdue. Reply OK 123456 to "
        "acknowledge. https://hotline.example.dk/cases/42"
    )
    assert body.startswith(
        "Hotline-alarm: sag NAT-2026-00042, visitationsfristen er overskredet. "
        "Svar OK 123456 for at kvittere."
    )
    mail = alert_rules.email_message(text, "bo@example.org")
    assert mail.to == "bo@example.org"
    assert mail.subject == "Hotline-alarm / Hotline alert: NAT-2026-00042"
    assert "https://hotline.example.dk/cases/42" in mail.text
    assert "ingen personoplysninger" in mail.text
    # Nothing else varies: the same inputs always give the same words.
    numbers = set(re.findall(r"\d+", body))
    assert numbers <= {"2026", "00042", "123456", "42"}


def test_the_test_clock_reads_its_file_and_follows_each_write(tmp_path: Path) -> None:
    path = tmp_path / "clock"
    first = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    FileClock.write(path, first)
    clock = FileClock(path)
    assert clock.now() == first
    FileClock.write(path, first + timedelta(hours=44))
    assert clock.now() == first + timedelta(hours=44)
    path.write_text("2026-03-02T09:30:00")
    with pytest.raises(ValueError, match="offset"):
        FileClock(path).now()


def test_the_test_clock_is_refused_unless_explicitly_allowed(tmp_path: Path) -> None:
    clock_file = str(tmp_path / "clock")
    with pytest.raises(SettingsError, match="HOTLINE_ALLOW_TEST_CLOCK"):
        load_settings({"HOTLINE_TEST_CLOCK_FILE": clock_file})
    allowed = load_settings(
        {"HOTLINE_TEST_CLOCK_FILE": clock_file, "HOTLINE_ALLOW_TEST_CLOCK": "true"}
    )
    assert allowed.test_clock_file == Path(clock_file)
    assert load_settings({}).test_clock_file is None
    assert load_settings({}).allow_test_clock is False
