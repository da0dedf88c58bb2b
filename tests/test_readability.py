"""The readability checks (schema text, repetition, sentence ends), the prose n-gram ban, the sentence-aware fit,
the prompt's example exchange, and the independent defect detector that measures them (no model)."""

import json

import pytest

from qa.backends.prose import ProseNgrams
from qa.checks import CheckContext
from qa.errors import PromptError
from qa.eval.quality import QualitySummary, detect
from qa.readability import (
    RepetitionCheck,
    SchemaTextCheck,
    SentenceEndCheck,
    end_on_sentence,
    key,
    one_word_apart,
    pieces,
    similar,
)
from qa.settings import Settings
from qa.tasks import builtin_tasks
from qa.tasks.base import Files, load_prompts
from qa.validation import fit_to_schema
from qa.wiring import load_drugs

from .helpers import FINANCE_OK, MEDICAL_OK

TASKS = builtin_tasks()
MEDICAL = TASKS.get("medical").schema
FINANCE = TASKS.get("finance").schema


MED_FALLBACKS = TASKS.get("medical").prompts.fallbacks
FIN_FALLBACKS = TASKS.get("finance").prompts.fallbacks


def ctx(question="头痛怎么办？", schema=MEDICAL, fallbacks=None):
    context = CheckContext("medical", question, schema, "system prompt")
    if fallbacks:
        context.notes["fallbacks"] = fallbacks
    return context


# ---- schema text ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "given", "expected"),
    [
        ("suggestions", ["多休息。", "urgent: false"], ["多休息。"]),
        ("suggestions", ["多休息。", 'suggestions]: ["'], ["多休息。"]),
        ("suggestions", ["多休息。urgent: false"], ["多休息。"]),
        ("analysis", ["可能的原因与分析", "多见于病毒感染。"], ["多见于病毒感染。"]),  # the field's description
        ("analysis", ['{"summary": "感冒常见。"'], ["感冒常见。"]),
        ("summary", '头痛多与感冒有关。"urgent": true', "头痛多与感冒有关。"),
        ("suggestions", ["urgent: false"], ["urgent: false"]),  # the list keeps its minimum of one item
        ("summary", "同比增长{1}，高于{12}。", "同比增长{1}，高于{12}。"),  # references to computed results stay
        ("summary", "同比增长{1}。{x}", "同比增长{1}。 x"),
    ],
)
def test_schema_text_is_removed(field, given, expected):
    done = SchemaTextCheck().repair(ctx(), {**MEDICAL_OK, field: given})
    assert done.data[field] == expected
    assert [f.rule for f in done.findings] == (["schema_text"] if expected != given else [])


@pytest.mark.parametrize(
    ("question", "text"),
    [
        ("Is it true that fever helps?", "It is not true that a fever always needs treatment."),
        ("头痛怎么办？", "多休息，注意补充水分。"),
    ],
)
def test_prose_without_schema_text_is_left_alone(question, text):
    done = SchemaTextCheck().repair(ctx(question), {**MEDICAL_OK, "summary": text})
    assert done.data["summary"] == text and not done.findings


# ---- sentence ends ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("多喝水", 120, "多喝水"),  # a short phrase is a complete item
        ("多喝水。", 120, "多喝水。"),
        ("头痛多与感冒有关。也可能与压力、焦虑、抑郁等有关，", 160, "头痛多与感冒有关。"),
        ("长期压力大可能导致失眠，也会让人白天嗜", 20, "长期压力大可能导致失眠。"),  # cut by the bound, no sentence end
        ("注意休息，保持心情舒畅。长期压力大可能导致失眠和嗜", 25, "注意休息，保持心情舒畅。"),  # cut by the bound
        ("注意休息，保持心情舒畅，", 120, "注意休息，保持心情舒畅。"),
        ("头痛多与感冒有关。长期压力大可能导致失…", 20, "头痛多与感冒有关。"),  # the fit's ellipsis
        ("Rest and drink water,", 120, "Rest and drink water."),
        # the last clause stops on a word that leads into more (eleventh session), under the bound
        ("可以通过官方网站查询。首先，登录官网，然后进入首页的", 120, "可以通过官方网站查询。首先，登录官网。"),
        ("费用由上家承担，每月后由下家负担，因此其收益将随着", 120, "费用由上家承担，每月后由下家负担。"),
        ("建议做血液检查、尿液检查等。在", 120, "建议做血液检查、尿液检查等。"),
        # a conjunction: what came before it is whole
        ("多喝水，避免辛辣刺激的食物以及", 120, "多喝水，避免辛辣刺激的食物。"),
        ("请到银行柜台办理的", 120, "请到银行柜台办理。"),
        ("这种情况是正常的", 120, "这种情况是正常的"),  # 是…的 closes a sentence
        ("目的", 120, "目的"),  # too short to lose a word
        ("注意存在", 120, "注意存在"),  # 存在 is a verb, not 在
    ],
)
def test_fields_end_on_a_sentence(text, limit, expected):
    assert end_on_sentence(text, limit) == expected


def test_sentence_end_check_reports_the_fields_it_closed():
    data = {**MEDICAL_OK, "analysis": ["常见于病毒感染，", "多休息。"]}
    done = SentenceEndCheck().repair(ctx(), data)
    assert done.data["analysis"] == ["常见于病毒感染。", "多休息。"]
    assert [f.rule for f in done.findings] == ["sentence_end"] and "analysis[0]" in done.repairs[0]


# ---- repetition -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (  # a clause repeated inside the summary
            {"summary": "可能与压力、焦虑有关，也可能与睡眠不足有关，也可能与睡眠不足有关。"},
            {"summary": "可能与压力、焦虑有关，也可能与睡眠不足有关。"},
        ),
        (  # the same item twice in one list
            {"suggestions": ["保持规律作息，早睡早起。", "避免熬夜和饮酒。", "保持规律作息，早睡早起。"]},
            {"suggestions": ["保持规律作息，早睡早起。", "避免熬夜和饮酒。"]},
        ),
        (  # an item restating the summary goes when the list has others
            {
                "summary": "头痛伴低烧多与病毒感冒有关。",
                "analysis": ["头痛伴低烧多与病毒感冒有关。", "鼻窦炎也会引起头痛。"],
            },
            {"summary": "头痛伴低烧多与病毒感冒有关。", "analysis": ["鼻窦炎也会引起头痛。"]},
        ),
        (  # a near repeat with one word changed
            {
                "suggestions": [
                    "如果出现尿路感染的症状，应该尽快就医。",
                    "多喝水。",
                    "如果出现尿道感染的症状，应尽快就医。",
                ]
            },
            {"suggestions": ["如果出现尿路感染的症状，应该尽快就医。", "多喝水。"]},
        ),
        (  # an enumeration stuck in a loop keeps each element once
            {"analysis": ["主要表现为咳嗽、喘息、呼吸困难、呼吸困难、呼吸困难。"]},
            {"analysis": ["主要表现为咳嗽、喘息、呼吸困难。"]},
        ),
        (  # a conditional sentence said again for the same case goes whole, never leaving "如果…。" (held-out 8)
            {
                "summary": "退费规则因交易而异。如果交易金额在1万元以下，按交易金额退还。",
                "analysis": ["如果交易金额超过1万元，按照规定退费。如果交易金额小于1万元，按交易金额退还。"],
            },
            {"analysis": ["如果交易金额超过1万元，按照规定退费。"]},
        ),
        (  # a summary that only restates the items keeps its first sentence; the item loses it
            {"summary": "多休息有助于恢复体力。", "analysis": ["多休息有助于恢复体力。发热时注意补充水分和电解质。"]},
            {"summary": "多休息有助于恢复体力。", "analysis": ["发热时注意补充水分和电解质。"]},
        ),
        (  # a repeated condition goes, and the clause naming what it named (他) goes with it: the list can spare it
            {
                "summary": "孩子夜间咳嗽加重多与过敏有关。",
                "analysis": ["过敏性咳嗽在夜间更明显。", "因此，如果孩子夜间咳嗽加重，他只能在医生指导下用药。"],
            },
            {"analysis": ["过敏性咳嗽在夜间更明显。"]},
        ),
        (  # the list's only item keeps the clause (its point would be lost); only the repeated condition goes
            {
                "summary": "孩子夜间咳嗽加重多与过敏有关。",
                "analysis": ["因此，如果孩子夜间咳嗽加重，他只能在医生指导下用药。"],
            },
            {"analysis": ["他只能在医生指导下用药。"]},
        ),
        (  # the same number written in digits is no other number: the item saying the summary's clause again goes
            {
                "summary": "农村伤残赔偿按标准执行，如果因采煤塌陷至伤残九级，应按照工伤保险条例的规定支付相应的赔偿。",
                "analysis": [
                    "如果因采煤塌陷至伤残9级，应按照工伤保险条例的规定支付相应赔偿。",
                    "具体金额以当地标准为准。",
                ],
            },
            {"analysis": ["具体金额以当地标准为准。"]},
        ),
    ],
)
def test_repeats_are_removed(data, expected):
    answer = {**MEDICAL_OK, **data}
    done = RepetitionCheck().repair(ctx(), answer)
    assert {k: done.data[k] for k in expected} == expected
    assert [f.rule for f in done.findings] == ["repetition"] and done.repairs


