"""The SLA clock, as a specification: real dates in Asia/Amman, naive UTC in and out."""
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from routing import sla
from routing.sla import (
    Breach,
    BusinessHours,
    DatedOverride,
    DueTimes,
    Interval,
    SlaPolicy,
    Timeline,
    add_business_time,
    always_open,
    breaches,
    business_time_between,
    due_times,
    is_open,
)

AMMAN = ZoneInfo("Asia/Amman")
HOUR = timedelta(hours=1)
OFFICE = BusinessHours()  # Sunday-Thursday 08:00-20:00, Asia/Amman
RAMADAN = {"name": "Ramadan", "first_day": "2026-02-19", "last_day": "2026-03-19",
           "weekly": {day: [["09:00", "15:00"]] for day in ("sunday", "monday", "tuesday", "wednesday", "thursday")}}
WEEKDAY = {name: number for number, name in enumerate(sla.WEEKDAYS)}
NORMAL = SlaPolicy("Normal", 3, first_response=HOUR, next_response=2 * HOUR, resolution=24 * HOUR)


def amman(text: str, zone: ZoneInfo = AMMAN) -> datetime:
    """Wall-clock time in Amman (or ``zone``) → the naive UTC the app stores."""
    return datetime.fromisoformat(text).replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def local(moment: datetime) -> str:
    return moment.replace(tzinfo=UTC).astimezone(AMMAN).strftime("%a %Y-%m-%d %H:%M")


# ---- business hours ------------------------------------------------------------------------

def test_default_hours_are_sunday_to_thursday_eight_to_eight():
    assert is_open(OFFICE, amman("2026-05-21 19:59"))  # Thursday
    assert not is_open(OFFICE, amman("2026-05-21 20:00"))
    assert not is_open(OFFICE, amman("2026-05-22 12:00"))  # Friday
    assert not is_open(OFFICE, amman("2026-05-23 12:00"))  # Saturday
    assert not is_open(OFFICE, amman("2026-05-24 07:59"))
    assert is_open(OFFICE, amman("2026-05-24 08:00"))  # Sunday


def test_thursday_evening_message_is_due_sunday_morning():
    assert local(add_business_time(OFFICE, amman("2026-05-21 19:30"), HOUR)) == "Sun 2026-05-24 08:30"


def test_due_at_closing_time_stays_on_that_day():
    assert local(add_business_time(OFFICE, amman("2026-05-21 19:00"), HOUR)) == "Thu 2026-05-21 20:00"


@pytest.mark.parametrize(("start", "due"), [
    ("2026-05-22 23:00", "Sun 2026-05-24 09:00"),  # Friday night: the clock starts at the next opening
    ("2026-05-24 06:00", "Sun 2026-05-24 09:00"),  # before opening
    ("2026-05-20 22:00", "Thu 2026-05-21 09:00"),  # after closing
])
def test_clock_started_while_closed_starts_at_next_opening(start, due):
    assert local(add_business_time(OFFICE, amman(start), HOUR)) == due


def test_independence_day_is_closed():
    hours = BusinessHours.from_dict({"holidays": ["2026-05-25"]})
    assert not is_open(hours, amman("2026-05-25 12:00"))  # Monday
    assert local(add_business_time(hours, amman("2026-05-24 19:30"), HOUR)) == "Tue 2026-05-26 08:30"
    assert local(add_business_time(OFFICE, amman("2026-05-24 19:30"), HOUR)) == "Mon 2026-05-25 08:30"


def test_ramadan_hours_override_the_week():
    hours = BusinessHours.from_dict({"overrides": [RAMADAN]})
    assert hours.hours_on(date(2026, 3, 1)) == (Interval.parse("09:00", "15:00"),)
    assert not is_open(hours, amman("2026-03-01 16:00"))  # Sunday in Ramadan
    assert local(add_business_time(hours, amman("2026-03-01 14:30"), HOUR)) == "Mon 2026-03-02 09:30"
    # Weekdays the override leaves out keep their regular hours: Friday stays closed...
    assert not is_open(hours, amman("2026-03-06 10:00"))
    # ...and after the last day the regular week is back.
    assert is_open(hours, amman("2026-03-22 19:00"))


