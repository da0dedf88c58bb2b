"""Admission limits: a bounded first-come queue in front of the model, and per-client request rates."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .errors import BusyError


class Gate:
    """At most `slots` generations at once and `queue_size` callers waiting in arrival order; BusyError beyond."""

    def __init__(self, slots: int, queue_size: int, poll_s: float = 0.05) -> None:
        self.slots = slots
        self.queue_size = queue_size
        self.poll_s = poll_s  # how soon a waiter notices its stop event
        self.active = 0
        self.preparing = 0  # callers fitting their prompt before they queue: they hold a place in the queue
        self._queue: deque[object] = deque()
        self._cond = threading.Condition()

    @property
    def waiting(self) -> int:
        """Callers waiting for a slot now."""
        with self._cond:
            return len(self._queue)

    def busy(self) -> bool:
        """True while anything runs or waits."""
        with self._cond:
            return bool(self.active or self._queue or self.preparing)

    def _full(self) -> BusyError | None:
        waiting = len(self._queue) + self.preparing
        if waiting >= self.queue_size:
            return BusyError(
                f"服务繁忙：已有 {waiting} 个请求在排队，请稍后再试。 The queue is full ({waiting} waiting); try again shortly."
            )
        return None

    @contextmanager
    def place(self) -> Iterator[None]:
        """Hold a place in the queue while a request is prepared (its prompt fitted), so preparing requests
        count against queue_size too; BusyError when the queue is full."""
        with self._cond:
            full = self._full()
            if full is not None:
                raise full
            self.preparing += 1
        try:
            yield
        finally:
            with self._cond:
                self.preparing -= 1
                self._cond.notify_all()

    def acquire(self, stop_event: threading.Event) -> bool:
        """Wait for a slot; False if the stop event was set first; BusyError when the queue is full."""
        with self._cond:
            if not self._queue and self.active < self.slots:
                self.active += 1
                return True
            if len(self._queue) >= self.queue_size:
                raise BusyError(
                    f"服务繁忙：已有 {len(self._queue)} 个请求在排队，请稍后再试。"
                    f" The queue is full ({len(self._queue)} waiting); try again shortly."
                )
            ticket = object()
            self._queue.append(ticket)
            try:
                while not (self._queue[0] is ticket and self.active < self.slots):
                    if stop_event.is_set():
                        return False
                    self._cond.wait(self.poll_s)
                self.active += 1
                return True
            finally:
                self._queue.remove(ticket)
                self._cond.notify_all()  # the next in line may go now, or move up

    def release(self) -> None:
        """Give a slot back."""
        with self._cond:
            self.active -= 1
            self._cond.notify_all()

    @contextmanager
    def slot(self, stop_event: threading.Event) -> Iterator[bool]:
        """Hold a slot for the block; yields False (holding nothing) when stopped while waiting."""
        admitted = self.acquire(stop_event)
        try:
            yield admitted
        finally:
            if admitted:
                self.release()


class RateLimiter:
    """Token buckets per client: `per_minute` requests a minute, bursts up to the same number."""

    MAX_CLIENTS = 10_000  # idle clients are forgotten beyond this many, so memory stays bounded

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, time of last update)
        self._lock = threading.Lock()

    def check(self, client: str) -> float:
        """Take one request for the client: 0 when allowed, else the seconds until the next one is."""
        if self.per_minute <= 0:
            return 0.0
        rate = self.per_minute / 60.0
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(client, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                if len(self._buckets) > self.MAX_CLIENTS:
                    self._forget_idle(now, rate)
                return 0.0
            self._buckets[client] = (tokens, now)
            return (1.0 - tokens) / rate

    def _forget_idle(self, now: float, rate: float) -> None:
        full = [c for c, (t, last) in self._buckets.items() if t + (now - last) * rate >= self.per_minute]
        for client in full:
            del self._buckets[client]


def retry_after(seconds: float) -> str:
    """A Retry-After header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
