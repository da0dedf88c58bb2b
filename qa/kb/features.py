"""What a reader looks at when it picks the sentence that answers a question, as numbers: the features of the
learned citation ranker (qa.kb.rank.LearnedRanker), one row per (question, candidate sentence).

Computed from the texts alone (and the e5 cosine where there is one), identically when the ranker is trained
(scripts/train_sentence_ranker.py) and when it ranks an answer's sentences: the lexical score and its rank among
the candidates, the e5 cosine and its rank, how much of the question's own content (its question words left
out) the sentence repeats, the longest run it shares with the question, whether it has what the question asks
for (a number for 多少, a year or date for 何时, a place for 哪里, a name for 谁, a cause for 为什么), what it
adds of the question's content to the sentence before it, where it stands among the candidates and how long it is. The names are the contract with the weights file: a weights
file naming other features is refused (qa.kb.rank).
"""

from __future__ import annotations

import math
import re

import numpy as np

from .rank import relevance

# the question's own words that say what is asked, not what it is about: left out before comparing its content
_ASKING = re.compile(
    r"什么时候|什么地方|什么人|为什么|为何|怎么样|怎么|怎样|如何|多少|多大|多长|多高|多远|多久|多重|多深|多宽|多厚|"
    r"哪一年|哪年|哪一天|哪天|哪里|哪儿|哪些|哪个|哪一|哪位|哪|什么|几|谁|何时|何地|何处|何|是否|吗|呢|呀|"
    r"请问|是|的|了|有|在|被|和|与|及|其|该|又|也|都|就|会|要|为|由|对|之|于|把|将"
)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORDS = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")
_KEEP = re.compile(r"[\u3400-\u9fff\uf900-\ufaffa-z0-9]")

# what the question asks for
_Q_NUMBER = re.compile(r"多少|几|多大|多长|多高|多远|多重|多深|多宽|多厚|多久|百分之|比例|数量|人口|面积|长度|高度")
_Q_TIME = re.compile(r"何时|什么时候|哪一年|哪年|哪一天|哪天|几月|几年|几号|年份|时间|日期|年代|多久|哪个时期|哪个朝代")
_Q_WHO = re.compile(r"谁|哪位|什么人|哪个人|哪些人|作者|创始人|导演|主演|设计师|发明|发现者")
_Q_WHERE = re.compile(r"哪里|哪儿|何地|何处|什么地方|哪个国家|哪个城市|哪个省|位于|在哪|地点|地区|所在")
_Q_WHY = re.compile(r"为什么|为何|原因|为啥|怎么会")
_Q_HOW = re.compile(r"如何|怎样|怎么|方法|方式")
_Q_WHAT = re.compile(r"什么是|是什么|指什么|是指")

# what a sentence holds
_NUMBER = re.compile(
    r"[0-9０-９]|[一二两三四五六七八九十百千万亿][多余]?[个位名人年月日天次种条座米岁元件项所家部公千万亿%％]"
)
_YEAR = re.compile(r"[0-9０-９]{3,4}\s*年|[一二三四五六七八九〇零○]{4}年|世纪|年代|朝|时期")
_DATE = re.compile(r"[0-9０-９一二三四五六七八九十]{1,3}\s*月|[0-9０-９一二三四五六七八九十]{1,3}\s*[日号]|春|夏|秋|冬")
_PLACE = re.compile(r"[省市县区州国镇乡村岛洲山河湖海港湾街路]|位于|坐落|地处|境内")
_NAME = re.compile(r"[·•]|先生|女士|教授|博士|导演|作家|总统|国王|皇帝|主席|创办|创立|提出|发明|发现|所著|编剧|主演")
_CAUSE = re.compile(r"因为|由于|因此|所以|导致|造成|原因|以便|为了|使得")
_WH = re.compile(r"为什么|为何|什么|多少|哪|谁|几|何|怎|如何|多[大长高远久重深宽厚]|吗")
_LEFT_FILLER = re.compile(r"[是的在有为了于被叫称做作成到和与]+$")
_RIGHT_FILLER = re.compile(r"^[的是个种些样位年天时么里儿处地方人]+")
_DIGITS = re.compile(r"[0-9]+")
_PRONOUN = re.compile(r"^[「“\"（(]?(?:它|他|她|其|该|此|这|那|两者|二者|后者|前者)")

