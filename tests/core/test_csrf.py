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


def test_public_forms_posted_without_a_token_come_back_with_the_input(client, db, settings):
    from lms.core import services

    places = make_places(db)
    cases = {
        "/signup": (_signup_data(places.villages[0].id), ["Phạm Thị Dung", "0933444555"]),
        "/login": ({"phone": "0933 444 555", "password": PASSWORD}, ["0933 444 555"]),
    }
    with db.begin():
        setup_token = services.create_setup_token(db)
    cases[f"/setup/{setup_token}"] = ({"full_name": "Quản Trị Đầu Tiên", "phone": "0988777666",
                                       "password": PASSWORD, "password_confirm": PASSWORD},
                                      ["Quản Trị Đầu Tiên", "0988777666"])
    for path, (data, kept) in cases.items():
        for token in (None, "0" * 64):  # missing, or expired/forged
            sent = dict(data) if token is None else {**data, "csrf_token": token}
            response = client.post(path, data=sent)
            assert response.status_code == 403, path
            assert "Biểu mẫu đã hết hạn nên chưa được gửi" in text_of(response.text), path
            for value in kept:
                assert f'value="{value}"' in response.text, (path, value)
            assert PASSWORD not in response.text, path
            # The page carries a fresh token: sending it again works.
            assert 'name="csrf_token"' in response.text
    fresh(db)
    assert db.exec(select(func.count()).select_from(User)).one()[0] == 0


def test_only_the_public_forms_keep_input_on_an_expired_token(app):
    from fastapi.routing import APIRoute

    from lms.security import PUBLIC_FORM, app_routes, route_policy

    public_forms = {route.path for route in app_routes(app) if isinstance(route.original_route, APIRoute)
                    and getattr(route_policy(route), "name", None) == PUBLIC_FORM.name}
    # Each of these is tested to write nothing and show the form again (tests/events for /e/).
    assert {"/signup", "/login", "/setup/{token}", "/e/{code}", "/password/{token}"} <= public_forms
