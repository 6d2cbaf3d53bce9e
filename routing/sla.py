"""The SLA clock: business hours, policies and the due times they give a conversation.

Plain data in, plain data out: inbox/services loads a policy, the business hours and the
conversation's timeline, and recomputes after any change (``due_times``, ``breaches``).

* Every datetime in and out is **naive UTC**, as the app stores them; an aware one is converted.
* Business hours are wall-clock intervals in their own time zone, turned into UTC one local day
  at a time. So DST, holidays and overrides all reduce to "which hours apply on this local date?"
  (``BusinessHours.hours_on``), and a long target costs one step per calendar day, never per minute.
* An interval never crosses midnight: "22:00"–"24:00" on one day and "00:00"–"02:00" on the next
  say the same thing without ambiguity about which weekday, holiday or override owns the night.
* Config classes validate on construction and come from, and go back to, the JSON an admin saves
  (``from_dict``/``to_dict``); a bad value raises ``ValueError`` naming the field.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")  # date.weekday()
PRIORITIES = {1: "urgent", 2: "high", 3: "normal", 4: "low"}
TARGETS = ("first_response", "next_response", "resolution")
_DAY_MINUTES = 24 * 60
_MINUTE = timedelta(minutes=1)
_ONE_DAY = timedelta(days=1)
_HHMM = re.compile(r"(\d\d):(\d\d)")
# A calendar closed for longer than this is a mistake in the config; stop instead of looping on.
_MAX_CLOSED_DAYS = 400


@contextmanager
def _field(name: str) -> Iterator[None]:
    try:
        yield
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None


def _check_keys(data: object, allowed: Iterable[str]) -> None:
    if not isinstance(data, Mapping):
        raise ValueError("expected an object")
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r}")


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _parse_hhmm(text: object) -> int:
    match = _HHMM.fullmatch(text) if isinstance(text, str) else None
    hours, minutes = (int(match[1]), int(match[2])) if match else (99, 99)
    if hours > 24 or minutes > 59 or (hours == 24 and minutes):
        raise ValueError(f"{text!r} is not a time of day (HH:MM, 00:00 to 24:00)")
    return hours * 60 + minutes


def _parse_date(text: object) -> date:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from None


@dataclass(frozen=True, order=True)
class Interval:
    """Open from ``start`` to ``end``, in minutes after local midnight; ``end`` 1440 is 24:00."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"end {_hhmm(self.end)} is not after start {_hhmm(self.start)}"
                             " (hours cannot cross midnight: split them at 24:00)")
        if self.start < 0 or self.end > _DAY_MINUTES:
            raise ValueError(f"{self} is outside 00:00-24:00")

    @classmethod
    def parse(cls, start: str, end: str) -> Interval:
        with _field("start"):
            first = _parse_hhmm(start)
        with _field("end"):
            last = _parse_hhmm(end)
        return cls(first, last)

    def to_list(self) -> list[str]:
        return [_hhmm(self.start), _hhmm(self.end)]

    def __str__(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"


Day = tuple[Interval, ...]
_OFFICE_DAY: Day = (Interval(8 * 60, 20 * 60),)
DEFAULT_WEEKLY: tuple[Day, ...] = tuple(() if name in ("friday", "saturday") else _OFFICE_DAY for name in WEEKDAYS)


def _day(intervals: Iterable[Interval]) -> Day:
    day = tuple(sorted(intervals))
    for before, after in zip(day, day[1:], strict=False):
        if after.start < before.end:
            raise ValueError(f"{before} and {after} overlap")
    return day


def _week(weekly: Iterable[Iterable[Interval] | None]) -> tuple[Day | None, ...]:
    weekly = tuple(weekly)
    if len(weekly) != 7:
        raise ValueError("weekly: needs 7 days, Monday first")
    week = []
    for name, day in zip(WEEKDAYS, weekly, strict=True):
        with _field(f"weekly: {name}"):
            week.append(None if day is None else _day(day))
    return tuple(week)


def _parse_week(value: object) -> dict[int, Day]:
    if not isinstance(value, Mapping):
        raise ValueError('expected an object like {"sunday": [["08:00", "20:00"]]}')
    week: dict[int, Day] = {}
    for name, pairs in value.items():
        weekday = WEEKDAYS.index(name.lower()) if isinstance(name, str) and name.lower() in WEEKDAYS else None
        if weekday is None:
            raise ValueError(f"unknown weekday {name!r}")
        if weekday in week:
            raise ValueError(f"{name}: given twice")
        with _field(name):
            week[weekday] = _parse_day(pairs)
    return week


def _parse_day(pairs: object) -> Day:
    if not isinstance(pairs, list):
        raise ValueError("expected a list of [start, end] pairs")
    intervals = []
    for number, pair in enumerate(pairs, 1):
        with _field(f"interval {number}"):
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                raise ValueError("expected [start, end]")
            intervals.append(Interval.parse(*pair))
    return _day(intervals)


def _zone(name: object) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"unknown time zone {name!r}") from None


