"""Clinical shorthand for listed drugs — letter abbreviations (MTX, INH, HCTZ) and Chinese names cut short (二甲, 氯硝)
— found only where the context says "drug": a dose, a frequency, a verb of taking or prescribing, or another drug
name nearby, and never inside a longer word.

A 2–4 letter token or a two-character Chinese fragment alone is too ambiguous to redact (MTX in a part number, 二甲 in
二甲苯 or 二甲医院), so each needs both: whole-token boundaries and a drug context in its clause. The context looks at
most LEFT characters before and RIGHT after the token, cut at a sentence end, so a stream can hold back a token
until its context is complete and then decide exactly as a whole-text redaction would.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources

from .drugs import ALIAS_SOURCES, INVISIBLE, LEET, _char_folds, trie_pattern
from .errors import PromptError

LEFT = 16  # characters of context before a token
RIGHT = 20  # ...and after it
# how far back a dose with a unit makes the text a prescription (a drug chart, a regimen, an order set), across
# sentences: there a letter code or a clipping that is no everyday word is a drug without a cue of its own beside it
REACH = 240
# any: any case; exact: as written; word: any case, and the form is also an everyday word (安定 "stable"): the
# finder's boundary and context rules are the same, the independent checker adds a rule of its own for these
# quoted: an everyday word that is a street name only when written as a name, in quotation marks ('bars', 'pins'),
# and then with the context a word form needs
# dosed: as written, and only with a dose with a unit right after it ("met 1 g bid", "MS 4 mg IV"): a code too
# ambiguous for any other context (met, MS, HM) is unmistakable there
# imprint: the code stamped on a tablet (M30, GG 249), any case, and only in a pill context: a word for a pill or for
# a pressed, fake or bought one in its clause ("pressed M30s", "fake blues stamped M30", "GG 249 bars")
CASES = ("any", "exact", "word", "quoted", "dosed", "imprint")

# a Latin form: letters and digits, pieces joined by -, / or one space (Special K, ampho B)
_LATIN_FORM = re.compile(r"[A-Za-z0-9]+(?:[-/ ][A-Za-z0-9]+)*")
_CJK = re.compile(r"[\u3400-\u9fff]")
_DASHES = "-‐‑‒–—"
# a clause ends at a sentence end, a semicolon or a line break: context never crosses one
_CLAUSE_END = re.compile(r"[。！？；;!?\n]|\.\s")

# a dose: a number with a unit, or a count of tablets, capsules, ampoules
_DOSE = re.compile(
    # (insulin as patients count it: 打了18个单位)
    r"\d+(?:\.\d+)?\s*(?:mg|mcg|µg|μg|ug|g|ml|iu|u|units?|mmol|毫克|微克|克|毫升|个?单位|万单位)(?![a-z])"
    r"|[0-9一二三四五六七八九十两半]\s*(?:片|粒|支|袋|针|颗|喷|吸)"
    r"|\d\s*(?:puffs?|sprays?|tabs?|caps?)(?![a-z])",
    re.IGNORECASE,
)
# how often and by which route as prescriptions write it: qd/bid/tid, po/iv, q8h
_ROUTE = re.compile(
    r"(?<![a-z])(?:qd|bid|tid|qid|qn|qod|qw|biw|tiw|q\d+[hdw]|prn|po|iv|ivgtt|ivd|im|ih|sc|sl|hs|qhs|stat|od|bd|tds"
    r"|sublingual(?:ly)?)(?![a-z])|under (?:the|your|his|her) tongue|舌下|含服",
    re.IGNORECASE,
)
# words that say a form is a name people use: "'Vitamin R' is slang for", "street names such as", 俗称, and verbs of
# naming: "calls his blood thinner 'rat poison'", "('subs', as patients call it)", 被叫作"G水", 病友群里说的"T药"
_NAMED = re.compile(
    r"(?<![a-z])(?:slang|street names?|nicknamed?|nicknames|calls?|called|calling|known as|aka|a\.k\.a|so-called"
    r"|refers? to|referred to|dubbed|goes by|term for|words? for|name for)(?![a-z])"
    # (and 叫它"牛奶", 大家都叫, 管它叫, 简称, 绰号: how people say what they call a drug)
    r"|俗称|别称|外号|黑话|叫作|叫做|称为|称作|所谓|说的|叫它|都叫|管它叫|简称|俗名|绰号|昵称|人称",
    re.IGNORECASE,
)
# a list opened by a naming word, up to the form: "Street names: ice, crystal", "slang such as meth, ice", 俗称：冰、
# (the form is one of the listed items: only commas, 、 and other short items between)
_NAMED_LIST = re.compile(
    r"(?:(?<![a-z])(?:street names?|slang(?: names?| terms?)?|nicknames?|also known as|aka)\s*(?::|such as|like|include)"
    r"|俗称|别称|黑话|外号)\s*[:：]?\s*(?:[\"'“‘]?[\w-]{1,15}[\"'”’]?\s*(?:[,，、/]|\s(?:and|or)\s)\s*){0,4}[\"'“‘]?$",
    re.IGNORECASE,
)
# ...and a naming phrase right after the form: "lean, also called ...", "ice (street slang for ...)"
_NAMED_AFTER = re.compile(
    r"[\"'”’]?\s*[,，(（]\s*(?:also\s+)?(?:called|known as|aka|street (?:name|slang)|slang for)(?![a-z])",
    re.IGNORECASE,
)
# a verb of calling with its object right before a form: "calls his blood thinner rat poison", "calls the first one
# addy", "call it milk" (the form is what the thing is called)
_CALLS_BEFORE = re.compile(
    r"(?<![a-z])(?:calls?|called|calling)\s+(?:it|them|this|that|(?:his|her|my|their|our|your|the)(?:\s+[a-z-]+){0,2}"
    # (the object a medicine: "his blood thinner", "the first one", not "my dog")
    r"\s+(?:pills?|tablets?|meds?|medicines?|medications?|drugs?|thinners?|ones?|stuff|patch(?:es)?|shots?"
    r"|injections?|syrup|spray|jab))\s*[\"'‘“「]?$",
    re.IGNORECASE,
)
# how often in ordinary words (每日, daily): a company reports 每周 too, so these count only right beside the token
_OFTEN = re.compile(
    r"(?<![a-z])(?:daily|weekly|nightly|once|twice)(?![a-z])"
    r"|每\s*[0-9一二两三四五六七八九十]*\s*(?:日|天|晚|早|周|星期|小时|次)|一日|一天|隔日|睡前|晨起|顿服",
    re.IGNORECASE,
)
# ...and as a phrase ("two blue pills a day"), not after a form that is one everyday word ("took the metro a day later")
_OFTEN_PHRASE = re.compile(r"(?:a|per|each|every)\s+(?:day|night|week|morning)(?![a-z])", re.IGNORECASE)
_GAP = re.compile(r"[\s,，、:：()（）]{0,3}")
# a word right before or after a form, joined to it by +, / or &: "mife + miso"
_JOIN_BEFORE = re.compile(r"(?<![A-Za-z0-9])(?P<name>[A-Za-z][A-Za-z0-9-]*)\s*[+/&]\s*$")
_JOIN_AFTER = re.compile(r"\s*[+/&]\s*(?P<name>[A-Za-z][A-Za-z0-9-]*)(?![A-Za-z0-9])")
# English words that may be joined to a form by a hyphen and leave it a name ("3TC-based", "MTX-induced")
_JOINED = "based|containing|induced|associated|related|resistant|sparing|treated|naive|refractory|free|only|like"
# words about giving or taking a medicine (Chinese anywhere in the context; English too, but see _TAKE_BEFORE)
_MEDICINE_WORDS = re.compile(
    r"服用|口服|顿服|吃|加用|加上|停用|停药|停了|换成|换用|改用|改为|改成|开了|开的|给予|予|联合|联用"
    # (Cantonese: 開咗, 停咗, 食咗)
    r"|开咗|停咗|食咗"
    r"|静滴|静推|滴注|输注|注射|皮下|肌注|泵入|雾化|用药|减量|加量|剂量|血药|浓度|方案|化疗|疗程|处方"
    # (a prescription, treatment with one drug, what a patient takes home: 开具INH, K药单药治疗, 出院带药)
    r"|开具|医嘱|单药|治疗|带药"
    # (what a medicine does to a patient and what it is for: 帕罗哪个副作用小, 反应停现在用于骨髓瘤)
    r"|副作用|不良反应|药效|用于"
    # (what it is used to treat, and a medical abortion: 反应停现在还用来治骨髓瘤, 米非司酮加米索药流; drug23)
    r"|用来治|拿来治|药流"
    # (taken together with another: 配合“米索”一起用, 与华法合用)
    r"|配合|一起用|一起吃|合用|同服|搭配"
    # (a word that points back at a medicine: 司美这类药, 反应停……这个药, 吃药, 药物)
    r"|(?:这|那|此|该)(?:类|种|个|款)?药|药物|药品|吃药|服药"
    r"|(?<![a-z])(?:doses?|dosing|dosage|tablets?|tabs?|pills?|capsules?|injections?|infusion|regimen|levels?|trough"
    r"|prescription|prescribed|pharmacy|pharmacist|refills?|formulary|interacts?|interactions?|side effects?"
    r"|combined with|meds?|medications?|medicines?|syrups?|drugs?)(?![a-z])",
    re.IGNORECASE,
)
# an English verb right before the token: "on MTX", "started INH", "switched to LEV", "popping xans"
_TAKE_VERBS = (
    r"(?<![a-z])(?:on|off|start|started|starting|stop|stopped|stopping|take|takes|taking|took|to|restart|restarted"
    r"|resume|resumed|continue|continued|hold|held|holding|withholding|given|give|gave|add|added|adding|plus|using|with"
    r"|pop|pops|popped|popping|prescribed"
    r"|snort|snorts|snorted|snorting"
    # (a route written as an adjective right before the name: "oral doxy", "inhaled budes", "IV vanc")
    r"|oral|orally|topical|inhaled|intravenous|nebuli[sz]ed)"
)
# verbs of taking or getting a medicine anywhere before a quoted form in its clause ('took 2 of my husband's "blue
# pills"'): a form in quotation marks is written as a name, so a verb further back still speaks of it
_TAKE_WIDE = re.compile(
    r"(?<![a-z])(?:take|takes|taking|took|started|starting|using|used|uses|popped|popping|swallowed|got|gets|getting"
    r"|prescribed|given|snorted|smoked|injected|crushed|bought|buying|selling|sold)(?![a-z])",
    re.IGNORECASE,
)
_OFFERED = re.compile(r"(?<![a-z])(?:offer|offers|offered|offering)(?![a-z])", re.IGNORECASE)
# the name may be quoted or bracketed, as slang often is: "using 'bars'"
_QUOTE_GAP = r"[\s'\"‘“(]*[:：]?[\s'\"‘“(]*$"
_TAKE_BEFORE = re.compile(_TAKE_VERBS + _QUOTE_GAP, re.IGNORECASE)
# ...and with an article or a possessive between, for a form of two words or one that is no everyday word: "take a
# blue pill", "off the rat poison" (never for one everyday word: "take the metro", "take a dig")
_TAKE_DET_BEFORE = re.compile(
    # (or the one given it: "GP gave me doxy", "prescribed him tramadol")
    _TAKE_VERBS + r"\s+(?:a|an|the|some|any|more|my|your|his|her|their|our|me|him|them|us|a\s+few|a\s+couple\s+of"
    # (or a count: "took two yellow bars")
    r"|two|three|four|five|six|\d+)" + _QUOTE_GAP,
    re.IGNORECASE,
)
# ...and with a count between, for one everyday word: "took 1 addy", "popped two vals"
_PILL_COUNT = r"(?:\d+|one|two|three|four|five|half\s+an?|half)"
_TAKE_COUNT_BEFORE = re.compile(_TAKE_VERBS + r"\s+" + _PILL_COUNT + _QUOTE_GAP, re.IGNORECASE)
# ...and for a clipping that is an ordinary English word (metro, dig), verbs said of a pill only: "popped 2 metro"
_POP_COUNT_BEFORE = re.compile(
    r"(?<![a-z])(?:pop|pops|popped|popping|swallow|swallowed|swallowing|crushed|snorted|chewed|dropped)\s+"
    + _PILL_COUNT
    + _QUOTE_GAP,
    re.IGNORECASE,
)
# verbs of using a drug as drugs are used, before an everyday word form with a count or an article between: "smoking
# meth", "crushed two oxys", "injecting some ice" (a form quoted by case still needs its quotation marks: crushed ice)
_USE_BEFORE = re.compile(
    # (not cook or bump: "cooking miso soup")
    r"(?<![a-z])(?:smok(?:e|es|ed|ing)|snort(?:s|ed|ing)?|inject(?:s|ed|ing)?|crush(?:es|ed|ing)?"
    r"|shoot(?:s|ing)?\s+up|shot\s+up|rail(?:s|ed|ing)?)"
    r"(?:\s+(?:a|an|the|some|more|his|her|their|my|two|three|four|five|six|a\s+few|a\s+couple\s+of|\d+))?" + _QUOTE_GAP,
    re.IGNORECASE,
)
# a word joining a form to another drug in a list or a comparison: "mixing K-pins with lean", "dut is stronger than
# fin" is not taken (both everyday words), "Xanax or bars" is
_WORD_JOIN_BEFORE = re.compile(
    r"(?<![A-Za-z0-9])(?P<name>[A-Za-z][A-Za-z0-9-]*)[\"'’”]?\s+(?:with|and|or|plus|vs\.?|versus|than|then)\s+[\"'‘“]?$",
    re.IGNORECASE,
)
_WORD_JOIN_AFTER = re.compile(
    r"[\"'’”]?\s+(?:with|and|or|plus|vs\.?|versus|than|then)\s+[\"'‘“]?"
    # (a name of two words too: "ice and crystal meth")
    r"(?P<name>[A-Za-z][A-Za-z0-9-]*(?:\s+[A-Za-z][A-Za-z0-9-]*)?)(?![A-Za-z0-9])",
    re.IGNORECASE,
)

# verbs of getting, selling or mixing a drug: "buys moda online", "mixing 'lean' with soda"; for a form that is no
# everyday word, or one quoted as a name (buy miso, mixing miso paste stay)
_OBTAIN_BEFORE = re.compile(
    r"(?<![a-z])(?:buy|buys|buying|bought|sell|sells|selling|sold|order|orders|ordered|ordering|score|scored"
    r"|scoring|mix|mixes|mixed|mixing|smoke|smokes|smoked|smoking"
    # (what a pill or a batch holds: "pills that contain fent", "laced with fetty", "tested positive for fetty")
    # ("with" as people shorten it: "pressed w fetty", "laced w/ fent")
    r"|contain|contains|contained|containing|(?:laced|cut|spiked|pressed|mixed)\s+(?:with|w/?(?=\s))|positive for)"
    + _QUOTE_GAP,
    re.IGNORECASE,
)
# a medicine noun right after a form: "Gent trough 2.8", "dig level", "tac level" (a drug's level is measured), and
# the form a medicine comes in: "nitro spray", "fent patch", "Depo shot", 胰岛素笔 (twelfth session)
_NOUN_AFTER = re.compile(
    r"[\s-]{0,2}(?:troughs?|levels?|peak|doses?|dosing|drip|gtt|infusion|tabs?|tablets?|pills?|capsules?|injections?"
    r"|toxicity|overdose|withdrawal|sprays?|patch(?:es)?|shots?|jabs?|inhalers?|pens?|sachets?|suppositor(?:y|ies)"
    r"|syrup|lozenges?|implant"
    # (a course of anabolic steroids, as the gym says it: "dbol cycle", "tren cycles")
    r"|cycles?)(?![a-z])"
    # (what a gym course is for, right after the form: "clen for cutting", "deca for bulking")
    r"|\s+for\s+(?:cutting|bulking|a\s+cut|a\s+bulk|fat\s+loss)(?![a-z])"
    r"|[\s]{0,2}(?:浓度|剂量|片|针|胶囊|中毒|过量|喷雾|贴剂|贴片|注射液|口服液|缓释|控释|栓剂"
    # (seventeenth session: the forms a street drug is sold in, as people ask for them: "M.D.M.A 粉定係丸", "LSD 紙")
    r"|粉|丸|纸|紙)",
    re.IGNORECASE,
)
# drug use and its harms (fourteenth session): a phrase right before a form ("hooked on lean", "addicted to ket",
# "2 lines of ket", "OD'd on fetty"), a noun right after it ("tina use", "ket addiction", "xan withdrawal"), a
# substance history before "… use" ("admits to", "denies", "hx of"), and words of addiction in the clause (after the
# form for an everyday word)
_USE_PHRASE_BEFORE = re.compile(
    r"(?<![a-z])(?:hooked\s+on|addicted\s+to|addiction\s+to|dependent\s+on|high\s+on|overdosed\s+on|od'?d\s+on"
    r"|withdrawing\s+from|withdrawals?\s+from|detox(?:ing)?\s+(?:from|off)|clean\s+(?:off|from)|relapsed\s+on"
    r"|(?:lines?|bumps?|hits?|grams?|tabs?)\s+of)"
    r"(?:\s+(?:the|some|that|this|his|her|my|their))?" + _QUOTE_GAP,
    re.IGNORECASE,
)
# a verb of getting right before a street word written in lower case, as a user or a dealer asks for it ("can u get
# addy", "need a plug for charlie", "tryna get some lean"), eighteenth pass: a name is capitalised ("get Molly to
# call"), and the word must end its phrase ("get some lean protein")
_GET_BEFORE = re.compile(
    r"(?<![a-z])(?:(?P<got>got)|get|gettin|getting|need|needs|score|scored|cop|copped|grab|swap\s+for|plug\s+for"
    r"|selling)(?:\s+(?:some|any|more|u\s+some|me\s+some|a\s+bit\s+of))?\s+$",
    re.IGNORECASE,
)
# ...and the word must end its phrase, but not before "to" ("get charlie to call me" is a person)
_GOT_PHRASE_TO = re.compile(r"[\"'’”]?\s+to(?![a-z])", re.IGNORECASE)
_SUSPECTED = re.compile(r"(?<![a-z])(?:suspected|presumed|possible|likely|query)\s+$", re.IGNORECASE)
# a relapse, right before a street word that is not a quoted substance word ("back on the smack again"; a skater is
# "back on the ice", so not for those), seventeenth session
# (with its article: "back on Coke again" is a soft drink)
_BACK_ON_BEFORE = re.compile(r"(?<![a-z])back\s+on\s+(?:the|that)\s*$", re.IGNORECASE)
_USE_NOUN_AFTER = re.compile(
    r"[\"'’”]?[\s-]{1,2}(?P<noun>use|abuse|misuse|addiction|dependence|dependency|habit|binge|overdose|withdrawals?)"
    r"(?![a-z])",
    re.IGNORECASE,
)
_HISTORY_BEFORE = re.compile(
    r"(?<![a-z])(?:admits?(?:\s+to)?|admitted(?:\s+to)?|denies|denied|endorses|reports?|hx\s+of|h/o|history\s+of"
    r"|recent|heavy|daily|iv)\s+[\"'‘“]?$",
    re.IGNORECASE,
)
# (not rehab, relapse or detox: knee rehab, a relapse of MS, detox teas)
_ADDICTION = re.compile(r"(?<![a-z])(?:hooked|addicted|addiction|overdosed|od'?d)(?![a-z])", re.IGNORECASE)
# what may follow an everyday word form that ends its phrase: a mark, the end, a function word or a common verb
# ("lean got him hooked", "lines of ket and …"), not another noun ("ice hockey", "speed dating")
_PHRASE_END = re.compile(
    r"[\"'’”]?(?:\s*$|\s*[,.;:!?)（(]|\s+(?:and|or|but|for|at|in|on|with|all|every|again|last|since|before|after|to"
    r"|is|was|were|are|then|until|from|when|because|so|got|gets|has|had|made|makes|ruined|nearly|almost|now|too"
    # (eighteenth pass: "get addy without a script")
    r"|without"
    r"|tonight|today|yesterday)(?![a-z]))",
    re.IGNORECASE,
)
# what says an imprint code is on a tablet: a pill word, a pressed or fake one, an imprint, a verb of taking a pill
_PILL_WORDS = re.compile(
    r"(?<![a-z])(?:pills?|tablets?|tabs?|pressed|presses|press|pressies|fakes?|counterfeits?|stamped|imprint(?:ed)?"
    r"|marked|blues|bars?|snort(?:s|ed|ing)?|popp?(?:ed|ing|s)?|laced|fent|fetty|fentanyl|dealer|plug)(?![a-z])"
    r"|药片|假药|压片|印着|刻着|刻字|印字",
    re.IGNORECASE,
)
# a device or route that delivers a drug, right before a form (fifteenth session): "PCA morph", "epidural fent"
_DEVICE_BEFORE = re.compile(
    r"(?<![A-Za-z])(?:PCA|PCEA|PCIA|epidural|intrathecal|syringe\s+driver|infusion\s+pump|drip)\s*[:：]?\s*$",
    re.IGNORECASE,
)
# a treatment cycle right after a form: "pembro C6", "FOLFOX cycle 3", "C2D1"
_CYCLE_AFTER = re.compile(r"\s{0,2}(?:C\d{1,2}(?:D\d{1,2})?|cycle\s*\d{1,2}|cyc\s*\d{1,2})(?![A-Za-z0-9])")
# a price per unit a street drug is sold by (seventeenth session): by weight ("40 a g", "£60 per gram", 一克…幾錢, 半克
# 300) — what a substance (ice, 冰, crystal) is dealt in, never ordinary ice, sold by the bag — or per pill ("10 a
# pop", 幾多錢一粒, 一排多少, 一顆500) — what a pill's nickname (藍精靈, FM2) is dealt in
_PRICE_WORD_ZH = r"(?:幾|几)(?:多)?(?:錢|钱|蚊)|多少|幾多|几多|價|价|\d+\s*(?:蚊|元|块|塊|港紙)|\$\s?\d"
_PRICE_BY_WEIGHT = re.compile(
    r"(?<![a-z0-9])[$£€¥]?\s?\d+(?:\.\d+)?\s*(?:a|an|per|/|each)\s*(?:g|gram|grams|gramme|oz|ounce|eighth|ball|point|half)"
    r"(?![a-z])"
    rf"|(?:[一每半1-9]|兩|两)\s*(?:克|g)(?![a-z])[^。！？?!\n]{{0,8}}(?:{_PRICE_WORD_ZH})"
    rf"|(?:{_PRICE_WORD_ZH})\s*(?:一|每)\s*(?:克|g)(?![a-z])",
    re.IGNORECASE,
)
_PRICE_BY_PILL = re.compile(
    r"(?<![a-z0-9])[$£€¥]?\s?\d+(?:\.\d+)?\s*(?:a|per|/|each)\s*(?:pill|tab|tablet|bar|strip|vial|amp|pop)s?(?![a-z])"
    rf"|(?:一|每)\s*(?:粒|顆|颗|排|板|支|包|片)\s*(?:{_PRICE_WORD_ZH})"
    rf"|(?:{_PRICE_WORD_ZH})\s*(?:一|每)\s*(?:粒|顆|颗|排|板|支|包|片)",
    re.IGNORECASE,
)
# a dealer's words (fifteenth session): selling, buying and asking who has it, a price, a way to be contacted
# ("selling SOMA 350s, msg me", "OXY 80s 有冇人有，價錢好傾", "K仔幾錢一包", "fent 多少钱一克，私我")
_DEAL = re.compile(
    r"(?<![a-z])(?:sell|sells|selling|sold|buy|buys|buying|for\s+sale|who\s+has|who'?s\s+got|any(?:one|1|body)\s+(?:got|has|have)"
    r"|got\s+any|who\s+got|in\s+stock|plug|hmu|hit\s+(?:me|him|her|them|us)\s+up|dm(?:s|\s+me)?|pm(?:\s+me)?|msg(?:\s+me)?|message\s+me"
    r"|text\s+me|inbox(?:\s+me)?|paying|cash\s+only|a\s+pop|per\s+(?:pill|tab|bar|strip|gram)|delivery\s+only)(?![a-z])"
    # (a price: "$20", "10 for 100", "10 4 100"; not the digit 4 inside a number, "BP 142/88")
    r"|[$£€]\s?\d|(?<![0-9])\d+\s+(?:for|4)\s+[$£€]?\d"
    # (Cantonese and Mandarin: who has it, who sells it, its price, message me privately)
    r"|有冇人有|有冇得|有冇貨|有冇人出|邊度有|边度有|哪里有卖|哪里买|價錢|价钱|幾錢|几钱|多少钱|多少錢|私聊|私信|私我|出貨|出货"
    # (seventeenth session: "do you have any?" asked of it, 幾多錢, selling it, buying it loose)
    r"|有冇(?=[？?，,。！!\s]|$)|幾多錢|几多钱|賣|卖|散買|散买"
    # (eighteenth pass: in stock, delivered, and Taiwan's "ping me", 現貨, 全港送貨, 有需要滴滴)
    r"|現貨|现货|送貨|送货|滴滴"
    r"|(?<![a-z])(?:any(?:one|1|body)\s+want|who\s+wants)(?![a-z])",
    re.IGNORECASE,
)
# a strength written as a plural right after a form, as a dealer counts pills by it ("oxy 80s", "Soma 350s", "perc
# 10/325s"), or a dose with its unit
_STRENGTH_AFTER = re.compile(
    r"[\s-]{0,2}(?:\d{1,4}(?:/\d{2,4})?s(?![a-z0-9])|\d+(?:\.\d+)?\s*(?:mg|mcg|ug|g)s?(?![a-z]))", re.IGNORECASE
)
# what may stand right before an everyday word that a dealer sells: a verb of having or getting, a count, an article,
# a mark or nothing ("got perks", "need ket", "10 subs"): another word before it makes it that thing's kind ("protein
# bars", "chocolate bars")
_DEAL_BEFORE = re.compile(
    r"(?:[,.:;!?(\n。，：；！？（、]|(?<![a-z])(?:got|get|have|has|had|need|needs|want|wants|selling|sell|buying|buy|some"
    r"|any|the|few|couple|of|and|plus|\d+))[\s\"'‘“]*$",
    re.IGNORECASE,
)
# a noun of a household or skin product right after a form: a product's brand, not a drug ("Oxy acne wash", "OXY
# cleaning powder")
_PRODUCT_AFTER = re.compile(
    r"\s{0,2}(?:acne|wash|washes|cleanser|cleaner|cleaning|clean|powder|bleach|soap|shampoo|pads|wipes|scrub)(?![a-z])",
    re.IGNORECASE,
)
# a dose without its unit right after a form, then a frequency, a route or a + to another drug ("HCTZ 25 + …",
# "LEV 500 bd"): a regimen line
_BARE_DOSE = re.compile(
    # (a release form between: "ISMN 60 XL mane", "metformin 500 SR bd")
    r"\s{0,2}\d+(?:\.\d+)?\s*(?:(?:XL|SR|MR|ER|CR|LA|XR|CD)\s+)?(?:[+&]|(?:daily|nightly|weekly|mane|nocte|qd|od|bd|bid|tid|tds|qid|qhs|qn|prn)(?![a-z]))",
    re.IGNORECASE,
)
# a title before a Latin form or a word for a person after it: the form is a surname ("Dr. Li", "Prof Hu", "Li 医生")
_PERSON_BEFORE = re.compile(r"(?<![A-Za-z])(?:Drs?|Mr|Mrs|Ms|Mx|Prof|Professor|Doctor|Nurse|Sister)\.?\s*$")
_PERSON_AFTER = re.compile(r"\s*(?:医生|大夫|老师|先生|女士|小姐|教授|护士|主任|院长|博士|同学)")
_DOSE_RIGHT_AFTER = re.compile(
    r"[\s:]{0,2}\d+(?:\.\d+)?\s*(?:mg|mcg|µg|μg|ug|g|ml|iu|units?|mmol)(?![a-z])", re.IGNORECASE
)
_GIVEN_NAME = re.compile(r" [A-Z][a-z]+\b")
# a sentence end or a line break, for the prescription reach
_SENTENCE_END = re.compile(r"[。！？!?\n]|\.\s")
# a dose with a unit, for the prescription reach (a count of tablets is not enough: "吃两片" is in any answer)
_UNIT_DOSE = re.compile(
    r"\d+(?:\.\d+)?\s*(?:mg|mcg|µg|μg|ug|g|ml|iu|units?|mmol|毫克|微克|克|毫升|单位|万单位)(?![a-z])", re.IGNORECASE
)
# characters that make 药 the start of a longer word (药物, 药店, 药代动力学): a letter form such as K药 does not end there
_YAO_WORDS = frozenset("物材店房厂企师学品效量理剂费价盒片方丸水膏酒性代监检械")
# characters that may stand right before a Chinese short form (verbs, conjunctions, list marks) or right after it
# (numbers, doses, frequencies, conjunctions): any other Chinese character makes it part of another word (二甲苯)
# (导 and 持: an anaesthetic record's 诱导舒芬, 维持瑞芬; a pronoun or a verb of calling or relying, as patients
# talk: 我妈二甲吃了, 都叫来曲, 我靠舒乐才能睡)
# (verbs of taking, stopping and changing, joins and marks of a regimen: what a form that is also an everyday word
# takes too, 服用安定, 停安定)
# (Cantonese 咗 as 了: 開咗可定)
# (seventeenth session: the Cantonese 食 as 吃, 食五仔)
_ZH_BEFORE_WORD = frozenset("服用吃予给加停换改成了咗和及与或把将含联合续打注滴输开配食")
_ZH_BEFORE = _ZH_BEFORE_WORD | frozenset(
    # a form that is also an everyday word (安定 "stable") takes none of these: not 的 是 有 在 前 后 为 (用药后安定了 is
    # "calmer"), nor 导 持 (维持安定 is "keep stable")
    "为的是有在前后导持叫靠我你他她妈爸说但而还也都先再又就"
    # (a person before the form, as a ward round talks: 病人万古得上, 老人氯硝减量)
    "人"
    # (a class noun or a device right before the name, as patients and a handover write it: 止痛药羟考, 靶向药安罗,
    # 降糖针利拉, 镇痛泵舒芬)
    "药针泵"
    # (a switch from one drug: 从芮达换成…; a drug that is drunk: 喝止咳水; Cantonese verbs of taking and of using a
    # drug: 食氯硝, 索K仔, 啪丸)
    "从喝食索啪"
    # (seventeenth session: a verb of selling or buying before a form that is no everyday word: 在賣快樂丸)
    "卖賣买買"
)
# ...and a time of day as two characters (每天氯硝半片; one 天 alone is 天门冬, a herb)
_ZH_BEFORE_TIMES = frozenset({"每天", "每日", "每晚", "每周", "今天", "昨天", "晚上", "早上", "睡前"})
# a verb of taking right before a form is a drug context by itself: 服用安定, 镇静用右美, 先用PTU
# (and the verbs of using a drug as drugs are used: 玩K仔, 吸冰, 嗑药)
# (喝: methadone and codeine syrup are drunk: 喝美沙酮, 喝止咳水; Cantonese 食 "take", 索 "snort", 啪 "pop")
_TAKE_ZH_BEFORE = frozenset("服吃用打予给玩吸嗑磕喝食索啪")
# (Cantonese 食 "take" as 吃)
_TAKE_ZH_BEFORE_WORD = frozenset("服吃食")
# a verb of taking with its aspect, how long and 的 or 的是 before a form: what was taken is the form ("用了半年的K药",
# "吃了五年的安定", "镇痛泵里加的是舒芬", "打的是甘精"); for a form that is also an everyday word, 服 or 吃 only
_TAKE_ZH_SPAN = re.compile(
    r"([服吃用打加食])(?:了|过|着|咗)?(?:(?:[0-9一二两三四五六七八九十半几多]+个?(?:年|月|周|天|星期|礼拜)|很久|好久|多年|一段时间)"
    # (how long without 的 too: "打了三个月司美", "吃了三年舒乐")
    r"(?:的是|的)?|的是|的"
    # (or its aspect alone, a space allowed: "食過可定", "打咗 X" — what was taken or injected, eighteenth pass)
    r"|(?<=[服吃用打加食])(?:了|过|咗)\s?)[\"'“‘「『]?$"
)
# ...and a verb of taking right after a form, with its aspect: "安定吃多了", "舍曲吃了两个月", "甘精打过"
_TAKEN_ZH_AFTER = re.compile(r"[吃服打用食][了过多完着咗]")
# a count and its measure word right before a form ("吃一片安定", "打两针K药"): the form is what is counted
_MEASURE = frozenset("片粒支袋颗针盒瓶剂")
_COUNT = frozenset("0123456789一二两三四五六七八九十半几")
# ...and for a form that is also an everyday word, a verb of taking before the count: 一片安定 alone is "a stretch
# of calm", 吃一片安定 is a tablet
_TAKE_ZH = frozenset("吃服用含给喂打注加食")
# (modal words and adverbs too: "吃了安定才能睡", "二甲能降糖", "K药要每三周")
_ZH_AFTER = frozenset(
    # (and a verb of taking: 舍曲吃了两个月, 甘精打了18个单位)
    "每一二三四五六七八九十两半片粒支针次和及与或也都已后前等日天缓控的了吗呢吧啊是改换停用加减剂才就能会要需可应必吃打喝"
    # (and a pronoun pointing back at it: 司美这类药, 万古那个)
    "这那"
    # (and a request that follows a name: 代文请每天固定时间服用)
    "请"
    # (and 之 of 之后, 之前: 食咗兩粒五仔之後)
    "之"
)
# the dot between the parts of a foreign name written in Chinese (塞雷茨·卡马)
_NAME_DOTS = frozenset("·．•‧・")
# in a clinical note without a dose, a Chinese form stands alone: a character after it that is no letter, digit or
# mark must be one of these (利奈、贝达; 恩替已吃; 奥希一线) or begin a word of _ZH_AFTER_WORDS (华法继续); 西地和饮食,
# 阿奇的朋友 stay
_NOTE_ZH_AFTER = frozenset("已续停改换减用一二吃打每")
# ...and a Latin code is no part of a name, a formula or a list of other codes: not after a capitalised word
# (Synovate MMI), nor glued by / or ( to a letter or digit (avx512_bf16/AMX, NO(SOF))
_NOTE_LATIN_BEFORE = re.compile(r"(?:\b[A-Z][a-z]+\s+|[A-Za-z0-9_`'][/(])$")
# two characters after a form that say how it is taken or used (倍欣饭前服用, 派汀治疗带状疱疹, 意美口服)
_ZH_AFTER_WORDS = frozenset(
    {"饭前", "饭后", "餐前", "餐后", "口服", "静滴", "静推", "治疗", "注射", "用于", "用量", "过敏"}
    # (and what a ward round or a handover writes after a drug: 华法继续, 右美托维持, 恩替起始, 利福续用)
    | {"继续", "维持", "起始", "续用", "泵入", "泵速", "减停", "暂停", "序贯", "联合", "联用", "溶栓", "抗凝", "镇静"}
    | {"谷浓", "持续"}
    # (twelfth session) what a medicine is taken for, said right after it (服用安定助眠, 吃二甲降糖, 用地米退烧), how
    # people talk about it (帕罗哪个副作用小, 劳拉只能短期吃, 万古得上, 反应停现在用于, 氯硝不良反应)
    | {"助眠", "安眠", "催眠", "止痛", "镇痛", "降压", "降糖", "降脂", "退烧", "退热", "消炎", "抗炎", "止吐", "抗感"}
    | {"控制", "预防", "改善", "缓解", "不良", "副作", "效果", "疗效", "药效", "现在", "目前", "一般", "通常", "主要"}
    | {"只能", "只吃", "只用", "只打", "哪个", "哪种", "得上", "得吃", "得用", "得打", "属于", "怎么", "有没", "能不"}
    | {"会不", "要不", "吃多", "副反", "不能", "不要", "不宜", "不可", "不用", "不吃", "不打"}
    # (seventeenth session) its price or whether anyone has it, asked right after it (藍精靈幾多錢一粒, 冰幾錢, G水有冇),
    # and what it is for in Cantonese (食五仔幫手瞓覺)
    | {"幾錢", "几钱", "幾多", "几多", "多少", "價錢", "价钱", "有冇", "散買", "散买", "幫手", "帮手"}
)
# a verb of taking and 完 ("done taking") right before a form: 索完K仔之後, 食完五仔, 吃完安定 (seventeenth session)
_TAKE_DONE_ZH = re.compile(r"[服吃用打食索啪嗑吸玩]完$")
# a one-character street word (冰, "ice"): a substance, taken only right after a weight a dealer counts it in (一克冰,
# 半克冰, 1g冰; a quoted form, so not after a verb of smoking alone: 吸冰沙), and not the first character of a longer word (冰糖, 冰箱, 冰沙)
_WEIGHT_BEFORE_ZH = re.compile(r"[一每半两兩1-9]\s*(?:克|g)$", re.IGNORECASE)


# the clinical-note vocabulary (HBV, 查房, regimen): package data, one word a line
CLINICAL_WORDS = "drug_clinical_context.txt"
# a clinical word: letters, digits, CJK, and - / . + or one space inside; # stands for a number
_CLINICAL_WORD = re.compile(r"[A-Za-z0-9#\u3400-\u9fff]+(?:[- /.+][A-Za-z0-9#\u3400-\u9fff]+)*")


def parse_clinical(text: str, where: str) -> re.Pattern[str]:
    """Read the clinical-note vocabulary (one word a line, "# " comment lines) into one pattern; a malformed or repeated
    word fails with its line."""
    latin_any: list[str] = []
    latin_exact: list[str] = []
    chinese: list[str] = []
    seen: set[str] = set()
    for n, raw in enumerate(text.splitlines(), 1):
        word = raw.strip()
        # a comment line starts with "# " ("#床" is a word: a number before 床)
        if not word or word == "#" or word.startswith("# "):
            continue
        if not (_CLINICAL_WORD.fullmatch(word) and 2 <= len(word) <= 30 and word.strip("#")):
            raise PromptError(f"{where}: line {n}: {word!r} is not a clinical word (letters, digits, CJK, #)")
        if word.casefold() in seen:
            raise PromptError(f"{where}: line {n}: {word!r} is listed twice")
        seen.add(word.casefold())
        body = r"\d+".join(re.escape(part).replace(r"\ ", r"\s+") for part in word.split("#"))
        if _CJK.search(word) and not re.search("[A-Za-z]", word):
            chinese.append(body)
        elif word != word.casefold():
            latin_exact.append(body)
        else:
            latin_any.append(body)
    if not seen:
        raise PromptError(f"{where}: no clinical words")
    edge_l, edge_r = r"(?<![A-Za-z0-9])", r"(?![A-Za-z0-9])"
    parts = [*chinese]
    if latin_exact:
        parts.append(f"{edge_l}(?:{'|'.join(sorted(latin_exact, key=len, reverse=True))}){edge_r}")
    if latin_any:
        parts.append(f"{edge_l}(?i:{'|'.join(sorted(latin_any, key=len, reverse=True))}){edge_r}")
    return re.compile("|".join(parts))


@cache
def clinical_words() -> re.Pattern[str]:
    """The package's clinical-note vocabulary as one pattern."""
    return parse_clinical(resources.files("qa.data").joinpath(CLINICAL_WORDS).read_text("utf-8"), CLINICAL_WORDS)


