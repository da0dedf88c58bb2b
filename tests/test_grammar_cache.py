"""The compiled-grammar cache the local backends share: one compile per schema, and a bound on how many it keeps
(per-question schemas — knowledge-base quotes, a finance question's figures — must not pile up)."""

import pytest

from qa.backends.grammar import GrammarCache


class CountingCompiler:
    """Stands in for xgrammar's compiler: counts compiles and returns a fresh object each time."""

    def __init__(self) -> None:
        self.compiled = 0

    def compile_json_schema(self, text: str, any_whitespace: bool, strict_mode: bool) -> object:
        self.compiled += 1
        return object()


def schema(n: int) -> dict:
    return {"type": "object", "properties": {f"f{n}": {"type": "string"}}}


def test_a_schema_is_compiled_once():
    compiler = CountingCompiler()
    cache = GrammarCache(compiler)
    first = cache.get(schema(1))
    assert cache.get(schema(1)) is first and compiler.compiled == 1


def test_the_cache_keeps_the_most_recently_used_schemas_only():
    compiler = CountingCompiler()
    cache = GrammarCache(compiler, limit=3)
    kept = cache.get(schema(0))
    for n in range(1, 6):
        cache.get(schema(n))
        cache.get(schema(0))  # used again each time: stays
    assert compiler.compiled == 6
    assert cache.get(schema(0)) is kept and compiler.compiled == 6
    cache.get(schema(1))  # long unused: compiled again
    assert compiler.compiled == 7


@pytest.mark.parametrize(
    ("body", "accepted"),
    [
        ("病情平稳", True),
        ("plain text, 120/80 mmHg", True),
        ("tab\there", False),
        ("esc\x1b[31m", False),
        ("new\nline", False),
        ("nul\x00", False),
    ],
)
def test_a_bounded_string_never_takes_a_raw_control_character(body, accepted):
    """xgrammar's rule for a string with minLength/maxLength admits raw control bytes; the vocabulary withholds them:
    their tokens are masked out of every step, so the model can never write one into an answer."""
    import xgrammar as xgr

    opening, closing = b'{"a": "', b'"}'
    pieces = [opening, closing, *sorted({ch.encode() for ch in body})]
    eos = len(pieces)
    cache = GrammarCache.for_vocab(pieces, eos + 1, [eos])
    bounded = {
        "type": "object",
        "properties": {"a": {"type": "string", "minLength": 1, "maxLength": 40}},
        "required": ["a"],
        "additionalProperties": False,
    }
    matcher = xgr.GrammarMatcher(cache.get(bounded))
    tokens = [opening, *(ch.encode() for ch in body), closing]
    assert all(matcher.accept_token(pieces.index(t)) for t in tokens) is accepted
