"""Finance calculations through the pipeline: the app executes the model's programs and writes the results;
numbers in the text trace to a result or an input; multiple choice; the page's formula and highlighted cells."""

import json

import pytest

from qa.tables import parse_question
from qa.tasks.finance.calculations import (
    find_options,
    fix_currency,
    misunit,
    nearest_option,
    question_currency,
    traces,
)

from .helpers import FINANCE_OK, dumps
from .pages import page_ask

TABLE_Q = """某公司营业收入如下（单位：亿元）：
|年份|营业收入|净利润|
|---|---|---|
|2022|80|12.5|
|2023|100|15|
营业收入同比增长多少？保留两位小数"""
GROWTH = {"label": "营业收入同比增长率", "program": "pct_change(R1C2, R2C2)", "result": 99.9, "unit": "%"}
# the same table with a question the formula library does not recognise: the model's programs alone decide
MODEL_Q = TABLE_Q.replace("营业收入同比增长多少？", "请用营业收入计算一个你认为有用的指标。")


def ask(make_service, answer, question=TABLE_Q, *more):
    service, backend = make_service([dumps(a) for a in (answer, *more)])
    return service.answer("finance", question, service.params("finance")), backend


def test_the_model_sees_the_figures_numbered(make_service):
    _, backend = ask(make_service, {**FINANCE_OK, "calculations": [GROWTH]})
    user = backend.requests[-1].messages[-1]["content"]
    assert "R2C2 = 100亿元（2023，营业收入）" in user and "R1C2 = 80亿元（2022，营业收入）" in user


def test_the_app_writes_the_result_not_the_model(make_service):
    answer, _ = ask(make_service, {**FINANCE_OK, "calculations": [GROWTH], "summary": "同比增长{1}。"})
    assert answer.data["calculations"] == [{**GROWTH, "result": 25.0, "unit": "%"}]
    assert answer.data["summary"] == "同比增长25.00%。" and answer.ok
    assert "calculations" in answer.report.checks and "number_trace" in answer.report.checks


def test_a_recognised_growth_question_gets_the_apps_program_whatever_the_model_wrote(make_service):
    lookup = {"label": "营业收入", "program": "R2C2", "result": None, "unit": "亿元"}
    answer, backend = ask(make_service, {**FINANCE_OK, "calculations": [lookup], "summary": "同比增长{1}。"})
    assert len(backend.requests) == 1  # nothing to re-ask: the app chose the operands
    assert answer.data["calculations"] == [
        {"label": "增长率（同比/环比）", "program": "pct_change(R1C2, R2C2)", "result": 25.0, "unit": "%"}
    ]
    assert answer.data["summary"] == "同比增长25.00%。"
    fired = {h.rule: h.message for h in answer.report.fired}
    assert "operands chosen by the app" in fired["formula"] and "2022 → 2023" in fired["formula"]
    assert "pct_change(R1C2, R2C2)" in backend.requests[0].messages[-1]["content"]  # offered to the model too


def test_a_wrong_number_in_the_text_is_replaced_by_the_executed_result(make_service):
    answer, _ = ask(make_service, {**FINANCE_OK, "calculations": [GROWTH], "summary": "营业收入同比增长了30%。"})
    assert answer.data["summary"] == "营业收入同比增长了25.00%。"
    assert [h.rule for h in answer.report.fired] == ["formula", "untraced_number"]


@pytest.mark.parametrize(
    "text,kept",
    [
        ("从 80 亿元增长到 100 亿元", True),  # input figures
        ("2023年净利润15亿元", True),
        ("增加了 20 亿元", False),  # a number nobody computed
        ("收入为8000000000元", True),  # 80亿 in 元
        ("净利润变化为-15%", False),  # the question's 15 (净利润 15亿元) with a minus is a new number
    ],
)
def test_input_figures_stay_and_untraced_amounts_go(make_service, text, kept):
    answer, _ = ask(make_service, {**FINANCE_OK, "calculations": [GROWTH], "analysis": [text]})
    assert (answer.data["analysis"][0] == text) is kept
    assert ("untraced_number" in {h.rule for h in answer.report.fired}) is not kept


