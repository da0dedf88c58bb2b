"""The compiled-grammar cache the local backends share: one compile per schema, and a bound on how many it keeps
(per-question schemas — knowledge-base quotes, a finance question's figures — must not pile up)."""

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
