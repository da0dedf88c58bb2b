"""The finance formula library: recognition of the indicator asked, the app's choice of operands by labels, the
templates executing, and malformed library files failing at load with a clear error."""

import re
from fractions import Fraction

import pytest

from qa.calc import execute
from qa.errors import PromptError
from qa.tables import Cell, Figures
from qa.tasks.base import Files
from qa.tasks.finance.calculations import question_figures
from qa.tasks.finance.formulas import FILE, FormulaLibrary


@pytest.fixture(scope="module")
def library() -> FormulaLibrary:
    return FormulaLibrary.parse(Files("qa.tasks.finance").read(FILE))


@pytest.mark.parametrize(
    "question,indicator",
    [
        ("营业收入同比增长多少？", "growth"),
        ("2023年净利润的增长率是多少", "growth"),
        ("What was the percentage change in revenue from 2018 to 2019?", "growth"),
        ("营业收入增加了多少亿元？", "difference"),
        ("What was the change in net debt from 2018 to 2019?", "difference"),
        ("What is the increase / (decrease) in the cost?", "difference"),
        ("2019-2022年营业收入的年均复合增长率是多少", "cagr"),
        ("What is the CAGR of sales?", "cagr"),
        ("该公司的毛利率是多少？", "gross_margin"),
        ("净资产收益率(ROE)是多少", "roe"),
        ("资产负债率是多少？", "debt_ratio"),
        ("速动比率是多少？", "quick_ratio"),
        ("流动比率是多少？", "current_ratio"),
        ("按当前股价计算市盈率", "pe"),
        ("市净率是多少", "pb"),
        ("基本每股收益是多少", "eps"),
        ("应收账款周转率是多少", "turnover"),
        ("境外收入占营业收入的比例是多少", "share"),
        ("What is the percentage of A out of the total revenues in 2019?", "share"),
        ("What is the ratio of current to non-current deferred revenue?", "ratio"),
        ("What was the average dividend yield for 2017 and 2018?", "average"),
        ("三年的净利润合计多少", "total"),
        ("持有4000份价值多少？", "holding_value"),
        ("投资一万元亏损了多少", "loss_at_rate"),
        ("存款一年利息是多少", "amount_at_rate"),
        ("什么是市场风险？", None),
        ("", None),
    ],
)
def test_the_indicator_asked_is_recognised(library, question, indicator):
    found = library.recognise(question)
    assert (found.id if found else None) == indicator


def test_every_template_executes_over_figures(library):
    figures = Figures(text=[Cell(f"F{k}", "", "", Fraction(k * 10), "元") for k in range(1, 5)])
    for ind in library.indicators:
        slots = re.findall(r"\{(\w+)\*?\}", ind.program)
        refs = {slot: "3" if slot == "years" else f"F{k}" for k, slot in enumerate(slots, start=1)}
        program = re.sub(r"\{(\w+)\*?\}", lambda m, refs=refs: refs[m.group(1)], ind.program)
        result = execute(program, ind.unit, figures)
        assert result.value is not None, ind.id


EN_TABLE = """| ($ in millions) |  |  |  |
|---|---|---|---|
| For the year ended December 31: | 2019 | 2018 | 2017 |
| RSUs |  |  |  |
| Granted | $674 | $583 | $484 |
| Vested | 428 | 381 | 463 |
| PSUs |  |  |  |
| Granted | $164 | $118 | $113 |
| Vested | 118 | 101 | 51 |
| Total | 1,384 | 1,183 | 1,111 |

"""
ZH_TABLE = """|年份|营业收入|净利润|
|---|---|---|
|2022|80|12.5|
|2023|100|15|
"""


