"""A visitor's catalog, course and lesson pages are kept per worker until the catalog changes;
nothing of a signed-in person, and no page that carries a CSRF token, reaches another browser."""

import logging

import pytest
from fastapi import Request
from fastapi.responses import HTMLResponse

from lms import security as access
from lms import visitor_pages
from lms.visitor_pages import KeptPage, VisitorPages
from tests.courses.packtools import FILLER, sync_dirs, write_pack
from tests.factories import login, make_places, make_user, text_of

LESSON = "/courses/khoa-giu/bai-mot"


def body(greeting: str) -> str:
    return f"{greeting}\n\n{FILLER}## Nguồn tham khảo\n\n- Tài liệu thử.\n"


@pytest.fixture
def pack(db, tmp_path):
    write_pack(tmp_path, "khoa-giu", bodies={"bai-mot": body("Lời chào đầu tiên của xã.")})
    sync_dirs(db, [tmp_path])
    return tmp_path


def kept_hits(caplog) -> int:
    """Requests the request log (lms.logs) marks as served from a kept page."""
    lines = [record for record in caplog.records if record.name == "lms.request" and hasattr(record, "kept")]
    assert lines, "no request log line"
    return sum(record.kept is True for record in lines)


@pytest.fixture
def request_log(caplog):
    caplog.set_level(logging.INFO, logger="lms.request")
    return caplog


@pytest.mark.parametrize("path", ["/courses", "/courses/khoa-giu", LESSON, "/courses?audience=nguoi-dan"])
def test_the_second_visitor_gets_the_kept_page(client, make_client, pack, request_log, path):
    first = client.get(path)
    assert first.status_code == 200 and kept_hits(request_log) == 0
    second = make_client().get(path)
    assert kept_hits(request_log) == 1
    assert second.status_code == 200 and second.text == first.text
    assert second.headers["content-security-policy"] == first.headers["content-security-policy"]
    assert "set-cookie" not in second.headers


def test_a_changed_lesson_is_seen_by_the_next_visitor(client, db, pack, request_log):
    assert "Lời chào đầu tiên của xã." in text_of(client.get(LESSON).text)
    write_pack(pack, "khoa-giu", bodies={"bai-mot": body("Lời chào đã sửa lại.")})
    sync_dirs(db, [pack])  # another process (the CLI): only the database knows
    text = text_of(client.get(LESSON).text)
    assert "Lời chào đã sửa lại." in text and "Lời chào đầu tiên" not in text
    assert kept_hits(request_log) == 0


def test_a_signed_in_page_is_never_kept_nor_served_a_kept_one(client, make_client, db, settings, pack,
                                                             request_log):
    user = make_user(db, settings, village=make_places(db).villages[0], name="Trịnh Văn Khải")
    login(client, user.phone)
    signed_in = client.get(LESSON).text
    assert "Trịnh Văn Khải" in signed_in or "/logout" in signed_in
    visitor = make_client().get(LESSON).text
    assert "/logout" not in visitor and "Trịnh Văn Khải" not in visitor
    assert kept_hits(request_log) == 0  # the visitor's page was made, not taken from the member's
    again = client.get(LESSON).text
    assert "/logout" in again and kept_hits(request_log) == 0


def test_a_page_that_carries_a_csrf_token_is_not_kept(app, client, make_client, request_log):
    """Its token is bound to one browser's cookie; kept, it would hand that token to others."""
    def form_page(request: Request) -> HTMLResponse:
        visitor_pages.keep(request, lambda db: 1, 1)
        return HTMLResponse(f'<form method="post"><input name="csrf_token" value="{request.state.csrf_token}">'
                            "</form>")

    def plain_page(request: Request) -> HTMLResponse:
        visitor_pages.keep(request, lambda db: 1, 1)
        return HTMLResponse("<p>Không có biểu mẫu.</p>")

    app.router.add_api_route("/thu-bieu-mau", form_page, dependencies=[access.PUBLIC_ROUTE])
    app.router.add_api_route("/thu-trang", plain_page, dependencies=[access.PUBLIC_ROUTE])
    other = make_client()
    for browser in (client, other):
        browser.get("/signup")  # each browser has its CSRF cookie, so the page sets none
    first = client.get("/thu-bieu-mau")
    second = other.get("/thu-bieu-mau")
    assert "set-cookie" not in first.headers and "set-cookie" not in second.headers
    assert kept_hits(request_log) == 0
    assert second.text != first.text  # each browser its own token
    client.get("/thu-trang")
    other.get("/thu-trang")
    assert kept_hits(request_log) == 1  # the same route without a token is kept


