"""Questions a corpus yields about itself, and the escalation fitted from them."""

from pathlib import Path

from qa_service.config import Settings
from qa_service.corpus import load_corpus
from qa_service.derived import GROUP_WEIGHTS, answer_sentences, variants
from qa_service.embedders import Embedder
from qa_service.indexing import build_index
from qa_service.service import QAService

ROOT = Path(__file__).resolve().parent.parent
SHOP = ROOT / "tests" / "data" / "shop" / "corpus"  # ten entries: titles and answers only


def test_variants_never_show_the_index_what_they_ask() -> None:
    corpus = load_corpus(ROOT / "corpus")
    groups = set()
    for variant, asked in variants(corpus):
        indexed = {q for e in variant.entries for q in (e.question, *e.alt_questions)}
        text = "\n".join(p.text for p in variant.passages)
        negs = {n.text for n in variant.negatives}
        ids = {e.id for e in variant.entries}
        for q in asked:
            groups.add(q.group)
            if q.group in ("held-out question", "title-only entry"):
                assert q.text not in indexed and q.expected in ids
            elif q.group == "answer sentence":
                assert q.text not in text
            elif q.group == "held-out not-covered":
                assert q.text not in negs and q.expected is None
            elif q.group == "held-out entry":
                assert q.entry not in ids and q.expected is None
    assert groups == set(GROUP_WEIGHTS) - {"off-topic"}


def test_an_entry_with_a_title_only_still_gives_questions() -> None:
    corpus = load_corpus(SHOP)
    assert all(not e.alt_questions for e in corpus.entries)
    assert all(len(answer_sentences(e)) >= 2 for e in corpus.entries)
    asked = [q for _, qs in variants(corpus) for q in qs]
    assert {q.group for q in asked} == {"held-out question", "answer sentence", "held-out entry"}


def test_build_fits_escalation_to_the_corpus(tmp_path: Path, embedder: Embedder) -> None:
    built = build_index(SHOP, tmp_path / "index", embedder)
    fit = built.manifest["calibration"]
    assert set(fit["sources"]) == {"derived"}
    for key in ("answered_precision", "escalation_recall", "decision_accuracy"):
        assert 0.0 <= fit["cross_validated"][key] <= 1.0
    assert fit["by_group"]["off-topic"]["answered"] <= 0.1
    svc = QAService(Settings(index_dir=tmp_path / "index"), embedder=embedder)
    svc.load()
    # The service serves the calibration fitted for this corpus, not the packaged one.
    assert svc.calibration.answer_threshold == fit["threshold"]
    assert svc.ask("今天天气怎么样,会下雨吗").escalate
    # A calibration named in the settings still wins over the one the index brings.
    fixed = tmp_path / "fixed.json"
    svc.calibration.save(fixed)
    text = fixed.read_text("utf-8").replace(
        f'"answer_threshold": {fit["threshold"]}', '"answer_threshold": 0.99'
    )
    fixed.write_text(text, "utf-8")
    other = QAService(
        Settings(index_dir=tmp_path / "index", calibration_file=fixed), embedder=embedder
    )
    other.load()
    assert other.calibration.answer_threshold == 0.99


def test_labels_to_escalate_on_an_entry_they_never_name_are_left_out() -> None:
    """An editor adds a refund entry; "退款多久能到" was labelled "escalate" before it existed
    and now matches it: the label is about another corpus, so the fit leaves it out."""
    from types import SimpleNamespace

    from qa_service.derived import observe_labelled
    from qa_service.labelled import LabelledQuestion
    from qa_service.pipeline.decide import Calibration, Decider
    from qa_service.pipeline.signals import Signals

    tops = {"退款多久能到": "refund", "余额有利息吗": "fees", "手续费多少": "fees"}

    def ask(q: str):
        top = {"id": f"{tops[q]}#1", "faq_id": tops[q]}
        return SimpleNamespace(passages=[top], signals=Signals(top=0.8, margin=0.2))

    questions = [
        LabelledQuestion("退款多久能到", (), True, "zh", (), 1),
        LabelledQuestion("余额有利息吗", (), True, "zh", (), 2),
        LabelledQuestion("手续费多少", ("fees",), False, "zh", (), 3),
    ]
    obs = observe_labelled(questions, ask, Decider(Calibration()), known={"fees"})
    assert len(obs) == 2 and obs.should_escalate.tolist() == [True, False]
    assert len(observe_labelled(questions, ask, Decider(Calibration()))) == 3
