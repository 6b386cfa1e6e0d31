"""Teams, scoping, assisted enrolment with duplicates, in-person learning, login cards."""

import re

import pytest
from sqlalchemy import select

from lms.core.models import Consent, User
from lms.plugins.courses.models import LessonProgress
from lms.plugins.quiz.models import QuizAttempt
from lms.plugins.teams.models import LoginCard
from tests.factories import csrf, fresh, login, make_places, make_user, post_form, text_of
from tests.quiz.quiztools import answers_for, quiz_course
from tests.teams.teamtools import team_setup


def _enrol(browser, team, **fields):
    data = {"full_name": "Nguyễn Thị Tư", "phone": "", "village_id": "", "audience": "nguoi-dan",
            "birth_year": "1948", "consent": "on", **fields}
    return post_form(browser, f"/teams/{team.id}/residents/new", data, page=f"/teams/{team.id}/residents/new")


def _enrol_in_course(browser, db, resident_url, slug):
    from lms.plugins.courses.models import Course

    fresh(db)
    course_id = db.exec(select(Course.id).where(Course.slug == slug)).scalar_one()
    db.commit()
    enrolled = post_form(browser, f"{resident_url}/enrol", {"course_id": str(course_id)}, page=resident_url)
    assert enrolled.status_code == 303


def _assisted_start(browser, resident_url, slug):
    """The quiz plugin's button on the resident page: its form's action, posted as a browser does."""
    page = browser.get(resident_url).text
    resident_id = resident_url.rsplit("/", 1)[1]
    found = re.search(rf'action="(/quiz/{slug}/assisted/{resident_id}/start)"', page)
    assert found, "the resident page has no button to take the quiz with the resident"
    return post_form(browser, found.group(1), {}, page=resident_url)


def test_staff_make_a_team_and_members_become_team_members(client, db, settings, make_client):
    setup = team_setup(client, db, settings, make_client)
    assert setup.member.role == "team_member" and setup.member.commune_id == setup.places.commune.id
    page = text_of(client.get(f"/teams/{setup.team.id}").text)
    assert "Phụ trách: Thôn Đoài, Thôn Đông" in page and "Đoàn Viên Thanh" in page
    bad = post_form(client, "/teams", {"name": "", "villages": []}, page="/teams")
    assert bad.status_code == 422 and "Vui lòng đặt tên tổ" in text_of(bad.text)


def test_assisted_enrolment_records_consent_by_the_member(client, db, settings, make_client):
    setup = team_setup(client, db, settings, make_client)
    browser = make_client()
    login(browser, setup.member.phone)
    response = _enrol(browser, setup.team, village_id=str(setup.places.villages[1].id))
    assert response.status_code == 303
    page = text_of(browser.get(response.headers["location"]).text)
    assert "Đã ghi danh Nguyễn Thị Tư" in page and "do Đoàn Viên Thanh xác nhận" in page
    fresh(db)
    resident = db.exec(select(User).where(User.full_name == "Nguyễn Thị Tư")).scalars().one()
    assert resident.phone is None and resident.birth_year == 1948
    consents = db.exec(select(Consent).where(Consent.user_id == resident.id).order_by(Consent.id)).scalars().all()
    assert [(c.purpose, c.granted, c.method, c.helper_id) for c in consents] == [
        ("learning", True, "helper", setup.member.id), ("stats", False, "helper", setup.member.id),
        ("sms", False, "helper", setup.member.id)]


