"""The parameter reference page (``docs/parameters.md``), rendered from the loaded parameters.

Import :func:`render_parameters_markdown` from :mod:`policies.parameters`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from policies.parameter_set import ALLOWED_UNITS, ParameterSet


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
