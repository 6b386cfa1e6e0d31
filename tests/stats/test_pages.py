"""Who may see which figures (by URL too), clear messages for bad filters, and targets."""

from urllib.parse import unquote

import pytest
from sqlalchemy import select

from lms.plugins.stats.models import Target
from tests.factories import fresh, login, make_places, make_user, post_form, text_of
from tests.stats.statstools import PLAIN_COURSE, QUIZ_COURSE, build_town, read


@pytest.mark.parametrize(("role", "status"), [("learner", 403), ("team_member", 403), ("staff", 200),
                                              ("admin", 200)])
def test_statistics_per_role(client, db, settings, role, status):
    places = make_places(db)
    user = make_user(db, settings, role=role, commune=places.commune, village=places.villages[0])
    login(client, user.phone)
    for path in ("/stats", "/stats/targets", "/stats/report", "/stats/export.csv", "/stats/export.xlsx"):
        response = client.get(path)
        assert response.status_code == status, path
        if status == 403:
            assert "Không có quyền truy cập" in response.text
    assert client.get("/stats/tokens").status_code == (200 if role == "admin" else 403)


def test_anonymous_is_sent_to_log_in(client):
    response = client.get("/stats?audience=can-bo")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/stats%3Faudience%3Dcan-bo"


def test_the_menu_offers_statistics_to_staff_only(client, db, settings):
    places = make_places(db)
    learner = make_user(db, settings, village=places.villages[0])
    login(client, learner.phone)
    assert 'href="/stats"' not in client.get("/").text
    staff = make_user(db, settings, role="staff", commune=places.commune)
    login(client, staff.phone)
    assert '<a href="/stats">Thống kê</a>' in client.get("/").text


def test_staff_cannot_reach_another_communes_figures_by_url(client, make_client, db, settings, tmp_path):
    town = build_town(client, make_client, db, settings, tmp_path)
    theirs = town.other
    login(client, town.staff.phone)
    for query in (f"commune={theirs.commune.id}", f"village={theirs.villages[0].id}",
                  f"commune={town.places.commune.id}&village={theirs.villages[0].id}", "village=999999"):
        for path in ("/stats", "/stats/export.csv", "/stats/export.xlsx", "/stats/report"):
            response = client.get(f"{path}?{query}")
            assert response.status_code == 404, (path, query)
            assert "Xã Bên Kia" not in response.text and "Thôn Xa" not in response.text
    # Their own commune by URL is simply their view.
    own = read(client.get(f"/stats?commune={town.places.commune.id}").text)
    assert own.figures["learners"] == "5"
    assert "Thôn Xa" not in client.get("/stats").text
    assert client.get(f"/stats/targets?commune={theirs.commune.id}").status_code == 404


def test_staff_without_a_commune_see_an_explanation(client, db, settings):
    make_places(db)
    staff = make_user(db, settings, role="staff", audience=None)
    login(client, staff.phone)
    page = client.get("/stats")
    assert page.status_code == 200
    assert "chưa được gắn với xã/phường nào" in text_of(page.text)
    assert 'data-figure="learners"' not in page.text


@pytest.mark.parametrize(("query", "field", "message"), [
    ("from=31/02/2026", "from", "Ngày không hợp lệ. Nhập theo dạng ngày/tháng/năm, ví dụ 30/11/2026."),
    ("from=hôm-qua", "from", "Ngày không hợp lệ"),
    ("to=2026-13-01", "to", "Ngày không hợp lệ"),
    ("from=1999-12-31", "from", "Năm phải từ 2000 đến 2100."),
    ("from=2026-11-20&to=2026-11-01", "to", "Ngày kết thúc phải trùng hoặc sau ngày bắt đầu."),
    ("audience=sinh-vien", "audience", "Nhóm đối tượng không hợp lệ."),
    ("course=khong-co", "course", "Khóa học không có trong danh mục."),
    ("commune=abc", "commune", "Xã/phường không có trong danh sách."),
    ("village=12abc", "village", "Thôn/tổ dân phố không có trong danh sách."),
    ("commune=%C2%B2", "commune", "Xã/phường không có trong danh sách."),  # "²": a digit to isdigit()
    ("from=%EF%BC%91%EF%BC%92", "from", "Ngày không hợp lệ"),  # full-width digits
])
def test_bad_filters_get_a_message_never_an_error_page(client, db, settings, query, field, message):
    make_places(db)
    admin = make_user(db, settings, role="admin", audience=None)
    login(client, admin.phone)
    page = client.get(f"/stats?{query}")
    assert page.status_code == 422
    text = text_of(page.text)
    assert "Bộ lọc chưa đúng" in text and message in text
    assert 'data-figure="learners"' not in page.text  # no figures that could be taken for filtered ones
    if field in ("from", "to"):
        assert f'aria-invalid="true" aria-describedby="{field}-hint {field}-error"' in page.text
    # Exports of a bad view lead back to the dashboard, which explains.
    export = client.get(f"/stats/export.csv?{query}")
    assert export.status_code == 303 and unquote(export.headers["location"]) == unquote(f"/stats?{query}")


