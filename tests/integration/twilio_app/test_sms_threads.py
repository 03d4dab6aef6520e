"""SMS and WhatsApp threads through the real app: Twilio webhooks in, staff replies out by a job.

Webhooks are signed exactly as Twilio signs them (for the public URL); sending goes through a
recording fake of the SmsSender port; time moves only with the frozen clock.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from access.models import AuditEntry, Role
from bootstrap import Deps
from clock import FrozenClock
from intake.models import (
    Channel,
    Contact,
    Message,
    MessageDirection,
    PhoneOptOut,
    PhoneStatus,
    ProviderStatusEvent,
    ReporterRole,
)
from jobqueue import send_messages
from notifications.ports import SendFailed
from tests.support.forms import open_form, valid_answers
from tests.support.jobs import run_jobs
from tests.support.messaging import (
    COPENHAGEN_NUMBER,
    INBOUND_PATH,
    NATIONAL_NUMBER,
    REPORTER,
    STATUS_PATH,
    RecordingSender,
    inbound_fields,
    post_reply,
    post_signed,
    read_thread,
    status_fields,
)
from tests.support.staff import create_staff, log_in, logged_in, staff_api_headers
from tests.support.twilio_signing import PUBLIC_BASE_URL, sign_form
from triage.models import Case, CaseEvent
from worker import Sweeper

pytestmark = pytest.mark.asyncio

STATUS_CALLBACK = PUBLIC_BASE_URL + STATUS_PATH


# --- helpers -------------------------------------------------------------------------------


async def inbound(client: Any, body: str, **kwargs: Any) -> Any:
    response = await post_signed(client, INBOUND_PATH, inbound_fields(body, **kwargs))
    assert response.status == 200, await response.text()
    return response


async def status_callback(
    client: Any, sid: str, status: str, error_code: str | None = None
) -> None:
    response = await post_signed(client, STATUS_PATH, status_fields(sid, status, error_code))
    assert response.status == 204, await response.text()


async def contacts(deps: Deps) -> list[Contact]:
    async with deps.sessions() as session:
        return list((await session.scalars(select(Contact).order_by(Contact.id))).all())


async def messages(deps: Deps) -> list[Message]:
    async with deps.sessions() as session:
        return list((await session.scalars(select(Message).order_by(Message.id))).all())


async def count(deps: Deps, model: type[Any]) -> int:
    async with deps.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def sms_contact(client: Any, deps: Deps, body: str = "Hej, jeg er bekymret.") -> int:
    """A reporter's first SMS, taken in; returns the contact id."""
    await inbound(client, body)
    await run_jobs(deps)
    (contact,) = await contacts(deps)
    return contact.id


def sweep(deps: Deps) -> int:
    """Sweep as the worker does; how many outbound messages it enqueued (the other sweeps, e.g.
    the escalation of the case's deadlines, may find work of their own)."""
    sweeper = Sweeper(deps.job_context())
    sweeper.sweep(take_turn=False)
    return sweeper.found["pending_messages"]


# --- messages in ---------------------------------------------------------------------------


async def test_a_first_sms_opens_a_contact_and_a_case_and_the_next_joins_it(
    client: Any, deps: Deps
) -> None:
    response = await inbound(client, "Min bror deler voldelige videoer.")
    assert response.content_type == "text/xml"
    assert "<Response" in await response.text()
    await run_jobs(deps)

    (contact,) = await contacts(deps)
    assert contact.channel is Channel.SMS
    assert contact.hotline_id == "national"
    assert contact.hotline_address == NATIONAL_NUMBER
    assert contact.reporter_phone_status is PhoneStatus.VALID
    assert contact.reporter_phone_e164 == REPORTER
    assert contact.reporter_phone_lookup == deps.cipher.lookup_hash("phone", REPORTER)
    assert contact.reporter_phone_raw is None
    assert contact.reporter_role is ReporterRole.UNKNOWN
    assert contact.anonymous is False
    assert contact.answers == {"form_version": 1, "thread": True}
    assert contact.case_id is not None

    queue = await client.get("/api/v1/queue")
    assert queue.status == 401  # staff only; now log in and look
    await logged_in(client, deps)
    items = (await (await client.get("/api/v1/queue")).json())["items"]
    assert [(i["id"], i["channel"]) for i in items] == [(contact.case_id, "sms")]

    await inbound(client, "Han har også købt en kniv.")
    await run_jobs(deps)
    (same,) = await contacts(deps)
    assert same.id == contact.id
    assert await count(deps, Case) == 1
    stored = await messages(deps)
    assert [m.body for m in stored] == [
        "Min bror deler voldelige videoer.",
        "Han har også købt en kniv.",
    ]
    assert {m.direction for m in stored} == {MessageDirection.INBOUND}
    assert {m.status for m in stored} == {"received"}
    async with deps.sessions() as session:
        events = (
            await session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == contact.case_id).order_by(CaseEvent.id)
            )
        ).all()
    assert [e.kind for e in events] == ["contact_received", "case_opened", "message_received"]
    assert events[-1].detail == {"channel": "sms", "message_id": stored[1].id}
    assert events[-1].contact_id == contact.id


