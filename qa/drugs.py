"""Folding and fuzzy look-ups that let the drug finder see through disguises: traditional characters, look-alike
letters, leetspeak digits, Chinese homophones and one- or two-letter typos.

The data comes from packages: OpenCC's TSCharacters (traditional → simplified, Apache-2.0, via
opencc-python-reimplemented), Unicode's confusables.txt (via confusable-homoglyphs, MIT) and pypinyin's readings (MIT).
Every table is built once per process and cached.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import compress
from typing import Any

from pypinyin import Style, pinyin
from rapidfuzz import process
from rapidfuzz.distance import OSA, DamerauLevenshtein

from .errors import PromptError

# Characters that render as nothing: removing them defeats "阿\u200b莫西林"-style evasions.
INVISIBLE = frozenset("\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff")
# leetspeak digits, folded only when sandwiched between Latin letters ("am0xicillin"), never in "500mg" or "B12"
LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t"}
ALIAS_KINDS = {"variant", "brand", "colloquial"}
# where an alias comes from (the optional fourth column): hand, rows written by hand before sources were recorded;
# patients, an everyday nickname; street, drug-scene slang; old_zh, an older Chinese chemical or transliterated name;
# hk_tw, a Hong Kong or Taiwan name; brand_zh / brand_en, a trade name; clinic, a name clinicians write
ALIAS_SOURCES = {"hand", "patients", "street", "old_zh", "hk_tw", "brand_zh", "brand_en", "clinic"}


def _is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


@cache
def _char_folds() -> dict[str, tuple[str, str]]:
    """Single character → (replacement, kind): traditional → simplified, and look-alikes → ASCII letters."""
    folds: dict[str, tuple[str, str]] = {}
    confusables = json.loads(resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8"))
    for key, entries in confusables.items():
        for entry in entries:
            glyph = entry["c"]
            pairs = [(key, glyph), (glyph, key)]
            for src, dst in pairs:
                if len(src) != 1 or len(dst) != 1 or src.isascii() or _is_cjk(src):
                    continue
                target = dst.casefold()
                # letters win over digits: Cyrillic "о" is an o, not a zero
                if target.isascii() and target.isalpha():
                    folds[src] = (target, "confusable")
                elif target.isascii() and target.isdigit() and src not in folds:
                    folds[src] = (LEET.get(target, target), "confusable")
    # NFKC already folds width and compatibility forms; only report what it would not have caught
    for src in list(folds):
        nfkc = unicodedata.normalize("NFKC", src).casefold()
        if nfkc.isascii():
            del folds[src]
    ts = resources.files("opencc").joinpath("dictionary/TSCharacters.txt").read_text("utf-8")
    for line in ts.splitlines():
        trad, _, simp = line.partition("\t")
        first = simp.split(" ")[0] if simp else ""
        if len(trad) == 1 and len(first) == 1 and trad != first:
            folds[trad] = (first, "traditional")
    # Taiwan's chemical nomenclature writes the acyl of 环磷酰胺 as 醯 (環磷醯胺) and older texts a glycoside's 苷 as
    # 甙: characters of their own in OpenCC, which converts them only inside listed phrases
    for trad, simp in _CHEMICAL_FOLDS.items():
        folds.setdefault(trad, (simp, "traditional"))
    return folds


_CHEMICAL_FOLDS = {"醯": "酰", "甙": "苷"}


@dataclass
class Folded:
    """A text folded for matching: `text[i]` came from original index `index[i]` and was changed by `kinds[i]`."""

    text: str
    index: list[int]
    kinds: list[str]
    ends: list[int]  # where in the original each folded character's source ends (a folded "ph" spans two)
    written: str  # the same text before two-letter spellings were folded ("ph" still two letters)
    written_at: list[int]  # text[i] starts at written[written_at[i]]; one entry more, for slicing to the end

    def unspelled(self, start: int, end: int) -> str:
        """text[start:end] as written, two-letter spellings unfolded."""
        return self.written[self.written_at[start] : self.written_at[end]]


def _fold_char(ch: str) -> tuple[tuple[str, str], ...]:
    """One character of `fold`'s input as (folded character, kind) pairs: none for a dropped character, two or more
    when NFKC expands it ("ﬁ" → "fi")."""
    # punctuation and symbols go too: "阿-莫-西-林" and "a.m.o.x.i.l" must read as the names they spell
    if ch in INVISIBLE or ch.isspace() or unicodedata.category(ch)[0] in "CPSZ":
        return ()
    folds = _char_folds()
    kind = ""
    if ch in folds:
        ch, kind = folds[ch]
    out: list[tuple[str, str]] = []
    for folded in unicodedata.normalize("NFKC", ch).casefold():
        if folded.isspace():
            continue
        if folded in folds and folds[folded][1] == "traditional":
            folded, kind = folds[folded]
        out.append((folded, kind))
    return tuple(out)


_KIND_CODES = {"": "\x00", "confusable": "c", "traditional": "t"}
_KIND_NAMES = {"\x00": "", "c": "confusable", "t": "traditional"}


class _CharTable(dict):  # type: ignore[type-arg]
    """A str.translate table over `_fold_char`, filled on first sight of each character (a fixed, finite set:
    the characters texts hold), so folding a text is one pass in C for the characters already seen."""

    def __init__(self, part: str) -> None:
        super().__init__()
        self.part = part

    def __missing__(self, code: int) -> str:
        pairs = _fold_char(chr(code))
        if self.part == "text":
            value = "".join(c for c, _ in pairs)
        elif self.part == "kinds":  # one code a folded character: which table changed it
            value = "".join(_KIND_CODES[k] for _, k in pairs)
        else:  # "sizes": how many folded characters it gives, as one character
            value = chr(len(pairs))
        self[code] = value
        return value


_TEXT_TABLE = _CharTable("text")
_KINDS_TABLE = _CharTable("kinds")
_SIZES_TABLE = _CharTable("sizes")
_LEET_DIGIT = re.compile("[" + "".join(LEET) + "]")
_LY = str.maketrans({"l": "i", "y": "i"})
_AT_IN_WORD = re.compile(r"(?<=[A-Za-z])@(?=[A-Za-z])")
# "$" for an s inside a Latin word or opening one of lower-case letters ("$ub0xone", "va$e"): a price is "$10", a
# ticker "$AAPL", so a digit or a capital after it keeps it a dollar
_DOLLAR_IN_WORD = re.compile(r"(?<=[A-Za-z])\$(?=[A-Za-z])|(?<![A-Za-z0-9$])\$(?=[a-z][a-z0-9]{2})")


def fold(text: str, spelling: bool = True) -> Folded:
    """NFKC + casefold + traditional/look-alike/leet folding, dropping spaces, punctuation and symbols; with
    `spelling`, two-letter spellings (ph, th, ae, oe) also read as one letter."""
    # three translations in C instead of a loop over characters in Python: the text, each folded character's kind,
    # and how many folded characters each source character gives (0: dropped, 2+: expanded by NFKC)
    # "@" for an a inside a Latin word ("tr@madol", "x@n@x"): the same length, so indexes stay the source's
    ats = {m.start() for m in _AT_IN_WORD.finditer(text)} if "@" in text else set()
    if ats:
        text = _AT_IN_WORD.sub("a", text)
    if "$" in text:
        dollars = {m.start() for m in _DOLLAR_IN_WORD.finditer(text)}
        if dollars:
            text = _DOLLAR_IN_WORD.sub("s", text)
            ats |= dollars
    folded = text.translate(_TEXT_TABLE)
    sizes = text.translate(_SIZES_TABLE)
    if len(folded) == sizes.count("\x01"):  # every character gives one or none: the common case
        index = list(compress(range(len(sizes)), sizes.encode("latin-1")))
    else:
        index = [i for i, size in enumerate(sizes) for _ in range(ord(size))]
    codes = text.translate(_KINDS_TABLE)
    kinds = [_KIND_NAMES[c] for c in codes] if codes.strip("\x00") else [""] * len(folded)
    if ats:  # (kinds is a new list in either branch above)
        for k, i in enumerate(index):
            if i in ats:
                kinds[k] = "leet"
    if _LEET_DIGIT.search(folded):
        out = list(folded)
        _fold_leet(out, index, kinds, folded)
        folded = "".join(out)
    # "l" and "i" become one letter, so "Cia1is" and "C1alis" read the same as "Cialis"; "y" joins them too
    # (amoxycillin, cyclosporin)
    return _fold_spelling(folded.translate(_LY), index, kinds, _SPELLING if spelling else {}, text)


def _alone(text: str, i: int) -> bool:
    """Whether text[i] is a letter standing alone ("p h e n y t o i n", "p-h-e-n…": letters spelling a word)."""
    return text[i].isalpha() and not any(0 <= j < len(text) and text[j].isalpha() for j in (i - 1, i + 1))


# INN/BAN/USAN spelling pairs read as one: cephalexin/cefalexin, sulphamethoxazole, oestradiol/estradiol
_SPELLING = {"ph": "f", "th": "t", "ae": "e", "oe": "e"}

# a character of a drug name written as its two components side by side (拆字, drug23, issue 15: 酉同 for
# 酮, 口坐 for 唑), as a handwriting pad, a censor-dodging seller or a hurried typist gives it: the pair reads as the
# character. Only the 口 and 酉 left-hand components: both stand alone as characters, 酉 is almost never followed by a
# character in modern text, and 口 + phonetic pairs are the 口-radical characters of drug names already read as
# homophones (`_RADICAL_DROPPED`, every pair checked to share a reading). 月 (胺 as 月安, 肽 as 月太) is left out: "三个
# 月安定" would lose 安定. The 酉 pairs are written from the characters' forms (⿰酉同 …), not read from a decomposition
# file; 口派 for 哌 is how one types it (its right part, 𠂢, is no character on a keyboard).
_SPLIT_ZH_YOU = {
    "酉同": "酮", "酉旨": "酯", "酉享": "醇", "酉分": "酚", "酉先": "酰", "酉每": "酶", "酉荃": "醛", "酉迷": "醚",
    "酉太": "酞", "酉昆": "醌", "酉干": "酐", "酉各": "酪", "酉丁": "酊", "酉昔": "醋",
}  # fmt: skip


# the pairs above as one regex; no pair ends with a letter that starts a pair, so matches never overlap and a scan
# from left to right takes the same pairs as a walk letter by letter would (the split characters too: no right-hand
# component is 口 or 酉)
_SPELLING_PAIR = re.compile("|".join(_SPELLING))


@cache
def _split_pairs() -> dict[str, str]:
    """Two components side by side → the drug name's character they make (口坐 → 唑, 酉同 → 酮)."""
    pairs = {"口" + part: whole for whole, part in _RADICAL_DROPPED.items()}
    pairs.update(_SPLIT_ZH_YOU)
    return pairs


