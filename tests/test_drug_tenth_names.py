"""Tenth-session names and rules (issue 15): clinicians' clippings and trade names for many more drugs, with a source
column in the shorthand file; a prescription reach (a dose with a unit earlier in the answer makes a letter code a
drug by itself), a medicine noun after a form ("Gent trough"), naming, containing and route words; and the independent
checker's own rules against its false alarms (class names as clause breaks, dictionary words as no near miss)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.cli import main
from qa.drug_shorthand import parse_shorthand
from qa.drugs import ALIAS_SOURCES
from qa.errors import PromptError
from qa.eval.leaks import LeakChecker
from qa.validation import DrugList

from .helpers import assert_caught_everywhere, assert_found_and_redacted, assert_untouched

DATA = Path(__file__).resolve().parent.parent / "qa/data"


@pytest.mark.parametrize(
    ("text", "found", "drug"),
    [
        ("这种病以前用癌得星冲击治疗", "癌得星", "cyclophosphamide"),  # an older Chinese name
        ("柴浪丁是治疗失神发作的老药", "柴浪丁", "ethosuximide"),
        ("前列腺增生吃安普特半年了", "安普特", "dutasteride"),  # a mainland trade name
        ("The bartender slipped him a Mickey Finn.", "Mickey Finn", "chloral hydrate"),  # street names
        ("Found black beauties in his bag.", "black beauties", "amfetamine"),
        ("He sells xanbar halves at school.", "xanbar", "alprazolam"),
        ("Basal glargine was increased overnight.", "glargine", "insulin glargine"),  # an insulin by its own word
        ("She switched from L-dopa to a patch.", "L-dopa", "carbidopa/levodopa"),
    ],
)
def test_new_names_are_found_anywhere(drugs: DrugList, checker: LeakChecker, text: str, found: str, drug: str) -> None:
    assert [(m.found, m.drug) for m in drugs.find(text) if m.found == found] == [(found, drug)]
    assert_caught_everywhere(drugs, checker, text)


@pytest.mark.parametrize(
    ("text", "found", "drug", "kind"),
    [
        ("术后华法 3mg 每晚一次", "华法", "warfarin", "short"),  # new Chinese clippings in a drug context
        ("芬太 50μg iv 诱导", "芬太", "fentanyl", "short"),
        ("地尔 30mg tid 控制心室率", "地尔", "diltiazem", "short"),
        ("换用华法，每晚一次", "华法", "warfarin", "short"),
        ("化疗止吐：意美口服", "意美", "aprepitant", "short"),  # 口服 right after a two-character trade name
        ("倍欣饭前服用，降餐后血糖", "倍欣", "voglibose", "short"),  # 饭前 right after
        ("Started sert 50 mg daily", "sert", "sertraline", "abbreviation"),  # new letter clippings
        ("Switched to olap 300 mg bid", "olap", "olaparib", "abbreviation"),
        ("UTI: nitrofur 100 mg bid x5d", "nitrofur", "nitrofurantoin", "abbreviation"),
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
        # a dose with a unit earlier in the answer: a letter code is a drug without a cue beside it
        ("Ovarian: paclitaxel 175 mg/m2 q3w; DTX if neuropathy.", "DTX", "docetaxel"),
        ("Alteplase 0.9 mg/kg over 60 min. TNK not available on formulary.", "TNK", "tenecteplase"),
        # ...and a word form there, capitalised at the start of its clause
        ("Ceftriaxone 2 g IV q12h + vancomycin. Dex before the first antibiotic dose.", "Dex", "dexamethasone"),
        ("Gent trough 2.8 - too high. Hold next dose.", "Gent", "gentamicin"),  # a medicine noun after a form
        ("Oral doxy may be considered for up to 3 months", "doxy", "doxycycline"),  # a route word before
        ("Counterfeit pills in our area contain fent.", "fent", "fentanyl"),  # what a pill holds
        ("The blue pill gave me side effects", "blue pill", "sildenafil"),  # a two-word form takes medicine words
        ("瘦了很多，但司美这类药不建议自己网购来打", "司美", "semaglutide"),  # 这类药 right after
        ("多发性骨髓瘤患者使用反应停必须严格避孕，这个药当年致畸", "反应停", "thalidomide"),
        ("科里大家都叫它“牛奶”，白色乳状的那个", "牛奶", "propofol"),  # a quoted word and a verb of naming
        ("我外公说他吃了十几年的“老鼠药”抗凝", "老鼠药", "warfarin"),
    ],
)
def test_new_context_rules(drugs: DrugList, text: str, found: str, drug: str) -> None:
    assert_found_and_redacted(drugs, text, found, drug)


@pytest.mark.parametrize(
    "text",
    [
        "The gent at the desk was helpful.",  # a word form with no medicine noun after it
        "Dex said he would call after 10 mg of reading.",  # capitalised, but no dose before it
        "I bought 500 g of flour. Dex will bake the bread.",  # a dose before, but a word form is not quoted
        "Oral exams are next week.",
        "The water contains iron.",
        "我们买了一箱牛奶，每天喝一杯。",  # an everyday word, not quoted
        "这种老鼠药毒性很强，放在高处。",
        "尼莫这条鱼很可爱。",  # a name (Nemo), no drug context
        "他叫拉贝，是德国商人。",
        "满意美食的味道。",  # a form inside another word
        "可威胁到他人的安全。",
        "这个地尔雅很好看。",
    ],
)
def test_ordinary_text_near_the_new_names_is_not_taken(drugs: DrugList, text: str) -> None:
    assert_untouched(drugs, text, (1, 3, 7))


def test_scan_prints_the_kinds_of_new_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "faq.txt"
    path.write_text("以前叫癌得星\n华法 3mg qn\nStarted sert 50 mg daily\n牛奶每天一杯\n", "utf-8")
    assert main(["drugs", "scan", str(path)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [[(f["text"], f["kind"], f["drug"]) for f in line["found"]] for line in lines] == [
        [("癌得星", "brand", "cyclophosphamide")],
        [("华法", "short", "warfarin")],
        [("sert", "abbreviation", "sertraline")],
        [],
    ]


def test_shorthand_sources_are_validated_at_load() -> None:
    header = "generic_en,short,case,source\n"
    [form] = parse_shorthand(header + "warfarin,华法,any,clinic\n", "test.csv")
    assert (form.short, form.source) == ("华法", "clinic")
    for bad in ("warfarin,华法,any,internet\n", "warfarin,华法,any\n", "warfarin,华法,any,\n"):
        with pytest.raises(PromptError):
            parse_shorthand(header + bad, "test.csv")
    # the packaged file carries a known source on every row
    forms = parse_shorthand((DATA / "drug_shorthand.csv").read_text("utf-8"), "drug_shorthand.csv")
    assert {f.source for f in forms} <= ALIAS_SOURCES and all(f.source for f in forms)


@pytest.mark.parametrize(
    "text",
    [
        "OUD program: opioid analgesic 8 mg SL daily",  # "program" is a dictionary word one letter from Prograf
        "calcineurin inhibitor immunosuppressant level drawn 30 min pre-dose.",  # "pre dose" beside Precose
        "噻嗪类利尿剂 25mg 每天一次",  # 尿剂每 sounds like 尿激酶 only across the class name
        "calcium channel blocker and statin, both in the morning",  # "and statin" beside sandostatin
        "Friend said he buys benzodiazepine bars online",  # "bars online" beside Apresoline
        '{"suggestions": ["ibuprofen 400 mg", "Rest", "Ice"]}',  # a JSON item's quotes do not quote a street name
    ],
)
def test_the_checker_leaves_class_names_and_dictionary_words(checker: LeakChecker, text: str) -> None:
    assert checker.leaks(text) == []


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("Take progaf 1 mg bid", "prograf"),  # a near miss that is no dictionary word still counts
        ("He was on atorvastatin 40 mg", "atorvastatin"),  # a class word inside a name is not cut out
        ("噻嗪类利尿剂和尿激酶", "尿激酶"),  # a name beside a class name still counts
        ("Take Prograf 1 mg bid", "prograf"),
        ('Street names: "ice", 10 mg a hit', "ice"),  # quoted in prose, not a JSON item
    ],
)
def test_the_checker_still_reads_real_names(checker: LeakChecker, text: str, read: str) -> None:
    assert read in [leak.name for leak in checker.leaks(text)]
