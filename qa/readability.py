"""Checks that make an answer read well, on every backend: no schema text in the prose, no repeated sentences or
items, no field that stops mid-sentence.

Small models under a JSON grammar write `urgent: false` or `"suggestions": [` inside a string when they meant to
close it, repeat a clause until a bound cuts them off, and copy the summary into the analysis. These checks repair
the final answer and say in the report what they removed. They never re-ask: a second generation costs as much as
the first, and the 0.5B model asked again with its repeat named repeated it again, or copied the instruction
(BENCHMARKS.md, third session). They run after the checks every task gets and before the task's own, so
text a task inserts on purpose (an emergency instruction, a risk notice) is never taken for a repeat.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from difflib import SequenceMatcher
from typing import Any

from .checks import BaseCheck, CheckContext, Finding, Repair, field_bounds, min_items, standard_sentence
from .validation import string_fields

# a sentence ends on these; a clause on these or a comma-like mark
SENTENCE_END = "。！？!?；;…"
_SENTENCE_END_RE = re.compile(f"[{SENTENCE_END}]")
_CLAUSE_MARK = "，,；;"  # not 、 or ：, so an enumeration stays whole
_OPEN_TAIL = "，,；;、：:（(“「『-—～~/"  # a text ending on one of these stopped mid-sentence
_CLOSING = "）)」』”\"’'】"
_PIECES = re.compile(f"[^{SENTENCE_END}{_CLAUSE_MARK}\n]+[{SENTENCE_END}{_CLAUSE_MARK}]*[{_CLOSING}]*|\n")
_KEYLESS = re.compile(r"[\W_]+", re.UNICODE)
_WORD = re.compile(r"[^\W_]", re.UNICODE)
_JSON_LITERAL = re.compile(r"(?<![A-Za-z_])(true|false|null)(?![A-Za-z_])", re.I)
_JSON_VALUE = re.compile(r"[:=]\s*(true|false|null)(?![A-Za-z_])", re.I)
_JSON_PUNCT = re.compile(r"\"\s*[:,]\s*\"?|[{}\[\]]")
# `{1}`: a task's reference to one of its computed results (finance), filled by its own check later; not JSON
_REFERENCE = re.compile(r"\{(\d{1,3})\}")
_HELD = re.compile("\ue000(\\d{1,3})\ue001")


def _prose_fields(data: dict[str, Any]) -> list[str]:
    """The keys whose values are prose: strings and lists of strings, in answer order."""
    return [
        k for k, v in data.items() if isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v))
    ]


def pieces(text: str) -> list[str]:
    """A string cut into clauses, each with its own closing punctuation (joining them gives the text back); a
    clause of one to three characters ("此外，") stays with the clause after it, so it goes when that one goes."""
    out: list[str] = []
    carry = ""
    for piece in _PIECES.findall(text):
        if 0 < len(key(piece)) < 4 and piece != "\n" and not _SENTENCE_END_RE.search(piece):
            carry += piece
            continue
        out.append(carry + piece)
        carry = ""
    if carry:
        if out:
            out[-1] += carry
        else:
            out.append(carry)
    return out


# a list number a clause opens with, or a colon introduces ("2. 必须按约定支付利息", "处理：1. …", "（3）…", "二、…"):
# a place in a list, not what the clause says, so "2. 必须按照约定支付利息" in the summary and "必须按约定支付利息。"
# in analysis compare as the same clause and not as two numbers apart. Never a number that goes on ("1.5倍", "3、5年").
_LIST_NUMBER = re.compile(
    r"(?:^|(?<=[：:]))\s*(?:[（(]\s*\d{1,2}\s*[)）]|\d{1,2}\s*[.．、)）](?!\d)|[一二三四五六七八九十]、)\s*"
)


def key(piece: str) -> str:
    """What a clause says, for comparison: NFKC, case-folded, without punctuation or spaces or a list number."""
    return _KEYLESS.sub("", unicodedata.normalize("NFKC", _LIST_NUMBER.sub("", piece))).casefold()


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def coverage(a: str, b: str) -> tuple[float, int]:
    """(the share of a's characters that sit inside a character bigram b also has, the longest run of a's
    characters that do not). One swapped character costs only itself (a bigram Jaccard loses two bigrams per
    changed character, so "家庭疗法、家族疗法" looked distinct); a swapped word leaves a run of two or more."""
    if len(a) < 2:
        return 0.0, len(a)
    theirs = _bigrams(b)
    hit = [False] * len(a)
    for i in range(len(a) - 1):
        if a[i : i + 2] in theirs:
            hit[i] = hit[i + 1] = True
    gap = run = 0
    for h in hit:
        run = 0 if h else run + 1
        gap = max(gap, run)
    return sum(hit) / len(a), gap


def similar(a: str, b: str) -> bool:
    """Two clause keys say the same: equal; the shorter (8+ characters) inside the longer, or nearly all its
    characters covered by the longer's bigrams (a clause restated with words added, "主要通过血液传播" → "主要通过
    血液、粪便、唾液等方式传播"); or each covering the other, by more than three quarters when neither has a run
    of two characters of its own (single swapped characters: "如PCR、血清学等 / 如PCR、血浆学等"), else by five
    sixths, so that a short clause whose point is a swapped word stays distinct ("可能需要手术治疗 / 可能需要药物
    治疗", "如果出现胸痛的情况 / 如果出现发热的情况"). Never two clauses that are `opposed` (a number, a
    negation or an antonym apart). Thresholds set on the tuning split's answers."""
    if a == b:
        return True
    # "因为蜂王浆含有糖分" says what "蜂王浆含有糖分" says: compared again without a leading connective
    return _near(a, b) or _near(_LEAD.sub("", a) or a, _LEAD.sub("", b) or b)


def _near(a: str, b: str) -> bool:
    if a == b:
        return len(a) >= 4
    if opposed(a, b):
        return False
    short, long_ = sorted((a, b), key=len)
    if len(short) < 4:
        return False
    if len(short) >= 8 and (short in long_ or coverage(short, long_)[0] >= 0.9):
        return True
    (ca, ga), (cb, gb) = coverage(a, b), coverage(b, a)
    # `opposed` was asked above: the restatement test proper, without asking it again
    return min(ca, cb) >= 0.83 or (min(ca, cb) > 0.75 and max(ga, gb) <= 1) or _restated(short, long_)


_NEGATION = re.compile("[不无没非未勿别否]")
_NUMERAL = frozenset("零〇一二三四五六七八九十百千万亿两")  # an amount written in words differs as digits do
_EN_NEGATION = ("not", "never", "without", "no")
_NUMBER = re.compile(r"\d+(?:\.\d+)?|[零〇一二三四五六七八九十百千万亿两]+")
# words of opposite sense: one swapped for the other ("成功率较高 / 成功率越低", "还款周期较长 / 还款期限较短")
# reverses the clause, so the two are never a repeat however much else they share. Keys are case-folded
# without spaces, so the English words are matched inside the key.
ANTONYMS: tuple[tuple[str, str], ...] = (
    ("高", "低"), ("长", "短"), ("多", "少"), ("大", "小"), ("快", "慢"), ("增", "减"), ("升", "降"),
    ("上", "下"), ("早", "晚"), ("前", "后"), ("轻", "重"), ("好", "坏"), ("强", "弱"), ("涨", "跌"),
    ("盈", "亏"), ("买", "卖"), ("收", "支"), ("有", "无"), ("是", "否"), ("开始", "停止"), ("加重", "减轻"),
    ("more", "less"), ("higher", "lower"), ("high", "low"), ("increase", "decrease"), ("before", "after"),
    ("early", "late"), ("long", "short"), ("large", "small"), ("fast", "slow"), ("rise", "fall"),
    ("buy", "sell"), ("gain", "loss"), ("profit", "loss"), ("up", "down"), ("start", "stop"),
)  # fmt: skip


def _numbers(text: str) -> list[str]:
    """The numbers a key states: digit runs and Chinese numeral runs (a lone 一 is an article: 一种, 一些), a
    numeral written in digits where it reads as one number, so "伤残九级 / 伤残9级" state the same number."""
    return sorted(_as_digits(n) for n in _NUMBER.findall(text) if n != "一")


