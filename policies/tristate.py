"""Three-valued (Kleene) logic over arrays: the outcome of every condition and program.

A condition answers ``PASS``, ``FAIL`` or ``UNKNOWN`` per household, coded as int8 so that
``FAIL < UNKNOWN < PASS``. With that order, *and* is the element-wise minimum, *or* the maximum
and *not* ``2 - x`` (Kleene's strong logic): an unknown fact can turn a pass into "unknown" but
never into a fail. Program statuses use the same codes (:data:`NOT_ELIGIBLE`,
:data:`NEEDS_VERIFICATION`, :data:`LIKELY`), so a program's status is the *and* of its conditions.

Example:
    >>> import numpy as np
    >>> all_of(np.array([PASS, PASS, FAIL], np.int8), np.array([UNKNOWN, PASS, UNKNOWN], np.int8))
    array([1, 2, 0], dtype=int8)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

FAIL: int = 0
UNKNOWN: int = 1
PASS: int = 2

NOT_ELIGIBLE: int = FAIL
NEEDS_VERIFICATION: int = UNKNOWN
LIKELY: int = PASS

OUTCOME_NAMES: dict[int, str] = {FAIL: "fail", UNKNOWN: "unknown", PASS: "pass"}
STATUS_NAMES: dict[int, str] = {
    NOT_ELIGIBLE: "not_eligible",
    NEEDS_VERIFICATION: "needs_verification",
    LIKELY: "likely",
}
STATUS_ZH: dict[int, str] = {
    NOT_ELIGIBLE: "不符合",
    NEEDS_VERIFICATION: "需核实",
    LIKELY: "可能符合",
}
OUTCOME_ZH: dict[int, str] = {FAIL: "不满足", UNKNOWN: "待核实", PASS: "满足"}

GAP_NONE: int = 0
GAP_VERIFY: int = 1
GAP_LIKELY: int = 2
GAP_NAMES: dict[int, str] = {GAP_NONE: "none", GAP_VERIFY: "verify", GAP_LIKELY: "likely"}


def from_bool(mask: np.ndarray) -> np.ndarray:
    """PASS where ``mask`` is true, FAIL elsewhere."""
    return np.where(np.asarray(mask, dtype=bool), PASS, FAIL).astype(np.int8)


def tri(passed: np.ndarray, unknown: np.ndarray | None = None) -> np.ndarray:
    """PASS where ``passed``, UNKNOWN where ``unknown`` (which wins), FAIL elsewhere."""
    out = from_bool(passed)
    if unknown is not None:
        out[np.asarray(unknown, dtype=bool)] = UNKNOWN
    return out


def constant(value: int, n: int) -> np.ndarray:
    """The same outcome for ``n`` households."""
    return np.full(n, value, dtype=np.int8)


def compare(values: np.ndarray, test: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``test`` applied to numbers; a missing number (NaN) gives UNKNOWN, never FAIL.

    Example:
        >>> compare(np.array([1.0, np.nan, 5.0]), lambda v: v < 3)
        array([2, 1, 0], dtype=int8)
    """
    v = np.asarray(values, dtype=float)
    missing = np.isnan(v)
    with np.errstate(invalid="ignore"):
        passed = test(np.where(missing, 0.0, v)) & ~missing
    return tri(passed, missing)


def all_of(*outcomes: np.ndarray) -> np.ndarray:
    """Kleene *and*: FAIL if any fails, else UNKNOWN if any is unknown, else PASS."""
    return np.minimum.reduce([np.asarray(o, dtype=np.int8) for o in outcomes]).astype(np.int8)


def any_of(*outcomes: np.ndarray) -> np.ndarray:
    """Kleene *or*: PASS if any passes, else UNKNOWN if any is unknown, else FAIL."""
    return np.maximum.reduce([np.asarray(o, dtype=np.int8) for o in outcomes]).astype(np.int8)


def negate(outcome: np.ndarray) -> np.ndarray:
    """Kleene *not*: PASS and FAIL swap; UNKNOWN stays."""
    return (PASS - np.asarray(outcome, dtype=np.int8)).astype(np.int8)


def combine_status(
    outcomes: np.ndarray, routine: np.ndarray | None = None, *, strict: bool = False
) -> np.ndarray:
    """A program's status from its conditions (households x conditions).

    ``likely`` when every condition passes, ``not_eligible`` when any fails, else
    ``needs_verification``. An UNKNOWN of a *routine* condition (one the official economic-status
    check verifies for every applicant, e.g. deposits) counts as a pass unless ``strict``.

    Args:
        outcomes: int8 array (households x conditions).
        routine: bool per condition; ``None`` means none is routine.
        strict: treat routine unknowns like any other unknown.

    Returns:
        int8 status per household.
    """
    out = np.asarray(outcomes, dtype=np.int8)
    if out.ndim != 2:
        raise ValueError("outcomes must be a 2-D array (households x conditions)")
    if out.shape[1] == 0:
        return constant(LIKELY, out.shape[0])
    if routine is not None and not strict and np.any(routine):
        lenient = (out == UNKNOWN) & np.asarray(routine, dtype=bool)[None, :]
        out = np.where(lenient, np.int8(PASS), out)
    return out.min(axis=1).astype(np.int8)
