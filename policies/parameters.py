"""Dated policy parameters (OpenFisca style): loading, validation and lookup by date.

Each YAML file under ``policies/params/`` maps parameter names to a description, a unit and
dated values::

    dibao.standard_monthly:
      description: Minimum living standard S, Ninghai County (urban and rural unified)
      description_zh: 宁海县最低生活保障标准
      unit: CNY/person/month
      values:
        2023-01-01: {value: 1200, source: "PLACEHOLDER - unverified; DOMAIN.md §2"}

A value is in force from its effective date until the next effective date of the same parameter,
so validity periods can only overlap through a repeated date, which is rejected. Every malformed
file is rejected with one :class:`~core.errors.ParameterError` line naming the file, the
parameter and the problem. Nothing here reads a file until :func:`load_parameters` is called.

Example:
    >>> import policies
    >>> params = load_parameters(policies.PARAMS_DIR)
    >>> params.get("tekun.basic_multiplier", date(2024, 1, 1))
    1.3
"""

from __future__ import annotations

import bisect
import difflib
import hashlib
import json
import math
import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from core.errors import ParameterError
from policies import PARAMS_DIR

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

_MERGE_TAG = "tag:yaml.org,2002:merge"


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
        param = self.parameter(name)
        day = on.date() if isinstance(on, datetime) else on
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
        return {n: self.get(n, day) for n in self._params if self._dates[n][0] <= day}

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


