"""Evaluation: labelled questions, metrics, reports and calibration."""
