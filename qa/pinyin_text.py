"""Messages typed in pinyin (no Chinese input method: "wo ba tu ran shuo hua han hu"), read back into characters.

Triage reads meaning through Chinese words: the red-flag rules are Chinese and English patterns and the e5
embedder reads toneless pinyin as noise, so a pinyin message scores like an empty one. `looks_like_pinyin` says
whether a message is written that way (most of its Latin words split into pinyin syllables, hardly any English
words, no Chinese characters to speak of); `to_hanzi` turns its syllables back into characters the way an input
method does: every character whose first reading is the syllable, or another reading pypinyin's phrase table uses
it with, is a candidate, as is every phrase-table word read so, and a Viterbi pass picks the sequence a character
bigram model of patients' questions and doctors' answers finds likeliest (qa/data/pinyin_lm.json.gz, built by scripts/build_pinyin_lm.py from Toyhom's
Chinese medical dialogue data, MIT). Wrong characters with the right sound are expected now and then; the reader
only has to get the medical words right often enough for triage to see them.
"""

from __future__ import annotations

import gzip
import json
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

from pypinyin import phrases_dict, pinyin_dict

_LATIN = re.compile(r"[A-Za-zÀ-ÿĀ-ɏǍ-ǜ̀-ͯü]+[1-5]?")
_CJK = re.compile(r"[\u3400-\u9fff]")
_MAX_SYLLABLE = 6  # zhuang, shuang, chuang
_CANDIDATES = 40  # characters kept per syllable, the commonest in the model's text first
_LAMBDA = 0.9  # weight of the bigram against the unigram (interpolated, so unseen pairs still score)
_MAX_WORD = 4  # syllables of the longest dictionary word tried
_WORD_BONUS = 1.0  # log-score per character of a dictionary word beyond its first: words beat chance characters

# English words that are not also pinyin syllables, commonest first: a message with a few of these is English
# (or a code-switched message the embedder reads) and is left as it is
_ENGLISH = frozenset(
    "the is are was were be been am i my your it its to of and or in on at for with this that have has had "
    "not no yes do does did can will would should could what when how why who which there here from by as if so "
    "but just about after before very too also get got feel feels felt pain help please doctor hospital now today "
    "last night day days week weeks ago hurts hurt sick baby mum mom dad son daughter wife husband".split()
)


@dataclass(frozen=True)
class PinyinModel:
    """Candidates per syllable and the character model's counts."""

    candidates: dict[str, tuple[str, ...]]
    words: dict[tuple[str, ...], tuple[str, ...]]  # toneless syllables -> dictionary words with that reading
    unigram: dict[str, int]
    bigram: dict[str, int]
    total: int

    def p_char(self, char: str) -> float:
        """P(char) with add-one smoothing."""
        return (self.unigram.get(char, 0) + 1) / (self.total + len(self.unigram))

    def log_start(self, char: str) -> float:
        """log P(char)."""
        return math.log(self.p_char(char))

    def log_next(self, prev: str, char: str) -> float:
        """log P(char | prev), the bigram interpolated with the unigram."""
        seen = self.unigram.get(prev, 0)
        bi = self.bigram.get(prev + char, 0) / seen if seen else 0.0
        return math.log(_LAMBDA * bi + (1 - _LAMBDA) * self.p_char(char))


def toneless(syllable: str) -> str:
    """A reading without tone marks or numbers; ü written v, as keyboards type it."""
    lowered = re.sub("[üǖǘǚǜ]", "v", unicodedata.normalize("NFC", syllable.lower()))
    plain = "".join(c for c in unicodedata.normalize("NFD", lowered) if not unicodedata.combining(c))
    return plain.rstrip("12345")


