"""A case's timeline as people read it: every event in words, with who did it and when.

`EVENT_LABELS` is the one table of what each CaseEvent kind is called; a new kind needs one
line there (and, if its detail should be shown, a writer in `DETAIL_WRITERS`). A kind missing
from both still shows: by its name, with no details. Besides the events the timeline shows the
hotline's replies (outbound messages) and the deadlines: when each started, was met, or passed.

`load` fetches what the entries name (notes, deadlines, other cases' references, staff names)
in a fixed number of queries; `entries` turns a loaded case page into display entries in the
reader's language (it is handed gettext and a time formatter, so it is tested without a page).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from access.models import StaffUser
from intake.models import Channel, MessageDirection
from triage.labels import CLOSE_REASON_LABELS, DEADLINE_LABELS, STATUS_LABELS
from triage.models import Case, CaseEvent, CaseNote, CloseReason, Deadline
from web.i18n import N_

if TYPE_CHECKING:
    from triage.case_page import CasePage

EVENT_LABELS: dict[str, str] = {
    "contact_received": N_("Contact received"),
    "case_opened": N_("Case opened"),
    "message_received": N_("Message received"),
    "link_proposed": N_("Link proposed"),
    "link_rejected": N_("Link rejected"),
    "contact_linked": N_("Contact linked"),
    "contact_moved": N_("Contact moved to another case"),
    "case_merged": N_("Another case merged into this one"),
    "merged_into": N_("Merged into another case"),
    "case_closed": N_("Case closed"),
    "status_changed": N_("Status changed"),
    "assigned": N_("Assigned"),
    "unassigned": N_("Assignment removed"),
    "note_added": N_("Internal note"),
    "triage_saved": N_("Triage draft started"),
    "triage_submitted": N_("Triage submitted"),
    "police_contact_recorded": N_("Police contact recorded"),
    "child_notification_sent": N_("Child welfare notification sent"),
    # Entries the timeline adds from other rows (not CaseEvents).
    "reply": N_("Reply to the reporter"),
    "deadline_started": N_("Deadline started"),
    "deadline_met": N_("Deadline met"),
    "deadline_passed": N_("Deadline passed"),
}

ACTOR_LABELS = {"system": N_("System"), "reporter": N_("Reporter"), "staff": N_("Staff")}
CHANNEL_LABELS = {
    Channel.WEB_FORM: N_("Web form"),
    Channel.PHONE: N_("Phone"),
    Channel.SMS: N_("SMS"),
    Channel.WHATSAPP: N_("WhatsApp"),
    Channel.WEB_CHAT: N_("Web chat"),
}
CALL_OUTCOME_LABELS = {
    "answered": N_("Answered"),
    "missed": N_("Missed"),
    "voicemail": N_("Voicemail"),
    "outside_hours": N_("Outside opening hours"),
}
LINK_REASON_LABELS = {
    "same_phone": N_("Same phone number"),
    "same_email": N_("Same e-mail address"),
}
BROUGHT_FORWARD_LABELS = {
    "received": N_("the time received"),
    "acute": N_("acute"),
    **{kind.value: label for kind, label in DEADLINE_LABELS.items()},
}

# Event details that name another case or a staff member, by id.
CASE_ID_KEYS = ("other_case_id", "from_case", "to_case", "into_case")
STAFF_ID_KEYS = ("assignee_id", "previous_assignee_id")


@dataclass(frozen=True)
class Detail:
    text: str
    href: str | None = None
    # Staff's own words (a note): shown as written, line breaks kept.
    own_words: bool = False


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str
    title: str
    actor: str
    details: tuple[Detail, ...] = ()


@dataclass
class TimelineData:
    """What the timeline names besides the events themselves."""

    notes: dict[int, CaseNote] = field(default_factory=dict)
    deadlines: list[Deadline] = field(default_factory=list)
    references: dict[int, str] = field(default_factory=dict)
    # The case this one was merged into (closed as merged), from its closing event.
    merged_into: int | None = None


def _ids(events: Iterable[CaseEvent], keys: tuple[str, ...]) -> set[int]:
    found: set[int] = set()
    for event in events:
        for key in keys:
            value = event.detail.get(key) if isinstance(event.detail, dict) else None
            if isinstance(value, int) and not isinstance(value, bool):
                found.add(value)
    return found


async def load(
    session: AsyncSession, case: Case, events: list[CaseEvent], staff_names: dict[int, str]
) -> TimelineData:
    """Notes, deadlines and the names the events refer to; adds missing staff to staff_names."""
    data = TimelineData(
        notes={
            n.id: n
            for n in await session.scalars(select(CaseNote).where(CaseNote.case_id == case.id))
        },
        deadlines=list(
            await session.scalars(
                select(Deadline)
                .where(Deadline.case_id == case.id)
                .order_by(Deadline.started_at, Deadline.id)
            )
        ),
    )
    if case.closed_reason is CloseReason.MERGED:
        for event in reversed(events):
            into = event.detail.get("into_case") if event.kind == "status_changed" else None
            if isinstance(into, int):
                data.merged_into = into
                break
    case_ids = _ids(events, CASE_ID_KEYS)
    if case_ids:
        data.references = dict(
            (
                await session.execute(select(Case.id, Case.reference).where(Case.id.in_(case_ids)))
            ).all()
        )
    wanted = _ids(events, STAFF_ID_KEYS) | {n.author_id for n in data.notes.values()}
    if case.assignee_id is not None:
        wanted.add(case.assignee_id)
    missing = wanted - set(staff_names)
    if missing:
        staff_names.update(
            (
                await session.execute(
                    select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(missing))
                )
            ).all()
        )
    return data


# --- entries -------------------------------------------------------------------------------


@dataclass
class Reader:
    """What writers need: the page, the reader's language and a time formatter."""

    page: CasePage
    gettext: Callable[[str], str]
    format_time: Callable[[datetime], str]

    def __call__(self, message: str, **values: Any) -> str:
        translated = self.gettext(message)
        return translated % values if values else translated

    def staff_name(self, staff_id: object) -> str:
        if isinstance(staff_id, int):
            name = self.page.staff_names.get(staff_id)
            if name:
                return name
        return self.label(ACTOR_LABELS, "staff")

    def case_link(self, message: str, case_id: object, **values: Any) -> Detail:
        """A sentence naming another case (`%(reference)s`), linked to it."""
        if not isinstance(case_id, int):
            return Detail(self(message, reference="–", **values))
        reference = self.page.timeline.references.get(case_id, f"#{case_id}")
        return Detail(self(message, reference=reference, **values), href=f"/cases/{case_id}")

    def label(self, table: dict[Any, str], key: object) -> str:
        found = table.get(key)
        return self.gettext(found) if found else str(key)


