"""Triage: the embedder fake, the engine, the held-out figures through `python -m qa triage --jsonl` (the code path
of `./start.sh triage --jsonl`), retraining from a CSV, the medical task's use of it, and /v1/triage + /v1/embeddings.

The held-out files (qa/data/triage_heldout.jsonl, triage_departments_heldout.csv) were written before the training
bank and never trained on; qa/data/triage_heldout_v2.jsonl was written later by other hands, before the bank's
second change, and scored once; qa/data/triage_heldout_v3.jsonl was written by an independent writer while the
red-flag rules' frames were changed, and opened only after that change was committed (the classifier was retrained
on a grown bank after v3's first score, so v3 is seen); qa/data/triage_heldout_v4.jsonl was written by a second
independent writer during the retrain and scored once on the final rules and classifier (then read to set the rule
veto); qa/data/triage_heldout_v5.jsonl was written by a third while the veto was made and scored once on the final
configuration. Thresholds below are what was measured on them (see BENCHMARKS.md), not the goals where a goal was
missed (goals: recall 0.97, false positives 0.03; v5 measured 59/60 and 13/140, then 59/60 and 3/140 with the
intent veto of the fourth session, whose training rows were written after v3-v5's false alarms had been read: every
set here is seen now; the next clean figure is the lead's v6).
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest

from qa.errors import InputError
from qa.server import create_app
from qa.tasks.medical.rules import (
    RedFlag,
    about_an_animal,
    condition_had_and_asked,
    cost_long_after,
    episode_not_now,
    everyday_stomach,
    family_history,
    imagined_question,
    long_past,
    over_and_minor,
    reading_about_signs,
    reading_asked,
    reassured_in_full,
    red_flags,
    report_of_others,
    seen_to,
    seizure_over_days_ago,
    tell_apart_asked,
)
from qa.triage import DEPARTMENTS, EMERGENCY_DEPARTMENT, FakeEmbedder, Triage
from qa.triage.engine import DEPARTMENT_SET, EMERGENCY_BANK, INTENT_SET, WINDOW_MAX, packaged_text, windows
from qa.triage.measure import (
    HELDOUT_EMERGENCY,
    HELDOUT_EMERGENCY_SETS,
    HELDOUT_EMERGENCY_V2,
    HELDOUT_EMERGENCY_V3,
    HELDOUT_EMERGENCY_V4,
    HELDOUT_EMERGENCY_V5,
    HELDOUT_EMERGENCY_V6,
    HELDOUT_EMERGENCY_V7,
    HELDOUT_EMERGENCY_V8,
    HELDOUT_EMERGENCY_V9,
    HELDOUT_EMERGENCY_V10,
    HELDOUT_EMERGENCY_V11,
    HELDOUT_EMERGENCY_V12,
    HELDOUT_EMERGENCY_V13,
    HELDOUT_EMERGENCY_V14,
    HELDOUT_EMERGENCY_V15,
    HELDOUT_EMERGENCY_V16,
    HELDOUT_EMERGENCY_V17,
    HELDOUT_EMERGENCY_V18,
    HELDOUT_EMERGENCY_V19,
    HELDOUT_EMERGENCY_V20,
    HELDOUT_EMERGENCY_V21,
    HELDOUT_EMERGENCY_V22,
    RULES_TUNING,
    heldout_departments,
    heldout_emergency,
    rates,
    redteam_emergency,
)
from qa.triage.model import INTENT_NAMES, INTENTS, LEGACY_CUES, TriageModel, intent_features, training_digest

from .helpers import MEDICAL_OK, dumps, make_api
from .live import serving

REPO = Path(__file__).resolve().parent.parent


def qa_cli(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None, timeout: int = 600
) -> subprocess.CompletedProcess:
    """`python -m qa ARGS` in the repository; `timeout` only guards against a hang (CI has its own overall limit)."""
    import os

    return subprocess.run(
        [sys.executable, "-m", "qa", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


# ---- the fake embedder and the engine (no model) -------------------------------------------------------------


def test_fake_embedder_is_deterministic_normalised_and_similar_for_similar_texts():
    e = FakeEmbedder()
    a, b, c = e.embed(["胸口疼出冷汗", "胸口疼还出冷汗", "市盈率是什么"])
    assert np.allclose(e.embed(["胸口疼出冷汗"])[0], a)
    assert np.isclose(np.linalg.norm(a), 1.0)
    assert a @ b > a @ c
    assert e.embed([]).shape == (0, e.dim) and e.calls == 4


@pytest.fixture(scope="module")
def fake_triage():
    """The engine over the fake embedder: the packaged model fits another embedder, so it trains — here, once, with
    one cross-validation shuffle instead of the shipped three: this model tests behaviour, and the steadiness of the
    threshold is the packaged model's (its held-out bounds below)."""
    import qa.triage.model as triage_model

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(triage_model, "CV_REPEATS", 1)
        triage = Triage(FakeEmbedder())
        assert triage.model is not None  # trained now, under the patch
    return triage


def test_engine_result_shape_and_department_labels(fake_triage):
    result = fake_triage.assess("脸上长了好多痘痘，怎么都消不下去")
    data = result.to_dict()
    assert set(data) == {"emergency", "category", "department", "department_scores", "reasons", "signals"}
    assert set(data["department_scores"]) == set(DEPARTMENTS)
    assert abs(sum(data["department_scores"].values()) - 1) < 1e-3
    assert result.department in (*DEPARTMENTS, EMERGENCY_DEPARTMENT)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("我老公突然倒在地上，叫他没反应，也没有呼吸了", "cardiac_arrest"),  # the negation rule used to swallow it
        ("my dad is not breathing", "cardiac_arrest"),
        ("我想自杀", "self_harm"),
    ],
)
def test_a_rule_emergency_goes_to_the_emergency_department_whatever_the_classifier_says(fake_triage, text, category):
    result = fake_triage.assess(text)
    assert result.emergency and result.rule and result.category == category
    assert result.department == EMERGENCY_DEPARTMENT
    assert any(r.startswith(f"rule: {category}") for r in result.reasons)


@pytest.mark.parametrize(
    "text",
    ["心肌梗死的早期症状有哪些？", "What are the warning signs of a heart attack?", "一氧化碳中毒的原理是什么？"],
)
def test_questions_about_a_condition_in_general_are_not_rule_emergencies(fake_triage, text):
    assert not fake_triage.assess(text).rule


def test_the_classifier_alone_can_be_switched_off(fake_model_path):
    rules_only = Triage(FakeEmbedder(), model_path=fake_model_path, use_classifier=False)
    assert not rules_only.assess("肚子疼得厉害").classifier


@pytest.mark.parametrize(
    ("category", "veto", "threshold", "emergency", "vetoed"),
    [
        ("cardiac", 1.0, 1.0, False, True),  # P(emergency) < 1 always: a veto of 1 discounts every rule hit
        ("cardiac", 0.0, 1.0, True, False),  # veto off: the rules alone decide, as before
        ("self_harm", 1.0, 1.0, True, False),  # a self-harm hit is never vetoed
        ("cardiac", 1.0, 0.0, True, False),  # the classifier says emergency: nothing to veto
    ],
)
def test_a_rule_hit_the_classifier_is_sure_about_is_vetoed(
    fake_model_path, category, veto, threshold, emergency, vetoed
):
    flag = RedFlag(category, "胸口疼")
    triage = Triage(
        FakeEmbedder(), model_path=fake_model_path, threshold=threshold, rules=lambda text: [flag], rule_veto=veto
    )
    result = triage.assess("胸口疼")
    assert result.rule and result.rule_vetoed is vetoed and result.emergency is emergency
    assert ("rule" in result.signals) is (not vetoed)
    assert any(r.startswith("rule vetoed") for r in result.reasons) is vetoed
    assert result.to_dict()["signals"]["rule_vetoed"] is vetoed


@pytest.mark.parametrize(("model_veto", "given", "vetoed"), [(1.0, None, True), (0.0, None, False), (0.0, 1.0, True)])
def test_the_rule_veto_is_the_models_own_unless_one_is_given(fake_model_path, model_veto, given, vetoed):
    triage = Triage(FakeEmbedder(), model_path=fake_model_path, threshold=1.0, rules=lambda text: [RedFlag("cardiac", "胸口疼")],
                    rule_veto=given)  # fmt: skip
    triage.model.rule_veto = model_veto
    assert triage.assess("胸口疼").rule_vetoed is vetoed


def test_a_model_saved_before_the_tenth_session_keeps_the_constant_margin_and_rule_veto(fake_triage, tmp_path):
    import joblib

    from qa.triage.model import AGREEMENT_MARGIN, RULE_VETO

    data = {k: v for k, v in fake_triage.model.__dict__.items() if k not in ("margin", "rule_veto")}
    joblib.dump({"format": 2, **data}, tmp_path / "ninth.joblib")
    old = TriageModel.load(tmp_path / "ninth.joblib")
    assert (old.margin, old.rule_veto) == (AGREEMENT_MARGIN, RULE_VETO) == (0.01, 0.05)
    # a model trained now carries the margin and rule veto its cross-validation chose
    assert fake_triage.model.meta["cv_margin"] == fake_triage.model.margin
    assert fake_triage.model.meta["cv_rule_veto"] == fake_triage.model.rule_veto


# ---- the intent veto (a classifier of what the question is about, qa/triage/intent_train.csv) -------------------


@pytest.fixture(scope="module")
def fake_model_path(fake_triage, tmp_path_factory):
    """The fake-embedder model written once, so that each case loads its own copy (and can fix its intents)."""
    path = tmp_path_factory.mktemp("intent") / "model.joblib"
    fake_triage.model.save(path)
    return path


def _with_intent(path, intent, p, **kwargs):
    """An engine whose intent classifier always answers P(intent) = p (the rest: now, or ordinary for now)."""
    triage = Triage(FakeEmbedder(), model_path=path, **kwargs)
    probs = np.zeros(len(INTENTS))
    probs[INTENTS.index(intent)] = p
    probs[INTENTS.index("ordinary" if intent == "now" else "now")] += 1 - p
    triage.model.intent_probabilities = lambda vectors, texts: np.tile(probs, (len(texts), 1))
    return triage


@pytest.mark.parametrize(
    ("categories", "intent", "p", "veto", "emergency", "rule_vetoed", "counted"),
    [
        (["cardiac"], "general", 0.9, 0.6, False, True, []),  # a question about a disease in general
        (["cardiac"], "past", 0.9, 0.6, False, True, []),
        (["cardiac"], "media", 0.9, 0.6, False, True, []),  # a pet, a novel, the news
        (["cardiac"], "now", 0.9, 0.6, True, False, ["cardiac"]),
        (["cardiac"], "ordinary", 0.9, 0.6, True, False, ["cardiac"]),  # a present complaint: not a frame to veto
        (["cardiac"], "general", 0.55, 0.6, True, False, ["cardiac"]),  # not sure enough
        (["cardiac"], "general", 0.9, 1.0, True, False, ["cardiac"]),  # 1: the intent veto off
        (["self_harm"], "figurative", 0.7, 0.6, True, False, ["self_harm"]),  # self-harm needs (1 + 0.6) / 2
        (["self_harm"], "figurative", 0.9, 0.6, False, True, []),  # "被老板骂得想死"
        (["self_harm"], "media", 0.99, 0.6, True, False, ["self_harm"]),  # "for a story" still counts
        (["self_harm"], "prep", 0.99, 0.6, True, False, ["self_harm"]),
        (["cardiac", "self_harm"], "figurative", 0.7, 0.6, True, False, ["self_harm"]),  # only self-harm stands
        # a delayed-danger overdose told calmly ("I won't do it again" reads as denial): no veto removes it
        (["delayed_overdose"], "denial", 0.99, 0.6, True, False, ["delayed_overdose"]),
        (["poisoning", "delayed_overdose"], "denial", 0.99, 0.6, True, False, ["delayed_overdose"]),
        # tri22: a wild mushroom's delayed danger, told once the vomiting settled, stands too
        (["mushroom_poisoning"], "past", 0.99, 0.6, True, False, ["mushroom_poisoning"]),
    ],
)
def test_the_intent_classifier_vetoes_rule_hits_outside_an_emergency_now(
    fake_model_path, categories, intent, p, veto, emergency, rule_vetoed, counted
):
    flags = [RedFlag(c, "words") for c in categories]
    triage = _with_intent(fake_model_path, intent, p, threshold=1.0, rules=lambda text: flags, intent_veto=veto)
    result = triage.assess("胸口疼")
    assert result.rule and result.emergency is emergency and result.rule_vetoed is rule_vetoed
    assert result.rule_counted == counted and result.intent == intent
    assert (result.vetoed_by == "intent") is rule_vetoed
    assert result.department == (EMERGENCY_DEPARTMENT if emergency else result.department)
    assert any(r.startswith("rule vetoed: intent") for r in result.reasons) is rule_vetoed


@pytest.mark.parametrize(
    ("intent", "p", "veto", "emergency"),
    [
        ("figurative", 0.9, 0.6, False),  # "累到吐血", "scared me to death"
        ("denial", 0.9, 0.6, False),
        ("now", 0.9, 0.6, True),
        ("figurative", 0.9, 1.0, True),  # off
    ],
)
def test_the_intent_classifier_vetoes_classifier_hits_too(fake_model_path, intent, p, veto, emergency):
    triage = _with_intent(fake_model_path, intent, p, threshold=0.0, rules=lambda text: [], intent_veto=veto)
    result = triage.assess("胸口疼")
    assert result.classifier and result.classifier_vetoed is (not emergency) and result.emergency is emergency
    assert ("classifier" in result.signals) is emergency
    assert result.to_dict()["signals"]["classifier_vetoed"] is (not emergency)
    assert result.to_dict()["signals"]["intent"] == intent


LONG_BURIED = "孕36周了，胎动还好，这周在准备待产包，想问问一般要带什么。另外从昨晚开始头一直很疼，看东西有点模糊，还有月子里能洗头吗"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("胸口疼，出汗", []),  # short: scored whole only
        (
            "这是一段很长但是没有任何标点符号也没有空格的文字所以只能整句打分不能切成窗口来看看是不是这样的呢真的很长很长很长",
            [],
        ),
        (
            LONG_BURIED,
            [
                "孕36周了，胎动还好，",
                "胎动还好，这周在准备待产包，",
                "这周在准备待产包，想问问一般要带什么。",
                "想问问一般要带什么。另外从昨晚开始头一直很疼，",
                "另外从昨晚开始头一直很疼，看东西有点模糊，",
                "看东西有点模糊，还有月子里能洗头吗",
            ],
        ),
        (
            "my dad is 63 and smokes a lot, he had a checkup last month. this afternoon he coughed up a lot of bright red "
            "blood",
            [
                "my dad is 63 and smokes a lot, he had a checkup last month.",
                "he had a checkup last month. this afternoon he coughed up a lot of bright red blood",
            ],
        ),
        (
            "孩子8个月 今天软趴趴的 叫也不怎么理人 奶也不吃 尿不湿一上午都是干的 想问问是不是要紧 要不要等到明天早上再去医院看看呢",
            [
                "孩子8个月今天软趴趴的",
                "今天软趴趴的叫也不怎么理人",
                "叫也不怎么理人奶也不吃",
                "奶也不吃尿不湿一上午都是干的",
                "尿不湿一上午都是干的想问问是不是要紧",
                "想问问是不是要紧要不要等到明天早上再去医院看看呢",
            ],
        ),
    ],
)
def test_windows_of_a_long_message(text, expected):
    assert windows(text) == expected