@dataclass(frozen=True)
class DatedOverride:
    """Other hours from ``first_day`` to ``last_day`` inclusive: Ramadan, the eve of Eid.

    ``weekly[d]`` replaces the regular hours on weekday d (Monday first); None keeps them and ()
    closes the day. Where overrides overlap, the one covering fewer days wins, so "Eid eve" can
    sit inside "Ramadan". In JSON, ``weekly`` lists only the weekdays it changes, and ``daily``
    gives the same hours to every day of the range.
    """

    name: str
    first_day: date
    last_day: date
    weekly: tuple[Day | None, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("name: must not be empty")
        if self.last_day < self.first_day:
            raise ValueError(f"last_day: {self.last_day} is before first_day {self.first_day}")
        object.__setattr__(self, "weekly", _week(self.weekly))

    @classmethod
    def from_dict(cls, data: Mapping) -> DatedOverride:
        _check_keys(data, ("name", "first_day", "last_day", "weekly", "daily"))
        if ("weekly" in data) == ("daily" in data):
            raise ValueError("give either weekly or daily hours")
        if "daily" in data:
            with _field("daily"):
                weekly: tuple[Day | None, ...] = (_parse_day(data["daily"]),) * 7
        else:
            with _field("weekly"):
                week = _parse_week(data["weekly"])
            weekly = tuple(week.get(weekday) for weekday in range(7))
        for key in ("name", "first_day"):
            if key not in data:
                raise ValueError(f"{key}: missing")
        with _field("first_day"):
            first_day = _parse_date(data["first_day"])
        with _field("last_day"):
            last_day = _parse_date(data["last_day"]) if "last_day" in data else first_day
        return cls(data["name"], first_day, last_day, weekly)

    def to_dict(self) -> dict:
        hours: dict[str, object]
        if len(set(self.weekly)) == 1 and self.weekly[0] is not None:
            hours = {"daily": [interval.to_list() for interval in self.weekly[0]]}
        else:
            hours = {"weekly": {name: [interval.to_list() for interval in day]
                                for name, day in zip(WEEKDAYS, self.weekly, strict=True) if day is not None}}
        return {"name": self.name, "first_day": self.first_day.isoformat(),
                "last_day": self.last_day.isoformat(), **hours}


@dataclass(frozen=True)
class BusinessHours:
    """When the support desk is open. ``weekly`` is Monday first; in JSON a weekday left out is closed.

    A holiday closes the whole day, whatever any override says; give it a name by writing it as
    a closed one-day override instead (``{"name": "Independence Day", ..., "daily": []}``).
    """

    timezone: str = "Asia/Amman"
    weekly: tuple[Day, ...] = DEFAULT_WEEKLY
    holidays: frozenset[date] = frozenset()
    overrides: tuple[DatedOverride, ...] = ()

    def __post_init__(self) -> None:
        with _field("timezone"):
            _zone(self.timezone)
        weekly = _week(self.weekly)
        if None in weekly:
            raise ValueError("weekly: every day needs a list of hours (empty when closed)")
        if not any(weekly):
            raise ValueError("weekly: open on no day at all")
        object.__setattr__(self, "weekly", weekly)
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "overrides", tuple(self.overrides))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)  # cached by zoneinfo

    def hours_on(self, day: date) -> Day:
        """The hours of one local date: a holiday, else the narrowest override, else the week."""
        if day in self.holidays:
            return ()
        weekday = day.weekday()
        covering = [o for o in self.overrides if o.first_day <= day <= o.last_day and o.weekly[weekday] is not None]
        if covering:
            return min(covering, key=lambda o: o.last_day - o.first_day).weekly[weekday]
        return self.weekly[weekday]

    @classmethod
    def from_dict(cls, data: Mapping) -> BusinessHours:
        _check_keys(data, ("timezone", "weekly", "holidays", "overrides"))
        values: dict[str, object] = {}
        if "timezone" in data:
            values["timezone"] = data["timezone"]
        if "weekly" in data:
            with _field("weekly"):
                week = _parse_week(data["weekly"])
            values["weekly"] = tuple(week.get(weekday, ()) for weekday in range(7))
        with _field("holidays"):
            holidays = data.get("holidays", [])
            if not isinstance(holidays, list):
                raise ValueError("expected a list of dates")
            values["holidays"] = frozenset(_parse_date(day) for day in holidays)
        overrides = data.get("overrides", [])
        if not isinstance(overrides, list):
            raise ValueError("overrides: expected a list")
        values["overrides"] = tuple(_override(number, item) for number, item in enumerate(overrides, 1))
        return cls(**values)

    def to_dict(self) -> dict:
        return {
            "timezone": self.timezone,
            "weekly": {name: [interval.to_list() for interval in day]
                       for name, day in zip(WEEKDAYS, self.weekly, strict=True) if day},
            "holidays": sorted(day.isoformat() for day in self.holidays),
            "overrides": [override.to_dict() for override in self.overrides],
        }


