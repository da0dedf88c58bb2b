"""Shared fixtures: settings, a fake backend, and (session-wide) the real embedded model. Helpers live in helpers.py."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest

from qa.backends.fake import FakeBackend
from qa.settings import Settings
from qa.wiring import build_service

from .helpers import real_model_settings

# The costliest test files first (serial seconds on the AMD EPYC, BENCHMARKS.md): `./start.sh test` runs the suite on
# two workers with `--dist loadfile`, which hands out whole files in collection order to whichever worker is free —
# longest first, the run ends on short files instead of one worker alone with test_triage.py. An order, not a
# dependency: every file passes on its own.
COSTLY_FIRST = (
    "test_triage.py",  # 354 s
    "browser/test_chat.py",  # 298 s
    "browser/test_finance.py",  # 206 s on two workers under load (one real-model server)
    "test_safety_model.py",  # 163 s
    "test_model.py",  # 125 s
    "test_llamacpp.py",  # 104 s
    "test_record_model.py",  # 98 s
    "test_cache.py",  # 95 s
    "test_cli.py",  # 66 s
    "test_service.py",  # 57 s
    "test_record.py",  # 56 s
    "test_finance_calc.py",  # 52 s
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Move the costliest files to the front (stable: everything else keeps pytest's order)."""
    rank = {name: i for i, name in enumerate(COSTLY_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0].removeprefix("tests/"), len(rank)))


# switches for the test run itself, not settings fields (so they cannot reach a Settings())
TEST_SWITCHES = ("QA_REQUIRE_BROWSER", "QA_REQUIRE_REDIS", "QA_REQUIRE_POSTGRES", "QA_TEST_DTYPE", "QA_TEST_TOKENIZER")


@pytest.fixture(autouse=True)
def no_qa_environment(monkeypatch):
    """QA_* variables of the shell running the tests never leak into a test's Settings()."""
    for name in [n for n in os.environ if n.startswith("QA_") and n not in TEST_SWITCHES]:
        monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def app_logging_removed():
    """A test that runs the CLI in-process gives the root logger the app's handlers on its captured stderr; take them
    off afterwards, or a server thread of a later test logs into that closed stream ("I/O operation on closed file")."""
    from qa.logs import JsonFormatter, KeyValueFormatter

    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in before and isinstance(handler.formatter, (KeyValueFormatter, JsonFormatter)):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


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
    """The real embedded model on the backend `./start.sh` picks by default here (llama.cpp on a CPU once it is
    built, which `./start.sh test` does), loaded once per test session by real_service."""
    from qa.backends import create_backend

    return create_backend(Settings(**real_model_settings()))


@pytest.fixture(scope="session")
def real_service(real_backend):
    """The real embedded model behind the real service."""
    service = build_service(Settings(answer_cache=False), real_backend)  # tests of the model, not of replays
    service.warm_up()
    return service


@pytest.fixture(scope="session")
def transformers_backend():
    """The embedded model on the transformers backend (the production code path, run on this CPU)."""
    from qa.backends import create_backend

    return create_backend(Settings(**real_model_settings(backend="transformers")))


@pytest.fixture(scope="session")
def transformers_service(transformers_backend):
    """The transformers backend behind the real service."""
    service = build_service(Settings(answer_cache=False), transformers_backend)
    service.warm_up()
    return service


@pytest.fixture(scope="session")
def drugs():
    """The packaged drug list with every alias file, as the app loads it (the drug tests' finder)."""
    from qa.wiring import load_drugs

    return load_drugs(Settings(backend="fake"))


@pytest.fixture(scope="session")
def checker():
    """The leak checker over the same list and alias files, with its own list and the finder's shorthand file (the
    tests ask that a form the finder reads is readable before redaction and gone after; the leak figures use the
    checker's own list alone)."""
    from qa.eval.drug_eval import packaged_checker

    return packaged_checker(shared=True)
