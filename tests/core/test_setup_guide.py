"""The first-run guide (/staff/bat-dau/…): settings chosen in the browser, places from the
national list, villages, the first staff, and the check page that says what is missing."""

import re

import pytest
from sqlalchemy import select
from sqlmodel import Session

from lms.app import create_app
from lms.core import installation
from lms.core.models import InstallationSetting, Place, User
from tests.factories import csrf, login, make_places, make_user, post_form, text_of

GUIDE_PAGES = ["/staff/bat-dau", "/staff/bat-dau/ten", "/staff/bat-dau/dia-ban", "/staff/bat-dau/thon",
               "/staff/bat-dau/can-bo", "/staff/bat-dau/tin-nhan", "/staff/bat-dau/kiem-tra"]
GUIDE_FORMS = ["/staff/bat-dau/ten", "/staff/bat-dau/dia-ban", "/staff/bat-dau/thon", "/staff/bat-dau/can-bo",
               "/staff/bat-dau/tin-nhan", "/staff/bat-dau/tin-nhan/thu"]
NAM_SACH = "10606"  # Xã Nam Sách, Thành phố Hải Phòng (31)


@pytest.fixture
def new_app():
    """More apps on the test's database (other workers, other settings); their pools closed after."""
    apps = []

    def factory(settings):
        apps.append(create_app(settings))
        return apps[-1]

    yield factory
    for app in apps:
        app.state.engine.dispose()


@pytest.fixture
def admin(db, settings):
    return make_user(db, settings, role="admin", name="Quản Trị Viên")


def _admin_client(client, admin):
    login(client, admin.phone)
    return client


def _missing(page: str) -> str:
    """The "Còn thiếu" part of the check page."""
    if "<h2>Còn thiếu" not in page:
        return ""
    return page.split("<h2>Còn thiếu", 1)[1].split("<h2>", 1)[0]


@pytest.mark.parametrize("role", [None, "learner", "team_member", "staff"])
def test_only_administrators_open_the_guide(client, db, settings, role):
    places = make_places(db)
    if role:
        person = make_user(db, settings, role=role, commune=places.commune)
        login(client, person.phone)
    for path in GUIDE_PAGES:
        response = client.get(path)
        if role is None:
            assert response.status_code == 303 and response.headers["location"].startswith("/login"), path
        else:
            assert response.status_code == 403 and "Không có quyền truy cập" in response.text, path
    token = csrf(client, "/login" if role is None else "/account/password")
    for path in GUIDE_FORMS:
        response = client.post(path, data={"csrf_token": token, "site_name": "Bị đổi", "province": "31",
                                           "communes": NAM_SACH, "full_name": "Trần Văn B", "phone": "0911000111"})
        assert response.status_code in (303, 403) and "Bị đổi" not in response.text, path
        if response.status_code == 303:
            assert response.headers["location"].startswith("/login")
    assert db.exec(select(InstallationSetting)).scalars().all() == []
    assert db.exec(select(Place).where(Place.code == NAM_SACH)).scalars().first() is None


def test_the_forms_need_their_csrf_token(client, admin, db):
    _admin_client(client, admin)
    response = client.post("/staff/bat-dau/ten", data={"site_name": "Không có mã"})
    assert response.status_code == 403 and "Biểu mẫu hết hạn" in response.text
    assert db.exec(select(InstallationSetting)).scalars().all() == []


