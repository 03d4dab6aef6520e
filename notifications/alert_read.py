"""What the pages, the API and the metrics read about escalation (async, a fixed number of
queries each): the open alerts, a case's steps with their alerts and attempts, delivery
failures by channel. No personal data: case references, staff names, codes of our own."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from access.models import StaffUser
from notifications.alert_models import (
    Alert,
    AlertAttempt,
    AlertChannel,
    AlertStatus,
    Escalation,
)
from triage.deadline_clock import DeadlineKind
from triage.models import Case, Deadline

# Alerts closed this recently still show on the alerts page (who acknowledged, when).
RECENT = timedelta(hours=24)
OPEN_LIMIT = 200


@dataclass
class AlertItem:
    alert: Alert
    reference: str
    # The people the latest round went to, by name.
    recipients: list[str]
    # Whether the viewer is one of them.
    mine: bool
    acknowledged_by: str | None = None


@dataclass
class AlertsPage:
    open: list[AlertItem]
    closed: list[AlertItem]


async def _names(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(
        (
            await session.execute(
                select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(ids))
            )
        ).all()
    )


async def alerts_page(session: AsyncSession, *, viewer_id: int | None, now: datetime) -> AlertsPage:
    """Open alerts (the viewer's first, then newest first) and those closed in the last day."""
    rows = (
        await session.execute(
            select(Alert, Case.reference)
            .join(Case, Case.id == Alert.case_id)
            .where(
                or_(
                    Alert.status == literal_column("'open'"),
                    Alert.acknowledged_at >= now - RECENT,
                    Alert.stopped_at >= now - RECENT,
                )
            )
            .order_by(Alert.fired_at.desc(), Alert.id.desc())
            .limit(OPEN_LIMIT)
        )
    ).all()
    alert_ids = [alert.id for alert, _ in rows]
    latest: dict[int, set[int]] = defaultdict(set)
    if alert_ids:
        found = await session.execute(
            select(AlertAttempt.alert_id, AlertAttempt.round, AlertAttempt.recipient_id).where(
                AlertAttempt.alert_id.in_(alert_ids), AlertAttempt.channel == AlertChannel.APP
            )
        )
        rounds: dict[int, int] = {}
        for alert_id, number, recipient in found.all():
            if number > rounds.get(alert_id, -1):
                rounds[alert_id] = number
                latest[alert_id] = set()
            if number == rounds[alert_id]:
                latest[alert_id].add(recipient)
    people = {p for ids in latest.values() for p in ids}
    people |= {a.acknowledged_by for a, _ in rows if a.acknowledged_by is not None}
    names = await _names(session, people)
    items = [
        AlertItem(
            alert,
            reference,
            sorted(names.get(p, f"#{p}") for p in latest.get(alert.id, ())),
            viewer_id in latest.get(alert.id, ()),
            names.get(alert.acknowledged_by) if alert.acknowledged_by else None,
        )
        for alert, reference in rows
    ]
    open_items = [i for i in items if i.alert.status is AlertStatus.OPEN]
    open_items.sort(key=lambda i: not i.mine)  # stable: newest first within each group
    return AlertsPage(open_items, [i for i in items if i.alert.status is not AlertStatus.OPEN])


async def open_count(session: AsyncSession) -> int:
    """Open alerts: the count the queue page shows (one scan of a partial index)."""
    found = await session.scalar(
        select(func.count()).select_from(Alert).where(Alert.status == literal_column("'open'"))
    )
    return int(found or 0)


# --- one case --------------------------------------------------------------------------------


@dataclass
class AlertView:
    alert: Alert
    attempts: list[AlertAttempt] = field(default_factory=list)


@dataclass
class StepView:
    step: Escalation
    deadline_kind: DeadlineKind
    # The deadline is met (or the case closed): a step still pending will not fire.
    deadline_met: bool
    alert: AlertView | None = None


@dataclass
class CaseEscalation:
    steps: list[StepView]
    staff_names: dict[int, str]

    @property
    def alerts(self) -> list[AlertView]:
        return [s.alert for s in self.steps if s.alert is not None]


async def case_escalation(session: AsyncSession, case: Case) -> CaseEscalation:
    """Every step of the case's deadlines (all plans), each with its alert and attempts."""
    steps = list(
        await session.scalars(
            select(Escalation)
            .where(Escalation.case_id == case.id)
            .order_by(Escalation.due_at, Escalation.id)
        )
    )
    if not steps:
        return CaseEscalation([], {})
    deadlines = {
        d.id: (d.kind, d.met_at is not None or case.closed_at is not None)
        for d in await session.scalars(select(Deadline).where(Deadline.case_id == case.id))
    }
    alerts = {
        a.escalation_id: AlertView(a)
        for a in await session.scalars(select(Alert).where(Alert.case_id == case.id))
    }
    by_alert = {view.alert.id: view for view in alerts.values()}
    if by_alert:
        for attempt in await session.scalars(
            select(AlertAttempt)
            .where(AlertAttempt.alert_id.in_(by_alert))
            .order_by(AlertAttempt.round, AlertAttempt.id)
        ):
            by_alert[attempt.alert_id].attempts.append(attempt)
    people = {t.recipient_id for v in alerts.values() for t in v.attempts}
    people |= {v.alert.acknowledged_by for v in alerts.values() if v.alert.acknowledged_by}
    return CaseEscalation(
        [StepView(s, *deadlines[s.deadline_id], alerts.get(s.id)) for s in steps],
        await _names(session, people),
    )
