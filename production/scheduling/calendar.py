"""Working calendars as sorted minute intervals from the plan's origin (pure Python, no Django).

The scheduler treats an operation as consuming working minutes: it pauses over breaks, nights, weekends
and holidays and goes on in the next working interval (as shop floors hand work over between shifts).
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo


class HorizonExceeded(Exception):
    """An operation would end after the last working interval the calendar was built for."""


class NoCapacity(Exception):
    """A work center has no working time at all in the horizon."""


@dataclass
class Calendar:
    """Working intervals [starts[i], ends[i]) in minutes, sorted and disjoint."""

    starts: list[int]
    ends: list[int]
    cum: list[int] = field(default_factory=list)  # working minutes before interval i

    def __post_init__(self) -> None:
        total, self.cum = 0, []
        for start, end in zip(self.starts, self.ends, strict=True):
            self.cum.append(total)
            total += end - start
        self.total = total

    @classmethod
    def always(cls, horizon: int) -> Calendar:
        return cls([0], [horizon])

    def next_working(self, t: int) -> int:
        """The first working minute at or after t."""
        i = bisect_right(self.ends, t)  # first interval that ends after t
        if i >= len(self.starts):
            raise HorizonExceeded(t)
        return max(t, self.starts[i])

    def position(self, t: int) -> int:
        """Working minutes from the origin to t."""
        i = bisect_right(self.starts, t) - 1
        if i < 0:
            return 0
        return self.cum[i] + min(t, self.ends[i]) - self.starts[i]

    def at_position(self, w: int) -> int:
        """The instant by which `w` working minutes have passed (the end of an operation)."""
        if w <= 0:
            return self.starts[0] if self.starts else 0
        i = bisect_left(self.cum, w) - 1  # last interval starting before w
        if i < 0 or w - self.cum[i] > self.ends[i] - self.starts[i]:
            raise HorizonExceeded(w)
        return self.starts[i] + (w - self.cum[i])

    def add_working(self, t: int, minutes: int) -> int:
        """End of `minutes` working minutes started at t (t itself need not be working time)."""
        if minutes <= 0:
            return t
        return self.at_position(self.position(t) + minutes)

    def working_between(self, a: int, b: int) -> int:
        return self.position(b) - self.position(a)


def build_calendar(
    *,
    origin: dt.datetime,
    days: int,
    tz: str,
    shifts: Iterable[tuple[int, dt.time, dt.time]],
    exceptions: Iterable[tuple[dt.date, dt.time | None, dt.time | None, bool]] = (),
    blocked: Iterable[tuple[int, int]] = (),
) -> Calendar:
    """Expand weekly shifts (weekday, start, end) in time zone `tz` from `origin` for `days` days.

    `exceptions` are (date, start, end, is_working): a non-working one removes time (the whole day when
    start is None), a working one adds a shift. `blocked` removes extra minute ranges (a breakdown).
    Local times are converted with the zone's rules, so daylight-saving days are as long as they are.
    """
    zone = ZoneInfo(tz)
    origin_local = origin.astimezone(zone)
    first_day = origin_local.date() - dt.timedelta(days=1)  # a night shift may start the day before
    weekly: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for weekday, start, end in shifts:
        weekly.setdefault(int(weekday), []).append((start, end))
    by_date_off: dict[dt.date, list[tuple[dt.time | None, dt.time | None]]] = {}
    by_date_on: dict[dt.date, list[tuple[dt.time, dt.time]]] = {}
    for date, from_time, to_time, is_working in exceptions:
        if is_working and from_time is not None and to_time is not None:
            by_date_on.setdefault(date, []).append((from_time, to_time))
        elif not is_working:
            by_date_off.setdefault(date, []).append((from_time, to_time))

    def minutes(day: dt.date, time: dt.time, *, next_day: bool = False) -> int:
        moment = dt.datetime.combine(day + dt.timedelta(days=1 if next_day else 0), time, tzinfo=zone)
        return int((moment - origin).total_seconds() // 60)

    def spans(day: dt.date, windows: Iterable[tuple[dt.time, dt.time]]) -> list[tuple[int, int]]:
        out = []
        for start, end in windows:
            out.append((minutes(day, start), minutes(day, end, next_day=end <= start)))
        return out

    working: list[tuple[int, int]] = []
    removed: list[tuple[int, int]] = list(blocked)
    for offset in range(days + 2):
        day = first_day + dt.timedelta(days=offset)
        working.extend(spans(day, weekly.get(day.weekday(), [])))
        working.extend(spans(day, by_date_on.get(day, [])))
        for from_time, to_time in by_date_off.get(day, []):
            if from_time is None or to_time is None:
                removed.append((minutes(day, dt.time(0)), minutes(day, dt.time(0), next_day=True)))
            else:
                removed.extend(spans(day, [(from_time, to_time)]))
    horizon = days * 24 * 60
    merged = _subtract(_merge(working), _merge(removed))
    starts: list[int] = []
    ends: list[int] = []
    for span_start, span_end in merged:
        lo, hi = max(span_start, 0), min(span_end, horizon)
        if hi > lo:
            starts.append(lo)
            ends.append(hi)
    return Calendar(starts, ends)


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(a, b) for a, b in out]


def _subtract(base: list[tuple[int, int]], cuts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out = []
    j = 0
    for start, end in base:
        cur = start
        while j < len(cuts) and cuts[j][1] <= cur:
            j += 1
        k = j
        while k < len(cuts) and cuts[k][0] < end:
            if cuts[k][0] > cur:
                out.append((cur, cuts[k][0]))
            cur = max(cur, cuts[k][1])
            k += 1
        if cur < end:
            out.append((cur, end))
    return out


def union(calendars: Iterable[Calendar]) -> Calendar:
    intervals = [(s, e) for cal in calendars for s, e in zip(cal.starts, cal.ends, strict=True)]
    merged = _merge(intervals)
    return Calendar([s for s, _ in merged], [e for _, e in merged])
