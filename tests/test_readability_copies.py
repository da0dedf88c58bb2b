"""Eleventh session's readability checks: a summary that copies the user's description back, and the finance
example answer carried into answers on other subjects (no model)."""

import json

import pytest

from qa.checks import CheckContext
from qa.readability import ExampleTransplantCheck, QuestionCopyCheck, readability_checks
from qa.tasks import builtin_tasks

from .helpers import FINANCE_OK, MEDICAL_OK

TASKS = builtin_tasks()
MED = TASKS.get("medical")
FIN = TASKS.get("finance")


def ctx(task, question):
    context = CheckContext(task.name, question, task.schema, "system prompt")
    context.notes["fallbacks"] = task.prompts.fallbacks
    context.notes["example_question"], context.notes["example_answer"] = task.prompts.example
    return context


DESCRIBED = "昨天晚上没吃饭到中午饿了也没吃，然后胃就好痛很痛，还干呕，后来就吃不下饭，胸口到胃都痛，这是胃病吗？"


# ---- the summary copies the question ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("question", "summary", "analysis", "expected_summary", "expected_analysis"),
    [
        # the description copied back goes, the answer's own sentence stays
        (
            DESCRIBED,
            "昨天晚上没吃饭到中午饿了也没吃，然后胃就好痛很痛，还干呕，后来就吃不下饭。这可能是空腹太久诱发的胃炎。",
            ["多见于胃炎。", "也可能与饮食不规律有关。"],
            "这可能是空腹太久诱发的胃炎。",
            ["多见于胃炎。", "也可能与饮食不规律有关。"],
        ),
        # nothing of its own left (the question asked back goes too): a later list's first item moves up
        (
            DESCRIBED,
            "昨天晚上没吃饭到中午饿了也没吃，然后胃就好痛很痛，胸口到胃都痛，这是胃病吗？",
            ["多见于胃炎。", "也可能与饮食不规律有关。"],
            "多见于胃炎。",
            ["也可能与饮食不规律有关。"],
        ),
        # the copy in front of the answer's own clause
        (
            "胃胀打嗝打完隔就好了打完一会又想打打不出的就憋得很",
            "胃胀打嗝打完隔就好了打完一会又想打打不出的就憋得很，可能是由于消化不良引起的。",
            ["多见于胃炎。"],
            "可能是由于消化不良引起的。",
            ["多见于胃炎。"],
        ),
    ],
)
def test_a_summary_that_copies_the_question_keeps_only_its_own_clauses(
    question, summary, analysis, expected_summary, expected_analysis
):
    data = {**MEDICAL_OK, "summary": summary, "analysis": analysis}
    done = QuestionCopyCheck().repair(ctx(MED, question), data)
    assert (done.data["summary"], done.data["analysis"]) == (expected_summary, expected_analysis)
    assert [f.rule for f in done.findings] == ["question_copy"]


@pytest.mark.parametrize(
    ("question", "summary"),
    [
        ("存折可以异地取款吗？存折取钱一定要本人吗？", "存折可以异地取款，但存折取钱一定要本人。"),  # an answer
        ("公积金断交后，补上可以申请公积金贷款吗", "公积金断交后，补上可以申请公积金贷款。"),  # a few words of it
        (DESCRIBED, "空腹太久可能诱发胃痛，多见于胃炎。"),
    ],
)
def test_a_summary_that_answers_in_the_questions_words_is_left_alone(question, summary):
    data = {**FINANCE_OK, "summary": summary}
    done = QuestionCopyCheck().repair(ctx(FIN, question), data)
    assert done.data is data and not done.findings


