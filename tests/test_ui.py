import json
from dataclasses import replace
from types import SimpleNamespace

import gradio as gr
import pytest

from qa.conversation import export_json, export_markdown, model_history
from qa.feedback import FeedbackLog
from qa.render import partial_json, render_answer
from qa.tasks.finance import VIEW as FINANCE_VIEW
from qa.tasks.medical import VIEW as MEDICAL_VIEW
from qa.ui import ChatHandlers, StopSwitch, build_demo

from .helpers import FINANCE_OK, MEDICAL_OK, dumps


@pytest.fixture
def handlers(make_service, tmp_path):
    """Factory: the medical or finance tab's handlers over a fake backend, with a throwaway feedback file."""

    def make(domain, responses=None, **kwargs):
        service, backend = make_service(responses, **kwargs)
        return ChatHandlers(service, StopSwitch(), FeedbackLog(tmp_path / "fb.jsonl"), domain), backend

    return make


def run(h, question, turns=None, system=None, temperature=0.3, top_p=0.9, max_new_tokens=512):
    system = h.default_prompt if system is None else system
    return list(h.ask(question, turns or [], system, temperature, top_p, max_new_tokens))


def streaming(gen):
    """The first frame of the answer itself (past the triage frame a triaged tab shows before the model starts)."""
    out = next(gen)
    while out[2]:  # the triage frame keeps the question in its box; the answer's frames clear it
        out = next(gen)
    return out


def chat_html(outputs):
    chat = outputs[0]
    return "".join(m["content"] for m in chat if m["role"] == "assistant")


def test_handler_streams_then_renders_sections_and_report(handlers):
    h, _ = handlers("finance", [dumps(FINANCE_OK)])
    outputs = run(h, "什么是市盈率？")
    assert len(outputs) > 2
    last = outputs[-1]
    html = chat_html(last)
    for text in (FINANCE_OK["summary"], FINANCE_OK["analysis"][0], FINANCE_OK["risk_notice"]):
        assert text in html
    assert "风险提示" in html and "qa-urgent" not in html and "校验 通过" in html
    turns, raw = last[1], last[4]
    payload = json.loads(raw)
    assert payload["answer"] == FINANCE_OK and payload["validation"]["passed"] is True
    assert payload["model"]["name"] == "fake" and payload["params"]["max_new_tokens"] == 512
    assert turns[0].status == "done" and last[2] == ""  # the question box is cleared
    # while streaming: send off, stop on; afterwards the reverse, and regenerate/undo/new/export on
    assert outputs[1][5]["interactive"] is False and outputs[1][6]["interactive"] is True
    assert last[5]["interactive"] is True and last[6]["interactive"] is False
    assert all(b["interactive"] for b in last[7:])


def test_fields_appear_while_streaming(handlers):
    h, _ = handlers("medical", [dumps(MEDICAL_OK)], chunk_chars=3)
    outputs = run(h, "头痛")
    early = [chat_html(o) for o in outputs if "总结" in chat_html(o) and "建议" not in chat_html(o)]
    assert early, "the summary should render before the suggestions exist"


def test_second_turn_sends_the_first_as_history(handlers):
    h, backend = handlers("medical", [dumps(MEDICAL_OK)])
    turns = run(h, "第一个问题")[-1][1]
    run(h, "第二个问题", turns)
    sent = backend.requests[-1].messages
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[1]["content"] == "第一个问题" and json.loads(sent[2]["content"]) == MEDICAL_OK


def test_dropped_turns_are_announced(handlers):
    # a context the system prompt and the new question fit in with 512 tokens to spare, but not all four turns
    h, _ = handlers("medical", [dumps(MEDICAL_OK)], context_length=1600)
    done = run(h, "问题")[-1][1][0]
    turns = [replace(done, question=f"问题{i}" * 40) for i in range(4)]
    last = run(h, "新问题", turns, max_new_tokens=512)[-1]
    assert "最早的" in last[3] and "left out" in last[3]


def test_edited_system_prompt_is_used_and_default_is_not_sent_as_custom(handlers):
    h, backend = handlers("medical", [dumps(MEDICAL_OK)])
    run(h, "问题", system="你是一个简短的健康助手。")
    assert backend.requests[-1].messages[0]["content"] == "你是一个简短的健康助手。"
    run(h, "问题")
    assert backend.requests[-1].messages[0]["content"] == h.default_prompt


def test_urgent_answer_shows_banner(handlers):
    h, _ = handlers("medical", [dumps({**MEDICAL_OK, "urgent": True})])
    html = chat_html(run(h, "胸口压榨样疼痛")[-1])
    assert "qa-urgent" in html and "120" in html


