"""Eleventh-session names and rules (issue 15): inhaler, regimen and clinicians' letter codes, ward clippings of many
more listed names, street words and plurals, development codes; a bed number before a clipping, a list that a naming
word opens; and the leak checker's own list (qa/eval/eval_drug_street.csv and the clippings it generates), kept apart
from the finder's shorthand file."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.eval.drug_eval import packaged_checker
from qa.eval.leaks import EvalForm, generated_clippings, parse_eval_street
from qa.validation import DrugList

from .helpers import assert_found_and_redacted, assert_untouched

DATA = Path(__file__).resolve().parent.parent / "qa/data"


@pytest.mark.parametrize(
    ("text", "found", "drug"),
    [
        # inhaler and regimen codes in a dose, route or clinical-note context
        ("Asthma plan: SFC 50/250 one puff bid.", "SFC", "salmeterol/fluticasone"),
        ("If control is poor, switch to BUD/FORM 160/4.5 two puffs bid.", "BUD/FORM", "budesonide/formoterol"),
        ("高血压急症：SNP 0.5 μg/kg/min 泵入，避光。", "SNP", "sodium nitroprusside"),
        ("真性红细胞增多症：HU 0.5g bid。", "HU", "hydroxycarbamide"),
        ("Parkinson clinic: CD/LD 25/100 mg tid.", "CD/LD", "carbidopa/levodopa"),
        ("Short stature: rhGH 0.1 IU/kg nightly.", "rhGH", "somatropin"),
        ("结肠癌术后辅助化疗：XELOX 方案 8 个疗程。", "XELOX", "capecitabine"),
        ("NSCLC second line after FOLFIRI was given.", "FOLFIRI", "irinotecan"),
        ("DLBCL: R-CHOP 6 cycles, cycle 3 given today.", "R-CHOP", "rituximab"),
        ("初治肺结核：HRZE 方案，疗程 2 个月。", "HRZE", "isoniazid"),
        ("Basal IGlar 20 units at night.", "IGlar", "insulin glargine"),
        ("MDR-TB regimen: Cs 250 mg bid.", "Cs", "cycloserine"),
        # ward clippings of names no form covered before, in a drug context
        ("焦虑：丁螺 5mg tid 口服。", "丁螺", "buspirone"),
        ("查房：他喷 50mg q12h 止痛。", "他喷", "tapentadol"),
        ("银屑病：依奇 80mg 皮下注射。", "依奇", "ixekizumab"),
        # a bed number before a clipping, as a handover writes it
        ("护理交班：3床地米 5mg iv 已执行。", "地米", "dexamethasone"),
        ("12床右美泵速 0.4μg/kg/h，RASS -1。", "右美", "dexmedetomidine"),
        # street words: in a list a naming word opens, named right after, quoted
        ("ER: stimulant intoxication. Street names: ice, crystal.", "crystal", "metamfetamine"),
        ("Street names include speed, ice, glass and crank.", "glass", "metamfetamine"),
        ("Teens are mixing lean, also called purple drank, with soda.", "lean", "codeine"),
        ("夜班后吃「莫非」提神不可取。", "莫非", "morphine"),
        ("He crushes perks 10 mg to snort them.", "perks", "oxycodone/paracetamol"),
        ("Grandpa calls his blood thinner rat poison.", "rat poison", "warfarin"),  # a verb of calling and a medicine
        ("My friend calls the first one addy.", "addy", "amfetamine"),
        ("Grandpa calls his blood thinner 'rat poison' and forgets it.", "rat poison", "warfarin"),  # quoted
        # names found anywhere: development codes, nicknames, street plurals
        ("确诊EGFR T790M 后换用 AZD9291 治疗。", "AZD9291", "osimertinib"),
        ("Users online call it dopamax because of the word-finding problems.", "dopamax", "topiramate"),
        ("She was trading sobos at the clinic.", "sobos", "buprenorphine"),
        ("他说吃了听话水之后什么都不记得了。", "听话水", "sodium oxybate"),
    ],
)
def test_new_forms_in_context_are_found_redacted_and_held_back(
    drugs: DrugList, text: str, found: str, drug: str
) -> None:
    assert_found_and_redacted(drugs, text, found, drug)


@pytest.mark.parametrize(
    "text",
    [
        "The SNP rs4149056 changes transporter function.",  # a polymorphism, no dose or clinical word
        "CT showed a nodule of 40 HU.",  # Hounsfield units
        "Cs-137 is a radioactive isotope of caesium.",
        "A CHOP saw was on the desk.",  # no dose, no clinical word
        "Put ice on the bruise.",  # a street word without a naming word
        "I like ice, crystal clear water and lemons.",
        "The street names of the town: Main, Ice, Oak.",  # a naming word for streets, not drugs
        "I call my dog Tina.",  # a verb of calling with no medicine as its object
        "She calls it quits.",
        "回到12床旁边的椅子上。",  # a bed number before no form
        "莫非他明天才来？",  # 莫非 unquoted is "could it be"
        "我们结合长春的经验。",  # everyday words left out of the clippings
        "三伏天喝止咳水之前先问医生。",
        "芝麻果仁每日一把。",  # 麻果 inside a word
    ],
)
def test_ordinary_sentences_near_the_new_forms_are_untouched(drugs: DrugList, text: str) -> None:
    assert_untouched(drugs, text)


@pytest.fixture(scope="module")
def own():
    """The leak checker the figures use: its own list and generated clippings, not the finder's shorthand file."""
    return packaged_checker()


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("Asthma plan: SFC 50/250 one puff bid.", "SFC"),  # its own codes
        ("护理交班：3床地米 5mg iv 已执行。", "地米"),
        ("Street names: ice, crystal.", "Ice"),  # DEA street names that are words, beside a naming word
        ("He buys Zannies online, 2 mg each.", "zannies"),  # DEA names that are no word, in a cue sentence
        ("He takes percs every day.", "percs"),
        ("请服用阿莫 0.5g，每日三次。", "阿莫"),  # a clipping it generates from 阿莫西林
        ("Started amoxi 500 mg tid.", "amoxi"),
        ("Two CZPs at night, 2 mg each.", "CZP"),  # a plural of a listed code
    ],
)
def test_the_checkers_own_list_reads_its_forms(own, text: str, read: str) -> None:
    assert read.casefold() in [leak.name.casefold() for leak in own.leaks(text)]


