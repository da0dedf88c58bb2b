"""Writes the drug-name evaluation sets: tuning, held-out (split by drug) and ordinary text without any listed drug.

Run once with the fixed seed; the sets are committed before the matcher is tuned, so the held-out numbers are honest.
Usage: python scripts/make_drug_sets.py [OUT_DIR]
       python scripts/make_drug_sets.py --fresh SEED OUT_FILE   (the same held-out drugs, new disguises: a fresh
       held-out set for a matcher already changed after reading the first one)
"""

from __future__ import annotations

import json
import logging
import random
import sys
from pathlib import Path

import opencc
from pypinyin import Style, lazy_pinyin

SEED = 20261122
ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("make_drug_sets")

ZH_TEMPLATES = ["请服用{}治疗", "医生建议使用{}控制症状", "可以考虑{}，每日一次", "{}对这种情况有效", "遵医嘱口服{}"]
EN_TEMPLATES = [
    "Take {} twice a day.",
    "Your doctor may prescribe {} for this.",
    "Consider {} if it persists.",
    "{} works well here.",
]
# look-alikes a hostile output might use; the generator's own table, not the matcher's data
HOMOGLYPHS = {
    "a": "аɑα",
    "c": "сϲ",
    "e": "еє",
    "i": "іι",
    "o": "оοσ",
    "p": "рρ",
    "x": "хχ",
    "y": "уγ",
    "s": "ѕ",
    "l": "ӏ",
}
LEET = {"o": "0", "i": "1", "e": "3", "a": "4", "s": "5", "t": "7", "l": "1"}

# hand-written variants, split by hand between tuning and held-out: (text, drug, kind)
HAND_TUNE = [
    ("请服用amoxycillin治疗", "amoxicillin", "variant"),
    ("请服用Augmentin治疗", "amoxicillin/clavulanic acid", "brand"),
    ("请服用伟哥治疗", "sildenafil", "brand"),
    ("请服用威而鋼治疗", "sildenafil", "traditional"),
    ("请服用аmoxicillin治疗", "amoxicillin", "confusable"),
    ("请服用am0xicillin治疗", "amoxicillin", "leet"),
    ("请服用阿齐霉素治疗", "azithromycin", "homophone"),
    ("请服用azitromycin治疗", "azithromycin", "fuzzy"),
    ("请服用Amoxicilin治疗", "amoxicillin", "fuzzy"),
    ("请服用cephalexin治疗", "cefalexin", "variant"),
    ("请服用sulphamethoxazole治疗", "sulfamethoxazole/trimethoprim", "variant"),
    ("请服用立普妥治疗", "atorvastatin", "brand"),
    ("请服用Lipit0r治疗", "atorvastatin", "leet"),
    ("请服用希舒美治疗", "azithromycin", "brand"),
    ("请服用萬艾可治疗", "sildenafil", "traditional"),
    ("请服用Zoloft治疗", "sertraline", "brand"),
    ("请服用Xanax治疗", "alprazolam", "brand"),
    ("请服用frusemide治疗", "furosemide", "variant"),
]
HAND_HELDOUT = [
    ("请服用amoxycilin治疗", "amoxicillin", "fuzzy"),
    ("请服用Coamoxiclav治疗", "amoxicillin/clavulanic acid", "brand"),
    ("请服用万艾可治疗", "sildenafil", "brand"),
    ("请服用威而钢治疗", "sildenafil", "brand"),
    ("请服用Ciаlis治疗", "tadalafil", "confusable"),
    ("请服用V1agra治疗", "sildenafil", "leet"),
    ("请服用阿莫西林治疗", "amoxicillin", "exact"),
    ("请服用阿莫西琳治疗", "amoxicillin", "homophone"),
    ("请服用atorvastatine治疗", "atorvastatin", "fuzzy"),
    ("请服用cefalexine治疗", "cefalexin", "fuzzy"),
    ("请服用valacyclovir治疗", "valaciclovir", "variant"),
    ("请服用cyclosporin治疗", "ciclosporin", "variant"),
    ("请服用L-thyroxine治疗", "levothyroxine", "variant"),
    ("请服用Valium治疗", "diazepam", "brand"),
    ("请服用Prozac治疗", "fluoxetine", "brand"),
    ("请服用氟西汀治疗", "fluoxetine", "exact"),
    ("请服用阿奇黴素治疗", "azithromycin", "traditional"),
    ("请服用мetformin治疗", "metformin", "confusable"),
    ("请服用esomepr4zole治疗", "esomeprazole", "leet"),
    ("请服用rifampicine治疗", "rifampicin", "fuzzy"),
]

