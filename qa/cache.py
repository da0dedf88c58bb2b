"""The answer cache: validated answers of deterministic requests, replayed instead of generated again.

`AnswerCache` is the storage interface (get/put/ping/close of JSON text by key); `from_url()` picks one: an
embedded diskcache folder (the default, no server), this process's memory (tests), Redis or Redis Cluster
(several replicas share one), or none. `CachedAnswers` is the service's side: what may be stored, the metrics,
and a store that may be down (answers go on without it, and the log says so once per outage). `KeyParts` is
everything that changes an answer, hashed into the key. Redis and diskcache are imported only when used.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable
from urllib.parse import urlsplit, urlunsplit

from .answers import Answer, StreamEvent
from .errors import ConfigurationError
from .metrics import Metrics

log = logging.getLogger(__name__)

# bumped whenever the key's parts or the stored value's format change: old entries are then never read
KEY_VERSION = "qa-answer-v1"
REDIS_PREFIX = "medfin-qa:"  # a Redis shared with other apps keeps our keys apart
RETRY_AFTER_S = 30.0  # after a failure the store is left alone this long, so a down Redis costs no request a timeout
REDIS_TIMEOUT_S = 1.0  # connect and reply timeout: a slow cache must not make an answer slow

CacheResult = Literal["hit", "miss", "skip", "error", "off"]


@runtime_checkable
class AnswerCache(Protocol):
    """Where cached answers are kept: JSON text by key, each entry expiring after the TTL."""

    kind: str  # disk, memory, redis, redis-cluster or off: for /health and the log

    def get(self, key: str) -> str | None:
        """The entry, or None when there is none (or it expired); raises when the store is unreachable."""
        ...

    def put(self, key: str, value: str) -> None:
        """Store an entry for the TTL; raises when the store is unreachable."""
        ...

    def ping(self) -> bool:
        """True when the store answers."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...


# ---- the stores ---------------------------------------------------------------------------------------------------
class NoCache:
    """The cache turned off: never holds anything."""

    kind = "off"

    def get(self, key: str) -> str | None:
        """Always None."""
        return None

    def put(self, key: str, value: str) -> None:
        """Keeps nothing."""

    def ping(self) -> bool:
        """Always True: nothing to reach."""
        return True

    def close(self) -> None:
        """Nothing to release."""


