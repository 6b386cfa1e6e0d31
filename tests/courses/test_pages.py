"""Catalog by audience, course and lesson pages, progress, resume, completion."""

import re

import pytest
from sqlalchemy import event, func, select

from lms import paths
from lms.plugins.courses.models import Enrolment, LessonProgress
from tests.courses.packtools import sync_dirs, write_pack
from tests.factories import csrf, fresh, login, make_places, make_user, post_form, text_of


@pytest.fixture
def real_courses(db):
    sync_dirs(db, [paths.courses_dir()])


@pytest.fixture
def learner(db, settings):
    return make_user(db, settings, village=make_places(db).villages[0], name="Lý Thị Mai")


def test_home_asks_who_you_are(client, real_courses):
    page = client.get("/").text
    assert "Bạn là ai?" in text_of(page)
    for slug in ("nguoi-dan", "can-bo", "doanh-nghiep", "to-cong-nghe"):
        assert f'href="/courses?audience={slug}"' in page


def test_catalog_by_audience_from_a_poster_url(client, real_courses):
    residents = text_of(client.get("/courses?audience=nguoi-dan").text)
    assert "Khóa học cho người dân" in residents
    assert "VNeID và dịch vụ công trực tuyến" in residents
    assert "Thanh toán số và an toàn trên mạng" in residents
    assert "Hóa đơn điện tử" not in residents
    business = text_of(client.get("/courses?audience=doanh-nghiep").text)
    assert "Hóa đơn điện tử cho doanh nghiệp và hộ kinh doanh" in business
    assert "VNeID và dịch vụ công trực tuyến" not in business


def test_catalog_filters_by_competence_domain(client, real_courses):
    ai = text_of(client.get("/courses?domain=ung-dung-ai").text)
    assert "Trí tuệ nhân tạo cho cán bộ" in ai
    assert "Hóa đơn điện tử cho doanh nghiệp" not in ai
    fragment = client.get("/courses?domain=ung-dung-ai", headers={"HX-Request": "true"}).text
    assert fragment.lstrip().startswith('<div id="results">')


def test_course_page_lists_lessons_minutes_domains_and_preview_tags(client, real_courses):
    page = client.get("/courses/vneid-va-dich-vu-cong").text
    text = text_of(page)
    assert "Kích hoạt tài khoản định danh điện tử mức 2" in text
    assert "khoảng 40 phút" in text and "5 bài" in text
    assert "Khai thác dữ liệu và thông tin" in text and "An toàn" in text
    assert '<meta property="og:title" content="VNeID và dịch vụ công trực tuyến">' in page
    og_image = (r'<meta property="og:image" content="http://127\.0\.0\.1:8000/courses/vneid-va-dich-vu-cong/'
                r'anh-chia-se\.png\?v=[0-9a-f]{12}">')
    assert re.search(og_image, page)
    assert '<meta property="og:url" content="http://127.0.0.1:8000/courses/vneid-va-dich-vu-cong">' in page
    assert client.get("/courses/khong-co").status_code == 404


def test_anonymous_reader_sees_the_lesson_and_a_sign_up_link_back(client, real_courses):
    page = client.get("/courses/vneid-va-dich-vu-cong/kich-hoat-muc-2").text
    text = text_of(page)
    assert "Cuc Canh sat QLHC ve TTXH" in text
    assert "Bài 3/5 · Khoảng 4 phút đọc" in text
    assert 'href="/signup?next=/courses/vneid-va-dich-vu-cong/kich-hoat-muc-2"' in page
    assert "Đã học xong bài này" not in text
    assert '<meta property="og:description" content="Sau khi đăng ký mức 2 tại công an' in page


def test_signed_in_learner_marks_done_and_resumes(client, real_courses, learner):
    login(client, learner.phone)
    lesson = "/courses/vneid-va-dich-vu-cong/vneid-la-gi"
    assert "Đã học xong bài này" in text_of(client.get(lesson).text)
    response = post_form(client, f"{lesson}/done", {}, page=lesson)
    assert response.status_code == 303
    page = text_of(client.get(response.headers["location"]).text)
    assert "Bạn đã học xong bài này" in page and "Đã học 1/5 bài" in page

    course = text_of(client.get("/courses/vneid-va-dich-vu-cong").text)
    assert "Học tiếp: Tài khoản định danh điện tử mức 1 và mức 2" in course
    assert "Đã học 1/5 bài (20%)" in course
    home = text_of(client.get("/").text)
    assert "Học tiếp: Tài khoản định danh điện tử mức 1 và mức 2" in home
    mine = text_of(client.get("/my/courses").text)
    assert "VNeID và dịch vụ công trực tuyến" in mine and "Đã học 1/5 bài" in mine
    catalog = text_of(client.get("/courses?audience=nguoi-dan").text)
    assert "Đã học 1/5 bài" in catalog


