"""Twelfth-session names and rules (issue 15): clippings, codes and patients' words written drug by drug for the most
prescribed and talked-about drugs, and what is general in the contexts the seen sets' misses stood in — a quoted form
with an article inside the quotes or a verb of taking further back, a verb of using a drug as drugs are used, a
form joined by "with"/"and"/"or" to another drug, the form a medicine comes in after it (nitro spray), the English
plural of a form, what a medicine is for said after a Chinese form (安定助眠), Taiwan's 醯; and names read across English
words ("His hair is thin" is not Istin). The fourteenth session's rows follow each table: disguises and contexts of
drug use read for every short form; then the fifteenth's: a dealer's words, acronyms with dots, ward and street words
by kind, and "took 1 metro"."""

from __future__ import annotations

import pytest

from qa.validation import DrugList

from .helpers import assert_found_and_redacted, assert_untouched


@pytest.mark.parametrize(
    ("text", "found", "drug"),
    [
        # new clippings and codes in a dose, a frequency or a clinical note
        ("Started amoxi 500 mg tid for otitis.", "amoxi", "amoxicillin"),
        ("PCP prophylaxis: cotrim 480 mg daily.", "cotrim", "sulfamethoxazole/trimethoprim"),
        ("Strep throat: pen VK 500 mg bid for 10 days.", "pen VK", "phenoxymethylpenicillin"),
        ("交班：5床 DKA，RI 4u/h 静脉泵入，每小时测血糖。", "RI", "insulin human"),
        ("He has been on lithium 400 mg bid since 2019.", "lithium", "lithium carbonate"),
        ("Night sedation: mirta 15 mg at night.", "mirta", "mirtazapine"),
        ("术后改用氨苄 2g q6h 静滴。", "氨苄", "ampicillin"),
        ("二甲双 0.5g 每日两次，餐后服用。", "二甲双", "metformin"),
        ("He took two yellow bars last night.", "yellow bars", "alprazolam"),
        ("Paxlovid吃完又复阳了，群里有人说再来一盒P药也没用。", "P药", "nirmatrelvir"),
        # names found anywhere: a nickname, a brand, an insulin named by its kind
        ("He calls it the limitless pill.", "limitless pill", "modafinil"),
        ("Her rheumatologist switched her to Hadlima last month.", "Hadlima", "adalimumab"),
        ("Sliding scale with regular insulin before meals.", "regular insulin", "insulin human"),
        ("My knee got a Depo-Medrol injection.", "Depo-Medrol", "methylprednisolone"),
        # a quoted form with an article inside the quotes, or a verb of taking further back in its clause
        ('My nan calls her blood thinner "the rat poison" and forgets it.', "rat poison", "warfarin"),
        ('My sister got "the red devil" for her breast cancer.', "red devil", "doxorubicin"),
        ('Took 2 of my husband\'s "blue pills" by mistake.', "blue pills", "sildenafil"),
        ('Pain clinic: pt reports taking 6-8/day of leftover post-op "hydros"; UDS positive.', "hydros", "hydrocodone"),
        ('Hospice: whether "Miss Emma" (pt\'s word for her pain med) can be increased.', "Miss Emma", "morphine"),
        # a verb of using a drug as drugs are used, a form joined to another drug, the form a medicine comes in
        ("ED triage: admits smoking meth for three days.", "meth", "metamfetamine"),
        ("He said he crushed two oxys at a party.", "oxys", "oxycodone"),
        ("Mixing K-pins with lean is how most overdoses happen.", "lean", "codeine"),
        ('The documentary says "ice" and crystal meth are the same.', "ice", "metamfetamine"),
        ("Carry your nitro spray at all times.", "nitro", "glyceryl trinitrate"),
        ("Two blue pills a day is too many.", "blue pills", "sildenafil"),
        # Chinese forms: what the medicine is for right after it, a person or a request before or after it
        ("老年患者长期服用安定助眠，跌倒风险高。", "安定", "diazepam"),
        ("主任说这个病人万古得上，谷浓度明天抽。", "万古", "vancomycin"),
        ("反应停现在用于多发性骨髓瘤。", "反应停", "thalidomide"),
        ("舍曲林和帕罗哪个副作用小？", "帕罗", "paroxetine"),
        ("网上说配合“米索”一起用，安全吗？", "米索", "misoprostol"),
        ("而家有啲後生仔玩“K仔”，會傷膀胱。", "K仔", "ketamine"),
        ("代文请每天固定时间服用。", "代文", "valsartan"),
        # Taiwan's acyl character
        ("紅斑性狼瘡：環磷醯胺 每月一次靜脈注射。", "環磷醯胺", "cyclophosphamide"),
        # a code too ambiguous for any other context, right before a dose with a unit
        ("Ward round: continue met 1 g bid, recheck HbA1c.", "met", "metformin"),
        ("PCA MS 1 mg bolus, lockout 10 min.", "MS", "morphine"),
        ("Pharmacy alert: Li level 1.4 mmol/L, hold tonight's dose.", "Li", "lithium carbonate"),
        # a count and its measure word before a Chinese form; a tuberculosis note
        ("群里有人说再来一盒P药也没用，是真的吗？", "P药", "nirmatrelvir"),
        ("TB clinic: latent TB on 3HP, Priftin once weekly + INH.", "INH", "isoniazid"),
        # a long name split by a space keeps its letters
        ("Take atorvast atin 20 mg at night.", "atorvast atin", "atorvastatin"),
        # (fourteenth session) any short form spelled letter by letter or with leet digits, a letter held
        ("anyone selling k e t this weekend?", "k e t", "ketamine"),
        ("He bought some x.a.n.s off a guy.", "x.a.n.s", "alprazolam"),
        ("Street price for 0xy has doubled.", "0xy", "oxycodone"),
        ("everything on the street is cut w/ f3nt now", "f3nt", "fentanyl"),
        ("need xaaanax asap", "xaaanax", "alprazolam"),
        ("fentaaanyl patch every 3 days", "fentaaanyl", "fentanyl"),
        # ...the words of drug use around a street word, a take verb and a count, a + to another drug, a bare dose
        ("He got hooked on lean in college.", "lean", "codeine"),
        ("ED note: hx of tina use, UDS pending.", "tina", "metamfetamine"),
        ("Two lines of ket and he was gone.", "ket", "ketamine"),
        ("popped 2 addy before the exam", "addy", "amfetamine"),
        ("Gabapentin + subs is a risky mix.", "subs", "buprenorphine"),
        ("HCTZ 12.5 daily with lisinopril", "HCTZ", "hydrochlorothiazide"),
        # ...a Chinese verb of taking with how long and 的 before a form, or right after it
        ("吃了两年的安定，现在想停。", "安定", "diazepam"),
        ("用了三个月的K药，肿瘤缩小了。", "K药", "pembrolizumab"),
        ("他说安定吃多了会上瘾吗？", "安定", "diazepam"),
        ("术后镇痛泵里加的是舒芬。", "舒芬", "sufentanil"),
        # ...a tablet's imprint in a pill context, a chemotherapy cycle as a clinical word
        ("fake blues stamped M30 are everywhere", "M30", "oxycodone"),
        ("he popped two GG 249 bars", "GG 249", "alprazolam"),
        ("T-DXd 第2周期后复查CT。", "T-DXd", "trastuzumab deruxtecan"),
        # ...a Chinese name with a syllable written in pinyin
        ("最近在吃舍qu林，睡得好点了。", "舍qu林", "sertraline"),
        ("医生开了阿莫xi林。", "阿莫xi林", "amoxicillin"),
        ("奥施kang定一天两次。", "奥施kang定", "oxycodone"),
        # (fifteenth session) a dealer's words: selling, who has, a price, "msg me", a strength written as a plural
        ("oxy 30s 有冇人有", "oxy", "oxycodone"),
        ("selling soma 350s, msg me", "soma", "carisoprodol"),
        ("got A215s, $20 each, DM me", "A215s", "oxycodone"),
        ("K仔幾錢一包呀", "K仔", "ketamine"),
        ("fent 多少钱一克，私我", "fent", "fentanyl"),
        # ...an acronym written with dots before a dose, a device before a form, a treatment cycle after it
        ("Continue H.C.T.Z. 25 daily.", "H.C.T.Z.", "hydrochlorothiazide"),
        ("RA flare: M.T.X. 15 mg weekly.", "M.T.X.", "methotrexate"),
        ("Post-op: PCA morph, obs stable.", "morph", "morphine"),
        ("oncology: pembro C6 today", "pembro", "pembrolizumab"),
        # ...a Chinese verb of taking with how long and no 的, a class noun or a device right before a form
        ("打了两个月替尔泊，瘦了八公斤。", "替尔泊", "tirzepatide"),
        ("止痛药羟考吃了半年。", "羟考", "oxycodone"),
        ("镇痛泵舒芬持续泵入。", "舒芬", "sufentanil"),
        # ...street names and brands added by kind
        ("gas station heroin is sold next to the vapes", "gas station heroin", "tianeptine"),
        ("ward: Septrin 960 MWF", "Septrin", "sulfamethoxazole/trimethoprim"),
        # (fifteenth session, second round) classes the list never had: hormonal contraceptives and HRT products,
        # HK/TW benzodiazepines, platinum chemotherapy, aciclovir, MDMA
        ("医生给我开了妈富隆，每天一片。", "妈富隆", "desogestrel/ethinylestradiol"),
        ("Mirena was fitted last week.", "Mirena", "levonorgestrel intrauterine system"),
        ("Femoston 1/10 daily for HRT.", "Femoston", "estradiol/dydrogesterone"),
        ("HRT: estradiol patch twice weekly.", "estradiol patch", "estradiol hemihydrate"),
        ("黄体酮胶囊每晚一粒。", "黄体酮胶囊", "micronised progesterone"),
        ("Rohypnol was found in her drink.", "Rohypnol", "flunitrazepam"),
        ("以前好多人食溴替唑仑。", "溴替唑仑", "brotizolam"),
        ("Zovirax 200 mg five times a day.", "Zovirax", "aciclovir"),
        ("顺铂化疗后肾功能下降。", "顺铂", "cisplatin"),
        ("pills sold as MDMA often hold other drugs", "MDMA", "midomafetamine"),
        # ...forms that are also ordinary words or names, read in a drug context
        ("took ecstasy at a rave", "ecstasy", "midomafetamine"),
        ("she switched me to Yasmin because of clots", "Yasmin", "drospirenone/ethinylestradiol"),
        # ...a leet digit ending a name before a number, "@" for an a
        ("Zolof7 50mg daily", "Zolof7", "sertraline"),
        ("x@n@x 2mg bars", "x@n@x", "alprazolam"),
        # (sixteenth session) classes the list never had: anabolic steroids and testosterone esters, their gym names,
        # clenbuterol, cocaine, heroin; older and Taiwan/Hong Kong names; names typed in pinyin
        ("He ran testosterone enanthate 250 mg weekly.", "testosterone enanthate", "testosterone enanthate"),
        ("教练推荐苯丙酸诺龙，每周一针。", "苯丙酸诺龙", "nandrolone"),
        ("selling tren, 100mg/ml, msg me", "tren", "trenbolone"),
        ("winny 50mg a day is too much", "winny", "stanozolol"),
        ("first dbol cycle, any advice?", "dbol", "metandienone"),
        ("clen 20mcg each morning", "clen", "clenbuterol"),
        ("Anavar 10 mg for women?", "Anavar", "oxandrolone"),
        ("可卡因和海洛因都是毒品。", "海洛因", "diamorphine"),
        ("古柯鹼成癮怎麼戒？", "古柯鹼", "cocaine"),
        ("Сосаine is sold cut with levamisole.", "Сосаine", "cocaine"),
        ("之前吃胃复安手抖。", "胃复安", "metoclopramide"),
        ("小时候拉肚子吃氟哌酸。", "氟哌酸", "norfloxacin"),
        ("爷爷说以前打盘尼西林很管用。", "盘尼西林", "benzylpenicillin"),
        ("昔多芬是威而鋼的學名。", "昔多芬", "sildenafil"),
        ("美沙冬替代療法每天要到診所喝。", "美沙冬", "methadone"),
        ("leucovorin rescue 15 mg q6h after the infusion", "leucovorin", "calcium folinate"),
        ("揈頭丸同酒一齊食好危險", "揈頭丸", "midomafetamine"),
        ("wo ma zai chi a mo xi lin, ke yi he niu nai ma", "a mo xi lin", "amoxicillin"),
        ("yisheng kai le aisizuolun", "aisizuolun", "estazolam"),
        ("wǒ zài chī shě qū lín", "shě qū lín", "sertraline"),
        # ...street words that are ordinary words, with a dealer's or a taker's context; Cantonese contexts
        ("shard 2g $150, DM me", "shard", "metamfetamine"),
        ("He was offered 'molly' at the festival.", "molly", "midomafetamine"),
        ("m\u200beth 3.5g $60 pm me", "m\u200beth", "metamfetamine"),
        ("D.e.c.a 200mg, who has it?", "D.e.c.a", "nandrolone"),
        ("佢食咗一粒五仔就瞓着咗", "五仔", "nimetazepam"),
        ("醫生開咗可定，每晚一粒。", "可定", "rosuvastatin"),
        ("有人打白粉", "白粉", "diamorphine"),
        # ...ward clippings: a release form between a bare dose and its frequency, a clipping before a dose
        ("ISMN 30 MR mane", "ISMN", "isosorbide mononitrate"),
        ("fluclox 500 mg qds PO", "fluclox", "flucloxacillin"),
        ("cape 1250 mg/m2 bd", "cape", "capecitabine"),
        # (sixteenth session, drug21) a character of a 4+ character name written by a southern accent's sound
        # (n/l, s/sh, in/ing); a brand's last c typed k; names never listed; hallucinogens; oncology frequencies
        ("我爸在吃美托诺尔，早上一片。", "美托诺尔", "metoprolol"),
        ("阿奇霉数吃三天停四天对吗", "阿奇霉数", "azithromycin"),
        ("硝苯地频缓释片一天几次", "硝苯地频", "nifedipine"),
        ("Ozempik 0.5 mg weekly injection", "Ozempik", "semaglutide"),
        ("皮肤科开了丙酸氯倍他索乳膏。", "丙酸氯倍他索", "clobetasol"),
        ("Dermovate cream twice daily for 2 weeks.", "Dermovate", "clobetasol"),
        ("琥乙紅黴素片孕婦可以食嗎", "琥乙紅黴素", "erythromycin"),
        ("Naloxone spray reverses an opioid overdose.", "Naloxone", "naloxone"),
        ("急救箱有納洛酮噴劑", "納洛酮", "naloxone"),
        ("LSD 100ug tabs, msg me", "LSD", "lysergide"),
        ("He was high on shrooms.", "shrooms", "psilocybine"),
        ("Magic mushrooms are illegal here.", "Magic mushrooms", "psilocybine"),
        ("四號仔 1g 800蚊，私聊", "四號仔", "diamorphine"),
        ("Yasmin 每日食一粒", "Yasmin", "drospirenone/ethinylestradiol"),
        ("nivo q2w, pt c/o diarrhoea grade 2", "nivo", "nivolumab"),
        ("Pt refusing cloz bloods again", "cloz", "clozapine"),
        ("佢食咗1粒眠之後瞓咗成日", "1粒眠", "nimetazepam"),  # a Chinese numeral of a name typed as a digit
        ("2甲双胍一天几次", "2甲双胍", "metformin"),
        # (seventeenth session, drug22) street words with a dealer's price per unit or a user's words, lower-case
        # misspelt brands, a character without its 口 radical, etomidate
        ("一克冰幾錢？要靚嘢", "冰", "metamfetamine"),
        ("半克冰300蚊，私聊", "冰", "metamfetamine"),
        ("G水有冇？今晚要", "G水", "sodium oxybate"),
        ("Mandy in stock, £40 a g, hmu", "Mandy", "midomafetamine"),
        ("ket 60 a g, dm me", "ket", "ketamine"),
        ("Test E 250mg/ml, 10ml vial", "Test E", "testosterone enanthate"),
        ("M.D.M.A 粉定丸好？", "M.D.M.A", "midomafetamine"),
        ("藍精靈幾多錢一粒？", "藍精靈", "sildenafil"),
        ("FM2一排多少？", "FM2", "flunitrazepam"),
        ("索完K仔之後好攰", "K仔", "ketamine"),
        ("佢食五仔幫手瞓覺", "五仔", "nimetazepam"),
        ("he's back on the smack again", "smack", "diamorphine"),
        ("clen for cutting, any tips?", "clen", "clenbuterol"),
        ("夜店有人在賣快樂丸", "快樂丸", "midomafetamine"),
        ("ＬＳＤ 紙 有冇人有", "ＬＳＤ", "lysergide"),
        ("CTX 0.8g + DDP 40mg d1", "DDP", "cisplatin"),
        ("seroquil 25mg at night for sleep", "seroquil", "quetiapine"),
        ("klonipin 1mg twice a day", "klonipin", "clonazepam"),
        ("坐比坦吃了还是醒", "坐比坦", "zolpidem"),
        ("派醋甲酯一天吃几次", "派醋甲酯", "methylphenidate"),
        ("依托咪酯诱导后插管", "依托咪酯", "etomidate"),
        ("太空油多少钱一瓶？", "太空油", "etomidate"),
        ("医生开的马啡片吃了便秘", "马啡", "morphine"),
        # (a clipping one edit from a brand keeps its own drug: levetir is not Levemir, insulin detemir)
        ("levetir 500 bd", "levetir", "levetiracetam"),
        # (seventeenth session, drug23) a character written as its two components, $ for s, a getting verb before a
        # lower-case street word, 食過 before a form, dealer's words, newly listed drugs and Taiwan's names
        ("阿普口坐仑 0.4 一板十片", "阿普口坐仑", "alprazolam"),
        ("氯胺酉同现货", "氯胺酉同", "ketamine"),
        ("$ub0xone 8mg strips", "$ub0xone", "buprenorphine"),
        ("can u get addy without a script?", "addy", "amfetamine"),
        ("need a plug for charlie in Leeds", "charlie", "cocaine"),
        ("tryna get some lean tonight hmu", "lean", "codeine"),
        ("also got tranq, DM", "tranq", "xylazine"),
        ("pt unresponsive, suspected fetty", "fetty", "fentanyl"),
        ("need clen and T3 for a cut", "clen", "clenbuterol"),
        ("反应停 现在还用来治骨髓瘤吗", "反应停", "thalidomide"),
        ("米非司酮 加 米索 药流", "米索", "misoprostol"),
        ("有冇人食過可定？", "可定", "rosuvastatin"),
        ("ＭＤＭＡ 晶體 全港送貨", "ＭＤＭＡ", "midomafetamine"),
        ("邊度有 咳水 買", "咳水", "codeine"),
        ("有冇人試過保妥適？", "保妥適", "botulinum toxin type a"),
        ("醫師說可以改成二氮平", "二氮平", "diazepam"),
        ("Jintr0pin 10iu kits", "Jintr0pin", "somatropin"),
    ],
)
def test_new_forms_in_context_are_found_redacted_and_held_back(
    drugs: DrugList, text: str, found: str, drug: str
) -> None:
    assert_found_and_redacted(drugs, text, found, drug)


