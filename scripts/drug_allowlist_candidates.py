"""Lists English dictionary words the drug finder would take for a listed name (typo look-up or exact key), so
ordinary words can be put in qa/data/drug_allowlist.txt after a human read. Usage:
python scripts/drug_allowlist_candidates.py  (prints "word -> drug (kind)" lines)"""

from __future__ import annotations

import logging
import sys
from importlib import resources
from pathlib import Path

from english_words import get_english_words_set

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.settings import Settings  # noqa: E402
from qa.wiring import load_drugs  # noqa: E402

log = logging.getLogger("drug_allowlist_candidates")


def main() -> None:
    """Print every dictionary word of 6+ letters and Chinese phrase the finder takes for a drug by typo or sound,
    or (phrases) by a name from the public alias files."""
    logging.basicConfig(level=logging.INFO)
    drugs = load_drugs(Settings(backend="fake"))
    words = sorted(w for w in get_english_words_set(["web2", "gcide"], lower=True, alpha=True) if len(w) >= 6)
    log.info("%d dictionary words", len(words))
    for word in words:
        # capitalised too (a sentence's first word): misspelt brands are looked up only in words written so
        for match in drugs.find(f" {word} ") or drugs.find(f" {word.capitalize()} "):
            if match.kind in ("fuzzy", "variant"):
                print(f"{word} -> {match.drug} ({match.kind})")
    # Chinese: OpenCC's phrase list (simplified side) is a ready corpus of ordinary words and idioms
    table = resources.files("opencc").joinpath("dictionary/STPhrases.txt").read_text("utf-8")
    for phrase in (line.split("\t")[0] for line in table.splitlines() if line):
        # names from the public alias files are found exactly: a phrase holding one is listed too
        for match in drugs.find(phrase):
            if match.kind == "homophone" or drugs.is_public(match.found):
                print(f"{phrase} -> {match.drug} ({match.kind}: {match.found})")


if __name__ == "__main__":
    main()
