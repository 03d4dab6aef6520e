"""Partner unit data is checked before it is stored; the routing notice says where, not who."""

from __future__ import annotations

from datetime import timedelta

import pytest
from structlog.testing import capture_logs

from db import EncryptedText
from integrations.console import ConsoleEmailSender
from notifications.ports import OutgoingEmail
from triage import routing_notice
from triage.models import Routing
from triage.partner_units import UnitData, UnitInvalid, clean

GOOD = UnitData(
    name="  Infohus   København ",
    kind="coordination_unit",
    email=" infohus@kk.example.dk ",
    municipalities=(101, 101),
)


def test_clean_tidies_names_addresses_and_codes() -> None:
    assert clean(GOOD) == UnitData(
        "Infohus København", "coordination_unit", "infohus@kk.example.dk", (101,), True
    )
    assert clean(UnitData("Amager", "infohus", "a@kk.dk", (185, 155))).municipalities == (155, 185)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": " "}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"kind": "police"}, "kind"),
        ({"email": "infohus"}, "email"),
        ({"email": "Infohus <infohus@kk.dk>"}, "email"),
        ({"municipalities": ()}, "municipalities"),
        ({"municipalities": (101, 100)}, "municipalities"),
    ],
)
def test_clean_names_the_first_wrong_field(change: dict[str, object], field: str) -> None:
    data = UnitData(**{**GOOD.__dict__, **change})
    with pytest.raises(UnitInvalid) as refused:
        clean(data)
    assert refused.value.field == field


def test_an_unknown_code_is_named_in_the_message() -> None:
    with pytest.raises(UnitInvalid) as refused:
        clean(UnitData("A", "infohus", "a@kk.dk", (101, 100)))
    assert refused.value.text == "100 is not the code of one of Denmark's 98 municipalities."


def test_the_notice_names_the_unit_the_case_and_the_link_in_both_languages() -> None:
    email = routing_notice.compose(
        unit_name="Infohus Aarhus",
        to="infohus@aarhus.example.dk",
        reference="NAT-2026-00042",
        link="https://hotline.example.dk/routings/7",
    )

    assert email.to == "infohus@aarhus.example.dk"
    assert email.subject == "Ny henvisning / New referral: NAT-2026-00042"
    assert email.text.count("https://hotline.example.dk/routings/7") == 2
    assert "Til Infohus Aarhus" in email.text
    assert "To Infohus Aarhus" in email.text
    assert "ingen personoplysninger" in email.text
    assert "no personal data" in email.text


def test_the_notice_is_retried_with_growing_waits_then_given_up() -> None:
    waits = [routing_notice.retry_delay(n) for n in range(1, routing_notice.MAX_ATTEMPTS)]
    assert waits == sorted(waits)
    assert waits[0] == timedelta(minutes=1)
    assert routing_notice.MAX_ATTEMPTS == 5
    assert routing_notice.retry_delay(99) == waits[-1]


def test_what_the_recipient_writes_is_encrypted_at_rest() -> None:
    columns = Routing.__table__.c
    assert isinstance(columns.next_step.type, EncryptedText)
    assert isinstance(columns.return_reason.type, EncryptedText)


def test_console_mode_logs_neither_the_address_nor_the_text() -> None:
    message = OutgoingEmail("infohus@kk.example.dk", "Ny henvisning: NAT-2026-00001", "hemmelig")
    with capture_logs() as logs:
        sent = ConsoleEmailSender().send(message)

    assert sent.status == "not_sent"
    assert logs == [
        {
            "event": "email_not_sent_console_mode",
            "log_level": "info",
            "to_domain": "kk.example.dk",
            "characters": len("hemmelig"),
        }
    ]