NAMES: tuple[str, ...] = (
    "lex_rel",  # lexical score / the best candidate's
    "lex_scaled",  # lexical score on the candidates' own 0–1 range
    "lex_rr",  # 1 / (1 + rank by lexical score)
    "lex_top",  # ranked first by the lexical score
    "uni_cov",  # share of the question's content characters the sentence holds
    "bi_cov",  # share of the question's content bigrams
    "tri_cov",  # share of the question's content trigrams
    "lcs",  # longest run shared with the question's content / its length
    "lcs_chars",  # that run's length, log
    "new_share",  # share of the sentence's characters the question does not have (what it adds)
    "ask_number_has_number",
    "ask_time_has_year",
    "ask_time_has_date",
    "ask_who_has_name",
    "ask_where_has_place",
    "ask_why_has_cause",
    "ask_how",  # how-questions: their answers are longer, with the question's verb
    "ask_what",  # definition questions: the sentence that names the subject first
    "has_number",
    "left_in",  # the two characters before the question word are in the sentence (the answer stood there)
    "right_in",  # the two characters after it
    "left_right_in",  # both, the left before the right
    "rare_uni_cov",  # the question's content characters held, each weighted by its rarity among the candidates
    "numbers_held",  # share of the question's own numbers (1996, 2月) the sentence repeats
    "off_topic_cov",  # rarity-weighted share of the question's characters that the first candidate lacks
    "off_topic_bi",  # the same for the question's content bigrams
    "echo_why",  # why/how questions: the sentence restates the question (the cause is elsewhere)
    "why_next_lex",  # why/how questions: the next candidate's scaled lexical score
    "starts_with_subject",  # the sentence begins with the question's first content run (a definition)
    "pronoun_start",  # 它/其/该… begins the sentence: it speaks of the previous one's subject
    "pronoun_prev_lex",  # that, times the previous candidate's scaled lexical score
    "prev_lex",  # the previous candidate's scaled lexical score
    "adds_to_prev",  # rarity-weighted share of the question's content characters it holds and the previous lacks
    "next_lex",  # the next candidate's scaled lexical score
    "position",  # index / candidates (0 first)
    "first",  # the first candidate
    "length",  # log characters
    "short",  # under 15 characters
)
DENSE_NAMES: tuple[str, ...] = (
    "dense_scaled",  # e5 cosine on the candidates' own 0–1 range
    "dense_rr",  # 1 / (1 + rank by e5 cosine)
    "dense_gap",  # e5 cosine minus the best candidate's
)


def _content(question: str) -> str:
    """The question lower-cased with its question words and function characters replaced by a gap, so runs and
    n-grams never cross where they were."""
    return _ASKING.sub("\x00", question.lower())


def _grams(text: str, n: int) -> set[str]:
    """Character n-grams of the kept characters (Chinese, letters, digits) not crossing a gap."""
    out: set[str] = set()
    for run in re.split(r"[^\u3400-\u9fff\uf900-\ufaffa-z0-9]+", text):
        out.update(run[i : i + n] for i in range(len(run) - n + 1))
    return out


def _longest_run(a: str, b: str) -> int:
    """Length of the longest common substring of a and b (dynamic programming; both are short)."""
    best, prev = 0, [0] * (len(b) + 1)
    for ch in a:
        cur = [0] * (len(b) + 1)
        for j, other in enumerate(b, start=1):
            if ch == other and ch != "\x00":
                cur[j] = prev[j - 1] + 1
                best = max(best, cur[j])
        prev = cur
    return best