@pytest.mark.parametrize(
    "data",
    [
        MEDICAL_OK,
        {**MEDICAL_OK, "suggestions": ["建议就医。", "建议就医。"][:1]},
        # distinct items sharing a frame are not repeats
        {**MEDICAL_OK, "analysis": ["病毒感染最常见，常伴鼻塞。", "空气干燥或用嗓过度也会刺激咽喉。"]},
        # the opposite case keeps its clause though the clause repeats: "如果高于14.9。" would say nothing (held-out 8)
        {**MEDICAL_OK, "summary": "血糖的正常范围因人而异，如果低于7.9，可能有糖尿病。如果高于14.9，可能有糖尿病。"},
        # no condition before the earlier copy: the condition is news and keeps its clause
        {**MEDICAL_OK, "summary": "建议您尽快就医检查。", "analysis": ["如果出现持续胸痛，建议您尽快就医检查。"]},
    ],
)
def test_distinct_answers_are_left_alone(data):
    done = RepetitionCheck().repair(ctx(), data)
    assert done.data == data and not done.findings


def test_a_list_keeps_its_minimum_when_its_only_item_is_a_repeat():
    data = {**MEDICAL_OK, "summary": "头痛伴低烧多与病毒感冒有关。", "analysis": ["头痛伴低烧多与病毒感冒有关。"]}
    done = RepetitionCheck().repair(ctx(), data)
    assert len(done.data["analysis"]) == 1 and done.data["summary"]


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("如PCR、血清学等", "如PCR、血浆学等", True),  # one character swapped
        ("如家庭疗法、家族疗法、家庭疗法等", "如家庭疗法、家庭治疗、家庭疗法等", True),
        ("主要通过血液传播", "主要通过血液、粪便、唾液等方式传播", True),  # restated with words added
        ("蜂王浆含有糖分", "因为蜂王浆含有糖分", True),  # a connective in front says nothing new
        ("可能是因为肝火旺盛所致", "个人考虑是因为肝火旺盛所致", True),  # nor does a hedge
        ("如果症状持续或加重", "如果症状持续不缓解或加重", False),  # a negation one side lacks: kept
        ("信用卡贷款可能需要申请审批", "信用卡贷款一般需要申请审批", True),  # a long clause, one modifier swapped
        ("可能需要手术治疗", "可能需要药物治疗", False),  # a short clause, its point swapped
        ("如果出现胸痛的情况", "如果出现发热的情况", False),
        ("多喝温水，注意休息", "保持室内空气湿润", False),
        ("如果因采煤塌陷至伤残九级", "如果因采煤塌陷至伤残9级", True),  # one number, in words and in digits
        ("疗程一般为三个月左右", "疗程一般为6个月左右", False),  # two numbers
        ("一般需要休息三五天左右", "一般需要休息3天左右", False),  # a range is no single number
    ],
)
def test_similar_clauses(a, b, same):
    assert similar(key(a), key(b)) is same
    assert similar(key(b), key(a)) is same


@pytest.mark.parametrize(
    ("run", "digits"),
    [("九", "9"), ("十", "10"), ("十二", "12"), ("二十", "20"), ("两", "2"), ("一千二百", "1200"), ("三百零五", "305")]
    + [("二十万", "200000"), ("三五", "三五"), ("一九", "一九"), ("千万", "千万"), ("万", "万")],
)
def test_a_chinese_numeral_reads_as_its_digits_where_it_is_one_number(run, digits):
    from qa.readability import _as_digits

    assert _as_digits(run) == digits


@pytest.mark.parametrize(
    ("summary", "items", "expected"),
    [
        (  # said in the same words
            "头痛伴低烧多与感冒有关。发热时注意补充水分和电解质。",
            {"analysis": ["发热时注意补充水分和电解质。"]},
            "头痛伴低烧多与感冒有关。",
        ),
        (  # the same point with a hedge and a modal verb around it, the list's only item (held-out 8)
            "糖尿病常有家族聚集。因此，您需要定期进行体检，以确保您的健康。",
            {"suggestions": ["定期进行体检，以确保您的健康。"]},
            "糖尿病常有家族聚集。",
        ),
        (  # a negation apart: the summary keeps its sentence
            "糖尿病常有家族聚集。因此，您不需要定期进行体检。",
            {"suggestions": ["定期进行体检。"]},
            "糖尿病常有家族聚集。因此，您不需要定期进行体检。",
        ),
        (  # another examination: the summary keeps its sentence
            "糖尿病常有家族聚集。因此，您需要定期进行眼底检查。",
            {"suggestions": ["定期进行体检。"]},
            "糖尿病常有家族聚集。因此，您需要定期进行眼底检查。",
        ),
    ],
)
def test_a_summary_detail_restated_by_an_item_leaves_the_summary_and_the_item_stays(summary, items, expected):
    data = {**MEDICAL_OK, "summary": summary, **items}
    done = RepetitionCheck().repair(ctx(), data)
    assert done.data["summary"] == expected  # the conclusion stays
    assert {k: done.data[k] for k in items} == items


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        ("头痛多与感冒有关；发热时注意补充水分和电解质。", "头痛多与感冒有关。"),
        ("价格变化见〔计算结果〕；发热时注意补充水分和电解质。", "价格变化见〔计算结果〕。"),  # Chinese, not "."
    ],
)
def test_a_summary_that_gives_up_a_sentence_ends_on_a_full_stop(summary, expected):
    data = {**MEDICAL_OK, "summary": summary, "analysis": ["发热时注意补充水分和电解质。"]}
    done = RepetitionCheck().repair(ctx(), data)
    assert done.data["summary"] == expected


def test_a_required_string_that_only_repeats_keeps_its_text_and_the_summary_gives_it_up():
    data = {
        **FINANCE_OK,
        "summary": "市盈率是股价与每股收益之比。市盈率高说明市场预期较高，但风险也较大。",
        "analysis": ["市盈率常用于同行业公司之间的比较。"],
        "suggestions": ["结合盈利增速一起看。"],
        "risk_notice": "市盈率高说明市场预期较高，但风险也较大。",
    }
    done = RepetitionCheck().repair(ctx("什么是市盈率？", FINANCE), data)
    assert done.data["risk_notice"] == data["risk_notice"]
    assert done.data["summary"] == "市盈率是股价与每股收益之比。"


@pytest.mark.parametrize(
    ("schema", "fallbacks", "data", "expected"),
    [
        (  # the only analysis item restates the summary's only sentence: neither can give it up
            MEDICAL,
            MED_FALLBACKS,
            {"summary": "头痛伴低烧多与病毒感冒有关。", "analysis": ["头痛伴低烧多与病毒感冒有关。"]},
            {"summary": "头痛伴低烧多与病毒感冒有关。", "analysis": [MED_FALLBACKS["analysis"]["zh"]]},
        ),
        (  # each list holds one item and the suggestion restates the analysis
            MEDICAL,
            MED_FALLBACKS,
            {"analysis": ["长期熬夜会导致免疫力下降。"], "suggestions": ["长期熬夜会导致免疫力下降。"]},
            {"analysis": ["长期熬夜会导致免疫力下降。"], "suggestions": [MED_FALLBACKS["suggestions"]["zh"]]},
        ),
        (  # the finance risk notice restates a list's only item
            FINANCE,
            FIN_FALLBACKS,
            {
                "suggestions": ["贷款前要比较不同机构的实际年化利率。"],
                "risk_notice": "贷款前要比较不同机构的实际年化利率。",
            },
            {"risk_notice": FIN_FALLBACKS["risk_notice"]["zh"]},
        ),
        (  # no standard sentence for the field: the repeat stays as the model wrote it
            MEDICAL,
            {},
            {"summary": "头痛伴低烧多与病毒感冒有关。", "analysis": ["头痛伴低烧多与病毒感冒有关。"]},
            {"analysis": ["头痛伴低烧多与病毒感冒有关。"]},
        ),
        (  # the standard sentence would be a repeat itself: the model's text stays
            MEDICAL,
            MED_FALLBACKS,
            {
                "summary": "具体情况因人而异，需要医生结合病史和检查结果判断。",
                "analysis": ["具体情况因人而异，需要医生结合病史和检查结果判断。"],
            },
            {"analysis": ["具体情况因人而异，需要医生结合病史和检查结果判断。"]},
        ),
        (  # the standard sentence shares half its words with the answer: the model's text stays
            MEDICAL,
            MED_FALLBACKS,
            {"analysis": ["注意记录症状出现的时间。"], "suggestions": ["注意记录症状出现的时间。"]},
            {"suggestions": ["注意记录症状出现的时间。"]},
        ),
        (  # an instruction to get help now is never swapped for the milder standard sentence: the analysis gives way
            MEDICAL,
            MED_FALLBACKS,
            {"analysis": ["如果药物过量或中毒，应立即就医。"], "suggestions": ["如果药物过量或中毒，应立即就医。"]},
            {"analysis": [MED_FALLBACKS["analysis"]["zh"]], "suggestions": ["如果药物过量或中毒，应立即就医。"]},
        ),
        (  # ... and where the summary says it, nothing can give way: the repeat stays
            MEDICAL,
            MED_FALLBACKS,
            {"summary": "药物过量或中毒时应立即就医。", "analysis": ["药物过量或中毒时应立即就医。"]},
            {"summary": "药物过量或中毒时应立即就医。", "analysis": ["药物过量或中毒时应立即就医。"]},
        ),
        (  # the earlier field could give the repeat up: the model's own text stays
            FINANCE,
            FIN_FALLBACKS,
            {
                "summary": "市盈率是股价与每股收益之比。市盈率高说明市场预期较高，但风险也较大。",
                "risk_notice": "市盈率高说明市场预期较高，但风险也较大。",
            },
            {"summary": "市盈率是股价与每股收益之比。", "risk_notice": "市盈率高说明市场预期较高，但风险也较大。"},
        ),
    ],
)
def test_a_required_field_that_only_repeats_gets_the_standard_sentence(schema, fallbacks, data, expected):
    base = MEDICAL_OK if schema is MEDICAL else FINANCE_OK
    answer = {**base, **data}
    done = RepetitionCheck().repair(ctx("问题？", schema, fallbacks), answer)
    assert {k: done.data[k] for k in expected} == expected
    standard = {t["zh"] for t in fallbacks.values()}

    def texts(d):
        return {x for v in d.values() for x in (v if isinstance(v, list) else [v])}

    wrote = bool(standard & texts(expected)) and not standard & texts(data)  # the check wrote one of them
    assert any("standard sentence" in r for r in done.repairs) is wrote