def test_windows_are_bounded():
    text = "，".join(f"第{i}句话说点别的事情" for i in range(40))
    assert len(windows(text)) == WINDOW_MAX


@pytest.mark.parametrize(
    ("intent", "p", "window_threshold", "emergency"),
    [
        ("now", 0.9, 0.0, True),  # a window at the window threshold, the message clearly now
        ("now", 0.9, None, False),  # windows off
        ("ordinary", 0.9, 0.0, True),
        ("past", 0.55, 0.0, False),  # the whole message not clearly now (P(not now) 0.55 >= 0.5): windows not scored
        ("now", 0.9, 1.01, False),  # no window at the threshold
    ],
)
def test_a_window_of_a_long_message_can_make_it_an_emergency(fake_model_path, intent, p, window_threshold, emergency):
    triage = _with_intent(
        fake_model_path, intent, p, threshold=1.01, rules=lambda text: [], window_threshold=window_threshold
    )
    triage.model.low_threshold = 1.01  # no second tier: the whole message is not an emergency
    result = triage.assess(LONG_BURIED)
    assert result.emergency is emergency
    assert (result.window_probability is not None) is emergency
    assert (result.department == EMERGENCY_DEPARTMENT) is emergency
    assert (result.to_dict()["signals"]["p_window"] is not None) is emergency
    assert any(r.startswith("classifier on a window") for r in result.reasons) is emergency


@pytest.mark.parametrize(
    ("whole", "floor", "emergency"),
    [
        (0.30, 0.45, False),  # the whole message under the second tier's floor: a window does not count
        (0.50, 0.45, True),
        (0.30, 1.0, True),  # a model without a second tier has no floor: windows as before
    ],
)
def test_a_window_counts_only_when_the_whole_message_reaches_the_floor(fake_model_path, whole, floor, emergency):
    triage = _with_intent(fake_model_path, "now", 0.9, threshold=1.01, rules=lambda text: [], window_threshold=0.99)
    triage.model.low_threshold, triage.model.margin = floor, 9.9  # no second tier decision on the whole message
    triage.model.emergency_probability = lambda vectors, texts: np.array(
        [whole if t == LONG_BURIED else 0.995 for t in texts]
    )
    result = triage.assess(LONG_BURIED)
    assert result.emergency is emergency
    assert (result.window_probability is not None) is emergency


STORY_OF_A_KNOWN_CONDITION = "表哥患癫痫十多年，复发时神志不清，四肢抽搐，口吐白沫，家里人该怎么照顾他"


@pytest.mark.parametrize(
    ("text", "category", "emergency"),
    [
        (STORY_OF_A_KNOWN_CONDITION, "seizure", False),  # an episode of epilepsy told with no word of now
        (STORY_OF_A_KNOWN_CONDITION, "unconscious", False),
        (STORY_OF_A_KNOWN_CONDITION, "cardiac", True),  # not that condition's kind of episode
        ("表哥患癫痫十多年，刚才四肢抽搐，口吐白沫，现在还叫不醒", "seizure", True),  # now
        ("表哥昨天四肢抽搐，口吐白沫，怎么照顾他", "seizure", True),  # no condition the person is said to have
        # a past episode told as a story and seen to, whatever its kind; not with a sign after the diagnosis
        ("我妈前两天突然胸口疼，出了一身冷汗，去医院检查说是心绞痛，平时饮食要注意什么", "cardiac", False),
        ("我爸上周查出冠心病，胸口压着疼，出了一身冷汗", "cardiac", True),
        ("前几天开始胸口疼，出冷汗，喘不上气，怎么办", "cardiac", True),  # no visit after it
        ("我妈前两天胸口疼，去医院检查说是心绞痛，刚才又疼得出冷汗", "cardiac", True),  # now
        # an episode over and minor, an imagined or reported question (fourteenth session); the same kinds, graver
        ("流鼻血了，捏了几分钟就止住了，最近天干", "bleeding", False),
        ("被热油溅到手背，红了一小块，没起泡", "burn", False),
        ("血止住了但人叫不醒", "bleeding", True),  # another sign
        ("手上大面积烫伤，起了好多水泡", "burn", True),
        ("要是半夜孩子突然抽筋，该先做什么", "seizure", False),
        ("如果不去医院会怎样，我爸胸口疼得厉害", "cardiac", True),  # someone told of after the supposition
        ("朋友有癫痫好多年，发作时会摔倒，平时要注意什么", "head_injury", False),  # an epileptic's episode
        # a pet, an exam case, family history, a small extra dose (fifteenth session); never self-harm, and not with a
        # person close, a sign now or a large amount
        ("我家狗刚才从沙发上摔下来，一直在抖，要去宠物医院吗", "head_injury", False),
        ("我家狗咬了孩子一口，孩子一直哭", "bleeding", True),
        ("I've given my cat to my neighbour and written letters to everyone, tonight is the night", "self_harm", True),
        (
            "NCLEX practice question: a client with chest pain radiating to the jaw, what is the priority?",
            "cardiac",
            False,
        ),
        ("my mother had a heart attack at 50, am I at risk?", "cardiac", False),
        ("my mother had a heart attack at 50 and I have crushing chest pain right now, am I at risk?", "cardiac", True),
        ("多喂了孩子1毫升退烧药，现在精神很好", "overdose", False),
        ("孩子多吃了两片降压药，现在一直想睡", "overdose", True),
        ("说是多吃了一片，可药瓶里少了二十多片，人好好的", "overdose", True),
        ("听说最近一氧化碳中毒很多，我们全家现在头疼恶心想吐", "gas_co", True),  # a report, then us now
        ("walking my dog and I suddenly can't see out of my left eye", "vision_loss", True),
        (
            "my dad had a heart attack last year and now he has chest pain again, is it likely another one?",
            "cardiac",
            True,
        ),
    ],
)
def test_an_episode_not_happening_now_discounts_the_classifier_too(fake_model_path, text, category, emergency):
    triage = _with_intent(fake_model_path, "now", 0.9, threshold=0.0, rules=lambda text: [], window_threshold=None)
    triage.model.nearest_category = lambda vectors: [(category, 0.9, "exemplar")] * len(vectors)
    result = triage.assess(text)
    assert result.classifier and result.emergency is emergency and result.classifier_vetoed is (not emergency)
    assert any("no word of now" in r for r in result.reasons) is (not emergency)


@pytest.mark.parametrize(
    ("text", "minor"),
    [
        ("流鼻血了，捏了几分钟就止住了，最近天干", True),
        ("切菜划了个小口子，流了点血，已经止住了", True),
        ("被热油溅到手背，红了一小块，没起泡", True),
        ("孩子吐了一口奶，精神很好", True),  # a small amount, with the person said to be well
        ("nicked my finger shaving, bled a bit and then stopped", True),
        ("孩子吐了一口奶", False),  # a small amount alone
        ("血止住了但人叫不醒", False),  # another sign
        ("大面积烫伤，起了好多水泡", False),
        ("头撞了一下，血止住了，但是一直想睡觉", False),  # a head knock: its passing is not minor
        ("孕8周出血，现在止住了", False),
        ("孩子吃了一口农药，现在好好的", False),  # anything swallowed
        ("孩子吞了一颗纽扣电池，精神很好", False),
        ("孩子喝了一口洗洁精，现在好好的", False),
        ("血止住了没多久又开始流", False),
        ("刚才胸口疼了几秒就停了", False),
        ("奶奶摔了一跤，手上破了流血止住了，但是一直说头晕", False),
        ("hit my head, the bleeding stopped, now very sleepy", False),
        ("nosebleed out of nowhere, pinched it for ten minutes and it stopped", True),  # "it" is the bleeding
        ("he had a fit for two minutes and it stopped, now he won't wake", False),  # "it" is a seizure
    ],
)
def test_an_episode_over_and_minor(text, minor):
    assert over_and_minor(text) is minor


@pytest.mark.parametrize(
    ("text", "imagined"),
    [
        ("要是半夜孩子突然抽筋，该先做什么", True),
        ("如果有人在地铁上晕倒，我能做什么", True),  # the asker asks what to do
        ("新闻说有个孩子吞了纽扣电池，家里怎么防", True),  # a report told by someone
        ("what if someone faints on a plane, can I help", True),
        ("如果现在不去医院会怎样，我爸胸口疼", False),  # a word of now
        ("如果不去医院会怎样，我爸胸口疼得厉害", False),  # someone told of after the supposition
        ("要是明天还这样怎么办，孩子刚才抽搐了", False),
        ("新闻看到一半，我爸倒在地上抽搐", False),  # watching the news is where it happened
        ("新闻说吞电池很危险，我家孩子刚刚吞了一颗", False),
        ("万一是中风怎么办，我妈嘴歪了，说话不清楚", False),
        ("if someone collapses, what do I do? my husband just collapsed", False),
    ],
)
def test_an_imagined_or_reported_question(text, imagined):
    assert imagined_question(text) is imagined


@pytest.mark.parametrize(
    ("frame", "text", "holds"),
    [
        # reassurance told in full (three or more statements) and no danger word left
        (reassured_in_full, "孩子从床上掉下来磕到头，马上就哭了，没有吐，玩得跟平时一样，吃饭正常", True),
        (
            reassured_in_full,
            "he fell off his bike, cried right away, never passed out, acting normally, no vomiting",
            True,
        ),
        (reassured_in_full, "My son bumped his head, didn't pass out, no vomiting, but now he's really drowsy", False),
        (reassured_in_full, "孩子磕到头，没有昏迷，没有吐，但是越来越想睡", False),
        (reassured_in_full, "bumped her head, no vomiting", False),  # one statement is not reassurance in full
        # a bill or cost long after, the person recovered
        (cost_long_after, "去年住院做了阑尾手术，已经康复了，医保报销比例是多少", True),
        (
            cost_long_after,
            "ambulance for chest pain last month, the bill came; now the chest pain is back again",
            False,
        ),
        (cost_long_after, "how much does an ambulance cost? my dad is having chest pain right now", False),
        # a childhood event long past, nothing now
        (long_past, "I swallowed a coin when I was six, could it still be inside me?", True),
        (long_past, "儿子三岁时从楼梯摔下来磕过头，现在上小学了，会不会影响智力", True),
        (long_past, "小时候有癫痫，现在又抽搐了", False),
        (long_past, "三年前吞过一颗纽扣电池，今天孩子又吞了一颗", False),
        # danger signs read about, everything normal
        (
            reading_about_signs,
            "reading about warning signs of stroke, everything is normal with me, how to lower my risk",
            True,
        ),
        (reading_about_signs, "看了很多中风前兆的文章，我爸现在嘴歪了，说话不清", False),
        # tri22: an age in months, an earlier pregnancy; "to stop it happening again" is prevention, not a recurrence
        (long_past, "女儿10个月的时候抽搐过一次，现在三岁了，感冒低烧，怎么预防", True),
        (
            long_past,
            "She had a seizure at 14 months; she's four now with a runny nose. How do we keep it from happening again?",
            True,
        ),
        (
            long_past,
            "I had a bad haemorrhage with my first. Now 20 weeks with my second, all fine, what should I ask?",
            True,
        ),
        (long_past, "上一胎大出血输了血，这次怀孕20周一切正常，要注意什么", True),
        (long_past, "38 weeks pregnant with my first and bleeding heavily, soaking a pad", False),
        (long_past, "孩子10个月的时候抽搐过，今天又抽了", False),
        (family_history, "我妈和我舅都是六十岁左右脑出血走的，我血压偏高，需要吃药吗", True),
        (family_history, "我爸去年心梗走的，我现在胸口疼得厉害，出冷汗", False),
        (imagined_question, "假設我阿媽喺街突然暈低，我應該點做？", True),
        (imagined_question, "萬一BB食咗電池，係咪要即刻去急症室？", True),
        (about_an_animal, "我的狗狗一直抽搐，口吐白沫，要去宠物医院吗", True),
        (about_an_animal, "我隻貓食咗百合，仲嘔咗", True),
        (about_an_animal, "我的狗咬了我儿子，流了好多血", False),
        (
            reassured_in_full,
            "my 6 month old rolled off the sofa, cried straight away, settled within a minute, fed normally, totally herself",
            True,
        ),
        (
            reassured_in_full,
            "baby rolled off the bed, cried straight away, fed normally, but now vomiting and drowsy",
            False,
        ),
        # tri23: a toddler's fever told with every reassuring sign; a report in traditional characters; "which I read
        # is a good sign" is the asker's own event, not a report
        (
            reassured_in_full,
            "my 2 year old has a temp of 38.4, she's running around, eating and drinking fine, totally herself",
            True,
        ),
        (reassured_in_full, "my 2 year old has a temp of 38.4, running around but now drowsy and vomiting", False),
        # tri24: reassurance with "not" and "no headache"; a Cantonese nosebleed stopped, none since — and one that
        # came back
        (reassured_in_full, "bumped my head this morning, no headache now, didnt pass out, not sick", True),
        (reassured_in_full, "bumped my head this morning, didnt pass out, not sick, but now drowsy", False),
        (over_and_minor, "頭先流鼻血，捏住鼻翼十分鐘就停咗，之後冇再流，係咪天氣乾？", True),
        (over_and_minor, "流鼻血捏住十分鐘停咗，過咗一陣又再流，止唔住", False),
        (report_of_others, "新聞話有屋企燒炭取暖一氧化碳中毒，我哋用電暖爐安唔安全？", True),
        (
            report_of_others,
            "he fell off the bed this afternoon. cried at once, which i read is a good sign, but has vomited 3 times",
            False,
        ),
    ],
)
def test_the_frames_for_false_alarm_kinds(frame, text, holds):
    assert frame(text) is holds


