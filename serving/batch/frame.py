"""Everything a scoring run computes, in memory and deterministically, before it writes a row.

:func:`compute` takes one snapshot, the champion model, the policy parameters and the list
specification, and returns a :class:`ScoredSnapshot`: per household the probability, raw score,
band, eligibility gap, priority and early-warning flags; the visit lists; and, for the
households on a list, the SHAP explanation and the eligibility trace. The same inputs always
give the same output, which is what makes a killed run resumable chunk by chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from features.eligibility.engine import EligibilityResult, evaluate
from features.eligibility.trace import household_trace, param_namespace
from policies.early_warning import RULES, rule_flags, rules_baseline
from policies.parameters import ParameterSet
from policies.population import PROGRAM_GAP_PROGRAMS, PROGRAM_GAP_SHARE, segments
from policies.tristate import STATUS_NAMES
from serving.batch.priority import ListSpec, build_lists, gap_value, new_warning, priority
from training.estimators import OutreachModel
from training.explain import explain_households

BANDS: tuple[tuple[float, str], ...] = ((0.10, "high"), (0.03, "elevated"), (0.0, "low"))
"""Score bands shown beside the probability: the lowest probability of each band."""

REASONS_K = 5
TRACE_BLOCK = 256
"""Top SHAP reasons stored per listed household and language."""


def band(p: np.ndarray) -> np.ndarray:
    """The band name of each probability (:data:`BANDS`)."""
    p = np.asarray(p, dtype=float)
    out = np.full(len(p), BANDS[-1][1], dtype=object)
    for low, name in reversed(BANDS[:-1]):
        out[p >= low] = name
    return out


def warning_bits(frame: pd.DataFrame, params: ParameterSet, as_of: date) -> np.ndarray:
    """The early-warning rules that fire on ``as_of``, as a bitmask (bit i = the i-th rule of
    :data:`policies.early_warning.RULES`)."""
    flags = rule_flags(frame, params, as_of)[list(RULES)].to_numpy(dtype=bool)
    weights = 1 << np.arange(flags.shape[1], dtype=np.int64)
    return (flags * weights).sum(axis=1).astype(np.int64)


def bits_to_flags(bits: np.ndarray) -> np.ndarray:
    """Inverse of :func:`warning_bits`: a bool matrix (households x rules)."""
    bits = np.asarray(bits, dtype=np.int64)
    return ((bits[:, None] >> np.arange(len(RULES), dtype=np.int64)) & 1).astype(bool)


@dataclass
class ScoredSnapshot:
    """The result of :func:`compute`.

    Attributes:
        households: one row per household (snapshot order): ``household_id``,
            ``township_code``, ``village_code``, ``score``, ``raw_score``, ``band``,
            ``gap_value``, ``priority``, ``warning_bits``, ``low_confidence_link``,
            ``segment`` (:data:`policies.population.SEGMENTS`), ``suppressed``, ``listable``
            (discovery population and not suppressed), ``program_gap`` (enrolled, a likely gap
            in a program of :data:`policies.population.PROGRAM_GAP_PROGRAMS`, not suppressed)
            and ``program_gap_value``.
        eligibility: the engine's result (int8 matrices, same row order).
        lists: the list entries, with their ``path`` (see
            :func:`serving.batch.priority.build_lists`).
        explanations: household id -> explanation (SHAP, top reasons) for listed households.
        traces: household id -> eligibility trace lines (dicts) for listed households.
    """

    households: pd.DataFrame
    eligibility: EligibilityResult
    lists: pd.DataFrame
    explanations: dict[str, dict]
    traces: dict[str, list[dict]]


def _suppressed(
    frame: pd.DataFrame,
    bits: np.ndarray,
    not_in_need: Mapping[str, int | None],
) -> np.ndarray:
    """Households a visit found not in need within 6 months, with no warning firing since.

    ``not_in_need`` maps household id -> the warning bits when it was listed (None when
    unknown: then any warning firing now counts as new). The snapshot's own
    ``visit_not_in_need_6m`` (visits delivered by the agency) counts too, with no known bits.
    """
    ids = frame["household_id"].astype(str)
    hit = np.zeros(len(frame), bool)
    if "visit_not_in_need_6m" in frame.columns:
        hit |= frame["visit_not_in_need_6m"].fillna(False).to_numpy(dtype=bool)
    recorded = ids.isin(set(not_in_need)).to_numpy()
    hit |= recorded
    known = {k: v for k, v in not_in_need.items() if v is not None}
    before = ids.map(known).fillna(-1).to_numpy(dtype=np.int64)  # -1: unknown
    prev = np.where(before < 0, 0, before)
    fresh = new_warning(bits_to_flags(prev), bits_to_flags(bits))
    return hit & ~fresh


def program_gap(result: EligibilityResult, segment: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Enrolled households with a likely gap in a program-gap program, and the value of those
    gaps (:func:`serving.batch.priority.gap_value` over those programs only)."""
    codes = list(result.program_codes)
    cols = [codes.index(c) for c in PROGRAM_GAP_PROGRAMS if c in codes]
    sub = np.asarray(result.gap)[:, cols]
    likely = np.where(sub == 2, 2, 0).astype(np.int8)
    value = gap_value(likely, [codes[j] for j in cols])
    return (np.asarray(segment) == "enrolled") & (value > 0), value


