"""Escalation in tests: a team with an on-call schedule, a case with a visitation deadline made
straight in the database, and a plain snapshot of the engine's rows to assert on.

Everything here takes a sync `Session`, so the in-process tests (`deps.job_context()`) and the
real-process fault tests (their own engine) share it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import count
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.models import Role
from access.service import create_user
from intake.models import Channel, ReporterRole
from notifications import oncall_service
from notifications.alert_models import Alert, AlertAttempt, Escalation
from notifications.staff_contacts import set_contact
from triage.models import Case, CaseStatus, ClockMode, Deadline, DeadlineKind

PASSWORD = "korrekt-hest-batteri-haefteklamme"
H48 = timedelta(hours=48)
# The national hotline's SMS and voice number (the migration's seed): alerts come from it.
NATIONAL_NUMBER = "+4541749090"
_references = count(42)


@dataclass(frozen=True)
class Team:
    anne: int  # the case's assignee
    bo: int  # on call now (from Monday 2 March 2026, 09:00 Copenhagen time)
    carl: int  # on call next (from Monday 9 March)
    lise: int  # the team lead (an admin)

    def phone(self, staff_id: int) -> str:
        return PHONES[self.name(staff_id)]

    def name(self, staff_id: int) -> str:
        return next(n for n in ("anne", "bo", "carl", "lise") if getattr(self, n) == staff_id)


PHONES = {
    "anne": "+4520123411",
    "bo": "+4520123422",
    "carl": "+4520123433",
    "lise": "+4520123455",
}


def make_team(session: Session, now: datetime) -> Team:
    """Four staff members with phones and e-mail addresses, and the national hotline's weekly
    rotation Bo, Carl with Lise as team lead."""
    ids: dict[str, int] = {}
    for name, number in PHONES.items():
        user = create_user(
            session,
            username=name,
            display_name=name.title(),
            password=PASSWORD,
            role=Role.ADMIN if name == "lise" else Role.HOTLINE,
            now=now,
        )
        session.flush()
        set_contact(
            session,
            user.id,
            {"phone": number, "email": f"{name}@example.org"},
            actor_id=None,
            now=now,
        )
        ids[name] = user.id
    oncall_service.create_schedule(
        session,
        "national",
        oncall_service.RotationInput(
            participants=[ids["bo"], ids["carl"]],
            start_date=date(2026, 3, 2),
            team_lead_id=ids["lise"],
        ),
        actor_id=ids["lise"],
        now=now,
    )
    return Team(**ids)


def visitation_case(
    session: Session,
    *,
    started_at: datetime,
    assignee_id: int | None,
    duration: timedelta = H48,
    hotline: str = "national",
) -> tuple[int, int]:
    """A routed case whose visitation deadline started at `started_at`; (case id, deadline id)."""
    number = next(_references)
    case = Case(
        reference=f"NAT-2026-{number:05d}",
        hotline_id=hotline,
        status=CaseStatus.ROUTED,
        received_at=started_at,
        channel=Channel.WEB_FORM,
        reporter_role=ReporterRole.RELATIVE,
        opened_at=started_at,
        is_acute=False,
        queue_rank=1,
        queue_due_at=started_at + duration,
        assignee_id=assignee_id,
    )
    session.add(case)
    session.flush()
    deadline = Deadline(
        case_id=case.id,
        kind=DeadlineKind.VISITATION,
        clock_mode=ClockMode.CALENDAR,
        started_at=started_at,
        due_at=started_at + duration,
    )
    session.add(deadline)
    session.flush()
    return case.id, deadline.id


@dataclass(frozen=True)
class Snapshot:
    steps: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    attempts: list[dict[str, Any]]

    def step(self, name: str) -> dict[str, Any]:
        return next(s for s in self.steps if s["name"] == name)

    def alert(self, step: str) -> dict[str, Any]:
        found = [a for a in self.alerts if a["step"] == step]
        assert len(found) == 1, f"{len(found)} alerts for step {step}: {self.alerts}"
        return found[0]

    def attempts_of(self, alert_id: int, **match: Any) -> list[dict[str, Any]]:
        return [
            a
            for a in self.attempts
            if a["alert_id"] == alert_id and all(a[k] == v for k, v in match.items())
        ]


def snapshot(session: Session, case_id: int) -> Snapshot:
    steps = [
        {
            "id": e.id,
            "name": e.step_name,
            "status": e.status.value,
            "due_at": e.due_at,
            "fired_at": e.fired_at,
            "stop_reason": e.stop_reason.value if e.stop_reason else None,
        }
        for e in session.scalars(
            select(Escalation).where(Escalation.case_id == case_id).order_by(Escalation.id)
        )
    ]
    names = {s["id"]: s["name"] for s in steps}
    alerts = [
        {
            "id": a.id,
            "step": names[a.escalation_id],
            "status": a.status.value,
            "code": a.code,
            "rounds": a.rounds,
            "chain_position": a.chain_position,
            "next_round_at": a.next_round_at,
            "acknowledged_by": a.acknowledged_by,
            "acknowledged_how": a.acknowledged_how.value if a.acknowledged_how else None,
            "acknowledged_at": a.acknowledged_at,
            "stop_reason": a.stop_reason.value if a.stop_reason else None,
        }
        for a in session.scalars(select(Alert).where(Alert.case_id == case_id).order_by(Alert.id))
    ]
    alert_ids = [a["id"] for a in alerts]
    attempts = [
        {
            "id": t.id,
            "alert_id": t.alert_id,
            "round": t.round,
            "recipient": t.recipient_id,
            "channel": t.channel.value,
            "status": t.status.value,
            "tries": t.tries,
            "next_try_at": t.next_try_at,
            "provider_id": t.provider_id,
            "provider_status": t.provider_status,
            "token": t.token,
            "error_code": t.error_code,
            "fallback_of": t.fallback_of,
        }
        for t in session.scalars(
            select(AlertAttempt)
            .where(AlertAttempt.alert_id.in_(alert_ids or [-1]))
            .order_by(AlertAttempt.id)
        )
    ]
    return Snapshot(steps, alerts, attempts)
