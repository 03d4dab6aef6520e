"""A case's statuses and the one table of moves between them.

Every status change goes through `check` (via `triage.workflow.change_status`), so what a case may
do next is read here and nowhere else. Pure: no database, no clock.

    new ─▶ in_triage ─▶ justified ─▶ routed ─▶ acknowledged ─▶ visited ─▶ closed
     │        │  ▲          │          │                                   │
     │        │  └──────────┘          └─▶ justified (returned: wrong unit) │
     └────────┴─▶ closed (merged, no concern, not justified, advice only,   │
                          handled by the police)      closed ─▶ in_triage ◀┘ (reopened)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class CaseStatus(StrEnum):
    NEW = "new"
    IN_TRIAGE = "in_triage"
    # Triage found a justified concern; it waits to be routed to the coordination unit / Infohus.
    JUSTIFIED = "justified"
    ROUTED = "routed"
    # The recipient unit confirmed it has the case.
    ACKNOWLEDGED = "acknowledged"
    # The recipient recorded the responsible agency and the next step (the 48-hour visitation).
    VISITED = "visited"
    CLOSED = "closed"


class CloseReason(StrEnum):
    NOT_JUSTIFIED = "not_justified"
    ADVICE_ONLY = "advice_only"
    # Acute danger: the police took the case on alone.
    POLICE = "police"
    # Its contacts moved to another case about the same person.
    MERGED = "merged"
    # Nothing to triage, e.g. a silent missed call with no number to call back.
    NO_CONCERN = "no_concern"
    # Visited: the responsible agency has taken the case on.
    HANDED_OVER = "handed_over"


@dataclass(frozen=True)
class Transition:
    action: str
    source: CaseStatus
    target: CaseStatus
    # For moves to closed: the reasons a case may be closed for from `source`.
    reasons: frozenset[CloseReason] = frozenset()


S, R = CaseStatus, CloseReason

TRANSITIONS: tuple[Transition, ...] = (
    Transition("start_triage", S.NEW, S.IN_TRIAGE),
    Transition("close", S.NEW, S.CLOSED, frozenset({R.MERGED, R.NO_CONCERN})),
    Transition("justify", S.IN_TRIAGE, S.JUSTIFIED),
    Transition(
        "close",
        S.IN_TRIAGE,
        S.CLOSED,
        frozenset({R.NOT_JUSTIFIED, R.ADVICE_ONLY, R.POLICE, R.MERGED, R.NO_CONCERN}),
    ),
    Transition("reopen_triage", S.JUSTIFIED, S.IN_TRIAGE),
    Transition("close", S.JUSTIFIED, S.CLOSED, frozenset({R.MERGED, R.POLICE})),
    Transition("route", S.JUSTIFIED, S.ROUTED),
    Transition("return", S.ROUTED, S.JUSTIFIED),
    Transition("acknowledge", S.ROUTED, S.ACKNOWLEDGED),
    Transition("record_visitation", S.ACKNOWLEDGED, S.VISITED),
    Transition("close", S.VISITED, S.CLOSED, frozenset({R.HANDED_OVER})),
    Transition("reopen", S.CLOSED, S.IN_TRIAGE),
)

_BY_MOVE = {(t.source, t.target): t for t in TRANSITIONS}
OPEN_STATUSES = frozenset(s for s in CaseStatus if s is not CaseStatus.CLOSED)


class IllegalTransition(ValueError):
    """The table has no such move, or not for this reason."""

    def __init__(
        self,
        source: CaseStatus,
        target: CaseStatus,
        message: str,
        *,
        problem: str = "move",
        allowed_reasons: frozenset[CloseReason] = frozenset(),
    ) -> None:
        super().__init__(message)
        self.source = source
        self.target = target
        self.message = message
        # "move": no such move; "reason": closing, but not for that reason (see
        # allowed_reasons); "reason_not_taken": a reason given for a move that takes none.
        self.problem = problem
        self.allowed_reasons = allowed_reasons


def allowed_targets(source: CaseStatus) -> list[CaseStatus]:
    return [t.target for t in TRANSITIONS if t.source is source]


def check(source: CaseStatus, target: CaseStatus, reason: CloseReason | None = None) -> Transition:
    """The transition from `source` to `target`, or IllegalTransition saying what is allowed."""
    transition = _BY_MOVE.get((source, target))
    if transition is None:
        allowed = ", ".join(s.value for s in allowed_targets(source)) or "nothing"
        raise IllegalTransition(
            source,
            target,
            f"a case that is {source.value} cannot become {target.value} "
            f"(from {source.value} it can become: {allowed})",
        )
    if target is CaseStatus.CLOSED:
        if reason is None or reason not in transition.reasons:
            reasons = ", ".join(sorted(r.value for r in transition.reasons))
            raise IllegalTransition(
                source,
                target,
                f"a case that is {source.value} can be closed only as: {reasons}",
                problem="reason",
                allowed_reasons=transition.reasons,
            )
    elif reason is not None:
        raise IllegalTransition(
            source, target, "only closing a case takes a reason", problem="reason_not_taken"
        )
    return transition
