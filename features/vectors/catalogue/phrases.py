"""Value-aware reason phrases: the small formatting language of the declarations' phrases.

A phrase is a :meth:`str.format` template over ``{value}`` with Python's format specs, plus a
few specs that read the value the way a caseworker would say it:

- ``{value:ago}``: months ago; zh 本月 / 上个月 / N 个月前, en this month / last month /
  N months ago.
- ``{value:yuan}``: an amount with the yuan sign, ``¥1,234``.
- ``{value:plural/member/members}``: an English count with its noun, ``1 member``, ``2 members``.
- ``{value:times}``: an English count of times, ``once``, ``twice``, ``3 times``.
- ``{value:delta}``: a signed change; zh 多 N / 少 N, en ``N more`` / ``N fewer``
  (``{value:delta/member/members}`` adds the English noun).
- ``{value:change}``: a signed share; zh 上升 30% / 下降 30%, en rose by 30% / fell by 30%.

Example:
    >>> render("{value:ago}有水电燃气欠费", 0, "zh")
    '本月有水电燃气欠费'
    >>> render("{value:plural/member/members} aged 60 or over", 1, "en")
    '1 member aged 60 or over'
    >>> render("CNY due: {value:yuan}", 1234.4, "en")
    'CNY due: ¥1,234'
"""

from __future__ import annotations

import string
from typing import Any


def _count(value: Any) -> int:
    return int(round(float(value)))


def months_ago(value: Any, lang: str) -> str:
    """``本月`` / ``上个月`` / ``N 个月前`` (``this month`` / ``last month`` / ``N months ago``)."""
    n = max(_count(value), 0)
    if lang == "zh":
        return "本月" if n == 0 else "上个月" if n == 1 else f"{n} 个月前"
    return "this month" if n == 0 else "last month" if n == 1 else f"{n} months ago"


def yuan(value: Any) -> str:
    """An amount in whole yuan with the yuan sign: ``¥1,234`` (``-¥50`` when negative)."""
    amount = float(value)
    sign = "-" if amount < -0.5 else ""
    return f"{sign}¥{abs(amount):,.0f}"


def plural(n: int, one: str, many: str) -> str:
    """``1 member`` / ``2 members``."""
    return f"{n} {one if n == 1 else many}"


class _Formatter(string.Formatter):
    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> str:
        kind, _, rest = format_spec.partition("/")
        if kind == "ago":
            return months_ago(value, self.lang)
        if kind == "yuan":
            return yuan(value)
        if kind == "plural":
            one, _, many = rest.partition("/")
            return plural(_count(value), one, many or one)
        if kind == "times":
            n = _count(value)
            return {1: "once", 2: "twice"}.get(n, f"{n} times")
        if kind == "delta":
            n = _count(value)
            if self.lang == "zh":
                return f"{'多' if n >= 0 else '少'} {abs(n)}"
            word = "more" if n >= 0 else "fewer"
            one, _, many = rest.partition("/")
            noun = f" {one if abs(n) == 1 else many or one}" if one else ""
            return f"{abs(n)} {word}{noun}"
        if kind == "change":
            share = float(value)
            shown = f"{abs(share):.0%}"
            if self.lang == "zh":
                return f"{'上升' if share >= 0 else '下降'} {shown}"
            return f"{'rose' if share >= 0 else 'fell'} by {shown}"
        return super().format_field(value, format_spec)


def render(template: str, value: Any, lang: str) -> str:
    """The phrase ``template`` at ``value`` in ``lang`` (``zh`` or ``en``)."""
    return _Formatter(lang).format(template, value=value)


def is_zero(value: Any) -> bool:
    """Whether a count or amount reads as nothing (rounds to 0 as shown)."""
    try:
        return abs(float(value)) < 0.5
    except (TypeError, ValueError):
        return False
