"""A commune's own FAQ entries, written in the browser by its editors: checked, found at once by
the assistant for the commune's people only, changed, retired."""

import re

import pytest
from sqlalchemy import func, select

from lms.plugins.hoi_dap import faq, services
from lms.plugins.hoi_dap.models import FaqEntry
from tests.factories import csrf, fresh, login, make_places, make_user, post_form, text_of
from tests.hoi_dap.test_hoi_dap import _pack

ENTRY = {"question": "Bộ phận một cửa xã Minh Châu ở đâu, mở cửa giờ nào?",
         "also_asked": "mot cua xa minh chau o dau\ngio lam viec ubnd xa",
         "answer": "Ở tầng 1 trụ sở UBND xã, mở cửa từ **7 giờ 30 đến 17 giờ**, thứ Hai đến thứ Sáu.",
         "source_title": "Thông báo của UBND xã Minh Châu", "source_url": ""}


@pytest.fixture
def editor(app, client, make_client, db, settings, tmp_path):
    entries, _ = faq.load_pack(_pack(tmp_path))
    services.sync_pack(app.state.context, entries)
    places = make_places(db)
    other = make_places(db, commune_name="Phường Hòa Bình", villages=("Tổ 1",))
    person = make_user(db, settings, role="staff", commune=places.commune, name="Cán Bộ Văn Hóa")
    admin = make_client()
    login(admin, make_user(db, settings, role="admin").phone)
    assert post_form(admin, f"/studio-editors/{person.id}", {"allowed": "1"}, page="/studio-editors").status_code == 303
    login(client, person.phone)
    return places, other


def _count(db) -> int:
    fresh(db)
    return db.execute(select(func.count()).select_from(FaqEntry).where(FaqEntry.origin == "editor")).scalar()


def test_an_editor_writes_an_entry_the_assistant_gives_to_the_communes_people(editor, client, db):
    places, other = editor
    token = csrf(client, "/hoi-dap-cua-xa")
    bad = client.post("/hoi-dap-cua-xa", data={**ENTRY, "csrf_token": token, "answer": "Ngắn",
                                               "source_url": "http://x.vn"})
    assert bad.status_code == 422
    page = text_of(bad.text)
    assert "Câu trả lời cần từ 5 đến 220 từ" in page and "phải bắt đầu bằng https://" in page
    assert 'value="Bộ phận một cửa xã Minh Châu ở đâu, mở cửa giờ nào?"' in bad.text  # input kept
    assert _count(db) == 0

    saved = client.post("/hoi-dap-cua-xa", data={**ENTRY, "csrf_token": token}, follow_redirects=False)
    assert saved.status_code == 303
    fresh(db)
    entry = db.execute(select(FaqEntry).where(FaqEntry.origin == "editor")).scalars().one()
    assert entry.commune_id == places.commune.id and entry.also_asked == ["mot cua xa minh chau o dau",
                                                                          "gio lam viec ubnd xa"]
    question = "gio lam viec bo phan mot cua xa minh chau"
    assert services.ask(db, question, commune_id=places.commune.id).hits[0].url == f"/hoi-dap/{entry.slug}"
    elsewhere = services.ask(db, question, commune_id=other.commune.id)
    assert all(hit.url != f"/hoi-dap/{entry.slug}" for hit in elsewhere.hits)
    shown = text_of(client.get(f"/hoi-dap/{entry.slug}").text)
    assert "7 giờ 30 đến 17 giờ" in shown and "Thông báo của UBND xã Minh Châu" in shown

    changed = client.post(f"/hoi-dap-cua-xa/{entry.id}", data={
        **ENTRY, "csrf_token": token, "answer": ENTRY["answer"].replace("17 giờ", "16 giờ 30")})
    assert changed.status_code == 303
    assert "16 giờ 30" in text_of(client.get(f"/hoi-dap/{entry.slug}").text)
    assert client.post(f"/hoi-dap-cua-xa/{entry.id}/go", data={"csrf_token": token}).status_code == 303
    assert client.get(f"/hoi-dap/{entry.slug}").status_code == 404
    fresh(db)
    assert all(hit.url != f"/hoi-dap/{entry.slug}"
               for hit in services.ask(db, question, commune_id=places.commune.id).hits)


def test_who_may_write_a_communes_entries(editor, client, make_client, db, settings):
    places, other = editor
    token = csrf(client, "/hoi-dap-cua-xa")
    client.post("/hoi-dap-cua-xa", data={**ENTRY, "csrf_token": token})
    fresh(db)
    entry = db.execute(select(FaqEntry).where(FaqEntry.origin == "editor")).scalars().one()
    # Staff without the editor's permission are told who gives it; learners and teams are refused.
    plain = make_client()
    login(plain, make_user(db, settings, role="staff", commune=places.commune).phone)
    page = plain.get("/hoi-dap-cua-xa")
    assert page.status_code == 200 and "chưa được giao soạn nội dung" in text_of(page.text)
    assert plain.post("/hoi-dap-cua-xa", data={**ENTRY, "csrf_token": csrf(plain, "/")}).status_code == 403
    for role in ("learner", "team_member"):
        person = make_client()
        login(person, make_user(db, settings, role=role, commune=places.commune, village=places.villages[0]).phone)
        assert person.get("/hoi-dap-cua-xa").status_code == 403
    # Another commune's editor cannot touch it.
    admin = make_client()
    login(admin, make_user(db, settings, role="admin").phone)
    stranger = make_user(db, settings, role="staff", commune=other.commune)
    post_form(admin, f"/studio-editors/{stranger.id}", {"allowed": "1"}, page="/studio-editors")
    foreign = make_client()
    login(foreign, stranger.phone)
    assert foreign.get(f"/hoi-dap-cua-xa/{entry.id}").status_code == 404
    assert foreign.post(f"/hoi-dap-cua-xa/{entry.id}", data={**ENTRY, "csrf_token": csrf(foreign, "/"),
                                                             "question": "Bị sửa"}).status_code == 404
    assert foreign.post(f"/hoi-dap-cua-xa/{entry.id}/go", data={"csrf_token": csrf(foreign, "/")}).status_code == 404
    # Without a CSRF token nothing is written even by the editor.
    assert client.post("/hoi-dap-cua-xa", data=ENTRY).status_code == 403
    assert _count(db) == 1
    # An administrator writes for a commune they choose.
    missing = admin.post("/hoi-dap-cua-xa", data={**ENTRY, "csrf_token": csrf(admin, "/hoi-dap-cua-xa")})
    assert missing.status_code == 422 and "Hãy chọn xã, phường" in text_of(missing.text)
    assert admin.post("/hoi-dap-cua-xa", data={**ENTRY, "csrf_token": csrf(admin, "/hoi-dap-cua-xa"),
                                               "commune_id": str(other.commune.id)}).status_code == 303
    assert re.search("Hỏi đáp của Phường Hòa Bình", text_of(admin.get("/hoi-dap-cua-xa").text))
