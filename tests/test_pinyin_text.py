"""Messages typed in pinyin read back into characters (qa.pinyin_text) and triaged as what they say."""

from __future__ import annotations

import gzip
import json
from importlib import resources

import pytest

from qa.pinyin_text import looks_like_pinyin, syllables, to_hanzi, toneless
from qa.pinyin_text import model as pinyin_model


@pytest.mark.parametrize(
    ("text", "pinyin"),
    [
        ("wo ba xiong kou teng, chu le yi shen leng han", True),
        ("ta hu xi kun nan, zui chun fa zi", True),
        ("wo xiang si", True),  # three words are enough: the shortest cries for help are short
        ("Wǒ tóu téng", True),  # tone marks
        ("wo3 tou2 teng2 de li hai", True),  # tone numbers
        ("woba xiongkou teng", True),  # words typed without spaces between syllables
        ("ni hao", False),  # too short to tell
        ("I have a headache and fever since last night", False),
        ("my son hit his head and is vomiting", False),
        ("我爸胸口疼，出了一身冷汗", False),
        ("我爸 xiong kou teng 出冷汗", False),  # characters beside: left as written
        ("BP 180/110, HR 120, SpO2 88%", False),
        ("chest pain radiating to the left arm", False),
    ],
)
def test_looks_like_pinyin(text, pinyin):
    assert looks_like_pinyin(text) is pinyin


@pytest.mark.parametrize(
    ("pinyin", "words"),
    [
        ("wo ba xiong kou teng, chu le yi shen leng han", ["胸口疼", "冷汗"]),
        ("ta hu xi kun nan, zui chun fa zi", ["呼吸困难", "嘴唇发紫"]),
        ("wo ma tu ran shuo hua han hu bu qing, zui wai le", ["突然", "说话", "含糊不清"]),
        ("wo xiang si", ["我想死"]),
        ("chi le yi ping an mian yao", ["安眠药"]),
    ],
)
def test_to_hanzi_reads_the_medical_words(pinyin, words):
    read = to_hanzi(pinyin)
    assert all(w in read for w in words), read


def test_syllables_and_toneless():
    known = pinyin_model().candidates
    assert syllables("xiongkou", known) == ["xiong", "kou"]
    assert syllables("fever", known) is None  # ("headache" splits: he-a-da-che; English is told by its words)
    assert toneless("lǜ") == "lv" and toneless("téng2") == "teng"


def test_english_and_numbers_stay_as_written():
    assert to_hanzi("wo chi le 30 pian paracetamol").count("30") == 1
    assert "paracetamol" in to_hanzi("wo chi le 30 pian paracetamol")


def test_the_packaged_model_is_valid():
    raw = resources.files("qa.data").joinpath("pinyin_lm.json.gz").read_bytes()
    data = json.loads(gzip.decompress(raw))
    assert {"source", "unigram", "bigram"} <= set(data)
    assert len(data["unigram"]) > 2000 and len(data["bigram"]) > 20000
    assert all(len(k) == 2 for k in data["bigram"])
