"""Measure what hostile requests cost a running server (RELIABILITY.md): each case's answer and time, /health
latency while hostile requests run, and memory after many page sessions.

    python scripts/hostile.py --url http://127.0.0.1:7860 [--pid PID] [--sessions 1000] [--load-s 20] [--out FILE]

Run it against a server with the fake backend (`python -m qa serve --backend fake`, rate limit off) so the model
is not the cost; --pid (the server's process id) adds its resident memory. Only the standard library and httpx.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import httpx

CASE_TIMEOUT_S = 180.0


def nested_schema(depth: int) -> dict[str, Any]:
    """An object schema nested `depth` levels."""
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(depth):
        schema = {"type": "object", "properties": {"a": schema}}
    return schema


def wide_schema(properties: int) -> dict[str, Any]:
    """An object schema with this many string properties."""
    return {"type": "object", "properties": {f"p{i}": {"type": "string"} for i in range(properties)}}


def raw(schema: dict[str, Any]) -> dict[str, Any]:
    """A qa-raw request constrained by a caller's schema."""
    return {
        "model": "qa-raw",
        "messages": [{"role": "user", "content": "hi"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}},
    }


def history(turns: int, chars: int) -> dict[str, Any]:
    """A qa-medical request carrying `turns` earlier turns of `chars` characters each message."""
    messages = [{"role": r, "content": "a" * chars} for _ in range(turns) for r in ("user", "assistant")]
    return {"model": "qa-medical", "messages": [*messages, {"role": "user", "content": "头痛怎么办"}]}


def cases() -> dict[str, bytes]:
    """Each hostile body, encoded."""
    enc = lambda body: json.dumps(body).encode()  # noqa: E731
    bodies = {
        "list as role": enc({"model": "qa-medical", "messages": [{"role": ["user"], "content": "hi"}]}),
        "400-digit max_tokens": enc(
            {"model": "qa-medical", "messages": [{"role": "user", "content": "hi"}], "max_tokens": int("9" * 400)}
        ),
        "schema nested 100 deep (4 KB)": enc(raw(nested_schema(100))),
        "JSON nested 1,000 deep": b'{"model": "qa-medical", "messages": ' + b"[" * 1000 + b"]" * 1000 + b"}",
        "schema with 20,000 properties": enc(raw(wide_schema(20_000))),
        "800 history turns (58 KB)": enc(history(800, 5)),
        "1 MiB: JSON nested 500,000 deep": b"[" * 524_000 + b"]" * 524_000,
        "1 MiB: schema with 34,000 properties": enc(raw(wide_schema(34_000))),
        "1 MiB: 3,000 history turns": enc(history(3000, 130)),
        "1 MiB: 200 turns of 2,500 characters": enc(history(200, 2500)),
        "400 KB: 150 turns of 1,300 characters (within limits)": enc(history(150, 1300)),
        "1.2 MB body (over the API limit)": b" " * 1_200_000,
    }
    return bodies


