"""Builds the object graph from settings: backend → tasks → service. Nothing here loads a model."""

from __future__ import annotations

from typing import Any

from .backends import Backend, create_backend
from .cache import CachedAnswers, DiskCache, NoCache, from_url, redact_url
from .errors import ConfigurationError
from .limits import Gate
from .metrics import Metrics
from .service import QAService
from .settings import Settings
from .tasks import TaskRegistry, builtin_tasks
from .tasks.base import Files
from .validation import DrugList

DRUG_LIST = "forbidden_drugs.csv"
DRUG_ALIASES = "drug_aliases.csv"
# other Chinese names from licensed public sources, built by scripts/build_drug_aliases_public.py (provenance and
# licences in qa/data/DRUG_ALIASES_SOURCES.md); read after the hand-written file, which wins where both name a key
DRUG_PUBLIC_ALIASES = ("drug_aliases_cedict.csv", "drug_aliases_cmekg.csv")
DRUG_ALIAS_FILES = (DRUG_ALIASES, *DRUG_PUBLIC_ALIASES)
DRUG_ALLOWLIST = "drug_allowlist.txt"
# clinical shorthand (MTX, 二甲), matched only in a drug context; the independent checker reads it too
DRUG_SHORTHAND = "drug_shorthand.csv"
# words that mark a clinical note (HBV, 查房, regimen): there a shorthand form needs no dose beside it
DRUG_CLINICAL = "drug_clinical_context.txt"


def load_drugs(settings: Settings) -> DrugList:
    """The forbidden drug list: package data, or the file of that name in prompts_dir."""
    files = Files("qa.data", settings.prompts_dir)
    # spelling variants, brands and colloquial names, and the words typo look-ups must leave alone
    aliases, allow = files.read(DRUG_ALIASES), files.read(DRUG_ALLOWLIST)
    return DrugList.parse(
        files.read(DRUG_LIST),
        files.where(DRUG_LIST),
        aliases=aliases,
        allow=allow,
        aliases_where=files.where(DRUG_ALIASES),
        more_aliases=[(files.read(name), files.where(name)) for name in DRUG_PUBLIC_ALIASES],
        shorthand=(files.read(DRUG_SHORTHAND), files.where(DRUG_SHORTHAND)),
        clinical=(files.read(DRUG_CLINICAL), files.where(DRUG_CLINICAL)),
    )


def generation_slots(settings: Settings, backend: Backend) -> int:
    """Generations admitted at once: as many as the backend decodes together, or more for a remote engine."""
    return max(settings.max_concurrent_generations, int(getattr(backend, "parallel", 1)))


def build_service(
    settings: Settings,
    backend: Backend | None = None,
    metrics: Metrics | None = None,
    tasks: TaskRegistry | None = None,
    kb: Any = None,
) -> QAService:
    """A service over the given (or configured) backend, tasks (default: every task under qa/tasks) and knowledge
    base (default: the one kb_url names)."""
    if settings.prompts_dir is not None and not settings.prompts_dir.is_dir():
        raise ConfigurationError(f"prompts_dir {settings.prompts_dir} is not a folder")
    metrics = metrics or Metrics()
    backend = backend if backend is not None else create_backend(settings)
    triage = build_triage(settings)
    return QAService(
        backend=backend,
        tasks=tasks if tasks is not None else builtin_tasks(settings.prompts_dir),
        drugs=load_drugs(settings),
        max_question_chars=settings.max_question_chars,
        max_new_tokens_limit=settings.max_new_tokens_limit,
        repair_attempts=settings.repair_attempts,
        metrics=metrics,
        gate=Gate(slots=generation_slots(settings, backend), queue_size=settings.queue_size),
        cache=build_cache(settings, metrics),
        triage=triage,
        max_history_turns=settings.max_history_turns,
        kb=kb if kb is not None else build_kb(settings, triage.embedder if triage is not None else None),
        max_record_chars=settings.max_record_chars,
        record_overlap=settings.record_overlap_sentences,
        record_window_chars=settings.record_window_chars,
    )


def build_kb(settings: Settings, embedder: Any = None) -> Any:
    """The knowledge base the settings ask for (None when kb_url is off), sharing triage's embedder (None: BM25
    only); its store opens at first use."""
    if settings.kb_url.strip() == "off":
        return None
    from .kb import KnowledgeBase, check_url, from_url

    url, data_dir = check_url(settings.kb_url), settings.cache_dir.expanduser()
    return KnowledgeBase(
        lambda: from_url(url, data_dir),
        embedder,
        chunk_chars=settings.kb_chunk_chars,
        max_file_bytes=settings.kb_max_file_bytes,
        max_files=settings.kb_max_files,
        max_chunks=settings.kb_max_chunks,
        min_similarity=settings.kb_min_similarity,
        top_k=settings.kb_top_k,
        cite_offer=settings.kb_cite_offer,
        cite_dense_weight=settings.kb_cite_dense_weight,
        cite_ranker=settings.kb_cite_ranker,
        cite_pair_margin=settings.kb_cite_pair_margin,
    )


def build_triage(settings: Settings) -> Any:
    """The triage engine the settings ask for (None when off); nothing loads until the first question."""
    if settings.triage_embedder == "off":
        return None
    from .triage import Triage, create_embedder

    return Triage(
        create_embedder(settings.triage_embedder, settings.triage_threads),
        model_path=settings.triage_model,
        threshold=settings.triage_threshold,
        rule_veto=settings.triage_rule_veto,
        intent_veto=settings.triage_intent_veto,
    )


def build_cache(settings: Settings, metrics: Metrics) -> CachedAnswers:
    """The answer cache the settings ask for (off when answer_cache is false); ConfigurationError for a bad URL."""
    if not settings.answer_cache:
        return CachedAnswers(NoCache(), metrics)
    store = from_url(
        settings.cache_url, settings.cache_dir.expanduser(), settings.cache_ttl_s, settings.cache_max_bytes
    )
    where = str(store.directory) if isinstance(store, DiskCache) else redact_url(settings.cache_url)
    return CachedAnswers(store, metrics, where=where)
