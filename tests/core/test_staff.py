"""Staff manage the villages and users of their commune."""

from sqlalchemy import select

from lms.core.models import Place, User
from tests.factories import csrf, fresh, login, make_places, make_user, post_form, text_of


def _staff_client(client, db, settings):
    places = make_places(db)
    staff = make_user(db, settings, role="staff", commune=places.commune, name="Cán Bộ Xã")
    login(client, staff.phone)
    return places, staff


def test_staff_add_rename_and_retire_villages(client, db, settings):
    places, _ = _staff_client(client, db, settings)
    response = post_form(client, "/staff/villages", {"name": "  Thôn   Bắc "},
                         page="/staff/villages")
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert "Đã lưu" in text_of(page) and 'value="Thôn Bắc"' in page
    village = db.exec(select(Place).where(Place.name == "Thôn Bắc")).scalars().one()
    assert village.parent_id == places.commune.id and village.kind == "village"

    post_form(client, f"/staff/villages/{village.id}", {"name": "Thôn Bắc Sơn"},
              page="/staff/villages")
    post_form(client, f"/staff/villages/{village.id}/active", {"active": "0"},
              page="/staff/villages")
    fresh(db)
    village = db.get(Place, village.id)
    assert village.name == "Thôn Bắc Sơn" and village.active is False
    # A retired village is no longer offered at sign-up but stays in the list.
    assert "Thôn Bắc Sơn" not in client.get("/signup").text
    assert "Ngừng sử dụng" in text_of(client.get("/staff/villages").text)


def test_duplicate_or_empty_village_name_is_explained(client, db, settings):
    places, _ = _staff_client(client, db, settings)
    response = post_form(client, "/staff/villages", {"name": "thôn đông"}, page="/staff/villages")
    assert response.status_code == 422
    assert "Tên này đã có trong danh sách" in text_of(response.text)
    assert 'value="thôn đông"' in response.text
    response = post_form(client, "/staff/villages", {"name": "   "}, page="/staff/villages")
    assert "Vui lòng nhập tên" in text_of(response.text)
    assert len(db.exec(select(Place).where(Place.kind == "village")).scalars().all()) == 2


def test_htmx_add_returns_only_the_village_fragment(client, db, settings):
    _staff_client(client, db, settings)
    token = csrf(client, "/staff/villages")
    response = client.post("/staff/villages", data={"name": "thôn đông", "csrf_token": token},
                           headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert response.text.lstrip().startswith('<div id="villages">')
    assert "<html" not in response.text and "Tên này đã có" in response.text
    full = client.get("/staff/villages").text
    fragment = client.get("/staff/villages", headers={"HX-Request": "true"}).text
    assert "<html" in full and "<html" not in fragment and "Thôn Đông" in fragment


def test_staff_search_users_by_name_or_phone_tail(client, db, settings):
    places, _ = _staff_client(client, db, settings)
    make_user(db, settings, village=places.villages[0], name="Hoàng Thị Lan", phone="0977000123")
    make_user(db, settings, village=places.villages[1], name="Vũ Văn Minh", phone="0977000456")
    page = text_of(client.get("/staff/users?q=lan").text)
    assert "Hoàng Thị Lan" in page and "Vũ Văn Minh" not in page
    page = text_of(client.get("/staff/users?q=456").text)
    assert "Vũ Văn Minh" in page and "Hoàng Thị Lan" not in page
    fragment = client.get("/staff/users?q=456", headers={"HX-Request": "true"}).text
    assert fragment.lstrip().startswith('<div id="results">')


def test_staff_may_make_team_members_but_not_staff(client, db, settings):
    places, _ = _staff_client(client, db, settings)
    learner = make_user(db, settings, village=places.villages[0])
    ok = post_form(client, f"/staff/users/{learner.id}/role", {"role": "team_member"},
                   page="/staff")
    assert ok.status_code == 303
    refused = post_form(client, f"/staff/users/{learner.id}/role", {"role": "admin"},
                        page="/staff")
    assert refused.status_code == 422
    assert "chỉ giao vai trò người học hoặc thành viên tổ" in text_of(refused.text)
    fresh(db)
    assert db.get(User, learner.id).role == "team_member"


def test_admin_adds_province_and_commune(client, db, settings):
    admin = make_user(db, settings, role="admin")
    login(client, admin.phone)
    post_form(client, "/staff/places", {"kind": "province", "name": "Tỉnh Tuyên Quang"},
              page="/staff/places")
    province = db.exec(select(Place).where(Place.kind == "province")).scalars().one()
    post_form(client, "/staff/places", {"kind": "commune", "name": "Xã Minh Xuân",
                                        "parent_id": str(province.id)}, page="/staff/places")
    page = text_of(client.get("/staff/places").text)
    assert "Tỉnh Tuyên Quang" in page and "Xã Minh Xuân" in page
    bad = post_form(client, "/staff/places", {"kind": "commune", "name": "Xã Lạ",
                                              "parent_id": "abc"}, page="/staff/places")
    assert bad.status_code == 422 and "Vui lòng chọn tỉnh" in text_of(bad.text)


def test_search_ignores_diacritics_and_case(client, db, settings):
    places, _ = _staff_client(client, db, settings)
    make_user(db, settings, village=places.villages[0], name="Đặng Thị Ánh")
    for query in ("dang thi anh", "ĐẶNG", "ánh"):
        assert "Đặng Thị Ánh" in text_of(client.get(f"/staff/users?q={query}").text), query
    assert "Đặng Thị Ánh" not in text_of(client.get("/staff/users?q=100%25").text)
