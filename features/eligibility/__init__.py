"""Rules-as-code eligibility engine; the rules and their case tables live in ``policies/rules``.

Public surface::

    evaluate(frame, params, on=None, programs=None, *, strict=False) -> EligibilityResult
    household_trace(result, frame, household_id, params, programs=None) -> list[TraceLine]
    render_trace(result, frame, household_ids, params, lang="zh", programs=None) -> str
    input_schema(programs=None) -> dict[column, readers]

Nothing is imported from ``policies`` until the rules are first needed.
"""

from features.eligibility.engine import EligibilityResult, evaluate, input_schema
from features.eligibility.trace import TraceLine, household_trace, render_trace
from policies.conditions import Condition, Program, RuleContext

__all__ = [
    "Condition",
    "EligibilityResult",
    "Program",
    "RuleContext",
    "TraceLine",
    "evaluate",
    "household_trace",
    "input_schema",
    "render_trace",
]
