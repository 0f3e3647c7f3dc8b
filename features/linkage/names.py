"""Names made comparable across scripts and recording habits: parts (family / given), pinyin for
Chinese characters (homophones and rare characters written in pinyin meet), a phonetic code for
Latin names (Soundex per part), and dates and sex codes read from what registers write.

Pure functions on single values; callers map them over the distinct values of a column.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import cache

import jellyfish
from pypinyin import lazy_pinyin

COMPOUND_SURNAMES = frozenset(
    (
        "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐",
        "夏侯", "长孙",
        "宇文", "司徒", "端木", "独孤", "南宫", "西门", "申屠", "轩辕", "呼延", "百里", "东郭",
        "闻人",
        "万俟", "澹台", "公冶", "太史", "仲孙", "钟离", "宗政", "濮阳", "淳于", "单于",
    )
)  # fmt: skip
"""Two-character Chinese family names (a one-column name starting with one splits after two)."""

PLACEHOLDERS = "□■○〇●◯×?？*＊_"
"""Characters registers write for a character they cannot type (生僻字)."""

_LATIN_SPLIT = re.compile(r"[^0-9a-z\u00c0-\u024f]+")


def is_han(ch: str) -> bool:
    """A CJK unified ideograph (any extension block)."""
    return unicodedata.category(ch) == "Lo" and "CJK" in unicodedata.name(ch, "")


def clean(text: object) -> str | None:
    """NFKC (full-width to half-width), case-folded, placeholders to ``?``, whitespace runs to
    one space, stripped; ``None`` for missing or empty."""
    if text is None or (isinstance(text, float) and text != text):
        return None
    s = unicodedata.normalize("NFKC", str(text)).casefold()
    s = "".join("?" if ch in PLACEHOLDERS else ch for ch in s)
    s = " ".join(s.replace("·", " ").replace("•", " ").split())
    return s if s.strip(" ?.-'") else None


def fold_latin(text: str) -> str:
    """Latin letters without accents (é to e), other characters kept."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def han_share(text: str) -> float:
    """The share of Chinese characters among the letters of ``text``."""
    letters = [ch for ch in text if ch.isalpha()]
    return sum(is_han(ch) for ch in letters) / len(letters) if letters else 0.0


def split_name(text: str | None) -> tuple[str | None, str | None]:
    """A one-column name into (family, given): Chinese by the family-name rule (one character,
    two for a compound surname), Latin by its first word (the order Chinese names are
    written in; the other order is caught as a swap by the comparisons)."""
    if not text:
        return None, None
    compact = text.replace(" ", "")
    if han_share(text) >= 0.5 and is_han(compact[0]):
        cut = 2 if compact[:2] in COMPOUND_SURNAMES and len(compact) > 2 else 1
        return compact[:cut], compact[cut:] or None
    words = [w for w in _LATIN_SPLIT.split(fold_latin(text)) if w]
    if not words:
        return compact, None
    return words[0], " ".join(words[1:]) or None


def pinyin(text: str | None) -> str | None:
    """Toneless pinyin of the Chinese characters, Latin letters kept as they are, no spaces:
    同音字 (张伟 / 张玮) and a rare character written in pinyin (张yan / 张焱) meet.

    >>> pinyin("张伟"), pinyin("Zhang Wei"), pinyin("张yan")
    ('zhangwei', 'zhangwei', 'zhangyan')
    """
    if not text:
        return None
    parts = lazy_pinyin(text.replace(" ", ""), errors=lambda chunk: fold_latin(chunk))
    out = "".join(p for p in parts if p).replace("ü", "v").replace("?", "")
    out = re.sub(r"[^0-9a-z]", "", out)
    return out or None


def phonetic(part: str | None) -> str | None:
    """The phonetic key of one name part: Soundex of its pinyin (Latin names as spelled)."""
    py = pinyin(part)
    if not py:
        return None
    letters = re.sub(r"[^a-z]", "", py)
    return jellyfish.soundex(letters) if letters else None


# ----------------------------------------------------------------------------- dates and sex
_YMD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ t].*)?$")
_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_YM = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})?(?:\.0)?$")
_YEAR = re.compile(r"^(\d{4})\s*年?(?:\.0)?$")


def parse_date(value: object) -> tuple[int | None, int | None, int | None]:
    """(year, month, day) of a recorded date, any part ``None`` when absent or unreadable.

    Reads ``YYYY-MM-DD`` (also ``/``, ``.``, ``年月日``, a trailing time), ``YYYYMMDD``,
    ``DD/MM/YYYY`` (month first when the day cannot be a month), ``YYYY-MM``, ``YYYYMM`` and a
    year alone; a date object as it is. A part out of range leaves the finer parts unknown.

    >>> parse_date("1980年3月5日"), parse_date("1980"), parse_date("12/31/1980")
    ((1980, 3, 5), (1980, None, None), (1980, 12, 31))
    """
    if value is None or (isinstance(value, float) and value != value):
        return None, None, None
    if isinstance(value, date):
        return value.year, value.month, value.day
    s = unicodedata.normalize("NFKC", str(value)).strip().lower()
    y = m = d = None
    if hit := _YMD.match(s):
        y, m, d = (int(g) for g in hit.groups())
    elif hit := _DMY.match(s):
        a, b, y = (int(g) for g in hit.groups())
        d, m = (b, a) if b > 12 >= a else (a, b)
    elif hit := _YM.match(s):
        y, m = (int(g) for g in hit.groups())
    elif hit := _COMPACT.match(s):
        y, m = int(hit.group(1)), int(hit.group(2))
        d = int(hit.group(3)) if hit.group(3) else None
    elif hit := _YEAR.match(s):
        y = int(hit.group(1))
    return _checked(y, m, d)


def _checked(y, m, d) -> tuple[int | None, int | None, int | None]:
    if y is None or not 1850 <= y <= 2100:
        return None, None, None
    if m is None or not 1 <= m <= 12:
        return y, None, None
    if d is None:
        return y, m, None
    try:
        date(y, m, d)
    except ValueError:
        return y, m, None
    return y, m, d


SEX_CODES = {
    "m": "M", "male": "M", "man": "M", "男": "M", "1": "M", "男性": "M",
    "f": "F", "female": "F", "woman": "F", "女": "F", "2": "F", "女性": "F",
}  # fmt: skip
"""Recorded sex codes read as M / F (anything else: unknown)."""


def parse_sex(value: object) -> str | None:
    """``M``, ``F`` or ``None`` (unknown) of a recorded sex code."""
    text = clean(value)
    return SEX_CODES.get(text.replace(".0", "")) if text else None


@cache
def _char_pinyin(ch: str) -> str:
    return pinyin(ch) or ""


def name_pinyin(name: str | None) -> str | None:
    """Toneless pinyin of a normalized name, character by character (cached: a county's names
    share a few thousand characters, so this is ~20x faster than the name as a phrase; a
    polyphonic character gets its one reading wherever it stands, which is what comparing needs).
    Placeholders for rare characters are dropped."""
    text = clean(name)
    if not text:
        return None
    return "".join(_char_pinyin(ch) for ch in text if ch != " ") or None
