"""The clinical-note gate (issue 15): a letter code or a clipping from the shorthand file counts without a dose beside
it where its sentence, or the one before, holds clinical-note vocabulary (a ward round, a handover, a regimen, an HBV
follow-up); the vocabulary is package data validated at load; the same codes in ordinary text stay untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.drug_shorthand import parse_clinical
from qa.errors import PromptError
from qa.validation import DrugList

from .helpers import assert_found_and_redacted, assert_untouched


@pytest.mark.parametrize(
    ("text", "found", "drug"),
    [
        ("HBV 初治，ETV 起始，3 个月后复查 HBV DNA。", "ETV", "entecavir"),  # an HBV follow-up
        ("Stroke code at 14:05, NIHSS 14. TNK given at 14:40.", "TNK", "tenecteplase"),  # the sentence before
        ("交班：12床，房颤，INR 1.4，华法继续。", "华法", "warfarin"),  # a handover: bed number, INR
        ("ICU 镇静：右美托维持，RASS -2。", "右美托", "dexmedetomidine"),  # ICU sedation
        ("Ward round: CML chronic phase, dasa continued.", "dasa", "dasatinib"),
        ("NSCLC, EGFR 19del: first-line osim, review in clinic.", "osim", "osimertinib"),  # an oncology regimen
        ("HIV 初治方案：B/F/TAF，CD4 210。", "B/F/TAF", "bictegravir/emtricitabine/tenofovir alafenamide"),
        ("耐药结核，方案含贝达、利奈。", "贝达", "bedaquiline"),  # a TB regimen
        ("肾移植术后，他克维持，查房时浓度偏低。", "他克", "tacrolimus"),  # transplant
        ("Post-op day 2: 磺达 continued for VTE prophylaxis.", "磺达", "fondaparinux"),
        ("Chemo regimen: 5-FU plus leucovorin, cycle 3.", "5-FU", "fluorouracil"),
    ],
)
def test_codes_in_a_clinical_note_are_found(drugs: DrugList, text: str, found: str, drug: str) -> None:
    assert_found_and_redacted(drugs, text, found, drug)


@pytest.mark.parametrize(
    "text",
    [
        "我家住在 12 楼，TDF 是什么意思？",  # a code with no clinical word near it
        "HBV 携带者平时注意休息，不要熬夜。",  # a clinical word with no code
        "The TNK team meets on Friday.",  # a code in ordinary text (no dose, no clinical word)
        "Given the weather, the ETV studio is closed.",  # "given" as an ordinary word, a code as written
        "HBV 复查，etv 频道今晚播出。",  # a code in lower case is not the code as written
        "The ward round starts at nine; the cape is on the chair.",  # a word form is not taken by the note alone
        "化疗期间多喝水，贝达尔是个地名。",  # a clipping followed by a Chinese word stays part of it
        "ICU 的探视时间是下午三点。",
    ],
)
def test_codes_in_ordinary_text_are_not_found(drugs: DrugList, text: str) -> None:
    assert_untouched(drugs, text)


def test_the_vocabulary_is_validated_at_load() -> None:
    pattern = parse_clinical("# a comment\nHBV\nregimen\n#床\nC#D#\n", "t.txt")
    assert (
        pattern.search("HBV DNA") and pattern.search("Regimen:") and pattern.search("12床") and pattern.search("C1D1")
    )
    assert not pattern.search("hbv") and not pattern.search("regimens") and not pattern.search("在床上")
    for bad in ("HBV\nhbv\n", "a\n", "HBV;\n", "# only a comment\n", "###\n"):
        with pytest.raises(PromptError):
            parse_clinical(bad, "t.txt")


def _vocabulary() -> list[str]:
    text = (Path(__file__).resolve().parent.parent / "qa/data/drug_clinical_context.txt").read_text("utf-8")
    return [w.strip().replace("#", "3") for w in text.splitlines() if w.strip() and not w.startswith("# ")]


@pytest.mark.parametrize("word", _vocabulary())
def test_each_clinical_word_leaves_everyday_word_forms_alone(drugs: DrugList, word: str) -> None:
    # a form that is also an everyday word (安定 "stable", metro, miso) is not taken by a clinical word beside it
    text = f"{word}：社会安定。The metro was late. Miso soup for lunch."
    assert drugs.shorthand is not None and drugs.shorthand.clinical.search(text)
    assert drugs.find(text) == []
