"""Eligibility rules as code: one module per program, its test-case table beside it
(``<program>.cases.yaml``). Thresholds come only from ``policies/params``.

:data:`PROGRAMS` lists them in a valid evaluation order (a program after those whose status it
reads); the engine (``features.eligibility``) checks the order again.
"""

from __future__ import annotations

from pathlib import Path

from policies.conditions import Program
from policies.rules import (
    dibao,
    disability_care,
    disability_living,
    education,
    medical_assistance,
    near_dibao,
    orphan_fuc,
    single_person,
    tekun,
    temporary,
)

RULES_DIR = Path(__file__).resolve().parent

PROGRAMS: tuple[Program, ...] = (
    tekun.PROGRAM,
    dibao.PROGRAM,
    single_person.PROGRAM,
    near_dibao.PROGRAM,
    orphan_fuc.PROGRAM,
    temporary.PROGRAM,
    medical_assistance.PROGRAM,
    education.PROGRAM,
    disability_living.PROGRAM,
    disability_care.PROGRAM,
)
"""Every shipped program, in evaluation order."""