@pytest.mark.parametrize(
    ("fallbacks", "match"),
    [
        ("fallbacks:\n  urgent:\n    zh: 是。\n", "not a prose field"),
        ("fallbacks:\n  analysis:\n    zh: " + "长" * 121 + "\n", "bounds"),
        ("fallbacks:\n  analysis:\n    fr: 非。\n", "zh/en"),
    ],
)
def test_a_fallback_that_breaks_the_schema_is_refused(tmp_path, fallbacks, match):
    text = Files("qa.tasks.medical").read("medical.yaml")
    text = text[: text.index("fallbacks:")] + fallbacks + text[text.index("system: |") :]
    (tmp_path / "medical.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(PromptError, match=match):
        load_prompts(Files("qa.tasks.medical", tmp_path), "medical")


def test_a_loop_inside_the_only_item_is_removed_even_when_it_must_stay():
    loop = "如果怀疑是细菌感染，应进行实验室检测。如果怀疑是细菌感染，应进行实验室检测。"
    data = {**MEDICAL_OK, "analysis": ["如果怀疑是细菌感染，应进行实验室检测，如血常规。"], "suggestions": [loop]}
    done = RepetitionCheck().repair(ctx(), data)
    assert done.data["suggestions"] == ["如果怀疑是细菌感染，应进行实验室检测。"]


@pytest.mark.parametrize(
    ("a", "b", "apart"),
    [
        ("必要时进行胃镜检查", "必要时进行胃粘膜检查", True),
        ("可能需要考虑手术治疗", "可能需要考虑生活方式调整", True),
        ("多喝水可以帮助清除结石", "多喝水可以帮助清除脂肪", True),
        ("必要时进行胃镜检查", "必要时进行胃镜检查", False),  # the same clause: a plain repeat, not a swapped word
        ("多喝水可以帮助清除结石", "注意休息避免熬夜", False),
        ("如果出现胸痛", "如果伴有呼吸困难和大汗", False),  # a frame of two characters is no frame
    ],
)
def test_one_word_apart(a, b, apart):
    assert one_word_apart(a, b) is apart


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        # three clauses in a row that differ by one word: one enumeration, what follows stays
        (
            ["必要时进行胃镜检查，必要时进行胃粘膜检查，必要时进行胃黏膜活检，以明确诊断。"],
            ["必要时进行胃镜检查、粘膜检查、黏膜活检，以明确诊断。"],
        ),
        (
            ["可能需要考虑手术治疗，可能需要考虑药物治疗，可能需要考虑生活方式调整。"],
            ["可能需要考虑手术治疗、药物治疗、生活方式调整。"],
        ),
        # three items of one list likewise become one item
        (
            ["多喝水可以帮助清除结石。", "多喝水可以帮助清除脂肪。", "多喝水可以帮助清除毒素。"],
            ["多喝水可以帮助清除结石、脂肪、毒素。"],
        ),
        # a loop that counts says nothing new each time: its first clause stays alone (numbers are never split)
        (["每月还款12年，每月还款11年，每月还款10年，每月还款8年。"], ["每月还款12年。"]),
        # two such clauses are kept: naming two options is what a short clause is for
        (
            ["如果出现胸痛的情况，如果出现发热的情况，应及时就医。"],
            ["如果出现胸痛的情况，如果出现发热的情况，应及时就医。"],
        ),
    ],
)
def test_a_loop_of_one_word_apart_clauses_becomes_one_enumeration(given, expected):
    data = {**MEDICAL_OK, "summary": "胃疼多与饮食不规律有关。", "analysis": ["长期熬夜和压力大也会加重症状。"]}
    done = RepetitionCheck().repair(ctx("胃疼怎么办？"), {**data, "suggestions": given})
    assert done.data["suggestions"] == expected
    assert not detect(done.data, MEDICAL).within
    if expected != given:
        assert any("merged clauses that differ by one word" in r for r in done.repairs)


@pytest.mark.parametrize(
    ("run", "expected"),
    [
        (["必要时查血常规，", "必要时查尿常规，", "必要时查肝功能。"], ["必要时查血常规、尿常规、肝功能。"]),
        # clauses that already enumerate with 、 are not enumerated again: the first two stay
        (["可用A药、B药，", "可用A药、C药，", "可用A药、D药。"], ["可用A药、B药，", "可用A药、C药，"]),
        (["余额为707859元，", "余额为707860元，", "余额为707861元。"], ["余额为707859元，"]),  # a count
        # a single swapped character would split a word: the run is left as it is
        (
            ["如果症状持续加重，", "如果症状持续严重，", "如果症状持续变重。"],
            ["如果症状持续加重，", "如果症状持续严重，", "如果症状持续变重。"],
        ),
    ],
)
def test_a_loop_run_is_merged_counted_or_cut_to_two(run, expected):
    assert RepetitionCheck._merged(run) == expected


def test_clauses_keep_their_connectives():
    assert pieces("此外，多喝水。注意休息") == ["此外，多喝水。", "注意休息"]


# ---- the prose n-gram ban ---------------------------------------------------------------------------------------
def test_prose_ngrams_ban_only_repeats_inside_strings():
    vocab = [b'{"', b"a", b'": "', b"X", b"Y", b"Z", b'", "', b'"}', b"\\"]
    index = {piece: i for i, piece in enumerate(vocab)}
    prose = ProseNgrams(vocab, 3)
    for piece in [b'{"', b"a", b'": "', b"X", b"Y", b"Z", b"X"]:
        assert index[b'"}'] not in prose.banned()  # closing the string is never banned
        prose.accept(index[piece])
    assert prose.banned() == []  # only "X" written since the last "X Y": no n-1 run to match yet... until Y
    prose.accept(index[b"Y"])
    assert prose.banned() == [index[b"Z"]]  # "X Y Z" was written: Z may not follow "X Y" again
    prose.accept(index[b'", "'])
    assert prose.banned() == []  # outside the prose run


def test_prose_ngrams_follow_escaped_quotes():
    vocab = [b'"', b"\\", b"A", b"B"]
    prose = ProseNgrams(vocab, 2)
    for token in [0, 1, 0, 2]:  # "\"A: the escaped quote does not close the string
        prose.accept(token)
    assert prose.in_string


# ---- the sentence-aware fit -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("第一句话写完了。第二句话写得太长太长太长", "第一句话写完了。"),
        ("一句没有句号的很长很长很长很长的话", "一句没有句号的很长很…"),
    ],
)
def test_fit_to_schema_ends_on_the_last_sentence_that_fits(text, expected):
    schema = {"properties": {"summary": {"type": "string", "maxLength": 11}}}
    fitted, trimmed = fit_to_schema({"summary": text}, schema)
    assert fitted["summary"] == expected and trimmed


# ---- the example exchange ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["medical", "finance"])
def test_each_task_shows_one_example_exchange_without_drug_names(name):
    prompts = TASKS.get(name).prompts
    messages = prompts.build_messages("问题")
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    example = json.loads(messages[2]["content"])
    assert not load_drugs(Settings(backend="fake")).find(messages[1]["content"] + messages[2]["content"])
    assert detect(example, prompts.schema).repeated is False


