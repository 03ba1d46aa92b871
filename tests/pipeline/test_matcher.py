import numpy as np

from qa_service.pipeline.matcher import Matcher


def test_matcher_learns_entries_and_a_reject_class(embedder, tmp_path) -> None:
    examples = {
        0: ["忘记密码", "密码忘了怎么办", "找回密码", "forgot my password"],
        1: ["账户被冻结", "账号冻结了", "怎么解冻", "my account is frozen"],
        2: ["我要退款", "转账限额", "close my account", "汇率多少"],  # the reject class
    }
    texts = [t for ts in examples.values() for t in ts]
    labels = np.asarray([k for k, ts in examples.items() for _ in ts])
    m = Matcher.fit(embedder.encode_queries(texts), labels, n_entries=2)
    assert m.has_reject and m.coef.shape == (3, embedder.dim)
    probs = m.proba(embedder.encode_queries(["密码不记得了"])[0])
    assert abs(probs.sum() - 1) < 1e-5 and int(np.argmax(probs)) == 0
    assert int(np.argmax(m.proba(embedder.encode_queries(["怎么申请退款"])[0]))) == 2
    m.save(tmp_path / "m.npz")
    again = Matcher.load(tmp_path / "m.npz")
    v = embedder.encode_queries(["账号被冻了"])[0]
    assert np.allclose(again.proba(v), m.proba(v)) and int(np.argmax(again.proba(v))) == 1


def test_a_heavier_reject_class_claims_near_misses_sooner(embedder) -> None:
    entry = ["忘记密码", "密码忘了怎么办", "找回密码", "forgot my password"]
    near_misses = ["支付密码忘了怎么办", "重置密码的邮件收不到", "注册邮箱不用了怎么找回密码"]
    many = near_misses + ["我要退款", "转账限额", "汇率多少", "怎么注销账户", "tell me a joke"] * 3
    x = embedder.encode_queries(entry + many)
    labels = np.asarray([0] * len(entry) + [1] * len(many))
    question = embedder.encode_queries(["交易密码忘记了怎么办"])[0]
    rejects = [
        Matcher.fit(x, labels, n_entries=1, reject_weight=w).proba(question)[1] for w in (1, 4)
    ]
    assert rejects[1] > rejects[0]