@pytest.mark.parametrize(
    ("frame", "text", "holds"),
    [
        # an episode already seen to (a doctor's word, a hospital stay, taken there), whenever it was
        (seen_to, "我舅舅吃饭时突然倒地抽搐，口吐白沫，我们送他去医院，医生说是癫痫，哪家医院治得好", True),
        (seen_to, "室友今天上课时突然晕倒抽搐，后来才知道她有癫痫，发作前会有什么征兆", True),
        (seen_to, "我爸上周突然晕倒，救护车送到医院，检查出是脑梗，出院后要注意什么", True),
        (seen_to, "爷爷肝硬化，目前在医院救治中，能活多久", True),
        # ...not a visit still to come, an open diagnosis, a relative's guess, or anything now after the visit
        (seen_to, "我老公突然抽搐口吐白沫，要不要送医院", False),
        (seen_to, "外甥这几天老是晕倒抽搐，医院说有可能是癫痫", False),
        (seen_to, "今天女儿突然抽搐，亲戚说是癫痫，我们想马上带她去看", False),
        (seen_to, "爸爸突然胸口剧痛，送到医院医生说是心梗，现在还在抢救", False),
        (seen_to, "他有癫痫，医生说要按时吃药，今天抽了五分钟还没停", False),
        # a long-standing condition asked about, nothing now
        (condition_had_and_asked, "我外婆一直有高血压，平时头有点疼，吃什么降压药好", True),
        (condition_had_and_asked, "患糖尿病十多年了，打胰岛素的地方起了硬块怎么办", True),
        (condition_had_and_asked, "我妈有高血压，今天突然说话不清楚，嘴也歪了", False),  # a new sign today
        (condition_had_and_asked, "儿子有一型糖尿病，这两天吐个不停，呼吸很深很快", False),  # these days
        (condition_had_and_asked, "有癫痫好几年了，这次抽了十多分钟还没醒", False),  # an episode going on
        (condition_had_and_asked, "胃溃疡多年，今日午后突发上腹剧痛", False),
        # an everyday stomach complaint and nothing graver
        (everyday_stomach, "这几天胃胀，老打嗝，没什么胃口，吃什么药好", True),
        (everyday_stomach, "饭后肚子咕噜咕噜响，放屁多，怎么调理", True),
        (everyday_stomach, "胃胀打嗝，今天开始肚子剧痛，直不起腰", False),
        (everyday_stomach, "胃胀恶心，出冷汗，胸口闷", False),  # a heart told as a stomach
        (everyday_stomach, "朋友喝醉了睡着，喉咙里咕噜咕噜响，叫他不应", False),  # an airway, not a belly
        (everyday_stomach, "胃胀不消化，拉的大便是黑色的", False),
        # a reading asked about, no crisis value, no sign now
        (reading_asked, "今天帮阿姨量了血压，高压150低压95，算高血压吗", True),
        (reading_asked, "体检空腹血糖7.2，是糖尿病吗", True),
        (reading_asked, "我爸血压200/120，头痛得厉害，正常吗", False),  # a crisis value
        (reading_asked, "血糖2.8，手抖出冷汗，正常吗", False),
        (reading_asked, "血压160/100，突然说话不清楚，嘴歪了，是高血压吗", False),  # a stroke's signs now
        # a pressure pair typed run together is read as the pair
        (reading_asked, "高压150，低压95，15095算高血压吗", True),
        (reading_asked, "血压230130正常吗", False),  # 230/130: a crisis value
        # 现在 before an age or a lasting state is who the person is, not when (the condition frame then holds)
        (condition_had_and_asked, "我表姐半年前得的癫痫病，一直在吃药，她现在还很年轻，哪家医院治得好", True),
        (condition_had_and_asked, "我妹妹有癫痫，她现在17岁，能不能正常上学", True),
        (condition_had_and_asked, "我妹妹有癫痫，现在抽个不停", False),  # 现在 before a sign is now
        # a seizure or a faint days ago, back to normal, asked about afterwards
        (seizure_over_days_ago, "前两天儿子吃饭时突然口吐白沫，过了一会儿就醒了，之后一切正常，要查什么", True),
        (seizure_over_days_ago, "上周在商场看到一个人倒地抽搐，后来他又像正常人一样走了，这是什么病", True),
        (seizure_over_days_ago, "前几天老公连续两次晕倒，醒了以后正常，要紧吗", False),  # repeated
        (seizure_over_days_ago, "前天孩子摔了一跤磕到头，晕倒了一下，醒了就好了", False),  # a head knock
        (seizure_over_days_ago, "前几天他晕倒过一次，醒了之后好了，今天又开始抽搐", False),  # now after it
        (seizure_over_days_ago, "前几天爸爸突然晕倒，到现在还迷迷糊糊的", False),  # no recovery told
        # how to tell two conditions apart, nothing now
        (tell_apart_asked, "孩子睡觉时总突然抖一下，怎么区分是惊跳还是癫痫", True),
        (tell_apart_asked, "如何鉴别晕厥和癫痫发作", True),
        (tell_apart_asked, "孩子刚才突然抽搐，怎么区分是高热惊厥还是癫痫", False),  # a time of now
        (tell_apart_asked, "他抽了十分钟还没停，怎么分辨是癫痫还是中毒", False),  # an episode going on
    ],
)
def test_the_frames_for_false_banner_kinds_on_real_questions(frame, text, holds):
    assert frame(text) is holds


@pytest.mark.parametrize(
    ("text", "category", "flagged"),
    [
        # the same words, past and seen to or present: the rules and the classifier frame agree
        ("我伯伯吃饭时突然抽搐，送他去医院，医生说他患癫痫病，吃什么药好", "seizure", False),
        ("我伯伯现在突然抽搐，口吐白沫，已经五分钟了还不停", "seizure", True),
        ("我儿子有癫痫，今天第一次大发作，抽搐了五分钟还不停", "seizure", True),
        ("我有糖尿病多年，今天突然胸口剧痛，出冷汗", "cardiac", True),
        ("前几天在公交上看到一个男的倒地抽搐口吐白沫，两分钟后又像正常人一样站起来了", "seizure", False),
        ("前几天爸爸晕倒过，醒了以后好了，今天又突然抽搐，叫不醒", "seizure", True),
    ],
)
def test_a_seen_to_episode_clears_and_a_present_one_stays(text, category, flagged):
    assert bool(red_flags(text)) is flagged
    assert episode_not_now(text, category) is not flagged


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        # a sign feared, an episode's frequency or a sign's consequences asked about; against one that is there
        ("我爸有心脏病，特别怕他一个人在家的时候突然晕倒", False),
        ("我担心他已经晕倒了，打电话一直没人接", True),
        ("我怕他是中风了，嘴歪了说话不清楚", True),
        ("癫痫发作次数多怎么办", False),
        ("我儿子又癫痫发作了，这次抽了十分钟", True),
        ("我妈有高血压，晕倒会有什么后果", False),
        ("我妈有高血压，刚才晕倒了，会有什么后果", True),
        # 有时候 / 偶尔 are "sometimes": a sign that comes and goes, unless this time is now
        ("我有高血压，有时候感觉喘不过气来，吃什么药好", False),
        ("有时候会喘不过气，刚才又喘不上气，嘴唇发紫", True),
        # today's episode seen to by a doctor, the question's own episode asked about
        ("今天上班时突然手脚一阵阵抽动，医生说是癫痫，癫痫发作怎么办", False),
        ("今天上班时突然手脚一阵阵抽动，癫痫发作怎么办", True),  # not seen to
        # an episode as the object of what is asked ("影响…发作"), a check already done
        ("已经检查过了，是癫痫，吃海鲜会影响癫痫发作吗", False),
        ("吃了海鲜以后，他又开始癫痫发作了，已经抽了五分钟", True),
    ],
)
def test_a_sign_feared_or_asked_about_is_no_red_flag(text, flagged):
    assert bool(red_flags(text)) is flagged


def test_the_frames_on_classifier_hits_are_part_of_the_engines_identity(fake_model_path):
    off = Triage(FakeEmbedder(), model_path=fake_model_path, episode_frame=None, window_floor=False)
    assert off.identity() != Triage(FakeEmbedder(), model_path=fake_model_path).identity()  # the answer cache's key


def test_a_format_1_model_without_an_intent_classifier_still_loads_with_the_veto_off(fake_triage, tmp_path):
    import joblib

    data = {k: v for k, v in fake_triage.model.__dict__.items() if not k.startswith("intent")}
    joblib.dump({"format": 1, **data}, tmp_path / "old.joblib")
    old = Triage(
        FakeEmbedder(), model_path=tmp_path / "old.joblib", threshold=1.0, rules=lambda text: [RedFlag("cardiac", "w")]
    )
    result = old.assess("胸口疼")
    assert old.model.intent_clf is None and result.intent is None and result.emergency and not result.rule_vetoed


@pytest.mark.parametrize(
    ("text", "cue", "present"),
    [
        ("医生诊断为癫痫，现在按时吃药，能不能开车", "seen", True),
        ("I was diagnosed with asthma years ago", "seen", True),
        ("胸口压着疼，出冷汗", "seen", False),
        ("孩子二十分钟前吞了个东西", "recent", True),
        ("started an hour ago and is getting worse", "recent", True),
        ("最近几年偶尔头痛", "recent", False),
        ("他说没事，不让我们打电话", "downplay", True),
        ("she seems fine, can we just wait till morning", "downplay", True),
        ("嘴歪了，说话不清楚", "downplay", False),
        ("十分钟后又好一点了，应该是太累了吧", "downplay", True),
        ("跑完八百米半天才缓过来", "downplay", False),
        ("it's wearing off now, she wants a lie down", "downplay", True),
        ("宝宝六周，体温38.1，吃奶还行", "infant_fever", True),
        ("two month old baby with a fever", "infant_fever", True),
        ("newborn, 38.2 under the arm", "infant_fever", True),
        ("12个月的宝宝发烧38.5", "infant_fever", False),  # a year old: an ordinary fever
        ("三岁孩子发烧三天了", "infant_fever", False),  # 三天 is how long, not how old
        ("两个月的宝宝吐奶", "infant_fever", False),  # no fever
        ("量血压只有85/50", "vitals", True),
        ("高压180，头有点晕", "vitals", True),
        ("心率一百三，浑身发抖", "vitals", True),
        ("T 40.1℃，P 126次/分", "vitals", True),
        ("sats 89% on the finger monitor", "vitals", True),
        ("老人血压平时130/80", "vitals", False),  # in range
        ("孩子发烧39度", "vitals", False),  # under 39.5
        ("他40岁，吃1/2片", "vitals", False),  # an age and a half tablet, not a vital sign
        ("人有点糊涂，叫也不怎么理人", "altered", True),
        ("my 9 month old is listless and floppy", "altered", True),
        ("一站起来眼前一黑", "altered", True),
        ("头有点晕，说话清楚", "altered", False),
    ],
)
def test_intent_cues_of_the_emergency_classifier(text, cue, present):
    row = intent_features([text])[0]
    assert row.shape == (len(INTENT_NAMES),) and bool(row[INTENT_NAMES.index(cue)]) is present


def test_a_model_saved_before_the_last_cues_reads_the_first_four(fake_triage, tmp_path):
    import joblib

    data = {k: v for k, v in fake_triage.model.__dict__.items() if k != "cues"}
    joblib.dump({"format": 2, **data}, tmp_path / "fifth.joblib")
    assert TriageModel.load(tmp_path / "fifth.joblib").cues == LEGACY_CUES == 4
    assert intent_features(["胸口疼"], LEGACY_CUES).shape == (1, 4)
    assert fake_triage.model.cues == len(INTENT_NAMES)  # a model trained now reads them all


def test_a_model_saved_before_the_second_tier_loads_with_it_off(fake_triage, tmp_path):
    import joblib

    data = {k: v for k, v in fake_triage.model.__dict__.items() if k not in ("others", "low_threshold")}
    joblib.dump({"format": 2, **data}, tmp_path / "eighth.joblib")
    old = TriageModel.load(tmp_path / "eighth.joblib")
    assert old.others is None and old.low_threshold == 1.0
    assert old.agreement(np.zeros((1, FakeEmbedder().dim), dtype=np.float32)) is None
    assert Triage(FakeEmbedder(), model_path=tmp_path / "eighth.joblib").assess("胸口疼").margin is None
    assert fake_triage.model.others is not None and fake_triage.assess("胸口疼").margin is not None
    assert INTENT_NAMES.index("vitals") == 8  # an eighth-session model reads the first eight cues


@pytest.mark.parametrize(
    ("p", "margin", "flag"),
    [
        (0.90, -0.5, True),  # over the threshold: the neighbours do not matter
        (0.60, 0.02, True),  # under it, over the floor, and the neighbours are emergencies
        (0.60, 0.005, False),  # the neighbours barely nearer: under the margin
        (0.30, 0.05, False),  # under the floor
    ],
)
def test_the_second_tier_needs_the_floor_and_the_neighbours(p, margin, flag):
    from qa.triage.model import flagged

    assert bool(flagged(np.array([p]), np.array([margin]), 0.8, 0.45)[0]) is flag
    assert bool(flagged(np.array([p]), None, 0.8, 0.45)[0]) is (p >= 0.8)  # an older model: the threshold alone
    assert bool(flagged(np.array([p]), np.array([margin]), 0.8, 0.45, 1.0)[0]) is (p >= 0.8)  # a margin never met


def test_the_second_tier_neighbour_margin():
    from qa.triage.model import neighbour_margin

    emergencies = np.eye(4, dtype=np.float32)[:2]
    others = np.eye(4, dtype=np.float32)[2:]
    near = neighbour_margin(np.eye(4, dtype=np.float32), emergencies, others)
    assert near[0] > 0 and near[1] > 0 and near[2] < 0 and near[3] < 0


def test_a_model_saved_in_the_sixth_session_reads_seven_cues(fake_triage, tmp_path):
    import joblib

    data = {k: v for k, v in fake_triage.model.__dict__.items() if k != "cues"}
    joblib.dump({"format": 2, **data, "cues": 7}, tmp_path / "sixth.joblib")
    assert TriageModel.load(tmp_path / "sixth.joblib").cues == 7 == INTENT_NAMES.index("infant_fever")
    assert intent_features(["宝宝六周，体温38.1"], 7).shape == (1, 7)


def test_the_packaged_model_was_built_from_the_packaged_training_files():
    """model.joblib must be rebuilt when a training CSV changes (./start.sh triage train
    qa/triage/departments_train.csv --out qa/triage/model.joblib); the engine retrains at load when it was not."""
    import joblib

    data = joblib.load(REPO / "qa" / "triage" / "model.joblib")
    sets = [packaged_text(name) for name in (EMERGENCY_BANK, DEPARTMENT_SET, INTENT_SET)]
    assert data["format"] == 2 and data["digest"] == training_digest(*sets) and data["cues"] == len(INTENT_NAMES)
    assert data["intent_clf"] is not None and 0.3 <= data["intent_threshold"] < 1.0


def test_a_packaged_model_that_does_not_match_its_training_files_is_retrained(caplog, monkeypatch):
    import qa.triage.model as triage_model

    monkeypatch.setattr(triage_model, "CV_REPEATS", 1)  # what is tested is the retraining, not its threshold

    class NamedLikeThePackagedOne(FakeEmbedder):
        name = "multilingual-e5-small"  # the packaged model loads; its digest is then compared

    edited = {INTENT_SET: packaged_text(INTENT_SET) + "头痛吃什么药,ordinary\n"}
    triage = Triage(NamedLikeThePackagedOne(), packaged=lambda name: edited.get(name) or packaged_text(name))
    with caplog.at_level("WARNING"):
        model = triage.model
    assert "does not match" in caplog.text
    assert model.digest == training_digest(*(edited.get(n) or packaged_text(n)
                                             for n in (EMERGENCY_BANK, DEPARTMENT_SET, INTENT_SET)))  # fmt: skip
    assert model.exemplars.shape[1] == FakeEmbedder().dim  # retrained on this embedder


