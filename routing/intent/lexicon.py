"""A small bilingual glossary of the operator's domain: the words customers use in Arabic,
Arabizi and English for the same thing, mapped to one concept ("فاتوره", "fatora", "bill" →
``bill``). With a few thousand training messages, most words of a language are seen a handful of
times; the concepts let what the model learns in one language count in the others.

Entries are written as ``normalize_for_model`` produces text (ة→ه, ى→ي, أ/إ/آ→ا, lower-case).
A single word matches a token that starts with it (after Arabic clitics و ف ب ل ك ع ال are taken
off) when it has at least 4 Latin or 3 Arabic letters, or exactly when shorter or written
``=word``; words joined by ``_`` match that exact sequence of tokens. The longest match wins.
In an Arabizi message, a word the glossary lacks is looked up by its consonant skeleton among the
Arabic entries ("sor3et" → "sr3t" ← "سرعه" → "sr3"), unless two concepts share that skeleton.
"""
from __future__ import annotations

import re
from functools import lru_cache

from routing.intent.skeleton import skeleton_word
from routing.language import is_arabizi

_GLOSSARY: dict[str, str] = {
    # billing
    "bill": (
        "كشف تفصيلي =itemized statement breakdown فاتور فواتير fatora fatoora fatort fatoort fwateer "
        "fawateer bill =bills billing billed invoice"
    ),
    "charge": (
        "=tax =vat ضريبه غرامه penalty خصم خصوم مخصوم انخصم بيخصم بتخصم يخصم تخصم خصمت خصمتوا 5asm "
        "5asam in5asam bi5som charge deduct debit overcharg رسوم rsoom fees =fee"
    ),
    "refund": "استرجاع استرداد مسترد ترجيع رجعولي ترجعولي ترجعوا رجعوا refund reimburs rja3tuli trja3o",
    "money": "مصاري فلوس مبلغ مبالغ دينار دنانير قرش قروش =jd masari mosari flos mablagh money amount =2roosh",
    "pay": "دفع دفعت ادفع بدفع الدفع سداد تسديد dafa3 =dfa3t bdfa3 =pay =paid paying payment",
    "postpaid": "فاتوره_شهريه postpaid =اشتراك_شهري",
    # prepaid balance
    "balance": "رصيد رصيدي raseed rased rasid balance =credit",
    "recharge": (
        "تعبئه =ussd =scratch شحنت اشحن بشحن الشحن كرت كروت =شحن voucher sha7ant sha7an =kart =kroot "
        "recharg topup =top_up"
    ),
    "emergency_credit": "سلفه solfa solfet",
    "transfer": "تحويل حولت احول transfer 7awalt a7awel",
    # network and calls
    "signal": (
        "شبكه تغطيه ارسال اشاره ابراج =برج signal coverage network reception shabakeh shabakah irsal "
        "=tower =bars =shar6a"
    ),
    "call": "مكالم اتصال اتصل بتصل بيتصل =call calls calling mokalam attasel",
    "sms": "رسائل رساله =مسج =sms =msg messages =message rasa2el resaleh",
    "no_service": "=no_service =no_network =emergency_calls_only",
    # internet
    "voice_quality": "=صوت =الصوت صدي =مش_واضح =voice echo =audio =hear =بنسمع =بسمع",
    "internet": (
        "=الضوء_الاحمر =red_light =pon =los broadband =adsl =vdsl download upload =speedtest =نت "
        "انترنت داتا فايبر راوتر مودم =واي_فاي =net internet =data fiber fibre router =wifi =wi_fi "
        "modem"
    ),
    "slow": (
        "freez =crawl يعلق بعلق بيعلق تعليق بطيء بطء بطيي بطي ba6ee2 ba6i2 slow =lag lagging buffering "
        "=ping"
    ),
    "down": (
        "فاصل مقطوع قاطع بيقطع بتقطع انقطاع انقطع واقف fasel ma2too3 bi2ta3 bt2ta3 =down disconnect "
        "outage =dead =drops dropping"
    ),
    "speed": "سرعه ميجا ميغا speed =mbps =mb =mega",
    # plans and offers
    "online_app": (
        "تيك_توك =tiktok انستغرام انستا =instagram =insta فيسبوك =facebook سناب snapchat يوتيوب "
        "youtube نتفلكس netflix واتساب واتس =whatsapp =zoom =teams =pubg ببجي gaming العاب"
    ),
    "plan": (
        "جيجا =giga =gb unlimited =غير_محدود مفتوح مجاني =free =minutes دقائق دقايق =points نقاط loyalty "
        "discount =student طلاب عائلي family availab متوفر حزمه حزم باقه باقات عرض عروض اشتراك 7azmeh "
        "7azmet 7azam =3ard 3orood bundle =plan =plans package offer promo subscription"
    ),
    "price": "سعر اسعار =بكم تكلفه =كم se3r as3ar =bkam =price prices cost cheap expensive",
    "upgrade": "ترقيه upgrade tar2iyeh",
    "line": "=خط =الخط =خطي =خطوط =line =lines =5a6 =5u6oo6",
    "new_line": "=خط_جديد =new_line =new_number =extra_line",
    # SIM and number
    "sim": "شريحه شرائح =سيم =sim =esim shari7a =e_sim",
    "number": "=رقم =رقمي ارقام ra2am ra2mi =number",
    "port": "=porting =port =نقل_الرقم =ported =mnp",
    "lost": "ضاع ضايع فقدت =بدل_فاقد فاقد انسرق مسروق سرق =lost stolen replacement =badal insara2",
    "ownership": "ملكيه =باسمي =تنازل ownership =my_name =transfer_ownership",
    # roaming
    "identity": "هويه =جواز =جواز_السفر =الرقم_الوطني =national_id =id =passport hawiyyeh",
    "activation": "تفعيل فعلت فعلوا activat =puk =pin",
    "roaming": "تجوال tajwal roaming =roam",
    "abroad": (
        "egypt cairo turkey istanbul dubai =uae saudi kuwait cyprus europe london germany =usa مصر "
        "القاهره تركيا اسطنبول دبي الامارات السعوديه الكويت قبرص اوروبا لندن المانيا اميركا امريكا "
        "=masr torkya orobba سفر مسافر سافر مطار الخارج =برا_البلد travel abroad =trip airport ma6ar "
        "msafer safar"
    ),
    # devices and delivery
    "international": "دولي دوليه international =dawli dawliyyeh",
    "device": (
        "صيانه repair مكسور خربان =broken damaged defective =faulty charger warranty كفاله شاحن =screen "
        "شاشه battery بطاريه tablet تابلت =ipad ايباد laptop لابتوب موبايل جهاز اجهزه تلفون ايفون "
        "سامسونج شاومي هواوي =جوال mobail jehaz talafon mobile =phone device handset iphone samsung "
        "galaxy xiaomi huawei pixel"
    ),
    "order": "طلبيه =طلبي =الطلب =order orders ordered =6alab 6alabeyyeh",
    "delivery": (
        "parcel warehouse =عنوان =address توصيل مندوب =شحنه delivery deliver courier shipping shipped "
        "=track tracking twseel mandoob"
    ),
    "installment": "قسط اقساط تقسيط installment instalment a2sa6 ta2see6",
    # app and account
    "app": (
        "ايميل =email تحديث =update crash اشعار notification =register =signup =sign_up تطبيق ابلكيشن "
        "=الموقع =موقع =app =application website =site portal ta6bee2"
    ),
    "login": (
        "=locked_out =log_out =2fa تسجيل_دخول =دخول login =log_in =sign_in password =باسورد =كلمه_السر "
        "=كلمه_المرور =otp =رمز =كود =code verification التحقق"
    ),
    "account": "حساب حسابي account profile 7sab 7esab",
    # cancellation and churn
    "cancel": (
        "انهاء انهي =terminate unsubscribe =سكر_الخط اسكر بسكر تسكير sakker الغاء الغي الغيت الغوا بلغي "
        "الغيه =لغي cancel terminat la3' el3'a2 =disconnect_my"
    ),
    "churn": (
        "=زين اورنج امنيه =zain =orange =umniah =move_to =moving =رح_انقل =شركه_ثانيه =شركه_تانيه "
        "=sharikeh_tanyeh =sharikeh_thanyeh =another_company =other_company =another_operator competitor "
        "switching =leave =leaving اترككم =انقل =ترك"
    ),
    # service
    "contract": "عقد =العقد contract =3a2d التزام commitment",
    "staff": (
        "cashier =sales =ivr =hotline =الكاشير موظف موظفه موظفين =كول_سنتر خدمه_العملاء =فرع =الفرع "
        "staff employee =agent =agents representative =call_center =call_centre =customer_service "
        "=branch mowazzaf =far3"
    ),
    "handling": (
        "=ما_حدا_رد =ما_حدا_بيرد ignor تجاهل وعود وعدوني promis كذب =lied =lying مماطله =manager مدير "
        "المسؤول supervisor =تعامل =التعامل اسلوب =treat =treatment =response =reply =replied "
        "=respond"
    ),
    "rude": "وقح قله_احترام صرخ =rude disrespect shouted yelled",
    "wait": "waited =طابور =الدور انتظار استنيت بستني ساعه_انتظار waiting =wait =hold =queue stanna",
    "ticket": "=follow_up =chasing متابعه شكوي شكاوي تذكره =ticket tickets complaint escalat =case",
    # praise
    "thanks": (
        "يسلم تسلم تسلموا =الله_يعطيكم =كل_الشكر =alf_shokr شكرا مشكور يعطيكم يسلمو =الله_يجزيكم =thank "
        "=thanks =thx appreciat shokran shukran mashkoor ya3tikom grateful mashkor =merci"
    ),
    "good": (
        "helpful professional محترم خلوق =helped ساعدني ساعدتوني ساعدوني =sorted =quick =quickly بسرعه "
        "happy =nice =well_done respect shoutout =easy smooth =solid =love kudos رهيب بجنن فخم =مرتب "
        "ممتاز رائع روعه =حلو =حلوه بتستاهلوا =احسن great excellent amazing awesome perfect impressive "
        "=best =good_job =keep_it_up fantastic mumtaz ra2ee3 ra2e3 =7elo =7elwe =bravo e7teraf احتراف"
    ),
    # other
    "giveaway": "اربح مسابقه =سحب_على giveaway =win contest =winner",
    "job": "وظيفه وظائف توظيف =cv =job =jobs hiring vacanc",
    "spam": (
        "للايجار =for_rent trading تداول forex فوركس استثمار متابعين للبيع قرض قروض بيتكوين =crypto "
        "bitcoin followers =for_sale =loan loans =invest"
    ),
    "greeting": (
        "=مرحبا =صباح_الخير =مساء_الخير =السلام_عليكم =رمضان_كريم =عيد =كل_عام =hello =hi "
        "=good_morning =eid =ramadan =marhaba =ahlan"
    ),
    # tone
    "emoji_negative": "=😡 =😠 =🤬 =🙄 =😤 =😒 =🤦 =💔 =👎 =😞 =😢 =😭 =😑 =🙃",
    "emoji_positive": "=😍 =❤ =💙 =💚 =💜 =👏 =🌹 =👍 =🔥 =😊 =☺ =🥰 =🤩 =💯 =👌 =🎉",
    # urgency cues (urgency.py)
    "legal": (
        "قضيه محكمه محامي القضاء دعوي =هيئه_تنظيم =حمايه_المستهلك =البنك_المركزي court lawyer lawsuit "
        "=sue regulator =trc =consumer_protection =central_bank 2adiyy ma7kame mo7ami m7ami"
    ),
    "publicity": (
        "الاعلام الصحافه صحفي جريده انشر بنشر ينتشر فضيحه =بوست =فيديو =press =media newspaper "
        "journalist publish =publicly =viral screenshots anshor =go_public"
    ),
    "emergency": (
        "اسعاف طوارئ طارئه مريض تعبان مستشفي =حاله_طبيه عالق عالقه ضايعه تايه خطر احتيال مخترق اخترق "
        "ambulance emergency hospital stranded =stuck fraud hacked =sim_swap danger safety =911 =112 "
        "es3af mareed ta3ban 3al2an e7tiyal"
    ),
    "business": (
        "شركتنا =محل =المحل محلي مكتب عياده صيدليه مطعم فندق مصنع زباين زبائن عملاء المرضي رزق "
        "business clinic pharmacy office =shop store restaurant hotel employees customers patients "
        "=fleet ma7al ma63am zabayen"
    ),
    "cannot_call": (
        "=ما_بقدر_اتصل =مش_قادر_اتصل =ولا_استقبل =ولا_بيستقبل =ما_بيستقبل =ولا_مكالمه =بلا_شبكه "
        "=ما_في_شبكه =can't_call =cannot_call =can't_make =cannot_make =no_calls =wala_shar6a "
        "=ma_ba2dar_attasel =line_dead =completely_dead =mayyet =ميت"
    ),
}