def test_a_visitor_with_a_csrf_cookie_is_not_given_another_browsers_token(client, make_client, app, pack):
    """The catalog's htmx only reads, so it renders no token: kept pages carry none."""
    client.get("/signup")  # this browser now has a CSRF cookie
    page = client.get("/courses").text
    assert "X-CSRF-Token" not in page and 'name="csrf_token"' not in page
    assert "X-CSRF-Token" not in make_client().get("/courses").text


def test_htmx_and_head_requests(client, make_client, pack, request_log):
    full = client.get("/courses?domain=an-toan").text
    fragment = make_client().get("/courses?domain=an-toan", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="results">') and fragment.text != full
    assert kept_hits(request_log) == 0
    head = make_client().head("/courses?domain=an-toan")
    assert kept_hits(request_log) == 1
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(full.encode())


def test_a_missing_page_is_not_kept(client, make_client, pack, request_log):
    for browser in (client, make_client()):
        assert browser.get("/courses/khoa-giu/khong-co").status_code == 404
    assert kept_hits(request_log) == 0


def page(body: bytes = b"x") -> KeptPage:
    return KeptPage(lambda db: 1, 1, "/p", (), body)


def test_the_store_is_bounded_and_drops_the_least_recently_used(monkeypatch):
    monkeypatch.setattr(visitor_pages, "MAX_PAGES", 3)
    store = VisitorPages()
    for n in range(3):
        store.put((f"/p{n}", b""), page())
    assert store.get(("/p0", b"")) is not None  # /p0 used: /p1 is now the oldest
    store.put(("/p3", b""), page())
    assert len(store) == 3
    assert store.get(("/p1", b"")) is None
    assert store.get(("/p0", b"")) is not None and store.get(("/p3", b"")) is not None


def test_a_page_too_large_is_not_kept():
    store = VisitorPages()
    store.put(("/big", b""), page(b"x" * (visitor_pages.MAX_BYTES + 1)))
    assert store.get(("/big", b"")) is None


def test_the_store_is_bounded_in_bytes_and_counts_a_replaced_page_once(monkeypatch):
    monkeypatch.setattr(visitor_pages, "MAX_TOTAL_BYTES", 2500)
    store = VisitorPages()
    store.put(("/a", b""), page(b"a" * 1000))
    store.put(("/a", b""), page(b"a" * 1000))  # the same page again
    store.put(("/b", b""), page(b"b" * 1000))
    assert len(store) == 2 and store.bytes == 2004  # keys count too
    store.put(("/c", b"x=1"), page(b"c" * 1000))  # over the bound: /a, the oldest, goes
    assert store.get(("/a", b"")) is None and store.bytes == 2007
    store.drop(("/b", b""))
    assert store.bytes == 1005
    store.put(("/d", b"q=" + b"x" * 3000), page(b""))  # a made-up query string alone is over the bound
    assert store.get(("/d", b"q=" + b"x" * 3000)) is None and len(store) == 1


def test_a_kept_page_whose_check_fails_is_made_again(app, client, make_client, pack, request_log):
    from sqlalchemy.exc import OperationalError

    assert client.get(LESSON).status_code == 200
    guard = app.middleware_stack
    while not hasattr(guard, "visitor_pages"):
        guard = guard.app
    (key, kept), = list(guard.visitor_pages._pages.items())

    def broken(db):
        raise OperationalError("SELECT", {}, Exception("database is gone"))

    guard.visitor_pages.put(key, KeptPage(broken, kept.version, kept.route_path, kept.headers, kept.body))
    again = make_client().get(LESSON)
    assert again.status_code == 200 and "Lời chào đầu tiên của xã." in text_of(again.text)
    assert kept_hits(request_log) == 0
    assert any("kept page not checked" in r.getMessage() for r in request_log.records)
