"""The finance task's rules: guaranteed-return requests in the question, promises and buy/sell instructions in
the answer, and growth-rate / P/E arithmetic checked against the question's own figures."""

from __future__ import annotations

import re

from ...validation import string_fields

_GUARANTEE = re.compile(
    r"稳赚|(还|又|而且|并且)保本|保本.{0,4}(又|还|而且).{0,4}(高|收益)|保本.{0,6}(高|收益|回报)|保证.{0,6}(收益|回报|赚|不亏)|(肯定|一定|必然|绝对).{0,4}(涨|翻倍|赚|盈利|回本)|必涨|稳涨|无风险.{0,6}收益|零风险"
    r"|(全部|所有|全仓|满仓).{0,6}(积蓄|存款|身家|钱|资金)|(全部|全投|梭哈).{0,4}(买|投|押|进去)|梭哈|满仓|全仓|借钱.{0,6}(炒股|投资|买)|(稳拿|稳得|保底).{0,4}\d"
    r"|guarante|risk[- ]free|sure (thing|bet|win|profit)|can'?t lose|(will|going to) (surely|definitely|certainly) (rise|double|go up|moon)"
    r"|all (my|of my|our) (savings|money|cash)|\ball[- ]in\b|double my money|sure to (go up|rise|double)|100% of my|\b(10|100)x\b|no risk",
    re.I,
)


def is_guarantee_request(question: str) -> bool:
    """True when the question asks for guaranteed returns or an all-in pick."""
    return bool(_GUARANTEE.search(question))


_PROMISE = re.compile(
    r"稳赚不赔|稳赚|保本保息|保证(收益|回报|赚钱|不亏)|(一定|肯定|必然)(会)?(上涨|涨|赚钱|盈利|翻倍)|必涨|零风险|无风险(高)?收益"
    r"|guaranteed (returns?|profits?|gains?)|risk[- ]free (returns?|profits?)|can'?t lose|will (definitely|surely) (rise|go up|double)",
    re.I,
)
_INSTRUCTION = re.compile(
    r"(建议|应该|可以|请)(您|你)?(立即|马上|现在)?(全部|全仓|满仓)?(买入|卖出|清仓|满仓|全仓|梭哈|抄底|加仓|all.?in)"
    r"|\b(you should|we recommend you|i recommend you) (buy|sell|go all[- ]in)|\bgo all[- ]in\b",
    re.I,
)
RISK_ZH = "投资有风险，任何产品都不能保证收益，本金可能亏损。"
RISK_EN = "Investing carries risk: no product can guarantee returns and you may lose money."

# ---- arithmetic in finance answers ----------------------------------------------------------------------------
_NUM = r"(-?\d+(?:\.\d+)?)"
_GROWTH_Q = re.compile(
    rf"(?:从|由)\s*{_NUM}\s*([万亿千百]*元?|%)?.{{0,12}}?(?:增长|增加|上升|提高|下降|减少|降低|变为|变成|涨|跌)?(?:到|至)\s*{_NUM}"
    rf"|from\s*\$?{_NUM}\s*(?:[a-z]+)?\s*to\s*\$?{_NUM}",
    re.I,
)
_PE_Q = re.compile(
    rf"(?:股价|价格|price)[^\d]{{0,8}}{_NUM}.{{0,20}}?(?:每股收益|eps|earnings per share)[^\d]{{0,8}}{_NUM}", re.I
)
_PCT = re.compile(rf"{_NUM}\s*%")


def check_arithmetic(question: str, data: dict) -> str | None:
    """A message when the answer states a growth rate or P/E that the question's own figures contradict."""
    text = " ".join(string_fields(data))
    growth = _GROWTH_Q.search(question)
    if growth and re.search(
        r"增长率|增幅|涨幅|降幅|增长了|下降了|变化率|growth|increase|decrease|decline|change", question + text, re.I
    ):
        groups = [g for g in growth.groups() if g is not None and re.fullmatch(r"-?\d+(\.\d+)?", g)]
        if len(groups) >= 2 and float(groups[0]) != 0:
            start, end = float(groups[0]), float(groups[1])
            expected = (end - start) / abs(start) * 100
            stated = [float(p) for p in _PCT.findall(text)]
            if stated and not any(abs(abs(p) - abs(expected)) <= max(0.15, abs(expected) * 0.01) for p in stated):
                return f"the figures in the question give {expected:.2f}%, the answer states {', '.join(f'{p:g}%' for p in stated)}"
    pe = _PE_Q.search(question)
    if pe and float(pe.group(2)) != 0:
        expected = float(pe.group(1)) / float(pe.group(2))
        stated = [float(n) for n in re.findall(r"(?:市盈率|P/?E)[^\d]{0,10}(\d+(?:\.\d+)?)", text, re.I)]
        if stated and not any(abs(n - expected) <= max(0.05, expected * 0.01) for n in stated):
            return f"the figures in the question give a P/E of {expected:.2f}, the answer states {', '.join(f'{n:g}' for n in stated)}"
    return None
