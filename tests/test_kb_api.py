"""The knowledge base over the API (uvicorn on loopback, fake backend, memory store): /v1/files upload, list and
delete, chat completions that name a collection and return verified citations, and OpenAI-shaped errors — also
for an upload too large, answered with a readable 413 even to a client that sends its whole body first."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from types import SimpleNamespace

import httpx
import pytest

from qa.backends.fake import FakeBackend
from qa.kb import KnowledgeBase, MemoryStore
from qa.server import create_app
from qa.settings import Settings
from qa.triage import FakeEmbedder
from qa.wiring import build_service

from .helpers import MEDICAL_OK, dumps
from .kb_files import MEDICAL_PAGES, cite, cjk_pdf
from .live import serving

LIMIT = 200_000


def respond(request):
    """Cites the sentence about salt, chosen from those the schema offers, when it asks for citations."""
    if request.schema["properties"].get("citations") is None:
        return dumps(MEDICAL_OK)
    return dumps({**MEDICAL_OK, "citations": [cite(request, "食盐摄入量")]})


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    settings = Settings(
        backend="fake",
        cache_dir=tmp_path_factory.mktemp("kb-api"),
        triage_embedder="off",
        rate_limit_per_minute=0,
        kb_max_file_bytes=LIMIT,
    )
    kb = KnowledgeBase(MemoryStore(), FakeEmbedder(), chunk_chars=100, max_file_bytes=LIMIT, min_similarity=0.0)
    backend = FakeBackend(respond)
    service = build_service(settings, backend, kb=kb)
    service.warm_up()
    with serving(create_app(service, settings)) as url:
        yield SimpleNamespace(url=url, backend=backend, service=service)


def upload(url, name, data, collection="医疗资料"):
    return httpx.post(url + "/v1/files", files={"file": (name, data)}, data={"collection": collection}, timeout=20)


def test_upload_list_answer_with_citations_and_delete(api):
    made = upload(api.url, "guide.pdf", cjk_pdf(MEDICAL_PAGES))
    assert made.status_code == 200, made.text
    obj = made.json()
    assert obj["object"] == "file" and obj["filename"] == "guide.pdf" and obj["pages"] == 2 and obj["chunks"] >= 2
    listed = httpx.get(api.url + "/v1/files", params={"collection": "医疗资料"}).json()
    assert [f["id"] for f in listed["data"]] == [obj["id"]]
    assert httpx.get(api.url + f"/v1/files/{obj['id']}").json()["filename"] == "guide.pdf"

    body = {"model": "qa-medical", "messages": [{"role": "user", "content": "高血压每天吃多少盐？"}],
            "collection": "医疗资料", "temperature": 0}  # fmt: skip
    answer = httpx.post(api.url + "/v1/chat/completions", json=body, timeout=20).json()
    [citation] = answer["citations"]
    assert citation["verified"] is True and (citation["file"], citation["page"]) == ("guide.pdf", 1)
    assert citation["quote"] == "高血压患者每日食盐摄入量应低于5克。"
    assert MEDICAL_PAGES[0][citation["start"] : citation["end"]] == citation["quote"]
    # the content is the model's validated JSON: the sentence it chose; the citation filled in from it is beside
    assert json.loads(answer["choices"][0]["message"]["content"])["citations"] == [{"quote": citation["quote"]}]

    with httpx.stream("POST", api.url + "/v1/chat/completions", json={**body, "stream": True}, timeout=20) as r:
        events = [json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: {")]
    assert events[-1]["citations"][0]["verified"] is True

    search = httpx.post(api.url + "/v1/kb/search", json={"collection": "医疗资料", "query": "血糖", "k": 2}).json()
    assert len(search["data"]) == 2 and {"bm25", "dense", "score", "chunk"} <= set(search["data"][0])

    gone = httpx.delete(api.url + f"/v1/files/{obj['id']}")
    assert gone.json() == {"id": obj["id"], "object": "file", "deleted": True}
    assert httpx.get(api.url + "/v1/files").json()["data"] == []
    again = httpx.delete(api.url + f"/v1/files/{obj['id']}")
    assert again.status_code == 404 and again.json()["error"]["code"] == "file_not_found"
    # a collection emptied by the delete, and one never used, are searched like any other: nothing found (bm25s
    # cannot index an empty corpus, which once answered 500)
    for collection in ("医疗资料", "从未用过"):
        empty = httpx.post(api.url + "/v1/kb/search", json={"collection": collection, "query": "血糖"})
        assert empty.status_code == 200 and empty.json()["data"] == [], empty.text


@pytest.mark.parametrize(
    ("name", "data", "fields", "status", "code"),
    [
        ("garbage.pdf", b"%PDF-1.7 nonsense" * 20, {}, 400, "bad_file"),
        ("tool.exe", b"MZ", {}, 400, "unsupported_file"),
        ("a.txt", "正文。".encode(), {"collection": "../x"}, 400, "bad_collection"),
        ("a.txt", "正文。".encode(), {"collection": ""}, 400, "missing_required_parameter"),
        ("big.txt", b"a" * (LIMIT + 10), {}, 413, "file_too_large"),
    ],
)
def test_bad_uploads_get_openai_shaped_errors(api, name, data, fields, status, code):
    reply = httpx.post(
        api.url + "/v1/files", files={"file": (name, data)}, data={"collection": "c", **fields}, timeout=20
    )
    assert reply.status_code == status, reply.text
    error = reply.json()["error"]
    assert error["code"] == code and error["message"]
    assert httpx.get(api.url + "/v1/files", params={"collection": "c"}).json()["data"] == []


def test_an_oversized_upload_sent_whole_by_urllib_reads_a_413(api):
    boundary = "qa-boundary"
    payload = b"x" * 1_200_000
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="collection"\r\n\r\nc\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n\r\n'
        ).encode()
        + payload
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        api.url + "/v1/files", data=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=20)
    assert err.value.code == 413
    assert json.loads(err.value.read())["error"]["code"] == "request_too_large"


def test_chat_with_an_unknown_or_empty_collection_is_a_400(api):
    for collection, code in (("没有这个库", "not_found"), (5, "invalid_value")):
        body = {"model": "qa-medical", "messages": [{"role": "user", "content": "问题"}], "collection": collection}
        reply = httpx.post(api.url + "/v1/chat/completions", json=body, timeout=20)
        assert reply.status_code == 400 and reply.json()["error"]["param"] == "collection", reply.text
        assert reply.json()["error"]["code"] == code


def test_uploads_need_multipart(api):
    reply = httpx.post(api.url + "/v1/files", json={"collection": "c"})
    assert reply.status_code == 415 and reply.json()["error"]["code"] == "unsupported_media_type"
