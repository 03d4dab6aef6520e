"""The routing settings: legal bases (a JSON list) and the mail server, refused by name."""

from __future__ import annotations

import pytest

from settings import DEFAULT_LEGAL_BASES, SettingsError, is_email_address, load_settings


def test_the_default_legal_bases_are_danish_and_include_section_115() -> None:
    settings = load_settings({})

    assert settings.legal_bases == DEFAULT_LEGAL_BASES
    assert "Retsplejeloven § 115, stk. 2" in settings.legal_bases
    assert "Samtykke fra borgeren" in settings.legal_bases


def test_legal_bases_are_read_as_a_json_list_and_tidied() -> None:
    settings = load_settings(
        {"HOTLINE_LEGAL_BASES": '["Retsplejeloven § 115, stk. 1", "  Barnets lov   § 133 "]'}
    )

    assert settings.legal_bases == ("Retsplejeloven § 115, stk. 1", "Barnets lov § 133")


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("[]", "non-empty JSON list"),
        ("", "JSON list"),
        ("Retsplejeloven § 115", "JSON list"),
        ('{"a": 1}', "JSON list"),
        ('["ok", ""]', "non-empty text"),
        ('["ok", 3]', "non-empty text"),
        ('["ok", "ok"]', "listed twice"),
        ('["' + "x" * 201 + '"]', "at most 200 characters"),
    ],
)
def test_invalid_legal_bases_stop_start_up_naming_the_variable(value: str, says: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({"HOTLINE_LEGAL_BASES": value})

    assert "HOTLINE_LEGAL_BASES" in str(refused.value)
    assert says in str(refused.value)


def test_without_a_mail_server_notices_are_in_console_mode() -> None:
    settings = load_settings({})

    assert not settings.email_enabled
    assert settings.smtp_security == "starttls"


def test_a_mail_server_needs_a_from_address() -> None:
    with pytest.raises(SettingsError, match="HOTLINE_SMTP_FROM_ADDRESS"):
        load_settings({"HOTLINE_SMTP_HOST": "mail.example.dk"})


def test_smtp_login_comes_as_a_pair_and_the_password_is_secret() -> None:
    base = {"HOTLINE_SMTP_HOST": "mail.example.dk", "HOTLINE_SMTP_FROM_ADDRESS": "hl@example.dk"}
    with pytest.raises(SettingsError, match="HOTLINE_SMTP_PASSWORD"):
        load_settings({**base, "HOTLINE_SMTP_USERNAME": "hotline"})

    settings = load_settings(
        {**base, "HOTLINE_SMTP_USERNAME": "hotline", "HOTLINE_SMTP_PASSWORD": "very-secret"}
    )
    assert settings.email_enabled
    assert "very-secret" not in repr(settings)


@pytest.mark.parametrize(("security", "port"), [("starttls", 587), ("ssl", 465), ("none", 25)])
def test_the_port_follows_the_security_unless_set(security: str, port: int) -> None:
    base = {
        "HOTLINE_SMTP_HOST": "mail.example.dk",
        "HOTLINE_SMTP_FROM_ADDRESS": "hl@example.dk",
        "HOTLINE_SMTP_SECURITY": security,
    }
    assert load_settings(base).resolved_smtp_port == port
    assert load_settings({**base, "HOTLINE_SMTP_PORT": "2525"}).resolved_smtp_port == 2525


def test_unknown_security_and_bad_from_address_are_named() -> None:
    with pytest.raises(SettingsError, match="HOTLINE_SMTP_SECURITY"):
        load_settings({"HOTLINE_SMTP_SECURITY": "tls"})
    with pytest.raises(SettingsError, match="HOTLINE_SMTP_FROM_ADDRESS"):
        load_settings({"HOTLINE_SMTP_FROM_ADDRESS": "hotline"})


@pytest.mark.parametrize(
    ("address", "valid"),
    [
        ("infohus@kk.dk", True),
        ("infohus@koebenhavn.example.invalid", True),
        ("no-domain@localhost", False),
        ("two words@kk.dk", False),
        ("a@kk.dk\r\nBcc: x@evil.example", False),
        ("Infohus <infohus@kk.dk>", False),
        ("a@kk.dk,b@kk.dk", False),
        ("", False),
    ],
)
def test_mail_addresses_are_bare_and_safe_in_a_header(address: str, valid: bool) -> None:
    assert is_email_address(address) is valid


def test_the_link_base_is_the_public_url_or_where_serve_listens() -> None:
    assert load_settings({}).base_url == "http://127.0.0.1:8080"
    assert load_settings({"HOTLINE_HOST": "0.0.0.0"}).base_url == "http://127.0.0.1:8080"  # noqa: S104
    public = {"HOTLINE_PUBLIC_BASE_URL": "https://hotline.example.dk/"}
    assert load_settings(public).base_url == "https://hotline.example.dk"
