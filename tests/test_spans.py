"""Span location and sentence splitting shared by citations and record extraction."""

from __future__ import annotations

import pytest

from qa.documents import normalise
from qa.spans import locate, split_sentences


def squash(text: str) -> str:
    return "".join(normalise(text).split()).casefold()


TEXT = normalise("患者男，６５岁。主诉：胸痛３小时！\r\n查体：BP 150/90mmHg。⼩便正常")


@pytest.mark.parametrize(
    ("quote", "status"),
    [
        ("胸痛3小时", "exact"),
        ("主诉: 胸痛 3 小时", "normalised"),  # spaces and full-width colon in the quote
        ("bp 150/90MMHG", "normalised"),  # case
        ("查体:BP 150/90mmHg,小便正常", "fuzzy"),  # one punctuation mark differs
        ("完全无关的内容哈哈", "ungrounded"),
        ("", "ungrounded"),
    ],
)
def test_locate_statuses_and_offsets_round_trip(quote: str, status: str) -> None:
    found = locate(quote, TEXT)
    assert found.status == status
    if status == "exact":
        assert TEXT[found.start : found.end] == quote
    elif status == "normalised":
        assert squash(TEXT[found.start : found.end]) == squash(quote)
    elif status == "fuzzy":
        assert 0 <= found.start < found.end <= len(TEXT) and found.score >= 85


def test_locate_offsets_are_relative_to_the_whole_text() -> None:
    sentence = split_sentences(TEXT)[1]
    found = locate("胸痛3小时", sentence.text, offset=sentence.start)
    assert TEXT[found.start : found.end] == "胸痛3小时"


def test_normalise_maps_kangxi_radicals_and_full_width_digits() -> None:
    assert "小便" in TEXT and "65岁" in TEXT and "\r" not in TEXT


def test_sentences_cover_the_text_with_exact_offsets() -> None:
    sentences = split_sentences(TEXT)
    assert [s.id for s in sentences] == list(range(1, len(sentences) + 1))
    assert all(TEXT[s.start : s.end] == s.text for s in sentences)
    assert sentences[0].text == "患者男,65岁。"


def test_a_long_sentence_is_cut_into_bounded_pieces() -> None:
    text = "，".join(["血压波动明显"] * 200) + "。"
    sentences = split_sentences(text, max_chars=100)
    assert len(sentences) > 10 and all(len(s.text) <= 100 for s in sentences)
    assert all(text[s.start : s.end] == s.text for s in sentences)


def test_fuzzy_search_is_bounded() -> None:
    # a window far past the bound is never fuzzily searched: the answer is ungrounded, fast
    window = "甲乙丙丁" * 5000
    assert locate("甲乙丙戊甲乙丙丁", window).status == "ungrounded"
