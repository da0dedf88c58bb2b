"""The medical task's rules on the user's words: emergency red flags (negated "没有胸痛", past "三年前胸痛过，现在好了",
imagined "如果有人触电", reported "电视剧里", general-question, first-aid-learning and figurative "气得吐血" mentions do
not fire) and dosage requests; and the texts the answer-side checks insert."""

from __future__ import annotations

import re
from dataclasses import dataclass

# ---- clause handling -----------------------------------------------------------------------------------------
# 不过 is "but" except as a verb's complement before 气/来/去/劲/神 (喘不过气, 透不过气, 呼吸不过来, 醒不过来): cut there,
# the breathing and consciousness patterns written for those forms could never match
_CLAUSE_SPLIT = re.compile(
    r"[，,。!！?？;；:：\n]|(?<!\d)\.(?!\d)|(?:\s+but\s+)|但是|不过(?![气来去劲神])|只是|就是|而是"
)
# 别 ("don't") is not the 别 of 特别 ("very"), 区别, 告别, 分别, 级别…: "人特别没精神" is a sign, not a denial
# Cantonese 冇 / 唔 and traditional 沒 / 無 deny as 没 / 不 / 无 do
_NEGATION_ZH = re.compile(
    r"(没有|沒有|没|沒|冇|无|無|不是|唔係|不|唔|未|并非|否认|否認|(?<![特区告分级性类个识辨派])别)"
)
# also typed without the apostrophe ("didnt pass out", "wasnt sick") or with a curly one, and "no longer"
_NEGATION_EN = re.compile(
    r"\b(no|not|never|without|denies|no longer|i'm not|im not"
    r"|(did|do|does|is|are|was|were|have|has|had)n[’']?t)\b|n[’']t\b",
    re.I,
)
_HISTORY = re.compile(
    r"(\d+|[一二两三四五六七八九十几]+)\s*(年|个月|周|星期)前|半(年|个月)前|去年|前年|以前|曾经|小时候|当年|有段时间|那时|年轻时|上个月|上次|后来|有过(?!敏)"
    r"|(大学|高中|初中|小学|上学|读书|念书)(的)?时(候)?"
    r"|\b(\d+|a few|several|many|two|three|four|five|ten)\s+(years?|months?|weeks?)\s+ago\b"
    r"|\blast (month|year|summer|winter|spring|autumn|fall)\b|\byears ago\b|\bas a (child|kid|teen)\b"
    # "in the past hour" is now, not the past
    r"|\bin (high school|college|the past(?! (\d+ |few |couple of |several |two |three |24 |48 )?(hours?|minutes?|mins?|day|days|night|half hour)\b)|19\d\d|20\d\d)\b|\bused to\b|\bhistory of\b|\bback in\b|\bwhen i was\b|(?<!at )\bonce\b",
    re.I,
)
# 现在 / 目前 before an age or a lasting state tell who the person is, not when the sign is ("我现在20岁", "小外甥现在是
# 七个月", "我大姐现在还很年轻": eighteenth session, real patients' questions)
_NOW_AS_AGE = (
    r"(?!(是|已经|才|都|刚)?[\d一二两三四五六七八九十几]+(多)?(周岁|岁|个多月|个月(大)?(?![\d一二两三四五六七八九十几天]))"
    r"|还(很|挺|算)?年轻)"
)
_CURRENT = re.compile(
    r"(现在|目前)"
    + _NOW_AS_AGE
    + r"|刚才|刚刚|今天|正在|又(开始|发作|出现)|\b(now|right now|currently|again|today|tonight)\b",
    re.I,
)
_PAST_SUFFIX = re.compile(r"^\s*(过|史)")  # 胸痛过 / 中风过 / 惊厥史: it happened before


def _clauses(text: str) -> list[str]:
    return [c for c in _CLAUSE_SPLIT.split(text) if c and c.strip()]


# 不 inside a verb and its complement negates nothing after it: "想不开吃了一整板药" (could not get over it),
# "睡不着，吃了二十片安眠药", "忍不住又吃了一把"
_NOT_A_NEGATION = re.compile(
    r"想不开|想唔开|看不开|睡不着|睡不著|睡唔着|受不了|忍不住|忍唔住|顶不住|撑不住|扛不住|舍不得"
    # "don't know why", "for no reason", "please": they deny nothing of the sign after them
    r"|唔知|唔該|唔该|唔好意思|無端端|無緣無故"
)


def _negated(clause: str, start: int) -> bool:
    before = _NOT_A_NEGATION.sub(lambda m: "_" * len(m.group()), clause[max(0, start - 12) : start])
    # a negation governs the few words right before the symptom, not the whole clause
    return bool(_NEGATION_ZH.search(before) or _NEGATION_EN.search(clause[max(0, start - 24) : start]))


def _negated_inside(pattern: re.Pattern[str], evidence: str) -> bool:
    """A negation in the gap of a pattern ("嗓子也不紧", "throat is not tight"): the match still holds without it.
    A negation the sign is made of ("喘不上气", "won't stop bleeding") is kept: without it the pattern fails."""
    for neg in (*_NEGATION_ZH.finditer(evidence), *_NEGATION_EN.finditer(evidence)):
        if pattern.fullmatch(evidence[: neg.start()] + evidence[neg.end() :].lstrip(" ")):
            return True
    return False


# "at that time": the past only when the question names a past time it points back to ("前年心梗，当时胸口疼" is the
# past; "摔了，当时晕过去一下，现在一直吐" is an emergency today)
_THEN = re.compile(r"当时|那会儿|\bat the time\b", re.I)


def _historical(clause: str, end: int, text: str = "") -> bool:
    if _CURRENT.search(clause):  # "以前有心脏病现在胸口剧痛": the past cue belongs to something else
        return False
    if _THEN.search(clause) and _HISTORY.search(text):
        return True
    return bool(_HISTORY.search(clause) or _PAST_SUFFIX.match(clause[end : end + 2]))


# ---- what the words are about: intent frames -----------------------------------------------------------------
# The same intents the triage classifier weighs as features (informational, history, negation, now), here as
# frames around a red-flag mention: a sign that is asked about, learnt for, imagined, reported from the news or
# used as a figure of speech is not an emergency happening now. A cue that something is happening now
# (刚才, 正在, "right now", minutes ago) outweighs every frame.
_ACUTE = re.compile(
    r"刚才|刚刚|正在(?!(学|写|看|上课|准备|备考|读|做(作业|课件|方案)))|此刻|这会儿|这次|这回|赶紧|快来|救命|还没(停|醒|好|缓)|已经"
    r"|(分钟|个?小时)了|现在"
    + _NOW_AS_AGE
    + r"(?!.{0,6}(好|恢复|没事|正常|稳定|每|平时|偶尔|能|可以|想|需要|要不要|还有点|还有些|还会|仍|在(医院|康复|家|住院)))"
    r"|\b(now|right now|just now|at the moment)\b|\bminutes? ago\b|\b(an|one|two|three|\d+) hours? ago\b"
    r"|\bcall(ed)? (an ambulance|911|999|112|120)\b",
    re.I,
)
# "如果遇到有人触电", "what should you do if someone has a seizure": the sign is imagined
_HYPOTHETICAL = re.compile(
    r"如果|假如|假设|假設|假使|万一|萬一|(?<!主)要是|(?<!主)要係|一旦|\bwhat if\b|\bin case\b|\bif (someone|somebody|a person|anyone|a child|a baby|a kid|you|your)\b",
    re.I,
)
# someone else, imagined ("如果身边有人说想轻生，该怎么劝", "if a friend ever says they want to die"): a question about
# how to respond, not thoughts of self-harm now; unlike the asker's own "如果明天还这样我就去死", it discounts self-harm too
_HYPOTHETICAL_OTHER = re.compile(
    r"(如果|假如|假设|假設|假使|万一|萬一|(?<!主)要是|(?<!主)要係|一旦)(有一天|哪天|以后)?(遇到|碰到|发现|看到|听到)?"
    r"(身边|周围|朋友|同学|同事|别人|有人|家人|亲人|孩子|学生|对方|室友|某人)"
    r"|\bif (someone|somebody|a (friend|colleague|student|classmate|person|loved one)|anyone|a family member)\b",
    re.I,
)
# the asker in the same clause ("如果朋友走了我就去死"): the thoughts are the asker's own — not the asker told
# ("跟我说", "tells me")
_FIRST_PERSON = re.compile(r"(?<![跟和对给问找向诉让])(我|俺)|\b(i|i'm|i'll|i'd|myself)\b", re.I)
# learning first aid, writing about a disease, studying for an exam: the question is about knowing, not now (a
# class or an exam as the place where it happens, "上课时晕倒了", is not this)
_LEARNING = re.compile(
    r"提前(了解|学|准备)|学一下|学(习)?(急救|心肺复苏|海姆立克|CPR|AED)|急救(知识|技能|培训|课)|培训|(安全|急救|健康)课|课上(讲|学|说)"
    r"|讲座|考试(会|要|题|重点)|考证|急救员|科普|演练|备考|专业(的)?学生|写.{0,6}(文章|论文|稿)|说法"
    r"|\b(learn(ing)? (about|how|first aid|cpr)|training|first[- ]aid (class|course)|lecture|essay|article|for an exam|studying)\b",
    re.I,
)
# the sign is in a story, the news or hearsay, not in someone the asker is with ("看电视时嘴歪了" is not this)
_REPORTED = re.compile(
    r"新闻|报道|电视(里|上|剧)|电影(里|中)|小说|纪录片|视频(里|上|说|中)|看(了|到)?.{0,2}视频|网上(说|看)|听说|据说|书上|主角|关于"
    r"|热搜|朋友圈|群里|刷到|都在(传|转|说)|(抖音|微博|公众号|小红书)(上|里)"
    r"|\b(in|on) the news\b|\bnews (said|report)|\b(in|on) (a|the) (movie|film|show|video|tv)\b|\bon tv\b|\btv show\b"
    r"|新聞|報道|報導|電視(裡|裏|上|劇)|電影(裡|裏|中)|小說|紀錄片|聽講|據講|據說|聽說|網上(講|話|說|睇)"
    # a drama named by its channel or country ("睇TVB劇", "韩剧里"), now that Cantonese 暈低 is a sign
    r"|(TVB|港|韓|韩|日|美|泰|台|內地|内地|古裝|古装|宮廷|宫廷|醫療|医疗)(劇|剧)|(劇|剧)(集|入面|裡|裏|里|中)"
    # "I read that …" tells what was read; "…, which I read is a good sign" is the asker's own event, weighed
    r"|\b(documentary|novel|podcast|heard that|read that)\b|(?<!which )(?<!that )\bi read\b(?! (is|was|are|were|means|it'?s)\b)",
    re.I,
)
# a figure of speech: "气得吐血", "饿得快晕倒了", "I nearly had a heart attack", "想死你了". A cause that cannot
# bring on the sign is a figure of speech by itself; tiredness, hunger or fright only with "almost" (快, 要):
# "累得晕倒了" may well have happened
_FIGURATIVE_BEFORE = re.compile(
    r"(气|氣|激|嬲|谷|忟|烦|煩|笑|愁|尴尬|尷尬|丢人|丟人|无聊|無聊|开心|開心|高兴|高興|亏|虧|输|輸|蚀|蝕)[得到](快|要|快要|都要|简直|簡直)?$|(累|饿|困|忙|吓|激动)[得到](快|要|快要|都要|简直)$"
    r"|(差点|差一点|险些)$|\b(nearly|almost) (had|have|die|died|faint|fainted|pass|passed|gave|collapse|collapsed)\b.{0,12}$"
    r"|\b(gave|give|giving) (me|him|her|us) an?\s*$",
    re.I,
)
# a sign that comes and goes ("经常胸闷气短", "一到冬天就喘不上气", "when I run"): a complaint for a clinic, unless
# this time is said to be different (这次, 刚才). How long a disease has lasted (多年, 慢性) is not this: "糖尿病多年
# 今天叫不醒" is an emergency
_RECURRENT = re.compile(
    # 有时候 / 偶尔 are the Chinese of "sometimes" / "occasionally" (eighteenth session: "有时候感觉整个人都喘不过气来了")
    r"经常|老是|总是|时常|常常|时不时|反复|每次|每到|一到.{0,6}就|平时|有(的)?时(候)?|偶尔"
    r"|\b(often|sometimes|occasionally|every (time|day|night|morning|evening|week|month|winter|summer)|whenever)\b"
    r"|\bwhen i (run|exercise|walk|climb|work out)\b",
    re.I,
)
_HAPPENED = re.compile(r"^.{0,2}了")  # "晕倒了", "抽起来了": the sign has happened, not only been read about
_MISS_YOU = re.compile(r"^(你|您|他|她|我|咱)们?(了|啦)")  # "想死你了": missing someone


# a sign feared, not had: "老妈患了高血压特别怕出外的时候突然晕倒" (a fear of what may come). Not a worry about what is
# there ("担心是中风了", "怕他已经休克"): nothing between the fear and the sign may place it now or name it
_FEARED = re.compile(r"(?<![不别没])(害怕|生怕|就怕|最怕|特别怕|怕|担心)(?P<gap>[^，,。？?！!；;]{0,14})$")
_FEAR_PLACED = re.compile(r"是|已经|了|正在|刚|还在")


def _feared(clause: str, start: int) -> bool:
    """The sign at `start` is what the clause says someone fears may happen."""
    m = _FEARED.search(clause[:start])
    return bool(m) and not _FEAR_PLACED.search(m.group("gap"))


def _figurative(clause: str, start: int, end: int) -> bool:
    before = clause[max(0, start - 30) : start]
    return bool(_FIGURATIVE_BEFORE.search(before) or (clause[end - 1] == "死" and _MISS_YOU.match(clause[end:])))


def _framed(clause: str, imagined_counts: bool = True, recurrent_counts: bool = True) -> bool:
    """The clause imagines, reports, asks about a sign in general or describes it as one that comes and goes, and
    does not say it is happening now."""
    if _ACUTE.search(clause):
        return False
    if imagined_counts and (_HYPOTHETICAL.search(clause) or _REPORTED.search(clause)):
        return True
    if _HYPOTHETICAL_OTHER.search(clause) and not _FIRST_PERSON.search(clause):
        return True
    if imagined_counts and recurrent_counts and _RECURRENT.search(clause):
        return True
    return bool(_GENERAL.search(clause)) and not _SOMEONE_NOW.search(clause)


# living with what an event left behind: "我妈中风后遗症，说话不清楚，能做什么康复" (the event is in the past). Not
# "出院" or "术后": a complication after an operation or a discharge is an emergency of its own
_AFTERMATH = re.compile(r"后遗症|康复|复健|恢复期|恢复训练|\brehab(ilitation)?\b|\brecover(y|ing)? from\b", re.I)
# an onset today outweighs a frame that spans the whole question (not one clause: "如果突然晕倒怎么办" is imagined)
_ONSET = re.compile(r"突然|又|今天|今早|今晚|\b(suddenly|again|today|tonight)\b", re.I)


# a past episode told as a story: a time that points back ("前几天", "去年那次", "有一次") before the sign, and after it
# the episode was seen to ("带到医院检查之后诊断是癫痫", "后来说是癫痫"), with no word anywhere that it is happening now
# or again now — real patients' questions often open with how an illness began ("前几天突然倒地抽搐，口吐白沫，
# 送医院诊断是癫痫，怎么治？"). Without the later visit the story may still be going on ("前几天开始胸口疼，出冷汗"): it
# counts. Thoughts of self-harm are left to their own frames (see red_flags)
_STORY_PAST = re.compile(
    r"前(几|两|一|些)(天|日)|(\d+|[一二两三四五六七八九十几]+)\s*(天|日|年|个月|周|星期)(之)?前|前段时间|上(个)?(周|星期|月)"
    r"|半(年|个?月)(之)?前|上(个)?周末|去年|前年|以前|那次|那一次|有一次|有过|几年前|小时候|当年|那时|那会儿|曾经|上回|昨天|前天"
    # a birth is a time that points back when the question is about what came after it ("生孩子的时候大出血…现在孩子三岁了")
    r"|(生孩子|生产|分娩|剖腹产|剖宫产|顺产|坐月子)(的)?(时候|时|那会儿|那次)"
    r"|\b(last (week|month|year)|\d+ (days|weeks|months|years) ago|a few (days|weeks) ago|once)\b",
    re.I,
)
_SEEN_AFTER = re.compile(
    r"诊断|确诊|查出|检查(出|发现|之后|后|说|结果)|(医生|大夫)(说|告诉)|后来(才)?(说|知道|知晓|发现|查)|后来.{0,4}(医生|医院)|送(去|到)?(了)?医院|住院"
    # treated and over: a stay, a rescue, a transfusion, a cure ("在医院住了一个多月", "被抢救过来", "输了好多血…后来保住了")
    r"|(在)?医院(里)?住了|出院|抢救|救(过来|回来)|保住了|治好|输了?.{0,6}血|打了?\s*120|叫了?救护车|(医院|医生).{0,12}说是"
    r"|\b(diagnosed|turned out|the doctor said|was admitted)\b",
    re.I,
)
# the hurry that took someone to hospital, told with what the hospital found ("赶紧把他送去医院被诊断了癫痫", "赶忙把他
# 送去医院，检查结果…"), is part of the story, not a word of now (赶紧 is one of _ACUTE's); "要不要赶紧送医院" still is
_HURRIED_VISIT = re.compile(r"(赶紧|赶忙|急忙|连忙)(?=(把.{0,6})?送.{0,14}(诊断|确诊|查出|检查|结果|医生说|被))")
# after the visit, words of now are the question's time ("后来在医院住了一个多月，现在右手还不太灵活", "后来保住了，现在孩
# 子都三岁了"), not the episode's; but an onset, a worsening or an episode going on after it is now
_NOW_AFTER_THE_STORY = re.compile(
    r"刚才|刚刚|正在(?!(学|写|看|上课|准备|备考|读))|此刻|这会儿|这次|这回|还在|还没(停|醒|好|缓)|又|突然|再次|今天|今早|今晚"
    r"|越来越|加重|更(加)?(严重|厉害)|恶化|救命|快来|赶紧|赶快|马上|(分钟|个?小时)了"
    r"|\b(right now|just now|again|suddenly|today|tonight|worse|minutes? ago|hours? ago|call(ed)? (an ambulance|911|999|112|120))\b",
    re.I,
)


def _story_text(text: str) -> str:
    """The text with the hurries that were visits blanked out (same length: the offsets stay)."""
    return _HURRIED_VISIT.sub(lambda m: " " * len(m.group()), text)


def _over_by_the_question(text: str, start: int) -> bool:
    """From `start` on, the text has a visit or diagnosis with no word of now before the last one and no onset,
    worsening or sign after it."""
    text = _story_text(text)
    seen = [m for m in _SEEN_AFTER.finditer(text) if m.start() >= start]
    if not seen:
        return False
    before, after = text[: seen[-1].start()], text[seen[-1].end() :]
    # "已经过了溶栓时间": inside a story told from a past time, 已经 is relative to that time
    before = before.replace("已经", "")
    if _ACUTE.search(before) or _CURRENT.search(before) or _NOW_AFTER_THE_STORY.search(after):
        return False
    # a sign after the visit is now; a diagnosis named in the question ("心肌梗塞能活多久") is not a sign
    return not any(primary.search(after) for category, primary, _companion in _COMPILED if category != "heart_attack")


def told_as_past(text: str, evidence: str) -> bool:
    """The sign is part of a past episode told as a story: a past time before it, the visit or diagnosis after it,
    and nothing says it is happening now (a word of now after the visit is the question's own time)."""
    at = text.find(evidence)
    if at < 0 or not _STORY_PAST.search(text[:at]):
        return False
    return _over_by_the_question(text, at + len(evidence))


