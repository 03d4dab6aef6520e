"""SMS/WhatsApp thread rules: opt-out words, status order, retries, who can be answered."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from intake import delivery
from intake.models import Channel, Contact, Message, MessageDirection, PhoneStatus
from intake.opt_out import Keyword, keyword_in

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("STOP", Keyword.OPT_OUT),
        (" stop ", Keyword.OPT_OUT),
        ("Afmeld", Keyword.OPT_OUT),
        ("stop  alle", Keyword.OPT_OUT),
        ("UNSUBSCRIBE", Keyword.OPT_OUT),
        ("quit", Keyword.OPT_OUT),
        ("START", Keyword.OPT_IN),
        ("unstop", Keyword.OPT_IN),
        ("Yes", Keyword.OPT_IN),
        ("tilmeld", Keyword.OPT_IN),
        ("ja", None),
        ("stop ham", None),
        ("Kan I stoppe ham?", None),
        ("", None),
    ],
)
def test_only_a_whole_message_is_a_keyword(body: str, expected: Keyword | None) -> None:
    assert keyword_in(body) is expected


def _outbound(status: str) -> Message:
    return Message(
        direction=MessageDirection.OUTBOUND,
        body="x",
        status=status,
        status_at=NOW,
        created_at=NOW,
        attempts=1,
    )


ORDERED = ["pending", "queued", "sending", "sent", "delivered", "undelivered", "failed", "read"]


def test_statuses_only_move_forward() -> None:
    for lower, higher in itertools.combinations(ORDERED, 2):
        assert delivery.advances(lower, higher), (lower, higher)
        assert not delivery.advances(higher, lower), (higher, lower)
    for status in ORDERED:
        assert not delivery.advances(status, status)
    assert not delivery.advances("queued", "partially_delivered")


@pytest.mark.parametrize("order", list(itertools.permutations(["queued", "sent", "delivered"])))
def test_the_end_state_does_not_depend_on_the_order_of_reports(order: tuple[str, ...]) -> None:
    message = _outbound("pending")
    for status in order:
        delivery.apply_status(message, status, error_code=None, error_message=None, now=NOW)
    assert message.status == "delivered"


def test_a_failure_report_records_its_reason() -> None:
    message = _outbound("sent")
    assert delivery.apply_status(
        message, "undelivered", error_code="30003", error_message=None, now=NOW
    )
    assert (message.error_code, message.error_message) == (
        "30003",
        "the provider reported undelivered",
    )


def test_retries_back_off_then_stop() -> None:
    delays = [delivery.retry_delay(n) for n in range(1, delivery.MAX_ATTEMPTS)]
    assert delays == [
        timedelta(seconds=30),
        timedelta(minutes=2),
        timedelta(minutes=10),
        timedelta(minutes=30),
    ]
    assert delivery.MAX_ATTEMPTS == 5


def _contact(**overrides: object) -> Contact:
    values: dict[str, object] = {
        "channel": Channel.SMS,
        "anonymous": False,
        "reporter_phone_status": PhoneStatus.VALID,
        "reporter_phone_e164": "+4520123456",
        "reporter_phone_lookup": "hash",
        "hotline_address": "+4541749090",
    }
    values.update(overrides)
    return Contact(**values)


def test_who_can_be_answered() -> None:
    assert delivery.reply_refusal(_contact(), opted_out=False) is None
    assert delivery.reply_refusal(_contact(), opted_out=True) is delivery.OPTED_OUT
    assert (
        delivery.reply_refusal(_contact(channel=Channel.PHONE), opted_out=False)
        is delivery.NOT_A_MESSAGE_CHANNEL
    )
    for withheld in (
        {"reporter_phone_status": PhoneStatus.WITHHELD, "reporter_phone_e164": None},
        {"anonymous": True},
        {"reporter_phone_lookup": None},
    ):
        assert delivery.reply_refusal(_contact(**withheld), opted_out=False) is delivery.NO_NUMBER
    assert delivery.reply_refusal(_contact(hotline_address=None), opted_out=False) is (
        delivery.NO_SENDER
    )


def test_web_form_replies_wait_on_the_follow_up_page() -> None:
    web_form = _contact(
        channel=Channel.WEB_FORM,
        anonymous=True,
        reporter_phone_status=PhoneStatus.NONE,
        reporter_phone_e164=None,
        reporter_phone_lookup=None,
        hotline_address=None,
        receipt_hash="a" * 64,
    )
    assert delivery.on_follow_up_page(web_form)
    assert delivery.reply_refusal(web_form, opted_out=False) is None
    # An SMS opt-out of the reporter's number is no reason to hide a reply on the page.
    assert delivery.reply_refusal(web_form, opted_out=True) is None
    assert delivery.reply_status(web_form) == delivery.AVAILABLE
    assert delivery.reply_status(_contact()) == delivery.PENDING
    web_form.receipt_hash = None
    assert delivery.reply_refusal(web_form, opted_out=False) is delivery.NO_RECEIPT
    # Available comes after the sending statuses and before read, which records the reading.
    assert delivery.advances(delivery.PENDING, delivery.AVAILABLE)
    assert delivery.advances(delivery.AVAILABLE, delivery.READ)
    assert not delivery.advances(delivery.READ, delivery.AVAILABLE)


def test_whatsapp_replies_carry_the_prefix() -> None:
    assert delivery.recipient_address(_contact()) == "+4520123456"
    assert delivery.recipient_address(_contact(channel=Channel.WHATSAPP)) == "whatsapp:+4520123456"
