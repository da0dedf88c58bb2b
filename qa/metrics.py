"""Prometheus text-format metrics: a few thread-safe counters, histograms and gauges, and the app's own set."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable

LabelValues = tuple[str, ...]

LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0)
TTFT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
TPS_BUCKETS = (1.0, 2.0, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: Iterable[str], values: Iterable[str], extra: str = "") -> str:
    parts = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class _Metric:
    kind = ""

    def __init__(self, name: str, help_text: str, labels: tuple[str, ...] = ()) -> None:
        self.name = name
        self.help = help_text
        self.labelnames = labels
        self._lock = threading.Lock()

    def _key(self, labels: dict[str, str]) -> LabelValues:
        if set(labels) != set(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}, got {sorted(labels)}")
        return tuple(str(labels[n]) for n in self.labelnames)

    def header(self) -> list[str]:
        """The HELP and TYPE lines."""
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]

    def samples(self) -> list[str]:
        """The sample lines."""
        raise NotImplementedError


class Counter(_Metric):
    """A monotonically growing count per label set."""

    kind = "counter"

    def __init__(self, name: str, help_text: str, labels: tuple[str, ...] = ()) -> None:
        super().__init__(name, help_text, labels)
        self._values: dict[LabelValues, float] = {}

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        """Add `amount` (never negative) to the labelled count."""
        if amount < 0:
            raise ValueError("a counter only goes up")
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def values(self) -> dict[LabelValues, float]:
        """A copy of every labelled count."""
        with self._lock:
            return dict(self._values)

    def samples(self) -> list[str]:
        return [f"{self.name}{_labels(self.labelnames, k)} {_number(v)}" for k, v in sorted(self.values().items())]


class Histogram(_Metric):
    """Observations counted into cumulative buckets, with their sum and count."""

    kind = "histogram"

    def __init__(self, name: str, help_text: str, buckets: tuple[float, ...], labels: tuple[str, ...] = ()) -> None:
        super().__init__(name, help_text, labels)
        self.buckets = tuple(sorted(buckets))
        self._series: dict[LabelValues, tuple[list[int], list[float]]] = {}

    def observe(self, value: float, **labels: str) -> None:
        """Count one observation."""
        key = self._key(labels)
        with self._lock:
            counts, total = self._series.setdefault(key, ([0] * (len(self.buckets) + 1), [0.0]))
            for i, bound in enumerate(self.buckets):
                if value <= bound:
                    counts[i] += 1
            counts[-1] += 1
            total[0] += value

    def count(self, **labels: str) -> int:
        """Observations so far for one label set."""
        with self._lock:
            series = self._series.get(self._key(labels))
            return series[0][-1] if series else 0

    def samples(self) -> list[str]:
        lines = []
        with self._lock:
            series = {k: (list(c), t[0]) for k, (c, t) in self._series.items()}
        for key, (counts, total) in sorted(series.items()):
            for bound, count in zip((*self.buckets, math.inf), counts, strict=True):
                le = f'le="{_number(bound)}"'
                lines.append(f"{self.name}_bucket{_labels(self.labelnames, key, le)} {count}")
            lines.append(f"{self.name}_sum{_labels(self.labelnames, key)} {_number(total)}")
            lines.append(f"{self.name}_count{_labels(self.labelnames, key)} {counts[-1]}")
        return lines


class Gauge(_Metric):
    """A value read when metrics are scraped, from a function (e.g. a queue's current length)."""

    kind = "gauge"

    def __init__(self, name: str, help_text: str, read: Callable[[], float]) -> None:
        super().__init__(name, help_text)
        self.read = read

    def samples(self) -> list[str]:
        return [f"{self.name} {_number(self.read())}"]


class Metrics:
    """Every metric the app exports; one object, passed to the service and the server (no module globals)."""

    def __init__(self) -> None:
        self.requests = Counter(
            "qa_requests_total",
            "Questions and chat requests by domain, edge (ui, api, cli) and outcome.",
            ("domain", "channel", "status"),
        )
        self.latency = Histogram(
            "qa_request_duration_seconds",
            "Time from a request reaching the service to its final answer.",
            LATENCY_BUCKETS,
            ("domain", "channel"),
        )
        self.ttft = Histogram(
            "qa_time_to_first_token_seconds",
            "Time from a request reaching the service to the first text it streams (queue wait included).",
            TTFT_BUCKETS,
            ("domain", "channel"),
        )
        self.tokens = Counter("qa_generated_tokens_total", "Tokens generated, repairs included.", ("domain",))
        self.tokens_per_s = Histogram(
            "qa_tokens_per_second", "Decode speed of each finished request.", TPS_BUCKETS, ("domain",)
        )
        self.rules = Counter(
            "qa_validation_rule_fired_total", "Validation and safety rules that fired on answers.", ("rule",)
        )
        self.api_responses = Counter(
            "qa_api_responses_total", "Responses of the OpenAI-compatible API by HTTP status.", ("status",)
        )
        self.cache = Counter(
            "qa_cache_requests_total",
            "Answer cache lookups: hit (replayed), miss (generated), skip (not deterministic, never cached), "
            "error (the cache could not be reached; answered without it).",
            ("result",),
        )
        self._metrics: list[_Metric] = [
            self.requests,
            self.latency,
            self.ttft,
            self.tokens,
            self.tokens_per_s,
            self.rules,
            self.api_responses,
            self.cache,
        ]

    def gauge(self, name: str, help_text: str, read: Callable[[], float]) -> None:
        """Export a value read at scrape time (a gauge of the same name is replaced)."""
        self._metrics = [m for m in self._metrics if m.name != name] + [Gauge(name, help_text, read)]

    def render(self) -> str:
        """The whole exposition in Prometheus text format 0.0.4."""
        lines: list[str] = []
        for metric in self._metrics:
            lines += metric.header() + metric.samples()
        return "\n".join(lines) + "\n"