def test_no_intent_training_row_is_close_to_an_evaluation_item():
    """The intent rows were written for this file; rows that came out close to an item of an evaluation set (e5
    cosine >= 0.96 or text ratio >= 65 when the file was built) were dropped. This keeps it so."""
    import csv
    import io

    from rapidfuzz import fuzz, process

    rows = [r["text"] for r in csv.DictReader(io.StringIO(packaged_text(INTENT_SET)))]
    # v9 is not in this list: it was written after every training row, by a writer who saw none of them, and two
    # intent rows (and 20 emergency-bank rows) fall within ratio 65 of its items by the coincidence of common
    # phrasings ("心梗有什么前兆"); BENCHMARKS.md lists them. Dropping them means rebuilding and re-scoring the model
    names = (HELDOUT_EMERGENCY, HELDOUT_EMERGENCY_V2, HELDOUT_EMERGENCY_V3, HELDOUT_EMERGENCY_V4,
             HELDOUT_EMERGENCY_V5, HELDOUT_EMERGENCY_V6, HELDOUT_EMERGENCY_V7, HELDOUT_EMERGENCY_V8,
             RULES_TUNING)  # fmt: skip
    items = [r["text"] for name in names for r in heldout_emergency(name)] + [r["text"] for r in redteam_emergency()]
    assert len(rows) >= 400
    close = [(t, m, s) for t in rows for m, s, _ in [process.extractOne(t, items, scorer=fuzz.ratio)] if s >= 65]
    assert close == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("text,intent\n头痛,nowish\n", "intent must be one of"),
        ("text,label\n头痛,now\n", "needs columns text, intent"),
        ("text,intent\n", "no rows"),
    ],
)
def test_train_refuses_a_bad_intent_csv_with_exit_2(tmp_path, content, message):
    csv = tmp_path / "bad.csv"
    csv.write_text(content, encoding="utf-8")
    depts = REPO / "qa" / "triage" / "departments_train.csv"
    done = qa_cli("triage", "train", str(depts), "--intent-bank", str(csv), "--out", str(tmp_path / "m.joblib"),
                  env={"QA_TRIAGE_EMBEDDER": "fake"})  # fmt: skip
    assert done.returncode == 2 and message in done.stderr


def test_eval_prints_recall_and_false_positives_for_a_labelled_file(tmp_path, fake_model_path):
    path = tmp_path / "mine.jsonl"
    rows = [{"id": "a", "text": "我想自杀", "emergency": True}, {"id": "b", "text": "脸上长痘", "emergency": False}]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    env = {"QA_TRIAGE_EMBEDDER": "fake", "QA_TRIAGE_MODEL": str(fake_model_path)}
    done = qa_cli("triage", "eval", str(path), env=env)
    assert done.returncode == 0, done.stderr
    for name in ("rules (raw)", "classifier (raw)", "rules after vetoes", "classifier after intent veto", "combined"):
        assert f"| {name} | " in done.stdout
    assert "| rules (raw) | 1/1 = 1.000 | 0/1 = 0.000 |" in done.stdout  # the self-harm rule fires on "a" alone
    path.write_text('{"id": "a", "text": "头痛"}\n', encoding="utf-8")
    done = qa_cli("triage", "eval", str(path), env=env)
    assert done.returncode == 2 and "line 1" in done.stderr


def test_a_question_is_embedded_once_for_the_page_and_the_pipeline(fake_model_path):
    embedder = FakeEmbedder()
    triage = Triage(embedder, model_path=fake_model_path)
    triage.load()
    before = embedder.calls
    triage.assess("头痛两天了")
    triage.assess("头痛两天了")
    assert embedder.calls == before + 1


# ---- the red-flag rules' frames, on items of the set written to tune them (qa/data/triage_rules_tuning.jsonl) ----


@pytest.fixture(scope="module")
def tuning_rows():
    return {r["id"]: r for r in heldout_emergency(RULES_TUNING)}


@pytest.mark.parametrize(
    ("row_id", "frame"),
    [
        ("tu-ne-004", "a general question in the clause"),  # 过敏性休克一般多长时间内发作？
        ("tu-ne-029", "imagined"),  # 如果遇到有人触电，第一步应该干什么
        ("tu-ne-030", "learning first aid"),  # 想提前了解溺水急救方法
        ("tu-ne-046", "the past"),  # 大学时有过一次晕倒
        ("tu-ne-088", "a figure of speech"),  # 被领导气得吐血
        ("tu-ne-094", "a figure of speech"),  # I nearly had a heart attack when I saw the price
        ("tu-ne-103", "a story"),  # 电视剧里主角心脏骤停被电击救回来
        ("tu-ne-110", "a documentary"),  # Saw a documentary about carbon monoxide poisoning
        ("tu-ne-113", "writing an article"),  # 我正在写一篇关于心肌梗死的科普文章…胸痛放射到左臂的说法
    ],
)
def test_rules_do_not_fire_on_signs_that_are_not_happening_now(tuning_rows, row_id, frame):
    row = tuning_rows[row_id]
    assert row["emergency"] is False
    assert red_flags(row["text"]) == [], frame


@pytest.mark.parametrize(
    ("row_id", "category"),
    [
        ("tu-em-001", "chest_pain"),
        ("tu-em-005", "cardiac_arrest"),  # "she's not breathing"
        ("tu-em-021", "self_harm"),
        ("tu-em-039", "chest_pain"),  # 心脏病都要犯了似的 (a figure) + chest pain into the left arm (not one)
        ("tu-em-040", "poisoning"),  # 累死了 (a figure) + swallowed a handful of pills
    ],
)
def test_rules_still_fire_on_emergencies_in_the_same_words(tuning_rows, row_id, category):
    row = tuning_rows[row_id]
    assert row["emergency"] is True
    assert category in {f.category for f in red_flags(row["text"])}


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("考试没考好，不想活了", "self_harm"),  # thoughts of self-harm count whatever the frame
        ("培训的时候同事晕倒了，叫不醒", "unconscious"),  # a training session, but it happened
        ("我在学心肺复苏，我爸晕倒了叫不醒", "unconscious"),
        ("主要是胸口压着疼，出冷汗", "chest_pain"),  # 主要是 is not 要是 ("if")
        ("新闻看到一半，我爸突然倒地抽搐", "seizure"),  # watching the news is where it happened, not what
        # tri22: kinds v19 missed, written from knowledge (none copied from an evaluation item)
        ("我爸咳血，一口一口的，已经有大半碗了", "haemoptysis"),  # massive haemoptysis told as an amount
        ("coughed up about half a cup of bright red blood just now, I had TB years ago", "haemoptysis"),
        ("阿爸咳咗好多血出嚟，成口都係血", "haemoptysis"),
        ("怀孕38周，今天一整天都没感觉到宝宝在动", "obstetric"),  # reduced fetal movements late on
        ("34 weeks pregnant and I haven't felt the baby move since yesterday evening", "obstetric"),
        ("懷孕35週，今日成日都冇覺得BB郁過", "obstetric"),
        ("昨天吃了自己采的野生菌，今天上吐下泻", "mushroom_poisoning"),  # a wild mushroom, then the gut
        (
            "we ate wild mushrooms we picked two days ago, the vomiting stopped but now my eyes look yellow",
            "mushroom_poisoning",
        ),
        ("安眠药攒够了，吃多少片才不会醒", "self_harm"),  # means gathered, a painless amount asked
        ("I've been stockpiling my sleeping pills, how many would it take to not wake up", "self_harm"),
        ("儲咗好多粒瞓覺藥，今晚就了結", "self_harm"),
        ("药都准备好了，我打算今晚就结束", "self_harm"),  # a plan
        ("新生儿发烧38.2度", "infant_fever"),  # a newborn by the word
        ("my 5 week old feels hot, temp 38.1", "infant_fever"),  # a reading without a unit
        ("BB得六個禮拜，探熱38.5", "infant_fever"),
        ("奶奶在地里晒了一上午，回来说胡话，不认人", "heat_stroke"),
        ("grandpa was working in the heat all day, now confused and not sweating", "heat_stroke"),
        ("今日成三十五度，阿爺行完山返嚟認唔到人", "heat_stroke"),
        ("我爸洗肾的，这周没去透析，今天腿没力，心慌", "hyperkalaemia"),
        ("missed dialysis twice this week and now my legs are weak and my heart feels irregular", "hyperkalaemia"),
        ("血钾7.1，手脚发麻，心慌", "hyperkalaemia"),
        ("宝宝才两个月，发烧38度", "infant_fever"),
        # tri23: kinds v20 missed, written from knowledge (none copied from an evaluation item): an asthma attack the
        # reliever does not relieve, too breathless to speak, late reduced movements told with 胎动 or a failed kick
        # count, a farewell told as rehoming a pet, a fall with repeated vomiting, a scald over a large area, a
        # swollen face after a new drug with speech or the head affected (Cantonese and English)
        ("she has asthma, used her ventolin 8 times in the past hour and she is still wheezing", "asthma_attack"),
        ("孩子哮喘，一个小时喷了六七次万托林，还是喘得厉害", "asthma_attack"),
        ("個仔哮喘，半個鐘噴咗五次氣霧劑都冇用，仲係喘", "asthma_attack"),
        ("my husband is so breathless he can only say a few words at a time, wheezing badly", "breathing"),
        ("宝宝咳嗽喘，肋骨下面一吸气就凹进去", "breathing"),
        ("妈妈喘得厉害，一句话都说不完", "breathing"),
        ("怀孕36周，今天几乎感觉不到胎动", "obstetric"),
        ("懷孕33週，今日胎動少咗好多，食完嘢都冇乜郁", "obstetric"),
        ("38 weeks, did a kick count after dinner and only got 3 kicks in two hours", "obstetric"),
        ("孕32周，晚上数胎动，两个小时不到5次", "obstetric"),
        ("I need someone to take my dog. after tonight I won't be around anymore", "self_harm"),
        ("想帮我的猫找个好人家，我走了以后就没人照顾它了", "self_harm"),
        ("my 4 year old fell down the stairs an hour ago and has been sick three times", "head_injury"),
        ("孩子从上铺摔下来，吐了三次，一直想睡", "head_injury"),
        ("grandma fell off a chair, now there's clear fluid coming from her ear", "head_injury"),
        ("开水从胸口淋到肚子，起了好多水泡，孩子两岁", "burn_or_shock"),
        ("my toddler pulled a kettle over, scald across her whole back and it's blistering", "burn_or_shock"),
        ("油锅着火，手臂烫伤的地方发白，摸着不觉得痛", "burn_or_shock"),
        ("吃了新开的抗生素，脸肿起来了，说话困难", "anaphylaxis"),
        ("老豆食咗阿莫西林之後，嘴唇腫晒，透唔到氣", "anaphylaxis"),
        ("took a new antibiotic an hour ago and now her face is swollen and she can barely talk", "anaphylaxis"),
        ("個女由碌架床跌落嚟，嘔咗三次，成日想瞓", "head_injury"),  # Cantonese: 由 (from), 嘔咗 (vomited)
        ("BB由心口到個肚都俾滾水淥親，起晒水泡", "burn_or_shock"),  # 淥親 (scalded)
        ("想幫我隻貓搵個新主人，我走咗之後就冇人理佢", "self_harm"),
        ("Ventolin isn't touching it, she's had 10 puffs in 30 minutes and can't finish a sentence", "asthma_attack"),
        ("I'm 37 weeks and baby has been really quiet today, much less movement than normal", "obstetric"),
        ("I'm making arrangements for my dogs. I won't be here much longer and I've made my peace", "self_harm"),
        ("老是说胸口疼，刚才疼得出冷汗，左肩膀也疼", "chest_pain"),  # the usual complaint, but this time is now
        ("我有哮喘，平时喷药就好，这次喷了三次还是喘不上气", "breathing"),
        ("我爸糖尿病多年今天叫不醒", "unconscious"),  # how long a disease has lasted is not a recurring sign
        ("被蜜蜂蛰了，脸肿了", "anaphylaxis"),  # a swollen face after a trigger
        ("中风康复期间又出现嘴歪，说话不清", "stroke"),  # a new onset during rehabilitation
        ("培训的时候同事突然晕倒", "unconscious"),
        ("术后第二天喘不上气，嘴唇发紫", "breathing"),  # a complication after an operation is not its aftermath
        ("患者发热伴剧烈头痛半日，颈部僵硬不能前屈", "meningitis_signs"),  # 患者 in a case note is someone now
        ("如果你再不回来，我就去跳楼", "self_harm"),  # the asker's own thoughts, in an imagined frame
        ("如果同学都笑话我，我就不想活了", "self_harm"),  # someone else in the frame, the asker in the same clause
        ("从梯子上摔下来磕到头，当时昏过去几秒，这会儿吐了两回", "head_injury"),  # 当时 with no past time named
        # a past time and a later diagnosis, but the sign is happening today: the story frame does not apply
        ("女儿去年查出癫痫，今天上课时突然倒地抽搐，送医院的路上还没醒", "seizure"),
        ("我爸上周查出冠心病，胸口压着疼，出了一身冷汗", "chest_pain"),  # the diagnosis comes before the sign
        ("前几天开始胸口疼，出冷汗，喘不上气，怎么办", "breathing"),  # no visit after it: it may be going on
        # a chronic condition the person has, but this episode is now, lasting or graver than usual (thirteenth session)
        ("孩子有癫痫，抽搐了二十分钟还在抽，叫不醒", "seizure"),
        ("我老公有癫痫，刚才抽完一直叫不醒", "unconscious"),
        ("爷爷平时有慢阻肺，但是从来没这么严重过，喘不上气", "breathing"),
        ("妈妈有哮喘，喘得话都说不出来了", "breathing"),
        ("我儿子有癫痫，今天又抽搐了，口吐白沫", "seizure"),
        ("医生说有可能是羊癫疯，这几天连着晕倒了好几次", "unconscious"),  # a condition suspected, not held
        ("我有哮喘，吃了花生后过敏，嗓子发紧", "anaphylaxis"),  # anaphylaxis is not an episode of asthma
        ("我老公癫痫发作了，怎么办", "seizure"),  # the episode told as happening, not asked about
        # 不过 in 喘不过气 / 透不过气 / 呼吸不过来 is a verb's complement, not "but": the clause is not cut there
        ("孩子有哮喘，喷了两次药还是喘不过气", "breathing"),
        ("我妈突然透不过气，嘴唇发紫", "breathing"),
        ("老人躺着呼吸不过来", "breathing"),
        # a story with an onset or a sign after the visit, or a hurry with no visit told: now (fourteenth session)
        ("我婆婆前年冬天突然半边身子动不了，送医院住了一个月，现在又说话不清楚了", "stroke"),
        ("姐姐生孩子的时候大出血，后来抢救过来了，今天又出血很多", "bleeding"),
        ("我爸突然晕倒了，叫不醒，要不要赶紧送医院", "unconscious"),
        ("前几天开始胸口疼，出冷汗，要不要赶紧送医院", "chest_pain"),
        # the kinds fresh sets kept missing (fifteenth session): the cord, a baby that stopped moving, a count of pills
        # told calmly, pinpoint pupils, a child dried out
        ("羊水破了，感觉下面有东西掉出来，摸着像是脐带", "obstetric"),
        ("怀孕38周，从早上到现在宝宝一整天都没动，拍肚子也不动", "obstetric"),
        ("34 weeks pregnant and the baby hasn't moved since last night", "obstetric"),
        ("我老婆吃了二十多片安眠药，说现在没感觉", "poisoning"),
        ("she swallowed about 40 tablets an hour ago but says she feels fine", "poisoning"),
        ("我弟瞳孔缩得很小，呼吸很慢，叫不醒", "poisoning"),
        ("宝宝一岁，吐了一天，尿不湿一直是干的，人蔫蔫的", "dehydration"),
        ("my 10 month old has had no wet nappies since this morning and is really floppy", "dehydration"),
        ("孩子拉肚子一天了，尿不湿一上午都是干的，人特别没精神", "dehydration"),  # 特别 is not 别 ("don't")
        # a relative's past, a report, a pet, an exam named beside a sign now: the frames do not hold
        ("我妈去年心梗走了，我现在胸口压着疼，出冷汗，左胳膊也麻", "chest_pain"),
        ("看了新闻说有人一氧化碳中毒，我们家好几个人头晕，孩子叫不醒", "unconscious"),
        ("我家狗把孩子咬了，血流不止", "bleeding"),
        ("在备考USMLE，刚才我爸突然胸口疼得厉害，出冷汗", "chest_pain"),
        ("带我家狗散步的时候我突然胸口剧痛，左臂发麻", "chest_pain"),  # the asker's own sign beside a pet
        ("my dad had a heart attack last year and now he has crushing chest pain again", "chest_pain"),
        # kinds told without the usual word (fifteenth session, tri20): blood from the stomach as coffee grounds, an ectopic
        # pregnancy, cauda equina, a blocked bowel, an electric shock, a snakebite, necrotising infection, hives with
        # the throat after a sting, a toddler in a grandparent's pills, a farewell, a fever on chemotherapy, a
        # Cantonese chest, acute urinary retention
        ("我爸有肝病，今天早上吐了一大碗咖啡渣样的东西，头晕", "gi_bleeding"),
        ("he's been vomiting what looks like coffee grounds since this morning", "gi_bleeding"),
        ("例假推迟十天了，验孕两条杠，刚才左下腹突然剧痛，眼前发黑", "obstetric"),
        ("my period is late and I have pain on the left side, now my shoulder tip hurts", "obstetric"),
        ("腰疼好多年，今天会阴部发麻没感觉，小便也解不出来", "cauda_equina"),
        ("back pain for a week, now numbness between my legs and I can't control my bladder", "cauda_equina"),
        ("爷爷两天没大便也不放屁了，肚子胀得硬硬的，一直吐", "bowel_obstruction"),
        ("he's vomiting and it smells like poo, his belly is massive", "bowel_obstruction"),
        ("修插座被电到了，现在心跳好快，手指发麻", "burn_or_shock"),
        ("got an electric shock from a frayed cable, my heart keeps skipping", "burn_or_shock"),
        ("我爸在田里被蛇咬了，小腿肿得很快，牙龈出血", "snake_bite"),
        ("my son was bitten by a snake in the garden twenty minutes ago, his leg is swelling", "snake_bite"),
        (
            "a scratch on his leg yesterday, now the pain is out of proportion and the skin is dusky, fever",
            "necrotising_infection",
        ),
        ("伤口周围按下去有捻发感，皮肤发紫，发高烧", "necrotising_infection"),
        ("被马蜂叮了，浑身起风团，嗓子发紧", "anaphylaxis"),
        ("孩子三岁，偷吃了爷爷的降糖药，大概五六片", "poisoning"),
        ("our toddler got into grandma's pills this afternoon", "poisoning"),
        ("I've given away my dog and my books, I won't be around after this weekend", "self_harm"),
        ("存款都转给我妈了，遗书也写好了，今晚就走", "self_harm"),
        ("我爸在化疗，今天发烧38.6度，寒战", "neutropenic_fever"),
        ("my wife is on chemo, her temperature is 38.3 tonight", "neutropenic_fever"),
        ("老豆心口好翳，出晒冷汗", "chest_pain"),
        ("老人前列腺增生，从昨晚到现在一滴尿都尿不出来，小肚子胀得鼓鼓的", "urinary_retention"),
        ("my dad hasn't been able to pee for 12 hours and his bladder feels swollen", "urinary_retention"),
        # kinds fresh sets keep missing (sixteenth session, tri21; written from knowledge, none copied from a set):
        # epiglottitis, hives with the voice or the blood pressure after a sting, Cantonese haematemesis, a calm
        # paracetamol overdose, DKA by a meter's HI or ketones, a full-thickness or a large burn, sepsis from spreading
        # redness, spurting bleeding (and an input-method slip for 止不住), acute limb ischaemia, intussusception
        ("女儿5岁，高烧，口水一直往外流，咽不下去，坐着身子往前倾，不肯躺", "airway"),
        ("my 3 year old is drooling, can't swallow, and has a muffled voice", "airway"),
        ("bb流晒口水，吞唔落嘢，坐住向前傾，唔肯瞓低", "airway"),
        ("my meter just says HI and my ketones are large, vomiting", "dka"),
        ("stung by a bee ten minutes ago, hives spreading everywhere and I feel faint", "anaphylaxis"),
        ("吃了花生之后全身起疹子，声音变得沙哑", "anaphylaxis"),
        ("阿爺啱啱嘔咗好多鮮紅色嘅血", "gi_bleeding"),
        ("老公今朝吐咗血，而家好暈", "gi_bleeding"),
        ("took 24 paracetamol yesterday evening, I feel fine and I won't do it again", "delayed_overdose"),
        ("我儿子昨晚吃了一整盒扑热息痛，现在说没事", "delayed_overdose"),
        ("1型糖尿病，血糖仪测不出来，一直吐，呼吸很深", "dka"),
        ("type 1 diabetic, ketones are dark purple on the strip and I keep throwing up", "dka"),
        ("孩子被开水烫到，有一块皮肤发白，摸着不怎么疼", "burn_or_shock"),
        ("hot oil burn on his back bigger than my hand, blistering", "burn_or_shock"),
        ("脚上伤口周围红的范围越来越大，往上蔓延，发烧39度，打冷颤", "sepsis"),
        ("cut on his arm, now red streaks going up, fever and shaking chills", "sepsis"),
        ("割到大腿，血一股一股往外冒，按不住", "bleeding"),
        ("手指切到了，血流个不停，止不主", "bleeding"),
        ("blood is spurting from the cut on his wrist", "bleeding"),
        ("我妈左腿突然冰凉，发紫，麻木，走不了路", "limb_ischaemia"),
        ("grandad's arm suddenly went cold and pale an hour ago and he can't feel his fingers", "limb_ischaemia"),
        ("宝宝8个月，大便像果酱一样，还吐", "acute_abdomen"),
        ("my 9 month old cries in bouts, pulls his legs up and has been vomiting", "acute_abdomen"),
        # tri24: kinds v21 missed, written from knowledge (none copied from an evaluation item): heavy bleeding told by
        # pads soaked per hour, for hours or with faintness; a small child who swallowed a drug one pill of which can
        # kill (no sign yet); a seizure told by its length or as still going, in any words for the fit
        ("月经第二天，每个小时都要换一片卫生巾，已经三个小时了，站起来头晕", "bleeding"),
        ("呢幾日M到好多，一個鐘就濕晒一塊夜用衛生巾，成個下晝都係咁，頭暈", "bleeding"),
        ("I've been soaking through a pad every hour since lunch and I feel faint", "bleeding"),
        ("going through a super tampon and a pad every hour for 3 hours now, passing big clots", "bleeding"),
        ("三岁的孩子把奶奶的降压药吃了两片，现在好好的", "child_ingestion"),
        ("我2岁的女儿偷吃了外公的格列齐特一粒，现在还在玩", "child_ingestion"),
        (
            "My 2 year old got into grandad's amlodipine, I think he swallowed 2, he's running around fine",
            "child_ingestion",
        ),
        ("toddler (18 months) chewed one of my oxycodone tablets, seems fine", "child_ingestion"),
        ("個仔兩歲，食咗阿嫲啲血壓藥，好似冇事", "child_ingestion"),
        ("我老公抽了五分钟还没停，口吐白沫", "status_epilepticus"),
        ("阿爸抽咗成十分鐘，翻晒白眼，叫佢都冇反應", "status_epilepticus"),
        ("She's been fitting for 7 minutes now, arms and legs jerking, not responding", "status_epilepticus"),
        (
            "my daughter is having a fit, it began 8 minutes ago and she is still jerking, lips going blue",
            "status_epilepticus",
        ),
        ("唔知點解佢突然暈低咗，叫唔醒", "unconscious"),  # Cantonese: 唔知 (don't know) denies nothing
        ("he passed out and isnt waking up", "unconscious"),
        ("阿嫲瞓咗喺梳化，点叫都唔醒", "unconscious"),  # however he is called he does not wake
        ("我爷爷躺在床上，怎么叫也不应", "unconscious"),
        ("soaked through 4 pads in 2 hours and I feel lightheaded", "bleeding"),  # a count of pads in two hours
        ("两个小时湿透了四片卫生巾，头晕", "bleeding"),
        ("阿爺抽咗七八分鐘，手腳硬晒，翻白眼", "status_epilepticus"),  # a range of minutes, as long as its first
    ],
)
def test_rules_fire_through_frame_words(text, category):
    assert category in {f.category for f in red_flags(text)}


