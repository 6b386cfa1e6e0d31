from sqlalchemy import func, select

from lms.core.models import Place, User
from tests.factories import PASSWORD, csrf, fresh, login, make_places, make_user, post_form, text_of


def _signup_data(village_id):
    return {"full_name": "Phạm Thị Dung", "phone": "0933444555", "village_id": str(village_id),
            "audience": "nguoi-dan", "password": PASSWORD, "password_confirm": PASSWORD,
            "consent": "on"}


def test_post_without_token_is_refused_and_writes_nothing(client, db):
    places = make_places(db)
    client.get("/signup")
    response = client.post("/signup", data=_signup_data(places.villages[0].id))
    assert response.status_code == 403
    assert "Biểu mẫu đã hết hạn" in text_of(response.text)
    assert db.exec(select(func.count()).select_from(User)).one()[0] == 0


def test_token_from_another_browser_is_refused(client, db, make_client):
    places = make_places(db)
    foreign_token = csrf(make_client(), "/signup")
    client.get("/signup")
    data = {**_signup_data(places.villages[0].id), "csrf_token": foreign_token}
    assert client.post("/signup", data=data).status_code == 403


def test_htmx_requests_send_the_token_as_a_header(client, db, settings):
    places = make_places(db)
    staff = make_user(db, settings, role="staff", commune=places.commune)
    login(client, staff.phone)
    token = csrf(client, "/staff/villages")
    response = client.post("/staff/villages", data={"name": "Thôn Mới"},
                           headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert response.status_code == 303
    fresh(db)
    assert db.exec(select(Place).where(Place.name == "Thôn Mới")).scalars().one()


def test_logout_and_staff_actions_need_the_token_too(client, db, settings):
    places = make_places(db)
    learner = make_user(db, settings, village=places.villages[0])
    staff = make_user(db, settings, role="staff", commune=places.commune)
    login(client, staff.phone)
    assert client.post(f"/staff/users/{learner.id}/role", data={"role": "team_member"}
                       ).status_code == 403
    assert client.post("/logout").status_code == 403
    assert client.get("/staff").status_code == 200  # still signed in
    fresh(db)
    assert db.get(User, learner.id).role == "learner"
    assert post_form(client, "/logout", {}, page="/staff").status_code == 303


def test_every_post_form_on_every_page_carries_a_token(client, db, settings):
    places = make_places(db)
    learner = make_user(db, settings, village=places.villages[0])
    anonymous_pages = ["/signup", "/login"]
    forms_seen = 0
    for path in anonymous_pages:
        forms_seen += _check_forms(client.get(path).text, path)
    admin = make_user(db, settings, role="admin")
    login(client, admin.phone)
    for path in ["/", "/account", "/account/password", "/staff", "/staff/villages",
                 f"/staff/users/{learner.id}", "/staff/places"]:
        forms_seen += _check_forms(client.get(path).text, path)
    assert forms_seen >= 12


def _check_forms(page: str, path: str) -> int:
    import re

    forms = re.findall(r'<form[^>]*method="post".*?</form>', page, flags=re.S)
    for form in forms:
        assert re.search(r'name="csrf_token" value="[0-9a-f]{64}"', form), (path, form[:200])
    return len(forms)
