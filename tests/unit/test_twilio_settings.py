"""Twilio settings (validation, when Twilio counts as configured, secrets kept out of reprs) and
the console sender used when it is not configured."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from integrations.console import ConsoleSmsSender
from integrations.twilio.client import rest_client
from notifications.ports import SentMessage
from settings import SettingsError, load_settings
from tests.support.twilio_signing import ACCOUNT_SID, AUTH_TOKEN
from tests.support.twilio_stub import API_KEY_SECRET, API_KEY_SID

SID = {"HOTLINE_TWILIO_ACCOUNT_SID": ACCOUNT_SID}
TOKEN = {"HOTLINE_TWILIO_AUTH_TOKEN": AUTH_TOKEN}
KEY = {"HOTLINE_TWILIO_API_KEY_SID": API_KEY_SID, "HOTLINE_TWILIO_API_KEY_SECRET": API_KEY_SECRET}


def test_defaults_are_console_mode_in_the_eu_region() -> None:
    settings = load_settings({})

    assert settings.twilio_region == "ie1"
    assert settings.twilio_edge == "dublin"
    assert settings.twilio_account_sid is None
    assert settings.twilio_auth_token is None
    assert settings.twilio_api_url is None
    assert settings.twilio_enabled is False


@pytest.mark.parametrize(
    "value",
    [
        "12345",
        "AC123",  # too short
        "AC" + "0" * 33,  # too long
        "SK" + "0" * 32,  # an API key SID in the account field
        "ac" + "0" * 32,
    ],
)
def test_a_malformed_account_sid_is_refused_naming_the_variable(value: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({"HOTLINE_TWILIO_ACCOUNT_SID": value, **TOKEN})

    message = str(refused.value)
    assert "HOTLINE_TWILIO_ACCOUNT_SID" in message
    assert "AC" in message
    # The token is never echoed back.
    assert AUTH_TOKEN not in message


def test_an_empty_account_sid_means_not_configured() -> None:
    settings = load_settings({"HOTLINE_TWILIO_ACCOUNT_SID": "", **TOKEN})

    assert settings.twilio_account_sid is None
    assert settings.twilio_enabled is False


@pytest.mark.parametrize(
    ("environ", "enabled"),
    [
        ({}, False),
        (SID, False),
        (TOKEN, False),
        (KEY, False),
        ({**TOKEN, **KEY}, False),
        ({**SID, **TOKEN}, True),
        ({**SID, **KEY}, True),
        ({**SID, **TOKEN, **KEY}, True),
    ],
    ids=["nothing", "sid", "token", "key", "token+key", "sid+token", "sid+key", "all"],
)
def test_twilio_is_enabled_only_with_an_account_and_a_credential(
    environ: dict[str, str], enabled: bool
) -> None:
    settings = load_settings(environ)

    assert settings.twilio_enabled is enabled
    if enabled:
        # Enabled means the REST client can be built (bootstrap builds it at start).
        client = rest_client(settings)
        client.http_client.session.close()


def test_a_key_secret_without_a_key_sid_stops_start_up() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings({**SID, "HOTLINE_TWILIO_API_KEY_SECRET": API_KEY_SECRET})
    assert "HOTLINE_TWILIO_API_KEY_SID and HOTLINE_TWILIO_API_KEY_SECRET go together" in str(
        error.value
    )


def test_an_empty_auth_token_means_not_configured() -> None:
    settings = load_settings({**SID, "HOTLINE_TWILIO_AUTH_TOKEN": ""})

    assert settings.twilio_auth_token is None
    assert settings.twilio_enabled is False


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("HOTLINE_TWILIO_ACCOUNT_SID", "AC" + "z" * 32),
        ("HOTLINE_TWILIO_ACCOUNT_SID", "SK" + "0" * 32),
        ("HOTLINE_TWILIO_API_KEY_SID", "SK" + "0" * 31),
        ("HOTLINE_TWILIO_API_KEY_SID", "AC" + "0" * 32),
    ],
)
def test_sids_must_have_their_format(variable: str, value: str) -> None:
    environ = {**SID, **KEY, variable: value}
    with pytest.raises(SettingsError, match=variable):
        load_settings(environ)


def test_secrets_stay_out_of_repr_and_str() -> None:
    settings = load_settings(
        {**SID, **TOKEN, **KEY, "HOTLINE_TWILIO_API_URL": "http://user:pw@127.0.0.1:9"}
    )

    for shown in (repr(settings), str(settings), settings.model_dump_json()):
        assert AUTH_TOKEN not in shown
        assert API_KEY_SECRET not in shown
    # Like the database and Redis URLs, the stub URL is left out of repr (it may hold a password).
    assert "user:pw" not in repr(settings)
    # The values are still there for the code that needs them.
    assert settings.twilio_auth_token is not None
    assert settings.twilio_auth_token.get_secret_value() == AUTH_TOKEN
    assert settings.twilio_api_key_secret is not None
    assert settings.twilio_api_key_secret.get_secret_value() == API_KEY_SECRET


def test_region_and_edge_can_be_changed() -> None:
    settings = load_settings({"HOTLINE_TWILIO_REGION": "us1", "HOTLINE_TWILIO_EDGE": "ashburn"})

    assert (settings.twilio_region, settings.twilio_edge) == ("us1", "ashburn")


def test_the_api_url_must_be_absolute_and_loses_its_trailing_slash() -> None:
    settings = load_settings({"HOTLINE_TWILIO_API_URL": "http://127.0.0.1:8099/"})
    assert settings.twilio_api_url == "http://127.0.0.1:8099"

    with pytest.raises(SettingsError, match="HOTLINE_TWILIO_API_URL"):
        load_settings({"HOTLINE_TWILIO_API_URL": "127.0.0.1:8099"})


# --- console mode -----------------------------------------------------------------------------

BODY = "Min nabo taler om at rejse ud for at kæmpe"
NUMBER = "+4520123456"


@pytest.mark.parametrize("to", [NUMBER, "whatsapp:" + NUMBER])
def test_the_console_sender_logs_neither_the_text_nor_the_number(to: str) -> None:
    with capture_logs() as logs:
        sent = ConsoleSmsSender().send(
            to=to,
            from_="+4570203040",
            body=BODY,
            status_callback="https://hotline.example.dk/twilio/messages/status",
        )

    assert sent == SentMessage(provider_id=None, status="not_sent")
    [entry] = logs
    assert entry["event"] == "message_not_sent_console_mode"
    assert entry["characters"] == len(BODY)
    written = repr(logs)
    assert BODY not in written
    assert "kæmpe" not in written
    assert NUMBER not in written
    assert "20123456" not in written
    assert "123456" not in written
    # Only the last two digits, to tell messages apart.
    assert entry["to"] == "…56"
