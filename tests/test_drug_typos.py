"""Typo look-up for Latin drug names: the name's own edit bound for words that keep its first and last letters,
Damerau edits, and a second look-up in the written form (two-letter spellings unfolded). Examples come from the
tuning split (and fresh typos of tuning drugs); the ordinary words are from the dictionary sweep."""

from __future__ import annotations

import pytest

from qa.drugs import FuzzyIndex, fold
from qa.validation import DrugList, StreamRedactor


@pytest.mark.parametrize(
    ("typo", "drug"),
    [
        ("oseltamvr", "oseltamivir"),  # two letters dropped from 11: 9 letters, anchored, so the 11-letter bound
        ("scukinuab", "secukinumab"),
        ("dnazol", "danazol"),  # six letters, one dropped from a seven-letter name
        ("dulxetiee", "duloxetine"),  # a letter dropped and one changed
        ("vardnfail", "vardenafil"),  # a letter dropped next to a swap
        ("bicalutiade", "bicalutamide"),  # the swapped pair became adjacent only after the drop: Damerau, not OSA
        ("ticagrelro", "ticagrelor"),  # the last two letters swapped still anchor
        ("venetocxa", "venetoclax"),  # ...also with a letter dropped
        ("bezafibrae", "bezafibrate"),  # "ae" would fold to "e" and put the word past the bound
        ("propafinoen", "propafenone"),  # "oe" likewise
        ("isavconazoee", "isavuconazole"),
        ("erhambutol", "ethambutol"),  # the name's "th" folds away, the typo's "rh" does not
    ],
)
def test_tuning_style_typos_are_found_as_the_drug(drugs: DrugList, typo: str, drug: str) -> None:
    text = f"Take {typo} twice a day."
    [match] = drugs.find(text)
    assert (match.drug, match.kind, match.found) == (drug, "fuzzy", typo)
    assert drugs.find(f"请服用{typo}治疗")[0].drug == drug


@pytest.mark.parametrize(
    "word",
    [
        "determine",  # phentermine: first letter differs, so the shorter word's bound (1) holds
        "rapidly",  # urapidil
        "ability",  # Abilify: brands get no typo look-up
        "concert",  # Concerta
        "hydrazine",  # hydralazine: anchored and 2 edits, allowlisted after the sweep
        "thiazole",  # thiamazole
        "propanone",  # propafenone
        "carabine",  # cytarabine
        "galantine",  # galantamine
        "slideably",  # sildenafil
        "thiadiazole",  # thiamazole, through the written form ("th" kept on both sides)
        "penicillin",
        "medicine",
        "dopamine",
        "treatment",
    ],
)
def test_ordinary_words_are_not_hit(drugs: DrugList, word: str) -> None:
    assert drugs.find(f"Words like {word} are ordinary.") == []


@pytest.mark.parametrize(
    ("token", "found"),
    [
        ("oseltamivr", "oseltamivir"),  # one edit
        ("oseltamvr", "oseltamivir"),  # two dropped, first and last letters kept
        ("oseltamvi", None),  # two dropped but the last letter too: the 9-letter word's bound of 1 holds
        ("xseltamivir", "oseltamivir"),  # same length: one edit anywhere is within the plain bound
        ("xseltamvr", None),  # first letter changed and two dropped: not anchored
        ("seltamvir", None),  # two dropped including the first letter: not anchored
        ("danazl", "danazol"),
        ("danaz", None),  # under six letters: never a typo
        ("danzl", None),
    ],
)
def test_the_anchored_bound_on_a_small_index(token: str, found: str | None) -> None:
    index = FuzzyIndex(
        {fold(n).text: fold(n, spelling=False).text for n in ("oseltamivir", "danazol")}, {}, frozenset()
    )
    key = index.latin(fold(token).text)
    assert key == (fold(found).text if found else None)


def test_a_typo_is_also_compared_in_its_written_form() -> None:
    # "ph" folds to "f": folded, "fentermine" and "phentermien" are 2 apart at 10/11 letters; as written, 1 swap
    index = FuzzyIndex({"fentermine": "phentermine"}, {}, frozenset())
    folded = fold("Take phentermien.")
    start = folded.text.index("fentermien")
    assert folded.unspelled(start, start + len("fentermien")) == "phentermien"
    assert index.latin("fentermien", "phentermien") == "fentermine"
    assert index.latin("bezafibre", "bezafibrae") is None  # not listed here: the written look-up adds no names