# an episode of a chronic condition the person is said to have, told with no word of now: "我是癫痫病人，这个病已经
# 有7年了…癫痫发作怎么治疗", "朋友患十多年的癫痫，复发时神志不清，口吐白沫，四肢抽搐…怎么办才好", "爷爷的哮喘越来越
# 严重…冷空气过敏哮喘怎么办". Real patients' questions name the condition and then tell its signs as what it does; the
# question is how to live with it. Only the signs that are that condition's own episodes are discounted (a seizure or
# a faint in epilepsy, breathlessness in asthma or chronic bronchitis), and a word of now keeps them: "癫痫病有二十年了，
# 现在突然犯病了，不省人事" and "有哮喘，这次喷了三次还是喘不上气" are emergencies. The condition must be one the person
# has ("有癫痫", "癫痫患者", "确诊癫痫"), not one asked about ("是癫痫吗", "癫痫还是缺钙")
_EPILEPSY = r"(癫痫|羊癫疯|羊角风|母猪疯)"
_CHRONIC_CHEST = r"(哮喘|支气管炎|慢阻肺|肺气肿|喘息性)"
_HAS = r"(有|患|患上|患有|得了|得过|得的|确诊|诊断(为|是|出)?|查出(来)?(是)?|是个)"
_NOT_SURE = r"(?!.{0,3}(可能|怀疑|像|是不是|会不会))"  # "有可能是母猪疯", "怀疑是哮喘": not a condition one has
_CONDITION_HELD = {
    "epilepsy": re.compile(
        rf"{_HAS}{_NOT_SURE}.{{0,6}}{_EPILEPSY}|{_EPILEPSY}(病)?(的)?(患者|病人|病史|史|毛病|多年|有.{{0,6}}年|已经|一直|复发|病发|又)"
        r"|\bepilep(tic|sy (for|since))\b",
        re.I,
    ),
    "chest": re.compile(
        rf"{_HAS}{_NOT_SURE}.{{0,8}}{_CHRONIC_CHEST}|{_CHRONIC_CHEST}(病)?(的)?(患者|病人|病史|史|毛病|多年|有.{{0,6}}年|已经|一直|越来越|复发|又)"
        r"|\b(have|has|with) (asthma|copd|chronic bronchitis)\b",
        re.I,
    ),
}
_EPISODE_OF = {"seizure": "epilepsy", "unconscious": "epilepsy", "head_injury": "epilepsy", "breathing": "chest"}
# how long the condition has lasted is not a word of now ("这个病已经有7年了"); how long this episode has lasted is
# ("抽了二十分钟", "持续了半个小时"), and so is an episode still going on ("还在抽", "抽个不停", "叫不醒", "still") or
# graver than the condition's usual ones ("平时有慢阻肺，但是从来没这么严重过", "嘴唇发紫", "喷了药也不管用")
_CONDITION_LASTED = re.compile(r"已经(有|患|得了|患病)?.{0,6}(年|个月)")
_EPISODE_NOW = re.compile(
    r"([\d一二两三四五六七八九十几半]+)\s*(多)?(分钟|分多钟|个?小时|个?钟头)|还在|叫不醒|醒不过来|没(有)?反应了|抽.{0,2}不停|停不下来"
    r"|从(来)?(没|未)(有)?(这么|这样|如此)|比(平时|以前|往常|以往)|嘴唇.{0,3}(发紫|青紫|发青)|话都说不"
    r"|(喷|吸|用)了.{0,8}(还是|也|都)(不|没|喘)|\bnever (been )?(this|so) bad\b|\b(\d+|a few|several) (minutes|hours)\b|\bstill\b",
    re.I,
)


def episode_of_known_condition(text: str, category: str) -> bool:
    """The sign is an episode of a chronic condition the person is said to have, and nothing in the question says it
    is happening now."""
    condition = _EPISODE_OF.get(category)
    if condition is None or _now_in_episode(text):
        return False
    return bool(_CONDITION_HELD[condition].search(text))


# 已经 before a check or a diagnosis done is over, not now ("已经仔细检查过了", "已经确诊了")
_ALREADY_SEEN = re.compile(r"已经.{0,4}(检查|看过|确诊|诊断)")


def _now_in_episode(text: str) -> bool:
    rest = _ALREADY_SEEN.sub("", _CONDITION_LASTED.sub("", text))
    return bool(_ACUTE.search(rest) or _CURRENT.search(rest) or _EPISODE_NOW.search(rest))


# an episode named as the topic of the question, not told as happening: "癫痫发作会出大量汗吗", "癫痫发作如何解决",
# "心脏病发作时吃什么药" (with no word of now: "我老公癫痫发作了" and "今天又癫痫发作，怎么办" stay signs)
_ASKED_ABOUT = re.compile(r"^(怎么|怎样|如何|会|时|的时候|吗|就|要|该|有|期间|后|前|的|应|能|可以|是|频率|次数|频繁)")


# any sign asked about for what it leads to ("高血压昏倒会怎么样", "中风会有什么后果"): a question about consequences,
# not one told as happening (with no word of now in the question; "昏倒了会怎么样" tells it happened)
_CONSEQUENCE_ASKED = re.compile(r"^(会|会有|有)(怎么样|怎样|什么(样的)?(后果|危险|影响|后遗症))")


# an episode as the object of what is asked about ("海鲜会影响癫痫发作吗", "什么会诱发癫痫发作", "怎样减少癫痫发作")
_EPISODE_AS_OBJECT = re.compile(r"(影响|诱发|引起|引发|导致|预防|控制|减少|避免|防止)(了)?$")


def episode_asked_about(text: str, evidence: str) -> bool:
    """The sign is an episode ("…发作") named as what the question asks about, or any sign asked about for its
    consequences, with no word of now in it."""
    at = text.find(evidence)
    if at < 0:
        return False
    after = text[at + len(evidence) :]
    asked = (
        evidence.endswith("发作")
        and (_ASKED_ABOUT.match(after) or _EPISODE_AS_OBJECT.search(text[max(0, at - 6) : at]))
    ) or _CONSEQUENCE_ASKED.match(after)
    # "今天…突然手脚抽动…医生说我这是以前脑外伤的后遗症，癫痫发作怎么办": today's episode was seen to, so the question's
    # own episode is asked about even with a word of now before the visit
    return bool(asked) and (not _now_in_episode(text) or seen_to(text))


def story_of_the_past(text: str) -> bool:
    """The whole question tells a past episode as a story (a past time, then a visit or diagnosis, and no emergency
    sign, onset or worsening after the last one) with no word of now before it: the story frame of `told_as_past`,
    for a signal that has no words to place (the classifier)."""
    past = _STORY_PAST.search(text)
    return bool(past) and _over_by_the_question(text, past.end())


# an episode already seen to: a sign, then a doctor's or a hospital's word on it, or the person already taken to or
# treated in hospital ("在吃晚饭的时候突然手脚抽搐…送他去医院，医生说他患癫痫病，哪家医院最好", "同桌今天上课时突然晕倒…
# 后来才知道她是患了癫痫病，发作前有什么预兆", "已经送往医院…这是癫痫病吗", "现在正在救治中，要注意什么"): the call for an
# ambulance has been answered, whenever the episode was (today too), and the question is about what was found. Real
# patients' questions tell it this way (seventeenth session: 14 of 84 false banners on 2,600 real questions). Not a
# diagnosis still open ("医院说有可能是母猪疯"), a visit still to come ("要不要送医院", "想尽快送去医治") or a relative's
# guess ("亲戚都说是癫痫"), and never with a word of now, an onset, an episode going on or a sign after it
_SEEN_TO = re.compile(
    r"(医生|大夫|医院)(说|告诉|诊断|确诊)|诊断(为|是|出)|确诊(为|是|了)|查出(来)?(是|了)|检查(出|发现|结果|获知|得知|才)"
    r"|(后来|然后|才|结果)(才)?(知道|知晓|获知|得知)|已经送(往|到|去|进)?.{0,4}医院|送(他|她|我|孩子|去|到|往|进)+.{0,4}医院"
    r"|(现在|目前)?(正在|还在)?(医院)?(救治|治疗)中|住院|住进(了)?医院|(救护车|120).{0,4}(送|带|拉|接)(到|去|进)?(了)?医院"
    r"|带(他|她|我|孩子)?(到|去)(了)?医院(检查|看)|\b(diagnosed|turned out|the doctor said|was admitted)\b",
    re.I,
)
_VISIT_TO_COME = re.compile(
    r"(要|想|该|需|准备|打算|马上|立即|立刻|赶紧|赶快|快|能|可以|是否|还是|应当|应该)[^，,。？?]{0,4}$"
)
_STILL_OPEN = re.compile(r"^[^，,。？?]{0,4}(可能|怀疑|像是|好像|好象|不确定|不知道|不知晓|不清楚)")
_NOW_BEFORE_THE_VISIT = re.compile(
    r"刚才|刚刚|此刻|这会儿|还在|还没(停|醒|好|缓)|叫不醒|醒不过来|救命|快来|(分钟|个?小时)了|\b(right now|just now)\b",
    re.I,
)


def seen_to(text: str, start: int = 0) -> bool:
    """From `start` on, the text tells the episode seen to (a doctor's word, a diagnosis, a hospital stay or the person
    taken there) with nothing after it that is now, an onset, an episode going on or a sign, and no open diagnosis."""
    text = _story_text(text)
    seen = [
        m
        for m in _SEEN_TO.finditer(text)
        if m.start() >= start and not _VISIT_TO_COME.search(text[max(0, m.start() - 8) : m.start()])
    ]
    if not seen:
        return False
    before, after = text[: seen[-1].start()], text[seen[-1].end() :]
    if _STILL_OPEN.match(after) or _NOW_BEFORE_THE_VISIT.search(before):
        return False
    if _NOW_AFTER_THE_STORY.search(after) or _EPISODE_NOW.search(after):
        return False
    # a sign after the visit is now, unless the rules read it as asked about ("癫痫发作前有什么预兆"): the rules on the rest
    return not red_flags(after)


# a long-standing condition the person has, asked about with no word of now: "我爷爷患糖尿病打胰岛素后皮肤有硬块应当怎么样
# 消除", "我的姑妈她有高血压，一直说她头疼，怎么办", "患胃病两年多…胃胀，左腹部上方胀痛", "大姐三个月前得的癫痫病，一直在
# 治疗…哪家医院能治". Real patients name the condition and ask how to live with it; the classifier reads its words as the
# emergencies they can lead to (a hypertensive stroke, a diabetic's hypoglycaemia, an acute abdomen). For a classifier hit
# only, and only when the rules find no sign now: a new symptom today, an onset, a worsening or an episode going on
# ("我爸有高血压，今天突然说话不清", "糖尿病十年，叫不醒") keeps it
_LONG_STANDING = (
    r"(高血压|高血|糖尿病|胃病|胃炎|肠胃|胃溃疡|乙肝|丙肝|大三阳|小三阳|肝病|肝硬化|脂肪肝|癫痫|羊癫疯|冠心病|心脏病|痛风|哮喘"
    r"|慢阻肺|支气管炎|肾病|肾炎|甲亢|类风湿|风湿)"
)
_CONDITION_HAD = re.compile(
    rf"(一直|一向|向来|长期|常年|多年|平时|本来)(都|就)?(有|患|患有|是)?.{{0,3}}{_LONG_STANDING}"
    rf"|{_HAS}{_NOT_SURE}.{{0,4}}{_LONG_STANDING}|{_LONG_STANDING}(病)?(的)?(患者|病人|病史|多年|晚期|.{{0,3}}(\d+|[一二两三四五六七八九十几]+)(多)?(个)?(年|月))"
)
# a worsening, an episode that will not stop, or a new symptom of these days ("这两天吐个不停", "今日午后突发上腹剧痛")
_WORSE_NOW = re.compile(
    r"越来越|加重|恶化|更(加)?(严重|厉害)|从来没|从未|比(平时|以前|往常)|又(开始|发作|犯)|复发|犯了|不停|不止|止不住"
    r"|今日|突发|这(两|几|三)天|近(两|几|三)天|最近|近来"
)


def condition_had_and_asked(text: str) -> bool:
    """A long-standing condition the person has, told with no word of now, no onset, no worsening and no sign the
    rules read as now (for a classifier hit)."""
    if not _CONDITION_HAD.search(text):
        return False
    # 已经 places the condition ("已经到了糖尿病晚期", "已经变作了脂肪肝"), not an episode: an episode now is told by its
    # minutes, its going on or a word of now (_EPISODE_NOW, _ACUTE's others)
    rest = _CONDITION_LASTED.sub("", text).replace("已经", "")
    if _now_in_episode(rest) or _ONSET_NOW.search(rest) or _WORSE_NOW.search(rest):
        return False
    return not red_flags(text)


# an everyday stomach complaint and nothing graver: bloating, belching, rumbling, wind, no appetite, heartburn, bad
# breath ("胃胀，胃疼还打嗝", "近三天一直肚子发胀，总打嗝，没胃口", "饭后胃胀嗳气多"). The classifier reads a stomach
# described at length as an acute abdomen (15 of the 64 false banners left on 2,600 real questions, seventeenth session);
# an acute abdomen is told by its severity (剧痛, 直不起腰, 打滚, 硬得像木板, 按下去松手更疼, hours of it, a fever, repeated
# vomiting, blood, a faint, a cold sweat, pregnancy), and any such word, or any sign the rules read as now, keeps the hit;
# rumbling counts only in the belly (a drunk friend's throat "咕噜咕噜" is an airway), and unresponsiveness, drink or
# anything swallowed keeps it too
_DYSPEPSIA = re.compile(
    r"胃胀|胀气|打嗝|嗳气|隔气|嗝气|(肚子|胃|肠).{0,4}咕噜|放屁|屁多|排气|没(有)?胃口|没(什么)?食欲|不消化|消化不良|口臭|烧心|反酸|吐酸水|不(感觉)?饿|胃火"
)
_GRAVER_THAN_DYSPEPSIA = re.compile(
    r"剧痛|剧烈|绞痛|撕裂|直不起|弯着腰|打滚|硬(邦邦|得|如|的)|木板|松手|反跳|碰都不|不敢(动|翻身|碰)|发烧|发热|高烧|低烧|体温"
    r"|\d{2}(\.\d)?\s*(度|℃)|吐了.{0,3}次|吐个不停|一直吐|喷射|血|黑便|便.{0,6}黑|黑色.{0,2}便|柏油|晕|冷汗|虚汗|大汗|出汗|胸|心口|气短|喘|呼吸"
    r"|怀孕|怀上|孕|停经|月经推迟|(个)?小时|越来越|加重|难以忍受|受不了|忍不了|疼得|痛得|黄疸|发黄|腹水|糖尿病|心脏"
    r"|叫.{0,3}不(应|醒|答)|没(有)?反应|昏迷|意识|喉咙|呼噜|喝(多|醉)|吞|误食|中毒",
)


def everyday_stomach(text: str) -> bool:
    """An everyday stomach complaint (bloating, belching, wind, no appetite) with no word of an acute abdomen's
    severity, no bleeding, fever, faint or pregnancy, and no sign the rules read as now (for a classifier hit)."""
    if not _DYSPEPSIA.search(text) or _GRAVER_THAN_DYSPEPSIA.search(text):
        return False
    return not red_flags(text)


# a reading asked about: whether a blood pressure or a sugar is normal or is the condition ("高压160，低压90，算高血压吗",
# "空腹血糖7.7是糖尿病吗", "高压130低压90是高血压吗"). A screening question, unless the reading is a crisis (a pressure of
# 180 or more, a sugar of 16.7 or more or under 4) or the rules read a sign now
_READING_ASKED = re.compile(
    r"(算|是)(不是)?(高血压|低血压|糖尿病|高血糖|低血糖)(吗|么|呢|啊)|(正常|偏高|高|严重)(吗|么|不)|算高吗|\bis (this|that) (normal|high)\b",
    re.I,
)
_READING = re.compile(r"(\d+(\.\d+)?)")
_PRESSURE_OR_SUGAR = re.compile(r"血压|高压|低压|收缩压|舒张压|血糖|\b(blood pressure|bp|sugar|glucose)\b", re.I)


def _pressure_pair(number: str) -> list[float]:
    """A reading; five or six digits typed run together are a pressure pair ("16090" is 160/90, "230130" 230/130)."""
    if number.isdigit() and len(number) in (5, 6):
        return [float(number[:3]), float(number[3:])]
    return [float(number)]


def reading_asked(text: str) -> bool:
    """A blood pressure or sugar reading asked about (normal? the condition?), no crisis value and no sign now (for a
    classifier hit)."""
    if not (_READING_ASKED.search(text) and _PRESSURE_OR_SUGAR.search(text)):
        return False
    values = [v for m in _READING.finditer(text) for v in _pressure_pair(m.group(1))]
    sugar = "血糖" in text or re.search(r"sugar|glucose", text, re.I)
    if any(v >= 180 for v in values) or (sugar and any(16.7 <= v < 60 or 0 < v < 4 for v in values)):
        return False
    return not red_flags(text)


# an episode that is over and minor, told with its degree (the kinds where the degree decides: a cut or nosebleed,
# a splash burn, a mouthful brought up, a second of dizziness): "鼻子出血了，捏了五分钟就止住了", "被开水溅到手背，红了
# 一小块，没起泡", "one loose stool this morning, otherwise fine". The bleeding stopped and a burn without a blister
# are the degree themselves; a small amount ("一口", "2 seconds") counts with the person said to be well. Never when
# the question holds a sign of a kind where an episode that passed is still an emergency (a stroke that went away,
# chest pain, a head injury, pregnancy, anything swallowed, a faint or shock) or one of a worse degree
_STOPPED = re.compile(
    r"(?<!不)止住|不(再)?流(血)?了|(then|and|had) stopped|stopped (bleeding|on (its|it's) own)|bleeding (has )?stopped"
    # "a nosebleed…, pinched my nose for 10 min and it stopped": "it" is the bleeding only when bleeding was told
    r"|\b(bleed|blood|nosebleed)\w*\b.{0,80}\b(and|then) it( has| had)? stopped\b"
    r"|缓过来|就停了|(就|已经|已經|都)?(停咗|停左|止咗|止左)|(冇|沒|没|无|無)(有)?再(流|出血|滴)|\bno more (since|after)\b|\bhasn'?t (bled|come back) since\b"
    r"|\bthen fine\b",
    re.I,
)
_SMALL_DEGREE = re.compile(r"没(有)?起(水)?泡|没(有)?(水)?泡|一小块|一小片|\bno blisters?\b", re.I)
_SMALL_AMOUNT = re.compile(
    r"一口|一颗|一点(点)?血|就一次|一次稀|(\d|一|两|几)\s*秒|\bone loose stool\b|\b(a |\d )?(couple|few) (of )?seconds\b"
    r"|\b\d+ seconds\b|\bnicked\b",
    re.I,
)
_WELL_NOW = re.compile(
    r"人好好的|精神(很好|挺好|好得很|不错|还行|也好)|没(有)?什么不舒服|没有不舒服|啥事没有|没事了|(吃饭|吃喝|喝水|玩).{0,4}都正常|一切正常"
    r"|\b(otherwise fine|then fine|feels? fine)\b",
    re.I,
)
_NOT_BY_DEGREE = re.compile(
    r"孕|胸|心口|头(痛|疼)|说话|嘴(歪|角)|半边|麻|无力|没力|看不(见|清)|睾丸|蛋蛋"  # chest, stroke, vision, testicle
    r"|吞|误(吃|服|喝|食)|(吃|服|喝).{0,8}药|药.{0,4}(吃|服)|电池|磁|农药|消毒|洗洁精|漂白|清洁剂|洗衣(液|粉|凝珠)|杀虫|老鼠药"
    r"|酒|煤气|一氧化碳"  # swallowed or breathed in
    r"|(摔|撞|磕|砸).{0,4}头|头.{0,3}(摔|撞|磕|砸)|想睡|犯困|嗜睡|喊困|瞳孔|呕吐|一直吐|吐了.{0,2}[两三四五六七八九十几\d]+\s*(次|回)"
    r"|叫不醒|昏|晕|抽|呼吸|喘|发紫|心慌|冷汗|苍白|发黑|黑便|便血|吐血|呕血|咳血|发烧|发热|高烧|烫|电"  # a faint, shock, fever
    r"|止不住|(止住|停).{0,12}(?<![冇没沒无無不未有])(又|再)|还在(流|渗|出)|大面积|一大片|大量|一大滩"  # a worse degree
    r"|\b(pregnan|chest|headache|numb|weak|slur|swallow|pill|batter|bleach|detergent|chemical|faint|pass(ed)? out|dizz"
    r"|breath|pale|sweat|black|head|drows|sleepy|vomit|won'?t stop|still bleeding|again|seiz|convuls|wake|unresponsive)\w*",
    re.I,
)


def over_and_minor(text: str) -> bool:
    """The episode is over and of a small degree (stopped bleeding, no blister, a mouthful or seconds with the person
    well), and the question names no sign whose passing does not make it minor."""
    if _NOT_BY_DEGREE.search(text):
        return False
    small = _SMALL_AMOUNT.search(text) and _WELL_NOW.search(text)
    return bool(_STOPPED.search(text) or _SMALL_DEGREE.search(text) or small)


