"""The alert engine's rules that need no database (pure): who gets a round, on which channels,
what falls back to what, how often a provider is retried, the short acknowledgement code, and the
texts of an alert SMS and e-mail.

**Channels.** Every recipient of every round sees the alert in the app (`/alerts`). Besides, by
the step's kind: a reminder by e-mail, a warning by SMS, "approaching" and "overdue" by a voice
call and an SMS at once (the call wakes, the SMS carries the code and the link). A channel the
recipient cannot be reached on (no phone, no e-mail) is replaced by the next one in the
fallback order **voice → SMS → e-mail**, and so is a channel whose attempt fails: refused,
retries used up, interrupted, not sent (console mode) or reported failed by the provider. So an
outage at Twilio ends in an e-mail, not in silence.

**Recipients.** A round goes to one person of a ladder that depends on the step's audience: the
case's assignee (then the on-call chain, for an unassigned case or one whose assignee cannot be
reached), the team lead, or the on-call chain (on call now, next, team lead —
`oncall_service.escalation_chain`). The position moves up one every `escalate_after`
(`escalation.chain_position`); the last person keeps it. "On call and team lead" adds the team
lead to every round.

**Texts** hold the case reference, the kind of deadline and alert, the code and a link: never
anything about the person of concern.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from notifications.alert_models import AlertChannel
from notifications.escalation import Audience, StepKind
from notifications.ports import OutgoingEmail
from notifications.staff_contacts import StaffContact
from triage.deadline_clock import DeadlineKind

FALLBACK_ORDER = (AlertChannel.VOICE, AlertChannel.SMS, AlertChannel.EMAIL)
CHANNELS = {
    StepKind.REMINDER: (AlertChannel.EMAIL,),
    StepKind.WARNING: (AlertChannel.SMS,),
    StepKind.APPROACHING: (AlertChannel.VOICE, AlertChannel.SMS),
    StepKind.OVERDUE: (AlertChannel.VOICE, AlertChannel.SMS),
}
_NEEDS_PHONE = frozenset({AlertChannel.VOICE, AlertChannel.SMS})

# A retryable provider failure is tried again after these waits; the try after the last wait
# is the last, and its failure hands over to the next channel.
RETRY_DELAYS = (timedelta(seconds=15), timedelta(seconds=45))
MAX_TRIES = len(RETRY_DELAYS) + 1
# A try still in flight after this long was interrupted (longer than any provider's timeout).
SENDING_TIMEOUT = timedelta(minutes=2)
# A new attempt is tried by the job that made it; the sweeper takes it up only after this.
FIRST_TRY_GRACE = timedelta(seconds=30)

CODE_DIGITS = 6
# "OK 123456", "ok123456", "Ok: 123 456." — a reply that is only the word and the code.
_ACK_REPLY = re.compile(rf"^\W*ok\W*((?:\d\s?){{{CODE_DIGITS}}})\W*$", re.IGNORECASE)


def reachable(channel: AlertChannel, person: StaffContact) -> bool:
    if channel in _NEEDS_PHONE:
        return person.active and person.phone_e164 is not None
    if channel is AlertChannel.EMAIL:
        return person.active and person.email is not None
    return person.active


def fallback_channel(
    failed: AlertChannel, person: StaffContact, used: Collection[AlertChannel]
) -> AlertChannel | None:
    """The channel after `failed` in the fallback order that the person can be reached on and
    that was not used for them in this round; None when none is left."""
    if failed not in FALLBACK_ORDER:
        return None
    for channel in FALLBACK_ORDER[FALLBACK_ORDER.index(failed) + 1 :]:
        if channel not in used and reachable(channel, person):
            return channel
    return None


def channels_for(kind: StepKind, person: StaffContact) -> tuple[AlertChannel, ...]:
    """The external channels of a round for one person: the step's, each replaced by its
    fallback when the person cannot be reached on it (the app comes on top, always)."""
    chosen: list[AlertChannel] = []
    for channel in CHANNELS[kind]:
        candidate: AlertChannel | None = channel
        if not reachable(channel, person):
            candidate = fallback_channel(channel, person, (*CHANNELS[kind], *chosen))
        if candidate is not None and candidate not in chosen:
            chosen.append(candidate)
    return tuple(chosen)


def retry_delay(tries: int) -> timedelta | None:
    """The wait after the `tries`-th failed try (1-based), or None: no retry is left."""
    if tries >= MAX_TRIES:
        return None
    return RETRY_DELAYS[tries - 1]


# --- recipients ------------------------------------------------------------------------------


def ladder(
    audience: Audience,
    *,
    assignee: StaffContact | None,
    chain: Sequence[StaffContact],
    team_lead: StaffContact | None,
) -> list[StaffContact]:
    """The people a round may go to, in the order the alert moves up through them."""
    people: list[StaffContact] = []
    if audience is Audience.ASSIGNEE and assignee is not None and assignee.active:
        people.append(assignee)
    if audience is Audience.TEAM_LEAD and team_lead is not None and team_lead.active:
        people.append(team_lead)
    if audience is not Audience.TEAM_LEAD or not people:
        # The team lead's warning with no lead designated goes to the chain instead.
        people.extend(person for person in chain if all(p.id != person.id for p in people))
    return people


def recipients(
    audience: Audience,
    position: int,
    *,
    assignee: StaffContact | None,
    chain: Sequence[StaffContact],
    team_lead: StaffContact | None,
) -> list[StaffContact]:
    """Who a round at chain `position` goes to (empty: nobody can be reached; the alert still
    shows in the app)."""
    people = ladder(audience, assignee=assignee, chain=chain, team_lead=team_lead)
    chosen = [people[min(position, len(people) - 1)]] if people else []
    if (
        audience is Audience.ON_CALL_AND_TEAM_LEAD
        and team_lead is not None
        and team_lead.active
        and all(p.id != team_lead.id for p in chosen)
    ):
        chosen.append(team_lead)
    return chosen


def due_round(fired_at: datetime, now: datetime, repeat_every: timedelta) -> int:
    """The round of an alert's grid (round n at fired_at + n·repeat_every) that is due now."""
    return max(0, (now - fired_at) // repeat_every)


# --- the acknowledgement code ------------------------------------------------------------------


def new_code() -> str:
    """Six random digits: quick to type in a reply. Only an active staff member's phone can use
    one, and only while its alert is open."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_in_reply(body: str) -> str | None:
    """The code of an "OK <code>" reply, or None for any other text."""
    match = _ACK_REPLY.fullmatch(body.strip())
    return None if match is None else re.sub(r"\s", "", match.group(1))


# --- texts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertText:
    reference: str
    deadline: DeadlineKind
    step: StepKind
    code: str
    link: str


_DEADLINE_DA = {DeadlineKind.TRIAGE: "triagefristen", DeadlineKind.VISITATION: "visitationsfristen"}
_DEADLINE_EN = {
    DeadlineKind.TRIAGE: "triage deadline",
    DeadlineKind.VISITATION: "visitation deadline",
}
_STEP_DA = {
    StepKind.REMINDER: "påmindelse om {deadline}",
    StepKind.WARNING: "advarsel: {deadline} nærmer sig",
    StepKind.APPROACHING: "{deadline} udløber snart",
    StepKind.OVERDUE: "{deadline} er overskredet",
}
_STEP_EN = {
    StepKind.REMINDER: "{deadline} reminder",
    StepKind.WARNING: "{deadline} warning",
    StepKind.APPROACHING: "{deadline} approaching",
    StepKind.OVERDUE: "{deadline} overdue",
}


def what_da(text: AlertText) -> str:
    return _STEP_DA[text.step].format(deadline=_DEADLINE_DA[text.deadline])


def what_en(text: AlertText) -> str:
    return _STEP_EN[text.step].format(deadline=_DEADLINE_EN[text.deadline])


def sms_body(text: AlertText) -> str:
    """E.g. "Hotline alert: case NAT-2026-00042, visitation deadline overdue. Reply OK 123456 to
    acknowledge. https://…/cases/42" — in Danish, then in English."""
    return (
        f"Hotline-alarm: sag {text.reference}, {what_da(text)}. "
        f"Svar OK {text.code} for at kvittere.\n"
        f"Hotline alert: case {text.reference}, {what_en(text)}. "
        f"Reply OK {text.code} to acknowledge. {text.link}"
    )


def email_message(text: AlertText, to: str) -> OutgoingEmail:
    return OutgoingEmail(
        to=to,
        subject=f"Hotline-alarm / Hotline alert: {text.reference}",
        text=f"""\
Hotline-alarm: sag {text.reference}, {what_da(text)}.
Kvittér i systemet, eller svar på alarmens SMS med OK {text.code}:
{text.link}

Af hensyn til fortroligheden står der ingen personoplysninger i denne e-mail.

---

Hotline alert: case {text.reference}, {what_en(text)}.
Acknowledge in the app, or reply to the alert's SMS with OK {text.code}:
{text.link}

For confidentiality, this e-mail contains no personal data.
""",
    )
