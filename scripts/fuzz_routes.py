"""Hostile values at every /v1 route and the page's named endpoints (fake backend, SQLite knowledge base): prints
each request answered with a 5xx, a reply without an OpenAI-shaped error, or a dropped connection; exits 1 if any.

usage: PYTHONPATH=. python scripts/fuzz_routes.py [--no-page]
(RELIABILITY.md, thirteenth session: what it found and the tests that now guard it)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

from qa.backends.fake import FakeBackend
from qa.server import create_app
from qa.settings import Settings
from qa.wiring import build_service
from tests.helpers import MEDICAL_OK, dumps
from tests.live import serving

VALUES: list[Any] = [
    None, 0, -1, 1e308, "x", "", [], {}, [None], [1, 2], {"a": 1}, True, "\ud800", "\x00" * 10, "a" * 100_000,
    [{"role": "user"}], [{"role": "user", "content": None}], [{"role": "bogus", "content": "hi"}],
    [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:,"}}]}],
    [{"role": "user", "content": [{"type": "text"}]}], [{"content": "hi"}], ["hi"],
]  # fmt: skip
CHAT_FIELDS = ["model", "messages", "stream", "max_tokens", "temperature", "top_p", "n", "stop", "seed",
               "response_format", "tools", "stream_options", "collection", "user", "logprobs", "presence_penalty"]  # fmt: skip
RAW_BODIES = [b"", b"{", b"null", b"[]", b"\xff\xfe", b'{"model": "qa-medical", "messages": "hi"}', b"1" * 70_000]
FILES = [("a.pdf", b"%PDF-1.4 garbage"), ("a.docx", b"PK\x03\x04junk"), ("a.txt", b"\xff\xfe\x00"),
         ("a.md", "资料 ".encode("gb18030") * 10), ("", b"abc"), ("../../etc/passwd", b"hi"), ("a.exe", b"MZ"),
         ("a.txt", b""), ("a" * 5000 + ".txt", b"hello"), ("a.txt", b"\x00" * 1000)]  # fmt: skip


def body_bytes(body: Any) -> bytes:
    """JSON as a client would send it (ensure_ascii: a lone surrogate goes out as its escape)."""
    return json.dumps(body).encode()


def main() -> int:
    """Run every case; print the bad ones."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-page", action="store_true", help="skip the page's endpoints (gradio_client)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    settings = Settings(backend="fake", cache_dir=tmp / "cache", raw_model=True, rate_limit_per_minute=0,
                        max_body_bytes=65_536, triage_embedder="off", kb_url=f"sqlite:///{tmp}/kb.sqlite")  # fmt: skip
    service = build_service(settings, FakeBackend(lambda request: dumps(MEDICAL_OK)))
    service.warm_up()
    bad: list[str] = []
    cases = 0
    with serving(create_app(service, settings)) as url:

        def check(method: str, path: str, **kw: Any) -> None:
            nonlocal cases
            cases += 1
            try:
                with httpx.Client(
                    base_url=url, timeout=30
                ) as client:  # a fresh connection: no keep-alive after-effects
                    r = client.request(method, path, **kw)
            except httpx.HTTPError as exc:
                bad.append(f"{method} {path} {str(kw)[:160]} -> {exc!r}")
                return
            if r.status_code >= 500 or (r.status_code >= 400 and '"error"' not in r.text[:400]):
                bad.append(f"{method} {path} {str(kw)[:160]} -> {r.status_code} {r.text[:200]}")

        json_type = {"content-type": "application/json"}
        base = {"model": "qa-medical", "messages": [{"role": "user", "content": "头痛怎么办"}]}
        for field in CHAT_FIELDS:
            for value in VALUES:
                for stream in (False, True):
                    body = {**base, field: value} if field == "stream" else {**base, field: value, "stream": stream}
                    check("POST", "/v1/chat/completions", content=body_bytes(body), headers=json_type)
        for tail in ["\ud800", "ok \U0001f600", "\udfff\ud800", "\x00", "\u202e\u2066"]:
            for stream in (False, True):
                body = {**base, "stream": stream, "messages": [{"role": "user", "content": "头痛" + tail}]}
                check("POST", "/v1/chat/completions", content=body_bytes(body), headers=json_type)
            for path in ("/v1/triage", "/v1/embeddings"):
                check("POST", path, content=body_bytes({"input": "头痛" + tail}), headers=json_type)
        for raw in RAW_BODIES:
            for path in ("/v1/chat/completions", "/v1/embeddings", "/v1/triage", "/v1/kb/search"):
                check("POST", path, content=raw, headers=json_type)
        for path in ("/v1/embeddings", "/v1/triage", "/v1/kb/search"):
            for field in ("input", "model", "collection", "query", "k", "mode", "encoding_format", "dimensions"):
                for value in VALUES:
                    body = {"input": "头痛", "query": "头痛", "collection": "c", field: value}
                    check("POST", path, content=body_bytes(body), headers=json_type)
        for name, data in FILES:
            for collection in ("c", "", "../x", "a" * 5000, "医疗\x00"):
                check("POST", "/v1/files", files={"file": (name, data)}, data={"collection": collection})
        check("POST", "/v1/files", data={"collection": "c"})
        check("POST", "/v1/files", content=b"junk", headers={"content-type": "multipart/form-data; boundary=xx"})
        for query in ("", "?collection=", "?collection=c", "?collection=%00", "?limit=-1"):
            check("GET", "/v1/files" + query)
            for file_id in ("x", "file-", "..%2F..", "%00", "a" * 3000):
                check("GET", f"/v1/files/{file_id}{query}")
                check("DELETE", f"/v1/files/{file_id}{query}")
        if not args.no_page:
            cases += page_cases(url, bad)
    print(f"{cases} requests, {len(bad)} bad")
    for line in bad:
        print(line)
    return 1 if bad else 0


def page_cases(url: str, bad: list[str]) -> int:
    """The page's named endpoints with hostile values: a refusal must be a gr.Error (AppError), never a crash."""
    from gradio_client import Client

    client = Client(url + "/", verbose=False)
    calls: list[tuple[str, tuple]] = []
    for question in ["头痛", "", None, "a" * 100_000, 123, ["x"]]:
        for system in [None, "", "x" * 20_000]:
            for api in ("/ask_medical", "/ask_finance"):
                calls.append((api, (question, system, 0.3, 0.9, 768, False)))
    for t, p, m in [(-1, 0.9, 768), (99, 0.9, 768), (0.3, 5, 768), (0.3, 0.9, -5), (0.3, 0.9, 10**9)]:
        calls.append(("/ask_medical", ("头痛", None, t, p, m, False)))
    calls.append(("/ask_medical", ("头痛", None, 0.3, 0.9, 768, True)))
    for record in [("", None, None), ("病历", None, "{bad"), (None, None, None), ("x" * 200_000, None, None)]:
        calls.append(("/extract_record", record))
    for api, call in calls:
        try:
            client.predict(*call, api_name=api)
        except Exception as exc:  # noqa: BLE001 - the kind of failure is what is checked
            if type(exc).__name__ != "AppError" or "upstream Gradio app has raised" in str(exc):
                bad.append(f"{api} {repr(call)[:120]} -> {type(exc).__name__}: {str(exc)[:160]}")
    return len(calls)


if __name__ == "__main__":
    sys.exit(main())
