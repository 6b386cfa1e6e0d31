"""Staff merge two accounts of one person: preview, one transaction, audit, statistics once."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from lms.core.merge_services import CONFIRM_MISSING, NOT_LEARNER
from lms.core.models import AccountMerge, Consent, User, UserSession
from lms.db import utcnow
from lms.plugins.certificates.models import Certificate
from lms.plugins.courses.models import Course, Enrolment, Lesson, LessonProgress
from lms.plugins.events.models import Registration
from lms.plugins.quiz.models import QuizAttempt
from lms.plugins.stats import summary
from lms.plugins.stats.models import (
    ActiveDay,
    ActiveUser,
    DayCommune,
    DayVillage,
    VillageTotal,
    WeekCommune,
    WeekTotal,
)
from lms.plugins.teams.models import LoginCard
from tests.certificates.certtools import SLUG, completed_course
from tests.events.eventtools import register, staff_with_event
from tests.factories import csrf, fresh, login, make_places, make_user, post_form, text_of


def _merge_page(client, keep_id, drop_id):
    return client.get(f"/staff/users/{keep_id}/merge/{drop_id}")


def _merge(client, keep_id, drop_id, confirm=True):
    data = {"same_person": "1"} if confirm else {}
    return post_form(client, f"/staff/users/{keep_id}/merge/{drop_id}", data,
                     page=f"/staff/users/{keep_id}/merge/{drop_id}")


def _count(db, model, *where):
    fresh(db)
    value = db.exec(select(func.count()).select_from(model).where(*where)).scalar()
    db.commit()
    return value


@pytest.fixture
def two_accounts(client, make_client, db, settings, tmp_path):
    """Lan signed up herself and finished the course (certificate); at an event she was
    registered again with her other phone: a second account with a ticket and a lesson."""
    learner_client = make_client()
    places = make_places(db)
    mine, certificate = completed_course(learner_client, db, settings, tmp_path, name="Trần Thị Lan",
                                         places=places)
    _, staff, event = staff_with_event(client, db, settings, places=places)
    visitor = make_client()
    assert register(visitor, event, name="Trần Thị Lan", phone="0987000111", village=places.villages[0],
                    consent_stats="on").status_code == 303
    fresh(db)
    from_event = db.exec(select(User).where(User.phone == "0987000111")).scalars().one()
    course = db.exec(select(Course).where(Course.slug == SLUG)).scalars().one()
    first = db.exec(select(Lesson).where(Lesson.course_id == course.id, Lesson.slug == "mot")).scalars().one()
    # Done at the event, earlier than in her own account.
    done_early = utcnow() - timedelta(days=3)
    db.add(Enrolment(user_id=from_event.id, course_id=course.id, enrolled_at=done_early,
                     last_activity_at=done_early))
    db.add(LessonProgress(user_id=from_event.id, lesson_id=first.id, course_id=course.id,
                          completed_at=done_early))
    db.commit()
    return places, staff, mine, from_event, certificate, course, first


def test_staff_find_preview_and_merge_in_one_go(client, db, two_accounts):
    places, staff, mine, from_event, certificate, course, first = two_accounts
    ticket = db.exec(select(Registration).where(Registration.user_id == from_event.id)).scalars().one()

    found = text_of(client.get(f"/staff/users/{mine.id}/merge?q=lan").text)
    assert "Trần Thị Lan" in found and "0987000111" in found

    preview = text_of(_merge_page(client, mine.id, from_event.id).text)
    assert "Vé sự kiện 1" in preview
    assert "Bài học đã học xong 1" in preview and "1 bài có ở cả hai tài khoản: giữ lần học sớm hơn" in preview
    assert "Khóa học đã ghi danh 1" in preview and "1 khóa có ở cả hai tài khoản: gộp thành một" in preview
    # At the event: learning, statistics, SMS (refused) and the registration's own.
    assert "Bản ghi đồng ý xử lý dữ liệu 4" in preview
    # A preview writes nothing.
    assert _count(db, Registration, Registration.user_id == from_event.id) == 1

    # Without the confirmation: the page says what is missing, nothing moves.
    refused = _merge(client, mine.id, from_event.id, confirm=False)
    assert refused.status_code == 422 and CONFIRM_MISSING in text_of(refused.text)
    assert _count(db, AccountMerge) == 0

    done = _merge(client, mine.id, from_event.id)
    assert done.status_code == 303 and done.headers["location"] == f"/staff/users/{mine.id}?saved=merged"
    fresh(db)
    gone, kept = db.get(User, from_event.id), db.get(User, mine.id)
    assert (gone.active, gone.merged_into_id, gone.phone, gone.password_hash) == (False, mine.id, None, None)
    assert kept.active and kept.phone == mine.phone
    assert db.get(Registration, ticket.id).user_id == mine.id
    assert db.exec(select(func.count()).select_from(Consent).where(Consent.user_id == mine.id)).scalar() >= 1
    progress = db.exec(select(LessonProgress).where(LessonProgress.user_id == mine.id,
                                                    LessonProgress.lesson_id == first.id)).scalars().all()
    assert len(progress) == 1 and progress[0].completed_at < utcnow() - timedelta(days=2)
    enrolments = db.exec(select(Enrolment).where(Enrolment.user_id == mine.id)).scalars().all()
    assert len(enrolments) == 1 and enrolments[0].enrolled_at < utcnow() - timedelta(days=2)
    assert enrolments[0].completed_at is not None
    assert db.exec(select(func.count()).select_from(LessonProgress)
                   .where(LessonProgress.user_id == from_event.id)).scalar() == 0
    entry = db.exec(select(AccountMerge)).scalars().one()
    assert (entry.kept_id, entry.merged_id, entry.merged_by_id) == (mine.id, from_event.id, staff.id)
    assert {"label": "Vé sự kiện", "count": 1, "note": ""} in entry.moved
    db.commit()

    page = text_of(client.get(f"/staff/users/{mine.id}?saved=merged").text)
    assert "Đã gộp hai tài khoản" in page and "Lịch sử gộp tài khoản" in page
    assert "gộp tài khoản Trần Thị Lan vào tài khoản này, do Cán Bộ Văn Hóa thực hiện" in page
    old = text_of(client.get(f"/staff/users/{from_event.id}").text)
    assert "đã được gộp vào tài khoản Trần Thị Lan" in old and "Đổi vai trò" not in old
    # The ticket still opens, and the kept account lists it.
    assert "Trần Thị Lan" in text_of(client.get(f"/t/{ticket.token}").text)
    # Merging again is refused: the other account is merged already.
    again = _merge(client, mine.id, from_event.id)
    assert again.status_code == 409 and "đã được gộp" in text_of(again.text)


def test_the_kept_account_takes_the_phone_and_password_it_lacks(client, make_client, db, settings, two_accounts):
    places, staff, mine, from_event, *_ = two_accounts
    # Keep the event's account (no password): it takes the signed-up account's phone and password.
    assert from_event.password_hash is None
    assert _merge(client, from_event.id, mine.id).status_code == 303
    fresh(db)
    kept = db.get(User, from_event.id)
    assert kept.phone == "0987000111" and kept.password_hash is not None
    assert db.get(User, mine.id).phone is None
    # The certificate moved, and she signs in with her old password to the kept account.
    assert db.exec(select(Certificate.user_id).where(Certificate.code.is_not(None))).scalars().all() == [kept.id]
    db.commit()
    # Her old phone is free; the password she knew works with the kept account's phone.
    learner = make_client()
    login(learner, "0987000111")
    assert "Trần Thị Lan" in text_of(learner.get("/account").text)


def test_sessions_of_the_merged_account_end(client, make_client, db, settings, two_accounts):
    places, staff, mine, from_event, *_ = two_accounts
    assert _count(db, UserSession, UserSession.user_id == mine.id) >= 1
    assert _merge(client, from_event.id, mine.id).status_code == 303
    assert _count(db, UserSession, UserSession.user_id == mine.id) == 0


def test_both_certificates_for_one_course_leave_one_valid(client, make_client, db, settings, tmp_path):
    places = make_places(db)
    first_client, second_client = make_client(), make_client()
    one, older = completed_course(first_client, db, settings, tmp_path, name="Phạm Văn Bình", places=places)
    two, newer = completed_course(second_client, db, settings, tmp_path, name="Phạm Văn Bình", places=places)
    staff = make_user(db, settings, role="staff", commune=places.commune, name="Cán Bộ Xã")
    login(client, staff.phone)
    preview = text_of(_merge_page(client, two.id, one.id).text)
    assert "1 khóa học có chứng nhận ở cả hai tài khoản" in preview
    assert _merge(client, two.id, one.id).status_code == 303
    fresh(db)
    rows = {c.id: c for c in db.exec(select(Certificate).where(Certificate.user_id == two.id)).scalars().all()}
    assert set(rows) == {older.id, newer.id}
    assert rows[older.id].revoked_at is None
    assert rows[newer.id].revoked_at is not None and rows[newer.id].replaced_by_id == older.id
    assert "Trùng với chứng nhận" in rows[newer.id].revoked_reason
    db.commit()


def test_open_quiz_attempts_and_login_cards_move(client, db, settings, two_accounts):
    places, staff, mine, from_event, certificate, course, _ = two_accounts
    db.add(QuizAttempt(user_id=from_event.id, course_id=course.id, submitted_at=utcnow(), score=50, passed=False))
    db.add(QuizAttempt(user_id=from_event.id, course_id=course.id))  # unfinished
    db.add(QuizAttempt(user_id=mine.id, course_id=course.id))  # unfinished too: the kept one stays
    db.add(LoginCard(user_id=from_event.id, token_digest="d" * 64, created_by_id=staff.id))
    db.commit()
    preview = text_of(_merge_page(client, mine.id, from_event.id).text)
    assert "Lượt làm bài kiểm tra 1" in preview and "bỏ bài làm dở này" in preview
    assert "Thẻ đăng nhập (mã QR) đang dùng 1" in preview
    assert _merge(client, mine.id, from_event.id).status_code == 303
    assert _count(db, QuizAttempt, QuizAttempt.user_id == mine.id) == 2
    assert _count(db, QuizAttempt, QuizAttempt.user_id == from_event.id) == 0
    assert _count(db, LoginCard, LoginCard.user_id == mine.id) == 1


def test_who_may_merge(client, make_client, db, settings, two_accounts):
    places, staff, mine, from_event, *_ = two_accounts
    path = f"/staff/users/{mine.id}/merge/{from_event.id}"
    other = make_places(db, commune_name="Phường Hòa Bình", villages=("Tổ 1",))
    cases = [
        (make_user(db, settings, village=places.villages[0]), 403),
        (make_user(db, settings, role="team_member", commune=places.commune), 403),
        (make_user(db, settings, role="staff", commune=other.commune), 404),
    ]
    for person, status in cases:
        browser = make_client()
        login(browser, person.phone)
        assert browser.get(path).status_code == status, person.role
        assert browser.get(f"/staff/users/{mine.id}/merge?q=lan").status_code == status, person.role
        token = csrf(browser, "/account")
        assert browser.post(path, data={"csrf_token": token, "same_person": "1"}).status_code == status
    anonymous = make_client()
    assert anonymous.get(path).status_code == 303  # to the log-in page
    assert _count(db, AccountMerge) == 0
    admin = make_client()
    login(admin, make_user(db, settings, role="admin", name="Quản Trị").phone)
    assert _merge(admin, mine.id, from_event.id).status_code == 303
    assert _count(db, AccountMerge) == 1


def test_only_two_different_learner_accounts(client, db, settings, two_accounts):
    places, staff, mine, from_event, *_ = two_accounts
    member = make_user(db, settings, role="team_member", commune=places.commune, name="Trần Thị Lan")
    refused = _merge_page(client, mine.id, member.id)
    assert refused.status_code == 403 and NOT_LEARNER in text_of(refused.text)
    same = _merge(client, mine.id, mine.id)
    assert same.status_code == 422 and "hai tài khoản khác nhau" in text_of(same.text)
    assert text_of(client.get(f"/staff/users/{mine.id}/merge?q=lan").text).count("Trần Thị Lan") >= 2
    assert f"/merge/{member.id}" not in client.get(f"/staff/users/{mine.id}/merge?q=lan").text
    assert _count(db, AccountMerge) == 0


def test_statistics_count_the_merged_person_once(client, db, settings, engine, two_accounts):
    places, staff, mine, from_event, *_ = two_accounts
    pm = client.app.state.pm
    # Both accounts were made days ago, so their facts are in the summed days.
    with Session(engine) as session:
        for person_id, days in ((mine.id, 6), (from_event.id, 5)):
            person = session.get(User, person_id)
            person.created_at = utcnow() - timedelta(days=days)
            session.add(person)
        for row in session.exec(select(LessonProgress)).scalars().all():
            row.completed_at = row.completed_at - timedelta(days=4)
            session.add(row)
        session.commit()
    summary.refresh(engine, pm, rebuild=True)

    def learners() -> int:
        with Session(engine) as session:
            return session.exec(select(func.sum(VillageTotal.value)).where(
                VillageTotal.key == "learners.registered")).scalar() or 0

    def active_people() -> set[int]:
        with Session(engine) as session:
            return set(session.exec(select(ActiveDay.user_id)).scalars().all())

    before = learners()
    assert {mine.id, from_event.id} <= active_people()
    assert _merge(client, mine.id, from_event.id).status_code == 303
    # The recount ran after the merge committed (the outbox delivers at once in tests).
    assert learners() == before - 1
    assert from_event.id not in active_people() and mine.id in active_people()

    def snapshot() -> dict:
        with Session(engine) as session:
            return {model.__tablename__: sorted(tuple(row) for row in session.execute(select(model.__table__)).all())
                    for model in (DayVillage, DayCommune, VillageTotal, WeekCommune, WeekTotal, ActiveDay,
                                  ActiveUser)}

    # Recounting the touched days gives exactly what summing everything again gives.
    recounted = snapshot()
    summary.refresh(engine, pm, rebuild=True)
    rebuilt = snapshot()
    # A total of 0 left by the subtraction is the same as no row.
    recounted["stats_village_total"] = [row for row in recounted["stats_village_total"] if row[-1]]
    assert recounted == rebuilt


def test_a_plugin_that_fails_undoes_the_whole_merge(install_plugins, make_settings, engine):
    from fastapi.testclient import TestClient

    from lms.app import create_app
    from tests.core.test_plugins import EVERYTHING
    from tests.plugins.everything import plugin

    install_plugins(EVERYTHING)
    settings = make_settings()
    app = create_app(settings)
    plugin.NOTES.create(app.state.engine, checkfirst=True)
    with Session(app.state.engine, expire_on_commit=False) as db:
        places = make_places(db)
        keep = make_user(db, settings, village=places.villages[0], name="Đỗ Thị Mai")
        drop = make_user(db, settings, village=places.villages[1], name="Đỗ Thị Mai")
        staff = make_user(db, settings, role="staff", commune=places.commune)
        db.execute(plugin.NOTES.insert().values(user_id=drop.id, text="ghi chú"))
        db.commit()
    with TestClient(app, follow_redirects=False) as browser:
        login(browser, staff.phone)
        assert "Ghi chú thử nghiệm 1" in text_of(_merge_page(browser, keep.id, drop.id).text)
        plugin.merge_fails = True
        try:
            with pytest.raises(RuntimeError):
                _merge(browser, keep.id, drop.id)
        finally:
            plugin.merge_fails = False
        with Session(app.state.engine) as db:
            assert db.get(User, drop.id).active and db.get(User, drop.id).merged_into_id is None
            assert db.execute(select(plugin.NOTES.c.user_id)).scalars().all() == [drop.id]
            assert db.exec(select(func.count()).select_from(AccountMerge)).scalar() == 0
        assert _merge(browser, keep.id, drop.id).status_code == 303
    with Session(app.state.engine) as db:
        assert db.execute(select(plugin.NOTES.c.user_id)).scalars().all() == [keep.id]
    assert (keep.id, drop.id, True) in plugin.merge_calls
