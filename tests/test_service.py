import json
import threading

import pytest

from qa.errors import InputError, NotReadyError

from .helpers import FINANCE_OK, MEDICAL_OK, dumps


def test_clean_answer_passes_first_time(make_service):
    service, backend = make_service([dumps(MEDICAL_OK)])
    answer = service.answer("medical", "  头痛三天怎么办？ ", service.params("medical"))
    assert answer.ok and answer.data == MEDICAL_OK
    assert answer.report.attempts == 1 and answer.report.fired == [] and answer.report.repairs == []
    assert answer.question == "头痛三天怎么办？"
    assert answer.model["name"] == "fake"
    sent = backend.requests[0]
    assert sent.schema == service.task("medical").schema
    assert sent.messages[0]["role"] == "system" and sent.messages[-1]["content"] == "头痛三天怎么办？"


@pytest.mark.parametrize("question", ["", "   ", "\n\t", None, 42])
def test_empty_or_non_text_question_never_reaches_the_model(make_service, question):
    service, backend = make_service()
    with pytest.raises(InputError) as err:
        service.answer("medical", question, service.params("medical"))
    assert err.value.param == "question"
    assert backend.requests == []


def test_too_many_characters_names_the_limit(make_service, settings):
    service, backend = make_service()
    with pytest.raises(InputError, match=str(settings.max_question_chars)):
        service.answer("finance", "钱" * (settings.max_question_chars + 1), service.params("finance"))
    assert backend.requests == []


def test_too_many_tokens_names_the_limit_from_context_and_max_tokens(make_service):
    service, backend = make_service(context_length=1200)
    params = service.params("medical", max_new_tokens=512)
    with pytest.raises(InputError) as err:
        service.answer("medical", "痛" * 900, params)
    message = str(err.value)
    assert "688" in message and "1200" in message and "512" in message  # 1200 - 512
    assert backend.requests == []
    # the same question fits once the answer budget is smaller
    service.answer("medical", "痛" * 100, service.params("medical", max_new_tokens=128))


@pytest.mark.parametrize(
    "kwargs,param",
    [
        ({"temperature": -0.1}, "temperature"),
        ({"temperature": 2.0}, "temperature"),
        ({"temperature": float("nan")}, "temperature"),
        ({"temperature": True}, "temperature"),
        ({"temperature": "hot"}, "temperature"),
        ({"top_p": 0.0}, "top_p"),
        ({"top_p": 1.5}, "top_p"),
        ({"max_new_tokens": 10}, "max_new_tokens"),
        ({"max_new_tokens": 100000}, "max_new_tokens"),
        ({"max_new_tokens": 100.5}, "max_new_tokens"),
    ],
)
def test_out_of_range_parameters_are_rejected(make_service, kwargs, param):
    service, _ = make_service()
    with pytest.raises(InputError) as err:
        service.params("medical", **kwargs)
    assert err.value.param == param


def test_unknown_domain(make_service):
    service, _ = make_service()
    with pytest.raises(InputError, match="unknown task"):
        service.params("law")


def test_defaults_come_from_the_domain_file(make_service):
    service, _ = make_service()
    assert service.params("medical").temperature == service.task("medical").defaults["temperature"]


def test_forbidden_name_triggers_one_repair_with_feedback(make_service):
    bad = {**MEDICAL_OK, "suggestions": ["可以服用阿莫西林。"]}
    service, backend = make_service([dumps(bad), dumps(MEDICAL_OK)])
    answer = service.answer("medical", "喉咙痛", service.params("medical"))
    assert answer.ok and answer.data == MEDICAL_OK
    assert answer.report.attempts == 2
    assert [h.rule for h in answer.report.fired] == ["forbidden_drugs"]
    assert any("regenerated" in r for r in answer.report.repairs)
    retry = backend.requests[1].messages
    assert retry[-2] == {"role": "assistant", "content": dumps(bad)}
    assert "阿莫西林" in retry[-1]["content"] and retry[-1]["role"] == "user"


