"""Fixtures shared by the course tests."""

import pytest

from tests.factories import login, make_places, make_user, post_form


@pytest.fixture
def commune_editor(client, make_client, db, settings):
    places = make_places(db)
    other = make_places(db, commune_name="Phường Hòa Bình", villages=("Tổ 1",))
    editor = make_user(db, settings, role="staff", commune=places.commune, name="Cán Bộ Văn Hóa")
    admin = make_user(db, settings, role="admin", name="Quản Trị")
    admin_client = make_client()
    login(admin_client, admin.phone)
    assert post_form(admin_client, f"/studio-editors/{editor.id}", {"allowed": "1"},
                     page="/studio-editors").status_code == 303
    login(client, editor.phone)
    return places, other, editor, admin_client