# ---- the finance example carried into other answers ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("question", "field", "given", "expected"),
    [
        # one word changed in the example's risk notice: the clause goes, the answer's own clause stays
        (
            "由低血糖导致的意外伤害，保险公司可以报销吗",
            "risk_notice",
            "医疗事故的风险较高，长期只还低血糖会导致高风险。",
            "医疗事故的风险较高。",
        ),
        # the copy opens the sentence: the sentence goes whole, and the notice becomes the standard one
        (
            "北京贷款公司排名是怎么样的?",
            "risk_notice",
            "长期只还最低还款额可能会导致资金压力增大，影响个人财务状况。",
            FIN.prompts.fallbacks["risk_notice"]["zh"],
        ),
        # a list item that only copies the example goes (the list keeps its minimum)
        (
            "机动车保险到期多少日内免于处罚",
            "analysis",
            ["逾期未续保会被处罚。", "尽量在到期还款日前全额还款。"],
            ["逾期未续保会被处罚。"],
        ),
        # what is left only leads into the clause that went ("资金紧张时"): the item goes whole
        (
            "向钱贷会跑路吗？",
            "suggestions",
            ["选择正规平台。", "资金紧张时，先比较账单分期和最低还款的实际费用。"],
            ["选择正规平台。"],
        ),
    ],
)
def test_the_finance_example_carried_into_another_subject_is_removed(question, field, given, expected):
    data = {**FINANCE_OK, field: given}
    done = ExampleTransplantCheck().repair(ctx(FIN, question), data)
    assert done.data[field] == expected
    assert [f.rule for f in done.findings] == ["example_transplant"]


@pytest.mark.parametrize(
    ("task", "question", "notice"),
    [
        # the question is on the example's subject: its words belong in the answer
        (FIN, "招商信用卡还款怎么还，每个月固定还多少钱？", "长期只还最低还款额会增加利息支出。"),
        (FIN, "存折可以异地取款吗？", "异地取款可能收取手续费，还可能影响到账时间。"),  # shares words, no run
        (FIN, "公积金断交后，补上可以申请公积金贷款吗", "补缴后的贷款会增加还款负担。"),  # a run too short
        (FIN, "机动车保险到期多少日内免于处罚", "具体以发卡银行公布的为准。"),  # no subject word in the run
    ],
)
def test_text_on_the_examples_subject_or_in_another_task_is_left_alone(task, question, notice):
    data = {**(FINANCE_OK if task is FIN else MEDICAL_OK), "summary": notice}
    done = ExampleTransplantCheck().repair(ctx(task, question), data)
    assert done.data is data and not done.findings


def test_the_copy_checks_run_after_the_re_ask_check_and_before_the_repetition_check():
    names = [c.name for c in readability_checks()]
    assert names.index("reask_echo") < names.index("question_copy") < names.index("repetition")


def test_only_the_finance_task_opts_in_to_the_example_check():
    from qa.tasks import builtin_tasks

    tasks = builtin_tasks()
    assert "example_transplant" not in [c.name for c in readability_checks()]
    assert [c.name for c in tasks.get("finance").checks][-1] == "example_transplant"
    assert "example_transplant" not in [c.name for c in tasks.get("medical").checks]


def test_the_pipeline_gives_the_checks_the_example_question():
    from qa.answers import Prompt
    from qa.backends.fake import FakeBackend
    from qa.metrics import Metrics
    from qa.pipeline import AnswerPipeline
    from qa.settings import Settings
    from qa.wiring import load_drugs

    pipeline = AnswerPipeline(FakeBackend(), load_drugs(Settings(backend="fake")), 0, Metrics())
    question = "由低血糖导致的意外伤害，保险公司可以报销吗"
    prompt = Prompt(FIN.prompts.build_messages(question), 0, question=question)
    context = pipeline.context(FIN, question, prompt)
    assert context.notes["example_question"] == FIN.prompts.example[0]
    data = {**FINANCE_OK, "risk_notice": "医疗事故的风险较高，长期只还低血糖会导致高风险。"}
    done = pipeline.repair(pipeline.checks(FIN), context, data)
    assert done.data["risk_notice"] == "医疗事故的风险较高。"
    assert json.loads(FIN.prompts.example[1])["risk_notice"] not in json.dumps(done.data, ensure_ascii=False)