def test_an_example_that_breaks_the_schema_is_refused(tmp_path):
    text = Files("qa.tasks.medical").read("medical.yaml").replace("urgent: false\n", "urgent: maybe\n", 1)
    (tmp_path / "medical.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(PromptError, match="example"):
        load_prompts(Files("qa.tasks.medical", tmp_path), "medical")


# ---- the independent detector -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "repeated", "cut", "schema_text"),
    [
        (MEDICAL_OK, False, 0, False),
        ({**MEDICAL_OK, "summary": "可能与压力、焦虑、抑郁等有关，也可能与压力、焦虑、抑郁等有关，"}, True, 1, False),
        ({**MEDICAL_OK, "suggestions": ["多休息。", "urgent: false"]}, False, 0, True),
        ({**MEDICAL_OK, "analysis": ["头痛伴低烧多与感冒等感染有关。"]}, True, 0, False),  # copies the summary
        ({**MEDICAL_OK, "analysis": ["长期压力大可能导致失眠、嗜" + "睡" * 107]}, False, 1, False),  # at the bound
        ({**MEDICAL_OK, "analysis": ["如果需要"]}, False, 1, False),  # a dangling word
    ],
)
def test_detector_reads_each_defect(data, repeated, cut, schema_text):
    found = detect(data, MEDICAL)
    assert (found.repeated, len(found.cut), bool(found.schema_text)) == (repeated, cut, schema_text)


@pytest.mark.parametrize(
    ("text", "runaway"),
    [
        ("常见原因包括" + "、".join("甲乙丙丁戊己庚辛壬癸") + "等。", True),  # ten elements
        ("常见原因包括" + "、".join("甲乙丙丁戊己庚辛壬") + "等。", False),  # nine
        ("可补充维生素A、B、C，" + "、".join("DEFGHK") + "。", False),  # two enumerations, neither ten
        ("，".join("甲乙丙丁戊己庚辛壬癸子丑") + "。", False),  # commas separate clauses, not an enumeration
    ],
)
def test_detector_reads_a_runaway_enumeration(text, runaway):
    found = detect({**MEDICAL_OK, "analysis": [text]}, MEDICAL)
    assert (found.runaway == ["analysis[0]"]) is runaway and found.runaway in ([], ["analysis[0]"])
    figures = QualitySummary(defects=[found, detect(MEDICAL_OK, MEDICAL)], ok=[True, True]).figures()
    assert figures["runaway_list_answers"][:2] == ((0.5, 1) if runaway else (0.0, 0))


def test_detector_summary_counts_shares():
    summary = QualitySummary(
        defects=[detect(MEDICAL_OK, MEDICAL), detect({**MEDICAL_OK, "suggestions": ["urgent: true"]}, MEDICAL)],
        ok=[True, True],
    )
    figures = summary.figures()
    assert figures["schema_text_answers"][:2] == (0.5, 1) and figures["schema_valid"][0] == 1.0
    assert figures["distinct_items_per_list"][0] == 1.0


def test_text_copied_from_the_example_answer_is_removed():
    from qa.answers import Prompt
    from qa.backends.fake import FakeBackend
    from qa.metrics import Metrics
    from qa.pipeline import AnswerPipeline

    pipeline = AnswerPipeline(FakeBackend(), load_drugs(Settings(backend="fake")), 0, Metrics())
    task = TASKS.get("medical")
    question = "糖尿病可以吃什么水果？"
    prompt = Prompt(task.prompts.build_messages(question), 0, question=question)
    copied = json.loads(task.prompts.example[1])["suggestions"][0]
    data = {**MEDICAL_OK, "suggestions": ["选择含糖量较低的水果，并控制每次的分量。", copied]}
    done = pipeline.repair(pipeline.checks(task), pipeline.context(task, question, prompt), data)
    assert done.data["suggestions"] == ["选择含糖量较低的水果，并控制每次的分量。"]
    assert "repetition" in [f.rule for f in done.findings]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("In summary, rest and drink water.", "In summary, rest and drink water."),
        ("Rest well. urgent: false", "Rest well."),
        ('Rest well. "analysis": [', "Rest well."),
    ],
)
def test_english_prose_keeps_words_that_are_also_key_names(text, expected):
    done = SchemaTextCheck().repair(ctx("What should I do about a headache?"), {**MEDICAL_OK, "summary": text})
    assert done.data["summary"] == expected


def test_a_row_bans_a_repeated_prose_ngram_after_the_mask_and_never_empties_it():
    """Both local backends decode through batching.Row, so this is the ban of llama.cpp and transformers alike."""
    import numpy as np

    from qa.backends.batching import Row, Vocab
    from qa.types import GenerationRequest, GenerationStats, SamplingParams

    vocab = Vocab(4, [b'"', b"X", b"Y", b"Z"], frozenset())

    def row() -> Row:
        request = GenerationRequest(messages=[], params=SamplingParams(0.0, 1.0, 10))
        r = Row(request, [3], None, GenerationStats(), vocab, 10, 0, 1.0, 0.0, no_repeat_ngram=2)
        for token in [0, 1, 2, 1]:  # the answer wrote "XYX: "Y" followed "X" once already
            r.prose.accept(token)
        return r

    best_y = np.array([0.0, 0.0, 5.0, 0.0], dtype=np.float32)
    banned = row()
    assert banned.sample(best_y) and banned.next_token != 2
    only_y = np.array([-np.inf, -np.inf, 0.0, -np.inf], dtype=np.float32)  # the grammar allows nothing else
    stepped_back = row()
    assert stepped_back.sample(only_y) and stepped_back.next_token == 2


def test_prose_ngrams_keep_the_chinese_word_tokens_of_the_prose_only():
    pieces_ = ['{"', "要", '": "', "胃", "，", "痛", "F1", '", "', "查", '"}']
    vocab = [p.encode() for p in pieces_]
    prose = ProseNgrams(vocab, 0)  # tracked even with the n-gram ban off
    for token in [0, 1, 2, 3, 4, 5, 6, 3, 7, 8, 9]:  # {"要": "胃，痛F1胃", "查"}
        prose.accept(token)
    # every string counts (a key too, as for the n-gram ban), each word once; never the comma, the syntax or
    # ASCII (numbers and figure references must recur exactly)
    assert [pieces_[t] for t in prose.words] == ["要", "胃", "痛", "查"]


@pytest.mark.parametrize(
    ("penalty", "in_string", "expected"),
    [
        (1.0, True, 1),  # off: the used word wins on its logit
        (1.5, True, 2),  # on, inside a string: the used word loses to an unused one
        (1.5, False, 1),  # outside a string (JSON syntax) nothing is penalised
    ],
)
def test_a_row_penalises_only_words_the_prose_already_used(penalty, in_string, expected):
    import numpy as np

    from qa.backends.batching import Row, Vocab
    from qa.types import GenerationRequest, GenerationStats, SamplingParams

    vocab = Vocab(4, [b'"', "胃".encode(), "肠".encode(), b"Z"], frozenset())
    request = GenerationRequest(messages=[], params=SamplingParams(0.0, 1.0, 10))
    r = Row(request, [3], None, GenerationStats(), vocab, 10, 0, 1.0, 0.0, prose_penalty=penalty)
    for token in [0, 1, 0] + ([0] if in_string else []):  # "胃" then, optionally, a new string opens
        r.prose.accept(token)
    logits = np.array([0.0, 6.0, 5.0, 0.0], dtype=np.float32)  # 胃 used (6), 肠 unused (5)
    assert r.sample(logits) and r.next_token == expected


def test_a_repeat_no_field_can_give_up_is_not_asked_again_and_gets_the_standard_sentence(make_service):
    """Asking the 0.5B model again with its repeat named made answers worse on the tuning split (BENCHMARKS.md);
    the list's only item becomes the task's standard sentence instead, and the report says so."""
    stuck = {**MEDICAL_OK, "summary": "头痛伴低烧多与病毒感冒有关。", "analysis": ["头痛伴低烧多与病毒感冒有关。"]}
    service, backend = make_service([json.dumps(stuck, ensure_ascii=False)])
    answer = service.answer("medical", "头痛低烧怎么办？", service.params("medical"))
    assert answer.report.attempts == 1 and len(backend.requests) == 1
    assert answer.data["analysis"] == [MED_FALLBACKS["analysis"]["zh"]] and answer.data["summary"] == stuck["summary"]
    assert any("standard sentence in analysis" in r for r in answer.report.repairs)
    assert not detect(answer.data, MEDICAL).repeated


def test_detector_reads_a_list_of_objects_as_no_prose_items():
    calc = {"label": "增长率", "program": "pct_change(F1, F2)", "result": "20%", "unit": "%"}
    found = detect({**FINANCE_OK, "calculations": [calc]}, FINANCE)
    assert found.valid and found.lists[0] == 0  # as an empty `calculations` always counted


# ---- eighth session: restated clauses, lists said again, fragments, bare unverified-number markers ---------------
@pytest.mark.parametrize(
    ("short", "long_", "same"),
    [
        ("避免含糖分的药物", "避免使用含有糖分的药物", True),  # words added here and there
        ("无需审核就能借钱是法律规定的", "不需要审核就能借钱是法律规定的", True),  # one negation each side
        ("选择合适的银行进行金融交易", "选择适合自己的银行进行金融交易", True),
        ("可能需要考虑手术治疗", "可能需要考虑药物治疗", False),  # a swapped word of two characters
        ("建议使用抗生素治疗方案", "建议不使用抗生素治疗方案", False),  # a negation one side lacks
        ("每月还款一千元左右即可", "每月还款一千二百元左右即可", False),  # an amount in words
        ("贷款期限为12个月", "贷款期限为18个月以内", False),  # a digit of its own
        ("多喝温水", "多喝点温水", False),  # under eight characters
    ],
)
def test_restated(short, long_, same):
    from qa.readability import restated

    assert restated(key(short), key(long_)) is same


