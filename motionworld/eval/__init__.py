"""Evaluation: benchmarks, metrics and reports."""
