"""The calculation language's evaluator: exact arithmetic, units and scales, and hostile programs (no model)."""

from fractions import Fraction

import pytest

from qa.calc import PROGRAM_PATTERN, CalcError, decimals_asked, exact_text, execute
from qa.tables import parse_question

TABLE = parse_question(
    """单位：亿元
|年份|营业收入|净利润|毛利率|
|---|---|---|---|
|2022|80|12.5|35.2%|
|2023|100|(3.2)|33.1%|"""
)
TEXT = parse_question("2019-2022年营业总收入分别为5.514亿元、14.32亿元、26.21亿元、40.53亿元，另有成本800万元")
EN = parse_question("| |2019|2018|\n|---|---|---|\n|Revenue|1,234|1,100|\n|Net loss|(45)|(12.5)|\n(in thousands)")


@pytest.mark.parametrize(
    "program,unit,figures,value,shown_unit",
    [
        ("1 + 2 * 3", "", TABLE, Fraction(7), ""),
        ("(1 + 2) * 3", "", TABLE, Fraction(9), ""),
        ("10 - 4 - 3", "", TABLE, Fraction(3), ""),
        ("8 / 4 / 2", "", TABLE, Fraction(1), ""),
        ("-2 * -3", "", TABLE, Fraction(6), ""),
        ("0.1 + 0.2", "", TABLE, Fraction(3, 10), ""),  # exact, not 0.30000000000000004
        ("1 / 3 * 3", "", TABLE, Fraction(1), ""),
        ("pct_change(R1C2, R2C2)", "%", TABLE, Fraction(25), "%"),
        ("(R2C2 - R1C2) / R1C2 * 100", "%", TABLE, Fraction(25), "%"),  # a ratio × 100 is a percentage
        ("(R2C2 - R1C2) / R1C2", "%", TABLE, Fraction(25), "%"),  # a ratio asked in % is converted
        ("R2C2 - R1C2", "亿元", TABLE, Fraction(20), "亿元"),
        ("R2C2 - R1C2", "万元", TABLE, Fraction(200000), "万元"),
        ("R2C2 - R1C2", "元", TABLE, Fraction(20 * 10**8), "元"),
        ("R2C2 - R1C2", "", TABLE, Fraction(20), "亿元"),  # no unit asked: the figures' own
        ("R2C3 / R2C2 * 100", "%", TABLE, Fraction(-32, 10), "%"),  # (3.2) is negative
        ("R2C4 - R1C4", "", TABLE, Fraction(-21, 10), "%"),  # percentage points
        ("R2C2 * R2C4", "亿元", TABLE, Fraction(331, 10), "亿元"),  # an amount × a percentage
        ("sum(R1C2, R2C2)", "亿元", TABLE, Fraction(180), "亿元"),
        ("avg(R1C2, R2C2)", "亿元", TABLE, Fraction(90), "亿元"),
        ("max(R1C3, R2C3) - min(R1C3, R2C3)", "亿元", TABLE, Fraction(157, 10), "亿元"),
        ("abs(R2C3)", "亿元", TABLE, Fraction(32, 10), "亿元"),
        ("round(R1C2 / 3, 2)", "", TABLE, Fraction(2667, 100), "亿元"),
        ("R1C2 / R2C2", "倍", TABLE, Fraction(4, 5), "倍"),
        ("F2 - F1", "亿元", TEXT, Fraction(8806, 1000), "亿元"),
        ("F1 + F5", "万元", TEXT, Fraction(5514 * 10**4 + 800 * 10**3, 10**3), "万元"),  # 亿 and 万 mixed
        ("R1C2 - R1C3", "thousand", EN, Fraction(134), "thousand"),
        ("R2C2 - R2C3", "", EN, Fraction(-325, 10), "thousand"),  # (45) − (12.5)
    ],
)
def test_programs_run_exactly_in_the_unit_asked(program, unit, figures, value, shown_unit):
    result = execute(program, unit, figures)
    assert (result.value, result.unit) == (value, shown_unit)


def test_cagr_is_the_compound_rate_in_percent():
    result = execute("cagr(F1, F4, 3)", "%", TEXT)
    assert result.unit == "%" and abs(float(result.value) - ((40.53 / 5.514) ** (1 / 3) - 1) * 100) < 1e-9
    assert result.rounded(2) == round(((40.53 / 5.514) ** (1 / 3) - 1) * 100, 2)


