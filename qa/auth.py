"""API keys for /v1/*: loaded from settings, compared in constant time, identified in logs by a hash prefix only."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from .errors import ConfigurationError
from .settings import Settings


def key_id(key: str) -> str:
    """A short, non-reversible name for a key, safe to log and to rate-limit by."""
    return "key-" + hashlib.sha256(key.encode()).hexdigest()[:12]


class ApiKeys:
    """The accepted bearer tokens; with none configured, the API is open."""

    def __init__(self, keys: Iterable[str]) -> None:
        # only digests are kept: equal-length values for compare_digest, and no plain keys in memory dumps
        self._digests = [hashlib.sha256(k.encode()).digest() for k in keys if k]

    @classmethod
    def from_settings(cls, settings: Settings) -> ApiKeys:
        """Keys from QA_API_KEYS (comma-separated) and QA_API_KEYS_FILE (one per line, '#' comments)."""
        keys: list[str] = []
        if settings.api_keys is not None:
            keys += [k.strip() for k in settings.api_keys.get_secret_value().split(",")]
        if settings.api_keys_file is not None:
            try:
                text = settings.api_keys_file.read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigurationError(f"cannot read the API keys file {settings.api_keys_file}: {exc}") from exc
            keys += [line.split("#", 1)[0].strip() for line in text.splitlines()]
        keys = [k for k in keys if k]
        if (settings.api_keys is not None or settings.api_keys_file is not None) and not keys:
            raise ConfigurationError("API keys were configured but none were found; the API would be open")
        return cls(keys)

    @property
    def enabled(self) -> bool:
        """True when requests must carry a key."""
        return bool(self._digests)

    def check(self, authorization: str | None) -> str | None:
        """The key's id for a valid `Authorization: Bearer <key>` header, else None."""
        if authorization is None:
            return None
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        digest = hashlib.sha256(token.encode()).digest()
        match = False
        for known in self._digests:  # every key is compared, so timing does not say which one matched
            match |= hmac.compare_digest(digest, known)
        return key_id(token) if match else None