@dataclass(frozen=True)
class Shorthand:
    """One short form of a listed drug, from the shorthand data file."""

    generic_en: str
    short: str
    exact_case: bool = False
    word: bool = False  # also an everyday word (安定): the checker reads it more strictly
    quoted: bool = False  # a common word that counts only inside quotation marks ('bars')
    source: str = ""  # where the form comes from (the alias file's sources: clinic, street, brand_zh ...)
    dosed: bool = False  # counts only with a dose with a unit right after it (met 1 g)
    imprint: bool = False  # a tablet's imprint code: counts only in a pill context (pressed M30s)

    @property
    def chinese(self) -> bool:
        """Whether the form holds Chinese characters (a name cut short, or a slang form such as K药)."""
        return bool(_CJK.search(self.short))


def parse_shorthand(text: str, where: str) -> list[Shorthand]:
    """Read the shorthand CSV (generic_en, short, case and optionally source; # comment lines first); a malformed row
    fails with its line."""
    lines = text.splitlines()
    skipped = 0
    while skipped < len(lines) and lines[skipped].startswith("#"):
        skipped += 1
    reader = csv.reader(io.StringIO("\n".join(lines[skipped:])))
    header = next(reader, None)
    if header not in (["generic_en", "short", "case"], ["generic_en", "short", "case", "source"]):
        raise PromptError(
            f"{where}: the header after the comments must be generic_en,short,case (and optionally source)"
        )
    width = len(header)
    out: list[Shorthand] = []
    for row in reader:
        line = reader.line_num + skipped
        if not row:
            continue
        if len(row) != width or not row[0].strip() or row[2].strip() not in CASES:
            raise PromptError(
                f"{where}: line {line}: expected {','.join(header)} (case {'|'.join(CASES)}), got {row!r}"
            )
        source = row[3].strip() if width == 4 else ""
        if width == 4 and source not in ALIAS_SOURCES:
            raise PromptError(f"{where}: line {line}: source must be one of {sorted(ALIAS_SOURCES)}, got {row[3]!r}")
        short = row[1].strip()
        cjk = sum(1 for ch in short if _CJK.match(ch))
        # a Latin form is one token of 2–12 letters and digits (joined by - or /); a Chinese one is 2–3 characters
        if cjk == 0 and not (_LATIN_FORM.fullmatch(short) and 2 <= len(short) <= 12 and re.search("[A-Za-z]", short)):
            raise PromptError(f"{where}: line {line}: {short!r} is not a 2-12 character letter abbreviation")
        case = row[2].strip()
        # (one character only for a quoted street word, 冰: read only after a weight or a verb of smoking it)
        shortest = 1 if case == "quoted" else 2
        if cjk and not (
            shortest <= len(short) <= 3 and all(_CJK.match(ch) or ch.isascii() and ch.isalpha() for ch in short)
        ):
            raise PromptError(f"{where}: line {line}: {short!r} is not a 2-3 character Chinese short form")
        out.append(
            Shorthand(
                row[0].strip(),
                short,
                case in ("exact", "dosed"),
                case in ("word", "quoted"),
                case == "quoted",
                source,
                case == "dosed",
                case == "imprint",
            )
        )
    return out


