import pytest

from qa.checks import Candidate, CheckContext, ForbiddenDrugsCheck, JsonCheck, SchemaCheck
from qa.settings import Settings
from qa.tasks import builtin_tasks
from qa.validation import Drug, DrugList, fit_to_schema, normalize
from qa.wiring import load_drugs

from .helpers import MEDICAL_OK, dumps

DRUGS = DrugList(
    [
        Drug(names=("amoxicillin", "阿莫西林", "Amoxil"), class_en="penicillin antibiotic", class_zh="青霉素类抗生素"),
        Drug(names=("diazepam", "地西泮", "Valium"), class_en="benzodiazepine", class_zh="苯二氮䓬类镇静药"),
    ]
)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("ＡＭＯＸＩＣＩＬＬＩＮ", "amoxicillin"),
        ("A m o x", "amox"),
        ("阿\u200b莫\u200d西\ufeff林", "阿莫西林"),
        ("Valium\u00ad", "valium"),
        ("地 西\u3000泮", "地西泮"),
    ],
)
def test_normalize(text, expected):
    assert normalize(text) == expected


@pytest.mark.parametrize(
    "text,found",
    [
        ("可以吃阿莫西林", ["阿莫西林"]),
        ("可以吃阿 莫 西 林", ["阿 莫 西 林"]),
        ("可以吃阿\u200b莫西林", ["阿\u200b莫西林"]),
        ("take AMOXIL now", ["AMOXIL"]),
        ("take ａｍｏｘｉｃｉｌｌｉｎ", ["ａｍｏｘｉｃｉｌｌｉｎ"]),
        ("valium and diazepam", ["valium", "diazepam"]),
        ("多喝水，注意休息", []),
        ("ask a specialist about Amoxilx or xamoxil", []),
        ("(Amoxil)", ["Amoxil"]),
        ("Ａｍｏｘｉｌ。", ["Ａｍｏｘｉｌ"]),
        ("抗生素需遵医嘱", []),
    ],
)
def test_find_table(text, found):
    assert [m.found for m in DRUGS.find(text)] == found


def test_redact_uses_class_in_the_answer_language():
    zh, _ = DRUGS.redact("可以吃阿莫西林或者 Valium")
    assert zh == "可以吃青霉素类抗生素或者 苯二氮䓬类镇静药"
    en, _ = DRUGS.redact("You could take Amoxil.")
    assert en == "You could take penicillin antibiotic."


def test_repo_drug_list_loads_and_catches_common_names():
    drugs = load_drugs(Settings(backend="fake"))
    assert len(drugs.drugs) >= 100
    for name in ("阿莫西林", "amoxicillin", "地西泮", "华法林", "二甲双胍", "Lipitor"):
        assert drugs.find(f"建议服用{name}。"), name
    assert drugs.find("多喝水，注意休息，必要时就医。") == []
    assert drugs.find("If symptoms continue, see a specialist; take one oral rehydration sachet.") == []


@pytest.mark.parametrize(
    "text,hit",
    [
        ("癌痛可以用吗啡吗？", True),
        ("医生开了吗 啡", True),
        ("能喝咖啡吗？咖啡因会影响睡眠吗？", False),  # 吗 then 咖啡: not the two-character name
        ("要去医院吗？需要。", False),
    ],
)
def test_two_character_morphine_is_caught_without_touching_question_particles(text, hit):
    drugs = load_drugs(Settings(backend="fake"))
    assert bool(drugs.find(text)) is hit


MEDICAL_SCHEMA = builtin_tasks().get("medical").schema
CHECKS = [JsonCheck(), SchemaCheck(), ForbiddenDrugsCheck(DRUGS)]


def inspect(raw, truncated=False):
    """The findings the first three common checks report on one candidate answer."""
    ctx = CheckContext("medical", "问题", MEDICAL_SCHEMA, "")
    candidate = Candidate.parse(raw, truncated)
    return candidate, [f for check in CHECKS for f in check.inspect(ctx, candidate)]


def test_checks_accept_a_clean_answer():
    candidate, findings = inspect(dumps(MEDICAL_OK))
    assert findings == [] and candidate.data == MEDICAL_OK


@pytest.mark.parametrize(
    "raw,truncated,rule,fragment",
    [
        ('{"summary": "头痛', True, "json", "截断"),
        ("not json", False, "json", "不是合法的 JSON"),
        ("[1, 2]", False, "json", "不是合法的 JSON"),
        (dumps({**MEDICAL_OK, "urgent": "no"}), False, "schema", "urgent"),
        (dumps({k: v for k, v in MEDICAL_OK.items() if k != "analysis"}), False, "schema", "analysis"),
    ],
)
def test_checks_report_format_problems_to_feed_back(raw, truncated, rule, fragment):
    _, findings = inspect(raw, truncated)
    assert [f.rule for f in findings] == [rule]
    assert fragment in findings[0].problem


def test_drug_check_finds_names_in_any_field_and_redacts():
    answer = {**MEDICAL_OK, "suggestions": ["可考虑阿莫西林，遵医嘱。"]}
    candidate, findings = inspect(dumps(answer))
    assert [f.rule for f in findings] == ["forbidden_drugs"] and "阿莫西林" in findings[0].problem
    assert "阿莫西林" not in findings[0].message  # the report names classes, never the drug
    done = CHECKS[2].repair(CheckContext("medical", "问题", MEDICAL_SCHEMA, ""), candidate.data)
    assert done.data["suggestions"] == ["可考虑青霉素类抗生素，遵医嘱。"]
    assert done.repairs == ["replaced a prescription drug name with its class '青霉素类抗生素'"]


def test_fit_to_schema_trims_what_repairs_lengthened():
    schema = MEDICAL_SCHEMA
    data = {**MEDICAL_OK, "summary": "长" * 200, "suggestions": ["建" * 130] + ["x"] * 5}
    fitted, trimmed = fit_to_schema(data, schema)
    assert len(fitted["summary"]) == 160 and fitted["summary"].endswith("…")
    bound = schema["properties"]["suggestions"]
    assert (
        len(fitted["suggestions"]) == bound["maxItems"] and len(fitted["suggestions"][0]) == bound["items"]["maxLength"]
    )
    assert SchemaCheck().errors(schema, fitted) == []
    assert len(trimmed) == 3