@cache
def split_halves(first: str) -> tuple[str, ...]:
    """The characters a left-hand component begins when written as two (口 → 唑, 吡, …); none for any other."""
    return tuple(whole for pair, whole in _split_pairs().items() if pair[0] == first)


@cache
def _split_pair_regex() -> re.Pattern[str]:
    return re.compile("|".join(sorted(_split_pairs(), key=len, reverse=True)))


def _fold_spelling(out: str, index: list[int], kinds: list[str], spellings: dict[str, str], source: str) -> Folded:
    """Two-letter spellings folded to one letter, keeping the first letter's source index; a pair of letters
    spelled out one by one in `source` (the original text) folds across the gap."""
    pairs: list[int] = []
    for m in _SPELLING_PAIR.finditer(out) if spellings else ():
        i = m.start()
        if index[i + 1] - index[i] <= 1 or (_alone(source, index[i]) and _alone(source, index[i + 1])):
            pairs.append(i)
    # a character written as its two components (口坐 → 唑), side by side in the source
    split: dict[str, str] = {}
    if spellings and ("口" in out or "酉" in out):
        split = _split_pairs()
        found = [m.start() for m in _split_pair_regex().finditer(out) if index[m.start() + 1] - index[m.start()] == 1]
        if found:
            pairs = sorted(pairs + found)
    if not pairs:
        return Folded(out, index, kinds, list(map((1).__add__, index)), out, list(range(len(out) + 1)))
    text: list[str] = []
    idx: list[int] = []
    ends: list[int] = []
    kind: list[str] = []
    at: list[int] = []
    prev = 0
    for i in pairs:
        # the letters before the pair as they are, then the pair as one letter
        text.append(out[prev:i])
        idx += index[prev:i]
        ends += [j + 1 for j in index[prev:i]]
        kind += kinds[prev:i]
        at += range(prev, i)
        pair = out[i : i + 2]
        text.append(spellings[pair] if pair in spellings else split[pair])
        idx.append(index[i])
        ends.append(index[i + 1] + 1)
        kind.append(kinds[i] or kinds[i + 1] or ("confusable" if pair in split else ""))
        at.append(i)
        prev = i + 2
    text.append(out[prev:])
    idx += index[prev:]
    ends += [j + 1 for j in index[prev:]]
    kind += kinds[prev:]
    at += range(prev, len(out) + 1)
    return Folded("".join(text), idx, kind, ends, out, at)


