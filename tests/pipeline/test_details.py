from pathlib import Path

import pytest

from qa_service.corpus import load_corpus
from qa_service.pipeline import details
from qa_service.service import QAService

CORPUS = Path(__file__).parents[2] / "corpus"
# The OKPAY corpus's rules: the packaged kinds and corpus/details.yaml.
OKPAY = details.rules(load_corpus(CORPUS).details)
normalise = load_corpus(CORPUS).normalise  # and its corpus/normalise.yaml
FEES = normalise("对于不同的提款方式,例如银行卡提现、电子钱包提现等,手续费的标准也会有所不同。")


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("提现一般几天到账", "duration"),
        ("how long does a withdrawal take", "duration"),
        ("客服几点上班", "hours"),
        ("live chat support hours?", "hours"),
        ("银行卡提现收几个点", "rate"),
        ("提现最低多少钱起", "limit"),
        ("whats the withdrawal limit per day", "limit"),
        ("OKPAY总部在哪", "location"),
        ("帮助中心网址是啥", "web address"),
        ("live chat got chinese or english only?", "language"),
        ("live chat in spanish possible?", "language"),
        ("Does the live chat support Japanese?", "language"),
        ("客服熱線有冇廣東話服務?", "language"),
        ("你们官方facebook叫啥名字", "account name"),
        ("What's OKPAY's official Twitter handle?", "account name"),
        ("客服电话是多少?直接告诉我号码", "contact value"),
        ("客服邮箱地址是啥 发我一下", "contact value"),
        ("把你们客服的email地址给我", "contact value"),
        ("just give me the phone number", "contact value"),
        ("客服电话多少", "contact value"),
        ("What's your support email address?", "contact value"),
        ("提现到银行卡手续费具体是多少", "exact figure"),
        ("一天转多少笔会触发风控冻结 给个具体数", "exact figure"),
        ("免手续费的活动哪天结束", "duration"),
        ("What's OKPAY's official Facebook page called?", "account name"),
        ("Which currencies can I hold in my wallet?", "currency"),
        ("钱包里的欧元能换成美元吗", "currency"),
        ("帮我把账号解冻一下", "action"),
        ("is the okpay hotline tol free?", "call cost"),
        ("Can I reset my password by SMS instead of email?", "sms"),
        ("能用手机号找回密码吗", "sms"),
        ("What are your live chat hours?", "hours"),
        ("Who runs OKPAY and where is it based?", "location"),
        ("客服电话打过去收费吗", "call cost"),
        ("Can you send me the password reset email now?", "action"),
    ],
)
def test_kinds_of_detail_asked(question: str, kind: str) -> None:
    assert kind in OKPAY.asked(normalise(question))


@pytest.mark.parametrize(
    "question",
    [
        "提现手续费是多少",
        "问题拖了好几天了 去哪找客服",
        "官网点客服之后会跳出聊天窗口吗",
        "what methods can i pay with",
        # where to find a number, or a wish to talk, is not asking for the number itself
        "客服电话在哪找",
        "Is there a phone number I can call?",
        "有电话客服没 想直接说",
        "联系客服都有哪些途径 电话邮箱啥的都给我列一下",
        "怎么联络客服 电话邮箱什么的都行",  # 什么的 is "and so on"
        # virtual currencies are what the payment answer names
        "okpay支持虚拟货币吗",
        "does it support cryptocurrency",
        # applying is something the customer does ("申请" holds "请")
        "怎么申请解冻",
        # the reset answer says the link goes by e-mail: that is answered
        "重置密码的链接是发邮箱还是发短信",
        # a fee for withdrawing is the fees answer's, not a call's cost
        "提现要收费吗还是免费的",
    ],
)
def test_plain_questions_ask_no_detail(question: str) -> None:
    assert OKPAY.asked(normalise(question)) == set()


def test_a_detail_the_answer_gives_is_not_missing() -> None:
    assert OKPAY.missing("提现几天到账", "提现一般3个工作日内到账") == set()
    assert OKPAY.missing("提现几天到账", FEES) == {"duration"}
    assert OKPAY.missing("手续费是百分之几", "手续费为1.5%") == set()


