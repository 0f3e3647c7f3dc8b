"""Calendar months: the one place that does month arithmetic on local calendar dates.

Dates here are local calendar dates (Asia/Shanghai, see :data:`LOCAL_TZ`); audit timestamps are
UTC with the zone and become local dates only through :func:`local_date`.

Two ways to move a date by months, because both are needed and they differ at month ends:

- :func:`add_months` keeps the day of the month, clamped to the target month's length
  (2024-03-31 minus one month is 2024-02-29). Windows ("the 12 months before the as-of date")
  use it.
- :func:`shift_months` also keeps a month end a month end (2024-02-29 plus six months is
  2024-08-31). Label horizons and month-end snapshots use it.

Example:
    >>> add_months(date(2024, 3, 31), -1)
    datetime.date(2024, 2, 29)
    >>> shift_months(date(2024, 2, 29), 6)
    datetime.date(2024, 8, 31)
    >>> month_end(2024, 2)
    datetime.date(2024, 2, 29)
"""

from __future__ import annotations

import calendar
from datetime import date, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
"""The zone of every calendar date in the data (agency dates, as-of dates, visit dates)."""


def month_index(day: date) -> int:
    """Months since year 0: consecutive months differ by one."""
    return day.year * 12 + day.month - 1


def month_end(year: int, month: int) -> date:
    """The last day of a month."""
    return date(year, month, calendar.monthrange(year, month)[1])


def is_month_end(day: date) -> bool:
    """True on the last day of its month."""
    return day.day == calendar.monthrange(day.year, day.month)[1]


def add_months(day: date, n: int) -> date:
    """``day`` moved ``n`` calendar months (negative: earlier), the day clamped to the month."""
    y, m = divmod(month_index(day) + n, 12)
    return date(y, m + 1, min(day.day, calendar.monthrange(y, m + 1)[1]))


def shift_months(day: date, n: int) -> date:
    """``day`` moved ``n`` calendar months; a month end stays a month end."""
    moved = add_months(day, n)
    return month_end(moved.year, moved.month) if is_month_end(day) else moved


def monthly_dates(first: date, last: date) -> list[date]:
    """Dates from ``first`` to ``last``, one a month: the same day each month (clamped), and
    month ends when ``first`` is a month end.

    Example:
        >>> [d.isoformat() for d in monthly_dates(date(2024, 1, 31), date(2024, 4, 30))]
        ['2024-01-31', '2024-02-29', '2024-03-31', '2024-04-30']
    """
    out: list[date] = []
    day = first
    while day <= last:
        out.append(day)
        day = shift_months(first, len(out))
    return out


def local_date(at: datetime) -> date:
    """The local calendar date of an aware timestamp (e.g. a UTC audit time)."""
    return at.astimezone(LOCAL_TZ).date()
