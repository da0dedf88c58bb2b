import json

import gradio as gr
import pytest

from qa.render import partial_json, render_answer
from qa.ui import ask, build_demo

from .conftest import FINANCE_OK, MEDICAL_OK, dumps


def run(service, domain, question, temperature=0.3, top_p=0.9, max_new_tokens=512):
    return list(ask(service, domain, question, temperature, top_p, max_new_tokens))


def test_handler_streams_then_renders_sections_and_report(make_service):
    service, _ = make_service([dumps(FINANCE_OK)])
    outputs = run(service, "finance", "什么是市盈率？")
    assert len(outputs) > 2
    html, raw, report = outputs[-1]
    for text in (FINANCE_OK["summary"], FINANCE_OK["analysis"][0], FINANCE_OK["risk_notice"]):
        assert text in html
    assert "风险提示" in html and "qa-urgent" not in html
    payload = json.loads(raw)
    assert payload["answer"] == FINANCE_OK and payload["validation"]["passed"] is True
    assert payload["model"]["name"] == "fake" and payload["params"]["max_new_tokens"] == 512
    assert "校验 通过" in report


def test_urgent_answer_shows_banner(make_service):
    service, _ = make_service([dumps({**MEDICAL_OK, "urgent": True})])
    html = run(service, "medical", "胸口压榨样疼痛")[-1][0]
    assert "qa-urgent" in html and "120" in html


def test_hostile_answer_is_rendered_inert(make_service):
    hostile = {
        **MEDICAL_OK,
        "summary": '<script>alert(1)</script><img src=x onerror="alert(2)">',
        "analysis": ["![x](http://evil.example/p.png)", '<a href="javascript:alert(3)">x</a>'],
    }
    service, _ = make_service([dumps(hostile)])
    for html, _raw, _report in run(service, "medical", "test"):
        assert "<script" not in html and "<img" not in html and "<a " not in html
    assert "&lt;script&gt;" in html


def test_forbidden_name_never_shown_during_stream(make_service):
    bad = dumps({**MEDICAL_OK, "suggestions": ["可以服用阿莫西林。"]})
    service, _ = make_service([bad, bad], chunk_chars=50)
    outputs = run(service, "medical", "喉咙痛")
    assert all("阿莫西林" not in html for html, _r, _p in outputs)
    assert "阿莫西林" not in json.loads(outputs[-1][1])["answer"]["suggestions"][0]


@pytest.mark.parametrize(
    "question,temperature,top_p,max_new_tokens,fragment",
    [
        ("", 0.3, 0.9, 512, "空"),
        ("头痛", 9.0, 0.9, 512, "temperature"),
        ("头痛", 0.3, -1.0, 512, "top_p"),
        ("头痛", 0.3, 0.9, 999999, "max_new_tokens"),
    ],
)
def test_bad_input_becomes_gradio_error(make_service, question, temperature, top_p, max_new_tokens, fragment):
    service, backend = make_service()
    with pytest.raises(gr.Error, match=fragment):
        run(service, "medical", question, temperature, top_p, max_new_tokens)
    assert backend.requests == []


def test_failed_validation_is_visible(make_service):
    service, _ = make_service(["not json"])
    html, _raw, report = run(service, "finance", "ETF?")[-1]
    assert "qa-error" in html and "未通过" in report


@pytest.mark.parametrize(
    "text,expected",
    [
        ('{"summary": "头痛', {"summary": "头痛"}),
        ('{"summary": "a", "analysis": ["x", "y', {"summary": "a", "analysis": ["x", "y"]}),
        ('{"summary": "a",', {"summary": "a"}),
        ('{"summary":', {"summary": None}),
        ('{"summary": "a\\', {"summary": "a"}),
        ('{"summary": "a", "ana', None),
        ("", None),
    ],
)
def test_partial_json(text, expected):
    assert partial_json(text) == expected


def test_render_skips_missing_fields():
    html = render_answer({"summary": "只有总结"}, pending=True)
    assert "只有总结" in html and "分析" not in html and "生成中" in html


def test_demo_has_both_tabs_and_named_endpoints(make_service):
    service, backend = make_service()
    demo = build_demo(service)
    config = demo.get_config_file()
    labels = {c["props"].get("label") for c in config["components"] if c.get("type") == "tabitem"}
    assert {"医疗", "金融"} <= labels
    api_names = {d.get("api_name") for d in config["dependencies"]}
    assert {"ask_medical", "ask_finance"} <= api_names
    assert backend.requests == [] and not backend.loaded