def _fold_leet(out: list[str], index: list[int], kinds: list[str], text: str) -> None:
    """Digits (runs of at most two) between two adjacent Latin letters become the letters they stand for (`text`:
    out as one string, to find the digits in)."""
    i = 0
    # from one leet digit to the next: every other character is passed over unchanged
    while (m := _LEET_DIGIT.search(text, i)) is not None:
        i = _fold_leet_run(out, index, kinds, m.start())


def _fold_leet_run(out: list[str], index: list[int], kinds: list[str], i: int) -> int:
    """Fold the digit run starting at out[i] (a leet digit) when it stands for letters; the index after the run."""
    n = len(out)
    j = i
    # a run ends where the source has a gap: "Mounjar0 2.5mg" folds to "mounjar025mg", and the 0 is one digit
    while j < n and out[j].isdigit() and (j == i or index[j] == index[j - 1] + 1):
        j += 1
    run_ok = j - i <= 2 and all(out[k] in LEET for k in range(i, j))
    before = i > 0 and out[i - 1].isascii() and out[i - 1].isalpha() and index[i - 1] == index[i] - 1
    after = j < n and out[j].isascii() and out[j].isalpha() and index[j] == index[j - 1] + 1
    # a digit ending a word of four letters or more ("morphin3") stands for a letter too
    # (Chinese characters count as alphanumeric to Python, but they end a Latin word)
    word_end = j == n or not (out[j].isascii() and out[j].isalnum()) or index[j] - index[j - 1] > 1
    long_word = i >= 4 and all(out[k].isascii() and out[k].isalpha() for k in range(i - 4, i))
    # ...and so does one starting a word when a letter follows it and letters make most of a word of five
    # or more ("3nbre1", "7ruvad4"); "20mg", "3rd" and "5mg" stay numbers
    word_start = not before and (
        i == 0 or not (out[i - 1].isascii() and out[i - 1].isalnum()) or index[i] - index[i - 1] > 1
    )
    lead = word_start and j - i == 1 and after and _leet_word(out, index, i)
    if run_ok and (lead or (before and (after or (word_end and long_word and j - i == 1)))):
        for k in range(i, j):
            out[k] = LEET[out[k]]
            kinds[k] = "leet"
    return j


def _leet_word(out: list[str], index: list[int], i: int) -> bool:
    """Whether the word starting at out[i] is five or more characters, at most two of them digits."""
    j = i
    while j < len(out) and out[j].isascii() and out[j].isalnum() and (j == i or index[j] - index[j - 1] == 1):
        j += 1
    word = out[i:j]
    return len(word) >= 5 and sum(c.isdigit() for c in word) <= 2


