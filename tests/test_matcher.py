import numpy as np

from qa_service.matcher import Matcher


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