class MemoryCache:
    """This process's memory, least recently stored first out past max_bytes; fast, for tests and one process."""

    kind = "memory"

    def __init__(self, ttl_s: float, max_bytes: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.max_bytes = max_bytes
        self._clock = clock  # a test moves time on without sleeping
        self._entries: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        """The entry unless it expired."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, value = entry
            if self._clock() >= expires:
                self._drop(key)
                return None
            return value

    def put(self, key: str, value: str) -> None:
        """Store, then drop the oldest entries until the total fits max_bytes."""
        size = len(value.encode("utf-8"))
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = (self._clock() + self.ttl_s, value)
            self._bytes += size
            while self._bytes > self.max_bytes and self._entries:
                self._drop(next(iter(self._entries)))

    def _drop(self, key: str) -> None:
        _, value = self._entries.pop(key)
        self._bytes -= len(value.encode("utf-8"))

    def __len__(self) -> int:
        return len(self._entries)

    def ping(self) -> bool:
        """Always True."""
        return True

    def close(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0


class DiskCache:
    """A diskcache folder (SQLite and files): no server, shared by the processes of one machine, bounded in size."""

    kind = "disk"

    def __init__(self, directory: Path, ttl_s: float, max_bytes: int) -> None:
        import diskcache

        self.directory = directory
        self.ttl_s = ttl_s
        try:
            # least recently stored goes first: no write per read, which least-recently-used would cost
            self._cache = diskcache.Cache(str(directory), size_limit=max_bytes, eviction_policy="least-recently-stored")
        except OSError as exc:
            raise ConfigurationError(f"the answer cache folder {directory} cannot be used: {exc}") from exc

    def get(self, key: str) -> str | None:
        """The entry unless it expired."""
        value = self._cache.get(key)
        return value if isinstance(value, str) else None

    def put(self, key: str, value: str) -> None:
        """Store for the TTL; past size_limit diskcache drops the oldest entries."""
        self._cache.set(key, value, expire=self.ttl_s)

    def ping(self) -> bool:
        """True when the folder can be read."""
        try:
            self._cache.volume()
        except Exception:  # noqa: BLE001 - any failure means the store is not usable
            return False
        return True

    def volume(self) -> int:
        """Bytes on disk."""
        return int(self._cache.volume())

    def close(self) -> None:
        """Close the SQLite connections."""
        self._cache.close()


class RedisCache:
    """Redis or Redis Cluster: one cache for several replicas. Entries are bounded by the TTL only (Redis's own
    maxmemory policy is the hard cap); the client is made on first use, so a server that is down at start
    does not stop the app."""

    def __init__(self, url: str, ttl_s: float, cluster: bool = False) -> None:
        try:
            import redis  # noqa: F401 - checked here so a missing package is a clear configuration error
        except ImportError as exc:
            raise ConfigurationError(f"QA_CACHE_URL is a Redis URL but the redis package is missing ({exc})") from exc
        self.url = url
        self.ttl_s = ttl_s
        self.cluster = cluster
        self.kind = "redis-cluster" if cluster else "redis"
        self._client: Any = None
        self._lock = threading.Lock()

    def _connect(self) -> Any:
        with self._lock:
            if self._client is None:
                options = {"socket_connect_timeout": REDIS_TIMEOUT_S, "socket_timeout": REDIS_TIMEOUT_S}
                if self.cluster:
                    from redis.cluster import RedisCluster

                    self._client = RedisCluster.from_url(self.url, **options)
                else:
                    import redis

                    self._client = redis.Redis.from_url(self.url, **options)
            return self._client

    def get(self, key: str) -> str | None:
        """The entry; Redis drops expired ones itself."""
        value = self._connect().get(REDIS_PREFIX + key)
        return None if value is None else value.decode("utf-8")

    def put(self, key: str, value: str) -> None:
        """Store with the TTL."""
        self._connect().set(REDIS_PREFIX + key, value.encode("utf-8"), ex=max(1, int(self.ttl_s)))

    def ping(self) -> bool:
        """True when the server answers PING."""
        try:
            return bool(self._connect().ping())
        except Exception:  # noqa: BLE001 - any failure means the server is not usable now
            return False

    def close(self) -> None:
        """Close the connection pool."""
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


def redact_url(url: str) -> str:
    """A URL with its password replaced, for logs and /health."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def from_url(url: str, cache_dir: Path, ttl_s: float, max_bytes: int) -> AnswerCache:
    """The store a cache URL names: empty/`disk` (a folder under cache_dir), a folder path, memory://,
    redis://, rediss://, redis+cluster://, rediss+cluster://, or off/none; ConfigurationError for anything else."""
    text = url.strip()
    lowered = text.lower()
    if lowered in ("off", "none"):
        return NoCache()
    if lowered in ("", "disk"):
        return DiskCache(cache_dir / "answers", ttl_s, max_bytes)
    if "://" not in text:
        return DiskCache(Path(text).expanduser(), ttl_s, max_bytes)
    scheme = lowered.split("://", 1)[0]
    if scheme == "memory":
        return MemoryCache(ttl_s, max_bytes)
    if scheme in ("redis", "rediss", "unix", "redis+cluster", "rediss+cluster"):
        cluster = scheme.endswith("+cluster")
        real = scheme.removesuffix("+cluster") + text[len(scheme) :] if cluster else text
        parts = urlsplit(real)
        try:
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError as exc:
            raise ConfigurationError(f"cache URL {redact_url(text)} has a bad port: {exc}") from exc
        if scheme != "unix" and not parts.hostname:
            raise ConfigurationError(f"cache URL {redact_url(text)} names no host, e.g. redis://localhost:6379/0")
        if cluster and parts.path.strip("/") not in ("", "0"):
            raise ConfigurationError(f"cache URL {redact_url(text)}: Redis Cluster has only database 0")
        return RedisCache(real, ttl_s, cluster=cluster)
    raise ConfigurationError(
        f"unknown answer cache URL {redact_url(text)!r}: use disk (the default), a folder path, memory://, "
        "redis://host:6379/0, rediss://… (TLS), redis+cluster://host:port, or off"
    )


# ---- the key ------------------------------------------------------------------------------------------------------
def code_digest(root: Path | None = None) -> str:
    """sha256 over the app's own source and package data: any change to a check, rule, prompt or renderer is a
    new key space, so no answer made by other code is replayed (a version number is not bumped for every edit)."""
    root = root or Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".yaml", ".yml", ".json", ".csv", ".jsonl", ".txt"}:
            h.update(str(path.relative_to(root)).encode("utf-8") + b"\0")
            h.update(path.read_bytes())
    return h.hexdigest()