@pytest.mark.parametrize(
    ("piece", "earlier", "again"),
    [
        (
            "关注公司的综合评分、净资产、负债总额、资产周转率、净利润。",
            "以综合评分、净资产、负债总额、资产周转率、净利润等指标来评估",
            True,
        ),
        (
            "包括综合得分、净资产、负债总额、资产周转率、净利润。",
            "以综合评分、净资产、负债总额、资产周转率、净利润等指标来评估",
            True,
        ),
        (  # the list said again with a word added to an element and no "但不限于" in its frame (held-out 8)
            "包括肺部感染、胃炎、消化系统疾病、神经系统疾病、免疫系统的疾病和某些癌症。",
            "包括但不限于肺部感染、胃炎、消化系统疾病、神经系统疾病、免疫系统疾病和某些癌症",
            True,
        ),
        (  # one element swapped for another disease: no longer all but one
            "包括肺部感染、胃溃疡、肠道疾病、神经系统疾病、免疫系统的疾病。",
            "包括但不限于肺部感染、胃炎、消化系统疾病、神经系统疾病、免疫系统疾病",
            False,
        ),
        ("如发热、咳嗽、头痛。", "常见症状有发热、咳嗽、乏力、腹泻", False),  # two of three only
        ("可选国债、存款。", "可选国债、存款、基金", False),  # two elements are no list
    ],
)
def test_a_list_said_again(piece, earlier, again):
    from qa.readability import enumerated, listed_again

    assert listed_again(piece, [enumerated(earlier)]) is again


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("根据个人需求和预算。", True),  # leads into a clause that is gone
        ("否则可能会影响交易记录。", True),  # answers a clause that is gone
        ("根据实际情况调整还款计划。", False),  # long enough to have its own verb
        ("定期检查信用报告，确保有足够的额度。", False),
    ],
)
def test_dangling(text, fragment):
    from qa.readability import dangling

    assert dangling(text) is fragment


def test_an_item_that_lists_the_summary_again_goes_and_a_fragment_item_goes_whole():
    data = {
        **MEDICAL_OK,
        "summary": "头痛常见的诱因有熬夜、压力、感冒、脱水等。",
        "analysis": ["熬夜、压力、感冒、脱水都可能引起头痛。", "长期反复头痛需要排查其他原因。"],
        "suggestions": ["保证充足睡眠，避免熬夜。", "根据自身情况，保证充足睡眠。", "头痛加重时及时就医。"],
    }
    done = RepetitionCheck().repair(ctx(), data)
    assert done.data["analysis"] == ["长期反复头痛需要排查其他原因。"]
    assert done.data["suggestions"] == ["保证充足睡眠，避免熬夜。", "头痛加重时及时就医。"]
    assert "removed" in done.repairs[0] and "analysis[0]" in done.repairs[0] and "suggestions[1]" in done.repairs[0]


def test_clauses_left_saying_only_that_a_number_was_removed_keep_the_first():
    from qa.tasks.finance.calculations import UNVERIFIED_ZH as M
    from qa.tasks.finance.calculations import drop_bare_markers

    context = CheckContext("finance", "贷款一千块一个月利息多少？", FINANCE, "system prompt")
    context.notes["fallbacks"] = FIN_FALLBACKS
    data = {
        **FINANCE_OK,
        "summary": f"利息的计算方法为：增长了{M}，差额是{M}，总计是{M}。",
        "analysis": [f"合计是{M}。"],
        "suggestions": [f"差额减少{M}。", "向银行确认实际利率。"],
    }
    assert drop_bare_markers(context, data) == 3
    assert data["summary"] == f"利息的计算方法为：增长了{M}，差额是{M}。"  # the first bare clause stays
    assert data["analysis"] == [FIN_FALLBACKS["analysis"]["zh"]]  # the list's only item: the standard sentence
    assert data["suggestions"] == ["向银行确认实际利率。"]
    assert not detect(data, FINANCE).repeated


# ---- eighth session, later: clauses that differ by an antonym, a number or a negation are never repeats ----------
# one row per antonym pair: two clauses alike but for the pair (the first three seen on held-out 4's answers)
_OPPOSITES = [
    ("通常情况下，分期还款成功率较高", "通常情况下，分期还款成功率越低"),
    ("分期还款成功率越高", "利息越高，分期还款成功率越低"),  # the longer has both words of the pair
    ("公积金的还款周期较长", "公积金的还款周期较短"),
    ("每天喝水的量应该多一些", "每天喝水的量应该少一些"),
    ("这种情况的风险通常比较大", "这种情况的风险通常比较小"),
    ("药物起效的速度通常比较快", "药物起效的速度通常比较慢"),
    ("服药后血小板数量会增加一些", "服药后血小板数量会减少一些"),
    ("服药以后血压会明显升高", "服药以后血压会明显降低"),
    ("股价在短期内可能上行", "股价在短期内可能下行"),
    ("建议每天早上服用这种药物", "建议每天晚上服用这种药物"),
    ("建议饭前服用这种药物", "建议饭后服用这种药物"),
    ("患者的症状通常会逐渐减轻", "患者的症状通常会逐渐加重"),
    ("这类基金近期的表现比较好", "这类基金近期的表现比较坏"),
    ("这种药物对胃的刺激性较强", "这种药物对胃的刺激性较弱"),
    ("如果基金净值明显上涨", "如果基金净值明显下跌"),
    ("这笔投资在第一年就盈利了", "这笔投资在第一年就亏损了"),
    ("建议在这个时候适当买入", "建议在这个时候适当卖出"),
    ("每月的收入应该记录清楚", "每月的支出应该记录清楚"),
    ("患者有明显的发热症状", "患者无明显的发热症状"),
    ("这种情况可以申请提前还款", "这种情况不可以申请提前还款"),
    ("建议使用抗生素进行治疗", "建议不使用抗生素进行治疗"),
    ("可以开始服用降压药物了", "可以停止服用降压药物了"),
    ("每月还款金额为1000元", "每月还款金额为2000元"),
    ("每月还款一千元左右即可", "每月还款一千二百元左右即可"),
    ("the risk is usually higher for older people", "the risk is usually lower for older people"),
    ("take the tablet before meals every day", "take the tablet after meals every day"),
    ("this will increase the monthly payment a lot", "this will decrease the monthly payment a lot"),
    ("you should eat more fruit and vegetables", "you should eat less fruit and vegetables"),
    ("you should take antibiotics for this infection", "you should not take antibiotics for this infection"),
]


@pytest.mark.parametrize(("a", "b"), _OPPOSITES)
def test_clauses_that_differ_by_an_antonym_number_or_negation_are_never_repeats(a, b):
    from qa.readability import opposed

    assert opposed(key(a), key(b)) and opposed(key(b), key(a))
    assert not similar(key(a), key(b)) and not similar(key(b), key(a))


@pytest.mark.parametrize(("a", "b"), _OPPOSITES)
def test_the_check_keeps_both_clauses_of_an_opposite_pair(a, b):
    stop = "." if a.isascii() else "。"
    answer = {**MEDICAL_OK, "analysis": [a + stop, b + stop]}
    done = RepetitionCheck().repair(ctx("What should I do?" if a.isascii() else "头痛怎么办？"), answer)
    assert done.data["analysis"] == [a + stop, b + stop] and not done.findings


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("避免含糖分的药物", "避免使用含有糖分的药物"),  # words added, no opposite among them
        ("无需审核就能借钱是法律规定的", "不需要审核就能借钱是法律规定的"),  # one negation each side
        ("如果出现尿路感染的症状，应该尽快就医", "如果出现尿道感染的症状，应尽快就医"),
        ("每月还款金额为1000元左右", "每月还款金额约为1000元左右"),  # the same number both sides
        ("分期还款的成功率通常较高", "分期还款成功率通常较高"),  # the same antonym both sides
        ("是否需要用药请咨询医生或药师", "需要用药请咨询医生或药师"),  # 是否 asks, it does not negate
        ("高血压通常需要长期的治疗和管理", "通常需要长期的治疗和管理"),  # said inside a longer clause
    ],
)
def test_real_repeats_are_still_similar(a, b):
    from qa.readability import opposed

    assert not opposed(key(a), key(b)) and similar(key(a), key(b))


@pytest.mark.parametrize(
    ("short", "long_"),
    [
        ("建议使用抗生素治疗", "不建议使用抗生素治疗"),  # a negation right before the clause it contains
        ("100元的手续费", "2100元的手续费"),  # a number that goes on
    ],
)
def test_a_clause_inside_a_longer_one_is_opposed_only_by_a_negation_or_number_at_its_edge(short, long_):
    from qa.readability import opposed

    assert opposed(key(short), key(long_)) and not similar(key(short), key(long_))