# Salt and ester words: a name is also written without them ("valproate", 吗啡) or with them in the other order
# ("VALPROATE SODIUM"), so the rest of the name is a name too
SALT_WORDS = frozenset(
    "sodium potassium calcium magnesium lithium hydrochloride hcl hydrobromide sulfate sulphate bisulfate phosphate "
    "acetate maleate mesylate mesilate besylate besilate tartrate citrate succinate fumarate bromide carbonate "
    "hydrate hyclate benzathine dipivoxil pivoxil medoxomil marboxil etexilate proxetil mofetil pegol valerate "
    "undecanoate acetonide alafenamide disoproxil isoproxil dinitrate mononitrate acid".split()
)
# Chinese salt prefixes (the acid named first: 盐酸吗啡) and suffixes (the ion or ester last: 丙戊酸钠, 阿德福韦酯); 硝酸
# is left out because it begins names of its own (硝酸甘油 would leave 甘油, glycerol)
SALT_ZH_PREFIXES = (
    "盐酸",
    "硫酸",
    "磷酸",
    "马来酸",
    "甲磺酸",
    "苯磺酸",
    "枸橼酸",
    "琥珀酸",
    "酒石酸",
    "富马酸",
    "氢溴酸",
    "醋酸",
    "水合",
)
SALT_ZH_SUFFIXES = ("钠", "钾", "钙", "镁", "酯")


def derived_names(name: str) -> list[str]:
    """Other ways a listed generic name is written, derived by rule: the name without its salt or ester word in
    either language (the order of the words no longer matters then), "-ic acid" as "-ate" and back, each part of
    a combination, and a Chinese "…西林" as "…青霉素" (the older names of the penicillins: 氨苄青霉素)."""
    out: list[str] = []
    if any(_is_cjk(c) for c in name):
        cjk = sum(map(_is_cjk, name))
        for pre in SALT_ZH_PREFIXES:
            # the rest must be two characters at least: 盐酸吗啡 → 吗啡
            if name.startswith(pre) and cjk - len(pre) >= 2:
                out.append(name[len(pre) :])
        for suf in SALT_ZH_SUFFIXES:
            # three at least: 托吡酯 and 螺内酯 are names of their own, not esters of 托吡 and 螺内
            if name.endswith(suf) and cjk - len(suf) >= 3:
                out.append(name[: -len(suf)])
        for form in [name, *out]:
            if form.endswith("西林") and len(form) >= 4:
                out.append(form[:-2] + "青霉素")
        return out
    for part in name.split("/") if "/" in name else [name]:
        words = part.lower().split()
        if len(words) > 1 and words[0] not in SALT_WORDS and words[-1] not in SALT_WORDS and len(words[-1]) > 1:
            if part != name:
                out.append(part)
            continue
        base = [w for w in words if w not in SALT_WORDS and len(w) > 1]
        if not base:
            continue
        rest = " ".join(base)
        if rest != part.lower():
            out.append(rest)
        elif part != name:
            out.append(part)
        if len(base) == 1 and words != base:
            # zoledronic acid ↔ zoledronate; sodium valproate ↔ valproic acid
            if rest.endswith("ic") and "acid" in words:
                out.append(rest[:-2] + "ate")
            elif rest.endswith("ate"):
                out.append(rest[:-3] + "ic acid")
    return out


def name_trie(keys: list[str]) -> dict[str, Any]:
    """Names as a trie of nested dicts, character by character; "" marks where a name ends."""
    root: dict[str, Any] = {}
    for key in keys:
        node = root
        for ch in key:
            node = node.setdefault(ch, {})
        node[""] = {}
    return root