async def test_a_message_before_the_take_in_joins_without_a_timeline_entry(
    client: Any, deps: Deps
) -> None:
    await inbound(client, "Første besked.")
    await inbound(client, "Anden besked, før jobbet har kørt.")
    await run_jobs(deps)
    (contact,) = await contacts(deps)
    assert len(await messages(deps)) == 2
    async with deps.sessions() as session:
        kinds = (await session.scalars(select(CaseEvent.kind).order_by(CaseEvent.id))).all()
    assert list(kinds) == ["contact_received", "case_opened"]
    assert contact.case_id is not None


async def test_whatsapp_opens_its_own_contact_and_the_queue_shows_both_channels(
    client: Any, deps: Deps
) -> None:
    await inbound(client, "Via sms.")
    await inbound(client, "Via WhatsApp.", whatsapp=True)
    await inbound(client, "Til den københavnske linje.", to=COPENHAGEN_NUMBER)
    await run_jobs(deps)

    sms, whatsapp, copenhagen = await contacts(deps)
    assert (sms.channel, sms.hotline_id) == (Channel.SMS, "national")
    assert (whatsapp.channel, whatsapp.hotline_id) == (Channel.WHATSAPP, "national")
    assert whatsapp.hotline_address == f"whatsapp:{NATIONAL_NUMBER}"
    assert whatsapp.reporter_phone_e164 == REPORTER
    assert (copenhagen.channel, copenhagen.hotline_id) == (Channel.SMS, "copenhagen")
    assert len({sms.case_id, whatsapp.case_id, copenhagen.case_id}) == 3

    await logged_in(client, deps)
    items = (await (await client.get("/api/v1/queue")).json())["items"]
    assert sorted((i["hotline"], i["channel"]) for i in items) == [
        ("copenhagen", "sms"),
        ("national", "sms"),
        ("national", "whatsapp"),
    ]


async def test_a_retried_webhook_stores_one_message(client: Any, deps: Deps) -> None:
    fields = inbound_fields("Samme besked to gange.")
    for _ in range(2):
        response = await post_signed(client, INBOUND_PATH, fields)
        assert response.status == 200
    await run_jobs(deps)
    assert await count(deps, Message) == 1
    assert await count(deps, Contact) == 1
    assert await count(deps, Case) == 1


async def test_a_closed_case_starts_a_new_conversation(client: Any, deps: Deps) -> None:
    first = await sms_contact(client, deps)
    async with deps.sessions() as session, session.begin():
        await session.execute(update(Case).values(closed_at=deps.clock.now()))
    await inbound(client, "Jeg skriver igen, der er sket noget nyt.")
    await run_jobs(deps)
    old, new = await contacts(deps)
    assert old.id == first
    assert new.channel is Channel.SMS
    assert new.case_id not in (None, old.case_id)