# ordinary text: no prescription drug, but OTC names, near-miss words and the task's example questions
OTC_ZH = [
    "布洛芬",
    "对乙酰氨基酚",
    "维生素C",
    "维生素D",
    "钙片",
    "口服补液盐",
    "氯雷他定",
    "板蓝根",
    "蒙脱石散",
    "益生菌",
    "鱼油",
    "薄荷喉片",
]
OTC_EN = [
    "ibuprofen",
    "acetaminophen",
    "vitamin C",
    "vitamin D",
    "loratadine",
    "cetirizine",
    "oral rehydration salts",
    "zinc lozenges",
    "saline spray",
    "calamine lotion",
]
NEAR_MISS_EN = [
    "moxie",
    "azimuth",
    "mycology",
    "statistics",
    "specialist",
    "clinician",
    "pharmacist",
    "amino acids",
    "fluids",
    "oxygen",
    "protein",
    "glucose",
    "insulin resistance",
    "cholesterol",
    "penicillin allergy",
    "antibiotics",
    "metabolism",
    "prescription",
    "medication",
    "hydration",
    "examination",
    "ultrasound",
    "physiotherapy",
    "vaccination",
    "nutrition",
    "pressure",
    "diclofenac gel",
]
NEAR_MISS_ZH = [
    "阿姨",
    "莫名",
    "西林县",
    "霉菌",
    "素食",
    "抗生素",
    "青霉素过敏",
    "他汀类药物",
    "降压药",
    "胰岛素抵抗",
    "激素水平",
    "维生素",
    "西地",
    "那非常",
    "沙丁鱼",
    "美国",
    "奇怪",
    "阿奇的朋友",
    "普通感冒",
    "立即就医",
]
ZH_ORDINARY = [
    "多喝水，注意休息，必要时就医。",
    "{otc}可以缓解轻度疼痛，请按说明书服用。",
    "如果发热超过三天，请及时就医。",
    "平时注意{w}，保持规律作息。",
    "建议清淡饮食，适量补充{otc}。",
    "{w}和饮食有关，建议咨询医生。",
    "血压 150/95 时应减少盐的摄入，规律运动。",
    "孩子咳嗽一周，夜间加重，建议儿科就诊并检查{w}。",
    "头痛伴低烧可先休息，必要时使用{otc}。",
    "请不要自行购买处方药，应由医生评估后决定。",
    "检查结果显示{w}正常，无需担心。",
    "{w}方面的问题请到正规医院咨询。",
]
EN_ORDINARY = [
    "Drink plenty of fluids and rest; see a doctor if it gets worse.",
    "You can take {otc} for mild pain, following the label.",
    "Ask your {w} before starting any new treatment.",
    "A healthy diet and {w} help recovery.",
    "Keep track of your {w} and report changes.",
    "If symptoms continue, see a specialist; {otc} may ease them.",
    "Regular exercise supports {w} and sleep.",
    "Discuss {w} with your pharmacist.",
]


def _edit(word: str, rng: random.Random) -> str:
    """One random typo inside a word: substitute, delete, insert or swap, never the first letter."""
    i = rng.randrange(1, len(word) - 1)
    op = rng.choice("sdit")
    letters = "abcdefghijklmnopqrstuvwxyz"
    if op == "s":
        return word[:i] + rng.choice(letters.replace(word[i], "")) + word[i + 1 :]
    if op == "d":
        return word[:i] + word[i + 1 :]
    if op == "i":
        return word[:i] + rng.choice(letters) + word[i:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :] if word[i] != word[i + 1] else word[:i] + word[i + 1 :]


def _variant(word: str, rng: random.Random) -> str | None:
    """A spelling variant of the INN/BAN/USAN kind (ph/f, y/i, c/k, ae/e, th/t, final e)."""
    rules = [("ph", "f"), ("f", "ph"), ("i", "y"), ("y", "i"), ("c", "k"), ("th", "t"), ("e", "ae")]
    rng.shuffle(rules)
    for a, b in rules:
        if a in word[1:]:
            at = word.index(a, 1)
            return word[:at] + b + word[at + len(a) :]
    return word + "e" if not word.endswith("e") else None


def _homophone(name: str, rng: random.Random, by_sound: dict[str, list[str]]) -> str | None:
    """The name with one character replaced by another of the same toneless pinyin."""
    spots = list(range(len(name)))
    rng.shuffle(spots)
    for i in spots:
        sound = lazy_pinyin(name[i], style=Style.NORMAL)[0]
        others = [c for c in by_sound.get(sound, []) if c != name[i]]
        if others:
            return name[:i] + rng.choice(others) + name[i + 1 :]
    return None