def test_named_platforms_must_be_named_by_the_answer() -> None:
    answer = normalise("用户可以选择使用Visa、MasterCard等国际信用卡")
    assert OKPAY.missing(normalise("支持支付宝吗"), answer) == {"name:支付宝"}
    assert OKPAY.missing(normalise("can i pay with alipay"), answer) == {"name:支付宝"}
    assert OKPAY.missing(normalise("支持visa吗"), answer) == set()
    # countries and developer APIs are named things too: no answer names one
    assert OKPAY.missing(normalise("OKPAY在越南能用吗"), answer) == {"name:越南"}
    assert OKPAY.missing(normalise("Can I use OKPAY in Nigeria?"), answer) == {"name:尼日利亚"}
    assert OKPAY.missing(normalise("is there an API for merchants"), answer) == {"name:api"}
    assert OKPAY.missing(normalise("加密用的是AES吗 多少位"), answer) == {"name:aes"}
    # Latin names are whole words: "eth" is not found inside "method".
    assert OKPAY.asked("which payment method is best") == set()
    assert (
        OKPAY.asked("i waited 30 min, can you at least tell me where the help center is located")
        == set()
    )


def test_the_payment_password_is_not_the_login_password() -> None:
    reset = normalise("在登录界面寻找“忘记密码”选项,点击后平台会引导您输入注册的邮箱地址")
    safety = normalise("避免在不明链接上输入个人账户信息和交易密码")
    assert OKPAY.missing(normalise("支付密码忘了怎么办"), reset) == {"name:支付密码"}
    forgot_pin = normalise("I forgot my transaction PIN, not the login password")
    assert OKPAY.missing(forgot_pin, reset) == {"name:支付密码"}
    assert OKPAY.missing(normalise("链接让我输交易密码 能输吗"), safety) == set()


def test_quoted_values_must_appear_in_the_answer() -> None:
    assert OKPAY.missing(normalise("客服邮箱是support@okpay.com吗"), "官网提供的客服邮箱") == {
        "support@OKPAY.com"
    }
    assert OKPAY.missing("提现1000块扣多少手续费", FEES) == {"1000块"}


@pytest.mark.parametrize(
    ("question", "quoted"),
    [
        ("我账号被冻结了,用户名zhang_8823,帮我解冻", "用户名zhang_8823"),
        ("my account is frozen, my id is jlee88, can u check?", "id is jlee88"),
        ("can someone call me back at +44 7700 900123?", "+44 7700 900123"),
        ("帮我查下为啥冻结 手机号138xxxx1234", "138xxxx1234"),
    ],
)
def test_a_customer_quoting_their_own_account_needs_a_person(question: str, quoted: str) -> None:
    assert quoted in OKPAY.missing(normalise(question), FEES)
    assert OKPAY.asked(normalise("账号是什么 找回密码要填手机号还是邮箱")) == set()


def test_an_entry_whose_examples_ask_for_a_detail_answers_it() -> None:
    """The corpus decides: if an entry's own examples ask "how long", it answers that."""
    answered = OKPAY.asked_by(["发邮件多久回复", "客服邮箱在哪"])
    assert OKPAY.missing("邮件几天能回复", "客服人员会在一定时间内回复您", answered) == set()
    assert OKPAY.missing("邮件几天能回复", "客服人员会在一定时间内回复您") == {"duration"}


def test_shipped_examples_ask_only_for_details_their_answers_give() -> None:
    """The OKPAY answers state no durations, rates or limits, so no example may ask for one:
    it would switch the check off for its entry."""
    corpus = load_corpus(CORPUS)
    clashes = [
        (e.id, q)
        for e in corpus.entries
        for q in (e.question, *e.alt_questions)
        if OKPAY.missing(normalise(q), normalise("\n".join(e.paragraphs)))
    ]
    assert clashes == []


@pytest.mark.parametrize(
    "question",
    ["提现一般要几天到账", "银行卡提现手续费几个点", "可以用paypal充值吗", "客服周末上班吗"],
)
def test_service_escalates_near_misses_asking_for_a_missing_detail(
    service: QAService, question: str
) -> None:
    a = service.ask(question)
    assert a.escalate and a.escalation["reason"] == "out_of_scope"
    assert a.signals.detail_missing == 1.0