async def test_a_withheld_sender_is_stored_without_a_number_and_cannot_be_answered(
    client: Any, deps: Deps
) -> None:
    await inbound(client, "Jeg vil ikke sige, hvem jeg er.", sender="anonymous")
    await inbound(client, "Og en besked til.", sender="anonymous")
    await inbound(client, "Et ulæseligt nummer.", sender="12")
    await run_jobs(deps)

    withheld, withheld_again, unreadable = await contacts(deps)
    for contact in (withheld, withheld_again):
        assert contact.reporter_phone_status is PhoneStatus.WITHHELD
        assert contact.anonymous is True
    assert unreadable.reporter_phone_status is PhoneStatus.INVALID
    for contact in (withheld, withheld_again, unreadable):
        assert contact.reporter_phone_e164 is None
        assert contact.reporter_phone_lookup is None
        assert contact.reporter_phone_raw is None

    headers = await staff_api_headers(client, deps)
    response = await post_reply(client, withheld.id, "Tak for din besked.", headers)
    assert response.status == 409
    error = (await response.json())["error"]
    assert error["reason"] == "no_number"
    assert "withheld" in error["message"]
    shown = await read_thread(client, unreadable.id)
    assert shown["can_reply"] is False
    assert shown["reply_refused"]["code"] == "no_number"


async def test_a_message_to_an_unknown_number_is_refused_and_nothing_stored(
    client: Any, deps: Deps
) -> None:
    for to in ("+4520000000", "+4599999999", "not-a-number"):
        response = await post_signed(client, INBOUND_PATH, inbound_fields("Hej", to=to))
        assert 400 <= response.status < 500, to
    assert await count(deps, Contact) == 0
    assert await count(deps, Message) == 0


@pytest.mark.parametrize("path", [INBOUND_PATH, STATUS_PATH])
async def test_unsigned_or_tampered_webhooks_are_refused_and_store_nothing(
    client: Any, deps: Deps, path: str
) -> None:
    fields = (
        inbound_fields("Hej")
        if path == INBOUND_PATH
        else status_fields("SM" + "f" * 32, "delivered")
    )
    unsigned = await client.post(path, data=fields)
    assert unsigned.status == 403
    tampered = dict(fields)
    signature = sign_form(PUBLIC_BASE_URL + path, fields)
    tampered["Body" if path == INBOUND_PATH else "MessageStatus"] = "changed"
    response = await post_signed(client, path, tampered, signature=signature)
    assert response.status == 403
    wrong_url = await post_signed(
        client, path, fields, signature=sign_form("https://elsewhere.example" + path, fields)
    )
    assert wrong_url.status == 403

    await run_jobs(deps)
    assert await count(deps, Contact) == 0
    assert await count(deps, Message) == 0
    assert await count(deps, ProviderStatusEvent) == 0


# --- replies out -----------------------------------------------------------------------------


async def test_a_reply_is_sent_by_the_job_and_delivery_reports_in_any_order_end_delivered(
    client: Any, deps: Deps, sender: RecordingSender
) -> None:
    contact_id = await sms_contact(client, deps)
    headers = await staff_api_headers(client, deps)

    response = await post_reply(client, contact_id, "  Tak. Må vi ringe dig op i dag?  ", headers)
    assert response.status == 202, await response.text()
    answer = await response.json()
    assert answer["status"] == "pending"
    shown = await read_thread(client, contact_id)
    assert [m["status"] for m in shown["messages"]] == ["received", "pending"]
    assert shown["messages"][1]["direction"] == "outbound"
    assert shown["messages"][1]["body"] == "Tak. Må vi ringe dig op i dag?"

    # A report arrives before the job stored the sid (Twilio can be that fast): kept, not lost.
    sid = sender.next_sid()
    await status_callback(client, sid, "sent")
    assert await count(deps, ProviderStatusEvent) == 1

    await run_jobs(deps)
    assert sender.calls == [
        {
            "to": REPORTER,
            "from_": NATIONAL_NUMBER,
            "body": "Tak. Må vi ringe dig op i dag?",
            "status_callback": STATUS_CALLBACK,
        }
    ]
    outbound = (await messages(deps))[-1]
    assert outbound.id == answer["id"]
    assert outbound.provider_id == sid
    assert outbound.status == "sent"  # the early report, applied on top of "queued"
    assert outbound.attempts == 1
    assert await count(deps, ProviderStatusEvent) == 0

    # Out of order and repeated: delivered overtakes sent; late and duplicate reports change
    # nothing.
    for status in ("delivered", "sent", "delivered", "queued", "sending"):
        await status_callback(client, sid, status)
    outbound = (await messages(deps))[-1]
    assert outbound.status == "delivered"
    assert outbound.error_code is None

    # The job again (rq may run it twice): nothing is sent twice.
    deps.queue.enqueue(send_messages([outbound.id]))
    await run_jobs(deps)
    assert len(sender.calls) == 1
    shown = await read_thread(client, contact_id)
    assert shown["messages"][1]["status"] == "delivered"
    assert shown["opted_out"] is False
    assert shown["can_reply"] is True


