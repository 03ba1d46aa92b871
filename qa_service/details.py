"""Details a question asks for that an answer may not give.

A near miss sits close to an FAQ entry but asks for something its answer does not state: how
long a withdrawal takes, the fee in percent, the minimum amount, support hours, where the
company is based, which language support speaks, the help centre's web address, what the
hotline's number is (the answer says where it is listed), whether Alipay works or OKPAY works
in Vietnam, whether a quoted e-mail address is the right one, or that staff unfreeze an
account. The encoder reads "提现几天到账" and
"提现手续费是多少" as neighbours, so the answer-or-escalate decision also checks, word by
word, that the matched answer holds the kind of detail asked for.

Both sides are compared in ``text.normalise`` form (simplified Chinese, lower case, half-width).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .pii import find_pii

# What a question asks for, by kind: (question pattern, pattern of an answer that gives one).
# An FAQ answer that states a duration, a rate or an address passes the check for that kind.
_NUM = r"(?:\d+|[一二两三四五六七八九十百千万半]+)"
_LANGS_ZH = (
    r"(?:中文|英文|英语|粤语|广东话|白话|普通话|国语|[西法德日韩泰俄]语|越南语|马来语|印尼语|"
    r"阿拉伯语|葡萄牙语)"
)
_LANGS_EN = (
    r"(?:chinese|english|mandarin|cantonese|spanish|french|german|japanese|korean|thai|"
    r"vietnamese|malay|indonesian|arabic|russian|portuguese|hindi)"
)
_KINDS: dict[str, tuple[str, str]] = {
    "duration": (
        r"多久|多长时间|多少天|(?<!好)几天(?!前)|多少个?小时|(?<!好)几个?小时(?!前)|几分钟|"
        r"多少分钟|几个?工作日|多少个?工作日|多快|什么时候(?:能|会|才|可以)?(?:到账|回复|回|解冻|"
        r"解开|处理好?|退回)|how long|how many (?:business |working )?(?:days|hours|minutes)|"
        r"how soon|how fast|how quickly|when will|response time|turnaround|processing time|"
        r"哪天结束|什么时候结束|截止到?哪天|when does (?:it|the \w+) end",
        _NUM + r"\s*(?:个?工作日|天|个?小时|分钟|days?|hours?|minutes?)",
    ),
    "hours": (
        r"几点|营业时间|工作时间|上班时间|服务时间|在线时间|24小时|全天|周末|节假日|"
        r"(?:business|opening|office|working|support|service) hours|hours of|24/7|24 ?hours|"
        r"weekends?|holidays?|what time|(?:chat|phone|hotline|call center|email|support) hours",
        r"\d{1,2}[:点]\d{0,2}|24小时|周[一二三四五六日]|工作日",
    ),
    "rate": (
        r"几个点|百分之|百分比|%|percent|汇率|利率|exchange rate|interest",
        r"\d+(?:\.\d+)?\s*%|百分之" + _NUM,
    ),
    "limit": (
        # not "min" or "at least": "waited 30 min", "can you at least tell me..."
        r"限额|上限|下限|最低|最高|最多|最少|起提|门槛|额度|封顶|limit|minimum|maximum",
        r"(?:最低|最高|最多|最少|上限|下限|限额)[^。]{0,8}\d",
    ),
    "location": (
        r"总部|哪个国家|哪国|哪里的公司|注册地|哪个城市|公司地址|办公地址|线下|门店|"
        r"headquarter|based in|where is (?:it|okpay|the company) based|which country|office address",
        r"总部(?:位于|在)|注册于",
    ),
    # Which language support speaks: no answer says. Asked as "中文客服", "说英语", "in
    # Spanish", "Chinese or English"; not "my English is not good".
    "language": (
        rf"{_LANGS_ZH}(?:客服|服务|版|界面|沟通|交流|回复|聊)|(?:说|讲|用|会){_LANGS_ZH}|语言|"
        rf"\b(?:in|speaks?|speaking|supports?|offers?|has|have)\s+{_LANGS_EN}\b|"
        rf"{_LANGS_EN}[- ](?:speaking|support|"
        rf"service|version|agents?|staff|only)|{_LANGS_EN} or {_LANGS_EN}|\blanguages?\b",
        r"中文|英文|英语|粤语|普通话|语言",
    ),
    "web address": (
        r"网址|域名|\burl\b|web ?address|website address",
        r"https?://|www\.|\.com\b",
    ),
    "account name": (
        r"叫啥名|叫什么名|账号名|用户名是|username|account name|"
        r"(?:twitter|instagram|tiktok|telegram|facebook|social media|official|account|okpay'?s?|your|the) "
        r"handles?\b|"
        r"(?:账号|官方号|主页|page|account)[^,。?!]{0,3}(?:叫什么|叫啥|called|named)",
        r"@[a-z0-9_]{3,}",
    ),
    # The number or address itself ("客服电话多少", "what's the support email address", "直接告诉我
    # 号码"): the contact answers say where to find it, which is what "在哪找" asks.
    "contact value": (
        r"(?:号码|电话|热线|邮箱|地址|email|e-mail)[^,。?!]{0,6}(?:直接(?:告诉|发|给)|发我|发给我|告诉我|"
        r"发一下|发过来)|(?:号码|地址|邮箱|email)给我|直接(?:告诉|发|给)我[^,。?!]{0,6}(?:号码|电话|邮箱|"
        r"地址)|(?:give|send|tell) me (?:the |your )?(?:actual |exact )?(?:phone |hotline |"
        r"support |email |e-mail )*(?:number|address|email)|"
        r"^(?!.*(?:哪|怎么找|where|find|look|locate|\bsee\b)).*(?:"
        r"(?:电话|热线|邮箱|email|e-mail|号码)(?:号码|号|地址)?\s*是?\s*(?:多少|几号|啥|什么)(?!时候|方式|办法|的)|"
        r"\bwhat(?:'s| is|s)\s+(?:the\s+|your\s+|(?i:okpay)'?s?\s+)?(?:official\s+|exact\s+|actual\s+)?"
        r"(?:(?i:okpay)\s+)?(?:customer\s+(?:service|support|care)\s+|support\s+|hotline\s+|phone\s+|"
        r"contact\s+)*(?:phone\s+number|hotline(?:\s+number)?|number|e-?mail(?:\s+address)?)\b)",
        r"\d{6,}|[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}",
    ),
    # A figure pinned down ("具体收多少", "exact percentage"), where the answer says it varies.
    "exact figure": (
        r"具体[^,。?!]{0,3}(?:多少|几个点|百分之几|数字|数额|数)|\bexact (?:fee|percentage|amount|figure|rate|cost|"
        r"charge|phone number|number)",
        r"\d",
    ),
    # What a call costs: the phone answer says where the number is, not whether it is free.
    "call cost": (
        r"toll[- ]?free|\btol free|free ?phone|免费热线|免费电话|400电话|长途|(?:电话|热线|call|"
        r"calling|phone)[^,。?!]{0,8}(?:收费|要钱|免费|cost|charge|free\b)",
        r"免费|toll[- ]?free",
    ),
    # Resetting by text message or phone number: the reset answer sends a link by e-mail.
    "sms": (
        r"(?:用|通过|靠)(?:手机)?短信|(?:用|通过)手机号码?(?:找回|重置|验证)|\b(?:by|via|using|through|"
        r"over) (?:an? )?(?:sms|text(?: message)?)\b",
        r"短信|sms",
    ),
    # A currency other than the virtual ones the payment answer names.
    "currency": (
        r"币种|美元|美金|欧元|人民币|港币|港元|日元|英镑|澳元|加元|新币|(?<![a-z])(?:usd|eur|gbp|"
        r"cny|rmb|hkd|jpy|aud|cad|sgd)(?![a-z])|(?<!crypto)(?<!virtual )(?<!digital )currenc",
        r"美元|欧元|人民币|港币|日元|英镑|\busd\b|\beur\b",
    ),
    # Something done to the customer's own account: no answer can do it, staff can.
    "action": (
        r"(?:帮我|给我|替我|麻烦你?|(?<![申邀])请你?)(?:把|直接|赶紧|马上)?[^,。?!]{0,6}(?:解冻|重置|改一?下|查一?下|"
        r"查查|注销|退回|取消|删除|恢复|解封|解锁|追回)|(?:can|could|would) you (?:please )?(?:"
        r"reset|unfreeze|unlock|unblock|check|look into|send|delete|close|cancel|refund|change|"
        r"remove|verify|restore|reactivate)\b|please (?:reset|unfreeze|unlock|unblock|delete|"
        r"close|cancel|refund|reactivate)\b",
        r"(?!)",
    ),
}
_ASKS = {kind: re.compile(q) for kind, (q, _) in _KINDS.items()}
_GIVES = {kind: re.compile(a) for kind, (_, a) in _KINDS.items()}

# Values a question quotes that an answer would have to contain to confirm them, besides the
# e-mail addresses, phone, card and ID numbers that ``pii.find_pii`` finds.
_QUOTED = (
    r"https?://[!-~]+|www\.[!-~]+",  # a web address (ASCII: it stops at Chinese text)
    # an amount of money: the customer wants a figure computed for them
    r"\d+(?:\.\d+)?\s*(?:块|元|美元|美金|刀|usd|rmb|cny|dollars?|bucks)|[$¥]\s*\d+",
    # their own account, by a long or half-masked number, user name or id: only staff can
    # look it up
    r"\d{7,}|1[3-9]\d[x*]{4}\d{4}",
    r"(?:用户名|账号|账户|uid|user ?id|用户id|\bid|account (?:id|number|no\.?))\s*"
    r"(?:是|为|:|is|=)?\s*[a-z0-9_.\-]*\d[a-z0-9_.\-]*",
)
# Normalised text is lower case but for the brand ("OKPAY"), which an address may contain.
_QUOTED_RES = tuple(re.compile(p, re.IGNORECASE) for p in _QUOTED)

# Named things: payment and social platforms, and the payment password (the reset answer is
# about the login password). Asking "does it work with X" is answered only by an answer that
# names X; "电子钱包" in the fees answer does not say whether Alipay is one of them.
_PROVIDERS: tuple[tuple[str, ...], ...] = (
    (
        "支付密码",
        "交易密码",
        "payment password",
        "payment pin",
        "transaction password",
        "transaction pin",
        "支付pin",
        "交易pin",
    ),
    ("支付宝", "alipay"),
    ("微信", "wechat", "weixin", "公众号"),
    ("paypal",),
    ("skrill",),
    ("neteller",),
    ("payoneer",),
    ("transferwise",),
    ("revolut",),
    ("venmo",),
    ("zelle",),
    ("cash app", "cashapp"),
    ("apple pay", "applepay"),
    ("google pay", "gpay"),
    ("samsung pay",),
    ("银联", "unionpay", "云闪付"),
    ("usdt", "泰达币"),
    ("以太坊", "ethereum", "eth"),
    ("莱特币", "litecoin"),
    ("狗狗币", "dogecoin"),
    ("amex", "american express", "美国运通"),
    ("jcb",),
    ("西联", "western union"),
    ("moneygram",),
    ("google authenticator", "谷歌验证器", "谷歌身份验证器", "谷歌验证"),
    ("authy",),
    ("微博", "weibo"),
    ("telegram", "电报"),
    ("whatsapp",),
    ("instagram",),
    ("tiktok", "抖音"),
    ("小红书",),
    ("youtube", "油管"),
    ("linkedin", "领英"),
    ("discord",),
    ("reddit",),
    ("快手",),
    ("bilibili", "b站"),
    ("知乎",),
    # How the encryption is built: the safety answer says only "advanced encryption".
    ("aes", "rsa", "256位", "256-bit", "多少位"),
    ("api", "sdk", "webhook", "开发者", "developer", "developers", "回调", "sandbox", "沙盒"),
    # Countries and regions: no answer names one, so whether OKPAY works there, or what it
    # costs from there, is for a person.
    ("美国", "usa", "united states", "america"),
    ("英国", "uk", "united kingdom", "britain"),
    ("加拿大", "canada"),
    ("澳大利亚", "澳洲", "australia"),
    ("新西兰", "new zealand"),
    ("日本", "japan"),
    ("韩国", "korea"),
    ("新加坡", "singapore"),
    ("马来西亚", "malaysia"),
    ("泰国", "thailand"),
    ("越南", "vietnam"),
    ("菲律宾", "philippines"),
    ("印尼", "印度尼西亚", "indonesia"),
    ("印度", "india"),
    ("香港", "hong kong"),
    ("澳门", "macau", "macao"),
    ("台湾", "taiwan"),
    ("德国", "germany"),
    ("法国", "france"),
    ("意大利", "italy"),
    ("西班牙", "spain"),
    ("荷兰", "netherlands"),
    ("俄罗斯", "russia"),
    ("土耳其",),
    ("尼日利亚", "nigeria"),
    ("肯尼亚", "kenya"),
    ("南非", "south africa"),
    ("巴西", "brazil"),
    ("墨西哥", "mexico"),
    ("阿联酋", "迪拜", "uae", "dubai"),
    ("柬埔寨", "cambodia"),
    ("缅甸", "myanmar"),
    ("巴基斯坦", "pakistan"),
    ("欧洲", "europe"),
)


def _name_pattern(name: str) -> str:
    # Latin names as whole words ("eth" is not in "method"); Chinese ones as substrings.
    return rf"(?<![a-z]){re.escape(name)}(?![a-z])" if name.isascii() else re.escape(name)


# A named platform is reported as "name:" and its first name ("name:支付宝").
_PROVIDER_RES = {
    f"name:{names[0]}": re.compile("|".join(_name_pattern(n) for n in names))
    for names in _PROVIDERS
}


def asked(question: str) -> set[str]:
    """Every detail ``question`` asks for: kinds ("duration"), quoted values and names."""
    out = {kind for kind, pat in _ASKS.items() if pat.search(question)}
    for pat in _QUOTED_RES:
        out.update(m.group(0) for m in pat.finditer(question))
    out.update(question[start:end] for start, end, _ in find_pii(question))
    out.update(name for name, pat in _PROVIDER_RES.items() if pat.search(question))
    return out


def given(answer: str, details: Iterable[str]) -> set[str]:
    """Those of ``details`` that ``answer`` gives."""
    out = set()
    for d in details:
        if d in _GIVES:
            ok = bool(_GIVES[d].search(answer))
        elif d in _PROVIDER_RES:
            ok = bool(_PROVIDER_RES[d].search(answer))
        else:
            ok = d in answer
        if ok:
            out.add(d)
    return out


def asked_by(examples: Iterable[str]) -> frozenset[str]:
    """Every detail some of ``examples`` (an entry's example questions) asks for."""
    return frozenset().union(*(asked(e) for e in examples))


def missing(question: str, answer: str, answered: frozenset[str] = frozenset()) -> set[str]:
    """Details ``question`` asks for that ``answer`` does not give.

    ``answered`` (``asked_by`` the entry's example questions) is the corpus saying what the
    entry answers: a corpus whose examples ask "how long" of an answer without a figure has
    chosen that answer for them, so such a detail is not missing."""
    wanted = asked(question) - answered
    return wanted - given(answer, wanted) if wanted else set()
