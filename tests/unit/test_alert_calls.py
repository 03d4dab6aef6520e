"""The voice alert channel's neutral pieces: attempt tokens, the call's URLs, the caller ID
(setting or hotline number), call statuses, and the console caller used without Twilio."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from integrations.console import ConsoleAlertCaller
from notifications.alert_calls import (
    AlertCallStatus,
    alert_call_urls,
    caller_id,
    is_attempt_token,
    new_attempt_token,
)
from notifications.ports import PlacedCall
from settings import SettingsError, load_settings

BASE = "https://hotline.example.dk"
STAFF_PHONE = "+4520123456"


def test_attempt_tokens_are_random_url_safe_and_recognised() -> None:
    tokens = {new_attempt_token() for _ in range(50)}

    assert len(tokens) == 50
    for token in tokens:
        assert is_attempt_token(token)
        assert len(token) == 32  # 24 random bytes


@pytest.mark.parametrize(
    "value",
    ["42", "", "a" * 21, "a" * 65, "abc/def" + "a" * 20, "a b" + "c" * 30, "ä" * 32, "a%2F" * 8],
)
def test_anything_else_is_not_an_attempt_token(value: str) -> None:
    assert not is_attempt_token(value)


def test_the_call_urls_carry_the_token_under_the_public_url() -> None:
    token = new_attempt_token()

    urls = alert_call_urls(BASE + "/", token)

    assert urls.twiml_url == f"{BASE}/twilio/alerts/voice/{token}"
    assert urls.status_callback == f"{BASE}/twilio/alerts/status/{token}"


def test_call_urls_refuse_a_row_id_for_a_token() -> None:
    with pytest.raises(ValueError, match="attempt token"):
        alert_call_urls(BASE, "17")


def test_the_caller_id_is_the_setting_else_the_hotline_s_first_number() -> None:
    assert caller_id("+4570203040", ["+4541749090"]) == "+4570203040"
    assert caller_id(None, ["+4541749090", "+4533172929"]) == "+4541749090"
    assert caller_id("", ["+4541749090"]) == "+4541749090"
    assert caller_id(None, []) is None


def test_final_statuses_are_the_ends_of_a_call() -> None:
    final = {status for status in AlertCallStatus if status.final}

    assert final == {
        AlertCallStatus.COMPLETED,
        AlertCallStatus.BUSY,
        AlertCallStatus.NO_ANSWER,
        AlertCallStatus.FAILED,
        AlertCallStatus.CANCELED,
    }


# --- the caller-ID setting --------------------------------------------------------------------


def test_the_alert_caller_id_is_unset_by_default_and_kept_when_valid() -> None:
    assert load_settings({}).alert_caller_id is None
    assert load_settings({"HOTLINE_ALERT_CALLER_ID": ""}).alert_caller_id is None
    settings = load_settings({"HOTLINE_ALERT_CALLER_ID": "+4570203040"})
    assert settings.alert_caller_id == "+4570203040"


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("70203040", "E.164"),  # no country code
        ("+45 70 20 30 40", "E.164"),
        ("004570203040", "E.164"),
        ("+4512345678", "not a valid phone number"),  # possible but unassigned
        ("+9991234567", "not a valid phone number"),  # no such country code
        ("anonymous", "E.164"),
    ],
)
def test_a_bad_alert_caller_id_stops_start_up_naming_the_variable(value: str, says: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({"HOTLINE_ALERT_CALLER_ID": value})

    assert "HOTLINE_ALERT_CALLER_ID" in str(refused.value)
    assert says in str(refused.value)


# --- console mode -----------------------------------------------------------------------------


def test_the_console_caller_places_nothing_and_logs_no_number() -> None:
    token = new_attempt_token()
    urls = alert_call_urls(BASE, token)

    with capture_logs() as logs:
        placed = ConsoleAlertCaller().place_call(
            to=STAFF_PHONE,
            from_="+4570203040",
            attempt_token=token,
            status_callback=urls.status_callback,
            twiml_url=urls.twiml_url,
        )

    assert placed == PlacedCall(provider_id=None, status="not_placed")
    [entry] = logs
    assert entry["event"] == "alert_call_not_placed_console_mode"
    written = repr(logs)
    for secret in (STAFF_PHONE, "20123456", "123456", "56", "70203040", token):
        assert secret not in written
