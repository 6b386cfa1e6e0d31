"""When a recurring task is due and missed (ISO weeks across a year's end, quarters, years), and
when a one-off task is late."""

from datetime import UTC, date, datetime

from lms.plugins.ke_hoach import services
from lms.plugins.ke_hoach.example import parse
from lms.plugins.ke_hoach.models import Evidence, Task
from lms.plugins.ke_hoach.periods import period_of, periods_from, tally


def _keys(periods):
    return [p.key for p in periods]


def test_weekly_periods_missed_across_the_year_boundary():
    # 2026 has 53 ISO weeks: Friday 1 January 2027 belongs to week 53 of 2026.
    assert period_of("weekly", date(2027, 1, 1)).key == "2026-W53"
    assert period_of("weekly", date(2027, 1, 1)).label == "Tuần 53/2026 (28/12/2026–03/01/2027)"
    assert period_of("weekly", date(2027, 1, 4)).key == "2027-W01"
    found = tally("weekly", starts_on=date(2026, 12, 14),
                  days_done={date(2026, 12, 16), date(2027, 1, 1), date(2027, 1, 6)}, today=date(2027, 1, 13))
    assert _keys(found.done) == ["2026-W51", "2026-W53", "2027-W01"]
    assert [p.label for p in found.missed] == ["Tuần 52/2026 (21/12–27/12/2026)"]
    assert _keys(found.running) == ["2027-W02"]  # this week is not over: not missed yet
    # Only New Year's Day done: the first week of 2027 (4–10 January) is still missed.
    only_new_year = tally("weekly", starts_on=date(2026, 12, 28), days_done={date(2027, 1, 1)},
                          today=date(2027, 1, 13))
    assert _keys(only_new_year.done) == ["2026-W53"] and _keys(only_new_year.missed) == ["2027-W01"]


def test_a_report_window_counts_the_weeks_that_end_in_it():
    december = (date(2026, 12, 1), date(2026, 12, 31))
    found = tally("weekly", starts_on=date(2026, 11, 1), days_done={date(2026, 12, 2)}, today=date(2027, 2, 1),
                  window=december)
    # The week of 30 November ends on 6 December: December's; the week of 28 December is January's.
    assert _keys(found.done) == ["2026-W49"]
    assert _keys(found.missed) == ["2026-W50", "2026-W51", "2026-W52"]


def test_quarters_and_years():
    assert [(p.label, p.start, p.end) for p in periods_from("quarterly", date(2026, 11, 5), date(2027, 2, 1))] == [
        ("Quý IV/2026", date(2026, 10, 1), date(2026, 12, 31)), ("Quý I/2027", date(2027, 1, 1), date(2027, 3, 31))]
    found = tally("yearly", starts_on=date(2025, 3, 1), days_done={date(2026, 6, 1)}, today=date(2027, 1, 5))
    assert _keys(found.missed) == ["2025"] and _keys(found.done) == ["2026"] and _keys(found.running) == ["2027"]


def _task(**values):
    return Task(id=1, plan_id=1, title="Việc thử", body="van-phong", **values)


def test_evidence_counts_in_its_day_in_vietnam():
    weekly = _task(recurrence="weekly", starts_on=date(2026, 12, 21))
    # 20:00 UTC on 27 December is 03:00 on Monday 28 December in Vietnam: week 53, not week 52.
    proof = Evidence(task_id=1, key="x", title="Bản tin", url="/x", at=datetime(2026, 12, 27, 20, tzinfo=UTC))
    state = services.assess(weekly, [proof], today=date(2027, 1, 6))
    assert _keys(state.periods.done) == ["2026-W53"] and _keys(state.periods.missed) == ["2026-W52"]
    assert state.late and state.late_text == "BỎ LỠ 1 KỲ: Tuần 52/2026 (21/12–27/12/2026)"
    paused = _task(recurrence="weekly", starts_on=date(2026, 12, 21), status="tam-dung")
    assert not services.assess(paused, [proof], today=date(2027, 1, 6)).late


def test_one_off_tasks_are_late_past_their_deadline_unless_done_or_paused():
    today = date(2026, 11, 20)
    late = services.assess(_task(deadline=date(2026, 11, 19), status="dang-lam"), [], today=today)
    assert late.late and late.late_text == "TRỄ HẠN: hạn 19/11/2026, chưa hoàn thành"
    assert not services.assess(_task(deadline=today, status="dang-lam"), [], today=today).late
    assert not services.assess(_task(deadline=date(2026, 11, 1), status="hoan-thanh"), [], today=today).late
    assert not services.assess(_task(deadline=date(2026, 11, 1), status="tam-dung"), [], today=today).late
    assert not services.assess(_task(status="chua-bat-dau"), [], today=today).late  # no deadline: never late
    # Done after the window's end: late as the report for October saw it.
    done_late = _task(deadline=date(2026, 10, 15), status="hoan-thanh", done_at=datetime(2026, 11, 5, tzinfo=UTC))
    assert services.assess(done_late, [], today=today, window=(date(2026, 10, 1), date(2026, 10, 31))).late
    assert not services.assess(done_late, [], today=today, window=(date(2026, 11, 1), date(2026, 11, 30))).late


def test_the_shipped_example_has_the_plans_sections():
    from lms.plugins.ke_hoach.example import EXAMPLE_FILE

    plan = parse(EXAMPLE_FILE.read_text(encoding="utf-8"))
    sections = {task.section for task in plan.tasks}
    assert sections == {"II.2.1", "II.2.2", "II.2.3", "II.2.4", "II.2.5", "III.1", "III.2", "III.3", "III.4"}
    weekly = [task for task in plan.tasks if task.recurrence == "weekly"]
    assert [task.section for task in weekly] == ["II.2.1"] and "bản tin hằng tuần" in weekly[0].title
    bodies = {task.body for task in plan.tasks}
    assert {"van-phong", "van-hoa-xa-hoi", "trung-tam", "kinh-te", "co-quan-lien-quan"} <= bodies
    assert any("Lễ phát động" in task.title for task in plan.tasks)
    assert any(task.title.startswith("Tổng hợp, báo cáo Ủy ban nhân dân xã") for task in plan.tasks)
