"""Twelfth session's readability check: a clause that restates an earlier one in other words (no model)."""

import pytest

from qa.checks import CheckContext
from qa.readability import ParaphraseCheck, dangling, key, paraphrased, topic
from qa.tasks import builtin_tasks

from .helpers import FINANCE_OK, MEDICAL_OK

TASKS = builtin_tasks()


def ctx(name="medical"):
    task = TASKS.get(name)
    return CheckContext(task.name, "问题", task.schema, "system prompt")


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("但还需要支付额外的手续费和费用", "但需要支付更多的手续费和费用", True),  # hedges and a synonym (held-out 7)
        ("可以尝试改变生活方式", "可以尝试改变生活习惯", True),
        ("建议不要自行服用羊", "而不是自行服用羊", True),  # one negation each side
        ("可以通过银联标识来确认身份", "你可以通过银联标识来验证身份", True),
        ("减少感染的风险", "降低感染的风险", True),
        ("如果孩子出现这些症状", "如果孩子出现了上述症状", True),  # pointing words are stock words
        ("长期饮酒可能导致胃部不适", "长期饮酒会引起胃部不适", True),
        ("可能需要手术治疗", "可能需要药物治疗", False),  # a swapped word that is the point
        ("保持良好的睡眠习惯", "保持良好的生活习惯", False),
        ("胃部炎症可能导致胃部疼痛", "胃溃疡也可能导致胃部疼痛", False),  # another cause
        ("如胃痛、胃部烧灼、胃部出血", "如胃痛、胃部烧灼、胃溃疡", False),  # a list with one element changed
        ("每月按时还款", "每月按时付款", False),  # 还 of 还款 is no stock word
        ("每月还款1000元", "每月还款2000元", False),  # a number apart
        ("利率越高，成本越高", "利率越低，成本越高", False),  # an antonym apart
        ("建议使用抗生素治疗", "建议不使用抗生素治疗", False),  # a negation one side lacks
        ("感染风险", "降低感染风险", False),  # too little content to be a restatement
    ],
)
def test_paraphrased_clauses(a, b, same):
    assert paraphrased(key(a), key(b)) is same


@pytest.mark.parametrize(
    ("summary", "a", "b", "same"),
    [
        # the topic named one side, pointed at with 它 / 其 the other (held-out 8)
        (
            "肝泰胶囊是一种保肝药。",
            "肝泰胶囊可能会引起胃肠道不适、恶心、呕吐等症状",
            "但它也可能引起胃肠道不适、恶心、呕吐等症状",
            True,
        ),
        ("肝泰胶囊是一种保肝药。", "肝泰胶囊的成分和效果可能因个体差异而异", "但其成分和效果可能因个体差异而异", True),
        # another subject is no pronoun for the topic
        ("胃炎是胃黏膜的炎症。", "胃炎可能引起上腹部疼痛和恶心", "胃溃疡也可能引起上腹部疼痛和恶心", False),
        # a summary that defines nothing has no topic: the name counts
        (
            "吃药后胃不舒服。",
            "肝泰胶囊可能会引起胃肠道不适、恶心、呕吐等症状",
            "但它也可能引起胃肠道不适、恶心、呕吐等症状",
            False,
        ),
    ],
)
def test_the_answers_topic_and_a_pronoun_for_it_say_the_same(summary, a, b, same):
    assert paraphrased(key(a), key(b), topic({"summary": summary})) is same


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        (  # the later copy goes (held-out 7, qh7-044)
            "finance",
            {
                "summary": "花呗提供更高的利率，但还需要支付额外的手续费和费用。",
                "analysis": ["花呗的还款成本较高。", "花呗的利率一般较低，但需要支付更多的手续费和费用。"],
            },
            {"analysis": ["花呗的还款成本较高。", "花呗的利率一般较低。"]},
        ),
        (  # the bare lead-in and the adding words go with it (qh7-029)
            "medical",
            {
                "analysis": ["如果性生活不完全受控制，可以尝试改变生活方式，比如增加运动、减少饮酒。"],
                "suggestions": [
                    "如果需要，可以考虑接受药物治疗。",
                    "如果需要，可以尝试改变生活习惯，此外，也可以参加一些体育活动，增强体质。",
                ],
            },
            {"suggestions": ["如果需要，可以考虑接受药物治疗。", "可以参加一些体育活动，增强体质。"]},
        ),
        (  # the later copy says more: the earlier goes
            "finance",
            {
                "analysis": ["花呗的利率较低，但是需要支付额外的手续费。", "逾期会影响信用记录。"],
                "suggestions": ["还需要支付更多的手续费用。"],
            },
            {"analysis": ["花呗的利率较低。", "逾期会影响信用记录。"], "suggestions": ["还需要支付更多的手续费用。"]},
        ),
        (  # a list item with nothing else goes whole, the list keeps its minimum
            "medical",
            {
                "summary": "孩子需要多休息，避免过度疲劳和受凉。",
                "analysis": ["多喝水有助于缓解喉咙不适。", "应当避免过度的疲劳和受凉。"],
            },
            {"analysis": ["多喝水有助于缓解喉咙不适。"]},
        ),
        (  # the topic named in the summary, pointed at in the items (held-out 8, qh8-018)
            "medical",
            {
                "summary": "肝泰胶囊是一种保肝药，但其成分和效果可能因个体差异而异。肝泰胶囊可能会引起恶心、呕吐等症状。",
                "analysis": [
                    "肝泰胶囊的主要作用是缓解慢性肝炎的症状，但它也可能引起恶心、呕吐等症状。",
                    "肝泰胶囊的成分和效果可能因个体差异而异。",
                    "用药前请咨询医生或药师。",
                ],
            },
            {"analysis": ["肝泰胶囊的主要作用是缓解慢性肝炎的症状。", "用药前请咨询医生或药师。"]},
        ),
    ],
)
def test_a_clause_restated_in_other_words_goes(name, data, expected):
    answer = {**(MEDICAL_OK if name == "medical" else FINANCE_OK), **data}
    done = ParaphraseCheck().repair(ctx(name), answer)
    assert {k: done.data[k] for k in expected} == expected
    assert [f.rule for f in done.findings] == ["paraphrase"] and "in other words" in done.repairs[0]