@pytest.mark.parametrize(
    "text",
    [
        "吃了芒果嘴唇有点痒，喉咙不紧，要吃药吗",  # the negation sits inside the sign's words
        # tri22's look-alikes: a safe dose, an older baby's low fever, mushrooms without a sign, a dialysis diet, a hot
        # day's headache, a TB patient's dry cough, an early pregnancy, drugs kept at home, a break-up, a course of K
        "医生开的安眠药一次吃几片是安全的？按处方一天一片",
        "how many sleeping pills are safe to take at the prescribed dose?",
        "宝宝5个月，体温37.8，玩得很好",
        "my 5 month old has a temp of 37.8 but is playing happily",
        "昨天吃了蘑菇，今天没什么不舒服",
        "we had a mushroom risotto yesterday, no symptoms at all, just curious",
        "透析病人饮食要注意什么？能吃香蕉吗",
        "I'm on dialysis, what foods are high in potassium?",
        "天气很热，喝了水以后还是头痛",
        "hot day, got a headache, drank water and feel better",
        "肺结核病人，干咳，需要注意什么",
        "TB patient here, I have a dry cough, is that normal?",
        "怀孕10周还没有感觉到胎动正常吗",
        "家里存了很多药，过期了怎么处理",
        "I'm going to end things with my boyfriend tonight, how do I tell him",
        "补钾7天后还是没力气",
        "夏天在外面晒了一天，晚上睡不好",
        "新生儿细菌性肺炎，之前发烧，带到医院检查，大夫说是肺炎，出院后怎么护理",  # a fever a doctor has seen
        "My throat is not tight at all, just itchy",
        "孩子发烧两天了，38.5度，精神还行",  # "两天" is how long the fever lasted, not the child's age
        "想死你了，什么时候回来",  # missing someone
        "经常胸闷气短，爬楼梯就喘，好几年了",  # a sign that comes and goes
        "I get short of breath when I run, is that normal?",
        "孩子有热性惊厥史，这次发烧38度要提前吃药吗",  # a history of (…史)
        "爸爸脑梗后半边身体没力气，现在在康复医院，怎么护理",  # after a stroke: its sequelae
        "Is it safe to take aspirin every day to prevent a heart attack?",
        "眼皮肿了，早上起来更明显",  # a swollen eyelid alone
        "扁桃体发炎，嗓子肿了，吞东西疼",  # a sore throat is not anaphylaxis
        "割伤手指，流了好多血，按压后止住了，要缝针吗",  # the bleeding is over
        "我爸去年中风，现在说话还有点不清楚，能做什么康复训练",  # living with a past stroke
        "自杀的人事先会有什么征兆，我想多关心一下身边的人",  # a general question about self-harm
        "心梗病人出院后饮食要注意什么",
        "假如哪天同事跟我说他想自杀，我该怎么接话",  # someone else's thoughts, imagined (tenth session)
        "what should I say if a friend tells me they want to end their life",
        "婆婆三年前中风过，当时半边身子没力气，现在能自己买菜了",  # 当时 points back to a past time
        "煤气中毒为啥会头晕想睡",  # a colloquial "why": a general question
        "刷视频笑到喘不上气，肚子疼",  # a figure of speech with 到
        "I almost pass out from boredom in these meetings every week",  # "almost pass out", "every week"
        "热搜上说有小孩误吞磁力珠，家里的玩具怎么检查",  # hearsay from social media
        # a past episode told as a story, seen to afterwards, nothing said of now (twelfth session)
        "表哥有一次打牌时突然倒地抽搐，口吐白沫，后来送医院查出是癫痫，这个病要吃多久的药",
        "我妈前两天突然胸口疼，出了一身冷汗，去医院检查说是心绞痛，平时饮食要注意什么",
        "老公前段时间喝多了吐血，住院治好了，以后还能喝酒吗",
        # an episode of a chronic condition the person has, told with no word of now, or named as the question's
        # topic; a condition's name is not a sign (thirteenth session)
        "我是癫痫病人，这个病已经有七年了，一直吃药，癫痫发作怎么治疗才能除根",
        "表哥患癫痫十多年，复发时神志不清，四肢抽搐，口吐白沫，家里人该怎么照顾他",
        "癫痫发作会出很多汗吗",
        "外婆有哮喘好多年，天一冷就喘不上气，平时怎么调理",
        "我得过敏性哮喘好几年了，想问怎么治疗",
        # a story seen to, with a word of now after the visit: the question's own time (fourteenth session)
        "我婆婆前年冬天半夜起床，突然半边身子动不了，送医院住了一个月，现在走路还有点拖，怎么锻炼",
        "姐姐生孩子的时候大出血，后来抢救过来了，现在孩子两岁了，再怀孕要注意什么",
        "我爸前几天突然晕倒，赶紧送去医院，检查说是低血糖，平时饮食要注意什么",  # the hurry was the visit
        # the sign belongs to no one here now (fifteenth session): family history, a report of others, a pet, an
        # exam case; and half a year ago is a time that points back
        "我爸五十岁的时候心梗去世了，我是不是也要早点做检查",
        "my dad had a heart attack at 55, should I get screened?",
        "昨晚看了新闻，一家人煤气中毒了，燃气热水器要怎么装才安全",
        "我家猫从柜子上摔下来撞到头，吐了一次，要带去宠物医院吗",
        # tri23's look-alikes: asthma relieved by two puffs, movements early in a pregnancy, a pet rehomed for a move or
        # an allergy, one vomit after a bump and now playing, a small splash burn, a mild rash on a new antibiotic,
        # 气到吐血 in Mandarin and Cantonese, money lost 吐血, a news report of a poisoning, a rash and a hot forehead
        "my son has asthma, had two puffs of his inhaler and he's fine now, breathing normally",
        "哮喘发作喷了两下就好了，要不要去复查",
        "I use my inhaler 4 times a week, is my asthma controlled?",
        "怀孕20周，我睡觉的时候宝宝好像动得少，正常吗",
        "20 weeks and I only feel a few kicks at night, is that normal?",
        "我们要搬家去国外，没法带狗，怎么给它找个好人家",
        "we're moving overseas next month and won't be around to look after our cat, how do we rehome her",
        "my allergic new baby means we need to rehome our cat, tips?",
        "孩子碰到头起了个包，一个小时前吐了一次，现在在玩",
        "bumped his head on the table, threw up once an hour ago, now playing and eating",
        "手指被热油溅到一个小点，有点红",
        "a small splash burn on my finger from the kettle, what should I put on it",
        "吃了新的抗生素，手臂起了一点红疹，不痒",
        "mild rash on my arms since starting a new antibiotic, no swelling",
        "今日俾老细气到吐血，点减压",
        "被老板气得吐血，周末去哪放松",
        "股票亏到吐血，怎么调整心态",
        "news report about a family poisoned by carbon monoxide from a charcoal grill, are electric grills safe",
        "報導話有人食咗毒蘑菇中毒，點分辨",
        "孩子背上一大片红疹，额头很烫，是不是上火",
        "眼睛肿了，吃了消炎药，有点头晕",
        "孩子从自行车上摔下来，鼻子流血了",  # a nosebleed after a fall is not fluid from the skull
        "I'm giving my daughter away at her wedding, how do I say goodbye in my speech",
        "I have terminal cancer, who will take care of my dog when I'm gone",  # a will for a pet, for a reason of life
        "吃了药，下面肿了，尿尿很辛苦",  # 下面 is not 面 (the face)
        "搬屋冇得養，想幫我隻貓搵個新主人",  # a move
        "we're making arrangements for our dogs while we're moving house and won't be around for a week",
        "she's had 2 puffs of her inhaler and is breathing easily now",
        "16 weeks pregnant, less movement than I expected, is that normal?",
        "执业医师考试：患者突然胸痛，大汗，向左肩放射，首选检查是什么",
        "半年前宫外孕破裂大出血做了手术，现在想备孕",
        # look-alikes of tri20's kinds: a general question, a past bite, plain constipation, a chemo
        # patient with no fever, pain early in a pregnancy with nothing graver, wind after an operation, a gift
        "宫外孕有哪些症状，怎么和正常怀孕区分",
        "What are the signs of an ectopic pregnancy?",
        "怀孕六周，右下腹偶尔隐隐作痛，正常吗",
        "去年被蛇咬过，伤口早好了，现在还会有后遗症吗",
        "I was bitten by a snake as a kid, can I still be allergic to antivenom?",
        "三天没大便了，肚子有点胀，吃什么通便",
        "constipated for three days, no other symptoms, which laxative is gentle?",
        "我爸在化疗，最近没胃口，吃什么好",
        "I'm on chemo and my hair is falling out, will it grow back?",
        "化疗期间发烧怎么办，需要注意什么",
        "术后第二天还没排气，肚子胀，正常吗",
        "我把旧衣服都送人了，想换一批新的",
        "孩子吃了医生开的退烧药，还是38度",
        "咖啡喝多了胃不舒服，吐了一点",
        "坐久了屁股发麻，腰也疼",
        "前列腺增生，晚上尿频，尿不太干净",
        # look-alikes of tri21's kinds: a cold's sore throat, teething drool, a small sunburn blister, a local sting, a
        # normal paracetamol dose, a meter reading a number, a cold foot in winter that warms up, an old coin story,
        # a red mosquito bite, a bleed that stopped, reading about danger signs with everything normal
        "孩子感冒嗓子疼，没有流口水，能吃能喝",
        "宝宝长牙一直流口水，正常吗",
        "宝宝长牙流口水，呼吸有点响，鼻塞",  # a stuffy nose's noisy breathing is not stridor
        "sore throat with a cold, no drooling, eating fine",
        "晒伤了一小块，起了个小水泡",
        "small sunburn blister on my shoulder, what cream?",
        "被蜜蜂蛰了手背，就那一块肿了，别的都好",
        "bee sting on my arm, just local swelling, no hives",
        "发烧吃了两片对乙酰氨基酚，可以喝咖啡吗",
        "I took 2 paracetamol 500mg for a headache, can I have a beer?",
        "一盒对乙酰氨基酚有20片，一天最多吃几片？",
        "血糖仪显示8.5，空腹算高吗",
        "冬天脚冰凉，泡泡脚就暖和了",
        "my feet get cold in winter but warm up once I'm inside",
        "小时候吞过一枚硬币，后来拉出来了，现在还会有影响吗",
        "蚊子咬的包红了一圈，有点痒",
        "got a nosebleed, pinched my nose for 10 minutes and it stopped",
        "网上看了很多孕期危险信号的文章，什么胎动减少、见红，目前产检一切正常，平时要注意什么",
        # look-alikes of tri24's kinds: a heavy first day with a pad every few hours and no dizziness, one vitamin
        # gummy, a fit that stopped after a minute with the child alert, a calf cramp, a snake seen with no bite, a
        # nosebleed that stopped, a negation typed without its apostrophe or in Cantonese, a drama's faint
        "月经第一天量很多，两三个小时换一次卫生巾，不头晕，正常吗",
        "heavy period day one, changing my pad every 3 hours, no dizziness, is this normal",
        "used 2 pads in 8 hours, a bit heavier than usual",
        "my 3 year old swallowed one vitamin gummy, is that ok",
        "孩子发烧抽了一分钟就停了，现在醒了会哭会闹",
        "his whole body jerked for about a minute then stopped, now he's alert and chatting",
        "昨晚小腿抽筋抽了五分钟，扳了一会儿脚趾就好了",
        "snake in the garden, didnt bite anyone, how to get rid of it",
        "院子里看到一条蛇，没被咬，怎么赶走",
        "流鼻血，坐直捏住鼻翼十分鐘就停咗，之後冇再流",
        "didnt faint, just dizzy for a second",
        "I wasnt unconscious, just felt woozy",
        "hit my head on a cupboard door, little bump, no headache, didnt pass out, not sick",
        "佢冇暈低，只係有啲頭暈",
        "睇TVB劇成日見人暈低，啲人就掐人中，有冇用？",
        "I take amlodipine for my blood pressure, can my 3 year old have paracetamol?",  # the child took nothing
    ],
)
def test_rules_do_not_fire_on_denied_recurring_or_past_signs_durations_or_idioms(text):
    assert red_flags(text) == []