# a seizure or a faint days ago that passed, the person back to normal, asked about afterwards ("前几天在家看电视的时候
# 突然口吐白沫了，但是不久之后又没什么异常…儿童癫痫病的症状都有哪些", "前几天在地铁里突然有个男子倒地，口吐白沫，四肢
# 抽搐…不过大概一分多钟他又象正常人一样站了下来"): the episode is over and the question is for a visit, not an
# ambulance (eighteenth session: real patients' questions). Only a seizure or a faint (over_and_minor never frames
# them), only at a past day, only with the recovery told and nothing after it that is now, and never with a sign
# whose passing is still an emergency (a head knock: a lucid interval; chest pain; a stroke's signs; pregnancy;
# anything swallowed; blood) or with episodes repeated ("连续几天昏倒，口吐白沫" is an emergency)
_SEIZURE_OR_FAINT = re.compile(
    r"抽搐|抽筋|抽动|抽经|吐白沫|癫痫|羊癫疯|羊角风|晕倒|昏倒|倒地|晕厥|昏厥|不省人事|丧失(了)?意识"
)
_BACK_TO_NORMAL = re.compile(
    r"(又|就|便)?(没(有)?(什么|啥)?(异常|事)|一切正常|恢复(了)?正常|(象|像)(个)?正常人|醒(了|过来|来)|苏醒|纾醒|好了)"
)
_NOT_OVER_WHEN_PASSED = re.compile(
    r"孕|胸|心口|头(痛|疼)|说话|嘴(歪|角)|半边|麻|无力|没力|看不(见|清)|吞|误(吃|服|喝|食)|药|酒|煤气|一氧化碳|中毒"
    r"|(摔|撞|磕|砸|碰).{0,4}头|头.{0,3}(摔|撞|磕|砸|碰)|瞳孔|呕吐|吐了|一直吐|叫不醒|发紫|冷汗|血"
    r"|连续|反复|又(发作|犯|抽|晕|昏|倒)|再次|(每天|天天)(都)?(抽|晕|昏|倒|发作)|好几次|几次|频繁|一天.{0,3}次"
)


def seizure_over_days_ago(text: str) -> bool:
    """A seizure or a faint at a past day, the person back to normal after it, nothing now after that and no sign
    whose passing leaves an emergency."""
    past, episode = _STORY_PAST.search(text), _SEIZURE_OR_FAINT.search(text)
    if not (past and episode) or past.start() > episode.start() or _NOT_OVER_WHEN_PASSED.search(text):
        return False
    back = [m for m in _BACK_TO_NORMAL.finditer(text) if m.start() > episode.start()]
    if not back:
        return False
    after = text[back[-1].end() :]
    if _NOW_AFTER_THE_STORY.search(after) or _EPISODE_NOW.search(after) or _ACUTE.search(after):
        return False
    return not red_flags(after)


# how to tell one condition from another ("怎样分别孩子夜惊症还是癫痫", "如何区分癫痫和晕厥"): a question about signs in
# general, for a classifier hit with no word of now, no onset and no sign the rules read as now
_TELL_APART = re.compile(r"(怎样|怎么|如何|怎么样)(去)?(分别|区分|区别|鉴别|分辨|辨别|判断).{0,20}(还是|和|与|跟)")


def tell_apart_asked(text: str) -> bool:
    """The question asks how to tell two conditions apart, with nothing now (for a classifier hit)."""
    # 突然 describes the signs to tell apart ("总突然坐下"); a time of now (今天, 刚才) still keeps the hit
    if not _TELL_APART.search(text) or _now_in_episode(text) or _ONSET_NOW.search(text.replace("突然", "")):
        return False
    return not red_flags(text)


# an imagined or reported question ("要是半夜孩子突然高烧抽筋，是先打120还是自己开车送", "如果坐飞机的时候旁边的人突然晕倒了
# 可以帮忙吗", "我常想，要是哪天我一个人在家摔倒了爬不起来…", "新闻说有个小孩吞了一堆磁力珠…磁铁为啥这么危险"): the
# supposition or the report opens the question (a supposition in its first or second clause, a report in its first),
# no word of now anywhere, and no later clause tells something that has happened (了, an English past or progressive),
# an onset after a report ("新闻看到一半，我爸突然倒地抽搐" is where it happened, not what) or someone ("…，我爸胸口疼得
# 厉害") unless the asker asks what to do ("我能做什么", "can I help"). A report is told by someone: the news says, people
# pass it on
_TOLD_BY = re.compile(
    r"新闻(说|报道|里|上)|报道(说)?|据说|听说|网上(说|看)|(朋友圈|群里|热搜|微博|抖音).{0,4}(说|转|传)|都在(传|转|说)"
    r"|\b(news (said|says|report)|heard that|read that|in the news)\b",
    re.I,
)
_TOLD_NOW_EN = re.compile(r"\b(just|is|are|was|were|has|have|had|\w+ed|\w+ing)\b", re.I)
_ASKER_ACTS = re.compile(
    r"^(我|咱|我们|我哋)(能|该|該|要|可以|应该|應該|应当|應當|點|点)|\b(can|should|do|could) (i|we)\b", re.I
)


def imagined_question(text: str) -> bool:
    """The question opens with a supposition or a report and tells nothing that is happening or has happened."""
    if _ACUTE.search(text) or _CURRENT.search(text):
        return False
    clauses = _clauses(text)
    opening = [i for i, c in enumerate(clauses[:2]) if _HYPOTHETICAL.search(c)]
    if not opening and clauses and _TOLD_BY.search(clauses[0]):
        opening = [0]
        if any(_ONSET.search(c) for c in clauses[1:]):
            return False
    if not opening:
        return False
    return not any(
        "了" in c or _TOLD_NOW_EN.search(c) or (_SOMEONE_NOW.search(c) and not _ASKER_ACTS.search(c))
        for c in clauses[opening[0] + 1 :]
    )


# ---- frames where the one with the sign is not someone here now (fifteenth session) ---------------------------
# Each is weighed on the whole question and applied to rule hits (red_flags) and classifier hits (episode_not_now).
# None holds when the question tells an onset or a sign happening now to the asker or someone with them.
_ONSET_NOW = re.compile(
    r"刚才|刚刚|正在(?!(学|写|看|追|上课|准备|备考|读|做))|此刻|这会儿|突然|今天|今早|今晚|(分钟|个?小时)了|救命|赶紧|快来"
    r"|\b(right now|just now|suddenly|today|tonight|this (morning|afternoon|evening)|minutes? ago|hours? ago)\b"
    r"|\bcall(ed)? (an ambulance|911|999|112|120)\b",
    re.I,
)
# the family members a sign now may belong to, in Chinese (the frames below add the asker and others)
_KIN_ZH = r"孩子|宝宝|小孩|儿子|女儿|老公|老婆|丈夫|妻子|爸|妈|爷|奶|外公|外婆|姥|孙"
# the asker or someone close: the people a sign now would belong to
_CLOSE = re.compile(
    rf"我|俺|咱|{_KIN_ZH}|室友|同事|朋友"
    r"|\b(i|i'm|im|i've|my|me|we|our|us|son|daughter|husband|wife|baby|child|kid|toddler|mum|mom|dad|friend)\b",
    re.I,
)


def _signs_in(text: str) -> bool:
    """Any red-flag sign's words in text, whatever their frame."""
    return any(primary.search(text) for _category, primary, _companion in _COMPILED)


# a pet: the one with the sign is an animal ("我家猫刚才一头撞墙上了，要带去看兽医吗", "our hamster is breathing fast").
# Not a person bitten or scratched by one, and not when a person close to the asker is named (a child and the dog)
_ANIMAL = (
    r"猫|貓|狗|猫咪|貓咪|狗狗|宠物|寵物|仓鼠|倉鼠|兔子|鹦鹉|鸚鵡|金毛|泰迪|柯基|哈士奇|博美|比熊|布偶|英短|乌龟|烏龜|小鸟|小鳥"
    r"|\b(cat|cats|kitten|dog|dogs|puppy|pet|hamster|rabbit|bunny|parrot|guinea pig|ferret|budgie|tortoise)\b"
)
_PET = re.compile(
    rf"(我|我们|俺|咱)?(家|养)的?(小)?({_ANIMAL})|(我|我们|我哋|俺|咱)(的|嘅|隻|只|條|条)(小)?({_ANIMAL})|兽医|獸醫|宠物医院|\b(my|our|the) (\w+ )?({_ANIMAL})|\bvets?\b",
    re.I,
)
_BY_AN_ANIMAL = re.compile(
    rf"被.{{0,4}}({_ANIMAL}).{{0,4}}(咬|抓|挠|舔)|({_ANIMAL}).{{0,3}}(咬|抓)(了|伤|到)?(我|孩子|宝宝|他|她)|\b(bitten|scratched|bit me|bit my)\b",
    re.I,
)
_HUMAN_CLOSE = re.compile(
    _KIN_ZH + r"|\b(son|daughter|husband|wife|baby|child|kid|toddler|mum|mom|dad|grandma|grandpa)\b",
    re.I,
)


def about_an_animal(text: str) -> bool:
    """The question is about a pet's sign: an animal of the household or a vet, no person bitten, no relative named,
    and with the pet's own words ("我家狗", "my dog") set aside, no clause tells a sign or an onset of the asker
    ("带我家狗散步的时候我突然胸口剧痛")."""
    if not _PET.search(text) or _BY_AN_ANIMAL.search(text) or _HUMAN_CLOSE.search(text):
        return False
    rest = _PET.sub(" ", text)
    return not any(_CLOSE.search(c) and (_signs_in(c) or _ONSET_NOW.search(c)) for c in _clauses(rest))


# an exam or course question ("USMLE Step 2 题：young male, sudden testicular pain…", "NCLEX practice question: a
# client at 36 weeks…"): a case written to be answered, not someone now. Not when an onset now is told beside it
_EXAM = re.compile(
    r"USMLE|NCLEX|COMLEX|PLAB|\bstep [123]\b|board exam|practice question|exam question|\bquiz\b|\bvignette\b|\bmcq\b"
    r"|考题|真题|习题|选择题|练习题|病例分析题|执业(医师|护士|药师)(考试)?[：:]|护考|医考",
    re.I,
)


def exam_question(text: str) -> bool:
    """The question is an exam or course case, no onset now (the case's own 突然 is the case's) and no clause tells a
    sign of the asker or someone close."""
    if not _EXAM.search(text) or _ONSET_NOW.search(text.replace("突然", "")):
        return False
    return not any(_CLOSE.search(c) and _signs_in(c) for c in _clauses(text))


# a report of others (the news, a drama, what people pass on) that opens the question, with no onset now and no
# sign told of the asker or someone close: "刚看完新闻，说隔壁市一家三口烧炭取暖，一氧化碳中毒…我家的热水器会不会
# 也有风险", "最近在追一部医疗剧，里面天天都是跳楼、喝农药的病人…". "新闻看到一半，我爸突然倒地抽搐" is an onset
# now; "看了新闻，我也想跳楼" is a sign of the asker's
_REPORT_OPENS = re.compile(
    _REPORTED.pattern.replace("|关于", "")
    + r"|剧(里|中)|追.{0,4}剧|\b(my|a) (friend|sister|brother|colleague) (said|told me)\b",
    re.I,
)


def report_of_others(text: str) -> bool:
    """A report of others opens the question, no onset now, and no clause tells a sign of the asker or someone close
    or what is happening to them now ("听说最近很多人煤气中毒，我们全家现在头疼想吐")."""
    clauses = _clauses(text)
    if not clauses or not any(_REPORT_OPENS.search(c) for c in clauses[:2]) or _ONSET_NOW.search(text):
        return False
    return not any(_CLOSE.search(c) and (_signs_in(c) or _CURRENT.search(c)) for c in clauses)


# family history: a relative's past event told to ask about the asker's own risk ("我妈妈四十多岁的时候突发心梗走了…
# 我是不是要更早开始吃他汀", "my sister had a really bad post partum haemorrhage with her first… does that make it
# more likely for me"). The relative's clauses hold the sign and a past (died, had, at an age, with her first); the
# other clauses hold no sign and no onset now, and one asks about the asker's risk, screening or inheritance
_RELATIVE = re.compile(
    r"(我|我的)?(妈|爸|母亲|父亲|爷爷|奶奶|外公|外婆|姥姥|姥爷|舅|姨|叔|伯|姑|哥|姐|弟|妹|家里人|亲戚|家人)"
    r"|\b(my )?(mother|father|mum|mom|dad|grandmother|grandfather|grandma|grandpa|aunt|uncle|sister|brother|cousin"
    r"|relative|parents?)\b",
    re.I,
)
_RELATIVE_PAST = re.compile(
    r"走了|走的|去世|过世|過世|死于|死於|病逝|没了|没救|死了|死的|得过|有过|(\d+|[一二三四五六七八九十几]+)(多)?岁(的时候|时|那年)|那年|当年|年轻(的)?时|生.{0,4}(的时候|时)"
    r"|\b(died|passed away|had|was diagnosed|with (her|his) first|when (she|he) was|at (\d+|age))\b",
    re.I,
)
_OWN_RISK = re.compile(
    r"家族|遗传|风险|几率|概率|筛查|会不会也|也会不会|是不是也|更早|更容易|预防"
    r"|(我|自己)(会不会|是不是|要不要|需不需要|需要|应该|應該|应不应该|该不该|也)"
    # what to start doing about it: a medicine, a check ("需要吃药吗", "要不要提前查")
    r"|(需要|需不需要|要不要|该不该|應該|应该)(现在|現在|早点|早點|提前)?(就)?(开始|開始)?(吃|食|查|做|检查|檢查|筛查|篩查)"
    r"|\b(risk|likely|likelihood|screen(ed|ing)?|hereditary|genetic|inherit|run(s)? in|family history|chances?|for me|me too"
    r"|am i|will i|should i get)\b",
    re.I,
)


_RELATIVE_AGAIN = re.compile(r"又|再次|\bagain\b", re.I)


def family_history(text: str) -> bool:
    """A relative's past event told to ask about the asker's own risk, with no sign or onset now outside it."""
    clauses = _clauses(text)
    relative = [c for c in clauses if _RELATIVE.search(c)]
    if not relative or not any(_RELATIVE_PAST.search(c) for c in relative) or not _OWN_RISK.search(text):
        return False
    rest = [c for c in clauses if not _RELATIVE.search(c)]
    # the relative's own now ("my dad had a heart attack last year and now he has chest pain again") is not history
    relative_now = any(_CURRENT.search(c) or _RELATIVE_AGAIN.search(c) for c in relative)
    return not (_ONSET_NOW.search(text) or relative_now or any(_signs_in(c) for c in rest))


# reading about danger signs with everything normal ("网上看了很多孕期危险信号的帖子，什么胎动减少、见红…目前产检一切
# 正常", "I've been reading about warning signs… everything is normal so far"): the signs are a list read, not told
_READ_ABOUT = re.compile(
    r"(看|读|讀|查|刷)(了|咗|到)?.{0,10}(帖子|文章|科普|资料|資料|攻略|书|書)|(危险|危險|警示|报警|警告)(信号|信號|征兆|徵兆|症状|症狀)"
    r"|\b(read(ing)?|looked up|googl\w*)\b.{0,30}\b(about|posts?|articles?|forums?|online)\b|\b(danger|warning|red[- ]flag) (signs|symptoms)\b",
    re.I,
)
_ALL_NORMAL = re.compile(
    r"一切正常|都(很)?正常|都好|没有(任何)?(异常|問題|问题)|冇(异常|問題)|\beverything('s| is| has been| was)? (normal|fine|good|ok)\b|\ball (normal|fine|good)\b|\bno problems\b",
    re.I,
)


def reading_about_signs(text: str) -> bool:
    """Danger signs read about (posts, articles, a list of warning signs) with everything said to be normal, no onset
    now."""
    return bool(_READ_ABOUT.search(text) and _ALL_NORMAL.search(text)) and not _ONSET_NOW.search(text)


def not_someone_here(text: str) -> bool:
    """The sign belongs to no one here now: a pet, an exam case, a report of others, a relative's past (family
    history), danger signs read about with everything normal."""
    return (
        about_an_animal(text)
        or exam_question(text)
        or report_of_others(text)
        or family_history(text)
        or reading_about_signs(text)
    )


# an extra dose of a usual medicine by mistake, of a small amount, with the person well: "多喂了大概2毫升…现在一切
# 正常", "降压药好像吃了两遍…量血压118/70，人好好的". Never for a count of pills in the tens, a bottle or a handful
# (an overdose told as "I feel fine" is still one: its danger comes later), a medicine swallowed by mistake (误吃)
# or any sign of harm
_EXTRA_DOSE = re.compile(
    r"多(喂|吃|服|给|打|用)了.{0,4}([半一两二三\d](\.\d)?)\s*(毫升|ml|片|粒|次|顿|遍|勺)|(吃|服|喂|给)(了)?两(遍|次)"
    r"|重复(吃|服|喂|用)|\b(double(d)? (dose|up)|extra (dose|\d+ ?ml)|twice by mistake|took (it|them|my \w+) twice)\b",
    re.I,
)
_LARGE_AMOUNT = re.compile(
    r"\d{2,}\s*(多)?(片|粒|颗)|[二三四五六七八九]十|几十|十几|一整瓶|整瓶|一瓶|半瓶|一把|一板|误(吃|服|喝|食|吞)"
    r"|\b(\d{2,}|twenty|thirty|forty|fifty) (pills|tablets|caps)|\bwhole (bottle|pack|box)|\bhandful\b",
    re.I,
)
_HARM_AFTER_DOSE = re.compile(
    r"嗜睡|想睡|犯困|叫不醒|昏|晕|抽|呼吸|喘|发紫|心慌|心跳(很|特别)?快|冷汗|呕吐|吐了|一直吐|瞳孔|没精神|蔫|软"
    r"|\b(drowsy|sleepy|vomit|faint|dizz|breath|pale|sweat|confus|floppy|limp)\w*",
    re.I,
)


def small_extra_dose(text: str) -> bool:
    """An extra dose of a small amount taken or given by mistake, the person well and no sign of harm."""
    if not (_EXTRA_DOSE.search(text) and _WELL_NOW.search(text)) or _LARGE_AMOUNT.search(text):
        return False
    return _current_match(_HARM_AFTER_DOSE, text) is None


# ---- frames for the false alarms fresh sets raise (sixteenth session) -------------------------------------------
# reassurance told in full: the danger signs of the kind named as absent and the person as usual ("never passed out,
# no vomiting, back to playing normally, ate her lunch"); three or more such statements and no danger word left
# once they are set aside
_REASSURING = re.compile(
    r"(没|没有|沒有|冇|未|无|無)(有)?(昏|晕|暈|吐|呕|嘔|抽|发烧|發燒|流血|出血|呼吸困难)\w{0,3}|(不|没|冇)(嗜睡|想睡|犯困|迷糊|糊涂)"
    r"|哭了.{0,4}(马上|立刻|一会儿|一下)|(马上|立刻|当场)(就)?哭|(玩|吃|喝|说话|走路|精神|胃口).{0,6}(正常|如常|跟平时一样|同平时一样|挺好|很好|都好)"
    r"|(吃|喝)(了|咗)?.{0,4}(饭|奶|东西|嘢)|照常|一切正常|有说有笑"
    r"|\b(never|didn'?t|did not|hasn'?t|has not|wasn'?t|was not|isn'?t|is not|no|not|without) (pass(ed)? out|lose consciousness|lost consciousness|knocked out|vomit\w*|throw\w* up|threw up|sick|sleepy|drowsy|confus\w*|seizures?|headache|dizzy)\b"
    r"|\bcried (straight away|right away|immediately|at once)\b|\b(back to|is|was|been|started|went back to) (playing|eating|chatting|talking|running|laughing|normal|her usual|his usual|herself|himself)\b"
    r"|\b(acting|playing|behaving|eating|talking|chatting|fed|feeding|feeds) (\w+ )?normal(ly)?\b|\bsettled (within|in|after|quickly|straight|down)\b"
    r"|\b(running|playing|bouncing|racing) (around|about|happily)\b|\b(eating|drinking|feeding|sleeping) (and (eating|drinking|feeding) )?(fine|well|normally|ok|okay|snacks|happily)\b"
    r"|活蹦乱跳|活蹦亂跳|能吃能喝|吃喝(都)?正常|跑来跑去|跑嚟跑去|玩得(好好|很开心|好開心)"
    r"|\b(totally|completely|just|seems?|quite|entirely) (like )?(herself|himself|her usual self|his usual self)\b|\bate (her|his|a|their) (lunch|dinner|breakfast|snack|food)\b",
    re.I,
)
_DANGER_LEFT = re.compile(
    r"嗜睡|想睡|犯困|叫不醒|昏|抽|呕吐|吐了|一直吐|不认人|糊涂|迷糊|瞳孔|耳朵.{0,4}(流|出)|鼻子.{0,4}流(水|清水)|越来越|加重"
    r"|\b(sleepy|drowsy|vomit\w*|confus\w*|seiz\w*|unequal|clear fluid|worse|worsening|won'?t wake)\b",
    re.I,
)


