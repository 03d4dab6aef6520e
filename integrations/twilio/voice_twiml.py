"""TwiML for the phone menu, built with twilio-python's VoiceResponse (pure: text in, XML out).

Danish first: `<Say language="da-DK" voice="Polly.Naja">`; pressing 9 at the start switches the
rest of the call to English (en-GB). Every action URL is absolute (the caller passes them, built
from HOTLINE_PUBLIC_BASE_URL), and every `<Gather>` posts to its action even without input, so a
caller who presses nothing still moves on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

GATHER_SECONDS = 6
DIAL_SECONDS = 20
WHISPER_SECONDS = 10
VOICEMAIL_MAX_SECONDS = 120


@dataclass(frozen=True)
class Texts:
    language: str
    voice: str
    greeting: str  # "{name}" is the hotline's name
    english_offer: str
    confidentiality: str
    acute: str
    role_question: str
    anonymity_question: str
    connecting: str
    nobody_free: str
    closed: str  # "{hours}"
    leave_message: str
    thanks: str
    unknown_number: str
    whisper: str


DANISH = Texts(
    language="da-DK",
    voice="Polly.Naja",
    greeting="Du har ringet til {name}.",
    english_offer="For English, press 9.",
    confidentiality=(
        "Vores medarbejdere har tavshedspligt og notatpligt: de skriver ned, hvad du fortæller. "
        "Oplysninger gives kun videre til Infohuset eller politiet, når bekymringen giver "
        "grund til det."
    ),
    acute="Er nogen i akut fare, så læg på og ring 112.",
    role_question=(
        "Ringer du som fagperson, tryk 1. Ringer du som pårørende eller borger, tryk 2."
    ),
    anonymity_question="Vil du være anonym, tryk 1. Ellers tryk 2.",
    connecting="Vi stiller dig om til en medarbejder. Vent venligst.",
    nobody_free="Ingen medarbejder kan tage telefonen lige nu.",
    closed=(
        "Hotlinen har åbent {hours}. Er nogen i akut fare, så ring 112. "
        "Vil du tale med politiet, og haster det ikke, så ring 114."
    ),
    leave_message=(
        "Du kan lægge en besked efter tonen og trykke firkant, når du er færdig. "
        "Sig dit telefonnummer, hvis du vil ringes op."
    ),
    thanks="Tak for din besked. Farvel.",
    unknown_number="Beklager, dette nummer kan ikke modtage opkald. Farvel.",
    whisper="Opkald til hotlinen. Tryk 1 for at tage opkaldet.",
)

ENGLISH = Texts(
    language="en-GB",
    voice="Polly.Amy",
    greeting="You have called {name}.",
    english_offer="",
    confidentiality=(
        "Our staff have a duty of confidentiality and a duty to record what you tell them. "
        "Information is passed on to the Infohus or the police only when the concern calls "
        "for it."
    ),
    acute="If someone is in acute danger, hang up and call 112.",
    role_question=(
        "If you are calling as a professional, press 1. "
        "If you are calling as a relative or citizen, press 2."
    ),
    anonymity_question="If you wish to stay anonymous, press 1. Otherwise press 2.",
    connecting="We are putting you through to a member of staff. Please wait.",
    nobody_free="No member of staff can take your call right now.",
    closed=(
        "The hotline is open {hours}. If someone is in acute danger, call 112. "
        "To reach the police when it is not urgent, call 114."
    ),
    leave_message=(
        "You can leave a message after the tone and press the hash key when you are done. "
        "Say your phone number if you would like us to call you back."
    ),
    thanks="Thank you for your message. Goodbye.",
    unknown_number="Sorry, this number cannot take calls. Goodbye.",
    whisper="Call to the hotline. Press 1 to take the call.",
)


def texts_for(language: str) -> Texts:
    return ENGLISH if language == "en" else DANISH


def _say(target: VoiceResponse | Gather, texts: Texts, words: str) -> None:
    target.say(words, language=texts.language, voice=texts.voice)


def _gather(texts: Texts, action: str, *, timeout: int = GATHER_SECONDS) -> Gather:
    return Gather(
        num_digits=1,
        action=action,
        method="POST",
        timeout=timeout,
        input="dtmf",
        action_on_empty_result=True,
    )


def welcome(texts: Texts, *, hotline_name: str, action: str) -> str:
    """Greeting, English offer, confidentiality, 112, then the role question (digits to action)."""
    response = VoiceResponse()
    gather = _gather(texts, action)
    _say(gather, texts, texts.greeting.format(name=hotline_name))
    if texts.english_offer:
        # The offer is English words: said by an English voice.
        _say(gather, ENGLISH, texts.english_offer)
    for words in (texts.confidentiality, texts.acute, texts.role_question):
        _say(gather, texts, words)
    response.append(gather)
    return str(response)


def anonymity_question(texts: Texts, *, action: str) -> str:
    response = VoiceResponse()
    gather = _gather(texts, action)
    _say(gather, texts, texts.anonymity_question)
    response.append(gather)
    return str(response)


def put_through(
    texts: Texts,
    numbers: Sequence[str],
    *,
    action: str,
    whisper_url: str,
    caller_id: str | None = None,
    recording_callback: str | None = None,
) -> str:
    """Ring the on-duty phones at once; each must press 1 (the whisper) to take the call.

    With `recording_callback` (a hotline that records calls) the answered call is recorded and
    its audio reported there, like a voicemail's.
    """
    response = VoiceResponse()
    _say(response, texts, texts.connecting)
    recording: dict[str, str] = {}
    if recording_callback:
        recording = {
            "record": "record-from-answer-dual",
            "recording_status_callback": recording_callback,
            "recording_status_callback_method": "POST",
            "recording_status_callback_event": "completed absent",
        }
    dial = Dial(
        timeout=DIAL_SECONDS,
        action=action,
        method="POST",
        answer_on_bridge=True,
        caller_id=caller_id,
        **recording,
    )
    for number in numbers[:10]:  # Twilio rings at most 10 numbers at once
        dial.number(number, url=whisper_url, method="POST")
    response.append(dial)
    return str(response)


def voicemail(texts: Texts, message: str, *, action: str, recording_callback: str) -> str:
    """A message, then a recording (its audio arrives at `recording_callback`), then goodbye."""
    response = VoiceResponse()
    _say(response, texts, message)
    _say(response, texts, texts.leave_message)
    response.record(
        max_length=VOICEMAIL_MAX_SECONDS,
        play_beep=True,
        finish_on_key="#",
        timeout=5,
        trim="trim-silence",
        transcribe=False,
        action=action,
        method="POST",
        recording_status_callback=recording_callback,
        recording_status_callback_method="POST",
        recording_status_callback_event="completed absent",
    )
    response.hangup()
    return str(response)


def whisper(texts: Texts, *, action: str) -> str:
    """Said to the on-duty phone that picked up: press 1 to take the call, or it is not taken."""
    response = VoiceResponse()
    gather = Gather(num_digits=1, action=action, method="POST", timeout=WHISPER_SECONDS)
    _say(gather, texts, texts.whisper)
    response.append(gather)
    response.hangup()
    return str(response)


def say_and_hang_up(texts: Texts, words: str) -> str:
    response = VoiceResponse()
    _say(response, texts, words)
    response.hangup()
    return str(response)


def hang_up() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)


def connect() -> str:
    """The whisper's answer when the on-duty phone pressed 1: nothing more, the call is bridged."""
    return str(VoiceResponse())