def test_rules_on_the_whole_tuning_set():
    rows = heldout_emergency(RULES_TUNING)
    found = rates(rows, [bool(red_flags(r["text"])) for r in rows])
    assert (found.emergencies, found.ordinary) == (40, 125)
    assert found.false_alarms <= 2  # measured 2/125 (main's rules before this change: 20/125)
    # measured 15/40, as before the change (the classifier catches the rest but two); 16 since tri20
    # (vomit of dark red blood and clots); 17 since tri21 (a whole bottle of paracetamol told as "she feels fine")
    assert found.caught >= 17


# ---- held-out figures through the CLI (real embedder) ----------------------------------------------------------


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory):
    """Held-out sets through `python -m qa triage --jsonl FILE`: name -> (rows, {id: output line}).

    Every set of HELDOUT_BOUNDS goes through ONE command on first use (ids prefixed by the set's name, split after):
    each command pays the embedder's and the model's start-up (about 6 s), so one per set cost over a minute of CI."""
    runs: dict[str, tuple[list[dict], dict[str, dict]]] = {}

    def run(name):
        if not runs:
            names = list(HELDOUT_BOUNDS)
            assert name in names, name
            sets = {n: heldout_emergency(n) for n in names}
            path = tmp_path_factory.mktemp("triage") / "heldout.jsonl"
            lines = [json.dumps({"id": f"{n}/{r['id']}", "text": r["text"]}) for n, rows in sets.items() for r in rows]
            path.write_text("".join(line + "\n" for line in lines), "utf-8")
            # every held-out set in one command: about 4.5 min on a quiet avx512_bf16 CPU, over 10 on a loaded one;
            # the limit is a hang guard, not a speed test (speed is in the benchmarks)
            done = qa_cli("triage", "--jsonl", str(path), "--log-level", "WARNING", timeout=1800)
            assert done.returncode == 0, done.stderr
            outs = [json.loads(line) for line in done.stdout.splitlines()]
            assert len(outs) == len(lines)
            for n, rows in sets.items():
                prefix = f"{n}/"
                out = {o["id"][len(prefix) :]: o for o in outs if o["id"].startswith(prefix)}
                assert len(out) == len(rows), n
                runs[n] = rows, out
        return runs[name]

    return run