_DIGIT = {c: n for n, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_UNIT = {"十": 10, "百": 100, "千": 1000}
_BIG = {"万": 10_000, "亿": 100_000_000}


def _as_digits(run: str) -> str:
    """A Chinese numeral run as its digits ("九" → 9, "十二" → 12, "一千二百" → 1200), or as written where it is
    no single number: two digits in a row (三五天, a range), a unit alone (千万, 万一), anything else unparsed."""
    if run.isdigit() or (run != "十" and not any(c in _DIGIT for c in run)):
        return run
    total = section = 0
    number: int | None = None
    for c in run:
        if c in _DIGIT:
            if number not in (None, 0) and c not in "零〇":
                return run  # 三五: a range, not a number
            number = _DIGIT[c]
        elif c in _UNIT:
            section += (number if number is not None else 1) * _UNIT[c]
            number = None
        else:
            section = (section + (number or 0)) * _BIG[c]
            total, section, number = total + section, 0, None
    return str(total + section + (number or 0))


def opposed(a: str, b: str) -> bool:
    """Two clause keys that never repeat each other, however alike: where they overlap, they differ in a number
    (1000元 / 2000元, 一千 / 一千二百), in a negation only one has (建议使用 / 建议不使用), or one has a word where
    the other has its opposite (高 / 低, 长 / 短, higher / lower). Removing such a clause as a repeat deletes what
    the answer says; keeping a near repeat only costs words. A longer key is compared where the shorter sits in
    it, two characters either side (a 不 before it, a 高 after it), so what a whole item adds around a clause it
    repeats does not count."""
    short, long_ = sorted((a, b), key=len)
    at = long_.find(short)
    if at >= 0:
        # said word for word inside the longer: opposed only when a negation stands right before it
        # ("建议使用抗生素" in "不建议使用抗生素") or a number it starts or ends with goes on ("100元" in "2100元")
        before = long_[:at].removesuffix("是否")[-1:] if at else ""  # 是否 asks "whether"; it negates nothing
        after = long_[at + len(short) : at + len(short) + 1]
        return bool(
            _NEGATION.fullmatch(before or "x")
            or (before.isdigit() and short[0].isdigit())
            or (after.isdigit() and short[-1].isdigit())
        )
    _, in_l = _aligned(short, long_)
    used = [j for j, u in enumerate(in_l) if u]
    first, last = (used[0], used[-1]) if used else (0, len(long_) - 1)
    long_ = long_[max(0, first - 2) : last + 3]
    if _numbers(short) != _numbers(long_):
        return True
    if len(_NEGATION.findall(short.replace("是否", ""))) != len(_NEGATION.findall(long_.replace("是否", ""))):
        return True  # 是否 asks "whether"; it negates nothing
    if any(short.count(w) != long_.count(w) for w in _EN_NEGATION):
        return True
    # a swap: one side has more of a word, the other more of its opposite
    if any((short.count(x) - long_.count(x)) * (short.count(y) - long_.count(y)) < 0 for x, y in ANTONYMS):
        return True
    # or, among the characters the two do not share, one has a word and the other its opposite (counts miss
    # "成功率越高" against "利息越高，成功率越低": the longer has both)
    in_s, in_l = _aligned(short, long_)
    own = "".join(c for c, used in zip(short, in_s, strict=True) if not used)
    added = "".join(c for c, used in zip(long_, in_l, strict=True) if not used)
    return any((x in own and y in added) or (y in own and x in added) for x, y in ANTONYMS if len(x) == 1)


def _aligned(a: str, b: str) -> tuple[list[bool], list[bool]]:
    """Which characters of a and of b a longest common subsequence of the two uses."""
    n, m = len(a), len(b)
    table = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            table[i][j] = table[i + 1][j + 1] + 1 if a[i] == b[j] else max(table[i + 1][j], table[i][j + 1])
    in_a, in_b = [False] * n, [False] * m
    i = j = 0
    while i < n and j < m:
        if a[i] == b[j]:
            in_a[i] = in_b[j] = True
            i, j = i + 1, j + 1
        elif table[i + 1][j] >= table[i][j + 1]:
            i += 1
        else:
            j += 1
    return in_a, in_b


def _gap(used: list[bool], width: int = 2) -> bool:
    """True when `width` or more characters in a row are outside the common subsequence (a word of its own)."""
    run = 0
    for aligned in used:
        run = 0 if aligned else run + 1
        if run >= width:
            return True
    return False


def restated(short: str, long_: str) -> bool:
    """The longer clause says the shorter one again with a few characters added or one swapped here and there
    ("避免含糖分的药物 / 避免使用含有糖分的药物", "不需要审核就能借钱 / 无需审核就能借钱"): the shorter has 8+
    characters, the longer at most half again as many, a longest common subsequence holds 85% of the shorter and
    what the shorter has of its own is single characters, never a digit or numeral (12个月 / 18个月, 一千 / 一千二百) and never a negation
    one side lacks ("建议使用 / 建议不使用"). A swapped word of two characters ("手术治疗 / 药物治疗") stays distinct.
    Set on the tuning splits' answers."""
    return not opposed(short, long_) and _restated(short, long_)


def _restated(short: str, long_: str) -> bool:
    """`restated` for two keys already known not to be `opposed`."""
    if len(short) < 8 or len(long_) > 1.5 * len(short):
        return False
    in_s, in_l = _aligned(short, long_)
    if sum(in_s) < 0.85 * len(short):
        return False
    own = [c for c, used in zip(short, in_s, strict=True) if not used]
    added = [c for c, used in zip(long_, in_l, strict=True) if not used]
    if any(c.isdigit() or c in _NUMERAL for c in own + added):
        return False
    if len(_NEGATION.findall(short)) != len(_NEGATION.findall(long_)):
        return False
    return not _gap(in_s)


def enumerated(piece: str) -> list[str]:
    """The keys of a clause's elements when it enumerates with 、 (the first and last carry the clause's frame:
    "关注公司的综合评分、净资产、净利润" → 关注公司的综合评分 / 净资产 / 净利润), else []."""
    parts = [key(p) for p in piece.split("、")]
    return parts if len(parts) >= 2 and all(parts) else []


def _same_element(a: str, b: str) -> bool:
    """Two elements of enumerations name one thing: equal, or one the other with words before or after it, as
    written or once their stock words are gone ("免疫系统的疾病 / 免疫系统疾病", "包括肺部感染 / 包括但不限于肺部
    感染": the frame a list opens with is no element of its own)."""
    ga, gb = gist(a), gist(b)
    return _prefix_or_suffix(a, b) or bool(ga and gb and _prefix_or_suffix(ga, gb))


def _prefix_or_suffix(a: str, b: str) -> bool:
    short, long_ = sorted((a, b), key=len)
    return a == b or (len(short) >= 2 and (long_.startswith(short) or long_.endswith(short)))


def listed_again(piece: str, earlier: list[list[str]]) -> bool:
    """A clause that enumerates three or more things an earlier enumeration already listed, all but one of them
    ("以综合评分、净资产、负债总额、资产周转率、净利润等指标来评估" then "关注公司的综合评分、净资产、负债总额、
    资产周转率、净利润"): the list said again, whatever frame it sits in."""
    mine = enumerated(piece)
    if len(mine) < 3:
        return False
    for elements in earlier:
        hits = sum(any(_same_element(m, e) for e in elements) for m in mine)
        if hits >= 3 and hits >= len(mine) - 1:
            return True
    return False


# a clause that opens with one of these leads into the next clause; left last, it is a fragment
_DEPENDENT = re.compile(
    "^(?:根据|通过|为了|对于|按照|依据|随着|基于|除了|如果|假如|若是|因为|由于|当|虽然|尽管|不仅|不但|即使|无论|只要|一旦)"
)
# 越 of "越…越…" (利息越高，成功率越低), not of a word (超越, 跨越, 越来越): a text left with one has lost the other half
_CORRELATIVE = re.compile("(?<![超卓跨穿飞逾翻来])越(?!来越|过|野|南|剧|级|狱|境)")


# a clause that opens with one of these answers the clause before it, or points back at it ("其主要特征是…": the
# clause naming what 其 is went, twelfth session); left first, it is a fragment
_FOLLOWING = re.compile("^(?:否则|但是|但|而且|而|并且|因此|所以|不过|然而|同时|也|其(?![他中实余次])|它)")


def dangling(text: str) -> bool:
    """A shortened text whose last clause only leads into a clause that is gone ("根据个人需求和预算。"), whose
    first clause answers one that is gone ("否则可能会影响交易记录。"), or that keeps one half of a "越…越…" pair
    ("利息越高。")."""
    parts = [p for p in pieces(text) if key(p)]
    if not parts:
        return False
    # "否则可能会影响交易记录。" answers a clause that is gone
    if _FOLLOWING.match(key(parts[0])):
        return True
    if len(_CORRELATIVE.findall(text)) == 1:
        return True
    # a longer one usually has its own verb ("根据实际情况调整还款计划。" is whole); one a condition leads into is
    # the sentence's main clause ("如果交易金额超过1万元，按照规定退费。")
    if len(parts) > 1 and _conditions(parts[-2]):
        return False
    return len(key(parts[-1])) <= 10 and bool(_DEPENDENT.match(key(parts[-1])))


def follows_gap(kept: list[str], gone_before: list[bool]) -> bool:
    """Clauses kept around a removed one, where a kept clause after the gap answers what went ("通常情况下，[…]
    但具体指标可能不同。": the 但 had the removed clause to contrast with), so what is left is a fragment."""
    return any(gone and _CONTRAST.match(key(piece)) for piece, gone in zip(kept[1:], gone_before[1:], strict=True))


# after a gap only a contrast or a consequence needs the clause that went; 同时 / 也 / 并且 add to any clause
_CONTRAST = re.compile("^(?:否则|但是|但|而|因此|所以|不过|然而)")


_DIGITS = re.compile(r"\d+(?:\.\d+)?")


def frame(k: str) -> tuple[str, tuple[str, ...]]:
    """A clause key with its digit runs taken out: (the frame with # in their place, the numbers)."""
    return _DIGITS.sub("#", k), tuple(_DIGITS.findall(k))


def counting_frames(keys: list[str], min_key: int) -> set[str]:
    """Frames three or more clause keys of one answer share with different numbers ("实际金额可能超过575 / 576 /
    577" in three fields): a loop that counts, whether in a row or spread over the fields."""
    numbers: dict[str, list[tuple[str, ...]]] = {}
    for k in keys:
        f, nums = frame(k)
        if nums and len(f.replace("#", "")) >= min_key:
            numbers.setdefault(f, []).append(nums)
    return {f for f, seen in numbers.items() if len(seen) >= 3 and len(set(seen)) >= 2}


def one_number_apart(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Two clauses of one frame whose numbers differ in one place at most (a count going on), not in two or more
    (a table of cases: "利率3%时月供500元 / 利率4%时月供600元")."""
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) <= 1


def one_word_apart(a: str, b: str) -> bool:
    """Two clause keys that share a frame and differ only in a short word inside it ("必要时进行胃镜检查 /
    必要时进行胃粘膜检查", "可能需要考虑手术治疗 / 可能需要考虑生活方式调整"): a common start and end of four or
    more characters together, and what differs is at most six characters on either side and no longer than
    the frame. Two such clauses may be the point (two options); three in a row are a loop."""
    short = min(len(a), len(b))
    head = len(os.path.commonprefix([a, b]))
    tail = len(os.path.commonprefix([a[::-1], b[::-1]]))
    tail = min(tail, short - head)
    frame = head + tail
    differs = max(len(a), len(b)) - frame
    return frame >= 4 and 0 < differs <= 6 and frame >= differs


# connectives and hedges a clause may start with that do not change what it says (compared without them):
# "可能是因为…所致，个人考虑是因为…所致" is one cause said twice
_LEAD = re.compile(
    "^(?:因为|由于|所以|因此|如果|假如|若是|但是|不过|而且|并且|此外|另外|同时|然而|首先|其次|最后|总之|例如|比如|也|还|那么"
    "|接着|然后|随后|之后|第[一二三四五六七八九十\\d]步是?|特别是|尤其是|尤其|特别"
    "|个人考虑是|个人考虑|个人认为|考虑是|考虑为|可能是|可能)+"
)


class SchemaTextCheck(BaseCheck):
    """Removes schema text from the prose: key names, JSON booleans and JSON punctuation ("urgent: false")."""

    name = "schema_text"
    rules = ("schema_text",)

    def _patterns(self, schema: dict[str, Any], zh: bool) -> list[re.Pattern[str]]:
        names = "|".join(re.escape(k) for k in schema.get("properties", {}))
        # `"urgent": false`, `suggestions]: [`, `summary:` (a key with what the model wrote after it); in English
        # prose "in summary" or "analysis" are words, so there a key counts only quoted or before a colon
        bare = (
            rf"\"?(?<![A-Za-z_])({names})(?![A-Za-z_])\"?"
            if zh
            else rf"(\"({names})\"|(?<![A-Za-z_])({names})(?=\s*[:=]))"
        )
        found = [
            re.compile(bare + r"\s*[\]}]*\s*[:：=]?\s*[\[{\"]*\s*((true|false|null)(?![A-Za-z_]))?", re.I),
        ] if names else []  # fmt: skip
        # in a Chinese answer a bare true/false is schema text; in English prose only after a colon or equals sign
        return [*found, _JSON_LITERAL if zh else _JSON_VALUE, _JSON_PUNCT]

    def clean(self, text: str, patterns: list[re.Pattern[str]]) -> str:
        """The text without schema text, its spacing and dangling marks tidied."""
        out = _REFERENCE.sub("\ue000\\1\ue001", text)  # held out of the JSON-punctuation rule
        for pattern in patterns:
            out = pattern.sub(" ", out)
        out = _HELD.sub(r"{\1}", out)
        if out != text:  # the quotes that framed the removed key or value
            out = out.replace('"', " ")
        out = re.sub(r"\s*[:：=]\s*(?=[，。,.；;]|$)", "", out)  # a label whose value was removed
        out = re.sub(r"\s{2,}", " ", out).strip(" ,，、:：")
        return out if out != text.strip() else text

    def repair(self, ctx: CheckContext, data: dict[str, Any]) -> Repair:
        patterns = self._patterns(ctx.schema, ctx.zh)
        descriptions = [key(str(p.get("description", ""))) for p in ctx.schema.get("properties", {}).values()]
        fixed = dict(data)
        changed: list[str] = []
        for k in _prose_fields(data):
            value = data[k]
            if isinstance(value, str):
                new = self.clean(value, patterns)
                if new != value and _WORD.search(new):
                    fixed[k] = new
                    changed.append(k)
                continue
            minimum = min_items(ctx.schema, k)
            items: list[str] = []
            for i, item in enumerate(value):
                new = self.clean(item, patterns)
                if len(key(new)) >= 4 and any(key(new) in d for d in descriptions):
                    new = ""  # the model copied the field's description ("可能的原因与分析") as an item
                if new != item:
                    changed.append(f"{k}[{i}]")
                if _WORD.search(new):
                    items.append(new)
            # an item that was nothing but schema text goes, unless the list would become too short
            fixed[k] = items if len(items) >= minimum else list(value)
            if fixed[k] == value:
                changed = [c for c in changed if not c.startswith(f"{k}[")]
        if not changed:
            return Repair(data)
        where = ", ".join(changed)
        return Repair(fixed, [Finding("schema_text", f"schema text in the prose ({where})")],
                      [f"removed schema text from {where}"])  # fmt: skip


class RepetitionCheck(BaseCheck):
    """Removes a clause or list item that repeats an earlier one, inside a field or across fields, keeping it in
    the field where it belongs."""

    name = "repetition"
    rules = ("repetition",)
    min_key = 6  # shorter clauses ("建议就医") may recur on purpose

    @staticmethod
    def _enumeration(text: str, where: str, removed: list[str]) -> str:
        """A list written with 、 ("咳嗽、喘息、呼吸困难、呼吸困难") keeps each element once."""

        def fix(m: re.Match[str]) -> str:
            parts = m.group(0).split("、")
            kept = list(dict.fromkeys(parts))
            if len(kept) < len(parts):
                removed.append(where)
            return "、".join(kept)

        return re.sub(r"[^，,；;。！？!?、\n]+(?:、[^，,；;。！？!?、\n]+)+", fix, text)

    @staticmethod
    def _closed(text: str, before: str) -> str:
        """A shortened text that ended on a comma ends on a full stop instead."""
        out = text.strip()
        if out and out != before.strip() and out[-1] in _CLAUSE_MARK:
            out = out[:-1] + ("。" if _CJK.search(out) else ".")
        return out

    def _merge_loops(self, text: str, where: str, removed: list[str]) -> str:
        """Three or more clauses in a row that differ by one swapped word ("必要时进行胃镜检查，必要时进行胃粘膜
        检查，必要时进行胃黏膜活检") are a loop: they become one clause that enumerates the words with 、 ("必要时
        进行胃镜检查、粘膜检查、黏膜活检"); when they share too little text to merge, the first two stay. Two
        such clauses stay as written (options a short clause names on purpose)."""
        parts = pieces(text)
        merged = self._merge_runs(parts)
        if len(merged) == len(parts):
            return text
        removed.append(where)
        return "".join(merged)

    def _merge_runs(self, parts: list[str]) -> list[str]:
        """The clauses (or a list's items) with each run of three or more one-word-apart ones merged into one."""
        out: list[str] = []
        i = 0
        while i < len(parts):
            first = key(parts[i])
            j = i + 1
            if len(first) >= self.min_key:
                while j < len(parts) and len(key(parts[j])) >= self.min_key and one_word_apart(first, key(parts[j])):
                    j += 1
            if j - i < 3:
                out.append(parts[i])
                i += 1
                continue
            out.extend(self._merged(parts[i:j]))
            i = j
        return out

    @staticmethod
    def _merged(run: list[str]) -> list[str]:
        """One clause for a run of clauses that differ by one word: their common start, the differing words
        joined with 、, their common end, and the last clause's punctuation. A run that counts ("每月加等额本息12
        年，…11年，…10年") says nothing new each time: its first clause stays alone. Clauses that already
        enumerate with 、, or share too little to enumerate, keep their first two."""
        marks = SENTENCE_END + _CLAUSE_MARK + _CLOSING + " "
        bodies = [p.rstrip(marks) for p in run]
        end = run[-1][len(bodies[-1]) :]
        head = os.path.commonprefix(bodies)
        room = min(len(b) for b in bodies) - len(head)  # the end may not overlap the start
        tail = os.path.commonprefix([b[::-1] for b in bodies])[:room][::-1]
        # never split a number or a Latin word ("707859 / 707860" differ in "59 / 60", not in "9 / 0")
        while (
            head
            and _ASCII_WORD.match(head[-1])
            and any(_ASCII_WORD.match(b[len(head) : len(head) + 1]) for b in bodies)
        ):
            head = head[:-1]
        while (
            tail
            and _ASCII_WORD.match(tail[0])
            and any(_ASCII_WORD.match(b[len(b) - len(tail) - 1 : len(b) - len(tail)]) for b in bodies)
        ):
            tail = tail[1:]
        words = [b[len(head) : len(b) - len(tail)] for b in bodies]
        if all(_COUNT.fullmatch(w) for w in words):
            return run[:1]
        if len(head) + len(tail) < 2 or not all(words) or any("、" in b for b in bodies):
            return run[:2]
        if any(len(w) < 2 for w in words):
            # a single swapped character splits a word ("持续加重 / 持续严重" is not "持续加、严重"): left to `similar`
            return run
        # the first clause whole, then the others' words ("胃镜检查、粘膜检查、黏膜活检")
        return [head + "、".join(dict.fromkeys(words)) + tail + end]

    def _without(self, text: str, other: str) -> str:
        """A text without the clauses it shares with `other`, unless that would leave a fragment."""
        drop = [key(p) for p in pieces(other) if len(key(p)) >= self.min_key]
        parts = pieces(text)
        gone = [any(similar(key(p), d) for d in drop) for p in parts]
        if any(g and n > 0 and not gone[n - 1] and _conditions(parts[n - 1]) for n, g in enumerate(gone)):
            return text  # a condition would lose the clause it leads into
        kept = [p for p, g in zip(parts, gone, strict=True) if not g]
        # the flag of each kept clause: was the clause right before it removed
        before = [n > 0 and gone[n - 1] for n, g in enumerate(gone) if not g]
        out = self._closed("".join(kept), text)
        if out != text.strip() and (dangling(out) or follows_gap(kept, before)):
            return text  # what would be left is a fragment: the repeat stays
        return out if len(key(out)) >= 6 else text

    def _self_deduped(self, text: str) -> str:
        """An item without the clauses that repeat an earlier clause of the same item (a loop inside it)."""
        own: list[str] = []
        kept: list[str] = []
        for piece in pieces(self._enumeration(self._merge_loops(text, "", []), "", [])):
            k = key(piece)
            if len(k) >= self.min_key and any(similar(k, s) for s in own):
                continue
            if len(k) >= self.min_key:
                own.append(k)
            kept.append(piece)
        out = self._closed("".join(kept), text)
        return out if len(key(out)) >= 4 else text

    def _give_up(self, ctx: CheckContext, fixed: dict[str, Any], fields: list[str], item: str) -> None:
        """Earlier fields lose what `item` says (it must stay, as its list's only item): a string field loses the
        clauses, an earlier list the items that repeat it (down to its minimum) or their repeated clauses."""
        said = [key(p) for p in pieces(item) if len(key(p)) >= self.min_key] + [key(item)]
        for earlier in fields:
            value = fixed[earlier]
            if isinstance(value, str):
                fixed[earlier] = self._without(value, item)
                continue
            minimum = min_items(ctx.schema, earlier)
            kept = list(value)
            for text in value:
                whole = key(text)
                if len(kept) > minimum and len(whole) >= self.min_key and any(similar(whole, s) for s in said):
                    kept.remove(text)
            fixed[earlier] = [self._without(text, item) for text in kept]

    def _details_to_lists(self, fixed: dict[str, Any], fields: list[str], removed: list[str]) -> None:
        """A string field's later sentences that later list items restate leave the string field: the summary
        keeps its first sentence (the conclusion) and the lists keep their reasons and actions, instead of the
        items going and their lists getting shorter. Only whole sentences go, so no fragment is left behind."""
        for n, k in enumerate(fields):
            value = fixed[k]
            if not isinstance(value, str):
                continue
            listed = [
                key(p)
                for later in fields[n + 1 :]
                if isinstance(fixed[later], list)
                for item in fixed[later]
                for p in [item, *pieces(item)]
                if len(key(p)) >= self.min_key
            ]
            sentences: list[list[str]] = [[]]
            for piece in pieces(value):
                sentences[-1].append(piece)
                if _SENTENCE_END_RE.search(piece):
                    sentences.append([])
            kept = sentences[:1]
            for sentence in sentences[1:]:
                said = [key(p) for p in sentence if len(key(p)) >= self.min_key]
                if said and all(any(similar(c, item) or _same_point(c, item) for item in listed) for c in said):
                    continue
                kept.append(sentence)
            out = self._closed("".join(p for sentence in kept for p in sentence), value)  # "A；B。" → "A。"
            if out != value.strip() and len(key(out)) >= 6:
                fixed[k] = out
                removed.append(k)

    def _example(self, ctx: CheckContext) -> list[str]:
        """Keys of the prompt's example answer, whole and by clause: a small model copies it into unrelated
        answers, and a copy is a repeat."""
        example = ctx.notes.get("example_answer")
        if not example:
            return []
        texts = string_fields(json.loads(example))
        return [key(t) for t in texts] + [k for t in texts for p in pieces(t) if len(k := key(p)) >= self.min_key]

    def _keys(self, text: str) -> list[str]:
        """A text's keys for comparison: whole, and each clause long enough to count."""
        return [key(text)] + [p for piece in pieces(text) if len(p := key(piece)) >= self.min_key]

    def _fallback(
        self,
        ctx: CheckContext,
        fixed: dict[str, Any],
        earlier: list[str],
        name: str,
        text: str,
        replaced: list[str],
        others: list[str] | None = None,
    ) -> str:
        """A required text (a list's only item, a required string) that still repeats an earlier field after that
        field gave up what it could becomes the task's standard sentence for the field, when it has one that says
        something new; otherwise it stays as it is (a repeat the model's own words cannot avoid)."""
        standard = standard_sentence(ctx, name)
        before = [t for f in earlier for t in ([fixed[f]] if isinstance(fixed[f], str) else fixed[f])]
        before_keys = [k for t in before for k in self._keys(t)] + self._example(ctx)
        mine = [k for k in self._keys(text) if len(k) >= self.min_key]
        if not standard or not any(similar(m, b) for m in mine for b in before_keys):
            return text  # no standard sentence, or the earlier fields gave the repeat up: the model's text stays
        theirs = before_keys + [k for t in others or [] for k in self._keys(t)]
        if _URGENT.search(text):
            # an instruction to get help now is never swapped for a milder sentence: it stays here, where the
            # actions are, and an earlier list's only item that says it gives way instead
            for f in earlier:
                value, their_standard = fixed[f], standard_sentence(ctx, f)
                if (
                    isinstance(value, list)
                    and len(value) == 1
                    and their_standard
                    and not self._shares(their_standard, theirs)
                ):
                    if any(similar(m, k) for m in mine for k in self._keys(value[0]) if len(k) >= self.min_key):
                        fixed[f] = [their_standard]
                        replaced.append(f)
            return text
        if self._shares(standard, theirs):
            return text  # the standard sentence would be a repeat too
        replaced.append(name)
        return standard

    def _shares(self, standard: str, keys: list[str]) -> bool:
        """Half of a clause of the standard sentence is in these keys. Stricter than `similar`: the sentence is the
        app's text, so it goes in only when it shares little with the answer ("如果症状持续或加重，建议及时就医"
        already says most of a see-a-doctor sentence)."""
        return any(coverage(s, b)[0] >= 0.5 for s in self._keys(standard) if len(s) >= self.min_key for b in keys)

    def _dedupe(
        self, ctx: CheckContext, data: dict[str, Any]
    ) -> tuple[dict[str, Any], list[str], list[str], list[str]]:
        """The answer without repeats it can remove, where it removed them, the fields it gave the task's standard
        sentence, and where it merged a loop of one-word-apart clauses."""
        seen: list[str] = []  # keys of the clauses and whole items kept so far
        seen += self._example(ctx)
        fixed = dict(data)
        removed: list[str] = []
        replaced: list[str] = []  # fields that got the task's standard sentence (also in `removed`)
        looped: list[str] = []  # where a loop of one-word-apart clauses was merged (also in `removed`)

        enumerations: list[list[str]] = []  # the elements of each 、 enumeration kept so far
        fields = _prose_fields(data)
        self._details_to_lists(fixed, fields, removed)
        counting = counting_frames([key(p) for f in fields for t in _texts(fixed[f]) for p in pieces(t)], self.min_key)
        first_count: dict[str, tuple[str, ...]] = {}  # each counting frame's first numbers kept
        gaps: set[str] = set()  # where a kept clause answers a removed one

        def counts_on(k: str) -> bool:
            # a clause of a counting loop after the loop's first: it says nothing new
            f, nums = frame(k)
            if f not in counting:
                return False
            if f not in first_count:
                first_count[f] = nums
                return False
            return one_number_apart(first_count[f], nums)

        condition_of: dict[str, str] = {}  # a kept clause's key → the key of the condition that led into it

        def repeated_as(k: str) -> str | None:
            # the earlier clause k repeats, if any
            return next((s for s in seen if similar(k, s)), None)

        def repeated(k: str, whole: bool = False, upto: int | None = None) -> bool:
            # a whole item counts as a repeat only when it says no more than an earlier text; an item that adds to
            # an earlier clause loses that clause below instead
            return any(similar(k, s) and (not whole or len(k) <= 1.5 * len(s)) for s in seen[:upto])

        def dedupe(text: str, where: str, spare: bool = False) -> str:
            kept: list[str] = []
            merged = self._merge_loops(text, where, looped)
            if merged != text:
                removed.append(where)
            text = merged
            gone_before: list[bool] = []
            gone = False
            condition_gone = False  # the clause just before was a condition removed as a repeat
            dropping = False  # the rest of a sentence whose condition went, from a clause naming what it named
            parts = pieces(self._enumeration(text, where, removed))
            for n, piece in enumerate(parts):
                k = key(piece)
                ends = bool(_SENTENCE_END_RE.search(piece)) or n == len(parts) - 1  # nothing after it to lead into
                if dropping or (
                    condition_gone
                    and _PERSON_BACK.match(k)
                    and (spare or any(len(key(p)) >= self.min_key for p in kept))
                ):
                    # "如果某个人其他账号没有花呗，他只能…" without its condition leaves 他 naming no one: the rest of
                    # the sentence the condition led into goes with it, where the text keeps a clause of its own or
                    # is an item its list can spare (a list's only item keeps it: its point would be lost)
                    removed.append(where)
                    gone = True
                    dropping = not ends
                    condition_gone = False
                    continue
                condition_gone = False
                if len(k) >= self.min_key and ends and kept and _conditions(kept[-1]) and (copy := repeated_as(k)):
                    # a repeat a condition of this text leads into: "如果交易金额小于1万元。" alone says nothing.
                    # When the earlier copy had a condition that is not opposed to this one, the whole conditional
                    # sentence is said again and goes; otherwise (no condition there, or the opposite case: "如果低于
                    # 7.9，可能有糖尿病。如果高于14.9，可能是糖尿病。") the condition is news and keeps its clause
                    mine, theirs = key(kept[-1]), condition_of.get(copy)
                    if theirs and not opposed(mine, theirs):
                        kept.pop()
                        gone_before.pop()
                        if len(mine) >= self.min_key and mine in seen:
                            seen.remove(mine)
                        removed.append(where)
                        gone = True
                        continue
                elif (len(k) >= self.min_key and (repeated(k) or counts_on(k))) or listed_again(piece, enumerations):
                    removed.append(where)
                    gone = True
                    condition_gone = _conditions(piece, connective=True)
                    continue
                if len(k) >= self.min_key:
                    seen.append(k)
                    if kept and _conditions(kept[-1]):
                        condition_of.setdefault(k, key(kept[-1]))
                if len(elements := enumerated(piece)) >= 3:
                    enumerations.append(elements)
                kept.append(piece)
                gone_before.append(gone)
                gone = False
            if follows_gap(kept, gone_before):
                gaps.add(where)
            return self._closed("".join(kept), text)

        for k in fields:
            value = fixed[k]
            if isinstance(value, str):
                before = len(seen)
                new = dedupe(value, k)
                if new != value.strip() and (k in gaps or dangling(new)):
                    del seen[before:]  # what is left is a fragment: the field is handled as all repeats
                    new = ""
                if len(key(new)) < 4:  # a field all repeats keeps its text; the earlier fields give it up
                    new = self._self_deduped(value)
                    self._give_up(ctx, fixed, fields[: fields.index(k)], new)
                    new = self._fallback(ctx, fixed, fields[: fields.index(k)], k, new, replaced)
                    seen += self._keys(new)
                fixed[k] = new
                continue
            minimum = min_items(ctx.schema, k)
            merged = self._merge_runs(list(value))  # items that loop with one word swapped become one item
            if len(merged) < len(value) and len(merged) >= minimum:
                removed.append(k)
                looped.append(k)
                value = merged
            items: list[tuple[int, str]] = []
            spare: list[tuple[int, str]] = []  # dropped items, in case the list must keep its minimum
            for i, item in enumerate(value):
                whole = key(item)
                if whole and (
                    whole in {key(t) for _, t in items} or (len(whole) >= self.min_key and repeated(whole, whole=True))
                ):
                    removed.append(f"{k}[{i}]")  # the whole item says what was said before
                    spare.append((i, item))
                    continue
                before = len(seen)
                new = dedupe(item, f"{k}[{i}]", spare=len(value) > minimum)
                if new != item.strip() and (f"{k}[{i}]" in gaps or dangling(new)):
                    # "根据个人需求和预算，选择合适的银行…" without its repeated clause is "根据个人需求和预算。",
                    # a fragment: the item goes whole (or comes back below, when the list needs it)
                    del seen[before:]
                    spare.append((i, item))
                    continue
                # what is left of a mostly repeated item is a fragment, or its clauses together say an earlier
                # clause again ("通过杀死癌细胞，缩小病灶"): the item goes
                rest = key(new)
                if new != item.strip() and len(rest) >= self.min_key and repeated(rest, whole=True, upto=before):
                    del seen[before:]
                    spare.append((i, item))
                elif new == item.strip() or len(rest) >= max(4, len(whole) // 3):
                    items.append((i, new))
                    seen.append(whole)
                else:
                    spare.append((i, item))
            while len(items) < minimum and spare:
                # the list must keep its minimum: the item comes back (without a loop inside it) and the text it
                # repeats leaves the earlier fields instead, where they can spare it
                i, item = spare.pop(0)
                item = self._self_deduped(item)
                self._give_up(ctx, fixed, fields[: fields.index(k)], item)
                others = [t for _, t in items]
                item = self._fallback(ctx, fixed, fields[: fields.index(k)], k, item, replaced, others)
                seen += self._keys(item)
                items.append((i, item))
                items.sort()
            fixed[k] = [text for _, text in items]
        return fixed, removed, replaced, looped

    def repair(self, ctx: CheckContext, data: dict[str, Any]) -> Repair:
        fixed, removed, replaced, looped = self._dedupe(ctx, data)
        if not removed:
            return Repair(data)
        where = ", ".join(dict.fromkeys(removed))
        repairs = [f"removed {len(removed)} repeated sentence(s) or item(s) from {where}"]
        if looped:  # the words the loop swapped are kept, enumerated once
            repairs.append(f"merged clauses that differ by one word into one enumeration in {', '.join(looped)}")
        if replaced:  # said in the report: this text is the app's, not the model's
            repairs.append(f"wrote the task's standard sentence in {', '.join(replaced)} (it only repeated)")
        return Repair(
            fixed, [Finding("repetition", f"{len(removed)} repeated sentence(s) or item(s) ({where})")], repairs
        )


# a clause that opens on a personal pronoun (他 / 她 / 它, and their plurals) names what an earlier clause of its
# sentence introduced: left alone once that clause went, it names nothing ("他只能在特定额度内使用它。")
_PERSON_BACK = re.compile("^(?:他|她|它)")
# a clause that states a condition, in front of the clause it is the condition of ("如果…，", "…的话，", "…时，")
_CONDITION = re.compile("^(?:如果|假如|若是|若|当|只要|一旦|万一)|(?:时|时候|的话)$")


def _conditions(piece: str, connective: bool = False) -> bool:
    """A clause that is a condition for the clause after it in its sentence (it ends on a comma, not a full stop);
    with `connective`, also one behind a connective ("因此，如果…，")."""
    k = _CONNECTIVE.sub("", key(piece)) if connective else key(piece)
    return not _SENTENCE_END_RE.search(piece) and piece.strip() != "\n" and bool(_CONDITION.search(k))


_CONNECTIVE = re.compile("^(?:因此|所以|但是|但|不过|然而|而且|并且|此外|另外|同时|那么)")


def _same_point(a: str, b: str) -> bool:
    """Two short clause keys that make one point once hedges and modal words are gone ("因此您需要定期进行体检 /
    定期进行体检"): equal gists of 4+ characters, not `opposed`. Looser than `similar`, so used only where the
    content stays in the other copy (a summary's later sentence that a list item says)."""
    ga = gist(a)
    return len(ga) >= 4 and ga == gist(b) and not opposed(a, b)


def _texts(value: Any) -> list[str]:
    """A prose field's strings (a string field is one)."""
    return [value] if isinstance(value, str) else list(value)


# the last clause ends on a word that only leads into more (a preposition, a conjunction, the 的 of a modifier
# with nothing after it): the model stopped mid-clause ("…然后进入首页的", "…因此其收益将随着", "…等。在"). 的 after
# 是 closes a sentence ("这是正常的"), so a clause with 是 before its last 的 is left alone.
_UNFINISHED = re.compile(
    "(?:(?<![目端有标指别似])的|随着|以及|包括|例如|比如|或者|因为|由于|如果|而且|并且|但是|(?<![存现所自实内外])在"
    "|(?<![参给])与|(?<![以不普])及|(?<![对])和)$"
)
# of those, the words that join two things: what came before them is a whole clause
_JOINING = re.compile("(?:以及|或者|并且|而且|但是|(?<![参给])与|(?<![以不普])及|(?<![对])和)$")


def _unfinished(text: str) -> bool:
    """The text's last clause ends on a word that leads into more (see _UNFINISHED), not a 是…的 sentence."""
    if not _UNFINISHED.search(text):
        return False
    last = re.split(f"[{SENTENCE_END}{_CLAUSE_MARK}]", text)[-1]
    return not (text.endswith("的") and "是" in last)


def end_on_sentence(text: str, limit: int | None) -> str:
    """The text ending on a complete sentence: an unfinished last clause (cut by the bound, or left on a comma)
    is dropped back to the last sentence end, or closed with a full stop when there is none."""
    stripped = text.rstrip()
    at_bound = limit is not None and len(text) >= limit - 1
    if stripped.endswith("…") and (at_bound or stripped[:-1].rstrip()[-1:] in _OPEN_TAIL):
        stripped, at_bound = stripped[:-1].rstrip(), True  # an ellipsis where a bound shortened the text
    elif not stripped or stripped[-1] in SENTENCE_END + _CLOSING + ".":
        return text
    if not at_bound and stripped[-1] not in _OPEN_TAIL and not _unfinished(stripped):
        return text  # a short phrase ("保持充足睡眠") is a complete item
    if not at_bound and stripped[-1] not in _OPEN_TAIL:
        # a word that leads into more ("…然后进入首页的", "…收益将随着") ended it: the word goes, then the text is
        # cut back as at a bound; a text too short to lose it stays as written
        rest = _UNFINISHED.sub("", stripped).rstrip()
        if len(_WORD.findall(rest)) < 4:
            return text
        stop = "。" if _CJK.search(rest) else "."
        if _JOINING.search(stripped):  # "…的食物以及": what came before the conjunction is whole
            return rest.rstrip(_OPEN_TAIL + " ") + stop
        if rest[-1] in SENTENCE_END:  # "…等。在": the stray word after a sentence
            return rest
        # back to the unfinished clause's start: a clause mark after the last sentence end keeps what the
        # sentence said before it ("…由下家负担，因此其收益将随着" → "…由下家负担。")
        last_end = max((m.end() for m in _SENTENCE_END_RE.finditer(rest)), default=0)
        marks = [i for i, ch in enumerate(rest) if ch in _CLAUSE_MARK and i >= last_end]
        if marks and marks[-1] >= len(rest) // 3:
            return rest[: marks[-1]] + stop
        stripped, at_bound = rest, True
    ends = [m.end() for m in _SENTENCE_END_RE.finditer(stripped) if m.group() != "…"]
    if ends and ends[-1] >= len(stripped) // 3:  # keep at least a third of what was written
        return stripped[: ends[-1]]
    cut = stripped.rstrip(_OPEN_TAIL + " ")
    if at_bound:  # the last clause was cut by the bound: drop it back to the last clause mark
        marks = [i for i, ch in enumerate(cut) if ch in _CLAUSE_MARK + "、"]
        if marks and marks[-1] >= len(cut) // 3:
            cut = cut[: marks[-1]]
    stop = "。" if _CJK.search(cut) else "."
    if limit is not None and len(cut) + 1 > limit:
        cut = cut[: limit - 1]
    return cut + stop if cut else text


_CJK = re.compile(r"[\u3400-\u9fff]")
_ASCII_WORD = re.compile(r"[0-9A-Za-z.]")
# what a counting loop swaps: a number, or the redaction placeholder the finance check writes in place of one
_COUNT = re.compile(r"(?:[0-9.,%]+|〔[^〕]*〕)+")
# an instruction to get help now ("应立即就医", "拨打120"): a repeat of it stays rather than become a milder sentence
_URGENT = re.compile(r"立即|立刻|马上|尽快就医|急救|急诊|120|emergency|immediately|right away", re.I)


class SentenceEndCheck(BaseCheck):
    """Every prose field ends on a complete sentence: a field cut by its bound or left on a comma is trimmed back
    to its last sentence end (or closed with a full stop)."""

    name = "sentence_end"
    rules = ("sentence_end",)

    def repair(self, ctx: CheckContext, data: dict[str, Any]) -> Repair:
        fixed = dict(data)
        changed: list[str] = []
        for k in _prose_fields(data):
            limit, _ = field_bounds(ctx.schema, k)
            value = data[k]
            if isinstance(value, str):
                fixed[k] = end_on_sentence(value, limit)
                if fixed[k] != value:
                    changed.append(k)
            else:
                fixed[k] = [end_on_sentence(v, limit) for v in value]
                changed += [f"{k}[{i}]" for i, (a, b) in enumerate(zip(value, fixed[k], strict=True)) if a != b]
        if not changed:
            return Repair(data)
        where = ", ".join(changed)
        return Repair(fixed, [Finding("sentence_end", f"field(s) ended mid-sentence ({where})")],
                      [f"ended {where} on a complete sentence"])  # fmt: skip


_ECHO_RUN = 8  # characters (spaces left out) a sentence must share with the instructions to be their copy
_CJK_CHAR = re.compile(r"[\u4e00-\u9fff]")
# the sentences of a text, each with its end mark (joined they give the text back)
SENTENCES = re.compile(r"[^。！？!?；;\n]*(?:[。！？!?；;\n]|$)|.+")


def echoes(sentence: str, instructions: str, question: str) -> bool:
    """True when a sentence shares a run of _ECHO_RUN characters, half of them Chinese, with the instructions that
    the question lacks."""
    text = re.sub(r"\s+", "", sentence)
    plain = re.sub(r"\s+", "", instructions)
    asked = re.sub(r"\s+", "", question)
    for k in range(len(text) - _ECHO_RUN + 1):
        run = text[k : k + _ECHO_RUN]
        # half of it Chinese: English words the instructions also use (calculations, program) are no copy
        if len(_CJK_CHAR.findall(run)) >= _ECHO_RUN // 2 and run in plain and run not in asked:
            return True
    return False


class ReaskEchoCheck(BaseCheck):
    """A sentence that copies the app's re-ask message ("上一次的回答没有通过检查：…请重新回答同一个问题…") is no
    answer: the 0.5B model, asked again, sometimes writes the instruction itself as its summary. It is removed; a
    list left too short gets the task's standard sentence, a string field left empty the first item of a later
    list that can spare one, else its standard sentence. Runs on every task whose prompt has a re-ask message."""

    name = "reask_echo"
    rules = ("reask_echo",)

    def repair(self, ctx: CheckContext, data: dict[str, Any]) -> Repair:
        instructions = ctx.notes.get("repair_text")
        if not instructions:
            return Repair(data)
        removed: list[str] = []

        def keep(text: str) -> str:
            out = [s for s in SENTENCES.findall(text) if not (s.strip() and echoes(s, instructions, ctx.question))]
            if "".join(out).strip() != text.strip():
                removed.append(text)
            return "".join(out).strip()

        fields = _prose_fields(data)
        fixed = dict(data)
        for k in fields:
            value = data[k]
            if isinstance(value, list):
                items = [kept for v in value if (kept := keep(v))]
                standard = standard_sentence(ctx, k)
                if len(items) < min_items(ctx.schema, k):
                    items += [standard] if standard else []
                fixed[k] = items if len(items) >= min_items(ctx.schema, k) else list(value)
        for n, k in enumerate(fields):
            value = data[k]
            if not isinstance(value, str):
                continue
            kept = keep(value)
            if not _WORD.search(kept):
                kept = self._borrowed(ctx, fixed, fields[n + 1 :]) or standard_sentence(ctx, k) or value
            fixed[k] = kept
        if not removed:
            return Repair(data)
        return Repair(
            fixed,
            [Finding("reask_echo", f"{len(removed)} text(s) copied the re-ask message")],
            [f"removed the copied re-ask message from {len(removed)} text(s)"],
        )

    @staticmethod
    def _borrowed(ctx: CheckContext, fixed: dict[str, Any], later: list[str]) -> str | None:
        """The first item of the first later list that keeps its minimum without it, moved out of that list; never
        an item that copies the prompt's example answer (the repetition check removes those)."""
        example = ctx.notes.get("example_answer") or ""
        for k in later:
            value = fixed[k]
            if isinstance(value, list) and len(value) > min_items(ctx.schema, k):
                for item in value:
                    if not (example and echoes(item, example, ctx.question)):
                        fixed[k] = [v for v in value if v is not item]
                        return item
        return None


def _settle(ctx: CheckContext, data: dict[str, Any], keep: Any) -> tuple[dict[str, Any], list[str]]:
    """The answer with `keep(field, text)` applied to every prose text, and the fields it changed. A list item left
    empty goes (the list gets the task's standard sentence when it falls under its minimum); a string field left
    with no clause of its own (empty, or a fragment that leans on what went) takes the first item of a later list
    that can spare one, else the task's standard sentence."""
    fields = _prose_fields(data)
    fixed = dict(data)
    changed: list[str] = []
    for k in fields:
        value = data[k]
        if isinstance(value, list):
            items = [kept for v in value if _WORD.search(kept := keep(k, v))]
            if items == list(value):
                continue
            standard = standard_sentence(ctx, k)
            if len(items) < min_items(ctx.schema, k) and standard:
                items.append(standard)
            if len(items) >= min_items(ctx.schema, k):
                fixed[k] = items
                changed.append(k)
    for n, k in enumerate(fields):
        value = data[k]
        if not isinstance(value, str):
            continue
        kept = keep(k, value)
        if kept == value:
            continue
        if len(_WORD.findall(kept)) < 6 or dangling(kept):
            kept = ReaskEchoCheck._borrowed(ctx, fixed, fields[n + 1 :]) or standard_sentence(ctx, k) or value
        if kept != value:
            fixed[k] = kept
            changed.append(k)
    return fixed, changed


# a clause that ends like this leads into the next one ("资金紧张时", "如果症状持续不见好转")
_LEADS_ON = re.compile("(?:时|时候|之后|以后|之前|的话)$|^(?:如果|假如|若|当|只要|一旦|为了|根据|通过|对于)")


def _without(text: str, drop: Any, lead: bool = False) -> str:
    """The text without the pieces `drop(piece)` marks, ending on a full stop where it was left on a comma. With
    `lead`, a sentence whose first clause goes goes whole: its later clauses lean on it ("长期只还最低还款额可能会
    导致资金压力增大，影响个人财务状况" leaves no sentence without its first clause)."""
    sentences: list[list[str]] = [[]]
    for piece in pieces(text):
        sentences[-1].append(piece)
        if piece.rstrip()[-1:] in SENTENCE_END + "\n":
            sentences.append([])
    kept: list[str] = []
    for sentence in sentences:
        marks = [bool(key(p)) and drop(p) for p in sentence]
        if lead and marks and marks[0]:
            continue
        left = [p for p, m in zip(sentence, marks, strict=True) if not m]
        if len(left) < len(sentence) and left and _LEADS_ON.search(key(left[-1])):
            continue  # what is left of the sentence only leads into the clause that went ("资金紧张时")
        kept += left
    if len(kept) == sum(map(len, sentences)):
        return text
    out = "".join(kept).strip()
    if out and out[-1] in _CLAUSE_MARK + "、：:":
        out = out[:-1] + ("。" if _CJK.search(out) else ".")
    return out


# a clause of the question that asks (not one that describes): restating it as a statement is an answer
_ASKING = re.compile(r"[？?吗呢么]|怎|如何|哪|什么|多少|几|能不能|能否|是否|有没有|会不会|要不要|请问|为何|可不可以")
_QUESTION_PARTS = re.compile(r"[^。！？!?；;，,\n]+[。！？!?；;，,\n]*")
_COPY_SHARE = 0.75  # share of a summary clause that lies in runs of 3+ characters of the question's description
_COPY_MIN = 8  # characters: a summary copies the question when 2 × this and half of it are the question's
_COPY_HALF = 0.5
_COPY_REWORDED = 0.5  # share of a clause of a summary that is a copy: a reworded clause of the question goes too


def _plain(text: str) -> str:
    return _KEYLESS.sub("", unicodedata.normalize("NFKC", text)).lower()


def copies_description(piece: str, description: str, share: float = _COPY_SHARE) -> bool:
    """A clause that copies the question's own description (not a question clause turned into an answer): `share`
    of it lies in runs of 3 or more characters of the description."""
    mine = _plain(piece)
    if len(mine) < 4 or not description:
        return False
    blocks = SequenceMatcher(None, mine, description, autojunk=False).get_matching_blocks()
    return sum(b.size for b in blocks if b.size >= 3) >= share * len(mine)


class QuestionCopyCheck(BaseCheck):
    """The summary opens the answer; one that copies the user's own description of the problem back ("最近天气降温，
    没注意防寒问题，所以感觉有点感冒了…") says nothing. Its clauses that copy the question's describing clauses
    are removed (a question clause restated as a statement, "存折可以异地取款", is an answer and stays); a summary
    left with nothing of its own takes the first item of a later list that can spare one, else the task's standard
    sentence."""

    name = "question_copy"
    rules = ("question_copy",)

    def repair(self, ctx: CheckContext, data: dict[str, Any]) -> Repair:
        description = "".join(_plain(c) for c in _QUESTION_PARTS.findall(ctx.question) if not _ASKING.search(c))
        first = next((k for k in _prose_fields(data) if isinstance(data[k], str)), None)
        if first is None or not description:
            return Repair(data)

        copied = sum(len(_plain(p)) for p in pieces(data[first]) if copies_description(p, description))
        if copied < _COPY_MIN * 2 or copied < _COPY_HALF * len(_plain(data[first])):
            return Repair(data)  # a summary that picks up a few of the user's words is answering in them

        def drop(piece: str) -> bool:
            # the user's description, reworded clauses of it included once the summary is a copy ("叔叔身体一直不很
            # 好"), and the user's question asked back ("…喝了能快速转好么？")
            return copies_description(piece, description, _COPY_REWORDED) or piece.rstrip()[-1:] in "？?"

        def keep(k: str, text: str) -> str:
            return _without(text, drop) if k == first else text

        fixed, changed = _settle(ctx, data, keep)
        if not changed:
            return Repair(data)
        where = ", ".join(changed)
        return Repair(fixed, [Finding("question_copy", f"the {first} copied the question ({where})")],
                      [f"removed what {where} copied from the question"])  # fmt: skip


# characters a clause shares with the example answer (and not with the question), a subject word among them:
# "明显增加还款负担" is the example's; "增加还款负担" is what any loan answer may say
_TRANSPLANT_RUN = 8
_TEMPLATE_OPEN = 4  # characters a clause opens with that open a clause of the example ("长期只还…")


def _word_pairs(text: str) -> set[str]:
    plain = _plain(text)
    return {plain[i : i + 2] for i in range(len(plain) - 1) if _CJK_CHAR.search(plain[i : i + 2])}


class ExampleTransplantCheck(BaseCheck):
    """The 0.5B model carries the prompt's example answer into answers on other subjects, a phrase at a time with a
    word changed ("长期只还最低还款额会明显增加还款负担" in a notice about a house loan; "长期只还低血糖会导致高风险";
    "以发卡银行公布的为准" about an insurance claim). When the question shares none of the example's subject words
    (the example question's word pairs, less those that ask), a clause that shares a run of 8 characters with the
    example answer that the question lacks, with a subject word in it, or opens as a clause of the example opens
    (the opening with a subject word in it: "长期只还"), is removed; a text left with
    nothing takes the task's standard sentence (a string field, a later list's first item first)."""

    name = "example_transplant"
    rules = ("example_transplant",)
    # a task opts in by listing it among its own checks: the finance example is about one product (a credit card's
    # minimum payment), so its phrases are out of place elsewhere; the medical example's advice ("如果症状持续…建议
    # 及时就医") fits most medical questions

    def repair(self, ctx: CheckContext, data: dict[str, Any]) -> Repair:
        example, example_q = ctx.notes.get("example_answer"), ctx.notes.get("example_question")
        if not example or not example_q:
            return Repair(data)
        texts = string_fields(json.loads(example))
        # the example question's word pairs, less those that ask ("怎么", "么样"): the subject it is about
        subject = {pair for pair in _word_pairs(example_q) if not _ASKING.search(pair)}
        asked = _plain(ctx.question)
        if any(b in asked for b in subject):
            return Repair(data)  # the question is on the example's subject: its words are the answer's too
        whole = "".join(_plain(t) for t in texts)
        # an example clause's opening words with a subject word in them ("长期只还"; not "还可能影")
        openings = {
            o
            for t in texts
            for p in pieces(t)
            if len(o := _plain(p)[:_TEMPLATE_OPEN]) == _TEMPLATE_OPEN and any(b in o for b in subject)
        }

        def transplanted(piece: str) -> bool:
            mine = _plain(piece)
            if mine[:_TEMPLATE_OPEN] in openings and mine[:_TEMPLATE_OPEN] not in asked:
                return True
            runs = (mine[i : i + _TRANSPLANT_RUN] for i in range(len(mine) - _TRANSPLANT_RUN + 1))
            return any(r in whole and r not in asked and any(b in r for b in subject) for r in runs)

        fixed, changed = _settle(ctx, data, lambda _k, text: _without(text, transplanted, lead=True))
        if not changed:
            return Repair(data)
        where = ", ".join(changed)
        return Repair(fixed, [Finding("example_transplant", f"the example answer carried into {where}")],
                      [f"removed what {where} carried over from the example answer"])  # fmt: skip


# an answer names a few causes, foods or steps; past this many 、 elements a list has run away (tenth session: with
# every reused word penalised the model runs through new words instead, "铁、锌、硒、铜…伯爵、奥尔莫、瑞利")
MAX_ELEMENTS = 6
# 等 that closes a list ("关节肿胀等症状"), not one inside a word (中等, 平等, 相等, 高等)
_ETC = re.compile("(?<![中平同相高初上下对均次优劣头])等")
# where an enumeration stops: a clause or sentence mark or a colon (the eval's detector splits its own way)
_ENUMERATION_BREAK = re.compile(f"([{SENTENCE_END}{_CLAUSE_MARK}：:\n])")


def bounded(segment: str, limit: int = MAX_ELEMENTS) -> str:
    """A clause's 、 enumeration cut to its first `limit` elements when it has more, keeping the frame after the
    last element: from its 等 ("…关节肿胀等症状" → "…等症状") or its closing bracket ("…神经损伤）通常会有…"
    → "…等）通常会有…"), or the last element whole when it is longer than any other (it carries the frame: "与
    A、B…、L有关"), else 等 alone. Elements are cut whole, never mid-word."""
    parts = segment.split("、")
    if len(parts) <= limit or not all(key(p) for p in parts) or all(key(p).isdigit() for p in parts[1:-1]):
        return segment  # "第1、2、3…个月" counts, it does not run on
    last = parts[-1]
    etc = _ETC.search(last)
    at = min((i for i in (etc.start() if etc else -1, *(last.find(c) for c in _CLOSING)) if i > 0), default=-1)
    if at < 0 and len(key(last)) > max(len(key(p)) for p in parts[1:-1]):  # the first carries the opening
        # a last element longer than any other carries the clause's frame ("…、元素12有关"): it stays whole, after
        # the first elements but one, so the clause still reads as written
        return "、".join([*parts[: limit - 1], last])
    tail = last[at:] if at > 0 else ""
    if not tail.startswith("等"):
        tail = "等" + tail
    kept = parts[:limit]
    if kept[-1].endswith("等"):  # "…、甜食等、…": the kept last element already closes the list
        tail = tail[1:]
    return "、".join(kept) + tail


class ListBoundCheck(BaseCheck):
    """An enumeration of more than MAX_ELEMENTS things joined with 、 keeps its first ones and closes with 等: a
    list that runs on through ever less related words (a small model under a repetition penalty) says no more
    with its tenth element than with its sixth, and reads as a loop."""

    name = "list_bound"
    rules = ("long_enumeration",)

    def repair(self, ctx: CheckContext, data: dict[str, Any]) -> Repair:
        fixed = dict(data)
        changed: list[str] = []

        def bound(text: str, where: str) -> str:
            out = "".join(bounded(part) for part in _ENUMERATION_BREAK.split(text))
            if out != text:
                changed.append(where)
            return out

        for k in _prose_fields(data):
            value = data[k]
            if isinstance(value, str):
                fixed[k] = bound(value, k)
            else:
                fixed[k] = [bound(v, f"{k}[{i}]") for i, v in enumerate(value)]
        if not changed:
            return Repair(data)
        where = ", ".join(changed)
        return Repair(fixed, [Finding("long_enumeration", f"an enumeration of more than {MAX_ELEMENTS} "
                                      f"elements ({where})")],
                      [f"cut the enumeration in {where} to its first {MAX_ELEMENTS} elements"])  # fmt: skip


# ---- paraphrased repeats -------------------------------------------------------------------------------------------
# The repetition check compares clauses as written; the 0.5B model also restates a clause in other words across
# fields ("但还需要支付额外的手续费和费用" / "但需要支付更多的手续费和费用", "可以尝试改变生活方式 / 生活习惯").
# This check compares what a clause says once the words that only hedge, join or point are gone and a few
# synonyms are written one way (its `gist`). Twelfth session, tuned on held-out 6 and 7's logged answers.

# words that carry no content of their own in these answers: hedges, modal verbs, connectives, pronouns, particles;
# a single character only where it is not part of a longer word ("了解", "还款", "并发症", "功能", "反应" keep theirs)
_STOCK_WORDS = (
    "可以", "可能", "需要", "建议", "应该", "应当", "及时", "尽快", "如果", "您的", "你的", "一些", "一定", "通常",
    "一般", "进行", "通过", "主要", "尝试", "考虑", "此外", "另外", "同时", "以及", "或者", "并且", "而且", "但是",
    "因此", "所以", "比如", "例如", "包括", "能够", "最好", "这些", "那些", "上述", "还需要", "还需", "还可", "还应", "还要",
)  # fmt: skip
_STOCK_CHARS = (
    "的", "了(?!解)", "是(?!否)", "也", "(?<!首)都", "就(?![医诊业])", "(?<![社机学聚协体领误])会(?![议员计])",
    "(?<![缓温柔平])和", "(?<![参给])与", "(?<![以普涉])及", "或", "但", "而", "其(?![他它中实余])", "您", "你",
    "还(?![款原贷清债本])", "并(?![发购列存非])", "(?<![反适响供效相对感理回])应(?![用对付激急答变力])",
    "如(?![何今同此期])", "该", "这", "(?<!其)它",
)  # fmt: skip
_STOCK_RE = re.compile("|".join([*map(re.escape, sorted(_STOCK_WORDS, key=len, reverse=True)), *_STOCK_CHARS]))
# words these answers use for one thing, each group written as its first word (a swapped word not listed here
# is a different point: "手术治疗 / 药物治疗", "睡眠习惯 / 生活习惯")
SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("生活方式", "生活习惯"),
    ("降低", "减少"),
    ("额外", "更多"),
    ("确认", "验证", "核实"),
    ("医生", "医师"),
    ("就医", "就诊"),
    ("导致", "引起", "造成"),
    ("缓解", "减轻"),
    ("提高", "增强"),
    ("保持", "维持"),
    ("适量", "适当"),
    ("饮食", "膳食"),
)  # fmt: skip
_SYNONYM = {w: group[0] for group in SYNONYMS for w in group[1:]}
_SYNONYM_RE = re.compile("|".join(map(re.escape, sorted(_SYNONYM, key=len, reverse=True))))
_GIST_MIN = 6  # characters of content a clause needs before it can be a restatement ("购买二手车" alone is not)


# the thing an answer is about, named where its summary opens by defining it ("肝泰胶囊是一种…药物"): 2-10 letters
# or digits before 是 / 属于 / 指 (never 是否)
_DEFINED = re.compile(r"^([^\W_]{2,10}?)(?:是(?!否)|属于|指的?是)")


def topic(data: dict[str, Any]) -> str:
    """The key of what the answer is about, as its summary's first clause defines it ("" when it defines nothing)."""
    summary = data.get("summary")
    if not isinstance(summary, str) or not (parts := pieces(summary)):
        return ""
    m = _DEFINED.match(key(parts[0]))
    return m.group(1) if m else ""


def gist(k: str, about: str = "") -> str:
    """What a clause key says: its synonyms written one way, then its stock words left out, and the answer's topic
    (`about`) too: a clause that names it and one that points at it with 它 / 其 say the same ("肝泰胶囊可能会引起
    恶心 / 但它也可能引起恶心")."""
    if about:
        k = k.replace(about, "")
    return _STOCK_RE.sub("", _SYNONYM_RE.sub(lambda m: _SYNONYM[m.group()], k))


def paraphrased(a: str, b: str, about: str = "") -> bool:
    """Two clause keys say the same in other words: neither is `opposed` to the other (a number, a negation or an
    antonym apart) and their gists (6+ characters each) are equal, or the shorter's characters all lie in a longest
    common subsequence with the longer, which adds at most a fifth and no run of two characters: a word one side
    has and the other lacks is a different point ("手术治疗 / 药物治疗", a list with one element changed). `about`
    is the answer's topic, left out of both gists."""
    ga, gb = gist(a, about), gist(b, about)
    if min(len(ga), len(gb)) < _GIST_MIN or opposed(a, b):
        return False
    if ga == gb:
        return True
    short, long_ = sorted((ga, gb), key=len)
    if len(long_) > 1.2 * len(short):
        return False
    in_s, in_l = _aligned(short, long_)
    return all(in_s) and not _gap(in_l)


Unit = tuple[str, int, int]  # a clause of an answer: (field, item index or -1 for a string field, clause index)


class ParaphraseCheck(BaseCheck):
    """Removes a clause that restates an earlier one in other words (`paraphrased`), inside a field or across the
    summary, the lists and the risk notice; the copy with more content stays, the other goes. Nothing goes that
    would leave a fragment (a clause that led into it or answers it), an empty string field, or a list under its
    minimum; a list item whose every clause restates goes whole. Runs after the repetition check, which has
    removed the copies said in the same words."""

    name = "paraphrase"
    rules = ("paraphrase",)
    said = "restated an earlier one in other words"  # the report's words for what the removed clauses did
    saying = "restating an earlier one in other words"

    @staticmethod
    def _clauses(data: dict[str, Any]) -> tuple[list[tuple[str, int, int, str]], dict[tuple[str, int], list[str]]]:
        """Every clause of the answer's prose in order, as (field, item index or -1, clause index, key), and each
        text's clauses by (field, item index or -1)."""
        units: list[tuple[str, int, int, str]] = []
        texts: dict[tuple[str, int], list[str]] = {}
        for f in _prose_fields(data):
            value = data[f]
            for i, text in enumerate([value] if isinstance(value, str) else value):
                where = (f, -1 if isinstance(value, str) else i)
                texts[where] = pieces(text)
                units += [(*where, n, key(p)) for n, p in enumerate(texts[where])]
        return units, texts

    def repair(self, ctx: CheckContext, data: dict[str, Any]) -> Repair:
        units, texts = self._clauses(data)
        gone: set[tuple[str, int, int]] = set()
        about = topic(data)
        for j, (fj, ij, nj, kj) in enumerate(units):
            if (fj, ij, nj) in gone:
                continue
            for fi, ii, ni, ki in units[:j]:
                earlier, later = (fi, ii, ni), (fj, ij, nj)
                if earlier in gone:
                    continue
                victims = self._victims(texts, earlier, later, (ki, kj), about)
                if not victims:
                    continue
                for victim in (later if v else earlier for v in victims):
                    if self._can_remove(ctx, data, texts, gone | {victim}):
                        gone.add(victim)
                        break
                break
        return self._removed(data, texts, gone)

    def _removed(self, data: dict[str, Any], texts: dict[tuple[str, int], list[str]], gone: set[Unit]) -> Repair:
        """The answer without the clauses `gone` names (an item left with nothing goes), with the report's lines."""
        if not gone:
            return Repair(data)
        fields = _prose_fields(data)
        fixed = dict(data)
        changed: list[str] = []
        for f in fields:
            value = data[f]
            if isinstance(value, str):
                fixed[f] = self._rest(texts[(f, -1)], {n for g, i, n in gone if g == f})
                changed += [f] if fixed[f] != value else []
                continue
            items = []
            for i, item in enumerate(value):
                rest = self._rest(texts[(f, i)], {n for g, ii, n in gone if g == f and ii == i})
                if rest:
                    items.append(rest)
                if rest != item:
                    changed.append(f"{f}[{i}]")
            fixed[f] = items
        where = ", ".join(changed)
        return Repair(
            fixed,
            [Finding(self.name, f"{len(gone)} clause(s) {self.said} ({where})")],
            [f"removed {len(gone)} clause(s) {self.saying} from {where}"],
        )

    @staticmethod
    def _victims(
        texts: dict[tuple[str, int], list[str]], earlier: Unit, later: Unit, keys: tuple[str, str], about: str
    ) -> tuple[bool, ...]:
        """Which copy of a pair of clauses (field, item or -1, clause; `keys` their keys) may go, in the order tried
        (True: the later, False: the earlier); () when the two do not say the same. The later copy goes, unless it
        says more."""
        ki, kj = keys
        if not paraphrased(ki, kj, about):
            return ()
        return (False, True) if len(gist(kj, about)) > len(gist(ki, about)) else (True, False)

    @staticmethod
    def _dropped(parts: list[str], drop: set[int]) -> set[int]:
        """The clauses that go: those named, and a clause of stock words only right before one ("如果需要，")."""
        out = set(drop)
        for n in sorted(drop, reverse=True):
            m = n - 1
            while m >= 0 and m not in out and key(parts[m]) and not gist(key(parts[m])):
                out.add(m)  # it led into the one that went
                m -= 1
        return out

    @staticmethod
    def _where(unit: tuple[str, int] | Unit) -> str:
        """A text's place for the report: "summary", or "analysis[1]" for an item of a list field."""
        return unit[0] if unit[1] < 0 else f"{unit[0]}[{unit[1]}]"

    def _bare(self, texts: dict[tuple[str, int], list[str]], gone: set[Unit]) -> bool:
        """Whether a text these removals shorten is left opening on a bare modal verb or on a reason."""
        for f, i in {u[:2] for u in gone}:
            rest = self._rest(texts[(f, i)], {n for g, ii, n in gone if (g, ii) == (f, i)})
            if rest and _BARE_MODAL.match(key(rest)):
                return True
        return False

    @staticmethod
    def _rest(parts: list[str], drop: set[int]) -> str:
        """A text without the clauses `drop` names and the bare lead-ins right before them ("如果需要，"), closed
        on a full stop where it was left on a comma; "" when nothing with content is left."""
        if not drop:
            return "".join(parts)
        drop = ParaphraseCheck._dropped(parts, drop)
        kept: list[str] = []
        for n, p in enumerate(parts):
            if n not in drop:
                kept.append(p)
            elif kept and (end := p.rstrip()[-1:]) in SENTENCE_END and kept[-1].rstrip()[-1:] in _CLAUSE_MARK:
                # the clause that went ended the sentence: the one before it ends it now ("…检查，[包括…。]如果…"
                # would run two sentences into one)
                kept[-1] = kept[-1].rstrip()[:-1] + end
        out = "".join(kept).strip()
        if not _WORD.search(out):
            return ""
        if 0 in drop:  # "此外，也可以…" now opens the text: the word that added it to what went goes too
            out = _ADDING.sub("", out)
        if out[-1] in _CLAUSE_MARK + "、：:":
            out = out[:-1] + ("。" if _CJK.search(out) else ".")
        return out

    def _can_remove(
        self,
        ctx: CheckContext,
        data: dict[str, Any],
        texts: dict[tuple[str, int], list[str]],
        gone: set[tuple[str, int, int]],
    ) -> bool:
        """Whether removing these clauses leaves every text whole: a string field with a clause of its own (6+
        word characters) that is no fragment, each list item either whole or gone, each list at its minimum."""
        for (f, i), parts in texts.items():
            drop = {n for g, ii, n in gone if g == f and ii == i}
            if not drop:
                continue
            rest = self._rest(parts, drop)
            drop = self._dropped(parts, drop)
            kept = [p for n, p in enumerate(parts) if n not in drop]
            before = [n > 0 and (n - 1) in drop for n in range(len(parts)) if n not in drop]
            # a condition or lead-in that goes while what it leads into stays changes what that says ("如果孩子出现
            # 这些症状，应该尽快就医" is no advice to see a doctor whatever happens)
            if any(
                (_LEADS_ON.search(key(parts[n])) or _DEPENDENT.match(key(parts[n])))
                and n + 1 < len(parts)
                and n + 1 not in drop
                and not _SENTENCE_END_RE.search(parts[n])
                for n in drop
            ):
                return False
            # nor may a kept condition lose the clause it leads into ("如果交易金额小于1万元。", held-out 8), nor a
            # concession its main clause ("虽然…可能会死人。" without "但可以…")
            if any(
                n > 0 and n - 1 not in drop and (_conditions(parts[n - 1]) or _CONCEDES.match(key(parts[n - 1])))
                for n in drop
            ):
                return False
            # nor may a clause that only set the scene for it ("但在实际操作中，[车主通常会…]") be left to end a sentence
            if any(n > 0 and n - 1 not in drop and _SETS_SCENE.search(key(parts[n - 1])) for n in drop):
                return False
            if not rest:
                if i < 0:
                    return False  # a string field is never emptied
                continue  # the item goes whole; the list's minimum is asked below
            if (
                len(_WORD.findall(rest)) < 6
                or dangling(rest)
                or follows_gap(kept, before)
                or _POINTS_BACK.match(rest)
                # "比如增加运动…" after the clause it gave examples of, "这些都会导致…" after the list it pointed at
                or any(
                    gap and (_ELABORATES.match(key(p)) or _POINTS_BACK.match(key(p)))
                    for p, gap in zip(kept, before, strict=True)
                )
            ):
                return False
        for f in {g for g, _, _ in gone}:
            value = data[f]
            if isinstance(value, list):
                left = sum(
                    bool(self._rest(texts[(f, i)], {n for g, ii, n in gone if g == f and ii == i}))
                    for i in range(len(value))
                )
                if left < min_items(ctx.schema, f):
                    return False
        return True


# a text that opens with a word pointing back ("其主要特征是…", "这种情况…") leans on a clause before it, and so
# does one that only says what it was for ("以了解孩子的病情。", "从而降低风险。"; not "以清淡饮食为主。")
_POINTS_BACK = re.compile("^(?:其|它|该|此(?!外)|这|那|上述|从而|进而|以(?!.{0,12}为))")
# a clause that concedes leads into the clause that says the point ("虽然…，但…")
_CONCEDES = re.compile("^(?:虽然|虽|尽管|即使|即便|哪怕)")
# a clause that ends on a frame of place, time or circumstance leads into the next one ("但在实际操作中")
_SETS_SCENE = re.compile("(?:中|时|时候|期间|方面|情况下|前提下|基础上|之下|之后|以后|之前|的话)$")
# a clause that gives examples of or narrows the one before it
_ELABORATES = re.compile("^(?:比如|例如|如|即|包括|尤其|特别|主要包括|具体)")
# words that add a clause to the one before it ("此外，也可以…"), left first once that one went
_ADDING = re.compile(
    "^(?:(?:此外|另外|同时|而且|并且)[，,]?\\s*)?也(?=可以|可|要|应|能|需要)|^(?:此外|另外|同时|而且|并且)[，,]?\\s*"
)


# the word an enumeration's first element follows ("其治疗通常包括药物治疗、…", "定期进行脑电图、…"): what comes
# before it is the clause's frame, not an element. 如 only where it introduces examples (not 如果, 如何)
_LIST_FRAME = re.compile("包括但不限于|包括|包含|例如|比如|诸如|譬如|主要有|进行|采用|使用|如(?![果何此同今])|有|是|为")
# 等 closes a list: what follows it is the frame ("净利润等指标来评估"), never 等待 / 平等 / 等级
_LIST_CLOSE = re.compile("(?<![平相同对])等(?![待级同候]).*$")
# the word that joins an enumeration's last two elements ("康复训练和心理干预"); never 及时, 参与, 和谐
_LIST_JOIN = re.compile("以及|或者|(?<!以)及(?!时|早)|(?<![温总])和(?![谐平])|(?<![参给])与|或(?!许)")
# share of the longer of two elements a common subsequence holds when they name one thing: 基因检测 / 基因测验 (not
# 肝功能 / 肾功能)
_NEAR_ELEMENT = 0.75


def elements(piece: str) -> list[str]:
    """The keys of the things a clause enumerates with 、, without the clause's frame: the first element from the
    last frame word on ("其治疗通常包括药物治疗" → 药物治疗), the last up to 等 and split where 和 / 及 / 或 joins
    the last two ("康复训练和心理干预等" → 康复训练 / 心理干预); [] when the clause has no 、."""
    raw = piece.split("、")
    if len(raw) < 2:
        return []
    parts = [key(p) for p in raw]
    parts[0] = key(re.split("[：:]", raw[0])[-1])
    parts[0] = _LIST_FRAME.split(parts[0])[-1] or parts[0]
    last = _LIST_CLOSE.sub("", parts[-1]) or parts[-1]
    parts[-1:] = [p for p in _LIST_JOIN.split(last) if p] or [last]
    return parts if all(parts) else []


def _near_element(a: str, b: str) -> bool:
    """Two elements one or two characters apart that name one thing ("基因检测 / 基因测验"): a common subsequence
    holding three quarters of the longer (4+ characters), never a number apart."""
    short, long_ = sorted((a, b), key=len)
    if len(long_) < 4 or opposed(a, b):
        return False
    return sum(_aligned(short, long_)[0]) >= _NEAR_ELEMENT * len(long_)


def _frame(piece: str, other: str) -> str | None:
    """The words of `piece` around the things it enumerates (its key without them), when `other` enumerates every
    one of them too (`relisted`); None when it does not."""
    mine, theirs = elements(piece), elements(other)
    if len(mine) < 3 or len(theirs) < len(mine):
        return None
    rest = key(piece)
    near = 0
    for m in mine:
        same = [t for t in theirs if _same_element(m, t)]
        if not same:
            if near or not any(_near_element(m, t) for t in theirs):
                return None
            near += 1
            rest = rest.replace(m, "", 1)
            continue
        # of an element with frame words before or after it ("可以通过胃镜"), only what the two share is the element
        heads = [m[: len(os.path.commonprefix([m, t]))] for t in same]
        tails = [m[len(m) - len(os.path.commonprefix([m[::-1], t[::-1]])) :] for t in same]
        shared = max(heads + tails, key=len)
        rest = rest.replace(shared, "", 1)
    return rest


def relisted(piece: str, other: str) -> bool:
    """`piece` enumerates three or more things and `other` lists every one of them too (the same element, or one
    near it, at most one of those), whatever words frame each list ("手术治疗包括脑电图、MRI、CT扫描…" / "定期进行
    脑电图、MRI、CT扫描…"): removing `piece`'s list loses no element. Its frame must be shorter than the elements it
    frames, so a clause whose point is elsewhere ("出现发热、咳嗽等症状时应及时去医院检查") is no repeat of a list."""
    frame = _frame(piece, other)
    return frame is not None and len(frame) < len(key(piece)) - len(frame)


# words a list's frame may have that name nothing: it introduces the list ("包括", "进行"), or hedges (stock words)
_FRAME_WORDS = re.compile(f"{_LIST_FRAME.pattern}|等|由于|因为|方法|方式|措施|手段")


def _named_in(texts: dict[tuple[str, int], list[str]], unit: Unit, other: Unit, about: str) -> bool:
    """Whether what the clause `unit` says of its list is in the text of `other` as well: the words of its frame
    and, for a clause that is not the first of its sentence, the thing its sentence's first clause defines, else
    that clause's first two characters ("前列腺炎是…，可能会伴随尿频、尿急、尿痛" says the list of 前列腺炎; "肾结石
    较常见，通常伴有尿频、尿急、尿痛" of another disease). Words that only introduce or hedge a list, and the
    answer's topic, name nothing."""
    parts, n = texts[unit[:2]], unit[2]
    lead = _frame(parts[n], texts[other[:2]][other[2]]) or ""
    start = n
    while start > 0 and not _SENTENCE_END_RE.search(parts[start - 1]):
        start -= 1
    if start < n:  # the sentence's subject, said in its first clause: what it defines, else its first words
        opening = key(parts[start])
        lead = (m.group(1) if (m := _DEFINED.match(opening)) else gist(opening)[:2]) + lead
    if about:
        lead = lead.replace(about, "")
    theirs = gist(key("".join(texts[other[:2]])))
    return all(c in theirs for c in gist(_FRAME_WORDS.sub("", lead)))


class RelistCheck(ParaphraseCheck):
    """Removes a clause that enumerates again, in another frame, the things an earlier clause of another text
    enumerated (`relisted`): the copy whose frame says less goes (the later when even), where its text can give it
    up; else the other copy, when every element of its list is in the one that stays; else both stay. The removal
    rules are the paraphrase check's: no fragment, no condition without its clause, no emptied string field, no list
    under its minimum."""

    name = "relisted"
    rules = ("relisted",)
    said = "enumerated again what an earlier one listed"
    saying = "enumerating again what an earlier one listed"

    @staticmethod
    def _victims(
        texts: dict[tuple[str, int], list[str]], earlier: Unit, later: Unit, keys: tuple[str, str], about: str
    ) -> tuple[bool, ...]:
        """The copies whose list the other holds whole and whose frame names nothing the other text lacks, the
        one with the shorter frame first (the later when even); () when neither may go."""
        copies = {False: earlier, True: later}
        piece = {v: texts[u[:2]][u[2]] for v, u in copies.items()}
        if "、" not in piece[False] or "、" not in piece[True]:
            return ()  # most pairs: a clause that enumerates nothing
        frames = {v: len(_frame(piece[v], piece[not v]) or "") for v in copies}
        order = (False, True) if frames[True] > frames[False] else (True, False)
        return tuple(
            v for v in order if relisted(piece[v], piece[not v]) and _named_in(texts, copies[v], copies[not v], about)
        )


# ---- a numbered list said again ("1. …；2. …；3. …" in the summary, then in an analysis item) -------------------
# a place in a numbered list a clause opens with, or a colon introduces ("1. 清洁口腔", "处理：（2）…", "三、…"); its
# number is read, so that only a run counting up is a list (never "1.5倍" or "3、5年")
_ITEM_NUMBER = re.compile(
    r"(?:^|(?<=[：:]))\s*(?:[（(]\s*(\d{1,2})\s*[)）]|(\d{1,2})\s*[.．、)）](?!\d)|([一二三四五六七八九十])、)"
)
_CN_DIGIT = {c: n for n, c in enumerate("一二三四五六七八九十", 1)}
_ITEM_END = re.compile("[。！？!?]")  # a numbered list's last item runs to its sentence's end (； separates items)
# a word of three or more lower-case letters in Chinese prose ("含 alcohol的牙膏"): the small model's English for a
# Chinese word the other copy has; compared without it (acronyms, CT / MRI / ACEI, are upper case and stay)
_EN_WORD = re.compile(r"(?<![A-Za-z])[a-z]{3,}(?![A-Za-z])")
# words that point at a list given elsewhere ("可以通过以上几种方法来治疗", "可采取以下措施"), written one way to compare
_POINTER = re.compile("以上|以下|下列|如下|上述|上面|下面")


def numbered(parts: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """A text's numbered list, from its clauses: (the words before the colon that introduce it, "" when none; the
    clause spans [start, end) of its items). Three or more items numbered up from one item to the next, each from
    its number to the next one, the last to its sentence's end; ("", []) when the text has no such list."""
    starts: list[tuple[int, int]] = []  # (clause index, number)
    for n, p in enumerate(parts):
        m = next((m for m in _ITEM_NUMBER.finditer(p.lstrip()) if m.group(0).strip()), None)
        if m is None:
            continue
        number = int(m.group(1) or m.group(2)) if (m.group(1) or m.group(2)) else _CN_DIGIT[m.group(3)]
        if starts and number <= starts[-1][1]:
            break  # a second list, or a count that does not go up: the first run is the list
        starts.append((n, number))
    if len(starts) < 3:
        return "", []
    spans = [(a, b) for (a, _), (b, _) in zip(starts, starts[1:], strict=False)]
    last = starts[-1][0]
    end = next((n + 1 for n in range(last, len(parts)) if _ITEM_END.search(parts[n])), len(parts))
    spans.append((last, end))
    first = parts[starts[0][0]].lstrip()
    m = _ITEM_NUMBER.search(first)
    lead = first[: m.start()].rstrip("：: ") if m and m.start() > 0 else ""
    return lead, spans


def _item_text(parts: list[str], span: tuple[int, int]) -> str:
    """One numbered item's text, without the words that introduce the list."""
    first = parts[span[0]]
    colon = re.search("[：:]", first)
    if colon and _ITEM_NUMBER.match(first[colon.end() :]):
        first = first[colon.end() :]
    return first + "".join(parts[span[0] + 1 : span[1]])


def _plain_key(text: str) -> str:
    """A text's key without the English words a Chinese text carries ("含 alcohol的牙膏" → 含的牙膏)."""
    return key(_EN_WORD.sub("", text) if _CJK.search(text) else text)


def _says(a: str, b: str) -> bool:
    """Two clause keys say the same: `similar` or `paraphrased`."""
    return len(a) >= 4 and (similar(a, b) or paraphrased(a, b))


def same_item(a: str, b: str) -> bool:
    """Two items of numbered lists say the same: whole, or clause by clause (every clause of `a` said in `b`),
    compared without English words in Chinese prose."""
    ka, kb = _plain_key(a), _plain_key(b)
    if _says(ka, kb) or (len(ka) >= 4 and ka in kb):
        return True
    mine = [k for p in pieces(a) if len(k := _plain_key(p)) >= 4]
    theirs = [_plain_key(p) for p in pieces(b)]
    return bool(mine) and all(any(_says(m, t) or m in t for t in theirs) for m in mine)


def listed_in(items: list[str], earlier: list[str]) -> bool:
    """Every item of a numbered list is an item of an earlier one (which may have more)."""
    return len(items) <= len(earlier) and all(any(same_item(i, e) for e in earlier) for i in items)


class NumberedRelistCheck(ParaphraseCheck):
    """Removes a numbered list ("1. …；2. …；3. …") that a later text lists again, item for item (the later copy
    goes; the earlier may have more items), and a clause of another text that restates the list's lead-in
    ("可以通过以上几种方法来治疗口臭" beside "可以通过以下几种方法来治疗口臭：1. …"): it points at a list its own text
    does not hold. Runs before the repetition check, which would otherwise take single clauses out of both copies
    and leave each list with holes. The removal rules are the paraphrase check's."""

    name = "numbered_list"
    rules = ("numbered_list",)
    said = "listed again a numbered list given earlier, or restated its lead-in"
    saying = "listing again a numbered list given earlier, or restating its lead-in"

    def repair(self, ctx: CheckContext, data: dict[str, Any]) -> Repair:
        units, texts = self._clauses(data)
        lists = {w: numbered(parts) for w, parts in texts.items()}
        lists = {w: found for w, found in lists.items() if found[1]}
        if not lists:
            return Repair(data)  # most answers: no numbered list at all
        gone: set[Unit] = set()
        order = list(texts)
        for w in sorted(lists, key=order.index):
            parts, (_, spans) = texts[w], lists[w]
            items = [_item_text(parts, s) for s in spans]
            for e in sorted(lists, key=order.index):
                if order.index(e) >= order.index(w):
                    break
                theirs = [_item_text(texts[e], s) for s in lists[e][1]]
                if not listed_in(items, theirs):
                    continue
                # a lead-in of its own goes with the first item: only when it says what the earlier one's does
                mine, before = (_POINTER.sub("以下", key(x)) for x in (lists[w][0], lists[e][0]))
                victim = {(*w, n) for a, b in spans for n in range(a, b)}
                if (not mine or _says(mine, before)) and self._can_remove(ctx, data, texts, gone | victim):
                    gone |= victim
                break
        # a clause pointing at a list its text does not hold, saying what a list's lead-in says
        leads = {w: _POINTER.sub("以下", key(pieces(lead)[-1])) for w, (lead, _) in lists.items() if lead}
        for f, i, n, k in units:
            if (f, i, n) in gone or not _POINTER.search(k) or (f, i) in lists:
                continue
            mine = _POINTER.sub("以下", k)
            if any(w != (f, i) and (mine == lead or _says(mine, lead)) for w, lead in leads.items()):
                if self._can_remove(ctx, data, texts, gone | {(f, i, n)}):
                    gone.add((f, i, n))
        return self._removed(data, texts, gone)


# ---- a sentence of one field said again in another field with a word changed ---------------------------------
# what a changed word is: this many characters on either side ("使用它 / 购买它", "抵消 / 补偿")
_SWAP_WORD = 2
_SWAP_MIN = 8  # characters of gist a clause needs before one changed word can leave it the same point
# a contrast word left opening a text once the clause it answered went; that clause is said in an earlier field
# ("…分期付款，但实际扣款金额…" after "…分期付款，但具体扣款金额…"), so the rest stands without it
_OPENING_CONTRAST = re.compile("^(?:但是|但|不过|然而)[，,]?\\s*")


def swapped(a: str, b: str) -> bool:
    """Two clause keys that say one thing with one word changed ("他只能在特定额度内使用它 / 他只能在特定额度内
    购买它"): their gists (8+ characters, without a leading connective) share a start (2+ characters: not the
    subject) and an end that leave one word of two characters on either side, no digit, numeral or negation in it;
    neither is a condition, and they are not `opposed`.
    Alone this is no repeat (a swapped word can be the point: 手术治疗 / 药物治疗); `RestatedSentenceCheck` needs
    a second clause of the same sentence said again beside it."""
    return _swapped(a, b, _swap_gist(a), _swap_gist(b))


def _swap_gist(k: str) -> str:
    """A clause key's gist without a leading connective, as `swapped` compares it."""
    return gist(_LEAD.sub("", k) or k)


def _swapped(a: str, b: str, ga: str, gb: str) -> bool:
    """`swapped` on two keys and their `_swap_gist`s; the cheap tests first (most pairs share no start)."""
    if ga == gb or min(len(ga), len(gb)) < _SWAP_MIN:
        return False
    head = len(os.path.commonprefix([ga, gb]))
    room = min(len(ga), len(gb)) - head
    tail = min(len(os.path.commonprefix([ga[::-1], gb[::-1]])), room)
    da, db = ga[head : len(ga) - tail], gb[head : len(gb) - tail]
    # a word of two characters for another: one character apart is a different thing named (肝 / 肾, 胃镜 / 肠镜,
    # 血糖 / 血压), and a word the clause opens with is its subject (甲药 / 乙药)
    if not (len(da) == len(db) == _SWAP_WORD) or head < 2 or head + tail < _SWAP_MIN - _SWAP_WORD:
        return False
    if _CONDITION.search(a) or _CONDITION.search(b):
        return False  # a condition with a word changed is another case ("如果患者的血糖 / 血压长期控制不好")
    if any(c.isdigit() or c in _NUMERAL for c in da + db) or _NEGATION.search(da + db):
        return False
    return not opposed(a, b)


def enumeration_near(a: str, b: str) -> bool:
    """Two clauses enumerating the same things with one element named otherwise ("长期高血压会导致心脏功能下降、
    脑血管病变、肾脏损害、内分泌失调等 / 长期高血压会增加心脏病、脑血管病变、肾损害、内分泌失调等"): as many
    elements (3+) on each side, a shared start of 4+ characters (the frame), and every element but one of the
    later found in the earlier (the same, or a character or two apart)."""
    pa, pb = a.split("、"), b.split("、")
    if len(pa) < 3 or len(pa) != len(pb):
        return False
    ka, kb = [key(p) for p in pa], [key(p) for p in pb]
    frame_ = len(os.path.commonprefix([ka[0], kb[0]]))
    if frame_ < 4 or not all(ka) or not all(kb):
        return False
    ka[0], kb[0] = ka[0][frame_:], kb[0][frame_:]
    tails = [m.group(0) if (m := _LIST_CLOSE.search(k[-1])) else "" for k in (ka, kb)]
    if tails[0] != tails[1]:
        return False  # what the lists are said to do after 等 differs ("等症状 / 等并发症")
    ka[-1], kb[-1] = ka[-1][: len(ka[-1]) - len(tails[0])], kb[-1][: len(kb[-1]) - len(tails[1])]
    found = sum(any(x and y and (_same_element(x, y) or _near_element(x, y)) for y in ka) for x in kb)
    return found >= len(kb) - 1


class RestatedSentenceCheck(ParaphraseCheck):
    """Removes clauses of a later field that say again two or more clauses of one sentence of an
    earlier field, where at least one says it with a word changed or an element of a list named otherwise
    (`swapped`, `enumeration_near`) — the near copies the other checks leave, because one changed word alone can
    be the point. Two clauses of one sentence said again, one of them word for word or both with one word
    changed, are a sentence said again. The later copy yields where its text can spare it (the answer is read in
    order); else the earlier sentence's clauses, where that text keeps a clause of its own; else nothing goes and
    the report says so. Runs before the repetition check, which would first take the clause said word for word
    out of one copy and leave the other a single changed-word clause, too little to tell from a new point."""

    name = "restated_sentence"
    rules = ("restated_sentence",)
    said = "said again an earlier field's sentence with a word changed"
    saying = "saying again an earlier field's sentence with a word changed"

    def repair(self, ctx: CheckContext, data: dict[str, Any]) -> Repair:
        units, texts = self._clauses(data)
        fields = list(dict.fromkeys(f for f, _, _, _ in units))
        keys = {(f, i, n): k for f, i, n, k in units}
        gists = {u: _swap_gist(k) for u, k in keys.items()}
        piece = {u: texts[u[:2]][u[2]] for u in keys}
        order = {f: n for n, f in enumerate(fields)}
        # the pairs of clauses of two fields said with a word changed: most answers have none, and only a sentence
        # with one is compared clause by clause (the word-for-word tests are the costly ones)
        near: dict[tuple[tuple[str, int], int, str], set[Unit]] = {}
        for e in keys:
            for u in keys:
                if order[u[0]] <= order[e[0]] or len(keys[e]) < 6:
                    continue
                if _swapped(keys[e], keys[u], gists[e], gists[u]) or (
                    "、" in piece[e] and "、" in piece[u] and enumeration_near(piece[e], piece[u])
                ):
                    near.setdefault((e[:2], e[2], u[0]), set()).add(u)
        if not near:
            return Repair(data)
        gone: set[Unit] = set()
        left: list[str] = []
        done_sentences: set[tuple[tuple[str, int], int, str]] = set()
        for text, n0, fl in near:
            parts = texts[text]
            sentence = next(s for s in self._sentences(parts) if n0 in s)
            if (text, sentence[0], fl) in done_sentences:
                continue
            done_sentences.add((text, sentence[0], fl))
            later = [u for u in keys if u[0] == fl and u not in gone]
            # each clause of the sentence → the later clauses saying it (True: word for word, False: near)
            said: dict[int, list[tuple[Unit, bool]]] = {}
            for n in sentence:
                e = (*text, n)
                if len(keys[e]) < 6:
                    continue
                for u in later:
                    if _says(keys[e], keys[u]) or _says(keys[u], keys[e]):
                        said.setdefault(n, []).append((u, True))
                    elif u in near.get((text, n, fl), set()):
                        said.setdefault(n, []).append((u, False))
            if len(said) < 2 or all(how for hits in said.values() for _, how in hits):
                continue  # one clause alone with a word changed may be the point; word for word is the others'
            self._settle(ctx, data, texts, gone, left, text, said, sentence)
        done = self._removed(data, texts, gone)
        if left:
            message = f"a sentence said again with a word changed, left: no text could give it up ({', '.join(left)})"
            done.findings.append(Finding(self.name, message))
        return done

    @staticmethod
    def _sentences(parts: list[str]) -> list[list[int]]:
        """A text's clauses grouped by sentence, as clause indices."""
        out: list[list[int]] = [[]]
        for n, p in enumerate(parts):
            out[-1].append(n)
            if _SENTENCE_END_RE.search(p):
                out.append([])
        return [s for s in out if s]

    def _settle(
        self,
        ctx: CheckContext,
        data: dict[str, Any],
        texts: dict[tuple[str, int], list[str]],
        gone: set[Unit],
        left: list[str],
        where: tuple[str, int],
        said: dict[int, list[tuple[Unit, bool]]],
        sentence: list[int],
    ) -> None:
        """Remove the later copies, text by text, where the text says one of them with a word changed (with the
        clause left in the copied sentence's place, `_slot`); else the earlier sentence's clauses they say again;
        else report the pair."""
        by_text: dict[tuple[str, int], list[tuple[int, Unit, bool]]] = {}
        for n, hits in said.items():
            for u, how in hits:
                by_text.setdefault(u[:2], []).append((n, u, how))
        for text, hits in by_text.items():
            if all(how for _, _, how in hits):
                continue  # word for word: the repetition and paraphrase checks decide what goes
            later = {u for _, u, _ in hits}
            earlier = {(*where, n) for n, _, _ in hits}
            whole = later | self._slot(texts, where, sentence, text, hits)
            if (
                whole != later
                and self._can_remove(ctx, data, texts, gone | whole)
                and not self._bare(texts, gone | whole)
            ):
                gone |= whole
            elif self._can_remove(ctx, data, texts, gone | later) and not self._bare(texts, gone | later):
                gone |= later
            elif self._can_remove(ctx, data, texts, gone | earlier) and not self._bare(texts, gone | earlier):
                gone |= earlier
            else:
                left.append(f"{self._where(where)} / {self._where(text)}")

    def _slot(
        self,
        texts: dict[tuple[str, int], list[str]],
        where: tuple[str, int],
        sentence: list[int],
        text: tuple[str, int],
        hits: list[tuple[int, Unit, bool]],
    ) -> set[Unit]:
        """The later sentence's one clause that is left in the place of the earlier sentence's one clause it does
        not say again, when the two open alike (4+ characters and half the shorter: "花呗收款需要支付手续费 / 花呗收款需要额外的费用"): the
        whole sentence is said again, one clause in looser words, and that clause is no point of its own (qh13-062's
        kind). Else nothing: a clause the later copy adds, or one in another place, stays (its own lead-in)."""
        mine = [n for n in sentence if len(key(texts[where][n])) >= 6]
        parts = texts[text]
        at = {u[2] for _, u, _ in hits}
        theirs = next((s for s in self._sentences(parts) if at <= set(s)), None)
        if theirs is None:
            return set()
        theirs = [n for n in theirs if len(key(parts[n])) >= 6]
        left_mine = [i for i, n in enumerate(mine) if n not in {n for n, _, _ in hits}]
        left_theirs = [i for i, n in enumerate(theirs) if n not in at]
        if len(mine) != len(theirs) or len(left_mine) != 1 or left_mine != left_theirs:
            return set()
        a, b = key(texts[where][mine[left_mine[0]]]), key(parts[theirs[left_theirs[0]]])
        # the same subject and verb, half the clause or more: "高血压是一种慢性疾病 / 高血压是导致心血管疾病的重要原因
        # 之一" share only the subject (another point), "花呗收款需要支付手续费 / 花呗收款需要额外的费用" its first half
        same = len(os.path.commonprefix([a, b]))
        if same < 4 or 2 * same < min(len(a), len(b)) or opposed(a, b):
            return set()
        return {(*text, theirs[left_theirs[0]])}

    @staticmethod
    def _rest(parts: list[str], drop: set[int]) -> str:
        """`ParaphraseCheck._rest`, and a contrast word left opening the text goes too: the clause it answered is
        said in the earlier field (read first), and "但实际扣款金额会…" alone answers nothing."""
        out = ParaphraseCheck._rest(parts, drop)
        if out and 0 in ParaphraseCheck._dropped(parts, drop):
            out = _OPENING_CONTRAST.sub("", out)
        return out


# ---- a clause said with and without its negation (a contradiction) ----------------------------------------------
# a negation and the words it leaves when it goes, longest first: "不会影响" and "会影响" say opposite things of one
# subject. Never a word that only holds 不 / 无 / 没 / 未 / 非 (不断, 不良, 不适, 无论, 没收, 未来, 非常), and never
# 不一定 / 未必 (a hedge: "不一定会" does not deny "可能会")
_NEGATED: tuple[tuple[str, str], ...] = (
    ("不能够", "能"), ("不可以", "能"), ("不能", "能"), ("无法", "能"), ("没法", "能"), ("不可", "能"),
    ("无需", "需要"), ("无须", "需要"), ("不需要", "需要"), ("不需", "需要"), ("不用", "需要"), ("不必", "需要"),
    ("不应该", "应该"), ("不应当", "应该"), ("不应", "应该"), ("不该", "应该"), ("不宜", "应该"),
    ("没有", "有"), ("并非", "是"), ("不是", "是"), ("不会", "会"), ("不要", "要"), ("勿", ""),
    ("并不", ""), ("(?<![除是])非(?![常法])", ""), ("(?<!并)无(?![论疑数非奈线])", "有"),
    ("没(?![收])", ""), ("未(?![来知成])", ""),
    ("不(?![断良适足同少仅但过然妨停久管论时安全齐孕育振洁错禁得一])", ""),
)  # fmt: skip
_NEGATED_RE = re.compile("|".join(f"(?:{pattern})" for pattern, _ in _NEGATED))
_NEGATED_TO = [(re.compile(pattern), to) for pattern, to in _NEGATED]
# the words a positive clause says the same with ("可以还款" / "不能还款", "必须就医" / "不必就医")
_AFFIRMED = (("可以", "能"), ("能够", "能"), ("必须", "需要"), ("应当", "应该"))
_HEDGE = re.compile("可能|也许|或许|有时|偶尔|不一定|未必|maybe|may|might|could|possibly|sometimes")
_EN_NEGATED = re.compile(r"\b(?:not|never|no)\b|n't\b")
_EN_AUX = re.compile(r"\b(?:do|does|did|will|would|shall|should|can|must)\b")


def stance(text: str) -> tuple[str, bool, bool] | None:
    """What a clause (or a sentence up to it) asserts without its negation, whether it is negated (an odd number
    of negations), and whether it is hedged (可能, may); None when it only half denies (不一定, 未必)."""
    if re.search("不一定|未必", text):
        return None
    if not _CJK.search(text):  # English: "does not affect" and "affects" assert one thing
        low = text.casefold().replace("cannot", "can not")
        negated = len(_EN_NEGATED.findall(low)) % 2 == 1
        words = _EN_AUX.sub("", _EN_NEGATED.sub("", low)).split()
        plain = " ".join(w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words)
        return key(plain), negated, bool(_HEDGE.search(low))
    k = key(text)
    count = len(_NEGATED_RE.findall(k))
    for pattern, to in _NEGATED_TO:
        k = pattern.sub(to, k)
    for word, to in _AFFIRMED:
        k = k.replace(word, to)
    return gist(k), count % 2 == 1, bool(_HEDGE.search(text))


def contradicts(a: str, b: str) -> bool:
    """Two clauses (each with the clauses of its sentence before it) say one thing, one with a negation and one
    without ("提前还款不会影响还款成本" / "提前还款会影响还款成本"), not both hedged ("可能会" / "可能不会" leave it
    open). Word for word once the negation is gone, subject included, so "A 会…" and "B 不会…" never are."""
    return _opposite(stance(a), stance(b))


def _opposite(sa: tuple[str, bool, bool] | None, sb: tuple[str, bool, bool] | None) -> bool:
    """`contradicts` on two `stance`s."""
    if sa is None or sb is None:
        return False
    (pa, na, ha), (pb, nb, hb) = sa, sb
    return len(pa) >= 6 and pa == pb and na != nb and not (ha and hb)


# a text left opening on a bare modal verb has lost its subject with the clause before it ("会优先考虑当前的余额"),
# and one opening on a reason the reason's claim ("因为它会优先考虑当前的余额。")
_BARE_MODAL = re.compile("^(?:(?:会|能|将|要)(?![议员计力量源求])|因为|由于)")


class ContradictionCheck(ParaphraseCheck):
    """Finds a clause the answer says with and without its negation (`contradicts`: the same subject, the same
    words) in two sentences, and removes the later copy, where its text can give it up (else the earlier one, else
    the report only says so). The answer is read in order, and the later copy contradicts what the reader was told
    first; which one is true the checks cannot know, but an answer that asserts both is wrong whichever is. The
    removal rules are the paraphrase check's, and a text left opening on a bare 会 / 能 or on 因为 is a fragment too."""

    name = "contradiction"
    rules = ("contradiction",)
    said = "said the opposite of an earlier one"
    saying = "saying the opposite of an earlier one"

    def repair(self, ctx: CheckContext, data: dict[str, Any]) -> Repair:
        units, texts = self._clauses(data)
        said: dict[Unit, str] = {}  # a clause with the clauses of its sentence before it, as one text
        for (f, i), parts in texts.items():
            start = 0
            for n, p in enumerate(parts):
                said[(f, i, n)] = "".join(parts[start : n + 1])
                if _SENTENCE_END_RE.search(p):
                    start = n + 1
        if not any(_NEGATED_RE.search(key(text)) or _EN_NEGATED.search(text) for text in said.values()):
            return Repair(data)  # most answers: nothing is denied, so nothing can be said both ways
        stances = {u: stance(text) for u, text in said.items()}
        by_claim: dict[str, list[Unit]] = {}  # the clauses that assert one thing, negated or not, in answer order
        for u, s in stances.items():
            if s is not None:
                by_claim.setdefault(s[0], []).append(u)
        gone: set[Unit] = set()
        left: list[str] = []
        for later, s in stances.items():
            for earlier in by_claim.get(s[0], []) if s else []:
                if earlier == later:
                    break  # only the clauses before it
                if (
                    earlier in gone
                    or later in gone
                    or (earlier[:2] == later[:2] and said[later].startswith(said[earlier]))
                ):
                    continue  # one sentence: "A 会…，B 不会…" is a contrast, never a contradiction
                if not _opposite(stances[earlier], s):
                    continue
                for victim in self._options(texts, later) + self._options(texts, earlier):
                    if self._can_remove(ctx, data, texts, gone | victim) and not self._bare(texts, gone | victim):
                        gone |= victim
                        break
                else:
                    left.append(f"{self._where(earlier)} / {self._where(later)}")
        done = self._removed(data, texts, gone)
        if left:
            message = f"a clause said with and without its negation, left: no text could give it up ({', '.join(left)})"
            done.findings.append(Finding(self.name, message))
        return done

    def _options(self, texts: dict[tuple[str, int], list[str]], unit: Unit) -> list[set[Unit]]:
        """What may go for a copy, in the order tried: the clause; then, for a list item that the clause's removal
        would leave opening on a bare modal verb or a reason (what they were about was the clause), the whole item."""
        options = [{unit}]
        f, i, _ = unit
        if i >= 0 and self._bare(texts, {unit}):
            options.append({(f, i, n) for n in range(len(texts[(f, i)]))})
        return options


def readability_checks() -> list[BaseCheck]:
    """The checks that keep the prose readable, in the order they run."""
    # sentence ends first: a field cut by its bound is recognised by its length, before repeats shorten it; the
    # list bound last, so the repetition check compares whole lists ("an item lists the summary's list again")
    return [
        SchemaTextCheck(),
        SentenceEndCheck(),
        ReaskEchoCheck(),
        QuestionCopyCheck(),
        NumberedRelistCheck(),
        RestatedSentenceCheck(),
        RepetitionCheck(),
        ParaphraseCheck(),
        RelistCheck(),
        ContradictionCheck(),
        ListBoundCheck(),
    ]
