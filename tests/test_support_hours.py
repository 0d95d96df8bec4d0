"""SUPPORT_HOURS: which instants are open, across zones and daylight-saving changes; bad specs refused."""
from __future__ import annotations

import zoneinfo
from datetime import datetime, timezone

import pytest

from app.chat.support_hours import parse

BERLIN_WEEKDAYS = "Mon-Fri 09:00-18:00 Europe/Berlin"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


# (spec, UTC instant, open?) — instants sit just inside or just outside a boundary.
CASES = [
    # Europe/Berlin around the spring change (Sun 29 March 2026): 09:00 is 08:00Z before, 07:00Z after.
    (BERLIN_WEEKDAYS, "2026-03-27 07:59:59", False),   # Fri before: 08:59:59 CET
    (BERLIN_WEEKDAYS, "2026-03-27 08:00:00", True),    # Fri before: 09:00 CET
    (BERLIN_WEEKDAYS, "2026-03-27 16:59:59", True),    # 17:59:59 CET
    (BERLIN_WEEKDAYS, "2026-03-27 17:00:00", False),   # 18:00 CET
    (BERLIN_WEEKDAYS, "2026-03-30 06:59:59", False),   # Mon after: 08:59:59 CEST
    (BERLIN_WEEKDAYS, "2026-03-30 07:00:00", True),    # 09:00 CEST
    (BERLIN_WEEKDAYS, "2026-03-30 15:59:59", True),    # 17:59:59 CEST
    (BERLIN_WEEKDAYS, "2026-03-30 16:00:00", False),   # 18:00 CEST
    # ...and around the autumn change (Sun 25 October 2026): back to 08:00Z.
    (BERLIN_WEEKDAYS, "2026-10-23 07:00:00", True),    # Fri before: 09:00 CEST
    (BERLIN_WEEKDAYS, "2026-10-26 07:00:00", False),   # Mon after: 08:00 CET
    (BERLIN_WEEKDAYS, "2026-10-26 08:00:00", True),    # 09:00 CET
    # The weekend is closed all day.
    (BERLIN_WEEKDAYS, "2026-06-06 10:00:00", False),   # Sat noon
    (BERLIN_WEEKDAYS, "2026-06-07 10:00:00", False),   # Sun noon
    (BERLIN_WEEKDAYS, "2026-06-05 21:59:59", False),   # Fri 23:59:59 CEST
    # One instant, two zones: Mon 1 June 2026.
    ("Mon-Fri 09:00-18:00 UTC", "2026-06-01 16:30:00", True),
    (BERLIN_WEEKDAYS, "2026-06-01 16:30:00", False),   # 18:30 CEST
    ("Mon-Fri 09:00-18:00 UTC", "2026-06-01 07:30:00", False),
    (BERLIN_WEEKDAYS, "2026-06-01 07:30:00", True),    # 09:30 CEST
    # The weekday is read in the range's zone, not in UTC.
    ("Mon-Fri 09:00-17:00 America/New_York", "2026-06-05 20:59:59", True),    # Fri 16:59:59 EDT
    ("Mon-Fri 09:00-17:00 America/New_York", "2026-06-06 00:30:00", False),   # Sat 00:30Z = Fri 20:30
    ("Mon 00:00-24:00 Asia/Tokyo", "2026-05-31 15:00:00", True),              # Sun Z = Mon 00:00 JST
    ("Mon 00:00-24:00 Asia/Tokyo", "2026-05-31 14:59:59", False),
    ("Mon 00:00-24:00 UTC", "2026-06-01 23:59:59", True),
    ("Mon 00:00-24:00 UTC", "2026-06-02 00:00:00", False),
    # Several ranges, zones mixed.
    ("Mon-Fri 09:00-18:00 Europe/Berlin; Sat 10:00-14:00 Europe/Berlin", "2026-06-06 08:00:00", True),
    ("Mon-Fri 09:00-18:00 Europe/Berlin; Sat 10:00-14:00 Europe/Berlin", "2026-06-06 12:00:00", False),
    ("Mon-Fri 09:00-17:00 Europe/Berlin; Mon-Fri 09:00-17:00 America/New_York", "2026-06-01 18:00:00", True),
    ("Mon-Fri 09:00-17:00 Europe/Berlin; Mon-Fri 09:00-17:00 America/New_York", "2026-06-01 22:00:00", False),
    # Day lists, wrapping ranges, any case.
    ("Fri-Mon 10:00-12:00 UTC", "2026-06-07 11:00:00", True),       # Sun
    ("Fri-Mon 10:00-12:00 UTC", "2026-06-03 11:00:00", False),      # Wed
    ("mon,WED,fri-sat 10:00-12:00 UTC", "2026-06-03 11:00:00", True),
    ("mon,WED,fri-sat 10:00-12:00 UTC", "2026-06-06 11:00:00", True),
    ("mon,WED,fri-sat 10:00-12:00 UTC", "2026-06-02 11:00:00", False),
    # Overnight: the days name the day the range starts.
    ("Fri 22:00-06:00 UTC", "2026-06-05 21:59:59", False),
    ("Fri 22:00-06:00 UTC", "2026-06-05 23:00:00", True),
    ("Fri 22:00-06:00 UTC", "2026-06-06 05:59:59", True),           # Sat morning
    ("Fri 22:00-06:00 UTC", "2026-06-06 06:00:00", False),
    ("Fri 22:00-06:00 UTC", "2026-06-06 23:00:00", False),          # Sat night
    ("Sun 22:00-02:00 UTC", "2026-06-08 01:00:00", True),           # Mon morning, across the week's end
]