def _index() -> tuple[dict[str, str], dict[str, str], dict[tuple[str, ...], str], dict[str, str | None]]:
    exact: dict[str, str] = {}
    stems: dict[str, str] = {}
    phrases: dict[tuple[str, ...], str] = {}
    skeletons: dict[str, str | None] = {}
    for concept, entries in _GLOSSARY.items():
        for entry in entries.split():
            words = tuple(entry.lstrip("=").split("_"))
            if len(words) > 1:
                phrases[words] = concept
                continue
            word = words[0]
            if entry.startswith("=") or len(word) < (4 if word.isascii() else 3):
                exact[word] = concept
            else:
                stems[word] = concept
            if not word.isascii():
                key = skeleton_word(word)
                if len(key) >= 2:
                    # a skeleton two concepts share tells nothing
                    skeletons[key] = concept if skeletons.get(key, concept) == concept else None
    return exact, stems, phrases, skeletons


_EXACT, _STEMS, _PHRASES, _SKELETONS = _index()
_LONGEST_PHRASE = max(len(phrase) for phrase in _PHRASES)
_CLITICS = ("وبال", "وال", "بال", "فال", "كال", "عال", "لل", "ال", "و", "ف", "ب", "ل", "ك", "ع")
_ARABIC = re.compile("[\u0621-\u064a]")
_PHRASE_STARTS = frozenset(phrase[0] for phrase in _PHRASES)


