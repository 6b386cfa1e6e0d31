"""Staff set-up and scoping, public registration, tickets, check-in, attendance exports."""

import csv
import gzip
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from lms import offline, paths
from lms.core.models import Consent, Place, User
from lms.core.share_buttons import share_script_tag
from lms.plugins.courses.models import Enrolment
from tests.courses.packtools import sync_dirs
from tests.courses.test_pages import QueryCounter
from tests.events.eventtools import event_form, register, registrations, staff_with_event, when
from tests.factories import csrf, fresh, login, make_places, make_user, post_form, text_of


def test_staff_create_an_event_with_clear_errors(client, db, settings):
    places = make_places(db)
    staff = make_user(db, settings, role="staff", commune=places.commune)
    login(client, staff.phone)
    bad = post_form(client, "/staff/events/new", event_form(title="", ends_at=when(47), capacity="nhiều"),
                    page="/staff/events/new")
    assert bad.status_code == 422
    text = text_of(bad.text)
    assert "Vui lòng nhập tên sự kiện" in text
    assert "Thời gian kết thúc phải sau thời gian bắt đầu" in text
    assert "Sức chứa là số người" in text
    assert 'value="Hội trường UBND xã"' in bad.text
    ok = post_form(client, "/staff/events/new", event_form(), page="/staff/events/new")
    detail = text_of(client.get(ok.headers["location"]).text)
    code = re.search(r"Mã sự kiện: (\w{6})", detail).group(1)
    assert f"http://127.0.0.1:8000/e/{code}" in detail
    assert not set(code) & set("0O1IL")


def test_staff_only_see_their_communes_events(client, db, settings, make_client):
    places, _, event = staff_with_event(client, db, settings)
    elsewhere = make_places(db, commune_name="Xã Láng Giềng", villages=("Thôn Xa",))
    other = make_user(db, settings, role="staff", commune=elsewhere.commune)
    browser = make_client()
    login(browser, other.phone)
    assert "Lễ phát động" not in browser.get("/staff/events").text
    for path in ("", "/poster", "/display", "/checkin", "/attendance", "/attendance.csv"):
        assert browser.get(f"/staff/events/{event.id}{path}").status_code == 404, path
    assert post_form(browser, f"/staff/events/{event.id}/checkin", {"scan": "x"},
                     page="/staff/events").status_code == 404


@pytest.mark.parametrize(("role", "list_status", "create_status", "checkin_status"), [
    ("learner", 403, 403, 403), ("team_member", 200, 403, 200), ("staff", 200, 200, 200),
    ("admin", 200, 200, 200)])
def test_event_pages_per_role(client, db, settings, make_client, role, list_status, create_status,
                              checkin_status):
    places, _, event = staff_with_event(client, db, settings)
    person = make_user(db, settings, role=role, commune=places.commune, village=places.villages[0])
    browser = make_client()
    login(browser, person.phone)
    assert browser.get("/staff/events").status_code == list_status
    assert browser.get("/staff/events/new").status_code == create_status
    assert browser.get(f"/staff/events/{event.id}/checkin").status_code == checkin_status


def test_registration_page_is_tiny_and_works_without_script(client, db, settings, make_client):
    _, _, event = staff_with_event(client, db, settings)
    page = make_client().get(f"/e/{event.code}", headers={"accept-encoding": "gzip"})
    # No script file: only the line that starts the service worker once the page has loaded, and
    # the share buttons' few lines (the page works without either).
    assert "<script src" not in page.text and page.text.count("<script") == 2
    assert str(offline.register_tag()) in page.text and str(share_script_tag()) in page.text
    assert len(gzip.compress(page.content)) < 20 * 1024
    css = make_client().get(client.app.state.static.url("css/site.css")).content
    assert len(gzip.compress(page.content)) + len(gzip.compress(css)) < 20 * 1024
    assert 'name="idempotency_key"' in page.text and "Đăng ký tham dự" in page.text


