"""The drug finder's fast paths give exactly what the plain algorithms give: folding by translation tables against
the character-by-character fold, the trie walk against the regex scan from every start, the homophone pre-check
against a look-up at every position, and the typo memo against a fresh look-up."""

from __future__ import annotations

import json
import random
import unicodedata
from pathlib import Path

import pytest

from qa.drugs import _SEEN_MAX, _SPELLING, INVISIBLE, LEET, _char_folds, _fold_leet_run, _split_pairs, fold
from qa.validation import DrugList

DATA = Path(__file__).resolve().parent.parent / "qa/data"


def _alone(text: str, i: int) -> bool:
    return text[i].isalpha() and not any(0 <= j < len(text) and text[j].isalpha() for j in (i - 1, i + 1))


def _reference_leet(out: list[str], index: list[int], kinds: list[str]) -> None:
    """Leet digits as they were folded before: every character visited in turn (the fast path jumps from one leet
    digit to the next; both hand each run to the same decision, _fold_leet_run)."""
    i = 0
    while i < len(out):
        if out[i] not in LEET:
            i += 1
            continue
        i = _fold_leet_run(out, index, kinds, i)


def _reference_fold(text: str, spelling: bool = True) -> tuple:
    """The fold as it was written before the translation tables: one character at a time."""
    folds = _char_folds()
    out, index, kinds = [], [], []
    for i, ch in enumerate(text):
        # "@" between two Latin letters is an a ("tr@madol")
        if ch == "@" and 0 < i < len(text) - 1 and all(c.isascii() and c.isalpha() for c in text[i - 1 : i + 2 : 2]):
            out.append("a")
            index.append(i)
            kinds.append("leet")
            continue
        # "$" for an s between two Latin letters, or opening a word of three lower-case letters or digits ("$ub0xone")
        if ch == "$" and (
            (0 < i < len(text) - 1 and all(c.isascii() and c.isalpha() for c in text[i - 1 : i + 2 : 2]))
            or (
                not (i and (text[i - 1] == "$" or (text[i - 1].isascii() and text[i - 1].isalnum())))
                and len(text) > i + 3
                and text[i + 1].isascii()
                and text[i + 1].islower()
                and all(c.isascii() and (c.islower() or c.isdigit()) for c in text[i + 2 : i + 4])
            )
        ):
            out.append("s")
            index.append(i)
            kinds.append("leet")
            continue
        if ch in INVISIBLE or ch.isspace() or unicodedata.category(ch)[0] in "CPSZ":
            continue
        kind = ""
        if ch in folds:
            ch, kind = folds[ch]
        for folded in unicodedata.normalize("NFKC", ch).casefold():
            if folded.isspace():
                continue
            if folded in folds and folds[folded][1] == "traditional":
                folded, kind = folds[folded]
            out.append(folded)
            index.append(i)
            kinds.append(kind)
    _reference_leet(out, index, kinds)
    out = ["i" if c in "ly" else c for c in out]
    spellings = _SPELLING if spelling else {}
    text_, idx, ends, kind_, at = [], [], [], [], []
    i = 0
    while i < len(out):
        at.append(i)
        pair = out[i] + out[i + 1] if i + 1 < len(out) else ""
        if pair in spellings and (
            index[i + 1] - index[i] <= 1 or (_alone(text, index[i]) and _alone(text, index[i + 1]))
        ):
            text_.append(spellings[pair])
            idx.append(index[i])
            ends.append(index[i + 1] + 1)
            kind_.append(kinds[i] or kinds[i + 1])
            i += 2
        elif spelling and pair in _split_pairs() and index[i + 1] - index[i] == 1:
            # a character written as its two components, side by side in the source (口坐 → 唑)
            text_.append(_split_pairs()[pair])
            idx.append(index[i])
            ends.append(index[i + 1] + 1)
            kind_.append(kinds[i] or kinds[i + 1] or "confusable")
            i += 2
        else:
            text_.append(out[i])
            idx.append(index[i])
            ends.append(index[i] + 1)
            kind_.append(kinds[i])
            i += 1
    at.append(len(out))
    return "".join(text_), idx, kind_, ends, "".join(out), at


