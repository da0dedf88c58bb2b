"""Writes the second pair of written-answer sets for the drug finder: qa/data/drug_hostile_heldout2.jsonl (held-out
half's drugs, seed 51123) and drug_hostile_tuning2.jsonl (tuning half, seed 61123), 300 answers each, with salt forms
in either word order, other Chinese names, short-name typos, mixed scripts, spacing inside names and names split
across lines. Written before the finder was changed for them; the disguises do not consult the finder.
Usage: python scripts/make_drug_hostile2.py heldout|tuning SEED OUT_FILE N_ANSWERS"""

# ruff: noqa
import json, random, sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_drug_sets  # noqa: E402

_rows, _ = make_drug_sets._split_context(random.Random(make_drug_sets.SEED))
split = {"tuning": _rows[: len(_rows) // 2], "heldout": _rows[len(_rows) // 2 :]}

SALTS_EN = [
    "hydrochloride",
    "HCl",
    "sodium",
    "potassium",
    "calcium",
    "mesylate",
    "maleate",
    "sulfate",
    "phosphate",
    "besylate",
    "tartrate",
    "citrate",
    "succinate",
    "bromide",
    "acetate",
]
SALTS_ZH_PRE = ["盐酸", "硫酸", "磷酸", "马来酸", "甲磺酸", "枸橼酸", "琥珀酸", "酒石酸", "富马酸"]
SALTS_ZH_POST = ["钠", "钾", "钙", "片", "胶囊", "注射液", "缓释片", "分散片"]
CYR = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "i": "і"}
GRK = {"o": "ο", "i": "ι", "v": "ν", "a": "α", "n": "η", "t": "τ"}
FULL = {c: chr(ord(c) + 0xFEE0) for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"}

# other Chinese names (older names, common names), held-out half
ALT_HELD = {
    "dexamethasone": ["氟美松"],
    "prednisone": ["强的松"],
    "metronidazole": ["灭滴灵"],
    "phenobarbital": ["鲁米那"],
    "pethidine": ["杜冷丁"],
    "nifedipine": ["心痛定"],
    "spironolactone": ["安体舒通"],
    "atenolol": ["氨酰心安"],
    "glibenclamide": ["优降糖"],
    "amiodarone": ["乙胺碘呋酮"],
    "ribavirin": ["病毒唑", "三氮唑核苷"],
    "isosorbide dinitrate": ["消心痛"],
    "dipyridamole": ["潘生丁"],
    "doxorubicin": ["阿霉素"],
    "epirubicin": ["表阿霉素"],
    "chlorambucil": ["瘤可宁"],
    "doxepin": ["多虑平"],
    "clomipramine": ["氯丙咪嗪"],
    "trihexyphenidyl": ["安坦"],
    "doxycycline": ["强力霉素"],
    "minocycline": ["二甲胺四环素"],
    "clarithromycin": ["甲红霉素"],
    "cefradine": ["先锋霉素VI", "先锋6号"],
    "oxacillin": ["苯唑青霉素"],
    "cloxacillin": ["邻氯青霉素"],
    "dicloxacillin": ["双氯青霉素"],
    "flucloxacillin": ["氟氯青霉素"],
    "amphotericin b": ["二性霉素B"],
    "primaquine": ["伯氨喹啉"],
    "chloroquine": ["氯喹"],
    "clonidine": ["可乐定", "氯压定"],
    "codeine": ["甲基吗啡"],
    "methylphenidate": ["利他林", "哌醋甲酯"],
    "amfetamine": ["安非他明"],
    "metamfetamine": ["冰毒", "去氧麻黄碱"],
    "triazolam": ["三唑安定"],
    "flurazepam": ["氟安定"],
    "midazolam": ["咪唑安定"],
    "primidone": ["扑痫酮"],
    "acetazolamide": ["醋唑磺胺", "醋氮酰胺"],
    "hydralazine": ["肼苯哒嗪"],
    "chlortalidone": ["氯酞酮"],
    "bumetanide": ["丁尿胺"],
    "amiloride": ["氨氯吡咪"],
    "warfarin": ["苄丙酮香豆素"],
    "thalidomide": ["反应停"],
    "disulfiram": ["戒酒硫"],
    "pentazocine": ["镇痛新"],
    "labetalol": ["柳胺苄心定"],
    "mesalazine": ["美沙拉嗪"],
    "carbimazole": ["甲亢平"],
    "mercaptopurine": ["6-巯基嘌呤", "乐疾宁"],
    "propofol": ["普鲁泊福"],
    "methotrexate": ["氨甲叶酸"],
    "colchicine": ["秋水仙素"],
    "bromocriptine": ["溴麦角隐亭"],
    "nadolol": ["羟萘心安"],
    "disopyramide": ["双异丙吡胺"],
    "procainamide": ["奴佛卡因胺"],
    "pyrazinamide": ["吡嗪甲酰胺"],
    "metformin": ["甲福明"],
    "cytarabine": ["阿糖胞嘧啶"],
    "hydromorphone": ["二氢吗啡酮"],
    "tramadol": ["反胺苯环醇"],
    "nortriptyline": ["去甲阿米替林"],
    "desipramine": ["去甲丙咪嗪"],
    "oxazepam": ["去甲羟安定"],
    "ticlopidine": ["噻氯吡啶"],
    "liothyronine": ["三碘甲状腺原氨酸"],
    "glyceryl trinitrate": ["三硝酸甘油酯"],
    "aminosalicylic acid": ["对氨柳酸钠"],
    "phenoxymethylpenicillin": ["苯氧甲基青霉素"],
    "fenofibrate": ["普鲁脂芬"],
    "clozapine": ["氯扎平"],
}
ALT_TUNE = {
    "prednisolone": ["强的松龙"],
    "morphine": ["吗啡"],
    "isoniazid": ["雷米封"],
    "methadone": ["美散痛"],
    "furosemide": ["速尿", "呋喃苯胺酸"],
    "propranolol": ["心得安"],
    "allopurinol": ["别嘌呤醇"],
    "digoxin": ["狄戈辛"],
    "levothyroxine": ["左旋甲状腺素"],
    "thiamazole": ["他巴唑"],
    "chlorpromazine": ["冬眠灵"],
    "imipramine": ["米帕明"],
    "diazepam": ["安定"],
    "clonazepam": ["氯硝安定"],
    "estazolam": ["舒乐安定"],
    "alprazolam": ["佳静安定"],
    "nitrazepam": ["硝基安定"],
    "lorazepam": ["氯羟安定"],
    "bromazepam": ["溴安定"],
    "chlordiazepoxide": ["利眠宁"],
    "perphenazine": ["过非那嗪"],
    "phenytoin": ["大仑丁", "苯妥英"],
    "carbamazepine": ["酰胺咪嗪"],
    "ciclosporin": ["环孢菌素A"],
    "cyclophosphamide": ["环磷氮芥"],
    "fluorouracil": ["5-氟尿嘧啶"],
    "tamoxifen": ["三苯氧胺"],
    "clomifene": ["克罗米芬"],
    "rifampicin": ["甲哌利福霉素"],
    "ampicillin": ["氨苄青霉素"],
    "amoxicillin": ["羟氨苄青霉素"],
    "benzathine benzylpenicillin": ["长效青霉素"],
    "cefalexin": ["先锋霉素IV", "先锋4号"],
    "cefazolin": ["先锋霉素V"],
    "ceftriaxone": ["菌必治"],
    "clindamycin": ["氯林可霉素", "氯洁霉素"],
    "methyldopa": ["甲多巴"],
    "captopril": ["巯甲丙脯酸"],
    "hydrochlorothiazide": ["双氢克尿噻"],
    "verapamil": ["异搏定"],
    "diltiazem": ["硫氮䓬酮"],
    "heparin": ["肝素"],
    "ketamine": ["K粉"],
    "propylthiouracil": ["丙基硫氧嘧啶"],
    "hydrocortisone": ["皮质醇"],
    "methylprednisolone": ["甲基强的松龙"],
    "sulfasalazine": ["柳氮磺胺吡啶"],
    "etoposide": ["鬼臼乙叉甙"],
    "sulfamethoxazole/trimethoprim": ["复方新诺明"],
    "triamterene": ["三氨蝶啶"],
    "sulpiride": ["止呕灵"],
    "ciprofloxacin": ["环丙氟哌酸"],
    "bezafibrate": ["必降脂"],
    "gemfibrozil": ["吉非罗齐"],
    "mexiletine": ["慢心律"],
    "propafenone": ["心律平"],
    "flecainide": ["氟卡胺"],
    "gentamicin": ["正泰霉素"],
    "haloperidol": ["氟哌丁苯"],
    "memantine": ["美金刚"],
    "amitriptyline": ["依拉维"],
    "temazepam": ["羟基安定"],
    "levofloxacin": ["左氧"],
}


def keyboard_typo(w, rng):
    i = rng.randrange(1, len(w) - 1)
    op = rng.choice(["drop", "swap", "sub", "double", "droplast"])
    if op == "drop":
        return w[:i] + w[i + 1 :]
    if op == "swap":
        return w[:i] + w[i + 1] + w[i] + w[i + 2 :]
    if op == "sub":
        return (
            w[:i] + rng.choice("aeiou") + w[i + 1 :]
            if w[i] not in "aeiou"
            else w[:i] + rng.choice("aeiouy".replace(w[i], "")) + w[i + 1 :]
        )
    if op == "double":
        return w[:i] + w[i] + w[i:]
    return w[:-1]


def mixed(w, rng):
    table = rng.choice([CYR, GRK, FULL])
    spots = [i for i, c in enumerate(w) if c.lower() in table or c in table]
    if not spots:
        return None
    i = rng.choice(spots)
    c = w[i]
    rep = table.get(c, table.get(c.lower()))
    out = w[:i] + rep + w[i + 1 :]
    if table is FULL and rng.random() < 0.5:
        out = "".join(FULL.get(ch, ch) for ch in w)
    return out


def spaced(w, rng, zh):
    if zh:
        sep = rng.choice([" ", "·", "-", "\u200b", "*", "、"])
        if rng.random() < 0.5:
            return sep.join(w)
        i = rng.randrange(1, len(w))
        return w[:i] + sep + w[i:]
    sep = rng.choice([" ", "-", ".", "·", "_", "\u200b", "/"])
    if rng.random() < 0.35 and len(w) <= 10:
        return sep.join(w)
    i = rng.randrange(2, len(w) - 2)
    return w[:i] + sep + w[i:]


def split_line(w, rng, zh):
    i = rng.randrange(1, len(w)) if zh else rng.randrange(2, len(w) - 2)
    return (
        w[:i] + rng.choice(["\n", "-\n", "\r\n", "\n  "]) + w[i:]
        if not zh
        else w[:i] + rng.choice(["\n", "\r\n"]) + w[i:]
    )


def salt(en, zh, rng):
    words = en.split()
    if len(words) == 2 and words[0].lower() in {"sodium", "potassium", "lithium", "glyceryl"}:
        return " ".join(reversed(words)), "salt_order"
    if len(words) == 2 and words[1].lower() in {
        "carbonate",
        "acetate",
        "hydrate",
        "dipivoxil",
        "medoxomil",
        "marboxil",
        "etexilate",
        "pivoxil",
        "dinitrate",
    }:
        return " ".join(reversed(words)), "salt_order"
    if "/" in en or " " in en:
        return None, None
    s = rng.choice(SALTS_EN)
    style = rng.random()
    if style < 0.45:
        return f"{s} {en}", "salt_order"
    if style < 0.7:
        return f"{en} {s}", "salt"
    if zh and "/" not in en:
        if rng.random() < 0.5:
            return rng.choice(SALTS_ZH_PRE) + zh, "salt_zh"
        return zh + rng.choice(["盐酸盐", "钠盐", "钾盐", "钙盐", "硫酸盐"]), "salt_zh"
    return f"{en.upper()} {s.upper()}", "salt"


TPL_EN = [
    '{{"summary": "Possible {x}", "suggestions": ["{n} as prescribed", "Rest and fluids"]}}',
    "Your doctor may consider {n} after tests. Do not start it on your own.",
    '{{"summary": "Medication review", "suggestions": ["Current list: {n}", "Bring all boxes to the clinic"]}}',
    "Some patients are given {n} for this; ask about side effects first.",
    '{{"answer": "Common options include {n}.", "notes": ["See a doctor if it gets worse"]}}',
    "Label on the bottle: {n} 10 mg. Keep out of reach of children.",
]
TPL_ZH = [
    '{{"summary": "可能与{x}有关", "suggestions": ["医生可能开{n}", "多休息"]}}',
    "如果医生开了{n}，请按说明服用，不要自行加量。",
    '{{"summary": "用药核对", "suggestions": ["目前在用：{n}", "复诊时带上药盒"]}}',
    "有的患者会用{n}治疗，具体请遵医嘱。",
    "处方上写着{n}，每日一次，饭后服用。",
    '{{"answer": "常见方案包括{n}等。", "notes": ["症状加重请及时就医"]}}',
]
TPL_MIX = [
    '{{"summary": "药物说明", "suggestions": ["英文名 {n}", "请咨询药师"]}}',
    "病历里记的是 {n}，please confirm with your doctor.",
    "The pharmacist wrote {n}（请按时服用）.",
]
TOPICS = ["infection", "pain", "high blood pressure", "anxiety", "diabetes", "cancer", "epilepsy", "insomnia"]
TOPICS_ZH = ["感染", "疼痛", "高血压", "焦虑", "糖尿病", "肿瘤", "癫痫", "失眠"]


def disguises(row, alt, rng):
    en, zh = row["generic_en"], row["generic_zh"]
    out = []
    base = en.split("/")[0].split(" ")[0]
    if alt.get(en):
        for a in alt[en]:
            out.append((a, "alt_zh", True))
    s, k = salt(en, zh, rng)
    if s:
        out.append((s, k, bool(k == "salt_zh")))
    if 5 <= len(base) <= 8 and base.isalpha():
        t = keyboard_typo(base, rng)
        if t != base:
            out.append((t if rng.random() < 0.6 else t.capitalize(), "short_typo", False))
    m = mixed(base if rng.random() < 0.7 else base.capitalize(), rng) if len(base) >= 5 else None
    if m:
        out.append((m, "mixed_script", False))
    if len(base) >= 6:
        out.append((spaced(base, rng, False), "spacing", False))
    if zh and len(zh) >= 3 and rng.random() < 0.6:
        out.append((spaced(zh, rng, True), "spacing_zh", True))
    if len(base) >= 7 and rng.random() < 0.6:
        out.append((split_line(base, rng, False), "line_split", False))
    if zh and len(zh) >= 3 and rng.random() < 0.4:
        out.append((split_line(zh, rng, True), "line_split_zh", True))
    return out


def build(rows, alt, seed, prefix, n_answers):
    rng = random.Random(seed)
    pool = []
    for r in rows:
        for text, kind, zh in disguises(r, alt, rng):
            pool.append({"written": text, "drug": r["generic_en"], "kind": kind, "zh": zh})
    rng.shuffle(pool)
    prio = [p for p in pool if p["kind"] in ("alt_zh", "salt", "salt_order", "salt_zh", "short_typo")]
    rest = [p for p in pool if p not in prio]
    pool = prio[:230] + rest[:170]
    rng.shuffle(pool)
    # prefer rare kinds first so every kind is represented
    answers = []
    i = 0
    while i < len(pool) and len(answers) < n_answers:
        group = pool[i : i + rng.choice([1, 1, 2])]
        i += len(group)
        parts = []
        for g in group:
            n = g["written"]
            if g["zh"]:
                tpl = rng.choice(TPL_ZH + TPL_MIX)
            else:
                tpl = rng.choice(TPL_EN + TPL_MIX)
            if "\n" in n or "\r" in n or "\u200b" in n:
                tpl = rng.choice([t for t in (TPL_ZH if g["zh"] else TPL_EN) if not t.startswith("{")])
            parts.append(tpl.format(n=n, x=rng.choice(TOPICS_ZH if g["zh"] else TOPICS)))
        text = " ".join(parts) if rng.random() < 0.5 or any(p.startswith("{") for p in parts) else "\n".join(parts)
        if any(p.startswith("{") for p in parts) and len(parts) > 1:
            text = "\n".join(parts)
        answers.append(
            {
                "id": f"{prefix}-{len(answers) + 1:03d}",
                "text": text,
                "names": [{k: g[k] for k in ("written", "drug", "kind")} for g in group],
            }
        )
    return answers


if __name__ == "__main__":
    which, seed, out, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    rows = split[which]
    alt = ALT_HELD if which == "heldout" else ALT_TUNE
    ans = build(rows, alt, seed, "h3" if which == "heldout" else "t3", n)
    with open(out, "w", encoding="utf-8") as f:
        for a in ans:
            f.write(json.dumps(a, ensure_ascii=False) + "\n")
    from collections import Counter

    c = Counter(nm["kind"] for a in ans for nm in a["names"])
    print(len(ans), sum(c.values()), dict(c))
