"""The work schedule: local dates and times, lateness and early leave."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class WorkSchedule:
    zone: ZoneInfo
    start: time
    end: time
    grace: timedelta
    work_days: frozenset[int]  # 0 = Monday

    @classmethod
    def from_config(cls, config) -> WorkSchedule:
        days = config["WORK_DAYS"].lower().split()
        unknown = set(days) - set(DAY_NAMES)
        if unknown:
            raise ValueError(f"WORK_DAYS has unknown days: {sorted(unknown)}")
        return cls(
            zone=ZoneInfo(config["WORK_TIMEZONE"]),
            start=time.fromisoformat(config["WORK_START"]),
            end=time.fromisoformat(config["WORK_END"]),
            grace=timedelta(minutes=config["LATE_GRACE_MINUTES"]),
            work_days=frozenset(DAY_NAMES.index(d) for d in days),
        )

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def work_date(self, moment: datetime) -> date:
        return self.local(moment).date()

    def at(self, day: date, clock: time) -> datetime:
        """The UTC-aware moment of a local date and time."""
        return datetime.combine(day, clock, tzinfo=self.zone)

    def is_late(self, moment: datetime) -> bool:
        local = self.local(moment)
        return local > self.at(local.date(), self.start) + self.grace

    def is_early_leave(self, moment: datetime) -> bool:
        local = self.local(moment)
        return local < self.at(local.date(), self.end)

    def is_work_day(self, day: date) -> bool:
        return day.weekday() in self.work_days


def current_schedule() -> WorkSchedule:
    return current_app.extensions["absen_schedule"]
