"""Prometheus text output, and what the service records for each outcome."""

import threading

import pytest

from qa.backends.fake import FakeBackend
from qa.errors import InputError
from qa.metrics import Counter, Histogram, Metrics
from qa.wiring import build_service

from .helpers import MEDICAL_OK, dumps


def test_counter_renders_labels_escaped_and_sorted():
    c = Counter("x_total", "Things.", ("rule",))
    c.inc(rule='a"b\\c\nd')
    c.inc(2, rule="a")
    assert c.header() == ["# HELP x_total Things.", "# TYPE x_total counter"]
    assert c.samples() == ['x_total{rule="a"} 2', 'x_total{rule="a\\"b\\\\c\\nd"} 1']
    with pytest.raises(ValueError):
        c.inc(-1, rule="a")
    with pytest.raises(ValueError):
        c.inc(wrong="a")


def test_histogram_buckets_are_cumulative_with_sum_and_count():
    h = Histogram("lat_seconds", "Latency.", (0.5, 1.0), ("domain",))
    for value in (0.2, 0.7, 3.0):
        h.observe(value, domain="m")
    assert h.samples() == [
        'lat_seconds_bucket{domain="m",le="0.5"} 1',
        'lat_seconds_bucket{domain="m",le="1"} 2',
        'lat_seconds_bucket{domain="m",le="+Inf"} 3',
        'lat_seconds_sum{domain="m"} 3.9',
        'lat_seconds_count{domain="m"} 3',
    ]
    assert h.count(domain="m") == 3 and h.count(domain="f") == 0


def test_render_has_every_family_once_and_gauges_read_at_scrape_time():
    metrics = Metrics()
    depth = [3]
    metrics.gauge("q_depth", "Depth.", lambda: depth[0])
    metrics.gauge("q_depth", "Depth.", lambda: depth[0])  # re-registering replaces
    depth[0] = 5
    text = metrics.render()
    assert text.count("# TYPE q_depth gauge") == 1 and "q_depth 5" in text.splitlines()
    assert "# TYPE qa_validation_rule_fired_total counter" in text
    assert text.endswith("\n")


def test_counters_are_thread_safe():
    c = Counter("n_total", "N.")
    threads = [threading.Thread(target=lambda: [c.inc() for _ in range(1000)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert c.values() == {(): 4000.0}


@pytest.fixture
def metered(settings):
    """Factory: a service over a FakeBackend with a Metrics object the test can read."""

    def make(responses=None):
        metrics = Metrics()
        return build_service(settings, FakeBackend(responses), metrics=metrics), metrics

    return make


def requests(metrics):
    return {k: int(v) for k, v in metrics.requests.values().items()}


@pytest.mark.parametrize(
    "responses,question,status",
    [
        ([dumps(MEDICAL_OK)], "头痛", "ok"),
        (['{"summary": "没写完'], "头痛", "invalid"),
        ([dumps(MEDICAL_OK)], "   ", "rejected"),
    ],
)
def test_service_counts_each_outcome_with_its_channel(metered, responses, question, status):
    service, metrics = metered(responses)
    try:
        service.answer("medical", question, service.params("medical"), channel="cli")
    except InputError:
        pass
    assert requests(metrics) == {("medical", "cli", status): 1}
    timed = metrics.latency.count(domain="medical", channel="cli")
    assert timed == (0 if status == "rejected" else 1)


def test_a_stream_closed_early_counts_as_cancelled_and_frees_the_gate(metered):
    service, metrics = metered([dumps(MEDICAL_OK)])
    events = service.stream("medical", "头痛", service.params("medical"))
    next(events)
    assert service.gate_state()["active"] == 1
    events.close()
    assert service.gate_state()["active"] == 0
    assert requests(metrics) == {("medical", "ui", "cancelled"): 1}
    assert metrics.ttft.count(domain="medical", channel="ui") == 1


def test_rule_counts_come_from_the_metrics(make_service):
    service, _ = make_service([dumps(MEDICAL_OK)])
    service.answer("medical", "我爸突然说话含糊不清，嘴角歪了", service.params("medical"))
    assert service.rule_counts()["red_flag"] == 1
    assert 'qa_validation_rule_fired_total{rule="red_flag"} 1' in service.metrics_text()
