"""Dated policy parameters (OpenFisca style): loading, validation and lookup by date.

Each YAML file under ``policies/params/`` maps parameter names to a description, a unit and
dated values::

    dibao.standard_monthly:
      description: Minimum living standard S
      description_zh: 最低生活保障标准
      unit: CNY/person/month
      values:
        2023-01-01: {value: 1200, source: "PLACEHOLDER - unverified"}

A value is in force from its date until the next one. Every malformed file is rejected with one
line naming the file, the parameter and the problem.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from features.errors import ParameterError

ALLOWED_UNITS = frozenset(
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


class DatedValue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: Any
    source: str

    @field_validator("value")
    @classmethod
    def _not_null(cls, v: Any) -> Any:
        if v is None:
            raise ValueError("value is empty")
        return v

    @field_validator("source")
    @classmethod
    def _source(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("source is empty")
        return v


class Parameter(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str
    description_zh: str | None = None
    unit: str
    values: dict[date, DatedValue]

    @field_validator("unit")
    @classmethod
    def _unit(cls, v: str) -> str:
        if v not in ALLOWED_UNITS:
            raise ValueError(f"unknown unit {v!r}")
        return v

    @field_validator("values")
    @classmethod
    def _values(cls, v: dict[date, DatedValue]) -> dict[date, DatedValue]:
        if not v:
            raise ValueError("no dated values")
        return dict(sorted(v.items()))


class ParameterSet:
    """All parameters, looked up by name and date."""

    def __init__(self, parameters: dict[str, Parameter], files: dict[str, str]):
        self._p = dict(sorted(parameters.items()))
        self._files = files

    def names(self) -> list[str]:
        return list(self._p)

    def _param(self, name: str) -> Parameter:
        try:
            return self._p[name]
        except KeyError:
            raise ParameterError(f"unknown parameter {name!r}") from None

    def get(self, name: str, on: date) -> Any:
        """The value in force on ``on``: the latest effective date on or before it."""
        found = None
        for start, dv in self._param(name).values.items():
            if start <= on:
                found = dv.value
            else:
                break
        if found is None:
            raise ParameterError(f"parameter {name!r} has no value in force on {on.isoformat()}")
        return found

    def unit(self, name: str) -> str:
        return self._param(name).unit

    def describe(self, name: str) -> Parameter:
        return self._param(name)

    def history(self, name: str) -> list[tuple[date, Any, str]]:
        return [(d, v.value, v.source) for d, v in self._param(name).values.items()]

    def snapshot(self, on: date) -> dict[str, Any]:
        """Every parameter's value on a date (those not yet in force are left out)."""
        out = {}
        for name, p in self._p.items():
            if min(p.values) <= on:
                out[name] = self.get(name, on)
        return out

    def fingerprint(self) -> str:
        canon = {n: p.model_dump(mode="json") for n, p in self._p.items()}
        return hashlib.sha256(json.dumps(canon, sort_keys=True).encode()).hexdigest()


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses duplicate keys (PyYAML keeps the last one silently)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise ParameterError(f"duplicate key {key!s} (line {key_node.start_mark.line + 1})")
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)


def load_parameters(directory: Path) -> ParameterSet:
    """Read every ``*.yaml`` file of ``directory`` into a :class:`ParameterSet`."""
    files = sorted(Path(directory).glob("*.yaml"))
    if not files:
        raise ParameterError(f"no parameter files (*.yaml) in {directory}")
    params: dict[str, Parameter] = {}
    origin: dict[str, str] = {}
    for path in files:
        try:
            doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
        except ParameterError as exc:
            raise ParameterError(f"{path.name}: {exc}") from None
        except (yaml.YAMLError, UnicodeDecodeError, OSError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ParameterError(f"{path.name}: unreadable YAML ({first})") from None
        if not isinstance(doc, dict):
            raise ParameterError(f"{path.name}: expected a mapping of parameter names")
        for name, body in doc.items():
            if name in params:
                raise ParameterError(
                    f"{path.name}: parameter {name!r} is already defined in {origin[name]}"
                )
            if not isinstance(body, dict):
                raise ParameterError(f"{path.name}: parameter {name!r} must be a mapping")
            if isinstance(body.get("values"), dict):
                bad = [k for k in body["values"] if not isinstance(k, date)]
                if bad:
                    raise ParameterError(
                        f"{path.name}: parameter {name!r}: {bad[0]!r} is not a date (YYYY-MM-DD)"
                    )
            try:
                params[name] = Parameter.model_validate(body)
            except ValidationError as exc:
                err = exc.errors()[0]
                where = ".".join(str(p) for p in err["loc"])
                msg = err["msg"].removeprefix("Value error, ")
                raise ParameterError(f"{path.name}: parameter {name!r}: {where}: {msg}") from None
            origin[name] = path.name
    return ParameterSet(params, origin)


def render_parameters_markdown(params: ParameterSet) -> str:
    """A table of every parameter and its dated values (``docs/parameters.md``)."""
    lines = [
        "# Policy parameters",
        "",
        "<!-- generated from policies/params/*.yaml; do not edit by hand -->",
        "",
        "Dated values: each is in force from its date until the next. Values marked",
        "PLACEHOLDER or unverified are not checked against a published source; replace them",
        "with the county's figures before real use (see `../shared/DOMAIN.md` in the project).",
        "",
        "| parameter | unit | from | value | source |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name in params.names():
        p = params.describe(name)
        for d, value, source in params.history(name):
            v = json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else value
            lines.append(f"| `{name}` | {p.unit} | {d.isoformat()} | {v} | {source} |")
    return "\n".join(lines) + "\n"
