"""The service worker, the manifest and the offline mark on pages (browser walks are in
tests/courses/test_offline_browser.py)."""

import base64
import hashlib
import json
import re

from lms import offline, paths
from tests.courses.packtools import sync_dirs
from tests.factories import login, make_places, make_user

LESSON = "/courses/vneid-va-dich-vu-cong/vneid-la-gi"


def test_pages_without_personal_data_are_marked_for_keeping(client, db, settings):
    sync_dirs(db, [paths.courses_dir()])
    for path in ("/", "/courses", "/courses/vneid-va-dich-vu-cong", LESSON, "/offline"):
        assert client.get(path).headers.get("x-offline-copy") == "this", path
    # Not a page, not found, not a read: never kept.
    assert "x-offline-copy" not in client.get("/courses/khong-co-khoa-nay").headers
    assert "x-offline-copy" not in client.get("/login").headers
    learner = make_user(db, settings, village=make_places(db).villages[0])
    login(client, learner.phone)
    # Signed in, the page may name the person: the worker fetches a visitor's copy instead.
    assert client.get(LESSON).headers["x-offline-copy"] == "public"
    for path in ("/account", "/my/courses", "/account/data"):
        assert "x-offline-copy" not in client.get(path).headers, path


def test_the_service_worker_names_only_files_the_site_serves(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    assert response.headers["cache-control"] == "no-cache"
    script = response.text
    imported = re.search(r"importScripts\(([^)]*)\)", script).group(1)
    urls = re.findall(r'"(/static/[^"]+)"', imported)
    assert len(urls) == 6 and all("workbox-" in url for url in urls)
    precached = json.loads(re.search(r"files\.addAll\((\[[^\]]*\])\)", script).group(1))
    for url in urls + precached:
        file = client.get(url)
        assert file.status_code == 200 and file.headers["cache-control"].endswith("immutable"), url
    assert any(url.endswith(".css") for url in precached)
    # Its scope is the whole site: it is served from the root.
    assert client.get("/sw.js").request.url.path == "/sw.js"


def test_the_manifest_installs_the_site_as_an_app(client):
    response = client.get("/manifest.webmanifest")
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = response.json()
    assert manifest["lang"] == "vi" and manifest["start_url"] == "/" and manifest["scope"] == "/"
    assert manifest["display"] == "standalone" and manifest["name"]
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200


def test_every_page_starts_the_worker_with_a_script_the_policy_allows(client, db):
    sync_dirs(db, [paths.courses_dir()])
    for path in ("/", LESSON, "/login"):
        page = client.get(path)
        scripts = re.findall(r"<script>(.*?)</script>", page.text, re.S)
        assert [s for s in scripts if 'register("/sw.js")' in s] == [offline.REGISTER_SCRIPT], path
        # Every inline script on the page (a lesson also has its phone-voice button) is allowed
        # by its own hash, and the policy allows no other inline script.
        script_src = next(part for part in page.headers["content-security-policy"].split(";")
                          if part.strip().startswith("script-src")).split()
        assert "'unsafe-inline'" not in script_src
        for script in scripts:
            digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in script_src, (path, script[:60])
        assert '<link rel="manifest" href="/manifest.webmanifest">' in page.text


def test_a_course_lists_its_pages_and_images_for_saving(client, db):
    sync_dirs(db, [paths.courses_dir()])
    saved = client.get("/course-offline/vneid-va-dich-vu-cong.json").json()
    assert saved["title"] == "VNeID và dịch vụ công trực tuyến" and saved["lessons"] == 5
    assert saved["pages"][0] == "/courses/vneid-va-dich-vu-cong" and LESSON in saved["pages"]
    assert len(saved["pages"]) == 6 and saved["images"]
    for url in saved["pages"] + saved["images"]:
        response = client.get(url)
        assert response.status_code == 200, url
    for url in saved["pages"]:
        assert client.get(url).headers["x-offline-copy"] == "this"
    assert client.get("/course-offline/khong-co.json").status_code == 404


def test_the_version_of_a_saved_course_changes_when_its_content_does(client, db, tmp_path):
    from tests.courses.packtools import write_pack

    write_pack(tmp_path / "packs", "khoa-thu", lessons=["mot", "hai"], title="Khoá thử")
    sync_dirs(db, [tmp_path / "packs"])
    before = client.get("/course-offline/khoa-thu.json").json()
    write_pack(tmp_path / "packs", "khoa-thu", lessons=["mot", "hai", "ba"], title="Khoá thử")
    sync_dirs(db, [tmp_path / "packs"])
    after = client.get("/course-offline/khoa-thu.json").json()
    assert after["version"] != before["version"] and after["lessons"] == 3
    assert client.get("/course-offline/khoa-thu.json").json()["version"] == after["version"]
