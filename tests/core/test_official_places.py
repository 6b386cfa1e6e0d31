"""Places from the national list (vietnam-provinces), and villages pasted as a list."""

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from lms.cli import build_cli
from lms.core import official_places
from lms.core.models import Place, User
from tests.factories import login, make_places, make_user, post_form, text_of

runner = CliRunner()


@pytest.fixture
def cli(settings, engine, monkeypatch):
    monkeypatch.setenv("LMS_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("LMS_INSTANCE_DIR", str(settings.instance_dir))
    return build_cli(settings)


def _places(db) -> list[tuple[str, str, str | None, int | None]]:
    db.rollback()  # a fresh snapshot after the command's own transaction
    return sorted(db.exec(select(Place.kind, Place.name, Place.code, Place.parent_id)).all(),
                  key=lambda p: (p[0], p[1]))


def test_the_list_has_34_provinces_and_haiphongs_114_units():
    provinces = official_places.provinces()
    assert len(provinces) == 34
    haiphong = official_places.find_province("Hải Phòng")
    assert haiphong is official_places.find_province("hai phong") is official_places.find_province("31")
    assert haiphong.name == "Thành phố Hải Phòng" and len(haiphong.communes) == 114
    assert official_places.OfficialUnit("10606", "Xã Nam Sách") in haiphong.communes
    assert official_places.find_province("Cao Bằng").name == "Tỉnh Cao Bằng"
    assert official_places.find_province("Hà Tây") is None  # merged away long ago


def test_import_is_idempotent_and_follows_renames_by_code(cli, db):
    first = runner.invoke(cli, ["places", "import", "--province", "Hải Phòng"])
    assert first.exit_code == 0, first.output
    assert "Thành phố Hải Phòng (mã 31), 114 xã/phường/đặc khu" in first.output and "thêm 115" in first.output
    loaded = _places(db)
    assert len(loaded) == 115
    nam_sach = db.exec(select(Place).where(Place.code == "10606")).scalars().one()
    assert (nam_sach.kind, nam_sach.name) == ("commune", "Xã Nam Sách")
    again = runner.invoke(cli, ["places", "import", "--province", "31"])
    assert "thêm 0" in again.output and "giữ nguyên 115" in again.output
    assert _places(db) == loaded
    # The official name changes (here by hand, as a later list would): it follows, no twin.
    nam_sach.name = "Xã Nam Sách Cũ"
    db.add(nam_sach)
    db.commit()
    renamed = runner.invoke(cli, ["places", "import", "--province", "Hải Phòng"])
    assert "đổi tên 1" in renamed.output
    assert _places(db) == loaded


def test_units_typed_by_hand_get_their_code_and_keep_their_people(cli, db, settings):
    province = Place(kind="province", name="Hải Phòng")
    db.add(province)
    db.flush()
    commune = Place(kind="commune", name="xã nam sách", parent_id=province.id)
    db.add(commune)
    db.flush()
    village = Place(kind="village", name="Thôn Đông", parent_id=commune.id)
    db.add(village)
    db.commit()
    learner = make_user(db, settings, village=village)
    result = runner.invoke(cli, ["places", "import", "--province", "Hải Phòng"])
    assert "gắn mã cho 2 đơn vị đã nhập tay" in result.output and "thêm 113" in result.output
    db.rollback()
    db.expire_all()
    assert db.exec(select(func.count()).select_from(Place).where(Place.kind == "commune")).scalar() == 114
    coded = db.get(Place, commune.id)
    assert (coded.code, coded.name) == ("10606", "Xã Nam Sách")
    assert db.get(Place, province.id).name == "Thành phố Hải Phòng"
    assert db.get(User, learner.id).village_id == village.id


def test_an_unknown_province_is_refused_with_the_names(cli, db):
    result = runner.invoke(cli, ["places", "import", "--province", "Hà Tây"])
    assert result.exit_code == 1 and "Không có tỉnh/thành phố «Hà Tây»" in result.output
    assert "Thành phố Hải Phòng" in result.output
    assert _places(db) == []


def test_an_administrator_imports_from_the_admin_area(client, db, settings):
    admin = make_user(db, settings, role="admin")
    login(client, admin.phone)
    page = client.get("/staff/places").text
    assert '<option value="31">Thành phố Hải Phòng (114 xã/phường)</option>' in page
    refused = post_form(client, "/staff/places/import", {"province_code": "999"}, page="/staff/places")
    assert refused.status_code == 422 and "Vui lòng chọn tỉnh/thành phố trong danh mục" in text_of(refused.text)
    done = post_form(client, "/staff/places/import", {"province_code": "31"}, page="/staff/places")
    assert done.status_code == 200
    assert "Đã nhập Thành phố Hải Phòng: thêm 115" in text_of(done.text)
    assert "Xã Nam Sách" in text_of(done.text)


@pytest.mark.parametrize("role", [None, "learner", "team_member", "staff"])
def test_only_administrators_import(client, db, settings, role):
    if role:
        login(client, make_user(db, settings, role=role, commune=make_places(db).commune).phone)
    response = post_form(client, "/staff/places/import", {"province_code": "31"}, page="/login")
    assert response.status_code == (303 if role is None else 403)
    assert db.exec(select(func.count()).select_from(Place).where(Place.code.is_not(None))).scalar() == 0


def test_staff_paste_their_villages_one_per_line(client, db, settings):
    places = make_places(db)  # Thôn Đông, Thôn Đoài
    staff = make_user(db, settings, role="staff", commune=places.commune)
    login(client, staff.phone)
    page = f"/staff/villages?commune={places.commune.id}"
    pasted = "1. Thôn Đông\n- Thôn Bắc\n\n  Thôn Nam \nthôn bắc\n• Tổ dân phố Chợ"
    response = post_form(client, "/staff/villages/list", {"commune": places.commune.id, "names": pasted}, page=page)
    assert response.status_code == 200
    shown = text_of(response.text)
    assert "Đã thêm 3 thôn/tổ dân phố: Thôn Bắc, Thôn Nam, Tổ dân phố Chợ." in shown
    assert "Đã có sẵn: Thôn Đông." in shown
    names = db.exec(select(Place.name).where(Place.parent_id == places.commune.id)).scalars().all()
    assert sorted(names) == ["Thôn Bắc", "Thôn Nam", "Thôn Đoài", "Thôn Đông", "Tổ dân phố Chợ"]


def test_a_bad_line_writes_nothing_and_keeps_the_list(client, db, settings):
    places = make_places(db)
    staff = make_user(db, settings, role="staff", commune=places.commune)
    login(client, staff.phone)
    pasted = "Thôn Bắc\n\n" + "Thôn " + "Dài" * 60  # the bad name is on line 3
    response = post_form(client, "/staff/villages/list", {"commune": places.commune.id, "names": pasted},
                         page=f"/staff/villages?commune={places.commune.id}")
    assert response.status_code == 422
    assert "Dòng 3 («Thôn DàiDài" in text_of(response.text) and "Thôn Bắc\n\nThôn DàiDài" in response.text
    assert db.exec(select(func.count()).select_from(Place).where(Place.kind == "village")).scalar() == 2
    empty = post_form(client, "/staff/villages/list", {"commune": places.commune.id, "names": " \n "},
                      page=f"/staff/villages?commune={places.commune.id}")
    assert empty.status_code == 422 and "mỗi tên một dòng" in text_of(empty.text)


@pytest.mark.parametrize("role", [None, "learner", "team_member"])
def test_only_staff_paste_villages(client, db, settings, role):
    places = make_places(db)
    if role:
        login(client, make_user(db, settings, role=role, commune=places.commune, village=places.villages[0]).phone)
    response = post_form(client, "/staff/villages/list", {"commune": places.commune.id, "names": "Thôn Bắc"},
                         page="/login")
    assert response.status_code == (303 if role is None else 403)
    assert db.exec(select(func.count()).select_from(Place).where(Place.kind == "village")).scalar() == 2


def test_staff_merge_two_villages_and_the_people_follow(client, db, settings):
    places = make_places(db)  # Thôn Đông, Thôn Đoài
    east, west = places.villages
    staff = make_user(db, settings, role="staff", commune=places.commune)
    residents = [make_user(db, settings, village=west, name=f"Người Thôn Đoài {n}") for n in ("Một", "Hai")]
    login(client, staff.phone)
    listing = client.get(f"/staff/villages?commune={places.commune.id}").text
    assert 'action="/staff/villages/gop"' in listing
    preview = text_of(client.get(f"/staff/villages/gop?bo={west.id}&vao={east.id}").text)
    assert "Gộp Thôn Đoài vào Thôn Đông" in preview and "Người dân sống ở thôn: 2" in preview
    db.expire_all()
    assert db.get(User, residents[0].id).village_id == west.id  # the preview moves nothing
    done = post_form(client, "/staff/villages/gop", {"bo": west.id, "vao": east.id}, page="/staff/villages")
    assert done.status_code == 200
    assert "Đã gộp Thôn Đoài vào Thôn Đông: người dân sống ở thôn 2. Thôn Đoài đã ngừng sử dụng." in text_of(done.text)
    db.rollback()
    db.expire_all()
    assert [db.get(User, r.id).village_id for r in residents] == [east.id, east.id]
    assert db.get(Place, west.id).active is False  # kept, not deleted: past figures still name it


def test_a_merge_needs_two_villages_of_one_commune(client, db, settings):
    places = make_places(db)
    theirs = make_places(db, commune_name="Xã Bên Cạnh", villages=("Thôn Xa",))
    east, west = places.villages
    staff = make_user(db, settings, role="staff", commune=places.commune)
    login(client, staff.phone)
    same = client.get(f"/staff/villages/gop?bo={west.id}&vao={west.id}")
    assert same.status_code == 422 and "Vui lòng chọn một thôn/tổ dân phố khác của cùng xã" in text_of(same.text)
    across = post_form(client, "/staff/villages/gop", {"bo": west.id, "vao": theirs.villages[0].id},
                       page="/staff/villages")
    assert across.status_code == 422
    assert client.get(f"/staff/villages/gop?bo={theirs.villages[0].id}&vao={east.id}").status_code == 404
    assert client.get("/staff/villages/gop?bo=abc").status_code == 404
    db.expire_all()
    assert db.get(Place, west.id).active and db.get(Place, theirs.villages[0].id).active


@pytest.mark.parametrize("role", [None, "learner", "team_member"])
def test_only_staff_merge_villages(client, db, settings, role):
    places = make_places(db)
    east, west = places.villages
    resident = make_user(db, settings, village=west, name="Người Thôn Đoài")
    if role:
        login(client, make_user(db, settings, role=role, commune=places.commune, village=east).phone)
    assert client.get(f"/staff/villages/gop?bo={west.id}&vao={east.id}").status_code == (303 if role is None else 403)
    response = post_form(client, "/staff/villages/gop", {"bo": west.id, "vao": east.id}, page="/login")
    assert response.status_code == (303 if role is None else 403)
    db.expire_all()
    assert db.get(User, resident.id).village_id == west.id
