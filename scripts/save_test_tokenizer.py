"""Save the embedded model's tokenizer and vocabulary size to a folder, for QA_TEST_TOKENIZER.

usage: python scripts/save_test_tokenizer.py OUT_DIR

tests/test_production_path.py builds a random-weight Qwen2 around the embedded model's tokenizer. On a GPU machine
that runs only its CUDA cases, installing the 0.5B model just for its tokenizer is a waste; this writes the tokenizer
files there instead (a few MB), and `QA_TEST_TOKENIZER=OUT_DIR pytest tests/test_production_path.py -m cuda` reads
them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from qa.backends import create_backend
from qa.settings import Settings


def main() -> None:
    """Load the embedded model on the transformers backend and save its tokenizer and vocabulary size."""
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = Path(sys.argv[1])
    backend = create_backend(Settings(backend="transformers", model_source="embedded"))
    backend.load()
    try:
        vocab_size = backend._vocab_size  # the model's embedding rows, which the grammar's vocabulary must match
        backend.tokenizer.save_pretrained(out)
        (out / "vocab_size.json").write_text(json.dumps({"vocab_size": vocab_size}), "utf-8")
    finally:
        backend.close()
    print(out, vocab_size)


if __name__ == "__main__":
    main()