# per set: combined recall, combined false-positive rate, classifier false-positive rate (raw: before the intent
# veto), measured with the intent veto (fourth session; see BENCHMARKS.md). All five sets are seen: the intent veto's
# rows were written after their false alarms were read, so these bounds guard against regressions, not for new text
HELDOUT_BOUNDS = {
    # measured 82/84, 1/50, 1/50 (seen); fifth change: 83/84, 2/50, 2/50; tri20 (a blocked bowel by rule): 84/84, 1/50
    HELDOUT_EMERGENCY: (0.98, 2 / 50, 2 / 50),
    HELDOUT_EMERGENCY_V2: (0.97, 0.0, 0.0),  # measured 68/70, 0/130, 0/130 (seen: tuned against, not held out)
    # v3 (seen): recall 59/70 = 0.843, false positives 4/130 combined (8/130 before the intent veto), 8/130 classifier
    # fifth change: 66/70 = 0.943, 3/130 combined, classifier raw 9/130 (3/130 after the intent veto); 4/130 combined
    # after three training rows close to v8 items were dropped and the model rebuilt (intent threshold 0.55 → 0.575)
    # fourteenth session (the frame for an episode over and minor, on classifier hits): 3/130 combined
    HELDOUT_EMERGENCY_V3: (0.94, 3 / 130, 9 / 130),
    # v4 (seen): recall 54/60 = 0.900 (55/60 before the intent veto), false positives 2/140 combined (12/140 before;
    # 1/140 until three intent rows close to v6 items were dropped and the model rebuilt)
    # fifth change: 57/60 = 0.950, 0/140 combined, classifier raw 3/140 (0/140 after the intent veto)
    # sixth change (AMD EPYC; the fifth-session model read 4/140 raw here too): 58/60, 1/140 combined, 4/140 raw
    # eighth change (rows for the kinds v9 missed, an infant-fever cue; threshold 0.775 -> 0.80 by the CV rule):
    # 59/60, 2/140 combined, 5/140 raw — one more false alarm ("头痛两天了，不发烧，脖子不硬…" at p 0.91)
    # ninth change (a second tier: the classifier from a CV-chosen floor of 0.45 when its three nearest training rows are
    # emergencies; vitals and altered cues; rows for the kinds v10 missed): 60/60, 3/140 combined, 5/140 raw — one more
    # false alarm (a plantar-fasciitis "pure agony" at p 0.48, by the second tier)
    # tenth change (the rule veto by CV, 0.075; red-flag frames for the kinds that tripped the rules): 60/60, 2/140
    HELDOUT_EMERGENCY_V4: (0.95, 2 / 140, 5 / 140),
    # v5 (seen, the last clean set before this work): recall 59/60 = 0.983, false positives 3/140 combined (13/140
    # before the intent veto), 4/140 classifier raw (2/140 after the veto)
    # sixth change: 60/60, 6/140 combined, 9/140 raw — a regression: figures of speech about exertion ("legs not my
    # own after a half marathon") now sit just over the 0.775 threshold; bounded where measured, not tuned away
    # tenth change: 60/60, 4/140 combined, 6/140 raw
    # fourteenth session (the minor frame: "…才缓过来，现在啥事没有"): 2/140 combined
    HELDOUT_EMERGENCY_V5: (0.98, 2 / 140, 9 / 140),
    # v6 (independent writer; clean until the fifth change, whose training rows were written for the kinds it
    # missed): 54/60 = 0.900 and 0/140 before it, 58/60 = 0.967 and 1/140 combined (classifier raw 2/140) after
    # eighth change: 60/60, 2/140 combined, 4/140 raw (a figure of speech about anger and the chest at p 0.80)
    # ninth change: 60/60, 3/140 combined, 6/140 raw (the second tier adds false alarms at p 0.5-0.6)
    HELDOUT_EMERGENCY_V6: (0.96, 3 / 140, 6 / 140),
    # v7 (written before the fifth change by the engineer who made it; scored on main and once after it): 67/71 and
    # 3/130 before, 69/71 = 0.972 and 2/130 combined (classifier raw 2/130) after
    # eighth change: 70/71, 2/130 combined, 3/130 raw
    # ninth change: 71/71, 4/130 combined, 6/130 raw
    # fourteenth session (the minor frame): 3/130 combined
    # fifteenth session (the pet frame: a hamster breathing fast): 2/130 combined
    HELDOUT_EMERGENCY_V7: (0.97, 2 / 130, 6 / 130),
    # v8 (independent writer, clean until scored): 52/70 = 0.743 and 1/130 on the fourth-session model, 58/70 = 0.829
    # and 2/130 combined (classifier raw 5/130) after the fifth change; a bound against regressions, not the goal.
    # Seen since the sixth change (its misses were read for the kinds the bank lacked): 61/70, 1/130, raw 1/130
    # eighth change: 65/70 = 0.929, 4/130 combined (a low-sugar faint managed since, a dizzy mother with every stroke
    # sign denied, a sow off her food at p 0.81-0.94; a counted rule hit), raw 5/130: recall bound up, false positives
    # ninth change: 67/70 = 0.957, 5/130 combined, 5/130 raw: recall bound up, false positives 4 -> 5/130
    # tenth change: 67/70, 3/130 combined (two counted rule hits fewer), 5/130 raw
    # tenth session, second change (long messages by windows): 68/70 = 0.971, 3/130, raw 5/130: recall bound up
    # fourteenth session (the story frame's question-time now): 2/130 combined
    HELDOUT_EMERGENCY_V8: (0.97, 2 / 130, 5 / 130),
    # v9 (independent writer; its author never read the sixth change, whose author never read v9): 61/70 = 0.871 and
    # 0/130 on the fifth-session model, 62/70 = 0.886 and 0/130 (classifier raw 0/130) after the sixth change
    # seen since the eighth change (its misses were read for the kinds the bank lacked): 62/70, 1/130 (a rule hit), raw 0
    # ninth change: 68/70 = 0.971, 2/130 combined, raw 0: recall bound up, false positives 1 -> 2/130
    # tenth change: 68/70, 1/130 combined (the rule veto 0.05 -> 0.075 by CV discounts a COPD question at p 0.06)
    HELDOUT_EMERGENCY_V9: (0.99, 1 / 130, 1 / 130),  # tri22: 70/70 (a 7-week-old's "temp of 38.3" by rule)
    # v10 (independent writer; the eighth change's author never read it): 59/70 = 0.843 and 0/130 (classifier raw
    # 0/130) on main before the change, 60/70 = 0.857 and 0/130 after; a bound against regressions, not the goal
    # seen since the ninth change (its misses were read for the kinds the bank lacked): 65/70 = 0.929, 0/130, raw 0
    # tenth session, second change (long messages by windows): 66/70 = 0.943, 0/130, raw 0: recall bound up
    # fifteenth session (the dehydration rule: "尿不湿一上午都是干的"): 67/70 = 0.957: recall bound up
    HELDOUT_EMERGENCY_V10: (0.95, 1 / 130, 1 / 130),
    # v11 (independent writer; the ninth change's author never read it): 65/70 = 0.929 and 4/130 (classifier raw
    # 4/130) on main before the change, 68/70 = 0.971 and 4/130 (raw 4/130) after; a bound against regressions
    # seen since the tenth change (its false alarms were read for their kinds): 68/70, 3/130 (the self-harm rule on a
    # question about someone else's thoughts, imagined, no longer fires), raw 4/130
    # fourteenth session (the minor frame): 1/130 combined
    # fifteenth session (the report frame: "朋友圈都在转…的新闻，多大的孩子容易乱吞东西"): 0/130 combined
    HELDOUT_EMERGENCY_V11: (0.97, 0.0, 4 / 130),
    # v12 (independent writer; the tenth change's author never read it): 66/70 = 0.943 and 2/130 (classifier raw
    # 3/130) on main before the change and the same after it; after the second triage change (windows of long messages,
    # whose author never read it either) 67/70 = 0.957, 2/130, raw 3/130; a bound against regressions, not the goal
    # fourteenth session (the minor frame: "one loose stool, otherwise fine"): 1/130 combined
    # fifteenth session (the dehydration rule: "快12个小时没尿尿了，人特别没精神"): 68/70 = 0.971: recall bound up
    HELDOUT_EMERGENCY_V12: (0.97, 1 / 130, 3 / 130),
    # v13 (independent writer; the eleventh change's author never read it): 69/70 = 0.986 and 5/130 (classifier raw
    # 5/130) on main before the change (83e3527, the model v12 was scored on); a bound against regressions, not the goal
    # fourteenth session (the story, minor and imagined/reported frames; v13 was read for its kinds): 1/130 combined
    HELDOUT_EMERGENCY_V13: (0.98, 1 / 130, 5 / 130),
    # v14 (independent writer; the twelfth change's author never read it): 67/70 = 0.957 and 5/130 (classifier raw
    # 7/130, 4/130 after the intent veto) on main before the change (e2f21a2) and after it (the rules' story frame,
    # d7bc917); a bound against regressions, not the goal
    # fourteenth session (the minor frame): 3/130 combined
    HELDOUT_EMERGENCY_V14: (0.95, 3 / 130, 7 / 130),
    # v15 (independent writer; the thirteenth change's author never read it): 68/70 = 0.971 and 8/130 (classifier raw
    # 7/130) on main before the change (b16b309) and after it (the window floor and the chronic-condition frame,
    # 24f283e); a bound against regressions, not the goal
    # fourteenth session (the story, minor and imagined frames; v15 was read for its kinds): 2/130 combined, raw 6/130
    # (a window's hit discounted by a frame)
    # fifteenth session (the exam and the extra-dose frames; v15 read for its kinds): 0/130 combined
    # tri20 (an ectopic: a positive test, pain low on one side, faint): 69/70 = 0.986
    HELDOUT_EMERGENCY_V15: (0.98, 0.0, 6 / 130),
    # v16 (independent writer; the fourteenth change's author never read it): 65/70 = 0.929 and 7/130 (classifier raw
    # 7/130) on main before the change (86db72e) and the same after it (the story, minor and imagined frames); a bound
    # against regressions, not the goal
    # fifteenth session (v16 read for its kinds, seen now: rules for the cord, a baby not moving, a count of pills,
    # pinpoint pupils, a child dried out; the pet, exam, report, family-history and extra-dose frames, 半年前):
    # 70/70, 0/130 combined, classifier raw 6/130 (one raw hit was a window's, now a rule's catch)
    HELDOUT_EMERGENCY_V16: (0.98, 0.0, 6 / 130),
    # v17 (independent writer; the fifteenth changes' authors never read it; hard on purpose: side questions, denial,
    # Cantonese, 13 texts typed in pinyin): 52/70 = 0.743 and 4/130 (classifier raw 4/130) on main before the changes
    # (2e9186a); 58/70 = 0.829, 3/130, raw 3/130 after them (pinyin read back +4, tri19's rules +2); a bound against
    # regressions, far from the goal
    # tri20 (v17 read for its kinds, seen now: red flags for coffee-ground vomit, an ectopic, a blocked bowel, an
    # electric shock, a snakebite, necrotising infection, hives after a sting, a toddler in a grandparent's pills, a
    # farewell, a fever on chemotherapy, a Cantonese chest): 69/70 = 0.986, 3/130 (cauda equina's rule hit is vetoed
    # by the classifier at p 0.005)
    HELDOUT_EMERGENCY_V17: (0.98, 3 / 130, 3 / 130),
    # v18 (independent writer; tri20's author never read it, nor the pinyin reader's or tri19's): 54/70 = 0.771 and
    # 5/130 (classifier raw 5/130) at the session's start (1cc10c9); 57/70 after the pinyin reader and tri19; 59/70 =
    # 0.843, 5/130, raw 5/130 after tri20; a bound against regressions, far from the goal
    # tri21 (v18 read for its kinds, seen now: red flags for epiglottitis, hives with a hoarse voice after a sting,
    # Cantonese haematemesis, a calm paracetamol overdose no veto removes, DKA by HI, a full-thickness burn, sepsis
    # from spreading redness, spurting bleeding, limb ischaemia, intussusception; frames for reassurance told in full,
    # a bill long after, danger signs read about, a childhood event long past, a nosebleed that stopped): 70/70,
    # 0/130, raw 4/130 (a window's hit on the bill is now framed)
    HELDOUT_EMERGENCY_V18: (0.98, 0.0, 4 / 130),
    # v19 (independent writer; scored on main after tri21: 63/70 = 0.900, 6/130; then read by tri22 for its kinds,
    # seen now): tri22's red flags (massive haemoptysis as an amount, late reduced fetal movements, wild-mushroom
    # poisoning, a suicide plan with means gathered or a painless dose asked, infant fever as a reading, heat stroke,
    # missed dialysis) and frames (an age in months or an earlier pregnancy long past, family history "died of",
    # Cantonese hypotheticals, a pet named as mine, a fall reassured in full): 70/70, 0/130, raw 5/130
    HELDOUT_EMERGENCY_V19: (0.98, 0.0, 5 / 130),
    # v20 (independent writer; scored on main after tri22: 64/70 = 0.914, 3/130; then read by tri23 for its kinds,
    # seen now): tri23's red flags (an asthma attack the reliever does not relieve, too breathless to speak, late
    # reduced movements told with 胎动 or a failed kick count, a farewell told as rehoming a pet, a fall with repeated
    # vomiting, a scald over a large area, a swollen face after a new drug in Cantonese) and frames (a Cantonese 激到
    # as a figure of speech, a report in traditional characters, "which I read is a good sign" not a report, "this
    # afternoon" as now, a toddler's fever reassured in full): 70/70, 0/130, raw 5/130
    HELDOUT_EMERGENCY_V20: (0.98, 0.0, 5 / 130),
    # v21 (independent writer; scored on main after tri23 and ban17: 66/70 = 0.943, 2/130; then read by tri24 for its
    # kinds, seen now): tri24's red flags (heavy bleeding told by pads soaked per hour, a toddler's delayed-danger
    # ingestion never vetoed, a seizure by its length in any words), no classifier veto of a rule on a pinyin reading,
    # negation without an apostrophe, a Cantonese nosebleed stopped and none since: 70/70, 0/130, raw 3/130
    HELDOUT_EMERGENCY_V21: (0.98, 0.0, 3 / 130),
    # v22 (independent writer; fresh for every change of the seventeenth session, scored only at its end): 63/70 =
    # 0.900, 3/130 at the start; 64/70 = 0.914, 3/130 (classifier as measured 4/130) at the end
    HELDOUT_EMERGENCY_V22: (0.91, 3 / 130, 4 / 130),
}
# the red-flag rules' own false positives (before their frames: v1 0/50, v2 5/130, v3 9/130, v4 22/140)
RULES_FP_BOUNDS = {
    HELDOUT_EMERGENCY: 0.0,
    HELDOUT_EMERGENCY_V2: 0.0,
    HELDOUT_EMERGENCY_V3: 4 / 130,
    HELDOUT_EMERGENCY_V4: 12
    / 140,  # tenth: 18 -> 17; fourteenth (前天 as a story's time): 16; fifteenth: 13; tri22: 12
    HELDOUT_EMERGENCY_V5: 10 / 140,  # 12 -> 11 (当时 after "last month"); fifteenth session (a pet): 10
    HELDOUT_EMERGENCY_V6: 13 / 140,  # fifteenth session (a novel): 14; tri22 (long past, "as a kid"): 13
    HELDOUT_EMERGENCY_V7: 13 / 130,  # fifteenth session (a novel): 13
    HELDOUT_EMERGENCY_V8: 5 / 130,  # 8 -> 5 (为啥, 笑到, 当时 after 前年)
    HELDOUT_EMERGENCY_V9: 9 / 130,  # fifteenth session (a pet): 9
    HELDOUT_EMERGENCY_V10: 5 / 130,  # fifteenth session (two dramas, a cousin's haemorrhage as family history): 5
    HELDOUT_EMERGENCY_V11: 2 / 130,  # 6 -> 4 (someone else imagined, 当时 after 前年); fifteenth (an exam): 3; tri22: 2
    HELDOUT_EMERGENCY_V12: 8 / 130,  # 11/130 before and after the tenth change; 10 after the fourteenth; 8 fifteenth
    HELDOUT_EMERGENCY_V13: 5 / 130,  # 9/130 before the eleventh change; 8 fourteenth (a story); 6 fifteenth; 5 ban17
    HELDOUT_EMERGENCY_V14: 4 / 130,  # 5/130 before and after the twelfth change; 4 after the fifteenth (a drama)
    HELDOUT_EMERGENCY_V15: 6 / 130,  # 11/130 before the thirteenth change, 10 after it, 7 after the fourteenth, 6 ban17
    HELDOUT_EMERGENCY_V16: 9 / 130,  # 15/130 before and after the fourteenth change; 10 after the fifteenth; tri22: 9
    HELDOUT_EMERGENCY_V17: 6 / 130,  # 7/130 before the fifteenth changes, 6 after them
    HELDOUT_EMERGENCY_V18: 9 / 130,  # 10/130 after the fifteenth changes; 9 after tri21 (danger signs read about)
    HELDOUT_EMERGENCY_V19: 5 / 130,  # 8/130 on main after tri21; 5 after tri22 (long past, a pet, family history)
    HELDOUT_EMERGENCY_V20: 9 / 130,  # 11/130 on main after tri22; 9 after tri23 (a Cantonese figure, a news report)
    HELDOUT_EMERGENCY_V21: 5 / 130,  # 6/130 on main after tri23; 5 after tri24 ("didnt pass out")
    HELDOUT_EMERGENCY_V22: 4 / 130,  # 5/130 at the seventeenth session's start, 4 at its end (fresh)
}
# rule hits that still count after both vetoes (measured: v3 0/130, v4 1/140, v5 1/140; v1, v2 0)
COUNTED_RULES_FP_BOUNDS = {
    HELDOUT_EMERGENCY: 0.0,
    HELDOUT_EMERGENCY_V2: 0.0,
    HELDOUT_EMERGENCY_V3: 0.0,
    HELDOUT_EMERGENCY_V4: 0.0,  # tenth change (frames, rule veto 0.075 by CV): 0/140
    HELDOUT_EMERGENCY_V5: 0.0,  # tenth change: 0/140
    # v6 1/140 since the sixth change: its intent threshold (0.575 -> 0.625, by the CV rule) puts the self-harm veto at
    # 0.8125, and "I could literally kill myself for forgetting…" (figurative) now counts; combined v6 stays 1/140
    HELDOUT_EMERGENCY_V6: 1 / 140,
    # ninth change: the new bank rows are "now" rows of the intent classifier too, and P(not now) of a few ordinary
    # questions fell just under the 0.65 veto (why CO makes one drowsy 0.63, laughing till breathless 0.64); a COPD
    # question's P(emergency) rose over the rule veto's 0.05 (0.06): v7 1 -> 2, v8 1 -> 3, v9 1 -> 2 counted rule hits
    # (each inside the combined false positives above)
    HELDOUT_EMERGENCY_V7: 2 / 130,
    # tenth change (frames, rule veto 0.075 by CV): v8 3 -> 1, v9 2 -> 1, v11 1 -> 0 (v10 measured 0)
    HELDOUT_EMERGENCY_V8: 1 / 130,
    HELDOUT_EMERGENCY_V9: 1 / 130,
    HELDOUT_EMERGENCY_V10: 0.0,
    HELDOUT_EMERGENCY_V11: 0.0,
    HELDOUT_EMERGENCY_V12: 1 / 130,  # measured 1/130 before and after the tenth change
    HELDOUT_EMERGENCY_V13: 0.0,  # measured 1/130 before the eleventh change; 0 after the fourteenth (a story)
    HELDOUT_EMERGENCY_V14: 1 / 130,  # measured 1/130 before and after the twelfth change
    HELDOUT_EMERGENCY_V15: 0.0,  # measured 2/130 before and after the thirteenth change; 0 after the fourteenth (stories)
    HELDOUT_EMERGENCY_V16: 0.0,  # 3/130 before and after the fourteenth change; 0 after the fifteenth
    HELDOUT_EMERGENCY_V17: 2 / 130,  # 2/130 before and after the fifteenth changes
    HELDOUT_EMERGENCY_V18: 0.0,  # 1/130 after the fifteenth changes; 0 after tri21 (danger signs read about)
    HELDOUT_EMERGENCY_V19: 0.0,  # 3/130 on main after tri21; 0 after tri22
    HELDOUT_EMERGENCY_V20: 0.0,  # 2/130 on main after tri22; 0 after tri23
    HELDOUT_EMERGENCY_V21: 0.0,  # 1/130 on main after tri23; 0 after tri24 (negation without an apostrophe)
    HELDOUT_EMERGENCY_V22: 0.0,  # 0/130 at the seventeenth session's start and end (fresh)
}


# a probability this close to a threshold may land on either side on another CPU: the embedder's float kernels
# differ between CPUs (an Intel Xeon with AMX read 0.7242 where the AMD EPYC that set the bounds read just above the
# 0.725 threshold); such a decision is counted as its label says, so the bounds catch regressions, not rounding
NEAR_THRESHOLD = 0.005


def _near(value: float, *thresholds: float) -> bool:
    return any(abs(value - t) < NEAR_THRESHOLD for t in thresholds)


@pytest.fixture(scope="module")
def packaged_thresholds() -> tuple[float, float]:
    """The packaged model's classifier and intent-veto thresholds, and its second tier's floor."""
    import joblib

    data = joblib.load(REPO / "qa" / "triage" / "model.joblib")
    return data["threshold"], data["intent_threshold"], data.get("low_threshold", 1.0)


def _as_measured(rows, out, packaged_thresholds, signal=None):
    """Per row: the engine's decision (or one signal's), or the row's label where a probability sat within
    NEAR_THRESHOLD of a threshold that decides it."""
    threshold, intent, *low = packaged_thresholds
    decided = []
    for r in rows:
        s = out[r["id"]]["signals"]
        by_rule = signal is None and s["rule"] and not s["rule_vetoed"]  # a counted rule hit: no probability decided
        near = not by_rule and (
            _near(s["p_emergency"], threshold, *low) or (signal is None and _near(s["p_not_now"], intent))
        )
        decided.append(bool(r["emergency"]) if near else (s[signal] if signal else out[r["id"]]["emergency"]))
    return decided


def test_a_decision_near_a_threshold_counts_as_its_label():
    rows = [{"id": "a", "emergency": True}, {"id": "b", "emergency": False}, {"id": "c", "emergency": True}]
    out = {
        "a": {"emergency": False, "signals": {"p_emergency": 0.7242, "p_not_now": 0.1, "classifier": False}},
        "b": {"emergency": True, "signals": {"p_emergency": 0.5, "p_not_now": 0.648, "classifier": False}},
        "c": {"emergency": False, "signals": {"p_emergency": 0.70, "p_not_now": 0.1, "classifier": False}},
    }
    for row in out.values():
        row["signals"].update(rule=False, rule_vetoed=False)
    assert _as_measured(rows, out, (0.725, 0.65)) == [True, False, False]  # c is a miss by 0.025: it counts
    assert _as_measured(rows, out, (0.725, 0.65), "classifier") == [True, False, False]
    out["b"]["signals"]["rule"] = True  # a counted rule hit is the rule's decision, whatever the probabilities
    assert _as_measured(rows, out, (0.725, 0.65)) == [True, True, False]


