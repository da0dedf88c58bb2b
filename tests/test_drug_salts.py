"""Names derived by rule (salt and ester words dropped in either language, "-ic acid" and "-ate", the parts of a
combination, 西林 as 青霉素), names less their last letter, misspelt brands only in texts about medicines, and
streams holding a two-letter spelling still arriving. Examples are made up or from the tuning split's drugs."""

from __future__ import annotations

import pytest

from qa.drugs import derived_names
from qa.eval.drug_eval import stream
from qa.validation import DrugList


@pytest.mark.parametrize(
    ("name", "derived"),
    [
        ("sodium oxybate", ["oxybate", "oxybic acid"]),
        ("alendronic acid", ["alendronic", "alendronate"]),
        ("mycophenolate mofetil", ["mycophenolate", "mycophenolic acid"]),
        ("polymyxin b", ["polymyxin"]),
        ("tegafur/gimeracil/oteracil", ["tegafur", "gimeracil", "oteracil"]),
        ("levodopa/benserazide", ["levodopa", "benserazide"]),
        ("insulin degludec/insulin aspart", ["insulin degludec", "insulin aspart"]),
        ("insulin glargine", []),  # no salt word: "insulin" alone is not this drug
        ("trastuzumab deruxtecan", []),
        ("盐酸美金刚", ["美金刚"]),
        ("麦考酚钠", ["麦考酚"]),
        ("托吡酯", []),  # 酯 ends the name itself: 托吡 is no drug
        ("肝素钠", []),  # two characters would be left (and 肝素 begins the class name 肝素类抗凝药)
        ("氨苄西林", ["氨苄青霉素"]),
        ("氨苄西林舒巴坦", []),
    ],
)
def test_derived_names(name: str, derived: list[str]) -> None:
    assert derived_names(name) == derived


@pytest.mark.parametrize(
    ("text", "found", "drug"),
    [
        ("OXYBATE SODIUM 4.5 g at night", "OXYBATE", "sodium oxybate"),  # the salt word in the other order
        ("oxybate sodium", "oxybate", "sodium oxybate"),
        ("Take mofetil mycophenolate as prescribed", "mycophenolate", "mycophenolate mofetil"),
        ("zoledronate once a year", "zoledronate", "zoledronic acid"),
        ("valeric acid helps; ibandronic salts", "ibandronic", "ibandronic acid"),  # the name without "acid"
        ("valeric acid helps; ibandronic acids", "ibandronic acids", "ibandronic acid"),  # in the plural (ninth)
        ("t e g a f u r capsules", "t e g a f u r", "tegafur/gimeracil/oteracil"),
        ("levo-dopa 100 mg", "levo-dopa", "levodopa/benserazide"),
        ("医生开了美金刚片", "美金刚", "memantine"),
        ("吗啡缓释片", "吗啡", "morphine"),
        ("苯妥英 0.1g", "苯妥英", "phenytoin"),
        ("他用过氨苄青霉素", "氨苄青霉素", "ampicillin"),
        ("氯硝安定", "氯硝安定", "clonazepam"),  # an older name from the alias file
        ("Take morphin at night", "morphin", "morphine"),  # less its last letter
        ("Take diazepa at night", "diazepa", "diazepam"),
    ],
)
def test_salt_forms_other_names_and_short_typos_are_found(drugs: DrugList, text: str, found: str, drug: str) -> None:
    matches = drugs.find(text)
    assert [(m.found, m.drug) for m in matches] == [(found, drug)]


@pytest.mark.parametrize(
    "text",
    [
        "Your estradiol level is low for day 3 of the cycle.",  # a hormone laboratory results name
        "雌二醇和睾酮水平都在正常范围。",
        "甘油灌肠剂可以通便。",  # 硝酸 is not a salt prefix: 硝酸甘油 leaves no 甘油
        "A chiral molecule, a choral society.",  # one letter from chloral, read and allowlisted
        "The Celldept team released a new Linux build.",  # a proper noun, no words about medicines
        "MonoDevelop runs on Linux, Windows and Macos.",
    ],
)
def test_ordinary_text_stays(drugs: DrugList, text: str) -> None:
    assert drugs.find(text) == []


def test_a_misspelt_brand_needs_a_text_about_medicines(drugs: DrugList) -> None:
    assert drugs.find("The Celldept team released a new Linux build.") == []
    [match] = drugs.find("Celldept 500 mg twice a day")
    assert (match.found, match.drug) == ("Celldept", "mycophenolate mofetil")
    # another listed name makes the text about medicines too
    assert [m.drug for m in drugs.find("Celldept or morphine?")] == ["mycophenolate mofetil", "morphine"]
    # a stream cannot wait for the words that may follow, so it always looks
    assert "Celldept" not in stream(drugs, "The Celldept team released a new Linux build.", 3)


@pytest.mark.parametrize("size", range(1, 9))
def test_streams_hold_a_spelled_out_name_with_a_two_letter_spelling(drugs: DrugList, size: int) -> None:
    # "m.o.r.p" is no prefix of the folded "morfine": the written prefixes must hold it
    for text in ("Label: m.o.r.p.h.i.n.e 10 mg.", "Rx: OXYBATE SODIUM 4.5 g", "请服用盐酸美金刚片。"):
        out = stream(drugs, text, size)
        assert drugs.find(out) == [], out
        assert out != text