def test_htmx_gets_the_explanation_as_a_fragment_it_will_show(client, db, settings):
    places = make_places(db)
    staff = make_user(db, settings, role="staff", commune=places.commune, audience=None)
    login(client, staff.phone)
    fragment = client.get("/stats?from=2026-11-20&to=2026-11-01", headers={"HX-Request": "true"})
    assert fragment.status_code == 200  # htmx does not swap error statuses
    assert fragment.text.lstrip().startswith('<div id="ket-qua">')
    assert "Ngày kết thúc phải trùng hoặc sau ngày bắt đầu." in text_of(fragment.text)


def test_a_typed_bad_date_stays_in_the_form(client, db, settings):
    places = make_places(db)
    staff = make_user(db, settings, role="staff", commune=places.commune, audience=None)
    login(client, staff.phone)
    page = client.get("/stats?from=32/01/2026&audience=can-bo")
    assert 'value="32/01/2026"' in page.text
    assert '<option value="can-bo" selected>' in page.text


def test_targets_set_by_staff_show_progress(client, make_client, db, settings, tmp_path):
    town = build_town(client, make_client, db, settings, tmp_path)
    login(client, town.staff.phone)
    bad = post_form(client, "/stats/targets", {"audience": "", "kind": "hoan-thanh", "course": "",
                                               "value": "120"}, page="/stats/targets")
    assert bad.status_code == 422
    text = text_of(bad.text)
    assert "Vui lòng chọn nhóm đối tượng." in text
    assert "Vui lòng chọn khóa học cho chỉ tiêu hoàn thành." in text
    assert "Chỉ tiêu là số phần trăm, từ 1 đến 100." in text
    for data in ({"audience": "can-bo", "kind": "hoan-thanh", "course": QUIZ_COURSE, "value": "80"},
                 {"audience": "can-bo", "kind": "hoan-thanh", "course": QUIZ_COURSE, "value": "40%"},
                 {"audience": "nguoi-dan", "kind": "dang-ky", "course": "", "value": "4"},
                 {"audience": "doanh-nghiep", "kind": "hoan-thanh", "course": PLAIN_COURSE, "value": "50"}):
        saved = post_form(client, "/stats/targets", data, page="/stats/targets")
        assert saved.status_code == 303, saved.text
    fresh(db)
    targets = db.exec(select(Target).order_by(Target.audience)).scalars().all()
    db.commit()
    # Setting the same target twice changes it: one row per audience, kind and course.
    assert [(t.audience, t.kind, t.value, t.commune_id) for t in targets] == [
        ("can-bo", "hoan-thanh", 40, town.places.commune.id),
        ("doanh-nghiep", "hoan-thanh", 50, town.places.commune.id),
        ("nguoi-dan", "dang-ky", 4, town.places.commune.id)]
    view = read(client.get("/stats").text)
    by_audience = {t.audience: str(t.id) for t in targets}
    # Officials: binh completed course A, giang did not: 1 of 2 = 50 % against 40 % (reached).
    assert view.targets[by_audience["can-bo"]] == {"achieved": "50%", "goal": "40%"}
    assert view.targets[by_audience["doanh-nghiep"]] == {"achieved": "100%", "goal": "50%"}  # chi
    assert view.targets[by_audience["nguoi-dan"]] == {"achieved": "2", "goal": "4"}  # an, dung
    page = client.get("/stats").text
    assert "Tỷ lệ cán bộ, công chức, viên chức hoàn thành khóa «Khóa có bài kiểm tra»" in text_of(page)
    assert "(50% chỉ tiêu)" in text_of(page)  # 2 of 4 residents
    assert "(125% chỉ tiêu)" in text_of(page)  # 50 % of officials against 40 %: exceeded, not capped
    # Another commune's staff cannot delete it (nor see it).
    fresh(db)
    other_staff = make_user(db, settings, role="staff", commune=town.other.commune, audience=None)
    browser = make_client()
    login(browser, other_staff.phone)
    assert "Chưa có chỉ tiêu nào." in text_of(browser.get("/stats/targets").text)
    assert post_form(browser, f"/stats/targets/{by_audience['can-bo']}/delete", {},
                     page="/stats/targets").status_code == 404
    assert post_form(client, f"/stats/targets/{by_audience['can-bo']}/delete", {},
                     page="/stats/targets").status_code == 303
    fresh(db)
    assert db.get(Target, int(by_audience["can-bo"])) is None


