"""Temporal splits in the manner of timechop: train on the past, validate later, test last.

Each as-of date ``t`` carries a label window ``(t, t + horizon]``. A split must not let a label
window of one part reach into the next part, or the model would be tuned on outcomes that were
not known when the next part was scored. The rule, over the **labelled** as-of dates:

- **test**: the latest ``test_dates`` dates;
- **valid**: the latest ``valid_dates`` dates ``v`` with ``v + horizon <= first test date``;
- **train**: every date ``d`` (up to ``train_dates`` most recent, default all) with
  ``d + horizon <= first valid date``.

Dates between the parts are left out (their labels would overlap the next part's window).

Example (month ends 2023-06 .. 2025-04, horizon 6, one test date, one valid date):
    test  = [2025-04-30]
    valid = [2024-10-31]                    (2024-10-31 + 6 months = 2025-04-30)
    train = [2023-06-30 .. 2024-04-30]      (2024-04-30 + 6 months = 2024-10-31)

    >>> from datetime import date
    >>> s = temporal_split([date(2024, m, 28) for m in range(1, 13)], 3, valid_dates=1)
    >>> [d.month for d in s.train], [d.month for d in s.valid], [d.month for d in s.test]
    ([1, 2, 3, 4, 5, 6], [9], [12])

:func:`split_in_time` is the rule itself, over any ordered keys (dates, numbers) and any gap:
:func:`temporal_split` passes the label horizon; a household table without a label window
(``training.table``) passes no gap.

    >>> split_in_time([1, 2, 3, 4, 5, 6], test_n=2, valid_n=2)
    ((1, 2), (3, 4), (5, 6))
    >>> split_in_time([1, 2, 3, 4, 5, 6], test_n=1, valid_n=1, gap=lambda k: k + 2)
    ((1, 2), (4,), (6,))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from core.errors import ConfigError
from core.months import shift_months
from training.labels import HORIZON_MONTHS

K = TypeVar("K", bound=Any)


@dataclass(frozen=True)
class Split:
    """Sorted as-of dates of each part."""

    train: tuple[date, ...]
    valid: tuple[date, ...]
    test: tuple[date, ...]
    horizon_months: int = HORIZON_MONTHS

    def part(self, day: date) -> str | None:
        """``train``, ``valid``, ``test`` or None for a date left out."""
        for name in ("train", "valid", "test"):
            if day in getattr(self, name):
                return name
        return None

    def to_dict(self) -> dict[str, dict]:
        """JSON-ready: per part its dates, first and last."""
        out = {}
        for name in ("train", "valid", "test"):
            days = getattr(self, name)
            out[name] = {
                "as_of_dates": [d.isoformat() for d in days],
                "first": days[0].isoformat(),
                "last": days[-1].isoformat(),
                "n_dates": len(days),
            }
        return out


def split_in_time(
    keys: Iterable[K],
    *,
    test_n: int,
    valid_n: int,
    train_n: int | None = None,
    gap: Callable[[K], K] | None = None,
) -> tuple[tuple[K, ...], tuple[K, ...], tuple[K, ...]]:
    """Split ordered keys into train, valid and test, leaving out keys whose window would reach
    into the next part.

    ``gap(k)`` is the end of key ``k``'s label window (default: ``k`` itself, no window). Test
    takes the latest ``test_n`` distinct keys; valid the latest ``valid_n`` keys ``k`` before
    the first test key with ``gap(k) <=`` it; train every key (the latest ``train_n``) before
    the first valid key with ``gap(k) <=`` it. A part may come back shorter than asked, or
    empty, when the keys cannot fill it: the caller says why in its own words.

    Args:
        keys: sortable keys (duplicates ignored).
        test_n / valid_n: how many distinct keys test and valid take (at least 1).
        train_n: at most this many of the latest eligible keys for training (None: all).
        gap: the end of a key's window (e.g. the as-of date plus the label horizon).

    Returns:
        The sorted keys of train, valid and test.
    """
    end = gap or (lambda k: k)
    days = sorted(set(keys))
    test = days[-test_n:] if test_n >= 1 and days else []
    valid = [d for d in days if test and d < test[0] and end(d) <= test[0]]
    valid = valid[-valid_n:] if valid_n >= 1 else []
    train = [d for d in days if valid and d < valid[0] and end(d) <= valid[0]]
    if train_n is not None:
        train = train[-train_n:] if train_n >= 1 else []
    return tuple(train), tuple(valid), tuple(test)


def temporal_split(
    as_of_dates: Iterable[date],
    horizon_months: int = HORIZON_MONTHS,
    *,
    test_dates: int = 1,
    valid_dates: int = 3,
    train_dates: int | None = None,
) -> Split:
    """Split labelled as-of dates into train, valid and test (see the module docstring).

    Args:
        as_of_dates: the labelled as-of dates (duplicates ignored).
        horizon_months: the label window length.
        test_dates / valid_dates: how many dates each part takes (at least 1).
        train_dates: at most this many of the latest eligible dates for training (None: all).

    Raises:
        ConfigError: when the dates cannot fill the three parts.
    """
    days = sorted(set(as_of_dates))
    if test_dates < 1 or valid_dates < 1 or (train_dates is not None and train_dates < 1):
        raise ConfigError("each split needs at least one as-of date")
    need = (
        f"need labelled as-of dates spanning at least {2 * horizon_months} months plus "
        f"{test_dates + valid_dates} date(s) (horizon {horizon_months} months); got {len(days)}"
    )
    if len(days) < test_dates + valid_dates + 1:
        raise ConfigError(f"too few dates for a temporal split: {need}")
    train, valid, test = split_in_time(
        days,
        test_n=test_dates,
        valid_n=valid_dates,
        train_n=train_dates,
        gap=lambda d: shift_months(d, horizon_months),
    )
    if len(valid) < valid_dates:
        raise ConfigError(f"too few dates before the test date {test[0]} for validation: {need}")
    if not train:
        raise ConfigError(f"no date left for training before {valid[0]}: {need}")
    return Split(train, valid, test, horizon_months)
