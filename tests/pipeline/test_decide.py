import pytest

from qa_service.pipeline.decide import Calibration, Decider
from qa_service.pipeline.signals import Signals


def _cal(**kw) -> Calibration:
    return Calibration(
        answer_threshold=0.5,
        ambiguity_margin=0.05,
        min_top=0.4,
        features=["top", "margin"],
        coef=[10.0, 10.0],
        intercept=-6.0,
        **kw,
    )


def test_confidence_is_monotone_in_the_signals() -> None:
    cal = _cal()
    low, high = (
        cal.confidence(Signals(top=0.3, margin=0.0)),
        cal.confidence(Signals(top=0.9, margin=0.2)),
    )
    assert 0.0 <= low < 0.5 < high <= 1.0


@pytest.mark.parametrize(
    ("signals", "content", "escalate", "reason"),
    [
        (Signals(top=0.9, margin=0.2), True, False, None),
        (Signals(top=0.45, margin=0.1), True, True, "low_confidence"),
        (Signals(top=0.2, margin=0.1), True, True, "out_of_scope"),
        (Signals(top=0.9, margin=0.01), True, True, "ambiguous"),
        (Signals(top=0.9, margin=0.2, reject_gap=0.1), True, True, "out_of_scope"),
        (Signals(top=0.9, margin=0.2, detail_missing=1.0), True, True, "out_of_scope"),
        (Signals(top=0.9, margin=0.2), False, True, "out_of_scope"),
    ],
)
def test_decision_rules(signals, content, escalate, reason) -> None:
    d = Decider(_cal()).decide(signals, content)
    assert (d.escalate, d.reason) == (escalate, reason)


def test_reject_rule_can_be_turned_off() -> None:
    d = Decider(_cal(reject_wins=False)).decide(Signals(top=0.9, margin=0.2, reject_gap=0.1))
    assert not d.escalate


def test_detail_rule_can_be_turned_off() -> None:
    d = Decider(_cal(detail_rule=False)).decide(Signals(top=0.9, margin=0.2, detail_missing=1))
    assert not d.escalate


def test_save_and_load_round_trip(tmp_path) -> None:
    cal = _cal(info={"fitted_on": 10})
    cal.save(tmp_path / "c.json")
    assert Calibration.load(tmp_path / "c.json") == cal
    shipped = Calibration.load()
    assert 0.0 < shipped.answer_threshold < 1.0 and shipped.info.get("cross_validated")


def test_default_calibration_answers() -> None:
    # Built with its defaults, a calibration pairs every feature with a coefficient.
    cal = Calibration()
    assert len(cal.features) == len(cal.coef)
    assert 0.0 < cal.confidence(Signals(top=0.9, margin=0.2)) <= 1.0
    assert Decider(cal).decide(Signals(top=1.0, margin=0.3)).escalate is False


def test_calibration_refuses_mismatched_coefficients() -> None:
    with pytest.raises(ValueError, match="3 features with 2 coefficients"):
        Calibration(features=["top", "margin", "clf_top"], coef=[1.0, 2.0])


def test_calibration_refuses_a_signal_that_does_not_exist() -> None:
    with pytest.raises(ValueError, match="unknown signal.*topp"):
        Calibration(features=["topp", "margin"], coef=[1.0, 2.0])


def test_signals_read_as_zero_when_not_measured() -> None:
    s = Signals(top=0.8, margin=0.1)
    assert s.value("clf_top") == 0.0 and s.as_dict() == {"top": 0.8, "margin": 0.1}
    assert Signals.from_vector(s.vector()) == Signals(
        **{name: s.value(name) for name in s.__dataclass_fields__}
    )
