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

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from core.errors import ParameterError
from policies import PARAMS_DIR
from policies.parameter_set import (
    ALLOWED_UNITS,
    NAME_PATTERN,
    DatedValue,
    Parameter,
    ParameterSet,
)
from policies.parameters_doc import render_parameters_markdown

__all__ = [
    "ALLOWED_UNITS",
    "NAME_PATTERN",
    "DatedValue",
    "Parameter",
    "ParameterSet",
    "load_parameters",
    "render_parameters_markdown",
]

_MERGE_TAG = "tag:yaml.org,2002:merge"


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