@cache
def _light(ch: str) -> str:
    """One character folded without changing the text's length: full width to ASCII, traditional to simplified,
    look-alike letters to Latin (keeping the letter's case, which exact-case forms need)."""
    nfkc = unicodedata.normalize("NFKC", ch)
    if len(nfkc) == 1:
        ch = nfkc
    folded = _char_folds().get(ch)
    if folded is not None and len(folded[0]) == 1:
        return folded[0].upper() if ch.isupper() else folded[0]
    return "-" if ch in _DASHES else ch


def light(text: str) -> str:
    """The text folded character by character (the same length, so spans stay the original's)."""
    return "".join(map(_light, text))


def _taken_zh(text: str, start: int, end: int, word: bool) -> bool:
    """Whether a verb of taking stands before a Chinese form with 的 (用了半年的K药) or right after it (安定吃多了);
    for a form that is also an everyday word, only 服 or 吃, and after it one of the general before-characters."""
    span = _TAKE_ZH_SPAN.search(text, max(0, start - 12), start)
    if span is not None and (not word or span.group(1) in _TAKE_ZH_BEFORE_WORD):
        return True
    after = _TAKEN_ZH_AFTER.match(text, end)
    if after is None or (word and after.group()[0] not in _TAKE_ZH_BEFORE_WORD):
        return False
    return not word or not start or text[start - 1] in _ZH_BEFORE or not _CJK.match(text[start - 1])