@pytest.mark.parametrize(
    "text,shown",
    [
        ("2022年营业收入为80.0亿元", "2022年营业收入为80亿元"),  # the question writes 80
        ("净利润15.00亿元", "净利润15亿元"),
        ("增长率为25.0%", "增长率为25.00%"),  # the shown result's form (保留两位小数)
        ("净利润12.5亿元", "净利润12.5亿元"),  # already as written
        ("净利润12.50亿元", "净利润12.5亿元"),
        ("净利润12.6亿元", "净利润〔未经核验的数字已删除〕"),  # another value: not an input, removed as before
        ("营业收入变化为-80.0亿元", "营业收入变化为〔未经核验的数字已删除〕"),  # the question's 80 has no minus
    ],
)
def test_an_input_or_result_rewritten_with_a_zero_fraction_is_shown_as_written(make_service, text, shown):
    answer, _ = ask(make_service, {**FINANCE_OK, "calculations": [GROWTH], "analysis": [text]})
    assert answer.data["analysis"][0] == shown
    removed = "未经核验" in shown
    assert ("untraced_number" in {h.rule for h in answer.report.fired}) is removed
    rewritten = any("as the question or the result writes them" in r for r in answer.report.repairs)
    assert rewritten is (text != shown and not removed)


def test_when_no_attempt_parses_the_app_answers_with_its_own_calculation(make_service):
    service, backend = make_service(['{"summary": "同比增长', '{"calculations": [{"label"'])
    answer = service.answer("finance", TABLE_Q, service.params("finance"))
    assert len(backend.requests) == 2  # the model was re-asked once before the app wrote the answer
    assert answer.data["calculations"] == [
        {"label": "增长率（同比/环比）", "program": "pct_change(R1C2, R2C2)", "result": 25.0, "unit": "%"}
    ]
    assert answer.data["summary"] == "增长率（同比/环比）：25.00%。" and answer.ok
    assert "salvaged" in {h.rule for h in answer.report.fired}
    assert "untraced_number" not in {h.rule for h in answer.report.fired}


def test_an_unparsed_answer_the_app_cannot_compute_stays_a_failure(make_service):
    service, _ = make_service(['{"summary": "'])
    answer = service.answer("finance", MODEL_Q, service.params("finance"))
    assert answer.data is None and not answer.ok
    assert "salvaged" not in {h.rule for h in answer.report.fired}


def test_a_program_that_fails_is_re_asked_then_dropped(make_service):
    bad = {**GROWTH, "program": "R1C2 / (R2C2 - R2C2)"}
    answer, backend = ask(
        make_service, {**FINANCE_OK, "calculations": [bad]}, MODEL_Q, {**FINANCE_OK, "calculations": [bad]}
    )
    assert len(backend.requests) == 2 and "division by zero" in backend.requests[-1].messages[-1]["content"]
    assert answer.data["calculations"] == [] and "calculation_failed" in {h.rule for h in answer.report.fired}


def test_a_number_the_question_does_not_have_is_not_an_operand(make_service):
    sneaky = {**GROWTH, "program": "24.7 + 0 * R1C2"}
    answer, _ = ask(
        make_service, {**FINANCE_OK, "calculations": [sneaky]}, MODEL_Q, {**FINANCE_OK, "calculations": [sneaky]}
    )
    assert answer.data["calculations"] == []
    assert any("not in the question" in h.message for h in answer.report.fired)


def test_figures_without_a_calculation_are_re_asked(make_service):
    answer, backend = ask(make_service, FINANCE_OK, MODEL_Q, {**FINANCE_OK, "calculations": [GROWTH]})
    assert len(backend.requests) == 2 and answer.data["calculations"][0]["result"] == 25.0
    assert answer.data["summary"].startswith("营业收入同比增长率：25.00%。")  # the result leads the summary


def test_a_question_without_figures_keeps_its_numbers(make_service):
    text = "市盈率一般在 10 到 30 倍之间。"
    answer, backend = ask(make_service, {**FINANCE_OK, "summary": text}, "什么是市盈率？")
    assert answer.data["summary"] == text and len(backend.requests) == 1 and answer.ok


def test_text_figures_and_cagr(make_service):
    question = "2019-2022年营业总收入分别为5.514亿元、14.32亿元、26.21亿元、40.53亿元，年均复合增长率是多少？"
    calc = {"label": "复合增长率", "program": "cagr(F1, F4, 3)", "result": None, "unit": "%"}
    answer, _ = ask(make_service, {**FINANCE_OK, "calculations": [calc], "summary": "复合增长率约为{1}。"}, question)
    assert answer.data["calculations"][0]["result"] == 94.43 and answer.data["summary"] == "复合增长率约为94.43%。"