def test_register_creates_account_ticket_and_enrolment(client, db, settings, make_client):
    sync_dirs(db, [paths.courses_dir()])
    places, _, event = staff_with_event(client, db, settings)
    course_id = db.exec(select(Enrolment.course_id)).first()  # none yet
    assert course_id is None
    from lms.plugins.courses.models import Course

    course = db.exec(select(Course).where(Course.slug == "vneid-va-dich-vu-cong")).scalars().one()
    post_form(client, f"/staff/events/{event.id}", {**event_form(), "course_ids": [str(course.id)]},
              page=f"/staff/events/{event.id}")
    attendee = make_client()
    response = register(attendee, event, village=places.villages[0])
    assert response.status_code == 303 and re.match(r"^/t/[\w-]{32}\?new=1$", response.headers["location"])
    ticket = attendee.get(response.headers["location"])
    text = text_of(ticket.text)
    assert "Đăng ký thành công" in text and "Lê Thị Hoa" in text and "Lễ phát động" in text
    assert "<svg" in ticket.text and "VNeID và dịch vụ công trực tuyến" in text
    assert ticket.headers["cache-control"] == "private, no-store"
    fresh(db)
    user = db.exec(select(User).where(User.phone == "0912000111")).scalars().one()
    assert user.password_hash is None and user.commune_id == places.commune.id
    consents = db.exec(select(Consent).where(Consent.user_id == user.id).order_by(Consent.id)).scalars().all()
    # The account's consent, the optional purposes asked (left unticked: refused), the registration's.
    assert [(c.purpose, c.granted, c.method) for c in consents] == [
        ("learning", True, "self"), ("stats", False, "self"), ("sms", False, "self"), ("events", True, "self")]
    enrolment = db.exec(select(Enrolment).where(Enrolment.user_id == user.id)).scalars().one()
    assert enrolment.course_id == course.id


def test_double_tap_and_same_phone_never_make_a_second_registration(client, db, settings, make_client):
    places, _, event = staff_with_event(client, db, settings)
    attendee = make_client()
    first = register(attendee, event, village=places.villages[0], key="khoa-form-1")
    again = register(attendee, event, village=places.villages[0], key="khoa-form-1")
    assert first.headers["location"].split("?")[0] == again.headers["location"].split("?")[0]
    other_device = make_client()
    same_phone = register(other_device, event, phone="+84 912 000 111", village=places.villages[1])
    assert same_phone.headers["location"].split("?")[0] == first.headers["location"].split("?")[0]
    assert "đây là vé của bạn" in text_of(other_device.get(same_phone.headers["location"]).text)
    assert len(registrations(db, event.id)) == 1


def test_an_existing_account_is_linked_without_revealing_it(client, db, settings, make_client):
    places, _, event = staff_with_event(client, db, settings)
    owner = make_user(db, settings, village=places.villages[0], name="Chủ Tài Khoản", phone="0977123123")
    stranger = make_client()
    response = register(stranger, event, name="Người Gõ Thử", phone="0977123123", village=places.villages[1])
    page = stranger.get(response.headers["location"]).text
    assert "Chủ Tài Khoản" not in page and "Người Gõ Thử" in page
    [registration] = registrations(db, event.id)
    assert registration.user_id == owner.id
    fresh(db)
    assert db.get(User, owner.id).full_name == "Chủ Tài Khoản"  # nothing of the account changed


def test_signed_in_learner_registers_in_one_tap(client, db, settings, make_client):
    places, _, event = staff_with_event(client, db, settings)
    learner = make_user(db, settings, village=places.villages[0], name="Đinh Thị Mơ")
    browser = make_client()
    login(browser, learner.phone)
    page = browser.get(f"/e/{event.code}").text
    assert "Đăng ký tham dự với tên Đinh Thị Mơ" in page
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    response = browser.post(f"/e/{event.code}", data={"csrf_token": csrf(browser, f"/e/{event.code}"),
                                                     "idempotency_key": key, "as_user": "1"})
    assert response.status_code == 303
    [registration] = registrations(db, event.id)
    assert registration.user_id == learner.id and registration.full_name == "Đinh Thị Mơ"