def compute(
    frame: pd.DataFrame,
    model: OutreachModel,
    params: ParameterSet,
    spec: ListSpec,
    as_of: date,
    not_in_need: Mapping[str, int | None] | None = None,
    progress: Callable[[str], None] | None = None,
) -> ScoredSnapshot:
    """Score, match, prioritise and list one snapshot (see the module docstring).

    Args:
        frame: the snapshot (one row per household, registry columns).
        model: the champion.
        params: policy parameters (eligibility is evaluated on ``as_of``).
        spec: how lists are cut.
        as_of: the snapshot date.
        not_in_need: recent "not in need" visit outcomes recorded in the service
            (household id -> warning bits when listed, or None).
    """
    say = progress or (lambda _msg: None)
    frame = frame.reset_index(drop=True)
    say("scoring")
    X = model.matrix(frame)
    raw = model.predict_raw(X)
    p = model.calibrator.predict(raw)  # = model.predict_proba(X), without predicting twice
    say("eligibility")
    result = evaluate(frame, params, as_of)
    gaps = gap_value(result.gap, result.program_codes)
    prio = priority(p, gaps)
    if spec.ranking == "rules":  # the early-warning rules' lists, under the same conditions
        prio = rules_baseline(frame, params, as_of)
    bits = warning_bits(frame, params, as_of)
    suppressed = _suppressed(frame, bits, not_in_need or {})
    segment = segments(frame, params, as_of).to_numpy()
    gap_path, gap_path_value = program_gap(result, segment)
    households = pd.DataFrame(
        {
            "household_id": frame["household_id"].astype(str).to_numpy(),
            "township_code": frame["township_code"].astype(str).to_numpy(),
            "village_code": frame["village_code"].astype(str).to_numpy(),
            "score": p,
            "raw_score": raw,
            "band": band(p),
            "gap_value": gaps,
            "priority": prio,
            "warning_bits": bits,
            "low_confidence_link": frame["low_confidence_link"].fillna(False).to_numpy(bool),
            "segment": segment,
            "suppressed": suppressed,
            "listable": (segment == "discovery") & ~suppressed,
            "program_gap": gap_path & ~suppressed,
            "program_gap_value": gap_path_value,
        }
    )
    say("lists")
    lists = build_lists(households, spec, float(params.get(PROGRAM_GAP_SHARE, as_of)), as_of)
    listed = np.flatnonzero(households["household_id"].isin(set(lists["household_id"])))
    say(f"explaining {len(listed):,} listed households")
    explained = explain_households(
        model.booster,
        X.iloc[listed],
        households["household_id"].iloc[listed].tolist(),
        k=REASONS_K,
        values=frame.iloc[listed],
    )
    explanations = {e["household_id"]: e for e in explained}
    traces = listed_traces(result, frame, listed, params)
    return ScoredSnapshot(households, result, lists, explanations, traces)


def listed_traces(
    result: EligibilityResult, frame: pd.DataFrame, rows: np.ndarray, params: ParameterSet
) -> dict[str, list[dict]]:
    """Eligibility traces (zh and en) of the given rows, for programs not plainly out of reach.

    A program is traced when the household likely qualifies, needs verification, or receives
    it; the rest ("not eligible, not receiving") are summarised by their status alone.
    """
    out: dict[str, list[dict]] = {}
    rows = np.asarray(rows, dtype=np.int64)
    ns = param_namespace(params, result.as_of)  # once, not once per household
    for start in range(0, len(rows), TRACE_BLOCK):  # small blocks: lookups stay cheap
        block = rows[start : start + TRACE_BLOCK]
        sub = result_rows(result, block)
        part = frame.iloc[block].reset_index(drop=True)
        records = part.to_dict("records")  # plain rows: a dict lookup per value, not pandas'
        for i, hid in enumerate(sub.household_id):
            keep = [
                code
                for j, code in enumerate(sub.program_codes)
                if sub.status[i, j] > 0 or sub.receiving[i, j] == 2
            ]
            lines = (
                household_trace(sub, part, str(hid), params, keep, row=records[i], namespace=ns)
                if keep
                else []
            )
            out[str(hid)] = [line.as_dict() for line in lines]
    return out


def result_rows(result: EligibilityResult, rows: np.ndarray) -> EligibilityResult:
    """The engine's result restricted to some rows (a cheap view for traces)."""
    return EligibilityResult(
        household_id=result.household_id[rows],
        as_of=result.as_of,
        programs=result.programs,
        condition_keys=result.condition_keys,
        conditions=result.conditions[rows],
        status=result.status[rows],
        receiving=result.receiving[rows],
        gap=result.gap[rows],
        strict=result.strict,
        params_fingerprint=result.params_fingerprint,
    )


def programs_summary(result: EligibilityResult, row: int) -> dict[str, dict]:
    """Per program of one household: status, receiving (True/False/None) and gap kind."""
    recv = {2: True, 0: False, 1: None}
    gap = {2: "likely", 1: "verify", 0: None}
    return {
        code: {
            "status": STATUS_NAMES[int(result.status[row, j])],
            "receiving": recv[int(result.receiving[row, j])],
            "gap": gap[int(result.gap[row, j])],
        }
        for j, code in enumerate(result.program_codes)
    }