def test_persistent_forbidden_name_is_redacted_and_flagged(make_service):
    bad = {**MEDICAL_OK, "analysis": ["有人会用 Ｌｉｐｉｔｏｒ 降脂。"]}
    service, backend = make_service([dumps(bad)])
    answer = service.answer("medical", "血脂高", service.params("medical"))
    assert len(backend.requests) == 2
    assert answer.ok
    assert "Ｌｉｐｉｔｏｒ" not in dumps(answer.data) and "Lipitor" not in dumps(answer.data)
    assert [h.rule for h in answer.report.fired] == ["forbidden_drugs", "forbidden_drugs"]
    assert any(r.startswith("replaced a prescription drug name") for r in answer.report.repairs)
    assert not service.find_drugs(json.dumps(answer.report.to_dict(), ensure_ascii=False))


def test_repairs_can_be_disabled(make_service, settings):
    settings.repair_attempts = 0
    bad = {**MEDICAL_OK, "suggestions": ["可以服用阿莫西林。"]}
    service, backend = make_service([dumps(bad)])
    answer = service.answer("medical", "喉咙痛", service.params("medical"))
    assert len(backend.requests) == 1 and answer.report.attempts == 1
    assert "阿莫西林" not in dumps(answer.data)


def test_invalid_json_after_repair_fails_validation(make_service):
    service, backend = make_service(['{"summary": "没写完'])
    answer = service.answer("finance", "什么是ETF？", service.params("finance"))
    assert not answer.ok and answer.data is None
    assert len(backend.requests) == 2
    assert {h.rule for h in answer.report.fired} == {"json"}


def test_truncated_answer_is_reported_as_truncated(make_service):
    service, _ = make_service(["x" * 100])
    answer = service.answer("finance", "什么是ETF？", service.params("finance", max_new_tokens=64))
    assert not answer.ok
    assert "截断" in answer.report.fired[0].message


def test_stream_yields_growing_partials_then_final(make_service):
    service, _ = make_service([dumps(FINANCE_OK)], chunk_chars=5)
    events = list(service.stream("finance", "市盈率是什么", service.params("finance")))
    partials = [e.text for e in events if e.kind == "partial"]
    assert len(partials) > 3 and all(b.startswith(a) for a, b in zip(partials, partials[1:], strict=False))
    assert events[-1].kind == "final" and events[-1].answer.data == FINANCE_OK


def test_stop_event_cancels(make_service):
    service, _ = make_service([dumps(MEDICAL_OK)], chunk_chars=3)
    stop = threading.Event()
    events = service.stream("medical", "头痛", service.params("medical"), stop_event=stop)
    next(events)
    stop.set()
    final = [e for e in events if e.kind == "final"][0].answer
    assert not final.ok and final.report.fired[-1].rule == "cancelled"
    assert final.report.attempts == 1


def test_warm_up_loads_and_runs_one_tiny_generation(make_service):
    service, backend = make_service()
    service.warm_up()
    assert backend.loaded
    assert len(backend.requests) == 1 and backend.requests[0].params.max_new_tokens == 4


def test_no_event_text_spells_a_forbidden_name(make_service):
    bad = dumps({**MEDICAL_OK, "suggestions": ["可以服用阿莫西林。"]})
    service, _ = make_service([bad], chunk_chars=1)
    events = list(service.stream("medical", "喉咙痛", service.params("medical")))
    assert all(not service.find_drugs(e.text) for e in events)
    assert not service.find_drugs(events[-1].answer.raw)


def _history(n: int, answer: str) -> list[dict]:
    turns = []
    for i in range(n):
        turns += [{"role": "user", "content": f"第{i}个问题"}, {"role": "assistant", "content": answer}]
    return turns


def test_history_goes_into_the_prompt_in_order(make_service):
    service, backend = make_service([dumps(MEDICAL_OK)])
    answer = service.answer(
        "medical", "那要吃什么？", service.params("medical"), history=_history(2, dumps(MEDICAL_OK))
    )
    sent = backend.requests[0].messages
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert sent[1]["content"] == "第0个问题" and sent[3]["content"] == "第1个问题"
    assert sent[-1]["content"] == "那要吃什么？" and answer.dropped_turns == 0


