"""The read-only JSON API: tokens created, shown once, used, revoked; scope; the OpenAPI document."""

import re
from datetime import timedelta

from sqlalchemy import func, select, update

from lms.plugins.stats.models import ApiToken
from lms.security import token_digest
from tests.factories import fresh, login, make_places, make_user, post_form, text_of
from tests.stats.statstools import build_town


def _create(client, name: str, commune: str = "") -> str:
    response = post_form(client, "/stats/tokens", {"name": name, "commune": commune}, page="/stats/tokens")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    match = re.search(r'<code class="secret" data-secret>(hvs_[\w-]{40,})</code>', response.text)
    assert match, "the new token is shown"
    return match.group(1)


def test_token_create_use_and_revoke(client, make_client, db, settings, tmp_path):
    town = build_town(client, make_client, db, settings, tmp_path)
    login(client, town.admin.phone)
    secret = _create(client, "Trung tâm điều hành thành phố")
    # Only a digest is stored, and the token is never shown again.
    fresh(db)
    token = db.exec(select(ApiToken)).scalars().one()
    db.commit()
    assert token.digest == token_digest(secret) and secret not in token.digest
    listing = client.get("/stats/tokens").text
    assert secret not in listing and "Trung tâm điều hành thành phố" in listing and "Chưa dùng" in listing

    system = make_client()  # no cookies: an outside system
    assert system.get("/api/stats/summary").status_code == 401
    wrong = system.get("/api/stats/summary", headers={"Authorization": "Bearer hvs_sai"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    assert wrong.json()["detail"].startswith("Thiếu mã truy cập hoặc mã không hợp lệ")
    auth = {"Authorization": f"Bearer {secret}"}
    summary = system.get("/api/stats/summary", headers=auth)
    assert summary.status_code == 200
    body = summary.json()
    figures = {f["key"]: f["value"] for f in body["figures"]}
    assert figures["learners"] == 6 and figures["courses.lessons_completed"] == 9  # the whole city
    assert body["scope"]["commune_id"] is None and body["period"]["start"] is None
    one = system.get(f"/api/stats/summary?commune={town.places.commune.id}&audience=can-bo", headers=auth).json()
    assert {f["key"]: f["value"] for f in one["figures"]}["quiz.pass_rate"] == 50.0
    assert one["scope"] == {"name": "Xã Minh Châu", "commune_id": town.places.commune.id, "village_id": None,
                            "audience": "can-bo", "course": None}
    places = system.get(f"/api/stats/breakdown/place?commune={town.places.commune.id}", headers=auth).json()
    assert [(r["label"], r["values"]["learners"]) for r in places["rows"]] == [("Thôn Đoài", 2), ("Thôn Đông", 3)]
    weeks = system.get("/api/stats/breakdown/week", headers=auth).json()
    assert sum(r["values"]["courses.lessons_completed"] for r in weeks["rows"]) == 9
    assert re.match(r"\d{4}-\d{2}-\d{2}$", weeks["rows"][0]["id"])
    bad = system.get("/api/stats/summary?from=31/02/2026", headers=auth)
    assert bad.status_code == 422 and bad.json()["errors"]["from"].startswith("Ngày không hợp lệ")
    # A path that names no breakdown names nothing (the app's rule for paths since issue #11; was 400).
    unknown = system.get("/api/stats/breakdown/tinh", headers=auth)
    assert unknown.status_code == 404 and unknown.json()["detail"] == "Không tìm thấy"
    listed = system.get("/api/stats/places", headers=auth).json()
    assert {c["name"] for c in listed} == {"Xã Minh Châu", "Xã Bên Kia"}
    assert "Chưa dùng" not in client.get("/stats/tokens").text  # last use recorded

    revoked = post_form(client, f"/stats/tokens/{token.id}/revoke", {}, page="/stats/tokens")
    assert revoked.status_code == 303
    assert "Đã thu hồi mã" in text_of(client.get(revoked.headers["location"]).text)
    assert system.get("/api/stats/summary", headers=auth).status_code == 401
    assert post_form(client, f"/stats/tokens/{token.id}/revoke", {}, page="/stats/tokens").status_code == 404


def test_a_token_for_one_commune_sees_only_it(client, make_client, db, settings, tmp_path):
    town = build_town(client, make_client, db, settings, tmp_path)
    login(client, town.admin.phone)
    secret = _create(client, "Phần mềm của xã", str(town.places.commune.id))
    system, auth = make_client(), {"Authorization": f"Bearer {secret}"}
    mine = system.get("/api/stats/summary", headers=auth).json()
    assert mine["scope"]["commune_id"] == town.places.commune.id
    assert {f["key"]: f["value"] for f in mine["figures"]}["learners"] == 5
    for query in (f"commune={town.other.commune.id}", f"village={town.other.villages[0].id}"):
        refused = system.get(f"/api/stats/summary?{query}", headers=auth)
        assert refused.status_code == 404 and "phạm vi" in refused.json()["detail"]
    assert [c["name"] for c in system.get("/api/stats/places", headers=auth).json()] == ["Xã Minh Châu"]


def test_only_administrators_manage_tokens(client, db, settings):
    places = make_places(db)
    staff = make_user(db, settings, role="staff", commune=places.commune, audience=None)
    login(client, staff.phone)
    assert client.get("/stats/tokens").status_code == 403
    assert post_form(client, "/stats/tokens", {"name": "Lén"}, page="/stats").status_code == 403
    admin = make_user(db, settings, role="admin", audience=None)
    login(client, admin.phone)
    nameless = post_form(client, "/stats/tokens", {"name": "  "}, page="/stats/tokens")
    assert nameless.status_code == 422
    assert "Vui lòng đặt tên để biết mã này dùng cho hệ thống nào." in text_of(nameless.text)
    nowhere = post_form(client, "/stats/tokens", {"name": "Thử", "commune": "999"}, page="/stats/tokens")
    assert nowhere.status_code == 422 and "Xã/phường không có trong danh sách." in text_of(nowhere.text)
    assert 'name="name" maxlength="80" value="Thử"' in nowhere.text  # what was typed stays
    fresh(db)
    assert db.exec(select(func.count()).select_from(ApiToken)).scalar() == 0  # nothing half-made
    db.commit()


def test_revoking_an_id_that_names_no_token_is_404(client, db, settings):
    admin = make_user(db, settings, role="admin", audience=None)
    login(client, admin.phone)
    for token_id in ("12345", "0", "99999999999999999999999", "abc"):
        response = post_form(client, f"/stats/tokens/{token_id}/revoke", {}, page="/stats/tokens")
        assert response.status_code == 404, token_id
        assert "Trang bạn tìm không có" in text_of(response.text)


def test_last_use_is_written_at_most_once_an_hour(client, make_client, db, settings):
    make_places(db)
    admin = make_user(db, settings, role="admin", audience=None)
    login(client, admin.phone)
    secret = _create(client, "Cổng dữ liệu")
    system, auth = make_client(), {"Authorization": f"Bearer {secret}"}

    def last_used():
        fresh(db)
        value = db.exec(select(ApiToken.last_used_at)).scalar()
        db.commit()
        return value

    assert last_used() is None
    assert system.get("/api/stats/places", headers=auth).status_code == 200
    first = last_used()
    assert first is not None
    assert system.get("/api/stats/places", headers=auth).status_code == 200
    assert last_used() == first  # within the hour: no write
    db.execute(update(ApiToken).values(last_used_at=first - timedelta(hours=2)))
    db.commit()
    assert system.get("/api/stats/places", headers=auth).status_code == 200
    assert last_used() >= first


def test_a_session_cookie_is_not_an_api_token(client, db, settings):
    admin = make_user(db, settings, role="admin", audience=None)
    login(client, admin.phone)
    assert client.get("/api/stats/summary").status_code == 401


def test_openapi_describes_the_api_with_its_bearer_scheme(client):
    document = client.get("/openapi.json").json()
    paths = document["paths"]
    assert {"/api/stats/summary", "/api/stats/breakdown/{dimension}", "/api/stats/places"} <= set(paths)
    assert not [p for p in paths if p.startswith("/stats")]  # the HTML pages are not an API
    scheme = document["components"]["securitySchemes"]["apiToken"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    summary = paths["/api/stats/summary"]["get"]
    assert summary["security"] == [{"apiToken": []}]
    assert {p["name"] for p in summary["parameters"]} == {"commune", "village", "audience", "course", "from", "to"}
    assert "SummaryOut" in document["components"]["schemas"]
    assert set(summary["responses"]) >= {"200", "401", "404", "422"}
