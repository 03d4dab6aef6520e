"""`GET /metrics`: Prometheus metrics of the deadlines and alert deliveries, from the database.

Every figure is counted at scrape time from the database (`load_figures`: one grouped count over
the partial index of unmet deadlines, and the alert engine's count of failed attempts), then
handed to a custom collector for this one exposition. Nothing is counted in the process, so
every server process behind a load balancer answers the same.

Metrics (labels carry hotline ids, deadline kinds and channel names; never personal data):

- `hotline_deadlines_open{hotline, kind}` — deadlines running (unmet) on open cases
- `hotline_deadlines_at_risk{hotline, kind}` — of those, due within HOTLINE_QUEUE_AT_RISK_HOURS
- `hotline_deadlines_overdue{hotline, kind}` — of those, past their due time
- `hotline_alert_delivery_failures_total{channel}` — alert delivery attempts that failed; a
  counter (it only grows), so `rate()` and `increase()` work on it

Every hotline and kind is written, with 0 where nothing runs, so "no series" never stands in for
zero. Unlike the queue's counts (cases, by their nearest deadline), these count deadlines.

Access: `@public` for the session check, and guarded here by a bearer token
(HOTLINE_METRICS_TOKEN, compared in constant time). Without a token configured the route
answers 404, as if it did not exist: not "open on loopback", because behind a reverse proxy on
the same host every request comes from loopback.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.models import Hotline
from notifications.alert_metrics import failed_alert_attempts_by_channel
from triage.models import Case, Deadline, DeadlineKind
from web.appkeys import deps_key
from web.policy import public

PATH = "/metrics"


@dataclass(frozen=True)
class DeadlineFigures:
    open: int = 0
    at_risk: int = 0
    overdue: int = 0


@dataclass(frozen=True)
class Figures:
    # By (hotline id, deadline kind), every combination present.
    deadlines: Mapping[tuple[str, DeadlineKind], DeadlineFigures]
    alert_failures: Mapping[str, int]


def load_figures(session: Session, *, now: datetime, at_risk_window: timedelta) -> Figures:
    """Everything /metrics shows, counted now: two small queries and the alert engine's."""
    hotlines = list(session.scalars(select(Hotline.id).order_by(Hotline.id)))
    figures = {(h, kind): DeadlineFigures() for h in hotlines for kind in DeadlineKind}
    rows = session.execute(
        select(
            Case.hotline_id,
            Deadline.kind,
            func.count(),
            func.count().filter(Deadline.due_at > now, Deadline.due_at <= now + at_risk_window),
            func.count().filter(Deadline.due_at <= now),
        )
        .join(Case, Case.id == Deadline.case_id)
        # Unmet deadlines: the partial index ix_deadlines_open_due holds exactly these.
        .where(Deadline.met_at.is_(None), Case.closed_at.is_(None))
        .group_by(Case.hotline_id, Deadline.kind)
    ).all()
    for hotline_id, kind, running, at_risk, overdue in rows:
        figures[(hotline_id, kind)] = DeadlineFigures(int(running), int(at_risk), int(overdue))
    return Figures(figures, failed_alert_attempts_by_channel(session))


class FiguresCollector(Collector):
    """Turns one scrape's figures into metric families."""

    def __init__(self, figures: Figures) -> None:
        self._figures = figures

    def collect(self) -> Iterator[Metric]:
        labels = ["hotline", "kind"]
        families = {
            "open": GaugeMetricFamily(
                "hotline_deadlines_open", "Deadlines running (unmet) on open cases.", labels=labels
            ),
            "at_risk": GaugeMetricFamily(
                "hotline_deadlines_at_risk",
                "Running deadlines due within the at-risk window (HOTLINE_QUEUE_AT_RISK_HOURS).",
                labels=labels,
            ),
            "overdue": GaugeMetricFamily(
                "hotline_deadlines_overdue", "Running deadlines past their due time.", labels=labels
            ),
        }
        for (hotline_id, kind), counted in sorted(self._figures.deadlines.items()):
            for name, family in families.items():
                family.add_metric([hotline_id, kind.value], getattr(counted, name))
        yield from families.values()
        failures = CounterMetricFamily(
            "hotline_alert_delivery_failures",
            "Alert delivery attempts that failed, by channel.",
            labels=["channel"],
        )
        for channel, count in sorted(self._figures.alert_failures.items()):
            failures.add_metric([channel], count)
        yield failures


def exposition(figures: Figures) -> bytes:
    """The text format Prometheus scrapes, for these figures alone (no process metrics)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FiguresCollector(figures))
    return generate_latest(registry)


def _authorised(request: web.Request, token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


@public
async def metrics(request: web.Request) -> web.Response:
    deps = request.app[deps_key]
    token = deps.settings.metrics_token
    if token is None:
        raise web.HTTPNotFound()
    if not _authorised(request, token.get_secret_value()):
        raise web.HTTPUnauthorized(headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    window = timedelta(hours=deps.settings.queue_at_risk_hours)
    async with deps.sessions() as session:
        figures = await session.run_sync(load_figures, now=deps.clock.now(), at_risk_window=window)
    return web.Response(
        body=exposition(figures),
        headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"},
    )


def register(app: web.Application) -> None:
    app.router.add_get(PATH, metrics, name="metrics")
