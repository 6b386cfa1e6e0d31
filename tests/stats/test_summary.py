"""The pre-aggregated days and weeks give exactly what counting the facts gives, whatever the
scope, filters and period; summing day by day gives what a rebuild gives; `lms demo-data`."""

import threading
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from lms import paths
from lms.cli import build_cli
from lms.core.models import Place, User
from lms.db import read_session
from lms.plugin_host import build_plugin_manager
from lms.plugins.certificates.models import Certificate
from lms.plugins.courses.models import LessonProgress
from lms.plugins.events.models import Registration
from lms.plugins.quiz.models import QuizAttempt
from lms.plugins.stats import demo, job, services, summary
from lms.plugins.stats.models import (
    ActiveDay,
    ActiveUser,
    DayCommune,
    DayVillage,
    SummaryState,
    VillageTotal,
    WeekCommune,
    WeekTotal,
)
from lms.stats_scope import StatsPeriod, StatsScope, local_today
from lms.text import fold
from tests.courses.packtools import sync_dirs
from tests.factories import fresh, login, make_user
from tests.stats.statstools import build_town, read


@pytest.fixture
def city(engine, settings, db):
    """Two communes of invented learners over four months (the demo generator)."""
    sync_dirs(db, [paths.courses_dir()])
    report = demo.generate(engine, settings, communes=2, learners=500, months=4, seed=7)
    db.rollback()
    return report


def _nonzero(counts: summary.Counts) -> tuple[dict, dict]:
    members = {(k, m): n for k, table in counts.members.items() for m, n in table.items() if n}
    weeks = {(k, w): n for k, table in counts.weeks.items() for w, n in table.items() if n}
    return members, weeks


def test_demo_generator_fills_every_table_realistically(city, db):
    assert city.communes == 2 and 8 <= city.villages <= 28
    assert city.rows["core_user"] == 500
    counts = {model.__tablename__: db.exec(select(func.count()).select_from(model)).scalar()
              for model in (LessonProgress, QuizAttempt, Certificate, Registration)}
    assert counts == {"courses_lesson_progress": city.rows["courses_lesson_progress"],
                      "quiz_attempt": city.rows["quiz_attempt"],
                      "certificates_certificate": city.rows["certificates_certificate"],
                      "events_registration": city.rows["events_registration"]}
    assert all(n > 0 for n in counts.values()), counts
    names = db.exec(select(User.full_name).limit(50)).scalars().all()
    assert all(len(name.split()) == 3 for name in names)  # family, middle and given name
    assert sum(fold(name) != name.casefold() for name in names) > 25  # Vietnamese letters, not ASCII
    audiences = set(db.exec(select(User.audience).distinct()).scalars().all())
    assert audiences == {"can-bo", "doanh-nghiep", "to-cong-nghe", "nguoi-dan"}
    first = db.exec(select(func.min(LessonProgress.completed_at))).scalar()
    assert datetime.now(UTC) - first > timedelta(days=60)  # progress spread over months


def test_summary_agrees_with_counting_the_facts(city, engine, settings, db):
    pm = build_plugin_manager(settings)
    known = summary.refresh(engine, pm)
    today = local_today()
    assert known.days_until == summary.first_open_day()
    assert db.exec(select(func.count()).select_from(DayVillage)).scalar() > 100
    figures = summary.contributions(pm, StatsScope(db), StatsPeriod(None, today)).facts
    communes = db.exec(select(Place.id).where(Place.kind == "commune").order_by(Place.id)).scalars().all()
    village = db.exec(select(Place.id).where(Place.kind == "village", Place.parent_id == communes[1])).first()[0]
    course = db.exec(select(LessonProgress.course_id).limit(1)).scalar()
    monday = summary.week_start(today)
    periods = [StatsPeriod(None, today), StatsPeriod(today - timedelta(days=45), today - timedelta(days=3)),
               StatsPeriod(today - timedelta(days=20), today), StatsPeriod(monday - timedelta(days=14),
                                                                           monday - timedelta(days=1)),
               StatsPeriod(today - timedelta(days=61), today - timedelta(days=61)),
               StatsPeriod(None, today - timedelta(days=9))]
    scopes = [StatsScope(db), StatsScope(db, (communes[0],)), StatsScope(db, (communes[0],), audience="nguoi-dan"),
              StatsScope(db, None, course_id=course), StatsScope(db, (communes[1],), village_id=village),
              StatsScope(db, None, audience="can-bo", course_id=course)]
    checked = 0
    for scope in scopes:
        for period in periods:
            weeks_from = period.start or today - timedelta(weeks=26)
            fast = summary.count(db, figures, scope, period, known=known, weeks_from=weeks_from)
            slow = summary.count(db, figures, scope, period, known=summary.Reach(), weeks_from=weeks_from)
            assert _nonzero(fast) == _nonzero(slow), (scope, period)
            fast_active = summary.active(db, figures, scope, period, known=known)
            slow_active = summary.active(db, figures, scope, period, known=summary.Reach())
            assert {k: v for k, v in fast_active.month.items() if v} == \
                {k: v for k, v in slow_active.month.items() if v}, (scope, period)
            assert {k: v for k, v in fast_active.week.items() if v} == \
                {k: v for k, v in slow_active.week.items() if v}, (scope, period)
            checked += bool(_nonzero(slow)[0])
    assert checked >= 25  # the comparisons were not all of empty results


