"""Erasure requests: filed by the person or for them, the legal clocks, the staff's queue."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from lms.core.data_requests import add_working_days
from lms.core.models import DataRequest, User
from lms.db import utcnow
from lms.personal_data import ERASED_NAME
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
