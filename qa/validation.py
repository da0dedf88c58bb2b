"""Forbidden prescription-drug names (found however they are disguised, redacted even mid-stream), the
validation report, and helpers over parsed answers."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from .drug_shorthand import REACH as SHORT_REACH
from .drug_shorthand import Shorthand, ShorthandIndex, parse_clinical, parse_shorthand
from .drugs import (
    INVISIBLE,
    Alias,
    FuzzyIndex,
    PinyinNames,
    derived_names,
    fold,
    fold_key,
    name_trie,
    parse_aliases,
    parse_allowlist,
    split_halves,
    syllable_chars,
    trie_pattern,
)
from .errors import PromptError

_CJK = re.compile(r"[\u3400-\u9fff]")
_DOLLAR_TAIL = re.compile(r"(?<![A-Za-z0-9$])\$[a-z0-9]{0,2}$")
_LATIN = re.compile(r"[a-z0-9]+")
_LATIN_RUN = re.compile(r"[a-z]+")
# a Latin letter written three times or more in a row (a held letter, as people stretch a word), and what stands
# for the letters left out when it is read as one or two: an invisible character, which folding drops and the
# shorthand's token edges treat as no letter
_HELD_LETTER = re.compile(r"([A-Za-z])\1{2,}")
_PAD = "\u200b"
# a run of lower-case Latin letters right beside a Chinese character (and no longer Latin word): a pinyin syllable,
# perhaps (capitals beside Chinese are labels and English words: 维生素A, "If 您…")
_PINYIN_BESIDE_CJK = re.compile(
    r"(?<=[\u3400-\u9fff])[a-z]{1,6}(?![A-Za-z])|(?<![A-Za-z])[a-z]{1,6}(?=[\u3400-\u9fff])"
)
# ...and one at the very end of a stream, after a Chinese character: a syllable still being written ("奥施k")
_TRAILING_LETTERS_AFTER_CJK = re.compile(r"(?<=[\u3400-\u9fff])[a-z]{1,6}$")
# how far either side of a syllable a Chinese name holding it may reach (the longest listed names are shorter)
_SYLLABLE_REACH = 12


def _syllables_as_chars(text: str) -> str:
    """The text with each pinyin syllable written in letters beside a Chinese character ("阿莫xi林", "舍qu林", "a莫西林")
    replaced by a character of that sound, padded to the same length (spans stay the original's)."""
    chars = syllable_chars()

    def syllable(m: re.Match[str]) -> str:
        char = chars.get(m.group().lower())
        return m.group() if char is None else char + _PAD * (len(m.group()) - 1)

    return _PINYIN_BESIDE_CJK.sub(syllable, text)


_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_LATIN_WORD_CHAR = re.compile(r"[A-Za-z]")


# words about medicines: a dose, a form, a prescription, a treatment, a doctor (English and Chinese)
_DRUG_CONTEXT = re.compile(
    r"\d\s*(?:mg|mcg|µg|μg|ml|iu|g)\b|tablet|pill|capsule|dose|dosing|prescri|medic|drug|inject|pharmac|side effect"
    r"|\btak(?:e|es|ing)\b|\btook\b|treat|therap|\brx\b|doctor|physician|interact|alcohol"
    # (the doctors who prescribe, as patients shorten them: "my derm wants to put me on …", "psych now wants")
    r"|\bderm\b|dermatolog|psychiatr|\bpsych\b|\bdoc\b|\bgp\b"
    r"|药|剂|片|粒|胶囊|服|处方|治疗|注射|毫克|疗程|医生|医师|在用|用法",
    re.IGNORECASE,
)


def _is_latin_letter(text: str, i: int) -> bool:
    return 0 <= i < len(text) and _latin_char(text[i])


@cache
def _latin_char(ch: str) -> bool:
    """Whether one character folds to a Latin letter (cached: folding one character costs a dozen look-ups)."""
    folded = fold(ch).text
    return bool(folded) and "a" <= folded[0] <= "z"


def normalize_with_map(text: str) -> tuple[str, list[int]]:
    """NFKC + casefold, dropping invisible characters, whitespace, punctuation and symbols; with source indexes."""
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        # punctuation and symbols go too: "阿-莫-西-林" and "a.m.o.x.i.l" must read as the names they spell
        if ch in INVISIBLE or ch.isspace() or unicodedata.category(ch)[0] in "CPSZ":
            continue
        for folded in unicodedata.normalize("NFKC", ch).casefold():
            if folded.isspace():
                continue
            out.append(folded)
            index.append(i)
    return "".join(out), index


def normalize(text: str) -> str:
    """The normalized form names and answers are compared in."""
    return normalize_with_map(text)[0]


@dataclass(frozen=True)
class Drug:
    """One listed prescription drug: its names and its class in both languages."""

    names: tuple[str, ...]
    class_en: str
    class_zh: str
    brands: tuple[str, ...] = ()  # the names (of `names`) that are brands, reported as kind "brand"


@dataclass(frozen=True)
class DrugMatch:
    """A listed name found in a text, with its span in the original text."""

    name: str
    found: str
    start: int
    end: int
    replacement: str
    drug: str = ""  # the drug's first listed name (its English generic name)
    # exact|variant|brand|traditional|confusable|leet|homophone|fuzzy, or abbreviation|short (clinical shorthand,
    # found only in a drug context)
    kind: str = "exact"


def _two_words(name: str) -> tuple[str, str] | None:
    """The folded words of a listed name of exactly two Latin words, else None."""
    words = [fold_key(w) for w in re.split(r"[\s-]+", name.strip()) if w]
    if len(words) == 2 and all(_LATIN_RUN.fullmatch(w) for w in words):
        return words[0], words[1]
    return None


class _LetterMarks(dict):  # type: ignore[type-arg]
    """A str.translate table marking the folded characters a Latin word is made of with "a" (filled on first sight
    of each character): a Latin letter, or a letter no table folded (Ukrainian "є" in "kєtamine") — it stays in the
    word, as one typo for the look-up — but not a Chinese character."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        value = "a" if "a" <= ch <= "z" or (ch.isalpha() and not ch.isascii() and not _CJK.match(ch)) else "-"
        self[code] = value
        return value


_LETTER_MARKS = _LetterMarks()
_LETTER_RUN = re.compile("a+")


def _latin_words(text: str, folded: Any) -> list[tuple[int, int]]:
    """Folded spans of the whole Latin words of the original text (a space or mark ends a word; invisibles do not)."""
    idx, ends = folded.index, folded.ends
    words: list[tuple[int, int]] = []
    for run in _LETTER_RUN.finditer(folded.text.translate(_LETTER_MARKS)):
        start, stop = run.span()
        for k in range(start + 1, stop):
            # folding dropped something between two letters: a word ends there unless all of it is invisible
            if ends[k - 1] < idx[k] and not INVISIBLE.issuperset(text[ends[k - 1] : idx[k]]):
                words.append((start, k))
                start = k
        words.append((start, stop))
    # a word glued to a letter the fold dropped is not whole
    return [
        (a, b) for a, b in words if not _is_latin_letter(text, idx[a] - 1) and not _is_latin_letter(text, ends[b - 1])
    ]


def _plural_end(text: str, norm: str, last: int, key: str, folded: Any) -> int:
    """Where a Latin name's English plural ending ends in the folded text ("s", or "es" after s, x, z, ch, sh), when
    the plural is a whole word; else 0."""
    ending = "es" if key.endswith(("s", "x", "z", "ch", "sh")) else "s"
    stop = last + len(ending)
    if norm[last:stop] != ending or _is_latin_letter(text, folded.ends[stop - 1]):
        return 0
    # the ending must be written right after the name, not read across a space or a mark ("Ambien sleep")
    return stop if folded.index[stop - 1] == folded.ends[last - 1] + len(ending) - 1 else 0


_SPACE_RUN = re.compile(r"\s+")


def _across_words(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] runs across a space between two words of two letters or more (not letters spelled
    out one by one: "a m o x i c i l l i n")."""
    span = text[start:end]
    if not _SPACE_RUN.search(span):
        return False
    pieces = _SPACE_RUN.split(span.strip())
    return len(pieces) > 1 and sum(len(p) >= 2 for p in pieces) >= 2


def _split_name(folded: Any, fstart: int, fend: int, key: str) -> bool:
    """Whether a name read across words is spelled out in them letter for letter and long enough not to be formed by
    chance: English words line up into a short name often ("is thin" → Istin, "act os" → Actos) and a two-letter
    spelling read as one letter makes it likelier; a deliberately split long name ("atorvast atin", "Ivermec tin")
    keeps its letters."""
    return len(key) >= 7 and folded.unspelled(fstart, fend) == key


# the Chinese numerals one to nine and the digit each is typed as
_CJK_NUMERAL = {c: str(n) for n, c in enumerate("一二三四五六七八九", start=1)}


class DrugList:
    """Finds listed prescription-drug names in text, however they are disguised: width, case, spacing, traditional
    characters, look-alike letters, leetspeak digits, spelling variants, brands, Chinese homophones and typos."""

    def __init__(
        self,
        drugs: list[Drug],
        aliases: list[Alias] | None = None,
        allow: frozenset[str] = frozenset(),
        shorthand: list[Shorthand] | None = None,
        clinical: re.Pattern[str] | None = None,
    ) -> None:
        self.drugs = drugs
        self._by_key: dict[str, tuple[Drug, str]] = {}
        self._spelled: dict[str, str] = {}  # folded key → the name as listed (width, case and spacing folded)
        self._spelled_raw: dict[str, str] = {}  # folded key → the name as listed
        for drug in drugs:
            for name in drug.names:
                key = fold_key(name)
                if key and key not in self._by_key:
                    self._by_key[key] = (drug, "brand" if name in drug.brands else "exact")
                    self._spelled[key] = normalize(name)
                    self._spelled_raw[key] = name
        by_generic = {d.names[0].casefold(): d for d in drugs if d.names}
        # names from public sources: mostly trade names makers coined from sound-carrying characters, which
        # transliterated names share (伊夫林, Evelyn, reads as 易夫林), so they are matched exactly, no homophones
        self._public: set[str] = set()
        for alias in aliases or []:
            drug = by_generic.get(alias.generic_en.casefold())
            if drug is None:  # a misspelt generic name would otherwise drop the row without a word
                raise PromptError(f"drug alias {alias.alias!r}: {alias.generic_en!r} is not a listed drug")
            key = fold_key(alias.alias)
            if key and key not in self._by_key:
                self._by_key[key] = (drug, "brand" if alias.kind == "colloquial" else alias.kind)
                self._spelled[key] = normalize(alias.alias)
                self._spelled_raw[key] = alias.alias
                if alias.public:
                    self._public.add(key)
        # names derived by rule from the generic names (no salt word, "-ate" for "-ic acid", a combination's parts,
        # 青霉素 for 西林), after every listed name and alias so that a part listed on its own keeps its own drug;
        # a derived name the allowlist holds (paracetamol in a combination, hormones such as estradiol that
        # laboratory results name) is left out
        # a derived name inside a class name (肝素 in 肝素类抗凝药) would find a name in every redaction of it
        classes = [fold_key(c) for d in drugs for c in (d.class_en, d.class_zh)]
        for drug in drugs:
            for name in drug.names[: len(drug.names) - len(drug.brands)]:
                for derived in derived_names(name):
                    key = fold_key(derived)
                    if not key or key in self._by_key or key in allow or any(key in c for c in classes):
                        continue
                    self._by_key[key] = (drug, "variant")
                    self._spelled[key] = normalize(derived)
                    self._spelled_raw[key] = derived
        # a Chinese numeral of a name typed as a digit (1粒眠 for 一粒眠, Hong Kong's nimetazepam; 2甲双胍): the same
        # name, for every listed Chinese name with a numeral (a digit inside a name is never an ordinary word)
        for key in [k for k in self._by_key if _CJK.search(k) and not _CJK_NUMERAL.keys().isdisjoint(k)]:
            typed = fold_key("".join(_CJK_NUMERAL.get(c, c) for c in self._spelled_raw[key]))
            if typed and typed not in self._by_key and typed not in allow:
                self._by_key[typed] = (self._by_key[key][0], "leet")
                self._spelled[typed] = normalize(typed)
                self._spelled_raw[typed] = typed
        # longest first, so "insulin glargine" wins over a shorter overlapping name
        keys = sorted(self._by_key, key=len, reverse=True)
        # proper prefixes of names: a streamed tail equal to one of these may still become a name
        self.prefixes = {k[:i] for k in keys for i in range(1, len(k))}
        # ...and of their written forms, two-letter spellings kept: a stream that has "m.o.r.p" so far has no
        # "ph" yet to fold, and must still hold it back for "m.o.r.p.h.i.n.e"
        self.written_prefixes = {
            w[:i] for k in keys if (w := fold(self._spelled[k], spelling=False).text) != k for i in range(1, len(w))
        }
        self.longest_key = len(keys[0]) if keys else 0
        # names written in two words or more ("MS Contin", "ibandronic acid"): read across words by right
        self._spaced = frozenset(k for k in keys if re.search(r"\s", self._spelled_raw.get(k, "")))
        self._pattern = re.compile(trie_pattern(keys)) if keys else None
        # the same names walked as a trie from every position of a text (one dict look-up a character, where the
        # regex tries each of some 450 first characters in turn), and those a longer Latin word may hold
        self._trie = name_trie(keys)
        self._latin_keys = frozenset(k for k in keys if _LATIN.fullmatch(k))
        # the Chinese names typed in pinyin ("xi di na fei"): every Chinese name of three characters or more
        self.pinyin = PinyinNames([k for k in keys if _CJK.search(k)], allow)
        # the class names redaction writes are ordinary words by definition ("tyrosine kinase inhibitor")
        allow = allow | {fold_key(w) for d in drugs for w in re.split(r"[\s/()-]+", d.class_en) if w}
        self.fuzzy = FuzzyIndex(
            # typos only of generic names and their spellings: brands are short coined words that ordinary words
            # sit one letter away from (ability/Abilify, concert/Concerta)
            {
                k: fold(self._spelled[k], spelling=False).text
                for k in keys
                if _LATIN_RUN.fullmatch(k) and self._by_key[k][1] in ("exact", "variant")
            },
            {k: k for k in keys if _CJK.search(k) and k not in self._public},
            allow,
            {k: k for k in keys if _LATIN_RUN.fullmatch(k) and self._by_key[k][1] == "brand"},
            {fold_key(n): w for d in drugs for n in d.names if (w := _two_words(n)) is not None},
        )
        # the list's identity: an edited list gives another version, so cached answers checked against the old
        # one are not replayed
        listed = [[d.names, d.class_en, d.class_zh] for d in drugs]
        listed.append([[a.generic_en, a.alias, a.kind, a.public] for a in aliases or []])
        listed.append(sorted(allow))
        # clinical shorthand (MTX, 二甲): a form a listed name already holds, or one inside a class name (which
        # redaction writes), is left out
        self._short_drug: dict[str, Drug] = {}
        kept: list[Shorthand] = []
        for form in shorthand or []:
            drug = by_generic.get(form.generic_en.casefold())
            if drug is None:
                raise PromptError(f"drug shorthand {form.short!r}: {form.generic_en!r} is not a listed drug")
            key = fold_key(form.short)
            if key in self._by_key or (
                any(form.short in d.class_zh for d in drugs)
                if form.chinese
                else key in {w for d in drugs for w in re.split(r"[^a-z0-9]+", d.class_en.casefold())}
            ):
                continue
            self._short_drug[form.short] = drug
            kept.append(form)
        self.shorthand = ShorthandIndex(kept, clinical) if kept else None
        listed.append([[f.generic_en, f.short, f.exact_case] for f in kept])
        # (the clinical-note vocabulary decides shorthand too)
        if self.shorthand is not None:
            listed.append(self.shorthand.clinical.pattern)
        self.version = hashlib.sha256(json.dumps(listed, ensure_ascii=False).encode("utf-8")).hexdigest()

    @classmethod
    def parse(
        cls,
        text: str,
        where: str = "the drug list",
        aliases: str | None = None,
        allow: str | None = None,
        aliases_where: str = "drug_aliases.csv",
        more_aliases: Sequence[tuple[str, str]] = (),
        shorthand: tuple[str, str] | None = None,
        clinical: tuple[str, str] | None = None,
    ) -> DrugList:
        """Read the CSV list (generic_en, generic_zh, brands_en, brands_zh, class_en, class_zh), with optional
        alias CSV text (generic_en, alias, kind), more alias files from public sources as (text, where) read after
        it, allowlist text (one word a line), clinical shorthand as (text, where) (generic_en, short, case) and the
        clinical-note vocabulary as (text, where) (one word a line; the package's when not given)."""
        rows = list(csv.DictReader(io.StringIO(text)))
        needed = {"generic_en", "generic_zh", "brands_en", "brands_zh", "class_en", "class_zh"}
        if not rows or not needed <= set(rows[0]):
            raise PromptError(f"{where} must be a CSV with columns {', '.join(sorted(needed))}")
        drugs = []
        for row in rows:
            brands = [b.strip() for b in [*row["brands_en"].split("|"), *row["brands_zh"].split("|")] if b.strip()]
            names = [row["generic_en"], row["generic_zh"], *brands]
            names = tuple(n.strip() for n in names if n and n.strip())
            if names:
                drugs.append(
                    Drug(
                        names=names,
                        class_en=row["class_en"].strip(),
                        class_zh=row["class_zh"].strip(),
                        brands=tuple(brands),
                    )
                )
        parsed_aliases = parse_aliases(aliases, aliases_where) if aliases else []
        for more, more_where in more_aliases:
            parsed_aliases += parse_aliases(more, more_where, public=True)
        forms = parse_shorthand(*shorthand) if shorthand else None
        note = parse_clinical(*clinical) if clinical else None
        return cls(drugs, parsed_aliases, parse_allowlist(allow) if allow else frozenset(), forms, note)

    @classmethod
    def load(cls, path: Path) -> DrugList:
        """Read the CSV list from a file."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise PromptError(f"forbidden drug list not found: {path}") from exc
        return cls.parse(text, str(path))

    def begins_name(self, text: str) -> bool:
        """Whether folded `text` is a listed name's key or the start of one (a stream's tail that may still be one)."""
        return text in self.prefixes or text in self._by_key

    def is_public(self, name: str) -> bool:
        """Whether a name comes from the public-source alias files (matched exactly, no homophones)."""
        return fold_key(name) in self._public

    def _match(self, text: str, folded: Any, fstart: int, fend: int, key: str, kind: str, zh: bool) -> DrugMatch:
        drug, key_kind = self._by_key[key]
        start, end = folded.index[fstart], folded.ends[fend - 1]
        # a disguise in the span says more than the name's own kind
        disguises = {k for k in folded.kinds[fstart:fend] if k}
        if kind == "exact":
            kind = next((k for k in ("confusable", "leet", "traditional") if k in disguises), key_kind)
            if kind == "exact" and normalize(text[start:end]) != self._spelled[key]:
                kind = "variant"  # spelled another approved way: amoxycillin, sulphamethoxazole
        # answer in Chinese → Chinese class name, English answer → English class name
        replacement = drug.class_zh if zh else drug.class_en
        return DrugMatch(
            name=key,
            found=text[start:end],
            start=start,
            end=end,
            replacement=replacement,
            drug=drug.names[0],
            kind=kind,
        )

    def _names_in(self, text: str) -> bool:
        """Whether a listed name stands exactly in text (a whole word when Latin): the list context of shorthand."""
        if self._pattern is None:
            return False
        folded = fold(text)
        for m in self._pattern.finditer(folded.text):
            start, end = folded.index[m.start()], folded.ends[m.end() - 1]
            if not (_LATIN.fullmatch(m.group()) and (_is_latin_letter(text, start - 1) or _is_latin_letter(text, end))):
                return True
        return False

    def _shorthand(self, text: str, matches: list[DrugMatch], zh: bool, before: str) -> list[DrugMatch]:
        """Clinical shorthand standing in a drug context, outside every name already found."""
        if self.shorthand is None:
            return []
        out = []
        for hit in self.shorthand.find(text, before, self._names_in):
            if any(m.start < hit.end and hit.start < m.end for m in matches):
                continue
            drug = self._short_drug[hit.form.short]
            out.append(
                DrugMatch(
                    name=hit.form.short,
                    found=text[hit.start : hit.end],
                    start=hit.start,
                    end=hit.end,
                    replacement=drug.class_zh if zh else drug.class_en,
                    drug=drug.names[0],
                    kind="short" if hit.form.chinese else "abbreviation",
                )
            )
        return out

    def find(
        self, text: str, chinese: bool | None = None, context: bool | None = None, before: str = ""
    ) -> list[DrugMatch]:
        """Every listed name in text, as `_find` reads it, and names written with a letter held ("xaaanax", "fentyyy",
        "xannnies": a letter three times or more in a Latin word), read with the run as one letter and as two."""
        found = self._find(text, chinese, context, before)
        found = self._typed_in_pinyin(text, found, chinese)
        held = _HELD_LETTER.search(text) is not None
        mixed = _CJK.search(text) is not None and _PINYIN_BESIDE_CJK.search(text) is not None
        if not (held or mixed):
            return found
        zh = bool(_CJK.search(text)) if chinese is None else chinese
        # (a variant text of the same length, the piece of it to read, and the kind its names are reported with: None
        # keeps the finder's)
        variants: list[tuple[str, int, int, str | None]] = []
        if held:
            variants += [
                (
                    _HELD_LETTER.sub(lambda m, k=keep: m.group()[:k] + _PAD * (len(m.group()) - k), text),
                    0,
                    len(text),
                    None,
                )
                for keep in (1, 2)
            ]
        if mixed:
            # only the stretch around each syllable is read again (names, not shorthand: a syllable is no clinical code)
            padded = _syllables_as_chars(text)
            variants += [
                (padded, max(0, m.start() - _SYLLABLE_REACH), m.end() + _SYLLABLE_REACH, "homophone")
                for m in _PINYIN_BESIDE_CJK.finditer(text)
                if padded[m.start() : m.end()] != m.group()
            ]
        for padded, lo, hi, kind in variants:
            if padded == text:
                continue
            whole = lo == 0 and hi >= len(text)
            piece = padded if whole else padded[lo:hi]
            for m in self._find(piece, zh, context, before if whole else ""):
                if not whole:
                    if m.kind in ("short", "abbreviation"):
                        continue
                    m = replace(m, start=m.start + lo, end=m.end + lo)
                end = m.end
                # the rest of the run goes with the name: "xanaxxx" is redacted whole
                while end < len(text) and padded[end] == _PAD:
                    end += 1
                if padded[m.start : end] == text[m.start : end]:
                    continue
                # a longer name wins an overlap: "阿莫xi林" over the clipping 阿莫 inside it
                overlap = [f for f in found if f.start < end and m.start < f.end]
                if any(f.end - f.start >= end - m.start for f in overlap):
                    continue
                found = [f for f in found if f not in overlap]
                found.append(replace(m, found=text[m.start : end], end=end, kind=kind or m.kind))
        return sorted(found, key=lambda m: m.start)

    def _typed_in_pinyin(self, text: str, found: list[DrugMatch], chinese: bool | None) -> list[DrugMatch]:
        """`found` with the listed Chinese names typed in pinyin ("ta da la fei") added where no name was found."""
        if not _LATIN_WORD_CHAR.search(text):
            return found
        typed = self.pinyin.find(text)
        if not typed:
            return found
        zh = bool(_CJK.search(text)) if chinese is None else chinese
        out = list(found)
        for start, end, key in typed:
            if any(m.start < end and start < m.end for m in found):
                continue
            drug = self._by_key[key][0]
            out.append(
                DrugMatch(
                    name=key,
                    found=text[start:end],
                    start=start,
                    end=end,
                    replacement=drug.class_zh if zh else drug.class_en,
                    drug=drug.names[0],
                    kind="homophone",
                )
            )
        return sorted(out, key=lambda m: m.start)

    def _find(
        self, text: str, chinese: bool | None = None, context: bool | None = None, before: str = ""
    ) -> list[DrugMatch]:
        """Every listed name in text, with spans in the original (un-normalized) text; replacements are class names
        in Chinese when `chinese` (by default: when the text has Chinese). Misspelt brands are looked for only in
        a text about medicines (`context`; by default: when it has words about them or another listed name).
        Clinical shorthand (MTX, 二甲) counts only in a drug context, which may reach into `before` (text that came
        earlier: a stream's shown part)."""
        if self._pattern is None or not text:
            return []
        folded = fold(text)
        norm = folded.text
        zh = bool(_CJK.search(text)) if chinese is None else chinese
        candidates: list[tuple[int, int, str, str]] = []  # folded start, end, key, kind
        # the longest name from every start, not a non-overlapping run: folding drops spaces, so a name read across
        # two words ("over. Tavilox" reads "overtavilox", holding "ertavil") would otherwise hide the real name it
        # overlaps
        trie, latin_keys, size = self._trie, self._latin_keys, len(norm)
        for i, ch in enumerate(norm):
            node = trie.get(ch)
            if node is None:
                continue
            j, last = i + 1, 0
            if "" in node:
                last = j
            while j < size and (node := node.get(norm[j])) is not None:
                j += 1
                if "" in node:
                    last = j
            if not last:
                continue
            key = norm[i:last]
            start, end = folded.index[i], folded.ends[last - 1]
            if key in latin_keys and _is_latin_letter(text, end):
                # a name in the plural is the name: "Percocets", "Xanaxes", "Valiums" (patients count pills)
                plural = _plural_end(text, norm, last, key, folded)
                if plural:
                    last, end = plural, folded.ends[plural - 1]
            if key in latin_keys and (_is_latin_letter(text, start - 1) or _is_latin_letter(text, end)):
                continue  # inside a longer word: "specialist" is not "Cialis"
            if (
                key in latin_keys
                and key not in self._spaced
                and _across_words(text, start, end)
                and not _split_name(folded, i, i + len(key), key)
            ):
                continue  # read across English words: "His hair is thin" is not Istin
            candidates.append((i, last, key, "exact"))
        exact_spans = {(c[0], c[1]) for c in candidates}
        # typos: whole Latin words only, so a name is never found inside an ordinary longer word
        words = _latin_words(text, folded)
        for fstart, fend in words:
            if (fstart, fend) in exact_spans:
                continue
            written = folded.unspelled(fstart, fend)
            # (a word of five letters or fewer, as written, is never a typo of a name: no call)
            key = self.fuzzy.latin(norm[fstart:fend], written) if len(written) >= 6 else None
            # a misspelt brand, in a text about medicines (words about them, or another name): "Solaris" beside
            # Linux is the operating system, not a typo of Soliris; since the seventeenth session in a lower-case word
            # too, as people type brands ("seroquil", "klonipin 1mg"), the dictionary words one edit from a brand
            # allowlisted (astray, serenade); a lower-case word that is a clipping of the shorthand file (levetir, one
            # edit from Levemir) is left to the shorthand, which knows its drug
            if key is None and (
                text[folded.index[fstart]].isupper()
                or self.shorthand is None
                or not self.shorthand.has_form(text[folded.index[fstart] : folded.ends[fend - 1]])
            ):
                if context is None:
                    context = bool(candidates) or _DRUG_CONTEXT.search(text) is not None
                if context and fend - fstart >= 6:
                    key = self.fuzzy.brand(norm[fstart:fend])
            if key is not None:
                candidates.append((fstart, fend, key, "fuzzy"))
        # two-word names with one word misspelt or spelt another way ("insuline glargine"): adjacent words only
        pair_words = self.fuzzy.pair_words
        for (a0, a1), (b0, b1) in zip(words, words[1:], strict=False):
            if (
                a1 == b0
                and (norm[a0:a1] in pair_words or norm[b0:b1] in pair_words)
                and text[folded.ends[a1 - 1] : folded.index[b0]].strip(" -") == ""
            ):
                key = self.fuzzy.pair(norm[a0:a1], norm[b0:b1])
                if key is not None and (a0, b1) not in exact_spans:
                    candidates.append((a0, b1, key, "fuzzy"))
        # homophones: a Chinese name written with a character of the same sound
        for m in _CJK_RUN.finditer(norm):
            for i in self.fuzzy.chinese_starts(norm, m.start(), m.end()):
                key = self.fuzzy.chinese(norm, i)
                if key is not None:
                    candidates.append((i, i + len(key), key, "homophone"))
        # the longest name wins an overlap: 阿莫达菲尼 is armodafinil, not the brand 达菲 inside it
        taken = [False] * len(norm)
        matches: list[tuple[int, DrugMatch]] = []
        for fstart, fend, key, kind in sorted(candidates, key=lambda c: (c[0] - c[1], c[3] != "exact", c[0])):
            if not any(taken[fstart:fend]):
                taken[fstart:fend] = [True] * (fend - fstart)
                matches.append((fstart, self._match(text, folded, fstart, fend, key, kind, zh)))
        found = [m for _, m in sorted(matches, key=lambda pair: pair[0])]
        short = self._shorthand(text, found, zh, before)
        return sorted(found + short, key=lambda m: m.start) if short else found

    def redact(self, text: str) -> tuple[str, list[DrugMatch]]:
        """Replace every listed name by its drug class."""
        matches = self.find(text)
        for m in reversed(matches):
            text = text[: m.start] + m.replacement + text[m.end :]
        return text, matches


@dataclass
class RuleHit:
    """One rule that fired on one attempt."""

    rule: str
    message: str
    attempt: int


@dataclass
class ValidationReport:
    """What was checked on an answer, what fired, and what was repaired."""

    checks: list[str] = field(default_factory=list)  # the names of the checks that ran
    fired: list[RuleHit] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    attempts: int = 0
    passed: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON output."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationReport:
        """The report to_dict() wrote."""
        return cls(
            checks=list(data["checks"]),
            fired=[RuleHit(**hit) for hit in data["fired"]],
            repairs=list(data["repairs"]),
            attempts=int(data["attempts"]),
            passed=bool(data["passed"]),
        )


def string_fields(data: Any) -> list[str]:
    """Every string in a parsed answer."""
    if isinstance(data, str):
        return [data]
    if isinstance(data, list):
        return [s for item in data for s in string_fields(item)]
    if isinstance(data, dict):
        return [s for value in data.values() for s in string_fields(value)]
    return []


def map_strings(data: Any, fn: Any) -> Any:
    """A copy of data with fn applied to every string."""
    if isinstance(data, str):
        return fn(data)
    if isinstance(data, list):
        return [map_strings(item, fn) for item in data]
    if isinstance(data, dict):
        return {key: map_strings(value, fn) for key, value in data.items()}
    return data


@cache
def _word_char(ch: str) -> bool:
    """Whether ch could sit inside a Latin word: a letter or digit (look-alikes and unknown letters too) or an
    invisible character; Chinese characters end a word."""
    if ch in INVISIBLE or ch == "@":  # "@" stands for an a inside a word ("tr@madol")
        return True
    folded = fold(ch).text
    return bool(folded) and (
        folded[0].isascii() and folded[0].isalnum() or folded[0].isalpha() and not _CJK.match(folded[0])
    )


class StreamRedactor:
    """Redacts listed names from a growing text, holding back only a tail that could still become a name.

    `feed(chunk)` returns the text that is now safe to show; `finish()` returns the rest. Nothing returned ever
    contains a listed name, even when a name arrives split over several chunks or disguised by spacing. Held back:
    a tail that folds to the start of a name or sounds like the start of a Chinese name, and any unfinished Latin
    word (a typo or leet spelling is only known once the word ends). What was returned is never re-redacted.
    """

    def __init__(self, drugs: DrugList) -> None:
        self.drugs = drugs
        self.raw = ""
        self._done = 0  # characters of raw already redacted and returned; no name can start before this
        self._chinese = False  # whether the answer so far has Chinese (class names then come in Chinese)

    def _window(self) -> int:
        """Where analysis starts: one character before the undone part (a word boundary needs it)."""
        return max(0, self._done - 1)

    def _safe_end(self) -> int:
        """Index in raw before which no name can still start."""
        w0 = self._window()
        text = self.raw[w0:]
        # (pinyin syllables beside Chinese characters read as characters of that sound, for the tails: "a莫" may begin
        # a莫西林; the same length, so indices hold)
        mixed = _CJK.search(text) is not None and _PINYIN_BESIDE_CJK.search(text) is not None
        folded = fold(_syllables_as_chars(text) if mixed else text)
        norm, index = folded.text, folded.index
        end = len(text)
        # (a last 口 or 酉 may be the first half of a character written as its two components, 阿普口 → 阿普唑: the tail
        # is also read with each character that half begins)
        halves = split_halves(norm[-1]) if norm else ()
        for length in range(min(len(norm), self.drugs.longest_key), 0, -1):
            tail = norm[-length:]
            # an exact prefix, or a Chinese tail that sounds like the start of a name ("阿齐霉" → 阿奇霉素)
            if (
                tail in self.drugs.prefixes
                or (_CJK.match(tail) and self.drugs.fuzzy.chinese_prefix(tail))
                or any(self.drugs.begins_name(tail[:-1] + whole) for whole in halves)
            ):
                end = index[len(norm) - length]
                break
        # a "$" with fewer than three lower-case letters after it at the end may still become an s opening a word
        # ("$ub0xone" arrives as "$u"): it waits
        dollar = _DOLLAR_TAIL.search(text)
        if dollar is not None:
            end = min(end, dollar.start())
        # letters right after a Chinese character at the very end may be a syllable of a name being written ("奥施k"):
        # the Chinese tail before them waits as if it were the text's end
        trailing = _TRAILING_LETTERS_AFTER_CJK.search(text)
        if trailing is not None:
            head = fold(text[: trailing.start()])
            for length in range(min(len(head.text), self.drugs.longest_key), 0, -1):
                tail = head.text[-length:]
                if tail in self.drugs.prefixes or (_CJK.match(tail) and self.drugs.fuzzy.chinese_prefix(tail)):
                    end = min(end, head.index[len(head.text) - length])
                    break
        written = fold(text, spelling=False)
        for length in range(min(len(written.text), self.drugs.longest_key + 2), 0, -1):
            if written.text[-length:] in self.drugs.written_prefixes:
                end = min(end, written.index[len(written.text) - length])
                break
        # a trailing Latin word (look-alikes and digits included) may still grow or be a typo of a name once
        # complete ("azitro" → "azitromycin"), so it waits for the character that ends it
        while end > 0 and _word_char(text[end - 1]):
            end -= 1
        # (and a "$" opening it, which may be its s: "$ub0xone")
        if end > 0 and text[end - 1] == "$" and end < len(text) and text[end].islower():
            end -= 1
        # Latin words at the end that may still become a Chinese name typed in pinyin ("xi di na "), wait for the next
        typed = self.drugs.pinyin.pending(text[:end]) if end else None
        if typed is not None:
            end = typed
        # a complete word that may be a two-word name's first word, misspelt ("insuline "), waits for the next
        before = end
        while before > 0 and text[before - 1] in " -":
            before -= 1
        start = before
        while start > 0 and _word_char(text[start - 1]):
            start -= 1
        if start < before and self.drugs.fuzzy.pair_first(fold(text[start:before]).text):
            end = start
        # clinical shorthand (MTX, 二甲) is decided by its context, so a form waits until the context after it is
        # complete (or a sentence ends), and a cut inside a form's context waits for that form too
        short = self.drugs.shorthand
        if short is not None:
            # (with three characters already shown before the window: whether a form stands as a token may depend on
            # them, as a bed number does in 12床右美)
            lead = self.raw[max(0, w0 - 3) : w0]

            def pending(upto: int, tail: bool) -> int | None:
                at = short.pending(lead + text[:upto], tail=tail)
                return None if at is None else max(0, at - len(lead))

            hold = pending(end, True)
            while hold is not None and hold < end:
                end = hold
                hold = pending(end, False)
        # never cut through a name already complete: its redaction must come out whole; and a sound-alike at the very
        # end waits for the next character, which may make it another word (苯丙氨 before 酸)
        for match in self.drugs.find(text, context=True):
            if match.start < end < match.end or (match.kind == "homophone" and match.end >= len(text)):
                end = min(end, match.start)
        return max(w0 + end, self._done)

    def _emit(self, end: int) -> str:
        if end <= self._done:
            return ""
        w0 = self._window()
        text = self.raw[w0:end]
        self._chinese = self._chinese or bool(_CJK.search(text))
        out: list[str] = []
        pos = self._done
        # each piece is redacted once, in the language the answer had so far, so what was shown never changes
        # an answer streams in pieces, and the words that show it is about medicines may come after a name: a
        # stream always looks for misspelt brands
        # shorthand reads the context before it, which may have been shown already (as far back as a dose makes the
        # text a prescription)
        before = self.raw[max(0, w0 - SHORT_REACH) : w0]
        for m in self.drugs.find(text, chinese=self._chinese, context=True, before=before):
            start, stop = w0 + m.start, w0 + m.end
            if stop <= pos:
                continue
            out.append(self.raw[pos:start] if start > pos else "")
            out.append(m.replacement if start >= pos else "")  # a name begun before: drop the rest of it
            pos = stop
        out.append(self.raw[pos:end])
        self._done = end
        return "".join(out)

    def feed(self, chunk: str) -> str:
        """Add a chunk; return newly safe text."""
        self.raw += chunk
        return self._emit(self._safe_end())

    def finish(self) -> str:
        """The held-back tail, redacted."""
        return self._emit(len(self.raw))


def fit_to_schema(data: dict[str, Any], schema: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Trim strings and lists that repairs made longer than the schema allows; returns what was trimmed."""
    trimmed: list[str] = []

    def cut(text: str, limit: int | None, where: str) -> str:
        if limit is not None and len(text) > limit:
            trimmed.append(f"shortened {where} to {limit} characters")
            # end on the last whole sentence that fits when that keeps a third of the room, else mark the cut
            ends = [i for i, ch in enumerate(text[:limit]) if ch in "。！？!?；;"]
            if ends and ends[-1] + 1 >= limit // 3:
                return text[: ends[-1] + 1]
            return text[: limit - 1] + "…"
        return text

    fitted = dict(data)
    for key, prop in schema.get("properties", {}).items():
        value = fitted.get(key)
        if isinstance(value, str):
            fitted[key] = cut(value, prop.get("maxLength"), key)
        elif isinstance(value, list):
            limit = prop.get("maxItems")
            if limit is not None and len(value) > limit:
                trimmed.append(f"kept the first {limit} items of {key}")
                value = value[:limit]
            item_limit = prop.get("items", {}).get("maxLength")
            fitted[key] = [cut(v, item_limit, f"{key}[{i}]") if isinstance(v, str) else v for i, v in enumerate(value)]
    return fitted, trimmed
