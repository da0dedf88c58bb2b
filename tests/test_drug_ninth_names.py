"""Ninth-session names and rules (issue 15): everyday, street, old and HK/TW names and clinicians' abbreviations for
many drugs, an alias file with a source column, and context rules that let patients' and clinicians' ways of writing
a gated form count (an article before a two-word form, verbs of buying or mixing, verbs of naming, K药 as its own
word, a Chinese verb of taking right before a form, 吃/打 after one, a code joined to "-based", a plural brand)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.cli import main
from qa.drugs import ALIAS_SOURCES, parse_aliases
from qa.errors import PromptError
from qa.eval.leaks import LeakChecker
from qa.validation import DrugList

from .helpers import assert_caught_everywhere, assert_found_and_redacted, assert_untouched

DATA = Path(__file__).resolve().parent.parent / "qa/data"


@pytest.mark.parametrize(
    ("text", "found", "drug"),
    [
        ("台湾朋友推荐睡前吃宜眠安", "宜眠安", "zopiclone"),  # Hong Kong / Taiwan names
        ("出院带药：必賴克廔 0.2g", "必賴克廔", "hydroxychloroquine"),
        ("肾移植后一直用咪唑硫嘌呤", "咪唑硫嘌呤", "azathioprine"),  # an older Chinese name
        ("小孩矮能不能打增高针", "增高针", "somatropin"),  # an everyday nickname
        ("网上买的小黄片靠谱吗", "小黄片", "tadalafil"),
        ("足叶乙甙联合顺铂", "足叶乙甙", "etoposide"),
        ("He was caught with shabu at the border.", "shabu", "metamfetamine"),  # street names, no English word
        ("She mixes trammies and somas.", "somas", "carisoprodol"),
        ("Someone sold him cat valium at a rave.", "cat valium", "ketamine"),  # longer than the Valium in it
        ("Old-timers call it captain cody.", "captain cody", "codeine"),
        ("She has had the depo shot for years.", "depo shot", "medroxyprogesterone"),
        ("He has a bottle of Percocets in the car.", "Percocets", "oxycodone/paracetamol"),  # a plural brand
        ("Two Xanaxes and a drink is dangerous.", "Xanaxes", "alprazolam"),
    ],
)
def test_new_names_are_found_anywhere(drugs: DrugList, checker: LeakChecker, text: str, found: str, drug: str) -> None:
    assert [(m.found, m.drug) for m in drugs.find(text) if m.found == found] == [(found, drug)]
    assert_caught_everywhere(drugs, checker, text)


@pytest.mark.parametrize(
    ("text", "found", "drug", "kind"),
    [
        ("ICU note: MDZ 2 mg iv for agitation", "MDZ", "midazolam", "abbreviation"),  # new letter codes
        ("Basal NPH 12 units at night", "NPH", "insulin human", "abbreviation"),
        ("Started Cape 1000 mg/m2 bid", "Cape", "capecitabine", "abbreviation"),
        ("Give halo 5 mg im now", "halo", "haloperidol", "abbreviation"),  # a word form with a dose
        ("Premed: Dex 12 mg iv", "Dex", "dexamethasone", "abbreviation"),
        ("Clopi 75 mg daily after the stent", "Clopi", "clopidogrel", "abbreviation"),
        ("术中维持瑞芬 0.1μg/kg/min", "瑞芬", "remifentanil", "short"),  # 持 before an anaesthetic's form
        ("呋塞 20mg iv", "呋塞", "furosemide", "short"),  # new Chinese clippings
        ("换用奥氮 5mg qn", "奥氮", "olanzapine", "short"),
        ("睡前服用速悅 75mg", "速悅", "venlafaxine", "short"),  # a Taiwan trade name, traditional characters
    ],
)
def test_new_gated_forms_in_drug_context(
    drugs: DrugList, checker: LeakChecker, text: str, found: str, drug: str, kind: str
) -> None:
    assert [(m.found, m.drug, m.kind) for m in drugs.find(text)] == [(found, drug, kind)]
    assert_caught_everywhere(drugs, checker, text)


@pytest.mark.parametrize(
    ("text", "found", "drug"),
    [
        ("Is it safe to take a blue pill before dinner?", "blue pill", "sildenafil"),  # an article, a two-word form
        ("She buys moda online before exams.", "moda", "modafinil"),  # a verb of buying, a form that is no word
        ("Teens are mixing 'lean' with soda.", "lean", "codeine"),  # mixing, and the street word quoted
        ("Everyone there called it 'Tina'.", "Tina", "metamfetamine"),  # a verb of naming right before
        ("Strips detect fetty in pressed pills.", "fetty", "fentanyl"),  # fetty is no English word: any case now
        ("mife + miso at home", "miso", "misoprostol"),  # a word form joined by + to another form
        ("On a TDF/3TC-based regimen", "3TC", "lamivudine"),  # a word joined by a hyphen
        ("医生建议K药单药治疗", "K药", "pembrolizumab"),  # K药 before any character but a word 药 starts
        ("孕早期先用PTU控制甲亢", "PTU", "propylthiouracil"),  # a Chinese verb of taking right before
        ("舍曲吃了两个月", "舍曲", "sertraline"),  # a verb of taking right after
        ("我妈二甲吃了十年", "二甲", "metformin"),  # a pronoun before
        ("每天氯硝半片", "氯硝", "clonazepam"),  # a time of day as two characters before
        ("病友都把它叫作“T药”", "T药", "atezolizumab"),  # a verb of naming
        ("戒毒宣传：“溜冰”是吸毒的俗称", "溜冰", "metamfetamine"),  # a word form quoted and called a name
    ],
)
def test_new_context_rules(drugs: DrugList, text: str, found: str, drug: str) -> None:
    assert_found_and_redacted(drugs, text, found, drug)


@pytest.mark.parametrize(
    "text",
    [
        "I bought some miso paste for the soup.",  # a word form after a verb of buying stays a word
        "Mixing miso with tahini makes a dressing.",
        "We took the metro to the clinic.",  # an article before one everyday word does not count
        "She took a dig at the new policy.",
        "The neuron's soma holds the nucleus.",
        "Cape Town is two hours away by plane.",
        "The LCM of 4 and 6 is 12.",
        "PAS staining was positive in the biopsy.",
        "NPH, normal pressure hydrocephalus, changes gait.",
        "Remi will call you back tomorrow.",  # a naming verb beside a word form that is not quoted
        "He sold his crystal glasses.",
        "He ate rat poison, about 10 g.",
        "Ambient noise keeps me awake.",  # a name inside a longer word is no plural of it
        "天门冬能治疗哪些问题？",  # 天 alone before a form is a herb's name
        "维持社会安定很重要。",  # 持 before a word form
        "我们一起去溜冰吧，每天一小时。",  # an everyday word, not quoted
        "过着优闲的日子，每天散步。",
        "这件事处理得妥当。",
        "我来曲靖出差，每天吃药。",  # a pronoun before, but a place name after
        "比赛增加了一项。",
        "皮质醇水平升高提示库欣综合征。",  # the hormone in a laboratory result
        "维生素K药物要遵医嘱。",  # 药 starts a longer word
        "T药店今天开门吗？",
        "I药代动力学研究。",
    ],
)
def test_ordinary_text_near_the_new_names_is_not_taken(drugs: DrugList, text: str) -> None:
    assert_untouched(drugs, text, (1, 3, 7))


def test_scan_prints_the_kinds_of_new_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "faq.txt"
    path.write_text("台湾朋友吃宜眠安\nPt on MDZ 2 mg iv\n换用奥氮 5mg qn\nThree Valiums a day\nmiso soup\n", "utf-8")
    assert main(["drugs", "scan", str(path)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [[(f["text"], f["kind"], f["drug"]) for f in line["found"]] for line in lines] == [
        [("宜眠安", "brand", "zopiclone")],
        [("MDZ", "abbreviation", "midazolam")],
        [("奥氮", "short", "olanzapine")],
        [("Valiums", "brand", "diazepam")],
        [],
    ]


def test_alias_sources_are_validated_at_load() -> None:
    header = "generic_en,alias,kind,source\n"
    [alias] = parse_aliases(header + "zopiclone,宜眠安,brand,hk_tw\n", "test.csv")
    assert (alias.kind, alias.source) == ("brand", "hk_tw")
    for bad in ("zopiclone,宜眠安,brand,internet\n", "zopiclone,宜眠安,brand\n", "zopiclone,宜眠安,brand,\n"):
        with pytest.raises(PromptError):
            parse_aliases(header + bad, "test.csv")
    # the hand-written file carries a known source on every row
    rows = parse_aliases((DATA / "drug_aliases.csv").read_text("utf-8"), "drug_aliases.csv")
    assert {a.source for a in rows} <= ALIAS_SOURCES and all(a.source for a in rows)


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("K药和O药到底哪个好，每三周打一次", "k药"),  # the checker's own letter rule: any character after
        ("HIV clinic: TDF/3TC-based regimen, 1 tablet daily", "3TC"),  # its own cut of "-based"
        ("He takes three Valiums a day.", "vaiium"),  # its own plural windows
    ],
)
def test_the_checker_reads_the_new_forms_by_its_own_rules(checker: LeakChecker, text: str, read: str) -> None:
    assert read in [leak.name for leak in checker.leaks(text)]


def test_the_checker_leaves_a_longer_word_of_yao(checker: LeakChecker) -> None:
    assert all(leak.name != "k药" for leak in checker.leaks("补充维生素K药物，每日一次"))
