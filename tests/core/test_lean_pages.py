"""What keeps ordinary pages cheap: no cookie and no script a page does not need, HEAD on every
GET page, pickers that list only what the page is about."""

import re

from fastapi.routing import APIRoute

from lms import offline
from lms.security import app_routes
from tests.factories import login, make_places, make_user, post_form, text_of

LESSON = "/courses/vneid-va-dich-vu-cong/kich-hoat-muc-2"


def _sync(db):
    from lms import paths
    from tests.courses.packtools import sync_dirs

    sync_dirs(db, [paths.courses_dir()])


def _scripts(page: str) -> list[str]:
    """The page's scripts but the one line that starts the service worker after load."""
    return [tag for tag in re.findall(r"<script[^>]*>.*?</script>", page, re.S)
            if tag != offline.register_tag()]


def test_a_page_without_a_form_sets_no_cookie_and_loads_no_script(client, db):
    from lms.plugins.courses.audio import browser_voice_tag

    _sync(db)
    # A lesson carries only its phone-voice button's few lines, inline: no file to fetch.
    for path, scripts in (("/", []), (LESSON, [str(browser_voice_tag())])):
        page = client.get(path)
        assert page.status_code == 200, path
        assert "set-cookie" not in page.headers, path
        assert _scripts(page.text) == scripts and "hx-headers" not in page.text, path
    # The course page loads only the script that saves it for reading offline.
    course = client.get("/courses/vneid-va-dich-vu-cong")
    assert "set-cookie" not in course.headers
    assert [re.sub(r"\.[0-9a-f]{10}\.js", ".js", tag) for tag in _scripts(course.text)] == [
        '<script src="/static/offline/offline.js" defer></script>']
    # A page with a form gets its CSRF cookie, and the form works with it.
    form = client.get("/login")
    assert "hv_csrf=" in form.headers["set-cookie"] and 'name="csrf_token"' in form.text


def test_pages_that_update_in_place_load_htmx(client, db, settings):
    _sync(db)
    catalog = client.get("/courses").text
    assert re.search(r'<script src="/static/vendor/htmx-[\w.-]+\.js"', catalog)
    # The catalog's htmx only reads: no CSRF header, so a visitor's copy can serve the next one.
    assert "hx-headers" not in catalog
    staff = make_user(db, settings, role="staff", commune=make_places(db).commune)
    login(client, staff.phone)
    users = client.get("/staff/users").text
    assert "htmx-" in users and "hx-headers" in users
    assert "htmx-" not in client.get("/account").text


def test_a_signed_in_lesson_marks_done_without_script(client, db, settings):
    _sync(db)
    learner = make_user(db, settings, village=make_places(db).villages[0])
    login(client, learner.phone)
    from lms.plugins.courses.audio import browser_voice_tag

    page = client.get(LESSON).text
    assert _scripts(page) == [str(browser_voice_tag())] and f'action="{LESSON}/done"' in page
    done = post_form(client, f"{LESSON}/done", {}, page=LESSON)
    assert done.status_code == 303
    assert "Bạn đã học xong bài này" in text_of(client.get(done.headers["location"]).text)


def test_every_get_page_answers_head_with_the_same_headers_and_no_body(app, client, db):
    _sync(db)
    for path in ("/", "/courses", LESSON, "/login", "/healthz", "/static/css/site.css"):
        if path.startswith("/static/"):
            path = app.state.static.url("css/site.css")
        get, head = client.get(path), client.head(path)
        assert head.status_code == get.status_code == 200, path
        assert head.content == b"", path
        assert head.headers["content-type"] == get.headers["content-type"], path
    assert client.head("/account").status_code == 303  # the access policy applies as to GET
    # Every page that takes GET takes HEAD, with the same answer (here: for a visitor).
    paths = [r.path for r in app_routes(app) if isinstance(r.original_route, APIRoute) and "GET" in r.methods
             and "{" not in r.path]
    assert len(paths) > 30
    for path in paths:
        assert client.head(path).status_code == client.get(path).status_code, path


def test_the_event_form_lists_only_the_villages_of_its_commune(client, db, settings, make_client):
    from tests.events.eventtools import staff_with_event

    places, _, event = staff_with_event(client, db, settings)
    make_places(db, commune_name="Phường Bên Cạnh", villages=("Tổ Xa Lạ",))
    page = make_client().get(f"/e/{event.code}").text
    assert "Thôn Đông" in page and "Thôn Đoài" in page and "Tổ Xa Lạ" not in page