def reassured_in_full(text: str) -> bool:
    """Three or more reassuring statements (the danger signs absent, the person as usual) and no danger word or turn
    for the worse outside them."""
    # the event itself may be recent ("an hour ago"): the reassurance is about how the person is since
    return len(_REASSURING.findall(text)) >= 3 and not _DANGER_LEFT.search(_REASSURING.sub(" ", text))


# a bill, a claim or a cost asked about long after the event, the person recovered ("an ambulance ride for
# appendicitis back in March, fully recovered now; the bill just came"): money, not an emergency
_COST = re.compile(
    r"账单|帳單|费用|費用|收费|收費|报销|報銷|医保|醫保|理赔|理賠|保险公司|保險公司|多少钱|幾多錢"
    r"|\b(bill(ed|s)?|invoice|insurance|claim|charged?|costs?|negotiat\w*|reimburs\w*|deductible|copay|out of pocket)\b",
    re.I,
)
_RECOVERED_LONG_AGO = re.compile(
    r"(已经|早就|早已)?(康复|痊愈|好了|出院)|(\d+|[一二两三四五六七八九十几半]+)\s*(个)?(月|年|周|星期)(之)?前|上(个)?月|去年|前年"
    r"|\b(fully |completely )?recovered\b|\bback in (january|february|march|april|may|june|july|august|september|october|november|december|\d{4}|the spring|the summer)\b"
    r"|\b(\d+|a few|several|two|three|four|five|six) (months|weeks|years) ago\b|\blast (month|year|spring|summer|autumn|winter)\b",
    re.I,
)


def cost_long_after(text: str) -> bool:
    """A bill or cost asked about after the event, the person recovered or the event months past, no onset now."""
    if not (_COST.search(text) and _RECOVERED_LONG_AGO.search(text)):
        return False
    return not (_ONSET_NOW.search(text) or _RELATIVE_AGAIN.search(text))


# a childhood event long past ("女儿两岁时误吞过一枚硬币…现在她五岁了", "swallowed a coin when I was six"): the sign only
# in the clause that places it at an age or years back (or in one told "at the time"), no onset or recurrence now
_LONG_AGO = re.compile(
    r"(\d+|[一二两兩三四五六七八九十])\s*(几)?\s*(岁|歲)(的时候|時|时|那年|那会儿|嗰陣)|小时候|小時候|(\d+|[一二两三四五六七八九十几]+)\s*年(之|以)?前|前年|几年前|幾年前"
    r"|\b(\d+|two|three|four|five|six|seven|eight|nine|ten|several|many|a few) years ago\b|\bwhen (i|she|he|they) (was|were) (\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
    r"|a (baby|toddler|kid|child)|little|small|young)\b"
    r"|\bas a (kid|child|toddler|baby)\b|\bat (\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|eighteen) (months|years)( old)?\b"
    r"|(\d+|[一二两兩三四五六七八九十]+)\s*(个|個)?月(大)?(的时候|的時候|时|時|嗰陣)"
    # an earlier pregnancy or birth ("had … with my first", "上一胎"): the event belongs to it, not to this one ("pregnant
    # with my first" and 头胎 are this pregnancy)
    r"|\b(had|lost|suffered|went through|bled)\b.{0,60}\bwith (my|her) (first|last|previous|older|eldest)\b"
    r"|\bin (my|her) (last|previous|earlier) (pregnancy|birth|delivery)\b|上一胎|上胎|前一胎|生老大|生大宝|生大寶|上次(怀孕|懷孕|生)",
    re.I,
)
_RECENT = re.compile(r"最近|这几天|這幾天|近来|又|再次|\b(recently|these days|lately|this week|again)\b", re.I)
_CALLED_THEN = re.compile(r"\bcalled (an ambulance|911|999|112|120)\b", re.I)
# "to stop it happening again", "防止再次发作": a question about prevention, not a recurrence
_PREVENT_AGAIN = re.compile(
    r"\b(stop|prevent|avoid|keep)\w*\b[^.?!]{0,30}\bagain\b|(防止|预防|預防|避免|以免|免得)[^，,。？?]{0,10}(再次|又|再)",
    re.I,
)


def long_past(text: str) -> bool:
    """An event placed years back or at an earlier age, told with no onset or recurrence now and no sign outside the
    clauses that place it (or say "at the time")."""
    clauses = _clauses(text)
    marked = [i for i, c in enumerate(clauses) if _LONG_AGO.search(c)]
    # an ambulance called back then ("we called an ambulance and it all turned out fine") is part of the old story
    onset = _ONSET_NOW.search(_CALLED_THEN.sub(" ", text))
    if not marked or onset or _RECENT.search(_PREVENT_AGAIN.sub(" ", text)):
        return False
    return not any(
        _signs_in(c) and not (_LONG_AGO.search(c) or _THEN.search(c) or _PAST_SUFFIX.search(c) or "过" in c)
        for c in clauses
    )


def episode_not_now(text: str, category: str) -> bool:
    """A classifier hit of this category is discounted: an episode of a chronic condition the person has, or a past
    episode told as a story, with no word of now; an episode over and minor; an imagined question; and unless it is
    self-harm, a sign that belongs to no one here now (a pet, an exam case, a report of others, family history) or a
    small extra dose with the person well."""
    return (
        episode_of_known_condition(text, category)
        or story_of_the_past(text)
        or (
            category != "self_harm"
            and (
                seen_to(text)
                or condition_had_and_asked(text)
                or everyday_stomach(text)
                or reading_asked(text)
                or seizure_over_days_ago(text)
                or tell_apart_asked(text)
            )
        )
        or over_and_minor(text)
        or imagined_question(text)
        or (category != "self_harm" and (not_someone_here(text) or small_extra_dose(text)))
        or (category != "self_harm" and (reassured_in_full(text) or cost_long_after(text) or long_past(text)))
    )


def not_happening_now(text: str) -> bool:
    """The whole question is about learning of signs (first aid, a class, an article) or living with an event's
    aftermath, with no cue of now or of a new onset."""
    frame = _LEARNING.search(text) or _AFTERMATH.search(text)
    return bool(frame) and not (_ACUTE.search(text) or _ONSET.search(text))


# ---- red flags ------------------------------------------------------------------------------------------------
_CN_NUM = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


def _number(text: str) -> float:
    if text.isdigit():
        return float(text)
    if text in _CN_NUM:
        return float(_CN_NUM[text])
    if text.startswith("十"):
        return 10 + _CN_NUM.get(text[1:], 0)
    return float(_CN_NUM.get(text[0], 0) * 10 + _CN_NUM.get(text[-1], 0)) if "十" in text else 99.0


_INFANT_AGE = re.compile(
    r"(?:(?:宝宝|寶寶|婴儿|嬰兒|BB|bb|囡囡|孩子|新生儿|新生兒|女儿|女兒|儿子|兒子|小孩)(?:今年|现在|現在|目前|已经|已經|才|刚|剛|满|滿|刚满|剛滿|出生|出世|得)*)"
    r"(?P<n2>\d+|[一二两兩三四五六七八九十]+)\s*(?:个|個)?\s*(?P<unit2>月|周|週|星期|礼拜|禮拜|天)"
    r"|(?P<n>\d+|[一二两兩三四五六七八九十]+)\s*(?:个|個)?\s*(?P<unit>月|周|週|星期|礼拜|禮拜|天)\s*(?:大|的(?:宝宝|婴儿|孩子|新生儿)|嘅(?:BB|bb|寶寶|嬰兒))"
    r"|(?P<en>\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)[- ](?P<eunit>day|week|month)s?[- ]old",
    re.I,
)
_EN_NUM = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
           "ten": 10, "eleven": 11, "twelve": 12}  # fmt: skip
_FEVER = re.compile(
    r"发烧|发热|高烧|高热|发烫|体温\s*\d|3[89](\.\d)?\s*(度|℃|°)|fever|temperature of|3[89](\.\d)?\s*°?\s*c\b", re.I
)