def _override(number: int, data: Mapping) -> DatedOverride:
    name = data.get("name") if isinstance(data, Mapping) else None
    with _field(f"override {number}" + (f" ({name})" if isinstance(name, str) else "")):
        return DatedOverride.from_dict(data)


_ALWAYS_OPEN = BusinessHours(timezone="UTC", weekly=((Interval(0, _DAY_MINUTES),),) * 7)


def always_open() -> BusinessHours:
    """24/7, for policies (such as urgent) whose clock never stops for the night."""
    return _ALWAYS_OPEN


@dataclass(frozen=True)
class SlaPolicy:
    """Targets for one priority (1 urgent … 4 low); a target left None is not measured.

    ``business_hours`` False runs the clock around the clock, whatever the business hours say.
    """

    name: str
    priority: int
    first_response: timedelta | None = None
    next_response: timedelta | None = None
    resolution: timedelta | None = None
    business_hours: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("name: must not be empty")
        if isinstance(self.priority, bool) or self.priority not in PRIORITIES:
            raise ValueError(f"priority: {self.priority!r} is not 1 (urgent) to 4 (low)")
        for target in TARGETS:
            amount = getattr(self, target)
            if amount is not None and (amount <= timedelta(0) or amount % _MINUTE):
                raise ValueError(f"{target}: must be a positive whole number of minutes, not {amount}")
        if not isinstance(self.business_hours, bool):
            raise ValueError(f"business_hours: {self.business_hours!r} is not true or false")

    @classmethod
    def from_dict(cls, data: Mapping) -> SlaPolicy:
        _check_keys(data, ("name", "priority", "business_hours", *(f"{t}_minutes" for t in TARGETS)))
        for key in ("name", "priority"):
            if key not in data:
                raise ValueError(f"{key}: missing")
        targets = {}
        for target in TARGETS:
            minutes = data.get(f"{target}_minutes")
            if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0):
                raise ValueError(f"{target}_minutes: {minutes!r} is not a positive whole number of minutes")
            targets[target] = None if minutes is None else timedelta(minutes=minutes)
        return cls(data["name"], data["priority"], business_hours=data.get("business_hours", True), **targets)

    def to_dict(self) -> dict:
        targets = {f"{t}_minutes": None if getattr(self, t) is None else getattr(self, t) // _MINUTE
                   for t in TARGETS}
        return {"name": self.name, "priority": self.priority, **targets, "business_hours": self.business_hours}