@pytest.mark.parametrize("spec,instant,expected", CASES)
def test_open_just_inside_and_closed_just_outside(spec, instant, expected):
    assert parse(spec).is_open(utc(instant)) is expected


def test_an_instant_in_another_offset_is_compared_as_the_same_moment():
    berlin_morning = datetime(2026, 6, 1, 9, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin"))
    assert parse(BERLIN_WEEKDAYS).is_open(berlin_morning)
    assert not parse("Mon-Fri 09:00-18:00 UTC").is_open(berlin_morning)   # 07:00Z


@pytest.mark.parametrize("spec", ["", "   ", "\n"])
def test_empty_means_always_open(spec):
    hours = parse(spec)
    assert hours.always and hours.describe() == ""
    assert hours.is_open(utc("2026-06-06 03:00:00"))


def test_a_naive_instant_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        parse(BERLIN_WEEKDAYS).is_open(datetime(2026, 6, 1, 12, 0))


@pytest.mark.parametrize("spec,description", [
    (BERLIN_WEEKDAYS, "Mon–Fri 09:00–18:00 (Europe/Berlin)"),
    ("mon,wed,FRI-sun 9:00-24:00 UTC", "Mon, Wed, Fri–Sun 09:00–24:00 (UTC)"),
    ("Mon-Fri 09:00-18:00 Europe/Berlin; Sat 10:00-14:00 Europe/Berlin",
     "Mon–Fri 09:00–18:00, Sat 10:00–14:00 (Europe/Berlin)"),
    ("Mon-Fri 09:00-17:00 Europe/Berlin;Mon-Fri 09:00-17:00 America/New_York",
     "Mon–Fri 09:00–17:00 (Europe/Berlin); Mon–Fri 09:00–17:00 (America/New_York)"),
    ("Fri 22:00-06:00 UTC", "Fri 22:00–06:00 (UTC)"),
])
def test_describe_reads_as_a_short_line(spec, description):
    assert parse(spec).describe() == description


@pytest.mark.parametrize("spec,problem", [
    ("Mnday 09:00-18:00 UTC", "unknown day 'Mnday'"),
    ("Monday 09:00-18:00 UTC", "unknown day 'Monday'"),
    ("Mon-Fri 09:00-18:00 Europe/Berln", "unknown time zone 'Europe/Berln'"),
    ("Mon-Fri 09:00-18:00 Europe", "unknown time zone 'Europe'"),
    ("Mon-Fri 09:00-18:00 ../etc/passwd", "unknown time zone '../etc/passwd'"),
    ("Mon-Fri 09:00-18:00 UTC; Sat 10:00-14:00 Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
    ("Mon-Fri 9h-18h UTC", "times must be HH:MM"),
    ("Mon-Fri 09:00 UTC", "times must be HH:MM-HH:MM"),
    ("Mon-Fri 09:00-18:00-20:00 UTC", "times must be HH:MM-HH:MM"),
    ("Mon-Fri 09:00-25:00 UTC", "time '25:00' is not between 00:00 and 24:00"),
    ("Mon-Fri 09:60-18:00 UTC", "time '09:60' is not between 00:00 and 24:00"),
    ("Mon 24:00-06:00 UTC", "cannot start at 24:00"),
    ("Mon-Fri 18:00-18:00 UTC", "end time must differ from start time"),
    ("Mon-Fri 09:00-18:00", "must read DAYS HH:MM-HH:MM ZONE"),
    ("Mon - Fri 09:00-18:00 UTC", "must read DAYS HH:MM-HH:MM ZONE"),
    ("Mon-Wed-Fri 09:00-18:00 UTC", "day range 'Mon-Wed-Fri' must read DAY-DAY"),
    ("Mon,,Fri 09:00-18:00 UTC", "empty day"),
    ("Mon- 09:00-18:00 UTC", "empty day"),
    ("Mon-Fri 09:00-18:00 UTC;", "empty range"),
])
def test_invalid_spec_names_the_problem(spec, problem):
    with pytest.raises(ValueError) as raised:
        parse(spec)
    assert problem in str(raised.value)


@pytest.fixture
def without_system_zones():
    """Look zones up in the tzdata package only, as on a machine without /usr/share/zoneinfo."""
    zoneinfo.reset_tzpath(to=[])
    zoneinfo.ZoneInfo.clear_cache()
    yield
    zoneinfo.reset_tzpath()
    zoneinfo.ZoneInfo.clear_cache()


def test_zones_come_from_tzdata_when_the_system_has_none(without_system_zones):
    assert zoneinfo.TZPATH == ()
    hours = parse("Mon-Fri 09:00-18:00 Europe/Berlin; Mon-Fri 09:00-17:00 America/New_York")
    assert hours.is_open(utc("2026-03-30 07:00:00"))       # 09:00 CEST, the day after the change
    assert not hours.is_open(utc("2026-03-30 06:59:59"))
