"""Chinese resident ID numbers: validation, legacy conversion, masking, and vectorized generation.

An 18-character number is a 6-digit address code, an 8-digit birth date (YYYYMMDD), a 3-digit
sequence (odd for men, even for women) and an ISO 7064 MOD 11-2 check character. Legacy numbers
have 15 digits: address, YYMMDD (century 19) and sequence, without a check character.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import numpy as np

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
_W = np.array(WEIGHTS, dtype=np.int64)
_CHECK = np.array(list(CHECK_CHARS))
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐")


class IdStatus(StrEnum):
    VALID = "valid"
    LEGACY_CONVERTED = "legacy_converted"
    BAD_CHECK = "bad_check"
    BAD_DATE = "bad_date"
    MALFORMED = "malformed"
    MISSING = "missing"


@dataclass(frozen=True)
class NormalizedId:
    """The outcome of normalizing a raw ID number."""

    raw_status: IdStatus
    value: str | None

    @property
    def usable(self) -> bool:
        return self.raw_status in (IdStatus.VALID, IdStatus.LEGACY_CONVERTED)


def check_char(body17: str) -> str:
    """The MOD 11-2 check character of the first 17 digits.

    >>> check_char("11010519491231002")
    'X'
    """
    if len(body17) != 17 or not body17.isascii() or not body17.isdigit():
        raise ValueError("an ID body must be 17 digits")
    return CHECK_CHARS[sum(int(c) * w for c, w in zip(body17, WEIGHTS, strict=True)) % 11]


def _parse_date(text: str) -> date | None:
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def normalize(raw: object, today: date | None = None) -> NormalizedId:
    """Normalize a raw ID: strip, upper-case a trailing x, convert legacy numbers, validate."""
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return NormalizedId(IdStatus.MISSING, None)
    text = str(raw).strip()
    if not text:
        return NormalizedId(IdStatus.MISSING, None)
    if len(text) == 18 and text[-1] == "x":
        text = text[:-1] + "X"
    if len(text) == 15 and text.isascii() and text.isdigit():
        born = _parse_date("19" + text[6:12])
        if born is None or (today is not None and born > today):
            return NormalizedId(IdStatus.BAD_DATE, None)
        return NormalizedId(IdStatus.LEGACY_CONVERTED, legacy_to_18(text))
    if len(text) != 18 or not text.isascii() or not text[:17].isdigit():
        return NormalizedId(IdStatus.MALFORMED, None)
    if not (text[17].isdigit() or text[17] == "X"):
        return NormalizedId(IdStatus.MALFORMED, None)
    if check_char(text[:17]) != text[17]:
        return NormalizedId(IdStatus.BAD_CHECK, None)
    born = _parse_date(text[6:14])
    if born is None or born.year < 1880 or (today is not None and born > today):
        return NormalizedId(IdStatus.BAD_DATE, None)
    return NormalizedId(IdStatus.VALID, text)


def is_valid(id18: str) -> bool:
    return normalize(id18).raw_status == IdStatus.VALID


def legacy_to_18(id15: str) -> str:
    """Convert a 15-digit legacy number: insert the century 19 and append the check character."""
    if len(id15) != 15 or not id15.isdigit():
        raise ValueError("a legacy ID must be 15 digits")
    body = id15[:6] + "19" + id15[6:]
    return body + check_char(body)


def to_legacy15(id18: str) -> str:
    """The 15-digit form of an 18-character number of someone born in 19xx."""
    if len(id18) != 18 or id18[6:8] != "19":
        raise ValueError("only 18-character IDs of people born 1900-1999 have a legacy form")
    return id18[:6] + id18[8:17]


def birth_date_of(id_number: str) -> date:
    text = legacy_to_18(id_number) if len(id_number) == 15 else id_number
    born = _parse_date(text[6:14])
    if born is None:
        raise ValueError("the ID holds no valid birth date")
    return born


def is_male(id_number: str) -> bool:
    seq = id_number[12:15] if len(id_number) == 15 else id_number[14:17]
    return int(seq) % 2 == 1


def mask_id(id_number: str | None) -> str:
    """Keep the first 3 and last 2 characters: ``330*************2X``."""
    if not id_number:
        return ""
    s = str(id_number)
    if len(s) <= 5:
        return "*" * len(s)
    return s[:3] + "*" * (len(s) - 5) + s[-2:]


def mask_name(name: str | None) -> str:
    """Keep the surname: ``张**``, ``欧阳*``; Latin names keep their first letter."""
    if not name:
        return ""
    s = str(name).strip()
    keep = 2 if s[:2] in COMPOUND_SURNAMES else 1
    return s[:keep] + "*" * max(len(s) - keep, 1 if len(s) == keep and keep == 1 else 0)


# ---------------------------------------------------------------------------- vectorized
def check_chars(digits: np.ndarray) -> np.ndarray:
    """Check characters of an N x 17 digit matrix."""
    return _CHECK[(digits.astype(np.int64) @ _W) % 11]


def _digits(strings: np.ndarray, width: int) -> np.ndarray:
    b = np.ascontiguousarray(np.asarray(strings).astype(f"S{width}"))
    return (b.view(np.uint8).reshape(len(b), width) - 48).astype(np.int64)


def _join(digits: np.ndarray, tail: np.ndarray | None = None) -> np.ndarray:
    chars = (digits + 48).astype(np.uint8)
    if tail is not None:
        chars = np.concatenate([chars, tail.astype("S1").view(np.uint8)[:, None]], axis=1)
    chars = np.ascontiguousarray(chars)
    return chars.view(f"S{chars.shape[1]}").ravel().astype(f"U{chars.shape[1]}")


def make_ids(address_codes: np.ndarray, birth_dates: np.ndarray, sequence: np.ndarray) -> np.ndarray:
    """18-character IDs from 6-digit address codes, birth dates and sequence numbers."""
    n = len(address_codes)
    addr = _digits(address_codes, 6)
    ymd = np.asarray(birth_dates, "datetime64[D]").astype("datetime64[D]")
    y = ymd.astype("datetime64[Y]").astype(np.int64) + 1970
    mo = (ymd.astype("datetime64[M]").astype(np.int64) % 12) + 1
    d = (ymd - ymd.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    date_num = y * 10000 + mo * 100 + d
    powers = 10 ** np.arange(7, -1, -1)
    date_digits = (date_num[:, None] // powers) % 10
    seq = np.asarray(sequence, np.int64)
    seq_digits = (seq[:, None] // np.array([100, 10, 1])) % 10
    body = np.concatenate([addr, date_digits, seq_digits], axis=1).reshape(n, 17)
    return _join(body, check_chars(body))


def mistype_ids(ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Change one of the first 17 digits of each ID, keeping the check character (always fails).

    MOD 11-2 detects every single substitution: the changed term differs by w*(a-b) with
    w in 1..10 and 0 < |a-b| < 10, never a multiple of the prime 11.
    """
    ids = np.asarray(ids).astype("U18")
    n = len(ids)
    if n == 0:
        return ids
    body = _digits(ids, 18)  # column 17 (the check character) is put back below
    pos = rng.integers(0, 17, n)
    shift = rng.integers(1, 10, n)
    rows = np.arange(n)
    body[rows, pos] = (body[rows, pos] + shift) % 10
    chars = (body + 48).astype(np.uint8)
    chars[:, 17] = np.asarray(ids).astype("S18").view(np.uint8).reshape(n, 18)[:, 17]
    return np.ascontiguousarray(chars).view("S18").ravel().astype("U18")


def to_legacy15_vec(ids: np.ndarray) -> np.ndarray:
    """15-digit legacy forms of 18-character IDs (born 1900-1999)."""
    ids = np.asarray(ids).astype("U18")
    b = np.ascontiguousarray(ids.astype("S18")).view(np.uint8).reshape(len(ids), 18)
    out = np.concatenate([b[:, :6], b[:, 8:17]], axis=1)
    return np.ascontiguousarray(out).view("S15").ravel().astype("U15")
