"""The phone menu's TwiML: Danish voice and texts, absolute actions, put-through and voicemail."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from integrations.twilio import voice_twiml

BASE = "https://hotline.example.dk"


def parse(xml: str) -> ET.Element:
    return ET.fromstring(xml)  # noqa: S314  (our own builder's output)


def test_the_welcome_is_a_one_digit_gather_in_danish() -> None:
    root = parse(
        voice_twiml.welcome(
            voice_twiml.DANISH, hotline_name="Hotline mod radikalisering", action=BASE + "/r"
        )
    )
    (gather,) = root
    assert gather.tag == "Gather"
    assert gather.attrib["numDigits"] == "1"
    assert gather.attrib["action"] == BASE + "/r"
    assert gather.attrib["actionOnEmptyResult"] == "true"
    says = list(gather)
    danish = [s for s in says if s.attrib["language"] == "da-DK"]
    assert {s.attrib["voice"] for s in danish} == {"Polly.Naja"}
    text = " ".join(s.text or "" for s in says)
    assert "Du har ringet til Hotline mod radikalisering." in text
    assert "For English, press 9." in text
    assert "tavshedspligt og notatpligt" in text
    assert "Infohuset eller politiet" in text
    assert "læg på og ring 112" in text
    assert "fagperson, tryk 1" in text
    assert "pårørende eller borger, tryk 2" in text
    english_offer = [s for s in says if s.text == "For English, press 9."]
    assert english_offer[0].attrib["language"] == "en-GB"


def test_the_english_welcome_has_no_offer_to_switch() -> None:
    xml = voice_twiml.welcome(voice_twiml.ENGLISH, hotline_name="The hotline", action=BASE)
    assert "press 9" not in xml
    assert 'language="en-GB"' in xml
    assert "da-DK" not in xml


def test_the_put_through_rings_every_duty_phone_with_a_whisper() -> None:
    root = parse(
        voice_twiml.put_through(
            voice_twiml.DANISH,
            ["+4540123456", "+4530123456"],
            action=BASE + "/dial",
            whisper_url=BASE + "/whisper",
            caller_id="+4541749090",
        )
    )
    say, dial = root
    assert say.tag == "Say"
    assert dial.attrib["timeout"] == "20"
    assert dial.attrib["answerOnBridge"] == "true"
    assert dial.attrib["action"] == BASE + "/dial"
    assert dial.attrib["callerId"] == "+4541749090"
    assert [(n.text, n.attrib["url"]) for n in dial] == [
        ("+4540123456", BASE + "/whisper"),
        ("+4530123456", BASE + "/whisper"),
    ]


def test_at_most_ten_phones_are_rung() -> None:
    numbers = [f"+45401234{i:02d}" for i in range(12)]
    root = parse(voice_twiml.put_through(voice_twiml.DANISH, numbers, action="a", whisper_url="w"))
    assert len(list(root[1])) == 10


def test_voicemail_records_with_a_callback_then_hangs_up() -> None:
    root = parse(
        voice_twiml.voicemail(
            voice_twiml.DANISH,
            "Vi har lukket.",
            action=BASE + "/recorded",
            recording_callback=BASE + "/recording",
        )
    )
    assert [e.tag for e in root] == ["Say", "Say", "Record", "Hangup"]
    record = root[2]
    assert record.attrib["maxLength"] == "120"
    assert record.attrib["playBeep"] == "true"
    assert record.attrib["action"] == BASE + "/recorded"
    assert record.attrib["recordingStatusCallback"] == BASE + "/recording"
    assert record.attrib["transcribe"] == "false"
    assert root[0].text == "Vi har lukket."


def test_the_whisper_asks_for_1_and_hangs_up_without_it() -> None:
    root = parse(voice_twiml.whisper(voice_twiml.DANISH, action=BASE + "/accept"))
    gather, hangup = root
    assert gather.attrib["numDigits"] == "1"
    assert gather.attrib["action"] == BASE + "/accept"
    assert "Tryk 1 for at tage opkaldet" in (gather[0].text or "")
    assert hangup.tag == "Hangup"
    assert list(parse(voice_twiml.connect())) == []