async def test_a_whatsapp_reply_goes_from_the_whatsapp_address(
    client: Any, deps: Deps, sender: RecordingSender
) -> None:
    await inbound(client, "Hello, I am worried about my daughter.", whatsapp=True)
    await run_jobs(deps)
    (contact,) = await contacts(deps)
    headers = await staff_api_headers(client, deps)
    assert (await post_reply(client, contact.id, "Thank you for writing.", headers)).status == 202
    await run_jobs(deps)
    assert sender.calls[0]["to"] == f"whatsapp:{REPORTER}"
    assert sender.calls[0]["from_"] == f"whatsapp:{NATIONAL_NUMBER}"
    sid = (await messages(deps))[-1].provider_id
    assert sid
    await status_callback(client, sid, "read")
    await status_callback(client, sid, "delivered")
    assert (await messages(deps))[-1].status == "read"


async def test_a_refused_send_is_shown_as_failed_with_the_reason(
    client: Any, deps: Deps, clock: FrozenClock, sender: RecordingSender
) -> None:
    contact_id = await sms_contact(client, deps)
    headers = await staff_api_headers(client, deps)
    sender.outcomes = [
        SendFailed("21211", "The 'To' number is not a valid phone number.", retryable=False)
    ]
    assert (await post_reply(client, contact_id, "Hej igen.", headers)).status == 202
    await run_jobs(deps)

    shown = await read_thread(client, contact_id)
    failed = shown["messages"][-1]
    assert failed["status"] == "failed"
    assert failed["error"] == {
        "code": "21211",
        "message": "The 'To' number is not a valid phone number.",
    }
    # Never retried: the sweeper leaves it alone.
    clock.advance(timedelta(hours=2))
    assert sweep(deps) == 0
    assert len(sender.calls) == 1


async def test_an_undelivered_report_marks_a_sent_message_failed_with_the_reason(
    client: Any, deps: Deps, sender: RecordingSender
) -> None:
    contact_id = await sms_contact(client, deps)
    headers = await staff_api_headers(client, deps)
    assert (await post_reply(client, contact_id, "Hej igen.", headers)).status == 202
    await run_jobs(deps)
    sid = (await messages(deps))[-1].provider_id
    assert sid
    await status_callback(client, sid, "undelivered", "30003")
    await status_callback(client, sid, "sent")
    failed = (await read_thread(client, contact_id))["messages"][-1]
    assert failed["status"] == "undelivered"
    assert failed["error"]["code"] == "30003"
    assert "unreachable" in failed["error"]["message"]


async def test_a_retryable_failure_waits_and_the_sweeper_sends_it_again(
    client: Any, deps: Deps, clock: FrozenClock, sender: RecordingSender
) -> None:
    contact_id = await sms_contact(client, deps)
    headers = await staff_api_headers(client, deps)
    sender.outcomes = [SendFailed("unreachable", "ConnectionError", retryable=True)]
    assert (await post_reply(client, contact_id, "Hej igen.", headers)).status == 202
    await run_jobs(deps)

    pending = (await messages(deps))[-1]
    assert pending.status == "pending"
    assert pending.attempts == 1
    assert pending.next_attempt_at == clock.now() + timedelta(seconds=30)
    assert pending.error_code == "unreachable"
    shown = (await read_thread(client, contact_id))["messages"][-1]
    assert shown["next_attempt_at"] == pending.next_attempt_at.isoformat()

    assert sweep(deps) == 0  # not due yet
    clock.advance(timedelta(seconds=31))
    assert sweep(deps) == 1
    await run_jobs(deps)
    sent = (await messages(deps))[-1]
    assert sent.status == "queued"
    assert sent.provider_id == "SM" + f"{1:032x}"
    assert sent.attempts == 2
    assert sent.next_attempt_at is None
    assert sent.error_code is None
    assert len(sender.calls) == 2


