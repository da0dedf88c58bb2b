"""The answer cache: its key, what it stores, replays, metrics, the stores (memory, disk, Redis) and a Redis that is
down. The Redis tests run a real redis-server on a free port (skipped without one, failed with QA_REQUIRE_REDIS=1)."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from qa.answers import Answer, StreamEvent
from qa.backends.fake import FakeBackend
from qa.bench import cache_figures, cache_report
from qa.cache import (
    KEY_VERSION,
    CachedAnswers,
    DiskCache,
    KeyParts,
    MemoryCache,
    NoCache,
    RedisCache,
    Retrieval,
    from_url,
    redact_url,
    storable,
)
from qa.errors import ConfigurationError, GenerationError
from qa.metrics import Metrics
from qa.service import QAService
from qa.settings import REPO_ROOT, Settings
from qa.tasks import TaskRegistry, builtin_tasks
from qa.validation import RuleHit, ValidationReport
from qa.wiring import build_service, load_drugs

from .helpers import MEDICAL_OK, dumps, free_port, stop_process, wait_for

QUESTION = "头痛三天怎么办？"


def cached_service(tmp_path: Path, backend: FakeBackend | None = None, tasks: TaskRegistry | None = None, **values):
    """A service over a fake backend with an in-memory cache (settings override)."""
    settings = Settings(backend="fake", cache_dir=tmp_path / "cache", **{"cache_url": "memory://", **values})
    backend = backend or FakeBackend([dumps(MEDICAL_OK)])
    return build_service(settings, backend, tasks=tasks), backend


def greedy(service, task: str = "medical", **kwargs: Any):
    return service.params(task, **{"temperature": 0.0, **kwargs})


def cache_count(service, result: str) -> int:
    for line in service.metrics_text().splitlines():
        if line.startswith(f'qa_cache_requests_total{{result="{result}"}}'):
            return int(float(line.split()[-1]))
    return 0


# ---- the key ------------------------------------------------------------------------------------------------------
BASE_PARTS = KeyParts(
    backend="llamacpp",
    model={"weights": {"sha256": "ab" * 32}, "info": {"name": "qwen", "dtype": "gguf"}},
    task="medical",
    schema="schema-hash",
    templates="templates-hash",
    prompt="<|im_start|>system\n...<|im_start|>user\n头痛<|im_end|>",
    sampling={"temperature": 0.0, "top_p": 1.0, "max_new_tokens": 512, "seed": None, "repetition_penalty": 1.05},
    checks=("check:json", "check:schema"),
    drugs="drugs-hash",
    code="0.1.0",
)


@pytest.mark.parametrize(
    "change",
    [
        {"backend": "transformers"},
        {"model": {"weights": {"sha256": "cd" * 32}, "info": {"name": "qwen", "dtype": "gguf"}}},
        {"model": {"weights": {"sha256": "ab" * 32}, "info": {"name": "qwen", "dtype": "bfloat16"}}},
        {"task": "finance"},
        {"schema": "other-schema"},
        {"templates": "other-templates"},
        {"prompt": "<|im_start|>system\n...<|im_start|>user\n头疼<|im_end|>"},
        {"sampling": {**BASE_PARTS.sampling, "temperature": 0.5}},
        {"sampling": {**BASE_PARTS.sampling, "top_p": 0.9}},
        {"sampling": {**BASE_PARTS.sampling, "max_new_tokens": 513}},
        {"sampling": {**BASE_PARTS.sampling, "seed": 1}},
        {"sampling": {**BASE_PARTS.sampling, "repetition_penalty": 1.0}},
        {"sampling": {**BASE_PARTS.sampling, "repair_attempts": 2}},
        {"checks": ("check:json",)},
        {"drugs": "other-drugs"},
        {"code": "0.2.0"},
        {"retrieval": Retrieval(chunk_ids=("kb:1",))},
        {"retrieval": Retrieval(kb_version="2027-01")},
    ],
    ids=lambda change: next(iter(change)) + ":" + json.dumps(next(iter(change.values())), default=str)[:30],
)
def test_key_changes_with_every_part(change):
    assert dataclasses.replace(BASE_PARTS, **change).key() != BASE_PARTS.key()


def test_key_is_stable_and_versioned():
    again = KeyParts(**{f.name: getattr(BASE_PARTS, f.name) for f in dataclasses.fields(KeyParts)})
    assert again.key() == BASE_PARTS.key()
    # dict order does not matter: the key hashes canonical JSON
    reordered = dataclasses.replace(BASE_PARTS, sampling=dict(reversed(list(BASE_PARTS.sampling.items()))))
    assert reordered.key() == BASE_PARTS.key()
    prefix, digest = BASE_PARTS.key().split(":")
    assert prefix == KEY_VERSION and len(digest) == 64


def _override(tmp_path: Path, name: str, edit) -> Path:
    """A prompts_dir holding one packaged file, edited."""
    folder = tmp_path / "prompts"
    folder.mkdir(exist_ok=True)
    source = next(REPO_ROOT.joinpath("qa").rglob(name))
    (folder / name).write_text(edit(source.read_text(encoding="utf-8")), encoding="utf-8")
    return folder


def _edit_schema(text: str) -> str:
    schema = json.loads(text)
    schema["properties"]["summary"]["description"] = schema["properties"]["summary"].get("description", "") + "。"
    return json.dumps(schema, ensure_ascii=False)


# Each row changes one thing the answer depends on, through the service. Keys of a row: ask (question, task,
# sampling, history, system prompt), settings (tmp_path -> overrides), tasks (-> registry), backend (changes the
# backend after the first key), before (changes it before both keys, to isolate the one thing changed).
SERVICE_ROWS: list[tuple[str, dict[str, Any]]] = [
    ("question", {"ask": {"question": "头痛两天怎么办？"}}),
    ("system prompt", {"ask": {"system_prompt": "你是一名谨慎的医生。"}}),
    ("history", {"ask": {"history": [{"role": "user", "content": "你好"}, {"role": "assistant", "content": "{}"}]}}),
    ("task", {"ask": {"task": "finance"}}),
    ("temperature", {"before": lambda b: setattr(b, "seed", 1), "ask": {"temperature": 0.5}}),
    ("top_p", {"ask": {"top_p": 0.5}}),
    ("max_new_tokens", {"ask": {"max_new_tokens": 300}}),
    ("seed", {"backend": lambda b: setattr(b, "seed", 7)}),
    ("repair attempts", {"settings": lambda tmp: {"repair_attempts": 2}}),
    ("weights", {"backend": lambda b: setattr(b, "weights", "other weights")}),
    ("script of a fake", {"backend": lambda b: b.script([dumps(MEDICAL_OK)])}),
    ("schema", {"settings": lambda tmp: {"prompts_dir": _override(tmp, "medical.schema.json", _edit_schema)}}),
    # the repair template is never in the first prompt: only the templates' hash sees it
    ("prompt template", {"settings": lambda tmp: {"prompts_dir": _override(tmp, "medical.yaml", _edit_repair)}}),
    ("checks", {"tasks": lambda: _fewer_checks()}),
    ("drug list", {"settings": lambda tmp: {"prompts_dir": _override(tmp, "forbidden_drugs.csv", _add_drug)}}),
]


def _edit_repair(text: str) -> str:
    assert "repair: |" in text
    return text.replace("repair: |", "repair: |\n  请注意：", 1)


def _add_drug(text: str) -> str:
    return text.rstrip("\n") + "\nexamplemab,示例单抗,,,monoclonal antibody,单克隆抗体\n"


def _fewer_checks() -> TaskRegistry:
    tasks = list(builtin_tasks())
    medical = next(t for t in tasks if t.name == "medical")
    fewer = dataclasses.replace(medical, checks=medical.checks[:-1])
    return TaskRegistry([fewer if t is medical else t for t in tasks])


def _key(tmp_path: Path, backend: FakeBackend, overrides=None, tasks=None, **ask: Any) -> str | None:
    service, _ = cached_service(tmp_path, backend, tasks=tasks, **(overrides or {}))
    task = ask.pop("task", "medical")
    params = service.params(task, **{"temperature": 0.0, **{k: ask.pop(k) for k in list(ask) if k in _PARAMS}})
    prompt = service.prepare(task, ask.pop("question", QUESTION), params, **ask)
    return service.cache_key(task, prompt, params)


_PARAMS = ("temperature", "top_p", "max_new_tokens")


@pytest.mark.parametrize("what,row", SERVICE_ROWS, ids=[what for what, _ in SERVICE_ROWS])
def test_the_services_key_changes_with_each_thing_an_answer_depends_on(tmp_path, what, row):
    backend = FakeBackend()
    backend.weights = "fixed"
    row.get("before", lambda b: None)(backend)
    base = _key(tmp_path, backend)
    assert base is not None and base == _key(tmp_path, backend)  # equal when nothing changes
    row.get("backend", lambda b: None)(backend)
    overrides = row.get("settings", lambda tmp: {})(tmp_path)
    tasks = row.get("tasks", lambda: None)()
    changed = _key(tmp_path, backend, overrides, tasks, **row.get("ask", {}))
    assert changed is not None and changed != base


def test_the_rendered_prompt_is_keyed_when_the_backend_can_render(tmp_path):
    class Rendering(FakeBackend):
        template = "A"

        def render(self, messages):
            return self.template + "|".join(m["content"] for m in messages)

    backend = Rendering()
    first = _key(tmp_path, backend)
    backend.template = "B"  # another chat template, same messages
    assert _key(tmp_path, backend) != first


# ---- what is stored -----------------------------------------------------------------------------------------------
def _event(passed=True, finish="stop", fired=()):
    report = ValidationReport(checks=["json"], fired=list(fired), attempts=1, passed=passed)
    answer = Answer("medical", "q", MEDICAL_OK, dumps(MEDICAL_OK), report, {"name": "fake"}, {})
    return StreamEvent("final", 1, text=answer.raw, answer=answer, finish_reason=finish)


@pytest.mark.parametrize(
    "event,expected",
    [
        (_event(), True),
        (_event(passed=False), False),
        (_event(finish="length"), False),
        (_event(finish="cancelled"), False),
        (_event(fired=[RuleHit("cancelled", "stopped", 1)]), False),
        (StreamEvent("final", 1, text="raw text"), False),  # a raw generation has no answer
    ],
    ids=["passed", "failed", "truncated", "cancelled", "cancel rule", "raw"],
)
def test_only_finished_validated_answers_are_storable(event, expected):
    assert storable(event) is expected


def test_a_hit_replays_the_same_answer_at_once_without_the_model(tmp_path):
    service, backend = cached_service(tmp_path)
    first = service.answer("medical", QUESTION, greedy(service))
    assert first.ok and first.cache == "miss"
    events = list(service.stream("medical", QUESTION, greedy(service)))
    assert [e.kind for e in events] == ["partial", "final"]
    assert events[0].text == events[-1].text == first.raw  # the partial carries the whole text, as the UI expects
    again = events[-1].answer
    assert again.cache == "hit" and again.data == first.data and again.raw == first.raw
    assert again.report == first.report and again.to_dict()["cache"] == "hit"
    assert len(backend.requests) == 1
    assert cache_count(service, "miss") == 1 and cache_count(service, "hit") == 1


def test_sampled_answers_are_skipped_unless_the_seed_is_fixed(tmp_path):
    service, backend = cached_service(tmp_path)
    sampled = service.params("medical", temperature=0.3)
    assert [service.answer("medical", QUESTION, sampled).cache for _ in range(2)] == ["skip", "skip"]
    assert len(backend.requests) == 2 and cache_count(service, "skip") == 2
    backend.seed = 1234
    assert [service.answer("medical", QUESTION, sampled).cache for _ in range(2)] == ["miss", "hit"]
    assert len(backend.requests) == 3


def test_a_failed_answer_is_not_stored(tmp_path):
    service, backend = cached_service(tmp_path, FakeBackend(["not json at all"]))
    results = [service.answer("medical", QUESTION, greedy(service)) for _ in range(2)]
    assert [(a.ok, a.cache) for a in results] == [(False, "miss"), (False, "miss")]
    assert len(backend.requests) == 4  # each ask: the answer and its repair attempt


def test_a_truncated_answer_is_not_stored(tmp_path):
    long = dumps({**MEDICAL_OK, "analysis": ["很长的分析。" * 20]})
    service, backend = cached_service(tmp_path, FakeBackend([long]), repair_attempts=0)
    params = greedy(service, max_new_tokens=64)
    assert [service.answer("medical", QUESTION, params).cache for _ in range(2)] == ["miss", "miss"]


def test_a_cancelled_answer_is_not_stored(tmp_path):
    service, backend = cached_service(tmp_path)
    backend.hold()  # the generation waits after its first chunk, until it is stopped
    stop = threading.Event()
    events = service.stream("medical", QUESTION, greedy(service), stop_event=stop)
    assert next(events).kind == "partial"
    stop.set()
    final = [e for e in events if e.kind == "final"][-1]
    assert final.finish_reason == "cancelled" and final.answer.cache == "miss"
    backend.release()
    assert service.answer("medical", QUESTION, greedy(service)).cache == "miss"
    assert service.answer("medical", QUESTION, greedy(service)).cache == "hit"


def test_an_errored_generation_is_not_stored(tmp_path):
    def broken(request):
        raise GenerationError("the model fell over")

    service, backend = cached_service(tmp_path, FakeBackend(broken))
    with pytest.raises(GenerationError):
        service.answer("medical", QUESTION, greedy(service))
    assert cache_count(service, "miss") == 1 and cache_count(service, "hit") == 0


def test_the_default_is_the_disk_cache_and_a_setting_turns_it_off(tmp_path, make_service, settings):
    service, _ = make_service([dumps(MEDICAL_OK)])  # default settings: the disk cache under cache_dir
    assert service.cache_status() == {"kind": "disk", "url": str(settings.cache_dir / "answers"), "status": "ok"}
    bare = QAService(FakeBackend(), builtin_tasks(), load_drugs(settings), 8000, 2048)  # no cache given: none
    assert bare.cache_status()["kind"] == "off"
    off, backend = cached_service(tmp_path, answer_cache=False)
    assert [off.answer("medical", QUESTION, greedy(off)).cache for _ in range(2)] == ["off", "off"]
    assert off.cache_status() == {"kind": "off", "status": "off"} and len(backend.requests) == 2
    assert "qa_cache_requests_total{" not in off.metrics_text()


def test_the_api_reports_the_cache_and_health_shows_it(tmp_path):
    from starlette.testclient import TestClient

    from qa.server import create_app

    service, _ = cached_service(tmp_path, raw_model=True, rate_limit_per_minute=0)
    service.warm_up()
    body = {"model": "qa-medical", "messages": [{"role": "user", "content": QUESTION}], "temperature": 0}
    with TestClient(create_app(service, Settings(backend="fake", cache_dir=tmp_path / "c"))) as http:
        assert [http.post("/v1/chat/completions", json=body).json()["cache"] for _ in range(2)] == ["miss", "hit"]
        streamed = http.post("/v1/chat/completions", json={**body, "stream": True}).text
        assert '"cache": "hit"' in streamed or '"cache":"hit"' in streamed
        assert http.get("/health").json()["cache"] == {"kind": "memory", "url": "memory://", "status": "ok"}
        assert 'qa_cache_requests_total{result="hit"} 2' in http.get("/metrics").text


def test_bench_cache_figures(tmp_path):
    service, _ = cached_service(tmp_path)
    figures = cache_figures(service, "medical", QUESTION, 256)
    assert figures["cache"] == ["miss", "hit"] and figures["ratio"] == figures["hit_s"] / figures["miss_s"]
    assert "ratio hit/miss" in cache_report(figures)
    failing, _ = cached_service(tmp_path, FakeBackend(["not json"]))
    figures = cache_figures(failing, "medical", QUESTION, 256)
    assert figures["ratio"] is None and "no replay" in cache_report(figures)


# ---- the stores ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url,kind,where",
    [
        ("", "disk", "cache/answers"),
        ("disk", "disk", "cache/answers"),
        ("DISK", "disk", "cache/answers"),
        ("{tmp}/elsewhere", "disk", "elsewhere"),
        ("memory://", "memory", None),
        ("off", "off", None),
        ("none", "off", None),
        ("redis://localhost:6379/0", "redis", "redis://localhost:6379/0"),
        ("rediss://:secret@cache.example:6380/1", "redis", "rediss://:secret@cache.example:6380/1"),
        ("redis+cluster://node-1:7000", "redis-cluster", "redis://node-1:7000"),
        ("rediss+cluster://node-1:7000/0", "redis-cluster", "rediss://node-1:7000/0"),
    ],
)
def test_from_url_picks_the_store(tmp_path, url, kind, where):
    store = from_url(url.format(tmp=tmp_path), tmp_path / "cache", 60, 1 << 20)
    assert store.kind == kind
    if isinstance(store, DiskCache):
        assert str(store.directory).endswith(where)
        store.close()
    if isinstance(store, RedisCache):
        assert store.url == where and store._client is None  # nothing connects until the first request


@pytest.mark.parametrize(
    "url,message",
    [
        ("ftp://cache", "unknown answer cache URL"),
        ("memcached://host:11211", "unknown answer cache URL"),
        ("redis://", "names no host"),
        ("redis://host:port/0", "bad port"),
        ("redis+cluster://node:7000/3", "only database 0"),
        ("rediss://:hunter2@:6379", "names no host"),
    ],
)
def test_a_bad_cache_url_is_a_configuration_error(tmp_path, url, message):
    with pytest.raises(ConfigurationError, match=message) as err:
        build_service(Settings(backend="fake", cache_dir=tmp_path, cache_url=url), FakeBackend())
    assert "hunter2" not in str(err.value)


def test_redact_url_hides_the_password():
    assert redact_url("redis://user:pw@host:6379/0") == "redis://user:***@host:6379/0"
    assert redact_url("redis://host:6379/0") == "redis://host:6379/0"


@pytest.mark.parametrize("field,value", [("cache_ttl_s", 0), ("cache_max_bytes", 1000), ("cache_url", "x" * 3000)])
def test_cache_settings_are_bounded(field, value):
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        Settings(**{field: value})


def test_memory_cache_ttl_and_size():
    now = [0.0]
    cache = MemoryCache(ttl_s=60, max_bytes=100, clock=lambda: now[0])
    cache.put("a", "x" * 40)
    now[0] = 59.9
    assert cache.get("a") == "x" * 40
    now[0] = 60.0
    assert cache.get("a") is None
    for key in "bcd":
        cache.put(key, "y" * 40)  # 120 bytes > 100: the oldest goes
    assert [cache.get(k) is not None for k in "bcd"] == [False, True, True] and len(cache) == 2


def test_disk_cache_ttl(tmp_path, monkeypatch):
    import diskcache.core

    cache = DiskCache(tmp_path / "answers", ttl_s=60, max_bytes=1 << 20)
    cache.put("k", "value")
    assert cache.get("k") == "value"
    _, expires = cache._cache.get("k", expire_time=True)
    assert 0 < expires - time.time() <= 60

    class Later:  # diskcache reads the clock through its module's `time`: move that past the TTL
        @staticmethod
        def time() -> float:
            return expires + 1

    monkeypatch.setattr(diskcache.core, "time", Later)
    assert cache.get("k") is None
    cache.close()


def test_disk_cache_size_bound(tmp_path):
    limit = 1 << 20
    cache = DiskCache(tmp_path / "answers", ttl_s=60, max_bytes=limit)
    for i in range(150):
        cache.put(f"k{i}", f"{i:04d}" + "x" * 20_000)  # 3 MB in all
    assert cache.volume() <= limit
    assert cache.get("k0") is None and cache.get("k149").startswith("0149")  # the oldest went first
    cache.close()


def test_disk_cache_is_shared_between_services(tmp_path):
    """Two processes (here two services) on one machine share the default disk cache."""
    backend = FakeBackend([dumps(MEDICAL_OK)])
    settings = Settings(backend="fake", cache_dir=tmp_path / "cache")
    one, two = build_service(settings, backend), build_service(settings, backend)
    assert one.answer("medical", QUESTION, greedy(one)).cache == "miss"
    assert two.answer("medical", QUESTION, greedy(two)).cache == "hit"
    assert (tmp_path / "cache" / "answers").is_dir()


class Broken(NoCache):
    kind = "broken"

    def get(self, key):
        raise ConnectionError("refused")

    def put(self, key, value):
        raise ConnectionError("refused")

    def ping(self):
        return False


def test_a_failing_store_is_logged_once_and_retried_later(caplog):
    now = [0.0]
    answers = CachedAnswers(Broken(), Metrics(), retry_after_s=30, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="qa.cache"):
        results = []
        for t in (0.0, 1.0, 31.0, 62.0):  # inside the pause the store is not even asked
            now[0] = t
            results.append(answers.lookup("key")[0])
    assert results == ["error"] * 4
    assert len([r for r in caplog.records if "answer cache" in r.getMessage()]) == 1
    assert answers.status()["status"] == "down"


def test_redis_down_answers_still_come_with_one_warning(tmp_path, caplog):
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    service, backend = cached_service(tmp_path, cache_url=url)
    with caplog.at_level(logging.WARNING, logger="qa.cache"):
        answers = [service.answer("medical", QUESTION, greedy(service)) for _ in range(3)]
    assert all(a.ok for a in answers) and [a.cache for a in answers] == ["error"] * 3
    warnings = [r for r in caplog.records if r.name == "qa.cache" and r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "answering without the cache" in warnings[0].getMessage()
    assert service.cache_status()["status"] == "down" and cache_count(service, "error") == 3


# ---- a real Redis -------------------------------------------------------------------------------------------------
def _redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found is None:
        message = "redis-server not found: install Debian's redis-server (see .ci/run) to run the Redis tests"
        if os.environ.get("QA_REQUIRE_REDIS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return found


def _start_redis(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    log_path = tmp_path / f"redis-{port}.log"
    proc = subprocess.Popen(
        [_redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        + ["--dir", str(tmp_path), "--logfile", str(log_path), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(port=port, socket_connect_timeout=1)

    def answers() -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    if not wait_for(answers, timeout=20):
        proc.kill()
        log = log_path.read_text(errors="replace")[-2000:] if log_path.exists() else "(no log)"
        pytest.fail(f"redis-server on port {port} did not answer PING; its log:\n{log}")
    client.close()
    return proc, port


@pytest.fixture
def redis_server(tmp_path):
    proc, port = _start_redis(tmp_path)
    yield proc, port
    if proc.poll() is None:
        stop_process(proc, timeout=10)


def test_real_redis_shares_answers_between_replicas_with_a_ttl(tmp_path, redis_server, caplog):
    import redis

    proc, port = redis_server
    url = f"redis://127.0.0.1:{port}/0"
    backend = FakeBackend([dumps(MEDICAL_OK)])
    one, _ = cached_service(tmp_path, backend, cache_url=url, cache_ttl_s=120)
    two, _ = cached_service(tmp_path, backend, cache_url=url, cache_ttl_s=120)  # another replica, same model
    first = one.answer("medical", QUESTION, greedy(one))
    second = two.answer("medical", QUESTION, greedy(two))
    assert (first.cache, second.cache) == ("miss", "hit") and second.data == first.data
    assert len(backend.requests) == 1
    assert one.cache_status() == {"kind": "redis", "url": url, "status": "ok"}

    client = redis.Redis(port=port)
    keys = client.keys("medfin-qa:*")
    assert len(keys) == 1 and keys[0].decode().startswith(f"medfin-qa:{KEY_VERSION}:")
    assert 0 < client.ttl(keys[0]) <= 120
    client.close()

    # the server goes away: answers go on, without the cache, with one warning
    stop_process(proc, timeout=10)
    with caplog.at_level(logging.WARNING, logger="qa.cache"):
        after = [two.answer("medical", "另一个问题？", greedy(two)) for _ in range(2)]
    assert [a.cache for a in after] == ["error", "error"] and all(a.ok for a in after)
    assert len([r for r in caplog.records if r.name == "qa.cache" and r.levelno == logging.WARNING]) == 1
    assert two.cache_status()["status"] == "down"


def test_real_redis_cluster_of_one_node(tmp_path):
    import redis

    # the cluster bus port is the client port + 10000 unless named: past 65535 for a high free port, so name one
    bus = str(free_port())
    proc, port = _start_redis(
        tmp_path, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-port", bus
    )
    try:
        client = redis.Redis(port=port)
        client.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
        assert wait_for(lambda: b"cluster_state:ok" in client.execute_command("CLUSTER", "INFO"), timeout=20)
        client.close()
        service, backend = cached_service(tmp_path, cache_url=f"redis+cluster://127.0.0.1:{port}")
        assert [service.answer("medical", QUESTION, greedy(service)).cache for _ in range(2)] == ["miss", "hit"]
        assert service.cache_status()["kind"] == "redis-cluster" and len(backend.requests) == 1
        service.close_cache()
    finally:
        stop_process(proc, timeout=10)


def test_an_unreadable_entry_is_a_miss_and_the_store_stays_in_use(tmp_path):
    store = MemoryCache(ttl_s=60, max_bytes=1 << 20)
    answers = CachedAnswers(store, Metrics())
    store.put("key", "{not json")
    assert answers.lookup("key") == ("miss", None)
    store.put("other", json.dumps({"task": "medical"}))  # an older format's entry
    assert answers.lookup("other") == ("miss", None)
    assert answers.status()["status"] == "ok"


def test_backends_name_their_weights_seed_and_penalty(tmp_path):
    """The identity the key is built from, for each real backend, without loading a model."""
    from qa import embedded
    from qa.backends.llamacpp_backend import LlamaCppBackend
    from qa.backends.openai_backend import OpenAIBackend
    from qa.backends.transformers_backend import TransformersBackend

    gguf = tmp_path / "mine.gguf"
    gguf.write_bytes(b"GGUF one")
    mine = LlamaCppBackend(Settings(model=str(gguf), seed=3, repetition_penalty=1.1))
    first = mine.identity()
    assert first["backend"] == "llamacpp" and first["weights"]["size"] == 8
    assert (first["seed"], first["repetition_penalty"]) == (3, 1.1)
    gguf.write_bytes(b"GGUF, another one")  # new weights in the same file: another identity
    assert mine.identity()["weights"] != first["weights"]
    assert LlamaCppBackend(Settings(model_source="embedded")).identity()["weights"] == {"sha256": embedded.GGUF_SHA256}
    remote = OpenAIBackend(Settings(backend="openai", base_url="http://engine:8000/v1", remote_model="qwen", seed=5))
    assert remote.identity()["weights"] == {"model": "qwen", "base_url": "http://engine:8000/v1"}
    assert remote.identity()["seed"] == 5
    assert TransformersBackend(Settings(model="/models/qwen")).identity()["weights"]["model"] == "/models/qwen"


def test_the_page_shows_a_replayed_answer_as_it_shows_a_generated_one(tmp_path):
    from .pages import RAW_JSON, page_ask

    service, backend = cached_service(tmp_path)
    generated = page_ask(service, "medical", QUESTION, temperature=0.0)
    replayed = page_ask(service, "medical", QUESTION, temperature=0.0)
    assert len(backend.requests) == 1
    first, again = json.loads(generated[-1][RAW_JSON]), json.loads(replayed[-1][RAW_JSON])
    assert (first["cache"], again["cache"]) == ("miss", "hit") and again["answer"] == first["answer"]
    assert replayed[-1][0] == generated[-1][0]  # the same chat as rendered
    assert len(replayed) >= 2  # a partial (busy controls) before the final answer, as when generating


def test_cache_flags_come_from_the_settings():
    from qa.cli import _settings, build_parser

    args = build_parser().parse_args(["ask", "--task", "medical", "问", "--cache-url", "redis://h:6379/0"])
    assert _settings(args).cache_url == "redis://h:6379/0" and _settings(args).answer_cache is True
    args = build_parser().parse_args(["ask", "--task", "medical", "问", "--no-answer-cache", "--cache-ttl-s", "60"])
    assert (_settings(args).answer_cache, _settings(args).cache_ttl_s) == (False, 60)


def test_code_digest_changes_with_any_source_or_data_file(tmp_path):
    from qa.cache import code_digest

    (tmp_path / "tasks").mkdir()
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "tasks" / "t.yaml").write_text("system: hi\n")
    (tmp_path / "notes.log").write_text("not source\n")
    before = code_digest(tmp_path)
    assert code_digest(tmp_path) == before
    (tmp_path / "notes.log").write_text("still not source\n")
    assert code_digest(tmp_path) == before
    (tmp_path / "tasks" / "t.yaml").write_text("system: hello\n")
    assert code_digest(tmp_path) != before
