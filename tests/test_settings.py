import pytest
from pydantic import ValidationError

from qa.settings import Settings


def test_env_prefix_sets_fields(monkeypatch):
    monkeypatch.setenv("QA_PORT", "9000")
    monkeypatch.setenv("QA_QUANTIZATION", "4bit")
    monkeypatch.setenv("QA_MODEL", "/models/qwen")
    s = Settings()
    assert (s.port, s.quantization, s.model) == (9000, "4bit", "/models/qwen")


def test_init_overrides_env(monkeypatch):
    monkeypatch.setenv("QA_PORT", "9000")
    assert Settings(port=7000).port == 7000


@pytest.mark.parametrize(
    "field,value",
    [
        ("port", 0),
        ("port", 70000),
        ("quantization", "3bit"),
        ("max_context_tokens", 10),
        ("repair_attempts", 9),
        ("backend", "nope"),
        ("model", ""),
    ],
)
def test_out_of_bounds_rejected(field, value):
    with pytest.raises(ValidationError):
        Settings(**{field: value})


def test_unknown_setting_rejected():
    with pytest.raises(ValidationError):
        Settings(not_a_setting=1)


def test_every_field_documented():
    missing = [name for name, f in Settings.model_fields.items() if not f.description]
    assert missing == []


def test_defaults():
    s = Settings()
    assert (s.host, s.port, s.model, s.quantization) == ("0.0.0.0", 7860, "Qwen/Qwen2.5-7B-Instruct", "none")