def test_marking_done_twice_counts_once(client, db, real_courses, learner):
    login(client, learner.phone)
    lesson = "/courses/vneid-va-dich-vu-cong/vneid-la-gi"
    token = csrf(client, lesson)
    for _ in range(3):
        assert client.post(f"{lesson}/done", data={"csrf_token": token}).status_code == 303
    fresh(db)
    assert db.exec(select(func.count()).select_from(LessonProgress)).one()[0] == 1
    assert db.exec(select(func.count()).select_from(Enrolment)).one()[0] == 1


def test_htmx_done_returns_just_the_done_box(client, real_courses, learner):
    login(client, learner.phone)
    lesson = "/courses/vneid-va-dich-vu-cong/vneid-la-gi"
    token = csrf(client, lesson)
    response = client.post(f"{lesson}/done", headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="hoan-thanh"')
    assert "Tốt lắm! Bạn đã học xong bài này." in text_of(response.text)
    assert "<html" not in response.text


def test_anonymous_cannot_mark_done_and_is_sent_to_log_in_then_back(client, real_courses):
    lesson = "/courses/vneid-va-dich-vu-cong/vneid-la-gi"
    token = csrf(client, "/login")
    response = client.post(f"{lesson}/done", data={"csrf_token": token},
                           headers={"referer": f"http://testserver{lesson}"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={lesson}"


def test_completing_every_lesson_raises_the_hook_once(install_plugins, make_settings, engine, db,
                                                      tmp_path):
    from fastapi.testclient import TestClient

    from lms.app import create_app
    from tests.plugins.everything import plugin

    install_plugins({"everything": "tests.plugins.everything.plugin"})
    write_pack(tmp_path, "khoa-ngan", lessons=["mot", "hai"])
    sync_dirs(db, [tmp_path])
    settings = make_settings()
    user = make_user(db, settings, village=make_places(db).villages[0])
    plugin.received_events.clear()
    with TestClient(create_app(settings), follow_redirects=False) as client:
        login(client, user.phone)
        token = csrf(client, "/courses/khoa-ngan/mot")
        for lesson in ("mot", "hai", "hai", "mot"):
            client.post(f"/courses/khoa-ngan/{lesson}/done", data={"csrf_token": token})
        page = text_of(client.get("/courses/khoa-ngan").text)
    # The sync's own event (courses.content_changed) is delivered too; the learner's come once.
    names = [e.name for e in plugin.received_events if e.name.endswith("completed")]
    assert names == ["courses.lessons_completed", "courses.completed"]
    assert all(e.user_id == user.id for e in plugin.received_events if e.name.endswith("completed"))
    assert "Bạn đã hoàn thành khóa học này" in page
    fresh(db)
    enrolment = db.exec(select(Enrolment)).scalars().one()
    assert enrolment.lessons_completed_at and enrolment.completed_at


def test_the_last_lesson_records_completion_and_the_certificate_follows(client, db, tmp_path, learner):
    from lms.core.models import OutboxEvent
    from lms.plugins.certificates.models import Certificate
    from lms.plugins.courses.models import Course

    write_pack(tmp_path, "khoa-chung-nhan", lessons=["mot", "hai"], title="Khóa học có chứng nhận")
    sync_dirs(db, [tmp_path])
    login(client, learner.phone)
    post_form(client, "/courses/khoa-chung-nhan/mot/done", {}, page="/courses/khoa-chung-nhan/mot")
    fresh(db)
    assert db.exec(select(OutboxEvent).where(OutboxEvent.name == "courses.completed")).scalars().all() == []
    db.commit()
    last = post_form(client, "/courses/khoa-chung-nhan/hai/done", {}, page="/courses/khoa-chung-nhan/hai")
    assert last.status_code == 303
    fresh(db)
    course_id = db.exec(select(Course.id).where(Course.slug == "khoa-chung-nhan")).scalar_one()
    [completed] = db.exec(select(OutboxEvent).where(OutboxEvent.name == "courses.completed")).scalars().all()
    assert completed.payload == {"user_id": learner.id, "course_id": course_id}
    # Delivered once the lesson's transaction committed, before the answer went out.
    assert completed.delivered_at is not None and completed.last_error is None
    certificate = db.exec(select(Certificate).where(Certificate.user_id == learner.id)).scalars().one()
    assert certificate.course_id == course_id and certificate.revoked_at is None
    db.commit()
    assert "Khóa học có chứng nhận" in text_of(client.get("/my/certificates").text)


def test_unknown_or_retired_lesson_is_not_found(client, db, tmp_path):
    write_pack(tmp_path, "khoa-thu")
    sync_dirs(db, [tmp_path])
    assert client.get("/courses/khoa-thu/bai-ba").status_code == 200
    write_pack(tmp_path, "khoa-thu", lessons=["bai-mot", "bai-hai"])
    (tmp_path / "khoa-thu" / "bai-ba.md").unlink()
    sync_dirs(db, [tmp_path])
    assert client.get("/courses/khoa-thu/bai-ba").status_code == 404
    assert client.get("/courses/khoa-thu/khong-co").status_code == 404


class QueryCounter:
    def __init__(self, engine):
        self.engine, self.count = engine, 0

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, _conn, _cursor, statement, *args):
        # Transaction control is not a query (SQLite gets an explicit BEGIN from us).
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            self.count += 1


@pytest.mark.parametrize("lessons", [3, 12])
def test_pages_do_a_bounded_number_of_queries(app, client, db, settings, tmp_path, lessons):
    names = [f"bai-{i}" for i in range(lessons)]
    write_pack(tmp_path, "khoa-dem", lessons=names)
    sync_dirs(db, [tmp_path])
    user = make_user(db, settings, village=make_places(db).villages[0])
    login(client, user.phone)
    for name in names[: lessons // 2]:
        post_form(client, f"/courses/khoa-dem/{name}/done", {}, page=f"/courses/khoa-dem/{name}")
    client.get("/courses/khoa-dem/bai-1")  # warm the per-worker cache
    counts = {}
    for path in ("/courses", "/courses/khoa-dem", "/courses/khoa-dem/bai-1", "/my/courses"):
        with QueryCounter(app.state.engine) as counter:
            assert client.get(path).status_code == 200
        counts[path] = counter.count
    # session+user, catalog version, progress (+ enrolment on the course page and list)
    assert counts["/courses"] <= 3, counts
    assert counts["/courses/khoa-dem/bai-1"] <= 3, counts
    assert counts["/courses/khoa-dem"] <= 4, counts
    assert counts["/my/courses"] <= 4, counts


def test_lessons_carry_757_skills_and_the_catalog_filters_by_them(client, db, tmp_path):
    import yaml

    from tests.courses.packtools import sync_dirs, write_pack

    for slug, codes in (("khoa-thiet-bi", ["757:nguoi-dan:0.1"]), ("khoa-phan-mem", ["757:nguoi-dan:0.2"]),
                        ("khoa-can-bo", ["757:can-bo"])):
        folder = write_pack(tmp_path / "packs", slug, lessons=["mot"], title=f"Khóa {slug}")
        course = yaml.safe_load((folder / "course.yaml").read_text("utf-8"))
        course["lessons"][0]["competences"] = codes
        (folder / "course.yaml").write_text(yaml.safe_dump(course, allow_unicode=True), "utf-8")
    sync_dirs(db, [tmp_path / "packs"])

    def listed(query):
        page = client.get(f"/courses?{query}").text
        return sorted(re.findall(r'href="/courses/(khoa-[a-z-]+)"', page))

    assert listed("skill=757:nguoi-dan:0.2") == ["khoa-phan-mem"]
    # A group takes in its skills; a code nobody teaches filters nothing.
    assert listed("skill=757:nguoi-dan") == ["khoa-phan-mem", "khoa-thiet-bi"]
    assert listed("skill=757:hoc-sinh") == ["khoa-can-bo", "khoa-phan-mem", "khoa-thiet-bi"]
    options = client.get("/courses").text
    assert "Người dân · 0.2 Sử dụng phần mềm trên thiết bị" in options and "Cán bộ, công chức, viên chức" in options
    lesson = text_of(client.get("/courses/khoa-phan-mem/mot").text)
    assert "Kỹ năng số (QĐ 757): Người dân · 0.2 Sử dụng phần mềm trên thiết bị" in lesson
