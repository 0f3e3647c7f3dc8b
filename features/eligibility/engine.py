"""Evaluate every program for every household of a snapshot, vectorized.

:func:`evaluate` reads the columns the rules declare, runs each program's conditions over whole
arrays (programs that read another program's status run after it) and returns an
:class:`EligibilityResult`: int8 matrices of condition outcomes (households x conditions),
statuses, receipt and gaps (households x programs). Nothing is rendered here; a reason trace is
made later from the stored outcomes for the few households that need one (``trace.py``).

Example:
    >>> params = load_parameters(policies.PARAMS_DIR)          # doctest: +SKIP
    >>> result = evaluate(snapshot_frame, params)              # doctest: +SKIP
    >>> result.to_frame().head()                               # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

import numpy as np
import pandas as pd

from core.errors import EligibilityInputError
from features.vectors.catalogue import KEYS
from policies.conditions import Condition, Program, RuleContext
from policies.parameters import ParameterSet
from policies.rules import PROGRAMS
from policies.tristate import (
    FAIL,
    GAP_LIKELY,
    GAP_NAMES,
    GAP_NONE,
    GAP_VERIFY,
    LIKELY,
    NEEDS_VERIFICATION,
    PASS,
    STATUS_NAMES,
    UNKNOWN,
    combine_status,
    constant,
)

KEY_COLUMNS: tuple[str, ...] = ("household_id",)
"""Columns every evaluated table needs besides the rules' inputs."""

TEXT_COLUMNS: frozenset[str] = frozenset(name for name, kind, _ in KEYS if kind == "string")
"""Snapshot columns read as text (``hukou``...); every other input must be numeric or boolean."""


def default_programs() -> tuple[Program, ...]:
    """The shipped programs of ``policies/rules``."""
    return PROGRAMS


def order_programs(programs: Sequence[Program]) -> tuple[Program, ...]:
    """Programs in an order where each comes after those whose status it reads.

    Raises:
        ValueError: a duplicate code, an unknown dependency or a cycle (a bug in the rules).
    """
    by_code: dict[str, Program] = {}
    for p in programs:
        if p.code in by_code:
            raise ValueError(f"program {p.code!r} is defined twice")
        by_code[p.code] = p
    done: dict[str, Program] = {}
    visiting: set[str] = set()

    def visit(p: Program) -> None:
        if p.code in done:
            return
        if p.code in visiting:
            raise ValueError(f"programs depend on each other in a cycle through {p.code!r}")
        visiting.add(p.code)
        for dep in p.depends_on:
            if dep not in by_code:
                raise ValueError(f"program {p.code!r} reads unknown program {dep!r}")
            visit(by_code[dep])
        visiting.discard(p.code)
        done[p.code] = p

    for p in programs:
        visit(p)
    return tuple(done.values())


def input_schema(programs: Sequence[Program] | None = None) -> dict[str, tuple[str, ...]]:
    """Snapshot column -> the rules (``program.condition`` or ``program.receiving``) reading it."""
    schema: dict[str, list[str]] = {c: ["key"] for c in KEY_COLUMNS}
    for p in programs if programs is not None else default_programs():
        for c in p.conditions:
            for col in c.inputs:
                schema.setdefault(col, []).append(f"{p.code}.{c.code}")
        for col in (*p.receiving, *p.covered_by):
            schema.setdefault(col, []).append(f"{p.code}.receiving")
    return {k: tuple(dict.fromkeys(v)) for k, v in sorted(schema.items())}


def check_columns(frame: pd.DataFrame, programs: Sequence[Program]) -> None:
    """Raise one :class:`EligibilityInputError` line naming every missing column and a reader."""
    schema = input_schema(programs)
    missing = [c for c in schema if c not in frame.columns]
    if missing:
        shown = ", ".join(f"{c} (read by {schema[c][0]})" for c in missing[:8])
        more = f" and {len(missing) - 8} more" if len(missing) > 8 else ""
        raise EligibilityInputError(
            f"the household table lacks {len(missing)} column(s) the eligibility rules read: "
            f"{shown}{more}"
        )


def _as_of(frame: pd.DataFrame, on: date | None) -> date:
    if on is not None:
        return on.date() if isinstance(on, datetime) else on
    if "as_of" not in frame.columns:
        raise EligibilityInputError("no evaluation date: pass `on` or an `as_of` column")
    days = pd.to_datetime(frame["as_of"]).dropna().unique()
    if len(days) != 1:
        raise EligibilityInputError(
            f"the household table holds {len(days)} as-of dates; evaluate one snapshot at a time"
        )
    return pd.Timestamp(days[0]).date()


