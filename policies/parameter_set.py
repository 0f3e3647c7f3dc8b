"""The parameter model: a dated value, a parameter, and the set of all parameters.

:class:`ParameterSet` looks values up by name and date. The YAML loader is
:func:`policies.parameters.load_parameters`; import every name from :mod:`policies.parameters`.
"""

from __future__ import annotations

import bisect
import difflib
import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from core.errors import ParameterError

ALLOWED_UNITS: frozenset[str] = frozenset(
    {
        "CNY/person/month",
        "CNY/person/year",
        "CNY/month",
        "CNY/year",
        "CNY",
        "ratio",
        "multiple",
        "share",
        "months",
        "years",
        "count",
        "flag",
    }
)
"""The closed set of units a parameter may declare."""

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
"""Parameter names: lowercase dotted words, the first word naming the program area."""


def _check_number(v: Any, where: str) -> None:
    if isinstance(v, bool):
        return
    if not isinstance(v, int | float):
        raise ValueError(f"{where} must be a number or a mapping of names to numbers, got {v!r}")
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"{where} must be a finite number >= 0, got {v!r}")


class DatedValue(BaseModel):
    """One value of a parameter, in force from its effective date.

    Attributes:
        value: a number (or a flag), or a small mapping of category names to numbers, e.g.
            ``{tekun: 0.70, dibao: 0.70}``.
        source: where the value comes from: a source tag of DOMAIN.md (``[S24]``) or
            ``PLACEHOLDER - unverified`` with a reason.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: Any
    source: str

    @field_validator("value")
    @classmethod
    def _check_value(cls, v: Any) -> Any:
        if isinstance(v, dict):
            if not v:
                raise ValueError("value is an empty mapping")
            for key, item in v.items():
                if not isinstance(key, str):
                    raise ValueError(f"value keys must be names, got {key!r}")
                _check_number(item, f"value[{key}]")
            return v
        if v is None:
            raise ValueError("value is empty")
        _check_number(v, "value")
        return v

    @field_validator("source")
    @classmethod
    def _check_source(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("source is empty")
        return v


class Parameter(BaseModel):
    """A named policy parameter with its dated values.

    Attributes:
        description: what the parameter means, in English.
        description_zh: the official Chinese term, when there is one.
        unit: one of :data:`ALLOWED_UNITS`.
        values: effective date -> value; kept sorted by date.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str
    description_zh: str | None = None
    unit: str
    values: dict[date, DatedValue]

    @field_validator("description")
    @classmethod
    def _check_description(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("description is empty")
        return v

    @field_validator("unit")
    @classmethod
    def _check_unit(cls, v: str) -> str:
        if v not in ALLOWED_UNITS:
            raise ValueError(f"unknown unit {v!r} (allowed: {', '.join(sorted(ALLOWED_UNITS))})")
        return v

    @field_validator("values")
    @classmethod
    def _check_values(cls, v: dict[date, DatedValue]) -> dict[date, DatedValue]:
        if not v:
            raise ValueError("no dated values")
        return dict(sorted(v.items()))

    @model_validator(mode="after")
    def _check_consistency(self) -> Parameter:
        kinds = {isinstance(dv.value, dict) for dv in self.values.values()}
        if len(kinds) > 1:
            raise ValueError("values mix numbers and mappings across dates")
        for day, dv in self.values.items():
            items = dv.value.values() if isinstance(dv.value, dict) else [dv.value]
            if self.unit == "share" and any(not 0 <= x <= 1 for x in items):
                raise ValueError(f"{day.isoformat()}: a share must lie between 0 and 1")
            flags = [isinstance(x, bool) for x in items]
            if self.unit == "flag" and not all(flags):
                raise ValueError(f"{day.isoformat()}: a flag must be true or false")
            if self.unit != "flag" and any(flags):
                raise ValueError(f"{day.isoformat()}: true/false values need unit 'flag'")
        return self


class ParameterSet:
    """All parameters, looked up by name and date.

    Args:
        parameters: parameter name -> :class:`Parameter`.
        origins: parameter name -> the file it was read from (for messages and docs).

    Example:
        >>> p = Parameter(description="x", unit="ratio",
        ...               values={date(2021, 1, 1): DatedValue(value=1.5, source="[S6]")})
        >>> ParameterSet({"near_dibao.multiplier": p}).get("near_dibao.multiplier",
        ...                                                 date(2022, 5, 1))
        1.5
    """

    def __init__(
        self, parameters: Mapping[str, Parameter], origins: Mapping[str, str] | None = None
    ) -> None:
        self._params: dict[str, Parameter] = dict(sorted(parameters.items()))
        self._origins: dict[str, str] = dict(origins or {})
        self._dates: dict[str, list[date]] = {n: list(p.values) for n, p in self._params.items()}

    def __contains__(self, name: object) -> bool:
        return name in self._params

    def __len__(self) -> int:
        return len(self._params)

    def names(self) -> list[str]:
        """All parameter names, sorted."""
        return list(self._params)

    def parameter(self, name: str) -> Parameter:
        """The full definition of one parameter.

        Raises:
            ParameterError: the name is unknown.
        """
        try:
            return self._params[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._params, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ParameterError(f"unknown parameter {name!r}{hint}") from None

    def origin(self, name: str) -> str | None:
        """The file a parameter was read from, if known."""
        self.parameter(name)
        return self._origins.get(name)

    def unit(self, name: str) -> str:
        """The unit of a parameter."""
        return self.parameter(name).unit

    def get(self, name: str, on: date) -> Any:
        """The value in force on a date: that of the latest effective date on or before ``on``.

        Mappings are returned as copies, so callers cannot change the set.

        Raises:
            ParameterError: the name is unknown, or no value is in force yet on ``on``.
        """
        self.parameter(name)
        return self._value(name, on.date() if isinstance(on, datetime) else on)

    def _value(self, name: str, day: date) -> Any:
        """:meth:`get` for a known name (lets :meth:`snapshot` read without calling ``get``)."""
        param = self._params[name]
        dates = self._dates[name]
        i = bisect.bisect_right(dates, day)
        if i == 0:
            raise ParameterError(
                f"parameter {name!r} has no value in force on {day.isoformat()} "
                f"(first value from {dates[0].isoformat()})"
            )
        value = param.values[dates[i - 1]].value
        return dict(value) if isinstance(value, dict) else value

    def history(self, name: str) -> list[tuple[date, Any, str]]:
        """Every ``(effective date, value, source)`` of a parameter, oldest first."""
        return [(d, dv.value, dv.source) for d, dv in self.parameter(name).values.items()]

    def snapshot(self, on: date) -> dict[str, Any]:
        """Every parameter's value on a date; parameters not yet in force are left out."""
        day = on.date() if isinstance(on, datetime) else on
        return {n: self._value(n, day) for n in self._params if self._dates[n][0] <= day}

    def select(self, names: Iterable[str]) -> ParameterSet:
        """The set of only the named parameters (with their origins).

        A stage that declares the parameters it reads selects them once: reading anything else
        then fails, and the selection's :meth:`fingerprint` ignores every other parameter.

        Raises:
            ParameterError: a name is unknown.

        Example:
            >>> p = Parameter(description="x", unit="ratio",
            ...               values={date(2021, 1, 1): DatedValue(value=1.5, source="[S6]")})
            >>> both = ParameterSet({"a.x": p, "b.y": p})
            >>> both.select(["a.x"]).names()
            ['a.x']
        """
        wanted = sorted(set(names))
        for name in wanted:
            self.parameter(name)
        return ParameterSet(
            {n: self._params[n] for n in wanted},
            {n: self._origins[n] for n in wanted if n in self._origins},
        )

    def fingerprint(self) -> str:
        """SHA-256 of a canonical JSON of every parameter's name, unit and dated values.

        Descriptions and sources are left out: editing documentation does not change results,
        so it does not change the fingerprint either.
        """
        canon = {
            n: {
                "unit": p.unit,
                "values": {d.isoformat(): dv.value for d, dv in p.values.items()},
            }
            for n, p in self._params.items()
        }
        text = json.dumps(
            canon, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