@pytest.mark.parametrize(
    "data",
    [
        # a swapped word that is the point: two options
        {"analysis": ["可能需要手术治疗。"], "suggestions": ["可能需要药物治疗。"]},
        # the list's only item restates the summary and the summary cannot be emptied: both stay
        {"summary": "建议改变生活方式。", "analysis": ["可以尝试改变生活习惯。"]},
        # what is left would give examples of a clause that went ("比如…"): the repeat stays
        {
            "summary": "可以尝试改变生活方式。",
            "analysis": ["如果症状持续，可以尝试改变生活习惯，比如增加运动。"],
        },
        # a condition whose consequence stays is never removed alone (held-out 6, qh6-020): the later copy would
        # leave too little, and the summary's would say "see a doctor" whatever happens
        {
            "summary": "贫血主要表现为面色苍白、食欲不振等。如果孩子出现这些症状，应该尽快就医。",
            "analysis": ["贫血多由缺铁引起。", "如果孩子出现了上述症状，应立即就医。"],
        },
        # the only item cannot go, and the summary's copy ends a sentence that "但在实际操作中" only set the scene for
        # (held-out 6, qh6-036)
        {
            "summary": "新车上户后是法律上的财产，但在实际操作中，车主通常会将车辆交给银行处理。",
            "analysis": ["车主需要先将车辆交给了银行处理。"],
        },
        # a short topic clause is no restatement ("购买二手车", qh6-051)
        {"summary": "购买二手车，车险都没过户，需要交保险。", "analysis": ["购买二手车，需要交保险。"]},
        # what is left would point back at the clause that went ("其…")
        {
            "summary": "脑膜炎是常见的脑部感染。",
            "analysis": ["脑膜炎是最常见的脑部感染，其主要特征是脑膜内的炎症。", "多休息。"],
        },
    ],
)
def test_distinct_points_and_fragments_are_left_alone(data):
    answer = {**MEDICAL_OK, **data}
    done = ParaphraseCheck().repair(ctx(), answer)
    assert done.data == answer and not done.findings


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("其主要特征是脑血管中的炎症和纤维化。", True),  # 其 points back at a clause that went
        ("它通常由病毒引起。", True),
        ("其他原因也可能引起头痛。", False),  # 其他 is a word of its own
        ("其实多数情况并不严重。", False),
    ],
)
def test_a_text_that_points_back_is_a_fragment(text, fragment):
    assert dangling(text) is fragment
