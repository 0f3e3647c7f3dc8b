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
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from core.errors import ConfigError
from training.labels import HORIZON_MONTHS, months_after


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
    test = days[-test_dates:]
    valid_pool = [d for d in days if months_after(d, horizon_months) <= test[0]]
    if len(valid_pool) < valid_dates:
        raise ConfigError(f"too few dates before the test date {test[0]} for validation: {need}")
    valid = valid_pool[-valid_dates:]
    train = [d for d in days if months_after(d, horizon_months) <= valid[0]]
    if not train:
        raise ConfigError(f"no date left for training before {valid[0]}: {need}")
    if train_dates is not None:
        train = train[-train_dates:]
    return Split(tuple(train), tuple(valid), tuple(test), horizon_months)
