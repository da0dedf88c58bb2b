"""Tenth session's readability checks: the bound on runaway 、 enumerations, the re-ask message copied as an answer,
and the restatements that list numbers and 特别是 / 尤其是 hid from the repetition check (no model)."""

import json

import pytest

from qa.checks import CheckContext
from qa.eval.quality import detect
from qa.readability import (
    MAX_ELEMENTS,
    ListBoundCheck,
    ReaskEchoCheck,
    RepetitionCheck,
    bounded,
    key,
    readability_checks,
    similar,
)
from qa.tasks import builtin_tasks

from .helpers import FINANCE_OK, MEDICAL_OK

TASKS = builtin_tasks()
MEDICAL = TASKS.get("medical").schema
FINANCE = TASKS.get("finance").schema
MED_PROMPTS = TASKS.get("medical").prompts
REPAIR_TEXT = MED_PROMPTS.render(MED_PROMPTS.repair_template, problems="")
MED_FALLBACKS = MED_PROMPTS.fallbacks


def ctx(question="头痛怎么办？", schema=MEDICAL, repair_text=REPAIR_TEXT, example=None):
    context = CheckContext("medical", question, schema, "system prompt")
    context.notes["fallbacks"] = MED_FALLBACKS
    if repair_text:
        context.notes["repair_text"] = repair_text
    if example:
        context.notes["example_answer"] = example
    return context


# ---- the bound on 、 enumerations ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("segment", "expected"),
    [
        # the frame after the last element stays: from its 等 …
        (
            "通常表现为发热、食欲不振、呕吐、腹泻、腹痛、头痛、肌肉疼痛、关节肿胀等症状",
            "通常表现为发热、食欲不振、呕吐、腹泻、腹痛、头痛等症状",
        ),
        # … or its closing bracket
        (
            "肾病（如肾炎、肾脓肿、肾结石、肾囊肿、肾癌、肾萎缩、肾纤维化、肾肉瘤）通常会有较长的存活期",
            "肾病（如肾炎、肾脓肿、肾结石、肾囊肿、肾癌、肾萎缩等）通常会有较长的存活期",
        ),
        # no frame: 等 closes the list
        ("如香蕉、橙子、葡萄、草莓、蓝莓、猕猴桃、樱桃、李子、柿子、核桃", "如香蕉、橙子、葡萄、草莓、蓝莓、猕猴桃等"),
        # 等 inside a word (中等) is not the list's end ("…瑜伽等强度运动"); the longest element is kept whole
        ("如散步、慢跑、游泳、骑车、跳绳、瑜伽、太极、中等强度运动", "如散步、慢跑、游泳、骑车、跳绳、中等强度运动"),
        # at the bound or under it: unchanged
        ("包括材料、颜色、大小、规格、数量、价格等", "包括材料、颜色、大小、规格、数量、价格等"),
        ("咳嗽、发热", "咳嗽、发热"),
        # numbers counted with 、 are no runaway list
        ("第1、2、3、4、5、6、7、8个月", "第1、2、3、4、5、6、7、8个月"),
    ],
)
def test_a_runaway_enumeration_keeps_its_first_elements_and_its_frame(segment, expected):
    assert bounded(segment) == expected


def test_the_list_bound_cuts_whole_elements_in_every_field_and_says_where():
    runaway = "、".join(f"元素{i}号" for i in range(1, 13))
    data = {
        **MEDICAL_OK,
        "summary": f"可能与{runaway}有关。",
        "analysis": ["多见于病毒感染。", f"常见诱因有{runaway}等，需要排除。"],
    }
    done = ListBoundCheck().repair(ctx(), data)
    kept = "、".join(f"元素{i}号" for i in range(1, MAX_ELEMENTS + 1))
    # the last element is longer than any other: it carries the frame (有关) and stays whole
    first = "、".join(f"元素{i}号" for i in range(1, MAX_ELEMENTS))
    assert done.data["summary"] == f"可能与{first}、元素12号有关。"
    assert done.data["analysis"] == ["多见于病毒感染。", f"常见诱因有{kept}等，需要排除。"]
    assert [f.rule for f in done.findings] == ["long_enumeration"]
    assert "summary, analysis[1]" in done.repairs[0]
    assert not detect(done.data, MEDICAL).runaway
    # an answer with short lists is left alone
    assert ListBoundCheck().repair(ctx(), MEDICAL_OK).data is MEDICAL_OK


def test_the_list_bound_runs_after_the_repetition_check():
    """The repetition check compares whole lists (an item that lists the summary's list again); the bound comes
    after it so that cutting the summary's list first does not hide the repeat."""
    names = [type(c).__name__ for c in readability_checks()]
    assert names.index("RepetitionCheck") < names.index("ListBoundCheck")


# ---- restatements the check missed ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("2. 必须按照约定支付利息，", "必须按约定支付利息。", True),  # a list number is a place, not content
        ("处理：1. 公共维修基金由下家支付给上家，", "公共维修基金由下家支付给上家。", True),
        ("特别是甜食、高糖饮料、含咖啡因的饮品。", "尤其是甜食、高糖饮料、含咖啡因的饮品；", True),
        ("贷款期限为1.5年。", "贷款期限为5年。", False),  # a number that goes on is no list number
        ("3、5年内还清贷款。", "5年内还清贷款。", False),
    ],
)
def test_list_numbers_and_emphasis_words_do_not_hide_a_restatement(a, b, same):
    assert similar(key(a), key(b)) is same