@pytest.mark.parametrize(
    "question,program,value",
    [
        # a row across year columns; the section ("RSUs") tells apart two rows named "Granted"
        (EN_TABLE + "What is the increase / (decrease) in the RSUs Granted from 2018 to 2019?", "R2C2 - R2C3", 91),
        (
            EN_TABLE + "What was the percentage change in PSUs Vested from 2017 to 2018?",
            "pct_change(R6C4, R6C3)",
            Fraction(5000, 51),
        ),
        # "difference between A and B" is A − B, the first named first
        (EN_TABLE + "What is the difference in PSUs Vested between 2018 and 2019?", "R6C3 - R6C2", -17),
        # … unless the question says "from A to B": then B − A, whatever word it uses
        (EN_TABLE + "What is the difference between the PSUs Vested from 2018 to 2019?", "R6C2 - R6C3", 17),
        (EN_TABLE + "What is the difference in PSUs Vested from 2019 to 2018?", "R6C3 - R6C2", -17),
        (ZH_TABLE + "净利润从2022年到2023年的差额是多少？", "R2C3 - R1C3", Fraction(5, 2)),
        (EN_TABLE + "What was the average RSUs Vested for 2018 and 2019?", "avg(R3C3, R3C2)", Fraction(809, 2)),
        (EN_TABLE + "What is the percentage of RSUs Granted out of the Total in 2019?", "R2C2 / R7C2", None),
        # a Chinese table with one row per year: the column named, the latest year against the one before
        (ZH_TABLE + "营业收入同比增长多少？", "pct_change(R1C2, R2C2)", 25),
        (ZH_TABLE + "净利润增加了多少？", "R2C3 - R1C3", Fraction(5, 2)),
        # text: a count held × the one price per unit; a qualifier next to the count picks among prices
        ("华夏新能源ETF参考净值：3.2元。持有450份总价值？", "F2 * F1", 1440),
        ("当前价53.39元，最高价54.44元。按最高价卖出25万股，到账金额多少？", "F3 * F2", 13610000),
        ("昨天投资基金60元，今日涨跌幅-5%，实际损失多少？", "abs(F1 * F2)", 3),
        # a price written per unit (每份) is a price; 25万份 is one count of 250000
        ("某基金每份1.082，卖出25万份到账金额？", "F2 * F1", 270500),
        ("每股3元，持有2万股价值多少？", "F2 * F1", 60000),
    ],
)
def test_the_app_chooses_operands_the_labels_decide(library, question, program, value):
    figures = question_figures(question)
    plan = library.plan(question, figures)
    assert plan is not None and plan.resolved, plan
    assert plan.program == program
    if value is not None:
        assert execute(plan.program, plan.calculation(True)["unit"], figures).value == value


@pytest.mark.parametrize(
    "question",
    [
        EN_TABLE + "What is the increase / (decrease) in Granted from 2018 to 2019?",  # two rows named Granted
        EN_TABLE + "What was the change in the total from 2019?",  # one year: the other end is not named
        ZH_TABLE + "毛利率是多少？",  # no cost figure: the model must say what it can
        "当前价53.39元，最高价54.44元。持有100股价值多少？",  # two prices, none named
        "持有100份、200份，净值1.2元，价值多少？",  # two counts
    ],
)
def test_ambiguous_operands_are_left_to_the_model(library, question):
    plan = library.plan(question, question_figures(question))
    assert plan is not None and not plan.resolved and plan.program is None


def test_no_figures_or_no_indicator_gives_no_plan(library):
    assert library.plan("增长率是什么意思？", question_figures("增长率是什么意思？")) is None
    assert library.plan(ZH_TABLE + "这家公司怎么样？", question_figures(ZH_TABLE + "这家公司怎么样？")) is None


def test_a_zero_base_is_left_to_the_model_not_a_crash(library):
    question = "|年份|营业收入|\n|---|---|\n|2022|0|\n|2023|100|\n营业收入同比增长多少？"
    plan = library.plan(question, question_figures(question))
    assert plan is not None and not plan.resolved


@pytest.mark.parametrize(
    "question",
    [
        "增长" * 5000 + "|a|b|\n|---|---|\n" + "|x|1|\n" * 300,
        "|" * 3000 + "\n同比增长多少",
        "2019 2020 2021 " * 500 + "percentage change from 2019 to 2021",
        "持有" + "9" * 400 + "份，净值" + "1" * 400 + "元，价值多少？",
        "\x00\ufeff营业收入同比增长多少？|2022|\n",
    ],
)
def test_hostile_questions_do_not_crash(library, question):
    plan = library.plan(question, question_figures(question))
    assert plan is None or plan.program is None or isinstance(plan.program, str)


VALID = """indicators:
  - id: growth
    name_zh: 增长率
    name_en: growth
    patterns: ['增长率']
    program: 'pct_change({old}, {new})'
    slots: {old: a, new: b}
    unit: '%'
    resolver: years
"""


@pytest.mark.parametrize(
    "text,message",
    [
        ("indicators: [", "not valid YAML"),
        ("indicators: []", "non-empty 'indicators'"),
        ("- a\n- b", "non-empty 'indicators'"),
        (VALID.replace("    resolver: years\n", ""), "missing resolver"),
        (VALID.replace("resolver: years", "resolver: magic"), "resolver must be"),
        (VALID.replace("['增长率']", "['增长(率']"), "bad pattern"),
        (VALID.replace("['增长率']", "[]"), "patterns must be"),
        (VALID.replace("pct_change(", "__import__("), "unknown function"),
        (VALID.replace("{old: a, new: b}", "{old: a}"), "do not match"),
        (VALID.replace("unit: '%'", "unit: 亿元"), "unit must be"),
        (VALID + VALID.split("indicators:\n")[1], "duplicate id"),
    ],
)
def test_a_malformed_library_fails_at_load_with_its_reason(text, message):
    with pytest.raises(PromptError, match=re.escape(message)):
        FormulaLibrary.parse(text, "formulas.yaml")