async def test_after_five_failed_attempts_the_message_is_failed_with_the_last_reason(
    client: Any, deps: Deps, clock: FrozenClock, sender: RecordingSender
) -> None:
    contact_id = await sms_contact(client, deps)
    headers = await staff_api_headers(client, deps)
    sender.outcomes = [
        SendFailed("503", f"Service unavailable ({n})", retryable=True) for n in range(1, 6)
    ]
    assert (await post_reply(client, contact_id, "Hej igen.", headers)).status == 202
    await run_jobs(deps)
    waits = []
    for _ in range(4):
        pending = (await messages(deps))[-1]
        assert pending.status == "pending"
        assert pending.next_attempt_at is not None
        waits.append(pending.next_attempt_at - clock.now())
        clock.set(pending.next_attempt_at)
        assert sweep(deps) == 1
        await run_jobs(deps)
    assert waits == [
        timedelta(seconds=30),
        timedelta(minutes=2),
        timedelta(minutes=10),
        timedelta(minutes=30),
    ]
    failed = (await messages(deps))[-1]
    assert failed.status == "failed"
    assert failed.attempts == 5
    assert (failed.error_code, failed.error_message) == ("503", "Service unavailable (5)")
    assert failed.next_attempt_at is None
    clock.advance(timedelta(days=1))
    assert sweep(deps) == 0
    assert len(sender.calls) == 5


async def test_a_reply_whose_enqueue_was_lost_is_found_by_the_sweeper(
    client: Any, deps: Deps, clock: FrozenClock, sender: RecordingSender
) -> None:
    contact_id = await sms_contact(client, deps)
    headers = await staff_api_headers(client, deps)
    assert (await post_reply(client, contact_id, "Hej igen.", headers)).status == 202
    await deps.enqueuer.drain()
    deps.redis.flushdb()  # Redis restarted empty: the job is gone, the row is not

    assert sweep(deps) == 0  # within the grace period the job may still come
    clock.advance(timedelta(seconds=deps.settings.sweep_grace_seconds + 1))
    assert sweep(deps) == 1
    await run_jobs(deps)
    assert (await messages(deps))[-1].status == "queued"
    assert len(sender.calls) == 1


# --- opting out ----------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["STOP", "afmeld", "  Stop  Alle "])
async def test_an_opt_out_word_stops_replies_until_start(
    client: Any, deps: Deps, sender: RecordingSender, word: str
) -> None:
    contact_id = await sms_contact(client, deps)
    headers = await staff_api_headers(client, deps)
    await inbound(client, word)
    await run_jobs(deps)

    async with deps.sessions() as session:
        opt_out = await session.get(PhoneOptOut, deps.cipher.lookup_hash("phone", REPORTER))
    assert opt_out is not None
    assert [m.body for m in await messages(deps)][-1] == word  # stored like any message
    shown = await read_thread(client, contact_id)
    assert shown["opted_out"] is True
    assert shown["reply_refused"]["code"] == "opted_out"

    before = await count(deps, Message)
    response = await post_reply(client, contact_id, "Hej?", headers)
    assert response.status == 409
    error = (await response.json())["error"]
    assert error["code"] == 409
    assert error["reason"] == "opted_out"
    assert "opted out" in error["message"]
    await run_jobs(deps)
    assert await count(deps, Message) == before
    assert sender.calls == []

    await inbound(client, "start")
    async with deps.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(PhoneOptOut)) == 0
    assert (await post_reply(client, contact_id, "Tak, vi skriver igen.", headers)).status == 202
    await run_jobs(deps)
    assert len(sender.calls) == 1


async def test_a_reply_queued_before_the_opt_out_is_never_sent(
    client: Any, deps: Deps, sender: RecordingSender
) -> None:
    contact_id = await sms_contact(client, deps)
    headers = await staff_api_headers(client, deps)
    assert (await post_reply(client, contact_id, "Hej igen.", headers)).status == 202
    await inbound(client, "STOP")  # arrives before the send job runs
    await run_jobs(deps)
    assert sender.calls == []
    failed = (await read_thread(client, contact_id))["messages"][1]
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "opted_out"


