"""Every route declares an access policy; every protected page is checked for every role."""

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Mount, Route

from lms.security import ROLES, app_routes, route_policy
from tests.factories import login, make_places, make_user, post_form

# FastAPI's own OpenAPI document is the only non-APIRoute page, and it is public.
FRAMEWORK_ROUTES = {"/openapi.json"}


def test_every_route_declares_an_access_policy(app):
    missing = []
    checked = 0
    for route in app_routes(app):
        original = route.original_route
        if isinstance(original, Mount):
            continue
        if isinstance(original, APIRoute):
            checked += 1
            if route_policy(route) is None:
                missing.append(f"{sorted(route.methods)} {route.path}")
        elif isinstance(original, Route) and route.path not in FRAMEWORK_ROUTES:
            missing.append(route.path)
    assert not missing, f"routes without an access policy: {missing}"
    assert checked >= 15  # the walk really sees the plugins' routes


def _protected_get_routes(app):
    for route in app_routes(app):
        if isinstance(route.original_route, APIRoute) and "GET" in route.methods and "{" not in route.path:
            policy = route_policy(route)
            if policy and not policy.is_public:
                yield route.path, policy


def test_the_walk_finds_the_staff_pages(app):
    paths = {path for path, _ in _protected_get_routes(app)}
    assert {"/account", "/staff", "/staff/villages", "/staff/users", "/staff/places"} <= paths


@pytest.mark.parametrize("role", [None, *ROLES])
def test_each_protected_page_for_each_role(app, client, db, settings, role):
    places = make_places(db)
    if role:
        user = make_user(db, settings, role=role, commune=places.commune,
                         village=places.villages[0])
        login(client, user.phone)
    for path, policy in _protected_get_routes(app):
        response = client.get(path)
        if role is None:
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/login?next="), path
        elif role in policy.roles:
            assert response.status_code == 200, (path, role)
        else:
            assert response.status_code == 403, (path, role)
            assert "Không có quyền truy cập" in response.text


def test_another_communes_objects_are_not_found(client, db, settings):
    ours = make_places(db)
    theirs = make_places(db, commune_name="Xã Bên Cạnh", villages=("Thôn Xa",))
    staff = make_user(db, settings, role="staff", commune=ours.commune)
    their_learner = make_user(db, settings, village=theirs.villages[0], name="Người Xã Khác")
    login(client, staff.phone)
    assert client.get(f"/staff/users/{their_learner.id}").status_code == 404
    village_id = theirs.villages[0].id
    for path, data in [
        (f"/staff/villages/{village_id}", {"name": "Đổi tên trộm"}),
        (f"/staff/villages/{village_id}/active", {"active": "0"}),
        (f"/staff/users/{their_learner.id}/role", {"role": "team_member"}),
        (f"/staff/users/{their_learner.id}/sessions/end", {}),
    ]:
        assert post_form(client, path, data, page="/staff").status_code == 404, path
    # Asking for the other commune by URL shows one's own.
    page = client.get(f"/staff/users?commune={theirs.commune.id}").text
    assert "Người Xã Khác" not in page
    page = client.get(f"/staff/villages?commune={theirs.commune.id}").text
    assert "Thôn Xa" not in page and "Thôn Đông" in page


def test_anonymous_redirect_keeps_the_page_to_return_to(client):
    response = client.get("/staff/users?q=an")
    assert response.headers["location"] == "/login?next=/staff/users%3Fq%3Dan"