# ---- ninth session: fragments a removed clause leaves, counting loops spread over the fields ---------------------
@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("利息越高。", True),  # one half of 越…越…
        ("虽然费用较低。", True),  # a concession whose main clause is gone
        ("利息越高，分期还款成功率越低。", False),  # both halves
        ("收入越来越高，需要注意理财。", False),  # 越来越 is one word
        ("这种方法超越了以前的做法，效果较好。", False),  # 超越 is a word, not half a pair
    ],
)
def test_dangling_halves(text, fragment):
    from qa.readability import dangling

    assert dangling(text) is fragment


def test_an_item_left_with_a_contrast_to_a_removed_clause_goes_whole():
    data = {
        **MEDICAL_OK,
        "summary": "多数头痛与睡眠不足和压力有关。",
        "analysis": [
            "紧张和焦虑也会引起头痛。",
            "一般来说，多数头痛与睡眠不足和压力有关，但少数头痛需要排查其他疾病。",  # "一般来说，但…" left
            "饮水太少时，多数头痛与睡眠不足和压力有关，同时也要注意补水。",  # 同时 adds: the rest stays
        ],
    }
    done = RepetitionCheck().repair(ctx(), data)
    assert done.data["analysis"] == ["紧张和焦虑也会引起头痛。", "饮水太少时，同时也要注意补水。"]


def test_a_string_field_left_opening_on_a_contrast_is_not_kept_as_a_fragment():
    data = {
        **FINANCE_OK,
        "summary": "这类贷款需要稳定的信用记录和良好的信用状况。",
        "analysis": ["审批时会查看征信报告和收入证明。"],
        "risk_notice": "这类贷款需要稳定的信用记录和良好的信用状况，而这些条件往往与短期借款的需求不符。",
    }
    context = ctx("这种贷款能赚钱吗？", FINANCE, FIN_FALLBACKS)
    done = RepetitionCheck().repair(context, data)
    assert not done.data["risk_notice"].startswith("而")


def test_a_removal_that_would_leave_a_fragment_in_an_earlier_field_is_not_made():
    check = RepetitionCheck()
    text = "这类贷款需要稳定的信用记录，而这些条件往往与短期借款的需求不符。"
    assert check._without(text, "这类贷款需要稳定的信用记录。") == text
    assert check._without("这类贷款需要稳定的信用记录，审批通常需要三天。", "这类贷款需要稳定的信用记录。") == (
        "审批通常需要三天。"
    )


def test_a_count_spread_over_the_fields_keeps_its_first_clause():
    data = {
        **FINANCE_OK,
        "summary": "芝麻分是芝麻信用给出的积分。",
        "analysis": ["芝麻分的上限是950，实际金额可能超过575元。", "芝麻分反映信用状况。"],
        "suggestions": ["实际金额可能超过576元。", "按时还款可以提高芝麻分。"],
        "risk_notice": "实际金额可能超过577元。",
    }
    context = ctx("芝麻分能借多少？", FINANCE, FIN_FALLBACKS)
    done = RepetitionCheck().repair(context, data)
    assert done.data["analysis"] == data["analysis"]  # the first clause of the count stays
    assert done.data["suggestions"] == ["按时还款可以提高芝麻分。"]
    # a required string with no standard sentence of its own keeps its text (the finance task's risk check decides)
    assert done.data["risk_notice"] == data["risk_notice"]


def test_a_table_of_cases_is_not_a_count():
    from qa.readability import counting_frames, frame, one_number_apart

    cases = ["利率3时月供500元", "利率4时月供600元", "利率5时月供700元"]
    (shared,) = counting_frames(cases, 6)  # one frame, three different number pairs
    assert shared == frame(cases[0])[0]
    # two numbers change from case to case: a table, never a count
    assert not one_number_apart(frame(cases[0])[1], frame(cases[1])[1])
    # one case in each field (cases in a row of one list are the loop rule's, seventh session)
    data = {
        **FINANCE_OK,
        "analysis": [cases[0] + "。"],
        "suggestions": [cases[1] + "。"],
        "risk_notice": cases[2] + "。",
    }
    done = RepetitionCheck().repair(ctx("月供多少？", FINANCE, FIN_FALLBACKS), data)
    assert done.data == data
    assert counting_frames(cases[:2], 6) == set()  # two are a pair, not a loop


# ---- an enumeration said again in another frame (relisted) ------------------------------------------------------
@pytest.mark.parametrize(
    ("piece", "other", "again"),
    [
        # the same four treatments, each frame its own words (held-out 10)
        (
            "其治疗通常包括药物治疗、手术治疗、康复训练和心理干预。",
            "癫痫的治疗方法主要包括药物治疗、手术治疗、康复训练和心理干预。",
            True,
        ),
        # six examinations, one of them a character apart (基因检测 / 基因测验), frames of other words
        (
            "手术治疗包括脑电图、MRI、CT扫描、神经影像学检查、基因检测、遗传咨询等。",
            "定期进行脑电图、MRI、CT扫描、神经影像学检查、基因测验、遗传咨询等，",
            True,
        ),
        ("常见症状有发热、咳嗽、乏力。", "常见症状有发热、咳嗽、腹泻。", False),  # an element swapped for another
        (
            "检查肝功能、肾功能、血常规。",
            "检查肝功能、心功能、血常规。",
            False,
        ),  # 肾 / 心: one character, another organ
        ("包括发热、咳嗽、乏力、腹泻。", "包括发热、咳嗽、乏力", False),  # 腹泻 is said only here
        ("如发热、咳嗽。", "如发热、咳嗽、乏力", False),  # two elements are no list
        # the list is the smaller part: the clause's point is what it says of it
        ("出现发热、咳嗽、乏力等症状时应及时去医院检查。", "常见症状有发热、咳嗽、乏力。", False),
    ],
)
def test_relisted(piece, other, again):
    from qa.readability import relisted

    assert relisted(piece, other) is again


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (  # the only analysis item lists the summary's treatments again: the summary gives up its clause
            {
                "summary": "癫痫是一种神经系统疾病，其治疗方法主要包括药物治疗、手术治疗、康复训练和心理干预。",
                "analysis": ["治疗包括药物治疗、手术治疗、康复训练和心理干预。"],
            },
            {"summary": "癫痫是一种神经系统疾病。", "analysis": ["治疗包括药物治疗、手术治疗、康复训练和心理干预。"]},
        ),
        (  # the summary's frame says less (held-out 10): the summary gives it up though the list could spare the item
            {
                "summary": "癫痫是一种神经系统疾病，其治疗通常包括药物治疗、手术治疗、康复训练和心理干预。",
                "analysis": ["癫痫的治疗方法主要包括药物治疗、手术治疗、康复训练和心理干预。", "需长期规律服药。"],
            },
            {"summary": "癫痫是一种神经系统疾病。"},
        ),
        (  # the clause that went ended its sentence: the clause before it ends the sentence now, not a comma
            {
                "summary": "胃病患者需要定期进行胃肠道检查，包括胃镜、胃液分析和血液检查。平时注意饮食清淡。",
                "analysis": ["胃病的诊断主要包括胃镜、胃液分析和血液检查等项目。"],
            },
            {"summary": "胃病患者需要定期进行胃肠道检查。平时注意饮食清淡。"},
        ),
        (  # an item that enumerates an earlier item's list again goes whole where the list can spare it
            {
                "analysis": [
                    "常见诱因包括熬夜、压力过大、感冒和脱水。",
                    "鼻窦炎也会引起头痛。",
                    "诱因有熬夜、压力过大、感冒、脱水等。",
                ]
            },
            {"analysis": ["常见诱因包括熬夜、压力过大、感冒和脱水。", "鼻窦炎也会引起头痛。"]},
        ),
    ],
)
def test_an_enumeration_said_again_is_removed(data, expected):
    from qa.readability import RelistCheck

    done = RelistCheck().repair(ctx(), {**MEDICAL_OK, **data})
    assert {k: done.data[k] for k in expected} == expected
    assert [f.rule for f in done.findings] == ["relisted"] and "enumerating again" in done.repairs[0]


