"""Versioned policy parameters and (later) eligibility rules, kept as data beside their tests."""

from pathlib import Path

PARAMS_DIR = Path(__file__).resolve().parent / "params"