Writer = Callable[[CaseEvent, Reader], list[Detail]]


def _contact_received(event: CaseEvent, r: Reader) -> list[Detail]:
    details = []
    channel = event.detail.get("channel")
    if channel:
        details.append(Detail(r.label(CHANNEL_LABELS, channel)))
    if event.detail.get("acute"):
        details.append(Detail(r(N_("The reporter's answers mark it acute."))))
    view = next((v for v in r.page.contacts if v.contact.id == event.contact_id), None)
    if view is not None:
        for call in view.calls:
            if call.outcome is not None:
                details.append(
                    Detail(
                        r(
                            N_("Call: %(outcome)s"),
                            outcome=r.label(CALL_OUTCOME_LABELS, call.outcome.value),
                        )
                    )
                )
            if call.duration_seconds is not None:
                details.append(Detail(r(N_("%(seconds)d seconds"), seconds=call.duration_seconds)))
        if view.recordings:
            details.append(Detail(r(N_("Voicemail left")), href=f"#contact-{view.contact.id}"))
        if view.chat is not None:
            details.append(Detail(r(N_("%(count)d chat messages"), count=len(view.messages))))
    if event.contact_id is not None and view is not None:
        details.append(
            Detail(
                r(N_("Show contact %(id)s"), id=event.contact_id),
                href=f"#contact-{event.contact_id}",
            )
        )
    elif event.contact_id is not None:
        details.append(
            Detail(r(N_("Contact %(id)s, since moved to another case"), id=event.contact_id))
        )
    return details


