"""metrics: one scrape's figures in Prometheus' text format, read back with its own parser."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from metrics import DeadlineFigures, Figures, exposition
from triage.models import DeadlineKind


def test_the_figures_read_back_as_gauges_and_a_counter() -> None:
    figures = Figures(
        deadlines={
            ("national", DeadlineKind.TRIAGE): DeadlineFigures(open=5, at_risk=2, overdue=1),
            ("national", DeadlineKind.VISITATION): DeadlineFigures(),
        },
        alert_failures={"sms": 3, "voice": 0},
    )
    families = {f.name: f for f in text_string_to_metric_families(exposition(figures).decode())}
    assert set(families) == {
        "hotline_deadlines_open",
        "hotline_deadlines_at_risk",
        "hotline_deadlines_overdue",
        "hotline_alert_delivery_failures",
    }
    for name in (
        "hotline_deadlines_open",
        "hotline_deadlines_at_risk",
        "hotline_deadlines_overdue",
    ):
        assert families[name].type == "gauge"
    assert families["hotline_alert_delivery_failures"].type == "counter"

    def value(name: str, **labels: str) -> float:
        (sample,) = [s for s in families[name].samples if s.labels == labels]
        return sample.value

    assert value("hotline_deadlines_open", hotline="national", kind="triage") == 5
    assert value("hotline_deadlines_at_risk", hotline="national", kind="triage") == 2
    assert value("hotline_deadlines_overdue", hotline="national", kind="triage") == 1
    # A combination with nothing running is written as 0, not left out.
    assert value("hotline_deadlines_open", hotline="national", kind="visitation") == 0
    failures = {
        s.labels["channel"]: s.value
        for s in families["hotline_alert_delivery_failures"].samples
        if s.name.endswith("_total")
    }
    assert failures == {"sms": 3, "voice": 0}


def test_no_alert_engine_yet_means_an_empty_counter() -> None:
    figures = Figures(deadlines={}, alert_failures={})
    families = {f.name: f for f in text_string_to_metric_families(exposition(figures).decode())}
    assert families["hotline_alert_delivery_failures"].samples == []