def _took_count(text: str, start: int) -> bool:
    """Whether a verb of taking stands before the count and measure word before text[start] (吃一片, 食咗兩粒)."""
    verb = start - 3
    if verb >= 1 and text[verb] in "了咗过":
        verb -= 1
    return text[verb] in _TAKE_ZH


def _alnum(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


def _quoted(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] stands in quotation marks or brackets, an article or a possessive inside them allowed
    ("the rat poison", "the red devil")."""
    if not (end < len(text) and text[end] in "'\"’”」』)）"):
        return False
    m = _QUOTE_OPEN.search(text, max(0, start - 8), start)
    return m is not None


# letters spelled one by one, one or two marks between ("k e t", "x.a.n.s", "H-C-T-Z", "k. e. t"): three letters
# at least, so "e.g" and "M.S" stay abbreviations of their own; a whole token, as the listed forms are
_SPELLED = re.compile(
    r"(?<![A-Za-z0-9_])(?<![A-Za-z0-9][-.])[A-Za-z](?:[ .*_-]{1,2}[A-Za-z]){2,11}(?![A-Za-z0-9_])(?!\.[A-Za-z0-9])"
)
# a Latin token with a leet digit in it ("f3nt", "0xy", "k3t"): read with the digits as the letters they stand for
_SPELLED_TAIL = re.compile(r"(?<![A-Za-z0-9])[A-Za-z](?:[ .*_-]{1,2}[A-Za-z])*[ .*_-]{0,2}$")
_LEET_TOKEN = re.compile(
    # (a whole token, as the listed forms are: not inside an identifier, ellint_rd_0xy.ipp)
    r"(?<![A-Za-z0-9_])(?<![A-Za-z0-9][-.])(?=[A-Za-z0-9]*[013457])(?=[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*[A-Za-z])"
    r"[A-Za-z0-9]{3,12}(?![A-Za-z0-9_])(?!\.[A-Za-z0-9])"
)
# the last dot of an acronym written with dots, when what follows shows it is no sentence end
_ACRONYM_DOT = re.compile(r"\.(?=\s*[a-z0-9(,;:+/]|\s*$)")
_LEET_LETTERS = str.maketrans({k: v for k, v in LEET.items()})
# an opening quotation mark right before a form, or with an article or a possessive between ("the red devil")
_QUOTE_OPEN = re.compile(r"['\"‘“「『(（](?:(?:the|a|an|my|his|her|their|your|our)\s+)?$", re.IGNORECASE)


# an invisible character between two Latin letters ("m\u200beth"): dropped before forms are read, as the name finder does
_INVISIBLE_IN_WORD = re.compile("(?<=[A-Za-z])[" + "".join(sorted(INVISIBLE)) + "]+(?=[A-Za-z])")


def _visible(text: str) -> tuple[str, list[int]]:
    """The text without invisible characters inside Latin words, and each kept character's index in `text`."""
    if _INVISIBLE_IN_WORD.search(text) is None:
        return text, _Identity()
    out: list[str] = []
    at: list[int] = []
    pos = 0
    for m in _INVISIBLE_IN_WORD.finditer(text):
        out.append(text[pos : m.start()])
        at += range(pos, m.start())
        pos = m.end()
    out.append(text[pos:])
    at += range(pos, len(text))
    return "".join(out), at


class _Identity:
    """Index i is i (the common case: nothing dropped)."""

    def __getitem__(self, i: int) -> int:
        return i


@dataclass(frozen=True)
class ShortHit:
    """A short form found at text[start:end]."""

    start: int
    end: int
    form: Shorthand
    # written in disguise: "spelled" letter by letter ("k e t", "x.a.n.s"), a form written as a name on purpose like
    # one in quotation marks; "leet", with digits for letters ("f3nt", "0xy"), which nobody writes by chance
    disguise: str = ""


class ShorthandIndex:
    """Finds short forms in text: whole tokens only, and (in `find`) only in a drug context."""

    def __init__(self, forms: list[Shorthand], clinical: re.Pattern[str] | None = None) -> None:
        # the clinical-note vocabulary (the package's unless given)
        self.clinical = clinical if clinical is not None else clinical_words()
        self.forms: dict[str, Shorthand] = {}
        for form in forms:
            key = form.short if form.exact_case else form.short.casefold()
            self.forms.setdefault(key, form)
        latin = sorted((f for f in forms if not f.chinese), key=lambda f: -len(f.short))
        chinese = sorted((f.short for f in forms if f.chinese), key=len, reverse=True)

        def pattern(group: list[Shorthand], fold_case: bool) -> str:
            # a trie, not a flat alternation: the first character picks a branch (a third of the cost on an answer)
            return trie_pattern([f.short.casefold() if fold_case else f.short for f in group])

        # a token: no letter, digit or underscore on either side, and no "-x" / ".x" joining it to a longer code;
        # an English word that says what the drug does to a regimen may be joined ("TDF/3TC-based", "MTX-induced")
        edge_l = r"(?<![A-Za-z0-9_])(?<![A-Za-z0-9][-.])"
        edge_r = rf"(?![A-Za-z0-9_])(?!\.[A-Za-z0-9])(?!-(?!(?:{_JOINED})(?![A-Za-z0-9]))[A-Za-z0-9])"
        any_case = [f for f in latin if not f.exact_case]
        exact = [f for f in latin if f.exact_case]
        # (an English plural too: "blue pills", "CZPs"; `tokens` keeps it for a form of four letters or more, or a
        # code in capitals)
        self._latin = [
            re.compile(f"{edge_l}(?:{pattern(group, flags == re.IGNORECASE)})(?:e?s)?{edge_r}", flags)
            for group, flags in ((any_case, re.IGNORECASE), (exact, 0))
            if group
        ]
        # both cases of a Latin letter in a Chinese form (K药, k药) spelled out: IGNORECASE would make the scan ten
        # times slower on Chinese text
        spelled = sorted({v for c in chinese for v in (c, c.upper(), c.lower())})
        self._chinese = re.compile(trie_pattern(spelled)) if chinese else None
        # what a stream must hold back: a tail that may still become a form
        self.prefixes = {
            (f.short if f.exact_case else f.short.casefold())[:i] for f in forms for i in range(1, len(f.short) + 1)
        }
        self.longest = max((len(f.short) for f in forms), default=0)

    def has_form(self, word: str) -> bool:
        """Whether a word, as written, is one of the forms (in its case)."""
        return self._form(word) is not None

    def _form(self, found: str) -> Shorthand | None:
        return self.forms.get(found) or self.forms.get(found.casefold())

    def _plural(self, found: str) -> Shorthand | None:
        """The form a Latin token is the English plural of ("blue pills", "CZPs"), for a form of four letters or more
        or a code in capitals or an imprint: "digs", "fins" and "Dexes" are words."""
        for cut in (1, 2):
            if len(found) <= cut or found[-cut:].lower() != "es"[2 - cut :]:
                continue
            form = self._form(found[:-cut])
            # (and an imprint code, which ends on a digit: "M30s", "A215s" are tablets counted)
            if form is not None and (
                len(form.short) >= 4 or (form.exact_case and form.short.isupper()) or form.imprint
            ):
                return form
        return None

    def tokens(self, text: str) -> list[ShortHit]:
        """Every short form standing as a whole token in light-folded text, context not considered; a Chinese form
        at the very end of the text counts (what follows it is not known yet)."""
        hits: list[ShortHit] = []
        for regex in self._latin:
            for m in regex.finditer(text):
                form = self._form(m.group()) or self._plural(m.group())
                if form is not None:
                    hits.append(ShortHit(m.start(), m.end(), form))
        hits += self._disguised(text)
        if self._chinese is not None:
            pos = 0
            # every start, not finditer's non-overlapping run: 二甲 rejected in 二甲强 must not hide 甲强
            while (m := self._chinese.search(text, pos)) is not None:
                pos = m.start() + 1
                short = m.group()
                start, end = m.start(), m.end()
                before = text[start - 1] if start else ""
                after = text[end] if end < len(text) else ""
                if len(short) == 1:
                    # a one-character street word (冰): after a weight or 吸 only, and no longer word's first character
                    alone = (
                        not _CJK.match(after)
                        or text[end : end + 2] in _ZH_AFTER_WORDS
                        # (a text that ends inside such a word: a stream waits for its second character)
                        or (len(text) - end < 2 and any(w.startswith(text[end:]) for w in _ZH_AFTER_WORDS))
                    )
                    if alone and _WEIGHT_BEFORE_ZH.search(text, max(0, start - 4), start) and self._form(short):
                        hits.append(ShortHit(start, end, self._form(short)))  # type: ignore[arg-type]
                    continue
                # (a verb of taking and 完 before it: 索完K仔)
                done = _TAKE_DONE_ZH.search(text, max(0, start - 2), start) is not None
                # a Chinese neighbour must be a verb, mark or number word, else the form is part of another word;
                # a Latin letter or digit glued to a form starting or ending with a letter (K药) makes it a code
                counted = before in _MEASURE and start >= 2 and text[start - 2] in _COUNT
                timed = text[max(0, start - 2) : start] in _ZH_BEFORE_TIMES
                # a bed number before a form, as a handover writes it (3床地米, 12床右美): 床 ends the bed's name
                bedded = before == "床" and start >= 2 and text[start - 2].isdigit()
                if (
                    _CJK.match(before)
                    and before not in _ZH_BEFORE
                    and not (counted or timed or bedded or done or _alnum(short[0]))
                    # (a verb of taking and how long before it, 吃了三年舒乐, 打了两个月替尔泊: the form is what was taken;
                    # read last, only for a form that would be dropped)
                    and _TAKE_ZH_SPAN.search(text, max(0, start - 12), start) is None
                ):
                    continue
                # a form right after or before a name dot is part of a transliterated name (威廉·普拉格, 碧娜芝．布托)
                if before in _NAME_DOTS or after in _NAME_DOTS:
                    continue
                # a form that starts with a Latin letter (K药) is a word of its own after any character and before
                # any that does not make 药 a longer word (维生素K药物, T药店, I药代动力学): 建议K药单药, K药到底
                letter = _alnum(short[0])
                if (
                    _CJK.match(after)
                    and after not in _ZH_AFTER
                    and (not letter or after in _YAO_WORDS)
                    and text[end : end + 2] not in _ZH_AFTER_WORDS
                    # (a text that ends inside such a word: a stream waits for its second character)
                    and not (len(text) - end < 2 and any(w.startswith(text[end:]) for w in _ZH_AFTER_WORDS))
                ):
                    continue
                if (_alnum(before) and _alnum(short[0])) or (_alnum(after) and _alnum(short[-1])):
                    continue
                form = self._form(short)
                if (
                    form is not None
                    and form.word
                    and _CJK.match(before)
                    and before not in _ZH_BEFORE_WORD
                    and not done
                    # (an aspect between the verb and the count: 食咗兩粒, 吃了一片)
                    and not (counted and start >= 3 and _took_count(text, start))
                    # (a verb of taking before it with 的, or right after it: 吃了五年的安定, 说安定吃多了)
                    and not _taken_zh(text, start, end, word=True)
                ):
                    continue
                if form is not None:
                    hits.append(ShortHit(start, end, form))
        # overlapping tokens (FTC/TDF holds FTC and TDF): the longest wins
        kept: list[ShortHit] = []
        for hit in sorted(hits, key=lambda h: (h.start - h.end, h.start)):
            if all(hit.end <= k.start or k.end <= hit.start for k in kept):
                kept.append(hit)
        return sorted(kept, key=lambda h: h.start)

    def _disguised(self, text: str) -> list[ShortHit]:
        """Latin forms written letter by letter ("k e t") or with leet digits ("f3nt"): every form, not a list of
        disguises; a code matched only before a dose, or an imprint, is never read so."""
        hits: list[ShortHit] = []
        for m in _SPELLED.finditer(text):
            letters = "".join(ch for ch in m.group() if ch.isalpha())
            form = self._form(letters) or self._plural(letters)
            if form is not None and not (form.dosed or form.imprint) and len(form.short) >= 3:
                # capitals with dots are how acronyms are written ("C.I.P.", "H.C.T.Z."): the form, no disguise
                plain = letters.isupper() and "." in m.group()
                end = m.end()
                # (the acronym's own last dot, when a lower-case word, a number or a mark follows it: "H.C.T.Z. 25
                # daily" — it is no sentence end, so the context after it is read; "…M.T.X. Then" ends a sentence)
                if plain and _ACRONYM_DOT.match(text, end):
                    end += 1
                hits.append(ShortHit(m.start(), end, form, disguise="" if plain else "spelled"))
        for m in _LEET_TOKEN.finditer(text):
            token = m.group()
            # a form with a digit of its own (3TC, 5-FU) is read as written; digits only make a word of letters
            if self._form(token) is not None or sum(ch.isdigit() for ch in token) > 2:
                continue
            letters = token.translate(_LEET_LETTERS)
            if not letters.isalpha():
                continue
            form = self._form(letters) or self._plural(letters)
            if form is not None and not (form.dosed or form.imprint or form.exact_case) and len(form.short) >= 3:
                hits.append(ShortHit(m.start(), m.end(), form, disguise="leet"))
        return hits

    def find(self, text: str, before: str = "", is_drug: Callable[[str], bool] | None = None) -> list[ShortHit]:
        """Short forms in text that stand in a drug context. `before` is text that came earlier (a stream's already
        shown part), read only as context; `is_drug` tells whether a piece of text names another drug."""
        folded, at = _visible(light(before + text))
        offset = len(before)
        tokens = self.tokens(folded)
        found = []
        for token in tokens:
            start, end = at[token.start], at[token.end - 1] + 1
            if start < offset:
                continue
            # (a code taken only before a dose is no other drug beside a form: "I met Miss Emma")
            others = [t for t in tokens if t is not token and not t.form.dosed and not t.form.imprint]
            if end - start != token.end - token.start and not token.disguise:  # an invisible inside: "m\u200beth"
                token = replace(token, disguise="spelled")
            if self._context(folded, token, others, is_drug):
                found.append(ShortHit(start - offset, end - offset, token.form))
        return found

    def _context(
        self, text: str, token: ShortHit, others: list[ShortHit], is_drug: Callable[[str], bool] | None
    ) -> bool:
        """Whether the clause around a token says "drug"."""
        left = text[max(0, token.start - LEFT) : token.start]
        ends = list(_CLAUSE_END.finditer(left))
        if ends:
            left = left[ends[-1].end() :]
        right = text[token.end : token.end + RIGHT]
        cut = _CLAUSE_END.search(right)
        if cut:
            right = right[: cut.start()]
        window = left + " " + right
        # (a list reaches further back than LEFT: up to 80 characters of the clause)
        wide = text[max(0, token.start - 80) : token.start]
        wide = wide[ends[-1].end() :] if (ends := list(_CLAUSE_END.finditer(wide))) else wide
        named = (
            _NAMED_LIST.search(wide) is not None
            or _NAMED_AFTER.match(right) is not None
            or (not token.form.chinese and _CALLS_BEFORE.search(wide) is not None)
        )
        # a code too ambiguous for any other context: a dose with a unit right after it, and nothing else
        if token.form.dosed:
            return _DOSE_RIGHT_AFTER.match(right) is not None
        # a tablet's imprint: a word for a pill, or for pressing, faking or taking one, in its clause
        # (or a dealer's words beside one written as a plural: "have blue M30s, 25 a pop")
        if token.form.imprint:
            plural = text[token.end - 1 : token.end] in "sS" and not token.form.short.endswith(("s", "S"))
            return _PILL_WORDS.search(wide + " " + right) is not None or (
                plural and _DEAL.search(wide + " " + right) is not None
            )
        # a Latin code that is a person's name: a title before it or a word for a person after it ("Dr. Li", "Li 医生")
        if not token.form.chinese and (
            _PERSON_BEFORE.search(text, max(0, token.start - 12), token.start)
            or _PERSON_AFTER.match(text, token.end)
            # (a two-letter code before a capitalised word is a surname before a given name: "Li Ming took 5 mg")
            or (len(token.form.short) <= 2 and _GIVEN_NAME.match(text, token.end))
        ):
            return False
        # a Latin form right before a noun of a household or skin product is that product's brand ("Oxy acne wash")
        if not token.form.chinese and _PRODUCT_AFTER.match(right):
            return False
        # written as a name: in quotation marks, or in disguise ("k e t", "f3nt")
        as_name = bool(token.disguise) or _quoted(text, token.start, token.end)
        # a form in leet that is no everyday word is a drug by itself: nobody writes "0xy" or "f3nt" by chance
        if token.disguise == "leet" and not token.form.word:
            return True
        # the words of drug use and its harms around a form: "tina use", "hooked on lean", "lines of ket"
        if self._drug_use(left, right, window, token):
            return True
        # a dealer's words in its clause: "oxy 有冇人有", "selling SOMA 350s, msg me", "K仔幾錢一包"
        if self._dealt(text, window, right, token):
            return True
        if self._asked_for(text, left, right, window, token):
            return True
        # a street name that is no everyday word, suspected as a clinician suspects a poison: "suspected fetty,
        # pinpoint pupils"
        if (
            not (token.form.word or token.form.quoted or token.form.exact_case)
            and len(token.form.short) >= 4
            and _SUSPECTED.search(left)
        ):
            return True
        if token.form.quoted and not (
            as_name
            or named
            or self._word_joined(text, token, others, is_drug)
            # (joined by +, / or & to another drug: "gabbies + subs")
            or self._joined(text, token, others, is_drug)
        ):
            return False
        if _DOSE.search(window) or _ROUTE.search(window):
            return True
        # a count and its measure word right before a Chinese form (再来一盒P药, 吃两片安定): the form is what is counted
        # (the token rule already asked a form that is an everyday word for a verb of taking before the count)
        if (
            token.form.chinese
            and token.start >= 2
            and text[token.start - 1] in _MEASURE
            and text[token.start - 2] in _COUNT
        ):
            return True
        # called a name people use: a form that is also an everyday word only when quoted as a name ("dig into the
        # slang" is not digoxin; "'Miss Emma' in street slang" is morphine)
        if _NAMED.search(window) and (not token.form.word or as_name):
            return True
        # a word form in a list that a naming word opens ("Street names: ice, crystal", "俗称：冰、麻古") or named right
        # after it ("mixing lean, also called ...")
        if (token.form.word or token.form.quoted) and named:
            return True
        # a form written in quotation marks is written as a name: a verb of taking or getting anywhere before it in its
        # clause, or a word about medicines around it, makes it a drug ('took 2 of my husband's "blue pills"', 'got
        # "the red devil" for her breast cancer', 'Is "lean" really just cough syrup?')
        # (being offered one, only when the form ends its phrase: "offered me 'special K', what is it" is the drug,
        # "offered my 'special K' cereal" the cereal)
        took = _TAKE_WIDE.search(wide) is not None or (
            _OFFERED.search(wide) is not None and _PHRASE_END.match(right) is not None
        )
        if as_name and (_MEDICINE_WORDS.search(window) or took):
            return True
        # a medicine noun right after the form: "Gent trough 2.8", "dig level", 他克浓度
        if _NOUN_AFTER.match(right):
            return True
        # a device or route that delivers a drug right before a Latin form: "PCA morph", "epidural fent"
        if not token.form.chinese and _DEVICE_BEFORE.search(left):
            return True
        # a treatment cycle right after a form that is no everyday word: "pembro C6 today", "FOLFOX cycle 3"
        if not token.form.word and _CYCLE_AFTER.match(right):
            return True
        # in a prescription (a dose with a unit within REACH before, or in the clause after), a form that is no
        # everyday word is a drug by itself ("175 mg/m2 q3w; DTX if neuropathy"); one that is, only when quoted or,
        # in Latin, written capitalised at the start of its clause ("…2 g IV q12h. Dex before the first dose")
        # (for a word form, a route or frequency code there too: "500 g of flour. Dex will bake" is a recipe)
        if self._prescription(text, token, right, strict=False):
            if not token.form.word or as_name:
                return True
            opening = not token.form.chinese and text[token.start].isupper() and not left.strip(" \"'([{:：-–—")
            if opening and self._prescription(text, token, right, strict=True):
                return True
        # in a clinical note (a ward round, a handover, a regimen, an HBV follow-up: a word of the clinical vocabulary
        # in the form's sentence or the one before, or in its clause after), a form that is no everyday word is a
        # drug by itself ("HBV 初治，ETV 起始", "Stroke code, NIHSS 14: TNK given"); a code with capitals only as
        # written there (ETV, not "etv")
        if not token.form.word and self._clinical_note(text, token, right):
            return True
        # a Latin form that is also an English word or name (dig, fin, metro) needs a dose, a route, a frequency
        # beside it or a verb of taking right before it: "dig into the dose" is not digoxin; one of two words
        # (blue pill, Special K) is rarer as an everyday phrase and also takes the medicine words
        latin_word = token.form.word and not token.form.chinese and " " not in token.form.short
        if not latin_word and _MEDICINE_WORDS.search(window):
            return True
        # a dose written without its unit, then a frequency or another drug joined by +: "HCTZ 25 + lisinopril 20",
        # "LEV 500 bd" (a regimen line), for a form that is no everyday word
        if not token.form.word and _BARE_DOSE.match(right):
            return True
        # a frequency in ordinary words only right next to the token: "MTX 每周一次", "睡前甘精", not "CRO 公司每周"
        after = right[_GAP.match(right).end() :]
        if _OFTEN.match(after) or any(m.end() >= len(left.rstrip(" ,，、:：")) for m in _OFTEN.finditer(left)):
            return True
        if not latin_word and _OFTEN_PHRASE.match(after):
            return True
        if not token.form.chinese and _TAKE_BEFORE.search(left):
            return True
        # (not for a code matched only as written, GEM or TAM: 用GEM安装 is Ruby's package tool)
        # (quotation marks between: 玩“K仔”)
        before = left.rstrip(" \"'“‘「『")[-1:]
        taking = _TAKE_ZH_BEFORE_WORD if token.form.word else _TAKE_ZH_BEFORE
        if before and before in taking and not token.form.exact_case:
            return True
        # (a verb of taking and 完: 索完K仔之後, 食完五仔)
        if _TAKE_DONE_ZH.search(left.rstrip(" \"'“‘「『")):
            return True
        if token.form.chinese and _taken_zh(text, token.start, token.end, token.form.word):
            return True
        # a verb of taking and a count before one everyday word: "took 1 addy", "popped two vals"; a clipping that is
        # an ordinary English word (metro, dig) takes a verb for a pill only: "He took 1 metro." rode the metro
        if latin_word and _PHRASE_END.match(right):
            verbs = _TAKE_COUNT_BEFORE if token.form.source == "street" else _POP_COUNT_BEFORE
            if verbs.search(left):
                return True
        # an article between the verb and the form, and verbs of buying or mixing: not for one everyday word unless
        # it is quoted as a name
        plain = not latin_word or " " in token.form.short
        if not token.form.chinese and plain and _TAKE_DET_BEFORE.search(left):
            return True
        if not token.form.chinese and (not latin_word or token.form.quoted) and _OBTAIN_BEFORE.search(left):
            return True
        # a verb of using a drug as drugs are used ("smoking meth", "crushed two oxys")
        if not token.form.chinese and _USE_BEFORE.search(left):
            return True
        # one everyday word joined by +, / or & to another drug name or form: "mife + miso", "fin/dut"
        if latin_word:
            return self._joined(text, token, others, is_drug) or self._word_joined(text, token, others, is_drug)
        # inside a list of drugs: another short form or a listed name within the same reach
        lo, hi = token.start - len(left), token.end + len(right)
        if any(lo <= t.start and t.end <= hi for t in others):
            return True
        return bool(is_drug and (is_drug(left) or is_drug(right)))

    @staticmethod
    def _drug_use(left: str, right: str, window: str, token: ShortHit) -> bool:
        """Whether the clause around a Latin form speaks of using a drug as drugs are used: a phrase of use or harm
        right before it ("hooked on", "lines of"), a noun of use right after it ("abuse", "withdrawal"; "use" itself
        after a substance history, "admits to tina use", or for a form that is no everyday word), or a word of
        addiction in its clause ("got my boy hooked")."""
        if token.form.chinese:
            return False
        noun = _USE_NOUN_AFTER.match(right)
        # ("use" itself for a form that is no word and not a code matched as written: "GEM use" is Ruby's package tool)
        plain = not (token.form.word or token.form.exact_case)
        if noun and (noun.group("noun").lower() != "use" or plain or _HISTORY_BEFORE.search(left)):
            return True
        # an everyday word form must end its phrase: "hooked on ice hockey", "addicted to speed dating" are no drugs
        if token.form.word and not _PHRASE_END.match(right):
            return False
        if _USE_PHRASE_BEFORE.search(left):
            return True
        if token.form.source == "street" and not token.form.quoted and _BACK_ON_BEFORE.search(left):
            return True
        # (for an everyday word, only after it, the form the subject: "lean got my boy hooked"; "addiction clinic" or
        # a gambling addiction before it is about something else)
        return _ADDICTION.search(right if token.form.word else window) is not None

    @staticmethod
    def _asked_for(text: str, left: str, right: str, window: str, token: ShortHit) -> bool:
        """Whether a street word written in lower case is asked for or offered as a user or a dealer does it: a verb of
        getting right before it ("can u get addy", "need a plug for charlie") and the word ending its phrase; a word
        quoted by case (lean, subs), or after "got", also needs a dealer's words after it ("tryna get some lean
        tonight hmu")."""
        # (a form quoted by case is a street word whatever its source row says: lean, subs, blues; a street form that
        # is no English word, too: "need clen and T3 for a cut")
        street = token.form.source == "street" and not token.form.exact_case
        if token.form.chinese or not (token.form.quoted or street):
            return False
        written = text[token.start : token.end]
        if written != written.lower() or not _PHRASE_END.match(right) or _GOT_PHRASE_TO.match(right):
            return False
        verb = _GET_BEFORE.search(left)
        if verb is None:
            return False
        # ("got" says having as often as getting: "we got some shrooms for the risotto"; with a dealer's words after
        # the word only — "Anyone got ice for the drinks" has its dealer's words in the asking itself)
        return not (token.form.quoted or verb.group("got")) or _DEAL.search(right) is not None

    @staticmethod
    def _dealt(text: str, window: str, right: str, token: ShortHit) -> bool:
        """Whether a form is offered, sought or priced as a dealer does it: a dealer's words beside it (selling,
        who has, a price, "msg me", 私聊); for an everyday word or a code matched as written, also a strength right after
        it ("Soma 350s", "subs 8mg") and no other word glued before it ("protein bars 20s" is a snack)."""
        # (beside the form, LEFT before and RIGHT after it: "buying" 60 characters back in a sentence about the
        # checker's cue words is no deal)
        # (a price per gram or per pill is a dealer's words by itself: "ket 40 a g", 一克冰幾錢)
        by_weight = _PRICE_BY_WEIGHT.search(window) is not None
        by_pill = _PRICE_BY_PILL.search(window) is not None
        if _DEAL.search(window) is None and not (by_weight or by_pill):
            return False
        # (or one written in disguise, "D.e.c.a", "m\u200beth": nobody spells a word so by chance)
        if not (token.form.word or token.form.quoted or token.form.exact_case) or token.disguise:
            return True
        # an everyday word, a code as written or a quoted form: a strength right after it, or a price per unit beside
        # it — by weight for any ("Mandy in stock, £40 a g", 一克冰幾錢), by the pill for one that is no quoted
        # substance word (藍精靈幾多錢一粒, "FM2一排多少"; ice and 冰 are sold by the bag and the cube too)
        # (a quoted Latin word only with the price right after it, "ice 60 a g": "水晶（crystal）饰品一克多少钱" is a
        # gloss on jewellery sold by the gram)
        if token.form.quoted and not token.form.chinese:
            by_weight = _PRICE_BY_WEIGHT.match(right, _GAP.match(right).end()) is not None
        priced = by_weight or (by_pill and not token.form.quoted)
        if _STRENGTH_AFTER.match(right) is None and not priced:
            return False
        # (a Chinese form's neighbours were read when it was taken as a token)
        if token.form.chinese:
            return True
        # (at the start of the text, or after a mark, a verb of having or getting, a count or an article)
        before = text[max(0, token.start - 24) : token.start]
        return not before.strip(" \"'‘“") or _DEAL_BEFORE.search(before) is not None

    @staticmethod
    def _prescription(text: str, token: ShortHit, right: str, strict: bool) -> bool:
        """Whether a dose with a unit stands within REACH before the token (in its sentence or the one before) or in its
        clause after; with `strict`, a route or frequency code too (IV, q12h, bid)."""
        before = text[max(0, token.start - REACH) : token.start]
        # the token's own sentence and the one before it only: a dose three sentences back says little
        ends = list(_SENTENCE_END.finditer(before))
        if len(ends) >= 2:
            before = before[ends[-2].end() :]
        if not (_UNIT_DOSE.search(before) or _UNIT_DOSE.search(right)):
            return False
        return not strict or bool(_ROUTE.search(before) or _ROUTE.search(right))

    def _clinical_note(self, text: str, token: ShortHit, right: str) -> bool:
        """Whether a clinical word stands in the token's sentence or the one before (within REACH) or in its clause
        after, and a Latin code stands as the file writes it."""
        short = token.form.short
        if not token.form.chinese and short != short.casefold() and text[token.start : token.end] != short:
            return False
        if token.form.chinese:
            after = text[token.end : token.end + 2]
            if after[:1] and _CJK.match(after[0]) and after[0] not in _NOTE_ZH_AFTER and after not in _ZH_AFTER_WORDS:
                return False
        elif _NOTE_LATIN_BEFORE.search(text, max(0, token.start - 30), token.start):
            return False
        before = text[max(0, token.start - REACH) : token.start]
        ends = list(_SENTENCE_END.finditer(before))
        if len(ends) >= 2:
            before = before[ends[-2].end() :]
        return bool(self.clinical.search(before) or self.clinical.search(right))

    @staticmethod
    def _joined(text: str, token: ShortHit, others: list[ShortHit], is_drug: Callable[[str], bool] | None) -> bool:
        """Whether a form is joined by +, / or & to another form or a listed name right beside it."""
        before = _JOIN_BEFORE.search(text, max(0, token.start - LEFT), token.start)
        after = _JOIN_AFTER.match(text, token.end, token.end + RIGHT)
        for m in (before, after):
            if m is None:
                continue
            at, end = m.span("name")
            if any(t.start == at and t.end == end for t in others) or (is_drug and is_drug(m.group("name"))):
                return True
        return False

    @staticmethod
    def _word_joined(text: str, token: ShortHit, others: list[ShortHit], is_drug: Callable[[str], bool] | None) -> bool:
        """Whether a form is joined by with, and, or, than (a list or a comparison) to a listed name or to a form that
        is no everyday word right beside it: two everyday words ("metro and dig") say nothing about each other."""
        before = _WORD_JOIN_BEFORE.search(text, max(0, token.start - LEFT - 8), token.start)
        after = _WORD_JOIN_AFTER.match(text, token.end, token.end + RIGHT)
        for m in (before, after):
            if m is None:
                continue
            at, end = m.span("name")
            if any(t.start == at and t.end == end and not t.form.word for t in others) or (
                is_drug and is_drug(m.group("name"))
            ):
                return True
        return False

    def pending(self, text: str, tail: bool = True) -> int | None:
        """Where a stream must stop showing: the start of a form whose context after it is not complete yet, or (with
        `tail`: text is all that came so far) of a tail that may still become a form; None when nothing is pending."""
        folded, at = _visible(light(text))
        hold: int | None = None
        for token in self.tokens(folded):
            after = folded[token.end :]
            if len(after) < RIGHT and not _CLAUSE_END.search(after):
                hold = at[token.start] if hold is None else min(hold, at[token.start])
        # letters being spelled one by one at the end ("k e", "x.a.n"): they may still become a form
        spelled = _SPELLED_TAIL.search(folded) if tail else None
        if spelled is not None:
            letters = "".join(ch for ch in spelled.group() if ch.isalpha())
            if letters in self.prefixes or letters.casefold() in self.prefixes:
                hold = spelled.start() if hold is None else min(hold, spelled.start())
        for k in range(min(self.longest, len(folded)) if tail else 0, 0, -1):
            end = folded[-k:]
            if (end in self.prefixes or end.casefold() in self.prefixes) and not (
                len(folded) > k and _alnum(folded[-k - 1]) and _alnum(end[0])
            ):
                at = len(folded) - k
                hold = at if hold is None else min(hold, at)
                break
        return hold
