"""The admission gate (slots, a bounded first-come queue) and per-client rate limits."""

import threading

import pytest

from qa.errors import BusyError
from qa.limits import Gate, RateLimiter, retry_after

from .helpers import wait_for


def test_gate_admits_up_to_its_slots_then_queues_then_refuses():
    gate = Gate(slots=1, queue_size=1)
    stop = threading.Event()
    assert gate.acquire(stop)
    admitted = []
    waiter = threading.Thread(target=lambda: admitted.append(gate.acquire(threading.Event())))
    waiter.start()
    assert wait_for(lambda: gate.waiting == 1)
    with pytest.raises(BusyError, match="queue is full"):
        gate.acquire(stop)
    gate.release()
    waiter.join(timeout=2)
    assert admitted == [True] and gate.active == 1 and gate.waiting == 0
    gate.release()
    assert not gate.busy()


def test_gate_serves_waiters_in_arrival_order():
    gate = Gate(slots=1, queue_size=8)
    gate.acquire(threading.Event())
    order = []

    def wait(n):
        with gate.slot(threading.Event()):
            order.append(n)

    threads = []
    for n in range(4):
        t = threading.Thread(target=wait, args=(n,))
        t.start()
        threads.append(t)
        assert wait_for(lambda n=n: gate.waiting == n + 1)
    gate.release()
    for t in threads:
        t.join(timeout=2)
    assert order == [0, 1, 2, 3]


def test_a_waiter_whose_client_left_gives_up_its_place():
    gate = Gate(slots=1, queue_size=2)
    gate.acquire(threading.Event())
    stop = threading.Event()
    result = []
    t = threading.Thread(target=lambda: result.append(gate.acquire(stop)))
    t.start()
    assert wait_for(lambda: gate.waiting == 1)
    stop.set()
    t.join(timeout=2)
    assert result == [False] and gate.waiting == 0 and gate.active == 1


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_rate_limiter_allows_the_budget_then_says_when_to_come_back():
    clock = Clock()
    limiter = RateLimiter(per_minute=3, clock=clock)
    assert [limiter.check("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.check("a")
    assert wait == pytest.approx(20.0)  # one request every 20 s at 3 a minute
    assert limiter.check("b") == 0.0  # clients have their own budgets
    clock.now += 20
    assert limiter.check("a") == 0.0
    assert limiter.check("a") > 0


def test_rate_limit_zero_is_off_and_idle_clients_are_forgotten():
    assert all(RateLimiter(0).check("a") == 0.0 for _ in range(100))
    clock = Clock()
    limiter = RateLimiter(per_minute=60, clock=clock)
    limiter.MAX_CLIENTS = 10
    for i in range(10):
        limiter.check(f"c{i}")
    clock.now += 120  # everyone's bucket is full again
    limiter.check("new")
    assert len(limiter._buckets) <= 2


@pytest.mark.parametrize("seconds,header", [(0.01, "1"), (1.0, "1"), (1.2, "2"), (59.9, "60")])
def test_retry_after_is_whole_seconds(seconds, header):
    assert retry_after(seconds) == header