def _tables(db) -> dict:
    out = {}
    for model in (DayVillage, DayCommune, VillageTotal, WeekCommune, WeekTotal, ActiveDay, ActiveUser):
        rows = db.exec(select(model.__table__)).all()
        out[model.__tablename__] = sorted(tuple(str(v) for v in row) for row in rows)
    return out


def test_summing_day_by_day_equals_a_rebuild(city, engine, settings, db):
    pm = build_plugin_manager(settings)
    now = datetime.now(UTC)
    first = summary.refresh(engine, pm, now=now - timedelta(days=17))
    assert first.days_until == summary.first_open_day(now - timedelta(days=17))
    for days_ago in (9, 8, 0):  # a gap of several days, then one day, then up to today
        summary.refresh(engine, pm, now=now - timedelta(days=days_ago))
    db.rollback()
    step_by_step = _tables(db)
    assert summary.refresh(engine, pm, rebuild=True, now=now).days_until == summary.first_open_day(now)
    db.rollback()
    assert _tables(db) == step_by_step
    assert len(step_by_step["stats_week_total"]) > 10


def test_refresh_does_nothing_when_up_to_date(city, engine, settings, db):
    pm = build_plugin_manager(settings)
    known = summary.refresh(engine, pm)
    built = db.exec(select(SummaryState.built_at)).scalar()
    db.rollback()
    assert summary.refresh(engine, pm) == known
    db.rollback()
    assert db.exec(select(SummaryState.built_at)).scalar() == built


def _summary_rows(db) -> dict:
    fresh(db)
    rows = {"state": db.exec(select(SummaryState.days_until)).scalar(), **_tables(db)}
    db.commit()
    return rows


def test_the_dashboard_only_reads_and_counts_the_days_not_summed_from_the_facts(
        client, make_client, db, settings, tmp_path, monkeypatch):
    town = build_town(client, make_client, db, settings, tmp_path)
    before = _summary_rows(db)
    assert before["state"] is None  # no day summed yet (nothing was over when the app started)
    login(client, town.staff.phone)

    def no_refresh(*args, **kwargs):
        raise AssertionError("a user's request summed days")

    monkeypatch.setattr(summary, "refresh", no_refresh)
    live = read(client.get("/stats").text)
    assert _summary_rows(db) == before  # nothing written
    # Every past day counted from the facts: 5 lessons on D20 and D10, today's 3.
    assert live.figures["courses.lessons_completed"] == "8"
    assert live.figures["learners"] == "5" and live.figures["active_30"] == "4"
    monkeypatch.undo()

    # The job sums the days that are over; the same view then reads them from the tables.
    assert job.summarise(client.app.state.context).days_until == summary.first_open_day()
    fresh(db)
    past_lessons = db.exec(select(func.sum(DayVillage.value)).where(
        DayVillage.key == "courses.lessons_completed", DayVillage.commune_id == town.places.commune.id)).scalar()
    db.commit()
    assert past_lessons == 5  # an 2 and giang 1 on D20, binh 2 on D10
    summed = read(client.get("/stats").text)
    assert summed.figures == live.figures and summed.tables == live.tables


def test_a_read_session_that_read_before_the_job_sees_its_sums(app, client, make_client, db, settings, tmp_path):
    build_town(client, make_client, db, settings, tmp_path)
    with read_session(app.state.engine) as request_db:
        # What the API's token check does before the view: a read on the request's session.
        assert summary.reach(request_db).days_until is None
        job.summarise(app.state.context)
        view = services.open_view(app.state.context, request_db, {}, commune_id=None, everywhere=True)
        assert summary.reach(request_db).days_until == summary.first_open_day()
    figures = {h.key: h.value for h in view.board.headline}
    # The whole city: 9 lessons, 6 of them on past days (only in the summary tables now read).
    assert figures["courses.lessons_completed"] == 9 and figures["learners"] == 6
    assert figures["certificates.issued"] == 3