def test_narrower_override_wins_and_a_holiday_wins_over_both():
    eid_eve = {"name": "Eid eve", "first_day": "2026-03-19", "daily": [["09:00", "12:00"]]}
    hours = BusinessHours.from_dict({"overrides": [RAMADAN, eid_eve]})
    assert hours.hours_on(date(2026, 3, 19)) == (Interval.parse("09:00", "12:00"),)
    assert hours.hours_on(date(2026, 3, 18)) == (Interval.parse("09:00", "15:00"),)
    closed = BusinessHours.from_dict({"overrides": [RAMADAN, eid_eve], "holidays": ["2026-03-19"]})
    assert closed.hours_on(date(2026, 3, 19)) == ()


def test_split_shift_and_a_whole_day_until_midnight():
    hours = BusinessHours.from_dict({"weekly": {
        "sunday": [["13:00", "17:00"], ["08:00", "12:00"]],
        "monday": [["00:00", "24:00"]],
    }})
    assert not is_open(hours, amman("2026-05-24 12:30"))
    assert local(add_business_time(hours, amman("2026-05-24 11:30"), HOUR)) == "Sun 2026-05-24 13:30"
    assert business_time_between(hours, amman("2026-05-24 00:00"), amman("2026-05-26 00:00")) == 32 * HOUR


def test_business_time_between_counts_only_open_time():
    week = business_time_between(OFFICE, amman("2026-05-24 08:00"), amman("2026-05-31 08:00"))
    assert week == 60 * HOUR
    assert business_time_between(OFFICE, amman("2026-05-21 19:30"), amman("2026-05-24 08:30")) == HOUR
    assert business_time_between(OFFICE, amman("2026-05-22 10:00"), amman("2026-05-22 11:00")) == timedelta(0)
    with pytest.raises(ValueError, match="end"):
        business_time_between(OFFICE, amman("2026-05-24 10:00"), amman("2026-05-24 09:00"))


def test_jordan_summer_time_of_2021_is_respected():
    # Jordan moved to UTC+3 at midnight on Thursday 2021-03-25: 08:30 on Sunday is 05:30 UTC.
    start = amman("2021-03-25 19:30")
    assert start == datetime(2021, 3, 25, 17, 30)
    due = add_business_time(OFFICE, start, HOUR)
    assert due == datetime(2021, 3, 28, 5, 30)
    assert local(due) == "Sun 2021-03-28 08:30"


@pytest.mark.parametrize(("day", "length"), [("2026-03-29", 23 * HOUR), ("2026-10-25", 25 * HOUR)])
def test_a_whole_day_lasts_as_long_as_the_clocks_say(day, length):
    london = ZoneInfo("Europe/London")
    hours = BusinessHours.from_dict({"timezone": "Europe/London",
                                     "weekly": {name: [["00:00", "24:00"]] for name in sla.WEEKDAYS}})
    midnight = amman(f"{day} 00:00", london)
    assert business_time_between(hours, midnight, midnight + 30 * HOUR) == 30 * HOUR
    next_midnight = amman(f"{date.fromisoformat(day) + timedelta(days=1)} 00:00", london)
    assert business_time_between(hours, midnight, next_midnight) == length


def test_long_targets_step_a_day_at_a_time(monkeypatch):
    looked_up = []
    hours_on = BusinessHours.hours_on
    monkeypatch.setattr(BusinessHours, "hours_on", lambda self, day: looked_up.append(day) or hours_on(self, day))
    # 720 business hours is twelve 60-hour weeks: 82 calendar days.
    due = add_business_time(OFFICE, amman("2026-01-04 08:00"), 720 * HOUR)
    assert local(due) == "Thu 2026-03-26 20:00"
    assert len(looked_up) <= 83
    assert add_business_time(always_open(), datetime(2026, 1, 1), timedelta(days=365)) == datetime(2027, 1, 1)


def test_a_calendar_closed_for_years_is_an_error_not_a_hang():
    closed = BusinessHours.from_dict({"overrides": [
        {"name": "Closed", "first_day": "2026-01-01", "last_day": "2028-12-31", "daily": []}]})
    with pytest.raises(ValueError, match="^business hours: closed every day from 2026-01-01 on"):
        add_business_time(closed, amman("2026-01-01 09:00"), HOUR)


