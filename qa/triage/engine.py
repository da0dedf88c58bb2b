"""One triage call: the red-flag rules OR the embedding classifier decide emergency, unless the intent classifier is
sure the question is not about an emergency now (a general, preparation, past, denied, figurative or media
question); otherwise the department classifier picks one of the trained departments. Emergencies go to 急诊."""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigurationError
from ..pinyin_text import looks_like_pinyin, to_hanzi
from ..tasks.medical.rules import NEVER_VETOED, episode_not_now, red_flags
from .embedder import Embedder
from .model import (
    INTENTS,
    SELF_HARM_VETO_INTENTS,
    TriageModel,
    flagged,
    not_now,
    self_harm_threshold,
    train_model,
    training_digest,
)

log = logging.getLogger(__name__)

DEPARTMENTS = (
    "内科", "外科", "妇产科", "儿科", "皮肤科", "五官科", "男科", "肿瘤科", "传染科", "精神心理科", "中医科", "整形美容科",
)  # fmt: skip
EMERGENCY_DEPARTMENT = "急诊"
PACKAGED_MODEL = "model.joblib"
EMERGENCY_BANK = "emergency_train.csv"
DEPARTMENT_SET = "departments_train.csv"
INTENT_SET = "intent_train.csv"
# windows: a long message that buries one emergency clause among unrelated text (a pregnancy question with the signs of
# pre-eclampsia in the middle, a day's complaints before the chest pain) has a whole-message embedding that dilutes it.
# Such a message is also scored by windows of WINDOW_CLAUSES consecutive clauses (the same classifier), and counts as
# an emergency when a window's P(emergency) is at least WINDOW_THRESHOLD, the window's own intent does not say "not now"
# (the model's intent threshold), and the whole message's P(not now) is under WINDOW_WHOLE_NOT_NOW — a window loses
# its message's frame (a friend's, last month's, a story), so the frame must be clearly "now" for the message as a
# whole. Cross-validated on the training files (the same folds as the threshold), windows at 0.975 add 4.7 emergencies
# and no false positive per shuffle (CV recall 0.852 -> 0.862); at 0.95 the CV's best (0.863) but two more false alarms
# on the seen held-out sets and two on the banner set (tenth session, second triage change; see BENCHMARKS.md)
WINDOW_MIN_CHARS = 60
WINDOW_CLAUSES = 2
WINDOW_MAX = 8  # at most this many windows per message (evenly spaced): bounds the extra embeddings
WINDOW_THRESHOLD = 0.975
WINDOW_WHOLE_NOT_NOW = 0.5
# ... and only when the whole message's own P(emergency) is at least the second tier's floor (the model's
# low_threshold, chosen by CV: 0.45): a window names the emergency, but the message as a whole must lean towards one.
# Two clauses cut from a relative's long story lose what they were about ("今天看见我买了杯咖啡，她也想喝" read as a
# swallowed object at p 0.99) and the whole reads 0.01-0.44; every emergency the seen sets catch by a window reads
# 0.45-0.78 whole (thirteenth session: 15 of 95 banners on 1,600 real questions go, none of the seen sets' catches)
_CLAUSE_END = re.compile(r"(?<=[。！？!?；;\n，,、])|(?<=[.] )|\s{2,}")


