from __future__ import annotations

from qa_service.evaluation.calibration import calibrate
from qa_service.labelled import load_questions
from qa_service.service import QAService

from ..conftest import ROOT

DEV = ROOT / "tests" / "data" / "dev.jsonl"


def test_wrong_answer_cap_bounds_the_fitted_decision(service: QAService) -> None:
    questions = load_questions(DEV)
    free, free_report = calibrate(service, questions, 0.95)
    capped, report = calibrate(service, questions, 0.95, max_wrong_rate=0.005)
    fitted, free_fitted = report["fitted_in_sample"], free_report["fitted_in_sample"]
    assert free_fitted["wrong_answer_rate"] > 0.005  # so the cap has something to do
    assert fitted["wrong_answer_rate"] <= 0.005
    assert fitted["answered_precision"] > free_fitted["answered_precision"]
    # Answering nothing would meet the cap too; the fit still answers most questions.
    assert fitted["coverage"] > 0.4
    assert capped.answer_threshold >= free.answer_threshold
    assert capped.info["max_wrong_rate"] == 0.005 and free.info["max_wrong_rate"] is None