def _message_received(event: CaseEvent, r: Reader) -> list[Detail]:
    details = []
    channel = event.detail.get("channel")
    if channel:
        details.append(Detail(r.label(CHANNEL_LABELS, channel)))
    message_id = event.detail.get("message_id")
    if isinstance(message_id, int) and any(
        m.id == message_id for v in r.page.contacts for m in v.messages
    ):
        details.append(Detail(r(N_("Show the message")), href=f"#message-{message_id}"))
    return details


def _status_changed(event: CaseEvent, r: Reader) -> list[Detail]:
    d = event.detail
    details = [
        Detail(
            r(
                N_("%(source)s → %(target)s"),
                source=r.label(STATUS_LABELS, d.get("from")),
                target=r.label(STATUS_LABELS, d.get("to")),
            )
        )
    ]
    if d.get("reason"):
        details.append(
            Detail(r(N_("Reason: %(reason)s"), reason=r.label(CLOSE_REASON_LABELS, d["reason"])))
        )
    if "into_case" in d:
        details.append(r.case_link(N_("Into case %(reference)s"), d["into_case"]))
    due = _time(d.get("triage_due_at"))
    if due is not None:
        details.append(Detail(r(N_("New triage deadline: %(due)s"), due=r.format_time(due))))
    details += _note(d.get("note_id"), r)
    return details


def _time(value: object) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


def _note(note_id: object, r: Reader) -> list[Detail]:
    if note_id is None:
        return []
    note = r.page.timeline.notes.get(note_id) if isinstance(note_id, int) else None
    if note is None:
        return [Detail(r(N_("The note is not available.")))]
    return [Detail(note.body, own_words=True)]


def _note_added(event: CaseEvent, r: Reader) -> list[Detail]:
    return _note(event.detail.get("note_id"), r)


def _assigned(event: CaseEvent, r: Reader) -> list[Detail]:
    return [
        Detail(r(N_("Assigned to %(name)s"), name=r.staff_name(event.detail.get("assignee_id"))))
    ]


def _unassigned(event: CaseEvent, r: Reader) -> list[Detail]:
    who = event.detail.get("previous_assignee_id", event.detail.get("assignee_id"))
    if who is None:
        return []
    return [Detail(r(N_("%(name)s is no longer assigned"), name=r.staff_name(who)))]


def _link_proposed(event: CaseEvent, r: Reader) -> list[Detail]:
    return [
        r.case_link(
            N_("Contact %(contact)s may belong to case %(reference)s (%(reason)s)"),
            event.detail.get("other_case_id"),
            contact=event.contact_id or "–",
            reason=r.label(LINK_REASON_LABELS, event.detail.get("reason")),
        )
    ]


def _link_rejected(event: CaseEvent, r: Reader) -> list[Detail]:
    return [
        Detail(
            r(
                N_("Contact %(contact)s does not belong to this case"),
                contact=event.contact_id or "–",
            )
        )
    ]


def _contact_linked(event: CaseEvent, r: Reader) -> list[Detail]:
    if "from_case" not in event.detail:
        return [Detail(r(N_("Contact %(contact)s"), contact=event.contact_id or "–"))]
    return [
        r.case_link(
            N_("Contact %(contact)s came from case %(reference)s"),
            event.detail["from_case"],
            contact=event.contact_id or "–",
        )
    ]


def _contact_moved(event: CaseEvent, r: Reader) -> list[Detail]:
    return [
        r.case_link(
            N_("Contact %(contact)s moved to case %(reference)s"),
            event.detail.get("to_case"),
            contact=event.contact_id or "–",
        )
    ]


def _contact_list(ids: object, r: Reader) -> list[Detail]:
    if not isinstance(ids, list) or not ids:
        return []
    return [Detail(r(N_("Contacts: %(ids)s"), ids=", ".join(str(i) for i in ids)))]