def trie_pattern(keys: list[str]) -> str:
    """One regex for many names, shaped as a trie: a flat alternation of thousands of names tries each at every
    position, a trie tries one branch. Greedy optional tails make the longest name at a position win."""
    trie = name_trie(keys)

    def build(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


def fold_key(name: str) -> str:
    """A listed name in the folded form texts are matched in."""
    return fold(name).text


@cache
def readings(ch: str) -> frozenset[str]:
    """Toneless pinyin readings of one Chinese character (every heteronym)."""
    return frozenset(pinyin(ch, style=Style.NORMAL, heteronym=True)[0])


@cache
def syllable_chars() -> dict[str, str]:
    """Toneless pinyin syllable → one Chinese character read so (built once, on the first text that needs it): what
    stands in for a syllable written in letters inside a Chinese name ("阿莫xi林", "舍qu林")."""
    from pypinyin import pinyin_dict

    out: dict[str, str] = {}
    for code, values in sorted(pinyin_dict.pinyin_dict.items()):
        if not 0x4E00 <= code <= 0x9FFF:
            continue
        for value in values.split(","):
            plain = "".join(c for c in unicodedata.normalize("NFD", value) if not unicodedata.combining(c))
            if plain.isascii() and plain.isalpha() and plain not in out and plain in readings(chr(code)):
                out[plain] = chr(code)
    return out


# a name this long may have a character written by an accent's sound: three characters left exact of four keep a
# sound-alike a name (shorter names are everyday words more often: 安定)
ACCENT_MIN_CHARS = 4
# the distinctions southern Mandarin (and Cantonese speakers' Mandarin) blurs, so a name is typed with the other
# character: n/l, zh/z, ch/c, sh/s, h/f before u, and the finals ang/an, eng/en, ing/in
_ACCENT_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"), ("hu", "fu"))
_ACCENT_FINALS = (("ang", "an"), ("eng", "en"), ("ing", "in"))


def _accent(reading: str) -> str:
    """A toneless pinyin reading with the accent distinctions above folded away (nuo → luo, zhang → zan)."""
    for long, short in _ACCENT_FINALS:
        if reading.endswith(long):
            reading = reading[: -len(long)] + short
            break
    for long, short in _ACCENT_INITIALS:
        if reading.startswith(long):
            return short + reading[len(long) :]
    return reading


@cache
def accent_readings(ch: str) -> frozenset[str]:
    """A Chinese character's readings folded by `_accent`: what a southern speaker may hear as the same sound."""
    return frozenset(_accent(r) for r in readings(ch))


# a character of a drug name written without its 口 radical (seventeenth session): the phonetic part alone, which
# sounds the same and is what a handwriting pad or a hurried typist gives (坐比坦 for 唑吡坦, 派醋 for 哌醋, 马啡 for
# 吗啡). Such a character is no "wrong" character: it does not count against a name's homophone bound. Only pairs
# that share a reading are kept (checked on first use)
_RADICAL_DROPPED = {
    "唑": "坐", "吡": "比", "哌": "派", "吗": "马", "啶": "定", "嘧": "密", "噻": "塞", "咪": "米", "喹": "奎",
    "嗪": "秦", "呋": "夫", "哒": "达", "喃": "南", "吲": "引", "哚": "朵", "咔": "卡", "啉": "林", "嘌": "票",
    "呤": "令", "吩": "分", "噁": "恶", "呱": "瓜", "啡": "非", "哔": "毕", "吖": "丫",
}  # fmt: skip


@cache
def radical_dropped(name_char: str, written: str) -> bool:
    """Whether `written` is a name's character without its 口 radical, read the same (坐 for 唑)."""
    return _RADICAL_DROPPED.get(name_char) == written and bool(readings(name_char) & readings(written))


def _sounds(ch: str) -> frozenset[str]:
    """Readings of a Chinese character; any other character stands for itself."""
    return readings(ch) if _is_cjk(ch) else frozenset(ch)


@dataclass(frozen=True)
class Alias:
    """One extra name for a listed drug, from an alias data file."""

    generic_en: str
    alias: str
    kind: str
    # from a public source by rule (trade names makers coined), not written by hand: matched exactly, with no
    # homophones (see DrugList)
    public: bool = False
    source: str = ""  # one of ALIAS_SOURCES, where the file has a source column


def parse_aliases(text: str, where: str, public: bool = False) -> list[Alias]:
    """Read the alias CSV (generic_en, alias, kind and optionally source); a malformed row fails with its line."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header not in (["generic_en", "alias", "kind"], ["generic_en", "alias", "kind", "source"]):
        raise PromptError(f"{where}: line 1 must be the header generic_en,alias,kind (and optionally source)")
    width = len(header)
    aliases = []
    for row in reader:
        line = reader.line_num
        if not row:
            continue
        if len(row) != width or not row[0].strip() or not row[1].strip():
            raise PromptError(f"{where}: line {line}: expected {','.join(header)} with both names, got {row!r}")
        if row[2].strip() not in ALIAS_KINDS:
            raise PromptError(f"{where}: line {line}: kind must be one of {sorted(ALIAS_KINDS)}, got {row[2]!r}")
        source = row[3].strip() if width == 4 else ""
        if width == 4 and source not in ALIAS_SOURCES:
            raise PromptError(f"{where}: line {line}: source must be one of {sorted(ALIAS_SOURCES)}, got {row[3]!r}")
        aliases.append(Alias(row[0].strip(), row[1].strip(), row[2].strip(), public, source))
    return aliases


def parse_allowlist(text: str) -> frozenset[str]:
    """Words (one a line, # comments) the fuzzy and homophone look-ups must never report."""
    words = (line.split("#")[0].strip() for line in text.splitlines())
    return frozenset(fold_key(w) for w in words if w)


class _LatinNames:
    """Listed Latin names in one written form (7+ letters); `forms` maps each form to the name's folded key.

    A word of n letters is compared only with the names its bound can reach: those whose length is within the
    plain bound (set by the shorter of the two), and the longer ones with its first letter that the anchored bound
    (set by the name) reaches. Most words then scan a short list, and six-letter words almost none."""

    def __init__(self, forms: dict[str, str], truncated: bool = False) -> None:
        self.key = {form: key for form, key in forms.items() if len(form) >= 7}
        self.truncated = truncated  # whether a word that is the name less its last letter counts as anchored
        longest = max(map(len, self.key), default=0)
        self.plain: dict[int, list[str]] = {}
        self.anchored: dict[tuple[int, str], list[str]] = {}
        for form in sorted(self.key):
            length = len(form)
            for n in range(6, longest + 3):
                if abs(length - n) <= _max_edits(min(length, n)):
                    self.plain.setdefault(n, []).append(form)
                elif n < length <= n + _max_edits(length):
                    self.anchored.setdefault((n, form[0]), []).append(form)

    def closest(self, token: str) -> tuple[int, int, str] | None:
        """(edits, length difference, folded key) of the closest name within the bound, else None."""
        n = len(token)
        best: tuple[int, int, str] | None = None
        for names, widest in (
            (self.plain.get(n, ()), _max_edits(n + 2)),
            (self.anchored.get((n, token[0]), ()), _max_edits(n + 2)),
        ):
            if not names:
                continue
            # a cheap bit-parallel OSA scan first: OSA ≤ Levenshtein ≤ 2 × Damerau, so nothing within the bound is
            # lost; Damerau, the slower one, only on what passes
            for form, _, _ in process.extract(token, names, scorer=OSA.distance, score_cutoff=2 * widest, limit=None):
                length = len(form)
                # the shorter of the two sets the bound: "determine" is not a 2-edit typo of "phentermine"
                limit = _max_edits(min(length, n))
                # ...except that a word keeping the name's first and last letters (or the last two swapped) gets
                # the name's own bound: dropped letters ("oseltamvr", "scukinuab") are the commonest typo, and
                # sharing both ends as well as most letters keeps nearly all dictionary words out
                if _anchored(form, token) or (self.truncated and _truncated(form, token)):
                    limit = max(limit, _max_edits(length))
                if abs(length - n) > limit:
                    continue
                # Damerau, not OSA: a letter dropped next to a swapped pair ("bicalutiade") is two edits, not three
                edits = DamerauLevenshtein.distance(token, form, score_cutoff=limit)
                if edits <= limit:
                    hit = (edits, abs(length - n), self.key[form])
                    best = hit if best is None or hit < best else best
        return best


def _anchored(name: str, word: str) -> bool:
    """Whether a word keeps the name's first and last letters (or has its last two swapped); a last c written k
    and back is the same sound (Prozak, ozempik), so it keeps the anchor."""
    return name[0] == word[0] and (
        name[-1] == word[-1] or name[-2:] == word[:-3:-1] or {name[-1], word[-1]} == _SAME_SOUND_END
    )


_SAME_SOUND_END = frozenset("ck")


def _truncated(name: str, word: str) -> bool:
    """Whether a word is the name less its last letter ("codein", "morphin"): the commonest short-name typo, and one
    the first-and-last-letter anchor cannot see."""
    return len(word) == len(name) - 1 and name.startswith(word)


# a character after a sound-alike that makes it the name of another compound (an acid: 苯丙氨酸); a stream holds a
# sound-alike at its end until the next character comes
ACID_AFTER = frozenset("酸")

_SEEN_MAX = 1 << 16  # typo look-ups remembered (a few MB)


def _remembered(seen: dict[Any, str | None], key: Any, look_up: Callable[[], str | None]) -> str | None:
    """`look_up()` remembered under `key` in `seen` (None is an answer too), the store cleared when full."""
    found = seen.get(key, "")
    if found != "":
        return found
    if len(seen) >= _SEEN_MAX:
        seen.clear()
    seen[key] = found = look_up()
    return found


def _max_edits(length: int) -> int:
    return 0 if length < 7 else 1 if length < 10 else 2


class FuzzyIndex:
    """Typo look-up for single-word Latin names (7+ letters) and homophone look-up for Chinese names (3+ characters)."""

    def __init__(
        self,
        latin: dict[str, str],
        chinese: dict[str, str],
        allow: frozenset[str],
        brands: dict[str, str] | None = None,
        pairs: dict[str, tuple[str, str]] | None = None,
    ) -> None:
        # latin: folded key → the same name folded without the two-letter spellings (ph, th, ae, oe). Typos are
        # looked up in both forms, because a fold can shorten a typo past its bound: "bezafibrae" folds to
        # "bezafibre", two letters short of "bezafibrate"; "erhambutol" keeps an "h" that "ethambutol" folds away
        self._folded = _LatinNames({k: k for k in latin}, truncated=True)
        self._written = _LatinNames({w: k for k, w in latin.items()}, truncated=True)
        # a word without a two-letter spelling is compared with the folded names and with the written form of
        # those that had one, in one scan (a written form holds a pair, a folded key never does: no clashes)
        self._either = _LatinNames(
            {**{w: k for k, w in latin.items() if w != k}, **{k: k for k in latin}}, truncated=True
        )
        # brands (folded key → written form), looked up only under the narrower rule of `brand`
        self._brands = _LatinNames({k: k for k in brands or {}})
        # two-word names (folded key → its two folded words), found by either word: "insuline glargine"
        self._by_word: dict[str, list[tuple[int, str, str]]] = {}
        for key, words in (pairs or {}).items():
            for i in (0, 1):
                self._by_word.setdefault(words[i], []).append((1 - i, words[1 - i], key))
        self._first_words = sorted({words[0] for words in (pairs or {}).values()})
        self.pair_words = frozenset(self._by_word)  # a word `pair` can start from
        # readings of the first two characters → names: most positions in a text then have no candidate at all
        self._chinese: dict[tuple[str, str], list[str]] = {}
        self._first: set[str] = set()  # readings that start a name, for the stream's one-character tails
        for key in chinese:
            if sum(map(_is_cjk, key)) >= 3 and _is_cjk(key[0]):
                for r0 in readings(key[0]):
                    self._first.add(r0)
                    for r1 in _sounds(key[1]):
                        self._chinese.setdefault((r0, r1), []).append(key)
        self.allow = allow
        self._by_first: dict[str, dict[str, list[str]]] = {}
        for (r0, r1), keys in self._chinese.items():
            self._by_first.setdefault(r0, {})[r1] = keys
        # per first character: the second character's readings → the names those two may begin, built on first
        # sight of each character (a fixed, finite set), so most positions of a text cost one look-up
        self._after: dict[str, dict[str, tuple[str, ...]]] = {}
        # typo look-ups already made, word → name or None: the words of answers repeat (treatment, medicine), and
        # each costs a scan of hundreds of names; bounded, cleared when full
        self._seen: dict[tuple[str, str | None], str | None] = {}
        self._brand_seen: dict[str, str | None] = {}

    @staticmethod
    def max_edits(length: int) -> int:
        """Typos tolerated in a Latin name of this length."""
        return _max_edits(length)

    def latin(self, token: str, written: str | None = None) -> str | None:
        """The listed name (folded key) this Latin token is a typo of, if one is close enough; `written` is the
        token folded without the two-letter spellings, when that differs."""
        # the written form can be the longer one ("coeine" folds to "ceine"): both fall short before giving up
        if max(len(token), len(written or "")) < 6 or token in self.allow:
            return None
        return _remembered(self._seen, (token, written), lambda: self._latin(token, written))

    def _latin(self, token: str, written: str | None) -> str | None:
        if written is not None and written != token:
            hits = [self._folded.closest(token), self._written.closest(written)]
        else:
            hits = [self._either.closest(token)]
        found = [h for h in hits if h is not None]
        # fewest edits, then nearest length, then by name: the same word always gives the same drug
        return min(found)[2] if found else None

    def pair(self, first: str, second: str) -> str | None:
        """The two-word name (folded key) two adjacent words spell when one is the name's word and the other is
        one edit from its own (5+ letters; a spelling variant such as the French "insuline" included)."""
        found = []
        for pos, (word, other) in enumerate(((first, second), (second, first))):
            for at, expected, key in self._by_word.get(word, ()):
                # the word must hold its place in the name: "glargine insuline" is not the name
                if at != 1 - pos or min(len(other), len(expected)) < 5 or other in self.allow:
                    continue
                if DamerauLevenshtein.distance(other, expected, score_cutoff=1) <= 1:
                    found.append(key)
        return min(found) if found else None

    def pair_first(self, word: str) -> bool:
        """Whether a word may begin a two-word name (its first word, or one edit from it): a stream holds it."""
        if len(word) < 5:
            return False
        return any(DamerauLevenshtein.distance(word, first, score_cutoff=1) <= 1 for first in self._first_words)

    def brand(self, token: str) -> str | None:
        """The listed brand (folded key) a capitalised Latin word is a one-edit typo of, keeping the brand's first
        and last letters (or its last two swapped). Narrower than `latin`: brands are coined words that ordinary
        words sit one letter away from (ability/Abilify), so only a word written like a name, with both ends of
        one brand, counts, and words of the allowlist never do."""
        if len(token) < 6 or token in self.allow:
            return None
        # (remembered as `latin` is: since lower-case words are looked up too, most words of an answer about
        # medicines come here, and each costs a scan of the brands)
        return _remembered(self._brand_seen, token, lambda: self._brand(token))

    def _brand(self, token: str) -> str | None:
        hit = self._brands.closest(token)
        return hit[2] if hit is not None and hit[0] <= 1 and _anchored(hit[2], token) else None

    def _sounds_like(self, text: str, at: int, key: str) -> int:
        """How many characters differ if text[at:] sounds like key, else -1. In a name of 4+ characters a character
        after the first two may also differ by an accent's sound (美托诺尔 for 美托洛尔: n/l, see `accent_readings`); a
        character written without its 口 radical (坐 for 唑) does not count (see `radical_dropped`)."""
        if at + len(key) > len(text):
            return -1
        differ = 0
        accent = len(key) >= ACCENT_MIN_CHARS
        for i, (a, b) in enumerate(zip(text[at : at + len(key)], key, strict=True)):
            if a != b:
                if not _is_cjk(a):
                    return -1
                if not readings(a) & readings(b) and not (
                    accent and i >= 2 and _is_cjk(b) and accent_readings(a) & accent_readings(b)
                ):
                    return -1
                if not radical_dropped(b, a):
                    differ += 1
        return differ

    def chinese(self, text: str, at: int) -> str | None:
        """A listed Chinese name that text[at:] sounds like, with one character (two in 6+) written otherwise."""
        first = text[at]
        if not _is_cjk(first):
            return None
        if at + 1 >= len(text):
            return None
        after = self._names_after(first)
        if not after:
            return None
        found: list[tuple[int, int, str]] = []
        for r1 in _sounds(text[at + 1]):
            for key in after.get(r1, ()):
                differ = self._sounds_like(text, at, key)
                # one wrong character in three is a typo; more is another word; and a sound-alike with 酸 after it
                # names an acid, another compound (苯丙氨酸, phenylalanine, is no typo of 苯丙胺)
                if (
                    0 <= differ <= max(1, len(key) // 3)
                    and text[at : at + len(key)] != key
                    and text[at : at + len(key)] not in self.allow
                    and text[at + len(key) : at + len(key) + 1] not in ACID_AFTER
                ):
                    found.append((-len(key), differ, key))
        # longest, then closest, then by name: the same text always gives the same drug (sets have no order)
        return min(found)[2] if found else None

    def chinese_starts(self, text: str, start: int, end: int) -> list[int]:
        """The positions of text[start:end] (Chinese characters) where `chinese` may find a name: the character and
        the next sound like the first two of one (one look-up a position, no call for the others)."""
        at: list[int] = []
        names_after = self._names_after
        for i in range(start, min(end, len(text) - 1)):
            after = names_after(text[i])
            if after and not after.keys().isdisjoint(_sounds(text[i + 1])):
                at.append(i)
        return at

    def _names_after(self, first: str) -> dict[str, tuple[str, ...]]:
        """For a first character: each reading of a second character → the names the two may begin (built once a
        character, then looked up)."""
        known = self._after.get(first)
        if known is not None:
            return known
        after: dict[str, list[str]] = {}
        for r0 in readings(first):
            for r1, keys in self._by_first.get(r0, {}).items():
                names = after.setdefault(r1, [])
                names += (k for k in keys if k not in names)
        known = self._after[first] = {r1: tuple(keys) for r1, keys in after.items()}
        return known

    def chinese_prefix(self, tail: str) -> bool:
        """Whether tail sounds like the start of a listed Chinese name (so a stream must wait for more)."""
        if not _is_cjk(tail[0]):
            return False
        if len(tail) == 1:
            return bool(readings(tail[0]) & self._first)
        pairs = {(r0, r1) for r0 in readings(tail[0]) for r1 in _sounds(tail[1])}
        for pair in pairs:
            for key in self._chinese.get(pair, ()):
                if len(key) > len(tail) and self._sounds_like(key[: len(tail)], 0, tail) >= 0:
                    return True
        return False


# a Latin word as people type pinyin: letters, tone marks and ü (the tone marks are dropped before matching)
_PINYIN_WORD = re.compile(r"[A-Za-zÀ-ÿĀ-ɏǍ-ǜü]+")
_ASCII_WORD = re.compile(r"[a-z]+")
# what may stand between the syllables of one name typed in pinyin: spaces, a hyphen or an apostrophe (xi'an)
_PINYIN_GAP = re.compile(r"[ \t\-'’]{1,2}")
_PINYIN_MIN_SYLLABLES = 3  # as the homophone look-up: two syllables (an dìng, ān dìng) are everyday words
_PINYIN_MIN_LETTERS = 6


def _plain_pinyin(word: str) -> str:
    """A typed word without tone marks, lower case (ǎ → a, ü → v as pypinyin writes it)."""
    if word.isascii():  # the common case: English words and toneless pinyin
        return word.lower()
    plain = "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))
    return plain.casefold().replace("u\u0308", "v")


class PinyinNames:
    """Listed Chinese names typed in pinyin ("xi di na fei", "shequlin", "aisixitaipulan"): the toneless syllables of
    every Chinese name of three characters or more, matched as whole Latin words whose letters are the name's
    syllables in order, spaces optional but only between syllables. General for every listed name, not a list of
    typed forms; the readings are pypinyin's (phrase-aware, and each character's first reading)."""

    def __init__(self, keys: list[str], allow: frozenset[str] = frozenset()) -> None:
        # joined syllables → [(folded key, the letter offsets where its syllables end)]
        self._names: dict[str, list[tuple[str, frozenset[int]]]] = {}
        for key in keys:
            if not all(_is_cjk(c) for c in key) or len(key) < _PINYIN_MIN_SYLLABLES or key in allow:
                continue
            # (the phrase-aware reading and each character's own first one: 他达拉非's 达 either way, 单硝酸's 单 dan)
            for syllables in {tuple(s[0] for s in pinyin(key, style=Style.NORMAL)), tuple(map(_first_reading, key))}:
                joined = "".join(syllables)
                if len(joined) < _PINYIN_MIN_LETTERS or not joined.isascii() or not joined.isalpha():
                    continue
                ends, at = set(), 0
                for s in syllables:
                    at += len(s)
                    ends.add(at)
                entry = (key, frozenset(ends))
                if entry not in self._names.setdefault(joined, []):
                    self._names[joined].append(entry)
        self.prefixes = frozenset(j[:i] for j in self._names for i in range(1, len(j)))

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, folded key) of every listed name typed in pinyin in text, longest first from each word, words
        never overlapping."""
        if not self._names:
            return []
        if text.isascii():  # (one lower() and no call a word: most answers)
            words = [(m.start(), m.end(), m.group()) for m in _ASCII_WORD.finditer(text.lower())]
        else:
            words = [(m.start(), m.end(), _plain_pinyin(m.group())) for m in _PINYIN_WORD.finditer(text)]
        out: list[tuple[int, int, str]] = []
        prefixes, names = self.prefixes, self._names
        i = 0
        while i < len(words):
            if words[i][2] not in prefixes and words[i][2] not in names:  # most words: no name starts so
                i += 1
                continue
            best: tuple[int, str] | None = None
            joined, cuts = "", set()
            for j in range(i, len(words)):
                if j > i and not _PINYIN_GAP.fullmatch(text[words[j - 1][1] : words[j][0]]):
                    break
                joined += words[j][2]
                cuts.add(len(joined))
                for key, ends in self._names.get(joined, ()):
                    if cuts <= ends:  # a space only where a syllable ends: "shequ lin", not "sheq ulin"
                        best = (j, key)
                        break
                if joined not in self.prefixes:
                    break
            if best is None:
                i += 1
                continue
            out.append((words[i][0], words[best[0]][1], best[1]))
            i = best[0] + 1
        return out

    def pending(self, text: str) -> int | None:
        """Where the Latin words at the end of a stream begin when they may still become a name typed in pinyin (the
        start of the earliest such word), else None."""
        words = [(m.start(), m.end(), _plain_pinyin(m.group())) for m in _PINYIN_WORD.finditer(text[-60:])]
        if not words:
            return None
        base = max(0, len(text) - 60)
        # the words joined to the last one by gaps a name may hold; the earliest start whose join is a prefix
        k = len(words) - 1
        while k > 0 and _PINYIN_GAP.fullmatch(text[base + words[k - 1][1] : base + words[k][0]]):
            k -= 1
        tail_gap = text[base + words[-1][1] :]
        if tail_gap and not _PINYIN_GAP.fullmatch(tail_gap):
            return None
        for s in range(k, len(words)):
            joined = "".join(w[2] for w in words[s:])
            if joined in self.prefixes or joined in self._names:
                return base + words[s][0]
        return None


def _first_reading(ch: str) -> str:
    """A character's commonest toneless reading (pypinyin's first)."""
    return pinyin(ch, style=Style.NORMAL)[0][0]