def test_oldest_turns_are_dropped_to_fit_the_context_and_counted(make_service):
    service, backend = make_service([dumps(MEDICAL_OK)], context_length=2400)
    params = service.params("medical", max_new_tokens=512)
    long_answer = "长" * 400
    events = list(service.stream("medical", "最后的问题", params, history=_history(6, long_answer)))
    final = events[-1].answer
    sent = backend.requests[0].messages
    kept = (len(sent) - 2) // 2
    assert final.dropped_turns == 6 - kept and 0 < final.dropped_turns < 6
    assert all(e.dropped_turns == final.dropped_turns for e in events)
    # what was kept is the newest turns, and the prompt fits the budget
    assert sent[1]["content"] == f"第{final.dropped_turns}个问题"
    assert backend.count_tokens(sent) <= 2400 - 512
    assert final.to_dict()["dropped_turns"] == final.dropped_turns


@pytest.mark.parametrize(
    "history",
    [
        "not a list",
        [{"role": "assistant", "content": "x"}],
        [{"role": "user", "content": "x"}],
        [{"role": "user", "content": 3}, {"role": "assistant", "content": "x"}],
        [{"role": "user", "content": "x"}, {"role": "user", "content": "y"}],
        [{"role": "system", "content": "x"}, {"role": "assistant", "content": "y"}],
        ["user: x", "assistant: y"],
    ],
)
def test_malformed_history_is_an_input_error(make_service, history):
    service, backend = make_service()
    with pytest.raises(InputError) as err:
        service.answer("medical", "问题", service.params("medical"), history=history)
    assert err.value.param == "history" and backend.requests == []


def test_custom_system_prompt_replaces_the_default_and_is_guarded_against_leaks(make_service):
    custom = "你是一个只回答关于睡眠问题的健康助手，回答要特别简短而且友好。"
    leaking = dict(MEDICAL_OK, summary=custom[:30])
    service, backend = make_service([dumps(leaking)])
    answer = service.answer("medical", "失眠怎么办？", service.params("medical"), system_prompt="  " + custom + "\n")
    assert backend.requests[0].messages[0] == {"role": "system", "content": custom}
    assert custom[:30] not in answer.data["summary"]
    assert "prompt_leak" in {h.rule for h in answer.report.fired}


@pytest.mark.parametrize("system_prompt", ["", "   ", 5, "长" * 9000])
def test_unusable_system_prompt_is_an_input_error(make_service, system_prompt):
    service, backend = make_service()
    with pytest.raises(InputError) as err:
        service.answer("medical", "问题", service.params("medical"), system_prompt=system_prompt)
    assert err.value.param == "system_prompt" and backend.requests == []


def test_raw_generation_passes_the_callers_messages_and_schema(make_service):
    service, backend = make_service(['{"a": 1}'])
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "q"}]
    events = list(service.stream_raw(messages, service.raw_params(max_new_tokens=8), {"type": "object"}))
    assert events[-1].kind == "final" and events[-1].text == '{"a": 1}' and events[-1].answer is None
    assert events[-1].finish_reason == "stop" and events[-1].usage["completion_tokens"] == 8
    assert backend.requests[-1].messages == messages and backend.requests[-1].schema == {"type": "object"}


@pytest.mark.parametrize(
    "messages",
    [
        None,
        [],
        [{"role": "user"}],
        [{"role": "tool", "content": "x"}],
        [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
    ],
)
def test_raw_generation_checks_its_messages(make_service, messages):
    service, backend = make_service()
    with pytest.raises(InputError) as err:
        list(service.stream_raw(messages, service.raw_params()))
    assert err.value.param == "messages"


def test_raw_generation_too_long_for_the_context_names_both_numbers(make_service):
    service, _ = make_service(context_length=512)
    with pytest.raises(InputError) as err:
        list(service.stream_raw([{"role": "user", "content": "x" * 600}], service.raw_params(max_new_tokens=100)))
    assert err.value.code == "context_length_exceeded" and "412" in str(err.value) and "606" in str(err.value)


def test_requests_during_a_background_warm_up_are_refused_then_answered(make_service):
    service, backend = make_service()
    release = threading.Event()
    loaded = backend.load
    backend.load = lambda: (release.wait(5), loaded())
    done = []
    thread = service.start_warm_up(done.append)
    assert service.state == "loading" and not service.ready
    with pytest.raises(NotReadyError):
        list(service.stream("medical", "头痛", service.params("medical")))
    release.set()
    thread.join(timeout=5)
    assert done == [None] and service.ready
    assert service.answer("medical", "头痛", service.params("medical")).ok