@pytest.mark.parametrize(
    "text",
    [
        "His hair is thin.",  # read across words and a folded "th": not the amlodipine brand Istin
        "There is tin in the can.",  # a short name lined up by two English words
        "The lithium battery in my phone is swelling.",  # an element, no dose or verb of taking
        "Rhode Island (RI) has a new clinic.",  # RI with no dose or clinical word
        "Put crushed ice on the bruise.",  # a quoted-case form needs its quotation marks
        "Take the metro and dig in.",  # two everyday words joined by "and" say nothing about each other
        "She loves smoking salmon and cooking rice.",  # verbs of use before no form
        "I am cooking miso soup tonight.",  # cooking is no verb of drug use (a first version took miso)
        "We took the metro a day later.",  # a frequency phrase after one everyday word
        "Green bars on the chart show the growth.",  # a street word of two words with no verb of taking
        'I had "ice" in my drink.',  # quoted, but no verb of taking or medicine word
        'The "Red Devils" won again.',
        "指日可待。",  # a clipping inside an idiom
        "有人安定下来了。",  # 安定 "settled" after a person
        "这个人二甲医院看过。",  # 二甲 as a hospital grade
        "孩子们是人民的希望。",  # a phrase left out of the names
        "We met 3 times last year.",  # a dosed code with no dose with a unit right after it
        "MS patients need regular MRI.",
        "HCT 32% on the last count.",
        "Dr. Li prescribed 5 mg of it.",  # a surname after a title, before a word for a person, before a given name
        "查房：Li 医生建议 HBV 随访。",
        "Li Ming took 5 mg of it.",
        "I met Miss Emma at the street party.",  # a dosed code is no other drug beside a form
        "My new disk has 2 TB; the INH file is big.",  # TB alone is no clinical word (terabytes)
        "买了一盒二甲医院的口罩。",  # a counted clipping that is part of a longer word
        # (fourteenth session) words of drug use before an everyday word that does not end its phrase
        "He got hooked on ice hockey as a kid.",
        "She is addicted to speed dating apps.",
        "He writes 200 lines of code a day.",
        "He overdosed on ice cream last night.",
        "Recovery from addiction needs support, and lean protein helps.",
        "Knee rehab: ice, rest and elevation.",  # rehab and relapse are no words of addiction
        "GEM use in Ruby projects is common.",  # "use" after a code matched as written
        "After a relapse, ice and rest help.",
        "He took 1 metro ride.",  # a take verb and a count before a word that goes on
        "Options a b c d are all wrong.",  # letters one by one that spell no form
        "Visit www.example.com for details, sooo good, zzz.",  # held letters that make no name
        "The room was 25 + degrees.",
        "社会安定吃穿不愁。",  # 安定 "stable" before 吃 after no verb
        "苯丙氨酸是人体必需的氨基酸。",  # phenylalanine: a sound-alike of 苯丙胺 before 酸 names an acid
        "I drove the BMW M30 to work.",  # imprint codes with no pill word in their clause
        "Room A215 is on the second floor.",
        "Hitachi VGR100 specs are online.",
        "CT检查显示ma上就好了。",  # pinyin beside Chinese characters that makes no name
        "我de朋友说PD-1抑制剂很贵。",
        # (fifteenth session) a clipping that is an ordinary word after "took" and a count; a dealer's words beside
        # products, snacks, subscriptions and names
        "He took 1 metro. Then he walked home.",
        "She took 1 metro and two buses.",
        "Selling Oxy acne wash, 3 tubes, msg me.",
        "Protein bars 20s pack for sale, pm me.",
        "Selling chocolate bars, $2 each, DM me.",
        "Netflix subs are $15 each now, DM me.",
        "Tina is selling her bike, message me.",
        "Soma yoga mats 30s sale, hmu",
        # ...acronyms with dots that spell no form or stand with no drug context, 舒芬 and 安定 in other words
        "The F.B.I. took 2 days to reply.",
        "舒芬妮今天来上班了吗",
        "生活了三年安定下来。",
        "Room C6 ATM is broken.",
        "The INH file is 142 KB.",  # a 4 inside a number is no price ("10 4 100")
        "We will drip the dig into the garden.",
        # (fifteenth session, second round) a sex hormone as a lab value, names and words the new forms spell
        "雌二醇水平偏高，孕酮偏低。",
        "Estradiol levels were normal on day 3.",
        "Progesterone rises after ovulation.",
        "Tune to FM 2 for the news.",
        "Yasmin is my sister.",
        "Diane, 35, has a cough.",
        "the ecstasy of winning",
        "Email me at sam@example.com.",
        "Carbo loading before a race helps.",
        "雌二醇偏高，孕酮偏低。",  # 偏 sounds like 片: 雌二醇片 was dropped for it
        "山西多山地，冬天很冷。",  # Shanxi before 多 sounds like 山喜多
        # (sixteenth session) ordinary words the new street forms spell, a hormone as a lab value, penicillin allergy,
        # and pinyin of ordinary words
        "a molly-coddled child",
        "Molly is selling her bike, msg me.",
        "bars of soap",
        "crystal clear water",
        "coke and chips",
        "Grab a coke, $2 at the kiosk.",
        "Put ice on it.",
        "right smack in the middle",
        "I offered my 'special K' cereal to the kids",
        "The cape was windy; we walked 3 km.",
        "A deca-core phone.",
        "喵喵叫的小猫很可爱。",
        "叶子上长了白粉病。",
        "青霉素过敏的人能用头孢吗？",
        "睾酮偏低，testosterone levels were low.",
        "wo jin tian tou teng, chi le liang pian yao",
        "ni hao, wo xiang wen yi xia zen me ban",
        "I take it easy; the weather is fine and the tea is hot.",
        "la chu lai de shi gen bai you yi yang",  # 来得时 (Lantus) by sound: "when it came out"
        "他来的时候已经很晚了。",
        # (sixteenth session, drug21) erythromycin ointment is sold over the counter: bare 红霉素 stays unlisted; the
        # accent fold on ordinary sentences; LSD, shrooms, Yasmin, Yaz, bloods and Q3W outside a drug context
        "小伤口涂点红霉素软膏就行。",
        "她努力学习，成绩很好。",
        "我们努力工作，能力很强，南来北往。",
        "LSD radix sort is fast.",
        "I picked shrooms for the soup.",
        "Yaz said hi.",
        "The bloods came back normal.",
        "Q3W meetings are on Mondays.",
        "Doing bars at the gym.",
        "I dropped coke on the floor.",
        "每天1粒，一天3次。",
        "1992年3月2日出生。",
        # (seventeenth session, drug22) the street words in their ordinary sense, a price that is no drug's, a
        # code of trade, dictionary words one edit from a brand, a character without its 口 radical in ordinary words
        "Put ice on the sprain; a bag of ice is $3.",
        "He is back on the ice after his knee surgery.",
        "Grab a coke, $2 a pop at the kiosk.",
        "一包冰几钱？我们派对要用。",
        "一克冰糖加一点水煮开。",
        "水晶（crystal）饰品一克多少钱？",
        "Mandy is selling her old sofa, £40, hmu if interested.",
        "Gold is about $75 a g at the moment.",
        "Test C: measure the blood pressure twice.",
        "Test E-mail sent to all staff at 9am.",
        "DDP and DAP are Incoterms that say who pays the duty.",
        "Ship DDP 40 pallets to Hamburg by March.",
        "蓝精灵的玩具一个多少钱？",
        "我女儿很喜欢看蓝精灵动画片。",
        "今天很快乐玩得很开心。",
        "太空有多大？",
        "一匹马啡色的马。",
        "The dose went astray and the serenade played on; take your tablets.",
        "马丁临走前说了再见。",
        "他坐比赛的第一排。",
        # (seventeenth session, drug23) split components in ordinary words, dollars, a getting verb before a person,
        # a food or a thing, "got" without a dealer's words, 止咳水, VaR
        "人口密度很高，出口比例上升。",
        "丁酉年出生，口服补液盐。",
        "I paid $10 for $AAPL and $5 for lunch.",
        "can you get charlie to call me back?",
        "I need Molly to sign this form.",
        "we got some shrooms for the risotto.",
        "need to get some lean meat for dinner.",
        "I got some cookies, anyone want?",
        "Anyone got ice for the drinks tonight?",
        "我喉嚨痛，飲咗止咳水。",
        "The 95% VaR of the portfolio is 2%.",
        "化学反应停止以后用来治理污水。",
    ],
)
def test_ordinary_sentences_near_the_new_forms_are_untouched(drugs: DrugList, text: str) -> None:
    assert_untouched(drugs, text)


def test_a_dosed_form_is_read_as_written() -> None:
    from qa.drug_shorthand import parse_shorthand

    [form] = parse_shorthand("generic_en,short,case,source\nmetformin,met,dosed,clinic\n", "test.csv")
    assert (form.dosed, form.exact_case, form.word) == (True, True, False)
