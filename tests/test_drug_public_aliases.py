"""The other Chinese names from public sources (qa/data/drug_aliases_cedict.csv, drug_aliases_cmekg.csv): found in
the question, the answer and the stream, never in ordinary words, and built by rules that can be checked on small
made-up records (scripts/build_drug_aliases_public.py)."""

from __future__ import annotations

import importlib.util
import io
import pickle
import sys
from pathlib import Path

import pytest

from qa.drugs import fold_key, parse_aliases, parse_allowlist
from qa.eval.drug_eval import stream
from qa.eval.leaks import LeakChecker
from qa.validation import DrugList
from qa.wiring import DRUG_PUBLIC_ALIASES

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "qa/data"


def _build_script():
    spec = importlib.util.spec_from_file_location(
        "build_drug_aliases_public", ROOT / "scripts/build_drug_aliases_public.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def build():
    return _build_script()


@pytest.mark.parametrize(
    ("text", "found", "drug"),
    [
        ("合心爽能吃吗", "合心爽", "diltiazem"),  # CMeKG: 商品名 of 盐酸地尔硫卓片
        ("医生开了潘生丁", "潘生丁", "dipyridamole"),  # CMeKG
        ("睡不着就吃多虑平", "多虑平", "doxepin"),  # CMeKG
        ("以前叫氨酰心安", "氨酰心安", "atenolol"),  # CMeKG: an older Chinese name
        ("孩子在吃利他灵", "利他灵", "methylphenidate"),  # CC-CEDICT
        ("普罗扎克一天一片", "普罗扎克", "fluoxetine"),  # CC-CEDICT
        ("醫生開了多慮平", "多慮平", "doxepin"),  # traditional characters fold as for any name
    ],
)
def test_a_public_alias_is_found_redacted_and_held_back_in_streams(
    drugs: DrugList, checker: LeakChecker, text: str, found: str, drug: str
) -> None:
    assert [(m.found, m.drug) for m in drugs.find(text)] == [(found, drug)]
    redacted, _ = drugs.redact(text)
    assert found not in redacted
    assert checker.leaks(text) and not checker.leaks(redacted)  # the checker reads the same list, its own way
    for size in range(1, 9):
        assert stream(drugs, text, size) == redacted, size


def test_no_homophone_stands_for_a_public_name(drugs: DrugList) -> None:
    # coined trade names share their sound-carrying characters with transliterated names: 易夫林 (nimodipine)
    # reads as 伊夫林 (Evelyn), 山地明 (ciclosporin) as 山的明
    assert drugs.find("伊夫林说山的明天会下雨") == []
    assert [m.kind for m in drugs.find("易夫林")] == ["brand"]


@pytest.mark.parametrize(
    "text",
    [
        "他慢慢安定下来了",  # 安定 (diazepam in CC-CEDICT) is "stable": two characters are never taken
        "心脏病人吃东西要清淡",
        "心痛的时候要及时就医",
        "皮炎平软膏可以在药店买到",  # an over-the-counter product's name (dexamethasone cream) is left out
    ],
)
def test_ordinary_words_and_otc_names_are_not_taken(drugs: DrugList, text: str) -> None:
    assert drugs.find(text) == []


def test_every_public_alias_names_a_listed_drug_and_keeps_the_rules(drugs: DrugList) -> None:
    listed = {d.names[0].casefold() for d in drugs.drugs}
    allow = parse_allowlist((DATA / "drug_allowlist.txt").read_text("utf-8"))
    for name in DRUG_PUBLIC_ALIASES:
        aliases = parse_aliases((DATA / name).read_text("utf-8"), name)
        assert aliases, name
        assert [a.alias for a in aliases if a.generic_en.casefold() not in listed] == []
        assert [a.alias for a in aliases if sum("\u3400" <= c <= "\u9fff" for c in a.alias) < 3] == []
        assert [a.alias for a in aliases if fold_key(a.alias) in allow] == []


@pytest.mark.parametrize(
    ("written", "stripped"),
    [
        ("盐酸多西环素片", "多西环素"),
        ("注射用头孢拉定", "头孢拉定"),
        ("硝苯地平缓释片（I）", "硝苯地平"),
        ("善得定针", "善得定"),
        ("复方醋酸地塞米松乳膏", "复方醋酸地塞米松"),  # a compound is another product: 复方 and its salt stay
        ("托吡酯片", "托吡酯"),  # an ester is part of some generic names
    ],
)
def test_product_names_lose_their_form_and_salt_words(build, written: str, stripped: str) -> None:
    assert build._strip_zh(written) == stripped


@pytest.mark.parametrize(
    ("name", "fields", "drug"),
    [
        ("心痛定", {"通用名": ["硝苯地平片"], "英文名": ["Nifedipine Tablets"]}, "nifedipine"),
        ("盐酸多西环素片", {"英文名": ["Doxycycline Hyclate Tablets"]}, "doxycycline"),
        # a record mixing two products: one 通用名 is not a listed drug's
        ("美罗", {"通用名": ["注射用乳糖酸红霉素", "注射用硫酸链霉素"]}, None),
        # a trade-name entity without 通用名 whose English names disagree
        ("凯络", {"英文名": ["Aminobutyric Acid for Injection", "Carvedilol Capsules"]}, None),
        ("无名", {}, None),
    ],
)
def test_a_product_maps_to_one_listed_drug_or_none(build, name: str, fields: dict, drug: str | None) -> None:
    assert build._product_drug(name, fields, build.Listed()) == drug


def test_made_up_records_give_aliases_only_by_the_rules(build) -> None:
    listed = build.Listed()
    kg = {
        # 南岛 has two characters only
        "硝苯地平片": {"商品名": ["伲福达", "南岛"], "英文名": ["Nifedipine Tablets"], "药品类型": ["处方药"]},
        # the same trade name on another ingredient's product: neither drug gets it
        "盐酸多西环素片": {"商品名": ["共用名"], "英文名": ["Doxycycline Hyclate Tablets"]},
        "某某片": {"商品名": ["共用名"]},
        # an over-the-counter product's trade name
        "地塞米松乳膏": {"商品名": ["止痒平"], "药品类型": ["OTC甲类"]},
        "肺炎": {"ICD10": ["J18"], "别称": ["肺部感染"]},
    }
    assert build.cmekg_aliases(kg, listed, common=set()) == [("nifedipine", "伲福达", "brand")]
    # a name a general phrase list holds is a word or a name of something else
    assert build.cmekg_aliases(kg, listed, common=set(), phrases=frozenset({fold_key("伲福达")})) == []


def test_the_pickle_reader_refuses_anything_but_plain_data(build) -> None:
    with pytest.raises(pickle.UnpicklingError, match="only plain data"):
        build._DataOnly(io.BytesIO(pickle.dumps(Path("x")))).load()
    assert build._DataOnly(io.BytesIO(pickle.dumps({"a": ["b"]}))).load() == {"a": ["b"]}