def test_admin_sets_city_wide_targets(client, db, settings):
    places = make_places(db)
    admin = make_user(db, settings, role="admin", audience=None)
    make_user(db, settings, village=places.villages[0], audience="to-cong-nghe")
    login(client, admin.phone)
    saved = post_form(client, "/stats/targets", {"audience": "to-cong-nghe", "kind": "dang-ky", "value": "10"},
                      page="/stats/targets")
    assert saved.status_code == 303 and saved.headers["location"] == "/stats/targets?saved=1"
    fresh(db)
    assert db.exec(select(Target.commune_id)).scalar() == 0  # the whole installation
    db.commit()
    page = client.get("/stats")
    assert "Số tổ công nghệ số cộng đồng đăng ký học" in text_of(page.text)
    assert "(10% chỉ tiêu)" in text_of(page.text)
    # A commune's own view does not show the city's targets.
    assert "Số tổ công nghệ" not in text_of(client.get(f"/stats?commune={places.commune.id}").text)


def test_a_plugins_ready_value_appears_on_the_dashboard(install_plugins, make_settings, engine, db, settings):
    from fastapi.testclient import TestClient

    from lms.app import create_app

    install_plugins({"everything": "tests.plugins.everything.plugin"})
    app = create_app(make_settings())
    admin = make_user(db, settings, role="admin", audience=None)
    with TestClient(app, follow_redirects=False) as browser:
        login(browser, admin.phone)
        view = read(browser.get("/stats").text)
    # The test plugin answers 42 only to scope "all"; a real view is a StatsScope.
    assert view.figures["hello"] == "0"


def test_a_target_for_another_commune_is_refused_and_nothing_is_written(client, db, settings):
    places = make_places(db)
    other = make_places(db, commune_name="Xã Bên Kia", villages=("Thôn Xa",))
    staff = make_user(db, settings, role="staff", commune=places.commune, audience=None)
    login(client, staff.phone)
    target = {"audience": "nguoi-dan", "kind": "dang-ky", "value": "10"}
    refused = post_form(client, "/stats/targets", {**target, "commune": str(other.commune.id)},
                        page="/stats/targets")
    assert refused.status_code == 404 and "Xã Bên Kia" not in refused.text
    # A digit to str.isdigit() that int() refuses: a message, not an error page.
    odd = post_form(client, "/stats/targets", {**target, "value": "²"}, page="/stats/targets")
    assert odd.status_code == 422 and "Chỉ tiêu là số người, từ 1 trở lên." in text_of(odd.text)
    fresh(db)
    assert db.exec(select(Target)).scalars().all() == []
    db.commit()
    saved = post_form(client, "/stats/targets", target, page="/stats/targets")
    assert saved.status_code == 303
    fresh(db)
    mine = db.exec(select(Target)).scalars().one()
    db.commit()
    assert (mine.commune_id, mine.value, mine.set_by_id) == (places.commune.id, 10, staff.id)
    for target_id in ("0", "99999999999999999999999", str(mine.id + 1)):
        gone = post_form(client, f"/stats/targets/{target_id}/delete", {}, page="/stats/targets")
        assert gone.status_code == 404, target_id
    assert post_form(client, f"/stats/targets/{mine.id}/delete", {"commune": str(other.commune.id)},
                     page="/stats/targets").status_code == 404
    fresh(db)
    assert db.get(Target, mine.id) is not None
    db.commit()
    deleted = post_form(client, f"/stats/targets/{mine.id}/delete", {}, page="/stats/targets")
    assert deleted.headers["location"] == f"/stats/targets?commune={places.commune.id}&saved=deleted"
    after = text_of(client.get(deleted.headers["location"]).text)
    assert "Đã xóa chỉ tiêu." in after and "Chưa có chỉ tiêu nào." in after
