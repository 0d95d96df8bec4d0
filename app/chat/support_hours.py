"""Parse the SUPPORT_HOURS setting and tell whether a person can answer at a given instant.

An engine: text in, frozen dataclasses out; no Flask, no database. Grammar (case-insensitive days):

    spec   := "" | range (";" range)*
    range  := DAYS " " HH:MM "-" HH:MM " " ZONE        e.g. "Mon-Fri 09:00-18:00 Europe/Berlin"
    DAYS   := item ("," item)*      item := DAY | DAY "-" DAY  (a range may wrap: "Fri-Mon")
    DAY    := Mon | Tue | Wed | Thu | Fri | Sat | Sun
    ZONE   := an IANA name (Europe/Berlin, America/New_York, UTC)

An empty spec means always open. Times run from 00:00 to 24:00, the start inclusive, the end
exclusive. An end earlier than the start runs overnight: "Fri 22:00-06:00" is Friday 22:00 to
Saturday 06:00 — the days name the day a range starts. Every range is compared on the wall clock of
its own zone, so it holds across daylight-saving changes; ranges may use different zones.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_DAY_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Range:
    """One range: the weekdays it starts on (0 = Monday), its start and end second of the day, its zone."""

    days: frozenset[int]
    days_label: str
    start: int
    end: int
    zone: ZoneInfo

    def contains(self, now: datetime) -> bool:
        """Say whether the instant falls in this range, read on the wall clock of the range's zone."""
        local = now.astimezone(self.zone)
        second = local.hour * 3600 + local.minute * 60 + local.second
        if self.start < self.end:
            return local.weekday() in self.days and self.start <= second < self.end
        # Overnight: the evening part belongs to today, the morning part to the day before.
        yesterday = (local.weekday() - 1) % 7
        return ((local.weekday() in self.days and second >= self.start)
                or (yesterday in self.days and second < self.end))

    def hours_label(self) -> str:
        return f"{self.days_label} {_clock(self.start)}–{_clock(self.end)}"


@dataclass(frozen=True)
class SupportHours:
    """The parsed setting: no ranges means always open."""

    ranges: tuple[Range, ...] = ()

    @property
    def always(self) -> bool:
        return not self.ranges

    def is_open(self, now: datetime) -> bool:
        """Say whether a person can answer at this timezone-aware instant.

        A naive datetime is refused: reading it as server-local time would silently shift the hours.
        """
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("is_open needs a timezone-aware datetime")
        return self.always or any(r.contains(now) for r in self.ranges)

    def describe(self) -> str:
        """Return a short line for the widget: "Mon–Fri 09:00–18:00 (Europe/Berlin)", or "" if always."""
        groups = groupby(self.ranges, key=lambda r: r.zone.key)
        return "; ".join(f"{', '.join(r.hours_label() for r in group)} ({zone})" for zone, group in groups)


def parse(spec: str) -> SupportHours:
    """Parse a SUPPORT_HOURS value; raise ValueError naming the first thing that is wrong."""
    if not spec.strip():
        return SupportHours()
    return SupportHours(tuple(_parse_range(part) for part in spec.split(";")))


def _parse_range(text: str) -> Range:
    fields = text.split()
    if not fields:
        raise ValueError("empty range: remove the extra ';'")
    if len(fields) != 3:
        raise ValueError(f"range '{text.strip()}' must read DAYS HH:MM-HH:MM ZONE, "
                         "e.g. 'Mon-Fri 09:00-18:00 Europe/Berlin'")
    days, label = _parse_days(fields[0])
    start, end = _parse_times(fields[1])
    return Range(days, label, start, end, _parse_zone(fields[2]))


def _parse_days(text: str) -> tuple[frozenset[int], str]:
    """Return the weekdays a DAYS field names and its label with en dashes ("Mon–Fri, Sun")."""
    days: set[int] = set()
    labels = []
    for item in text.split(","):
        bounds = [_day(name) for name in item.split("-")]
        if len(bounds) > 2:
            raise ValueError(f"day range '{item}' must read DAY-DAY, e.g. 'Mon-Fri'")
        first, last = bounds[0], bounds[-1]
        days.update((first + step) % 7 for step in range((last - first) % 7 + 1))
        labels.append("–".join(DAYS[day].title() for day in bounds))
    return frozenset(days), ", ".join(labels)


def _day(name: str) -> int:
    if not name:
        raise ValueError("empty day in a day list: write e.g. 'Mon,Wed' or 'Mon-Fri'")
    try:
        return DAYS.index(name.lower())
    except ValueError:
        raise ValueError(f"unknown day '{name}' (days are Mon Tue Wed Thu Fri Sat Sun)") from None


def _parse_times(text: str) -> tuple[int, int]:
    """Return start and end as seconds of the day; 24:00 may only end a range."""
    parts = text.split("-")
    if len(parts) != 2:
        raise ValueError(f"times must be HH:MM-HH:MM, got '{text}'")
    start, end = (_seconds(part) for part in parts)
    if start == _DAY_SECONDS:
        raise ValueError(f"a range cannot start at 24:00, got '{text}'")
    if start == end:
        raise ValueError(f"end time must differ from start time, got '{text}'")
    return start, end


def _seconds(text: str) -> int:
    match = _TIME.fullmatch(text)
    if not match:
        raise ValueError(f"times must be HH:MM, got '{text}'")
    value = int(match[1]) * 3600 + int(match[2]) * 60
    if int(match[2]) > 59 or value > _DAY_SECONDS:
        raise ValueError(f"time '{text}' is not between 00:00 and 24:00")
    return value


def _parse_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    # Not found is a KeyError; malformed keys a ValueError; a folder such as "Europe" an OSError.
    except (KeyError, ValueError, OSError):
        raise ValueError(f"unknown time zone '{name}' (use an IANA name such as Europe/Berlin)") from None


def _clock(second: int) -> str:
    return f"{second // 3600:02d}:{second // 60 % 60:02d}"
