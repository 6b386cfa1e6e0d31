"""Erasure requests: filed by the person or for them, the legal clocks, the staff's queue."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from lms.core.data_requests import add_working_days
from lms.core.models import Consent, DataRequest, User
from lms.db import utcnow
from lms.personal_data import ERASED_NAME
from lms.plugins.stats.models import OptedOut
from tests.factories import fresh, login, make_places, make_user, post_form, text_of

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def test_two_working_days_skip_the_weekend():
    friday = datetime(2026, 12, 4, 10, 0, tzinfo=VN)
    assert add_working_days(friday, 2).astimezone(VN) == datetime(2026, 12, 8, 10, 0, tzinfo=VN)  # Tuesday
    monday = datetime(2026, 12, 7, 9, 0, tzinfo=VN)
    assert add_working_days(monday, 2).astimezone(VN).date().isoformat() == "2026-12-09"


def _requests(db):
    fresh(db)
    rows = db.exec(select(DataRequest).order_by(DataRequest.id)).scalars().all()
    db.commit()
    return rows


def test_a_request_from_the_person_through_the_queue(client, make_client, db, settings):
    places = make_places(db)
    other = make_places(db, commune_name="Phường Hòa Bình", villages=("Tổ 1",))
    person = make_user(db, settings, village=places.villages[0], name="Vũ Thị Xin Xoá")
    staff = make_user(db, settings, role="staff", commune=places.commune, name="Cán Bộ Xã")
    stranger = make_user(db, settings, role="staff", commune=other.commune)
    login(client, person.phone)
    unconfirmed = post_form(client, "/account/data/erase", {}, page="/account/data")
    assert unconfirmed.status_code == 303 and _requests(db) == []
    assert "Hãy đánh dấu ô này" in text_of(client.get(unconfirmed.headers["location"]).text)
    assert post_form(client, "/account/data/erase", {"confirm": "1"}, page="/account/data").status_code == 303
    [filed] = _requests(db)
    assert (filed.user_id, filed.filed_by_id, filed.kind) == (person.id, person.id, "erase")
    assert timedelta(days=2) <= filed.acknowledge_by - filed.filed_at <= timedelta(days=4)
    assert filed.complete_by - filed.filed_at == timedelta(days=15)
    assert "Hạn hoàn thành" in text_of(client.get("/account/data").text)
    # Asking twice keeps one request.
    post_form(client, "/account/data/erase", {"confirm": "1"}, page="/account/data")
    assert len(_requests(db)) == 1

    # Staff see it, with a reminder on their home page once a deadline is near.
    desk = make_client()
    login(desk, staff.phone)
    assert "Vũ Thị Xin Xoá" in text_of(desk.get("/staff/data-requests").text)
    assert "sắp hoặc đã quá hạn" not in text_of(desk.get("/staff").text)
    fresh(db)
    row = db.get(DataRequest, filed.id)
    row.acknowledge_by = utcnow() + timedelta(hours=3)
    db.add(row)
    db.commit()
    assert "1 yêu cầu về dữ liệu cá nhân sắp hoặc đã quá hạn" in text_of(desk.get("/staff").text)
    assert "(sắp đến hạn)" in text_of(desk.get("/staff/data-requests").text)

    # Another commune's staff and the learner cannot touch it.
    outsider = make_client()
    login(outsider, stranger.phone)
    assert "Vũ Thị Xin Xoá" not in text_of(outsider.get("/staff/data-requests").text)
    assert post_form(outsider, f"/staff/data-requests/{filed.id}/ack", {}, page="/staff").status_code == 404
    assert client.get("/staff/data-requests").status_code == 403

    assert post_form(desk, f"/staff/data-requests/{filed.id}/ack", {}, page="/staff").status_code == 303
    assert _requests(db)[0].acknowledged_by_id == staff.id
    receipt = post_form(desk, f"/staff/data-requests/{filed.id}/done", {"confirm": "1"}, page="/staff")
    assert receipt.status_code == 200 and "Biên nhận xoá dữ liệu cá nhân" in text_of(receipt.text)
    [done] = _requests(db)
    assert done.completed_by_id == staff.id and {n["table"] for n in done.outcome} >= {"core_user", "core_consent"}
    fresh(db)
    assert db.get(User, person.id).full_name == ERASED_NAME
    db.commit()
    assert "Không có yêu cầu nào đang chờ" in text_of(desk.get("/staff/data-requests").text)


def test_staff_file_a_request_for_a_resident_without_a_phone(client, db, settings):
    places = make_places(db)
    resident = make_user(db, settings, village=places.villages[0], name="Cụ Không Điện Thoại")
    staff = make_user(db, settings, role="staff", commune=places.commune)
    login(client, staff.phone)
    page = f"/staff/users/{resident.id}"
    assert post_form(client, f"{page}/erase-request", {}, page=page).status_code == 303
    [filed] = _requests(db)
    assert (filed.user_id, filed.filed_by_id) == (resident.id, staff.id)
    assert "do Nguyễn Văn An ghi nhận thay" in text_of(client.get("/staff/data-requests").text)


def test_a_team_member_files_for_a_resident_of_their_team_and_staff_restrict(client, db, settings, make_client):
    from tests.teams.teamtools import team_setup

    setup = team_setup(client, db, settings, make_client)
    member = make_client()
    login(member, setup.member.phone)
    created = post_form(member, f"/teams/{setup.team.id}/residents/new", {
        "full_name": "Cụ Hạn Chế", "village_id": str(setup.places.villages[0].id), "audience": "nguoi-dan",
        "consent": "on", "consent_stats": "on", "consent_sms": "on", "confirm_new": "1"},
        page=f"/teams/{setup.team.id}/residents/new")
    assert created.status_code == 303
    fresh(db)
    resident = db.exec(select(User).where(User.full_name == "Cụ Hạn Chế")).scalars().one()
    db.commit()
    page = f"/teams/{setup.team.id}/residents/{resident.id}"
    shown = text_of(member.get(page).text)
    assert "Tính vào số liệu thống kê gửi lên cấp trên: đã đồng ý" in shown
    assert "Nhận tin nhắn của xã: đã đồng ý" in shown
    # Unticked: nothing filed. Ticked: the member files it for the resident.
    unconfirmed = post_form(member, f"{page}/data-request", {"kind": "restrict"}, page=page)
    assert "data_confirm" in unconfirmed.headers["location"] and _requests(db) == []
    filed = post_form(member, f"{page}/data-request", {"kind": "restrict", "confirm": "1"}, page=page)
    assert filed.status_code == 303
    [filed] = _requests(db)
    assert (filed.kind, filed.user_id, filed.filed_by_id) == ("restrict", resident.id, setup.member.id)
    # A member of no team of the resident's cannot.
    outsider_user = make_user(db, settings, village=setup.places.villages[2])
    outsider = make_client()
    login(outsider, outsider_user.phone)
    refused = post_form(outsider, f"{page}/data-request", {"kind": "erase", "confirm": "1"}, page="/account")
    assert refused.status_code == 403 and "Không có quyền truy cập" in refused.text

    desk = make_client()
    login(desk, setup.staff.phone)
    queue = text_of(desk.get("/staff/data-requests").text)
    assert "Hạn chế xử lý: Cụ Hạn Chế" in queue and "do Đoàn Viên Thanh ghi nhận thay" in queue
    receipt = post_form(desk, f"/staff/data-requests/{filed.id}/done", {"confirm": "1"}, page="/staff/data-requests")
    text = text_of(receipt.text)
    assert "Biên nhận yêu cầu về dữ liệu cá nhân: hạn chế xử lý" in text
    assert "Tính vào số liệu thống kê gửi lên cấp trên Đã dừng xử lý" in text
    fresh(db)
    stopped = db.exec(select(Consent).where(Consent.user_id == resident.id, Consent.granted.is_(False))
                      .order_by(Consent.id)).scalars().all()
    assert {(c.purpose, c.method, c.helper_id) for c in stopped} == {
        ("events", "staff", setup.staff.id), ("stats", "staff", setup.staff.id), ("sms", "staff", setup.staff.id)}
    assert db.get(OptedOut, resident.id) is not None
    assert db.get(User, resident.id).full_name == "Cụ Hạn Chế"  # restricted, not erased
    db.commit()


def test_an_objection_names_its_purpose_and_clocks_move_once(client, db, settings):
    places = make_places(db)
    person = make_user(db, settings, village=places.villages[0], name="Lý Văn Phản Đối")
    staff = make_user(db, settings, role="staff", commune=places.commune)
    login(client, staff.phone)
    page = f"/staff/users/{person.id}"
    missing = post_form(client, f"{page}/data-request", {"kind": "object"}, page=page)
    assert missing.headers["location"].endswith("data=purpose#du-lieu") and _requests(db) == []
    assert "Hãy chọn mục đích người này phản đối" in text_of(client.get(missing.headers["location"]).text)
    post_form(client, f"{page}/data-request", {"kind": "object", "purpose": "stats"}, page=page)
    [filed] = _requests(db)
    assert (filed.kind, filed.purpose, filed.complete_by - filed.filed_at) == ("object", "stats", timedelta(days=15))

    # A processor that must stop too: 20 days.
    post_form(client, f"/staff/data-requests/{filed.id}/ack", {"processor": "1"}, page="/staff/data-requests")
    [filed] = _requests(db)
    assert filed.processor and filed.complete_by - filed.filed_at == timedelta(days=20)
    # One extension, up to 15 days, with a reason; bad input keeps what was typed.
    bad = post_form(client, f"/staff/data-requests/{filed.id}/extend", {"days": "30", "reason": "vì"},
                    page="/staff/data-requests")
    assert bad.status_code == 422
    assert "Gia hạn từ 1 đến 15 ngày" in text_of(bad.text) and "ít nhất 10 ký tự" in text_of(bad.text)
    assert 'value="30"' in bad.text and _requests(db)[0].extended_days is None
    reason = "Chờ nhà cung cấp tin nhắn xác nhận đã xoá số điện thoại."
    assert post_form(client, f"/staff/data-requests/{filed.id}/extend", {"days": "10", "reason": reason},
                     page="/staff/data-requests").status_code == 303
    [filed] = _requests(db)
    assert filed.complete_by - filed.filed_at == timedelta(days=30) and filed.extension_reason == reason
    again = post_form(client, f"/staff/data-requests/{filed.id}/extend", {"days": "5", "reason": reason},
                      page="/staff/data-requests")
    assert again.status_code == 409 and "chỉ cho gia hạn một lần" in text_of(again.text)
    assert reason in text_of(client.get("/staff/data-requests").text)

    receipt = post_form(client, f"/staff/data-requests/{filed.id}/done", {"confirm": "1"}, page="/staff/data-requests")
    assert "phản đối một mục đích xử lý" in text_of(receipt.text)
    fresh(db)
    rows = db.exec(select(Consent).where(Consent.user_id == person.id)).scalars().all()
    assert [(c.purpose, c.granted, c.method) for c in rows] == [("stats", False, "staff")]
    db.commit()
    # The person sees the request, its deadline and the reason in their own data.
    login(client, person.phone)
    mine = text_of(client.get("/account/data").text)
    assert reason in mine and "Phản đối một mục đích xử lý" in mine and "Tính vào số liệu thống kê" in mine
    assert "object" not in mine
