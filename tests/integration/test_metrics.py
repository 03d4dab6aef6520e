"""GET /metrics: deadline figures counted from the database at scrape time, behind a bearer
token; no token configured, no metrics (404)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

import metrics
from bootstrap import Deps, build_deps
from clock import FrozenClock
from server import create_app
from settings import Settings, load_settings
from tests.support.cases import add_case
from triage.models import Case, CaseStatus, ClockMode, Deadline, DeadlineKind

pytestmark = pytest.mark.asyncio

TOKEN = "prometheus-scrape-token-0123456789abcdef"


@pytest.fixture
def settings(test_environ: dict[str, str]) -> Settings:
    return load_settings({**test_environ, "HOTLINE_METRICS_TOKEN": TOKEN})


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def scrape(client: Any) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    response = await client.get("/metrics", headers=bearer())
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    assert response.headers["Cache-Control"] == "no-store"
    body = await response.text()
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(body):
        samples = found.setdefault(family.name, {})
        for sample in family.samples:
            samples[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def key(**labels: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


def add_visitation(deps: Deps, case_id: int, *, due_in: timedelta, met: bool = False) -> None:
    now = deps.clock.now()
    with deps.job_context().transaction() as session:
        session.add(
            Deadline(
                case_id=case_id,
                kind=DeadlineKind.VISITATION,
                clock_mode=ClockMode.BUSINESS_HOURS,
                started_at=now - timedelta(hours=4),
                due_at=now + due_in,
                met_at=now if met else None,
            )
        )


async def test_without_a_token_configured_there_are_no_metrics(
    deps: Deps, test_environ: dict[str, str]
) -> None:
    plain = load_settings(test_environ)
    assert plain.metrics_token is None
    other = build_deps(plain, clock=FrozenClock(deps.clock.now()))
    try:
        async with TestClient(TestServer(create_app(other, in_process_worker=False))) as client:
            response = await client.get("/metrics", headers=bearer())
            assert response.status == 404
    finally:
        await other.aclose()


@pytest.mark.parametrize(
    "headers",
    [{}, bearer("wrong-token"), {"Authorization": f"Basic {TOKEN}"}, {"Authorization": TOKEN}],
    ids=["none", "wrong", "basic", "bare"],
)
async def test_a_scrape_without_the_token_is_refused(client: Any, headers: dict[str, str]) -> None:
    response = await client.get("/metrics", headers=headers)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "hotline_deadlines" not in await response.text()


async def test_the_figures_are_counted_from_the_database_at_scrape_time(
    client: Any, deps: Deps, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_case(deps, due_in=timedelta(hours=-1))
    add_case(deps, due_in=timedelta(hours=2))  # due soon (window: 4 h)
    add_case(deps, due_in=timedelta(hours=20))
    add_case(deps, due_in=timedelta(hours=-5), closed=True)  # ended: counts nowhere
    routed = add_case(
        deps, hotline="copenhagen", status=CaseStatus.ROUTED, due_in=timedelta(hours=-10)
    )
    with deps.job_context().transaction() as session:
        # Its triage was met; its visitation is what runs.
        session.get_one(Case, routed).queue_deadline_kind = DeadlineKind.VISITATION
        session.query(Deadline).filter(Deadline.case_id == routed).update({"met_at": clock.now()})
    add_visitation(deps, routed, due_in=timedelta(hours=3))
    visited = add_case(deps, hotline="copenhagen", due_in=timedelta(hours=-30))
    with deps.job_context().transaction() as session:
        session.query(Deadline).filter(Deadline.case_id == visited).update({"met_at": clock.now()})
    add_visitation(deps, visited, due_in=timedelta(hours=-1), met=True)

    found = await scrape(client)
    opened = found["hotline_deadlines_open"]
    at_risk = found["hotline_deadlines_at_risk"]
    late = found["hotline_deadlines_overdue"]
    assert opened[key(hotline="national", kind="triage")] == 3
    assert at_risk[key(hotline="national", kind="triage")] == 1
    assert late[key(hotline="national", kind="triage")] == 1
    assert opened[key(hotline="copenhagen", kind="visitation")] == 1
    assert at_risk[key(hotline="copenhagen", kind="visitation")] == 1
    assert late[key(hotline="copenhagen", kind="visitation")] == 0
    # Every hotline and kind is there, 0 where nothing runs.
    every = {
        key(hotline=h, kind=k) for h in ("national", "copenhagen") for k in ("triage", "visitation")
    }
    for samples in (opened, at_risk, late):
        assert set(samples) == every
    assert opened[key(hotline="copenhagen", kind="triage")] == 0
    assert opened[key(hotline="national", kind="visitation")] == 0
    # No alert has failed: every channel is named, at zero.
    assert found["hotline_alert_delivery_failures"] == {
        key(channel=c): 0 for c in ("voice", "sms", "email")
    }

    # Counted at each scrape, not kept: two hours later the due-soon ones are overdue.
    clock.advance(timedelta(hours=3, minutes=30))
    found = await scrape(client)
    assert found["hotline_deadlines_overdue"][key(hotline="national", kind="triage")] == 2
    assert found["hotline_deadlines_overdue"][key(hotline="copenhagen", kind="visitation")] == 1
    assert found["hotline_deadlines_at_risk"][key(hotline="national", kind="triage")] == 0


async def test_alert_failures_come_from_the_alert_engines_count(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        metrics, "failed_alert_attempts_by_channel", lambda session: {"sms": 4, "voice": 1}
    )
    found = await scrape(client)
    assert found["hotline_alert_delivery_failures"] == {
        key(channel="sms"): 4,
        key(channel="voice"): 1,
    }


async def test_no_personal_data_and_no_session_needed(client: Any, deps: Deps) -> None:
    add_case(deps, reference="NAT-2026-04242")
    response = await client.get("/metrics", headers=bearer())
    body = await response.text()
    assert "NAT-2026-04242" not in body
    assert "set-cookie" not in {h.lower() for h in response.headers}
    labels = {
        name
        for family in text_string_to_metric_families(body)
        for sample in family.samples
        for name in sample.labels
    }
    assert labels <= {"hotline", "kind", "channel"}