# (category, primary pattern, companion pattern(s) or None): with companions every one must appear, un-negated
_RED_FLAGS: list[tuple[str, str, str | tuple[str, ...] | None]] = [
    (
        "chest_pain",
        r"压榨(样|性)?.{0,3}(胸|痛|疼)|胸.{0,2}(压着|压榨|像压了石头)|crushing chest|chest.{0,12}crushing",
        None,
    ),
    (
        "chest_pain",
        # 翳 is Cantonese for a heavy, stuffy chest ("心口好翳"); traditional characters as Hong Kong writes them
        r"(胸|心口|心前区).{0,3}(痛|疼|闷|悶|压|壓|紧|緊|翳)|chest (pain|pressure|tightness|hurts)|pain in (my|his|her) chest",
        r"(左|右)?(胳膊|手臂|臂|肩|下巴|下颌|后背|背)|冷汗|大汗|出汗|满头大汗|气短|喘不|呼吸困难|arm|jaw|shoulder|back|sweat|short of breath|breathless|nause",
    ),
    (
        "stroke",
        r"(口角|嘴角|嘴|脸).{0,3}(歪|斜|下垂)|面瘫|半边(身子|身体|脸|手脚).{0,6}(没力|无力|麻|动不了|不能动|不听使唤)"
        r"|(一侧|一边|右侧|左侧|右边|左边)(的)?(肢体|手脚|身体|胳膊|腿).{0,6}(无力|没力|麻|动不了)|说话.{0,3}(含糊|不清|大舌头|不利索)|口齿不清|言语不清"
        r"|face.{0,10}droop|drooping|slurred|one side.{0,25}(weak|numb)|can't (lift|move) (his|her|my) (right|left) (arm|leg)"
        r"|sudden(ly)? (numbness|weakness)|stroke (symptoms|signs)|(can'?t|cannot|unable to|trouble) (speak|talk)(ing)?",
        None,
    ),
    (
        "breathing",
        r"喘不(上|过|动)气|呼吸(困难|急促|不上来|不过来|越来越困难)|透不过气|上不来气|憋得慌|嘴唇.{0,3}(发紫|青紫|发青)|话都说不(完整|出来|全)"
        r"|can'?t breathe|cannot breathe|trouble breathing|difficulty breathing|hard to breathe|struggling to breathe"
        r"|short(ness)? of breath|gasping|lips (are )?(turning )?(blue|purple)",
        None,
    ),
    (
        "bleeding",
        r"血.{0,8}止不住|止不住.{0,3}血|血流不止|大量出血|大出血|喷血|血.{0,3}(喷|往外冒)|出血.{0,4}(很多|好多|不止)|流了(好多|很多|一大滩)血"
        r"|bleeding (won't|will not|doesn't|does not|that won't|that will not) stop|won't stop bleeding|heavy bleeding|bleeding heavily"
        r"|severe bleeding|bleeding badly|spurting|soaking (a|through)",
        None,
    ),
    (
        "anaphylaxis",
        r"(喉咙|嗓子|喉头).{0,3}(发紧|堵|紧|锁)|过敏性休克|过敏(?!性?(哮喘|喘息|鼻炎)).{0,10}(呼吸|喘|晕|休克)"
        r"|throat.{0,12}(swell|clos|tight)|swelling shut|tongue.{0,8}swell|anaphyla|epipen",
        None,
    ),
    (
        # a swollen face or throat alone (a puffy eyelid, tonsillitis) is not anaphylaxis; after a trigger, or with
        # hives, it may be
        "anaphylaxis",
        r"(脸|嘴唇|舌头|眼皮).{0,4}肿(起来|了)|(喉咙|嗓子|喉头).{0,3}肿",
        r"吃了|过敏|蛰|叮|打(了|完)?针|输液|花生|海鲜|虾|蟹|坚果|芒果|药|疹子|风团|全身|呼吸|喘|憋",
    ),
    (
        "unconscious",
        r"晕倒|昏倒|昏迷|叫不醒|不省人事|失去意识|意识不清|昏过去|晕过去|没反应了|没有反应了|昏昏沉沉|人事不知"
        # Cantonese and traditional characters
        r"|暈倒|暈低|晕低|昏低|叫唔醒|叫極都唔醒|失去意識|意識不清|暈咗過去|晕咗过去|叫(佢|佢哋|極)?(都)?冇(晒)?反應|冇晒反應"
        # "however you call him he does not wake": 点叫都唔醒, 怎么叫都不醒
        r"|叫(佢|他|她|極|极)?(都|也)(唔|不|冇|没|沒)(醒|應|应|反應|反应)"
        r"|fainted|passed out|pass out|unconscious|not waking|won'?t wake|unresponsive|collapsed|blacked out",
        None,
    ),
    (
        "poisoning",
        r"误(喝|服|吃|食|吞)|喝了.{0,8}(农药|消毒液|84|洗洁精|漂白|百草枯|敌敌畏|除草剂|杀虫剂|防冻液)|(吃|吞|服)了.{0,6}(一整瓶|一瓶|半瓶|整瓶|好多片|一大把|一把|几十片)"
        r"|服药过量|药物过量|吃多了药|农药中毒|一氧化碳|煤气中毒|overdos|swallowed.{0,40}(pills|tablets|bleach|battery|batteries|poison|medicine|medication)"
        r"|took (a whole|an entire|the whole|all (of )?(my|the|his|her))|too many (pills|tablets)|poison(ed|ing)|drank.{0,12}(bleach|antifreeze|pesticide)"
        r"|carbon monoxide",
        None,
    ),
    (
        "self_harm",
        r"不想活|想死|去死|自杀|轻生|结束(这一切|生命|自己)|割腕|划.{0,2}手腕|伤害自己|自残|活着没(意思|意义)|跳楼|不如死了"
        r"|kill myself|suicid|end my life|want to die|wanna die|self[- ]?harm|cut(ting)? myself|hurt(ing)? myself|no reason to live|better off dead",
        None,
    ),
    # a count of pills in the tens (an overdose told as "I feel fine now" is still one: paracetamol's and iron's
    # danger comes a day later), and pinpoint pupils with slow breathing or no waking (an opioid overdose)
    (
        "poisoning",
        r"(吃|吞|服|喝)(了|下|掉)?.{0,8}?(\d{2,}|[二三四五六七八九]十|几十|十几|二十多|三十多)\s*(多)?(片|颗)"
        r"|\b(took|swallowed|ate|had taken|have taken|'ve taken)\s+(about |around |like |maybe |over |nearly )?(\d{2,}|twenty|thirty|forty|fifty)\b",
        None,
    ),
    (
        "poisoning",
        r"瞳孔.{0,8}(针尖|很小|缩得很小|特别小)|针尖(样|一样|大小)?.{0,4}瞳孔|pupils?.{0,16}(pinpoint|tiny|针尖|很小)|pinpoint pupils?",
        r"呼吸.{0,4}(很|特别|非常)?(慢|弱|浅)|几秒(钟)?才.{0,2}(一次|一口)|叫不醒|叫.{0,6}(只会哼|没反应|不醒)|没(有)?反应"
        r"|breath\w*.{0,12}(slow|shallow|barely)|barely breathing|won'?t wake|hard to wake|unresponsive|not waking",
    ),
    # a child or an old person dried out: no urine for hours (dry nappies) with a sign of the body giving in (listless,
    # sunken eyes, no tears, floppy)
    (
        "dehydration",
        r"(尿布|尿不湿|纸尿裤).{0,10}(干(?![净爽燥])|没湿|没尿)|(没|不)(有)?(尿|尿尿|小便|撒尿|尿过)(?![路频急痛床道酸检常毒蛋血液])"
        r"|尿(也|量)?(很|特别|非常|明显)?少"
        r"|\b(no|hasn'?t had a|not had a) wet (nappy|nappies|diaper|diapers)|\b(nappies|nappy|diapers?) (are|is|has been|have been|were|stayed) (all )?dry"
        r"|\b(hasn'?t|has not|not) (peed|wee'?d|urinated|passed urine)",
        r"软趴趴|蔫|没(有)?精神|不(怎么)?理人|懒得睁眼|不睁眼|叫.{0,3}不(醒|应)|眼窝.{0,3}(陷|凹)|眼睛.{0,3}(凹|陷)|哭.{0,4}没(有)?(眼)?泪|嗜睡|昏睡"
        r"|\b(listless|floppy|lethargic|limp|sunken|no tears|drowsy|hard to wake|won'?t wake)\b",
    ),
    # kinds fresh sets keep missing, told without the usual word (tri20, written from knowledge):
    # vomit like coffee grounds or dark red clots is blood from the stomach even without 血
    (
        "gi_bleeding",
        r"(吐|呕|嘔)(出来|出嚟)?(的|嘅)?.{0,12}(咖啡渣|咖啡色|暗红|暗紅|黑红|黑紅|酱油色|豉油色)|咖啡渣(样|一样|咁)"
        r"|(vomit|throw|threw|sick|puk)\w*.{0,40}coffee[- ]grounds?|coffee[- ]grounds?.{0,30}(vomit|throw|sick|puk)|\blike coffee[- ]grounds?"
        r"|vomit\w*.{0,30}(dark red|black)|(throwing|threw) up.{0,20}(dark red|black)",
        None,
    ),
    # an ectopic pregnancy: pain low on one side (or at the shoulder tip) in a pregnancy or with a late period, with
    # faintness or shoulder pain; pain alone early in a pregnancy is for a doctor today, not an emergency
    (
        "obstetric",
        r"(下腹|小腹|肚子|腹部?|盆腔)(的)?(一侧|一边|单侧|左边|右边|左侧|右侧|左下|右下)|(左|右)(侧|边)?(下)?腹|(一侧|一边|单侧|左边|右边|左侧|右侧|左下|右下)(的)?(下腹|小腹|肚子)"
        r"|(肩膀?尖|肩膀?顶|肩头).{0,4}(痛|疼)|\b(one|right|left)[- ]sided.{0,20}(pain|cramp)|\b(pain|cramps?|cramping)\b.{0,20}\b(low )?on (the|my|her|one) (right|left|one)? ?side"
        r"|\b(tip of (my|her|the) (right |left )?shoulder|shoulder[- ]tip)",
        (
            r"月经|例假|大姨妈|验孕|试纸|两条杠|阳性|怀孕|孕|hcg|\bperiod\b|\bpositive\b|pregnan",
            r"晕|眼前发黑|站不住|冒冷汗|出冷汗|心慌|脸色(发白|苍白)|肩|\bfaint|lightheaded|light-headed|dizz|pass(ed)? out|shoulder|collaps",
        ),
    ),
    # cauda equina: numb "saddle" (between the legs, round the back passage) with a bladder or bowel that no
    # longer obeys, or both legs numb or weak
    (
        "cauda_equina",
        r"(会阴|會陰|肛门|肛門|马鞍|馬鞍|屁股和会阴|下身|私处).{0,8}(麻|没(有)?感觉|冇感覺|没知觉|木木)"
        r"|\bsaddle (area )?(numb|anaesthes|anesthes)|numb\w* (between (my|her|his) legs|around (my|her|his) (bottom|bum|back passage|genitals|anus)|in (my|her|his) (groin|genitals|saddle))",
        r"尿不(出|太出|下来|干净)|排(不出|尿困难)|(小便|尿|大便).{0,4}(解|拉|排|尿)不(出|下来)|(小便|尿|大便|屎).{0,4}(控制不|憋不住|失禁|拉在|漏)|失禁|(两条|双)(腿|下肢).{0,4}(麻|没力|无力)"
        r"|\b(can'?t|cannot|unable to|trouble|difficulty) (pee|urinat|pass urine|wee|control (my|her|his) (bladder|bowel))|incontinen|wet (my|him|her)self|\bbladder\b|\bbowels?\b|both legs",
    ),
    # a blocked bowel: no stool and no wind with vomiting or a swollen belly, or vomit that smells of stool
    (
        "bowel_obstruction",
        r"(不|没|冇|无)(有)?(放屁|排气|放過屁|放过屁|通气)|(放屁|排气)(也)?(都)?(没有|冇)"
        r"|\b(no|not passing|hasn'?t passed|haven'?t passed|not passed|can'?t pass) (any )?(wind|gas)\b|\b(hasn'?t|haven'?t|not|nor)\b.{0,20}\b(farted|passed (any )?(wind|gas))",
        r"吐|呕|嘔|(肚子|腹|肚).{0,4}(胀|脹|鼓|硬)|腹胀|\bvomit|throwing up|threw up|sick|swollen|distend|bloat|\bdrum\b",
    ),
    (
        "bowel_obstruction",
        r"(吐|呕|嘔).{0,12}(屎|粪|糞|大便)(味|样|一样|咁)|(粪|糞|屎)(臭)?味.{0,6}(呕吐物|吐出)"
        r"|vomit\w*.{0,30}smells? (like|of) (poo|poop|faeces|feces|stool|shit)|(faecal|fecal|faeculent|feculent) vomit",
        None,
    ),
    # an electric shock is an emergency when the heart or the skin shows it (palpitations, a burn, thrown back)
    (
        "burn_or_shock",
        r"\bzapped\b|electric(al)? shock|\bshocked by (a|the|an) (live |bare )?(socket|outlet|wire|switch|cable|fence|plug|power|mains|breaker|light)"
        r"|被电(到|了|击|打)|(俾|畀)电(电|電)亲|(俾|畀)電電親|漏电.{0,6}(电到|打到|被电)",
        r"心(慌|悸|跳)|胸|烧伤|灼伤|烫伤|晕|麻|\bheart|palpitat|racing|pounding|flutter|skipp|chest|\bburn|threw me|thrown|faint|numb|tingl",
    ),
    # a snake's bite with swelling, bruising, bleeding or faintness
    (
        "snake_bite",
        r"(被|俾|畀)?蛇(咬|咬咗|咬了)|毒蛇|snake ?bite|\bbit(ten)?\b.{0,25}\bby a snake|snake bit",
        r"肿|腫|瘀|淤|出血|流血|牙龈|牙齦|晕|头晕|麻|看不清|眼皮|\bswell|bruis|bleed|gums|dizz|faint|numb|blurr|droop",
    ),
    # necrotising fasciitis: pain far beyond what the wound shows, or skin that crackles when pressed
    (
        "necrotising_infection",
        r"(pain|hurts?)\b.{0,30}out of proportion|out of proportion.{0,20}(pain|wound|cut)|crackl\w*.{0,30}(skin|press|touch)|(skin|press\w*).{0,30}crackl|crepitus"
        r"|捻发(感|音)|皮下.{0,4}(气|咯吱|嘎吱)|按.{0,8}(咯吱|嘎吱|噼啪|沙沙|咔咔)(声|响|的感觉)?|(痛|疼)得?.{0,10}(不成比例|不相称|不相符)",
        r"发烧|发热|高烧|伤口|割|划|紫|黑|灰|水泡|糖尿病|fever|\bcut\b|wound|scratch|purpl|grey|gray|dusky|black|blister|diabet",
    ),
    # anaphylaxis without the word: hives all over after a sting or a food, with breathing or the throat affected
    (
        "anaphylaxis",
        r"(全身|浑身|渾身|成身).{0,6}(疹|风团|風團|荨麻疹|蕁麻疹|红肿|紅腫|起包|痕)|\bhives\b.{0,25}(all over|everywhere|spreading)|\b(spreading|widespread) hives|(all over|whole) (my |his |her )?body.{0,12}hives",
        (
            r"蛰|蜇|叮|咬|吃了|吃完|食咗|打(了|完)?针|输液|花生|海鲜|虾|蟹|坚果|\bstung\b|sting|\bate\b|after eating|injection",
            # or the voice (a swelling larynx) or the blood pressure (lightheaded, faint) affected
            r"喘|呼吸|喉咙|嗓子|喉头|喉嚨|憋|透不过|声音.{0,4}(沙|哑|啞|嘶|变)|聲.{0,4}(沙|啞|嘶|變)|头晕|頭暈|晕|暈"
            r"|\bwheez|breath|throat|hoarse|voice|light-?headed|faint|dizz",
        ),
    ),
    # a small child who got into someone else's pills (a grandparent's, an adult's) or ate medicine unseen
    (
        "poisoning",
        r"(偷吃|偷偷吃|偷食|自己(拿|翻).{0,6}(吃|食)|捡.{0,4}(吃|食)|(吃|食|吞)(了|咗|左)?.{0,3}(爷爷|奶奶|外公|外婆|姥姥|阿嫲|阿爺|嫲嫲|婆婆|公公|大人|老人)(的|嘅|既))"
        r".{0,12}(药|藥|丸|片|粒)|\bgot into (\w+'s|the|grandma's|grandpa's|nana's) (pills|tablets|medicine|medication|meds)",
        r"[一二两兩三四五\d]\s*(岁|歲)|宝宝|寶寶|\bbb\b|小朋友|(個|个)(仔|女)|细路|細路|孩子|toddler|\d+\s*(yo|year[- ]old|month[- ]old)|\b(son|daughter|kid|child)\b",
    ),
    # giving things away and a farewell: a suicide told indirectly
    (
        "self_harm",
        r"\b(given|giving|gave) away (my|all|most|his|her|their)|\b(given|gave) (my|all my) \w+( and \w+)? (away|to (my )?(friends?|neighbou?rs?|sister|brother))"
        r"|(存的钱|存款|积蓄|積蓄).{0,6}(都|全)?转给|(遗书|遺書|封信|告别信).{0,6}(写好|寫好)|写好了?.{0,4}(遗书|遺書)|交代(好)?后事|后事.{0,4}(安排|交代)好"
        r"|\b(written|wrote) (goodbye |farewell )?letters? (to|for) (my|everyone|each)",
        r"\b(won'?t|will not) be (around|here)|\bnot be around|looks? like an accident|life insurance|\bgoodbye|\bfarewell|tonight"
        r"|今晚|走了以后|我走(了|咗)|不在了|告别|再见|保险|保險|(不|唔)想再撑|撑不下去|活不下去|离开这个世界|结束",
    ),
    # acute urinary retention: unable to pass urine for hours with the urge or a swollen lower belly
    (
        "urinary_retention",
        r"尿不(太)?出(来)?|(尿|小便).{0,6}(都|也|就是)?(拉|排|解)不出|(排|解)不出(来)?(尿|小便)|一滴(尿)?都(尿|排|拉)不出|屙唔出尿|痾唔出尿"
        r"|\b(can'?t|cannot|unable to|couldn'?t) (pee|wee|urinate|pass (any )?urine)|\b(hasn'?t|haven'?t) (been able to )?(peed|pee|urinated|wee'?d|passed urine)\b",
        r"急|憋|胀|脹|鼓|小肚子|下腹|膀胱|[\d几十两一]+\s*个?(多)?(小时|鐘)|一整天|一夜|昨天|昨晚"
        r"|\bsince\b|\bhours\b|all day|overnight|bladder|swollen|desperate|\burge\b|distend",
    ),
    # kinds fresh sets keep missing (sixteenth session, written from knowledge in several phrasings):
    # epiglottitis or an abscess closing the airway: drooling or unable to swallow, with leaning forward, a noisy
    # breath in (stridor) or a muffled voice; drooling alone (teething) or a hoarse voice with a cold is not it
    (
        "airway",
        r"流口水|口水.{0,6}(咽不下|吞不下|流出来|一直流|流个不停)|(咽|吞)不下(去)?|吞唔落|吞唔到|流晒口水|流住口水"
        r"|\bdrool\w*|\b(can'?t|cannot|unable to|won'?t|refus\w* to) swallow",
        r"(往前|向前)(趴|倾|傾|探|俯)|前倾|前傾|身子.{0,4}(往前|向前|趴)|不肯躺|不能躺|躺不下|瞓唔低|唔肯瞓|(呼吸|吸气|吸氣).{0,4}(有)?(怪声|怪聲)|(吸气|吸氣|喉咙|喉嚨|喉头).{0,8}(响|響|呼呼|嘶嘶|咕噜|鸡叫|哮鸣|喘鸣|扯扯声|嘶嘶声)"
        r"|喘鸣|喉鸣|声音.{0,4}(闷|悶|像含着|像含住|含糊)|说话.{0,4}(闷|悶|像含着)|講嘢.{0,4}(悶|含糊)"
        r"|lean\w* forward|sitting (up )?forward|tripod|stridor|noisy breath|high[- ]pitched (noise|sound|breath)|whistl\w* (when|as) (he|she|they) breathes? in"
        r"|muffled|hot[- ]potato|won'?t lie (down|flat)|can'?t lie (down|flat)",
    ),
    # vomiting blood in Cantonese and traditional characters (嘔咗…血, 吐咗血), not a streak of blood in the spit
    (
        "gi_bleeding",
        r"(嘔|嘔吐|吐)(咗|左|出|出嚟|出來|完)?.{0,12}(鮮紅|鲜红|紅色|红色|暗紅|啡色|大量|好多|成碗|一碗|一大啖|幾啖|几口|一大口)(色)?(嘅|的)?(血|血塊)(?!絲|丝)"
        r"|嘔血|嘔咗血|吐咗血|嘔出血|吐出血(?!丝|絲)",
        None,
    ),
    # diabetic ketoacidosis: a meter reading HI (off the scale) or strong ketones, with vomiting, thirst, belly pain,
    # deep fast breathing or insulin missed
    (
        "dka",
        r"血糖(仪|儀|机|機)?.{0,8}((显示|顯示|显|顯|打出|出|係|是)?\s*(?-i:HI|Hi)\b|测不出|測唔到|爆表|打不出|超出(范围|範圍|量程))|(meter|glucometer|sugar|reading|reads|says|shows).{0,20}\b(?-i:HI)\b|(?-i:HI)\b.{0,12}(on )?(the|my|his|her) (meter|glucometer)"
        r"|(尿)?酮(体|體)?(试纸|試紙)?.{0,8}(深紫|紫色|紫黑|\+\+|强阳|強陽|很高|好高)|ketones?.{0,20}(dark purple|purple|large|high|\+\+|very high)"
        r"|酮症酸中毒|ketoacidosis|\bDKA\b",
        (
            r"吐|呕|嘔|口渴|口干|渴|肚子疼|肚痛|腹痛|呼吸.{0,4}(深|快|急|大口)|没打|冇打|停了|漏打"
            r"|vomit|throw\w* up|thirst|stomach|belly|abdom|breath\w*.{0,10}(deep|fast|heavy)|missed|skipped|ran out",
            # a meter that reads HI is a glucose meter
            r"糖尿病|胰岛素|胰島素|1型|一型|血糖|diabet|insulin|type 1|t1d|sugar|\bmeter\b|glucometer",
        ),
    ),
    # a full-thickness burn: white, waxy, leathery or charred skin that does not hurt, or a burn the size of two
    # hands or more
    (
        "burn_or_shock",
        r"(皮|皮肤|皮膚|烫伤|燙傷|烧伤|燒傷|伤口|傷口|中间|中間).{0,12}(发白|發白|白色|变白|變白|蜡|蠟|皮革|焦黑|烧焦|燒焦|發黑)|\b(skin|burn|wound|area).{0,30}\b(white|waxy|leathery|leather|charred|blackened)\b",
        (
            r"不(怎么|太|是很)?(疼|痛)|(不|唔)(觉得|覺得|覺)(疼|痛)|(感觉|感覺)(不|唔)(到)?(疼|痛)|唔(痛|係好痛)|没(有)?(感觉|知觉|痛感)|冇(感覺|痛)|\b(doesn'?t|does not|don'?t|didn'?t|isn'?t|not) (really )?(hurt|painful|sore)|no pain|numb|can'?t feel",
            r"烫|燙|烧|燒|开水|開水|热油|熱油|滚油|火|\bburn|\bboiling|scald|\boil\b|fire|flame|\bhot\b",
        ),
    ),
    (
        "burn_or_shock",
        r"(两|兩|几|幾|三|好几|好幾)个?(个)?(手掌|巴掌)(大|咁大|那么大)|\bsize of (two|both|several|three) (hands|palms)|\b(bigger|larger) than (my|his|her|a|an adult'?s) (hand|palm)"
        r"|\b(whole|entire) (thigh|arm|leg|back|chest|belly)",
        r"烫伤|燙傷|烧伤|燒傷|烫到|燙到|烧到|燒到|开水|開水|热油|熱油|滚油|火|起泡|水泡|\bburn(ed|t)?\b|\bboiling|scald|\bhot oil\b|fire|flame",
    ),
    # sepsis from a spreading skin infection: redness spreading with a high fever or rigors
    (
        "sepsis",
        r"(红|紅)(的|嘅|肿|腫)?(范围|範圍).{0,8}(大|蔓延|扩散|擴散|扩大|擴大|往上|向上)"
        r"|(红|紅)(的|嘅|肿|腫)?(一直|越来越|越嚟越|不断|不停|好快).{0,8}(蔓延|扩散|擴散|扩大|擴大|往上|向上)|红线|紅線|红(色的)?条|紅(色)?條"
        r"|\bred (streaks?|lines?)\b|\bredness\b.{0,30}(spread|moving up|getting (bigger|larger)|creeping)|\bspreading (redness|red)|\bred (area|patch|skin).{0,20}spread",
        (
            r"发烧|发热|發燒|發熱|高烧|高燒|(?<!\d)(3[89]|40)(\.\d)?\s*(度|℃|°)|寒战|寒戰|发抖|發抖|打冷颤|打冷顫|fever|temp|chills|rigou?rs|shaking|shivering",
            r"寒战|寒戰|发抖|發抖|打冷颤|打冷顫|头晕|頭暈|站不稳|站唔穩|迷糊|意识|心跳.{0,4}快|没(有)?力气|chills|rigou?rs|shaking|shivering|dizz|faint|confus|racing|can'?t stand|light-?headed",
        ),
    ),
    # bleeding that spurts in pulses, or soaks through towels; 止不祝/止不主 are input-method slips for 止不住
    (
        "bleeding",
        r"血.{0,10}往外(喷|噴)|血.{0,8}(喷|噴)(出来|出嚟|出來|得|咗|了)|一股一股.{0,6}(喷|噴|冒|涌|湧|流)|(湿透|濕透|渗透|滲透).{0,6}(毛巾|纱布|紗布)"
        r"|(毛巾|纱布|紗布).{0,10}(湿透|濕透|都湿|都濕)|止不(祝|主|注|驻|著)|\b(spurt|squirt)\w*|(soaked|soaking) (through )?(\w+ )?(towels?|tea towels?|cloths?|gauze)",
        r"血|bleed|blood",
    ),
    # a limb whose blood supply is cut off: suddenly cold with pale or blue skin, numbness or a foot that will not move
    (
        "limb_ischaemia",
        r"(腿|脚(?!趾)|腳(?!趾)|手臂|胳膊|\bleg|\bfoot|\barm\b).{0,20}(冰凉|冰冷|发凉|發涼|冰冻|凍冰冰|冷冰冰|变凉|變涼|\bcold\b)",
        (
            r"突然|忽然|一下子|\bsudden(ly)?\b|\b(an?|one|two|three|\d+) hours? ago\b|(\d+|[一二两三几])个?(多)?小时",
            r"苍白|蒼白|发白|發白|惨白|发紫|發紫|发青|發青|麻|没(有)?感觉|冇感覺|动不了|郁唔到|不能动|摸不到(脉|脉搏)|\bpale\b|\bwhite\b|\bblue\b|numb|can'?t feel|barely move|can'?t move|no pulse",
        ),
    ),
    # intussusception: stool like redcurrant jelly in a baby, or crying in bouts with the legs drawn up and vomiting
    (
        "acute_abdomen",
        r"(果酱|果醬|红莓|紅莓|草莓|红加仑|紅加侖|番茄酱|番茄醬)(样|樣|色|咁|一样|啫喱|果冻|果凍)|(大便|便便|屎|屙|粑粑).{0,12}(果酱|果醬|啫喱|果冻|果凍)"
        r"|\b(red ?currant|strawberry|raspberry) jelly|\bjelly[- ]like (stool|poo|poop|nappy|diaper)|\b(stool|poo|poop|nappy|diaper).{0,20}\bjelly",
        r"[一二两兩三\d]\s*(岁|歲|个月|個月)|宝宝|寶寶|\bbb\b|小朋友|(個|个)(仔|女)|孩子|婴儿|嬰兒|baby|toddler|infant|\b(son|daughter)\b|month[- ]old|year[- ]old",
    ),
    (
        "acute_abdomen",
        r"(一阵一阵|一陣一陣|一阵阵|一陣陣|阵发性|陣發性).{0,6}(哭|喊|嚎)|(哭|喊).{0,4}(一阵一阵|一陣陣|一阵阵)|\b(crying|screaming|screams|cries) (in|with) (bouts|spells|waves|fits)|\bbouts of (crying|screaming)",
        (
            r"(缩|縮|蜷|抬|收)(埋|起|住)?.{0,4}(腿|脚|腳)|(腿|脚|腳).{0,4}(缩|縮|蜷)|\b(draw|pull|bring)\w* (his|her|their|up)? ?(legs|knees) up|\b(legs|knees) (drawn|pulled) up",
            r"吐|呕|嘔|血|没精神|冇精神|蔫|软|vomit|throw\w* up|sick|blood|floppy|listless|lethargic|pale|sleepy",
        ),
    ),
    # kinds fresh sets keep missing (sixteenth session, tri22; written from knowledge in several phrasings):
    # massive haemoptysis told as an amount: coughing up fresh blood by the mouthful, a cup or a bowl (not a streak of
    # blood in the sputum, 血丝/血絲, which a cold or TB often brings)
    (
        "haemoptysis",
        r"(咳|咯)(嗽)?(出|出来|出來|出嚟|咗|了)?(的|嘅)?(都|全|全部)?(是|係)(鲜|鮮)?血(?![丝絲痰])"
        r"|(咳|咯).{0,10}(一口接一口|一口一口|一啖啖|大口|满口|滿口|成口|一大口|一杯|半杯|大半杯|一碗|半碗|成碗|一大滩|一大灘|好多|很多|大量)(的|嘅)?(鲜|鮮)?(红|紅)?(的|嘅|色)?血(?![丝絲痰])"
        r"|大咯血|大咳血|(咯|咳)血.{0,6}(一杯|半杯|一碗|好多|很多|大量|不止|止不住)"
        r"|\bcough(ed|ing|s)? up (a lot of|lots of|loads of|so much|mouthfuls of|a mouthful of|(half )?a cup(ful)? of|cups of|a (large|big) amount of|(bright red|fresh) )(fresh |bright red )?blood"
        r"|\bcough(ed|ing|s)? up (pure |fresh |bright red )?blood\b(?! ?(streak|stain|tinged|spot|fleck))",
        None,
    ),
    (
        "haemoptysis",
        r"(咳|咯)(嗽)?(出|出来|出來|出嚟|咗|了)?(的|嘅)?(鲜|鮮)?(红|紅)?(色)?血(?![丝絲痰])|\bcough(ed|ing|s)? up (\w+ ){0,8}blood\b(?![- ]?(streak|stain|tinged|spot|fleck))",
        r"一口接一口|一口一口|一啖啖|大口|满口|滿口|一大口|一杯|半杯|大半杯|一碗|半碗|大半碗|成碗|大量|止不住|停不下|\bcup(ful)?s?\b|\bmouthfuls?\b|\b(a lot|lots|loads|so much)\b|can'?t stop",
    ),
    # reduced fetal movements late in pregnancy told without 胎动: the baby not felt to move all day (a late
    # pregnancy: from 24 weeks, or 孕晚期, seven months on; early on no movement is normal)
    (
        "obstetric",
        r"(没|沒|冇|唔|不|无|無)(怎么|怎麼|太|咩|乜|點|什么|甚么)?(感觉|感覺|觉得|覺得|覺|感受)(到)?(佢|他|她|宝宝|寶寶|bb|BB|胎儿|胎兒|小家伙|孩子)?(有)?(在)?(动|動|郁|踢)"
        r"|(宝宝|寶寶|胎儿|胎兒|肚里|肚裡|肚入面|bb|BB).{0,10}(没|沒|冇)(有|乜|什么|甚么)?(动静|動靜|反应|反應|郁过|郁過|动过|動過)"
        r"|\b(haven'?t|have not|not|hardly|barely|didn'?t|did not)\s+(felt|feel)\s+(him|her|them|the baby|baby|my baby|any (kicks|movements?)|a (kick|movement)|anything)(\s+(move|moving|kick|kicking))?"
        r"|\b(no|not any) (kicks|movements?) (all day|since|today|this morning)|\b(baby|he|she)('s| is| has been) (much |a lot )?quieter than (usual|normal)",
        r"(2[4-9]|3\d|4[0-2])\s*(\+\d\s*)?(周|週|w\b|wk|weeks?)|孕晚期|怀孕[七八九]个?多?月|懷孕[七八九]個?多?月|[七八九]个多?月(的)?(身孕|孕)"
        r"|\b(2[4-9]|3\d|4[0-2]) ?(weeks|wks?)\b|\bthird trimester\b",
    ),
    # ... and told with 胎动 itself after a verb of feeling (几乎没感觉到胎动, 感覺唔到胎動), as movements weaker or fewer
    # than usual, or as a kick count that failed (数了两个小时不到十下, "only 4 kicks in two hours") — late only, like
    # the row above (before 24 weeks movements come and go)
    (
        "obstetric",
        r"(没|沒|冇|无|無|很少|好少|几乎没|幾乎冇)(怎么|怎麼|太|咩|乜|點|什么|甚么|有)?(感觉|感覺|觉得|覺得|覺|感受|摸|数|數)(得)?(到|出)?(什么|甚么|乜|咩|有)?(胎动|胎動)"
        r"|(感觉|感覺|摸|覺|数|數)(不|唔)(到|出)(什么|甚么|乜|咩|有)?(胎动|胎動)"
        r"|(胎动|胎動)(比|较|較)?(平时|平時|平常|以前|昨天|往常)?(明显|明顯|好似|好像|感觉|感覺|真系|真係)?(少|弱|慢|減少|减少|停)(了|咗|左|好多|很多|多了|咗好多|晒)"
        r"|(数|數)(了|咗)?.{0,10}(胎动|胎動|宝宝|寶寶|bb|BB)?.{0,10}(不到|唔够|唔夠|不够|不夠|少于|少過|少过|只有|得)\s*(\d|[一二三四五六七八九十两兩])+\s*(下|次|个|個)"
        r"|\b(kick count|counting kicks|count(ed|ing)? (the )?(kicks|movements))\b.{0,60}\b(only|just|fewer than|less than|under|not even|didn'?t get)\b"
        r"|\b(only|just|fewer than|less than|not even)\s+(\d|one|two|three|four|five|six|seven|eight|nine)\s+(kicks|movements)\b"
        r"|\b(movements?|kicks?)\b.{0,20}\b(weaker|fewer|less|slower|much less|quieter)\b.{0,20}\b(than|today|since)"
        r"|\b(less|fewer|reduced|decreased|weaker) (\w+ )?(movements?|kicks?|moving|kicking)\b"
        r"|\b(baby|he|she)('s| is| has been| was)( really| very| much| so)? (quiet|still)\b.{0,12}\b(today|all day|since|tonight|this (morning|afternoon|evening))",
        r"(2[4-9]|3\d|4[0-2])\s*(\+\d\s*)?(周|週|w\b|wk|weeks?)|孕晚期|怀孕[七八九]个?多?月|懷孕[七八九]個?多?月|[七八九]个多?月(的)?(身孕|孕)"
        r"|\b(2[4-9]|3\d|4[0-2]) ?(weeks|wks?)\b|\bthird trimester\b",
    ),
    # a kick count that failed, its count in a clause of its own ("数胎动，两个小时不到5次"): late, with 胎动 or kicks named
    (
        "obstetric",
        r"(\d|[一二两兩三四五六七八九十半])+\s*(个|個)?(多)?(小时|小時|鐘|钟头|鐘頭).{0,4}(不到|唔够|唔夠|不够|不夠|少于|少過|少过|只有|才|得)\s*(\d|[一二三四五六七八九十两兩])+\s*(下|次)",
        (
            r"(2[4-9]|3\d|4[0-2])\s*(\+\d\s*)?(周|週|w\b|wk|weeks?)|孕晚期|怀孕[七八九]个?多?月|懷孕[七八九]個?多?月|[七八九]个多?月(的)?(身孕|孕)",
            r"胎动|胎動|踢|郁",
        ),
    ),
    # a wild mushroom eaten, then vomiting and diarrhoea (amanita's gut phase comes 6–24 hours later and settles
    # before the liver fails), jaundice, dark urine or hallucinations: not a shop's mushrooms, not one with no sign.
    # Like a paracetamol overdose, told calmly once the vomiting has settled: never vetoed (NEVER_VETOED)
    (
        "mushroom_poisoning",
        r"(野|山上|山里|山裏|路边|路邊|林子|树林|樹林|后山|後山|自己)(采|採|摘|捡|撿|拾)?(的|嘅|咗|了|回来的|回來的)?(生)?(蘑菇|菌子|菌|菇)|野生(蘑菇|菌|菇)|毒(蘑菇|菌|菇)"
        r"|(采|採|摘|捡|撿)(了|咗)?.{0,6}(蘑菇|菌子|野菌|野菇)"
        r"|\b(wild|foraged|picked|garden|lawn|forest|woods?) mushrooms?|\bmushrooms? (i|we|he|she|they) (picked|found|foraged|gathered)|\b(death cap|toadstool|amanita)",
        r"吐|呕|嘔|拉肚子|肚泻|腹泻|腹瀉|屙|泻|瀉|黄疸|黃疸|(眼|眼睛|眼白|皮肤|皮膚|脸|面).{0,4}(黄|黃)|尿.{0,6}(黄|黃|深|茶色|浓|濃|酱油|醬油|可乐|可樂)|幻觉|幻覺|小人|看到.{0,4}(东西|人)在"
        r"|vomit|throw\w* up|threw up|diarrh|sick|yellow|jaundice|dark (urine|pee|wee)|hallucinat|confus",
    ),
    # a suicide planned, the means gathered, or a "painless" or lethal amount asked for (said in any frame, like the
    # other self-harm words): "攒够了安眠药", "今晚就打算结束", "吃多少片会没有痛苦", "how many would it take to not
    # wake up" — not a question about a safe dose
    (
        "self_harm",
        r"(吃|服|吞|食|喝)(多少|几|幾|幾多)(片|粒|颗|顆|瓶|盒|樽|支)?.{0,8}(才|就|先|会|會|能|可以)?.{0,3}(没有痛苦|沒有痛苦|没痛苦|不痛苦|唔痛苦|冇痛苦|无痛|無痛|不难受|唔辛苦|不会醒|不會醒|唔會醒|醒不过来|醒不來|醒唔返|死|一睡不醒|长眠|長眠|解脱|解脫)"
        r"|(没有痛苦|沒有痛苦|不痛苦|无痛|無痛|安乐|安樂)(地|的|咁)?(死|死去|离开|離開|走|结束|結束|自杀|自殺)"
        r"|\bhow (many|much)\b.{0,40}\b(to die|to not wake|never wake|not wake up|be fatal|fatal dose|lethal|painless|to end it|kill (me|myself|a person|someone))"
        r"|\b(painless|peaceful)(ly)? (way|ways|method) (to|of) (die|dying|go|end it)|\b(lethal|fatal) (dose|amount) (of|for) (me|myself)"
        r"|(打算|准备|準備|决定|決定|计划|計劃|想好)(在)?(今晚|今天|今日|今夜|明天|聽日|这周|這週|周末)?(就)?(结束|結束|了断|了斷|了结|了結|走|離開|离开)(了|咗|吧|啦)?$"
        r"|\b(going to|gonna|plan(ning)? to|decided to|ready to|will) end (it|it all|everything|things)\b(?! (with|between|off))",
        None,
    ),
    (
        "self_harm",
        r"(攒|攢|囤|存|藏|收集|凑|湊|储|儲|买|買)(了|好|够|夠|咗|埋|齐|齊)(了|晒)?.{0,10}(药|藥|安眠|瞓覺|炭|木炭|绳|繩)"
        r"|(药|藥|安眠药|安眠藥|瞓覺藥).{0,6}(都)?(攒|攢|囤|存|储|儲|收集)(好|够|夠|齐|齊)"
        r"|\b(stockpil\w*|hoard\w*|stash\w*|sav(ed|ing) up|been saving|collected|been collecting)\b.{0,20}\b(pills|tablets|meds|medication|sleeping pills|painkillers|tramadol|insulin)",
        r"今晚|今夜|今天晚上|结束|結束|了断|了斷|了结|了結|自杀|自殺|死|痛苦|辛苦|醒|解脱|解脫|一了百了|不想活|唔想活|活不下去|告别|告別|再见"
        r"|tonight|\bend (it|things|everything)|\bdie\b|\bdying\b|painless|\b(not|never) wake|wake up|goodbye|enough to|kill myself|suicid",
    ),
    # heat stroke: heat exposure with the brain affected (confusion, not knowing people, collapse or a fit); heat
    # exhaustion's headache, dizziness and sweating are not it
    (
        "heat_stroke",
        r"中暑|熱射病|热射病|烈日|暴晒|暴曬|(太阳|太陽|日头|日頭)(底)?下|曬(咗|了)|晒(咗|了)|天台|桑拿|汗蒸|高温(天|作业|作業|下)|高溫(天|作業|下)"
        r"|(天气|天氣|气温|氣溫|室外|外面|今日|今天)(都|有|成|啱啱|差不多)?.{0,2}(3[5-9]|4[0-5]|三十[五六七八九]|四十)(多)?\s*(度|℃)|(好|很|太|特别|咁)热(的|嘅)?(天|天气|天氣)|大热天|大熱天|热天|熱天"
        r"|\bheat ?stroke\b|\bheat ?wave\b|\bin the (sun|heat)\b|\bhot (day|weather|car|sun|attic)\b|\bsauna\b|\b(3[5-9]|4[0-5]) ?°?c (outside|out|today|day)\b",
        r"神志不清|意识(模糊|不清)|意識(模糊|不清)|认不出|認唔到|唔認得|不认(人|得)|不認(人|得)|说胡话|說胡話|胡言乱语|胡言亂語|答非所问|答非所問|讲嘢.{0,3}(乱|亂)|講嘢.{0,3}(乱|亂)"
        r"|叫不醒|叫唔醒|昏迷|晕倒|暈倒|昏倒|倒(在)?地|抽搐|糊涂|糊塗|胡涂"
        r"|\bconfus\w*|\bdisorient\w*|not making sense|doesn'?t (know|recogni[sz]e)|\bcollapsed\b|\bunresponsive\b|\bseizure|\bslurr\w*",
    ),
    # high potassium after missed dialysis (or a potassium read high): weakness, an irregular or slow heart — the heart
    # may stop without warning
    (
        "hyperkalaemia",
        r"(漏|错过|錯過|没去|沒去|冇去|没做|沒做|冇做|停|少做|推迟|推遲|跳过|跳過)(了|咗)?.{0,6}(透析|血透|洗肾|洗腎)|(透析|血透|洗肾|洗腎).{0,8}(没做|沒做|冇做|没去|沒去|冇去|漏|停了|错过了|錯過咗)"
        r"|\b(missed|skipped|didn'?t go to|haven'?t (been to|had)|no) (\w+ ){0,2}(dialysis|haemodialysis|hemodialysis)|\bdialysis\b.{0,30}\b(missed|skipped)"
        r"|(血钾|血鉀|potassium|\bK\+?)\s*(是|有|高到|升到|到了|达到|達到|is|was|of|at|:|：)?\s*(?<![\d.])([7-9]\.\d+|6\.[5-9]\d*|[7-9](?=\s*(mmol|毫摩)))(?!\d)",
        r"没(有)?力|無力|无力|冇力|软|軟|抬不起|抬唔起|(手|腿|脚|腳).{0,4}麻|心跳.{0,10}(乱|亂|不齐|不齊|慢|快|停)|心(慌|悸)|胸(口)?(闷|悶|痛|疼)|喘|气促|氣促"
        r"|\bweak|\bnumb|tingl|palpitat|irregular|heart\w*.{0,20}(skip|slow|racing|flutter|pound|funny)|chest|breath",
    ),
    # kinds fresh sets keep missing (seventeenth session, tri23; written from knowledge in several phrasings):
    # an asthma attack the reliever does not relieve: many puffs or doses within the hour (or puffs every few
    # minutes) with the wheeze or breathlessness still there. Its own category: an episode of a known asthma is not
    # discounted (two puffs that work are an ordinary day)
    (
        "asthma_attack",
        r"(喷|噴|吸|揿|撳|按|用|吹|索)(了|咗|左|过|過)?.{0,8}?(\d{1,2}|[四五六七八九十]|十几|十幾|好几|好幾|几十|幾十)\s*(多)?(下|次|口|泵|喷|噴|puffs?)"
        r"|(万托林|萬托林|沙丁胺醇|喘乐宁|喘樂寧|舒喘灵|舒喘靈|喷雾|噴霧|吸入器|气雾剂|氣霧劑|喷剂|噴劑|泵).{0,12}(\d{1,2}|[四五六七八九十]|十几|十幾|好几|好幾)\s*(下|次|口|泵)"
        r"|(每|隔)\s*(\d{1,2}|[五十]|十五|二十)\s*(分钟|分鐘|分)\s*(就)?(喷|噴|吸|索|用)"
        r"|\b(\d{1,2}|four|five|six|seven|eight|nine|ten|twelve|several|multiple|many|lots of)\s+(puffs|doses|times)\b.{0,40}\b(inhaler|puffer|ventolin|salbutamol|albuterol|reliever|nebuli[sz]er)"
        r"|\b(inhaler|puffer|ventolin|salbutamol|albuterol|reliever|nebuli[sz]er)\b.{0,50}\b(\d{1,2}|four|five|six|seven|eight|nine|ten|twelve|several|multiple|many)\s+(puffs|doses|times)\b"
        r"|\b(\d{1,2}|four|five|six|seven|eight|nine|ten|twelve|several|multiple|many|lots of)\s+puffs\b"
        r"|\bevery (\d{1,2}|five|ten|fifteen|twenty) (min|minutes)\b.{0,30}\b(inhaler|puffer|ventolin|salbutamol|albuterol|reliever|puffs)",
        (
            # the attack not relieved
            r"还是|還是|仍然|依然|仲係|仲喘|都係咁|没用|沒用|冇用|无效|無效|不管用|唔掂|唔見效|不见好|不見好|没缓解|沒緩解|冇緩解|没效果|沒效果|越来越|越嚟越|更喘"
            r"|\bstill\b|\b(isn'?t|not|doesn'?t|hasn'?t|not really) (helping|working|help|work|touching it|making a difference)|\bno (better|relief|difference)|\bworse",
            # within the hour, or a sign of a severe attack
            r"小时|小時|鐘|分钟|分鐘|半天|一晚|今晚|刚才|剛才|一口气|說話|说话|講嘢|讲话|一个字|一個字|嘴唇|肋骨|凹"
            r"|\bhour\b|\bhr\b|\bminutes?\b|\bmins?\b|tonight|\bwords?\b|sentences?|\bribs?\b|sucking in|\blips?\b|\bblue\b",
            # an asthma reliever or a wheeze is what was used and what is still there
            r"哮喘|喘|哮鸣|哮鳴|万托林|萬托林|沙丁胺醇|喘乐宁|喘樂寧|喷雾|噴霧|吸入|气雾|氣霧|喷剂|噴劑"
            r"|\bwheez|asthma|inhaler|puffer|ventolin|salbutamol|albuterol|reliever|nebuli[sz]er|\bbreath",
        ),
    ),
    # too breathless to speak: a few words at a time, a sentence not finished for breath; or the skin between or
    # under the ribs sucked in with each breath (recession), with breathing or a wheeze named
    (
        "breathing",
        r"(一句话|一句話|句话|句話)(都)?(说|說|讲|講)不(完|全|完整|出)|(说|說|讲|講)(唔|不)(晒|完)(一句|句)|只(能|可以|会|識)?.{0,4}(一个字一个字|一個字一個字|几个字几个字|幾個字幾個字|蹦(字|几个字))"
        r"|(说话|說話|讲话|講話|講嘢).{0,6}(一个字一个字|一個字一個字|断断续续|斷斷續續|上气不接下气|上氣唔接下氣)"
        r"|(肋骨|肋間|肋间|胸骨|锁骨|鎖骨)(下面|下|之间|之間|上面|上)?.{0,6}(凹|陷|吸进去|吸入去|扯)|三凹征|三凹徵|鼻翼(煽动|扇动|煽動|扇動)"
        r"|\b(can|could) only (say|get out|manage|speak) (a |one )?(few|couple|couple of|two|three|single|one) words?|\bspeaking in (single |short )?words\b"
        r"|\b(can'?t|cannot|unable to|couldn'?t) (finish|complete|get through) (a |her |his |their |my )?(full )?sentences?|\btoo breathless to (talk|speak)"
        r"|\b(sucking|pulling|drawing) in (under|between|below|around) (his|her|their|the) ribs|\b(skin|chest|tummy|belly|ribs?) (is )?(sucking|pulling|caving) in|\b(intercostal|subcostal|rib) recession|\btracheal tug",
        r"喘|呼吸|气|氣|哮|咳|嘴唇|\bwheez|\bbreath|asthma|inhaler|puffer|\bcough|croup|\bair\b",
    ),
    # a head injury told as the fall (off a bunk bed, down the stairs, onto the head) without 头, with vomiting more than
    # once, drowsiness or clear fluid from the nose or an ear; one vomit soon after a bump is common and not this
    (
        "head_injury",
        r"(从|從|由).{0,8}(床|上铺|上鋪|碌架床|双层床|雙層床|楼梯|樓梯|梯|桌|椅|沙发|梳化|窗|树|樹|墙|牆|高处|高處|滑梯|单车|單車|自行车|马背|馬背|屋顶|屋頂|台|枱|檯)"
        r".{0,6}(摔|跌|掉|碌|滚|滾|栽)(下来|下來|落嚟|落地|了|咗|左|到)"
        r"|(摔|跌|掉|碌|滚|滾|栽)(下|落)(了|咗|左)?.{0,3}(床|楼梯|樓梯|梯|床底|地)|(头|頭|后脑|後腦|后脑勺|後腦勺)(先)?(着地|著地|落地|撞地|撞到|撞咗|磕到|磕在)"
        r"|\bfell (off|from|down|out of) (the |a |his |her |their |my )?(top )?(bunk( bed)?|bed|stairs|steps|ladder|table|changing table|sofa|couch|counter|worktop|chair|trampoline|bike|bicycle|horse|roof|wall|tree|climbing frame|monkey bars|swing|slide|high ?chair|window|pram|buggy|shopping trolley)"
        r"|\b(fell|tumbled|slipped) down (the |a flight of |some )?(stairs|steps)|\b(hit|banged|bumped|smacked|knocked|cracked|whacked) (his|her|their|my|the back of (his|her|their|my)) head|\blanded on (his|her|their|my) head|\bhead (first|hit the)",
        r"(吐|呕|嘔)(了|咗|左)?\s*(两|兩|三|四|五|好几|好幾|几|幾|\d)\s*(次|回|轮|輪|趟|啖)|一直(吐|呕|嘔)|又(吐|呕|嘔)(了|咗)|吐个不停|吐個不停|不停(咁)?(吐|呕|嘔)"
        r"|叫不醒|叫唔醒|一直(想)?(睡|瞓)|昏昏(沉沉|欲睡)|迷迷糊糊|鼻.{0,6}(流|出|滴)(出)?.{0,6}(清水|透明)|耳.{0,6}(流|出|滴)(出)?.{0,6}(清水|透明|水|血)"
        r"|\b(thrown up|vomited|been sick|threw up|puked|sick)\b.{0,12}\b(twice|two|three|four|five|several|[2-9]|again|more than once|repeatedly)\b"
        r"|\bkeeps? (vomiting|throwing up|being sick|dozing|falling asleep|nodding off|passing out)|\bhard to (wake|rouse)|\bwon'?t (wake|stay awake)|\bdrowsy"
        r"|\bclear (fluid|watery|liquid)|\bwatery (stuff|fluid|liquid).{0,30}\b(nose|ear)|\bunequal pupils|\bseizure|\bfitting",
    ),
    # a burn or scald over a large area told by the body: from the chest to the belly, a whole back or thigh, a large
    # patch (in a child a tenth of the body is a burns-unit case)
    (
        "burn_or_shock",
        r"(从|從|由)(胸口|胸|心口|肚子|肚|個肚|背脊|后背|後背|背|腰|大腿|膊头|膊頭|肩膀|颈|頸|脖子|手臂|臂|面|脸|臉)[^，。,]{0,3}(到|去|至|落)(肚子|肚|個肚|腹|腰|大腿|膝|腳|脚|背|屁股|手|手腕|胸|髀)"
        r"|(整个|整個|成個|成个|半边|半邊|大半个|大半個)(的|嘅)?(胸|胸口|肚|肚子|背|背脊|后背|後背|大腿|腿|手臂|胳膊|屁股|臉|脸|面|身)|一大片|好大片|大片|大面积|大面積"
        r"|\bfrom (his|her|their|my) (chest|neck|shoulders?|tummy|belly|face) (all the way )?(down )?to (his|her|their|my) (belly|tummy|waist|knees?|hips?|thighs?|stomach|hands?|wrists?)"
        r"|\b(across|over|all over|covering) (most of |half of |the whole of |all of )?(his|her|their|my) (chest|back|tummy|belly|stomach|thighs?|legs?|arms?|face)"
        r"|\b(large|big|huge|wide) (area|patch|part|section)",
        (
            r"烫伤|燙傷|烧伤|燒傷|烫到|燙到|烧到|燒到|烫了|烫红|被烫|燙咗|燙親|淥親|淥到|淥傷|淥咗|烫着|淋到|泼到|潑到|开水|開水|滚水|滾水|热油|熱油|滚油|热汤|熱湯|火烧|火燒|着火|著火|起火"
            r"|\bburn(ed|t|s)?\b|\bboiling|scald|\bhot (oil|water|soup|tea|coffee|drink)|fire|flame",
            r"起泡|水泡|泡|发白|發白|脱皮|甩皮|红肿|紅腫|孩子|宝宝|寶寶|小朋友|BB|\bblister|\bpeel|\bwhite\b|\braw\b|child|baby|toddler|\bson\b|\bdaughter\b|\bkid\b|\d+\s*(yo|year)",
        ),
    ),
    # anaphylaxis in traditional characters and Cantonese, and in English without the word: the face, lips, tongue or
    # eyes swollen (the eyes swollen shut) after a drug, a food or a sting, with speaking, breathing or the head affected
    (
        "anaphylaxis",
        r"(脸|臉|塊面|块面|個面|个面|面部|面頰|面颊|嘴唇|咀唇|口唇|舌头|舌頭|眼皮|喉嚨|喉咙)(都|全|好|成個|成个)?.{0,3}(肿|腫)(起来|起來|晒|曬|咗|左|埋|到|得|了)"
        r"|(眼|眼睛)(都)?(擘唔開|擘唔开|擘不开|睁不开|睜不開|张不开|張不開)"
        r"|\b(face|lips?|tongue|mouth)\b.{0,20}\b(swollen|swelling|swelled|puff(ed|y|ing) up|blown up|ballooned)\b|\b(eyes?) (are |is )?(swollen|puffed) shut"
        r"|\bcan'?t open (his|her|my|their) eyes",
        (
            r"食咗|吃了|吃完|服了|藥|药|抗生素|消炎|打針|打针|针|針|蛰|蜇|叮|花生|海鲜|海鮮|蝦|虾|蟹|果仁|坚果|堅果"
            r"|antibiotic|penicillin|amoxi|cillin|new (medicine|medication|drug|pill|tablet)|\btook\b|\bate\b|after eating|\bsting|stung|injection|peanut|\bnuts?\b|shellfish|prawn|shrimp",
            r"講嘢|讲嘢|讲话|講話|說話|说话|声|聲|呼吸|喘|氣促|气促|透唔到|透不过|暈|晕|喉|吞|辛苦"
            r"|\bspeak|\btalk|voice|breath|wheez|dizz|faint|throat|swallow|hoarse|light-?headed|collaps",
        ),
    ),
    # kinds fresh sets keep missing (seventeenth session, tri24; written from knowledge in several phrasings):
    # heavy bleeding told by a quantity over time: a pad (or a maternity pad) soaked through in an hour or less, for
    # hours, or with faintness, a racing heart or large clots. One heavy day with a pad every few hours is not it
    (
        "bleeding",
        r"(一|每|半|不到一|不够一|不夠一|唔夠一|唔够一)\s*(个|個)?(小时|小時|鐘|钟头|鐘頭|粒鐘)(就|都|已经|已經|便)?.{0,4}(湿透|濕透|浸透|湿晒|濕晒|湿哂|渗透|滲透|换|換|满|滿)(了|咗|左)?.{0,6}(卫生巾|衛生巾|夜用|日用|姨妈巾|姨媽巾|护垫|護墊|棉条|棉條|M巾|产妇垫|產婦墊|产褥垫|尿垫|尿墊|片|塊|块)"
        r"|(卫生巾|衛生巾|夜用|姨妈巾|姨媽巾|护垫|護墊|棉条|棉條|M巾|产妇垫|產婦墊).{0,10}(一|每|半|不到一|唔夠一)\s*(个|個)?(小时|小時|鐘|钟头|鐘頭|粒鐘).{0,4}(就|都|便)?.{0,2}(湿透|濕透|浸透|湿晒|濕晒|渗透|滲透|换|換|满|滿)"
        r"|\b(soak\w*|fill\w*|go(ing|es)? through|went through|chang\w*|bleed\w* through)\b.{0,30}\b(pads?|tampons?|towels?|sanitary \w+|maternity pads?)\b.{0,30}\b(every|an|each|per|within an?|in an?|in under an?|in less than an?)\s*(hour|hr|half[- ]hour|30 min\w*)"
        # a count of pads in one or two hours (two or more: a pad an hour or faster)
        r"|(半|一|两|兩|1|2)\s*(个|個)?(小时|小時|鐘|钟头|鐘頭)(内|內|之内|之內)?.{0,4}(就|已经|已經|都)?.{0,2}(湿透|濕透|浸透|湿晒|濕晒|换|換|用)(了|咗|左|咗成)?\s*([2-9]|两|兩|三|四|五|六|七|八|好几|好幾)\s*(片|塊|块|张|張|個|个)"
        r"|\b(soak\w*|went through|gone through|go(ing|es)? through|used|filled|changed)\b.{0,20}\b([2-9]|two|three|four|five|six|seven|eight|several)\s+(\w+\s+)?(pads|tampons|towels)\b.{0,20}\b(in|within) (the (last|past) )?(an?|one|two|1|2|half an?) (hours?|hrs?)\b"
        r"|\b(a|one|1) (pad|tampon|maternity pad|sanitary (pad|towel))s? (an|every|per|each) (hour|hr)",
        r"(连续|連續|已经|已經|持续|持續|成|都)?.{0,3}(两|兩|三|四|五|几|幾|好几|好幾|[2-9])\s*(个|個)?(多)?(小时|小時|鐘|钟头|鐘頭)|一(个|個)?(整晚|成晚|晚上|上午|下午)"
        r"|头晕|頭暈|晕|暈|眼前(发|發)?黑|眼前一黑|心跳.{0,4}(快|厉害|厲害|好快|得好)|心慌|心悸|冷汗|(脸|臉|面)色?(苍白|蒼白|发白|發白|青)|站不(住|稳|穩)|企唔穩|(大|好大|很大|拳头|拳頭|鸡蛋|雞蛋|硬币|硬幣|手掌|乒乓球).{0,4}(的|嘅|咁)?(大)?(血块|血塊|血饼|血餅)"
        r"|\bfor (two|three|four|five|several|a few|the (last|past) (two|three|few|several|\d))\s*(\+\s*)?(hours|hrs)\b|\bfor [2-9]\+? ?(hours|hrs)\b|\bsince (this morning|last night|lunch|midnight)|\ball (night|morning|afternoon|evening)\b"
        r"|dizz|faint|light-?headed|shaky|racing|pounding|palpitat|\bpale\b|clammy|black(ed|ing)? out|clots? (the size of|bigger than|as big as|larger than)|golf ?ball|(large|big|huge) clots",
    ),
    # a seizure told by its length or as still going (five minutes or more is status epilepticus), in any words for
    # the fit: "抽了五分钟还没停", "抽咗成十分鐘", "having a fit … still jerking"; with the body or the face told
    (
        "status_epilepticus",
        r"(抽搐|抽筋|抽动|抽動|抽|痉挛|痙攣|惊厥|驚厥|发抖|發抖|搐)(了|咗|左)?(有|成|快|差不多|大概|超过|超過|足足)?\s*([5-9]|[1-5]\d|[五六七八九十]{1,2}|十几|十幾|二十|好几|好幾)\s*(多)?\s*(分钟|分鐘|分)"
        r"|(抽搐|抽筋|抽动|抽動|抽|痉挛|痙攣|惊厥|驚厥|搐)(个|個|咗|了)?(不停|没停|沒停|还没停|還沒停|还未停|未停|仲未停|唔停|停不下来|停不下來|停唔到|停唔落)|(还在|還在|仍在|仍然在|一直在|仲喺度|仲係度)(抽搐|抽筋|抽|痉挛|痙攣|搐)"
        r"|\b(fit|fits|fitting|seizure|seizing|convuls\w*|jerking|twitching|shaking)\b.{0,60}\b([5-9]|[1-5]\d|five|six|seven|eight|nine|ten|fifteen|twenty|several)\s*(\+\s*)?(minutes|mins?)\b"
        r"|\b([5-9]|[1-5]\d|five|six|seven|eight|nine|ten|fifteen|twenty|several)\s*(\+\s*)?(minutes|mins?)\b.{0,40}\b(still|fitting|seizing|convuls\w*|jerking|twitching)\b"
        r"|\bstill (jerking|fitting|seizing|convulsing|twitching|having (a|the) (fit|seizure))\b|\b(fit|seizure|jerking|shaking|fitting)\b.{0,20}\b(won'?t|isn'?t|hasn'?t|has not|is not|not|didn'?t) stop",
        r"全身|手脚|手腳|四肢|翻白眼|反白眼|眼.{0,3}(上翻|翻|吊)|口吐白沫|吐白沫|白泡|牙关|牙關|咬(舌|住)|(没|沒|冇)(有)?反应|(没|沒|冇)(有)?反應|叫不(醒|应|應)|叫唔(醒|應)|唔應|嘴唇|脸色|臉色|面色|发紫|發紫|发青|發青|癫痫|癲癇|羊癫疯|羊癲瘋|抽搐|惊厥|驚厥|意识|意識"
        r"|\b(fit|fits|fitting|seizure|epilep\w*|unresponsive|lips?|grey|gray|blue|eyes (rolled|rolling)|foam\w*|arms and legs|whole body|limbs|not responding|stiff|convuls\w*)\b",
    ),
    ("heart_attack", r"心梗|心肌梗|心脏病(犯了|发作)|heart attack|myocardial infarction", None),
    ("seizure", r"抽搐|抽风|惊厥|癫痫.{0,2}发作|seizure|convuls|fitting", None),
    (
        "thunderclap_headache",
        r"(头痛|头疼).{0,10}(炸|裂|最严重|从没这么|从来没有这么|前所未有|剧烈)|突然.{0,4}剧烈.{0,2}头(痛|疼)|爆炸样头痛"
        r"|worst headache|thunderclap|sudden(ly)?,? severe headache",
        None,
    ),
    (
        "gi_bleeding",
        r"吐血|呕血|吐了.{0,4}血|咳.{0,2}血|vomit(ing|ed)? blood|throwing up blood|coughing up blood",
        None,
    ),
    (
        "gi_bleeding",
        r"黑便|柏油样|大便.{0,6}黑|便血|black.{0,10}stool|tarry|blood in.{0,6}stool",
        r"头晕|眼前发黑|心慌|晕|乏力|dizz|faint|lightheaded|pass out",
    ),
    (
        "acute_abdomen",
        r"(肚子|腹部|腹|摸上去).{0,12}(硬得像|像木板|板一样|硬邦邦)|板状腹|(belly|abdomen|stomach|it).{0,40}(hard as a board|rigid|board-like)",
        None,
    ),
    (
        "head_injury",
        r"(摔|撞|磕|砸|打).{0,6}头|头部(受伤|外伤)|脑震荡|hit (his|her|my|their) head|head injury|concussion|fell on (his|her|my) head",
        r"糊涂|不认人|意识|迷糊|记不清|呕吐|吐了|嗜睡|说胡话|confus|vomit|not making sense|asking the same|drowsy|can't remember",
    ),
    ("pregnancy_bleeding", r"(怀孕|孕|妊娠).{0,20}(出血|流血|见红.{0,4}(很多|大量))|pregnan.{0,50}bleed", None),
    # the obstetric emergencies that are not bleeding (fifteenth session): the cord felt or seen after the waters
    # broke, and a baby that has stopped moving late in pregnancy (in a pregnancy: weeks, 孕, 胎)
    (
        "obstetric",
        r"脐带(脱垂|脱出|掉出|滑出|露出|垂出|出来了)|(摸到|看到|看见|感觉到|摸着)(了)?.{0,6}脐带"
        r"|\bcord (prolapse|is (coming|hanging) out|coming out)|\b(loop of|feel the|see the|felt the|saw the) (umbilical )?cord\b",
        None,
    ),
    (
        "obstetric",
        r"胎动(明显|突然|一下子)?(减少|少了很多|变少了|少多了|消失|没了|停了|感觉不到)|(没有|没|感觉不到|摸不到)(了)?胎动"
        r"|(宝宝|宝贝|胎儿|\bbaby).{0,6}(一整天|整天|一天|大半天|半天|一上午|一下午|一晚上|一夜|[\d一二两三四五六七八九十几]+\s*个?(多)?小时)(都|也)?(没|不)(怎么)?动"
        r"|\b(baby|fetus|foetus) (hasn'?t|has not|hasn'?t been|isn'?t|is not|stopped|has stopped) (moved|moving|kicking)"
        r"|\b(no|reduced|decreased|fewer|less) (fetal|foetal|baby'?s?) movements?|\b(haven'?t|have not|not) felt (the |my )?baby move",
        r"孕|怀|\d+\s*周|胎|\bweeks?\b|\bwks?\b|pregnan",
    ),
    (
        "meningitis_signs",
        r"(脖子|颈部?).{0,3}(发硬|僵硬|硬了|硬得|发僵)|低不下头|stiff neck|neck.{0,8}stiff",
        r"发烧|发热|高烧|高热|fever",
    ),
    ("burn_or_shock", r"大面积(烧|烫)伤|触电|电击|溺水|drown|electrocut|severe burn", None),
    (
        "cardiac_arrest",
        r"没(有)?了?(呼吸|心跳)(了|[，,。.!！]|$)|(呼吸|心跳)(都)?(停|没)了|不(会)?(呼吸|喘气)了|摸不(到|着)(脉|心跳)"
        r"|(isn't|is not|not|stopped|stop) breathing|no pulse|(can't|cannot) feel (a|his|her) pulse|heart (has )?stopped",
        None,
    ),
]
_COMPILED = [
    (cat, re.compile(p, re.I), tuple(re.compile(x, re.I) for x in ((c,) if isinstance(c, str) else c or ())))
    for cat, p, c in _RED_FLAGS
]
# signs that are themselves phrased with a negation ("没有呼吸了", "not breathing"): the negation rule must not
# swallow them
_NEGATION_IS_THE_SIGN = frozenset({"cardiac_arrest", "dehydration", "bowel_obstruction"})
_SAID_IN_ANY_FRAME = frozenset({"self_harm"})
# a sign the question itself says is over ("流了好多血，按压后止住了") or expected (no wind in the days after an
# operation, watched on the ward)
_RESOLVED = {
    "bowel_obstruction": re.compile(
        r"术后|手术后|剖腹产后|剖宫产后|\bafter (the |my |her |his )?(surgery|operation|op|c-section|caesarean)\b|\bpost-?op",
        re.I,
    ),
    "bleeding": re.compile(r"(?<!不)止住|不(再)?流(血)?了|\b(stopped bleeding|bleeding (has )?stopped)\b", re.I),
    # a cold foot or leg that warmed up again (winter, sitting on it) is not a blocked artery
    "limb_ischaemia": re.compile(r"暖(和)?(过来|回来|返)?了|回暖|变暖|\bwarm(s|ed)? (back )?up\b|\bwarmed\b", re.I),
}