def test_multiple_choice_takes_the_nearest_option_and_says_so(make_service):
    question = TABLE_Q.replace("保留两位小数", "A. 20% B. 25% C. 30% D. 35%")
    answer, _ = ask(make_service, {**FINANCE_OK, "calculations": [GROWTH], "summary": "选C。"}, question)
    assert answer.data["summary"].startswith("答案：B（计算结果 25.00%，最接近选项 B）。")
    assert any(h.rule == "multiple_choice" and "option B" in h.message for h in answer.report.fired)


@pytest.mark.parametrize(
    "question,letters",
    [("A. 12.5% B. 13% C. 14%", ["A", "B", "C"]), ("A、1.2倍 B、1.5倍", ["A", "B"]), ("只有 A. 12%", [])],
)
def test_options_are_found(question, letters):
    assert [o.letter for o in find_options(question)] == letters


def test_nearest_option_compares_a_ratio_in_percent():
    from fractions import Fraction

    from qa.calc import Result

    options = find_options("A. 20% B. 25% C. 30%")
    assert nearest_option(options, Result(Fraction(26, 100), "", "num")) == "B"


@pytest.mark.parametrize(
    "num,unit,ok",
    [
        ("80", "亿元", True),
        ("8000000000", "元", True),
        ("800000", "万元", True),
        ("81", "亿元", False),
        ("3", "", True),  # a count
        ("12", "", True),
        ("14", "", False),  # (13 would be the 12.5 of the table, rounded)
        ("0", "", True),
        ("000000000000000", "", False),  # a run of zeros is no count
        ("007", "", False),
        ("2017", "", False),  # a year is no figure: the check keeps only one the question writes (below)
        ("2022", "", False),
    ],
)
def test_numbers_trace_after_unit_conversion(num, unit, ok):
    assert traces(num, unit, parse_question(TABLE_Q), []) is ok


@pytest.mark.parametrize(
    "text,shown",
    [
        ("2023年营业收入为100亿元", "2023年营业收入为100亿元"),  # a year of the question
        ("与2017年相比", "与〔未经核验的数字已删除〕年相比"),  # a year it lacks: removed, never made an amount
        ("分为3类。000000000000000", "分为3类。〔未经核验的数字已删除〕"),  # a run of zeros is no count
        ("分为3个阶段", "分为3个阶段"),  # a count
    ],
)
def test_years_the_question_lacks_and_zero_runs_are_removed(make_service, text, shown):
    answer, _ = ask(make_service, {**FINANCE_OK, "calculations": [GROWTH], "analysis": [text]})
    assert answer.data["analysis"][0] == shown
    assert ("untraced_number" in {h.rule for h in answer.report.fired}) is (text != shown)


def test_the_page_shows_the_formula_exact_result_and_highlighted_cells(make_service):
    service, _ = make_service([dumps({**FINANCE_OK, "calculations": [GROWTH], "summary": "增长{1}。"})])
    outputs = page_ask(service, "finance", TABLE_Q)
    html = "".join(m["content"] for m in outputs[-1][0] if m["role"] == "assistant")
    assert "营业收入同比增长率" in html and "25.00%" in html and "精确值 exact: 25%" in html
    assert '<mark title="R1C2">80</mark>' in html and '<mark title="R2C2">100</mark>' in html
    assert '<mark title="R1C3">' not in html  # a cell no calculation used is not highlighted


def test_the_page_escapes_labels_and_table_text(make_service):
    question = TABLE_Q.replace("|2022|", "|<img src=x onerror=alert(1)>|")
    calc = {**GROWTH, "label": "<script>x</script>"}
    service, _ = make_service([dumps({**FINANCE_OK, "calculations": [calc]})])
    html = "".join(m["content"] for m in page_ask(service, "finance", question)[-1][0] if m["role"] == "assistant")
    assert "<script>" not in html and "<img" not in html


def test_cli_ask_takes_a_table_file(tmp_path):
    from .test_cli import run_qa

    path = tmp_path / "revenue.csv"
    path.write_bytes("年份,营业收入(亿元)\n2022,80\n2023,100\n".encode("gb18030"))
    result = run_qa("ask", "--backend", "fake", "--task", "finance", "--table", str(path), "同比增长多少？")
    payload = json.loads(result.stdout)
    assert "| 2023 | 100 |" in payload["question"] and "calculations" in payload["answer"]
    missing = run_qa("ask", "--backend", "fake", "--task", "finance", "--table", str(tmp_path / "no.csv"), "x")
    assert missing.returncode == 2 and "cannot read the table file" in missing.stderr


