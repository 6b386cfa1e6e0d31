"""Domain events that cannot be lost: the outbox, isolated handlers, retries, several workers."""

import logging
import threading
import time
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from lms.app import create_app
from lms.core.models import OutboxEvent
from lms.db import utcnow
from lms.events import deliver, pending_ids, record
from lms.plugins.certificates.models import Certificate
from tests.certificates.certtools import SLUG
from tests.courses.packtools import sync_dirs, write_pack
from tests.factories import csrf, fresh, login, make_places, make_user

EVERYTHING = {"everything": "tests.plugins.everything.plugin"}


def _finish_course(client, db, settings, tmp_path):
    write_pack(tmp_path / "packs", SLUG, lessons=["mot", "hai"], title="An toàn trên mạng")
    sync_dirs(db, [tmp_path / "packs"])
    places = make_places(db)
    user = make_user(db, settings, village=places.villages[0], name="Lê Thị Thu Hà")
    login(client, user.phone)
    token = csrf(client, f"/courses/{SLUG}/mot")
    responses = [client.post(f"/courses/{SLUG}/{lesson}/done", data={"csrf_token": token})
                 for lesson in ("mot", "hai")]
    return user, responses


def _certificates(db, user_id):
    fresh(db)
    return db.exec(select(Certificate).where(Certificate.user_id == user_id)).scalars().all()


def _event(db, name):
    fresh(db)
    return db.exec(select(OutboxEvent).where(OutboxEvent.name == name)).scalars().one()