# a question about a disease in general ("心肌梗死的早期症状有哪些？", "What are the warning signs of a heart
# attack?") is not an emergency; it is one only when someone is described: a person, or the time being now
_INFORMATIONAL = re.compile(
    r"有哪些|是什么|什么是|怎么(发生|预防|识别|区分|回事|引起)|如何(预防|识别|判断|急救)|区别|原理|前兆|早期(症状|表现)"
    r"|典型(症状|表现)|一般(是|会|有)|多少.{0,4}(中毒|算过量)|为什么|为啥|会传染吗"
    r"|\bwhat (are|is|happens|causes)\b|\bhow (do|does|much|many|long|is)\b|\bwhy (do|does|is|are)\b"
    r"|\b(warning )?signs of\b|\bsymptoms of\b|\bdifference between\b|\bconsidered\b",
    re.I,
)
# more ways to ask about a condition in general, weighed clause by clause only (a question in one clause does not
# discount a sign described in another)
_GENERAL = re.compile(
    _INFORMATIONAL.pattern
    + r"|一般|(?<![没不])多久|多长时间|后遗症|一回事|真的.{0,20}吗|是真的吗|有多(危险|严重)|危险在哪"
    r"|死亡率|存活率|遗传|\balways\b|\bcan an? \w+|\bsurvival rate\b|\b(hereditary|genetic|contagious)\b"
    r"|\bhow (quickly|fast|soon|dangerous)\b|\bsigns? of\b|征兆|迹象|什么信号|预防|注意(什么|哪些|事项)|\bpeople (with|who)\b|\bprevent(s|ing|ion)?\b|\b(the )?risk of\b",
    re.I,
)
_SOMEONE_NOW = re.compile(
    r"我|俺|咱|他|她|孩子|宝宝|小孩|儿子|女儿|老公|老婆|爸|妈|爷|奶|外公|外婆|朋友|同事|邻居|刚才|刚刚|现在|正在|突然"
    r"|\b(i|i'm|my|me|he|she|his|her|we|our|us|they)\b|right now|just now",
    re.I,
)