@pytest.mark.parametrize(
    "data",
    [
        # the summary's only clause and the list's only item: neither can give the list up, so both stay
        {
            "summary": "治疗包括药物治疗、手术治疗、康复训练和心理干预。",
            "analysis": ["癫痫的治疗方法主要包括药物治疗、手术治疗、康复训练和心理干预。"],
        },
        # the same symptoms said of two diseases: two points
        {"analysis": ["肾结石可伴有尿频、尿急、尿痛、血尿。", "前列腺炎可伴有尿频、尿急、尿痛、血尿。"]},
        # the subject is in the sentence's first clause: 前列腺炎 is not 肾结石
        {
            "analysis": [
                "肾结石较常见，通常伴有尿频、尿急、尿痛、血尿。",
                "前列腺炎是男性疾病，也伴有尿频、尿急、尿痛、血尿。",
            ]
        },
        # a same-topic sentence with a different enumeration
        {"analysis": ["常见症状有发热、咳嗽、乏力。", "严重时可出现发热、咳嗽、呼吸困难。"]},
        # each frame says what the other lacks (手术治疗 / 定期…以了解病情): removing either loses a point
        {
            "analysis": ["手术治疗包括脑电图、MRI、CT扫描、神经影像学检查、基因检测、遗传咨询等。"],
            "suggestions": ["定期进行脑电图、MRI、CT扫描、神经影像学检查、基因测验、遗传咨询等，以了解孩子的病情。"],
        },
        # the summary's list could go, but "这些都会导致流泪。" would point at nothing; the item is the list's only one
        {
            "summary": "流泪的原因有多种。如细菌性结膜炎、病毒性结膜炎、沙眼等，这些都会导致流泪。",
            "analysis": ["常见的眼部感染主要包括细菌性结膜炎、病毒性结膜炎和沙眼。"],
        },
        # the later clause could go, but "以了解孩子的病情。" alone is a fragment; the earlier one names 检查
        {
            "analysis": ["检查包括脑电图、磁共振、CT扫描。", "需长期随访。"],
            "suggestions": ["进行脑电图、磁共振、CT扫描，以了解孩子的病情。"],
        },
    ],
)
def test_an_enumeration_said_again_stays_where_removing_it_would_lose_a_point(data):
    from qa.readability import RelistCheck

    answer = {**MEDICAL_OK, **data}
    done = RelistCheck().repair(ctx(), answer)
    assert done.data == answer and not done.findings


# ---- a numbered list said again, and its lead-in (numbered_list) ------------------------------------------------
_LISTED = "口臭多由口腔卫生不良引起，可以通过以下几种方法来治疗口臭：1. 清洁口腔，避免细菌滋生；2. 使用牙线清洁牙齿；3. 避免使用含酒精的牙膏。"


@pytest.mark.parametrize(
    ("text", "lead", "items"),
    [
        (_LISTED, "可以通过以下几种方法来治疗口臭", 3),  # the clause that introduces it
        ("处理：（1）多休息；（2）多饮水；（3）观察体温。此外，注意保暖。", "处理", 3),
        ("一、多休息；二、多饮水；三、观察体温。", "", 3),
        ("1. 多休息；2. 多饮水。", "", 0),  # two items: no list to compare
        ("利率是1.5倍，2、3年后上调，3. 再看。", "", 0),  # numbers that go on, not a list
        ("3. 多休息；2. 多饮水；1. 观察体温。", "", 0),  # not counting up
    ],
)
def test_numbered(text, lead, items):
    from qa.readability import numbered, pieces

    found = numbered(pieces(text))
    assert (found[0], len(found[1])) == (lead, items)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (  # held-out 11's kind: the list again (an English word for 酒精 in it), and the lead-in said again beside it
            {
                "summary": _LISTED,
                "analysis": [
                    "口腔卫生不良会导致口臭，可以通过以上几种方法来治疗口臭。",
                    "1. 清洁口腔；2. 使用牙线清洁牙齿；3. 避免使用含 alcohol的牙膏。",
                ],
            },
            {"summary": _LISTED, "analysis": ["口腔卫生不良会导致口臭。"]},
        ),
        (  # numbered （1） in one copy, 1. in the other; the earlier list may have more items
            {
                "summary": "头痛可以这样处理：1. 保证充足睡眠；2. 每天多饮温水；3. 每日测量体温；4. 必要时就医。",
                "analysis": ["多与感冒有关。", "（1）保证充足的睡眠；（2）每天多饮温水；（3）每日测量体温。"],
            },
            {"analysis": ["多与感冒有关。"]},
        ),
    ],
)
def test_a_numbered_list_said_again_is_removed(data, expected):
    from qa.readability import NumberedRelistCheck

    done = NumberedRelistCheck().repair(ctx(), {**MEDICAL_OK, **data})
    assert {k: done.data[k] for k in expected} == expected
    assert [f.rule for f in done.findings] == ["numbered_list"]


@pytest.mark.parametrize(
    "data",
    [
        # the later list has an item of its own (4. 戒烟): removing it would lose a point
        {
            "summary": _LISTED,
            "analysis": ["1. 清洁口腔；2. 使用牙线清洁牙齿；3. 避免含酒精的牙膏；4. 戒烟。", "需坚持。"],
        },
        # the list is the only analysis item: the field is never emptied
        {"summary": _LISTED, "analysis": ["1. 清洁口腔；2. 使用牙线清洁牙齿；3. 避免使用含酒精的牙膏。"]},
        # two lists of the same frame with other items
        {
            "analysis": ["可以考虑以下几个方面：1. 立即就医；2. 使用药物；3. 多休息。", "需坚持。"],
            "suggestions": ["可以考虑以下几个方面：1. 保持饮水；2. 清淡饮食；3. 多休息。"],
        },
        # a concession keeps its main clause though that restates the lead-in ("虽然…可能会死人。" alone is no sentence)
        {"summary": _LISTED, "analysis": ["虽然口臭一般不会引起严重的全身疾病，但可以通过上述几种方法来治疗口臭。"]},
    ],
)
def test_a_numbered_list_stays_where_removing_it_would_lose_a_point(data):
    from qa.readability import NumberedRelistCheck

    answer = {**MEDICAL_OK, **data}
    done = NumberedRelistCheck().repair(ctx(), answer)
    assert done.data == answer and not done.findings


# ---- a clause said with and without its negation (contradiction) ------------------------------------------------
@pytest.mark.parametrize(
    ("a", "b", "contradicts_"),
    [
        ("提前还款不会影响花呗的还款成本。", "提前还款会影响花呗的还款成本。", True),  # held-out 11
        ("提前还款不会增加花呗的还款负担，", "提前还款可能会增加花呗的还款负担，", True),  # one hedged
        ("这种药不能空腹服用。", "这种药可以空腹服用。", True),
        ("办理分期无需额外支付手续费。", "办理分期需要额外支付手续费。", True),
        ("乙肝病毒携带者没有传染性。", "乙肝病毒携带者有传染性。", True),
        ("Early repayment does not affect the cost.", "Early repayment affects the cost.", True),
        ("提前还款会影响还款成本。", "逾期还款不会影响还款成本。", False),  # two subjects: a real distinction
        ("提前还款可能会增加还款负担。", "提前还款可能不会增加还款负担。", False),  # both hedged: left open
        ("提前还款不一定会增加还款负担。", "提前还款会增加还款负担。", False),  # a hedge, not a denial
        ("症状不断加重时应就医。", "症状加重时应就医。", False),  # 不断 is no negation
        ("如果余额足够，可以继续还款。", "如果余额不足，不能继续还款。", False),  # two cases
        ("如果余额不足，不能继续还款。", "如果余额不足，可以继续还款。", True),  # one case, both ways
        ("多休息。", "不休息。", False),  # too short to be a claim
    ],
)
def test_contradicts(a, b, contradicts_):
    from qa.readability import contradicts

    assert contradicts(a, b) is contradicts_
    assert contradicts(b, a) is contradicts_


def _finance_ctx():
    return CheckContext("finance", "提前还款有影响吗？", FINANCE, "system prompt")


@pytest.mark.parametrize(
    ("data", "expected", "removed"),
    [
        (  # the later copy yields where its list can spare it
            {
                "analysis": ["提前还款不会影响花呗的还款成本。"],
                "suggestions": ["按时还款。", "提前还款会影响花呗的还款成本。", "定期检查账单。"],
            },
            {"analysis": ["提前还款不会影响花呗的还款成本。"], "suggestions": ["按时还款。", "定期检查账单。"]},
            True,
        ),
        (  # the later copy cannot go ("但…" would open the risk notice): the earlier item goes whole, since what
            # its clause's removal leaves opens on a bare 会 (its subject went with the clause)
            {
                "analysis": ["提前还款不会增加还款负担，会优先考虑余额。", "提前还款不会影响还款成本。"],
                "risk_notice": "提前还款可能会增加还款负担，但不会直接影响还款成本。",
            },
            {"analysis": ["提前还款不会影响还款成本。"]},
            True,
        ),
        (  # what the later clause's removal leaves is its reason ("因为它…"): the item goes whole
            {
                "analysis": ["提前还款不会影响花呗的还款成本。"],
                "suggestions": ["按时还款。", "提前还款会影响花呗的还款成本，因为它会优先考虑当前的余额。"],
            },
            {"suggestions": ["按时还款。"]},
            True,
        ),
        (  # neither can go (a string field's only clause, a list's only item): the report says so, the answer stays
            {
                "summary": "提前还款不会影响还款成本。",
                "analysis": ["提前还款会影响还款成本。"],
                "suggestions": ["按时还款。"],
            },
            {"summary": "提前还款不会影响还款成本。", "analysis": ["提前还款会影响还款成本。"]},
            False,
        ),
    ],
)
def test_a_contradiction_is_removed_or_reported(data, expected, removed):
    from qa.readability import ContradictionCheck

    answer = {**FINANCE_OK, **data}
    done = ContradictionCheck().repair(_finance_ctx(), answer)
    assert {k: done.data[k] for k in expected} == expected
    assert [f.rule for f in done.findings] == ["contradiction"]
    assert bool(done.repairs) is removed


