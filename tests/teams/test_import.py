"""Bulk import: a preview of every row, nothing written until confirmed, then all in one go."""

import io

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from lms.core.models import Consent, User
from lms.plugins.teams.models import AssistedResident
from tests.factories import csrf, fresh, login, make_user, post_form, text_of
from tests.teams.teamtools import team_setup

HEADER = ["Họ và tên", "Số điện thoại", "Thôn/tổ dân phố", "Nhóm", "Năm sinh"]


def _xlsx(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(browser, team, name, data, content_type):
    page = f"/teams/{team.id}/import"
    return browser.post(page, data={"csrf_token": csrf(browser, page)}, files={"file": (name, data, content_type)})


def _people(db):
    fresh(db)
    count = db.exec(select(func.count()).select_from(User).where(User.role == "learner")).one()[0]
    db.commit()
    return count


def test_templates_have_vietnamese_headers(client, db, settings, make_client):
    setup = team_setup(client, db, settings, make_client)
    csv_template = client.get(f"/teams/{setup.team.id}/import/template.csv").content
    assert csv_template.startswith(b"\xef\xbb\xbf") and "Họ và tên,Số điện thoại".encode() in csv_template
    book = load_workbook(io.BytesIO(client.get(f"/teams/{setup.team.id}/import/template.xlsx").content))
    assert [c.value for c in book.active[1]] == HEADER


def test_preview_then_confirm_a_mixed_file(client, db, settings, make_client):
    setup = team_setup(client, db, settings, make_client)
    make_user(db, settings, village=setup.places.villages[0], name="Đã Có Sẵn", phone="0977000001")
    before = _people(db)
    browser = make_client()
    login(browser, setup.member.phone)
    rows = [
        ["Lò Văn Một", "0977 000 002", "Thôn Đông", "Người dân", 1955],
        ["Lò Thị Hai", "", "thôn đoài", "nguoi dan", ""],
        ["Trùng Số", "0977000001", "Thôn Đông", "Người dân", ""],           # existing account
        ["Lò Văn Ba", "0977000002", "Thôn Đông", "", ""],                    # same phone as line 2
        ["", "0977000003", "Thôn Đông", "", ""],                             # missing name
        ["Sai Số", "12345", "Thôn Đông", "", ""],                            # bad phone
        ["Xa Lạ", "", "Thôn Bắc", "", ""],                                   # not the team's village
        ["Bốn Năm", "", "Thôn Đông", "Người ngoài hành tinh", ""],          # unknown audience
    ]
    preview = _upload(browser, setup.team, "danh-sach.xlsx", _xlsx(rows),
                      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert preview.status_code == 303
    page = text_of(browser.get(preview.headers["location"]).text)
    assert "2 sẽ được tạo · 2 trùng người đã có · 4 lỗi" in page
    assert "Trùng: Trùng với người đã có: Đã Có Sẵn" in page
    assert "Trùng số điện thoại với dòng 2" in page
    assert "Họ tên: Vui lòng nhập họ và tên." in page
    assert "Số điện thoại: Số điện thoại di động phải có 10 chữ số" in page
    assert "Thôn/tổ “Thôn Bắc” không do tổ phụ trách." in page
    assert "Nhóm “Người ngoài hành tinh” không hợp lệ." in page
    assert _people(db) == before  # nothing written by the preview

    url = preview.headers["location"]
    refused = post_form(browser, url, {}, page=url)
    assert refused.status_code == 422 and "Cần xác nhận từng người" in text_of(refused.text)
    assert _people(db) == before
    done = post_form(browser, url, {"consent": "on"}, page=url)
    assert "Đã ghi danh 2 người" in text_of(browser.get(done.headers["location"]).text)
    assert _people(db) == before + 2
    fresh(db)
    created = db.exec(select(User).where(User.full_name.in_(["Lò Văn Một", "Lò Thị Hai"]))).scalars().all()
    assert {u.village_id for u in created} == {setup.places.villages[0].id, setup.places.villages[1].id}
    consents = db.exec(select(Consent).where(Consent.user_id.in_([u.id for u in created]))).scalars().all()
    assert {(c.method, c.helper_id) for c in consents} == {("helper", setup.member.id)}
    assert db.exec(select(func.count()).select_from(AssistedResident)).one()[0] == 2
    db.commit()
    again = post_form(browser, url, {"consent": "on"}, page=url)
    assert again.status_code == 422 and "đã được nhập trước đó" in text_of(again.text)
    assert _people(db) == before + 2


def test_a_failure_while_confirming_writes_nothing(client, db, settings, make_client, monkeypatch):
    setup = team_setup(client, db, settings, make_client)
    browser = make_client()
    login(browser, setup.member.phone)
    csv_data = "\ufeffHọ và tên,Số điện thoại,Thôn/tổ dân phố,Nhóm,Năm sinh\n" + "".join(
        f"Người Số {chr(65 + i)},,Thôn Đông,,\n" for i in range(5))
    preview = _upload(browser, setup.team, "ds.csv", csv_data.encode("utf-8"), "text/csv")
    before = _people(db)
    from lms.plugins.teams import services

    calls = {"n": 0}
    real = services.enrol_resident

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("mất điện giữa chừng")
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "enrol_resident", flaky)
    from fastapi.testclient import TestClient

    with TestClient(client.app, raise_server_exceptions=False) as crashing:
        crashing.cookies = browser.cookies
        url = preview.headers["location"]
        response = crashing.post(url, data={"consent": "on", "csrf_token": csrf(crashing, url)})
    assert response.status_code == 500
    assert _people(db) == before  # the three written before the failure were rolled back


def test_bad_files_get_clear_messages(client, db, settings, make_client):
    setup = team_setup(client, db, settings, make_client)
    browser = make_client()
    login(browser, setup.member.phone)
    wrong_header = _upload(browser, setup.team, "ds.csv", "Tên,Điện thoại\nA,B\n".encode(), "text/csv")
    assert wrong_header.status_code == 422 and "Dòng đầu phải là" in text_of(wrong_header.text)
    legacy = "Tên người dùng: Đỗ\n".encode("cp1258", "replace") + b"\xd2"  # an old Windows encoding
    latin = _upload(browser, setup.team, "ds.csv", legacy, "text/csv")
    assert "UTF-8" in text_of(latin.text)
    broken = _upload(browser, setup.team, "ds.xlsx", b"not a workbook", "application/octet-stream")
    assert "Không đọc được tệp Excel" in text_of(broken.text)
    nothing = post_form(browser, f"/teams/{setup.team.id}/import", {}, page=f"/teams/{setup.team.id}/import")
    assert nothing.status_code == 422 and "Vui lòng chọn tệp" in text_of(nothing.text)


def test_uploaded_rows_are_not_kept(client, db, settings, make_client):
    from datetime import timedelta

    from lms.db import utcnow
    from lms.plugins.teams.models import ImportBatch

    setup = team_setup(client, db, settings, make_client)
    browser = make_client()
    login(browser, setup.member.phone)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    confirmed = _upload(browser, setup.team, "a.xlsx", _xlsx([["Lò Văn Giữ", "0977000011", "Thôn Đông", "", ""]]),
                        xlsx).headers["location"]
    post_form(browser, confirmed, {"consent": "on"}, page=confirmed)
    abandoned = _upload(browser, setup.team, "b.xlsx", _xlsx([["Lò Thị Bỏ", "0977000012", "Thôn Đông", "", ""]]),
                        xlsx).headers["location"]
    fresh(db)
    batches = {b.id: b for b in db.exec(select(ImportBatch)).scalars().all()}
    assert [len(b.rows) for b in batches.values()] == [0, 1]  # confirmed: its rows are gone
    # A week later the abandoned one goes with the next upload.
    old = batches[int(abandoned.rsplit("/", 1)[1])]
    old.created_at = utcnow() - timedelta(days=settings.import_retention_days + 1)
    db.add(old)
    db.commit()
    _upload(browser, setup.team, "c.xlsx", _xlsx([["Lò Văn Mới", "0977000013", "Thôn Đông", "", ""]]), xlsx)
    fresh(db)
    texts = [str(b.rows) for b in db.exec(select(ImportBatch)).scalars().all()]
    db.commit()
    assert not any("0977000012" in text or "Lò Thị Bỏ" in text for text in texts)
    assert "Lò Văn Giữ" not in str(texts) and any("Lò Văn Mới" in text for text in texts)
    assert "các dòng tải lên (họ tên, số điện thoại) đã được xoá" in text_of(browser.get(confirmed).text)
