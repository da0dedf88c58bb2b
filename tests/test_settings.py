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
        ("backend", "openai"),  # a remote engine needs base_url and remote_model
        ("model", ""),
        ("base_url", "ftp://engine/v1"),
        ("remote_timeout_s", 0),
        ("remote_context_length", 10),
        ("max_concurrent_generations", 0),
        ("rate_limit_per_minute", -1),
        ("max_body_bytes", 10),
        ("log_backups", 1000),
        ("log_max_bytes", 1),
        ("shutdown_grace_s", -1),
        ("fake_delay_s", 60),
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


def test_remote_engine_settings(monkeypatch):
    monkeypatch.setenv("QA_BACKEND", "openai")
    monkeypatch.setenv("QA_BASE_URL", "http://gpu:8000/v1")
    monkeypatch.setenv("QA_REMOTE_MODEL", "Qwen/Qwen2.5-7B-Instruct")
    monkeypatch.setenv("QA_REMOTE_API_KEY", "sk-secret")
    s = Settings()
    assert (s.backend, s.base_url, s.remote_model) == ("openai", "http://gpu:8000/v1", "Qwen/Qwen2.5-7B-Instruct")
    assert s.remote_api_key.get_secret_value() == "sk-secret" and "sk-secret" not in repr(s)


def test_every_setting_is_in_exactly_one_group():
    from qa.settings import GROUPS

    grouped = [name for names in GROUPS.values() for name in names]
    assert sorted(grouped) == sorted(Settings.model_fields) and len(grouped) == len(set(grouped))


def test_cli_flags_are_generated_from_the_settings():
    from qa.cli import build_parser
    from qa.settings import GROUPS, NO_FLAG, SERVER_GROUPS

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # argparse keeps subcommands only here
    serve = {a.dest: a for a in commands["serve"]._actions}
    ask = {a.dest: a for a in commands["ask"]._actions}
    for name, field in Settings.model_fields.items():
        if name in NO_FLAG:
            assert name not in serve  # secrets would show in `ps`
            continue
        assert name in serve, name
        if field.description and name != "fake_responses_file":
            assert field.description.split()[0] in serve[name].help
    model_fields = {n for g, names in GROUPS.items() if g not in SERVER_GROUPS for n in names}
    assert model_fields <= set(ask) and "port" not in ask and "log_level" in ask
    assert serve["dtype"].choices == ["auto", "bfloat16", "float16", "float32"]
