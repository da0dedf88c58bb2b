import subprocess

import pytest
from pydantic import SecretStr

from qa.errors import ConfigurationError
from qa.logins import check_share, load_logins, parse_logins
from qa.settings import REPO_ROOT

from .helpers import free_port


def test_login_file_and_environment_are_combined(settings, tmp_path):
    path = tmp_path / "logins.txt"
    path.write_text("# clinic\n\ndoctor: pass:with:colons\nnurse:n1\n", encoding="utf-8")
    settings = settings.model_copy(update={"auth_file": path, "auth_users": SecretStr("admin:a1, ops:o2")})
    assert load_logins(settings) == [("doctor", " pass:with:colons"), ("nurse", "n1"), ("admin", "a1"), ("ops", "o2")]


@pytest.mark.parametrize("text", ["doctor", ":nopass", "doctor:", "ok:1\nbroken-line"])
def test_bad_login_entries_are_refused_without_echoing_them(text):
    with pytest.raises(ConfigurationError) as err:
        parse_logins(text, "logins.txt")
    assert "entry" in str(err.value) and "nopass" not in str(err.value) and "broken-line" not in str(err.value)


def test_missing_or_empty_login_file_is_a_configuration_error(settings, tmp_path):
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_logins(settings.model_copy(update={"auth_file": tmp_path / "absent.txt"}))
    empty = tmp_path / "empty.txt"
    empty.write_text("# nobody yet\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="no 'user:password'"):
        load_logins(settings.model_copy(update={"auth_file": empty}))


def test_share_needs_a_login(settings):
    with pytest.raises(ConfigurationError, match="needs a login"):
        check_share(settings.model_copy(update={"share": True}), [])
    check_share(settings.model_copy(update={"share": True}), [("doctor", "x")])
    check_share(settings, [])


def test_share_without_login_is_refused_at_start():
    result = subprocess.run(
        ["./start.sh", "--backend", "fake", "--share", "--port", str(free_port())],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "needs a login" in result.stderr and "QA_AUTH_FILE" in result.stderr