def test_every_written_heldout_set_is_bounded_in_ci():
    """A set registered in measure.HELDOUT_EMERGENCY_SETS (the report's list) has all three bounds here, and no bound
    names a set the report leaves out: adding a set in one place and forgetting the other fails."""
    registered = set(HELDOUT_EMERGENCY_SETS)
    assert set(HELDOUT_BOUNDS) == set(RULES_FP_BOUNDS) == set(COUNTED_RULES_FP_BOUNDS) == registered


@pytest.mark.parametrize("name", list(HELDOUT_BOUNDS))
def test_heldout_emergency_recall_and_false_positives(cli_runs, packaged_thresholds, name):
    rows, out = cli_runs(name)
    recall, fp, classifier_fp = HELDOUT_BOUNDS[name]
    combined = rates(rows, _as_measured(rows, out, packaged_thresholds))
    rules = rates(rows, [out[r["id"]]["signals"]["rule"] for r in rows])
    classifier = rates(rows, _as_measured(rows, out, packaged_thresholds, "classifier"))
    assert combined.recall >= recall
    assert combined.fp_rate <= fp
    assert classifier.fp_rate <= classifier_fp
    assert rules.fp_rate <= RULES_FP_BOUNDS[name]
    counted = rates(
        rows, [out[r["id"]]["signals"]["rule"] and not out[r["id"]]["signals"]["rule_vetoed"] for r in rows]
    )
    assert counted.fp_rate <= COUNTED_RULES_FP_BOUNDS[name]
    # the classifier catches what the keywords miss (rules: 27/84, 34/70, 26/70, 27/60, 23/60)
    assert combined.recall > rules.recall


@pytest.mark.parametrize(
    ("row_id", "emergency"),
    [
        ("em-001", True),  # the textbook heart attack that came back urgent: false
        ("em-006", True),  # "没有呼吸了"
        ("em-044", True),  # "end it all tonight"
        ("em-032", True),  # a count of pills
        ("em-036", True),  # CO poisoning
        ("em-039", True),  # button battery
        ("em-041", True),  # botulism after home-preserved food
        ("em-067", True),  # sudden loss of vision
        ("em-069", True),  # DKA
        ("em-073", True),  # testicular torsion
        ("ne-001", False),  # "心肌梗死的早期症状有哪些？"
        ("ne-002", False),  # "What are the warning signs of a heart attack?"
        ("ne-024", False),  # the page's own example, "最近三天头痛，伴有低烧，需要去医院吗？"
        ("ne-018", False),  # a past stroke
    ],
)
def test_heldout_cases_named_in_the_issue(cli_runs, row_id, emergency):
    _, out = cli_runs(HELDOUT_EMERGENCY)
    assert out[row_id]["emergency"] is emergency
    if emergency:
        assert out[row_id]["department"] == EMERGENCY_DEPARTMENT


@pytest.fixture(scope="module")
def real_service(tmp_path_factory):
    _, _, service = make_api(tmp_path_factory.mktemp("triage-service"))
    return service


def test_heldout_departments(real_service):
    from qa.triage.measure import department_scores

    scores = department_scores(real_service.triage, heldout_departments())
    assert scores.accuracy >= 0.85  # measured 52/60 = 0.867
    assert scores.macro_f1 >= 0.84  # measured 0.862


def test_redteam_recall_still_holds_and_false_positives_stay_low(real_service):
    rows = redteam_emergency()
    results = real_service.triage([r["text"] for r in rows])
    assert rates(rows, [x.rule for x in results]).recall == 1.0  # the rules' 41/41 is kept
    # measured 2/140 (3/140 before the intent veto)
    assert rates(rows, [x.emergency for x in results]).fp_rate <= 2 / 140


# ---- retraining from a CSV ---------------------------------------------------------------------------------------


def test_train_from_a_csv_adds_a_department(tmp_path):
    rows = [
        ("膝关节置换术后怎么做康复训练", "康复科"),
        ("中风后手脚不灵活怎么锻炼", "康复科"),
        ("腰伤后理疗多久", "康复科"),
    ]
    rows += [
        ("胃疼反酸", "内科"),
        ("高血压头晕", "内科"),
        ("咳嗽有痰", "内科"),
        ("阑尾炎手术", "外科"),
        ("疝气手术", "外科"),
    ]
    csv = tmp_path / "mine.csv"
    csv.write_text("text,department\n" + "".join(f"{t},{d}\n" for t, d in rows), encoding="utf-8")
    model = tmp_path / "model.joblib"
    env = {"QA_TRIAGE_EMBEDDER": "fake"}
    done = qa_cli("triage", "train", str(csv), "--out", str(model), env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["departments"] == ["内科", "外科", "康复科"]
    done = qa_cli("triage", "--triage-model", str(model), "膝关节置换术后康复", env=env)
    assert done.returncode == 0, done.stderr
    assert set(json.loads(done.stdout)["department_scores"]) == {"内科", "外科", "康复科"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("question,label\n头痛,内科\n", "needs columns text, department"),
        ("text,department\n头痛,\n", "line 2"),
        ("text,department\n头痛,内科\n", "at least two departments"),
    ],
)
def test_train_refuses_a_bad_csv_with_exit_2(tmp_path, content, message):
    csv = tmp_path / "bad.csv"
    csv.write_text(content, encoding="utf-8")
    done = qa_cli("triage", "train", str(csv), "--out", str(tmp_path / "m.joblib"), env={"QA_TRIAGE_EMBEDDER": "fake"})
    assert done.returncode == 2 and message in done.stderr


def test_jsonl_with_a_bad_line_is_refused(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": 1, "text": "头痛"}\nnot json\n', encoding="utf-8")
    done = qa_cli("triage", "--jsonl", str(path), env={"QA_TRIAGE_EMBEDDER": "fake"})
    assert done.returncode == 2 and "line 2" in done.stderr


# ---- the medical task: urgent follows triage -------------------------------------------------------------------


def test_classifier_emergency_forces_urgent_and_names_the_signal(make_service):
    service, _ = make_service([dumps(MEDICAL_OK)])  # the model says not urgent
    question = "我爸爸60岁，刚才突然胸口像被石头压着一样疼，疼到左胳膊，满头大汗，怎么办？"
    answer = service.answer("medical", question, service.params("medical"))
    assert answer.data["urgent"] is True
    fired = {h.rule: h.message for h in answer.report.fired}
    assert "triage_emergency" in fired and "classifier" in fired["triage_emergency"]


def test_the_models_urgent_alone_does_not_raise_the_banner(make_service):
    service, _ = make_service([dumps({**MEDICAL_OK, "urgent": True})])
    answer = service.answer("medical", "最近三天头痛，伴有低烧，需要去医院吗？", service.params("medical"))
    assert answer.data["urgent"] is False
    assert [h.rule for h in answer.report.fired] == ["urgent_overruled"]


def test_a_vetoed_rule_does_not_raise_the_banner_and_the_report_says_so(tmp_path, fake_model_path):
    from qa.backends.fake import FakeBackend
    from qa.settings import Settings
    from qa.wiring import build_service

    # a veto of 1 discounts every rule hit the classifier does not share (a threshold of 1: it never does)
    settings = Settings(backend="fake", cache_dir=tmp_path, triage_embedder="fake", triage_rule_veto=1.0,
                        triage_threshold=1.0, triage_model=fake_model_path)  # fmt: skip
    service = build_service(settings, FakeBackend([dumps({**MEDICAL_OK, "urgent": True})]))
    question = "胸口像压了块大石头一样疼，出了一身冷汗"
    assert service.triage(question)[0].rule_vetoed
    answer = service.answer("medical", question, service.params("medical"))
    assert answer.data["urgent"] is False
    rules = [h.rule for h in answer.report.fired]
    assert "red_flag_vetoed" in rules and "urgent_overruled" in rules and "red_flag" not in rules


def test_with_triage_off_the_rules_alone_decide(tmp_path):
    from qa.backends.fake import FakeBackend
    from qa.settings import Settings
    from qa.wiring import build_service

    settings = Settings(backend="fake", cache_dir=tmp_path, triage_embedder="off")
    service = build_service(settings, FakeBackend([dumps({**MEDICAL_OK, "urgent": True})]))
    assert not service.triage_on("medical")
    answer = service.answer("medical", "最近三天头痛，伴有低烧，需要去医院吗？", service.params("medical"))
    assert answer.data["urgent"] is True  # no triage: the model's urgent stands, as before
    with pytest.raises(InputError):
        service.triage("头痛")


# ---- the API ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api(tmp_path_factory, fake_model_path):
    settings, _, service = make_api(
        tmp_path_factory.mktemp("triage-api"), triage_embedder="fake", triage_model=fake_model_path
    )
    with serving(create_app(service, settings)) as url:
        yield url


def test_triage_endpoint_one_and_many(api):
    one = httpx.post(api + "/v1/triage", json={"input": "我想自杀"}, timeout=60).json()
    assert one["object"] == "list" and len(one["data"]) == 1
    assert one["data"][0]["emergency"] is True and one["data"][0]["department"] == EMERGENCY_DEPARTMENT
    many = httpx.post(api + "/v1/triage", json={"input": ["头痛", "脸上长痘"]}, timeout=60).json()
    assert [d["index"] for d in many["data"]] == [0, 1]
    assert {"category", "department_scores", "reasons", "signals"} <= set(many["data"][1])


def test_embeddings_endpoint_in_openai_shape(api):
    body = {"model": "fake-hash-bigrams", "input": ["胸口疼", "市盈率"]}
    out = httpx.post(api + "/v1/embeddings", json=body, timeout=60).json()
    assert out["object"] == "list" and out["model"] == "fake-hash-bigrams"
    assert [d["index"] for d in out["data"]] == [0, 1] and all(d["object"] == "embedding" for d in out["data"])
    vec = np.array(out["data"][0]["embedding"])
    assert vec.shape == (64,) and np.isclose(np.linalg.norm(vec), 1.0, atol=1e-5)
    assert out["usage"]["prompt_tokens"] == out["usage"]["total_tokens"] > 0
    b64 = httpx.post(api + "/v1/embeddings", json={**body, "encoding_format": "base64"}, timeout=60).json()
    decoded = np.frombuffer(base64.b64decode(b64["data"][0]["embedding"]), dtype="<f4")
    assert np.allclose(decoded, vec, atol=1e-6)


def test_embeddings_through_the_openai_client(api):
    import openai

    client = openai.OpenAI(base_url=api + "/v1", api_key="unused", max_retries=0, timeout=60)
    out = client.embeddings.create(model="fake-hash-bigrams", input="头痛")
    assert len(out.data) == 1 and len(out.data[0].embedding) == 64


@pytest.mark.parametrize(
    ("path", "body", "status", "param"),
    [
        ("/v1/embeddings", {"model": "fake-hash-bigrams"}, 400, "input"),
        ("/v1/embeddings", {"model": "fake-hash-bigrams", "input": []}, 400, "input"),
        ("/v1/embeddings", {"model": "fake-hash-bigrams", "input": [1, 2]}, 400, "input"),
        ("/v1/embeddings", {"model": "fake-hash-bigrams", "input": "  "}, 400, "input"),
        ("/v1/embeddings", {"input": "头痛"}, 400, "model"),
        ("/v1/embeddings", {"model": "text-embedding-3-small", "input": "头痛"}, 404, "model"),
        ("/v1/embeddings", {"model": "fake-hash-bigrams", "input": "头痛", "encoding_format": "int8"}, 400, None),
        ("/v1/triage", {"input": 42}, 400, "input"),
        ("/v1/triage", ["头痛"], 400, None),
    ],
)
def test_bad_input_gets_an_openai_shaped_error(api, path, body, status, param):
    response = httpx.post(api + path, json=body, timeout=60)
    assert response.status_code == status
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["message"]
    if param is not None:
        assert error["param"] == param


# ---- the page --------------------------------------------------------------------------------------------------


def _page(make_service, tmp_path, responses):
    from qa.feedback import FeedbackLog
    from qa.ui import ChatHandlers, StopSwitch

    service, backend = make_service(responses)
    return ChatHandlers(service, StopSwitch(), FeedbackLog(tmp_path / "fb.jsonl"), "medical"), backend


def _html(frame) -> str:
    return "".join(m["content"] for m in frame[0] if m["role"] == "assistant")


def test_page_shows_the_emergency_banner_before_the_model_starts(make_service, tmp_path):
    h, backend = _page(make_service, tmp_path, [dumps(MEDICAL_OK)])
    gen = h.ask("我想自杀", [], h.default_prompt, 0.3, 0.9, 512)
    first = next(gen)
    assert backend.requests == []  # nothing generated yet
    assert "qa-triage" in _html(first) and "qa-urgent" in _html(first) and "规则 rule" in _html(first)
    last = list(gen)[-1]
    assert _html(last).count("qa-urgent") == 1  # the triage banner, not a second one from the answer
    assert last[1][-1].answer.data["urgent"] is True


def test_page_banner_follows_triage_not_the_models_urgent(make_service, tmp_path):
    h, _ = _page(make_service, tmp_path, [dumps({**MEDICAL_OK, "urgent": True})])
    frames = list(h.ask("最近三天头痛，伴有低烧，需要去医院吗？", [], h.default_prompt, 0.3, 0.9, 512))
    assert "分诊科室" in _html(frames[0])
    assert all("qa-urgent" not in _html(f) for f in frames)  # not even while the model's urgent streams in
    assert "set urgent to false" in _html(frames[-1])  # the report shows the disagreement


def test_page_refuses_an_empty_question_before_showing_anything(make_service, tmp_path):
    import gradio as gr

    h, _ = _page(make_service, tmp_path, [dumps(MEDICAL_OK)])
    with pytest.raises(gr.Error):
        next(h.ask("   ", [], h.default_prompt, 0.3, 0.9, 512))


@pytest.mark.parametrize(
    ("text", "emergency", "category"),
    [
        ("wo xiang zi sha", True, "self_harm"),
        ("wo lao gong tu ran dao zai di shang, jiao ta mei fan ying, ye mei you hu xi le", True, "cardiac_arrest"),
        ("xin ji geng si de zao qi zheng zhuang you na xie", False, None),  # a general question stays one
    ],
)
def test_a_message_typed_in_pinyin_is_triaged_as_what_it_says(fake_triage, text, emergency, category):
    result = fake_triage.assess(text)
    assert result.rule is emergency
    assert category is None or result.category == category
    assert any(r.startswith("read as pinyin: ") for r in result.reasons)


def test_a_pinyin_reading_keeps_its_rule_hit_from_the_classifiers_veto(fake_triage):
    """A reading of pinyin is noisy (小腿 read as 消退), so the classifier's low p on it does not veto a rule that read
    the signs; the same words typed in characters are vetoed as before."""
    pinyin = "gang cai bei she yao le, tui zhong de hen li hai, tou yun"
    hanzi = "刚才被蛇咬了,腿肿得很厉害,头晕"
    saved = fake_triage.rule_veto, fake_triage.threshold
    # the classifier flags nothing and its p is under the rule veto: every rule hit would be vetoed by it
    fake_triage.rule_veto, fake_triage.threshold = 1.0, 1.01
    try:
        read, typed = fake_triage.assess_many([pinyin, hanzi])
    finally:
        fake_triage.rule_veto, fake_triage.threshold = saved
    assert read.rule and typed.rule
    assert read.emergency and read.vetoed_by is None
    assert not typed.emergency and typed.vetoed_by == "classifier"