@pytest.mark.parametrize(
    "value,decimals,expected",
    [(Fraction(25), 2, 25.0), (Fraction(1, 3), 2, 0.33), (Fraction(2, 3), 2, 0.67), (Fraction(5, 1000), 2, 0.01)],
)
def test_rounding_is_half_up(value, decimals, expected):
    from qa.calc import Result

    assert Result(value, "", "num").rounded(decimals) == expected


@pytest.mark.parametrize(
    "unit,shown",
    [
        ("%", "25.00%"),
        ("亿元", "25.00亿元"),
        ("元", "25.00元"),
        ("thousand", "25.00 thousand"),
        ("€m", "25.00 €m"),
        ("", "25.00"),
        ("$", "$25.00"),  # a currency sign goes before the number
        ("$ thousand", "$25.00 thousand"),
        ("¥", "¥25.00"),
    ],
)
def test_a_result_is_shown_with_its_unit_spaced_as_its_language_writes_it(unit, shown):
    from qa.calc import Result

    assert Result(Fraction(25), unit, "num").text(2) == shown


def test_a_negative_amount_in_dollars_puts_the_minus_before_the_sign():
    from qa.calc import Result

    assert Result(Fraction(-5, 2), "$ million", "amount").text(2) == "-$2.50 million"


def test_a_count_written_with_a_scale_word_is_that_many_units():
    figures = parse_question("每份1.082元，卖出25万份")
    assert execute("F2 * F1", "", figures).value == 270500
    assert execute("F2", "", figures).value == 250000


def test_results_note_the_cells_they_used():
    assert execute("pct_change(R1C2, R2C2) + 0 * R2C3", "%", TABLE).refs == ["R1C2", "R2C2", "R2C3"]


@pytest.mark.parametrize(
    "program,message",
    [
        ("R1C2 / 0", "division by zero"),
        ("R1C2 / (R2C2 - R2C2)", "division by zero"),
        ("pct_change(0, R1C2)", "division by zero"),
        ("R9C9 + 1", "R9C9 is not a figure"),
        ("F1 * 2", "F1 is not a figure"),
        ("revenue * 2", "not a cell"),
        ("__import__('os')", "unknown function|not allowed"),
        ("R1C2.real", "not allowed"),
        ("[R1C2][0]", "not allowed"),
        ("9**9**9", "only \\+ - \\* /"),
        ("R1C2 % 7", "only \\+ - \\* /"),
        ("R1C2 // 7", "only \\+ - \\* /"),
        ("lambda: 1", "not allowed|not a valid"),
        ("(" * 40 + "1" + ")" * 40, "nests deeper"),
        ("(1 + 2", "unbalanced"),
        ("1 + 2)", "unbalanced"),
        ("1 +", "not a valid program"),
        ("", "empty"),
        ("1+" * 200 + "1", "longer than"),
        ("sum()", "needs arguments"),
        ("pct_change(R1C2)", "takes 2 arguments"),
        ("cagr(R1C2, R2C2, 0.5)", "whole number of years"),
        ("cagr(R1C2, R2C2, 1000)", "whole number of years"),
        ("round(R1C2, 99)", "0 to 10"),
        ("max(R1C2, key=1)", "positional"),
        ("R2C2*" * 35 + "1", "too large"),
        ("True + 1", "not allowed"),
        ("1j", "not allowed"),
    ],
)
def test_bad_and_hostile_programs_fail_clearly(program, message):
    with pytest.raises(CalcError, match=message):
        execute(program, "", TABLE)


@pytest.mark.parametrize(
    "question,decimals",
    [
        ("同比增长多少？保留两位小数", 2),
        ("结果保留1位小数", 1),
        ("精确到小数点后三位", 3),
        ("保留整数", 0),
        ("Round to two decimal places.", 2),
        ("同比增长多少？", None),
    ],
)
def test_decimals_asked(question, decimals):
    assert decimals_asked(question) == decimals


def test_exact_text_shows_repeating_values_as_fractions():
    assert exact_text(Fraction(1, 4)) == "0.25"
    assert exact_text(Fraction(1, 3)) == "≈0.3333333333 (= 1/3)"


@pytest.mark.parametrize(
    "program,allowed",
    [
        ("pct_change(R1C2, R2C2)", True),
        ("(F2 - F1) / F1 * 100", True),
        ("cagr(T2R1C2, T2R1C5, 3)", True),
        ("import os", False),
        ("R1C2 % 2", False),
        ("x = 1", False),
        ("eval(R1C2)", False),
    ],
)
def test_the_grammar_pattern_admits_the_language_only(program, allowed):
    import re

    assert bool(re.fullmatch(PROGRAM_PATTERN, program)) is allowed
