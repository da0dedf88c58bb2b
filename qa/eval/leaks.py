"""An independent leak checker for redacted drug names: a different algorithm from the redactor's finder.

The finder folds characters one by one and looks names up in a regex, a length-bucketed edit-distance index and a
pinyin index. This checker instead folds with its own small tables and OpenCC's phrase converter, then slides every
listed name over the whole text (rapidfuzz partial_ratio for Latin names, pinyin windows for Chinese ones). It is
slow and deliberately suspicious: anything it reports in a redacted output counts as a leak.

Clinical shorthand (MTX, 二甲) it reads its own way too: the finder scans for whole tokens with boundary rules and
weighs a window of context on each side; the checker cuts each sentence into tokens (Latin) or compares the
character after a short form with a list (Chinese), and counts a form when anything in the whole sentence hints at
a medicine — a looser test, so it errs towards reporting.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import numpy as np
import opencc
from pypinyin import Style, lazy_pinyin
from rapidfuzz import fuzz, process

# the checker's own look-alike and digit tables (small on purpose: the common Cyrillic/Greek forms)
_HOMOGLYPHS = str.maketrans(
    {
        "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "х": "x", "у": "y", "і": "i", "ѕ": "s", "ӏ": "l",
        "м": "m", "т": "t", "к": "k", "н": "h", "в": "b", "ɑ": "a", "α": "a", "ο": "o", "σ": "o", "ρ": "p",
        "ϲ": "c", "є": "e", "ι": "i", "χ": "x", "γ": "y", "ν": "v", "0": "o", "1": "i", "3": "e", "4": "a",
        "5": "s", "7": "t", "l": "i",
    }
)  # fmt: skip
_NON_LATIN = re.compile(r"[^a-z]+")
_NON_ALPHA = re.compile(r"[^a-z0-9]+")  # (digits kept: a leet word such as "c0nvert" is no dictionary word)
_WORD_SPLIT = re.compile(r"[\s,.;:!?\"'()\[\]{}<>/|\-]+")
# a name never spans a quote, a comma or a sentence end; windows stay inside these clauses
_CLAUSE_SPLIT = re.compile(r"[\"“”，。；：！？,;:!?]|\.\s")
_NON_CJK = re.compile(r"[^\u3400-\u9fff]+")
# shorthand: the letters-only look-alike table (digits stay digits: FK506, 3TC), sentences, tokens and cues
_SHORT_GLYPHS = {k: v for k, v in _HOMOGLYPHS.items() if not chr(k).isdigit() and chr(k) != "l"}
_SENTENCE = re.compile(r"[。！？!?；;\n]+")
_TOKEN = re.compile(r"[A-Za-z0-9_]+(?:[-‐‑–/][A-Za-z0-9_]+)*")
_CUE = re.compile(
    r"\d\s*(?:mg|mcg|µg|μg|ug|g|ml|iu|u|unit|mmol|毫克|克|毫升|单位|片|粒|支|针)|[一二两三半]\s*[片粒支针]"
    r"|\b(?:qd|bid|tid|qid|qn|qw|qod|prn|po|iv|im|sc|ivgtt|daily|weekly|dose\w*|tab\w*|pills?|capsules?|inject\w*"
    r"|infusion|regimen|levels?|trough|prescri\w*|start\w*|stop\w*|tak\w*|took|switch\w*|given|plus)\b"
    r"|服|吃|药|予|停|换|改用|加用|注射|静滴|输|泵|雾化|每日|每天|每周|每晚|剂量|浓度|疗程|方案|化疗"
    # the checker's own words for a name people use or a drug bought, sold or mixed (its list, not the finder's)
    r"|\b(?:slang|street|nick\w*|call\w*|known as|aka|refer\w*|buy\w*|bought|sell\w*|sold|pop\w*|snort\w*|mix\w*"
    r"|pharmac\w*)\b|俗称|叫|称|说的|毒品|麻醉",
    re.IGNORECASE,
)
# characters after 药 that make a longer word of it (药物 drug, 药店 pharmacy, 药代 pharmacokinetics, 药品, 药房)
_YAO_NEXT = set("物店代品房材师学厂企")
# a word joined to a Latin form by a hyphen, which the checker cuts off before comparing ("3TC-based" reads 3TC)
_JOINED_TAIL = re.compile(
    r"-(?:based|containing|induced|associated|related|resistant|sparing|treated|naive|refractory|free|only|like)$",
    re.IGNORECASE,
)
# characters that may stand before a Chinese form that is also an everyday word (安定 "stable", 双克): a verb of
# taking or giving, a conjunction or a list mark; another character makes it part of a phrase (病情安定, 社会安定)
_WORD_LEAD = set("服吃用予给加停换改开打注滴输和及与或、，,的了把将含 ")
# characters that may follow a Chinese short form (a number, a dose, a conjunction, a particle)
_SHORT_FOLLOW = set(
    "0123456789.一二两三四五六七八九十半片粒支针次每日天和及与或、，,的了吗呢吧啊是也都已等缓控停换改加减用剂 /+"
)

# a whole JSON list item of one to three words ("…", "Ice"]): its quotation marks delimit the string, they do not
# quote a name
_JSON_WHOLE = re.compile(r'(?:(?<=\[)|(?<=",))\s*"[^"\s]+(?:\s[^"\s]+){0,2}"(?=\s*(?:\]|,\s*"))')
# ...or a word of taking or timing it (its own list: 意美口服, 倍欣饭前服用, 派汀治疗)
_SHORT_FOLLOW_WORD = re.compile("口服|服用|饭前|饭后|餐前|餐后|静滴|静推|治疗|注射|用于")


# the checker's own words that say a form is a name people use, for its own list's forms that are ordinary words
# ("Ice", "Blues", "Speed"): read only in a sentence that says so, or between quotation marks
_NAMING = re.compile(
    r"\b(?:slang|street|nick\w*|calls?\s+(?:it|them|this|that|his|her|their|my|the)|called|calling it|known as|aka"
    r"|a\.k\.a|refer\w*|dubbed|goes by|so-called)\b"
    r"|俗称|外号|黑话|叫|称|绰号|江湖",
    re.IGNORECASE,
)
# ...and an ordinary word counts only this close to such a word ("Street names: ice", "lean, also called")
_NAMING_REACH = 25
# Chinese forms of its own list that are everyday words (牛奶 milk, 溜冰 skating): read like its English words
_ZH_ORDINARY = frozenset({"牛奶", "溜冰", "安定"})
# generated clippings: the first two or three characters of a Chinese name, the first four to six letters of a Latin
# word of seven or more; a clipping that ends a salt or acid word (碳酸, 硫酸) or is a class's start is no clipping
_SALT_END = set("酸钠钾钙镁盐化")
# clippings that are words of medicine of their own (strep throat)
_NOT_CLIPPINGS = frozenset({"strep"})
# the checker's own list of names (its file, not the finder's): qa/eval/eval_drug_street.csv
EVAL_STREET = "eval_drug_street.csv"


@dataclass(frozen=True)
class EvalForm:
    """One name of the checker's own list, and how the checker reads it (decided from the form itself)."""

    generic_en: str
    name: str
    source: str

    @property
    def how(self) -> str:
        """zh (Chinese), code (two capitals or more, read as written), named (ordinary words or digits: only where a
        sentence names it or quotes it), spaced (two words, one no word) or token (one word that is no word)."""
        if re.search(r"[\u3400-\u9fff]", self.name):
            return "named" if self.name in _ZH_ORDINARY else "zh"
        words = [w for w in re.split(r"[\s\-/.&']+", self.name.casefold()) if w]
        if sum(ch.isupper() for ch in self.name) >= 2 and " " not in self.name:
            return "code"
        if any(ch.isdigit() for ch in self.name) or all(_ordinary(w, _dictionary()) or len(w) < 3 for w in words):
            return "named"
        return "spaced" if " " in self.name else "token"