def test_a_failing_handler_never_fails_the_request_and_is_retried(client, app, db, settings, tmp_path,
                                                                 monkeypatch, caplog):
    from lms.plugins.certificates import services as certificates

    real_issue = certificates.issue
    calls = []

    def issue_failing_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("Lê Thị Thu Hà: máy chủ tạm hỏng")
        return real_issue(*args, **kwargs)

    monkeypatch.setattr(certificates, "issue", issue_failing_once)
    caplog.set_level(logging.WARNING, logger="lms.events")
    user, responses = _finish_course(client, db, settings, tmp_path)
    assert [r.status_code for r in responses] == [303, 303]  # the lesson was saved: no 500
    assert _certificates(db, user.id) == []
    event = _event(db, "courses.completed")
    assert event.delivered_at is None and event.attempts == 1
    assert event.last_error == "certificates: RuntimeError"
    # The log names the event and the plugin, never the person.
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert f"courses.completed #{event.id}" in logged and "certificates" in logged
    assert "Lê Thị" not in logged and user.phone not in logged

    # Not yet due: a delivery round leaves it alone (the sync's own event is delivered).
    assert deliver(app.state.context) == 1 and _event(db, "courses.content_changed").delivered_at is not None
    assert _event(db, "courses.completed").delivered_at is None
    with app.state.context.transaction() as write:
        write.execute(update(OutboxEvent).where(OutboxEvent.id == event.id)
                      .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    assert deliver(app.state.context) == 1
    assert len(_certificates(db, user.id)) == 1
    event = _event(db, "courses.completed")
    assert event.delivered_at is not None and event.last_error is None and "certificates" in event.handled
    assert deliver(app.state.context) == 0 and len(calls) == 2


def test_one_failing_handler_does_not_stop_the_others(install_plugins, make_settings, engine, db, monkeypatch):
    install_plugins(EVERYTHING)
    from tests.plugins.everything import plugin

    app = create_app(make_settings())
    context = app.state.context
    seen_before = len(plugin.received_events)

    def failing(event, context):  # noqa: ARG001
        raise ValueError("không quan trọng")

    # Another plugin's handler raises first; the everything plugin still gets the event.
    for impl in app.state.pm.hook.on_event.get_hookimpls():
        if impl.plugin_name == "courses":
            monkeypatch.setattr(impl, "function", failing)
    with context.transaction() as write:
        record(write, plugin.HelloSaid(words="một"))
    assert len(plugin.received_events) == seen_before + 1
    row = _event(db, "everything.hello_said")
    assert row.delivered_at is None and "everything" in row.handled and row.last_error.startswith("courses:")


def test_an_event_nobody_listens_to_costs_no_delivery(app, db):
    from lms.plugins.courses.events import LessonsCompleted

    listeners = [impl for impl in app.state.pm.hook.on_event.get_hookimpls()
                 if getattr(impl.function, "lms_event_names", None) is None]
    with app.state.context.transaction() as write:
        record(write, LessonsCompleted(user_id=1, course_id=1))
    assert listeners == []  # the built-in handlers all say which events they take
    row = _event(db, "courses.lessons_completed")
    # Stored (the history stays complete), and already delivered: nobody listens to it.
    assert row.delivered_at is not None and row.attempts == 0


def test_two_workers_delivering_at_once_deliver_each_event_once(install_plugins, make_settings, engine, db):
    install_plugins(EVERYTHING)
    from tests.plugins.everything import plugin

    settings = make_settings()
    first, second = create_app(settings), create_app(settings)
    handled: list[str] = []
    lock = threading.Lock()

    def slow_handler(event):  # the everything plugin's handler takes only the event
        time.sleep(0.05)
        with lock:
            handled.append(event.words)

    for app in (first, second):
        for impl in app.state.pm.hook.on_event.get_hookimpls():
            if impl.plugin_name == "everything":
                impl.function = slow_handler
    # Recorded without delivery, as if the worker that raised them had stopped.
    with first.state.context.transaction() as write:
        for i in range(12):
            write.add(OutboxEvent(name=plugin.HelloSaid.name, payload={"words": f"lời {i}"}))
    start = threading.Barrier(2)

    def worker(app):
        start.wait()
        deliver(app.state.context)

    threads = [threading.Thread(target=worker, args=(app,)) for app in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(handled) == sorted(f"lời {i}" for i in range(12))
    assert pending_ids(engine) == []
    for app in (first, second):
        app.state.engine.dispose()


def test_an_event_whose_worker_stopped_after_commit_is_delivered_once_its_claim_lapses(
        install_plugins, make_settings, engine, db, monkeypatch):
    """The transaction that raises an event claims it (no second write to deliver it); if the
    worker stops before delivering, no other worker takes it while the claim holds, and the
    periodic round delivers it once the claim has lapsed."""
    install_plugins(EVERYTHING)
    import lms.events
    from tests.plugins.everything import plugin

    app, other = create_app(make_settings()), create_app(make_settings())
    seen = len(plugin.received_events)
    monkeypatch.setattr(lms.events, "deliver_claimed", lambda context, rows: 0)  # the worker stops here
    with app.state.context.transaction() as write:
        record(write, plugin.HelloSaid(words="bị bỏ dở"))
    monkeypatch.undo()
    row = _event(db, plugin.HelloSaid.name)
    assert row.delivered_at is None and row.attempts == 1 and row.claimed_until > utcnow()
    assert deliver(other.state.context) == 0 and len(plugin.received_events) == seen
    with app.state.context.transaction() as write:
        write.execute(update(OutboxEvent).where(OutboxEvent.id == row.id)
                      .values(claimed_until=utcnow() - timedelta(seconds=1)))
    assert deliver(other.state.context) == 1
    assert [e.words for e in plugin.received_events[seen:]] == ["bị bỏ dở"]
    assert _event(db, plugin.HelloSaid.name).delivered_at is not None
    for each in (app, other):
        each.state.engine.dispose()


def test_the_server_delivers_pending_events_at_start(install_plugins, make_settings, engine, db):
    install_plugins(EVERYTHING)
    from tests.plugins.everything import plugin

    app = create_app(make_settings())
    with app.state.context.transaction() as write:
        write.add(OutboxEvent(name=plugin.HelloSaid.name, payload={"words": "chờ từ hôm qua"}))
    assert pending_ids(engine)
    with TestClient(app):
        deadline = time.monotonic() + 10
        while pending_ids(engine) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert pending_ids(engine) == []
    assert any(getattr(e, "words", "") == "chờ từ hôm qua" for e in plugin.received_events)


def test_lms_events_pending_and_deliver(install_plugins, make_settings, engine, db, monkeypatch):
    install_plugins(EVERYTHING)
    from lms.cli import build_cli
    from tests.plugins.everything import plugin

    settings = make_settings()
    for key, value in {"LMS_DATABASE_URL": settings.resolved_database_url,
                       "LMS_INSTANCE_DIR": str(settings.instance_dir),
                       "LMS_SECRET_KEY": settings.secret_key}.items():
        monkeypatch.setenv(key, value)
    app = create_app(settings)
    with app.state.context.transaction() as write:
        write.add(OutboxEvent(name=plugin.HelloSaid.name, payload={"words": "dòng lệnh"}))
    runner = CliRunner()
    listed = runner.invoke(build_cli(settings), ["events", "pending"])
    assert listed.exit_code == 0 and "everything.hello_said" in listed.output and "1 sự kiện đang chờ" in listed.output
    delivered = runner.invoke(build_cli(settings), ["events", "deliver"])
    assert delivered.exit_code == 0, delivered.output
    assert "Đã gửi 1 sự kiện; còn 0" in delivered.output
    assert "Không có sự kiện nào đang chờ" in runner.invoke(build_cli(settings), ["events", "pending"]).output
    # One waiting for its retry (or claimed by a host that stopped) is not this run's failure.
    with app.state.context.transaction() as write:
        write.add(OutboxEvent(name=plugin.HelloSaid.name, payload={"words": "sau"},
                              next_attempt_at=utcnow() + timedelta(minutes=5)))
    later = runner.invoke(build_cli(settings), ["events", "deliver"])
    assert later.exit_code == 0 and "Đã gửi 0 sự kiện; còn 1 sự kiện chờ." in later.output


def test_insert_ignore_says_whether_it_inserted(engine):
    """On both databases: True for the row that went in, False when the unique key was taken."""
    from sqlmodel import Session

    from lms.core.models import RateBucket
    from lms.db import insert_ignore, utcnow

    values = {"key": "thử", "window_start": utcnow(), "hits": 1}
    with Session(engine) as db:
        assert insert_ignore(db, RateBucket, values, ["key", "window_start"]) is True
        assert insert_ignore(db, RateBucket, values, ["key", "window_start"]) is False
        db.rollback()