@dataclass(frozen=True)
class TriageResult:
    """Emergency or not (and by which signal), the department, and why."""

    emergency: bool
    category: str | None
    department: str
    department_scores: dict[str, float]
    reasons: list[str]
    rule: bool = False  # the red-flag rules fired
    classifier: bool = False  # the embedding classifier said emergency
    probability: float = 0.0  # the classifier's P(emergency)
    margin: float | None = (
        None  # how much nearer the nearest emergency rows are than the nearest others (None: no tier)
    )
    rule_categories: list[str] = field(default_factory=list)
    rule_vetoed: bool = False  # the rules fired, but the classifier or the intent said no emergency (see Triage)
    intent: str | None = None  # the likeliest intent (model.INTENTS); None: the model has no intent classifier
    p_not_now: float = 0.0  # P(a general, preparation, past, denied, figurative or media question)
    classifier_vetoed: bool = False  # the classifier said emergency, but the intent said not one now
    vetoed_by: str | None = None  # "classifier" (its P below the rule veto) or "intent"
    rule_counted: list[str] = field(default_factory=list)  # categories of the rule hits that count (after vetoes)
    window_probability: float | None = None  # a window of a long message made it an emergency, at this P

    @property
    def signals(self) -> list[str]:
        """Which signals said emergency: rule, classifier (each unless vetoed)."""
        rule = self.rule and not self.rule_vetoed
        classifier = self.classifier and not self.classifier_vetoed
        return [name for name, on in (("rule", rule), ("classifier", classifier)) if on]

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of the CLI and the API."""
        return {
            "emergency": self.emergency,
            "category": self.category,
            "department": self.department,
            "department_scores": self.department_scores,
            "reasons": self.reasons,
            "signals": {
                "rule": self.rule,
                "rule_vetoed": self.rule_vetoed,
                "classifier": self.classifier,
                "classifier_vetoed": self.classifier_vetoed,
                "p_emergency": round(self.probability, 4),
                "intent": self.intent,
                "p_not_now": round(self.p_not_now, 4),
                "p_window": None if self.window_probability is None else round(self.window_probability, 4),
            },
        }


def packaged_text(name: str) -> str:
    """A training file shipped with the package."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def windows(
    text: str, min_chars: int = WINDOW_MIN_CHARS, size: int = WINDOW_CLAUSES, most: int = WINDOW_MAX
) -> list[str]:
    """Windows of `size` consecutive clauses of a long message (none for a short one or one of `size` clauses or fewer);
    a message without punctuation is split on its spaces."""
    if len(text) < min_chars:
        return []
    parts = [p.strip(" \t") for p in _CLAUSE_END.split(text)]
    parts = [p for p in parts if p]
    spaced = text.split()
    if len(parts) <= size and len(spaced) > len(parts):
        parts = spaced
    if len(parts) <= size:
        return []
    found = [
        (" " if re.search(r"[A-Za-z]", parts[i]) else "").join(parts[i : i + size])
        for i in range(len(parts) - size + 1)
    ]
    if len(found) > most:
        step = len(found) / most
        found = [found[int(i * step)] for i in range(most)]
    return found


