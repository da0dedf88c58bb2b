"""Page logins from a file and/or a setting, and the rule that a public share link needs them."""

from __future__ import annotations

from pathlib import Path

from .errors import ConfigurationError
from .settings import Settings


def parse_logins(text: str, source: str, separator: str = "\n") -> list[tuple[str, str]]:
    """'user:password' entries (blank entries and '#' comments skipped); ConfigurationError names a bad entry."""
    logins = []
    for number, entry in enumerate(text.split(separator), 1):
        entry = entry.strip()
        if not entry or entry.startswith("#"):
            continue
        user, sep, password = entry.partition(":")
        if not sep or not user.strip() or not password:
            # never echo the entry: it may hold a password
            raise ConfigurationError(f"{source}: entry {number} is not 'user:password'")
        logins.append((user.strip(), password))
    return logins


def load_logins(settings: Settings) -> list[tuple[str, str]]:
    """Every configured login; empty when the page is open to anyone who can reach it."""
    logins: list[tuple[str, str]] = []
    if settings.auth_file is not None:
        path = Path(settings.auth_file)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(f"cannot read the login file {path}: {exc.strerror or exc}") from exc
        logins += parse_logins(text, str(path))
        if not logins:
            raise ConfigurationError(f"the login file {path} has no 'user:password' line")
    if settings.auth_users is not None:
        logins += parse_logins(settings.auth_users.get_secret_value(), "QA_AUTH_USERS", separator=",")
    return logins


def check_share(settings: Settings, logins: list[tuple[str, str]]) -> None:
    """Refuse a public share link for a page anyone could use."""
    if settings.share and not logins:
        raise ConfigurationError(
            "--share opens the whole port to the internet and needs a login (which then guards the page, /v1 and"
            " /metrics alike): set QA_AUTH_FILE (a file of user:password lines) or QA_AUTH_USERS, or drop --share."
        )