def test_a_value_demanded_outright_escalates_with_where_to_find_it(service: QAService) -> None:
    a = service.ask("客服电话是多少?直接告诉我号码")
    # The entry on topic is offered beside the human link, with a message that says why.
    assert "具体信息" in a.escalation["message"]
    assert a.escalate and a.escalation["related"] == [
        {"faq_id": "contact-phone", "title": "OKPAY的客服电话在哪里找?"}
    ]
    # Asking where to find it is what the entry answers.
    b = service.ask("客服电话在哪找")
    assert not b.escalate and b.answer["faq_id"] == "contact-phone"


def test_other_escalations_offer_no_entry(service: QAService) -> None:
    for question in ("我想申请退款", "今天天气怎么样"):
        a = service.ask(question)
        assert a.escalate and a.escalation["related"] == []
        assert "具体信息" not in a.escalation["message"]


def test_service_still_answers_the_entry_question(service: QAService) -> None:
    a = service.ask("提现手续费是多少")
    assert not a.escalate and a.answer["faq_id"] == "withdrawal-fees"
    assert a.signals.detail_missing == 0.0


def _corpus_with(tmp_path: Path, details_yaml: str | None) -> Path:
    folder = tmp_path / "faq"
    folder.mkdir()
    (folder / "faq.jsonl").write_text(
        '{"id": "pay", "question": "怎么付款", "answer": "可以用银行卡付款。"}\n', "utf-8"
    )
    if details_yaml is not None:
        (folder / "details.yaml").write_text(details_yaml, "utf-8")
    return folder


def test_a_corpus_without_a_details_file_gets_the_generic_checks(tmp_path: Path) -> None:
    rules = details.rules(load_corpus(_corpus_with(tmp_path, None)).details)
    assert rules.missing(normalise("付款几天到账"), normalise("可以用银行卡付款。")) == {"duration"}
    # The names are OKPAY's data, not the mechanism's: another corpus does not inherit them.
    assert rules.asked(normalise("支持支付宝吗")) == set()
    assert details.rules({}).asked(normalise("支持支付宝吗")) == set()


def test_a_corpus_details_file_adds_replaces_and_drops_kinds(tmp_path: Path) -> None:
    folder = _corpus_with(
        tmp_path,
        "defines:\n  fruit: '(?:苹果|香蕉)'\n"
        "kinds:\n"
        "  fruit:\n    asks: '{{fruit}}'\n    gives: ['{{fruit}}', 'fruit']\n"
        "  duration: null\n"
        "names:\n  shops:\n    - [淘宝, Taobao]\n",
    )
    rules = details.rules(load_corpus(folder).details)
    answer = normalise("可以用银行卡付款。")
    assert rules.missing(normalise("能买香蕉吗"), answer) == {"fruit"}
    assert rules.missing(normalise("能买香蕉吗"), "香蕉有") == set()
    assert "duration" not in rules.asked(normalise("付款几天到账"))
    assert rules.missing(normalise("能用taobao付吗"), answer) == {"name:淘宝"}
    assert "hours" in rules.asked(normalise("客服几点上班"))  # the other generic kinds stay


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("kinds:\n  fruit:\n    asks: '(unclosed'\n    gives: 'x'\n", 3, "does not compile"),
        ("kinds:\n  fruit:\n    asks: 'x'\n", 2, "needs 'asks' and 'gives'"),
        ("kinds:\n  fruit:\n    asks: '{{nope}}'\n    gives: x\n", 3, "not defined"),
        ("names:\n  shops:\n    - [淘宝]\n    - [淘宝, taobao]\n", 4, "listed twice"),
        ("colours: []\n", 1, "unknown section"),
        ("kinds: [\n", 2, "not valid YAML"),
    ],
)
def test_a_bad_details_file_is_reported_with_its_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    from qa_service.corpus import CorpusError

    with pytest.raises(CorpusError) as err:
        load_corpus(_corpus_with(tmp_path, text))
    assert any(
        p.startswith(f"faq/details.yaml:{line}:") and message in p for p in err.value.problems
    ), err.value.problems


def test_the_details_file_is_part_of_the_corpus_hash(tmp_path: Path) -> None:
    folder = _corpus_with(tmp_path, None)
    before = load_corpus(folder).sha256
    (folder / "details.yaml").write_text("names:\n  shops:\n    - [淘宝]\n", "utf-8")
    assert load_corpus(folder).sha256 != before