class Triage:
    """Emergency and department triage over one embedder and one trained model (both loaded at first use)."""

    def __init__(
        self,
        embedder: Embedder,
        model_path: Path | None = None,
        threshold: float | None = None,
        rules: Callable[[str], list[Any]] = red_flags,
        use_rules: bool = True,
        use_classifier: bool = True,
        cache_size: int = 256,
        rule_veto: float | None = 0.0,
        intent_veto: float | None = None,
        packaged: Callable[[str], str] | None = None,
        window_threshold: float | None = WINDOW_THRESHOLD,
        window_floor: bool = True,
        episode_frame: Callable[[str, str], bool] | None = episode_not_now,
    ) -> None:
        self.embedder = embedder
        self.model_path = model_path
        self.threshold = threshold  # None: the model's own, chosen by cross-validation at training
        self._rules = rules
        self.use_rules = use_rules
        self.use_classifier = use_classifier
        # a rule hit counts only when the classifier's P(emergency) is at least this: keyword rules fire on general,
        # past, reported and figurative questions that the classifier, trained on such negatives, is sure about;
        # self-harm hits always count (a missed one costs the most). None: the model's own (chosen by
        # cross-validation at training since the tenth session; 0.05 for an older model)
        self.rule_veto = rule_veto
        # an emergency hit (rule or classifier) is vetoed when the intent classifier's P(a general, preparation, past,
        # denied, figurative or media question) is at least this; None: the model's own (chosen by cross-validation
        # at training), 1 or more: off
        self.intent_veto = intent_veto
        self._packaged = packaged or packaged_text
        self.window_threshold = window_threshold  # None: long messages are scored whole only
        # a window counts only when the whole message is at least at the second tier's floor (see WINDOW_WHOLE_NOT_NOW)
        self.window_floor = window_floor
        # the rules' frames for an episode not happening now, applied to a classifier hit: an episode of a chronic
        # condition the person has ("朋友患癫痫十多年，复发时口吐白沫，四肢抽搐，怎么治") when the hit's nearest exemplars
        # are that episode's kind (a seizure, a faint, breathlessness), a past episode told as a story, seen to
        # afterwards, whatever its kind, an episode over and of a small degree ("鼻子出血了，捏了五分钟就止住了"), a
        # question that opens with a supposition or a report, and (not for self-harm) a pet's sign, an exam case, a
        # report of others, a relative's past asked as family history and a small extra dose with the person well
        # (rules.episode_not_now); None: classifier hits stand
        self.episode_frame = episode_frame
        self._model: TriageModel | None = None
        self._lock = threading.Lock()
        self._recent: OrderedDict[str, TriageResult] = OrderedDict()  # the page asks, then the pipeline: embed once
        self._cache_size = cache_size

    @property
    def model(self) -> TriageModel:
        """The trained model: the given file, else the packaged one (trained at first use when it does not fit the
        embedder, e.g. the fake in tests)."""
        with self._lock:
            if self._model is None:
                self._model = self._load()
            return self._model

    def _load(self) -> TriageModel:
        if self.model_path is not None:
            model = TriageModel.load(self.model_path)
        else:
            with resources.as_file(resources.files(__package__).joinpath(PACKAGED_MODEL)) as path:
                model = TriageModel.load(path) if path.is_file() else None
            sets = [self._packaged(name) for name in (EMERGENCY_BANK, DEPARTMENT_SET, INTENT_SET)]
            if model is not None and model.embedder == self.embedder.name and model.digest != training_digest(*sets):
                # the training files changed after model.joblib was built: that model is not what they say
                log.warning("the packaged triage model does not match the packaged training files; retraining")
                model = None
            if model is None or model.embedder != self.embedder.name:
                log.info("training the triage model for embedder %s from the packaged sets", self.embedder.name)
                model = train_model(self.embedder, sets[0], sets[1], intent_csv=sets[2])
        if model.embedder != self.embedder.name:
            raise ConfigurationError(
                f"triage model {self.model_path} was trained with embedder {model.embedder!r}, not {self.embedder.name!r}"
            )
        return model

    def identity(self) -> str:
        """What decides the outcomes: embedder, training data digest, threshold (for the answer cache's key)."""
        model = self.model
        threshold = self.threshold if self.threshold is not None else model.threshold
        return (
            f"{self.embedder.name}:{model.digest[:16]}:{threshold}:{self._rule_veto(model)}:"
            f"{self._intent_threshold(model)}:{self.window_threshold}:{self.window_floor}:{self.episode_frame is not None}"
        )

    def _episode(self, text: str, category: str) -> bool:
        return self.episode_frame is not None and self.episode_frame(text, category)

    def _rule_veto(self, model: TriageModel) -> float:
        return self.rule_veto if self.rule_veto is not None else model.rule_veto

    def _intent_threshold(self, model: TriageModel) -> float:
        if model.intent_clf is None:
            return 1.0
        return self.intent_veto if self.intent_veto is not None else model.intent_threshold

    def load(self) -> None:
        """Load the embedder and the model now rather than at the first question."""
        _ = self.model
        self.embedder.embed(["warm-up"])

    def assess(self, text: str) -> TriageResult:
        """Triage one question."""
        with self._lock:
            hit = self._recent.get(text)
            if hit is not None:
                self._recent.move_to_end(text)
                return hit
        result = self.assess_many([text])[0]
        with self._lock:
            self._recent[text] = result
            while len(self._recent) > self._cache_size:
                self._recent.popitem(last=False)
        return result

    def assess_many(self, texts: list[str]) -> list[TriageResult]:
        """Triage questions in one batch (one embedding call)."""
        if not texts:
            return []
        # a message typed in pinyin is read back into characters first: the rules and the embedder read Chinese
        read = [to_hanzi(text) if looks_like_pinyin(text) else text for text in texts]
        results = self._assess_read(read, [seen != text for text, seen in zip(texts, read, strict=True)])
        return [
            result if seen == text else replace(result, reasons=[*result.reasons, f"read as pinyin: {seen}"])
            for text, seen, result in zip(texts, read, results, strict=True)
        ]

    def _assess_read(self, texts: list[str], from_pinyin: list[bool] | None = None) -> list[TriageResult]:
        """Triage texts as they will be read (see assess_many)."""
        model = self.model
        # a reading of pinyin is noisy (小腿 read as 消退, 肿到 as 钟到): the classifier's low p on it says the words
        # were misread, not that the question is general or past, so it does not veto a rule that read the signs
        # (the rules' own frames and the intent veto still apply)
        plain = [not seen for seen in from_pinyin] if from_pinyin is not None else [True] * len(texts)
        vectors = self.embedder.embed(list(texts))
        probs = model.emergency_probability(vectors, list(texts))
        margins = model.agreement(vectors)
        nearest = model.nearest_category(vectors)
        scores = model.department_scores(vectors, list(texts))
        threshold = self.threshold if self.threshold is not None else model.threshold
        intents = model.intent_probabilities(vectors, list(texts))
        rows = intents if intents is not None else [None] * len(texts)
        results = [
            self._result(
                text,
                float(p),
                threshold,
                near,
                dict(zip(model.departments, map(float, row), strict=True)),
                intent,
                self._intent_threshold(model),
                None if margins is None else float(margins[i]),
                min(model.low_threshold, threshold),
                model.margin,
                self._rule_veto(model) if plain[i] else 0.0,
            )
            for i, (text, p, near, row, intent) in enumerate(zip(texts, probs, nearest, scores, rows, strict=True))
        ]
        return self._windowed(model, list(texts), results)

    def _windowed(self, model: TriageModel, texts: list[str], results: list[TriageResult]) -> list[TriageResult]:
        """A long message that is not an emergency whole, in a frame clearly "now": an emergency when one of its
        windows is (see WINDOW_THRESHOLD). One embedding call for all the windows of the batch."""
        threshold = self.window_threshold
        intent_threshold = self._intent_threshold(model)
        if threshold is None or not self.use_classifier or model.intent_clf is None:
            return results
        # a model without a second tier (low_threshold 1) has no floor to borrow: its windows are as before
        floor = model.low_threshold if self.window_floor and model.low_threshold < 1.0 else 0.0
        spans: list[tuple[int, list[str]]] = []
        for i, (text, result) in enumerate(zip(texts, results, strict=True)):
            if not result.emergency and result.p_not_now < WINDOW_WHOLE_NOT_NOW and result.probability >= floor:
                found = windows(text)
                if found:
                    spans.append((i, found))
        flat = [w for _, found in spans for w in found]
        if not flat:
            return results
        vectors = self.embedder.embed(flat)
        probs = model.emergency_probability(vectors, flat)
        now = not_now(model.intent_probabilities(vectors, flat)) < intent_threshold
        nearest = model.nearest_category(vectors)
        out = list(results)
        start = 0
        for i, found in spans:
            end = start + len(found)
            hits = [
                j
                for j in range(start, end)
                if probs[j] >= threshold and now[j] and not self._episode(texts[i], nearest[j][0])
            ]
            if hits:
                best = max(hits, key=lambda j: probs[j])
                near = nearest[best]
                out[i] = replace(
                    results[i],
                    emergency=True,
                    category=near[0],
                    department=EMERGENCY_DEPARTMENT,
                    classifier=True,
                    window_probability=float(probs[best]),
                    reasons=[r for r in results[i].reasons if not r.startswith("department:")]
                    + [
                        f"classifier on a window of the message: p={probs[best]:.2f} >= {threshold:g} "
                        f"(“{flat[best]}”), closest to {near[0]} exemplar “{near[2]}” (cos {near[1]:.2f})"
                    ],
                )
            start = end
        return out

    def _result(
        self,
        text: str,
        p: float,
        threshold: float,
        near: tuple[str, float, str],
        scores: dict[str, float],
        intent: Any = None,
        intent_threshold: float = 1.0,
        margin: float | None = None,
        low: float = 1.0,
        agreement: float = 0.0,
        rule_veto: float = 0.0,
    ) -> TriageResult:
        flags = self._rules(text) if self.use_rules else []
        # the second tier: under the threshold but at the floor, with the nearest training rows emergencies
        by_agreement = (
            margin is not None
            and p < threshold
            and bool(flagged(np.array([p]), np.array([margin]), threshold, low, agreement)[0])
        )
        by_classifier = self.use_classifier and (p >= threshold or by_agreement)
        reasons = [f"rule: {f.describe()}" for f in flags]
        vetoed = bool(
            flags
            and self.use_classifier
            and not by_classifier
            and p < rule_veto
            and not any(f.category == "self_harm" or f.category in NEVER_VETOED for f in flags)
        )
        vetoed_by = "classifier" if vetoed else None
        if vetoed:
            reasons.append(
                f"rule vetoed: classifier p={p:.3f} < {rule_veto:g} (a general, past, reported or figurative "
                "question, not an emergency now)"
            )
        counted = [] if vetoed else flags
        # the intent classifier: keyword rules and the emergency classifier both fire on emergency words in a
        # question about something else (a disease in general, first-aid kits, last year's stroke, "累死了", a pet);
        # thoughts of self-harm count unless the question is general, past, denied or figurative
        top, p_not_now, p_sh = None, 0.0, 0.0
        if intent is not None:
            top = INTENTS[int(intent.argmax())]
            p_not_now = float(not_now(intent[None, :])[0])
            p_sh = float(not_now(intent[None, :], SELF_HARM_VETO_INTENTS)[0])
        intent_on = intent is not None and intent_threshold < 1.0
        sh_threshold = self_harm_threshold(intent_threshold)

        def stands(self_harm: bool) -> bool:
            return p_sh < sh_threshold if self_harm else p_not_now < intent_threshold

        if counted and intent_on:
            # a delayed-danger overdose told calmly ("I won't do it again") reads as denial: never vetoed
            kept = [f for f in counted if f.category in NEVER_VETOED or stands(f.category == "self_harm")]
            if not kept:
                vetoed, vetoed_by = True, "intent"
                reasons.append(
                    f"rule vetoed: intent {top} (P(not an emergency now)={p_not_now:.2f} >= {intent_threshold:g})"
                )
            counted = kept
        classifier_vetoed = False
        if by_classifier:
            classifier_vetoed = bool(intent_on and not stands(near[0] == "self_harm"))
            framed = not classifier_vetoed and self._episode(text, near[0])
            classifier_vetoed = classifier_vetoed or framed
            reasons.append(f"classifier: p={p:.2f}, closest to {near[0]} exemplar “{near[2]}” (cos {near[1]:.2f})")
            if by_agreement:
                reasons.append(
                    f"classifier under its threshold ({p:.2f} < {threshold:g}) but over the floor {low:g}, and the nearest "
                    f"training rows are emergencies (margin {margin:.3f} >= {agreement:g})"
                )
            if framed:
                reasons.append(
                    "classifier vetoed: a chronic condition's episode, a past story, an episode over and minor, an "
                    "imagined or reported one, a pet's, an exam case, a relative's past asked as family history or a "
                    f"small extra dose with the person well, no word of now ({near[0]})"
                )
            elif classifier_vetoed:
                reasons.append(
                    f"classifier vetoed: intent {top} (P(not an emergency now)={p_not_now:.2f} >= {intent_threshold:g})"
                )
        counted_classifier = by_classifier and not classifier_vetoed
        emergency = bool(counted) or counted_classifier
        category = counted[0].category if counted else (near[0] if counted_classifier else None)
        ranked = dict(sorted(((k, round(v, 4)) for k, v in scores.items()), key=lambda kv: -kv[1]))
        department = EMERGENCY_DEPARTMENT if emergency else next(iter(ranked))
        if not emergency:
            reasons.append(f"department: {department} (p={ranked[department]:.2f})")
        return TriageResult(
            emergency=emergency,
            category=category,
            department=department,
            department_scores=ranked,
            reasons=reasons,
            rule=bool(flags),
            classifier=by_classifier,
            probability=p,
            margin=margin,
            rule_categories=[f.category for f in flags],
            rule_vetoed=vetoed,
            intent=top,
            p_not_now=p_not_now,
            classifier_vetoed=classifier_vetoed,
            vetoed_by=vetoed_by,
            rule_counted=[f.category for f in counted],
        )