@lru_cache(maxsize=65536)
def _without_clitics(token: str) -> tuple[str, ...]:
    if token.isascii():
        return (token,)
    return (token, *(token[len(c):] for c in _CLITICS if token.startswith(c) and len(token) - len(c) >= 2))


@lru_cache(maxsize=65536)
def _phrase_starts(token: str) -> tuple[str, ...]:
    return tuple(form for form in _without_clitics(token) if form in _PHRASE_STARTS)


@lru_cache(maxsize=65536)
def concept_of(token: str) -> str | None:
    """The concept of one normalised token, or None."""
    candidates = _without_clitics(token)
    for word in candidates:
        if word in _EXACT:
            return _EXACT[word]
    for word in candidates:
        for end in range(len(word), 2, -1):
            concept = _STEMS.get(word[:end])
            if concept is not None:
                return concept
    return None


@lru_cache(maxsize=65536)
def concept_by_skeleton(token: str) -> str | None:
    """The concept of an Arabizi token through the Arabic entries with its skeleton."""
    key = skeleton_word(token)
    if len(key) < 2 or not any(c.isalpha() for c in token):
        return None
    if key in _SKELETONS:
        return _SKELETONS[key]
    for end in range(len(key) - 1, 2, -1):  # "sor3et" → sr3t → sr3 ← "سرعه"
        if key[:end] in _SKELETONS:
            return _SKELETONS[key[:end]]
    return None


def concepts(normalized: str) -> list[str]:
    """The concepts of a normalised message, in order (phrases as well as words)."""
    tokens = normalized.split()
    arabizi = not _ARABIC.search(normalized) and is_arabizi([t for t in tokens if t.islower()])
    found = []
    for i, token in enumerate(tokens):
        concept = concept_of(token) or (concept_by_skeleton(token) if arabizi else None)
        if concept is not None:
            found.append(concept)
        starts = _phrase_starts(token)
        if not starts:
            continue
        rest = tuple(tokens[i + 1 : i + _LONGEST_PHRASE])
        for first in starts:
            for n in range(1, len(rest) + 1):
                phrase = _PHRASES.get((first, *rest[:n]))
                if phrase is not None:
                    found.append(phrase)
    return found