def canonical(value: Any) -> str:
    """JSON with sorted keys and no spacing: equal values, equal text."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def digest(value: Any) -> str:
    """sha256 of a value's canonical JSON."""
    return hashlib.sha256(canonical(value).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Retrieval:
    """Retrieved context an answer was grounded on: empty until the app has a knowledge base."""

    chunk_ids: tuple[str, ...] = ()
    kb_version: str = ""


@dataclass(frozen=True)
class KeyParts:
    """Everything that changes an answer; two requests with equal parts get the same answer."""

    backend: str  # which engine decodes (llamacpp, transformers, openai, fake)
    model: dict[str, Any]  # model id and the weights' identity (a sha, or a file's size and mtime)
    task: str
    schema: str  # hash of the answer schema
    templates: str  # hash of the task's prompt templates (system, user, repair)
    prompt: Any  # the rendered prompt text when the backend can render it, else the chat messages
    sampling: dict[str, Any]  # temperature, top_p, max_new_tokens, seed, repetition penalty, repair attempts
    checks: tuple[str, ...]  # the checks and input rules that judge and repair the answer
    drugs: str  # hash of the forbidden drug list
    code: str  # the app's source (code_digest): the pipeline's own logic changes answers too
    retrieval: Retrieval = field(default_factory=Retrieval)

    def key(self) -> str:
        """The cache key: the format version, then the sha256 of every part."""
        return f"{KEY_VERSION}:{digest(asdict(self))}"


def model_identity(backend: Any) -> dict[str, Any]:
    """The backend's name, what is live (ModelInfo) and its own identity(): weights, seed, repetition penalty."""
    own = getattr(backend, "identity", None)
    identity = dict(own()) if callable(own) else {}
    identity.setdefault("backend", type(backend).__name__)
    identity["info"] = backend.info.to_dict()
    return identity


# ---- the service's side -------------------------------------------------------------------------------------------
def storable(event: StreamEvent) -> bool:
    """Only a finished, validated answer: not cancelled, not cut off at the token limit, not failed."""
    answer = event.answer
    return (
        answer is not None
        and answer.report.passed
        and event.finish_reason == "stop"
        and not any(hit.rule == "cancelled" for hit in answer.report.fired)
    )


def replay(answer: Answer) -> list[StreamEvent]:
    """A cached answer as a generated one streams: its whole text as one partial, then the final event."""
    return [
        StreamEvent("partial", 1, text=answer.raw, dropped_turns=answer.dropped_turns),
        StreamEvent(
            "final",
            1,
            text=answer.raw,
            answer=answer,
            dropped_turns=answer.dropped_turns,
            finish_reason="stop",
            usage=answer.usage,
        ),
    ]


class CachedAnswers:
    """Answers in a store that may fail: failures count as `error`, are logged once per outage, and leave the
    store alone for a while; the app answers without it meanwhile."""

    def __init__(
        self,
        store: AnswerCache | None = None,
        metrics: Metrics | None = None,
        retry_after_s: float = RETRY_AFTER_S,
        clock: Callable[[], float] = time.monotonic,
        where: str = "",
    ) -> None:
        self.store: AnswerCache = store if store is not None else NoCache()
        self.metrics = metrics or Metrics()
        self.retry_after_s = retry_after_s
        self.where = where  # the URL, password redacted, for the log and /health
        self._clock = clock
        self._down_until = 0.0
        self._down = False  # an outage was logged and has not ended yet
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """False when the cache is off."""
        return self.store.kind != "off"

    def lookup(self, key: str | None) -> tuple[CacheResult, Answer | None]:
        """(result, answer): off, skip (key None: not cacheable), hit, miss, or error (store unreachable)."""
        if not self.enabled:
            return "off", None
        if key is None:
            self.metrics.cache.inc(result="skip")
            return "skip", None
        if not self._usable():
            self.metrics.cache.inc(result="error")
            return "error", None
        try:
            text = self.store.get(key)
        except Exception as exc:  # noqa: BLE001 - a broken store must never break an answer
            self._failed("read", exc)
            self.metrics.cache.inc(result="error")
            return "error", None
        self._recovered()
        answer = None
        if text is not None:
            try:
                answer = Answer.from_dict(json.loads(text))
            except (ValueError, KeyError, TypeError) as exc:  # one bad entry: generate again, the store is fine
                log.warning("answer cache entry %s is unreadable (%s); generating the answer again", key, exc)
        result: CacheResult = "miss" if answer is None else "hit"
        self.metrics.cache.inc(result=result)
        if answer is not None:
            answer.cache = "hit"
        return result, answer

    def store_answer(self, key: str, answer: Answer) -> None:
        """Keep an answer (its text, data, report, model and usage); a failure is logged, never raised."""
        if not self.enabled or not self._usable():
            return
        try:
            self.store.put(key, json.dumps(answer.to_dict(), ensure_ascii=False))
        except Exception as exc:  # noqa: BLE001 - the answer is already made; a cache that fails only costs speed
            self._failed("write", exc)
            return
        self._recovered()

    def status(self) -> dict[str, Any]:
        """Kind, where, and whether the store answers now (not pinged again while it is known to be down)."""
        if not self.enabled:
            return {"kind": "off", "status": "off"}
        ok = self._usable() and self.store.ping()
        return {"kind": self.store.kind, "url": self.where, "status": "ok" if ok else "down"}

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    def _usable(self) -> bool:
        with self._lock:
            return self._clock() >= self._down_until

    def _failed(self, what: str, exc: BaseException) -> None:
        with self._lock:
            self._down_until = self._clock() + self.retry_after_s
            first = not self._down
            self._down = True
        if first:
            log.warning(
                "answer cache %s %s failed (%s: %s); answering without the cache (retried every %.0f s, logged once)",
                self.store.kind,
                what,
                type(exc).__name__,
                exc,
                self.retry_after_s,
            )

    def _recovered(self) -> None:
        with self._lock:
            was_down, self._down = self._down, False
        if was_down:
            log.info("answer cache %s answers again", self.store.kind)