def test_bad_input_is_explained_and_kept(client, db, settings, make_client):
    places, _, event = staff_with_event(client, db, settings)
    response = register(make_client(), event, phone="12345", village=places.villages[0], consent="")
    assert response.status_code == 422
    text = text_of(response.text)
    assert "10 chữ số" in text and "Cần đồng ý" in text
    assert 'value="Lê Thị Hoa"' in response.text
    assert registrations(db, event.id) == []


def test_full_closed_and_past_events_say_so(client, db, settings, make_client):
    places, staff, full = staff_with_event(client, db, settings, capacity="2")
    for i in range(2):
        register(make_client(), full, phone=f"091200011{i}", village=places.villages[0])
    refused = register(make_client(), full, phone="0912000119", village=places.villages[0])
    assert refused.status_code == 409 and "đã đủ số người đăng ký" in text_of(refused.text)
    assert len(registrations(db, full.id)) == 2
    # The two already registered still get their tickets back.
    assert register(make_client(), full, phone="0912000110", village=places.villages[0]).status_code == 303

    _, _, closed = staff_with_event(client, db, settings, places=places, registration_closes_at=when(-1),
                                    registration_opens_at=when(-5))
    page = text_of(make_client().get(f"/e/{closed.code}").text)
    assert "Sự kiện đã hết hạn đăng ký" in page
    assert register(make_client(), closed, village=places.villages[0]).status_code == 409

    _, _, past = staff_with_event(client, db, settings, places=places, starts_at=when(-5), ends_at=when(-3))
    assert "Sự kiện này đã kết thúc" in text_of(make_client().get(f"/e/{past.code}").text)


def _token(location: str) -> str:
    return location.split("/t/")[1].split("?")[0]


def test_check_in_twice_counts_once(client, db, settings, make_client):
    places, _, event = staff_with_event(client, db, settings)
    token = _token(register(make_client(), event, village=places.villages[0]).headers["location"])
    checkin = f"/staff/events/{event.id}/checkin"
    first = post_form(client, checkin, {"scan": f"http://127.0.0.1:8000/t/{token}", "nonce": "n1"},
                      page=checkin)
    assert "Điểm danh xong: Lê Thị Hoa" in text_of(first.text)
    retry = client.post(checkin, data={"scan": token, "nonce": "n1", "csrf_token": csrf(client, checkin)},
                        headers={"accept": "application/json"})
    assert retry.json()["first_time"] is True and retry.json()["attended"] == 1
    second = post_form(client, checkin, {"scan": token, "nonce": "n2"}, page=checkin)
    assert re.search(r"Lê Thị Hoa đã điểm danh lúc \d\d:\d\d", text_of(second.text))
    [registration] = registrations(db, event.id)
    assert registration.checked_in_at is not None


def test_a_ticket_of_another_event_is_refused(client, db, settings, make_client):
    places, _, event = staff_with_event(client, db, settings)
    _, _, other = staff_with_event(client, db, settings, places=places, title="Tập huấn tổ công nghệ",
                                   kind="tap-huan")
    token = _token(register(make_client(), other, village=places.villages[0]).headers["location"])
    checkin = f"/staff/events/{event.id}/checkin"
    response = post_form(client, checkin, {"scan": token, "nonce": "x"}, page=checkin)
    assert response.status_code == 422 and "không thuộc sự kiện đang điểm danh" in text_of(response.text)
    assert registrations(db, other.id)[0].checked_in_at is None
    unknown = post_form(client, checkin, {"scan": "khong-co-ve-nay", "nonce": "y"}, page=checkin)
    assert "Không tìm thấy vé này" in text_of(unknown.text)


