"""Everyday names of listed drugs added by hand (qa/data/drug_aliases.csv, seventh drug session): colloquial names,
international and Chinese brands, Hong Kong / Taiwan trade names. Each is found in a sentence, redacted and held
back in streams; names that sit inside ordinary words were left out, and stay out."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.drugs import parse_aliases
from qa.eval.leaks import LeakChecker
from qa.validation import DrugList
from qa.wiring import DRUG_LIST

from .helpers import assert_caught_everywhere

DATA = Path(__file__).resolve().parent.parent / "qa/data"


@pytest.mark.parametrize(
    ("text", "found", "drug"),
    [
        ("他偷偷买了小蓝片", "小蓝片", "sildenafil"),  # colloquial
        ("网上有人卖冰毒", "冰毒", "metamfetamine"),  # colloquial (street name)
        ("He was drinking purple drank again.", "purple drank", "codeine"),  # colloquial (street name)
        ("Ask about the little blue pill.", "little blue pill", "sildenafil"),
        ("以前叫安宫黄体酮", "安宫黄体酮", "medroxyprogesterone"),  # an old everyday Chinese name
        ("医生开了优降糖", "优降糖", "glibenclamide"),
        ("她打了表阿霉素", "表阿霉素", "epirubicin"),  # not read as 阿霉素 (doxorubicin) inside it
        ("他用过先锋霉素VI号", "先锋霉素VI", "cefradine"),  # not read as 先锋霉素V (cefazolin) inside it
        ("台湾的猛健乐很贵", "猛健乐", "tirzepatide"),  # a Taiwan trade name
        ("醫生開了賀癌平", "賀癌平", "trastuzumab"),  # Taiwan name in traditional characters
        ("She started Entresto last month.", "Entresto", "sacubitril/valsartan"),  # an international brand
        ("He takes Tramal for pain.", "Tramal", "tramadol"),
        ("The Xtandi dose was reduced.", "Xtandi", "enzalutamide"),
        ("老药氟美松现在叫什么", "氟美松", "dexamethasone"),  # an old Chinese name
        ("He sold roxies at school.", "roxies", "oxycodone"),  # a street name
    ],
)
def test_an_everyday_name_is_found_redacted_and_held_back_in_streams(
    drugs: DrugList, checker: LeakChecker, text: str, found: str, drug: str
) -> None:
    assert [(m.found, m.drug) for m in drugs.find(text)] == [(found, drug)]
    assert found not in drugs.redact(text)[0]
    assert_caught_everywhere(drugs, checker, text)


@pytest.mark.parametrize(
    "text",
    [
        "补充维生素K药物要遵医嘱",  # K药 (pembrolizumab) was left out: it sits in 维生素K药物
        "古代文化和现代文学",  # 代文 (valsartan in China) was left out
        "保持完美平衡",  # 美平 (meropenem) was left out
        "化学反应停止以后",  # 反应停 (thalidomide) was left out
        "这可能会威胁健康",  # 可威 (oseltamivir) was left out
        "If symptoms continue, see a doctor.",  # MS Contin across words
        "She is well versed in luminal anatomy.",  # Versed and Luminal were left out
        "Playing a serenade on the piano.",  # not a typo of Serenace
        "Penicillins come from Penicillium moulds.",  # penicillin V was left out: its typo bound reached both
    ],
)
def test_ordinary_text_is_not_taken(drugs: DrugList, text: str) -> None:
    assert drugs.find(text) == []


def test_hand_written_aliases_name_listed_drugs_and_are_not_repeated() -> None:
    listed = {line.split(",")[0] for line in (DATA / DRUG_LIST).read_text("utf-8").splitlines()[1:]}
    aliases = parse_aliases((DATA / "drug_aliases.csv").read_text("utf-8"), "drug_aliases.csv")
    assert [a.alias for a in aliases if a.generic_en not in listed] == []
    latin = [a.alias for a in aliases if a.alias.isascii()]
    # nothing shorter than 5 Latin letters unless a digit or hyphen marks it as a name (5-FU, VP-16, Z-Pak)
    assert [a for a in latin if sum(c.isalpha() for c in a) < 5 and not any(c.isdigit() or c == "-" for c in a)] == []
