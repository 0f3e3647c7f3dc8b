"""Reason traces in Chinese and English, rendered on demand from the stored outcomes.

A trace is made for one or a few households (a caseworker's page, an auditor's request, the
households on a visit list), never for a whole snapshot: the engine keeps only int8 outcome
matrices, and :func:`household_trace` turns one row of them into sentences, filling each
condition's phrase with that household's values and the parameters in force on the date.

Example:
    >>> lines = household_trace(result, frame, "hh-key", params)       # doctest: +SKIP
    >>> print(render_trace(result, frame, ["hh-key"], params, "en"))    # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pandas as pd

from features.eligibility.engine import EligibilityResult
from policies.conditions import Condition
from policies.parameters import ParameterSet
from policies.tristate import (
    GAP_LIKELY,
    GAP_VERIFY,
    OUTCOME_NAMES,
    OUTCOME_ZH,
    PASS,
    STATUS_NAMES,
    STATUS_ZH,
    UNKNOWN,
)

_MARK = {PASS: "✓", UNKNOWN: "?", 0: "✗"}


@dataclass(frozen=True)
class TraceLine:
    """One sentence of a trace.

    Attributes:
        program: program code.
        condition: condition code, or ``None`` for the program's summary line.
        outcome: PASS/FAIL/UNKNOWN for a condition, the status for a summary line.
        zh, en: the sentence in each language.
        reference: the policy text behind it.
    """

    program: str
    condition: str | None
    outcome: int
    zh: str
    en: str
    reference: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (outcome as a name)."""
        names = STATUS_NAMES if self.condition is None else OUTCOME_NAMES
        return {
            "program": self.program,
            "condition": self.condition,
            "outcome": names[self.outcome],
            "zh": self.zh,
            "en": self.en,
            "reference": self.reference,
        }


def param_namespace(params: ParameterSet, on: Any) -> dict[str, Any]:
    """``{"dibao": ns(standard_monthly=1200, ...), ...}`` so phrases can say ``{dibao.x}``;
    mapping values stay mappings (``{medical_assistance.min_rate[dibao]}``)."""
    root: dict[str, Any] = {}
    for name, value in params.snapshot(on).items():
        head, *middle, last = name.split(".")
        node = root.setdefault(head, SimpleNamespace())
        for part in middle:
            if not hasattr(node, part):
                setattr(node, part, SimpleNamespace())
            node = getattr(node, part)
        setattr(node, last, value)
    return root


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def _phrase(cond: Condition, outcome: int, lang: str, values: Mapping[str, Any]) -> str:
    template = cond.phrase(outcome, lang)
    try:
        return template.format_map(values)
    except (KeyError, AttributeError, TypeError, ValueError, IndexError):
        return cond.zh if lang == "zh" else cond.en


def household_trace(
    result: EligibilityResult,
    frame: pd.DataFrame,
    household_id: str,
    params: ParameterSet,
    programs: Sequence[str] | None = None,
    row: Mapping[str, Any] | None = None,
    namespace: Mapping[str, Any] | None = None,
) -> list[TraceLine]:
    """The trace of one household: per program a summary line, then one line per condition.

    Args:
        result: the evaluation of ``frame``.
        frame: the evaluated table (same row order as ``result``).
        household_id: the household key.
        params: the parameters the result was computed with.
        programs: program codes to include; all by default.
        row: the household's row of ``frame`` as a mapping, when the caller has it (tracing
            many households: a dict lookup per value instead of pandas indexing).
        namespace: :func:`param_namespace` of ``params`` on the result's date, likewise.

    Raises:
        KeyError: the household is not in the result.
    """
    (row_pos,) = result.rows_of([household_id])
    raw = frame.iloc[row_pos] if row is None else row
    param_ns = param_namespace(params, result.as_of) if namespace is None else namespace

    def lookup(name: str) -> Any:
        return params.get(name, result.as_of)

    lines: list[TraceLine] = []
    offset = 0
    for j, prog in enumerate(result.programs):
        block = result.conditions[row_pos, offset : offset + len(prog.conditions)]
        offset += len(prog.conditions)
        if programs is not None and prog.code not in programs:
            continue
        status = int(result.status[row_pos, j])
        gap = int(result.gap[row_pos, j])
        gap_zh = {GAP_LIKELY: "，未享受", GAP_VERIFY: "，未享受（需核实）"}.get(gap, "")
        gap_en = {GAP_LIKELY: "; not receiving it", GAP_VERIFY: "; not receiving it (verify)"}
        lines.append(
            TraceLine(
                prog.code,
                None,
                status,
                f"{prog.zh}：{STATUS_ZH[status]}{gap_zh}",
                f"{prog.en}: {STATUS_NAMES[status].replace('_', ' ')}{gap_en.get(gap, '')}",
                prog.reference,
            )
        )
        for cond, outcome in zip(prog.conditions, block, strict=True):
            values = {c: _clean(raw[c]) for c in cond.inputs if c in raw}  # Series: its index
            values.update(param_ns)
            if cond.extra is not None:
                with contextlib.suppress(KeyError, TypeError, ValueError):
                    values.update(cond.extra(values, lookup))
            o = int(outcome)
            note_zh = "（申请时核对）" if cond.routine and o == UNKNOWN else ""
            note_en = " (checked at application)" if cond.routine and o == UNKNOWN else ""
            lines.append(
                TraceLine(
                    prog.code,
                    cond.code,
                    o,
                    f"{OUTCOME_ZH[o]}·{cond.zh}：{_phrase(cond, o, 'zh', values)}{note_zh}",
                    f"{OUTCOME_NAMES[o]} · {cond.en}: {_phrase(cond, o, 'en', values)}{note_en}",
                    cond.reference,
                )
            )
    return lines


def render_trace(
    result: EligibilityResult,
    frame: pd.DataFrame,
    household_ids: Sequence[str],
    params: ParameterSet,
    lang: str = "zh",
    programs: Sequence[str] | None = None,
) -> str:
    """Plain-text traces of a few households (``lang``: ``zh``, ``en`` or ``both``).

    Household keys are not printed; the caller labels each block as its page needs.
    """
    if lang not in {"zh", "en", "both"}:
        raise ValueError("lang must be 'zh', 'en' or 'both'")
    blocks = []
    for hid in household_ids:
        out = []
        for line in household_trace(result, frame, hid, params, programs):
            indent = "" if line.condition is None else f"  {_MARK[line.outcome]} "
            texts = [line.zh, line.en] if lang == "both" else [getattr(line, lang)]
            out.extend(indent + t for t in texts)
        blocks.append("\n".join(out))
    return "\n\n".join(blocks)