# ---- the clock ----------------------------------------------------------------------------

Span = tuple[datetime, datetime]
Pause = tuple[datetime, datetime | None]  # end None: still paused


def _naive_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


def _utc_at(zone: ZoneInfo, midnight: datetime, minute: int) -> datetime:
    # Wall-clock arithmetic first, then the offset in force at that wall time: 08:00 stays 08:00
    # on either side of a DST change (in a skipped hour, the offset from before the change).
    local = midnight + minute * _MINUTE
    return local - zone.utcoffset(local)


def _local_midnight(zone: ZoneInfo, moment: datetime) -> datetime:
    """The naive local midnight starting the local day that contains ``moment`` (naive UTC)."""
    return datetime.combine(moment.replace(tzinfo=UTC).astimezone(zone).date(), time())


def _open_spans(hours: BusinessHours, start: datetime, stop: datetime | None = None) -> Iterator[Span]:
    """The UTC spans in which ``hours`` are open, from ``start`` (clipped) to ``stop`` or forever."""
    zone = hours.zone
    midnight, closed_days = _local_midnight(zone, start), 0
    while stop is None or _utc_at(zone, midnight, 0) < stop:
        intervals = hours.hours_on(midnight.date())
        closed_days = 0 if intervals else closed_days + 1
        if closed_days > _MAX_CLOSED_DAYS:
            first_closed = midnight - (closed_days - 1) * _ONE_DAY
            raise ValueError(f"business hours: closed every day from {first_closed.date()} on")
        for interval in intervals:
            opens = max(_utc_at(zone, midnight, interval.start), start)
            closes = _utc_at(zone, midnight, interval.end)
            closes = closes if stop is None else min(closes, stop)
            if opens < closes:
                yield opens, closes
        midnight += _ONE_DAY


def _counting_spans(hours: BusinessHours, start: datetime, pauses: tuple[Pause, ...]) -> Iterator[Span]:
    """The open spans minus the pauses; a pause that has not ended stops the clock there."""
    ended = sorted((a, b) for a, b in pauses if b is not None)
    stop = min((a for a, b in pauses if b is None), default=None)
    skipped = 0
    for opens, closes in _open_spans(hours, start, stop):
        while skipped < len(ended) and ended[skipped][1] <= opens:
            skipped += 1
        for pause_start, pause_end in ended[skipped:]:
            if pause_start >= closes or opens >= closes:
                break
            if pause_start > opens:
                yield opens, pause_start
            opens = max(opens, pause_end)
        if opens < closes:
            yield opens, closes


def _advance(spans: Iterator[Span], amount: timedelta) -> datetime | None:
    for opens, closes in spans:
        if closes - opens >= amount:
            return opens + amount
        amount -= closes - opens
    return None


def is_open(hours: BusinessHours, when: datetime) -> bool:
    when, zone = _naive_utc(when), hours.zone
    midnight = _local_midnight(zone, when)
    return any(_utc_at(zone, midnight, i.start) <= when < _utc_at(zone, midnight, i.end)
               for i in hours.hours_on(midnight.date()))


def add_business_time(hours: BusinessHours, start: datetime, amount: timedelta) -> datetime:
    """The moment ``amount`` of open time has passed since ``start``; a clock started while closed
    starts at the next opening (so a zero amount gives that opening)."""
    if amount < timedelta(0):
        raise ValueError(f"amount: must not be negative, not {amount}")
    return _advance(_open_spans(hours, _naive_utc(start)), amount)


