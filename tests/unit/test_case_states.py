"""The case state machine: every allowed move, and refusals that say what is allowed instead."""

from __future__ import annotations

import itertools

import pytest

from triage.labels import CLOSE_REASON_LABELS, STATUS_LABELS, refusal_text
from triage.states import (
    OPEN_STATUSES,
    TRANSITIONS,
    CaseStatus,
    CloseReason,
    IllegalTransition,
    allowed_targets,
    check,
)
from web.i18n import translations

S, R = CaseStatus, CloseReason

EXPECTED_MOVES = {
    (S.NEW, S.IN_TRIAGE): "start_triage",
    (S.NEW, S.CLOSED): "close",
    (S.IN_TRIAGE, S.JUSTIFIED): "justify",
    (S.IN_TRIAGE, S.CLOSED): "close",
    (S.JUSTIFIED, S.IN_TRIAGE): "reopen_triage",
    (S.JUSTIFIED, S.ROUTED): "route",
    (S.JUSTIFIED, S.CLOSED): "close",
    (S.ROUTED, S.JUSTIFIED): "return",
    (S.ROUTED, S.ACKNOWLEDGED): "acknowledge",
    (S.ACKNOWLEDGED, S.VISITED): "record_visitation",
    (S.VISITED, S.CLOSED): "close",
    (S.CLOSED, S.IN_TRIAGE): "reopen",
}


def test_the_table_holds_exactly_the_designed_moves() -> None:
    assert {(t.source, t.target): t.action for t in TRANSITIONS} == EXPECTED_MOVES


@pytest.mark.parametrize(("move", "action"), sorted(EXPECTED_MOVES.items()))
def test_every_allowed_move_is_allowed(move: tuple[CaseStatus, CaseStatus], action: str) -> None:
    source, target = move
    reason = None
    if target is S.CLOSED:
        closing = next(t for t in TRANSITIONS if t.source is source and t.target is target)
        reason = sorted(closing.reasons)[0]
    assert check(source, target, reason).action == action


@pytest.mark.parametrize(
    "move",
    sorted(
        (s, t) for s, t in itertools.product(CaseStatus, CaseStatus) if (s, t) not in EXPECTED_MOVES
    ),
)
def test_every_other_move_is_refused(move: tuple[CaseStatus, CaseStatus]) -> None:
    source, target = move
    with pytest.raises(IllegalTransition) as refused:
        check(source, target, R.NOT_JUSTIFIED if target is S.CLOSED else None)
    assert refused.value.message.startswith(
        f"a case that is {source.value} cannot become {target.value}"
    )


def test_a_refusal_names_what_the_case_may_become_instead() -> None:
    with pytest.raises(IllegalTransition, match=r"from routed it can become: justified, ackn"):
        check(S.ROUTED, S.CLOSED, R.NOT_JUSTIFIED)
    with pytest.raises(IllegalTransition, match="from new it can become: in_triage, closed"):
        check(S.NEW, S.ROUTED)


def test_a_routed_case_cannot_skip_acknowledgement_or_visitation() -> None:
    for target in (S.VISITED, S.CLOSED):
        assert target not in allowed_targets(S.ROUTED)
    assert allowed_targets(S.ACKNOWLEDGED) == [S.VISITED]


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        (S.NEW, R.NOT_JUSTIFIED),  # nothing was triaged, so nothing was found unjustified
        (S.NEW, R.HANDED_OVER),
        (S.IN_TRIAGE, R.HANDED_OVER),
        (S.JUSTIFIED, R.NOT_JUSTIFIED),  # reopen triage first, then close
        (S.JUSTIFIED, R.ADVICE_ONLY),
        (S.VISITED, R.MERGED),
    ],
)
def test_closing_needs_a_reason_that_fits_where_the_case_is(
    source: CaseStatus, reason: CloseReason
) -> None:
    with pytest.raises(IllegalTransition, match=f"{source.value} can be closed only as"):
        check(source, S.CLOSED, reason)


def test_closing_without_a_reason_is_refused() -> None:
    with pytest.raises(IllegalTransition, match="can be closed only as"):
        check(S.IN_TRIAGE, S.CLOSED)


def test_only_closing_takes_a_reason() -> None:
    with pytest.raises(IllegalTransition, match="only closing a case takes a reason"):
        check(S.IN_TRIAGE, S.JUSTIFIED, R.ADVICE_ONLY)


def test_every_close_reason_is_reachable_and_every_open_status_can_progress() -> None:
    reachable = set().union(*(t.reasons for t in TRANSITIONS))
    assert reachable == set(CloseReason)
    for status in OPEN_STATUSES:
        assert allowed_targets(status), status
    assert S.CLOSED not in OPEN_STATUSES


def _danish(message: str) -> str:
    return translations("da").gettext(message)


def test_a_refusal_reads_in_the_page_language() -> None:
    with pytest.raises(IllegalTransition) as refused:
        check(S.NEW, S.ROUTED)
    english = refusal_text(refused.value, lambda m: m)
    assert english == (
        "A case that is “New” cannot become “Routed”. It can become: In triage, Closed."
    )
    danish = refusal_text(refused.value, _danish)
    assert danish.startswith("En sag, der er “Ny”, kan ikke blive “Videresendt”.")


def test_a_refused_close_reason_lists_the_reasons_that_fit() -> None:
    with pytest.raises(IllegalTransition) as refused:
        check(S.VISITED, S.CLOSED, R.MERGED)
    assert refusal_text(refused.value, lambda m: m) == (
        "A case that is “Visited” can be closed only as: Handed over to the responsible agency."
    )


def test_every_status_and_reason_has_a_label() -> None:
    assert set(STATUS_LABELS) == set(CaseStatus)
    assert set(CLOSE_REASON_LABELS) == set(CloseReason)
