"""API keys from settings, bearer checks, and key ids that never reveal a key."""

import pytest

from qa.auth import ApiKeys, key_id
from qa.errors import ConfigurationError
from qa.settings import Settings


def test_keys_from_the_variable_and_the_file(tmp_path):
    path = tmp_path / "keys"
    path.write_text("# team keys\nsk-file-1\n\n  sk-file-2  # laptop\n")
    keys = ApiKeys.from_settings(Settings(api_keys="sk-env-1, sk-env-2", api_keys_file=path))
    assert keys.enabled
    for key in ("sk-env-1", "sk-env-2", "sk-file-1", "sk-file-2"):
        assert keys.check(f"Bearer {key}") == key_id(key)


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Bearer ", "Bearer sk-nope", "sk-env-1", "Basic sk-env-1", "Bearer sk-env-1x"]
)
def test_anything_but_a_known_bearer_key_is_refused(header):
    assert ApiKeys(["sk-env-1"]).check(header) is None


def test_scheme_is_case_insensitive():
    assert ApiKeys(["k1"]).check("bearer k1") == key_id("k1")


def test_no_keys_means_open_and_configured_but_empty_is_an_error(tmp_path):
    assert not ApiKeys.from_settings(Settings()).enabled
    (tmp_path / "empty").write_text("# nothing yet\n")
    with pytest.raises(ConfigurationError, match="none were found"):
        ApiKeys.from_settings(Settings(api_keys_file=tmp_path / "empty"))
    with pytest.raises(ConfigurationError, match="cannot read"):
        ApiKeys.from_settings(Settings(api_keys_file=tmp_path / "missing"))


def test_key_id_does_not_contain_the_key():
    assert "sk-secret" not in key_id("sk-secret") and key_id("a") != key_id("b")
    assert "sk-secret" not in repr(Settings(api_keys="sk-secret"))
