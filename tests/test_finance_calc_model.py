"""The real embedded model on a pasted Chinese revenue table: the growth figure shown is the executed one."""

import re

import pytest

from qa.calc import execute
from qa.tasks.finance.calculations import question_figures

pytestmark = pytest.mark.model

QUESTION = """某公司近两年营业收入如下（单位：亿元）：
|年份|营业收入|净利润|
|---|---|---|
|2022|80|12.5|
|2023|100|15|
营业收入同比增长多少？"""


def _numbers(text: str) -> list[float]:
    return [float(n) for n in re.findall(r"\d+(?:\.\d+)?", text)]


def test_a_pasted_revenue_table_gets_executed_calculations_and_no_untraced_number(real_service):
    """What the pipeline guarantees whatever the model writes: the calculations shown are the app's executions of
    the model's programs, and every number in the prose is a result, an input figure or a number of the question.
    (Whether the 0.5B model picks the right cells is accuracy, measured by `./start.sh eval finance-calc`.)"""
    params = real_service.params("finance", 0.0, 1.0, 384)
    answer = real_service.answer("finance", QUESTION, params)
    assert answer.ok, answer.report.to_dict()
    calcs = answer.data["calculations"]
    assert calcs, "no calculation survived the checks"
    figures = question_figures(QUESTION)
    for calc in calcs:  # every result is the app's execution of the program, not the model's number
        assert calc["result"] == execute(calc["program"], calc["unit"], figures).rounded(2)
    # an independent trace (not the number_trace check's own code): results, the question's numbers
    known = {abs(float(c["result"])) for c in calcs} | set(_numbers(QUESTION))
    prose = " ".join([answer.data["summary"], *answer.data["analysis"], *answer.data["suggestions"]])
    untraced = [n for n in _numbers(prose) if not any(abs(n - k) <= 0.005 * max(1.0, k) for k in known)]
    assert not untraced, (untraced, prose, calcs)
