"""Drug names disguised as spelling variants, brands, traditional characters, look-alikes, leet digits, homophones
and typos: found in whole answers and in streamed chunks, with spans in the original text."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from qa.drugs import parse_aliases
from qa.errors import PromptError
from qa.eval.drug_eval import hostile_outputs, read_set, recall, stream
from qa.eval.leaks import LeakChecker
from qa.settings import Settings
from qa.validation import DrugList
from qa.wiring import load_drugs

DATA = Path(__file__).resolve().parent.parent / "qa/data"


@pytest.mark.parametrize(
    ("name", "drug", "kind"),
    [
        ("amoxycillin", "amoxicillin", "variant"),
        ("Amoxicilin", "amoxicillin", "fuzzy"),
        ("azitromycin", "azithromycin", "variant"),  # th/t is a spelling fold, not a typo
        ("azithromycine", "azithromycin", "fuzzy"),
        ("阿齐霉素", "azithromycin", "homophone"),
        ("Augmentin", "amoxicillin/clavulanic acid", "brand"),
        ("伟哥", "sildenafil", "brand"),
        ("威而鋼", "sildenafil", "traditional"),
        ("аmoxicillin", "amoxicillin", "confusable"),
        ("am0xicillin", "amoxicillin", "leet"),
        ("Lipit0r", "atorvastatin", "leet"),
        ("morphin3", "morphine", "leet"),  # a digit ending the word, then Chinese
        ("cephalexin", "cefalexin", "variant"),
        ("phenytoin", "phenytoin", "exact"),
        ("阿莫达菲尼", "armodafinil", "homophone"),  # the longer name wins over the brand 达菲 inside it
    ],
)
def test_disguised_names_are_found_with_their_span_and_kind(drugs: DrugList, name: str, drug: str, kind: str) -> None:
    text = f"请服用{name}治疗"
    [match] = drugs.find(text)
    assert (match.drug, match.kind) == (drug, kind)
    assert (match.start, match.end, match.found) == (3, 3 + len(name), name)  # spans map back to the original


@pytest.mark.parametrize(
    "text",
    [
        "If symptoms continue, see a specialist; take ibuprofen or acetaminophen.",
        "A penicillin allergy matters; amino acids and moxie help.",
        "多喝水，注意休息，可以用布洛芬或对乙酰氨基酚退烧，补充维生素C。",
        "Omeprazole and loratadine are sold over the counter.",
        "请到正规医院就诊，美国的阿姨说奇怪。",
        "Take 500mg with food; vitamin B12 and COVID19 tests.",
    ],
)
def test_ordinary_text_and_otc_names_are_not_hit(drugs: DrugList, text: str) -> None:
    assert drugs.find(text) == []


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("generic_en,alias,kind\namoxicillin,amoxycillin,variant\namoxicillin,,brand\n", 3),
        ("generic_en,alias,kind\namoxicillin,Amoxil,nickname\n", 2),
        ("generic_en,alias,kind\namoxicillin,Amoxil\n", 2),
    ],
)
def test_malformed_alias_rows_fail_with_their_line(text: str, line: int) -> None:
    with pytest.raises(PromptError, match=f"line {line}"):
        parse_aliases(text, "drug_aliases.csv")


def test_every_packaged_alias_names_a_listed_drug(drugs: DrugList) -> None:
    listed = {d.names[0].casefold() for d in drugs.drugs}
    aliases = parse_aliases((DATA / "drug_aliases.csv").read_text("utf-8"), "drug_aliases.csv")
    assert [a.alias for a in aliases if a.generic_en.casefold() not in listed] == []


def test_recall_and_false_hits_on_the_evaluation_sets(drugs: DrugList) -> None:
    for name in ("drug_variants_tuning", "drug_variants_heldout"):
        per_kind = recall(drugs, read_set(name))
        caught, total = sum(v[0] for v in per_kind.values()), sum(v[2] for v in per_kind.values())
        assert caught / total >= 0.98, (name, per_kind)
    ordinary = read_set("drug_ordinary")
    assert sum(bool(drugs.find(o["text"])) for o in ordinary) <= 0.005 * len(ordinary)
    # street words in their ordinary sense (ice, 冰, Charlie, test, DDP), written before the seventeenth session's
    # street contexts: the one hit is main's ("Tune to FM2 at 8pm", to read as a verb of taking)
    street = read_set("drug_street_ordinary")
    assert [o["text"] for o in street if drugs.find(o["text"])] == ["Tune to FM2 at 8pm for the interview."]


@pytest.mark.parametrize("size", range(1, 9))
def test_streamed_chunks_leak_nothing_whole_redaction_does_not(
    drugs: DrugList, checker: LeakChecker, size: int
) -> None:
    rng = random.Random(size)
    outputs = hostile_outputs(rng.sample(read_set("drug_variants_heldout"), 45), rng)
    outputs.append(json.dumps({"summary": "Lipit0r 或 阿齐霉素，加 аmoxicillin 与 威而鋼"}, ensure_ascii=False))
    for text in outputs:
        shown = stream(drugs, text, size)
        whole = set(checker.leaks(drugs.redact(text)[0]))
        assert set(checker.leaks(shown)) <= whole, (size, text, shown)
        assert drugs.find(shown) == [], (size, text, shown)


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ("请服用阿齐霉素治疗\n多喝水\n", [[("阿齐霉素", 3, 7, "azithromycin", "homophone")], []]),
        ("Take Lipit0r.\n", [[("Lipit0r", 5, 12, "atorvastatin", "leet")]]),
    ],
)
def test_scan_prints_one_json_line_per_input_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: str, expected: list
) -> None:
    from qa.cli import main

    path = tmp_path / "answers.txt"
    path.write_text(lines, encoding="utf-8")
    assert main(["drugs", "scan", str(path), "--backend", "fake"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["line"] for r in rows] == list(range(1, len(expected) + 1))
    got = [[(f["text"], f["start"], f["end"], f["drug"], f["kind"]) for f in r["found"]] for r in rows]
    assert got == expected
    assert all(f["class"] for r in rows for f in r["found"])


def test_scan_of_a_missing_file_is_an_error(tmp_path: Path) -> None:
    from qa.cli import EXIT_ERROR, main

    assert main(["drugs", "scan", str(tmp_path / "none.txt"), "--backend", "fake"]) == EXIT_ERROR


def test_a_malformed_alias_file_in_the_prompts_dir_stops_the_load_with_its_path(tmp_path: Path) -> None:
    (tmp_path / "drug_aliases.csv").write_text("generic_en,alias,kind\namoxicillin,Amoxil,nickname\n", "utf-8")
    with pytest.raises(PromptError, match=r"drug_aliases\.csv: line 2"):
        load_drugs(Settings(backend="fake", prompts_dir=tmp_path))