def test_hostile_answer_is_rendered_inert(handlers):
    hostile = {
        **MEDICAL_OK,
        "summary": '<script>alert(1)</script><img src=x onerror="alert(2)">',
        "analysis": ["![x](http://evil.example/p.png)", '<a href="javascript:alert(3)">x</a>', "a\n\n# b"],
    }
    h, _ = handlers("medical", [dumps(hostile)])
    outputs = run(h, "<img src=x onerror=alert(4)>")
    for output in outputs:
        html = "".join(m["content"] for m in output[0])
        assert "<script" not in html and "<img" not in html and "<a " not in html
        assert "![" not in html and "](" not in html and "\n\n" not in html  # no Markdown image, link or block break
    assert "&lt;script&gt;" in html


def test_forbidden_name_never_shown_during_stream(handlers):
    bad = dumps({**MEDICAL_OK, "suggestions": ["可以服用阿莫西林。"]})
    h, _ = handlers("medical", [bad, bad], chunk_chars=50)
    outputs = run(h, "喉咙痛")
    assert all("阿莫西林" not in "".join(m["content"] for m in o[0]) for o in outputs)
    assert "阿莫西林" not in json.loads(outputs[-1][4])["answer"]["suggestions"][0]


@pytest.mark.parametrize(
    "question,temperature,top_p,max_new_tokens,fragment",
    [
        ("", 0.3, 0.9, 512, "空"),
        ("头痛", 9.0, 0.9, 512, "temperature"),
        ("头痛", 0.3, -1.0, 512, "top_p"),
        ("头痛", 0.3, 0.9, 999999, "max_new_tokens"),
    ],
)
def test_bad_input_becomes_gradio_error(handlers, question, temperature, top_p, max_new_tokens, fragment):
    h, backend = handlers("medical")
    with pytest.raises(gr.Error, match=fragment):
        run(h, question, temperature=temperature, top_p=top_p, max_new_tokens=max_new_tokens)
    assert backend.requests == []


def test_empty_system_prompt_is_an_error_not_a_crash(handlers):
    h, backend = handlers("medical")
    with pytest.raises(gr.Error, match="系统提示"):
        run(h, "问题", system="   ")
    assert backend.requests == []


def test_failed_validation_is_visible(handlers):
    h, _ = handlers("finance", ["not json"])
    html = chat_html(run(h, "ETF?")[-1])
    assert "qa-error" in html and "未通过" in html


def test_stop_marks_the_turn_and_sets_the_stop_event(handlers):
    h, backend = handlers("medical", [dumps(MEDICAL_OK)], chunk_chars=2)
    request = SimpleNamespace(session_hash="s1")
    gen = h.ask("问题", [], h.default_prompt, 0.3, 0.9, 512, request)
    first = streaming(gen)
    chat, turns, *_ = h.stop(first[1], request)
    assert backend.requests[0].stop_event.is_set()
    assert turns[-1].status == "stopped" and "已停止" in chat[-1]["content"]
    gen.close()
    assert model_history(turns) == []  # a stopped answer is not fed back to the model


def test_frames_sent_after_stop_keep_the_turn_stopped(handlers):
    # Gradio cancels the handler a moment after the Stop handler ran; a frame sent in between (a chunk in flight,
    # the stopped answer's final event) must not show the turn as streaming or finished again
    h, backend = handlers("medical", [dumps(MEDICAL_OK)], chunk_chars=2)
    request = SimpleNamespace(session_hash="s1")
    gen = h.ask("问题", [], h.default_prompt, 0.3, 0.9, 512, request)
    first = streaming(gen)
    h.stop(first[1], request)
    late = list(gen)  # the handler was not cancelled: it runs to its end
    assert late, "the handler sends one last frame"
    turns = late[-1][1]
    assert turns[-1].status == "stopped" and turns[-1].answer is None
    assert "已停止" in late[-1][0][-1]["content"] and "qa-report" not in late[-1][0][-1]["content"]
    assert late[-1][5]["interactive"] is True and late[-1][6]["interactive"] is False  # send on, stop off


def test_stop_before_the_answer_starts_keeps_the_question_as_a_stopped_turn(handlers):
    # the triage frame shows the question before the model starts; a Stop pressed then must not lose the turn
    h, backend = handlers("medical", [dumps(MEDICAL_OK)], chunk_chars=2)
    request = SimpleNamespace(session_hash="s1")
    gen = h.ask("胸口闷", [], h.default_prompt, 0.3, 0.9, 512, request)
    triage_frame = next(gen)
    assert triage_frame[2] == "胸口闷" and [t.question for t in triage_frame[1]] == ["胸口闷"]
    chat, turns, *_ = h.stop(triage_frame[1], request)
    gen.close()  # Gradio cancels the handler
    assert turns[-1].question == "胸口闷" and turns[-1].status == "stopped" and "已停止" in chat[-1]["content"]
    assert backend.requests == []  # the model never started