def parse_eval_street(text: str, drugs: set[str], where: str = EVAL_STREET) -> list[EvalForm]:
    """Read the checker's own list (generic_en, name, source; # comment lines first); a row naming no listed drug, a
    repeated row or an unknown source fails with its line."""
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    reader = csv.reader(io.StringIO("\n".join(lines)))
    if next(reader, None) != ["generic_en", "name", "source"]:
        raise ValueError(f"{where}: the header must be generic_en,name,source")
    out: list[EvalForm] = []
    seen: set[tuple[str, str]] = set()
    for n, row in enumerate(reader, 2):
        if not row:
            continue
        if len(row) != 3 or row[0] not in drugs or row[2] not in ("dea", "hand") or len(row[1].strip()) < 2:
            raise ValueError(f"{where}: row {n}: expected a listed drug, a name of 2+ characters, dea|hand: {row!r}")
        key = (row[0], row[1].strip().casefold())
        if key in seen:
            raise ValueError(f"{where}: row {n}: {row[1]!r} is listed twice for {row[0]}")
        seen.add(key)
        out.append(EvalForm(row[0], row[1].strip(), row[2]))
    return out


def generated_clippings(drug_csv: str, words: frozenset[str]) -> list[EvalForm]:
    """Clippings of every listed generic name by rule (the checker's own, from no hand list): 地塞 and 地塞米 from
    地塞米松, amox, amoxi, amoxic from amoxicillin; none that is a dictionary word, ends in a salt word or starts a
    class name."""
    t2s = opencc.OpenCC("t2s")
    rows = list(csv.DictReader(io.StringIO(drug_csv)))
    classes = [t2s.convert(r["class_zh"]) for r in rows]
    # a word a class name holds (insulin, sodium, acid) is written in answers on purpose: no clippings of it
    class_words = {w for r in rows for w in re.split(r"[\s/\-]+", r["class_en"].casefold())}
    out: dict[str, EvalForm] = {}
    for row in rows:
        zh = _NON_CJK.sub("", t2s.convert(row["generic_zh"]))
        for n in (2, 3):
            clip = zh[:n]
            if len(zh) > n and clip[-1] not in _SALT_END and not any(c.startswith(clip) for c in classes):
                out.setdefault(clip, EvalForm(row["generic_en"], clip, "generated"))
        for word in re.split(r"[\s/\-]+", row["generic_en"].casefold()):
            if len(word) < 7 or not word.isalpha() or word in class_words:
                continue
            for n in (4, 5, 6):
                clip = word[:n]
                if not _ordinary(clip, words) and clip not in _NOT_CLIPPINGS:
                    out.setdefault(clip, EvalForm(row["generic_en"], clip, "generated"))
    return list(out.values())