def test_nothing_is_written_while_no_day_with_facts_is_over(engine, settings, db):
    pm = build_plugin_manager(settings)
    assert summary.refresh(engine, pm).days_until is None
    make_user(db, settings, name="Nguyễn Văn Mới")  # registered today: today is not over
    assert summary.refresh(engine, pm).days_until is None
    db.rollback()
    assert db.exec(select(SummaryState)).first() is None
    tomorrow = datetime.now(UTC) + timedelta(days=1, hours=2)
    assert summary.refresh(engine, pm, now=tomorrow).days_until == summary.first_open_day(tomorrow)


def test_each_worker_sums_the_finished_days_when_it_starts(city, app, db):
    assert db.exec(select(SummaryState)).first() is None
    db.rollback()
    with TestClient(app):
        # In the background: start-up does not wait for it.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            days_until = db.exec(select(SummaryState.days_until)).scalar()
            db.rollback()
            if days_until is not None:
                break
            time.sleep(0.1)
    assert summary._as_date(days_until) == summary.first_open_day()
    assert db.exec(select(func.count()).select_from(DayVillage)).scalar() > 100


def test_the_job_looks_again_when_a_day_becomes_summable(monkeypatch):
    # 23:50 Vietnam time: the day becomes summable at 01:00 (GRACE), looked at every 5 minutes until then.
    late = datetime(2026, 12, 1, 16, 50, tzinfo=UTC)
    assert job.next_check(late) == job.CHECK_EVERY.total_seconds()
    # 00:58: two minutes (and the slack) to 01:00.
    assert job.next_check(datetime(2026, 12, 1, 17, 58, tzinfo=UTC)) == 150
    stop = threading.Event()
    rounds = []

    def refresh(engine, pm, **kwargs):
        rounds.append(1)
        if len(rounds) == 1:
            raise RuntimeError("database gone for a moment")
        stop.set()
        return summary.Reach()

    monkeypatch.setattr(summary, "refresh", refresh)
    monkeypatch.setattr(job, "next_check", lambda now: 0.01)
    job.run(SimpleNamespace(engine=None, pm=None), stop)  # a failing round does not end the job
    assert len(rounds) == 2


@pytest.fixture
def cli_env(settings, engine, monkeypatch):
    monkeypatch.setenv("LMS_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("LMS_INSTANCE_DIR", str(settings.instance_dir))
    return build_cli(settings)


def test_demo_data_command_and_rebuild(cli_env, db):
    runner = CliRunner()
    refused = runner.invoke(cli_env, ["demo-data", "--communes", "1", "--learners", "10"])
    assert refused.exit_code == 1 and "lms courses sync" in refused.output
    sync_dirs(db, [paths.courses_dir()])
    result = runner.invoke(cli_env, ["demo-data", "--communes", "2", "--learners", "120", "--months", "2"])
    assert result.exit_code == 0, result.output
    assert "Đã thêm 2 xã/phường" in result.output and "không dùng cho hệ thống thật" in result.output
    db.rollback()
    assert db.exec(select(func.count()).select_from(User)).scalar() == 120
    assert db.exec(select(SummaryState.days_until)).scalar() is not None  # summed at the end
    again = runner.invoke(cli_env, ["demo-data", "--communes", "2", "--learners", "10", "--months", "1"])
    assert again.exit_code == 0, again.output
    db.rollback()
    names = db.exec(select(Place.name).where(Place.kind == "commune")).scalars().all()
    assert len(names) == len(set(names)) == 4  # a second run adds new communes, never twins
    rebuilt = runner.invoke(cli_env, ["stats", "rebuild"])
    assert rebuilt.exit_code == 0 and "Đã tổng hợp số liệu" in rebuilt.output


def test_a_view_read_from_memory_follows_a_recount(client, make_client, db, settings, tmp_path):
    town = build_town(client, make_client, db, settings, tmp_path)
    job.summarise(client.app.state.context)
    summary.SUMMED.clear()
    login(client, town.staff.phone)
    first = read(client.get("/stats?from=" + town.days["D40"].isoformat()).text)
    assert first.figures["courses.lessons_completed"] == "8"
    assert summary.SUMMED.entries  # the summed part is now kept in the worker
    again = read(client.get("/stats?from=" + town.days["D40"].isoformat()).text)
    assert again.figures == first.figures
    # giang's lesson of D20 goes (as a correction would); the day is summed again.
    fresh(db)
    db.execute(LessonProgress.__table__.delete().where(LessonProgress.user_id == town.people["giang"].id))
    db.commit()
    context = client.app.state.context
    assert summary.recount(context.engine, context.pm, days=[town.days["D20"]],
                           user_ids=[town.people["giang"].id]) == 1
    after = read(client.get("/stats?from=" + town.days["D40"].isoformat()).text)
    assert after.figures["courses.lessons_completed"] == "7"
