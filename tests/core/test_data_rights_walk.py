"""A person's data rights from end to end, in Chromium at 360×740 against the real server: a
learner with progress, a quiz attempt, an event registration and check-in, a certificate and a
lesson confirmed by a team member downloads their data, withdraws consent for events, asks for
erasure; staff carry it out. Afterwards no table holds the name or phone, the certificate says
revoked, the statistics totals are what they were, and the records say who did what."""

import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select
from sqlmodel import Session

from lms.core.models import Consent, DataRequest, User
from lms.core.services import password_context
from lms.plugins.certificates.models import Certificate
from lms.plugins.courses.models import Course, Lesson, LessonProgress
from lms.plugins.events.models import Registration
from lms.plugins.quiz.models import QuizAttempt
from lms.plugins.stats import summary
from lms.plugins.stats.models import VillageTotal
from tests.certificates.certtools import SLUG
from tests.courses.packtools import write_pack
from tests.events.eventtools import register, staff_with_event
from tests.factories import PASSWORD, csrf, fresh, login, post_form, text_of
from tests.quiz.quiztools import answers_for, quiz_course
from tests.teams.teamtools import team_setup

pytestmark = pytest.mark.browser

NAME = "Trịnh Thị Quyền Riêng"
PHONE = "0966123456"


def _totals(engine) -> dict[str, int]:
    with Session(engine) as session:
        return dict(session.execute(select(VillageTotal.key, func.sum(VillageTotal.value))
                                    .group_by(VillageTotal.key)).all())


def _tables_holding(engine, needles: tuple[str, ...]) -> dict[str, list[str]]:
    """Every text or JSON column of every table, searched for the person's name and phone."""
    found: dict[str, list[str]] = {}
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        for table in inspector.get_table_names():
            columns = [c["name"] for c in inspector.get_columns(table)
                       if isinstance(c["type"], sa.String | sa.Text | sa.JSON)]
            for column in columns:
                # Names from the inspector, not from input.
                quoted = sa.text(f'SELECT CAST("{column}" AS TEXT) FROM "{table}"')  # noqa: S608
                for (value,) in conn.execute(quoted):
                    if value and any(needle in value for needle in needles):
                        found.setdefault(table, []).append(column)
    return found


def _people_in_place(client, db, settings, make_client, tmp_path):
    """Built over HTTP the way each person does it; the learner then sets a password."""
    write_pack(tmp_path / "packs", SLUG, lessons=["mot", "hai"], title="An toàn trên mạng")
    quiz_slug = quiz_course(db, tmp_path / "packs")  # synced together: a sync retires packs it does not see
    setup = team_setup(client, db, settings, make_client)
    member = make_client()
    login(member, setup.member.phone)
    created = post_form(member, f"/teams/{setup.team.id}/residents/new", {
        "full_name": NAME, "phone": PHONE, "village_id": str(setup.places.villages[0].id), "audience": "nguoi-dan",
        "consent": "on", "consent_stats": "on", "confirm_new": "1"}, page=f"/teams/{setup.team.id}/residents/new")
    assert created.status_code == 303, created.text
    resident_url = created.headers["location"].split("?")[0]
    fresh(db)
    person = db.exec(select(User).where(User.phone == PHONE)).scalars().one()
    course = db.exec(select(Course).where(Course.slug == SLUG)).scalars().one()
    first = db.exec(select(Lesson).where(Lesson.course_id == course.id, Lesson.slug == "mot")).scalars().one()
    person.password_hash = password_context(settings).hash(PASSWORD)
    db.add(person)
    db.commit()
    # The member confirms the first lesson, done together at the community house.
    post_form(member, f"{resident_url}/enrol", {"course_id": str(course.id)}, page=resident_url)
    post_form(member, f"{resident_url}/lessons", {"course_id": str(course.id), "lesson_ids": [str(first.id)]},
              page=resident_url)
    learner = make_client()
    login(learner, PHONE)
    # The second lesson alone: the course is complete and a certificate issued.
    post_form(learner, f"/courses/{SLUG}/hai/done", {}, page=f"/courses/{SLUG}/hai")
    start = post_form(learner, f"/quiz/{quiz_slug}/start", {}, page=f"/quiz/{quiz_slug}")
    fresh(db)
    attempt = db.exec(select(QuizAttempt).where(QuizAttempt.user_id == person.id)).scalars().one()
    db.commit()
    url = start.headers["location"]
    learner.post(url, data={**answers_for(attempt, wrong={0}), "action": "submit", "csrf_token": csrf(learner, url)})
    # At the launch event: registered with the same phone, then scanned at the door.
    places, event_staff, event = staff_with_event(client, db, settings, places=setup.places)
    ticket = register(make_client(), event, name=NAME, phone=PHONE, village=setup.places.villages[0])
    token = re.search(r"/t/([\w-]+)", ticket.headers["location"]).group(1)
    checkin = f"/staff/events/{event.id}/checkin"
    assert "Điểm danh xong" in text_of(post_form(client, checkin, {"scan": token, "nonce": "n1"}, page=checkin).text)
    fresh(db)
    certificate = db.exec(select(Certificate).where(Certificate.user_id == person.id)).scalars().one()
    db.commit()
    return setup, person, certificate, event


