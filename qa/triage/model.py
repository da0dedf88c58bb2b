"""The trained triage model: an emergency classifier (logistic regression on e5 embeddings plus intent features),
the emergency exemplar bank (for the category), and a department classifier (embeddings stacked with TF-IDF
character n-grams). Trained from CSV files; saved with joblib."""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigurationError, InputError
from .embedder import Embedder

log = logging.getLogger(__name__)

FORMAT = 1
# intent cues the embedding alone may blur: a general question about a disease, a past episode, a denial, and
# words that place the event now. They are features the classifier weighs, learned from the training bank.
_INFORMATIONAL = re.compile(
    r"有哪些|是什么|什么是|怎么(预防|识别|区分|办理|回事)|如何(预防|识别|判断)|区别|原理|前兆|早期(症状|表现)|典型(症状|表现)"
    r"|会传染吗|存活率|急救(措施|原则|方法)|正确方法|怎么处理|多久|为什么|一般"
    r"|\bwhat (are|is|happens)\b|\bhow (do|does|can|long|much|should)\b|\bwhy\b|\bsigns of\b|\bsymptoms of\b"
    r"|\bdifference between\b|\bfirst aid\b",
    re.I,
)
_HISTORY = re.compile(
    r"(\d+|[一二两三四五六七八九十几]+)\s*(年|个月)前|去年|前年|以前|曾经|小时候|有过|得过|做过|好了|恢复"
    r"|\b(years?|months?) ago\b|\bonce\b|\bhistory of\b|\bused to\b|\bwhen i was\b",
    re.I,
)
_NEGATION = re.compile(r"没有|不是|并不|不(疼|痛|喘|吐)|未|无|\bno\b|\bnot\b|\bwithout\b|n't\b", re.I)
_NOW = re.compile(
    r"刚才|刚刚|现在|突然|正在|一直|越来越|叫不醒|怎么办|\bjust\b|\bnow\b|\bsudden(ly)?\b|\bwon't\b|\bcan'?t\b", re.I
)
INTENT_NAMES = ("informational", "history", "negation", "now")
# weights of the feature blocks, chosen by 5-fold cross-validation on the training files only
_INTENT_WEIGHT = 0.3
_EMBEDDING_WEIGHT = 4.0  # against TF-IDF rows of unit norm
_EMERGENCY_C = 10.0
MAX_CV_FALSE_POSITIVES = 0.03  # the threshold is the lowest whose cross-validated false-positive rate stays below


def intent_features(texts: list[str]) -> np.ndarray:
    """One row of 0/1 intent cues per text (see INTENT_NAMES)."""
    pats = (_INFORMATIONAL, _HISTORY, _NEGATION, _NOW)
    return np.array([[1.0 if p.search(t) else 0.0 for p in pats] for t in texts], dtype=np.float32)