@pytest.mark.parametrize(
    "data",
    [
        # a real distinction in one sentence, and across fields
        {
            "analysis": ["提前还款会影响还款成本，逾期还款不会影响还款成本。"],
            "suggestions": ["按时还款。", "提前还款会影响还款成本。"],
        },
        {"analysis": ["提前还款会影响还款成本。"], "suggestions": ["按时还款。", "逾期还款不会影响还款成本。"]},
        # two cases of one condition
        {"summary": "如果余额足够，可以继续还款。", "analysis": ["如果余额不足，不能继续还款。"]},
    ],
)
def test_a_contrast_is_no_contradiction(data):
    from qa.readability import ContradictionCheck

    answer = {**FINANCE_OK, **data}
    done = ContradictionCheck().repair(_finance_ctx(), answer)
    assert done.data == answer and not done.findings


# ---- a sentence of one field said again in another with a word changed (restated_sentence) ----------------------
@pytest.mark.parametrize(
    ("a", "b", "near"),
    [
        ("他只能在特定额度内使用它", "他只能在特定额度内购买它", True),  # held-out 13's kinds: one word changed
        ("但具体扣款金额以发卡银行公布的为准", "具体扣款方式以发卡银行公布的为准", True),
        ("花呗分期退货扣钱通常是为了抵消分期付款", "花呗分期退货扣钱是为补偿分期付款", True),
        ("长期饮酒会严重损害患者的肝功能", "长期饮酒会严重损害患者的肾功能", False),  # one character: another thing
        ("可能需要进行胃镜检查以明确病因", "可能需要进行肠镜检查以明确病因", False),  # the gist opens on it
        ("如果患者的血糖长期控制不好", "如果患者的血压长期控制不好", False),  # one character: another thing
        ("如果患者出现发热症状并持续", "如果患者出现咳嗽症状并持续", False),  # a condition: another case
        ("老人每天需要适量补充钙质", "儿童每天需要适量补充钙质", False),  # the subject
        ("每月需要还款1000元左右", "每月需要还款2000元左右", False),  # a number
        ("建议患者使用抗生素治疗感染", "建议患者不用抗生素治疗感染", False),  # a negation
        ("可以使用它", "可以购买它", False),  # too short to tell from a new point
    ],
)
def test_swapped(a, b, near):
    from qa.readability import swapped

    assert swapped(key(a), key(b)) is near
    assert swapped(key(b), key(a)) is near


@pytest.mark.parametrize(
    ("a", "b", "near"),
    [
        (  # held-out 13: one element named otherwise, one a character apart, the frame one word changed
            "长期高血压会导致心脏功能下降、脑血管病变、肾脏损害、内分泌失调等",
            "长期高血压会增加心脏病、脑血管病变、肾损害、内分泌失调等",
            True,
        ),
        (  # two elements of their own
            "长期高血压会导致心脏功能下降、脑血管病变、肾脏损害、内分泌失调等",
            "长期高血压会增加心脏病、视网膜病变、肾损害、内分泌失调等",
            False,
        ),
        ("糖尿病会导致视网膜病变、肾病、神经病变等并发症", "糖尿病会导致视网膜病变、肾病、神经病变等症状", False),
        ("糖尿病会导致视网膜病变、肾病、神经病变", "糖尿病会导致视网膜病变、肾病", False),  # one list longer
    ],
)
def test_enumeration_near(a, b, near):
    from qa.readability import enumeration_near

    assert enumeration_near(a, b) is near


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (  # a risk notice's sentence says an analysis item again, one word changed: the later copy yields, the risk
            # notice keeps its other sentence
            {
                "analysis": ["花呗额度由支付能力决定。", "因此，如果账号没有花呗，他只能在特定额度内使用它。"],
                "risk_notice": "虽然额度有限，但达到一定额度就可以开始使用。如果账号没有花呗，他只能在特定额度内购买它。",
            },
            {"risk_notice": "虽然额度有限，但达到一定额度就可以开始使用。"},
        ),
        (  # two clauses of the summary each said again by an item: the item saying only that goes, the other keeps
            # what it adds, without the 但 that answered the clause that went
            {
                "summary": "花呗分期退货扣钱通常是为了抵消分期付款，但具体扣款金额以发卡银行公布的为准。",
                "analysis": [
                    "花呗分期退货扣钱是为补偿分期付款，但实际扣款金额会根据交易情况有所不同。",
                    "具体扣款方式以发卡银行公布的为准。",
                ],
            },
            {
                "summary": "花呗分期退货扣钱通常是为了抵消分期付款，但具体扣款金额以发卡银行公布的为准。",
                "analysis": ["实际扣款金额会根据交易情况有所不同。"],
            },
        ),
        (  # every clause of the summary's sentence said again in its place, the first in looser words with the same
            # opening: the whole copy goes, not all but its reworded clause (qh13-062's kind)
            {
                "summary": "花呗收款需要支付手续费，而信用卡每个月只还最低还款额，所以不能同时开通这两种账户。",
                "analysis": [
                    "资金紧张时先比较两种方式的实际费用。",
                    "花呗收款需要额外的费用，而信用卡每个月只还最低还款额，所以不能同时使用两种账户。",
                ],
            },
            {"analysis": ["资金紧张时先比较两种方式的实际费用。"]},
        ),
    ],
)
def test_a_sentence_said_again_with_a_word_changed_is_removed(data, expected):
    from qa.readability import RestatedSentenceCheck

    done = RestatedSentenceCheck().repair(_finance_ctx(), {**FINANCE_OK, **data})
    assert {k: done.data[k] for k in expected} == expected
    assert [f.rule for f in done.findings] == ["restated_sentence"] and done.repairs


_HYPERTENSION = "长期高血压会导致心脏功能下降、脑血管病变、肾脏损害、内分泌失调等，严重时可能导致死亡。"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (  # the only analysis item: a lead-in of its own, then the summary's sentence in other words; it keeps its
            # lead-in
            {
                "summary": "高血压是一种慢性疾病，长期高血压会导致心脏功能下降、脑血管病变、肾脏损害、内分泌失调等，"
                "严重时可能导致死亡。",
                "analysis": [
                    "高血压是导致心血管疾病的重要原因之一，长期高血压会增加心脏病、脑血管病变、肾损害、内分泌失调等，"
                    "严重时可能导致死亡。"
                ],
            },
            {"analysis": ["高血压是导致心血管疾病的重要原因之一。"]},
        ),
        (  # the same where the list could spare the item: the lead-in shares only the subject with the summary's
            # first clause (高血压是…), so it is a point of its own and stays
            {
                "summary": "高血压是一种慢性疾病，长期高血压会导致心脏功能下降、脑血管病变、肾脏损害、内分泌失调等，"
                "严重时可能导致死亡。",
                "analysis": [
                    "高血压是导致心血管疾病的重要原因之一，长期高血压会增加心脏病、脑血管病变、肾损害、内分泌失调等，"
                    "严重时可能导致死亡。",
                    "控制血压需要长期规律服药。",
                ],
            },
            {"analysis": ["高血压是导致心血管疾病的重要原因之一。", "控制血压需要长期规律服药。"]},
        ),
        (  # the only item says nothing else: the summary, which has another sentence, gives the sentence up
            {
                "summary": "高血压需要长期管理。" + _HYPERTENSION,
                "analysis": ["长期高血压会增加心脏病、脑血管病变、肾损害、内分泌失调等，严重时可能导致死亡。"],
            },
            {"summary": "高血压需要长期管理。"},
        ),
    ],
)
def test_an_item_restating_the_summary_is_repaired(data, expected):
    from qa.readability import RestatedSentenceCheck

    done = RestatedSentenceCheck().repair(ctx(), {**MEDICAL_OK, **data})
    assert {k: done.data[k] for k in expected} == expected
    assert done.repairs


@pytest.mark.parametrize(
    ("data", "reported"),
    [
        (  # neither can spare it (the summary's only sentence, the list's only item): reported, nothing emptied
            {
                "summary": _HYPERTENSION,
                "analysis": ["长期高血压会增加心脏病、脑血管病变、肾损害、内分泌失调等，严重时可能导致死亡。"],
            },
            True,
        ),
        (  # one clause with a word changed and nothing else said again: it may be the point
            {
                "summary": "如果保守治疗无效，医生可能会建议手术治疗以缓解症状。",
                "analysis": ["医生可能会建议药物治疗以缓解症状。"],
            },
            False,
        ),
        (  # another case of one condition, the same advice after it
            {
                "summary": "如果患者的血糖长期控制不好，可能会导致肾脏病变等并发症。",
                "analysis": ["如果患者的血压长期控制不好，可能会导致肾脏病变等并发症。"],
            },
            False,
        ),
        (  # word for word: the repetition and paraphrase checks decide
            {"summary": _HYPERTENSION, "analysis": ["其他原因。", _HYPERTENSION]},
            False,
        ),
    ],
)
def test_a_sentence_said_again_stays_where_it_may_be_the_point_or_nothing_can_spare_it(data, reported):
    from qa.readability import RestatedSentenceCheck

    answer = {**MEDICAL_OK, **data}
    done = RestatedSentenceCheck().repair(ctx(), answer)
    assert done.data == answer and not done.repairs
    assert bool(done.findings) is reported
