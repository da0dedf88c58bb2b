"""Shared fixtures: settings, the real prompt files, a fake backend, and (session-wide) the real embedded model."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from qa.backends.fake import FakeBackend
from qa.settings import Settings
from qa.wiring import build_service

MEDICAL_OK = {
    "summary": "头痛伴低烧多与感冒等感染有关。",
    "analysis": ["常见于病毒性上呼吸道感染。"],
    "suggestions": ["多休息、多饮水，观察体温。"],
    "urgent": False,
}
FINANCE_OK = {
    "summary": "市盈率是股价与每股收益之比。",
    "analysis": ["市盈率高可能意味着市场预期增长较快。"],
    "suggestions": ["结合行业平均水平比较。"],
    "risk_notice": "估值指标不能单独预测股价，投资有风险。",
}


def dumps(data: dict[str, Any]) -> str:
    """Compact JSON as the model writes it."""
    return json.dumps(data, ensure_ascii=False)


def make_api(tmp_path: Path, backend: Any = None, **overrides: Any):
    """Settings, fake backend and warm service for an API server (raw model on, no rate limit, small limits)."""
    values = dict(raw_model=True, rate_limit_per_minute=0, max_body_bytes=65536, queue_size=1)
    settings = Settings(backend="fake", cache_dir=tmp_path / "cache", **{**values, **overrides})
    backend = backend or FakeBackend()
    service = build_service(settings, backend)
    service.warm_up()
    return settings, backend, service


@pytest.fixture(autouse=True)
def no_qa_environment(monkeypatch):
    """QA_* variables of the shell running the tests never leak into a test's Settings()."""
    for name in [n for n in os.environ if n.startswith("QA_") and n != "QA_REQUIRE_BROWSER"]:
        monkeypatch.delenv(name)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for unit tests: fake backend, real prompt files, a throwaway cache."""
    return Settings(backend="fake", cache_dir=tmp_path / "cache")


@pytest.fixture
def make_service(settings: Settings):
    """Factory: a service over a FakeBackend replaying the given responses."""

    def make(responses: Any = None, **backend_kwargs: Any):
        backend = FakeBackend(responses, **backend_kwargs)
        return build_service(settings, backend), backend

    return make


@pytest.fixture(scope="session")
def real_backend():
    """The real embedded model (loaded once per test session by real_service)."""
    from qa.backends import create_backend

    cache = os.environ.get("QA_CACHE_DIR")
    kwargs: dict[str, Any] = {"backend": "transformers", "model_source": "embedded", "seed": 1234}
    if cache:
        kwargs["cache_dir"] = Path(cache)
    return create_backend(Settings(**kwargs))


@pytest.fixture(scope="session")
def real_service(real_backend):
    """The real embedded model behind the real service."""
    service = build_service(Settings(), real_backend)
    service.warm_up()
    return service