def test_always_open_never_closes():
    hours = always_open()
    assert all(is_open(hours, amman("2026-05-22 03:00") + n * HOUR) for n in range(0, 7 * 24, 5))
    assert local(add_business_time(hours, amman("2026-05-22 23:00"), 4 * HOUR)) == "Sat 2026-05-23 03:00"


def test_aware_datetimes_are_read_as_the_instant_they_name():
    aware = datetime(2026, 5, 21, 19, 30, tzinfo=AMMAN)
    assert add_business_time(OFFICE, aware, HOUR) == add_business_time(OFFICE, amman("2026-05-21 19:30"), HOUR)
    assert add_business_time(OFFICE, aware, HOUR).tzinfo is None


# ---- the clock -----------------------------------------------------------------------------

def test_due_times_of_a_new_conversation():
    due = due_times(NORMAL, OFFICE, Timeline(opened_at=amman("2026-05-21 19:30")))
    assert local(due.first_response_due) == "Sun 2026-05-24 08:30"
    assert local(due.resolution_due) == "Mon 2026-05-25 19:30"  # 30 min + 12 h + 11.5 h
    assert due.next_response_due is None  # no first response yet


def test_time_waiting_on_the_customer_is_added_back():
    opened = amman("2026-05-24 09:00")
    policy = SlaPolicy("Resolve today", 3, resolution=8 * HOUR)
    assert local(due_times(policy, OFFICE, Timeline(opened)).resolution_due) == "Sun 2026-05-24 17:00"
    pending = Timeline(opened, pauses=((amman("2026-05-24 10:00"), amman("2026-05-24 12:00")),))
    assert local(due_times(policy, OFFICE, pending).resolution_due) == "Sun 2026-05-24 19:00"
    # Paused overnight: only the open hours inside the pause (19:00-20:00, 08:00-09:00) count.
    overnight = Timeline(opened, pauses=((amman("2026-05-24 15:00"), amman("2026-05-25 09:00")),))
    assert local(due_times(policy, OFFICE, overnight).resolution_due) == "Mon 2026-05-25 11:00"


def test_still_pending_conversation_has_no_due_time_and_no_breach():
    timeline = Timeline(amman("2026-05-24 09:00"), first_response_at=amman("2026-05-24 09:10"),
                        pauses=((amman("2026-05-24 10:00"), None),))
    assert due_times(NORMAL, OFFICE, timeline).resolution_due is None
    assert breaches(NORMAL, OFFICE, timeline, now=amman("2026-06-30 12:00")) == []


def test_pause_after_the_due_time_changes_nothing():
    timeline = Timeline(amman("2026-05-24 09:00"), pauses=((amman("2026-05-24 11:00"), None),))
    assert local(due_times(NORMAL, OFFICE, timeline).first_response_due) == "Sun 2026-05-24 10:00"


def test_next_response_runs_from_the_oldest_unanswered_message():
    timeline = Timeline(amman("2026-05-24 09:00"), first_response_at=amman("2026-05-24 09:10"),
                        customer_waiting_since=amman("2026-05-24 10:00"),
                        last_agent_reply_at=amman("2026-05-24 09:10"))
    assert local(due_times(NORMAL, OFFICE, timeline).next_response_due) == "Sun 2026-05-24 12:00"
    answered = Timeline(amman("2026-05-24 09:00"), first_response_at=amman("2026-05-24 09:10"))
    assert due_times(NORMAL, OFFICE, answered).next_response_due is None
    # Messages before the first response are the first response's business.
    before_first = Timeline(amman("2026-05-24 09:00"), first_response_at=amman("2026-05-24 09:10"),
                            customer_waiting_since=amman("2026-05-24 09:00"))
    assert due_times(NORMAL, OFFICE, before_first).next_response_due is None


