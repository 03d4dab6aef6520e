"""The alert call's TwiML: the case reference and the kind of alert, Danish then English, a
one-key Gather said twice, then goodbye — and nothing about a person."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import fields
from itertools import product

import pytest

from integrations.twilio import alert_twiml
from notifications.alert_calls import AlertCallScript
from notifications.escalation import StepKind
from triage.deadline_clock import DeadlineKind

KEYPRESS = "https://hotline.example.dk/twilio/alerts/keypress/" + "t" * 32
REFERENCE = "NAT-2026-00042"
SPOKEN = "N A T, 2 0 2 6, 0 0 0 4 2"


def parse(xml: str) -> ET.Element:
    return ET.fromstring(xml)  # noqa: S314  (our own builder's output)


def script(
    step: StepKind = StepKind.OVERDUE,
    deadline: DeadlineKind = DeadlineKind.VISITATION,
    language: str | None = None,
) -> AlertCallScript:
    return AlertCallScript(REFERENCE, deadline, step, language)  # type: ignore[arg-type]


def spoken(root: ET.Element) -> list[tuple[str, str, str]]:
    """Every <Say> in document order: (language, voice, text)."""
    return [(s.attrib["language"], s.attrib["voice"], s.text or "") for s in root.iter("Say")]


def test_the_call_says_the_reference_and_the_kind_in_danish_then_english() -> None:
    root = parse(alert_twiml.alert_call(script(), keypress_url=KEYPRESS))

    first_gather = root[0]
    (danish_language, danish_voice, danish), (english_language, english_voice, english) = [
        (s.attrib["language"], s.attrib["voice"], s.text or "") for s in first_gather
    ]
    # The voices the phone menu uses.
    assert (danish_language, danish_voice) == ("da-DK", "Polly.Naja")
    assert (english_language, english_voice) == ("en-GB", "Polly.Amy")
    assert danish == (
        f"Alarm fra hotlinen. Sag {SPOKEN}. Fristen for visitering er overskredet. "
        "Tryk 1 for at kvittere."
    )
    assert english == (
        f"Hotline alert. Case {SPOKEN}. The visitation deadline is overdue. Press 1 to acknowledge."
    )


def test_the_message_is_a_one_key_gather_to_the_keypress_url_said_twice_then_goodbye() -> None:
    root = parse(alert_twiml.alert_call(script(), keypress_url=KEYPRESS))

    first, second, goodbye_da, goodbye_en, hangup = root
    for gather in (first, second):
        assert gather.tag == "Gather"
        assert gather.attrib == {
            "numDigits": "1",
            "action": KEYPRESS,
            "method": "POST",
            "timeout": str(alert_twiml.GATHER_SECONDS),
            "input": "dtmf",
        }
        # No actionOnEmptyResult: silence moves on to the next verb instead of the keypress URL.
        assert "actionOnEmptyResult" not in gather.attrib
    assert [s.text for s in first] == [s.text for s in second]
    assert (goodbye_da.tag, goodbye_da.text) == ("Say", "Alarmen er ikke kvitteret. Farvel.")
    assert goodbye_da.attrib["language"] == "da-DK"
    assert goodbye_en.text == "The alert has not been acknowledged. Goodbye."
    assert hangup.tag == "Hangup"


@pytest.mark.parametrize(
    ("deadline", "step", "danish", "english"),
    [
        (
            DeadlineKind.VISITATION,
            StepKind.APPROACHING,
            "Fristen for visitering udløber snart.",
            "The visitation deadline is approaching.",
        ),
        (
            DeadlineKind.VISITATION,
            StepKind.WARNING,
            "Fristen for visitering nærmer sig.",
            "The visitation deadline is getting closer.",
        ),
        (
            DeadlineKind.TRIAGE,
            StepKind.OVERDUE,
            "Fristen for vurdering er overskredet.",
            "The triage deadline is overdue.",
        ),
        (
            DeadlineKind.TRIAGE,
            StepKind.REMINDER,
            "Påmindelse om fristen for vurdering.",
            "Reminder about the triage deadline.",
        ),
    ],
)
def test_each_kind_of_alert_has_its_own_words(
    deadline: DeadlineKind, step: StepKind, danish: str, english: str
) -> None:
    xml = alert_twiml.alert_call(script(step, deadline), keypress_url=KEYPRESS)
    said = [text for *_, text in spoken(parse(xml))]

    assert danish in said[0]
    assert english in said[1]


def test_every_deadline_and_step_has_words_in_both_languages() -> None:
    for texts in (alert_twiml.DANISH, alert_twiml.ENGLISH):
        assert set(texts.deadlines) == set(DeadlineKind)
        assert set(texts.steps) == set(StepKind)


@pytest.mark.parametrize(("language", "expected"), [("da", ["da-DK"]), ("en", ["en-GB"])])
def test_a_chosen_language_is_said_alone(language: str, expected: list[str]) -> None:
    root = parse(alert_twiml.alert_call(script(language=language), keypress_url=KEYPRESS))

    assert {lang for lang, _, _ in spoken(root)} == set(expected)
    assert len(list(root[0])) == 1


def test_the_reference_is_spelled_out() -> None:
    assert alert_twiml.spelled_out("NAT-2026-00042") == "N A T, 2 0 2 6, 0 0 0 4 2"
    assert alert_twiml.spelled_out("KBH-2027-12345") == "K B H, 2 0 2 7, 1 2 3 4 5"


@pytest.mark.parametrize(
    "reference",
    [
        "Anne Hansen",  # a name
        "+4520123456",  # a phone number
        "20123456",  # …without its plus
        "NAT-20123456",  # not prefix, year, number
        "nat-2026-00042",  # lower case: not how references are made
        "NAT-2026-00042 Anne",
        "NAT 2026 00042",
        "",
        "NAT-2026-00042-00001-0001",  # too many groups / too long
        "<Say>NAT</Say>",
    ],
)
def test_a_script_refuses_anything_but_a_case_reference(reference: str) -> None:
    with pytest.raises(ValueError, match="reference"):
        AlertCallScript(reference, DeadlineKind.VISITATION, StepKind.OVERDUE)


def test_a_script_refuses_an_unknown_language() -> None:
    with pytest.raises(ValueError, match="language"):
        AlertCallScript(REFERENCE, DeadlineKind.VISITATION, StepKind.OVERDUE, "de")  # type: ignore[arg-type]


def test_the_twiml_holds_only_fixed_words_and_the_spelled_reference() -> None:
    # A script carries nothing else: a name or a number cannot even be handed in…
    assert [f.name for f in fields(AlertCallScript)] == [
        "reference",
        "deadline",
        "step",
        "language",
    ]
    for deadline, step in product(DeadlineKind, StepKind):
        xml = alert_twiml.alert_call(script(step, deadline), keypress_url=KEYPRESS)
        words = " ".join(text for *_, text in spoken(parse(xml))).replace(SPOKEN, "")
        # …and besides the reference, the only digit said is the key to press.
        assert {c for c in words if c.isdigit()} == {"1"}


@pytest.mark.parametrize(
    ("build", "danish", "english"),
    [
        (
            alert_twiml.acknowledged,
            "Tak. Alarmen er kvitteret. Farvel.",
            "The alert is acknowledged",
        ),
        (
            alert_twiml.not_recorded,
            "Kvitteringen kunne ikke registreres.",
            "could not be recorded",
        ),
        (
            alert_twiml.no_longer_needed,
            "Denne alarm kræver ikke længere handling.",
            "no longer needs any action",
        ),
    ],
)
def test_the_goodbyes_say_their_words_and_hang_up(
    build: Callable[[str | None], str], danish: str, english: str
) -> None:
    both = parse(build(None))
    assert [s.tag for s in both] == ["Say", "Say", "Hangup"]
    assert danish in (both[0].text or "")
    assert english in (both[1].text or "")
    only_english = parse(build("en"))
    assert [s.attrib.get("language") for s in only_english.iter("Say")] == ["en-GB"]
    assert "Gather" not in build(None)
