"""Builds the object graph from settings: backend → service. Nothing here loads a model."""

from __future__ import annotations

from .backends import Backend, create_backend
from .limits import Gate
from .metrics import Metrics
from .prompts import load_domains
from .service import QAService
from .settings import Settings
from .validation import DrugList

DRUG_LIST = "forbidden_drugs.csv"


def build_service(settings: Settings, backend: Backend | None = None, metrics: Metrics | None = None) -> QAService:
    """A service over the given (or configured) backend, with prompts and the drug list loaded from files."""
    return QAService(
        backend=backend if backend is not None else create_backend(settings),
        domains=load_domains(settings.prompts_dir),
        drugs=DrugList.load(settings.prompts_dir / DRUG_LIST),
        max_question_chars=settings.max_question_chars,
        max_new_tokens_limit=settings.max_new_tokens_limit,
        repair_attempts=settings.repair_attempts,
        metrics=metrics or Metrics(),
        gate=Gate(slots=settings.max_concurrent_generations, queue_size=settings.queue_size),
    )