def test_an_item_that_restates_a_numbered_summary_point_goes():
    data = {
        **FINANCE_OK,
        "summary": "装修贷款的条件：1. 需要提供完整的装修合同。2. 必须按照约定支付利息，利率以年为单位。",
        "analysis": ["这些条件确保贷款合规。", "审批时会查看收入证明。", "必须按约定支付利息。"],
    }
    context = CheckContext("finance", "装修贷款有什么条件？", FINANCE, "system prompt")
    done = RepetitionCheck().repair(context, data)
    assert not detect(done.data, FINANCE).repeated


# ---- the re-ask message copied as an answer ------------------------------------------------------------------------
ECHO = "上一次的回答没有通过检查：写出了处方药名称（青霉素类抗生素），只能写药物类别。"
ASK_AGAIN = "请重新回答同一个问题，改正上述问题，仍然只输出一个符合要求的 JSON 对象。"


@pytest.mark.parametrize(
    ("given", "expected_summary", "expected_analysis"),
    [
        # the summary was only the message: the first analysis item moves up (the list keeps its minimum)
        (
            {"summary": ECHO + ASK_AGAIN, "analysis": ["多见于病毒感染。", "也可能与受凉有关。", "少数是细菌感染。"]},
            "多见于病毒感染。",
            ["也可能与受凉有关。", "少数是细菌感染。"],
        ),
        # the message in front of a real answer: only the copied sentences go
        (
            {"summary": ECHO + "头痛多与感冒有关。", "analysis": ["多见于病毒感染。", "也可能与受凉有关。"]},
            "头痛多与感冒有关。",
            ["多见于病毒感染。", "也可能与受凉有关。"],
        ),
        # nothing to borrow (each list has only its minimum): the task's standard sentence for the summary
        (
            {"summary": ECHO, "analysis": ["多见于病毒感染。"]},
            MED_FALLBACKS["summary"]["zh"],
            ["多见于病毒感染。"],
        ),
        # a copied list item goes; a list left under its minimum gets the standard sentence
        (
            {"summary": "头痛多与感冒有关。", "analysis": [ASK_AGAIN, "多见于病毒感染。"]},
            "头痛多与感冒有关。",
            ["多见于病毒感染。"],
        ),
        (
            {"summary": "头痛多与感冒有关。", "analysis": [ECHO + ASK_AGAIN]},
            "头痛多与感冒有关。",
            [MED_FALLBACKS["analysis"]["zh"]],
        ),
    ],
)
def test_the_re_ask_message_copied_into_the_answer_is_removed(given, expected_summary, expected_analysis):
    data = {**MEDICAL_OK, **given}
    done = ReaskEchoCheck().repair(ctx(), data)
    assert done.data["summary"] == expected_summary
    assert done.data["analysis"] == expected_analysis
    assert [f.rule for f in done.findings] == ["reask_echo"]


def test_the_summary_never_borrows_an_item_that_copies_the_example_answer():
    example = json.dumps({"analysis": ["病毒引起的上呼吸道感染最常见，常伴有鼻塞或低热。"]}, ensure_ascii=False)
    data = {
        **MEDICAL_OK,
        "summary": ECHO,
        "analysis": ["病毒引起的上呼吸道感染最常见，常伴有鼻塞或低热。", "也可能与受凉有关。", "少数是细菌感染。"],
    }
    done = ReaskEchoCheck().repair(ctx(example=example), data)
    assert done.data["summary"] == "也可能与受凉有关。"
    assert done.data["analysis"] == ["病毒引起的上呼吸道感染最常见，常伴有鼻塞或低热。", "少数是细菌感染。"]


@pytest.mark.parametrize(
    ("question", "text"),
    [
        ("头痛怎么办？", "需要重新检查一次血常规。"),  # shares words, not a run of the message
        ("上一次的回答没有通过检查是什么意思？", "上一次的回答没有通过检查，说明格式不对。"),  # the user asked it
    ],
)
def test_an_answer_that_does_not_copy_the_message_is_left_alone(question, text):
    data = {**MEDICAL_OK, "summary": text}
    done = ReaskEchoCheck().repair(ctx(question), data)
    assert done.data is data and not done.findings


def test_without_a_re_ask_message_the_check_does_nothing():
    data = {**MEDICAL_OK, "summary": ECHO}
    assert ReaskEchoCheck().repair(ctx(repair_text=None), data).data is data


def test_the_service_removes_a_copied_re_ask_message(make_service):
    """The pipeline gives the check the task's re-ask message, so it works on every backend and task."""
    echoed = {**MEDICAL_OK, "summary": ECHO + ASK_AGAIN}
    service, _ = make_service([json.dumps(echoed, ensure_ascii=False)])
    answer = service.answer("medical", "嗓子疼怎么办？", service.params("medical"))
    assert "没有通过检查" not in json.dumps(answer.data, ensure_ascii=False)
    assert "reask_echo" in {h.rule for h in answer.report.fired}
    assert answer.report.passed