def _column(series: pd.Series) -> np.ndarray:
    """A column as float64 (bools 0/1, nulls NaN); the snapshot's text keys as strings."""
    if series.name in TEXT_COLUMNS:
        return series.astype(object).where(series.notna(), None).to_numpy(dtype=object)
    try:
        return series.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        raise EligibilityInputError(
            f"column {series.name!r} is not numeric or boolean and cannot feed a rule"
        ) from None


@dataclass(frozen=True)
class EligibilityResult:
    """Outcomes of every program for every household of one snapshot.

    Attributes:
        household_id: household keys, in the order of the evaluated table.
        as_of: the evaluation date (parameters were read in force on it).
        programs: the programs, in evaluation order (the columns of the program matrices).
        condition_keys: ``program.condition`` per column of :attr:`conditions`.
        conditions: int8 (households x conditions): FAIL 0, UNKNOWN 1, PASS 2.
        status: int8 (households x programs): not_eligible 0, needs_verification 1, likely 2.
        receiving: int8 (households x programs): PASS receiving, FAIL not, UNKNOWN no data.
        gap: int8 (households x programs): 2 likely and not covered, 1 needs verification and
            not covered, 0 otherwise ("covered" = receiving it or a program that replaces it).
        strict: whether routine unknowns lowered statuses.
        params_fingerprint: fingerprint of the parameter set used.
    """

    household_id: np.ndarray
    as_of: date
    programs: tuple[Program, ...]
    condition_keys: tuple[str, ...]
    conditions: np.ndarray
    status: np.ndarray
    receiving: np.ndarray
    gap: np.ndarray
    strict: bool
    params_fingerprint: str

    @property
    def program_codes(self) -> tuple[str, ...]:
        """Program codes in column order."""
        return tuple(p.code for p in self.programs)

    def program_index(self, code: str) -> int:
        """Column of a program in the program matrices."""
        try:
            return self.program_codes.index(code)
        except ValueError:
            raise KeyError(f"unknown program {code!r}") from None

    def condition_slice(self, code: str) -> slice:
        """Columns of a program's conditions in :attr:`conditions`."""
        i = self.program_index(code)
        start = sum(len(p.conditions) for p in self.programs[:i])
        return slice(start, start + len(self.programs[i].conditions))

    def rows_of(self, household_ids: Sequence[str]) -> list[int]:
        """Row positions of household keys (raises ``KeyError`` for an unknown key)."""
        out = []
        for hid in household_ids:
            hits = np.flatnonzero(self.household_id == hid)
            if len(hits) == 0:
                raise KeyError("household not in this result")
            out.append(int(hits[0]))
        return out

    def take(self, rows: np.ndarray | Sequence[int]) -> EligibilityResult:
        """The result of some households only (row positions), e.g. those on a visit list."""
        idx = np.asarray(rows, dtype=np.int64)
        return replace(
            self,
            household_id=self.household_id[idx],
            conditions=self.conditions[idx],
            status=self.status[idx],
            receiving=self.receiving[idx],
            gap=self.gap[idx],
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per household: ``<program>_status``, ``_receiving`` and ``_gap`` as names."""
        data: dict[str, object] = {"household_id": self.household_id}
        status_names = np.array([STATUS_NAMES[i] for i in range(3)], dtype=object)
        gap_names = np.array([GAP_NAMES[i] for i in range(3)], dtype=object)
        recv = np.array([False, None, True], dtype=object)
        for j, code in enumerate(self.program_codes):
            data[f"{code}_status"] = status_names[self.status[:, j]]
            data[f"{code}_receiving"] = recv[self.receiving[:, j]]
            data[f"{code}_gap"] = gap_names[self.gap[:, j]]
        return pd.DataFrame(data)

    def counts(self) -> dict[str, dict[str, int]]:
        """Per program: households by status, receiving, and gaps by kind (a report)."""
        out: dict[str, dict[str, int]] = {}
        for j, code in enumerate(self.program_codes):
            s, r, g = self.status[:, j], self.receiving[:, j], self.gap[:, j]
            out[code] = {
                "likely": int((s == LIKELY).sum()),
                "needs_verification": int((s == NEEDS_VERIFICATION).sum()),
                "not_eligible": int((s == FAIL).sum()),
                "receiving": int((r == PASS).sum()),
                "receiving_unknown": int((r == UNKNOWN).sum()),
                "gap_likely": int((g == GAP_LIKELY).sum()),
                "gap_verify": int((g == GAP_VERIFY).sum()),
            }
        return out


def _run_condition(
    cond: Condition,
    program: Program,
    columns: dict[str, np.ndarray],
    params: ParameterSet,
    on: date,
    statuses: dict[str, np.ndarray],
    n: int,
) -> np.ndarray:
    ctx = RuleContext(columns, params, on, statuses, cond)
    out = np.asarray(cond.formula(ctx))
    if out.shape == ():
        out = constant(int(out), n)
    if out.shape != (n,) or not np.isin(out, (FAIL, UNKNOWN, PASS)).all():
        raise ValueError(f"rule {program.code}.{cond.code} returned no PASS/FAIL/UNKNOWN array")
    return out.astype(np.int8)


def _flags(columns: dict[str, np.ndarray], names: Sequence[str], n: int) -> np.ndarray:
    """PASS where any flag is true, FAIL where all are false; UNKNOWN without flags."""
    if not names:
        return constant(UNKNOWN, n)
    any_true = np.zeros(n, dtype=bool)
    for name in names:
        any_true |= np.nan_to_num(columns[name], nan=0.0) > 0
    return np.where(any_true, PASS, FAIL).astype(np.int8)


def evaluate(
    frame: pd.DataFrame,
    params: ParameterSet,
    on: date | None = None,
    programs: Sequence[Program] | None = None,
    *,
    strict: bool = False,
) -> EligibilityResult:
    """Evaluate programs over a household table (a snapshot of ``features.vectors.build``).

    Args:
        frame: one row per household with ``household_id`` and every column the rules read
            (:func:`input_schema`); normally one snapshot.
        params: the dated parameters (``load_parameters(policies.PARAMS_DIR)``).
        on: evaluation date; by default the table's single ``as_of``.
        programs: the programs; by default those of ``policies/rules``.
        strict: count routine unknowns (deposits, a person's own assets) as unknown too.

    Returns:
        The compact result (int8 matrices), in the row order of ``frame``.

    Raises:
        EligibilityInputError: a column is missing or not numeric, or the date is ambiguous.
        ParameterError: a parameter has no value in force on the date.
    """
    progs = order_programs(programs if programs is not None else default_programs())
    check_columns(frame, progs)
    day = _as_of(frame, on)
    n = len(frame)
    needed = [c for c in input_schema(progs) if c not in KEY_COLUMNS]
    columns = {c: _column(frame[c]) for c in needed}
    statuses: dict[str, np.ndarray] = {}
    cond_blocks, status_cols, recv_cols, covered_cols, keys = [], [], [], [], []
    for p in progs:
        block = np.empty((n, len(p.conditions)), dtype=np.int8)
        for k, cond in enumerate(p.conditions):
            block[:, k] = _run_condition(cond, p, columns, params, day, statuses, n)
            keys.append(f"{p.code}.{cond.code}")
        routine = np.array([c.routine for c in p.conditions], dtype=bool)
        statuses[p.code] = combine_status(block, routine, strict=strict)
        cond_blocks.append(block)
        status_cols.append(statuses[p.code])
        recv = _flags(columns, p.receiving, n)
        recv_cols.append(recv)
        cover = np.maximum(recv, _flags(columns, p.covered_by, n)) if p.covered_by else recv
        covered_cols.append(cover)
    status = np.column_stack(status_cols) if status_cols else np.empty((n, 0), np.int8)
    covered = np.column_stack(covered_cols) if covered_cols else np.empty((n, 0), np.int8)
    not_covered = covered != PASS
    gap = np.where(
        (status == LIKELY) & not_covered,
        GAP_LIKELY,
        np.where((status == NEEDS_VERIFICATION) & not_covered, GAP_VERIFY, GAP_NONE),
    ).astype(np.int8)
    return EligibilityResult(
        household_id=frame["household_id"].astype(str).to_numpy(),
        as_of=day,
        programs=progs,
        condition_keys=tuple(keys),
        conditions=np.hstack(cond_blocks) if cond_blocks else np.empty((n, 0), np.int8),
        status=status.astype(np.int8),
        receiving=(np.column_stack(recv_cols) if recv_cols else np.empty((n, 0))).astype(np.int8),
        gap=gap,
        strict=strict,
        params_fingerprint=params.fingerprint(),
    )