def test_undo_regenerate_and_new_chat(handlers):
    h, backend = handlers("medical", [dumps(MEDICAL_OK)])
    turns = run(h, "问题一")[-1][1]
    regenerated = list(h.regenerate(turns, h.default_prompt, 0.3, 0.9, 512))[-1][1]
    assert len(regenerated) == 1 and len(backend.requests) == 2
    assert backend.requests[-1].messages[-1]["content"] == "问题一"
    chat, left, _cleared, question, *_ = h.undo(regenerated, [], "")
    assert left == [] and chat == [] and question == "问题一"
    with pytest.raises(gr.Error):
        list(h.regenerate([], h.default_prompt, 0.3, 0.9, 512))
    # New chat keeps the conversation aside and Undo brings it back, with what was typed left alone
    chat, left, cleared, question, notice, *_rest = h.new_chat(regenerated, "正在输入")
    assert chat == [] and left == [] and cleared == regenerated and question == "正在输入" and "撤销" in notice
    assert _rest[4]["interactive"] is True  # Undo is on, to restore
    chat, restored, cleared, question, *_ = h.undo([], cleared, "正在输入")
    assert restored == regenerated and cleared == [] and len(chat) == 2 and question == "正在输入"


def test_rating_is_appended_with_the_turn(handlers, tmp_path):
    h, _ = handlers("medical", [dumps(MEDICAL_OK)])
    turns = run(h, "问题一")[-1][1]
    turns = h.rate(turns, SimpleNamespace(index=1, liked=False))
    record = json.loads((tmp_path / "fb.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    assert record["rating"] == "down" and record["question"] == "问题一" and record["answer"] == MEDICAL_OK
    assert turns[0].feedback == "down"
    with pytest.raises(gr.Error):
        h.rate(turns, SimpleNamespace(index=7, liked=True))


def test_unwritable_feedback_file_is_a_clear_error(make_service, tmp_path):
    service, _ = make_service([dumps(MEDICAL_OK)])
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    h = ChatHandlers(service, StopSwitch(), FeedbackLog(blocker / "fb.jsonl"), "medical")
    turns = run(h, "问题")[-1][1]
    with pytest.raises(gr.Error, match="could not save feedback"):
        h.rate(turns, SimpleNamespace(index=1, liked=True))


def test_exports_hold_messages_answers_reports_model_and_params(handlers):
    h, _ = handlers("finance", [dumps(FINANCE_OK)])
    turns = run(h, "什么是市盈率？")[-1][1]
    data = json.loads(export_json("finance", turns, "系统", {"temperature": 0.7}))
    assert [m["role"] for m in data["messages"]] == ["system", "user", "assistant"]
    assert data["turns"][0]["answer"] == FINANCE_OK and data["turns"][0]["validation"]["passed"]
    assert data["turns"][0]["model"]["name"] == "fake" and data["current_params"] == {"temperature": 0.7}
    md = export_markdown("金融", FINANCE_VIEW, turns)
    assert "## 1. 什么是市盈率？" in md and FINANCE_OK["risk_notice"] in md and "校验：通过" in md
    path = h.export_json(turns, "系统", 0.7, 0.9, 512)
    assert path.endswith(".json") and json.loads(open(path, encoding="utf-8").read())["task"] == "finance"
    with pytest.raises(gr.Error):
        h.export_markdown([], "系统", 0.7, 0.9, 512)


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
    html = render_answer({"summary": "只有总结"}, MEDICAL_VIEW, pending=True)
    assert "只有总结" in html and "分析" not in html and "生成中" in html


def test_demo_has_both_tabs_and_named_endpoints(make_service, tmp_path):
    service, backend = make_service()
    demo = build_demo(service, FeedbackLog(tmp_path / "fb.jsonl"))
    config = demo.get_config_file()
    labels = {c["props"].get("label") for c in config["components"] if c.get("type") == "tabitem"}
    assert {"医疗 Medical", "金融 Finance"} <= labels
    api_names = {d.get("api_name") for d in config["dependencies"]}
    assert {"ask_medical", "ask_finance"} <= api_names
    assert backend.requests == [] and not backend.loaded


def test_stop_in_one_session_leaves_another_sessions_answer_running(handlers):
    h, backend = handlers("medical", [dumps(MEDICAL_OK)], chunk_chars=2)
    mine, other = SimpleNamespace(session_hash="s1"), SimpleNamespace(session_hash="s2")
    gen = h.ask("问题", [], h.default_prompt, 0.3, 0.9, 512, mine)
    streaming(gen)
    h.stop([], other)  # another visitor presses Stop in their own tab
    assert not backend.requests[0].stop_event.is_set()
    assert next(gen)[1][-1].status == "streaming"
    h.stop([], mine)
    assert backend.requests[0].stop_event.is_set()
    gen.close()