def test_api_qa_finance_executes_programs_over_a_table_in_the_message(tmp_path):
    from starlette.testclient import TestClient

    from qa.server import create_app

    from .helpers import make_api

    settings, backend, service = make_api(tmp_path)
    backend.script([dumps({**FINANCE_OK, "calculations": [GROWTH], "summary": "同比增长{1}。"})])
    with TestClient(create_app(service, settings)) as http:
        body = {"model": "qa-finance", "messages": [{"role": "user", "content": TABLE_Q}]}
        reply = http.post("/v1/chat/completions", json=body).json()
    content = json.loads(reply["choices"][0]["message"]["content"])
    assert content["calculations"][0]["result"] == 25.0 and content["summary"] == "同比增长25.00%。"
    assert "calculations" in reply["validation"]["checks"]


def test_a_rate_asked_but_only_looked_up_is_re_asked(make_service):
    lookup = {"label": "营业收入", "program": "R2C2", "result": None, "unit": "亿元"}
    rate_q = TABLE_Q.replace("营业收入同比增长多少？", "2023年的利润率是多少？")  # a rate the library does not know
    answer, backend = ask(
        make_service, {**FINANCE_OK, "calculations": [lookup]}, rate_q, {**FINANCE_OK, "calculations": [GROWTH]}
    )
    assert len(backend.requests) == 2 and "pct_change" in backend.requests[-1].messages[-1]["content"]
    assert answer.data["calculations"][0]["result"] == 25.0


def test_numbers_written_in_the_question_are_kept_even_when_not_figures(make_service):
    question = "易方达北证50指数C单位净值为1.4255，持有50份价值多少？"
    calc = {"label": "价值", "program": "F1 * F2", "result": None, "unit": "元"}
    text = "易方达北证50指数C的价值为{1}。"
    answer, _ = ask(make_service, {**FINANCE_OK, "calculations": [calc], "summary": text}, question)
    assert answer.data["summary"] == "易方达北证50指数C的价值为71.28元。"


@pytest.mark.parametrize(
    "text,kept",
    [
        ("去年的变化为-5%", True),  # the question writes -5%
        ("去年下降了5%", True),  # quoted without its sign
        ("今年的变化为-1%", False),  # "附注1" has a 1, not a -1
    ],
)
def test_a_number_of_the_question_keeps_its_sign(make_service, text, kept):
    question = "附注1：去年营业收入变化为-5%。" + TABLE_Q
    answer, _ = ask(make_service, {**FINANCE_OK, "calculations": [GROWTH], "analysis": [text]}, question)
    assert (answer.data["analysis"][0] == text) is kept


@pytest.mark.parametrize(
    "program,kept",
    [
        ("(R2C2 - R1C2) / R1C2 * 100", True),
        ("R2C2 / 365 * 12", True),
        ("pct_change(50, 60)", False),
        ("R2C2 * 1.5", False),
    ],
)
def test_only_small_constants_or_figures_may_be_written_into_a_program(program, kept):
    from qa.tasks.finance.calculations import run_calculations

    done, problems = run_calculations([{**GROWTH, "program": program}], parse_question(TABLE_Q), 2)
    assert bool(done) is kept and bool(problems) is not kept


def test_programs_may_name_only_the_questions_own_figures(make_service):
    from jsonschema import Draft202012Validator

    _, backend = ask(make_service, {**FINANCE_OK, "calculations": [GROWTH]})
    schema = backend.requests[-1].schema
    pattern = schema["properties"]["calculations"]["items"]["properties"]["program"]["pattern"]
    validator = Draft202012Validator({"type": "string", "pattern": pattern})
    for program in ("pct_change(R1C2, R2C2)", "R2C3 / R2C2 * 100", "round(avg(R1C3, R2C3), 2)"):
        assert validator.is_valid(program), program
    for program in ("R3C2 - R1C2", "F1 * 2", "R1C9", "eval(R1C2)"):  # the table has two rows and no text figures
        assert not validator.is_valid(program), program