def read_csv_rows(text: str, columns: tuple[str, ...], where: str) -> list[dict[str, str]]:
    """Rows of a CSV with the given header columns; InputError naming the file and row when one is bad."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(f"{where}: needs columns {', '.join(columns)} (missing {', '.join(missing)})")
    rows = []
    for n, row in enumerate(reader, start=2):
        values = {c: (row.get(c) or "").strip() for c in columns}
        if not all(values.values()):
            raise InputError(f"{where}, line {n}: every row needs {', '.join(columns)}")
        rows.append(values)
    if not rows:
        raise InputError(f"{where}: no rows")
    return rows


@dataclass
class TriageModel:
    """What training produced; `predict_*` need the same embedder the model was trained with."""

    embedder: str
    emergency_clf: Any
    emergency_vectorizer: Any
    threshold: float
    exemplars: np.ndarray  # emergency bank vectors (float16) for the nearest-exemplar category
    exemplar_categories: list[str]
    exemplar_texts: list[str]
    vectorizer: Any
    department_clf: Any
    departments: list[str]
    digest: str = ""  # sha256 of the training files, to tell models apart
    meta: dict[str, Any] = field(default_factory=dict)

    def emergency_probability(self, vectors: np.ndarray, texts: list[str]) -> np.ndarray:
        """P(emergency) per text."""
        x = _emergency_features(self.emergency_vectorizer, vectors, texts)
        return self.emergency_clf.predict_proba(x)[:, list(self.emergency_clf.classes_).index(1)]

    def nearest_category(self, vectors: np.ndarray) -> list[tuple[str, float, str]]:
        """(category, cosine, exemplar text) of the closest emergency exemplar per text."""
        sims = vectors @ self.exemplars.astype(np.float32).T
        best = sims.argmax(axis=1)
        return [
            (self.exemplar_categories[i], float(sims[row, i]), self.exemplar_texts[i]) for row, i in enumerate(best)
        ]

    def department_scores(self, vectors: np.ndarray, texts: list[str]) -> np.ndarray:
        """Department probabilities per text, columns in `departments` order."""
        return self.department_clf.predict_proba(_department_features(self, vectors, texts))

    def save(self, path: Path) -> None:
        """Write the model (joblib)."""
        import joblib

        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump({"format": FORMAT, **self.__dict__}, path, compress=3)

    @classmethod
    def load(cls, path: Path | Any) -> TriageModel:
        """Read a model written by `save`; ConfigurationError when it is not one."""
        import joblib

        try:
            data = joblib.load(path)
        except (OSError, EOFError, ValueError, KeyError, ImportError) as exc:
            raise ConfigurationError(f"cannot read triage model {path}: {exc}") from exc
        if not isinstance(data, dict) or data.pop("format", None) != FORMAT:
            raise ConfigurationError(f"{path} is not a triage model of format {FORMAT}")
        return cls(**data)


def _emergency_features(vectorizer: Any, vectors: np.ndarray, texts: list[str]) -> Any:
    from scipy.sparse import csr_matrix, hstack

    return hstack(
        [
            csr_matrix(vectors * _EMBEDDING_WEIGHT),
            vectorizer.transform(texts),
            csr_matrix(intent_features(texts) * _INTENT_WEIGHT),
        ]
    ).tocsr()


def _fit_emergency(vectors: np.ndarray, texts: list[str], y: np.ndarray) -> tuple[Any, Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True).fit(texts)
    clf = LogisticRegression(C=_EMERGENCY_C, class_weight="balanced", max_iter=5000)
    return vectorizer, clf.fit(_emergency_features(vectorizer, vectors, texts), y)


def _cv_threshold(vectors: np.ndarray, texts: list[str], y: np.ndarray) -> tuple[float, dict[str, float]]:
    """The lowest threshold whose 5-fold cross-validated false-positive rate is at most MAX_CV_FALSE_POSITIVES."""
    from sklearn.model_selection import StratifiedKFold

    probs = np.zeros(len(y))
    folds = StratifiedKFold(n_splits=min(5, int(min(y.sum(), (1 - y).sum()))), shuffle=True, random_state=0)
    for train, test in folds.split(vectors, y):
        vec, clf = _fit_emergency(vectors[train], [texts[i] for i in train], y[train])
        probs[test] = clf.predict_proba(_emergency_features(vec, vectors[test], [texts[i] for i in test]))[:, 1]
    for threshold in np.arange(0.30, 0.96, 0.025):
        flagged = probs >= threshold
        fp = float(flagged[y == 0].mean())
        if fp <= MAX_CV_FALSE_POSITIVES:
            return float(round(threshold, 3)), {"cv_recall": float(flagged[y == 1].mean()), "cv_fp_rate": fp}
    return 0.95, {
        "cv_recall": float((probs >= 0.95)[y == 1].mean()),
        "cv_fp_rate": float((probs >= 0.95)[y == 0].mean()),
    }


def _department_features(model: Any, vectors: np.ndarray, texts: list[str]) -> Any:
    from scipy.sparse import csr_matrix, hstack

    return hstack([csr_matrix(vectors * 4.0), model.vectorizer.transform(texts)]).tocsr()


def train_model(
    embedder: Embedder,
    emergency_csv: str,
    department_csv: str,
    where: tuple[str, str] = ("emergency bank", "department set"),
) -> TriageModel:
    """Train both classifiers from CSV text (emergency: text,label,category; departments: text,department)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    bank = read_csv_rows(emergency_csv, ("text", "label", "category"), where[0])
    bad = sorted({r["label"] for r in bank} - {"emergency", "none"})
    if bad:
        raise InputError(f"{where[0]}: label must be emergency or none, not {', '.join(bad)}")
    depts = read_csv_rows(department_csv, ("text", "department"), where[1])
    # questions labelled with a department are ordinary questions: negatives for the emergency classifier too
    # (a row labelled 急诊 is an emergency, and not a department to predict)
    texts = [r["text"] for r in bank] + [r["text"] for r in depts]
    y = np.array([r["label"] == "emergency" for r in bank] + [r["department"] == "急诊" for r in depts], dtype=int)
    depts = [r for r in depts if r["department"] != "急诊"]
    labels = sorted({r["department"] for r in depts})
    if len(labels) < 2:
        raise InputError(f"{where[1]}: needs at least two departments besides 急诊")
    log.info("embedding %d training texts", len(texts))
    vectors = embedder.embed(texts)
    threshold, cv = _cv_threshold(vectors, texts, y)
    emergency_vectorizer, emergency_clf = _fit_emergency(vectors, texts, y)
    mask = np.zeros(len(texts), dtype=bool)
    mask[: len(bank)] = [r["label"] == "emergency" for r in bank]
    dept_texts = [r["text"] for r in depts]
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True).fit(dept_texts)
    model = TriageModel(
        embedder=embedder.name,
        emergency_clf=emergency_clf,
        emergency_vectorizer=emergency_vectorizer,
        threshold=threshold,
        exemplars=vectors[mask].astype(np.float16),
        exemplar_categories=[r["category"] for r, m in zip(bank, mask, strict=False) if m],
        exemplar_texts=[t for t, m in zip(texts, mask, strict=False) if m],
        vectorizer=vectorizer,
        department_clf=None,
        departments=labels,
        digest=hashlib.sha256((emergency_csv + "\0" + department_csv).encode()).hexdigest(),
        meta={"emergency_rows": len(bank), "department_rows": len(depts), **cv},
    )
    dept_vectors = embedder.embed(dept_texts)
    model.department_clf = LogisticRegression(C=10.0, class_weight="balanced", max_iter=5000).fit(
        _department_features(model, dept_vectors, dept_texts), [r["department"] for r in depts]
    )
    model.departments = [str(c) for c in model.department_clf.classes_]
    return model
