"""Reading a GGUF file's header (metadata and tensor table) without touching tensor data."""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


@dataclass(frozen=True)
class Tensor:
    """One entry of the tensor table: its shape (ggml's ne order) and its ggml type number."""

    shape: tuple[int, ...]
    ggml_type: int


def read_header(path: Path) -> tuple[dict[str, Any], dict[str, Tensor]]:
    """A GGUF's scalar and string metadata (arrays skipped) and its tensor table, header only.

    gguf.GGUFReader would do, but it decodes every array (the 150k-token vocabulary) and takes seconds.
    Raises OSError, ValueError or struct.error on a file that is not a readable GGUF.
    """
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if data[:4] != b"GGUF":
            raise ValueError("not a GGUF file")
        version, n_tensors, n_kv = struct.unpack_from("<IQQ", data, 4)
        if version < 2:
            raise ValueError(f"GGUF version {version} is too old")
        pos = 24

        def string(pos: int) -> tuple[str, int]:
            (n,) = struct.unpack_from("<Q", data, pos)
            return data[pos + 8 : pos + 8 + n].decode("utf-8", errors="replace"), pos + 8 + n

        def value(kind: int, pos: int) -> tuple[Any, int]:
            if kind in _SCALARS:
                return struct.unpack_from(_SCALARS[kind], data, pos)[0], pos + struct.calcsize(_SCALARS[kind])
            if kind == 8:
                return string(pos)
            if kind == 9:
                item, count = struct.unpack_from("<IQ", data, pos)
                pos += 12
                if item in _SCALARS:
                    return None, pos + count * struct.calcsize(_SCALARS[item])
                for _ in range(count):
                    _, pos = value(item, pos)
                return None, pos
            raise ValueError(f"unknown GGUF value type {kind}")

        values: dict[str, Any] = {}
        for _ in range(n_kv):
            key, pos = string(pos)
            (kind,) = struct.unpack_from("<I", data, pos)
            found, pos = value(kind, pos + 4)
            if found is not None:
                values[key] = found
        tensors: dict[str, Tensor] = {}
        for _ in range(n_tensors):
            name, pos = string(pos)
            (n_dims,) = struct.unpack_from("<I", data, pos)
            shape = tuple(struct.unpack_from(f"<{n_dims}Q", data, pos + 4))
            pos += 4 + 8 * n_dims
            (ggml_type,) = struct.unpack_from("<I", data, pos)
            tensors[name] = Tensor(shape, ggml_type)
            pos += 12  # type, offset
    return values, tensors
