"""What a rule is: a :class:`Condition` (one pure function over arrays, with labels, a policy
reference, the snapshot columns and parameters it reads and its trace phrases) and a
:class:`Program` (its conditions, where receipt is read from, and what it depends on).

Rules live in ``policies/rules/<program>.py``; this module only defines their shape and the
:class:`RuleContext` a formula receives. A formula may read only the columns, parameters and
program statuses it declares: the context refuses anything else, so the declared inputs *are*
the input schema of the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from policies.parameters import ParameterSet
from policies.tristate import FAIL, PASS, UNKNOWN

Formula = Callable[["RuleContext"], np.ndarray]


@dataclass(frozen=True)
class Condition:
    """One condition of a program, evaluated for every household at once.

    Attributes:
        code: short name, unique within its program (``income_estimate``).
        zh, en: the condition in Chinese and English (``人均收入低于低保标准``).
        reference: the policy text it encodes (title, article, source tag of DOMAIN.md).
        formula: ``RuleContext -> int8 array`` of PASS / FAIL / UNKNOWN.
        inputs: snapshot columns the formula reads.
        params: parameter names the formula reads (always via the dated files).
        programs: programs whose status the formula reads (evaluated before this one).
        routine: the data never covers this fact for anyone and the official economic-status
            check (家庭经济状况核对) verifies it for every applicant (deposits, a person's own
            assets); its UNKNOWN does not lower the status unless the engine runs ``strict``.
        text: trace phrases by outcome (``pass``, ``fail``, ``unknown``) and language
            (``zh``, ``en``): format strings over the row's columns and the parameters in force,
            e.g. ``"{income_per_capita_monthly:,.0f} < {dibao.standard_monthly:,.0f}"``.
        extra: optional ``(row, param) -> {name: value}`` of derived values for the phrases
            (row = the household's declared columns, param = name -> value on the date).
    """

    code: str
    zh: str
    en: str
    reference: str
    formula: Formula
    inputs: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    programs: tuple[str, ...] = ()
    routine: bool = False
    text: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    extra: Callable[[Mapping[str, Any], Callable[[str], Any]], dict[str, Any]] | None = None

    def phrase(self, outcome: int, lang: str) -> str:
        """The trace template for an outcome in a language (the label when none is given)."""
        key = {PASS: "pass", FAIL: "fail", UNKNOWN: "unknown"}[outcome]
        default = self.zh if lang == "zh" else self.en
        return self.text.get(key, {}).get(lang, default)


@dataclass(frozen=True)
class Program:
    """An assistance program as a list of conditions that must all hold.

    Attributes:
        code: ``dibao``, ``tekun``...; also the key of its case table.
        zh, en: the program's name.
        reference: the main policy text.
        conditions: evaluated in order; the status is their Kleene *and*.
        receiving: snapshot flags that show the household receives it (any true);
            empty when the data has no such flag (receipt is then UNKNOWN).
        covered_by: flags of programs that replace this one (tekun replaces dibao): a household
            receiving one of them has no gap for this program.
    """

    code: str
    zh: str
    en: str
    reference: str
    conditions: tuple[Condition, ...]
    receiving: tuple[str, ...] = ()
    covered_by: tuple[str, ...] = ()

    @property
    def depends_on(self) -> tuple[str, ...]:
        """Programs whose status this program's conditions read."""
        seen: dict[str, None] = {}
        for c in self.conditions:
            seen.update(dict.fromkeys(c.programs))
        return tuple(seen)

    @property
    def inputs(self) -> tuple[str, ...]:
        """Every snapshot column the program reads (conditions, receipt, cover)."""
        cols: dict[str, None] = {}
        for c in self.conditions:
            cols.update(dict.fromkeys(c.inputs))
        cols.update(dict.fromkeys(self.receiving))
        cols.update(dict.fromkeys(self.covered_by))
        return tuple(cols)

    @property
    def params(self) -> tuple[str, ...]:
        """Every parameter the program's conditions read."""
        names: dict[str, None] = {}
        for c in self.conditions:
            names.update(dict.fromkeys(c.params))
        return tuple(names)


class RuleContext:
    """What a formula sees: declared columns as arrays, declared parameters on the date, and
    the statuses of declared programs.

    Args:
        columns: column name -> array (all rows of the snapshot).
        params: the parameter set.
        on: the evaluation date (the snapshot's as-of date).
        statuses: program code -> int8 status array of programs already evaluated.
        condition: the condition being evaluated (its declarations are enforced).
    """

    def __init__(
        self,
        columns: Mapping[str, np.ndarray],
        params: ParameterSet,
        on: date,
        statuses: Mapping[str, np.ndarray],
        condition: Condition,
    ) -> None:
        self._columns = columns
        self._params = params
        self._statuses = statuses
        self._condition = condition
        self.on = on
        self.n = len(next(iter(columns.values()))) if columns else 0

    def _check(self, kind: str, name: str, declared: tuple[str, ...]) -> None:
        if name not in declared:
            raise RuntimeError(
                f"rule {self._condition.code!r} reads {kind} {name!r} without declaring it"
            )

    def num(self, name: str) -> np.ndarray:
        """A declared column as float64 (bools as 0/1; a null is NaN)."""
        self._check("column", name, self._condition.inputs)
        values = self._columns[name]
        if values.dtype == object:
            raise RuntimeError(
                f"rule {self._condition.code!r} reads text column {name!r} as a number"
            )
        return values

    def text(self, name: str) -> np.ndarray:
        """A declared text column (object array of str or None)."""
        self._check("column", name, self._condition.inputs)
        return self._columns[name]

    def flag(self, name: str) -> np.ndarray:
        """A declared column as bool (null counts as false)."""
        v = self.num(name)
        return np.nan_to_num(v, nan=0.0) > 0

    def param(self, name: str, on: date | None = None) -> Any:
        """A declared parameter's value in force on the evaluation date (or on ``on``, e.g.
        the previous year for "previous-year income" rules)."""
        self._check("parameter", name, self._condition.params)
        return self._params.get(name, self.on if on is None else on)

    def status(self, program: str) -> np.ndarray:
        """The int8 status of a declared program evaluated earlier."""
        self._check("program", program, self._condition.programs)
        return self._statuses[program]
