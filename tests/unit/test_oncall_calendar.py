"""The shifts an on-call page lists, built on the pure core's `next_change`, and the escalation
chain drawn from who is on call."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from notifications.oncall import Override, OverrideReason, Rotation, Schedule
from notifications.oncall_calendar import MAX_SHIFTS, Shift, shifts
from notifications.oncall_service import Next, OnCall, chain
from notifications.staff_contacts import StaffContact

CPH = ZoneInfo("Europe/Copenhagen")
ANNE, BO, CARL, DORTE = 11, 22, 33, 44
ROTATION = Rotation(participants=(ANNE, BO, CARL), start=date(2026, 3, 2))


def local(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=CPH)


def test_a_day_off_cuts_a_rotation_week_into_three() -> None:
    absent = Override(local(3, 10), local(3, 11), DORTE, OverrideReason.ABSENCE)
    schedule = Schedule(ROTATION, (absent,))

    found = shifts(schedule, local(3, 9, 12), local(3, 23, 12))

    assert found == [
        Shift(local(3, 9, 12), local(3, 10), BO, None),
        Shift(local(3, 10), local(3, 11), DORTE, absent),
        Shift(local(3, 11), local(3, 16, 9), BO, None),
        Shift(local(3, 16, 9), local(3, 23, 9), CARL, None),
        Shift(local(3, 23, 9), local(3, 23, 12), ANNE, None),  # cut at the end asked for
    ]
    # The handover stays at 09:00 local across the change to summer time (29 March).
    later = shifts(schedule, local(3, 28), local(4, 1))
    assert [s.starts_at for s in later[1:]] == [datetime(2026, 3, 30, 7, tzinfo=UTC)]
    assert all(s.starts_at.tzinfo is UTC and s.ends_at.tzinfo is UTC for s in later)


def test_before_the_rotation_starts_nobody_is_on_call() -> None:
    found = shifts(Schedule(ROTATION), local(3, 1), local(3, 3))
    assert found == [
        Shift(local(3, 1), local(3, 2, 9), None, None),
        Shift(local(3, 2, 9), local(3, 3), ANNE, None),
    ]


def test_one_person_alone_is_one_shift_and_the_list_is_bounded() -> None:
    alone = Schedule(Rotation(participants=(ANNE,), start=date(2026, 3, 2)))
    assert shifts(alone, local(3, 3), local(5, 1)) == [Shift(local(3, 3), local(5, 1), ANNE, None)]
    hourly = tuple(
        Override(local(3, 3) + timedelta(hours=2 * i), local(3, 3, 1) + timedelta(hours=2 * i), BO)
        for i in range(300)
    )
    assert len(shifts(Schedule(ROTATION, hourly), local(3, 3), local(4, 3))) == MAX_SHIFTS


def person(staff_id: int, *, phone: bool = True, active: bool = True) -> StaffContact:
    number = f"+45201234{staff_id:02d}" if phone else None
    return StaffContact(staff_id, f"u{staff_id}", f"U{staff_id}", number, None, active)


def test_the_chain_is_on_call_now_then_next_then_the_team_lead() -> None:
    at = local(3, 9, 9)
    answer = OnCall("national", 1, True, person(ANNE), Next(at, person(BO)), person(DORTE))
    assert [p.id for p in chain(answer)] == [ANNE, BO, DORTE]
    # Each once: the team lead on call now comes first and only there.
    lead_on_call = OnCall("national", 1, True, person(DORTE), Next(at, person(BO)), person(DORTE))
    assert [p.id for p in chain(lead_on_call)] == [DORTE, BO]
    # People who cannot be paged are left out; nobody on call now starts with the next.
    unreachable = OnCall(
        "national", 1, True, person(ANNE, phone=False), Next(at, person(BO, active=False)), None
    )
    assert chain(unreachable) == []
    before = OnCall("national", 1, True, None, Next(at, person(ANNE)), person(DORTE))
    assert [p.id for p in chain(before)] == [ANNE, DORTE]
    assert chain(OnCall("national", None, False, None, None, None)) == []
