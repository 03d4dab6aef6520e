"""TwiML for an alert call to a staff member (pure: script in, XML out).

Danish first, then English (or one of them, if the script says so), with the voices the phone
menu uses (voice_twiml.DANISH / ENGLISH). What is said comes only from the script: the case
reference — spelled out, letter by letter and digit by digit, so it can be written down — and
the kind of alert. Never a name, a number or anything else about a person.

    <Gather numDigits=1 action=keypress>  alert, case, kind, "press 1"  </Gather>
    <Gather …> the same again </Gather>        (Twilio moves on when no key is pressed)
    "not acknowledged, goodbye" <Hangup/>
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from twilio.twiml.voice_response import Gather, VoiceResponse

from integrations.twilio import voice_twiml
from notifications.alert_calls import AlertCallScript, Language
from notifications.escalation import StepKind
from triage.deadline_clock import DeadlineKind

# Seconds to wait for the key after the message has been said.
GATHER_SECONDS = 8
# The message is said this many times before the call gives up.
TIMES_SAID = 2


@dataclass(frozen=True)
class Texts:
    language: str
    voice: str
    alert: str
    case: str  # "{reference}": spelled out
    deadlines: dict[DeadlineKind, str]  # "the visitation deadline", as the steps use it
    steps: dict[StepKind, str]  # "{deadline}"
    press_one: str
    not_acknowledged: str
    acknowledged: str
    not_recorded: str
    no_longer_needed: str


DANISH = Texts(
    language=voice_twiml.DANISH.language,
    voice=voice_twiml.DANISH.voice,
    alert="Alarm fra hotlinen.",
    case="Sag {reference}.",
    deadlines={
        DeadlineKind.TRIAGE: "fristen for vurdering",
        DeadlineKind.VISITATION: "fristen for visitering",
    },
    steps={
        StepKind.REMINDER: "Påmindelse om {deadline}.",
        StepKind.WARNING: "{Deadline} nærmer sig.",
        StepKind.APPROACHING: "{Deadline} udløber snart.",
        StepKind.OVERDUE: "{Deadline} er overskredet.",
    },
    press_one="Tryk 1 for at kvittere.",
    not_acknowledged="Alarmen er ikke kvitteret. Farvel.",
    acknowledged="Tak. Alarmen er kvitteret. Farvel.",
    not_recorded="Kvitteringen kunne ikke registreres. Se alarmen i systemet. Farvel.",
    no_longer_needed="Denne alarm kræver ikke længere handling. Farvel.",
)

ENGLISH = Texts(
    language=voice_twiml.ENGLISH.language,
    voice=voice_twiml.ENGLISH.voice,
    alert="Hotline alert.",
    case="Case {reference}.",
    deadlines={
        DeadlineKind.TRIAGE: "the triage deadline",
        DeadlineKind.VISITATION: "the visitation deadline",
    },
    steps={
        StepKind.REMINDER: "Reminder about {deadline}.",
        StepKind.WARNING: "{Deadline} is getting closer.",
        StepKind.APPROACHING: "{Deadline} is approaching.",
        StepKind.OVERDUE: "{Deadline} is overdue.",
    },
    press_one="Press 1 to acknowledge.",
    not_acknowledged="The alert has not been acknowledged. Goodbye.",
    acknowledged="Thank you. The alert is acknowledged. Goodbye.",
    not_recorded=(
        "The acknowledgement could not be recorded. Please check the alert in the system. Goodbye."
    ),
    no_longer_needed="This alert no longer needs any action. Goodbye.",
)


def texts_for(language: Language | None) -> tuple[Texts, ...]:
    """The languages said, in order: both (Danish first) unless one is chosen."""
    if language == "da":
        return (DANISH,)
    if language == "en":
        return (ENGLISH,)
    return (DANISH, ENGLISH)


def spelled_out(reference: str) -> str:
    """NAT-2026-00042 → "N A T, 2 0 2 6, 0 0 0 4 2": every character on its own."""
    return ", ".join(" ".join(group) for group in reference.split("-") if group)


def message(texts: Texts, script: AlertCallScript) -> str:
    """The alert in one language: alert, case, kind, press 1."""
    deadline = texts.deadlines[script.deadline]
    kind = texts.steps[script.step].format(
        deadline=deadline, Deadline=deadline[:1].upper() + deadline[1:]
    )
    case = texts.case.format(reference=spelled_out(script.reference))
    return " ".join((texts.alert, case, kind, texts.press_one))


Words = Callable[[Texts], str]


def _say_each(target: VoiceResponse | Gather, languages: Sequence[Texts], words: Words) -> None:
    for texts in languages:
        target.say(words(texts), language=texts.language, voice=texts.voice)


def alert_call(script: AlertCallScript, *, keypress_url: str) -> str:
    """The call: the message (each language) in a one-key Gather, said twice, then goodbye.

    Without a key Twilio moves on to the next verb (no actionOnEmptyResult), so silence runs
    through both Gathers into "not acknowledged, goodbye". `keypress_url` must be absolute.
    """
    languages = texts_for(script.language)
    response = VoiceResponse()
    for _ in range(TIMES_SAID):
        gather = Gather(
            num_digits=1,
            action=keypress_url,
            method="POST",
            timeout=GATHER_SECONDS,
            input="dtmf",
        )
        for texts in languages:
            gather.say(message(texts, script), language=texts.language, voice=texts.voice)
        response.append(gather)
    _say_each(response, languages, lambda texts: texts.not_acknowledged)
    response.hangup()
    return str(response)


def _goodbye(languages: Sequence[Texts], words: Words) -> str:
    response = VoiceResponse()
    _say_each(response, languages, words)
    response.hangup()
    return str(response)


def acknowledged(language: Language | None) -> str:
    return _goodbye(texts_for(language), lambda texts: texts.acknowledged)


def not_recorded(language: Language | None) -> str:
    """1 was pressed but this attempt could not acknowledge: say so (the app shows the alert)."""
    return _goodbye(texts_for(language), lambda texts: texts.not_recorded)


def no_longer_needed(language: Language | None = None) -> str:
    """Unknown attempt, or an alert already dealt with: nothing to acknowledge."""
    return _goodbye(texts_for(language), lambda texts: texts.no_longer_needed)
