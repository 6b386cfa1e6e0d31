"""A visitor's kept page carries the installation's name: it is made again on every worker once
an administrator renames the installation in the first-run guide."""

from fastapi.testclient import TestClient

from lms.app import create_app
from lms.core import installation
from tests.courses.packtools import sync_dirs, write_pack
from tests.factories import login, make_user, post_form

LESSON = "/courses/khoa-ten/bai-mot"


def test_a_renamed_installation_reaches_kept_pages_of_another_worker(make_settings, engine, db, tmp_path,
                                                                      monkeypatch):
    monkeypatch.setattr(installation, "REFRESH_SECONDS", 0.0)
    write_pack(tmp_path, "khoa-ten")
    sync_dirs(db, [tmp_path])
    admin = make_user(db, make_settings(), role="admin")
    reader, editor = create_app(make_settings()), create_app(make_settings())
    try:
        _rename_while_a_visitor_reads(reader, editor, admin)
    finally:
        for app in (reader, editor):
            app.state.engine.dispose()


def _rename_while_a_visitor_reads(reader, editor, admin) -> None:
    with TestClient(reader) as visitor, TestClient(editor, follow_redirects=False) as office:
        for _ in range(2):
            assert '<a class="brand" href="/">Bình dân học vụ số</a>' in visitor.get(LESSON).text
        assert _kept(reader) == 1
        login(office, admin.phone)
        post_form(office, "/staff/bat-dau/ten", {"site_name": "Học số Nam Sách"}, page="/staff/bat-dau/ten")
        assert '<a class="brand" href="/">Học số Nam Sách</a>' in visitor.get(LESSON).text


def _kept(app) -> int:
    guard = app.middleware_stack
    while guard is not None and not hasattr(guard, "visitor_pages"):
        guard = getattr(guard, "app", None)
    return len(guard.visitor_pages)