def test_name_and_signer_are_kept_and_shown_at_once(client, admin, app, db):
    _admin_client(client, admin)
    response = post_form(client, "/staff/bat-dau/ten", {
        "site_name": "  Bình dân học vụ số  xã Nam Sách ",
        "certificate_signer_title": "TM. ỦY BAN NHÂN DÂN\r\nCHỦ TỊCH", "certificate_signer_name": "Nguyễn Văn Bình",
        "then": "next"}, page="/staff/bat-dau/ten")
    assert response.status_code == 303 and response.headers["location"] == "/staff/bat-dau/dia-ban"
    rows = dict(db.exec(select(InstallationSetting.name, InstallationSetting.value)).all())
    assert rows == {"site_name": "Bình dân học vụ số xã Nam Sách",
                    "certificate_signer_title": "TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH",
                    "certificate_signer_name": "Nguyễn Văn Bình"}
    assert app.state.settings.certificate_signer_name == "Nguyễn Văn Bình"
    page = client.get("/staff/bat-dau/ten").text
    assert '<a class="brand" href="/">Bình dân học vụ số xã Nam Sách</a>' in page
    assert 'value="Nguyễn Văn Bình"' in page and ">TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH</textarea>" in page

    # Emptying the signer's name goes back to the default (none); the name cannot be emptied.
    bad = post_form(client, "/staff/bat-dau/ten", {"site_name": " ", "certificate_signer_title": "CHỦ TỊCH",
                                                   "certificate_signer_name": ""}, page="/staff/bat-dau/ten")
    assert bad.status_code == 422 and "Nhập tên hệ thống" in bad.text and ">CHỦ TỊCH</textarea>" in bad.text
    assert db.get(InstallationSetting, "certificate_signer_name").value == "Nguyễn Văn Bình"  # nothing half-written
    emptied = post_form(client, "/staff/bat-dau/ten", {"site_name": "Học số Nam Sách",
                                                       "certificate_signer_title": "CHỦ TỊCH",
                                                       "certificate_signer_name": ""}, page="/staff/bat-dau/ten")
    assert emptied.status_code == 303, emptied.text
    db.rollback()  # a new read transaction: the test's session saw the rows before
    assert db.get(InstallationSetting, "certificate_signer_name") is None
    assert app.state.settings.certificate_signer_name == ""

    too_long = post_form(client, "/staff/bat-dau/ten", {"site_name": "x" * 81}, page="/staff/bat-dau/ten")
    assert too_long.status_code == 422 and "Tên hệ thống: Tối đa 80 ký tự." in too_long.text


def test_a_setting_given_in_the_environment_is_shown_as_fixed(make_settings, engine, admin, new_app):
    from fastapi.testclient import TestClient

    app = new_app(make_settings(site_name="Học số Hải Phòng"))
    with TestClient(app, follow_redirects=False) as client:
        login(client, admin.phone)
        page = client.get("/staff/bat-dau/ten").text
        assert "đặt bởi LMS_SITE_NAME" in page and 'name="site_name"' not in page
        post_form(client, "/staff/bat-dau/ten", {"site_name": "Tên khác", "certificate_signer_name": "Lê Thị Hoa"},
                  page="/staff/bat-dau/ten")
        page = client.get("/staff/bat-dau/ten").text
    assert '<a class="brand" href="/">Học số Hải Phòng</a>' in page and "Tên khác" not in page
    assert app.state.settings.certificate_signer_name == "Lê Thị Hoa"
    with Session(engine) as db:
        assert db.get(InstallationSetting, "site_name") is None


def test_another_worker_sees_the_change_without_a_restart(make_settings, engine, admin, monkeypatch, new_app):
    from fastapi.testclient import TestClient

    monkeypatch.setattr(installation, "REFRESH_SECONDS", 0.0)
    first, second = new_app(make_settings()), new_app(make_settings())
    with TestClient(first, follow_redirects=False) as one, TestClient(second, follow_redirects=False) as other:
        assert "Học số Nam Sách" not in other.get("/login").text
        login(one, admin.phone)
        post_form(one, "/staff/bat-dau/ten", {"site_name": "Học số Nam Sách"}, page="/staff/bat-dau/ten")
        assert '<a class="brand" href="/">Học số Nam Sách</a>' in other.get("/login").text
        assert second.state.settings.site_name == "Học số Nam Sách"


def test_a_worker_checks_the_settings_at_most_every_few_seconds(app, monkeypatch):
    """Between two checks a page reads nothing more from the database for the settings."""
    reads: list[int] = []
    version = installation._version
    monkeypatch.setattr(installation, "_version", lambda db: reads.append(1) or version(db))
    store = app.state.installation
    store.checked_at = 0.0
    for _ in range(3):
        store.refresh_if_stale()
    assert len(reads) == 1
    store.checked_at -= installation.REFRESH_SECONDS
    store.refresh_if_stale()
    assert len(reads) == 2


