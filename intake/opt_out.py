"""Opt-out and opt-in keywords in SMS and WhatsApp messages (pure).

A message is a keyword only when its whole text is one: trimmed, case-insensitive, inner spaces
collapsed ("stop", " Stop ", "STOP  ALLE"). "Please stop writing to me" is an ordinary message.

The English words are the carriers' and Twilio's standard set, so our record agrees with what
Twilio itself blocks on SMS; the Danish ones are what Danish senders write. Opting in again
takes an explicit word: "ja" is deliberately not one, a reporter may answer a question with it.
"""

from __future__ import annotations

from enum import StrEnum

OPT_OUT_WORDS = frozenset(
    {
        "STOP",
        "STOPALL",
        "STOP ALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "OPTOUT",
        "REVOKE",
        # Danish: "unsubscribe" (and its common variant), "stop all".
        "AFMELD",
        "FRAMELD",
        "STOP ALLE",
    }
)
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "YES", "TILMELD"})


class Keyword(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"


def normalised(body: str) -> str:
    return " ".join(body.split()).upper()


def keyword_in(body: str) -> Keyword | None:
    """Whether the whole message is an opt-out or opt-in keyword."""
    word = normalised(body)
    if word in OPT_OUT_WORDS:
        return Keyword.OPT_OUT
    if word in OPT_IN_WORDS:
        return Keyword.OPT_IN
    return None