def test_duplicates_are_caught_by_phone_or_name_year_village(client, db, settings, make_client):
    setup = team_setup(client, db, settings, make_client)
    existing = make_user(db, settings, village=setup.places.villages[0], name="Trần Văn Bảy", phone="0988111222")
    existing.birth_year = 1950
    db.add(existing)
    db.commit()
    browser = make_client()
    login(browser, setup.member.phone)
    by_phone = _enrol(browser, setup.team, full_name="Tran Van Bay Khac", phone="0988 111 222",
                      village_id=str(setup.places.villages[0].id))
    assert by_phone.status_code == 409
    text = text_of(by_phone.text)
    assert "Có phải người này không?" in text and "Trần Văn Bảy" in text and "Vẫn tạo người mới" not in text
    by_name = _enrol(browser, setup.team, full_name="TRẦN văn bảy", birth_year="1950",
                     village_id=str(setup.places.villages[0].id))
    assert by_name.status_code == 409 and "Vẫn tạo người mới" in text_of(by_name.text)
    forced = _enrol(browser, setup.team, full_name="Trần Văn Bảy", birth_year="1950",
                    village_id=str(setup.places.villages[0].id), confirm_new="1")
    assert forced.status_code == 303
    fresh(db)
    assert len(db.exec(select(User).where(User.name_folded == "tran van bay")).scalars().all()) == 2


def test_a_phone_registered_a_moment_ago_is_shown_not_half_written(client, db, settings, make_client,
                                                                  monkeypatch):
    setup = team_setup(client, db, settings, make_client)
    make_user(db, settings, village=setup.places.villages[0], name="Trần Văn Bảy", phone="0988111222")
    from lms.plugins.teams import services

    real, calls = services.possible_duplicates, []

    def blind_once(db, **kwargs):
        # As if the other account was made between the check and the insert.
        calls.append(kwargs["phone"])
        return [] if len(calls) == 1 else real(db, **kwargs)

    monkeypatch.setattr(services, "possible_duplicates", blind_once)
    browser = make_client()
    login(browser, setup.member.phone)
    response = _enrol(browser, setup.team, full_name="Người Khác", phone="0988 111 222",
                      village_id=str(setup.places.villages[0].id))
    assert response.status_code == 409 and len(calls) == 2
    text = text_of(response.text)
    assert "Trần Văn Bảy" in text and "cùng số điện thoại" in text and "Vẫn tạo người mới" not in text
    assert 'value="Người Khác"' in response.text  # what the member typed is kept
    fresh(db)
    assert db.exec(select(User).where(User.full_name == "Người Khác")).scalars().all() == []
    assert db.exec(select(Consent)).scalars().all() == []
    db.commit()


def test_a_member_sees_only_the_teams_residents(client, db, settings, make_client):
    setup = team_setup(client, db, settings, make_client)
    inside = make_user(db, settings, village=setup.places.villages[1], name="Người Trong Tổ")
    outside = make_user(db, settings, village=setup.places.villages[2], name="Người Thôn Bắc")
    other_commune = make_places(db, commune_name="Xã Khác", villages=("Thôn Lạ",))
    stranger_member = make_user(db, settings, role="team_member", commune=other_commune.commune)
    browser = make_client()
    login(browser, setup.member.phone)
    listing = text_of(browser.get(f"/teams/{setup.team.id}/residents").text)
    assert "Người Trong Tổ" in listing and "Người Thôn Bắc" not in listing
    assert browser.get(f"/teams/{setup.team.id}/residents/{outside.id}").status_code == 404
    assert post_form(browser, f"/teams/{setup.team.id}/residents/{outside.id}/card", {},
                     page="/teams").status_code == 404
    intruder = make_client()
    login(intruder, stranger_member.phone)
    for path in (f"/teams/{setup.team.id}", f"/teams/{setup.team.id}/residents",
                 f"/teams/{setup.team.id}/residents/{inside.id}", f"/teams/{setup.team.id}/import",
                 "/teams/0", "/teams/abc", f"/teams/{setup.team.id}/residents/-1"):
        assert intruder.get(path).status_code == 404, path
    assert "Tổ công nghệ số thôn Đông" not in intruder.get("/teams").text


@pytest.mark.parametrize(("role", "status"), [("learner", 403), ("team_member", 200), ("staff", 200),
                                              ("admin", 200)])
def test_teams_page_per_role(client, db, settings, role, status):
    places = make_places(db)
    person = make_user(db, settings, role=role, commune=places.commune, village=places.villages[0])
    login(client, person.phone)
    assert client.get("/teams").status_code == status