def _texts() -> list[str]:
    """Every text of the drug sets, and short random strings of the characters folding treats specially."""
    texts = []
    for path in sorted(DATA.glob("drug_*.jsonl")):
        texts += [json.loads(line)["text"] for line in path.read_text("utf-8").splitlines()[:400] if line.strip()]
    rng = random.Random(5)
    alphabet = "aAphtheoePHTH013457lLyY@ ﬁﬂ½²Ⅷ〇①阿莫西林雙胍аѕ𝐚\u200b\u00ad-.,·ßİ口坐酉同$u"
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 14))) for _ in range(3000)]
    return texts


TEXTS = _texts()


@pytest.mark.parametrize("spelling", [True, False])
def test_fold_by_tables_equals_the_character_by_character_fold(spelling: bool) -> None:
    for text in TEXTS:
        f = fold(text, spelling)
        assert (f.text, f.index, f.kinds, f.ends, f.written, f.written_at) == _reference_fold(text, spelling), text


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("ﬁnasteride", "finasteride"),  # NFKC expands one character into two
        ("am0xicillin", "amoxiciiiin"),  # a leet digit between letters; l reads as i
        ("morphin3治疗 5mg", "morfine治疗5mg"),  # ph as one letter, a digit ending a long word, a dose stays digits
        ("p h e n y t o i n", "fenitoin"),  # letters spelled out one by one still fold their pair
        ("阿\u200b莫-西·林", "阿莫西林"),  # invisibles and marks dropped
        ("威而鋼", "威而钢"),  # traditional to simplified
    ],
)
def test_fold_examples(text: str, folded: str) -> None:
    assert fold(text).text == folded


def test_trie_walk_finds_what_the_regex_finds_from_every_start(drugs: DrugList) -> None:
    assert drugs._pattern is not None
    for text in TEXTS:
        norm = fold(text).text
        by_regex, pos = [], 0
        while (m := drugs._pattern.search(norm, pos)) is not None:
            pos = m.start() + 1
            by_regex.append((m.start(), m.end()))
        by_walk = []
        for i in range(len(norm)):
            node, last = drugs._trie.get(norm[i]), 0
            j = i + 1
            while node is not None:
                if "" in node:
                    last = j
                node = node.get(norm[j]) if j < len(norm) else None
                j += 1
            if last:
                by_walk.append((i, last))
        assert by_walk == by_regex, text


def test_homophone_pre_check_keeps_every_position_a_name_may_start(drugs: DrugList) -> None:
    fuzzy = drugs.fuzzy
    for text in TEXTS:
        norm = fold(text).text
        kept = set(fuzzy.chinese_starts(norm, 0, len(norm)))
        for i in range(len(norm)):
            if "\u3400" <= norm[i] <= "\u9fff" and i not in kept:
                assert fuzzy.chinese(norm, i) is None, (text, i)


@pytest.mark.parametrize(
    ("word", "written"),
    [("amoxicilin", None), ("azitromycine", "azithromycine"), ("sandwiches", None), ("therapy", "therapy")],
)
def test_typo_memo_answers_as_a_fresh_look_up(drugs: DrugList, word: str, written: str | None) -> None:
    fuzzy = drugs.fuzzy
    fresh = fuzzy._latin(word, written)
    assert fuzzy.latin(word, written) == fresh  # first look-up, remembered
    assert fuzzy.latin(word, written) == fresh  # from the memo
    assert fuzzy._seen[(word, written)] == fresh


def test_typo_memo_is_bounded(drugs: DrugList) -> None:
    fuzzy = drugs.fuzzy
    fuzzy._seen.clear()
    fuzzy._seen.update({(f"w{i:07d}", None): None for i in range(_SEEN_MAX)})
    assert fuzzy.latin("amoxicilin") == fuzzy._latin("amoxicilin", None) is not None  # a full memo is emptied
    assert len(fuzzy._seen) == 1