def test_communes_chosen_from_the_national_list(client, admin, db):
    _admin_client(client, admin)
    page = client.get("/staff/bat-dau/dia-ban?tinh=31").text
    assert page.count('name="communes"') == 114 and "Xã Nam Sách" in page
    found = client.get("/staff/bat-dau/dia-ban", params={"tinh": "31", "q": "nam sach"}).text
    assert found.count('name="communes"') == 1 and f'value="{NAM_SACH}"' in found

    nothing = post_form(client, "/staff/bat-dau/dia-ban", {"province": "31"}, page="/staff/bat-dau/dia-ban")
    assert nothing.status_code == 422 and "Chọn ít nhất một xã, phường" in nothing.text
    assert db.exec(select(Place)).scalars().all() == []  # the province is not written alone
    unknown = post_form(client, "/staff/bat-dau/dia-ban", {"province": "999", "communes": NAM_SACH},
                        page="/staff/bat-dau/dia-ban")
    assert unknown.status_code == 422 and "Chọn tỉnh hoặc thành phố" in unknown.text

    saved = post_form(client, "/staff/bat-dau/dia-ban", {"province": "31", "communes": [NAM_SACH, "forged"]},
                      page="/staff/bat-dau/dia-ban")
    assert saved.status_code == 200 and "Đã lưu Thành phố Hải Phòng: Xã Nam Sách (thêm 1" in text_of(saved.text)
    again = post_form(client, "/staff/bat-dau/dia-ban", {"province": "31", "communes": NAM_SACH, "then": "next"},
                      page="/staff/bat-dau/dia-ban")
    assert again.status_code == 303 and again.headers["location"] == "/staff/bat-dau/thon"
    db.rollback()
    places = db.exec(select(Place.kind, Place.name, Place.code).order_by(Place.id)).all()
    assert places == [("province", "Thành phố Hải Phòng", "31"), ("commune", "Xã Nam Sách", NAM_SACH)]
    # Back on the step, the province is chosen and the commune already ticked.
    page = client.get("/staff/bat-dau/dia-ban").text
    assert re.search(rf'value="{NAM_SACH}"[^>]*checked', page) and 'value="31" selected' in page


def test_villages_pasted_for_a_commune(client, admin, db):
    _admin_client(client, admin)
    empty = client.get("/staff/bat-dau/thon").text
    assert 'Chưa có xã, phường nào — <a href="/staff/bat-dau/dia-ban">Chọn địa bàn</a>' in empty
    places = make_places(db, villages=())
    page = client.get("/staff/bat-dau/thon").text
    assert "Chưa có thôn, tổ dân phố nào" in page
    pasted = post_form(client, "/staff/bat-dau/thon", {
        "commune": places.commune.id, "names": "1. Thôn Đông\nThôn Đoài\n- Thôn Nam\nThôn Bắc\nThôn Trung\nThôn Đông"},
        page="/staff/bat-dau/thon")
    assert pasted.status_code == 200 and "Đã thêm 5 thôn, tổ dân phố" in pasted.text
    names = db.exec(select(Place.name).where(Place.parent_id == places.commune.id).order_by(Place.name)).scalars()
    assert list(names) == ["Thôn Bắc", "Thôn Nam", "Thôn Trung", "Thôn Đoài", "Thôn Đông"]
    forged = post_form(client, "/staff/bat-dau/thon", {"commune": places.province.id, "names": "Thôn Lạ"},
                       page="/staff/bat-dau/thon")
    assert forged.status_code == 404
    assert db.exec(select(Place).where(Place.name == "Thôn Lạ")).scalars().first() is None


def test_the_first_staff_member_is_invited(client, admin, db):
    _admin_client(client, admin)
    places = make_places(db)
    page = client.get("/staff/bat-dau/can-bo").text
    assert "Chưa có cán bộ nào" in page and f'<option value="{places.commune.id}" selected>' in page
    invited = post_form(client, "/staff/bat-dau/can-bo", {"full_name": "Trần Thị Mai", "phone": "0912 000 111",
                                                          "commune_id": places.commune.id, "role": "admin"},
                        page="/staff/bat-dau/can-bo")
    assert invited.status_code == 200 and "/password/" in invited.text
    assert invited.headers["cache-control"] == "no-store"
    person = db.exec(select(User).where(User.phone == "0912000111")).scalars().one()
    assert (person.role, person.commune_id, person.password_hash) == ("staff", places.commune.id, None)
    again = post_form(client, "/staff/bat-dau/can-bo", {"full_name": "Trần Thị Mai", "phone": "0912000111",
                                                        "commune_id": places.commune.id}, page="/staff/bat-dau/can-bo")
    assert again.status_code == 422 and "Trần Thị Mai" in again.text and 'value="0912000111"' in again.text
    listed = client.get("/staff/bat-dau/can-bo").text
    assert f'<a href="/staff/users/{person.id}">Trần Thị Mai</a> · Xã Minh Châu' in listed
    assert "(chưa đặt mật khẩu)" in listed