def test_only_staff_manage_teams(client, db, settings, make_client):
    setup = team_setup(client, db, settings, make_client)
    browser = make_client()
    login(browser, setup.member.phone)
    assert post_form(browser, "/teams", {"name": "Tổ riêng"}, page="/teams").status_code == 403
    assert post_form(browser, f"/teams/{setup.team.id}/members", {"phone": "0912000000"},
                     page="/teams").status_code == 403


def test_in_person_lessons_and_a_quiz_are_attributed_to_the_member(client, db, settings, make_client, tmp_path):
    slug = quiz_course(db, tmp_path)
    setup = team_setup(client, db, settings, make_client)
    browser = make_client()
    login(browser, setup.member.phone)
    resident_url = _enrol(browser, setup.team, village_id=str(setup.places.villages[0].id)).headers["location"]
    resident_url = resident_url.split("?")[0]
    resident_id = int(resident_url.rsplit("/", 1)[1])
    from lms.plugins.courses.models import Course, Lesson

    fresh(db)
    course = db.exec(select(Course).where(Course.slug == slug)).scalars().one()
    lessons = db.exec(select(Lesson).where(Lesson.course_id == course.id)).scalars().all()
    db.commit()
    post_form(browser, f"{resident_url}/enrol", {"course_id": str(course.id)}, page=resident_url)
    post_form(browser, f"{resident_url}/lessons", {"course_id": str(course.id),
                                                   "lesson_ids": [str(lesson.id) for lesson in lessons]},
              page=resident_url)
    fresh(db)
    progress = db.exec(select(LessonProgress).where(LessonProgress.user_id == resident_id)).scalars().all()
    assert len(progress) == 2 and {p.confirmed_by_id for p in progress} == {setup.member.id}
    db.commit()
    start = _assisted_start(browser, resident_url, slug)
    assert start.status_code == 303
    attempt_url = start.headers["location"]
    assert attempt_url.startswith(f"/quiz/{slug}/assisted/{resident_id}/attempts/")
    fresh(db)
    attempt = db.exec(select(QuizAttempt).where(QuizAttempt.user_id == resident_id)).scalars().one()
    db.commit()
    browser.post(attempt_url, data={**answers_for(attempt), "csrf_token": csrf(browser, attempt_url)})
    assert "100% — Đạt" in text_of(browser.get(attempt_url).text)
    fresh(db)
    attempt = db.get(QuizAttempt, attempt.id)
    assert (attempt.user_id, attempt.helper_id) == (resident_id, setup.member.id)
    db.commit()
    page = text_of(browser.get(resident_url).text)
    assert "Khóa học khoa-kiem-tra" in page and "Đã hoàn thành" in page and "100% (Đạt)" in page


def test_login_card_signs_in_and_stops_at_once_when_revoked(client, db, settings, make_client):
    setup = team_setup(client, db, settings, make_client)
    browser = make_client()
    login(browser, setup.member.phone)
    resident_url = _enrol(browser, setup.team, village_id=str(setup.places.villages[0].id)).headers["location"]
    resident_url = resident_url.split("?")[0]
    card = post_form(browser, f"{resident_url}/card", {}, page=resident_url)
    assert card.status_code == 200 and "<svg" in card.text and "Nguyễn Thị Tư" in card.text
    assert card.headers["cache-control"] == "no-store"
    fresh(db)
    stored = db.exec(select(LoginCard)).scalars().one()
    db.commit()
    assert stored.token_digest not in card.text  # only the digest is stored; the page holds the token

    from lms.security import token_digest

    # The token is in the QR drawing only (not as text to copy), and the database keeps its digest.
    token = _card_token(card.text)
    assert token_digest(token) == stored.token_digest and token not in card.text
    assert len(token) >= 32  # 192 random bits
    phone = make_client()
    signed = phone.get(f"/k/{token}")
    assert signed.status_code == 303 and signed.headers["location"] == "/my/courses"
    assert "Nguyễn Thị Tư" in text_of(phone.get("/account").text)
    post_form(browser, f"{resident_url}/card/revoke", {}, page=resident_url)
    assert make_client().get(f"/k/{token}").status_code == 404
    # Reprinting gives a new card; the old token still does nothing.
    post_form(browser, f"{resident_url}/card", {}, page=resident_url)
    assert make_client().get(f"/k/{token}").status_code == 404


