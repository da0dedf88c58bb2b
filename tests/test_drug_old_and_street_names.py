"""Eighth-session names and rules: old Chinese names, Taiwan and Hong Kong names and street names for many drugs,
and the context rules for forms that are also words (a count before a Chinese form, a quoted form after a taking
verb, a sublingual route, a form quoted as a name, street words that count only in quotation marks)."""

from __future__ import annotations

import pytest

from qa.eval.drug_eval import stream
from qa.eval.leaks import LeakChecker
from qa.validation import DrugList

from .test_drug_shorthand import test_shorthand_in_drug_context_is_found_redacted_and_held_back_in_streams


@pytest.mark.parametrize(
    ("text", "drug"),
    [
        ("以前吃甲福明控制血糖", "metformin"),  # old Chinese names
        ("长期服用氨甲叶酸的患者", "methotrexate"),
        ("他一直在吃心得安和氯压定", "propranolol"),
        ("痛风发作时不要自行加用丙磺舒或羧苯磺胺", "probenecid"),
        ("头孢三嗪皮试阴性", "ceftriaxone"),
        ("二甲胺四环素可致色素沉着", "minocycline"),
        ("异维甲酸治疗期间必须避孕", "isotretinoin"),
        ("麻醉用普鲁泊福诱导", "propofol"),  # Taiwan and Hong Kong names
        ("流感时医生开了瑞乐沙", "zanamivir"),
        ("睡前吃一颗酣乐欣", "triazolam"),
        ("K他命滥用会损伤膀胱", "ketamine"),
        ("He bought xanbars and roxys online.", "alprazolam"),  # street names that are no English word
        ("They call it hillbilly heroin for a reason.", "oxycodone"),
        ("Susie-Q at night knocks me out.", "quetiapine"),
        ("Horse paste will not cure a virus.", "ivermectin"),
        ("考研别乱买聪明药", "methylphenidate"),
    ],
)
def test_old_regional_and_street_names_are_found_anywhere(drugs: DrugList, text: str, drug: str) -> None:
    assert drug in [m.drug for m in drugs.find(text)]
    for size in (1, 4):
        assert stream(drugs, text, size) == drugs.redact(text)[0], size


@pytest.mark.parametrize(
    ("text", "found", "drug", "kind"),
    [
        ("He takes meth daily, 20 mg at a time.", "meth", "metamfetamine", "abbreviation"),  # a word form, with a dose
        ("The slang 'Miss Emma' is an old name for it, 10 mg.", "Miss Emma", "morphine", "abbreviation"),
        ("Patient admits using 'xans', 2 mg each.", "xans", "alprazolam", "abbreviation"),  # a quoted form
        ("每晚服用锂盐 0.25g，定期测血药浓度", "锂盐", "lithium carbonate", "short"),  # a short Chinese form
    ],
)
def test_new_word_and_short_forms_in_drug_context(
    drugs: DrugList, checker: LeakChecker, text: str, found: str, drug: str, kind: str
) -> None:
    test_shorthand_in_drug_context_is_found_redacted_and_held_back_in_streams(drugs, checker, text, found, drug, kind)


@pytest.mark.parametrize(
    ("text", "found", "drug"),
    [
        ("奶奶每晚吃一片安定才能睡着", "安定", "diazepam"),  # a count after a verb of taking, then a modal word
        ("打一针克赛，每日一次", "克赛", "enoxaparin"),  # a count and its measure word before a short form
        ("Chest pain relieved by nitro under the tongue.", "nitro", "glyceryl trinitrate"),  # a sublingual route
        ("'Vitamin R' is slang for the ADHD stimulant.", "Vitamin R", "methylphenidate"),  # quoted, called slang
        ("Started 'MTX' last week.", "MTX", "methotrexate"),  # quoted after a taking verb
        ("Patient admits using 'bars' bought online, up to 4 a day.", "bars", "alprazolam"),  # a quoted street word
        ('He was taking "subs" 8 mg daily.', "subs", "buprenorphine"),
        ("Weekends with 'Tina' mean no sleep, 20 mg at a time.", "Tina", "metamfetamine"),
    ],
)
def test_context_rules_for_counts_routes_and_quoted_names(drugs: DrugList, text: str, found: str, drug: str) -> None:
    assert [(m.found, m.drug) for m in drugs.find(text)] == [(found, drug)]
    redacted = drugs.redact(text)[0]
    for size in range(1, 9):
        assert stream(drugs, text, size) == redacted, size


@pytest.mark.parametrize(
    "text",
    [
        "一片安定祥和的景象",  # 一片 is also "a stretch of": no verb of taking before the count
        "两片安定",  # a count alone before a word form
        "社会安定才能发展",  # a modal word after it, but 会 before it joins it to a phrase
        "Let me dig into the slang people use.",  # a word form called slang, but not quoted as a name
        "I met Miss Emma at the street party.",
        "Choose granola bars with less than 10g of sugar.",  # a street word unquoted, even with a dose
        "Sandwich subs with 500 mg sodium are salty.",
        "Talk to Tina about the 10 mg dose.",
        "He ate rat poison, about 10 g.",
        "Install grab 'bars' by the toilet.",  # quoted, but no dose, route or taking word
        "打开盒子，一片安宁",
    ],
)
def test_words_near_the_new_rules_are_not_taken(drugs: DrugList, text: str) -> None:
    assert drugs.find(text) == []
    for size in (1, 3, 7):
        assert stream(drugs, text, size) == text, size


def test_the_quoted_case_parses_and_needs_quotes() -> None:
    from qa.drug_shorthand import ShorthandIndex, parse_shorthand

    [form] = parse_shorthand("generic_en,short,case\nclonazepam,pins,quoted\n", "test.csv")
    assert (form.quoted, form.word, form.exact_case) == (True, True, False)
    index = ShorthandIndex([form])
    assert [h.form.short for h in index.find("Seller offers 2mg 'pins' for cheap.")] == ["pins"]
    assert index.find("Seller offers 2mg pins for cheap.") == []


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("Patient admits using 'bars', 2 mg each.", "bars"),  # the checker's own reading: between quotes
        ('Kids mix "lean" with a prescription syrup.', "lean"),
        ("Keep the tablets in their original glass bottle.", None),  # unquoted, beside a medicine word
    ],
)
def test_the_checker_reads_quoted_street_words_only_in_quotes(
    checker: LeakChecker, text: str, read: str | None
) -> None:
    names = [leak.name for leak in checker.leaks(text)]
    assert (read in names) if read else names == []
