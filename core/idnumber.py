"""Chinese resident ID numbers: validation, legacy conversion, masking and vectorized generation.

An 18-character number is a 6-digit address code, an 8-digit birth date (YYYYMMDD), a 3-digit
sequence (odd for men, even for women) and an ISO 7064 MOD 11-2 check character. Legacy numbers
have 15 digits: the address code, a birth date YYMMDD (century 19) and the sequence, without a
check character.

The scalar functions serve ingestion (one raw value at a time, never raising on bad input in
``normalize``); the vectorized ones serve the simulator (millions of people, no Python loops).
Error messages never contain an ID number or a name.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import numpy as np

WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
"""MOD 11-2 weights of the first 17 digits (2**(17 - i) mod 11)."""
CHECK_CHARS = "10X98765432"
"""Check character of each remainder 0..10 of the weighted digit sum mod 11."""
MIN_BIRTH_YEAR = 1880
"""Birth dates before this year are treated as impossible."""
COMPOUND_SURNAMES: frozenset[str] = frozenset(
    {
        "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐",
        "司徒", "申屠", "夏侯", "长孙", "完颜", "端木", "宇文", "轩辕", "呼延", "独孤",
        "歐陽", "司馬", "諸葛", "東方", "尉遲", "公孫", "長孫", "完顏", "軒轅",
    }
)  # fmt: skip
"""Two-character surnames (simplified and traditional forms) that name masking keeps whole."""

_CHECK = np.array(list(CHECK_CHARS), dtype="<U1")
_DATE_POWERS = 10 ** np.arange(7, -1, -1, dtype=np.int32)
_SEQ_POWERS = np.array([100, 10, 1], dtype=np.int32)


class IdStatus(StrEnum):
    """Outcome of normalizing one raw ID number."""

    VALID = "valid"
    LEGACY_CONVERTED = "legacy_converted"
    BAD_CHECK = "bad_check"
    BAD_DATE = "bad_date"
    MALFORMED = "malformed"
    MISSING = "missing"


@dataclass(frozen=True)
class NormalizedId:
    """A raw ID number after normalization.

    Attributes:
        raw_status: What normalization found.
        value: The normalized 18-character ID for ``VALID`` and ``LEGACY_CONVERTED``, else None.
    """

    raw_status: IdStatus
    value: str | None

    @property
    def usable(self) -> bool:
        """True when ``value`` holds a valid 18-character ID."""
        return self.raw_status in (IdStatus.VALID, IdStatus.LEGACY_CONVERTED)


# ------------------------------------------------------------------------------------ scalar
def _is_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def check_char(body17: str) -> str:
    """The MOD 11-2 check character of the first 17 digits of an ID number.

    Args:
        body17: Exactly 17 ASCII digits.

    Returns:
        One of ``CHECK_CHARS``.

    Raises:
        ValueError: If ``body17`` is not 17 ASCII digits.

    >>> check_char("11010519491231002")
    'X'
    """
    if not isinstance(body17, str) or len(body17) != 17 or not _is_digits(body17):
        raise ValueError("an ID body must be 17 ASCII digits")
    return CHECK_CHARS[sum(int(c) * w for c, w in zip(body17, WEIGHTS, strict=True)) % 11]


def _birth_date(yyyymmdd: str, today: date | None) -> date | None:
    """The date of 8 digits, or None if impossible (no such day, too old, or after today)."""
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return None
    if born.year < MIN_BIRTH_YEAR or (today is not None and born > today):
        return None
    return born


def _is_missing(raw: object) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        return False
    try:
        return bool(raw != raw)  # float NaN, numpy NaN, NaT
    except (TypeError, ValueError):
        return type(raw).__name__ == "NAType"  # pandas.NA refuses bool()


def normalize(raw: str | float | None, today: date | None = None) -> NormalizedId:
    """Normalize one raw ID number as an agency recorded it. Never raises.

    Surrounding whitespace is stripped and a trailing lower-case ``x`` upper-cased; internal
    whitespace is not removed (the value is MALFORMED). A 15-digit legacy number with a valid
    birth date is converted to 18 characters.

    Args:
        raw: The recorded value. None, NaN, pandas.NA and blank text count as missing; other
            non-text values are converted with ``str``.
        today: If given, birth dates after this day are impossible.

    Returns:
        The status and, for usable IDs, the normalized 18-character value. Checks run in the
        order shape, check character, birth date, so a mistyped digit is ``BAD_CHECK`` even
        when it also spoils the date.
    """
    if _is_missing(raw):
        return NormalizedId(IdStatus.MISSING, None)
    text = (raw if isinstance(raw, str) else str(raw)).strip()
    if not text:
        return NormalizedId(IdStatus.MISSING, None)
    if len(text) == 15 and _is_digits(text):
        if _birth_date("19" + text[6:12], today) is None:
            return NormalizedId(IdStatus.BAD_DATE, None)
        body = text[:6] + "19" + text[6:]
        return NormalizedId(IdStatus.LEGACY_CONVERTED, body + check_char(body))
    if len(text) != 18 or not _is_digits(text[:17]) or text[17] not in "0123456789Xx":
        return NormalizedId(IdStatus.MALFORMED, None)
    text = text[:17] + text[17].upper()
    if check_char(text[:17]) != text[17]:
        return NormalizedId(IdStatus.BAD_CHECK, None)
    if _birth_date(text[6:14], today) is None:
        return NormalizedId(IdStatus.BAD_DATE, None)
    return NormalizedId(IdStatus.VALID, text)


def is_valid(id18: str) -> bool:
    """True if ``id18`` is exactly a valid 18-character ID (upper-case X, no whitespace)."""
    if not isinstance(id18, str) or len(id18) != 18:
        return False
    result = normalize(id18)
    return result.raw_status is IdStatus.VALID and result.value == id18


def legacy_to_18(id15: str) -> str:
    """Convert a 15-digit legacy number: insert the century 19, append the check character.

    Raises:
        ValueError: If ``id15`` is not 15 ASCII digits holding a valid birth date.
    """
    if not isinstance(id15, str) or len(id15) != 15 or not _is_digits(id15):
        raise ValueError("a legacy ID number must be 15 ASCII digits")
    body = id15[:6] + "19" + id15[6:]
    if _birth_date(body[6:14], None) is None:
        raise ValueError("the legacy ID number holds no valid birth date")
    return body + check_char(body)


def to_legacy15(id18: str) -> str:
    """The 15-digit legacy form of a valid 18-character ID of someone born 1900-1999.

    Raises:
        ValueError: If ``id18`` is not valid or the birth year is not 19xx.
    """
    if not is_valid(id18):
        raise ValueError("an ID number must be a valid 18-character ID")
    if id18[6:8] != "19":
        raise ValueError("only IDs of people born 1900-1999 have a legacy form")
    return id18[:6] + id18[8:17]


def _canonical(id_number: str) -> str:
    """The valid 18-character form of a valid 18-character or 15-digit ID number."""
    if isinstance(id_number, str) and len(id_number) == 15:
        return legacy_to_18(id_number)
    if not is_valid(id_number):
        raise ValueError("an ID number must be a valid 18-character or 15-digit ID")
    return id_number


def birth_date_of(id_number: str) -> date:
    """The birth date encoded in a valid 18-character or 15-digit ID number.

    Raises:
        ValueError: If the ID number is not valid.
    """
    text = _canonical(id_number)
    return date(int(text[6:10]), int(text[10:12]), int(text[12:14]))


def is_male(id_number: str) -> bool:
    """True if the sequence number of a valid 18-character or 15-digit ID is odd.

    Raises:
        ValueError: If the ID number is not valid.
    """
    return int(_canonical(id_number)[16]) % 2 == 1


def mask_id(id_number: str | None) -> str:
    """Mask an ID for display: keep the first 3 and last 2 characters, same length.

    Values of 5 characters or fewer are masked entirely. None and "" give "".

    >>> mask_id("11010519491231002X")
    '110*************2X'
    """
    if not id_number:
        return ""
    s = str(id_number)
    if len(s) <= 5:
        return "*" * len(s)
    return s[:3] + "*" * (len(s) - 5) + s[-2:]


def _is_latin(char: str) -> bool:
    return char.isalpha() and unicodedata.name(char, "").startswith("LATIN")


def mask_name(name: str | None) -> str:
    """Mask a name for display: keep the surname, one ``*`` per other character.

    Two-character compound surnames (``COMPOUND_SURNAMES``) are kept whole. Whitespace inside a
    Chinese name is dropped. Latin-script names keep their first letter followed by a single
    ``*`` (hiding the length). None and blank text give "".

    >>> mask_name("欧阳娜娜"), mask_name("王伟"), mask_name("Zhang Wei")
    ('欧阳**', '王*', 'Z*')
    """
    if not name:
        return ""
    s = "".join(str(name).split())
    if not s:
        return ""
    if _is_latin(s[0]):
        return s[0] + "*"
    keep = 2 if s[:2] in COMPOUND_SURNAMES else 1
    return s[:keep] + "*" * (len(s) - keep)


# -------------------------------------------------------------------------------- vectorized
def _codepoints(strings: np.ndarray, width: int, what: str) -> np.ndarray:
    """N x width matrix of the code points of N strings that must all have ``width`` chars."""
    arr = np.asarray(strings)
    if arr.ndim != 1:
        raise ValueError(f"{what} must be a 1-D array")
    if arr.dtype.kind == "S":
        arr = np.char.decode(arr, "ascii", errors="replace")
    elif arr.dtype.kind != "U":
        arr = arr.astype(str)
    if len(arr) and not (np.strings.str_len(arr) == width).all():
        raise ValueError(f"every value of {what} must have {width} characters")
    fixed = np.ascontiguousarray(arr.astype(f"<U{width}"))
    return fixed.view("<u4").reshape(len(arr), width)


def _digit_matrix(codepoints: np.ndarray, what: str) -> np.ndarray:
    if ((codepoints < 48) | (codepoints > 57)).any():
        raise ValueError(f"{what} must hold ASCII digits only")
    return (codepoints - 48).astype(np.uint8)


def _strings(codepoints: np.ndarray) -> np.ndarray:
    """1-D array of fixed-width strings from an N x width matrix of code points."""
    n, width = codepoints.shape
    return np.ascontiguousarray(codepoints.astype("<u4")).view(f"<U{width}").reshape(n)


def _remainders(digits: np.ndarray) -> np.ndarray:
    """Weighted digit sums mod 11 of an N x 17 digit matrix (a column loop, not a row loop)."""
    total = np.zeros(len(digits), dtype=np.int32)
    for column, weight in enumerate(WEIGHTS):
        total += digits[:, column].astype(np.int32) * weight
    return total % 11


def check_chars(digits: np.ndarray) -> np.ndarray:
    """Check characters of an N x 17 matrix of digits.

    Args:
        digits: Integer array of shape (N, 17) with values 0..9 (uint8 is enough).

    Returns:
        Array of N single characters (dtype ``<U1``).

    Raises:
        ValueError: If the shape or values are wrong.
    """
    d = np.asarray(digits)
    if d.ndim != 2 or d.shape[1] != 17 or d.dtype.kind not in "iu":
        raise ValueError("digits must be an integer array of shape (N, 17)")
    if d.size and (d.min() < 0 or d.max() > 9):
        raise ValueError("digits must be between 0 and 9")
    return _CHECK[_remainders(d)]


def make_ids(
    address_codes: np.ndarray, birth_dates: np.ndarray, sequence: np.ndarray
) -> np.ndarray:
    """Valid 18-character IDs from their parts, without Python loops.

    Args:
        address_codes: N strings of 6 ASCII digits.
        birth_dates: N dates (converted to ``datetime64[D]``), years MIN_BIRTH_YEAR..9999.
        sequence: N integers 0..999; the caller picks odd numbers for men, even for women.

    Returns:
        Array of N IDs, dtype ``<U18``.

    Raises:
        ValueError: If the arrays differ in length or hold invalid parts.
    """
    addr = _digit_matrix(_codepoints(address_codes, 6, "address codes"), "address codes")
    n = len(addr)
    days = np.asarray(birth_dates).astype("datetime64[D]").reshape(-1)
    seq = np.asarray(sequence).reshape(-1)
    if len(days) != n or len(seq) != n:
        raise ValueError("address codes, birth dates and sequence must have the same length")
    if n == 0:
        return np.empty(0, dtype="<U18")
    if np.isnat(days).any():
        raise ValueError("birth dates must not be missing")
    if seq.dtype.kind not in "iu" or seq.min() < 0 or seq.max() > 999:
        raise ValueError("sequence numbers must be integers 0..999")
    months = days.astype("datetime64[M]")
    year = days.astype("datetime64[Y]").astype(np.int64) + 1970
    if year.min() < MIN_BIRTH_YEAR or year.max() > 9999:
        raise ValueError(f"birth years must be between {MIN_BIRTH_YEAR} and 9999")
    month = months.astype(np.int64) % 12 + 1
    day = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    ymd = (year * 10000 + month * 100 + day).astype(np.int32)
    body = np.empty((n, 17), dtype=np.uint8)
    body[:, :6] = addr
    body[:, 6:14] = (ymd[:, None] // _DATE_POWERS) % 10
    body[:, 14:] = (seq.astype(np.int32)[:, None] // _SEQ_POWERS) % 10
    out = np.empty((n, 18), dtype="<u4")
    out[:, :17] = body + 48
    out[:, 17] = _CHECK[_remainders(body)].view("<u4")
    return _strings(out)


def mistype_ids(ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Change exactly one of the first 17 digits of each ID, keeping the check character.

    The result always fails the check. Proof: replacing digit ``a`` by ``b`` at weight ``w``
    changes the weighted sum by ``w * (b - a)``. Every weight is 1..10 and ``0 < |b - a| <= 9``,
    so neither factor is a multiple of the prime 11 and neither is their product: the sum mod 11
    changes, and since remainders map one-to-one to check characters, the expected check
    character changes while the recorded one does not.

    Args:
        ids: N strings of 18 characters whose first 17 are digits.
        rng: Random generator (draws the position and the new digit).

    Returns:
        Array of N mistyped IDs, dtype ``<U18``.

    Raises:
        ValueError: If an ID does not have 17 leading digits and 18 characters.
    """
    cp = _codepoints(ids, 18, "ID numbers").copy()
    body = _digit_matrix(cp[:, :17], "the first 17 characters of ID numbers")
    n = len(cp)
    pos = rng.integers(0, 17, n)
    shift = rng.integers(1, 10, n)
    rows = np.arange(n)
    cp[rows, pos] = (body[rows, pos].astype(np.int64) + shift) % 10 + 48
    return _strings(cp)


def to_legacy15_vec(ids: np.ndarray) -> np.ndarray:
    """15-digit legacy forms of 18-character IDs of people born 1900-1999, without loops.

    Raises:
        ValueError: If an ID does not have 17 leading digits or its birth year is not 19xx.
    """
    cp = _codepoints(ids, 18, "ID numbers")
    _digit_matrix(cp[:, :17], "the first 17 characters of ID numbers")
    if len(cp) and not ((cp[:, 6] == ord("1")) & (cp[:, 7] == ord("9"))).all():
        raise ValueError("only IDs of people born 1900-1999 have a legacy form")
    return _strings(np.concatenate([cp[:, :6], cp[:, 8:17]], axis=1))