def test_urgent_policy_runs_around_the_clock():
    urgent = SlaPolicy("Urgent", 1, first_response=timedelta(minutes=30), business_hours=False)
    due = due_times(urgent, OFFICE, Timeline(amman("2026-05-22 23:00")))  # Friday night
    assert due == DueTimes(first_response_due=amman("2026-05-22 23:30"))


def test_breaches_name_the_target_and_how_late():
    opened = amman("2026-05-21 19:30")
    sunday_0830 = amman("2026-05-24 08:30")
    assert breaches(NORMAL, OFFICE, Timeline(opened), now=amman("2026-05-24 08:29")) == []
    assert breaches(NORMAL, OFFICE, Timeline(opened), now=amman("2026-05-24 09:00")) == [
        Breach("first_response", opened, sunday_0830, timedelta(minutes=30), met_at=None)]
    late = Timeline(opened, first_response_at=amman("2026-05-24 08:45"))
    assert breaches(NORMAL, OFFICE, late, now=amman("2026-05-24 12:00")) == [
        Breach("first_response", opened, sunday_0830, timedelta(minutes=15), met_at=amman("2026-05-24 08:45"))]
    on_time = Timeline(opened, first_response_at=amman("2026-05-24 08:15"))
    assert breaches(NORMAL, OFFICE, on_time, now=amman("2026-05-24 12:00")) == []


def test_each_unanswered_exchange_breaches_on_its_own():
    waiting = amman("2026-05-24 10:00")
    timeline = Timeline(amman("2026-05-24 09:00"), first_response_at=amman("2026-05-24 09:10"),
                        customer_waiting_since=waiting, last_agent_reply_at=amman("2026-05-24 09:10"))
    [breach] = breaches(NORMAL, OFFICE, timeline, now=amman("2026-05-24 12:30"))
    assert (breach.target, breach.started_at, breach.overdue) == ("next_response", waiting, timedelta(minutes=30))
    replied = replace(timeline, last_agent_reply_at=amman("2026-05-24 11:00"))
    assert breaches(NORMAL, OFFICE, replied, now=amman("2026-05-24 12:30")) == []


def test_resolving_without_a_reply_meets_the_response_target():
    timeline = Timeline(amman("2026-05-24 09:00"), resolved_at=amman("2026-05-24 09:20"))
    assert breaches(NORMAL, OFFICE, timeline, now=amman("2026-06-01 09:00")) == []


def test_reopened_conversation_restarts_resolution_but_not_first_response():
    timeline = Timeline(amman("2026-05-26 09:00"), first_response_at=amman("2026-05-24 09:10"),
                        customer_waiting_since=amman("2026-05-26 09:00"))
    due = due_times(NORMAL, OFFICE, timeline)
    assert due.first_response_due is None
    assert local(due.next_response_due) == "Tue 2026-05-26 11:00"
    assert local(due.resolution_due) == "Thu 2026-05-28 09:00"  # 11 h + 12 h + 1 h


# ---- configuration -------------------------------------------------------------------------

@pytest.mark.parametrize(("data", "message"), [
    ({"weekly": {"sunday": [["20:00", "08:00"]]}},
     "weekly: sunday: interval 1: end 08:00 is not after start 20:00"),
    ({"weekly": {"funday": [["08:00", "20:00"]]}}, "weekly: unknown weekday 'funday'"),
    ({"weekly": {"sunday": [["08:00", "25:00"]]}}, "weekly: sunday: interval 1: end: '25:00' is not a time"),
    ({"weekly": {"sunday": [["08:00", "12:00"], ["11:00", "14:00"]]}}, "weekly: sunday: 08:00-12:00 and 11:00-14:00"),
    ({"weekly": {"sunday": ["08:00"]}}, r"weekly: sunday: interval 1: expected \[start, end\]"),
    ({"weekly": {}}, "weekly: open on no day at all"),
    ({"timezone": "Asia/Zarqa"}, "timezone: unknown time zone 'Asia/Zarqa'"),
    ({"holidays": ["2026-13-01"]}, "holidays: '2026-13-01' is not a date"),
    ({"holiday": ["2026-05-25"]}, "unknown field 'holiday'"),
    ({"overrides": [{**RAMADAN, "last_day": "2026-02-01"}]},
     "override 1 \\(Ramadan\\): last_day: 2026-02-01 is before first_day 2026-02-19"),
    ({"overrides": [{**RAMADAN, "daily": []}]}, r"override 1 \(Ramadan\): give either weekly or daily"),
    ({"overrides": [{"first_day": "2026-03-19", "daily": []}]}, "override 1: name: missing"),
])
def test_invalid_business_hours_name_the_bad_field(data, message):
    with pytest.raises(ValueError, match=f"^{message}"):
        BusinessHours.from_dict(data)


