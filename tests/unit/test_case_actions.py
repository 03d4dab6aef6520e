"""Pure parts of the case page's actions: the status form's fields, timeline titles, who may
write in a web chat."""

from __future__ import annotations

import pytest

from intake import delivery
from triage import manual_status, timeline_view
from triage.case_action_views import move_allowed
from triage.models import CaseStatus, CloseReason
from web.i18n import translations


def test_the_status_form_closes_as_no_concern_or_reopens_with_a_note() -> None:
    closing = manual_status.parse("closed", "no_concern", "  Tavst opkald.  ")
    assert closing == manual_status.StatusRequest(
        CaseStatus.CLOSED, CloseReason.NO_CONCERN, "Tavst opkald."
    )
    assert manual_status.parse("closed", "no_concern", "   ").note is None
    reopening = manual_status.parse("in_triage", None, "Ny viden")
    assert (reopening.target, reopening.reason) == (CaseStatus.IN_TRIAGE, None)


@pytest.mark.parametrize(
    ("status", "reason", "note", "field", "code"),
    [
        ("routed", None, None, "status", "status"),
        (None, None, None, "status", "status"),
        ("closed", None, None, "reason", "reason"),
        ("closed", "not_justified", None, "reason", "reason"),
        ("closed", "merged", None, "reason", "reason"),
        ("in_triage", "no_concern", "x", "reason", "reason_not_taken"),
        ("in_triage", None, None, "note", "note_required"),
        ("in_triage", None, "  ", "note", "note_required"),
        ("in_triage", None, "x" * 4001, "note", "note_length"),
    ],
)
def test_the_status_form_names_the_wrong_field(
    status: str | None, reason: str | None, note: str | None, field: str, code: str
) -> None:
    with pytest.raises(manual_status.StatusRequestInvalid) as refused:
        manual_status.parse(status, reason, note)
    assert (refused.value.field, refused.value.code) == (field, code)


def test_forms_are_offered_by_the_state_machine() -> None:
    assert move_allowed(CaseStatus.NEW, "closed", "no_concern")
    assert move_allowed(CaseStatus.JUSTIFIED, "closed", "merged")
    assert not move_allowed(CaseStatus.ROUTED, "closed", "merged")
    assert not move_allowed(CaseStatus.JUSTIFIED, "closed", "no_concern")


def test_every_event_kind_has_a_title_and_unknown_kinds_fall_back() -> None:
    danish = translations("da").gettext
    for kind in timeline_view.EVENT_LABELS:
        assert timeline_view.title(kind, danish) != timeline_view.EVENT_LABELS[kind], kind
    assert timeline_view.title("routing_returned_by_fax", danish) == "Routing returned by fax"


@pytest.mark.parametrize(
    ("status", "accepted_by", "refusal"),
    [
        ("waiting", None, delivery.CHAT_WAITING),
        ("active", 7, None),
        ("active", 8, delivery.CHAT_TAKEN),
        ("ended", 7, delivery.CHAT_ENDED),
        ("missed", None, delivery.CHAT_ENDED),
    ],
)
def test_only_the_staff_member_in_an_active_chat_writes_in_it(
    status: str, accepted_by: int | None, refusal: delivery.Refusal | None
) -> None:
    assert delivery.chat_reply_refusal(status, accepted_by, 7) == refusal
