"""Clinical shorthand for listed drugs (qa/data/drug_shorthand.csv): letter abbreviations and Chinese names cut short,
found only in a drug context and never inside a longer word; redacted whole and in streams, read by the independent
checker, printed by the scan command with their kind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.cli import main
from qa.drug_shorthand import ShorthandIndex, parse_shorthand
from qa.errors import PromptError
from qa.eval.drug_eval import stream
from qa.eval.leaks import LeakChecker
from qa.validation import DrugList
from qa.wiring import DRUG_LIST, DRUG_SHORTHAND

from .helpers import assert_caught_everywhere

DATA = Path(__file__).resolve().parent.parent / "qa/data"


@pytest.mark.parametrize(
    ("text", "found", "drug", "kind"),
    [
        ("患者服用MTX 15mg，每周一次", "MTX", "methotrexate", "abbreviation"),  # a dose and a verb
        ("He was started on INH last week.", "INH", "isoniazid", "abbreviation"),  # "started on"
        ("HCTZ 25 mg daily for blood pressure", "HCTZ", "hydrochlorothiazide", "abbreviation"),
        ("Continue mtx 10 mg weekly.", "mtx", "methotrexate", "abbreviation"),  # any case
        ("ＭＴＸ 7.5mg qw", "ＭＴＸ", "methotrexate", "abbreviation"),  # full width
        ("予 CPT-11 180mg/m2 静滴", "CPT-11", "irinotecan", "abbreviation"),
        ("TMP/SMX 2 tabs bid", "TMP/SMX", "sulfamethoxazole/trimethoprim", "abbreviation"),
        ("FK506 谷浓度 8 ng/ml", "FK506", "tacrolimus", "abbreviation"),  # a drug level
        ("二甲 0.5g bid", "二甲", "metformin", "short"),  # a dose after it
        ("换成舍曲 50mg qd", "舍曲", "sertraline", "short"),  # a verb before it
        ("睡前加用氯硝半片", "氯硝", "clonazepam", "short"),
        ("甲強 40mg ivgtt", "甲強", "methylprednisolone", "short"),  # traditional characters
        ("他克 1mg bid，监测血药浓度", "他克", "tacrolimus", "short"),
        ("打了K药，每3周一次", "K药", "pembrolizumab", "short"),
        ("睡前甘精 10u", "甘精", "insulin glargine", "short"),  # a time of day before it
        ("MTX 每周一次", "MTX", "methotrexate", "abbreviation"),  # a frequency right beside it
        ("口服可定 10mg qn", "可定", "rosuvastatin", "short"),  # a two-character trade name
    ],
)
def test_shorthand_in_drug_context_is_found_redacted_and_held_back_in_streams(
    drugs: DrugList, checker: LeakChecker, text: str, found: str, drug: str, kind: str
) -> None:
    assert [(m.found, m.drug, m.kind) for m in drugs.find(text)] == [(found, drug, kind)]
    assert found not in drugs.redact(text)[0]
    assert_caught_everywhere(drugs, checker, text)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("口服 MTX、LEF、HCQ", ["MTX", "LEF", "HCQ"]),  # a list of drugs: each is the others' context
        ("MTX + 来氟米特", ["MTX", "来氟米特"]),  # beside a listed name
        ("方案：环磷、表柔", ["环磷", "表柔"]),
        ("DTG 50 mg plus FTC/TDF once daily", ["DTG", "FTC/TDF"]),  # the longest form wins over FTC and TDF in it
    ],
)
def test_a_list_of_drugs_is_context(drugs: DrugList, text: str, found: list[str]) -> None:
    assert [m.found for m in drugs.find(text)] == found
    redacted, _ = drugs.redact(text)
    for size in (1, 2, 3, 5, 8):
        assert stream(drugs, text, size) == redacted, size


@pytest.mark.parametrize(
    "text",
    [
        "零件编号 MTX-2000，每周检查 10 次",  # part of a code, though a number and a frequency are near
        "The part number was XMTX 10mg.",  # inside a longer token
        "二甲苯中毒，每天 10mg 的剂量",  # 二甲 inside 二甲苯, with a dose near
        "去二甲医院看病，每日门诊",  # 二甲 inside 二甲医院
        "他克服了困难，每天服用维生素",  # 他克 inside 他克服
        "The INH group had more side effects.",  # no dose, verb or frequency: a study arm's label
        "MTX",  # alone
        "二甲",
        "补充维生素K药物要遵医嘱",  # K药 inside 维生素K药物
        "恩格斯每天读书",  # 恩格 (empagliflozin) inside 恩格斯
        "阿托品 0.5mg 静推",  # atropine, not atorvastatin: 阿托 is not listed and 阿托伐 needs its 伐
        "the pred = model(x) step takes 10 ms",  # a variable: no dose unit or taking verb before it
        "CRO 公司每周提交 2 份报告",  # a frequency in ordinary words counts only right beside the token
        "EMB 胚胎每天观察一次",
        "这个概念不可定义，每次讨论都有分歧",  # 可定 (rosuvastatin) inside 不可定义
        "宝贝依然每天吃 2 片钙片",  # 贝依 (leuprorelin) inside 宝贝依然
    ],
)
def test_shorthand_out_of_context_is_not_taken(drugs: DrugList, text: str) -> None:
    assert drugs.find(text) == []
    for size in (1, 3, 7):
        assert stream(drugs, text, size) == text, size


def test_the_checker_reads_shorthand_by_its_own_rules(checker: LeakChecker) -> None:
    assert [leak.name for leak in checker.leaks("she takes MTX 15mg weekly")] == ["MTX"]
    assert checker.leaks("零件编号 MTX-2000") == []  # one token, not the form
    assert checker.leaks("二甲苯 10mg") == []  # the character after it joins it to a word
    assert checker.leaks("二甲双胍 0.5g") and all(leak.name != "二甲" for leak in checker.leaks("二甲双胍 0.5g"))


def test_scan_prints_the_shorthand_kind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("加用氯硝 0.5mg qn\nThe INH group\nstarted on INH 300 mg\n", encoding="utf-8")
    assert main(["drugs", "scan", str(path)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [[(f["text"], f["kind"], f["drug"]) for f in line["found"]] for line in lines] == [
        [("氯硝", "short", "clonazepam")],
        [],
        [("INH", "abbreviation", "isoniazid")],
    ]


def test_the_question_note_sees_shorthand(drugs: DrugList) -> None:
    from qa.checks import DrugRequestRule

    assert [m.drug for m in DrugRequestRule(drugs).assess("我在吃MTX 10mg，能喝酒吗？")] == ["methotrexate"]


def test_shorthand_file_names_listed_drugs_once() -> None:
    listed = {line.split(",")[0] for line in (DATA / DRUG_LIST).read_text("utf-8").splitlines()[1:]}
    forms = parse_shorthand((DATA / DRUG_SHORTHAND).read_text("utf-8"), DRUG_SHORTHAND)
    assert [f.short for f in forms if f.generic_en not in listed] == []
    keys = [f.short if f.exact_case else f.short.casefold() for f in forms]
    assert sorted({k for k in keys if keys.count(k) > 1}) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("generic_en,alias,kind\n", "header"),
        ("generic_en,short,case\nmethotrexate,MTX,sometimes\n", "line 2"),
        ("generic_en,short,case\nmethotrexate,M,any\n", "letter abbreviation"),
        ("generic_en,short,case\nmetformin,二甲双胍片,any\n", "Chinese short form"),
    ],
)
def test_a_malformed_shorthand_file_fails_at_load(body: str, message: str) -> None:
    with pytest.raises(PromptError, match=message):
        parse_shorthand(body, "test.csv")


def test_a_shorthand_for_an_unlisted_drug_fails_at_load() -> None:
    drug_csv = (DATA / DRUG_LIST).read_text("utf-8")
    with pytest.raises(PromptError, match="not a listed drug"):
        DrugList.parse(drug_csv, shorthand=("generic_en,short,case\nnotadrug,NAD,any\n", "test.csv"))


def test_an_alias_for_an_unlisted_drug_fails_at_load() -> None:
    drug_csv = (DATA / DRUG_LIST).read_text("utf-8")
    with pytest.raises(PromptError, match="not a listed drug"):
        DrugList.parse(drug_csv, aliases="generic_en,alias,kind\nnotadrug,Nadrex,brand\n")


def test_a_stream_holds_a_form_until_its_context_arrives() -> None:
    index = ShorthandIndex(parse_shorthand("generic_en,short,case\nmethotrexate,MTX,any\n", "t"))
    assert index.pending("take MTX") == 5  # what follows may be a dose
    assert index.pending("take MTX。then") is None  # the sentence ended
    assert index.pending("take MT") == 5  # may still become the form
    assert index.pending("XMT") is None  # inside a longer token


@pytest.mark.parametrize(
    ("text", "found", "drug", "kind"),
    [
        ("失眠时临时吃安定，每晚半片", "安定", "diazepam", "short"),  # an everyday word ("stable") after a verb
        ("服用安定 5mg 后嗜睡", "安定", "diazepam", "short"),
        ("降压方案加用双克 25mg qd", "双克", "hydrochlorothiazide", "short"),
        ("骨髓瘤患者服用反应停，每日一次", "反应停", "thalidomide", "short"),
        ("肺癌术后用了T药，每3周一次", "T药", "atezolizumab", "short"),  # an immunotherapy nickname
        ("放化疗后予I药 10mg/kg 静滴", "I药", "durvalumab", "short"),
        ("Started levoflox 750 mg daily.", "levoflox", "levofloxacin", "abbreviation"),  # a clinician's clipping
        ("Rate control: dilt 30 mg qid", "dilt", "diltiazem", "abbreviation"),
        ("post-transplant tacro 2 mg bid", "tacro", "tacrolimus", "abbreviation"),
        ("He takes fin 1mg daily for hair loss.", "fin", "finasteride", "abbreviation"),  # also an English word
        ("He was on Addy 20mg for ADHD.", "Addy", "amfetamine", "abbreviation"),  # a street name, as written
        ("Is fetty safe at 50 mcg?", "fetty", "fentanyl", "abbreviation"),
        ("He took Special K at a party, 50mg.", "Special K", "ketamine", "abbreviation"),  # two words
        ("Given ampho B 0.7 mg/kg iv", "ampho B", "amphotericin b", "abbreviation"),
    ],
)
def test_street_names_words_and_clippings_in_drug_context(
    drugs: DrugList, checker: LeakChecker, text: str, found: str, drug: str, kind: str
) -> None:
    # the same contract as clinical shorthand: found with its kind, redacted, held back in streams
    test_shorthand_in_drug_context_is_found_redacted_and_held_back_in_streams(drugs, checker, text, found, drug, kind)


@pytest.mark.parametrize(
    "text",
    [
        "术后病情安定，继续服药观察",  # 安定 as "stable", with a taking word in the sentence
        "社会安定，每天服用维生素的人越来越多",
        "情绪安定后每日散步 30 分钟",
        "用药后安定了很多",  # after 后 an everyday word is the word ("calmer")
        "反应停止后再服药 10mg",  # 反应停 inside 反应停止
        "双克隆抗体每周注射一次",  # 双克 inside 双克隆
        "金戈铁马，每天吃 2 片钙片",  # 金戈 (sildenafil) inside an idiom
        "The fin of the fish; take the pills with food.",
        "a special kind of tablet",  # Special K needs its K as a word
        "He takes the metro to the clinic for his injection.",  # an English word: a medicine word is not enough
        "Let's dig into the dose question.",
        "digital dose 10 mg",  # a clipping inside a longer word
        "finance costs 1mg daily",
        "dilthey 30 mg",  # dilt inside a longer token
    ],
)
def test_words_and_clippings_out_of_context_are_not_taken(drugs: DrugList, text: str) -> None:
    assert drugs.find(text) == []
    for size in (1, 3, 7):
        assert stream(drugs, text, size) == text, size


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("服用安定 5mg", "安定"),
        ("术后病情安定，继续服药", None),  # the checker's own rule: a character before the word joins it to a phrase
        ("社会安定，每天吃药", None),
        ("took some special  K, one dose", "Special K"),  # its own word-boundary reading of a two-word form
        ("a special kind of tablet", None),
    ],
)
def test_the_checker_reads_words_and_two_word_forms_by_its_own_rules(
    checker: LeakChecker, text: str, read: str | None
) -> None:
    names = [leak.name for leak in checker.leaks(text)]
    assert (read in names) if read else names == []


@pytest.mark.parametrize(
    ("text", "drug"),
    [
        ("He has been taking trammies, 4 a day.", "tramadol"),  # street names that are no English word: plain
        ("She uses gabbies and vallies to sleep.", "gabapentin"),
        ("He takes trammies daily.", "tramadol"),
        ("He bought klonnies online.", "clonazepam"),
        ("麻醉诱导用异丙酚", "propofol"),  # old Chinese names
        ("丁胺卡那静滴", "amikacin"),
        ("以前吃甲亢平", "carbimazole"),
        ("用过乙胺碘呋酮", "amiodarone"),
    ],
)
def test_plain_street_and_old_names_are_found_anywhere(drugs: DrugList, text: str, drug: str) -> None:
    assert drug in [m.drug for m in drugs.find(text)]
