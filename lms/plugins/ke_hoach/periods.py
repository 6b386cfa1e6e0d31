"""The periods a recurring task is due in (ISO weeks, quarters, years), in local days."""

from dataclasses import dataclass
from datetime import date, timedelta

RECURRENCES = {"weekly": "Hằng tuần", "quarterly": "Hằng quý", "yearly": "Hằng năm"}
QUARTER_NAMES = ("I", "II", "III", "IV")


@dataclass(frozen=True)
class Period:
    key: str  # "2026-W53", "2026-Q4", "2026"
    label: str
    start: date
    end: date  # included

    def holds(self, day: date) -> bool:
        return self.start <= day <= self.end


def _span(start: date, end: date) -> str:
    if start.year == end.year:
        return f"{start:%d/%m}–{end:%d/%m/%Y}"
    return f"{start:%d/%m/%Y}–{end:%d/%m/%Y}"


def period_of(recurrence: str, day: date) -> Period:
    """The period holding `day`. Weeks are ISO weeks (Monday to Sunday): 1 January 2027, a
    Friday, is in week 53 of 2026."""
    if recurrence == "weekly":
        start = day - timedelta(days=day.weekday())
        end = start + timedelta(days=6)
        year, week, _ = start.isocalendar()
        return Period(f"{year}-W{week:02d}", f"Tuần {week:02d}/{year} ({_span(start, end)})", start, end)
    if recurrence == "quarterly":
        quarter = (day.month - 1) // 3
        start = date(day.year, 3 * quarter + 1, 1)
        following = date(day.year + 1, 1, 1) if quarter == 3 else date(day.year, 3 * quarter + 4, 1)
        return Period(f"{day.year}-Q{quarter + 1}", f"Quý {QUARTER_NAMES[quarter]}/{day.year}", start,
                      following - timedelta(days=1))
    if recurrence == "yearly":
        return Period(str(day.year), f"Năm {day.year}", date(day.year, 1, 1), date(day.year, 12, 31))
    raise ValueError(f"unknown recurrence {recurrence!r}")


def periods_from(recurrence: str, first: date, last: date) -> list[Period]:
    """Every period from the one holding `first` to the one holding `last`, in order."""
    out: list[Period] = []
    if last < first:
        return out
    period = period_of(recurrence, first)
    while period.start <= last:
        out.append(period)
        period = period_of(recurrence, period.end + timedelta(days=1))
    return out


@dataclass(frozen=True)
class Tally:
    """A recurring task's periods: those with evidence, those over without any, the current one."""

    done: list[Period]
    missed: list[Period]
    running: list[Period]  # not over yet and nothing attached: still to do

    @property
    def due(self) -> int:
        return len(self.done) + len(self.missed)


def tally(recurrence: str, *, starts_on: date, days_done: set[date], today: date,
          window: tuple[date, date] | None = None) -> Tally:
    """Periods from the one holding `starts_on` up to today's; with `window`, only those that
    end inside it (a week belongs to the month its Sunday is in). A period counts as done when
    evidence is dated in it, as missed when it is over (ended before today) without any."""
    last = today if window is None else window[1]
    done, missed, running = [], [], []
    for period in periods_from(recurrence, starts_on, last):
        if window is not None and not window[0] <= period.end <= window[1]:
            continue
        if any(period.holds(day) for day in days_done):
            done.append(period)
        elif period.end < today:
            missed.append(period)
        else:
            running.append(period)
    return Tally(done, missed, running)
