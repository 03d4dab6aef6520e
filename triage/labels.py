"""The words pages use for case statuses, close reasons and deadlines, and for a refused
status change.

Marked for translation here, translated at render time; templates reach them as the globals
`status_labels`, `close_reason_labels` and `clock_mode_labels` (registered by
triage.views.register) and
`deadline_labels` (registered by triage.case_action_views.register). The words for timeline
entries are in triage/timeline_view.py.
"""

from __future__ import annotations

from collections.abc import Callable

from triage.models import ClockMode, DeadlineKind
from triage.states import CaseStatus, CloseReason, IllegalTransition, allowed_targets
from web.i18n import N_

STATUS_LABELS = {
    CaseStatus.NEW: N_("New"),
    CaseStatus.IN_TRIAGE: N_("In triage"),
    CaseStatus.JUSTIFIED: N_("Justified, to be routed"),
    CaseStatus.ROUTED: N_("Routed"),
    CaseStatus.ACKNOWLEDGED: N_("Acknowledged by the recipient"),
    CaseStatus.VISITED: N_("Visited"),
    CaseStatus.CLOSED: N_("Closed"),
}

CLOSE_REASON_LABELS = {
    CloseReason.NOT_JUSTIFIED: N_("Not a justified concern"),
    CloseReason.ADVICE_ONLY: N_("Advice only"),
    CloseReason.POLICE: N_("Handled by the police"),
    CloseReason.MERGED: N_("Merged into another case"),
    CloseReason.NO_CONCERN: N_("No concern to triage"),
    CloseReason.HANDED_OVER: N_("Handed over to the responsible agency"),
}

DEADLINE_LABELS = {
    DeadlineKind.TRIAGE: N_("Triage"),
    DeadlineKind.VISITATION: N_("Visitation"),
}

CLOCK_MODE_LABELS = {
    ClockMode.CALENDAR: N_("Calendar hours"),
    ClockMode.BUSINESS_HOURS: N_("Business hours"),
}

_CANNOT_BECOME = N_(
    "A case that is “%(source)s” cannot become “%(target)s”. It can become: %(allowed)s."
)
_CLOSE_ONLY_AS = N_("A case that is “%(source)s” can be closed only as: %(reasons)s.")
_NO_REASON_HERE = N_("Only closing a case takes a reason.")


def refusal_text(refused: IllegalTransition, gettext: Callable[[str], str]) -> str:
    """A refused status change in the reader's language, saying what is possible instead."""
    source = gettext(STATUS_LABELS[refused.source])
    if refused.problem == "reason":
        reasons = ", ".join(
            gettext(CLOSE_REASON_LABELS[r]) for r in sorted(refused.allowed_reasons)
        )
        return gettext(_CLOSE_ONLY_AS) % {"source": source, "reasons": reasons}
    if refused.problem == "reason_not_taken":
        return gettext(_NO_REASON_HERE)
    allowed = ", ".join(gettext(STATUS_LABELS[s]) for s in allowed_targets(refused.source))
    return gettext(_CANNOT_BECOME) % {
        "source": source,
        "target": gettext(STATUS_LABELS[refused.target]),
        "allowed": allowed or "–",
    }