@cache
def model() -> PinyinModel:
    """The packaged character model and, for each toneless syllable, the characters that have it as a reading."""
    raw = resources.files("qa.data").joinpath("pinyin_lm.json.gz").read_bytes()
    data = json.loads(gzip.decompress(raw))
    unigram: dict[str, int] = data["unigram"]
    bigram: dict[str, int] = data["bigram"]
    if not unigram or not bigram:
        raise ValueError("pinyin_lm.json.gz: empty unigram or bigram table")
    # a character's first reading, and any other the phrase table uses it with (行 háng in 银行): pypinyin lists
    # rare and old readings too (以 as si), which would put common characters on syllables they are never typed as;
    # the table's words of two to _MAX_WORD characters are the lattice's words, by their toneless reading
    attested: set[tuple[str, str]] = set()
    words: dict[tuple[str, ...], list[str]] = {}
    for word, readings in phrases_dict.phrases_dict.items():
        plain = [toneless(r[0]) for r in readings]
        attested.update(zip(word, plain, strict=False))
        if 2 <= len(word) <= _MAX_WORD and len(readings) == len(word) and all(map(_CJK.fullmatch, word)):
            words.setdefault(tuple(plain), []).append(word)
    by_syllable: dict[str, set[str]] = {}
    for code, readings in pinyin_dict.pinyin_dict.items():
        char = chr(code)
        if not _CJK.fullmatch(char):
            continue
        first, *others = (toneless(r) for r in readings.split(","))
        for key in [first, *(r for r in others if (char, r) in attested)]:
            by_syllable.setdefault(key, set()).add(char)
            if "v" in key:  # many type nü/lü as nu/lu
                by_syllable.setdefault(key.replace("v", "u"), set()).add(char)
    candidates = {
        key: tuple(sorted(chars, key=lambda c: (-unigram.get(c, 0), c))[:_CANDIDATES])
        for key, chars in by_syllable.items()
    }
    return PinyinModel(candidates, {k: tuple(v) for k, v in words.items()}, unigram, bigram, sum(unigram.values()))


def syllables(word: str, known: dict[str, tuple[str, ...]]) -> list[str] | None:
    """A Latin word split into pinyin syllables (fewest pieces), or None when it does not split."""
    word = toneless(word)
    best: list[list[str] | None] = [[]] + [None] * len(word)
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - _MAX_SYLLABLE), end):
            head = best[start]
            piece = word[start:end]
            if head is not None and piece in known and (best[end] is None or len(head) + 1 < len(best[end])):
                best[end] = [*head, piece]
    return best[-1]


def looks_like_pinyin(text: str) -> bool:
    """A message typed in toneless (or tone-marked) pinyin rather than characters or English."""
    words = [w.lower() for w in _LATIN.findall(text)]
    if len(words) < 3 or len(_CJK.findall(text)) > 2:
        return False
    known = model().candidates
    english = sum(w in _ENGLISH for w in words)
    pinyin = sum(syllables(w, known) is not None and w not in _ENGLISH for w in words)
    return pinyin >= 0.8 * len(words) and english <= max(1, len(words) // 10)


def _decode(run: list[str], lm: PinyinModel) -> str:
    """Viterbi over a lattice of single characters and dictionary words covering a run of syllables; the state is
    the last character (the bigram's context), every character scored by the bigram model, words given a bonus."""
    # best[i][char]: (score, previous position, previous char, text of the last edge) for paths ending at i
    best: list[dict[str, tuple[float, int, str, str]]] = [{"": (0.0, -1, "", "")}] + [{} for _ in run]
    for i in range(len(run)):
        if not best[i]:
            continue
        edges = [(1, c) for c in lm.candidates[run[i]]]
        for j in range(i + 2, min(len(run), i + _MAX_WORD) + 1):
            edges += [(j - i, w) for w in lm.words.get(tuple(run[i:j]), ())]
        for prev, (score, *_rest) in best[i].items():
            for span, text in edges:
                total = score + (len(text) - 1) * _WORD_BONUS
                last = prev
                for char in text:
                    total += lm.log_next(last, char) if last else lm.log_start(char)
                    last = char
                slot = best[i + span]
                if text[-1] not in slot or total > slot[text[-1]][0]:
                    slot[text[-1]] = (total, i, prev, text)
    out: list[str] = []
    pos, char = len(run), max(best[-1], key=lambda c: best[-1][c][0])
    while pos > 0:
        _score, before, prev, text = best[pos][char]
        out.append(text)
        pos, char = before, prev
    return "".join(reversed(out))


def to_hanzi(text: str) -> str:
    """The message with each run of pinyin words read as characters; everything else kept as written."""
    lm = model()
    pieces: list[str] = []
    run: list[str] = []
    pos = 0

    def flush() -> None:
        if run:
            pieces.append(_decode(run, lm))
            run.clear()

    for match in _LATIN.finditer(text):
        between = text[pos : match.start()]
        if between.strip():  # punctuation or digits end a run of syllables
            flush()
            pieces.append(between.strip())
        parts = syllables(match.group(), lm.candidates)
        if parts is None or match.group().lower() in _ENGLISH:
            flush()
            pieces.append(f" {match.group()} ")
        else:
            run.extend(parts)
        pos = match.end()
    flush()
    pieces.append(text[pos:].strip())
    return re.sub(r"\s{2,}", " ", "".join(pieces)).strip()