@cache
def _dictionary() -> frozenset[str]:
    """English dictionary words (web2 and GCIDE, lower case): the checker's own list of ordinary words, not the
    finder's allowlist; empty where the package is not installed (the checker then reads every near miss)."""
    try:
        from english_words import get_english_words_set
    except ImportError:  # a dev dependency: a runtime install has no checker to run
        return frozenset()
    return frozenset(get_english_words_set(["web2", "gcide"], lower=True, alpha=True))


def _ordinary(word: str, words: frozenset[str]) -> bool:
    """Whether a folded word is a dictionary word, in the English plural too ("bars", "statins")."""
    return word in words or any(word.endswith(e) and word[: -len(e)] in words for e in ("s", "es"))


@dataclass(frozen=True)
class Leak:
    """A listed name the checker still sees in a text."""

    name: str
    score: float


class LeakChecker:
    """Slides every listed name over a text; reports those still readable."""

    def __init__(
        self, drug_csv: str, *alias_csvs: str, shorthand_csv: str | None = None, own_csv: str | None = None
    ) -> None:
        """`shorthand_csv`: the finder's shorthand file (the tenth session's checker read it); `own_csv`: the checker's
        own list (eval_drug_street.csv), read with the clippings it generates from the drug list."""
        names: set[str] = set()
        classes: list[str] = []
        for row in csv.DictReader(io.StringIO(drug_csv)):
            classes += [row["class_en"], row["class_zh"]]
            names.update(
                [row["generic_en"], row["generic_zh"], *row["brands_en"].split("|"), *row["brands_zh"].split("|")]
            )
        for alias_csv in alias_csvs:
            for row in csv.DictReader(io.StringIO(alias_csv)):
                names.add(row["alias"])
        self._t2s = opencc.OpenCC("t2s")
        # shorthand: Latin forms by token (as written when the file says exact), Chinese forms by substring
        self.short_exact: set[str] = set()
        self.short_any: set[str] = set()
        self.short_zh: list[str] = []
        self.short_zh_word: set[str] = set()  # Chinese forms that are everyday words too
        # Latin forms of two words (Special K), read by word boundaries
        self.short_spaced: list[tuple[str, re.Pattern[str]]] = []
        # street names that are common words (case quoted: 'bars'), read only between quotation marks or brackets
        self.short_quoted: list[tuple[str, re.Pattern[str]]] = []
        if shorthand_csv:
            body = "\n".join(line for line in shorthand_csv.splitlines() if not line.startswith("#"))
            for row in csv.DictReader(io.StringIO(body)):
                form = row["short"].strip()
                if row["case"].strip() == "dosed":
                    continue  # (codes the finder takes only before a dose: met, MS — the checker has its own rules)
                if row["case"].strip() == "quoted":
                    words = r"\s+".join(map(re.escape, form.casefold().split()))
                    self.short_quoted.append((form, re.compile(rf"[\"'‘“(]\s*{words}\s*[\"'’”)]")))
                elif re.search(r"[\u3400-\u9fff]", form):
                    self.short_zh.append(form.casefold())
                    if row["case"].strip() == "word":
                        self.short_zh_word.add(form.casefold())
                elif " " in form:
                    words = r"\s+".join(map(re.escape, form.casefold().split()))
                    self.short_spaced.append((form, re.compile(rf"(?<![a-z0-9]){words}(?![a-z0-9])")))
                elif row["case"].strip() == "exact":
                    self.short_exact.add(form)
                else:
                    self.short_any.add(form.casefold())
        # the checker's own list and clippings: forms that are ordinary words, read only where a sentence names them
        self.short_named: list[tuple[str, re.Pattern[str], re.Pattern[str]]] = []
        if own_csv is not None:
            listed = {row["generic_en"] for row in csv.DictReader(io.StringIO(drug_csv))}
            own = parse_eval_street(own_csv, listed) + generated_clippings(drug_csv, _dictionary())
            for form in own:
                how, name = form.how, form.name
                if how == "zh":
                    if name.casefold() not in self.short_zh:
                        self.short_zh.append(name.casefold())
                elif how == "code":
                    self.short_exact.add(name)
                elif how == "token":
                    self.short_any.add(name.casefold())
                else:
                    words = r"[\s\-]*".join(map(re.escape, re.split(r"[\s\-]+", name.casefold())))
                    if how == "named" and re.search(r"[\u3400-\u9fff]", name):
                        words = re.escape(name)
                    regex = re.compile(rf"(?<![a-z0-9]){words}(?![a-z0-9])")
                    if how == "spaced":
                        self.short_spaced.append((name, regex))
                    else:
                        quoted = re.compile(rf"[\"'‘“(]\s*{words}\s*[\"'’”)]")
                        self.short_named.append((name, regex, quoted))
        self._class_texts = sorted({c for c in classes if c}, key=len, reverse=True)
        self._words = _dictionary()
        self._class_word: re.Pattern[str] | None = None
        self._longer_zh = sorted(n for n in names if re.search(r"[\u3400-\u9fff]", n))
        self.latin: list[str] = sorted({k for n in names if (k := self._latin(n)) and len(k) >= 5})
        self.chinese: list[str] = sorted({k for n in names if (k := self._cjk(n)) and len(k) >= 2})
        self._sounds = {k: tuple(lazy_pinyin(k, style=Style.NORMAL)) for k in self.chinese}
        # the edits a name of each length may carry and still count: as the task's goal, 1 for 7-9, 2 for 10+
        self._edits = np.array([0 if len(k) < 7 else 1 if len(k) < 10 else 2 for k in self.latin])
        self._lengths = np.array([len(k) for k in self.latin])
        self._cutoff = [100.0 * (1 - (0 if len(k) < 7 else 1 if len(k) < 10 else 2) / len(k)) for k in self.latin]
        # class names are what redaction writes on purpose ("penicillin antibiotic" reads close to ampicillin):
        # names the checker sees in them alone are not leaks
        self._in_classes: set[str] = set()
        self._in_classes = {leak.name for c in classes for leak in self.leaks(c)}
        # a class name as a whole word (never inside a name: "statin" in "atorvastatin" stays)
        self._class_word = (
            re.compile("|".join(rf"(?<![A-Za-z]){re.escape(c)}(?![A-Za-z])" for c in self._class_texts))
            if self._class_texts
            else None
        )

    def _latin(self, text: str) -> str:
        folded = unicodedata.normalize("NFKC", text).casefold().translate(_HOMOGLYPHS)
        return _NON_LATIN.sub("", folded)

    def _cjk(self, text: str) -> str:
        return _NON_CJK.sub("", self._t2s.convert(unicodedata.normalize("NFKC", text)))

    def _windows(self, text: str) -> list[str]:
        """Every run of one to three consecutive Latin words within a clause, folded; spelled-out letters
        ("a m o x") join first."""
        return [w for w, _ in self._windows_ordinary(text)]

    def _windows_ordinary(self, text: str) -> list[tuple[str, bool]]:
        """`_windows` with, for each, whether every word in it is an ordinary dictionary word ("program", "pre
        dose", "bars online"): such a window is a name only when it spells the name exactly, never as a near miss."""
        windows: list[tuple[str, bool]] = []
        ordinary = self._words
        for clause in _CLAUSE_SPLIT.split(text):
            words: list[str] = []
            # each word as written (case folded, no look-alike or digit table: "liquid" is a word, "1iquid" not)
            written: list[str] = []
            spelled = False  # the previous piece was a single letter
            for raw in _WORD_SPLIT.split(clause):
                word = self._latin(raw)
                if not word:
                    continue
                as_written = _NON_ALPHA.sub("", unicodedata.normalize("NFKC", raw).casefold())
                single = len(raw.strip()) == 1
                if single and spelled and words:
                    words[-1] += word
                    written[-1] += as_written
                else:
                    words.append(word)
                    written.append(as_written)
                spelled = single
            plain = [_ordinary(w, ordinary) for w in written]
            windows += [
                ("".join(words[i : i + n]), all(plain[i : i + n])) for n in (1, 2, 3) for i in range(len(words) - n + 1)
            ]
            # a word in the English plural is read without its ending too ("valiums", "xanaxes")
            windows += [
                (w[: -len(e)], p)
                for w, p in zip(words, plain, strict=True)
                for e in ("es", "s")
                if len(w) > 5 and w.endswith(e)
            ]
        return windows

    def leaks(self, text: str) -> list[Leak]:
        """Every listed name still readable in text (exactly, with typos, or by sound)."""
        found: list[Leak] = []
        # the class names redaction writes are not names, and a name must not be read across one ("利尿剂 25mg 每"
        # sounds like 尿激酶; "…blocker and statin" reads close to sandostatin): each becomes a clause break
        if self._class_word is not None:
            names = self._class_word.sub("。", text)
        else:
            names = text
        pairs = self._windows_ordinary(names)
        windows = [w for w, _ in pairs]
        if windows and self.latin:
            scores = process.cdist(windows, self.latin, scorer=fuzz.ratio, workers=1)
            # only windows about as long as the name count: the edits it may carry bound the length difference too
            lengths = np.array([len(w) for w in windows])[:, None]
            scores = np.where(np.abs(lengths - self._lengths[None, :]) <= self._edits[None, :], scores, 0)
            # ordinary words are a name only when they spell it exactly: "program" is not a typo of Prograf
            ordinary = np.array([o for _, o in pairs])[:, None]
            scores = np.where(ordinary & (scores < 100), 0, scores).max(axis=0)
            found += [Leak(k, float(s)) for k, s, cut in zip(self.latin, scores, self._cutoff, strict=True) if s >= cut]
        for clause in _CLAUSE_SPLIT.split(names):
            cjk = self._cjk(clause)
            if not cjk:
                continue
            sound = tuple(lazy_pinyin(cjk, style=Style.NORMAL))
            for k in self.chinese:
                if k in cjk:
                    found.append(Leak(k, 100.0))
                elif len(k) >= 3:
                    n = len(k)
                    target = self._sounds[k]
                    if any(sound[i : i + n] == target for i in range(len(sound) - n + 1)):
                        found.append(Leak(k, 99.0))
        # shorthand is read in the text as it is: its own rule removes the class names, and keeps their sentence
        found += self._shorthand(text)
        return [leak for leak in found if leak.name not in self._in_classes]

    def _shorthand(self, text: str) -> list[Leak]:
        """Short forms in a sentence that hints at a medicine anywhere (the class names redaction writes removed
        first: they are not names, and hold digits and words of their own)."""
        if not (
            self.short_exact
            or self.short_any
            or self.short_zh
            or self.short_spaced
            or self.short_quoted
            or self.short_named
        ):
            return []
        text = unicodedata.normalize("NFKC", text).translate(_SHORT_GLYPHS)
        # (by 品: a CJK character no short form may stand before and no cue, so 去甲 before a removed class name
        # stays part of a word, as it was before redaction)
        for name in self._class_texts:
            text = text.replace(name, "品" if re.search(r"[\u3400-\u9fff]", name) else " ")
        found: list[Leak] = []
        for sentence in _SENTENCE.split(text):
            if not sentence.strip() or not _CUE.search(sentence):
                continue
            for token in _TOKEN.findall(sentence):
                token = _JOINED_TAIL.sub("", re.sub("[‐‑–]", "-", token))
                pieces = token.split("/")
                # a token, and every run of its "/"-joined pieces (MTX/LEF is a list; TMP/SMX one form)
                for i in range(len(pieces)):
                    for j in range(i + 1, len(pieces) + 1):
                        part = "/".join(pieces[i:j])
                        if part in self.short_exact or part.casefold() in self.short_any:
                            found.append(Leak(part, 98.0))
                        # (the plural of a code or a clipping: "oxys", "CZPs")
                        elif (
                            len(part) > 3
                            and part[-1] in "sS"
                            and (part[:-1] in self.short_exact or part[:-1].casefold() in self.short_any)
                        ):
                            found.append(Leak(part[:-1], 98.0))
            lowered = sentence.casefold()
            found += [Leak(form, 98.0) for form, regex in self.short_spaced if regex.search(lowered)]
            # (a JSON string that is the word and nothing else, ["Ice"], is not a word quoted as a name)
            unjson = _JSON_WHOLE.sub(" ", lowered)
            found += [Leak(form, 98.0) for form, regex in self.short_quoted if regex.search(unjson)]
            cues = [m.span() for m in _NAMING.finditer(lowered)]
            for form, regex, quoted in self.short_named:
                near = any(
                    a - _NAMING_REACH <= m.end() and m.start() <= b + _NAMING_REACH
                    for m in regex.finditer(lowered)
                    for a, b in cues
                )
                if near or quoted.search(unjson) or quoted.search(sentence):
                    found.append(Leak(form, 98.0))
            simple = self._t2s.convert(sentence).casefold()
            # a listed Chinese name holding a short form (二甲双胍) is read as the name, not as the short form
            for name in self._longer_zh:
                if name in simple:
                    simple = simple.replace(name, " ")
            for form in self.short_zh:
                at = simple.find(form)
                while at >= 0:
                    after = simple[at + len(form) : at + len(form) + 1]
                    lead = simple[at - 1] if at else ""
                    if form in self.short_zh_word and re.match(r"[\u3400-\u9fff]", lead) and lead not in _WORD_LEAD:
                        at = simple.find(form, at + 1)
                        continue
                    # a form that begins with a Latin letter (K药) is a word of its own whatever follows it, unless
                    # 药 starts a longer word there (维生素K药物, T药店: the checker's own short list)
                    letter = form[0].isascii() and form[0].isalpha() and after not in _YAO_NEXT
                    taking = _SHORT_FOLLOW_WORD.match(simple, at + len(form)) is not None
                    if (
                        letter
                        or taking
                        or not after
                        or after in _SHORT_FOLLOW
                        or not re.match(r"[\u3400-\u9fff]", after)
                    ):
                        found.append(Leak(form, 97.0))
                        break
                    at = simple.find(form, at + 1)
        return found
