import json
import threading

import pytest

from qa.errors import InputError

from .conftest import FINANCE_OK, MEDICAL_OK, dumps


def test_clean_answer_passes_first_time(make_service):
    service, backend = make_service([dumps(MEDICAL_OK)])
    answer = service.answer("medical", "  头痛三天怎么办？ ", service.params("medical"))
    assert answer.ok and answer.data == MEDICAL_OK
    assert answer.report.attempts == 1 and answer.report.fired == [] and answer.report.repairs == []
    assert answer.question == "头痛三天怎么办？"
    assert answer.model["name"] == "fake"
    sent = backend.requests[0]
    assert sent.schema == service.domains["medical"].schema
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
    service.answer("medical", "痛" * 300, service.params("medical", max_new_tokens=128))


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
    with pytest.raises(InputError, match="unknown domain"):
        service.params("law")


def test_defaults_come_from_the_domain_file(make_service):
    service, _ = make_service()
    assert service.params("medical").temperature == service.domains["medical"].defaults["temperature"]


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
    assert not service.drugs.find(json.dumps(answer.report.to_dict(), ensure_ascii=False))


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
    assert {h.rule for h in answer.report.fired} == {"schema"}


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
    assert all(not service.drugs.find(e.text) for e in events)
    assert not service.drugs.find(events[-1].answer.raw)