def test_search_by_name_or_phone_tail_and_walk_in(client, db, settings, make_client):
    places, _, event = staff_with_event(client, db, settings)
    register(make_client(), event, name="Phùng Văn Đức", phone="0912345987", village=places.villages[0])
    checkin = f"/staff/events/{event.id}/checkin"
    assert "Phùng Văn Đức" in text_of(client.get(f"{checkin}?q=duc").text)
    assert "Phùng Văn Đức" in text_of(client.get(f"{checkin}?q=987").text)
    fragment = client.get(f"{checkin}?q=987", headers={"HX-Request": "true"}).text
    assert fragment.lstrip().startswith('<div id="results">')
    registration_id = registrations(db, event.id)[0].id
    post_form(client, checkin, {"registration_id": str(registration_id), "nonce": "s1"}, page=checkin)
    walk_in = post_form(client, f"/staff/events/{event.id}/walk-in", {
        "full_name": "Bà Cụ Không Điện Thoại", "phone": "", "village_id": str(places.villages[1].id),
        "audience": "nguoi-dan", "consent": "on", "idempotency_key": "walk-1"}, page=checkin)
    assert "Đã đăng ký và điểm danh: Bà Cụ Không Điện Thoại" in text_of(walk_in.text)
    rows = registrations(db, event.id)
    assert len(rows) == 2 and all(r.checked_in_at for r in rows)
    fresh(db)
    walker = db.exec(select(User).where(User.full_name == "Bà Cụ Không Điện Thoại")).scalars().one()
    consents = db.exec(select(Consent).where(Consent.user_id == walker.id)).scalars().all()
    assert {c.purpose for c in consents} == {"learning", "stats", "sms", "events"}
    assert all(c.method == "helper" and c.helper_id is not None for c in consents)