def send(url: str, path: str, body: bytes, timeout: float = CASE_TIMEOUT_S) -> tuple[Any, float]:
    """POST with urllib (which writes the whole body before reading): (status or error text, seconds)."""
    request = urllib.request.Request(url + path, data=body, headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            status: Any = response.status
    except urllib.error.HTTPError as exc:
        exc.read()
        status = exc.code
    except (OSError, urllib.error.URLError) as exc:
        status = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
    return status, time.perf_counter() - started


def run_cases(url: str) -> list[dict[str, Any]]:
    """Every case once, in turn."""
    rows = []
    for name, body in cases().items():
        status, seconds = send(url, "/v1/chat/completions", body)
        rows.append({"case": name, "bytes": len(body), "status": status, "seconds": round(seconds, 3)})
        print(f"{name:45s} {len(body):>9d} B  {status!s:>30s}  {seconds:8.3f} s", flush=True)
    for path in ("/v1/chat/completions", "/gradio_api/queue/join"):
        status, seconds = send(url, path, b" " * 4_500_000)
        name = f"4.5 MB body to {path}"
        rows.append({"case": name, "bytes": 4_500_000, "status": status, "seconds": round(seconds, 3)})
        print(f"{name:45s} {4_500_000:>9d} B  {status!s:>30s}  {seconds:8.3f} s", flush=True)
    return rows


def health_under_load(url: str, seconds: float, workers: int = 3) -> dict[str, Any]:
    """/health latency (every 100 ms) while `workers` threads send the hostile bodies in a loop."""
    bodies = list(cases().values())
    stop = threading.Event()
    sent = [0]

    def attack(offset: int) -> None:
        i = offset
        while not stop.is_set():
            send(url, "/v1/chat/completions", bodies[i % len(bodies)], timeout=60)
            sent[0] += 1
            i += workers

    threads = [threading.Thread(target=attack, args=(n,), daemon=True) for n in range(workers)]
    for t in threads:
        t.start()
    latencies, failures = [], 0
    deadline = time.monotonic() + seconds
    with httpx.Client(timeout=30) as client:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                client.get(url + "/health").raise_for_status()
                latencies.append((time.perf_counter() - started) * 1000)
            except httpx.HTTPError:
                failures += 1
            time.sleep(0.1)
    stop.set()
    for t in threads:
        t.join(70)
    latencies.sort()
    result = {
        "polls": len(latencies),
        "failures": failures,
        "hostile_requests": sent[0],
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 1) if latencies else None,
        "max_ms": round(latencies[-1], 1) if latencies else None,
    }
    print(f"health with {workers} attackers:", result, flush=True)
    return result


def page_session(url: str, config: dict[str, Any]) -> bool:
    """One new page session asking one question through the page's queue protocol; True when it succeeded."""
    dep = next(d for d in config["dependencies"] if d.get("api_name") == "ask_medical")
    components = {c["id"]: c for c in config["components"]}
    data = [components[i].get("props", {}).get("value") for i in dep["inputs"]]
    data[0] = "头痛怎么办"
    session = uuid.uuid4().hex
    body = {
        "data": data,
        "fn_index": dep["id"],
        "session_hash": session,
        "event_data": None,
        "trigger_id": dep["targets"][0][0],
    }
    with httpx.Client(timeout=60) as client:
        if client.post(url + "/gradio_api/queue/join", json=body).status_code != 200:
            return False
        with client.stream("GET", url + "/gradio_api/queue/data", params={"session_hash": session}) as events:
            for line in events.iter_lines():
                if line.startswith("data:"):
                    message = json.loads(line[5:])
                    if message.get("msg") == "process_completed":
                        return bool(message.get("success"))
    return False


def rss_mb(pid: int) -> float:
    """Resident memory of a process, MiB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def sessions(url: str, pid: int, count: int, checkpoints: tuple[int, ...]) -> list[dict[str, Any]]:
    """Resident memory after each checkpoint of `count` page sessions."""
    config = httpx.get(url + "/config", timeout=30).json()
    rows = [{"sessions": 0, "rss_mb": round(rss_mb(pid), 1)}]
    ok = 0
    for n in range(1, count + 1):
        ok += page_session(url, config)
        if n in checkpoints:
            rows.append({"sessions": n, "succeeded": ok, "rss_mb": round(rss_mb(pid), 1)})
            print("sessions:", rows[-1], flush=True)
    return rows


def main() -> None:
    """Parse arguments, run the chosen measurements, print and optionally save them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--pid", type=int)
    parser.add_argument("--sessions", type=int, default=0)
    parser.add_argument("--load-s", type=float, default=20.0)
    parser.add_argument("--skip-cases", action="store_true")
    parser.add_argument("--out")
    args = parser.parse_args()
    result: dict[str, Any] = {}
    if not args.skip_cases:
        result["cases"] = run_cases(args.url)
    if args.load_s:
        result["health_idle"] = health_under_load(args.url, args.load_s / 2, workers=0)
        result["health_under_load"] = health_under_load(args.url, args.load_s)
    if args.sessions and args.pid:
        marks = tuple(sorted({min(args.sessions, m) for m in (100, 500, 1000, 1500, 2000)}))
        result["sessions"] = sessions(args.url, args.pid, args.sessions, marks)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as out:
            json.dump(result, out, indent=2, ensure_ascii=False)


if __name__ == "__main__":
    main()