def _card_token(html):
    """Decode the card's QR (rendered by Chromium-free means: the SVG path) with zxing."""
    import io

    import zxingcpp
    from PIL import Image

    svg = html[html.index("<svg"): html.index("</svg>") + 6]
    png = _svg_to_png(svg)
    [result] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return result.text.rsplit("/k/", 1)[1]


def _svg_to_png(svg: str) -> bytes:
    """Rasterise our QR SVG (one path of unit squares) with Pillow."""
    import io
    import re

    from PIL import Image, ImageDraw

    box = [float(v) for v in re.search(r'viewBox="([^"]+)"', svg).group(1).split()]
    scale = 10
    image = Image.new("L", (int(box[2] * scale), int(box[3] * scale)), 255)
    draw = ImageDraw.Draw(image)
    path = re.search(r'<path[^>]* d="([^"]+)"', svg).group(1)
    for x, y, _rest in re.findall(r"M(-?[\d.]+),(-?[\d.]+)((?:[hvHVz][^MhvHVz]*)*)", path):
        draw.rectangle([float(x) * scale, float(y) * scale, (float(x) + 1) * scale - 1,
                        (float(y) + 1) * scale - 1], fill=0)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_refusals_say_why_in_vietnamese(client, db, settings, make_client, tmp_path):
    setup = team_setup(client, db, settings, make_client)
    browser = make_client()
    login(browser, setup.member.phone)
    # The member lives in a village of the team, but a card signs in learners only.
    refused = post_form(browser, f"/teams/{setup.team.id}/residents/{setup.member.id}/card", {},
                        page="/teams")
    assert refused.status_code == 409
    assert "Chỉ cấp thẻ đăng nhập cho người học." in text_of(refused.text)
    fresh(db)
    assert db.exec(select(LoginCard)).scalars().all() == []
    db.commit()

    from tests.quiz.quiztools import QUIZ

    slug = quiz_course(db, tmp_path, quiz={**QUIZ, "cooldown_minutes": 60})
    resident_url = _enrol(browser, setup.team, village_id=str(setup.places.villages[0].id)
                          ).headers["location"].split("?")[0]
    _enrol_in_course(browser, db, resident_url, slug)
    attempt_url = _assisted_start(browser, resident_url, slug).headers["location"]
    browser.post(attempt_url, data={"csrf_token": csrf(browser, attempt_url), "q0": "x"})  # refused: nothing
    fresh(db)
    attempt = db.exec(select(QuizAttempt)).scalars().one()
    db.commit()
    browser.post(attempt_url, data={**answers_for(attempt, wrong={0, 1, 2, 3}),
                                    "csrf_token": csrf(browser, attempt_url)})
    again = _assisted_start(browser, resident_url, slug)
    assert again.status_code == 429 and "Bạn cần chờ thêm 60 phút" in text_of(again.text)


def test_merging_two_villages_keeps_the_team_looking_after_them(client, db, settings, make_client):
    from lms.plugins.teams.models import TeamVillage
    from tests.teams.teamtools import team_setup

    setup = team_setup(client, db, settings, make_client)  # the team covers Thôn Đông and Thôn Đoài
    east, west, north = setup.places.villages
    preview = client.get(f"/staff/villages/gop?bo={west.id}&vao={east.id}")
    assert "Tổ công nghệ số phụ trách thôn: 1 (1 tổ đã phụ trách cả hai thôn)" in text_of(preview.text)
    post_form(client, "/staff/villages/gop", {"bo": west.id, "vao": east.id}, page="/staff/villages")
    post_form(client, "/staff/villages/gop", {"bo": north.id, "vao": east.id}, page="/staff/villages")
    fresh(db)
    covered = db.exec(select(TeamVillage.village_id).where(TeamVillage.team_id == setup.team.id)).scalars().all()
    assert covered == [east.id]