def _case_merged(event: CaseEvent, r: Reader) -> list[Detail]:
    d = event.detail
    details = [r.case_link(N_("Case %(reference)s was merged into this case"), d.get("from_case"))]
    details += _contact_list(d.get("contact_ids"), r)
    earlier = d.get("brought_forward")
    if isinstance(earlier, list) and earlier:
        details.append(
            Detail(
                r(
                    N_("Taken from the merged case because it was earlier: %(what)s"),
                    what=", ".join(r.label(BROUGHT_FORWARD_LABELS, k) for k in earlier),
                )
            )
        )
    return details


def _merged_into(event: CaseEvent, r: Reader) -> list[Detail]:
    d = event.detail
    details = [r.case_link(N_("This case was merged into case %(reference)s"), d.get("into_case"))]
    return details + _contact_list(d.get("contact_ids"), r)


DETAIL_WRITERS: dict[str, Writer] = {
    "contact_received": _contact_received,
    "message_received": _message_received,
    "status_changed": _status_changed,
    "note_added": _note_added,
    "assigned": _assigned,
    "unassigned": _unassigned,
    "link_proposed": _link_proposed,
    "link_rejected": _link_rejected,
    "contact_linked": _contact_linked,
    "contact_moved": _contact_moved,
    "case_merged": _case_merged,
    "merged_into": _merged_into,
}


def title(kind: str, gettext: Callable[[str], str]) -> str:
    """The kind's label in the reader's language; an unknown kind by its own name."""
    label = EVENT_LABELS.get(kind)
    return gettext(label) if label else kind.replace("_", " ").capitalize()


def actor_of(event: CaseEvent, r: Reader) -> str:
    if event.actor_id is not None:
        return r.staff_name(event.actor_id)
    return r.label(ACTOR_LABELS, event.actor_kind.value)


def entries(
    page: CasePage,
    *,
    gettext: Callable[[str], str],
    format_time: Callable[[datetime], str],
    now: datetime,
) -> list[Entry]:
    """The whole timeline, oldest first: events, the hotline's replies and the deadlines."""
    r = Reader(page, gettext, format_time)
    # (time, events before other rows at the same time, their own order, entry)
    rows: list[tuple[datetime, int, int, Entry]] = []
    for order, event in enumerate(page.events):
        writer = DETAIL_WRITERS.get(event.kind)
        details = tuple(writer(event, r)) if writer else ()
        rows.append(
            (
                event.at,
                0,
                order,
                Entry(
                    event.at, event.kind, title(event.kind, gettext), actor_of(event, r), details
                ),
            )
        )
    for view in page.contacts:
        if view.contact.channel is Channel.WEB_CHAT:
            continue  # the chat's transcript is the contact's own section
        for message in view.messages:
            if message.direction is not MessageDirection.OUTBOUND:
                continue
            rows.append(
                (
                    message.created_at,
                    1,
                    message.id,
                    Entry(
                        message.created_at,
                        "reply",
                        title("reply", gettext),
                        r.staff_name(message.staff_id),
                        (
                            Detail(r.label(CHANNEL_LABELS, view.contact.channel)),
                            Detail(r(N_("Show the reply")), href=f"#message-{message.id}"),
                        ),
                    ),
                )
            )
    system = r.label(ACTOR_LABELS, "system")
    for deadline in page.timeline.deadlines:
        kind = Detail(r.label(DEADLINE_LABELS, deadline.kind))
        due = Detail(r(N_("Due: %(due)s"), due=format_time(deadline.due_at)))
        rows.append(
            (
                deadline.started_at,
                1,
                deadline.id,
                Entry(
                    deadline.started_at,
                    "deadline_started",
                    title("deadline_started", gettext),
                    system,
                    (kind, due),
                ),
            )
        )
        if deadline.met_at is not None:
            rows.append(
                (
                    deadline.met_at,
                    2,
                    deadline.id,
                    Entry(
                        deadline.met_at,
                        "deadline_met",
                        title("deadline_met", gettext),
                        system,
                        (kind, due),
                    ),
                )
            )
        elif deadline.due_at <= now:
            rows.append(
                (
                    deadline.due_at,
                    2,
                    deadline.id,
                    Entry(
                        deadline.due_at,
                        "deadline_passed",
                        title("deadline_passed", gettext),
                        system,
                        (kind,),
                    ),
                )
            )
    rows.sort(key=lambda row: row[:3])
    return [row[3] for row in rows]
