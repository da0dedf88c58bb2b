"""Operand order: a two-year program's operands in the order the question means (old → new, later − earlier,
first named − second named); the model's swapped pair is put right, and the report says so."""

import pytest

from qa.tables import parse_question
from qa.tasks.finance.order import cell_year, from_to, named_years, reorder

from .helpers import FINANCE_OK, dumps

EN = """| | 2019 | 2018 |
|---|---|---|
| Revenue | 1,200 | 1,000 |
| Cost | 700 | 650 |

"""
ZH = """|年份|营业收入|
|---|---|
|2022|80|
|2023|100|
"""


@pytest.mark.parametrize(
    "question,program,expected",
    [
        # a growth rate runs from the earlier year to the later, whichever column comes first
        (
            EN + "What was the percentage change in revenue from 2018 to 2019?",
            "pct_change(R1C2, R1C3)",
            "pct_change(R1C3, R1C2)",
        ),
        (EN + "What was the percentage change in revenue from 2018 to 2019?", "pct_change(R1C3, R1C2)", None),
        (EN + "What is the growth rate of revenue?", "pct_change(R1C2, R1C3)", "pct_change(R1C3, R1C2)"),
        (ZH + "营业收入同比增长多少？", "pct_change(R2C2, R1C2)", "pct_change(R1C2, R2C2)"),
        (ZH + "营业收入复合增长率？", "cagr(R2C2, R1C2, 1)", "cagr(R1C2, R2C2, 1)"),
        (EN + "What was the growth in revenue?", "(R1C3 - R1C2) / R1C2", "(R1C2 - R1C3) / R1C3"),
        (EN + "What was the growth in revenue?", "(R1C2 - R1C3) / R1C3", None),
        # a change is the later year minus the earlier
        (EN + "What was the change in cost from 2018 to 2019?", "R2C3 - R2C2", "R2C2 - R2C3"),
        (EN + "What was the increase in revenue in 2019?", "R1C2 - R1C3", None),
        (ZH + "营业收入增加了多少？", "R1C2 - R2C2", "R2C2 - R1C2"),
        # a difference between two named years: the first named first
        (EN + "What is the difference in revenue between 2018 and 2019?", "R1C2 - R1C3", "R1C3 - R1C2"),
        (EN + "What is the difference in revenue between 2019 and 2018?", "R1C2 - R1C3", None),
        # "from A to B" decides over "difference between": B − A
        (EN + "What is the difference between revenue from 2018 to 2019?", "R1C3 - R1C2", "R1C2 - R1C3"),
        (EN + "What is the difference between revenue from 2018 to 2019?", "R1C2 - R1C3", None),
        (EN + "What is the difference in revenue from fiscal 2019 to fiscal 2018?", "R1C2 - R1C3", "R1C3 - R1C2"),
        (ZH + "营业收入从2022年到2023年的差额？", "R1C2 - R2C2", "R2C2 - R1C2"),
        # nothing to tell the order by: left as written
        (EN + "What is the revenue less cost in 2019?", "R1C2 - R2C2", None),  # one year
        (EN + "What is the total revenue?", "R1C2 - R1C3", None),  # no change asked
        (EN + "What was the change in revenue from 2016 to 2017?", "R1C2 - R1C3", None),  # other years named
        (EN + "What is the ratio?", "R1C2 / R1C3", None),
        (EN + "What is the percentage change?", "pct_change(R1C2, 1000)", None),  # a literal, not a cell
    ],
)
def test_operands_follow_the_order_the_question_means(question, program, expected):
    assert reorder(program, question, parse_question(question)) == expected


@pytest.mark.parametrize(
    "text,span",
    [
        ("the change from 2018 to 2019", (2018, 2019)),
        ("from FY2019 through FY2018", (2019, 2018)),
        ("从2022年到2023年", (2022, 2023)),
        ("从2022年度至2023年度", (2022, 2023)),
        ("between 2018 and 2019", None),
        ("from 2019 to 2019", None),
        ("2022年至2023年", None),  # no 从: a range, not a direction
    ],
)
def test_from_to_reads_the_direction_of_a_span(text, span):
    assert from_to(text) == span


def test_years_come_from_labels_and_the_users_own_words():
    figures = parse_question(EN + "Change from 2018 to 2019?")
    assert (cell_year(figures, "R1C2"), cell_year(figures, "R1C3"), cell_year(figures, "R9C9")) == (2019, 2018, None)
    assert named_years(EN + "Change from 2018 to 2019?") == [2018, 2019]  # the table's header is not the question


def test_the_models_swapped_growth_is_put_right_and_reported(make_service):
    # a question the library does not resolve (no row named), so the operands are the model's
    question = EN + "By what percentage did it go up from 2018 to 2019?"
    calc = {"label": "growth", "program": "pct_change(R1C2, R1C3)", "result": None, "unit": "%"}
    service, _ = make_service([dumps({**FINANCE_OK, "calculations": [calc], "summary": "It rose {1}."})])
    answer = service.answer("finance", question, service.params("finance"))
    assert answer.data["calculations"][0]["program"] == "pct_change(R1C3, R1C2)"
    assert answer.data["calculations"][0]["result"] == 20.0
    assert "operand_order" in {h.rule for h in answer.report.fired}