def test_the_check_page_says_what_is_missing_until_nothing_is(make_settings, engine, db, new_app):
    from fastapi.testclient import TestClient

    settings = make_settings(base_url="http://127.0.0.1:8000", plugins_disable=["teams", "courses", "quiz",
                             "certificates", "events", "stats", "programmes", "hoi_dap", "tin_tuc", "mo_hinh",
                             "ke_hoach"])
    admin = make_user(db, settings, role="admin")
    with TestClient(new_app(settings), follow_redirects=False) as client:
        login(client, admin.phone)
        missing = _missing(client.get("/staff/bat-dau/kiem-tra").text)
        for title in ("Địa chỉ công khai còn là địa chỉ của riêng máy này", "Chưa có xã, phường nào",
                      "Chưa có tài khoản cán bộ xã", "Chứng nhận chưa có tên người ký"):
            assert title in missing
        assert "http://127.0.0.1:8000" in missing
        overview = client.get("/staff/bat-dau").text
        assert "Còn <strong>4</strong> việc cần làm" in overview

    settings = make_settings(base_url="https://hocso.namsach.example.vn", cookie_secure=False,
                             plugins_disable=settings.plugins_disable)
    places = make_places(db, villages=())
    make_user(db, settings, role="staff", commune=places.commune)
    with TestClient(new_app(settings), follow_redirects=False) as client:
        login(client, admin.phone)
        missing = _missing(client.get("/staff/bat-dau/kiem-tra").text)
        assert "Xã, phường chưa có thôn, tổ dân phố" in missing and "Xã Minh Châu" in missing
        assert f'href="/staff/bat-dau/thon?xa={places.commune.id}"' in missing
        post_form(client, "/staff/bat-dau/thon", {"commune": places.commune.id, "names": "Thôn Đông"},
                  page="/staff/bat-dau/thon")
        post_form(client, "/staff/bat-dau/ten", {"site_name": "Học số", "certificate_signer_name": "Vũ Văn Hải"},
                  page="/staff/bat-dau/ten")
        page = client.get("/staff/bat-dau/kiem-tra").text
        assert _missing(page) == "" and "Không còn thiếu gì." in page
        assert "Vũ Văn Hải" in page.split("<h2>Đã xong", 1)[1]
        assert "Không còn thiếu gì" in client.get("/staff/bat-dau").text


def test_keys_kept_on_one_host_of_a_shared_database_are_missing(tmp_path):
    from lms.core.setup_guide import _keys_check
    from lms.settings import Settings

    shared = Settings(instance_dir=tmp_path, database_url="postgresql://db.example/hocvuso")
    one_host = Settings(instance_dir=tmp_path, database_url="postgresql://db.example/hocvuso", multi_host=False)
    embedded = Settings(instance_dir=tmp_path)
    assert _keys_check(shared).done and "mọi máy dùng chung" in _keys_check(shared).detail
    assert _keys_check(embedded).done
    assert _keys_check(one_host).missing and "LMS_MULTI_HOST" in _keys_check(one_host).detail


@pytest.mark.parametrize("base, loopback", [("http://127.0.0.1:8000", True), ("http://localhost", True),
                                            ("http://[::1]:8000", True), ("http://0.0.0.0", True),
                                            ("https://hocso.namsach.gov.vn", False), ("http://10.0.0.5", False)])
def test_an_address_phones_cannot_open_is_missing(tmp_path, base, loopback):
    from lms.core.setup_guide import _address_check
    from lms.settings import Settings

    assert _address_check(Settings(instance_dir=tmp_path, base_url=base)).missing is loopback


def test_the_name_step_is_not_refused_for_an_sms_setting_it_does_not_show(make_settings, engine, admin, new_app):
    """A gateway half set in the environment is the SMS step's business, not the name step's."""
    from fastapi.testclient import TestClient

    with TestClient(new_app(make_settings(sms_gateway="http")), follow_redirects=False) as client:
        login(client, admin.phone)
        saved = post_form(client, "/staff/bat-dau/ten", {"site_name": "Học số Nam Sách"}, page="/staff/bat-dau/ten")
        assert saved.status_code == 303
        refused = post_form(client, "/staff/bat-dau/tin-nhan", {"sms_http_url": ""}, page="/staff/bat-dau/tin-nhan")
        assert refused.status_code == 422 and "Cổng “http” cần địa chỉ API" in refused.text