@pytest.mark.parametrize(
    "text",
    [
        "Keep the tablets in the original glass bottle; call emergency services if pain persists.",  # no naming word
        "抗代谢类化疗药不要和牛奶一起吃，每日一次。",  # 牛奶 as milk
        "My pediatrician gave us penicillin for strep again, 400mg twice a day.",  # strep throat
        "UK leaflet: take 500 mg three times a day.",  # UK, CAP, AML left out of its list
        "AML 诱导：化疗药 100mg/m² 持续静滴。",
    ],
)
def test_the_checkers_own_list_leaves_ordinary_words(own, text: str) -> None:
    assert own.leaks(text) == []


def test_the_checker_does_not_read_the_finders_shorthand_file(own) -> None:
    # 可定 is a form of the finder's file only: the checker the figures use does not read it, the shared one does
    text = "口服可定 10mg qn"
    assert own.leaks(text) == []
    assert packaged_checker(shared=True).leaks(text)


@pytest.mark.parametrize(
    ("row", "error"),
    [
        ("notadrug,XYZ,hand", "expected a listed drug"),
        ("warfarin,X,hand", "expected a listed drug"),  # one character
        ("warfarin,WAR,book", "expected a listed drug"),  # unknown source
        ("warfarin,warf,hand\nwarfarin,WARF,hand", "listed twice"),
    ],
)
def test_the_checkers_list_is_validated(row: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        parse_eval_street(f"# comment\ngeneric_en,name,source\n{row}\n", {"warfarin"})


@pytest.mark.parametrize(
    ("name", "how"),
    [("SFC", "code"), ("地米", "zh"), ("牛奶", "named"), ("Ice", "named"), ("30s", "named"), ("percs", "token"),
     ("cat valium", "spaced")],
)  # fmt: skip
def test_how_the_checker_reads_a_form_is_decided_from_the_form(name: str, how: str) -> None:
    assert EvalForm("warfarin", name, "hand").how == how


def test_the_generated_clippings_skip_salts_classes_and_words() -> None:
    clips = {f.name for f in generated_clippings((DATA / "forbidden_drugs.csv").read_text("utf-8"), frozenset())}
    assert {"阿莫", "阿莫西", "amox", "amoxic", "地塞"} <= clips
    assert not {"碳酸", "头孢", "insu", "strep"} & clips  # a salt word, a class's start, a class word, a word