def test_a_question_without_figures_keeps_the_general_program_pattern(make_service):
    service, backend = make_service([dumps(FINANCE_OK)])
    service.answer("finance", "什么是市盈率？", service.params("finance"))
    task = {t.name: t for t in service.tasks()}["finance"]
    assert backend.requests[-1].schema == task.schema


def test_a_dollar_result_is_written_with_its_sign_first_and_once(make_service):
    question = "| | 2019 | 2018 |\n|---|---|---|\n| Revenue ($) | 1,200 | 1,000 |\n\nWhat is the total revenue?"
    calc = {"label": "total", "program": "R1C2 + R1C3", "result": None, "unit": "$"}
    answer, _ = ask(make_service, {**FINANCE_OK, "calculations": [calc], "summary": "The total is ${1}."}, question)
    assert answer.data["summary"] == "The total is $2200.00."


@pytest.mark.parametrize(
    "analysis,kept",
    [
        # copies of the calculation instructions the model was given (seen in the sixth session's runs)
        (["计算时在 program 里用左边的编号引用这些数字。"], ["具体规则和费用因机构和产品而异，以对方的正式说明为准。"]),
        (["计算时，使用 left 联系编号引用这些数字，避免自己算出结果。营业收入增长较快。"], ["营业收入增长较快。"]),
        (["把公式里的每个 名称 换成对应数字的编号，写成 program。", "净利润也在增长。"], ["净利润也在增长。"]),
        # the answer's own sentences, the question's words included, stay
        (["营业收入同比增长多少取决于两年的数据。", "净利润从12.5亿元增至15亿元。"], None),
        (["We calculated it from the figures given."], None),  # English words the instructions also use
    ],
)
def test_sentences_copying_the_instructions_are_removed(make_service, analysis, kept):
    answer, _ = ask(make_service, {**FINANCE_OK, "calculations": [GROWTH], "analysis": analysis})
    assert answer.data["analysis"] == (kept or analysis)
    assert ("prompt_echo" in {h.rule for h in answer.report.fired}) is (kept is not None)


EN_MILLIONS = """| (Dollars in millions) | 2019 | Change | 2018 |
|---|---|---|---|
| Net cash provided by operating activities | $14,551 | -5% | $15,386 |
| Operating margin | 31% | (12)% | 43% |

"""
EN_DIFF_Q = (
    EN_MILLIONS + "What is the difference between the net cash provided by operating activities from 2018 to 2019?"
)


@pytest.mark.parametrize(
    "num,unit,ok,misplaced",
    [
        ("15386", "million", True, None),  # the input in its own unit
        ("15386", "", True, None),  # written bare: no unit to contradict
        ("15386", "亿元", False, "R1C4"),  # $15,386 million is not 15386亿元
        ("15386", "thousand", False, "R1C4"),
        ("14551", "%", False, "R1C2"),  # an amount is no percentage
        ("31", "万元", False, "R2C2"),  # nor a percentage an amount
        ("31", "%", True, None),
        ("12", "%", False, None),  # the (12)% of the table without its sign: no other input (the caller keeps it)
        ("-5", "%", True, None),
        ("835", "亿元", False, None),  # no input is 835: untraced, not mis-written
    ],
)
def test_an_inputs_value_traces_only_in_a_unit_it_can_have(num, unit, ok, misplaced):
    figures = parse_question(EN_DIFF_Q)
    assert traces(num, unit, figures, []) is ok
    cell = misunit(num, unit, figures, [])
    assert (cell.ref if cell else None) == misplaced


@pytest.mark.parametrize(
    "unit,shown",
    [
        ("万元", "-835.00 million"),  # a 万 scale on an English table's figures: the library's unit
        ("", "-835.00 million"),
        ("million", "-835.00 million"),  # the same number in the model's unit: kept as the model wrote it
    ],
)
def test_the_libraries_unit_wins_when_the_models_rescales_the_same_calculation(make_service, unit, shown):
    calc = {"label": "difference", "program": "R1C2 - R1C4", "result": None, "unit": unit}
    answer, _ = ask(make_service, {**FINANCE_OK, "calculations": [calc], "summary": "It changed by {1}."}, EN_DIFF_Q)
    assert answer.data["calculations"][0]["program"] == "R1C2 - R1C4"  # 2019 − 2018: "from 2018 to 2019"
    assert answer.data["summary"] == f"It changed by {shown}."
    assert any("kept the library's unit" in r for r in answer.report.repairs) is (unit == "万元")