def business_time_between(hours: BusinessHours, start: datetime, end: datetime) -> timedelta:
    start, end = _naive_utc(start), _naive_utc(end)
    if end < start:
        raise ValueError(f"end: {end} is before start {start}")
    return sum((closes - opens for opens, closes in _open_spans(hours, start, end)), timedelta())


@dataclass(frozen=True)
class Timeline:
    """What the clock needs to know about one conversation.

    ``opened_at``: when it opened, or last reopened (the resolution clock starts again; a first
    response from before stays the first). ``customer_waiting_since``: the customer's
    first message after the agents' previous reply (the oldest unanswered one, so writing again
    does not push the deadline back). ``pauses``: (start, end) while waiting on the customer
    (status pending); end None while it still is.
    """

    opened_at: datetime
    first_response_at: datetime | None = None
    customer_waiting_since: datetime | None = None
    last_agent_reply_at: datetime | None = None
    resolved_at: datetime | None = None
    pauses: tuple[Pause, ...] = ()

    def __post_init__(self) -> None:
        for name in ("opened_at", "first_response_at", "customer_waiting_since", "last_agent_reply_at", "resolved_at"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, _naive_utc(getattr(self, name)))
        pauses = tuple((_naive_utc(a), None if b is None else _naive_utc(b)) for a, b in self.pauses)
        for number, (pause_start, pause_end) in enumerate(pauses, 1):
            if pause_end is not None and pause_end < pause_start:
                raise ValueError(f"pauses: {number}: ends before it starts")
        object.__setattr__(self, "pauses", pauses)


@dataclass(frozen=True)
class DueTimes:
    """None: not measured by the policy, not started yet, or paused short of the target."""

    first_response_due: datetime | None = None
    next_response_due: datetime | None = None
    resolution_due: datetime | None = None


@dataclass(frozen=True)
class Breach:
    """A missed target. ``met_at`` None: still not met, and ``overdue`` runs to ``now``.

    (target, started_at) identifies it, so the service can record each breach once.
    """

    target: str
    started_at: datetime
    due: datetime
    overdue: timedelta
    met_at: datetime | None


def _met(start: datetime, *moments: datetime | None) -> datetime | None:
    return min((m for m in moments if m is not None and m >= start), default=None)


def _clock(policy: SlaPolicy, hours: BusinessHours, t: Timeline
           ) -> Iterator[tuple[str, datetime, datetime | None, datetime | None]]:
    """(target, started_at, due, met_at) for each target that applies; resolving meets them all."""
    measured = []
    # A first response from before a reopening was the first: this episode has next responses.
    if policy.first_response and not (t.first_response_at and t.first_response_at < t.opened_at):
        measured.append(("first_response", t.opened_at, _met(t.opened_at, t.first_response_at, t.resolved_at)))
    waiting = t.customer_waiting_since
    if policy.next_response and t.first_response_at and waiting and waiting > t.first_response_at:
        measured.append(("next_response", waiting, _met(waiting, t.last_agent_reply_at, t.resolved_at)))
    if policy.resolution:
        measured.append(("resolution", t.opened_at, _met(t.opened_at, t.resolved_at)))
    hours = hours if policy.business_hours else _ALWAYS_OPEN
    for target, started, met in measured:
        yield target, started, _advance(_counting_spans(hours, started, t.pauses), getattr(policy, target)), met


def due_times(policy: SlaPolicy, hours: BusinessHours, timeline: Timeline) -> DueTimes:
    """The due times to store on the conversation, with the time spent paused added back."""
    return DueTimes(**{f"{target}_due": due for target, _, due, _ in _clock(policy, hours, timeline)})


def breaches(policy: SlaPolicy, hours: BusinessHours, timeline: Timeline, now: datetime) -> list[Breach]:
    """Targets met late, or not met and overdue at ``now``."""
    now, found = _naive_utc(now), []
    for target, started, due, met in _clock(policy, hours, timeline):
        end = met or now
        if due is not None and end > due:
            found.append(Breach(target, started, due, end - due, met))
    return found