def is_informational(text: str) -> bool:
    """A general question about a condition, with no one described as having it now."""
    return bool(_INFORMATIONAL.search(text)) and not _SOMEONE_NOW.search(text)


@dataclass(frozen=True)
class RedFlag:
    """One emergency sign found in the user's words."""

    category: str
    evidence: str

    def describe(self) -> str:
        """The sign as reports and reasons name it: category (the words that fired)."""
        return f"{self.category} ({self.evidence})"


def _current_match(
    pattern: re.Pattern[str],
    text: str,
    negation_counts: bool = True,
    imagined_counts: bool = True,
    learning: bool = False,
) -> str | None:
    # "老是说胸口疼，刚才疼得出冷汗": once the question says this time is now, the usual complaint is part of it
    recurrent_counts = not _ACUTE.search(text)
    for clause in _clauses(text):
        if _framed(clause, imagined_counts, recurrent_counts):
            continue
        for m in pattern.finditer(clause):
            if negation_counts and (_negated(clause, m.start()) or _negated_inside(pattern, m.group())):
                continue
            if _figurative(clause, m.start(), m.end()) or (imagined_counts and _feared(clause, m.start())):
                continue
            if learning and not _HAPPENED.match(clause[m.end() :]):
                continue  # a question about learning first aid: only a sign that has happened ("晕倒了") counts
            if not _historical(clause, m.end(), text):
                return m.group()
    return None


def discounted_mentions(text: str) -> list[str]:
    """Red-flag categories that appear in text only negated, in the past, imagined, asked about in general or as a
    figure of speech ("没有胸痛", "三年前胸痛过", "如果有人触电", "累得想死")."""
    patterns = [(category, primary) for category, primary, _companion in _COMPILED] + [("fever", _FEVER)]
    return [
        category
        for category, primary in patterns
        if any(primary.search(clause) for clause in _clauses(text)) and _current_match(primary, text) is None
    ]