@pytest.mark.parametrize(("data", "message"), [
    ({"name": "Low", "priority": 4, "first_response_minutes": -5}, "first_response_minutes: -5 is not a positive"),
    ({"name": "Low", "priority": 4, "resolution_minutes": "60"}, "resolution_minutes: '60' is not a positive"),
    ({"name": "Low", "priority": 5}, r"priority: 5 is not 1 \(urgent\) to 4 \(low\)"),
    ({"name": " ", "priority": 4}, "name: must not be empty"),
    ({"priority": 4}, "name: missing"),
    ({"name": "Low", "priority": 4, "business_hours": "yes"}, "business_hours: 'yes' is not true or false"),
])
def test_invalid_policies_name_the_bad_field(data, message):
    with pytest.raises(ValueError, match=f"^{message}"):
        SlaPolicy.from_dict(data)


def test_constructors_validate_too():
    with pytest.raises(ValueError, match="^next_response: must be a positive"):
        SlaPolicy("Low", 4, next_response=timedelta(minutes=-1))
    with pytest.raises(ValueError, match="^end 02:00 is not after start 22:00 .*split them at 24:00"):
        Interval.parse("22:00", "02:00")
    with pytest.raises(ValueError, match="^weekly: every day needs a list of hours"):
        BusinessHours(weekly=(None,) * 7)
    with pytest.raises(ValueError, match="^pauses: 1: ends before it starts"):
        Timeline(datetime(2026, 5, 24, 6), pauses=((datetime(2026, 5, 24, 8), datetime(2026, 5, 24, 7)),))
    with pytest.raises(ValueError, match="^amount: must not be negative"):
        add_business_time(OFFICE, datetime(2026, 5, 24, 6), -HOUR)


def test_business_hours_round_trip_through_json():
    data = {
        "timezone": "Asia/Amman",
        "weekly": {"monday": [["08:00", "12:00"], ["13:00", "20:00"]], "sunday": [["08:00", "24:00"]]},
        "holidays": ["2026-05-01", "2026-05-25"],
        "overrides": [RAMADAN, {"name": "Eid eve", "first_day": "2026-03-19", "last_day": "2026-03-19",
                                "daily": [["09:00", "12:00"]]}],
    }
    hours = BusinessHours.from_dict(data)
    assert hours.to_dict() == data
    assert BusinessHours.from_dict(hours.to_dict()) == hours
    assert BusinessHours.from_dict({}) == OFFICE
    assert OFFICE.to_dict()["weekly"] == {day: [["08:00", "20:00"]]
                                          for day in ("monday", "tuesday", "wednesday", "thursday", "sunday")}


def test_override_round_trip_keeps_inherited_and_closed_days_apart():
    override = DatedOverride.from_dict({"name": "Ramadan", "first_day": "2026-02-19", "last_day": "2026-03-19",
                                        "weekly": {"sunday": [["09:00", "15:00"]], "friday": []}})
    assert override.weekly[WEEKDAY["friday"]] == () and override.weekly[WEEKDAY["saturday"]] is None
    assert DatedOverride.from_dict(override.to_dict()) == override


def test_policy_round_trip_through_json():
    data = {"name": "Urgent", "priority": 1, "first_response_minutes": 30, "next_response_minutes": 60,
            "resolution_minutes": None, "business_hours": False}
    policy = SlaPolicy.from_dict(data)
    assert policy == SlaPolicy("Urgent", 1, timedelta(minutes=30), timedelta(hours=1), None, business_hours=False)
    assert policy.to_dict() == data
    assert SlaPolicy.from_dict({"name": "Low", "priority": 4}).business_hours is True