class _KeyProblem(Exception):
    """A repeated (``duplicate``) or unreadable (``invalid``) key in the YAML node tree."""

    def __init__(self, kind: str, path: tuple[Any, ...], key: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.path = path
        self.key = key
        self.detail = detail


def _check_keys(
    loader: yaml.SafeLoader, node: yaml.Node, path: tuple[Any, ...], seen_nodes: set[int]
) -> None:
    """Reject repeated keys anywhere in the tree (PyYAML would silently keep the last one)."""
    if id(node) in seen_nodes:
        return
    seen_nodes.add(id(node))
    if isinstance(node, yaml.MappingNode):
        lines: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                _check_keys(loader, value_node, (*path, "?"), seen_nodes)
                continue
            line = key_node.start_mark.line + 1
            try:
                key = loader.construct_object(key_node)
            except ValueError as exc:
                raise _KeyProblem("invalid", path, key_node.value, f"{exc}, line {line}") from None
            if key in lines:
                raise _KeyProblem("duplicate", path, str(key), f"lines {lines[key]} and {line}")
            lines[key] = line
            _check_keys(loader, value_node, (*path, key), seen_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_keys(loader, item, (*path, i), seen_nodes)


def _parse_yaml(text: str) -> Any:
    """Safe-load one YAML document, refusing repeated keys."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_keys(loader, node, (), set())
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _parameter_at_line(text: str, line: int) -> str | None:
    """The top-level key whose block holds a 1-based line number, if any."""
    found = None
    for row in text.splitlines()[:line]:
        m = re.match(r"^([^\s#:][^:]*):", row)
        if m:
            found = m.group(1).strip().strip("'\"")
    return found


def _key_problem_message(exc: _KeyProblem) -> str:
    """One line for a repeated or unreadable key, naming the parameter when there is one."""
    if not exc.path:
        if exc.kind == "duplicate":
            return f"parameter {exc.key!r} is defined twice in the file ({exc.detail})"
        return f"{exc.key!r} is not a valid key ({exc.detail})"
    name, inner = exc.path[0], ".".join(str(p) for p in exc.path[1:])
    where = f"{inner}: " if inner else ""
    if exc.kind == "invalid":
        return f"parameter {name!r}: {where}{exc.key!r} is not a valid date ({exc.detail})"
    if exc.path[1:] == ("values",):
        return (
            f"parameter {name!r}: values: effective date {exc.key} appears twice "
            f"(overlapping validity periods; {exc.detail})"
        )
    return f"parameter {name!r}: {where}key {exc.key!r} appears twice ({exc.detail})"


def _validation_message(exc: ValidationError) -> str:
    errors = exc.errors()
    # a misspelt key explains the "missing" error it causes, so report it first
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    where = ".".join(str(p) for p in err["loc"])
    kind = err["type"]
    if kind == "missing":
        return f"missing {where!r}"
    if kind == "extra_forbidden":
        return f"unknown key {where!r}"
    if kind in {"model_type", "dict_type", "model_attributes_type"}:
        return f"{where}: expected a mapping"
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{where}: {msg}" if where else msg


def _read_file(path: Path) -> dict[str, Parameter]:
    """Read and validate one parameter file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ParameterError(f"{path.name}: cannot read file ({type(exc).__name__})") from None
    try:
        doc = _parse_yaml(text)
    except _KeyProblem as exc:
        raise ParameterError(f"{path.name}: {_key_problem_message(exc)}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        name = _parameter_at_line(text, line) if line else None
        where = f"parameter {name!r}: " if name else ""
        problem = exc.problem or exc.context or "syntax error"
        raise ParameterError(
            f"{path.name}: {where}unreadable YAML: {problem} (line {line})"
        ) from None
    except (yaml.YAMLError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ParameterError(f"{path.name}: unreadable YAML: {first}") from None
    if doc is None:
        raise ParameterError(f"{path.name}: the file is empty")
    if not isinstance(doc, dict):
        raise ParameterError(
            f"{path.name}: expected a mapping of parameter names, found a {type(doc).__name__}"
        )
    out: dict[str, Parameter] = {}
    for name, body in doc.items():
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            raise ParameterError(
                f"{path.name}: {name!r} is not a parameter name "
                "(lowercase dotted words, e.g. dibao.standard_monthly)"
            )
        prefix = f"{path.name}: parameter {name!r}"
        if not isinstance(body, dict):
            raise ParameterError(f"{prefix}: expected a mapping with description, unit and values")
        values = body.get("values")
        if isinstance(values, dict):
            for key in values:
                if isinstance(key, datetime):
                    raise ParameterError(f"{prefix}: values: {key} has a time; use YYYY-MM-DD")
                if not isinstance(key, date):
                    raise ParameterError(
                        f"{prefix}: values: {key!r} is not a date (write YYYY-MM-DD, unquoted)"
                    )
            # ISO keys keep error locations readable; pydantic parses them back into dates
            body = {**body, "values": {k.isoformat(): v for k, v in values.items()}}
        try:
            out[name] = Parameter.model_validate(body)
        except ValidationError as exc:
            raise ParameterError(f"{prefix}: {_validation_message(exc)}") from None
    return out


def load_parameters(directory: Path | None = None) -> ParameterSet:
    """Read every ``*.yaml`` file of a folder into a :class:`ParameterSet`.

    Args:
        directory: the parameter folder; ``None`` means the dated parameters shipped in
            ``policies/params`` (:data:`policies.PARAMS_DIR`).

    Returns:
        The validated parameters of all files.

    Raises:
        ParameterError: one line naming the file, the parameter and the problem.
    """
    folder = PARAMS_DIR if directory is None else Path(directory)
    if not folder.is_dir():
        raise ParameterError(f"parameter folder {folder} does not exist")
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise ParameterError(f"no parameter files (*.yaml) in {folder}")
    params: dict[str, Parameter] = {}
    origins: dict[str, str] = {}
    for path in files:
        for name, param in _read_file(path).items():
            if name in params:
                raise ParameterError(
                    f"{path.name}: parameter {name!r} is already defined in {origins[name]}"
                )
            params[name] = param
            origins[name] = path.name
    return ParameterSet(params, origins)


def _cell(value: Any) -> str:
    """One Markdown table cell."""
    if isinstance(value, dict):
        text = ", ".join(f"{k}: {_cell(v)}" for k, v in value.items())
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):
        text = f"{value:,}"
    else:
        text = str(value)
    return text.replace("|", "\\|").replace("\n", " ")


_FORMAT_SECTION = """\
## Format

Thresholds and amounts live in dated YAML files under `policies/params/`, one file per program
area, never in code. Each file maps parameter names to a definition:

```yaml
dibao.standard_monthly:
  description: Minimum living standard S, Ninghai County (urban and rural unified)
  description_zh: 宁海县最低生活保障标准
  unit: CNY/person/month
  values:
    2021-01-01: {value: 1200, source: "PLACEHOLDER - unverified; DOMAIN.md §2"}
```

- **Names** are lowercase dotted words; the first word names the program area.
- **Units** come from a closed set: {units}.
- **Values** are numbers or small mappings of category names to numbers
  (e.g. `{tekun: 0.70, dibao: 0.70}`); shares lie between 0 and 1.
- **Dates:** a value is in force from its effective date (unquoted `YYYY-MM-DD`) until the next
  one. Asking for a date before the first value is an error, and a repeated date is rejected.
- **Sources** cite a tag of the project's domain primer (`[S24]`) or say `PLACEHOLDER -
  unverified` with a reason. Placeholders must be replaced by the county's published figures
  before real use.
- Any malformed file stops every command with one line naming the file, the parameter and the
  problem. Parameters that change results also change the parameter fingerprint recorded in the
  simulator's manifest.
"""


def render_parameters_markdown(params: ParameterSet) -> str:
    """The parameter reference page (``docs/parameters.md``), generated from the files.

    Args:
        params: the loaded parameters.

    Returns:
        Markdown: the format, a table of every parameter's latest value, and earlier values.
    """
    lines = [
        "# Policy parameters",
        "",
        "<!-- Generated from policies/params/*.yaml by"
        " policies.parameters.render_parameters_markdown (make docs); do not edit by hand. -->",
        "",
        _FORMAT_SECTION.replace("{units}", ", ".join(f"`{u}`" for u in sorted(ALLOWED_UNITS))),
        "## Parameters",
        "",
        "Latest value of each parameter.",
        "",
        "| parameter | description | unit | value | in force from | source | file |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    earlier: list[str] = []
    for name in params.names():
        p = params.parameter(name)
        desc = p.description + (f" ({p.description_zh})" if p.description_zh else "")
        history = params.history(name)
        day, value, source = history[-1]
        lines.append(
            f"| `{name}` | {_cell(desc)} | {p.unit} | {_cell(value)} | {day.isoformat()} "
            f"| {_cell(source)} | {params.origin(name) or '-'} |"
        )
        for (d, v, s), (nxt, _, _) in zip(history, history[1:], strict=False):
            until = (nxt - timedelta(days=1)).isoformat()
            earlier.append(
                f"| `{name}` | {p.unit} | {_cell(v)} | {d.isoformat()} | {until} | {_cell(s)} |"
            )
    if earlier:
        lines += [
            "",
            "## Earlier values",
            "",
            "| parameter | unit | value | from | until | source |",
            "| --- | --- | --- | --- | --- | --- |",
            *earlier,
        ]
    return "\n".join(lines) + "\n"