def test_attendance_exports_are_safe_and_open(client, db, settings, make_client):
    places, _, event = staff_with_event(client, db, settings)
    with db.begin():
        tricky = Place(kind="village", name="=HYPERLINK(\"http://x\")", parent_id=places.commune.id)
        db.add(tricky)
    db.commit()
    register(make_client(), event, name="Trịnh Thị Út", village=tricky)
    register(make_client(), event, name="Mai Văn Tư", phone="0912000222", village=places.villages[0])
    page = text_of(client.get(f"/staff/events/{event.id}/attendance").text)
    assert "2 đăng ký · 0 có mặt" in page and "Thôn Đông 1 0" in page
    csv_bytes = client.get(f"/staff/events/{event.id}/attendance.csv").content
    assert csv_bytes.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(csv_bytes.decode("utf-8-sig"))))
    assert rows[0][0] == "Họ và tên"
    cells = [cell for row in rows for cell in row]
    assert "'=HYPERLINK(\"http://x\")" in cells and not any(c.startswith("=") for c in cells)
    book = load_workbook(io.BytesIO(client.get(f"/staff/events/{event.id}/attendance.xlsx").content))
    sheet = book["Danh sách"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[2][0] == "Họ và tên" and {"Mai Văn Tư", "Trịnh Thị Út"} <= {r[0] for r in values[3:]}
    assert book["Tổng hợp"]["A1"].value == "Thôn/tổ dân phố"
    assert any(c.value == "'=HYPERLINK(\"http://x\")" for row in book["Tổng hợp"].iter_rows() for c in row)


def test_display_page_count_updates_by_fragment(client, db, settings, make_client):
    places, _, event = staff_with_event(client, db, settings)
    register(make_client(), event, village=places.villages[0])
    page = client.get(f"/staff/events/{event.id}/display").text
    assert 'hx-trigger="every 5s"' in page and "<svg" in page
    fragment = client.get(f"/staff/events/{event.id}/display", headers={"HX-Request": "true"}).text
    assert fragment.lstrip().startswith('<div id="count"') and ">1</span> người đã đăng ký" in fragment


def test_registrations_of_long_past_events_lose_names_and_phones(client, db, settings, make_client):
    from datetime import timedelta

    from typer.testing import CliRunner

    from lms.cli import build_cli
    from lms.db import utcnow
    from lms.plugins.events.models import Event
    from lms.plugins.events.services import EXPIRED_NAME

    places, _staff, event = staff_with_event(client, db, settings)
    assert register(make_client(), event, name="Hà Thị Cũ", phone="0966000111",
                    village=places.villages[0]).status_code == 303
    fresh(db)
    _, _, recent = staff_with_event(make_client(), db, settings, places=places)
    assert register(make_client(), recent, name="Hà Văn Mới", phone="0966000222",
                    village=places.villages[0]).status_code == 303
    fresh(db)
    old = db.get(Event, event.id)
    old.starts_at = utcnow() - timedelta(days=settings.registration_retention_days + 2)
    old.ends_at = old.starts_at + timedelta(hours=3)
    db.add(old)
    db.commit()
    result = CliRunner().invoke(build_cli(settings), ["registrations", "anonymise-past"],
                                env={"LMS_DATABASE_URL": settings.database_url,
                                     "LMS_INSTANCE_DIR": str(settings.instance_dir),
                                     "LMS_SECRET_KEY": settings.secret_key})
    assert result.exit_code == 0, result.output
    assert "của 1 lượt đăng ký" in result.output
    kept = {r.event_id: r for r in registrations(db, event.id) + registrations(db, recent.id)}
    assert (kept[event.id].full_name, kept[event.id].phone) == (EXPIRED_NAME, None)
    assert (kept[recent.id].full_name, kept[recent.id].phone) == ("Hà Văn Mới", "0966000222")


def test_the_form_and_the_ticket_name_the_place_in_few_queries(client, app, db, settings, make_client):
    sync_dirs(db, [paths.courses_dir()])
    places = make_places(db)
    _, _, event = staff_with_event(client, db, settings, places=places, village_id=str(places.villages[1].id))
    from lms.plugins.courses.models import Course

    course = db.exec(select(Course).where(Course.slug == "vneid-va-dich-vu-cong")).scalars().one()
    post_form(client, f"/staff/events/{event.id}", {**event_form(village_id=str(places.villages[1].id)),
                                                   "course_ids": [str(course.id)]}, page=f"/staff/events/{event.id}")
    attendee = make_client()
    ticket = register(attendee, event, village=places.villages[0]).headers["location"].split("?")[0]
    attendee.get(ticket)  # the worker's catalog is loaded
    with QueryCounter(app.state.engine) as counter:
        page = attendee.get(ticket)
    text = text_of(page.text)
    assert f"Hội trường UBND xã, {places.villages[1].name}" in text
    assert "VNeID và dịch vụ công trực tuyến" in text and "Đặt mật khẩu để học tiếp" in text
    # the registration with its event, village and account; the event's courses; the catalog version
    assert counter.count <= 3, counter.count
    make_client().get(f"/e/{event.code}")  # the village list is loaded
    with QueryCounter(app.state.engine) as counter:
        form = make_client().get(f"/e/{event.code}")
    assert f"Hội trường UBND xã, {places.villages[1].name}" in text_of(form.text)
    # the event with its village; the places version behind the cached village list
    assert counter.count <= 2, counter.count


@pytest.mark.parametrize("token", ["khong-co-ve-nay", "x" * 65, "%27%20OR%201%3D1"])
def test_an_unknown_or_malformed_ticket_is_a_vietnamese_404(client, token):
    page = client.get(f"/t/{token}")
    assert page.status_code == 404 and "Không tìm thấy trang" in text_of(page.text)



def test_merging_villages_moves_events_and_registrations(client, db, settings, make_client):
    from lms.plugins.events.models import Event

    places = make_places(db)
    east, west = places.villages
    _, _, event = staff_with_event(client, db, settings, places=places, village_id=str(west.id))
    register(make_client(), event, village=west)
    preview = text_of(client.get(f"/staff/villages/gop?bo={west.id}&vao={east.id}").text)
    assert "Sự kiện tổ chức tại thôn: 1" in preview and "Người đăng ký sự kiện: 1" in preview
    done = post_form(client, "/staff/villages/gop", {"bo": west.id, "vao": east.id}, page="/staff/villages")
    assert "Đã gộp Thôn Đoài vào Thôn Đông" in text_of(done.text)
    fresh(db)
    assert db.get(Event, event.id).village_id == east.id
    assert [r.village_id for r in registrations(db, event.id)] == [east.id]
