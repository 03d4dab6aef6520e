"""A complete triage of the current form version, for tests (as a page posts it: text values)."""

from __future__ import annotations

from typing import Any

OBSERVED = "Han deler voldsforherligende videoer og har trukket sig fra vennerne."
RATIONALE = "Adfærden er eskaleret over tre måneder; familien beder om hjælp."
PROTECTIVE = "Tæt kontakt til sin storesøster og fodboldtræneren."


def triage_answers(**overrides: Any) -> dict[str, Any]:
    """A justified, non-acute triage of an adult in Copenhagen; override to vary it."""
    answers: dict[str, Any] = {
        "age_band": "18_24",
        "subject_municipality": "101",
        "concern_type": "right_wing",
        "reporter_role": "relative",
        "reporter_relation": "parent",
        "reporter_own_words": "Jeg er hans mor",
        "how_known": ["first_hand", "online"],
        "reporter_municipality": "147",
        "observed": OBSERVED,
        "first_observed": "2025-12-01",
        "last_observed": "2026-02-27",
        "change_over_time": "Det er blevet værre siden jul.",
        "protective_factors": PROTECTIVE,
        "recent_crisis": "no",
        "anonymity_wish": "hotline_only",
        "consent_to_pass_on": "yes",
        "outcome": "justified",
        "rationale": RATIONALE,
    }
    answers.update(overrides)
    return {name: value for name, value in answers.items() if value is not None}