def _wh_context(question: str) -> tuple[str, str]:
    """The two content characters just before and just after the question word (empty when there is none)."""
    m = _WH.search(question)
    if m is None:
        return "", ""
    left = _LEFT_FILLER.sub("", question[: m.start()])
    right = _RIGHT_FILLER.sub("", question[m.end() :])
    left = "".join(ch for ch in left if _KEEP.match(ch))[-2:]
    right = re.split(r"[^\u3400-\u9fff\uf900-\ufaffa-z0-9]", right, maxsplit=1)[0][:2]
    return (left if len(left) == 2 else ""), (right if len(right) == 2 else "")


def _rank_share(values: np.ndarray) -> np.ndarray:
    """1 / (1 + rank), rank 0 the highest value (ties: the earlier one first, as the ranker orders)."""
    order = sorted(range(len(values)), key=lambda i: (-float(values[i]), i))
    out = np.zeros(len(values))
    for rank, i in enumerate(order):
        out[i] = 1.0 / (1 + rank)
    return out


def _scaled(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    return (values - low) / (high - low) if high > low else np.zeros_like(values)


Where = tuple[str, int]  # a candidate's document and its offset there (page and start folded into one number)


def features(
    question: str,
    texts: list[str],
    dense: np.ndarray | list[float] | None = None,
    where: list[Where] | None = None,
) -> np.ndarray:
    """One row per text: NAMES, then DENSE_NAMES when `dense` (the e5 cosine of each text) is given. `where` says
    which document each text is from and where in it (default: one document, in the order given): neighbours,
    position and the document's subject are read within a document, never across two."""
    n = len(texts)
    names = NAMES + (DENSE_NAMES if dense is not None else ())
    if n == 0:
        return np.zeros((0, len(names)))
    where = where if where is not None else [("", i) for i in range(n)]
    by_doc: dict[str, list[int]] = {}
    for i in sorted(range(n), key=lambda i: (where[i][1], i)):
        by_doc.setdefault(where[i][0], []).append(i)
    lex = np.asarray(relevance(question, texts), dtype=np.float64)
    lex_scaled, lex_rr, top = _scaled(lex), _rank_share(lex), float(lex.max())
    q = question.lower()
    content = _content(question)
    kept = {ch for ch in content if _KEEP.match(ch)}
    bigrams, trigrams = _grams(content, 2), _grams(content, 3)
    kept_len = max(1, sum(1 for ch in content if _KEEP.match(ch)))
    runs = [r for r in content.split("\x00") if r]
    subject = runs[0][:4] if runs else ""
    ask = {
        "number": bool(_Q_NUMBER.search(q)),
        "time": bool(_Q_TIME.search(q)),
        "who": bool(_Q_WHO.search(q)),
        "where": bool(_Q_WHERE.search(q)),
        "why": bool(_Q_WHY.search(q)),
        "how": bool(_Q_HOW.search(q)),
        "what": bool(_Q_WHAT.search(q)),
    }
    why = ask["why"] or ask["how"]
    left_ctx, right_ctx = _wh_context(q)
    lowered = [t.lower() for t in texts]
    char_sets = [{ch for ch in t if _KEEP.match(ch)} for t in lowered]
    # rarity of each content character among the candidates (log inverse share, as the lexical score weighs terms)
    rarity = {ch: math.log(1 + n / max(1, sum(ch in t for t in lowered))) for ch in kept}
    rarity_total = sum(rarity.values())
    numbers = set(_DIGITS.findall(q))
    dense_rows = _dense_rows(np.asarray(dense, dtype=np.float64)) if dense is not None else None
    rows = []
    for doc in by_doc.values():
        # a document's first sentence usually names its subject: what else the question asks about is its focus
        off_topic = {ch: w for ch, w in rarity.items() if ch not in lowered[doc[0]]}
        off_total = sum(off_topic.values())
        off_bi = {g for g in bigrams if g not in lowered[doc[0]]}
        for k, i in enumerate(doc):
            t = lowered[i]
            chars = char_sets[i]
            # what the sentence adds to the one before it: a sentence that only repeats what its neighbour already
            # said of the question is rarely the answer, one that adds the question's missing part often is
            before = char_sets[doc[k - 1]] if k > 0 else set()
            adds = sum(w for ch, w in rarity.items() if ch in chars and ch not in before)
            sentence_kept = [ch for ch in t if _KEEP.match(ch)]
            run = _longest_run(content, t)
            has_number = bool(_NUMBER.search(texts[i]))
            pronoun = bool(_PRONOUN.match(texts[i].strip()))
            prev_lex = float(lex_scaled[doc[k - 1]]) if k > 0 else 0.0
            next_lex = float(lex_scaled[doc[k + 1]]) if k + 1 < len(doc) else 0.0
            starts = bool(subject) and t.startswith(subject)
            row = {
                "lex_rel": float(lex[i] / top) if top > 0 else 0.0,
                "lex_scaled": float(lex_scaled[i]),
                "lex_rr": float(lex_rr[i]),
                "lex_top": float(lex_rr[i] == 1.0),
                "uni_cov": len(kept & chars) / len(kept) if kept else 0.0,
                "bi_cov": len(bigrams & _grams(t, 2)) / len(bigrams) if bigrams else 0.0,
                "tri_cov": len(trigrams & _grams(t, 3)) / len(trigrams) if trigrams else 0.0,
                "lcs": run / kept_len,
                "lcs_chars": math.log1p(run),
                "new_share": sum(ch not in kept for ch in sentence_kept) / len(sentence_kept) if sentence_kept else 0.0,
                "ask_number_has_number": float(ask["number"] and has_number),
                "ask_time_has_year": float(ask["time"] and bool(_YEAR.search(texts[i]))),
                "ask_time_has_date": float(ask["time"] and bool(_DATE.search(texts[i]))),
                "ask_who_has_name": float(ask["who"] and bool(_NAME.search(texts[i]))),
                "ask_where_has_place": float(ask["where"] and bool(_PLACE.search(texts[i]))),
                "ask_why_has_cause": float(ask["why"] and bool(_CAUSE.search(texts[i]))),
                "ask_how": float(ask["how"]) * float(lex_scaled[i]),
                "ask_what": float(ask["what"] and starts),
                "has_number": float(has_number),
                "left_in": float(bool(left_ctx) and left_ctx in t),
                "right_in": float(bool(right_ctx) and right_ctx in t),
                "left_right_in": float(bool(left_ctx and right_ctx) and 0 <= t.find(left_ctx) < t.rfind(right_ctx)),
                "rare_uni_cov": sum(w for ch, w in rarity.items() if ch in chars) / rarity_total
                if rarity_total
                else 0.0,
                "numbers_held": sum(x in t for x in numbers) / len(numbers) if numbers else 0.0,
                "off_topic_cov": sum(w for ch, w in off_topic.items() if ch in chars) / off_total if off_total else 0.0,
                "off_topic_bi": len(off_bi & _grams(t, 2)) / len(off_bi) if off_bi else 0.0,
                "echo_why": float(why and run / kept_len >= 0.6),
                "why_next_lex": float(why) * next_lex,
                "starts_with_subject": float(starts),
                "pronoun_start": float(pronoun),
                "pronoun_prev_lex": float(pronoun) * prev_lex,
                "prev_lex": prev_lex,
                "adds_to_prev": adds / rarity_total if rarity_total else 0.0,
                "next_lex": next_lex,
                "position": k / len(doc),
                "first": float(k == 0),
                "length": math.log1p(len(texts[i])),
                "short": float(len(texts[i]) < 15),
            }
            if dense_rows is not None:
                row.update(dense_rows[i])
            rows.append((i, [row[name] for name in names]))
    return np.asarray([r for _, r in sorted(rows)], dtype=np.float64)


def _dense_rows(d: np.ndarray) -> list[dict[str, float]]:
    """The dense features of each candidate, from their e5 cosines."""
    scaled, share, top = _scaled(d), _rank_share(d), float(d.max())
    return [
        {"dense_scaled": float(scaled[i]), "dense_rr": float(share[i]), "dense_gap": float(d[i] - top)}
        for i in range(len(d))
    ]