def test_an_input_written_in_another_unit_is_written_as_the_question_gives_it(make_service):
    calc = {"label": "difference", "program": "R1C2 - R1C4", "result": None, "unit": ""}
    text = "In 2018 it was 15386亿元; it changed by {1}."
    answer, _ = ask(make_service, {**FINANCE_OK, "calculations": [calc], "summary": text}, EN_DIFF_Q)
    assert answer.data["summary"] == "In 2018 it was 15386 million; it changed by -835.00 million."
    assert "number_unit" in {h.rule for h in answer.report.fired}


@pytest.mark.parametrize(
    "summary,expected",
    [
        # one wrong percentage, however often written: it is the one percentage computed
        ("营业收入同比增长了30%。", "营业收入同比增长了25.00%。"),
        ("增长30%，即30%。", "增长25.00%，即25.00%。"),
        # two different ones cannot both be the one result: both removed, the result leads the summary
        (
            "2022年增长了1.2%，2023年增长了7.8%。",
            "营业收入同比增长率：25.00%。2022年增长了〔未经核验的数字已删除〕，2023年增长了〔未经核验的数字已删除〕。",
        ),
    ],
)
def test_an_untraced_number_becomes_the_result_only_when_it_is_the_answers_one_such_number(
    make_service, summary, expected
):
    answer, _ = ask(make_service, {**FINANCE_OK, "calculations": [GROWTH], "summary": summary})
    assert answer.data["summary"] == expected


def test_numbers_in_the_risk_notice_are_traced_too(make_service):
    notice = "净利润同比增长了11.6%，投资有风险。"
    answer, _ = ask(make_service, {**FINANCE_OK, "calculations": [GROWTH], "risk_notice": notice})
    assert "11.6" not in answer.data["risk_notice"] and "投资有风险" in answer.data["risk_notice"]
    assert "untraced_number" in {h.rule for h in answer.report.fired}


@pytest.mark.parametrize(
    "question,code",
    [
        ("| Operating profit (£m) | 1.2 | 1.3 |", "GBP"),
        ("某公司营业收入如下（单位：亿元）", "CNY"),
        ("| Revenue ($ in thousands) | 1,200 |", "USD"),
        ("| Revenue (HK$ million) | 1,200 |", "HKD"),  # not the $ of US dollars
        ("收入为100美元", "USD"),  # 美元, not 元
        ("1美元兑7元人民币，100美元是多少元？", None),  # two currencies: none is the figures' one
        ("增长率为25%", None),
    ],
)
def test_the_questions_one_currency_is_found(question, code):
    assert question_currency(question) == code


@pytest.mark.parametrize(
    "text,currency,fixed",
    [
        ("营业利润减少了 0.1 美元。", "GBP", "营业利润减少了 0.1 英镑。"),  # the £ table's figure, not dollars
        ("Profit fell by $0.1m.", "GBP", "Profit fell by £0.1m."),
        ("Profit fell by 0.1 million dollars.", "GBP", "Profit fell by 0.1 million pounds."),
        ("收入为3亿元。", "USD", "收入为3亿美元。"),
        ("收入为3亿元。", "CNY", "收入为3亿元。"),  # its own currency: unchanged
        ("Profit was £0.1m.", "GBP", "Profit was £0.1m."),
        ("营业利润减少了 0.1 美元。", None, "营业利润减少了 0.1 美元。"),  # no one currency to write it in
        ("Revenue was HK$5m.", "USD", "Revenue was $5m."),
        ("卖出$5000股", "HKD", "卖出$5000股"),  # a count of shares is no amount: not given a currency
    ],
)
def test_a_number_is_written_in_the_questions_currency(text, currency, fixed):
    out, changed = fix_currency(text, currency)
    assert out == fixed and bool(changed) is (text != fixed)


def test_the_trace_corrects_a_currency_that_is_not_the_inputs(make_service):
    question = "| | 2019 | 2018 |\n|---|---|---|\n| Operating profit (£m) | 1.2 | 1.3 |\n\nWhat was the change?"
    calc = {"label": "change", "program": "R1C2 - R1C3", "result": None, "unit": ""}
    answer, _ = ask(
        make_service, {**FINANCE_OK, "calculations": [calc], "summary": "营业利润减少了 0.1 美元。"}, question
    )
    assert "0.1 英镑" in answer.data["summary"] and "美元" not in answer.data["summary"]
    assert "number_currency" in {h.rule for h in answer.report.fired}
