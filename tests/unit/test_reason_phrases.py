"""The reason table: every feature's phrase at 0, 1, 2, 12 and missing, in Chinese and English.

Phrases read the way a caseworker says them (本月 / 上个月 / N 个月前, 1 member / 2 members,
amounts with the yuan sign), never a template's ``(s)``, and history-only features are context.
"""

from __future__ import annotations

import re

import pytest

from features.vectors.catalogue import FEATURES, feature, is_context, reason
from features.vectors.catalogue.phrases import months_ago, render, yuan

VALUES = (0, 1, 2, 12, None)
CJK = re.compile(r"[\u3400-\u9fff\uff08-\uff1f\u3001\u3002]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
TEMPLATE_LEFTOVERS = ("{", "}", "(s)", "(ren)", "(ies)", "(es)", "None", "nan")
AGO = [f.name for f in FEATURES if "{value:ago}" in f.reason_zh]
MONEY = [f.name for f in FEATURES if f.unit == "CNY"]


def _table() -> list[tuple[str, object, str]]:
    return [(f.name, value, lang) for f in FEATURES for value in VALUES for lang in ("zh", "en")]


@pytest.mark.parametrize(("name", "value", "lang"), _table())
def test_every_phrase_renders_naturally(name: str, value: object, lang: str) -> None:
    f = feature(name)
    shown = value if f.dtype != "bool" or value is None else bool(value)
    text = reason(name, shown, lang)
    assert text.strip() == text and text, (name, value, lang)
    assert not any(bit in text for bit in TEMPLATE_LEFTOVERS), text
    if lang == "zh":
        assert CJK.search(text), text
        assert not LATIN_WORD.search(text), text
    else:
        assert not CJK.search(text), text
        assert not re.search(r"(?<![\d.,])1 \w+s\b(?! of)", text) or "1 business" in text, text
        assert "0 " not in text.split(".")[0][:2], text


@pytest.mark.parametrize("name", AGO)
def test_months_ago_are_said_as_months(name: str) -> None:
    zh = [reason(name, v, "zh") for v in (0, 1, 2, 12)]
    en = [reason(name, v, "en") for v in (0, 1, 2, 12)]
    assert "本月" in zh[0] and "上个月" in zh[1] and "2 个月前" in zh[2] and "12 个月前" in zh[3]
    assert "this month" in en[0] and "last month" in en[1]
    assert "2 months ago" in en[2] and "12 months ago" in en[3]
    assert "0 个月前" not in "".join(zh)


@pytest.mark.parametrize("name", MONEY)
def test_amounts_carry_the_yuan_sign(name: str) -> None:
    for value in (1, 2, 12, 1234.4):
        for lang in ("zh", "en"):
            text = reason(name, value, lang)
            assert "¥" in text and " 元" not in text and "CNY" not in text, text
    assert "¥1,234" in reason(name, 1234.4, "zh")


def test_the_examples_of_the_issue() -> None:
    assert reason("months_since_arrears", 0, "zh") == "本月有水电燃气欠费"
    assert reason("months_since_arrears", 1, "zh") == "上个月有水电燃气欠费"
    assert reason("months_since_arrears", 5.0, "en") == "utility arrears 5 months ago"
    assert reason("elderly", 1, "en") == "1 member aged 60 or over"
    assert reason("elderly", 2, "en") == "2 members aged 60 or over"
    assert reason("elderly", 0, "zh") == "家庭中无60岁以上老人"
    assert reason("children", 1, "en") == "1 child under 18"
    assert reason("visits_12m", 1, "en") == "visited once in the last 12 months"
    assert reason("months_since_last_visit", None, "zh") == "从未被走访"
    assert reason("medical_oop_12m", 8200.0, "zh") == "近12个月自付医疗费用 ¥8,200"
    assert reason("contributors_change_6m", -2, "zh") == "缴纳社保的家庭成员比6个月前少 2 人"
    assert reason("contributors_change_6m", -1, "en") == (
        "1 fewer member paying contributions than 6 months earlier"
    )
    assert reason("income_change_ratio_6m", -0.3, "zh") == "估计收入比6个月前下降 30%"
    # a ratio is nothing only when it is exactly 0
    assert "0.3" in reason("dependency_ratio", 0.3, "en")


def test_history_only_reasons_are_context() -> None:
    context = {f.name for f in FEATURES if f.context}
    assert context == {"visits_12m", "months_since_last_visit"}
    assert is_context("months_since_last_visit") and not is_context("elderly")
    assert not is_context("not_a_feature")


def test_phrase_specs() -> None:
    assert months_ago(0, "en") == "this month" and months_ago(11.4, "zh") == "11 个月前"
    assert yuan(-50) == "-¥50" and yuan(0.2) == "¥0"
    assert render("{value:plural/child/children}", 1, "en") == "1 child"
    assert render("{value:times}", 3, "en") == "3 times"
    assert render("{value:.1f}x", 2.34, "en") == "2.3x"