# a fever told as a reading without a unit ("量了肛温38.4", "a temp of 38.2") or a baby hot to the touch; 37.x is not one
_INFANT_FEVER = re.compile(
    _FEVER.pattern
    + r"|(肛温|肛溫|腋温|腋溫|耳温|耳溫|额温|額溫|口温|口溫|體溫|温度|溫度|量了|量咗|探热|探熱)\s*(是|有|为|為|係|:|：)?\s*3[89](\.\d)?(?!\d)"
    r"|摸(着|著|起来|起來|落)?(很|好|特别|特別|有啲|有点|有點)?(烫|燙|滾)|\btemp\w*\b.{0,12}\b3[89](\.\d)?\b|\bburning up\b"
    r"|\b(100\.[4-9]|10[1-5](\.\d)?) ?(°|f\b|degrees)",
    re.I,
)
# a newborn is under three months by the word itself
_NEWBORN = re.compile(
    r"新生儿|新生兒|初生(婴儿|嬰兒|BB|宝宝|寶寶)|刚出生|剛出生|未满月|未滿月|刚满月|剛滿月|\bnewborn\b|\bneonat\w*",
    re.I,
)


def _infant_fever(text: str) -> str | None:
    fever = _current_match(_INFANT_FEVER, text, learning=not_happening_now(text))
    # a fever a doctor has since seen and named ("…发烧，带到医院检查，大夫说是肺炎，怎么护理") is being cared for
    if not fever or (text.find(fever) >= 0 and _over_by_the_question(text, text.find(fever) + len(fever))):
        return None
    newborn = _NEWBORN.search(text)
    if newborn:
        return newborn.group()
    for m in _INFANT_AGE.finditer(text):
        if m.group("n2"):
            n, unit = _number(m.group("n2")), m.group("unit2")
        elif m.group("n"):
            n, unit = _number(m.group("n")), m.group("unit")
        else:
            raw = m.group("en").lower()
            n, unit = float(_EN_NUM.get(raw, raw) if not raw.isdigit() else raw), m.group("eunit").lower()
        days = (
            n
            * {"月": 30, "month": 30, "周": 7, "週": 7, "星期": 7, "礼拜": 7, "禮拜": 7, "week": 7, "天": 1, "day": 1}[
                unit
            ]
        )
        if days <= 92:  # under three months, any fever needs a doctor now
            return m.group()
    return None


# on chemotherapy now (not years ago: the history frames of _current_match discount that)
_ON_CHEMO = re.compile(
    r"化疗|化療|放化疗|\bchemo(therapy)?\b|\bon (chemo|chemotherapy)\b|\b(FOLFOX|FOLFIRI|R-?CHOP|AC-T|TC)\b (cycle|course)",
    re.I,
)


_CHEMO_FEVER = re.compile(_FEVER.pattern + r"|\btemp(erature)?\b.{0,15}\b3[89](\.\d)?\b|体温.{0,6}3[89]", re.I)


def _fever_on_chemo(text: str) -> str | None:
    # a fever during chemotherapy may be neutropenic sepsis, which kills within hours whatever else the person feels
    fever = _current_match(_CHEMO_FEVER, text, learning=not_happening_now(text))
    chemo = _current_match(_ON_CHEMO, text) if fever else None
    # "化疗期间发烧怎么办": with no one described, a question about chemotherapy in general
    if not chemo or not _SOMEONE_NOW.search(text) or not_someone_here(text):
        return None
    return f"{chemo} + {fever}"


# a drug whose overdose kills a day or days later with the person feeling well meanwhile (paracetamol's liver, iron),
# taken in a large amount: an emergency however calmly it is told ("I feel fine now", "I regret it", "I won't do it
# again"), so neither the classifier nor the intent model may veto it (NEVER_VETOED)
_DELAYED_DRUG = re.compile(
    r"对乙酰氨基酚|對乙醯氨基酚|对乙酰|扑热息痛|撲熱息痛|必理痛|泰诺|泰諾|百服宁|百服寧|散利痛|铁剂|鐵劑|补铁片|補鐵片|硫酸亚铁"
    r"|paracetamol|acetaminophen|tylenol|panadol|calpol|co-?codamol|\biron (tablets|pills|supplements)\b|ferrous",
    re.I,
)
_DELAYED_AMOUNT = re.compile(
    r"(吃|吞|服|食|喝|嗒)(了|咗|左|下|掉|落|晒|曬)?.{0,8}?(\d{2,}\s*(多)?(片|粒|颗|顆)|[二三四五六七八九]十|几十|幾十|十几|十幾"
    r"|(一整|整|一|成|半)(瓶|板|盒|排|包|樽|版)|一(大)?把)"
    r"|\b(took|taken|swallowed|ate|had|downed|popped)\s+(about |around |like |maybe |over |nearly |almost |at least )?"
    r"((\d{2,}|ten|twelve|fifteen|sixteen|twenty|thirty|forty|fifty)\b(?!\s*(mg|ml|g\b|mcg|min|minutes|hours|days|years))"
    r"|(a|the|my|his|her|an) (whole |entire |full )?(bottle|pack|packet|box|strip|blister|tub)\b|a handful)",
    re.I,
)
# the categories no veto removes (the rules' own frames still apply)
NEVER_VETOED = frozenset({"delayed_overdose", "mushroom_poisoning", "child_ingestion"})


def _delayed_overdose(text: str, learning: bool) -> str | None:
    drug = _current_match(_DELAYED_DRUG, text, learning=learning)
    amount = _current_match(_DELAYED_AMOUNT, text, learning=learning) if drug else None
    if not amount or not_someone_here(text):
        return None
    return f"{amount} + {drug}"


# a small child who swallowed a drug of which one or a few pills can kill a toddler hours later (calcium-channel
# blockers, beta-blockers, sulfonylureas, opioids, clonidine, tricyclics, iron, digoxin, camphor): an emergency with no
# sign yet ("still running about", "没啥反应") — the child is well until the drug acts, so no veto removes it
# (NEVER_VETOED). Not a pattern of _RED_FLAGS: a drug's name alone is no sign for the frames that look for one
_TODDLER_DANGER_DRUG = re.compile(
    r"降压药|降壓藥|降血压(的)?药|降血壓(嘅|的)?藥|血压药|血壓藥|高血压(的)?药|高血壓(嘅|的)?藥|氨氯地平|络活喜|絡活喜|硝苯地平|拜新同|心痛定|非洛地平|波依定|维拉帕米|維拉帕米|地尔硫卓|地爾硫卓|合心爽"
    r"|倍他乐克|倍他樂克|美托洛尔|美托洛爾|普萘洛尔|普萘洛爾|心得安|阿替洛尔|阿替洛爾|比索洛尔|比索洛爾|康忻|卡维地洛|卡維地洛"
    r"|降糖药|降糖藥|降血糖(的)?药|降血糖(嘅|的)?藥|糖尿病(的|嘅)?(药|藥)|格列本脲|优降糖|優降糖|格列齐特|格列齊特|达美康|達美康|格列美脲|亚莫利|亞莫利|格列吡嗪|美吡达|美吡達"
    r"|可乐定|可樂定|阿米替林|去甲替林|丙米嗪|丙咪嗪|多塞平|氯米帕明|三环类|三環類|曲马多|曲馬多|吗啡|嗎啡|羟考酮|羥考酮|奥施康定|可待因|美沙酮|芬太尼|丁丙诺啡|丁丙諾啡|地高辛|铁剂|鐵劑|补铁|補鐵|硫酸亚铁|硫酸亞鐵|樟脑丸|樟腦丸"
    r"|\b(amlodipine|norvasc|nifedipine|adalat|felodipine|verapamil|diltiazem|calcium[- ]channel|beta[- ]?blockers?|propranolol|metoprolol|atenolol|bisoprolol|carvedilol|labetalol"
    r"|gliclazide|glipizide|glibenclamide|glyburide|glimepiride|sulfonylureas?|sulphonylureas?|clonidine|amitriptyline|nortriptyline|imipramine|doxepin|clomipramine|tricyclics?"
    r"|oxycodone|oxycontin|morphine|codeine|methadone|fentanyl|buprenorphine|tramadol|hydrocodone|opioids?|digoxin|ferrous|iron (tablets|pills|supplements)|camphor|mothballs?)\b"
    r"|\b(blood[- ]pressure|bp|heart|diabetes|diabetic|sugar) (pills?|tablets?|meds?|medicine|medication)\b",
    re.I,
)
_SWALLOWED = re.compile(
    r"(吃|食|吞|嚼|咬|舔|服|含)(了|咗|左|下|掉|落|进|進|晒|曬|过|過)|偷(吃|食)|误(吃|服|食|吞)|誤(吃|服|食|吞)|(少|唔見|不见|不見)(了|咗)?.{0,4}(\d|[一二两兩三四五六七八九十几幾])\s*(片|粒|颗|顆)"
    r"|\b(swallowed|ate|eaten|chewed|chewing|licked|got into|has had|had some|popped)\b|\bin (his|her|their) mouth\b|\b(pills?|tablets?) (are |is )?missing\b",
    re.I,
)
_SMALL_CHILD = re.compile(
    r"(?<![\d.])[1-6]\s*(岁|歲)|(?<![\d.])\d{1,2}\s*(个|個)?(多)?月(大|的|嘅)|[一二两兩三四五六](岁|歲)|宝宝|寶寶|\bBB\b|婴儿|嬰兒|幼儿|幼兒|小朋友|细路|細路|(个|個)(仔|女)|孩子|小孩|娃"
    r"|\btoddler|\binfant|\bbaby\b|\blittle (one|boy|girl)\b|\b[1-6][- ]?(yo|y/?o|yr|years?)(?![a-z])|\b(one|two|three|four|five|six)[- ]?years?[- ]?old|\b\d{1,2}[- ]?months?[- ]?old\b|\b(my|our) \d[- ]?(yo|y/?o)\b",
    re.I,
)


def _child_ingestion(text: str, learning: bool) -> str | None:
    drug = _current_match(_TODDLER_DANGER_DRUG, text, learning=learning)
    took = _current_match(_SWALLOWED, text, learning=learning) if drug else None
    child = _SMALL_CHILD.search(text) if took else None
    if not child or not_someone_here(text) or long_past(text) or told_as_past(text, drug or ""):
        return None
    return f"{drug} + {took} + {child.group()}"


# how many of a drug would kill or bring a death without pain, asked in English: the "how many" that frames a general
# question is the request itself. It counts when the asker is in the question or the death asked for is painless
_LETHAL_ASK = re.compile(
    r"\bhow (many|much)\b.{0,40}\b(to die|to not wake|never wake|not wake up|be fatal|fatal|lethal|painless\w*|to end it"
    r"|kill (me|myself|a person|someone))|\b(painless|peaceful)(ly)? (way|ways|method) (to|of) (die|dying|go|end it)",
    re.I,
)
_PAINLESS = re.compile(r"painless|peaceful|not wake|never wake", re.I)


def _lethal_question(text: str) -> str | None:
    ask = _LETHAL_ASK.search(text)
    if not ask or not (_FIRST_PERSON.search(text) or _PAINLESS.search(text)):
        return None
    # a story, an exam, a class or someone else's words: not the asker's own plan
    if _REPORTED.search(text) or _LEARNING.search(text) or exam_question(text) or _HYPOTHETICAL_OTHER.search(text):
        return None
    return ask.group()


# a farewell told as finding a pet a new home: the pet's future arranged with the asker gone ("I won't be around after
# this weekend", "made my peace", 我走了以后). Not a pet rehomed for a reason of life (a move, an allergy, a new baby,
# a landlord, a hospital stay)
_REHOME = re.compile(
    r"\brehom\w*|\b(find|found|finding) (a )?(new |good |loving |nice |forever )?homes? for (my|our) (\w+ )?(cats?|kittens?|dogs?|pupp(y|ies)|pets?|hamsters?|rabbits?|bunn(y|ies)|parrots?|birds?|fish|guinea pigs?|ferrets?|budgies?|tortoises?|snakes?|lizards?|horses?)\b|\bwho (will|would|'?ll|could|can) "
    r"(look after|take care of|care for|feed|take|have) (my|our) (\w+ )?(cats?|kittens?|dogs?|pupp(y|ies)|pets?|hamsters?|rabbits?|bunn(y|ies)|parrots?|birds?|fish|guinea pigs?|ferrets?|budgies?|tortoises?|snakes?|lizards?|horses?)\b|\b(someone|somebody|anyone|a person) to (take|look after|care for|have|adopt) (my|our) (\w+ )?(cats?|kittens?|dogs?|pupp(y|ies)|pets?|hamsters?|rabbits?|bunn(y|ies)|parrots?|birds?|fish|guinea pigs?|ferrets?|budgies?|tortoises?|snakes?|lizards?|horses?)\b"
    r"|\b(arrangements?|plans?|provisions?) for (my|our) (\w+ )?(cats?|kittens?|dogs?|pupp(y|ies)|pets?|hamsters?|rabbits?|bunn(y|ies)|parrots?|birds?|fish|guinea pigs?|ferrets?|budgies?|tortoises?|snakes?|lizards?|horses?)\b|\b(give|giving|gave) (my|our) (\w+ )?(cats?|kittens?|dogs?|pupp(y|ies)|pets?|hamsters?|rabbits?|bunn(y|ies)|parrots?|birds?|fish|guinea pigs?|ferrets?|budgies?|tortoises?|snakes?|lizards?|horses?) (away|to)\b"
    r"|(给|給|帮|幫|替|为|為)(我的|我嘅|我家|我屋企|我隻|我只|我條|我条)?(猫|貓|狗|猫咪|貓咪|狗狗|兔子|仓鼠|倉鼠|鹦鹉|鸚鵡).{0,6}(找|搵|物色)(个|個|一个|一個)?(新|好)?(主人|家|人家|屋企|领养|領養)"
    r"|(猫|貓|狗|猫咪|貓咪|狗狗|兔子|仓鼠|倉鼠|鹦鹉|鸚鵡).{0,8}(送人|送走|托付|託付|交给|交俾|交畀|拜托|拜託)|(我走|我唔喺度|我不在).{0,8}(猫|貓|狗|宠物|寵物).{0,6}(点算|點算|怎么办|怎麼辦|谁|邊個)",
    re.I,
)
_FAREWELL = re.compile(
    r"\b(won'?t|will not|wont) be (around|here)|\bnot be around|\bmade (my )?peace|\bwhen i'?m (gone|not here)|\bafter i'?m gone|\bafter i go\b"
    r"|\bgoodbye|\bfarewell|\b(everything|all) (i need|is) (ready|saved|sorted|in place|set)|\b(it'?s|it is) (my|the) time\b|\bnot going to be here"
    r"|我走(了|咗|左)?(以后|以後|之后|之後)|我不在(了|之后|之後|以后|以後)|我唔喺(度|到)(之後|以後)?|以后(没人|没有人)|以後(冇人|沒有人)|告别|告別|永别|永別|最后一(次|程|面)|最後一(次|程|面)"
    r"|想通了|放下了|准备好了|準備好了|交代(好|清楚)|后事|後事",
    re.I,
)
_REHOME_REASON = re.compile(
    r"搬家|搬屋|移民|出国|出國|留学|留學|调动|調動|外派|过敏|過敏|怀孕|懷孕|生(了|咗)?(宝宝|寶寶|BB)|房东|房東|业主|業主|住院|养不了|養唔到|没时间|冇時間"
    r"|遗嘱|遺囑|癌|晚期|临终|臨終|安宁|安寧|绝症|絕症"
    r"|\b(mov(e|ing|ed)|relocat\w*|emigrat\w*|deploy\w*|abroad|overseas|new job|allerg\w*|landlord|lease|new baby|pregnan\w*|evict\w*|downsiz\w*|care home|nursing home|hospital stay|no time"
    r"|will and testament|my will|estate|terminal\w*|cancer|hospice|palliative)\b",
    re.I,
)


def _farewell_rehoming(text: str) -> str | None:
    rehome = _current_match(_REHOME, text, imagined_counts=False)
    farewell = _current_match(_FAREWELL, text, imagined_counts=False) if rehome else None
    if not farewell or _REHOME_REASON.search(text):
        return None
    return f"{rehome} + {farewell}"


def red_flags(text: str) -> list[RedFlag]:
    """Emergency signs currently described in text (negated and past mentions, and general questions about a
    condition, excluded)."""
    found: dict[str, RedFlag] = {}
    if is_informational(text):
        return []
    learning = not_happening_now(text)
    for category, primary, companion in _COMPILED:
        if category in found or (category in _RESOLVED and _RESOLVED[category].search(text)):
            continue
        # thoughts of self-harm count in any frame ("考试没考好，不想活了", "如果明天还这样我就去死"): only a
        # denial, the past, a general question or a figure of speech discounts them
        imagined = category not in _SAID_IN_ANY_FRAME
        evidence = _current_match(
            primary,
            text,
            negation_counts=category not in _NEGATION_IS_THE_SIGN,
            imagined_counts=imagined,
            learning=learning and imagined,
        )
        for pattern in companion:
            extra = _current_match(pattern, text) if evidence else None
            evidence = f"{evidence} + {extra}" if extra else None
        if evidence and imagined and told_as_past(text, evidence.split(" + ")[0]):
            evidence = None
        if evidence and imagined and seen_to(text, text.find(evidence.split(" + ")[0])):
            evidence = None
        if evidence and (episode_of_known_condition(text, category) or episode_asked_about(text, evidence)):
            evidence = None
        if evidence and imagined and (not_someone_here(text) or long_past(text)):
            evidence = None
        if evidence and category in ("seizure", "unconscious") and seizure_over_days_ago(text):
            evidence = None
        if evidence:
            found[category] = RedFlag(category, evidence)
    infant = _infant_fever(text)
    if infant and "infant_fever" not in found:
        found["infant_fever"] = RedFlag("infant_fever", infant)
    farewell = _farewell_rehoming(text)
    if farewell and "self_harm" not in found:
        found["self_harm"] = RedFlag("self_harm", farewell)
    lethal = _lethal_question(text)
    if lethal and "self_harm" not in found:
        found["self_harm"] = RedFlag("self_harm", lethal)
    child = _child_ingestion(text, learning)
    if child:
        found["child_ingestion"] = RedFlag("child_ingestion", child)
    overdose = _delayed_overdose(text, learning)
    if overdose:
        found["delayed_overdose"] = RedFlag("delayed_overdose", overdose)
    chemo = _fever_on_chemo(text)
    if chemo and "neutropenic_fever" not in found:
        found["neutropenic_fever"] = RedFlag("neutropenic_fever", chemo)
    return list(found.values())


_DOSAGE = re.compile(
    r"(吃|服|用|打|注射|喝)\s*(几|多少)\s*(片|粒|颗|毫克|mg|克|g|次|支|毫升|ml|单位|iu)|剂量|用量|一次.{0,4}(几|多少)|最多.{0,6}(多少|几)|多少毫克|从多少|几片|几粒|怎么加量|加量|吃(双倍|两倍|加倍)|(吃|服|用|给)多少|多少(微克|毫克|片|粒|ml|毫升)|吃两片|吃半片"
    r"|how (many|much).{0,30}(mg|milligram|pill|tablet|capsule|unit|ml|should i take|can i take)|double (the |my )?dose|\bdos(e|age|ing)\b|how often (should|can|do) i take|max(imum)? .{0,12}per day|mg",
    re.I,
)

EMERGENCY_ZH = "请立即拨打 120 急救电话，或尽快前往最近医院的急诊，不要等待症状自行缓解。"
EMERGENCY_EN = (
    "Call emergency services now (120 in mainland China) or go to the nearest emergency department; do not wait."
)
CRISIS_ZH = "如果你有伤害自己的想法，请立即拨打心理援助热线 12356 或急救电话 120，并告诉身边信任的人。"
CRISIS_EN = "If you are thinking of harming yourself, call a crisis line now (12356 in mainland China) or 120, and tell someone you trust."
_DOSE = re.compile(
    r"\d+(\.\d+)?\s*(mg|毫克|μg|mcg|微克|g\b|克|ml|毫升|iu|单位|片|粒|颗|支|滴)"
    r"|[一二两三四五六七八九十半]+\s*(片|粒|颗|支|毫克|克)"
    r"|(每日|每天|一天|一日|每晚|每次)\s*[\d一二两三四]+\s*次|[\d一二两三四]+\s*次\s*/\s*(日|天)|\b(once|twice|three times) (a|per) day\b",
    re.I,
)
DOSE_ZH, DOSE_EN = "（剂量须由医生决定）", "(dose set by your doctor)"


def is_dosage_request(question: str) -> bool:
    """True when the question asks how much of a drug to take."""
    return bool(_DOSAGE.search(question))