def test_a_learner_downloads_withdraws_and_is_erased(live_server, phone_page, client, db, settings, engine,
                                                    make_client, tmp_path):
    setup, person, certificate, event = _people_in_place(client, db, settings, make_client, tmp_path)
    # Every day with the person's facts is over and summed: the totals are what reports upward hold.
    with Session(engine) as session:
        for model, column in ((User, User.created_at), (LessonProgress, LessonProgress.completed_at)):
            for row in session.exec(select(model)).scalars().all():
                setattr(row, column.key, getattr(row, column.key) - timedelta(days=3))
                session.add(row)
        session.commit()
    pm = client.app.state.pm
    summary.refresh(engine, pm, rebuild=True)
    before = _totals(engine)
    assert before.get("learners.registered", 0) >= 1

    base = live_server(workers=1)
    page = phone_page
    page.goto(f"{base}/login")
    page.get_by_label("Số điện thoại").fill(PHONE)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()

    # Everything the platform holds, on the page and in the file.
    page.goto(f"{base}/account/data")
    shown = page.inner_text("main")
    for item in (NAME, PHONE, "An toàn trên mạng", "Bài kiểm tra đã làm", "Lễ phát động Bình dân học vụ số",
                 "Điểm danh lúc", "Chứng nhận", "Người xác nhận (mã)", str(setup.member.id)):
        assert item in shown, item
    with page.expect_download() as download:
        page.get_by_role("link", name="Tải về (tệp JSON)").first.click()
    data = json.loads(download.value.path().read_text(encoding="utf-8"))
    sections = {s["bang"]: s["dong"] for s in data["du_lieu"]}
    assert sections["core_user"][0]["Số điện thoại"] == PHONE
    assert len(sections["courses_lesson_progress"]) == 2
    assert {r["Người xác nhận (mã)"] for r in sections["courses_lesson_progress"]} == {setup.member.id, None}
    assert len(sections["quiz_attempt"]) == 1
    assert [r["Họ và tên"] for r in sections["events_registration"]] == [NAME]
    assert sections["events_registration"][0]["Điểm danh lúc"]
    assert [r["Họ tên trên chứng nhận"] for r in sections["certificates_certificate"]] == [NAME]
    assert len(sections["teams_assisted_resident"]) == 1
    assert {r["Mục đích"] for r in sections["core_consent"]} >= {
        "Học tập và chứng nhận", "Tính vào số liệu thống kê gửi lên cấp trên", "Đăng ký và điểm danh sự kiện"}

    # Withdraw events only: the learning goes on, the registration loses the name and phone.
    page.goto(f"{base}/account#dong-y")
    events_card = page.locator("#dong-y-events")
    assert "Vé các sự kiện chưa diễn ra bị huỷ" in events_card.inner_text()
    events_card.get_by_role("button", name="Rút lại sự đồng ý").click()
    page.wait_for_load_state()
    assert "Đã rút lại sự đồng ý" in page.inner_text("main")
    assert "Đăng ký và điểm danh sự kiện: chưa đồng ý" in page.locator("#dong-y-events").inner_text()
    fresh(db)
    [registration] = db.exec(select(Registration).where(Registration.user_id == person.id)).scalars().all()
    assert registration.phone is None and registration.full_name != NAME and registration.checked_in_at
    assert db.get(User, person.id).full_name == NAME
    db.commit()

    # Ask for erasure.
    page.goto(f"{base}/account/data#xoa")
    page.get_by_label("Tôi muốn xoá dữ liệu của mình.").check()
    page.get_by_role("button", name="Gửi yêu cầu xoá").click()
    page.wait_for_load_state()
    assert "Đã gửi yêu cầu" in page.inner_text("main")
    page.goto(f"{base}/account")
    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_load_state()

    # Staff of the commune: the queue with its clocks, acknowledge, carry out, the receipt.
    page.goto(f"{base}/login")
    page.get_by_label("Số điện thoại").fill(setup.staff.phone)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()
    page.goto(f"{base}/staff")
    page.get_by_role("link", name=re.compile("Yêu cầu về dữ liệu")).first.click()
    page.wait_for_load_state()
    card = page.locator("section.card", has_text=NAME)
    assert "do chính người này gửi" in card.inner_text() and "Xác nhận nhận trước" in card.inner_text()
    card.get_by_role("button", name="Xác nhận đã nhận").click()
    page.wait_for_load_state()
    card = page.locator("section.card", has_text=NAME)
    card.get_by_label(re.compile("Đã kiểm tra đúng người yêu cầu")).check()
    card.get_by_role("button", name="Thực hiện xoá").click()
    page.wait_for_load_state()
    receipt = page.inner_text("main")
    assert "Biên nhận xoá dữ liệu cá nhân" in receipt and "Chứng nhận" in receipt and "Đăng ký sự kiện" in receipt
    assert NAME not in receipt and PHONE not in receipt

    # The audit trail: who filed, acknowledged and carried out; the consent withdrawn by the person.
    page.goto(f"{base}/staff/data-requests")
    done_row = page.locator("#da-xu-ly + .table-scroll tr", has_text=f"mã {person.id}").inner_text()
    assert "người này tự gửi" in done_row and done_row.count(setup.staff.full_name) == 2
    fresh(db)
    [request] = db.exec(select(DataRequest).where(DataRequest.user_id == person.id)).scalars().all()
    assert (request.filed_by_id, request.acknowledged_by_id, request.completed_by_id) == (
        person.id, setup.staff.id, setup.staff.id)
    assert request.acknowledged_at <= request.completed_at
    withdrawal = db.exec(select(Consent).where(Consent.user_id == person.id, Consent.purpose == "events")
                         .order_by(Consent.id.desc())).scalars().first()
    assert (withdrawal.granted, withdrawal.method) == (False, "self")
    db.commit()

    # No table holds the name or the phone.
    assert _tables_holding(engine, (NAME, PHONE)) == {}
    # The certificate says revoked, to anyone who holds the printout.
    verify = page.request.get(f"{base}/c/{certificate.code}")
    assert "thu hồi" in text_of(verify.text()).lower() and NAME not in verify.text()
    # Counts are kept, people are not.
    summary.refresh(engine, pm, rebuild=True)
    assert _totals(engine) == before
    # And the person can no longer log in.
    page.goto(f"{base}/login")
    page.get_by_label("Số điện thoại").fill(PHONE)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()
    assert page.url.startswith(f"{base}/login")