async def test_a_sentence_with_stop_in_it_is_not_an_opt_out(client: Any, deps: Deps) -> None:
    await inbound(client, "Stop ham, før han gør noget!")
    await inbound(client, "stop det")
    assert await count(deps, PhoneOptOut) == 0


# --- the staff API -------------------------------------------------------------------------


async def test_reading_a_thread_is_audited(client: Any, deps: Deps) -> None:
    contact_id = await sms_contact(client, deps)
    await staff_api_headers(client, deps)
    shown = await read_thread(client, contact_id)
    assert shown["contact_id"] == contact_id
    assert shown["channel"] == "sms"
    assert [m["body"] for m in shown["messages"]] == ["Hej, jeg er bekymret."]
    async with deps.sessions() as session:
        entries = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "read_messages"))
        ).all()
    assert len(entries) == 1
    assert (entries[0].subject_kind, entries[0].subject_id) == ("contact", str(contact_id))
    assert entries[0].actor_id is not None
    assert "bekymret" not in str(entries[0].detail)


async def test_replies_are_validated_and_refused_with_clear_answers(
    client: Any, deps: Deps, sender: RecordingSender
) -> None:
    contact_id = await sms_contact(client, deps)
    headers = await staff_api_headers(client, deps)
    for body in ("", "   ", "x" * 1601):
        response = await post_reply(client, contact_id, body, headers)
        assert response.status == 400
        assert (await response.json())["error"]["field"] == "body"
    assert (await post_reply(client, contact_id, "x" * 1600, headers)).status == 202
    bad_json = await client.post(
        f"/api/v1/contacts/{contact_id}/replies", data="not json", headers=headers
    )
    assert bad_json.status == 400
    assert (await bad_json.json())["error"]["field"] == "body"
    missing = await post_reply(client, 999999, "Hej", headers)
    assert missing.status == 404
    assert (await client.get("/api/v1/contacts/999999/messages")).status == 404

    # A web-form contact's reply is sent nowhere: it waits on the follow-up page
    # (tests/integration/test_follow_up_thread.py); the sender below sees only the SMS.
    token = await open_form(client)
    form = await client.post("/report/national", data={"csrf_token": token, **valid_answers()})
    assert form.status == 200
    await run_jobs(deps)
    web_form = next(c for c in await contacts(deps) if c.channel is Channel.WEB_FORM)
    stored = await post_reply(client, web_form.id, "Hej", headers)
    assert stored.status == 201
    assert (await stored.json())["status"] == "available"

    # Without the CSRF header a staff POST is refused.
    no_token = await client.post(f"/api/v1/contacts/{contact_id}/replies", json={"body": "Hej"})
    assert no_token.status == 403
    await run_jobs(deps)
    assert len(sender.calls) == 1


async def test_messages_arriving_at_once_share_one_conversation(client: Any, deps: Deps) -> None:
    """Twilio posts a burst of messages concurrently; retries of one may overlap too."""
    retried = inbound_fields("Den samme, to gange på én gang.")
    answers = await asyncio.gather(
        *[post_signed(client, INBOUND_PATH, inbound_fields(f"Besked {n}")) for n in range(6)],
        post_signed(client, INBOUND_PATH, retried),
        post_signed(client, INBOUND_PATH, retried),
    )
    assert [a.status for a in answers] == [200] * 8
    await run_jobs(deps)
    assert await count(deps, Contact) == 1
    assert await count(deps, Case) == 1
    assert await count(deps, Message) == 7


async def test_threads_are_for_hotline_staff_only(client: Any, deps: Deps) -> None:
    contact_id = await sms_contact(client, deps)
    create_staff(deps, username="infohus", role=Role.COORDINATOR)
    response = await log_in(client, username="infohus")
    assert response.status == 303
    assert (await client.get(f"/api/v1/contacts/{contact_id}/messages")).status == 403
    async with deps.sessions() as session:
        read = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "read_messages")
        )
    assert read == 0