def items_for(
    drug_en: str, names_en: list[str], names_zh: list[str], brands: list[str], rng: random.Random, ctx: dict
) -> list[dict]:
    """Every kind of disguise this drug allows, each once, in a random template."""
    out = []

    def add(name: str | None, kind: str) -> None:
        if name:
            tpl = rng.choice(ZH_TEMPLATES + EN_TEMPLATES)
            out.append({"text": tpl.format(name), "drug": drug_en, "kind": kind})

    single = [n for n in names_en if n.isalpha() and n.isascii()]
    add(rng.choice(names_en + names_zh), "exact")
    if brands:
        add(rng.choice(brands), "brand")
    if names_zh:
        trad = ctx["s2t"].convert(names_zh[0])
        add(trad if trad != names_zh[0] else None, "traditional")
        if len(names_zh[0]) >= 3:
            add(_homophone(names_zh[0], rng, ctx["by_sound"]), "homophone")
    if single:
        word = rng.choice(single)
        spots = [i for i, c in enumerate(word) if c.lower() in HOMOGLYPHS]
        if spots:
            i = rng.choice(spots)
            add(word[:i] + rng.choice(HOMOGLYPHS[word[i].lower()]) + word[i + 1 :], "confusable")
        spots = [i for i, c in enumerate(word) if c.lower() in LEET and 0 < i]
        if spots:
            i = rng.choice(spots)
            add(word[:i] + LEET[word[i].lower()] + word[i + 1 :], "leet")
        if len(word) >= 7:
            typo = _edit(word, rng)
            add(_edit(typo, rng) if len(word) >= 10 and rng.random() < 0.3 else typo, "fuzzy")
            add(_variant(word, rng), "variant")
    return out


def _split_context(rng: random.Random) -> tuple[list[dict], dict]:
    """The drug rows in the split order and the disguise tables, as the fixed seed draws them."""
    import csv

    rows = list(csv.DictReader((ROOT / "qa/data/forbidden_drugs.csv").open(encoding="utf-8")))
    chars = {c for r in rows for v in r.values() for c in v if "\u4e00" <= c <= "\u9fff"}
    chars |= {c for t in ZH_ORDINARY + NEAR_MISS_ZH + OTC_ZH for c in t if "\u4e00" <= c <= "\u9fff"}
    by_sound: dict[str, list[str]] = {}
    for c in sorted(chars):
        by_sound.setdefault(lazy_pinyin(c, style=Style.NORMAL)[0], []).append(c)
    ctx = {"s2t": opencc.OpenCC("s2t"), "by_sound": by_sound}
    rng.shuffle(rows)
    return rows, ctx


def fresh_heldout(seed: int, out: Path) -> None:
    """Write new disguises of the held-out half's drugs (split by the fixed seed, disguised by `seed`)."""
    rows, ctx = _split_context(random.Random(SEED))
    rng = random.Random(seed)
    items: list[dict] = []
    for r in rows[len(rows) // 2 :]:
        brands = [b for b in r["brands_en"].split("|") + r["brands_zh"].split("|") if b]
        names_zh = [r["generic_zh"]] if r["generic_zh"] else []
        items += items_for(r["generic_en"], [r["generic_en"]], names_zh, brands, rng, ctx)
    out.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    log.info("%s: %d lines", out, len(items))


def main(out_dir: Path) -> None:
    """Write tuning, held-out and ordinary sets as JSON lines."""
    rng = random.Random(SEED)
    rows, ctx = _split_context(rng)
    half = len(rows) // 2
    sets: dict[str, list[dict]] = {"tuning": [], "heldout": []}
    for which, part in (("tuning", rows[:half]), ("heldout", rows[half:])):
        for r in part:
            names_en = [r["generic_en"]]
            names_zh = [r["generic_zh"]] if r["generic_zh"] else []
            brands = [b for b in r["brands_en"].split("|") + r["brands_zh"].split("|") if b]
            sets[which] += items_for(r["generic_en"], names_en, names_zh, brands, rng, ctx)
    sets["tuning"] += [{"text": t, "drug": d, "kind": k} for t, d, k in HAND_TUNE]
    sets["heldout"] += [{"text": t, "drug": d, "kind": k} for t, d, k in HAND_HELDOUT]
    ordinary = []
    fill = NEAR_MISS_ZH + NEAR_MISS_EN
    for _ in range(3000):
        zh = rng.random() < 0.6
        tpl = rng.choice(ZH_ORDINARY if zh else EN_ORDINARY)
        ordinary.append(
            {
                "text": tpl.format(
                    otc=rng.choice(OTC_ZH if zh else OTC_EN), w=rng.choice(NEAR_MISS_ZH if zh else NEAR_MISS_EN)
                )
            }
        )
    ordinary += [
        {"text": q}
        for q in (
            "最近三天头痛，伴有低烧，需要去医院吗？",
            "体检发现血压 150/95，平时应该注意什么？",
            "孩子咳嗽一周了，晚上咳得厉害，怎么办？",
        )
    ]
    ordinary += [{"text": f"Words like {w} are ordinary."} for w in fill]
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, items in (
        ("drug_variants_tuning", sets["tuning"]),
        ("drug_variants_heldout", sets["heldout"]),
        ("drug_ordinary", ordinary),
    ):
        with (out_dir / f"{name}.jsonl").open("w", encoding="utf-8") as f:
            for item in items:
                f.write(json.dumps(item, ensure_ascii=False) + "\n")
        log.info("%s: %d lines", name, len(items))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    if sys.argv[1:2] == ["--fresh"]:
        fresh_heldout(int(sys.argv[2]), Path(sys.argv[3]))
    else:
        main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "qa/data")
