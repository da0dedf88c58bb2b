"""The finance-calculation eval's own scoring (independent of the pipeline's checks): a tolerance, a ratio read as
a percentage only where the user asked for a rate, and the plain string test for shown numbers."""

import pytest

from qa.eval.finance_calc import SPLITS, asks_rate, correct, load_set, untraced_shown

FINEVAL = "请从如下检索内容中回答。用户的问题是：{q} 检索内容是：参考汇率、收益率等"


@pytest.mark.parametrize(
    "pred,gold,rate,ok",
    [
        (25.0, 25.0, True, True),
        (25.2, 25.0, True, True),  # within 1%
        (25.5, 25.0, True, False),
        (0.25, 25.0, True, True),  # a ratio for a percentage, on a rate question
        (32.53, 3253.0, False, False),  # an amount off by a factor of 100 is wrong
        (32.53, 3253.0, True, True),
        (None, 1.0, True, False),
    ],
)
def test_correct(pred, gold, rate, ok):
    assert correct(pred, gold, rate) is ok


@pytest.mark.parametrize(
    "question,rate",
    [
        (FINEVAL.format(q="100盎司白银价值多少美元？"), False),  # 汇率 in the retrieved text does not count
        (FINEVAL.format(q="存20万每天利息20元，年化收益率是多少"), True),
        ("| a | 1 |\n\nWhat is the percentage change in revenue?", True),
        ("| a | 1 |\n\nWhat is the average revenue?", False),
    ],
)
def test_asks_rate_reads_only_the_users_question(question, rate):
    assert asks_rate(question) is rate


@pytest.mark.parametrize(
    "summary,untraced",
    [
        ("营业收入从80亿元增长到100亿元，增长25.00%。", []),
        ("增长25%。", []),  # the result as %g
        ("增长30%。", ["30"]),
        ("2023年的收入为100.0亿元。", ["100.0"]),  # the string test is strict: the app writes 100
        ("2022-25%", []),  # a hyphen after a year is no minus: 2022 and 25
        ("2017-5.45", ["2017", "5.45"]),  # neither is the question's or a result
        ("增长-30%", ["-30"]),  # a minus after a Chinese word is a sign
    ],
)
def test_untraced_shown_is_a_plain_string_test(summary, untraced):
    question = "2022年营业收入80亿元，2023年100亿元，增长多少？"
    data = {"summary": summary, "calculations": [{"result": 25.0}]}
    assert untraced_shown(question, data) == untraced


@pytest.mark.parametrize(
    "summary,untraced",
    [
        ("The net loss was -3015 thousand.", []),  # the table's (3,015) is the figure -3015
        ("The net loss was -3016 thousand.", ["-3016"]),
        ("Earnings fell to -$4.90 per share.", []),  # a minus before the currency sign: the result -4.90
        ("Earnings fell to -$4.91 per share.", ["-4.91"]),
    ],
)
def test_untraced_shown_reads_accounting_negatives_and_signed_currency(summary, untraced):
    question = "Net income (loss) | $(3,015) | 2,104\nWhat was the change?"
    data = {"summary": summary, "calculations": [{"result": -4.9}]}
    assert untraced_shown(question, data) == untraced


@pytest.mark.parametrize(
    "summary,untraced",
    [
        ("营业利润减少了 0.1 英镑。", []),  # a magnitude after a word of decrease: the result -0.1
        ("营业利润下降0.10。", []),
        ("Operating profit decreased by 0.1 million.", []),
        ("Operating profit fell by £0.1m.", []),
        ("营业利润增加了 0.1。", ["0.1"]),  # no word of decrease: 0.1 is neither input nor result
        ("Operating profit rose to 0.1.", ["0.1"]),
        ("营业利润减少了 0.2。", ["0.2"]),  # a decrease, but not of the result's size
        ("营业利润减少了 -0.1。", []),  # the signed result itself
    ],
)
def test_a_magnitude_after_a_word_of_decrease_traces_with_either_sign(summary, untraced):
    question = "| | 2019 | 2018 |\n|---|---|---|\n| Operating profit (£m) | 1.20 | 1.30 |\n\nWhat was the change?"
    data = {"summary": summary, "calculations": [{"result": -0.1}]}
    assert untraced_shown(question, data) == untraced


@pytest.mark.parametrize("split", sorted(SPLITS))
def test_every_split_is_packaged_with_a_gold_number_and_a_source(split):
    items = load_set(name=SPLITS[split])
    assert items and all(isinstance(i["answer"], float) and i["source"] and i["kind"] for i in items)