@pytest.mark.parametrize(
    ("written", "found"),
    [
        ("toelmx", "toelmax"),  # folds to "telmx" (5 letters); as written, 6 letters, ends kept: one dropped
        ("toelmaxx", "toelmax"),
        ("telmx", None),  # under six letters in both forms
        ("toemx", None),
    ],
)
def test_a_typo_that_folds_under_six_letters_is_still_read_as_written(written: str, found: str | None) -> None:
    # a made-up name, so no evaluation item is the example: "oe" reads as "e" and shortens the folded word
    drugs = DrugList.parse(
        "generic_en,generic_zh,brands_en,brands_zh,class_en,class_zh\ntoelmax,,,,test class,测试类\n"
    )
    matches = drugs.find(f"Take {written} twice a day.")
    assert [m.drug for m in matches] == ([found] if found else [])


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("It helps over. Tavilox is also used.", ["Tavilox"]),  # "overtavilox" holds "ertavil" across the words
        ("It helps over.Tavilox", ["Tavilox"]),
        ("Take ertavil daily.", ["ertavil"]),
        ("Take ertavilox daily.", []),  # one longer word holding both: neither is a name there
        ("请服用ertavilox治疗", []),
        ("请服用ertavil和tavilox治疗", ["ertavil", "tavilox"]),
    ],
)
def test_a_name_overlapping_one_read_across_two_words_is_found(text: str, found: list[str]) -> None:
    drugs = DrugList.parse(
        "generic_en,generic_zh,brands_en,brands_zh,class_en,class_zh\n"
        "ertavil,,,,test class,测试类\nvilomax,,Tavilox,,other class,另一类\n"
    )
    assert [m.found for m in drugs.find(text)] == found
    redacted, _ = drugs.redact(text)
    assert all(name.casefold() not in redacted.casefold() for name in found)
    for size in range(1, 9):  # streamed in chunks, the held-back tail must hold the overlap too
        redactor = StreamRedactor(drugs)
        shown = "".join(redactor.feed(text[i : i + size]) for i in range(0, len(text), size)) + redactor.finish()
        assert shown == redacted, size


# Examples from the written tuning set (qa/data/drug_hostile_tuning.jsonl), whose misses this part was built on
@pytest.mark.parametrize(
    ("text", "found", "drug"),
    [
        ("Avoid alcohol while on p-h-e-n-y-t-o-i-n.", "p-h-e-n-y-t-o-i-n", "phenytoin"),  # ph across the gap
        ("Avoid alcohol while on p h e n y t o i n.", "p h e n y t o i n", "phenytoin"),
        ("3nbre1, dydrogesterone", "3nbre1", "etanercept"),  # a digit starting the word
        ("Can I drink coffee with 7ruvad4? A: yes", "7ruvad4", "emtricitabine/tenofovir disoproxil"),
        ("5p3dra and others", "5p3dra", "avanafil"),
        # a misspelt brand, in a text about medicines
        ("Side note: Celldept, not this one, was the drug", "Celldept", "mycophenolate mofetil"),
        ("WARNING: DO NOT MIX SARLIX WITH ALCOHOL.", "SARLIX", "nateglinide"),
        ('{"summary": "每晚睡前Aimvoig半片"}', "Aimvoig", "erenumab"),
        ("Doctors sometimes prefer Macroantin: it has fewer", "Macroantin", "nitrofurantoin"),
        ("tell the team you take insuline aspart.", "insuline aspart", "insulin aspart"),  # a two-word name
        ("请用insuline glargine治疗", "insuline glargine", "insulin glargine"),
    ],
)
def test_written_tuning_disguises_are_found(drugs: DrugList, text: str, found: str, drug: str) -> None:
    assert [(m.found, m.drug) for m in drugs.find(text) if m.found == found] == [(found, drug)]
    for size in (1, 3, 8):
        redactor = StreamRedactor(drugs)
        shown = "".join(redactor.feed(text[i : i + size]) for i in range(0, len(text), size)) + redactor.finish()
        assert found not in shown, size


@pytest.mark.parametrize(
    "text",
    [
        "Take 20mg on the 3rd day, 5mg after; 3days rest.",  # digits starting words of numbers stay numbers
        "Elderly patients should rest.",  # capitalised dictionary words one edit from a brand are allowlisted
        "Ability to walk improves. Activate the alarm. Station 5.",
        "celldept and sinuglair in lower case",  # a brand typo counts only when written like a name
        "carbonate lithiume",  # a two-word name's words out of order (glargine alone is a name now)
        "valeric acids help",  # the short word of a pair must be exact
        "Take 2 tablets twice daily with water.",
    ],
)
def test_ordinary_text_stays(drugs: DrugList, text: str) -> None:
    assert drugs.find(text) == []
